"""The cleaning's fast paths give exactly what the general (pandas) paths give."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest

from crmlab.cleaning import fastdates, parsing

FORMATS = ["%Y%m%d", "%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%m/%d/%Y", "%d/%m/%Y"]


def _date_texts(fmt: str, n: int, seed: int) -> list:
    """Dates of ``fmt`` (many impossible or out of range), mangled ones and other forms."""
    rng = np.random.default_rng(seed)
    # pandas itself fails on a column holding a year outside datetime64[ns] (tested below)
    y = rng.choice([1678, 1900, 1996, 2000, 2023, 2024, 2100, 2261], n)
    y = np.where(rng.random(n) < 0.5, rng.integers(1678, 2262, n), y)
    m = np.where(rng.random(n) < 0.8, rng.integers(1, 13, n), rng.choice([0, 13, 19, 99], n))
    d = np.where(rng.random(n) < 0.7, rng.integers(1, 29, n), rng.choice([0, 29, 30, 31, 32, 39], n))
    out: list = []
    for yi, mi, di in zip(y, m, d, strict=True):
        text = fmt.replace("%Y", f"{yi:04d}").replace("%m", f"{mi:02d}").replace("%d", f"{di:02d}")
        r = rng.random()
        if r < 0.04:
            text = fmt.replace("%Y", str(yi)).replace("%m", str(mi)).replace("%d", str(di))  # 2024-1-5
        elif r < 0.07:
            pos = int(rng.integers(len(text)))
            text = text[:pos] + str(rng.choice(list("x -/."))) + text[pos + 1 :]
        elif r < 0.09:
            text = str(rng.choice([" ", "\t"])) + text + str(rng.choice(["", " "]))
        elif r < 0.12:
            text = str(rng.choice(["", "nan", "NULL", "-", "n/a", "2024年3月5日", "2024-01-05T10:00:00Z",
                                   "2024-03-05 08:30:00+08:00", "05 Mar 2024", "20240305", "2024-03-05",
                                   "03/05/2024", "5.3.2024", "1e7", "00000000", "202٣0305", "٢٠٢٤-٠٣-٠٥"]))
        out.append(text)
    out = _readable(out, fmt)
    out[5] = None
    return out


def _readable(texts: list, fmt: str) -> list:
    """``texts`` without the values pandas fails on (bisecting: the failures are few).

    A year outside datetime64[ns] (``0230604`` read as year 230) makes pandas fail on the
    whole column; such values are tested on their own below.
    """
    first = fmt.replace("%Y", "2020").replace("%m", "01").replace("%d", "02")
    try:
        for given in (fmt, None):
            parsing._parse_date_text(pd.Series([first, *texts], dtype="str"), given, False, None, "UTC")
    except (ValueError, OverflowError):
        if len(texts) == 1:
            return []
        half = len(texts) // 2
        return _readable(texts[:half], fmt) + _readable(texts[half:], fmt)
    return texts


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("given", [True, False])
def test_fixed_width_dates_match_pandas(fmt, given):
    texts = _date_texts(fmt, 2500, seed=len(fmt) + given)
    date_format = fmt if given else None
    if not given:
        texts[0] = fmt.replace("%Y", "2020").replace("%m", "01").replace("%d", "02")  # the guess
    values = pd.Series(texts, dtype="str", index=np.arange(10, 10 + len(texts)))
    if given:  # in chunks, as read from a Parquet file
        values = _chunked(texts, 3).set_axis(values.index)
    assert fastdates.fixed_width_days(values, fmt)[1].sum() > 1000  # the fast path is taken
    got, rep = parsing.parse_dates(values, date_format)
    want, want_rep = parsing._parse_date_text(values, date_format, False, None, "UTC")
    pd.testing.assert_series_equal(got, want)
    assert rep == want_rep
    assert list(rep) == list(want_rep)


def test_fixed_width_dates_all_plain_and_none_plain():
    plain = pd.Series(["19970101", "20000229", "19991231"] * 500, dtype="str")
    got, rep = parsing.parse_dates(plain, "%Y%m%d")
    want, want_rep = parsing._parse_date_text(plain, "%Y%m%d", False, None, "UTC")
    pd.testing.assert_series_equal(got, want)
    assert rep == want_rep
    other = pd.Series(["1997-01-01", "x", ""] * 500, dtype="str")
    got, rep = parsing.parse_dates(other, "%Y%m%d")
    want, want_rep = parsing._parse_date_text(other, "%Y%m%d", False, None, "UTC")
    pd.testing.assert_series_equal(got, want)
    assert rep == want_rep


def test_fixed_width_dates_sliced_arrow_array():
    values = pd.Series(["x"] * 7 + ["20240229", "20230229", "20241301"] * 600, dtype="str").iloc[7:]
    got, _ = parsing.parse_dates(values, "%Y%m%d")
    want, _ = parsing._parse_date_text(values, "%Y%m%d", False, None, "UTC")
    pd.testing.assert_series_equal(got, want)


@pytest.mark.parametrize("text", ["16000101", "22620501", "99991231"])
def test_fixed_width_dates_out_of_range_fail_as_pandas_does(text):
    values = pd.Series(["20240101"] * 1500 + [text], dtype="str")
    with pytest.raises(pd.errors.OutOfBoundsDatetime):
        parsing._parse_date_text(values, "%Y%m%d", False, None, "UTC")
    with pytest.raises(pd.errors.OutOfBoundsDatetime):
        parsing.parse_dates(values, "%Y%m%d")


@pytest.mark.parametrize("fmt", ["%Y%m", "%Y-%m-%d %H:%M", "%y%m%d", "%Y %m %d", "-%Y%m%d", "%Y%m%d-", "%Y%m%d%d"])
def test_date_layout_refuses_other_formats(fmt):
    assert fastdates.date_layout(fmt) is None


def test_date_layout():
    assert fastdates.date_layout("%d.%m.%Y") == (10, {"d": 0, "m": 3, "Y": 6}, {2: 46, 5: 46})


def test_guess_date_format_looks_past_the_head():
    values = pd.Series([""] * 1500 + ["2024-03-05"], dtype="str")
    assert parsing.guess_date_format(values) == "%Y-%m-%d"
    assert parsing.guess_date_format(pd.Series([""] * 1500, dtype="str")) is None


def _chunked(texts: list, pieces: int) -> pd.Series:
    """An Arrow ``str`` column in ``pieces`` chunks (as a Parquet file's row groups are read)."""
    import pyarrow as pa

    bounds = np.linspace(0, len(texts), pieces + 1).astype(int)
    arr = pa.array(["pad"] + texts, pa.large_string()).slice(1)  # a chunk with an offset
    chunks = [arr.slice(a, b - a) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    proto = pd.Series(["x"], dtype="str")
    return pd.Series(type(proto.array)(pa.chunked_array(chunks, pa.large_string()), dtype=proto.dtype))


FAST = ("trimmed", "holds_byte", "all_ascii", "byte_set", "fixed_width_days")


@pytest.fixture
def reference(monkeypatch):
    """Run ``parsing`` without its fast paths (each helper answers None: "cannot tell")."""

    def slow(fn):
        def call():
            with monkeypatch.context() as m:
                for name in FAST:
                    m.setattr(parsing, name, lambda *a, **k: None)
                m.setattr("crmlab.cleaning.rules.all_ascii", lambda *a, **k: None)
                return fn()
        return call

    return slow


def _texts(n: int, seed: int) -> list[str]:
    """Short texts mixing digits, dots, signs, white space, letters and missing tokens."""
    rng = np.random.default_rng(seed)
    alphabet = list("0123456789012345678901234567890123456789..--+ ,$\ta\xa0é\u3000") + ["€", "٣"]
    special = ["", "NA", "nan", "N/A", "null", "-", "--", "#N/A", "NONE", "na ", " 12", "12 ", "-0", "0.0",
               "007", "1e5", "12.", ".5", "-.5", "--5", "5-", "1.2.3", "123456789012345", "1234567890123456",
               "12345678901234.5", "-12345678901234", "42.0", "0042", "42.000", "4.2", "x\ufffd", "1,234.50",
               "(12.5)", "$ 3.20", "12,5", "ǅ", "\u212a"]
    out = []
    for _ in range(n):
        if rng.random() < 0.2:
            out.append(str(rng.choice(special)))
        else:
            out.append("".join(rng.choice(alphabet, int(rng.integers(1, 9)))))
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_text_fast_paths_match_reference(seed, reference):
    values = pd.Series(_texts(12_000, seed), dtype="str")
    clean = pd.Series(["12.5", "3", "-7.25", "abc", "42.0", "NA", "0"] * 2000, dtype="str")
    for s in (values, clean, values.iloc[3:], _chunked(_texts(12_000, seed + 5), 3)):
        for fn in (parsing.as_text, parsing.is_missing_token, parsing.has_zone):
            pd.testing.assert_series_equal(fn(s), reference(partial(fn, s))())
        for fn in (parsing.normalise_ids, partial(parsing.normalise_ids, strip_leading_zeros=True),
                   parsing.parse_amounts, partial(parsing.parse_amounts, decimal=",")):
            (got, rep), (want, want_rep) = fn(s), reference(partial(fn, s))()
            pd.testing.assert_series_equal(got, want)
            assert rep == want_rep


def test_trimmed_and_bytes():
    from crmlab.cleaning import textbytes as tb

    assert tb.trimmed(pd.Series(["a", "b c", ""], dtype="str")) is True
    for edge in (" a", "a ", "\ta", "a\u3000", "\xa0a", "a\n"):
        assert tb.trimmed(pd.Series(["a", edge, ""], dtype="str")) is False
    assert tb.trimmed(pd.Series(["a", None], dtype="str")) is None
    assert tb.trimmed(pd.Series([1, 2])) is None
    assert tb.holds_byte(pd.Series(["a:b", "c"], dtype="str"), ":") is True
    assert tb.holds_byte(pd.Series(["ab", ""], dtype="str"), ":") is False
    assert tb.all_ascii(pd.Series(["ab", "é"], dtype="str")) is False
    start = np.zeros(256, dtype=bool)
    start[ord("n")] = True
    got = tb.short_values(_chunked(["nan", "", "x", "nanana", "é", "n"], 2), 4, start)
    np.testing.assert_array_equal(got, [True, True, False, False, False, True])


def test_select_rows_is_boolean_indexing():
    from crmlab.cleaning.duplicates import select_rows

    rng = np.random.default_rng(3)
    n = 3000
    df = pd.DataFrame({
        "customer_id": _chunked([f"c{i % 97}" if i % 11 else None for i in range(n)], 4),
        "date": pd.to_datetime(rng.integers(0, 10**9, n), unit="s"),
        "amount": rng.normal(size=n),
        "obj": pd.Series([str(i) for i in range(n)], dtype=object),
        "reason": pd.Series([pd.NA] * n, dtype=object),
    }, index=np.arange(5, 5 + n))
    for mask in (rng.random(n) < 0.5, np.ones(n, dtype=bool), np.zeros(n, dtype=bool)):
        pd.testing.assert_frame_equal(select_rows(df, mask), df[mask].reset_index(drop=True))


def test_one_chunk_keeps_values():
    from crmlab.cleaning.textbytes import one_chunk

    s = _chunked(["a", None, "b", "c"], 3).set_axis([4, 5, 6, 7]).rename("x")
    got = one_chunk(s)
    pd.testing.assert_series_equal(got, s)
    assert got.array.__arrow_array__().num_chunks == 1
    plain = pd.Series([1, 2])
    assert one_chunk(plain) is plain


@pytest.mark.parametrize("alphabet", ["0123456789", "0123456789.", "0123456789./"])
def test_digit_columns_match_reference(alphabet, reference):
    from crmlab.cleaning.textbytes import byte_set

    rng = np.random.default_rng(len(alphabet))
    texts = ["".join(rng.choice(list(alphabet), int(rng.integers(0, 18)))) for _ in range(12_000)]
    edges = ["", "0", "00.0", ".", ".5", "5.", "1..2", "1.2.3", "1" * 15, "1" * 16, "1" * 14 + ".5", "1/2"]
    texts += [t for t in edges if set(t) <= set(alphabet)]
    s = _chunked(texts, 3)
    assert byte_set(s) == {10: "digits", 11: "digits."}.get(len(alphabet), "other")
    for fn in (parsing.parse_amounts, partial(parsing.parse_amounts, decimal=",")):
        (got, rep), (want, want_rep) = fn(s), reference(partial(fn, s))()
        pd.testing.assert_series_equal(got, want)
        assert rep == want_rep
