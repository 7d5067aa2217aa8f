"""Campaign effect from a randomised control group: conversion, spend, revenue, ROI, uplift.

For one campaign (log rows with ``campaign == name``) every customer belongs to the
``treatment`` or the ``control`` arm, and their campaign date is their first row of the
campaign. The outcome window is the ``window_days`` days *after* that day (the day itself
is left out: a purchase on the contact day may have come before the contact).

- **conversion**: any purchase in the window; difference treatment - control with
  Newcombe's 95% interval;
- **spend**: spend per customer in the window (0 without a purchase); difference with
  Welch's 95% interval;
- **incremental revenue** = spend difference x treated customers (the interval scales);
- **ROI** = (incremental revenue x margin - contact cost) / contact cost, the contact cost
  being the treated arm's campaign contacts x their channel's cost; its interval follows
  from the revenue interval (ROI rises with revenue);
- **uplift by segment**: the same two differences per segment; a segment with fewer than
  ``min_arm`` customers in an arm is flagged ``small`` (its interval is too wide to act on,
  and with many segments one will look striking by chance).

Without a control arm there is no counterfactual: what the treated customers would have
bought uncontacted is unknown, so no effect is computed and the result says why.
Customers found in both arms, and customers whose window is not yet over at ``as_of``,
are left out and counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlab.interactions.common import (
    NOT_LISTED,
    as_timestamp,
    channel_costs,
    check_customers,
    check_log,
    check_transactions,
    ordered_groups,
)
from crmlab.interactions.inference import diff_means, diff_proportions
from crmlab.segmentation.common import SEGMENT_ORDER, TIER_ORDER

__all__ = ["NOT_ESTIMABLE", "CampaignEffect", "campaign_effect", "campaign_names"]

# reason code -> what is missing; the sentences are crmlab.interactions.narrative's
NOT_ESTIMABLE = {
    "not_found": "no contact of this campaign in the log",
    "no_group": "the log has no treatment/control column",
    "no_control": "no customer was held back as a control group",
    "no_treatment": "no customer was in the treatment arm",
    "window_open": "no customer's outcome window is over yet",
}
_ORDERS = {"value_tier": TIER_ORDER, "rfm_segment": SEGMENT_ORDER}


@dataclass(frozen=True)
class CampaignEffect:
    """The measured effect of one campaign, or why it cannot be measured.

    Attributes
    ----------
    name : str
    estimable : bool
        False when there is no counterfactual (see ``reason``); then every effect field
        is None.
    reason : str or None
        A key of :data:`NOT_ESTIMABLE` when not estimable.
    window_days : int
    n_treatment, n_control : int
        Customers compared (after exclusions).
    excluded_both_arms, excluded_open_window : int
        Customers left out.
    conversion : dict or None
        :func:`~crmlab.interactions.inference.diff_proportions` (treatment - control).
    spend : dict or None
        :func:`~crmlab.interactions.inference.diff_means` of spend per customer.
    incremental_revenue : dict or None
        ``value``, ``low``, ``high``.
    contact_cost : float or None
    roi : dict or None
        ``value``, ``low``, ``high`` (NaN when the contact cost is 0).
    margin : float
    by_segment : DataFrame or None
        Per segment: ``segment``, ``n_treatment``, ``n_control``, ``conv_treatment``,
        ``conv_control``, ``conv_diff``, ``conv_low``, ``conv_high``, ``spend_diff``,
        ``spend_low``, ``spend_high``, ``small``.
    segment_column : str or None
    customers : DataFrame or None
        ``customer_id``, ``group``, ``date``, ``converted``, ``spend``.
    """

    name: str
    estimable: bool
    reason: str | None
    window_days: int
    n_treatment: int = 0
    n_control: int = 0
    excluded_both_arms: int = 0
    excluded_open_window: int = 0
    conversion: dict | None = None
    spend: dict | None = None
    incremental_revenue: dict | None = None
    contact_cost: float | None = None
    roi: dict | None = None
    margin: float = float("nan")
    by_segment: pd.DataFrame | None = None
    segment_column: str | None = None
    customers: pd.DataFrame | None = field(default=None, repr=False)


def campaign_names(log: pd.DataFrame) -> list[str]:
    """Return the campaigns named in the log, by number of rows (most first)."""
    if "campaign" not in log.columns:
        return []
    return [str(c) for c in log["campaign"].dropna().astype(str).value_counts().index]


def _arms(rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per customer (``group``, ``date``); customers in both arms dropped and counted."""
    g = rows.groupby("customer_id").agg(arms=("group", "nunique"), group=("group", "first"),
                                        date=("timestamp", "min"))
    both = int((g["arms"] > 1).sum())
    g = g[g["arms"] == 1].drop(columns="arms").reset_index()
    g["date"] = g["date"].dt.normalize()
    return g, both


def _outcomes(arms: pd.DataFrame, tx: pd.DataFrame, window_days: int) -> pd.DataFrame:
    """Add ``converted`` and ``spend`` over ``(date, date + window_days]`` per customer."""
    m = tx.merge(arms[["customer_id", "date"]].rename(columns={"date": "start"}), on="customer_id")
    m = m[(m["date"] > m["start"]) & (m["date"] <= m["start"] + pd.Timedelta(days=window_days))]
    agg = m.groupby("customer_id").agg(purchases=("amount", "size"), spend=("amount", "sum"))
    out = arms.copy()
    out["converted"] = out["customer_id"].map(agg["purchases"]).fillna(0).to_numpy() > 0
    out["spend"] = out["customer_id"].map(agg["spend"]).fillna(0.0).to_numpy(dtype=np.float64)
    return out


def _compare(t: pd.DataFrame, c: pd.DataFrame, level: float) -> tuple[dict, dict]:
    conv = diff_proportions(int(t["converted"].sum()), len(t), int(c["converted"].sum()), len(c), level)
    return conv, diff_means(t["spend"], c["spend"], level)


def _by_segment(per: pd.DataFrame, seg: pd.Series, by: str, min_arm: int, level: float) -> pd.DataFrame:
    per = per.assign(segment=per["customer_id"].map(seg).astype("string").fillna(NOT_LISTED).astype(str))
    rows = []
    for s in ordered_groups(per["segment"], _ORDERS.get(by)):
        g = per[per["segment"] == s]
        t, c = g[g["group"] == "treatment"], g[g["group"] == "control"]
        conv, spend = _compare(t, c, level)
        rows.append({"segment": s, "n_treatment": len(t), "n_control": len(c),
                     "conv_treatment": conv["p1"], "conv_control": conv["p2"], "conv_diff": conv["diff"],
                     "conv_low": conv["low"], "conv_high": conv["high"], "spend_diff": spend["diff"],
                     "spend_low": spend["low"], "spend_high": spend["high"],
                     "small": bool(min(len(t), len(c)) < min_arm)})
    return pd.DataFrame(rows)


def campaign_effect(log: pd.DataFrame, transactions: pd.DataFrame, name: str, window_days: int,
                    as_of, margin: float, costs: Mapping[str, Any] | None = None,
                    customers: pd.DataFrame | None = None, by: str = "rfm_segment",
                    min_arm: int = 50, level: float = 0.95) -> CampaignEffect:
    """Estimate a campaign's effect on conversion and spend against its control arm.

    Parameters
    ----------
    log : DataFrame
        The clean log with ``campaign`` and ``group`` (``treatment``/``control``).
    transactions : DataFrame
        Clean transactions (``customer_id``, ``date``, ``amount``).
    name : str
        The campaign (``interactions.campaign.name``).
    window_days : int
        Outcome window after the campaign date (``interactions.campaign.window_days``).
    as_of : date-like
        Last day of the data; customers whose window ends after it are left out.
    margin : float
        Gross margin on revenue (``interactions.margin``).
    costs : mapping, optional
        ``interactions.costs`` (its ``contact`` costs per channel); without it the
        contact cost and ROI are None.
    customers : DataFrame, optional
        The customers table with column ``by``, for the uplift by segment.
    by : str
        Segment column.
    min_arm : int
        Fewer customers than this in an arm flags a segment ``small``.
    level : float
        Confidence level.

    Returns
    -------
    CampaignEffect
    """
    log = check_log(log)
    tx = check_transactions(transactions)
    days = int(window_days)
    if "campaign" not in log.columns:
        return CampaignEffect(name=name, estimable=False, reason="not_found", window_days=days)
    rows = log[log["campaign"].astype("string") == name]
    if rows.empty:
        return CampaignEffect(name=name, estimable=False, reason="not_found", window_days=days)
    if "group" not in rows.columns or rows["group"].isna().all():
        return CampaignEffect(name=name, estimable=False, reason="no_group", window_days=days,
                              n_treatment=int(rows["customer_id"].nunique()))
    arms, both = _arms(rows[rows["group"].notna()].assign(group=lambda d: d["group"].astype(str)))
    last = as_timestamp(as_of, "as_of")
    is_open = arms["date"] + pd.Timedelta(days=days) > last
    arms = arms[~is_open]
    n_t, n_c = int((arms["group"] == "treatment").sum()), int((arms["group"] == "control").sum())
    base = {"name": name, "window_days": days, "n_treatment": n_t, "n_control": n_c,
            "excluded_both_arms": both, "excluded_open_window": int(is_open.sum()), "margin": float(margin)}
    if arms.empty:
        return CampaignEffect(estimable=False, reason="window_open", **base)
    if n_c == 0:
        return CampaignEffect(estimable=False, reason="no_control", **base)
    if n_t == 0:
        return CampaignEffect(estimable=False, reason="no_treatment", **base)

    per = _outcomes(arms, tx, days)
    t, c = per[per["group"] == "treatment"], per[per["group"] == "control"]
    conv, spend = _compare(t, c, level)
    incr = {k: spend[s] * n_t for k, s in (("value", "diff"), ("low", "low"), ("high", "high"))}
    cost = roi = None
    if costs is not None:
        treated = rows[(rows["group"].astype("string") == "treatment") & rows["customer_id"].isin(t["customer_id"])]
        cost = float(channel_costs(costs, treated["channel"]).sum())
        roi = {k: (v * margin - cost) / cost if cost > 0 else np.nan for k, v in incr.items()}
    seg = None
    if customers is not None:
        cust = check_customers(customers, (by,))
        seg = _by_segment(per, cust.set_index("customer_id")[by], by, min_arm, level)
    return CampaignEffect(estimable=True, reason=None, conversion=conv, spend=spend,
                          incremental_revenue=incr, contact_cost=cost, roi=roi, by_segment=seg,
                          segment_column=by if seg is not None else None, customers=per, **base)
