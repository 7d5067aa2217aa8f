"""Which ranking the warning uses: the interaction signals re-rank it only on evidence.

The interaction signals ("rising complaints", "falling sentiment") *can* rank signalled
candidates ahead of the others (:func:`crmlab.churn.warning.transactional_warning` with
``ranking=WITH_INTERACTIONS``). Whether that is better is an empirical question, and the
warning backtest answers it (:func:`crmlab.churn.backtest.backtest_comparison`: both lists
raised at ``calibration_end`` with the same capacity, checked on the holdout). A tool must
not ship a ranking its own backtest shows to be worse, so the rule is:

    **Re-rank with the signals only when the backtest with signals has a higher precision
    than the purchase-only backtest at the same capacity *and* the 95% interval of the
    difference (Newcombe's hybrid score interval) lies above zero. Otherwise -- worse, no
    clear gain, or no backtest at all -- rank by purchases alone.**

Either way the signals stay on the warned customers as *reasons* (information for the
retention team): they just do not decide who is called.

Precision is the share of the flagged customers who bought nothing in the holdout, so the
difference compares two proportions, ``flagged_lapsed / flagged`` of each list. Newcombe's
interval treats the two lists as independent samples; they share most of their customers,
which makes the true interval of the difference narrower, so the rule is conservative --
as a gate should be: the signals need a clear gain to take over the ranking.

References
----------
Newcombe, R. G. (1998). Interval estimation for the difference between independent
proportions: comparison of eleven methods. Statistics in Medicine 17(8), 873-890.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["PURCHASES", "WITH_INTERACTIONS", "RANKINGS", "RANKING_RULE", "ranking_decision"]

PURCHASES = "purchases"
WITH_INTERACTIONS = "purchases+interactions"
RANKINGS = (PURCHASES, WITH_INTERACTIONS)

RANKING_RULE = ("the interaction signals re-rank the warning only when the backtest with signals "
                "has a higher precision than the purchase-only backtest at the same capacity and the "
                "95% Newcombe interval of the difference excludes zero; otherwise purchases alone rank "
                "it (the signals stay as reasons)")


def ranking_decision(comparison: Mapping[str, Any] | None, alpha: float = 0.05) -> dict[str, Any]:
    """Decide the warning's ranking from the backtest comparison (see the module docstring).

    Parameters
    ----------
    comparison : dict or None
        :func:`crmlab.churn.backtest.backtest_comparison`'s result: ``purchases_only`` and
        ``with_interactions``, each with ``flagged`` and ``flagged_lapsed``. None when there
        is no backtest with signals (no ``backtest_`` features or no ``calibration_end``).
    alpha : float
        1 - the interval's level (0.05: a 95% interval).

    Returns
    -------
    dict
        ``ranking`` (:data:`PURCHASES` or :data:`WITH_INTERACTIONS`), ``rule``, ``why``
        (``"no backtest"``, ``"nobody flagged"``, ``"signals help"``, ``"signals worse"``,
        ``"no clear gain"``), ``precision_purchases``, ``precision_interactions``,
        ``difference`` (with minus purchase-only), ``interval`` ([low, high]) and ``level``
        -- the numbers are None without a backtest. JSON-ready.

    Raises
    ------
    ValueError
        When ``alpha`` is not in (0, 1) or a backtest lacks ``flagged``/``flagged_lapsed``.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"ranking decision: alpha must be in (0, 1), got {alpha}")
    out: dict[str, Any] = {"ranking": PURCHASES, "rule": RANKING_RULE, "why": "no backtest",
                           "precision_purchases": None, "precision_interactions": None,
                           "difference": None, "interval": None, "level": 1 - alpha}
    if comparison is None:
        return out
    counts = []
    for key in ("purchases_only", "with_interactions"):
        part = comparison.get(key) or {}
        if "flagged" not in part or "flagged_lapsed" not in part:
            raise ValueError(f"ranking decision: '{key}' needs 'flagged' and 'flagged_lapsed'")
        counts.append((int(part["flagged_lapsed"]), int(part["flagged"])))
    (tp_a, n_a), (tp_b, n_b) = counts
    if n_a == 0 or n_b == 0:
        return {**out, "why": "nobody flagged"}
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(tp_b, n_b, tp_a, n_a, method="newcomb", compare="diff",
                                           alpha=alpha)
    pa, pb = tp_a / n_a, tp_b / n_b
    helps = pb > pa and low > 0
    why = "signals help" if helps else ("signals worse" if pb < pa else "no clear gain")
    return {**out, "ranking": WITH_INTERACTIONS if helps else PURCHASES, "why": why,
            "precision_purchases": pa, "precision_interactions": pb, "difference": pb - pa,
            "interval": [float(low), float(high)]}
