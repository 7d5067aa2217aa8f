"""The satisfaction stage in Chinese: every figure, takeaway and result sentence from the zh catalog.

The tiny survey of tests/data (Latin construct names: they are the user's data and pass
unchanged) analysed with ``tr=catalog("zh")``: figures carry Chinese titles and axis labels
and draw without missing glyphs, every takeaway and notebook line is Chinese, the codes of
the products (quadrant, verdict) stay English, and the numbers do not depend on the language.
"""

from __future__ import annotations

import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from test_i18n import ALLOWED_LATIN  # noqa: E402
from test_satisfaction_plotting import TINY, TINY_SURVEY  # noqa: E402

from crmlab import satisfaction as sat  # noqa: E402
from crmlab.i18n import EN, catalog  # noqa: E402
from crmlab.io import read_table  # noqa: E402
from crmlab.satisfaction import narrative, plotting, views  # noqa: E402

from conftest import ROOT  # noqa: E402

ZH = catalog("zh")
HAN = re.compile(r"[\u4e00-\u9fff]")
# the tiny survey's own names (constructs, items, groups) may appear in Chinese text
DATA_NAMES = {"Service", "Price", "Staff", "Happy", "Loyal", "East", "North", "South"}


def _chinese(text: str) -> bool:
    return bool(HAN.search(text))


def _english_left(text: str) -> list[str]:
    text = re.sub(r"`[^`]*`", " ", text)  # code: params keys, file names
    words = re.findall(r"[A-Za-z]{2,}", text)
    return [w for w in words
            if w not in ALLOWED_LATIN and w not in DATA_NAMES and not w.isupper()
            and not re.fullmatch(r"[a-z]{2}\d*", w)]  # item names: sv1, hp2 ...


@pytest.fixture(scope="module")
def zh_tiny():
    raw, _ = read_table(TINY)
    analysis = sat.analyze_survey(raw, TINY_SURVEY, tr=ZH)
    pa = sat.run_pls(analysis, TINY_SURVEY, progress=False)
    nps_block = sat.nps_summary(analysis, TINY_SURVEY, tr=ZH)
    return analysis, pa, nps_block


@pytest.fixture(scope="module")
def en_tiny():
    raw, _ = read_table(TINY)
    return sat.analyze_survey(raw, TINY_SURVEY)


pytestmark = pytest.mark.usefixtures("cjk_module")  # tests/conftest.py


def _figures(analysis, pa, nps_block):
    s = analysis.settings
    return {
        "plot_reliability": lambda: plotting.plot_reliability(analysis.reliability, tr=ZH),
        "plot_satisfaction_index": lambda: plotting.plot_satisfaction_index(
            analysis.index, s.outcome, tr=ZH),
        "plot_construct_correlations": lambda: plotting.plot_construct_correlations(
            analysis.correlations, tr=ZH),
        "plot_driver_coefficients": lambda: plotting.plot_driver_coefficients(
            analysis.drivers.table, outcome=s.outcome, tr=ZH),
        "plot_driver_importance": lambda: plotting.plot_driver_importance(
            analysis.drivers.table, analysis.drivers.r2, outcome=s.outcome, tr=ZH),
        "plot_importance_performance": lambda: plotting.plot_importance_performance(
            analysis.actions, outcome=s.outcome, tr=ZH),
        "plot_loyalty_coefficients": lambda: plotting.plot_loyalty_coefficients(
            analysis.loyalty.table, s.loyalty, tr=ZH),
        "plot_loyalty_link": lambda: plotting.plot_loyalty_link(
            analysis.scores, s.outcome, s.loyalty, analysis.loyalty, scale=s.scale, tr=ZH),
        "plot_group_index": lambda: plotting.plot_group_index(analysis.groups.means, s.outcome,
                                                              tr=ZH),
        "plot_nps": lambda: plotting.plot_nps(nps_block, tr=ZH),
        "plot_path_diagram": lambda: plotting.plot_path_diagram(
            pa.result.to_dict()["paths"], pa.result.r2.to_dict(), tr=ZH),
        "plot_direct_total_effects": lambda: plotting.plot_direct_total_effects(
            pa.effects, "Loyal", tr=ZH),
        "plot_htmt": lambda: plotting.plot_htmt(pa.htmt, tr=ZH),
        "plot_index_weights": lambda: plotting.plot_index_weights(pa.index, outcome=s.outcome,
                                                                  tr=ZH),
        "plot_ipma_total": lambda: plotting.plot_ipma_total(pa.ipma, pa.target, tr=ZH),
    }


def _draw_without_missing_glyphs(draw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drawn = draw()
        axes = np.ravel(drawn)
        axes[0].figure.canvas.draw()
    missing = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    assert not missing, missing[:3]
    return axes


def _all_texts(ax):
    texts = [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    texts += [t.get_text() for t in ax.texts]
    if ax.get_legend() is not None:
        texts += [t.get_text() for t in ax.get_legend().get_texts()]
    return [t for t in texts if t]


def test_every_plotting_function_is_covered(zh_tiny):
    assert set(_figures(*zh_tiny)) == set(plotting.__all__)


@pytest.mark.parametrize("name", plotting.__all__)
def test_figure_in_chinese(zh_tiny, name):
    (ax,) = _draw_without_missing_glyphs(_figures(*zh_tiny)[name])
    for part in (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()):
        assert _chinese(part), f"{name}: {part!r}"
    english = [w for t in _all_texts(ax) for w in _english_left(t)]
    assert not english, f"{name}: English left {english}"
    plt.close("all")


@pytest.mark.parametrize("fn", [plotting.plot_driver_coefficients,
                                plotting.plot_driver_importance,
                                plotting.plot_importance_performance,
                                plotting.plot_loyalty_coefficients])
def test_empty_panels_say_so_in_chinese(fn):
    ax = fn(None, tr=ZH)
    assert _chinese(ax.get_title())
    assert all(_chinese(t.get_text()) for t in ax.texts)
    plt.close("all")


def test_nps_legend_names_the_bands_in_chinese():
    block = {"nps": 10.0, "n": 20, "detractors": 0.3, "passives": 0.3, "promoters": 0.4,
             "scale": [1, 10], "mapping": "labels"}
    ax = plotting.plot_nps(block, tr=ZH)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "贬损者（1-6）", "被动者（7-8）", "推荐者（9-10）"]
    assert ax.get_title() == "净推荐值 NPS +10（n = 20）"
    plt.close("all")


def _check_sentences(texts: dict[str, str]):
    for key, text in texts.items():
        assert text.startswith("**要点：** "), key
        assert _chinese(text), key
        assert not _english_left(text), f"{key}: English left {_english_left(text)} in {text!r}"


def test_takeaways_in_chinese(zh_tiny):
    analysis, pa, nps_block = zh_tiny
    t = sat.takeaways(analysis, tr=ZH)
    tp = sat.pls_takeaways(pa, nps_block, tr=ZH)
    assert set(t) == set(sat.takeaways(analysis))
    _check_sentences(t)
    _check_sentences(tp)
    assert "Happy指数为 **62.1 分（满分 100）**" in t["index"]


def test_takeaways_of_a_bare_survey_in_chinese():
    raw, _ = read_table(TINY)
    bare = {k: v for k, v in TINY_SURVEY.items()
            if k not in ("loyalty", "group", "recommend", "model")}
    plain = sat.analyze_survey(raw, bare, tr=ZH)
    _check_sentences(sat.takeaways(plain, tr=ZH))
    _check_sentences(sat.pls_takeaways(None, None, tr=ZH))


def test_takeaways_of_an_english_analysis_in_chinese(en_tiny):
    # the loyalty sentences are reworded in the catalog's language, not copied
    t = sat.takeaways(en_tiny, tr=ZH)
    _check_sentences(t)
    assert t["loyalty"].startswith("**要点：** Happy每高 1 分")


def test_notebook_lines_in_chinese(zh_tiny):
    analysis, pa, nps_block = zh_tiny
    _, info = read_table(TINY)
    lines = [
        narrative.intake_line(analysis, info, tr=ZH),
        narrative.alpha_line("Happy", 0.9, 0.91, 2, tr=ZH),
        narrative.pls_fit_line(pa, tr=ZH),
        narrative.product_line(ROOT / "satisfaction.json",
                               sat.add_to_summary(sat.summary_json(analysis), pa, nps_block),
                               pa, tr=ZH),
    ]
    for line in lines:
        assert _chinese(line) and not _english_left(line), line
    caveat = narrative.nps_caveat(1.0, 10.0, "labels", tr=ZH)
    line = narrative.nps_caveat_line({"caveat": caveat}, tr=ZH)
    assert line.startswith("*量表说明：*") and _chinese(line) and not _english_left(line)
    assert _chinese(narrative.nps_caveat(1.0, 10.0, "linear", tr=ZH))


def test_results_carry_chinese_text_and_english_codes(zh_tiny, en_tiny):
    analysis = zh_tiny[0]
    for text in (*analysis.notes, analysis.loyalty.sentence, analysis.loyalty.multiple_sentence,
                 *[f for f in analysis.reliability["flag"] if f], *analysis.actions["action"]):
        assert _chinese(text) and not _english_left(text), text
    # codes and numbers are the data contract: the same whatever the language
    pd.testing.assert_frame_equal(analysis.reliability.drop(columns="flag"),
                                  en_tiny.reliability.drop(columns="flag"))
    pd.testing.assert_frame_equal(analysis.actions.drop(columns="action"),
                                  en_tiny.actions.drop(columns="action"))
    assert set(analysis.actions["quadrant"]) <= set(sat.QUADRANTS)
    assert zh_tiny[2]["nps"] == sat.nps_summary(en_tiny, TINY_SURVEY)["nps"]


def test_english_actions_are_the_documented_ones():
    for quadrant, (advice, _) in sat.QUADRANTS.items():
        assert EN(f"satisfaction.action.lever.{quadrant}") == advice
        assert EN(f"satisfaction.action.not_lever.{quadrant}") == sat.NOT_A_LEVER[quadrant]


def test_suppression_sentence_in_chinese():
    table = pd.DataFrame({"construct": ["X", "S"], "beta": [-0.43, 0.9], "ci_low": [-0.8, 0.5],
                          "ci_high": [-0.1, 1.2], "r": [0.2, 0.8], "sign_flip": [True, False]})
    corr = pd.DataFrame([[1.0, 0.7], [0.7, 1.0]], index=["X", "S"], columns=["X", "S"])
    text = sat.suppression_sentence(table, "L", corr, tr=ZH)
    assert "抑制效应" in text and "S（r = 0.70）" in text and "X越高，L越低" in text


def test_views_in_chinese(zh_tiny):
    analysis, pa, nps_block = zh_tiny
    t = sat.takeaways(analysis, tr=ZH)
    tp = sat.pls_takeaways(pa, nps_block, tr=ZH)
    s = analysis.settings
    displays = [
        views.reliability_display(analysis, t, tr=ZH),
        views.index_display(analysis, t, tr=ZH),
        views.correlations_display(analysis, t, tr=ZH),
        views.drivers_display(analysis, t, tr=ZH),
        views.importance_performance_display(analysis, t, tr=ZH),
        views.loyalty_display(analysis, t, tr=ZH),
        views.loyalty_model_display(analysis, t, tr=ZH),
        views.groups_display(analysis, t, tr=ZH),
        views.nps_display(nps_block, tp, tr=ZH),
        views.pls_paths_display(pa, tp, tr=ZH),
        views.pls_effects_display(pa, tp, s.outcome, s.loyalty, tr=ZH),
        views.pls_htmt_display(pa, tp, tr=ZH),
        views.pls_index_display(pa, tp, s.outcome, tr=ZH),
        views.pls_ipma_display(pa, tp, tr=ZH),
    ]
    for d in displays:
        assert d is not None
        assert _chinese(d.takeaway) and not d.takeaway.startswith("**要点"), d.name
        for ax in _draw_without_missing_glyphs(d.plot):
            assert _chinese(ax.get_title()) and _chinese(ax.get_xlabel()), d.name
        plt.close("all")


def test_shown_table_translates_labels_and_codes_for_display_only(zh_tiny, en_tiny):
    actions = zh_tiny[0].actions
    shown = views.shown_table(actions, tr=ZH)
    assert all(_chinese(c) for c in shown.columns if c not in ("rank",) and len(c) > 1)
    assert "象限" in shown.columns and set(shown["象限"]) <= {
        ZH(f"satisfaction.quadrant.{q}") for q in sat.QUADRANTS}
    assert list(actions.columns)[:2] == ["rank", "construct"]  # the table itself is untouched
    assert views.shown_table(en_tiny.actions) is en_tiny.actions  # English: as it is


def test_intake_table_labels_the_recommend_row_in_chinese(zh_tiny):
    shown = views.shown_table(zh_tiny[0].prepared.missing, tr=ZH)
    assert shown["构念"].iloc[-1] == "（推荐意愿题，0-10 分）"
    assert zh_tiny[0].prepared.missing["construct"].iloc[-1] == "(recommend, 0-10)"  # saved as is


# --- the lab's default (ECSI) constructs are named in Chinese ---------------------------------
#
# The default params' construct names (Image ... Loyalty) are the lab's words, not a user's:
# a zh run shows them through satisfaction.construct (形象 ... 忠诚度). The tiny survey above
# checks that a user's own names (Happy, Service ...) still pass unchanged.

ECSI_ZH = {"Image": "形象", "Expectation": "期望", "Quality": "感知质量", "Value": "感知价值",
           "Satisfaction": "满意度", "Complaints": "投诉", "Loyalty": "忠诚度"}
ECSI_EN = re.compile(r"(?<![A-Za-z])(" + "|".join(ECSI_ZH) + r")(?![A-Za-z])")


@pytest.fixture(scope="module")
def zh_ecsi():
    from crmlab.config import load_params

    survey = load_params(ROOT / "params" / "test.yaml").survey  # the ECSI survey, 50 resamples
    raw, _ = read_table(survey.path)
    analysis = sat.analyze_survey(raw, survey, tr=ZH)
    pa = sat.run_pls(analysis, survey, progress=False, tr=ZH)
    nps_block = sat.nps_summary(analysis, survey, tr=ZH)
    return analysis, pa, nps_block


def _every_text(ax) -> list[str]:
    """Title, axis labels, texts, legend and tick labels of an Axes."""
    texts = _all_texts(ax)
    texts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    return [t for t in texts if t]


def test_construct_names_come_from_the_catalog_and_a_users_own_pass():
    from crmlab.satisfaction.narrative.words import construct_name, path_name

    for name, shown in ECSI_ZH.items():
        assert construct_name(name, ZH) == shown
        assert construct_name(name) == name  # English: the params' name itself
        assert construct_name(shown, ZH) == shown  # naming twice changes nothing
    assert construct_name("Happy", ZH) == "Happy"  # a user's own construct
    assert path_name("Quality -> Satisfaction", ZH) == "感知质量 -> 满意度"
    assert path_name("Quality -> Satisfaction") == "Quality -> Satisfaction"


def _ecsi_figures(analysis, pa, nps_block):
    figures = _figures(analysis, pa, nps_block)
    figures["plot_direct_total_effects"] = lambda: plotting.plot_direct_total_effects(
        pa.effects, "Loyalty", tr=ZH)
    # the ECSI survey has no group column: two made-up groups
    means = pd.DataFrame({"construct": ["Satisfaction", "Satisfaction"], "group": ["A", "B"],
                          "index": [70.0, 74.0], "n": [120, 130]})
    figures["plot_group_index"] = lambda: plotting.plot_group_index(means, "Satisfaction", tr=ZH)
    return figures


@pytest.mark.parametrize("name", plotting.__all__)
def test_ecsi_figures_name_the_constructs_in_chinese(zh_ecsi, name):
    drawn = _draw_without_missing_glyphs(_ecsi_figures(*zh_ecsi)[name])
    texts = [t for ax in drawn for t in _every_text(ax)]
    english = sorted({m for t in texts for m in ECSI_EN.findall(t)})
    assert not english, f"{name}: English construct names {english} in {texts}"
    if name != "plot_nps":  # every other figure names constructs
        assert any(zh in t for t in texts for zh in ECSI_ZH.values()), f"{name}: {texts}"
    plt.close("all")


def test_ecsi_path_diagram_and_driver_chart_in_chinese(zh_ecsi):
    analysis, pa, _ = zh_ecsi
    ax = plotting.plot_path_diagram(pa.result.to_dict()["paths"], pa.result.r2.to_dict(), tr=ZH)
    boxes = " ".join(t.get_text() for t in ax.texts)
    for shown in ECSI_ZH.values():
        assert shown in boxes, (shown, boxes)
    assert not ECSI_EN.search(boxes), boxes
    plt.close("all")

    t = sat.takeaways(analysis, tr=ZH)
    display = views.drivers_display(analysis, t, tr=ZH)
    axes = _draw_without_missing_glyphs(display.plot)
    texts = [x for ax in axes for x in _every_text(ax)]
    ticks = [x.get_text() for ax in axes for x in ax.get_yticklabels()]
    assert {"形象", "期望", "感知质量", "感知价值"} <= set(ticks), ticks
    assert all("满意度" in ax.get_title() for ax in axes)
    assert not any(ECSI_EN.search(x) for x in texts), texts
    plt.close("all")


def test_ecsi_sentences_name_the_constructs_in_chinese(zh_ecsi):
    analysis, pa, nps_block = zh_ecsi
    s = analysis.settings
    t = sat.takeaways(analysis, tr=ZH)
    tp = sat.pls_takeaways(pa, nps_block, tr=ZH)
    result = sat.add_to_summary(sat.summary_json(analysis), pa, nps_block)
    lines = [*t.values(), *tp.values(), *analysis.notes, analysis.loyalty.sentence,
             analysis.loyalty.multiple_sentence,
             narrative.alpha_line(s.outcome, 0.77, 0.78, 3, tr=ZH),
             narrative.product_line(ROOT / "satisfaction.json", result, pa, tr=ZH),
             narrative.what_to_do(t, tp)]
    for line in lines:
        assert not ECSI_EN.search(line), line
    assert "满意度指数为" in t["index"] and "感知质量得分最高" in t["index"]
    assert "满意度" in tp["paths"] and "忠诚度" in analysis.loyalty.sentence
    # the product keeps the params' names: keys are the data contract
    assert "Satisfaction" in result["constructs"] and "Quality" in result["drivers"]
    assert set(result["pls"]["r2"]) <= set(ECSI_ZH)


def test_ecsi_shown_tables_name_the_constructs_in_chinese(zh_ecsi):
    analysis, pa, _ = zh_ecsi
    tables = [analysis.prepared.missing, analysis.reliability, analysis.items, analysis.index,
              analysis.drivers.table, analysis.actions, analysis.loyalty.table,
              pa.bootstrap[pa.bootstrap["kind"] == "path"], pa.effects, pa.reliability,
              pa.result.outer, pa.index, pa.ipma]
    for table in tables:
        shown = views.shown_table(table, tr=ZH)
        cells = [str(v) for col in shown.columns if not pd.api.types.is_numeric_dtype(shown[col])
                 for v in shown[col]]
        cells += [str(v) for v in shown.index]
        english = sorted({m for c in cells for m in ECSI_EN.findall(c)})
        assert not english, (list(table.columns), english)
    effects = views.shown_table(pa.effects, tr=ZH)
    assert "感知质量 -> 满意度" in effects.index and "感知质量" in set(effects["来源构念"])
    assert "Quality -> Satisfaction" in pa.effects.index  # the table itself keeps the params' names
    assert views.shown_table(pa.index, tr=ZH).index.tolist()[:2] == ["形象", "期望"]
    assert analysis.index["construct"].iloc[0] == "Image"


def test_english_ecsi_figures_keep_the_params_names(zh_ecsi):
    _, pa, _ = zh_ecsi
    ax = plotting.plot_path_diagram(pa.result.to_dict()["paths"], pa.result.r2.to_dict())
    boxes = " ".join(t.get_text() for t in ax.texts)
    assert all(name in boxes for name in ECSI_ZH) and not HAN.search(boxes)
    plt.close("all")
