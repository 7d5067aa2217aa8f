"""The interactions stage's own pieces: sentiment in the stage, the notebook's choices, the wiring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab.config import load_params, params_from_dict
from crmlab.config.schema import SCHEMA
from crmlab.errors import InputError
from crmlab.interactions import feedback, narrative, stage, views
from crmlab.interactions.params import DEFAULT_CONTACT_COSTS, INTERACTIONS
from crmlab.interactions.sentiment import ChineseFit
from crmlab.io import check_inputs

from conftest import ROOT

POS = ["质量很好，非常满意", "物流很快，包装完好", "性价比高，推荐购买", "客服态度很好", "很喜欢，下次还来",
       "东西不错，值得", "非常好用，满意", "快递给力，好评"]
NEG = ["质量太差了，失望", "物流太慢，不满意", "客服态度很差", "用了两天就坏了", "不推荐，退货",
       "包装破损，很生气", "太贵了，不值", "差评，再也不买"]


@pytest.fixture(scope="module")
def tiny_fit() -> ChineseFit:
    corpus = pd.DataFrame({"text": (POS + NEG) * 3,
                           "label": (["positive"] * 8 + ["negative"] * 8) * 3})
    return feedback.train_sentiment(corpus, seed=0)


def _log(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["customer_id", "timestamp", "text"])
    df["timestamp"] = pd.to_datetime(df["timestamp"])
    df["channel"], df["type"], df["rating"], df["campaign"], df["group"] = "web", "other", np.nan, pd.NA, pd.NA
    return df


# --- params wiring --------------------------------------------------------------------------


def test_section_is_declared_once_in_the_schema():
    assert SCHEMA.keys["interactions"] is INTERACTIONS


def test_default_costs_cover_every_channel_of_the_demo_log():
    demo = {"store", "web", "app", "phone", "email", "wechat", "none"}
    assert demo <= set(DEFAULT_CONTACT_COSTS)
    p = load_params(ROOT / "params" / "default.yaml")
    assert demo <= set(p.interactions.costs.contact)


def test_interactions_needs_transactions():
    raw = {"interactions": {"path": "tests/data/interactions_small.csv", "type_map": {"a": "other"}}}
    with pytest.raises(InputError, match="key 'interactions': needs a 'transactions:' section"):
        params_from_dict(raw)


def test_check_interactions_runs_in_the_loader():
    p = load_params(ROOT / "params" / "test.yaml")
    with pytest.raises(InputError, match="interactions.rating_scale"):
        load_params(ROOT / "params" / "test.yaml", ["interactions.rating_scale=[5, 1]"])
    assert p.interactions.sentiment.max_texts == 3000


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (["interactions.columns.channel=kanal"], "interactions.columns.channel column 'kanal' not found"),
        (["interactions.type_map={inquiry: inquiry}"], "not in interactions.type_map"),
    ],
    ids=["missing-column", "unmapped-type"],
)
def test_check_inputs_names_the_column_or_the_map(overrides, words):
    with pytest.raises(InputError, match=words):
        check_inputs(load_params(ROOT / "params" / "test.yaml", overrides))


def test_check_inputs_reports_the_log():
    lines = check_inputs(load_params(ROOT / "params" / "test.yaml"))
    assert any(line.startswith("interactions: ") and "type values mapped" in line for line in lines)


# --- sentiment in the stage ------------------------------------------------------------------


def test_train_sentiment_dedups_before_sampling(tiny_fit):
    assert tiny_fit.corpus["lines"] == 48 and tiny_fit.corpus["kept"] == 16
    assert tiny_fit.corpus["train"] + tiny_fit.corpus["test"] == 16
    corpus = pd.DataFrame({"text": POS + NEG, "label": ["positive"] * 8 + ["negative"] * 8})
    small = feedback.train_sentiment(pd.concat([corpus] * 2), seed=1, max_texts=10)
    assert small.corpus["sampled"] == 10 and small.corpus["train"] + small.corpus["test"] == 10


def test_evaluate_english_counts_silence_as_wrong():
    bench = pd.DataFrame({"rating": [2.0, -2.0, 1.0, 0.0], "text": ["great, I love it", "terrible, awful", "the", "meh"]})
    e = feedback.evaluate_english(bench)
    assert e["n"] == 3 and e["silent"] == 1
    assert e["accuracy"] == pytest.approx(2 / 3) and e["accuracy_when_scored"] == 1.0
    assert e["ci_low"] < e["accuracy"] < e["ci_high"]
    with pytest.raises(ValueError, match="'text'"):
        feedback.evaluate_english(bench.drop(columns="text"))


def test_score_log_scores_each_text_and_leaves_blanks(tiny_fit):
    log = _log([["1", "2024-01-01", "质量很好，非常满意"], ["2", "2024-01-02", None],
                ["3", "2024-01-03", "great service, thank you"], ["1", "2024-01-04", "质量很好，非常满意"]])
    out = feedback.score_log(log, tiny_fit)
    assert list(out["language"]) == ["zh", "none", "en", "zh"]
    assert np.isnan(out.loc[1, "sentiment"]) and out.loc[0, "sentiment"] == out.loc[3, "sentiment"]
    assert out.loc[2, "sentiment"] > 0.5 and out.loc[2, "sentiment_method"] == "vader"
    assert "sentiment" not in log.columns  # the argument is not changed


def test_sentiment_repeat_recovers_a_planted_effect():
    # 200 buyers before the split; the 100 with negative feedback mostly do not buy again
    rng = np.random.default_rng(3)
    ids = [str(i) for i in range(200)]
    neg = set(ids[:100])
    tx_rows = [(i, "2024-02-01", 10.0) for i in ids]
    tx_rows += [(i, "2024-05-01", 10.0) for i in ids if rng.random() < (0.2 if i in neg else 0.7)]
    tx = pd.DataFrame(tx_rows, columns=["customer_id", "date", "amount"]).assign(date=lambda d: pd.to_datetime(d["date"]))
    log = _log([[i, "2024-02-10", "x"] for i in ids]).assign(sentiment=[0.1 if i in neg else 0.9 for i in ids])
    r = feedback.sentiment_repeat(log, tx, "2024-04-01", 90, "2024-06-30")
    d = r.difference
    assert d["n1"] == 100 and d["n2"] == 100
    assert d["low"] <= -0.5 <= d["high"] and d["high"] < 0
    with pytest.raises(InputError, match="run past"):
        feedback.sentiment_repeat(log, tx, "2024-05-01", 90, "2024-06-30")


def test_sentiment_by_group_orders_lowest_first():
    log = _log([["1", "2024-01-01", "a"], ["1", "2024-01-02", "b"], ["2", "2024-01-03", "c"],
                ["2", "2024-01-04", "d"], ["9", "2024-01-05", "e"]]).assign(sentiment=[0.8, 0.9, 0.1, 0.3, 0.5])
    customers = pd.DataFrame({"customer_id": ["1", "2"], "rfm_segment": ["Champions", "At risk"]})
    t = feedback.sentiment_by_group(log, customers)
    assert list(t["group"]) == ["At risk", "not listed", "Champions"]
    assert t.loc[0, "mean"] == pytest.approx(0.2) and t.loc[0, "low"] < 0.2 < t.loc[0, "high"]
    with pytest.raises(InputError):
        feedback.sentiment_by_group(log.drop(columns="sentiment"), customers)


def test_example_texts_are_masked():
    log = _log([["1", "2024-01-01", "很好 call 13800138000 or a@b.com"]]).assign(
        sentiment=[0.9], language=["zh"], sentiment_label=["positive"])
    shown = feedback.example_texts(log)
    assert "13800138000" not in shown.loc[0, "text"] and "a@b.com" not in shown.loc[0, "text"]
    assert "[phone]" in shown.loc[0, "text"]


# --- the notebook's choices ------------------------------------------------------------------


def test_pick_campaign_prefers_params_then_the_only_one():
    log = pd.DataFrame({"campaign": [pd.NA, "winback", "winback", "spring"]})
    assert stage.pick_campaign(log, "spring") == "spring"
    assert stage.pick_campaign(log, None) == "winback"
    assert stage.pick_campaign(log.assign(campaign=pd.NA), None) is None


def test_migration_dates_and_split():
    assert stage.migration_dates("1998-06-30", "1997-09-30") == (pd.Timestamp("1997-09-30"), pd.Timestamp("1998-06-30"))
    assert stage.migration_dates("1998-06-30", None)[0] == pd.Timestamp("1997-06-30")
    assert stage.period_split("1998-06-30", 90) == pd.Timestamp("1998-04-02")  # 90 days to 1998-06-30 included


def test_placebo_reading_says_covering_zero_is_honest():
    class E:
        estimable = True
        conversion = {"low": -0.01, "high": 0.02, "diff": 0.005}
        spend = {"low": -0.2, "high": 0.7, "diff": 0.3}
    assert "covers zero" in narrative.placebo_reading(E())
    E.conversion = {"low": 0.001, "high": 0.013, "diff": 0.007}  # the shipped demo log's seed
    text = narrative.placebo_reading(E())
    assert "excludes zero" in text and "spend interval covers zero" in text and "false positive" in text


def test_accuracy_display_has_both_languages(tiny_fit):
    bench = pd.DataFrame({"rating": [2.0, -2.0], "text": ["great, I love it", "terrible, awful"]})
    acc = feedback.accuracy_summary(tiny_fit, feedback.evaluate_english(bench))
    d = views.interactions_sentiment_accuracy(acc)
    assert list(d.table["language"]) == ["chinese", "english"]
    assert "Chinese:" in d.takeaway and "English (VADER)" in d.takeaway
    ax = d.plot()
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_a_log_with_no_clean_contact_stops_the_stage_naming_the_file_and_reasons():
    from crmlab.errors import InputError
    from crmlab.interactions.stage import require_contacts

    require_contacts({"rows_in": 3, "rows_clean": 1, "by_reason": {}}, "log.csv")  # fine
    report = {"rows_in": 5, "rows_clean": 0, "by_reason": {"unknown_customer": 4, "duplicate": 1,
                                                           "invalid_group": 0}}
    with pytest.raises(InputError, match=r"log\.csv: no clean contact in 5 rows "
                                         r"\(unknown_customer: 4, duplicate: 1\)"):
        require_contacts(report, "log.csv")
