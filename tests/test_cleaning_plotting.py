"""Figures of the cleaning stage: each renders on small data with a title and labelled axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import cleaning  # noqa: E402
from crmlab.cleaning import plotting  # noqa: E402
from crmlab.display import Display, figure_of  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


REPORT = {"rows_in": 10, "rows_quarantined": 3, "by_reason": {"invalid_date": 2, "duplicate": 1, "zero_amount": 0}}
MONTHLY = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2024-02-01"]),
                        "purchases": [1200, 800], "revenue": [250000.0, 90000.0]})


def _labelled(ax):
    return bool(ax.get_title()) and bool(ax.get_xlabel()) and bool(ax.get_ylabel())


def test_quarantine_reasons_bars_labelled_largest_on_top():
    ax = plotting.plot_quarantine_reasons(cleaning.reason_table(REPORT))
    assert _labelled(ax)
    assert ax.get_xlabel() == "rows (count)"
    # barh draws bottom-up: the largest reason is the top bar
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "invalid_date"
    assert [t.get_text() for t in ax.texts] == ["0", "1", "2"]  # each bar carries its count


def test_monthly_activity_two_panels_no_twin_axis():
    axes = plotting.plot_monthly_activity(MONTHLY, currency="$")
    fig = axes[0].figure
    assert len(fig.axes) == 2  # two panels, no twinx
    assert axes[0].get_ylabel() == "revenue ($)" and axes[1].get_ylabel() == "purchases (rows)"
    assert axes[0].yaxis.get_major_formatter()(250000, 0) == "$250,000"
    assert axes[1].yaxis.get_major_formatter()(1200, 0) == "1,200"
    assert axes[0].get_title() and axes[1].get_xlabel() == "month"


@pytest.mark.parametrize("given", ["values", "summary"], ids=["raw-values", "dask-summary"])
def test_order_values_log_histogram_with_median(given):
    amounts = pd.Series([-5.0, 0.0, 1.0, 10.0, 10.0, 100.0])
    data = amounts if given == "values" else cleaning.order_value_summary(amounts, bins=10)
    ax = plotting.plot_order_values(data, currency="$")
    assert _labelled(ax)
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "purchase value ($, log scale)"
    assert ax.get_legend().get_texts()[0].get_text() == "median $10.00"


def test_order_values_without_positive_amounts_still_labelled():
    ax = plotting.plot_order_values(cleaning.order_value_summary(pd.Series([0.0, -1.0])))
    assert _labelled(ax) and ax.get_legend() is None


def test_plots_draw_into_a_given_axes():
    fig, axes = plt.subplots(1, 3)
    assert plotting.plot_quarantine_reasons(cleaning.reason_table(REPORT), ax=axes[0]) is axes[0]
    assert plotting.plot_order_values(pd.Series([1.0, 2.0]), ax=axes[1]) is axes[1]
    _, pair = plt.subplots(2, 1)
    drawn = plotting.plot_monthly_activity(MONTHLY, axes=pair)
    assert drawn[0] is pair[0] and drawn[1] is pair[1]


# --- displays ---------------------------------------------------------------------------------


def test_quarantine_reasons_display_names_figure_and_table():
    shown = cleaning.quarantine_reasons_display(REPORT)
    assert isinstance(shown, Display)
    assert shown.name == "cleaning_quarantine_reasons" and shown.table_name is None
    assert shown.table["reason"].tolist() == ["invalid_date", "duplicate", "zero_amount"]
    assert shown.takeaway == "3 of 10 rows (30.00%) were set aside; the largest group is `invalid_date` with 2 rows."
    assert figure_of(shown.plot()).axes[0].get_title() == "Rows quarantined, by reason"


def test_activity_and_order_value_displays_keep_only_small_results():
    clean = pd.DataFrame({"customer_id": ["a", "a", "b"],
                          "date": pd.to_datetime(["2024-01-03", "2024-03-09", "2024-03-10"]),
                          "amount": [10.0, 20.0, 30.0]})
    report = {"customers": 2, "rows_clean": 3, "date_min": "2024-01-03T00:00:00", "date_max": "2024-03-10T00:00:00"}
    activity = cleaning.monthly_activity_display(clean, report, "shop", "$")
    assert activity.name == "cleaning_monthly_activity"
    assert activity.table["purchases"].tolist() == [1, 0, 2]  # February is there, with zeros
    assert len(figure_of(activity.plot()).axes) == 2
    values = cleaning.order_values_display(clean["amount"], "$")
    assert values.name == "cleaning_order_values" and values.table is None
    assert values["order_values"]["median"] == 20.0
    assert np.asarray(values["order_values"]["counts"]).sum() == 3
    assert figure_of(values.plot()).axes[0].get_xscale() == "log"
