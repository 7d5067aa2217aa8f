"""The notebook's computed lines: what was read, what was fitted, what was written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmlab.satisfaction.analysis import SurveyAnalysis
    from crmlab.satisfaction.pls_stage import PLSAnalysis

__all__ = ["intake_line", "alpha_line", "pls_fit_line", "nps_caveat_line", "product_line",
           "what_to_do"]


def intake_line(analysis: SurveyAnalysis, info: Any) -> str:
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
    return (
        f"Read **{analysis.prepared.respondents_in:,} respondents** and **{len(s.items)} "
        f"items in {len(s.constructs)} constructs** from `{name}` "
        f"({info.format}, encoding `{info.encoding}`, delimiter `{info.sep!r}`); scale "
        f"{s.scale[0]:g}–{s.scale[1]:g}."
    )


def alpha_line(construct: str, raw_alpha: float, std_alpha: float, n_items: int) -> str:
    """Raw and standardised alpha of one construct, side by side (Markdown)."""
    return (
        f"{construct}: raw alpha = **{raw_alpha:.3f}**, "
        f"standardised alpha = **{std_alpha:.3f}** ({n_items} items)."
    )


def pls_fit_line(pa: PLSAnalysis | None) -> str:
    """How the PLS model was fitted ("" without a model)."""
    if pa is None:
        return ""
    return (
        f"Fitted on **{pa.result.n} respondents** (missing answers: `{pa.settings['missing']}`), "
        f"{pa.settings['scheme']} weighting, converged after {pa.result.iterations} outer-weight "
        f"updates; {pa.settings['bootstrap_n']} bootstrap resamples (seed {pa.settings['seed']}); "
        f"{pa.seconds:.1f} s."
    )


def nps_caveat_line(nps_block: Mapping[str, Any] | None) -> str:
    """Give the NPS scale caveat as a Markdown line ("" when the item is on 0-10 or absent)."""
    if nps_block is None or not nps_block.get("caveat"):
        return ""
    return f"*Scale caveat:* {nps_block['caveat']}"


def product_line(path: Path, result: Mapping[str, Any], pa: PLSAnalysis | None) -> str:
    """Say what ``satisfaction.json`` holds in one line (Markdown)."""
    return (
        f"Wrote `{path.name}`: satisfaction index **{result['satisfaction_index']:.1f}**, "
        + (f"driver R² **{result['r2']:.2f}** on {result['n_regression']:,} respondents"
           if result["r2"] is not None else "no driver analysis")
        + (f"; PLS R² of {pa.target} **{result['pls']['r2'][pa.target]:.2f}**."
           if result["pls"] is not None else "; no PLS model.")
    )


def what_to_do(t: Mapping[str, str], tp: Mapping[str, str],
               keys: Sequence[tuple[str, str]] = (
                   ("t", "index"), ("t", "reliability"), ("t", "ipm"), ("tp", "paths"),
                   ("tp", "ipma"), ("t", "loyalty"), ("tp", "nps"))) -> str:
    """Join the key takeaways into the chapter's closing summary, one paragraph each (Markdown)."""
    source = {"t": t, "tp": tp}
    return "\n\n".join(source[which][key] for which, key in keys)
