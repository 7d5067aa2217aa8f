"""The report's interactions section: numbers read from interaction_metrics.json, sentences, cards."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from crmlab import report
from crmlab.errors import InputError
from crmlab.report import narrative_interactions as ix

LOG = "interactions log (clean)"


def doc(**changes):
    """A hand-built interaction_metrics.json with every section the report reads."""
    base = {
        "as_of": "1998-06-30", "window_days": 90, "currency": "$",
        "kpis": {"complaints_per_1000_last_month": 12.5, "value_destroyers_share": 0.125,
                 "campaign_conversion_diff": 0.01, "total_profit": 1000.0, "whale_peak_share": 1.5},
        "channels": {"source": [LOG, "customers.parquet"], "by": "value_tier",
                     "shares": [{"value_tier": "high", "web": 0.6, "phone": 0.4},
                                {"value_tier": "low", "web": 0.2, "phone": 0.8}]},
        "complaints": {"source": [LOG, "transactions.parquet"],
                       "monthly": [{"month": "1998-04-01", "rate_per_1000": 10.0, "partial": False},
                                   {"month": "1998-05-01", "rate_per_1000": 12.5, "partial": False},
                                   {"month": "1998-06-01", "rate_per_1000": 3.0, "partial": True}],
                       "trend": {"monthly_change": 0.05, "low": -0.02, "high": 0.12},
                       "lapse": {"difference": {"diff": 0.10, "low": 0.04, "high": 0.16}}},
        "sentiment": {"source": [LOG, "sentiment model"],
                      "accuracy": {"chinese": {"method": "char TF-IDF + LR", "accuracy": 0.885,
                                               "ci_low": 0.875, "ci_high": 0.895, "test_texts": 3400},
                                   "english": {"method": "VADER", "accuracy": 0.8, "n": 1000}},
                      "monthly": [{"month": "1998-05-01", "texts": 3, "mean": 0.8},
                                  {"month": "1998-06-01", "texts": 1, "mean": 0.4}]},
        "campaign": {"source": [LOG, "transactions.parquet"], "name": "winback", "estimable": True,
                     "reason": None, "window_days": 60, "n_treatment": 500, "n_control": 480,
                     "conversion": {"diff": 0.012, "low": -0.03, "high": 0.05},
                     "incremental_revenue": {"value": 120.0, "low": -300.0, "high": 540.0}},
        "profitability": {"source": [LOG, "params interactions.costs"], "total_profit": 1000.0,
                          "peak_share": 1.5, "peak_at": 0.4,
                          "destroyers": {"overall": {"destroyers": 25, "share": 0.125, "profit_lost": -500.0}}},
    }
    base.update(changes)
    return base


def test_interaction_kpis_by_hand():
    k = report.interaction_kpis(doc())
    assert k["complaints_per_1000"] == 12.5 and k["value_destroyers_share"] == 0.125
    assert k["sentiment_mean"] == pytest.approx((3 * 0.8 + 1 * 0.4) / 4)  # text-weighted: 0.7
    assert (k["campaign_uplift"], k["campaign_low"], k["campaign_high"]) == (0.012, -0.03, 0.05)
    stated = doc(kpis={**doc()["kpis"], "sentiment_mean": 0.61})
    assert report.interaction_kpis(stated)["sentiment_mean"] == 0.61
    closed = doc(campaign={"name": "x", "estimable": False, "reason": "no_control"})
    assert report.interaction_kpis(closed)["campaign_uplift"] is None
    empty = report.interaction_kpis({"kpis": {}})
    assert all(v is None for v in empty.values())
    with pytest.raises(InputError, match="interaction_metrics.json"):
        report.interaction_kpis(None)


def test_tables_read_from_the_document():
    acc = report.sentiment_accuracy_table(doc())
    assert acc["language"].tolist() == ["chinese", "english"]
    assert acc["held_out_texts"].tolist() == [3400, 1000] and math.isnan(acc["ci_low"].iloc[1])
    single = doc(sentiment={"accuracy": {"accuracy": 0.9, "n": 10, "method": "m"}})
    assert report.sentiment_accuracy_table(single)["language"].tolist() == ["all texts"]
    assert report.sentiment_accuracy_table(doc(sentiment={})) is None
    assert report.channel_share_table(doc())["value_tier"].tolist() == ["high", "low"]
    monthly = report.complaint_monthly(doc())
    assert monthly["partial"].tolist() == [False, False, True]
    assert report.complaint_monthly(doc(complaints={})) is None
    assert report.interaction_sources(doc()) == [LOG, "customers.parquet", "transactions.parquet",
                                                 "sentiment model", "params interactions.costs"]


def test_simulated_demo_is_recognised():
    assert report.is_simulated(doc(), "data/raw/interactions/interactions.csv")
    assert report.is_simulated(doc(simulated=True), None)
    # the stage's flag decides when present (it resolves the path; a substring test cannot)
    assert not report.is_simulated(doc(simulated=False), "data/raw/interactions/interactions.csv")
    assert not report.is_simulated(doc(), "/shop/exports/contacts.csv")


def test_sentences_by_hand():
    assert ix.reading_channels(report.channel_share_table(doc()), "value_tier") == (
        "**Channels.** The most used channel per value tier — high: web (60%); low: phone (80%).")
    assert ix.reading_complaints(doc()) == (
        "**Complaints.** 12.5 complaints per 1,000 active customers in the last full month; trend "
        "+5.0% a month (95% CI -2.0% to +12.0%: no clear trend). Customers who complained lapsed "
        "10.0 pp more often in the following period than those who did not (difference +10.0 pp, "
        "95% CI +4.0 pp to +16.0 pp: a real difference).")
    lapse_less = doc()
    lapse_less["complaints"]["lapse"]["difference"] = {"diff": -0.113, "low": -0.151, "high": -0.075}
    assert "lapsed 11.3 pp less often in the following period than those who did not " \
           "(difference -11.3 pp, 95% CI -15.1 pp to -7.5 pp: a real difference)" in \
           ix.reading_complaints(lapse_less)
    k = report.interaction_kpis(doc())
    text = ix.reading_sentiment(k, report.sentiment_accuracy_table(doc()))
    assert text.startswith("**Feedback sentiment.** Mean 0.70 on a 0 (negative) to 1 (positive) scale.")
    assert "chinese (char TF-IDF + LR): 88.5% on 3,400 held-out texts, 95% CI 87.5%–89.5%" in text
    assert "english (VADER): 80.0% on 1,000 held-out texts;" not in text and text.endswith("texts.")
    camp = ix.reading_campaign(doc(), simulated=True, currency="$")
    assert "treatment minus control +1.2 pp (95% CI -3.0 pp to +5.0 pp; 500 vs 480 customers)" in camp
    assert "The interval covers zero: no effect can be claimed." in camp and "**Placebo:**" in camp
    assert "**Placebo:**" not in ix.reading_campaign(doc(), simulated=False)
    closed = ix.reading_campaign(doc(campaign={"name": "x", "estimable": False, "reason": "no_control"}), False)
    assert "cannot be estimated (no control)" in closed
    prof = ix.reading_profitability(doc(), "$")
    assert "peaks at 150% of it with the most profitable 40% of customers — the rest give 50% of it back" in prof
    assert "**12.5% of customers destroy value** (25 customers" in prof
    assert ix.reading_profitability({}) == "*No profitability analysis in this run.*"


def test_cards_carry_the_four_numbers_with_interval_and_caveat():
    k = report.interaction_kpis(doc())
    notes = ix.interaction_card_notes(k, 90, simulated=True)
    assert notes["campaign_uplift"] == "95% CI -3.0 pp to +5.0 pp — placebo on the simulated demo"
    cards = report.interaction_cards_html(k, notes)
    for shown in ("12.5", "0.70", "+1.2 pp", "12.5%", "Share of customers who destroy value"):
        assert shown in cards
    assert "<script" not in cards
    blank = report.interaction_cards_html(report.interaction_kpis({"kpis": {}}))
    assert blank.count("n/a") == 4
    closed = ix.interaction_card_notes({"campaign_uplift": None}, None, False)
    assert closed["campaign_uplift"].startswith("not estimable")
    with pytest.raises(InputError, match="mapping"):
        report.interaction_cards_html([1, 2])


def test_user_text_is_escaped_everywhere():
    evil = "<img src=x onerror=alert(1)>"
    hostile = doc(channels={"source": [evil], "by": "value_tier",
                            "shares": [{"value_tier": evil, evil: 1.0}]},
                  campaign={**doc()["campaign"], "name": evil},
                  sentiment={"accuracy": {evil: {"method": evil, "accuracy": 0.9}}})
    texts = [ix.reading_channels(report.channel_share_table(hostile), "value_tier"),
             ix.reading_campaign(hostile, False),
             ix.reading_sentiment({}, report.sentiment_accuracy_table(hostile)),
             ix.interactions_source_line(report.interaction_sources(hostile), False)]
    for t in texts:
        assert "<img" not in t and "&lt;img" in t
    styled = report.style_interaction_table(report.channel_share_table(hostile)).to_html()
    assert "<img" not in styled


def test_skipped_stage_is_one_sentence_and_the_figure_draws():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert ix.INTERACTIONS_NOT_RUN.count(".") >= 1 and "interactions" in ix.INTERACTIONS_NOT_RUN
    shown = report.complaints_display(doc())
    assert shown.name == "report_interactions_complaints" and len(shown.table) == 3
    ax = shown.plot()
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    plt.close("all")
    assert report.complaints_display(doc(complaints={})) is None
    assert isinstance(report.complaint_monthly(doc())["month"].iloc[0], pd.Timestamp)
