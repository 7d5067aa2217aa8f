"""The demo-log generator: deterministic, and the properties its README promises."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from crmlab.errors import InputError
from crmlab.interactions.read import is_contact, read_interactions
from crmlab.interactions.simulate import (
    DEMO_CHANNEL_MAP,
    DEMO_TYPE_MAP,
    ENGLISH_REVIEWS,
    RAW_COLUMNS,
    DemoConfig,
    prepare_texts,
    simulate_interactions,
)

from conftest import RAW

POS = ["质量很好，非常满意", "物流很快，包装完好", "性价比高，推荐购买", "质量很好，非常满意",
       "两边都有的评论", "  服务 周到  ，下次再来"]
NEG = ["质量太差，很失望", "发货太慢了，不会再买", "客服态度恶劣", "两边都有的评论", "————",
       "有问题打我电话13800138000"]
SECTION = {"path": "demo.csv", "type_map": DEMO_TYPE_MAP, "channel_map": DEMO_CHANNEL_MAP,
           "columns": {k: k for k in ("text", "rating", "campaign", "group")}}
SMALL = DemoConfig(seed=3)


@pytest.fixture(scope="module")
def purchases() -> pd.DataFrame:
    """CDNOW's first 1,500 customers, read as the script reads the file."""
    df = pd.read_csv(RAW / "cdnow" / "CDNOW_master.txt", sep=r"\s+", dtype=str)
    df = df[df["customer_id"] <= "01500"]
    return pd.DataFrame({"customer_id": df["customer_id"],
                         "date": pd.to_datetime(df["date"], format="%Y%m%d")})


@pytest.fixture(scope="module")
def texts() -> pd.DataFrame:
    return prepare_texts(POS, NEG, max_chars=120)


@pytest.fixture(scope="module")
def log(purchases, texts) -> pd.DataFrame:
    return simulate_interactions(purchases, texts, SMALL)


@pytest.fixture(scope="module")
def clean(log, purchases) -> pd.DataFrame:
    return read_interactions(log, SECTION, purchases["customer_id"].unique(), SMALL.end).clean


def test_prepare_texts_dedupes_and_drops_contradictions_junk_and_contacts(texts):
    zh = texts[texts["lang"] == "zh"]
    assert zh["text"].is_unique
    assert "两边都有的评论" not in set(zh["text"])  # under both labels
    assert "————" not in set(zh["text"]) and not zh["text"].str.contains("138").any()
    assert "服务 周到 ，下次再来" in set(zh["text"])  # white space collapsed
    assert (zh["label"] == "positive").sum() == 4 and (zh["label"] == "negative").sum() == 3
    assert len(texts[texts["lang"] == "en"]) == 40 == sum(map(len, ENGLISH_REVIEWS.values()))


def test_deterministic_for_a_seed(purchases, texts, log):
    again = simulate_interactions(purchases, texts, SMALL)
    pd.testing.assert_frame_equal(log, again)
    other = simulate_interactions(purchases, texts, replace(SMALL, seed=4))
    assert not log.equals(other)


def test_raw_shape_and_dirty_rows_quarantined(log, purchases):
    assert tuple(log.columns) == RAW_COLUMNS
    assert all(pd.api.types.is_string_dtype(log[c]) for c in log.columns)
    out = read_interactions(log, SECTION, purchases["customer_id"].unique(), SMALL.end)
    c = SMALL
    assert out.report["by_reason"] == {
        "missing_customer_id": c.n_missing_id, "invalid_timestamp": c.n_bad_timestamp,
        "after_as_of": c.n_future, "unknown_customer": c.n_unknown_customer, "missing_type": 0,
        "rating_out_of_scale": c.n_bad_rating, "invalid_group": c.n_bad_group,
        "duplicate": c.n_duplicates,
    }
    assert out.report["repairs"]["text_contacts_masked"] == c.n_contact_texts
    assert not out.clean["text"].str.contains("13800138000|@", na=False).any()


def test_labels_mixed_and_all_mapped(log, clean):
    assert {"投诉", "complaint", "营销", "campaign"} <= set(log["type"])
    assert {"门店", "电话", "微信", "Store", "E-mail", "WeChat"} <= set(log["channel"])
    assert set(clean["channel"]) <= {"store", "web", "app", "phone", "email", "wechat", "none"}
    assert set(clean["type"]) == {"inquiry", "complaint", "praise", "service", "campaign", "other"}


def test_contacts_timed_within_the_data(clean, purchases):
    assert clean["timestamp"].max() < pd.Timestamp(SMALL.end) + pd.Timedelta(days=1)
    first = purchases.groupby("customer_id")["date"].min()
    lead = (first.reindex(clean["customer_id"]).to_numpy() - clean["timestamp"].dt.normalize().to_numpy())
    assert lead.max() <= np.timedelta64(SMALL.pre_days, "D")


def test_texts_and_ratings_follow_the_label(log):
    body = log[log["campaign"] == ""]
    praise = body["type"].isin(["praise", "表扬"]) & (body["text"] != "")
    complaint = body["type"].isin(["complaint", "投诉"]) & (body["text"] != "")
    assert (body.loc[praise, "text_label"] == "positive").all()
    assert (body.loc[complaint, "text_label"] == "negative").all()
    rated = body[(body["rating"] != "") & ~body["rating"].isin(["0", "6", "10"])]
    assert set(rated.loc[rated["text_label"] == "positive", "rating"]) == {"4", "5"}
    assert set(rated.loc[rated["text_label"] == "negative", "rating"]) == {"1", "2"}
    assert ((body["text"] == "") == (body["text_label"] == "")).all()
    english = body["text"].str.isascii() & (body["text"] != "")
    assert 0.05 < english[body["text"] != ""].mean() < 0.3


def test_complaints_rise_before_a_lapse(clean, purchases):
    last = purchases.groupby("customer_id")["date"].max()
    lapsed = last[last <= pd.Timestamp(SMALL.end) - pd.Timedelta(days=SMALL.lapse_after_days)]
    body = clean[clean["type"] != "campaign"]
    to_lapse = (lapsed.reindex(body["customer_id"]).to_numpy() - body["timestamp"].dt.normalize().to_numpy())
    window = (to_lapse >= np.timedelta64(0, "D")) & (to_lapse <= np.timedelta64(60, "D"))
    complaint = (body["type"] == "complaint").to_numpy()
    before, otherwise = complaint[window].mean(), complaint[~window].mean()
    assert before > 1.5 * otherwise


def test_campaign_arms_balanced_and_only_at_risk(clean, purchases):
    camp = clean[clean["type"] == "campaign"]
    assert camp["customer_id"].is_unique and (camp["campaign"] == SMALL.campaign_name).all()
    assert (camp["timestamp"].dt.normalize() == pd.Timestamp(SMALL.campaign_date)).all()
    n = camp["group"].value_counts()
    blocks = (len(SMALL.strata_purchase_days) + 1) * (len(SMALL.strata_recency_days) + 1)
    assert abs(n["treatment"] - n["control"]) <= blocks  # at most one apart in each block
    cday = pd.Timestamp(SMALL.campaign_date)
    # each block (purchase days 1 / 2 / 3+ x days since the last) is split within one
    history = purchases[purchases["date"] <= cday].drop_duplicates().groupby("customer_id")["date"]
    days = history.nunique().clip(upper=3)
    since = (cday - history.max()).dt.days
    block = days.astype(str) + "/" + pd.cut(since, [0, 269, 359, np.inf]).astype(str)
    arm = camp.set_index("customer_id")["group"]
    per_block = pd.crosstab(block.reindex(arm.index), arm)
    assert ((per_block["treatment"] - per_block["control"]).abs() <= 1).all()
    before = purchases[purchases["date"] <= cday].groupby("customer_id")["date"].max()
    at_risk = set(before[before <= cday - pd.Timedelta(days=SMALL.at_risk_days)].index)
    assert set(camp["customer_id"]) == at_risk
    control = camp[camp["group"] == "control"]
    assert (control["channel"] == "none").all() and not is_contact(control).any()
    treated = camp[camp["group"] == "treatment"]
    assert set(treated["channel"]) <= set(SMALL.campaign_channels)
    assert clean.loc[clean["type"] != "campaign", "group"].isna().all()


def test_placebo_arms_buy_alike(clean, purchases):
    # randomisation, not the (non-)contact, decides the arm: outcomes from real purchases match
    camp = clean[clean["type"] == "campaign"].set_index("customer_id")["group"]
    cday = pd.Timestamp(SMALL.campaign_date)
    window = purchases[(purchases["date"] > cday) & (purchases["date"] <= cday + pd.Timedelta(days=60))]
    bought = camp.index.isin(window["customer_id"])
    rate = pd.Series(bought, index=camp.index).groupby(camp).mean()
    n = camp.value_counts()
    se = np.sqrt(sum(rate[g] * (1 - rate[g]) / n[g] for g in rate.index))
    assert abs(rate["treatment"] - rate["control"]) < 3 * se


def test_inputs_checked(purchases, texts):
    with pytest.raises(InputError, match="purchases: required column 'date'"):
        simulate_interactions(purchases.rename(columns={"date": "day"}), texts)
    with pytest.raises(ValueError, match="no positive texts in language 'en'"):
        simulate_interactions(purchases, texts[~((texts["lang"] == "en") & (texts["label"] == "positive"))],
                              SMALL)


def test_stratified_assignment_splits_every_block_evenly():
    from crmlab.interactions.simulate import stratified_assignment

    strata = np.repeat([0, 1, 2], [10, 7, 1])
    arm = stratified_assignment(np.random.default_rng(3), strata)
    for b, size in ((0, 10), (1, 7), (2, 1)):
        treated = int(arm[strata == b].sum())
        assert treated in (size // 2, size - size // 2)
    assert arm[strata == 0].sum() == 5
    again = stratified_assignment(np.random.default_rng(3), strata)
    assert (arm == again).all()  # seeded: the same draw
