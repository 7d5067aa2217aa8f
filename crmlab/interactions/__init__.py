"""Customer interactions stage: contacts, channels, complaints, feedback sentiment, campaigns, profit.

Reading: :mod:`~crmlab.interactions.params` (the ``interactions:`` section, declared in
:mod:`crmlab.config.schema`), :mod:`~crmlab.interactions.read` (raw log -> clean log +
quarantine), :mod:`~crmlab.interactions.simulate` (the seeded demo log). Analyses:
``frequency``, ``channels``, ``complaints``, ``sentiment`` (the methods) and ``feedback``
(sentiment in the stage), ``campaign``, ``profitability``, ``tiers``, ``features`` (the
churn feed and ``interaction_metrics.json``); ``stage`` (the notebook's choices), ``plotting``,
``narrative``, ``views``. Nothing is imported here, so that the params check does not pull
in the analysis modules.
"""
