"""The interactions params section and the log reader: mapping, quarantine, masking."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab import config
from crmlab.config.load import _validate as validate_section
from crmlab.config.params import freeze
from crmlab.errors import InputError
from crmlab.interactions.params import INTERACTIONS, TYPES, check_interactions
from crmlab.interactions.read import (
    CLEAN_COLUMNS,
    REASONS,
    is_contact,
    map_channels,
    map_types,
    mask_contacts,
    read_interactions,
)
from crmlab.io import read_input, read_table
from crmlab.privacy import PersonalDataWarning

TYPE_MAP = {"complaint": "complaint", "投诉": "complaint", "咨询": "inquiry", "inquiry": "inquiry",
            "表扬": "praise", "服务": "service", "营销": "campaign", "campaign": "campaign"}
SECTION = {
    "path": "log.csv",
    "columns": {"text": "text", "rating": "rating", "campaign": "campaign", "group": "group"},
    "type_map": TYPE_MAP,
    "channel_map": {"门店": "store", "微信": "wechat", "E-mail": "email"},
    "rating_scale": [1, 5],
}
CUSTOMERS = ["1", "2", "3"]


def _log(**change) -> pd.DataFrame:
    """Three good rows; keyword arguments add a fourth row with those values changed."""
    rows = [
        ["1", "2024-01-05 10:00:00", "门店", "投诉", "太差了", "1", "", ""],
        ["2", "2024-01-06 11:30:00", "Web", "inquiry", "", "", "", ""],
        ["3", "2024-02-01 10:00:00", "E-mail", "营销", "", "", "winback", "treatment"],
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "timestamp", "channel", "type", "text",
                                     "rating", "campaign", "group"])
    if change:
        extra = df.iloc[[1]].copy()
        for k, v in change.items():
            extra[k] = v
        df = pd.concat([df, extra], ignore_index=True)
    return df


# --- params ---------------------------------------------------------------------------------


def _validate(raw: dict):
    return freeze(validate_section(INTERACTIONS, raw, "interactions.", "p.yaml", config.PROJ_ROOT))


def test_section_fills_defaults_and_keeps_chinese_keys():
    p = _validate({"path": "data/raw/interactions/interactions.csv", "type_map": {"投诉": "complaint"}})
    assert p.type_map == {"投诉": "complaint"}
    assert p.columns.customer_id == "customer_id" and p.columns.text is None
    assert p.rating_scale == [1, 5] and p.margin == 0.3 and p.window_days == 90
    assert p.costs.contact["none"] == 0.0 and p.costs.acquisition == 15.0
    assert p.campaign.name is None and p.campaign.window_days == 60
    assert p.path.endswith("data/raw/interactions/interactions.csv")


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"path": "x.csv"}, "missing required key 'interactions.type_map'"),
        ({"path": "x.csv", "type_map": {"投诉": "grumble"}}, "'interactions.type_map'"),
        ({"path": "x.csv", "type_map": {"a": "other"}, "margin": 0}, "'interactions.margin'"),
        ({"path": "x.csv", "type_map": {"a": "other"}, "costs": {"contact": {"web": -1}}},
         "'interactions.costs.contact'"),
        ({"path": "x.csv", "type_map": {"a": "other"}, "campain": {}}, "did you mean 'interactions.campaign'"),
    ],
    ids=["type-map-required", "type-not-canonical", "margin-zero", "negative-cost", "typo"],
)
def test_section_rejects(raw, words):
    with pytest.raises(InputError, match="p.yaml") as exc:
        _validate(raw)
    assert words in str(exc.value)


def test_cross_checks():
    p = _validate({"path": "x.csv", "type_map": {"a": "other"}, "rating_scale": [5, 1]})
    with pytest.raises(InputError, match="rating_scale"):
        check_interactions(p, "p.yaml")
    p = _validate({"path": "x.csv", "type_map": {"a": "other"}, "columns": {"text": "channel"}})
    with pytest.raises(InputError, match="columns.text.*already mapped as channel"):
        check_interactions(p, "p.yaml")
    check_interactions(None)  # absent section: nothing to check


# --- mapping --------------------------------------------------------------------------------


def test_clean_log_shape_and_chinese_values_mapped():
    out = read_interactions(_log(), SECTION, CUSTOMERS, as_of="2024-12-31")
    assert list(out.clean.columns) == list(CLEAN_COLUMNS)
    assert out.clean["type"].tolist() == ["complaint", "inquiry", "campaign"]
    assert out.clean["channel"].tolist() == ["store", "web", "email"]
    assert out.clean["timestamp"].dtype == "datetime64[ns]"
    assert out.clean["rating"].dtype == "float64" and out.clean["rating"].iloc[0] == 1.0
    assert out.clean["customer_id"].tolist() == CUSTOMERS
    assert out.clean["text"].isna().tolist() == [False, True, True]
    assert out.clean["group"].tolist()[2] == "treatment"
    assert out.report["types"]["complaint"] == 1 and out.report["rows_quarantined"] == 0


def test_types_match_ignoring_case_and_space():
    s = map_types(pd.Series([" Complaint ", "投诉", "", "COMPLAINT"]), {"complaint": "complaint", "投诉": "complaint"})
    assert s.tolist()[:2] == ["complaint", "complaint"] and pd.isna(s.iloc[2]) and s.iloc[3] == "complaint"


def test_unmapped_types_name_file_column_and_values():
    raw = _log(type="grumble")
    raw.loc[len(raw)] = ["1", "2024-01-07", "web", "投诉x", "", "", "", ""]
    with pytest.raises(InputError) as exc:
        read_interactions(raw, SECTION, CUSTOMERS, source="log.csv")
    msg = str(exc.value)
    assert msg.startswith("log.csv: column 'type'") and "\n" not in msg
    assert "'grumble'" in msg and "'投诉x'" in msg and "type_map" in msg


def test_at_most_five_values_named():
    with pytest.raises(InputError, match=r"and 2 more") as exc:
        map_types(pd.Series([f"v{i}" for i in range(7)]), {"a": "other"}, "f.csv", "kind")
    assert "column 'kind'" in str(exc.value)


def test_non_canonical_target_and_missing_column():
    with pytest.raises(InputError, match="type_map' maps to 'grumble'"):
        read_interactions(_log(), {**SECTION, "type_map": {"投诉": "grumble"}}, CUSTOMERS)
    section = {**SECTION, "columns": {**SECTION["columns"], "rating": "stars"}}
    with pytest.raises(InputError, match=r"log.csv: column 'stars' \(interactions.columns.rating\) not found"):
        read_interactions(_log(), section, CUSTOMERS)


def test_channels_default_lower_case_and_blank_unknown():
    s, blanks = map_channels(pd.Series([" WeChat ", "微信", "", "e-mail"]), {"微信": "WeChat", "E-MAIL": "email"})
    assert s.tolist() == ["wechat", "wechat", "unknown", "email"] and blanks == 1


# --- quarantine -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"customer_id": " n/a "}, "missing_customer_id"),
        ({"timestamp": "2024-13-45 25:61:00"}, "invalid_timestamp"),
        ({"timestamp": "2025-01-01 00:00:00"}, "after_as_of"),
        ({"customer_id": "99"}, "unknown_customer"),
        ({"type": "  "}, "missing_type"),
        ({"rating": "6"}, "rating_out_of_scale"),
        ({"rating": "great"}, "rating_out_of_scale"),
        ({"group": "B"}, "invalid_group"),
        ({}, "duplicate"),
    ],
    ids=["missing-id", "bad-timestamp", "after-as-of", "unknown", "missing-type", "rating-high",
         "rating-text", "group", "duplicate"],
)
def test_each_reason(change, reason):
    raw = _log(**change) if change else pd.concat([_log(), _log().iloc[[0]]], ignore_index=True)
    out = read_interactions(raw, SECTION, CUSTOMERS, as_of="2024-12-31")
    assert len(out.clean) == 3
    assert out.quarantine["reason"].tolist() == [reason]
    assert out.quarantine["source_row"].tolist() == [4]
    assert out.report["by_reason"][reason] == 1 and set(out.report["by_reason"]) == set(REASONS)


def test_as_of_day_is_included_and_rules_skipped_without_inputs():
    raw = _log(timestamp="2024-12-31 23:59:59", customer_id="99")
    out = read_interactions(raw, SECTION, customers=None, as_of="2024-12-31")
    assert len(out.clean) == 4


def test_every_row_accounted_for_once():
    raw = pd.concat([_log(customer_id=""), _log(rating="0"), _log(timestamp="x"), _log()],
                    ignore_index=True)
    out = read_interactions(raw, SECTION, CUSTOMERS, as_of="2024-12-31")
    r = out.report
    assert r["rows_in"] == len(raw) == r["rows_clean"] + r["rows_quarantined"]
    assert sum(r["by_reason"].values()) == r["rows_quarantined"]
    assert len(set(out.quarantine["source_row"])) == len(out.quarantine)


def test_ids_normalised_like_transactions():
    raw = _log(customer_id="002.0", timestamp="2024-01-09 09:00:00")
    raw.loc[1, "customer_id"] = " 2 "
    out = read_interactions(raw, SECTION, ["1", "2", "3"], strip_leading_zeros=True)
    assert out.clean["customer_id"].tolist() == ["1", "2", "3", "2"]
    assert out.report["repairs"]["id_leading_zeros_stripped"] == 1


def test_group_aliases_and_is_contact():
    raw = _log(type="营销", campaign="winback", group="对照组", channel="")
    out = read_interactions(raw, SECTION, CUSTOMERS)
    assert out.clean["group"].tolist()[2:] == ["treatment", "control"]
    assert out.clean["channel"].iloc[3] == "none" and out.report["repairs"]["channel_blank"] == 0
    assert is_contact(out.clean).tolist() == [True, True, True, False]
    with pytest.raises(InputError, match="'group' missing"):
        is_contact(out.clean.drop(columns="group"))


def test_input_not_changed():
    raw = _log(text="call 13800138000")
    before = raw.copy()
    read_interactions(raw, SECTION, CUSTOMERS)
    pd.testing.assert_frame_equal(raw, before)


# --- personal data ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("电话13800138000谢谢", "电话[phone]谢谢"),
        ("call +86 138 0013 8000 now", "call [phone] now"),
        ("landline 0791-2878108", "landline [phone]"),
        ("US (555) 123-4567 or 555-123-4567", "US [phone] or [phone]"),
        ("mail Li.Wei@example.com.cn.", "mail [email]."),
        ("有意思的联系QQ 282369262 我", "有意思的联系QQ [qq] 我"),
        ("身份证110101199003077578", "身份证[id]"),
        ("订单20240305123 于2024-03-05 共3件", "订单20240305123 于2024-03-05 共3件"),
    ],
    ids=["cn-mobile", "spaced", "landline", "us", "email", "qq", "id-card", "not-contacts"],
)
def test_mask_contacts(text, expected):
    assert mask_contacts(text) == expected


def test_personal_data_never_reaches_outputs():
    raw = _log(text="我的电话 13800138000，邮箱 wang@example.cn", customer_id="")
    raw.loc[0, "text"] = "call me: 13912345678"
    raw["email"] = "someone@example.com"
    raw["memo"] = "x"
    with pytest.warns(PersonalDataWarning, match="email"):
        out = read_interactions(raw, {**SECTION, "pii_columns": ["memo"]}, CUSTOMERS)
    assert out.clean["text"].iloc[0] == "call me: [phone]"
    assert out.quarantine["text"].iloc[0] == "我的电话 [phone]，邮箱 [email]"
    for frame in (out.clean, out.quarantine):
        assert "email" not in frame.columns and "memo" not in frame.columns
        assert not frame.astype(str).apply(lambda c: c.str.contains(r"@|139123|138001")).any().any()
    assert out.report["pii_dropped"] == ["memo"] and out.report["pii_detected"] == ["email"]
    assert out.report["repairs"]["text_contacts_masked"] == 2


# --- through crmlab.io ------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_gb_encoded_csv_read_through_io(tmp_path, encoding):
    path = tmp_path / "log.csv"
    raw = pd.concat([_log()] * 8, ignore_index=True)  # enough Chinese to detect the encoding
    raw["timestamp"] = pd.date_range("2024-01-01", periods=len(raw), freq="D").strftime("%Y-%m-%d %H:%M:%S")
    raw.to_csv(path, index=False, encoding=encoding)
    section = {**SECTION, "path": str(path), "encoding": "auto", "sep": None, "sheet_name": None,
               "reader": {}, "pii_columns": [], "max_size_mb": 10.0}
    _, info = read_table(path)
    assert info.encoding == "gb18030"
    df, _ = read_input(section)
    out = read_interactions(df, section, CUSTOMERS)
    assert len(out.clean) == len(raw)
    assert out.clean["type"].value_counts().to_dict() == {"complaint": 8, "inquiry": 8, "campaign": 8}
    assert (out.clean["channel"] == "store").sum() == 8
    assert out.clean["text"].dropna().unique().tolist() == ["太差了"]


def test_types_constant_is_the_design():
    assert TYPES == ("inquiry", "complaint", "praise", "service", "campaign", "other")
