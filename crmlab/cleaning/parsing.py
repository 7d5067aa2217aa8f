"""Parsing the text of an export: customer ids, money amounts and dates, each repair counted.

Every function takes a column as read (text) and returns the parsed values and a dict of
repair counts (how many values a repair changed); a value that does not parse becomes
missing, and the row rules (:mod:`crmlab.cleaning.rules`) quarantine it with a reason.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from crmlab.cleaning.fastdates import fixed_width_days
from crmlab.cleaning.textbytes import all_ascii, byte_set, holds_byte, short_values, trimmed

__all__ = [
    "MISSING_TOKENS", "normalise_ids", "parse_amounts", "parse_dates", "guess_date_format", "as_text",
    "has_zone", "is_missing_token",
]

MISSING_TOKENS = frozenset({"", "nan", "none", "null", "na", "n/a", "#n/a", "-", "--"})
_CURRENCY = re.compile(r"(?i)(?:[$€£¥￥₩₹]|\bUSD\b|\bEUR\b|\bGBP\b|\bCNY\b|\bRMB\b|\bJPY\b|元)")
_YEAR_FIRST = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?!\d)")
# a time followed by a zone: Z, +08:00, -0500, UTC, GMT
_HAS_ZONE = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)$", re.I)


def as_text(values: pd.Series) -> pd.Series:
    """Any column as trimmed text with blanks as ``""`` (Parquet inputs may hold nulls)."""
    if trimmed(values):  # Arrow text without nulls nor white space at either end: as it is
        return values.astype("str")
    return values.astype("str").fillna("").str.strip()


_TOKEN_CHARS = max(len(t) for t in MISSING_TOKENS)
_TOKEN_START = np.zeros(256, dtype=bool)  # first bytes of the tokens, either case
_TOKEN_START[[ord(c) for t in MISSING_TOKENS if t for c in {t[0], t[0].upper()}]] = True


def is_missing_token(s: pd.Series) -> pd.Series:
    """``s.str.lower().isin(MISSING_TOKENS)``, lower-casing only the values short enough.

    No token is longer than four characters and lower-casing never shortens a text, so
    the longer values (nearly all of them) are not copied in lower case.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"):
        return s.str.lower().isin(MISSING_TOKENS)
    if all_ascii(s):  # characters are bytes: the lengths are in the offsets
        # ... and a token starts with one of a few bytes (an empty text is a token)
        rows = np.flatnonzero(short_values(s, _TOKEN_CHARS, _TOKEN_START))
    else:
        arr = pa.array(s.array)
        short = pc.less_equal(pc.utf8_length(arr), _TOKEN_CHARS).fill_null(False)
        rows = np.flatnonzero(short.to_numpy(zero_copy_only=False))
    out = np.zeros(len(s), dtype=bool)
    if len(rows):
        out[rows] = s.iloc[rows].str.lower().isin(MISSING_TOKENS).to_numpy(dtype=bool)
    return pd.Series(out, index=s.index, copy=False)


def has_zone(s: pd.Series) -> pd.Series:
    """Which texts end in a time with a UTC offset (``Z``, ``+08:00``, ``UTC`` ...).

    ``s.str.contains(_HAS_ZONE)``, but the Python pattern (a compiled pattern runs once per
    value in Python: 12 s at 15M rows) only sees the values holding a ``:``, which every
    match needs and which Arrow finds in C.
    """
    out = np.zeros(len(s), dtype=bool)
    if holds_byte(s, ":") is False:
        return pd.Series(out, index=s.index, copy=False)
    colon = s.str.contains(":", regex=False).fillna(False).to_numpy(bool)
    if colon.any():
        out[colon] = s[colon].str.contains(_HAS_ZONE).fillna(False).to_numpy(bool)
    return pd.Series(out, index=s.index, copy=False)



def normalise_ids(ids: pd.Series, strip_leading_zeros: bool = False) -> tuple[pd.Series, dict]:
    """Trim ids to one consistent text form; blanks become ``<NA>``.

    Parameters
    ----------
    ids : Series
        Raw ids (any dtype; compared as text).
    strip_leading_zeros : bool
        Treat ``00042`` and ``42`` as one customer.

    Returns
    -------
    (Series, dict)
        The ids as ``str`` with missing values ``<NA>``, and repair counts
        ``id_whitespace_trimmed``, ``id_excel_float_suffix``, ``id_leading_zeros_stripped``.
    """
    raw = ids.astype("str").fillna("")
    if trimmed(raw):  # nothing to trim (the bytes say so): no copy, no comparison
        out, repairs = raw, {"id_whitespace_trimmed": 0}
    else:
        out = raw.str.strip()
        repairs = {"id_whitespace_trimmed": int((out != raw).sum())}
    # Excel turns numeric ids into floats: "42.0" is the id 42
    if holds_byte(out, ".") is False:
        is_float = pd.Series(False, index=out.index)
    else:
        is_float = out.str.fullmatch(r"\d+\.0+")
    repairs["id_excel_float_suffix"] = int(is_float.sum())
    if is_float.any():  # the replacement runs on the few rows it applies to
        out = out.where(~is_float, out[is_float].str.replace(r"\.0+$", "", regex=True))
    if strip_leading_zeros:
        stripped = out.str.replace(r"^0+(?=.)", "", regex=True)
        repairs["id_leading_zeros_stripped"] = int((stripped != out).sum())
        out = stripped
    missing = is_missing_token(out)
    return out.mask(missing), repairs


def parse_amounts(values: pd.Series, decimal: str = ".") -> tuple[pd.Series, dict]:
    """Parse money text to float64: currency marks, thousands separators, decimal commas.

    Parameters
    ----------
    values : Series
        Raw amounts as text (numbers are accepted too).
    decimal : {".", ","}
        The decimal mark of the export. With ``","``, ``1.234,50`` is 1234.5; with ``"."``,
        ``1,234.50`` is 1234.5 and an ambiguous ``12,5`` is left unparsed (NaN).

    Returns
    -------
    (Series, dict)
        float64 amounts (NaN where nothing sensible parses) and repair counts
        ``amount_currency_symbol``, ``amount_thousands_separator``, ``amount_decimal_comma``,
        ``amount_accounting_negative``.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(np.float64), {}
    fast = _plain_numbers(values)
    if fast is not None:
        return _parse_mostly_plain(values, decimal, *fast)
    return _parse_amount_text(values, decimal)


# Plain decimal text: an optional minus, ASCII digits, at most one decimal point, at most
# 15 characters. No repair applies to such a value, and both pandas' parser and Arrow's
# give it the correctly rounded float64 (15 digits are exact as an integer and a power of
# ten up to 1e15 is exact, so pandas' one division is correctly rounded too).
_PLAIN_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
_PLAIN_MAX_CHARS = 15
_FAST_MIN_ROWS = 10_000  # below this the text path is fast enough and is the reference


def _plain_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Which values are plain numbers (see above), which of those hold a ``.``, and the floats.

    Matching and parsing run in Arrow's C kernels. Returns None when the column is not
    Arrow-backed text or is small. Zeros are left to the text path: pandas reads ``-0`` as
    ``0.0`` or ``-0.0`` depending on the other values of the column, and the text path
    reproduces that.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(values) < _FAST_MIN_ROWS or not (
        isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"
    ):
        return None
    arr = pa.array(values.array)
    size = pc.binary_length(arr)
    chars = byte_set(values)  # without nulls: which kinds of bytes the column holds
    if chars == "digits":  # the pattern is then a length check (no "." anywhere)
        mask = pc.and_(pc.greater_equal(size, 1), pc.less_equal(size, _PLAIN_MAX_CHARS))
    elif chars == "digits.":  # ... and for digits and dots, one "." between digits
        mask = pc.and_(
            pc.and_(pc.greater_equal(size, 1), pc.less_equal(size, _PLAIN_MAX_CHARS)),
            pc.and_(pc.less_equal(pc.count_substring(arr, "."), 1),
                    pc.invert(pc.or_(pc.starts_with(arr, "."), pc.ends_with(arr, ".")))),
        )
    else:
        mask = pc.and_(pc.match_substring_regex(arr, _PLAIN_NUMBER), pc.less_equal(size, _PLAIN_MAX_CHARS))
    mask = mask.fill_null(False)
    plain = mask.to_numpy(zero_copy_only=False).astype(bool, copy=False)
    if chars == "digits" or holds_byte(values, ".") is False:
        dotted = np.zeros(len(values), dtype=bool)
    else:
        dotted = pc.match_substring(arr, ".").fill_null(False).to_numpy(zero_copy_only=False)
    if plain.all():
        floats = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
        floats = floats if floats.flags.writeable else floats.copy()
    else:
        floats = np.full(len(values), np.nan)
        floats[plain] = pc.cast(arr.filter(mask), pa.float64()).to_numpy(zero_copy_only=False)
    plain &= floats != 0
    return plain, dotted & plain, floats


def _parse_mostly_plain(values: pd.Series, decimal: str, plain: np.ndarray, dotted: np.ndarray,
                        floats: np.ndarray) -> tuple[pd.Series, dict]:
    """:func:`parse_amounts` when most values are plain numbers: only the others as text.

    Every repair looks at one value, so the counts over the other values are the counts of
    the column. ``pd.to_numeric`` reads integer texts as integers unless the column also
    holds a decimal or a failure; a value or two standing in for the plain ones keep that
    choice, and so every value's float, the same as for the whole column.
    """
    if decimal != ".":
        plain = plain & ~dotted  # with a decimal comma, "1.234" has a thousands separator
        dotted = np.zeros_like(dotted)
    rest = ~plain
    repairs = {"amount_currency_symbol": 0, "amount_accounting_negative": 0,
               "amount_thousands_separator": 0, "amount_decimal_comma": 0}
    if not rest.any():
        return pd.Series(floats, index=values.index, dtype=np.float64, copy=False), repairs
    ints = floats[plain & ~dotted]
    stand_ins = (["0.5"] if dotted.any() else []) + (["-1"] if (ints < 0).any() else []) + (
        ["1"] if (ints > 0).any() else [])
    text = pd.concat([values[rest].reset_index(drop=True),
                      pd.Series(stand_ins, dtype=values.dtype)], ignore_index=True)
    parsed, repairs = _parse_amount_text(text, decimal)
    out = floats.copy()
    out[rest] = parsed.to_numpy(dtype=np.float64)[: int(rest.sum())]
    return pd.Series(out, index=values.index, dtype=np.float64, copy=False), repairs


def _parse_amount_text(values: pd.Series, decimal: str) -> tuple[pd.Series, dict]:
    """Parse amounts as text (the reference path of :func:`parse_amounts`), value by value."""
    s = as_text(values)
    repairs = {}
    # each repair rewrites only the rows it applies to: a regular expression with a
    # back-reference or a compiled pattern runs in Python, one call per row (speed only)
    cur = s.str.contains(_CURRENCY)
    repairs["amount_currency_symbol"] = int(cur.sum())
    s = s.where(~cur, s[cur].str.replace(_CURRENCY, "", regex=True)).str.strip()
    paren = s.str.fullmatch(r"\(.*\)")
    repairs["amount_accounting_negative"] = int(paren.sum())
    s = s.where(~paren, "-" + s[paren].str.slice(1, -1).str.strip())
    signed = s.str.slice(0, 1).isin(["+", "-"])
    s = s.where(~signed, s[signed].str.replace(r"^([+-])\s+", r"\1", regex=True))
    if decimal == ".":
        thousands = s.str.fullmatch(r"[+-]?\d{1,3}([,' ]\d{3})+(\.\d+)?")
        repairs["amount_thousands_separator"] = int(thousands.sum())
        s = s.where(~thousands, s[thousands].str.replace(r"[,' ]", "", regex=True))
        repairs["amount_decimal_comma"] = 0
    else:
        thousands = s.str.fullmatch(r"[+-]?\d{1,3}([.' ]\d{3})+(,\d+)?")
        repairs["amount_thousands_separator"] = int(thousands.sum())
        s = s.where(~thousands, s[thousands].str.replace(r"[.' ]", "", regex=True))
        comma = s.str.fullmatch(r"[+-]?\d*,\d+")
        repairs["amount_decimal_comma"] = int(comma.sum())
        s = s.where(~comma, s[comma].str.replace(",", ".", regex=False))
    num = pd.to_numeric(s, errors="coerce").astype(np.float64)  # failures are counted by the caller
    return num, repairs


_GUESS_HEAD = 1000


def guess_date_format(values: pd.Series, dayfirst: bool = False) -> str | None:
    """Return the strftime format of the first non-blank date text (None if it has none).

    Cleaning infers *one* format per column from its first value (as pandas does), so a
    column parsed in pieces (Dask partitions) gives exactly the result of the whole column.
    """
    from pandas.tseries.api import guess_datetime_format

    first = None
    for head in (values.iloc[:_GUESS_HEAD], values):  # the first such value is nearly always early
        s = as_text(head)
        s = s[~s.str.lower().isin(MISSING_TOKENS) & ~has_zone(s)]
        if not s.empty:
            first = s.iloc[0]
            break
        if len(head) == len(values):
            break
    if first is None or "年" in first:
        return None
    # a year-first date (ISO 8601) is never day-first: 2024-01-05 is 5 January
    return guess_datetime_format(first, dayfirst=dayfirst and not _YEAR_FIRST.match(first))


def _parse_zoned(s: pd.Series, timezone: str, dayfirst: bool) -> pd.Series:
    """Timestamps with a UTC offset -> wall-clock time in ``timezone``, without a zone."""
    out = pd.to_datetime(s, errors="coerce", utc=True, format="ISO8601")
    left = out.isna()
    if left.any():
        out[left] = pd.to_datetime(s[left], errors="coerce", utc=True, format="mixed", dayfirst=dayfirst)
    return out.dt.tz_convert(timezone).dt.tz_localize(None).astype("datetime64[ns]")


def _parse_mixed(s: pd.Series, dayfirst: bool) -> pd.Series:
    """Value-by-value parsing; year-first values are never read day-first."""
    ymd = s.str.match(_YEAR_FIRST)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    for mask, dfirst in ((ymd, False), (~ymd, dayfirst)):
        if mask.any():
            part = pd.to_datetime(s[mask], errors="coerce", format="mixed", dayfirst=dfirst)
            if getattr(part.dt, "tz", None) is not None:  # pragma: no cover (zones are split off)
                part = part.dt.tz_localize(None)
            out[mask] = part.astype("datetime64[ns]")
    return out


def parse_dates(
    values: pd.Series,
    date_format: str | None = None,
    dayfirst: bool = False,
    inferred_format: str | None = None,
    timezone: str = "UTC",
) -> tuple[pd.Series, dict]:
    """Parse dates to datetime64[ns]; unparseable values become NaT.

    Timestamps carrying a UTC offset (``Z``, ``+08:00``; mixed offsets too) are converted to
    ``timezone`` and then stored without a zone, counted as ``date_timezone_converted``;
    values without an offset are taken as already in ``timezone``. Year-first (ISO) dates
    are never read day-first.

    With ``date_format`` the format is applied strictly. Without it one format is inferred
    for the column (``inferred_format``, or :func:`guess_date_format` of ``values``);
    values in a second format (a merged export) and Chinese forms such as ``2024年3月5日``
    are parsed value by value in a second pass and counted as repairs.

    Returns
    -------
    (Series, dict)
        datetime64[ns] values and repair counts ``date_chinese_format``,
        ``date_second_format``.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert(timezone).dt.tz_localize(None)
        return values.astype("datetime64[ns]"), {}
    if not date_format and inferred_format is None:  # "": no format (not guessed again)
        inferred_format = guess_date_format(values, dayfirst) or ""
    fast = fixed_width_days(values, date_format or inferred_format)
    if fast is None:
        return _parse_date_text(values, date_format, dayfirst, inferred_format, timezone)
    # the plain dates of the format are read from the bytes; pandas parses the others
    # (and counts their repairs: no plain date needs one)
    out, done = fast
    rest = np.flatnonzero(~done)
    parsed, repairs = _parse_date_text(values.iloc[rest], date_format, dayfirst, inferred_format, timezone)
    out[rest] = parsed.to_numpy(dtype="datetime64[ns]")
    return pd.Series(out, index=values.index, copy=False), repairs


def _parse_date_text(
    values: pd.Series,
    date_format: str | None,
    dayfirst: bool,
    inferred_format: str | None,
    timezone: str,
) -> tuple[pd.Series, dict]:
    """Parse date texts with pandas (the reference path of :func:`parse_dates`)."""
    s = as_text(values)
    repairs = {}
    zoned = has_zone(s)
    repairs["date_timezone_converted"] = int(zoned.sum())
    if zoned.any():
        at_zone = _parse_zoned(s[zoned], timezone, dayfirst)
        rest, rep = _parse_date_text(s.mask(zoned, ""), date_format, dayfirst, inferred_format, timezone)
        rest = rest.copy()
        rest[zoned] = at_zone
        rep["date_timezone_converted"] = repairs["date_timezone_converted"]
        return rest, rep
    cn = s.str.contains("年", regex=False)
    repairs["date_chinese_format"] = int(cn.sum())
    if cn.any():
        s = s.where(
            ~cn,
            s.str.replace(r"\s*年\s*", "-", regex=True)
            .str.replace(r"\s*月\s*", "-", regex=True)
            .str.replace(r"\s*[日号]", "", regex=True),
        )
    blank = is_missing_token(s)
    if date_format:
        out = pd.to_datetime(s.mask(blank), format=date_format, errors="coerce")
        repairs["date_second_format"] = 0
        return out.astype("datetime64[ns]"), repairs
    fmt = inferred_format if inferred_format is not None else guess_date_format(values, dayfirst)
    if fmt:  # one format for the column (fast, consistent) ...
        first = pd.to_datetime(s.mask(blank), errors="coerce", format=fmt)
    else:
        first = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    retry = first.isna() & ~blank
    second = 0
    if retry.any():
        # ... then each leftover value on its own (slow, but only for the leftovers)
        again = _parse_mixed(s[retry], dayfirst)
        second = int(again.notna().sum()) if fmt else 0
        first = first.astype("datetime64[ns]").copy()
        first[retry] = again
    repairs["date_second_format"] = second
    return first.astype("datetime64[ns]"), repairs
