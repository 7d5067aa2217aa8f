"""Transactions as integer keys: customer ids, dates and amounts encoded for one fast sort.

Customer ids become integer codes that follow the id order (neighbour comparison when the
ids are already sorted, integer words for ids up to 32 bytes, else Arrow's hash table over
the distinct ids); dates become day numbers; ``code * span + day`` is then one int64 key,
sorted once (:func:`_sort_with_order`). See :mod:`crmlab.features` for why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crmlab.errors import InputError

_EPOCH = np.datetime64("1970-01-01", "D")


def _day_number(ts) -> int:
    """Days since 1970-01-01 of a date-like value."""
    return int((pd.Timestamp(ts).to_datetime64().astype("datetime64[D]") - _EPOCH).astype(np.int64))


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


def _sort_with_order(key: np.ndarray, bound: int) -> np.ndarray:
    """Sort ``key`` (non-negative int64, below ``bound``) in place; return the permutation.

    When the row number fits in the bits the key leaves free, key and row number are
    packed into one int64 and sorted by value, which is several times faster than
    ``argsort`` (no index array is carried through the sort); ties come out in row order.
    """
    n = len(key)
    bits = max(int(n - 1).bit_length(), 1)
    if bound > 0 and (bound - 1).bit_length() + bits <= 62:
        # packed in place in ``key``; the row numbers' buffer is reused for the order (two
        # fewer arrays of n: fresh memory costs page faults, on a VM more than the sort)
        order = np.arange(n, dtype=np.int64)
        np.left_shift(key, bits, out=key)
        key |= order
        key.sort()
        np.bitwise_and(key, (1 << bits) - 1, out=order)
        np.right_shift(key, bits, out=key)
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
    buffer = arr.buffers()[2]  # None when every value is empty
    data = (np.frombuffer(buffer, dtype=np.uint8)[offsets[0] : offsets[-1]] if buffer is not None
            else np.zeros(0, dtype=np.uint8))
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
