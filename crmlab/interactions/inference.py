"""Two-group comparisons with 95% intervals: proportions (Newcombe) and means (Welch).

Every interval here comes from statsmodels, not from hand-rolled formulas:

- a difference of proportions by Newcombe's hybrid score method (the difference of two
  Wilson intervals, Newcombe 1998, method 10), which keeps its coverage with small counts
  and rates near 0 or 1 where the Wald interval fails; the relative risk by the
  log-adjusted method (0.5 added to zero counts);
- a difference of means by Welch's t interval (unequal variances, Welch-Satterthwaite
  degrees of freedom), right for spend whose spread differs between groups.

Results are plain dicts so that they pass to JSON and to the narrative unchanged.

References
----------
Newcombe, R. G. (1998). Interval estimation for the difference between independent
proportions: comparison of eleven methods. Statistics in Medicine 17(8), 873-890.
Welch, B. L. (1947). The generalization of "Student's" problem when several different
population variances are involved. Biometrika 34(1/2), 28-35.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

__all__ = ["PROPORTION_METHOD", "MEAN_METHOD", "proportion_ci", "diff_proportions", "diff_means", "covers",
           "compare_groups"]

PROPORTION_METHOD = "Newcombe hybrid score (Wilson) interval; relative risk log-adjusted"
MEAN_METHOD = "Welch t interval (unequal variances)"
_NAN = float("nan")


def proportion_ci(x: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Return Wilson's interval for one proportion ``x / n`` (NaNs when ``n`` is 0)."""
    if int(n) == 0:
        return _NAN, _NAN
    low, high = proportion_confint(int(x), int(n), alpha=1 - level, method="wilson")
    return float(low), float(high)


def diff_proportions(x1: int, n1: int, x2: int, n2: int, level: float = 0.95) -> dict:
    """Compare two proportions ``x1/n1`` and ``x2/n2``: difference and ratio with intervals.

    Parameters
    ----------
    x1, n1 : int
        Events and trials of the first group (treatment, complainers ...).
    x2, n2 : int
        Events and trials of the second group (control, non-complainers ...).
    level : float
        Confidence level.

    Returns
    -------
    dict
        ``n1``, ``n2``, ``x1``, ``x2``, ``p1``, ``p2``, ``diff`` (p1 - p2), ``low``,
        ``high``, ``ratio`` (p1 / p2), ``ratio_low``, ``ratio_high``, ``level``,
        ``method``. Intervals are NaN when a group is empty.

    Raises
    ------
    ValueError
        Unless ``0 <= x <= n`` for both groups.
    """
    x1, n1, x2, n2 = int(x1), int(n1), int(x2), int(n2)
    if not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        raise ValueError(f"need 0 <= x <= n, got {x1}/{n1} and {x2}/{n2}")
    p1 = x1 / n1 if n1 else _NAN
    p2 = x2 / n2 if n2 else _NAN
    out = {"n1": n1, "x1": x1, "p1": p1, "n2": n2, "x2": x2, "p2": p2, "diff": p1 - p2,
           "low": _NAN, "high": _NAN, "ratio": p1 / p2 if p2 else _NAN,
           "ratio_low": _NAN, "ratio_high": _NAN, "level": level, "method": PROPORTION_METHOD}
    if n1 and n2:
        alpha = 1 - level
        low, high = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", alpha=alpha)
        out["low"], out["high"] = float(low), float(high)
        if x1 + x2 > 0:
            rl, rh = confint_proportions_2indep(x1, n1, x2, n2, compare="ratio", alpha=alpha)
            out["ratio_low"], out["ratio_high"] = float(rl), float(rh)
    return out


def diff_means(a, b, level: float = 0.95) -> dict:
    """Compare two means (``a`` minus ``b``) with Welch's t interval and test.

    Parameters
    ----------
    a, b : array-like of float
        The two samples (e.g. spend per treated and per control customer); NaNs dropped.
    level : float
        Confidence level.

    Returns
    -------
    dict
        ``n1``, ``n2``, ``mean1``, ``mean2``, ``diff``, ``low``, ``high``, ``p_value``,
        ``level``, ``method``. The interval is NaN with fewer than two values in a group
        or no spread in either.
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    m1 = float(x.mean()) if x.size else _NAN
    m2 = float(y.mean()) if y.size else _NAN
    out = {"n1": int(x.size), "mean1": m1, "n2": int(y.size), "mean2": m2, "diff": m1 - m2,
           "low": _NAN, "high": _NAN, "p_value": _NAN, "level": level, "method": MEAN_METHOD}
    if x.size >= 2 and y.size >= 2 and (x.var() > 0 or y.var() > 0):
        cm = CompareMeans(DescrStatsW(x), DescrStatsW(y))
        with warnings.catch_warnings():  # one group without spread: its share of the df is 0/0
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = cm.tconfint_diff(alpha=1 - level, usevar="unequal")
            _, p, _ = cm.ttest_ind(usevar="unequal")
        out["low"], out["high"], out["p_value"] = float(low), float(high), float(p)
    return out


def covers(result: dict, value: float = 0.0) -> bool | None:
    """Whether a result's interval ``[low, high]`` contains ``value``; None without an interval."""
    low, high = result.get("low", _NAN), result.get("high", _NAN)
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return None
    return bool(low <= value <= high)


def compare_groups(per, flag: str, outcome: str, groups: tuple[str, str], count: str, rate: str,
                   level: float = 0.95):
    """Rate of a yes/no ``outcome`` in the customers where ``flag`` is True against the others.

    Parameters
    ----------
    per : DataFrame
        One row per customer with the boolean columns ``flag`` and ``outcome``.
    flag, outcome : str
        The grouping column and the outcome column.
    groups : (str, str)
        Names of the flagged group and of the others (the table's ``group``).
    count, rate : str
        Table column names for the outcome count and its rate (``lapsed``/``lapse_rate``).
    level : float
        Confidence level.

    Returns
    -------
    (dict, DataFrame)
        :func:`diff_proportions` (flagged minus the others), and the table ``group``,
        ``customers``, ``count``, ``rate`` with each rate's Wilson interval ``low``, ``high``.
    """
    import pandas as pd

    a, b = per[per[flag]], per[~per[flag]]
    diff = diff_proportions(int(a[outcome].sum()), len(a), int(b[outcome].sum()), len(b), level)
    ci = [proportion_ci(diff["x1"], diff["n1"], level), proportion_ci(diff["x2"], diff["n2"], level)]
    table = pd.DataFrame({"group": list(groups), "customers": [len(a), len(b)],
                          count: [diff["x1"], diff["x2"]], rate: [diff["p1"], diff["p2"]],
                          "low": [ci[0][0], ci[1][0]], "high": [ci[0][1], ci[1][1]]})
    return diff, table
