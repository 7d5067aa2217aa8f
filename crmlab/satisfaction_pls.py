"""The satisfaction stage's PLS path model: from the ``survey:`` params to ``satisfaction.json``.

:mod:`crmlab.pls` estimates a PLS path model and :mod:`crmlab.pls_quality` measures it;
this module wires them to the satisfaction stage. It takes the survey as the stage's
intake prepared it (:func:`crmlab.satisfaction.analyze_survey`: answers parsed, reversed
items recoded, ``missing_codes`` and out-of-scale answers set missing) and

* fits the structural model of ``survey.model`` (each endogenous construct with its
  predecessors) with ``survey.modes``, ``survey.scheme`` and ``survey.missing``;
* bootstraps paths and effects (``survey.bootstrap``: seeded percentile intervals);
* measures reliability (both alphas, rho_A, rho_C, AVE) and HTMT;
* builds the ACSI-style 0-100 index from the outer weights beside the equal-weight one;
* draws the importance-performance map from *total* effects on the outcome, the way ACSI
  priority maps are built (importance: index points of the outcome per index point of the
  driver; performance: the driver's PLS index);
* scores the Net Promoter Score from ``survey.recommend`` on its declared scale.

Only the constructs named in ``survey.model`` enter the PLS model; the rest of
``survey.constructs`` stays in the driver analysis.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError
from crmlab.pls import PLSModel, PLSResult, bootstrap_pls, fit_pls, specify

if TYPE_CHECKING:  # the params check imports this module: keep statsmodels/scipy lazy
    from crmlab.satisfaction import SurveyAnalysis

__all__ = [
    "HTMT_STRICT",
    "HTMT_LIBERAL",
    "PLSAnalysis",
    "pls_model",
    "recommend_settings",
    "run_pls",
    "importance_performance_total",
    "nps_summary",
    "pls_json",
    "add_to_summary",
    "takeaways",
]

HTMT_STRICT = 0.85  # Henseler, Ringle & Sarstedt (2015): conceptually distinct constructs
HTMT_LIBERAL = 0.90  # ... conceptually close ones (e.g. satisfaction and loyalty)

NPS_CAVEAT = (
    "NPS is defined on a 0-10 question; this item is on {lo:g}-{hi:g}, read by its labels "
    "(9-10 promoters, {lo:g}-6 detractors), which flatters the score slightly against a "
    "true 0-10 question, where 0 is one more detractor point."
)
NPS_LINEAR = (
    "NPS is defined on a 0-10 question; this item is on {lo:g}-{hi:g}, mapped linearly onto "
    "0-10 before counting promoters (9-10) and detractors (0-6)."
)


def _get(survey: Any, key: str, default: Any = None) -> Any:
    value = survey.get(key, default) if isinstance(survey, Mapping) else getattr(survey, key)
    return default if value is None else value


def pls_model(survey: Mapping[str, Any]) -> PLSModel:
    """Build the PLS model of a ``survey:`` block: the constructs in ``model`` and their items.

    Parameters
    ----------
    survey : mapping
        With ``constructs``, ``model`` and optionally ``modes``.

    Returns
    -------
    PLSModel

    Raises
    ------
    InputError
        ``model`` missing, or naming something that is not a construct, a cycle, a mode for
        a construct outside the model; the message starts with the key
        (``model.Loyalty: ...``, ``modes.Image: ...``, ``constructs.X: ...``).
    """
    structural = _get(survey, "model")
    if not structural:
        raise InputError("model: no structural model given (survey.model is null)")
    constructs = _get(survey, "constructs", {})
    linked = set(structural) | {p for preds in structural.values() for p in preds or []}
    measurement = {c: items for c, items in constructs.items() if c in linked}
    if not measurement:
        raise InputError(f"model: names none of the constructs ({', '.join(constructs)})")
    modes = _get(survey, "modes", {})
    try:
        return specify(measurement, structural, modes)
    except InputError as exc:
        text = str(exc)
        if text.startswith("measurement"):
            text = "constructs" + text[len("measurement"):]
        raise InputError(text) from None


def recommend_settings(survey: Mapping[str, Any]) -> dict[str, Any] | None:
    """``{item, scale, mapping}`` from ``recommend``, ``recommend_scale`` and ``nps_mapping``."""
    item = _get(survey, "recommend")
    if item is None:
        return None
    return {
        "item": item,
        "scale": [float(v) for v in _get(survey, "recommend_scale", (0, 10))],
        "mapping": _get(survey, "nps_mapping", "labels"),
    }


@dataclass
class PLSAnalysis:
    """What :func:`run_pls` computes for the satisfaction stage.

    Attributes
    ----------
    result : PLSResult
        The fitted model.
    bootstrap : DataFrame or None
        :func:`crmlab.pls.bootstrap_pls` table (``None`` when ``bootstrap.n`` is 0).
    reliability : DataFrame
        :func:`crmlab.pls_quality.reliability`.
    htmt : DataFrame
        HTMT matrix (NaN diagonal).
    index : DataFrame
        :func:`crmlab.pls_quality.construct_index`: PLS-weighted beside equal-weighted.
    effects : DataFrame
        :meth:`PLSResult.effects_table` (direct, indirect, total per pair).
    ipma : DataFrame
        :func:`importance_performance_total` for ``target``.
    target : str
        The construct the importance-performance map explains (the survey outcome).
    settings : dict
        scheme, missing, bootstrap n and seed, confidence level.
    seconds : float
        Wall time of fit, bootstrap and quality measures.
    """

    result: PLSResult
    bootstrap: pd.DataFrame | None
    reliability: pd.DataFrame
    htmt: pd.DataFrame
    index: pd.DataFrame
    effects: pd.DataFrame
    ipma: pd.DataFrame
    target: str
    settings: dict[str, Any]
    seconds: float


def importance_performance_total(
    result: PLSResult,
    scale: tuple[float, float],
    target: str,
    actionable: list[str] | None = None,
) -> pd.DataFrame:
    """Importance-performance map of the constructs with a total effect on ``target``.

    As in ACSI priority maps (and SmartPLS's IPMA), importance is the *unstandardised*
    total effect on the 0-100 index scale: how many index points ``target`` gains when the
    driver's index rises one point, direct and indirect paths together. Because each
    PLS-weighted index is a linear function of the standardised construct score, it is
    the standardised total effect times ``sd(target index) / sd(driver index)``.
    Performance is the driver's mean PLS-weighted index. The cross-hair and quadrants are
    the driver analysis's (:func:`crmlab.satisfaction.ipm_crosshair`, midrange).

    Parameters
    ----------
    result : PLSResult
        A fitted model.
    scale : (min, max)
        The item answer scale.
    target : str
        The construct explained, e.g. ``"Satisfaction"``.
    actionable : list of str, optional
        Constructs the firm can change (``survey.actionable``); default: all but Expectation.

    Returns
    -------
    DataFrame
        One row per driver, by importance: ``construct``, ``total_effect`` (standardised),
        ``importance`` (index points per index point), ``performance`` (0-100),
        ``quadrant``, ``actionable``, ``importance_cut``, ``performance_cut``.

    Raises
    ------
    InputError
        ``target`` is not a construct of the model or nothing has an effect on it.
    """
    from crmlab.pls_quality import index_scores
    from crmlab.satisfaction import actionable_drivers, ipm_crosshair, quadrant_of

    names = result.model.constructs
    if target not in names:
        raise InputError(f"ipma: target {target!r} is not a construct of the PLS model")
    total, _ = result.model.reach()
    j = names.index(target)
    drivers = [c for i, c in enumerate(names) if total[i, j]]
    if not drivers:
        raise InputError(f"ipma: no construct has an effect on {target!r}")
    idx = index_scores(result, scale, "pls")
    sd = idx.std(ddof=1)
    std_total = result.total_effects.loc[drivers, target]
    table = pd.DataFrame(
        {
            "construct": drivers,
            "total_effect": std_total.to_numpy(),
            "importance": (std_total * sd[target] / sd[drivers]).to_numpy(),
            "performance": idx[drivers].mean().to_numpy(),
        }
    )
    if actionable is None:
        levers = set(actionable_drivers(drivers))
    else:
        levers = set(actionable) & set(drivers)
    cuts = ipm_crosshair(table["importance"], table["performance"])
    table["quadrant"] = quadrant_of(table["importance"], table["performance"], cuts)
    table["actionable"] = table["construct"].isin(levers)
    table["importance_cut"], table["performance_cut"] = cuts
    return table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)


def run_pls(
    analysis: SurveyAnalysis, survey: Mapping[str, Any], progress: bool = True
) -> PLSAnalysis | None:
    """Fit the survey's PLS path model and everything the chapter and product show.

    Parameters
    ----------
    analysis : SurveyAnalysis
        :func:`crmlab.satisfaction.analyze_survey` on the same survey (its ``prepared``
        items are used: parsed, reversed items recoded, missing codes set missing).
    survey : mapping
        The ``survey:`` params block: ``model``, ``modes``, ``scheme``, ``missing``,
        ``bootstrap`` {n, seed}, ``confidence``, ``outcome``, ``actionable``, ``scale``.
    progress : bool
        Show the bootstrap's progress bar.

    Returns
    -------
    PLSAnalysis or None
        ``None`` when ``survey.model`` is not set.

    Raises
    ------
    InputError
        A bad model (the message names ``survey.<key>``), too few respondents, an item
        without variance.
    """
    from crmlab.pls_quality import construct_index, htmt, reliability

    if not _get(survey, "model"):
        return None
    start = time.perf_counter()
    try:
        model = pls_model(survey)
    except InputError as exc:
        where, _, what = str(exc).partition(": ")
        raise InputError(f"survey: key 'survey.{where}': {what}") from None
    scheme = _get(survey, "scheme", "path")
    missing = _get(survey, "missing", "mean")
    boot = _get(survey, "bootstrap", {}) or {}
    n_boot, seed = int(boot.get("n", 500)), int(boot.get("seed", 42))
    level = float(_get(survey, "confidence", 0.95))
    result = fit_pls(
        analysis.prepared.items,
        model.measurement,
        model.structural,
        model.modes,
        scheme=scheme,
        missing=missing,
    )
    intervals = bootstrap_pls(result, n_boot, seed, level, progress=progress) if n_boot else None
    scale = tuple(float(v) for v in _get(survey, "scale", (1, 10)))
    outcome = _get(survey, "outcome")
    target = outcome if outcome in model.constructs else list(model.structural)[-1]
    return PLSAnalysis(
        result=result,
        bootstrap=intervals,
        reliability=reliability(result),
        htmt=htmt(result.data, model.measurement),
        index=construct_index(result, scale, level),
        effects=result.effects_table(),
        ipma=importance_performance_total(result, scale, target, _get(survey, "actionable")),
        target=target,
        settings={"scheme": scheme, "missing": missing, "bootstrap_n": n_boot, "seed": seed,
                  "confidence": level, "scale": list(scale)},
        seconds=time.perf_counter() - start,
    )


def nps_summary(analysis: SurveyAnalysis, survey: Mapping[str, Any]) -> dict[str, Any] | None:
    """Net Promoter Score of ``survey.recommend`` on ``recommend_scale``, overall and per group.

    The recommend answers come from the stage's intake (``analysis.prepared.recommend``:
    missing codes and blanks set missing); answers outside the declared scale (e.g. 0 on
    a 1-10 item) are set missing too and counted in ``out_of_scale``.

    Returns
    -------
    dict or None
        ``item``, ``scale``, ``mapping``, ``n``, ``n_missing``, ``out_of_scale``,
        ``promoters``, ``passives``, ``detractors`` (shares), ``nps``, ``se``, ``ci_low``,
        ``ci_high``, ``ci`` [low, high], ``confidence``, ``caveat`` (how a non-0-10 scale
        was read; ``None`` on 0-10), ``by_group`` {group: {n, nps, ci_low, ci_high}} when
        ``survey.group`` is set. ``None`` without ``survey.recommend``.
    """
    from crmlab.pls_quality import nps, nps_by_group

    rec = recommend_settings(survey)
    if rec is None or analysis.prepared.recommend is None:
        return None
    lo, hi = rec["scale"]
    level = float(_get(survey, "confidence", 0.95))
    values = analysis.prepared.recommend.astype(float)
    outside = values.notna() & ((values < lo) | (values > hi))
    values = values.mask(outside).rename(rec["item"])
    out = nps(values, (lo, hi), level=level, mapping=rec["mapping"])
    caveat = None
    if (lo, hi) != (0.0, 10.0):
        caveat = (NPS_CAVEAT if rec["mapping"] == "labels" else NPS_LINEAR).format(lo=lo, hi=hi)
    summary = {
        "item": rec["item"],
        **{k: v for k, v in out.items() if k not in ("scale", "mapping")},
        "out_of_scale": int(outside.sum()),
        "ci": [out["ci_low"], out["ci_high"]],
        "confidence": level,
        "scale": [lo, hi],
        "mapping": rec["mapping"],
        "caveat": caveat,
    }
    if analysis.prepared.group is not None:
        frame = pd.DataFrame({"recommend": values, "group": analysis.prepared.group})
        table = nps_by_group(frame, "recommend", "group", (lo, hi), (), level, rec["mapping"])
        summary["by_group"] = {
            str(g): {k: row[k] for k in ("n", "nps", "ci_low", "ci_high")}
            for g, row in table.drop(index="all").iterrows()
        }
    return _clean(summary)


def _clean(obj: Any) -> Any:
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python, keys -> str."""
    if isinstance(obj, Mapping):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


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
    return _clean(out)


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


def _pct(x: float) -> str:
    return f"{x:.0%}"


def takeaways(pa: PLSAnalysis | None, nps_block: dict[str, Any] | None) -> dict[str, str]:
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
