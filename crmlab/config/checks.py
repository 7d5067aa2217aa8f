"""Value checkers of the params schema: each takes a raw YAML value and returns it normalised.

A checker raises :class:`Bad` with what is wrong; the loader (:mod:`crmlab.config.load`)
adds the dotted key and the file. The factories (:func:`integer`, :func:`number`,
:func:`choice`, :func:`nullable`, :func:`list_of`, :func:`mapping_of`) build checkers with
bounds or options, as the schema (:mod:`crmlab.config.schema`) declares them.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import re
from collections.abc import Callable
from typing import Any

__all__ = [
    "Bad", "RUN_NAME_MAX", "string", "nonempty_string", "slug", "boolean", "scalar", "iso_date",
    "file_path", "reader_options", "timezone", "integer", "number", "choice", "nullable",
    "list_of", "mapping_of",
]


class Bad(Exception):
    """Raised by a checker; the loader adds the key and the file."""

def string(v: Any) -> str:
    """Check a text value (numbers are taken as their text)."""
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise Bad(f"expected a string, got {type(v).__name__}")
    return str(v)


def nonempty_string(v: Any) -> str:
    """Check a text value that is not blank."""
    s = string(v)
    if not s.strip():
        raise Bad("must not be empty")
    return s


RUN_NAME_MAX = 100  # folder names: run_name + ".staging-<run id>" must fit 255 bytes


def slug(v: Any) -> str:
    """Check a name that becomes a folder name (letters, digits, ``_ - .``)."""
    s = string(v)
    if len(s) > RUN_NAME_MAX:
        raise Bad(f"is {len(s)} characters long; at most {RUN_NAME_MAX} (it names folders)")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", s):
        raise Bad(f"{s!r} must be letters, digits, '_', '-', '.' (it names folders)")
    return s


def boolean(v: Any) -> bool:
    """Check ``true`` or ``false``."""
    if not isinstance(v, bool):
        raise Bad(f"expected true or false, got {v!r}")
    return v


def integer(lo: float | None = None, hi: float | None = None) -> Callable[[Any], int]:
    """Checker for an integer within [lo, hi]."""

    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise Bad(f"expected a whole number, got {v!r}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise Bad(f"{v} is outside [{lo}, {hi}]")
        return v

    return check


def number(lo: float | None = None, hi: float | None = None) -> Callable[[Any], float]:
    """Checker for a real number within [lo, hi]."""

    def check(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise Bad(f"expected a number, got {v!r}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise Bad(f"{v} is outside [{lo}, {hi}]")
        return float(v)

    return check


def choice(*options: Any) -> Callable[[Any], Any]:
    """Checker for one of a fixed set of values."""

    def check(v: Any) -> Any:
        if v not in options:
            raise Bad(f"{v!r} is not one of {', '.join(map(repr, options))}")
        return v

    return check


def nullable(inner: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Checker that also accepts ``null``."""

    def check(v: Any) -> Any:
        return None if v is None else inner(v)

    return check


def list_of(inner: Callable[[Any], Any], min_len: int = 0, max_len: int | None = None):
    """Checker for a list whose items pass ``inner``."""

    def check(v: Any) -> list:
        if not isinstance(v, list):
            raise Bad(f"expected a list, got {v!r}")
        if len(v) < min_len or (max_len is not None and len(v) > max_len):
            want = f"{min_len}" if max_len == min_len else f"{min_len}..{max_len or 'any'}"
            raise Bad(f"expected {want} items, got {len(v)}")
        out = []
        for i, item in enumerate(v):
            try:
                out.append(inner(item))
            except Bad as exc:
                raise Bad(f"item {i}: {exc}") from None
        return out

    return check


def mapping_of(inner: Callable[[Any], Any], min_len: int = 0):
    """Checker for an open mapping (user-chosen keys) whose values pass ``inner``."""

    def check(v: Any) -> dict:
        if not isinstance(v, dict):
            raise Bad(f"expected a mapping, got {v!r}")
        if len(v) < min_len:
            raise Bad(f"expected at least {min_len} entries")
        out = {}
        for k, item in v.items():
            try:
                out[str(k)] = inner(item)
            except Bad as exc:
                raise Bad(f"entry {k!r}: {exc}") from None
        return out

    return check


def scalar(v: Any) -> Any:
    """Check a single value (not a list or a mapping)."""
    if isinstance(v, (dict, list)):
        raise Bad("expected a single value")
    return v


def iso_date(v: Any) -> str:
    """Check a date and return it as ``YYYY-MM-DD`` text."""
    if isinstance(v, _dt.datetime):
        v = v.date()
    if isinstance(v, _dt.date):
        return v.isoformat()
    s = string(v)
    try:
        return _dt.date.fromisoformat(s).isoformat()
    except ValueError:
        raise Bad(f"{s!r} is not a date in YYYY-MM-DD form") from None


def file_path(v: Any) -> str:
    """Check a file or folder path (resolved by the loader)."""
    return nonempty_string(v)


# Options the reader sets itself (each has its own params key, or must not change).
_READER_OWN = {
    "filepath_or_buffer": "path", "io": "path", "path": "path", "sep": "sep",
    "delimiter": "sep", "encoding": "encoding", "sheet_name": "sheet_name",
    "dtype": None, "keep_default_na": None, "na_filter": None, "engine": None, "nrows": None,
    "skipinitialspace": None, "iterator": None, "chunksize": None, "storage_options": None,
    "filesystem": None, "dtype_backend": None, "encoding_errors": "encoding",
    "memory_map": None, "low_memory": None, "converters": None,
}


def _pandas_reader_options() -> set[str]:
    import inspect

    import pandas as pd

    names: set[str] = set()
    for fn in (pd.read_csv, pd.read_excel, pd.read_parquet):
        names |= {p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind is not inspect.Parameter.VAR_KEYWORD}
    return names - set(_READER_OWN)


def reader_options(v: Any) -> dict:
    """Check extra pandas reader options: known to pandas and not set by crmlab itself."""
    if not isinstance(v, dict):
        raise Bad(f"expected a mapping of reader options, got {v!r}")
    out = {str(k): val for k, val in v.items()}
    known = _pandas_reader_options()
    for k in out:
        if k in _READER_OWN:
            own = _READER_OWN[k]
            hint = f"; use the section key '{own}'" if own else " (crmlab sets it)"
            raise Bad(f"option {k!r} cannot be set here{hint}")
        if k not in known:
            close = difflib.get_close_matches(k, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise Bad(f"unknown reader option {k!r}{hint}")
    return out


def timezone(v: Any) -> str:
    """Check an IANA time zone name."""
    import zoneinfo

    s = nonempty_string(v)
    try:
        zoneinfo.ZoneInfo(s)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise Bad(f"{s!r} is not a time zone name (e.g. UTC, Europe/Berlin, Asia/Shanghai)") from None
    return s
