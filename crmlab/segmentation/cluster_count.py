"""How many clusters: score every k of ``segmentation.k_range``, choose one, read the silhouette.

**A silhouette is not a grade.** Kaufman & Rousseeuw (1990, p. 88) read the mean
silhouette as: above 0.70 a *strong* structure, 0.51-0.70 a *reasonable* one, 0.26-0.50
a *weak* structure "that could be artificial", 0.25 or below *no substantial* structure.
Two values of k whose silhouettes differ by less than a tolerance are a tie: the
silhouette is estimated on a sample of customers, and the difference says nothing about
which k is better (:func:`silhouette_ties`).

References
----------
Rousseeuw, P. J. (1987). Silhouettes. J. Comput. Appl. Math. 20, 53-65.
Calinski, T. & Harabasz, J. (1974). A dendrite method for cluster analysis. Comm. in
Statistics 3(1), 1-27.
Kaufman, L. & Rousseeuw, P. J. (1990). Finding Groups in Data. Wiley, p. 88.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.segmentation.clusters import (
    FIT_SAMPLE,
    PARALLEL_MIN_CUSTOMERS,
    _estimator,
    _feature_matrix,
    _fit_rows,
    _method,
    _one_thread,
    _preprocess,
)
from crmlab.segmentation.common import require_key

__all__ = ["SILHOUETTE_SCALE", "k_search", "choose_k", "silhouette_strength", "silhouette_ties"]


# (lower bound exclusive, label), best first: Kaufman & Rousseeuw (1990), p. 88.
SILHOUETTE_SCALE: tuple[tuple[float, str], ...] = (
    (0.70, "strong"),
    (0.50, "reasonable"),
    (0.25, "weak"),
    (-math.inf, "no substantial"),
)


def k_search(customers: pd.DataFrame, segmentation: Mapping[str, Any],
             sample_size: int = 5000, fit_sample: int = FIT_SAMPLE) -> pd.DataFrame:
    """Fit every k in ``segmentation.k_range`` and score the partitions.

    Nothing is fitted when ``segmentation.k`` fixes the number of clusters: the result is
    then an empty table (same columns), and :func:`crmlab.segmentation.k_search_note` says so.

    Parameters
    ----------
    customers : DataFrame
        Columns :data:`crmlab.segmentation.CLUSTER_FEATURES`.
    segmentation : mapping
        ``k_range``, ``method``, ``seed``.
    sample_size : int
        Silhouette is O(n^2): it is computed on this many customers drawn with the seed
        (all of them when there are fewer).
    fit_sample : int
        With more customers than this, every k is fitted and scored on a sample of this
        many customers drawn with the seed (see :data:`FIT_SAMPLE`).

    Returns
    -------
    DataFrame
        ``k``, ``silhouette`` (-1..1, higher is better), ``calinski_harabasz`` (higher is
        better), ``inertia`` (K-means) and ``bic`` (Gaussian mixture; NaN otherwise),
        ``smallest_share`` (share of customers in the smallest cluster), ``customers``
        (how many customers the fit used) and ``of_customers`` (how many there are).

    Raises
    ------
    InputError
        On a missing column, bad params, or fewer customers than ``k_min + 1``.
    """
    from sklearn.metrics import calinski_harabasz_score

    X = _feature_matrix(customers)
    method, seed = _method(segmentation)
    k0, k1 = (int(v) for v in require_key(segmentation, "k_range", "segmentation.k_range"))
    columns = ["k", "silhouette", "calinski_harabasz", "inertia", "bic", "smallest_share",
               "customers", "of_customers"]
    if require_key(segmentation, "k", "segmentation.k") is not None:
        return pd.DataFrame({c: pd.Series(dtype=np.int64 if c in ("k", "customers", "of_customers")
                                          else np.float64) for c in columns})
    total = len(X)
    rows_used = _fit_rows(total, int(fit_sample), seed)
    if rows_used is not None:
        X = X[rows_used]
    n = len(X)
    if n < k0 + 1:
        raise InputError(f"customers: {n} customers are too few for {k0} clusters")
    Z = _preprocess().fit_transform(X)
    silhouette = _silhouette_scorer(Z, sample_size if n > sample_size else None, seed)

    def score(k: int) -> dict[str, Any]:
        model = _estimator(k, method, seed)
        with _one_thread():  # this thread's OpenMP too (see _one_thread)
            labels = model.fit_predict(Z)
            found = len(np.unique(labels))
            sil = ch = np.nan
            if 2 <= found <= n - 1:
                sil = silhouette(labels)
                ch = calinski_harabasz_score(Z, labels)
        return {
            "k": k,
            "silhouette": float(sil),
            "calinski_harabasz": float(ch),
            "inertia": float(model.inertia_) if method == "kmeans" else np.nan,
            "bic": float(model.bic(Z)) if method == "gmm" else np.nan,
            "smallest_share": float(np.bincount(labels, minlength=k).min() / n),
            "customers": n,
            "of_customers": total,
        }

    ks = list(range(k0, min(k1, n - 1) + 1))
    workers = min(len(ks), os.cpu_count() or 1)
    with _one_thread():
        if workers < 2 or n < PARALLEL_MIN_CUSTOMERS:
            rows = [score(k) for k in ks]
        else:  # each k is fitted on one thread of its own: the same fits, side by side
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crmlab-k") as pool:
                rows = list(pool.map(score, ks))
    return pd.DataFrame(rows, columns=columns)


def _silhouette_scorer(Z: np.ndarray, sample_size: int | None, seed: int):
    """Return ``labels -> silhouette_score(Z, labels, sample_size=..., random_state=seed)``.

    Every k is scored on the same seeded sample of customers, so the distances between
    them are computed once -- by the very calls ``silhouette_score`` makes, chunk by chunk
    -- and each k's labels are scored on them (``metric="precomputed"``: the same sums,
    row by row, on the same distances; tests/test_segmentation_fastpaths.py).
    """
    from sklearn.metrics import pairwise_distances_chunked, silhouette_samples
    from sklearn.utils import check_random_state

    rows = None
    if sample_size is not None:
        rows = check_random_state(seed).permutation(Z.shape[0])[:sample_size]
    Xs = Z if rows is None else Z[rows]
    with _one_thread():
        distances = np.vstack(list(pairwise_distances_chunked(Xs, metric="euclidean")))

    def score(labels: np.ndarray) -> float:
        lab = np.asarray(labels) if rows is None else np.asarray(labels)[rows]
        return float(np.mean(silhouette_samples(distances, lab, metric="precomputed")))

    return score


def choose_k(search: pd.DataFrame, k: int | None = None) -> int:
    """Pick the number of clusters: the best silhouette, Calinski-Harabasz breaking ties.

    Silhouette is the criterion because it reads on an absolute scale (is a customer
    closer to its own cluster than to the next one?); Calinski-Harabasz is shown beside it
    as a check and decides only between equal silhouettes.

    Parameters
    ----------
    search : DataFrame
        Output of :func:`k_search`.
    k : int, optional
        A fixed choice (params ``segmentation.k``) that overrides the search.

    Returns
    -------
    int

    Raises
    ------
    InputError
        When no k could be scored.
    """
    require_columns(search, ["k", "silhouette", "calinski_harabasz"], "k search")
    if k is not None:
        return int(k)
    ok = search.dropna(subset=["silhouette"])
    if ok.empty:
        raise InputError("segmentation.k_range: no number of clusters could be scored")
    best = ok.sort_values(["silhouette", "calinski_harabasz", "k"],
                          ascending=[False, False, True], kind="stable")
    return int(best["k"].iloc[0])


def silhouette_strength(silhouette: float) -> str:
    """Read a mean silhouette on Kaufman & Rousseeuw's scale.

    Parameters
    ----------
    silhouette : float
        Mean silhouette, -1..1.

    Returns
    -------
    str
        ``"strong"`` (> 0.70), ``"reasonable"`` (0.51-0.70), ``"weak"`` (0.26-0.50) or
        ``"no substantial"`` (<= 0.25) — followed in text by "structure".

    Raises
    ------
    InputError
        For a missing value or one outside -1..1.
    """
    try:
        s = float(silhouette)
    except (TypeError, ValueError):
        raise InputError(f"silhouette: {silhouette!r} is not a number") from None
    if math.isnan(s) or not -1.0 <= s <= 1.0:
        raise InputError(f"silhouette: {silhouette!r} is not between -1 and 1")
    for bound, label in SILHOUETTE_SCALE:
        if s > bound:
            return label
    return SILHOUETTE_SCALE[-1][1]  # pragma: no cover - the last bound is -inf


def silhouette_ties(search: pd.DataFrame, k: int, tolerance: float = 0.01) -> list[int]:
    """List the other k whose silhouette is within ``tolerance`` of k's (a tie), nearest first.

    Parameters
    ----------
    search : DataFrame
        :func:`k_search` output (``k``, ``silhouette``).
    k : int
        The k compared with the others (usually the chosen one).
    tolerance : float
        Largest difference that is still a tie (absolute silhouette units). The default
        0.01 is about twice the sampling noise: on CDNOW, the k = 3 and k = 4 silhouettes
        on ten different seeded samples of 5,000 customers have a standard deviation of
        0.005 each.

    Returns
    -------
    list of int

    Raises
    ------
    InputError
        On a missing column, a negative tolerance or a k that is not in the search.
    """
    require_columns(search, ["k", "silhouette"], "k search")
    if tolerance < 0:
        raise InputError(f"silhouette tie tolerance must be >= 0, got {tolerance}")
    table = search.dropna(subset=["silhouette"]).set_index("k")["silhouette"]
    if k not in table.index:
        raise InputError(f"k search: k = {k} was not scored (scored: {list(table.index)})")
    gap = (table.drop(index=k) - table[k]).abs()
    # a tiny epsilon so that a gap of exactly `tolerance` in decimal counts as a tie
    close = gap[gap <= tolerance + 1e-12]
    return [int(x) for x in close.sort_values(kind="stable").index]
