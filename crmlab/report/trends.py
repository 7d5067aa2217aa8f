"""Run over run: this run against the previous successful one, and the trend over all runs.

What a scheduled report is for. :func:`compare_kpis` and :func:`kpi_change_table` give the
KPI changes, :func:`migration_summary` the value-tier moves (from
:func:`crmlab.segmentation.transition_matrix`), :func:`new_watch_entries` whom to call
first, :func:`input_drift` whether the data itself changed, and :func:`trend_table` the
runs to draw as trends. :func:`customer_snapshot` and :func:`input_profile` are what this
run leaves for the next one to compare with.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab.engine import compute, is_dask
from crmlab.errors import InputError, require_columns
from crmlab.i18n import EN, Catalog
from crmlab.report._values import _num, _ordered
from crmlab.report.kpis import (
    KPI_NAMES,
    KPIS,
    TREND_KPIS,
    append_history,
    format_kpi,
    kpi_delta,
    kpi_label,
)
from crmlab.segmentation import NEW_CUSTOMER, NOT_LISTED, TIER_ORDER

__all__ = [
    "customer_snapshot",
    "input_profile",
    "compare_kpis",
    "kpi_change_table",
    "migration_summary",
    "new_watch_entries",
    "input_drift",
    "trend_table",
    "trend_labels",
    "drift_check_name",
    "trend_kpis",
]


# --- state for the next run -----------------------------------------------------------------


def customer_snapshot(customers: pd.DataFrame, watch: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-customer state the next run compares with: tier, stage, segment, watch flag.

    Parameters
    ----------
    customers : DataFrame
        Columns ``customer_id``, ``value_tier``, ``lifecycle_stage``; ``rfm_segment`` and
        ``total_spend`` optional.
    watch : DataFrame, optional
        :func:`crmlab.report.tables.tier_watch_table` output; ``on_watch_list`` marks its
        ``customer_id`` values.

    Returns
    -------
    DataFrame
        ``customer_id`` (str), ``value_tier``, ``lifecycle_stage``, ``rfm_segment``
        (empty when absent), ``total_spend`` (NaN when absent), ``on_watch_list`` (bool),
        sorted by ``customer_id`` — what :func:`crmlab.segmentation.transition_matrix` and
        :func:`crmlab.segmentation.moved_down` compare in the next run.

    Raises
    ------
    InputError
        When a required column is missing.
    """
    require_columns(customers, ["customer_id", "value_tier", "lifecycle_stage"], "customers")
    out = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].astype(str).to_numpy(),
            "value_tier": customers["value_tier"].astype(str).to_numpy(),
            "lifecycle_stage": customers["lifecycle_stage"].astype(str).to_numpy(),
            "rfm_segment": (
                customers["rfm_segment"].astype(str).to_numpy()
                if "rfm_segment" in customers.columns else ""
            ),
            "total_spend": (
                customers["total_spend"].astype(float).to_numpy()
                if "total_spend" in customers.columns else np.nan
            ),
        }
    )
    ids = set() if watch is None else set(watch["customer_id"].astype(str))
    out["on_watch_list"] = out["customer_id"].isin(ids)
    return out.sort_values("customer_id", kind="stable").reset_index(drop=True)


def input_profile(
    inputs: Mapping[str, Mapping[str, Any]] | None = None,
    cleaning_report: Mapping[str, Any] | None = None,
    transactions: pd.DataFrame | None = None,
    churn_scores: pd.DataFrame | None = None,
    satisfaction: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Describe what the inputs looked like in this run, for drift checks in the next one.

    Parameters
    ----------
    inputs : mapping, optional
        Input section -> ``{"columns": [...], "sha256": "..."}`` (from the run manifest and
        the files' headers).
    cleaning_report : mapping, optional
        ``cleaning_report.json`` (``rows_in``, ``rows_clean``, ``rows_quarantined``).
    transactions : DataFrame, optional
        Clean transactions: adds ``date_min``, ``date_max`` and ``customers``.
    churn_scores : DataFrame, optional
        The churn product: its row count is the churn input's (every row is scored).
    satisfaction : mapping, optional
        ``satisfaction.json``: ``n_respondents`` is the survey input's row count.

    Returns
    -------
    dict
        ``{section: {rows, rows_clean, rows_quarantined, date_min, date_max, customers,
        columns, sha256}}`` with only the facts that are known; JSON-serialisable.

    Raises
    ------
    InputError
        When ``transactions`` lacks ``customer_id`` or ``date``.
    """
    out: dict[str, dict[str, Any]] = {}
    for section, facts in (inputs or {}).items():
        entry = out.setdefault(str(section), {})
        if facts.get("columns") is not None:
            entry["columns"] = [str(c) for c in facts["columns"]]
        if facts.get("sha256"):
            entry["sha256"] = str(facts["sha256"])
    if cleaning_report is not None:
        entry = out.setdefault("transactions", {})
        for src, dst in (("rows_in", "rows"), ("rows_clean", "rows_clean"),
                         ("rows_quarantined", "rows_quarantined")):
            if _num(cleaning_report.get(src)) is not None:
                entry[dst] = int(cleaning_report[src])
    if transactions is not None:
        require_columns(transactions, ["customer_id", "date"], "transactions")
        entry = out.setdefault("transactions", {})
        if is_dask(transactions):  # four aggregates in one pass on the workers
            rows, first, last, customers = compute(
                transactions.shape[0], transactions["date"].min(), transactions["date"].max(),
                transactions["customer_id"].nunique(), what="input profile",
            )
            if rows:
                entry["date_min"] = pd.Timestamp(first).date().isoformat()
                entry["date_max"] = pd.Timestamp(last).date().isoformat()
            entry["customers"] = int(customers)
            entry.setdefault("rows_clean", int(rows))
        else:
            if len(transactions):
                dates = pd.to_datetime(transactions["date"])
                entry["date_min"] = dates.min().date().isoformat()
                entry["date_max"] = dates.max().date().isoformat()
            entry["customers"] = int(transactions["customer_id"].nunique())
            entry.setdefault("rows_clean", int(len(transactions)))
    if churn_scores is not None:
        out.setdefault("churn", {})["rows"] = int(len(churn_scores))
    if satisfaction is not None and _num(satisfaction.get("n_respondents")) is not None:
        out.setdefault("survey", {})["rows"] = int(satisfaction["n_respondents"])
    return out


# --- this run against the previous one -------------------------------------------------------


def compare_kpis(previous: Mapping[str, Any], current: Mapping[str, Any]) -> pd.DataFrame:
    """KPI deltas between the previous run and this one.

    Parameters
    ----------
    previous, current : mapping
        KPI name -> value (None when unavailable), as :func:`headline_kpis` returns.

    Returns
    -------
    DataFrame
        One row per KPI of :data:`KPIS` present in either run: ``kpi``, ``label``,
        ``previous``, ``current``, ``change`` (current - previous), ``change_pct``
        (relative change; NaN when previous is 0 or either side is missing).

    Raises
    ------
    InputError
        When either argument is not a mapping.
    """
    if not isinstance(previous, Mapping) or not isinstance(current, Mapping):
        raise InputError("compare_kpis: previous and current must be mappings of KPI values")
    rows = []
    for k in KPIS:
        if k.name not in previous and k.name not in current:
            continue
        p, c = _num(previous.get(k.name)), _num(current.get(k.name))
        change = c - p if p is not None and c is not None else np.nan
        pct = change / abs(p) if p not in (None, 0) and c is not None else np.nan
        rows.append((k.name, k.label, np.nan if p is None else float(p),
                     np.nan if c is None else float(c), float(change), float(pct)))
    return pd.DataFrame(rows, columns=["kpi", "label", "previous", "current", "change", "change_pct"])


def kpi_change_table(changes: pd.DataFrame, currency: str = "", tr: Catalog = EN) -> pd.DataFrame:
    """Format :func:`compare_kpis` output for people: values as on the cards, signed changes.

    Parameters
    ----------
    changes : DataFrame
        :func:`compare_kpis` output.
    currency : str
        Prefix for money values.

    Returns
    -------
    DataFrame
        Text columns ``KPI``, ``previous run``, ``this run``, ``change`` (relative for
        counts and money, percentage points for shares and the index; blank when either
        run lacks the KPI).

    Raises
    ------
    InputError
        When a required column is missing.
    """
    require_columns(changes, ["kpi", "label", "previous", "current"], "KPI changes")
    rows = []
    for r in changes.itertuples(index=False):
        delta, _ = kpi_delta(r.kpi, r.current, r.previous, tr)
        label = kpi_label(r.kpi, tr) if tr.has(f"report.kpi.{r.kpi}") else r.label
        rows.append((label, format_kpi(r.kpi, r.previous, currency, tr),
                     format_kpi(r.kpi, r.current, currency, tr), delta))
    columns = [tr(f"report.change_table.{c}") for c in ("kpi", "previous", "current", "change")]
    return pd.DataFrame(rows, columns=columns)


def migration_summary(matrix: pd.DataFrame, order: Sequence[str] = TIER_ORDER) -> dict[str, int]:
    """Count customers who moved ``up`` or ``down`` a tier, stayed, are ``new`` or ``gone``.

    Parameters
    ----------
    matrix : DataFrame
        Counts from :func:`crmlab.segmentation.transition_matrix` on ``value_tier``: rows
        the previous tier (and ``new (not yet customer)``), columns the current tier (and
        ``not listed``).
    order : sequence of str
        Tiers from best to worst.

    Returns
    -------
    dict
        ``up``, ``down``, ``same``, ``new``, ``gone`` (ints).

    Raises
    ------
    InputError
        When a row or column is neither a tier of ``order`` nor new / not listed.
    """
    rank = {t: i for i, t in enumerate(order)}
    out = dict.fromkeys(("up", "down", "same", "new", "gone"), 0)
    for before in matrix.index:
        for after in matrix.columns:
            n = int(matrix.loc[before, after])
            if before == NEW_CUSTOMER:
                out["new"] += n if after != NOT_LISTED else 0
            elif after == NOT_LISTED:
                out["gone"] += n
            elif before in rank and after in rank:
                move = "same" if rank[after] == rank[before] else (
                    "up" if rank[after] < rank[before] else "down")
                out[move] += n
            else:
                bad = before if before not in rank else after
                raise InputError(f"tier migrations: {bad!r} is not one of {list(order)}")
    return out


def new_watch_entries(previous: pd.DataFrame, watch: pd.DataFrame) -> pd.DataFrame:
    """Rows of this run's watch list whose customer was not on the previous run's list.

    Parameters
    ----------
    previous : DataFrame
        The previous snapshot with ``customer_id`` and ``on_watch_list``.
    watch : DataFrame
        This run's :func:`crmlab.report.tables.tier_watch_table`.

    Returns
    -------
    DataFrame
        The new entries (same columns and order as ``watch``).

    Raises
    ------
    InputError
        When a required column is missing.
    """
    require_columns(previous, ["customer_id", "on_watch_list"], "previous snapshot")
    require_columns(watch, ["customer_id"], "watch list")
    before = set(previous.loc[previous["on_watch_list"].astype(bool), "customer_id"].astype(str))
    return watch.loc[~watch["customer_id"].astype(str).isin(before)].reset_index(drop=True)


def input_drift(
    previous: Mapping[str, Mapping[str, Any]],
    current: Mapping[str, Mapping[str, Any]],
    tolerance: float,
    tr: Catalog = EN,
) -> pd.DataFrame:
    """Compare two :func:`input_profile` results and flag what an operator should check.

    Checks per input section present in either run: row counts (``rows``, ``rows_clean``,
    ``rows_quarantined``, ``customers``) flagged when the relative change exceeds
    ``tolerance`` (or a count appears from zero); the date range (flagged when the first
    date changes or the last date moves backwards — history should not be rewritten);
    columns added or removed (flagged); the file content hash (a note only: an identical
    file on a scheduled run may mean the export job did not refresh it).

    Parameters
    ----------
    previous, current : mapping
        Input profiles.
    tolerance : float
        Allowed relative change of a row count (0.25 = 25%; ``report.drift_tolerance``).

    Returns
    -------
    DataFrame
        ``input``, ``check``, ``previous``, ``current``, ``change``, ``flag`` (bool), ``note``
        — all as text except ``flag``; ``note`` (and the words in ``previous``,
        ``current``, ``change``) in the language of ``tr``, ``input`` and ``check`` are codes
        (:func:`drift_check_name` words a check).

    Raises
    ------
    InputError
        When ``tolerance`` is negative or a profile is not a mapping.
    """
    if tolerance < 0:
        raise InputError(f"input_drift: tolerance must be >= 0, got {tolerance}")
    if not isinstance(previous, Mapping) or not isinstance(current, Mapping):
        raise InputError("input_drift: profiles must be mappings")
    rows = []
    for section in _ordered([*previous, *current], ("transactions", "survey", "churn")):
        p, c = previous.get(section) or {}, current.get(section) or {}
        if not p or not c:
            state = "added" if c else "removed"
            rows.append((section, "input", tr("report.drift.present" if p else "report.drift.absent"),
                         tr("report.drift.present" if c else "report.drift.absent"),
                         tr(f"report.drift.input_{state}"), True, tr(f"report.drift.input_{state}_note")))
            continue
        for key in ("rows", "rows_clean", "rows_quarantined", "customers"):
            a, b = _num(p.get(key)), _num(c.get(key))
            if a is None or b is None:
                continue
            rel = (b - a) / a if a else (0.0 if b == a else math.inf)
            flag = abs(rel) > tolerance
            change = f"{b - a:+,.0f} ({rel:+.1%})" if math.isfinite(rel) else f"{b - a:+,.0f}"
            note = (tr("report.drift.beyond", tolerance=tolerance) if flag
                    else tr("report.drift.within"))
            rows.append((section, key, f"{a:,.0f}", f"{b:,.0f}", change, flag, note))
        if p.get("date_min") and c.get("date_min"):
            moved_start = p["date_min"] != c["date_min"]
            backwards = (p.get("date_max") or "") > (c.get("date_max") or "")
            which = ("first_date" if moved_start else "backwards" if backwards
                     else "extends" if p.get("date_max") != c.get("date_max") else "same_dates")
            rows.append((section, "date range", f"{p['date_min']} .. {p.get('date_max')}",
                         f"{c['date_min']} .. {c.get('date_max')}",
                         "" if which == "same_dates" else tr("report.drift.changed"),
                         bool(moved_start or backwards), tr(f"report.drift.{which}")))
        if p.get("columns") is not None and c.get("columns") is not None:
            added = [x for x in c["columns"] if x not in p["columns"]]
            removed = [x for x in p["columns"] if x not in c["columns"]]
            comma = tr("report.sep.comma")
            change = tr("report.sep.semicolon").join(
                [tr("report.drift.new_columns", columns=comma.join(added))] * bool(added)
                + [tr("report.drift.missing_columns", columns=comma.join(removed))] * bool(removed)
            )
            rows.append((section, "columns", str(len(p["columns"])), str(len(c["columns"])),
                         change, bool(added or removed),
                         tr("report.drift.columns_changed" if added or removed else "report.drift.same_columns")))
        if p.get("sha256") and c.get("sha256"):
            same = p["sha256"] == c["sha256"]
            rows.append((section, "file content", p["sha256"][:12], c["sha256"][:12],
                         "" if same else tr("report.drift.changed"), False,
                         tr("report.drift.same_file" if same else "report.drift.new_file")))
    return pd.DataFrame(rows, columns=["input", "check", "previous", "current", "change", "flag", "note"])


# --- trends over the runs ----------------------------------------------------------------------


def trend_table(history: pd.DataFrame | None, current: pd.DataFrame) -> pd.DataFrame:
    """Return the runs to draw as trends: ``history`` plus this run, runs with KPIs only.

    Runs that did not include the report stage (``--only cleaning`` ...) have no KPIs; they
    stay in ``history.csv`` but would be empty points on a trend chart, so they are left
    out here (the caller can count them: ``len(history) + 1 - len(result)``).

    Raises
    ------
    InputError
        When ``current`` lacks ``run_id``.
    """
    table = append_history(history, current)
    kpis = [k for k in KPI_NAMES if k in table.columns]
    return table.loc[table[kpis].notna().any(axis=1)].reset_index(drop=True)


def drift_check_name(check: Any, tr: Catalog = EN) -> str:
    """Display name of an :func:`input_drift` check (``rows``, ``date range`` ...); codes pass through."""
    key = f"report.drift.check.{check}"
    return tr(key) if tr.has(key) else str(check)


def trend_labels(history: pd.DataFrame, tr: Catalog = EN) -> list[str]:
    """Return one x-axis label per history row: run date and the data's end date.

    Raises
    ------
    InputError
        When ``history`` lacks ``run_id``.
    """
    require_columns(history, ["run_id"], "history")
    labels = []
    for row in history.itertuples(index=False):
        finished = getattr(row, "finished", None)
        obs = getattr(row, "observation_end", None)
        when = (str(finished)[:16].replace("T", " ") if pd.notna(finished) and finished
                else tr("report.trend.this_run"))
        labels.append(tr("report.trend.tick", when=when, date=str(obs)[:10]) if pd.notna(obs) and obs else when)
    return labels


def trend_kpis(history: pd.DataFrame, candidates: Sequence[str] = TREND_KPIS) -> list[str]:
    """Return the ``candidates`` with values in at least two runs (one point is no trend).

    Raises
    ------
    InputError
        When ``history`` is not a DataFrame.
    """
    if not isinstance(history, pd.DataFrame):
        raise InputError(f"trend KPIs: expected a DataFrame, got {type(history).__name__}")
    return [k for k in candidates if k in history.columns and history[k].notna().sum() >= 2]
