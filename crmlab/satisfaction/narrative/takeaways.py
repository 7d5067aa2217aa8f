"""The one-sentence takeaways of the driver analysis, one per table or figure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crmlab.errors import InputError
from crmlab.i18n import EN, Catalog
from crmlab.satisfaction.thresholds import (
    CR_MIN,
)

if TYPE_CHECKING:  # the computation modules import narrative: type names only
    from crmlab.satisfaction.analysis import SurveyAnalysis

from crmlab.satisfaction.narrative.results import loyalty_model_sentence, loyalty_sentence
from crmlab.satisfaction.narrative.words import construct_name, construct_names, label, word


def _effect_words(value: float, tr: Catalog = EN) -> str:
    # Cohen's (1988) rough bands for eta-squared, also used for epsilon-squared.
    if not np.isfinite(value):
        return tr("satisfaction.effect_size.not_estimable")
    if value < 0.01:
        return tr("satisfaction.effect_size.negligible")
    if value < 0.06:
        return tr("satisfaction.effect_size.small")
    if value < 0.14:
        return tr("satisfaction.effect_size.medium")
    return tr("satisfaction.effect_size.large")


def takeaways(analysis: SurveyAnalysis, *, tr: Catalog = EN) -> dict[str, str]:
    """One-sentence readings of each result, with the numbers filled in.

    The notebook puts them above the matching table or figure, so the text always agrees
    with the data whatever survey is analysed.

    Parameters
    ----------
    analysis : SurveyAnalysis
        :func:`analyze_survey` output.
    tr : Catalog, optional
        The language of the sentences (default English).

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
    lab = label(tr)
    names = tr.join

    def c(value: Any) -> str:  # a construct as the reader sees it
        return construct_name(value, tr)

    def cs(values: Any) -> list[str]:
        return construct_names(values, tr)

    def k(key: str, **values: Any) -> str:
        return tr(f"satisfaction.takeaway.{key}", **values)

    answers = lost["respondents"] * len(s.items)
    set_missing = sum(lost["answers_set_missing"].values())
    reasons = [k("intake_reason", n=v, reason=word(tr, "missing_reason", r))
               for r, v in lost["answers_set_missing"].items() if v]
    dup = (k("intake_duplicates", n=lost["duplicate_ids_dropped"])
           if lost["duplicate_ids_dropped"] else "")
    out["intake"] = lab + k(
        "intake", respondents=lost["respondents"], items=len(s.items), set_missing=set_missing,
        answers=answers, share=set_missing / max(answers, 1),
        reasons=k("intake_reasons", reasons=tr("common.list_sep").join(reasons)) if reasons else "",
        duplicates=dup, smallest=int(analysis.index["n"].min()),
    )

    rel = analysis.reliability
    multi = rel.loc[rel["items"] > 1]
    single = rel.loc[rel["items"] == 1, "construct"].tolist()
    sources = sorted(set(multi["loadings"]))
    words = {
        "ml": k("loadings_ml"),
        "tau-equivalent": k("loadings_tau"),
    }
    source = names([words.get(x, x) for x in sources])

    def ac(r: Any) -> str:
        return k("alpha_cr", construct=c(r.construct), alpha=r.alpha, cr=r.composite_reliability)

    groups = {v: [r for r in multi.itertuples() if r.verdict == v]
              for v in ("reliable", "borderline", "unreliable")}
    parts = []
    if groups["reliable"]:
        parts.append(k("reliable", names=names([c(r.construct) for r in groups["reliable"]])))
    if groups["borderline"]:
        parts.append(k("borderline", names=names([ac(r) for r in groups["borderline"]])))
    if groups["unreliable"]:
        many = len(groups["unreliable"]) > 1
        parts.append(k("unreliable_other" if many else "unreliable_one",
                       names=names([ac(r) for r in groups["unreliable"]])))
    heywood = multi.loc[multi["heywood"], "construct"].tolist()
    if heywood:
        parts.append(k("heywood", names=names(cs(heywood))))
    if single:
        parts.append(k("single_one" if len(single) == 1 else "single_other",
                       names=names(cs(single))))
    sep = k("parts_sep")
    out["reliability"] = lab + (
        k("reliability", source=source, parts=sep.join(parts))
        if len(multi)
        else k("reliability_bare", parts=sep.join(parts)) if parts else k("reliability_none")
    )

    comparison = loading_comparison(analysis.prepared.items, s.constructs)
    if len(comparison):
        w = comparison.sort_values("cr_gap", ascending=False).iloc[0]
        values = {"construct": c(w.construct), "cr_pca": w.cr_pca, "cr_model": w.cr_model,
                  "alpha": w.alpha, "gap": w.cr_gap}
        out["loadings"] = lab + (k("loadings_reliable", **values)
                                 if w.cr_pca >= CR_MIN > w.cr_model
                                 else k("loadings_gap", **values))
    else:
        out["loadings"] = lab + k("loadings_none")

    items = analysis.items.dropna(subset=["alpha_change"])
    items = items.loc[items["alpha_change"] > 0].sort_values("alpha_change", ascending=False)
    if len(items):
        w = items.iloc[0]
        base = w.alpha_if_deleted - w.alpha_change
        out["items"] = lab + k("items", item=w["item"], construct=c(w.construct), base=base,
                               alpha=w.alpha_if_deleted, r=w.item_total_r)
    else:
        out["items"] = lab + k("items_none")

    idx = analysis.index.set_index("construct")
    o = idx.loc[s.outcome]
    top, low = idx["index"].idxmax(), idx["index"].idxmin()
    out["index"] = lab + k(
        "index", outcome=c(s.outcome), index=o["index"], confidence=s.confidence, ci_low=o.ci_low,
        ci_high=o.ci_high, n=int(o.n), top=c(top), top_index=idx.at[top, "index"], low=c(low),
        low_index=idx.at[low, "index"],
    )

    corr = analysis.correlations
    if corr.shape[0] > 1:
        m = corr.where(~np.eye(len(corr), dtype=bool)).abs()
        a, b = m.stack().idxmax()
        out["correlations"] = lab + k("correlations", r=corr.at[a, b], a=c(a), b=c(b))
    else:
        out["correlations"] = lab + k("correlations_none")

    dr = analysis.drivers
    if len(dr.table):
        t = dr.table
        flips = t.loc[t["sign_flip"].astype(bool)]
        out["drivers"] = lab + k(
            "drivers", r2=dr.r2, outcome=c(s.outcome), n=dr.n, top=c(t.construct.iloc[0]),
            top_share=t.importance.iloc[0], low=c(t.construct.iloc[-1]),
            low_share=t.importance.iloc[-1],
            flips=k("drivers_flips", names=names([
                k("drivers_flip", construct=c(r.construct), beta=r.beta, r=r.r)
                for r in flips.itertuples()])) if len(flips) else "",
        )
        act = analysis.actions
        lever = act["actionable"].astype(bool)
        conc = act.loc[(act["quadrant"] == "concentrate here") & lever, "construct"].tolist()
        keep = act.loc[(act["quadrant"] == "keep up the good work") & lever, "construct"].tolist()
        not_levers = act.loc[~lever]
        worst = act.loc[act["performance"].idxmin()]
        first = k("ipm_first", names=names(cs(conc))) if conc else k("ipm_first_none")
        one = len(not_levers) == 1
        out["ipm"] = lab + k(
            "ipm", first=first, keep=k("ipm_keep", names=names(cs(keep))) if keep else "",
            worst=c(worst.construct), performance=worst.performance, importance=worst.importance,
            not_levers=k(
                "ipm_not_levers_one" if one else "ipm_not_levers_other",
                names=names(cs(not_levers["construct"])),
                quadrants=names([word(tr, "quadrant", q) for q in not_levers["quadrant"]]),
            ) if len(not_levers) else "",
        )
    else:
        out["drivers"] = lab + k("drivers_none", outcome=c(s.outcome))
        out["ipm"] = lab + k("ipm_none")

    ly = analysis.loyalty
    if ly is None:
        out["loyalty"] = lab + k("loyalty_none")
    else:
        flipped = ly.table.loc[ly.table["sign_flip"].astype(bool)] if len(ly.table) else ly.table
        sentence = _loyalty_sentence(analysis, tr)
        out["loyalty"] = lab + sentence + (
            k(
                "loyalty_flips_" + ("hurts" if flipped["beta"].iloc[0] < 0 else "helps"),
                terms=names([
                    k("loyalty_flip_" + ("negative" if r.beta < 0 else "positive"),
                      term=c(r.term), beta=r.beta, r=r.r)
                    for r in flipped.itertuples()]),
                names=names(cs(flipped["term"])), loyalty=c(s.loyalty),
            )
            if len(flipped)
            else ""
        )

    if ly is not None and len(ly.table):
        out["loyalty_model"] = lab + _loyalty_model_sentence(analysis, tr) + (
            "" if ly.suppressed else k("loyalty_model_no_flip")
        )
    else:
        out["loyalty_model"] = lab + k("loyalty_model_none")

    g = analysis.groups
    if g is not None and len(g.tests):
        row = g.tests.set_index("construct").loc[s.outcome]
        means = g.means.loc[g.means["construct"] == s.outcome].set_index("group")["index"]
        if np.isfinite(row.eta_sq):
            out["groups"] = lab + k(
                "groups", outcome=c(s.outcome), low=means.min(), low_group=means.idxmin(),
                high=means.max(), high_group=means.idxmax(), anova_p=row.anova_p,
                eta_sq=row.eta_sq, effect=_effect_words(row.eta_sq, tr), kruskal_p=row.kruskal_p,
            )
        else:
            out["groups"] = lab + k("groups_few")
    else:
        out["groups"] = lab + k("groups_none")

    n = analysis.nps
    out["nps"] = lab + (
        k("nps", nps=n["nps"], confidence=s.confidence, ci_low=n["ci"][0], ci_high=n["ci"][1],
          promoters=n["promoters"], detractors=n["detractors"], n=n["n"])
        if n is not None
        else k("nps_none")
    )
    return out


def _loyalty_sentence(analysis: SurveyAnalysis, tr: Catalog) -> str:
    """Word the loyalty link: the analysis' own (English) sentence, or the same one in ``tr``."""
    ly, s = analysis.loyalty, analysis.settings
    if tr is EN or ly is None:
        return ly.sentence if ly is not None else ""
    return loyalty_sentence(s.outcome, s.loyalty, s.scale, ly.slope, ly.ci, s.confidence,
                            ly.r2, ly.n, tr=tr)


def _loyalty_model_sentence(analysis: SurveyAnalysis, tr: Catalog) -> str:
    """Word the multi-construct loyalty model in ``tr`` (as :func:`loyalty_link` words it)."""
    ly, s = analysis.loyalty, analysis.settings
    if tr is EN:
        return ly.multiple_sentence
    terms = ly.table["term"].tolist()
    full = analysis.scores[[s.loyalty, *terms]].dropna()
    return loyalty_model_sentence(ly.table, s.outcome, s.loyalty, ly.r2_multiple, ly.n_multiple,
                                  full[terms].corr(), tr=tr)
