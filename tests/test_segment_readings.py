"""Segment readings (crmlab.segmentation): K&R silhouette labels, ties, segment names against their profiles."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from crmlab import segmentation as seg
from crmlab.errors import InputError

# --- silhouette -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [(0.95, "strong"), (0.71, "strong"), (0.70, "reasonable"), (0.51, "reasonable"),
     (0.50, "weak"), (0.41, "weak"), (0.26, "weak"), (0.25, "no substantial"),
     (0.0, "no substantial"), (-0.3, "no substantial")],
    ids=["0.95", "0.71", "0.70", "0.51", "0.50", "0.41-cdnow", "0.26", "0.25", "0", "negative"],
)
def test_silhouette_strength_kaufman_rousseeuw(value, expected):
    assert seg.silhouette_strength(value) == expected


@pytest.mark.parametrize("bad", [float("nan"), 1.5, -1.01, "high", None],
                         ids=["nan", "above-1", "below-1", "text", "none"])
def test_silhouette_strength_rejects_non_silhouettes(bad):
    with pytest.raises(InputError, match="silhouette"):
        seg.silhouette_strength(bad)


# the CDNOW default run: k = 4 at 0.4108 against k = 3 at 0.4093
SEARCH = pd.DataFrame({
    "k": [3, 4, 5, 6],
    "silhouette": [0.4093, 0.4108, 0.3710, 0.4010],
    "calinski_harabasz": [18990.9, 17768.8, 16429.7, 15448.6],
})


@pytest.mark.parametrize(
    "k, tolerance, expected",
    [(4, 0.01, [3, 6]), (4, 0.005, [3]), (4, 0.0, []), (5, 0.01, []), (6, 0.0098, [3, 4])],
    ids=["cdnow-tie", "tighter", "exact-only", "clear-loser", "gap-equal-to-tolerance"],
)
def test_silhouette_ties(k, tolerance, expected):
    assert seg.silhouette_ties(SEARCH, k, tolerance) == expected


def test_silhouette_ties_errors():
    with pytest.raises(InputError, match="k = 9 was not scored"):
        seg.silhouette_ties(SEARCH, 9)
    with pytest.raises(InputError, match=">= 0"):
        seg.silhouette_ties(SEARCH, 4, -0.1)
    with pytest.raises(InputError, match="'silhouette' missing"):
        seg.silhouette_ties(SEARCH.drop(columns="silhouette"), 4)


def test_k_search_reading_says_weak_and_tie():
    text = seg.k_search_reading(SEARCH, 4, tolerance=0.005)
    assert "**k = 4** (the best silhouette of the search): mean silhouette 0.411" in text
    assert "a **weak structure**" in text and "not natural groups" in text
    assert "**A tie:** k = 3 (0.409) is within 0.005" in text
    assert "Calinski–Harabasz prefers k = 3" in text
    fixed = seg.k_search_reading(SEARCH, 3, fixed=True, tolerance=0.005)
    assert "fixed in the params" in fixed and "prefers" not in fixed
    strong = pd.DataFrame({"k": [2, 3], "silhouette": [0.8, 0.5], "calinski_harabasz": [9.0, 5.0]})
    text = seg.k_search_reading(strong, 2)
    assert "**strong structure**" in text and "tie" not in text.lower()
    with pytest.raises(InputError, match="k = 7 was not scored"):
        seg.k_search_reading(SEARCH, 7)


# --- segment names --------------------------------------------------------------------------


def _profiles(**cols):
    base = {"rfm_segment": ["Champions", "Loyal", "At risk", "Lost", "Custom"],
            "customers": [100, 50, 40, 30, 20],
            "mean_days_since_last": [20.0, 332.0, 500.0, 40.0, 90.0],
            "current_share": [0.9, 0.25, 0.0, 0.7, 0.5],
            "at_risk_share": [0.1, 0.2, 0.0, 0.1, 0.0],
            "lapsed_share": [0.0, 0.55, 1.0, 0.2, 0.5],
            "one_time_share": [0.0, 0.1, 0.6, 0.9, 1.0]}
    base.update(cols)
    return pd.DataFrame(base)


def test_segment_name_check_hand_built_profiles():
    got = seg.segment_name_check(_profiles())
    expected = pd.DataFrame({
        "rfm_segment": ["Champions", "Loyal", "At risk", "Lost", "Custom"],
        "profile": ["mostly active repeat buyers", "mostly lapsed repeat buyers",
                    "mostly lapsed one-time buyers", "mostly active one-time buyers",
                    "mixed one-time buyers"],
        "fits": [True, False, False, False, True],
    })
    assert_frame_equal(got[["rfm_segment", "profile", "fits"]], expected)
    w = dict(zip(got["rfm_segment"], got["warning"], strict=True))
    assert w["Champions"] == "" and w["Custom"] == ""  # no claim for a custom name
    assert w["Loyal"] == (
        "'Loyal' suggests repeat customers who still buy, but 55% of them have lapsed (mean 332 "
        "days since the last purchase, 50 customers): read it as **mostly lapsed repeat buyers**.")
    assert "100% of them have already lapsed" in w["At risk"]
    assert "70% of them are still active" in w["Lost"]


@pytest.mark.parametrize(
    "segment, cols, fits",
    [
        ("Champions", {"one_time_share": [0.6] + [0.0] * 4}, False),  # "often" but one-timers
        ("Champions", {"lapsed_share": [0.5] + [0.0] * 4}, True),  # half is not a majority
        ("At risk", {"lapsed_share": [0.0, 0.0, 0.2, 0.0, 0.0],
                     "current_share": [0.0, 0.0, 0.8, 0.0, 0.0]}, False),  # still active
        ("At risk", {"lapsed_share": [0.0, 0.0, 0.3, 0.0, 0.0],
                     "at_risk_share": [0.0, 0.0, 0.6, 0.0, 0.0],
                     "current_share": [0.0, 0.0, 0.1, 0.0, 0.0]}, True),
        ("Lost", {"current_share": [0.0, 0.0, 0.0, 0.2, 0.0]}, True),
    ],
    ids=["champions-one-time", "champions-half-lapsed", "at-risk-active", "at-risk-fits",
         "lost-fits"],
)
def test_segment_name_check_rules(segment, cols, fits):
    got = seg.segment_name_check(_profiles(**cols)).set_index("rfm_segment")
    assert bool(got.at[segment, "fits"]) is fits
    assert (got.at[segment, "warning"] == "") is fits


def test_segment_name_check_errors():
    with pytest.raises(InputError, match="'lapsed_share' missing"):
        seg.segment_name_check(_profiles().drop(columns="lapsed_share"))
    with pytest.raises(InputError, match="unknown status 'asleep'"):
        seg.segment_name_check(_profiles(), {"Loyal": {"status": "asleep"}})


def test_segment_labels_and_reading():
    check = seg.segment_name_check(_profiles())
    labels = seg.segment_labels(check)
    assert labels["Champions"] == "Champions"
    assert labels["Loyal"] == "Loyal (in fact: mostly lapsed repeat buyers)"
    text = seg.reading_segment_names(check)
    assert text.startswith("**3 segment name(s) overstate their customers.**")
    fine = check.loc[check["fits"]]
    assert seg.reading_segment_names(fine).startswith("Every segment's name fits")
    with pytest.raises(InputError, match="'fits' missing"):
        seg.segment_labels(check.drop(columns="fits"))


def test_segment_profiles_feed_the_name_check():
    # five customers worked out by hand: lifecycle and one-time shares per segment
    customers = pd.DataFrame({
        "rfm_segment": ["Loyal", "Loyal", "Loyal", "Lost", "Lost"],
        "lifecycle_stage": ["lapsed", "lapsed", "active", "lapsed", "new"],
        "total_spend": [10.0, 20.0, 30.0, 5.0, 5.0],
        "days_since_last": [300.0, 400.0, 10.0, 500.0, 5.0],
        "purchase_days": [3, 2, 4, 1, 1],
        "spend_per_line": [5.0, 10.0, 7.5, 5.0, 5.0],
    })
    prof = seg.segment_profiles(customers).set_index("rfm_segment")
    assert prof.at["Loyal", "lapsed_share"] == pytest.approx(2 / 3)
    assert prof.at["Loyal", "current_share"] == pytest.approx(1 / 3)
    assert prof.at["Lost", "current_share"] == 0.5  # "new" counts as current
    assert prof.at["Lost", "one_time_share"] == 1.0
    check = seg.segment_name_check(prof.reset_index()).set_index("rfm_segment")
    assert not check.at["Loyal", "fits"] and check.at["Lost", "fits"]
    without = seg.segment_profiles(customers.drop(columns="lifecycle_stage"))
    assert "lapsed_share" not in without and "one_time_share" in without


# --- transition layout ------------------------------------------------------------------------


def test_align_transitions_puts_stayed_on_the_diagonal():
    before = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                           "value_tier": ["high", "medium", "low", "low"]})
    after = pd.DataFrame({"customer_id": ["a", "b", "c", "e"],
                          "value_tier": ["high", "low", "low", "medium"]})
    m = seg.transition_matrix(before, after, "value_tier", order=seg.TIER_ORDER)
    assert m.index[0] == seg.NEW_CUSTOMER  # the raw layout shifts the diagonal
    got = seg.align_transitions(m)
    assert list(got.index) == ["high", "medium", "low", seg.NEW_CUSTOMER]
    assert list(got.columns) == list(m.columns)
    # the diagonal reads "stayed": a stayed high, c stayed low, nobody stayed medium
    assert [int(got.iat[i, i]) for i in range(3)] == [1, 0, 1]
    assert int(got.loc[seg.NEW_CUSTOMER, "medium"]) == 1
    with pytest.raises(InputError, match="expected a DataFrame"):
        seg.align_transitions([[1]])


def test_spend_measures_are_three_distinct_columns():
    assert list(seg.SPEND_MEASURES) == ["total_spend", "spend_per_line", "monetary_value"]
    assert "spend_per_line" in seg.CLUSTER_FEATURES and "avg_order_value" not in seg.CLUSTER_FEATURES


def test_score_ranges_label_each_score_with_its_days():
    customers = pd.DataFrame({"r_score": [5, 5, 3, 3, 1], "days_since_last": [0, 40, 231, 389.4, 1500]})
    assert seg.score_ranges(customers) == {
        1: "1 (1,500–1,500 days)", 3: "3 (231–389 days)", 5: "5 (0–40 days)"}
    assert seg.score_ranges(customers.iloc[:0]) == {}
    with pytest.raises(InputError, match="'days_since_last' missing"):
        seg.score_ranges(customers[["r_score"]])


def test_checked_actions_say_one_thing():
    prof = _profiles().assign(action=["reward", "upsell", "retain", "let go", "custom"])
    got = seg.checked_actions(prof, seg.segment_name_check(prof))
    assert got["action"].tolist() == [
        "reward",  # fits: kept
        seg.PROFILE_ACTIONS["mostly lapsed repeat buyers"],  # 'Loyal', mostly lapsed
        seg.PROFILE_ACTIONS["mostly lapsed one-time buyers"],  # 'At risk', all lapsed
        seg.PROFILE_ACTIONS["mostly active one-time buyers"],  # 'Lost', mostly active
        "custom",  # no claim: kept
    ]
    assert got["profile"].iloc[1] == "mostly lapsed repeat buyers"
    assert prof["action"].iloc[1] == "upsell"  # the input is not changed
    mixed = _profiles(lapsed_share=[0.0, 0.45, 1.0, 0.2, 0.5], current_share=[0.9, 0.1, 0.0, 0.7, 0.5],
                      at_risk_share=[0.1, 0.45, 0.0, 0.1, 0.0], one_time_share=[0.0, 0.6, 0.6, 0.9, 1.0])
    mixed = mixed.assign(action=["a", "upsell", "c", "d", "e"])
    got = seg.checked_actions(mixed, seg.segment_name_check(mixed)).set_index("rfm_segment")
    assert got.at["Loyal", "action"] == "upsell"  # one-time majority but mixed status: kept
    with pytest.raises(InputError, match=r"no row for \['Other'\]"):
        seg.checked_actions(prof.assign(rfm_segment=["Other"] + prof["rfm_segment"].tolist()[1:]),
                           seg.segment_name_check(prof))
