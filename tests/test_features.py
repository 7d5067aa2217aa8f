"""customer_summary: hand-computed Buy-Till-You-Die features, and agreement with lifetimes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from crmlab.errors import InputError
from crmlab.features import SUMMARY_COLUMNS, customer_summary

from conftest import ROOT

# a: two lines on 1 Jan (one purchase day of 15), then 11 Jan and 31 Jan; a line after
#    observation_end is ignored.
# b: one purchase long ago (no gap, nothing in the last 90 days).
# c: 1 Dec 2019 is exactly 91 days before 1 Mar 2020 (outside the last 90 days).
# d: first purchase after the calibration end.
TX = pd.DataFrame(
    {
        "customer_id": ["a", "a", "a", "a", "a", "b", "c", "c", "d"],
        "date": pd.to_datetime(
            ["2020-01-01", "2020-01-01", "2020-01-11", "2020-01-31", "2020-03-05",
             "2019-10-01", "2019-12-01", "2020-02-20", "2020-02-01"]
        ),
        "amount": [10.0, 5.0, 20.0, 30.0, 100.0, 40.0, 7.0, 3.0, 8.0],
    }
)
OBS = "2020-03-01"  # 2020 is a leap year: 31 Jan -> 1 Mar is 30 days
CAL = "2020-01-15"

EXPECTED = pd.DataFrame(
    {
        "customer_id": ["a", "b", "c", "d"],
        "frequency": [2, 0, 1, 0],
        "recency": [30.0, 0.0, 81.0, 0.0],
        "T": [60.0, 152.0, 91.0, 29.0],
        "monetary_value": [25.0, 0.0, 3.0, 0.0],  # mean of the repeat purchase days
        "first_purchase": pd.to_datetime(["2020-01-01", "2019-10-01", "2019-12-01", "2020-02-01"]),
        "last_purchase": pd.to_datetime(["2020-01-31", "2019-10-01", "2020-02-20", "2020-02-01"]),
        "purchase_days": [3, 1, 2, 1],
        "orders": [4, 1, 2, 1],
        "total_spend": [65.0, 40.0, 10.0, 8.0],
        "spend_per_line": [16.25, 40.0, 5.0, 8.0],
        "days_since_last": [30.0, 152.0, 10.0, 29.0],
        "gap_mean": [15.0, np.nan, 81.0, np.nan],
        "gap_std": [np.sqrt(50.0), np.nan, np.nan, np.nan],  # sample std of gaps 10 and 20
        "spend_last_90d": [65.0, 0.0, 3.0, 8.0],
    }
)


def _summary(tx, *args):
    return customer_summary(tx, *args)[SUMMARY_COLUMNS]


def test_hand_computed_customers():
    assert_frame_equal(_summary(TX, OBS), EXPECTED, check_dtype=False)


@pytest.mark.parametrize("seed", [0, 1, 2], ids=["shuffle0", "shuffle1", "shuffle2"])
def test_row_order_does_not_matter(seed):
    shuffled = TX.sample(frac=1, random_state=seed).reset_index(drop=True)
    assert_frame_equal(_summary(shuffled, OBS), EXPECTED, check_dtype=False)


def test_input_is_not_modified():
    before = TX.copy()
    customer_summary(TX, OBS, CAL)
    assert_frame_equal(TX, before)


@pytest.mark.parametrize(
    "rows, expected",
    [
        # three lines on one day are one purchase: no repeat, no monetary value
        ({"date": ["2020-02-01"] * 3, "amount": [1.0, 2.0, 3.0]},
         {"frequency": 0, "recency": 0.0, "monetary_value": 0.0, "orders": 3, "total_spend": 6.0}),
        # same-day lines of a repeat day are summed before the mean
        ({"date": ["2020-02-01", "2020-02-11", "2020-02-11"], "amount": [1.0, 2.0, 4.0]},
         {"frequency": 1, "recency": 10.0, "monetary_value": 6.0, "orders": 3, "total_spend": 7.0}),
        # a time of day does not split a day
        ({"date": ["2020-02-01 09:00", "2020-02-01 18:30"], "amount": [1.0, 1.0]},
         {"frequency": 0, "recency": 0.0, "monetary_value": 0.0, "orders": 2, "total_spend": 2.0}),
    ],
    ids=["same-day-only", "same-day-repeat", "times-of-day"],
)
def test_same_day_purchases_merge(rows, expected):
    tx = pd.DataFrame({"customer_id": "x", "date": pd.to_datetime(rows["date"]),
                       "amount": rows["amount"]})
    got = customer_summary(tx, OBS).iloc[0]
    for col, value in expected.items():
        assert got[col] == value, col


def test_calibration_split():
    got = customer_summary(TX, OBS, CAL)
    expected = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],  # d first bought after the calibration end
            "frequency_cal": [1, 0, 0],
            "recency_cal": [10.0, 0.0, 0.0],
            "T_cal": [14.0, 106.0, 45.0],
            "monetary_value_cal": [20.0, 0.0, 0.0],
            "frequency_holdout": [1, 0, 1],
            "actual_holdout_value": [30.0, 0.0, 3.0],
            "duration_holdout": [46.0, 46.0, 46.0],
        }
    )
    assert_frame_equal(got[list(expected.columns)], expected, check_dtype=False)


@pytest.mark.parametrize(
    "tx, args, message",
    [
        (TX.drop(columns="amount"), (OBS,), "'amount'"),
        (TX.drop(columns="customer_id"), (OBS,), "'customer_id'"),
        (TX, (OBS, "2020-03-01"), "calibration_end"),
        (TX, (OBS, "2020-04-01"), "calibration_end"),
    ],
    ids=["no-amount", "no-customer", "cal-equals-obs", "cal-after-obs"],
)
def test_errors(tx, args, message):
    with pytest.raises(InputError, match=message):
        customer_summary(tx, *args)


# --- acceptance: the usual BTYD summary of CDNOW's clean rows ---------------------------------


@pytest.fixture(scope="module")
def cdnow_clean():
    from crmlab.cleaning import clean_transactions
    from crmlab.config import load_params
    from crmlab.io import read_input

    p = load_params(ROOT / "params" / "default.yaml")
    raw, info = read_input(p.transactions)
    result = clean_transactions(raw, p.transactions, p.periods.observation_end, source=info.path)
    return result.clean, p.periods


def test_cdnow_agrees_with_lifetimes_for_every_customer(cdnow_clean):
    lifetimes_utils = pytest.importorskip("lifetimes.utils")
    tx, periods = cdnow_clean
    assert len(tx) == 69_404  # PITFALLS: 69,659 rows - 255 exact duplicates
    theirs = lifetimes_utils.summary_data_from_transaction_data(
        tx, "customer_id", "date", monetary_value_col="amount",
        observation_period_end=periods.observation_end, freq="D",
    )
    theirs.index = theirs.index.astype(str)
    ours = customer_summary(tx, periods.observation_end).set_index("customer_id")
    cols = ["frequency", "recency", "T", "monetary_value"]
    assert len(ours) == 23_570
    assert_frame_equal(
        ours[cols].astype(float), theirs.loc[ours.index, cols].astype(float),
        check_names=False, rtol=1e-12, atol=1e-9,
    )


def test_cdnow_calibration_agrees_with_lifetimes(cdnow_clean):
    lifetimes_utils = pytest.importorskip("lifetimes.utils")
    tx, periods = cdnow_clean
    theirs = lifetimes_utils.calibration_and_holdout_data(
        tx, "customer_id", "date", calibration_period_end=periods.calibration_end,
        observation_period_end=periods.observation_end, freq="D", monetary_value_col="amount",
    )
    theirs.index = theirs.index.astype(str)
    ours = customer_summary(tx, periods.observation_end, periods.calibration_end)
    ours = ours.set_index("customer_id")
    cols = ["frequency_cal", "recency_cal", "T_cal", "monetary_value_cal",
            "frequency_holdout", "duration_holdout"]
    assert len(ours) == len(theirs) == 23_570  # every CDNOW customer started in Q1 1997
    assert_frame_equal(
        ours[cols].astype(float), theirs.loc[ours.index, cols].astype(float),
        check_names=False, rtol=1e-12, atol=1e-9,
    )
