"""The cleaning stage in Chinese: figures, sentences and tables carry Chinese words, no boxes."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import cleaning  # noqa: E402
from crmlab.cleaning import narrative, plotting  # noqa: E402
from crmlab.display import figure_of  # noqa: E402
from crmlab.i18n import EN, catalog  # noqa: E402

from conftest import missing_glyphs  # noqa: E402 (tests/conftest.py)

ZH = catalog("zh")
HAN = re.compile(r"[\u4e00-\u9fff]")

REPORT = {
    "rows_in": 1000, "rows_clean": 990, "rows_quarantined": 10, "customers": 40,
    "by_reason": {"invalid_date": 4, "duplicate": 6, "negative_amount": 0},
    "repairs": {"amount_currency_symbol": 7, "id_whitespace_trimmed": 2, "a_new_kind": 1},
    "pii_dropped": ["email"], "pii_detected": ["phone"],
    "columns": {"customer_id": "id", "date": "day", "amount": "paid"},
    "date_min": "2024-01-05T00:00:00", "date_max": "2024-03-20T00:00:00",
    "file": "/data/raw/shop.csv", "format": "text", "encoding": "utf-8", "separator": ",",
    "engine": "pandas", "amount_clean": 750.0, "amount_quarantined": 250.0,
}
MONTHLY = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
                        "purchases": [100, 50, 20], "revenue": [10000.0, 4000.0, 2000.0]})




def _chinese(text: str) -> bool:
    return bool(HAN.search(text))


def _drawn_without_missing_glyphs(fig):
    missing = missing_glyphs(fig)
    assert not missing, missing[:3]


def _labels_chinese(ax, x=True, y=True):
    assert _chinese(ax.get_title()) or not ax.get_title()
    if x:
        assert _chinese(ax.get_xlabel()), ax.get_xlabel()
    if y:
        assert _chinese(ax.get_ylabel()), ax.get_ylabel()


def test_quarantine_reasons_in_chinese(cjk):
    ax = plotting.plot_quarantine_reasons(cleaning.reason_table(REPORT), tr=ZH)
    assert _chinese(ax.get_title())
    _labels_chinese(ax)
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[-1] == "重复记录" and all(_chinese(t) for t in ticks)  # reason names, not codes
    _drawn_without_missing_glyphs(ax.figure)


def test_monthly_activity_in_chinese(cjk):
    top, bottom = plotting.plot_monthly_activity(MONTHLY, currency="$", tr=ZH)
    assert _chinese(top.get_title())
    assert top.get_ylabel() == "销售额（$）"
    _labels_chinese(bottom)
    _drawn_without_missing_glyphs(top.figure)


def test_monthly_activity_without_currency_says_units_in_chinese(cjk):
    top, _ = plotting.plot_monthly_activity(MONTHLY, tr=ZH)
    assert "currency" not in top.get_ylabel() and _chinese(top.get_ylabel())


def test_order_values_in_chinese(cjk):
    ax = plotting.plot_order_values(pd.Series([1.0, 10.0, 10.0, 100.0]), currency="$", tr=ZH)
    assert _chinese(ax.get_title())
    _labels_chinese(ax)
    assert ax.get_legend().get_texts()[0].get_text() == "中位数 $10.00"
    _drawn_without_missing_glyphs(ax.figure)


def test_displays_pass_the_catalog_on(cjk):
    clean = pd.DataFrame({"customer_id": ["a", "a", "b"],
                          "date": pd.to_datetime(["2024-01-03", "2024-03-09", "2024-03-10"]),
                          "amount": [10.0, 20.0, 30.0]})
    shown = [
        cleaning.quarantine_reasons_display(REPORT, tr=ZH),
        cleaning.monthly_activity_display(clean, REPORT, "商店", "$", tr=ZH),
        cleaning.order_values_display(clean["amount"], "$", tr=ZH),
    ]
    for display in shown:
        assert _chinese(display.takeaway), display.takeaway
        fig = figure_of(display.plot())
        assert all(_chinese(ax.get_title()) for ax in fig.axes if ax.get_title())
        _drawn_without_missing_glyphs(fig)
    # the table of the reasons keeps its codes: it is data
    assert shown[0].table["reason"].tolist()[0] == "duplicate"


@pytest.mark.parametrize("report", [
    REPORT,
    {**REPORT, "by_reason": {"duplicate": 0}, "pii_detected": [], "rows_quarantined": 0},
    {**REPORT, "by_reason": {"duplicate": 2, "invalid_amount": 1, "negative_amount": 3,
                             "after_observation_end": 4},
     "columns": {**REPORT["columns"], "order_id": "order"}},
], ids=["two-rules", "all-well", "other-rules"])
def test_sentences_in_chinese(report):
    reasons = cleaning.reason_table(report)
    texts = [
        narrative.read_summary(report, "商店", tr=ZH),
        narrative.read_summary({**report, "format": "parquet"}, "商店", tr=ZH),
        narrative.personal_data_note(report, tr=ZH),
        narrative.quarantine_takeaway(report, reasons, tr=ZH),
        narrative.activity_takeaway(report, MONTHLY, "商店", "$", tr=ZH),
        narrative.activity_takeaway(report, MONTHLY.iloc[:0], "商店", tr=ZH),
        narrative.order_values_takeaway({"median": 3.0, "p90": 61.6}, "$", tr=ZH),
        narrative.products_written(True, "/tmp/out", tr=ZH),
        narrative.products_written(False, "/tmp/out", tr=ZH),
    ]
    checks = narrative.next_checks(report, tr=ZH).splitlines()
    for text in texts + checks:
        assert _chinese(text), text
        assert not re.search(r"\b(the|of|rows|and)\b", re.sub(r"`[^`]*`", "", text)), text


def test_months_and_lists_in_chinese():
    assert narrative.month_name("2024-03-01", tr=ZH) == "2024年3月"
    assert "（格式：文本，" in narrative.read_summary(REPORT, "商店", tr=ZH)
    assert narrative.month_name("2024-03-01") == "March 2024"
    assert "2024年1月" in narrative.activity_takeaway(REPORT, MONTHLY, "商店", "$", tr=ZH)
    assert narrative.personal_data_note({"pii_dropped": ["a", "b"], "pii_detected": []}, tr=ZH) == (
        "按声明剔除的个人信息列：`a`、`b`。自动识别并一并剔除的列：无。"
    )


def test_tables_in_chinese():
    acc = cleaning.accounting_table(REPORT, tr=ZH)
    money = cleaning.money_table(REPORT, "$", tr=ZH)
    mapping = cleaning.mapping_table(REPORT["columns"], tr=ZH)
    repairs = cleaning.repair_table(REPORT, tr=ZH)
    for table in (acc, money, mapping, repairs):
        assert all(_chinese(str(c)) for c in table.columns), list(table.columns)
    assert all(_chinese(str(i)) for i in list(acc.index) + list(money.index))
    assert acc.iloc[:, 0].tolist() == [1000, 990, 10]
    assert repairs.iloc[:, 0].tolist() == ["金额去除货币符号", "编号去除首尾空格", "a_new_kind"]  # unknown kinds pass
    assert repairs.iloc[:, 1].tolist() == [7, 2, 1]


def test_english_is_the_default():
    assert cleaning.repair_table(REPORT).columns.tolist() == ["repair", "values"]
    assert cleaning.repair_table(REPORT, tr=EN)["repair"].tolist() == [
        "amount_currency_symbol", "id_whitespace_trimmed", "a_new_kind"]
    ax = plotting.plot_quarantine_reasons(cleaning.reason_table(REPORT))
    assert not _chinese(ax.get_title()) and ax.get_yticklabels()[-1].get_text() == "duplicate"
    plt.close("all")
    assert np.isfinite(cleaning.accounting_table(REPORT)["rows"]).all()
