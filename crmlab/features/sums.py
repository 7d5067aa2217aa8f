"""Compensated (Kahan) sums over segments, bit for bit as pandas' group-by runs them.

A sum of three or more floats depends on the order and the method of adding; the
customer summary must give the same floats on pandas and on Dask, and the same as
``lifetimes``, so the mean over repeat days is summed here exactly as pandas' Cython
group-by kernels do.
"""

from __future__ import annotations

import numpy as np


def _kahan_segments(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Sum each segment ``values[start : start + length]`` in order, as pandas' group-by does.

    pandas' Cython group-by kernels (``sum``, ``mean``; the path taken when groups are not
    sorted or hold a NaN) use Kahan's compensated summation. This reproduces it bit for
    bit, vectorised over segments: step ``j`` adds the ``j``-th value
    of every segment at least ``j + 1`` long (segments sorted longest first, so the active
    ones are a prefix). Work is proportional to the number of values; the loop runs once per
    position of the longest segment.
    """
    total = np.zeros(len(starts), dtype=np.float64)
    if len(starts) == 0:
        return total
    # one or two values: the compensated sum is the plain sum (0 + a, then a + b exactly
    # as rounded), so only segments of three or more run the loop below
    one = lengths >= 1
    total[one] = 0.0 + values[starts[one]]  # 0 + (-0.0) is +0.0, as in the loop
    two = lengths == 2
    total[two] += values[starts[two] + 1]
    long_ = np.flatnonzero(lengths >= 3)
    if len(long_) == 0:
        return total
    total[long_] = _kahan_long(values, starts[long_], lengths[long_])
    return total


def _kahan_long(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Run the compensated loop of :func:`_kahan_segments` on segments of any length."""
    total = np.zeros(len(starts), dtype=np.float64)
    order = np.argsort(-lengths, kind="stable")
    seg_start = starts[order]
    seg_len = lengths[order]
    s = np.zeros(len(order), dtype=np.float64)
    comp = np.zeros(len(order), dtype=np.float64)
    neg_len = -seg_len
    for j in range(int(seg_len[0])):
        m = int(np.searchsorted(neg_len, -j, side="left"))  # segments longer than j
        y = values[seg_start[:m] + j] - comp[:m]
        t = s[:m] + y
        c = (t - s[:m]) - y
        c[np.isnan(c)] = 0.0  # pandas resets the compensation after inf - inf
        comp[:m] = c
        s[:m] = t
    total[order] = s
    return total
