"""The satisfaction stage: survey intake, reliability, index, drivers, loyalty, PLS, NPS.

A survey measures each idea ("construct": Image, Quality, Satisfaction ...) with a few
questions ("items") on a rating scale. The stage answers, in order:

1. *Can we trust the scales?* (:mod:`.survey`, :mod:`.factor`, :mod:`.reliability`)
2. *How satisfied are customers?* (:mod:`.index`)
3. *What drives satisfaction, and where to invest?* (:mod:`.drivers`, :mod:`.ipa`)
4. *Does satisfaction turn into loyalty?* (:mod:`.loyalty`, :mod:`.groups`, :mod:`.nps`)
5. *The index model itself*: a PLS path model (:mod:`.pls_model`, :mod:`.pls`,
   :mod:`.pls_quality`, wired to the stage by :mod:`.pls_stage`).

:mod:`.analysis` runs 1-4 on one survey, :mod:`.summary` builds ``satisfaction.json``,
:mod:`.narrative` writes every sentence, :mod:`.plotting` draws and :mod:`.views` pairs
each figure with its takeaway for the notebook. Computation is pure (DataFrames in,
DataFrames or small dataclasses out); reading the file is :func:`crmlab.io.read_input`'s job.

Two names exist twice in the stage and keep their old meaning here: ``reliability`` is the
driver analysis's (:func:`.reliability.reliability`; the PLS one is ``pls_reliability``)
and ``takeaways`` the driver analysis's (the PLS one is ``pls_takeaways``).

The names below are loaded on first use (PEP 562): the params check imports
:func:`.pls_stage.pls_model`, and must not pay for statsmodels to validate a YAML file.
"""

from __future__ import annotations

import importlib
from typing import Any

# Two functions share their module's name. Importing a submodule binds it on the package,
# so these two are bound eagerly (neither module needs statsmodels): ``sat.reliability``
# and ``sat.nps`` stay the functions, as before the split.
from crmlab.satisfaction.nps import nps
from crmlab.satisfaction.reliability import reliability

# module -> the public names it gives the package ("alias=name" where the package renames)
_EXPORTS: dict[str, tuple[str, ...]] = {
    "analysis": ('analyze_survey', 'SurveyAnalysis'),
    "drivers": ('DriverResult', 'key_drivers', 'relative_weights', 'shapley_r2', 'sign_flips'),
    "factor": ('average_variance_extracted', 'composite_reliability', 'fit_one_factor', 'one_factor_loadings', 'OneFactorFit'),
    "groups": ('group_comparison', 'GroupResult'),
    "index": ('construct_scores', 'satisfaction_index'),
    "ipa": ('actionable_drivers', 'CROSSHAIRS', 'importance_performance', 'ipm_crosshair', 'NOT_A_LEVER', 'NOT_ACTIONABLE', 'quadrant_of', 'QUADRANTS'),
    "loyalty": ('loyalty_link', 'LoyaltyResult'),
    "narrative": ('pls_takeaways', 'suppression_sentence', 'takeaways'),
    "nps": ('net_promoter_score', 'nps_bands', 'nps_by_group'),
    "pls": ('bootstrap_pls', 'fit_pls', 'prepare_items'),
    "pls_model": ('ConvergenceError', 'MISSING', 'MODES', 'PLSModel', 'PLSResult', 'SCHEMES', 'specify'),
    "pls_quality": ('construct_index', 'htmt', 'index_scores', 'pls_reliability=reliability'),
    "pls_stage": ('importance_performance_total', 'nps_summary', 'pls_model', 'PLSAnalysis', 'recommend_settings', 'run_pls'),
    "reliability": ('ALPHA_NOTE', 'construct_loadings', 'cronbach_alpha', 'item_statistics', 'loading_comparison', 'LOADING_NOTE', 'standardised_alpha'),
    "summary": ('add_to_summary', 'pls_json', 'summary_json'),
    "survey": ('MISSING_POLICY', 'MISSING_REASONS', 'prepare_survey', 'PreparedSurvey', 'survey_settings', 'SurveySettings'),
    "thresholds": ('ALPHA_MIN', 'AVE_MIN', 'CR_MIN', 'HTMT_LIBERAL', 'HTMT_STRICT', 'MAX_SHAPLEY_DRIVERS', 'NPS_SCALE'),
}
_WHERE = {
    entry.partition("=")[0]: (module, entry.rpartition("=")[2])
    for module, names in _EXPORTS.items()
    for entry in names
}

__all__ = [
    "ALPHA_MIN", "AVE_MIN", "CR_MIN", "HTMT_LIBERAL", "HTMT_STRICT", "MAX_SHAPLEY_DRIVERS",
    "NPS_SCALE", "MISSING_POLICY", "MISSING_REASONS", "ALPHA_NOTE", "LOADING_NOTE",
    "QUADRANTS", "NOT_A_LEVER", "NOT_ACTIONABLE", "CROSSHAIRS", "MISSING", "MODES", "SCHEMES",
    # survey intake and the analysis
    "SurveySettings", "PreparedSurvey", "SurveyAnalysis", "survey_settings", "prepare_survey",
    "analyze_survey",
    # reliability
    "OneFactorFit", "fit_one_factor", "one_factor_loadings", "construct_loadings",
    "loading_comparison", "composite_reliability", "average_variance_extracted",
    "cronbach_alpha", "standardised_alpha", "item_statistics", "reliability",
    # index, drivers, importance-performance
    "construct_scores", "satisfaction_index", "DriverResult", "shapley_r2", "relative_weights",
    "key_drivers", "sign_flips", "ipm_crosshair", "actionable_drivers", "quadrant_of",
    "importance_performance",
    # loyalty, groups, NPS
    "LoyaltyResult", "loyalty_link", "GroupResult", "group_comparison", "net_promoter_score",
    "nps", "nps_by_group", "nps_bands",
    # PLS path model
    "ConvergenceError", "PLSModel", "PLSResult", "specify", "prepare_items", "fit_pls",
    "bootstrap_pls", "pls_reliability", "htmt", "construct_index", "index_scores",
    "PLSAnalysis", "pls_model", "recommend_settings", "run_pls", "importance_performance_total",
    "nps_summary",
    # the product and the words
    "summary_json", "pls_json", "add_to_summary", "takeaways", "pls_takeaways",
    "suppression_sentence",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first use and return the name."""
    if name not in _WHERE:
        raise AttributeError(f"module 'crmlab.satisfaction' has no attribute {name!r}")
    module, attr = _WHERE[name]
    value = getattr(importlib.import_module(f"crmlab.satisfaction.{module}"), attr)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    """List the package's names, the ones not loaded yet included."""
    return sorted(set(globals()) | set(__all__))
