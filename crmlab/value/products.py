"""The stage's products: ``value_predictions.parquet`` and ``value_metrics.json``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.value.features import _ts
from crmlab.value.forecast import _HIGHER_IS_BETTER, ValueResult
from crmlab.value.models import MODELS, WEIGHT_GRID
from crmlab.value.narrative import selection_rule

__all__ = ["PRODUCT_COLUMNS", "value_product", "product_table", "metrics_report"]


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


def product_table(predictions: pd.DataFrame, actuals: pd.DataFrame, tiers: pd.DataFrame) -> pd.DataFrame:
    """Assemble ``value_predictions.parquet`` from the holdout forecasts and today's CLV and tiers.

    The holdout forecasts cover the customers known at ``calibration_end``; the CLV and
    tiers those known at ``observation_end``. Every customer of the forecasts is known at
    both dates, so the CLV side is aligned to them; a customer missing from it (none in a
    consistent run) gets a CLV of 0 and the ``low`` tier.

    Parameters
    ----------
    predictions : DataFrame
        :attr:`ValueResult.predictions <crmlab.value.forecast.ValueResult>`.
    actuals : DataFrame
        :func:`~crmlab.value.features.holdout_actuals` for the same customers.
    tiers : DataFrame
        :func:`~crmlab.value.clv.value_tiers_now` output (``customer_id``, ``clv``,
        ``value_tier_past``, ``value_tier_predicted``).

    Returns
    -------
    DataFrame
        As :func:`value_product`.

    Raises
    ------
    InputError
        Missing column, or the tables do not hold the same customers.
    """
    require_columns(tiers, ["customer_id", "clv", "value_tier_past", "value_tier_predicted"], "tiers")
    require_columns(predictions, ["customer_id"], "predictions")
    now = tiers.set_index("customer_id").reindex(predictions["customer_id"])
    return value_product(predictions, actuals, now["clv"].fillna(0.0).to_numpy(),
                         now["value_tier_past"].fillna("low"), now["value_tier_predicted"].fillna("low"))


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
        "rule": selection_rule(select_by, _HIGHER_IS_BETTER[select_by], len(windows)),
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
