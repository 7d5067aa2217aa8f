"""Churn figures: every plotting function renders on small data with a title and labelled axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import churn  # noqa: E402
from crmlab.churn import plotting  # noqa: E402
from crmlab.config import params_from_dict  # noqa: E402
from crmlab.display import Display  # noqa: E402

from conftest import ROOT  # noqa: E402

AS_OF = pd.Timestamp("1997-02-01")
ACTUAL = [1, 0, 1, 0, 0, 0, 1, 0, 0, 0]
PROB = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _labelled(ax):
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


@pytest.fixture(scope="module")
def price_table():
    """Tenure lowers churn, price raises it; total charges = tenure x price (a suppression effect)."""
    rng = np.random.default_rng(11)
    n = 1500
    tenure = rng.uniform(1, 72, n)
    price = rng.uniform(20, 110, n)
    logit = 0.5 - 0.07 * tenure + 0.03 * (price - 65)
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    raw = pd.DataFrame({"tenure": tenure.round(1), "total_charges": (tenure * price).round(2),
                        "churned": np.where(churned, "Yes", "No")})
    section = params_from_dict({"churn": {"path": str(ROOT / "tests" / "data" / "churn_tiny.csv"),
                                          "target": "churned"}}).churn
    return churn.prepare_churn_table(raw, section)


@pytest.fixture
def warning(warning_inputs):
    base = warning_inputs
    section = params_from_dict({"churn_warning": {"capacity": 0.4}}).churn_warning
    return churn.transactional_warning(base, section)


@pytest.fixture
def backtest():
    # bought in (1 Feb, 1 Apr]: A and C; flagged A, B, E -> 2 of 3 flagged lapsed, base rate 3/5
    tx = pd.DataFrame({
        "customer_id": ["A", "A", "B", "C", "D", "E"],
        "date": pd.to_datetime(["1997-01-03", "1997-02-10", "1997-01-05", "1997-04-01",
                                "1997-05-01", "1997-02-01"]),
        "amount": 1.0,
    })
    flags = pd.DataFrame({"customer_id": list("ABCDE"), "as_of": AS_OF,
                          "warning": [True, True, False, False, True]})
    return churn.warning_backtest(flags, tx, "1997-04-01")


def test_roc_curves_one_line_per_model_plus_the_diagonal():
    points = churn.curve_points(ACTUAL, {"logistic": PROB, "gradient_boosting": PROB[::-1]})
    ax = plotting.plot_roc_curves(points)
    _labelled(ax)
    assert len(ax.lines) == 3
    assert ax.get_legend().get_texts()[0].get_text().startswith("logistic (AUC ")


def test_pr_curves_show_the_no_skill_rate():
    points = churn.curve_points(ACTUAL, {"logistic": PROB})
    ax = plotting.plot_pr_curves(points, base_rate=0.3)
    _labelled(ax)
    assert "30.0%" in ax.get_legend().get_texts()[-1].get_text()


def test_calibration_curve_draws_one_line_per_table_and_the_diagonal():
    tables = {"logistic": churn.reliability_table(ACTUAL, PROB, bins=5),
              "final": churn.reliability_table(ACTUAL, np.array(PROB) / 2, bins=5)}
    ax = plotting.plot_calibration_curve(tables)
    _labelled(ax)
    assert len(ax.lines) == 3 and len(ax.lines[0].get_xdata()) == 5


def test_cumulative_gains_and_capacity_line():
    gains = churn.churn_gains(ACTUAL, PROB, bins=5)
    ax = plotting.plot_cumulative_gains(gains, capacity=0.2)
    _labelled(ax)
    model = ax.lines[0]
    # riskiest 20% (two customers) hold one of the three churners: 33%
    assert model.get_ydata()[1] == pytest.approx(100 / 3)
    assert any("capacity 20%" in t.get_text() for t in ax.get_legend().get_texts())


def test_lift_by_decile_one_bar_per_decile():
    gains = churn.churn_gains(ACTUAL, PROB, bins=5)
    ax = plotting.plot_lift_by_decile(gains)
    _labelled(ax)
    # decile 1: 1 churner of 2 = 50% against 30% -> lift 1.67
    assert [round(p.get_height(), 2) for p in ax.patches] == [round(v, 2) for v in gains["lift"]]
    assert ax.patches[0].get_height() == pytest.approx(0.5 / 0.3)


def test_odds_ratio_figure_speaks_in_words(price_table):
    logit = churn.make_logit_pipeline(price_table, max_vif=20.0).fit(price_table.features, price_table.target)
    odds = churn.odds_ratio_table(logit, price_table, rows=np.ones(len(price_table.target), dtype=bool))
    ax = plotting.plot_odds_ratios(odds)
    _labelled(ax)
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert not any("_" in t for t in ticks)  # no raw column codes
    assert any(t.startswith("Total charges") and "suppression" in t for t in ticks)


def test_odds_ratios_by_hand():
    odds = pd.DataFrame({"term": ["a", "b"], "label": ["A", "B"], "unit": ["yes vs no", "yes vs no"],
                         "odds_ratio": [2.0, 0.5], "ci_low": [1.5, 0.3], "ci_high": [3.0, 1.2]})
    ax = plotting.plot_odds_ratios(odds)
    _labelled(ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["B  [yes vs no]", "A  [yes vs no]"]


def test_probability_by_class_counts_both_classes():
    ax = plotting.plot_probability_by_class(PROB, ACTUAL, thresholds={"high": 0.8},
                                            labels=("stayed", "left"))
    _labelled(ax)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["stayed (7)", "left (3)"]


def test_gap_ratio_figure_stacks_bars_without_overlap(warning):
    ax = plotting.plot_gap_ratios(warning, 2.0)
    _labelled(ax)
    assert "log scale" in ax.get_xlabel() and "count" in ax.get_ylabel()
    assert "2 one-time buyers" in ax.get_xlabel()
    bars = [(round(p.get_x(), 9), p.get_y(), p.get_height()) for p in ax.patches if p.get_height() > 0]
    # a stacked bar starts where the one below it ends: no two bars cover the same spot
    by_x = {}
    for x, y0, h in bars:
        by_x.setdefault(x, []).append((y0, y0 + h))
    for spans in by_x.values():
        spans.sort()
        assert all(a[1] <= b[0] + 1e-9 for a, b in zip(spans, spans[1:], strict=False))
    assert sum(h for _, _, h in bars) == 3  # the repeat buyers A, B, D


def test_warning_backtest_figure(backtest):
    ax = plotting.plot_warning_backtest(backtest)
    _labelled(ax)
    assert [round(p.get_height(), 6) for p in ax.patches] == [round(200 / 3, 6), 60.0]
    assert "lift 1.11x" in ax.get_title() and "%" in ax.get_ylabel()


def test_a_figure_draws_into_a_given_axes():
    fig, axes = plt.subplots(1, 2)
    gains = churn.churn_gains(ACTUAL, PROB, bins=5)
    assert plotting.plot_lift_by_decile(gains, ax=axes[1]) is axes[1]
    assert not axes[0].patches


# --- displays ---------------------------------------------------------------------------------------


def test_lift_display_names_the_figure_and_words_the_takeaway():
    gains = churn.churn_gains(ACTUAL, PROB, bins=5)
    shown = churn.lift_display(gains)
    assert isinstance(shown, Display) and shown.name == "churn_lift" and shown.table is None
    assert shown.takeaway == "The riskiest decile churns 1.7× as often as the average customer; the safest 0.00×."
    _labelled(shown.plot())


def test_backtest_and_gap_displays(backtest, warning):
    shown = churn.backtest_display(backtest)
    assert shown.name == "churn_warning_backtest" and "lift **1.11**" in shown.takeaway
    section = params_from_dict({"churn_warning": {"capacity": 0.4}}).churn_warning
    gaps = churn.gap_ratios_display(warning, section, "observation_end", 59)
    assert gaps.name == "churn_gap_ratios" and gaps["metrics"]["warned"] == 2
    assert gaps.takeaway.startswith("As of **1997-02-01** (observation_end), horizon 59 days")
    _labelled(gaps.plot())
