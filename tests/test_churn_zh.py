"""The churn stage in Chinese: every figure, takeaway and reason speaks the run's language.

English stays what it was (the other churn tests assert the English sentences); here every
plotting function is drawn with the Chinese catalog -- Chinese title and axis labels, no
English word in them, no missing glyph -- and every sentence of the stage is Chinese.
"""

from __future__ import annotations

import re
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from test_churn_plotting import backtest, price_table  # noqa: E402,F401 (shared fixtures and data)
from test_i18n import _latin_words  # noqa: E402

from crmlab import churn  # noqa: E402
from crmlab.churn import narrative, plotting  # noqa: E402
from crmlab.config import params_from_dict  # noqa: E402
from crmlab.i18n import EN, catalog  # noqa: E402

from conftest import ROOT  # noqa: E402

ZH = catalog("zh")
CJK = re.compile(r"[\u4e00-\u9fff]")
AS_OF = pd.Timestamp("1997-02-01")
ACTUAL = [1, 0, 1, 0, 0, 0, 1, 0, 0, 0]
PROB = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]


pytestmark = pytest.mark.usefixtures("cjk")  # tests/conftest.py


def _chinese(text: str) -> None:
    """Chinese text with no English word left (names and acronyms of ALLOWED_LATIN aside)."""
    assert CJK.search(text), text
    assert not _latin_words(text), (_latin_words(text), text)


def _drawn_in_chinese(ax, legend: bool = True, ticks: bool = False) -> None:
    """Title and axis labels (and legend) Chinese; the figure draws with no missing glyph."""
    for text in (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()):
        _chinese(text)
    if legend:
        for t in ax.get_legend().get_texts():
            _chinese(t.get_text())
    if ticks:
        for t in ax.get_xticklabels():
            _chinese(t.get_text())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax.figure.canvas.draw()
    missing = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    assert not missing, missing[:3]


# --- data ---------------------------------------------------------------------------------------




@pytest.fixture(scope="module")
def price_odds(price_table):
    logit = churn.make_logit_pipeline(price_table, max_vif=20.0).fit(price_table.features, price_table.target)
    rows = np.ones(len(price_table.target), dtype=bool)
    return logit, churn.odds_ratio_table(logit, price_table, rows=rows, tr=ZH)


@pytest.fixture
def base(warning_inputs):
    """The five customers of tests/conftest.py's warning_inputs."""
    return warning_inputs


@pytest.fixture
def section():
    return params_from_dict({"churn_warning": {"capacity": 0.4, "gap_factor": 2.0,
                                               "p_alive_threshold": 0.3}}).churn_warning


@pytest.fixture
def signals():
    return _with_window(pd.DataFrame({
        "customer_id": ["A", "B", "C", "D", "E"],
        "rising_complaints": [True, False, True, False, False],
        "falling_sentiment": [False, True, False, False, False],
        "complaints_recent": [2.0, 0.0, 1.0, 0.0, 0.0],
        "complaints_previous": [0.0, 0.0, 0.0, 0.0, 0.0],
        "sentiment_recent": [0.6, 0.2, np.nan, 0.7, np.nan],
        "sentiment_previous": [0.6, 0.8, np.nan, 0.7, np.nan],
        "texts_recent": [2.0, 3.0, 0.0, 2.0, 0.0],
        "texts_previous": [2.0, 4.0, 0.0, 2.0, 0.0],
    }))


def _with_window(df):
    df.attrs = {"window_days": 90, "rules": {"min_complaints": 1, "sentiment_drop": 0.2, "min_texts": 2,
                                              "text_counts": True}}
    return df




@pytest.fixture
def comparison(backtest):
    better = {**backtest, "precision": 0.9, "recall": 0.8, "lift": 1.5}
    return {"purchases_only": backtest, "with_interactions": better,
            "swaps": {"moved_in": 2, "moved_in_lapsed": 2, "moved_out": 1, "moved_out_lapsed": 0}}


# --- figures ------------------------------------------------------------------------------------


def test_roc_pr_and_calibration_figures_in_chinese():
    points = churn.curve_points(ACTUAL, {"logistic": PROB, "gradient_boosting": PROB[::-1]})
    ax = plotting.plot_roc_curves(points, tr=ZH)
    _drawn_in_chinese(ax)
    assert ax.get_legend().get_texts()[0].get_text().startswith("逻辑回归（AUC ")
    _drawn_in_chinese(plotting.plot_pr_curves(points, base_rate=0.3, tr=ZH))
    tables = {"logistic": churn.reliability_table(ACTUAL, PROB, bins=5),
              "final": churn.reliability_table(ACTUAL, np.array(PROB) / 2, bins=5)}
    _drawn_in_chinese(plotting.plot_calibration_curve(tables, tr=ZH))


def test_gains_and_lift_figures_in_chinese():
    gains = churn.churn_gains(ACTUAL, PROB, bins=5)
    ax = plotting.plot_cumulative_gains(gains, capacity=0.2, tr=ZH)
    _drawn_in_chinese(ax)
    assert any("20%" in t.get_text() for t in ax.get_legend().get_texts())
    _drawn_in_chinese(plotting.plot_lift_by_decile(gains, tr=ZH))


def test_odds_ratio_figure_in_chinese(price_odds):
    _, odds = price_odds
    ax = plotting.plot_odds_ratios(odds, tr=ZH)
    _drawn_in_chinese(ax)
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    # Telco's column names have Chinese names in the catalog
    assert any(t.startswith("累计收费（美元）") and "抑制效应" in t for t in ticks), ticks
    assert all("每增加一个标准差" in t for t in ticks), ticks
    for tick in ticks:
        _chinese(tick)


def test_odds_ratio_units_and_labels_in_chinese():
    table = churn.ChurnTable(
        features=pd.DataFrame({"calls": [5.0, 1.0, 7.0, 3.0, 2.0, 6.0, 4.0, 8.0] * 5,
                               "plan": ["basic", "pro", "basic", "pro", "max", "pro", "basic", "max"] * 5}),
        target=pd.Series([0, 0, 1, 0, 1, 0, 1, 1] * 5),
        key=pd.Series([str(i) for i in range(40)], name="id"),
        types=pd.DataFrame(),
        numeric=["calls"], categorical=["plan"],
    )
    logit = churn.make_logit_pipeline(table, max_vif=None).fit(table.features, table.target)
    odds = churn.odds_ratio_table(logit, table, tr=ZH).set_index("term")
    # columns and levels the catalog does not know (a user's own table) are shown as they are
    assert odds.loc["plan=max", "label"] == "Plan：max" and odds.loc["plan=max", "unit"] == "对比“basic”"
    assert odds.loc["calls", "unit"].startswith("每增加一个标准差（")
    english = churn.odds_ratio_table(logit, table).set_index("term")
    assert english.loc["plan=max", "label"] == "Plan: max" and english.loc["plan=max", "unit"] == "vs 'basic'"


def test_probability_figure_in_chinese():
    ax = plotting.plot_probability_by_class(PROB, ACTUAL, thresholds={"high": 0.8, "medium": 0.5}, tr=ZH)
    _drawn_in_chinese(ax)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["留存（7）", "已流失（3）"]
    assert any(t.get_text().strip() == "高 ≥ 0.80" for t in ax.texts)


def test_gap_ratio_figure_in_chinese(base, section):
    warning = churn.transactional_warning(base, section, tr=ZH)
    ax = plotting.plot_gap_ratios(warning, 2.0, tr=ZH)
    _drawn_in_chinese(ax)
    assert "2 位一次性购买客户" in ax.get_xlabel()


def test_backtest_figures_in_chinese(backtest, comparison):
    ax = plotting.plot_warning_backtest(backtest, tr=ZH)
    _drawn_in_chinese(ax, legend=False, ticks=True)
    assert "提升度 1.11 倍" in ax.get_title()
    _drawn_in_chinese(plotting.plot_backtest_comparison(comparison, tr=ZH), ticks=True)


# --- sentences ----------------------------------------------------------------------------------


def test_every_churn_sentence_in_chinese(price_table, price_odds, backtest, comparison):
    logit, odds = price_odds
    metrics = {m: {"roc_auc": 0.8, "pr_auc": 0.6, "brier": 0.15} for m in ("logistic", "gradient_boosting")}
    curves = {m: churn.reliability_table(ACTUAL, PROB, bins=5) for m in ("logistic", "gradient_boosting", "final")}
    cv = pd.DataFrame({"model": ["logistic", "gradient_boosting"], "mean": [0.80, 0.81], "se": [0.02, 0.02]})
    gains = churn.churn_gains(ACTUAL, PROB, bins=5)
    cap = churn.capacity_summary(ACTUAL, PROB, 0.2)
    scores = pd.DataFrame({"risk_band": ["high", "medium", "low", "churned"]})
    thresholds = {"high": 0.7, "medium": 0.4, "rule": "capacity"}
    risks = pd.DataFrame({"reason_1": ["Tenure = 2 (+0.80)"], "churn_probability": [0.7]})
    wm = {"as_of": "1997-02-01", "customers": 100, "candidates": 30, "warned": 10, "capacity": 0.1,
          "one_time_buyers": 40, "one_time_buyers_p_alive_one": 40, "one_time_gap_days": 60.0,
          "interaction_signals": {"window_days": 90, "rising_complaints": 5, "falling_sentiment": 3,
                                  "candidates_by_signal_only": 2, "warned_with_signal": 4,
                                  "ranking": churn.PURCHASES,
                                  "rules": {"min_complaints": 1, "sentiment_drop": 0.2, "min_texts": 2,
                                            "text_counts": True}}}
    decision = churn.ranking_decision({k: {**v, "flagged_lapsed": round(v["precision"] * v["flagged"])}
                                       for k, v in comparison.items() if k != "swaps"})
    texts = [
        narrative.run_scope("data/telco.csv", True, tr=ZH),
        narrative.run_scope(None, False, tr=ZH),
        narrative.intake_summary(price_table, "data/telco.csv", "churned", tr=ZH),
        narrative.blank_rows_note(pd.DataFrame({"a": [1]}), tr=ZH),
        narrative.imbalance_summary(pd.Series(ACTUAL), 0.25, 42, tr=ZH),
        narrative.model_choice(cv, "logistic", tr=ZH),
        narrative.model_choice(cv, "gradient_boosting", tr=ZH),
        narrative.odds_takeaway(odds, {"x": "exact linear combination of earlier columns",
                                       "y": "variance inflation factor 31"}, tr=ZH),
        narrative.roc_takeaway(metrics, "logistic", tr=ZH),
        narrative.pr_takeaway(metrics, 0.27, tr=ZH),
        narrative.calibration_takeaway("原因", metrics, curves, tr=ZH),
        narrative.capacity_takeaway(cap, tr=ZH),
        narrative.lift_takeaway(gains, tr=ZH),
        narrative.bands_takeaway(scores, thresholds, churn.CHURNED, tr=ZH),
        narrative.risk_list_summary(risks, 90, tr=ZH),
        narrative.warning_takeaway(wm, narrative.as_of_source(AS_OF, True, tr=ZH), 90, tr=ZH),
        narrative.as_of_source(AS_OF, False, tr=ZH),
        narrative.backtest_takeaway(backtest, tr=ZH),
        narrative.call_list_summary(pd.DataFrame({"priority_value": [10.0, 20.0]}), "1997-02-01", "$", tr=ZH),
        narrative.rising_complaints_reason(2, 0, 90, tr=ZH),
        narrative.falling_sentiment_reason(0.2, 0.8, 3, 4, 90, tr=ZH),
        narrative.signals_takeaway(wm, tr=ZH),
        narrative.signals_note({}, tr=ZH),
        narrative.signals_backtest_takeaway(comparison, tr=ZH),
        narrative.signals_backtest_takeaway({**comparison, "swaps": {"moved_in": 0}}, tr=ZH),
        narrative.ranking_note(decision, tr=ZH),
        narrative.ranking_note({"why": "no backtest"}, tr=ZH),
        narrative.ranking_note({"why": "nobody flagged"}, tr=ZH),
        ZH("churn.warning_skipped"), ZH("churn.no_backtest"), ZH("churn.no_signal_backtest"),
    ]
    for text in texts:
        _chinese(text.replace("Total charges", "").replace("Tenure", ""))  # feature names are data
    assert "方差膨胀因子 31" in texts[7]
    assert "**抑制效应**" in texts[7]


@pytest.mark.parametrize("from_params", [True, False])
def test_as_of_source_says_what_the_segmentation_says(from_params):
    from crmlab.segmentation.narrative import observation_source

    assert narrative.as_of_source(AS_OF, from_params) == observation_source(AS_OF, from_params)
    _chinese(narrative.as_of_source(AS_OF, from_params, tr=ZH))


@pytest.mark.parametrize("method, tolerance", [("auto", 0.3), ("auto", 0.1), ("isotonic", 0.9), ("none", 0.0)],
                         ids=["auto-fine", "auto-off", "forced", "off"])
def test_calibration_reason_in_both_languages(method, tolerance):
    decision = churn.calibration_decision([0, 0, 1, 0, 1, 1], [0.1, 0.1, 0.2, 0.8, 0.9, 0.9], method, tolerance,
                                          bins=2)
    assert narrative.calibration_reason(decision) == decision["reason"]  # English: the product's words
    _chinese(narrative.calibration_reason(decision, tr=ZH))
    older = {k: decision[k] for k in ("ece", "brier", "method", "reason")}  # made before the keys existed
    assert narrative.calibration_reason(older, tr=ZH) == decision["reason"]


def test_displays_pass_the_language_on(backtest, base, section, comparison):
    gains = churn.churn_gains(ACTUAL, PROB, bins=5)
    for shown in (churn.lift_display(gains, tr=ZH), churn.backtest_display(backtest, tr=ZH),
                  churn.gap_ratios_display(churn.transactional_warning(base, section, tr=ZH), section,
                                           narrative.as_of_source(AS_OF, False, tr=ZH), 59, tr=ZH),
                  churn.backtest_comparison_display(comparison, tr=ZH)):
        _chinese(shown.takeaway)
        ax = shown.plot()
        _chinese(ax.get_title())
    table = churn.backtest_comparison_display(comparison, tr=ZH).table
    assert list(table.columns) == ["指标", "仅用购买行为", "加入互动信号", "变化"]
    assert table["指标"].tolist() == ["精确率", "召回率", "提升度", "预警人数", "预警占比"]
    english = churn.comparison_table(comparison)
    assert list(english.columns) == ["purchases only", "with interaction signals", "change"]


# --- per-customer reasons (products carry them in the run's language) ----------------------------


def test_warning_reasons_follow_the_language(base, section, signals):
    english = churn.transactional_warning(base, section, signals)
    chinese = churn.transactional_warning(base, section, signals, tr=ZH)
    # everything but the reason sentences is the same in both languages
    pd.testing.assert_frame_equal(english.drop(columns="reason"), chinese.drop(columns="reason"))
    assert english.equals(churn.transactional_warning(base, section, signals, tr=EN))
    said = chinese.loc[chinese["reason"] != "", "reason"]
    assert len(said) >= 3
    for reason in said:
        _chinese(reason)
    by_id = chinese.set_index("customer_id")["reason"]
    assert "距上次购买已 25 天，是其通常购买间隔 10 天的 2.5 倍" in by_id["A"]
    assert "投诉增加：最近 90 天内 2 次，之前 90 天内 0 次" in by_id["A"]
    assert "情感得分下降" in by_id["B"] and "活跃概率 0.10 < 0.30" in by_id["B"]
    assert by_id["C"].startswith("一次性购买客户：距唯一一次购买已 100 天")
    assert "P(alive)" in english.set_index("customer_id").loc["B", "reason"]


def test_risk_list_reasons_follow_the_language():
    table = churn.ChurnTable(
        features=pd.DataFrame({"calls": [5.0, 1.0, 7.0, np.nan], "plan": ["basic", "pro", "basic", "pro"],
                               "senior": [1, 0, 1, 0]}),
        target=pd.Series([0, 0, 1, 0]),
        key=pd.Series(["a", "b", "c", "d"], name="id"),
        types=pd.DataFrame(),
        numeric=["calls"], categorical=["plan"], binary=["senior"],
    )
    scores = pd.DataFrame({"id": ["a", "b", "c", "d"], "actual": [0, 0, 1, 0],
                           "churn_probability": [0.6, 0.2, 0.9, 0.4], "risk_band": ["high", "low", "high", "medium"]})
    contrib = pd.DataFrame({"calls": [0.8, -0.5, 1.2, 0.1], "plan": [0.3, -0.2, 0.3, -0.2],
                            "senior": [0.2, 0.0, 0.1, 0.0]})
    risks = churn.risk_list(scores, contrib, table, capacity=0.5, top_reasons=3, suppressed=["plan"], tr=ZH)
    assert risks["reason_1"].tolist() == ["Calls = 5（+0.80）", "Calls 缺失（+0.10）"]
    assert risks["reason_2"].tolist() == ["Plan = basic（+0.30） ［抑制效应，不是原因］", ""]
    assert risks["reason_3"].tolist() == ["Senior = 是（+0.20）", ""]
    # the summary still finds the first reason's feature
    assert "最常见的首要原因：`Calls`（1 位）" in narrative.risk_list_summary(risks, 3, tr=ZH)


def test_call_list_headings_follow_the_language(base, section):
    warning = churn.transactional_warning(base, section, tr=ZH)
    calls = churn.warning_call_list(warning)
    shown = churn.call_list_view(calls, "$", tr=ZH).to_html()
    assert "客户ID" in shown and "预警原因" in shown and "$80.00" in shown and "95%" in shown
    english = churn.call_list_view(calls, "$").data
    assert list(english.columns) == ["rank", "customer_id", "days_since_last", "gap_ratio", "lapse_probability",
                                     "priority_value", "reason"]


def test_typing_and_model_choice_tables_follow_the_language():
    n = 30
    raw = pd.DataFrame({
        "same": ["x"] * n,                                             # constant
        "flag": [0, 1, None] * 10,                                     # 0/1 flag, blanks
        "serial": list(range(1000, 1000 + n)),                         # identifier
        "charges": ["5", "", "abc", "-2", "7", "8"] * 5,               # invalid, blank filled, negative
        "calls": ["1", "", "3"] * 10,                                  # blanks imputed (mean)
        "partner": ["Yes", "No", ""] * 10,                             # yes/no, blanks
        "plan": ["basic", "pro", ""] * 10,                             # category, blank level
        "code": [f"c{i}" for i in range(n)],                           # identifier-like
    })
    _, types = churn.infer_feature_types(raw, {"charges": 0}, 20)
    types = pd.concat([types, pd.DataFrame([{"column": "leak", "kind": "excluded", "action":
                       "left out: copies the target (every level has one outcome) - a leak"}])], ignore_index=True)
    english = churn.views.typing_view(types)
    pd.testing.assert_frame_equal(english, types)  # English: the table itself
    chinese = churn.views.typing_view(types, tr=ZH)
    assert list(chinese.columns[:2]) == ["列", "类型"] and chinese["列"].tolist() == types["column"].tolist()
    for kind, action in zip(chinese["类型"], chinese["处理方式"], strict=True):
        _chinese(kind)
        _chinese(action)
    assert any("空白保留为单独的水平“（缺失）”" in a for a in chinese["处理方式"])  # the lab's blank level
    cv = pd.DataFrame({"model": ["logistic", "gradient_boosting"], "mean": [0.80, 0.81], "se": [0.02, 0.02]})
    pd.testing.assert_frame_equal(churn.views.model_choice_view(cv), cv)
    shown = churn.views.model_choice_view(cv, tr=ZH)
    assert list(shown.columns) == ["模型", "均值", "标准误"] and shown["模型"].tolist() == ["逻辑回归", "梯度提升"]


def test_watch_list_view_follows_the_language():
    risks = pd.DataFrame({"rank": [1, 2], "id": ["a", "b"], "churn_probability": [0.7, 0.5],
                          "risk_band": ["high", "medium"], "reason_1": ["Calls = 5 (+0.80)", ""]})
    pd.testing.assert_frame_equal(churn.views.watch_list_view(risks), risks)
    shown = churn.views.watch_list_view(risks, tr=ZH)
    assert list(shown.columns) == ["排名", "id", "流失概率", "风险等级", "原因1"]
    assert shown["风险等级"].tolist() == ["高", "中"]


# --- Telco's feature names and levels (worded by the lab, so in the run's language) ---------------


TELCO = ROOT / "data" / "raw" / "telco" / "telco_churn.csv"


def _telco_levels(raw: pd.DataFrame) -> set[str]:
    return {str(v) for c in raw.columns if not pd.api.types.is_numeric_dtype(raw[c]) for v in raw[c].dropna()}


def test_telco_names_in_the_catalog_are_todays_english():
    raw = pd.read_csv(TELCO)
    for column in raw.columns:
        # English: exactly what business_name said before the catalog held the names
        assert churn.feature_name(column) == churn.business_name(column)
        _chinese(churn.feature_name(column, ZH))
        assert EN(f"churn.term.{column}") == column  # English names a dropped column by itself
        assert ZH(f"churn.term.{column}") == churn.feature_name(column, ZH)
    for level in _telco_levels(raw) | {churn.MISSING_LEVEL}:
        assert churn.level_name(level) == level
        assert ZH.has(f"churn.level.{level}"), level
    assert churn.level_name("Month-to-month", ZH) == "按月" and churn.level_name("No", ZH) == "否"
    # anything else (a user's own churn table) falls back to today's behaviour
    assert churn.feature_name("calls_last_month", ZH) == "Calls last month"
    assert churn.level_name("Gold plan", ZH) == "Gold plan" and churn.level_name(3, ZH) == 3


@pytest.fixture(scope="module")
def telco():
    section = params_from_dict({"churn": {"path": str(TELCO), "target": "churn",
                                          "fill_blanks": {"total_charges": 0}}}).churn
    raw = pd.read_csv(TELCO).iloc[:2000]
    table = churn.prepare_churn_table(raw, section)
    logit = churn.make_logit_pipeline(table, max_vif=10.0).fit(table.features, table.target)
    return table, logit


def test_telco_odds_ratio_figure_names_features_and_levels_in_chinese(telco):
    table, logit = telco
    odds = churn.odds_ratio_table(logit, table, tr=ZH)
    ax = plotting.plot_odds_ratios(odds, tr=ZH)
    _drawn_in_chinese(ax)
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    for tick in ticks:
        _chinese(tick)  # no English feature name or level left
    assert "合同期限：两年  ［对比“按月”］" in ticks, ticks
    assert "电子账单  ［1（是）对比 0（否）］" in ticks, ticks
    assert any(t.startswith("在网时长（月）  ［每增加一个标准差（") for t in ticks), ticks
    # the table keeps the raw names beside the words
    by_term = odds.set_index("term")
    assert by_term.loc["contract=Two year", "feature"] == "contract"
    # English is what it always was
    english = churn.odds_ratio_table(logit, table).set_index("term")
    assert english.loc["contract=Two year", "label"] == "Contract: Two year"
    assert english.loc["contract=Two year", "unit"] == "vs 'Month-to-month'"
    assert english.loc["paperless_billing", "label"] == "Paperless billing"
    assert english.loc["tenure", "label"] == "Tenure"


def test_telco_reasons_and_summary_in_chinese(telco):
    table, logit = telco
    n = len(table.features)
    scores = pd.DataFrame({"row": table.key.to_numpy(), "actual": 0,
                           "churn_probability": np.linspace(0.9, 0.1, n), "risk_band": "high"})
    scores = scores.rename(columns={"row": table.key.name})
    contrib = churn.logit_contributions(logit, table, table.features)
    risks = churn.risk_list(scores, contrib, table, capacity=0.05, top_reasons=3, tr=ZH)
    said = [r for c in ("reason_1", "reason_2", "reason_3") for r in risks[c] if r]
    assert said
    for reason in said:
        _chinese(reason)
    assert any(r.startswith("合同期限 = 按月（+") for r in said), said[:10]
    _chinese(narrative.risk_list_summary(risks, n, tr=ZH))
    english = churn.risk_list(scores, contrib, table, capacity=0.05, top_reasons=3)
    assert any(r.startswith("Contract = Month-to-month (+") for r in english["reason_1"])


def test_probability_legend_names_the_telco_outcomes_in_chinese(telco):
    table, _ = telco
    scores = pd.DataFrame({"churn_probability": PROB, "actual": ACTUAL,
                           "risk_band": np.where(np.array(ACTUAL) == 1, churn.CHURNED, "low")})
    shown = churn.probability_display(scores, {"high": 0.8, "medium": 0.5, "rule": "capacity"}, table, tr=ZH)
    ax = shown.plot()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("现有客户，目标值 否") and legend[1].startswith("已流失，目标值 是"), legend
    english = churn.probability_display(scores, {"high": 0.8, "medium": 0.5, "rule": "capacity"}, table).plot()
    assert [t.get_text() for t in english.get_legend().get_texts()][0].startswith("No (current customers)")


def test_dropped_telco_columns_named_in_chinese():
    dropped = {"multiple_lines=No phone service": "exact linear combination of earlier columns",
               "online_security=No internet service": "exact linear combination of earlier columns",
               "monthly_charges": "variance inflation factor 876",
               "my_col": "variance inflation factor 12"}
    odds = pd.DataFrame({"term": ["tenure"], "label": ["在网时长（月）"], "odds_ratio": [0.3],
                         "ci_low": [0.2], "ci_high": [0.4]})
    text = narrative.odds_takeaway(odds, dropped, tr=ZH)
    assert "2 列与前面的列完全重复（多条电话线路：无电话业务、网络安全服务：无互联网服务）" in text, text
    assert "月费（美元）（方差膨胀因子 876）" in text and "`my_col`（方差膨胀因子 12）" in text, text
    _chinese(text)  # the unknown column is code, which the check skips
    english = narrative.odds_takeaway(odds.assign(label="Tenure"), dropped)
    assert english.startswith("Dropped before fitting: 2 column(s) that exactly repeat earlier ones "
                              "(`multiple_lines=No phone service`, `online_security=No internet service`); "
                              "`monthly_charges` (variance inflation factor 876); "
                              "`my_col` (variance inflation factor 12)."), english
