"""Benchmark data: CDNOW replicated k times with distinct customer ids.

``cdnow()`` reads the bundled CDNOW file the way the cleaning stage does (customer ids as
trimmed strings, ``date`` as datetime64, ``amount`` as float64). ``replicate(base, k)``
stacks k copies of it, copy r renaming customer ``00042`` to ``r0007-00042``, so the copies
are disjoint customer bases with the same shape: 70k rows x 100 = 7M rows with 2.36M
customers, x 1,450 = 101M rows with 34M customers.

Files go to ``benchmarks/data/`` (git-ignored) and are reused when present:

- ``cdnow_x{k}.parquet``   one Parquet file (k = 1, 10, 100)
- ``cdnow_x{k}_b{n}/``     a customer-bucketed dataset in n buckets (``customer_bucket=NNN/`` folders,
  written in chunks by :func:`crmlab.engine.write_customer_buckets`), for the 100M run
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crmlab.engine import write_customer_buckets  # noqa: E402
from crmlab.io import read_table, write_parquet  # noqa: E402

# generated data can be large (15M rows: ~200 MB of Parquet): CRMLAB_BENCH_DATA moves it
DATA = Path(os.environ.get("CRMLAB_BENCH_DATA") or ROOT / "benchmarks" / "data")
CDNOW = ROOT / "data" / "raw" / "cdnow" / "CDNOW_master.txt"
OBSERVATION_END = "1998-06-30"


def cdnow() -> pd.DataFrame:
    """The 69,659 CDNOW rows as typed columns (exact duplicates kept: this is a speed test)."""
    raw, _ = read_table(CDNOW)
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"].str.strip(),
            "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["dollar_value"].astype("float64"),
            "quantity": raw["number_of_cds"].astype("float64"),
        }
    )


def replicate(base: pd.DataFrame, k: int, start: int = 0) -> pd.DataFrame:
    """Copies ``start .. start+k-1`` of ``base``, customer ids prefixed ``r<copy>-``.

    Ids are built once per distinct customer and gathered with Arrow's ``take``, so 7M
    string ids cost well under a second and no Python object per row.
    """
    codes, uniques = pd.factorize(base["customer_id"])
    uniques = np.asarray(uniques, dtype=object)
    n = len(base)
    pieces = []
    for r in range(start, start + k):
        names = pa.array([f"r{r:04d}-{u}" for u in uniques], type=pa.large_string())
        pieces.append(names.take(pa.array(codes)))
    ids = pa.chunked_array(pieces)
    out = pd.DataFrame(
        {
            "customer_id": pd.Series(pd.arrays.ArrowStringArray(ids.cast(pa.large_string())))
            .astype("str"),
            "date": np.tile(base["date"].to_numpy(), k),
            "amount": np.tile(base["amount"].to_numpy(), k),
            "quantity": np.tile(base["quantity"].to_numpy(), k),
        }
    )
    assert len(out) == n * k
    return out


def parquet_copy(k: int) -> Path:
    """``benchmarks/data/cdnow_x{k}.parquet``, written on first use."""
    path = DATA / f"cdnow_x{k}.parquet"
    if not path.exists():
        t0 = time.perf_counter()
        write_parquet(replicate(cdnow(), k), path)
        print(f"  wrote {path} in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


def bucketed_copy(k: int, n_buckets: int = 64, chunk: int = 50) -> Path:
    """``benchmarks/data/cdnow_x{k}_b{n_buckets}/``: k copies in customer buckets, on first use.

    Written ``chunk`` copies at a time (about 3.5M rows per chunk at chunk=50), so the
    writer never holds more than one chunk; a ``_COMPLETE`` marker tells a finished
    dataset from an interrupted one, which is removed and rewritten.
    """
    path = DATA / f"cdnow_x{k}_b{n_buckets}"
    done = path / "_COMPLETE"
    if done.exists():
        return path
    if path.exists():
        shutil.rmtree(path)
    base = cdnow()
    t0 = time.perf_counter()
    for start in range(0, k, chunk):
        part = replicate(base, min(chunk, k - start), start=start)
        write_customer_buckets(part, path, n_buckets=n_buckets, name=f"chunk{start:05d}")
        print(
            f"  {path.name}: copies {start + len(part) // len(base)}/{k} written "
            f"({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    done.write_text(f"{k * len(base)} rows\n")
    return path


ORDERS = ("customer", "date", "shuffled")


def reorder(df: pd.DataFrame, order: str, seed: int = 0) -> pd.DataFrame:
    """The same rows in another order: ``customer`` (file order: contiguous customers),
    ``date`` (sorted by date, as exports from a till or a web shop come) or ``shuffled``."""
    if order == "customer":
        return df
    if order == "date":
        return df.sort_values("date", kind="stable", ignore_index=True)
    if order == "shuffled":
        return df.sample(frac=1.0, random_state=seed, ignore_index=True)
    raise ValueError(f"unknown row order {order!r}")


def export_copy(k: int, order: str = "date") -> Path:
    """A raw export of k CDNOW copies (columns as in the CDNOW file, text cells), on first use.

    ``cdnow_export_x{k}_{order}.parquet``: ``customer_id``, ``date`` (``YYYYMMDD`` text),
    ``dollar_value`` and ``number_of_cds`` as the cleaning stage reads them from CDNOW,
    rows in ``order``; written in row groups of at most 1M rows. This is what the chain
    benchmark feeds to ``crmlab run --only cleaning,segmentation``.

    Date order is written in pieces (:func:`_date_sorted_pieces`), so 100M rows need no more
    memory than a few million; the other orders are built whole.
    """
    path = DATA / f"cdnow_export_x{k}_{order}.parquet"
    if path.exists():
        return path
    import pyarrow.parquet as pq

    DATA.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    base = cdnow()
    pieces = (_date_sorted_pieces(base, k) if order == "date"
              else iter([reorder(replicate(base, k), order)]))
    tmp = path.with_suffix(".tmp")
    rows = 0
    with pq.ParquetWriter(tmp, _EXPORT_SCHEMA) as writer:
        for df in pieces:
            writer.write_table(_export_table(df), row_group_size=1 << 20)
            rows += len(df)
            if k > 216:
                print(f"  {path.name}: {rows:,} rows ({time.perf_counter() - t0:.0f} s)", flush=True)
    tmp.replace(path)
    print(f"  wrote {path} ({rows:,} rows) in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


_EXPORT_SCHEMA = pa.schema([(name, pa.large_string()) for name in
                            ("customer_id", "date", "dollar_value", "number_of_cds")])


def _export_table(df: pd.DataFrame) -> pa.Table:
    """The export's text cells for typed rows (``replicate``'s columns)."""
    return pa.table(
        {
            "customer_id": pa.array(df["customer_id"].array).cast(pa.large_string()),
            "date": pa.array(df["date"].dt.strftime("%Y%m%d").array).cast(pa.large_string()),
            "dollar_value": pc.cast(pa.array(df["amount"].to_numpy()), pa.large_string()),
            "number_of_cds": pc.cast(
                pa.array(df["quantity"].to_numpy().astype("int64")), pa.large_string()
            ),
        },
        schema=_EXPORT_SCHEMA,
    )


def _date_sorted_pieces(base: pd.DataFrame, k: int, rows: int = 3_000_000):
    """``reorder(replicate(base, k), "date")`` in consecutive pieces of about ``rows`` rows.

    The stable date sort of k copies puts, within a day, copy 0's rows of that day (in file
    order), then copy 1's, and so on. Each piece takes whole days of ``base`` and all k
    copies of them, sorted the same way, so the pieces laid end to end are the whole sorted
    table, row for row.
    """
    base = base.sort_values("date", kind="stable", ignore_index=True)
    day = base["date"].to_numpy()
    per_piece = max(1, rows // k)
    start = 0
    while start < len(base):
        stop = min(len(base), start + per_piece)
        while stop < len(base) and day[stop] == day[stop - 1]:
            stop += 1  # never split a day between pieces
        yield reorder(replicate(base.iloc[start:stop], k), "date")
        start = stop


def _tree_rss(proc) -> int:
    """Resident memory of a process and all its children, in bytes."""
    import psutil

    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure_child(cmd: list[str], label: str) -> dict:
    """Run a benchmark child process, sampling its process tree's memory every 50 ms.

    The child prints its numbers as JSON on its last line of stdout (with ``maxrss_mb``);
    returned with ``peak_mb``, the larger of the sampled peak and the child's own maxrss.
    """
    import json
    import subprocess
    import threading

    import psutil

    peak = 0
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    watched = psutil.Process(proc.pid)
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, _tree_rss(watched))
            except psutil.Error:
                pass
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    stdout, _ = proc.communicate()
    done.set()
    thread.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{label} failed (exit {proc.returncode})")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_mb"] = max(peak / (1 << 20), result["maxrss_mb"])
    return result

