"""Customer interactions stage: channels, contacts, complaints, feedback sentiment.

Modules so far: :mod:`~crmlab.interactions.params` (the ``interactions:`` params section),
:mod:`~crmlab.interactions.read` (raw log -> clean log + quarantine) and
:mod:`~crmlab.interactions.simulate` (the seeded demo log). Nothing is imported here, so
that the params check does not pull in the analysis modules.
"""
