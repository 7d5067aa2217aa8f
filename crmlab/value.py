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
target is the spend in ``(o, E]`` **per day** of that window. Rows are weighted by the
window length. The features include the BG/NBD and Gamma-Gamma outputs refitted at each
origin *for the horizon being forecast*, so the models see how the benchmark expects the
purchase rate to decay over that horizon, and the rows from several origins show how
customers of different ages and recencies actually behaved. At prediction time the
features are computed at ``calibration_end`` and the predicted spend per day is multiplied
by the holdout length.

The choice between regression models is made the same way one step earlier: models
trained on origins before ``calibration_end - validation_days`` are scored on the
validation window ``(calibration_end - validation_days, calibration_end]``, which lies
inside the calibration period.

Models: ``naive`` (calibration spend rate x holdout length), ``bgnbd_gg`` (the BG/NBD
x Gamma-Gamma benchmark, :mod:`crmlab.btyd`), ``glm_tweedie`` (statsmodels Tweedie GLM,
log link), ``gbm`` (scikit-learn histogram gradient boosting, Poisson loss) and
``ensemble`` (the mean of the two regressions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlab.btyd import BetaGeo, GammaGamma
from crmlab.errors import InputError, require_columns
from crmlab.features import customer_summary, daily_purchases

__all__ = [
    "MODELS",
    "REGRESSION_MODELS",
    "GLM_FEATURES",
    "GBM_FEATURES",
    "calibration_rows",
    "holdout_actuals",
    "Benchmark",
    "fit_benchmark",
    "features_at",
    "window_spend",
    "training_origins",
    "training_panel",
    "naive_forecast",
    "TweedieGLM",
    "GradientBoosting",
    "ValueResult",
    "predict_holdout",
    "value_metrics",
    "compare_models",
    "decile_table",
    "gains_table",
    "cumulative_expected",
    "weekly_timing",
    "DAYS_PER_MONTH",
    "customer_lifetime_value",
    "weekly_tracking",
    "tier_crosstab",
    "value_product",
    "metrics_report",
]

MODELS = ("naive", "bgnbd_gg", "glm_tweedie", "gbm", "ensemble")
REGRESSION_MODELS = ("glm_tweedie", "gbm", "ensemble")

#: Log-scale inputs of the GLM (built by ``_glm_matrix``); each coefficient is an elasticity.
GLM_FEATURES = [
    "log_expected_rate",
    "log_p_alive",
    "log1p_frequency",
    "log1p_mean_day_spend",
    "log1p_days_since_last",
    "log1p_spend_last_90d",
    "log1p_age",
    "log_horizon",
]

#: Inputs of the gradient boosting model. Rates (per day of customer age) rather than
#: counts, so a customer observed at a later origin is comparable with one at an earlier one.
GBM_FEATURES = [
    "frequency",
    "frequency_rate",
    "repeat_spend_rate",
    "monetary_value",
    "first_spend",
    "mean_day_spend",
    "T",
    "days_since_last",
    "recency_share",
    "spend_last_90d",
    "purchase_days_last_90d",
    "p_alive",
    "expected_rate",
    "expected_spend",
    "benchmark_rate",
]

_TX_COLUMNS = ("customer_id", "date", "amount")
DAYS_PER_MONTH = 365.25 / 12
_DAY = pd.Timedelta(days=1)

# Fixed, deliberately conservative boosting settings: they were not tuned on any holdout
# (there is nothing honest to tune them on but the validation window, which picks models).
_GBM_SETTINGS = dict(
    loss="poisson",
    learning_rate=0.05,
    max_iter=200,
    max_leaf_nodes=15,
    min_samples_leaf=100,
    l2_regularization=1.0,
    early_stopping=False,
)


# --- the split ---------------------------------------------------------------------------



def _ts(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: {value!r} is not a date") from None
    if ts is pd.NaT:
        raise InputError(f"{name}: missing date")
    return ts.normalize()


def calibration_rows(transactions: pd.DataFrame, calibration_end: Any) -> pd.DataFrame:
    """Keep the transactions the models may learn from: dated on or before ``calibration_end``.

    This filter is the time split. Every fitting function in this module calls it first,
    so a holdout row cannot reach a model even if the caller passes all rows.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``customer_id``, ``date`` (datetime64), ``amount``.
    calibration_end : date-like
        Last day of the calibration period (inclusive).

    Returns
    -------
    DataFrame
        The rows on or before ``calibration_end`` (a copy), index reset.

    Raises
    ------
    InputError
        A required column is missing or the date is not a date.
    """
    require_columns(transactions, _TX_COLUMNS, "transactions")
    end = _ts(calibration_end, "calibration_end")
    # compare on the day: a timestamp later on calibration_end is still calibration
    keep = transactions["date"].dt.normalize() <= end
    return transactions.loc[keep].reset_index(drop=True)


def holdout_actuals(
    transactions: pd.DataFrame, calibration_end: Any, observation_end: Any
) -> pd.DataFrame:
    """Holdout spend of the customers first seen on or before ``calibration_end``.

    The only function that reads holdout rows; it is for scoring.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``customer_id``, ``date``, ``amount``.
    calibration_end, observation_end : date-like
        The holdout is ``(calibration_end, observation_end]``.

    Returns
    -------
    DataFrame
        ``customer_id`` (sorted), ``calibration_value`` (spend up to calibration_end),
        ``actual_holdout_value`` (spend in the holdout, 0 when none),
        ``holdout_purchase_days``.

    Raises
    ------
    InputError
        Missing column, or ``calibration_end`` not before ``observation_end``.
    """
    require_columns(transactions, _TX_COLUMNS, "transactions")
    cal = _ts(calibration_end, "calibration_end")
    obs = _ts(observation_end, "observation_end")
    if cal >= obs:
        raise InputError(f"calibration_end ({cal.date()}) must be before observation_end ({obs.date()})")
    s = customer_summary(transactions, obs, cal)
    return pd.DataFrame(
        {
            "customer_id": s["customer_id"],
            "calibration_value": s["total_spend_cal"],
            "actual_holdout_value": s["actual_holdout_value"],
            "holdout_purchase_days": s["frequency_holdout"],
        }
    )


# --- benchmark and features --------------------------------------------------------------


@dataclass
class Benchmark:
    """BG/NBD and Gamma-Gamma fitted at one origin.

    Attributes
    ----------
    bgnbd : BetaGeo
        Fitted on every customer (time unit: days).
    gamma_gamma : GammaGamma
        Fitted on repeat buyers with a positive mean repeat spend.
    gg_excluded : int
        Repeat buyers left out of the Gamma-Gamma fit because their mean repeat spend
        is not positive (zero-dollar purchases); they get the population mean spend.
    spend_frequency_corr : float
        Pearson correlation of frequency and mean spend among the Gamma-Gamma customers;
        Gamma-Gamma assumes it is near 0.
    """

    bgnbd: BetaGeo
    gamma_gamma: GammaGamma
    gg_excluded: int
    spend_frequency_corr: float

    def params(self) -> dict[str, float]:
        """All seven parameters in one flat dict (``r, alpha, a, b, p, q, gamma``)."""
        return {**self.bgnbd.params_, **self.gamma_gamma.params_}


def fit_benchmark(summary: pd.DataFrame) -> Benchmark:
    """Fit BG/NBD (all customers) and Gamma-Gamma (repeat buyers) on a customer summary.

    Parameters
    ----------
    summary : DataFrame
        Columns ``frequency``, ``recency``, ``T`` (days) and ``monetary_value``, as
        :func:`crmlab.features.customer_summary` returns them.

    Returns
    -------
    Benchmark
        The two fitted models and the checks of the Gamma-Gamma assumptions.

    Raises
    ------
    InputError
        Missing column, or fewer than 2 repeat buyers with positive spend.
    crmlab.btyd.ConvergenceError
        A fit did not converge.

    References
    ----------
    Fader, Hardie & Lee (2005), Marketing Science 24(2); Fader, Hardie & Lee (2005), JMR 42(4).
    """
    require_columns(summary, ["frequency", "recency", "T", "monetary_value"], "customer summary")
    repeat = summary["frequency"] > 0
    ok = repeat & (summary["monetary_value"] > 0)
    # checked before any fit: too little history is an input problem, not a convergence one
    if ok.sum() < 2:
        raise InputError(
            f"transactions: only {int(ok.sum())} customers have repeat purchases with positive "
            "spend before the cut-off; the Gamma-Gamma spend model needs more history"
        )
    bg = BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"])
    gg = GammaGamma().fit(summary.loc[ok, "frequency"], summary.loc[ok, "monetary_value"])
    corr = np.corrcoef(summary.loc[ok, "frequency"], summary.loc[ok, "monetary_value"])[0, 1]
    return Benchmark(bg, gg, int((repeat & ~ok).sum()), float(corr))


def features_at(
    transactions: pd.DataFrame, origin: Any, horizon_days: float, benchmark: Benchmark | None = None
) -> tuple[pd.DataFrame, Benchmark]:
    """Compute customer features at ``origin`` from the purchases up to ``origin`` only.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``customer_id``, ``date``, ``amount``; rows after ``origin`` are ignored.
    origin : date-like
        The day the features describe ("now" for the model).
    horizon_days : float
        Length of the period to forecast after ``origin``; the benchmark columns
        (``expected_purchases``, ``pred_bgnbd_gg``, rates) refer to it.
    benchmark : Benchmark, optional
        Reuse a benchmark fitted at ``origin``; by default one is fitted here.

    Returns
    -------
    (DataFrame, Benchmark)
        One row per customer first seen by ``origin`` (sorted by ``customer_id``): the
        :func:`~crmlab.features.customer_summary` columns plus ``first_spend``,
        ``mean_day_spend``, ``purchase_days_last_90d``, ``frequency_rate``,
        ``repeat_spend_rate``, ``recency_share``, ``p_alive``, ``expected_purchases``,
        ``expected_spend``, ``pred_bgnbd_gg``, ``expected_rate``, ``benchmark_rate``,
        ``horizon_days``; and the benchmark used.

    Raises
    ------
    InputError
        Missing column, a non-positive horizon, or no customer by ``origin``.
    """
    require_columns(transactions, _TX_COLUMNS, "transactions")
    o = _ts(origin, "origin")
    if not horizon_days > 0:
        raise InputError(f"horizon_days: must be > 0, got {horizon_days}")
    past = calibration_rows(transactions, o)
    if past.empty:
        raise InputError(f"transactions: no purchase on or before {o.date()}")
    df = customer_summary(past, o)
    if benchmark is None:
        benchmark = fit_benchmark(df)
    daily = daily_purchases(past)
    o_day = (o - pd.Timestamp("1970-01-01")).days
    recent = daily[daily["day"] > o_day - 90].groupby("customer_id").size()
    df["purchase_days_last_90d"] = (
        recent.reindex(df["customer_id"]).fillna(0).to_numpy(dtype=np.float64)
    )
    age = df["T"] + 1.0  # days observed, counting the first purchase day
    df["first_spend"] = df["total_spend"] - df["monetary_value"] * df["frequency"]
    df["mean_day_spend"] = df["total_spend"] / df["purchase_days"]
    df["frequency_rate"] = df["frequency"] / age
    df["repeat_spend_rate"] = df["monetary_value"] * df["frequency"] / age
    df["recency_share"] = df["recency"] / age
    x, t_x, t = df["frequency"], df["recency"], df["T"]
    df["p_alive"] = benchmark.bgnbd.p_alive(x, t_x, t)
    df["expected_purchases"] = benchmark.bgnbd.expected_purchases(horizon_days, x, t_x, t)
    # customers whose repeat spend averages <= 0 are treated as having no spend history
    m = df["monetary_value"].where(df["monetary_value"] > 0, 0.0)
    xs = df["frequency"].where(df["monetary_value"] > 0, 0)
    df["expected_spend"] = benchmark.gamma_gamma.expected_spend(xs, m)
    df["pred_bgnbd_gg"] = df["expected_purchases"] * df["expected_spend"]
    df["expected_rate"] = df["expected_purchases"] / horizon_days
    df["benchmark_rate"] = df["pred_bgnbd_gg"] / horizon_days
    df["horizon_days"] = float(horizon_days)
    return df, benchmark


def window_spend(transactions: pd.DataFrame, start: Any, end: Any, customers: Sequence[str]) -> np.ndarray:
    """Spend of each of ``customers`` in ``(start, end]`` (0 for customers without any).

    Parameters
    ----------
    transactions : DataFrame
        Columns ``customer_id``, ``date``, ``amount``.
    start, end : date-like
        The window, exclusive of ``start`` and inclusive of ``end`` (whole days).
    customers : sequence of str
        The customers, in the order of the result.

    Returns
    -------
    numpy.ndarray
        One total per customer.

    Raises
    ------
    InputError
        Missing column or ``start`` not before ``end``.
    """
    require_columns(transactions, _TX_COLUMNS, "transactions")
    s, e = _ts(start, "start"), _ts(end, "end")
    if s >= e:
        raise InputError(f"window: start ({s.date()}) must be before end ({e.date()})")
    day = transactions["date"].dt.normalize()
    w = transactions.loc[(day > s) & (day <= e)]
    total = w.groupby(w["customer_id"].astype(str))["amount"].sum()
    return total.reindex(pd.Index(customers, dtype=str)).fillna(0.0).to_numpy(dtype=np.float64)


def training_origins(first_date: Any, end: Any, n_origins: int, step_days: int) -> list[pd.Timestamp]:
    """Origins ``end - k * step_days`` (k = 1..n) that leave ``step_days`` of history.

    Parameters
    ----------
    first_date : date-like
        First purchase day in the data.
    end : date-like
        End of the data a model may learn from (targets run to here).
    n_origins : int
        How many origins at most.
    step_days : int
        Spacing of the origins, and the shortest target window.

    Returns
    -------
    list of Timestamp
        Latest first.

    Raises
    ------
    InputError
        When not even one origin fits (the period is too short).
    """
    first, e = _ts(first_date, "first_date"), _ts(end, "end")
    out = [e - k * step_days * _DAY for k in range(1, n_origins + 1)]
    # an origin needs some history behind it, else BG/NBD has no repeat purchases to learn
    out = [o for o in out if o >= first + step_days * _DAY]
    if not out:
        raise InputError(
            f"periods: only {(e - first).days} days of data before {e.date()}; the value models "
            f"need at least {2 * step_days} (value.origin_step_days = {step_days})"
        )
    return out


def training_panel(
    transactions: pd.DataFrame, end: Any, n_origins: int = 3, step_days: int = 30
) -> pd.DataFrame:
    """Stacked training rows: features at several origins, spend per day up to ``end``.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``customer_id``, ``date``, ``amount``. Rows after ``end`` are dropped
        first, so they cannot leak into features or targets.
    end : date-like
        The targets are the spend in ``(origin, end]``. The benchmark features at each
        origin are computed for that window (``horizon_days`` = window length), so they
        carry the decay the benchmark expects over the period being forecast - as they do
        for the real horizon at prediction time.
    n_origins, step_days : int
        See :func:`training_origins`.

    Returns
    -------
    DataFrame
        :func:`features_at` columns plus ``origin``, ``window_days`` (= ``horizon_days``),
        ``target_spend``, ``target_rate`` (spend per day of the window).

    Raises
    ------
    InputError
        Missing column or a period too short for one origin.
    """
    tx = calibration_rows(transactions, end)
    e = _ts(end, "end")
    if tx.empty:
        raise InputError(f"transactions: no purchase on or before {e.date()}")
    parts = []
    for o in training_origins(tx["date"].min(), e, n_origins, step_days):
        window = float((e - o).days)
        feats, _ = features_at(tx, o, window)
        feats["origin"] = o
        feats["window_days"] = window
        feats["target_spend"] = window_spend(tx, o, e, feats["customer_id"])
        feats["target_rate"] = feats["target_spend"] / window
        parts.append(feats)
    return pd.concat(parts, ignore_index=True)


# --- models ------------------------------------------------------------------------------


def naive_forecast(features: pd.DataFrame, horizon_days: float) -> np.ndarray:
    """Calibration spend rate x horizon: ``total_spend / (T + 1) * horizon_days``.

    ``T + 1`` counts the days a customer has been observed, first purchase day included,
    so a customer first seen on the last day is not divided by zero.

    Parameters
    ----------
    features : DataFrame
        Columns ``total_spend`` and ``T`` (days).
    horizon_days : float
        Length of the forecast period in days.

    Returns
    -------
    numpy.ndarray
        Forecast spend per customer.

    Raises
    ------
    InputError
        A required column is missing or the horizon is not positive.
    """
    require_columns(features, ["total_spend", "T"], "features")
    if not horizon_days > 0:
        raise InputError(f"horizon_days: must be > 0, got {horizon_days}")
    return (features["total_spend"] / (features["T"] + 1.0) * horizon_days).to_numpy(np.float64)


def _glm_matrix(features: pd.DataFrame) -> pd.DataFrame:
    """Log-scale GLM inputs; every feature is >= 0 before the log (p_alive, rates > 0)."""
    f = features
    X = pd.DataFrame(
        {
            "log_expected_rate": np.log(f["expected_rate"].clip(lower=1e-12)),
            "log_p_alive": np.log(f["p_alive"].clip(lower=1e-12)),
            "log1p_frequency": np.log1p(f["frequency"]),
            "log1p_mean_day_spend": np.log1p(f["mean_day_spend"].clip(lower=0)),
            "log1p_days_since_last": np.log1p(f["days_since_last"]),
            "log1p_spend_last_90d": np.log1p(f["spend_last_90d"].clip(lower=0)),
            "log1p_age": np.log1p(f["T"]),
            "log_horizon": np.log(f["horizon_days"]),
        },
        index=f.index,
    )
    X.insert(0, "const", 1.0)
    return X


class TweedieGLM:
    """Tweedie GLM with log link for the spend per day (statsmodels).

    ``log E[spend per day] = b0 + sum_k b_k x_k`` over :data:`GLM_FEATURES`. The Tweedie
    family (1 < power < 2) is a compound Poisson-Gamma: a point mass at zero (no purchase)
    plus a continuous spend, which is what customer spend looks like. Rows are weighted by
    their window length (``var_weights``), so a 90-day target counts three times a 30-day one.

    At prediction time every input is clipped to the range it had in training. A log-linear
    model extrapolated beyond its data can move a forecast by any factor, and with a single
    acquisition cohort (CDNOW) every customer is older at ``calibration_end``, and the
    holdout longer, than at any training origin.

    Parameters
    ----------
    var_power : float
        Tweedie power; 1 is Poisson, 2 is Gamma.

    Attributes
    ----------
    result_ : statsmodels GLMResults
        The fitted model (``summary()``, ``params``, ``bse``, ``pvalues`` ...).
    input_range_ : DataFrame
        ``min`` and ``max`` of each input over the training rows (index: input).
    """

    def __init__(self, var_power: float = 1.5):
        self.var_power = var_power

    def fit(self, panel: pd.DataFrame) -> TweedieGLM:
        """Fit on :func:`training_panel` rows; returns ``self``."""
        import statsmodels.api as sm

        require_columns(panel, ["target_rate", "window_days"], "training panel")
        family = sm.families.Tweedie(var_power=self.var_power, link=sm.families.links.Log())
        model = sm.GLM(
            panel["target_rate"].to_numpy(np.float64), _glm_matrix(panel),
            family=family, var_weights=panel["window_days"].to_numpy(np.float64),
        )
        self.result_ = model.fit()
        if not np.all(np.isfinite(self.result_.params)):
            raise InputError("value: the Tweedie GLM did not converge (non-finite coefficients)")
        X = np.asarray(model.exog)
        self.input_range_ = pd.DataFrame(
            {"min": X.min(axis=0), "max": X.max(axis=0)}, index=list(model.exog_names)
        )
        return self

    def _inputs(self, features: pd.DataFrame) -> pd.DataFrame:
        X = _glm_matrix(features)
        return X.clip(self.input_range_["min"], self.input_range_["max"], axis=1)

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Forecast spend over ``features.horizon_days`` (rate x horizon), inputs clipped."""
        rate = self.result_.predict(self._inputs(features))
        return np.asarray(rate, dtype=np.float64) * features["horizon_days"].to_numpy(np.float64)

    def outside_range(self, features: pd.DataFrame) -> pd.Series:
        """Share of the rows of ``features`` with each input outside its training range."""
        X = _glm_matrix(features)
        out = (X < self.input_range_["min"]) | (X > self.input_range_["max"])
        return out.drop(columns="const").mean()

    def coefficients(self) -> pd.DataFrame:
        """Coefficient table: estimate, standard error, z, p-value, 95% interval, exp(estimate)."""
        r = self.result_
        ci = r.conf_int()
        return pd.DataFrame(
            {
                "feature": r.params.index.astype(str),
                "coef": r.params.to_numpy(),
                "std_err": r.bse.to_numpy(),
                "z": r.tvalues.to_numpy(),
                "p_value": r.pvalues.to_numpy(),
                "ci_low": ci.iloc[:, 0].to_numpy(),
                "ci_high": ci.iloc[:, 1].to_numpy(),
                "multiplier": np.exp(r.params.to_numpy()),
            }
        )

    def diagnostics(self) -> dict[str, float]:
        """Deviance, null deviance, explained deviance share, Pearson chi2 / df, AIC-free."""
        r = self.result_
        return {
            "n_rows": int(r.nobs),
            "deviance": float(r.deviance),
            "null_deviance": float(r.null_deviance),
            "explained_deviance": float(1 - r.deviance / r.null_deviance),
            "pearson_chi2_per_df": float(r.pearson_chi2 / r.df_resid),
            "scale": float(r.scale),
        }


class GradientBoosting:
    """Histogram gradient boosting (Poisson loss) for the spend per day (scikit-learn).

    Poisson loss with its log link keeps forecasts positive and, with an intercept,
    matches the training total, which matters for the aggregate forecast. Rows are
    weighted by window length, as in :class:`TweedieGLM`.

    Parameters
    ----------
    seed : int
        ``random_state`` of the estimator (from params).

    Attributes
    ----------
    estimator_ : HistGradientBoostingRegressor
        The fitted estimator.
    """

    def __init__(self, seed: int = 42):
        self.seed = seed

    def fit(self, panel: pd.DataFrame) -> GradientBoosting:
        """Fit on :func:`training_panel` rows; returns ``self``."""
        from sklearn.ensemble import HistGradientBoostingRegressor
        from threadpoolctl import threadpool_limits

        require_columns(panel, ["target_rate", "window_days", *GBM_FEATURES], "training panel")
        est = HistGradientBoostingRegressor(random_state=self.seed, **_GBM_SETTINGS)
        # one thread: on a busy 2-core machine OpenMP threads spinning against each other
        # made this fit several times slower; the result does not depend on threads
        with threadpool_limits(limits=1):
            est.fit(
                panel[GBM_FEATURES].to_numpy(np.float64), panel["target_rate"].to_numpy(np.float64),
                sample_weight=panel["window_days"].to_numpy(np.float64),
            )
        self.estimator_ = est
        return self

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Forecast spend over ``features.horizon_days`` (rate x horizon)."""
        from threadpoolctl import threadpool_limits

        require_columns(features, GBM_FEATURES, "features")
        with threadpool_limits(limits=1):
            rate = self.estimator_.predict(features[GBM_FEATURES].to_numpy(np.float64))
        return rate * features["horizon_days"].to_numpy(np.float64)


def _fit_predict(panel: pd.DataFrame, features: pd.DataFrame, horizon: float, value: Mapping) -> tuple[dict, dict]:
    """Fit the regressions on ``panel``; forecast every model for ``features``."""
    glm = TweedieGLM(value["glm_var_power"]).fit(panel)
    gbm = GradientBoosting(value["seed"]).fit(panel)
    preds = {
        "naive": naive_forecast(features, horizon),
        "bgnbd_gg": features["pred_bgnbd_gg"].to_numpy(np.float64),
        "glm_tweedie": glm.predict(features),
        "gbm": gbm.predict(features),
    }
    preds["ensemble"] = (preds["glm_tweedie"] + preds["gbm"]) / 2.0
    return preds, {"glm_tweedie": glm, "gbm": gbm}


@dataclass
class ValueResult:
    """Everything :func:`predict_holdout` learned, for the notebook to show and save.

    Attributes
    ----------
    predictions : DataFrame
        One row per customer first seen by ``calibration_end``: ``customer_id``,
        ``pred_<model>`` for each of :data:`MODELS`, ``predicted_holdout_value`` (chosen
        model), ``p_alive``, ``expected_purchases`` (BG/NBD over the holdout).
    features : DataFrame
        The features at ``calibration_end`` the forecasts were made from.
    chosen : str
        The regression model with the best validation score.
    validation : DataFrame
        Validation-window metrics per model (index: model).
    validation_window : tuple of Timestamp
        ``(start, end]`` of the validation window.
    benchmark : Benchmark
        BG/NBD and Gamma-Gamma fitted at ``calibration_end``.
    models : dict
        The fitted regression models (``glm_tweedie``: :class:`TweedieGLM`, ``gbm``).
    panel_rows : int
        Rows of the final training panel.
    origins : list of Timestamp
        Training origins of the final models.
    horizon_days : float
        Holdout length in days.
    """

    predictions: pd.DataFrame
    features: pd.DataFrame
    chosen: str
    validation: pd.DataFrame
    validation_window: tuple[pd.Timestamp, pd.Timestamp]
    benchmark: Benchmark
    models: dict = field(default_factory=dict)
    panel_rows: int = 0
    origins: list = field(default_factory=list)
    horizon_days: float = 0.0


_HIGHER_IS_BETTER = {"mae": False, "rmse": False, "spearman": True, "top_decile_share": True}


def predict_holdout(
    transactions: pd.DataFrame, calibration_end: Any, observation_end: Any, value: Mapping[str, Any]
) -> ValueResult:
    """Forecast every customer's holdout spend with every model, from calibration rows only.

    Steps: (1) keep the rows up to ``calibration_end`` (:func:`calibration_rows`);
    (2) validation: train on origins before ``calibration_end - validation_days``, score
    on that window, pick the best regression model by ``value.select_by``;
    (3) retrain on origins before ``calibration_end`` and forecast the holdout from the
    features at ``calibration_end``.

    Parameters
    ----------
    transactions : DataFrame
        Clean transactions (``customer_id``, ``date``, ``amount``); rows after
        ``calibration_end`` may be present and are ignored.
    calibration_end, observation_end : date-like
        The holdout is ``(calibration_end, observation_end]``; only its length is used here.
    value : mapping
        The params ``value`` block: ``seed``, ``n_origins``, ``origin_step_days``,
        ``validation_days``, ``glm_var_power``, ``select_by``.

    Returns
    -------
    ValueResult
        Forecasts, the choice and what it was based on.

    Raises
    ------
    InputError
        Missing column or key, periods in the wrong order or too short for the windows.
    """
    for key in ("seed", "n_origins", "origin_step_days", "validation_days", "glm_var_power", "select_by"):
        if key not in value:
            raise InputError(f"params: missing key 'value.{key}'")
    if value["select_by"] not in _HIGHER_IS_BETTER:
        raise InputError(f"params: key 'value.select_by': {value['select_by']!r} is not one of "
                         f"{', '.join(_HIGHER_IS_BETTER)}")
    cal = _ts(calibration_end, "calibration_end")
    obs = _ts(observation_end, "observation_end")
    if cal >= obs:
        raise InputError(f"calibration_end ({cal.date()}) must be before observation_end ({obs.date()})")
    tx = calibration_rows(transactions, cal)
    if tx.empty:
        raise InputError(f"transactions: no purchase on or before calibration_end {cal.date()}")
    horizon = float((obs - cal).days)
    n, step = value["n_origins"], value["origin_step_days"]

    # (2) validation window inside the calibration period
    v_start = cal - value["validation_days"] * _DAY
    if v_start <= tx["date"].min():
        raise InputError(
            f"value.validation_days ({value['validation_days']}) reaches before the first purchase; "
            "shorten it or move periods.calibration_end later"
        )
    v_days = float(value["validation_days"])
    v_panel = training_panel(tx, v_start, n, step)
    v_feats, _ = features_at(tx, v_start, v_days)
    v_preds, _ = _fit_predict(v_panel, v_feats, v_days, value)
    v_actual = window_spend(tx, v_start, cal, v_feats["customer_id"])
    validation = compare_models(v_actual, v_preds)
    crit = value["select_by"]
    scores = validation.loc[list(REGRESSION_MODELS), crit]
    chosen = str(scores.idxmax() if _HIGHER_IS_BETTER[crit] else scores.idxmin())

    # (3) final models, trained on everything up to calibration_end
    panel = training_panel(tx, cal, n, step)
    feats, bench = features_at(tx, cal, horizon)
    preds, models = _fit_predict(panel, feats, horizon, value)
    out = pd.DataFrame({"customer_id": feats["customer_id"].astype(str)})
    for name in MODELS:
        out[f"pred_{name}"] = preds[name]
    out["predicted_holdout_value"] = out[f"pred_{chosen}"]
    out["p_alive"] = feats["p_alive"].to_numpy()
    out["expected_purchases"] = feats["expected_purchases"].to_numpy()
    return ValueResult(
        predictions=out,
        features=feats,
        chosen=chosen,
        validation=validation,
        validation_window=(v_start, cal),
        benchmark=bench,
        models=models,
        panel_rows=len(panel),
        origins=sorted(panel["origin"].unique()),
        horizon_days=horizon,
    )


# --- metrics -----------------------------------------------------------------------------


def _arrays(actual, predicted) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(actual, dtype=np.float64).reshape(-1)
    p = np.asarray(predicted, dtype=np.float64).reshape(-1)
    if len(y) != len(p):
        raise InputError(f"predicted: {len(p)} values for {len(y)} actual values")
    if len(y) == 0:
        raise InputError("actual: no customers to score")
    for name, arr in (("actual", y), ("predicted", p)):
        if not np.all(np.isfinite(arr)):
            raise InputError(f"{name}: {int((~np.isfinite(arr)).sum())} values are missing or infinite")
    return y, p


def _order(p: np.ndarray) -> np.ndarray:
    # highest prediction first; ties keep the input (customer id) order, so the result is
    # deterministic even for models that give many customers the same forecast
    return np.argsort(-p, kind="stable")


def value_metrics(actual, predicted) -> dict[str, float]:
    """Accuracy of customer-level spend forecasts, in the terms a budget is set in.

    - ``mae``: mean absolute error per customer (currency);
    - ``rmse``: root mean squared error (currency), dominated by the big spenders;
    - ``spearman``: rank correlation - does the model order customers correctly?
    - ``top_decile_share``: share of the actual holdout spend made by the 10% of customers
      (rounded up) with the highest forecasts - what a campaign on them would reach;
    - ``aggregate_error``: forecast total / actual total - 1 (the budget-level error).

    Parameters
    ----------
    actual, predicted : array-like
        One value per customer, same order.

    Returns
    -------
    dict
        The five metrics; ``spearman`` is NaN when either side is constant.

    Raises
    ------
    InputError
        Different lengths, missing values, no customers, or no actual spend at all.
    """
    from scipy.stats import spearmanr

    y, p = _arrays(actual, predicted)
    total = y.sum()
    if not total > 0:
        raise InputError("actual: no spend in the scored period; the metrics need some")
    k = int(np.ceil(len(y) / 10))
    const = np.all(y == y[0]) or np.all(p == p[0])
    return {
        "mae": float(np.mean(np.abs(y - p))),
        "rmse": float(np.sqrt(np.mean((y - p) ** 2))),
        "spearman": float("nan") if const else float(spearmanr(y, p).statistic),
        "top_decile_share": float(y[_order(p)[:k]].sum() / total),
        "aggregate_error": float(p.sum() / total - 1.0),
    }


def compare_models(actual, predictions: Mapping[str, Any]) -> pd.DataFrame:
    """:func:`value_metrics` for several models: one row per model (index ``model``).

    Parameters
    ----------
    actual : array-like
        Actual spend per customer.
    predictions : mapping
        Model name -> forecasts in the same order.

    Returns
    -------
    DataFrame
        Columns ``mae``, ``rmse``, ``spearman``, ``top_decile_share``, ``aggregate_error``.

    Raises
    ------
    InputError
        No models, or a forecast that :func:`value_metrics` rejects (named).
    """
    if not predictions:
        raise InputError("predictions: no models to compare")
    rows = {}
    for name, pred in predictions.items():
        try:
            rows[name] = value_metrics(actual, pred)
        except InputError as exc:
            raise InputError(f"model {name!r}: {exc}") from None
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "model"
    return out


def decile_table(actual, predicted) -> pd.DataFrame:
    """Mean forecast and mean actual spend per decile of the forecast (1 = highest).

    Parameters
    ----------
    actual, predicted : array-like
        One value per customer.

    Returns
    -------
    DataFrame
        ``decile`` (1..10), ``customers``, ``mean_predicted``, ``mean_actual``,
        ``share_of_actual`` (share of all actual spend).

    Raises
    ------
    InputError
        As :func:`value_metrics` (lengths, missing values, no customers).
    """
    y, p = _arrays(actual, predicted)
    order = _order(p)
    decile = np.empty(len(y), dtype=np.int64)
    # equal-count deciles by rank, so ties cannot leave a decile empty
    decile[order] = np.arange(len(y)) * 10 // len(y) + 1
    df = pd.DataFrame({"decile": decile, "predicted": p, "actual": y})
    g = df.groupby("decile")
    out = pd.DataFrame(
        {
            "customers": g.size(),
            "mean_predicted": g["predicted"].mean(),
            "mean_actual": g["actual"].mean(),
            "share_of_actual": g["actual"].sum() / max(y.sum(), 1e-300),
        }
    ).reset_index()
    return out


def gains_table(actual, predictions: Mapping[str, Any], points: int = 100) -> pd.DataFrame:
    """Cumulative gains: share of actual spend reached by targeting the top forecasts.

    Parameters
    ----------
    actual : array-like
        Actual spend per customer.
    predictions : mapping
        Model name -> forecasts.
    points : int
        Number of customer-share points (1% steps by default).

    Returns
    -------
    DataFrame
        ``customer_share`` (0..1) and one column per model with the share of actual spend
        captured, plus ``perfect`` (sorting by the actual spend itself).

    Raises
    ------
    InputError
        No spend, lengths differ, or no models.
    """
    if not predictions:
        raise InputError("predictions: no models")
    y = np.asarray(actual, dtype=np.float64)
    if not y.sum() > 0:
        raise InputError("actual: no spend in the scored period")
    share = np.linspace(0, 1, points + 1)
    k = np.ceil(share * len(y)).astype(np.int64)
    out = pd.DataFrame({"customer_share": share})
    for name, pred in {**predictions, "perfect": y}.items():
        y_, p = _arrays(y, pred)
        cum = np.concatenate([[0.0], np.cumsum(y_[_order(p)])])
        out[name] = cum[k] / y_.sum()
    return out


# --- timing, CLV, tiers ------------------------------------------------------------------


def cumulative_expected(features: pd.DataFrame, bgnbd: BetaGeo, days: Sequence[float]) -> np.ndarray:
    """BG/NBD cumulative expected purchases after the origin, at each of ``days``.

    Parameters
    ----------
    features : DataFrame
        Columns ``frequency``, ``recency``, ``T`` (days), one row per customer.
    bgnbd : BetaGeo
        Fitted at the origin of ``features``.
    days : sequence of float
        Positive times after the origin, increasing.

    Returns
    -------
    numpy.ndarray
        Shape (customers, len(days)).

    Raises
    ------
    InputError
        Missing column or a non-positive time.
    """
    require_columns(features, ["frequency", "recency", "T"], "features")
    cols = [
        bgnbd.expected_purchases(float(d), features["frequency"], features["recency"], features["T"])
        for d in days
    ]
    return np.column_stack(cols) if cols else np.empty((len(features), 0))


def weekly_timing(features: pd.DataFrame, bgnbd: BetaGeo, horizon_days: float) -> np.ndarray:
    """Share of each customer's expected holdout purchases made by the end of each week.

    Parameters
    ----------
    features : DataFrame
        Columns ``frequency``, ``recency``, ``T`` at the origin.
    bgnbd : BetaGeo
        Fitted at the origin.
    horizon_days : float
        Holdout length; the last week may be shorter than 7 days.

    Returns
    -------
    numpy.ndarray
        Shape (customers, weeks), increasing along each row, last column 1.

    Raises
    ------
    InputError
        Missing column or a non-positive horizon.
    """
    if not horizon_days > 0:
        raise InputError(f"horizon_days: must be > 0, got {horizon_days}")
    weeks = int(np.ceil(horizon_days / 7))
    ends = np.minimum(7.0 * np.arange(1, weeks + 1), horizon_days)
    cum = cumulative_expected(features, bgnbd, ends)
    last = cum[:, -1:]
    # a customer expected to buy (numerically) nothing: spread evenly over the days
    even = np.broadcast_to(ends / horizon_days, cum.shape)
    return np.where(last > 0, cum / np.where(last > 0, last, 1.0), even)


def customer_lifetime_value(
    predicted_value, expected_monthly, expected_horizon, margin: float, annual_discount_rate: float
) -> np.ndarray:
    r"""Discounted margin over the next months, with the timing of the BG/NBD.

    .. math:: CLV_i = m \sum_{k=1}^{K} v_i\,\frac{E_i(k) - E_i(k-1)}{E_i(H)}\,(1+d)^{-k/12}

    where :math:`v_i` is the forecast spend over the holdout of length :math:`H`,
    :math:`E_i(t)` the BG/NBD cumulative expected purchases ``t`` after the origin,
    :math:`k` the month, :math:`m` the margin and :math:`d` the annual discount rate. The
    regression sets the level, the BG/NBD says how it is spread (and decays) over time.

    Parameters
    ----------
    predicted_value : array-like
        Forecast spend over the holdout, per customer.
    expected_monthly : array-like
        Shape (customers, K): cumulative expected purchases at the end of months 1..K.
    expected_horizon : array-like
        Cumulative expected purchases at the end of the holdout, per customer (>= 0; a
        customer with 0 gets a CLV of 0).
    margin : float
        Gross margin on revenue, 0..1.
    annual_discount_rate : float
        Yearly discount rate, >= 0.

    Returns
    -------
    numpy.ndarray
        CLV per customer (currency).

    Raises
    ------
    InputError
        Shapes disagree, a rate is out of range, or an expectation is negative or missing.
    """
    v = np.asarray(predicted_value, dtype=np.float64).reshape(-1)
    e = np.asarray(expected_monthly, dtype=np.float64)
    h = np.asarray(expected_horizon, dtype=np.float64).reshape(-1)
    if e.ndim != 2 or e.shape[0] != len(v) or len(h) != len(v):
        raise InputError("expected_monthly: need one row per customer and one column per month")
    if not 0 <= margin <= 1:
        raise InputError(f"value.margin: {margin} is outside [0, 1]")
    if not annual_discount_rate >= 0:
        raise InputError(f"value.annual_discount_rate: {annual_discount_rate} must be >= 0")
    if not (np.all(np.isfinite(h)) and np.all(h >= 0) and np.all(np.isfinite(e))):
        raise InputError("expected_horizon: expected purchases must be finite and >= 0")
    increments = np.diff(e, axis=1, prepend=0.0)
    months = np.arange(1, e.shape[1] + 1)
    discount = (1.0 + annual_discount_rate) ** (-months / 12.0)
    # a customer the BG/NBD expects no purchase from (numerically 0) is worth nothing more
    weight = np.divide(increments @ discount, h, out=np.zeros_like(h), where=h > 0)
    return margin * v * weight


def weekly_tracking(
    transactions: pd.DataFrame,
    customers: Sequence[str],
    calibration_end: Any,
    observation_end: Any,
    predictions: Mapping[str, Any],
    weekly_share: np.ndarray,
) -> pd.DataFrame:
    """Cumulative actual vs forecast spend of ``customers``, week by week of the holdout.

    Models forecast one total per customer; it is spread over the weeks with each
    customer's BG/NBD timing (``weekly_share``), so the curves differ by level, and the
    actual curve shows where the forecasts drift.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``customer_id``, ``date``, ``amount`` (holdout rows are read here: scoring).
    customers : sequence of str
        The scored customers, in the order of the forecasts.
    calibration_end, observation_end : date-like
        The holdout.
    predictions : mapping
        Model name -> forecast total per customer.
    weekly_share : numpy.ndarray
        Shape (customers, weeks): cumulative share of each customer's holdout purchases
        expected by the end of each week (last column 1).

    Returns
    -------
    DataFrame
        ``week`` (1..), ``week_end`` (date), ``actual`` (cumulative), one column per model.

    Raises
    ------
    InputError
        Missing column or shapes that do not match.
    """
    require_columns(transactions, _TX_COLUMNS, "transactions")
    cal, obs = _ts(calibration_end, "calibration_end"), _ts(observation_end, "observation_end")
    weeks = int(np.ceil((obs - cal).days / 7))
    share = np.asarray(weekly_share, dtype=np.float64)
    if share.shape != (len(customers), weeks):
        raise InputError(f"weekly_share: expected shape ({len(customers)}, {weeks}), got {share.shape}")
    ends = [min(cal + 7 * (w + 1) * _DAY, obs) for w in range(weeks)]
    day = transactions["date"].dt.normalize()
    keep = (day > cal) & (day <= obs) & transactions["customer_id"].astype(str).isin(pd.Index(customers, dtype=str))
    hold = transactions.loc[keep]
    week = ((day[keep] - cal).dt.days - 1) // 7
    actual = hold["amount"].groupby(week.to_numpy()).sum().reindex(range(weeks), fill_value=0.0)
    out = pd.DataFrame({"week": np.arange(1, weeks + 1), "week_end": ends,
                        "actual": np.cumsum(actual.to_numpy())})
    for name, pred in predictions.items():
        p = np.asarray(pred, dtype=np.float64).reshape(-1)
        if len(p) != len(customers):
            raise InputError(f"predictions: model {name!r} has {len(p)} values for {len(customers)} customers")
        out[name] = p @ share
    return out


def tier_crosstab(past_tier, predicted_tier, order: Sequence[str] = ("high", "medium", "low")) -> pd.DataFrame:
    """Count customers by past value tier (rows) and predicted value tier (columns).

    Parameters
    ----------
    past_tier, predicted_tier : array-like of str
        One tier per customer.
    order : sequence of str
        Tier names, best first.

    Returns
    -------
    DataFrame
        Counts; index ``past_tier``, columns the predicted tiers, every tier present.

    Raises
    ------
    InputError
        Lengths differ or a tier is not in ``order``.
    """
    a = pd.Series(np.asarray(past_tier, dtype=object))
    b = pd.Series(np.asarray(predicted_tier, dtype=object))
    if len(a) != len(b):
        raise InputError(f"predicted_tier: {len(b)} values for {len(a)} customers")
    for name, s in (("past_tier", a), ("predicted_tier", b)):
        bad = set(s.unique()) - set(order)
        if bad:
            raise InputError(f"{name}: unknown tier {sorted(map(str, bad))[0]!r}")
    tab = pd.crosstab(pd.Categorical(a, categories=list(order)), pd.Categorical(b, categories=list(order)),
                      dropna=False)
    tab.index = pd.Index(list(order), name="past_tier")
    tab.columns = pd.Index(list(order), name="predicted_tier")
    return tab.astype(np.int64)


PRODUCT_COLUMNS = [
    "customer_id",
    "actual_holdout_value",
    "predicted_holdout_value",
    *[f"pred_{m}" for m in MODELS],
    "clv",
    "p_alive",
    "expected_purchases",
    "calibration_value",
    "value_tier_past",
    "value_tier_predicted",
]


def value_product(
    predictions: pd.DataFrame, actuals: pd.DataFrame, clv, tier_past, tier_predicted
) -> pd.DataFrame:
    """Assemble ``value_predictions.parquet``: one row per customer, SPEC columns first.

    Parameters
    ----------
    predictions : DataFrame
        :attr:`ValueResult.predictions` (``customer_id``, ``pred_<model>``,
        ``predicted_holdout_value``, ``p_alive``, ``expected_purchases``).
    actuals : DataFrame
        :func:`holdout_actuals` output for the same customers.
    clv, tier_past, tier_predicted : array-like
        Per customer, in the order of ``predictions``.

    Returns
    -------
    DataFrame
        Columns :data:`PRODUCT_COLUMNS`, sorted by ``customer_id``.

    Raises
    ------
    InputError
        Missing column, or the two tables do not hold the same customers.
    """
    need = ["customer_id", "predicted_holdout_value", "p_alive", "expected_purchases",
            *[f"pred_{m}" for m in MODELS]]
    require_columns(predictions, need, "predictions")
    require_columns(actuals, ["customer_id", "actual_holdout_value", "calibration_value"], "actuals")
    df = predictions.copy()
    n = len(df)
    for name, values in (("clv", clv), ("value_tier_past", tier_past), ("value_tier_predicted", tier_predicted)):
        arr = np.asarray(values)
        if len(arr) != n:
            raise InputError(f"{name}: {len(arr)} values for {n} customers")
        df[name] = arr
    df["customer_id"] = df["customer_id"].astype(str)
    act = actuals[["customer_id", "actual_holdout_value", "calibration_value"]].copy()
    act["customer_id"] = act["customer_id"].astype(str)
    out = df.merge(act, on="customer_id", how="outer", validate="one_to_one", indicator=True)
    unmatched = int((out["_merge"] != "both").sum())
    if unmatched:
        raise InputError(f"actuals: {unmatched} customers are in only one of predictions and actuals")
    for col in ("value_tier_past", "value_tier_predicted"):
        out[col] = out[col].astype(str)
    return out[PRODUCT_COLUMNS].sort_values("customer_id", kind="stable").reset_index(drop=True)


def _clean(x: Any) -> Any:
    """JSON-safe: NaN -> None, numpy scalars -> Python."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, float | np.floating):
        return None if not np.isfinite(x) else float(x)
    return x


def metrics_report(holdout: pd.DataFrame, result: ValueResult, select_by: str) -> dict[str, Any]:
    """Build the ``value_metrics.json`` content.

    Parameters
    ----------
    holdout : DataFrame
        :func:`compare_models` on the holdout (index: model).
    result : ValueResult
        For the choice, the validation scores and the benchmark parameters.
    select_by : str
        The validation metric the choice was made on.

    Returns
    -------
    dict
        ``{<model>: {mae, rmse, spearman, top_decile_share, aggregate_error}, ...,
        "chosen": str, "selection": {...}, "benchmark_params": {...}, ...}``; NaN as null.

    Raises
    ------
    InputError
        When ``holdout`` lacks a metric column or the chosen model.
    """
    cols = ["mae", "rmse", "spearman", "top_decile_share", "aggregate_error"]
    require_columns(holdout, cols, "holdout metrics")
    if result.chosen not in holdout.index:
        raise InputError(f"holdout metrics: chosen model {result.chosen!r} missing")
    out: dict[str, Any] = {m: _clean(holdout.loc[m, cols].to_dict()) for m in holdout.index}
    start, end = result.validation_window
    out["chosen"] = result.chosen
    out["selection"] = {
        "rule": f"lowest validation {select_by} among regression models"
        if not _HIGHER_IS_BETTER[select_by]
        else f"highest validation {select_by} among regression models",
        "candidates": list(REGRESSION_MODELS),
        "validation_window": [start.date().isoformat(), end.date().isoformat()],
        "validation": {m: _clean(result.validation.loc[m, cols].to_dict()) for m in result.validation.index},
    }
    out["holdout_days"] = result.horizon_days
    out["customers"] = int(len(result.predictions))
    out["training_origins"] = [o.date().isoformat() for o in pd.to_datetime(result.origins)]
    out["training_rows"] = int(result.panel_rows)
    out["benchmark_params"] = _clean(result.benchmark.params())
    return out
