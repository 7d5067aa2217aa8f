"""Personal data: find it in any input table, drop it, and pseudonymise ids that are personal.

Every input (transactions, survey, churn, and any later one) goes through the same screen,
:func:`screen_pii`:

1. the columns the params declare personal (``pii_columns``) are dropped;
2. undeclared columns that *look* personal are dropped with a warning — by their name
   (``email``, ``phone_number``, ``first_name``, ``address``, ``手机``, ``邮箱``, ``姓名`` ...)
   or by their values (a majority of e-mail addresses, phone numbers, or ID-card numbers:
   Chinese resident ID with a valid check digit, US social security numbers);
3. an identifier column the analysis needs (a customer id) whose values are themselves
   personal data (e-mail addresses used as customer ids) is replaced by a keyed hash,
   ``pid_`` + 20 hex digits of HMAC-SHA256(key, normalised value), before anything is
   written. The same key gives the same pseudonym in every run, so run-over-run
   comparisons still work; without the key nobody can recompute the mapping.

The key comes from the environment variable :data:`KEY_ENV` or from the file named by
``privacy.key_file`` in the params (the runner and :func:`crmlab.context.stage_context`
put it into the environment of the notebooks). It is never written into any output. To map
a pseudonym back, recompute it for your own list of identifiers with :func:`pseudonymise`
(same key) and join on it; no table linking pseudonyms to identifiers is ever written.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from crmlab.errors import InputError

__all__ = [
    "KEY_ENV",
    "PiiScreen",
    "PersonalDataWarning",
    "personal_kind",
    "pii_by_name",
    "safe_name",
    "detect_pii_columns",
    "pseudonymise",
    "pseudonym_key",
    "screen_pii",
]

KEY_ENV = "CRMLAB_PSEUDONYM_KEY"
PREFIX = "pid_"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
# +86 138 0013 8000, 13800138000, (555) 123-4567, +44 20 7946 0958, 555-123-4567
_PHONE = re.compile(
    r"^(?:\+?86[ -]?)?1[3-9]\d{9}$"
    r"|^\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}$"
    r"|^\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}$"
)
_SSN = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_CN_ID = re.compile(r"^\d{17}[\dXx]$")
_CN_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_CHECK = "10X98765432"

# Column names that say "personal": whole name (after splitting camelCase and separators)
# equal to one of these, optionally after a customer_/contact_/... prefix.
_NAME_WORDS = (
    r"e_?mail(_address)?|mail_address|phone(_(number|no|num))?|tel(ephone)?(_(number|no))?|"
    r"mobile(_(phone|number|no))?|cell(_?phone)?|fax|"
    r"(first|last|full|given|family|middle|sur)_?name|name|names|surname|"
    r"(home_|street_|postal_|billing_|shipping_)?address(_line_?\d?)?|street|"
    r"ssn|social_security(_number|_no)?|passport(_(number|no))?|id_?card(_(number|no))?|"
    r"national_id|birth_?date|date_of_birth|dob|birthday|ip(_address)?"
)
_NAME = re.compile(
    rf"^((customer|cust|contact|client|user|member|account_holder|holder|buyer|primary|"
    rf"backup|alt|alternate|secondary)_)?({_NAME_WORDS})$"
)
_NAME_CN = re.compile(r"身份证|手机|电话|邮箱|姓名|地址|住址|联系人|生日|护照")


class PersonalDataWarning(UserWarning):
    """An undeclared personal-data column was found and dropped."""


@dataclass
class PiiScreen:
    """What :func:`screen_pii` did (column names only, never a value)."""

    dropped: list[str] = field(default_factory=list)  # declared pii_columns
    detected: list[str] = field(default_factory=list)  # found by name or values, dropped
    pseudonymised: dict[str, str] = field(default_factory=dict)  # column -> kind

    def as_dict(self) -> dict:
        """Plain dict for JSON reports."""
        return {
            "pii_dropped": [safe_name(c) for c in self.dropped],
            "pii_detected": [safe_name(c) for c in self.detected],
            "pseudonymised": {safe_name(c): k for c, k in self.pseudonymised.items()},
        }


def _normal_name(name: str) -> str:
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name).strip())
    return re.sub(r"[^0-9a-z]+", "_", s.lower()).strip("_")


def _personal_value(v: str) -> bool:
    v = str(v).strip()
    return bool(_EMAIL.match(v) or _PHONE.match(v) or _SSN.match(v) or _cn_id_ok(v))


def pii_by_name(name: str) -> bool:
    """Tell whether a column name says it holds personal data (``email``, ``手机``, ...).

    A name that *is* personal data (an e-mail address as a header, from a mis-exported
    file) counts too.
    """
    return bool(_NAME.match(_normal_name(name)) or _NAME_CN.search(str(name))
                or _personal_value(name))


def safe_name(name: str) -> str:
    """Return a column name fit for reports: one that is itself personal data is redacted."""
    return "<redacted column name>" if _personal_value(name) else str(name)


def _cn_id_ok(v: str) -> bool:
    if not _CN_ID.match(v):
        return False
    total = sum(int(d) * w for d, w in zip(v[:17], _CN_WEIGHTS, strict=True))
    return _CN_CHECK[total % 11] == v[17].upper()


def _text(values: pd.Series) -> pd.Series:
    return values.astype("str").fillna("").str.strip()


def _first_values(values: pd.Series, sample: int) -> pd.Series:
    """Return the first ``sample`` non-blank values of a column as stripped text.

    Rows are converted to text in growing slices and only until ``sample`` non-blank
    values are found: the same values as converting the whole column first (the
    conversion is value by value), without a text copy of millions of rows.
    """
    parts, found, start, step = [], 0, 0, max(4 * sample, 1024)
    while start < len(values) and found < sample:
        s = _text(values.iloc[start : start + step])
        s = s[(s != "") & (s.str.lower() != "nan")]
        parts.append(s)
        found += len(s)
        start += step
        step *= 4
    return pd.concat(parts).head(sample) if parts else _text(values.iloc[:0])


def personal_kind(values: pd.Series, sample: int = 1000, share: float = 0.5) -> str | None:
    """Name the personal data most of a column's values are: ``email`` | ``phone`` | ``id_card``.

    Looks at the first ``sample`` non-blank values; a kind wins when more than ``share``
    of them match it. Plain numbers (order ids, amounts, dates like ``19970101``) never
    count as phone numbers: a phone needs a mobile-number shape or separators/``+``.
    """
    s = _first_values(values, sample)
    if s.empty:
        return None
    if s.str.match(_EMAIL).mean() > share:
        return "email"
    if s.str.match(_PHONE).mean() > share:
        return "phone"
    if (s.str.match(_SSN) | s.map(_cn_id_ok)).mean() > share:
        return "id_card"
    return None


def detect_pii_columns(
    raw: pd.DataFrame, protected: Iterable[str] = frozenset(), sample: int = 1000
) -> list[str]:
    """Columns that look like personal data, by name or by a majority of personal values.

    ``protected`` columns (the ones the analysis maps) are never reported. Column order is
    kept.
    """
    protected = set(protected)
    found = []
    for col in raw.columns:
        if col in protected:
            continue
        if pii_by_name(col) or personal_kind(raw[col], sample) is not None:
            found.append(col)
    return found


def pseudonym_key(key: str | bytes | None = None) -> bytes | None:
    """Return the pseudonymisation key: ``key``, else the :data:`KEY_ENV` variable, else None."""
    if key is None:
        key = os.environ.get(KEY_ENV) or None
    if key is None:
        return None
    key = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(key) < 16:
        raise InputError(f"{KEY_ENV}: the pseudonymisation key must be at least 16 characters")
    return key


def pseudonymise(values: pd.Series, key: str | bytes, kind: str | None = None) -> pd.Series:
    """Replace each value by ``pid_`` + 20 hex digits of HMAC-SHA256(key, normalised value).

    Normalisation: surrounding white space trimmed; e-mail addresses lower-cased; phone
    numbers reduced to their digits (and a leading ``+``). Blanks stay blank, so the
    missing-id rules still apply. Use the same function and key on your own list of
    identifiers to map pseudonyms back.
    """
    k = pseudonym_key(key)
    if k is None:
        raise InputError("pseudonymise: no key given")
    s = _text(values)

    def norm(v: str) -> str:
        if kind == "email" or (kind is None and _EMAIL.match(v)):
            return v.lower()
        if kind == "phone":
            return ("+" if v.startswith("+") else "") + re.sub(r"\D", "", v)
        return v.upper() if kind == "id_card" else v

    def one(v: str) -> str:
        if v == "" or v.lower() in ("nan", "none", "null"):
            return v
        digest = hmac.new(k, norm(v).encode("utf-8"), hashlib.sha256).hexdigest()
        return PREFIX + digest[:20]

    return s.map(one).astype(object)


def screen_pii(
    df: pd.DataFrame,
    declared: Iterable[str] = (),
    protected: Iterable[str] = (),
    ids: Iterable[str] = (),
    key: str | bytes | None = None,
    source: str = "input",
    drop: bool = True,
) -> tuple[pd.DataFrame, PiiScreen]:
    """Screen a table for personal data: every input goes through this (see the module text).

    Parameters
    ----------
    df : DataFrame
        The table as read.
    declared : iterable of str
        ``pii_columns`` from the params: dropped (each must exist).
    protected : iterable of str
        Columns the analysis maps (items, target, amounts ...): never dropped.
    ids : iterable of str
        Identifier columns to keep: pseudonymised when their values are personal data.
    key : str or bytes, optional
        Pseudonymisation key; default the :data:`KEY_ENV` environment variable.
    source : str
        The file, for messages.
    drop : bool
        Drop declared and detected columns (False: only report them, e.g. when a later
        step drops them itself).

    Returns
    -------
    (DataFrame, PiiScreen)

    Raises
    ------
    InputError
        A declared column is missing or is also a mapped/id column, or an id column holds
        personal data and no key is set.
    """
    declared, ids = list(declared), [c for c in ids if c]
    protected = set(protected) | set(ids)
    for col in declared:
        if col not in df.columns:
            raise InputError(f"{source}: PII (pii_columns) column {col!r} not found")
        if col in protected:
            raise InputError(
                f"{source}: column {col!r} is used by the analysis but listed in pii_columns; "
                "use a non-personal key (an account number) instead"
            )
    rest = df.drop(columns=declared)
    detected = detect_pii_columns(rest, protected=protected)
    screen = PiiScreen(dropped=declared, detected=detected)
    if detected and drop:
        warnings.warn(
            f"{source}: dropped column(s) that look like personal data: "
            f"{', '.join(map(safe_name, detected))} (declare them in pii_columns to silence this)",
            PersonalDataWarning,
            stacklevel=2,
        )
    # a shallow copy: under copy-on-write, replacing a column below never touches ``df``
    out = rest.drop(columns=detected) if drop else df.copy(deep=False)
    for col in ids:
        if col not in out.columns:
            continue
        kind = personal_kind(out[col])
        if kind is None and pii_by_name(col):
            kind = "named"
        if kind is None:
            continue
        k = pseudonym_key(key)
        if k is None:
            raise InputError(
                f"{source}: id column {col!r} holds personal data ({kind}); set the environment "
                f"variable {KEY_ENV} or privacy.key_file in the params so it is pseudonymised"
            )
        out[col] = pseudonymise(out[col], k, None if kind == "named" else kind)
        screen.pseudonymised[col] = kind
    return out, screen
