"""Segmentation: RFM scores and segments, tiers, concentration, lifecycle, clusters, migration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal
from sklearn.metrics import adjusted_rand_score

from crmlab import segmentation as seg
from crmlab.config import params_from_dict
from crmlab.errors import InputError
from crmlab.segmentation import cluster_count, clusters

from conftest import segmentation_params  # tests/conftest.py

SEG = segmentation_params()

# Five customers whose scores are worked out by hand below (n = 5, so score = 1 + b where b
# counts the customers with a strictly worse value).
FIVE = pd.DataFrame(
    {
        "customer_id": ["c1", "c2", "c3", "c4", "c5"],
        "days_since_last": [0.0, 10.0, 10.0, 30.0, 100.0],
        "frequency": [4, 0, 0, 1, 2],
        "purchase_days": [5, 1, 1, 2, 3],
        "total_spend": [100.0, 20.0, 10.0, 50.0, 50.0],
        "spend_per_line": [20.0, 20.0, 10.0, 25.0, 50.0 / 3],
    }
)


# --- quantile scores ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, higher_is_better, expected",
    [
        (list(range(1, 11)), True, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]),
        ([0, 0, 0, 1, 2], True, [1, 1, 1, 4, 5]),
        ([0] * 6 + [1, 2, 3, 4], True, [1] * 6 + [4, 4, 5, 5]),  # scores 2 and 3 stay empty
        ([0, 10, 10, 30, 100], False, [5, 3, 3, 2, 1]),
        ([7, 7, 7], True, [1, 1, 1]),
        ([], True, []),
    ],
    ids=["distinct", "ties-low", "mass-at-zero", "recency", "all-equal", "empty"],
)
def test_quantile_scores(values, higher_is_better, expected):
    got = seg.quantile_scores(values, higher_is_better=higher_is_better)
    assert got.tolist() == expected


def test_quantile_scores_do_not_depend_on_row_order():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 4, 200).astype(float)  # many ties
    order = rng.permutation(200)
    base = seg.quantile_scores(values)
    assert (seg.quantile_scores(values[order]) == base[order]).all()


def test_quantile_scores_reject_missing():
    with pytest.raises(InputError, match="1 missing"):
        seg.quantile_scores([1.0, np.nan, 3.0])


# --- RFM scores and segments ----------------------------------------------------------------


@pytest.mark.parametrize(
    "monetary, m_expected",
    # average spend per purchase day: 20, 20, 10, 25, 16.67
    [("total", [5, 2, 1, 3, 3]), ("average", [3, 3, 1, 5, 2])],
    ids=["total", "average"],
)
def test_rfm_scores_by_hand(monetary, m_expected):
    before = FIVE.copy()
    got = seg.rfm_scores(FIVE, monetary)
    assert_frame_equal(FIVE, before)  # input untouched
    assert got["r_score"].tolist() == [5, 3, 3, 2, 1]
    assert got["f_score"].tolist() == [5, 1, 1, 3, 4]
    assert got["m_score"].tolist() == m_expected
    fm = [(f + m + 1) // 2 for f, m in zip([5, 1, 1, 3, 4], m_expected, strict=True)]
    assert got["fm_score"].tolist() == fm


@pytest.mark.parametrize(
    "frame, monetary, message",
    [
        (FIVE.drop(columns="days_since_last"), "total", "'days_since_last'"),
        (FIVE.drop(columns="purchase_days"), "average", "'purchase_days'"),
        (FIVE, "median", "rfm_monetary"),
    ],
    ids=["no-recency", "no-purchase-days", "bad-monetary"],
)
def test_rfm_scores_errors(frame, monetary, message):
    with pytest.raises(InputError, match=message):
        seg.rfm_scores(frame, monetary)


def test_rfm_segments_by_hand():
    got = seg.rfm_segments(seg.rfm_scores(FIVE, "total"))
    # codes R,FM: 55, 32, 31, 23, 14
    assert got["rfm_segment"].tolist() == [
        "Champions", "About to sleep", "About to sleep", "At risk", "Cannot lose"
    ]


@pytest.mark.parametrize(
    "code, segment",
    [("55", "Champions"), ("45", "Champions"), ("44", "Loyal"), ("35", "Loyal"),
     ("52", "Potential loyalist"), ("43", "Potential loyalist"), ("51", "New"),
     ("41", "Promising"), ("33", "Need attention"), ("31", "About to sleep"),
     ("23", "At risk"), ("13", "At risk"), ("25", "Cannot lose"), ("14", "Cannot lose"),
     ("22", "Hibernating"), ("12", "Lost"), ("11", "Lost")],
    ids=lambda v: str(v),
)
def test_default_segment_map(code, segment):
    assert seg.validate_segment_map()[code] == segment


def test_default_map_uses_every_documented_segment_and_covers_the_grid():
    codes = seg.validate_segment_map()
    assert len(codes) == 25
    assert set(codes.values()) == set(seg.SEGMENT_ORDER)
    grid = seg.segment_grid()
    assert grid.shape == (5, 5)
    assert grid.index.tolist() == [5, 4, 3, 2, 1] and grid.columns.tolist() == [1, 2, 3, 4, 5]
    assert grid.loc[5, 1] == "New" and grid.loc[1, 5] == "Cannot lose"


def test_custom_segment_map_first_match_wins():
    codes = seg.validate_segment_map({"55": "Stars", "5.": "Recent", ".*": "Others"})
    assert codes["55"] == "Stars" and codes["51"] == "Recent" and codes["11"] == "Others"
    got = seg.rfm_segments(seg.rfm_scores(FIVE, "total"), {"55": "Stars", "5.": "Recent", ".*": "Others"})
    assert got["rfm_segment"].tolist() == ["Stars", "Others", "Others", "Others", "Others"]


@pytest.mark.parametrize(
    "segment_map, message",
    [
        ({"5.": "Recent"}, "score code '41'"),
        ({"[": "Broken", ".*": "All"}, "not a regular expression"),
        ({".*": " "}, "needs a segment name"),
        ({}, "non-empty mapping"),
    ],
    ids=["uncovered", "bad-regex", "blank-name", "empty"],
)
def test_segment_map_errors(segment_map, message):
    with pytest.raises(InputError, match=message):
        seg.validate_segment_map(segment_map)


def test_rfm_segments_rejects_scores_outside_1_to_5():
    bad = seg.rfm_scores(FIVE, "total").assign(fm_score=[0, 1, 2, 3, 4])
    with pytest.raises(InputError, match="fm_score"):
        seg.rfm_segments(bad)


def test_rfm_grid_and_score_distribution_count_every_customer():
    scored = seg.rfm_scores(FIVE, "total")
    grid = seg.rfm_grid(scored)
    assert grid.to_numpy().sum() == 5 and grid.loc[5, 5] == 1 and grid.loc[3, 2] == 1
    dist = seg.score_distribution(scored)
    assert dist["f_score"].tolist() == [2, 0, 1, 1, 1]
    with pytest.raises(InputError, match="'fm_score'"):
        seg.rfm_grid(scored.drop(columns="fm_score"))
    with pytest.raises(InputError, match="'m_score'"):
        seg.score_distribution(scored.drop(columns="m_score"))


def test_segment_actions_cover_every_segment():
    actions = seg.segment_actions()
    assert actions["rfm_segment"].tolist() == seg.SEGMENT_ORDER
    assert actions["action"].str.len().gt(10).all()
    custom = seg.segment_actions(["Stars"])
    assert custom["action"].tolist() == ["(no action defined)"]


def test_segment_profiles_by_hand():
    customers = seg.rfm_segments(seg.rfm_scores(FIVE, "total"))
    got = seg.segment_profiles(customers)
    assert got["rfm_segment"].tolist() == ["Champions", "About to sleep", "At risk", "Cannot lose"]
    assert got["customers"].tolist() == [1, 2, 1, 1]
    assert got["customer_share"].tolist() == [0.2, 0.4, 0.2, 0.2]
    np.testing.assert_allclose(got["revenue_share"], [100 / 230, 30 / 230, 50 / 230, 50 / 230])
    assert got["mean_days_since_last"].tolist() == [0.0, 10.0, 30.0, 100.0]
    assert got["action"].notna().all()
    with pytest.raises(InputError, match="'rfm_segment'"):
        seg.segment_profiles(FIVE)


# --- value tiers and concentration ----------------------------------------------------------


@pytest.mark.parametrize(
    "spend, expected",
    [
        ([50, 30, 10, 10], ["high", "medium", "low", "low"]),
        ([60, 20, 10, 10], ["high", "medium", "low", "low"]),
        ([10, 90], ["low", "high"]),
        ([25, 25, 25, 25], ["high"] * 4),  # equal spend, equal tier
        ([40, 40, 10, 10], ["high", "high", "low", "low"]),
    ],
    ids=["threshold-crosser", "big-top", "unsorted", "all-equal", "tied-top"],
)
def test_value_tiers_by_hand(spend, expected):
    frame = pd.DataFrame({"customer_id": list("abcd")[: len(spend)], "total_spend": spend})
    got = seg.value_tiers(frame, {"high": 0.5, "medium": 0.8})
    assert got["value_tier"].tolist() == expected
    assert "value_tier" not in frame.columns


@pytest.mark.parametrize(
    "frame, tiers, message",
    [
        (pd.DataFrame({"total_spend": [0.0, 0.0]}), {"high": 0.5, "medium": 0.8}, "no positive"),
        (pd.DataFrame({"total_spend": [1.0]}), {"high": 0.8, "medium": 0.5}, "0 < high < medium"),
        (pd.DataFrame({"spend": [1.0]}), {"high": 0.5, "medium": 0.8}, "'total_spend'"),
        (pd.DataFrame({"total_spend": [1.0]}), {"high": 0.5}, "segmentation.tiers.medium"),
    ],
    ids=["no-revenue", "bad-order", "no-column", "missing-key"],
)
def test_value_tiers_errors(frame, tiers, message):
    with pytest.raises(InputError, match=message):
        seg.value_tiers(frame, tiers)


def test_tier_table_by_hand():
    frame = pd.DataFrame({"total_spend": [50.0, 30.0, 10.0, 10.0]})
    got = seg.tier_table(seg.value_tiers(frame, SEG["tiers"]), SEG["tiers"])
    expected = pd.DataFrame(
        {
            "value_tier": ["high", "medium", "low"],
            "customers": np.array([1, 1, 2], dtype=np.int64),
            "customer_share": [0.25, 0.25, 0.5],
            "revenue": [50.0, 30.0, 20.0],
            "revenue_share": [0.5, 0.3, 0.2],
            "mean_spend": [50.0, 30.0, 10.0],
        }
    )
    assert_frame_equal(got[expected.columns], expected, check_dtype=False)
    assert got["strategy"].str.startswith(("Protect", "Grow", "Serve")).all()
    assert "50%" in got.loc[0, "rule"]


def test_tier_table_lists_empty_tiers():
    frame = pd.DataFrame({"total_spend": [5.0, 5.0]})
    got = seg.tier_table(seg.value_tiers(frame, SEG["tiers"]), SEG["tiers"])
    assert got["customers"].tolist() == [2, 0, 0]
    assert np.isnan(got.loc[1, "mean_spend"])
    with pytest.raises(InputError, match="'value_tier'"):
        seg.tier_table(frame, SEG["tiers"])


def test_tier_strategies_errors():
    with pytest.raises(InputError, match="0 < high < medium"):
        seg.tier_strategies({"high": 0.9, "medium": 0.9})


@pytest.mark.parametrize(
    "spend, top, gini, top_share",
    [
        ([0, 0, 0, 1], 0.25, 0.75, 1.0),
        ([5, 5, 5, 5], 0.2, 0.0, 0.2),
        ([4, 1, 2, 1], 0.5, 10 / 32, 0.75),  # sorted 1,1,2,4: (-3 -1 +2 +12) / (4 * 8)
        ([1, 3], 0.25, 0.25, 0.375),  # top quarter: half of the top customer, interpolated
    ],
    ids=["one-has-all", "equal", "hand", "interpolated"],
)
def test_concentration_by_hand(spend, top, gini, top_share):
    c = seg.concentration(pd.Series(spend, dtype=float), top)
    assert c.gini == pytest.approx(gini)
    assert c.top_share == pytest.approx(top_share)
    assert c.customers == len(spend) and c.clipped == 0
    assert c.lorenz.iloc[0].tolist() == [0.0, 0.0] and c.lorenz.iloc[-1].tolist() == [1.0, 1.0]
    assert c.lorenz["revenue_share"].is_monotonic_increasing


def test_concentration_table_reads_the_curve():
    c = seg.concentration([1.0, 3.0], 0.2)
    got = c.at(5)
    expected = pd.DataFrame({"customer_share": [0.0, 0.25, 0.5, 0.75, 1.0],
                             "revenue_share": [0.0, 0.125, 0.25, 0.625, 1.0]})
    assert_frame_equal(got, expected)
    with pytest.raises(InputError, match="at least 2 points"):
        c.at(1)


def test_concentration_counts_negative_spend():
    c = seg.concentration([-5.0, 0.0, 0.0, 1.0], 0.2)
    assert c.clipped == 1 and c.gini == pytest.approx(0.75)


@pytest.mark.parametrize(
    "spend, top, message",
    [([1.0, 2.0], 1.0, "between 0 and 1"), ([], 0.2, "no customers"),
     ([1.0, np.nan], 0.2, "1 missing"), ([0.0, 0.0], 0.2, "no positive")],
    ids=["top", "empty", "missing", "zero"],
)
def test_concentration_errors(spend, top, message):
    with pytest.raises(InputError, match=message):
        seg.concentration(spend, top)


# --- lifecycle ------------------------------------------------------------------------------

LIFE = pd.DataFrame(
    {
        "customer_id": ["new1", "act", "risk", "laps", "edge", "one_risk", "one_laps", "new2"],
        "T": [20.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0, 30.0],
        "days_since_last": [20.0, 10.0, 20.0, 40.0, 15.0, 25.0, 35.0, 25.0],
        "frequency": [0, 3, 2, 1, 1, 0, 0, 2],
        "gap_mean": [np.nan, 10.0, 12.0, 8.0, 10.0, np.nan, np.nan, 5.0],
    }
)


def test_lifecycle_stages_by_hand():
    got = seg.lifecycle_stages(LIFE, SEG["lifecycle"])
    # repeat customers' gaps 10, 12, 8, 10, 5 -> median 10 for the one-time buyers
    assert got["typical_gap"].tolist() == [10.0, 10.0, 12.0, 8.0, 10.0, 10.0, 10.0, 5.0]
    assert got["lifecycle_stage"].tolist() == [
        "new", "active", "at risk", "lapsed", "active", "at risk", "lapsed", "new"
    ]
    assert "lifecycle_stage" not in LIFE.columns


def test_lifecycle_without_repeat_customers_falls_back_to_new_days():
    frame = LIFE[LIFE["frequency"] == 0]
    got = seg.lifecycle_stages(frame, SEG["lifecycle"])
    assert got["typical_gap"].tolist() == [30.0, 30.0, 30.0]
    assert got["lifecycle_stage"].tolist() == ["new", "active", "active"]


@pytest.mark.parametrize(
    "frame, lifecycle, message",
    [
        (LIFE, {"new_days": 30, "at_risk_factor": 3.0, "lapsed_factor": 3.0}, "below lapsed_factor"),
        (LIFE, {"new_days": 30, "at_risk_factor": 1.5}, "lifecycle.lapsed_factor"),
        (LIFE.drop(columns="gap_mean"), SEG["lifecycle"], "'gap_mean'"),
        (LIFE.assign(gap_mean=np.nan), SEG["lifecycle"], "repeat customers have no 'gap_mean'"),
    ],
    ids=["factors", "missing-key", "missing-column", "missing-gap"],
)
def test_lifecycle_errors(frame, lifecycle, message):
    with pytest.raises(InputError, match=message):
        seg.lifecycle_stages(frame, lifecycle)


def test_lifecycle_table_lists_every_stage_and_tier():
    frame = pd.DataFrame({"lifecycle_stage": ["active", "lapsed", "lapsed"],
                          "value_tier": ["high", "low", "low"]})
    got = seg.lifecycle_table(frame)
    assert got.index.tolist() == seg.LIFECYCLE_ORDER and got.columns.tolist() == seg.TIER_ORDER
    assert got.loc["lapsed", "low"] == 2 and got.to_numpy().sum() == 3
    with pytest.raises(InputError, match="'value_tier'"):
        seg.lifecycle_table(frame.drop(columns="value_tier"))


# --- the whole table at one date ------------------------------------------------------------

TX = pd.DataFrame(
    {
        "customer_id": ["a", "a", "a", "b", "c", "c", "d", "e"],
        "date": pd.to_datetime(["2020-01-01", "2020-01-11", "2020-02-20", "2019-10-01",
                                "2019-12-01", "2020-01-05", "2020-02-01", "2020-02-25"]),
        "amount": [10.0, 20.0, 30.0, 40.0, 7.0, 3.0, 8.0, 100.0],
    }
)


def test_segment_customers_adds_every_view_without_touching_the_input():
    from crmlab.features import customer_summary

    summary = customer_summary(TX, "2020-03-01")
    before = summary.copy()
    got = seg.segment_customers(summary, SEG)
    assert_frame_equal(summary, before)
    for col in ("r_score", "f_score", "m_score", "fm_score", "rfm_segment", "value_tier",
                "typical_gap", "lifecycle_stage"):
        assert col in got.columns
    assert set(got["value_tier"]) <= set(seg.TIER_ORDER)
    assert set(got["lifecycle_stage"]) <= set(seg.LIFECYCLE_ORDER)
    assert got.set_index("customer_id").at["e", "lifecycle_stage"] == "new"
    with pytest.raises(InputError, match="'customer_id'"):
        seg.segment_customers(summary.drop(columns="customer_id"), SEG)


@pytest.mark.parametrize(
    "periods, date, note",
    [
        ({"observation_end": "2020-03-01"}, "2020-03-01", "periods.observation_end"),
        ({"observation_end": None}, "2020-02-25", "last transaction date"),
        (None, "2020-02-25", "not set"),
    ],
    ids=["from-params", "null", "no-periods"],
)
def test_observation_date(periods, date, note):
    tx = TX.assign(date=TX["date"] + pd.Timedelta(hours=15))  # a time of day is dropped
    got, text = seg.observation_date(tx, periods)
    assert got == pd.Timestamp(date) and note in text


def test_observation_date_errors():
    with pytest.raises(InputError, match="no dated rows"):
        seg.observation_date(TX.iloc[:0], None)
    with pytest.raises(InputError, match="'date'"):
        seg.observation_date(TX.drop(columns="date"), None)


def test_customer_table_puts_spec_columns_first():
    frame = pd.DataFrame({c: [1, 2] for c in reversed(seg.PRODUCT_COLUMNS)})
    frame["customer_id"] = ["x", "y"]
    frame["total_spend"] = [1.0, 2.0]
    got = seg.customer_table(frame)
    assert got.columns.tolist() == seg.PRODUCT_COLUMNS + ["total_spend"]
    with pytest.raises(InputError, match="'cluster_name'"):
        seg.customer_table(frame.drop(columns="cluster_name"))
    with pytest.raises(InputError, match="not unique"):
        seg.customer_table(frame.assign(customer_id=["x", "x"]))


# --- clustering -----------------------------------------------------------------------------


def _blobs(n=100, seed=0):
    """Three well-separated groups in log space; returns customers and the true group."""
    rng = np.random.default_rng(seed)
    centres = [(10, 20, 100), (300, 1, 10), (60, 5, 1000)]  # days, purchase days, order value
    parts = []
    for g, (d, f, m) in enumerate(centres):
        noise = np.exp(rng.normal(0, 0.1, (n, 3)))
        parts.append(pd.DataFrame({"days_since_last": d * noise[:, 0],
                                   "purchase_days": f * noise[:, 1],
                                   "spend_per_line": m * noise[:, 2], "group": g}))
    df = pd.concat(parts, ignore_index=True).sample(frac=1, random_state=seed)
    df = df.reset_index(drop=True)
    df["customer_id"] = [f"{i:04d}" for i in range(len(df))]
    df["total_spend"] = df["purchase_days"] * df["spend_per_line"]
    df["frequency"] = np.round(df["purchase_days"]).astype(int) - 1
    return df


@pytest.mark.parametrize("method", ["kmeans", "gmm"], ids=["kmeans", "gmm"])
def test_clusters_recover_well_separated_groups(method):
    customers = _blobs()
    labels = seg.fit_clusters(customers, 3, {**SEG, "method": method})
    assert adjusted_rand_score(customers["group"], labels) > 0.9
    assert labels.index.equals(customers.index)
    # cluster 0 is the highest mean spender: the group centred on 5 x 1000
    assert customers.loc[labels == 0, "group"].mode().iloc[0] == 2


def test_k_search_picks_the_true_number_of_groups():
    customers = _blobs()
    search = seg.k_search(customers, SEG)
    assert search["k"].tolist() == [2, 3, 4, 5]
    assert seg.choose_k(search) == 3
    assert search["inertia"].notna().all() and search["bic"].isna().all()
    assert search.set_index("k").at[3, "silhouette"] > 0.7


def test_clustering_is_reproducible_with_the_seed():
    customers = _blobs()
    a = seg.fit_clusters(customers, 4, SEG)
    b = seg.fit_clusters(customers, 4, SEG)
    assert_series_equal(a, b)


@pytest.mark.parametrize(
    "search, k, expected",
    [
        (pd.DataFrame({"k": [2, 3, 4], "silhouette": [0.5, 0.5, 0.4],
                       "calinski_harabasz": [10.0, 20.0, 30.0]}), None, 3),
        (pd.DataFrame({"k": [2, 3], "silhouette": [0.6, 0.5],
                       "calinski_harabasz": [1.0, 9.0]}), None, 2),
        (pd.DataFrame({"k": [2, 3], "silhouette": [0.6, 0.5],
                       "calinski_harabasz": [1.0, 9.0]}), 5, 5),
    ],
    ids=["tie-broken-by-ch", "silhouette-decides", "fixed-k"],
)
def test_choose_k(search, k, expected):
    assert seg.choose_k(search, k) == expected


def test_choose_k_and_k_search_errors():
    nan = pd.DataFrame({"k": [2], "silhouette": [np.nan], "calinski_harabasz": [np.nan]})
    with pytest.raises(InputError, match="could be scored"):
        seg.choose_k(nan)
    with pytest.raises(InputError, match="too few"):
        seg.k_search(_blobs().head(2), SEG)
    with pytest.raises(InputError, match="segmentation.method"):
        seg.k_search(_blobs(), {**SEG, "method": "dbscan"})
    with pytest.raises(InputError, match="'spend_per_line'"):
        seg.fit_clusters(_blobs().drop(columns="spend_per_line"), 3, SEG)
    with pytest.raises(InputError, match="no finite 'purchase_days'"):
        seg.fit_clusters(_blobs().assign(purchase_days=np.inf), 3, SEG)


def test_cluster_stability_on_clear_groups():
    customers = _blobs()
    labels = seg.fit_clusters(customers, 3, SEG)
    got = seg.cluster_stability(customers, labels, SEG)
    assert got["resample"].tolist() == [1, 2, 3]
    assert (got["ari"] > 0.9).all()
    assert seg.cluster_stability(customers, labels, {**SEG, "bootstrap": 0}).empty
    with pytest.raises(InputError, match="labels"):
        seg.cluster_stability(customers, labels[:10], SEG)


def test_name_clusters_by_rule():
    profiles = pd.DataFrame(
        {
            "cluster": [0, 1, 2, 3],
            "one_time_share": [0.0, 0.9, 0.2, 0.2],
            "z_days_since_last": [-1.0, 1.0, 0.0, 0.0],
            "z_purchase_days": [1.0, -1.0, 0.0, 0.0],
            "z_spend_per_line": [1.0, -1.0, 0.0, 0.0],
        }
    )
    assert seg.name_clusters(profiles).tolist() == [
        "recent frequent buyers, high spend per line",
        "lapsed one-time buyers, low spend per line",
        "occasional buyers, mid spend per line (2)",
        "occasional buyers, mid spend per line (3)",
    ]
    with pytest.raises(InputError, match="'one_time_share'"):
        seg.name_clusters(profiles.drop(columns="one_time_share"))


def test_cluster_profiles_and_assignment():
    customers = _blobs()
    labels = seg.fit_clusters(customers, 3, SEG)
    got = seg.assign_clusters(customers, labels)
    assert "cluster" not in customers.columns
    prof = seg.cluster_profiles(got)
    assert prof["cluster"].tolist() == [0, 1, 2]
    assert prof["customers"].sum() == 300
    assert prof["customer_share"].sum() == pytest.approx(1.0)
    assert prof["revenue_share"].sum() == pytest.approx(1.0)
    assert prof["revenue_share"].iloc[0] == prof["revenue_share"].max()
    names = dict(zip(prof["cluster"], prof["cluster_name"], strict=True))
    assert got["cluster_name"].tolist() == [names[c] for c in got["cluster"]]
    # the recent, frequent group (centre 10 days, 20 purchase days) is named so
    recent = got.loc[got["group"] == 0, "cluster_name"].iloc[0]
    assert recent.startswith("recent frequent")
    with pytest.raises(InputError, match="labels"):
        seg.assign_clusters(customers, labels[:5])
    with pytest.raises(InputError, match="'cluster'"):
        seg.cluster_profiles(customers)


def test_cluster_projection_draws_at_most_max_points():
    customers = seg.assign_clusters(_blobs(), seg.fit_clusters(_blobs(), 3, SEG))
    points, explained = seg.cluster_projection(customers, seed=1, max_points=50)
    assert len(points) == 50 and list(points.columns) == ["pc1", "pc2", "cluster"]
    assert len(explained) == 2 and 0 < explained.sum() <= 1
    with pytest.raises(InputError, match="'cluster'"):
        seg.cluster_projection(_blobs(), 1)


# --- migration ------------------------------------------------------------------------------

BEFORE = pd.DataFrame({"customer_id": ["1", "2", "3", "4"],
                       "value_tier": ["high", "high", "medium", "low"],
                       "total_spend": [100.0, 80.0, 30.0, 5.0]})
AFTER = pd.DataFrame({"customer_id": ["1", "2", "3", "4", "5"],
                      "value_tier": ["high", "medium", "low", "low", "medium"],
                      "total_spend": [150.0, 80.0, 30.0, 5.0, 40.0],
                      "lifecycle_stage": ["active", "at risk", "lapsed", "lapsed", "new"]})


def test_transition_matrix_by_hand():
    got = seg.transition_matrix(BEFORE, AFTER, "value_tier", seg.TIER_ORDER)
    expected = pd.DataFrame(
        [[0, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 1]],
        index=pd.Index([seg.NEW_CUSTOMER, "high", "medium", "low"], name="value_tier_before"),
        columns=pd.Index(["high", "medium", "low"], name="value_tier_after"),
        dtype=np.int64,
    )
    assert_frame_equal(got, expected)
    shares = seg.transition_matrix(BEFORE, AFTER, "value_tier", seg.TIER_ORDER, normalise=True)
    assert_frame_equal(shares, expected.div(expected.sum(axis=1), axis=0))


def test_transition_matrix_keeps_empty_rows_and_customers_not_listed_after():
    before = pd.concat([BEFORE, pd.DataFrame({"customer_id": ["9"], "value_tier": ["low"],
                                              "total_spend": [1.0]})])
    got = seg.transition_matrix(before, AFTER.iloc[:4], "value_tier", seg.TIER_ORDER)
    assert got.columns.tolist() == ["high", "medium", "low", seg.NOT_LISTED]
    assert got.loc["low", seg.NOT_LISTED] == 1
    assert got.loc[seg.NEW_CUSTOMER].sum() == 0
    shares = seg.transition_matrix(before, AFTER.iloc[:4], "value_tier", seg.TIER_ORDER, True)
    assert shares.loc[seg.NEW_CUSTOMER].isna().all()  # no customers: no shares


@pytest.mark.parametrize(
    "before, after, message",
    [
        (BEFORE.drop(columns="value_tier"), AFTER, "before: required column 'value_tier'"),
        (BEFORE, pd.concat([AFTER, AFTER.iloc[:1]]), "after: 'customer_id' is not unique"),
    ],
    ids=["missing-column", "duplicate-id"],
)
def test_transition_matrix_errors(before, after, message):
    with pytest.raises(InputError, match=message):
        seg.transition_matrix(before, after, "value_tier")


def test_transition_summary_and_sentence_by_hand():
    counts = seg.transition_matrix(BEFORE, AFTER, "value_tier", seg.TIER_ORDER)
    got = seg.transition_summary(counts)
    expected = pd.DataFrame(
        {
            "group": [seg.NEW_CUSTOMER, "high", "medium", "low"],
            "customers": [1, 2, 1, 1],
            "stayed": [np.nan, 0.5, 0.0, 1.0],
            "main_move": ["medium", "medium", "low", None],
            "main_move_share": [1.0, 0.5, 1.0, 0.0],
        }
    )
    assert_frame_equal(got, expected, check_dtype=False)
    text = seg.describe_transitions(counts, ["high", "low"])
    assert text == ("of the 2 *high*, 50% stayed and 50% moved to *medium*; "
                    "of the 1 *low*, 100% stayed and nobody moved.")
    assert seg.describe_transitions(pd.DataFrame()) == "there is no earlier date to compare with."
    with pytest.raises(InputError, match="expected a DataFrame"):
        seg.transition_summary(None)


def test_moved_down_by_hand():
    got = seg.moved_down(BEFORE, AFTER)
    expected = pd.DataFrame(
        {
            "customer_id": ["2", "3"],
            "value_tier_before": ["high", "medium"],
            "value_tier_after": ["medium", "low"],
            "total_spend_before": [80.0, 30.0],
            "total_spend_after": [80.0, 30.0],
            "lifecycle_stage": ["at risk", "lapsed"],
        }
    )
    assert_frame_equal(got, expected)
    with pytest.raises(InputError, match="'platinum' is not one of"):
        seg.moved_down(BEFORE.assign(value_tier="platinum"), AFTER)


def test_dynamic_view_at_two_dates():
    from crmlab.features import customer_summary

    after = seg.segment_customers(customer_summary(TX, "2020-03-01"), SEG)
    view = seg.dynamic_view(TX, after, "2020-01-15", "2020-03-01", SEG)
    assert view.before["customer_id"].tolist() == ["a", "b", "c"]  # d and e came later
    counts = view.counts["value_tier"]
    assert counts.loc[seg.NEW_CUSTOMER].sum() == 2
    assert counts.to_numpy().sum() == 5
    assert set(view.shares) == {"value_tier", "lifecycle_stage", "rfm_segment"}
    assert "2 of them new since" in view.note


def test_dynamic_view_takes_the_earlier_summary_when_given():
    from crmlab.features import customer_summaries

    after_summary, before_summary = customer_summaries(TX, ["2020-03-01", "2020-01-15"])
    after = seg.segment_customers(after_summary, SEG)
    ref = seg.dynamic_view(TX, after, "2020-01-15", "2020-03-01", SEG)
    got = seg.dynamic_view(TX, after, "2020-01-15", "2020-03-01", SEG,
                           before_summary=before_summary)
    assert_frame_equal(got.before, ref.before, check_exact=True)
    assert_frame_equal(got.down, ref.down, check_exact=True)
    for col in ref.counts:
        assert_frame_equal(got.counts[col], ref.counts[col], check_exact=True)
        assert_frame_equal(got.shares[col], ref.shares[col], check_exact=True)
    assert got.note == ref.note
    with pytest.raises(InputError, match="no purchases on or before"):
        seg.dynamic_view(TX, after, "2020-01-15", "2020-03-01", SEG,
                         before_summary=before_summary.iloc[:0])


def test_dynamic_view_without_an_earlier_date_says_so():
    view = seg.dynamic_view(TX, AFTER, None, "2020-03-01", SEG)
    assert view.before_date is None and "calibration_end" in view.note
    assert view.counts["value_tier"].empty and view.down.empty


def test_dynamic_view_and_snapshot_errors():
    with pytest.raises(InputError, match="must be before"):
        seg.dynamic_view(TX, AFTER, "2020-03-01", "2020-03-01", SEG)
    with pytest.raises(InputError, match="no purchases on or before 2019-01-01"):
        seg.snapshot(TX, "2019-01-01", SEG)


# --- params ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "segmentation, message",
    [
        ({"segment_map": {"5.": "Recent"}}, "key 'segmentation.segment_map': score code '41'"),
        ({"segment_map": {"[": "x"}}, "key 'segmentation.segment_map'"),
        ({"lifecycle": {"at_risk_factor": 4.0}}, "need at_risk_factor < lapsed_factor"),
        ({"rfm_monetary": "sum"}, "key 'segmentation.rfm_monetary'"),
        ({"k": 1}, "key 'segmentation.k'"),
    ],
    ids=["uncovered-map", "bad-regex", "factors", "monetary", "k"],
)
def test_params_are_checked_at_the_door(segmentation, message):
    with pytest.raises(InputError, match=message):
        params_from_dict({"segmentation": segmentation}, source="p.yaml")


def test_params_accept_a_custom_map_with_yaml_int_keys():
    p = params_from_dict({"segmentation": {"segment_map": {55: "Stars", ".*": "Others"}}})
    assert p.segmentation.segment_map == {"55": "Stars", ".*": "Others"}
    assert p.segmentation.k is None and p.segmentation.rfm_monetary == "total"


# --- scale: no search when k is fixed, samples when customers are many ---------------------------


def test_k_search_does_not_run_when_k_is_fixed(monkeypatch):
    def no_fit(*args, **kwargs):
        raise AssertionError("a model was fitted although segmentation.k is fixed")

    monkeypatch.setattr(cluster_count, "_estimator", no_fit)  # where k_search finds it
    search = seg.k_search(_blobs(), {**SEG, "k": 4})
    assert search.empty and "silhouette" in search.columns
    assert seg.choose_k(search, 4) == 4
    assert seg.k_search_note(search, 4).startswith("k = 4 is fixed in the params")


@pytest.mark.parametrize("fit_sample, used", [(10_000, 300), (120, 120)],
                         ids=["all-customers", "sample"])
def test_k_search_fits_on_a_seeded_sample_and_says_so(fit_sample, used):
    customers = _blobs()  # 300 customers in 3 groups
    search = seg.k_search(customers, SEG, fit_sample=fit_sample)
    assert (search["customers"] == used).all() and (search["of_customers"] == 300).all()
    assert seg.choose_k(search) == 3  # a sample of 120 still finds the 3 groups
    note = seg.k_search_note(search)
    assert ("sample of 120 of the 300" in note) == (used < 300)
    again = seg.k_search(customers, SEG, fit_sample=fit_sample)
    assert_frame_equal(search, again)  # the sample is drawn with the seed


def test_fit_clusters_on_a_sample_assigns_every_customer(monkeypatch):
    customers = _blobs()
    full = seg.fit_clusters(customers, 3, SEG)
    monkeypatch.setattr(clusters, "FIT_SAMPLE", 100)  # where fit_clusters reads it
    sampled = seg.fit_clusters(customers, 3, SEG)
    assert len(sampled) == len(customers) and sampled.index.equals(customers.index)
    assert adjusted_rand_score(full, sampled) > 0.95
    stability = seg.cluster_stability(customers, sampled, {**SEG, "bootstrap": 2})
    assert len(stability) == 2 and (stability["ari"] > 0.9).all()


def _merge_transitions(before, after, col, order):
    """The transition counts by an outer merge and a crosstab (the obvious way)."""
    m = before[["customer_id", col]].merge(after[["customer_id", col]], on="customer_id",
                                           how="outer", suffixes=("_b", "_a"))
    b = m[f"{col}_b"].astype(object).where(m[f"{col}_b"].notna(), seg.NEW_CUSTOMER)
    a = m[f"{col}_a"].astype(object).where(m[f"{col}_a"].notna(), seg.NOT_LISTED)
    return pd.crosstab(b.astype(str), a.astype(str))


@pytest.mark.parametrize("seed", [0, 1, 2], ids=["seed0", "seed1", "seed2"])
def test_transitions_by_codes_equal_a_merge_and_crosstab(seed):
    rng = np.random.default_rng(seed)
    ids = np.array([f"k{i:05d}" for i in range(2000)])
    b_ids = rng.choice(ids, 1200, replace=False)
    a_ids = rng.choice(ids, 1500, replace=False)
    before = pd.DataFrame({"customer_id": pd.array(b_ids, dtype="str"),
                           "value_tier": rng.choice(seg.TIER_ORDER, len(b_ids)),
                           "total_spend": rng.gamma(2, 10, len(b_ids))})
    after = pd.DataFrame({"customer_id": pd.array(a_ids, dtype="str"),
                          "value_tier": rng.choice(seg.TIER_ORDER, len(a_ids)),
                          "total_spend": rng.gamma(2, 10, len(a_ids))})
    got = seg.transition_matrix(before, after, "value_tier", seg.TIER_ORDER)
    ref = _merge_transitions(before, after, "value_tier", seg.TIER_ORDER)
    ref = ref.reindex(index=got.index, columns=got.columns, fill_value=0)
    np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())
    down = seg.moved_down(before, after)
    rank = {t: i for i, t in enumerate(seg.TIER_ORDER)}
    m = before.merge(after, on="customer_id", suffixes=("_before", "_after"))
    expected = m[m["value_tier_after"].map(rank) > m["value_tier_before"].map(rank)]
    assert sorted(down["customer_id"]) == sorted(expected["customer_id"])
    assert down["total_spend_before"].is_monotonic_decreasing


@pytest.mark.parametrize("n", [50, 25_000], ids=["every-customer", "thinned"])
def test_concentration_curve_is_exact_where_kept(n):
    rng = np.random.default_rng(5)
    spend = rng.gamma(0.5, 100.0, n)
    conc = seg.concentration(spend, 0.2)
    x = np.sort(spend)
    i = np.arange(1, n + 1)
    assert conc.gini == pytest.approx(((2 * i - n - 1) * x).sum() / (n * x.sum()), rel=1e-12)
    assert len(conc.lorenz) == min(n + 1, 10_001)
    # every kept point lies on the exact curve
    k = np.round(conc.lorenz["customer_share"].to_numpy() * n).astype(int)
    exact = np.concatenate([[0.0], np.cumsum(x)])[k] / x.sum()
    np.testing.assert_allclose(conc.lorenz["revenue_share"], exact, rtol=1e-9, atol=1e-12)
    assert conc.at(21)["revenue_share"].iloc[-1] == 1.0
