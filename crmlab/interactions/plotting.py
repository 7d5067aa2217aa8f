"""The interactions figures: each takes computed results and ``ax=None``, returns the Axes.

Titles and axis labels (with units) are set here; the takeaway above each figure comes
from :mod:`crmlab.interactions.narrative`, and saving is the stage context's job. A
figure without data to draw still gets its title, labels and a short message.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter

from crmlab.formatting import money_axis, money_unit
from crmlab.interactions.common import group_word
from crmlab.plotting import get_ax

__all__ = [
    "plot_contacts_per_month",
    "plot_channel_mix",
    "plot_multichannel_spend",
    "plot_channel_migration",
    "plot_complaint_rate",
    "plot_complaint_lapse",
    "plot_campaign_effect",
    "plot_whale_curve",
    "plot_tier_grid",
    "plot_sentiment_by_month",
    "plot_sentiment_accuracy",
    "plot_sentiment_by_group",
    "plot_sentiment_repeat",
]

_BLUE, _GREY, _RED = "#4f81bd", "#7f7f7f", "#c0504d"


def _empty(ax, message):
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color=_GREY, wrap=True)
    return ax


def _dates(ax):
    ax.figure.autofmt_xdate()
    return ax


def plot_contacts_per_month(monthly: pd.DataFrame, ax=None):
    """Bars of contacts per month, complaints overlaid (:func:`~crmlab.interactions.frequency.contacts_per_month`)."""
    ax = get_ax(ax, figsize=(8, 4))
    ax.set_title("Contacts per month")
    ax.set_xlabel("Month")
    ax.set_ylabel("Contacts (count)")
    if monthly.empty:
        return _empty(ax, "No contact in the log")
    x = pd.to_datetime(monthly["month"])
    ax.bar(x, monthly["contacts"], width=20, color=_BLUE, label="all contacts")
    ax.bar(x, monthly["complaints"], width=20, color=_RED, label="complaints")
    ax.legend(frameon=False)
    return _dates(ax)


def plot_channel_mix(mix, ax=None):
    """Stacked bars of channel shares per group (``ChannelMix``), one bar per group."""
    ax = get_ax(ax, figsize=(8, 4.5))
    word = group_word(mix.by)
    ax.set_title(f"Channel mix by {word}")
    ax.set_xlabel(word[0].upper() + word[1:])
    ax.set_ylabel("Share of contacts (%)")
    s = mix.shares.fillna(0.0)
    if s.empty:
        return _empty(ax, "No contact to show")
    colours = plt.get_cmap("tab10")(np.arange(s.shape[1]) % 10)
    bottom = np.zeros(len(s))
    labels = [str(g) for g in s.index]
    for i, ch in enumerate(s.columns):
        ax.bar(labels, s[ch].to_numpy(), bottom=bottom, color=colours[i], label=str(ch))
        bottom += s[ch].to_numpy()
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1)
    ax.legend(title="Channel", frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")
    if len(labels) > 4:
        ax.tick_params(axis="x", labelrotation=30)
    return ax


def plot_multichannel_spend(ms, ax=None, currency: str = ""):
    """Mean spend of multichannel and single-channel customers with 95% t intervals."""
    ax = get_ax(ax, figsize=(6, 4))
    ax.set_title("Spend of multichannel and single-channel customers")
    ax.set_xlabel("Contacted customers")
    ax.set_ylabel(f"Mean spend per customer ({money_unit(currency)})")
    t = ms.table[ms.table["customers"] > 0]
    if t.empty:
        return _empty(ax, "No contacted customer")
    mean = t["mean_spend"].to_numpy()
    err = np.vstack([mean - t["low"].to_numpy(), t["high"].to_numpy() - mean])
    ax.bar([f"{g}\n(n = {n:,})" for g, n in zip(t["group"], t["customers"], strict=True)], mean,
           yerr=np.nan_to_num(err).clip(min=0), capsize=6, color=[_BLUE, _GREY][: len(t)])
    money_axis(ax, currency)
    return ax


def plot_channel_migration(mig, ax=None):
    """Heatmap of main channel at the first date (rows) against the second (columns), row shares."""
    ax = get_ax(ax, figsize=(6.5, 5.5))
    ax.set_title(f"Main channel, {mig.start:%Y-%m-%d} → {mig.end:%Y-%m-%d}")
    ax.set_xlabel(f"Main channel in the {mig.window_days} days before {mig.end:%Y-%m-%d}")
    ax.set_ylabel(f"Main channel in the {mig.window_days} days before {mig.start:%Y-%m-%d}")
    if mig.counts.to_numpy().sum() == 0:
        return _empty(ax, "No contact in either window")
    shares = mig.shares.fillna(0.0).to_numpy()
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for (i, j), v in np.ndenumerate(shares):
        ax.text(j, i, f"{v:.0%}\n{int(mig.counts.iat[i, j]):,}", ha="center", va="center", fontsize=8,
                color="white" if v > 0.5 else "black")
    ax.set_xticks(range(shares.shape[1]), [str(c) for c in mig.counts.columns])
    ax.set_yticks(range(shares.shape[0]), [str(c) for c in mig.counts.index])
    return ax


def plot_complaint_rate(rates: pd.DataFrame, ax=None):
    """Complaints per 1,000 active customers per month; a partial last month drawn hollow."""
    ax = get_ax(ax, figsize=(8, 4))
    ax.set_title("Complaint rate")
    ax.set_xlabel("Month")
    ax.set_ylabel("Complaints per 1,000 active customers")
    if rates.empty:
        return _empty(ax, "No month to show")
    x = pd.to_datetime(rates["month"])
    part = rates["partial"].astype(bool).to_numpy()
    ax.plot(x[~part], rates["rate_per_1000"][~part], marker="o", color=_RED, label="complete month")
    if part.any():
        ax.plot(x[part], rates["rate_per_1000"][part], marker="o", linestyle="none", markerfacecolor="white",
                color=_RED, label="partial month")
        ax.legend(frameon=False)
    ax.set_ylim(bottom=0)
    return _dates(ax)


def plot_complaint_lapse(lapse, ax=None):
    """Lapse rate of complainers and the others with 95% Wilson intervals (``ComplaintLapse``)."""
    ax = get_ax(ax, figsize=(6, 4))
    ax.set_title(f"Lapse in the {lapse.period_days} days after {lapse.split:%Y-%m-%d}")
    ax.set_xlabel("Complained in the period before")
    ax.set_ylabel("Customers who lapsed (%)")
    return _rate_bars(ax, lapse.table, "lapse_rate", "No buyer in the period")


def plot_campaign_effect(effect, ax=None):
    """Conversion difference treatment - control with 95% intervals, overall and per segment.

    Takes a ``CampaignEffect``; without a counterfactual the axes say so and draw no number.
    """
    ax = get_ax(ax, figsize=(7, 4.5))
    ax.set_title(f"Campaign '{effect.name}': effect on conversion")
    ax.set_xlabel(f"Conversion difference, treatment - control (percentage points, {effect.window_days} days)")
    ax.set_ylabel("Customers")
    if not effect.estimable:
        ax.set_xticks([])
        ax.set_yticks([])
        return _empty(ax, "Effect cannot be estimated:\nno control group to compare with"
                      if effect.reason in ("no_control", "no_group") else "Effect cannot be estimated")
    c = effect.conversion
    rows = [("all customers", c["diff"], c["low"], c["high"], False)]
    if effect.by_segment is not None:
        rows += [(str(r.segment), r.conv_diff, r.conv_low, r.conv_high, r.small)
                 for r in effect.by_segment.itertuples()]
    y = np.arange(len(rows))[::-1]
    for yi, (_, d, lo, hi, small) in zip(y, rows, strict=True):
        colour = _GREY if small else _BLUE
        if not (lo is None or math.isnan(lo)):
            ax.plot([100 * lo, 100 * hi], [yi, yi], color=colour, linewidth=2)
        ax.plot(100 * d, yi, "o", color=colour, markerfacecolor="white" if small else colour)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{r[0]} (few customers)" if r[4] else r[0] for r in rows])
    return ax


def plot_whale_curve(whale, ax=None, currency: str = ""):
    """Cumulative profit against customers ranked by profit (``WhaleCurve``), peak marked."""
    ax = get_ax(ax, figsize=(7, 4.5))
    ax.set_title("Customer profitability (whale curve)")
    ax.set_xlabel("Customers, most profitable first (%)")
    c = whale.curve
    if whale.total_profit > 0:
        ax.set_ylabel("Cumulative profit (% of total profit)")
        ax.plot(c["customer_share"], c["cumulative_share"], color=_BLUE)
        ax.axhline(1.0, color=_GREY, linestyle="--", linewidth=0.8)
        ax.plot(whale.peak_at, whale.peak_share, "o", color=_RED)
        ax.annotate(f"peak {whale.peak_share:.0%} at {whale.peak_at:.0%} of customers",
                    (whale.peak_at, whale.peak_share), xytext=(-8, -16), textcoords="offset points",
                    ha="right", color=_RED)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    else:  # shares of a non-positive total mean nothing: draw money
        ax.set_ylabel(f"Cumulative profit ({money_unit(currency)})")
        ax.plot(c["customer_share"], c["cumulative_profit"], color=_BLUE)
        ax.axhline(0.0, color=_GREY, linestyle="--", linewidth=0.8)
        money_axis(ax, currency)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    return ax


def plot_tier_grid(grid: pd.DataFrame, ax=None):
    """Heatmap of customers per value x loyalty tier (rows) and potential (columns)."""
    ax = get_ax(ax, figsize=(7, 6))
    ax.set_title("Customers by value, loyalty and potential tier")
    ax.set_xlabel("Potential (predicted value tertile)")
    ax.set_ylabel("Value tier / loyalty tier")
    if grid.empty:
        return _empty(ax, "No customer to place")
    wide = grid.pivot_table(index=["value_tier", "loyalty_tier"], columns="potential", values="customers",
                            aggfunc="sum", sort=False, observed=True)
    counts = wide.to_numpy(dtype=np.float64)
    ax.imshow(counts, cmap="Blues", aspect="auto")
    top = np.nanmax(counts) if counts.size else 0
    for (i, j), v in np.ndenumerate(counts):
        ax.text(j, i, f"{int(v):,}", ha="center", va="center", color="white" if v > top / 2 else "black")
    ax.set_xticks(range(wide.shape[1]), [str(c) for c in wide.columns])
    ax.set_yticks(range(wide.shape[0]), [f"{v} / {lo}" for v, lo in wide.index])
    return ax


def plot_sentiment_by_month(monthly: pd.DataFrame, ax=None):
    """Mean feedback sentiment per month with its 95% interval (0 negative, 1 positive)."""
    ax = get_ax(ax, figsize=(8, 4))
    ax.set_title("Feedback sentiment by month")
    ax.set_xlabel("Month")
    ax.set_ylabel("Mean sentiment (0 = negative, 1 = positive)")
    ax.set_ylim(0, 1)
    if monthly.empty:
        return _empty(ax, "No scored feedback text")
    x = pd.to_datetime(monthly["month"])
    ax.fill_between(x, monthly["low"], monthly["high"], color=_BLUE, alpha=0.2, label="95% interval")
    ax.plot(x, monthly["mean"], marker="o", color=_BLUE, label="mean")
    ax.axhline(0.5, color=_GREY, linestyle="--", linewidth=0.8)
    ax.legend(frameon=False)
    return _dates(ax)


def plot_sentiment_accuracy(accuracy: dict, ax=None):
    """Held-out accuracy of each sentiment method with its 95% Wilson interval.

    ``accuracy`` is :func:`~crmlab.interactions.feedback.accuracy_summary`; the dashed line
    is a coin flip (0.5), what a method without skill gets on two balanced labels.
    """
    ax = get_ax(ax, figsize=(6, 3.5))
    ax.set_title("Sentiment accuracy on labelled texts it never saw")
    ax.set_xlabel("Share of texts labelled correctly (%)")
    ax.set_ylabel("Method")
    rows = [(f"Chinese: TF-IDF + LR\n(n = {a['test_texts']:,})", a) for a in [accuracy["chinese"]]]
    if "english" in accuracy:
        e = accuracy["english"]
        rows.append((f"English: VADER\n(n = {e['n']:,})", e))
    names = [r[0] for r in rows]
    acc = np.array([r[1]["accuracy"] for r in rows])
    err = np.vstack([acc - np.array([r[1]["ci_low"] for r in rows]),
                     np.array([r[1]["ci_high"] for r in rows]) - acc]).clip(min=0)
    ax.barh(names, acc, xerr=err, color=_BLUE, capsize=6)
    for i, a in enumerate(acc):
        ax.annotate(f"{a:.1%}", (a, i), xytext=(8, 8), textcoords="offset points", va="bottom")
    ax.axvline(0.5, color=_GREY, linestyle="--", linewidth=0.8)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    return ax


def plot_sentiment_by_group(table: pd.DataFrame, by: str, ax=None):
    """Mean feedback sentiment per group with 95% t intervals (:func:`~crmlab.interactions.feedback.sentiment_by_group`)."""
    ax = get_ax(ax, figsize=(7, max(3.0, 0.45 * len(table) + 1.2)))
    ax.set_title(f"Feedback sentiment by {group_word(by)}")
    ax.set_xlabel("Mean sentiment (0 = negative, 1 = positive)")
    ax.set_ylabel(group_word(by)[:1].upper() + group_word(by)[1:])
    ax.set_xlim(0, 1)
    if table.empty:
        return _empty(ax, "No scored feedback text")
    mean = table["mean"].to_numpy()
    err = np.vstack([mean - table["low"].fillna(table["mean"]).to_numpy(),
                     table["high"].fillna(table["mean"]).to_numpy() - mean]).clip(min=0)
    labels = [f"{g} (n = {n:,})" for g, n in zip(table["group"], table["texts"], strict=True)]
    ax.errorbar(mean, range(len(table)), xerr=err, fmt="o", color=_BLUE, capsize=4)
    ax.set_yticks(range(len(table)), labels)
    ax.axvline(0.5, color=_GREY, linestyle="--", linewidth=0.8)
    return ax


def plot_sentiment_repeat(result, ax=None):
    """Repeat-purchase rate after negative and positive feedback, 95% Wilson intervals (``SentimentRepeat``)."""
    ax = get_ax(ax, figsize=(6, 4))
    ax.set_title(f"Repeat purchase in the {result.period_days} days after {result.split:%Y-%m-%d}")
    ax.set_xlabel("Feedback in the period before")
    ax.set_ylabel("Customers who bought again (%)")
    return _rate_bars(ax, result.table, "repeat_rate", "No buyer with feedback in the period")


def _rate_bars(ax, t, rate, empty):
    """Two groups' rates as bars with their 95% intervals (``low``/``high``) and group sizes."""
    if t["customers"].sum() == 0:
        return _empty(ax, empty)
    values = t[rate].fillna(0).to_numpy()
    err = np.vstack([values - t["low"].fillna(0).to_numpy(),
                     t["high"].fillna(0).to_numpy() - values]).clip(min=0)
    ax.bar(t["group"], values, color=[_RED, _BLUE], yerr=err, capsize=6)
    for i, r in enumerate(t.itertuples()):
        ax.annotate(f"n = {r.customers:,}", (i, 0), xytext=(0, 4), textcoords="offset points",
                    ha="center", color="white")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1)
    return ax
