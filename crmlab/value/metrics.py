"""Scoring forecasts against what customers spent: errors, deciles, gains, tracking.

Every metric is read as a budget question: ``mae`` and ``rmse`` (how far off a customer's
value is), ``spearman`` (is the order right), ``top_decile_share`` (what a campaign on the
top 10% reaches), ``aggregate_error`` (is the revenue plan right in total).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab.engine import compute, is_dask
from crmlab.errors import InputError, require_columns
from crmlab.value.features import _DAY, _TX_COLUMNS, _ts
from crmlab.value.models import MODELS, REGRESSION_MODELS

__all__ = [
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
]


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


def score_models(actual, preds: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """:func:`compare_models` over the models with finite forecasts; NaN rows for the rest.

    Parameters
    ----------
    actual : array-like
        Actual spend per customer.
    preds : mapping
        Model name -> forecasts; a model whose forecasts are not all finite (the
        benchmark after a failed fit) gets a row of NaN.

    Returns
    -------
    DataFrame
        As :func:`compare_models`, rows in the order of :data:`MODELS`.

    Raises
    ------
    InputError
        As :func:`compare_models`.
    """
    ok = {m: p for m, p in preds.items() if np.all(np.isfinite(p))}
    out = compare_models(actual, ok)
    return out.reindex([m for m in MODELS if m in preds])


def finite_forecasts(predictions: pd.DataFrame) -> dict[str, np.ndarray]:
    """Return the ``pred_<model>`` columns of ``predictions`` with finite values, by model name.

    Parameters
    ----------
    predictions : DataFrame
        :attr:`ValueResult.predictions <crmlab.value.forecast.ValueResult>`: one
        ``pred_<model>`` column per model of :data:`MODELS`.

    Returns
    -------
    dict
        Model name -> forecasts, in :data:`MODELS` order; a model with a missing
        forecast (the benchmark after a failed fit) is left out.

    Raises
    ------
    InputError
        A ``pred_<model>`` column is missing.
    """
    require_columns(predictions, [f"pred_{m}" for m in MODELS], "predictions")
    preds = {m: predictions[f"pred_{m}"].to_numpy() for m in MODELS}
    return {m: p for m, p in preds.items() if np.isfinite(p).all()}


def holdout_scores(actual, predictions: pd.DataFrame) -> pd.DataFrame:
    """Score every model's holdout forecast: :func:`score_models` over ``pred_<model>``.

    Parameters
    ----------
    actual : array-like
        Actual holdout spend per customer, in the order of ``predictions``.
    predictions : DataFrame
        One ``pred_<model>`` column per model of :data:`MODELS`.

    Returns
    -------
    DataFrame
        One row per model of :data:`MODELS` (index ``model``), NaN for a model without
        forecasts.

    Raises
    ------
    InputError
        A column is missing or :func:`compare_models` rejects a forecast.
    """
    require_columns(predictions, [f"pred_{m}" for m in MODELS], "predictions")
    return score_models(actual, {m: predictions[f"pred_{m}"].to_numpy() for m in MODELS})


#: Metrics compared between two models, in the order a reading lists them, with the test
#: for "better": lower error, higher rank agreement, smaller absolute total error.
_BETTER = {
    "rmse": lambda c, b: c < b,
    "spearman": lambda c, b: c > b,
    "top_decile_share": lambda c, b: c > b,
    "aggregate_error": lambda c, b: abs(c) < abs(b),
    "mae": lambda c, b: c < b,
}


def better_metrics(scores: pd.DataFrame, model: str, reference: str) -> list[str]:
    """List the metrics on which ``model`` beats ``reference`` (``rmse``, ``spearman``, ...).

    Parameters
    ----------
    scores : DataFrame
        :func:`holdout_scores` output (index: model).
    model, reference : str
        Two rows of ``scores``.

    Returns
    -------
    list of str
        In the order ``rmse``, ``spearman``, ``top_decile_share``, ``aggregate_error``,
        ``mae``.

    Raises
    ------
    InputError
        A model or a metric column is missing.
    """
    require_columns(scores, list(_BETTER), "holdout metrics")
    for name in (model, reference):
        if name not in scores.index:
            raise InputError(f"holdout metrics: model {name!r} missing")
    c, b = scores.loc[model], scores.loc[reference]
    return [m for m, better in _BETTER.items() if better(c[m], b[m])]


def validation_table(by_window: pd.DataFrame, validation: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One validation metric per model (rows) and window (columns), with the mean.

    Parameters
    ----------
    by_window : DataFrame
        :attr:`ValueResult.validation_by_window <crmlab.value.forecast.ValueResult>`
        (``window_end``, ``model`` and the metrics).
    validation : DataFrame
        The mean over the windows (index: model).
    metric : str
        The metric shown (``value.select_by``).

    Returns
    -------
    DataFrame
        Index ``model``; one column ``window to <end date>`` per window, and ``mean``.

    Raises
    ------
    InputError
        A column is missing.
    """
    require_columns(by_window, ["window_end", "model", metric], "validation by window")
    wide = by_window.pivot(index="model", columns="window_end", values=metric).reindex(validation.index)
    wide.columns = [f"window to {d:%Y-%m-%d}" for d in wide.columns]
    wide["mean"] = validation[metric]
    return wide


def regression_spread(wide: pd.DataFrame) -> tuple[float, float]:
    """How far apart the regressions' mean scores are, and how much one swings by window.

    Parameters
    ----------
    wide : DataFrame
        :func:`validation_table` output.

    Returns
    -------
    (float, float)
        The gap between the best and worst mean of :data:`REGRESSION_MODELS`, and the
        median over them of each model's range across windows (NaN with one window).
    """
    regs = wide.loc[list(REGRESSION_MODELS)]
    gap = float(regs["mean"].max() - regs["mean"].min())
    per_window = regs.drop(columns="mean")
    swing = float((per_window.max(axis=1) - per_window.min(axis=1)).median()) \
        if regs.shape[1] > 2 else float("nan")
    return gap, swing


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
    if is_dask(transactions):  # weekly totals summed on the workers
        wanted = list(pd.Index(customers, dtype=str))
        keep = (day > cal) & (day <= obs) & transactions["customer_id"].astype(str).isin(wanted)
        hold = transactions[keep]
        hold = hold.assign(week=((hold["date"].dt.normalize() - cal).dt.days - 1) // 7)
        actual = compute(hold.groupby("week")["amount"].sum(), what="weekly holdout spend")[0]
        actual = actual.reindex(range(weeks), fill_value=0.0)
    else:
        keep = (day > cal) & (day <= obs) & transactions["customer_id"].astype(str).isin(
            pd.Index(customers, dtype=str))
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
