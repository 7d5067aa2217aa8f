"""The product: ``satisfaction.json``, built from the analysis and the PLS model.

Everything here turns computed results into JSON-safe dicts (NaN and infinities become
``null``, numpy scalars plain numbers); nothing is computed anew.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crmlab.errors import InputError
from crmlab.satisfaction.analysis import SurveyAnalysis
from crmlab.satisfaction.jsonsafe import json_number, json_safe
from crmlab.satisfaction.reliability import ALPHA_NOTE, LOADING_NOTE
from crmlab.satisfaction.survey import MISSING_POLICY
from crmlab.satisfaction.thresholds import HTMT_LIBERAL, HTMT_STRICT

if TYPE_CHECKING:
    from crmlab.satisfaction.pls_stage import PLSAnalysis

__all__ = ["summary_json", "pls_json", "add_to_summary"]


def summary_json(analysis: SurveyAnalysis) -> dict[str, Any]:
    """Build the ``satisfaction.json`` product (SPEC names plus the detail below).

    Parameters
    ----------
    analysis : SurveyAnalysis
        :func:`analyze_survey` output.

    Returns
    -------
    dict
        ``outcome``, ``satisfaction_index``, ``scale``, ``n_respondents``, ``constructs``
        {name: items, alpha, alpha_standardized, composite_reliability, ave, loadings (which
        measurement model), item_loadings, heywood, verdict, index_0_100, index_ci, n,
        note}, ``drivers`` {name: importance, performance, beta, beta_ci, r (zero-order),
        sign_flip, vif, quadrant, actionable, action}, ``ipm`` (layout, cross-hair and
        actionable drivers), ``r2``, ``r2_adj``, ``n_regression``, ``importance_method``,
        ``loyalty`` (the satisfaction-only link, plus ``with_drivers``: the multi-driver model
        with r beside each beta and the sign flips explained), ``groups``, ``nps`` (null
        when not set), ``missing`` (counts and the policy), ``notes`` (how to read alpha and
        CR/AVE).

    Raises
    ------
    InputError
        ``analysis`` is not a :class:`SurveyAnalysis`.
    """
    if not isinstance(analysis, SurveyAnalysis):
        raise InputError("summary_json: needs the SurveyAnalysis returned by analyze_survey")
    s = analysis.settings
    rel = analysis.reliability.set_index("construct")
    idx = analysis.index.set_index("construct")
    item_loadings = analysis.items.groupby("construct", sort=False)
    constructs = {}
    for name, items in s.constructs.items():
        entry = {
            "items": len(items),
            "alpha": json_number(rel.at[name, "alpha"]) if len(items) > 1 else None,
            "alpha_standardized": json_number(rel.at[name, "alpha_standardized"])
            if len(items) > 1
            else None,
            "composite_reliability": json_number(rel.at[name, "composite_reliability"]),
            "ave": json_number(rel.at[name, "ave"]),
            "loadings": rel.at[name, "loadings"],
            "item_loadings": {
                r.item: json_number(r.loading)
                for r in item_loadings.get_group(name).itertuples(index=False)
            },
            "heywood": bool(rel.at[name, "heywood"]),
            "verdict": rel.at[name, "verdict"],
            "index_0_100": json_number(idx.at[name, "index"]),
            "index_ci": [json_number(idx.at[name, "ci_low"]), json_number(idx.at[name, "ci_high"])],
            "n": int(idx.at[name, "n"]),
        }
        if len(items) == 1:
            entry["note"] = (
                "single item: no alpha, composite reliability or AVE (needs two or more items)"
            )
        elif rel.at[name, "flag"]:
            entry["note"] = rel.at[name, "flag"]
        constructs[name] = entry
    drivers: dict[str, Any] = {}
    r2 = r2_adj = None
    n_reg = None
    ipm = None
    if len(analysis.drivers.table):
        act = analysis.actions.set_index("construct")
        for row in analysis.drivers.table.itertuples(index=False):
            drivers[row.construct] = {
                "importance": json_number(row.importance),
                "performance": json_number(idx.at[row.construct, "index"]),
                "beta": json_number(row.beta),
                "beta_ci": [json_number(row.ci_low), json_number(row.ci_high)],
                "p_value": json_number(row.p_value),
                "r": json_number(row.r),
                "sign_flip": bool(row.sign_flip),
                "vif": json_number(row.vif),
                "quadrant": act.at[row.construct, "quadrant"],
                "actionable": bool(act.at[row.construct, "actionable"]),
                "action": act.at[row.construct, "action"],
            }
        ipm = {
            "layout": "Martilla & James (1977): performance across, importance up",
            "crosshair": "midrange: half way between the lowest and highest driver on each axis",
            "importance_cut": json_number(analysis.actions["importance_cut"].iloc[0]),
            "performance_cut": json_number(analysis.actions["performance_cut"].iloc[0]),
            "actionable": analysis.actions.loc[analysis.actions["actionable"], "construct"]
            .tolist(),
        }
        r2, r2_adj, n_reg = analysis.drivers.r2, analysis.drivers.r2_adj, analysis.drivers.n
    loyalty = None
    if analysis.loyalty is not None:
        ly = analysis.loyalty
        loyalty = {
            "construct": s.loyalty,
            "slope": json_number(ly.slope),
            "slope_ci": [json_number(ly.ci[0]), json_number(ly.ci[1])],
            "intercept": json_number(ly.intercept),
            "beta": json_number(ly.beta),
            "r2": json_number(ly.r2),
            "n": ly.n,
            "r2_with_drivers": json_number(ly.r2_multiple),
            "effect": ly.sentence,
            "with_drivers": {
                "note": "loyalty on satisfaction and the drivers, standardised; beta is with "
                "the other terms held fixed, r is the zero-order correlation with loyalty",
                "n": ly.n_multiple,
                "terms": {
                    r.term: {
                        "beta": json_number(r.beta),
                        "beta_ci": [json_number(r.ci_low), json_number(r.ci_high)],
                        "r": json_number(r.r),
                        "sign_flip": bool(r.sign_flip),
                    }
                    for r in ly.table.itertuples(index=False)
                },
                "suppressed": ly.suppressed,
                "effect": ly.multiple_sentence,
            }
            if len(ly.table)
            else None,
        }
    groups = None
    if analysis.groups is not None:
        out_tests = analysis.groups.tests.set_index("construct")
        groups = {
            "column": s.group,
            "small_groups_left_out": analysis.groups.small_groups,
            "tests": {
                c: {
                    k: json_number(out_tests.at[c, k])
                    for k in (
                        "anova_f",
                        "anova_p",
                        "eta_sq",
                        "kruskal_h",
                        "kruskal_p",
                        "epsilon_sq",
                    )
                }
                for c in out_tests.index
            },
            "index": {
                str(g): {r.construct: json_number(r.index) for r in part.itertuples(index=False)}
                for g, part in analysis.groups.means.groupby("group", sort=True)
            },
        }
    nps = None
    if analysis.nps is not None:
        nps = json_safe(analysis.nps)
    return {
        "outcome": s.outcome,
        "satisfaction_index": json_number(idx.at[s.outcome, "index"]),
        "satisfaction_index_ci": [
            json_number(idx.at[s.outcome, "ci_low"]),
            json_number(idx.at[s.outcome, "ci_high"]),
        ],
        "scale": list(s.scale),
        "confidence": s.confidence,
        "n_respondents": analysis.losses["respondents"],
        "constructs": constructs,
        "drivers": drivers,
        "ipm": ipm,
        "r2": json_number(r2),
        "r2_adj": json_number(r2_adj),
        "n_regression": n_reg,
        "importance_method": s.importance if len(analysis.drivers.table) else None,
        "loyalty": loyalty,
        "groups": groups,
        "nps": nps,
        "missing": {**analysis.losses, "policy": MISSING_POLICY, "min_answered": s.min_answered},
        "notes": {"alpha": ALPHA_NOTE, "loadings": LOADING_NOTE, "caveats": analysis.notes},
    }


def pls_json(pa: PLSAnalysis) -> dict[str, Any]:
    """Build the ``pls`` block of ``satisfaction.json``.

    Returns
    -------
    dict
        :meth:`PLSResult.to_dict` (``r2``, ``r2_adj``, ``paths`` / ``total_effects`` /
        ``indirect_effects`` keyed ``"A -> B"``, ``outer_weights``, ``outer_loadings``,
        ``iterations``, ``scheme``, ``n``) plus ``model`` (the structural model), ``modes``,
        ``missing``, ``bootstrap`` ({n, n_ok, seed, level, method, paths, total_effects,
        indirect_effects: {"A -> B": {estimate, boot_sd, ci_low, ci_high}}} or ``None``),
        ``reliability`` {construct: {alpha, alpha_standardized, rho_a, rho_c, ave}},
        ``htmt`` {construct: {construct: value}} (diagonal ``None``), ``htmt_max``,
        ``htmt_thresholds``, ``index`` {construct: {index_pls, ci_low, ci_high, index_equal,
        difference}}, ``ipma`` {target, constructs: {name: {total_effect, importance,
        performance, quadrant, actionable}}}, ``iterations_note``.
    """
    r = pa.result
    out = r.to_dict()
    out["model"] = {t: list(p) for t, p in r.model.structural.items()}
    out["modes"] = dict(r.model.modes)
    out["missing"] = pa.settings["missing"]
    out["iterations_note"] = (
        "outer-weight updates including the last, converged one; seminr reports one less"
    )
    boot = None
    if pa.bootstrap is not None:
        b = pa.bootstrap
        kinds = {"path": "paths", "total": "total_effects", "indirect": "indirect_effects"}
        boot = {
            "n": pa.settings["bootstrap_n"],
            "n_ok": int(b["n_ok"].iloc[0]),
            "seed": pa.settings["seed"],
            "level": pa.settings["confidence"],
            "method": "percentile",
            **{
                name: {
                    key: {c: row[c] for c in ("estimate", "boot_sd", "ci_low", "ci_high")}
                    for key, row in b[b["kind"] == kind].iterrows()
                }
                for kind, name in kinds.items()
            },
        }
    out["bootstrap"] = boot
    rel = pa.reliability
    out["reliability"] = {
        c: {k: rel.at[c, k] for k in ("alpha", "alpha_standardized", "rho_a", "rho_c", "ave")}
        for c in rel.index
    }
    h = pa.htmt
    out["htmt"] = {a: {b: h.at[a, b] for b in h.columns} for a in h.index}
    out["htmt_max"] = float(np.nanmax(h.to_numpy())) if len(h) > 1 else None
    out["htmt_thresholds"] = {"strict": HTMT_STRICT, "liberal": HTMT_LIBERAL}
    idx = pa.index
    out["index"] = {c: dict(idx.loc[c]) for c in idx.index}
    out["ipma"] = {
        "target": pa.target,
        "importance": "unstandardised total effect: index points of the target per index "
        "point of the driver",
        "constructs": {
            row.construct: {
                "total_effect": row.total_effect,
                "importance": row.importance,
                "performance": row.performance,
                "quadrant": row.quadrant,
                "actionable": bool(row.actionable),
            }
            for row in pa.ipma.itertuples(index=False)
        },
    }
    return json_safe(out)


def add_to_summary(
    summary: dict[str, Any], pa: PLSAnalysis | None, nps_block: dict[str, Any] | None
) -> dict[str, Any]:
    """Add ``pls`` (or ``None``) to ``satisfaction.json`` and, when set, replace ``nps``.

    The driver analysis scores a recommend item as 0-10; :func:`nps_summary` reads it on
    its declared scale and adds the interval bounds, so it replaces that block.
    """
    summary["pls"] = pls_json(pa) if pa is not None else None
    if nps_block is not None:
        summary["nps"] = nps_block
    return summary
