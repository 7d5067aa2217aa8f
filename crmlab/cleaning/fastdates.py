"""Fixed-width dates (``%Y%m%d``, ``%Y-%m-%d``, ``%d.%m.%Y`` ...) read straight from Arrow's bytes.

``pd.to_datetime`` with such a format cost 3 s at 15M rows. When every field of the
format has a fixed width, a value of the format's width whose digits and separators sit
where the format puts them, and which names a real day, is parsed here with integer
NumPy on the text's bytes (Howard Hinnant's ``days_from_civil``). Every other value
(another length, a letter, a space, a short form such as ``2024-1-5``, an impossible day,
a year outside what ``datetime64[ns]`` holds) is left to pandas by the caller, so the
result is pandas' value for value (:func:`crmlab.cleaning.parsing.parse_dates`).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

__all__ = ["date_layout", "fixed_width_days"]

_FIELD_WIDTH = {"Y": 4, "m": 2, "d": 2}
# separators between fields: never white space (the text is stripped), a digit, ``:`` (a
# time) or a character of a missing-value token other than these
_SEPARATORS = frozenset("-/.")
# years whose every day is inside datetime64[ns] (1677-09-21 .. 2262-04-11)
_YEAR_MIN, _YEAR_MAX = 1678, 2261
_NS_PER_DAY = 86_400 * 10**9
_MIN_ROWS = 1_000  # below this pandas alone is fast enough


def date_layout(fmt: str | None) -> tuple[int, dict[str, int], dict[int, int]] | None:
    """Return the width, field starts and separator bytes of a fixed-width date format.

    Parameters
    ----------
    fmt : str or None
        A strftime format.

    Returns
    -------
    (int, dict, dict) or None
        The width in bytes, ``{"Y": start, "m": start, "d": start}`` and ``{position:
        byte}`` of the separators; None unless the format is ``%Y``, ``%m`` and ``%d``
        once each, starting and ending with a field, joined by ``-``, ``/`` or ``.``.
    """
    if not fmt:
        return None
    fields: dict[str, int] = {}
    seps: dict[int, int] = {}
    pos, i = 0, 0
    while i < len(fmt):
        if fmt[i] == "%":
            code = fmt[i + 1 : i + 2]
            if code not in _FIELD_WIDTH or code in fields:
                return None
            fields[code] = pos
            pos += _FIELD_WIDTH[code]
            i += 2
        elif fmt[i] in _SEPARATORS:
            seps[pos] = ord(fmt[i])
            pos += 1
            i += 1
        else:
            return None
    if len(fields) != 3 or fmt[0] != "%" or fmt[-2] != "%":
        return None
    return pos, fields, seps


def fixed_width_days(values: pd.Series, fmt: str | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Parse the values that are plainly dates of a fixed-width format, as datetime64[ns].

    Parameters
    ----------
    values : Series
        Date texts (Arrow-backed ``str``; any other column returns None).
    fmt : str or None
        The strftime format (:func:`date_layout`).

    Returns
    -------
    (ndarray, ndarray) or None
        datetime64[ns] per row (NaT where not parsed here) and a boolean mask of the rows
        parsed here; the caller parses the others. None when the format is not fixed-width,
        the column is not Arrow text or it is small.
    """
    from crmlab.cleaning.textbytes import arrow_chunks

    layout = date_layout(fmt)
    if layout is None or len(values) < _MIN_ROWS:
        return None
    chunks = arrow_chunks(values)
    if chunks is None:
        return None
    parts = [_chunk_days(arr, layout) for arr in chunks if len(arr)]
    if not parts:
        return np.zeros(0, dtype="datetime64[ns]"), np.zeros(0, dtype=bool)
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _chunk_days(arr, layout: tuple[int, dict[str, int], dict[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fixed_width_days` of one Arrow string array."""
    import pyarrow as pa

    width, fields, seps = layout
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64 if pa.types.is_large_string(arr.type)
                            else np.int32)[arr.offset : arr.offset + n + 1]
    fits = (offsets[1:] - offsets[:-1]) == width
    if arr.null_count:
        fits &= arr.is_valid().to_numpy(zero_copy_only=False)
    out = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)  # NaT
    if not fits.any():
        return out.view("datetime64[ns]"), np.zeros(n, dtype=bool)
    if fits.all():
        start = int(offsets[0])
        data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[start : start + n * width]
        rows = None
    else:
        rows = np.flatnonzero(fits)
        sub = arr.filter(pa.array(fits))
        start = int(np.frombuffer(sub.buffers()[1], dtype=offsets.dtype)[sub.offset])
        data = np.frombuffer(sub.buffers()[2], dtype=np.uint8)[start : start + len(rows) * width]
    mat = data.reshape(-1, width)
    days, ok = _civil_days(mat, fields, seps)
    if rows is None:
        accepted = ok
        np.multiply(days, _NS_PER_DAY, out=out, where=ok)
    else:
        accepted = np.zeros(n, dtype=bool)
        accepted[rows] = ok
        out[rows[ok]] = days[ok] * _NS_PER_DAY
    return out.view("datetime64[ns]"), accepted


@functools.cache
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Look-up tables: two ASCII digits -> their value; (year, month) -> first day and length.

    ``pair[b0 + 256 * b1]`` is the number of the digit bytes b0 b1 (255 when either is not
    an ASCII digit). ``first[100 * year + month]`` is the day number (since 1970-01-01) of the
    day before the month's first, ``length[...]`` the month's days: 0 for a month outside
    1-12 or a year outside 1678-2261, and for the last entry, which stands for a non-digit.
    """
    b = np.arange(256)
    digit = np.where((b >= 48) & (b < 58), b - 48, 1000)
    pair = (10 * digit[None, :] + digit[:, None]).reshape(-1)  # [b1][b0]: index b0 + 256 * b1
    pair = np.where(pair < 100, pair, 255).astype(np.uint8)
    key = np.arange(100 * 10_000 + 1)
    y, m = key // 100, key % 100
    valid = (y >= _YEAR_MIN) & (y <= _YEAR_MAX) & (m >= 1) & (m <= 12) & (key < len(key) - 1)
    m = np.where(valid, m, 1)
    y = np.where(valid, y, 2000)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    days_in = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    length = np.where(valid, days_in[m] + (leap & (m == 2)), 0).astype(np.uint8)
    # days_from_civil (http://howardhinnant.github.io/date_algorithms.html) of day 1, minus 1
    yy = y - (m <= 2)
    era = yy // 400
    yoe = yy - era * 400
    doy = (153 * np.where(m > 2, m - 3, m + 9) + 2) // 5
    first = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468 - 1
    return pair, np.where(valid, first, 0).astype(np.int32), length


def _pairs(mat: np.ndarray, start: int, pair: np.ndarray) -> np.ndarray:
    """Read the two-digit number at bytes ``start:start+2`` of each row (255 where not two digits)."""
    two = np.ndarray((len(mat),), dtype="<u2", buffer=mat, offset=start, strides=(mat.shape[1],))
    return pair[two]


def _civil_days(mat: np.ndarray, fields: dict[str, int], seps: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 of each row of date bytes, and which rows are valid dates."""
    pair, first, length = _tables()
    century, year, month = (_pairs(mat, fields["Y"], pair), _pairs(mat, fields["Y"] + 2, pair),
                            _pairs(mat, fields["m"], pair))
    key = century.astype(np.int32)
    key *= 100
    key += year
    key *= 100
    key += month
    np.maximum(century, year, out=century)
    np.maximum(century, month, out=century)
    key[century > 99] = len(first) - 1  # a non-digit: the invalid entry
    day = _pairs(mat, fields["d"], pair)
    ok = day >= 1
    ok &= day <= length[key]
    for pos, byte in seps.items():
        ok &= mat[:, pos] == byte
    days = first[key].astype(np.int64)
    days += day
    return days, ok
