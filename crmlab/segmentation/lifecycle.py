"""Lifecycle stages: recency judged against each customer's own buying rhythm."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.segmentation.common import (
    LIFECYCLE_ORDER,
    TIER_ORDER,
    count_grid,
    require_key,
    text_column,
)

__all__ = ["lifecycle_stages", "lifecycle_table"]


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
    new_days = float(require_key(lifecycle, "new_days", "segmentation.lifecycle.new_days"))
    at_risk = float(require_key(lifecycle, "at_risk_factor", "segmentation.lifecycle.at_risk_factor"))
    lapsed = float(require_key(lifecycle, "lapsed_factor", "segmentation.lifecycle.lapsed_factor"))
    if not at_risk < lapsed:
        raise InputError(
            "segmentation.lifecycle: at_risk_factor must be below lapsed_factor, "
            f"got {at_risk} and {lapsed}"
        )
    df = customers.copy(deep=False)  # copy-on-write: nothing is duplicated
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
        [0, 1, 2],
        default=3,
    )
    df["typical_gap"] = typical
    df["lifecycle_stage"] = text_column(["new", "lapsed", "at risk", "active"], stage, df.index)
    return df


def lifecycle_table(customers: pd.DataFrame) -> pd.DataFrame:
    """Count customers per lifecycle stage (rows) and value tier (columns), all listed.

    Raises
    ------
    InputError
        When ``lifecycle_stage`` or ``value_tier`` is missing.
    """
    require_columns(customers, ["lifecycle_stage", "value_tier"], "customers")
    t = count_grid(customers["lifecycle_stage"], customers["value_tier"], LIFECYCLE_ORDER, TIER_ORDER)
    t.index.name, t.columns.name = "lifecycle_stage", "value_tier"
    return t
