"""Big tables as CSV without a Python object per cell (:func:`crmlab.io.save_table`'s fast path).

The bytes are those the general path (formula neutralising, then ``DataFrame.to_csv``)
writes; ``tests/test_context.py`` compares the two.
"""

from __future__ import annotations

from typing import Any

__all__ = ["csv_bytes", "FAST_CSV_ROWS"]

FAST_CSV_ROWS = 20_000  # smaller tables go through pandas (nothing to gain)
_CSV_SPECIAL = (",", '"', "\r", "\n")  # a cell holding one of these is quoted by the csv module


def csv_bytes(table: Any, index: bool, min_rows: int = FAST_CSV_ROWS) -> tuple[bytes, Any] | None:
    """Return the CSV :func:`crmlab.io.save_table` writes for ``table`` (header, body), or None.

    ``save_table`` neutralises formulas (a Python call per text cell) and has pandas format
    every float (one repr per cell) and the csv module join the cells. Here a float column
    is formatted once per distinct value (by bit pattern: ``-0.0`` is not ``0.0``), with the
    same ``numpy`` text pandas uses, integers and texts are joined into lines by Arrow, and
    only the cells that start like a formula go through
    :func:`crmlab.safety.neutralise_formulas`' rule. Anything else -- an index to write, a
    column of another type, a cell the csv module would quote, a table of fewer than
    ``min_rows`` rows -- returns None, and the caller writes it the general way.
    The body is an Arrow buffer of the lines one after the other.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    from crmlab.safety import neutralise_formulas

    if (index or not isinstance(table, pd.DataFrame) or len(table) < max(min_rows, 1)
            or table.shape[1] < 2 or isinstance(table.columns, pd.MultiIndex)):
        return None
    labels = list(neutralise_formulas(table.iloc[:0]).columns)
    if not all(isinstance(c, str) and not any(s in c for s in _CSV_SPECIAL) for c in labels):
        return None
    cells = []
    for col in range(table.shape[1]):
        text = _csv_cells(table.iloc[:, col])
        if text is None:
            return None
        cells.append(text)
    crlf = pa.scalar("\r\n", type=pa.large_string())
    comma, none = pa.scalar(",", type=pa.large_string()), pa.scalar("", type=pa.large_string())
    lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*cells, comma), crlf, none)
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    first, end = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    body = lines.buffers()[2][first:end]  # the lines one after the other
    return (",".join(labels) + "\r\n").encode("utf-8"), body


def _csv_cells(s: Any) -> Any:
    """Return the column's cells as pandas writes them (large_string, no null), or None."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    from crmlab.safety import FORMULA_START, neutralise_formulas

    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype == np.float64:
        v = s.to_numpy()
        nan = np.isnan(v)
        bits = v.view(np.int64)
        uniq, inv = np.unique(bits[~nan], return_inverse=True)
        text = np.full(len(v), -1, dtype=np.int64)
        text[~nan] = inv
        names = pa.array(list(uniq.view(np.float64).astype(str)) + [""], type=pa.large_string())
        return names.take(pa.array(text % (len(uniq) + 1)))
    if isinstance(dtype, np.dtype) and dtype == np.int64:
        return pc.cast(pa.array(s.to_numpy()), pa.large_string())
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        arr = pa.array(s.array)
    elif (isinstance(dtype, np.dtype) and dtype.kind == "O"
          and pd.api.types.infer_dtype(s, skipna=True) == "string"):  # text or missing
        try:
            arr = pa.array(s.to_numpy(), type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
    else:
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string()).fill_null("")
    # the bytes of the cells: an ASCII byte in UTF-8 is always that character
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    buf = arr.buffers()[2]
    data = np.frombuffer(buf, dtype=np.uint8)[offsets[0]: offsets[-1]] if buf else np.zeros(0, np.uint8)
    offsets = offsets - offsets[0]
    if _byte_table(_CSV_SPECIAL)[data].any():
        return None
    first = np.zeros(len(arr), dtype=np.uint8)  # each cell's first byte (0 when empty)
    filled = offsets[1:] > offsets[:-1]
    first[filled] = data[offsets[:-1][filled]]
    formula = _byte_table(FORMULA_START)[first]
    risky = np.flatnonzero(formula)
    if len(risky):  # the few cells that look like formulas: neutralise_formulas' own rule
        fixed = neutralise_formulas(pd.DataFrame({"c": arr.take(risky).to_pylist()}, dtype=object))
        slot = np.zeros(len(arr), dtype=np.int64)
        slot[risky] = np.arange(len(risky))
        fixed = pa.array(fixed["c"].tolist(), type=pa.large_string()).take(pa.array(slot))
        arr = pc.if_else(pa.array(formula), fixed, arr)
    return arr


def _byte_table(chars) -> Any:
    """Return a 256-entry boolean table, True at the (ASCII) characters ``chars``."""
    import numpy as np

    table = np.zeros(256, dtype=bool)
    table[[ord(c) for c in chars]] = True
    return table
