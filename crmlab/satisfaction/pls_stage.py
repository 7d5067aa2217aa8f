"""The satisfaction stage's PLS path model: from the ``survey:`` params to its results.

:mod:`crmlab.satisfaction.pls` estimates a PLS path model and
:mod:`crmlab.satisfaction.pls_quality` measures it; this module wires them to the stage.
It takes the survey as the stage's intake prepared it (:func:`analyze_survey`: answers
parsed, reversed items recoded, ``missing_codes`` and out-of-scale answers set missing) and

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

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmlab.errors import InputError
from crmlab.i18n import EN, Catalog
from crmlab.satisfaction import narrative
from crmlab.satisfaction.ipa import actionable_drivers, ipm_crosshair, quadrant_of
from crmlab.satisfaction.jsonsafe import json_safe
from crmlab.satisfaction.nps import nps, nps_by_group
from crmlab.satisfaction.pls import bootstrap_pls, fit_pls
from crmlab.satisfaction.pls_model import PLSModel, PLSResult, specify
from crmlab.satisfaction.pls_quality import construct_index, htmt, index_scores
from crmlab.satisfaction.pls_quality import reliability as pls_reliability
from crmlab.satisfaction.survey import setting

if TYPE_CHECKING:
    from crmlab.satisfaction.analysis import SurveyAnalysis

__all__ = [
    "PLSAnalysis",
    "pls_model",
    "recommend_settings",
    "run_pls",
    "importance_performance_total",
    "nps_summary",
]


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
    structural = setting(survey, "model")
    if not structural:
        raise InputError("model: no structural model given (survey.model is null)")
    constructs = setting(survey, "constructs") or {}
    linked = set(structural) | {p for preds in structural.values() for p in preds or []}
    measurement = {c: items for c, items in constructs.items() if c in linked}
    if not measurement:
        raise InputError(f"model: names none of the constructs ({', '.join(constructs)})")
    modes = setting(survey, "modes")
    try:
        return specify(measurement, structural, modes)
    except InputError as exc:
        text = str(exc)
        if text.startswith("measurement"):
            text = "constructs" + text[len("measurement"):]
        raise InputError(text) from None


def recommend_settings(survey: Mapping[str, Any]) -> dict[str, Any] | None:
    """``{item, scale, mapping}`` from ``recommend``, ``recommend_scale`` and ``nps_mapping``."""
    item = setting(survey, "recommend")
    if item is None:
        return None
    return {
        "item": item,
        "scale": [float(v) for v in setting(survey, "recommend_scale")],
        "mapping": setting(survey, "nps_mapping"),
    }


@dataclass
class PLSAnalysis:
    """What :func:`run_pls` computes for the satisfaction stage.

    Attributes
    ----------
    result : PLSResult
        The fitted model.
    bootstrap : DataFrame or None
        :func:`crmlab.satisfaction.pls.bootstrap_pls` table (``None`` when ``bootstrap.n`` is 0).
    reliability : DataFrame
        :func:`crmlab.satisfaction.pls_quality.reliability`.
    htmt : DataFrame
        HTMT matrix (NaN diagonal).
    index : DataFrame
        :func:`crmlab.satisfaction.pls_quality.construct_index`: PLS-weighted beside equal-weighted.
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
    the driver analysis's (:func:`crmlab.satisfaction.ipa.ipm_crosshair`, midrange).

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
    analysis: SurveyAnalysis, survey: Mapping[str, Any], progress: bool = True, *,
    tr: Catalog = EN,
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
    tr : Catalog, optional
        The language of the progress bar's label (default English).

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
    if not setting(survey, "model"):
        return None
    start = time.perf_counter()
    try:
        model = pls_model(survey)
    except InputError as exc:
        where, _, what = str(exc).partition(": ")
        raise InputError(f"survey: key 'survey.{where}': {what}") from None
    scheme = setting(survey, "scheme")
    missing = setting(survey, "missing")
    n_boot = int(setting(survey, "n", section="bootstrap"))
    seed = int(setting(survey, "seed", section="bootstrap"))
    level = float(setting(survey, "confidence"))
    result = fit_pls(
        analysis.prepared.items,
        model.measurement,
        model.structural,
        model.modes,
        scheme=scheme,
        missing=missing,
    )
    intervals = (bootstrap_pls(result, n_boot, seed, level, progress=progress,
                               desc=tr("satisfaction.notebook.bootstrap_progress"))
                 if n_boot else None)
    scale = tuple(float(v) for v in setting(survey, "scale"))
    outcome = setting(survey, "outcome")
    target = outcome if outcome in model.constructs else list(model.structural)[-1]
    return PLSAnalysis(
        result=result,
        bootstrap=intervals,
        reliability=pls_reliability(result),
        htmt=htmt(result.data, model.measurement),
        index=construct_index(result, scale, level),
        effects=result.effects_table(),
        ipma=importance_performance_total(result, scale, target, setting(survey, "actionable")),
        target=target,
        settings={"scheme": scheme, "missing": missing, "bootstrap_n": n_boot, "seed": seed,
                  "confidence": level, "scale": list(scale)},
        seconds=time.perf_counter() - start,
    )


def nps_summary(analysis: SurveyAnalysis, survey: Mapping[str, Any], *,
                tr: Catalog = EN) -> dict[str, Any] | None:
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
        ``survey.group`` is set. ``None`` without ``survey.recommend``. ``caveat`` is in
        the language of ``tr`` (default English).
    """
    rec = recommend_settings(survey)
    if rec is None or analysis.prepared.recommend is None:
        return None
    lo, hi = rec["scale"]
    level = float(setting(survey, "confidence"))
    values = analysis.prepared.recommend.astype(float)
    outside = values.notna() & ((values < lo) | (values > hi))
    values = values.mask(outside).rename(rec["item"])
    out = nps(values, (lo, hi), level=level, mapping=rec["mapping"])
    caveat = narrative.nps_caveat(lo, hi, rec["mapping"], tr=tr)
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
    return json_safe(summary)
