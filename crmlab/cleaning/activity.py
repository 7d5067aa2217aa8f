"""What the clean data look like: activity per month and the spread of purchase values.

Both take a pandas or a Dask frame; on Dask the work is done on the workers and only a
row per month (or a histogram) comes back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import require_columns

__all__ = ["monthly_activity", "order_value_summary"]


def monthly_activity(clean: pd.DataFrame) -> pd.DataFrame:
    """Purchases, revenue and buying customers per calendar month of clean transactions.

    Parameters
    ----------
    clean : DataFrame (pandas or Dask)
        Columns ``customer_id``, ``date`` (datetime64), ``amount``. A Dask frame is
        summarised partition by partition on the workers (shuffled by customer first,
        unless it is a customer-bucketed dataset read by
        :func:`crmlab.engine.read_parquet`); only a row per month comes back. Revenue
        is then summed in another order, so it may differ from pandas in the last bits.

    Returns
    -------
    pandas.DataFrame
        ``month`` (first day of the month), ``purchases`` (rows), ``revenue``,
        ``customers`` (distinct buyers); months without purchases inside the range appear
        with zeros.
    """
    if hasattr(clean, "map_partitions"):  # a Dask frame
        return _monthly_activity_dask(clean)
    require_columns(clean, ["customer_id", "date", "amount"], "transactions")
    # integer months and customer codes: a group-by on periods and a distinct count of
    # string ids per month cost more than the rest of the stage at 10^7 rows
    stamps = clean["date"].to_numpy().astype("datetime64[M]")
    month_no = stamps.view(np.int64)
    out = clean[["amount"]].assign(month=month_no).groupby("month").agg(
        purchases=("amount", "size"), revenue=("amount", "sum")
    )
    if len(out):
        m0 = int(out.index.min())
        months = int(out.index.max()) - m0 + 1
        counts = _buyers_per_month(clean["customer_id"], month_no - m0, months)
        out["customers"] = counts[out.index.to_numpy() - m0]
        out.index = pd.PeriodIndex(
            pd.to_datetime(out.index.to_numpy().astype("datetime64[M]")), freq="M"
        )
    else:
        out["customers"] = pd.Series(dtype=np.int64)
    if len(out):
        full = pd.period_range(out.index.min(), out.index.max(), freq="M")
        out = out.reindex(full, fill_value=0)
    out.index = out.index.to_timestamp() if len(out) else pd.DatetimeIndex([])
    out = out.rename_axis("month").reset_index()
    return out.astype({"purchases": np.int64, "customers": np.int64, "revenue": np.float64})


def _buyers_per_month(ids: pd.Series, month: np.ndarray, months: int) -> np.ndarray:
    """Distinct customers per month (``month`` 0..months-1 per row), by integer codes.

    Short Arrow ids are read as integer words (:func:`crmlab.cleaning.keys.id_codes`, no
    string hashed), others factorised. Distinct (month, customer) pairs are marked in a
    table of one byte per pair when it is small, else found by a sort (not np.unique:
    NumPy 2's hash-based unique took 20 s on 7M distinct keys where the sort takes well
    under one).
    """
    from crmlab.cleaning.keys import _SEEN_TABLE_BYTES, id_codes

    found = id_codes(ids, months)
    if found is None:
        codes, _ = pd.factorize(ids)
        n_codes = max(int(codes.max()) + 1, 1)
    else:
        codes, n_codes = found
    pairs = month * n_codes
    pairs += codes  # (month, customer) keys
    if found is not None and months * n_codes <= max(_SEEN_TABLE_BYTES, 8 * len(pairs)):
        seen = np.zeros(months * n_codes, dtype=bool)
        seen[pairs] = True
        return np.count_nonzero(seen.reshape(months, n_codes), axis=1).astype(np.int64)
    pairs.sort()
    first = np.empty(len(pairs), dtype=bool)
    first[:1] = True
    np.not_equal(pairs[1:], pairs[:-1], out=first[1:])
    return np.bincount(pairs[first] // n_codes, minlength=months)


def _monthly_activity_dask(clean) -> pd.DataFrame:
    from crmlab.features import _by_customer

    require_columns(clean._meta.reset_index(), ["customer_id", "date", "amount"], "transactions")
    ddf = _by_customer(clean)
    meta = monthly_activity(ddf._meta.reset_index(drop=True))
    parts = ddf.map_partitions(lambda part: monthly_activity(part.reset_index(drop=True)), meta=meta)
    # partitions share no customer, so distinct buyers per month add up across them
    out = parts.groupby("month").sum().compute().sort_index()  # a row per month
    if len(out):
        out = out.reindex(pd.date_range(out.index.min(), out.index.max(), freq="MS"), fill_value=0)
    out = out.rename_axis("month").reset_index()
    if not len(out):
        out["month"] = pd.DatetimeIndex([])
    return out.astype({"purchases": np.int64, "customers": np.int64, "revenue": np.float64})


def order_value_summary(amounts, bins: int = 40) -> dict[str, Any]:
    """Summarise what the order-value figure needs, from the positive purchase values.

    Parameters
    ----------
    amounts : pandas or Dask Series
        Purchase values; only those above zero are summarised.
    bins : int
        Log-spaced histogram bins between the smallest and the largest value.

    Returns
    -------
    dict
        ``edges`` and ``counts`` (the histogram), ``median`` and ``p90``. A Dask series
        is summarised on the workers (the histogram partition by partition, the quantiles
        by Dask's approximate partition quantiles); only these numbers come back.
    """
    positive = amounts[amounts > 0]
    if not hasattr(positive, "map_partitions"):
        values = positive.to_numpy(dtype=np.float64)
        if not len(values):
            return {"edges": np.array([]), "counts": np.array([], dtype=np.int64), "median": None, "p90": None}
        edges = _log_edges(values.min(), values.max(), bins)
        counts, _ = np.histogram(values, bins=edges)
        return {"edges": edges, "counts": counts, "median": float(np.median(values)),
                "p90": float(np.quantile(values, 0.9))}
    import dask

    lo, hi, n = dask.compute(positive.min(), positive.max(), positive.count())
    if not n:
        return {"edges": np.array([]), "counts": np.array([], dtype=np.int64), "median": None, "p90": None}
    edges = _log_edges(lo, hi, bins)
    hist = positive.map_partitions(
        lambda s: pd.Series([np.histogram(s.to_numpy(dtype=np.float64), bins=edges)[0]]),
        meta=pd.Series(dtype=object),
    )
    parts, q = dask.compute(hist, positive.quantile([0.5, 0.9]))
    counts = np.sum(np.stack(list(parts)), axis=0)
    return {"edges": edges, "counts": counts, "median": float(q.iloc[0]), "p90": float(q.iloc[1])}


def _log_edges(lo: float, hi: float, bins: int) -> np.ndarray:
    """Log-spaced bin edges from ``lo`` to ``hi`` (widened a little when they are equal)."""
    a, b = np.log10(lo), np.log10(hi)
    if a == b:
        return np.logspace(a - 0.05, b + 0.05, bins)
    edges = np.logspace(a, b, bins)
    # 10 ** log10(hi) may land just below hi, and np.histogram would then drop the largest value
    edges[0], edges[-1] = lo, hi
    return edges
