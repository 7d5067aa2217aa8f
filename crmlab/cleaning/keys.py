"""Row keys without hashing strings: short texts as integer words, rows as one 64-bit hash.

Hashing millions of string ids (``pd.factorize``, Arrow's ``dictionary_encode``) cost 5 s
per pass at 15M rows, and cleaning needed three passes (duplicates, the customer count,
customers per month). An id of at most 32 UTF-8 bytes without a zero byte is instead read
as up to four unsigned 64-bit words straight from Arrow's buffers: two ids are equal
exactly when their words are. Rows are then mixed into one 64-bit hash; every user of the
hash checks the rows it groups on the words themselves, so a collision can never merge two
different rows (the callers fall back to the exact slow path).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.features.keys import _id_words

__all__ = ["text_words", "label_columns", "row_hash", "repeated_rows", "id_codes", "distinct_count"]


def text_words(values: pd.Series) -> list[np.ndarray] | None:
    """Read an Arrow-backed text column as word columns (uint64 viewed as int64), plus nulls.

    Returns None when the column is not Arrow-backed text, a value is longer than 32
    bytes, or a value holds a zero byte (then zero padding would be ambiguous).
    """
    import pyarrow as pa

    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        return None
    arr = pa.array(values.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    words = _id_words(arr)  # the customer-feature key reader: the same words, one place
    if words is None:
        return None
    cols = [np.ascontiguousarray(words[:, j]).view(np.int64) for j in range(words.shape[1])]
    if arr.null_count:
        null = arr.is_null().to_numpy(zero_copy_only=False).astype(np.int64)
        for c in cols:
            c[null == 1] = 0
        cols.append(null)
    return cols


def label_columns(values: pd.Series) -> list[np.ndarray]:
    """Integer columns equal, row for row, exactly when the values are.

    Floats and dates by their bits (missing values all equal), short Arrow texts by their
    words (:func:`text_words`), any other column by ``pd.factorize`` of its text.
    """
    if pd.api.types.is_float_dtype(values.dtype) or pd.api.types.is_datetime64_any_dtype(values.dtype):
        arr = values.to_numpy()
        bits = arr.view(np.int64).copy()
        bits[pd.isna(arr)] = np.iinfo(np.int64).min
        return [bits]
    text = values.astype(str)
    words = text_words(text)
    if words is not None:
        return words
    codes, _ = pd.factorize(text)  # missing values: one label, -1
    return [codes.astype(np.int64, copy=False)]


def row_hash(columns: list[np.ndarray]) -> np.ndarray:
    """One 64-bit hash per row of integer columns (multiply-xor per column, then splitmix64).

    In-place operations only: each column costs a few passes over memory.
    """
    n = len(columns[0]) if columns else 0
    h = np.full(n, 0x2545F4914F6CDD1D, dtype=np.uint64)
    x = np.empty(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in columns:
            np.multiply(col.view(np.uint64), np.uint64(0x9E3779B97F4A7C15), out=x)
            h ^= x
            h *= np.uint64(0xBF58476D1CE4E5B9)
            np.right_shift(h, np.uint64(29), out=x)
            h ^= x
        np.right_shift(h, np.uint64(30), out=x)
        h ^= x
        h *= np.uint64(0xBF58476D1CE4E5B9)
        np.right_shift(h, np.uint64(27), out=x)
        h ^= x
        h *= np.uint64(0x94D049BB133111EB)
        np.right_shift(h, np.uint64(31), out=x)
        h ^= x
    return h.view(np.int64)


def repeated_rows(columns: list[np.ndarray]) -> tuple[np.ndarray, bool]:
    """Rows equal to an earlier row on every column (``DataFrame.duplicated(keep="first")``).

    Returns ``(flags, exact)``. Rows are sorted by :func:`row_hash`; only the few rows
    whose hash is shared are then looked at (grouped, checked value by value). ``exact``
    is False when two different rows share a hash: the caller then groups exactly.
    """
    n = len(columns[0]) if columns else 0
    dup = np.zeros(n, dtype=bool)
    if n < 2:
        return dup, True
    h = row_hash(columns)
    # the hashes alone are sorted (several times cheaper than an argsort) to find the
    # shared ones; a hash look-up then finds their rows, in row order
    hs = np.sort(h)
    same = hs[1:] == hs[:-1]  # position i+1 shares the hash of position i
    if not same.any():
        return dup, True
    rows = np.flatnonzero(pd.Series(h, copy=False).isin(hs[1:][same]).to_numpy())
    del hs
    # within the shared rows: sort by (hash, row), so each group's first row leads it
    hv = h[rows]
    sub = np.argsort(hv, kind="stable")  # rows ascend, so ties keep row order
    rows, hv = rows[sub], hv[sub]
    lead = np.ones(len(rows), dtype=bool)
    lead[1:] = hv[1:] != hv[:-1]
    first = rows[np.maximum.accumulate(np.where(lead, np.arange(len(rows)), 0))]
    exact = all(bool((c[rows] == c[first]).all()) for c in columns)
    dup[rows[~lead]] = True
    return dup, exact


def id_codes(values: pd.Series, span: int = 1) -> tuple[np.ndarray, int] | None:
    """Integer codes of a text column, equal exactly when the texts are, and their bound.

    Short Arrow texts are read as integer words (:func:`text_words`) and the words ranked
    (:func:`crmlab.features.keys._word_codes`): no string is hashed. The codes are not
    dense; ``code * span`` stays below 2**62. Returns None when the column holds a missing
    value or cannot be read as words (the caller then hashes the strings).
    """
    from crmlab.features.keys import _arrow_strings, _word_codes

    arr = _arrow_strings(values)
    if arr is None or arr.null_count or len(arr) == 0:
        return None
    words = _id_words(arr)
    if words is None:
        return None
    return _word_codes(words, max(int(span), 1))


# a table of seen codes (one byte per possible code) is used while it is at most this many
# bytes or a few bytes per row; otherwise the codes are sorted
_SEEN_TABLE_BYTES = 1 << 26


def distinct_count(values: pd.Series) -> int:
    """``values.nunique()`` of a text column, without hashing its strings when they are short."""
    found = id_codes(values)
    if found is None:
        return int(values.nunique())
    codes, bound = found
    if bound <= max(_SEEN_TABLE_BYTES, 4 * len(codes)):
        seen = np.zeros(bound, dtype=bool)
        seen[codes] = True
        return int(np.count_nonzero(seen))
    codes = np.sort(codes)
    return int(np.count_nonzero(codes[1:] != codes[:-1])) + 1
