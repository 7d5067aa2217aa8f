"""The report's interactions section: numbers and small tables read from ``interaction_metrics.json``.

The interactions stage writes ``interaction_metrics.json``
(:func:`crmlab.interactions.features.summary_json`): KPIs and one section per analysis,
each with its ``source``. This module only *reads* that document -- it never recomputes
the stage's analyses -- and returns plain numbers and DataFrames for the report's cards,
sentences (:mod:`crmlab.report.narrative_interactions`) and tables (:mod:`crmlab.report.html`).
A missing section gives None, never an error: the stage may have had no text, no campaign
or no costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from crmlab.errors import InputError
from crmlab.i18n import EN, Catalog
from crmlab.report._values import _num

__all__ = ["DEMO_LOG_FOLDER", "INTERACTION_KPIS", "interaction_kpi_label", "interaction_kpis", "is_simulated",
           "sentiment_accuracy_table", "channel_share_table", "complaint_monthly", "interaction_sources"]

# The shipped simulated log lives here (data/raw/interactions/README.md): a run on it gets
# the placebo caveat on its campaign.
DEMO_LOG_FOLDER = "data/raw/interactions"


def interaction_kpi_label(name: str, tr: Catalog = EN) -> str:
    """Return the card label of an interactions KPI in the language of ``tr`` (``report.ix_kpi.<name>``)."""
    return tr(f"report.ix_kpi.{name}")


# card name -> label (English; :func:`interaction_kpi_label` in any language), in the order the cards are shown
INTERACTION_KPIS = {
    "complaints_per_1000": "Complaints per 1,000 active customers (last full month)",
    "sentiment_mean": "Mean feedback sentiment (0 = negative, 1 = positive)",
    "campaign_uplift": "Campaign uplift in conversion (treatment − control)",
    "value_destroyers_share": "Share of customers who destroy value",
}


def _doc(doc: Any) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping):
        raise InputError(f"interactions report: expected the interaction_metrics.json document, got {type(doc).__name__}")
    return doc


def _section(doc: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    sec = doc.get(name)
    return sec if isinstance(sec, Mapping) else {}


def interaction_kpis(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Read the four headline numbers of the interactions stage (None where the stage has none).

    ``complaints_per_1000`` (last complete month), ``sentiment_mean`` (``kpis.sentiment_mean``
    when the stage wrote it, else the text-weighted mean of the monthly sentiment),
    ``campaign_uplift`` with ``campaign_low`` / ``campaign_high`` (the 95% interval of the
    conversion difference; None when the campaign is not estimable), and
    ``value_destroyers_share``.

    Raises
    ------
    InputError
        When ``doc`` is not a mapping.
    """
    doc = _doc(doc)
    k = _section(doc, "kpis")
    sentiment = _num(k.get("sentiment_mean"))
    if sentiment is None:
        monthly = pd.DataFrame(_section(doc, "sentiment").get("monthly") or [])
        if {"texts", "mean"} <= set(monthly.columns):
            m = monthly.dropna(subset=["mean"])
            w = pd.to_numeric(m["texts"], errors="coerce").fillna(0)
            sentiment = float((m["mean"] * w).sum() / w.sum()) if w.sum() > 0 else None
    camp = _section(doc, "campaign")
    conv = camp.get("conversion") if camp.get("estimable") else None
    conv = conv if isinstance(conv, Mapping) else {}
    destroyers = _section(_section(doc, "profitability"), "destroyers").get("overall") or {}
    share = _num(k.get("value_destroyers_share"))
    return {
        "complaints_per_1000": _num(k.get("complaints_per_1000_last_month")),
        "sentiment_mean": sentiment,
        "campaign_uplift": _num(conv.get("diff")),
        "campaign_low": _num(conv.get("low")),
        "campaign_high": _num(conv.get("high")),
        "value_destroyers_share": share if share is not None else _num(destroyers.get("share")),
    }


def is_simulated(doc: Mapping[str, Any], log_path: Any = None) -> bool:
    """Whether the interaction log is the shipped simulated demo (the campaign is a placebo).

    The document's top-level ``simulated`` decides when present: the stage sets it from the
    log's resolved path (:func:`crmlab.interactions.stage.is_demo_log`), which a substring
    test cannot match. Only for a document without the key (an older run) is the params' log
    path searched for :data:`DEMO_LOG_FOLDER`.
    """
    doc = _doc(doc)
    if doc.get("simulated") is not None:
        return bool(doc["simulated"])
    return log_path is not None and DEMO_LOG_FOLDER in str(log_path).replace("\\", "/")


def sentiment_accuracy_table(doc: Mapping[str, Any]) -> pd.DataFrame | None:
    """One row per language: method, held-out accuracy, its 95% interval, texts scored.

    ``sentiment.accuracy`` is either one ``{"accuracy", "ci_low", "ci_high", ...}`` dict or
    one such dict per language (``{"chinese": {...}, "english": {...}}``). None without it.
    """
    acc = _section(_doc(doc), "sentiment").get("accuracy")
    if not isinstance(acc, Mapping) or not acc:
        return None
    per = {"all texts": acc} if "accuracy" in acc else {k: v for k, v in acc.items() if isinstance(v, Mapping)}
    rows = []
    for lang, a in per.items():
        n = a.get("test_texts", a.get("n"))
        rows.append({"language": str(lang), "method": str(a.get("method", "")),
                     "accuracy": _num(a.get("accuracy")), "ci_low": _num(a.get("ci_low")),
                     "ci_high": _num(a.get("ci_high")), "held_out_texts": _num(n)})
    return pd.DataFrame(rows) if rows else None


def channel_share_table(doc: Mapping[str, Any]) -> pd.DataFrame | None:
    """Channel shares of contacts per group (``channels.shares``), one row per group; None without."""
    ch = _section(_doc(doc), "channels")
    shares = ch.get("shares")
    if not shares:
        return None
    return pd.DataFrame(shares)


def complaint_monthly(doc: Mapping[str, Any]) -> pd.DataFrame | None:
    """Complaint rate per 1,000 active customers per month (``complaints.monthly``); None without."""
    monthly = _section(_doc(doc), "complaints").get("monthly")
    if not monthly:
        return None
    out = pd.DataFrame(monthly)
    if not {"month", "rate_per_1000"} <= set(out.columns):
        return None
    out["month"] = pd.to_datetime(out["month"])
    if "partial" not in out.columns:
        out["partial"] = False
    return out


def interaction_sources(doc: Mapping[str, Any]) -> list[str]:
    """Every data source named by the document's sections, in first-seen order."""
    seen: list[str] = []
    for value in _doc(doc).values():
        if isinstance(value, Mapping):
            for s in value.get("source") or []:
                if str(s) not in seen:
                    seen.append(str(s))
    return seen
