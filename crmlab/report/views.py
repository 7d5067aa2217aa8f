"""The report's figures as :class:`crmlab.display.Display` objects: compute, then draw and save.

Each function computes a section's result from the stage products and returns a Display
named after the figure's file (``report_segments`` ...), with the table saved beside it.
The report shows its readings as paragraphs of their own (:mod:`crmlab.report.narrative`,
each naming its data set), so the displays carry no separate takeaway.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import pandas as pd

from crmlab import segmentation as seg
from crmlab.display import Display
from crmlab.i18n import EN, Catalog
from crmlab.report.interactions import complaint_monthly
from crmlab.report.kpis import KPI_INPUTS, KPIS, kpi_label, kpi_units
from crmlab.report.narrative import source_note
from crmlab.report.plotting import (
    plot_report_complaints,
    plot_report_migrations,
    plot_report_segments,
    plot_report_tiers,
    plot_report_trends,
)
from crmlab.report.tables import top_drivers
from crmlab.report.trends import migration_summary, trend_labels

__all__ = [
    "observation_date",
    "segments_display",
    "tiers_display",
    "drivers_display",
    "migrations_display",
    "trends_display",
    "complaints_display",
]

# KPIs stored as shares (0-1), drawn on a percent axis.
_PERCENT_KPIS = ("repeat_rate", "top_share_revenue")


def _worded(fn: Callable[..., Any], tr: Catalog) -> Callable[..., Any]:
    """``fn`` with ``tr=tr`` when it takes a catalog (another stage's function), else ``fn``.

    The report calls the segmentation and satisfaction stages' functions; each takes
    ``tr`` once its stage is translated, and is called plainly before.
    """
    try:
        takes = "tr" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        takes = False
    return partial(fn, tr=tr) if takes else fn


def observation_date(transactions: pd.DataFrame, periods: Mapping[str, Any] | None,
                     tr: Catalog = EN) -> tuple[pd.Timestamp, str]:
    """Return the day the report observes the customers at, and where it comes from, worded by ``tr``.

    :func:`crmlab.segmentation.observation_date` (the segmentation stage's rule), so the
    report and the stage notebooks never disagree.
    """
    return _worded(seg.observation_date, tr)(transactions, periods)


def segments_display(customers: pd.DataFrame, sources: Mapping[str, str] | None,
                     tr: Catalog = EN) -> Display:
    """Share of customers vs share of revenue per RFM segment, with checked segment names.

    ``data``: ``profiles`` (:func:`crmlab.segmentation.segment_profiles` with the action
    its customers call for), ``names_check`` (segment names against their customers) and
    ``names_reading`` (:func:`crmlab.segmentation.reading_segment_names` of that check).
    """
    profiles = _worded(seg.segment_profiles, tr)(customers, "rfm_segment")
    names_check = _worded(seg.segment_name_check, tr)(profiles)
    profiles = _worded(seg.checked_actions, tr)(profiles, names_check)
    draw = partial(plot_report_segments, profiles, labels=_worded(seg.segment_labels, tr)(names_check),
                   source=source_note(sources, "transactions", tr), tr=tr)
    return Display("report_segments", "", draw, table=profiles,
                   data={"profiles": profiles, "names_check": names_check,
                         "names_reading": _worded(seg.reading_segment_names, tr)(names_check)})


def tiers_display(customers: pd.DataFrame, tier_params: Mapping[str, Any],
                  params: Mapping[str, Any], tr: Catalog = EN) -> Display:
    """Show customers by value tier and lifecycle stage, the watch-list cells outlined.

    ``tier_params`` is the ``segmentation.tiers`` section, ``params`` the ``report``
    section (``watch_tiers``, ``watch_stages``). The table is the tier table;
    ``data``: ``tiers`` and ``lifecycle``.
    """
    tiers = _worded(seg.tier_table, tr)(customers, tier_params)
    life = seg.lifecycle_table(customers)
    draw = partial(plot_report_tiers, life, params["watch_tiers"], params["watch_stages"], tr=tr)
    return Display("report_tiers", "", draw, table=tiers, data={"tiers": tiers, "lifecycle": life})


def drivers_display(satisfaction: Mapping[str, Any], outcome: str, tr: Catalog = EN) -> Display:
    """Importance-performance map of the satisfaction drivers (:func:`top_drivers`)."""
    from crmlab.satisfaction.plotting import plot_importance_performance

    drivers = top_drivers(satisfaction)
    draw = partial(_worded(plot_importance_performance, tr), drivers, outcome=outcome)
    return Display("report_drivers", "", draw, table=drivers, data={"drivers": drivers})


def migrations_display(previous: pd.DataFrame, current: pd.DataFrame, tr: Catalog = EN) -> Display:
    """Value-tier moves from the previous run's customer snapshot to this run's.

    The table is the move matrix (previous tier as a column); ``data``: ``moves`` and
    ``summary`` (:func:`crmlab.report.trends.migration_summary`).
    """
    moves = seg.transition_matrix(previous, current, "value_tier", order=seg.TIER_ORDER)
    return Display("report_tier_moves", "", partial(plot_report_migrations, moves, tr=tr),
                   table=moves.reset_index(),
                   data={"moves": moves, "summary": migration_summary(moves)})


def trends_display(trend: pd.DataFrame, shown: Sequence[str],
                   sources: Mapping[str, str] | None, currency: str, tr: Catalog = EN) -> Display:
    """One panel per headline KPI over the runs of ``trend``; each title names its data set."""
    sources = sources or {}
    titles = {k.name: tr("report.fig.trends.panel", label=kpi_label(k.name, tr), source=sources[KPI_INPUTS[k.name]])
              if KPI_INPUTS.get(k.name) in sources else kpi_label(k.name, tr) for k in KPIS}

    def draw(ax: Any = None) -> Any:
        return plot_report_trends(trend, shown, titles, kpi_units(currency, tr), trend_labels(trend, tr),
                                  _PERCENT_KPIS, axes=ax,
                                  money=[k.name for k in KPIS if k.kind == "money"],
                                  currency=currency, tr=tr)

    return Display("report_trends", "", draw)


def complaints_display(doc: Mapping[str, Any], tr: Catalog = EN) -> Display | None:
    """Complaint rate per month from ``interaction_metrics.json``, the table saved beside; None without."""
    monthly = complaint_monthly(doc)
    if monthly is None:
        return None
    return Display("report_interactions_complaints", "", partial(plot_report_complaints, monthly, tr=tr),
                   table=monthly, data={"monthly": monthly})
