"""The interactions sentences: the numbers they carry, their caveats, and the no-effect text."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from crmlab.interactions import narrative
from crmlab.interactions.campaign import CampaignEffect
from crmlab.interactions.channels import ChannelMigration, ChannelMix, MultichannelSpend
from crmlab.interactions.complaints import ComplaintLapse
from crmlab.interactions.inference import diff_means, diff_proportions
from crmlab.interactions.profitability import WhaleCurve
from crmlab.interactions.tiers import LOYALTY_ORDER, POTENTIAL_ORDER


def effect(**kw):
    conv = diff_proportions(600, 2000, 400, 2000)
    spend = {"diff": 5.0, "low": 3.0, "high": 7.0, "mean1": 15.0, "mean2": 10.0}
    base = dict(name="winback", estimable=True, reason=None, window_days=60, n_treatment=2000, n_control=2000,
                conversion=conv, spend=spend, incremental_revenue={"value": 10_000.0, "low": 6_000.0, "high": 14_000.0},
                contact_cost=1_000.0, roi={"value": 2.0, "low": 0.8, "high": 3.2}, margin=0.3,
                by_segment=pd.DataFrame({"segment": ["Champions", "New"], "small": [False, True]}))
    base.update(kw)
    return CampaignEffect(**base)


@pytest.mark.parametrize("reason", ["no_control", "no_group"], ids=["no-control", "no-group-column"])
def test_cannot_estimate_says_why_and_gives_no_number(reason):
    e = CampaignEffect(name="winback", estimable=False, reason=reason, window_days=60, n_treatment=412)
    text = narrative.cannot_estimate(e)
    assert "cannot be estimated" in text and "counterfactual" in text and "control group" in text
    assert not re.search(r"\d", text)
    assert narrative.campaign_takeaway(e) == text and narrative.roi_reading(e) == text


def test_window_open_and_not_found_texts():
    e = CampaignEffect(name="winback", estimable=False, reason="window_open", window_days=60)
    assert "yet" in narrative.cannot_estimate(e) and "60-day" in narrative.cannot_estimate(e)
    e = CampaignEffect(name="spring", estimable=False, reason="not_found", window_days=60)
    assert "no contact of this campaign" in narrative.cannot_estimate(e)


def test_campaign_takeaway_carries_the_numbers():
    e = effect()
    text = narrative.campaign_takeaway(e, "$")
    assert "30.0%" in text and "20.0%" in text and "+10.0 pp" in text
    assert "Newcombe" in text and "Welch" in text and "is positive" in text
    assert "$5.00" in text and "$3.00 to $7.00" in text
    roi = narrative.roi_reading(e, "$")
    assert "$10,000" in roi and "+200%" in roi and "+80% to +320%" in roi
    assert "New" in narrative.segment_uplift_note(e) and "by chance" in narrative.segment_uplift_note(e)
    free = narrative.roi_reading(effect(roi={"value": np.nan, "low": np.nan, "high": np.nan}, contact_cost=0.0))
    assert "undefined" in free
    assert "No contact costs" in narrative.roi_reading(effect(roi=None, contact_cost=None))


def test_null_effect_reads_indistinguishable_from_zero():
    e = effect(conversion=diff_proportions(400, 2000, 400, 2000))
    assert "indistinguishable from zero" in narrative.campaign_takeaway(e)


def test_lapse_takeaway_interval_and_caveat():
    d = diff_proportions(50, 100, 30, 100)
    lapse = ComplaintLapse(customers=pd.DataFrame(), table=pd.DataFrame(), difference=d,
                           split=pd.Timestamp("2024-04-01"), period_days=90)
    text = narrative.lapse_takeaway(lapse)
    assert "50%" in text and "30%" in text and "+20.0 pp" in text and "Newcombe" in text
    assert "relative risk 1.67" in text and "warning sign" in text


def test_multichannel_is_an_association():
    a, b = np.array([100.0, 120, 140]), np.array([50.0, 60, 70])
    ms = MultichannelSpend(table=pd.DataFrame({"group": ["multichannel", "single channel"], "share": [0.5, 0.5]}),
                           customers=pd.DataFrame(), difference=diff_means(a, b))
    text = narrative.multichannel_takeaway(ms, "$")
    assert "$120" in text and "$60" in text and "association" in text


def test_channel_mix_escapes_markdown_in_user_values():
    shares = pd.DataFrame({"*web*": [0.7, 0.2], "phone": [0.3, 0.8]}, index=["high", "low"])
    text = narrative.channel_mix_takeaway(ChannelMix(shares=shares, counts=shares * 10, by="value_tier"))
    assert r"\*web\*" in text and "phone 80%" in text and "value tier" in text


def test_migration_whale_destroyers_and_grid_sentences():
    counts = pd.DataFrame([[5, 3, 1], [0, 4, 1], [2, 0, 0]], index=["web", "phone", "none"],
                          columns=["web", "phone", "none"])
    mig = ChannelMigration(counts=counts, shares=counts / counts.sum(axis=1).to_numpy()[:, None], stayed=0.75,
                           start=pd.Timestamp("2024-01-01"), end=pd.Timestamp("2024-06-30"), window_days=90)
    text = narrative.migration_takeaway(mig)
    assert "75%" in text and "web → phone (3 customers)" in text
    whale = WhaleCurve(curve=pd.DataFrame(), total_profit=10.0, peak_profit=15.0, peak_share=1.5, peak_at=0.5,
                       customers=4)
    assert "50%" in narrative.whale_takeaway(whale, "$") and "150%" in narrative.whale_takeaway(whale, "$")
    overall = {"destroyers": 2, "share": 0.5, "profit_lost": -5.0, "destroyer_mean_revenue": 1.5,
               "other_mean_revenue": 40.0, "destroyer_mean_contacts": 3.0, "other_mean_contacts": 1.0}
    by = pd.DataFrame({"group": ["high", "low"], "destroyer_share": [0.0, 1.0]})
    text = narrative.destroyers_takeaway(overall, by, "$")
    assert "2 customers (50%)" in text and "$5" in text and "'low'" in text
    grid = pd.DataFrame({"value_tier": ["high", "high"], "loyalty_tier": ["low", "high"],
                         "potential": ["unknown", "unknown"], "customers": [3, 1], "share": [0.75, 0.25]})
    text = narrative.tier_grid_takeaway(grid)
    assert "3 high-value" in text and "unknown" in text


def test_every_grid_cell_has_a_strategy():
    for v in ["high", "medium", "low"]:
        for lo in LOYALTY_ORDER:
            for p in POTENTIAL_ORDER:
                s = narrative.cell_strategy(v, lo, p)
                assert s and s.endswith(".")
    assert "invest" in narrative.cell_strategy("low", "high", "high")
    assert set(narrative.RULES) >= {"frequency", "active", "lapse", "campaign", "profit", "loyalty", "potential"}


def test_trend_and_rate_sentences():
    overall = {"window_days": 90, "recent": 120, "previous": 100, "relative_change": 0.2, "mean_change": 0.2,
               "low": 0.1, "high": 0.3, "up": 30, "down": 10}
    text = narrative.trend_reading(overall)
    assert "120" in text and "+20%" in text and "is positive" in text
    rates = pd.DataFrame({"month": pd.date_range("2024-01-01", periods=3, freq="MS"),
                          "rate_per_1000": [10.0, 12.0, 14.0], "partial": [False, False, True]})
    trend = {"monthly_change": 0.05, "low": 0.01, "high": 0.09}
    text = narrative.complaint_rate_takeaway(rates, trend)
    assert "February 2024" in text and "12.0" in text and "+5.0%" in text
    assert "Too few" in narrative.complaint_rate_takeaway(rates, {**trend, "monthly_change": float("nan")})
