"""Figures of the summary report: each renders on small data with a title and axis labels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import report, segmentation  # noqa: E402
from crmlab.plotting import count_heatmap  # noqa: E402
from crmlab.report import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _labelled(ax):
    return bool(ax.get_title()) and bool(ax.get_xlabel()) and bool(ax.get_ylabel())


@pytest.fixture
def profiles():
    return pd.DataFrame({"rfm_segment": ["Champions", "Loyal"], "customer_share": [0.25, 0.12],
                         "revenue_share": [0.68, 0.11]})


@pytest.fixture
def moves():
    before = pd.DataFrame({"customer_id": ["a", "b", "c"], "value_tier": ["high", "medium", "low"]})
    after = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                          "value_tier": ["high", "low", "low", "high"]})
    return segmentation.transition_matrix(before, after, "value_tier", order=segmentation.TIER_ORDER)


def test_every_plotting_function_is_tested():
    tested = {"plot_report_segments", "plot_report_tiers", "plot_report_migrations",
              "plot_report_trends", "plot_report_complaints"}
    assert set(plotting.__all__) == tested


def test_report_segments_label_both_bars_and_name_the_source(profiles):
    ax = plotting.plot_report_segments(profiles, labels={"Loyal": "Loyal (in fact: mostly lapsed)"},
                                       source="purchases: CDNOW")
    assert _labelled(ax)
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == ["11%", "12%", "25%", "68%"]  # every bar carries its value
    assert "Loyal (in fact: mostly lapsed)" in [t.get_text() for t in ax.get_yticklabels()]
    assert "(purchases: CDNOW)" in ax.get_title()


def test_report_tiers_outlines_only_the_watch_cells():
    life = pd.DataFrame({"high": [3, 1], "medium": [2, 4], "low": [5, 0]},
                        index=pd.Index(["active", "at risk"], name="lifecycle_stage"))
    ax = plotting.plot_report_tiers(life, ["high", "medium"], ["at risk"])
    assert _labelled(ax) and "watch list" in ax.get_title()
    assert len(ax.patches) == 2  # (at risk, high) and (at risk, medium)
    # every cell carries its count: 6 cells, one annotation each
    assert sorted(t.get_text() for t in ax.texts) == ["0", "1", "2", "3", "4", "5"]
    plain = plotting.plot_report_tiers(life)
    assert not plain.patches and "watch list" not in plain.get_title()


def test_transition_heatmap_puts_new_customers_last(moves):
    ax = plotting.plot_report_migrations(moves)
    assert _labelled(ax)
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == segmentation.NEW_CUSTOMER
    # the stayed diagonal is outlined: one dashed square per tier present in both runs
    assert len(ax.patches) == len(segmentation.TIER_ORDER)


def test_report_trends_one_panel_per_kpi_with_this_run_marked():
    hist = pd.DataFrame({"repeat_rate": [0.30, 0.35, 0.40], "watch_list": [10.0, 12.0, 9.0]})
    axes = plotting.plot_report_trends(hist, ["repeat_rate", "watch_list"], report.KPI_LABELS,
                                       report.kpi_units("$"), ["a", "b", "c"], ["repeat_rate"])
    assert all(_labelled(ax) for ax in axes[:2])
    assert axes[0].get_title() == "Repeat-purchase rate" and axes[1].get_ylabel() == "customers"
    assert axes[0].yaxis.get_major_formatter()(0.4, 0) == "40.0%"
    assert len(axes[0].lines) == 2  # the runs, and this run in red
    assert axes[0].figure.texts[0].get_text().startswith("KPI trend over successful runs")


def test_report_trends_hide_unused_panels():
    hist = pd.DataFrame({"watch_list": [1.0, 2.0]})
    axes = plotting.plot_report_trends(hist, ["watch_list"], report.KPI_LABELS,
                                       report.kpi_units(), ["a", "b"])
    assert len(axes) == 2 and axes[0].get_visible() and not axes[1].get_visible()


def test_displays_draw_and_name_their_files():
    customers = pd.DataFrame({
        "customer_id": ["c1", "c2", "c3"], "value_tier": ["high", "medium", "low"],
        "lifecycle_stage": ["at risk", "active", "lapsed"],
        "rfm_segment": ["Champions", "Loyal", "Lost"], "total_spend": [100.0, 30.0, 5.0],
        "purchase_days": [5, 2, 1], "spend_per_line": [20.0, 15.0, 5.0],
        "recency_days": [80, 10, 400], "frequency": [4, 1, 0], "days_since_last": [80, 10, 400],
    })
    before = report.customer_snapshot(customers.assign(value_tier=["medium", "medium", "low"]))
    migrations = report.migrations_display(before, report.customer_snapshot(customers))
    assert migrations.name == "report_tier_moves"
    assert migrations["summary"] == {"up": 1, "down": 0, "same": 2, "new": 0, "gone": 0}
    assert migrations.table.shape[0] == migrations["moves"].shape[0]
    assert _labelled(migrations.plot())
    segments = report.segments_display(customers, {"transactions": "CDNOW"})
    assert segments.name == "report_segments" and "action" in segments.table
    assert "(purchases: CDNOW)" in segments.plot().get_title()
    tiers = report.tiers_display(customers, {"high": 0.5, "medium": 0.8},
                                 {"watch_tiers": ["high"], "watch_stages": ["at risk"]})
    assert tiers.name == "report_tiers" and tiers.table is tiers["tiers"]
    assert _labelled(tiers.plot())
    hist = pd.DataFrame({"run_id": ["a", "b"], "watch_list": [1.0, 2.0]})
    trends = report.trends_display(hist, ["watch_list"], {"transactions": "CDNOW"}, "$")
    axes = trends.plot()
    assert trends.name == "report_trends" and trends.table is None
    assert axes[0].get_title() == "Watch list (CDNOW)"


def test_report_heatmap_annotates_counts_and_outlines_cells():
    table = pd.DataFrame({"a": [1, 20], "b": [300, 0]}, index=["x", "y"])
    _, ax = plt.subplots()
    image = count_heatmap(ax, table, highlight=[(0, 1)])
    assert [t.get_text() for t in ax.texts] == ["1", "300", "20", "0"]
    assert len(ax.patches) == 1 and image.get_clim() == (0, 300)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    # colour by row share: the scale is 0-1 whatever the counts
    shaded = count_heatmap(ax, table, colour=table.div(table.sum(axis=1), axis=0))
    assert shaded.get_clim() == (0, 1)


def test_drivers_display_draws_the_importance_performance_map():
    sat = {"drivers": {"A": {"importance": 0.7, "performance": 50.0},
                       "B": {"importance": 0.3, "performance": 90.0}}}
    shown = report.drivers_display(sat, "Satisfaction")
    assert shown.name == "report_drivers" and shown["drivers"]["construct"].tolist() == ["A", "B"]
    assert _labelled(shown.plot())


def test_report_complaints_draw_partial_months_apart():
    monthly = pd.DataFrame({"month": pd.to_datetime(["1998-04-01", "1998-05-01", "1998-06-01"]),
                            "rate_per_1000": [10.0, 12.5, 3.0], "partial": [False, False, True]})
    ax = plotting.plot_report_complaints(monthly)
    assert _labelled(ax)
    lines = ax.get_lines()
    assert [len(line.get_xdata()) for line in lines] == [2, 1]  # complete months joined, the partial one alone
    assert lines[1].get_linestyle() == "None"
