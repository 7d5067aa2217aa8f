"""Clusters: K-means (or a Gaussian mixture) on log-scaled, standardised R, F and spend.

The k search that chooses the number of clusters is :mod:`crmlab.segmentation.cluster_count`;
this module fits the chosen k, checks its stability, names and profiles the clusters.

References
----------
Hennig, C. (2007). Cluster-wise assessment of cluster stability. CSDA 52, 258-271.
Hubert, L. & Arabie, P. (1985). Comparing partitions. J. of Classification 2, 193-218.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.i18n import EN, Catalog
from crmlab.segmentation.common import CLUSTER_FEATURES, require_key, text_column

__all__ = [
    "FIT_SAMPLE",
    "cluster_pipeline",
    "fit_clusters",
    "cluster_stability",
    "name_clusters",
    "cluster_profiles",
    "assign_clusters",
    "cluster_projection",
]

_KMEANS_N_INIT = 4  # bootstrap ARI on CDNOW is 0.95-0.99 with 4 starts; more buys nothing
# With more customers than this, the k search, the cluster fit and each bootstrap refit
# work on a sample of this many customers drawn with segmentation.seed; every customer is
# then assigned by the fitted model. Three features and a handful of clusters are pinned
# down long before 200,000 points, and a silhouette on millions of points is not needed
# to choose k (it is O(n^2)).
FIT_SAMPLE = 200_000
_NAME_Z = 0.5  # |centroid z-score| beyond this earns a word in a cluster's name
# with at least this many customers (after the fit sample) the k search's fits and the
# bootstrap refits run side by side on the machine's cores; below it a thread costs more
# than the fit
PARALLEL_MIN_CUSTOMERS = 20_000


def _signed_log1p(x: np.ndarray) -> np.ndarray:
    """Return ``sign(x) * log1p(|x|)`` (spend can be negative after refunds).

    Computed in one buffer (at millions of customers the temporaries of the formula cost
    more than the logarithms); ``+ 0.0`` turns the ``-0.0`` of ``copysign`` into the
    formula's ``0.0``, so the values are the formula's to the bit.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.abs(x)
    np.log1p(out, out=out)
    np.copysign(out, x, out=out)
    out += 0.0
    return out


def _feature_matrix(customers: pd.DataFrame) -> np.ndarray:
    require_columns(customers, CLUSTER_FEATURES, "customers")
    X = customers[CLUSTER_FEATURES].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(X).all(axis=1)
    if bad.any():
        col = CLUSTER_FEATURES[int(np.argmax(~np.isfinite(X[bad][0])))]
        raise InputError(f"customers: {int(bad.sum())} rows have no finite {col!r}")
    return X


def _method(segmentation: Mapping[str, Any]) -> tuple[str, int]:
    method = require_key(segmentation, "method", "segmentation.method")
    if method not in ("kmeans", "gmm"):
        raise InputError(f"segmentation.method: {method!r} is not 'kmeans' or 'gmm'")
    return method, int(require_key(segmentation, "seed", "segmentation.seed"))


def _estimator(k: int, method: str, seed: int):
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

    if method == "gmm":
        return GaussianMixture(n_components=k, covariance_type="full", random_state=seed)
    return KMeans(n_clusters=k, n_init=_KMEANS_N_INIT, random_state=seed)


def _one_thread():
    # K-means and silhouette on tens of thousands of rows gain little from threads, and
    # OpenMP threads spinning on a busy 2-core machine made the k search 15x slower (20 s
    # instead of 1.3 s on CDNOW): run them on one thread; results are identical.
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _preprocess():
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    return Pipeline(
        [("log", FunctionTransformer(_signed_log1p)), ("scale", StandardScaler())]
    )


def cluster_pipeline(k: int, method: str, seed: int):
    """Build the model: signed ``log1p`` -> standardise -> K-means (or a Gaussian mixture).

    Logs tame the long right tails of frequency and spend (otherwise a few big spenders
    make their own clusters); standardising gives the three features equal weight in the
    Euclidean distance K-means minimises. Both steps sit inside the pipeline, so a refit
    (bootstrap) refits them too.

    Parameters
    ----------
    k : int
        Number of clusters.
    method : {"kmeans", "gmm"}
        K-means (``n_init=4``) or a full-covariance Gaussian mixture.
    seed : int
        ``random_state`` of the estimator.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted; ``fit_predict`` on :data:`CLUSTER_FEATURES` columns.

    Raises
    ------
    InputError
        On an unknown method.
    """
    from sklearn.pipeline import Pipeline

    method, seed = _method({"method": method, "seed": seed})
    pre = _preprocess()
    return Pipeline([*pre.steps, ("model", _estimator(int(k), method, seed))])


def _fit_rows(n: int, size: int, seed: int) -> np.ndarray | None:
    """Sorted rows of a seeded sample of ``size`` out of ``n`` customers, None for all."""
    if n <= size:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def _present_labels(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``np.unique(labels, return_inverse=True)`` of small non-negative labels.

    Cluster labels are 0..k-1: counting them finds the present ones without sorting
    millions of labels. Any other labels are left to ``np.unique``.
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu" or len(labels) == 0 or labels.min() < 0 \
            or labels.max() > 4 * len(labels) + 1024:
        return np.unique(labels, return_inverse=True)
    present = np.bincount(labels) > 0
    position = np.cumsum(present) - 1
    return np.flatnonzero(present).astype(labels.dtype), position[labels]


def _relabel_by_spend(labels: np.ndarray, spend: np.ndarray) -> np.ndarray:
    # cluster 0 = highest mean spend, so labels are stable and meaningful across runs
    ks, codes = _present_labels(labels)
    means = np.bincount(codes, weights=spend) / np.bincount(codes)
    order = np.lexsort((ks, -means))
    remap = np.empty(len(ks), dtype=np.int64)
    remap[order] = np.arange(len(ks), dtype=np.int64)
    return remap[codes]


def fit_clusters(customers: pd.DataFrame, k: int, segmentation: Mapping[str, Any]) -> pd.Series:
    """Cluster the customers into ``k`` groups with :func:`cluster_pipeline`.

    Parameters
    ----------
    customers : DataFrame
        Columns :data:`CLUSTER_FEATURES` and ``total_spend``.
    k : int
        Number of clusters.
    segmentation : mapping
        ``method`` and ``seed``.

    Returns
    -------
    Series
        ``cluster`` (int64, aligned with ``customers``), numbered 0.. by decreasing mean
        ``total_spend``.

    Raises
    ------
    InputError
        On a missing column, bad params or fewer customers than clusters.
    """
    X = _feature_matrix(customers)
    require_columns(customers, ["total_spend"], "customers")
    method, seed = _method(segmentation)
    if len(X) < k:
        raise InputError(f"customers: {len(X)} customers are too few for {k} clusters")
    rows_used = _fit_rows(len(X), FIT_SAMPLE, seed)
    with _one_thread():
        if rows_used is None:
            labels = cluster_pipeline(k, method, seed).fit_predict(X)
        else:  # fit on a seeded sample, assign every customer (FIT_SAMPLE)
            labels = cluster_pipeline(k, method, seed).fit(X[rows_used]).predict(X)
    labels = _relabel_by_spend(labels, customers["total_spend"].to_numpy(np.float64))
    return pd.Series(labels, index=customers.index, name="cluster")


def cluster_stability(customers: pd.DataFrame, labels: pd.Series, segmentation: Mapping[str, Any],
                      progress: bool = False) -> pd.DataFrame:
    """Bootstrap stability of a clustering: adjusted Rand index of refits on resamples.

    Each resample draws customers with replacement, refits the whole pipeline with a seed
    drawn from ``segmentation.seed``, assigns *every* customer with the refit model and
    compares that partition with ``labels`` (ARI 1 = identical up to renaming, 0 = chance).
    With more than ``FIT_SAMPLE // 4`` customers, "every customer" is a sample of that
    many drawn with the seed (resamples are drawn from it).

    Parameters
    ----------
    customers : DataFrame
        Columns :data:`CLUSTER_FEATURES`.
    labels : Series
        The reference partition (from :func:`fit_clusters`).
    segmentation : mapping
        ``bootstrap`` (number of resamples), ``method``, ``seed``.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    DataFrame
        ``resample`` (1..B) and ``ari``; empty when ``bootstrap`` is 0.

    Raises
    ------
    InputError
        On a missing column, bad params, or labels of another length.

    References
    ----------
    Hennig, C. (2007). Cluster-wise assessment of cluster stability. CSDA 52, 258-271.
    """
    from sklearn.metrics import adjusted_rand_score
    from tqdm import tqdm

    X = _feature_matrix(customers)
    method, seed = _method(segmentation)
    n_boot = int(require_key(segmentation, "bootstrap", "segmentation.bootstrap"))
    ref = np.asarray(labels)
    if len(ref) != len(X):
        raise InputError(f"labels: {len(ref)} labels for {len(X)} customers")
    k = len(np.unique(ref))
    # with many customers the refits and their comparison use a seeded sample of them:
    # an adjusted Rand index over 50,000 customers is as telling as over millions
    rows_used = _fit_rows(len(X), FIT_SAMPLE // 4, seed)
    if rows_used is not None:
        X, ref = X[rows_used], ref[rows_used]
    # the resamples and their seeds are drawn first, in the order one loop would draw them,
    # so running the refits side by side on the cores gives the very same numbers
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(X), len(X))
        draws.append((idx, int(rng.integers(2**31 - 1))))

    def refit(draw: tuple[np.ndarray, int]) -> float:
        idx, refit_seed = draw
        with _one_thread():  # this thread's OpenMP too
            model = cluster_pipeline(k, method, refit_seed).fit(X[idx])
            return float(adjusted_rand_score(ref, model.predict(X)))

    workers = max(1, min(n_boot, os.cpu_count() or 1))
    aris = []
    with _one_thread(), tqdm(total=n_boot, desc="bootstrap", disable=not progress) as bar:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crmlab-boot") as pool:
            side_by_side = workers >= 2 and len(X) >= PARALLEL_MIN_CUSTOMERS
            for ari in (pool.map if side_by_side else map)(refit, draws):
                aris.append(ari)
                bar.update(1)
    return pd.DataFrame(
        {"resample": np.arange(1, n_boot + 1, dtype=np.int64), "ari": np.asarray(aris, float)}
    )


def name_clusters(profiles: pd.DataFrame, *, tr: Catalog = EN) -> pd.Series:
    """Plain-language cluster names from a profile (centroid z-scores of the log features).

    Rules: recency ``z_days_since_last`` below -0.5 is "recent", above +0.5 "lapsed";
    frequency is "one-time" when most members bought on a single day, else "frequent" when
    ``z_purchase_days`` > 0.5, else "occasional"; spend is "high", "low" or "mid spend per
    line" by ``z_spend_per_line`` beyond +-0.5 (per order line, not per customer: a
    one-time buyer of one expensive line is "high"). Duplicate names get the cluster number.

    Parameters
    ----------
    profiles : DataFrame
        Columns ``cluster``, ``one_time_share``, ``z_days_since_last``,
        ``z_purchase_days``, ``z_spend_per_line``.
    tr : Catalog
        The language of the names (the product's ``cluster_name`` is English; other
        languages are for display, :func:`crmlab.segmentation.narrative.cluster_names`).

    Returns
    -------
    Series
        ``cluster_name`` indexed like ``profiles``, e.g. "recent frequent buyers, high
        spend per line".

    Raises
    ------
    InputError
        On a missing column.
    """
    zcols = [f"z_{c}" for c in CLUSTER_FEATURES]
    require_columns(profiles, ["cluster", "one_time_share", *zcols], "cluster profiles")

    def word(z: float, low: str, high: str, mid: str = "") -> str:
        return low if z < -_NAME_Z else high if z > _NAME_Z else mid

    def w(key: str) -> str:
        return tr(f"segmentation.cluster_name.{key}") if key else ""

    names = []
    for row in profiles.itertuples(index=False):
        rec = w(word(row.z_days_since_last, "recent", "lapsed"))
        freq = w("one_time") if row.one_time_share > 0.5 else w(word(
            row.z_purchase_days, "occasional", "frequent", "occasional"))
        spend = tr("segmentation.cluster_name.spend", level=w(word(row.z_spend_per_line,
                                                                    "low", "high", "mid")))
        buyers = w("word_sep").join(x for x in (rec, freq, w("buyers")) if x)
        names.append(tr("segmentation.cluster_name.name", buyers=buyers, spend=spend))
    out = pd.Series(names, index=profiles.index, name="cluster_name", dtype=str)
    dup = out.duplicated(keep=False)
    out[dup] = [tr("segmentation.cluster_name.duplicate", name=n, cluster=c)
                for n, c in zip(out[dup], profiles.loc[dup, "cluster"].astype(str), strict=True)]
    return out


def cluster_profiles(customers: pd.DataFrame) -> pd.DataFrame:
    """Size, revenue, feature means and a plain-language name per cluster.

    Parameters
    ----------
    customers : DataFrame
        Columns ``cluster``, ``total_spend``, ``frequency`` and :data:`CLUSTER_FEATURES`.

    Returns
    -------
    DataFrame
        ``cluster``, ``cluster_name``, ``customers``, ``customer_share``,
        ``revenue_share``, ``mean_<feature>`` for each of :data:`CLUSTER_FEATURES`,
        ``mean_total_spend``, ``one_time_share``, and ``z_<feature>``: the cluster mean of
        the standardised log feature (0 = the average customer, +1 = one standard
        deviation above) -- the "snake plot" values.

    Raises
    ------
    InputError
        On a missing column.
    """
    require_columns(customers, ["cluster", "total_spend", "frequency"], "customers")
    Z = _preprocess().fit_transform(_feature_matrix(customers))
    df = pd.DataFrame(Z, columns=[f"z_{c}" for c in CLUSTER_FEATURES], index=customers.index)
    for c in CLUSTER_FEATURES:
        df[f"mean_{c}"] = customers[c]
    df["mean_total_spend"] = customers["total_spend"]
    df["one_time_share"] = (customers["frequency"] == 0).astype(np.float64)
    df["cluster"] = customers["cluster"].to_numpy()
    grouped = df.groupby("cluster", sort=True)
    g = grouped.mean()
    if isinstance(customers["cluster"].dtype, np.dtype) and customers["cluster"].dtype.kind in "iu":
        # the same groups as grouping `customers` by its cluster: one grouping serves all
        size = grouped.size()
        rev = grouped["mean_total_spend"].sum()
    else:
        size = customers.groupby("cluster", sort=True).size()
        rev = customers.groupby("cluster", sort=True)["total_spend"].sum()
    out = pd.DataFrame(
        {
            "cluster": g.index.to_numpy(np.int64),
            "customers": size.to_numpy(np.int64),
            "customer_share": size.to_numpy(np.float64) / len(customers),
            "revenue_share": rev.to_numpy(np.float64) / customers["total_spend"].sum(),
        }
    )
    means = [f"mean_{c}" for c in CLUSTER_FEATURES] + ["mean_total_spend", "one_time_share"]
    zs = [f"z_{c}" for c in CLUSTER_FEATURES]
    out = pd.concat([out, g[means + zs].reset_index(drop=True)], axis=1)
    out.insert(1, "cluster_name", name_clusters(out))
    return out


def assign_clusters(customers: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Add ``cluster`` and ``cluster_name`` (from :func:`cluster_profiles`) to a copy.

    Raises
    ------
    InputError
        When ``labels`` does not have one entry per customer.
    """
    if len(labels) != len(customers):
        raise InputError(f"labels: {len(labels)} labels for {len(customers)} customers")
    df = customers.copy(deep=False)  # copy-on-write: nothing is duplicated
    df["cluster"] = np.asarray(labels, dtype=np.int64)
    profiles = cluster_profiles(df)  # one row per present cluster, sorted by cluster
    position = np.searchsorted(profiles["cluster"].to_numpy(), df["cluster"].to_numpy())
    df["cluster_name"] = text_column(profiles["cluster_name"].tolist(), position, df.index)
    return df


def cluster_projection(customers: pd.DataFrame, seed: int,
                       max_points: int = 5000) -> tuple[pd.DataFrame, np.ndarray]:
    """Project customers on the first two principal components of the clustering features.

    Parameters
    ----------
    customers : DataFrame
        Columns ``cluster`` and :data:`CLUSTER_FEATURES`.
    seed : int
        Draws the customers shown when there are more than ``max_points``.
    max_points : int
        At most this many points (a scatter of 20,000 dots is a blot).

    Returns
    -------
    (DataFrame, ndarray)
        ``pc1``, ``pc2``, ``cluster`` for the drawn customers (in input order), and the
        share of variance each component explains.

    Raises
    ------
    InputError
        On a missing column.
    """
    from sklearn.decomposition import PCA

    require_columns(customers, ["cluster"], "customers")
    Z = _preprocess().fit_transform(_feature_matrix(customers))
    pca = PCA(n_components=2, random_state=seed).fit(Z)
    n = len(Z)
    keep = np.arange(n)
    if n > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))
    P = pca.transform(Z[keep])
    pts = pd.DataFrame(
        {"pc1": P[:, 0], "pc2": P[:, 1],
         "cluster": customers["cluster"].to_numpy(np.int64)[keep]}
    )
    return pts, pca.explained_variance_ratio_
