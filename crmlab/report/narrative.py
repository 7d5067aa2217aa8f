"""Every sentence of the summary report: readings, captions, notes and the to-do list.

Each function turns computed results into Markdown for people who do not read code. The
report combines data sets that need not describe the same customers, so every sentence
that states a number names its data set (:func:`source_note`) and no sentence adds,
compares or chains numbers of two data sets as if they were one company's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.i18n import EN, Catalog
from crmlab.report._values import _mapping, _money, _num, _param
from crmlab.report.kpis import (
    INPUT_KINDS,
    KPI_INPUTS,
    KPI_NAMES,
    KPIS,
    format_kpi,
    input_kind,
    kpi_label,
    section_name,
)
from crmlab.report.overview import overview_notes, stage_name
from crmlab.report.trends import drift_check_name
from crmlab.segmentation import TIER_ORDER

__all__ = [
    "source_note",
    "reading_sources",
    "reading_stages",
    "run_header",
    "data_set_line",
    "kpi_readings",
    "kpi_notes",
    "unavailable",
    "reading_segments",
    "reading_tiers",
    "reading_drivers",
    "reading_index_model",
    "reading_watch",
    "churn_lists_line",
    "reading_risk_bands",
    "first_run_note",
    "compared_with",
    "reading_migrations",
    "moved_down_summary",
    "reading_drift",
    "trend_count",
    "next_steps",
]


# --- which data set, which stages -------------------------------------------------------------


def source_note(sources: Mapping[str, str] | None, section: str, tr: Catalog = EN) -> str:
    """Return ``"purchases: CDNOW_master.txt"`` for an input section ("" when unknown).

    Raises
    ------
    InputError
        When ``sources`` is not a mapping.
    """
    label = _mapping(sources, "data sources").get(section)
    if not label:
        return ""
    return tr("report.source_note", kind=input_kind(section, tr), label=label)


def reading_sources(sources: Mapping[str, str] | None, tr: Catalog = EN) -> str:
    """One paragraph: which data set feeds which part of the report, and that they differ.

    Raises
    ------
    InputError
        When ``sources`` is not a mapping.
    """
    sources = _mapping(sources, "data sources")
    if not sources:
        return tr("report.sources.none")
    parts = [tr("report.sources.part", note=source_note(sources, s, tr), use=tr(f"report.sources.use.{s}"))
             for s in INPUT_KINDS if s in sources]
    text = tr("report.sources.line", parts=tr("report.sep.semicolon").join(parts))
    if len(set(sources.values())) > 1:
        text += tr("report.sources.separate")
    return text


def reading_stages(overview: pd.DataFrame, tr: Catalog = EN) -> str:
    """One sentence: which stages fed the report and which did not (and why)."""
    require_columns(overview, ["stage", "status", "note", "use"], "stage overview")
    used = overview.loc[overview["use"], "stage"].tolist()
    unused = overview.loc[~overview["use"]]
    notes = overview_notes(overview, tr)
    names = tr("report.sep.comma").join(stage_name(s, tr) for s in used) or tr("common.none")
    parts = [tr("report.stages.built", n=len(used), stages=names)]
    if len(unused):
        why = tr("report.sep.semicolon").join(
            tr("report.stages.why", stage=stage_name(r.stage, tr), note=notes.get(r.stage, r.note))
            for r in unused.itertuples())
        parts.append(tr("report.stages.not_in", why=why))
    else:
        parts.append(tr("report.stages.all"))
    return tr("report.sep.sentence").join(parts)


def run_header(run_name: str, run_label: str, sources: Mapping[str, str] | None,
               observation_end: Any, observation_source: str, previous_id: str | None,
               tr: Catalog = EN) -> str:
    """Open the report: which run, the purchases' data set and date, what it is compared with."""
    since = (tr("report.header.compared", previous_id=previous_id) if previous_id
             else tr("report.header.no_earlier"))
    if observation_end is None:
        return tr("report.header.no_transactions", run_name=run_name, run_label=run_label, since=since)
    return tr("report.header.run", run_name=run_name, run_label=run_label,
              source=_mapping(sources, "data sources").get("transactions"),
              date=f"{pd.Timestamp(observation_end):%Y-%m-%d}", how=observation_source, since=since)


def data_set_line(sources: Mapping[str, str] | None, section: str, tr: Catalog = EN) -> str:
    """Name a section's data set in italics: ``*Data set — purchases: CDNOW.*``.

    The survey's line adds that the people surveyed are not the other sections' customers.
    """
    if section == "survey":
        return tr("report.data_set.survey", note=source_note(sources, "survey", tr))
    return tr("report.data_set.line", note=source_note(sources, section, tr))


# --- headline numbers -------------------------------------------------------------------------


def kpi_readings(
    kpis: Mapping[str, Any],
    params: Mapping[str, Any] | None = None,
    currency: str = "",
    missing: Mapping[str, str] | None = None,
    horizon_months: int | None = None,
    sources: Mapping[str, str] | None = None,
    clv_as_of: str | None = None,
    tr: Catalog = EN,
) -> str:
    """One sentence of reading per headline KPI, as a Markdown bullet list.

    ``kpis`` comes from :func:`crmlab.report.kpis.headline_kpis`; ``params`` is the
    validated ``report`` section; ``missing`` maps a stage to why its products are missing
    (said for KPIs that are None); ``horizon_months`` is the value stage's CLV horizon;
    ``sources`` (:func:`crmlab.report.kpis.data_sources`) makes each line name its data set
    (``- **label** (purchases: CDNOW_master.txt): sentence``); ``clv_as_of`` is the day the
    CLV is computed from (``value_metrics.json``), named so that "today" is never a day the
    model did not see.

    Returns
    -------
    str
        Markdown, one ``- **label**: sentence`` line per KPI in ``KPIS`` order.

    Raises
    ------
    InputError
        When ``kpis`` (or ``params``, ``missing``) is not a mapping, or a params key is missing.
    """
    if not isinstance(kpis, Mapping):
        raise InputError(f"kpi readings: expected a mapping of KPI values, got {type(kpis).__name__}")
    p = _mapping(params, "report params")
    missing = _mapping(missing, "missing stages")
    v = {k: _num(kpis.get(k)) for k in KPI_NAMES}
    days = _param(p, "active_days")
    top = _param(p, "top_share")
    lines: dict[str, str] = {}
    n = v["customers"]
    R = "report.reading."
    if n:
        lines["customers"] = tr(R + "customers", n=n)
        a = v["active_customers"] or 0
        lines["active_customers"] = tr(R + "active_customers", a=a, share=a / n, days=days, rest=n - a)
    if v["revenue"] is not None:
        lines["revenue"] = tr(R + "revenue", amount=_money(v["revenue"], currency))
    if v["revenue_recent"] is not None and v["revenue"]:
        share = v["revenue_recent"] / v["revenue"]
        lines["revenue_recent"] = tr(R + "revenue_recent", amount=_money(v["revenue_recent"], currency),
                                     share=share, days=days)
    if v["repeat_rate"] is not None:
        r = v["repeat_rate"]
        lines["repeat_rate"] = tr(R + "repeat_rate", rate=r, once=1 - r)
    if v["top_share_revenue"] is not None:
        s = v["top_share_revenue"]
        lines["top_share_revenue"] = tr(R + ("top_share_big" if s >= 0.5 else "top_share"), top=top, share=s)
    if v["satisfaction_index"] is not None:
        lines["satisfaction_index"] = tr(R + "satisfaction_index", index=v["satisfaction_index"])
    if v["high_risk_customers"] is not None:
        lines["high_risk_customers"] = tr(R + "high_risk_customers", n=v["high_risk_customers"],
                                          band=tr.name("risk_band", _param(p, "high_risk_band")))
    if v["warning_flags"] is not None:
        lines["warning_flags"] = tr(R + "warning_flags", n=v["warning_flags"])
    if v["predicted_value"] is not None:
        value = _money(v["predicted_value"], currency)
        if clv_as_of:
            over = tr(R + "value_over_after", months=horizon_months) if horizon_months else ""
            lines["predicted_value"] = tr(R + "predicted_value_as_of", as_of=clv_as_of, value=value, over=over)
        else:
            over = tr(R + "value_over_next", months=horizon_months) if horizon_months else ""
            lines["predicted_value"] = tr(R + "predicted_value", value=value, over=over)
    if v["watch_list"] is not None:
        tiers = "/".join(tr.names("tier", _param(p, "watch_tiers")))
        stages = "/".join(tr.names("lifecycle", _param(p, "watch_stages")))
        lines["watch_list"] = tr(R + "watch_list", n=v["watch_list"], tiers=tiers, stages=stages)
    sources = _mapping(sources, "data sources")
    out = []
    for k in KPIS:
        text = lines.get(k.name)
        if text is None:
            why = missing.get(k.stage)
            text = tr(R + "not_available_why", why=why) if why else tr(R + "not_available")
        where = source_note(sources, KPI_INPUTS.get(k.name, ""), tr)
        label = kpi_label(k.name, tr)
        out.append(tr(R + "line_source", label=label, where=where, text=text) if where
                   else tr(R + "line", label=label, text=text))
    return "\n".join(out)


def kpi_notes(params: Mapping[str, Any] | None = None, horizon_months: int | None = None,
              sources: Mapping[str, str] | None = None, tr: Catalog = EN) -> dict[str, str]:
    """Return the small caption under each KPI card: how it is measured, and on which data.

    ``sources`` (:func:`data_sources`) appends the KPI's data set, e.g. "last 90 days ·
    CDNOW_master.txt", so cards from different data sets are not read as one company's.

    Raises
    ------
    InputError
        When ``params`` is not a mapping.
    """
    p = _mapping(params, "report params")
    days = _param(p, "active_days")
    values = {"days": days, "top": _param(p, "top_share"),
              "band": tr.name("risk_band", _param(p, "high_risk_band"))}
    notes = {name: tr(f"report.kpi_note.{name}", **values) for name in KPI_NAMES}
    if horizon_months:
        notes["predicted_value"] += tr("report.kpi_note.horizon", months=horizon_months)
    sources = _mapping(sources, "data sources")
    for name in notes:
        label = sources.get(KPI_INPUTS.get(name, ""))
        if label:
            notes[name] += tr("report.kpi_note.source", label=label)
    return notes


def unavailable(stage: str, missing: Mapping[str, str] | None = None, tr: Catalog = EN) -> str:
    """Say, in one Markdown line, that a section is empty because a stage is missing.

    Raises
    ------
    InputError
        When ``stage`` is empty.
    """
    if not stage:
        raise InputError("unavailable: a stage name is needed")
    why = _mapping(missing, "missing stages").get(stage) or tr("report.unavailable.not_found")
    return tr("report.unavailable.line", stage=stage_name(stage, tr), why=why)


# --- segments, tiers, drivers, churn risk, watch list -----------------------------------------


def reading_segments(profiles: pd.DataFrame, tr: Catalog = EN) -> str:
    """One sentence on the RFM segment profiles: where the revenue sits and what to do there.

    ``profiles`` is :func:`crmlab.segmentation.segment_profiles` output (``rfm_segment``,
    ``customer_share``, ``revenue_share``, ``action``).

    Raises
    ------
    InputError
        When a required column is missing.
    """
    require_columns(profiles, ["rfm_segment", "customer_share", "revenue_share", "action"],
             "segment profiles")
    if profiles.empty:
        return tr("report.segments.none")
    top = profiles.sort_values("revenue_share", ascending=False, kind="stable").iloc[0]
    big = profiles.sort_values("customer_share", ascending=False, kind="stable").iloc[0]
    action = str(top.action)
    text = tr("report.segments.top", segment=tr.name("segment", top.rfm_segment), revenue=top.revenue_share,
              customers=top.customer_share, action=f"{action[:1].lower()}{action[1:]}")
    if big.rfm_segment != top.rfm_segment:
        text += tr("report.segments.largest", segment=tr.name("segment", big.rfm_segment),
                   customers=big.customer_share, revenue=big.revenue_share)
    return text


def reading_tiers(
    tiers: pd.DataFrame, lifecycle: pd.DataFrame, watch_stages: Sequence[str], tr: Catalog = EN
) -> str:
    """One sentence on the value tiers: the high tier's weight and how many are slipping.

    ``tiers`` is :func:`crmlab.segmentation.tier_table` output (``value_tier``,
    ``customer_share``, ``revenue_share``), ``lifecycle`` the
    :func:`crmlab.segmentation.lifecycle_table` (stages x tiers); ``watch_stages`` are the
    lifecycle stages counted as slipping.

    Raises
    ------
    InputError
        When a required column is missing.
    """
    require_columns(tiers, ["value_tier", "customer_share", "revenue_share"], "tier table")
    hi = tiers.loc[tiers["value_tier"] == TIER_ORDER[0]]
    if hi.empty or not hi.iloc[0]["customer_share"] > 0:
        return tr("report.tiers.no_high")
    h = hi.iloc[0]
    rows = [s for s in watch_stages if s in lifecycle.index]
    slipping = int(lifecycle.loc[rows, TIER_ORDER[0]].sum()) if TIER_ORDER[0] in lifecycle else 0
    return tr("report.tiers.reading", customers=h.customer_share, revenue=h.revenue_share, n=slipping,
              stages="/".join(tr.names("lifecycle", watch_stages)))


def construct_name(construct: Any, tr: Catalog = EN) -> str:
    """Display name of a survey construct, as the satisfaction stage shows it.

    :func:`crmlab.satisfaction.narrative.words.construct_name`: the lab's default (ECSI)
    constructs in ``tr``'s language, a user's own construct names as they are.
    """
    from crmlab.satisfaction.narrative.words import construct_name as shown

    return shown(construct, tr)


def reading_drivers(drivers: pd.DataFrame, outcome: str = "satisfaction", tr: Catalog = EN) -> str:
    """One sentence on the drivers: the most important one, and which lever to improve first.

    Only a driver the firm can act on (``actionable``, default True) is named as the one to
    improve; an important but weak driver that is not a lever (customers' expectations) is
    named as such, with no advice to spend on it.
    """
    require_columns(drivers, ["construct", "importance", "performance", "quadrant"], "drivers")
    if drivers.empty:
        return tr("report.drivers.none")
    top = drivers.iloc[0]
    text = tr("report.drivers.top", construct=construct_name(top.construct, tr),
              outcome=construct_name(outcome, tr) if outcome != "satisfaction" else tr("report.drivers.satisfaction"),
              importance=top.importance, performance=top.performance)
    lever = (drivers["actionable"].astype(bool) if "actionable" in drivers
             else pd.Series(True, index=drivers.index))
    concentrate = drivers["quadrant"] == "concentrate here"
    focus = drivers.loc[concentrate & lever]
    if len(focus):
        f = focus.iloc[0]
        text += tr("report.drivers.focus", construct=construct_name(f.construct, tr), performance=f.performance)
    else:
        text += tr("report.drivers.no_focus")
    for r in drivers.loc[concentrate & ~lever].itertuples():
        text += tr("report.drivers.not_lever", construct=construct_name(r.construct, tr))
    return text + tr("report.sep.end")


def reading_index_model(satisfaction: Mapping[str, Any] | None,
                        sources: Mapping[str, str] | None = None, tr: Catalog = EN) -> str:
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
            parts.append(tr("report.index.r2", r2=r2, target=construct_name(target, tr)))
    if isinstance(nps, Mapping) and _num(nps.get("nps")) is not None:
        lo, hi = _num(nps.get("ci_low")), _num(nps.get("ci_high"))
        ci = (tr("report.index.nps_ci", confidence=nps.get("confidence", 0.95), low=lo, high=hi)
              if lo is not None else "")
        scale = nps.get("scale") or [0, 10]
        note = (tr("report.index.nps_scale", low=scale[0], high=scale[1])
                if list(scale) != [0, 10] else "")
        parts.append(tr("report.index.nps", nps=nps["nps"], ci=ci, note=note))
    if not parts:
        return ""
    text = tr("report.sep.semicolon").join(parts)
    where = source_note(sources, "survey", tr)
    text = f"{text[0].upper()}{text[1:]}"
    return tr("report.index.with_source", where=where, text=text) if where else tr("report.index.plain", text=text)


def reading_watch(watch: pd.DataFrame, params: Mapping[str, Any] | None = None,
                  currency: str = "", tr: Catalog = EN) -> str:
    """One sentence on the watch list: how many, how much they spent, what to do."""
    require_columns(watch, ["customer_id"], "watch list")
    tiers = "/".join(tr.names("tier", _param(params, "watch_tiers")))
    stages = "/".join(tr.names("lifecycle", _param(params, "watch_stages")))
    if watch.empty:
        return tr("report.watch.none", tiers=tiers, stages=stages)
    spent = ""
    if "total_spend" in watch.columns:
        spent = tr("report.watch.spent", amount=_money(float(watch["total_spend"].sum()), currency))
    return tr("report.watch.reading", n=len(watch), tiers=tiers, stages=stages, spent=spent)


def churn_lists_line(sources: Mapping[str, str] | None, tr: Catalog = EN) -> str:
    """Name the data sets of the two retention lists, and warn when they differ."""
    sources = _mapping(sources, "data sources")
    head = tr("report.churn_lists.head",
              churn=source_note(sources, "churn", tr) or tr("report.churn_lists.no_churn"),
              watch=source_note(sources, "transactions", tr) or tr("report.churn_lists.no_purchases"))
    return head + tr("report.churn_lists.different" if len(set(sources.values())) > 1
                     else "report.churn_lists.end")


def reading_risk_bands(high_risk_customers: Any, band: str, tr: Catalog = EN) -> str:
    """Introduce the churn-risk band table: how many are at high risk, and how to read it."""
    return tr("report.risk_bands.reading", n=format_kpi("high_risk_customers", high_risk_customers, tr=tr),
              band=tr.name("risk_band", band), churned=tr.name("risk_band", "churned"))


# --- since the last run -----------------------------------------------------------------------


def first_run_note(run_name: str, tr: Catalog = EN) -> str:
    """Say that the first run with a report has nothing to compare with yet."""
    return tr("report.since.first_run", run_name=run_name)


def compared_with(previous_id: str, observation_end: str | None, tr: Catalog = EN) -> str:
    """Name the previous run the changes are measured against, and its data's date."""
    return tr("report.since.compared", previous_id=previous_id, date=observation_end or tr("common.unknown"))


def reading_migrations(summary: Mapping[str, int], tr: Catalog = EN) -> str:
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
        return tr("report.since.no_moves")
    text = tr("report.since.moves", up=up, down=down)
    if summary.get("new", 0):
        text += tr("report.since.new", n=summary["new"])
    if summary.get("gone", 0):
        text += tr("report.since.gone", n=summary["gone"])
    text += tr("report.since.slipping" if down > up else "report.since.holding")
    return text


def moved_down_summary(moved_down: int, new_on_watch: int, tr: Catalog = EN) -> str:
    """Count the customers who moved down a tier and those new on the watch list."""
    return tr("report.since.moved_down", moved_down=moved_down, new_on_watch=new_on_watch)


def reading_drift(drift: pd.DataFrame, tr: Catalog = EN) -> str:
    """One sentence on input drift: flagged checks, or all clear."""
    require_columns(drift, ["input", "check", "flag", "note"], "input drift")
    flagged = drift.loc[drift["flag"]]
    if drift.empty:
        return tr("report.drift.no_facts")
    if flagged.empty:
        return tr("report.drift.clear")
    items = tr("report.sep.semicolon").join(
        tr("report.drift.item", input=section_name(r.input, tr), check=drift_check_name(r.check, tr), note=r.note)
        for r in flagged.itertuples())
    return tr("report.drift.flagged", items=items)


def trend_count(runs_with_report: int, history_runs: int, tr: Catalog = EN) -> str:
    """Say how many runs the trend chart draws (runs without the report stage are left out).

    ``history_runs`` counts the successful runs before this one, with or without a report.
    """
    return tr("report.trend_count", runs=runs_with_report, without=history_runs + 1 - runs_with_report)


# --- what to do ---------------------------------------------------------------------------------


def next_steps(
    kpis: Mapping[str, Any],
    new_watch: int | None = None,
    drivers: pd.DataFrame | None = None,
    drift: pd.DataFrame | None = None,
    missing: Mapping[str, str] | None = None,
    sources: Mapping[str, str] | None = None,
    tr: Catalog = EN,
) -> str:
    """Turn the report into a short, ordered to-do list (Markdown) for the CRM team.

    Flagged input drift comes first (trust before action), then the watch list (``kpis``,
    with ``new_watch`` customers new since the last run), the high-risk customers, the
    first driver to improve (``drivers``: :func:`crmlab.report.tables.top_drivers`), the
    second purchase, and last the missing stages (``missing``), so the gaps get fixed. Each
    step names its data set (``sources``).

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
        steps.append(tr("report.next.drift", n=int(drift["flag"].sum())))
    src = _mapping(sources, "data sources")

    def of(section: str) -> str:
        return tr("report.next.of", source=src[section]) if src.get(section) else ""

    wl = _num(kpis.get("watch_list"))
    if wl:
        extra = tr("report.next.new_since", n=new_watch) if new_watch else ""
        steps.append(tr("report.next.watch", n=wl, of=of("transactions"), extra=extra))
    hr = _num(kpis.get("high_risk_customers"))
    if hr:
        steps.append(tr("report.next.high_risk", n=hr, of=of("churn")))
    if drivers is not None and len(drivers):
        focus = drivers.loc[drivers["quadrant"] == "concentrate here"]
        if "actionable" in focus:
            focus = focus.loc[focus["actionable"].astype(bool)]
        if len(focus):
            where = tr("report.next.in_survey", survey=src["survey"]) if src.get("survey") else ""
            steps.append(tr("report.next.driver", construct=construct_name(focus.iloc[0]["construct"], tr),
                            where=where))
    rr = _num(kpis.get("repeat_rate"))
    if rr is not None and rr < 0.5:
        steps.append(tr("report.next.second_purchase", of=of("transactions")))
    for stage, why in _mapping(missing, "missing stages").items():
        steps.append(tr("report.next.gap", stage=stage_name(stage, tr), why=why))
    if not steps:
        steps.append(tr("report.next.nothing"))
    return "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
