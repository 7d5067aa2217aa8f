"""Every sentence of the report's interactions section (kept apart: narrative.py is full).

Each function words numbers read from ``interaction_metrics.json`` by
:mod:`crmlab.report.interactions`; nothing here computes a result. Values that come from
the user's files (channel and campaign names) are HTML-escaped before they enter a
sentence, like every other value the report shows.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from crmlab.i18n import EN, Catalog
from crmlab.report._values import _money, _num
from crmlab.report._values import _pct as _pct_en

__all__ = ["INTERACTIONS_NOT_RUN", "interactions_not_run", "interactions_source_line", "interaction_card_notes", "format_interaction_kpi",
           "reading_channels", "reading_complaints", "reading_sentiment", "reading_campaign",
           "reading_profitability"]

INTERACTIONS_NOT_RUN = ("*Not available in this run — the **interactions** stage did not run "
                        "(no `interactions:` section in the params, or its products were not found).*")
X = "report.ix."


def interactions_not_run(tr: Catalog = EN) -> str:
    """Say that the interactions section is empty (:data:`INTERACTIONS_NOT_RUN` in ``tr``'s language)."""
    return tr(X + "not_run")


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _pct(x: float | None, digits: int = 0, tr: Catalog = EN) -> str:
    return tr("report.na") if x is None else _pct_en(x, digits)


def _pp(x: float | None, tr: Catalog = EN) -> str:
    """Format a difference of shares in percentage points, signed."""
    return tr("report.na") if x is None else tr(X + "pp", value=100 * x)


def interactions_source_line(sources: Sequence[str], simulated: bool, tr: Catalog = EN) -> str:
    """Name the data sets behind the section in italics, and say when the log is simulated."""
    names = tr("report.sep.comma").join(_esc(tr.name("source", s)) for s in sources) or "interaction_metrics.json"
    sim = tr(X + "simulated") if simulated else ""
    return tr(X + "source_line", names=names) + sim


def format_interaction_kpi(name: str, kpis: Mapping[str, Any], tr: Catalog = EN) -> str:
    """Format the card value of one interaction KPI (``n/a`` when missing)."""
    v = _num(kpis.get(name))
    if v is None:
        return tr("report.na")
    if name == "complaints_per_1000":
        return f"{v:,.1f}"
    if name == "sentiment_mean":
        return f"{v:.2f}"
    if name == "campaign_uplift":
        return _pp(v, tr)
    return _pct(v, 1, tr)


def interaction_card_notes(kpis: Mapping[str, Any], window_days: Any, simulated: bool,
                           tr: Catalog = EN) -> dict[str, str]:
    """Word the small line under each interaction card: how it is measured, the interval, caveats."""
    lo, hi = _num(kpis.get("campaign_low")), _num(kpis.get("campaign_high"))
    ci = (tr(X + "card.ci", low=_pp(lo, tr), high=_pp(hi, tr)) if lo is not None and hi is not None
          else tr(X + "card.not_estimable"))
    return {
        "complaints_per_1000": tr(X + "card.complaints"),
        "sentiment_mean": tr(X + "card.sentiment")
        + (tr(X + "card.window", days=int(window_days)) if window_days else ""),
        "campaign_uplift": ci + (tr(X + "card.placebo") if simulated else ""),
        "value_destroyers_share": tr(X + "card.destroyers"),
    }


def _group_value(by: str | None, value: Any, tr: Catalog) -> str:
    kinds = {"value_tier": "tier", "rfm_segment": "segment", "lifecycle_stage": "lifecycle", "group": "group",
             "contact_type": "contact_type"}
    return tr.name(kinds[by], value) if by in kinds else str(value)


def _channel(name: Any, tr: Catalog) -> str:
    key = f"report.col.{name}"
    return tr(key) if tr.has(key) else str(name)


def reading_channels(shares: pd.DataFrame | None, by: str | None, tr: Catalog = EN) -> str:
    """Which channel carries most contacts, per group of ``by`` (``channels.shares``)."""
    if shares is None or shares.empty:
        return tr(X + "no_channels")
    group_col = by if by in shares.columns else shares.columns[0]
    channels = [c for c in shares.columns if c != group_col]
    if not channels:
        return tr(X + "no_channels")
    parts = []
    for _, row in shares.iterrows():
        vals = pd.to_numeric(row[channels], errors="coerce")
        if vals.notna().any():
            top = vals.idxmax()
            parts.append(tr(X + "channel_part", group=_esc(_group_value(group_col, row[group_col], tr)),
                            channel=_esc(_channel(top, tr)), share=_pct(float(vals[top]), tr=tr)))
    by_key = f"report.ix.by.{by or group_col}"
    what = _esc(tr(by_key) if tr.has(by_key) else str(by or group_col).replace("_", " "))
    return tr(X + "channels", what=what, parts=tr("report.sep.semicolon").join(parts))


def reading_complaints(doc: Mapping[str, Any], tr: Catalog = EN) -> str:
    """Complaint rate, its monthly trend with interval, and the complained → lapse difference."""
    sec = doc.get("complaints") or {}
    rate = _num((doc.get("kpis") or {}).get("complaints_per_1000_last_month"))
    if not sec and rate is None:
        return tr(X + "no_complaints")
    out = [tr(X + "complaints", rate=rate) if rate is not None else tr(X + "complaints_no_month")]
    trend = sec.get("trend") or {}
    ch, lo, hi = (_num(trend.get(k)) for k in ("monthly_change", "low", "high"))
    if ch is not None and lo is not None and hi is not None:
        verdict = tr(X + ("rising" if lo > 0 else "falling" if hi < 0 else "no_trend"))
        out.append(tr(X + "trend", change=ch, low=lo, high=hi, verdict=verdict))
    diff = (sec.get("lapse") or {}).get("difference") or {}
    d, dl, dh = (_num(diff.get(k)) for k in ("diff", "low", "high"))
    if d is not None and dl is not None and dh is not None:
        clear = tr(X + ("real_difference" if dl > 0 or dh < 0 else "no_difference"))
        way = "more" if d >= 0 else "less"  # "-11.3 pp more often" would read backwards
        out.append(tr(X + f"lapse_{way}", abs=100 * abs(d), diff=_pp(d, tr), low=_pp(dl, tr), high=_pp(dh, tr),
                      clear=clear))
    return "".join(out) + tr("report.sep.end")


def reading_sentiment(kpis: Mapping[str, Any], accuracy: pd.DataFrame | None, tr: Catalog = EN) -> str:
    """Mean sentiment, and how accurate the scoring method is on held-out labelled texts."""
    mean = _num(kpis.get("sentiment_mean"))
    head = (tr(X + "sentiment", mean=mean) if mean is not None else tr(X + "sentiment_none"))
    if accuracy is None or accuracy.empty:
        return head + tr(X + "accuracy_none")
    parts = []
    for _, r in accuracy.iterrows():
        acc = _num(r.get("accuracy"))
        if acc is None:
            continue
        ci = (tr(X + "accuracy_ci", low=_pct(_num(r["ci_low"]), 1, tr), high=_pct(_num(r["ci_high"]), 1, tr))
              if _num(r.get("ci_low")) is not None and _num(r.get("ci_high")) is not None else "")
        n = _num(r.get("held_out_texts"))
        texts = tr(X + "held_out", n=n) if n is not None else ""
        lang_key = f"report.text_language.{r['language']}"
        lang = tr(lang_key) if tr.has(lang_key) else r["language"]
        parts.append(tr(X + "accuracy_part", language=_esc(lang), method=_esc(tr.name("method", r["method"])),
                        accuracy=_pct(acc, 1, tr), texts=texts, ci=ci))
    return head + tr(X + "accuracy", parts=tr("report.sep.semicolon").join(parts))


def reading_campaign(doc: Mapping[str, Any], simulated: bool, currency: str = "", tr: Catalog = EN) -> str:
    """Word the campaign's effect with its interval, or why it cannot be estimated; the placebo caveat."""
    c = doc.get("campaign") or {}
    if not c:
        return tr(X + "no_campaign")
    name = _esc(c.get("name") or tr(X + "campaign_default"))
    if not c.get("estimable"):
        why = _esc(str(c.get("reason") or tr(X + "no_control")).replace("_", " "))
        return tr(X + "not_estimable", name=name, why=why)
    conv = c.get("conversion") or {}
    d, lo, hi = (_num(conv.get(k)) for k in ("diff", "low", "high"))
    rev = c.get("incremental_revenue") or {}
    text = tr(X + "campaign", name=name, days=c.get("window_days"), diff=_pp(d, tr), low=_pp(lo, tr),
              high=_pp(hi, tr), n_treatment=c.get("n_treatment", 0), n_control=c.get("n_control", 0))
    if _num(rev.get("value")) is not None:
        text += tr(X + "incremental", value=_money(_num(rev.get("value")), currency),
                   low=_money(_num(rev.get("low")), currency), high=_money(_num(rev.get("high")), currency))
    covers = lo is not None and hi is not None and lo <= 0 <= hi
    text += tr(X + "covers_zero") if covers else tr("report.sep.end")
    if simulated:
        text += tr(X + "placebo")
    return text


def reading_profitability(doc: Mapping[str, Any], currency: str = "", tr: Catalog = EN) -> str:
    """Total profit, the whale curve's peak and the value destroyers."""
    p = doc.get("profitability") or {}
    if not p:
        return tr(X + "no_profitability")
    total, peak, at = (_num(p.get(k)) for k in ("total_profit", "peak_share", "peak_at"))
    out = tr(X + "profitability")
    if total is not None:
        out += tr(X + "total_profit", total=_money(total, currency))
        if peak is not None and at is not None:
            out += tr(X + "whale", peak=_pct(peak, tr=tr), at=_pct(at, tr=tr), back=_pct(peak - 1, tr=tr))
        out += tr(X + "profit_end")
    d = (p.get("destroyers") or {}).get("overall") or {}
    share, lost = _num(d.get("share")), _num(d.get("profit_lost"))
    if share is not None:
        out += tr(X + "destroyers", share=_pct(share, 1, tr), n=d.get("destroyers", 0),
                  lost=_money(lost, currency))
    return out.strip()
