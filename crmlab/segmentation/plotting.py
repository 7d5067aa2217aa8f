"""The segmentation figures: each takes computed results and ``ax=None``, returns the Axes.

Titles and axis labels (with units) are set here; the takeaway above each figure comes from
:mod:`crmlab.segmentation.narrative`, and saving is :meth:`crmlab.context.StageContext.show`'s.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from crmlab.formatting import format_money
from crmlab.i18n import EN, Catalog
from crmlab.plotting import get_ax
from crmlab.segmentation.cluster_count import SILHOUETTE_SCALE
from crmlab.segmentation.migration import align_transitions
from crmlab.segmentation.narrative import cluster_names, strength_word

__all__ = [
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
]

_TIER_COLOURS = {"high": "#1f4e79", "medium": "#4f81bd", "low": "#b9cde5"}
# a grouping column -> the kind of its values' names in common.yaml
_GROUP_KINDS = {"rfm_segment": "segment", "value_tier": "tier", "lifecycle_stage": "lifecycle"}
_SHARE_COLOURS = ("#bfbfbf", "#4f81bd")  # share of customers, share of revenue


def _group_word(by, tr):
    """Return the words for a grouping column (``value_tier`` -> "value tier")."""
    key = f"segmentation.group.{by}"
    return tr(key) if tr.has(key) else by.replace("_", " ")


def _value_name(value, tr):
    """Display name of a segment, tier or lifecycle stage (others pass through)."""
    for kind in ("segment", "lifecycle", "tier"):
        key = f"common.{kind}.{value}"
        if tr.has(key):
            return tr(key)
    return str(value)


def _seg_empty(ax, title, message):
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes,
            color="#7f7f7f", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def plot_rfm_grid(counts, names, ax=None, row_labels=None, *, tr: Catalog = EN):
    """Draw the RFM segment map as a 5 x 5 grid, cells coloured by segment, with counts.

    ``counts`` and ``names`` are :func:`crmlab.segmentation.rfm_grid` and
    :func:`crmlab.segmentation.segment_grid` (rows r_score 5..1, columns fm_score 1..5).
    ``row_labels`` maps an R score to its tick label, e.g. the days behind it
    (:func:`crmlab.segmentation.score_ranges`).
    """
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
            ax.text(j, i, tr("segmentation.plot.rfm_cell",
                             segment=tr.name("segment", names.iat[i, j]), n=n, share=n / total),
                    ha="center", va="center", fontsize=8)
    ax.set_xticks(range(names.shape[1]), [str(c) for c in names.columns])
    row_labels = row_labels or {}
    ax.set_yticks(range(names.shape[0]), [row_labels.get(r, str(r)) for r in names.index])
    ax.set_title(tr("segmentation.plot.rfm_title"))
    ax.set_xlabel(tr("segmentation.plot.rfm_xlabel"))
    ax.set_ylabel(tr("segmentation.plot.rfm_ylabel_days")
                  if row_labels else tr("segmentation.plot.rfm_ylabel"))
    return ax


def plot_segment_sizes(profiles, by="rfm_segment", ax=None, labels=None, *, tr: Catalog = EN):
    """Draw each group's share of customers beside its share of revenue (horizontal bars).

    ``labels`` maps a group to its tick label (e.g. ``crmlab.segmentation.segment_labels``).
    """
    labels = labels or {}
    ax = get_ax(ax, figsize=(8.5, 0.5 * max(len(profiles), 3) + 1.2))
    df = profiles.iloc[::-1].reset_index(drop=True)
    y = np.arange(len(df))
    h = 0.4
    for k, (col, label) in enumerate((("customer_share", tr("segmentation.plot.share_customers")),
                                      ("revenue_share", tr("segmentation.plot.share_revenue")))):
        bars = ax.barh(y + (0.5 - k) * h, df[col] * 100, height=h,
                       color=_SHARE_COLOURS[k], label=label)
        ax.bar_label(bars, labels=[f"{v:.0%}" for v in df[col]], padding=2, fontsize=7)
    kind = _GROUP_KINDS.get(by)
    ax.set_yticks(y, [labels.get(str(n), tr.name(kind, n) if kind else str(n)) for n in df[by]],
                  fontsize=8)
    what = _group_word(by, tr)
    ax.set_title(tr("segmentation.plot.sizes_title", what=what))
    ax.set_xlabel(tr("segmentation.plot.sizes_xlabel"))
    ax.set_ylabel(what)
    ax.margins(x=0.12)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return ax


def plot_k_search(search, chosen, axes=None, *, tr: Catalog = EN):
    """Two panels over k: the silhouette on Kaufman & Rousseeuw's bands, Calinski-Harabasz.

    The silhouette panel shades K&R's readings (0.26-0.50 weak, 0.51-0.70 reasonable,
    above 0.70 strong) so the chosen value is read on an absolute scale; the
    Calinski-Harabasz panel has no absolute scale and is only compared across k. Returns
    the two Axes.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    left, right = np.asarray(axes).ravel()[:2]
    bands = {"strong": "#c6e0b4", "reasonable": "#e2efda", "weak": "#fff2cc",
             "no substantial": "#fbe5d6"}
    top = 1.0
    for bound, label in SILHOUETTE_SCALE:
        lo = max(bound, -0.05 if bound < 0 else bound)
        left.axhspan(lo, top, color=bands[label], zorder=0)
        left.text(1.01, (lo + min(top, 1.0)) / 2,
                  tr("segmentation.plot.band", label=strength_word(label, tr)), fontsize=7,
                  va="center", transform=left.get_yaxis_transform())
        top = bound
    left.plot(search["k"], search["silhouette"], marker="o", color="#1f4e79")
    left.set_ylim(-0.05, 1.0)
    left.set_title(tr("segmentation.plot.silhouette_title"), fontsize=10)
    left.set_ylabel(tr("segmentation.plot.silhouette_ylabel"))
    right.plot(search["k"], search["calinski_harabasz"], marker="s", color="#c0504d")
    right.set_title(tr("segmentation.plot.ch_title"), fontsize=10)
    right.set_ylabel(tr("segmentation.plot.ch_ylabel"))
    right.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    for ax in (left, right):
        ax.axvline(chosen, color="#333333", ls="--", lw=1)
        ax.set_xticks(list(search["k"]))
        ax.set_xlabel(tr("segmentation.plot.k_xlabel"))
    left.figure.suptitle(tr("segmentation.plot.k_suptitle", k=chosen), fontsize=11)
    left.figure.tight_layout()
    return np.array([left, right])


def plot_stability(stability, ax=None, *, tr: Catalog = EN):
    """Draw the bootstrap adjusted Rand index of each resample, with its mean."""
    ax = get_ax(ax, figsize=(7, 3))
    title = tr("segmentation.plot.stability_title")
    if stability.empty:
        return _seg_empty(ax, title, tr("segmentation.plot.stability_empty"))
    from matplotlib.ticker import MaxNLocator

    ax.plot(stability["resample"], stability["ari"], "o", color="#4f81bd")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    mean = stability["ari"].mean()
    ax.axhline(mean, color="#c0504d", ls="--", lw=1, label=tr("segmentation.plot.stability_mean", mean=mean))
    ax.set_ylim(min(0.0, stability["ari"].min() - 0.05), 1.05)
    ax.set_title(title)
    ax.set_xlabel(tr("segmentation.plot.stability_xlabel"))
    ax.set_ylabel(tr("segmentation.plot.stability_ylabel"))
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return ax


_FEATURES = ("days_since_last", "purchase_days", "spend_per_line")


def plot_cluster_profiles(profiles, ax=None, currency="", *, tr: Catalog = EN):
    """Heatmap of cluster centroids (z-scores of the log features) annotated with raw means.

    Red = above the average customer, blue = below; a low recency (blue) is good.
    """
    feats = list(_FEATURES)
    ax = get_ax(ax, figsize=(8, 0.7 * max(len(profiles), 2) + 1.6))
    z = profiles[[f"z_{f}" for f in feats]].to_numpy(dtype=float)
    lim = max(1.0, float(np.nanmax(np.abs(z))))
    im = ax.imshow(z, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    fmt = {"days_since_last": lambda v: tr("segmentation.plot.cell_days", v=v),
           "purchase_days": lambda v: tr("segmentation.plot.cell_purchase_days", v=v),
           "spend_per_line": lambda v: format_money(v, currency, 2)}
    for i in range(len(profiles)):
        for j, f in enumerate(feats):
            ax.text(j, i, tr("segmentation.plot.cell", value=fmt[f](profiles[f"mean_{f}"].iat[i]),
                             z=z[i, j]),
                    ha="center", va="center", fontsize=8,
                    color="white" if abs(z[i, j]) > 0.6 * lim else "black")
    rows = [tr("segmentation.plot.profile_row", cluster=c, name=n, share=s) for c, n, s in
            zip(profiles["cluster"], cluster_names(profiles, tr), profiles["customer_share"],
                strict=True)]
    ax.set_yticks(range(len(profiles)), rows, fontsize=8)
    ax.set_xticks(range(len(feats)), [tr(f"segmentation.plot.feature.{f}") for f in feats],
                  fontsize=8)
    ax.figure.colorbar(im, ax=ax, label=tr("segmentation.plot.profiles_colorbar"))
    ax.set_title(tr("segmentation.plot.profiles_title"))
    ax.set_xlabel(tr("segmentation.plot.profiles_xlabel"))
    ax.set_ylabel(tr("segmentation.plot.profiles_ylabel"))
    return ax


def plot_cluster_projection(points, explained, names=None, ax=None, *, tr: Catalog = EN):
    """Scatter customers on the first two principal components, coloured by cluster."""
    ax = get_ax(ax, figsize=(8, 5.5))
    cmap = plt.get_cmap("tab10")
    for c in sorted(points["cluster"].unique()):
        sub = points[points["cluster"] == c]
        label = (tr("segmentation.plot.projection_label", cluster=c, name=names.get(c, ""))
                 if names is not None else str(c))
        ax.scatter(sub["pc1"], sub["pc2"], s=5, alpha=0.35, color=cmap(int(c) % 10), label=label,
                   rasterized=True)
    ax.set_title(tr("segmentation.plot.projection_title", n=len(points)))
    ax.set_xlabel(tr("segmentation.plot.projection_xlabel", share=explained[0]))
    ax.set_ylabel(tr("segmentation.plot.projection_ylabel", share=explained[1]))
    leg = ax.legend(frameon=False, fontsize=8, markerscale=3, loc="best")
    for h in leg.legend_handles:
        h.set_alpha(1)
    return ax


def plot_lorenz(conc, ax=None, *, tr: Catalog = EN):
    """Lorenz curve of revenue with the equality line, the Gini and the top-share point."""
    ax = get_ax(ax, figsize=(6, 5.5))
    lz = conc.lorenz
    ax.plot(lz["customer_share"] * 100, lz["revenue_share"] * 100, color="#4f81bd",
            label=tr("segmentation.plot.lorenz_curve", gini=conc.gini))
    ax.fill_between(lz["customer_share"] * 100, lz["revenue_share"] * 100,
                    lz["customer_share"] * 100, color="#4f81bd", alpha=0.12)
    ax.plot([0, 100], [0, 100], color="#7f7f7f", ls="--", lw=1, label=tr("segmentation.plot.lorenz_equal"))
    x = (1 - conc.top) * 100
    y = (1 - conc.top_share) * 100
    ax.plot([x], [y], "o", color="#c0504d")
    ax.annotate(tr("segmentation.plot.lorenz_note", top=conc.top, top_share=conc.top_share),
                (x, y), xytext=(-150, 40), textcoords="offset points", fontsize=8,
                arrowprops={"arrowstyle": "->", "color": "#c0504d"})
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_title(tr("segmentation.plot.lorenz_title"))
    ax.set_xlabel(tr("segmentation.plot.lorenz_xlabel"))
    ax.set_ylabel(tr("segmentation.plot.lorenz_ylabel"))
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return ax


def plot_tiers(tiers, ax=None, *, tr: Catalog = EN):
    """Draw each value tier's share of customers beside its share of revenue."""
    ax = get_ax(ax, figsize=(7, 4))
    x = np.arange(len(tiers))
    w = 0.38
    for k, (col, label) in enumerate((("customer_share", tr("segmentation.plot.share_customers")),
                                      ("revenue_share", tr("segmentation.plot.share_revenue")))):
        bars = ax.bar(x + (k - 0.5) * w, tiers[col] * 100, width=w, color=_SHARE_COLOURS[k],
                      label=label)
        ax.bar_label(bars, labels=[f"{v:.0%}" for v in tiers[col]], padding=2, fontsize=8)
    ax.set_xticks(x, [tr("segmentation.plot.tier_tick", tier=tr.name("tier", t), n=n) for t, n in
                      zip(tiers["value_tier"], tiers["customers"], strict=True)])
    ax.set_title(tr("segmentation.plot.tiers_title"))
    ax.set_xlabel(tr("segmentation.plot.tiers_xlabel"))
    ax.set_ylabel(tr("segmentation.plot.tiers_ylabel"))
    ax.set_ylim(0, 100)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return ax


def plot_lifecycle(table, ax=None, *, tr: Catalog = EN):
    """Stacked horizontal bars: customers per lifecycle stage, split by value tier."""
    ax = get_ax(ax, figsize=(8, 3.6))
    df = table.iloc[::-1]
    left = None
    for tier in df.columns:
        ax.barh([tr.name("lifecycle", s) for s in df.index.astype(str)], df[tier], left=left,
                color=_TIER_COLOURS.get(tier),
                label=tr("segmentation.plot.tier_legend", tier=tr.name("tier", tier)))
        left = df[tier] if left is None else left + df[tier]
    for i, total in enumerate(df.sum(axis=1)):
        ax.text(total, i, f" {total:,}", va="center", fontsize=8)
    ax.margins(x=0.1)
    ax.set_title(tr("segmentation.plot.lifecycle_title"))
    ax.set_xlabel(tr("segmentation.plot.lifecycle_xlabel"))
    ax.set_ylabel(tr("segmentation.plot.lifecycle_ylabel"))
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return ax


def plot_transitions(shares, counts, ax=None, what=None, *, tr: Catalog = EN):
    """Heatmap of a transition matrix: row shares as colour, share and count in each cell.

    ``what`` names the grouping in the title and labels (default: value tier, in ``tr``'s
    words); group names (segments, tiers, stages) are shown in ``tr``'s words.
    """
    what = tr("segmentation.group.value_tier") if what is None else what
    title = tr("segmentation.plot.transitions_title", what=what)
    ax = get_ax(ax, figsize=(1.3 * max(counts.shape[1], 3) + 2.5,
                             0.55 * max(counts.shape[0], 3) + 1.5))
    if counts.empty:
        return _seg_empty(ax, title, tr("segmentation.plot.transitions_empty"))
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
    rows = [tr("segmentation.plot.transitions_row", group=_value_name(r, tr), n=int(t))
            for r, t in zip(counts.index, counts.sum(axis=1), strict=True)]
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_xticks(range(counts.shape[1]), [_value_name(c, tr) for c in counts.columns], fontsize=8,
                  rotation=30 if counts.shape[1] > 5 else 0, ha="right" if counts.shape[1] > 5 else "center")
    ax.set_title(title)
    ax.set_xlabel(tr("segmentation.plot.transitions_xlabel", what=what))
    ax.set_ylabel(tr("segmentation.plot.transitions_ylabel", what=what))
    return ax
