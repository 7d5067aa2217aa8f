"""The satisfaction chapter's figures as :class:`crmlab.display.Display` objects.

Each function takes computed results and the takeaways of :mod:`.narrative` and returns a
Display named after the figure's file (``satisfaction_index`` ...), whose ``draw`` is a
:mod:`.plotting` function and whose ``table`` is the table saved beside it; the notebook
shows it with ``ctx.show(...)``. A function returns ``None`` when the survey lacks what the
figure needs (no loyalty construct, no PLS model ...); :func:`show_or_note` then shows the
takeaway that says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np

from crmlab.display import Display
from crmlab.i18n import EN, Catalog
from crmlab.satisfaction import narrative, plotting
from crmlab.satisfaction.narrative.words import (
    bare,
    construct_name,
    construct_names,
    path_name,
    word,
)
from crmlab.satisfaction.thresholds import HTMT_LIBERAL, HTMT_STRICT

if TYPE_CHECKING:
    from crmlab.satisfaction.analysis import SurveyAnalysis
    from crmlab.satisfaction.pls_stage import PLSAnalysis

__all__ = [
    "reliability_display",
    "index_display",
    "correlations_display",
    "drivers_display",
    "importance_performance_display",
    "loyalty_display",
    "loyalty_model_display",
    "groups_display",
    "nps_display",
    "pls_paths_display",
    "pls_effects_display",
    "pls_htmt_display",
    "pls_index_display",
    "pls_ipma_display",
    "show_or_note",
    "shown_table",
]

# Columns of the stage's tables that hold codes (English in the products): shown translated.
_CODE_COLUMNS = {"verdict": "verdict", "quadrant": "quadrant", "loadings": "loadings_source",
                 "kind": "effect_kind"}
# Columns that hold construct names besides ``construct`` (the loyalty model, the PLS effects).
_CONSTRUCT_COLUMNS = ("term", "source", "target")

def _bare(tr: Catalog, takeaway: str) -> str:
    # the stage context adds the "Takeaway:" label itself
    return bare(takeaway, tr)


def shown_table(table: Any, *, tr: Catalog = EN) -> Any:
    """Return a stage table as the notebook shows it: labels and codes in ``tr``'s language.

    Only for display: the saved tables and ``satisfaction.json`` keep their English columns
    and codes (the data contract). Construct names (columns ``construct``, ``term``,
    ``source``, ``target``, a ``construct`` index, path labels ``"A -> B"`` in the index) are
    shown through :func:`~crmlab.satisfaction.narrative.words.construct_name`: the lab's
    default constructs in ``tr``'s language, a user's own names as they are. Item and group
    names pass unchanged. With the English catalog the table itself is returned.
    """
    if tr.language == "en" or table is None:
        return table
    out = table.copy()
    if "construct" in out.columns:  # the recommend item's row of the intake table has a label
        out["construct"] = [construct_name(word(tr, "construct_label", v), tr)
                            for v in out["construct"]]
    for col in _CONSTRUCT_COLUMNS:
        if col in out.columns:
            out[col] = construct_names(out[col], tr)
    for col, kind in _CODE_COLUMNS.items():
        if col in out.columns:
            out[col] = [word(tr, kind, v) for v in out[col]]
    out = out.rename(columns=lambda c: word(tr, "column", c))
    if out.index.name == "construct":
        out.index = out.index.map(lambda v: construct_name(v, tr))
    elif any(isinstance(v, str) and " -> " in v for v in out.index):
        out.index = out.index.map(lambda v: path_name(v, tr))  # bootstrap and effects tables
    if out.index.name is not None:
        out.index.name = word(tr, "column", out.index.name)
    return out


def show_or_note(ctx: Any, display: Display | None, note: str) -> Display | None:
    """Show ``display`` through the stage context, or only ``note`` when there is none.

    Parameters
    ----------
    ctx : StageContext
        The notebook's stage context (saves the figure and table).
    display : Display or None
        What a ``*_display`` function returned.
    note : str
        The takeaway (Markdown) saying why there is no figure.

    Returns
    -------
    Display or None
    """
    if display is not None:
        return ctx.show(display)
    from IPython.display import Markdown
    from IPython.display import display as ipy_display

    ipy_display(Markdown(note))
    return None


def reliability_display(analysis: SurveyAnalysis, t: Mapping[str, str],
                        *, tr: Catalog = EN) -> Display:
    """Show alpha, CR and AVE per construct (``satisfaction_reliability``)."""
    return Display("satisfaction_reliability", _bare(tr, t["reliability"]),
                   partial(plotting.plot_reliability, analysis.reliability, tr=tr),
                   table=analysis.reliability)


def index_display(analysis: SurveyAnalysis, t: Mapping[str, str], *, tr: Catalog = EN) -> Display:
    """Show the 0-100 index per construct, the outcome in red (``satisfaction_index``)."""
    return Display("satisfaction_index", _bare(tr, t["index"]),
                   partial(plotting.plot_satisfaction_index, analysis.index,
                           analysis.settings.outcome, tr=tr),
                   table=analysis.index)


def correlations_display(analysis: SurveyAnalysis, t: Mapping[str, str],
                         *, tr: Catalog = EN) -> Display:
    """Show the correlations between construct scores (``satisfaction_correlations``)."""
    corr = analysis.correlations
    return Display("satisfaction_correlations", _bare(tr, t["correlations"]),
                   partial(plotting.plot_construct_correlations, corr, tr=tr),
                   table=corr.rename_axis("construct").reset_index())


def _draw_drivers(table: Any, r2: float, outcome: str, ax: Any = None, tr: Catalog = EN) -> Any:
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(12, 0.5 * max(len(table), 4) + 1.5))
    plotting.plot_driver_coefficients(table, ax=ax[0], outcome=outcome, tr=tr)
    plotting.plot_driver_importance(table, r2, ax=ax[1], outcome=outcome, tr=tr)
    ax[0].figure.tight_layout()
    return ax


def drivers_display(analysis: SurveyAnalysis, t: Mapping[str, str],
                    *, tr: Catalog = EN) -> Display:
    """Show coefficients beside importance shares (``satisfaction_drivers``, two panels)."""
    dr = analysis.drivers
    return Display("satisfaction_drivers", _bare(tr, t["drivers"]),
                   partial(_draw_drivers, dr.table, dr.r2, analysis.settings.outcome, tr=tr),
                   table=dr.table, data={"fit": dr.fit})


def importance_performance_display(analysis: SurveyAnalysis, t: Mapping[str, str],
                                   *, tr: Catalog = EN) -> Display:
    """Show Martilla & James's map of the drivers (``satisfaction_importance_performance``)."""
    return Display("satisfaction_importance_performance", _bare(tr, t["ipm"]),
                   partial(plotting.plot_importance_performance, analysis.actions,
                           outcome=analysis.settings.outcome, tr=tr),
                   table=analysis.actions, table_name="satisfaction_actions")


def loyalty_display(analysis: SurveyAnalysis, t: Mapping[str, str],
                    *, tr: Catalog = EN) -> Display | None:
    """Show loyalty against satisfaction with the fitted line (``satisfaction_loyalty``)."""
    if analysis.loyalty is None:
        return None
    s = analysis.settings
    return Display("satisfaction_loyalty", _bare(tr, t["loyalty"]),
                   partial(plotting.plot_loyalty_link, analysis.scores, s.outcome, s.loyalty,
                           analysis.loyalty, scale=s.scale, tr=tr))


def loyalty_model_display(analysis: SurveyAnalysis, t: Mapping[str, str],
                          *, tr: Catalog = EN) -> Display | None:
    """Show each term's r beside its beta in the loyalty model (``satisfaction_loyalty_model``)."""
    ly = analysis.loyalty
    if ly is None or not len(ly.table):
        return None
    return Display("satisfaction_loyalty_model", _bare(tr, t["loyalty_model"]),
                   partial(plotting.plot_loyalty_coefficients, ly.table,
                           analysis.settings.loyalty, tr=tr),
                   table=ly.table, table_name="satisfaction_loyalty_drivers")


def groups_display(analysis: SurveyAnalysis, t: Mapping[str, str],
                   *, tr: Catalog = EN) -> Display | None:
    """Show the outcome's index per group (``satisfaction_groups``); ``data["tests"]``: the tests."""
    g = analysis.groups
    if g is None:
        return None
    return Display("satisfaction_groups", _bare(tr, t["groups"]),
                   partial(plotting.plot_group_index, g.means, analysis.settings.outcome, tr=tr),
                   table=g.means, table_name="satisfaction_group_index",
                   data={"tests": g.tests})


def nps_display(nps_block: Mapping[str, Any] | None, tp: Mapping[str, str],
                *, tr: Catalog = EN) -> Display | None:
    """Show detractors, passives and promoters on the item's scale (``satisfaction_nps``)."""
    if nps_block is None:
        return None
    import pandas as pd

    by_group = pd.DataFrame(nps_block["by_group"]).T if "by_group" in nps_block else None
    caveat = narrative.nps_caveat_line(nps_block, tr=tr)
    takeaway = _bare(tr, tp["nps"]) + (f"\n\n{caveat}" if caveat else "")
    return Display("satisfaction_nps", takeaway, partial(plotting.plot_nps, nps_block, tr=tr),
                   data={"by_group": by_group})


def pls_paths_display(pa: PLSAnalysis | None, tp: Mapping[str, str],
                      *, tr: Catalog = EN) -> Display | None:
    """Show the path diagram (``satisfaction_pls_paths``); table: bootstrap intervals or effects."""
    if pa is None:
        return None
    table = pa.bootstrap if pa.bootstrap is not None else pa.effects
    paths = (pa.bootstrap[pa.bootstrap["kind"] == "path"] if pa.bootstrap is not None
             else pa.result.paths)
    return Display("satisfaction_pls_paths", _bare(tr, tp["paths"]),
                   partial(plotting.plot_path_diagram, pa.result.to_dict()["paths"],
                           pa.result.r2.to_dict(), tr=tr),
                   table=table.rename_axis("effect").reset_index(), data={"paths": paths})


def _draw_effects(effects: Any, targets: list[str], ax: Any = None, tr: Catalog = EN) -> Any:
    if ax is None:
        _, ax = plt.subplots(1, len(targets), figsize=(6.5 * len(targets), 4), squeeze=False)
    axes = np.ravel(ax)
    for one, target in zip(axes, targets, strict=False):
        plotting.plot_direct_total_effects(effects, target, ax=one, tr=tr)
    axes[0].figure.tight_layout()
    return ax


def pls_effects_display(pa: PLSAnalysis | None, tp: Mapping[str, str],
                        outcome: str, loyalty: str | None, *, tr: Catalog = EN) -> Display | None:
    """Show direct and indirect effects on the outcome and loyalty (``satisfaction_pls_effects``)."""
    if pa is None:
        return None
    targets = [c for c in (outcome, loyalty) if c in pa.result.model.structural]
    return Display("satisfaction_pls_effects", _bare(tr, tp["effects"]),
                   partial(_draw_effects, pa.effects, targets, tr=tr),
                   table=pa.effects.rename_axis("effect").reset_index(),
                   data={"effects": pa.effects[pa.effects["target"].isin(targets)]})


def pls_htmt_display(pa: PLSAnalysis | None, tp: Mapping[str, str],
                     *, tr: Catalog = EN) -> Display | None:
    """Show the HTMT matrix (``satisfaction_pls_htmt``); ``None`` with fewer than two constructs."""
    if pa is None or len(pa.htmt) <= 1:
        return None
    return Display("satisfaction_pls_htmt", _bare(tr, tp["htmt"]),
                   partial(plotting.plot_htmt, pa.htmt, strict=HTMT_STRICT, liberal=HTMT_LIBERAL,
                           tr=tr),
                   table=pa.htmt.rename_axis("construct").reset_index())


def pls_index_display(pa: PLSAnalysis | None, tp: Mapping[str, str],
                      outcome: str, *, tr: Catalog = EN) -> Display | None:
    """Show the PLS-weighted beside equal-weight index (``satisfaction_pls_index``)."""
    if pa is None:
        return None
    return Display("satisfaction_pls_index", _bare(tr, tp["index"]),
                   partial(plotting.plot_index_weights, pa.index, outcome=outcome, tr=tr),
                   table=pa.index.reset_index())


def pls_ipma_display(pa: PLSAnalysis | None, tp: Mapping[str, str],
                     *, tr: Catalog = EN) -> Display | None:
    """Show the priority map from total effects (``satisfaction_pls_ipma``)."""
    if pa is None:
        return None
    return Display("satisfaction_pls_ipma", _bare(tr, tp["ipma"]),
                   partial(plotting.plot_ipma_total, pa.ipma, pa.target, tr=tr),
                   table=pa.ipma)
