"""Exact duplicates: rows whose canonical values and other (non-personal) columns all repeat.

Without an order id two identical lines may be two real orders (CDNOW has 255), so the
policy (``duplicates: quarantine | keep``) is a params choice and the count is reported
either way. The first row (in file order) of a group of copies is kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.cleaning.keys import label_columns, repeated_rows

__all__ = ["duplicate_key", "find_duplicates", "duplicate_rows", "select_rows"]


def duplicate_key(canon: pd.DataFrame, others: pd.DataFrame) -> pd.DataFrame:
    """Columns whose equality is equality of the rows' values as text, without the text.

    Dates and floats are compared by their bits (``str`` of a float64 or a datetime64
    is unique to its value, and so are its bits; missing values all compare equal), so
    no column is converted to text: that conversion cost more than the rest of cleaning.

    Parameters
    ----------
    canon : DataFrame
        The canonical values (``customer_id``, ``date``, ``amount`` ...).
    others : DataFrame
        The other columns of the export, on the same index.

    Returns
    -------
    DataFrame
        One column per input column, on the index of ``canon``.
    """
    key = {}
    for i, col in enumerate(canon.columns):
        values = canon[col]
        if pd.api.types.is_float_dtype(values.dtype) or pd.api.types.is_datetime64_any_dtype(
            values.dtype
        ):
            arr = values.to_numpy()
            bits = arr.view(np.int64).copy()
            bits[pd.isna(arr)] = np.iinfo(np.int64).min
            key[i] = bits
        else:
            key[i] = values.astype(str)
    for j, col in enumerate(others.columns, start=len(key)):
        key[j] = others[col].astype(str)
    return pd.DataFrame(key, index=canon.index)


def find_duplicates(canon: pd.DataFrame, others: pd.DataFrame, candidates: pd.Series | None = None) -> pd.Series:
    """Rows that repeat an earlier candidate row exactly (the first of each group is not marked).

    Parameters
    ----------
    canon, others : DataFrame
        As for :func:`duplicate_key`, in file order.
    candidates : boolean Series, optional
        The rows that passed the row rules; only they are compared (all rows when None).

    Returns
    -------
    boolean Series
        True for a later copy, on the index of ``canon``.
    """
    return pd.Series(duplicate_rows(canon, others, candidates), index=canon.index)


def duplicate_rows(canon: pd.DataFrame, others: pd.DataFrame,
                   candidates: pd.Series | None = None) -> np.ndarray:
    """:func:`find_duplicates` as a boolean array.

    Rows are compared through :mod:`crmlab.cleaning.keys` (short ids as integer words, one
    hash per row, the rows sharing a hash checked value by value; the exact group-by of
    :func:`duplicate_key` decides when two different rows share a hash): 2x faster than
    the group-by at 15M rows.
    """
    keep = np.ones(len(canon), dtype=bool) if candidates is None else candidates.to_numpy(dtype=bool)
    dup = np.zeros(len(canon), dtype=bool)
    if not keep.any():
        return dup
    if not keep.all():
        canon, others = select_rows(canon, keep), select_rows(others, keep)
    labels = [lab for c in canon.columns for lab in label_columns(canon[c])]
    labels += [lab for c in others.columns for lab in label_columns(others[c].astype(str))]
    flags, exact = repeated_rows(labels)
    if not exact:  # two different rows share a 64-bit hash: the exact group-by
        flags = duplicate_key(canon[keep], others[keep]).duplicated(keep="first").to_numpy()
    dup[keep] = flags
    return dup


def select_rows(df: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """Return ``df[mask].reset_index(drop=True)``, Arrow text columns filtered chunk by chunk.

    Pandas selects rows by taking their positions, and Arrow's take on a column in many
    chunks (a Parquet file's row groups) combined the chunks first: 0.15 s per text
    column at 15M rows. A filter works chunk by chunk.
    """
    import pyarrow as pa

    mask = np.asarray(mask, dtype=bool)
    flags = None
    out = {}
    for i in range(df.shape[1]):
        values = df.iloc[:, i]
        dtype = values.dtype
        if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
            flags = pa.array(mask) if flags is None else flags
            arr = values.array.__arrow_array__()
            kept = arr.filter(flags)
            if not isinstance(kept, pa.ChunkedArray):
                kept = pa.chunked_array([kept], type=arr.type)
            out[i] = pd.Series(type(values.array)(kept, dtype=dtype), copy=False)
        else:
            out[i] = values[mask].reset_index(drop=True)
    result = pd.DataFrame(out, copy=False)
    result.columns = df.columns
    return result
