"""One call per figure: compute, and return a :class:`crmlab.display.Display` to show and save.

Each function computes what its figure needs, takes the takeaway from
:mod:`crmlab.segmentation.narrative`, and draws with :mod:`crmlab.segmentation.plotting`.
The display's name is the figure's file stem (``figures/segmentation_lorenz.png``), and its
table the one saved beside it, so ``ctx.show(seg.lorenz_display(...))`` in the notebook
writes the same files the stage always wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from crmlab.display import Display
from crmlab.errors import InputError
from crmlab.i18n import EN, Catalog
from crmlab.segmentation import narrative, plotting
from crmlab.segmentation.clusters import cluster_profiles, cluster_projection, cluster_stability
from crmlab.segmentation.customers import DynamicView
from crmlab.segmentation.lifecycle import lifecycle_table
from crmlab.segmentation.playbook import checked_actions
from crmlab.segmentation.rfm import rfm_grid, score_ranges, segment_grid, segment_profiles
from crmlab.segmentation.tiers import concentration, tier_table

__all__ = [
    "rfm_grid_display",
    "segment_sizes_display",
    "k_search_display",
    "stability_display",
    "cluster_profiles_display",
    "cluster_projection_display",
    "lorenz_display",
    "tiers_display",
    "lifecycle_display",
    "transitions_display",
    "transition_tables",
    "shown_table",
]


def rfm_grid_display(customers: pd.DataFrame, segment_map: Mapping[str, str] | None, *,
                     tr: Catalog = EN) -> Display:
    """Show the RFM map with customers per cell, R scores labelled with their days.

    ``customers`` carries ``r_score``, ``fm_score`` and ``days_since_last``; ``segment_map``
    is ``segmentation.segment_map`` (None for the default map).
    """
    grid = rfm_grid(customers)
    names = segment_grid(segment_map)
    r_days = score_ranges(customers, "r_score", "days_since_last", tr=tr)  # R scores are ranks
    return Display(
        name="segmentation_rfm_grid",
        takeaway=narrative.rfm_grid_takeaway(grid, names, r_days, tr=tr),
        draw=partial(plotting.plot_rfm_grid, grid, names, row_labels=r_days, tr=tr),
        data={"grid": grid, "names": names, "r_days": r_days},
    )


def segment_sizes_display(customers: pd.DataFrame, *, tr: Catalog = EN) -> Display:
    """Show each RFM segment's share of customers and of revenue, names checked against the data.

    The table (``segmentation_segment_profiles``) is :func:`segment_profiles` with the
    action a misnamed segment's customers call for (:func:`checked_actions`); ``data`` holds
    it as ``profiles`` and the name check as ``names_check``.
    """
    profiles = segment_profiles(customers, "rfm_segment", tr=tr)
    names_check = narrative.segment_name_check(profiles, tr=tr)
    profiles = checked_actions(profiles, names_check, tr=tr)
    return Display(
        name="segmentation_rfm_segments",
        takeaway=narrative.segment_sizes_takeaway(profiles, tr=tr),
        draw=partial(plotting.plot_segment_sizes, profiles, "rfm_segment",
                     labels=narrative.segment_labels(names_check, tr=tr), tr=tr),
        table=profiles,
        table_name="segmentation_segment_profiles",
        data={"profiles": profiles, "names_check": names_check},
    )


def k_search_display(search: pd.DataFrame, k: int, fixed: bool, *, tr: Catalog = EN) -> Display:
    """Show the silhouette and Calinski-Harabasz over k (:func:`crmlab.segmentation.k_search`).

    Raises
    ------
    InputError
        When the search is empty (``segmentation.k`` fixed: there is nothing to draw).
    """
    if search.empty:
        raise InputError("k search: nothing was searched (segmentation.k is fixed)")
    return Display(
        name="segmentation_k_search",
        takeaway=narrative.k_search_reading(search, k, fixed=fixed, tr=tr),
        draw=lambda ax=None: plotting.plot_k_search(search, k, axes=ax, tr=tr),
        table=search,
    )


def stability_display(customers: pd.DataFrame, labels: pd.Series,
                      segmentation: Mapping[str, Any], *, tr: Catalog = EN) -> Display:
    """Show the bootstrap stability of the clusters ``labels`` (:func:`cluster_stability`)."""
    stability = cluster_stability(customers, labels, segmentation)
    return Display(
        name="segmentation_cluster_stability",
        takeaway=narrative.stability_takeaway(stability, tr=tr),
        draw=partial(plotting.plot_stability, stability, tr=tr),
        table=stability,
    )


def cluster_profiles_display(customers: pd.DataFrame, currency: str, *,
                             tr: Catalog = EN) -> Display:
    """Show the profile heatmap of the clusters of ``customers`` (column ``cluster``)."""
    profiles = cluster_profiles(customers)
    return Display(
        name="segmentation_cluster_profiles",
        takeaway=narrative.cluster_profiles_takeaway(profiles, currency, tr=tr),
        draw=partial(plotting.plot_cluster_profiles, profiles, currency=currency, tr=tr),
        table=profiles,
    )


def cluster_projection_display(customers: pd.DataFrame, profiles: pd.DataFrame,
                               seed: int, *, tr: Catalog = EN) -> Display:
    """Show customers on two principal components, coloured and named by cluster.

    ``profiles`` is :func:`cluster_profiles` (for the names); ``seed`` is
    ``segmentation.seed``.
    """
    points, explained = cluster_projection(customers, seed)
    names = pd.Series(narrative.cluster_names(profiles, tr).to_numpy(),
                      index=profiles["cluster"].to_numpy(), name="cluster_name")
    return Display(
        name="segmentation_cluster_projection",
        takeaway=narrative.projection_takeaway(explained, tr=tr),
        draw=partial(plotting.plot_cluster_projection, points, explained, names, tr=tr),
        data={"points": points, "explained": explained},
    )


def lorenz_display(customers: pd.DataFrame, top: float, *, tr: Catalog = EN) -> Display:
    """Show the Lorenz curve of ``total_spend``; ``top`` is ``report.top_share``.

    The table is the curve read at 21 points (0, 5 %, ..., 100 % of customers).
    """
    conc = concentration(customers["total_spend"], top)
    return Display(
        name="segmentation_lorenz",
        takeaway=narrative.lorenz_takeaway(conc, tr=tr),
        draw=partial(plotting.plot_lorenz, conc, tr=tr),
        table=conc.at(21),
        data={"concentration": conc},
    )


def tiers_display(customers: pd.DataFrame, tiers: Mapping[str, Any], currency: str, *,
                  tr: Catalog = EN) -> Display:
    """Show each value tier's share of customers and revenue (:func:`tier_table`)."""
    table = tier_table(customers, tiers, tr=tr)
    return Display(
        name="segmentation_value_tiers",
        takeaway=narrative.tiers_takeaway(table, currency, tr=tr),
        draw=partial(plotting.plot_tiers, table, tr=tr),
        table=table,
    )


def lifecycle_display(customers: pd.DataFrame, *, tr: Catalog = EN) -> Display:
    """Show customers per lifecycle stage and value tier (:func:`lifecycle_table`)."""
    life = lifecycle_table(customers)
    one_time = (customers["frequency"] == 0).to_numpy()  # the first one-time buyer's gap
    first = int(np.argmax(one_time)) if len(one_time) else 0
    fallback = float(customers["typical_gap"].iloc[first]) if len(one_time) and one_time[first] \
        else None
    return Display(
        name="segmentation_lifecycle",
        takeaway=narrative.lifecycle_takeaway(life, fallback, tr=tr),
        draw=partial(plotting.plot_lifecycle, life, tr=tr),
        table=life.reset_index(),
        data={"table": life},
    )


# figure stem of each grouping's transition heatmap (its axis words: segmentation.group.<col>)
_TRANSITION_FIGURES = {
    "value_tier": "segmentation_transitions_tier",
    "lifecycle_stage": "segmentation_transitions_lifecycle",
    "rfm_segment": "segmentation_transitions_rfm",
}


def transitions_display(view: DynamicView, col: str, *, tr: Catalog = EN) -> Display:
    """Show the transition heatmap of ``col``, a grouping of :func:`crmlab.segmentation.dynamic_view`.

    Its tables are saved by :func:`transition_tables`, all groupings at once.

    Raises
    ------
    InputError
        When ``col`` is not a grouping of ``view``.
    """
    if col not in view.counts:
        raise InputError(f"transitions: {col!r} is not one of {list(view.counts)}")
    name = _TRANSITION_FIGURES.get(col, f"segmentation_transitions_{col}")
    key = f"segmentation.group.{col}"
    what = tr(key) if tr.has(key) else col.replace("_", " ")
    return Display(
        name=name,
        takeaway=narrative.transitions_takeaway(view.counts[col], col, tr=tr),
        draw=partial(plotting.plot_transitions, view.shares[col], view.counts[col], what=what,
                     tr=tr),
    )


def transition_tables(view: DynamicView) -> dict[str, pd.DataFrame]:
    """Return the counts and row shares of every grouping of ``view``, by table file stem."""
    tables = {}
    for col in view.counts:
        tables[f"segmentation_transitions_{col}_counts"] = view.counts[col].reset_index()
        tables[f"segmentation_transitions_{col}_shares"] = view.shares[col].reset_index()
    return tables


# columns holding code values (data, English) and the kind of their display names
_CODE_COLUMNS = {
    "rfm_segment": "segment",
    "value_tier": "tier",
    "value_tier_before": "tier",
    "value_tier_after": "tier",
    "lifecycle_stage": "lifecycle",
}


def shown_table(table: pd.DataFrame, *, tr: Catalog = EN) -> pd.DataFrame:
    """Return ``table`` as the notebook shows it: segment, tier and stage names in ``tr``'s words.

    The saved tables and the products keep the English codes; this is for display only. In
    English the table itself is returned, unchanged.
    """
    if tr.language == EN.language:
        return table
    out = table.copy()
    for col, kind in _CODE_COLUMNS.items():
        if col in out.columns:
            out[col] = [tr.name(kind, v) if pd.notna(v) else v for v in out[col]]
    return out
