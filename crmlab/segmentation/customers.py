"""The customer table: the as-of date, every view per customer, the view at an earlier date.

The input is the customer table of :func:`crmlab.features.customer_summary` (one row per
customer at an "as of" date), so the same rules can be applied at two dates and compared
(:func:`dynamic_view`). :func:`customer_table` orders the ``customers.parquet`` product.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.i18n import EN, Catalog
from crmlab.segmentation import narrative
from crmlab.segmentation.common import (
    LIFECYCLE_ORDER,
    NEW_CUSTOMER,
    SEGMENT_ORDER,
    TIER_ORDER,
    require_key,
)
from crmlab.segmentation.lifecycle import lifecycle_stages
from crmlab.segmentation.migration import (
    _align,
    _check_unique,
    _id_array,
    _moved_down,
    _transitions,
)
from crmlab.segmentation.rfm import rfm_scores, rfm_segments
from crmlab.segmentation.tiers import value_tiers

__all__ = [
    "PRODUCT_COLUMNS",
    "observation_date",
    "segment_customers",
    "snapshot",
    "DynamicView",
    "dynamic_view",
    "customer_table",
]

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


def observation_date(
    transactions: pd.DataFrame, periods: Mapping[str, Any] | None, *, tr: Catalog = EN
) -> tuple[pd.Timestamp, str]:
    """Return the date the customer base is observed at, and where it came from.

    Parameters
    ----------
    transactions : DataFrame
        Column ``date`` (datetime64).
    periods : mapping or None
        The ``periods`` params block; its ``observation_end`` is used when set.
    tr : Catalog
        The language of the sentence.

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
        end = pd.Timestamp(end)
        return end, narrative.observation_source(end, from_params=True, tr=tr)
    last = transactions["date"].max()
    if hasattr(last, "compute"):  # a Dask frame (engine: dask)
        last = last.compute()
    if pd.isna(last):
        raise InputError("transactions: no dated rows, and periods.observation_end is not set")
    last = pd.Timestamp(last).normalize()
    return last, narrative.observation_source(last, from_params=False, tr=tr)


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
    order = None  # one sort of total_spend serves the M score and the tiers
    if "total_spend" in summary.columns:
        order = np.argsort(summary["total_spend"].to_numpy(dtype=np.float64))
    df = rfm_scores(summary, require_key(segmentation, "rfm_monetary", "segmentation.rfm_monetary"),
                    spend_order=order)
    df = rfm_segments(df, require_key(segmentation, "segment_map", "segmentation.segment_map"))
    df = value_tiers(df, require_key(segmentation, "tiers", "segmentation.tiers"), order=order)
    return lifecycle_stages(df, require_key(segmentation, "lifecycle", "segmentation.lifecycle"))


def snapshot(transactions: pd.DataFrame, as_of: Any, segmentation: Mapping[str, Any]) -> pd.DataFrame:
    """Segment customers as of a date: RFM segment, value tier and lifecycle stage.

    Uses only purchases on or before ``as_of`` (features measured to that day).

    Raises
    ------
    InputError
        On missing transaction columns, no purchases by ``as_of``, or bad params.
    """
    from crmlab.features import customer_summary

    return _segment_snapshot(customer_summary(transactions, as_of), as_of, segmentation)


def _segment_snapshot(summary: pd.DataFrame, as_of: Any, segmentation: Mapping[str, Any]) -> pd.DataFrame:
    if summary.empty:
        raise InputError(f"transactions: no purchases on or before {pd.Timestamp(as_of):%Y-%m-%d}")
    return segment_customers(summary, segmentation)


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
        :func:`crmlab.segmentation.transition_matrix` counts and row shares per compared column.
    down : DataFrame
        :func:`crmlab.segmentation.moved_down` on ``value_tier``.
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
                 before_summary: pd.DataFrame | None = None, *, tr: Catalog = EN) -> DynamicView:
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
    before_summary : DataFrame, optional
        :func:`crmlab.features.customer_summary` of ``transactions`` at ``before_date``,
        when the caller has it (:func:`crmlab.features.customer_summaries` computes it
        with the summary at ``after_date`` in one pass); otherwise it is computed here.
    tr : Catalog
        The language of the view's ``note``.

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
            None, narrative.dynamic_view_note(None, tr=tr),
            pd.DataFrame(), empty, dict(empty), pd.DataFrame(),
        )
    b_day, a_day = pd.Timestamp(before_date), pd.Timestamp(after_date)
    if not b_day < a_day:
        raise InputError(
            f"periods.calibration_end ({b_day:%Y-%m-%d}) must be before the observation date "
            f"({a_day:%Y-%m-%d})"
        )
    require_columns(after, ["customer_id", "total_spend", *columns], "after")
    if before_summary is None:
        before = snapshot(transactions, b_day, segmentation)
        require_columns(before, ["customer_id", "total_spend", *columns], "before")
        pos = _align(before, after)  # one join of the two dates serves every table below
    else:
        if before_summary.empty:
            _segment_snapshot(before_summary, b_day, segmentation)  # raises: no purchases
        require_columns(before_summary, ["customer_id"], "before")
        # segmenting the earlier customers and joining their ids with the later ones are
        # independent: the join runs while a thread segments (same rows, same order)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmlab-snapshot") as pool:
            segmented = pool.submit(_segment_snapshot, before_summary, b_day, segmentation)
            pos = _align(before_summary, after)
            before = segmented.result()
        require_columns(before, ["customer_id", "total_spend", *columns], "before")
    memo: dict = {}  # each group column is encoded once for all the tables below
    counts = {c: _transitions(before, after, c, _ORDERS.get(c), False, pos, memo)
              for c in columns}
    shares = {}
    for c in columns:
        tot = counts[c].sum(axis=1).replace(0, np.nan)
        shares[c] = counts[c].div(tot, axis=0)
    down = _moved_down(before, after, "value_tier", TIER_ORDER, pos, memo)
    new = int(counts[columns[0]].loc[NEW_CUSTOMER].sum()) if columns else 0
    note = narrative.dynamic_view_note(b_day, a_day, len(before), len(after), new, len(down),
                                      tr=tr)
    return DynamicView(b_day, note, before, counts, shares, down)


def customer_table(customers: pd.DataFrame) -> pd.DataFrame:
    """Order the ``customers.parquet`` product: SPEC columns first, then the others.

    Raises
    ------
    InputError
        When a product column is missing or ``customer_id`` is not unique.
    """
    require_columns(customers, PRODUCT_COLUMNS, "customers")
    _check_unique(_id_array(customers), "customers")
    rest = [c for c in customers.columns if c not in PRODUCT_COLUMNS]
    return customers[PRODUCT_COLUMNS + rest].reset_index(drop=True)
