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


# --- ids of any shape: integer-encoded ids sort and group exactly like the strings ----------


def _id_cases():
    return {
        # same length (packed into one or two integer words)
        "fixed-width": ["r0001-00042", "r0000-00042", "r0001-00007", "r0000-00100"],
        # prefixes of each other: "ab" < "ab0" < "abc" byte-wise
        "prefixes": ["abc", "ab", "ab0", "a", "b"],
        # UTF-8 bytes, not code points, decide the order (as Arrow sorts)
        "unicode": ["客户7", "Zoë", "zoe", "客户10", "éa"],
        # longer than four words: hashed as strings instead
        "long": ["x" * 40 + "2", "x" * 40 + "1", "y", "x" * 33],
        # a zero byte would collide with the padding: hashed as strings instead
        "zero-byte": ["a\x00", "a", "a\x00b", "b"],
    }


@pytest.mark.parametrize("case", list(_id_cases()), ids=list(_id_cases()))
@pytest.mark.parametrize("seed", [0, 1], ids=["order0", "order1"])
def test_any_ids_group_and_sort_like_strings(case, seed):
    ids = _id_cases()[case]
    rng = np.random.default_rng(seed)
    rows = []
    for i, cid in enumerate(ids):  # customer i buys on days 0, 3, ..., on i + 1 days
        for d in range(i + 1):
            rows.append((cid, pd.Timestamp("2020-01-01") + pd.Timedelta(days=3 * d), 1.0 + i))
    tx = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    tx = tx.iloc[rng.permutation(len(tx))].reset_index(drop=True)
    got = customer_summary(tx, OBS)
    expected_order = sorted(ids, key=lambda s: s.encode("utf-8"))
    assert got["customer_id"].tolist() == expected_order
    by_id = got.set_index("customer_id")
    for i, cid in enumerate(ids):
        assert by_id.at[cid, "purchase_days"] == i + 1
        assert by_id.at[cid, "recency"] == 3.0 * i
        assert by_id.at[cid, "total_spend"] == (1.0 + i) * (i + 1)


def test_integer_encoding_equals_string_hashing_on_many_ids():
    # a few thousand ids of mixed lengths: both encodings must give the same table
    from crmlab.features import summary

    rng = np.random.default_rng(3)
    ids = np.array([f"c{n}" + "-" * int(n % 7) for n in rng.integers(0, 10**9, 3000)])
    n = 20_000
    tx = pd.DataFrame({
        "customer_id": pd.array(ids[rng.integers(0, len(ids), n)], dtype="str"),
        "date": pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 400, n), "D"),
        "amount": np.round(rng.gamma(2.0, 20.0, n), 2),
    })
    fast = customer_summary(tx, OBS)
    original = summary._id_words
    try:
        summary._id_words = lambda ids: None  # force the string-hashing path
        slow = customer_summary(tx, OBS)
    finally:
        summary._id_words = original
    assert_frame_equal(fast, slow, check_exact=True)


def test_missing_id_is_an_error_on_the_fast_path():
    tx = TX.copy()
    tx["customer_id"] = pd.array(["a", None, "b", "a", "a", "b", "c", "c", "d"], dtype="str")
    with pytest.raises(InputError, match="customer_id.*missing"):
        customer_summary(tx, OBS)


@pytest.mark.parametrize(
    "lengths",
    [[1, 2, 3, 7, 0, 1], [2, 2, 2], [5], [1]],
    ids=["mixed", "pairs", "one-long", "single"],
)
def test_short_segments_sum_like_the_kahan_loop(lengths):
    from crmlab.features import sums

    rng = np.random.default_rng(7)
    lengths = np.array(lengths, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    values = rng.normal(0, 1e6, int(lengths.sum())) * 10.0 ** rng.integers(-8, 8, int(lengths.sum()))
    fast = sums._kahan_segments(values, starts, lengths)
    loop = sums._kahan_long(values, starts, lengths) if lengths.max() > 0 else fast
    np.testing.assert_array_equal(fast, loop)


@pytest.mark.parametrize("span", [1, 2**40], ids=["mixed-radix", "renumbered"])
def test_word_codes_follow_the_string_order(span):
    # with a huge day span the mixed-radix codes would overflow the key: they are renumbered
    from crmlab.features import keys

    ids = ["b" * 20, "a" * 25, "a" * 24 + "b", "a", "zz", "a" * 25, "b" * 20]
    arr = keys._arrow_strings(pd.Series(ids, dtype="str"))
    code, bound = keys._word_codes(keys._id_words(arr), span)
    ranks = {s: i for i, s in enumerate(sorted(set(ids), key=str.encode))}
    expected = np.array([ranks[s] for s in ids])
    assert (np.argsort(code, kind="stable") == np.argsort(expected, kind="stable")).all()
    assert len(set(code.tolist())) == len(ranks) and code.max() < bound
    assert (bound * span).bit_length() <= 62


def test_summaries_at_several_dates_equal_one_summary_per_date(cdnow_clean):
    from crmlab.features import customer_summaries

    tx, periods = cdnow_clean
    shuffled = tx.sample(frac=1, random_state=3).reset_index(drop=True)
    dates = [periods.calibration_end, periods.observation_end, "1997-01-10", "1996-01-01"]
    for frame in (tx, shuffled):
        got = customer_summaries(frame, dates)
        assert len(got) == len(dates)
        for day, table in zip(dates, got, strict=True):
            assert_frame_equal(table, customer_summary(frame, day), check_exact=True)
    assert customer_summaries(tx, []) == []


def _id_paths(tx):
    """The frame with ids that take each encoding path: sorted runs, integer words, hashing."""
    shuffled = tx.sample(frac=1, random_state=5).reset_index(drop=True)
    long_ids = shuffled.assign(customer_id=("x" * 40 + shuffled["customer_id"]).astype("str"))
    as_objects = shuffled.assign(customer_id=shuffled["customer_id"].astype(object))
    return {"runs": tx.sort_values("customer_id", kind="stable").reset_index(drop=True),
            "words": shuffled, "hashed-long": long_ids, "hashed-objects": as_objects}


@pytest.mark.parametrize("pieces", [2, 3, 7])
def test_summary_split_by_customer_on_threads_equals_one_piece(cdnow_clean, monkeypatch, pieces):
    # CDNOW is below the size where the rows are split: compute one piece first, then force
    # the split (and the threads) and compare every table to the last bit
    from crmlab.features import customer_summaries
    from crmlab.features import summary as summary_module

    tx, periods = cdnow_clean
    frames = _id_paths(tx)
    cal, obs = periods.calibration_end, periods.observation_end
    want = {name: (customer_summary(f, obs), customer_summary(f, obs, cal),
                   customer_summaries(f, [obs, cal])) for name, f in frames.items()}
    monkeypatch.setattr(summary_module, "_PARALLEL_MIN_ROWS", 0)
    monkeypatch.setattr(summary_module.os, "cpu_count", lambda: pieces)
    for name, f in frames.items():
        one, holdout, both = want[name]
        assert_frame_equal(customer_summary(f, obs), one, check_exact=True)
        assert_frame_equal(customer_summary(f, obs, cal), holdout, check_exact=True)
        for got, ref in zip(customer_summaries(f, [obs, cal]), both, strict=True):
            assert_frame_equal(got, ref, check_exact=True)


def test_pieces_cut_between_customers_never_inside_one():
    from crmlab.features import summary as summary_module

    # customer codes 0..2 with 1, 6 and 1 rows: a cut at the middle row falls inside
    # customer 1, so it moves to customer 1's first row
    tx = pd.DataFrame({
        "customer_id": pd.array(["a", "b", "b", "b", "b", "b", "b", "c"], dtype="str"),
        "date": pd.to_datetime(["1997-01-01"] * 8) + pd.to_timedelta([0, 0, 1, 2, 3, 4, 5, 0], "D"),
        "amount": np.arange(8, dtype=float),
    })
    rows = summary_module._sorted_rows(tx, None)
    assert rows.pieces(1) == [(0, 8)]
    assert rows.pieces(2) == [(0, 1), (1, 8)]
    assert rows.pieces(4) == [(0, 1), (1, 8)]  # three cuts fall in customer b: one is kept
    assert rows.pieces(20) == [(0, 1), (1, 7), (7, 8)]  # never an empty piece


def test_describe_features_is_pandas_describe_value_for_value(cdnow_clean, monkeypatch):
    from crmlab.features import describe as describe_module
    from crmlab.features import describe_features

    tx, periods = cdnow_clean
    summary = customer_summary(tx, periods.observation_end)
    cols = ["frequency", "recency", "T", "total_spend", "gap_mean", "gap_std"]  # ints, NaNs
    want = summary[cols].describe().T
    assert_frame_equal(describe_features(summary, cols), want, check_exact=True)
    monkeypatch.setattr(describe_module, "_PARALLEL_MIN_ROWS", 0)  # the columns on threads
    assert_frame_equal(describe_features(summary, cols), want, check_exact=True)
    # known by hand: 1, 2, 3, 10 -> mean 4, squared deviations 9+4+1+36 = 50, std sqrt(50/3),
    # quartiles 1.75, 2.5, 4.75
    small = pd.DataFrame({"x": [1, 2, 3, 10]})
    got = describe_features(small, ["x"]).loc["x"]
    assert got.tolist() == [4.0, 4.0, np.sqrt(50 / 3), 1.0, 1.75, 2.5, 4.75, 10.0]
    one_row = describe_features(small.head(1), ["x"]).loc["x"]
    assert one_row["count"] == 1 and np.isnan(one_row["std"])
    with pytest.raises(InputError, match="'nope'"):
        describe_features(small, ["nope"])
