"""The cleaning report: one builder for both paths, policies from the section or the schema."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from crmlab.cleaning.report import build_report, money_set_aside, with_source
from crmlab.cleaning.rules import setting
from crmlab.config import params_from_dict


def _counts(**extra):
    base = dict(rows_in=3, rows_clean=2, rows_quarantined=1, by_reason={"duplicate": 1}, repairs={"x": 2},
                duplicates_seen=1, pii_dropped=["email"], pii_detected=["ann@example.com"],
                columns={"customer_id": "id", "date": "day", "amount": "paid", "quantity": None},
                amount_clean=30.0, amount_quarantined=10.0,
                date_min=pd.Timestamp("2024-01-01"), date_max=None, customers=2,
                observation_end="2024-12-31", section={"columns": {}})
    base.update(extra)
    return base


def test_report_keys_in_order_and_json_ready():
    report = build_report(**_counts())
    assert list(report) == ["rows_in", "rows_clean", "rows_quarantined", "by_reason", "repairs",
                            "duplicates_seen", "pii_dropped", "pii_detected", "columns", "amount_clean",
                            "amount_quarantined", "date_min", "date_max", "customers", "observation_end",
                            "policies"]
    assert report["columns"] == {"customer_id": "id", "date": "day", "amount": "paid"}
    assert report["pii_detected"] == ["<redacted column name>"]  # a header may be an address
    assert report["date_min"] == "2024-01-01T00:00:00" and report["date_max"] is None
    # a hand-made section: the policies are the schema's defaults
    assert report["policies"] == {"duplicates": "quarantine", "zero_amount": "keep",
                                  "strip_leading_zeros": False, "date_format": None, "decimal": "."}


def test_report_refuses_lost_rows():
    with pytest.raises(RuntimeError, match="cleaning lost rows: 4 in, 2 clean, 1 quarantined"):
        build_report(**_counts(rows_in=4))


def test_setting_reads_the_section_then_the_schema():
    section = params_from_dict({"transactions": {"path": "x.csv", "decimal": ",",
                                                 "columns": {"customer_id": "a", "date": "b", "amount": "c"}}}
                               ).transactions
    assert setting(section, "decimal") == "," and setting({"columns": {}}, "decimal") == "."
    assert setting({"columns": {}}, "max_amount") == 1e12
    with pytest.raises(KeyError):
        setting({}, "no_such_key")


def test_money_set_aside_counts_only_real_amounts():
    amounts = pd.Series([5.0, -3.0, float("nan"), float("inf"), 2e12, 0.0, 7.5])
    assert money_set_aside(amounts, {"max_amount": 1e12}) == 12.5


def test_with_source_appends_where_the_rows_came_from():
    info = SimpleNamespace(path="/d/x.csv", format="text", encoding="utf-8", sep=";")
    out = with_source({"rows_in": 1}, info, "pandas")
    assert out == {"rows_in": 1, "file": "/d/x.csv", "format": "text", "encoding": "utf-8",
                   "separator": ";", "engine": "pandas"}
