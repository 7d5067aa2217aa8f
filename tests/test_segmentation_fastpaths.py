"""Fast paths of the segmentation stage give exactly what the general code gives.

Each test runs a fast path and the reference computation (the code the fast path stands
in for) on small data, including the cases that must fall back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from crmlab import segmentation as seg
from crmlab.segmentation import clusters, migration, rfm, tiers

from conftest import force_threads, segmentation_params  # tests/conftest.py

SEG = segmentation_params(bootstrap=2)


def _customers(n=400, seed=0):
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 400, n).astype(np.float64)
    freq = rng.geometric(0.5, n) - 1
    spend = np.round(rng.gamma(1.5, 30, n), 2)
    spend[:20] = spend[20:40]  # ties
    spend[40:45] = [0.0, -0.0, -5.0, 0.0, 12.5]
    return pd.DataFrame({
        "customer_id": pd.array([f"c{i:05d}" for i in range(n)], dtype="str"),
        "days_since_last": days,
        "frequency": freq.astype(np.int64),
        "purchase_days": (freq + 1).astype(np.int64),
        "total_spend": spend,
        "spend_per_line": np.abs(spend) / (freq + 1) + 1.0,
        "T": days + rng.integers(0, 300, n),
        "gap_mean": np.where(freq > 0, rng.uniform(5, 90, n), np.nan),
    })


# --- cluster labels without a sort -----------------------------------------------------------


@pytest.mark.parametrize("labels", [
    np.array([3, 0, 3, 5, 0], dtype=np.int32), np.array([2, 2, 2]), np.array([0, 1, 2, 1]),
    np.array([-1, 0, 4]), np.array([10**9, 1]), np.array([], dtype=np.int64),
    np.array([1.0, 0.0]),
], ids=["gaps", "one", "dense", "negative", "huge", "empty", "float"])
def test_present_labels_is_unique_with_inverse(labels):
    ks, codes = clusters._present_labels(labels)
    ref_ks, ref_codes = np.unique(labels, return_inverse=True)
    assert ks.tolist() == ref_ks.tolist() and ks.dtype == ref_ks.dtype
    assert codes.tolist() == ref_codes.tolist()


# --- one sort of total_spend for the M score and the tiers -----------------------------------


@pytest.mark.parametrize("monetary", ["total", "average"])
def test_segment_customers_equals_its_steps_without_the_shared_sort(monetary):
    df = _customers()
    segmentation = {**SEG, "rfm_monetary": monetary}
    got = seg.segment_customers(df, segmentation)
    ref = rfm.rfm_scores(df, monetary)
    ref = rfm.rfm_segments(ref, None)
    ref = tiers.value_tiers(ref, SEG["tiers"])
    ref = seg.lifecycle_stages(ref, SEG["lifecycle"])
    assert_frame_equal(got, ref)


def test_quantile_scores_and_tiers_with_a_given_order():
    v = _customers()["total_spend"].to_numpy()
    order = np.argsort(v)
    for better in (True, False):
        assert (rfm.quantile_scores(v, better, order=order)
                == rfm.quantile_scores(v, better)).all()
    assert (rfm.quantile_scores(v, order=order[:-1]) == rfm.quantile_scores(v)).all()  # ignored
    df = _customers()
    assert_frame_equal(tiers.value_tiers(df, SEG["tiers"], order=order),
                       tiers.value_tiers(df, SEG["tiers"]))


# --- the moved-down list sorted on spend alone when the ids are in order ----------------------


def _reference_moved_down(before, after):
    """The list as the general code sorts it: by spend (largest first), then id."""
    b = before.assign(_r=before["value_tier"].map({"high": 0, "medium": 1, "low": 2}))
    a = after.assign(_r=after["value_tier"].map({"high": 0, "medium": 1, "low": 2}))
    m = b.merge(a, on="customer_id", suffixes=("_before", "_after"))
    m = m[m["_r_after"] > m["_r_before"]]
    cols = ["customer_id", "value_tier_before", "value_tier_after", "total_spend_before",
            "total_spend_after"]
    extra = [c for c in ("days_since_last", "rfm_segment", "lifecycle_stage") if c in after]
    m = m.rename(columns={c + "_after": c for c in extra})
    m = m[cols + extra].sort_values(["total_spend_before", "customer_id"],
                                    ascending=[False, True], kind="stable")
    return m.reset_index(drop=True)


def _two_dates(seed=0, n=300):
    rng = np.random.default_rng(seed)
    ids = [f"c{i:04d}" for i in range(n)]
    spend = np.round(rng.choice([10.0, 20.0, 0.0, -0.0, 35.5, -3.0], n), 2)
    before = pd.DataFrame({"customer_id": pd.array(ids, dtype="str"),
                           "value_tier": pd.array(rng.choice(["high", "medium"], n), dtype="str"),
                           "total_spend": spend})
    after = before.iloc[::2].assign(
        value_tier=pd.array(rng.choice(["medium", "low"], len(before.iloc[::2])), dtype="str"),
        total_spend=lambda d: d["total_spend"] + 1.0,
        days_since_last=5.0,
    ).reset_index(drop=True)
    return before, after


@pytest.mark.parametrize("case", ["sorted", "unsorted", "nan"])
def test_moved_down_sort_equals_the_two_key_sort(monkeypatch, case):
    before, after = _two_dates()
    if case == "unsorted":  # ids out of order: the general sort
        before = before.iloc[::-1].reset_index(drop=True)
    elif case == "nan":
        before.loc[3, "total_spend"] = np.nan
    ref = _reference_moved_down(before, after)
    if case == "sorted":  # the fast path does not sort the frame at all
        def refuse(*args, **kwargs):
            raise AssertionError("sort_values called")

        monkeypatch.setattr(pd.DataFrame, "sort_values", refuse)
    got = seg.moved_down(before, after)
    assert len(got) > 10
    assert_frame_equal(got, ref)


# --- standardised features computed once; one grouping for the cluster profiles ---------------


def _reference_profiles(customers):
    """cluster_profiles worked out another way: the formulas, one cluster at a time.

    z = standardised signed log1p of each feature (population standard deviation, as
    StandardScaler), then plain NumPy means over each cluster's rows.
    """
    from crmlab.segmentation.common import CLUSTER_FEATURES

    X = customers[CLUSTER_FEATURES].to_numpy(np.float64)
    L = np.sign(X) * np.log1p(np.abs(X))
    sd = L.std(axis=0)
    Z = (L - L.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    lab = customers["cluster"].to_numpy()
    spend = customers["total_spend"].to_numpy(np.float64)
    rows = []
    for c in np.unique(lab):
        m = lab == c
        row = {"cluster": np.int64(c), "customers": np.int64(m.sum()),
               "customer_share": m.sum() / len(lab), "revenue_share": spend[m].sum() / spend.sum()}
        row.update({f"mean_{f}": X[m, j].mean() for j, f in enumerate(CLUSTER_FEATURES)})
        row["mean_total_spend"] = spend[m].mean()
        row["one_time_share"] = (customers["frequency"].to_numpy()[m] == 0).mean()
        row.update({f"z_{f}": Z[m, j].mean() for j, f in enumerate(CLUSTER_FEATURES)})
        rows.append(row)
    out = pd.DataFrame(rows)
    out.insert(1, "cluster_name", clusters.name_clusters(out))
    return out


@pytest.mark.parametrize("labels", ["int", "float", "gaps"])
def test_cluster_profiles_from_one_grouping_equal_the_reference(labels):
    df = _customers(n=600)
    k = {"int": 3, "float": 3, "gaps": 4}[labels]
    lab = seg.fit_clusters(df, k, SEG).to_numpy()
    if labels == "float":
        lab = lab.astype(np.float64)
    elif labels == "gaps":
        lab = np.where(lab == 1, 7, lab)
    df = df.assign(cluster=lab)
    assert_frame_equal(clusters.cluster_profiles(df), _reference_profiles(df))
    other = _customers(n=600, seed=5).assign(cluster=df["cluster"].to_numpy())
    assert_frame_equal(clusters.cluster_profiles(other), _reference_profiles(other))


# --- the k search's silhouettes from one distance matrix --------------------------------------


@pytest.mark.parametrize("n, sample, memory", [
    (900, 300, None), (250, 300, None), (900, 400, 1), (900, None, None),
], ids=["sampled", "all", "chunked", "no-sample"])
def test_silhouettes_on_shared_distances_equal_sklearn(n, sample, memory):
    import sklearn
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    from crmlab.segmentation.cluster_count import _silhouette_scorer

    rng = np.random.default_rng(n)
    Z = np.concatenate([rng.normal(c, 1.0, (n // 3, 3)) for c in (0, 3, 6)])
    size = sample if sample is not None and len(Z) > sample else None
    with sklearn.config_context(working_memory=memory or 1024):
        score = _silhouette_scorer(Z, size, 42)
        for k in (2, 3, 5, 7):
            labels = KMeans(k, n_init=1, random_state=0).fit_predict(Z)
            assert score(labels) == silhouette_score(Z, labels, sample_size=size, random_state=42)


# --- segment profiles from one grouping -------------------------------------------------------


def _reference_segment_profiles(customers, by, order):
    """segment_profiles' figures worked out another way: one group at a time, plain NumPy."""
    key = customers[by]
    groups = sorted(key.dropna().unique().tolist())
    groups = [k for k in order if k in groups] + [k for k in groups if k not in order]
    stage = customers["lifecycle_stage"].astype(str) if "lifecycle_stage" in customers else None
    rows = []
    for k in groups:
        m = (key == k).to_numpy()
        col = {c: customers[c].to_numpy(np.float64)[m] for c in
               ("total_spend", "days_since_last", "purchase_days", "spend_per_line")}
        row = {by: k, "customers": np.int64(m.sum()), "customer_share": m.sum() / len(customers),
               "revenue_share": col["total_spend"].sum() / customers["total_spend"].sum(),
               "mean_days_since_last": col["days_since_last"].mean(),
               "mean_purchase_days": col["purchase_days"].mean(),
               "mean_spend_per_line": col["spend_per_line"].mean(),
               "mean_total_spend": col["total_spend"].mean(),
               "one_time_share": (col["purchase_days"] <= 1).mean()}
        if stage is not None:
            st = stage.to_numpy()[m]
            row["current_share"] = np.isin(st, ["new", "active"]).mean()
            row["at_risk_share"] = (st == "at risk").mean()
            row["lapsed_share"] = (st == "lapsed").mean()
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("by", ["rfm_segment", "value_tier", "cluster", "lifecycle_stage"])
@pytest.mark.parametrize("stages", [True, False])
def test_segment_profiles_equal_two_groupings(by, stages):
    df = seg.segment_customers(_customers(n=3000), SEG)
    df["cluster"] = np.arange(len(df)) % 4
    df.loc[::7, "rfm_segment"] = None  # customers without a group are left out, as before
    if not stages and by != "lifecycle_stage":
        df = df.drop(columns="lifecycle_stage")
    order = seg.SEGMENT_ORDER if by == "rfm_segment" else []
    got = rfm.segment_profiles(df, by)
    ref = _reference_segment_profiles(df, by, order)
    assert_frame_equal(got[ref.columns], ref)


# --- two dates' customers aligned by a binary search of their id bytes -----------------------


def _hash_align(before, after):
    import pyarrow.compute as pc

    b, a = migration._id_array(before), migration._id_array(after)
    return pc.index_in(b, value_set=a).fill_null(-1).to_numpy(zero_copy_only=False)


@pytest.mark.parametrize("ids", ["same-width", "ragged", "non-ascii", "long", "one-word"])
def test_sorted_alignment_equals_the_hash_join(ids):
    rng = np.random.default_rng(4)
    pool = {
        "same-width": [f"r{i:04d}-{j:05d}" for i in range(30) for j in range(40)],
        "ragged": [f"c{i}" for i in range(1500)] + ["c", "c0a", "d", "b" * 17],
        "non-ascii": [f"客户{i}" for i in range(400)] + [f"\\x7f{i}" for i in range(50)]
                     + [f"é{i}" for i in range(300)] + ["z", "ÿ", "a\\u0080"],
        "long": [f"{'x' * 30}{i:03d}" for i in range(300)],  # beyond four words: hashed
        "one-word": [f"{i:06d}" for i in range(900)],
    }[ids]
    pool = sorted(set(pool), key=lambda s: s.encode("utf-8"))
    before = pd.DataFrame({"customer_id": pd.array(
        [v for v in pool if rng.random() < 0.7], dtype="str")})
    after = pd.DataFrame({"customer_id": pd.array(
        [v for v in pool if rng.random() < 0.6], dtype="str")})
    pos = migration._align(before, after)
    assert pos.tolist() == _hash_align(before, after).tolist()
    assert (pos >= 0).sum() > 10 and (pos < 0).sum() > 10
    if ids != "long":
        b, a = migration._id_array(before), migration._id_array(after)
        assert migration._align_sorted(b, a) is not None  # the fast path ran


# --- the latest date's summary takes the customer ids without a take -------------------------


def test_summary_ids_with_and_without_every_customer():
    from crmlab.features import customer_summaries

    rng = np.random.default_rng(2)
    n = 3000
    tx = pd.DataFrame({
        "customer_id": pd.array([f"c{i:04d}" for i in rng.integers(0, 500, n)], dtype="str"),
        "date": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D"),
        "amount": np.round(rng.gamma(2, 10, n), 2),
    })
    late, early = customer_summaries(tx, ["2021-02-10", "2020-03-01"])
    for summary, end in ((late, "2021-02-10"), (early, "2020-03-01")):
        seen = tx.loc[tx["date"] <= end, "customer_id"]
        assert summary["customer_id"].tolist() == sorted(set(seen))
        assert summary["customer_id"].dtype == "str"
    assert len(early) < len(late)


@pytest.mark.parametrize("case", ["some", "none", "first"])
def test_lifecycle_display_fallback_gap_is_the_first_one_time_buyers(monkeypatch, case):
    from crmlab.segmentation import views

    df = seg.segment_customers(_customers(n=500), SEG)
    if case == "none":
        df = df[df["frequency"] > 0]
    elif case == "first":
        df = df.sort_values("frequency", kind="stable")
    one_time = df.loc[df["frequency"] == 0, "typical_gap"]  # the general selection
    expected = float(one_time.iloc[0]) if len(one_time) else None
    seen = []
    real = views.narrative.lifecycle_takeaway
    monkeypatch.setattr(views.narrative, "lifecycle_takeaway",
                        lambda life, fallback, **kw: seen.append(fallback) or real(life, fallback, **kw))
    views.lifecycle_display(df)
    assert seen == [expected]


# --- the k search fits its k values side by side on the cores ---------------------------------


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_k_search_on_threads_equals_one_k_after_another(monkeypatch, method):
    from crmlab.segmentation import cluster_count

    df = _customers(n=3000, seed=4)
    segmentation = {**SEG, "method": method, "k_range": [2, 6]}
    monkeypatch.setattr(cluster_count, "PARALLEL_MIN_CUSTOMERS", 10**9)
    serial = seg.k_search(df, segmentation, sample_size=500)
    threads = force_threads(monkeypatch, cluster_count, "PARALLEL_MIN_CUSTOMERS")
    parallel = seg.k_search(df, segmentation, sample_size=500)
    assert threads and threads[0]["max_workers"] == 2  # the threaded path ran
    assert_frame_equal(parallel, serial, check_exact=True)


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_bootstrap_refits_on_threads_equal_one_after_another(monkeypatch, method):
    from crmlab.segmentation import clusters

    df = _customers(n=3000, seed=5)
    segmentation = {**SEG, "method": method, "bootstrap": 5}
    labels = seg.fit_clusters(df, 3, segmentation)
    monkeypatch.setattr(clusters, "PARALLEL_MIN_CUSTOMERS", 10**9)
    serial = seg.cluster_stability(df, labels, segmentation)
    threads = force_threads(monkeypatch, clusters, "PARALLEL_MIN_CUSTOMERS")
    parallel = seg.cluster_stability(df, labels, segmentation, progress=True)
    assert threads and threads[0]["max_workers"] == 2  # the threaded path ran
    assert_frame_equal(parallel, serial, check_exact=True)
    assert len(serial) == 5 and serial["ari"].between(-1, 1).all()


def test_signed_log1p_is_the_formula_to_the_bit():
    from crmlab.segmentation.clusters import _signed_log1p

    x = np.array([[-0.0, 0.0, -2.5, 3.0], [np.inf, -np.inf, 1e-300, -1e300], [7.0, -7.0, 0.5, 1e6]])
    want = np.sign(x) * np.log1p(np.abs(x))
    got = _signed_log1p(x)
    assert got.dtype == np.float64 and got.shape == x.shape
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))  # no -0.0 where it had 0.0
    np.testing.assert_array_equal(_signed_log1p(pd.DataFrame(x)), want)  # a frame works too
    assert not np.shares_memory(got, x)  # the input is left alone
