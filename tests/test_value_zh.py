"""The value stage in Chinese: figures, sentences and shown tables carry Chinese words, no boxes."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from test_value_plotting import _predictions, backtest_table, deciles, gains  # noqa: E402,F401 (shared fixtures and data)

from crmlab import value  # noqa: E402
from crmlab.display import figure_of  # noqa: E402
from crmlab.i18n import EN, catalog  # noqa: E402
from crmlab.value import narrative, plotting, views  # noqa: E402
from crmlab.value.forecast import ValueResult  # noqa: E402

from conftest import missing_glyphs  # noqa: E402 (tests/conftest.py)

ZH = catalog("zh")
HAN = re.compile(r"[\u4e00-\u9fff]")
# English words a Chinese sentence must not keep (model codes and English phrasing)
ENGLISH = re.compile(r"\b(the|of|and|with|customers|forecast|benchmark|naive|glm_tweedie|bgnbd_gg)\b")


def _chinese(text: str) -> bool:
    return bool(HAN.search(text))


def _no_english(text: str) -> bool:
    return not ENGLISH.search(re.sub(r"`[^`]*`", "", text))




def _drawn_without_missing_glyphs(fig):
    missing = missing_glyphs(fig)
    assert not missing, missing[:3]


def _axes_chinese(ax, xlabel=True):
    assert _chinese(ax.get_title()), ax.get_title()
    assert _chinese(ax.get_ylabel()), ax.get_ylabel()
    if xlabel:
        assert _chinese(ax.get_xlabel()), ax.get_xlabel()
    legend = ax.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            assert _no_english(text.get_text()), text.get_text()








# --- figures ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["glm_tweedie", ""], ids=["with-model", "no-model"])
def test_deciles_in_chinese(cjk, deciles, model):
    ax = plotting.plot_value_deciles(deciles, model, currency="$", tr=ZH)
    _axes_chinese(ax)
    assert ax.get_ylabel() == "每位客户的留出期平均消费（$）"
    assert "glm_tweedie" not in ax.get_title()
    _drawn_without_missing_glyphs(ax.figure)


def test_deciles_without_currency_in_chinese(cjk, deciles):
    ax = plotting.plot_value_deciles(deciles, tr=ZH)
    assert ax.get_ylabel() == "每位客户的留出期平均消费（货币单位）"


def test_gains_in_chinese(cjk, gains):
    ax = plotting.plot_value_gains(gains.drop(columns="naive"), reference="bgnbd_gg", tr=ZH)
    _axes_chinese(ax)
    labels = [line.get_label() for line in ax.get_lines()]
    assert "Tweedie GLM" in labels and "BG/NBD × Gamma-Gamma（参照）" in labels
    _drawn_without_missing_glyphs(ax.figure)


def test_tracking_in_chinese(cjk):
    tracking = pd.DataFrame({"week": [1, 2], "week_end": pd.to_datetime(["1997-10-07", "1997-10-14"]),
                             "actual": [10.0, 25.0], "bgnbd_gg": [12.0, 22.0], "glm_tweedie": [11.0, 24.0]})
    ax = plotting.plot_value_tracking(tracking, currency="$", tr=ZH)
    _axes_chinese(ax)
    assert [line.get_label() for line in ax.get_lines()] == ["实际值", "BG/NBD × Gamma-Gamma", "Tweedie GLM"]
    _drawn_without_missing_glyphs(ax.figure)


def test_residuals_in_chinese(cjk):
    ax = plotting.plot_value_residuals(np.array([0.0, 0.0, 10.0, 30.0]), np.array([1.0, 2.0, 8.0, 1000.0]),
                                       "glm_tweedie", currency="$", bins=2, tr=ZH)
    _axes_chinese(ax)
    assert "2 个等规模分组" in ax.get_xlabel()
    _drawn_without_missing_glyphs(ax.figure)


def test_backtest_in_chinese(cjk, backtest_table):
    axes = plotting.plot_value_backtest(backtest_table, currency="$", tr=ZH)
    for ax in axes:
        assert _chinese(ax.get_title()) and _chinese(ax.get_ylabel())
    for ax in axes[2:]:
        assert _chinese(ax.get_xlabel())
    assert _chinese(axes[0].figure._suptitle.get_text())
    for text in axes[0].get_legend().get_texts():
        assert _no_english(text.get_text()), text.get_text()
    _drawn_without_missing_glyphs(axes[0].figure)


def test_tiers_in_chinese(cjk):
    tab = value.tier_crosstab(["low", "low", "high", "medium"], ["medium", "low", "high", "high"])
    ax = plotting.plot_value_tiers(tab, tr=ZH)
    _axes_chinese(ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["高", "中", "低"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["高", "中", "低"]
    assert _chinese(ax.figure.axes[-1].get_ylabel())  # the colour bar
    _drawn_without_missing_glyphs(ax.figure)


def test_glm_coefficients_in_chinese(cjk):
    coef = pd.DataFrame({"feature": ["const", "log1p_frequency", "my_input"],
                         "label": ["intercept", "repeat purchase days (log)", "my input"],
                         "coef": [0.1, 0.5, -0.2], "ci_low": [0.0, 0.4, -0.3], "ci_high": [0.2, 0.6, -0.1]})
    ax = plotting.plot_glm_coefficients(coef, tr=ZH)
    _axes_chinese(ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["my input", "重复购买天数（对数）"]  # unknown passes
    _drawn_without_missing_glyphs(ax.figure)


# --- displays pass the catalog on ------------------------------------------------------------




@pytest.mark.parametrize("benchmark", [True, False], ids=["benchmark", "benchmark-failed"])
def test_displays_in_chinese(cjk, backtest_table, benchmark):
    y, pred = _predictions(benchmark=benchmark)
    info = pd.DataFrame({"origin": pd.to_datetime(["1997-09-30", "1997-11-30"]), "chosen": "glm_tweedie",
                         "glm_weight": 1.0, "benchmark_error": [None, "无法收敛"]})
    tiers = pd.DataFrame({"customer_id": list("abcd"), "clv": [1.0, 2.0, 3.0, 4.0],
                          "value_tier_past": ["low", "low", "high", "medium"],
                          "value_tier_predicted": ["medium", "low", "high", "high"]})
    tx = pd.DataFrame({"customer_id": ["c00", "c01"], "date": pd.to_datetime(["1997-10-02", "1997-10-10"]),
                       "amount": [5.0, 9.0]})
    _, two = _predictions(2, benchmark=False)
    res = ValueResult(predictions=two, features=pd.DataFrame({"customer_id": ["c00", "c01"]}),
                      chosen="glm_tweedie", validation=pd.DataFrame(),
                      validation_window=(pd.Timestamp("1997-07-01"), pd.Timestamp("1997-09-30")),
                      benchmark=None, horizon_days=14.0)
    shown = [
        views.deciles_display(y, y, "glm_tweedie", "$", tr=ZH),
        views.gains_display(y, pred, "glm_tweedie", tr=ZH),
        views.residuals_display(y, y + 1, "glm_tweedie", "$", tr=ZH),
        views.backtest_display(backtest_table, info, "$", tr=ZH),
        views.tiers_display(tiers, "1998-06-30", tr=ZH),
        views.tracking_display(tx, res, "1997-09-30", "1997-10-14", "$", tr=ZH),
    ]
    for display in shown:
        assert _chinese(display.takeaway) and _no_english(display.takeaway), display.takeaway
        fig = figure_of(display.plot())
        assert all(_chinese(ax.get_title()) for ax in fig.axes if ax.get_title())
        _drawn_without_missing_glyphs(fig)
    # the tables the run saves keep their canonical names
    assert shown[4].table.columns.tolist() == ["past_tier", "high", "medium", "low"]
    assert "glm_tweedie" in shown[1].table


# --- sentences ----------------------------------------------------------------------------------


def _scores():
    return pd.DataFrame({"mae": [5.0, 4.0, 3.0], "rmse": [9.0, 8.0, 7.5], "spearman": [0.1, 0.4, 0.38],
                         "top_decile_share": [0.2, 0.5, 0.55], "aggregate_error": [0.5, 0.02, 0.02]},
                        index=pd.Index(["naive", "bgnbd_gg", "glm_tweedie"], name="model"))


def test_holdout_and_validation_sentences_in_chinese():
    scores = _scores()
    wins = value.better_metrics(scores, "glm_tweedie", "bgnbd_gg")
    texts = [
        narrative.holdout_takeaway(scores, "glm_tweedie", wins, "$", tr=ZH),
        narrative.holdout_takeaway(scores, "glm_tweedie", [], "$", tr=ZH),
        narrative.holdout_takeaway(scores, "glm_tweedie", None, "", tr=ZH),
        narrative.validation_takeaway(0.01, 0.05, "spearman", "1997-09-30", tr=ZH),
        narrative.validation_takeaway(0.09, 0.05, "rmse", "1997-09-30", tr=ZH),
        narrative.validation_takeaway(0.01, float("nan"), "rmse", "1997-09-30", tr=ZH),
        narrative.takeaway("甲", tr=ZH),
        narrative.no_backtest(tr=ZH),
        narrative.tiers_takeaway(2, 1, "1998-06-30", tr=ZH),
        narrative.products_written(100, "1997-09-30", "1998-06-30", "glm_tweedie", tr=ZH),
    ]
    for text in texts:
        assert _chinese(text) and _no_english(text), text
    assert "它更好的指标：RMSE、前十分位占比、MAE。" in texts[0]
    assert "它更好的指标：无。" in texts[1]
    assert texts[6] == "**要点：** 甲"


def test_readings_in_chinese():
    tx = pd.DataFrame({"customer_id": ["a", "b", "a", "c"],
                       "date": pd.to_datetime(["1997-01-01", "1997-02-01", "1997-10-01", "1998-07-01"]),
                       "amount": [1.0, 2.0, 3.0, 4.0]})
    summary = value.clv_summary([10.0, 30.0, 60.0])
    params = {"horizon_months": 12, "margin": 0.3, "annual_discount_rate": 0.1}
    texts = [
        narrative.split_reading(value.split_summary(tx, "1997-09-30", "1998-06-30"), tr=ZH),
        narrative.clv_reading(summary, "1998-06-30", params, "glm_tweedie", 0.5, "未能拟合", "$", tr=ZH),
        narrative.clv_reading(summary, "1998-06-30", params, "glm_tweedie", 0.5, None, "$", tr=ZH),
    ]
    for text in texts:
        assert _chinese(text) and _no_english(text), text
    assert "**$100**" in texts[1] and "Tweedie GLM" in texts[1]


def test_benchmark_and_glm_readings_in_chinese():
    class Bench:  # the parameters a fitted benchmark reports
        gamma_gamma = type("GG", (), {"n_customers_": 321})()
        spend_frequency_corr = 0.05
        gg_excluded = 2

        @staticmethod
        def params():
            return {"r": 0.24, "alpha": 30.0, "a": 0.8, "b": 2.4, "p": 6.2, "q": 3.7, "gamma": 15.0}

    ok = type("R", (), {"benchmark": Bench(), "benchmark_error": None})()
    failed = type("R", (), {"benchmark": None, "benchmark_error": "迭代未收敛"})()
    fit = type("R", (), {"panel_rows": 500, "origins": [pd.Timestamp("1997-08-31"), pd.Timestamp("1997-06-30")]})()
    coef = pd.DataFrame({"feature": ["const", "log1p_frequency", "log1p_age"],
                         "label": ["intercept", "repeat purchase days (log)", "days since first purchase (log)"],
                         "z": [1.0, 5.0, -3.0]})
    texts = [
        narrative.benchmark_reading(ok, "1997-09-30", "$", tr=ZH),
        narrative.benchmark_reading(failed, "1997-09-30", tr=ZH),
        narrative.glm_fit_reading(fit, {"explained_deviance": 0.12, "scale": 30.5}, 1.5, tr=ZH),
        narrative.glm_takeaway(coef, pd.Series({"log1p_age": 0.25, "log1p_frequency": 0.0}), "1997-09-30", tr=ZH),
        narrative.glm_takeaway(coef, pd.Series({"log1p_age": 0.0}), "1997-09-30", tr=ZH),
    ]
    for text in texts:
        assert _chinese(text) and _no_english(text), text
    assert "1997-08-31、1997-06-30" in texts[2]
    assert "*距首次消费的天数（对数）*（25.0% 的客户）" in texts[3] and texts[4].endswith("：无。")
    # the English reading is the one the stage always wrote
    assert narrative.benchmark_reading(ok, "1997-09-30", "$").startswith(
        "At 1997-09-30: while alive, the average customer buys about **2.9 times a year** ($r/\\alpha$")


def test_tuning_and_backtest_sentences_in_chinese(backtest_table):
    result = type("R", (), {
        "weight_tuning": pd.DataFrame({"weight": [0.0, 0.5, 1.0], "rmse": [9.0, 8.0, 8.5]}),
        "validation_windows": [(pd.Timestamp("1997-04-01"), pd.Timestamp("1997-06-30"))], "glm_weight": 0.5})()
    text = narrative.tuning_reading(result, "rmse", tr=ZH)
    assert _chinese(text) and "1997-04-01 至 1997-06-30" in text
    info = pd.DataFrame({"origin": pd.to_datetime(["1997-09-30", "1997-11-30"]), "chosen": "glm_tweedie",
                         "glm_weight": 1.0, "benchmark_error": [None, "无法收敛"]})
    summary = value.backtest_summary(backtest_table)
    wins, compared = value.backtest_rank_wins(summary)
    text = narrative.backtest_takeaway(summary, info, wins, compared, tr=ZH)
    assert _chinese(text) and _no_english(text) and text.endswith("基准模型在 1997-11-30 拟合失败：无法收敛。")


# --- tables as the notebook shows them ----------------------------------------------------------


def test_shown_tables_in_chinese():
    shown = views.shown_table(_scores(), ZH)
    assert shown.index.tolist() == ["朴素模型", "BG/NBD × Gamma-Gamma", "Tweedie GLM"]
    assert shown.index.name == "模型" and "前十分位占比" in shown.columns
    wide = pd.DataFrame({"window to 1997-06-30": [0.1], "mean": [0.1]}, index=pd.Index(["gbm"], name="model"))
    assert views.shown_table(wide, ZH).columns.tolist() == ["截至 1997-06-30 的验证窗口", "均值"]
    params = value.benchmark_params_table(None, "$", tr=ZH)
    assert params.empty


def test_shown_tables_unchanged_in_english():
    scores = _scores()
    pd.testing.assert_frame_equal(views.shown_table(scores, EN), scores)
    wide = pd.DataFrame({"window to 1997-06-30": [0.1], "mean": [0.1]}, index=pd.Index(["gbm"], name="model"))
    pd.testing.assert_frame_equal(views.shown_table(wide), wide)
    tuning = pd.DataFrame({"weight": [0.0, 1.0], "rmse": [1.0, 2.0]}).set_index("weight")
    pd.testing.assert_frame_equal(views.shown_table(tuning), tuning)


def test_model_metric_and_feature_names():
    assert narrative.model_name("glm_tweedie") == "glm_tweedie"
    assert narrative.model_name("glm_tweedie", ZH) == "Tweedie GLM"
    assert narrative.model_name("my_model", ZH) == "my_model"
    assert narrative.metric_name("spearman", ZH) == "Spearman 相关系数"
    assert narrative.feature_label("recent_spend_share") == "share of spend in the last 90 days"
    assert narrative.feature_label("recent_spend_share", ZH) == "最近 90 天的消费占比"


def test_backtest_summary_and_coefficients_shown_in_chinese(backtest_table):
    summary = value.backtest_summary(backtest_table)
    shown = views.shown_table(summary, ZH)
    assert all(_chinese(c) for c in shown.columns), list(shown.columns)
    assert shown.iloc[:, 1].tolist() == ["Tweedie GLM"] * 2  # the chosen model by name
    pd.testing.assert_frame_equal(views.shown_table(summary), summary)  # English: as it was
    coef = pd.DataFrame({"feature": ["const", "log1p_age"], "label": ["intercept", "days since first purchase (log)"],
                         "coef": [0.1, 0.2], "std_err": [0.01, 0.02], "z": [10.0, 10.0], "p_value": [0.0, 0.0]})
    table = views._shown_coefficients(coef, ZH)
    assert table.index.tolist() == ["截距", "距首次消费的天数（对数）"] and table.index.name == "输入变量"
    assert table.columns.tolist() == ["系数", "标准误", "z", "p 值"]
    english = views._shown_coefficients(coef, EN)
    assert english.index.tolist() == ["intercept", "days since first purchase (log)"]
    assert english.index.name == "label" and english.columns.tolist() == ["coef", "std_err", "z", "p_value"]


def test_shown_table_keeps_a_named_column_axis():
    wide = pd.DataFrame([[1.0, 2.0]], columns=pd.Index(["rmse", "mae"], name="metric"),
                        index=pd.Index(["gbm"], name="model"))
    pd.testing.assert_frame_equal(views.shown_table(wide), wide)
    assert views.shown_table(wide, ZH).columns.name == "metric"
