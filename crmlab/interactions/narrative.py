"""Every sentence the interactions analyses write: takeaways, readings, rules, strategies.

The computing modules return numbers; this module turns them into words a CRM team can
act on, and says what the numbers cannot carry: a difference between groups that were
not randomised (multichannel customers, complainers) is an association, not an effect;
a campaign without a control group has no measurable effect at all.

Values that come from the user's files (channel and segment names) are Markdown-escaped.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from crmlab.formatting import format_money
from crmlab.interactions.campaign import NOT_ESTIMABLE
from crmlab.interactions.common import group_word

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
    "products_summary",
]

# The rules each analysis follows, for the notebook's method notes and the report.
RULES = {
    "frequency": "A customer is high-frequency when their contacts in the recent window reach the "
                 "upper quartile of contacted customers (and at least 2); one contact or more below "
                 "that is low-frequency; no contact, none.",
    "activation": "Activation candidates: high value tier, and low or no contact in the recent window.",
    "main_channel": "A customer's main channel at a date is the channel of most contacts in the window "
                    "before it (ties: the most recent, then alphabetical).",
    "active": "Active in a month: made a purchase or a contact that month.",
    "lapse": "Customers who purchased in the period before the split; a lapse is no purchase in the "
             "same length of time after it.",
    "campaign": "Conversion: any purchase in the window after the campaign day (that day excluded); "
                "spend: spend per customer in the window, 0 without a purchase.",
    "profit": "Profit = margin x revenue - contacts x cost per contact of their channel - acquisition cost.",
    "loyalty": "Loyalty points: repeat purchases per year (none 0, below the repeat buyers' median 1, "
               "at or above 2) + complaints (none +1, one 0, more -1) + voice (promoter or rating in "
               "the top third +1, detractor or bottom third -1); high at 3 or more, medium at 2, low below.",
    "potential": "Potential: tertiles of the value stage's predicted value; 'unknown' without a prediction.",
}

# value tier -> loyalty tier -> action; the potential adds its own clause (POTENTIAL_ACTIONS)
TIER_STRATEGIES = {
    "high": {"high": "Retain and reward: VIP service, early access, referral asks.",
             "medium": "Deepen the tie: personal contact, loyalty benefits.",
             "low": "Protect the revenue: fix what irritates them, a personal call now."},
    "medium": {"high": "Grow the basket: cross-sell to loyal regulars.",
               "medium": "Nurture with relevant offers on their own channel.",
               "low": "Win back trust: resolve complaints before any offer."},
    "low": {"high": "Serve cheaply and let them advocate (reviews, referrals).",
            "medium": "Low-cost automated contact; no paid campaigns.",
            "low": "Minimum service; cut the cost to serve, no acquisition spend on look-alikes."},
}
POTENTIAL_ACTIONS = {"high": "Potential is high: invest ahead of the spend.",
                     "medium": "", "low": "Potential is low: keep the cost in line.", "unknown": ""}


def _md(text: Any) -> str:
    """Escape Markdown in a value from the user's data (a channel called ``*web*``)."""
    return re.sub(r"([\\`*_\[\]#|<>~])", r"\\\1", str(text))


def _pct(x: float, digits: int = 0) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}%}"


def _pp(x: float) -> str:
    """Write a difference of proportions in percentage points."""
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:+.1f} pp"


def _ci_pp(d: dict) -> str:
    if d["low"] is None or math.isnan(d["low"]):
        return "no interval (too few customers)"
    return f"95% CI {100 * d['low']:+.1f} to {100 * d['high']:+.1f} pp"


def _ci_money(low: float, high: float, currency: str, digits: int = 0) -> str:
    if low is None or math.isnan(low):
        return "no interval (too few customers)"
    return f"95% CI {format_money(low, currency, digits)} to {format_money(high, currency, digits)}"


def _verdict(low: float, high: float) -> str:
    if low is None or math.isnan(low):
        return "cannot be judged"
    if low > 0:
        return "is positive"
    if high < 0:
        return "is negative"
    return "is indistinguishable from zero"


def cell_strategy(value_tier: str, loyalty_tier: str, potential: str) -> str:
    """Return the action for one cell of the tier grid (value x loyalty, then potential)."""
    base = TIER_STRATEGIES.get(str(value_tier), {}).get(str(loyalty_tier), "Review this group by hand.")
    extra = POTENTIAL_ACTIONS.get(str(potential), "")
    return f"{base} {extra}".strip()


def contacts_takeaway(monthly: pd.DataFrame) -> str:
    """One sentence on contacts per month (:func:`~crmlab.interactions.frequency.contacts_per_month`)."""
    if monthly.empty:
        return "The log holds no contact."
    peak = monthly.loc[monthly["contacts"].idxmax()]
    mean = monthly["contacts"].mean()
    per = monthly["per_customer"].mean()
    base = f", {per:.2f} per customer of the base" if not math.isnan(per) else ""
    return (f"Customers made {mean:,.0f} contacts a month on average over {len(monthly)} months{base}; "
            f"the busiest month was {peak['month']:%B %Y} with {int(peak['contacts']):,}.")


def trend_reading(overall: dict) -> str:
    """Compare the recent window with the one before (``ContactTrend.overall``)."""
    w = overall["window_days"]
    rel = overall["relative_change"]
    change = f" ({rel:+.0%})" if not math.isnan(rel) else ""
    ci = ("" if math.isnan(overall["low"]) else
          f"; per customer {overall['mean_change']:+.2f} contacts (95% CI {overall['low']:+.2f} to "
          f"{overall['high']:+.2f}), which {_verdict(overall['low'], overall['high'])}")
    return (f"Contacts in the last {w} days: {overall['recent']:,}, against {overall['previous']:,} in the "
            f"{w} days before{change}{ci}. {overall['up']:,} customers got in touch more, "
            f"{overall['down']:,} less.")


def frequency_takeaway(groups: pd.DataFrame, threshold: float) -> str:
    """Sizes of the frequency groups and the threshold behind them."""
    n = groups["frequency_group"].value_counts()
    total = max(len(groups), 1)
    return (f"{n.get('high', 0) / total:.0%} of customers are high-frequency ({threshold:.0f}+ contacts "
            f"in the window), {n.get('low', 0) / total:.0%} low, and {n.get('none', 0) / total:.0%} "
            "made no contact.")


def activation_takeaway(candidates: pd.DataFrame, high_tier_customers: int) -> str:
    """How many high-value customers are rarely in touch."""
    n = len(candidates)
    if n == 0:
        return "Every high-value customer was in frequent contact in the recent window: no activation candidates."
    share = f" ({n / high_tier_customers:.0%} of the high tier)" if high_tier_customers else ""
    return (f"{n:,} high-value customers{share} made little or no contact in the recent window: "
            "activation candidates for a personal touch before they drift.")


def channel_mix_takeaway(mix: Any) -> str:
    """Name the main channel of each group, and where the mix differs most (``ChannelMix``)."""
    s = mix.shares.dropna(how="all")
    if s.empty:
        return "No contact to describe a channel mix."
    top = s.idxmax(axis=1)
    parts = [f"{_md(g)}: {_md(top[g])} {s.loc[g, top[g]]:.0%}" for g in s.index]
    spread = (s.max() - s.min()).sort_values(ascending=False)
    word = group_word(mix.by)
    tail = (f" The {_md(spread.index[0])} share differs most between groups ({spread.iloc[0] * 100:.0f} pp)."
            if len(s) > 1 else "")
    return f"Main channel by {word} — " + "; ".join(parts) + "." + tail


def multichannel_takeaway(ms: Any, currency: str = "") -> str:
    """Multichannel against single-channel spend, with the Welch interval and the caveat."""
    d = ms.difference
    t = ms.table.set_index("group")
    if d["n1"] == 0 or d["n2"] == 0:
        return "All contacted customers used the same number of channels; there is nothing to compare."
    return (f"{t.loc['multichannel', 'share']:.0%} of contacted customers use two or more channels. They "
            f"spent {format_money(d['mean1'], currency)} on average against {format_money(d['mean2'], currency)} "
            f"for single-channel customers: a difference of {format_money(d['diff'], currency)} "
            f"({_ci_money(d['low'], d['high'], currency)}, Welch), which {_verdict(d['low'], d['high'])}. "
            "An association, not an effect: customers who buy more have more reasons to get in touch.")


def migration_takeaway(mig: Any) -> str:
    """How many kept their main channel between the two dates (``ChannelMigration``)."""
    c = mig.counts
    if c.to_numpy().sum() == 0:
        return "No customer had a contact in either window; there is no migration to show."
    moved = {(a, b): int(c.loc[a, b]) for a in c.index for b in c.columns
             if a != b and "none" not in (a, b) and c.loc[a, b] > 0}
    top = max(moved, key=moved.get) if moved else None
    move = f" The largest move: {_md(top[0])} → {_md(top[1])} ({moved[top]:,} customers)." if top else ""
    stayed = "" if math.isnan(mig.stayed) else f"{mig.stayed:.0%} of customers in touch at both dates kept their main channel."
    return (f"Main channel on {mig.start:%Y-%m-%d} against {mig.end:%Y-%m-%d} ({mig.window_days}-day "
            f"windows): {stayed}{move}").strip()


def complaint_rate_takeaway(rates: pd.DataFrame, trend: dict) -> str:
    """Report the complaint rate per 1,000 active customers and its monthly trend."""
    done = rates[~rates["partial"].astype(bool)]
    if done.empty:
        return "No complete month to compute a complaint rate."
    last = done.iloc[-1]
    text = (f"In {last['month']:%B %Y}, {last['rate_per_1000']:.1f} complaints per 1,000 active customers "
            f"(mean over {len(done)} months: {done['rate_per_1000'].mean():.1f}).")
    if math.isnan(trend["monthly_change"]):
        return text + " Too few months or complaints to estimate a trend."
    return (text + f" The rate changes by {trend['monthly_change']:+.1%} a month (95% CI "
            f"{trend['low']:+.1%} to {trend['high']:+.1%}), which {_verdict(trend['low'], trend['high'])}.")


def lapse_takeaway(lapse: Any) -> str:
    """Lapse of complainers against the others, with Newcombe's interval (``ComplaintLapse``)."""
    d = lapse.difference
    if d["n1"] == 0 or d["n2"] == 0:
        return "Nobody (or everybody) complained among the period's buyers; there is nothing to compare."
    rr = "" if math.isnan(d["ratio"]) else f", relative risk {d['ratio']:.2f}"
    return (f"Of {d['n1']:,} buyers who complained in the {lapse.period_days} days before "
            f"{lapse.split:%Y-%m-%d}, {d['p1']:.0%} bought nothing in the {lapse.period_days} days after, "
            f"against {d['p2']:.0%} of {d['n2']:,} who did not complain: {_pp(d['diff'])} ({_ci_pp(d)}, "
            f"Newcombe{rr}), which {_verdict(d['low'], d['high'])}. Complainers differ in other ways too; "
            "read it as a warning sign, not as the cost of a complaint.")


def cannot_estimate(effect: Any) -> str:
    """Say plainly that a campaign's effect cannot be estimated, and why."""
    why = NOT_ESTIMABLE.get(effect.reason, str(effect.reason))
    name = _md(effect.name)
    if effect.reason in ("no_control", "no_group"):
        return (f"The effect of campaign '{name}' cannot be estimated: {why}. Without one there is no "
                "counterfactual — nobody knows what the contacted customers would have bought without "
                "the contact, and their purchases after it are not its effect (they were chosen, and "
                "would have bought some anyway). Hold back a random control group next time.")
    if effect.reason == "window_open":
        return (f"The effect of campaign '{name}' cannot be estimated yet: {why} "
                f"({effect.window_days}-day window). Run the stage again after it closes.")
    return f"The effect of campaign '{name}' cannot be estimated: {why}."


def campaign_takeaway(effect: Any, currency: str = "") -> str:
    """Report the campaign's effect on conversion and spend with intervals, or why there is none."""
    if not effect.estimable:
        return cannot_estimate(effect)
    c, s = effect.conversion, effect.spend
    return (f"Campaign '{_md(effect.name)}' ({effect.n_treatment:,} contacted, {effect.n_control:,} held back): "
            f"{c['p1']:.1%} bought within {effect.window_days} days against {c['p2']:.1%} of the control "
            f"group, {_pp(c['diff'])} ({_ci_pp(c)}, Newcombe), which {_verdict(c['low'], c['high'])}; "
            f"spend per customer {format_money(s['diff'], currency, 2)} "
            f"({_ci_money(s['low'], s['high'], currency, 2)}, Welch), which {_verdict(s['low'], s['high'])}.")


def roi_reading(effect: Any, currency: str = "") -> str:
    """Incremental revenue and ROI with their intervals."""
    if not effect.estimable:
        return cannot_estimate(effect)
    r = effect.incremental_revenue
    text = (f"Incremental revenue: {format_money(r['value'], currency)} "
            f"({_ci_money(r['low'], r['high'], currency)}).")
    if effect.roi is None:
        return text + " No contact costs were given, so no ROI."
    roi = effect.roi
    if math.isnan(roi["value"]):
        return text + " The contacts cost nothing, so the ROI is undefined."
    ci = "" if math.isnan(roi["low"]) else f" (95% CI {roi['low']:+.0%} to {roi['high']:+.0%})"
    return (text + f" At a {effect.margin:.0%} margin and {format_money(effect.contact_cost, currency)} of "
            f"contact cost, the ROI is {roi['value']:+.0%}{ci}.")


def segment_uplift_note(effect: Any) -> str:
    """Which segments are too small to read, and the multiple-comparison warning."""
    if not effect.estimable or effect.by_segment is None or effect.by_segment.empty:
        return ""
    seg = effect.by_segment
    small = [_md(s) for s in seg.loc[seg["small"], "segment"]]
    note = (f"{len(seg)} segments compared: with that many intervals, one may exclude zero by chance "
            "alone; act on a segment only when its difference is large and repeats in the next campaign.")
    if small:
        note += f" Too few customers to read: {', '.join(small)}."
    return note


def whale_takeaway(whale: Any, currency: str = "") -> str:
    """Read the whale curve's peak (``WhaleCurve``)."""
    if whale.total_profit <= 0:
        return (f"The customer base loses money in total ({format_money(whale.total_profit, currency)}); "
                f"the profitable {whale.peak_at:.0%} earn {format_money(whale.peak_profit, currency)}.")
    return (f"The most profitable {whale.peak_at:.0%} of customers earn {whale.peak_share:.0%} of total "
            f"profit ({format_money(whale.peak_profit, currency)} of {format_money(whale.total_profit, currency)}); "
            "the rest give back the difference.")


def destroyers_takeaway(overall: dict, by: pd.DataFrame, currency: str = "") -> str:
    """Who destroys value: count, share, profit lost, and where they concentrate."""
    if overall["destroyers"] == 0:
        return "No customer has a negative profit."
    worst = by.sort_values("destroyer_share", ascending=False).iloc[0] if len(by) else None
    where = (f" They concentrate in '{_md(worst['group'])}' ({worst['destroyer_share']:.0%} of that group)."
             if worst is not None else "")
    return (f"{overall['destroyers']:,} customers ({overall['share']:.0%}) cost more than they earn, "
            f"{format_money(-overall['profit_lost'], currency)} in total; they spent "
            f"{format_money(overall['destroyer_mean_revenue'], currency)} on average against "
            f"{format_money(overall['other_mean_revenue'], currency)} and made "
            f"{overall['destroyer_mean_contacts']:.1f} contacts against {overall['other_mean_contacts']:.1f}.{where}")


def tier_grid_takeaway(grid: pd.DataFrame) -> str:
    """Name the largest cell of the tier grid and count the high-value, low-loyalty customers."""
    if grid["customers"].sum() == 0:
        return "No customer to place in the tier grid."
    top = grid.loc[grid["customers"].idxmax()]
    risk = grid[(grid["value_tier"] == "high") & (grid["loyalty_tier"] == "low")]["customers"].sum()
    pot = "" if set(grid["potential"]) != {"unknown"} else " Potential is unknown (no value predictions)."
    return (f"The largest cell is {top['value_tier']} value, {top['loyalty_tier']} loyalty, "
            f"{top['potential']} potential ({top['share']:.0%} of customers); {int(risk):,} high-value "
            f"customers show low loyalty — protect them first.{pot}")


def sentiment_takeaway(monthly: pd.DataFrame) -> str:
    """Mean sentiment per month: the level and the latest month against the first."""
    if monthly.empty:
        return "No feedback text to score."
    first, last = monthly.iloc[0], monthly.iloc[-1]
    overall = (monthly["mean"] * monthly["texts"]).sum() / monthly["texts"].sum()
    return (f"Mean feedback sentiment {overall:.2f} on a 0-1 scale over {int(monthly['texts'].sum()):,} texts; "
            f"{first['mean']:.2f} in {first['month']:%B %Y} and {last['mean']:.2f} in {last['month']:%B %Y}.")


# --- the stage notebook: reading, sentiment accuracy, sentiment readings, products ----------


def reading_summary(report: dict, source: str) -> str:
    """Say what the reader did with the log: rows kept and set aside (by reason), texts masked."""
    why = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in report["by_reason"].items() if v)
    masked = report["repairs"].get("text_contacts_masked", 0)
    name = str(source).replace("\\", "/").rsplit("/", 1)[-1]  # a file's name, never the folders above it
    return (f"**{_md(name)}**: {report['rows_in']:,} rows read; {report['rows_clean']:,} clean contacts "
            f"of {report['customers']:,} customers, {report['timestamp_min'][:10]} to "
            f"{report['timestamp_max'][:10]}; {report['rows_quarantined']:,} set aside"
            + (f" ({why})" if why else "") + f". Contact details masked in {masked:,} texts.")


def accuracy_takeaway(accuracy: dict) -> str:
    """Report the measured accuracy of each sentiment method, with its interval and test size."""
    z = accuracy["chinese"]
    sample = (f" (a seeded sample of {z['sampled']:,} of them, for a quick run)"
              if z["sampled"] and z["sampled"] < z["distinct_texts"] else "")
    text = (f"Chinese: {z['accuracy']:.1%} of {z['test_texts']:,} held-out reviews labelled correctly "
            f"(95% Wilson {z['ci_low']:.1%} to {z['ci_high']:.1%}), trained on {z['train_texts']:,} others; "
            f"the {z['lines']:,} corpus lines hold {z['distinct_texts']:,} distinct reviews{sample}.")
    e = accuracy.get("english")
    if e:
        text += (f" English (VADER): the sign is right for {e['accuracy']:.1%} of {e['n']:,} rated "
                 f"snippets (95% Wilson {e['ci_low']:.1%} to {e['ci_high']:.1%}; silent on {e['silent']:,}, "
                 f"counted wrong), {e['accuracy_when_scored']:.1%} where it has an opinion — measured on "
                 "its authors' own test set, so an optimistic figure.")
    return text


def sentiment_groups_takeaway(table: pd.DataFrame, by: str) -> str:
    """Which group writes the most negative and the most positive feedback."""
    if table.empty:
        return "No feedback text to score."
    low, high = table.iloc[0], table.iloc[-1]
    if len(table) == 1:
        return f"All scored feedback comes from '{_md(low['group'])}' (mean {low['mean']:.2f})."
    overlap = not (math.isnan(low["high"]) or math.isnan(high["low"])) and low["high"] >= high["low"]
    verdict = ("their intervals overlap, so the gap may be noise" if overlap
               else "their intervals do not overlap")
    return (f"By {group_word(by)}, the most negative feedback comes from '{_md(low['group'])}' "
            f"(mean {low['mean']:.2f}, {int(low['texts']):,} texts) and the most positive from "
            f"'{_md(high['group'])}' ({high['mean']:.2f}, {int(high['texts']):,} texts); {verdict}.")


def repeat_takeaway(result: Any) -> str:
    """Repeat purchase after negative against positive feedback, with Newcombe's interval."""
    d = result.difference
    if d["n1"] == 0 or d["n2"] == 0:
        return (f"Among the buyers of the {result.period_days} days before {result.split:%Y-%m-%d}, "
                "nobody (or everybody) left negative feedback; there is nothing to compare.")
    return (f"Of {d['n1']:,} buyers whose feedback in the {result.period_days} days before "
            f"{result.split:%Y-%m-%d} was negative on average, {d['p1']:.0%} bought again in the "
            f"{result.period_days} days after, against {d['p2']:.0%} of {d['n2']:,} with positive feedback: "
            f"{_pp(d['diff'])} ({_ci_pp(d)}, Newcombe), which {_verdict(d['low'], d['high'])}. "
            "An association, not an effect: unhappy writers differ in other ways too.")


def placebo_reading(effect: Any) -> str:
    """Say whether the conversion interval covers zero, and what that means for a placebo."""
    if not effect.estimable:
        return cannot_estimate(effect)
    c = effect.conversion
    if c["low"] is None or math.isnan(c["low"]):
        return "Too few customers to put an interval on the difference."
    if c["low"] <= 0 <= c["high"]:
        return (f"The interval ({_ci_pp(c)}) covers zero: these data cannot tell the campaign from no "
                "campaign. On the simulated demo log, where nobody was really contacted, that is "
                "exactly the honest answer; a difference of this size arises from the random split alone.")
    sp = effect.spend
    spend = ("" if sp["low"] is None or math.isnan(sp["low"]) else
             " The spend interval covers zero." if sp["low"] <= 0 <= sp["high"] else " The spend interval excludes zero too.")
    return (f"The conversion interval ({_ci_pp(c)}) excludes zero.{spend} If nobody was really contacted "
            "(the demo log's placebo), this is a false positive: at 95% one placebo in twenty excludes zero "
            "by chance alone, and two outcomes tested give two chances. Before believing any campaign "
            "estimate, check the randomisation and ask for the effect to repeat in the next campaign.")


NO_CAMPAIGN = ("The log names no campaign (`interactions.columns.campaign` unset or empty), so there is no "
               "campaign effect to estimate. To measure one, record each randomised customer's arm "
               "(treatment or control) in `interactions.columns.group`.")


def products_summary(features: pd.DataFrame, quarantined: int, window_days: int) -> str:
    """Say what the stage wrote for the chain."""
    w = f"{int(window_days)}d"
    contacted = int((features[f"contacts_{w}"] > 0).sum())
    with_text = int(features["sentiment_mean"].notna().sum())
    return (f"`customer_interactions.parquet`: {len(features):,} customers (one row per customer of "
            f"`customers.parquet`), {contacted:,} with a contact in the last {int(window_days)} days and "
            f"{with_text:,} with scored feedback; `interaction_metrics.json` for the report; "
            f"`interaction_quarantine.parquet` with the {quarantined:,} rows set aside."
            + _backtest_note(features, w))


def _backtest_note(features: pd.DataFrame, w: str) -> str:
    if "backtest_as_of" not in features.columns:
        return (" No backtest copies: `periods.calibration_end` is not set or not before the as-of "
                "date, so the churn backtest runs on purchases only.")
    day = pd.Timestamp(features["backtest_as_of"].iloc[0])
    complained = int((features[f"backtest_complaints_{w}"] > 0).sum())
    return (f" The `backtest_…` columns repeat the features as of {day:%Y-%m-%d} (calibration end), from "
            f"contacts and purchases up to that day only: {complained:,} customer"
            f"{'' if complained == 1 else 's'} had complained in the {w[:-1]} days before it.")
