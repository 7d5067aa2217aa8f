"""The Dask cleaning's shuffle through files: rows split by customer bucket on disk.

The cleaning on Dask (:mod:`crmlab.cleaning.distributed`) runs in two passes, so that a
worker holds one input partition or one customer bucket at a time, whatever the size of
the data:

1. each input partition's task writes the rows that passed the rules as one file per
   customer bucket (:func:`write_by_bucket`), and its rejected rows as one file;
2. each bucket's task reads that bucket's files (:func:`read_parts`), finds the
   duplicates and writes its products.

Only counts and aggregates go through Dask's memory. The files keep the pandas types
(Arrow's pandas metadata), so a bucket read back is the frame the partitions wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["bucket_dir", "part_name", "read_parts", "write_by_bucket", "write_frame"]


def part_name(index: int) -> str:
    """Return the file name of input partition ``index`` (names sort as the partitions)."""
    return f"part-{index:06d}.parquet"


def bucket_dir(work: str | Path, bucket: int) -> Path:
    """Return the folder holding customer bucket ``bucket``'s rows in the work folder."""
    return Path(work) / f"bucket-{bucket:05d}"


def write_frame(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` (no index) as one Parquet file, its pandas types kept."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)


def write_by_bucket(frame: pd.DataFrame, bucket: np.ndarray, work: str | Path, index: int) -> list[int]:
    """Write the rows of ``frame`` as one file per bucket: ``work/bucket-B/part-<index>.parquet``.

    Rows keep their order inside each file. Returns the buckets written (sorted).
    """
    bucket = np.asarray(bucket, dtype=np.int64)
    if not len(frame):
        return []
    order = np.argsort(bucket, kind="stable")
    table = pa.Table.from_pandas(frame.iloc[order], preserve_index=False)
    sorted_buckets = bucket[order]
    found, first = np.unique(sorted_buckets, return_index=True)
    ends = np.append(first[1:], len(sorted_buckets))
    for b, lo, hi in zip(found.tolist(), first.tolist(), ends.tolist(), strict=True):
        folder = bucket_dir(work, b)
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.slice(lo, hi - lo), folder / part_name(index))
    return found.tolist()


def read_parts(files: Iterable[str | Path]) -> pd.DataFrame:
    """Read files written by :func:`write_by_bucket` or :func:`write_frame` as one frame, in order."""
    tables = [pq.read_table(f) for f in files]
    if not tables:
        raise ValueError("read_parts: no files")
    # a column that is all missing in one file is Arrow's null type there: promote it
    return pa.concat_tables(tables, promote_options="default").to_pandas()
