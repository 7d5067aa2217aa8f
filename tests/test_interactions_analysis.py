"""Interactions analyses on small logs whose answers are known by hand, and planted effects."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmlab.errors import InputError
from crmlab.interactions import (
    campaign,
    channels,
    complaints,
    features,
    frequency,
    inference,
    profitability,
    tiers,
)

COSTS = {"contact": {"email": 0.5, "phone": 3.0, "store": 4.0, "web": 0.25}, "acquisition": 10.0}
T0 = pd.Timestamp("2024-01-01")


def make_log(rows):
    """Rows of (customer, timestamp, channel, type[, campaign, group]) -> a clean log."""
    cols = ["customer_id", "timestamp", "channel", "type", "campaign", "group"]
    rows = [tuple(r) + (None,) * (6 - len(r)) for r in rows]
    log = pd.DataFrame(rows, columns=cols)
    log["timestamp"] = pd.to_datetime(log["timestamp"], format="ISO8601")
    log["customer_id"] = log["customer_id"].astype("str")
    return log


def make_tx(rows):
    tx = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    tx["date"] = pd.to_datetime(tx["date"])
    tx["customer_id"] = tx["customer_id"].astype("str")
    return tx


def make_customers(ids, tiers_=None, segments=None):
    n = len(ids)
    return pd.DataFrame({"customer_id": pd.Series(ids, dtype="str"),
                         "value_tier": tiers_ or ["high"] * n,
                         "rfm_segment": segments or ["Loyal"] * n})


# --- inference -----------------------------------------------------------------------------

def test_newcombe_matches_the_published_example():
    # Newcombe (1998), Table II example (a): 56/70 - 48/80, method 10 -> 0.0524 to 0.3339
    r = inference.diff_proportions(56, 70, 48, 80)
    assert r["diff"] == pytest.approx(0.2)
    assert (r["low"], r["high"]) == pytest.approx((0.0524, 0.3339), abs=1e-4)
    assert r["ratio"] == pytest.approx((56 / 70) / (48 / 80))


def test_welch_matches_scipy():
    rng = np.random.default_rng(1)
    a, b = rng.normal(10, 1, 30), rng.normal(9, 3, 50)
    r = inference.diff_means(a, b)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval()
    assert (r["low"], r["high"]) == pytest.approx((ci.low, ci.high))


def test_inference_degenerate_cases():
    assert math.isnan(inference.diff_proportions(0, 0, 1, 5)["low"])
    assert math.isnan(inference.diff_means([1.0], [2.0, 3.0])["low"])
    assert inference.covers({"low": float("nan"), "high": 1.0}) is None
    with pytest.raises(ValueError):
        inference.diff_proportions(3, 2, 0, 1)


# --- frequency -----------------------------------------------------------------------------

def freq_world():
    cust = make_customers(["a", "b", "c", "d"], ["high", "high", "low", "medium"])
    log = make_log([
        ("a", "2024-03-31 15:00", "web", "inquiry"),   # as-of day: recent window
        ("a", "2024-03-10", "web", "complaint"),
        ("a", "2024-03-02", "phone", "inquiry"),       # first day of the 30-day window
        ("b", "2024-03-01 23:00", "web", "inquiry"),   # previous window
        ("c", "2024-02-15", "store", "praise"),
        ("c", "2024-03-20", "store", "inquiry"),
        ("x", "2024-03-20", "store", "inquiry"),       # not in the customers table
        ("d", "2024-03-20", "email", "campaign", "wb", "control"),  # not a contact
    ])
    return cust, log


def test_window_contacts_and_trend_by_hand():
    cust, log = freq_world()
    w = frequency.window_contacts(log, cust, "2024-03-31", 30)
    assert w["recent"].tolist() == [3, 0, 1, 0]
    assert w["previous"].tolist() == [0, 1, 1, 0]
    t = frequency.contact_trend(log, cust, "2024-03-31", 30)
    assert (t.overall["recent"], t.overall["previous"]) == (4, 2)
    assert t.overall["relative_change"] == pytest.approx(1.0)
    assert t.overall["mean_change"] == pytest.approx(0.5)
    assert t.overall["low"] < 0.5 < t.overall["high"]
    assert t.per_customer["direction"].tolist() == ["up", "down", "same", "same"]


def test_frequency_groups_rule_and_candidates():
    cust, log = freq_world()
    g, threshold = frequency.frequency_groups(log, cust, "2024-03-31", 30)
    assert threshold == 3  # upper quartile of [3, 1] is 2.5 -> 3
    assert g["frequency_group"].astype(str).tolist() == ["high", "none", "low", "none"]
    cand = frequency.activation_candidates(log, cust, "2024-03-31", 30)
    assert cand["customer_id"].tolist() == ["b"]
    assert cand["last_contact"].iloc[0] == pd.Timestamp("2024-03-01 23:00")


def test_contacts_per_month_by_hand():
    cust, log = freq_world()
    m = frequency.contacts_per_month(log, cust)
    assert m["month"].tolist() == [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-01")]
    assert m["contacts"].tolist() == [1, 6]
    assert m["customers_contacted"].tolist() == [1, 4]
    assert m["complaints"].tolist() == [0, 1]
    assert m["per_customer"].tolist() == pytest.approx([0.25, 1.5])


def test_frequency_rejects_bad_input():
    cust, log = freq_world()
    with pytest.raises(InputError, match="timestamp"):
        frequency.contacts_per_month(log.drop(columns="timestamp"))
    with pytest.raises(InputError, match="window_days"):
        frequency.window_contacts(log, cust, "2024-03-31", 0)


# --- channels ------------------------------------------------------------------------------

def test_channel_mix_and_multichannel_by_hand():
    cust = make_customers(["a", "b", "c"], ["high", "low", "low"])
    log = make_log([("a", "2024-01-02", "web", "inquiry"), ("a", "2024-01-03", "phone", "inquiry"),
                    ("b", "2024-01-02", "web", "inquiry"), ("c", "2024-01-02", "web", "inquiry"),
                    ("c", "2024-01-05", "web", "inquiry"), ("z", "2024-01-05", "store", "inquiry")])
    mix = channels.channel_mix(log, cust)
    assert mix.shares.index.tolist() == ["high", "low", "not listed"]
    assert mix.shares.loc["high", "web"] == pytest.approx(0.5)
    assert mix.shares.loc["low", "web"] == pytest.approx(1.0)
    assert mix.counts.to_numpy().sum() == 6
    tx = make_tx([("a", "2024-01-01", 100.0), ("a", "2024-02-01", 50.0), ("b", "2024-01-01", 20.0)])
    ms = channels.multichannel_spend(log, tx)
    t = ms.table.set_index("group")
    assert t.loc["multichannel", "customers"] == 1 and t.loc["single channel", "customers"] == 3
    assert t.loc["multichannel", "mean_spend"] == pytest.approx(150.0)
    assert ms.difference["diff"] == pytest.approx(150.0 - 20.0 / 3)


def test_main_channel_ties_and_migration():
    log = make_log([
        ("a", "2024-01-10", "web", "inquiry"), ("a", "2024-01-20", "phone", "inquiry"),  # tie: latest wins
        ("b", "2024-01-10", "store", "inquiry"),
        ("a", "2024-03-10", "web", "inquiry"),
        ("c", "2024-03-10", "web", "inquiry"),
    ])
    main = channels.main_channel(log, "2024-02-01", 31)
    assert main.to_dict() == {"a": "phone", "b": "store"}
    mig = channels.channel_migration(log, "2024-02-01", "2024-04-01", 31)
    assert mig.counts.loc["phone", "web"] == 1
    assert mig.counts.loc["store", "none"] == 1
    assert mig.counts.loc["none", "web"] == 1
    assert mig.counts.to_numpy().sum() == 3
    assert mig.stayed == pytest.approx(0.0)
    with pytest.raises(InputError, match="before"):
        channels.channel_migration(log, "2024-04-01", "2024-02-01", 31)


# --- complaints ----------------------------------------------------------------------------

def test_complaint_rate_by_hand():
    log = make_log([("c", "2024-01-05", "phone", "complaint"), ("c", "2024-01-06", "phone", "complaint"),
                    ("a", "2024-02-03", "web", "inquiry")])
    tx = make_tx([("a", "2024-01-02", 10.0), ("b", "2024-01-09", 5.0), ("b", "2024-02-01", 5.0)])
    r = complaints.complaint_rates(log, tx, as_of="2024-02-10")
    assert r["active"].tolist() == [3, 2]
    assert r["complaints"].tolist() == [2, 0]
    assert r["rate_per_1000"].tolist() == pytest.approx([2000 / 3, 0.0])
    assert r["complainers_per_1000"].iloc[0] == pytest.approx(1000 / 3)
    assert r["partial"].tolist() == [False, True]


def test_complaint_trend_recovers_a_planted_rise():
    rng = np.random.default_rng(3)
    months = pd.date_range("2023-01-01", periods=18, freq="MS")
    active = np.full(18, 20_000)
    rate = 0.01 * 1.05 ** np.arange(18)  # +5% a month
    rates = pd.DataFrame({"month": months, "active": active, "complaints": rng.poisson(active * rate),
                          "partial": False})
    rates["rate_per_1000"] = 1000 * rates["complaints"] / rates["active"]
    t = complaints.complaint_trend(rates)
    assert t["low"] < 0.05 < t["high"] and t["low"] > 0
    flat = rates.assign(complaints=rng.poisson(active * 0.01))
    t0 = complaints.complaint_trend(flat)
    assert t0["low"] < 0 < t0["high"]
    assert math.isnan(complaints.complaint_trend(rates.head(2))["monthly_change"])


def lapse_world(n=3000, share=0.2, p_complained=0.5, p_other=0.3, seed=11):
    rng = np.random.default_rng(seed)
    ids = [f"k{i}" for i in range(n)]
    complained = rng.random(n) < share
    lapsed = rng.random(n) < np.where(complained, p_complained, p_other)
    tx = [(c, "2024-02-15", 20.0) for c in ids]  # everyone bought in the first period
    tx += [(c, "2024-04-20", 30.0) for c, gone in zip(ids, lapsed, strict=True) if not gone]
    log = [(c, "2024-03-01 10:00", "phone", "complaint") for c, k in zip(ids, complained, strict=True) if k]
    log += [(c, "2024-04-05", "web", "complaint") for c in ids[:50]]  # in the following period: ignored
    return make_log(log), make_tx(tx), complained, lapsed


def test_complaint_lapse_recovers_a_planted_effect():
    log, tx, complained, lapsed = lapse_world()
    r = complaints.complaint_lapse(log, tx, "2024-04-01", 60, as_of="2024-06-30")
    d = r.difference
    assert d["n1"] == complained.sum() and d["n2"] == (~complained).sum()
    assert d["x1"] == (lapsed & complained).sum()
    assert d["low"] < 0.2 < d["high"] and d["low"] > 0
    assert d["ratio_low"] > 1
    assert r.table["low"].iloc[0] < r.table["lapse_rate"].iloc[0] < r.table["high"].iloc[0]


def test_complaint_lapse_null_and_open_period():
    log, tx, *_ = lapse_world(p_complained=0.3, p_other=0.3, seed=5)
    d = complaints.complaint_lapse(log, tx, "2024-04-01", 60, as_of="2024-06-30").difference
    assert d["low"] < 0 < d["high"]
    with pytest.raises(InputError, match="run past"):
        complaints.complaint_lapse(log, tx, "2024-04-01", 60, as_of="2024-05-01")


def test_sentiment_by_month():
    log = make_log([("a", "2024-01-02", "web", "praise"), ("b", "2024-01-05", "web", "complaint"),
                    ("a", "2024-02-02", "web", "praise")])
    log["sentiment"] = [0.9, 0.1, np.nan]
    s = complaints.sentiment_by_month(log)
    assert s["texts"].tolist() == [2] and s["mean"].iloc[0] == pytest.approx(0.5)
    assert s["low"].iloc[0] < 0.5 < s["high"].iloc[0]
    with pytest.raises(InputError, match="sentiment"):
        complaints.sentiment_by_month(log.drop(columns="sentiment"))


# --- campaign ------------------------------------------------------------------------------

def campaign_world(p_treat, p_control, n=4000, seed=7, with_control=True):
    rng = np.random.default_rng(seed)
    ids = [f"u{i}" for i in range(n)]
    group = np.where(rng.random(n) < 0.5, "treatment", "control") if with_control else np.full(n, "treatment")
    converted = rng.random(n) < np.where(group == "treatment", p_treat, p_control)
    log = make_log([(c, "2024-03-01 09:00", "email", "campaign", "winback", g) for c, g in zip(ids, group, strict=True)])
    spend = rng.gamma(2.0, 25.0, n)
    tx = make_tx([(c, "2024-03-20", s) for c, s, k in zip(ids, spend, converted, strict=True) if k]
                 + [(c, "2024-03-01", 999.0) for c in ids[:100]])  # contact day: not an outcome
    segs = ["Champions" if i % 2 else "Lost" for i in range(n)]
    segs[:20] = ["New"] * 20
    cust = make_customers(ids, ["low"] * n, segs)
    return log, tx, cust, group, converted


def test_campaign_recovers_a_planted_uplift():
    log, tx, cust, group, converted = campaign_world(0.30, 0.20)
    e = campaign.campaign_effect(log, tx, "winback", 60, "2024-06-30", 0.3, COSTS, cust)
    assert e.estimable and e.n_treatment + e.n_control == 4000
    c = e.conversion
    assert c["low"] > 0 and c["low"] < 0.10 < c["high"]
    assert c["x1"] == (converted & (group == "treatment")).sum()
    s = e.spend  # spend = conversion x mean spend (50): uplift about 5
    assert s["low"] > 0 and s["low"] < 5.0 < s["high"]
    assert e.incremental_revenue["value"] == pytest.approx(s["diff"] * e.n_treatment)
    assert e.contact_cost == pytest.approx(0.5 * e.n_treatment)
    assert e.roi["value"] == pytest.approx((e.incremental_revenue["value"] * 0.3 - e.contact_cost) / e.contact_cost)
    seg = e.by_segment.set_index("segment")
    assert seg.index.tolist() == ["Champions", "New", "Lost"]  # segment order of the RFM map
    assert bool(seg.loc["New", "small"]) and not seg.loc["Lost", "small"]
    assert seg["n_treatment"].sum() == e.n_treatment


def test_campaign_null_covers_zero():
    log, tx, cust, *_ = campaign_world(0.20, 0.20, seed=8)
    e = campaign.campaign_effect(log, tx, "winback", 60, "2024-06-30", 0.3, COSTS, cust)
    assert e.conversion["low"] < 0 < e.conversion["high"]
    assert e.spend["low"] < 0 < e.spend["high"]
    assert e.roi["low"] < 0


def test_campaign_roi_and_window_by_hand():
    rows = [(f"t{i}", "2024-03-01 10:00", "email", "campaign", "wb", "treatment") for i in range(4)]
    rows += [(f"c{i}", "2024-03-01 10:00", "email", "campaign", "wb", "control") for i in range(4)]
    tx = [(f"t{i}", "2024-03-31", 100.0) for i in range(4)] + [(f"c{i}", "2024-03-02", 50.0) for i in range(4)]
    tx += [("t0", "2024-04-01", 1000.0), ("c0", "2024-03-01", 1000.0)]  # day 31 and day 0: outside
    e = campaign.campaign_effect(make_log(rows), make_tx(tx), "wb", 30, "2024-06-30", 0.3, COSTS)
    assert e.spend["diff"] == pytest.approx(50.0)
    assert e.incremental_revenue["value"] == pytest.approx(200.0)
    assert e.contact_cost == pytest.approx(2.0)  # control rows cost nothing
    assert e.roi["value"] == pytest.approx((200 * 0.3 - 2) / 2)
    assert e.conversion["diff"] == 0.0


@pytest.mark.parametrize("case,reason", [
    ("no_control", "no_control"), ("no_group", "no_group"), ("unknown", "not_found"), ("open", "window_open"),
], ids=["no-control", "no-group-column", "unknown-campaign", "window-open"])
def test_campaign_without_counterfactual_gives_no_number(case, reason):
    log, tx, cust, *_ = campaign_world(0.3, 0.2, n=200, with_control=case != "no_control")
    name, as_of = "winback", "2024-06-30"
    if case == "no_group":
        log = log.drop(columns="group")
    if case == "unknown":
        name = "spring"
    if case == "open":
        as_of = "2024-03-15"
    e = campaign.campaign_effect(log, tx, name, 60, as_of, 0.3, COSTS, cust)
    assert not e.estimable and e.reason == reason
    assert e.conversion is None and e.spend is None and e.roi is None and e.incremental_revenue is None


def test_campaign_drops_customers_in_both_arms():
    rows = [("a", "2024-03-01", "email", "campaign", "wb", "treatment"),
            ("a", "2024-03-02", "email", "campaign", "wb", "control"),
            ("b", "2024-03-01", "email", "campaign", "wb", "treatment"),
            ("c", "2024-03-01", "email", "campaign", "wb", "control")]
    e = campaign.campaign_effect(make_log(rows), make_tx([("b", "2024-03-05", 1.0)]), "wb", 30, "2024-06-30", 0.3)
    assert e.excluded_both_arms == 1 and (e.n_treatment, e.n_control) == (1, 1)
    assert e.roi is None and e.contact_cost is None
    assert campaign.campaign_names(make_log(rows)) == ["wb"]


# --- profitability -------------------------------------------------------------------------

def profit_world():
    cust = make_customers(["a", "b", "c"], ["high", "low", "low"], ["Loyal", "Lost", "Lost"])
    tx = make_tx([("a", "2024-01-05", 200.0), ("a", "2024-02-05", 100.0), ("b", "2024-01-05", 20.0),
                  ("a", "2024-12-05", 999.0)])  # after as_of
    log = make_log([("a", "2024-01-02", "phone", "inquiry"), ("b", "2024-01-02", "store", "complaint"),
                    ("b", "2024-01-03", "store", "complaint"), ("c", "2024-01-03", "email", "campaign", "wb", "control")])
    return cust, tx, log


def test_profit_arithmetic_by_hand():
    cust, tx, log = profit_world()
    p = profitability.customer_profit(tx, log, cust, COSTS, 0.3, as_of="2024-06-30").set_index("customer_id")
    assert p.loc["a", "revenue"] == 300.0 and p.loc["a", "cost_to_serve"] == 3.0
    assert p.loc["a", "profit"] == pytest.approx(0.3 * 300 - 3 - 10)  # 77
    assert p.loc["b", "profit"] == pytest.approx(0.3 * 20 - 8 - 10)    # -12
    assert p.loc["c", "profit"] == pytest.approx(-10.0)                # control row: no cost
    assert p.loc["c", "contacts"] == 0


def test_whale_curve_and_destroyers_by_hand():
    prof = pd.DataFrame({"profit": [-3.0, 10.0, -2.0, 5.0], "revenue": [1.0, 50, 2, 30],
                         "contacts": [4, 1, 2, 1], "cost_to_serve": [6.0, 1, 3, 1],
                         "value_tier": ["low", "high", "low", "medium"]})
    w = profitability.whale_curve(prof)
    assert w.total_profit == 10 and w.peak_profit == 15
    assert w.peak_share == pytest.approx(1.5) and w.peak_at == pytest.approx(0.5)
    assert w.curve["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    overall, by = profitability.value_destroyers(prof)
    assert overall["destroyers"] == 2 and overall["profit_lost"] == -5.0 and overall["share"] == 0.5
    low = by.set_index("group").loc["low"]
    assert low["destroyer_share"] == 1.0 and low["profit_lost"] == -5.0
    assert by["group"].tolist() == ["high", "medium", "low"]


def test_profit_rejects_bad_costs():
    cust, tx, log = profit_world()
    with pytest.raises(InputError, match="'store'"):
        profitability.customer_profit(tx, log, cust, {"contact": {"phone": 1.0, "email": 1.0}, "acquisition": 1}, 0.3)
    with pytest.raises(InputError, match="margin"):
        profitability.customer_profit(tx, log, cust, COSTS, 1.5)
    with pytest.raises(InputError, match="acquisition"):
        profitability.customer_profit(tx, log, cust, {"contact": COSTS["contact"]}, 0.3)


# --- tiers ---------------------------------------------------------------------------------

def test_loyalty_score_by_hand():
    cust = make_customers(["a", "b", "c", "d"])
    tx = make_tx([("a", d, 10.0) for d in ("2023-01-01", "2023-03-01", "2023-06-01", "2023-09-01")]
                 + [("b", d, 10.0) for d in ("2023-01-01", "2023-12-01")]
                 + [("c", "2023-01-01", 10.0), ("d", "2023-06-01", 5.0), ("d", "2023-06-01", 5.0)])
    log = make_log([("b", "2023-05-01", "phone", "complaint"), ("c", "2023-05-01", "phone", "complaint"),
                    ("c", "2023-06-01", "phone", "complaint"), ("d", "2023-06-02", "web", "praise")])
    log["rating"] = [np.nan, 1.0, 2.0, 5.0]
    t = tiers.loyalty_tiers(tx, log, cust, "2023-12-31", rating_scale=(1, 5)).set_index("customer_id")
    # repeat rates: a 3/yr, b 1/yr -> median 2: a 2 points, b 1; c, d one purchase day: 0
    assert t["purchase_days"].tolist() == [4, 2, 1, 1]
    assert t["repeat_points"].tolist() == [2, 1, 0, 0]
    assert t["complaint_points"].tolist() == [1, 0, -1, 1]
    assert t["voice_points"].tolist() == [0, 0, -1, 1]
    assert t["loyalty_score"].tolist() == [3, 1, -2, 2]
    assert t["loyalty_tier"].astype(str).tolist() == ["high", "low", "low", "medium"]
    rec = pd.DataFrame({"customer_id": ["d"], "recommend": [3]})
    t2 = tiers.loyalty_tiers(tx, log, cust, "2023-12-31", (1, 5), recommend=rec).set_index("customer_id")
    assert t2.loc["d", "voice_points"] == -1  # a detractor outweighs the rating


def test_potential_tertiles_and_grid():
    ids = [f"p{i}" for i in range(7)]
    cust = make_customers(ids, ["high"] * 3 + ["low"] * 4)
    preds = pd.DataFrame({"customer_id": ids[:6], "clv": [1.0, 2, 3, 4, 5, 6]})
    p = tiers.potential_tiers(cust, preds)
    assert p["potential"].astype(str).tolist() == ["low", "low", "medium", "medium", "high", "high", "unknown"]
    loyal = pd.DataFrame({"customer_id": ids, "loyalty_tier": ["high"] * 7})
    g = tiers.tier_grid(cust, loyal, p)
    assert g["customers"].sum() == 7 and len(g) == 2 * 3 * 4
    assert g["share"].sum() == pytest.approx(1.0)
    none = tiers.tier_grid(cust, loyal, tiers.potential_tiers(cust))
    assert set(none["potential"]) == {"unknown"} and len(none) == 6
    with pytest.raises(InputError, match="clv"):
        tiers.potential_tiers(cust, preds.rename(columns={"clv": "x"}))


# --- features ------------------------------------------------------------------------------

def test_features_one_row_per_customer():
    cust, tx, log = profit_world()
    cust = pd.concat([cust, make_customers(["q"])], ignore_index=True)
    log["sentiment"] = [0.8, 0.2, np.nan, np.nan]
    f = features.interaction_features(log, tx, cust, COSTS, 0.3, "2024-03-31", 90)
    assert f.columns.tolist() == features.feature_columns(90)
    assert "contacts_90d" in f and "complaints_prev_90d" in f
    f = f.set_index("customer_id")
    assert f.index.tolist() == ["a", "b", "c", "q"]
    assert f.loc["b", "complaints_90d"] == 2 and f.loc["c", "contacts_90d"] == 0
    assert f.loc["a", "sentiment_mean"] == pytest.approx(0.8) and math.isnan(f.loc["q", "sentiment_mean"])
    assert f.loc["a", "channels"] == 1 and f.loc["q", "channels"] == 0
    assert f.loc["q", "profit"] == -10.0
    assert features.feature_columns(60)[1] == "contacts_60d"


def test_summary_json_is_json_safe():
    log, tx, cust, *_ = campaign_world(0.3, 0.2, n=400)
    e = campaign.campaign_effect(log, tx, "winback", 60, "2024-06-30", 0.3, COSTS, cust)
    prof = profitability.customer_profit(tx, log, cust, COSTS, 0.3)
    rates = complaints.complaint_rates(log, tx, "2024-06-30")
    out = features.summary_json(
        as_of="2024-06-30", window_days=90, currency="$", campaign=e,
        trend=frequency.contact_trend(log, cust, "2024-06-30", 90), monthly=frequency.contacts_per_month(log),
        mix=channels.channel_mix(log, cust), multichannel=channels.multichannel_spend(log, tx),
        rates=rates, complaint_trend=complaints.complaint_trend(rates),
        whale=profitability.whale_curve(prof), destroyers=profitability.value_destroyers(prof))
    text = json.dumps(out, allow_nan=False)
    assert "winback" in text and out["campaign"]["estimable"] is True
    assert all("source" in out[k] for k in ("campaign", "channels", "complaints", "profitability"))
    no = campaign.campaign_effect(log.drop(columns="group"), tx, "winback", 60, "2024-06-30", 0.3)
    out = features.summary_json(as_of="2024-06-30", window_days=90, campaign=no)
    assert "conversion" not in out["campaign"] and out["campaign"]["reason"] == "no_group"


@pytest.mark.parametrize("call,match", [
    (lambda lg, tx, cu: channels.channel_mix(lg, cu, "cluster_name"), "cluster_name"),
    (lambda lg, tx, cu: channels.multichannel_spend(lg, tx.drop(columns="amount")), "amount"),
    (lambda lg, tx, cu: complaints.complaint_rates(lg.assign(timestamp="x"), tx), "datetime64"),
    (lambda lg, tx, cu: campaign.campaign_effect(lg.drop(columns="channel"), tx, "wb", 30, "2024-06-30", 0.3), "channel"),
    (lambda lg, tx, cu: profitability.whale_curve(pd.DataFrame({"profit": []})), "no customer"),
    (lambda lg, tx, cu: tiers.tier_grid(cu, pd.DataFrame({"customer_id": []}), cu), "loyalty_tier"),
    (lambda lg, tx, cu: features.interaction_features(lg, tx, pd.concat([cu, cu]), COSTS, 0.3, "2024-06-30", 90), "unique"),
], ids=["mix-column", "tx-amount", "timestamp-dtype", "log-channel", "whale-empty", "grid-loyalty", "customers-unique"])
def test_bad_input_names_the_problem(call, match):
    cust, tx, log = profit_world()
    with pytest.raises(InputError, match=match):
        call(log, tx, cust)
