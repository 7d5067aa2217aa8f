"""The cleaning report (``cleaning_report.json``) and the tables read from it.

The report is the stage's accounting: rows in, clean and quarantined (always
``rows_in == rows_clean + rows_quarantined``), rows per reason, repairs per kind, the
personal-data columns dropped, the money kept and set aside, and the policies applied.
Both cleaning paths (pandas and Dask) build it with :func:`build_report`, so its keys and
their order are one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlab.cleaning.rules import setting
from crmlab.errors import InputError
from crmlab.i18n import EN, Catalog

__all__ = [
    "build_report",
    "money_set_aside",
    "with_source",
    "mapping_table",
    "accounting_table",
    "reason_table",
    "repair_table",
    "money_table",
]


def money_set_aside(amount: pd.Series, section: Mapping[str, Any]) -> float:
    """Money of rejected rows that is a real amount: finite, above zero, not above ``max_amount``."""
    a = amount.to_numpy(dtype=np.float64, na_value=np.nan)
    limit = float(setting(section, "max_amount"))
    return float(a[np.isfinite(a) & (a > 0) & (a <= limit)].sum())


def _iso(stamp: Any) -> str | None:
    return None if stamp is None else pd.Timestamp(stamp).isoformat()


def build_report(
    *,
    rows_in: int,
    rows_clean: int,
    rows_quarantined: int,
    by_reason: Mapping[str, int],
    repairs: Mapping[str, int],
    duplicates_seen: int,
    pii_dropped: list[str],
    pii_detected: list[str],
    columns: Mapping[str, Any],
    amount_clean: float,
    amount_quarantined: float,
    date_min: Any,
    date_max: Any,
    customers: int,
    observation_end: Any,
    section: Mapping[str, Any],
) -> dict[str, Any]:
    """Assemble the cleaning report from the counts and totals of a cleaning path.

    Parameters
    ----------
    rows_in, rows_clean, rows_quarantined : int
        The accounting; ``rows_in`` must equal the other two together.
    by_reason, repairs : mapping
        Rows per reason code, values changed per repair.
    duplicates_seen : int
        Exact copies found, whatever the ``duplicates`` policy.
    pii_dropped, pii_detected : list of str
        Declared personal-data columns, and the columns detected as personal (names made
        safe with :func:`crmlab.privacy.safe_name`: a header may itself be an address).
    columns : mapping
        Canonical name -> column of the export (None when not mapped).
    amount_clean, amount_quarantined : float
        Money of the clean rows, and of the rejected rows that is a real amount.
    date_min, date_max : timestamp or None
        First and last clean purchase.
    customers : int
        Distinct customers among the clean rows.
    observation_end : date-like or None
        As given to cleaning.
    section : mapping
        The ``transactions`` params section (its policies are recorded).

    Returns
    -------
    dict
        JSON-ready, keys in a fixed order.

    Raises
    ------
    RuntimeError
        Rows were lost (a bug: every row is clean or quarantined).
    """
    from crmlab.privacy import safe_name

    if rows_in != rows_clean + rows_quarantined:
        raise RuntimeError(
            f"cleaning lost rows: {rows_in} in, {rows_clean} clean, {rows_quarantined} quarantined"
        )
    return {
        "rows_in": int(rows_in),
        "rows_clean": int(rows_clean),
        "rows_quarantined": int(rows_quarantined),
        "by_reason": {k: int(v) for k, v in by_reason.items()},
        "repairs": {k: int(v) for k, v in repairs.items()},
        "duplicates_seen": int(duplicates_seen),
        "pii_dropped": list(pii_dropped),
        "pii_detected": [safe_name(c) for c in pii_detected],
        "columns": {k: v for k, v in columns.items() if v},
        "amount_clean": float(amount_clean),
        "amount_quarantined": float(amount_quarantined),
        "date_min": _iso(date_min),
        "date_max": _iso(date_max),
        "customers": int(customers),
        "observation_end": None if observation_end is None else str(observation_end),
        "policies": {
            "duplicates": setting(section, "duplicates"),
            "zero_amount": setting(section, "zero_amount"),
            "strip_leading_zeros": bool(setting(section, "strip_leading_zeros")),
            "date_format": setting(section, "date_format"),
            "decimal": setting(section, "decimal"),
        },
    }


def with_source(report: Mapping[str, Any], info: Any, engine: str) -> dict[str, Any]:
    """Return the report with where its rows came from: file, format, encoding, separator, engine.

    Parameters
    ----------
    report : mapping
        A cleaning report (:func:`build_report`).
    info : object
        What the reader found (:class:`crmlab.io.TableInfo`: ``path``, ``format``,
        ``encoding``, ``sep``).
    engine : str
        The engine the stage ran on, as it describes itself.
    """
    return {**report, "file": info.path, "format": info.format, "encoding": info.encoding,
            "separator": info.sep, "engine": engine}


def mapping_table(columns: Mapping[str, Any], tr: Catalog = EN) -> pd.DataFrame:
    """Canonical name and the export's column for each mapped column (``columns`` of the params).

    ``tr`` (the run's catalog) names the two columns.
    """
    mapped = {canon: col for canon, col in columns.items() if col}
    return pd.DataFrame({tr("cleaning.table.canonical_name"): list(mapped),
                         tr("cleaning.table.column_in_file"): list(mapped.values())})


def accounting_table(report: Mapping[str, Any], tr: Catalog = EN) -> pd.DataFrame:
    """Rows in the file, clean and quarantined, with their share of the input (as text).

    ``tr`` (the run's catalog) names the rows and columns.
    """
    rows, share = tr("cleaning.table.rows"), tr("cleaning.table.share")
    table = pd.DataFrame({
        rows: [report["rows_in"], report["rows_clean"], report["rows_quarantined"]],
    }, index=[tr("cleaning.table.rows_in_file"), tr("cleaning.table.clean"), tr("cleaning.table.quarantined")])
    table[share] = (table[rows] / max(report["rows_in"], 1)).map("{:.2%}".format)
    return table


def reason_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Rows per quarantine reason with their share of the input, largest first.

    Parameters
    ----------
    report : mapping
        A cleaning report (``rows_in``, ``by_reason``).

    Returns
    -------
    DataFrame
        Columns ``reason``, ``rows``, ``share_of_input`` (0-1); reasons with no rows are
        kept so the table shows every rule that was checked.
    """
    if "by_reason" not in report or "rows_in" not in report:
        raise InputError("cleaning report: required keys 'by_reason' and 'rows_in' missing")
    df = pd.DataFrame({"reason": list(report["by_reason"]), "rows": list(report["by_reason"].values())})
    df["rows"] = df["rows"].astype(np.int64)
    df["share_of_input"] = df["rows"] / max(int(report["rows_in"]), 1)
    return df.sort_values(["rows", "reason"], ascending=[False, True], kind="stable").reset_index(drop=True)


def repair_table(report: Mapping[str, Any], tr: Catalog = EN) -> pd.DataFrame:
    """Values repaired per kind of repair (counted over all input rows), largest first.

    ``tr`` (the run's catalog) names the columns and the kinds of repair (in English the
    columns are ``repair`` and ``values`` and a kind is its code).
    """
    from crmlab.cleaning.narrative import repair_name

    if "repairs" not in report:
        raise InputError("cleaning report: required key 'repairs' missing")
    df = pd.DataFrame({"repair": list(report["repairs"]), "values": list(report["repairs"].values())})
    df["values"] = df["values"].astype(np.int64)
    df = df.sort_values(["values", "repair"], ascending=[False, True], kind="stable").reset_index(drop=True)
    df["repair"] = [repair_name(r, tr) for r in df["repair"]]
    return df.rename(columns={"repair": tr("cleaning.table.repair"), "values": tr("cleaning.table.values")})


def money_table(report: Mapping[str, Any], currency: str = "", tr: Catalog = EN) -> pd.DataFrame:
    """Money of the clean rows and of the quarantined rows, formatted, with their shares.

    ``tr`` (the run's catalog) names the rows and columns.
    """
    from crmlab.formatting import format_money

    kept, dropped = report["amount_clean"], report["amount_quarantined"]
    amount, share = tr("cleaning.table.amount"), tr("cleaning.table.share")
    money = pd.DataFrame({amount: [kept, dropped]},
                         index=[tr("cleaning.table.clean_rows"), tr("cleaning.table.quarantined_rows")])
    money[share] = (money[amount] / max(kept + dropped, 1e-12)).map("{:.2%}".format)
    money[amount] = money[amount].map(lambda v: format_money(v, currency, 2))
    return money
