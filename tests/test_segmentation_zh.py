"""The segmentation stage in Chinese: every figure, takeaway, reading and recommended action
speaks the run's language, figures draw without missing glyphs, and the products keep their
English codes."""

from __future__ import annotations

import re
import warnings

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from test_segmentation_plotting import _transactions  # noqa: E402,F401 (shared fixtures and data)

from crmlab import segmentation as seg  # noqa: E402
from crmlab.display import figure_of  # noqa: E402
from crmlab.features import customer_summary  # noqa: E402
from crmlab.i18n import EN, catalog  # noqa: E402
from crmlab.segmentation import narrative, plotting  # noqa: E402

from conftest import segmentation_params  # noqa: E402 (tests/conftest.py)

ZH = catalog("zh")
HAN = re.compile(r"[\u4e00-\u9fff]")
# Latin words a Chinese figure text may keep (names, acronyms are caught by isupper below)
LATIN_OK = {"Calinski", "Harabasz", "Kaufman", "Rousseeuw", "Gini", "Lorenz"}

SEG = segmentation_params(k_range=[2, 3], bootstrap=2)


def _english_words(text: str) -> list[str]:
    text = re.sub(r"`[^`]*`", " ", text)  # params keys shown as code
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in LATIN_OK and not w.isupper()]


def _chinese(text: str, what: str = "") -> None:
    assert HAN.search(text), f"{what}: no Chinese in {text!r}"
    assert not _english_words(text), f"{what}: English left in {text!r}"


pytestmark = pytest.mark.usefixtures("cjk")  # tests/conftest.py




@pytest.fixture(scope="module")
def stage():
    tx = _transactions()
    customers = seg.segment_customers(customer_summary(tx, "2020-12-31"), SEG)
    search = seg.k_search(customers, SEG)
    k = seg.choose_k(search)
    labels = seg.fit_clusters(customers, k, SEG)
    customers = seg.assign_clusters(customers, labels)
    view = seg.dynamic_view(tx, customers, "2020-07-01", "2020-12-31", SEG, tr=ZH)
    return {"tx": tx, "customers": customers, "search": search, "k": k, "labels": labels,
            "view": view}


def _draw_checked(fig) -> None:
    """Draw ``fig``; fail on a missing glyph; every titled or labelled text must be Chinese."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    missing = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    assert not missing, missing[:3]
    for t in fig.texts:  # suptitle
        if t.get_text():
            _chinese(t.get_text(), "figure text")
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            _chinese(ax.get_ylabel() or ax.get_xlabel(), "colorbar")
            continue
        for part, text in (("title", ax.get_title()), ("xlabel", ax.get_xlabel()),
                           ("ylabel", ax.get_ylabel())):
            if text:
                _chinese(text, part)
        assert ax.get_title() or fig.texts, "no title"
        legend = ax.get_legend()
        for t in legend.get_texts() if legend else []:
            _english_words(t.get_text()) and pytest.fail(f"legend: {t.get_text()!r}")


# --- every display: Chinese takeaway, Chinese figure, same names --------------------------------


def _displays(stage, tr):
    c, view = stage["customers"], stage["view"]
    profiles = seg.cluster_profiles(c)
    return {
        "rfm_grid": seg.rfm_grid_display(c, None, tr=tr),
        "sizes": seg.segment_sizes_display(c, tr=tr),
        "k_search": seg.k_search_display(stage["search"], stage["k"], fixed=False, tr=tr),
        "stability": seg.stability_display(c, stage["labels"], SEG, tr=tr),
        "profiles": seg.cluster_profiles_display(c, "$", tr=tr),
        "projection": seg.cluster_projection_display(c, profiles, 42, tr=tr),
        "lorenz": seg.lorenz_display(c, 0.2, tr=tr),
        "tiers": seg.tiers_display(c, SEG["tiers"], "$", tr=tr),
        "lifecycle": seg.lifecycle_display(c, tr=tr),
        "tier_moves": seg.transitions_display(view, "value_tier", tr=tr),
        "stage_moves": seg.transitions_display(view, "lifecycle_stage", tr=tr),
        "segment_moves": seg.transitions_display(view, "rfm_segment", tr=tr),
    }


@pytest.mark.parametrize("which", ["rfm_grid", "sizes", "k_search", "stability", "profiles",
                                   "projection", "lorenz", "tiers", "lifecycle", "tier_moves",
                                   "stage_moves", "segment_moves"])
def test_every_display_in_chinese(stage, which):
    zh = _displays(stage, ZH)[which]
    en = _displays(stage, EN)[which]
    assert zh.name == en.name and zh.table_name == en.table_name
    _chinese(zh.takeaway.replace("RFM", ""), f"{which} takeaway")
    _draw_checked(figure_of(zh.plot()))


def test_figure_ticks_name_segments_tiers_and_stages_in_chinese(stage):
    d = _displays(stage, ZH)
    ticks = lambda ax, axis="y": [t.get_text() for t in getattr(ax, f"get_{axis}ticklabels")()]  # noqa: E731
    sizes = figure_of(d["sizes"].plot()).axes[0]
    assert all(HAN.search(t) for t in ticks(sizes)), ticks(sizes)
    tiers = figure_of(d["tiers"].plot()).axes[0]
    assert [t.split("\n")[0] for t in ticks(tiers, "x")] == ["高价值", "中价值", "低价值"]
    life = figure_of(d["lifecycle"].plot()).axes[0]
    assert set(ticks(life)) <= {"新客期", "活跃期", "风险期", "流失期"}
    moves = figure_of(d["segment_moves"].plot()).axes[0]
    assert all(HAN.search(t) for t in ticks(moves, "x")), ticks(moves, "x")
    grid = figure_of(d["rfm_grid"].plot()).axes[0]
    assert all(HAN.search(t.get_text()) for t in grid.texts)


def test_plotting_functions_directly_in_chinese():
    search = pd.DataFrame({"k": [3, 4, 5], "silhouette": [0.409, 0.411, 0.37],
                           "calinski_harabasz": [19000.0, 17800.0, 16400.0]})
    axes = plotting.plot_k_search(search, 4, tr=ZH)
    assert {"弱\n结构", "合理\n结构", "强\n结构"} <= {t.get_text() for t in axes[0].texts}
    _draw_checked(axes[0].figure)
    empty = plotting.plot_stability(pd.DataFrame({"resample": [], "ari": []}), tr=ZH)
    _chinese(empty.get_title())
    _chinese(empty.texts[0].get_text())
    _draw_checked(empty.figure)
    none = plotting.plot_transitions(pd.DataFrame(), pd.DataFrame(), tr=ZH)
    assert "价值层级" in none.get_title()
    _draw_checked(none.figure)


# --- narrative: every sentence in Chinese ---------------------------------------------------------


def _profiles():
    return pd.DataFrame({
        "rfm_segment": ["Champions", "Loyal", "At risk", "Lost", "Custom"],
        "customers": [100, 50, 40, 30, 20],
        "mean_days_since_last": [20.0, 332.0, 500.0, 40.0, 90.0],
        "current_share": [0.9, 0.25, 0.0, 0.7, 0.5],
        "at_risk_share": [0.1, 0.2, 0.0, 0.1, 0.0],
        "lapsed_share": [0.0, 0.55, 1.0, 0.2, 0.5],
        "one_time_share": [0.0, 0.1, 0.6, 0.9, 1.0],
    })


def test_segment_name_check_in_chinese_keeps_the_codes():
    en = seg.segment_name_check(_profiles())
    zh = seg.segment_name_check(_profiles(), tr=ZH)
    assert zh[["rfm_segment", "profile", "fits"]].equals(en[["rfm_segment", "profile", "fits"]])
    w = dict(zip(zh["rfm_segment"], zh["warning"], strict=True))
    assert w["Loyal"] == (
        "“忠诚客户”这个名称意味着仍在购买的重复购买客户，但其中 55% 已流失（距上次购买平均 332 天，"
        "共 50 位客户）：应把它读作**多数已流失的重复购买客户**。")
    assert seg.segment_labels(zh, tr=ZH)["Loyal"] == "忠诚客户（实际上：多数已流失的重复购买客户）"
    assert seg.segment_labels(zh, tr=ZH)["Custom"] == "Custom"  # a user's own name passes
    _chinese(seg.reading_segment_names(zh, tr=ZH).replace("RFM", ""))
    _chinese(seg.reading_segment_names(zh.loc[zh["fits"]], tr=ZH))


def test_every_narrative_function_in_chinese(stage):
    c, view = stage["customers"], stage["view"]
    search = pd.DataFrame({"k": [3, 4, 5], "silhouette": [0.409, 0.411, 0.37],
                           "calinski_harabasz": [19000.0, 17800.0, 16400.0],
                           "customers": [500] * 3, "of_customers": [900] * 3})
    summary = customer_summary(stage["tx"], "2020-12-31")
    day = pd.Timestamp("2020-12-31")
    texts = {
        "k_tie": narrative.k_search_reading(search, 4, tolerance=0.005, tr=ZH),
        "k_note_sample": narrative.k_search_note(search, tr=ZH),
        "k_note_all": narrative.k_search_note(search.assign(customers=900), tr=ZH),
        "k_note_fixed": narrative.k_search_note(search, 4, tr=ZH),
        "k_note_none": narrative.k_search_note(search.iloc[:0], tr=ZH),
        "stability_none": narrative.stability_takeaway(pd.DataFrame({"ari": []}), tr=ZH),
        "source_params": narrative.observation_source(day, True, tr=ZH),
        "source_last": narrative.observation_source(day, False, tr=ZH),
        "base": narrative.customer_base_note(summary, "测试数据", "观察日", tr=ZH),
        "scores": narrative.score_note(seg.score_distribution(c), tr=ZH),
        "scores_empty": narrative.score_note(pd.DataFrame({"r_score": [0, 3]}, index=[1, 2]),
                                             tr=ZH),
        "dynamic_none": narrative.dynamic_view_note(None, tr=ZH),
        "dynamic": view.note,
        "no_earlier": narrative.describe_transitions(pd.DataFrame(), tr=ZH),
        "moved_down": narrative.moved_down_note(view.down, "$", tr=ZH),
        "moved_down_none": narrative.moved_down_note(view.down.iloc[:0], "$", tr=ZH),
        "product": narrative.product_note("customers.parquet", seg.customer_table(c), tr=ZH),
    }
    for name, text in texts.items():
        _chinese(text, name)
    assert "**出现并列：** k = 3（0.409）" in texts["k_tie"]
    assert "弱结构" in texts["k_tie"]
    assert "R 评分 = 1" in texts["scores_empty"]


def test_observation_date_sentence_follows_the_language(stage):
    day, source = seg.observation_date(stage["tx"], {}, tr=ZH)
    assert day == seg.observation_date(stage["tx"], {})[0]
    assert source.startswith("最后一笔交易的日期")
    assert seg.observation_date(stage["tx"], {})[1].startswith("the last transaction date")


def test_score_ranges_in_chinese_feed_the_takeaway(stage):
    c = stage["customers"]
    days = seg.score_ranges(c, "r_score", "days_since_last", tr=ZH)
    assert all(re.fullmatch(r"\d（[\d,]+–[\d,]+ 天）", v) for v in days.values()), days
    text = narrative.rfm_grid_takeaway(seg.rfm_grid(c), seg.segment_grid(), days, tr=ZH)
    if 3 in days:
        assert f"R = 3 意味着距上次购买 {days[3][2:-1]}。" in text


# --- playbook: actions and strategies in Chinese, codes in English ------------------------------


def test_segment_actions_and_tier_strategies_in_chinese():
    acts = seg.segment_actions(tr=ZH)
    assert list(acts["rfm_segment"]) == list(seg.segment_actions()["rfm_segment"])  # codes
    for text in [*acts["who"], *acts["action"]]:
        _chinese(text.replace("RFM", ""), "segment action")
    custom = seg.segment_actions(["Stars"], tr=ZH)
    assert custom.iloc[0].tolist() == ["Stars", "（自定义细分）", "（未定义行动）"]
    tiers = seg.tier_strategies({"high": 0.5, "medium": 0.8}, tr=ZH)
    assert list(tiers["value_tier"]) == ["high", "medium", "low"]
    for text in [*tiers["rule"], *tiers["strategy"]]:
        _chinese(text.replace("RFM", ""), "tier strategy")
    assert "前 50% 收入" in tiers["rule"].iloc[0]


def test_checked_actions_in_chinese():
    prof = _profiles().assign(action="x")
    got = seg.checked_actions(prof, seg.segment_name_check(prof), tr=ZH).set_index("rfm_segment")
    assert got.at["Loyal", "profile"] == "多数已流失的重复购买客户"
    assert got.at["Loyal", "action"].startswith("挽回：")
    assert got.at["Champions", "action"] == "x"  # the name fits: its action stays
    # the English table and the English look-up are unchanged
    en = seg.checked_actions(prof, seg.segment_name_check(prof)).set_index("rfm_segment")
    assert en.at["Loyal", "action"] == seg.PROFILE_ACTIONS["mostly lapsed repeat buyers"]
    assert en.at["Loyal", "profile"] == "mostly lapsed repeat buyers"


def test_tables_shown_carry_chinese_actions_and_english_codes(stage):
    c = stage["customers"]
    sizes = seg.segment_sizes_display(c, tr=ZH)
    table = sizes.table
    assert set(table["rfm_segment"]) <= set(seg.SEGMENT_ORDER)
    assert all(HAN.search(a) for a in table["action"])
    tiers = seg.tiers_display(c, SEG["tiers"], "$", tr=ZH).table
    assert list(tiers["value_tier"]) == ["high", "medium", "low"]
    assert all(HAN.search(s) for s in tiers["strategy"])


def test_cluster_names_product_english_display_chinese(stage):
    profiles = seg.cluster_profiles(stage["customers"])
    assert not any(HAN.search(n) for n in profiles["cluster_name"])  # the product's column
    zh = narrative.cluster_names(profiles, ZH)
    assert all(HAN.search(n) and "，单行消费" in n for n in zh), list(zh)
    assert list(narrative.cluster_names(profiles, EN)) == list(profiles["cluster_name"])
    # the same rule in both languages: duplicates numbered alike
    twins = pd.DataFrame({"cluster": [0, 1], "one_time_share": [1.0, 1.0],
                          "z_days_since_last": [0.0, 0.0], "z_purchase_days": [0.0, 0.0],
                          "z_spend_per_line": [0.0, 0.0]})
    assert list(seg.name_clusters(twins, tr=ZH)) == ["一次性购买客户，单行消费中等（0）",
                                                     "一次性购买客户，单行消费中等（1）"]
    assert list(seg.name_clusters(twins)) == ["one-time buyers, mid spend per line (0)",
                                              "one-time buyers, mid spend per line (1)"]


def test_dynamic_view_in_chinese_keeps_english_groups(stage):
    view = stage["view"]
    assert "high" in view.counts["value_tier"].index
    assert seg.NEW_CUSTOMER in view.counts["value_tier"].index
    text = narrative.transitions_takeaway(view.counts["value_tier"], "value_tier", tr=ZH)
    _chinese(text)
    assert "高价值客户" in text


def test_shown_table_names_codes_for_display_only(stage):
    c = stage["customers"]
    table = seg.segment_sizes_display(c, tr=ZH).table
    shown = seg.shown_table(table, tr=ZH)
    assert set(shown["rfm_segment"]) <= {ZH.name("segment", s) for s in seg.SEGMENT_ORDER}
    assert set(table["rfm_segment"]) <= set(seg.SEGMENT_ORDER)  # the saved table keeps codes
    down = seg.shown_table(stage["view"].down, tr=ZH)
    assert set(down["value_tier_before"]) <= {"高", "中", "低"}
    assert set(down["lifecycle_stage"]) <= {"新客期", "活跃期", "风险期", "流失期"}
    assert seg.shown_table(table) is table  # English: unchanged


def test_lifecycle_moves_read_as_customers(stage):
    text = narrative.transitions_takeaway(stage["view"].counts["lifecycle_stage"],
                                          "lifecycle_stage", tr=ZH)
    _chinese(text)
    assert re.search(r"位\*(风险期|流失期)客户\*中", text), text
