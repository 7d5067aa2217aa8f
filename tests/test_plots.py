"""Figures of cleaning, segmentation and the report: one measure per axis, aligned diagonals,
labelled bars, money with currency and thousands separators."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import plots, segmentation  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_monthly_activity_two_panels_no_twin_axis():
    monthly = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2024-02-01"]),
                            "purchases": [1200, 800], "revenue": [250000.0, 90000.0]})
    axes = plots.plot_monthly_activity(monthly, currency="$")
    fig = axes[0].figure
    assert len(fig.axes) == 2  # two panels, no twinx
    assert axes[0].get_ylabel() == "revenue ($)" and axes[1].get_ylabel() == "purchases (rows)"
    assert axes[0].yaxis.get_major_formatter()(250000, 0) == "$250,000"
    assert axes[1].yaxis.get_major_formatter()(1200, 0) == "1,200"


def test_k_search_two_panels_with_kr_bands():
    search = pd.DataFrame({"k": [3, 4, 5], "silhouette": [0.409, 0.411, 0.37],
                           "calinski_harabasz": [19000.0, 17800.0, 16400.0]})
    axes = plots.plot_k_search(search, 4)
    assert len(axes[0].figure.axes) == 2
    band_labels = {t.get_text() for t in axes[0].texts}
    assert {"weak\nstructure", "reasonable\nstructure", "strong\nstructure"} <= band_labels
    assert "Chosen k = 4" in axes[0].figure.texts[0].get_text()


def test_transition_heatmap_diagonal_is_stayed():
    before = pd.DataFrame({"customer_id": ["a", "b", "c"], "value_tier": ["high", "medium", "low"]})
    after = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                          "value_tier": ["high", "low", "low", "high"]})
    counts = segmentation.transition_matrix(before, after, "value_tier", order=segmentation.TIER_ORDER)
    shares = segmentation.transition_matrix(before, after, "value_tier",
                                            order=segmentation.TIER_ORDER, normalize=True)
    ax = plots.plot_transitions(shares, counts)
    rows = [t.get_text().rsplit(" (", 1)[0] for t in ax.get_yticklabels()]  # "high (1)"
    cols = [t.get_text() for t in ax.get_xticklabels()]
    assert rows == ["high", "medium", "low", segmentation.NEW_CUSTOMER]
    assert rows[:3] == cols
    report_ax = plots.plot_report_migrations(counts)
    assert [t.get_text() for t in report_ax.get_yticklabels()][-1] == segmentation.NEW_CUSTOMER


def test_report_segments_label_both_bars_and_name_the_source():
    profiles = pd.DataFrame({"rfm_segment": ["Champions", "Loyal"], "customer_share": [0.25, 0.12],
                             "revenue_share": [0.68, 0.11]})
    ax = plots.plot_report_segments(profiles, labels={"Loyal": "Loyal (in fact: mostly lapsed)"},
                                    source="purchases: CDNOW")
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == ["11%", "12%", "25%", "68%"]  # every bar carries its value
    assert "Loyal (in fact: mostly lapsed)" in [t.get_text() for t in ax.get_yticklabels()]
    assert "(purchases: CDNOW)" in ax.get_title()


def test_cluster_profiles_money_and_purchase_days():
    prof = pd.DataFrame({"cluster": [0], "cluster_name": ["recent"], "customer_share": [1.0],
                         "z_days_since_last": [0.0], "z_purchase_days": [0.0],
                         "z_spend_per_line": [0.0], "mean_days_since_last": [31.0],
                         "mean_purchase_days": [9.8], "mean_spend_per_line": [1234.5]})
    ax = plots.plot_cluster_profiles(prof, currency="$")
    texts = [t.get_text() for t in ax.texts]
    assert "$1,234.50\nz = +0.00" in texts and "9.8 purchase days\nz = +0.00" in texts
