"""The summary report's pure functions on tiny hand-built products, and a slow two-run test."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from crmlab import report, segmentation
from crmlab.errors import InputError

from conftest import ROOT

OBS = "1998-06-30"
P = {"active_days": 90, "top_share": 1 / 3, "currency": "$", "watch_tiers": ["high", "medium"],
     "watch_stages": ["at risk"], "high_risk_band": "high", "drift_tolerance": 0.25}


@pytest.fixture
def tx():
    # A: two purchase days (1 repeat), last 10 days before OBS; B: two rows on one day (merged:
    # no repeat), last 121 days before; C: bought on OBS; D: after OBS (ignored everywhere).
    return pd.DataFrame(
        {
            "customer_id": ["A", "A", "B", "B", "C", "D"],
            "date": pd.to_datetime(
                ["1998-01-01", "1998-06-20", "1998-03-01", "1998-03-01", "1998-06-30", "1998-07-05"]
            ),
            "amount": [10.0, 20.0, 5.0, 5.0, 65.0, 1000.0],
        }
    )


@pytest.fixture
def customers():
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c5"],
            "value_tier": ["high", "medium", "high", "low", "medium"],
            "lifecycle_stage": ["at risk", "at risk", "active", "at risk", "lapsed"],
            "rfm_segment": ["Cannot lose", "At risk", "Champions", "Lost", "Hibernating"],
            "total_spend": [100.0, 300.0, 50.0, 5.0, 20.0],
            "days_since_last": [80.0, 60.0, 3.0, 200.0, 400.0],
        }
    )


# --- stage overview ---------------------------------------------------------------------------

STAGES = [
    {"name": "cleaning", "skip_reason": None, "produces": ("transactions.parquet",)},
    {"name": "satisfaction", "skip_reason": "no 'survey:' section in the params",
     "produces": ("satisfaction.json",)},
]


@pytest.mark.parametrize(
    "manifest, found, expected",
    [
        ({"cleaning": {"status": "success"}, "satisfaction": {"status": "skipped", "reason": "no survey"}},
         {"transactions.parquet": "this run", "satisfaction.json": "earlier run"},
         [("cleaning", "ran", True, "products of this run"),
          ("satisfaction", "skipped", False, "skipped: no survey (older product files are ignored)")]),
        ({}, {"transactions.parquet": "earlier run"},
         [("cleaning", "not in this run", True, "products of an earlier run (the stage did not run now)"),
          ("satisfaction", "skipped", False, "skipped: no 'survey:' section in the params")]),
        ({}, {},
         [("cleaning", "not in this run", False,
           "no products found; run it with: crmlab run --only cleaning"),
          ("satisfaction", "skipped", False, "skipped: no 'survey:' section in the params")]),
        (None, {"transactions.parquet": "earlier run", "satisfaction.json": "earlier run"},
         [("cleaning", "by hand", True, "products of an earlier run (the stage did not run now)"),
          ("satisfaction", "skipped", False,
           "skipped: no 'survey:' section in the params (older product files are ignored)")]),
    ],
    ids=["ran-and-stale-skip", "only-earlier-products", "only-missing-products", "by-hand"],
)
def test_stage_overview_never_uses_a_skipped_stage(manifest, found, expected):
    out = report.stage_overview(STAGES, manifest, found)
    got = list(zip(out["stage"], out["status"], out["use"], out["note"], strict=True))
    assert got == expected


def test_stage_overview_marks_missing_products_and_needs_names():
    stages = [{"name": "churn", "skip_reason": None, "produces": ("a.parquet", "b.json")}]
    out = report.stage_overview(stages, {"churn": {"status": "success"}}, {"a.parquet": "this run"})
    assert out.loc[0, "products"] == "a.parquet, b.json (missing)"
    assert out.loc[0, "note"] == "products of this run; missing: b.json"
    with pytest.raises(InputError, match="needs a 'name'"):
        report.stage_overview([{"produces": ()}], None, {})


def test_reading_stages_names_what_is_missing():
    ov = report.stage_overview(STAGES, {}, {"transactions.parquet": "earlier run"})
    text = report.reading_stages(ov)
    assert text.startswith("Built from the products of 1 stage(s): cleaning.")
    assert "**satisfaction** — skipped: no 'survey:' section" in text
    with pytest.raises(InputError, match="'use' missing"):
        report.reading_stages(ov.drop(columns="use"))


# --- KPIs -------------------------------------------------------------------------------------


def test_customer_kpis_by_hand(tx):
    k = report.customer_kpis(tx, OBS, P)
    # active window (1998-04-01, 1998-06-30]: A and C; revenue 10+20+5+5+65; recent 20+65
    assert k["customers"] == 3 and k["active_customers"] == 2
    assert k["revenue"] == pytest.approx(105.0) and k["revenue_recent"] == pytest.approx(85.0)
    assert k["repeat_rate"] == pytest.approx(1 / 3)
    # Lorenz curve of [10 (B), 30 (A), 65 (C)]: the top third of customers make 65 / 105
    assert k["top_share_revenue"] == pytest.approx(65 / 105)


def test_customer_kpis_without_observation_end_uses_the_last_date(tx):
    k = report.customer_kpis(tx, None, P)
    assert k["customers"] == 4 and k["revenue"] == pytest.approx(1105.0)


def test_customer_kpis_missing_column(tx):
    with pytest.raises(InputError, match="transactions: required column 'amount' missing"):
        report.customer_kpis(tx.drop(columns="amount"), OBS, P)


def test_headline_kpis_from_every_product(tx, customers):
    values = pd.DataFrame({"customer_id": ["c1", "c2"], "clv": [10.0, 2.5]})
    sat = {"satisfaction_index": 71.25, "drivers": {}}
    scores = pd.DataFrame({"row": [0, 1, 2], "risk_band": ["high", "low", "high"]})
    warn = pd.DataFrame({"customer_id": ["A", "B", "C"], "warning": [True, False, True]})
    k = report.headline_kpis(tx, customers, values, sat, scores, warn, OBS, P)
    assert k["watch_list"] == 2  # c1 (high, at risk), c2 (medium, at risk); c4 is low tier
    assert k["predicted_value"] == pytest.approx(12.5)
    assert k["satisfaction_index"] == pytest.approx(71.25)
    assert k["high_risk_customers"] == 2 and k["warning_flags"] == 2
    assert k["customers"] == 3
    assert set(k) == set(report.KPI_NAMES)


def test_headline_kpis_missing_products_are_none_and_fallbacks_work():
    sat = {"constructs": {"Satisfaction": {"index_0_100": 64.0}}}
    flags = pd.DataFrame({"customer_id": ["x"], "flag": [True]})
    values = pd.DataFrame({"customer_id": ["x"], "predicted_holdout_value": [3.0]})
    k = report.headline_kpis(satisfaction=sat, churn_warning=flags, value_predictions=values,
                             outcome="Satisfaction")
    assert k["satisfaction_index"] == 64.0 and k["warning_flags"] == 1 and k["predicted_value"] == 3.0
    assert k["customers"] is None and k["watch_list"] is None and k["high_risk_customers"] is None


def test_headline_kpis_bad_churn_scores():
    with pytest.raises(InputError, match="churn_scores: required column 'risk_band' missing"):
        report.headline_kpis(churn_scores=pd.DataFrame({"row": [0]}))


@pytest.mark.parametrize(
    "name, value, expected",
    [("customers", 23570, "23,570"), ("revenue", 2495982.75, "$2,495,983"),
     ("repeat_rate", 0.48858, "48.9%"), ("satisfaction_index", 73.44, "73.4 / 100"),
     ("watch_list", None, "n/a"), ("revenue", float("nan"), "n/a")],
    ids=["count", "money", "share", "index", "none", "nan"],
)
def test_format_kpi(name, value, expected):
    assert report.format_kpi(name, value, "$") == expected


def test_format_kpi_unknown_name():
    with pytest.raises(InputError, match="unknown KPI 'nps'"):
        report.format_kpi("nps", 1)


def test_kpi_cards_html_shows_values_changes_and_no_script():
    cards = report.kpi_cards_html({"watch_list": 110, "repeat_rate": 0.5, "revenue": None},
                                  {"watch_list": 100, "repeat_rate": 0.45}, "$", {"watch_list": "<b>"})
    assert "110" in cards and "▲ +10.0% vs last run" in cards
    assert "▲ +5.0 pts vs last run" in cards  # shares change in percentage points
    assert "#c62828" in cards and "#2e7d32" in cards  # watch list up is bad, repeat rate up good
    assert "&lt;b&gt;" in cards and "<script" not in cards
    assert "vs last run" not in report.kpi_cards_html({"watch_list": 1})
    with pytest.raises(InputError, match="mapping"):
        report.kpi_cards_html([1, 2])


def test_kpi_readings_one_line_per_kpi_and_missing_reasons(tx):
    kpis = report.headline_kpis(tx, observation_end=OBS, params=P)
    text = report.kpi_readings(kpis, P, "$", {"satisfaction": "skipped: no survey"})
    lines = text.splitlines()
    assert len(lines) == len(report.KPIS)
    assert "2 of them (67%) bought in the last 90 days" in text
    assert "- **Satisfaction index**: not available — skipped: no survey." in lines
    with pytest.raises(InputError, match="mapping"):
        report.kpi_readings(None)


@pytest.mark.parametrize(
    "as_of, want, absent",
    [
        ("1998-06-30", "Refitted on all purchases up to 1998-06-30", "today's"),
        (None, "over the next 12 months", "Refitted"),
    ],
)
def test_kpi_readings_clv_sentence_names_its_date(as_of, want, absent):
    kpis = {k: None for k in report.KPI_NAMES} | {"predicted_value": 1234.5}
    text = report.kpi_readings(kpis, P, "$", {}, 12, clv_as_of=as_of)
    line = next(ln for ln in text.splitlines() if "Predicted customer value" in ln)
    assert want in line and absent not in line and "$1,234" in line


def test_kpi_notes_units_and_unavailable():
    notes = report.kpi_notes(P, 12)
    assert notes["active_customers"] == "bought in the last 90 days"
    assert notes["predicted_value"].endswith("12 months")
    assert report.kpi_units("$")["revenue"] == "amount ($)"
    assert report.unavailable("churn", {"churn": "skipped"}) == (
        "*Not available in this run — the **churn** stage: skipped.*")
    with pytest.raises(InputError, match="stage name"):
        report.unavailable("")
    with pytest.raises(InputError, match="mapping"):
        report.kpi_notes(["active_days"])


# --- drivers, watch list, churn bands ----------------------------------------------------------


def test_top_drivers_ranks_and_keeps_or_derives_quadrants():
    sat = {"drivers": {
        "Image": {"importance": 0.4, "performance": 60.0},
        "Quality": {"importance": 0.5, "performance": 80.0, "quadrant": "keep up the good work"},
        "Value": {"importance": 0.1, "performance": 90.0},
    }}
    expected = pd.DataFrame({
        "construct": ["Quality", "Image", "Value"],
        "importance": [0.5, 0.4, 0.1],
        "performance": [80.0, 60.0, 90.0],
        # cross-hair in the middle of the range: importance 0.3, performance 75
        "quadrant": ["keep up the good work", "concentrate here", "possible overkill"],
        "actionable": [True, True, True],
    })
    got = report.top_drivers(sat)
    assert_frame_equal(got, expected, check_dtype=False)
    assert got.attrs["crosshair"] == pytest.approx((0.3, 75.0))


@pytest.mark.parametrize(
    "ipm, actionable, quadrants, levers, phrase",
    [(None, None, ["concentrate here", "possible overkill"], [True, False],
      "improve 'Quality' first"),
     ({"importance_cut": 0.6, "performance_cut": 40.0}, False,
      ["keep up the good work", "possible overkill"], [False, False],
      "no driver the firm can act on")],
    ids=["derived-expectation-not-a-lever", "stage-cross-hair-and-flags"],
)
def test_top_drivers_cross_hair_and_levers(ipm, actionable, quadrants, levers, phrase):
    sat = {"drivers": {
        "Quality": {"importance": 0.7, "performance": 50.0},
        "Expectation": {"importance": 0.3, "performance": 90.0},
    }}
    if actionable is not None:
        sat["drivers"]["Quality"]["actionable"] = actionable
    if ipm is not None:
        sat["ipm"] = ipm
    got = report.top_drivers(sat)
    assert got["quadrant"].tolist() == quadrants and got["actionable"].tolist() == levers
    if ipm is not None:
        assert got.attrs["crosshair"] == (0.6, 40.0)
    assert phrase in report.reading_drivers(got, "Satisfaction")


@pytest.mark.parametrize(
    "sat, match",
    [({}, "'drivers' missing or empty"),
     ({"drivers": {"Image": {"importance": 0.4}}}, "drivers.Image: key 'performance' missing")],
    ids=["no-drivers", "no-performance"],
)
def test_top_drivers_errors(sat, match):
    with pytest.raises(InputError, match=match):
        report.top_drivers(sat)


def test_tier_watch_table_filters_sorts_and_adds_value(customers):
    values = pd.DataFrame({"customer_id": ["c2", "c1", "c3"], "clv": [7.0, 8.0, 9.0],
                           "p_alive": [0.2, 0.9, 0.5]})
    out = report.tier_watch_table(customers, P, values)
    expected = pd.DataFrame({
        "customer_id": ["c2", "c1"], "value_tier": ["medium", "high"],
        "lifecycle_stage": ["at risk", "at risk"], "rfm_segment": ["At risk", "Cannot lose"],
        "total_spend": [300.0, 100.0], "days_since_last": [60.0, 80.0],
        "clv": [7.0, 8.0], "p_alive": [0.2, 0.9],
    })
    assert_frame_equal(out, expected, check_dtype=False)
    only_high = report.tier_watch_table(customers, {**P, "watch_tiers": ["high"]})
    assert only_high["customer_id"].tolist() == ["c1"]


def test_tier_watch_table_needs_lifecycle(customers):
    with pytest.raises(InputError, match="'lifecycle_stage' missing"):
        report.tier_watch_table(customers.drop(columns="lifecycle_stage"), P)


def test_risk_band_table():
    scores = pd.DataFrame({
        "risk_band": ["low", "high", "high", "medium", "low"],
        "churn_probability": [0.1, 0.9, 0.7, 0.5, 0.2],
        "split": ["test", "test", "train", "test", "test"],
        "actual": [0, 1, 1, 0, 1],
    })
    expected = pd.DataFrame({
        "risk_band": ["high", "medium", "low"], "customers": [2, 1, 2],
        "share": [0.4, 0.2, 0.4], "mean_probability": [0.8, 0.5, 0.15],
        "test_churn_rate": [1.0, 0.0, 0.5],
    })
    assert_frame_equal(report.risk_band_table(scores), expected, check_dtype=False)
    with pytest.raises(InputError, match="'churn_probability' missing"):
        report.risk_band_table(scores.drop(columns="churn_probability"))


def test_risk_band_table_of_current_customers_checks_bands_by_score():
    # action bands hold current customers; churned rows are their own band. The test churn
    # rate comes from the band each test row's probability falls in (score_band).
    scores = pd.DataFrame({
        "risk_band": ["high", "churned", "medium", "churned", "low", "low"],
        "score_band": ["high", "high", "medium", "low", "low", "low"],
        "churn_probability": [0.8, 0.9, 0.5, 0.1, 0.2, 0.1],
        "split": ["test", "test", "test", "test", "test", "train"],
        "actual": [0, 1, 0, 1, 0, 0],
    })
    expected = pd.DataFrame({
        "risk_band": ["high", "medium", "low", "churned"], "customers": [1, 1, 2, 2],
        "share": [1 / 6, 1 / 6, 2 / 6, 2 / 6], "mean_probability": [0.8, 0.5, 0.15, 0.5],
        "test_churn_rate": [0.5, 0.0, 0.5, 1.0],
    })
    assert_frame_equal(report.risk_band_table(scores), expected, check_dtype=False)


@pytest.mark.parametrize(
    "scores, expected",
    [
        (pd.DataFrame({"risk_band": ["high", "churned", "high"], "actual": [0, 1, 0]}), 2),
        # an old product banded churned rows too: they are still not at risk
        (pd.DataFrame({"risk_band": ["high", "high", "high"], "actual": [0, 1, 1]}), 1),
        (pd.DataFrame({"risk_band": ["high", "low", "churned"]}), 1),
    ],
    ids=["churned-band", "old-product", "no-actual-column"],
)
def test_high_risk_kpi_counts_current_customers_only(scores, expected):
    k = report.headline_kpis(churn_scores=scores, params=P)
    assert k["high_risk_customers"] == expected
    steps = report.next_steps(k)
    assert f"Hand the {expected:,} current customers at high churn risk" in steps


# --- readings ---------------------------------------------------------------------------------


def test_reading_segments_uses_segmentation_profiles(customers):
    cust = customers.assign(purchase_days=[3, 2, 5, 1, 1], spend_per_line=[30.0, 150, 10, 5, 20])
    profiles = segmentation.segment_profiles(cust, "rfm_segment")
    text = report.reading_segments(profiles)
    assert text.startswith("'At risk' carries the most revenue (63% from 20% of customers) — personalised")
    with pytest.raises(InputError, match="'action' missing"):
        report.reading_segments(profiles.drop(columns="action"))


def test_reading_tiers_counts_slipping_high_tier(customers):
    tiers = segmentation.tier_table(customers, {"high": 0.5, "medium": 0.8})
    life = segmentation.lifecycle_table(customers)
    text = report.reading_tiers(tiers, life, ["at risk"])
    assert text.startswith("The high tier is 40% of customers and 32% of revenue; 1 of them are 'at risk'")
    with pytest.raises(InputError, match="'revenue_share' missing"):
        report.reading_tiers(tiers.drop(columns="revenue_share"), life, ["at risk"])


def test_reading_drivers_and_watch(customers):
    drivers = report.top_drivers({"drivers": {"A": {"importance": 0.7, "performance": 50.0},
                                              "B": {"importance": 0.3, "performance": 90.0}}})
    text = report.reading_drivers(drivers, "Satisfaction")
    assert text == ("'A' matters most for Satisfaction (70% of the explained variance) and scores "
                    "50/100; improve 'A' first (more important than most drivers but only 50/100).")
    expectation = report.top_drivers({"drivers": {
        "Expectation": {"importance": 0.7, "performance": 50.0},
        "B": {"importance": 0.3, "performance": 90.0}}})
    assert report.reading_drivers(expectation, "Satisfaction").endswith(
        "no driver the firm can act on is both important and weak — keep up the current level; "
        "'Expectation' is important and weak too, but not a lever: shape it through what the "
        "firm promises, do not budget for it as such.")
    assert "Improve" not in report.next_steps({}, None, expectation)
    watch = report.tier_watch_table(customers, P)
    assert report.reading_watch(watch, P, "$").startswith(
        "2 high/medium-tier customers are 'at risk', who have spent $400 so far")
    assert report.reading_watch(watch.iloc[:0], P).startswith("No high/medium-tier customer")
    with pytest.raises(InputError, match="'quadrant' missing"):
        report.reading_drivers(drivers.drop(columns="quadrant"))
    with pytest.raises(InputError, match="'customer_id' missing"):
        report.reading_watch(pd.DataFrame({"x": [1]}))


# --- state for the next run, comparisons -------------------------------------------------------


def test_customer_snapshot(customers):
    watch = report.tier_watch_table(customers, P)
    snap = report.customer_snapshot(customers.iloc[::-1], watch)
    assert snap["customer_id"].tolist() == ["c1", "c2", "c3", "c4", "c5"]
    assert snap["on_watch_list"].tolist() == [True, True, False, False, False]
    assert snap.columns.tolist() == ["customer_id", "value_tier", "lifecycle_stage", "rfm_segment",
                                     "total_spend", "on_watch_list"]
    with pytest.raises(InputError, match="'value_tier' missing"):
        report.customer_snapshot(customers.drop(columns="value_tier"))


def test_input_profile_combines_sources(tx):
    profile = report.input_profile(
        {"transactions": {"columns": ["id", "day", "usd"], "sha256": "abc"}, "churn": {"columns": ["x"]}},
        {"rows_in": 7, "rows_clean": 6, "rows_quarantined": 1},
        tx, pd.DataFrame({"row": range(4)}), {"n_respondents": 250},
    )
    assert profile == {
        "transactions": {"columns": ["id", "day", "usd"], "sha256": "abc", "rows": 7,
                         "rows_clean": 6, "rows_quarantined": 1, "date_min": "1998-01-01",
                         "date_max": "1998-07-05", "customers": 4},
        "churn": {"columns": ["x"], "rows": 4},
        "survey": {"rows": 250},
    }
    json.dumps(profile)  # the next run reads it back from JSON
    with pytest.raises(InputError, match="'date' missing"):
        report.input_profile(transactions=tx.drop(columns="date"))


def test_compare_kpis_and_change_table():
    out = report.compare_kpis({"customers": 100, "repeat_rate": 0.40, "watch_list": 0},
                              {"customers": 110, "repeat_rate": 0.35, "watch_list": 4,
                               "revenue": 5.0})
    row = out.set_index("kpi")
    assert row.loc["customers", "change"] == 10 and row.loc["customers", "change_pct"] == pytest.approx(0.1)
    assert row.loc["repeat_rate", "change"] == pytest.approx(-0.05)
    assert math.isnan(row.loc["watch_list", "change_pct"])  # from zero: no relative change
    assert math.isnan(row.loc["revenue", "previous"]) and math.isnan(row.loc["revenue", "change"])
    assert list(out["kpi"]) == ["customers", "revenue", "repeat_rate", "watch_list"]  # KPIS order
    table = report.kpi_change_table(out, "$").set_index("KPI")
    assert table.loc["Repeat-purchase rate"].tolist() == ["40.0%", "35.0%", "▼ -5.0 pts"]
    assert table.loc["Revenue (all data)"].tolist() == ["n/a", "$5", ""]
    with pytest.raises(InputError, match="mappings"):
        report.compare_kpis(None, {})
    with pytest.raises(InputError, match="'previous' missing"):
        report.kpi_change_table(out.drop(columns="previous"))


def _snap(pairs):
    return pd.DataFrame({"customer_id": [c for c, _ in pairs], "value_tier": [t for _, t in pairs]})


def test_migration_summary_counts_every_customer_once():
    before = _snap([("a", "high"), ("b", "medium"), ("c", "low"), ("d", "high"), ("e", "low")])
    after = _snap([("a", "medium"), ("b", "high"), ("c", "low"), ("d", "high"), ("f", "low")])
    moves = segmentation.transition_matrix(before, after, "value_tier", order=segmentation.TIER_ORDER)
    assert report.migration_summary(moves) == {"up": 1, "down": 1, "same": 2, "new": 1, "gone": 1}
    bad = moves.rename(index={"low": "bronze"})
    with pytest.raises(InputError, match="'bronze' is not one of"):
        report.migration_summary(bad)


@pytest.mark.parametrize(
    "summary, start",
    [({"up": 0, "down": 0, "same": 5, "new": 0, "gone": 0}, "No customer changed value tier"),
     ({"up": 1, "down": 3, "same": 5, "new": 2, "gone": 0},
      "Since the previous run 1 customers moved up a tier and 3 moved down; 2 are new — more are slipping")],
    ids=["no-moves", "more-down"],
)
def test_reading_migrations(summary, start):
    assert report.reading_migrations(summary).startswith(start)


def test_reading_migrations_needs_a_mapping():
    with pytest.raises(InputError, match="mapping"):
        report.reading_migrations([1, 2])


def test_new_watch_entries(customers):
    previous = report.customer_snapshot(customers.assign(lifecycle_stage="active"))
    previous.loc[previous["customer_id"] == "c2", "on_watch_list"] = True
    watch = report.tier_watch_table(customers, P)
    assert report.new_watch_entries(previous, watch)["customer_id"].tolist() == ["c1"]
    with pytest.raises(InputError, match="'on_watch_list' missing"):
        report.new_watch_entries(previous.drop(columns="on_watch_list"), watch)


BASE = {"transactions": {"rows": 100, "columns": ["a", "b"], "date_min": "1997-01-01",
                         "date_max": "1998-03-31", "sha256": "f" * 64}}


@pytest.mark.parametrize(
    "change, check, flag, note",
    [({"rows": 120}, "rows", False, "within tolerance"),
     ({"rows": 130}, "rows", True, "changed by more than 25%"),
     ({"columns": ["a", "c"]}, "columns", True, "columns changed: check the export layout"),
     ({"date_max": "1998-06-30"}, "date range", False, "data extends further"),
     ({"date_min": "1997-02-01"}, "date range", True,
      "first date changed: older history was added or removed"),
     ({"date_max": "1998-01-31"}, "date range", True, "last date moved backwards"),
     ({}, "file content", False, "identical file: was a fresh export expected?")],
    ids=["rows-ok", "rows-drift", "columns", "dates-extend", "dates-start", "dates-back", "same-file"],
)
def test_input_drift(change, check, flag, note):
    current = {"transactions": {**BASE["transactions"], **change}}
    out = report.input_drift(BASE, current, 0.25).set_index("check")
    assert out.loc[check, "flag"] == flag and out.loc[check, "note"] == note
    if check == "columns":
        assert out.loc["columns", "change"] == "new: c; missing: b"


def test_input_drift_added_input_and_errors():
    out = report.input_drift(BASE, {**BASE, "churn": {"rows": 5}}, 0.25)
    assert out.iloc[-1].tolist() == ["churn", "input", "absent", "present", "input added", True,
                                     "input added since the previous run"]
    with pytest.raises(InputError, match="tolerance must be >= 0"):
        report.input_drift(BASE, BASE, -0.1)


def test_reading_drift():
    clean = report.input_drift(BASE, BASE, 0.25)
    assert report.reading_drift(clean).startswith("The inputs look like last time's")
    drifted = report.input_drift(BASE, {"transactions": {**BASE["transactions"], "rows": 10}}, 0.25)
    assert report.reading_drift(drifted) == (
        "Check the inputs before trusting the changes above — transactions rows: changed by "
        "more than 25%.")
    with pytest.raises(InputError, match="'flag' missing"):
        report.reading_drift(clean.drop(columns="flag"))


def test_next_steps_orders_trust_before_action():
    drift = report.input_drift(BASE, {"transactions": {**BASE["transactions"], "rows": 10}}, 0.25)
    drivers = report.top_drivers({"drivers": {"A": {"importance": 0.7, "performance": 50.0},
                                              "B": {"importance": 0.3, "performance": 90.0}}})
    text = report.next_steps({"watch_list": 12, "high_risk_customers": 0, "repeat_rate": 0.3},
                             3, drivers, drift, {"churn": "skipped: no churn section"})
    assert text.splitlines() == [
        "1. Check the input data first: 1 input drift check(s) flagged — the changes may come "
        "from the export, not from customers.",
        "2. Call the 12 customers on the watch list (3 new since the last run), biggest spenders first.",
        "3. Improve 'A': it drives satisfaction and scores below the other drivers.",
        "4. Work on the second purchase: most customers bought only once.",
        "5. Fill the gap: the churn stage is not in this report (skipped: no churn section).",
    ]
    assert report.next_steps({}) == "1. Nothing urgent: keep the programme running and watch the trends."
    with pytest.raises(InputError, match="mapping"):
        report.next_steps(None)


# --- history ----------------------------------------------------------------------------------


def test_history_row_and_append_replaces_the_same_run():
    r1 = report.history_row("r1", "2024-01-07T00:00:00+00:00", "2024-01-06", ["cleaning", "report"],
                            {"customers": 10, "repeat_rate": 0.5})
    assert r1.loc[0, "stages"] == "cleaning;report" and r1.loc[0, "customers"] == 10.0
    assert math.isnan(r1.loc[0, "watch_list"])
    old = pd.DataFrame({"run_id": ["r0"], "legacy": ["x"]})
    hist = report.append_history(old, r1)
    assert hist["run_id"].tolist() == ["r0", "r1"] and hist.columns[-1] == "legacy"
    again = report.append_history(hist, report.history_row("r1", kpis={"customers": 11}))
    assert again["run_id"].tolist() == ["r0", "r1"] and again.loc[1, "customers"] == 11.0
    assert_frame_equal(report.append_history(None, r1), r1)
    with pytest.raises(InputError, match="run_id must not be empty"):
        report.history_row("")
    with pytest.raises(InputError, match="'run_id' missing"):
        report.append_history(old, pd.DataFrame({"x": [1]}))


def test_trend_table_labels_and_kpis():
    hist = pd.concat([
        report.history_row("r0", "2024-01-01T10:00:00+00:00", "2023-12-31", ["cleaning"]),
        report.history_row("r1", "2024-01-08T10:00:00+00:00", "2024-01-07", ["report"],
                           {"watch_list": 5, "repeat_rate": 0.4}),
    ], ignore_index=True)
    now = report.history_row("now", None, "2024-01-14", ["report"], {"watch_list": 7})
    trend = report.trend_table(hist, now)
    assert trend["run_id"].tolist() == ["r1", "now"]  # r0 has no KPIs: not a point
    assert report.trend_labels(trend) == ["2024-01-08 10:00\n(to 2024-01-07)", "this run\n(to 2024-01-14)"]
    assert report.trend_kpis(trend) == ["watch_list"]  # repeat_rate has one value only
    with pytest.raises(InputError, match="'run_id' missing"):
        report.trend_labels(pd.DataFrame({"x": [1]}))
    with pytest.raises(InputError, match="'run_id' missing"):
        report.trend_table(hist, pd.DataFrame({"x": [1]}))
    with pytest.raises(InputError, match="DataFrame"):
        report.trend_kpis(None)


# --- end to end: two scheduled runs -------------------------------------------------------------


def _crmlab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crmlab.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=900)


@pytest.mark.slow
def test_two_runs_compare_tiers_and_keep_history(tmp_path):
    needed = ["01_data_cleaning.ipynb", "02_segmentation.ipynb", "07_summary_report.ipynb"]
    absent = [n for n in needed if not (ROOT / "notebooks" / n).exists()]
    if absent:
        pytest.skip(f"notebooks not built yet: {', '.join(absent)}")
    where = ["--set", f"paths.processed={tmp_path / 'processed'}",
             "--set", f"paths.outputs={tmp_path / 'outputs'}"]
    # only the stages the comparison needs, and no cluster search or bootstrap: fast
    only = ["--only", "cleaning,segmentation,report", "--no-progress",
            "--set", "segmentation.k=3", "--set", "segmentation.bootstrap=0"]
    for obs in ("1998-03-31", "1998-06-30"):
        out = _crmlab("run", "--params", "params/test.yaml", *only, *where,
                      "--set", f"periods.observation_end={obs}")
        assert out.returncode == 0, out.stderr[-3000:]
    runs = tmp_path / "outputs" / "test"
    latest = (runs / "latest").resolve()
    assert out.stdout.strip().splitlines()[-1] == f"report: {latest / 'report.html'}"
    history = pd.read_csv(runs / "history.csv", dtype={"run_id": str})
    assert len(history) == 2
    assert history["observation_end"].tolist() == ["1998-03-31", "1998-06-30"]
    assert history["run_id"].iloc[-1] == latest.name
    assert history["customers"].notna().all()
    moves = pd.read_csv(latest / "tables" / "report_tier_moves.csv", index_col=0)
    tiers = list(segmentation.TIER_ORDER)
    block = moves.loc[tiers, tiers].to_numpy()
    assert block.sum() - np.trace(block) > 0, "some customers changed tier between the runs"
    html = (latest / "report.html").read_text(encoding="utf-8")
    assert "8. Since the last run" in html and "Value-tier moves" not in html.split("8. Since")[0]
    assert html.count("data:image/png;base64,") >= 4  # segments, tiers, moves, trends
    assert "<script" not in html and "Traceback" not in html
    assert "skipped" in html or "not in this run" in html  # value/satisfaction/churn did not run
    kpis = json.loads((latest / "kpis.json").read_text())
    assert kpis["observation_end"] == "1998-06-30"


# --- data sources: one report, several data sets (issue 13, item 4) -----------------------------

SOURCES = {"transactions": "CDNOW", "survey": "ECSI", "churn": "Telco"}


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"transactions": {"path": "/data/raw/cdnow/CDNOW_master.txt", "source": None},
          "survey": {"path": "data/mobi.csv"}, "churn": None},
         {"transactions": "CDNOW_master.txt", "survey": "mobi.csv"}),
        ({"transactions": {"path": "x.csv", "source": "CD shop"},
          "churn": {"path": "c:/t/telco.csv", "source": "Telco"}},
         {"transactions": "CD shop", "churn": "Telco"}),
        ({}, {}),
    ],
    ids=["file-names", "configured-labels", "no-inputs"],
)
def test_data_sources_label_or_file_name(params, expected):
    assert report.data_sources(params) == expected


def test_data_sources_errors():
    with pytest.raises(InputError, match="params.survey: neither 'source' nor 'path'"):
        report.data_sources({"survey": {"source": None, "path": None}})
    with pytest.raises(InputError, match="params.churn: expected a mapping"):
        report.data_sources({"churn": "telco.csv"})


def test_every_kpi_names_its_own_data_set():
    # the early warning is a churn-stage KPI computed from purchases, not from the churn table
    assert report.KPI_INPUTS["warning_flags"] == "transactions"
    assert report.KPI_INPUTS["high_risk_customers"] == "churn"
    assert report.KPI_INPUTS["satisfaction_index"] == "survey"
    assert set(report.KPI_INPUTS) == set(report.KPI_NAMES)
    kpis = dict.fromkeys(report.KPI_NAMES, 1)
    lines = report.kpi_readings(kpis, P, "$", sources=SOURCES).splitlines()
    assert len(lines) == len(report.KPIS)
    for k, line in zip(report.KPIS, lines, strict=True):
        where = report.source_note(SOURCES, report.KPI_INPUTS[k.name])
        assert line.startswith(f"- **{k.label}** ({where}): ")
        # no line mentions another data set's name
        others = [v for s, v in SOURCES.items() if s != report.KPI_INPUTS[k.name]]
        assert not any(o in line for o in others)
    notes = report.kpi_notes(P, 12, SOURCES)
    assert notes["satisfaction_index"] == "survey, 0-100 · ECSI"
    assert notes["warning_flags"].endswith(" · CDNOW")
    assert report.kpi_notes(P)["warning_flags"] == "lapsed vs own rhythm, up to capacity"  # no sources


def test_overdue_customers_are_a_win_back_list_not_an_early_contact():
    text = report.kpi_readings({"warning_flags": 40}, P)
    line = next(ln for ln in text.splitlines() if ln.startswith("- **Lapsed buyers to win back"))
    assert "win-back list" in line and "they have lapsed" in line
    assert "early, cheap" not in line and "not an early reminder" in line


@pytest.mark.parametrize(
    "sources, expected_start, separate",
    [
        (SOURCES, "Data sets: **purchases: CDNOW** (headline", True),
        ({"transactions": "shop.csv"}, "Data sets: **purchases: shop.csv**", False),
        ({}, "No input data set is configured.", False),
    ],
    ids=["three-data-sets", "one-data-set", "none"],
)
def test_reading_sources(sources, expected_start, separate):
    text = report.reading_sources(sources)
    assert text.startswith(expected_start)
    assert ("never added up or compared" in text) is separate


def test_source_note_and_next_steps_name_the_data_set():
    assert report.source_note(SOURCES, "churn") == "churn table: Telco"
    assert report.source_note(SOURCES, "nope") == ""
    assert report.source_note(None, "churn") == ""
    text = report.next_steps({"watch_list": 12, "repeat_rate": 0.3}, sources=SOURCES)
    assert text.splitlines() == [
        "1. Call the 12 customers of CDNOW on the watch list, biggest spenders first.",
        "2. Work on the second purchase: most customers of CDNOW bought only once.",
    ]
    with pytest.raises(InputError, match="data sources: expected a mapping"):
        report.source_note(["CDNOW"], "transactions")


@pytest.mark.parametrize(
    "value, currency, digits, expected",
    [(2500316.4, "$", 0, "$2,500,316"), (-12.5, "$", 2, "-$12.50"), (None, "$", 0, "n/a"),
     (float("nan"), "", 0, "n/a")],
    ids=["thousands", "refund", "missing", "nan"],
)
def test_report_money_uses_the_shared_formatter(value, currency, digits, expected):
    from crmlab.formatting import format_money

    assert format_money(value, currency, digits) == expected
    if digits == 0:
        assert report._money(value, currency) == expected


@pytest.mark.parametrize(
    "values, percent, expected_span",
    [([0.489, 0.489 + 1e-15], True, 0.02), ([248847.0, 248847.0 + 1e-9], False, 0.04 * 248847.0)],
    ids=["share-rounding-noise", "money-rounding-noise"],
)
def test_trend_panels_draw_rounding_noise_flat(values, percent, expected_span):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kpi = "repeat_rate" if percent else "predicted_value"
    hist = pd.DataFrame({kpi: values})
    axes = report.plot_report_trends(hist, [kpi], report.KPI_LABELS, report.kpi_units("$"),
                                     ["a", "b"], [kpi] if percent else [],
                                     money=[] if percent else [kpi], currency="$")
    lo, hi = axes[0].get_ylim()
    assert hi - lo == pytest.approx(expected_span)
    if not percent:
        assert axes[0].yaxis.get_major_formatter()(250000, 0) == "$250,000"
    plt.close(axes[0].figure)


# --- the notebook's sentences, the kpis.json document, styled tables ---------------------------


def test_notebook_sentences_name_run_data_set_and_counts():
    head = report.run_header("test", "r2", SOURCES, pd.Timestamp("1998-06-30"), "params", "r1")
    assert head == ("Run **test / r2**; purchases of CDNOW observed at **1998-06-30** (params); "
                    "compared with run **r1**.")
    assert report.run_header("test", "r2", {}, None, "", None) == (
        "Run **test / r2**; no transactions in this run; no earlier run to compare with.")
    assert report.data_set_line(SOURCES, "transactions") == "*Data set — purchases: CDNOW.*"
    assert "are not the customers of the other sections" in report.data_set_line(SOURCES, "survey")
    assert report.churn_lists_line(SOURCES).endswith("their counts are not to be added.*")
    assert report.churn_lists_line({"transactions": "CDNOW"}) == (
        "*Data sets — churn-risk bands: no churn table; watch list: purchases: CDNOW. *")
    assert report.reading_risk_bands(1234, "high").startswith("1,234 current customers are in the 'high' band")
    assert report.compared_with("r1", None) == "Compared with run **r1** (data observed at unknown)."
    assert "first successful run of **test**" in report.first_run_note("test")
    assert report.moved_down_summary(1200, 3).startswith("**1,200 customers moved down a tier**")
    # 4 earlier runs + this one, of which 3 had a report: 2 are not drawn
    assert report.trend_count(3, 4).startswith("3 runs with a report so far (2 successful runs")


def test_kpi_doc_and_missing_params():
    doc = report.kpi_doc("r1", "test", pd.Timestamp("1998-06-30 13:00"), {"customers": 3})
    assert doc == {"run_id": "r1", "run_name": "test", "observation_end": "1998-06-30",
                   "kpis": {"customers": 3}}
    assert report.kpi_doc("r1", "test", None, {})["observation_end"] is None
    with pytest.raises(InputError, match="kpis: expected a mapping"):
        report.kpi_doc("r1", "test", None, [1])
    # the schema holds the defaults: a hand-built section without the key is an error
    with pytest.raises(InputError, match="report params: key 'active_days' missing"):
        report.customer_kpis(pd.DataFrame(columns=["customer_id", "date", "amount"]), OBS, {})


def test_kpi_delta_verdicts():
    assert report.kpi_delta("watch_list", 110, 100) == ("▲ +10.0%", "bad")
    assert report.kpi_delta("repeat_rate", 0.4, 0.5) == ("▼ -10.0 pts", "bad")
    assert report.kpi_delta("top_share_revenue", 0.6, 0.5) == ("▲ +10.0 pts", "neutral")
    assert report.kpi_delta("customers", 5, 0) == ("▲ +5", "good")
    assert report.kpi_delta("customers", None, 3) == ("", "neutral")


def test_styled_tables_escape_customer_text():
    pd.set_option("styler.format.escape", "html")  # as stage_context sets it for the notebook
    try:
        watch = pd.DataFrame({"customer_id": ["<script>x</script>"], "total_spend": [1234.5],
                              "days_since_last": [12.0]})
        out = report.style_watch(watch, "$").to_html()
        assert "<script>x" not in out and "&lt;script&gt;" in out and "$1,234.50" in out
        rows = report.style_first_rows(watch.assign(customer_id="<b>x</b>")).to_html()
        assert "<b>x" not in rows and "&lt;b&gt;x" in rows
        segments = pd.DataFrame({"rfm_segment": ["<i>S</i>"], "customers": [1],
                                 "customer_share": [1.0], "revenue_share": [1.0], "action": ["a"]})
        tiers = segments.rename(columns={"rfm_segment": "value_tier", "action": "strategy"})
        for styled in (report.style_segments(segments),
                       report.style_tiers(tiers.assign(mean_spend=1.0), "$"),
                       report.style_drivers(segments), report.style_risk_bands(segments)):
            assert "&lt;i&gt;S" in styled.to_html()
    finally:
        pd.reset_option("styler.format.escape")
