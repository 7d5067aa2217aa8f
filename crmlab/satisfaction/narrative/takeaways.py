"""The one-sentence takeaways of the driver analysis, one per table or figure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crmlab.errors import InputError
from crmlab.satisfaction.thresholds import (
    CR_MIN,
)

if TYPE_CHECKING:  # the computation modules import narrative: type names only
    from crmlab.satisfaction.analysis import SurveyAnalysis

from crmlab.satisfaction.narrative.results import _names


def _effect_words(value: float) -> str:
    # Cohen's (1988) rough bands for eta-squared, also used for epsilon-squared.
    if not np.isfinite(value):
        return "not estimable"
    if value < 0.01:
        return "negligible"
    if value < 0.06:
        return "small"
    if value < 0.14:
        return "medium"
    return "large"


def takeaways(analysis: SurveyAnalysis) -> dict[str, str]:
    """One-sentence readings of each result, with the numbers filled in.

    The notebook puts them above the matching table or figure, so the text always agrees
    with the data whatever survey is analysed.

    Parameters
    ----------
    analysis : SurveyAnalysis
        :func:`analyze_survey` output.

    Returns
    -------
    dict
        Keys ``intake``, ``reliability``, ``loadings`` (how much first-principal-component
        loadings would inflate CR), ``items``, ``index``, ``correlations``,
        ``drivers``, ``ipm``, ``loyalty``, ``loyalty_model`` (the multi-construct model and
        its sign flips), ``groups``, ``nps`` (the last four say so when the survey does not
        have what they need).

    Raises
    ------
    InputError
        ``analysis`` is not a :class:`SurveyAnalysis`.
    """
    from crmlab.satisfaction.analysis import SurveyAnalysis
    from crmlab.satisfaction.reliability import loading_comparison

    if not isinstance(analysis, SurveyAnalysis):
        raise InputError("takeaways: needs the SurveyAnalysis returned by analyze_survey")
    s, lost = analysis.settings, analysis.losses
    out: dict[str, str] = {}

    answers = lost["respondents"] * len(s.items)
    set_missing = sum(lost["answers_set_missing"].values())
    reasons = [f"{v:,} {k.replace('_', ' ')}" for k, v in lost["answers_set_missing"].items() if v]
    dup = (
        f"; {lost['duplicate_ids_dropped']:,} row(s) repeating an earlier respondent id were dropped"
        if lost["duplicate_ids_dropped"]
        else ""
    )
    out["intake"] = (
        f"**Takeaway:** {lost['respondents']:,} respondents × {len(s.items)} items; "
        f"{set_missing:,} of {answers:,} answers ({set_missing / max(answers, 1):.1%}) "
        "were set missing"
        + (f" ({', '.join(reasons)})" if reasons else "")
        + f"{dup}; the smallest construct score rests on "
        f"{int(analysis.index['n'].min()):,} respondents."
    )

    rel = analysis.reliability
    multi = rel.loc[rel["items"] > 1]
    single = rel.loc[rel["items"] == 1, "construct"].tolist()
    sources = sorted(set(multi["loadings"]))
    words = {
        "ml": "maximum-likelihood one-factor loadings",
        "tau-equivalent": "equal loadings for two-item scales",
    }
    source = _names([words.get(x, x) for x in sources])

    def ac(r: Any) -> str:
        return f"{r.construct} (alpha {r.alpha:.2f}, CR {r.composite_reliability:.2f})"

    groups = {v: [r for r in multi.itertuples() if r.verdict == v]
              for v in ("reliable", "borderline", "unreliable")}
    parts = []
    if groups["reliable"]:
        parts.append(f"{_names([r.construct for r in groups['reliable']])} reach 0.7 on both")
    if groups["borderline"]:
        parts.append(f"{_names([ac(r) for r in groups['borderline']])} pass on one only: "
                     "borderline")
    if groups["unreliable"]:
        many = len(groups["unreliable"]) > 1
        parts.append(
            f"{_names([ac(r) for r in groups['unreliable']])} fall{'' if many else 's'} short, "
            f"so read {'their' if many else 'its'} scores with care"
        )
    heywood = multi.loc[multi["heywood"], "construct"].tolist()
    if heywood:
        parts.append(f"for {_names(heywood)} one loading hits 1, so even that CR is too high")
    if single:
        parts.append(
            f"{_names(single)} {'is a single item' if len(single) == 1 else 'are single items'} "
            "and cannot be checked"
        )
    out["reliability"] = (
        "**Takeaway:** "
        + (
            f"judged on raw alpha and composite reliability (CR, from {source}) together, "
            + "; ".join(parts)
            if len(multi)
            else "; ".join(parts) or "no construct has two or more items"
        )
        + "."
    )

    comparison = loading_comparison(analysis.prepared.items, s.constructs)
    if len(comparison):
        w = comparison.sort_values("cr_gap", ascending=False).iloc[0]
        out["loadings"] = (
            f"**Takeaway:** first-principal-component loadings would put {w.construct}'s CR at "
            f"{w.cr_pca:.2f} instead of {w.cr_model:.2f} (alpha {w.alpha:.2f})"
            + (": enough to make it look reliable."
               if w.cr_pca >= CR_MIN > w.cr_model
               else f", {w.cr_gap:.2f} too high.")
        )
    else:
        out["loadings"] = "**Takeaway:** no construct has two or more items: nothing to compare."

    items = analysis.items.dropna(subset=["alpha_change"])
    items = items.loc[items["alpha_change"] > 0].sort_values("alpha_change", ascending=False)
    if len(items):
        w = items.iloc[0]
        base = w.alpha_if_deleted - w.alpha_change
        out["items"] = (
            f"**Takeaway:** dropping {w['item']} would raise {w.construct}'s alpha from {base:.2f} "
            f"to {w.alpha_if_deleted:.2f}: it is the item that agrees least with its construct "
            f"(item-total r = {w.item_total_r:.2f}); check its wording before the next wave."
        )
    else:
        out["items"] = (
            "**Takeaway:** no item lowers its construct's alpha: every item pulls its weight."
        )

    idx = analysis.index.set_index("construct")
    o = idx.loc[s.outcome]
    top, low = idx["index"].idxmax(), idx["index"].idxmin()
    out["index"] = (
        f"**Takeaway:** the {s.outcome} index is **{o['index']:.1f} out of 100** "
        f"({s.confidence:.0%} CI {o.ci_low:.1f}-{o.ci_high:.1f}, n = {int(o.n):,}); "
        f"{top} scores highest ({idx.at[top, 'index']:.1f}), "
        f"{low} lowest ({idx.at[low, 'index']:.1f})."
    )

    corr = analysis.correlations
    if corr.shape[0] > 1:
        m = corr.where(~np.eye(len(corr), dtype=bool)).abs()
        a, b = m.stack().idxmax()
        out["correlations"] = (
            f"**Takeaway:** construct scores overlap "
            f"(up to r = {corr.at[a, b]:.2f}, {a} with {b}), "
            "so a driver's coefficient depends on which other drivers are in the model; the "
            "importance shares below split the overlap fairly."
        )
    else:
        out["correlations"] = "**Takeaway:** one construct only: nothing to correlate."

    dr = analysis.drivers
    if len(dr.table):
        t = dr.table
        flips = t.loc[t["sign_flip"].astype(bool)]
        out["drivers"] = (
            f"**Takeaway:** together the drivers explain R² = {dr.r2:.0%} of the differences in "
            f"{s.outcome} (n = {dr.n:,}); {t.construct.iloc[0]} carries the largest share "
            f"({t.importance.iloc[0]:.0%}), {t.construct.iloc[-1]} the smallest "
            f"({t.importance.iloc[-1]:.0%})"
            + (
                "; "
                + _names([f"{r.construct} (beta {r.beta:+.2f}, r {r.r:+.2f})"
                          for r in flips.itertuples()])
                + " change sign once the others are held fixed: suppression from overlap, "
                "not an effect"
                if len(flips)
                else ""
            )
            + "."
        )
        act = analysis.actions
        lever = act["actionable"].astype(bool)
        conc = act.loc[(act["quadrant"] == "concentrate here") & lever, "construct"].tolist()
        keep = act.loc[(act["quadrant"] == "keep up the good work") & lever, "construct"].tolist()
        not_levers = act.loc[~lever]
        worst = act.loc[act["performance"].idxmin()]
        first = (
            f"improve {_names(conc)} first (more important than most drivers, and weaker)"
            if conc
            else "no driver the firm can act on is both more important and weaker than the rest"
        )
        out["ipm"] = (
            f"**Takeaway:** {first}"
            + (f"; keep {_names(keep)} at its level" if keep else "")
            + f"; the weakest performer is {worst.construct} (index {worst.performance:.1f}, "
            f"{worst.importance:.0%} of R²)"
            + (
                f"; {_names(not_levers['construct'].tolist())} "
                f"{'is' if len(not_levers) == 1 else 'are'} not a lever the firm sets directly "
                f"({_names(not_levers['quadrant'].tolist())}), so no budget goes to "
                f"{'it' if len(not_levers) == 1 else 'them'} as such"
                if len(not_levers)
                else ""
            )
            + "."
        )
    else:
        out["drivers"] = (
            f"**Takeaway:** no driver constructs besides {s.outcome}: no key-driver analysis."
        )
        out["ipm"] = "**Takeaway:** no driver constructs, so no importance-performance matrix."

    ly = analysis.loyalty
    if ly is None:
        out["loyalty"] = (
            "**Takeaway:** no `loyalty` construct is set in the params, so no loyalty link."
        )
    else:
        flipped = ly.table.loc[ly.table["sign_flip"].astype(bool)] if len(ly.table) else ly.table
        out["loyalty"] = f"**Takeaway:** {ly.sentence}" + (
            " In the model that also holds the drivers fixed, "
            + _names([f"{r.term}'s coefficient turns {'negative' if r.beta < 0 else 'positive'} "
                      f"({r.beta:+.2f}, while r = {r.r:+.2f})" for r in flipped.itertuples()])
            + ": suppression from overlap with the other constructs, not a sign that "
            + _names(flipped["term"].tolist())
            + f" {'hurts' if flipped['beta'].iloc[0] < 0 else 'helps'} {s.loyalty}."
            if len(flipped)
            else ""
        )

    if ly is not None and len(ly.table):
        out["loyalty_model"] = f"**Takeaway:** {ly.multiple_sentence}" + (
            "" if ly.suppressed else " No coefficient changes sign against its correlation: "
            "no suppression to explain."
        )
    else:
        out["loyalty_model"] = (
            "**Takeaway:** no multi-construct loyalty model (it needs `loyalty` and drivers)."
        )

    g = analysis.groups
    if g is not None and len(g.tests):
        row = g.tests.set_index("construct").loc[s.outcome]
        means = g.means.loc[g.means["construct"] == s.outcome].set_index("group")["index"]
        if np.isfinite(row.eta_sq):
            out["groups"] = (
                f"**Takeaway:** the {s.outcome} index ranges from "
                f"{means.min():.1f} ({means.idxmin()}) "
                f"to {means.max():.1f} ({means.idxmax()}); ANOVA p = {row.anova_p:.3f}, "
                f"eta² = {row.eta_sq:.2f} ({_effect_words(row.eta_sq)} effect), "
                f"Kruskal-Wallis p = {row.kruskal_p:.3f}."
            )
        else:
            out["groups"] = "**Takeaway:** too few groups with two or more respondents to compare."
    else:
        out["groups"] = (
            "**Takeaway:** no `group` column is set in the params, so no group comparison."
        )

    n = analysis.nps
    out["nps"] = (
        f"**Takeaway:** the Net Promoter Score is **{n['nps']:+.0f}** ({s.confidence:.0%} CI "
        f"{n['ci'][0]:+.0f} to {n['ci'][1]:+.0f}): {n['promoters']:.0%} promoters, "
        f"{n['detractors']:.0%} detractors (n = {n['n']:,})."
        if n is not None
        else "**Takeaway:** no `recommend` item is set in the params, so no Net Promoter Score."
    )
    return out
