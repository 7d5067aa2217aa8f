"""The summary report in Chinese: every sentence, card, table header and figure text.

Three levels: the report's functions with the Chinese catalog on tiny hand-built products;
the scan that finds English left in a report (:func:`crmlab.report.untranslated`) on
hand-made HTML; and the whole chain with ``language=zh`` (slow), whose ``report.html``
must hold no raw catalog key and no English catalog text, and say ``lang="zh-CN"``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import report, segmentation  # noqa: E402
from crmlab.i18n import EN, catalog  # noqa: E402
from crmlab.report import narrative_interactions as ix  # noqa: E402
from crmlab.report import plotting  # noqa: E402

from conftest import ROOT  # noqa: E402

ZH = catalog("zh")
HAN = re.compile(r"[\u4e00-\u9fff]")
P = {"active_days": 90, "top_share": 1 / 3, "currency": "$", "watch_tiers": ["high", "medium"],
     "watch_stages": ["at risk"], "high_risk_band": "high", "drift_tolerance": 0.25}
SOURCES = {"transactions": "CDNOW", "survey": "ECSI survey", "churn": "Telco churn"}
KPIS = {"customers": 1200, "active_customers": 300, "revenue": 52000.0, "revenue_recent": 9000.0,
        "repeat_rate": 0.4, "top_share_revenue": 0.62, "satisfaction_index": 71.3,
        "high_risk_customers": 85, "warning_flags": 40, "predicted_value": 81000.0, "watch_list": 12}
PREVIOUS = dict(KPIS, customers=1100, repeat_rate=0.38, watch_list=15, satisfaction_index=None)


def english_left(text: str) -> list[str]:
    """English catalog text in a piece of Markdown/HTML (the report scan, on one output)."""
    keys, english = report.untranslated(f"<p>{text}</p>", EN, ZH)
    return keys + english


def chinese(text: str) -> None:
    assert HAN.search(text), f"no Chinese in {text!r}"
    assert not english_left(text), f"English left in {text!r}: {english_left(text)}"


@pytest.fixture
def customers():
    return pd.DataFrame({
        "customer_id": ["c1", "c2", "c3", "c4", "c5"],
        "value_tier": ["high", "medium", "high", "low", "medium"],
        "lifecycle_stage": ["at risk", "at risk", "active", "at risk", "lapsed"],
        "rfm_segment": ["Cannot lose", "At risk", "Champions", "Lost", "Hibernating"],
        "total_spend": [100.0, 300.0, 50.0, 5.0, 20.0],
        "days_since_last": [80.0, 60.0, 3.0, 200.0, 400.0],
        "purchase_days": [3, 2, 5, 1, 1], "spend_per_line": [30.0, 150, 10, 5, 20],
    })


@pytest.fixture
def drivers():
    return pd.DataFrame({"construct": ["Quality", "Expectation", "Image"], "importance": [0.5, 0.3, 0.2],
                         "performance": [60.0, 55.0, 80.0],
                         "quadrant": ["concentrate here", "concentrate here", "keep up the good work"],
                         "actionable": [True, False, True]})


@pytest.fixture
def overview():
    stages = [{"name": "cleaning", "skip_reason": None, "produces": ("transactions.parquet",)},
              {"name": "value", "skip_reason": None, "produces": ("value_predictions.parquet", "value_metrics.json")},
              {"name": "churn", "skip_reason": None, "produces": ("churn_scores.parquet",)}]
    return report.stage_overview(stages, {"cleaning": {"status": "success"}, "value": {"status": "success"}},
                                 {"transactions.parquet": "this run", "value_predictions.parquet": "this run"})


# --- (a) the report's functions in Chinese ------------------------------------------------------


def test_kpi_labels_cards_and_notes_are_chinese():
    notes = report.kpi_notes(P, 12, SOURCES, tr=ZH)
    for name in report.KPI_NAMES:
        chinese(report.kpi_label(name, ZH))
        chinese(notes[name])
    html = report.kpi_cards_html(KPIS, PREVIOUS, "$", notes, tr=ZH)
    chinese(html)
    assert "较上次运行" in html and "vs last run" not in html
    assert report.format_kpi("satisfaction_index", None, tr=ZH) == "无数据"
    assert report.kpi_delta("repeat_rate", 0.4, 0.38, ZH)[0] == "▲ +2.0 个百分点"
    for unit in report.kpi_units("$", ZH).values():
        chinese(unit)
    # English stays as it was
    assert report.kpi_label("watch_list") == "Watch list"
    assert "vs last run" in report.kpi_cards_html(KPIS, PREVIOUS, "$")


def test_kpi_readings_and_next_steps_are_chinese(drivers):
    text = report.kpi_readings(KPIS, P, "$", {}, 12, SOURCES, clv_as_of="1998-06-30", tr=ZH)
    assert len(text.splitlines()) == len(report.KPIS)
    chinese(text)
    assert "重点关注名单" in text and "高/中价值客户" in text and "“风险期”" in text
    missing = {"satisfaction": "已跳过：参数中没有问卷"}
    chinese(report.kpi_readings(dict(KPIS, satisfaction_index=None), P, "$", missing, None, SOURCES, tr=ZH))
    drift = pd.DataFrame({"input": ["transactions"], "check": ["rows"], "flag": [True], "note": ["x"]})
    steps = report.next_steps(KPIS, 3, drivers, drift, {"churn": "未找到其产出"}, SOURCES, tr=ZH)
    chinese(steps)
    assert steps.startswith("1. 先检查输入数据") and "客户流失预警阶段" in steps
    chinese(report.next_steps({}, tr=ZH))


def test_every_sentence_of_the_report_is_chinese(customers, drivers, overview):
    profiles = segmentation.segment_profiles(customers, "rfm_segment")
    tiers = segmentation.tier_table(customers, {"high": 0.5, "medium": 0.8})
    life = segmentation.lifecycle_table(customers)
    watch = report.tier_watch_table(customers, P)
    sat = {"pls": {"ipma": {"target": "Satisfaction"}, "r2": {"Satisfaction": 0.55}},
           "nps": {"nps": 12.0, "ci_low": 5.0, "ci_high": 19.0, "scale": [1, 10]}}
    drift = report.input_drift({"transactions": {"rows": 100, "columns": ["a", "b"], "date_min": "1997-01-01",
                                                 "date_max": "1998-06-30", "sha256": "0" * 64}},
                               {"transactions": {"rows": 200, "columns": ["a", "c"], "date_min": "1997-01-01",
                                                 "date_max": "1998-06-30", "sha256": "0" * 64}}, 0.25, tr=ZH)
    texts = [
        report.source_note(SOURCES, "transactions", ZH),
        report.reading_sources(SOURCES, tr=ZH),
        report.reading_sources({}, tr=ZH),
        report.reading_stages(overview, tr=ZH),
        report.run_header("test", "r2", SOURCES, pd.Timestamp("1998-06-30"), "参数", "r1", tr=ZH),
        report.run_header("test", "r2", {}, None, "", None, tr=ZH),
        report.data_set_line(SOURCES, "transactions", tr=ZH),
        report.data_set_line(SOURCES, "survey", tr=ZH),
        report.unavailable("segmentation", tr=ZH),
        report.unavailable("churn", report.missing_reasons(overview, ZH), tr=ZH),
        report.reading_segments(profiles.assign(action="保持联系"), tr=ZH),
        report.reading_segments(profiles.iloc[:0].assign(action=[]), tr=ZH),
        report.reading_tiers(tiers, life, ["at risk"], tr=ZH),
        report.reading_drivers(drivers, tr=ZH),
        report.reading_drivers(drivers.assign(actionable=False), tr=ZH),
        report.reading_index_model(sat, SOURCES, tr=ZH),
        report.reading_watch(watch, P, "$", tr=ZH),
        report.reading_watch(watch.iloc[:0], P, "$", tr=ZH),
        report.churn_lists_line(SOURCES, tr=ZH),
        report.churn_lists_line({"transactions": "CDNOW"}, tr=ZH),
        report.reading_risk_bands(1234, "high", tr=ZH),
        report.first_run_note("test", tr=ZH),
        report.compared_with("r1", None, tr=ZH),
        report.reading_migrations({"up": 2, "down": 5, "new": 1, "gone": 1}, tr=ZH),
        report.reading_migrations({"up": 5, "down": 2}, tr=ZH),
        report.reading_migrations({}, tr=ZH),
        report.moved_down_summary(1200, 3, tr=ZH),
        report.reading_drift(drift, tr=ZH),
        report.reading_drift(drift.assign(flag=False), tr=ZH),
        report.trend_count(3, 4, tr=ZH),
        *drift["note"],
        *report.trend_labels(pd.DataFrame({"run_id": ["a", "b"], "finished": ["2026-01-01T10:00", None],
                                           "observation_end": ["1998-06-30", "1998-07-31"]}), ZH)[1:],
    ]
    for text in texts:
        chinese(text)
    assert "CDNOW" in report.run_header("test", "r2", SOURCES, pd.Timestamp("1998-06-30"), "参数", "r1", tr=ZH)
    assert "冠军客户" in report.reading_segments(profiles.assign(action="保持联系"), tr=ZH)


def test_interaction_sentences_and_cards_are_chinese():
    doc = {
        "kpis": {"complaints_per_1000_last_month": 4.2},
        "complaints": {"trend": {"monthly_change": 0.02, "low": -0.01, "high": 0.05},
                       "lapse": {"difference": {"diff": -0.113, "low": -0.2, "high": -0.02}}},
        "campaign": {"name": "winback", "estimable": True, "window_days": 30, "n_treatment": 500,
                     "n_control": 500, "conversion": {"diff": 0.01, "low": -0.02, "high": 0.04},
                     "incremental_revenue": {"value": 1200.0, "low": -300.0, "high": 2700.0}},
        "profitability": {"total_profit": 50000.0, "peak_share": 1.4, "peak_at": 0.3,
                          "destroyers": {"overall": {"share": 0.12, "destroyers": 120, "profit_lost": 8000.0}}},
    }
    kpis = {"complaints_per_1000": 4.2, "sentiment_mean": 0.61, "campaign_uplift": 0.01,
            "campaign_low": -0.02, "campaign_high": 0.04, "value_destroyers_share": None}
    accuracy = pd.DataFrame({"language": ["chinese", "english"], "method": ["lexicon", "lexicon"],
                             "accuracy": [0.8, 0.7], "ci_low": [0.75, 0.6], "ci_high": [0.85, 0.8],
                             "held_out_texts": [400, 300]})
    shares = pd.DataFrame({"value_tier": ["high", "low"], "store": [0.5, 0.2], "web": [0.3, 0.6]})
    notes = ix.interaction_card_notes(kpis, 90, True, tr=ZH)
    texts = [
        ix.interactions_not_run(ZH), ix.interactions_source_line(["log.csv"], True, tr=ZH),
        *notes.values(), report.interaction_cards_html(kpis, notes, tr=ZH),
        ix.reading_channels(shares, "value_tier", tr=ZH), ix.reading_channels(None, None, tr=ZH),
        ix.reading_complaints(doc, tr=ZH), ix.reading_complaints({}, tr=ZH),
        ix.reading_sentiment(kpis, accuracy, tr=ZH), ix.reading_sentiment({}, None, tr=ZH),
        ix.reading_campaign(doc, True, "$", tr=ZH),
        ix.reading_campaign({"campaign": {"name": "x", "estimable": False}}, False, tr=ZH),
        ix.reading_profitability(doc, "$", tr=ZH), ix.reading_profitability({}, tr=ZH),
    ]
    for text in texts:
        chinese(text)
    assert "高：门店（50%）" in ix.reading_channels(shares, "value_tier", tr=ZH)
    assert ix.interactions_not_run() == ix.INTERACTIONS_NOT_RUN


def test_shown_tables_have_chinese_headers_and_names(customers, drivers, overview):
    profiles = segmentation.segment_profiles(customers, "rfm_segment").assign(action="保持联系")
    tiers = segmentation.tier_table(customers, {"high": 0.5, "medium": 0.8})
    bands = report.risk_band_table(pd.DataFrame({"risk_band": ["high", "low", "churned"],
                                                 "churn_probability": [0.8, 0.1, 0.9]}))
    changes = report.kpi_change_table(report.compare_kpis(PREVIOUS, KPIS), "$", tr=ZH)
    drift = report.input_drift({"transactions": {"rows": 100}}, {"transactions": {"rows": 200}}, 0.25, tr=ZH)
    stylers = [
        report.style_overview(overview, tr=ZH), report.style_segments(profiles, tr=ZH),
        report.style_tiers(tiers.assign(strategy="一对一关怀"), "$", tr=ZH), report.style_drivers(drivers, tr=ZH),
        report.style_risk_bands(bands, tr=ZH), report.style_watch(report.tier_watch_table(customers, P), "$", tr=ZH),
        report.style_first_rows(report.customer_snapshot(customers), tr=ZH), report.style_plain(changes, tr=ZH),
        report.style_drift(drift, tr=ZH),
    ]
    for styler in stylers:
        html = styler.to_html()
        headers = re.findall(r"<th[^>]*>(.*?)</th>", html)
        assert headers and all(HAN.search(h) for h in headers), headers
        assert not english_left(html), english_left(html)
    # wording the names keeps the number formats (a Styler.format dict alone resets the others)
    for styler in stylers[1:5]:
        html = styler.to_html()
        assert "%" in html and not re.search(r"\d\.\d{5,}", html), html
        assert html.replace("是", "True").count("True") == styler.data.select_dtypes(bool).sum().sum()
    for tr in (EN, ZH):
        html = report.style_drivers(drivers, tr=tr).to_html()
        assert ">50%<" in html and ">60.0<" in html
    segments = report.style_segments(profiles, tr=ZH).to_html()
    assert "冠军客户" in segments and "Champions" not in segments
    assert "风险期" in report.style_watch(report.tier_watch_table(customers, P), "$", tr=ZH).to_html()
    # the tables themselves keep their canonical names (the products' data contract)
    assert list(profiles.columns[:1]) == ["rfm_segment"] and "Champions" in set(profiles["rfm_segment"])
    # English headers stay as they were
    assert ">rfm_segment</th>" in report.style_segments(profiles).to_html()




def _drawn_in_chinese(fig):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    missing = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    assert not missing, missing
    for ax in fig.axes:
        if not ax.get_visible() or not ax.get_xlabel():  # colour bars carry their label on y
            continue
        for text in (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()):
            assert HAN.search(text), f"no Chinese in {text!r}"


def test_figures_in_chinese_without_missing_glyphs(cjk):
    profiles = pd.DataFrame({"rfm_segment": ["Champions", "Loyal"], "customer_share": [0.25, 0.12],
                             "revenue_share": [0.68, 0.11]})
    ax = plotting.plot_report_segments(profiles, source="购买记录：CDNOW", tr=ZH)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["忠诚客户", "冠军客户"]
    _drawn_in_chinese(ax.figure)
    life = pd.DataFrame([[3, 1, 0], [2, 2, 1]], index=["active", "at risk"], columns=["high", "medium", "low"])
    ax = plotting.plot_report_tiers(life, ["high"], ["at risk"], tr=ZH)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["高", "中", "低"]
    _drawn_in_chinese(ax.figure)
    before = pd.DataFrame({"customer_id": ["a", "b", "c"], "value_tier": ["high", "medium", "low"]})
    after = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "value_tier": ["high", "low", "low", "high"]})
    moves = segmentation.transition_matrix(before, after, "value_tier", order=segmentation.TIER_ORDER)
    _drawn_in_chinese(plotting.plot_report_migrations(moves, tr=ZH).figure)
    hist = pd.DataFrame({"run_id": ["a", "b"], "finished": ["2026-01-01T10:00", None],
                         "observation_end": ["1998-06-30", "1998-07-31"],
                         "repeat_rate": [0.3, 0.35], "watch_list": [10.0, 12.0]})
    display = report.trends_display(hist, ["repeat_rate", "watch_list"], SOURCES, "$", tr=ZH)
    axes = display.draw()
    assert axes[0].get_title() == "复购率（CDNOW）"
    _drawn_in_chinese(axes[0].figure)
    monthly = pd.DataFrame({"month": pd.to_datetime(["1998-01-01", "1998-02-01", "1998-03-01"]),
                            "rate_per_1000": [3.0, 4.0, 2.0], "partial": [False, False, True]})
    _drawn_in_chinese(plotting.plot_report_complaints(monthly, tr=ZH).figure)


def test_report_displays_pass_the_language_on(customers):
    shown = report.segments_display(customers, SOURCES, tr=ZH)
    ax = shown.draw()
    assert HAN.search(ax.get_title()) and "CDNOW" in ax.get_title()
    tiers = report.tiers_display(customers, {"high": 0.5, "medium": 0.8}, P, tr=ZH)
    assert HAN.search(tiers.draw().get_title())
    plt.close("all")


def test_driver_constructs_are_named_in_chinese(drivers, cjk):
    """The ECSI construct names are the lab's words: the report shows them in Chinese."""
    text = report.reading_drivers(drivers, "Satisfaction", tr=ZH)
    assert "感知质量" in text and "期望" in text and "满意度" in text
    assert not re.search("Quality|Expectation|Satisfaction", text), text
    steps = report.next_steps(KPIS, None, drivers, tr=ZH)
    assert "感知质量" in steps and "Quality" not in steps
    sat = {"pls": {"ipma": {"target": "Satisfaction"}, "r2": {"Satisfaction": 0.55}}}
    assert "满意度" in report.reading_index_model(sat, SOURCES, tr=ZH)
    html = report.style_drivers(drivers, tr=ZH).to_html()
    assert "感知质量" in html and "形象" in html and "Quality" not in html
    # English stays as it was; a user's own construct passes unchanged
    assert "Quality" in report.style_drivers(drivers).to_html()
    assert "Quality" in report.reading_drivers(drivers, "Satisfaction")
    assert "Service" in report.reading_drivers(drivers.assign(construct=["Service", "Price", "Staff"]), tr=ZH)
    product = {"drivers": {r.construct: {"importance": r.importance, "performance": r.performance,
                                         "quadrant": r.quadrant, "actionable": r.actionable}
                           for r in drivers.itertuples()}}
    shown = report.drivers_display(product, "Satisfaction", tr=ZH)
    assert list(shown["drivers"]["construct"]) == ["Quality", "Expectation", "Image"]  # the data keep the names
    ax = shown.draw()
    labels = [t.get_text() for t in ax.texts]
    assert "感知质量" in labels and any(t.startswith("期望") for t in labels), labels
    assert "满意度" in ax.get_title() and "满意度" in ax.get_ylabel()
    assert not any(re.search("Quality|Expectation|Image|Satisfaction", t) for t in labels + [ax.get_title()])
    _drawn_in_chinese(ax.figure)
    plt.close("all")


# --- (b) the scan for English left in a report -------------------------------------------------


def test_untranslated_finds_raw_keys_and_english_text():
    page = """<html lang="zh-CN"><head><title>crmlab 报告</title>
    <style>.x { content: "Watch list"; }</style><script>var s = "Recent revenue";</script></head>
    <body><div>report.kpi.customers</div><div>客户数</div>
    <p>1,200 customers have bought at least once up to the end of the data.</p>
    <p>近期收入：<b>Watch</b> list</p><p>95% CI 1 至 2</p><p>CDNOW_master.txt</p>
    <img alt="Satisfaction index"></body></html>"""
    keys, english = report.untranslated(page, EN, ZH)
    assert keys == ["report.kpi.customers"]
    assert "report.reading.customers: customers have bought at least once up to the end of the data" in english
    assert "report.kpi.watch_list: Watch list" in english  # split by a tag, still read as one phrase
    assert not any("Recent revenue" in e or "Satisfaction index" in e for e in english)  # not shown
    assert not any("CI" in e for e in english)  # the same in both languages


def test_untranslated_is_empty_for_chinese_and_ignores_data_values():
    page = ("<html><body><p>" + report.kpi_readings(KPIS, P, "$", {}, 12, SOURCES, tr=ZH)
            + "</p><p>Champions Club, Gold Members</p><p>Expectation</p></body></html>")
    assert report.untranslated(page, EN, ZH) == ([], [])
    english = "<p>" + report.kpi_readings(KPIS, P, "$", {}, 12, SOURCES) + "</p>"
    keys, found = report.untranslated(english, EN, ZH)
    assert not keys and len(found) >= len(report.KPIS)
    assert report.visible_text("<p>a&amp;b</p>\n<p> c </p>") == "a&b c"


# --- (c) the whole chain in Chinese (slow) ------------------------------------------------------


@pytest.fixture(scope="module")
def zh_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pipeline_zh")
    out = subprocess.run(
        [sys.executable, "-m", "crmlab.cli", "run", "--params", "params/test.yaml", "--no-progress",
         "--set", "language=zh", "--set", f"paths.processed={tmp / 'processed'}",
         "--set", f"paths.outputs={tmp / 'outputs'}"],
        capture_output=True, text=True, cwd=ROOT, timeout=1800,
    )
    return tmp, out


@pytest.mark.slow
def test_chain_in_chinese_leaves_no_english_in_the_report(zh_run):
    tmp, out = zh_run
    assert out.returncode == 0, out.stderr[-3000:]
    run_dir = (tmp / "outputs" / "test" / "latest").resolve()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    page = (run_dir / manifest["stages"]["report"]["report"]).read_text(encoding="utf-8")
    assert re.search(r'<html[^>]*\blang="zh-CN"', page)
    assert "<title>crmlab 报告：test" in page
    keys, english = report.untranslated(page, EN, ZH)
    assert not keys, f"raw catalog keys in report.html: {keys}"
    assert not english, f"English catalog text in report.html: {english[:40]}"
    assert HAN.search(report.visible_text(page))


@pytest.mark.slow
def test_chain_in_chinese_figures_have_no_missing_glyphs(zh_run):
    tmp, out = zh_run
    assert out.returncode == 0, out.stderr[-3000:]
    run_dir = (tmp / "outputs" / "test" / "latest").resolve()
    nb = json.loads((run_dir / "07_report.ipynb").read_text(encoding="utf-8"))
    streams = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", [])
                      if o.get("output_type") == "stream")
    assert "Glyph" not in streams and "missing from font" not in streams
    assert list((run_dir / "figures").glob("report_*.png"))
    assert np.all([HAN.search(report.kpi_label(k, ZH)) for k in report.KPI_NAMES])


def test_exported_page_says_its_language():
    from crmlab.export import _with_lang

    page = '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
    assert '<html lang="zh-CN">' in _with_lang(page, "zh")
    assert _with_lang(page, "en") == page
    assert '<html lang="zh-CN">' in _with_lang("<html><head>", "zh")


@pytest.fixture(scope="module")
def zh_report_only(tmp_path_factory):
    """The report stage alone in Chinese on the browser test's hand-made products and previous
    run: every section renders, the run-over-run ones included."""
    from test_report_browser import _products

    tmp = tmp_path_factory.mktemp("report_zh")
    params = _products(tmp)
    done = subprocess.run(
        [sys.executable, "-m", "crmlab.cli", "run", "--params", str(params), "--only", "report",
         "--no-progress", "--set", "language=zh"], capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    return done


@pytest.mark.slow
def test_report_stage_in_chinese_every_section(zh_report_only):
    done = zh_report_only
    assert done.returncode == 0, done.stderr[-3000:]
    path = done.stdout.strip().splitlines()[-1].removeprefix("report: ")
    page = open(path, encoding="utf-8").read()
    assert re.search(r'<html[^>]*\blang="zh-CN"', page)
    assert "Traceback" not in page and 'data-mime-type="application/vnd.jupyter.stderr"' not in page
    text = report.visible_text(page)
    for words in ("自上次运行以来", "较上次运行", "重点关注名单", "次带报告的运行", "降入更低价值层级的客户"):
        assert words in text, words
    # what the report's code shows (the cells' outputs; the zh edition's markdown is the translators')
    nb = json.loads(open(path.replace("report.html", "07_report.ipynb"), encoding="utf-8").read())
    keys, english = report.untranslated(_outputs_html(nb), EN, ZH)
    assert not keys, keys
    assert not english, english[:40]


def _outputs_html(nb: dict) -> str:
    """The outputs of an executed notebook as one HTML page (Markdown and text escaped)."""
    import html

    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/html" in data:
                parts.append("".join(data["text/html"]))
            elif "text/markdown" in data:
                parts.append(f"<p>{html.escape(''.join(data['text/markdown']))}</p>")
            elif "text" in out:
                parts.append(f"<pre>{html.escape(''.join(out['text']))}</pre>")
    return "<html><body>" + "\n".join(parts) + "</body></html>"


def test_untranslated_leaves_glosses_but_not_leaks():
    gloss = "<p>已运行（ran）；左上方（“重点改进区”，Concentrate here）；手动（by hand）</p>"
    assert report.untranslated(gloss, EN, ZH) == ([], [])
    leak = "<p>Built from the products of 3 stage(s): 数据清洗。</p>"
    assert report.untranslated(leak, EN, ZH)[1] == ["report.stages.built: Built from the products of"]
