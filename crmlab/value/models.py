"""The value models: the naive rate and the two regressions that correct the benchmark.

The regressions learn, on :func:`crmlab.value.features.training_panel` rows, the factor by
which a customer tends to beat or fall short of the benchmark's forecast (the *anchor*),
and their forecasts are rescaled to the anchor's total: the benchmark sets the level and
its decay over the horizon, the regressions set who gets how much of it.

Models: ``naive`` (calibration spend rate x holdout length), ``bgnbd_gg`` (the BG/NBD
x Gamma-Gamma benchmark, :mod:`crmlab.value.benchmark`), ``glm_tweedie`` (statsmodels
Tweedie GLM, log link, benchmark offset), ``gbm`` (scikit-learn histogram gradient
boosting, Poisson loss, same correction factor) and ``ensemble`` (the mean of the two
regressions).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns

__all__ = [
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
        Tweedie power; 1 is Poisson, 2 is Gamma (``value.glm_var_power``).
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

    def __init__(self, var_power: float, weight: float = 1.0):
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

    def __init__(self, seed: int):
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
