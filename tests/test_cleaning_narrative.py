"""Sentences of the cleaning stage on tiny inputs whose wording is known."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab import cleaning
from crmlab.cleaning import narrative

REPORT = {
    "rows_in": 1000, "rows_clean": 990, "rows_quarantined": 10, "customers": 40,
    "by_reason": {"invalid_date": 4, "duplicate": 6, "negative_amount": 0},
    "repairs": {}, "pii_dropped": ["email"], "pii_detected": [],
    "columns": {"customer_id": "id", "date": "day", "amount": "paid"},
    "date_min": "2024-01-05T00:00:00", "date_max": "2024-03-20T00:00:00",
    "file": "/data/raw/shop.csv", "format": "text", "encoding": "utf-8", "separator": ",",
    "engine": "pandas",
}


def test_read_summary_names_rows_file_and_how_it_was_read():
    assert narrative.read_summary(REPORT, "Shop") == (
        "Read **1,000 rows** of **Shop** from `shop.csv` (text, encoding `utf-8`, "
        "delimiter `','`); engine: pandas."
    )


@pytest.mark.parametrize("dropped, detected, expected", [
    (["email"], [], "Dropped as declared personal data: `email`. Detected and dropped as well: none."),
    ([], ["phone", "名字"], "Dropped as declared personal data: none. Detected and dropped as well: `phone`, `名字`."),
], ids=["declared", "detected"])
def test_personal_data_note(dropped, detected, expected):
    assert narrative.personal_data_note({"pii_dropped": dropped, "pii_detected": detected}) == expected


def test_quarantine_takeaway_names_the_largest_reason():
    reasons = cleaning.reason_table(REPORT)
    assert narrative.quarantine_takeaway(REPORT, reasons) == (
        "10 of 1,000 rows (1.00%) were set aside; the largest group is `duplicate` with 6 rows."
    )


def test_quarantine_takeaway_when_nothing_was_rejected():
    report = {"rows_in": 5, "rows_quarantined": 0, "by_reason": {"duplicate": 0}}
    assert narrative.quarantine_takeaway(report, cleaning.reason_table(report)) == (
        "0 of 5 rows (0.00%) were set aside; no rule rejected anything."
    )


@pytest.mark.parametrize("last_purchases, ending", [
    # busiest: 10,000 over 100 purchases (100 each); last 2,000 over 20 (100 each): same value
    (20, ": the change is in how many purchases are made (bottom panel), not in their value."),
    # last 2,000 over 40 purchases (50 each): half the value per purchase
    (40, ": the value of a purchase changed too, not only how many are made."),
], ids=["fewer-purchases", "cheaper-purchases"])
def test_activity_takeaway_compares_busiest_and_last_month(last_purchases, ending):
    monthly = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
                            "purchases": [100, 50, last_purchases], "revenue": [10000.0, 4000.0, 2000.0]})
    per_last = 2000 / last_purchases
    assert narrative.activity_takeaway(REPORT, monthly, "Shop", "$") == (
        "40 customers of Shop made 990 clean purchases between 2024-01-05 and 2024-03-20; "
        "the busiest month was January 2024 with $10,000 in revenue, and the last month, "
        "March 2024, brought 20% of that. A purchase was worth $100.00 on average then and "
        f"${per_last:.2f} in the last month" + ending
    )


def test_activity_takeaway_without_clean_rows():
    empty = cleaning.monthly_activity(pd.DataFrame({"customer_id": [], "date": pd.to_datetime([]), "amount": []}))
    assert narrative.activity_takeaway(REPORT, empty, "Shop") == "no clean purchases remain — check the rules above."


def test_order_values_takeaway():
    summary = cleaning.order_value_summary(pd.Series([1.0, 2.0, 3.0, 4.0, 100.0]))
    assert summary["median"] == 3.0 and summary["p90"] == pytest.approx(61.6)
    assert narrative.order_values_takeaway(summary, "€") == (
        "half of all purchases are worth less than €3.00 and nine in ten less than €61.60; "
        "the long right tail is where the most valuable orders sit."
    )


@pytest.mark.parametrize("staged, expected", [
    (True, " (staged; they replace the previous products when the whole run succeeds)."),
    (False, " in `/tmp/out`."),
], ids=["staged", "by-hand"])
def test_products_written(staged, expected):
    assert narrative.products_written(staged, "/tmp/out") == (
        "Written: `transactions.parquet`, `quarantine.parquet`, `cleaning_report.json`" + expected
    )


def test_next_checks_one_item_per_rule_that_fired():
    text = narrative.next_checks(REPORT)
    assert text.splitlines() == [
        "* 6 exact duplicate rows were quarantined. Map an order id (`columns.order_id`) to make "
        "duplicate detection exact. If identical lines are real repeat orders in your system, set "
        "`duplicates: keep`.",
        "* 4 dates did not parse: set `date_format` (and `dayfirst`) to the export's format.",
    ]


def test_next_checks_with_an_order_id_and_detected_personal_data():
    report = {**REPORT, "by_reason": {"duplicate": 1}, "pii_detected": ["phone"],
              "columns": {**REPORT["columns"], "order_id": "order"}}
    lines = narrative.next_checks(report).splitlines()
    assert "They share an order id — a double load?" in lines[0]
    assert lines[1] == ("* Columns that looked personal were dropped automatically: add them to "
                        "`pii_columns` so the intent is explicit.")


def test_next_checks_when_all_is_well():
    report = {**REPORT, "by_reason": {"duplicate": 0}}
    assert narrative.next_checks(report) == (
        "* No rule rejected more than it should: the clean transactions are ready for segmentation."
    )


def test_narrative_needs_the_report_keys():
    with pytest.raises(KeyError):
        narrative.personal_data_note({"pii_dropped": []})


# --- the tables shown beside the sentences -----------------------------------------------------


def test_accounting_money_and_mapping_tables():
    acc = cleaning.accounting_table(REPORT)
    assert acc["rows"].tolist() == [1000, 990, 10] and acc["share"].tolist() == ["100.00%", "99.00%", "1.00%"]
    money = cleaning.money_table({"amount_clean": 750.0, "amount_quarantined": 250.0}, "$")
    assert money["amount"].tolist() == ["$750.00", "$250.00"] and money["share"].tolist() == ["75.00%", "25.00%"]
    mapping = cleaning.mapping_table({"customer_id": "id", "date": "day", "quantity": None})
    assert mapping.to_dict("list") == {"canonical name": ["customer_id", "date"], "column in the file": ["id", "day"]}
