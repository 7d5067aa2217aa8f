"""Figures of the cleaning stage: every function takes computed results and returns the Axes.

Titles and axis labels (with units) are set here; the takeaway above each figure comes
from :mod:`crmlab.cleaning.narrative`, and :meth:`crmlab.context.StageContext.show` saves it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from crmlab.formatting import format_money, money_axis
from crmlab.i18n import EN, Catalog
from crmlab.plotting import get_ax

__all__ = ["plot_quarantine_reasons", "plot_monthly_activity", "plot_order_values"]


def _unit(currency: str, tr: Catalog) -> str:
    """Return the currency for an axis label, or the words for currency units."""
    return currency.strip() or tr("cleaning.currency_units")


def plot_quarantine_reasons(reasons, ax=None, tr: Catalog = EN):
    """Horizontal bars: rows quarantined per reason, the largest on top.

    Parameters
    ----------
    reasons : DataFrame
        :func:`crmlab.cleaning.reason_table` (``reason``, ``rows``; largest first).
    ax : Axes, optional
        Where to draw.
    tr : Catalog
        The run's catalog (``ctx.tr``): titles, labels and reason names.

    Returns
    -------
    Axes
    """
    from crmlab.cleaning.narrative import reason_name

    ax = get_ax(ax, figsize=(7, 0.45 * max(len(reasons), 4) + 1))
    df = reasons.iloc[::-1]
    bars = ax.barh([reason_name(r, tr) for r in df["reason"]], df["rows"], color="#c0504d")
    ax.bar_label(bars, labels=[f"{r:,}" for r in df["rows"]], padding=3, fontsize=8)
    ax.set_title(tr("cleaning.plot.reasons_title"))
    ax.set_xlabel(tr("cleaning.plot.reasons_x"))
    ax.set_ylabel(tr("cleaning.plot.reasons_y"))
    ax.margins(x=0.15)
    return ax


def plot_monthly_activity(monthly, axes=None, currency="", tr: Catalog = EN):
    """Two panels on one time axis: revenue per month (top), purchases per month (bottom).

    Two panels rather than two y-axes on one panel: with a second axis the reader cannot
    tell which line belongs to which scale, and the crossing points mean nothing.

    Parameters
    ----------
    monthly : DataFrame
        :func:`crmlab.cleaning.monthly_activity` (``month``, ``purchases``, ``revenue``).
    axes : pair of Axes, optional
        Where to draw (revenue, purchases).
    currency : str
        Currency of the revenue.
    tr : Catalog
        The run's catalog (``ctx.tr``).

    Returns
    -------
    ndarray of Axes
        The two Axes (revenue, purchases).
    """
    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(8, 5.2), sharex=True, height_ratios=(3, 2))
    top, bottom = np.asarray(axes).ravel()[:2]
    width = 20  # days: a month's bar
    top.bar(monthly["month"], monthly["revenue"], width=width, color="#4f81bd")
    top.set_title(tr("cleaning.plot.monthly_title"))
    top.set_ylabel(tr("cleaning.plot.monthly_revenue_y", unit=_unit(currency, tr)))
    money_axis(top, currency)
    bottom.bar(monthly["month"], monthly["purchases"], width=width, color="#a5a5a5")
    bottom.set_ylabel(tr("cleaning.plot.monthly_purchases_y"))
    bottom.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    bottom.set_xlabel(tr("cleaning.plot.monthly_x"))
    for ax in (top, bottom):
        ax.set_ylim(bottom=0)
        ax.set_axisbelow(True)
        ax.grid(axis="y", color="#eeeeee")
    top.figure.autofmt_xdate()
    return np.array([top, bottom])


def plot_order_values(amounts, ax=None, currency="", tr: Catalog = EN):
    """Histogram of purchase values on a log scale (spend is heavily right-skewed).

    Parameters
    ----------
    amounts : array-like or dict
        The purchase values, or their summary already counted (on a Dask cluster, say) by
        :func:`crmlab.cleaning.order_value_summary` (``edges``, ``counts``, ``median``).
        Only values above zero are drawn.
    ax : Axes, optional
        Where to draw.
    currency : str
        Currency of the amounts, for the axis and the median's label.
    tr : Catalog
        The run's catalog (``ctx.tr``).

    Returns
    -------
    Axes
    """
    from crmlab.cleaning.activity import order_value_summary

    ax = get_ax(ax)
    if not isinstance(amounts, dict):
        amounts = order_value_summary(pd.Series(np.asarray(amounts, dtype=float)))
    counts = np.asarray(amounts["counts"])
    if counts.sum():
        edges = np.asarray(amounts["edges"], dtype=float)
        ax.hist(edges[:-1], bins=edges, weights=counts, color="#4f81bd", edgecolor="white")
        ax.set_xscale("log")
        median = amounts["median"]
        ax.axvline(median, color="#c0504d", ls="--", label=tr("cleaning.plot.values_median", median=format_money(median, currency, 2)))
        ax.legend(frameon=False)
        money_axis(ax, currency, axis="x")
    ax.set_title(tr("cleaning.plot.values_title"))
    ax.set_xlabel(tr("cleaning.plot.values_x", unit=_unit(currency, tr)))
    ax.set_ylabel(tr("cleaning.plot.values_y"))
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    return ax
