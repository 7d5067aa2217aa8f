"""The holdout forecast: validation windows, the GLM weight tuned on them, the final fit.

The question: standing at ``calibration_end``, how much will each customer spend in the
holdout ``(calibration_end, observation_end]``? Every model sees transactions dated on or
before ``calibration_end`` only; the holdout rows are used to *score*, never to fit, tune
or choose. Tuning is made on several validation windows inside the calibration period (the
mean score over ``n_validation`` windows of ``validation_days``, ``origin_step_days``
apart).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlab.btyd import ConvergenceError
from crmlab.errors import InputError
from crmlab.value.benchmark import Benchmark
from crmlab.value.features import (
    _DAY,
    _first_date,
    _none_left,
    _ts,
    calibration_rows,
    features_at,
    training_panel,
    window_spend,
)
from crmlab.value.metrics import compare_models, score_models
from crmlab.value.models import CHOSEN_MODEL, MODELS, WEIGHT_GRID, _fit_models, _predict_models

__all__ = ["ValueResult", "validation_windows", "predict_holdout"]


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
    windows = validation_windows(_first_date(tx), cal, value)
    for v_start, v_end in windows:
        v_days = float((v_end - v_start).days)
        v_tx = calibration_rows(tx, v_end)
        v_panel = training_panel(v_tx, v_start, n, step, cache, use_benchmark)
        v_feats, _ = features_at(v_tx, v_start, v_days, cache=cache, use_benchmark=use_benchmark)
        v_models = _fit_models(v_panel, value)
        v_preds = _predict_models({"gbm": v_models["gbm"]}, v_feats, v_days, use_benchmark)
        v_actual = window_spend(v_tx, v_start, v_end, v_feats["customer_id"])
        base = score_models(v_actual, v_preds).reset_index()
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
    if _none_left(tx):
        raise InputError(f"transactions: no purchase on or before calibration_end {cal.date()}")
    horizon = float((obs - cal).days)
    try:
        return _predict(tx, cal, horizon, value, cache, use_benchmark=True)
    except ConvergenceError as exc:
        res = _predict(tx, cal, horizon, value, cache, use_benchmark=False)
        res.benchmark_error = str(exc)
        return res
