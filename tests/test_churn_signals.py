"""Interaction signals in the purchase-based warning: rules, ranking, reasons, backtest."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from crmlab import churn
from crmlab.config import params_from_dict
from crmlab.errors import InputError

AS_OF = pd.Timestamp("1997-02-01")


def warning_section(**keys):
    """A validated churn_warning section: the schema's defaults plus ``keys``."""
    return params_from_dict({"churn_warning": keys}).churn_warning


def features(prefix: str = "", texts: bool = True) -> pd.DataFrame:
    """A hand-built feature table (90-day windows); the expected signals are in the comments."""
    rows = {
        # A: 2 complaints after none -> rising; sentiment 0.8 -> 0.3 on 2 + 2 texts -> falling
        # B: 1 after 1 -> not rising (their usual level); drop 0.15 < 0.2 -> not falling
        # C: no complaint; no recent text (NaN) -> nothing
        # D: 1 after 0 -> rising (one is enough); drop 0.7 but one recent text -> not falling
        # E: 3 after 4 -> not rising; drop exactly 0.2 on 2 + 2 texts -> falling (the margin is inclusive)
        "customer_id": ["A", "B", "C", "D", "E"],
        "contacts_90d": [5, 3, 0, 2, 6],
        "contacts_prev_90d": [1, 3, 1, 1, 7],
        "complaints_90d": [2, 1, 0, 1, 3],
        "complaints_prev_90d": [0, 1, 0, 0, 4],
        "sentiment_mean": [0.5, 0.6, 0.9, 0.5, 0.6],
        "sentiment_90d": [0.3, 0.5, np.nan, 0.2, 0.5],
        "sentiment_prev_90d": [0.8, 0.65, 0.9, 0.9, 0.7],
        "texts_90d": [2, 3, 0, 1, 2],
        "texts_prev_90d": [2, 3, 1, 3, 2],
        "channels": [2, 1, 1, 1, 3],
    }
    df = pd.DataFrame(rows)
    if not texts:
        df = df.drop(columns=["texts_90d", "texts_prev_90d"])
    if prefix:
        df = pd.concat([df[["customer_id"]], df.drop(columns="customer_id").add_prefix(prefix)], axis=1)
    return df


@pytest.fixture
def base(warning_inputs):
    """The five customers of tests/conftest.py's warning_inputs."""
    return warning_inputs


# --- the rules ------------------------------------------------------------------------------------


def test_interaction_signals_by_hand():
    out = churn.interaction_signals(features())
    assert out["customer_id"].tolist() == list("ABCDE")
    assert out["rising_complaints"].tolist() == [True, False, False, True, False]
    assert out["falling_sentiment"].tolist() == [True, False, False, False, True]
    assert out.attrs["window_days"] == 90
    assert out.attrs["rules"] == {"min_complaints": 1, "sentiment_drop": 0.2, "min_texts": 2, "text_counts": True}


def test_without_text_counts_a_mean_in_both_windows_is_enough():
    out = churn.interaction_signals(features(texts=False))
    # D now falls (0.9 -> 0.2 with one recent text); C still not (no recent mean)
    assert out["falling_sentiment"].tolist() == [True, False, False, True, True]
    assert out.attrs["rules"]["text_counts"] is False and out.attrs["rules"]["min_texts"] == 1
    assert out["texts_recent"].isna().all()


@pytest.mark.parametrize(
    "kwargs, rising, falling",
    [({"min_complaints": 2}, [True, False, False, False, False], [True, False, False, False, True]),
     ({"sentiment_drop": 0.5}, [True, False, False, True, False], [True, False, False, False, False]),
     ({"min_texts": 3}, [True, False, False, True, False], [False, False, False, False, False])],
    ids=["two-complaints", "half-scale-drop", "three-texts"],
)
def test_interaction_signal_thresholds(kwargs, rising, falling):
    out = churn.interaction_signals(features(), **kwargs)
    assert out["rising_complaints"].tolist() == rising
    assert out["falling_sentiment"].tolist() == falling


def test_backtest_prefix_and_window_are_read_from_the_columns():
    table = pd.concat([features(), features("backtest_").drop(columns="customer_id")], axis=1)
    table["backtest_as_of"] = pd.Timestamp("1996-12-31")
    assert churn.has_backtest_features(table) and not churn.has_backtest_features(features())
    assert not churn.has_backtest_features(None)
    out = churn.interaction_signals(table, prefix="backtest_")
    assert out["rising_complaints"].tolist() == [True, False, False, True, False]
    assert out.attrs["as_of"] == "1996-12-31"
    sixty = features().rename(columns=lambda c: c.replace("90d", "60d"))
    assert churn.feature_window(sixty) == 60


@pytest.mark.parametrize(
    "table, kwargs, message",
    [(features().drop(columns="complaints_90d"), {}, "complaints_<days>d"),
     (features().drop(columns="sentiment_prev_90d"), {}, "'sentiment_prev_90d'"),
     (pd.concat([features(), features().head(1)]), {}, "more than once"),
     (features(), {"sentiment_drop": 0}, "sentiment_drop"),
     (features(), {"prefix": "backtest_"}, "backtest_complaints")],
    ids=["no-window-column", "missing-column", "duplicate-customer", "zero-margin", "no-backtest-columns"],
)
def test_interaction_signals_errors(table, kwargs, message):
    with pytest.raises(InputError, match=message):
        churn.interaction_signals(table, **kwargs)


# --- the warning ----------------------------------------------------------------------------------


def test_without_signals_the_warning_is_unchanged(base):
    params = warning_section(gap_factor=2.0, p_alive_threshold=0.3, capacity=0.4)
    plain = churn.transactional_warning(base, params)
    assert_frame_equal(churn.transactional_warning(base, params, None), plain)
    assert "interaction_signal" not in plain.columns and "interaction_signals" not in plain.attrs
    assert "interaction_signals" not in churn.warning_metrics(plain, params)


def test_signals_add_candidates_rank_first_and_give_reasons(base):
    params = warning_section(gap_factor=2.0, p_alive_threshold=0.3, capacity=0.4)
    out = churn.transactional_warning(base, params, churn.interaction_signals(features()),
                                      ranking=churn.WITH_INTERACTIONS)
    # purchase candidates A (overdue), B (low P(alive)), C (overdue); signals add D and E.
    # Signalled first, by lapse probability: E 0.99, A 0.40, D 0.20; capacity 2 -> E and A
    # (without signals: B 0.95 and C 0.70)
    assert out["candidate"].tolist() == [True] * 5
    assert out["interaction_signal"].tolist() == [True, False, False, True, True]
    assert out.loc[out["warning"], "customer_id"].tolist() == ["A", "E"]
    reasons = dict(zip(out["customer_id"], out["reason"], strict=True))
    assert reasons["A"] == (
        "25 days since last purchase, 2.5x their usual 10-day gap; "
        "40% likely to buy nothing in the horizon; "
        "rising complaints: 2 in the last 90 days vs 0 in the 90 days before; "
        "falling sentiment: mean 0.30 in the last 90 days vs 0.80 before (0 = negative, 1 = positive) "
        "(2 and 2 texts)")
    assert reasons["D"] == "rising complaints: 1 in the last 90 days vs 0 in the 90 days before"
    assert reasons["B"] == "P(alive) 0.10 < 0.30"  # not warned any more: no horizon clause
    assert out.attrs["interaction_signals"]["ranking"] == "purchases+interactions"
    assert out.attrs["interaction_signals"]["order"].startswith("interaction signal first")
    assert (out["ranking"] == "purchases+interactions").all()
    metrics = churn.warning_metrics(out, params)
    s = metrics["interaction_signals"]
    assert (s["rising_complaints"], s["falling_sentiment"], s["any"]) == (2, 2, 3)
    assert (s["warned_with_signal"], s["candidates_by_signal_only"]) == (2, 2)
    json.dumps(metrics)
    text = churn.narrative.signals_note(metrics)
    assert "**2 customers with rising complaints**" in text and "2 of the 2 warned" in text
    assert "Signalled candidates are ranked first" in text
    assert churn.narrative.signals_note({"warned": 2}) == churn.narrative.NO_SIGNALS


def test_by_default_signals_are_reasons_and_purchases_rank(base):
    params = warning_section(gap_factor=2.0, p_alive_threshold=0.3, capacity=0.4)
    plain = churn.transactional_warning(base, params)
    out = churn.transactional_warning(base, params, churn.interaction_signals(features()))
    # the flags are the purchase-only warning's (B 0.95 and C 0.70); D and E are no candidates
    assert_frame_equal(out[plain.columns].drop(columns="reason"), plain.drop(columns="reason"))
    assert out.loc[out["warning"], "customer_id"].tolist() == ["B", "C"]
    assert (out["ranking"] == "purchases").all() and out.attrs["interaction_signals"]["ranking"] == "purchases"
    reasons = dict(zip(out["customer_id"], out["reason"], strict=True))
    assert reasons["D"] == "rising complaints: 1 in the last 90 days vs 0 in the 90 days before"
    text = churn.narrative.signals_note(churn.warning_metrics(out, params))
    assert "The signals do not rank the warning" in text
    with pytest.raises(InputError, match="ranking must be one of"):
        churn.transactional_warning(base, params, churn.interaction_signals(features()), ranking="signals")


def test_a_customer_missing_from_the_features_has_no_signal(base):
    params = warning_section(capacity=0.4)
    out = churn.transactional_warning(base, params, churn.interaction_signals(features().iloc[[0]]))
    assert out["interaction_signal"].tolist() == [True, False, False, False, False]
    with pytest.raises(InputError, match="'rising_complaints'"):
        churn.transactional_warning(base, params, features())


# --- the backtest, with a planted effect ----------------------------------------------------------

CAL, UNTIL = pd.Timestamp("1997-06-30"), pd.Timestamp("1997-09-30")


@pytest.fixture(scope="module")
def planted():
    """40 regular buyers (every 10 days up to CAL); 6 went quiet 35-60 days before CAL.

    After CAL: the 5 planted complainers (c00-c04: rising complaints at CAL) buy nothing;
    of the 6 quiet ones, 3 come back. Everyone else keeps buying.
    """
    rows = []
    for i in range(40):
        cid = f"c{i:02d}"
        stop = CAL - pd.Timedelta(days=35 + 5 * (i - 34)) if i >= 34 else CAL
        for d in pd.date_range("1997-01-01", stop, freq="10D"):
            rows.append((cid, d, 10.0))
        back = i < 5 or i in (34, 35, 36)  # complainers and three quiet ones do not return
        if not back:
            rows.append((cid, CAL + pd.Timedelta(days=20), 10.0))
    tx = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    ids = [f"c{i:02d}" for i in range(40)]
    feats = pd.DataFrame({"customer_id": ids,
                          "backtest_complaints_90d": [2 if i < 5 else 0 for i in range(40)],
                          "backtest_complaints_prev_90d": 0,
                          "backtest_sentiment_90d": np.nan, "backtest_sentiment_prev_90d": np.nan,
                          "backtest_as_of": CAL})
    return tx, feats


def test_planted_complainers_get_the_reason_and_the_backtest_says_they_help(planted):
    tx, feats = planted
    params = warning_section(gap_factor=2.0, capacity=0.125, one_time_gap=10)  # 5 calls of 40
    signals = churn.interaction_signals(feats, prefix="backtest_")
    horizon = (UNTIL - CAL).days
    warned = churn.transactional_warning(churn.warning_inputs(tx, CAL, horizon), params, signals,
                                         ranking=churn.WITH_INTERACTIONS)
    planted_rows = warned[warned["customer_id"].isin([f"c{i:02d}" for i in range(5)])]
    assert planted_rows["warning"].all()
    assert planted_rows["reason"].str.contains("rising complaints: 2 in the last 90 days vs 0").all()
    cmp = churn.backtest_comparison(tx, CAL, UNTIL, horizon, params, signals)
    a, b = cmp["purchases_only"], cmp["with_interactions"]
    assert a["flagged"] == b["flagged"] == 5
    # purchases only: the 6 quiet customers compete for 5 calls, at most 3 of them lapsed;
    # with signals: the 5 complainers, all lapsed
    assert b["precision"] == 1.0 and a["precision"] <= 3 / 5
    assert b["recall"] == pytest.approx(5 / 8) and b["lift"] > a["lift"]
    assert cmp["swaps"]["moved_in"] == 5 and cmp["swaps"]["moved_in_lapsed"] == 5
    assert cmp["signals"]["rising_complaints"] == 5
    table = churn.comparison_table(cmp)
    assert list(table.columns) == ["purchases only", "with interaction signals", "change"]
    assert table.loc["precision", "change"] == pytest.approx(1.0 - a["precision"])
    text = churn.narrative.signals_backtest_takeaway(cmp)
    assert "**they help** on this holdout" in text and "moved 5 customers in (100% of them bought nothing)" in text
    json.dumps(churn.churn_metrics(None, {"warned": 5}, pd.DataFrame({"rank": range(5)}), a, cmp))
    # the purchase-only backtest through backtest_warning is the comparison's left column
    assert churn.backtest_warning(tx, CAL, UNTIL, horizon, params) == a
    # the gate: 5 of 5 vs 2 of 5 lapsed, the 95% interval of the difference is above zero
    decision = churn.ranking_decision(cmp)
    assert decision["ranking"] == "purchases+interactions" and decision["why"] == "signals help"
    assert a["precision"] == 0.4 and decision["interval"][0] > 0


def test_backtest_refuses_signals_from_another_day(planted):
    tx, feats = planted
    signals = churn.interaction_signals(feats.assign(backtest_as_of=UNTIL), prefix="backtest_")
    with pytest.raises(InputError, match="describe 1997-09-30"):
        churn.backtest_comparison(tx, CAL, UNTIL, 92, warning_section(one_time_gap=10), signals)
    with pytest.raises(InputError, match="describe 1997-09-30"):
        churn.backtest_warning(tx, CAL, UNTIL, 92, warning_section(one_time_gap=10), signals)


def test_churn_metrics_keep_their_keys_without_the_comparison():
    doc = churn.churn_metrics(None, {"warned": 2}, pd.DataFrame({"rank": [1, 2]}), None)
    assert "warning_backtest_interactions" not in doc
    doc = churn.churn_metrics(None, {"warned": 2}, pd.DataFrame({"rank": [1, 2]}), None, {"swaps": {}})
    assert doc["warning_backtest_interactions"] == {"swaps": {}}


def test_comparison_display_draws_and_keeps_its_table(planted):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tx, feats = planted
    cmp = churn.backtest_comparison(tx, CAL, UNTIL, 92, warning_section(capacity=0.125, one_time_gap=10),
                                    churn.interaction_signals(feats, prefix="backtest_"))
    shown = churn.backtest_comparison_display(cmp)
    assert shown.name == "churn_warning_backtest_interactions" and shown.takeaway
    assert shown.table["measure"].tolist()[:3] == ["precision", "recall", "lift"]
    ax = shown.plot()
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    plt.close("all")


def test_no_swap_says_the_signals_change_nothing():
    same = {"precision": 0.5, "recall": 0.5, "lift": 1.0, "as_of": "1997-06-30"}
    text = churn.narrative.signals_backtest_takeaway(
        {"purchases_only": same, "with_interactions": same,
         "swaps": {"moved_in": 0, "moved_in_lapsed": 0, "moved_out": 0, "moved_out_lapsed": 0}})
    assert "moved nobody into the list" in text


# --- the whole stage: without the feature file nothing changes ------------------------------------


@pytest.mark.slow
def test_churn_products_do_not_change_without_interaction_features(tmp_path):
    """params/test.yaml (no interactions section) twice: with a feature file beside, and without.

    The file has no ``backtest_`` columns: no evidence, so the purchases rank the warning and
    the signal only adds its reason.
    """
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[1]
    raw = yaml.safe_load((root / "params" / "test.yaml").read_text(encoding="utf-8"))
    raw.pop("survey", None)  # not a churn input; keeps the run short
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    def run(folder, only):
        out = subprocess.run([sys.executable, "-m", "crmlab.cli", "run", "--params", str(params), "--only", only,
                              "--no-progress", "--set", f"paths.processed={folder}",
                              "--set", f"paths.outputs={tmp_path / 'out'}"],
                             capture_output=True, text=True, cwd=root, timeout=900)
        assert out.returncode == 0, out.stderr[-3000:]
        return folder / "test"

    plain = run(tmp_path / "plain", "cleaning,segmentation,churn")
    shutil.copytree(plain, tmp_path / "fed" / "test")
    customers = pd.read_parquet(plain / "customers.parquet")
    planted = features().iloc[[0]].assign(customer_id=customers["customer_id"].astype(str).iloc[0])
    feats = pd.DataFrame({"customer_id": customers["customer_id"].astype(str)}).merge(
        planted, on="customer_id", how="left").fillna({"complaints_90d": 0, "complaints_prev_90d": 0})
    feats.to_parquet(tmp_path / "fed" / "test" / "customer_interactions.parquet", index=False)
    fed = run(tmp_path / "fed", "churn")
    before, after = (pd.read_parquet(f / "churn_warning.parquet") for f in (plain, fed))
    assert_frame_equal(after.drop(columns=["rising_complaints", "falling_sentiment", "interaction_signal",
                                           "ranking", "reason"]),
                       before.drop(columns=["reason"]))
    assert (after["ranking"] == "purchases").all()
    assert json.loads((fed / "churn_metrics.json").read_text())["warning_ranking"]["why"] == "no backtest"
    first = after.set_index("customer_id").loc[planted["customer_id"].iloc[0]]
    assert first["rising_complaints"] and "rising complaints: 2 in the last 90 days vs 0" in first["reason"]
    # and the run without the file is the purchase-only warning: the same columns as ever
    assert "interaction_signal" not in before.columns
    doc = json.loads((plain / "churn_metrics.json").read_text())
    assert "warning_backtest_interactions" not in doc and "interaction_signals" not in doc["transactional"]
    assert "warning_ranking" not in doc
