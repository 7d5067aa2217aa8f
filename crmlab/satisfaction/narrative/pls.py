"""The takeaways of the PLS path model and the Net Promoter Score."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crmlab.i18n import EN, Catalog
from crmlab.satisfaction.narrative.words import construct_name, construct_names, label
from crmlab.satisfaction.thresholds import (
    HTMT_LIBERAL,
    HTMT_STRICT,
)

if TYPE_CHECKING:  # the computation modules import narrative: type names only
    from crmlab.satisfaction.pls_stage import PLSAnalysis


def pls_takeaways(pa: PLSAnalysis | None, nps_block: dict[str, Any] | None, *,
                  tr: Catalog = EN) -> dict[str, str]:
    """One-sentence takeaways for the chapter's PLS section (written from the numbers).

    Parameters
    ----------
    pa : PLSAnalysis or None
        :func:`crmlab.satisfaction.run_pls` output (``None`` without ``survey.model``).
    nps_block : dict or None
        :func:`crmlab.satisfaction.nps_summary` output.
    tr : Catalog, optional
        The language of the sentences (default English).

    Returns
    -------
    dict
        ``paths``, ``effects``, ``quality``, ``htmt``, ``index``, ``ipma``, ``nps``.
    """
    lab = label(tr)

    def k(key: str, **values: Any) -> str:
        return tr(f"satisfaction.pls_takeaway.{key}", **values)

    def c(value: Any) -> str:  # a construct as the reader sees it
        return construct_name(value, tr)

    out: dict[str, str] = {}
    if pa is None:
        none = lab + k("no_model")
        out.update(dict.fromkeys(("paths", "effects", "quality", "htmt", "index", "ipma"), none))
    else:
        r, t = pa.result, pa.target
        preds = r.model.structural.get(t, ())
        strongest = max(preds, key=lambda p: r.paths.at[p, t]) if preds else None
        out["paths"] = lab + k(
            "paths", r2=r.r2[t], target=c(t), iterations=r.iterations,
            strongest=k("paths_strongest", name=c(strongest), path=r.paths.at[strongest, t])
            if strongest else k("paths_end"),
        )
        eff = pa.effects[pa.effects["target"] == t]
        gap = (eff["indirect"]).idxmax() if len(eff) else None
        out["effects"] = lab + (
            k("effects", source=c(eff.at[gap, "source"]), target=c(t), total=eff.at[gap, "total"],
              direct=eff.at[gap, "direct"])
            if gap is not None else k("effects_none", target=c(t))
        )
        rel = pa.reliability[pa.reliability["n_items"] > 1]
        weak = rel.index[(rel["rho_c"] < 0.7) | (rel["ave"] < 0.5)].tolist()
        out["quality"] = lab + (
            k("quality", cr_min=rel["rho_c"].min(), cr_max=rel["rho_c"].max(),
              ave_min=rel["ave"].min(), ave_max=rel["ave"].max(),
              verdict=k("quality_weak", names=tr("common.list_sep").join(construct_names(weak, tr)))
              if weak
              else k("quality_pass"))
            if len(rel) else k("quality_single")
        )
        h = pa.htmt
        if len(h) > 1:
            stacked = h.where(np.triu(np.ones(h.shape, dtype=bool), 1)).stack().dropna()
            (a, b), top = stacked.idxmax(), stacked.max()
            verdict = (k("htmt_strict") if top < HTMT_STRICT else
                       k("htmt_close") if top < HTMT_LIBERAL else k("htmt_over"))
            over = int((stacked >= HTMT_STRICT).sum())
            out["htmt"] = lab + k("htmt", top=top, a=c(a), b=c(b), verdict=verdict, over=over,
                                  pairs=len(stacked))
        else:
            out["htmt"] = lab + k("htmt_one")
        ix = pa.index.loc[t]
        out["index"] = lab + k(
            "index", target=c(t), index=ix["index_pls"], ci_low=ix["ci_low"], ci_high=ix["ci_high"],
            equal=ix["index_equal"], difference=ix["difference"],
        )
        gap = pa.index["difference"].abs().idxmax()
        items = list(r.model.measurement[gap])
        if gap != t and len(items) > 1 and abs(pa.index.at[gap, "difference"]) >= 1:
            raw_w = r.outer.loc[items, "weight"] / r.data[items].std(ddof=1)
            share = raw_w / raw_w.sum()
            low = share.idxmin()
            means = r.data[items].mean()
            out["index"] += k(
                "index_gap_below" if means[low] < means.mean() else "index_gap_above",
                construct=c(gap), difference=pa.index.at[gap, "difference"], item=low,
                share=share[low], mean=means[low], others=means.drop(low).mean(),
            )
        top = pa.ipma.iloc[0]
        focus = pa.ipma[(pa.ipma["quadrant"] == "concentrate here") & pa.ipma["actionable"]]
        out["ipma"] = lab + k(
            "ipma", construct=c(top["construct"]), target=c(t), importance=top["importance"],
            focus=k("ipma_focus",
                    names=tr("common.list_sep").join(construct_names(focus["construct"], tr)))
            if len(focus) else k("ipma_no_focus"),
        )
    if nps_block is None:
        out["nps"] = lab + k("nps_none")
    else:
        n = nps_block
        out["nps"] = lab + k(
            "nps", nps=n["nps"], confidence=n["confidence"], ci_low=n["ci_low"],
            ci_high=n["ci_high"], n=n["n"], promoters=n["promoters"], detractors=n["detractors"],
        )
    return out
