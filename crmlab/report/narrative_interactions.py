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

from crmlab.report._values import _money, _num, _pct

__all__ = ["INTERACTIONS_NOT_RUN", "interactions_source_line", "interaction_card_notes", "format_interaction_kpi",
           "reading_channels", "reading_complaints", "reading_sentiment", "reading_campaign",
           "reading_profitability"]

INTERACTIONS_NOT_RUN = ("*Not available in this run — the **interactions** stage did not run "
                        "(no `interactions:` section in the params, or its products were not found).*")


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _pp(x: float | None) -> str:
    """Format a difference of shares in percentage points, signed."""
    return "n/a" if x is None else f"{100 * x:+.1f} pp"


def interactions_source_line(sources: Sequence[str], simulated: bool) -> str:
    """Name the data sets behind the section in italics, and say when the log is simulated."""
    names = ", ".join(_esc(s) for s in sources) or "interaction_metrics.json"
    sim = (" The interaction log is the **simulated demo** (contacts generated around real "
           "CDNOW purchase days, see `data/raw/interactions/README.md`).") if simulated else ""
    return f"*Data set — interactions: {names}.*{sim}"


def format_interaction_kpi(name: str, kpis: Mapping[str, Any]) -> str:
    """Format the card value of one interaction KPI (``n/a`` when missing)."""
    v = _num(kpis.get(name))
    if v is None:
        return "n/a"
    if name == "complaints_per_1000":
        return f"{v:,.1f}"
    if name == "sentiment_mean":
        return f"{v:.2f}"
    if name == "campaign_uplift":
        return _pp(v)
    return _pct(v, 1)


def interaction_card_notes(kpis: Mapping[str, Any], window_days: Any, simulated: bool) -> dict[str, str]:
    """Word the small line under each interaction card: how it is measured, the interval, caveats."""
    lo, hi = _num(kpis.get("campaign_low")), _num(kpis.get("campaign_high"))
    ci = (f"95% CI {_pp(lo)} to {_pp(hi)}" if lo is not None and hi is not None
          else "not estimable (no randomised control group)")
    return {
        "complaints_per_1000": "complaint contacts per 1,000 customers active in the month",
        "sentiment_mean": "scored feedback texts" + (f", last {int(window_days)} days" if window_days else ""),
        "campaign_uplift": ci + (" — placebo on the simulated demo" if simulated else ""),
        "value_destroyers_share": "profit < 0 after cost to serve and acquisition",
    }


def reading_channels(shares: pd.DataFrame | None, by: str | None) -> str:
    """Which channel carries most contacts, per group of ``by`` (``channels.shares``)."""
    if shares is None or shares.empty:
        return "*No channel mix in this run.*"
    group_col = by if by in shares.columns else shares.columns[0]
    channels = [c for c in shares.columns if c != group_col]
    if not channels:
        return "*No channel mix in this run.*"
    parts = []
    for _, row in shares.iterrows():
        vals = pd.to_numeric(row[channels], errors="coerce")
        if vals.notna().any():
            top = vals.idxmax()
            parts.append(f"{_esc(row[group_col])}: {_esc(top)} ({_pct(float(vals[top]))})")
    what = _esc(str(by or group_col).replace("_", " "))
    return f"**Channels.** The most used channel per {what} — " + "; ".join(parts) + "."


def reading_complaints(doc: Mapping[str, Any]) -> str:
    """Complaint rate, its monthly trend with interval, and the complained → lapse difference."""
    sec = doc.get("complaints") or {}
    rate = _num((doc.get("kpis") or {}).get("complaints_per_1000_last_month"))
    if not sec and rate is None:
        return "*No complaint analysis in this run.*"
    out = [f"**Complaints.** {rate:,.1f} complaints per 1,000 active customers in the last full month"
           if rate is not None else "**Complaints.** No complete month to rate"]
    trend = sec.get("trend") or {}
    ch, lo, hi = (_num(trend.get(k)) for k in ("monthly_change", "low", "high"))
    if ch is not None and lo is not None and hi is not None:
        verdict = "rising" if lo > 0 else "falling" if hi < 0 else "no clear trend"
        out.append(f"; trend {ch:+.1%} a month (95% CI {lo:+.1%} to {hi:+.1%}: {verdict})")
    diff = (sec.get("lapse") or {}).get("difference") or {}
    d, dl, dh = (_num(diff.get(k)) for k in ("diff", "low", "high"))
    if d is not None and dl is not None and dh is not None:
        clear = "a real difference" if dl > 0 or dh < 0 else "not distinguishable from none"
        way = "more" if d >= 0 else "less"  # "-11.3 pp more often" would read backwards
        out.append(f". Customers who complained lapsed {100 * abs(d):.1f} pp {way} often in the "
                   f"following period than those who did not (difference {_pp(d)}, 95% CI "
                   f"{_pp(dl)} to {_pp(dh)}: {clear})")
    return "".join(out) + "."


def reading_sentiment(kpis: Mapping[str, Any], accuracy: pd.DataFrame | None) -> str:
    """Mean sentiment, and how accurate the scoring method is on held-out labelled texts."""
    mean = _num(kpis.get("sentiment_mean"))
    head = (f"**Feedback sentiment.** Mean {mean:.2f} on a 0 (negative) to 1 (positive) scale"
            if mean is not None else "**Feedback sentiment.** No scored text in this run")
    if accuracy is None or accuracy.empty:
        return head + "; the method's accuracy was not reported."
    parts = []
    for _, r in accuracy.iterrows():
        acc = _num(r.get("accuracy"))
        if acc is None:
            continue
        ci = (f", 95% CI {_pct(_num(r['ci_low']), 1)}–{_pct(_num(r['ci_high']), 1)}"
              if _num(r.get("ci_low")) is not None and _num(r.get("ci_high")) is not None else "")
        n = _num(r.get("held_out_texts"))
        texts = f" on {n:,.0f} held-out texts" if n is not None else ""
        parts.append(f"{_esc(r['language'])} ({_esc(r['method'])}): {_pct(acc, 1)}{texts}{ci}")
    return head + ". Measured accuracy — " + "; ".join(parts) + "."


def reading_campaign(doc: Mapping[str, Any], simulated: bool, currency: str = "") -> str:
    """Word the campaign's effect with its interval, or why it cannot be estimated; the placebo caveat."""
    c = doc.get("campaign") or {}
    if not c:
        return "*No campaign in this run.*"
    name = _esc(c.get("name") or "campaign")
    if not c.get("estimable"):
        why = _esc(str(c.get("reason") or "no randomised control group").replace("_", " "))
        return (f"**Campaign “{name}”.** The effect cannot be estimated ({why}): without a randomised "
                "control group there is no counterfactual to compare with.")
    conv = c.get("conversion") or {}
    d, lo, hi = (_num(conv.get(k)) for k in ("diff", "low", "high"))
    rev = c.get("incremental_revenue") or {}
    text = (f"**Campaign “{name}”.** Conversion within {c.get('window_days')} days: treatment minus "
            f"control {_pp(d)} (95% CI {_pp(lo)} to {_pp(hi)}; {c.get('n_treatment', 0):,} vs "
            f"{c.get('n_control', 0):,} customers)")
    if _num(rev.get("value")) is not None:
        text += (f"; incremental revenue {_money(_num(rev.get('value')), currency)} (95% CI "
                 f"{_money(_num(rev.get('low')), currency)} to {_money(_num(rev.get('high')), currency)})")
    covers = lo is not None and hi is not None and lo <= 0 <= hi
    text += ". The interval covers zero: no effect can be claimed." if covers else "."
    if simulated:
        text += (" **Placebo:** on the simulated demo nobody was really contacted — outcomes are real "
                 "CDNOW purchases — so the honest answer is an effect indistinguishable from zero; "
                 "this shows the method, not a campaign result.")
    return text


def reading_profitability(doc: Mapping[str, Any], currency: str = "") -> str:
    """Total profit, the whale curve's peak and the value destroyers."""
    p = doc.get("profitability") or {}
    if not p:
        return "*No profitability analysis in this run.*"
    total, peak, at = (_num(p.get(k)) for k in ("total_profit", "peak_share", "peak_at"))
    out = "**Profitability.** "
    if total is not None:
        out += f"Total profit after cost to serve and acquisition: {_money(total, currency)}"
        if peak is not None and at is not None:
            out += (f"; the whale curve peaks at {_pct(peak)} of it with the most profitable "
                    f"{_pct(at)} of customers — the rest give {_pct(peak - 1)} of it back")
        out += ". "
    d = (p.get("destroyers") or {}).get("overall") or {}
    share, lost = _num(d.get("share")), _num(d.get("profit_lost"))
    if share is not None:
        out += (f"**{_pct(share, 1)} of customers destroy value** ({d.get('destroyers', 0):,} customers, "
                f"{_money(lost, currency)} lost): serve them through cheaper channels before anything else.")
    return out.strip()
