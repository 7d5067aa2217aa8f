"""Customer value prediction: an honest time split, four models, metrics and CLV.

The question: standing at ``calibration_end``, how much will each customer spend in the
holdout ``(calibration_end, observation_end]``? Every model sees transactions dated on or
before ``calibration_end`` only; the holdout rows are used to *score*, never to fit, tune
or choose.

How the regression models learn without the holdout
----------------------------------------------------
A regression needs targets, so they are cut from *inside* the calibration period: at
several training origins ``o`` (every ``origin_step_days`` back from the end ``E`` of the
data it may use) the customer features are computed from purchases up to ``o`` and the
target is the spend in ``(o, E]``. The BG/NBD and Gamma-Gamma benchmark is refitted at
each origin and its forecast of that very window is the *anchor*: the regressions learn
the factor by which a customer tends to beat or fall short of the benchmark (the anchor
enters the GLM as an offset), and their forecasts are rescaled to the benchmark's total.
So the benchmark sets the level and its decay over the horizon (the part that did not
generalise when the regressions set it themselves: issue 14), the regressions set who
gets how much of it.

Choice between the regression models is made on several validation windows inside the
calibration period (the mean score over ``n_validation`` windows of ``validation_days``,
``origin_step_days`` apart), and :func:`backtest` repeats the whole procedure at several
month-end cut-offs, each scored on its own holdout, so that one split is not mistaken
for the truth. :func:`clv_forecast` refits the chosen model on all data up to
``observation_end`` for the CLV a team acts on today.

Models: ``naive`` (calibration spend rate x holdout length), ``bgnbd_gg`` (the BG/NBD
x Gamma-Gamma benchmark, :mod:`crmlab.btyd`), ``glm_tweedie`` (statsmodels Tweedie GLM,
log link, benchmark offset), ``gbm`` (scikit-learn histogram gradient boosting, Poisson
loss, same correction factor) and ``ensemble`` (the mean of the two regressions).

How the package is laid out
---------------------------
``features`` (the time split, customer features, training panels), ``benchmark``
(BG/NBD x Gamma-Gamma and its timing), ``models`` (naive rate, Tweedie GLM, gradient
boosting), ``forecast`` (validation windows, weight tuning, :func:`predict_holdout`),
``metrics`` (errors, deciles, gains, tracking), ``backtesting`` (several cut-offs),
``clv`` (CLV from today, value tiers), ``products`` (the parquet and json products),
``plotting`` (figures), ``narrative`` (every sentence), ``views`` (``Display`` objects).
"""

from crmlab.value import narrative
from crmlab.value.backtesting import (
    backtest,
    backtest_origins,
    backtest_rank_wins,
    backtest_summary,
)
from crmlab.value.benchmark import (
    BENCHMARK_COLUMNS,
    Benchmark,
    benchmark_params_table,
    cumulative_expected,
    fit_benchmark,
    holdout_timing,
    weekly_timing,
)
from crmlab.value.clv import (
    DAYS_PER_MONTH,
    clv_forecast,
    clv_summary,
    customer_lifetime_value,
    tier_crosstab,
    tier_moves,
    value_tiers_now,
)
from crmlab.value.features import (
    calibration_rows,
    features_at,
    holdout_actuals,
    split_summary,
    training_origins,
    training_panel,
    window_spend,
)
from crmlab.value.forecast import ValueResult, predict_holdout, validation_windows
from crmlab.value.metrics import (
    better_metrics,
    compare_models,
    decile_table,
    finite_forecasts,
    gains_table,
    holdout_scores,
    regression_spread,
    score_models,
    validation_table,
    value_metrics,
    weekly_tracking,
)
from crmlab.value.models import (
    CHOSEN_MODEL,
    FEATURE_LABELS,
    GBM_FEATURES,
    GLM_FEATURES,
    MODELS,
    REGRESSION_MODELS,
    WEIGHT_GRID,
    GradientBoosting,
    TweedieGLM,
    naive_forecast,
)
from crmlab.value.plotting import (
    plot_glm_coefficients,
    plot_value_backtest,
    plot_value_deciles,
    plot_value_gains,
    plot_value_residuals,
    plot_value_tiers,
    plot_value_tracking,
)
from crmlab.value.products import PRODUCT_COLUMNS, metrics_report, product_table, value_product
from crmlab.value.views import (
    backtest_display,
    deciles_display,
    gains_display,
    glm_coefficients_display,
    residuals_display,
    shown_table,
    tiers_display,
    tracking_display,
)

__all__ = [
    "narrative",
    # models
    "MODELS",
    "REGRESSION_MODELS",
    "CHOSEN_MODEL",
    "WEIGHT_GRID",
    "GLM_FEATURES",
    "GBM_FEATURES",
    "FEATURE_LABELS",
    "naive_forecast",
    "TweedieGLM",
    "GradientBoosting",
    # benchmark
    "BENCHMARK_COLUMNS",
    "Benchmark",
    "fit_benchmark",
    "benchmark_params_table",
    "cumulative_expected",
    "weekly_timing",
    "holdout_timing",
    # features
    "calibration_rows",
    "holdout_actuals",
    "split_summary",
    "features_at",
    "window_spend",
    "training_origins",
    "training_panel",
    # forecast
    "ValueResult",
    "predict_holdout",
    "validation_windows",
    # backtesting
    "backtest_origins",
    "backtest",
    "backtest_summary",
    "backtest_rank_wins",
    # metrics
    "value_metrics",
    "compare_models",
    "score_models",
    "finite_forecasts",
    "holdout_scores",
    "better_metrics",
    "decile_table",
    "gains_table",
    "weekly_tracking",
    "validation_table",
    "regression_spread",
    # clv
    "DAYS_PER_MONTH",
    "clv_forecast",
    "clv_summary",
    "customer_lifetime_value",
    "tier_crosstab",
    "value_tiers_now",
    "tier_moves",
    # products
    "PRODUCT_COLUMNS",
    "value_product",
    "product_table",
    "metrics_report",
    # plotting
    "plot_value_deciles",
    "plot_value_gains",
    "plot_value_tracking",
    "plot_value_residuals",
    "plot_value_backtest",
    "plot_value_tiers",
    "plot_glm_coefficients",
    # views
    "glm_coefficients_display",
    "deciles_display",
    "gains_display",
    "tracking_display",
    "residuals_display",
    "backtest_display",
    "tiers_display",
    "shown_table",
]
