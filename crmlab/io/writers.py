"""Writing products, figures and tables: every write is atomic.

A product is written to a temporary file beside its target and moved into place, so a
crash never leaves half a file under the name a later stage or a dashboard reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "file_sha256", "write_parquet", "write_parquet_in_background", "write_json", "write_text", "read_json", "save_figure",
    "save_table",
]


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file (or of every file below a folder, in sorted order)."""
    path = Path(path)
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        with f.open("rb") as fh:
            while block := fh.read(chunk):
                h.update(block)
    return h.hexdigest()


def _atomic_write(target: str | Path, write: Callable[[Path], None]) -> Path:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        # mkstemp creates the file private (0600); products and reports are meant to be read
        # by the team on a shared server, like any file the user writes (rw-r--r--)
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return target


def write_parquet(df: pd.DataFrame, target: str | Path) -> Path:
    """Write a DataFrame to Parquet (pyarrow) atomically, without the index."""
    return _atomic_write(target, lambda p: df.to_parquet(p, index=False, engine="pyarrow"))


def write_parquet_in_background(df: pd.DataFrame, target: str | Path) -> Future:
    """Start :func:`write_parquet` on a thread of its own; return its future.

    For a product that is complete while the notebook still has other work to show:
    Arrow encodes and writes it on a second core (without the GIL) meanwhile. Call
    ``.result()`` before the notebook ends: it returns the path, or raises what the write
    raised. The frame must not be changed in the meantime (pandas' copy-on-write keeps a
    frame the notebook goes on using as it was).
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmlab-write")
    try:
        return pool.submit(write_parquet, df, target)
    finally:
        pool.shutdown(wait=False)  # the thread ends once the write is done


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    if isinstance(o, (pd.Timestamp,)):
        return o.isoformat()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_json(obj: Any, target: str | Path) -> Path:
    """Write JSON (indented, UTF-8, numpy scalars converted) atomically."""
    text = json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default, allow_nan=False)
    return write_text(text + "\n", target)


def write_text(text: str, target: str | Path) -> Path:
    """Write UTF-8 text atomically."""
    return _atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"))


def read_json(path: str | Path) -> Any:
    """Read a JSON product."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


#: the resolution figures are saved at (and shown at, by :meth:`crmlab.context.StageContext.show`)
FIGURE_DPI = 110


def save_figure(fig: Any, folder: str | Path, name: str, dpi: int = FIGURE_DPI) -> Path:
    """Save a Matplotlib figure as ``<folder>/<name>.png`` atomically and return the path.

    The stage context calls this after drawing (:meth:`crmlab.context.StageContext.show`)
    and shows the saved file in the notebook; the figure is left open.
    """
    return _atomic_write(
        Path(folder) / f"{name}.png", lambda p: fig.savefig(p, format="png", dpi=dpi, bbox_inches="tight")
    )


def save_table(df: pd.DataFrame, folder: str | Path, name: str, index: bool = False) -> Path:
    """Save a table as ``<folder>/<name>.csv`` (UTF-8 with BOM so Excel opens it) atomically.

    Text cells a spreadsheet would run as a formula (starting ``=``, ``+``, ``-``, ``@``, tab,
    CR) are written with a leading ``'`` (:func:`crmlab.safety.neutralise_formulas`);
    numbers are written as they are. Lines end with CRLF (RFC 4180), so a cell holding a
    line break of either kind is quoted and the table keeps its shape.
    """
    from crmlab.io.csv_fast import csv_bytes
    from crmlab.safety import neutralise_formulas

    fast = csv_bytes(df, index)  # big tables: the same bytes without a Python object per cell
    if fast is not None:
        def write(p: Path) -> None:
            with open(p, "wb") as fh:
                fh.write(b"\xef\xbb\xbf")  # utf-8-sig
                fh.write(fast[0])
                fh.write(fast[1])

        return _atomic_write(Path(folder) / f"{name}.csv", write)
    safe = neutralise_formulas(df)
    return _atomic_write(
        Path(folder) / f"{name}.csv",
        lambda p: safe.to_csv(p, index=index, encoding="utf-8-sig", lineterminator="\r\n"),
    )
