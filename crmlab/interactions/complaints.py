"""Complaints per 1,000 active customers, their trend, complaints before a lapse; sentiment by month.

Definitions:

- **Active customer in a month**: made a purchase *or* a contact that month. A rate per
  active customer does not fall just because the base of long-gone customers grows.
- **Complaint rate**: complaint contacts per 1,000 active customers in the month
  (``complainers_per_1000`` counts each complaining customer once).
- **Trend**: a quasi-Poisson regression of monthly complaints on the month number with
  the log of active customers as offset; ``exp(slope) - 1`` is the change of the rate per
  month, with a 95% interval (scale by Pearson's chi-square, so overdispersion widens it).
- **Complaint → lapse**: among customers who *purchased* in a period of ``period_days``
  before ``split``, those with a complaint in that period against those without; a lapse is
  no purchase in the ``period_days`` from ``split``. Risk difference with Newcombe's
  interval, and the relative risk. Observational: complainers differ in other ways too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.weightstats import DescrStatsW

from crmlab.errors import InputError
from crmlab.interactions.common import (
    as_timestamp,
    check_log,
    check_transactions,
    contacts_only,
    month_start,
    period_buyers,
)
from crmlab.interactions.inference import compare_groups

__all__ = ["complaint_rates", "complaint_trend", "ComplaintLapse", "complaint_lapse", "sentiment_by_month"]

TREND_METHOD = "quasi-Poisson regression of complaints on month, offset log(active customers)"


def complaint_rates(log: pd.DataFrame, transactions: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """Complaints per 1,000 active customers, month by month, over the months the log covers.

    Parameters
    ----------
    log : DataFrame
        The clean log.
    transactions : DataFrame
        Clean transactions (``customer_id``, ``date``, ``amount``).
    as_of : date-like, optional
        The last day of the data: a last month ending after it is flagged ``partial``.

    Returns
    -------
    DataFrame
        ``month``, ``active`` (customers), ``complaints``, ``complainers``,
        ``rate_per_1000``, ``complainers_per_1000``, ``partial`` (bool).
    """
    log = contacts_only(check_log(log))
    tx = check_transactions(transactions)
    cols = ["month", "active", "complaints", "complainers", "rate_per_1000", "complainers_per_1000", "partial"]
    if log.empty:
        return pd.DataFrame(columns=cols)
    lm = month_start(log["timestamp"])
    months = pd.date_range(lm.min(), lm.max(), freq="MS")
    tm = month_start(tx["date"])
    active_pairs = pd.concat([
        pd.DataFrame({"customer_id": log["customer_id"].to_numpy(), "month": lm.to_numpy()}),
        pd.DataFrame({"customer_id": tx["customer_id"].to_numpy(), "month": tm.to_numpy()}),
    ]).drop_duplicates()
    active = active_pairs.groupby("month").size().reindex(months, fill_value=0)
    comp = log[log["type"] == "complaint"].assign(month=lm)
    n = comp.groupby("month").size().reindex(months, fill_value=0)
    who = comp.groupby("month")["customer_id"].nunique().reindex(months, fill_value=0)
    out = pd.DataFrame({"month": months, "active": active.to_numpy(dtype=np.int64),
                        "complaints": n.to_numpy(dtype=np.int64), "complainers": who.to_numpy(dtype=np.int64)})
    denom = out["active"].where(out["active"] > 0)
    out["rate_per_1000"] = 1000 * out["complaints"] / denom
    out["complainers_per_1000"] = 1000 * out["complainers"] / denom
    last_day = as_timestamp(as_of, "as_of") if as_of is not None else None
    out["partial"] = (out["month"] + pd.offsets.MonthEnd(0) > last_day) if last_day is not None else False
    return out[cols]


def complaint_trend(rates: pd.DataFrame, level: float = 0.95) -> dict:
    """Estimate the monthly change of the complaint rate (complete months of :func:`complaint_rates`).

    Returns
    -------
    dict
        ``monthly_change`` (rate ratio per month - 1), ``low``, ``high``, ``p_value``,
        ``months``, ``first_rate``, ``last_rate``, ``level``, ``method``; the numbers are
        NaN with fewer than 3 complete months or no complaint at all.
    """
    need = ["month", "active", "complaints", "partial", "rate_per_1000"]
    missing = [c for c in need if c not in rates.columns]
    if missing:
        raise InputError(f"complaint rates: required column {missing[0]!r} missing")
    r = rates[(~rates["partial"].astype(bool)) & (rates["active"] > 0)]
    out = {"monthly_change": np.nan, "low": np.nan, "high": np.nan, "p_value": np.nan,
           "months": int(len(r)), "first_rate": float(r["rate_per_1000"].iloc[0]) if len(r) else np.nan,
           "last_rate": float(r["rate_per_1000"].iloc[-1]) if len(r) else np.nan,
           "level": level, "method": TREND_METHOD}
    if len(r) < 3 or r["complaints"].sum() == 0:
        return out
    x = sm.add_constant(np.arange(len(r), dtype=np.float64))
    fit = sm.GLM(r["complaints"].to_numpy(dtype=np.float64), x, family=sm.families.Poisson(),
                 offset=np.log(r["active"].to_numpy(dtype=np.float64))).fit(scale="X2")
    low, high = fit.conf_int(alpha=1 - level)[1]
    out.update(monthly_change=float(np.expm1(fit.params[1])), low=float(np.expm1(low)),
               high=float(np.expm1(high)), p_value=float(fit.pvalues[1]))
    return out


@dataclass(frozen=True)
class ComplaintLapse:
    """Lapse rates of complainers and non-complainers.

    Attributes
    ----------
    customers : DataFrame
        ``customer_id``, ``complained`` (bool), ``lapsed`` (bool): the customers compared.
    table : DataFrame
        ``group`` (``complained``, ``did not complain``), ``customers``, ``lapsed``,
        ``lapse_rate`` and its Wilson interval ``low``, ``high``.
    difference : dict
        :func:`~crmlab.interactions.inference.diff_proportions` of complainers minus the others.
    split : Timestamp
        Start of the following period.
    period_days : int
    """

    customers: pd.DataFrame
    table: pd.DataFrame
    difference: dict
    split: pd.Timestamp
    period_days: int


def complaint_lapse(log: pd.DataFrame, transactions: pd.DataFrame, split, period_days: int,
                    as_of, level: float = 0.95) -> ComplaintLapse:
    """Compare the next-period lapse rate of customers who complained in a period with the others'.

    Parameters
    ----------
    log, transactions : DataFrame
        The clean log and clean transactions.
    split : date-like
        First day of the following period.
    period_days : int
        Length of both periods.
    as_of : date-like
        Last day of the data; the following period must be over by then.
    level : float
        Confidence level.

    Returns
    -------
    ComplaintLapse

    Raises
    ------
    InputError
        When the following period runs past ``as_of`` (its lapses are not yet known).
    """
    log = contacts_only(check_log(log))
    s, d, buyers, after = period_buyers(check_transactions(transactions), split, period_days, as_of,
                                        "complaint lapse")
    comp = log[(log["type"] == "complaint") & (log["timestamp"] >= s - d) & (log["timestamp"] < s)]
    per = pd.DataFrame({"customer_id": buyers.astype(str)})
    per["complained"] = per["customer_id"].isin(set(comp["customer_id"]))
    per["lapsed"] = ~per["customer_id"].isin(after)
    diff, table = compare_groups(per, "complained", "lapsed", ("complained", "did not complain"),
                                 "lapsed", "lapse_rate", level)
    return ComplaintLapse(customers=per, table=table, difference=diff, split=s, period_days=int(period_days))


def sentiment_by_month(log: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean feedback sentiment per month with a t interval (texts with a score only).

    Parameters
    ----------
    log : DataFrame
        The clean log with a ``sentiment`` column in [0, 1] (NaN without text).
    level : float
        Confidence level.

    Returns
    -------
    DataFrame
        ``month``, ``texts``, ``mean``, ``low``, ``high`` (NaN with fewer than 2 texts).
    """
    log = check_log(log, ("sentiment",))
    s = log[log["sentiment"].notna()]
    rows = []
    for month, g in s.groupby(month_start(s["timestamp"])):
        x = g["sentiment"].to_numpy(dtype=np.float64)
        low = high = np.nan
        if x.size >= 2 and x.var() > 0:
            low, high = DescrStatsW(x).tconfint_mean(alpha=1 - level)
        rows.append({"month": month, "texts": int(x.size), "mean": float(x.mean()),
                     "low": float(low), "high": float(high)})
    return pd.DataFrame(rows, columns=["month", "texts", "mean", "low", "high"])
