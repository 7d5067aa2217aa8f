"""Raw interaction log -> the clean log every analysis takes, plus quarantined rows.

The raw log is the table :func:`crmlab.io.read_input` returns for the ``interactions``
params section (text columns; declared and detected personal columns already dropped, a
personal customer id already pseudonymised with the transactions' key). Mapping problems
are params problems and stop the run (:class:`~crmlab.errors.InputError`, exit 2): a
column named in ``columns`` missing from the file, a ``type`` value not in ``type_map``, a
``type_map`` target that is not a canonical type. Row problems set the row aside with the
*first* reason that applies:

====================  ==============================================================
reason                when
====================  ==============================================================
missing_customer_id   the id is blank (or ``nan``/``null``/``n/a``...) after trimming
invalid_timestamp     the timestamp does not parse (``date_format``, else inferred)
after_as_of           the contact is dated after the as-of date (the whole day counts)
unknown_customer      the id is not one of the customers of the transactions
missing_type          the type is blank (a blank is not a value ``type_map`` can map)
rating_out_of_scale   a rating is given but is not a number within ``rating_scale``
invalid_group         a group is given but is not treatment/control (处理组/实验组/对照组/控制组)
duplicate             the row repeats an earlier clean row in every clean-log column
====================  ==============================================================

``rows_in == rows_clean + rows_quarantined`` always holds.

The clean log (one row per row of the file that passed, in file order):

============  ===================  ==================================================
column        dtype                meaning
============  ===================  ==================================================
customer_id   str                  normalised as transactions (trimmed, ``42.0`` -> 42,
                                   leading zeros stripped when transactions strip them)
timestamp     datetime64[ns]       naive local time, like the transactions' dates
channel       str                  ``channel_map`` applied, else lower-cased; blank ->
                                   ``unknown``; ``none`` on control-group rows
type          str                  inquiry | complaint | praise | service | campaign | other
text          str or NA            free text, contact details masked (:func:`mask_contacts`)
rating        float64 or NaN       within ``rating_scale``
campaign      str or NA            campaign name
group         str or NA            treatment | control
============  ===================  ==================================================

A randomised campaign is recorded as one row per randomised customer: ``type`` campaign,
``campaign`` its name, ``group`` treatment (a real contact, on its channel, with its cost)
or control (an *assignment*, not a contact: the reader sets its channel to ``none``
whatever the file holds; no cost). :func:`is_contact` tells the two apart; contact
counts, channel mixes and cost to serve use contacts only.

Free text is kept for sentiment, so personal data inside it (an e-mail address or a phone
number a customer typed) is masked by :func:`mask_contacts` before anything is returned;
the quarantine's copy of the text is masked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlab.cleaning.clean import quarantine_frame
from crmlab.cleaning.duplicates import find_duplicates
from crmlab.cleaning.parsing import MISSING_TOKENS, as_text, normalise_ids, parse_dates
from crmlab.errors import InputError
from crmlab.interactions.params import GROUPS, INTERACTIONS, TYPES

__all__ = [
    "REASONS",
    "CLEAN_COLUMNS",
    "GROUP_ALIASES",
    "NO_CHANNEL",
    "InteractionLog",
    "mask_contacts",
    "map_types",
    "map_channels",
    "is_contact",
    "read_interactions",
]

REASONS = (
    "missing_customer_id",
    "invalid_timestamp",
    "after_as_of",
    "unknown_customer",
    "missing_type",
    "rating_out_of_scale",
    "invalid_group",
    "duplicate",
)
CLEAN_COLUMNS = ("customer_id", "timestamp", "channel", "type", "text", "rating", "campaign", "group")
_OPTIONAL = ("text", "rating", "campaign", "group")
# Arms as Chinese CRM exports name them; compared after trimming and case folding.
GROUP_ALIASES = {
    "treatment": "treatment", "control": "control",
    "处理组": "treatment", "实验组": "treatment", "干预组": "treatment",
    "对照组": "control", "控制组": "control",
}
NO_CHANNEL = "none"  # the channel of a control-group assignment: nobody was contacted
BLANK_CHANNEL = "unknown"
MAX_SHOWN = 5  # offending values named in an error message

# Contacts inside free text. Digits next to the match must not be part of it, so order
# numbers and dates are left alone unless they have a phone number's shape.
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE_IN_TEXT = re.compile(
    r"(?<![\dA-Za-z])(?:"
    r"(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}"  # Chinese mobile: 138 0013 8000
    r"|0\d{2,3}[ -]?\d{7,8}"  # Chinese landline with area code: 010-12345678
    r"|\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){2,4}"  # +44 20 7946 0958
    r"|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}"  # (555) 123-4567, 555-123-4567
    r")(?!\d)"
)
_CN_ID_IN_TEXT = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dA-Za-z])")
# a QQ (instant messenger) number is a contact too: "QQ 282369262", "qq号：12345"
_QQ_IN_TEXT = re.compile(r"(?i)(QQ\s*(?:号码|号)?\s*[:：]?\s*)\d{5,12}(?!\d)")
EMAIL_MASK, PHONE_MASK, ID_MASK, QQ_MASK = "[email]", "[phone]", "[id]", "[qq]"


@dataclass
class InteractionLog:
    """What :func:`read_interactions` returns.

    Attributes
    ----------
    clean : DataFrame
        The clean log, columns :data:`CLEAN_COLUMNS` (see the module text).
    quarantine : DataFrame
        Rejected rows: original columns as text (text masked), ``source_row`` (1-based
        data row of the input) and ``reason`` (one of :data:`REASONS`).
    report : dict
        ``rows_in``, ``rows_clean``, ``rows_quarantined``, ``by_reason``, ``repairs``,
        ``columns``, ``types``, ``channels``, ``customers``, ``timestamp_min``,
        ``timestamp_max``, ``as_of``.
    """

    clean: pd.DataFrame
    quarantine: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)


def mask_contacts(text: Any) -> Any:
    """Replace e-mail addresses, phone numbers, QQ and ID-card numbers in a free text.

    They become ``[email]``, ``[phone]``, ``[qq]`` and ``[id]``; the rest of the text is kept so its
    sentiment can still be read. Missing values are returned unchanged.

    Parameters
    ----------
    text : str or missing

    Returns
    -------
    str or missing

    Examples
    --------
    >>> mask_contacts("call me on 138 0013 8000 or write to li.wei@example.cn")
    'call me on [phone] or write to [email]'
    """
    if not isinstance(text, str):
        return text
    text = _EMAIL_IN_TEXT.sub(EMAIL_MASK, text)
    text = _CN_ID_IN_TEXT.sub(ID_MASK, text)
    text = _QQ_IN_TEXT.sub(lambda m: m.group(1) + QQ_MASK, text)
    return _PHONE_IN_TEXT.sub(PHONE_MASK, text)


def _shown(values: Iterable[Any]) -> str:
    values = list(values)
    more = f" (and {len(values) - MAX_SHOWN} more)" if len(values) > MAX_SHOWN else ""
    return ", ".join(repr(v) for v in values[:MAX_SHOWN]) + more


def _blank(s: pd.Series) -> pd.Series:
    return s.str.lower().isin(MISSING_TOKENS)


def map_types(values: pd.Series, type_map: Mapping[str, str], source: str = "interactions",
              column: str = "type") -> pd.Series:
    """Map the log's type values to the canonical types with ``type_map``.

    Values are compared after trimming, first exactly, then ignoring case (``Complaint``
    finds ``complaint``). Blanks become ``<NA>`` (the row rules quarantine them).

    Parameters
    ----------
    values : Series
        The type column as read.
    type_map : mapping
        The log's value -> one of :data:`crmlab.interactions.params.TYPES`.
    source, column : str
        File and column, for the message.

    Returns
    -------
    Series
        Canonical types (``str``), ``<NA>`` for blanks.

    Raises
    ------
    InputError
        A target is not a canonical type, or non-blank values have no entry; the one-line
        message names the file, the column and up to five values.
    """
    bad = sorted({str(v) for v in type_map.values() if v not in TYPES})
    if bad:
        raise InputError(
            f"{source}: key 'interactions.type_map' maps to {_shown(bad)}, not one of "
            f"{', '.join(TYPES)}"
        )
    exact = {str(k).strip(): v for k, v in type_map.items()}
    folded = {str(k).strip().casefold(): v for k, v in type_map.items()}
    text = as_text(values)
    blank = _blank(text)
    out = text.map(exact)
    left = out.isna() & ~blank
    out[left] = text[left].str.casefold().map(folded)
    unmapped = out.isna() & ~blank
    if unmapped.any():
        counts = text[unmapped].value_counts()  # most frequent first: the ones worth fixing
        raise InputError(
            f"{source}: column {column!r} (type) has {len(counts)} value(s) not in "
            f"interactions.type_map: {_shown(counts.index)}; add them to type_map"
        )
    return out.mask(blank).astype("str")


def map_channels(values: pd.Series, channel_map: Mapping[str, str] | None = None) -> tuple[pd.Series, int]:
    """Canonical channel names: ``channel_map`` applied, other values lower-cased.

    Keys are compared after trimming, exactly and then ignoring case. A blank channel
    becomes ``unknown`` (counted), so the contact still counts.

    Returns
    -------
    (Series, int)
        Channel names (``str``) and the number of blanks set to ``unknown``.
    """
    channel_map = channel_map or {}
    exact = {str(k).strip(): str(v).strip().lower() for k, v in channel_map.items()}
    folded = {str(k).strip().casefold(): str(v).strip().lower() for k, v in channel_map.items()}
    text = as_text(values)
    blank = _blank(text)
    out = text.map(exact)
    left = out.isna()
    out[left] = text[left].str.casefold().map(folded)
    left = out.isna()
    out[left] = text[left].str.lower()
    out[blank] = BLANK_CHANNEL
    return out.astype("str"), int(blank.sum())


def is_contact(log: pd.DataFrame) -> pd.Series:
    """Tell real contacts (True) from control-group assignments (False).

    Parameters
    ----------
    log : DataFrame
        The clean log (needs ``group``).

    Returns
    -------
    boolean Series
    """
    if "group" not in log.columns:
        raise InputError("interaction log: required column 'group' missing")
    return ~log["group"].eq("control").fillna(False).astype(bool)


def _setting(section: Mapping[str, Any], key: str) -> Any:
    # a hand-made section (a test) may hold only columns and type_map: the schema's default
    if key in section:
        return section[key]
    return INTERACTIONS.keys[key].default


def _columns(section: Mapping[str, Any]) -> dict[str, str | None]:
    given = dict(section.get("columns") or {})
    out = {}
    for name in CLEAN_COLUMNS:
        default = INTERACTIONS.keys["columns"].keys[name].default
        out[name] = given.get(name, default if name not in _OPTIONAL else None)
    return out


def _check_columns(raw: pd.DataFrame, columns: Mapping[str, str | None], source: str) -> None:
    missing = [(canon, col) for canon, col in columns.items() if col and col not in raw.columns]
    if missing:
        canon, col = missing[0]
        have = ", ".join(map(str, list(raw.columns)[:12])) + (" ..." if raw.shape[1] > 12 else "")
        raise InputError(
            f"{source}: column {col!r} (interactions.columns.{canon}) not found (columns: {have})"
        )


def _optional_text(raw: pd.DataFrame, col: str | None) -> pd.Series:
    if col is None:
        return pd.Series(pd.NA, index=raw.index, dtype="str")
    text = as_text(raw[col])
    return text.mask(_blank(text))


def read_interactions(
    raw: pd.DataFrame,
    section: Mapping[str, Any],
    customers: Iterable[str] | None = None,
    as_of: str | pd.Timestamp | None = None,
    strip_leading_zeros: bool = False,
    source: str | None = None,
) -> InteractionLog:
    """Map and check a raw interaction log: clean rows, quarantined rows, and the report.

    Parameters
    ----------
    raw : DataFrame
        The log as :func:`crmlab.io.read_input` returns it (text columns).
    section : mapping
        The ``interactions`` params section (``columns``, ``type_map``, ``channel_map``,
        ``rating_scale``, ``date_format``, ``dayfirst``, ``timezone``, ``pii_columns``).
    customers : iterable of str, optional
        The customer ids of the clean transactions; other ids are ``unknown_customer``.
        ``None`` skips that rule.
    as_of : date-like, optional
        Contacts after this day are ``after_as_of``.
    strip_leading_zeros : bool
        The transactions' ``strip_leading_zeros``, so ids match theirs.
    source : str, optional
        The file, for messages (default ``section["path"]``).

    Returns
    -------
    InteractionLog

    Raises
    ------
    InputError
        A mapped column is missing, a type value is not in ``type_map``, or a ``type_map``
        target is not canonical.
    """
    from crmlab.privacy import screen_pii

    source = source or str(section.get("path") or "interactions")
    columns = _columns(section)
    _check_columns(raw, columns, source)
    mapped = [c for c in columns.values() if c]
    # personal columns go first, in case the table did not come through read_input
    pii = [c for c in (_setting(section, "pii_columns") or []) if c in raw.columns]
    orig, screen = screen_pii(raw, pii, protected=mapped, ids=[columns["customer_id"]], source=source)
    orig = orig.reset_index(drop=True)
    types = map_types(orig[columns["type"]], section["type_map"], source, columns["type"])

    repairs: dict[str, int] = {}
    cid, rep = normalise_ids(orig[columns["customer_id"]], strip_leading_zeros)
    repairs.update(rep)
    stamp, rep = parse_dates(orig[columns["timestamp"]], _setting(section, "date_format"),
                             bool(_setting(section, "dayfirst")), None, _setting(section, "timezone"))
    repairs.update(rep)
    channel, repairs["channel_blank"] = map_channels(orig[columns["channel"]],
                                                     _setting(section, "channel_map"))
    text = _optional_text(orig, columns["text"])
    masked = text.map(mask_contacts, na_action="ignore")
    repairs["text_contacts_masked"] = int((masked.fillna("") != text.fillna("")).sum())
    if columns["text"]:
        orig[columns["text"]] = masked.fillna("")  # the quarantine keeps no contact either

    rating_text = _optional_text(orig, columns["rating"])
    rating = pd.to_numeric(rating_text.str.replace(",", ".", regex=False), errors="coerce")
    lo, hi = _setting(section, "rating_scale")
    bad_rating = rating_text.notna() & ~rating.between(lo, hi)
    group_text = _optional_text(orig, columns["group"])
    group = group_text.str.casefold().map(GROUP_ALIASES)
    bad_group = group_text.notna() & group.isna()
    # a control-group row records an assignment: nobody was contacted, whatever the file
    # says in its channel (often blank or "none", which would otherwise read as unknown)
    control = group.eq("control").fillna(False).astype(bool)
    repairs["channel_blank"] = int((channel.eq(BLANK_CHANNEL) & ~control).sum())
    channel = channel.mask(control, NO_CHANNEL)

    canon = pd.DataFrame({
        "customer_id": cid, "timestamp": stamp, "channel": channel, "type": types,
        "text": masked.astype("str"), "rating": rating.astype(np.float64),
        "campaign": _optional_text(orig, columns["campaign"]).astype("str"),
        "group": group.astype("str"),
    })
    reason = pd.Series(pd.NA, index=orig.index, dtype=object)

    def flag(mask: pd.Series, code: str) -> None:
        reason[mask.fillna(False).astype(bool) & reason.isna()] = code

    flag(cid.isna(), "missing_customer_id")
    flag(stamp.isna(), "invalid_timestamp")
    if as_of is not None:
        flag(stamp >= pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1), "after_as_of")
    if customers is not None:
        known = pd.Index(pd.Series(list(customers), dtype="str").unique())
        flag(~cid.isin(known), "unknown_customer")
    flag(types.isna(), "missing_type")
    flag(bad_rating, "rating_out_of_scale")
    flag(bad_group, "invalid_group")
    dup = find_duplicates(canon, canon.iloc[:, :0], candidates=reason.isna())
    flag(dup, "duplicate")

    ok = reason.isna().to_numpy()
    clean = canon[ok].reset_index(drop=True)
    rows = np.flatnonzero(~ok) + 1
    quarantine = quarantine_frame(orig[~ok], rows, reason[~ok])
    counts = reason[~ok].value_counts()
    report = {
        "rows_in": len(orig),
        "rows_clean": len(clean),
        "rows_quarantined": len(quarantine),
        "by_reason": {code: int(counts.get(code, 0)) for code in REASONS},
        "repairs": repairs,
        "columns": columns,
        "pii_dropped": screen.as_dict()["pii_dropped"],
        "pii_detected": screen.as_dict()["pii_detected"],
        "types": {t: int(clean["type"].eq(t).sum()) for t in TYPES},
        "channels": {str(k): int(v) for k, v in clean["channel"].value_counts().items()},
        "groups": {g: int(clean["group"].eq(g).sum()) for g in GROUPS},
        "customers": int(clean["customer_id"].nunique()),
        "timestamp_min": clean["timestamp"].min().isoformat() if len(clean) else None,
        "timestamp_max": clean["timestamp"].max().isoformat() if len(clean) else None,
        "as_of": None if as_of is None else pd.Timestamp(as_of).date().isoformat(),
    }
    return InteractionLog(clean, quarantine, report)
