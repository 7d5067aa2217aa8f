"""RFM: quintile scores, the named segment map, and the profile of each segment.

*Recency* in RFM is ``days_since_last`` (days from the last purchase day to the as-of
date), not the Buy-Till-You-Die ``recency`` (first to last purchase). *Frequency* is
``frequency`` (repeat purchase days; ranking it is the same as ranking purchase days).
*Monetary* (the M score) ranks ``total_spend`` (or the spend per purchase day,
``rfm_monetary: average``).

Quintile scores never split ties: a customer's score is ``1 + floor(5 * b / n)`` where
``b`` is the number of customers with a strictly *worse* value, so equal customers get
equal scores whatever the row order, and a quintile may be empty when more than a fifth
of the customers share one value (CDNOW: 51 % bought once, all get ``f_score`` 1).

References
----------
Hughes, A. M. (1994). Strategic Database Marketing. Probus (RFM scoring).
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using iso-value curves
for customer base analysis. Journal of Marketing Research 42(4), 415-430.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.i18n import EN, Catalog
from crmlab.segmentation.common import (
    CLUSTER_FEATURES,
    N_BINS,
    SEGMENT_ORDER,
    count_grid,
    run_bounds,
    text_column,
)
from crmlab.segmentation.playbook import segment_actions

__all__ = [
    "DEFAULT_SEGMENT_MAP",
    "quantile_scores",
    "rfm_scores",
    "score_distribution",
    "validate_segment_map",
    "segment_grid",
    "rfm_grid",
    "rfm_segments",
    "segment_profiles",
    "score_ranges",
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


def quantile_scores(values: Sequence[float] | pd.Series, higher_is_better: bool = True,
                    n_bins: int = N_BINS, *, order: np.ndarray | None = None) -> np.ndarray:
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
    order : ndarray, optional
        ``np.argsort(values)``, when the caller has it (one sort serves several scores).

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
    worse = _worse_by_counting(v, higher_is_better)
    if worse is not None:
        return (1 + (n_bins * worse) // n).astype(np.int64)
    # the values strictly worse than each sorted value: where its run of equal values
    # starts (or ends), found in one pass over the sorted values; scores are computed in
    # sorted order and scattered back once
    if order is None or len(order) != n:
        order = np.argsort(v)  # ties get equal scores whatever their order here
    s = v[order]
    worse = run_bounds(s, "left") if higher_is_better else n - run_bounds(s, "right")
    scores = np.empty(n, dtype=np.int64)
    scores[order] = 1 + (n_bins * worse) // n
    return scores


def _worse_by_counting(v: np.ndarray, higher_is_better: bool) -> np.ndarray | None:
    """How many values are strictly worse than each, by counting, for whole numbers.

    Days and purchase counts are whole numbers in a range much smaller than the number of
    customers: a histogram of the values and its running sum give every count without a
    sort. None for other values (the caller sorts).
    """
    lo, hi = float(v.min()), float(v.max())
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi - lo > max(len(v), 1 << 16):
        return None
    if not np.array_equal(np.floor(v), v):
        return None
    k = (v - lo).astype(np.int64)
    counts = np.bincount(k)
    upto = np.cumsum(counts)  # values <= each whole number
    if higher_is_better:
        return (upto - counts)[k]  # values strictly smaller
    return len(v) - upto[k]  # values strictly larger


def rfm_scores(customers: pd.DataFrame, monetary: str, *,
               spend_order: np.ndarray | None = None) -> pd.DataFrame:
    """Add RFM quintile scores ``r_score``, ``f_score``, ``m_score`` and ``fm_score``.

    Parameters
    ----------
    customers : DataFrame
        Columns ``days_since_last``, ``frequency``, ``total_spend`` (and ``purchase_days``
        for ``monetary="average"``).
    monetary : {"total", "average"}
        ``segmentation.rfm_monetary``: score M on total spend, or on spend per purchase day.
    spend_order : ndarray, optional
        ``np.argsort`` of ``total_spend``, when the caller has it (used for ``"total"``).

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
    df = customers.copy(deep=False)  # copy-on-write: nothing is duplicated
    if monetary == "average":
        require_columns(customers, ["purchase_days"], "customers")
        m = df["total_spend"] / df["purchase_days"]
    else:
        m = df["total_spend"]
    df["r_score"] = quantile_scores(df["days_since_last"], higher_is_better=False)
    df["f_score"] = quantile_scores(df["frequency"])
    df["m_score"] = quantile_scores(m, order=spend_order if monetary == "total" else None)
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
    idx = pd.Index(range(1, N_BINS + 1), name="score")
    out = pd.DataFrame(
        {c: scored[c].value_counts().reindex(idx, fill_value=0).astype(np.int64) for c in cols},
        index=idx,
    )
    return out


def _codes() -> list[str]:
    return [f"{r}{fm}" for r in range(N_BINS, 0, -1) for fm in range(1, N_BINS + 1)]


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
    rows = list(range(N_BINS, 0, -1))
    cols = list(range(1, N_BINS + 1))
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
    rows = list(range(N_BINS, 0, -1))
    cols = list(range(1, N_BINS + 1))
    counts = count_grid(customers["r_score"], customers["fm_score"], rows, cols)
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
    df = scored.copy(deep=False)  # copy-on-write: nothing is duplicated
    for col in ("r_score", "fm_score"):
        bad = ~df[col].isin(range(1, N_BINS + 1))
        if bad.any():
            raise InputError(f"customers: {int(bad.sum())} values of {col!r} are not 1..5")
    # one lookup per customer by integer cell number (no text built per customer)
    cell = df["r_score"].to_numpy(np.int64) * 10 + df["fm_score"].to_numpy(np.int64)
    names = [""] * (10 * N_BINS + N_BINS + 1)
    for code, name in codes.items():
        names[int(code)] = name
    df["rfm_segment"] = text_column(names, cell, df.index)
    return df


def segment_profiles(customers: pd.DataFrame, by: str = "rfm_segment",
                     order: Sequence[str] | None = None, *, tr: Catalog = EN) -> pd.DataFrame:
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
        :func:`crmlab.segmentation.narrative.segment_name_check` compares with the names — (and
        ``who``, ``action`` for RFM segments); only groups that have customers.

    Raises
    ------
    InputError
        On a missing column.
    """
    require_columns(customers, [by, "total_spend", *CLUSTER_FEATURES], "customers")
    if order is None:
        order = SEGMENT_ORDER if by == "rfm_segment" else []
    # what the names promise is checked against the flags (crmlab.segmentation.narrative)
    flags = {"one_time_share": customers["purchase_days"] <= 1}
    if "lifecycle_stage" in customers.columns:
        stage = customers["lifecycle_stage"].astype(str)
        flags["current_share"] = stage.isin(["new", "active"])
        flags["at_risk_share"] = stage == "at risk"
        flags["lapsed_share"] = stage == "lapsed"
    # one grouping of the customers serves the figures and the flags (each column is
    # aggregated on its own: the same sums as separate groupings)
    values = ["total_spend", *[c for c in CLUSTER_FEATURES if c != "total_spend"]]
    if by in values or by in flags:  # grouped by a figure itself: one frame would merge them
        grouped = customers.groupby(by, sort=True)
        flagged = pd.DataFrame({**flags, by: customers[by]}, index=customers.index)
        flag_means = flagged.groupby(by, sort=True).mean()
    else:
        frame = pd.DataFrame({by: customers[by], **{c: customers[c] for c in values}, **flags},
                             index=customers.index)
        grouped = frame.groupby(by, sort=True)
        flag_means = grouped[list(flags)].mean()
    g = grouped.agg(
        customers=("total_spend", "size"),
        revenue=("total_spend", "sum"),
        mean_days_since_last=("days_since_last", "mean"),
        mean_purchase_days=("purchase_days", "mean"),
        mean_spend_per_line=("spend_per_line", "mean"),
        mean_total_spend=("total_spend", "mean"),
    )
    g = g.join(flag_means.astype(np.float64))
    keys = [k for k in order if k in g.index] + [k for k in g.index if k not in order]
    g = g.loc[keys]
    g.insert(1, "customer_share", g["customers"] / len(customers))
    g.insert(2, "revenue_share", g["revenue"] / customers["total_spend"].sum())
    out = g.drop(columns="revenue").reset_index()
    out["customers"] = out["customers"].astype(np.int64)
    if by == "rfm_segment":
        out = out.merge(segment_actions(out["rfm_segment"], tr=tr), on="rfm_segment", how="left")
    return out


def score_ranges(customers: pd.DataFrame, score: str = "r_score", value: str = "days_since_last",
                 unit: str | None = None, *, tr: Catalog = EN) -> dict[int, str]:
    """Label each score with the range of the raw value behind it: ``{3: "3 (231–389 days)"}``.

    RFM scores are ranks: what R = 3 means in days depends on the customer base. Putting
    the range on the axis lets the reader see that, for example, a "middle" recency score
    can mean a year without a purchase.

    Parameters
    ----------
    customers : DataFrame
        Columns ``score`` (integer scores) and ``value``.
    score, value : str
        The score column and the raw column it ranks.
    unit : str, optional
        Unit words after the range; default "days" in ``tr``'s words.
    tr : Catalog
        The language of the label.

    Returns
    -------
    dict
        Score -> label, for the scores present (empty scores are left out).

    Raises
    ------
    InputError
        On a missing column.
    """
    require_columns(customers, [score, value], "customers")
    g = customers.groupby(score, sort=True)[value].agg(["min", "max"])
    unit = tr("segmentation.days") if unit is None else unit
    return {int(s): tr("segmentation.score_range", score=int(s), low=r["min"], high=r["max"],
                       unit=unit) for s, r in g.iterrows()}
