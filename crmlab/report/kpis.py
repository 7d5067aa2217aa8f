"""Headline KPIs: what they are, how they are computed, and how a run records them.

:data:`KPIS` names each headline number, its kind and the stage it needs;
:func:`headline_kpis` computes all of them from whichever stage products exist (a missing
product gives None); :func:`kpi_doc` is this run's ``kpis.json``, :func:`history_row` its
row of ``history.csv`` (the runner appends it with :func:`append_history` once the whole
run has succeeded).

Definitions (``report:`` params in brackets):

- *active customers*: bought within the last ``active_days`` days up to ``observation_end``,
  i.e. on a day ``d`` with ``observation_end - active_days < d <= observation_end``;
- *repeat-purchase rate*: share of customers with at least two distinct purchase days
  (``frequency >= 1``);
- *revenue share of the top x%* (``top_share``): read off the Lorenz curve of total spend
  (:func:`crmlab.segmentation.concentration`, the "80/20" check);
- *watch list*: customers whose ``value_tier`` is in ``watch_tiers`` and whose
  ``lifecycle_stage`` is in ``watch_stages``
  (:func:`crmlab.report.tables.tier_watch_table`).

**One report, several data sets.** The three inputs (``transactions``, ``survey``,
``churn``) need not describe the same customers. Every KPI names its input
(:data:`KPI_INPUTS`, :func:`data_sources`: the section's ``source`` param, else its file
name), and nothing in the report adds, compares or chains numbers of two inputs as if they
were one company's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from crmlab.engine import compute, is_dask
from crmlab.errors import InputError, require_columns
from crmlab.features import customer_summary
from crmlab.i18n import EN, Catalog
from crmlab.report._values import _mapping, _money, _num, _param, _pct
from crmlab.report.tables import tier_watch_table
from crmlab.segmentation import concentration

__all__ = [
    "Kpi",
    "KPIS",
    "KPI_NAMES",
    "KPI_LABELS",
    "KPI_INPUTS",
    "INPUT_KINDS",
    "TREND_KPIS",
    "HISTORY_COLUMNS",
    "data_sources",
    "customer_kpis",
    "headline_kpis",
    "format_kpi",
    "kpi_delta",
    "kpi_label",
    "kpi_units",
    "kpi_doc",
    "history_row",
    "append_history",
]


@dataclass(frozen=True)
class Kpi:
    """One headline number: machine name, label, kind of value and the stage it needs.

    ``label`` is the English label; the reader's label in any language is
    :func:`kpi_label` (catalog key ``report.kpi.<name>``).

    ``kind`` is ``count``, ``money``, ``share`` (0-1) or ``index`` (0-100);
    ``better`` is ``"up"``, ``"down"`` or ``None`` (neither direction is good news).
    """

    name: str
    label: str
    kind: str
    stage: str
    better: str | None = "up"


KPIS: tuple[Kpi, ...] = (
    Kpi("customers", "Customers", "count", "cleaning"),
    Kpi("active_customers", "Active customers", "count", "cleaning"),
    Kpi("revenue", "Revenue (all data)", "money", "cleaning"),
    Kpi("revenue_recent", "Recent revenue", "money", "cleaning"),
    Kpi("repeat_rate", "Repeat-purchase rate", "share", "cleaning"),
    Kpi("top_share_revenue", "Revenue share of the top customers", "share", "cleaning", None),
    Kpi("satisfaction_index", "Satisfaction index", "index", "satisfaction"),
    Kpi("high_risk_customers", "Current customers at high churn risk", "count", "churn", "down"),
    Kpi("warning_flags", "Lapsed buyers to win back", "count", "churn", "down"),
    Kpi("predicted_value", "Predicted customer value", "money", "value"),
    Kpi("watch_list", "Watch list", "count", "segmentation", "down"),
)
KPI_NAMES: tuple[str, ...] = tuple(k.name for k in KPIS)
KPI_LABELS: dict[str, str] = {k.name: k.label for k in KPIS}
# The KPIs drawn as trends (totals such as all-time revenue only ever grow: not shown).
TREND_KPIS: tuple[str, ...] = (
    "active_customers", "revenue_recent", "repeat_rate", "top_share_revenue",
    "satisfaction_index", "high_risk_customers", "predicted_value", "watch_list",
)
_KPI = {k.name: k for k in KPIS}
# Which input file each KPI is computed from. The purchase-based early warning belongs to
# the churn *stage* but is computed from the transactions, not from the churn table.
_STAGE_INPUT = {"cleaning": "transactions", "segmentation": "transactions",
                "value": "transactions", "satisfaction": "survey", "churn": "churn"}
KPI_INPUTS: dict[str, str] = {k.name: _STAGE_INPUT.get(k.stage, k.stage) for k in KPIS} | {
    "warning_flags": "transactions",
}
# What each input is, in the reader's words.
INPUT_KINDS: dict[str, str] = {"transactions": "purchases", "survey": "survey",
                               "churn": "churn table"}
_BASE_KPIS = ("customers", "active_customers", "revenue", "revenue_recent", "repeat_rate",
              "top_share_revenue")
HISTORY_COLUMNS: tuple[str, ...] = ("run_id", "finished", "observation_end", "stages")


def kpi_label(name: str, tr: Catalog = EN) -> str:
    """Return the label of a KPI in the language of ``tr`` (``report.kpi.<name>``)."""
    return tr(f"report.kpi.{name}")


def input_kind(section: str, tr: Catalog = EN) -> str:
    """Say what an input section is, in the reader's words (``purchases``), in the language of ``tr``."""
    key = f"report.input.{section}"
    return tr(key) if tr.has(key) else INPUT_KINDS.get(section, section)


def section_name(section: str, tr: Catalog = EN) -> str:
    """Display name of an input section of the params (``transactions``; codes pass through)."""
    key = f"report.section.{section}"
    return tr(key) if tr.has(key) else str(section)


# --- which data set each number comes from -------------------------------------------------



def data_sources(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Name the data set behind each input section of the params.

    Parameters
    ----------
    params : mapping or None
        The whole params (``transactions``, ``survey``, ``churn`` sections, each with
        ``path`` and an optional ``source``).

    Returns
    -------
    dict
        Input section -> name: the section's ``source`` when set, else the file name of
        its ``path`` (``CDNOW_master.txt``); sections absent from the params are left out.

    Raises
    ------
    InputError
        When a present section is not a mapping or has neither ``source`` nor ``path``.
    """
    params = _mapping(params, "params")
    out: dict[str, str] = {}
    for section in INPUT_KINDS:
        block = params.get(section)
        if block is None:
            continue
        block = _mapping(block, f"params.{section}")
        label = block.get("source")
        if not label:
            path = block.get("path")
            if not path:
                raise InputError(f"params.{section}: neither 'source' nor 'path' is set")
            label = PurePath(str(path)).name
        out[section] = str(label)
    return out


# --- computing the KPIs ---------------------------------------------------------------------



def customer_kpis(
    transactions: pd.DataFrame, observation_end: Any, params: Mapping[str, Any]
) -> dict[str, float | int | None]:
    """Compute base KPIs from clean transactions: customers, activity, revenue, repeat rate.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``customer_id``, ``date`` (datetime64), ``amount``; rows after
        ``observation_end`` are ignored.
    observation_end : date-like, optional
        "Today" of the run; None means the last purchase date in the data.
    params : mapping
        The validated ``report`` params section (``active_days``, ``top_share``).

    Returns
    -------
    dict
        ``customers``, ``active_customers``, ``revenue``, ``revenue_recent`` (spend in the
        active window), ``repeat_rate``, ``top_share_revenue`` (None when revenue is 0).

    Raises
    ------
    InputError
        When a required column or a params key is missing.
    """
    require_columns(transactions, ["customer_id", "date", "amount"], "transactions")
    active_days = int(_param(params, "active_days"))
    top_share = float(_param(params, "top_share"))
    if observation_end is None:
        last = compute(transactions["date"].max(), what="last purchase date")[0]
        if pd.isna(last):  # no rows
            return dict.fromkeys(_BASE_KPIS) | {"customers": 0}
        observation_end = pd.Timestamp(last).normalize()
    obs = pd.Timestamp(observation_end).normalize()
    summary = customer_summary(transactions, obs)
    n = len(summary)
    if n == 0:
        return dict.fromkeys(_BASE_KPIS) | {"customers": 0}
    spend = summary["total_spend"].to_numpy(dtype=float)
    revenue = float(spend.sum())
    if is_dask(transactions):  # summed on the workers
        day = transactions["date"].dt.normalize()
        window = (day > obs - pd.Timedelta(days=active_days)) & (day <= obs)
        recent = compute(transactions["amount"][window].sum(), what="recent revenue")[0]
    else:
        day = pd.to_datetime(transactions["date"]).dt.normalize()
        window = (day > obs - pd.Timedelta(days=active_days)) & (day <= obs)
        recent = transactions.loc[window, "amount"].sum()
    return {
        "customers": int(n),
        "active_customers": int((summary["days_since_last"] < active_days).sum()),
        "revenue": revenue,
        "revenue_recent": float(recent),
        "repeat_rate": float((summary["frequency"] >= 1).mean()),
        "top_share_revenue": (
            concentration(np.clip(spend, 0, None), top_share).top_share if revenue > 0 else None
        ),
    }


def headline_kpis(
    transactions: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    value_predictions: pd.DataFrame | None = None,
    satisfaction: Mapping[str, Any] | None = None,
    churn_scores: pd.DataFrame | None = None,
    churn_warning: pd.DataFrame | None = None,
    observation_end: Any = None,
    params: Mapping[str, Any] | None = None,
    outcome: str | None = None,
) -> dict[str, float | int | None]:
    """Every headline KPI of :data:`KPIS` from whichever products exist (missing -> None).

    Parameters
    ----------
    transactions : DataFrame, optional
        Cleaning product (see :func:`customer_kpis`).
    customers : DataFrame, optional
        Segmentation product with ``value_tier`` and ``lifecycle_stage`` (watch list).
    value_predictions : DataFrame, optional
        Value product; ``predicted_value`` is the sum of ``clv`` (or of
        ``predicted_holdout_value`` when there is no ``clv`` column).
    satisfaction : mapping, optional
        ``satisfaction.json``: ``satisfaction_index``, else ``constructs[outcome].index_0_100``.
    churn_scores : DataFrame, optional
        Churn product with ``risk_band``; current customers (``actual`` 0 when the column
        exists; never the band ``churned``) in ``params.high_risk_band`` are counted.
    churn_warning : DataFrame, optional
        Transactional warning with a boolean ``warning`` (or ``flag``) column; the
        flagged rows (already capped at the contact capacity) are counted.
    observation_end : date-like, optional
        Passed to :func:`customer_kpis`.
    params : mapping, optional
        The validated ``report`` params section; needed as soon as a product that uses it
        is given (transactions, customers, churn scores).
    outcome : str, optional
        The survey's outcome construct (fallback for the satisfaction index).

    Returns
    -------
    dict
        KPI name -> value (plain int/float) or None when its stage's product is missing.

    Raises
    ------
    InputError
        When a given product lacks a column the KPI needs, or its params key is missing.
    """
    out: dict[str, float | int | None] = {k: None for k in KPI_NAMES}
    if transactions is not None:
        out.update(customer_kpis(transactions, observation_end, params))
    if customers is not None:
        out["watch_list"] = len(tier_watch_table(customers, params))
    if value_predictions is not None:
        col = "clv" if "clv" in value_predictions.columns else "predicted_holdout_value"
        require_columns(value_predictions, ["customer_id", col], "value_predictions")
        out["predicted_value"] = _num(value_predictions[col].sum())
    if satisfaction is not None:
        idx = satisfaction.get("satisfaction_index")
        if idx is None and outcome:
            idx = ((satisfaction.get("constructs") or {}).get(outcome) or {}).get("index_0_100")
        out["satisfaction_index"] = _num(idx)
    if churn_scores is not None:
        require_columns(churn_scores, ["risk_band"], "churn_scores")
        band = str(_param(params, "high_risk_band"))
        hit = churn_scores["risk_band"].astype(str) == band
        if "actual" in churn_scores.columns:  # customers who already left are never at risk
            hit &= churn_scores["actual"] == 0
        out["high_risk_customers"] = int(hit.sum())
    if churn_warning is not None:
        col = "warning" if "warning" in churn_warning.columns else "flag"
        require_columns(churn_warning, [col], "churn_warning")
        out["warning_flags"] = int(churn_warning[col].fillna(False).astype(bool).sum())
    return {k: _num(v) for k, v in out.items()}


def format_kpi(name: str, value: Any, currency: str = "", tr: Catalog = EN) -> str:
    """Format one KPI value for people: ``23,570``, ``$2,500,316``, ``37.6%``, ``74.1 / 100``.

    Raises
    ------
    InputError
        For a name that is not in :data:`KPIS`.
    """
    if name not in _KPI:
        raise InputError(f"unknown KPI {name!r} (known: {', '.join(KPI_NAMES)})")
    value = _num(value)
    if value is None:
        return tr("report.na")
    kind = _KPI[name].kind
    if kind == "money":
        return _money(value, currency)
    if kind == "share":
        return _pct(value, 1)
    if kind == "index":
        return tr("report.format.index", value=value)
    return f"{value:,.0f}"


def kpi_delta(name: str, cur: Any, prev: Any, tr: Catalog = EN) -> tuple[str, str]:
    """Change of a KPI since the previous run as text, and whether it is good news.

    Returns
    -------
    tuple of str
        ``("▲ +3.2%", "good")``: relative change for counts and money (absolute when the
        previous value is 0), percentage points for shares and the index; the verdict is
        ``good``, ``bad`` or ``neutral`` (by :attr:`Kpi.better`). ``("", "neutral")``
        when either value is missing.
    """
    cur, prev = _num(cur), _num(prev)
    if cur is None or prev is None:
        return "", "neutral"
    kpi = _KPI[name]
    diff = cur - prev
    if kpi.kind == "share":
        text = tr("report.format.delta_pp", value=100 * diff)
    elif kpi.kind == "index":
        text = tr("report.format.delta_points", value=diff)
    elif prev:
        text = f"{100 * diff / abs(prev):+.1f}%"
    else:
        text = f"{diff:+,.0f}"
    arrow = "▲" if diff > 0 else "▼" if diff < 0 else "="
    good = (diff > 0 and kpi.better == "up") or (diff < 0 and kpi.better == "down")
    bad = (diff < 0 and kpi.better == "up") or (diff > 0 and kpi.better == "down")
    return f"{arrow} {text}", "good" if good else "bad" if bad else "neutral"


def kpi_units(currency: str = "", tr: Catalog = EN) -> dict[str, str]:
    """Return the unit of each KPI, for axis labels (shares are drawn in percent)."""
    unit = {"count": tr("report.unit.count"),
            "money": tr("report.unit.money", currency=currency.strip() or tr("report.unit.currency_units")),
            "share": tr("report.unit.share"), "index": tr("report.unit.index")}
    out = {k.name: unit[k.kind] for k in KPIS}
    out["top_share_revenue"] = tr("report.unit.revenue_share")
    return out


# --- what a run records ---------------------------------------------------------------------



def kpi_doc(
    run_id: str, run_name: str, observation_end: Any, kpis: Mapping[str, Any]
) -> dict[str, Any]:
    """Build this run's ``kpis.json``: what the next run compares its KPIs with.

    Parameters
    ----------
    run_id, run_name : str
        The run folder's name and the params' ``run_name``.
    observation_end : date-like or None
        "Today" of the run's data (stored as ``YYYY-MM-DD``).
    kpis : mapping
        From :func:`headline_kpis`.

    Returns
    -------
    dict
        ``run_id``, ``run_name``, ``observation_end`` and ``kpis`` (JSON-serialisable).

    Raises
    ------
    InputError
        When ``kpis`` is not a mapping.
    """
    kpis = _mapping(kpis, "kpis")
    obs = None if observation_end is None else f"{pd.Timestamp(observation_end):%Y-%m-%d}"
    return {"run_id": run_id, "run_name": run_name, "observation_end": obs, "kpis": dict(kpis)}


def history_row(
    run_id: str,
    finished: str | None = None,
    observation_end: str | None = None,
    stages: Iterable[str] = (),
    kpis: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """One row of ``history.csv``: the run and its KPIs (columns :data:`HISTORY_COLUMNS` + KPIs).

    Raises
    ------
    InputError
        When ``run_id`` is empty.
    """
    if not run_id:
        raise InputError("history_row: run_id must not be empty")
    row: dict[str, Any] = {
        "run_id": str(run_id),
        "finished": finished,
        "observation_end": observation_end,
        "stages": ";".join(stages),
    }
    for name in KPI_NAMES:
        row[name] = _num((kpis or {}).get(name))
    out = pd.DataFrame([row])
    return out.astype({n: "float64" for n in KPI_NAMES})


def append_history(history: pd.DataFrame | None, row: pd.DataFrame) -> pd.DataFrame:
    """``history`` with ``row`` appended; a run id already present is replaced (idempotent).

    Columns of both are kept (history written by an older version keeps working); the
    known columns come first.

    Raises
    ------
    InputError
        When ``row`` lacks ``run_id``.
    """
    require_columns(row, ["run_id"], "history row")
    if history is None or history.empty:
        out = row.copy()
    else:
        require_columns(history, ["run_id"], "history")
        old = history.loc[~history["run_id"].astype(str).isin(row["run_id"].astype(str))]
        out = pd.concat([old, row], ignore_index=True)
    known = [c for c in (*HISTORY_COLUMNS, *KPI_NAMES) if c in out.columns]
    return out[known + [c for c in out.columns if c not in known]].reset_index(drop=True)
