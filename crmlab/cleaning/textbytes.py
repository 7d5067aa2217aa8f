"""Cheap questions about an Arrow text column, answered from its bytes with NumPy.

Pandas' string methods on 15M values each cost a fraction of a second; most of the time
the answer is "no value needs this" (no value starts or ends with white space, none holds
a ``.``, none is short enough to be a missing-value token). The offsets and data buffers of
the Arrow array answer that in one or two vectorised passes, and the callers in
:mod:`crmlab.cleaning.parsing` then skip the string method or run it on the few values
that need it. Every function returns None for a column that is not Arrow-backed text
without missing values: the caller then takes its general path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["text_buffers", "all_ascii", "trimmed", "holds_byte", "byte_lengths"]


def text_buffers(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Return the offsets (``n + 1``, from 0) and UTF-8 bytes of an Arrow text column without nulls."""
    import pyarrow as pa

    from crmlab.features.keys import _arrow_strings

    arr = _arrow_strings(values)
    if arr is None or arr.null_count or len(arr) == 0:
        return None
    wide = pa.types.is_large_string(arr.type)
    if not (wide or pa.types.is_string(arr.type)):
        return None
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64 if wide else np.int32)
    offsets = offsets[arr.offset : arr.offset + len(arr) + 1]
    start, stop = int(offsets[0]), int(offsets[-1])
    buffer = arr.buffers()[2]
    data = (np.frombuffer(buffer, dtype=np.uint8)[start:stop] if buffer is not None and stop > start
            else np.zeros(0, dtype=np.uint8))
    return offsets - offsets[0], data


def all_ascii(values: pd.Series) -> bool | None:
    """Whether every value is ASCII (None: not Arrow text without nulls)."""
    found = text_buffers(values)
    if found is None:
        return None
    data = found[1]
    return not len(data) or int(data.max()) < 0x80


def trimmed(values: pd.Series) -> bool | None:
    """Whether ``values.str.strip()`` would change no value (None: cannot tell cheaply).

    True when no value starts or ends with a byte outside printable ASCII: white space,
    ASCII or Unicode, always starts with such a byte (a control, a space, or >= 0x80).
    """
    found = text_buffers(values)
    if found is None:
        return None
    offsets, data = found
    lengths = np.diff(offsets)
    full = lengths > 0
    if not full.all():
        starts, ends = offsets[:-1][full], offsets[1:][full] - 1
    else:
        starts, ends = offsets[:-1], offsets[1:] - 1
    for edge in (data[starts], data[ends]):
        if len(edge) and (int(edge.min()) <= 0x20 or int(edge.max()) >= 0x7F):
            return False
    return True


def holds_byte(values: pd.Series, char: str) -> bool | None:
    """Whether any value holds the ASCII character ``char`` (None: not Arrow text without nulls)."""
    found = text_buffers(values)
    if found is None:
        return None
    data = found[1]
    return bool(len(data)) and bool((data == ord(char)).any())


def byte_lengths(values: pd.Series) -> np.ndarray | None:
    """UTF-8 byte length of every value (None: not Arrow text without nulls)."""
    found = text_buffers(values)
    return None if found is None else np.diff(found[0])
