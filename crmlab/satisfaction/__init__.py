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
"""

from crmlab.satisfaction.analysis import SurveyAnalysis, analyze_survey
from crmlab.satisfaction.drivers import (
    DriverResult,
    key_drivers,
    relative_weights,
    shapley_r2,
    sign_flips,
)
from crmlab.satisfaction.factor import (
    OneFactorFit,
    average_variance_extracted,
    composite_reliability,
    fit_one_factor,
    one_factor_loadings,
)
from crmlab.satisfaction.groups import GroupResult, group_comparison
from crmlab.satisfaction.index import construct_scores, satisfaction_index
from crmlab.satisfaction.ipa import (
    CROSSHAIRS,
    NOT_A_LEVER,
    NOT_ACTIONABLE,
    QUADRANTS,
    actionable_drivers,
    importance_performance,
    ipm_crosshair,
    quadrant_of,
)
from crmlab.satisfaction.loyalty import LoyaltyResult, loyalty_link
from crmlab.satisfaction.narrative import pls_takeaways, suppression_sentence, takeaways
from crmlab.satisfaction.nps import net_promoter_score, nps, nps_bands, nps_by_group
from crmlab.satisfaction.pls import bootstrap_pls, fit_pls, prepare_items
from crmlab.satisfaction.pls_model import (
    MISSING,
    MODES,
    SCHEMES,
    ConvergenceError,
    PLSModel,
    PLSResult,
    specify,
)
from crmlab.satisfaction.pls_quality import construct_index, htmt, index_scores
from crmlab.satisfaction.pls_quality import reliability as pls_reliability
from crmlab.satisfaction.pls_stage import (
    PLSAnalysis,
    importance_performance_total,
    nps_summary,
    pls_model,
    recommend_settings,
    run_pls,
)
from crmlab.satisfaction.reliability import (
    ALPHA_NOTE,
    LOADING_NOTE,
    construct_loadings,
    cronbach_alpha,
    item_statistics,
    loading_comparison,
    reliability,
    standardized_alpha,
)
from crmlab.satisfaction.summary import add_to_summary, pls_json, summary_json
from crmlab.satisfaction.survey import (
    MISSING_POLICY,
    MISSING_REASONS,
    PreparedSurvey,
    SurveySettings,
    prepare_survey,
    survey_settings,
)
from crmlab.satisfaction.thresholds import (
    ALPHA_MIN,
    AVE_MIN,
    CR_MIN,
    HTMT_LIBERAL,
    HTMT_STRICT,
    MAX_SHAPLEY_DRIVERS,
    NPS_SCALE,
)

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
    "cronbach_alpha", "standardized_alpha", "item_statistics", "reliability",
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
