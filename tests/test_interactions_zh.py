"""The interactions stage in Chinese: every figure's words, every sentence, the shown tables."""

from __future__ import annotations

import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from test_interactions_plotting import world  # noqa: E402,F401 (shared fixtures and data)

from crmlab.i18n import EN, catalog  # noqa: E402
from crmlab.interactions import (  # noqa: E402
    campaign,
    channels,
    complaints,
    feedback,
    frequency,
    narrative,
    plotting,
    profitability,
    tiers,
    views,
)
from crmlab.interactions.campaign import CampaignEffect  # noqa: E402
from crmlab.interactions.channels import ChannelMigration, ChannelMix, MultichannelSpend  # noqa: E402
from crmlab.interactions.complaints import ComplaintLapse  # noqa: E402
from crmlab.interactions.feedback import SentimentRepeat  # noqa: E402
from crmlab.interactions.inference import diff_means, diff_proportions  # noqa: E402
from crmlab.interactions.profitability import WhaleCurve  # noqa: E402
from crmlab.interactions.tiers import LOYALTY_ORDER, POTENTIAL_ORDER  # noqa: E402

ZH = catalog("zh")
HAN = re.compile(r"[\u4e00-\u9fff]")
# Latin a Chinese sentence of this stage may carry: method names, acronyms, the test data's
# campaign name, the units of a percentage-point difference in the figures
LATIN_OK = {"Welch", "Newcombe", "Wilson", "VADER", "TF", "IDF", "LR", "ROI", "RFM", "winback", "ID"}
COSTS = {"contact": {"email": 0.5, "phone": 3.0, "web": 0.25}, "acquisition": 10.0}
ACCURACY = {"chinese": {"accuracy": 0.85, "ci_low": 0.84, "ci_high": 0.86, "test_texts": 3464, "train_texts": 13856,
                        "distinct_texts": 17320, "lines": 35123, "sampled": 3000},
            "english": {"accuracy": 0.57, "ci_low": 0.55, "ci_high": 0.58, "n": 3610, "silent": 980,
                        "accuracy_when_scored": 0.78, "ci_low_when_scored": 0.76, "ci_high_when_scored": 0.79}}
AS_OF = "2024-06-30"


def latin_words(text: str) -> list[str]:
    text = re.sub(r"`[^`]*`", " ", text)  # file and params names shown as code
    text = re.sub(r"\*\*[^*]*\*\*", " ", text)  # the log's file name (data), in bold
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in LATIN_OK and not w.isupper()]


def chinese(text: str) -> str:
    assert text and HAN.search(text), f"no Chinese in {text!r}"
    assert not latin_words(text), f"English left: {latin_words(text)} in {text!r}"
    return text






def figures(log, tx, cust):
    prof = profitability.customer_profit(tx, log, cust, COSTS, 0.3, AS_OF)
    lt = tiers.loyalty_tiers(tx, log, cust, AS_OF)
    pot = tiers.potential_tiers(cust, pd.DataFrame({"customer_id": cust["customer_id"],
                                                    "clv": np.arange(len(cust), dtype=float)}))
    loses = profitability.whale_curve(pd.DataFrame({"profit": [5.0, -10.0, -3.0]}))
    no_control = campaign.campaign_effect(log.drop(columns="group"), tx, "winback", 60, AS_OF, 0.3, COSTS, cust)
    empty = log.iloc[:0]
    return {
        "contacts": lambda tr: plotting.plot_contacts_per_month(frequency.contacts_per_month(log, cust), tr=tr),
        "contacts_empty": lambda tr: plotting.plot_contacts_per_month(frequency.contacts_per_month(empty), tr=tr),
        "mix": lambda tr: plotting.plot_channel_mix(channels.channel_mix(log, cust, "rfm_segment"), tr=tr),
        "mix_tier": lambda tr: plotting.plot_channel_mix(channels.channel_mix(log, cust, "value_tier"), tr=tr),
        "multichannel": lambda tr: plotting.plot_multichannel_spend(channels.multichannel_spend(log, tx), tr=tr),
        "migration": lambda tr: plotting.plot_channel_migration(
            channels.channel_migration(log, "2024-03-31", AS_OF, 60), tr=tr),
        "rate": lambda tr: plotting.plot_complaint_rate(complaints.complaint_rates(log, tx, "2024-06-15"), tr=tr),
        "lapse": lambda tr: plotting.plot_complaint_lapse(
            complaints.complaint_lapse(log, tx, "2024-04-01", 60, AS_OF), tr=tr),
        "campaign": lambda tr: plotting.plot_campaign_effect(
            campaign.campaign_effect(log, tx, "winback", 60, AS_OF, 0.3, COSTS, cust), tr=tr),
        "campaign_no_control": lambda tr: plotting.plot_campaign_effect(no_control, tr=tr),
        "whale": lambda tr: plotting.plot_whale_curve(profitability.whale_curve(prof), tr=tr),
        "whale_loses": lambda tr: plotting.plot_whale_curve(loses, tr=tr),
        "grid": lambda tr: plotting.plot_tier_grid(tiers.tier_grid(cust, lt, pot), tr=tr),
        "sentiment": lambda tr: plotting.plot_sentiment_by_month(complaints.sentiment_by_month(log), tr=tr),
        "sentiment_groups": lambda tr: plotting.plot_sentiment_by_group(
            feedback.sentiment_by_group(log, cust, "rfm_segment"), "rfm_segment", tr=tr),
        "sentiment_repeat": lambda tr: plotting.plot_sentiment_repeat(
            feedback.sentiment_repeat(log, tx, "2024-04-01", 60, AS_OF), tr=tr),
        "sentiment_accuracy": lambda tr: plotting.plot_sentiment_accuracy(ACCURACY, tr=tr),
    }


def _texts(ax) -> list[str]:
    """Every piece of text a reader sees on the axes, numbers and dates left out."""
    out = [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    out += [t.get_text() for t in ax.texts]
    out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    legend = ax.get_legend()
    if legend is not None:
        out += [t.get_text() for t in legend.get_texts()] + [legend.get_title().get_text()]
    return [t for t in out if t]


def test_every_figure_in_chinese_without_missing_glyphs(world, cjk):
    drawn = figures(*world)
    assert {f.__name__ for f in [getattr(plotting, n) for n in plotting.__all__]} <= {
        "plot_" + n for n in ("contacts_per_month", "channel_mix", "multichannel_spend", "channel_migration",
                              "complaint_rate", "complaint_lapse", "campaign_effect", "whale_curve",
                              "tier_grid", "sentiment_by_month", "sentiment_accuracy", "sentiment_by_group",
                              "sentiment_repeat")}
    for name, draw in drawn.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ax = draw(ZH)
            ax.figure.canvas.draw()
        missing = [str(w.message) for w in caught if "Glyph" in str(w.message)]
        assert not missing, (name, missing[:3])
        for label in (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()):
            assert HAN.search(label), (name, label)
        for text in _texts(ax):
            assert not latin_words(text), (name, text)
        plt.close(ax.figure)


def test_figures_show_display_names_of_channels_tiers_and_groups(world, cjk):
    drawn = figures(*world)
    mix = _texts(drawn["mix_tier"](ZH))
    assert {"网站", "电话", "电子邮件"} <= set(mix) and {"高", "中", "低"} <= set(mix) and "渠道" in mix
    assert "冠军客户" in _texts(drawn["mix"](ZH))
    assert {"投诉过", "未投诉"} <= set(_texts(drawn["lapse"](ZH)))
    assert "效果无法估计：\n没有可比较的对照组" in _texts(drawn["campaign_no_control"](ZH))
    assert "高 / 低" in _texts(drawn["grid"](ZH))
    assert "货币单位" in drawn["whale_loses"](ZH).get_ylabel()


def test_english_figures_keep_their_words(world):
    drawn = figures(*world)
    ax = drawn["mix_tier"](EN)
    assert ax.get_title() == "Channel mix by value tier" and ax.get_ylabel() == "Share of contacts (%)"
    assert drawn["whale_loses"](EN).get_ylabel() == "Cumulative profit (currency units)"
    assert drawn["lapse"](EN).get_xlabel() == "Complained in the period before"
    plt.close("all")


def _effect(**kw):
    conv = diff_proportions(600, 2000, 400, 2000)
    spend = {"diff": 5.0, "low": 3.0, "high": 7.0, "mean1": 15.0, "mean2": 10.0}
    base = dict(name="winback", estimable=True, reason=None, window_days=60, n_treatment=2000, n_control=2000,
                conversion=conv, spend=spend, incremental_revenue={"value": 10_000.0, "low": 6_000.0, "high": 14_000.0},
                contact_cost=1_000.0, roi={"value": 2.0, "low": 0.8, "high": 3.2}, margin=0.3,
                by_segment=pd.DataFrame({"segment": ["Champions", "New"], "small": [False, True]}),
                segment_column="rfm_segment")
    base.update(kw)
    return CampaignEffect(**base)


def test_every_sentence_in_chinese():
    months = pd.date_range("2024-01-01", periods=3, freq="MS")
    monthly = pd.DataFrame({"month": months, "contacts": [10, 30, 20], "per_customer": [0.1, 0.3, 0.2]})
    overall = {"window_days": 90, "recent": 120, "previous": 100, "relative_change": 0.2, "mean_change": 0.2,
               "low": 0.1, "high": 0.3, "up": 30, "down": 10}
    groups = pd.DataFrame({"frequency_group": ["high", "low", "none", "none"]})
    shares = pd.DataFrame({"web": [0.7, 0.2], "phone": [0.3, 0.8]}, index=["high", "low"])
    ms = MultichannelSpend(table=pd.DataFrame({"group": ["multichannel", "single channel"], "share": [0.5, 0.5]}),
                           customers=pd.DataFrame(),
                           difference=diff_means(np.array([100.0, 120, 140]), np.array([50.0, 60, 70])))
    counts = pd.DataFrame([[5, 3, 1], [0, 4, 1], [2, 0, 0]], index=["web", "phone", "none"],
                          columns=["web", "phone", "none"])
    mig = ChannelMigration(counts=counts, shares=counts / counts.sum(axis=1).to_numpy()[:, None], stayed=0.75,
                           start=pd.Timestamp("2024-01-01"), end=pd.Timestamp("2024-06-30"), window_days=90)
    rates = pd.DataFrame({"month": months, "rate_per_1000": [10.0, 12.0, 14.0], "partial": [False, False, True]})
    d = diff_proportions(50, 100, 30, 100)
    lapse = ComplaintLapse(customers=pd.DataFrame(), table=pd.DataFrame(), difference=d,
                           split=pd.Timestamp("2024-04-01"), period_days=90)
    repeat = SentimentRepeat(customers=pd.DataFrame(), table=pd.DataFrame(), difference=d,
                             split=pd.Timestamp("2024-04-01"), period_days=90)
    whale = WhaleCurve(curve=pd.DataFrame(), total_profit=10.0, peak_profit=15.0, peak_share=1.5, peak_at=0.5,
                       customers=4)
    loses = WhaleCurve(curve=pd.DataFrame(), total_profit=-10.0, peak_profit=5.0, peak_share=np.nan, peak_at=0.3,
                       customers=4)
    destroyers = {"destroyers": 2, "share": 0.5, "profit_lost": -5.0, "destroyer_mean_revenue": 1.5,
                  "other_mean_revenue": 40.0, "destroyer_mean_contacts": 3.0, "other_mean_contacts": 1.0}
    by = pd.DataFrame({"group": ["high", "low"], "destroyer_share": [0.0, 1.0]})
    grid = pd.DataFrame({"value_tier": ["high", "high"], "loyalty_tier": ["low", "high"],
                         "potential": ["unknown", "unknown"], "customers": [3, 1], "share": [0.75, 0.25]})
    sentiment = pd.DataFrame({"month": months, "mean": [0.4, 0.5, 0.6], "texts": [10, 20, 30]})
    table = pd.DataFrame({"group": ["Lost", "Champions"], "mean": [0.3, 0.7], "texts": [10, 20],
                          "low": [0.2, 0.6], "high": [0.4, 0.8]})
    report = {"rows_in": 100, "rows_clean": 90, "customers": 40, "timestamp_min": "2024-01-01T00:00",
              "timestamp_max": "2024-06-30T00:00", "rows_quarantined": 10,
              "by_reason": {"missing_customer_id": 4, "duplicate": 6, "invalid_group": 0},
              "repairs": {"text_contacts_masked": 3}}
    features = pd.DataFrame({"contacts_90d": [0, 2, 1], "sentiment_mean": [np.nan, 0.5, 0.7],
                             "backtest_as_of": pd.Timestamp("2024-03-31"), "backtest_complaints_90d": [0, 1, 0]})
    sentences = [
        narrative.contacts_takeaway(monthly, tr=ZH),
        narrative.contacts_takeaway(monthly.iloc[:0], tr=ZH),
        narrative.trend_reading(overall, tr=ZH),
        narrative.frequency_takeaway(groups, 3, tr=ZH),
        narrative.activation_takeaway(groups, 10, tr=ZH),
        narrative.activation_takeaway(groups.iloc[:0], 10, tr=ZH),
        narrative.channel_mix_takeaway(ChannelMix(shares=shares, counts=shares * 10, by="value_tier"), tr=ZH),
        narrative.multichannel_takeaway(ms, "$", tr=ZH),
        narrative.migration_takeaway(mig, tr=ZH),
        narrative.complaint_rate_takeaway(rates, {"monthly_change": 0.05, "low": 0.01, "high": 0.09}, tr=ZH),
        narrative.complaint_rate_takeaway(rates, {"monthly_change": np.nan, "low": np.nan, "high": np.nan}, tr=ZH),
        narrative.lapse_takeaway(lapse, tr=ZH),
        narrative.campaign_takeaway(_effect(), "$", tr=ZH),
        narrative.roi_reading(_effect(), "$", tr=ZH),
        narrative.roi_reading(_effect(roi=None, contact_cost=None), tr=ZH),
        narrative.segment_uplift_note(_effect(), tr=ZH),
        narrative.placebo_reading(_effect(), tr=ZH),
        narrative.placebo_reading(_effect(conversion=diff_proportions(400, 2000, 400, 2000)), tr=ZH),
        narrative.whale_takeaway(whale, "$", tr=ZH),
        narrative.whale_takeaway(loses, "$", tr=ZH),
        narrative.destroyers_takeaway(destroyers, by, "$", tr=ZH, column="value_tier"),
        narrative.tier_grid_takeaway(grid, tr=ZH),
        narrative.sentiment_takeaway(sentiment, tr=ZH),
        narrative.reading_summary(report, "data/raw/interactions.csv", tr=ZH),
        narrative.accuracy_takeaway(ACCURACY, tr=ZH),
        narrative.sentiment_groups_takeaway(table, "rfm_segment", tr=ZH),
        narrative.repeat_takeaway(repeat, tr=ZH),
        narrative.no_campaign(tr=ZH),
        narrative.products_summary(features, 10, 90, tr=ZH),
        narrative.products_summary(features.drop(columns="backtest_as_of"), 10, 90, tr=ZH),
    ]
    for reason in ("no_control", "no_group", "window_open", "not_found", "no_treatment"):
        sentences.append(narrative.cannot_estimate(
            CampaignEffect(name="winback", estimable=False, reason=reason, window_days=60), tr=ZH))
    for s in sentences:
        chinese(s)
    by_text = " ".join(sentences)
    assert "2024 年 3 月" in by_text and "流失风险" not in by_text  # month in Chinese, no stray segment
    assert "冠军客户" in narrative.sentiment_groups_takeaway(table, "rfm_segment", tr=ZH)
    assert "新客户" in narrative.segment_uplift_note(_effect(), tr=ZH)
    assert "网站 → 电话（3 位客户）" in narrative.migration_takeaway(mig, tr=ZH)
    assert "“低”" in narrative.destroyers_takeaway(destroyers, by, "$", tr=ZH, column="value_tier")


def test_every_grid_cell_and_rule_in_chinese():
    for v in ["high", "medium", "low"]:
        for lo in LOYALTY_ORDER:
            for p in POTENTIAL_ORDER:
                chinese(narrative.cell_strategy(v, lo, p, tr=ZH))
    assert narrative.cell_strategy("low", "high", "high", tr=ZH).endswith("潜力高：先于消费进行投入。")
    assert narrative.rules(EN) == narrative.RULES
    for text in narrative.rules(ZH).values():
        chinese(text)


def test_views_and_shown_tables_in_chinese(world):
    log, tx, cust = world
    prof = profitability.customer_profit(tx, log, cust, COSTS, 0.3, AS_OF)
    lt = tiers.loyalty_tiers(tx, log, cust, AS_OF)
    shown = [
        views.interactions_contacts(log, cust, AS_OF, 60, tr=ZH),
        views.interactions_channel_mix(log, cust, tr=ZH),
        views.interactions_multichannel(log, tx, AS_OF, "$", tr=ZH),
        views.interactions_migration(log, "2024-03-31", AS_OF, 60, tr=ZH),
        views.interactions_complaint_rate(log, tx, AS_OF, tr=ZH),
        views.interactions_complaint_lapse(log, tx, "2024-04-01", 60, AS_OF, tr=ZH),
        views.interactions_campaign(log, tx, "winback", 60, AS_OF, 0.3, COSTS, cust, currency="$", tr=ZH),
        views.interactions_whale_curve(prof, currency="$", tr=ZH),
        views.interactions_tier_grid(cust, lt, tiers.potential_tiers(cust), tr=ZH),
        views.interactions_sentiment(log, tr=ZH),
        views.interactions_sentiment_groups(log, cust, "value_tier", tr=ZH),
        views.interactions_sentiment_repeat(log, tx, "2024-04-01", 60, AS_OF, tr=ZH),
        views.interactions_sentiment_accuracy(ACCURACY, tr=ZH),
    ]
    for d in shown:
        chinese(d.takeaway)
        assert HAN.search(d.plot().get_title()), d.name
        plt.close("all")
    chinese(shown[0]["activation"])
    grid = shown[8].table
    assert grid["value_tier"].isin(["high", "medium", "low"]).all()  # the table keeps the codes
    for s in grid["strategy"]:
        chinese(s)
    html = views.interactions_candidates_view(shown[0]["candidates"], tr=ZH).to_html()
    assert "客户 ID" in html and "价值层级" in html and "customer_id" not in html
    table = views.interactions_table(grid.head(3), tr=ZH)
    assert list(table.columns[:3]) == ["价值层级", "忠诚度层级", "潜力"]
    assert set(table["价值层级"]) <= {"高", "中", "低"}


def test_shown_tables_read_as_before_in_english():
    report = {"types": {"inquiry": 3, "complaint": 2, "praise": 1, "service": 0, "campaign": 4, "other": 0}}
    before = pd.DataFrame({"clean rows": report["types"]}).rename_axis("type").T
    pd.testing.assert_frame_equal(views.interactions_types_table(report), before)
    zh = views.interactions_types_table(report, tr=ZH)
    assert list(zh.index) == ["有效行数"] and list(zh.columns) == ["咨询", "投诉", "表扬", "服务", "营销", "其他"]
    confusion = pd.DataFrame([[5, 1], [2, 7]], index=pd.Index(["negative", "positive"], name="true"),
                             columns=pd.Index(["negative", "positive"], name="predicted"))
    assert views.interactions_table(confusion).to_html() == confusion.to_html()
    zc = views.interactions_table(confusion, tr=ZH)
    assert zc.index.name == "实际" and zc.columns.name == "预测" and list(zc.index) == ["负面", "正面"]
    examples = pd.DataFrame({"language": ["zh", "en"], "sentiment_label": ["negative", "neutral"],
                             "sentiment": [0.1, 0.9], "text": ["太差了", "great"]})
    assert views.interactions_table(examples).to_html() == examples.to_html()
    ze = views.interactions_table(examples, tr=ZH)
    assert list(ze.columns) == ["语言", "情感标签", "情感得分", "文本"] and list(ze["语言"]) == ["中文", "英文"]
    assert list(ze["情感标签"]) == ["负面", "中性"]
