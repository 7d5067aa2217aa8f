"""Exact duplicates: rows whose canonical values and other (non-personal) columns all repeat.

Without an order id two identical lines may be two real orders (CDNOW has 255), so the
policy (``duplicates: quarantine | keep``) is a params choice and the count is reported
either way. The first row (in file order) of a group of copies is kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["duplicate_key", "find_duplicates"]


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
    key = duplicate_key(canon, others)
    if candidates is None:
        return key.duplicated(keep="first")
    dup = pd.Series(False, index=canon.index)
    dup[candidates] = key[candidates].duplicated(keep="first")
    return dup
