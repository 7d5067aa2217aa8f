"""Drawing only: the satisfaction stage's figures.

Every function takes computed results and ``ax=None``, sets the title and axis labels (with
units) and returns the Axes; the takeaway above each figure is :mod:`.narrative`'s, saving
is the stage context's (:mod:`.views` pairs them).
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from crmlab.plotting import get_ax
from crmlab.satisfaction.nps import nps_bands
from crmlab.satisfaction.thresholds import HTMT_LIBERAL, HTMT_STRICT, NPS_SCALE

__all__ = [
    "plot_reliability",
    "plot_satisfaction_index",
    "plot_construct_correlations",
    "plot_driver_coefficients",
    "plot_driver_importance",
    "plot_importance_performance",
    "plot_loyalty_coefficients",
    "plot_loyalty_link",
    "plot_group_index",
    "plot_nps",
    "plot_path_diagram",
    "plot_direct_total_effects",
    "plot_htmt",
    "plot_index_weights",
    "plot_ipma_total",
]

_COLOURS = {"alpha": "#4f81bd", "composite_reliability": "#9bbb59", "ave": "#f79646"}
_QUADRANT_COLOURS = {
    "concentrate here": "#c0504d",
    "keep up the good work": "#4f81bd",
    "low priority": "#7f7f7f",
    "possible overkill": "#f79646",
}


def _empty(ax, title, message):
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
        ax.barh(y + (1 - k) * h, df[col].fillna(0), height=h, color=_COLOURS[col],
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
    colours = ["#c0504d" if c == outcome else "#4f81bd" for c in df["construct"]]
    err = [df["index"] - df["ci_low"], df["ci_high"] - df["index"]]
    bars = ax.barh(df["construct"], df["index"], color=colours, xerr=err, capsize=3,
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
        return _empty(ax, title, "no driver constructs")
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
        return _empty(ax, title, "no driver constructs")
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
    (:func:`crmlab.satisfaction.importance_performance`) or ``actions.attrs["crosshair"]``
    (``report.top_drivers``), else it is the middle of the drivers' range on each axis. Drivers with ``actionable`` False are drawn hollow and labelled
    "not a lever".
    """
    import numpy as np

    title = f"Where to act on {outcome}: importance against performance"
    ax = get_ax(ax, figsize=(8, 6))
    if actions is None or len(actions) == 0:
        return _empty(ax, title, "no driver constructs")
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
    colours = [_QUADRANT_COLOURS[q] for q in actions["quadrant"]]
    for xi, yi, c, is_lever, name in zip(x, y, colours, lever, actions["construct"], strict=True):
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
                fontweight="bold", color=_QUADRANT_COLOURS[label], alpha=0.9)
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
        return _empty(ax, title, "no multi-construct loyalty model")
    df = table.iloc[::-1].reset_index(drop=True)
    yy = np.arange(len(df))
    flip = df["sign_flip"].astype(bool).to_numpy()
    ax.scatter(df["r"], yy + 0.15, marker="s", s=45, color="#bfbfbf", edgecolor="#7f7f7f",
               zorder=3, label="r: correlation with loyalty, construct alone")
    colours = np.where(flip, "#c0504d", "#4f81bd")
    err = np.vstack([df["beta"] - df["ci_low"], df["ci_high"] - df["beta"]])
    for i in range(len(df)):
        ax.errorbar(df["beta"].iloc[i], yy[i] - 0.15, xerr=err[:, [i]], fmt="o",
                    color=colours[i], ecolor=colours[i], capsize=3, zorder=3)
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


def _band_label(name, band):
    if band is None:
        return f"{name} (no answer)"
    lo, hi = band
    return f"{name} ({lo:g})" if lo == hi else f"{name} ({lo:g}-{hi:g})"


def plot_nps(nps, ax=None):
    """One stacked bar: detractors, passives and promoters (%), with the NPS in the title.

    ``nps`` is :func:`crmlab.satisfaction.nps_summary` (or
    :func:`crmlab.satisfaction.net_promoter_score`): shares ``detractors``, ``passives``,
    ``promoters``, ``nps``, ``n`` and, when known, the item's ``scale`` and ``mapping`` (a
    0-10 item read by its labels otherwise) and the interval ``ci_low``/``ci_high`` at
    ``confidence``. The legend names the answers of each band on the scale actually used
    (1-6 detractors on a 1-10 item, not 0-6).
    """
    ax = get_ax(ax, figsize=(7, 2.2))
    bands = nps_bands(nps.get("scale") or NPS_SCALE, nps.get("mapping") or "labels")
    left = 0.0
    parts = (
        ("detractors", nps["detractors"], "#c0504d"),
        ("passives", nps["passives"], "#bfbfbf"),
        ("promoters", nps["promoters"], "#9bbb59"),
    )
    for name, share, colour in parts:
        ax.barh([0], [share * 100], left=left, color=colour, label=_band_label(name, bands[name]))
        if share > 0.04:
            ax.text(left + share * 50, 0, f"{share:.0%}", ha="center", va="center", fontsize=9)
        left += share * 100
    ax.set_xlim(0, 100)
    ax.set_yticks([])
    title = f"Net Promoter Score {nps['nps']:+.0f}"
    if nps.get("ci_low") is not None and nps.get("confidence") is not None:
        title += (f" ({nps['confidence']:.0%} CI {nps['ci_low']:+.0f} to "
                  f"{nps['ci_high']:+.0f}, n = {nps['n']})")
    else:
        title += f" (n = {nps['n']})"
    ax.set_title(title)
    ax.set_xlabel("respondents (%)")
    ax.set_ylabel("recommend item")
    ax.legend(frameon=False, fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.35))
    return ax


# --- the PLS path model -------------------------------------------------------------------


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
        colour = "#c0504d" if coef < 0 else "#1f4e79"
        arrow = FancyArrowPatch((x0, y0), (x1, y1), connectionstyle=f"arc3,rad={rad}",
                                arrowstyle="-|>", mutation_scale=14, lw=0.8 + 4 * abs(coef),
                                color=colour, shrinkA=32, shrinkB=32, zorder=1, alpha=0.8)
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

    ``effects`` is :meth:`crmlab.satisfaction.PLSResult.effects_table` (``source``, ``target``,
    ``direct``, ``indirect``, ``total``).
    """
    import numpy as np

    df = effects[effects["target"] == target].sort_values("total")
    ax = get_ax(ax, figsize=(7, 0.5 * max(len(df), 3) + 1.4))
    title = f"Effects on {target}: direct path and through other constructs"
    if len(df) == 0:
        return _empty(ax, title, f"nothing has an effect on {target}")
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


def plot_htmt(htmt, ax=None, strict=HTMT_STRICT, liberal=HTMT_LIBERAL):
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

    ``ipma`` is :func:`crmlab.satisfaction.importance_performance_total`.
    """
    ax = get_ax(ax, figsize=(8, 6))
    title = f"Priority map for {target}: total effect against performance"
    if ipma is None or len(ipma) == 0:
        return _empty(ax, title, "no drivers")
    x = ipma["performance"].astype(float).to_numpy()
    y = ipma["importance"].astype(float).to_numpy()
    xm, ym = float(ipma["performance_cut"].iloc[0]), float(ipma["importance_cut"].iloc[0])
    for xi, yi, q, lever, name in zip(x, y, ipma["quadrant"], ipma["actionable"],
                                      ipma["construct"], strict=True):
        c = _QUADRANT_COLOURS[q]
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
                fontweight="bold", color=_QUADRANT_COLOURS[label], alpha=0.9)
    ax.set_title(title)
    ax.set_xlabel("performance (PLS-weighted index, 0-100 points)")
    ax.set_ylabel(f"importance (total effect: {target} index points per index point)")
    return ax
