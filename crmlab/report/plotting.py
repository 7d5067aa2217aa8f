"""Figures of the summary report: each takes computed results and ``ax=None``, returns the Axes.

Titles and axis labels (with units) are set here; the readings shown beside each figure
come from :mod:`crmlab.report.narrative`, and saving is
:meth:`crmlab.context.StageContext.show`'s job.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from crmlab.formatting import money_axis
from crmlab.i18n import EN, Catalog
from crmlab.plotting import count_heatmap, get_ax

__all__ = [
    "plot_report_complaints",
    "plot_report_segments",
    "plot_report_tiers",
    "plot_report_migrations",
    "plot_report_trends",
]


def _names(frame, kind_index, kind_columns, tr):
    """``frame`` with its index and columns worded as display names (``tr.name``)."""
    return frame.rename(index=lambda v: tr.name(kind_index, v), columns=lambda v: tr.name(kind_columns, v))


def plot_report_segments(profiles, ax=None, labels=None, source="", tr: Catalog = EN):
    """Paired bars per RFM segment: share of customers vs share of revenue (percent).

    ``profiles`` is ``segmentation.segment_profiles`` output (``rfm_segment``,
    ``customer_share``, ``revenue_share``), drawn top to bottom in its row order. Both bars
    carry their value. ``labels`` maps a segment to its tick label (e.g.
    ``crmlab.segmentation.segment_labels``: a name that overstates its customers says so;
    else the segment's display name ``tr.name("segment", ...)``);
    ``source`` (the data set) is named in the title.
    """
    import numpy as np

    labels = labels or {}
    ax = get_ax(ax, figsize=(8.5, 0.5 * max(len(profiles), 4) + 1.2))
    df = profiles.iloc[::-1].reset_index(drop=True)
    y = np.arange(len(df))
    h = 0.38
    for k, (col, label, offset) in enumerate((("customer_share", tr("report.fig.segments.customers"), h / 2),
                                              ("revenue_share", tr("report.fig.segments.revenue"), -h / 2))):
        bars = ax.barh(y + offset, df[col] * 100, h, color=("#a5a5a5", "#4f81bd")[k], label=label)
        ax.bar_label(bars, labels=[f"{v:.0%}" for v in df[col]], padding=3, fontsize=8)
    ax.set_yticks(y, [labels.get(str(n), tr.name("segment", n)) for n in df["rfm_segment"]], fontsize=8)
    ax.set_title(tr("report.fig.segments.title")
                 + (tr("report.fig.source", source=source) if source else ""))
    ax.set_xlabel(tr("report.fig.segments.xlabel"))
    ax.set_ylabel(tr("report.fig.segments.ylabel"))
    ax.margins(x=0.12)
    ax.legend(frameon=False, loc="lower right")
    return ax


def plot_report_tiers(lifecycle, watch_tiers=(), watch_stages=(), ax=None, tr: Catalog = EN):
    """Heatmap of customers by lifecycle stage (rows) and value tier (columns).

    ``lifecycle`` is ``segmentation.lifecycle_table`` output; the cells of the watch list
    (``watch_tiers`` x ``watch_stages``) are outlined in red.
    """
    ax = get_ax(ax, figsize=(6.5, 3.8))
    cells = [
        (i, j)
        for i, stage in enumerate(lifecycle.index)
        for j, tier in enumerate(lifecycle.columns)
        if stage in watch_stages and tier in watch_tiers
    ]
    count_heatmap(ax, _names(lifecycle, "lifecycle", "tier", tr), highlight=cells)
    title = tr("report.fig.tiers.title")
    ax.set_title(title + (tr("report.fig.tiers.outline") if cells else ""))
    ax.set_xlabel(tr("report.fig.tiers.xlabel"))
    ax.set_ylabel(tr("report.fig.tiers.ylabel"))
    return ax


def plot_report_migrations(matrix, ax=None, tr: Catalog = EN):
    """Heatmap of value-tier moves: previous run's tier (rows) to this run's (columns).

    ``matrix`` is ``segmentation.transition_matrix`` counts (with the ``new`` row and the
    ``not listed`` column); the diagonal (no move) is outlined. Cells are coloured by their
    share of the row, so the moves stay visible next to the large "stayed" cells.
    """
    from crmlab.segmentation import align_transitions

    matrix = align_transitions(matrix)  # cell (i, i) = stayed; the "new" row goes last
    ax = get_ax(ax, figsize=(6.5, 3.8))
    diag = [
        (i, j)
        for i, r in enumerate(matrix.index)
        for j, c in enumerate(matrix.columns)
        if r == c
    ]
    totals = matrix.sum(axis=1).replace(0, 1)
    shown = _names(matrix, "tier", "tier", tr)
    image = count_heatmap(ax, shown, cmap="Oranges", colour=matrix.div(totals, axis=0))
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    bar.set_label(tr("report.fig.moves.colorbar"), fontsize=8)
    for i, j in diag:
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="#7f7f7f", lw=1, ls="--"))
    ax.set_title(tr("report.fig.moves.title"))
    ax.set_xlabel(tr("report.fig.moves.xlabel"))
    ax.set_ylabel(tr("report.fig.moves.ylabel"))
    return ax


def plot_report_trends(history, kpis, labels, units, ticks, percent=(), axes=None, money=(),
                       currency="", tr: Catalog = EN):
    """Small multiples: one line per KPI over the runs in ``history`` (oldest first).

    Parameters
    ----------
    history : DataFrame
        One row per run, a column per KPI (NaN where unavailable).
    kpis : sequence of str
        The KPI columns to draw.
    labels, units : mapping
        KPI -> title, and KPI -> y-axis unit text.
    ticks : sequence of str
        One x tick label per run.
    percent : sequence of str
        KPIs stored as shares (0-1), drawn on a percent axis.
    axes : array of Axes, optional
        At least ``len(kpis)`` axes; a new figure with a grid of 2 columns otherwise.
    money, currency : sequence of str, str
        KPIs that are amounts, drawn with the shared money format (currency, thousands).

    Returns
    -------
    numpy.ndarray of Axes
    """
    import numpy as np
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    if axes is None:
        rows = max(1, -(-len(kpis) // 2))
        _, axes = plt.subplots(rows, 2, figsize=(10, 2.6 * rows + 0.6), squeeze=False)
    axes = np.asarray(axes).ravel()
    x = np.arange(len(history))
    for ax, kpi in zip(axes, kpis, strict=False):
        y = history[kpi].to_numpy(dtype=float)
        ax.plot(x, y, marker="o", color="#4f81bd")
        if len(y) and not np.isnan(y[-1]):
            ax.plot(x[-1:], y[-1:], marker="o", ms=9, color="#c0504d", ls="none")
        ax.set_title(labels.get(kpi, kpi), fontsize=10)
        ax.set_ylabel(units.get(kpi, ""), fontsize=8)
        ax.set_xticks(x, ticks, fontsize=7)
        ax.set_xlim(-0.5, len(x) - 0.5)
        ax.set_xlabel(tr("report.fig.trends.xlabel"), fontsize=8)
        if kpi in percent:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
        elif kpi in money:
            money_axis(ax, currency)
        else:
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"))
        ax.margins(y=0.2)
        finite = y[np.isfinite(y)]
        if len(finite):
            # a change below what the axis can show (rounding noise between runs) is drawn
            # flat: at least +-1 percentage point for shares, +-2% of the level otherwise
            lo, hi = float(finite.min()), float(finite.max())
            half = 0.01 if kpi in percent else max(0.02 * abs(hi), 0.5)
            if hi - lo < half:
                mid = (hi + lo) / 2
                ax.set_ylim(mid - half, mid + half)
        ax.grid(axis="y", color="#eeeeee")
    for ax in axes[len(kpis):]:
        ax.set_visible(False)
    axes[0].figure.suptitle(tr("report.fig.trends.title"), fontsize=11)
    axes[0].figure.tight_layout()
    return axes


def plot_report_complaints(monthly, ax=None, tr: Catalog = EN):
    """Complaint contacts per 1,000 active customers per month; a partial month is drawn hollow.

    ``monthly`` is :func:`crmlab.report.interactions.complaint_monthly` (``month``,
    ``rate_per_1000``, ``partial``).
    """
    ax = get_ax(ax, figsize=(7, 3.6))
    done = monthly[~monthly["partial"].astype(bool)]
    part = monthly[monthly["partial"].astype(bool)]
    ax.plot(done["month"], done["rate_per_1000"], marker="o", color="#c0504d", lw=1.6,
            label=tr("report.fig.complaints.complete"))
    if len(part):
        ax.plot(part["month"], part["rate_per_1000"], marker="o", ls="none", mfc="white", color="#c0504d",
                label=tr("report.fig.complaints.partial"))
    ax.set_title(tr("report.fig.complaints.title"))
    ax.set_xlabel(tr("report.fig.complaints.xlabel"))
    ax.set_ylabel(tr("report.fig.complaints.ylabel"))
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=8)
    return ax
