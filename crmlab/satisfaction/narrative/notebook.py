"""The notebook's computed lines: what was read, what was fitted, what was written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmlab.i18n import EN, Catalog
from crmlab.satisfaction.narrative.words import construct_name

if TYPE_CHECKING:
    from crmlab.satisfaction.analysis import SurveyAnalysis
    from crmlab.satisfaction.pls_stage import PLSAnalysis

__all__ = ["intake_line", "alpha_line", "pls_fit_line", "nps_caveat_line", "product_line",
           "what_to_do"]


def intake_line(analysis: SurveyAnalysis, info: Any, *, tr: Catalog = EN) -> str:
    """Say what was read: respondents, items, constructs, the file and how it was parsed.

    Parameters
    ----------
    analysis : SurveyAnalysis
        :func:`crmlab.satisfaction.analyze_survey` output.
    info : object
        The reader's file info (``path``, ``format``, ``encoding``, ``sep``).

    Returns
    -------
    str
        Markdown.
    """
    s = analysis.settings
    name = str(info.path).split("/")[-1]
    return tr("satisfaction.notebook.intake", respondents=analysis.prepared.respondents_in,
              items=len(s.items), constructs=len(s.constructs), name=name, format=info.format,
              encoding=info.encoding, sep=repr(info.sep), lo=s.scale[0], hi=s.scale[1])


def alpha_line(construct: str, raw_alpha: float, std_alpha: float, n_items: int, *,
               tr: Catalog = EN) -> str:
    """Raw and standardised alpha of one construct, side by side (Markdown)."""
    return tr("satisfaction.notebook.alpha", construct=construct_name(construct, tr), raw=raw_alpha, std=std_alpha,
              n=n_items)


def pls_fit_line(pa: PLSAnalysis | None, *, tr: Catalog = EN) -> str:
    """How the PLS model was fitted ("" without a model)."""
    if pa is None:
        return ""
    return tr("satisfaction.notebook.pls_fit", n=pa.result.n, missing=pa.settings["missing"],
              scheme=pa.settings["scheme"], iterations=pa.result.iterations,
              bootstrap=pa.settings["bootstrap_n"], seed=pa.settings["seed"],
              seconds=pa.seconds)


def nps_caveat_line(nps_block: Mapping[str, Any] | None, *, tr: Catalog = EN) -> str:
    """Give the NPS scale caveat as a Markdown line ("" when the item is on 0-10 or absent).

    ``nps_block["caveat"]`` is in the language :func:`crmlab.satisfaction.nps_summary` was
    given.
    """
    if nps_block is None or not nps_block.get("caveat"):
        return ""
    return tr("satisfaction.notebook.nps_caveat", caveat=nps_block["caveat"])


def product_line(path: Path, result: Mapping[str, Any], pa: PLSAnalysis | None, *,
                 tr: Catalog = EN) -> str:
    """Say what ``satisfaction.json`` holds in one line (Markdown)."""
    k = "satisfaction.notebook."
    return (
        tr(k + "product", name=path.name, index=result["satisfaction_index"])
        + (tr(k + "product_drivers", r2=result["r2"], n=result["n_regression"])
           if result["r2"] is not None else tr(k + "product_no_drivers"))
        + (tr(k + "product_pls", target=construct_name(pa.target, tr), r2=result["pls"]["r2"][pa.target])
           if result["pls"] is not None else tr(k + "product_no_pls"))
    )


def what_to_do(t: Mapping[str, str], tp: Mapping[str, str],
               keys: Sequence[tuple[str, str]] = (
                   ("t", "index"), ("t", "reliability"), ("t", "ipm"), ("tp", "paths"),
                   ("tp", "ipma"), ("t", "loyalty"), ("tp", "nps"))) -> str:
    """Join the key takeaways into the chapter's closing summary, one paragraph each (Markdown)."""
    source = {"t": t, "tp": tp}
    return "\n\n".join(source[which][key] for which, key in keys)
