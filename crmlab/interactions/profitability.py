"""Customer profitability: profit per customer, the whale curve, the value destroyers.

Profit of a customer = ``margin`` x revenue - cost to serve - acquisition cost, where the
cost to serve is the sum over their contacts of the cost per contact of the contact's
channel (``interactions.costs.contact``), and the acquisition cost is the same amount for
every customer (``interactions.costs.acquisition``). Control-arm rows of a campaign cost
nothing: nobody was contacted.

The **whale curve** (Kaplan & Narayanan 2001) plots cumulative profit against customers
ranked from most to least profitable, as a share of total profit: it rises above 100%
while profitable customers are added and falls back to 100% as the value destroyers are.
Its peak says how much more the firm would earn if the unprofitable customers cost
nothing.

References
----------
Kaplan, R. S. & Narayanan, V. G. (2001). Measuring and managing customer profitability.
Journal of Cost Management 15(5), 5-15.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.interactions.channels import customer_spend
from crmlab.interactions.common import (
    NOT_LISTED,
    as_timestamp,
    channel_costs,
    check_customers,
    check_log,
    contacts_only,
    ordered_groups,
    require_key,
)
from crmlab.segmentation.common import SEGMENT_ORDER, TIER_ORDER

__all__ = ["customer_profit", "WhaleCurve", "whale_curve", "value_destroyers"]

_CURVE_POINTS = 2_000  # the drawn curve keeps at most this many points (+ the ends and the peak)
_ORDERS = {"value_tier": TIER_ORDER, "rfm_segment": SEGMENT_ORDER}


def customer_profit(transactions: pd.DataFrame, log: pd.DataFrame, customers: pd.DataFrame,
                    costs: Mapping[str, Any], margin: float, as_of=None) -> pd.DataFrame:
    """Revenue, cost to serve and profit of every customer of the customers table.

    Parameters
    ----------
    transactions : DataFrame
        Clean transactions (``customer_id``, ``date``, ``amount``).
    log : DataFrame
        The clean log.
    customers : DataFrame
        The customers table (one output row each, in its order); ``value_tier``,
        ``rfm_segment`` and ``lifecycle_stage`` are carried along when present.
    costs : mapping
        ``interactions.costs``: ``contact`` (per channel) and ``acquisition``.
    margin : float
        Gross margin on revenue, in [0, 1].
    as_of : date-like, optional
        Count revenue and contacts up to this day.

    Returns
    -------
    DataFrame
        ``customer_id``, ``revenue``, ``gross_margin``, ``contacts``, ``cost_to_serve``,
        ``acquisition_cost``, ``profit`` and the carried columns.

    Raises
    ------
    InputError
        On a margin outside [0, 1], a negative acquisition cost or a channel without a cost.
    """
    if not 0 <= float(margin) <= 1:
        raise InputError(f"interactions.margin must be in [0, 1], got {margin}")
    acquisition = float(require_key(costs, "acquisition", "interactions.costs.acquisition"))
    if not acquisition >= 0:
        raise InputError(f"interactions.costs.acquisition must be >= 0, got {acquisition}")
    cust = check_customers(customers)
    log = contacts_only(check_log(log))
    if as_of is not None:
        log = log[log["timestamp"] < as_timestamp(as_of, "as_of") + pd.Timedelta(days=1)]
    ids = cust["customer_id"]
    cost = channel_costs(costs, log["channel"]).groupby(log["customer_id"].to_numpy()).sum()
    n = log.groupby("customer_id").size()
    keep = [c for c in ("value_tier", "rfm_segment", "lifecycle_stage") if c in cust]
    out = cust[["customer_id", *keep]].reset_index(drop=True)
    out["revenue"] = customer_spend(transactions, ids, as_of).to_numpy()
    out["gross_margin"] = float(margin) * out["revenue"]
    out["contacts"] = ids.map(n).fillna(0).astype("int64").to_numpy()
    out["cost_to_serve"] = ids.map(cost).fillna(0.0).to_numpy(dtype=np.float64)
    out["acquisition_cost"] = acquisition
    out["profit"] = out["gross_margin"] - out["cost_to_serve"] - out["acquisition_cost"]
    money = ["revenue", "gross_margin", "contacts", "cost_to_serve", "acquisition_cost", "profit"]
    return out[["customer_id", *money, *keep]]


@dataclass(frozen=True)
class WhaleCurve:
    """The whale curve and its summary.

    Attributes
    ----------
    curve : DataFrame
        ``customer_share`` (0..1) and ``cumulative_share`` (cumulative profit / total
        profit), from the most profitable customer; at most ~2,000 points.
    total_profit, peak_profit : float
        Total profit, and the largest cumulative profit (the profitable customers' sum).
    peak_share : float
        ``peak_profit / total_profit`` (e.g. 1.5 = 150%); NaN when total profit <= 0.
    peak_at : float
        Share of customers at the peak (the share that is profitable).
    customers : int
    """

    curve: pd.DataFrame
    total_profit: float
    peak_profit: float
    peak_share: float
    peak_at: float
    customers: int


def whale_curve(profit: pd.DataFrame) -> WhaleCurve:
    """Cumulative profit against customers ranked by profit, most profitable first.

    Parameters
    ----------
    profit : DataFrame
        Column ``profit`` (:func:`customer_profit`).

    Returns
    -------
    WhaleCurve
    """
    require_columns(profit, ["profit"], "customer profit")
    p = np.sort(profit["profit"].to_numpy(dtype=np.float64))[::-1]
    if p.size == 0:
        raise InputError("customer profit: no customer")
    cum = np.concatenate([[0.0], np.cumsum(p)])
    total = float(cum[-1])
    k = int(np.argmax(cum))
    x = np.arange(cum.size) / p.size
    keep = np.unique(np.concatenate([np.linspace(0, p.size, min(p.size + 1, _CURVE_POINTS)).astype(int), [k]]))
    share = cum[keep] / total if total > 0 else np.full(keep.size, np.nan)
    curve = pd.DataFrame({"customer_share": x[keep], "cumulative_share": share,
                          "cumulative_profit": cum[keep]})
    return WhaleCurve(curve=curve, total_profit=total, peak_profit=float(cum[k]),
                      peak_share=float(cum[k] / total) if total > 0 else np.nan,
                      peak_at=float(x[k]), customers=int(p.size))


def value_destroyers(profit: pd.DataFrame, by: str = "value_tier") -> tuple[dict, pd.DataFrame]:
    """Who loses money: the negative-profit customers overall and per group of ``by``.

    Parameters
    ----------
    profit : DataFrame
        :func:`customer_profit` (``profit``, ``revenue``, ``contacts``, ``cost_to_serve``
        and the column ``by``).
    by : str
        Group column (``value_tier``, ``rfm_segment``, ...).

    Returns
    -------
    (dict, DataFrame)
        Overall: ``destroyers``, ``share`` (of customers), ``profit_lost`` (sum of their
        negative profits, <= 0), ``customers``, and the destroyers' and the others' mean
        ``revenue`` and ``contacts``. Per group: ``group``, ``customers``, ``destroyers``,
        ``destroyer_share`` (within the group), ``share_of_destroyers``, ``profit_lost``,
        ``mean_cost_to_serve`` (of the group's destroyers).
    """
    require_columns(profit, ["profit", "revenue", "contacts", "cost_to_serve", by], "customer profit")
    neg = profit["profit"].to_numpy(dtype=np.float64) < 0
    d, r = profit[neg], profit[~neg]
    overall = {
        "customers": int(len(profit)), "destroyers": int(neg.sum()),
        "share": float(neg.mean()) if len(profit) else np.nan,
        "profit_lost": float(d["profit"].sum()),
        "destroyer_mean_revenue": float(d["revenue"].mean()) if len(d) else np.nan,
        "other_mean_revenue": float(r["revenue"].mean()) if len(r) else np.nan,
        "destroyer_mean_contacts": float(d["contacts"].mean()) if len(d) else np.nan,
        "other_mean_contacts": float(r["contacts"].mean()) if len(r) else np.nan,
    }
    group = profit[by].astype("string").fillna(NOT_LISTED).astype(str)
    rows = []
    for g in ordered_groups(group, _ORDERS.get(by)):
        m = (group == g).to_numpy()
        dm = m & neg
        rows.append({"group": g, "customers": int(m.sum()), "destroyers": int(dm.sum()),
                     "destroyer_share": float(dm.sum() / m.sum()),
                     "share_of_destroyers": float(dm.sum() / neg.sum()) if neg.any() else np.nan,
                     "profit_lost": float(profit.loc[dm, "profit"].sum()),
                     "mean_cost_to_serve": float(profit.loc[dm, "cost_to_serve"].mean()) if dm.any() else np.nan})
    return overall, pd.DataFrame(rows)
