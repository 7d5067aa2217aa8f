"""Every run-dependent sentence of the cleaning stage, as Markdown.

Takeaways are returned without the "**Takeaway:**" label
(:meth:`crmlab.context.StageContext.show` adds it); the other functions return a whole
Markdown paragraph or list for the notebook to display.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from crmlab.formatting import format_money
from crmlab.i18n import EN, Catalog

__all__ = [
    "read_summary",
    "personal_data_note",
    "quarantine_takeaway",
    "activity_takeaway",
    "order_values_takeaway",
    "products_written",
    "next_checks",
    "reason_name",
    "repair_name",
    "month_name",
]


def _code_list(names: list[str], tr: Catalog = EN) -> str:
    return tr("common.list_sep").join(f"`{c}`" for c in names) or tr("common.none")


def reason_name(code: str, tr: Catalog = EN) -> str:
    """Display name of a quarantine reason code (the code itself in English and when unknown)."""
    key = f"cleaning.reason.{code}"
    return tr(key) if tr.has(key) else str(code)


def repair_name(code: str, tr: Catalog = EN) -> str:
    """Display name of a repair kind (the code itself in English and when unknown)."""
    key = f"cleaning.repair.{code}"
    return tr(key) if tr.has(key) else str(code)


def month_name(month: Any, tr: Catalog = EN) -> str:
    """Write a month as a reader does: ``January 2024`` / ``2024年1月``."""
    m = pd.Timestamp(month)
    return tr("cleaning.month_year", name=tr(f"cleaning.month_names.m{m.month}"), year=m.year)


def _file_format(fmt: Any, tr: Catalog) -> str:
    key = f"cleaning.file_format.{fmt}"
    return tr(key) if tr.has(key) else str(fmt)


def read_summary(report: Mapping[str, Any], source: str, tr: Catalog = EN) -> str:
    """Say what was read, from which file, how, and on which engine.

    Parameters
    ----------
    report : mapping
        A cleaning report with its source (:func:`crmlab.cleaning.report.with_source`):
        ``rows_in``, ``file``, ``format``, ``encoding``, ``separator``, ``engine``.
    source : str
        The data set's name (``transactions.source``, else the file name).
    tr : Catalog
        The run's catalog (``ctx.tr``).
    """
    return tr("cleaning.read_summary", rows=report["rows_in"], source=source,
              file=report["file"].split("/")[-1], format=_file_format(report["format"], tr), encoding=report["encoding"],
              separator=repr(report["separator"]), engine=report["engine"])


def personal_data_note(report: Mapping[str, Any], tr: Catalog = EN) -> str:
    """Name the personal-data columns dropped: declared (``pii_dropped``) and detected (``pii_detected``)."""
    return tr("cleaning.personal_data_note", declared=_code_list(report["pii_dropped"], tr),
              detected=_code_list(report["pii_detected"], tr))


def quarantine_takeaway(report: Mapping[str, Any], reasons: pd.DataFrame, tr: Catalog = EN) -> str:
    """How many rows were set aside, and the largest reason.

    Parameters
    ----------
    report : mapping
        A cleaning report (``rows_in``, ``rows_quarantined``).
    reasons : DataFrame
        :func:`crmlab.cleaning.report.reason_table` of the report (largest first).
    tr : Catalog
        The run's catalog (``ctx.tr``).
    """
    n_in, n_out = report["rows_in"], report["rows_quarantined"]
    counts = dict(n_out=n_out, n_in=n_in, share=n_out / max(n_in, 1))
    if not n_out:
        return tr("cleaning.quarantine_takeaway.none", **counts)
    top = reasons.iloc[0]
    return tr("cleaning.quarantine_takeaway.top", **counts, reason=reason_name(top.reason, tr), rows=top.rows)


def activity_takeaway(report: Mapping[str, Any], monthly: pd.DataFrame, source: str, currency: str = "",
                      tr: Catalog = EN) -> str:
    """Sum up customers, purchases and period; compare the busiest month with the last one.

    A purchase's average value in the two months tells whether a fall is in how many
    purchases are made or in their value (within 0.8-1.25 times counts as the same).

    Parameters
    ----------
    report : mapping
        A cleaning report (``customers``, ``rows_clean``, ``date_min``, ``date_max``).
    monthly : DataFrame
        :func:`crmlab.cleaning.monthly_activity` (``month``, ``purchases``, ``revenue``).
    source : str
        The data set's name.
    currency : str
        Currency of the amounts, for the money format.
    tr : Catalog
        The run's catalog (``ctx.tr``).
    """
    if not len(monthly):
        return tr("cleaning.activity_takeaway.empty")
    busiest = monthly.loc[monthly["revenue"].idxmax()]
    last = monthly.iloc[-1]
    per = [row["revenue"] / max(row["purchases"], 1) for row in (busiest, last)]
    same = 0.8 <= per[1] / max(per[0], 1e-12) <= 1.25
    return tr(
        "cleaning.activity_takeaway.same_value" if same else "cleaning.activity_takeaway.value_changed",
        customers=report["customers"], source=source, purchases=report["rows_clean"],
        first=report["date_min"][:10], last=report["date_max"][:10],
        busiest_month=month_name(busiest["month"], tr), busiest_revenue=format_money(busiest["revenue"], currency),
        last_month=month_name(last["month"], tr), last_share=last["revenue"] / max(busiest["revenue"], 1e-12),
        busiest_per=format_money(per[0], currency, 2), last_per=format_money(per[1], currency, 2),
    )


def order_values_takeaway(order_values: Mapping[str, Any], currency: str = "", tr: Catalog = EN) -> str:
    """Give the median and the 90th percentile of purchase values.

    Parameters
    ----------
    order_values : mapping
        :func:`crmlab.cleaning.order_value_summary` (``median``, ``p90``).
    currency : str
        Currency of the amounts.
    tr : Catalog
        The run's catalog (``ctx.tr``).
    """
    return tr("cleaning.order_values_takeaway", median=format_money(order_values["median"], currency, 2),
              p90=format_money(order_values["p90"], currency, 2))


def products_written(staged: bool, folder: str | Path, tr: Catalog = EN) -> str:
    """Say where the three products went: a staging folder (``crmlab run``) or ``folder``."""
    if staged:
        return tr("cleaning.products_written.staged")
    return tr("cleaning.products_written.folder", folder=folder)


def next_checks(report: Mapping[str, Any], tr: Catalog = EN) -> str:
    """List what the analyst should check next, as Markdown (one item per rule that fired).

    Parameters
    ----------
    report : mapping
        A cleaning report (``by_reason``, ``pii_detected``, ``columns``: the mapped columns).
    tr : Catalog
        The run's catalog (``ctx.tr``).
    """
    checks = []
    by = report["by_reason"]
    if by.get("duplicate"):
        checks.append(tr("cleaning.next_checks.duplicate_with_order_id" if report["columns"].get("order_id")
                         else "cleaning.next_checks.duplicate_no_order_id", n=by["duplicate"]))
    for reason in ("invalid_date", "invalid_amount", "negative_amount", "after_observation_end"):
        if by.get(reason):
            checks.append(tr(f"cleaning.next_checks.{reason}", n=by[reason]))
    if report["pii_detected"]:
        checks.append(tr("cleaning.next_checks.pii_detected"))
    if not checks:
        checks.append(tr("cleaning.next_checks.all_well"))
    return "\n".join(f"* {c}" for c in checks)
