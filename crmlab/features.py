"""Transactions -> one row per customer: the Buy-Till-You-Die summary and friends.

Definitions (SPEC.md), in days, over *distinct purchase days* (purchases on the same day
are merged into one purchase of their summed amount):

- ``frequency``  = purchase days - 1 (repeat purchases)
- ``recency``    = days from the first to the last purchase day
- ``T``          = days from the first purchase day to ``observation_end``
- ``monetary_value`` = mean spend over the repeat purchase days (0 when frequency is 0)

These are the quantities of Fader, Hardie & Lee (2005) and of
``lifetimes.utils.summary_data_from_transaction_data(freq="D")``, so results can be
checked against the literature. The computation is vectorised over integer-coded customers
and integer days: one group-by to merge same-day purchases, then NumPy segment reductions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.errors import InputError

__all__ = ["daily_purchases", "customer_summary", "SUMMARY_COLUMNS"]

SUMMARY_COLUMNS = [
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "first_purchase",
    "last_purchase",
    "purchase_days",
    "orders",
    "total_spend",
    "avg_order_value",
    "days_since_last",
    "gap_mean",
    "gap_std",
    "spend_last_90d",
]

_EPOCH = np.datetime64("1970-01-01", "D")


def _check(transactions, cols=("customer_id", "date", "amount")) -> None:
    missing = [c for c in cols if c not in transactions.columns]
    if missing:
        raise InputError(f"transactions: required column {missing[0]!r} missing")


def _is_dask(df) -> bool:
    return type(df).__module__.startswith("dask")


def daily_purchases(transactions, end: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Merge same-day purchases: one row per customer and purchase day.

    Parameters
    ----------
    transactions : DataFrame (pandas or Dask)
        Columns ``customer_id``, ``date`` (datetime64), ``amount`` (float).
    end : date-like, optional
        Keep purchases on or before this day only.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (str), ``day`` (int64 days since 1970-01-01), ``amount``
        (summed), ``lines`` (input rows merged), sorted by customer then day.
    """
    _check(transactions)
    end_day = None if end is None else _day_number(end)
    if _is_dask(transactions):
        tx = transactions[["customer_id", "date", "amount"]]
        tx = tx.assign(
            customer_id=tx["customer_id"].astype(str),
            day=(tx["date"].dt.floor("D") - pd.Timestamp("1970-01-01")).dt.days.astype("int64"),
        )
        if end_day is not None:
            tx = tx[tx["day"] <= end_day]
        daily = (
            tx.groupby(["customer_id", "day"])["amount"]
            .agg(["sum", "count"])
            .compute()
            .rename(columns={"sum": "amount", "count": "lines"})
            .reset_index()
            .sort_values(["customer_id", "day"], kind="stable")
            .reset_index(drop=True)
        )
        daily["lines"] = daily["lines"].astype(np.int64)
        return daily
    date = pd.to_datetime(transactions["date"]).to_numpy().astype("datetime64[D]")
    day = (date - _EPOCH).astype(np.int64)
    amount = transactions["amount"].to_numpy(dtype=np.float64)
    codes, uniques = pd.factorize(transactions["customer_id"].astype(str), sort=True)
    if end_day is not None:
        keep = day <= end_day
        day, amount, codes = day[keep], amount[keep], codes[keep]
    if len(day) == 0:
        return pd.DataFrame(
            {"customer_id": pd.Series([], dtype=str), "day": pd.Series([], dtype=np.int64),
             "amount": pd.Series([], dtype=np.float64), "lines": pd.Series([], dtype=np.int64)}
        )
    # sort by (customer code, day) and reduce runs of equal keys
    order = np.lexsort((day, codes))
    c, d, a = codes[order], day[order], amount[order]
    new = np.empty(len(c), dtype=bool)
    new[0] = True
    new[1:] = (c[1:] != c[:-1]) | (d[1:] != d[:-1])
    starts = np.flatnonzero(new)
    lines = np.diff(np.append(starts, len(c)))
    return pd.DataFrame(
        {
            "customer_id": np.asarray(uniques, dtype=object)[c[starts]],
            "day": d[starts],
            "amount": np.add.reduceat(a, starts),
            "lines": lines.astype(np.int64),
        }
    ).astype({"customer_id": str})


def _summarise(daily: pd.DataFrame, end_day: int) -> pd.DataFrame:
    """Customer features from :func:`daily_purchases` output (sorted by customer, day)."""
    cid = daily["customer_id"].to_numpy()
    d = daily["day"].to_numpy(np.int64)
    a = daily["amount"].to_numpy(np.float64)
    lines = daily["lines"].to_numpy(np.int64)
    n = len(d)
    new = np.ones(n, dtype=bool)
    if n:
        new[1:] = cid[1:] != cid[:-1]
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], n)
    days = ends - starts
    first, last = d[starts], d[ends - 1]
    spend = np.add.reduceat(a, starts) if n else np.array([])
    freq = days - 1
    repeat_spend = spend - a[starts]
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(freq > 0, repeat_spend / np.maximum(freq, 1), 0.0)
        gap_mean = np.where(freq > 0, (last - first) / np.maximum(freq, 1), np.nan)
    # inter-purchase gaps inside each customer: std over >= 2 gaps (sample std)
    gaps = np.diff(d, prepend=d[0] if n else 0).astype(np.float64)
    gaps[starts] = 0.0
    g1 = np.add.reduceat(gaps, starts) if n else np.array([])
    g2 = np.add.reduceat(gaps * gaps, starts) if n else np.array([])
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (g2 - g1 * g1 / np.maximum(freq, 1)) / np.maximum(freq - 1, 1)
    gap_std = np.where(freq >= 2, np.sqrt(np.clip(var, 0, None)), np.nan)
    recent = np.where(d > end_day - 90, a, 0.0)
    spend90 = np.add.reduceat(recent, starts) if n else np.array([])
    orders = np.add.reduceat(lines, starts) if n else np.array([], dtype=np.int64)
    out = pd.DataFrame(
        {
            "customer_id": pd.Series(cid[starts], dtype=str),
            "frequency": freq.astype(np.int64),
            "recency": (last - first).astype(np.float64),
            "T": (end_day - first).astype(np.float64),
            "monetary_value": monetary,
            "first_purchase": first.astype("datetime64[D]").astype("datetime64[ns]"),
            "last_purchase": last.astype("datetime64[D]").astype("datetime64[ns]"),
            "purchase_days": days.astype(np.int64),
            "orders": orders.astype(np.int64),
            "total_spend": spend,
            "avg_order_value": spend / np.maximum(orders, 1),
            "days_since_last": (end_day - last).astype(np.float64),
            "gap_mean": gap_mean,
            "gap_std": gap_std,
            "spend_last_90d": spend90,
        }
    )
    return out


def _day_number(ts) -> int:
    return int((pd.Timestamp(ts).to_datetime64().astype("datetime64[D]") - _EPOCH).astype(np.int64))


def customer_summary(transactions, observation_end, calibration_end=None) -> pd.DataFrame:
    """One row per customer with the Buy-Till-You-Die features at ``observation_end``.

    Parameters
    ----------
    transactions : DataFrame (pandas or Dask)
        Clean transactions with columns ``customer_id``, ``date`` (datetime64) and
        ``amount`` (float); rows after ``observation_end`` are ignored.
    observation_end : date-like
        The day the customer base is observed ("today").
    calibration_end : date-like, optional
        When given, the features are computed on purchases up to ``calibration_end``
        (columns suffixed ``_cal``, ``T_cal`` measured to ``calibration_end``) for the
        customers first seen by then, plus holdout actuals over
        ``(calibration_end, observation_end]``: ``frequency_holdout`` (purchase days),
        ``actual_holdout_value`` (spend) and ``duration_holdout`` (days).

    Returns
    -------
    pandas.DataFrame
        Sorted by ``customer_id``; columns :data:`SUMMARY_COLUMNS` (``frequency``,
        ``recency``, ``T``, ``monetary_value`` as defined in the module docstring; gaps and
        ages in days; money in the input's currency).

    Raises
    ------
    InputError
        When a required column is missing or ``calibration_end`` is not before
        ``observation_end``.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy
    way: An alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.
    """
    _check(transactions)
    obs = _day_number(observation_end)
    daily = daily_purchases(transactions, end=observation_end)
    if calibration_end is None:
        return _summarise(daily, obs).reset_index(drop=True)
    cal = _day_number(calibration_end)
    if cal >= obs:
        raise InputError(
            f"calibration_end ({calibration_end}) must be before observation_end ({observation_end})"
        )
    in_cal = daily["day"].to_numpy() <= cal
    feats = _summarise(daily[in_cal].reset_index(drop=True), cal)
    feats = feats.rename(columns={c: f"{c}_cal" for c in feats.columns if c != "customer_id"})
    hold = daily[~in_cal]
    agg = (
        hold.groupby("customer_id", sort=False)
        .agg(frequency_holdout=("day", "size"), actual_holdout_value=("amount", "sum"))
        .reset_index()
    )
    out = feats.merge(agg, on="customer_id", how="left")
    out["frequency_holdout"] = out["frequency_holdout"].fillna(0).astype(np.int64)
    out["actual_holdout_value"] = out["actual_holdout_value"].fillna(0.0)
    out["duration_holdout"] = float(obs - cal)
    return out.sort_values("customer_id", kind="stable").reset_index(drop=True)
