"""What every segmentation module shares: the group orders, the labels, two small helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError

__all__ = [
    "TIER_ORDER",
    "LIFECYCLE_ORDER",
    "SEGMENT_ORDER",
    "CLUSTER_FEATURES",
    "NEW_CUSTOMER",
    "NOT_LISTED",
    "N_BINS",
    "require_key",
    "run_bounds",
    "count_grid",
    "text_column",
    "tier_thresholds",
]

TIER_ORDER = ["high", "medium", "low"]
LIFECYCLE_ORDER = ["new", "active", "at risk", "lapsed"]
SEGMENT_ORDER = [
    "Champions",
    "Loyal",
    "Potential loyalist",
    "New",
    "Promising",
    "Need attention",
    "About to sleep",
    "At risk",
    "Cannot lose",
    "Hibernating",
    "Lost",
]

# recency (days since last purchase day), frequency (purchase days), spend per order line:
# the three RFM dimensions as raw customer features for clustering. The spend is named
# `spend_per_line`, not "monetary": RFM's M ranks `total_spend`, and `monetary_value` is
# the BTYD mean spend of repeat purchase days (crmlab.segmentation.narrative.SPEND_MEASURES).
CLUSTER_FEATURES = ["days_since_last", "purchase_days", "spend_per_line"]
NEW_CUSTOMER = "new (not yet customer)"
NOT_LISTED = "not listed"

N_BINS = 5  # quintile scores


def require_key(block: Mapping[str, Any], key: str, dotted: str) -> Any:
    """Return ``block[key]``; a missing key is an :class:`InputError` naming ``dotted``.

    The params schema (:mod:`crmlab.config`) holds every default; this never supplies one.
    """
    try:
        return block[key]
    except (KeyError, TypeError):
        raise InputError(f"params: missing key '{dotted}'") from None


def run_bounds(s: np.ndarray, side: str) -> np.ndarray:
    """Return ``np.searchsorted(s, s, side)`` for sorted values without NaN, in linear time.

    Equal values form runs: ``"left"`` is where each value's run starts, ``"right"`` one
    past where it ends (the binary searches cost more than the sort before them).
    """
    n = len(s)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    run = np.cumsum(new)
    run -= 1
    bound = starts if side == "left" else np.append(starts[1:], n)
    return bound[run]


def count_grid(rows: pd.Series, cols: pd.Series, row_order: Sequence[Any],
               col_order: Sequence[Any]) -> pd.DataFrame:
    """Return ``pd.crosstab(rows, cols)`` laid out on ``row_order`` x ``col_order`` (int64).

    The same table as the crosstab reindexed with zeros (values outside the orders and
    missing values are not counted), from category codes and one ``np.bincount``.
    """
    r, c = _order_codes(rows, row_order), _order_codes(cols, col_order)
    ok = (r >= 0) & (c >= 0)
    width = len(col_order)
    grid = np.bincount(r[ok] * width + c[ok], minlength=len(row_order) * width)
    return pd.DataFrame(grid.reshape(len(row_order), width).astype(np.int64),
                        index=pd.Index(list(row_order)), columns=pd.Index(list(col_order)))


def _order_codes(values: pd.Series, order: Sequence[Any]) -> np.ndarray:
    """Position of each value in ``order`` (-1 when not in it or missing)."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(values.array)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        enc = pc.dictionary_encode(arr)  # Arrow encodes; only the distinct texts are looked up
        where = {v: i for i, v in enumerate(order)}
        lookup = np.array([where.get(v, -1) for v in enc.dictionary.to_pylist()] + [-1],
                          dtype=np.int64)
        return lookup[enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)]
    return pd.Categorical(values, categories=list(order)).codes.astype(np.int64)


def text_column(names: Sequence[str], codes: np.ndarray, index: pd.Index) -> pd.Series:
    """Return a ``str`` column whose row i is ``names[codes[i]]``, built by Arrow."""
    import pyarrow as pa

    taken = pa.array(list(names), type=pa.large_string()).take(pa.array(codes, type=pa.int64()))
    return pd.Series(pd.array(taken, dtype="str"), index=index)


def tier_thresholds(tiers: Mapping[str, Any]) -> tuple[float, float]:
    """Return the checked ``high`` and ``medium`` revenue shares of ``segmentation.tiers``.

    Raises
    ------
    InputError
        On a missing key or unless ``0 < high < medium <= 1``.
    """
    high = float(require_key(tiers, "high", "segmentation.tiers.high"))
    medium = float(require_key(tiers, "medium", "segmentation.tiers.medium"))
    if not 0 < high < medium <= 1:
        raise InputError(
            f"segmentation.tiers: need 0 < high < medium <= 1, got high={high}, medium={medium}"
        )
    return high, medium
