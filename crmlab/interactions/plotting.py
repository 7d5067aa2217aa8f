"""The interactions figures: each takes computed results and ``ax=None``, returns the Axes.

Titles and axis labels (with units) are set here; the takeaway above each figure comes
from :mod:`crmlab.interactions.narrative`, and saving is the stage context's job. A
figure without data to draw still gets its title, labels and a short message.
Every function takes ``tr`` (a :class:`~crmlab.i18n.Catalog`, English by default) for its
words; channel, segment and tier values are drawn under their display names.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter

from crmlab.formatting import money_axis, money_unit
from crmlab.i18n import EN, Catalog
from crmlab.interactions.common import group_value, group_word, result_word
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


def _unit(currency: str, tr: Catalog) -> str:
    return money_unit(currency) if currency.strip() else tr("interactions.currency_units")


def _dates(ax):
    ax.figure.autofmt_xdate()
    return ax


def plot_contacts_per_month(monthly: pd.DataFrame, ax=None, tr: Catalog = EN):
    """Bars of contacts per month, complaints overlaid (:func:`~crmlab.interactions.frequency.contacts_per_month`)."""
    ax = get_ax(ax, figsize=(8, 4))
    ax.set_title(tr("interactions.plot.contacts.title"))
    ax.set_xlabel(tr("interactions.plot.month"))
    ax.set_ylabel(tr("interactions.plot.contacts.ylabel"))
    if monthly.empty:
        return _empty(ax, tr("interactions.plot.contacts.empty"))
    x = pd.to_datetime(monthly["month"])
    ax.bar(x, monthly["contacts"], width=20, color=_BLUE, label=tr("interactions.plot.contacts.all"))
    ax.bar(x, monthly["complaints"], width=20, color=_RED, label=tr("interactions.plot.contacts.complaints"))
    ax.legend(frameon=False)
    return _dates(ax)


def plot_channel_mix(mix, ax=None, tr: Catalog = EN):
    """Stacked bars of channel shares per group (``ChannelMix``), one bar per group."""
    ax = get_ax(ax, figsize=(8, 4.5))
    word = group_word(mix.by, tr)
    ax.set_title(tr("interactions.plot.mix.title", word=word))
    ax.set_xlabel(word[0].upper() + word[1:])
    ax.set_ylabel(tr("interactions.plot.mix.ylabel"))
    s = mix.shares.fillna(0.0)
    if s.empty:
        return _empty(ax, tr("interactions.plot.mix.empty"))
    colours = plt.get_cmap("tab10")(np.arange(s.shape[1]) % 10)
    bottom = np.zeros(len(s))
    labels = [group_value(mix.by, g, tr) for g in s.index]
    for i, ch in enumerate(s.columns):
        ax.bar(labels, s[ch].to_numpy(), bottom=bottom, color=colours[i], label=tr.name("channel", ch))
        bottom += s[ch].to_numpy()
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1)
    ax.legend(title=tr("interactions.plot.mix.legend"), frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")
    if len(labels) > 4:
        ax.tick_params(axis="x", labelrotation=30)
    return ax


def plot_multichannel_spend(ms, ax=None, currency: str = "", tr: Catalog = EN):
    """Mean spend of multichannel and single-channel customers with 95% t intervals."""
    ax = get_ax(ax, figsize=(6, 4))
    ax.set_title(tr("interactions.plot.multichannel.title"))
    ax.set_xlabel(tr("interactions.plot.multichannel.xlabel"))
    ax.set_ylabel(tr("interactions.plot.multichannel.ylabel", unit=_unit(currency, tr)))
    t = ms.table[ms.table["customers"] > 0]
    if t.empty:
        return _empty(ax, tr("interactions.plot.multichannel.empty"))
    mean = t["mean_spend"].to_numpy()
    err = np.vstack([mean - t["low"].to_numpy(), t["high"].to_numpy() - mean])
    ax.bar([tr("interactions.plot.bar_n", group=result_word(g, tr), n=n)
            for g, n in zip(t["group"], t["customers"], strict=True)], mean,
           yerr=np.nan_to_num(err).clip(min=0), capsize=6, color=[_BLUE, _GREY][: len(t)])
    money_axis(ax, currency)
    return ax


def plot_channel_migration(mig, ax=None, tr: Catalog = EN):
    """Heatmap of main channel at the first date (rows) against the second (columns), row shares."""
    ax = get_ax(ax, figsize=(6.5, 5.5))
    start, end = f"{mig.start:%Y-%m-%d}", f"{mig.end:%Y-%m-%d}"
    ax.set_title(tr("interactions.plot.migration.title", start=start, end=end))
    ax.set_xlabel(tr("interactions.plot.migration.axis", w=mig.window_days, day=end))
    ax.set_ylabel(tr("interactions.plot.migration.axis", w=mig.window_days, day=start))
    if mig.counts.to_numpy().sum() == 0:
        return _empty(ax, tr("interactions.plot.migration.empty"))
    shares = mig.shares.fillna(0.0).to_numpy()
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for (i, j), v in np.ndenumerate(shares):
        ax.text(j, i, f"{v:.0%}\n{int(mig.counts.iat[i, j]):,}", ha="center", va="center", fontsize=8,
                color="white" if v > 0.5 else "black")
    ax.set_xticks(range(shares.shape[1]), tr.names("channel", mig.counts.columns))
    ax.set_yticks(range(shares.shape[0]), tr.names("channel", mig.counts.index))
    return ax


def plot_complaint_rate(rates: pd.DataFrame, ax=None, tr: Catalog = EN):
    """Complaints per 1,000 active customers per month; a partial last month drawn hollow."""
    ax = get_ax(ax, figsize=(8, 4))
    ax.set_title(tr("interactions.plot.rate.title"))
    ax.set_xlabel(tr("interactions.plot.month"))
    ax.set_ylabel(tr("interactions.plot.rate.ylabel"))
    if rates.empty:
        return _empty(ax, tr("interactions.plot.rate.empty"))
    x = pd.to_datetime(rates["month"])
    part = rates["partial"].astype(bool).to_numpy()
    ax.plot(x[~part], rates["rate_per_1000"][~part], marker="o", color=_RED, label=tr("interactions.plot.rate.complete"))
    if part.any():
        ax.plot(x[part], rates["rate_per_1000"][part], marker="o", linestyle="none", markerfacecolor="white",
                color=_RED, label=tr("interactions.plot.rate.partial"))
        ax.legend(frameon=False)
    ax.set_ylim(bottom=0)
    return _dates(ax)


def plot_complaint_lapse(lapse, ax=None, tr: Catalog = EN):
    """Lapse rate of complainers and the others with 95% Wilson intervals (``ComplaintLapse``)."""
    ax = get_ax(ax, figsize=(6, 4))
    ax.set_title(tr("interactions.plot.lapse.title", days=lapse.period_days, split=f"{lapse.split:%Y-%m-%d}"))
    ax.set_xlabel(tr("interactions.plot.lapse.xlabel"))
    ax.set_ylabel(tr("interactions.plot.lapse.ylabel"))
    return _rate_bars(ax, lapse.table, "lapse_rate", tr("interactions.plot.lapse.empty"), tr)


def plot_campaign_effect(effect, ax=None, tr: Catalog = EN):
    """Conversion difference treatment - control with 95% intervals, overall and per segment.

    Takes a ``CampaignEffect``; without a counterfactual the axes say so and draw no number.
    """
    ax = get_ax(ax, figsize=(7, 4.5))
    ax.set_title(tr("interactions.plot.campaign.title", name=effect.name))
    ax.set_xlabel(tr("interactions.plot.campaign.xlabel", w=effect.window_days))
    ax.set_ylabel(tr("interactions.plot.campaign.ylabel"))
    if not effect.estimable:
        ax.set_xticks([])
        ax.set_yticks([])
        return _empty(ax, tr("interactions.plot.campaign.no_control")
                      if effect.reason in ("no_control", "no_group") else tr("interactions.plot.campaign.cannot"))
    c = effect.conversion
    rows = [(tr("interactions.plot.campaign.all"), c["diff"], c["low"], c["high"], False)]
    if effect.by_segment is not None:
        column = getattr(effect, "segment_column", None) or "rfm_segment"
        rows += [(group_value(column, r.segment, tr), r.conv_diff, r.conv_low, r.conv_high, r.small)
                 for r in effect.by_segment.itertuples()]
    y = np.arange(len(rows))[::-1]
    for yi, (_, d, lo, hi, small) in zip(y, rows, strict=True):
        colour = _GREY if small else _BLUE
        if not (lo is None or math.isnan(lo)):
            ax.plot([100 * lo, 100 * hi], [yi, yi], color=colour, linewidth=2)
        ax.plot(100 * d, yi, "o", color=colour, markerfacecolor="white" if small else colour)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([tr("interactions.plot.campaign.few", segment=r[0]) if r[4] else r[0] for r in rows])
    return ax


def plot_whale_curve(whale, ax=None, currency: str = "", tr: Catalog = EN):
    """Cumulative profit against customers ranked by profit (``WhaleCurve``), peak marked."""
    ax = get_ax(ax, figsize=(7, 4.5))
    ax.set_title(tr("interactions.plot.whale.title"))
    ax.set_xlabel(tr("interactions.plot.whale.xlabel"))
    c = whale.curve
    if whale.total_profit > 0:
        ax.set_ylabel(tr("interactions.plot.whale.ylabel_share"))
        ax.plot(c["customer_share"], c["cumulative_share"], color=_BLUE)
        ax.axhline(1.0, color=_GREY, linestyle="--", linewidth=0.8)
        ax.plot(whale.peak_at, whale.peak_share, "o", color=_RED)
        ax.annotate(tr("interactions.plot.whale.peak", share=whale.peak_share, at=whale.peak_at),
                    (whale.peak_at, whale.peak_share), xytext=(-8, -16), textcoords="offset points",
                    ha="right", color=_RED)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    else:  # shares of a non-positive total mean nothing: draw money
        ax.set_ylabel(tr("interactions.plot.whale.ylabel_money", unit=_unit(currency, tr)))
        ax.plot(c["customer_share"], c["cumulative_profit"], color=_BLUE)
        ax.axhline(0.0, color=_GREY, linestyle="--", linewidth=0.8)
        money_axis(ax, currency)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    return ax


def plot_tier_grid(grid: pd.DataFrame, ax=None, tr: Catalog = EN):
    """Heatmap of customers per value x loyalty tier (rows) and potential (columns)."""
    ax = get_ax(ax, figsize=(7, 6))
    ax.set_title(tr("interactions.plot.grid.title"))
    ax.set_xlabel(tr("interactions.plot.grid.xlabel"))
    ax.set_ylabel(tr("interactions.plot.grid.ylabel"))
    if grid.empty:
        return _empty(ax, tr("interactions.plot.grid.empty"))
    wide = grid.pivot_table(index=["value_tier", "loyalty_tier"], columns="potential", values="customers",
                            aggfunc="sum", sort=False, observed=True)
    counts = wide.to_numpy(dtype=np.float64)
    ax.imshow(counts, cmap="Blues", aspect="auto")
    top = np.nanmax(counts) if counts.size else 0
    for (i, j), v in np.ndenumerate(counts):
        ax.text(j, i, f"{int(v):,}", ha="center", va="center", color="white" if v > top / 2 else "black")
    ax.set_xticks(range(wide.shape[1]), tr.names("tier", wide.columns))
    ax.set_yticks(range(wide.shape[0]), [tr("interactions.plot.grid.row", value=tr.name("tier", v),
                                            loyalty=tr.name("tier", lo)) for v, lo in wide.index])
    return ax


def plot_sentiment_by_month(monthly: pd.DataFrame, ax=None, tr: Catalog = EN):
    """Mean feedback sentiment per month with its 95% interval (0 negative, 1 positive)."""
    ax = get_ax(ax, figsize=(8, 4))
    ax.set_title(tr("interactions.plot.sentiment.title"))
    ax.set_xlabel(tr("interactions.plot.month"))
    ax.set_ylabel(tr("interactions.plot.mean_sentiment"))
    ax.set_ylim(0, 1)
    if monthly.empty:
        return _empty(ax, tr("interactions.plot.no_scored_text"))
    x = pd.to_datetime(monthly["month"])
    ax.fill_between(x, monthly["low"], monthly["high"], color=_BLUE, alpha=0.2, label=tr("interactions.plot.sentiment.band"))
    ax.plot(x, monthly["mean"], marker="o", color=_BLUE, label=tr("interactions.plot.sentiment.mean"))
    ax.axhline(0.5, color=_GREY, linestyle="--", linewidth=0.8)
    ax.legend(frameon=False)
    return _dates(ax)


def plot_sentiment_accuracy(accuracy: dict, ax=None, tr: Catalog = EN):
    """Held-out accuracy of each sentiment method with its 95% Wilson interval.

    ``accuracy`` is :func:`~crmlab.interactions.feedback.accuracy_summary`; the dashed line
    is a coin flip (0.5), what a method without skill gets on two balanced labels.
    """
    ax = get_ax(ax, figsize=(6, 3.5))
    ax.set_title(tr("interactions.plot.accuracy.title"))
    ax.set_xlabel(tr("interactions.plot.accuracy.xlabel"))
    ax.set_ylabel(tr("interactions.plot.accuracy.ylabel"))
    rows = [(tr("interactions.plot.accuracy.chinese", n=a["test_texts"]), a) for a in [accuracy["chinese"]]]
    if "english" in accuracy:
        e = accuracy["english"]
        rows.append((tr("interactions.plot.accuracy.english", n=e["n"]), e))
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


def plot_sentiment_by_group(table: pd.DataFrame, by: str, ax=None, tr: Catalog = EN):
    """Mean feedback sentiment per group with 95% t intervals (:func:`~crmlab.interactions.feedback.sentiment_by_group`)."""
    ax = get_ax(ax, figsize=(7, max(3.0, 0.45 * len(table) + 1.2)))
    word = group_word(by, tr)
    ax.set_title(tr("interactions.plot.groups.title", word=word))
    ax.set_xlabel(tr("interactions.plot.mean_sentiment"))
    ax.set_ylabel(word[:1].upper() + word[1:])
    ax.set_xlim(0, 1)
    if table.empty:
        return _empty(ax, tr("interactions.plot.no_scored_text"))
    mean = table["mean"].to_numpy()
    err = np.vstack([mean - table["low"].fillna(table["mean"]).to_numpy(),
                     table["high"].fillna(table["mean"]).to_numpy() - mean]).clip(min=0)
    labels = [tr("interactions.plot.label_n", group=group_value(by, g, tr), n=n)
              for g, n in zip(table["group"], table["texts"], strict=True)]
    ax.errorbar(mean, range(len(table)), xerr=err, fmt="o", color=_BLUE, capsize=4)
    ax.set_yticks(range(len(table)), labels)
    ax.axvline(0.5, color=_GREY, linestyle="--", linewidth=0.8)
    return ax


def plot_sentiment_repeat(result, ax=None, tr: Catalog = EN):
    """Repeat-purchase rate after negative and positive feedback, 95% Wilson intervals (``SentimentRepeat``)."""
    ax = get_ax(ax, figsize=(6, 4))
    ax.set_title(tr("interactions.plot.repeat.title", days=result.period_days, split=f"{result.split:%Y-%m-%d}"))
    ax.set_xlabel(tr("interactions.plot.repeat.xlabel"))
    ax.set_ylabel(tr("interactions.plot.repeat.ylabel"))
    return _rate_bars(ax, result.table, "repeat_rate", tr("interactions.plot.repeat.empty"), tr)


def _rate_bars(ax, t, rate, empty, tr: Catalog = EN):
    """Two groups' rates as bars with their 95% intervals (``low``/``high``) and group sizes."""
    if t["customers"].sum() == 0:
        return _empty(ax, empty)
    values = t[rate].fillna(0).to_numpy()
    err = np.vstack([values - t["low"].fillna(0).to_numpy(),
                     t["high"].fillna(0).to_numpy() - values]).clip(min=0)
    ax.bar([result_word(g, tr) for g in t["group"]], values, color=[_RED, _BLUE], yerr=err, capsize=6)
    for i, r in enumerate(t.itertuples()):
        ax.annotate(tr("interactions.plot.n", n=r.customers), (i, 0), xytext=(0, 4), textcoords="offset points",
                    ha="center", color="white")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1)
    return ax
