"""Readers and writers on small files made here: encodings, delimiters, formats, failures."""

from __future__ import annotations

import hashlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from pandas.testing import assert_frame_equal  # noqa: E402

from crmlab import io  # noqa: E402
from crmlab.config import params_from_dict  # noqa: E402
from crmlab.errors import InputError  # noqa: E402

CHINESE = "客户编号,下单日期,实付金额\n00001,2024-01-02,88.50\n00002,2024年1月3日,12\n"


@pytest.mark.parametrize(
    "data, expected",
    [
        (CHINESE.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + CHINESE.encode("utf-8"), "utf-8-sig"),
        (CHINESE.encode("gbk"), "gb18030"),
        (b"id,amount\n1,2\n", "utf-8"),
    ],
    ids=["utf8", "utf8-bom", "gbk", "ascii"],
)
def test_detect_encoding(tmp_path, data, expected):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert io.detect_encoding(path) == expected


def test_undecodable_file_asks_for_an_encoding(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n\xff\xfe\xfa\x80,1\n" * 3)
    with pytest.raises(InputError, match="set 'encoding' in the params"):
        io.detect_encoding(path)


@pytest.mark.parametrize(
    "text, sep",
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a\tb\n1\t2\n", "\t"),
        ("a|b\n1|2\n", "|"),
        (" id  date  amount\n 001 19970101  1.5\n", io.WHITESPACE),
        ('a,b\n"1,5",2\n', ","),
    ],
    ids=["comma", "semicolon", "tab", "pipe", "whitespace", "quoted-comma"],
)
def test_sniff_separator(text, sep):
    assert io.sniff_separator(text) == sep


def test_read_gbk_csv_with_chinese_headers_keeps_text(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(CHINESE.encode("gbk"))
    df, info = io.read_table(path)
    assert list(df.columns) == ["客户编号", "下单日期", "实付金额"]
    assert df["客户编号"].tolist() == ["00001", "00002"]  # leading zeros kept: text, not numbers
    assert info.encoding == "gb18030" and info.sep == "," and info.format == "text"


def test_read_whitespace_file_like_cdnow(tmp_path):
    path = tmp_path / "cdnow.txt"
    path.write_text(" customer_id  date number_of_cds  dollar_value\n 00001 19970101  1   11.77\n")
    df, info = io.read_table(path)
    assert info.sep == io.WHITESPACE
    assert df.iloc[0].tolist() == ["00001", "19970101", "1", "11.77"]


def test_blank_cells_are_empty_strings_not_nan(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("id,amount\n,5\nNA,6\n")
    df, _ = io.read_table(path)
    assert df["id"].tolist() == ["", "NA"]


def test_read_excel_and_parquet(tmp_path):
    frame = pd.DataFrame({"id": ["007", "008"], "amount": ["1.5", "2"]})
    xlsx = tmp_path / "f.xlsx"
    with pd.ExcelWriter(xlsx) as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="Notes", index=False)
        frame.to_excel(writer, sheet_name="Orders", index=False)
    df, info = io.read_table(xlsx, sheet_name="Orders")
    assert info.format == "excel" and df["id"].tolist() == ["007", "008"]
    pq = tmp_path / "f.parquet"
    typed = pd.DataFrame({"id": ["a"], "amount": [1.5]})
    typed.to_parquet(pq)
    df, info = io.read_table(pq)
    assert info.format == "parquet"
    assert_frame_equal(df, typed)


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "file not found"),
        (b"", "file is empty"),
        (b"id,amount\n", "has a header but no data rows"),
        (b"id,id\n1,2\n", "column 'id' appears more than once"),
    ],
    ids=["missing", "empty", "header-only", "duplicate-header"],
)
def test_read_table_errors_name_the_file(tmp_path, content, message):
    path = tmp_path / "broken.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as info:
        io.read_table(path)
    assert str(info.value).startswith(str(path)) and message in str(info.value)


def test_check_inputs_names_the_missing_column(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("cust,day,paid\n1,2024-01-01,5\n")
    params = params_from_dict({"transactions": {
        "path": str(path), "columns": {"customer_id": "cust", "date": "day", "amount": "price"}}})
    with pytest.raises(InputError, match=r"orders.csv: mapped column 'price' not found \(columns: cust, day, paid\)"):
        io.check_inputs(params)
    ok = params_from_dict({"transactions": {
        "path": str(path), "columns": {"customer_id": "cust", "date": "day", "amount": "paid"}}})
    assert io.check_inputs(ok) == [f"transactions: {path} (3 columns)"]


def test_writers_are_atomic_and_leave_no_temp_files(tmp_path):
    df = pd.DataFrame({"a": [1, 2]})
    io.write_parquet(df, tmp_path / "sub" / "x.parquet")
    io.write_json({"n": pd.Series([3]).iloc[0], "when": pd.Timestamp("2024-01-01")}, tmp_path / "x.json")
    assert io.read_json(tmp_path / "x.json") == {"n": 3, "when": "2024-01-01T00:00:00"}
    assert_frame_equal(pd.read_parquet(tmp_path / "sub" / "x.parquet"), df)
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    assert io.save_figure(fig, tmp_path / "figs", "line").read_bytes()[:4] == b"\x89PNG"
    plt.close(fig)
    table = io.save_table(pd.DataFrame({"名": ["甲"]}), tmp_path / "tabs", "t")
    assert table.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel-friendly UTF-8
    leftovers = [p for p in tmp_path.rglob(".*.tmp")]
    assert leftovers == []
    with pytest.raises(ValueError):
        io.write_json({"bad": float("nan")}, tmp_path / "nan.json")
    assert not (tmp_path / "nan.json").exists()


def test_file_sha256(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"crmlab")
    assert io.file_sha256(path) == hashlib.sha256(b"crmlab").hexdigest()


def test_written_files_are_readable_by_the_team(tmp_path):
    path = io.write_text("hello", tmp_path / "report.html")
    assert path.stat().st_mode & 0o777 == 0o644


def test_read_legacy_xls(tmp_path):
    # tests/data/orders.xls was written by xlwt (Excel 97-2003 format); read through xlrd
    df, info = io.read_table(Path(__file__).parent / "data" / "orders.xls", sheet_name="Orders")
    assert info.format == "excel"
    assert df["customer_id"].tolist() == ["00017", "00042"]
    assert df["amount"].astype(float).tolist() == [12.5, 30.0]


# --- hostile files: bounded reading, honest decoding, personal data, formulas --------------


@pytest.mark.parametrize(
    "data, encoding, noted",
    [
        (("id,name\n" + "1,Müller\n" * 20).encode("utf-8"), "utf-8", False),
        (("id,name\n" + "1,Müller\n" * 20).encode("utf-8") + b"2,Caf\xe9\n", "utf-8", True),
        (("id,name\n" + "1,Müller\n" * 20).encode("utf-8") + b"2,M\xfcller\n", "utf-8", True),
        (("客户,金额\n" + "张三,1\n" * 20).encode("gbk"), "gb18030", False),
        ("id,name\n1,Müller\n".encode("latin-1"), "gb18030", True),
        (("id,name\n" + "1,Müller\n" * 30).encode("latin-1"), "gb18030", True),
    ],
    ids=["clean-utf8", "utf8-stray-e-acute", "utf8-stray-latin1-umlaut", "clean-gbk",
         "ascii-plus-one-latin1", "latin1-file"],
)
def test_encoding_fits_the_whole_file_or_says_so(tmp_path, data, encoding, noted):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    enc, _, note = io.detect_encoding_report(path)
    assert enc == encoding and (note is not None) == noted
    if noted:
        with pytest.warns(UserWarning):
            _, info = io.read_table(path)
        assert info.notes


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "folder-as-csv"])
def test_only_regular_files_are_read(tmp_path, kind):
    import os

    if kind == "dev-zero":
        path = tmp_path.parent / "nope" if not os.path.exists("/dev/zero") else __import__("pathlib").Path("/dev/zero")
        message = "not a regular file"
    elif kind == "fifo":
        path = tmp_path / "pipe.csv"
        os.mkfifo(path)
        message = "not a regular file"
    else:
        path = tmp_path / "dir.csv"
        path.mkdir()
        message = "is a folder"
    with pytest.raises(InputError, match=message):
        io.read_table(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"a," * (2**20), "the first line is longer than 1 MB"),
        (b"x" * (3 * 2**20), "the first line is longer than 1 MB"),
        (",".join(f"c{i}" for i in range(12_000)).encode() + b"\n" + b"1," * 11_999 + b"1\n", "more than 10,000"),
        (",".join(["a"] * 9_000).encode() + b"\n" + b"1," * 8_999 + b"1\n", "column 'a' appears more than once"),
    ],
    ids=["1mb-of-fields", "3mb-no-newline", "too-many-columns", "wide-duplicate-header"],
)
def test_reading_is_bounded_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "wide.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        io.read_table(path)


def test_size_limit_and_bad_reader_option_values_are_input_errors(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n" + "1,2\n" * 1000)
    with pytest.raises(InputError, match="above max_size_mb"):
        io.read_table(path, max_size_mb=0.001)
    with pytest.raises(InputError, match="cannot read as text"):
        io.read_table(path, reader={"skiprows": "abc"})


PERSONAL = {
    "email": [f"user{i}@example.com" for i in range(6)],
    "phone": ["+1 (555) 123-4567", "+44 20 7946 0958", "13800138000", "+86 139 0013 8000",
              "555-123-4567", "(555) 987-6543"],
    "cn_id": ["11010519491231002X", "440304199001011233", "310115198510234560"] * 2,
    "ssn": ["123-45-6789", "987-65-4321", "111-22-3333"] * 2,
}


@pytest.mark.parametrize("kind", sorted(PERSONAL))
@pytest.mark.parametrize("section_kind", ["survey", "churn"])
def test_every_input_is_screened_for_personal_columns(tmp_path, kind, section_kind):
    n = 6
    df = pd.DataFrame({
        "q1": [str(1 + i % 5) for i in range(n)], "q2": [str(1 + (i + 1) % 5) for i in range(n)],
        "left": ["yes", "no"] * 3, "phone_service": ["Yes", "No"] * 3,
        "order_no": [f"{20240101000 + i}" for i in range(n)], "contact_value": PERSONAL[kind],
        "Customer Name": ["Ann", "Bob", "Cy", "Di", "Ed", "Flo"],
    })
    path = tmp_path / "in.csv"
    df.to_csv(path, index=False)
    raw = {"path": str(path)}
    if section_kind == "survey":
        raw.update(constructs={"A": ["q1"], "B": ["q2"]}, outcome="B")
    else:
        raw.update(target="left")
    sec = params_from_dict({section_kind: raw})[section_kind]
    with pytest.warns(UserWarning, match="look like personal data"):
        out, info = io.read_input(sec)
    assert "contact_value" not in out.columns and "Customer Name" not in out.columns
    assert {"phone_service", "order_no"} <= set(out.columns)  # not personal: kept
    assert info.privacy["pii_detected"] == ["contact_value", "Customer Name"]


@pytest.mark.parametrize(
    "cell, written",
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+SUM(1,2)", "'+SUM(1,2)"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-5.2", "-5.2"),
        ("+3", "+3"),
        ("plain", "plain"),
    ],
    ids=["equals", "plus", "minus-formula", "at", "tab", "cr", "negative-number-text", "plus-number", "text"],
)
def test_save_table_neutralises_formulas_but_not_numbers(tmp_path, cell, written):
    df = pd.DataFrame({"label": [cell], "value": [-5.2], cell: [1]})
    path = io.save_table(df, tmp_path, "t")
    back = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert back["label"].iloc[0] == written and back["value"].iloc[0] == "-5.2"
    assert back.columns[2] == written
    assert df["label"].iloc[0] == cell  # the caller's frame is untouched


@pytest.mark.parametrize("engine", ["pandas", "dask"])
def test_transaction_ids_that_are_email_addresses_are_pseudonymised_on_reading(tmp_path, monkeypatch, engine):
    from crmlab import privacy

    monkeypatch.setenv(privacy.KEY_ENV, "x" * 20)
    rows = [f"u{i % 3}@example.com,2024-01-0{i + 1},{i + 1}.5,secret{i}@example.org" for i in range(6)]
    (tmp_path / "t.csv").write_text("mail,day,paid,other\n" + "\n".join(rows) + "\n")
    sec = params_from_dict({"transactions": {"path": str(tmp_path / "t.csv"),
                                             "columns": {"customer_id": "mail", "date": "day", "amount": "paid"}}}).transactions
    if engine == "dask":
        pytest.importorskip("dask")
        ddf, info = io.read_input_dask(sec, blocksize=60)
        df = ddf.compute()
    else:
        df, info = io.read_input(sec)
    assert info.privacy["pseudonymised"] == {"mail": "email"}
    assert df["mail"].str.fullmatch(r"pid_[0-9a-f]{20}").all() and df["mail"].nunique() == 3
    assert info.privacy["pii_detected"] == ["other"]  # named here; the cleaning rules drop it


def test_write_parquet_in_background_writes_atomically_and_reports_errors(tmp_path):
    from crmlab.io import write_parquet_in_background

    df = pd.DataFrame({"customer_id": pd.array(["a", "b"], dtype="str"), "x": [1.5, 2.5]})
    path = write_parquet_in_background(df, tmp_path / "out" / "c.parquet").result(timeout=60)
    assert path == tmp_path / "out" / "c.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(path), df)
    assert [p.name for p in path.parent.iterdir()] == ["c.parquet"]  # no temporary left
    (tmp_path / "file").write_text("x")
    failed = write_parquet_in_background(df, tmp_path / "file" / "c.parquet")  # under a file
    with pytest.raises(OSError):
        failed.result(timeout=60)
