"""crmlab.satisfaction.plotting and .views: every figure renders with a title and labels.

Small inputs: the hand-checked tiny survey of tests/data (analysis and a two-equation PLS
model without bootstrap), and hand-built frames where a figure needs an edge case.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import satisfaction as sat  # noqa: E402
from crmlab.display import Display  # noqa: E402
from crmlab.errors import InputError  # noqa: E402
from crmlab.io import read_table  # noqa: E402
from crmlab.satisfaction import plotting, views  # noqa: E402

from conftest import ROOT  # noqa: E402

TINY = ROOT / "tests" / "data" / "survey_tiny.csv"
TINY_SURVEY = {
    "path": str(TINY),
    "scale": [1, 7],
    "constructs": {"Service": ["sv1", "sv2", "sv3"], "Price": ["pr1", "pr2"], "Staff": ["st1"],
                   "Happy": ["hp1", "hp2"], "Loyal": ["ly1", "ly2"]},
    "outcome": "Happy",
    "loyalty": "Loyal",
    "reversed": ["sv3"],
    "id": "resp_id",
    "group": "region",
    "recommend": "rec",
    "missing_codes": [-99],
    "model": {"Happy": ["Service", "Price"], "Loyal": ["Happy"]},
    "bootstrap": {"n": 0},
}


@pytest.fixture(scope="module")
def tiny():
    raw, _ = read_table(TINY)
    analysis = sat.analyze_survey(raw, TINY_SURVEY)
    pa = sat.run_pls(analysis, TINY_SURVEY, progress=False)
    nps_block = sat.nps_summary(analysis, TINY_SURVEY)
    return analysis, pa, nps_block


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _labelled(ax):
    assert ax.get_title(), "no title"
    assert ax.get_xlabel(), "no x label"
    assert ax.get_ylabel(), "no y label"


def _figures(analysis, pa, nps_block):
    s = analysis.settings
    return {
        "reliability": lambda: plotting.plot_reliability(analysis.reliability),
        "index": lambda: plotting.plot_satisfaction_index(analysis.index, s.outcome),
        "correlations": lambda: plotting.plot_construct_correlations(analysis.correlations),
        "coefficients": lambda: plotting.plot_driver_coefficients(analysis.drivers.table,
                                                                  outcome=s.outcome),
        "importance": lambda: plotting.plot_driver_importance(
            analysis.drivers.table, analysis.drivers.r2, outcome=s.outcome),
        "ipm": lambda: plotting.plot_importance_performance(analysis.actions, outcome=s.outcome),
        "loyalty_coefficients": lambda: plotting.plot_loyalty_coefficients(
            analysis.loyalty.table, s.loyalty),
        "loyalty_link": lambda: plotting.plot_loyalty_link(
            analysis.scores, s.outcome, s.loyalty, analysis.loyalty, scale=s.scale),
        "groups": lambda: plotting.plot_group_index(analysis.groups.means, s.outcome),
        "nps": lambda: plotting.plot_nps(nps_block),
        "path_diagram": lambda: plotting.plot_path_diagram(pa.result.to_dict()["paths"],
                                                           pa.result.r2.to_dict()),
        "effects": lambda: plotting.plot_direct_total_effects(pa.effects, "Loyal"),
        "htmt": lambda: plotting.plot_htmt(pa.htmt),
        "index_weights": lambda: plotting.plot_index_weights(pa.index, outcome=s.outcome),
        "ipma": lambda: plotting.plot_ipma_total(pa.ipma, pa.target),
    }


def test_every_plotting_function_is_covered(tiny):
    covered = {
        "reliability": "plot_reliability", "index": "plot_satisfaction_index",
        "correlations": "plot_construct_correlations", "coefficients": "plot_driver_coefficients",
        "importance": "plot_driver_importance", "ipm": "plot_importance_performance",
        "loyalty_coefficients": "plot_loyalty_coefficients", "loyalty_link": "plot_loyalty_link",
        "groups": "plot_group_index", "nps": "plot_nps", "path_diagram": "plot_path_diagram",
        "effects": "plot_direct_total_effects", "htmt": "plot_htmt",
        "index_weights": "plot_index_weights", "ipma": "plot_ipma_total",
    }
    assert set(covered) == set(_figures(*tiny))
    assert set(covered.values()) == set(plotting.__all__)


@pytest.mark.parametrize("name", [
    "reliability", "index", "correlations", "coefficients", "importance", "ipm",
    "loyalty_coefficients", "loyalty_link", "groups", "nps", "path_diagram", "effects", "htmt",
    "index_weights", "ipma",
])
def test_figure_renders_with_title_and_labels(tiny, name):
    ax = _figures(*tiny)[name]()
    _labelled(ax)
    ax.figure.canvas.draw()  # the whole figure lays out, not only the Axes


def test_figures_draw_into_a_given_axes(tiny):
    _, ax = plt.subplots()
    assert plotting.plot_satisfaction_index(tiny[0].index, ax=ax) is ax


@pytest.mark.parametrize("fn, args", [
    (plotting.plot_driver_coefficients, ()),
    (plotting.plot_driver_importance, ()),
    (plotting.plot_importance_performance, ()),
    (plotting.plot_loyalty_coefficients, ()),
], ids=["coefficients", "importance", "ipm", "loyalty"])
def test_empty_inputs_say_so_in_the_panel(fn, args):
    ax = fn(None, *args)
    assert ax.get_title()
    assert [t.get_text() for t in ax.texts] and not ax.get_xticks().size


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.mark.parametrize("scale, mapping, labels", [
    (None, None, ["detractors (0-6)", "passives (7-8)", "promoters (9-10)"]),
    ([0, 10], "labels", ["detractors (0-6)", "passives (7-8)", "promoters (9-10)"]),
    ([1, 10], "labels", ["detractors (1-6)", "passives (7-8)", "promoters (9-10)"]),
    ([1, 10], "linear", ["detractors (1-6)", "passives (7-9)", "promoters (10)"]),
    ([1, 7], "linear", ["detractors (1-4)", "passives (5-6)", "promoters (7)"]),
    ([1, 5], "linear", ["detractors (1-3)", "passives (4)", "promoters (5)"]),
], ids=["0-10-default", "0-10", "1-10-labels", "1-10-linear", "1-7-linear", "1-5-linear"])
def test_nps_bands_follow_the_scale_used(scale, mapping, labels):
    block = {"nps": 10.0, "n": 20, "detractors": 0.3, "passives": 0.3, "promoters": 0.4}
    if scale is not None:
        block |= {"scale": scale, "mapping": mapping}
    ax = plotting.plot_nps(block)
    assert _legend(ax) == labels
    assert ax.get_title() == "Net Promoter Score +10 (n = 20)"


def test_nps_title_carries_the_interval(tiny):
    ax = plotting.plot_nps(tiny[2])
    n = tiny[2]
    assert ax.get_title() == (f"Net Promoter Score {n['nps']:+.0f} (95% CI {n['ci_low']:+.0f} to "
                              f"{n['ci_high']:+.0f}, n = {n['n']})")


@pytest.mark.parametrize("scale, mapping, bands", [
    ((0, 10), "labels", {"detractors": (0, 6), "passives": (7, 8), "promoters": (9, 10)}),
    ((1, 10), "labels", {"detractors": (1, 6), "passives": (7, 8), "promoters": (9, 10)}),
    # linear: 10 (x - 1) / 9 >= 9 only for x = 10; <= 6 up to x = 6.4
    ((1, 10), "linear", {"detractors": (1, 6), "passives": (7, 9), "promoters": (10, 10)}),
    # 1-3 read linearly: 0, 5, 10 on 0-10, so no answer is a passive
    ((1, 3), "linear", {"detractors": (1, 2), "passives": None, "promoters": (3, 3)}),
], ids=["0-10", "1-10-labels", "1-10-linear", "1-3-linear"])
def test_nps_bands_by_hand(scale, mapping, bands):
    assert sat.nps_bands(scale, mapping) == bands


def test_nps_bands_agree_with_the_nps_formula():
    answers = pd.Series(np.arange(1, 8, dtype=float))  # one of each answer on 1-7
    bands = sat.nps_bands((1, 7), "linear")
    got = sat.nps(answers, (1, 7), mapping="linear")
    lo, hi = bands["promoters"]
    assert got["promoters"] == pytest.approx(((answers >= lo) & (answers <= hi)).mean())
    lo, hi = bands["detractors"]
    assert got["detractors"] == pytest.approx(((answers >= lo) & (answers <= hi)).mean())


@pytest.mark.parametrize("scale, mapping", [((5, 5), "labels"), ((1, 10), "odd")],
                         ids=["flat-scale", "unknown-mapping"])
def test_nps_bands_reject_bad_input(scale, mapping):
    with pytest.raises(InputError):
        sat.nps_bands(scale, mapping)


# --- views -------------------------------------------------------------------------------------


def _displays(analysis, pa, nps_block):
    t = sat.takeaways(analysis)
    tp = sat.pls_takeaways(pa, nps_block)
    s = analysis.settings
    return t, tp, [
        views.reliability_display(analysis, t),
        views.index_display(analysis, t),
        views.correlations_display(analysis, t),
        views.drivers_display(analysis, t),
        views.importance_performance_display(analysis, t),
        views.loyalty_display(analysis, t),
        views.loyalty_model_display(analysis, t),
        views.groups_display(analysis, t),
        views.nps_display(nps_block, tp),
        views.pls_paths_display(pa, tp),
        views.pls_effects_display(pa, tp, s.outcome, s.loyalty),
        views.pls_htmt_display(pa, tp),
        views.pls_index_display(pa, tp, s.outcome),
        views.pls_ipma_display(pa, tp),
    ]


def test_views_keep_todays_file_names_and_draw(tiny):
    t, _, displays = _displays(*tiny)
    assert [d.name for d in displays] == [
        "satisfaction_reliability", "satisfaction_index", "satisfaction_correlations",
        "satisfaction_drivers", "satisfaction_importance_performance", "satisfaction_loyalty",
        "satisfaction_loyalty_model", "satisfaction_groups", "satisfaction_nps",
        "satisfaction_pls_paths", "satisfaction_pls_effects", "satisfaction_pls_htmt",
        "satisfaction_pls_index", "satisfaction_pls_ipma",
    ]
    tables = {d.name: d.table_name for d in displays if d.table_name}
    assert tables == {"satisfaction_importance_performance": "satisfaction_actions",
                      "satisfaction_loyalty_model": "satisfaction_loyalty_drivers",
                      "satisfaction_groups": "satisfaction_group_index"}
    for d in displays:
        assert isinstance(d, Display) and d.takeaway and not d.takeaway.startswith("**Takeaway")
        for ax in np.ravel(d.plot()):
            _labelled(ax)
        plt.close("all")
    assert displays[1].takeaway == t["index"].removeprefix("**Takeaway:** ")


def test_views_are_none_when_the_survey_lacks_what_they_need(tiny):
    analysis = tiny[0]
    bare = {k: v for k, v in TINY_SURVEY.items()
            if k not in ("loyalty", "group", "recommend", "model")}
    raw, _ = read_table(TINY)
    plain = sat.analyze_survey(raw, bare)
    t = sat.takeaways(plain)
    tp = sat.pls_takeaways(None, None)
    assert views.loyalty_display(plain, t) is None
    assert views.loyalty_model_display(plain, t) is None
    assert views.groups_display(plain, t) is None
    assert views.nps_display(None, tp) is None
    assert all(f(None, tp) is None for f in (views.pls_paths_display, views.pls_htmt_display,
                                             views.pls_ipma_display))
    assert views.pls_index_display(None, tp, analysis.settings.outcome) is None
