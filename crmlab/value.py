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
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlab.btyd import BetaGeo, ConvergenceError, GammaGamma
from crmlab.errors import InputError, require_columns
from crmlab.features import customer_summary, daily_purchases

__all__ = [
    "MODELS",
    "REGRESSION_MODELS",
    "CHOSEN_MODEL",
    "WEIGHT_GRID",
    "GLM_FEATURES",
    "GBM_FEATURES",
    "FEATURE_LABELS",
    "BENCHMARK_COLUMNS",
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
    "validation_windows",
    "backtest_origins",
    "backtest",
    "backtest_summary",
    "clv_forecast",
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
#: The model whose forecasts the stage delivers: the interpretable regression. Gradient
#: boosting and the ensemble are scored beside it, to show what a black box would add.
CHOSEN_MODEL = "glm_tweedie"
#: Weights of the GLM's correction tried on the validation windows (0 = the benchmark).
WEIGHT_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)

#: Inputs of the GLM (built by ``_glm_matrix``), mostly on the log scale: each coefficient
#: is the elasticity of the factor by which a customer beats the benchmark forecast.
GLM_FEATURES = [
    "log_benchmark_rate",
    "log1p_frequency",
    "log1p_mean_day_spend",
    "log1p_days_since_last",
    "recent_spend_share",
    "log1p_age",
]

#: Business words for the model inputs, for tables and figures.
FEATURE_LABELS = {
    "const": "intercept",
    "log_benchmark_rate": "benchmark forecast per day (log)",
    "log1p_frequency": "repeat purchase days (log)",
    "log1p_mean_day_spend": "spend per purchase day (log)",
    "log1p_days_since_last": "days since last purchase (log)",
    "recent_spend_share": "share of spend in the last 90 days",
    "log1p_age": "days since first purchase (log)",
}

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

# Fixed boosting settings, not tuned on any holdout (100 rounds at rate 0.1 rather than
# 200 at 0.05: the backtest refits the models many times, and the stage must stay fast).
_GBM_SETTINGS = dict(
    loss="poisson",
    learning_rate=0.1,
    max_iter=100,
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


#: Columns that come from the BG/NBD and Gamma-Gamma fit (NaN when the benchmark failed).
BENCHMARK_COLUMNS = ("p_alive", "expected_purchases", "expected_spend", "pred_bgnbd_gg",
                     "expected_rate", "benchmark_rate")


def _fingerprint(past: pd.DataFrame, origin: pd.Timestamp) -> tuple:
    """Identify what a benchmark fitted at ``origin`` depends on: the rows up to it only."""
    return (origin, len(past), round(float(past["amount"].sum()), 6), int(past["customer_id"].nunique()))


def features_at(
    transactions: pd.DataFrame,
    origin: Any,
    horizon_days: float,
    benchmark: Benchmark | None = None,
    cache: dict | None = None,
    use_benchmark: bool = True,
) -> tuple[pd.DataFrame, Benchmark | None]:
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
    cache : dict, optional
        Benchmarks already fitted, keyed by the origin and a fingerprint of the rows up to
        it (a fit depends on nothing else); filled as fits are made. Lets a backtest and
        its validation windows share the fits at common origins.
    use_benchmark : bool
        False: do not fit the benchmark (after it failed to converge); its columns are
        NaN and the ``anchor`` is the naive forecast.

    Returns
    -------
    (DataFrame, Benchmark or None)
        One row per customer first seen by ``origin`` (sorted by ``customer_id``): the
        :func:`~crmlab.features.customer_summary` columns plus ``first_spend``,
        ``mean_day_spend``, ``purchase_days_last_90d``, ``frequency_rate``,
        ``repeat_spend_rate``, ``recency_share``, :data:`BENCHMARK_COLUMNS`,
        ``naive_forecast``, ``anchor`` (the forecast the regressions correct: the
        benchmark's, or the naive one without a benchmark), ``horizon_days``; and the
        benchmark used.

    Raises
    ------
    InputError
        Missing column, a non-positive horizon, or no customer by ``origin``.
    crmlab.btyd.ConvergenceError
        The benchmark fit did not converge.
    """
    require_columns(transactions, _TX_COLUMNS, "transactions")
    o = _ts(origin, "origin")
    if not horizon_days > 0:
        raise InputError(f"horizon_days: must be > 0, got {horizon_days}")
    past = calibration_rows(transactions, o)
    if past.empty:
        raise InputError(f"transactions: no purchase on or before {o.date()}")
    df = customer_summary(past, o)
    if use_benchmark and benchmark is None:
        key = _fingerprint(past, o)
        if cache is not None and key in cache:
            benchmark = cache[key]
        else:
            benchmark = fit_benchmark(df)
            if cache is not None:
                cache[key] = benchmark
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
    df["naive_forecast"] = naive_forecast(df, horizon_days)
    if use_benchmark:
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
        df["anchor"] = df["pred_bgnbd_gg"]
    else:
        for col in BENCHMARK_COLUMNS:
            df[col] = np.nan
        df["anchor"] = df["naive_forecast"]
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
    transactions: pd.DataFrame,
    end: Any,
    n_origins: int = 3,
    step_days: int = 30,
    cache: dict | None = None,
    use_benchmark: bool = True,
) -> pd.DataFrame:
    """Stacked training rows: features at several origins, spend up to ``end``.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``customer_id``, ``date``, ``amount``. Rows after ``end`` are dropped
        first, so they cannot leak into features or targets.
    end : date-like
        The targets are the spend in ``(origin, end]``. The benchmark features at each
        origin are computed for that window (``horizon_days`` = window length), so the
        ``anchor`` is the benchmark's forecast of exactly the spend in the target.
    n_origins, step_days : int
        See :func:`training_origins`.
    cache, use_benchmark
        See :func:`features_at`.

    Returns
    -------
    DataFrame
        :func:`features_at` columns plus ``origin``, ``window_days`` (= ``horizon_days``),
        ``target_spend``, ``target_rate`` (spend per day of the window).

    Raises
    ------
    InputError
        Missing column or a period too short for one origin.
    crmlab.btyd.ConvergenceError
        A benchmark fit did not converge.
    """
    tx = calibration_rows(transactions, end)
    e = _ts(end, "end")
    if tx.empty:
        raise InputError(f"transactions: no purchase on or before {e.date()}")
    parts = []
    for o in training_origins(tx["date"].min(), e, n_origins, step_days):
        window = float((e - o).days)
        feats, _ = features_at(tx, o, window, cache=cache, use_benchmark=use_benchmark)
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
    """Log-scale GLM inputs (every feature is >= 0 before the log)."""
    f = features
    X = pd.DataFrame(
        {
            "log_benchmark_rate": np.log((f["anchor"] / f["horizon_days"]).clip(lower=1e-9)),
            "log1p_frequency": np.log1p(f["frequency"]),
            "log1p_mean_day_spend": np.log1p(f["mean_day_spend"].clip(lower=0)),
            "log1p_days_since_last": np.log1p(f["days_since_last"]),
            # a share, not log spend: while every customer is younger than 90 days, spend in
            # the last 90 days equals total spend and a log of it is collinear with spend per
            # purchase day and frequency (the GLM then fits +10/-10 coefficients that explode
            # once the two part); the share is then a constant, clipped to it at prediction
            "recent_spend_share": (f["spend_last_90d"].clip(lower=0)
                                   / f["total_spend"].where(f["total_spend"] > 0)).fillna(0.0).clip(0, 1),
            "log1p_age": np.log1p(f["T"]),
        },
        index=f.index,
    )
    X.insert(0, "const", 1.0)
    return X


def _offset(features: pd.DataFrame) -> np.ndarray:
    return np.log(features["anchor"].clip(lower=1e-9).to_numpy(np.float64))


def _to_anchor_total(raw: np.ndarray, features: pd.DataFrame) -> np.ndarray:
    """Rescale forecasts so their total is the anchor's (the benchmark's) total."""
    total = float(raw.sum())
    anchor = float(features["anchor"].sum())
    return raw * (anchor / total) if total > 0 else raw


class TweedieGLM:
    """Tweedie GLM with log link that corrects the benchmark forecast customer by customer.

    ``log E[spend_i] = log(anchor_i) + b0 + sum_k b_k x_k`` over :data:`GLM_FEATURES`: the
    benchmark's own forecast of the window (``anchor``) enters as an offset, so
    ``exp(b0 + sum_k b_k x_k)`` is the factor by which this customer tends to beat or fall
    short of it, and each ``b_k`` is an elasticity of that factor. The Tweedie family
    (1 < power < 2) is a compound Poisson-Gamma: a point mass at zero (no purchase) plus a
    continuous spend.

    The *level* is the benchmark's: forecasts are rescaled so their total equals the total
    of the anchor (:meth:`predict`). The factor learned on short windows inside the
    calibration period ranks customers well at every cut-off tried, but its level does not
    carry over to a longer horizon with other seasons; the BG/NBD's decay does better.

    No extrapolation: at prediction time every input is clipped to the range it had in
    training, and so is the log factor ``b0 + sum_k b_k x_k`` itself. Clipping inputs one
    by one is not enough: inputs that move together in the training rows can part later
    (in the acquisition months every customer's spend in the last 90 days *is* their
    total spend), and large opposite coefficients on them then multiply a forecast by
    e^50. A factor is never larger or smaller than one seen in training.

    Parameters
    ----------
    var_power : float
        Tweedie power; 1 is Poisson, 2 is Gamma.
    weight : float
        How much of the learned correction to apply (0..1; see :meth:`predict`). It is
        tuned on the validation windows: a blend, on the log scale, of the benchmark and
        the fully corrected forecast.

    Attributes
    ----------
    result_ : statsmodels GLMResults
        The fitted model (``summary()``, ``params``, ``bse``, ``pvalues`` ...).
    input_range_ : DataFrame
        ``min`` and ``max`` of each input over the training rows (index: input).
    factor_range_ : tuple of float
        ``min`` and ``max`` of the log factor over the training rows.
    """

    def __init__(self, var_power: float = 1.5, weight: float = 1.0):
        self.var_power = var_power
        self.weight = weight

    def fit(self, panel: pd.DataFrame) -> TweedieGLM:
        """Fit on :func:`training_panel` rows (``target_spend``, ``anchor``); returns ``self``."""
        import statsmodels.api as sm
        from statsmodels.tools.sm_exceptions import SingularMatrixWarning

        require_columns(panel, ["target_spend", "anchor", "horizon_days"], "training panel")
        family = sm.families.Tweedie(var_power=self.var_power, link=sm.families.links.Log())
        X = _glm_matrix(panel)
        model = sm.GLM(panel["target_spend"].to_numpy(np.float64), X, family=family, offset=_offset(panel))
        with warnings.catch_warnings():
            # an input constant over the training rows (the recent-spend share while every
            # customer is younger than 90 days) is expected: the pseudo-inverse gives it a
            # share of the intercept, and at prediction it is clipped to that constant
            warnings.simplefilter("ignore", SingularMatrixWarning)
            self.result_ = model.fit()
        if not np.all(np.isfinite(self.result_.params)):
            raise InputError("value: the Tweedie GLM did not converge (non-finite coefficients)")
        self.input_range_ = pd.DataFrame({"min": X.min(axis=0), "max": X.max(axis=0)})
        eta = X.to_numpy(np.float64) @ self.result_.params.to_numpy(np.float64)
        self.factor_range_ = (float(eta.min()), float(eta.max()))
        return self

    def _inputs(self, features: pd.DataFrame) -> pd.DataFrame:
        X = _glm_matrix(features)
        return X.clip(self.input_range_["min"], self.input_range_["max"], axis=1)

    def predict(self, features: pd.DataFrame, rescale: bool = True, weight: float | None = None) -> np.ndarray:
        """Forecast spend over ``features.horizon_days``: anchor x learned factor ** weight.

        ``weight`` (default :attr:`weight`) shrinks the correction towards the benchmark:
        0 gives the anchor itself, 1 the full factor. With ``rescale`` (default) the
        forecasts are scaled to the anchor's total.
        """
        w = self.weight if weight is None else weight
        eta = self._inputs(features).to_numpy(np.float64) @ self.result_.params.to_numpy(np.float64)
        raw = np.exp(w * np.clip(eta, *self.factor_range_) + _offset(features))
        return _to_anchor_total(raw, features) if rescale else raw

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
                "label": [FEATURE_LABELS.get(str(k), str(k)) for k in r.params.index],
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
        """Deviance, null deviance, explained deviance share, Pearson chi2 / df, scale."""
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
    """Histogram gradient boosting (Poisson loss) of the factor by which a customer beats the benchmark.

    The target is ``target_spend / anchor`` with sample weight ``anchor``: with Poisson
    loss this is the same likelihood as a Poisson regression of the spend with the anchor
    as an offset, so the trees learn a correction factor as the GLM does, with
    interactions and thresholds. Forecasts are anchor x factor, rescaled to the anchor's
    total (see :class:`TweedieGLM`). Missing benchmark inputs (a failed fit) are handled
    natively by the trees.

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

        require_columns(panel, ["target_spend", "anchor", *GBM_FEATURES], "training panel")
        anchor = panel["anchor"].clip(lower=1e-9).to_numpy(np.float64)
        X = panel[GBM_FEATURES].to_numpy(np.float64)
        # bin each input at its (unweighted) quantiles first: with sample weights,
        # scikit-learn would otherwise find the bins by weighted percentiles, which took
        # ~8 s per fit here; trees only see the order of values, so nothing else changes
        # an input missing for every row (the benchmark's, after it failed) becomes a constant
        self.edges_ = [np.unique(np.nanquantile(col, np.linspace(0, 1, 255))) if np.isfinite(col).any()
                       else None for col in X.T]
        est = HistGradientBoostingRegressor(random_state=self.seed, **_GBM_SETTINGS)
        # one thread: on a busy 2-core machine OpenMP threads spinning against each other
        # made this fit several times slower; the result does not depend on threads
        with threadpool_limits(limits=1):
            est.fit(self._binned(X), panel["target_spend"].to_numpy(np.float64) / anchor, sample_weight=anchor)
        self.estimator_ = est
        return self

    def _binned(self, X: np.ndarray) -> np.ndarray:
        out = np.empty_like(X)
        for j, edges in enumerate(self.edges_):
            if edges is None:
                out[:, j] = 0.0
                continue
            out[:, j] = np.searchsorted(edges, X[:, j], side="left").astype(np.float64)
            out[np.isnan(X[:, j]), j] = np.nan
        return out

    def predict(self, features: pd.DataFrame, rescale: bool = True) -> np.ndarray:
        """Forecast spend over ``features.horizon_days``: anchor x learned factor."""
        from threadpoolctl import threadpool_limits

        require_columns(features, ["anchor", *GBM_FEATURES], "features")
        with threadpool_limits(limits=1):
            factor = self.estimator_.predict(self._binned(features[GBM_FEATURES].to_numpy(np.float64)))
        raw = factor * features["anchor"].to_numpy(np.float64)
        return _to_anchor_total(raw, features) if rescale else raw


def _fit_models(panel: pd.DataFrame, value: Mapping, which: Sequence[str] = REGRESSION_MODELS) -> dict:
    """Fit the regressions ``which`` needs (the ensemble needs both)."""
    need = set(which)
    if "ensemble" in need:
        need |= {"glm_tweedie", "gbm"}
    models: dict = {}
    if "glm_tweedie" in need:
        models["glm_tweedie"] = TweedieGLM(value["glm_var_power"]).fit(panel)
    if "gbm" in need:
        models["gbm"] = GradientBoosting(value["seed"]).fit(panel)
    return models


def _predict_models(models: Mapping, features: pd.DataFrame, horizon: float, benchmark_ok: bool) -> dict:
    """Forecast every model in :data:`MODELS` (``bgnbd_gg`` NaN when the benchmark failed)."""
    preds = {
        "naive": naive_forecast(features, horizon),
        "bgnbd_gg": features["pred_bgnbd_gg"].to_numpy(np.float64) if benchmark_ok
        else np.full(len(features), np.nan),
    }
    for name in ("glm_tweedie", "gbm"):
        if name in models:
            preds[name] = models[name].predict(features)
    if "glm_tweedie" in preds and "gbm" in preds:
        preds["ensemble"] = (preds["glm_tweedie"] + preds["gbm"]) / 2.0
    return preds


def _score(actual, preds: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """:func:`compare_models` over the models with finite forecasts; NaN rows for the rest."""
    ok = {m: p for m, p in preds.items() if np.all(np.isfinite(p))}
    out = compare_models(actual, ok)
    return out.reindex([m for m in MODELS if m in preds])


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
        The regression model with the best mean validation score.
    validation : DataFrame
        Validation metrics per model, mean over the validation windows (index: model).
    validation_window : tuple of Timestamp
        ``(start, end]`` of the latest validation window.
    benchmark : Benchmark or None
        BG/NBD and Gamma-Gamma fitted at ``calibration_end``; None when it failed.
    models : dict
        The fitted regression models (``glm_tweedie``: :class:`TweedieGLM`, ``gbm``).
    panel_rows : int
        Rows of the final training panel.
    origins : list of Timestamp
        Training origins of the final models.
    horizon_days : float
        Holdout length in days.
    validation_windows : list of tuple
        Every validation window ``(start, end]``, latest first.
    validation_by_window : DataFrame
        Metrics per window and model (columns ``window_end``, ``model`` and the metrics).
    benchmark_error : str or None
        Why the benchmark could not be fitted (then the regressions correct the naive
        forecast instead and ``pred_bgnbd_gg`` is NaN).
    glm_weight : float
        The share of the GLM's correction applied (tuned on the validation windows).
    weight_tuning : DataFrame
        Mean validation metrics of the GLM for each weight of :data:`WEIGHT_GRID`.
    """

    predictions: pd.DataFrame
    features: pd.DataFrame
    chosen: str
    validation: pd.DataFrame
    validation_window: tuple[pd.Timestamp, pd.Timestamp]
    benchmark: Benchmark | None
    models: dict = field(default_factory=dict)
    panel_rows: int = 0
    origins: list = field(default_factory=list)
    horizon_days: float = 0.0
    validation_windows: list = field(default_factory=list)
    validation_by_window: pd.DataFrame | None = None
    benchmark_error: str | None = None
    glm_weight: float = 1.0
    weight_tuning: pd.DataFrame | None = None


_HIGHER_IS_BETTER = {"mae": False, "rmse": False, "spearman": True, "top_decile_share": True}
_VALUE_KEYS = ("seed", "n_origins", "origin_step_days", "validation_days", "n_validation",
               "glm_var_power", "select_by")


def _check_value_params(value: Mapping[str, Any]) -> None:
    for key in _VALUE_KEYS:
        if key not in value:
            raise InputError(f"params: missing key 'value.{key}'")
    if value["select_by"] not in _HIGHER_IS_BETTER:
        raise InputError(f"params: key 'value.select_by': {value['select_by']!r} is not one of "
                         f"{', '.join(_HIGHER_IS_BETTER)}")


def validation_windows(first_date: Any, calibration_end: Any, value: Mapping[str, Any]) -> list[tuple]:
    """Return the validation windows inside the calibration period, latest first.

    Window ``j`` (0 .. ``n_validation - 1``) ends ``j * origin_step_days`` before
    ``calibration_end`` and lasts ``validation_days``; windows whose models would have no
    training origin are dropped.

    Raises
    ------
    InputError
        When not even the latest window fits.
    """
    first, cal = _ts(first_date, "first_date"), _ts(calibration_end, "calibration_end")
    step, days = value["origin_step_days"], value["validation_days"]
    out = []
    for j in range(value["n_validation"]):
        end = cal - j * step * _DAY
        start = end - days * _DAY
        if start >= first + 2 * step * _DAY:  # room for at least one training origin
            out.append((start, end))
    if not out:
        raise InputError(
            f"value.validation_days ({days}) reaches before the first purchase; "
            "shorten it or move periods.calibration_end later"
        )
    return out


def _predict(tx: pd.DataFrame, cal: pd.Timestamp, horizon: float, value: Mapping, cache: dict | None,
             use_benchmark: bool) -> ValueResult:
    n, step = value["n_origins"], value["origin_step_days"]
    crit = value["select_by"]
    rows = []
    windows = validation_windows(tx["date"].min(), cal, value)
    for v_start, v_end in windows:
        v_days = float((v_end - v_start).days)
        v_tx = calibration_rows(tx, v_end)
        v_panel = training_panel(v_tx, v_start, n, step, cache, use_benchmark)
        v_feats, _ = features_at(v_tx, v_start, v_days, cache=cache, use_benchmark=use_benchmark)
        v_models = _fit_models(v_panel, value)
        v_preds = _predict_models({"gbm": v_models["gbm"]}, v_feats, v_days, use_benchmark)
        v_actual = window_spend(v_tx, v_start, v_end, v_feats["customer_id"])
        base = _score(v_actual, v_preds).reset_index()
        base["weight"] = np.nan
        parts = [base]
        for w in WEIGHT_GRID:
            g = v_models["glm_tweedie"].predict(v_feats, weight=w)
            sc = compare_models(v_actual, {"glm_tweedie": g, "ensemble": (g + v_preds["gbm"]) / 2.0}).reset_index()
            sc["weight"] = w
            parts.append(sc)
        scores = pd.concat(parts, ignore_index=True)
        scores.insert(0, "window_end", v_end)
        rows.append(scores)
    all_windows = pd.concat(rows, ignore_index=True)
    glm_rows = all_windows[all_windows["model"] == "glm_tweedie"]
    tuning = glm_rows.drop(columns=["window_end", "model"]).groupby("weight").mean()
    # the best mean score; among equals, the larger weight (more of the regression)
    best = tuning[crit].max() if _HIGHER_IS_BETTER[crit] else tuning[crit].min()
    weight = float(tuning.index[np.isclose(tuning[crit], best, rtol=1e-12, atol=0)].max())
    keep = all_windows["weight"].isna() | np.isclose(all_windows["weight"], weight)
    by_window = all_windows[keep].drop(columns="weight").reset_index(drop=True)
    order = {m: i for i, m in enumerate(MODELS)}
    by_window = by_window.sort_values(["window_end", "model"], key=lambda c: c.map(order) if c.name == "model"
                                      else c, ascending=[False, True], kind="stable").reset_index(drop=True)
    validation = by_window.drop(columns="window_end").groupby("model", sort=False).mean()
    chosen = CHOSEN_MODEL

    panel = training_panel(tx, cal, n, step, cache, use_benchmark)
    feats, bench = features_at(tx, cal, horizon, cache=cache, use_benchmark=use_benchmark)
    models = _fit_models(panel, value)
    models["glm_tweedie"].weight = weight
    preds = _predict_models(models, feats, horizon, use_benchmark)
    out = pd.DataFrame({"customer_id": feats["customer_id"].astype(str)})
    for name in MODELS:
        out[f"pred_{name}"] = preds[name]
    out["predicted_holdout_value"] = out[f"pred_{chosen}"]
    out["p_alive"] = feats["p_alive"].to_numpy()
    out["expected_purchases"] = feats["expected_purchases"].to_numpy()
    return ValueResult(
        predictions=out, features=feats, chosen=chosen, validation=validation,
        validation_window=windows[0], benchmark=bench, models=models, panel_rows=len(panel),
        origins=sorted(panel["origin"].unique()), horizon_days=horizon,
        validation_windows=windows, validation_by_window=by_window, glm_weight=weight,
        weight_tuning=tuning.reset_index(),
    )


def predict_holdout(
    transactions: pd.DataFrame,
    calibration_end: Any,
    observation_end: Any,
    value: Mapping[str, Any],
    cache: dict | None = None,
) -> ValueResult:
    """Forecast every customer's holdout spend with every model, from calibration rows only.

    Steps: (1) keep the rows up to ``calibration_end`` (:func:`calibration_rows`);
    (2) validation: for each of :func:`validation_windows`, train on origins before the
    window and score on it; tune the weight of the GLM's correction (:data:`WEIGHT_GRID`)
    by the best mean score (``value.select_by``); (3) retrain on origins before
    ``calibration_end`` and forecast the holdout from the features at ``calibration_end``.
    The delivered forecast is :data:`CHOSEN_MODEL`'s.

    If the BG/NBD or Gamma-Gamma fit does not converge at some origin, the benchmark is
    reported as failed (``benchmark_error``, ``pred_bgnbd_gg`` NaN) and the whole
    forecast is redone with the naive forecast as the anchor the regressions correct.

    Parameters
    ----------
    transactions : DataFrame
        Clean transactions (``customer_id``, ``date``, ``amount``); rows after
        ``calibration_end`` may be present and are ignored.
    calibration_end, observation_end : date-like
        The holdout is ``(calibration_end, observation_end]``; only its length is used here.
    value : mapping
        The params ``value`` block: ``seed``, ``n_origins``, ``origin_step_days``,
        ``validation_days``, ``n_validation``, ``glm_var_power``, ``select_by``.
    cache : dict, optional
        Benchmark fits to share between calls (see :func:`features_at`).

    Returns
    -------
    ValueResult
        Forecasts, the choice and what it was based on.

    Raises
    ------
    InputError
        Missing column or key, periods in the wrong order or too short for the windows.
    """
    _check_value_params(value)
    cal = _ts(calibration_end, "calibration_end")
    obs = _ts(observation_end, "observation_end")
    if cal >= obs:
        raise InputError(f"calibration_end ({cal.date()}) must be before observation_end ({obs.date()})")
    tx = calibration_rows(transactions, cal)
    if tx.empty:
        raise InputError(f"transactions: no purchase on or before calibration_end {cal.date()}")
    horizon = float((obs - cal).days)
    try:
        return _predict(tx, cal, horizon, value, cache, use_benchmark=True)
    except ConvergenceError as exc:
        res = _predict(tx, cal, horizon, value, cache, use_benchmark=False)
        res.benchmark_error = str(exc)
        return res


# --- rolling-origin backtest --------------------------------------------------------------


def backtest_origins(first_date: Any, observation_end: Any, n: int, step_months: int,
                     min_holdout_days: int) -> list[pd.Timestamp]:
    """Month-end cut-offs for the backtest, earliest first.

    The latest is the last month-end at least ``min_holdout_days`` before
    ``observation_end``; the others are ``step_months`` apart before it. Cut-offs less
    than 90 days after the first purchase are dropped (no history to learn from).

    Raises
    ------
    InputError
        When ``n`` is negative, ``step_months`` < 1, or no cut-off fits.
    """
    if n < 0 or step_months < 1:
        raise InputError("value.backtest_origins must be >= 0 and value.backtest_step_months >= 1")
    if n == 0:
        return []
    first, obs = _ts(first_date, "first_date"), _ts(observation_end, "observation_end")
    last = (obs - min_holdout_days * _DAY + pd.offsets.MonthEnd(0)).normalize()
    if last > obs - min_holdout_days * _DAY:
        last = (last - pd.offsets.MonthEnd(1)).normalize()
    out = [(last - pd.offsets.MonthEnd(step_months * k)).normalize() for k in range(n)]
    out = sorted(o for o in out if o >= first + 90 * _DAY)
    if not out:
        raise InputError(
            f"value.backtest_origins: no month-end cut-off leaves {min_holdout_days} days before "
            f"observation_end ({obs.date()}) and 90 days of history; set value.backtest_origins: 0"
        )
    return out


def backtest(
    transactions: pd.DataFrame,
    observation_end: Any,
    origins: Sequence[Any],
    value: Mapping[str, Any],
    cache: dict | None = None,
    known: Mapping[pd.Timestamp, ValueResult] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling-origin backtest: the whole value procedure at each cut-off, scored on its own holdout.

    At each origin ``c`` the models are fitted, chosen and tuned exactly as
    :func:`predict_holdout` does at ``calibration_end`` (from the rows up to ``c`` only)
    and scored on ``(c, observation_end]`` against the customers first seen by ``c``.

    Parameters
    ----------
    transactions : DataFrame
        Clean transactions.
    observation_end : date-like
        End of every holdout.
    origins : sequence of date-like
        The calibration cut-offs (see :func:`backtest_origins`).
    value : mapping
        The params ``value`` block.
    cache : dict, optional
        Benchmark fits shared across origins.
    known : mapping, optional
        Results already computed (origin -> :class:`ValueResult`), reused.

    Returns
    -------
    (DataFrame, DataFrame)
        Rows of ``origin``, ``model``, ``mae``, ``rmse``, ``spearman``,
        ``top_decile_share``, ``aggregate_error``, ``chosen`` (bool), ``customers``,
        ``holdout_days``; and one row per origin: ``origin``, ``chosen``, ``glm_weight``,
        ``benchmark_error`` (None when the benchmark converged).

    Raises
    ------
    InputError
        As :func:`predict_holdout`, naming the origin.
    """
    obs = _ts(observation_end, "observation_end")
    known = dict(known or {})
    rows, info = [], []
    for origin in origins:
        c = _ts(origin, "backtest origin")
        try:
            res = known.get(c) or predict_holdout(transactions, c, obs, value, cache)
        except InputError as exc:
            raise InputError(f"value backtest at {c.date()}: {exc}") from None
        act = holdout_actuals(transactions, c, obs)
        preds = {m: res.predictions[f"pred_{m}"].to_numpy() for m in MODELS}
        scores = _score(act["actual_holdout_value"].to_numpy(), preds).reset_index()
        scores.insert(0, "origin", c)
        scores["chosen"] = scores["model"] == res.chosen
        scores["customers"] = len(act)
        scores["holdout_days"] = int((obs - c).days)
        rows.append(scores)
        info.append({"origin": c, "chosen": res.chosen, "glm_weight": res.glm_weight,
                     "benchmark_error": res.benchmark_error})
    return pd.concat(rows, ignore_index=True), pd.DataFrame(info)


def backtest_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per origin: the chosen model against the benchmark.

    Returns
    -------
    DataFrame
        ``origin``, ``chosen``, and for each of ``rmse``, ``spearman``,
        ``top_decile_share``, ``aggregate_error`` the chosen model's and the benchmark's
        value (``<metric>_chosen``, ``<metric>_benchmark``), plus ``rmse_ratio``.

    Raises
    ------
    InputError
        Missing column.
    """
    require_columns(table, ["origin", "model", "chosen", "rmse", "spearman", "top_decile_share",
                            "aggregate_error"], "backtest")
    ch = table[table["chosen"]].set_index("origin")
    bm = table[table["model"] == "bgnbd_gg"].set_index("origin").reindex(ch.index)
    out = pd.DataFrame({"chosen": ch["model"]})
    for m in ("rmse", "spearman", "top_decile_share", "aggregate_error"):
        out[f"{m}_chosen"] = ch[m]
        out[f"{m}_benchmark"] = bm[m]
    out["rmse_ratio"] = out["rmse_chosen"] / out["rmse_benchmark"]
    return out.reset_index()


# --- CLV from the latest data ----------------------------------------------------------------


def clv_forecast(
    transactions: pd.DataFrame, as_of: Any, chosen: str, value: Mapping[str, Any], cache: dict | None = None,
    glm_weight: float = 1.0,
) -> tuple[pd.DataFrame, str | None]:
    """CLV of every customer from ``as_of`` forward, with the chosen model refitted on all data up to it.

    The holdout scores the models; decisions are taken today. So the chosen model is
    trained again on origins before ``as_of`` (its targets now reach ``as_of``), the
    features are computed at ``as_of`` for a horizon of ``value.horizon_months``, and
    :func:`customer_lifetime_value` discounts the forecast with the BG/NBD timing fitted
    at ``as_of`` (evenly spread over the months when the benchmark does not converge).

    Parameters
    ----------
    transactions : DataFrame
        Clean transactions; rows after ``as_of`` are ignored.
    as_of : date-like
        Usually ``observation_end``: the last day of the data.
    chosen : str
        One of :data:`REGRESSION_MODELS`.
    value : mapping
        The params ``value`` block (also ``horizon_months``, ``margin``,
        ``annual_discount_rate``).
    cache : dict, optional
        Benchmark fits to share.
    glm_weight : float
        The GLM correction weight tuned at ``calibration_end`` (kept, not re-tuned).

    Returns
    -------
    (DataFrame, str or None)
        ``customer_id``, ``forecast_spend`` (over the horizon), ``clv``, ``p_alive``,
        ``expected_purchases`` (over the horizon); and the benchmark error, if any.

    Raises
    ------
    InputError
        Unknown model, missing key, or too little data before ``as_of``.
    """
    _check_value_params(value)
    if chosen not in REGRESSION_MODELS:
        raise InputError(f"chosen model {chosen!r} is not one of {', '.join(REGRESSION_MODELS)}")
    a = _ts(as_of, "as_of")
    tx = calibration_rows(transactions, a)
    if tx.empty:
        raise InputError(f"transactions: no purchase on or before {a.date()}")
    months = np.arange(1, value["horizon_months"] + 1) * DAYS_PER_MONTH
    horizon = float(months[-1])
    error = None
    try:
        panel = training_panel(tx, a, value["n_origins"], value["origin_step_days"], cache, True)
        feats, bench = features_at(tx, a, horizon, cache=cache)
    except ConvergenceError as exc:
        error = str(exc)
        panel = training_panel(tx, a, value["n_origins"], value["origin_step_days"], cache, False)
        feats, bench = features_at(tx, a, horizon, use_benchmark=False)
    models = _fit_models(panel, value, [chosen])
    if "glm_tweedie" in models:
        models["glm_tweedie"].weight = glm_weight
    spend = _predict_models(models, feats, horizon, bench is not None)[chosen]
    if bench is not None:
        cumulative = cumulative_expected(feats, bench.bgnbd, months)
    else:
        cumulative = np.broadcast_to(months / horizon, (len(feats), len(months)))
    clv = customer_lifetime_value(spend, cumulative, cumulative[:, -1], value["margin"],
                                  value["annual_discount_rate"])
    out = pd.DataFrame({
        "customer_id": feats["customer_id"].astype(str), "forecast_spend": spend, "clv": clv,
        "p_alive": feats["p_alive"].to_numpy(), "expected_purchases": feats["expected_purchases"].to_numpy(),
    })
    return out, error



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


def metrics_report(
    holdout: pd.DataFrame,
    result: ValueResult,
    select_by: str,
    backtest: pd.DataFrame | None = None,
    backtest_info: pd.DataFrame | None = None,
    clv_as_of: Any = None,
    clv_error: str | None = None,
) -> dict[str, Any]:
    """Build the ``value_metrics.json`` content.

    Parameters
    ----------
    holdout : DataFrame
        :func:`compare_models` on the holdout (index: model); a model without forecasts
        (the benchmark when it failed) may be missing or all NaN.
    result : ValueResult
        For the choice, the validation scores and the benchmark parameters.
    select_by : str
        The validation metric the choice was made on.
    backtest, backtest_info : DataFrame, optional
        :func:`backtest` output; written as ``backtest`` (one record per origin and
        model) and ``backtest_origins``.
    clv_as_of : date-like, optional
        The day the ``clv`` column is computed from (normally ``observation_end``).
    clv_error : str, optional
        Why the benchmark timing was unavailable for the CLV refit.

    Returns
    -------
    dict
        ``{<model>: {mae, rmse, spearman, top_decile_share, aggregate_error}, ...,
        "chosen": str, "selection": {...}, "benchmark": {"status", "error", "params"},
        "backtest": [...], "clv_as_of": str, ...}``; NaN as null.

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
    out["chosen"] = result.chosen
    windows = result.validation_windows or [result.validation_window]
    out["selection"] = {
        "rule": f"{CHOSEN_MODEL} (interpretable by design); the weight of its correction of the benchmark "
        + ("highest" if _HIGHER_IS_BETTER[select_by] else "lowest")
        + f" mean validation {select_by} over {len(windows)} windows",
        "glm_weight": result.glm_weight,
        "weight_grid": list(WEIGHT_GRID),
        "weight_tuning": ([_clean(r) for r in result.weight_tuning.to_dict(orient="records")]
                          if result.weight_tuning is not None else None),
        "validation_window": [d.date().isoformat() for d in result.validation_window],
        "validation_windows": [[s.date().isoformat(), e.date().isoformat()] for s, e in windows],
        "validation": {m: _clean(result.validation.loc[m, cols].to_dict()) for m in result.validation.index},
    }
    out["holdout_days"] = result.horizon_days
    out["customers"] = int(len(result.predictions))
    out["training_origins"] = [o.date().isoformat() for o in pd.to_datetime(result.origins)]
    out["training_rows"] = int(result.panel_rows)
    params = _clean(result.benchmark.params()) if result.benchmark is not None else None
    if params is not None:
        params["alpha_weeks"] = params["alpha"] / 7.0  # the scale of rates per week
    out["benchmark"] = {
        "status": "failed" if result.benchmark_error else "fitted",
        "error": result.benchmark_error,
        "params": params,
    }
    out["benchmark_params"] = params
    if backtest is not None:
        bt = backtest.copy()
        bt["origin"] = pd.to_datetime(bt["origin"]).dt.date.astype(str)
        out["backtest"] = [_clean(r) for r in bt.to_dict(orient="records")]
    if backtest_info is not None:
        bi = backtest_info.copy()
        bi["origin"] = pd.to_datetime(bi["origin"]).dt.date.astype(str)
        out["backtest_origins"] = [_clean(r) for r in bi.to_dict(orient="records")]
    if clv_as_of is not None:
        out["clv_as_of"] = _ts(clv_as_of, "clv_as_of").date().isoformat()
        out["clv_benchmark_error"] = clv_error
    return out
