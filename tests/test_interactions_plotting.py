"""Every interactions figure renders with a title and labelled axes, with data and without."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from crmlab.interactions import (
    campaign,
    channels,
    complaints,
    feedback,
    frequency,
    plotting,
    profitability,
    tiers,
    views,
)

COSTS = {"contact": {"email": 0.5, "phone": 3.0, "web": 0.25}, "acquisition": 10.0}
ACCURACY = {"chinese": {"accuracy": 0.85, "ci_low": 0.84, "ci_high": 0.86, "test_texts": 3464, "train_texts": 13856,
                        "distinct_texts": 17320, "lines": 35123, "sampled": 17320},
            "english": {"accuracy": 0.57, "ci_low": 0.55, "ci_high": 0.58, "n": 3610, "silent": 980,
                        "accuracy_when_scored": 0.78, "ci_low_when_scored": 0.76, "ci_high_when_scored": 0.79}}
AS_OF = "2024-06-30"


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(2)
    n = 240
    ids = [f"c{i}" for i in range(n)]
    cust = pd.DataFrame({"customer_id": pd.Series(ids, dtype="str"),
                         "value_tier": rng.choice(["high", "medium", "low"], n),
                         "rfm_segment": rng.choice(["Champions", "Lost"], n)})
    m = 1200
    log = pd.DataFrame({
        "customer_id": rng.choice(ids, m),
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 180 * 24, m), "h"),
        "channel": rng.choice(["web", "phone", "email"], m),
        "type": rng.choice(["inquiry", "complaint", "praise"], m),
        "campaign": None, "group": None, "sentiment": rng.random(m)})
    camp = pd.DataFrame({"customer_id": ids, "timestamp": pd.Timestamp("2024-03-01"), "channel": "email",
                         "type": "campaign", "campaign": "winback",
                         "group": rng.choice(["treatment", "control"], n), "sentiment": np.nan})
    log = pd.concat([log, camp], ignore_index=True)
    k = 1500
    tx = pd.DataFrame({"customer_id": rng.choice(ids, k),
                       "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 181, k), "D"),
                       "amount": rng.gamma(2.0, 20.0, k)})
    return log, tx, cust


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def check(ax, title_part=None):
    assert ax.get_title(), "figure without a title"
    assert ax.get_xlabel() and ax.get_ylabel(), "axis without a label"
    if title_part:
        assert title_part in ax.get_title()


def results(log, tx, cust):
    prof = profitability.customer_profit(tx, log, cust, COSTS, 0.3, AS_OF)
    lt = tiers.loyalty_tiers(tx, log, cust, AS_OF)
    pot = tiers.potential_tiers(cust, pd.DataFrame({"customer_id": cust["customer_id"],
                                                    "clv": np.arange(len(cust), dtype=float)}))
    return {
        "contacts": (plotting.plot_contacts_per_month, frequency.contacts_per_month(log, cust)),
        "mix": (plotting.plot_channel_mix, channels.channel_mix(log, cust, "rfm_segment")),
        "multichannel": (plotting.plot_multichannel_spend, channels.multichannel_spend(log, tx)),
        "migration": (plotting.plot_channel_migration, channels.channel_migration(log, "2024-03-31", AS_OF, 60)),
        "rate": (plotting.plot_complaint_rate, complaints.complaint_rates(log, tx, "2024-06-15")),
        "lapse": (plotting.plot_complaint_lapse, complaints.complaint_lapse(log, tx, "2024-04-01", 60, AS_OF)),
        "campaign": (plotting.plot_campaign_effect,
                     campaign.campaign_effect(log, tx, "winback", 60, AS_OF, 0.3, COSTS, cust)),
        "whale": (plotting.plot_whale_curve, profitability.whale_curve(prof)),
        "grid": (plotting.plot_tier_grid, tiers.tier_grid(cust, lt, pot)),
        "sentiment": (plotting.plot_sentiment_by_month, complaints.sentiment_by_month(log)),
        "sentiment_groups": (lambda t, ax=None: plotting.plot_sentiment_by_group(t, "rfm_segment", ax),
                             feedback.sentiment_by_group(log, cust, "rfm_segment")),
        "sentiment_repeat": (plotting.plot_sentiment_repeat,
                             feedback.sentiment_repeat(log, tx, "2024-04-01", 60, AS_OF)),
        "sentiment_accuracy": (plotting.plot_sentiment_accuracy, ACCURACY),
    }


def test_every_plot_renders_with_title_and_labels(world):
    res = results(*world)
    assert len(res) == len(plotting.__all__)
    for name, (plot, result) in res.items():
        ax = plot(result)
        check(ax)
        ax.figure.canvas.draw()  # renders, not only builds
        assert name


def test_plots_draw_into_a_given_axes(world):
    _, axes = plt.subplots(1, 2)
    plot, result = results(*world)["whale"]
    assert plot(result, ax=axes[1]) is axes[1]


def test_campaign_plot_without_control_shows_no_number(world):
    log, tx, cust = world
    e = campaign.campaign_effect(log.drop(columns="group"), tx, "winback", 60, AS_OF, 0.3, COSTS, cust)
    ax = plotting.plot_campaign_effect(e)
    check(ax, "winback")
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "cannot be estimated" in texts
    assert not ax.lines and not any(ch.isdigit() for ch in texts)


def test_empty_results_still_have_labels(world):
    log, tx, cust = world
    empty = log.iloc[:0]
    check(plotting.plot_contacts_per_month(frequency.contacts_per_month(empty)))
    check(plotting.plot_sentiment_by_month(complaints.sentiment_by_month(empty)))
    check(plotting.plot_channel_mix(channels.channel_mix(empty, cust)))
    check(plotting.plot_complaint_rate(complaints.complaint_rates(empty, tx)))


def test_whale_curve_in_money_when_the_base_loses(world):
    prof = pd.DataFrame({"profit": [5.0, -10.0, -3.0]})
    ax = plotting.plot_whale_curve(profitability.whale_curve(prof), currency="$")
    check(ax)
    assert "$" in ax.get_ylabel()


def test_views_are_named_and_draw(world):
    log, tx, cust = world
    prof = profitability.customer_profit(tx, log, cust, COSTS, 0.3, AS_OF)
    lt = tiers.loyalty_tiers(tx, log, cust, AS_OF)
    shown = [
        views.interactions_contacts(log, cust, AS_OF, 60),
        views.interactions_channel_mix(log, cust),
        views.interactions_multichannel(log, tx, AS_OF, "$"),
        views.interactions_migration(log, "2024-03-31", AS_OF, 60),
        views.interactions_complaint_rate(log, tx, AS_OF),
        views.interactions_complaint_lapse(log, tx, "2024-04-01", 60, AS_OF),
        views.interactions_campaign(log, tx, "winback", 60, AS_OF, 0.3, COSTS, cust, currency="$"),
        views.interactions_whale_curve(prof, currency="$"),
        views.interactions_tier_grid(cust, lt, tiers.potential_tiers(cust)),
        views.interactions_sentiment(log),
        views.interactions_sentiment_groups(log, cust, "value_tier"),
        views.interactions_sentiment_repeat(log, tx, "2024-04-01", 60, AS_OF),
        views.interactions_sentiment_accuracy(ACCURACY),
    ]
    for d in shown:
        assert d.name.startswith("interactions_") and d.takeaway
        check(d.plot())
    grid = shown[8].table
    assert grid["strategy"].str.len().gt(0).all()
    styled = views.interactions_candidates_view(shown[0]["candidates"])
    assert "customer_id" in styled.to_html()
