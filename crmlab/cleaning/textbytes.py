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

__all__ = ["arrow_chunks", "one_chunk", "text_buffers", "all_ascii", "trimmed", "byte_set", "holds_byte", "short_values"]


def arrow_chunks(values: pd.Series) -> list | None:
    """Return the chunks (Arrow string arrays) of an Arrow text column, else None.

    A Parquet file is read as one chunk per row group; looking at each chunk's buffers
    avoids combining them (a copy of the column).
    """
    import pyarrow as pa

    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        return None
    arr = values.array.__arrow_array__()
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    if not all(pa.types.is_large_string(c.type) or pa.types.is_string(c.type) for c in chunks):
        return None
    return chunks


def one_chunk(values: pd.Series) -> pd.Series:
    """Return an Arrow text column in one chunk (the same values, dtype and index), else ``values``.

    For a column that several later steps read as one array (the customer ids: duplicate
    words, the customer count, buyers per month), combining its chunks once is cheaper
    than each step combining them again.
    """
    import pyarrow as pa

    chunks = arrow_chunks(values)
    if chunks is None or len(chunks) < 2:
        return values
    arr = values.array.__arrow_array__()
    one = type(values.array)(pa.chunked_array([arr.combine_chunks()], type=arr.type), dtype=values.dtype)
    return pd.Series(one, index=values.index, name=values.name, copy=False)


def text_buffers(values: pd.Series) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Return each chunk's offsets (``n + 1``) and UTF-8 bytes, for Arrow text without nulls.

    Both are views of Arrow's buffers (value ``i`` of a chunk is
    ``data[offsets[i]:offsets[i + 1]]``). None for any other column.
    """
    import pyarrow as pa

    chunks = arrow_chunks(values)
    if chunks is None or any(c.null_count for c in chunks):
        return None
    out = []
    for arr in chunks:
        wide = pa.types.is_large_string(arr.type)
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64 if wide else np.int32)
        offsets = offsets[arr.offset : arr.offset + len(arr) + 1]
        buffer = arr.buffers()[2] if len(arr) else None
        data = np.frombuffer(buffer, dtype=np.uint8) if buffer is not None else np.zeros(0, dtype=np.uint8)
        out.append((offsets, data[: int(offsets[-1])] if len(offsets) else data[:0]))
    return out


def all_ascii(values: pd.Series) -> bool | None:
    """Whether every value is ASCII (None: not Arrow text without nulls)."""
    found = text_buffers(values)
    if found is None:
        return None
    return all(not len(data) or int(data.max()) < 0x80 for _, data in found)


def trimmed(values: pd.Series) -> bool | None:
    """Whether ``values.str.strip()`` would change no value (None: cannot tell cheaply).

    True when no value starts or ends with a byte outside printable ASCII: white space,
    ASCII or Unicode, always starts with such a byte (a control, a space, or >= 0x80).
    """
    found = text_buffers(values)
    if found is None:
        return None
    for offsets, data in found:
        if len(offsets) < 2:
            continue
        starts, ends = offsets[:-1], offsets[1:]
        full = ends > starts
        if not full.all():
            starts, ends = starts[full], ends[full]
        for edge in (data[starts], data[ends - 1]):
            if len(edge) and (int(edge.min()) <= 0x20 or int(edge.max()) >= 0x7F):
                return False
    return True


def byte_set(values: pd.Series) -> str | None:
    """Say ``"digits"`` when every byte is an ASCII digit, ``"digits."`` when digits and ``.``.

    Returns ``"other"`` for any other bytes and None for a column that is not Arrow text
    without nulls.
    """
    found = text_buffers(values)
    if found is None:
        return None
    lo, hi, slash = 255, 0, False
    for offsets, data in found:
        part = data[offsets[0]:]
        if len(part):
            lo, hi = min(lo, int(part.min())), max(hi, int(part.max()))
            if lo <= ord("/") and not slash:
                slash = bool((part == ord("/")).any())
    if lo > hi or (lo >= ord("0") and hi <= ord("9")):
        return "digits"
    if lo >= ord(".") and hi <= ord("9") and not slash:
        return "digits."
    return "other"


def holds_byte(values: pd.Series, char: str) -> bool | None:
    """Whether any value holds the ASCII character ``char`` (None: not Arrow text without nulls)."""
    found = text_buffers(values)
    if found is None:
        return None
    return any(bool(len(data)) and bool((data[offsets[0]:] == ord(char)).any()) for offsets, data in found)


def short_values(values: pd.Series, max_bytes: int, first: np.ndarray) -> np.ndarray | None:
    """Rows of at most ``max_bytes`` bytes, empty or starting with a byte ``b`` where ``first[b]``.

    None for a column that is not Arrow text without nulls.
    """
    found = text_buffers(values)
    if found is None:
        return None
    parts = []
    for offsets, data in found:
        lengths = offsets[1:] - offsets[:-1]
        short = lengths <= max_bytes
        full = short & (lengths > 0)
        short[full] = first[data[offsets[:-1][full]]]
        parts.append(short)
    return np.concatenate(parts) if len(parts) != 1 else parts[0]
