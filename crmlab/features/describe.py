"""The customer table at a glance: count, mean, spread and quartiles of each feature."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from crmlab.errors import require_columns

__all__ = ["describe_features"]

# below this many customers one thread describes every column
_PARALLEL_MIN_ROWS = 500_000


def describe_features(customers: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Return ``customers[columns].describe().T``, the columns described side by side.

    Each column is described on its own (quantiles sort the column; NumPy does that
    without the GIL), on the machine's cores when the table is big; the table is the one
    pandas gives, value for value.

    Parameters
    ----------
    customers : DataFrame
        The customer table (e.g. :func:`crmlab.features.customer_summary`).
    columns : sequence of str
        Numeric columns to describe, in the order of the table's rows.

    Returns
    -------
    DataFrame
        One row per column; ``count``, ``mean``, ``std``, ``min``, ``25%``, ``50%``,
        ``75%``, ``max``.

    Raises
    ------
    InputError
        When a column is missing.
    """
    columns = list(columns)
    require_columns(customers, columns, "customers")

    def one(col: str) -> np.ndarray:
        return _describe(customers[col])

    workers = min(len(columns), os.cpu_count() or 1)
    if workers < 2 or len(customers) < _PARALLEL_MIN_ROWS:
        rows = [one(c) for c in columns]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crmlab-describe") as pool:
            rows = list(pool.map(one, columns))
    return pd.DataFrame(np.array(rows, dtype=np.float64).reshape(len(columns), len(STATS)),
                        index=pd.Index(columns, dtype="str"), columns=pd.Index(STATS, dtype="str"))


STATS = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]


def _describe(values: pd.Series) -> np.ndarray:
    """``values.describe()`` of a numeric column, by pandas' own formulas, as an array.

    A column with a missing value is left to pandas; without one, the statistics are
    computed here the way pandas computes them (the sum divided by the count; the sum of
    squared deviations from that mean over ``n - 1``; NumPy's linear percentiles), so the
    numbers are pandas' to the bit, with one pass less per statistic.
    """
    a = values.to_numpy()
    if a.dtype.kind not in "iuf" or len(a) < 2 or (a.dtype.kind == "f" and np.isnan(a).any()):
        return values.describe().to_numpy(dtype=np.float64)
    x = a.astype(np.float64, copy=False)
    n = len(x)
    mean = x.sum() / n
    dev = mean - x
    dev *= dev
    std = np.sqrt(dev.sum() / (n - 1))
    del dev
    q = np.percentile(x, [25, 50, 75])
    return np.array([n, mean, std, x.min(), q[0], q[1], q[2], x.max()], dtype=np.float64)
