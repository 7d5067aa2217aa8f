"""Transactions -> one row per customer: the Buy-Till-You-Die summary and friends.

Definitions (SPEC.md), in days, over *distinct purchase days* (purchases on the same day
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
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
    "spend_per_line",
    "days_since_last",
    "gap_mean",
    "gap_std",
    "spend_last_90d",
]

_REQUIRED = ("customer_id", "date", "amount")
_EPOCH = np.datetime64("1970-01-01", "D")
# index names that tell a Dask frame's partitions hold disjoint sets of customers
_DISJOINT_INDEX = ("customer_id", "customer_bucket")


def _check(transactions, cols=_REQUIRED) -> None:
    names = set(transactions.columns)
    if _is_dask(transactions) and transactions.index.name == "customer_id":
        names.add("customer_id")  # a Dask frame may carry the id as its (sorted) index
    missing = [c for c in cols if c not in names]
    if missing:
        raise InputError(f"transactions: required column {missing[0]!r} missing")


def _is_dask(df) -> bool:
    return type(df).__module__.startswith("dask")


def _day_number(ts) -> int:
    """Days since 1970-01-01 of a date-like value."""
    return int((pd.Timestamp(ts).to_datetime64().astype("datetime64[D]") - _EPOCH).astype(np.int64))


# --- encoding ------------------------------------------------------------------------------


def _arrow_strings(ids: pd.Series) -> pa.Array | None:
    """Return the Arrow array behind an Arrow-backed string column, else None."""
    dtype = ids.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    arr = ids.array.__arrow_array__()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr


def _sorted_runs(arr: pa.Array) -> tuple[np.ndarray, pa.Array] | None:
    """Codes and distinct ids of an id column that is already sorted, else None.

    Exports are often ordered by customer; then comparing neighbours (two vectorised
    passes) replaces hashing every id and sorting the distinct ones. A small head is
    checked first so an unsorted column costs next to nothing.
    """
    n = len(arr)
    if n < 2:
        return None
    for stop in (min(n, 4096), n):
        if pc.any(pc.less(arr.slice(1, stop - 1), arr.slice(0, stop - 1))).as_py():
            return None
    change = pc.not_equal(arr.slice(1), arr.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    codes = np.zeros(n, dtype=np.int64)
    np.cumsum(change, out=codes[1:])
    heads = np.concatenate(([0], np.flatnonzero(change) + 1))
    return codes, arr.take(pa.array(heads))


def _encode_customers(ids: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """Integer codes that follow the string order of the ids, and the sorted distinct ids.

    Hashing the column once and sorting only the distinct ids is much cheaper than sorting
    the rows by a string key; Arrow-backed columns (pandas 3's ``str``) are encoded by
    Arrow without creating a Python object per row.
    """
    arr = _arrow_strings(ids)
    if arr is not None:
        if arr.null_count:
            raise InputError(
                f"transactions: column 'customer_id' has {arr.null_count} missing values"
            )
        runs = _sorted_runs(arr)
        if runs is not None:
            return runs
        enc = pc.dictionary_encode(arr)
        codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        uniques = enc.dictionary
    else:
        codes, found = pd.factorize(ids, sort=False)
        if (codes < 0).any():
            raise InputError(
                f"transactions: column 'customer_id' has {(codes < 0).sum()} missing values"
            )
        # ids are compared as text (42 and "42" are one customer), as the output column is
        as_text = pd.Index(np.asarray(found, dtype=object).astype(str), dtype=object)
        if not as_text.is_unique:
            merged, as_text = pd.factorize(as_text)
            codes = merged[codes]
        uniques = pa.array(np.asarray(as_text, dtype=object), type=pa.large_string())
    order = pc.sort_indices(uniques).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return rank[codes], uniques.take(pa.array(order))


def _instants(dates: pd.Series) -> np.ndarray:
    """Return ``date`` as naive datetime64 (wall-clock time if it carried a time zone)."""
    if not pd.api.types.is_datetime64_any_dtype(dates.dtype):
        try:
            dates = pd.to_datetime(dates)
        except (ValueError, TypeError) as exc:
            raise InputError(f"transactions: column 'date' is not a date ({exc})") from None
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    values = dates.to_numpy()
    missing = int(np.isnat(values).sum())
    if missing:
        raise InputError(f"transactions: column 'date' has {missing} missing values")
    return values


def _day_numbers(instants: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 (int64, floor) of datetime64 values, without a datetime copy."""
    unit, count = np.datetime_data(instants.dtype)
    if unit not in ("D", "h", "m", "s", "ms", "us", "ns"):
        instants = instants.astype("datetime64[D]")
        unit, count = "D", 1
    per_day = int(np.timedelta64(1, "D") // np.timedelta64(count, unit))
    return instants.view(np.int64) // per_day


def _amounts(amount: pd.Series) -> np.ndarray:
    try:
        return amount.to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise InputError(f"transactions: column 'amount' is not numeric ({exc})") from None


# --- compensated sums ------------------------------------------------------------------------


def _kahan_segments(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Sum each segment ``values[start : start + length]`` in order, as pandas' group-by does.

    pandas' Cython group-by kernels (``sum``, ``mean``; the path taken when groups are not
    sorted or hold a NaN) use Kahan's compensated summation. This reproduces it bit for
    bit, vectorised over segments: step ``j`` adds the ``j``-th value
    of every segment at least ``j + 1`` long (segments sorted longest first, so the active
    ones are a prefix). Work is proportional to the number of values; the loop runs once per
    position of the longest segment.
    """
    total = np.zeros(len(starts), dtype=np.float64)
    if len(starts) == 0:
        return total
    # one or two values: the compensated sum is the plain sum (0 + a, then a + b exactly
    # as rounded), so only segments of three or more run the loop below
    one = lengths >= 1
    total[one] = 0.0 + values[starts[one]]  # 0 + (-0.0) is +0.0, as in the loop
    two = lengths == 2
    total[two] += values[starts[two] + 1]
    long_ = np.flatnonzero(lengths >= 3)
    if len(long_) == 0:
        return total
    total[long_] = _kahan_long(values, starts[long_], lengths[long_])
    return total


def _kahan_long(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Run the compensated loop of :func:`_kahan_segments` on segments of any length."""
    total = np.zeros(len(starts), dtype=np.float64)
    order = np.argsort(-lengths, kind="stable")
    seg_start = starts[order]
    seg_len = lengths[order]
    s = np.zeros(len(order), dtype=np.float64)
    comp = np.zeros(len(order), dtype=np.float64)
    neg_len = -seg_len
    for j in range(int(seg_len[0])):
        m = int(np.searchsorted(neg_len, -j, side="left"))  # segments longer than j
        y = values[seg_start[:m] + j] - comp[:m]
        t = s[:m] + y
        c = (t - s[:m]) - y
        c[np.isnan(c)] = 0.0  # pandas resets the compensation after inf - inf
        comp[:m] = c
        s[:m] = t
    total[order] = s
    return total


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


def _daily(transactions: pd.DataFrame, end_day: int | None) -> _Daily:
    """Merge same-day purchases of a pandas frame (the fast path, see the module docstring)."""
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
    n = len(day)
    if n == 0:
        empty_i = np.array([], dtype=np.int64)
        empty_ids = uniques[:0] if words is None else pa.array([], type=pa.large_string())
        return _Daily(empty_i, empty_i, np.array([], dtype=np.float64), empty_i, empty_ids)
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
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(key[1:], key[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    del new
    lines = np.empty(len(starts), dtype=np.int64)
    np.subtract(starts[1:], starts[:-1], out=lines[:-1])
    lines[-1] = n - starts[-1]
    a = amount[order]
    total = np.add.reduceat(a, starts)
    # one or two amounts sum to the same float in any order; three or more are added in
    # lifetimes' order (timestamp, then amount), whatever order the rows came in
    busy = np.flatnonzero(lines >= 3)
    if len(busy):
        rows = _segment_rows(starts[busy], lines[busy])
        group = np.repeat(np.arange(len(busy)), lines[busy])
        stamps = instants[order[rows]].view(np.int64)
        ordered = a[rows[np.lexsort((a[rows], stamps, group))]]
        total[busy] = np.add.reduceat(ordered, np.cumsum(lines[busy]) - lines[busy])
    del a
    cust, day = np.divmod(key[starts], span)
    del key
    day += d0
    if arr is not None:
        # codes so far follow the id order but have gaps: make them 0..k-1 and take each
        # customer's id from one of its rows (no string is hashed or sorted)
        first = np.empty(len(cust), dtype=bool)
        first[0] = True
        np.not_equal(cust[1:], cust[:-1], out=first[1:])
        heads = order[starts[np.flatnonzero(first)]]
        uniques = arr.take(pa.array(heads if kept is None else kept[heads]))
        np.cumsum(first, out=cust)
        cust -= 1
    return _Daily(cust, day, total, lines, uniques)


def _sort_with_order(key: np.ndarray, bound: int) -> np.ndarray:
    """Sort ``key`` (non-negative int64, below ``bound``) in place; return the permutation.

    When the row number fits in the bits the key leaves free, key and row number are
    packed into one int64 and sorted by value, which is several times faster than
    ``argsort`` (no index array is carried through the sort); ties come out in row order.
    """
    n = len(key)
    bits = max(int(n - 1).bit_length(), 1)
    if bound > 0 and (bound - 1).bit_length() + bits <= 62:
        packed = key << bits
        packed |= np.arange(n, dtype=np.int64)
        packed.sort()
        order = packed & ((1 << bits) - 1)
        np.right_shift(packed, bits, out=key)
        return order
    order = np.argsort(key, kind="stable")
    key[:] = key[order]
    return order


_MAX_ID_WORDS = 4  # ids up to 32 bytes are encoded as integers, longer ones hashed


def _id_words(arr: pa.Array | None) -> np.ndarray | None:
    """Return string ids as rows of uint64 words that sort like the strings once byte-swapped.

    Each id's UTF-8 bytes are zero-padded to a multiple of 8 and read as unsigned 64-bit
    integers (native byte order: the caller byte-swaps only the distinct words, so that
    the first byte is the most significant); comparing the words then compares the bytes —
    Arrow's (and lifetimes') string order. Padding with zero bytes only preserves that order
    when no id contains a zero byte; such ids, ids longer than 32 bytes and columns that
    are not Arrow strings (``arr`` None) return None: the caller then hashes the strings.
    """
    if arr is None or len(arr) == 0:
        return None
    wide = pa.types.is_large_string(arr.type)
    if not (wide or pa.types.is_string(arr.type)):
        return None
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64 if wide else np.int32)
    offsets = offsets[arr.offset : arr.offset + n + 1].astype(np.int64, copy=False)
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    lengths = np.diff(offsets)
    width = int(lengths.max())
    n_words = max((width + 7) // 8, 1)
    if n_words > _MAX_ID_WORDS or (len(data) and not data.all()):
        return None
    padded = np.zeros((n, n_words * 8), dtype=np.uint8)
    if int(lengths.min()) == width:
        padded[:, :width] = data.reshape(n, width)
    else:
        row = np.repeat(np.arange(n, dtype=np.int64), lengths)
        col = np.arange(len(data), dtype=np.int64) - np.repeat(offsets[:-1] - offsets[0], lengths)
        padded[row, col] = data
    # native-endian words: hashing does not care about byte order, and only the distinct
    # words are byte-swapped for ranking (see _word_codes)
    return padded.view(np.uint64)


def _word_codes(words: np.ndarray, span: int) -> tuple[np.ndarray, int]:
    """Integer codes that follow the order of ``words`` rows (not dense), and their bound.

    Each word column is ranked among its distinct values (hashed, then only the distinct
    values sorted) and the ranks are combined as digits of a mixed-radix number. When
    the number would overflow the key later built from it, the codes are made dense by
    sorting them (slower, still exact).
    """
    code = None
    bound = 1
    big_endian_native = np.little_endian is False
    for j in range(words.shape[1]):
        col = np.ascontiguousarray(words[:, j])
        enc = pa.array(col).dictionary_encode()
        distinct = enc.dictionary.to_numpy()
        if not big_endian_native:
            distinct = distinct.byteswap()  # most significant byte first: string order
        rank = np.empty(len(distinct), dtype=np.int64)
        rank[np.argsort(distinct)] = np.arange(len(distinct), dtype=np.int64)
        digit = rank[enc.indices.to_numpy()]
        if code is None:
            code, bound = digit, len(distinct)
            continue
        if (bound * len(distinct) * max(span, 1)).bit_length() > 62:
            code, bound = _dense(code)
        code *= len(distinct)
        code += digit
        bound *= len(distinct)
    if (bound * max(span, 1)).bit_length() > 62:
        code, bound = _dense(code)
    return code, bound


def _dense(code: np.ndarray) -> tuple[np.ndarray, int]:
    """Renumber codes 0..k-1 in their order (a sort: NumPy 2's hash ``unique`` is slower)."""
    order = np.argsort(code, kind="stable")
    s = code[order]
    new = np.empty(len(s), dtype=bool)
    new[:1] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    dense = np.empty(len(code), dtype=np.int64)
    dense[order] = np.cumsum(new) - 1
    return dense, int(new.sum())


def _segment_rows(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenate the indices ``start .. start+length-1`` of every segment."""
    total = int(lengths.sum())
    offsets = np.cumsum(lengths) - lengths
    return np.arange(total) - np.repeat(offsets - starts, lengths)


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
    ids = daily.ids.take(pa.array(code[starts]))
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
    daily = _daily(transactions, obs)
    if calibration_end is None:
        return _features(daily, obs)
    cal = _day_number(calibration_end)
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


# --- Dask -------------------------------------------------------------------------------------


def _customer_disjoint(ddf) -> bool:
    """Tell whether Dask can promise that no customer spans two partitions."""
    if ddf.npartitions == 1:
        return True
    return ddf.known_divisions and ddf.index.name in _DISJOINT_INDEX


def _by_customer(ddf):
    """Return the Dask frame with each customer's rows in a single partition."""
    disjoint = _customer_disjoint(ddf)
    if "customer_id" not in ddf.columns:  # the id is the index
        ddf = ddf.reset_index()
    ddf = ddf[list(_REQUIRED)]
    # hash partitioning on the id puts every row of a customer in the same partition
    return ddf if disjoint else ddf.shuffle(on="customer_id")


def _dask_apply(ddf, func, meta: pd.DataFrame, sort_by: list[str]) -> pd.DataFrame:
    parts = _by_customer(ddf).map_partitions(func, meta=meta, enforce_metadata=False)
    frames = _gather(parts.to_delayed())
    return _concat_sorted(frames, meta, sort_by)


def _gather(delayed: list) -> list[pd.DataFrame]:
    """Compute partitions, fetching each result as soon as it is ready.

    With a distributed client every result is released on its worker once it is here,
    so the customer table exists once, not in the workers and the client at the same time.
    """
    try:
        from distributed import as_completed, default_client

        client = default_client()
    except (ImportError, ValueError):  # no distributed client: Dask's local scheduler
        import dask

        return list(dask.compute(*delayed))
    frames = []
    for future in as_completed(client.compute(delayed)):
        frames.append(future.result())
        future.release()
    return frames


def _concat_sorted(frames: list[pd.DataFrame], meta: pd.DataFrame, sort_by: list[str]
                   ) -> pd.DataFrame:
    """Stack per-partition results in ``sort_by`` order, one column at a time.

    Columns are gathered and freed one by one, so the peak is the table plus one column,
    rather than the three copies of ``concat`` followed by ``sort_values``.
    """
    frames = [f for f in frames if len(f)]
    if not frames:
        return meta.iloc[:0].reset_index(drop=True)
    keys = pa.table(
        {c: pa.chunked_array([_arrow(f[c]) for f in frames]) for c in sort_by}
    )
    order = pc.sort_indices(keys, sort_keys=[(c, "ascending") for c in sort_by])
    del keys
    order_np = order.to_numpy()
    columns = {}
    for col in meta.columns:
        if col == "customer_id":
            ids = pa.chunked_array([_arrow(f[col]) for f in frames]).take(order)
            columns[col] = pd.array(ids.combine_chunks(), dtype="str")
        else:
            columns[col] = np.concatenate([f[col].to_numpy() for f in frames])[order_np]
        for f in frames:
            del f[col]
        _trim_heap()
    return pd.DataFrame(columns, copy=False)


def _trim_heap() -> None:
    """Hand freed heap memory back to the operating system (glibc only; else a no-op).

    Partition results are many arrays of a few MB; glibc keeps their memory after they are
    freed, so without this the process would hold the partitions *and* the stacked table
    (see "memory not released back to the OS" in the Dask worker-memory docs).
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _arrow(values: pd.Series) -> pa.Array | pa.ChunkedArray:
    arr = _arrow_strings(values)
    return arr if arr is not None else pa.array(values.to_numpy())


def _meta_frame(ddf) -> pd.DataFrame:
    meta = ddf._meta
    if "customer_id" not in meta.columns:
        meta = meta.reset_index()
    return meta[list(_REQUIRED)]


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
