"""Segmentation figures and displays: every figure renders with a title and labelled axes,
the transition heatmap's diagonal is "stayed", the displays keep today's file names."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import segmentation as seg  # noqa: E402
from crmlab.display import Display, figure_of  # noqa: E402
from crmlab.errors import InputError  # noqa: E402
from crmlab.features import customer_summary  # noqa: E402
from crmlab.segmentation import plotting  # noqa: E402

from conftest import segmentation_params  # noqa: E402 (tests/conftest.py)

SEG = segmentation_params(k_range=[2, 3], bootstrap=2)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _transactions(n=60, seed=0):
    """``n`` customers buying 1-8 times over 2020 at random amounts."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        days = rng.choice(366, size=int(rng.integers(1, 9)), replace=False)
        for d in days:
            rows.append((f"c{i:03d}", pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(d)),
                         float(rng.gamma(2.0, 20.0))))
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


@pytest.fixture(scope="module")
def stage():
    """The whole stage on 60 customers: customers, k search, clusters, the two-date view."""
    tx = _transactions()
    customers = seg.segment_customers(customer_summary(tx, "2020-12-31"), SEG)
    search = seg.k_search(customers, SEG)
    k = seg.choose_k(search)
    labels = seg.fit_clusters(customers, k, SEG)
    customers = seg.assign_clusters(customers, labels)
    view = seg.dynamic_view(tx, customers, "2020-07-01", "2020-12-31", SEG)
    return {"tx": tx, "customers": customers, "search": search, "k": k, "labels": labels,
            "view": view}


def _labelled(ax):
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


# --- every figure ----------------------------------------------------------------------------


def test_rfm_grid_labels_days_on_the_r_axis(stage):
    c = stage["customers"]
    days = seg.score_ranges(c, "r_score", "days_since_last")
    ax = plotting.plot_rfm_grid(seg.rfm_grid(c), seg.segment_grid(), row_labels=days)
    _labelled(ax)
    assert "days since last purchase" in ax.get_ylabel()
    assert len(ax.texts) == 25  # one text per score cell


def test_segment_sizes_two_bars_per_segment(stage):
    prof = seg.segment_profiles(stage["customers"], "rfm_segment")
    ax = plotting.plot_segment_sizes(prof, labels={prof["rfm_segment"].iloc[0]: "renamed"})
    _labelled(ax)
    assert len(ax.patches) == 2 * len(prof)
    assert "renamed" in [t.get_text() for t in ax.get_yticklabels()]


def test_k_search_two_panels_with_kr_bands():
    search = pd.DataFrame({"k": [3, 4, 5], "silhouette": [0.409, 0.411, 0.37],
                           "calinski_harabasz": [19000.0, 17800.0, 16400.0]})
    axes = plotting.plot_k_search(search, 4)
    assert len(axes[0].figure.axes) == 2
    band_labels = {t.get_text() for t in axes[0].texts}
    assert {"weak\nstructure", "reasonable\nstructure", "strong\nstructure"} <= band_labels
    assert "Chosen k = 4" in axes[0].figure.texts[0].get_text()
    for ax in axes:
        _labelled(ax)


def test_stability_shows_the_mean_and_says_when_not_checked():
    ax = plotting.plot_stability(pd.DataFrame({"resample": [1, 2], "ari": [0.9, 1.0]}))
    _labelled(ax)
    assert "mean ARI 0.950" in [t.get_text() for t in ax.get_legend().get_texts()]
    empty = plotting.plot_stability(pd.DataFrame({"resample": [], "ari": []}))
    assert empty.get_title() and "bootstrap = 0" in empty.texts[0].get_text()


def test_cluster_profiles_money_and_purchase_days():
    prof = pd.DataFrame({"cluster": [0], "cluster_name": ["recent"], "customer_share": [1.0],
                         "z_days_since_last": [0.0], "z_purchase_days": [0.0],
                         "z_spend_per_line": [0.0], "mean_days_since_last": [31.0],
                         "mean_purchase_days": [9.8], "mean_spend_per_line": [1234.5]})
    ax = plotting.plot_cluster_profiles(prof, currency="$")
    _labelled(ax)
    texts = [t.get_text() for t in ax.texts]
    assert "$1,234.50\nz = +0.00" in texts and "9.8 purchase days\nz = +0.00" in texts


def test_cluster_projection_names_each_cluster():
    points = pd.DataFrame({"pc1": [0.0, 1.0, 2.0], "pc2": [1.0, 0.0, 1.0], "cluster": [0, 0, 1]})
    ax = plotting.plot_cluster_projection(points, np.array([0.6, 0.3]),
                                          pd.Series({0: "recent", 1: "lapsed"}))
    _labelled(ax)
    assert "60% of variance" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0: recent", "1: lapsed"]


def test_lorenz_marks_the_top_share():
    ax = plotting.plot_lorenz(seg.concentration([1.0, 1.0, 2.0, 6.0], 0.25))
    _labelled(ax)
    # the top 25 % (one customer of four) make 60 % of revenue
    assert "make 60% of revenue" in ax.texts[0].get_text()


def test_tiers_bars_carry_their_shares():
    frame = pd.DataFrame({"total_spend": [60.0, 25.0, 10.0, 5.0]})
    tiers = seg.tier_table(seg.value_tiers(frame, SEG["tiers"]), SEG["tiers"])
    ax = plotting.plot_tiers(tiers)
    _labelled(ax)
    assert {"60%", "25%", "15%"} <= {t.get_text() for t in ax.texts}


def test_lifecycle_totals_per_stage():
    life = pd.DataFrame([[1, 0, 0], [2, 1, 0], [0, 0, 3], [0, 1, 4]],
                        index=pd.Index(seg.LIFECYCLE_ORDER, name="lifecycle_stage"),
                        columns=pd.Index(seg.TIER_ORDER, name="value_tier"))
    ax = plotting.plot_lifecycle(life)
    _labelled(ax)
    assert sorted(t.get_text() for t in ax.texts) == [" 1", " 3", " 3", " 5"]


def test_transition_heatmap_diagonal_is_stayed():
    before = pd.DataFrame({"customer_id": ["a", "b", "c"], "value_tier": ["high", "medium", "low"]})
    after = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                          "value_tier": ["high", "low", "low", "high"]})
    counts = seg.transition_matrix(before, after, "value_tier", order=seg.TIER_ORDER)
    shares = seg.transition_matrix(before, after, "value_tier", order=seg.TIER_ORDER,
                                   normalise=True)
    ax = plotting.plot_transitions(shares, counts)
    _labelled(ax)
    rows = [t.get_text().rsplit(" (", 1)[0] for t in ax.get_yticklabels()]  # "high (1)"
    cols = [t.get_text() for t in ax.get_xticklabels()]
    assert rows == ["high", "medium", "low", seg.NEW_CUSTOMER]
    assert rows[:3] == cols


def test_transition_heatmap_without_an_earlier_date_says_so():
    ax = plotting.plot_transitions(pd.DataFrame(), pd.DataFrame())
    assert ax.get_title() and "calibration_end unset" in ax.texts[0].get_text()


# --- displays: one call computes, draws and names the files ------------------------------------


def test_displays_keep_the_figure_and_table_names(stage):
    c, view = stage["customers"], stage["view"]
    profiles = seg.cluster_profiles(c)
    displays = {
        "segmentation_rfm_grid": seg.rfm_grid_display(c, None),
        "segmentation_rfm_segments": seg.segment_sizes_display(c),
        "segmentation_k_search": seg.k_search_display(stage["search"], stage["k"], fixed=False),
        "segmentation_cluster_stability": seg.stability_display(c, stage["labels"], SEG),
        "segmentation_cluster_profiles": seg.cluster_profiles_display(c, "$"),
        "segmentation_cluster_projection": seg.cluster_projection_display(c, profiles, 42),
        "segmentation_lorenz": seg.lorenz_display(c, 0.2),
        "segmentation_value_tiers": seg.tiers_display(c, SEG["tiers"], "$"),
        "segmentation_lifecycle": seg.lifecycle_display(c),
        "segmentation_transitions_tier": seg.transitions_display(view, "value_tier"),
        "segmentation_transitions_lifecycle": seg.transitions_display(view, "lifecycle_stage"),
        "segmentation_transitions_rfm": seg.transitions_display(view, "rfm_segment"),
    }
    for name, d in displays.items():
        assert isinstance(d, Display) and d.name == name and d.takeaway
        assert figure_of(d.plot()) is not None
    assert displays["segmentation_rfm_segments"].table_name == "segmentation_segment_profiles"
    assert len(displays["segmentation_lorenz"].table) == 21
    assert "profile" in displays["segmentation_rfm_segments"].table.columns


def test_display_draws_into_a_given_axes(stage):
    _, ax = plt.subplots()
    assert seg.lorenz_display(stage["customers"], 0.2).plot(ax) is ax


def test_transition_tables_name_counts_and_shares(stage):
    tables = seg.transition_tables(stage["view"])
    assert list(tables)[:2] == ["segmentation_transitions_value_tier_counts",
                                "segmentation_transitions_value_tier_shares"]
    assert len(tables) == 6


def test_display_errors(stage):
    with pytest.raises(InputError, match="nothing was searched"):
        seg.k_search_display(stage["search"].iloc[:0], 4, fixed=True)
    with pytest.raises(InputError, match="'cluster' is not one of"):
        seg.transitions_display(stage["view"], "cluster")
