"""Customer segmentation: RFM scores and segments, clusters, value tiers, lifecycle stages.

Every function here is pure: DataFrames (and a params block) in, new DataFrames out. The
input is the customer table of :func:`crmlab.features.customer_summary` (one row per
customer at an "as of" date), so the same rules can be applied at two dates and compared
(:func:`dynamic_view`).

Conventions
-----------
- *Recency* in RFM is ``days_since_last`` (days from the last purchase day to the as-of
  date), not the Buy-Till-You-Die ``recency`` (first to last purchase). *Frequency* is
  ``frequency`` (repeat purchase days; ranking it is the same as ranking purchase days).
  *Monetary* (the M score) ranks ``total_spend`` (or the spend per purchase day,
  ``rfm_monetary: average``). Two other spends keep their own names: ``spend_per_line``
  (the clustering feature) and ``monetary_value`` (the BTYD mean repeat-day spend).
- Quintile scores never split ties: a customer's score is ``1 + floor(5 * b / n)`` where
  ``b`` is the number of customers with a strictly *worse* value, so equal customers get
  equal scores whatever the row order, and a quintile may be empty when more than a fifth
  of the customers share one value (CDNOW: 51 % bought once, all get ``f_score`` 1).

References
----------
Hughes, A. M. (1994). Strategic Database Marketing. Probus (RFM scoring).
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using iso-value curves
for customer base analysis. Journal of Marketing Research 42(4), 415-430.
Rousseeuw, P. J. (1987). Silhouettes. J. Comput. Appl. Math. 20, 53-65.
Calinski, T. & Harabasz, J. (1974). A dendrite method for cluster analysis. Comm. in
Statistics 3(1), 1-27.
Hubert, L. & Arabie, P. (1985). Comparing partitions. J. of Classification 2, 193-218.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns

__all__ = [
    "TIER_ORDER",
    "LIFECYCLE_ORDER",
    "SEGMENT_ORDER",
    "DEFAULT_SEGMENT_MAP",
    "CLUSTER_FEATURES",
    "NEW_CUSTOMER",
    "NOT_LISTED",
    "PRODUCT_COLUMNS",
    "observation_date",
    "quantile_scores",
    "rfm_scores",
    "score_distribution",
    "validate_segment_map",
    "segment_grid",
    "rfm_grid",
    "rfm_segments",
    "segment_actions",
    "value_tiers",
    "tier_strategies",
    "tier_table",
    "Concentration",
    "concentration",
    "lifecycle_stages",
    "lifecycle_table",
    "segment_customers",
    "segment_profiles",
    "cluster_pipeline",
    "k_search",
    "choose_k",
    "fit_clusters",
    "cluster_stability",
    "name_clusters",
    "cluster_profiles",
    "assign_clusters",
    "cluster_projection",
    "snapshot",
    "transition_matrix",
    "transition_summary",
    "describe_transitions",
    "moved_down",
    "DynamicView",
    "dynamic_view",
    "customer_table",
]

TIER_ORDER = ["high", "medium", "low"]
LIFECYCLE_ORDER = ["new", "active", "at risk", "lapsed"]
SEGMENT_ORDER = [
    "Champions",
    "Loyal",
    "Potential loyalist",
    "New",
    "Promising",
    "Need attention",
    "About to sleep",
    "At risk",
    "Cannot lose",
    "Hibernating",
    "Lost",
]

# Regular expressions over the two-character code "<r_score><fm_score>" (fm_score is the
# mean of f_score and m_score rounded half up); the first pattern that matches the whole
# code wins. As a grid (rows r_score 5..1, columns fm_score 1..5):
#
#   r=5  New             Potential loyalist  Potential loyalist  Champions    Champions
#   r=4  Promising       Potential loyalist  Potential loyalist  Loyal        Champions
#   r=3  About to sleep  About to sleep      Need attention      Loyal        Loyal
#   r=2  Hibernating     Hibernating         At risk             At risk      Cannot lose
#   r=1  Lost            Lost                At risk             Cannot lose  Cannot lose
#
# Adapted from the widely used 11-segment RFM map (Putler's table of R and FM ranges),
# made into a partition so that every score pair has exactly one segment.
DEFAULT_SEGMENT_MAP: dict[str, str] = {
    "5[45]|45": "Champions",
    "44|3[45]": "Loyal",
    "[45][23]": "Potential loyalist",
    "51": "New",
    "41": "Promising",
    "33": "Need attention",
    "3[12]": "About to sleep",
    "2[34]|13": "At risk",
    "25|1[45]": "Cannot lose",
    "2[12]": "Hibernating",
    "1[12]": "Lost",
}

# recency (days since last purchase day), frequency (purchase days), spend per order line:
# the three RFM dimensions as raw customer features for clustering. The spend is named
# `spend_per_line`, not "monetary": RFM's M ranks `total_spend`, and `monetary_value` is
# the BTYD mean spend of repeat purchase days (crmlab.segment_readings.SPEND_MEASURES).
CLUSTER_FEATURES = ["days_since_last", "purchase_days", "spend_per_line"]
NEW_CUSTOMER = "new (not yet customer)"
NOT_LISTED = "not listed"

PRODUCT_COLUMNS = [
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "r_score",
    "f_score",
    "m_score",
    "fm_score",
    "rfm_segment",
    "cluster",
    "cluster_name",
    "value_tier",
    "lifecycle_stage",
    "typical_gap",
]

_N_BINS = 5
_KMEANS_N_INIT = 4  # bootstrap ARI on CDNOW is 0.95-0.99 with 4 starts; more buys nothing
_NAME_Z = 0.5  # |centroid z-score| beyond this earns a word in a cluster's name



def _get(block: Mapping[str, Any], key: str, dotted: str) -> Any:
    try:
        return block[key]
    except (KeyError, TypeError):
        raise InputError(f"params: missing key '{dotted}'") from None


# --- the as-of date ------------------------------------------------------------------------


def observation_date(
    transactions: pd.DataFrame, periods: Mapping[str, Any] | None
) -> tuple[pd.Timestamp, str]:
    """Return the date the customer base is observed at, and where it came from.

    Parameters
    ----------
    transactions : DataFrame
        Column ``date`` (datetime64).
    periods : mapping or None
        The ``periods`` params block; its ``observation_end`` is used when set.

    Returns
    -------
    (Timestamp, str)
        The date and a sentence saying where it came from (shown in the notebook).

    Raises
    ------
    InputError
        When ``date`` is missing, or when no ``observation_end`` is set and there are no
        transactions to take the last date from.
    """
    require_columns(transactions, ["date"], "transactions")
    end = (periods or {}).get("observation_end")
    if end:
        return pd.Timestamp(end), f"periods.observation_end = {pd.Timestamp(end):%Y-%m-%d}"
    last = transactions["date"].max()
    if hasattr(last, "compute"):  # a Dask frame (engine: dask)
        last = last.compute()
    if pd.isna(last):
        raise InputError("transactions: no dated rows, and periods.observation_end is not set")
    last = pd.Timestamp(last).normalize()
    return last, (
        f"the last transaction date, {last:%Y-%m-%d} "
        "(periods.observation_end is not set in the params)"
    )


# --- RFM ------------------------------------------------------------------------------------


def quantile_scores(values: Sequence[float] | pd.Series, higher_is_better: bool = True,
                    n_bins: int = _N_BINS) -> np.ndarray:
    """Quantile scores 1..n_bins that never split ties.

    The score is ``1 + floor(n_bins * b / n)`` where ``b`` counts the values strictly worse
    than this one (smaller when ``higher_is_better``, else larger). Equal values get equal
    scores, the result does not depend on row order, and when many customers share a value
    the scores above it jump (a bin can be empty) instead of splitting equal customers.

    Parameters
    ----------
    values : array-like of float
        One value per customer; no missing values.
    higher_is_better : bool
        ``False`` for recency in days (fewer days since the last purchase is better).
    n_bins : int
        5 for quintiles.

    Returns
    -------
    numpy.ndarray of int64
        Scores in ``1..n_bins``; 5 is best.

    Raises
    ------
    InputError
        When a value is missing.
    """
    v = np.asarray(values, dtype=np.float64)
    if np.isnan(v).any():
        raise InputError(f"scores: {int(np.isnan(v).sum())} missing values cannot be scored")
    n = len(v)
    if n == 0:
        return np.array([], dtype=np.int64)
    s = np.sort(v)
    if higher_is_better:
        worse = np.searchsorted(s, v, side="left")
    else:
        worse = n - np.searchsorted(s, v, side="right")
    return (1 + (n_bins * worse) // n).astype(np.int64)


def rfm_scores(customers: pd.DataFrame, monetary: str = "total") -> pd.DataFrame:
    """Add RFM quintile scores ``r_score``, ``f_score``, ``m_score`` and ``fm_score``.

    Parameters
    ----------
    customers : DataFrame
        Columns ``days_since_last``, ``frequency``, ``total_spend`` (and ``purchase_days``
        for ``monetary="average"``).
    monetary : {"total", "average"}
        Score M on total spend, or on spend per purchase day.

    Returns
    -------
    DataFrame
        A copy with the four score columns (int64, 1..5, 5 best; see
        :func:`quantile_scores` for ties). ``fm_score`` is the mean of ``f_score`` and
        ``m_score`` rounded half up, the second axis of the segment map.

    Raises
    ------
    InputError
        On a missing column or an unknown ``monetary``.
    """
    require_columns(customers, ["days_since_last", "frequency", "total_spend"], "customers")
    if monetary not in ("total", "average"):
        raise InputError(f"segmentation.rfm_monetary: {monetary!r} is not 'total' or 'average'")
    df = customers.copy()
    if monetary == "average":
        require_columns(customers, ["purchase_days"], "customers")
        m = df["total_spend"] / df["purchase_days"]
    else:
        m = df["total_spend"]
    df["r_score"] = quantile_scores(df["days_since_last"], higher_is_better=False)
    df["f_score"] = quantile_scores(df["frequency"])
    df["m_score"] = quantile_scores(m)
    df["fm_score"] = (df["f_score"] + df["m_score"] + 1) // 2
    return df


def score_distribution(scored: pd.DataFrame) -> pd.DataFrame:
    """Count customers per score (rows 1..5) for ``r_score``, ``f_score`` and ``m_score``.

    An empty score row is not a bug: it is where ties were kept together.

    Raises
    ------
    InputError
        When a score column is missing.
    """
    cols = ["r_score", "f_score", "m_score"]
    require_columns(scored, cols, "customers")
    idx = pd.Index(range(1, _N_BINS + 1), name="score")
    out = pd.DataFrame(
        {c: scored[c].value_counts().reindex(idx, fill_value=0).astype(np.int64) for c in cols},
        index=idx,
    )
    return out


def _codes() -> list[str]:
    return [f"{r}{fm}" for r in range(_N_BINS, 0, -1) for fm in range(1, _N_BINS + 1)]


def validate_segment_map(segment_map: Mapping[str, str] | None = None) -> dict[str, str]:
    """Resolve a segment map to one segment name per score code.

    Parameters
    ----------
    segment_map : mapping of str to str, optional
        ``{pattern: segment name}``; each pattern is a regular expression matched against
        the whole two-character code ``"<r_score><fm_score>"`` (e.g. ``"5[45]"``; a plain
        ``"55"`` is a pattern too). The first matching pattern wins. ``None`` is
        :data:`DEFAULT_SEGMENT_MAP`.

    Returns
    -------
    dict
        All 25 codes ``"11"`` .. ``"55"`` mapped to a segment name.

    Raises
    ------
    InputError
        Naming ``segmentation.segment_map`` and the bad pattern, or a code no pattern covers.
    """
    smap = DEFAULT_SEGMENT_MAP if segment_map is None else segment_map
    if not isinstance(smap, Mapping) or not smap:
        raise InputError("segmentation.segment_map: expected a non-empty mapping pattern: name")
    compiled = []
    for pattern, name in smap.items():
        try:
            rx = re.compile(str(pattern))
        except re.error as exc:
            raise InputError(
                f"segmentation.segment_map: pattern {pattern!r} is not a regular expression ({exc})"
            ) from None
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"segmentation.segment_map: pattern {pattern!r} needs a segment name")
        compiled.append((rx, name.strip()))
    out = {}
    for code in _codes():
        name = next((nm for rx, nm in compiled if rx.fullmatch(code)), None)
        if name is None:
            raise InputError(
                f"segmentation.segment_map: score code {code!r} (r_score {code[0]}, fm_score "
                f"{code[1]}) matches no pattern; every code 11..55 needs a segment"
            )
        out[code] = name
    return out


def segment_grid(segment_map: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Lay out the segment map as a grid: rows ``r_score`` 5..1, columns ``fm_score`` 1..5.

    Raises
    ------
    InputError
        When the map is invalid (see :func:`validate_segment_map`).
    """
    codes = validate_segment_map(segment_map)
    rows = list(range(_N_BINS, 0, -1))
    cols = list(range(1, _N_BINS + 1))
    grid = pd.DataFrame(
        [[codes[f"{r}{fm}"] for fm in cols] for r in rows],
        index=pd.Index(rows, name="r_score"),
        columns=pd.Index(cols, name="fm_score"),
    )
    return grid


def rfm_grid(customers: pd.DataFrame) -> pd.DataFrame:
    """Count customers per (``r_score``, ``fm_score``) cell, laid out as :func:`segment_grid`.

    Raises
    ------
    InputError
        When ``r_score`` or ``fm_score`` is missing.
    """
    require_columns(customers, ["r_score", "fm_score"], "customers")
    rows = list(range(_N_BINS, 0, -1))
    cols = list(range(1, _N_BINS + 1))
    counts = pd.crosstab(customers["r_score"], customers["fm_score"])
    counts = counts.reindex(index=rows, columns=cols, fill_value=0).astype(np.int64)
    counts.index.name, counts.columns.name = "r_score", "fm_score"
    return counts


def rfm_segments(scored: pd.DataFrame, segment_map: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Name each customer's RFM segment from ``r_score`` and ``fm_score``.

    Parameters
    ----------
    scored : DataFrame
        Output of :func:`rfm_scores` (columns ``r_score``, ``fm_score``).
    segment_map : mapping, optional
        See :func:`validate_segment_map`; ``None`` uses :data:`DEFAULT_SEGMENT_MAP`.

    Returns
    -------
    DataFrame
        A copy with ``rfm_segment`` (str).

    Raises
    ------
    InputError
        On a missing column, a score outside 1..5, or an invalid map.
    """
    require_columns(scored, ["r_score", "fm_score"], "customers")
    codes = validate_segment_map(segment_map)
    df = scored.copy()
    for col in ("r_score", "fm_score"):
        bad = ~df[col].isin(range(1, _N_BINS + 1))
        if bad.any():
            raise InputError(f"customers: {int(bad.sum())} values of {col!r} are not 1..5")
    code = df["r_score"].astype(np.int64).astype(str) + df["fm_score"].astype(np.int64).astype(str)
    df["rfm_segment"] = code.map(codes).astype(str)
    return df


_SEGMENT_ACTIONS = {
    "Champions": ("bought recently, buy often and spend the most",
                  "Reward them: early access, recognition, ask for reviews and referrals; "
                  "no discounts needed."),
    "Loyal": ("buy regularly and spend well, not always the most recent",
              "Upsell higher-value products, invite them to the loyalty programme."),
    "Potential loyalist": ("recent customers with middling frequency and spend",
                           "Recommend related products and offer membership to build the habit."),
    "New": ("bought very recently, once or for little",
            "Onboarding: a welcome series that leads to the second purchase early."),
    "Promising": ("fairly recent, low frequency and spend",
                  "Raise awareness with targeted offers and free trials."),
    "Need attention": ("middling recency, frequency and spend",
                       "Limited-time offers based on their history before they slip."),
    "About to sleep": ("below-average recency, low frequency and spend",
                       "Reconnect with popular products and a modest incentive."),
    "At risk": ("used to buy often or spend well, but not for a while",
                "Personalised win-back messages; find out what changed."),
    "Cannot lose": ("were among the best customers, long silent",
                    "Win back by personal contact and a strong offer; do not lose them to a "
                    "competitor."),
    "Hibernating": ("last purchase long ago, low frequency and spend",
                    "Low-cost reactivation with relevant offers; do not overspend."),
    "Lost": ("lowest recency, frequency and spend",
             "Cheapest channel only, or let go; exclude from expensive campaigns."),
}


def segment_actions(segments: Iterable[str] | None = None) -> pd.DataFrame:
    """List the recommended action per RFM segment.

    Parameters
    ----------
    segments : iterable of str, optional
        Segment names to list, in this order; ``None`` lists :data:`SEGMENT_ORDER`. Names
        from a custom segment map without a known action get ``"(no action defined)"``.

    Returns
    -------
    DataFrame
        Columns ``rfm_segment``, ``who`` (what the scores say), ``action``.
    """
    names = list(SEGMENT_ORDER if segments is None else segments)
    unknown = ("(custom segment)", "(no action defined)")
    return pd.DataFrame(
        {
            "rfm_segment": names,
            "who": [_SEGMENT_ACTIONS.get(n, unknown)[0] for n in names],
            "action": [_SEGMENT_ACTIONS.get(n, unknown)[1] for n in names],
        }
    )


# --- value tiers and concentration -----------------------------------------------------------


def _tier_thresholds(tiers: Mapping[str, Any]) -> tuple[float, float]:
    high = float(_get(tiers, "high", "segmentation.tiers.high"))
    medium = float(_get(tiers, "medium", "segmentation.tiers.medium"))
    if not 0 < high < medium <= 1:
        raise InputError(
            f"segmentation.tiers: need 0 < high < medium <= 1, got high={high}, medium={medium}"
        )
    return high, medium


def value_tiers(customers: pd.DataFrame, tiers: Mapping[str, Any]) -> pd.DataFrame:
    """Assign value tiers by cumulative revenue share.

    Customers are ranked by ``total_spend``; a customer is ``high`` when the customers
    spending strictly more than them make less than ``tiers.high`` of revenue (so the
    customer who crosses the threshold is still high), ``medium`` below ``tiers.medium``,
    else ``low``. Customers with equal spend always share a tier.

    Parameters
    ----------
    customers : DataFrame
        Column ``total_spend``.
    tiers : mapping
        ``high`` and ``medium`` cumulative revenue shares (params ``segmentation.tiers``).

    Returns
    -------
    DataFrame
        A copy with ``value_tier`` in ``high``, ``medium``, ``low``.

    Raises
    ------
    InputError
        On a missing column, bad thresholds, or no positive revenue to share.
    """
    require_columns(customers, ["total_spend"], "customers")
    high, medium = _tier_thresholds(tiers)
    spend = customers["total_spend"].to_numpy(dtype=np.float64)
    total = spend.sum()
    if not total > 0:
        raise InputError("customers: 'total_spend' sums to no positive revenue; tiers need revenue")
    asc = np.sort(spend)
    upto = np.concatenate([[0.0], np.cumsum(asc)])
    above = total - upto[np.searchsorted(asc, spend, side="right")]
    share_above = above / total
    df = customers.copy()
    df["value_tier"] = np.where(
        share_above < high, "high", np.where(share_above < medium, "medium", "low")
    )
    df["value_tier"] = df["value_tier"].astype(str)
    return df


def tier_strategies(tiers: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """List the rule and the recommended strategy per value tier.

    Parameters
    ----------
    tiers : mapping, optional
        ``high`` and ``medium`` shares, to write the rule in numbers; default 0.5 and 0.8.

    Returns
    -------
    DataFrame
        Columns ``value_tier``, ``rule``, ``strategy``; rows high, medium, low.

    Raises
    ------
    InputError
        On bad thresholds.
    """
    high, medium = _tier_thresholds(tiers or {"high": 0.5, "medium": 0.8})
    return pd.DataFrame(
        {
            "value_tier": TIER_ORDER,
            "rule": [
                f"the top spenders who together make the first {high:.0%} of revenue",
                f"the next spenders, up to {medium:.0%} of revenue",
                f"everyone else: the long tail making the last {1 - medium:.0%}",
            ],
            "strategy": [
                "Protect: personal service, recognition and early access; watch every "
                "slowdown, a lost high-tier customer costs the most.",
                "Grow: cross-sell and upsell to move them up a tier; loyalty programme.",
                "Serve efficiently: automated low-cost channels; reactivate selectively "
                "where the RFM segment says it can pay.",
            ],
        }
    )


def tier_table(customers: pd.DataFrame, tiers: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Size, revenue and strategy of each value tier.

    Parameters
    ----------
    customers : DataFrame
        Columns ``value_tier`` and ``total_spend``.
    tiers : mapping, optional
        The thresholds, for the ``rule`` text (see :func:`tier_strategies`).

    Returns
    -------
    DataFrame
        Columns ``value_tier``, ``customers``, ``customer_share``, ``revenue``,
        ``revenue_share``, ``mean_spend``, ``rule``, ``strategy``; rows high, medium, low
        (a tier with no customer is listed with zeros).

    Raises
    ------
    InputError
        On a missing column.
    """
    require_columns(customers, ["value_tier", "total_spend"], "customers")
    g = customers.groupby("value_tier", sort=False)["total_spend"].agg(["size", "sum"])
    g = g.reindex(TIER_ORDER, fill_value=0)
    n, rev = len(customers), customers["total_spend"].sum()
    out = pd.DataFrame(
        {
            "value_tier": TIER_ORDER,
            "customers": g["size"].to_numpy(np.int64),
            "customer_share": g["size"].to_numpy(np.float64) / max(n, 1),
            "revenue": g["sum"].to_numpy(np.float64),
            "revenue_share": g["sum"].to_numpy(np.float64) / rev if rev else np.nan,
            "mean_spend": np.divide(
                g["sum"].to_numpy(np.float64), g["size"].to_numpy(np.float64),
                out=np.full(len(g), np.nan), where=g["size"].to_numpy() > 0,
            ),
        }
    )
    return out.merge(tier_strategies(tiers), on="value_tier", how="left")


@dataclass(frozen=True)
class Concentration:
    """How concentrated revenue is across customers.

    Attributes
    ----------
    lorenz : DataFrame
        ``customer_share`` and ``revenue_share``: the Lorenz curve from (0, 0) to (1, 1),
        customers sorted from the smallest to the largest spender.
    gini : float
        Gini coefficient, 0 (everyone spends the same) to almost 1 (one customer has it all).
    top : float
        The top share of customers asked about (e.g. 0.2).
    top_share : float
        Share of revenue made by that top share of customers (the "80/20" check).
    customers : int
        Number of customers.
    clipped : int
        Customers with negative spend (net refunds) counted as 0 for the curve.
    """

    lorenz: pd.DataFrame = field(repr=False)
    gini: float
    top: float
    top_share: float
    customers: int
    clipped: int

    def at(self, points: int = 21) -> pd.DataFrame:
        """Read the Lorenz curve at evenly spaced customer shares (0, 5 %, ..., 100 %).

        Parameters
        ----------
        points : int
            Number of evenly spaced points from 0 to 1 (at least 2).

        Returns
        -------
        DataFrame
            ``customer_share`` and ``revenue_share`` (linear between customers): "the
            smallest x % of customers make y % of revenue", a table people can read.

        Raises
        ------
        InputError
            When ``points`` is below 2.
        """
        if points < 2:
            raise InputError(f"concentration: need at least 2 points, got {points}")
        u = np.linspace(0.0, 1.0, points)
        y = np.interp(u, self.lorenz["customer_share"], self.lorenz["revenue_share"])
        return pd.DataFrame({"customer_share": u, "revenue_share": y})


def concentration(spend: Sequence[float] | pd.Series, top: float = 0.2) -> Concentration:
    """Lorenz curve, Gini coefficient and the revenue share of the top customers.

    Parameters
    ----------
    spend : array-like of float
        Revenue per customer (e.g. ``customers["total_spend"]``). Negative values (net
        refunds) are counted as zero and reported in ``clipped``.
    top : float
        Share of customers for :attr:`Concentration.top_share`, in (0, 1).

    Returns
    -------
    Concentration
        With ``gini = 1 - 2 * (area under the Lorenz curve)`` (trapezoids over the
        customers, the usual discrete Gini ``sum((2i - n - 1) x_(i)) / (n sum x)``) and the
        top share read off the Lorenz curve, interpolating linearly between customers.

    Raises
    ------
    InputError
        On missing values, no customers, no positive revenue, or ``top`` outside (0, 1).

    References
    ----------
    Lorenz, M. O. (1905). Methods of measuring the concentration of wealth. JASA 9(70).
    """
    x = np.asarray(spend, dtype=np.float64)
    if not 0 < top < 1:
        raise InputError(f"concentration: top share {top} must be between 0 and 1")
    if x.size == 0:
        raise InputError("concentration: no customers")
    if np.isnan(x).any():
        raise InputError(f"concentration: {int(np.isnan(x).sum())} missing spend values")
    clipped = int((x < 0).sum())
    x = np.sort(np.clip(x, 0, None))
    total = x.sum()
    if not total > 0:
        raise InputError("concentration: spend sums to no positive revenue")
    n = x.size
    cust = np.arange(n + 1) / n
    rev = np.concatenate([[0.0], np.cumsum(x) / total])
    rev[-1] = 1.0  # exact end point despite rounding in the cumulative sum
    i = np.arange(1, n + 1)
    gini = float(((2 * i - n - 1) * x).sum() / (n * total))
    top_share = float(1.0 - np.interp(1.0 - top, cust, rev))
    lorenz = pd.DataFrame({"customer_share": cust, "revenue_share": rev})
    return Concentration(lorenz, gini, float(top), top_share, n, clipped)


# --- lifecycle ----------------------------------------------------------------------------


def lifecycle_stages(customers: pd.DataFrame, lifecycle: Mapping[str, Any]) -> pd.DataFrame:
    """Lifecycle stage from recency relative to each customer's own rhythm.

    Rules, in order (params ``segmentation.lifecycle``):

    1. ``new``: first purchase day at most ``new_days`` days before the as-of date
       (``T <= new_days``);
    2. ``lapsed``: ``days_since_last > lapsed_factor * typical_gap``;
    3. ``at risk``: ``days_since_last > at_risk_factor * typical_gap``;
    4. ``active``: everyone else.

    ``typical_gap`` is the customer's mean gap between purchase days (``gap_mean``). A
    customer with a single purchase day has no gap of their own; they get the median of
    ``gap_mean`` over the repeat customers of the same table (the population's typical
    rhythm), or ``new_days`` when nobody has repeated yet.

    Parameters
    ----------
    customers : DataFrame
        Columns ``T``, ``days_since_last``, ``frequency``, ``gap_mean``.
    lifecycle : mapping
        ``new_days``, ``at_risk_factor``, ``lapsed_factor``.

    Returns
    -------
    DataFrame
        A copy with ``typical_gap`` (days) and ``lifecycle_stage`` (str).

    Raises
    ------
    InputError
        On a missing column or key, ``at_risk_factor >= lapsed_factor``, or a repeat
        customer without ``gap_mean``.
    """
    require_columns(customers, ["T", "days_since_last", "frequency", "gap_mean"], "customers")
    new_days = float(_get(lifecycle, "new_days", "segmentation.lifecycle.new_days"))
    at_risk = float(_get(lifecycle, "at_risk_factor", "segmentation.lifecycle.at_risk_factor"))
    lapsed = float(_get(lifecycle, "lapsed_factor", "segmentation.lifecycle.lapsed_factor"))
    if not at_risk < lapsed:
        raise InputError(
            "segmentation.lifecycle: at_risk_factor must be below lapsed_factor, "
            f"got {at_risk} and {lapsed}"
        )
    df = customers.copy()
    repeat = df["frequency"].to_numpy() > 0
    gap = df["gap_mean"].to_numpy(dtype=np.float64)
    if np.isnan(gap[repeat]).any():
        raise InputError(
            f"customers: {int(np.isnan(gap[repeat]).sum())} repeat customers have no 'gap_mean'"
        )
    fallback = float(np.median(gap[repeat])) if repeat.any() else new_days
    typical = np.where(repeat, gap, fallback)
    ratio = df["days_since_last"].to_numpy(dtype=np.float64) / typical
    stage = np.select(
        [df["T"].to_numpy(dtype=np.float64) <= new_days, ratio > lapsed, ratio > at_risk],
        ["new", "lapsed", "at risk"],
        default="active",
    )
    df["typical_gap"] = typical
    df["lifecycle_stage"] = pd.Series(stage, index=df.index, dtype=str)
    return df


def lifecycle_table(customers: pd.DataFrame) -> pd.DataFrame:
    """Count customers per lifecycle stage (rows) and value tier (columns), all listed.

    Raises
    ------
    InputError
        When ``lifecycle_stage`` or ``value_tier`` is missing.
    """
    require_columns(customers, ["lifecycle_stage", "value_tier"], "customers")
    t = pd.crosstab(customers["lifecycle_stage"], customers["value_tier"])
    t = t.reindex(index=LIFECYCLE_ORDER, columns=TIER_ORDER, fill_value=0).astype(np.int64)
    t.index.name, t.columns.name = "lifecycle_stage", "value_tier"
    return t


# --- everything but the clusters, at one date --------------------------------------------------


def segment_customers(summary: pd.DataFrame, segmentation: Mapping[str, Any]) -> pd.DataFrame:
    """RFM scores and segment, value tier and lifecycle stage for every customer.

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`crmlab.features.customer_summary`.
    segmentation : mapping
        The ``segmentation`` params block (``rfm_monetary``, ``segment_map``, ``tiers``,
        ``lifecycle``).

    Returns
    -------
    DataFrame
        A copy of ``summary`` with ``r_score``, ``f_score``, ``m_score``, ``fm_score``,
        ``rfm_segment``, ``value_tier``, ``typical_gap``, ``lifecycle_stage``.

    Raises
    ------
    InputError
        On a missing column or bad params.
    """
    require_columns(summary, ["customer_id"], "customers")
    df = rfm_scores(summary, segmentation.get("rfm_monetary", "total"))
    df = rfm_segments(df, segmentation.get("segment_map"))
    df = value_tiers(df, _get(segmentation, "tiers", "segmentation.tiers"))
    return lifecycle_stages(df, _get(segmentation, "lifecycle", "segmentation.lifecycle"))


def segment_profiles(customers: pd.DataFrame, by: str = "rfm_segment",
                     order: Sequence[str] | None = None) -> pd.DataFrame:
    """Size, revenue and typical behaviour of each group.

    Parameters
    ----------
    customers : DataFrame
        Columns ``by``, ``total_spend``, ``days_since_last``, ``purchase_days``,
        ``spend_per_line``.
    by : str
        The grouping column (``rfm_segment``, ``value_tier``, ``lifecycle_stage`` ...).
    order : sequence of str, optional
        Row order; groups not listed follow in name order. For ``rfm_segment`` the default
        is :data:`SEGMENT_ORDER`, and the recommended ``action`` is added.

    Returns
    -------
    DataFrame
        ``by``, ``customers``, ``customer_share``, ``revenue_share``,
        ``mean_days_since_last``, ``mean_purchase_days``, ``mean_spend_per_line``,
        ``mean_total_spend``, ``one_time_share`` (bought on one day only) and, when
        ``customers`` has ``lifecycle_stage``, ``current_share`` (new or active),
        ``at_risk_share`` and ``lapsed_share`` — what
        :func:`crmlab.segment_readings.segment_name_check` compares with the names — (and
        ``who``, ``action`` for RFM segments); only groups that have customers.

    Raises
    ------
    InputError
        On a missing column.
    """
    require_columns(customers, [by, "total_spend", *CLUSTER_FEATURES], "customers")
    if order is None:
        order = SEGMENT_ORDER if by == "rfm_segment" else []
    g = customers.groupby(by, sort=True).agg(
        customers=("total_spend", "size"),
        revenue=("total_spend", "sum"),
        mean_days_since_last=("days_since_last", "mean"),
        mean_purchase_days=("purchase_days", "mean"),
        mean_spend_per_line=("spend_per_line", "mean"),
        mean_total_spend=("total_spend", "mean"),
    )
    # what the names promise is checked against these (crmlab.segment_readings)
    flags = pd.DataFrame({by: customers[by],
                          "one_time_share": customers["purchase_days"] <= 1}, index=customers.index)
    if "lifecycle_stage" in customers.columns:
        stage = customers["lifecycle_stage"].astype(str)
        flags["current_share"] = stage.isin(["new", "active"])
        flags["at_risk_share"] = stage == "at risk"
        flags["lapsed_share"] = stage == "lapsed"
    g = g.join(flags.groupby(by, sort=True).mean().astype(np.float64))
    keys = [k for k in order if k in g.index] + [k for k in g.index if k not in order]
    g = g.loc[keys]
    g.insert(1, "customer_share", g["customers"] / len(customers))
    g.insert(2, "revenue_share", g["revenue"] / customers["total_spend"].sum())
    out = g.drop(columns="revenue").reset_index()
    out["customers"] = out["customers"].astype(np.int64)
    if by == "rfm_segment":
        out = out.merge(segment_actions(out["rfm_segment"]), on="rfm_segment", how="left")
    return out


# --- clustering ----------------------------------------------------------------------------


def _signed_log1p(x: np.ndarray) -> np.ndarray:
    # spend can be negative after refunds; a signed log keeps every customer
    return np.sign(x) * np.log1p(np.abs(x))


def _feature_matrix(customers: pd.DataFrame) -> np.ndarray:
    require_columns(customers, CLUSTER_FEATURES, "customers")
    X = customers[CLUSTER_FEATURES].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(X).all(axis=1)
    if bad.any():
        col = CLUSTER_FEATURES[int(np.argmax(~np.isfinite(X[bad][0])))]
        raise InputError(f"customers: {int(bad.sum())} rows have no finite {col!r}")
    return X


def _method(segmentation: Mapping[str, Any]) -> tuple[str, int]:
    method = segmentation.get("method", "kmeans")
    if method not in ("kmeans", "gmm"):
        raise InputError(f"segmentation.method: {method!r} is not 'kmeans' or 'gmm'")
    return method, int(_get(segmentation, "seed", "segmentation.seed"))


def _estimator(k: int, method: str, seed: int):
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

    if method == "gmm":
        return GaussianMixture(n_components=k, covariance_type="full", random_state=seed)
    return KMeans(n_clusters=k, n_init=_KMEANS_N_INIT, random_state=seed)


def _one_thread():
    # K-means and silhouette on tens of thousands of rows gain little from threads, and
    # OpenMP threads spinning on a busy 2-core machine made the k search 15x slower (20 s
    # instead of 1.3 s on CDNOW): run them on one thread; results are identical.
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _preprocess():
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    return Pipeline(
        [("log", FunctionTransformer(_signed_log1p)), ("scale", StandardScaler())]
    )


def cluster_pipeline(k: int, method: str = "kmeans", seed: int = 42):
    """Build the model: signed ``log1p`` -> standardise -> K-means (or a Gaussian mixture).

    Logs tame the long right tails of frequency and spend (otherwise a few big spenders
    make their own clusters); standardising gives the three features equal weight in the
    Euclidean distance K-means minimises. Both steps sit inside the pipeline, so a refit
    (bootstrap) refits them too.

    Parameters
    ----------
    k : int
        Number of clusters.
    method : {"kmeans", "gmm"}
        K-means (``n_init=4``) or a full-covariance Gaussian mixture.
    seed : int
        ``random_state`` of the estimator.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted; ``fit_predict`` on :data:`CLUSTER_FEATURES` columns.

    Raises
    ------
    InputError
        On an unknown method.
    """
    from sklearn.pipeline import Pipeline

    method, seed = _method({"method": method, "seed": seed})
    pre = _preprocess()
    return Pipeline([*pre.steps, ("model", _estimator(int(k), method, seed))])


def k_search(customers: pd.DataFrame, segmentation: Mapping[str, Any],
             sample_size: int = 5000) -> pd.DataFrame:
    """Fit every k in ``segmentation.k_range`` and score the partitions.

    Parameters
    ----------
    customers : DataFrame
        Columns :data:`CLUSTER_FEATURES`.
    segmentation : mapping
        ``k_range``, ``method``, ``seed``.
    sample_size : int
        Silhouette is O(n^2): it is computed on this many customers drawn with the seed
        (all of them when there are fewer).

    Returns
    -------
    DataFrame
        ``k``, ``silhouette`` (-1..1, higher is better), ``calinski_harabasz`` (higher is
        better), ``inertia`` (K-means) and ``bic`` (Gaussian mixture; NaN otherwise),
        ``smallest_share`` (share of customers in the smallest cluster).

    Raises
    ------
    InputError
        On a missing column, bad params, or fewer customers than ``k_min + 1``.
    """
    from sklearn.metrics import calinski_harabasz_score, silhouette_score

    X = _feature_matrix(customers)
    method, seed = _method(segmentation)
    k0, k1 = (int(v) for v in _get(segmentation, "k_range", "segmentation.k_range"))
    n = len(X)
    if n < k0 + 1:
        raise InputError(f"customers: {n} customers are too few for {k0} clusters")
    Z = _preprocess().fit_transform(X)
    rows = []
    for k in range(k0, min(k1, n - 1) + 1):
        model = _estimator(k, method, seed)
        with _one_thread():
            labels = model.fit_predict(Z)
        found = len(np.unique(labels))
        sil = ch = np.nan
        if 2 <= found <= n - 1:
            with _one_thread():
                sil = silhouette_score(
                    Z, labels, sample_size=sample_size if n > sample_size else None,
                    random_state=seed,
                )
            ch = calinski_harabasz_score(Z, labels)
        rows.append(
            {
                "k": k,
                "silhouette": float(sil),
                "calinski_harabasz": float(ch),
                "inertia": float(model.inertia_) if method == "kmeans" else np.nan,
                "bic": float(model.bic(Z)) if method == "gmm" else np.nan,
                "smallest_share": float(np.bincount(labels, minlength=k).min() / n),
            }
        )
    return pd.DataFrame(rows)


def choose_k(search: pd.DataFrame, k: int | None = None) -> int:
    """Pick the number of clusters: the best silhouette, Calinski-Harabasz breaking ties.

    Silhouette is the criterion because it reads on an absolute scale (is a customer
    closer to its own cluster than to the next one?); Calinski-Harabasz is shown beside it
    as a check and decides only between equal silhouettes.

    Parameters
    ----------
    search : DataFrame
        Output of :func:`k_search`.
    k : int, optional
        A fixed choice (params ``segmentation.k``) that overrides the search.

    Returns
    -------
    int

    Raises
    ------
    InputError
        When no k could be scored.
    """
    require_columns(search, ["k", "silhouette", "calinski_harabasz"], "k search")
    if k is not None:
        return int(k)
    ok = search.dropna(subset=["silhouette"])
    if ok.empty:
        raise InputError("segmentation.k_range: no number of clusters could be scored")
    best = ok.sort_values(["silhouette", "calinski_harabasz", "k"],
                          ascending=[False, False, True], kind="stable")
    return int(best["k"].iloc[0])


def _relabel_by_spend(labels: np.ndarray, spend: np.ndarray) -> np.ndarray:
    # cluster 0 = highest mean spend, so labels are stable and meaningful across runs
    ks = np.unique(labels)
    means = np.array([spend[labels == c].mean() for c in ks])
    order = ks[np.lexsort((ks, -means))]
    remap = {int(old): new for new, old in enumerate(order)}
    return np.array([remap[int(c)] for c in labels], dtype=np.int64)


def fit_clusters(customers: pd.DataFrame, k: int, segmentation: Mapping[str, Any]) -> pd.Series:
    """Cluster the customers into ``k`` groups with :func:`cluster_pipeline`.

    Parameters
    ----------
    customers : DataFrame
        Columns :data:`CLUSTER_FEATURES` and ``total_spend``.
    k : int
        Number of clusters.
    segmentation : mapping
        ``method`` and ``seed``.

    Returns
    -------
    Series
        ``cluster`` (int64, aligned with ``customers``), numbered 0.. by decreasing mean
        ``total_spend``.

    Raises
    ------
    InputError
        On a missing column, bad params or fewer customers than clusters.
    """
    X = _feature_matrix(customers)
    require_columns(customers, ["total_spend"], "customers")
    method, seed = _method(segmentation)
    if len(X) < k:
        raise InputError(f"customers: {len(X)} customers are too few for {k} clusters")
    with _one_thread():
        labels = cluster_pipeline(k, method, seed).fit_predict(X)
    labels = _relabel_by_spend(labels, customers["total_spend"].to_numpy(np.float64))
    return pd.Series(labels, index=customers.index, name="cluster")


def cluster_stability(customers: pd.DataFrame, labels: pd.Series, segmentation: Mapping[str, Any],
                      progress: bool = False) -> pd.DataFrame:
    """Bootstrap stability of a clustering: adjusted Rand index of refits on resamples.

    Each resample draws customers with replacement, refits the whole pipeline with a seed
    drawn from ``segmentation.seed``, assigns *every* customer with the refit model and
    compares that partition with ``labels`` (ARI 1 = identical up to renaming, 0 = chance).

    Parameters
    ----------
    customers : DataFrame
        Columns :data:`CLUSTER_FEATURES`.
    labels : Series
        The reference partition (from :func:`fit_clusters`).
    segmentation : mapping
        ``bootstrap`` (number of resamples), ``method``, ``seed``.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    DataFrame
        ``resample`` (1..B) and ``ari``; empty when ``bootstrap`` is 0.

    Raises
    ------
    InputError
        On a missing column, bad params, or labels of another length.

    References
    ----------
    Hennig, C. (2007). Cluster-wise assessment of cluster stability. CSDA 52, 258-271.
    """
    from sklearn.metrics import adjusted_rand_score
    from tqdm import tqdm

    X = _feature_matrix(customers)
    method, seed = _method(segmentation)
    n_boot = int(_get(segmentation, "bootstrap", "segmentation.bootstrap"))
    ref = np.asarray(labels)
    if len(ref) != len(X):
        raise InputError(f"labels: {len(ref)} labels for {len(X)} customers")
    k = len(np.unique(ref))
    rng = np.random.default_rng(seed)
    aris = []
    for _ in tqdm(range(n_boot), desc="bootstrap", disable=not progress):
        idx = rng.integers(0, len(X), len(X))
        with _one_thread():
            model = cluster_pipeline(k, method, int(rng.integers(2**31 - 1))).fit(X[idx])
            aris.append(adjusted_rand_score(ref, model.predict(X)))
    return pd.DataFrame(
        {"resample": np.arange(1, n_boot + 1, dtype=np.int64), "ari": np.asarray(aris, float)}
    )


def name_clusters(profiles: pd.DataFrame) -> pd.Series:
    """Plain-language cluster names from a profile (centroid z-scores of the log features).

    Rules: recency ``z_days_since_last`` below -0.5 is "recent", above +0.5 "lapsed";
    frequency is "one-time" when most members bought on a single day, else "frequent" when
    ``z_purchase_days`` > 0.5, else "occasional"; spend is "high", "low" or "mid spend per
    line" by ``z_spend_per_line`` beyond +-0.5 (per order line, not per customer: a
    one-time buyer of one expensive line is "high"). Duplicate names get the cluster number.

    Parameters
    ----------
    profiles : DataFrame
        Columns ``cluster``, ``one_time_share``, ``z_days_since_last``,
        ``z_purchase_days``, ``z_spend_per_line``.

    Returns
    -------
    Series
        ``cluster_name`` indexed like ``profiles``, e.g. "recent frequent buyers, high
        spend per line".

    Raises
    ------
    InputError
        On a missing column.
    """
    zcols = [f"z_{c}" for c in CLUSTER_FEATURES]
    require_columns(profiles, ["cluster", "one_time_share", *zcols], "cluster profiles")

    def word(z: float, low: str, high: str, mid: str = "") -> str:
        return low if z < -_NAME_Z else high if z > _NAME_Z else mid

    names = []
    for row in profiles.itertuples(index=False):
        rec = word(row.z_days_since_last, "recent", "lapsed")
        freq = "one-time" if row.one_time_share > 0.5 else word(
            row.z_purchase_days, "occasional", "frequent", "occasional")
        spend = word(row.z_spend_per_line, "low", "high", "mid") + " spend per line"
        buyers = " ".join(w for w in (rec, freq, "buyers") if w)
        names.append(f"{buyers}, {spend}")
    out = pd.Series(names, index=profiles.index, name="cluster_name", dtype=str)
    dup = out.duplicated(keep=False)
    out[dup] = out[dup] + " (" + profiles.loc[dup, "cluster"].astype(str) + ")"
    return out


def cluster_profiles(customers: pd.DataFrame) -> pd.DataFrame:
    """Size, revenue, feature means and a plain-language name per cluster.

    Parameters
    ----------
    customers : DataFrame
        Columns ``cluster``, ``total_spend``, ``frequency`` and :data:`CLUSTER_FEATURES`.

    Returns
    -------
    DataFrame
        ``cluster``, ``cluster_name``, ``customers``, ``customer_share``,
        ``revenue_share``, ``mean_<feature>`` for each of :data:`CLUSTER_FEATURES`,
        ``mean_total_spend``, ``one_time_share``, and ``z_<feature>``: the cluster mean of
        the standardised log feature (0 = the average customer, +1 = one standard
        deviation above) -- the "snake plot" values.

    Raises
    ------
    InputError
        On a missing column.
    """
    require_columns(customers, ["cluster", "total_spend", "frequency"], "customers")
    X = _feature_matrix(customers)
    Z = _preprocess().fit_transform(X)
    df = pd.DataFrame(Z, columns=[f"z_{c}" for c in CLUSTER_FEATURES], index=customers.index)
    for c in CLUSTER_FEATURES:
        df[f"mean_{c}"] = customers[c]
    df["mean_total_spend"] = customers["total_spend"]
    df["one_time_share"] = (customers["frequency"] == 0).astype(np.float64)
    df["cluster"] = customers["cluster"].to_numpy()
    g = df.groupby("cluster", sort=True).mean()
    size = customers.groupby("cluster", sort=True).size()
    rev = customers.groupby("cluster", sort=True)["total_spend"].sum()
    out = pd.DataFrame(
        {
            "cluster": g.index.to_numpy(np.int64),
            "customers": size.to_numpy(np.int64),
            "customer_share": size.to_numpy(np.float64) / len(customers),
            "revenue_share": rev.to_numpy(np.float64) / customers["total_spend"].sum(),
        }
    )
    means = [f"mean_{c}" for c in CLUSTER_FEATURES] + ["mean_total_spend", "one_time_share"]
    zs = [f"z_{c}" for c in CLUSTER_FEATURES]
    out = pd.concat([out, g[means + zs].reset_index(drop=True)], axis=1)
    out.insert(1, "cluster_name", name_clusters(out))
    return out


def assign_clusters(customers: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Add ``cluster`` and ``cluster_name`` (from :func:`cluster_profiles`) to a copy.

    Raises
    ------
    InputError
        When ``labels`` does not have one entry per customer.
    """
    if len(labels) != len(customers):
        raise InputError(f"labels: {len(labels)} labels for {len(customers)} customers")
    df = customers.copy()
    df["cluster"] = np.asarray(labels, dtype=np.int64)
    names = cluster_profiles(df).set_index("cluster")["cluster_name"]
    df["cluster_name"] = df["cluster"].map(names).astype(str)
    return df


def cluster_projection(customers: pd.DataFrame, seed: int = 42,
                       max_points: int = 5000) -> tuple[pd.DataFrame, np.ndarray]:
    """Project customers on the first two principal components of the clustering features.

    Parameters
    ----------
    customers : DataFrame
        Columns ``cluster`` and :data:`CLUSTER_FEATURES`.
    seed : int
        Draws the customers shown when there are more than ``max_points``.
    max_points : int
        At most this many points (a scatter of 20,000 dots is a blot).

    Returns
    -------
    (DataFrame, ndarray)
        ``pc1``, ``pc2``, ``cluster`` for the drawn customers (in input order), and the
        share of variance each component explains.

    Raises
    ------
    InputError
        On a missing column.
    """
    from sklearn.decomposition import PCA

    require_columns(customers, ["cluster"], "customers")
    Z = _preprocess().fit_transform(_feature_matrix(customers))
    pca = PCA(n_components=2, random_state=seed).fit(Z)
    n = len(Z)
    keep = np.arange(n)
    if n > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))
    P = pca.transform(Z[keep])
    pts = pd.DataFrame(
        {"pc1": P[:, 0], "pc2": P[:, 1],
         "cluster": customers["cluster"].to_numpy(np.int64)[keep]}
    )
    return pts, pca.explained_variance_ratio_


# --- the dynamic view ------------------------------------------------------------------------


def snapshot(transactions: pd.DataFrame, as_of: Any, segmentation: Mapping[str, Any]) -> pd.DataFrame:
    """Segment customers as of a date: RFM segment, value tier and lifecycle stage.

    Uses only purchases on or before ``as_of`` (features measured to that day).

    Raises
    ------
    InputError
        On missing transaction columns, no purchases by ``as_of``, or bad params.
    """
    from crmlab.features import customer_summary

    summary = customer_summary(transactions, as_of)
    if summary.empty:
        raise InputError(f"transactions: no purchases on or before {pd.Timestamp(as_of):%Y-%m-%d}")
    return segment_customers(summary, segmentation)


def _category_order(values: Iterable[Any], order: Sequence[str] | None) -> list[str]:
    seen = sorted({str(v) for v in values})
    order = list(order or [])
    return [o for o in order] + [v for v in seen if v not in order]


def transition_matrix(before: pd.DataFrame, after: pd.DataFrame, col: str,
                      order: Sequence[str] | None = None, normalize: bool = False) -> pd.DataFrame:
    """Where customers in each group ``before`` ended up ``after``.

    Parameters
    ----------
    before, after : DataFrame
        Columns ``customer_id`` and ``col`` (e.g. two :func:`snapshot` tables).
    col : str
        The segmentation compared: ``value_tier``, ``lifecycle_stage``, ``rfm_segment`` ...
    order : sequence of str, optional
        Category order of rows and columns (all listed, even when empty); values not in it
        follow in name order.
    normalize : bool
        ``False``: counts. ``True``: row shares (each row sums to 1; NaN for an empty row).

    Returns
    -------
    DataFrame
        Rows ``<col>_before`` (plus a first row :data:`NEW_CUSTOMER` for customers only in
        ``after``, always shown), columns ``<col>_after`` (plus :data:`NOT_LISTED` when
        someone in ``before`` is missing from ``after``).

    Raises
    ------
    InputError
        On a missing column or a duplicated ``customer_id``.
    """
    for name, df in (("before", before), ("after", after)):
        require_columns(df, ["customer_id", col], name)
        if df["customer_id"].duplicated().any():
            raise InputError(f"{name}: 'customer_id' is not unique")
    b = before[["customer_id", col]].rename(columns={col: "b"})
    a = after[["customer_id", col]].rename(columns={col: "a"})
    m = b.merge(a, on="customer_id", how="outer")
    cats = _category_order(pd.concat([b["b"], a["a"]]).dropna(), order)
    rows = [NEW_CUSTOMER, *cats]
    cols = [*cats] + ([NOT_LISTED] if m["a"].isna().any() else [])
    m["b"] = m["b"].astype(object).where(m["b"].notna(), NEW_CUSTOMER).astype(str)
    m["a"] = m["a"].astype(object).where(m["a"].notna(), NOT_LISTED).astype(str)
    counts = pd.crosstab(m["b"], m["a"]).reindex(index=rows, columns=cols, fill_value=0)
    counts = counts.astype(np.int64)
    counts.index.name, counts.columns.name = f"{col}_before", f"{col}_after"
    if normalize:
        tot = counts.sum(axis=1).replace(0, np.nan)
        return counts.div(tot, axis=0)
    return counts


def transition_summary(counts: pd.DataFrame) -> pd.DataFrame:
    """Per earlier group: how many stayed, and where most of the others went.

    Parameters
    ----------
    counts : DataFrame
        A :func:`transition_matrix` of counts.

    Returns
    -------
    DataFrame
        ``group``, ``customers``, ``stayed`` (share on the diagonal; NaN for
        :data:`NEW_CUSTOMER`), ``main_move`` (the most common *other* destination, or the
        most common destination of new customers) and ``main_move_share``; groups without
        customers are left out.

    Raises
    ------
    InputError
        When ``counts`` is not a matrix of counts.
    """
    if not isinstance(counts, pd.DataFrame):
        raise InputError(f"transitions: expected a DataFrame, got {type(counts).__name__}")
    rows = []
    for group, row in counts.iterrows():
        n = int(row.sum())
        if n == 0:
            continue
        stayed = row.get(group, 0) / n if group != NEW_CUSTOMER else np.nan
        others = row.drop(labels=[group], errors="ignore")
        move = others.idxmax() if others.sum() > 0 else None
        rows.append({"group": str(group), "customers": n, "stayed": float(stayed),
                     "main_move": move, "main_move_share": others.max() / n if move else 0.0})
    return pd.DataFrame(rows, columns=["group", "customers", "stayed", "main_move",
                                       "main_move_share"])


def describe_transitions(counts: pd.DataFrame, groups: Sequence[str] | None = None) -> str:
    """One sentence per earlier group: share that stayed and the main other destination.

    Parameters
    ----------
    counts : DataFrame
        A :func:`transition_matrix` of counts (empty when there was no earlier date).
    groups : sequence of str, optional
        Groups to describe (those without customers are skipped); default all.

    Returns
    -------
    str
        Markdown text for a notebook takeaway.

    Raises
    ------
    InputError
        As :func:`transition_summary`.
    """
    if counts.empty:
        return "there is no earlier date to compare with."
    summ = transition_summary(counts)
    if groups is not None and summ["group"].isin(list(groups)).any():
        summ = summ[summ["group"].isin(list(groups))]
    parts = []
    for r in summ.itertuples(index=False):
        move = (f"{r.main_move_share:.0%} moved to *{r.main_move}*" if pd.notna(r.main_move)
                else "nobody moved")
        if r.group == NEW_CUSTOMER:
            parts.append(f"of the {r.customers:,} new customers, {r.main_move_share:.0%} "
                         f"arrived as *{r.main_move}*")
        else:
            parts.append(f"of the {r.customers:,} *{r.group}*, {r.stayed:.0%} stayed and {move}")
    return "; ".join(parts) + "." if parts else "no customers to compare."


def moved_down(before: pd.DataFrame, after: pd.DataFrame, col: str = "value_tier",
               order: Sequence[str] = tuple(TIER_ORDER)) -> pd.DataFrame:
    """List customers who moved to a lower group between two snapshots (retention list).

    Parameters
    ----------
    before, after : DataFrame
        Columns ``customer_id``, ``col`` and ``total_spend``; ``after`` may also carry
        ``days_since_last``, ``rfm_segment``, ``lifecycle_stage``, which are kept.
    col : str
        The ordered grouping, best first.
    order : sequence of str
        Its categories from best to worst.

    Returns
    -------
    DataFrame
        ``customer_id``, ``<col>_before``, ``<col>_after``, ``total_spend_before``,
        ``total_spend_after``, then the kept ``after`` columns; sorted by
        ``total_spend_before`` (largest first), then ``customer_id``.

    Raises
    ------
    InputError
        On a missing column or a category not in ``order``.
    """
    require_columns(before, ["customer_id", col, "total_spend"], "before")
    require_columns(after, ["customer_id", col, "total_spend"], "after")
    rank = {c: i for i, c in enumerate(order)}
    for name, df in (("before", before), ("after", after)):
        unknown = sorted(set(df[col].astype(str)) - set(rank))
        if unknown:
            raise InputError(f"{name}: {col!r} value {unknown[0]!r} is not one of {list(order)}")
    extra = [c for c in ("days_since_last", "rfm_segment", "lifecycle_stage") if c in after.columns]
    b = before[["customer_id", col, "total_spend"]].rename(
        columns={col: f"{col}_before", "total_spend": "total_spend_before"})
    a = after[["customer_id", col, "total_spend", *extra]].rename(
        columns={col: f"{col}_after", "total_spend": "total_spend_after"})
    m = b.merge(a, on="customer_id", how="inner")
    down = m[f"{col}_after"].map(rank) > m[f"{col}_before"].map(rank)
    out = m.loc[down, ["customer_id", f"{col}_before", f"{col}_after",
                       "total_spend_before", "total_spend_after", *extra]]
    out = out.sort_values(["total_spend_before", "customer_id"], ascending=[False, True],
                          kind="stable")
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class DynamicView:
    """The segmentation at two dates and how customers moved between them.

    Attributes
    ----------
    before_date : Timestamp or None
        The earlier date (``periods.calibration_end``); None when not set.
    note : str
        One sentence for the notebook: what was compared, or why nothing was.
    before : DataFrame
        :func:`snapshot` at ``before_date`` (empty when not set).
    counts, shares : dict of str to DataFrame
        :func:`transition_matrix` counts and row shares per compared column.
    down : DataFrame
        :func:`moved_down` on ``value_tier``.
    """

    before_date: pd.Timestamp | None
    note: str
    before: pd.DataFrame = field(repr=False)
    counts: dict[str, pd.DataFrame] = field(repr=False)
    shares: dict[str, pd.DataFrame] = field(repr=False)
    down: pd.DataFrame = field(repr=False)


_ORDERS = {"value_tier": TIER_ORDER, "lifecycle_stage": LIFECYCLE_ORDER,
           "rfm_segment": SEGMENT_ORDER}


def dynamic_view(transactions: pd.DataFrame, after: pd.DataFrame, before_date: Any,
                 after_date: Any, segmentation: Mapping[str, Any],
                 columns: Sequence[str] = ("value_tier", "lifecycle_stage", "rfm_segment"),
                 ) -> DynamicView:
    """Segment at ``before_date`` and compare with the customers at ``after_date``.

    Parameters
    ----------
    transactions : DataFrame
        Clean transactions (``customer_id``, ``date``, ``amount``).
    after : DataFrame
        The segmented customers at ``after_date`` (the stage's customer table).
    before_date : date-like or None
        The earlier date (``periods.calibration_end``); None skips the comparison.
    after_date : date-like
        The later date, for the note.
    segmentation : mapping
        The ``segmentation`` params block (same rules at both dates).
    columns : sequence of str
        Groupings to build transition matrices for.

    Returns
    -------
    DynamicView

    Raises
    ------
    InputError
        When ``before_date`` is not before ``after_date``, or as :func:`snapshot`.
    """
    empty = {c: pd.DataFrame() for c in columns}
    if before_date is None:
        return DynamicView(
            None, "No periods.calibration_end is set, so there is no earlier date to compare "
            "with: set it in the params to see how customers moved.",
            pd.DataFrame(), empty, dict(empty), pd.DataFrame(),
        )
    b_day, a_day = pd.Timestamp(before_date), pd.Timestamp(after_date)
    if not b_day < a_day:
        raise InputError(
            f"periods.calibration_end ({b_day:%Y-%m-%d}) must be before the observation date "
            f"({a_day:%Y-%m-%d})"
        )
    before = snapshot(transactions, b_day, segmentation)
    counts = {c: transition_matrix(before, after, c, _ORDERS.get(c)) for c in columns}
    shares = {c: transition_matrix(before, after, c, _ORDERS.get(c), normalize=True)
              for c in columns}
    down = moved_down(before, after, "value_tier", TIER_ORDER)
    new = int(counts[columns[0]].loc[NEW_CUSTOMER].sum()) if columns else 0
    note = (
        f"Segments at {b_day:%Y-%m-%d} ({len(before):,} customers) compared with "
        f"{a_day:%Y-%m-%d} ({len(after):,} customers, {new:,} of them new since); "
        f"{len(down):,} customers moved down a value tier."
    )
    return DynamicView(b_day, note, before, counts, shares, down)


def customer_table(customers: pd.DataFrame) -> pd.DataFrame:
    """Order the ``customers.parquet`` product: SPEC columns first, then the others.

    Raises
    ------
    InputError
        When a product column is missing or ``customer_id`` is not unique.
    """
    require_columns(customers, PRODUCT_COLUMNS, "customers")
    if customers["customer_id"].duplicated().any():
        raise InputError("customers: 'customer_id' is not unique")
    rest = [c for c in customers.columns if c not in PRODUCT_COLUMNS]
    return customers[PRODUCT_COLUMNS + rest].reset_index(drop=True)
