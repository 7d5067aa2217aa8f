"""Transactions -> one row per customer: the Buy-Till-You-Die summary and friends.

Definitions, in days, over *distinct purchase days* (purchases on the same day
are merged into one purchase of their summed amount):

- ``frequency``  = purchase days - 1 (repeat purchases)
- ``recency``    = days from the first to the last purchase day
- ``T``          = days from the first purchase day to ``observation_end``
- ``monetary_value`` = mean spend over the repeat purchase days (0 when frequency is 0)

These are the quantities of Fader, Hardie & Lee (2005) and of
``lifetimes.utils.summary_data_from_transaction_data(freq="D")``, so results can be
checked against the literature — and they are checked bit for bit (benchmarks/).

How it stays fast (no Python per row, no Python object per row):

1. customer ids become integer codes that follow the id order: an id column that is
   already sorted (exports often are) is encoded by comparing neighbours; otherwise Arrow's
   hash table encodes the Arrow-backed string column once and only the *distinct* ids are
   sorted, so no row is ever compared as a string;
2. dates become integer day numbers, and one integer key ``code * span + day`` is sorted
   with a single ``argsort`` (cheaper than a two-key ``lexsort``);
3. runs of equal keys are reduced with ``np.add.reduceat``, arrays are reused in place,
   and the result frame is built without consolidating its columns (a full copy).

How it stays exact whatever the row order (so a Dask run, which sees the rows in another
order, gives the very same floats as pandas): a sum of three or more numbers depends on
the order they are added in, and so does the summation method. Same-day amounts are added
in one canonical order (timestamp, then amount: the order ``lifetimes`` sorts its rows
into) with ``np.add.reduceat``, which is what pandas 3's group-by sum runs on sorted
groups; the mean over repeat days uses the compensated (Kahan) summation pandas' group-by
mean runs when a group holds a NaN (lifetimes blanks each first purchase). The results
therefore equal lifetimes' bit for bit (tests/test_engine.py, benchmarks/).

On Dask, customers must not be split between partitions: a frame indexed by
``customer_id`` or by ``customer_bucket`` (see :mod:`crmlab.engine`) with known divisions
is used as it is; anything else is first shuffled by ``customer_id``. Each partition is
then summarised with the pandas code above, and only the customer table comes back.

The package: :mod:`~crmlab.features.summary` (this summary and the daily merge),
:mod:`~crmlab.features.keys` (ids, dates and amounts as sortable integer keys),
:mod:`~crmlab.features.sums` (the compensated sums), :mod:`~crmlab.features.partitions`
(the Dask side).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa

from crmlab.errors import InputError
from crmlab.features.keys import (
    _amounts,
    _arrow_strings,
    _day_number,
    _day_numbers,
    _encode_customers,
    _id_words,
    _instants,
    _segment_rows,
    _sort_with_order,
    _sorted_runs,
    _word_codes,
)
from crmlab.features.partitions import REQUIRED_COLUMNS, _by_customer, _dask_apply, _meta_frame
from crmlab.features.sums import _kahan_segments

__all__ = ["daily_purchases", "customer_summary", "customer_summaries", "SUMMARY_COLUMNS"]

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
    "spend_per_line",
    "days_since_last",
    "gap_mean",
    "gap_std",
    "spend_last_90d",
]


def _check(transactions, cols=REQUIRED_COLUMNS) -> None:
    names = set(transactions.columns)
    if _is_dask(transactions) and transactions.index.name == "customer_id":
        names.add("customer_id")  # a Dask frame may carry the id as its (sorted) index
    missing = [c for c in cols if c not in names]
    if missing:
        raise InputError(f"transactions: required column {missing[0]!r} missing")


def _is_dask(df) -> bool:
    return type(df).__module__.startswith("dask")


# --- pandas core ------------------------------------------------------------------------------


@dataclass
class _Daily:
    """One row per customer and purchase day, sorted by customer code then day."""

    code: np.ndarray  # int64 customer code (order of the ids)
    day: np.ndarray  # int64 days since 1970-01-01
    amount: np.ndarray  # float64 day total
    lines: np.ndarray  # int64 input rows merged
    ids: pa.Array  # sorted distinct customer ids; code i is ids[i]

    def subset(self, mask: np.ndarray) -> _Daily:
        return _Daily(self.code[mask], self.day[mask], self.amount[mask], self.lines[mask], self.ids)


@dataclass
class _Sorted:
    """Rows sorted by (customer, day) with one int64 key, before same-day rows are merged.

    ``key[i]`` is ``code * span + day - d0`` of the ``i``-th row in sorted order and
    ``order[i]`` its position in ``amount`` / ``instants`` (the rows kept, in input order).
    Codes follow the id order; with ``arr`` set they have gaps and the ids are taken from
    ``arr`` at the rows ``kept[order]`` (``kept`` None: all input rows were kept), else
    ``uniques[code]`` is the id of code ``code``.
    """

    key: np.ndarray
    order: np.ndarray
    amount: np.ndarray
    instants: np.ndarray
    span: int
    d0: int
    arr: pa.Array | None
    kept: np.ndarray | None
    uniques: pa.Array | None

    def pieces(self, n: int) -> list[tuple[int, int]]:
        """Split the sorted rows into at most ``n`` ranges that share no customer."""
        rows = len(self.key)
        cuts = [0]
        for i in range(1, n):
            first = int(self.key[rows * i // n]) // self.span * self.span  # its customer's key 0
            cut = int(np.searchsorted(self.key, first, side="left"))
            if cut > cuts[-1]:
                cuts.append(cut)
        cuts.append(rows)
        return [(lo, hi) for lo, hi in zip(cuts[:-1], cuts[1:], strict=True) if hi > lo]


def _sorted_rows(transactions: pd.DataFrame, end_day: int | None) -> _Sorted | None:
    """Encode and sort the rows of a pandas frame (see the module docstring); None if none."""
    instants = _instants(transactions["date"])
    day = _day_numbers(instants)
    amount = _amounts(transactions["amount"])
    ids = transactions["customer_id"]
    arr = _arrow_strings(ids)
    if arr is not None and arr.null_count:
        raise InputError(f"transactions: column 'customer_id' has {arr.null_count} missing values")
    # ids already in order (customer-contiguous exports) are encoded by comparing
    # neighbours; any other order by integer words (see _id_words); else by hashing
    runs = _sorted_runs(arr) if arr is not None else None
    words = _id_words(arr) if runs is None else None
    kept = None  # input row of each kept row, when rows after end_day are dropped
    uniques = None
    if runs is not None:
        code, uniques = runs
        arr = None
    elif words is None:
        arr = None
        code, uniques = _encode_customers(ids)
    if end_day is not None:
        keep = day <= end_day
        if not keep.all():
            day, amount, instants = day[keep], amount[keep], instants[keep]
            if words is None:
                code = code[keep]
            else:
                words = words[keep]
                kept = np.flatnonzero(keep)
    if len(day) == 0:
        return None
    d0 = int(day.min())
    span = int(day.max()) - d0 + 1
    if words is not None:
        code, n_codes = _word_codes(words, span)
        del words
    else:
        n_codes = len(uniques)
    # One integer key orders rows by (customer, day). The sort need not be stable because
    # same-day amounts are summed in a canonical order below. Arrays are updated in place
    # where possible: at 10^7 rows each fresh array costs more than the arithmetic.
    key = code * span
    key += day
    key -= d0
    del code, day
    order = _sort_with_order(key, n_codes * span)
    return _Sorted(key, order, amount, instants, span, d0, arr, kept, uniques)


def _merge_days(rows: _Sorted, lo: int, hi: int) -> _Daily:
    """Merge the same-day purchases of the sorted rows ``lo:hi`` (whole customers)."""
    key, order = rows.key[lo:hi], rows.order[lo:hi]
    n = hi - lo
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(key[1:], key[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    del new
    lines = np.empty(len(starts), dtype=np.int64)
    np.subtract(starts[1:], starts[:-1], out=lines[:-1])
    lines[-1] = n - starts[-1]
    a = rows.amount[order]
    total = np.add.reduceat(a, starts)
    # one or two amounts sum to the same float in any order; three or more are added in
    # lifetimes' order (timestamp, then amount), whatever order the rows came in
    busy = np.flatnonzero(lines >= 3)
    if len(busy):
        seg = _segment_rows(starts[busy], lines[busy])
        group = np.repeat(np.arange(len(busy)), lines[busy])
        stamps = rows.instants[order[seg]].view(np.int64)
        ordered = a[seg[np.lexsort((a[seg], stamps, group))]]
        total[busy] = np.add.reduceat(ordered, np.cumsum(lines[busy]) - lines[busy])
    del a
    cust, day = np.divmod(key[starts], rows.span)
    day += rows.d0
    uniques = rows.uniques
    if rows.arr is not None:
        # codes so far follow the id order but have gaps: make them 0..k-1 and take each
        # customer's id from one of its rows (no string is hashed or sorted)
        first = np.empty(len(cust), dtype=bool)
        first[0] = True
        np.not_equal(cust[1:], cust[:-1], out=first[1:])
        heads = order[starts[np.flatnonzero(first)]]
        uniques = rows.arr.take(pa.array(heads if rows.kept is None else rows.kept[heads]))
        np.cumsum(first, out=cust)
        cust -= 1
    return _Daily(cust, day, total, lines, uniques)


def _no_days(transactions: pd.DataFrame) -> _Daily:
    empty_i = np.array([], dtype=np.int64)
    ids = _arrow_strings(transactions["customer_id"])
    empty_ids = ids[:0] if ids is not None else pa.array([], type=pa.large_string())
    return _Daily(empty_i, empty_i, np.array([], dtype=np.float64), empty_i, empty_ids)


def _daily(transactions: pd.DataFrame, end_day: int | None) -> _Daily:
    """Merge same-day purchases of a pandas frame (the fast path, see the module docstring)."""
    rows = _sorted_rows(transactions, end_day)
    return _no_days(transactions) if rows is None else _merge_days(rows, 0, len(rows.key))


def _by_pieces(transactions: pd.DataFrame, end_day: int, work) -> list:
    """``work(daily)`` on the customer-days up to ``end_day``, split by customer on the cores.

    The rows are encoded and sorted once; with :data:`_PARALLEL_MIN_ROWS` rows or more the
    sorted rows are cut into one range of whole customers per core, and each range is
    merged into customer-days and handed to ``work`` on its own thread (NumPy and Arrow
    release the GIL). Returns ``work``'s results in customer order: a customer's features
    depend on its own rows only, so the pieces concatenated are the table one piece gives.
    """
    rows = _sorted_rows(transactions, end_day)
    if rows is None:
        return [work(_no_days(transactions))]
    n = len(rows.key)
    cores = min(os.cpu_count() or 1, _MAX_PIECES)
    ranges = rows.pieces(cores if n >= _PARALLEL_MIN_ROWS else 1)
    if len(ranges) == 1:
        return [work(_merge_days(rows, 0, n))]
    with ThreadPoolExecutor(max_workers=len(ranges), thread_name_prefix="crmlab-summary") as pool:
        return list(pool.map(lambda r: work(_merge_days(rows, *r)), ranges))


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _features(daily: _Daily, end_day: int) -> pd.DataFrame:
    """Compute the customer features (``SUMMARY_COLUMNS``) of a :class:`_Daily`, in id order."""
    code, d, a, lines = daily.code, daily.day, daily.amount, daily.lines
    n = len(d)
    if n == 0:
        return _empty_summary()
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(code[1:], code[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    del new
    days = np.empty(len(starts), dtype=np.int64)
    np.subtract(starts[1:], starts[:-1], out=days[:-1])
    days[-1] = n - starts[-1]
    first, last = d[starts], d[starts + days - 1]
    span = (last - first).astype(np.float64)
    spend = np.add.reduceat(a, starts)
    freq = days - 1
    # the mean over repeat days is pandas' Kahan mean, as in lifetimes
    repeat_spend = _kahan_segments(a, starts + 1, freq)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(freq > 0, repeat_spend / np.maximum(freq, 1), 0.0)
        gap_mean = np.where(freq > 0, span / np.maximum(freq, 1), np.nan)
    # inter-purchase gaps inside each customer, sample std over >= 2 gaps; the gaps of a
    # customer add up to last - first exactly (whole days), so only squares are summed
    sq = np.empty(n, dtype=np.float64)
    sq[0] = 0.0
    np.subtract(d[1:], d[:-1], out=sq[1:], casting="unsafe")
    sq[starts] = 0.0
    sq *= sq
    g2 = np.add.reduceat(sq, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (g2 - span * span / np.maximum(freq, 1)) / np.maximum(freq - 1, 1)
    gap_std = np.where(freq >= 2, np.sqrt(np.clip(var, 0, None)), np.nan)
    # spend in the last 90 days (reusing the buffer)
    np.copyto(sq, a)
    sq[d <= end_day - 90] = 0.0
    spend90 = np.add.reduceat(sq, starts)
    del sq
    orders = np.add.reduceat(lines, starts)
    # every customer present (the latest date): the codes of the runs are 0..k-1 in order
    ids = daily.ids if len(starts) == len(daily.ids) else daily.ids.take(pa.array(code[starts]))
    # copy=False keeps one block per column: consolidating 14 columns into one 2-D block
    # is a full copy that costs more than all the arithmetic above
    return pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="str"),
            "frequency": freq,
            "recency": span,
            "T": (end_day - first).astype(np.float64),
            "monetary_value": monetary,
            "first_purchase": first.astype("datetime64[D]").astype("datetime64[ns]"),
            "last_purchase": last.astype("datetime64[D]").astype("datetime64[ns]"),
            "purchase_days": days,
            "orders": orders.astype(np.int64, copy=False),
            "total_spend": spend,
            "spend_per_line": spend / np.maximum(orders, 1),
            "days_since_last": (end_day - last).astype(np.float64),
            "gap_mean": gap_mean,
            "gap_std": gap_std,
            "spend_last_90d": spend90,
        },
        copy=False,
    )


def _empty_summary() -> pd.DataFrame:
    i, f = np.array([], dtype=np.int64), np.array([], dtype=np.float64)
    ns = np.array([], dtype="datetime64[ns]")
    cols = {"customer_id": pd.array([], dtype="str")}
    kinds = dict.fromkeys(("frequency", "purchase_days", "orders"), i)
    kinds.update(dict.fromkeys(("first_purchase", "last_purchase"), ns))
    for c in SUMMARY_COLUMNS[1:]:
        cols[c] = kinds.get(c, f)
    return pd.DataFrame(cols)


def _summary_pandas(transactions: pd.DataFrame, observation_end, calibration_end) -> pd.DataFrame:
    obs = _day_number(observation_end)
    cal = None if calibration_end is None else _day_number(calibration_end)
    return _concat(_by_pieces(transactions, obs, partial(_summary_of, obs=obs, cal=cal)))


def _summary_of(daily: _Daily, obs: int, cal: int | None) -> pd.DataFrame:
    """Summarise some customers' days: at ``obs``, or calibration + holdout."""
    if cal is None:
        return _features(daily, obs)
    in_cal = daily.day <= cal
    feats = _features(daily.subset(in_cal), cal)
    feats = feats.rename(columns={c: f"{c}_cal" for c in feats.columns if c != "customer_id"})
    # holdout purchase days and spend of the calibration customers, by customer code
    hold = daily.subset(~in_cal)
    cal_codes = daily.code[in_cal]  # sorted by customer: distinct codes by neighbours
    if len(cal_codes):
        cal_codes = cal_codes[np.concatenate(([True], cal_codes[1:] != cal_codes[:-1]))]
    n_codes = len(daily.ids)
    hold_days = np.bincount(hold.code, minlength=n_codes)
    hold_new = np.ones(len(hold.code), dtype=bool)
    hold_new[1:] = hold.code[1:] != hold.code[:-1]
    hold_starts = np.flatnonzero(hold_new)
    hold_spend = np.zeros(n_codes, dtype=np.float64)
    if len(hold_starts):
        hold_spend[hold.code[hold_starts]] = np.add.reduceat(hold.amount, hold_starts)
    feats["frequency_holdout"] = hold_days[cal_codes].astype(np.int64)
    feats["actual_holdout_value"] = hold_spend[cal_codes]
    feats["duration_holdout"] = float(obs - cal)
    return feats


# --- public -----------------------------------------------------------------------------------


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
    pandas.DataFrame or dask.dataframe.DataFrame
        Columns ``customer_id`` (str), ``day`` (int64 days since 1970-01-01), ``amount``
        (summed; three or more same-day amounts are added in timestamp-then-amount order
        with pandas' compensated summation, so the result does not depend on row order),
        ``lines`` (input rows merged), sorted by customer then day. For a Dask frame the
        result stays on the workers, as a Dask frame whose partitions share no customer
        (each sorted by customer then day): a row per customer and day is as many rows as
        the transactions, so aggregate it per customer there (``map_partitions``,
        ``groupby``) and compute only the per-customer result.

    Raises
    ------
    InputError
        When a required column is missing, ``customer_id`` has missing values, ``date``
        is not a date or ``amount`` is not numeric.
    """
    if _is_dask(transactions):
        _check(transactions)
        meta = daily_purchases(_meta_frame(transactions), end)
        return _by_customer(transactions).map_partitions(
            partial(daily_purchases, end=end), meta=meta, enforce_metadata=False
        )
    _check(transactions)
    daily = _daily(transactions, None if end is None else _day_number(end))
    return pd.DataFrame(
        {
            "customer_id": pd.array(daily.ids.take(pa.array(daily.code)), dtype="str"),
            "day": daily.day,
            "amount": daily.amount,
            "lines": daily.lines,
        }
    )


def customer_summary(transactions, observation_end, calibration_end=None) -> pd.DataFrame:
    """One row per customer with the Buy-Till-You-Die features at ``observation_end``.

    Parameters
    ----------
    transactions : DataFrame (pandas or Dask)
        Clean transactions with columns ``customer_id``, ``date`` (datetime64) and
        ``amount`` (float); rows after ``observation_end`` are ignored. A Dask frame is
        summarised partition by partition (customers must not span partitions: a frame
        indexed by ``customer_id`` or ``customer_bucket`` with known divisions is used as
        it is, anything else is shuffled by ``customer_id`` first); the result is the same
        pandas table, to the last bit, as for the pandas frame.
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
        When a required column is missing, ``customer_id`` has missing values, ``date``
        is not a date, ``amount`` is not numeric, or ``calibration_end`` is not before
        ``observation_end``.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy
    way: An alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.
    """
    if calibration_end is not None and _day_number(calibration_end) >= _day_number(observation_end):
        raise InputError(
            f"calibration_end ({calibration_end}) must be before observation_end ({observation_end})"
        )
    if _is_dask(transactions):
        _check(transactions)
        func = partial(
            _summary_pandas, observation_end=observation_end, calibration_end=calibration_end
        )
        meta = func(_meta_frame(transactions))
        return _dask_apply(transactions, func, meta, ["customer_id"])
    _check(transactions)
    return _summary_pandas(transactions, observation_end, calibration_end)


def customer_summaries(transactions, dates) -> list[pd.DataFrame]:
    """:func:`customer_summary` at several observation dates, grouping the rows once.

    ``[customer_summary(transactions, d) for d in dates]``, the same tables to the last
    bit. On pandas the rows are merged into customer-days once (up to the latest date)
    and each summary takes the customer-days up to its own date: a purchase day is wholly
    before a date or not, so every day total and every feature is the one the rows would
    give. The dates' summaries are computed side by side on the machine's cores (NumPy
    and Arrow release the GIL; each summary is the same pure computation, so the tables
    do not depend on the threads). A Dask frame is summarised once per date.

    Parameters
    ----------
    transactions : DataFrame (pandas or Dask)
        As for :func:`customer_summary`.
    dates : sequence of date-like
        Observation dates, in any order.

    Returns
    -------
    list of pandas.DataFrame
        One customer table per date, in the order of ``dates``.

    Raises
    ------
    InputError
        As :func:`customer_summary`.
    """
    dates = list(dates)
    if _is_dask(transactions) or not dates:
        return [customer_summary(transactions, d) for d in dates]
    _check(transactions)
    days = [_day_number(d) for d in dates]
    latest = max(days)

    def at_each(daily: _Daily) -> list[pd.DataFrame]:
        return [_features(daily if day == latest else daily.subset(daily.day <= day), day)
                for day in days]

    per_piece = _by_pieces(transactions, latest, at_each)
    return [_concat([piece[i] for piece in per_piece]) for i in range(len(days))]


# below this many rows a second thread costs more than it saves
_PARALLEL_MIN_ROWS = 1_000_000
# more pieces than this would only add concatenation
_MAX_PIECES = 8
