"""The churn feed and the report KPIs: text counts, the backtest copies cut at calibration_end, `simulated`."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from crmlab import churn
from crmlab.churn.signals import check_signal_date
from crmlab.config import PROJ_ROOT
from crmlab.errors import InputError
from crmlab.interactions import features, narrative, stage

COSTS = {"contact": {"email": 0.5, "phone": 3.0, "store": 4.0, "web": 0.25}, "acquisition": 10.0}
AS_OF, CAL = "2024-06-30", "2024-03-31"
# Windows of 90 days. Today (as of 2024-06-30): recent [04-02, 07-01), previous [01-03, 04-02).
# At calibration_end (2024-03-31): recent [01-02, 04-01), previous [2023-10-04, 01-02).


def world():
    """Customer a writes in both windows (and on the edges of calibration_end), b only after it."""
    rows = [  # customer, timestamp, type, sentiment
        ("a", "2023-12-01 10:00", "praise", 0.8),     # backtest: previous window
        ("a", "2024-02-10 10:00", "inquiry", 0.9),    # today: previous; backtest: recent
        ("a", "2024-03-01 10:00", "inquiry", 0.7),    # today: previous; backtest: recent
        ("a", "2024-03-31 18:00", "complaint", 0.1),  # on calibration_end: known that evening
        ("a", "2024-04-01 00:00", "complaint", 0.0),  # the day after: must not reach the backtest
        ("a", "2024-05-10 10:00", "inquiry", 0.2),    # today: recent
        ("a", "2024-06-01 10:00", "inquiry", 0.4),
        ("a", "2024-06-15 10:00", "service", np.nan),  # a contact without text: not a scored text
        ("a", "2024-06-30 15:00", "inquiry", 0.3),    # on the as-of day: in the recent window
        ("b", "2024-05-01 10:00", "complaint", np.nan),
    ]
    log = pd.DataFrame(rows, columns=["customer_id", "timestamp", "type", "sentiment"])
    log["timestamp"] = pd.to_datetime(log["timestamp"])
    log["channel"], log["campaign"], log["group"] = "web", None, None
    tx = pd.DataFrame({"customer_id": ["a", "a", "b"],
                       "date": pd.to_datetime(["2024-03-15", "2024-05-20", "2024-05-01"]),
                       "amount": [100.0, 50.0, 30.0]})
    cust = pd.DataFrame({"customer_id": ["b", "a", "q"], "value_tier": "high", "rfm_segment": "Loyal"})
    return log, tx, cust


def feed(log=None, tx=None, cal=CAL):
    lg, t, cust = world()
    return features.churn_feed(lg if log is None else log, t if tx is None else tx, cust, COSTS, 0.3,
                               AS_OF, 90, cal, rating_scale=(1, 5))


def test_text_counts_and_means_in_both_windows_by_hand():
    f = feed().set_index("customer_id")
    a = f.loc["a"]
    assert (a["contacts_90d"], a["contacts_prev_90d"]) == (4, 4)
    assert (a["complaints_90d"], a["complaints_prev_90d"]) == (0, 2)
    assert (a["texts_90d"], a["texts_prev_90d"]) == (3, 4)  # the textless contact is not counted
    assert a["sentiment_90d"] == pytest.approx(0.3)
    assert a["sentiment_prev_90d"] == pytest.approx((0.9 + 0.7 + 0.1 + 0.0) / 4)
    assert a["sentiment_mean"] == pytest.approx(3.4 / 8)
    assert (f.loc["b", "texts_90d"], f.loc["q", "texts_prev_90d"]) == (0, 0)
    assert math.isnan(f.loc["b", "sentiment_90d"])
    assert f["texts_90d"].dtype == np.int64
    cols = features.feature_columns(90)
    assert cols[cols.index("sentiment_prev_90d") + 1: cols.index("sentiment_prev_90d") + 3] == [
        "texts_90d", "texts_prev_90d"]


def test_backtest_copies_are_taken_at_calibration_end_by_hand():
    f = feed()
    assert f["customer_id"].tolist() == ["b", "a", "q"]  # the customers' order, both halves
    assert (f["as_of"] == pd.Timestamp(AS_OF)).all() and (f["backtest_as_of"] == pd.Timestamp(CAL)).all()
    expected = ["customer_id", *features.feature_columns(90)[1:], "as_of",
                *("backtest_" + c for c in features.feature_columns(90)[1:]), "backtest_as_of"]
    assert f.columns.tolist() == expected
    b = f.set_index("customer_id").filter(like="backtest_")
    a = b.loc["a"]
    assert (a["backtest_contacts_90d"], a["backtest_contacts_prev_90d"]) == (3, 1)
    assert (a["backtest_complaints_90d"], a["backtest_complaints_prev_90d"]) == (1, 0)  # 04-01's is later
    assert (a["backtest_texts_90d"], a["backtest_texts_prev_90d"]) == (3, 1)
    assert a["backtest_sentiment_90d"] == pytest.approx((0.9 + 0.7 + 0.1) / 3)
    assert a["backtest_sentiment_prev_90d"] == pytest.approx(0.8)
    assert a["backtest_sentiment_mean"] == pytest.approx((0.8 + 0.9 + 0.7 + 0.1) / 4)
    assert (a["backtest_revenue"], b.loc["b", "backtest_revenue"]) == (100.0, 0.0)  # May purchases: later
    assert b.loc["b", "backtest_contacts_90d"] == 0 and b.loc["b", "backtest_channels"] == 0


def test_nothing_after_calibration_end_reaches_the_backtest_copies():
    log, tx, _ = world()
    later_log = pd.DataFrame({"customer_id": ["a", "b", "q"], "type": "complaint", "sentiment": 0.0,
                              "timestamp": pd.to_datetime(["2024-04-01 00:00:00", "2024-04-01 00:00:01", "2024-06-01 00:00:00"]),
                              "channel": "phone", "campaign": None, "group": None})
    later_tx = pd.DataFrame({"customer_id": ["a", "q"], "date": pd.to_datetime(["2024-04-01", "2024-06-01"]),
                             "amount": [1000.0, 5.0]})
    base, more = feed(), feed(pd.concat([log, later_log], ignore_index=True),
                              pd.concat([tx, later_tx], ignore_index=True))
    bt = [c for c in base.columns if c.startswith("backtest_")]
    pd.testing.assert_frame_equal(base[bt], more[bt])
    assert not base.drop(columns=bt).equals(more.drop(columns=bt))  # today's features did see them


def test_the_backtest_signals_read_the_copies():
    sig = churn.interaction_signals(feed(), prefix="backtest_").set_index("customer_id")
    assert sig.attrs["as_of"] == CAL and sig.attrs["rules"]["text_counts"] is True
    assert bool(sig.loc["a", "rising_complaints"])        # 1 complaint after a quiet window
    assert not sig.loc["a", "falling_sentiment"]          # 0.57 vs 0.8 with 1 text before: too few
    today = churn.interaction_signals(feed()).set_index("customer_id")
    assert today.attrs["as_of"] == AS_OF
    assert bool(today.loc["b", "rising_complaints"]) and not today.loc["a", "rising_complaints"]
    assert not today.loc["a", "falling_sentiment"]        # 0.425 -> 0.3 drops 0.125 < 0.2
    check_signal_date(churn.interaction_signals(feed(), prefix="backtest_"), CAL)  # no error: same day


@pytest.mark.parametrize("cal", [None, AS_OF, "2024-09-30"], ids=["unset", "same-day", "after"])
def test_no_backtest_copies_without_an_earlier_calibration_end(cal):
    f = feed(cal=cal)
    assert not any(c.startswith("backtest_") for c in f.columns) and "as_of" in f.columns
    assert not churn.has_backtest_features(f)
    assert "No backtest copies" in narrative.products_summary(f, 0, 90)


def test_products_summary_names_the_backtest_day():
    text = narrative.products_summary(feed(), 2, 90)
    assert "as of 2024-03-31" in text and "1 customer had complained" in text


def test_cut_at_keeps_the_whole_day():
    log, tx, _ = world()
    lg, t = features.cut_at(log, tx, "2024-03-31")
    assert lg["timestamp"].max() == pd.Timestamp("2024-03-31 18:00") and len(lg) == 4
    assert t["date"].max() == pd.Timestamp("2024-03-15") and len(log) == 10  # inputs untouched


@pytest.mark.parametrize("call,match", [
    (lambda lg, tx: features.cut_at(lg.drop(columns="timestamp"), tx, CAL), "timestamp"),
    (lambda lg, tx: features.cut_at(lg, tx.rename(columns={"date": "day"}), CAL), "date"),
    (lambda lg, tx: features.cut_at(lg, tx, "not a date"), "calibration_end"),
], ids=["log-timestamp", "tx-date", "bad-day"])
def test_cut_at_names_the_problem(call, match):
    log, tx, _ = world()
    with pytest.raises(InputError, match=match):
        call(log, tx)


def test_recent_sentiment_mean_counts_texts():
    log, _, _ = world()
    assert features.recent_sentiment_mean(log, AS_OF, 90) == pytest.approx(0.3)
    assert features.recent_sentiment_mean(log.drop(columns="sentiment"), AS_OF, 90) is None
    assert features.recent_sentiment_mean(log, "2023-06-30", 90) is None


def test_summary_json_carries_sentiment_mean_and_simulated():
    out = features.summary_json(as_of=AS_OF, window_days=90, sentiment_mean=0.3, simulated=True)
    json.dumps(out, allow_nan=False)
    assert out["simulated"] is True and out["kpis"]["sentiment_mean"] == 0.3
    out = features.summary_json(as_of=AS_OF, window_days=90, sentiment_mean=float("nan"), simulated=False)
    json.dumps(out, allow_nan=False)
    assert out["simulated"] is False and out["kpis"]["sentiment_mean"] is None
    out = features.summary_json(as_of=AS_OF, window_days=90)
    assert "simulated" not in out and "sentiment_mean" not in out["kpis"]


def test_demo_log_is_decided_by_the_resolved_path(tmp_path):
    assert stage.is_demo_log("data/raw/interactions/interactions.csv")
    assert stage.is_demo_log(PROJ_ROOT / "data" / "raw" / "interactions" / "interactions.csv")
    assert not stage.is_demo_log("tests/data/interactions_small.csv")  # simulated too, but not the demo
    assert not stage.is_demo_log("data/raw/interactions/../transactions.csv")
    assert not stage.is_demo_log(None) and not stage.is_demo_log("")
    demo, elsewhere = tmp_path / "demo", tmp_path / "shop"
    demo.mkdir(), elsewhere.mkdir()
    (demo / "log.csv").write_text("x")
    (elsewhere / "copy.csv").write_text("x")  # a copy of the demo elsewhere is the user's own file
    (elsewhere / "link.csv").symlink_to(demo / "log.csv")
    assert stage.is_demo_log(demo / "log.csv", demo)
    assert not stage.is_demo_log(elsewhere / "copy.csv", demo)
    assert stage.is_demo_log(elsewhere / "link.csv", demo)  # a link resolves into the folder
    assert stage.is_demo_log("demo/log.csv", demo, root=tmp_path)
