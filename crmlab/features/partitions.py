"""The Dask side of the customer summary: customers kept whole, partitions summarised alone.

No customer may span two partitions: a frame indexed by ``customer_id`` or
``customer_bucket`` with known divisions is used as it is, anything else is shuffled by
``customer_id``. Each partition is summarised with the pandas code and the per-partition
results are stacked in customer order, one column at a time.
"""

from __future__ import annotations

import ctypes

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crmlab.features.keys import _arrow_strings

REQUIRED_COLUMNS = ("customer_id", "date", "amount")
# index names that tell a Dask frame's partitions hold disjoint sets of customers
_DISJOINT_INDEX = ("customer_id", "customer_bucket")


def _customer_disjoint(ddf) -> bool:
    """Tell whether Dask can promise that no customer spans two partitions."""
    if ddf.npartitions == 1:
        return True
    return ddf.known_divisions and ddf.index.name in _DISJOINT_INDEX


def _by_customer(ddf):
    """Return the Dask frame with each customer's rows in a single partition."""
    disjoint = _customer_disjoint(ddf)
    if "customer_id" not in ddf.columns:  # the id is the index
        ddf = ddf.reset_index()
    ddf = ddf[list(REQUIRED_COLUMNS)]
    # hash partitioning on the id puts every row of a customer in the same partition
    return ddf if disjoint else ddf.shuffle(on="customer_id")


def _dask_apply(ddf, func, meta: pd.DataFrame, sort_by: list[str]) -> pd.DataFrame:
    parts = _by_customer(ddf).map_partitions(func, meta=meta, enforce_metadata=False)
    frames = _gather(parts.to_delayed())
    return _concat_sorted(frames, meta, sort_by)


def _gather(delayed: list) -> list[pd.DataFrame]:
    """Compute partitions, fetching each result as soon as it is ready.

    With a distributed client every result is released on its worker once it is here,
    so the customer table exists once, not in the workers and the client at the same time.
    """
    try:
        from distributed import as_completed, default_client

        client = default_client()
    except (ImportError, ValueError):  # no distributed client: Dask's local scheduler
        import dask

        return list(dask.compute(*delayed))
    from crmlab.engine import track  # progress bar or run-log line (engine_session decides)

    frames = []
    futures = client.compute(delayed)
    with track(futures, "per-customer table"):
        for future in as_completed(futures):
            frames.append(future.result())
            future.release()
    return frames


def _concat_sorted(frames: list[pd.DataFrame], meta: pd.DataFrame, sort_by: list[str]
                   ) -> pd.DataFrame:
    """Stack per-partition results in ``sort_by`` order, one column at a time.

    Columns are gathered and freed one by one, so the peak is the table plus one column,
    rather than the three copies of ``concat`` followed by ``sort_values``.
    """
    frames = [f for f in frames if len(f)]
    if not frames:
        return meta.iloc[:0].reset_index(drop=True)
    keys = pa.table(
        {c: pa.chunked_array([_arrow(f[c]) for f in frames]) for c in sort_by}
    )
    order = pc.sort_indices(keys, sort_keys=[(c, "ascending") for c in sort_by])
    del keys
    order_np = order.to_numpy()
    columns = {}
    for col in meta.columns:
        if col == "customer_id":
            ids = pa.chunked_array([_arrow(f[col]) for f in frames]).take(order)
            columns[col] = pd.array(ids.combine_chunks(), dtype="str")
        else:
            columns[col] = np.concatenate([f[col].to_numpy() for f in frames])[order_np]
        for f in frames:
            del f[col]
        _trim_heap()
    return pd.DataFrame(columns, copy=False)


def _trim_heap() -> None:
    """Hand freed heap memory back to the operating system (glibc only; else a no-op).

    Partition results are many arrays of a few MB; glibc keeps their memory after they are
    freed, so without this the process would hold the partitions *and* the stacked table
    (see "memory not released back to the OS" in the Dask worker-memory docs).
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _arrow(values: pd.Series) -> pa.Array | pa.ChunkedArray:
    arr = _arrow_strings(values)
    return arr if arr is not None else pa.array(values.to_numpy())


def _meta_frame(ddf) -> pd.DataFrame:
    meta = ddf._meta
    if "customer_id" not in meta.columns:
        meta = meta.reset_index()
    return meta[list(REQUIRED_COLUMNS)]
