"""Channels: the mix per value tier and segment, multichannel customers, channel migration.

- **Mix**: share of each channel in the contacts of a group (rows sum to 1).
- **Multichannel**: a contacted customer who used two or more distinct channels; their
  mean spend is compared with single-channel customers' by Welch's t interval. It is an
  association: customers who buy more have more reasons to get in touch, on more channels.
- **Main channel** of a customer at a date: the channel of most contacts in the
  ``window_days`` before the date (the date itself excluded); ties go to the channel used
  most recently, then alphabetically. No contact in the window: ``none``. The migration
  between two snapshot dates is the transition matrix of main channels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.weightstats import DescrStatsW

from crmlab.errors import InputError
from crmlab.interactions.common import (
    NO_CHANNEL,
    NOT_LISTED,
    as_timestamp,
    check_customers,
    check_log,
    check_transactions,
    contacts_only,
    ordered_groups,
)
from crmlab.interactions.inference import diff_means
from crmlab.segmentation.common import SEGMENT_ORDER, TIER_ORDER

__all__ = [
    "ChannelMix",
    "channel_mix",
    "customer_spend",
    "MultichannelSpend",
    "multichannel_spend",
    "main_channel",
    "ChannelMigration",
    "channel_migration",
]

_GROUP_ORDERS = {"value_tier": TIER_ORDER, "rfm_segment": SEGMENT_ORDER}


@dataclass(frozen=True)
class ChannelMix:
    """Channel shares per group.

    Attributes
    ----------
    shares : DataFrame
        Index the groups (ordered), columns the channels (most used first), rows sum to 1.
    counts : DataFrame
        The contacts behind the shares, same shape.
    by : str
        The customers column the groups come from.
    """

    shares: pd.DataFrame
    counts: pd.DataFrame
    by: str


def channel_mix(log: pd.DataFrame, customers: pd.DataFrame, by: str = "value_tier") -> ChannelMix:
    """Share of each channel in the contacts of each group of ``by``.

    Parameters
    ----------
    log : DataFrame
        The clean log.
    customers : DataFrame
        The customers table with column ``by``; contacts of customers missing from it
        form the group ``not listed``.
    by : str
        ``value_tier``, ``rfm_segment``, ``cluster_name`` ...

    Returns
    -------
    ChannelMix
    """
    log = contacts_only(check_log(log))
    cust = check_customers(customers, (by,))
    # a customer missing from the table, or without a value in `by`, is "not listed"
    group = (log["customer_id"].map(cust.set_index("customer_id")[by]).astype("string")
             .fillna(NOT_LISTED).astype(str))
    counts = pd.crosstab(group.rename(by), log["channel"].astype(str).rename("channel"))
    channels = counts.sum().sort_values(ascending=False, kind="stable").index
    rows = ordered_groups(group, _GROUP_ORDERS.get(by))
    counts = counts.reindex(index=rows, columns=channels, fill_value=0)
    shares = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0)
    return ChannelMix(shares=shares, counts=counts, by=by)


def customer_spend(transactions: pd.DataFrame, ids: pd.Series, as_of=None) -> pd.Series:
    """Total spend per customer of ``ids`` (0 without a purchase), up to ``as_of`` when given."""
    tx = check_transactions(transactions)
    if as_of is not None:
        tx = tx[tx["date"] < as_timestamp(as_of, "as_of") + pd.Timedelta(days=1)]
    total = tx.groupby("customer_id")["amount"].sum()
    return pd.Series(ids.astype(str).map(total).fillna(0.0).to_numpy(dtype=np.float64), index=ids.index)


@dataclass(frozen=True)
class MultichannelSpend:
    """Multichannel against single-channel customers.

    Attributes
    ----------
    table : DataFrame
        One row per group (``multichannel``, ``single channel``): ``customers``, ``share``,
        ``mean_spend`` with its 95% t interval ``low``, ``high``, ``median_spend``,
        ``total_spend``.
    customers : DataFrame
        ``customer_id``, ``channel_count``, ``multichannel`` (bool), ``spend``.
    difference : dict
        :func:`~crmlab.interactions.inference.diff_means` of multichannel minus single.
    """

    table: pd.DataFrame
    customers: pd.DataFrame
    difference: dict


def multichannel_spend(log: pd.DataFrame, transactions: pd.DataFrame, as_of=None,
                       level: float = 0.95) -> MultichannelSpend:
    """Compare the spend of multichannel and single-channel contacted customers.

    Parameters
    ----------
    log : DataFrame
        The clean log; only contacted customers are compared.
    transactions : DataFrame
        Clean transactions (``customer_id``, ``date``, ``amount``).
    as_of : date-like, optional
        Count spend up to this day.
    level : float
        Confidence level of the difference of mean spend.

    Returns
    -------
    MultichannelSpend
    """
    log = contacts_only(check_log(log))
    n = log.groupby("customer_id")["channel"].nunique()
    per = pd.DataFrame({"customer_id": n.index.astype(str), "channel_count": n.to_numpy()})
    per["multichannel"] = per["channel_count"] >= 2
    per["spend"] = customer_spend(transactions, per["customer_id"], as_of).to_numpy()
    rows = []
    for name, mask in (("multichannel", per["multichannel"]), ("single channel", ~per["multichannel"])):
        s = per.loc[mask, "spend"]
        low = high = np.nan
        if len(s) >= 2 and s.var() > 0:
            low, high = DescrStatsW(s.to_numpy()).tconfint_mean(alpha=1 - level)
        rows.append({"group": name, "customers": int(mask.sum()),
                     "share": float(mask.mean()) if len(per) else np.nan,
                     "mean_spend": float(s.mean()) if len(s) else np.nan,
                     "low": float(low), "high": float(high),
                     "median_spend": float(s.median()) if len(s) else np.nan,
                     "total_spend": float(s.sum())})
    diff = diff_means(per.loc[per["multichannel"], "spend"], per.loc[~per["multichannel"], "spend"], level)
    return MultichannelSpend(table=pd.DataFrame(rows), customers=per, difference=diff)


def main_channel(log: pd.DataFrame, date, window_days: int, ids: pd.Series | None = None) -> pd.Series:
    """Each customer's main channel in the ``window_days`` before ``date`` (module rule).

    Parameters
    ----------
    log : DataFrame
        The clean log.
    date : date-like
        The snapshot date; contacts on ``[date - window_days, date)`` count.
    window_days : int
        Window length.
    ids : Series, optional
        Customers to report (``none`` for those without a contact); default: the
        customers with a contact in the window.

    Returns
    -------
    Series
        Main channel indexed by ``customer_id``.
    """
    log = contacts_only(check_log(log))
    end = as_timestamp(date, "date")
    start = end - pd.Timedelta(days=int(window_days))
    w = log[(log["timestamp"] >= start) & (log["timestamp"] < end)]
    g = w.groupby(["customer_id", "channel"]).agg(n=("timestamp", "size"), last=("timestamp", "max"))
    g = g.reset_index().sort_values(["customer_id", "n", "last", "channel"],
                                    ascending=[True, False, False, True], kind="stable")
    main = g.drop_duplicates("customer_id").set_index("customer_id")["channel"].astype(str)
    if ids is not None:
        main = main.reindex(ids.astype(str).to_numpy()).fillna(NO_CHANNEL)
    return main.rename("main_channel").rename_axis("customer_id")


@dataclass(frozen=True)
class ChannelMigration:
    """Main channel at two dates.

    Attributes
    ----------
    counts : DataFrame
        Customers by main channel at ``start`` (rows) and ``end`` (columns), ``none``
        last; customers without a contact in either window are left out.
    shares : DataFrame
        ``counts`` as shares of each row.
    stayed : float
        Share keeping the same main channel, among customers with one at both dates.
    start, end : Timestamp
        The two snapshot dates.
    window_days : int
    """

    counts: pd.DataFrame
    shares: pd.DataFrame
    stayed: float
    start: pd.Timestamp
    end: pd.Timestamp
    window_days: int


def channel_migration(log: pd.DataFrame, start, end, window_days: int) -> ChannelMigration:
    """Transition matrix of main channels between two snapshot dates.

    Parameters
    ----------
    log : DataFrame
        The clean log.
    start, end : date-like
        The earlier and the later snapshot date (e.g. the dynamic view's two dates).
    window_days : int
        Window before each date that decides the main channel.

    Returns
    -------
    ChannelMigration
    """
    a, b = as_timestamp(start, "start"), as_timestamp(end, "end")
    if not a < b:
        raise InputError(f"channel migration: start {a.date()} must be before end {b.date()}")
    before = main_channel(log, a, window_days)
    after = main_channel(log, b, window_days)
    ids = before.index.union(after.index)
    frm = before.reindex(ids).fillna(NO_CHANNEL)
    to = after.reindex(ids).fillna(NO_CHANNEL)
    order = [c for c in pd.concat([frm, to]).value_counts().index if c != NO_CHANNEL] + [NO_CHANNEL]
    counts = pd.crosstab(frm.rename("from"), to.rename("to")).reindex(index=order, columns=order, fill_value=0)
    shares = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0)
    both = (frm != NO_CHANNEL) & (to != NO_CHANNEL)
    stayed = float((frm[both] == to[both]).mean()) if both.any() else np.nan
    return ChannelMigration(counts=counts, shares=shares, stayed=stayed, start=a, end=b,
                            window_days=int(window_days))
