"""Figures of the churn stage: each takes computed results and ``ax=None`` and returns the Axes.

Titles and axis labels (with units) are set here, in the language of ``tr`` (the run's
catalog, English by default); the takeaway above a figure comes from
:mod:`crmlab.churn.narrative`, and saving is :meth:`crmlab.context.StageContext.show`'s job.
"""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, NullFormatter

from crmlab.i18n import EN, Catalog
from crmlab.plotting import get_ax

__all__ = [
    "plot_roc_curves",
    "plot_pr_curves",
    "plot_calibration_curve",
    "plot_cumulative_gains",
    "plot_lift_by_decile",
    "plot_odds_ratios",
    "plot_probability_by_class",
    "plot_gap_ratios",
    "plot_warning_backtest",
    "plot_backtest_comparison",
]

_MODEL_COLOURS = {"logistic": "#4f81bd", "gradient_boosting": "#9bbb59", "final": "#8064a2"}


def _model_label(name, tr=EN):
    key = f"churn.model.{name}"
    return tr(key) if tr.has(key) else str(name).replace("_", " ")


def plot_roc_curves(points, ax=None, tr: Catalog = EN):
    """ROC curves per model (from :func:`~crmlab.churn.evaluation.curve_points`), AUC in the legend."""
    ax = get_ax(ax, figsize=(5.5, 5))
    roc = points[points["curve"] == "roc"]
    for name, part in roc.groupby("model", sort=False):
        ax.plot(part["x"], part["y"], color=_MODEL_COLOURS.get(name), lw=1.8,
                label=tr("churn.plot.auc_label", model=_model_label(name, tr), auc=part["auc"].iloc[0]))
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label=tr("churn.plot.random_roc"))
    ax.set_title(tr("churn.plot.roc_title"))
    ax.set_xlabel(tr("churn.plot.roc_x"))
    ax.set_ylabel(tr("churn.plot.roc_y"))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(frameon=False, loc="lower right", fontsize=8)
    return ax


def plot_pr_curves(points, base_rate, ax=None, tr: Catalog = EN):
    """Precision-recall curves per model with the no-skill line at the churn rate."""
    ax = get_ax(ax, figsize=(5.5, 5))
    pr = points[points["curve"] == "pr"]
    for name, part in pr.groupby("model", sort=False):
        ax.plot(part["x"], part["y"], color=_MODEL_COLOURS.get(name), lw=1.8,
                label=tr("churn.plot.ap_label", model=_model_label(name, tr), ap=part["auc"].iloc[0]))
    ax.axhline(base_rate, color="grey", ls="--", lw=1, label=tr("churn.plot.no_skill", rate=base_rate))
    ax.set_title(tr("churn.plot.pr_title"))
    ax.set_xlabel(tr("churn.plot.pr_x"))
    ax.set_ylabel(tr("churn.plot.pr_y"))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(frameon=False, loc="upper right", fontsize=8)
    return ax


def plot_calibration_curve(tables, ax=None, tr: Catalog = EN):
    """Reliability diagram: observed vs predicted churn rate per bin, one line per model.

    ``tables`` maps a model name to its :func:`~crmlab.churn.evaluation.reliability_table`.
    """
    ax = get_ax(ax, figsize=(5.5, 5))
    top = 0.0
    for name, table in tables.items():
        ax.plot(table["mean_predicted"], table["observed_rate"], marker="o", ms=4, lw=1.5,
                color=_MODEL_COLOURS.get(name), label=_model_label(name, tr))
        top = max(top, table["mean_predicted"].max(), table["observed_rate"].max())
    top = min(1.0, top * 1.05 + 0.02)
    ax.plot([0, top], [0, top], color="grey", ls="--", lw=1, label=tr("churn.plot.perfect_calibration"))
    ax.set_title(tr("churn.plot.calibration_title"))
    ax.set_xlabel(tr("churn.plot.calibration_x"))
    ax.set_ylabel(tr("churn.plot.calibration_y"))
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.legend(frameon=False, loc="upper left", fontsize=8)
    return ax


def plot_cumulative_gains(gains, capacity=None, ax=None, tr: Catalog = EN):
    """Cumulative gains: share of churners caught when contacting the riskiest x% first.

    ``gains`` is :func:`~crmlab.churn.evaluation.churn_gains` output.
    """
    ax = get_ax(ax, figsize=(6, 4.5))
    x = np.r_[0, gains["cum_customers_share"].to_numpy()] * 100
    y = np.r_[0, gains["cum_churners_share"].to_numpy()] * 100
    base = gains["churners"].sum() / gains["customers"].sum()
    ax.plot(x, y, marker="o", ms=4, color="#4f81bd", label=tr("churn.plot.model_ranking"))
    ax.plot([0, 100], [0, 100], color="grey", ls="--", lw=1, label=tr("churn.plot.random_order"))
    ax.plot([0, base * 100, 100], [0, 100, 100], color="#9bbb59", ls=":", lw=1.2,
            label=tr("churn.plot.perfect_model"))
    if capacity is not None:
        ax.axvline(capacity * 100, color="#c0504d", lw=1, ls="-.",
                   label=tr("churn.plot.capacity", capacity=capacity))
    ax.set_title(tr("churn.plot.gains_title"))
    ax.set_xlabel(tr("churn.plot.gains_x"))
    ax.set_ylabel(tr("churn.plot.gains_y"))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 101)
    ax.legend(frameon=False, loc="lower right", fontsize=8)
    return ax


def plot_lift_by_decile(gains, ax=None, tr: Catalog = EN):
    """Bars: churn rate of each risk decile relative to the overall churn rate (lift)."""
    ax = get_ax(ax, figsize=(6, 4))
    ax.axhline(1, color="grey", ls="--", lw=1, label=tr("churn.plot.lift_line"), zorder=0)
    bars = ax.bar(gains["decile"], gains["lift"], color="#4f81bd")
    ax.bar_label(bars, labels=[tr("churn.plot.lift_bar", value=v) for v in gains["lift"]], padding=2, fontsize=8,
                 bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
    ax.set_xticks(gains["decile"])
    ax.set_title(tr("churn.plot.lift_title"))
    ax.set_xlabel(tr("churn.plot.lift_x"))
    ax.set_ylabel(tr("churn.plot.lift_y"))
    ax.margins(y=0.12)
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_odds_ratios(odds, ax=None, tr: Catalog = EN):
    """Forest plot: odds ratio and confidence interval per term (log scale, 1 = no effect).

    Terms are shown in words (``label`` when present); a term marked ``suppression`` is
    drawn hollow and its odds ratio on its own is given next to its name.
    """
    df = odds.iloc[::-1].reset_index(drop=True)
    ax = get_ax(ax, figsize=(8.5, 0.32 * max(len(df), 4) + 1.4))
    y = np.arange(len(df))
    # grey: the interval crosses 1, the data cannot tell the direction
    unclear = (df["ci_low"] <= 1) & (df["ci_high"] >= 1)
    colours = np.where(unclear, "#a6a6a6", np.where(df["odds_ratio"] > 1, "#c0504d", "#4f81bd"))
    sup = (df["suppression"].astype(bool) if "suppression" in df.columns
           else np.zeros(len(df), dtype=bool))
    sup = np.asarray(sup, dtype=bool)
    # separated levels (tiny tables) have odds ratios near 0 or infinity: show them at the
    # edge of a readable window, marked with an arrow, instead of stretching the axis
    lo = float(np.clip(np.nanmin(df["ci_low"].where(df["ci_low"] > 0)), 1e-3, 0.9)) / 1.3
    hi = float(np.clip(np.nanmax(df["ci_high"].where(np.isfinite(df["ci_high"]))), 1.1, 1e3)) * 1.3
    ax.hlines(y, df["ci_low"].clip(lo, hi), df["ci_high"].clip(lo, hi), color=colours, lw=2)
    point = df["odds_ratio"].clip(lo, hi)
    inside = ((df["odds_ratio"] >= lo) & (df["odds_ratio"] <= hi)).to_numpy()
    ax.scatter(point[inside & ~sup], y[inside & ~sup], color=colours[inside & ~sup], zorder=3, s=18)
    ax.scatter(point[inside & sup], y[inside & sup], facecolor="white", edgecolor=colours[inside & sup],
               zorder=3, s=30, lw=1.5)
    ax.scatter(point[~inside], y[~inside], color=colours[~inside], zorder=3, s=40,
               marker="<" if (df["odds_ratio"][~inside] < lo).all() else ">")
    ax.axvline(1, color="grey", ls="--", lw=1)
    names = df["label"] if "label" in df.columns else df["term"].astype(str).str.replace("_", " ")
    labels = []
    for i, (name, unit) in enumerate(zip(names, df["unit"], strict=True)):
        text = tr("churn.plot.odds_tick", name=name, unit=unit)
        if sup[i]:
            text += tr("churn.plot.odds_suppression", alone=df["alone_odds_ratio"].iloc[i])
        labels.append(text)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    dense = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
    sparse = (0.001, 0.01, 0.1, 1, 10, 100, 1000)
    ticks = [t for t in (dense if hi / lo < 1e3 else sparse) if lo <= t <= hi]
    ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    handles = [Line2D([], [], color="#c0504d", marker="o", lw=2, label=tr("churn.plot.raises")),
               Line2D([], [], color="#4f81bd", marker="o", lw=2, label=tr("churn.plot.lowers")),
               Line2D([], [], color="#a6a6a6", marker="o", lw=2, label=tr("churn.plot.unclear"))]
    if sup.any():
        handles.append(Line2D([], [], color="#7f7f7f", marker="o", markerfacecolor="white", lw=0,
                              label=tr("churn.plot.suppression")))
    ax.legend(handles=handles, frameon=False, fontsize=7, loc="lower right")
    ax.set_title(tr("churn.plot.odds_title"))
    ax.set_xlabel(tr("churn.plot.odds_x"))
    ax.set_ylabel(tr("churn.plot.odds_y"))
    return ax


def plot_probability_by_class(probability, actual, thresholds=None, labels=None, ax=None, tr: Catalog = EN):
    """Histograms of predicted churn probability for stayers and churners (counts: imbalance shows).

    ``labels`` names the two classes (default: *stayed*, *churned* in the language of ``tr``);
    ``thresholds`` maps a risk band (``high``, ``medium``) to its lower probability.
    """
    if labels is None:
        labels = (tr("churn.plot.stayed"), tr("churn.plot.churned"))
    ax = get_ax(ax, figsize=(7, 4))
    p = np.asarray(probability, dtype=float)
    y = np.asarray(actual)
    bins = np.linspace(0, 1, 41)
    # outlines, not translucent fills: two filled histograms hide each other where they overlap
    ax.hist(p[y == 0], bins=bins, color="#4f81bd", histtype="step", lw=1.8,
            label=tr("churn.plot.class_label", name=labels[0], n=(y == 0).sum()))
    ax.hist(p[y == 1], bins=bins, color="#c0504d", histtype="step", lw=1.8,
            label=tr("churn.plot.class_label", name=labels[1], n=(y == 1).sum()))
    for name, t in (thresholds or {}).items():
        ax.axvline(t, color="black", ls="--", lw=1)
        ax.text(t, ax.get_ylim()[1] * 0.97, tr("churn.plot.threshold", name=tr.name("risk_band", name), value=t), fontsize=8, va="top")
    ax.set_title(tr("churn.plot.probability_title"))
    ax.set_xlabel(tr("churn.plot.probability_x"))
    ax.set_ylabel(tr("churn.plot.customers_y"))
    ax.legend(frameon=False, loc="center right", fontsize=8)
    return ax


def plot_gap_ratios(warning, factor, ax=None, tr: Catalog = EN):
    """Histogram of days since last purchase / usual gap (log scale) of repeat buyers, by status.

    Stacked, non-overlapping bars: warned (on the capacity-sized list), overdue or low
    P(alive) but beyond the capacity, and not flagged. One-time buyers have no gap of their
    own (they are all measured against one shop-wide gap, so they pile up in one spike):
    they are summarised in a note instead of drawn. Needs ``gap_ratio``, ``warning`` and
    optionally ``candidate``, ``one_time_buyer`` from :func:`~crmlab.churn.warning.transactional_warning`.
    """
    ax = get_ax(ax, figsize=(7.5, 4))
    r = warning["gap_ratio"].to_numpy(dtype=float)
    warned = warning["warning"].to_numpy(dtype=bool)
    cand = (warning["candidate"].to_numpy(dtype=bool) if "candidate" in warning.columns
            else warned)
    one = (warning["one_time_buyer"].to_numpy(dtype=bool) if "one_time_buyer" in warning.columns
           else np.zeros(len(r), dtype=bool))
    rep = ~one
    groups = [
        (warned & rep, "#c0504d", tr("churn.plot.warned", n=(warned & rep).sum())),
        (cand & ~warned & rep, "#f2b8b6", tr("churn.plot.beyond_capacity", n=(cand & ~warned & rep).sum())),
        (~cand & rep, "#b7c9e2", tr("churn.plot.not_flagged", n=(~cand & rep).sum())),
    ]
    pos = r[rep & np.isfinite(r) & (r > 0)]
    if len(pos):
        lo = max(pos.min(), 0.05)
        edges = np.logspace(np.log10(lo), np.log10(max(pos.max(), lo * 10)) + 1e-9, 31)
        bottom = np.zeros(len(edges) - 1)
        for mask, color, label in groups:
            counts, _ = np.histogram(np.clip(r[mask & (r > 0)], lo, None), bins=edges)
            ax.bar(edges[:-1], counts, width=np.diff(edges), bottom=bottom, align="edge",
                   color=color, edgecolor="white", lw=0.5, label=label)
            bottom += counts
        ax.set_xscale("log")
    ax.axvline(factor, color="black", ls="--", lw=1.2, label=tr("churn.plot.overdue_from", factor=factor))
    note = ""
    if one.any():
        ro = r[one]
        note = tr("churn.plot.one_time_note", n=one.sum(), low=np.nanmin(ro), high=np.nanmax(ro),
                  warned=(warned & one).sum())
    ax.set_title(tr("churn.plot.gap_title"))
    ax.set_xlabel(tr("churn.plot.gap_x") + note)
    ax.set_ylabel(tr("churn.plot.customers_y"))
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    ax.margins(y=0.25)
    return ax


def plot_warning_backtest(backtest, ax=None, tr: Catalog = EN):
    """Bars: share who bought nothing in the holdout, among flagged vs all customers.

    ``backtest`` is :func:`~crmlab.churn.backtest.warning_backtest`'s dict (``precision``, ``base_rate``,
    ``lift``, ``as_of``, ``until``, ``flagged``, ``customers``).
    """
    ax = get_ax(ax, figsize=(6, 3.8))
    values = [backtest["precision"] or 0.0, backtest["base_rate"] or 0.0]
    names = [tr("churn.plot.flagged_at", as_of=backtest["as_of"], n=backtest["flagged"]),
             tr("churn.plot.all_customers", n=backtest["customers"])]
    bars = ax.bar(names, [v * 100 for v in values], color=["#c0504d", "#a6a6a6"], width=0.55)
    ax.bar_label(bars, labels=[f"{v:.0%}" for v in values], padding=2, fontsize=9)
    ax.set_ylim(0, 105)
    lift = backtest.get("lift")
    ax.set_title(tr("churn.plot.backtest_title")
                 + (tr("churn.plot.backtest_lift", lift=lift) if lift is not None else ""))
    ax.set_ylabel(tr("churn.plot.backtest_y", until=backtest["until"]))
    ax.set_xlabel(tr("churn.plot.backtest_x"))
    return ax




def plot_backtest_comparison(comparison, ax=None, tr: Catalog = EN):
    """Draw grouped bars: precision and recall of the backtest, purchases only vs with interaction signals.

    ``comparison`` is :func:`~crmlab.churn.backtest.backtest_comparison`'s dict; the dashed
    line is the base rate (the precision of a random list).
    """
    ax = get_ax(ax, figsize=(6, 3.8))
    a, b = comparison["purchases_only"], comparison["with_interactions"]
    x = np.arange(2)
    for i, (res, name, colour) in enumerate([(a, tr("churn.plot.purchases_only"), "#a6a6a6"),
                                              (b, tr("churn.plot.with_signals"), "#c0504d")]):
        vals = [(res["precision"] or 0.0) * 100, (res["recall"] or 0.0) * 100]
        bars = ax.bar(x + (i - 0.5) * 0.38, vals, width=0.36, color=colour, label=name)
        ax.bar_label(bars, labels=[f"{v:.0f}%" for v in vals], padding=2, fontsize=9)
    if a.get("base_rate") is not None:
        ax.axhline(a["base_rate"] * 100, color="black", ls="--", lw=1, label=tr("churn.plot.base_rate"))
    ax.set_xticks(x, [tr("churn.plot.precision"), tr("churn.plot.recall")])
    ax.set_ylim(0, 110)
    ax.set_ylabel(tr("churn.plot.comparison_y", as_of=a["as_of"], until=a["until"]))
    ax.set_xlabel(tr("churn.plot.comparison_x"))
    ax.set_title(tr("churn.plot.comparison_title"))
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    return ax
