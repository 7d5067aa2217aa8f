"""Value figures, displays and sentences: every figure renders with a title and labelled
axes, every display carries the file names the stage always used, sentences by hand."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import value  # noqa: E402
from crmlab.display import Display  # noqa: E402
from crmlab.value import narrative, plotting, views  # noqa: E402
from crmlab.value.forecast import ValueResult  # noqa: E402
from crmlab.value.models import _glm_matrix  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _labelled(ax):
    return bool(ax.get_title()) and bool(ax.get_xlabel()) and bool(ax.get_ylabel())


@pytest.fixture
def deciles():
    return pd.DataFrame({"decile": np.arange(1, 11), "customers": 10,
                         "mean_predicted": np.linspace(100, 1, 10), "mean_actual": np.linspace(120, 0, 10),
                         "share_of_actual": np.full(10, 0.1)})


@pytest.fixture
def gains():
    share = np.linspace(0, 1, 11)
    return pd.DataFrame({"customer_share": share, "glm_tweedie": np.sqrt(share), "bgnbd_gg": share ** 0.6,
                         "naive": share, "perfect": np.minimum(1.0, 3 * share)})


@pytest.fixture
def backtest_table():
    rows = []
    for origin in pd.to_datetime(["1997-09-30", "1997-11-30"]):
        for m in value.MODELS:
            rows.append({"origin": origin, "model": m, "mae": 10.0, "rmse": 20.0 if m == "glm_tweedie" else 21.0,
                         "spearman": 0.4 if m == "glm_tweedie" else 0.3, "top_decile_share": 0.5,
                         "aggregate_error": 0.02, "chosen": m == "glm_tweedie", "customers": 100,
                         "holdout_days": 200})
    return pd.DataFrame(rows)


# --- plotting: every function renders with a title and labelled axes ------------------------


def test_deciles_labels_and_money_axis(deciles):
    ax = plotting.plot_value_deciles(deciles, "glm_tweedie", currency="$")
    assert _labelled(ax)
    assert "glm_tweedie" in ax.get_title() and ax.get_ylabel() == "mean holdout spend per customer ($)"
    assert ax.yaxis.get_major_formatter()(1500, 0) == "$1,500"


def test_deciles_without_currency_say_currency_units(deciles):
    ax = plotting.plot_value_deciles(deciles)
    assert ax.get_ylabel() == "mean holdout spend per customer (currency units)"


def test_gains_draws_difference_from_the_reference(gains):
    ax = plotting.plot_value_gains(gains.drop(columns="naive"), reference="bgnbd_gg")
    assert _labelled(ax)
    lines = {line.get_label(): line for line in ax.get_lines()}
    # one curve per model beside the reference, drawn as its gain in points over it
    glm = lines["glm_tweedie"].get_ydata()
    np.testing.assert_allclose(glm, (np.sqrt(gains["customer_share"]) - gains["customer_share"] ** 0.6) * 100)
    assert "bgnbd_gg (reference)" in lines and "perfect" not in lines


def test_tracking_labels_and_one_line_per_model():
    tracking = pd.DataFrame({"week": [1, 2], "week_end": pd.to_datetime(["1997-10-07", "1997-10-14"]),
                             "actual": [10.0, 25.0], "bgnbd_gg": [12.0, 22.0], "glm_tweedie": [11.0, 24.0]})
    ax = plotting.plot_value_tracking(tracking, currency="$")
    assert _labelled(ax)
    assert [line.get_label() for line in ax.get_lines()] == ["actual", "bgnbd_gg", "glm_tweedie"]


def test_residuals_bar_per_group_and_money_ticks():
    y = np.array([0.0, 0.0, 10.0, 30.0])
    p = np.array([1.0, 2.0, 8.0, 1000.0])
    ax = plotting.plot_value_residuals(y, p, "glm_tweedie", currency="$", bins=2)
    assert _labelled(ax)
    heights = [b.get_height() for b in ax.patches]
    assert heights == pytest.approx([-1.5, (2.0 - 970.0) / 2])  # mean actual - forecast per group
    assert [t.get_text() for t in ax.get_xticklabels()] == ["$1-$2", "$8-$1,000"]


def test_backtest_four_panels(backtest_table):
    axes = plotting.plot_value_backtest(backtest_table, currency="$")
    assert len(axes) == 4
    assert all(ax.get_title() and ax.get_ylabel() for ax in axes)
    assert all(ax.get_xlabel() for ax in axes[2:])
    assert axes[0].figure._suptitle.get_text()
    assert axes[0].get_ylabel() == "RMSE ($ per customer)"


def test_tiers_heatmap_outlines_the_undervalued():
    tab = value.tier_crosstab(["low", "low", "high", "medium"], ["medium", "low", "high", "high"])
    ax = plotting.plot_value_tiers(tab)
    assert _labelled(ax)
    # cells below the diagonal (forecast tier better than past tier) are outlined: 3 of 9
    outlined = [p for p in ax.patches if isinstance(p, plt.Rectangle)]
    assert len(outlined) == 3
    assert [t.get_text() for t in ax.texts] == ["1", "0", "0", "1", "0", "0", "0", "1", "1"]


def test_glm_coefficients_drop_the_intercept():
    coef = pd.DataFrame({"feature": ["const", "x1", "x2"], "label": ["intercept", "one", "two"],
                         "coef": [0.1, 0.5, -0.2], "ci_low": [0.0, 0.4, -0.3], "ci_high": [0.2, 0.6, -0.1]})
    ax = plotting.plot_glm_coefficients(coef)
    assert _labelled(ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["two", "one"]


# --- views: one Display per figure, under the stage's file names -----------------------------


def test_deciles_display(deciles):
    y = np.arange(20, dtype=float)
    d = views.deciles_display(y, y, "glm_tweedie", "$")
    assert isinstance(d, Display) and d.name == "value_deciles" and d.table is None
    assert d.takeaway.startswith("the 10% of customers with the highest glm_tweedie forecasts spent on average $18")
    assert _labelled(d.plot())


def _predictions(n=20, benchmark=True):
    y = np.arange(n, dtype=float)
    pred = pd.DataFrame({"customer_id": [f"c{i:02d}" for i in range(n)]})
    for m in value.MODELS:
        pred[f"pred_{m}"] = y[::-1] if m == "naive" else y
    if not benchmark:
        pred["pred_bgnbd_gg"] = np.nan
    pred["predicted_holdout_value"] = pred["pred_glm_tweedie"]
    return y, pred


@pytest.mark.parametrize("benchmark, reference", [(True, "bgnbd_gg"), (False, "naive")],
                         ids=["benchmark", "benchmark-failed"])
def test_gains_display_saves_every_model_draws_without_naive(benchmark, reference):
    y, pred = _predictions(benchmark=benchmark)
    d = views.gains_display(y, pred, "glm_tweedie")
    assert d.name == "value_gains" and "naive" in d.table and ("bgnbd_gg" in d.table) == benchmark
    assert f"% with {reference} and" in d.takeaway
    labels = [line.get_label() for line in d.plot().get_lines()]
    assert f"{reference} (reference)" in labels
    assert ("naive" in labels) is False


def test_residuals_display():
    y = np.array([0.0, 0.0, 10.0, 30.0])
    d = views.residuals_display(y, np.array([1.0, 2.0, 8.0, 25.0]), "glm_tweedie", "$")
    assert d.name == "value_residuals" and d.table is None
    assert d.takeaway.startswith("50% of customers spent nothing")
    assert "The mean residual is $+1.00 per customer" in d.takeaway


def test_backtest_display(backtest_table):
    info = pd.DataFrame({"origin": pd.to_datetime(["1997-09-30", "1997-11-30"]), "chosen": "glm_tweedie",
                         "glm_weight": 1.0, "benchmark_error": [None, "no convergence"]})
    d = views.backtest_display(backtest_table, info, "$")
    assert d.name == "value_backtest" and d.table is backtest_table
    assert d["summary"]["rmse_ratio"].tolist() == pytest.approx([20 / 21] * 2)
    assert d.takeaway.startswith("at 2 of 2 cut-offs (1997-09-30, 1997-11-30)")
    assert d.takeaway.endswith("The benchmark failed at 1997-11-30: no convergence.")
    assert len(d.plot()) == 4


def test_tiers_display_keeps_the_migration_table_name():
    tiers = pd.DataFrame({"customer_id": list("abcd"), "clv": [1.0, 2.0, 3.0, 4.0],
                          "value_tier_past": ["low", "low", "high", "medium"],
                          "value_tier_predicted": ["medium", "low", "high", "high"]})
    d = views.tiers_display(tiers, "1998-06-30")
    assert d.name == "value_tiers" and d.table_name == "value_tier_migration"
    assert d.table.columns.tolist() == ["past_tier", "high", "medium", "low"]
    assert d.takeaway == ("at 1998-06-30, **2 customers** move up a tier when judged by forecast CLV "
                          "(undervalued by history) and 0 move down (their spending is behind them).")


def test_tracking_display_spreads_evenly_without_a_benchmark():
    _, pred = _predictions(2, benchmark=False)
    pred["pred_glm_tweedie"] = [14.0, 0.0]
    tx = pd.DataFrame({"customer_id": ["c00", "c01"], "date": pd.to_datetime(["1997-10-02", "1997-10-10"]),
                       "amount": [5.0, 9.0]})
    feats = pd.DataFrame({"customer_id": ["c00", "c01"]})
    res = ValueResult(predictions=pred, features=feats, chosen="glm_tweedie", validation=pd.DataFrame(),
                      validation_window=(pd.Timestamp("1997-07-01"), pd.Timestamp("1997-09-30")),
                      benchmark=None, horizon_days=14.0)
    d = views.tracking_display(tx, res, "1997-09-30", "1997-10-14", "$")
    assert d.name == "value_tracking"
    assert d.table["actual"].tolist() == [5.0, 14.0]
    assert d.table["glm_tweedie"].tolist() == [7.0, 14.0]  # half the forecast in each of two weeks
    assert "bgnbd_gg" not in d.table
    assert d.takeaway == "by 1997-10-14 the customers had spent **$14**; the glm_tweedie forecast was $14 (+0.0%)."


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.PerfectSeparationWarning")
def test_glm_coefficients_display():
    rng = np.random.default_rng(0)
    n = 500
    panel = pd.DataFrame({
        "frequency": rng.integers(0, 30, n).astype(float), "mean_day_spend": rng.uniform(5, 200, n),
        "days_since_last": rng.uniform(0, 300, n), "spend_last_90d": rng.uniform(0, 500, n),
        "T": rng.uniform(1, 400, n), "horizon_days": 30.0, "anchor": rng.uniform(0.5, 50, n),
    })
    panel["total_spend"] = panel["spend_last_90d"] + rng.uniform(0, 1000, n)
    beta = np.array([-0.3, 0.2, 0.3, 0.2, -0.1, 0.05, -0.2])
    panel["target_spend"] = panel["anchor"] * np.exp(_glm_matrix(panel).to_numpy() @ beta)
    glm = value.TweedieGLM(1.5).fit(panel)
    res = ValueResult(predictions=pd.DataFrame(), features=panel.assign(T=1e6), chosen="glm_tweedie",
                      validation=pd.DataFrame(), validation_window=(pd.Timestamp("1997-07-01"),) * 2,
                      benchmark=None, models={"glm_tweedie": glm}, panel_rows=n,
                      origins=[pd.Timestamp("1997-08-31")])
    d = views.glm_coefficients_display(res, "1997-09-30")
    assert d.name == "value_glm_coefficients" and d.table["feature"].iloc[0] == "const"
    assert d["diagnostics"].shape == (1, 6)
    assert d["reading"].startswith("Training rows: **500** (customers x origins 1997-08-31).")
    # every customer is older than any training row: the age input is clipped for all of them
    assert "*days since first purchase (log)* (100.0% of customers)" in d.takeaway
    assert d["shown"].index[0] == "intercept"
    assert _labelled(d.plot())


# --- narrative: sentences by hand -----------------------------------------------------------


def test_holdout_takeaway_lists_the_wins():
    scores = pd.DataFrame({"mae": [5.0, 4.0, 3.0], "rmse": [9.0, 8.0, 7.5], "spearman": [0.1, 0.4, 0.38],
                           "top_decile_share": [0.2, 0.5, 0.55], "aggregate_error": [0.5, 0.02, 0.02]},
                          index=pd.Index(["naive", "bgnbd_gg", "glm_tweedie"], name="model"))
    wins = value.better_metrics(scores, "glm_tweedie", "bgnbd_gg")
    assert wins == ["rmse", "top_decile_share", "mae"]
    text = narrative.holdout_takeaway(scores, "glm_tweedie", wins, "$")
    assert "RMSE $7.5 vs $8.0" in text
    assert "it is better on: RMSE, top-decile share, MAE." in text
    assert text.endswith("The naive rate misses the total by +50%.")
    failed = narrative.holdout_takeaway(scores, "glm_tweedie", None, "")
    assert failed.startswith("the benchmark failed") and "RMSE 7.5," in failed


@pytest.mark.parametrize("gap, swing, end", [
    (0.01, 0.05, "on this evidence the models are equally good."),
    (0.09, 0.05, "the ranking is more than luck on these windows."),
    (0.01, float("nan"), "treat small differences as noise."),
], ids=["noise", "real-gap", "one-window"])
def test_validation_takeaway(gap, swing, end):
    assert narrative.validation_takeaway(gap, swing, "spearman", "1997-09-30").endswith(end)


def test_selection_rule_is_the_product_sentence():
    assert narrative.selection_rule("rmse", False, 2) == (
        "glm_tweedie (interpretable by design); the weight of its correction of the benchmark "
        "lowest mean validation rmse over 2 windows")


def test_split_and_clv_readings():
    tx = pd.DataFrame({"customer_id": ["a", "b", "a", "c"],
                       "date": pd.to_datetime(["1997-01-01", "1997-02-01", "1997-10-01", "1998-07-01"]),
                       "amount": [1.0, 2.0, 3.0, 4.0]})
    text = narrative.split_reading(value.split_summary(tx, "1997-09-30", "1998-06-30"))
    assert text == ("The models see **2 calibration rows** of **2 customers**, from 1997-01-01 to 1997-09-30. "
                    "The **1 holdout rows** (273 days, to 1998-06-30) are used only to score.")
    summary = value.clv_summary([10.0, 30.0, 60.0])
    text = narrative.clv_reading(summary, "1998-06-30", {"horizon_months": 12, "margin": 0.3,
                                                          "annual_discount_rate": 0.1},
                                 "glm_tweedie", 0.5, "no fit", "$")
    assert "the 3 customers are worth **$100** (mean $33.33, median $30.00)" in text
    assert "top 10% of customers hold **60%**" in text and text.endswith("replaced by an even spread.")


def test_takeaway_label():
    assert narrative.takeaway("x") == "**Takeaway:** x"
    assert narrative.no_backtest() == "No backtest: `value.backtest_origins` is 0."
