"""Churn early warning: who is likely to leave, why, how sure we are, whom to call first.

Two analyses, used as far as their inputs are present:

1. **A labelled churn table** (one row per customer, a yes/no target):
   :mod:`~crmlab.churn.data` types it and guards against leaks, :mod:`~crmlab.churn.model`
   compares a logistic regression (:mod:`~crmlab.churn.estimators`) with gradient boosting
   on the training rows and calibrates the chosen one, :mod:`~crmlab.churn.evaluation`
   measures it (ROC/PR, calibration, churners caught, odds ratios) and
   :mod:`~crmlab.churn.risk` turns scores into risk bands and the risk list.
2. **Transactions without a label**: :mod:`~crmlab.churn.warning` warns the customers whose
   purchase rhythm has stopped, sized to the team; :mod:`~crmlab.churn.backtest` checks
   the warning on the holdout. With the interactions stage's features,
   :mod:`~crmlab.churn.signals` adds "rising complaints" and "falling sentiment" signals,
   and the backtest compares the warning with and without them; :mod:`~crmlab.churn.ranking`
   lets the signals re-rank the warning only when that backtest shows they help (they stay
   as reasons either way).

:mod:`~crmlab.churn.metrics` assembles ``churn_metrics.json``; :mod:`~crmlab.churn.plotting`
draws, :mod:`~crmlab.churn.narrative` words and :mod:`~crmlab.churn.views` returns each
figure as a :class:`~crmlab.display.Display`. Every computing function is pure: DataFrames
in, DataFrames (or plain dicts) out; nothing reads files, the clock or globals.
"""

from crmlab.churn import narrative, plotting, views
from crmlab.churn.backtest import (
    backtest_comparison,
    backtest_warning,
    comparison_table,
    warning_backtest,
)
from crmlab.churn.data import (
    MISSING_LEVEL,
    ChurnTable,
    blank_rows,
    infer_feature_types,
    map_target,
    prepare_churn_table,
    split_train_test,
)
from crmlab.churn.estimators import BaselineOneHot, DropCollinear, StatsmodelsLogit
from crmlab.churn.evaluation import (
    business_name,
    capacity_summary,
    churn_gains,
    classification_metrics,
    curve_points,
    expected_calibration_error,
    feature_name,
    level_name,
    logit_contributions,
    odds_ratio_table,
    reliability_table,
)
from crmlab.churn.metrics import churn_metrics, labelled_metrics, warning_metrics
from crmlab.churn.model import (
    ChurnModels,
    calibrate,
    calibration_decision,
    choose_model,
    cross_fitted_probability,
    cross_validate_models,
    fit_churn_models,
    make_boosting_pipeline,
    make_logit_pipeline,
    make_models,
)
from crmlab.churn.narrative import odds_takeaway
from crmlab.churn.plotting import (
    plot_backtest_comparison,
    plot_calibration_curve,
    plot_cumulative_gains,
    plot_gap_ratios,
    plot_lift_by_decile,
    plot_odds_ratios,
    plot_pr_curves,
    plot_probability_by_class,
    plot_roc_curves,
    plot_warning_backtest,
)
from crmlab.churn.ranking import (
    PURCHASES,
    RANKING_RULE,
    RANKINGS,
    WITH_INTERACTIONS,
    ranking_decision,
)
from crmlab.churn.risk import BANDS, CHURNED, churn_scores, risk_bands, risk_list
from crmlab.churn.signals import (
    MIN_COMPLAINTS,
    MIN_TEXTS,
    SENTIMENT_DROP,
    feature_window,
    has_backtest_features,
    interaction_signals,
)
from crmlab.churn.views import (
    backtest_comparison_display,
    backtest_display,
    calibration_display,
    call_list_view,
    gains_display,
    gap_ratios_display,
    lift_display,
    odds_ratios_display,
    pr_display,
    probability_display,
    roc_display,
)
from crmlab.churn.warning import (
    FALLBACK_HORIZON_DAYS,
    transactional_warning,
    warning_call_list,
    warning_horizon,
    warning_inputs,
)

__all__ = [
    "narrative",
    "plotting",
    "views",
    # data
    "MISSING_LEVEL",
    "ChurnTable",
    "map_target",
    "infer_feature_types",
    "prepare_churn_table",
    "blank_rows",
    "split_train_test",
    # model
    "BaselineOneHot",
    "DropCollinear",
    "StatsmodelsLogit",
    "make_logit_pipeline",
    "make_boosting_pipeline",
    "make_models",
    "cross_validate_models",
    "cross_fitted_probability",
    "choose_model",
    "calibration_decision",
    "calibrate",
    "ChurnModels",
    "fit_churn_models",
    # evaluation
    "reliability_table",
    "expected_calibration_error",
    "classification_metrics",
    "curve_points",
    "churn_gains",
    "capacity_summary",
    "business_name",
    "feature_name",
    "level_name",
    "odds_ratio_table",
    "logit_contributions",
    "odds_takeaway",
    # risk
    "BANDS",
    "CHURNED",
    "risk_bands",
    "churn_scores",
    "risk_list",
    # warning and its backtest
    "FALLBACK_HORIZON_DAYS",
    "warning_horizon",
    "warning_inputs",
    "transactional_warning",
    "warning_call_list",
    "warning_backtest",
    "backtest_warning",
    "backtest_comparison",
    "comparison_table",
    # interaction signals
    "MIN_COMPLAINTS",
    "SENTIMENT_DROP",
    "MIN_TEXTS",
    "feature_window",
    "has_backtest_features",
    "interaction_signals",
    # which ranking the warning uses
    "PURCHASES",
    "WITH_INTERACTIONS",
    "RANKINGS",
    "RANKING_RULE",
    "ranking_decision",
    # products
    "labelled_metrics",
    "warning_metrics",
    "churn_metrics",
    # figures
    "plot_roc_curves",
    "plot_pr_curves",
    "plot_calibration_curve",
    "plot_cumulative_gains",
    "plot_lift_by_decile",
    "plot_odds_ratios",
    "plot_probability_by_class",
    "plot_gap_ratios",
    "plot_warning_backtest",
    "plot_backtest_comparison",
    "odds_ratios_display",
    "roc_display",
    "pr_display",
    "calibration_display",
    "gains_display",
    "lift_display",
    "probability_display",
    "gap_ratios_display",
    "backtest_display",
    "backtest_comparison_display",
    "call_list_view",
]
