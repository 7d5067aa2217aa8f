"""Drawing only: the satisfaction stage's figures.

Every function takes computed results and ``ax=None``, sets the title and axis labels (with
units) and returns the Axes; the takeaway above each figure is :mod:`.narrative`'s, saving
is the stage context's (:mod:`.views` pairs them). Construct names are shown through
:func:`~crmlab.satisfaction.narrative.words.construct_name` (the lab's default constructs in
the catalog's language, a user's own names as they are); the data are looked up by the
params' names.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from crmlab.i18n import EN, Catalog
from crmlab.plotting import get_ax
from crmlab.satisfaction.narrative.words import construct_name, construct_names, word
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


def plot_reliability(reliability, ax=None, *, tr: Catalog = EN):
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
        words = {"ml": tr("satisfaction.plot.reliability.source_ml"),
                 "tau-equivalent": tr("satisfaction.plot.reliability.source_tau")}
        source = (tr("satisfaction.plot.reliability.source_suffix",
                     sources=tr("common.list_sep").join(words.get(k, k) for k in kinds))
                  if kinds else "")
    labels = {"alpha": tr("satisfaction.plot.reliability.alpha"),
              "composite_reliability": tr("satisfaction.plot.reliability.cr", source=source),
              "ave": tr("satisfaction.plot.reliability.ave")}
    for k, col in enumerate(("alpha", "composite_reliability", "ave")):
        ax.barh(y + (1 - k) * h, df[col].fillna(0), height=h, color=_COLOURS[col],
                label=labels[col])
    for i, row in df.iterrows():
        if row["items"] == 1:
            ax.text(0.02, i, tr("satisfaction.plot.reliability.single_item"), va="center", fontsize=8, color="#7f7f7f")
    ax.axvline(0.7, color="#333333", ls="--", lw=1)
    ax.axvline(0.5, color="#f79646", ls=":", lw=1.2)
    names = construct_names(df["construct"], tr)
    if "verdict" in df:
        names = [tr("satisfaction.plot.reliability.name_verdict", construct=c,
                    verdict=word(tr, "verdict", v)) if v != "single item" else c
                 for c, v in zip(names, df["verdict"], strict=True)]
    ax.set_yticks(y, names)
    ax.set_xlim(0, 1.05)
    ax.set_title(tr("satisfaction.plot.reliability.title"))
    ax.set_xlabel(tr("satisfaction.plot.reliability.xlabel"))
    ax.set_ylabel(tr("satisfaction.plot.reliability.ylabel"))
    ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return ax


def plot_satisfaction_index(index, outcome=None, ax=None, *, tr: Catalog = EN):
    """Horizontal bars of the 0-100 index per construct with confidence intervals."""
    ax = get_ax(ax, figsize=(7, 0.45 * max(len(index), 4) + 1.2))
    df = index.iloc[::-1].reset_index(drop=True)
    colours = ["#c0504d" if c == outcome else "#4f81bd" for c in df["construct"]]
    err = [df["index"] - df["ci_low"], df["ci_high"] - df["index"]]
    bars = ax.barh(construct_names(df["construct"], tr), df["index"], color=colours, xerr=err,
                   capsize=3,
                   error_kw={"elinewidth": 1, "ecolor": "#333333"})
    ax.bar_label(bars, labels=[f"{v:.1f}" for v in df["index"]], padding=14, fontsize=8)
    ax.set_xlim(0, 105)
    title = tr("satisfaction.plot.index.title")
    if outcome is not None:
        title += tr("satisfaction.plot.index.title_outcome", outcome=construct_name(outcome, tr))
    ax.set_title(title)
    ax.set_xlabel(tr("satisfaction.plot.index.xlabel"))
    ax.set_ylabel(tr("satisfaction.plot.construct"))
    return ax


def plot_construct_correlations(corr, ax=None, *, tr: Catalog = EN):
    """Heatmap of the correlations between construct scores (annotated)."""
    import numpy as np

    ax = get_ax(ax, figsize=(6.5, 5.5))
    m = corr.to_numpy(dtype=float)
    im = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
    n = len(corr)
    ax.set_xticks(np.arange(n), construct_names(corr.columns, tr), rotation=45, ha="right")
    ax.set_yticks(np.arange(n), construct_names(corr.index, tr))
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if abs(m[i, j]) > 0.6 else "black")
    ax.figure.colorbar(im, ax=ax, label=tr("satisfaction.plot.correlations.colorbar"), shrink=0.8)
    ax.set_title(tr("satisfaction.plot.correlations.title"))
    ax.set_xlabel(tr("satisfaction.plot.construct"))
    ax.set_ylabel(tr("satisfaction.plot.construct"))
    return ax


def plot_driver_coefficients(drivers, ax=None, outcome=None, *, tr: Catalog = EN):
    """Standardised coefficients with confidence intervals (``DriverResult.table``)."""
    outcome = tr("satisfaction.plot.outcome") if outcome is None else construct_name(outcome, tr)
    title = tr("satisfaction.plot.coefficients.title", outcome=outcome)
    ax = get_ax(ax, figsize=(6, 0.5 * max(len(drivers) if drivers is not None else 0, 4) + 1.2))
    if drivers is None or len(drivers) == 0:
        return _empty(ax, title, tr("satisfaction.plot.no_drivers"))
    df = drivers.iloc[::-1].reset_index(drop=True)
    err = [df["beta"] - df["ci_low"], df["ci_high"] - df["beta"]]
    ax.errorbar(df["beta"], construct_names(df["construct"], tr), xerr=err,
                fmt="o", color="#4f81bd", ecolor="#333333", capsize=3)
    ax.axvline(0, color="#7f7f7f", lw=1)
    ax.set_title(title)
    ax.set_xlabel(tr("satisfaction.plot.coefficients.xlabel", outcome=outcome))
    ax.set_ylabel(tr("satisfaction.plot.driver_construct"))
    return ax


def plot_driver_importance(drivers, r2=None, ax=None, outcome=None, *, tr: Catalog = EN):
    """Bars of each driver's share of R² (Shapley/LMG or relative weights), in percent."""
    outcome = tr("satisfaction.plot.outcome") if outcome is None else construct_name(outcome, tr)
    title = tr("satisfaction.plot.importance.title", outcome=outcome)
    if r2 is not None:
        title += tr("satisfaction.plot.importance.title_r2", r2=r2)
    ax = get_ax(ax, figsize=(6, 0.5 * max(len(drivers) if drivers is not None else 0, 4) + 1.2))
    if drivers is None or len(drivers) == 0:
        return _empty(ax, title, tr("satisfaction.plot.no_drivers"))
    df = drivers.iloc[::-1].reset_index(drop=True)
    bars = ax.barh(construct_names(df["construct"], tr), df["importance"] * 100, color="#9bbb59")
    ax.bar_label(bars, labels=[f"{v:.0%}" for v in df["importance"]], padding=3, fontsize=8)
    ax.margins(x=0.15)
    ax.set_title(title)
    ax.set_xlabel(tr("satisfaction.plot.importance.xlabel"))
    ax.set_ylabel(tr("satisfaction.plot.driver_construct"))
    return ax


_QUADRANT_CORNERS = {  # Martilla & James: performance across, importance up
    "concentrate here": (0.02, 0.98, "left", "top"),
    "keep up the good work": (0.98, 0.98, "right", "top"),
    "low priority": (0.02, 0.02, "left", "bottom"),
    "possible overkill": (0.98, 0.02, "right", "bottom"),
}


def _quadrant_corners(ax, tr):
    for label, (cx, cy, ha, va) in _QUADRANT_CORNERS.items():
        ax.text(cx, cy, tr(f"satisfaction.quadrant_title.{label}"), transform=ax.transAxes,
                ha=ha, va=va, fontsize=10, fontweight="bold", color=_QUADRANT_COLOURS[label],
                alpha=0.9)


def plot_importance_performance(actions, ax=None, outcome=None, *, tr: Catalog = EN):
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

    outcome = tr("satisfaction.plot.outcome") if outcome is None else construct_name(outcome, tr)
    title = tr("satisfaction.plot.ipm.title", outcome=outcome)
    ax = get_ax(ax, figsize=(8, 6))
    if actions is None or len(actions) == 0:
        return _empty(ax, title, tr("satisfaction.plot.no_drivers"))
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
        name = construct_name(name, tr)
        label = name if is_lever else tr("satisfaction.plot.not_a_lever_name", name=name)
        ax.annotate(label, (xi, yi), xytext=(7, 5), textcoords="offset points", fontsize=9)
    xspan = max(x.max() - x.min(), 1.0)
    yspan = max(y.max() - y.min(), 1.0)
    ax.set_xlim(min(x.min(), xm) - 0.4 * xspan, max(x.max(), xm) + 0.4 * xspan)
    ax.set_ylim(max(min(y.min(), ym) - 0.4 * yspan, 0), max(y.max(), ym) + 0.4 * yspan)
    ax.axvline(xm, color="#7f7f7f", ls="--", lw=1)
    ax.axhline(ym, color="#7f7f7f", ls="--", lw=1)
    _quadrant_corners(ax, tr)
    if not lever.all():
        ax.scatter([], [], s=90, color="white", edgecolor="#7f7f7f", linewidth=2,
                   label=tr("satisfaction.plot.ipm.not_a_lever_legend"))
        ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    ax.set_title(title)
    ax.set_xlabel(tr("satisfaction.plot.ipm.xlabel", xm=xm))
    ax.set_ylabel(tr("satisfaction.plot.ipm.ylabel", outcome=outcome, ym=ym))
    return ax


def plot_loyalty_coefficients(table, loyalty="Loyalty", ax=None, *, tr: Catalog = EN):
    """Draw each term's correlation with loyalty (r) beside its coefficient (beta).

    r is the term alone; beta (with its interval) holds the other terms fixed. Terms whose
    sign flips (suppression) are drawn in red. ``table`` is :attr:`crmlab.satisfaction.LoyaltyResult.table`.
    """
    import numpy as np

    loyalty = construct_name(loyalty, tr)
    title = tr("satisfaction.plot.loyalty_model.title", loyalty=loyalty)
    ax = get_ax(ax, figsize=(8, 0.6 * max(len(table) if table is not None else 0, 4) + 1.4))
    if table is None or len(table) == 0:
        return _empty(ax, title, tr("satisfaction.plot.loyalty_model.empty"))
    df = table.iloc[::-1].reset_index(drop=True)
    yy = np.arange(len(df))
    flip = df["sign_flip"].astype(bool).to_numpy()
    ax.scatter(df["r"], yy + 0.15, marker="s", s=45, color="#bfbfbf", edgecolor="#7f7f7f",
               zorder=3, label=tr("satisfaction.plot.loyalty_model.r_legend"))
    colours = np.where(flip, "#c0504d", "#4f81bd")
    err = np.vstack([df["beta"] - df["ci_low"], df["ci_high"] - df["beta"]])
    for i in range(len(df)):
        ax.errorbar(df["beta"].iloc[i], yy[i] - 0.15, xerr=err[:, [i]], fmt="o",
                    color=colours[i], ecolor=colours[i], capsize=3, zorder=3)
    ax.errorbar([], [], xerr=[], fmt="o", color="#4f81bd",
                label=tr("satisfaction.plot.loyalty_model.beta_legend"))
    if flip.any():
        ax.errorbar([], [], xerr=[], fmt="o", color="#c0504d",
                    label=tr("satisfaction.plot.loyalty_model.flip_legend"))
    ax.axvline(0, color="#7f7f7f", lw=1)
    names = [tr("satisfaction.plot.loyalty_model.flip_name", term=t) if f else t
             for t, f in zip(construct_names(df["term"], tr), flip, strict=True)]
    ax.set_yticks(yy, names)
    ax.set_title(title)
    ax.set_xlabel(tr("satisfaction.plot.loyalty_model.xlabel", loyalty=loyalty))
    ax.set_ylabel(tr("satisfaction.plot.construct"))
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    return ax


def plot_loyalty_link(scores, satisfaction, loyalty, result, ax=None, scale=None, *,
                      tr: Catalog = EN):
    """Scatter of loyalty against satisfaction scores with the fitted regression line."""
    import numpy as np

    ax = get_ax(ax, figsize=(6.5, 5))
    pair = scores[[satisfaction, loyalty]].dropna()  # the loss is counted in LoyaltyResult.n
    # Scores are item means, so many respondents share a point: size shows how many.
    counts = pair.groupby([satisfaction, loyalty]).size().reset_index(name="n")
    ax.scatter(counts[satisfaction], counts[loyalty], s=12 * counts["n"], alpha=0.45,
               color="#4f81bd", edgecolor="none", label=tr("satisfaction.plot.loyalty.points"))
    satisfaction_name, loyalty_name = construct_name(satisfaction, tr), construct_name(loyalty, tr)
    xs = np.linspace(pair[satisfaction].min(), pair[satisfaction].max(), 50)
    ax.plot(xs, result.intercept + result.slope * xs, color="#c0504d", lw=2,
            label=tr("satisfaction.plot.loyalty.fit", slope=result.slope, loyalty=loyalty_name,
                     satisfaction=satisfaction_name, r2=result.r2))
    unit = (tr("satisfaction.plot.loyalty.unit_scale", lo=scale[0], hi=scale[1])
            if scale is not None else tr("satisfaction.plot.loyalty.unit"))
    more = "more" if result.slope >= 0 else "less"
    ax.set_title(tr(f"satisfaction.plot.loyalty.title_{more}", satisfaction=satisfaction_name,
                    loyalty=loyalty_name, slope=result.slope))
    ax.set_xlabel(tr("satisfaction.plot.loyalty.score", construct=satisfaction_name, unit=unit))
    ax.set_ylabel(tr("satisfaction.plot.loyalty.score", construct=loyalty_name, unit=unit))
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return ax


def plot_group_index(means, construct, ax=None, *, tr: Catalog = EN):
    """Bars of one construct's 0-100 index per group (``GroupResult.means``)."""
    ax = get_ax(ax, figsize=(6.5, 4))
    df = means.loc[means["construct"] == construct]
    bars = ax.bar(df["group"].astype(str), df["index"], color="#4f81bd")
    labels = [tr("satisfaction.plot.groups.bar", index=v, n=n)
              for v, n in zip(df["index"], df["n"], strict=True)]
    ax.bar_label(bars, labels=labels, padding=2, fontsize=8)
    ax.set_ylim(0, 110)
    ax.set_title(tr("satisfaction.plot.groups.title", construct=construct_name(construct, tr)))
    ax.set_xlabel(tr("satisfaction.plot.groups.xlabel"))
    ax.set_ylabel(tr("satisfaction.plot.index_points"))
    return ax


def _band_label(name, band, tr=EN):
    shown = tr(f"satisfaction.nps_band.{name}")
    if band is None:
        return tr("satisfaction.plot.nps.band_none", name=shown)
    lo, hi = band
    return (tr("satisfaction.plot.nps.band_one", name=shown, lo=lo) if lo == hi
            else tr("satisfaction.plot.nps.band_range", name=shown, lo=lo, hi=hi))


def plot_nps(nps, ax=None, *, tr: Catalog = EN):
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
        ax.barh([0], [share * 100], left=left, color=colour, label=_band_label(name, bands[name], tr))
        if share > 0.04:
            ax.text(left + share * 50, 0, f"{share:.0%}", ha="center", va="center", fontsize=9)
        left += share * 100
    ax.set_xlim(0, 100)
    ax.set_yticks([])
    title = tr("satisfaction.plot.nps.title", nps=nps["nps"])
    if nps.get("ci_low") is not None and nps.get("confidence") is not None:
        title += tr("satisfaction.plot.nps.title_ci", confidence=nps["confidence"],
                    ci_low=nps["ci_low"], ci_high=nps["ci_high"], n=nps["n"])
    else:
        title += tr("satisfaction.plot.nps.title_n", n=nps["n"])
    ax.set_title(title)
    ax.set_xlabel(tr("satisfaction.plot.nps.xlabel"))
    ax.set_ylabel(tr("satisfaction.plot.nps.ylabel"))
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


def plot_path_diagram(paths, r2=None, ax=None, positions=None, title=None, *,
                      tr: Catalog = EN):
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
        shown = construct_name(n, tr)
        label = shown if n not in r2 else tr("satisfaction.plot.paths.box_r2", name=shown, r2=r2[n])
        ax.text(x, y, label, ha="center", va="center", fontsize=9, zorder=3)
    ax.set_xlim(min(xs) - w, max(xs) + w)
    ax.set_ylim(min(ys + label_y) - 0.8, max(ys + label_y) + 0.8)
    ax.set_aspect("equal")  # arrows curve in screen space: keep data and screen alike
    ax.set_title(title or tr("satisfaction.plot.paths.title"))
    ax.set_xlabel(tr("satisfaction.plot.paths.xlabel"))
    ax.set_ylabel(tr("satisfaction.plot.paths.ylabel"))
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    return ax


def plot_direct_total_effects(effects, target, ax=None, *, tr: Catalog = EN):
    """Bars of each construct's direct and indirect effect on ``target`` (stacked = total).

    ``effects`` is :meth:`crmlab.satisfaction.PLSResult.effects_table` (``source``, ``target``,
    ``direct``, ``indirect``, ``total``).
    """
    import numpy as np

    df = effects[effects["target"] == target].sort_values("total")
    ax = get_ax(ax, figsize=(7, 0.5 * max(len(df), 3) + 1.4))
    shown = construct_name(target, tr)
    title = tr("satisfaction.plot.effects.title", target=shown)
    if len(df) == 0:
        return _empty(ax, title, tr("satisfaction.plot.effects.empty", target=shown))
    y = np.arange(len(df))
    ax.barh(y, df["direct"], color="#4f81bd", label=tr("satisfaction.plot.effects.direct"))
    ax.barh(y, df["indirect"], left=df["direct"], color="#9bbb59",
            label=tr("satisfaction.plot.effects.indirect"))
    for yi, tot in zip(y, df["total"], strict=True):
        ax.text(tot + 0.01 if tot >= 0 else tot - 0.01, yi, tr("satisfaction.plot.effects.total", total=tot), va="center",
                ha="left" if tot >= 0 else "right", fontsize=8)
    ax.axvline(0, color="#7f7f7f", lw=1)
    ax.set_yticks(y, construct_names(df["source"], tr))
    ax.margins(x=0.2)
    ax.set_title(title)
    ax.set_xlabel(tr("satisfaction.plot.effects.xlabel", target=shown))
    ax.set_ylabel(tr("satisfaction.plot.construct"))
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return ax


def plot_htmt(htmt, ax=None, strict=HTMT_STRICT, liberal=HTMT_LIBERAL, *, tr: Catalog = EN):
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
    ax.set_xticks(np.arange(n), construct_names(htmt.columns, tr), rotation=45, ha="right")
    ax.set_yticks(np.arange(n), construct_names(htmt.index, tr))
    ax.figure.colorbar(im, ax=ax, label=tr("satisfaction.plot.htmt.colorbar"), shrink=0.8)
    ax.set_title(tr("satisfaction.plot.htmt.title", strict=strict, liberal=liberal))
    ax.set_xlabel(tr("satisfaction.plot.construct"))
    ax.set_ylabel(tr("satisfaction.plot.construct"))
    return ax


def plot_index_weights(index, ax=None, outcome=None, *, tr: Catalog = EN):
    """PLS-weighted (ACSI) index beside the equal-weight index per construct (0-100)."""
    import numpy as np

    ax = get_ax(ax, figsize=(7, 0.5 * max(len(index), 4) + 1.4))
    df = index.iloc[::-1]
    y = np.arange(len(df))
    ax.errorbar(df["index_pls"], y + 0.12, xerr=[df["index_pls"] - df["ci_low"],
                df["ci_high"] - df["index_pls"]], fmt="o", color="#c0504d", capsize=3,
                label=tr("satisfaction.plot.index_weights.pls"))
    ax.scatter(df["index_equal"], y - 0.12, marker="s", color="#4f81bd",
               label=tr("satisfaction.plot.index_weights.equal"))
    names = [f"{construct_name(c, tr)} ({d:+.1f})" for c, d in zip(df.index, df["difference"], strict=True)]
    if outcome is not None:
        names = [f"{n} ◀" if c == outcome else n for n, c in zip(names, df.index, strict=True)]
    ax.set_yticks(y, names)
    ax.set_title(tr("satisfaction.plot.index_weights.title"))
    ax.set_xlabel(tr("satisfaction.plot.index_points"))
    ax.set_ylabel(tr("satisfaction.plot.index_weights.ylabel"))
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    return ax


def plot_ipma_total(ipma, target, ax=None, *, tr: Catalog = EN):
    """Importance-performance map with importance = total effect on ``target`` (ACSI style).

    ``ipma`` is :func:`crmlab.satisfaction.importance_performance_total`.
    """
    ax = get_ax(ax, figsize=(8, 6))
    target = construct_name(target, tr)
    title = tr("satisfaction.plot.ipma.title", target=target)
    if ipma is None or len(ipma) == 0:
        return _empty(ax, title, tr("satisfaction.plot.ipma.empty"))
    x = ipma["performance"].astype(float).to_numpy()
    y = ipma["importance"].astype(float).to_numpy()
    xm, ym = float(ipma["performance_cut"].iloc[0]), float(ipma["importance_cut"].iloc[0])
    for xi, yi, q, lever, name in zip(x, y, ipma["quadrant"], ipma["actionable"],
                                      ipma["construct"], strict=True):
        c = _QUADRANT_COLOURS[q]
        ax.scatter([xi], [yi], s=90, zorder=3, color=c if lever else "white", edgecolor=c,
                   linewidth=2)
        name = construct_name(name, tr)
        ax.annotate(name if lever else tr("satisfaction.plot.not_a_lever_name", name=name),
                    (xi, yi), xytext=(7, 5),
                    textcoords="offset points", fontsize=9)
    xspan = max(x.max() - x.min(), 1.0)
    yspan = max(y.max() - y.min(), 0.05)
    ax.set_xlim(min(x.min(), xm) - 0.4 * xspan, max(x.max(), xm) + 0.4 * xspan)
    ax.set_ylim(min(y.min(), ym, 0) - 0.1 * yspan, max(y.max(), ym) + 0.4 * yspan)
    ax.axvline(xm, color="#7f7f7f", ls="--", lw=1)
    ax.axhline(ym, color="#7f7f7f", ls="--", lw=1)
    _quadrant_corners(ax, tr)
    ax.set_title(title)
    ax.set_xlabel(tr("satisfaction.plot.ipma.xlabel"))
    ax.set_ylabel(tr("satisfaction.plot.ipma.ylabel", target=target))
    return ax
