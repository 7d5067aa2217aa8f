"""The summary report and run-over-run monitoring: pure functions over stage products.

A scheduled CRM run is read by people who do not read code. They want a handful of
headline numbers, what to do per segment and value tier, and — the reason the job runs
every week — what changed since the last run. This module computes all of it from the
products of one run (DataFrames and the parsed JSON products) and from what the previous
run left in its run folder (:func:`customer_snapshot`, the KPI dict, :func:`input_profile`).

Nothing here reads files or the clock; the report notebook loads the products (with
:func:`crmlab.runner.load_report_inputs`) and the runner appends ``history.csv``. Segment
and tier tables, actions, the 80/20 share and tier transitions come from
:mod:`crmlab.segmentation`, so the report and the segmentation notebook never disagree.

Definitions (``report:`` params in brackets):

- *active customers*: bought within the last ``active_days`` days up to ``observation_end``,
  i.e. on a day ``d`` with ``observation_end - active_days < d <= observation_end``;
- *repeat-purchase rate*: share of customers with at least two distinct purchase days
  (``frequency >= 1``);
- *revenue share of the top x%* (``top_share``): read off the Lorenz curve of total spend
  (:func:`crmlab.segmentation.concentration`, the "80/20" check);
- *watch list*: customers whose ``value_tier`` is in ``watch_tiers`` and whose
  ``lifecycle_stage`` is in ``watch_stages`` — valuable customers who are slipping.

**One report, several data sets.** The three inputs (``transactions``, ``survey``,
``churn``) need not describe the same customers — the bundled data are a CD retailer's
purchases (CDNOW), a mobile operator's satisfaction survey (ECSI) and a US telco's
churn table. Every KPI and section therefore names its input (:data:`KPI_INPUTS`,
:func:`data_sources`: the section's ``source`` param, else its file name), and no
sentence here adds, compares or chains numbers of two inputs as if they were one
company's.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.features import customer_summary
from crmlab.formatting import format_money
from crmlab.segmentation import NEW_CUSTOMER, NOT_LISTED, TIER_ORDER, concentration

__all__ = [
    "Kpi",
    "KPIS",
    "KPI_NAMES",
    "KPI_LABELS",
    "KPI_INPUTS",
    "INPUT_KINDS",
    "data_sources",
    "source_note",
    "reading_sources",
    "TREND_KPIS",
    "HISTORY_COLUMNS",
    "stage_overview",
    "customer_kpis",
    "headline_kpis",
    "format_kpi",
    "kpi_cards_html",
    "kpi_readings",
    "top_drivers",
    "watch_list",
    "customer_snapshot",
    "input_profile",
    "compare_kpis",
    "kpi_change_table",
    "migration_summary",
    "new_watch_entries",
    "input_drift",
    "history_row",
    "append_history",
    "trend_table",
    "kpi_notes",
    "unavailable",
    "risk_band_table",
    "next_steps",
    "trend_labels",
    "trend_kpis",
    "kpi_units",
    "reading_stages",
    "reading_segments",
    "reading_tiers",
    "reading_drivers",
    "reading_index_model",
    "reading_watch",
    "reading_migrations",
    "reading_drift",
]


@dataclass(frozen=True)
class Kpi:
    """One headline number: machine name, label, kind of value and the stage it needs.

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


# --- helpers ---------------------------------------------------------------------------------



def _mapping(obj: Any, what: str) -> Mapping[str, Any]:
    """Return ``obj`` (None -> {}), or raise ``InputError`` when it is not a mapping."""
    if obj is None:
        return {}
    if not isinstance(obj, Mapping):
        raise InputError(f"{what}: expected a mapping, got {type(obj).__name__}")
    return obj


def _num(value: Any) -> float | int | None:
    """Return a plain Python number, or None for missing/NaN (JSON has no NaN)."""
    if value is None:
        return None
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def _ordered(values: Iterable[Any], order: Sequence[str]) -> list:
    """``order`` first (those present), then any other values sorted as text."""
    present = list(dict.fromkeys(v for v in values if pd.notna(v)))
    head = [o for o in order if o in present]
    return head + sorted((v for v in present if v not in order), key=str)


def _pct(x: float | None, digits: int = 0) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def _money(x: float | None, currency: str = "") -> str:
    return format_money(x, currency)


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
    from pathlib import PurePath

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


def source_note(sources: Mapping[str, str] | None, section: str) -> str:
    """Return ``"purchases: CDNOW_master.txt"`` for an input section ("" when unknown).

    Raises
    ------
    InputError
        When ``sources`` is not a mapping.
    """
    label = _mapping(sources, "data sources").get(section)
    if not label:
        return ""
    return f"{INPUT_KINDS.get(section, section)}: {label}"


def reading_sources(sources: Mapping[str, str] | None) -> str:
    """One paragraph: which data set feeds which part of the report, and that they differ.

    Raises
    ------
    InputError
        When ``sources`` is not a mapping.
    """
    sources = _mapping(sources, "data sources")
    if not sources:
        return "No input data set is configured."
    uses = {"transactions": "headline customer numbers, segments, value tiers, watch list, "
                            "predicted value and the purchase-based early warning",
            "survey": "the satisfaction index and its drivers",
            "churn": "the churn-risk bands"}
    parts = [f"**{source_note(sources, s)}** ({uses[s]})" for s in INPUT_KINDS if s in sources]
    text = "Data sets: " + "; ".join(parts) + "."
    if len(set(sources.values())) > 1:
        text += (
            " They are separate data sets and need not describe the same customers or even "
            "the same business: every number below names its data set, and numbers of "
            "different data sets are never added up or compared as if they were one company's."
        )
    return text


# --- which stages fed the report ------------------------------------------------------------


def stage_overview(
    stages: Sequence[Mapping[str, Any]],
    manifest_stages: Mapping[str, Mapping[str, Any]] | None,
    found: Mapping[str, str | None],
) -> pd.DataFrame:
    """Decide, per stage, whether its products may feed this report, and say why.

    Parameters
    ----------
    stages : sequence of mappings
        One per upstream stage in chain order with keys ``name``, ``skip_reason`` (why the
        params make the stage skip, or None) and ``produces`` (product file names).
    manifest_stages : mapping or None
        ``manifest.json``'s ``stages`` of the current run (``{name: {status, reason}}``);
        None when the notebook runs by hand (no run manifest).
    found : mapping
        Product file name -> where it was found: ``"this run"``, ``"earlier run"``
        (the products folder), or None (missing).

    Returns
    -------
    DataFrame
        Columns ``stage``, ``status`` (``ran``, ``skipped``, ``not in this run``,
        ``by hand``, or the manifest's status), ``products`` (found ones, missing ones
        marked), ``note`` (one line for the reader) and ``use`` (bool: its products may be
        read). A stage skipped in this run is never used, even when an older product file
        is still in the products folder — a report must not show stale numbers as current.

    Raises
    ------
    InputError
        When a stage entry lacks ``name``.
    """
    rows = []
    for st in stages:
        if "name" not in st:
            raise InputError("stage overview: every stage needs a 'name'")
        name = st["name"]
        produces = list(st.get("produces", ()))
        skip = st.get("skip_reason")
        have = [p for p in produces if found.get(p)]
        missing = [p for p in produces if not found.get(p)]
        listed = ", ".join(have + [f"{p} (missing)" for p in missing]) or "-"
        entry = (manifest_stages or {}).get(name)
        if entry is not None:
            status = str(entry.get("status", "unknown"))
            if status == "success":
                status = "ran"
        elif skip:
            status = "skipped"
        elif manifest_stages is not None:
            status = "not in this run"
        else:
            status = "by hand"
        if status == "skipped":
            reason = (entry or {}).get("reason") or skip or "skipped"
            stale = " (older product files are ignored)" if have else ""
            rows.append((name, status, "-", f"skipped: {reason}{stale}", False))
            continue
        if status not in ("ran", "not in this run", "by hand"):
            rows.append((name, status, listed, f"stage {status}; its products are not used", False))
            continue
        if not have:
            note = f"no products found; run it with: crmlab run --only {name}"
        elif status == "ran":
            note = "products of this run"
        elif any(found.get(p) == "this run" for p in have):
            note = "products of this run"
        else:
            note = "products of an earlier run (the stage did not run now)"
        if missing and have:
            note += f"; missing: {', '.join(missing)}"
        rows.append((name, status, listed, note, bool(have)))
    return pd.DataFrame(rows, columns=["stage", "status", "products", "note", "use"])


def reading_stages(overview: pd.DataFrame) -> str:
    """One sentence: which stages fed the report and which did not (and why)."""
    require_columns(overview, ["stage", "status", "note", "use"], "stage overview")
    used = overview.loc[overview["use"], "stage"].tolist()
    unused = overview.loc[~overview["use"]]
    parts = [f"Built from the products of {len(used)} stage(s): {', '.join(used) or 'none'}."]
    if len(unused):
        why = "; ".join(f"**{r.stage}** — {r.note}" for r in unused.itertuples())
        parts.append(f"Not in this report: {why}. Sections that need them say so below.")
    else:
        parts.append("Every stage contributed.")
    return " ".join(parts)


# --- headline KPIs --------------------------------------------------------------------------


def customer_kpis(
    transactions: pd.DataFrame, observation_end: Any = None, params: Mapping[str, Any] | None = None
) -> dict[str, float | int | None]:
    """Compute base KPIs from clean transactions: customers, activity, revenue, repeat rate.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``customer_id``, ``date`` (datetime64), ``amount``; rows after
        ``observation_end`` are ignored.
    observation_end : date-like, optional
        "Today" of the run; None means the last purchase date in the data.
    params : mapping, optional
        The ``report`` params block (``active_days``, ``top_share``); defaults 90 and 0.2.

    Returns
    -------
    dict
        ``customers``, ``active_customers``, ``revenue``, ``revenue_recent`` (spend in the
        active window), ``repeat_rate``, ``top_share_revenue`` (None when revenue is 0).

    Raises
    ------
    InputError
        When a required column is missing.
    """
    require_columns(transactions, ["customer_id", "date", "amount"], "transactions")
    params = params or {}
    active_days = int(params.get("active_days", 90))
    top_share = float(params.get("top_share", 0.2))
    if observation_end is None:
        if transactions.empty:
            return dict.fromkeys(_BASE_KPIS) | {"customers": 0}
        observation_end = pd.Timestamp(transactions["date"].max()).normalize()
    obs = pd.Timestamp(observation_end).normalize()
    summary = customer_summary(transactions, obs)
    n = len(summary)
    if n == 0:
        return dict.fromkeys(_BASE_KPIS) | {"customers": 0}
    spend = summary["total_spend"].to_numpy(dtype=float)
    revenue = float(spend.sum())
    day = pd.to_datetime(transactions["date"]).dt.normalize()
    window = (day > obs - pd.Timedelta(days=active_days)) & (day <= obs)
    return {
        "customers": int(n),
        "active_customers": int((summary["days_since_last"] < active_days).sum()),
        "revenue": revenue,
        "revenue_recent": float(transactions.loc[window, "amount"].sum()),
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
        The ``report`` params block.
    outcome : str, optional
        The survey's outcome construct (fallback for the satisfaction index).

    Returns
    -------
    dict
        KPI name -> value (plain int/float) or None when its stage's product is missing.

    Raises
    ------
    InputError
        When a given product lacks a column the KPI needs.
    """
    params = params or {}
    out: dict[str, float | int | None] = {k: None for k in KPI_NAMES}
    if transactions is not None:
        out.update(customer_kpis(transactions, observation_end, params))
    if customers is not None:
        out["watch_list"] = len(watch_list(customers, params))
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
        band = str(params.get("high_risk_band", "high"))
        hit = churn_scores["risk_band"].astype(str) == band
        if "actual" in churn_scores.columns:  # customers who already left are never at risk
            hit &= churn_scores["actual"] == 0
        out["high_risk_customers"] = int(hit.sum())
    if churn_warning is not None:
        col = "warning" if "warning" in churn_warning.columns else "flag"
        require_columns(churn_warning, [col], "churn_warning")
        out["warning_flags"] = int(churn_warning[col].fillna(False).astype(bool).sum())
    return {k: _num(v) for k, v in out.items()}


def format_kpi(name: str, value: Any, currency: str = "") -> str:
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
        return "n/a"
    kind = _KPI[name].kind
    if kind == "money":
        return _money(value, currency)
    if kind == "share":
        return _pct(value, 1)
    if kind == "index":
        return f"{value:.1f} / 100"
    return f"{value:,.0f}"


def _delta_text(name: str, cur: Any, prev: Any) -> tuple[str, str]:
    """Change vs the previous run as text, and its colour (good / bad / neutral)."""
    cur, prev = _num(cur), _num(prev)
    if cur is None or prev is None:
        return "", "#666666"
    kpi = _KPI[name]
    diff = cur - prev
    if kpi.kind == "share":
        text = f"{100 * diff:+.1f} pts"
    elif kpi.kind == "index":
        text = f"{diff:+.1f} pts"
    elif prev:
        text = f"{100 * diff / abs(prev):+.1f}%"
    else:
        text = f"{diff:+,.0f}"
    arrow = "▲" if diff > 0 else "▼" if diff < 0 else "="
    good = (diff > 0 and kpi.better == "up") or (diff < 0 and kpi.better == "down")
    bad = (diff < 0 and kpi.better == "up") or (diff > 0 and kpi.better == "down")
    colour = "#2e7d32" if good else "#c62828" if bad else "#666666"
    return f"{arrow} {text}", colour


def kpi_cards_html(
    kpis: Mapping[str, Any],
    previous: Mapping[str, Any] | None = None,
    currency: str = "",
    notes: Mapping[str, str] | None = None,
) -> str:
    """Render the headline KPIs as a grid of cards (self-contained HTML, inline CSS).

    Parameters
    ----------
    kpis : mapping
        KPI name -> value (from :func:`headline_kpis`); names not in :data:`KPIS` are ignored.
    previous : mapping, optional
        The previous run's KPIs; adds "▲ +3.2% vs last run" lines.
    currency : str
        Prefix for money values.
    notes : mapping, optional
        KPI name -> small caption under the label (e.g. "last 90 days").

    Returns
    -------
    str
        An HTML fragment (no scripts, no external resources).

    Raises
    ------
    InputError
        When ``kpis`` (or ``previous``, ``notes``) is not a mapping.
    """
    if not isinstance(kpis, Mapping):
        raise InputError(f"kpi cards: expected a mapping of KPI values, got {type(kpis).__name__}")
    notes = _mapping(notes, "kpi cards notes")
    previous = _mapping(previous, "previous KPIs")
    cards = []
    for k in KPIS:
        if k.name not in kpis:
            continue
        value = format_kpi(k.name, kpis[k.name], currency)
        delta, colour = _delta_text(k.name, kpis[k.name], (previous or {}).get(k.name))
        delta = f"{delta} vs last run" if delta else ""
        missing = _num(kpis[k.name]) is None
        cards.append(
            '<div style="border:1px solid #d0d7de;border-radius:6px;padding:10px 12px;'
            f'background:{"#f6f8fa" if missing else "#ffffff"}">'
            f'<div style="font-size:12px;color:#57606a">{html.escape(k.label)}</div>'
            f'<div style="font-size:22px;font-weight:600;color:{"#8c959f" if missing else "#1f2328"}">'
            f"{html.escape(value)}</div>"
            f'<div style="font-size:11px;color:#57606a">{html.escape(notes.get(k.name, ""))}</div>'
            f'<div style="font-size:11px;color:{colour}">{html.escape(delta)}</div>'
            "</div>"
        )
    return (
        '<div style="display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));'
        'gap:10px;margin:6px 0 12px 0">' + "".join(cards) + "</div>"
    )


def kpi_readings(
    kpis: Mapping[str, Any],
    params: Mapping[str, Any] | None = None,
    currency: str = "",
    missing: Mapping[str, str] | None = None,
    horizon_months: int | None = None,
    sources: Mapping[str, str] | None = None,
    clv_as_of: str | None = None,
) -> str:
    """One sentence of reading per headline KPI, as a Markdown bullet list.

    Parameters
    ----------
    kpis : mapping
        From :func:`headline_kpis`.
    params : mapping, optional
        The ``report`` params block (``active_days``, ``top_share``, ``high_risk_band``,
        ``watch_tiers``, ``watch_stages``).
    currency : str
        Prefix for money values.
    missing : mapping, optional
        Stage name -> why its products are missing; used for KPIs that are None.
    horizon_months : int, optional
        The value stage's CLV horizon, named in the predicted-value sentence.
    sources : mapping, optional
        :func:`data_sources`; each line then names its data set
        (``- **label** (purchases: CDNOW_master.txt): sentence``).
    clv_as_of : str, optional
        The day the CLV is computed from (``value_metrics.json`` ``clv_as_of``); the
        sentence names it, so "today" is never a day the model did not see.

    Returns
    -------
    str
        Markdown, one ``- **label**: sentence`` line per KPI in :data:`KPIS` order.

    Raises
    ------
    InputError
        When ``kpis`` (or ``params``, ``missing``) is not a mapping.
    """
    if not isinstance(kpis, Mapping):
        raise InputError(f"kpi readings: expected a mapping of KPI values, got {type(kpis).__name__}")
    p = _mapping(params, "report params")
    missing = _mapping(missing, "missing stages")
    v = {k: _num(kpis.get(k)) for k in KPI_NAMES}
    days = p.get("active_days", 90)
    top = p.get("top_share", 0.2)
    lines: dict[str, str] = {}
    n = v["customers"]
    if n:
        lines["customers"] = f"{n:,} customers have bought at least once up to the end of the data."
        a = v["active_customers"] or 0
        lines["active_customers"] = (
            f"{a:,} of them ({a / n:.0%}) bought in the last {days} days; the other "
            f"{n - a:,} can only be reached by reactivation campaigns."
        )
    if v["revenue"] is not None:
        lines["revenue"] = f"Customers spent {_money(v['revenue'], currency)} in all the data."
    if v["revenue_recent"] is not None and v["revenue"]:
        share = v["revenue_recent"] / v["revenue"]
        lines["revenue_recent"] = (
            f"{_money(v['revenue_recent'], currency)} of it ({share:.0%}) came in the last "
            f"{days} days — the number to compare week by week."
        )
    if v["repeat_rate"] is not None:
        r = v["repeat_rate"]
        lines["repeat_rate"] = (
            f"{r:.0%} of customers came back on a second day; {1 - r:.0%} bought once only, "
            "so the step from first to second purchase is where onboarding pays most."
        )
    if v["top_share_revenue"] is not None:
        s = v["top_share_revenue"]
        lines["top_share_revenue"] = (
            f"The top {top:.0%} of customers bring {s:.0%} of revenue"
            + (": losing a few of them costs more than losing many others." if s >= 0.5 else ".")
        )
    if v["satisfaction_index"] is not None:
        lines["satisfaction_index"] = (
            f"Surveyed customers rate their satisfaction {v['satisfaction_index']:.1f} on a "
            "0-100 scale; track it run by run rather than reading the level alone."
        )
    if v["high_risk_customers"] is not None:
        lines["high_risk_customers"] = (
            f"{v['high_risk_customers']:,} current customers (not counting those who already "
            f"left) are in the '{p.get('high_risk_band', 'high')}' churn-risk band, scored by "
            "models that did not train on them: the retention team's call list."
        )
    if v["warning_flags"] is not None:
        lines["warning_flags"] = (
            f"{v['warning_flags']:,} customers are overdue against their usual purchase rhythm "
            "and the least likely to buy again (a list capped at the team's contact capacity): "
            "they have lapsed, so this is a win-back list, not an early reminder."
        )
    if v["predicted_value"] is not None:
        if clv_as_of:
            over = f" over the {horizon_months} months after that date" if horizon_months else ""
            lines["predicted_value"] = (
                f"Refitted on all purchases up to {clv_as_of}, the value model expects the customers on "
                f"the books that day to be worth {_money(v['predicted_value'], currency)}{over} "
                "(customer lifetime value: discounted margin)."
            )
        else:
            over = f" over the next {horizon_months} months" if horizon_months else ""
            lines["predicted_value"] = (
                f"The value model expects its customers to be worth "
                f"{_money(v['predicted_value'], currency)}{over} (customer lifetime value)."
            )
    if v["watch_list"] is not None:
        tiers = "/".join(p.get("watch_tiers", TIER_ORDER[:2]))
        stages = "/".join(p.get("watch_stages", ["at risk"]))
        lines["watch_list"] = (
            f"{v['watch_list']:,} {tiers}-tier customers are '{stages}': contact them "
            "personally before they lapse."
        )
    sources = _mapping(sources, "data sources")
    out = []
    for k in KPIS:
        text = lines.get(k.name)
        if text is None:
            why = missing.get(k.stage)
            text = f"not available — {why}." if why else "not available for this data."
        where = source_note(sources, KPI_INPUTS.get(k.name, ""))
        out.append(f"- **{k.label}**{f' ({where})' if where else ''}: {text}")
    return "\n".join(out)


def kpi_notes(params: Mapping[str, Any] | None = None, horizon_months: int | None = None,
              sources: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the small caption under each KPI card: how it is measured, and on which data.

    ``sources`` (:func:`data_sources`) appends the KPI's data set, e.g. "last 90 days ·
    CDNOW_master.txt", so cards from different data sets are not read as one company's.

    Raises
    ------
    InputError
        When ``params`` is not a mapping.
    """
    p = _mapping(params, "report params")
    days = p.get("active_days", 90)
    notes = {
        "customers": "bought at least once",
        "active_customers": f"bought in the last {days} days",
        "revenue": "all clean purchases",
        "revenue_recent": f"last {days} days",
        "repeat_rate": "bought on 2 or more days",
        "top_share_revenue": f"top {p.get('top_share', 0.2):.0%} of customers",
        "satisfaction_index": "survey, 0-100",
        "high_risk_customers": f"current customers, band '{p.get('high_risk_band', 'high')}'",
        "warning_flags": "lapsed vs own rhythm, up to capacity",
        "predicted_value": "customer lifetime value",
        "watch_list": "valuable customers slipping",
    }
    if horizon_months:
        notes["predicted_value"] += f", {horizon_months} months"
    sources = _mapping(sources, "data sources")
    for name in notes:
        label = sources.get(KPI_INPUTS.get(name, ""))
        if label:
            notes[name] += f" · {label}"
    return notes


def unavailable(stage: str, missing: Mapping[str, str] | None = None) -> str:
    """Say, in one Markdown line, that a section is empty because a stage is missing.

    Raises
    ------
    InputError
        When ``stage`` is empty.
    """
    if not stage:
        raise InputError("unavailable: a stage name is needed")
    why = _mapping(missing, "missing stages").get(stage) or "its products were not found"
    return f"*Not available in this run — the **{stage}** stage: {why}.*"


# --- segments, tiers, drivers, watch list ---------------------------------------------------


def top_drivers(satisfaction: Mapping[str, Any]) -> pd.DataFrame:
    """Rank the satisfaction drivers by importance, with their importance-performance quadrant.

    Parameters
    ----------
    satisfaction : mapping
        ``satisfaction.json``; ``drivers`` is ``{construct: {importance, performance,
        quadrant}}`` (importance: share of explained variance; performance: 0-100 index).

    Returns
    -------
    DataFrame
        ``construct``, ``importance``, ``performance``, ``quadrant``, ``actionable`` — most
        important first; ``attrs["crosshair"]`` is the map's cross-hair (importance,
        performance) for :func:`crmlab.plots.plot_importance_performance`. Quadrant,
        actionable and the cross-hair are the satisfaction stage's (``drivers.*.quadrant``,
        ``drivers.*.actionable``, ``ipm``); when absent they are derived the same way
        (:func:`crmlab.satisfaction.importance_performance`: cross-hair in the middle of the
        drivers' range, every driver but Expectation actionable).

    Raises
    ------
    InputError
        When ``drivers`` is missing or empty, or a driver lacks ``importance`` or
        ``performance``.

    References
    ----------
    Martilla, J. A. & James, J. C. (1977). Importance-performance analysis. Journal of
    Marketing 41(1), 77-79.
    """
    drivers = satisfaction.get("drivers") if isinstance(satisfaction, Mapping) else None
    if not drivers:
        raise InputError("satisfaction.json: key 'drivers' missing or empty")
    rows = []
    for name, d in drivers.items():
        for key in ("importance", "performance"):
            if _num((d or {}).get(key)) is None:
                raise InputError(f"satisfaction.json: drivers.{name}: key {key!r} missing")
        rows.append((str(name), float(d["importance"]), float(d["performance"]), d.get("quadrant")))
    from crmlab.satisfaction import actionable_drivers, ipm_crosshair, quadrant_of

    out = pd.DataFrame(rows, columns=["construct", "importance", "performance", "quadrant"])
    ipm = satisfaction.get("ipm") or {}
    cuts = ipm_crosshair(out["importance"], out["performance"])
    given = (_num(ipm.get("importance_cut")), _num(ipm.get("performance_cut")))
    cuts = tuple(c if g is None else g for g, c in zip(given, cuts, strict=True))
    derived = quadrant_of(out["importance"], out["performance"], cuts)
    out["quadrant"] = out["quadrant"].astype(object).where(out["quadrant"].notna(), derived)
    out["quadrant"] = out["quadrant"].astype(str)
    levers = set(actionable_drivers(out["construct"].tolist()))
    out["actionable"] = [bool(d.get("actionable", name in levers)) for name, d in
                         ((r, drivers[r] or {}) for r in out["construct"])]
    out = out.sort_values(["importance", "construct"], ascending=[False, True],
                          kind="stable").reset_index(drop=True)
    out.attrs["crosshair"] = cuts
    return out


def watch_list(
    customers: pd.DataFrame,
    params: Mapping[str, Any] | None = None,
    value_predictions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Valuable customers who are slipping: tier in ``watch_tiers``, stage in ``watch_stages``.

    Parameters
    ----------
    customers : DataFrame
        Columns ``customer_id``, ``value_tier``, ``lifecycle_stage``; ``rfm_segment``,
        ``total_spend`` and ``days_since_last`` are carried along when present.
    params : mapping, optional
        The ``report`` params block; defaults ``watch_tiers=[high, medium]``,
        ``watch_stages=[at risk]``.
    value_predictions : DataFrame, optional
        Adds ``clv`` and ``p_alive`` (when present) by ``customer_id``.

    Returns
    -------
    DataFrame
        The watched customers, highest total spend first (else by id).

    Raises
    ------
    InputError
        When a required column is missing.
    """
    require_columns(customers, ["customer_id", "value_tier", "lifecycle_stage"], "customers")
    p = params or {}
    tiers = [str(t) for t in p.get("watch_tiers", ["high", "medium"])]
    stages = [str(s) for s in p.get("watch_stages", ["at risk"])]
    keep = ["customer_id", "value_tier", "lifecycle_stage"] + [
        c for c in ("rfm_segment", "total_spend", "days_since_last") if c in customers.columns
    ]
    mask = customers["value_tier"].astype(str).isin(tiers) & customers["lifecycle_stage"].astype(
        str
    ).isin(stages)
    out = customers.loc[mask, keep].copy()
    if value_predictions is not None:
        require_columns(value_predictions, ["customer_id"], "value_predictions")
        extra = [c for c in ("clv", "p_alive") if c in value_predictions.columns]
        if extra:
            vp = value_predictions[["customer_id", *extra]].drop_duplicates("customer_id")
            out = out.merge(vp, on="customer_id", how="left")
    by = ["total_spend", "customer_id"] if "total_spend" in out.columns else ["customer_id"]
    asc = [False, True] if len(by) == 2 else [True]
    return out.sort_values(by, ascending=asc, kind="stable").reset_index(drop=True)


def reading_segments(profiles: pd.DataFrame) -> str:
    """One sentence on the RFM segment profiles: where the revenue sits and what to do there.

    Parameters
    ----------
    profiles : DataFrame
        :func:`crmlab.segmentation.segment_profiles` output: ``rfm_segment``,
        ``customer_share``, ``revenue_share``, ``action``.

    Raises
    ------
    InputError
        When a required column is missing.
    """
    require_columns(profiles, ["rfm_segment", "customer_share", "revenue_share", "action"],
             "segment profiles")
    if profiles.empty:
        return "No customers to segment."
    top = profiles.sort_values("revenue_share", ascending=False, kind="stable").iloc[0]
    big = profiles.sort_values("customer_share", ascending=False, kind="stable").iloc[0]
    action = str(top.action)
    text = (
        f"'{top.rfm_segment}' carries the most revenue ({top.revenue_share:.0%} from "
        f"{top.customer_share:.0%} of customers) — {action[:1].lower()}{action[1:]}"
    )
    if big.rfm_segment != top.rfm_segment:
        text += (
            f" The largest group, '{big.rfm_segment}' ({big.customer_share:.0%} of customers), "
            f"brings {big.revenue_share:.0%} of revenue."
        )
    return text


def reading_tiers(
    tiers: pd.DataFrame, lifecycle: pd.DataFrame, watch_stages: Sequence[str] = ("at risk",)
) -> str:
    """One sentence on the value tiers: the high tier's weight and how many are slipping.

    Parameters
    ----------
    tiers : DataFrame
        :func:`crmlab.segmentation.tier_table` output (``value_tier``, ``customer_share``,
        ``revenue_share``).
    lifecycle : DataFrame
        :func:`crmlab.segmentation.lifecycle_table` output (lifecycle stages x tiers).
    watch_stages : sequence of str
        Lifecycle stages counted as slipping.

    Raises
    ------
    InputError
        When a required column is missing.
    """
    require_columns(tiers, ["value_tier", "customer_share", "revenue_share"], "tier table")
    hi = tiers.loc[tiers["value_tier"] == TIER_ORDER[0]]
    if hi.empty or not hi.iloc[0]["customer_share"] > 0:
        return "No customer is in the high tier."
    h = hi.iloc[0]
    rows = [s for s in watch_stages if s in lifecycle.index]
    slipping = int(lifecycle.loc[rows, TIER_ORDER[0]].sum()) if TIER_ORDER[0] in lifecycle else 0
    return (
        f"The high tier is {h.customer_share:.0%} of customers and {h.revenue_share:.0%} of "
        f"revenue; {slipping:,} of them are '{'/'.join(watch_stages)}' and need personal "
        "attention now, while the medium tier is where upselling pays."
    )


def reading_drivers(drivers: pd.DataFrame, outcome: str = "satisfaction") -> str:
    """One sentence on the drivers: the most important one, and which lever to improve first.

    Only a driver the firm can act on (``actionable``, default True) is named as the one to
    improve; an important but weak driver that is not a lever (customers' expectations) is
    named as such, with no advice to spend on it.
    """
    require_columns(drivers, ["construct", "importance", "performance", "quadrant"], "drivers")
    if drivers.empty:
        return "No drivers were estimated."
    top = drivers.iloc[0]
    text = (
        f"'{top.construct}' matters most for {outcome} ({top.importance:.0%} of the explained "
        f"variance) and scores {top.performance:.0f}/100"
    )
    lever = (drivers["actionable"].astype(bool) if "actionable" in drivers
             else pd.Series(True, index=drivers.index))
    concentrate = drivers["quadrant"] == "concentrate here"
    focus = drivers.loc[concentrate & lever]
    if len(focus):
        f = focus.iloc[0]
        text += (f"; improve '{f.construct}' first (more important than most drivers but only "
                 f"{f.performance:.0f}/100)")
    else:
        text += "; no driver the firm can act on is both important and weak — keep up the current level"
    for r in drivers.loc[concentrate & ~lever].itertuples():
        text += (f"; '{r.construct}' is important and weak too, but not a lever: shape it through "
                 "what the firm promises, do not budget for it as such")
    return text + "."


def reading_index_model(
    satisfaction: Mapping[str, Any] | None, sources: Mapping[str, str] | None = None
) -> str:
    """One or two sentences on the PLS index model and the NPS of ``satisfaction.json``.

    Names the data set (:func:`source_note`); "" when the product has neither ``pls`` nor
    ``nps``.

    Raises
    ------
    InputError
        When ``satisfaction`` or ``sources`` is not a mapping.
    """
    sat = _mapping(satisfaction, "satisfaction.json")
    pls, nps = sat.get("pls"), sat.get("nps")
    parts = []
    if isinstance(pls, Mapping):
        target = (pls.get("ipma") or {}).get("target") or sat.get("outcome")
        r2 = _num((pls.get("r2") or {}).get(target))
        if r2 is not None:
            parts.append(
                f"The satisfaction index model (PLS path model) explains {r2:.0%} of the "
                f"differences in {target} (R²)"
            )
    if isinstance(nps, Mapping) and _num(nps.get("nps")) is not None:
        lo, hi = _num(nps.get("ci_low")), _num(nps.get("ci_high"))
        ci = f" ({nps.get('confidence', 0.95):.0%} CI {lo:+.0f} to {hi:+.0f})" if lo is not None else ""
        scale = nps.get("scale") or [0, 10]
        note = (f", from a {scale[0]:g}-{scale[1]:g} item (NPS is defined on 0-10)"
                if list(scale) != [0, 10] else "")
        parts.append(f"the Net Promoter Score is {nps['nps']:+.0f}{ci}{note}")
    if not parts:
        return ""
    text = "; ".join(parts)
    where = source_note(sources, "survey")
    return f"{where + ': ' if where else ''}{text[0].upper()}{text[1:]}."


def risk_band_table(
    churn_scores: pd.DataFrame, order: Sequence[str] = ("high", "medium", "low", "churned")
) -> pd.DataFrame:
    """Count scored customers per churn-risk band, with mean predicted and observed churn.

    The action bands hold current customers only (rows that already churned have the band
    ``churned``), so their own observed churn is 0 by definition; the check that a band
    means what it says is the churn rate of the test rows whose *probability* falls in it
    (``score_band`` when the product has it).

    Parameters
    ----------
    churn_scores : DataFrame
        The churn product: ``risk_band``, ``churn_probability``; with ``split`` and
        ``actual`` the observed churn rate on the test split is added (grouped by
        ``score_band`` when present, else by ``risk_band``).
    order : sequence of str
        Band order (others follow by name).

    Returns
    -------
    DataFrame
        ``risk_band``, ``customers``, ``share``, ``mean_probability`` and, when possible,
        ``test_churn_rate`` (share who actually left among the band's test-split rows).

    Raises
    ------
    InputError
        When ``risk_band`` or ``churn_probability`` is missing.
    """
    require_columns(churn_scores, ["risk_band", "churn_probability"], "churn_scores")
    df = churn_scores.assign(risk_band=churn_scores["risk_band"].astype(str))
    g = df.groupby("risk_band", sort=False)
    out = pd.DataFrame({"customers": g.size(), "mean_probability": g["churn_probability"].mean()})
    if {"split", "actual"} <= set(df.columns):
        test = df.loc[df["split"].astype(str) == "test"]
        by = "score_band" if "score_band" in test.columns else "risk_band"
        rate = test.groupby(test[by].astype(str), sort=False)["actual"].mean()
        gone = test.loc[test["risk_band"] == "churned", "actual"]
        if len(gone):  # left already: 100% by definition, shown so the row is not blank
            rate["churned"] = gone.mean()
        out["test_churn_rate"] = rate
    out = out.reindex(_ordered(out.index, order))
    out.insert(1, "share", out["customers"] / out["customers"].sum())
    return out.rename_axis("risk_band").reset_index().astype({"customers": "int64"})


def reading_watch(watch: pd.DataFrame, params: Mapping[str, Any] | None = None, currency: str = "") -> str:
    """One sentence on the watch list: how many, how much they spent, what to do."""
    require_columns(watch, ["customer_id"], "watch list")
    p = params or {}
    tiers = "/".join(p.get("watch_tiers", ["high", "medium"]))
    stages = "/".join(p.get("watch_stages", ["at risk"]))
    if watch.empty:
        return f"No {tiers}-tier customer is '{stages}' today: nobody to chase this run."
    spent = ""
    if "total_spend" in watch.columns:
        spent = f", who have spent {_money(float(watch['total_spend'].sum()), currency)} so far"
    return (
        f"{len(watch):,} {tiers}-tier customers are '{stages}'{spent}: give the list to the "
        "account team and call the biggest spenders first."
    )


# --- state for the next run -----------------------------------------------------------------


def customer_snapshot(customers: pd.DataFrame, watch: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-customer state the next run compares with: tier, stage, segment, watch flag.

    Parameters
    ----------
    customers : DataFrame
        Columns ``customer_id``, ``value_tier``, ``lifecycle_stage``; ``rfm_segment`` and
        ``total_spend`` optional.
    watch : DataFrame, optional
        :func:`watch_list` output; ``on_watch_list`` marks its ``customer_id`` values.

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


# --- run over run ---------------------------------------------------------------------------


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


def kpi_change_table(changes: pd.DataFrame, currency: str = "") -> pd.DataFrame:
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
        delta, _ = _delta_text(r.kpi, r.current, r.previous)
        rows.append((r.label, format_kpi(r.kpi, r.previous, currency),
                     format_kpi(r.kpi, r.current, currency), delta))
    return pd.DataFrame(rows, columns=["KPI", "previous run", "this run", "change"])


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


def reading_migrations(summary: Mapping[str, int]) -> str:
    """One sentence on tier migrations since the previous run.

    Raises
    ------
    InputError
        When ``summary`` is not a mapping (see :func:`migration_summary`).
    """
    summary = _mapping(summary, "migration summary")
    up, down = summary.get("up", 0), summary.get("down", 0)
    moved = up + down
    if not moved and not summary.get("new", 0) and not summary.get("gone", 0):
        return "No customer changed value tier since the previous run."
    text = f"Since the previous run {up:,} customers moved up a tier and {down:,} moved down"
    if summary.get("new", 0):
        text += f"; {summary['new']:,} are new"
    if summary.get("gone", 0):
        text += f"; {summary['gone']:,} are no longer in the data"
    if down > up:
        text += " — more are slipping than growing: start with the movers down from the high tier."
    else:
        text += " — the base is holding its value; thank the movers up."
    return text


def new_watch_entries(previous: pd.DataFrame, watch: pd.DataFrame) -> pd.DataFrame:
    """Rows of this run's watch list whose customer was not on the previous run's list.

    Parameters
    ----------
    previous : DataFrame
        The previous snapshot with ``customer_id`` and ``on_watch_list``.
    watch : DataFrame
        This run's :func:`watch_list`.

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
    tolerance: float = 0.25,
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
        Allowed relative change of a row count (0.25 = 25%).

    Returns
    -------
    DataFrame
        ``input``, ``check``, ``previous``, ``current``, ``change``, ``flag`` (bool), ``note``
        — all as text except ``flag``.

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
            state = "input added" if c else "input removed"
            rows.append((section, "input", "present" if p else "absent",
                         "present" if c else "absent", state, True, f"{state} since the previous run"))
            continue
        for key in ("rows", "rows_clean", "rows_quarantined", "customers"):
            a, b = _num(p.get(key)), _num(c.get(key))
            if a is None or b is None:
                continue
            rel = (b - a) / a if a else (0.0 if b == a else math.inf)
            flag = abs(rel) > tolerance
            change = f"{b - a:+,.0f} ({rel:+.1%})" if math.isfinite(rel) else f"{b - a:+,.0f}"
            note = f"changed by more than {tolerance:.0%}" if flag else "within tolerance"
            rows.append((section, key, f"{a:,.0f}", f"{b:,.0f}", change, flag, note))
        if p.get("date_min") and c.get("date_min"):
            moved_start = p["date_min"] != c["date_min"]
            backwards = (p.get("date_max") or "") > (c.get("date_max") or "")
            note = ("first date changed: older history was added or removed" if moved_start
                    else "last date moved backwards" if backwards
                    else "data extends further" if p.get("date_max") != c.get("date_max")
                    else "same dates")
            rows.append((section, "date range", f"{p['date_min']} .. {p.get('date_max')}",
                         f"{c['date_min']} .. {c.get('date_max')}",
                         "" if note == "same dates" else "changed",
                         bool(moved_start or backwards), note))
        if p.get("columns") is not None and c.get("columns") is not None:
            added = [x for x in c["columns"] if x not in p["columns"]]
            removed = [x for x in p["columns"] if x not in c["columns"]]
            change = "; ".join(
                [f"new: {', '.join(added)}"] * bool(added) + [f"missing: {', '.join(removed)}"] * bool(removed)
            )
            rows.append((section, "columns", str(len(p["columns"])), str(len(c["columns"])),
                         change, bool(added or removed),
                         "columns changed: check the export layout" if added or removed else "same columns"))
        if p.get("sha256") and c.get("sha256"):
            same = p["sha256"] == c["sha256"]
            rows.append((section, "file content", p["sha256"][:12], c["sha256"][:12],
                         "" if same else "changed", False,
                         "identical file: was a fresh export expected?" if same else "new file content"))
    return pd.DataFrame(rows, columns=["input", "check", "previous", "current", "change", "flag", "note"])


def reading_drift(drift: pd.DataFrame) -> str:
    """One sentence on input drift: flagged checks, or all clear."""
    require_columns(drift, ["input", "check", "flag", "note"], "input drift")
    flagged = drift.loc[drift["flag"]]
    if drift.empty:
        return "No input facts to compare with the previous run."
    if flagged.empty:
        return "The inputs look like last time's: row counts within tolerance, same columns and dates."
    items = "; ".join(f"{r.input} {r.check}: {r.note}" for r in flagged.itertuples())
    return f"Check the inputs before trusting the changes above — {items}."


def next_steps(
    kpis: Mapping[str, Any],
    new_watch: int | None = None,
    drivers: pd.DataFrame | None = None,
    drift: pd.DataFrame | None = None,
    missing: Mapping[str, str] | None = None,
    sources: Mapping[str, str] | None = None,
) -> str:
    """Turn the report into a short, ordered to-do list (Markdown) for the CRM team.

    Parameters
    ----------
    kpis : mapping
        From :func:`headline_kpis`.
    new_watch : int, optional
        Customers new on the watch list since the previous run.
    drivers : DataFrame, optional
        :func:`top_drivers` output.
    drift : DataFrame, optional
        :func:`input_drift` output; flagged checks come first (trust before action).
    missing : mapping, optional
        Stage -> why it is missing; listed last so the gaps get fixed.
    sources : mapping, optional
        :func:`data_sources`: the watch-list and driver steps name their data set.

    Returns
    -------
    str
        A numbered Markdown list (at least one item).

    Raises
    ------
    InputError
        When ``kpis`` is not a mapping.
    """
    if not isinstance(kpis, Mapping):
        raise InputError(f"next steps: expected a mapping of KPI values, got {type(kpis).__name__}")
    steps = []
    if drift is not None and len(drift) and drift["flag"].any():
        steps.append(f"Check the input data first: {int(drift['flag'].sum())} input drift "
                     "check(s) flagged — the changes may come from the export, not from customers.")
    src = _mapping(sources, "data sources")
    wl = _num(kpis.get("watch_list"))
    if wl:
        extra = f" ({new_watch:,} new since the last run)" if new_watch else ""
        of = f" of {src['transactions']}" if src.get("transactions") else ""
        steps.append(f"Call the {wl:,} customers{of} on the watch list{extra}, biggest spenders first.")
    hr = _num(kpis.get("high_risk_customers"))
    if hr:
        of = f" of {src['churn']}" if src.get("churn") else ""
        steps.append(f"Hand the {hr:,} current customers{of} at high churn risk to the retention team.")
    if drivers is not None and len(drivers):
        focus = drivers.loc[drivers["quadrant"] == "concentrate here"]
        if "actionable" in focus:
            focus = focus.loc[focus["actionable"].astype(bool)]
        if len(focus):
            where = f" in the {src['survey']} survey" if src.get("survey") else ""
            steps.append(f"Improve '{focus.iloc[0]['construct']}': it drives satisfaction{where} "
                         "and scores below the other drivers.")
    rr = _num(kpis.get("repeat_rate"))
    if rr is not None and rr < 0.5:
        of = f" of {src['transactions']}" if src.get("transactions") else ""
        steps.append(f"Work on the second purchase: most customers{of} bought only once.")
    for stage, why in _mapping(missing, "missing stages").items():
        steps.append(f"Fill the gap: the {stage} stage is not in this report ({why}).")
    if not steps:
        steps.append("Nothing urgent: keep the programme running and watch the trends.")
    return "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))


# --- history --------------------------------------------------------------------------------


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


def trend_labels(history: pd.DataFrame) -> list[str]:
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
        when = str(finished)[:16].replace("T", " ") if pd.notna(finished) and finished else "this run"
        labels.append(f"{when}\n(to {str(obs)[:10]})" if pd.notna(obs) and obs else when)
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


def kpi_units(currency: str = "") -> dict[str, str]:
    """Return the unit of each KPI, for axis labels (shares are drawn in percent)."""
    unit = {"count": "customers", "money": f"amount ({currency.strip() or 'currency units'})",
            "share": "% of customers", "index": "index points (0-100)"}
    out = {k.name: unit[k.kind] for k in KPIS}
    out["top_share_revenue"] = "% of revenue"
    return out


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
