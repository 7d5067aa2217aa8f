"""Every sentence the interactions analyses write: takeaways, readings, rules, strategies.

The computing modules return numbers; this module turns them into words a CRM team can
act on, and says what the numbers cannot carry: a difference between groups that were
not randomised (multichannel customers, complainers) is an association, not an effect;
a campaign without a control group has no measurable effect at all.

Values that come from the user's files (channel and segment names) are Markdown-escaped.
Every function takes ``tr`` (a :class:`~crmlab.i18n.Catalog`, English by default): the
words are ``crmlab/locale/<language>/interactions.yaml``'s, data values are shown under
their display names (``tr.name``) while the computed tables keep their codes.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from crmlab.formatting import format_money
from crmlab.i18n import EN, Catalog
from crmlab.interactions.campaign import NOT_ESTIMABLE
from crmlab.interactions.common import group_value, group_word

__all__ = [
    "RULES",
    "TIER_STRATEGIES",
    "POTENTIAL_ACTIONS",
    "cell_strategy",
    "contacts_takeaway",
    "trend_reading",
    "frequency_takeaway",
    "activation_takeaway",
    "channel_mix_takeaway",
    "multichannel_takeaway",
    "migration_takeaway",
    "complaint_rate_takeaway",
    "lapse_takeaway",
    "cannot_estimate",
    "campaign_takeaway",
    "roi_reading",
    "segment_uplift_note",
    "whale_takeaway",
    "destroyers_takeaway",
    "tier_grid_takeaway",
    "sentiment_takeaway",
    "reading_summary",
    "accuracy_takeaway",
    "sentiment_groups_takeaway",
    "repeat_takeaway",
    "placebo_reading",
    "NO_CAMPAIGN",
    "no_campaign",
    "products_summary",
]

_RULE_KEYS = ("frequency", "activation", "main_channel", "active", "lapse", "campaign", "profit", "loyalty", "potential")
_TIERS = ("high", "medium", "low")


def rules(tr: Catalog = EN) -> dict[str, str]:
    """Return the rules each analysis follows, for the notebook's method notes and the report."""
    return {k: tr(f"interactions.rules.{k}") for k in _RULE_KEYS}


# The rules in English (kept for callers of the constant; :func:`rules` gives any language).
RULES = rules()

# value tier -> loyalty tier -> action; the potential adds its own clause (POTENTIAL_ACTIONS)
TIER_STRATEGIES = {v: {lo: EN(f"interactions.strategy.{v}.{lo}") for lo in _TIERS} for v in _TIERS}
POTENTIAL_ACTIONS = {p: EN(f"interactions.potential_action.{p}") for p in ("high", "medium", "low", "unknown")}


def _md(text: Any) -> str:
    """Escape Markdown in a value from the user's data (a channel called ``*web*``)."""
    return re.sub(r"([\\`*_\[\]#|<>~])", r"\\\1", str(text))


def _nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _pct(x: float, digits: int = 0, tr: Catalog = EN) -> str:
    return tr("interactions.na") if _nan(x) else f"{x:.{digits}%}"


def _pp(x: float, tr: Catalog = EN) -> str:
    """Write a difference of proportions in percentage points."""
    return tr("interactions.na") if x is None or math.isnan(x) else tr("interactions.pp", v=100 * x)


def _ci_pp(d: dict, tr: Catalog = EN) -> str:
    if d["low"] is None or math.isnan(d["low"]):
        return tr("interactions.ci.none")
    return tr("interactions.ci.pp", low=100 * d["low"], high=100 * d["high"])


def _ci_money(low: float, high: float, currency: str, digits: int = 0, tr: Catalog = EN) -> str:
    if low is None or math.isnan(low):
        return tr("interactions.ci.none")
    return tr("interactions.ci.money", low=format_money(low, currency, digits), high=format_money(high, currency, digits))


def _verdict(low: float, high: float, tr: Catalog = EN) -> str:
    if low is None or math.isnan(low):
        return tr("interactions.verdict.none")
    if low > 0:
        return tr("interactions.verdict.positive")
    if high < 0:
        return tr("interactions.verdict.negative")
    return tr("interactions.verdict.zero")


def _month(ts: Any, tr: Catalog) -> str:
    return pd.Timestamp(ts).strftime(tr("interactions.fmt.month"))


def _channel(value: Any, tr: Catalog) -> str:
    return _md(tr.name("channel", value))


def cell_strategy(value_tier: str, loyalty_tier: str, potential: str, tr: Catalog = EN) -> str:
    """Return the action for one cell of the tier grid (value x loyalty, then potential)."""
    key = f"interactions.strategy.{value_tier}.{loyalty_tier}"
    if str(value_tier) not in _TIERS or str(loyalty_tier) not in _TIERS:
        key = "interactions.strategy.fallback"
    base = tr(key)
    pkey = f"interactions.potential_action.{potential}"
    extra = tr(pkey) if tr.has(pkey) else ""
    return tr("interactions.strategy.join", base=base, extra=extra).strip()


def contacts_takeaway(monthly: pd.DataFrame, tr: Catalog = EN) -> str:
    """One sentence on contacts per month (:func:`~crmlab.interactions.frequency.contacts_per_month`)."""
    if monthly.empty:
        return tr("interactions.contacts.empty")
    peak = monthly.loc[monthly["contacts"].idxmax()]
    mean = monthly["contacts"].mean()
    per = monthly["per_customer"].mean()
    base = tr("interactions.contacts.per_customer", per=per) if not math.isnan(per) else ""
    return tr("interactions.contacts.main", mean=mean, months=len(monthly), base=base,
              peak=_month(peak["month"], tr), n=int(peak["contacts"]))


def trend_reading(overall: dict, tr: Catalog = EN) -> str:
    """Compare the recent window with the one before (``ContactTrend.overall``)."""
    w = overall["window_days"]
    rel = overall["relative_change"]
    change = tr("interactions.trend.change", rel=rel) if not math.isnan(rel) else ""
    ci = ("" if math.isnan(overall["low"]) else
          tr("interactions.trend.ci", mean_change=overall["mean_change"], low=overall["low"], high=overall["high"],
             verdict=_verdict(overall["low"], overall["high"], tr)))
    return tr("interactions.trend.main", w=w, recent=overall["recent"], previous=overall["previous"],
              change=change, ci=ci, up=overall["up"], down=overall["down"])


def frequency_takeaway(groups: pd.DataFrame, threshold: float, tr: Catalog = EN) -> str:
    """Sizes of the frequency groups and the threshold behind them."""
    n = groups["frequency_group"].value_counts()
    total = max(len(groups), 1)
    return tr("interactions.frequency.main", high=n.get("high", 0) / total, threshold=threshold,
              low=n.get("low", 0) / total, none=n.get("none", 0) / total)


def activation_takeaway(candidates: pd.DataFrame, high_tier_customers: int, tr: Catalog = EN) -> str:
    """How many high-value customers are rarely in touch."""
    n = len(candidates)
    if n == 0:
        return tr("interactions.activation.none")
    share = tr("interactions.activation.share", share=n / high_tier_customers) if high_tier_customers else ""
    return tr("interactions.activation.main", n=n, share=share)


def channel_mix_takeaway(mix: Any, tr: Catalog = EN) -> str:
    """Name the main channel of each group, and where the mix differs most (``ChannelMix``)."""
    s = mix.shares.dropna(how="all")
    if s.empty:
        return tr("interactions.mix.empty")
    top = s.idxmax(axis=1)
    parts = [tr("interactions.mix.part", group=_md(group_value(mix.by, g, tr)), channel=_channel(top[g], tr),
                share=s.loc[g, top[g]]) for g in s.index]
    spread = (s.max() - s.min()).sort_values(ascending=False)
    word = group_word(mix.by, tr)
    tail = (tr("interactions.mix.tail", channel=_channel(spread.index[0], tr), pp=spread.iloc[0] * 100)
            if len(s) > 1 else "")
    return tr("interactions.mix.main", word=word, parts=tr("interactions.mix.sep").join(parts), tail=tail)


def multichannel_takeaway(ms: Any, currency: str = "", tr: Catalog = EN) -> str:
    """Multichannel against single-channel spend, with the Welch interval and the caveat."""
    d = ms.difference
    t = ms.table.set_index("group")
    if d["n1"] == 0 or d["n2"] == 0:
        return tr("interactions.multichannel.empty")
    return tr("interactions.multichannel.main", share=t.loc["multichannel", "share"],
              mean1=format_money(d["mean1"], currency), mean2=format_money(d["mean2"], currency),
              diff=format_money(d["diff"], currency), ci=_ci_money(d["low"], d["high"], currency, tr=tr),
              verdict=_verdict(d["low"], d["high"], tr))


def migration_takeaway(mig: Any, tr: Catalog = EN) -> str:
    """How many kept their main channel between the two dates (``ChannelMigration``)."""
    c = mig.counts
    if c.to_numpy().sum() == 0:
        return tr("interactions.migration.empty")
    moved = {(a, b): int(c.loc[a, b]) for a in c.index for b in c.columns
             if a != b and "none" not in (a, b) and c.loc[a, b] > 0}
    top = max(moved, key=moved.get) if moved else None
    move = (tr("interactions.migration.move", source=_channel(top[0], tr), target=_channel(top[1], tr), n=moved[top])
            if top else "")
    stayed = "" if math.isnan(mig.stayed) else tr("interactions.migration.stayed", stayed=mig.stayed)
    return tr("interactions.migration.main", start=f"{mig.start:%Y-%m-%d}", end=f"{mig.end:%Y-%m-%d}",
              w=mig.window_days, stayed=stayed, move=move).strip()


def complaint_rate_takeaway(rates: pd.DataFrame, trend: dict, tr: Catalog = EN) -> str:
    """Report the complaint rate per 1,000 active customers and its monthly trend."""
    done = rates[~rates["partial"].astype(bool)]
    if done.empty:
        return tr("interactions.complaint_rate.empty")
    last = done.iloc[-1]
    text = tr("interactions.complaint_rate.main", month=_month(last["month"], tr), rate=last["rate_per_1000"],
              months=len(done), mean=done["rate_per_1000"].mean())
    if math.isnan(trend["monthly_change"]):
        return text + tr("interactions.complaint_rate.no_trend")
    return text + tr("interactions.complaint_rate.trend", change=trend["monthly_change"], low=trend["low"],
                     high=trend["high"], verdict=_verdict(trend["low"], trend["high"], tr))


def lapse_takeaway(lapse: Any, tr: Catalog = EN) -> str:
    """Lapse of complainers against the others, with Newcombe's interval (``ComplaintLapse``)."""
    d = lapse.difference
    if d["n1"] == 0 or d["n2"] == 0:
        return tr("interactions.lapse.empty")
    rr = "" if math.isnan(d["ratio"]) else tr("interactions.lapse.rr", ratio=d["ratio"])
    return tr("interactions.lapse.main", n1=d["n1"], days=lapse.period_days, split=f"{lapse.split:%Y-%m-%d}",
              p1=d["p1"], p2=d["p2"], n2=d["n2"], pp=_pp(d["diff"], tr), ci=_ci_pp(d, tr), rr=rr,
              verdict=_verdict(d["low"], d["high"], tr))


def cannot_estimate(effect: Any, tr: Catalog = EN) -> str:
    """Say plainly that a campaign's effect cannot be estimated, and why."""
    key = f"interactions.not_estimable.{effect.reason}"
    why = tr(key) if tr.has(key) else NOT_ESTIMABLE.get(effect.reason, str(effect.reason))
    name = _md(effect.name)
    if effect.reason in ("no_control", "no_group"):
        return tr("interactions.cannot.no_control", name=name, why=why)
    if effect.reason == "window_open":
        return tr("interactions.cannot.window_open", name=name, why=why, w=effect.window_days)
    return tr("interactions.cannot.other", name=name, why=why)


def campaign_takeaway(effect: Any, currency: str = "", tr: Catalog = EN) -> str:
    """Report the campaign's effect on conversion and spend with intervals, or why there is none."""
    if not effect.estimable:
        return cannot_estimate(effect, tr)
    c, s = effect.conversion, effect.spend
    return tr("interactions.campaign.main", name=_md(effect.name), nt=effect.n_treatment, nc=effect.n_control,
              p1=c["p1"], w=effect.window_days, p2=c["p2"], pp=_pp(c["diff"], tr), ci=_ci_pp(c, tr),
              cv=_verdict(c["low"], c["high"], tr), spend=format_money(s["diff"], currency, 2),
              sci=_ci_money(s["low"], s["high"], currency, 2, tr), sv=_verdict(s["low"], s["high"], tr))


def roi_reading(effect: Any, currency: str = "", tr: Catalog = EN) -> str:
    """Incremental revenue and ROI with their intervals."""
    if not effect.estimable:
        return cannot_estimate(effect, tr)
    r = effect.incremental_revenue
    text = tr("interactions.roi.revenue", revenue=format_money(r["value"], currency),
              ci=_ci_money(r["low"], r["high"], currency, tr=tr))
    if effect.roi is None:
        return text + tr("interactions.roi.no_costs")
    roi = effect.roi
    if math.isnan(roi["value"]):
        return text + tr("interactions.roi.free")
    ci = "" if math.isnan(roi["low"]) else tr("interactions.roi.ci", low=roi["low"], high=roi["high"])
    return text + tr("interactions.roi.main", margin=effect.margin, cost=format_money(effect.contact_cost, currency),
                     roi=roi["value"], ci=ci)


def segment_uplift_note(effect: Any, tr: Catalog = EN) -> str:
    """Which segments are too small to read, and the multiple-comparison warning."""
    if not effect.estimable or effect.by_segment is None or effect.by_segment.empty:
        return ""
    seg = effect.by_segment
    column = getattr(effect, "segment_column", None) or "rfm_segment"
    small = [_md(group_value(column, s, tr)) for s in seg.loc[seg["small"], "segment"]]
    note = tr("interactions.uplift.note", n=len(seg))
    if small:
        note += tr("interactions.uplift.small", names=tr("common.list_sep").join(small))
    return note


def whale_takeaway(whale: Any, currency: str = "", tr: Catalog = EN) -> str:
    """Read the whale curve's peak (``WhaleCurve``)."""
    if whale.total_profit <= 0:
        return tr("interactions.whale.loss", total=format_money(whale.total_profit, currency), at=whale.peak_at,
                  peak=format_money(whale.peak_profit, currency))
    return tr("interactions.whale.main", at=whale.peak_at, share=whale.peak_share,
              peak=format_money(whale.peak_profit, currency), total=format_money(whale.total_profit, currency))


def destroyers_takeaway(overall: dict, by: pd.DataFrame, currency: str = "", tr: Catalog = EN,
                        column: str | None = None) -> str:
    """Who destroys value: count, share, profit lost, and where they concentrate.

    ``column`` is the customers column ``by`` groups on (``value_tier``), for the groups' display names.
    """
    if overall["destroyers"] == 0:
        return tr("interactions.destroyers.none")
    worst = by.sort_values("destroyer_share", ascending=False).iloc[0] if len(by) else None
    where = (tr("interactions.destroyers.where", group=_md(group_value(column, worst["group"], tr)),
                share=worst["destroyer_share"]) if worst is not None else "")
    return tr("interactions.destroyers.main", n=overall["destroyers"], share=overall["share"],
              lost=format_money(-overall["profit_lost"], currency),
              dm=format_money(overall["destroyer_mean_revenue"], currency),
              om=format_money(overall["other_mean_revenue"], currency),
              dc=overall["destroyer_mean_contacts"], oc=overall["other_mean_contacts"], where=where)


def tier_grid_takeaway(grid: pd.DataFrame, tr: Catalog = EN) -> str:
    """Name the largest cell of the tier grid and count the high-value, low-loyalty customers."""
    if grid["customers"].sum() == 0:
        return tr("interactions.grid.empty")
    top = grid.loc[grid["customers"].idxmax()]
    risk = grid[(grid["value_tier"] == "high") & (grid["loyalty_tier"] == "low")]["customers"].sum()
    pot = "" if set(grid["potential"]) != {"unknown"} else tr("interactions.grid.unknown")
    return tr("interactions.grid.main", value=tr.name("tier", top["value_tier"]),
              loyalty=tr.name("tier", top["loyalty_tier"]), potential=tr.name("tier", top["potential"]),
              share=top["share"], risk=int(risk), unknown=pot)


def sentiment_takeaway(monthly: pd.DataFrame, tr: Catalog = EN) -> str:
    """Mean feedback sentiment per month: the level and the latest month against the first."""
    if monthly.empty:
        return tr("interactions.sentiment.empty")
    first, last = monthly.iloc[0], monthly.iloc[-1]
    overall = (monthly["mean"] * monthly["texts"]).sum() / monthly["texts"].sum()
    return tr("interactions.sentiment.main", overall=overall, n=int(monthly["texts"].sum()), first=first["mean"],
              first_month=_month(first["month"], tr), last=last["mean"], last_month=_month(last["month"], tr))


# --- the stage notebook: reading, sentiment accuracy, sentiment readings, products ----------


def _reason(code: str, tr: Catalog) -> str:
    key = f"interactions.reason.{code}"
    return tr(key) if tr.has(key) else code.replace("_", " ")


def reading_summary(report: dict, source: str, tr: Catalog = EN) -> str:
    """Say what the reader did with the log: rows kept and set aside (by reason), texts masked."""
    why = tr("common.list_sep").join(tr("interactions.reading.reason_count", reason=_reason(k, tr), n=v)
                                     for k, v in report["by_reason"].items() if v)
    masked = report["repairs"].get("text_contacts_masked", 0)
    name = str(source).replace("\\", "/").rsplit("/", 1)[-1]  # a file's name, never the folders above it
    return tr("interactions.reading.main", name=_md(name), rows_in=report["rows_in"], clean=report["rows_clean"],
              customers=report["customers"], first=report["timestamp_min"][:10], last=report["timestamp_max"][:10],
              quarantined=report["rows_quarantined"], why=tr("interactions.reading.why", why=why) if why else "",
              masked=masked)


def accuracy_takeaway(accuracy: dict, tr: Catalog = EN) -> str:
    """Report the measured accuracy of each sentiment method, with its interval and test size."""
    z = accuracy["chinese"]
    sample = (tr("interactions.accuracy.sample", sampled=z["sampled"])
              if z["sampled"] and z["sampled"] < z["distinct_texts"] else "")
    text = tr("interactions.accuracy.chinese", acc=z["accuracy"], test=z["test_texts"], low=z["ci_low"],
              high=z["ci_high"], train=z["train_texts"], lines=z["lines"], distinct=z["distinct_texts"], sample=sample)
    e = accuracy.get("english")
    if e:
        text += tr("interactions.accuracy.english", acc=e["accuracy"], n=e["n"], low=e["ci_low"], high=e["ci_high"],
                   silent=e["silent"], scored=e["accuracy_when_scored"])
    return text


def sentiment_groups_takeaway(table: pd.DataFrame, by: str, tr: Catalog = EN) -> str:
    """Which group writes the most negative and the most positive feedback."""
    if table.empty:
        return tr("interactions.sentiment.empty")
    low, high = table.iloc[0], table.iloc[-1]
    if len(table) == 1:
        return tr("interactions.groups.one", group=_md(group_value(by, low["group"], tr)), mean=low["mean"])
    overlap = not (math.isnan(low["high"]) or math.isnan(high["low"])) and low["high"] >= high["low"]
    verdict = tr("interactions.groups.overlap") if overlap else tr("interactions.groups.apart")
    return tr("interactions.groups.main", word=group_word(by, tr), low=_md(group_value(by, low["group"], tr)),
              low_mean=low["mean"], low_texts=int(low["texts"]), high=_md(group_value(by, high["group"], tr)),
              high_mean=high["mean"], high_texts=int(high["texts"]), verdict=verdict)


def repeat_takeaway(result: Any, tr: Catalog = EN) -> str:
    """Repeat purchase after negative against positive feedback, with Newcombe's interval."""
    d = result.difference
    split = f"{result.split:%Y-%m-%d}"
    if d["n1"] == 0 or d["n2"] == 0:
        return tr("interactions.repeat.empty", days=result.period_days, split=split)
    return tr("interactions.repeat.main", n1=d["n1"], days=result.period_days, split=split, p1=d["p1"],
              p2=d["p2"], n2=d["n2"], pp=_pp(d["diff"], tr), ci=_ci_pp(d, tr), verdict=_verdict(d["low"], d["high"], tr))


def placebo_reading(effect: Any, tr: Catalog = EN) -> str:
    """Say whether the conversion interval covers zero, and what that means for a placebo."""
    if not effect.estimable:
        return cannot_estimate(effect, tr)
    c = effect.conversion
    if c["low"] is None or math.isnan(c["low"]):
        return tr("interactions.placebo.few")
    if c["low"] <= 0 <= c["high"]:
        return tr("interactions.placebo.covers", ci=_ci_pp(c, tr))
    sp = effect.spend
    spend = ("" if sp["low"] is None or math.isnan(sp["low"]) else
             tr("interactions.placebo.spend_covers") if sp["low"] <= 0 <= sp["high"]
             else tr("interactions.placebo.spend_excludes"))
    return tr("interactions.placebo.excludes", ci=_ci_pp(c, tr), spend=spend)


def no_campaign(tr: Catalog = EN) -> str:
    """Say that the log names no campaign, and what to record to measure one."""
    return tr("interactions.no_campaign")


NO_CAMPAIGN = no_campaign()


def products_summary(features: pd.DataFrame, quarantined: int, window_days: int, tr: Catalog = EN) -> str:
    """Say what the stage wrote for the chain."""
    w = f"{int(window_days)}d"
    contacted = int((features[f"contacts_{w}"] > 0).sum())
    with_text = int(features["sentiment_mean"].notna().sum())
    return (tr("interactions.products.main", n=len(features), contacted=contacted, days=int(window_days),
               scored=with_text, quarantined=quarantined)
            + _backtest_note(features, w, tr))


def _backtest_note(features: pd.DataFrame, w: str, tr: Catalog = EN) -> str:
    if "backtest_as_of" not in features.columns:
        return tr("interactions.products.no_backtest")
    day = pd.Timestamp(features["backtest_as_of"].iloc[0])
    complained = int((features[f"backtest_complaints_{w}"] > 0).sum())
    key = "interactions.products.backtest_one" if complained == 1 else "interactions.products.backtest_other"
    return tr(key, day=f"{day:%Y-%m-%d}", n=complained, days=w[:-1])
