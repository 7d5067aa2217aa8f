"""The takeaways of the PLS path model and the Net Promoter Score."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crmlab.satisfaction.thresholds import (
    HTMT_LIBERAL,
    HTMT_STRICT,
)

if TYPE_CHECKING:  # the computation modules import narrative: type names only
    from crmlab.satisfaction.pls_stage import PLSAnalysis


def _pct(x: float) -> str:
    return f"{x:.0%}"


def pls_takeaways(pa: PLSAnalysis | None, nps_block: dict[str, Any] | None) -> dict[str, str]:
    """One-sentence takeaways for the chapter's PLS section (written from the numbers).

    Returns
    -------
    dict
        ``paths``, ``effects``, ``quality``, ``htmt``, ``index``, ``ipma``, ``nps``.
    """
    out: dict[str, str] = {}
    if pa is None:
        none = "**Takeaway:** no `survey.model` is set in the params, so no PLS path model."
        out.update(dict.fromkeys(("paths", "effects", "quality", "htmt", "index", "ipma"), none))
    else:
        r, t = pa.result, pa.target
        preds = r.model.structural.get(t, ())
        strongest = max(preds, key=lambda p: r.paths.at[p, t]) if preds else None
        out["paths"] = (
            f"**Takeaway:** the model explains **{_pct(r.r2[t])}** of the differences in {t} "
            f"(R²) after {r.iterations} iterations"
            + (f"; its strongest direct path comes from **{strongest}** "
               f"({r.paths.at[strongest, t]:.2f})." if strongest else ".")
        )
        eff = pa.effects[pa.effects["target"] == t]
        gap = (eff["indirect"]).idxmax() if len(eff) else None
        out["effects"] = (
            f"**Takeaway:** counting the paths through other constructs, "
            f"**{eff.at[gap, 'source']}**'s total effect on {t} is {eff.at[gap, 'total']:.2f} "
            f"against a direct path of {eff.at[gap, 'direct']:.2f}: a direct-only reading "
            "understates it." if gap is not None else "**Takeaway:** nothing has an effect on "
            f"{t}."
        )
        rel = pa.reliability[pa.reliability["n_items"] > 1]
        weak = rel.index[(rel["rho_c"] < 0.7) | (rel["ave"] < 0.5)].tolist()
        out["quality"] = (
            f"**Takeaway:** composite reliability ranges {rel['rho_c'].min():.2f}–"
            f"{rel['rho_c'].max():.2f} and AVE {rel['ave'].min():.2f}–{rel['ave'].max():.2f}; "
            + (f"below 0.7 / 0.5: **{', '.join(weak)}**." if weak else
               "every multi-item construct passes 0.7 and 0.5.")
            if len(rel) else "**Takeaway:** only single-item constructs: no reliability to estimate."
        )
        h = pa.htmt
        if len(h) > 1:
            stacked = h.where(np.triu(np.ones(h.shape, dtype=bool), 1)).stack().dropna()
            (a, b), top = stacked.idxmax(), stacked.max()
            verdict = ("below the strict 0.85" if top < HTMT_STRICT else
                       "between 0.85 and 0.90: acceptable only for conceptually close constructs"
                       if top < HTMT_LIBERAL else "above 0.90: the two are not distinct")
            over = int((stacked >= HTMT_STRICT).sum())
            out["htmt"] = (f"**Takeaway:** the highest HTMT is **{top:.2f}** ({a} and {b}), "
                           f"{verdict}; {over} of {len(stacked)} pairs reach 0.85.")
        else:
            out["htmt"] = "**Takeaway:** one construct only: no HTMT."
        ix = pa.index.loc[t]
        out["index"] = (
            f"**Takeaway:** the PLS-weighted {t} index is **{ix['index_pls']:.1f}** "
            f"({ix['ci_low']:.1f}–{ix['ci_high']:.1f}) against {ix['index_equal']:.1f} with "
            f"equal weights: a difference of {ix['difference']:+.1f} points."
        )
        gap = pa.index["difference"].abs().idxmax()
        items = list(r.model.measurement[gap])
        if gap != t and len(items) > 1 and abs(pa.index.at[gap, "difference"]) >= 1:
            raw_w = r.outer.loc[items, "weight"] / r.data[items].std(ddof=1)
            share = raw_w / raw_w.sum()
            low = share.idxmin()
            means = r.data[items].mean()
            out["index"] += (
                f" The largest gap is {gap} ({pa.index.at[gap, 'difference']:+.1f}): the model "
                f"gives {low} only {share[low]:.0%} of the weight, and its mean answer "
                f"({means[low]:.1f}) is {'below' if means[low] < means.mean() else 'above'} "
                f"the other items' ({means.drop(low).mean():.1f})."
            )
        top = pa.ipma.iloc[0]
        focus = pa.ipma[(pa.ipma["quadrant"] == "concentrate here") & pa.ipma["actionable"]]
        out["ipma"] = (
            f"**Takeaway:** by total effect, **{top['construct']}** matters most for {t} "
            f"({top['importance']:.2f} index points per point)"
            + (f"; improve **{', '.join(focus['construct'])}** first (important, weaker)."
               if len(focus) else "; no lever sits in 'Concentrate here'.")
        )
    if nps_block is None:
        out["nps"] = "**Takeaway:** no `survey.recommend` item is set, so no Net Promoter Score."
    else:
        n = nps_block
        out["nps"] = (
            f"**Takeaway:** the Net Promoter Score is **{n['nps']:+.0f}** "
            f"({n['confidence']:.0%} CI {n['ci_low']:+.0f} to {n['ci_high']:+.0f}, "
            f"n = {n['n']}): {_pct(n['promoters'])} promoters, {_pct(n['detractors'])} detractors."
        )
    return out
