"""The in-memory cleaning path: a raw pandas table -> clean rows, quarantine and report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlab.cleaning.duplicates import duplicate_rows, select_rows
from crmlab.cleaning.keys import distinct_count
from crmlab.cleaning.report import build_report, money_set_aside
from crmlab.cleaning.rules import (
    CANONICAL,
    REASONS,
    check_mapping,
    date_guess,
    detect_pii_columns,
    row_rules,
    setting,
)
from crmlab.cleaning.textbytes import one_chunk

__all__ = ["CleaningResult", "clean_transactions", "quarantine_frame"]


@dataclass
class CleaningResult:
    """What :func:`clean_transactions` returns.

    Attributes
    ----------
    clean : DataFrame
        Canonical columns ``customer_id`` (str), ``date`` (datetime64[ns]), ``amount``
        (float64) and, when mapped, ``quantity`` (float64) and ``order_id`` (str), in
        input order.
    quarantine : DataFrame
        Rejected rows: the original columns as text (personal data dropped),
        ``source_row`` (1-based data row of the input) and ``reason``.
    report : dict
        ``rows_in``, ``rows_clean``, ``rows_quarantined``, ``by_reason``, ``repairs`` and
        the policies and money totals (see :func:`crmlab.cleaning.report.build_report`).
    """

    clean: pd.DataFrame
    quarantine: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)


def quarantine_frame(orig: pd.DataFrame, source_row: Any, reason: pd.Series) -> pd.DataFrame:
    """Shape rejected rows for ``quarantine.parquet``: original columns as text, row and reason.

    Original columns that are themselves called ``source_row`` or ``reason`` are kept as
    ``orig_source_row``/``orig_reason``.

    Parameters
    ----------
    orig : DataFrame
        The rejected rows' original columns.
    source_row : array-like of int
        Their 1-based data row in the input.
    reason : Series
        Their reason codes.
    """
    q = orig.astype("str")
    q = q.rename(columns={c: f"orig_{c}" for c in q.columns if c in ("source_row", "reason")})
    q["source_row"] = source_row
    q["reason"] = reason.astype(str)
    return q.reset_index(drop=True)


def clean_transactions(
    raw: pd.DataFrame,
    section: Mapping[str, Any],
    observation_end: str | pd.Timestamp | None = None,
    source: str = "transactions",
) -> CleaningResult:
    """Apply the cleaning rules (:mod:`crmlab.cleaning`) to a raw transaction table.

    Parameters
    ----------
    raw : DataFrame
        The export as read by :func:`crmlab.io.read_table` (text columns).
    section : mapping
        The ``transactions`` params block: ``columns`` (canonical name -> column),
        ``date_format``, ``dayfirst``, ``decimal``, ``pii_columns``, ``duplicates``
        (``quarantine``/``keep``), ``zero_amount`` (``keep``/``quarantine``),
        ``strip_leading_zeros``.
    observation_end : date-like, optional
        Purchases after this day are quarantined as ``after_observation_end``.
    source : str
        The file name, used in error messages.

    Returns
    -------
    CleaningResult
        ``clean``, ``quarantine`` and ``report`` (``rows_in``, ``rows_clean``,
        ``rows_quarantined``, ``by_reason``, ``repairs``, ``pii_dropped``,
        ``pii_detected``, ``amount_clean``, ``amount_quarantined``, ``date_min``,
        ``date_max``, ``customers``, ``policies``).

    Raises
    ------
    InputError
        A mapped or PII column is missing, or a PII column is mapped as a canonical column.
    """
    from crmlab.privacy import screen_pii

    columns = {k: section["columns"].get(k) for k in CANONICAL}
    pii = list(setting(section, "pii_columns") or [])
    check_mapping(raw, columns, pii, source)
    mapped = {c for c in columns.values() if c}
    detected = detect_pii_columns(raw.drop(columns=pii), protected=mapped)
    # personal data goes first, before any copy of the rows is kept
    keep_cols = [c for c in raw.columns if c not in pii and c not in detected]
    orig = raw[keep_cols].reset_index(drop=True)
    # a customer id that is itself personal (e-mail addresses) becomes a keyed pseudonym
    # (crmlab.io.read_input has already done it for files read through the params)
    orig, _ = screen_pii(orig, protected=mapped, ids=[columns["customer_id"]], source=source, drop=False)
    canon, reason, repairs = row_rules(orig, columns, section, observation_end,
                                       date_guess(orig, columns, section))
    return _finish(orig, canon, reason, repairs, columns, pii, detected, section, observation_end)


def _finish(
    orig: pd.DataFrame,
    canon: pd.DataFrame,
    reason: pd.Series,
    repairs: dict[str, int],
    columns: Mapping[str, Any],
    pii: list[str],
    detected: list[str],
    section: Mapping[str, Any],
    observation_end: Any,
) -> CleaningResult:
    """Rules that need the whole table (duplicates), then the two outputs and the report."""
    orig, canon = orig.reset_index(drop=True), canon.reset_index(drop=True)
    canon = canon.assign(customer_id=one_chunk(canon["customer_id"]))  # read as one array 4 times
    reason = reason.reset_index(drop=True)
    mapped = {c for c in columns.values() if c}
    others = [c for c in orig.columns if c not in mapped]
    passed = reason.isna()
    dup = pd.Series(duplicate_rows(canon, orig[others], candidates=passed), index=canon.index,
                    copy=False)
    if setting(section, "duplicates") == "quarantine":
        reason[dup & passed] = "duplicate"

    ok = reason.isna()
    keep = ok.to_numpy(dtype=bool)
    clean = select_rows(canon, keep)
    clean["customer_id"] = clean["customer_id"].astype("str")
    source_row = np.arange(1, len(orig) + 1, dtype=np.int64)
    quarantine = quarantine_frame(select_rows(orig, ~keep), source_row[~keep],
                                  reason[~ok].reset_index(drop=True))

    counts = reason[~ok].value_counts()
    by_reason = {code: int(counts.get(code, 0)) for code in REASONS}
    by_reason.update({str(k): int(v) for k, v in counts.items() if k not in by_reason})
    report = build_report(
        rows_in=len(orig),
        rows_clean=len(clean),
        rows_quarantined=len(quarantine),
        by_reason=by_reason,
        repairs=repairs,
        duplicates_seen=int(dup.sum()),
        pii_dropped=pii,
        pii_detected=detected,
        columns=columns,
        amount_clean=clean["amount"].sum(),
        amount_quarantined=money_set_aside(canon["amount"][~ok], section),
        date_min=clean["date"].min() if len(clean) else None,
        date_max=clean["date"].max() if len(clean) else None,
        customers=distinct_count(clean["customer_id"]),
        observation_end=observation_end,
        section=section,
    )
    return CleaningResult(clean, quarantine, report)

