"""Segmentation sentences: each takeaway says the numbers it was given, and says when there
is nothing to say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab import segmentation as seg
from crmlab.segmentation import narrative


def test_observation_source_says_where_the_date_came_from():
    day = pd.Timestamp("1998-06-30")
    assert narrative.observation_source(day, True) == "periods.observation_end = 1998-06-30"
    assert narrative.observation_source(day, False).startswith("the last transaction date, 1998-06-30")


def test_customer_base_note():
    summary = pd.DataFrame({"orders": [1, 3, 2, 2], "frequency": [0, 2, 0, 1],
                            "days_since_last": [10.0, 20.0, 30.0, 40.0]})
    got = narrative.customer_base_note(summary, "CDNOW", "the as-of date")
    assert got.startswith("**4 customers** of CDNOW from 8 clean transactions")
    assert "50% of them bought on a single day" in got and "last bought 25 days" in got


@pytest.mark.parametrize("counts, expected", [
    ([[2, 1], [1, 2]], "Customers per score. Every score is used."),
    ([[2, 0], [0, 0]], "Customers per score. Empty because ties are kept together: r_score 2, "
                       "f_score 1, f_score 2."),
], ids=["all-used", "empty"])
def test_score_note_lists_empty_scores(counts, expected):
    scores = pd.DataFrame(counts, index=pd.Index([1, 2], name="score"),
                          columns=["r_score", "f_score"])
    assert narrative.score_note(scores) == expected


def test_rfm_grid_takeaway_names_the_busiest_cell_and_r3_in_days():
    grid = seg.rfm_grid(pd.DataFrame({"r_score": [5, 5, 3], "fm_score": [5, 5, 1]}))
    got = narrative.rfm_grid_takeaway(grid, seg.segment_grid(), {3: "3 (231–389 days)"})
    assert "R = 5, FM = 5 (*Champions*, 2 customers)" in got
    assert got.endswith("R = 3 is 231–389 days since the last purchase.")
    assert narrative.rfm_grid_takeaway(grid, seg.segment_grid(), {}).endswith("means here.")


def test_stability_takeaway():
    assert "not checked" in narrative.stability_takeaway(pd.DataFrame({"ari": []}))
    stable = narrative.stability_takeaway(pd.DataFrame({"ari": [0.95, 0.97]}))
    assert stable == ("over 2 bootstrap refits the mean ARI is 0.960 (lowest 0.950): "
                      "the clusters are stable.")
    assert "soft" in narrative.stability_takeaway(pd.DataFrame({"ari": [0.5, 0.97]}))


def test_lorenz_and_tiers_takeaways():
    conc = seg.concentration([1.0, 1.0, 2.0, 6.0, -1.0], 0.2)
    got = narrative.lorenz_takeaway(conc)
    assert got.startswith("the top 20% of customers make **60%** of revenue")
    assert got.endswith("1 customers with net refunds were counted as zero.")
    tiers = pd.DataFrame({"value_tier": ["high"], "customers": [3], "customer_share": [0.1],
                          "revenue_share": [0.5], "mean_spend": [1234.5]})
    assert narrative.tiers_takeaway(tiers, "$").startswith(
        "3 high-tier customers (10%) make 50% of revenue, with a mean total spend of $1,234")


def test_lifecycle_takeaway_with_and_without_one_time_buyers():
    life = pd.DataFrame([[1, 0, 0], [2, 1, 0], [3, 0, 3], [0, 1, 4]],
                        index=seg.LIFECYCLE_ORDER, columns=seg.TIER_ORDER)
    got = narrative.lifecycle_takeaway(life, 41.6)
    assert got.startswith("3 customers are active, 6 at risk and 5 lapsed; the 3 *high-tier")
    assert got.endswith("median gap of 42 days.")
    assert narrative.lifecycle_takeaway(life, None).endswith("first call list. ")


def test_transitions_takeaway_and_notes():
    before = pd.DataFrame({"customer_id": ["a", "b"], "value_tier": ["high", "high"]})
    after = pd.DataFrame({"customer_id": ["a", "b"], "value_tier": ["high", "low"]})
    counts = seg.transition_matrix(before, after, "value_tier", order=seg.TIER_ORDER)
    assert narrative.transitions_takeaway(counts, "value_tier") == (
        "of the 2 *high*, 50% stayed and 50% moved to *low*.")
    assert narrative.transitions_takeaway(pd.DataFrame(), "rfm_segment") == (
        "there is no earlier date to compare with. Empty cells are moves nobody made.")
    assert "calibration_end" in narrative.dynamic_view_note(None)
    note = narrative.dynamic_view_note(pd.Timestamp("2020-01-01"), pd.Timestamp("2020-06-30"),
                                       10, 12, 2, 3)
    assert note == ("Segments at 2020-01-01 (10 customers) compared with 2020-06-30 (12 "
                    "customers, 2 of them new since); 3 customers moved down a value tier.")


def test_moved_down_and_product_notes():
    assert narrative.moved_down_note(pd.DataFrame(), "$") == "**0 customers moved down a tier**."
    down = pd.DataFrame({"total_spend_before": [100.0, 50.0], "total_spend_after": [100.0, 80.0]})
    assert narrative.moved_down_note(down, "$") == (
        "**2 customers moved down a tier**; together they had spent $150 by the earlier date, "
        "and 50% of them have not bought since.")
    product = pd.DataFrame(np.zeros((3, 2)))
    assert narrative.product_note("customers.parquet", product) == (
        "Wrote `customers.parquet`: 3 customers × 2 columns.")
