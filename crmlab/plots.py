"""Drawing only: every function takes computed results and ``ax=None`` and returns the Axes.

Titles and axis labels (with units) are set here; the one-sentence takeaway above each
figure is the notebook's; saving is the notebook's job too.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = [
    "get_ax",
    "plot_quarantine_reasons",
    "plot_monthly_activity",
    "plot_order_values",
]


def get_ax(ax=None, figsize=(7, 4)):
    """Return ``ax`` or a new Axes of a fresh figure."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


# --- cleaning -------------------------------------------------------------------------------


def plot_quarantine_reasons(reasons, ax=None):
    """Horizontal bars: rows quarantined per reason (from ``cleaning.reason_table``)."""
    ax = get_ax(ax, figsize=(7, 0.45 * max(len(reasons), 4) + 1))
    df = reasons.iloc[::-1]
    bars = ax.barh(df["reason"], df["rows"], color="#c0504d")
    ax.bar_label(bars, labels=[f"{r:,}" for r in df["rows"]], padding=3, fontsize=8)
    ax.set_title("Rows quarantined, by reason")
    ax.set_xlabel("rows (count)")
    ax.set_ylabel("reason code")
    ax.margins(x=0.15)
    return ax


def plot_monthly_activity(monthly, ax=None, currency=""):
    """Bars of revenue per month with the number of purchases on a second axis."""
    ax = get_ax(ax, figsize=(8, 4))
    width = 20  # days: a month's bar
    ax.bar(monthly["month"], monthly["revenue"], width=width, color="#4f81bd", label="revenue")
    ax.set_title("Revenue and purchases per month (clean rows)")
    ax.set_xlabel("month")
    ax.set_ylabel(f"revenue ({currency or 'currency units'})")
    ax2 = ax.twinx()
    ax2.plot(monthly["month"], monthly["purchases"], color="#c0504d", marker="o", ms=3, label="purchases")
    ax2.set_ylabel("purchases (rows)")
    ax2.set_ylim(bottom=0)
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(lines, ["revenue", "purchases"], loc="upper right", frameon=False)
    ax.figure.autofmt_xdate()
    return ax


def plot_order_values(amounts, ax=None, currency=""):
    """Histogram of purchase values on a log scale (spend is heavily right-skewed)."""
    import numpy as np

    ax = get_ax(ax)
    values = np.asarray(amounts, dtype=float)
    positive = values[values > 0]
    if len(positive):
        bins = np.logspace(np.log10(positive.min()), np.log10(positive.max()), 40)
        ax.hist(positive, bins=bins, color="#4f81bd", edgecolor="white")
        ax.set_xscale("log")
        ax.axvline(np.median(positive), color="#c0504d", ls="--", label=f"median {np.median(positive):,.2f}")
        ax.legend(frameon=False)
    ax.set_title("Distribution of purchase values (clean rows, log scale)")
    ax.set_xlabel(f"purchase value ({currency or 'currency units'}, log scale)")
    ax.set_ylabel("purchases (count)")
    return ax
