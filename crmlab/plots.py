"""Drawing only: every function takes computed results and ``ax=None`` and returns the Axes.

Titles and axis labels (with units) are set here; the one-sentence takeaway above each
figure is the notebook's; saving is the notebook's job too.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from crmlab.formatting import format_money, money_axis, money_unit
from crmlab.plotting import get_ax

__all__ = [
    "get_ax",
    "plot_quarantine_reasons",
    "plot_monthly_activity",
    "plot_order_values",
    # segmentation
    "plot_rfm_grid",
    "plot_segment_sizes",
    "plot_k_search",
    "plot_stability",
    "plot_cluster_profiles",
    "plot_cluster_projection",
    "plot_lorenz",
    "plot_tiers",
    "plot_lifecycle",
    "plot_transitions",
    # satisfaction
    "plot_reliability",
    "plot_satisfaction_index",
    "plot_construct_correlations",
    "plot_driver_coefficients",
    "plot_driver_importance",
    "plot_importance_performance",
    "plot_loyalty_link",
    "plot_loyalty_coefficients",
    "plot_group_index",
    "plot_nps",
    "plot_path_diagram",
    "plot_direct_total_effects",
    "plot_htmt",
    "plot_index_weights",
    "plot_ipma_total",
    # report
    "plot_report_segments",
    "plot_report_tiers",
    "plot_report_migrations",
    "plot_report_trends",
    # churn
    "plot_roc_curves",
    "plot_pr_curves",
    "plot_calibration_curve",
    "plot_cumulative_gains",
    "plot_lift_by_decile",
    "plot_odds_ratios",
    "plot_probability_by_class",
    "plot_gap_ratios",
    "plot_warning_backtest",
    # value
    "plot_value_deciles",
    "plot_value_gains",
    "plot_value_tracking",
    "plot_value_residuals",
    "plot_value_tiers",
    "plot_glm_coefficients",
]




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


def plot_monthly_activity(monthly, axes=None, currency=""):
    """Two panels on one time axis: revenue per month (top), purchases per month (bottom).

    Two panels rather than two y-axes on one panel: with a second axis the reader cannot
    tell which line belongs to which scale, and the crossing points mean nothing.
    Returns the two Axes (revenue, purchases).
    """
    import numpy as np

    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(8, 5.2), sharex=True, height_ratios=(3, 2))
    top, bottom = np.asarray(axes).ravel()[:2]
    width = 20  # days: a month's bar
    top.bar(monthly["month"], monthly["revenue"], width=width, color="#4f81bd")
    top.set_title("Revenue and purchases per month (clean rows)")
    top.set_ylabel(f"revenue ({money_unit(currency)})")
    money_axis(top, currency)
    bottom.bar(monthly["month"], monthly["purchases"], width=width, color="#a5a5a5")
    bottom.set_ylabel("purchases (rows)")
    bottom.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    bottom.set_xlabel("month")
    for ax in (top, bottom):
        ax.set_ylim(bottom=0)
        ax.set_axisbelow(True)
        ax.grid(axis="y", color="#eeeeee")
    top.figure.autofmt_xdate()
    return np.array([top, bottom])


def plot_order_values(amounts, ax=None, currency=""):
    """Histogram of purchase values on a log scale (spend is heavily right-skewed).

    ``amounts`` is the values, or the histogram already counted on a Dask cluster
    (:func:`crmlab.cleaning.order_value_summary`: ``edges``, ``counts``, ``median``).
    """
    import numpy as np

    ax = get_ax(ax)
    if isinstance(amounts, dict):
        counts = np.asarray(amounts["counts"])
        if counts.sum():
            edges = np.asarray(amounts["edges"], dtype=float)
            ax.hist(edges[:-1], bins=edges, weights=counts, color="#4f81bd", edgecolor="white")
            ax.set_xscale("log")
            median = amounts["median"]
            ax.axvline(median, color="#c0504d", ls="--", label=f"median {format_money(median, currency, 2)}")
            ax.legend(frameon=False)
            money_axis(ax, currency, axis="x")
        positive = ()
    else:
        values = np.asarray(amounts, dtype=float)
        positive = values[values > 0]
    if len(positive):
        bins = np.logspace(np.log10(positive.min()), np.log10(positive.max()), 40)
        ax.hist(positive, bins=bins, color="#4f81bd", edgecolor="white")
        ax.set_xscale("log")
        median = np.median(positive)
        ax.axvline(median, color="#c0504d", ls="--", label=f"median {format_money(median, currency, 2)}")
        ax.legend(frameon=False)
        money_axis(ax, currency, axis="x")
    ax.set_title("Distribution of purchase values (clean rows, log scale)")
    ax.set_xlabel(f"purchase value ({money_unit(currency)}, log scale)")
    ax.set_ylabel("purchases (count)")
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    return ax


# --- satisfaction ---------------------------------------------------------------------------

_SAT_COLORS = {"alpha": "#4f81bd", "composite_reliability": "#9bbb59", "ave": "#f79646"}
_QUADRANT_COLORS = {
    "concentrate here": "#c0504d",
    "keep up the good work": "#4f81bd",
    "low priority": "#7f7f7f",
    "possible overkill": "#f79646",
}


def _sat_empty(ax, title, message):
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#7f7f7f")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def plot_reliability(reliability, ax=None):
    """Draw raw Cronbach's alpha, composite reliability and AVE per construct as bars.

    Dashed lines mark the usual minimums (0.7 for alpha and CR, 0.5 for AVE); each
    construct's label carries its verdict (both alpha and CR must reach 0.7) and the CR bar
    names the model its loadings come from. Single-item constructs have no bars and say so.
    """
    import numpy as np

    ax = get_ax(ax, figsize=(8.5, 0.6 * max(len(reliability), 4) + 1.4))
    df = reliability.iloc[::-1].reset_index(drop=True)
    y = np.arange(len(df))
    h = 0.26
    source = ""
    if "loadings" in df:
        kinds = sorted(set(df.loc[df["items"] > 1, "loadings"]))
        words = {"ml": "ML one-factor", "tau-equivalent": "equal loadings for 2 items"}
        source = f" ({', '.join(words.get(k, k) for k in kinds)})" if kinds else ""
    labels = {"alpha": "Cronbach's alpha (raw)",
              "composite_reliability": f"composite reliability{source}",
              "ave": "AVE (share of item variance explained)"}
    for k, col in enumerate(("alpha", "composite_reliability", "ave")):
        ax.barh(y + (1 - k) * h, df[col].fillna(0), height=h, color=_SAT_COLORS[col],
                label=labels[col])
    for i, row in df.iterrows():
        if row["items"] == 1:
            ax.text(0.02, i, "single item: not estimable", va="center", fontsize=8, color="#7f7f7f")
    ax.axvline(0.7, color="#333333", ls="--", lw=1)
    ax.axvline(0.5, color="#f79646", ls=":", lw=1.2)
    names = df["construct"].astype(str)
    if "verdict" in df:
        names = [f"{c}\n({v})" if v != "single item" else c
                 for c, v in zip(df["construct"], df["verdict"], strict=True)]
    ax.set_yticks(y, names)
    ax.set_xlim(0, 1.05)
    ax.set_title("Which scales can we trust? Alpha and CR must both pass 0.7")
    ax.set_xlabel("coefficient (0-1; dashed: 0.7 for alpha and CR, dotted: 0.5 for AVE)")
    ax.set_ylabel("construct (verdict)")
    ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return ax


def plot_satisfaction_index(index, outcome=None, ax=None):
    """Horizontal bars of the 0-100 index per construct with confidence intervals."""
    ax = get_ax(ax, figsize=(7, 0.45 * max(len(index), 4) + 1.2))
    df = index.iloc[::-1].reset_index(drop=True)
    colors = ["#c0504d" if c == outcome else "#4f81bd" for c in df["construct"]]
    err = [df["index"] - df["ci_low"], df["ci_high"] - df["index"]]
    bars = ax.barh(df["construct"], df["index"], color=colors, xerr=err, capsize=3,
                   error_kw={"elinewidth": 1, "ecolor": "#333333"})
    ax.bar_label(bars, labels=[f"{v:.1f}" for v in df["index"]], padding=14, fontsize=8)
    ax.set_xlim(0, 105)
    title = "How customers rate each construct (0-100 index)"
    if outcome is not None:
        title += f"\nred: {outcome}, the number to track"
    ax.set_title(title)
    ax.set_xlabel("index (0-100 points; bars: mean, whiskers: confidence interval)")
    ax.set_ylabel("construct")
    return ax


def plot_construct_correlations(corr, ax=None):
    """Heatmap of the correlations between construct scores (annotated)."""
    import numpy as np

    ax = get_ax(ax, figsize=(6.5, 5.5))
    m = corr.to_numpy(dtype=float)
    im = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
    n = len(corr)
    ax.set_xticks(np.arange(n), corr.columns, rotation=45, ha="right")
    ax.set_yticks(np.arange(n), corr.index)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if abs(m[i, j]) > 0.6 else "black")
    ax.figure.colorbar(im, ax=ax, label="Pearson correlation (unitless)", shrink=0.8)
    ax.set_title("How strongly construct scores move together")
    ax.set_xlabel("construct")
    ax.set_ylabel("construct")
    return ax


def plot_driver_coefficients(drivers, ax=None, outcome="outcome"):
    """Standardised coefficients with confidence intervals (``DriverResult.table``)."""
    title = f"Own effect of each driver on {outcome}, others held fixed"
    ax = get_ax(ax, figsize=(6, 0.5 * max(len(drivers) if drivers is not None else 0, 4) + 1.2))
    if drivers is None or len(drivers) == 0:
        return _sat_empty(ax, title, "no driver constructs")
    df = drivers.iloc[::-1].reset_index(drop=True)
    err = [df["beta"] - df["ci_low"], df["ci_high"] - df["beta"]]
    ax.errorbar(df["beta"], df["construct"], xerr=err,
                fmt="o", color="#4f81bd", ecolor="#333333", capsize=3)
    ax.axvline(0, color="#7f7f7f", lw=1)
    ax.set_title(title)
    ax.set_xlabel(f"standardised coefficient (SD of {outcome} per SD of the driver; "
                  "whiskers: confidence interval)")
    ax.set_ylabel("driver construct")
    return ax


def plot_driver_importance(drivers, r2=None, ax=None, outcome="outcome"):
    """Bars of each driver's share of R² (Shapley/LMG or relative weights), in percent."""
    title = f"Share of explained {outcome} per driver"
    if r2 is not None:
        title += f" (together R² = {r2:.0%})"
    ax = get_ax(ax, figsize=(6, 0.5 * max(len(drivers) if drivers is not None else 0, 4) + 1.2))
    if drivers is None or len(drivers) == 0:
        return _sat_empty(ax, title, "no driver constructs")
    df = drivers.iloc[::-1].reset_index(drop=True)
    bars = ax.barh(df["construct"], df["importance"] * 100, color="#9bbb59")
    ax.bar_label(bars, labels=[f"{v:.0%}" for v in df["importance"]], padding=3, fontsize=8)
    ax.margins(x=0.15)
    ax.set_title(title)
    ax.set_xlabel("importance (% of the explained variance, sums to 100%)")
    ax.set_ylabel("driver construct")
    return ax


_QUADRANT_CORNERS = {  # Martilla & James: performance across, importance up
    "concentrate here": (0.02, 0.98, "left", "top"),
    "keep up the good work": (0.98, 0.98, "right", "top"),
    "low priority": (0.02, 0.02, "left", "bottom"),
    "possible overkill": (0.98, 0.02, "right", "bottom"),
}


def plot_importance_performance(actions, ax=None, outcome="outcome"):
    """Martilla & James's importance-performance map of the drivers.

    Performance (0-100 index) runs across, importance (% of explained variance) up; the
    four quadrants are Concentrate here (top left), Keep up the good work (top right), Low
    priority (bottom left) and Possible overkill (bottom right). The cross-hair is read from
    ``importance_cut`` / ``performance_cut`` when the table has them
    (``satisfaction.importance_performance``) or ``actions.attrs["crosshair"]``
    (``report.top_drivers``), else it is the middle of the drivers' range on each axis. Drivers with ``actionable`` False are drawn hollow and labelled
    "not a lever".
    """
    import numpy as np

    title = f"Where to act on {outcome}: importance against performance"
    ax = get_ax(ax, figsize=(8, 6))
    if actions is None or len(actions) == 0:
        return _sat_empty(ax, title, "no driver constructs")
    x = actions["performance"].astype(float).to_numpy()
    y = actions["importance"].astype(float).to_numpy() * 100
    if {"importance_cut", "performance_cut"} <= set(actions.columns):
        xm = float(actions["performance_cut"].iloc[0])
        ym = float(actions["importance_cut"].iloc[0]) * 100
    elif actions.attrs.get("crosshair") is not None:
        ym, xm = (float(c) for c in actions.attrs["crosshair"])
        ym *= 100
    else:
        xm, ym = (x.min() + x.max()) / 2, (y.min() + y.max()) / 2
    lever = (actions["actionable"].astype(bool).to_numpy() if "actionable" in actions
             else np.ones(len(actions), dtype=bool))
    colors = [_QUADRANT_COLORS[q] for q in actions["quadrant"]]
    for xi, yi, c, is_lever, name in zip(x, y, colors, lever, actions["construct"], strict=True):
        ax.scatter([xi], [yi], s=90, zorder=3, color=c if is_lever else "white",
                   edgecolor=c, linewidth=2)
        label = name if is_lever else f"{name} (not a lever)"
        ax.annotate(label, (xi, yi), xytext=(7, 5), textcoords="offset points", fontsize=9)
    xspan = max(x.max() - x.min(), 1.0)
    yspan = max(y.max() - y.min(), 1.0)
    ax.set_xlim(min(x.min(), xm) - 0.4 * xspan, max(x.max(), xm) + 0.4 * xspan)
    ax.set_ylim(max(min(y.min(), ym) - 0.4 * yspan, 0), max(y.max(), ym) + 0.4 * yspan)
    ax.axvline(xm, color="#7f7f7f", ls="--", lw=1)
    ax.axhline(ym, color="#7f7f7f", ls="--", lw=1)
    for label, (cx, cy, ha, va) in _QUADRANT_CORNERS.items():
        ax.text(cx, cy, label.capitalize(), transform=ax.transAxes, ha=ha, va=va, fontsize=10,
                fontweight="bold", color=_QUADRANT_COLORS[label], alpha=0.9)
    if not lever.all():
        ax.scatter([], [], s=90, color="white", edgecolor="#7f7f7f", linewidth=2,
                   label="not a lever the firm sets: no investment advice")
        ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    ax.set_title(title)
    ax.set_xlabel(f"performance (index, 0-100 points; dashed: {xm:.1f}, "
                  "middle of the drivers' range)")
    ax.set_ylabel(f"importance (% of explained {outcome}; dashed: {ym:.0f}%)")
    return ax


def plot_loyalty_coefficients(table, loyalty="Loyalty", ax=None):
    """Draw each term's correlation with loyalty (r) beside its coefficient (beta).

    r is the term alone; beta (with its interval) holds the other terms fixed. Terms whose
    sign flips (suppression) are drawn in red. ``table`` is :attr:`crmlab.satisfaction.LoyaltyResult.table`.
    """
    import numpy as np

    title = f"{loyalty}: each construct alone (r) and with the others held fixed (beta)"
    ax = get_ax(ax, figsize=(8, 0.6 * max(len(table) if table is not None else 0, 4) + 1.4))
    if table is None or len(table) == 0:
        return _sat_empty(ax, title, "no multi-construct loyalty model")
    df = table.iloc[::-1].reset_index(drop=True)
    yy = np.arange(len(df))
    flip = df["sign_flip"].astype(bool).to_numpy()
    ax.scatter(df["r"], yy + 0.15, marker="s", s=45, color="#bfbfbf", edgecolor="#7f7f7f",
               zorder=3, label="r: correlation with loyalty, construct alone")
    colors = np.where(flip, "#c0504d", "#4f81bd")
    err = np.vstack([df["beta"] - df["ci_low"], df["ci_high"] - df["beta"]])
    for i in range(len(df)):
        ax.errorbar(df["beta"].iloc[i], yy[i] - 0.15, xerr=err[:, [i]], fmt="o",
                    color=colors[i], ecolor=colors[i], capsize=3, zorder=3)
    ax.errorbar([], [], xerr=[], fmt="o", color="#4f81bd",
                label="beta: with the others held fixed (whiskers: CI)")
    if flip.any():
        ax.errorbar([], [], xerr=[], fmt="o", color="#c0504d",
                    label="sign flips: suppression, not an effect")
    ax.axvline(0, color="#7f7f7f", lw=1)
    names = [f"{t} (sign flips)" if f else t for t, f in zip(df["term"], flip, strict=True)]
    ax.set_yticks(yy, names)
    ax.set_title(title)
    ax.set_xlabel(f"standardised association with {loyalty} (SD per SD)")
    ax.set_ylabel("construct")
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    return ax


def plot_loyalty_link(scores, satisfaction, loyalty, result, ax=None, scale=None):
    """Scatter of loyalty against satisfaction scores with the fitted regression line."""
    import numpy as np

    ax = get_ax(ax, figsize=(6.5, 5))
    pair = scores[[satisfaction, loyalty]].dropna()  # the loss is counted in LoyaltyResult.n
    # Scores are item means, so many respondents share a point: size shows how many.
    counts = pair.groupby([satisfaction, loyalty]).size().reset_index(name="n")
    ax.scatter(counts[satisfaction], counts[loyalty], s=12 * counts["n"], alpha=0.45,
               color="#4f81bd", edgecolor="none", label="respondents (size = count)")
    xs = np.linspace(pair[satisfaction].min(), pair[satisfaction].max(), 50)
    ax.plot(xs, result.intercept + result.slope * xs, color="#c0504d", lw=2,
            label=f"fit: {result.slope:+.2f} {loyalty} points per {satisfaction} point, "
                  f"R² {result.r2:.2f}")
    unit = f"{scale[0]:g}-{scale[1]:g} scale points" if scale is not None else "scale points"
    more = "more" if result.slope >= 0 else "less"
    ax.set_title(f"More {satisfaction} goes with {more} {loyalty} "
                 f"({result.slope:+.2f} points per point)")
    ax.set_xlabel(f"{satisfaction} score ({unit})")
    ax.set_ylabel(f"{loyalty} score ({unit})")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return ax


def plot_group_index(means, construct, ax=None):
    """Bars of one construct's 0-100 index per group (``GroupResult.means``)."""
    ax = get_ax(ax, figsize=(6.5, 4))
    df = means.loc[means["construct"] == construct]
    bars = ax.bar(df["group"].astype(str), df["index"], color="#4f81bd")
    labels = [f"{v:.1f}\n(n={n})" for v, n in zip(df["index"], df["n"], strict=True)]
    ax.bar_label(bars, labels=labels, padding=2, fontsize=8)
    ax.set_ylim(0, 110)
    ax.set_title(f"{construct} index by group")
    ax.set_xlabel("group")
    ax.set_ylabel("index (0-100 points)")
    return ax


def plot_nps(nps, ax=None):
    """One stacked bar: detractors, passives and promoters (%), with the NPS in the title."""
    ax = get_ax(ax, figsize=(7, 2.2))
    left = 0.0
    parts = (
        ("detractors (0-6)", nps["detractors"], "#c0504d"),
        ("passives (7-8)", nps["passives"], "#bfbfbf"),
        ("promoters (9-10)", nps["promoters"], "#9bbb59"),
    )
    for label, share, color in parts:
        ax.barh([0], [share * 100], left=left, color=color, label=label)
        if share > 0.04:
            ax.text(left + share * 50, 0, f"{share:.0%}", ha="center", va="center", fontsize=9)
        left += share * 100
    ax.set_xlim(0, 100)
    ax.set_yticks([])
    ax.set_title(f"Net Promoter Score {nps['nps']:+.0f} (n = {nps['n']})")
    ax.set_xlabel("respondents (%)")
    ax.legend(frameon=False, fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.35))
    return ax


# --- satisfaction: PLS path model -----------------------------------------------------------


def _path_layout(edges, nodes):
    """Positions for a path diagram: x = longest chain from an exogenous construct, y spread."""
    preds = {n: [s for s, t in edges if t == n] for n in nodes}
    level = {}

    def depth(n, seen=()):
        if n not in level:
            level[n] = 1 + max((depth(p, seen + (n,)) for p in preds[n] if p not in seen),
                               default=-1)
        return level[n]

    for n in nodes:
        depth(n)
    pos = {}
    by_level = {}
    for n in nodes:
        by_level.setdefault(level[n], []).append(n)
    for lv, names in by_level.items():
        k = len(names)
        for i, n in enumerate(names):
            base = (i - (k - 1) / 2) * 2.2
            pos[n] = (lv * 2.4, base + (1.1 if k == 1 and lv % 2 else -1.1 if k == 1 and lv else 0))
    return pos


def plot_path_diagram(paths, r2=None, ax=None, positions=None, title=None):
    """Draw a structural (path) model: boxes for constructs, arrows with path coefficients.

    Parameters
    ----------
    paths : mapping of str to float
        ``{"A -> B": coefficient}`` (``satisfaction.json`` ``pls.paths``).
    r2 : mapping of str to float, optional
        R² per endogenous construct, printed in its box.
    positions : mapping of str to (x, y), optional
        Box centres; default: left to right along the longest chain of paths.
    title : str, optional
        Default: "The satisfaction index model: standardised path coefficients".

    Arrow width grows with the coefficient; negative paths are red. Arrows that skip a
    column are curved so they do not run through the boxes between.
    """
    from matplotlib.patches import FancyArrowPatch

    edges = [tuple(part.strip() for part in key.split("->")) for key in paths]
    nodes = list(dict.fromkeys([n for e in edges for n in e]))
    pos = dict(positions) if positions is not None else _path_layout(edges, nodes)
    r2 = dict(r2 or {})
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax = get_ax(ax, figsize=(max(8, 1.8 * (max(xs) - min(xs)) / 2.4 + 3), 6))
    w, h = 1.7, 0.9
    label_y = []
    for (s, t), coef in zip(edges, paths.values(), strict=True):
        (x0, y0), (x1, y1) = pos[s], pos[t]
        span = abs(x1 - x0) / 2.4
        # a long arrow bulges away from the middle row, above or below the boxes it skips
        outward = 1 if (y0 + y1) / 2 > 0 or (y0 + y1 == 0 and y0 > 0) else -1
        rad = 0.0 if span <= 1.01 else -0.3 * outward * (1 if x1 >= x0 else -1)
        color = "#c0504d" if coef < 0 else "#1f4e79"
        arrow = FancyArrowPatch((x0, y0), (x1, y1), connectionstyle=f"arc3,rad={rad}",
                                arrowstyle="-|>", mutation_scale=14, lw=0.8 + 4 * abs(coef),
                                color=color, shrinkA=32, shrinkB=32, zorder=1, alpha=0.8)
        ax.add_patch(arrow)
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        # matplotlib's arc3 is a quadratic Bezier: its midpoint is rad/2 x (dy, -dx) off
        mx += rad * (y1 - y0) / 2
        my -= rad * (x1 - x0) / 2
        label_y.append(my)
        ax.text(mx, my, f"{coef:.2f}", ha="center", va="center", fontsize=9, zorder=4,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9})
    for n, (x, y) in pos.items():
        ax.add_patch(plt.Rectangle((x - w / 2, y - h / 2), w, h, fc="#dce6f2", ec="#1f4e79",
                                   lw=1.2, zorder=2))
        label = n if n not in r2 else f"{n}\nR² = {r2[n]:.2f}"
        ax.text(x, y, label, ha="center", va="center", fontsize=9, zorder=3)
    ax.set_xlim(min(xs) - w, max(xs) + w)
    ax.set_ylim(min(ys + label_y) - 0.8, max(ys + label_y) + 0.8)
    ax.set_aspect("equal")  # arrows curve in screen space: keep data and screen alike
    ax.set_title(title or "The satisfaction index model: standardised path coefficients")
    ax.set_xlabel("cause → effect (arrow width: path coefficient, SD per SD)")
    ax.set_ylabel("constructs (R²: share of variance explained)")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    return ax


def plot_direct_total_effects(effects, target, ax=None):
    """Bars of each construct's direct and indirect effect on ``target`` (stacked = total).

    ``effects`` is :meth:`crmlab.pls.PLSResult.effects_table` (``source``, ``target``,
    ``direct``, ``indirect``, ``total``).
    """
    import numpy as np

    df = effects[effects["target"] == target].sort_values("total")
    ax = get_ax(ax, figsize=(7, 0.5 * max(len(df), 3) + 1.4))
    title = f"Effects on {target}: direct path and through other constructs"
    if len(df) == 0:
        return _sat_empty(ax, title, f"nothing has an effect on {target}")
    y = np.arange(len(df))
    ax.barh(y, df["direct"], color="#4f81bd", label="direct (the path coefficient)")
    ax.barh(y, df["indirect"], left=df["direct"], color="#9bbb59",
            label="indirect (through other constructs)")
    for yi, tot in zip(y, df["total"], strict=True):
        ax.text(tot + 0.01 if tot >= 0 else tot - 0.01, yi, f"total {tot:.2f}", va="center",
                ha="left" if tot >= 0 else "right", fontsize=8)
    ax.axvline(0, color="#7f7f7f", lw=1)
    ax.set_yticks(y, df["source"])
    ax.margins(x=0.2)
    ax.set_title(title)
    ax.set_xlabel(f"standardised effect (SD of {target} per SD of the construct)")
    ax.set_ylabel("construct")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return ax


def plot_htmt(htmt, ax=None, strict=0.85, liberal=0.90):
    """Heatmap of the HTMT ratios (lower triangle), cells at or over the thresholds outlined."""
    import numpy as np

    ax = get_ax(ax, figsize=(6.5, 5.5))
    m = htmt.to_numpy(dtype=float).copy()
    n = len(m)
    m[np.triu_indices(n)] = np.nan
    im = ax.imshow(np.ma.masked_invalid(m), vmin=0, vmax=1, cmap="Blues")
    for i in range(n):
        for j in range(i):
            v = m[i, j]
            weight = "bold" if v >= strict else "normal"
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8, fontweight=weight,
                    color="white" if v > 0.7 else "black")
            if v >= strict:
                ax.add_patch(plt.Rectangle((j - 0.45, i - 0.45), 0.9, 0.9, fill=False, lw=2.5,
                                           ec="#e8000b" if v >= liberal else "#ffb000"))
    ax.set_xticks(np.arange(n), htmt.columns, rotation=45, ha="right")
    ax.set_yticks(np.arange(n), htmt.index)
    ax.figure.colorbar(im, ax=ax, label="HTMT (ratio, unitless)", shrink=0.8)
    ax.set_title(f"Are the constructs distinct? HTMT (amber: ≥ {strict:g}; red: ≥ {liberal:g})")
    ax.set_xlabel("construct")
    ax.set_ylabel("construct")
    return ax


def plot_index_weights(index, ax=None, outcome=None):
    """PLS-weighted (ACSI) index beside the equal-weight index per construct (0-100)."""
    import numpy as np

    ax = get_ax(ax, figsize=(7, 0.5 * max(len(index), 4) + 1.4))
    df = index.iloc[::-1]
    y = np.arange(len(df))
    ax.errorbar(df["index_pls"], y + 0.12, xerr=[df["index_pls"] - df["ci_low"],
                df["ci_high"] - df["index_pls"]], fmt="o", color="#c0504d", capsize=3,
                label="PLS-weighted (ACSI), with confidence interval")
    ax.scatter(df["index_equal"], y - 0.12, marker="s", color="#4f81bd",
               label="equal item weights")
    names = [f"{c} ({d:+.1f})" for c, d in zip(df.index, df["difference"], strict=True)]
    if outcome is not None:
        names = [f"{n} ◀" if c == outcome else n for n, c in zip(names, df.index, strict=True)]
    ax.set_yticks(y, names)
    ax.set_title("Index with model weights against equal weights")
    ax.set_xlabel("index (0-100 points)")
    ax.set_ylabel("construct (PLS minus equal, points)")
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    return ax


def plot_ipma_total(ipma, target, ax=None):
    """Importance-performance map with importance = total effect on ``target`` (ACSI style).

    ``ipma`` is :func:`crmlab.satisfaction_pls.importance_performance_total`.
    """
    ax = get_ax(ax, figsize=(8, 6))
    title = f"Priority map for {target}: total effect against performance"
    if ipma is None or len(ipma) == 0:
        return _sat_empty(ax, title, "no drivers")
    x = ipma["performance"].astype(float).to_numpy()
    y = ipma["importance"].astype(float).to_numpy()
    xm, ym = float(ipma["performance_cut"].iloc[0]), float(ipma["importance_cut"].iloc[0])
    for xi, yi, q, lever, name in zip(x, y, ipma["quadrant"], ipma["actionable"],
                                      ipma["construct"], strict=True):
        c = _QUADRANT_COLORS[q]
        ax.scatter([xi], [yi], s=90, zorder=3, color=c if lever else "white", edgecolor=c,
                   linewidth=2)
        ax.annotate(name if lever else f"{name} (not a lever)", (xi, yi), xytext=(7, 5),
                    textcoords="offset points", fontsize=9)
    xspan = max(x.max() - x.min(), 1.0)
    yspan = max(y.max() - y.min(), 0.05)
    ax.set_xlim(min(x.min(), xm) - 0.4 * xspan, max(x.max(), xm) + 0.4 * xspan)
    ax.set_ylim(min(y.min(), ym, 0) - 0.1 * yspan, max(y.max(), ym) + 0.4 * yspan)
    ax.axvline(xm, color="#7f7f7f", ls="--", lw=1)
    ax.axhline(ym, color="#7f7f7f", ls="--", lw=1)
    for label, (cx, cy, ha, va) in _QUADRANT_CORNERS.items():
        ax.text(cx, cy, label.capitalize(), transform=ax.transAxes, ha=ha, va=va, fontsize=10,
                fontweight="bold", color=_QUADRANT_COLORS[label], alpha=0.9)
    ax.set_title(title)
    ax.set_xlabel("performance (PLS-weighted index, 0-100 points)")
    ax.set_ylabel(f"importance (total effect: {target} index points per index point)")
    return ax


# --- report (summary report and run-over-run monitoring) ----------------------------------


def _report_heatmap(ax, table, cmap="Blues", highlight=(), colour=None):
    """Annotated count heatmap of a DataFrame; ``highlight`` outlines (row, col) cells.

    ``colour`` (same shape, 0-1) sets the cell colours instead of the counts, so a large
    cell does not wash out the others; the annotations are always the counts.
    """
    import numpy as np

    values = table.to_numpy(dtype=float)
    shade = values if colour is None else np.nan_to_num(np.asarray(colour, dtype=float))
    top = max(shade.max(), 1e-12) if shade.size else 1
    image = ax.imshow(shade, cmap=cmap, aspect="auto", vmin=0, vmax=1 if colour is not None else top)
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, f"{v:,.0f}", ha="center", va="center", fontsize=9,
                color="white" if shade[i, j] > 0.6 * top else "#1f2328")
    for i, j in highlight:
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="#c0504d", lw=2.5))
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
    ax.set_yticks(range(table.shape[0]), [str(r) for r in table.index])
    ax.tick_params(length=0)
    return image


def plot_report_segments(profiles, ax=None, labels=None, source=""):
    """Paired bars per RFM segment: share of customers vs share of revenue (percent).

    ``profiles`` is ``segmentation.segment_profiles`` output (``rfm_segment``,
    ``customer_share``, ``revenue_share``), drawn top to bottom in its row order. Both bars
    carry their value. ``labels`` maps a segment to its tick label (e.g.
    ``segment_readings.segment_labels``: a name that overstates its customers says so);
    ``source`` (the data set) is named in the title.
    """
    import numpy as np

    labels = labels or {}
    ax = get_ax(ax, figsize=(8.5, 0.5 * max(len(profiles), 4) + 1.2))
    df = profiles.iloc[::-1].reset_index(drop=True)
    y = np.arange(len(df))
    h = 0.38
    for k, (col, label, offset) in enumerate((("customer_share", "share of customers", h / 2),
                                              ("revenue_share", "share of revenue", -h / 2))):
        bars = ax.barh(y + offset, df[col] * 100, h, color=("#a5a5a5", "#4f81bd")[k], label=label)
        ax.bar_label(bars, labels=[f"{v:.0%}" for v in df[col]], padding=3, fontsize=8)
    ax.set_yticks(y, [labels.get(str(n), str(n)) for n in df["rfm_segment"]], fontsize=8)
    ax.set_title("Share of customers and of revenue per RFM segment"
                 + (f"\n({source})" if source else ""))
    ax.set_xlabel("share of all customers / of all revenue (%)")
    ax.set_ylabel("RFM segment")
    ax.margins(x=0.12)
    ax.legend(frameon=False, loc="lower right")
    return ax


def plot_report_tiers(lifecycle, watch_tiers=(), watch_stages=(), ax=None):
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
    _report_heatmap(ax, lifecycle, highlight=cells)
    title = "Customers by value tier and lifecycle stage"
    ax.set_title(title + ("\n(red outline: the watch list)" if cells else ""))
    ax.set_xlabel("value tier (customers)")
    ax.set_ylabel("lifecycle stage")
    return ax


def plot_report_migrations(matrix, ax=None):
    """Heatmap of value-tier moves: previous run's tier (rows) to this run's (columns).

    ``matrix`` is ``segmentation.transition_matrix`` counts (with the ``new`` row and the
    ``not listed`` column); the diagonal (no move) is outlined. Cells are coloured by their
    share of the row, so the moves stay visible next to the large "stayed" cells.
    """
    from crmlab.segment_readings import align_transitions

    matrix = align_transitions(matrix)  # cell (i, i) = stayed; the "new" row goes last
    ax = get_ax(ax, figsize=(6.5, 3.8))
    diag = [
        (i, j)
        for i, r in enumerate(matrix.index)
        for j, c in enumerate(matrix.columns)
        if r == c
    ]
    totals = matrix.sum(axis=1).replace(0, 1)
    image = _report_heatmap(ax, matrix, cmap="Oranges", colour=matrix.div(totals, axis=0))
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    bar.set_label("share of the row's customers", fontsize=8)
    for i, j in diag:
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="#7f7f7f", lw=1, ls="--"))
    ax.set_title("Value-tier moves since the previous run (customers)\n"
                 "right of the dashed diagonal: moved down; left of it: moved up")
    ax.set_xlabel("value tier in this run")
    ax.set_ylabel("value tier in the previous run")
    return ax


def plot_report_trends(history, kpis, labels, units, ticks, percent=(), axes=None, money=(),
                       currency=""):
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
        ax.set_xlabel("run (data up to)", fontsize=8)
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
    axes[0].figure.suptitle("KPI trend over successful runs (red: this run)", fontsize=11)
    axes[0].figure.tight_layout()
    return axes


# --- segmentation ---------------------------------------------------------------------------

_TIER_COLORS = {"high": "#1f4e79", "medium": "#4f81bd", "low": "#b9cde5"}
_GROUP_WORDS = {"rfm_segment": "RFM segment", "value_tier": "value tier",
                "lifecycle_stage": "lifecycle stage", "cluster_name": "cluster"}
_SEG_SHARE_COLORS = ("#bfbfbf", "#4f81bd")  # share of customers, share of revenue


def _seg_empty(ax, title, message):
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes,
            color="#7f7f7f", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def plot_rfm_grid(counts, names, ax=None, row_labels=None):
    """Draw the RFM segment map as a 5 x 5 grid, cells coloured by segment, with counts.

    ``counts`` and ``names`` are :func:`crmlab.segmentation.rfm_grid` and
    :func:`crmlab.segmentation.segment_grid` (rows r_score 5..1, columns fm_score 1..5).
    ``row_labels`` maps an R score to its tick label, e.g. the days behind it
    (:func:`crmlab.segment_readings.score_ranges`).
    """
    import numpy as np
    from matplotlib.colors import ListedColormap

    ax = get_ax(ax, figsize=(10, 6.5))
    labels = list(dict.fromkeys(names.to_numpy().ravel()))
    code = names.apply(lambda col: col.map({n: i for i, n in enumerate(labels)})).to_numpy()
    cmap = ListedColormap(plt.get_cmap("tab20")(np.linspace(0, 1, 20))[: max(len(labels), 1)])
    ax.imshow(code, cmap=cmap, vmin=-0.5, vmax=len(labels) - 0.5, alpha=0.55, aspect="auto")
    total = max(int(counts.to_numpy().sum()), 1)
    for i in range(names.shape[0]):
        for j in range(names.shape[1]):
            n = int(counts.iat[i, j])
            ax.text(j, i, f"{names.iat[i, j]}\n{n:,} ({n / total:.0%})", ha="center",
                    va="center", fontsize=8)
    ax.set_xticks(range(names.shape[1]), [str(c) for c in names.columns])
    row_labels = row_labels or {}
    ax.set_yticks(range(names.shape[0]), [row_labels.get(r, str(r)) for r in names.index])
    ax.set_title("RFM segment map: customers per score cell")
    ax.set_xlabel("FM score: mean of frequency and monetary scores (1 = lowest, 5 = highest)")
    ax.set_ylabel("R score (5 = bought most recently; days since last purchase)"
                  if row_labels else "R score (5 = bought most recently)")
    return ax


def plot_segment_sizes(profiles, by="rfm_segment", ax=None, labels=None):
    """Draw each group's share of customers beside its share of revenue (horizontal bars).

    ``labels`` maps a group to its tick label (e.g. ``segment_readings.segment_labels``).
    """
    import numpy as np

    labels = labels or {}
    ax = get_ax(ax, figsize=(8.5, 0.5 * max(len(profiles), 3) + 1.2))
    df = profiles.iloc[::-1].reset_index(drop=True)
    y = np.arange(len(df))
    h = 0.4
    for k, (col, label) in enumerate((("customer_share", "share of customers"),
                                      ("revenue_share", "share of revenue"))):
        bars = ax.barh(y + (0.5 - k) * h, df[col] * 100, height=h,
                       color=_SEG_SHARE_COLORS[k], label=label)
        ax.bar_label(bars, labels=[f"{v:.0%}" for v in df[col]], padding=2, fontsize=7)
    ax.set_yticks(y, [labels.get(str(n), str(n)) for n in df[by]], fontsize=8)
    what = _GROUP_WORDS.get(by, by.replace("_", " "))
    ax.set_title(f"Who carries the revenue? Customers and revenue by {what}")
    ax.set_xlabel("share of all customers / of all revenue (%)")
    ax.set_ylabel(what)
    ax.margins(x=0.12)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return ax


def plot_k_search(search, chosen, axes=None):
    """Two panels over k: the silhouette on Kaufman & Rousseeuw's bands, Calinski-Harabasz.

    The silhouette panel shades K&R's readings (0.26-0.50 weak, 0.51-0.70 reasonable,
    above 0.70 strong) so the chosen value is read on an absolute scale; the
    Calinski-Harabasz panel has no absolute scale and is only compared across k. Returns
    the two Axes.
    """
    import numpy as np

    from crmlab.segment_readings import SILHOUETTE_SCALE

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    left, right = np.asarray(axes).ravel()[:2]
    bands = {"strong": "#c6e0b4", "reasonable": "#e2efda", "weak": "#fff2cc",
             "no substantial": "#fbe5d6"}
    top = 1.0
    for bound, label in SILHOUETTE_SCALE:
        lo = max(bound, -0.05 if bound < 0 else bound)
        left.axhspan(lo, top, color=bands[label], zorder=0)
        left.text(1.01, (lo + min(top, 1.0)) / 2, f"{label}\nstructure", fontsize=7,
                  va="center", transform=left.get_yaxis_transform())
        top = bound
    left.plot(search["k"], search["silhouette"], marker="o", color="#1f4e79")
    left.set_ylim(-0.05, 1.0)
    left.set_title("Silhouette (absolute scale)", fontsize=10)
    left.set_ylabel("mean silhouette (-1 to 1, higher is better)")
    right.plot(search["k"], search["calinski_harabasz"], marker="s", color="#c0504d")
    right.set_title("Calinski-Harabasz (compare across k only)", fontsize=10)
    right.set_ylabel("Calinski-Harabasz index (ratio, higher is better)")
    right.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    for ax in (left, right):
        ax.axvline(chosen, color="#333333", ls="--", lw=1)
        ax.set_xticks(list(search["k"]))
        ax.set_xlabel("number of clusters k (dashed: chosen)")
    left.figure.suptitle(f"How many clusters? Chosen k = {chosen}", fontsize=11)
    left.figure.tight_layout()
    return np.array([left, right])


def plot_stability(stability, ax=None):
    """Draw the bootstrap adjusted Rand index of each resample, with its mean."""
    ax = get_ax(ax, figsize=(7, 3))
    title = "Cluster stability: agreement of refits on bootstrap resamples"
    if stability.empty:
        return _seg_empty(ax, title, "no bootstrap resamples (segmentation.bootstrap = 0)")
    from matplotlib.ticker import MaxNLocator

    ax.plot(stability["resample"], stability["ari"], "o", color="#4f81bd")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    mean = stability["ari"].mean()
    ax.axhline(mean, color="#c0504d", ls="--", lw=1, label=f"mean ARI {mean:.3f}")
    ax.set_ylim(min(0.0, stability["ari"].min() - 0.05), 1.05)
    ax.set_title(title)
    ax.set_xlabel("bootstrap resample (number)")
    ax.set_ylabel("adjusted Rand index (1 = same clusters)")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return ax


_FEATURE_LABELS = {
    "days_since_last": "recency\n(days since last purchase)",
    "purchase_days": "frequency\n(purchase days)",
    "spend_per_line": "spend per order line\n(not total spend)",
}


def plot_cluster_profiles(profiles, ax=None, currency=""):
    """Heatmap of cluster centroids (z-scores of the log features) annotated with raw means.

    Red = above the average customer, blue = below; a low recency (blue) is good.
    """
    import numpy as np

    feats = list(_FEATURE_LABELS)
    ax = get_ax(ax, figsize=(8, 0.7 * max(len(profiles), 2) + 1.6))
    z = profiles[[f"z_{f}" for f in feats]].to_numpy(dtype=float)
    lim = max(1.0, float(np.nanmax(np.abs(z))))
    im = ax.imshow(z, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    fmt = {"days_since_last": "{:,.0f} days".format, "purchase_days": "{:,.1f} purchase days".format,
           "spend_per_line": lambda v: format_money(v, currency, 2)}
    for i in range(len(profiles)):
        for j, f in enumerate(feats):
            ax.text(j, i, f"{fmt[f](profiles[f'mean_{f}'].iat[i])}\nz = {z[i, j]:+.2f}",
                    ha="center", va="center", fontsize=8,
                    color="white" if abs(z[i, j]) > 0.6 * lim else "black")
    rows = [f"{c}: {n}\n({s:.0%} of customers)" for c, n, s in
            zip(profiles["cluster"], profiles["cluster_name"], profiles["customer_share"],
                strict=True)]
    ax.set_yticks(range(len(profiles)), rows, fontsize=8)
    ax.set_xticks(range(len(feats)), [_FEATURE_LABELS[f] for f in feats], fontsize=8)
    ax.figure.colorbar(im, ax=ax, label="centroid (standard deviations of log feature)")
    ax.set_title("Cluster profiles: mean per cluster (cells) and distance from average (colour)")
    ax.set_xlabel("feature (cell text: cluster mean in original units)")
    ax.set_ylabel("cluster")
    return ax


def plot_cluster_projection(points, explained, names=None, ax=None):
    """Scatter customers on the first two principal components, coloured by cluster."""
    ax = get_ax(ax, figsize=(8, 5.5))
    cmap = plt.get_cmap("tab10")
    for c in sorted(points["cluster"].unique()):
        sub = points[points["cluster"] == c]
        label = f"{c}: {names.get(c, '')}" if names is not None else str(c)
        ax.scatter(sub["pc1"], sub["pc2"], s=5, alpha=0.35, color=cmap(int(c) % 10), label=label,
                   rasterized=True)
    ax.set_title(f"Customers in two dimensions ({len(points):,} shown), coloured by cluster")
    ax.set_xlabel(f"first principal component ({explained[0]:.0%} of variance, std. units)")
    ax.set_ylabel(f"second principal component ({explained[1]:.0%} of variance, std. units)")
    leg = ax.legend(frameon=False, fontsize=8, markerscale=3, loc="best")
    for h in leg.legend_handles:
        h.set_alpha(1)
    return ax


def plot_lorenz(conc, ax=None):
    """Lorenz curve of revenue with the equality line, the Gini and the top-share point."""
    ax = get_ax(ax, figsize=(6, 5.5))
    lz = conc.lorenz
    ax.plot(lz["customer_share"] * 100, lz["revenue_share"] * 100, color="#4f81bd",
            label=f"Lorenz curve (Gini {conc.gini:.2f})")
    ax.fill_between(lz["customer_share"] * 100, lz["revenue_share"] * 100,
                    lz["customer_share"] * 100, color="#4f81bd", alpha=0.12)
    ax.plot([0, 100], [0, 100], color="#7f7f7f", ls="--", lw=1, label="everyone spends the same")
    x = (1 - conc.top) * 100
    y = (1 - conc.top_share) * 100
    ax.plot([x], [y], "o", color="#c0504d")
    ax.annotate(f"top {conc.top:.0%} of customers\nmake {conc.top_share:.0%} of revenue",
                (x, y), xytext=(-150, 40), textcoords="offset points", fontsize=8,
                arrowprops={"arrowstyle": "->", "color": "#c0504d"})
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_title("Revenue concentration (Lorenz curve)")
    ax.set_xlabel("customers, smallest spenders first (cumulative %)")
    ax.set_ylabel("revenue (cumulative %)")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return ax


def plot_tiers(tiers, ax=None):
    """Draw each value tier's share of customers beside its share of revenue."""
    import numpy as np

    ax = get_ax(ax, figsize=(7, 4))
    x = np.arange(len(tiers))
    w = 0.38
    for k, (col, label) in enumerate((("customer_share", "share of customers"),
                                      ("revenue_share", "share of revenue"))):
        bars = ax.bar(x + (k - 0.5) * w, tiers[col] * 100, width=w, color=_SEG_SHARE_COLORS[k],
                      label=label)
        ax.bar_label(bars, labels=[f"{v:.0%}" for v in tiers[col]], padding=2, fontsize=8)
    ax.set_xticks(x, [f"{t}\n({n:,} customers)" for t, n in
                      zip(tiers["value_tier"], tiers["customers"], strict=True)])
    ax.set_title("Value tiers: few customers, most of the revenue")
    ax.set_xlabel("value tier")
    ax.set_ylabel("share (%)")
    ax.set_ylim(0, 100)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return ax


def plot_lifecycle(table, ax=None):
    """Stacked horizontal bars: customers per lifecycle stage, split by value tier."""
    ax = get_ax(ax, figsize=(8, 3.6))
    df = table.iloc[::-1]
    left = None
    for tier in df.columns:
        ax.barh(df.index.astype(str), df[tier], left=left, color=_TIER_COLORS.get(tier),
                label=f"{tier} tier")
        left = df[tier] if left is None else left + df[tier]
    for i, total in enumerate(df.sum(axis=1)):
        ax.text(total, i, f" {total:,}", va="center", fontsize=8)
    ax.margins(x=0.1)
    ax.set_title("Lifecycle stage of each customer, by value tier")
    ax.set_xlabel("customers (count)")
    ax.set_ylabel("lifecycle stage")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return ax


def plot_transitions(shares, counts, ax=None, what="value tier"):
    """Heatmap of a transition matrix: row shares as colour, share and count in each cell."""
    import numpy as np

    from crmlab.segment_readings import align_transitions

    title = f"Segment migration: {what} before (rows) and after (columns)"
    ax = get_ax(ax, figsize=(1.3 * max(counts.shape[1], 3) + 2.5,
                             0.55 * max(counts.shape[0], 3) + 1.5))
    if counts.empty:
        return _seg_empty(ax, title, "no earlier date to compare (periods.calibration_end unset)")
    # cell (i, i) = stayed in the group: the newcomers' row goes last, not first
    counts = align_transitions(counts)
    shares = shares.loc[counts.index, counts.columns]
    s = shares.to_numpy(dtype=float)
    ax.imshow(np.nan_to_num(s), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(s.shape[0]):
        for j in range(s.shape[1]):
            n = int(counts.iat[i, j])
            # empty rows show "-", empty cells nothing: the eye goes to where customers went
            text = "-" if np.isnan(s[i, j]) else f"{s[i, j]:.0%}\n({n:,})" if n else ""
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if (not np.isnan(s[i, j]) and s[i, j] > 0.6) else "black")
    for i, r in enumerate(counts.index):
        if r in counts.columns:  # outline "stayed"
            j = list(counts.columns).index(r)
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="#7f7f7f",
                                       lw=1, ls="--"))
    rows = [f"{r} ({int(t):,})" for r, t in zip(counts.index, counts.sum(axis=1), strict=True)]
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_xticks(range(counts.shape[1]), [str(c) for c in counts.columns], fontsize=8,
                  rotation=30 if counts.shape[1] > 5 else 0, ha="right" if counts.shape[1] > 5 else "center")
    ax.set_title(title)
    ax.set_xlabel(f"{what} at the later date (cell: share of the row, count; dashed: stayed)")
    ax.set_ylabel(f"{what} at the earlier date (customers)")
    return ax


# --- churn ----------------------------------------------------------------------------------

_CHURN_COLORS = {"logistic": "#4f81bd", "gradient_boosting": "#9bbb59", "final": "#8064a2"}


def _churn_label(name):
    return str(name).replace("_", " ")


def plot_roc_curves(points, ax=None):
    """ROC curves per model (from ``churn.curve_points``), AUC in the legend."""
    ax = get_ax(ax, figsize=(5.5, 5))
    roc = points[points["curve"] == "roc"]
    for name, part in roc.groupby("model", sort=False):
        ax.plot(part["x"], part["y"], color=_CHURN_COLORS.get(name), lw=1.8,
                label=f"{_churn_label(name)} (AUC {part['auc'].iloc[0]:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="random ranking (AUC 0.5)")
    ax.set_title("ROC curve on the test split")
    ax.set_xlabel("false positive rate (share of stayers flagged)")
    ax.set_ylabel("true positive rate (share of churners caught)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(frameon=False, loc="lower right", fontsize=8)
    return ax


def plot_pr_curves(points, base_rate, ax=None):
    """Precision-recall curves per model with the no-skill line at the churn rate."""
    ax = get_ax(ax, figsize=(5.5, 5))
    pr = points[points["curve"] == "pr"]
    for name, part in pr.groupby("model", sort=False):
        ax.plot(part["x"], part["y"], color=_CHURN_COLORS.get(name), lw=1.8,
                label=f"{_churn_label(name)} (AP {part['auc'].iloc[0]:.3f})")
    ax.axhline(base_rate, color="grey", ls="--", lw=1, label=f"no skill (churn rate {base_rate:.1%})")
    ax.set_title("Precision-recall curve on the test split")
    ax.set_xlabel("recall (share of churners caught)")
    ax.set_ylabel("precision (share of flagged who churn)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(frameon=False, loc="upper right", fontsize=8)
    return ax


def plot_calibration_curve(tables, ax=None):
    """Reliability diagram: observed vs predicted churn rate per bin, one line per model.

    ``tables`` maps a label to a ``churn.reliability_table``.
    """
    ax = get_ax(ax, figsize=(5.5, 5))
    top = 0.0
    for name, table in tables.items():
        ax.plot(table["mean_predicted"], table["observed_rate"], marker="o", ms=4, lw=1.5,
                color=_CHURN_COLORS.get(name), label=_churn_label(name))
        top = max(top, table["mean_predicted"].max(), table["observed_rate"].max())
    top = min(1.0, top * 1.05 + 0.02)
    ax.plot([0, top], [0, top], color="grey", ls="--", lw=1, label="perfectly calibrated")
    ax.set_title("Calibration on the test split (10 equal-size bins)")
    ax.set_xlabel("mean predicted churn probability in the bin")
    ax.set_ylabel("observed churn rate in the bin")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.legend(frameon=False, loc="upper left", fontsize=8)
    return ax


def plot_cumulative_gains(gains, capacity=None, ax=None):
    """Cumulative gains: share of churners caught when contacting the riskiest x% first."""
    import numpy as np

    ax = get_ax(ax, figsize=(6, 4.5))
    x = np.r_[0, gains["cum_customers_share"].to_numpy()] * 100
    y = np.r_[0, gains["cum_churners_share"].to_numpy()] * 100
    base = gains["churners"].sum() / gains["customers"].sum()
    ax.plot(x, y, marker="o", ms=4, color="#4f81bd", label="model ranking")
    ax.plot([0, 100], [0, 100], color="grey", ls="--", lw=1, label="random order")
    ax.plot([0, base * 100, 100], [0, 100, 100], color="#9bbb59", ls=":", lw=1.2,
            label="perfect model")
    if capacity is not None:
        ax.axvline(capacity * 100, color="#c0504d", lw=1, ls="-.",
                   label=f"capacity {capacity:.0%} of customers")
    ax.set_title("Cumulative gains on the test split")
    ax.set_xlabel("customers contacted, riskiest first (% of customers)")
    ax.set_ylabel("churners reached (% of all churners)")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 101)
    ax.legend(frameon=False, loc="lower right", fontsize=8)
    return ax


def plot_lift_by_decile(gains, ax=None):
    """Bars: churn rate of each risk decile relative to the overall churn rate (lift)."""
    ax = get_ax(ax, figsize=(6, 4))
    ax.axhline(1, color="grey", ls="--", lw=1, label="overall churn rate (lift 1)", zorder=0)
    bars = ax.bar(gains["decile"], gains["lift"], color="#4f81bd")
    ax.bar_label(bars, labels=[f"{v:.1f}" for v in gains["lift"]], padding=2, fontsize=8,
                 bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
    ax.set_xticks(gains["decile"])
    ax.set_title("Lift by risk decile on the test split (1 = riskiest 10%)")
    ax.set_xlabel("risk decile")
    ax.set_ylabel("lift (decile churn rate / overall rate, x)")
    ax.margins(y=0.12)
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_odds_ratios(odds, ax=None):
    """Forest plot: odds ratio and confidence interval per term (log scale, 1 = no effect).

    Terms are shown in words (``label`` when present); a term marked ``suppression`` is
    drawn hollow and its odds ratio on its own is given next to its name.
    """
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, NullFormatter

    df = odds.iloc[::-1].reset_index(drop=True)
    ax = get_ax(ax, figsize=(8.5, 0.32 * max(len(df), 4) + 1.4))
    y = np.arange(len(df))
    # grey: the interval crosses 1, the data cannot tell the direction
    unclear = (df["ci_low"] <= 1) & (df["ci_high"] >= 1)
    colors = np.where(unclear, "#a6a6a6", np.where(df["odds_ratio"] > 1, "#c0504d", "#4f81bd"))
    sup = (df["suppression"].astype(bool) if "suppression" in df.columns
           else np.zeros(len(df), dtype=bool))
    sup = np.asarray(sup, dtype=bool)
    # separated levels (tiny tables) have odds ratios near 0 or infinity: show them at the
    # edge of a readable window, marked with an arrow, instead of stretching the axis
    lo = float(np.clip(np.nanmin(df["ci_low"].where(df["ci_low"] > 0)), 1e-3, 0.9)) / 1.3
    hi = float(np.clip(np.nanmax(df["ci_high"].where(np.isfinite(df["ci_high"]))), 1.1, 1e3)) * 1.3
    ax.hlines(y, df["ci_low"].clip(lo, hi), df["ci_high"].clip(lo, hi), color=colors, lw=2)
    point = df["odds_ratio"].clip(lo, hi)
    inside = ((df["odds_ratio"] >= lo) & (df["odds_ratio"] <= hi)).to_numpy()
    ax.scatter(point[inside & ~sup], y[inside & ~sup], color=colors[inside & ~sup], zorder=3, s=18)
    ax.scatter(point[inside & sup], y[inside & sup], facecolor="white", edgecolor=colors[inside & sup],
               zorder=3, s=30, lw=1.5)
    ax.scatter(point[~inside], y[~inside], color=colors[~inside], zorder=3, s=40,
               marker="<" if (df["odds_ratio"][~inside] < lo).all() else ">")
    ax.axvline(1, color="grey", ls="--", lw=1)
    names = df["label"] if "label" in df.columns else df["term"].astype(str).str.replace("_", " ")
    labels = []
    for i, (name, unit) in enumerate(zip(names, df["unit"], strict=True)):
        text = f"{name}  [{unit}]"
        if sup[i]:
            text += f"  - suppression: x{df['alone_odds_ratio'].iloc[i]:.2f} on its own"
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
    handles = [Line2D([], [], color="#c0504d", marker="o", lw=2, label="raises churn risk"),
               Line2D([], [], color="#4f81bd", marker="o", lw=2, label="lowers churn risk"),
               Line2D([], [], color="#a6a6a6", marker="o", lw=2, label="unclear (interval crosses 1)")]
    if sup.any():
        handles.append(Line2D([], [], color="#7f7f7f", marker="o", markerfacecolor="white", lw=0,
                              label="suppression effect: not a cause"))
    ax.legend(handles=handles, frameon=False, fontsize=7, loc="lower right")
    ax.set_title("What goes with churn, other features held fixed (logistic regression)")
    ax.set_xlabel("odds ratio of churn (x, log scale; 1 = no difference), 95% interval")
    ax.set_ylabel("customer feature [compared with]")
    return ax


def plot_probability_by_class(probability, actual, thresholds=None, labels=("stayed", "churned"), ax=None):
    """Histograms of predicted churn probability for stayers and churners (counts: imbalance shows)."""
    import numpy as np

    ax = get_ax(ax, figsize=(7, 4))
    p = np.asarray(probability, dtype=float)
    y = np.asarray(actual)
    bins = np.linspace(0, 1, 41)
    # outlines, not translucent fills: two filled histograms hide each other where they overlap
    ax.hist(p[y == 0], bins=bins, color="#4f81bd", histtype="step", lw=1.8,
            label=f"{labels[0]} ({(y == 0).sum():,})")
    ax.hist(p[y == 1], bins=bins, color="#c0504d", histtype="step", lw=1.8,
            label=f"{labels[1]} ({(y == 1).sum():,})")
    for name, t in (thresholds or {}).items():
        ax.axvline(t, color="black", ls="--", lw=1)
        ax.text(t, ax.get_ylim()[1] * 0.97, f" {name} >= {t:.2f}", fontsize=8, va="top")
    ax.set_title("Predicted churn probability by actual outcome (out-of-sample scores)")
    ax.set_xlabel("predicted churn probability (0-1)")
    ax.set_ylabel("customers (count)")
    ax.legend(frameon=False, loc="center right", fontsize=8)
    return ax


def plot_gap_ratios(warning, factor, ax=None):
    """Histogram of days since last purchase / usual gap (log scale) of repeat buyers, by status.

    Stacked, non-overlapping bars: warned (on the capacity-sized list), overdue or low
    P(alive) but beyond the capacity, and not flagged. One-time buyers have no gap of their
    own (they are all measured against one shop-wide gap, so they pile up in one spike):
    they are summarised in a note instead of drawn. Needs ``gap_ratio``, ``warning`` and
    optionally ``candidate``, ``one_time_buyer`` from ``churn.transactional_warning``.
    """
    import numpy as np

    ax = get_ax(ax, figsize=(7.5, 4))
    r = warning["gap_ratio"].to_numpy(dtype=float)
    warned = warning["warning"].to_numpy(dtype=bool)
    cand = (warning["candidate"].to_numpy(dtype=bool) if "candidate" in warning.columns
            else warned)
    one = (warning["one_time_buyer"].to_numpy(dtype=bool) if "one_time_buyer" in warning.columns
           else np.zeros(len(r), dtype=bool))
    rep = ~one
    groups = [
        (warned & rep, "#c0504d", f"warned: on the call list ({(warned & rep).sum():,})"),
        (cand & ~warned & rep, "#f2b8b6",
         f"overdue or low P(alive), beyond capacity ({(cand & ~warned & rep).sum():,})"),
        (~cand & rep, "#b7c9e2", f"not flagged ({(~cand & rep).sum():,})"),
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
    ax.axvline(factor, color="black", ls="--", lw=1.2, label=f"overdue from {factor:g}x the usual gap")
    note = ""
    if one.any():
        ro = r[one]
        note = (f"\nnot drawn: {one.sum():,} one-time buyers, all at {np.nanmin(ro):.1f}-"
                f"{np.nanmax(ro):.1f}x the shop's usual gap; {(warned & one).sum():,} of them warned")
    ax.set_title("Repeat buyers: time since last purchase against their own usual gap")
    ax.set_xlabel("days since last purchase / usual days between purchases (x, log scale)" + note)
    ax.set_ylabel("customers (count)")
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    ax.margins(y=0.25)
    return ax


def plot_warning_backtest(backtest, ax=None):
    """Bars: share who bought nothing in the holdout, among flagged vs all customers.

    ``backtest`` is ``churn.warning_backtest``'s dict (``precision``, ``base_rate``,
    ``lift``, ``as_of``, ``until``, ``flagged``, ``customers``).
    """
    ax = get_ax(ax, figsize=(6, 3.8))
    values = [backtest["precision"] or 0.0, backtest["base_rate"] or 0.0]
    names = [f"flagged at {backtest['as_of']}\n({backtest['flagged']:,} customers)",
             f"all customers\n({backtest['customers']:,})"]
    bars = ax.bar(names, [v * 100 for v in values], color=["#c0504d", "#a6a6a6"], width=0.55)
    ax.bar_label(bars, labels=[f"{v:.0%}" for v in values], padding=2, fontsize=9)
    ax.set_ylim(0, 105)
    lift = backtest.get("lift")
    ax.set_title("Backtest of the purchase-based warning"
                 + (f": lift {lift:.2f}x" if lift is not None else ""))
    ax.set_ylabel(f"bought nothing until {backtest['until']} (% of group)")
    ax.set_xlabel("customers known at the flag date")
    return ax


# --- value prediction -----------------------------------------------------------------------

_VALUE_COLOURS = {
    "naive": "#7f7f7f",
    "bgnbd_gg": "#c0504d",
    "glm_tweedie": "#4f81bd",
    "gbm": "#9bbb59",
    "ensemble": "#8064a2",
}


def _money(currency):
    return currency or "currency units"


def _money_axis(axis, currency=""):
    """Format an axis as money: the currency sign and thousands separators."""
    from matplotlib.ticker import FuncFormatter

    sign = currency or ""
    axis.set_major_formatter(FuncFormatter(
        lambda v, _: f"-{sign}{abs(v):,.0f}" if v < 0 else f"{sign}{v:,.0f}"))


def plot_value_deciles(deciles, model="", ax=None, currency=""):
    """Bars of mean actual holdout spend per predicted decile, with the mean forecast.

    ``deciles`` is ``crmlab.value.decile_table`` output (decile 1 = highest forecasts).
    """
    ax = get_ax(ax, figsize=(7, 4))
    x = deciles["decile"].to_numpy()
    ax.bar(x, deciles["mean_actual"], color="#d9d9d9", edgecolor="#7f7f7f", label="actual (mean)")
    ax.plot(x, deciles["mean_predicted"], marker="o", color=_VALUE_COLOURS.get(model, "#4f81bd"),
            label="forecast (mean)")
    ax.set_xticks(x)
    ax.set_title(f"Forecast vs actual holdout spend by forecast decile{f' ({model})' if model else ''}")
    ax.set_xlabel("forecast decile (1 = the 10% with the highest forecasts)")
    ax.set_ylabel(f"mean holdout spend per customer ({_money(currency)})")
    _money_axis(ax.yaxis, currency)
    ax.legend(frameon=False)
    return ax


def plot_value_gains(gains, reference="bgnbd_gg", ax=None):
    """Gains over the benchmark: extra share of holdout spend each model's list reaches.

    ``gains`` is ``crmlab.value.gains_table`` output: ``customer_share``, one column per
    model and ``perfect``. The cumulative gains curves of good models lie within a point
    of each other and cannot be told apart; their difference from the ``reference``
    (benchmark) list can. The hindsight list is drawn as a ceiling when it fits.
    """
    ax = get_ax(ax, figsize=(8, 4.8))
    x = gains["customer_share"].to_numpy() * 100
    base = gains[reference].to_numpy() * 100
    for col in gains.columns:
        if col in ("customer_share", "perfect", reference):
            continue
        diff = gains[col].to_numpy() * 100 - base
        ax.plot(x, diff, lw=1.8, color=_VALUE_COLOURS.get(col), label=col)
    ax.axhline(0, color=_VALUE_COLOURS.get(reference, "grey"), lw=1.4, ls="--",
               label=f"{reference} (reference)")
    ax.axvline(10, color="grey", lw=0.6, ls=":")
    ax.set_xlim(0, 100)
    ax.set_title("Gains over the benchmark's list: extra holdout spend reached", fontsize=11)
    ax.set_xlabel("customers targeted, highest forecast first (% of customers)")
    ax.set_ylabel("extra share of holdout spend (% points)")
    ax.legend(frameon=False, fontsize=8, loc="best")
    return ax


def plot_value_tracking(tracking, ax=None, currency=""):
    """Cumulative holdout spend week by week: actual (black) against each model's forecast.

    ``tracking`` is ``crmlab.value.weekly_tracking`` output.
    """
    ax = get_ax(ax, figsize=(8, 4.5))
    x = tracking["week_end"]
    ax.plot(x, tracking["actual"], color="black", lw=2.4, label="actual")
    for col in tracking.columns:
        if col in ("week", "week_end", "actual"):
            continue
        ax.plot(x, tracking[col], lw=1.4, ls="--", color=_VALUE_COLOURS.get(col), label=col)
    ax.set_title("Aggregate tracking: cumulative holdout spend, actual vs forecast")
    ax.set_xlabel("end of holdout week (date)")
    ax.set_ylabel(f"cumulative spend ({_money(currency)})")
    _money_axis(ax.yaxis, currency)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    ax.figure.autofmt_xdate()
    return ax


def plot_value_residuals(actual, predicted, model="", ax=None, currency="", bins=10):
    """Mean residual (actual - forecast) per forecast group, with its 95% interval.

    Customers are sorted by forecast into ``bins`` groups of equal size; a bar above zero
    means the model under-forecast that group on average (bias), the whisker the
    uncertainty of that mean. Individual residuals are not drawn: most customers spend
    nothing, a few a lot, and a cloud of 20,000 such points says only that.
    """
    import numpy as np

    ax = get_ax(ax, figsize=(8, 4.5))
    y = np.asarray(actual, dtype=float)
    p = np.asarray(predicted, dtype=float)
    r = y - p
    order = np.argsort(p, kind="stable")
    groups = np.array_split(order, bins)
    means = np.array([r[g].mean() for g in groups])
    ci = np.array([1.96 * r[g].std(ddof=1) / np.sqrt(len(g)) if len(g) > 1 else 0.0 for g in groups])
    sign = currency or ""
    labels = [f"{sign}{p[g].min():,.0f}-{sign}{p[g].max():,.0f}" for g in groups]
    x = np.arange(len(groups))
    colours = ["#c0504d" if m < 0 else "#4f81bd" for m in means]
    ax.bar(x, means, color=colours, alpha=0.8, yerr=ci, ecolor="#404040", capsize=3)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(x, labels, rotation=35, ha="right", fontsize=8)
    ax.set_title(f"Bias by forecast group{f' ({model})' if model else ''}: mean actual - forecast, 95% CI")
    ax.set_xlabel(f"forecast holdout spend of the group ({_money(currency)}; {bins} groups of equal size)")
    ax.set_ylabel(f"mean actual - forecast per customer ({_money(currency)})")
    _money_axis(ax.yaxis, currency)
    return ax


def plot_value_backtest(table, axes=None, currency=""):
    """Small multiples: RMSE, Spearman, top-decile share and total error at every cut-off.

    ``table`` is ``crmlab.value.backtest`` output (``origin``, ``model``, the metrics,
    ``chosen``). The chosen model of each cut-off is one line, the benchmark another,
    the other regression models thin lines behind them.
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    if axes is None:
        _, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True)
    axes = list(getattr(axes, "flat", axes))
    t = table.assign(origin=pd.to_datetime(table["origin"]))
    panels = [("rmse", f"RMSE ({_money(currency)} per customer)", 1), ("spearman", "Spearman rank correlation", 1),
              ("top_decile_share", "top-decile share (%)", 100), ("aggregate_error", "total error (%)", 100)]
    chosen = t[t["chosen"]].sort_values("origin")
    bench = t[t["model"] == "bgnbd_gg"].sort_values("origin")
    for ax, (col, label, k) in zip(axes, panels, strict=False):
        for m in ("glm_tweedie", "gbm", "ensemble"):
            d = t[t["model"] == m].sort_values("origin")
            if d.empty or d["chosen"].all():  # drawn as the chosen model
                continue
            ax.plot(d["origin"], d[col] * k, lw=0.8, alpha=0.5, color=_VALUE_COLOURS.get(m), label=m)
        ax.plot(bench["origin"], bench[col] * k, marker="s", lw=1.8, color=_VALUE_COLOURS["bgnbd_gg"],
                label="bgnbd_gg (benchmark)")
        ax.plot(chosen["origin"], chosen[col] * k, marker="o", lw=2.2, color="black", label="chosen model")
        if col == "aggregate_error":
            ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(label, fontsize=10)
        ax.set_ylabel(label)
    ticks = sorted(t["origin"].unique())
    for ax in axes:
        ax.set_xticks(ticks, [f"{pd.Timestamp(d):%Y-%m-%d}" for d in ticks])
    for ax in axes[2:]:
        ax.set_xlabel("calibration cut-off (month end)")
        ax.tick_params(axis="x", rotation=35)
    axes[0].legend(frameon=False, fontsize=7, loc="best")
    axes[0].figure.suptitle("Rolling-origin backtest: the chosen model and the benchmark at every cut-off")
    axes[0].figure.tight_layout()
    return axes


def plot_value_tiers(crosstab, ax=None):
    """Heatmap: customers by value tier from past spend (rows) and from forecast CLV (columns).

    Cells above the diagonal (forecast tier better than past tier) are outlined: the
    customers history alone undervalues.
    """
    import numpy as np

    ax = get_ax(ax, figsize=(5.5, 4.2))
    n = crosstab.shape[0]
    rows = crosstab.to_numpy(dtype=float)
    # colour by share of the row, so the big 'low' tier does not wash out the others
    colour = rows / np.maximum(rows.sum(axis=1, keepdims=True), 1)
    image = _report_heatmap(ax, crosstab, cmap="Blues",
                            highlight=[(i, j) for i in range(n) for j in range(n) if j < i],
                            colour=colour)
    ax.figure.colorbar(image, ax=ax, label="share of the past tier's customers")
    ax.set_title("Value tiers: past spend vs forecast CLV (outlined: undervalued)")
    ax.set_xlabel("tier from forecast CLV")
    ax.set_ylabel("tier from calibration spend")
    return ax


def plot_glm_coefficients(coefficients, ax=None):
    """Dot-and-whisker plot of GLM coefficients (elasticities), without the constant.

    ``coefficients`` is ``TweedieGLM.coefficients()`` output; its ``label`` column (business
    words) names the rows when present.
    """
    ax = get_ax(ax, figsize=(7.5, 4))
    df = coefficients[coefficients["feature"] != "const"].iloc[::-1]
    names = df["label"] if "label" in df else df["feature"]
    y = range(len(df))
    ax.errorbar(df["coef"], y, xerr=[df["coef"] - df["ci_low"], df["ci_high"] - df["coef"]],
                fmt="o", color="#4f81bd", ecolor="#7f7f7f", capsize=3)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(list(y), names)
    ax.set_title("Tweedie GLM: what moves a customer above or below the benchmark (95% CI)", fontsize=11)
    ax.set_xlabel("coefficient on the log factor (for a (log) input: % change per 1% more of it)")
    ax.set_ylabel("customer input")
    return ax
