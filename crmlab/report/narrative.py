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
from crmlab.report._values import _mapping, _money, _num, _param
from crmlab.report.kpis import INPUT_KINDS, KPI_INPUTS, KPI_NAMES, KPIS, format_kpi
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


def run_header(run_name: str, run_label: str, sources: Mapping[str, str] | None,
               observation_end: Any, observation_source: str, previous_id: str | None) -> str:
    """Open the report: which run, the purchases' data set and date, what it is compared with."""
    since = f"compared with run **{previous_id}**" if previous_id else "no earlier run to compare with"
    if observation_end is None:
        return f"Run **{run_name} / {run_label}**; no transactions in this run; {since}."
    return (f"Run **{run_name} / {run_label}**; purchases of "
            f"{_mapping(sources, 'data sources').get('transactions')} observed at "
            f"**{pd.Timestamp(observation_end):%Y-%m-%d}** ({observation_source}); {since}.")


def data_set_line(sources: Mapping[str, str] | None, section: str) -> str:
    """Name a section's data set in italics: ``*Data set — purchases: CDNOW.*``.

    The survey's line adds that the people surveyed are not the other sections' customers.
    """
    if section == "survey":
        return (f"*Data set — {source_note(sources, 'survey')}: the people surveyed "
                "are not the customers of the other sections.*")
    return f"*Data set — {source_note(sources, section)}.*"


# --- headline numbers -------------------------------------------------------------------------


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
            f"left) are in the '{_param(p, 'high_risk_band')}' churn-risk band, scored by "
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
        tiers = "/".join(_param(p, "watch_tiers"))
        stages = "/".join(_param(p, "watch_stages"))
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
    days = _param(p, "active_days")
    notes = {
        "customers": "bought at least once",
        "active_customers": f"bought in the last {days} days",
        "revenue": "all clean purchases",
        "revenue_recent": f"last {days} days",
        "repeat_rate": "bought on 2 or more days",
        "top_share_revenue": f"top {_param(p, 'top_share'):.0%} of customers",
        "satisfaction_index": "survey, 0-100",
        "high_risk_customers": f"current customers, band '{_param(p, 'high_risk_band')}'",
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


# --- segments, tiers, drivers, churn risk, watch list -----------------------------------------


def reading_segments(profiles: pd.DataFrame) -> str:
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
    tiers: pd.DataFrame, lifecycle: pd.DataFrame, watch_stages: Sequence[str]
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


def reading_index_model(satisfaction: Mapping[str, Any] | None,
                        sources: Mapping[str, str] | None = None) -> str:
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


def reading_watch(watch: pd.DataFrame, params: Mapping[str, Any] | None = None,
                  currency: str = "") -> str:
    """One sentence on the watch list: how many, how much they spent, what to do."""
    require_columns(watch, ["customer_id"], "watch list")
    tiers = "/".join(_param(params, "watch_tiers"))
    stages = "/".join(_param(params, "watch_stages"))
    if watch.empty:
        return f"No {tiers}-tier customer is '{stages}' today: nobody to chase this run."
    spent = ""
    if "total_spend" in watch.columns:
        spent = f", who have spent {_money(float(watch['total_spend'].sum()), currency)} so far"
    return (
        f"{len(watch):,} {tiers}-tier customers are '{stages}'{spent}: give the list to the "
        "account team and call the biggest spenders first."
    )


def churn_lists_line(sources: Mapping[str, str] | None) -> str:
    """Name the data sets of the two retention lists, and warn when they differ."""
    sources = _mapping(sources, "data sources")
    return (
        f"*Data sets — churn-risk bands: {source_note(sources, 'churn') or 'no churn table'}; "
        f"watch list: {source_note(sources, 'transactions') or 'no purchases'}. "
        + ("Two lists from two different data sets: their customers are not the same people, and "
           "their counts are not to be added.*" if len(set(sources.values())) > 1 else "*")
    )


def reading_risk_bands(high_risk_customers: Any, band: str) -> str:
    """Introduce the churn-risk band table: how many are at high risk, and how to read it."""
    return (
        f"{format_kpi('high_risk_customers', high_risk_customers)} current customers "
        f"are in the '{band}' band (customers who already left are the 'churned' "
        "row: they evaluate the model, nobody calls them); the table shows how often each band "
        "actually left in the held-out test data — the check that the bands mean what they say."
    )


# --- since the last run -----------------------------------------------------------------------


def first_run_note(run_name: str) -> str:
    """Say that the first run with a report has nothing to compare with yet."""
    return (
        f"This is the first successful run of **{run_name}** with a report: there is nothing "
        "to compare with yet. From the next run on this section shows KPI changes, tier moves, "
        "new watch-list entries and input drift."
    )


def compared_with(previous_id: str, observation_end: str | None) -> str:
    """Name the previous run the changes are measured against, and its data's date."""
    return (f"Compared with run **{previous_id}** (data observed at "
            f"{observation_end or 'unknown'}).")


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


def moved_down_summary(moved_down: int, new_on_watch: int) -> str:
    """Count the customers who moved down a tier and those new on the watch list."""
    return (
        f"**{moved_down:,} customers moved down a tier** (largest former spenders first) and "
        f"**{new_on_watch:,} are new on the watch list**; both full lists are in `tables/`."
    )


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


def trend_count(runs_with_report: int, history_runs: int) -> str:
    """Say how many runs the trend chart draws (runs without the report stage are left out).

    ``history_runs`` counts the successful runs before this one, with or without a report.
    """
    return (
        f"{runs_with_report} runs with a report so far ({history_runs + 1 - runs_with_report} "
        "successful runs without the report stage are not drawn); each panel is one headline number."
    )


# --- what to do ---------------------------------------------------------------------------------


def next_steps(
    kpis: Mapping[str, Any],
    new_watch: int | None = None,
    drivers: pd.DataFrame | None = None,
    drift: pd.DataFrame | None = None,
    missing: Mapping[str, str] | None = None,
    sources: Mapping[str, str] | None = None,
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
