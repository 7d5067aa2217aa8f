"""Cleaning rules on tiny hand-made exports whose answer is known row by row."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from crmlab import cleaning
from crmlab.config import load_params, params_from_dict
from crmlab.engine import customer_bucket
from crmlab.errors import InputError
from crmlab.io import read_input

from conftest import ROOT, force_threads


def section(**extra):
    """A validated transactions section for a frame with columns id/day/paid(/qty/order)."""
    columns = {"customer_id": "id", "date": "day", "amount": "paid"}
    columns.update(extra.pop("columns", {}))
    raw = {"transactions": {"path": "x.csv", "columns": columns, **extra}}
    return params_from_dict(raw).transactions


def frame(rows, cols=("id", "day", "paid")):
    return pd.DataFrame(rows, columns=list(cols), dtype=str)


# --- the pieces -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, decimal, expected",
    [
        ("12.50", ".", 12.5),
        ("$1,234.50", ".", 1234.5),
        ("￥88.00", ".", 88.0),
        ("RMB 56.40", ".", 56.4),
        ("1 234.50", ".", 1234.5),
        ("(12.50)", ".", -12.5),
        ("- 3", ".", -3.0),
        ("12,5", ".", np.nan),
        ("1.234,50 €", ",", 1234.5),
        ("12,5", ",", 12.5),
        ("abc", ".", np.nan),
        ("", ".", np.nan),
    ],
    ids=["plain", "dollar-thousands", "yuan", "rmb-code", "space-thousands", "accounting-negative",
         "spaced-sign", "ambiguous-comma", "euro-decimal-comma", "decimal-comma", "text", "blank"],
)
def test_parse_amounts(text, decimal, expected):
    out, _ = cleaning.parse_amounts(pd.Series([text]), decimal)
    if np.isnan(expected):
        assert np.isnan(out.iloc[0])
    else:
        assert out.iloc[0] == pytest.approx(expected)


def test_parse_amounts_counts_repairs_and_passes_numbers_through():
    _, rep = cleaning.parse_amounts(pd.Series(["$1,000", "2", "(3)", "€4"]))
    assert rep["amount_currency_symbol"] == 2
    assert rep["amount_thousands_separator"] == 1
    assert rep["amount_accounting_negative"] == 1
    nums, rep = cleaning.parse_amounts(pd.Series([1, 2.5]))
    assert nums.tolist() == [1.0, 2.5] and rep == {}


def test_normalise_ids():
    ids, rep = cleaning.normalise_ids(pd.Series([" 0042 ", "42.0", "", "NULL", "n/a", "A-7"]))
    assert ids.tolist()[:2] == ["0042", "42"] and ids.tolist()[5] == "A-7"
    assert ids.iloc[2:5].isna().all()
    assert rep == {"id_whitespace_trimmed": 1, "id_excel_float_suffix": 1}
    stripped, rep = cleaning.normalise_ids(pd.Series(["0042", "42", "0"]), strip_leading_zeros=True)
    assert stripped.tolist() == ["42", "42", "0"] and rep["id_leading_zeros_stripped"] == 1


@pytest.mark.parametrize(
    "values, fmt, dayfirst, expected",
    [
        (["19970101", "19970230"], "%Y%m%d", False, ["1997-01-01", None]),
        (["2024-03-05", "2024/04/01", "not a date"], None, False, ["2024-03-05", "2024-04-01", None]),
        (["03/04/2024", "05/06/2024"], None, True, ["2024-04-03", "2024-06-05"]),
        (["2024年3月8日", "2024-03-09"], None, False, ["2024-03-08", "2024-03-09"]),
        (["", "2024-01-01"], None, False, [None, "2024-01-01"]),
    ],
    ids=["strict-format", "second-format", "dayfirst", "chinese", "blank"],
)
def test_parse_dates(values, fmt, dayfirst, expected):
    out, _ = cleaning.parse_dates(pd.Series(values), fmt, dayfirst)
    want = pd.Series(pd.to_datetime(expected), dtype="datetime64[ns]")
    assert out.dtype == "datetime64[ns]"
    assert_frame_equal(out.to_frame("d").reset_index(drop=True), want.to_frame("d"))


def test_detect_pii_columns_by_name_and_by_values():
    raw = frame(
        [["1", "a@x.com", "x", "138", "ok"], ["2", "b@y.org", "y", "139", "ok"]],
        cols=("id", "backup", "note", "手机", "comment"),
    )
    assert cleaning.detect_pii_columns(raw, protected={"id"}) == ["backup", "手机"]


# --- the rules, one row each ------------------------------------------------------------


RULES = [
    (["", "2024-01-02", "5"], {}, "missing_customer_id"),
    (["c1", "2024-02-30", "5"], {}, "invalid_date"),
    (["c1", "2024-01-02", "five"], {}, "invalid_amount"),
    (["c1", "2024-01-02", "inf"], {}, "invalid_amount"),
    (["c1", "2024-01-02", "-5"], {}, "negative_amount"),
    (["c1", "2024-01-02", "0"], {"zero_amount": "quarantine"}, "zero_amount"),
    (["c1", "2024-01-02", "0"], {}, None),
    (["c1", "2025-01-01", "5"], {}, "after_observation_end"),
    (["c1", "2024-12-31", "5"], {}, None),
]


@pytest.mark.parametrize(
    "row, policy, reason", RULES,
    ids=["blank-id", "bad-date", "text-amount", "inf-amount", "negative", "zero-quarantined",
         "zero-kept", "after-end", "on-end-day"],
)
def test_each_rule(row, policy, reason):
    res = cleaning.clean_transactions(frame([row]), section(date_format="%Y-%m-%d", **policy), "2024-12-31")
    if reason is None:
        assert len(res.clean) == 1 and res.quarantine.empty
    else:
        assert res.clean.empty and res.quarantine["reason"].tolist() == [reason]
        assert res.quarantine["source_row"].tolist() == [1]


def test_first_reason_wins():
    res = cleaning.clean_transactions(frame([["", "bad", "x"]]), section(), None)
    assert res.quarantine["reason"].tolist() == ["missing_customer_id"]


def test_invalid_quantity_and_blank_quantity():
    raw = frame([["c", "2024-01-01", "5", "two"], ["c", "2024-01-02", "5", ""]], cols=("id", "day", "paid", "qty"))
    res = cleaning.clean_transactions(raw, section(columns={"quantity": "qty"}), None)
    assert res.quarantine["reason"].tolist() == ["invalid_quantity"]
    assert res.clean["quantity"].isna().tolist() == [True]
    assert res.report["repairs"]["quantity_blank"] == 1


@pytest.mark.parametrize("policy, clean_rows", [("quarantine", 2), ("keep", 3)], ids=["quarantine", "keep"])
def test_duplicates_policy(policy, clean_rows):
    raw = frame([["c", "2024-01-01", "5"], [" c", "2024-01-01", "$5.00"], ["c", "2024-01-01", "6"]])
    res = cleaning.clean_transactions(raw, section(duplicates=policy), None)
    assert len(res.clean) == clean_rows
    assert res.report["duplicates_seen"] == 1  # " c"/"$5.00" repairs make row 2 equal row 1
    if policy == "quarantine":
        assert res.quarantine["source_row"].tolist() == [2]


def test_rows_differing_in_an_unmapped_column_are_not_duplicates():
    raw = frame([["c", "2024-01-01", "5", "red shirt"], ["c", "2024-01-01", "5", "blue shirt"]],
                cols=("id", "day", "paid", "product"))
    assert len(cleaning.clean_transactions(raw, section(), None).clean) == 2


def test_clean_output_is_canonical_and_input_is_untouched():
    raw = frame([["  7 ", "2024-01-01", "$1,000.50", "A1"]], cols=("id", "day", "paid", "order"))
    before = raw.copy()
    res = cleaning.clean_transactions(raw, section(columns={"order_id": "order"}), None)
    expected = pd.DataFrame({
        "customer_id": pd.Series(["7"], dtype="str"),
        "date": pd.Series(pd.to_datetime(["2024-01-01"]), dtype="datetime64[ns]"),
        "amount": [1000.5],
        "order_id": pd.Series(["A1"], dtype="str"),
    })
    assert_frame_equal(res.clean, expected)
    assert_frame_equal(raw, before)


def test_typed_parquet_style_input_is_accepted():
    raw = pd.DataFrame({"id": ["a", None], "day": pd.to_datetime(["2024-01-01", "2024-01-02"]), "paid": [5.0, 6.0]})
    res = cleaning.clean_transactions(raw, section(), None)
    assert res.clean["amount"].tolist() == [5.0]
    assert res.quarantine["reason"].tolist() == ["missing_customer_id"]


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"columns": {"amount": "price"}}, "mapped column 'price' (for amount) not found"),
        ({"pii_columns": ["mail"]}, "PII (pii_columns) column 'mail' not found"),
        ({"pii_columns": ["id"]}, "column 'id' is mapped as customer_id but listed in pii_columns"),
    ],
    ids=["missing-mapped", "missing-pii", "pii-mapped"],
)
def test_mapping_errors_name_the_column(extra, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cleaning.clean_transactions(frame([["c", "2024-01-01", "5"]]), section(**extra), None, source="f.csv")


# --- the messy export and the real data -------------------------------------------------


@pytest.fixture(scope="module")
def messy():
    params = load_params(ROOT / "tests/data/messy_params.yaml")
    raw, info = read_input(params.transactions)
    return raw, info, cleaning.clean_transactions(raw, params.transactions, params.periods.observation_end)


def test_messy_gbk_export_every_row_named(messy):
    raw, info, res = messy
    assert info.encoding == "gb18030" and info.sep == ","
    assert "客户编号" in raw.columns
    # worked out by hand from tests/data/messy_export_gbk.csv (source_row: reason)
    expected = {
        2: "duplicate", 3: "missing_customer_id", 4: "invalid_date", 5: "invalid_amount",
        7: "negative_amount", 8: "zero_amount", 9: "after_observation_end", 11: "negative_amount",
        13: "missing_customer_id", 14: "invalid_quantity", 17: "duplicate", 18: "invalid_date",
        19: "invalid_amount",
    }
    assert dict(zip(res.quarantine["source_row"], res.quarantine["reason"], strict=True)) == expected
    assert res.clean["customer_id"].tolist() == ["00042", "00044", "00046", "42", "00047", "00048", "00050"]
    assert res.clean["amount"].tolist() == [1234.5, 88.0, 56.4, 19.99, 25.0, 1050.0, 45.0]
    assert res.clean["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-03-05", "2024-03-08", "2024-04-01", "2024-04-03", "2024-04-06", "2024-04-07", "2024-05-02"]
    r = res.report
    assert (r["rows_in"], r["rows_clean"], r["rows_quarantined"]) == (20, 7, 13)
    assert sum(r["by_reason"].values()) == 13
    assert r["repairs"]["id_whitespace_trimmed"] == 1 and r["repairs"]["id_excel_float_suffix"] == 1
    assert r["repairs"]["amount_currency_symbol"] == 4 and r["repairs"]["date_chinese_format"] == 1


def test_messy_export_personal_data_is_gone(messy):
    raw, _, res = messy
    assert res.report["pii_dropped"] == ["手机", "邮箱", "姓名"]
    assert res.report["pii_detected"] == ["备用联系"]  # undeclared e-mail column, found by its values
    personal = set(raw["手机"]) | set(raw["邮箱"]) | set(raw["姓名"]) | set(raw["备用联系"])
    for table in (res.clean, res.quarantine):
        cells = set(table.astype(str).to_numpy().ravel()) | set(table.columns)
        assert not cells & personal
        assert not {"手机", "邮箱", "姓名", "备用联系"} & set(table.columns)


def test_cdnow_cleaning_matches_the_published_counts():
    params = load_params(ROOT / "params/default.yaml")
    raw, _ = read_input(params.transactions)
    res = cleaning.clean_transactions(raw, params.transactions, params.periods.observation_end)
    # PITFALLS.md: 69,659 rows, 23,570 customers, 255 exact duplicate rows, no other defects
    assert res.report["rows_in"] == 69_659
    assert res.report["by_reason"]["duplicate"] == 255 and res.report["rows_quarantined"] == 255
    assert res.report["customers"] == 23_570
    assert (res.clean["amount"] == 0).sum() == 80  # zero-dollar rows are kept by default


def test_summary_tables():
    report = {"rows_in": 10, "by_reason": {"duplicate": 1, "invalid_date": 3}, "repairs": {"a": 0, "b": 2}}
    reasons = cleaning.reason_table(report)
    assert reasons["reason"].tolist() == ["invalid_date", "duplicate"]
    assert reasons["share_of_input"].tolist() == [0.3, 0.1]
    assert cleaning.repair_table(report)["repair"].tolist() == ["b", "a"]
    with pytest.raises(InputError, match="by_reason"):
        cleaning.reason_table({"rows_in": 1})
    with pytest.raises(InputError, match="repairs"):
        cleaning.repair_table({})


def test_monthly_activity_fills_empty_months():
    clean = pd.DataFrame({
        "customer_id": ["a", "b", "a"],
        "date": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-03-01"]),
        "amount": [10.0, 5.0, 7.0],
    })
    out = cleaning.monthly_activity(clean)
    assert out["month"].dt.strftime("%Y-%m").tolist() == ["2024-01", "2024-02", "2024-03"]
    assert out["purchases"].tolist() == [2, 0, 1] and out["revenue"].tolist() == [15.0, 0.0, 7.0]
    assert out["customers"].tolist() == [2, 0, 1]
    with pytest.raises(InputError, match="'amount' missing"):
        cleaning.monthly_activity(clean.drop(columns="amount"))


@pytest.mark.parametrize(
    "params_file, blocksize",
    [("tests/data/messy_params.yaml", 300), ("params/test.yaml", 20_000)],
    ids=["messy-gbk", "cdnow-slice"],
)
def test_dask_path_gives_exactly_the_pandas_result(params_file, blocksize, tmp_path):
    dask = pytest.importorskip("dask")
    from crmlab.engine import bucket_folders, read_parquet
    from crmlab.io import read_input_dask

    params = load_params(ROOT / params_file)
    tx, end = params.transactions, params.periods.observation_end
    raw, _ = read_input(tx)
    expected = cleaning.clean_transactions(raw, tx, end)
    (tmp_path / "t.parquet").write_bytes(b"an earlier run's file")  # replaced by the folder
    with dask.config.set(scheduler="synchronous"):
        ddf, info = read_input_dask(tx, blocksize=blocksize)
        assert info == read_input(tx)[1]
        assert ddf.npartitions > 1  # duplicates and date formats must be found across partitions
        report = cleaning.clean_transactions_dask(ddf, tx, tmp_path / "t.parquet", tmp_path / "q.parquet",
                                                  end, n_buckets=4)
    assert [b for b, _ in bucket_folders(tmp_path / "t.parquet")] == sorted(
        set(customer_bucket(expected.clean["customer_id"], 4)))
    clean = read_parquet(tmp_path / "t.parquet").sort_values(list(expected.clean.columns), ignore_index=True)
    assert_frame_equal(clean, expected.clean.sort_values(list(expected.clean.columns), ignore_index=True))
    quarantine = read_parquet(tmp_path / "q.parquet").sort_values("source_row", ignore_index=True)
    assert_frame_equal(quarantine, expected.quarantine)
    money = ("amount_clean", "amount_quarantined")  # sums taken in another order
    assert {k: v for k, v in report.items() if k not in money} == {
        k: v for k, v in expected.report.items() if k not in money}
    for key in money:
        assert report[key] == pytest.approx(expected.report[key], rel=1e-12)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


@pytest.mark.parametrize("n_buckets", [0, -1, 2.5, True], ids=["zero", "negative", "fraction", "bool"])
def test_dask_cleaning_refuses_a_bad_bucket_count(n_buckets, tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    params = load_params(ROOT / "params/test.yaml")
    raw, _ = read_input(params.transactions)
    with pytest.raises(InputError, match="n_buckets"):
        cleaning.clean_transactions_dask(dd.from_pandas(raw, npartitions=2), params.transactions,
                                         tmp_path / "t", tmp_path / "q", n_buckets=n_buckets)
    assert not list(tmp_path.iterdir())  # nothing written


# --- hostile values: overflow, time zones, ISO dates, stray bytes, personal ids -----------


@pytest.mark.parametrize(
    "amounts, reasons",
    [
        (["inf", "5"], ["invalid_amount", None]),
        (["-inf", "5"], ["invalid_amount", None]),
        (["1e400", "5"], ["invalid_amount", None]),
        (["1e308", "1e308"], ["amount_out_of_range", "amount_out_of_range"]),
        (["NaN", "5"], ["invalid_amount", None]),
        (["2e12", "1e12"], ["amount_out_of_range", None]),
    ],
    ids=["inf", "minus-inf", "1e400", "two-1e308", "nan", "above-max"],
)
def test_non_finite_and_overflowing_amounts_are_quarantined(tmp_path, amounts, reasons):
    from crmlab.io import write_json

    raw = frame([[str(i), f"2024-01-0{i + 1}", a] for i, a in enumerate(amounts)])
    res = cleaning.clean_transactions(raw, section())
    got = [None] * len(amounts)
    for row, reason in zip(res.quarantine["source_row"], res.quarantine["reason"], strict=True):
        got[row - 1] = reason
    assert got == reasons
    assert np.isfinite(res.report["amount_clean"]) and np.isfinite(res.report["amount_quarantined"])
    write_json(res.report, tmp_path / "r.json")  # totals are finite: the report is valid JSON


def test_max_amount_is_a_param():
    raw = frame([["1", "2024-01-01", "500"], ["2", "2024-01-02", "50"]])
    res = cleaning.clean_transactions(raw, section(max_amount=100))
    assert res.quarantine["reason"].tolist() == ["amount_out_of_range"]
    assert res.report["by_reason"]["amount_out_of_range"] == 1


@pytest.mark.parametrize(
    "values, zone, expected",
    [
        (["2024-03-05T09:00:00Z"], "UTC", ["2024-03-05 09:00:00"]),
        (["2024-03-05T09:00:00+08:00", "2024-03-05T09:00:00-05:00"], "UTC",
         ["2024-03-05 01:00:00", "2024-03-05 14:00:00"]),
        (["2024-03-05T09:00:00Z", "2024-03-05 12:30"], "Asia/Shanghai",
         ["2024-03-05 17:00:00", "2024-03-05 12:30:00"]),
        (["2024-07-01 23:30:00+0000"], "Europe/Berlin", ["2024-07-02 01:30:00"]),
        (["2024-03-05 09:00:00 UTC", "bad"], "UTC", ["2024-03-05 09:00:00", None]),
    ],
    ids=["zulu", "mixed-offsets", "zone-and-naive", "compact-offset-dst", "utc-word-and-bad"],
)
def test_zoned_timestamps_are_converted_to_the_declared_zone_then_naive(values, zone, expected):
    raw = frame([[str(i), v, "5"] for i, v in enumerate(values)])
    res = cleaning.clean_transactions(raw, section(timezone=zone))
    want = pd.to_datetime(pd.Series([e for e in expected if e]))
    assert res.clean["date"].dtype == "datetime64[ns]"
    assert res.clean["date"].tolist() == want.tolist()
    assert res.report["repairs"]["date_timezone_converted"] == sum(v[-1].isalpha() or "+" in v[10:] or "-" in v[10:] for v in values if v != "bad")


def test_typed_zoned_column_is_converted_not_just_stripped():
    values = pd.Series(pd.to_datetime(["2024-03-05T09:00:00Z"], utc=True))
    out, _ = cleaning.parse_dates(values, timezone="Asia/Shanghai")
    assert out.iloc[0] == pd.Timestamp("2024-03-05 17:00")


@pytest.mark.parametrize(
    "values",
    [
        ["2024-01-05", "2024-01-13", "2024-02-01"],
        ["2024/01/05", "2024/12/01"],
        ["2024-01-05 10:00:00", "2024-01-06 11:00:00"],
        ["2024-01-13", "2024-01-05"],
    ],
    ids=["iso", "slashes", "iso-time", "unambiguous-first"],
)
def test_iso_dates_are_never_read_day_first(values):
    out, rep = cleaning.parse_dates(pd.Series(values), dayfirst=True)
    assert out.tolist() == pd.to_datetime(pd.Series(values), format="mixed").tolist()
    assert rep["date_second_format"] == 0  # nothing was "repaired"


def test_dayfirst_still_applies_to_day_month_dates_next_to_iso():
    out, _ = cleaning.parse_dates(pd.Series(["2024-01-05", "03/04/2024"]), dayfirst=True)
    assert out.tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-04-03")]


@pytest.mark.parametrize("stray", [b"\xe9", b"\xfc", b"\x80", b"\xff\xfe"], ids=["e-acute", "u-umlaut", "0x80", "ff-fe"])
def test_rows_with_undecodable_bytes_are_quarantined_not_misread(tmp_path, stray):
    body = "id,day,paid,name_note\n" + "".join(f"Mü{i},2024-01-0{i},5,Müller\n" for i in range(1, 6))
    data = body.encode("utf-8").replace(b"3,2024-01-03,5,M", b"3,2024-01-03,5,M" + stray)
    data = data.replace("Mü3".encode(), b"M" + stray + b"3")
    (tmp_path / "t.csv").write_bytes(data)
    sec = params_from_dict({"transactions": {"path": str(tmp_path / "t.csv"),
                                             "columns": {"customer_id": "id", "date": "day", "amount": "paid"}}}).transactions
    with pytest.warns(UserWarning, match="not valid UTF-8"):
        raw, info = read_input(sec)
    assert info.encoding == "utf-8"
    res = cleaning.clean_transactions(raw, sec)
    assert res.quarantine["source_row"].tolist() == [3]
    assert res.quarantine["reason"].tolist() == ["undecodable_text"]
    assert res.report["by_reason"]["undecodable_text"] == 1
    assert raw["id"].tolist()[:2] == ["Mü1", "Mü2"]  # never M眉1
    assert res.clean["customer_id"].tolist() == ["Mü1", "Mü2", "Mü4", "Mü5"]


@pytest.mark.parametrize(
    "ids, kind",
    [
        (["ann@example.com", " Ann@Example.com", "bob@example.org"], "email"),
        (["+86 138 0013 8000", "+86-138-0013-8000", "13900138000"], "phone"),
        (["11010519491231002X", "440304199001011233", "11010519491231002x"], "id_card"),
    ],
    ids=["email", "phone", "cn-id-card"],
)
def test_personal_customer_ids_are_pseudonymised_with_the_key(monkeypatch, ids, kind):
    from crmlab import privacy

    monkeypatch.setenv(privacy.KEY_ENV, "k" * 32)
    raw = frame([[c, f"2024-01-0{i + 1}", "5"] for i, c in enumerate(ids)] + [["", "2024-01-09", "1"]])
    res = cleaning.clean_transactions(raw, section())
    assert res.clean["customer_id"].str.fullmatch(r"pid_[0-9a-f]{20}").all()
    assert res.clean["customer_id"].nunique() == 2  # normalised before hashing: same person, same id
    assert res.quarantine["reason"].tolist() == ["missing_customer_id"]
    text = res.clean.to_csv() + res.quarantine.to_csv()
    assert not any(c.strip() in text for c in ids)
    monkeypatch.delenv(privacy.KEY_ENV)
    with pytest.raises(InputError, match=f"id column 'id' holds personal data \\({kind}\\)"):
        cleaning.clean_transactions(raw, section())


@pytest.mark.parametrize(
    "amounts, counts, median, p90",
    [([0.0, -1.0, 1.0, 10.0, 100.0], [1, 2], 10.0, 82.0),  # zero and refunds left out
     ([5.0, 5.0, 5.0], [3], 5.0, 5.0),  # one value: edges around it, every purchase counted
     ([0.0, -2.0], [], None, None)],
    ids=["log-bins", "one-value", "nothing-positive"],
)
def test_order_value_summary_by_hand(amounts, counts, median, p90):
    got = cleaning.order_value_summary(pd.Series(amounts), bins=3)
    assert (got["counts"].tolist() if len(counts) != 1 else [got["counts"].sum()]) == counts
    assert got["median"] == median and got["p90"] == (None if p90 is None else pytest.approx(p90))
    if counts:
        assert got["edges"][0] <= min(a for a in amounts if a > 0) <= got["edges"][-1]


def test_dask_monthly_activity_needs_the_columns():
    dd = pytest.importorskip("dask.dataframe")
    frame = dd.from_pandas(pd.DataFrame({"customer_id": ["a"], "date": pd.to_datetime(["2024-01-01"])}),
                           npartitions=1)
    with pytest.raises(InputError, match="'amount' missing"):
        cleaning.monthly_activity(frame)


@pytest.mark.parametrize("observation_end, clean_rows", [("1990-01-01", 0), ("1998-06-30", None)],
                         ids=["every-row-quarantined", "some-clean"])
def test_dask_cleaning_writes_readable_products_when_one_is_empty(observation_end, clean_rows, tmp_path):
    dask = pytest.importorskip("dask")
    from crmlab.engine import read_parquet
    from crmlab.io import read_input_dask

    params = load_params(ROOT / "params/test.yaml")
    with dask.config.set(scheduler="synchronous"):
        ddf, _ = read_input_dask(params.transactions, blocksize=20_000)
        report = cleaning.clean_transactions_dask(ddf, params.transactions, tmp_path / "t", tmp_path / "q",
                                                  observation_end, n_buckets=4)
    clean, quarantine = read_parquet(tmp_path / "t"), read_parquet(tmp_path / "q")
    assert len(clean) == report["rows_clean"] and len(quarantine) == report["rows_quarantined"]
    assert list(clean.columns) == ["customer_id", "date", "amount", "quantity"]
    if clean_rows is not None:
        assert len(clean) == clean_rows and report["date_min"] is None and report["customers"] == 0


# --- the fast paths for large columns give the reference results --------------------------

_ODD_AMOUNTS = ["-0", "0", "0.00", "-0.0", "$12.50", "(3.20)", "1,234.50", "12,5", "", "nan",
                " 7 ", "+5", "1e400", "inf", "123456789012345678", "-12", "5.", ".5", "１２",
                "RMB 30", "1 234", "- 4", "abc", "9999999999999999", "-3.25", "1.234"]


@pytest.mark.parametrize("decimal", [".", ","], ids=["decimal-point", "decimal-comma"])
@pytest.mark.parametrize("kind", ["ints", "decimals"], ids=["ints", "decimals"])
def test_parse_amounts_fast_path_matches_text_path(decimal, kind):
    from crmlab.cleaning.parsing import _FAST_MIN_ROWS, _parse_amount_text

    rng = np.random.default_rng(7)
    n = _FAST_MIN_ROWS + 500
    if kind == "ints":
        base = rng.integers(-1000, 1000, n).astype(str).astype(object)
    else:
        base = np.round(rng.uniform(-500, 500, n), 2).astype(str).astype(object)
    base[rng.integers(0, n, 200)] = rng.choice(np.array(_ODD_AMOUNTS, dtype=object), 200)
    values = pd.Series(list(base), dtype="str")
    fast, fast_rep = cleaning.parse_amounts(values, decimal)
    ref, ref_rep = _parse_amount_text(values, decimal)
    assert fast_rep == ref_rep
    # bit for bit (-0.0 is not 0.0), NaN where the reference has NaN
    a, b = fast.to_numpy(), ref.to_numpy()
    assert np.array_equal(np.isnan(a), np.isnan(b))
    assert np.array_equal(a[~np.isnan(a)].view(np.int64), b[~np.isnan(b)].view(np.int64))


def _dup_frames(seed, n=3000):
    rng = np.random.default_rng(seed)
    canon = pd.DataFrame({
        "customer_id": pd.Series(rng.integers(0, 40, n).astype(str), dtype="str"),
        "date": pd.to_datetime(rng.integers(0, 4, n), unit="D"),
        "amount": rng.integers(0, 3, n).astype(float),
    })
    canon.loc[rng.integers(0, n, 15), "amount"] = np.nan
    canon.loc[rng.integers(0, n, 15), "customer_id"] = np.nan
    others = pd.DataFrame({"note": pd.Series(rng.integers(0, 2, n).astype(str), dtype="str")})
    return canon, others, pd.Series(rng.random(n) > 0.1)


@pytest.mark.parametrize("seed", [0, 1, 2], ids=["s0", "s1", "s2"])
def test_find_duplicates_matches_group_by(seed):
    from crmlab.cleaning.duplicates import duplicate_key, find_duplicates

    canon, others, cand = _dup_frames(seed)
    key = duplicate_key(canon, others)
    expected = pd.Series(False, index=canon.index)
    expected[cand] = key[cand].duplicated(keep="first")
    pd.testing.assert_series_equal(find_duplicates(canon, others, cand), expected)
    pd.testing.assert_series_equal(find_duplicates(canon, others), key.duplicated(keep="first"))


def test_find_duplicates_hash_collision_falls_back_to_group_by(monkeypatch):
    from crmlab.cleaning import keys
    from crmlab.cleaning.duplicates import duplicate_key, find_duplicates

    canon, others, _ = _dup_frames(3)
    # every row the same hash: the check on the values sees different rows grouped
    monkeypatch.setattr(keys, "row_hash", lambda cols: np.zeros(len(cols[0]), dtype=np.int64))
    got = find_duplicates(canon, others)
    pd.testing.assert_series_equal(got, duplicate_key(canon, others).duplicated(keep="first"))


@pytest.mark.parametrize("params_file", ["tests/data/messy_params.yaml", "params/test.yaml"],
                         ids=["messy-gbk", "cdnow-slice"])
def test_columns_parsed_side_by_side_give_the_one_thread_result(params_file, monkeypatch):
    # a big export's columns are parsed on threads; force that on small data and compare
    # everything cleaning returns (rows, values, reasons, report with its repair counts)
    from crmlab.cleaning import rules

    params = load_params(ROOT / params_file)
    tx, end = params.transactions, params.periods.observation_end
    raw, _ = read_input(tx)
    serial = cleaning.clean_transactions(raw, tx, end)
    pools = force_threads(monkeypatch, rules, "PARALLEL_MIN_ROWS")
    threaded = cleaning.clean_transactions(raw, tx, end)
    assert pools and pools[0]["max_workers"] == 2  # the threaded path ran
    assert_frame_equal(threaded.clean, serial.clean, check_exact=True)
    assert_frame_equal(threaded.quarantine, serial.quarantine, check_exact=True)
    assert json.dumps(threaded.report) == json.dumps(serial.report)  # same keys, same order
