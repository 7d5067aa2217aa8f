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

__all__ = [
    "read_summary",
    "personal_data_note",
    "quarantine_takeaway",
    "activity_takeaway",
    "order_values_takeaway",
    "products_written",
    "next_checks",
]


def _code_list(names: list[str]) -> str:
    return ", ".join(f"`{c}`" for c in names) or "none"


def read_summary(report: Mapping[str, Any], source: str) -> str:
    """Say what was read, from which file, how, and on which engine.

    Parameters
    ----------
    report : mapping
        A cleaning report with its source (:func:`crmlab.cleaning.report.with_source`):
        ``rows_in``, ``file``, ``format``, ``encoding``, ``separator``, ``engine``.
    source : str
        The data set's name (``transactions.source``, else the file name).
    """
    return (
        f"Read **{report['rows_in']:,} rows** of **{source}** from `{report['file'].split('/')[-1]}` "
        f"({report['format']}, encoding `{report['encoding']}`, delimiter `{report['separator']!r}`); "
        f"engine: {report['engine']}."
    )


def personal_data_note(report: Mapping[str, Any]) -> str:
    """Name the personal-data columns dropped: declared (``pii_dropped``) and detected (``pii_detected``)."""
    return (
        f"Dropped as declared personal data: {_code_list(report['pii_dropped'])}. "
        f"Detected and dropped as well: {_code_list(report['pii_detected'])}."
    )


def quarantine_takeaway(report: Mapping[str, Any], reasons: pd.DataFrame) -> str:
    """How many rows were set aside, and the largest reason.

    Parameters
    ----------
    report : mapping
        A cleaning report (``rows_in``, ``rows_quarantined``).
    reasons : DataFrame
        :func:`crmlab.cleaning.report.reason_table` of the report (largest first).
    """
    n_in, n_out = report["rows_in"], report["rows_quarantined"]
    text = f"{n_out:,} of {n_in:,} rows ({n_out / max(n_in, 1):.2%}) were set aside; "
    if not n_out:
        return text + "no rule rejected anything."
    top = reasons.iloc[0]
    return text + f"the largest group is `{top.reason}` with {top.rows:,} rows."


def activity_takeaway(report: Mapping[str, Any], monthly: pd.DataFrame, source: str, currency: str = "") -> str:
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
    """
    if not len(monthly):
        return "no clean purchases remain — check the rules above."
    busiest = monthly.loc[monthly["revenue"].idxmax()]
    last = monthly.iloc[-1]
    per = [row["revenue"] / max(row["purchases"], 1) for row in (busiest, last)]
    same = 0.8 <= per[1] / max(per[0], 1e-12) <= 1.25
    return (
        f"{report['customers']:,} customers of {source} made {report['rows_clean']:,} clean "
        f"purchases between {report['date_min'][:10]} and {report['date_max'][:10]}; "
        f"the busiest month was {busiest['month']:%B %Y} with "
        f"{format_money(busiest['revenue'], currency)} in revenue, and the last month, "
        f"{last['month']:%B %Y}, brought {last['revenue'] / max(busiest['revenue'], 1e-12):.0%} of "
        f"that. A purchase was worth {format_money(per[0], currency, 2)} on average then and "
        f"{format_money(per[1], currency, 2)} in the last month"
        + (": the change is in how many purchases are made (bottom panel), not in their value."
           if same else ": the value of a purchase changed too, not only how many are made.")
    )


def order_values_takeaway(order_values: Mapping[str, Any], currency: str = "") -> str:
    """Give the median and the 90th percentile of purchase values.

    Parameters
    ----------
    order_values : mapping
        :func:`crmlab.cleaning.order_value_summary` (``median``, ``p90``).
    currency : str
        Currency of the amounts.
    """
    return (
        f"half of all purchases are worth less than {format_money(order_values['median'], currency, 2)} "
        f"and nine in ten less than {format_money(order_values['p90'], currency, 2)}; the long right "
        "tail is where the most valuable orders sit."
    )


def products_written(staged: bool, folder: str | Path) -> str:
    """Say where the three products went: a staging folder (``crmlab run``) or ``folder``."""
    return (
        "Written: `transactions.parquet`, `quarantine.parquet`, `cleaning_report.json`"
        + (" (staged; they replace the previous products when the whole run succeeds)."
           if staged else f" in `{folder}`.")
    )


def next_checks(report: Mapping[str, Any]) -> str:
    """List what the analyst should check next, as Markdown (one item per rule that fired).

    Parameters
    ----------
    report : mapping
        A cleaning report (``by_reason``, ``pii_detected``, ``columns``: the mapped columns).
    """
    checks = []
    by = report["by_reason"]
    if by.get("duplicate"):
        checks.append(f"{by['duplicate']:,} exact duplicate rows were quarantined. "
                      + ("Map an order id (`columns.order_id`) to make duplicate detection exact."
                         if not report["columns"].get("order_id") else "They share an order id — a double load?")
                      + " If identical lines are real repeat orders in your system, set `duplicates: keep`.")
    if by.get("invalid_date"):
        checks.append(f"{by['invalid_date']:,} dates did not parse: set `date_format` (and `dayfirst`) "
                      "to the export's format.")
    if by.get("invalid_amount"):
        checks.append(f"{by['invalid_amount']:,} amounts did not parse: is the decimal mark `,`? "
                      "(`decimal: \",\"`)")
    if by.get("negative_amount"):
        checks.append(f"{by['negative_amount']:,} negative amounts (refunds/returns): net them against "
                      "their purchases upstream if returns matter for value.")
    if by.get("after_observation_end"):
        checks.append(f"{by['after_observation_end']:,} purchases are after observation_end: move "
                      "`periods.observation_end` if they belong in the analysis.")
    if report["pii_detected"]:
        checks.append("Columns that looked personal were dropped automatically: add them to "
                      "`pii_columns` so the intent is explicit.")
    if not checks:
        checks.append("No rule rejected more than it should: the clean transactions are ready for segmentation.")
    return "\n".join(f"* {c}" for c in checks)
