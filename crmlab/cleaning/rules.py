"""The row rules: which reason, if any, sets a row aside (see :mod:`crmlab.cleaning`).

The rules here look at one row at a time, so they run on the whole table (pandas) or on
any slice of it (a Dask partition) with the same result. The duplicate rule needs the
whole table and lives in :mod:`crmlab.cleaning.duplicates`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from crmlab.cleaning.parsing import (
    as_text,
    guess_date_format,
    is_missing_token,
    normalise_ids,
    parse_amounts,
    parse_dates,
)
from crmlab.cleaning.textbytes import all_ascii
from crmlab.errors import InputError

__all__ = [
    "REASONS",
    "CANONICAL",
    "setting",
    "detect_pii_columns",
    "check_mapping",
    "date_guess",
    "row_rules",
]

# from this many rows on, the columns are parsed side by side on the cores (row_rules)
PARALLEL_MIN_ROWS = 500_000

REASONS = (
    "undecodable_text",
    "missing_customer_id",
    "invalid_date",
    "invalid_amount",
    "amount_out_of_range",
    "negative_amount",
    "zero_amount",
    "invalid_quantity",
    "after_observation_end",
    "duplicate",
)
CANONICAL = ("customer_id", "date", "amount", "quantity", "order_id")


def setting(section: Mapping[str, Any], key: str) -> Any:
    """Read a key of the ``transactions`` section, or the schema's default when it is absent.

    A validated section holds every key; a hand-made mapping (a test, a benchmark) may hold
    only ``columns``. The default then comes from :data:`crmlab.config.TRANSACTIONS`, the
    one place defaults are written.
    """
    if key in section:
        return section[key]
    from crmlab.config import TRANSACTIONS

    return TRANSACTIONS.keys[key].default


def detect_pii_columns(raw: pd.DataFrame, protected: set[str] | frozenset = frozenset(),
                       sample: int = 1000) -> list[str]:
    """Columns that look like personal data (:func:`crmlab.privacy.detect_pii_columns`).

    By name (``email``, ``phone``, ``first_name``, ``手机`` ...) or by a majority of e-mail,
    phone or ID-card values.

    Parameters
    ----------
    raw : DataFrame
        The table as read (text columns).
    protected : set of str
        Columns never reported (the mapped canonical columns).
    sample : int
        How many non-blank values per column to test.

    Returns
    -------
    list of str
        Column names, in table order.
    """
    from crmlab.privacy import detect_pii_columns as detect

    return detect(raw, protected=protected, sample=sample)


def check_mapping(raw: pd.DataFrame, columns: Mapping[str, Any], pii: list[str], source: str) -> None:
    """Refuse a mapping to a missing column, a missing PII column, or a PII column mapped as a key.

    Raises
    ------
    InputError
        With ``source`` (the file name) and the offending column.
    """
    for canon, col in columns.items():
        if col is None:
            continue
        if col not in raw.columns:
            raise InputError(f"{source}: mapped column {col!r} (for {canon}) not found")
        if col in pii:
            raise InputError(
                f"{source}: column {col!r} is mapped as {canon} but listed in pii_columns; "
                "map a non-personal key (an account number) instead"
            )
    for col in pii:
        if col not in raw.columns:
            raise InputError(f"{source}: PII (pii_columns) column {col!r} not found")


def date_guess(sample: pd.DataFrame, columns: Mapping[str, Any], section: Mapping[str, Any]) -> str | None:
    """Infer the one date format of the date column (None when ``date_format`` is given)."""
    if setting(section, "date_format"):
        return None
    return guess_date_format(sample[columns["date"]], bool(setting(section, "dayfirst")))


def row_rules(
    orig: pd.DataFrame,
    columns: Mapping[str, Any],
    section: Mapping[str, Any],
    observation_end: Any,
    date_format_guess: str | None,
) -> tuple[pd.DataFrame, pd.Series, dict[str, int]]:
    """Apply the rules that look at one row at a time.

    Parameters
    ----------
    orig : DataFrame
        The export (text columns, personal data already dropped).
    columns : mapping
        Canonical name -> column of ``orig`` (None when not mapped).
    section : mapping
        The ``transactions`` params section.
    observation_end : date-like or None
        Purchases after this day are ``after_observation_end``.
    date_format_guess : str or None
        The column's inferred date format (:func:`date_guess`).

    Returns
    -------
    (DataFrame, Series, dict)
        The canonical values, the reason per row (``<NA>`` where the row passes) and the
        repair counts.
    """
    repairs: dict[str, int] = {}
    decimal = setting(section, "decimal")
    # the columns are parsed independently of each other: on a big export, side by side on
    # the cores (NumPy, Arrow and the parsers' vectorised steps release the GIL); the
    # results and the order of the repair counts are the same either way
    parsers = [
        partial(normalise_ids, orig[columns["customer_id"]], bool(setting(section, "strip_leading_zeros"))),
        partial(parse_dates, orig[columns["date"]], setting(section, "date_format"),
                bool(setting(section, "dayfirst")), date_format_guess, setting(section, "timezone")),
        partial(parse_amounts, orig[columns["amount"]], decimal),
    ]
    if columns["quantity"]:
        parsers.append(partial(_parse_quantities, orig[columns["quantity"]], decimal))
    workers = min(len(parsers), os.cpu_count() or 1)
    if workers < 2 or len(orig) < PARALLEL_MIN_ROWS:
        parsed = [parse() for parse in parsers]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crmlab-rules") as pool:
            parsed = list(pool.map(lambda parse: parse(), parsers))
    (cid, rep_ids), (date, rep_dates), (amount, rep_amounts) = parsed[:3]
    for rep in (rep_ids, rep_dates, rep_amounts):
        repairs.update(rep)
    max_amount = float(setting(section, "max_amount"))
    finite = pd.Series(np.isfinite(amount.to_numpy(dtype=np.float64, na_value=np.nan)),
                       index=amount.index, copy=False)
    undecodable = _undecodable_rows(orig, [columns["customer_id"], columns["order_id"]])
    data = {"customer_id": cid, "date": date, "amount": amount}
    bad_qty = pd.Series(False, index=orig.index)
    if columns["quantity"]:
        qty, bad_qty, blanks = parsed[3]
        data["quantity"] = qty
        repairs["quantity_blank"] = blanks
    if columns["order_id"]:
        oid = as_text(orig[columns["order_id"]])
        data["order_id"] = oid.mask(is_missing_token(oid))

    reason = pd.Series(pd.NA, index=orig.index, dtype=object)
    unset = np.ones(len(reason), dtype=bool)  # rows without a reason yet (first rule wins)

    def flag(mask: pd.Series, code: str) -> None:
        hit = mask.to_numpy(dtype=bool) & unset
        if hit.any():
            reason[hit] = code
            unset[hit] = False

    flag(undecodable, "undecodable_text")
    flag(cid.isna(), "missing_customer_id")
    flag(date.isna(), "invalid_date")
    flag(amount.isna() | ~finite, "invalid_amount")
    flag(amount.abs() > max_amount, "amount_out_of_range")
    flag(amount < 0, "negative_amount")
    if setting(section, "zero_amount") == "quarantine":
        flag(amount == 0, "zero_amount")
    flag(bad_qty, "invalid_quantity")
    if observation_end is not None:
        last_day = pd.Timestamp(observation_end).normalize() + pd.Timedelta(days=1)
        flag(date >= last_day, "after_observation_end")

    return pd.DataFrame(data), reason, repairs


def _parse_quantities(values: pd.Series, decimal: str) -> tuple[pd.Series, pd.Series, int]:
    """Return the quantities (missing where blank), the rows not a number, the blank count."""
    qtext = as_text(values)
    qblank = is_missing_token(qtext)
    qty, _ = parse_amounts(qtext.mask(qblank, "0") if qblank.any() else qtext, decimal)
    qfinite = np.isfinite(qty.to_numpy(dtype=np.float64, na_value=np.nan))
    bad_qty = (qty.isna() | ~qfinite) & ~qblank
    return qty.mask(qblank), bad_qty, int(qblank.sum())


def _undecodable_rows(orig: pd.DataFrame, ids: list[str | None]) -> pd.Series:
    """Rows whose customer or order id holds U+FFFD: bytes the encoding could not decode.

    Only the ids are looked at: a date or an amount with such bytes does not parse anyway
    (``invalid_date``/``invalid_amount``), and other columns are not analysed.
    """
    hit = pd.Series(False, index=orig.index)
    for col in (c for c in ids if c):
        if all_ascii(orig[col]):  # U+FFFD is three bytes above 0x7F
            continue
        if orig[col].dtype == object or pd.api.types.is_string_dtype(orig[col].dtype):
            hit |= orig[col].astype("str").str.contains("\ufffd", regex=False).fillna(False).astype(bool)
    return hit
