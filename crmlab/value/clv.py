"""Customer lifetime value from today's data, and the value tiers it implies.

The holdout grades the models; a decision is taken today, so :func:`clv_forecast` refits
the chosen model on all data up to ``observation_end``. The model sets the level, the
BG/NBD refitted at the same date sets the timing (:func:`customer_lifetime_value`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab.btyd import ConvergenceError
from crmlab.engine import compute
from crmlab.errors import InputError, require_columns
from crmlab.segmentation import TIER_ORDER, value_tiers
from crmlab.value.benchmark import cumulative_expected
from crmlab.value.features import _none_left, _ts, calibration_rows, features_at, training_panel
from crmlab.value.forecast import _check_value_params
from crmlab.value.models import REGRESSION_MODELS, _fit_models, _predict_models

__all__ = [
    "DAYS_PER_MONTH",
    "clv_forecast",
    "clv_summary",
    "customer_lifetime_value",
    "tier_crosstab",
    "value_tiers_now",
    "tier_moves",
]


DAYS_PER_MONTH = 365.25 / 12


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
    if _none_left(tx):
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


def tier_crosstab(past_tier, predicted_tier, order: Sequence[str] = tuple(TIER_ORDER)) -> pd.DataFrame:
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


def clv_summary(clv) -> dict[str, float]:
    """Total, mean and median CLV, and the share held by the top 10% of customers.

    Parameters
    ----------
    clv : array-like
        CLV per customer (currency).

    Returns
    -------
    dict
        ``customers``, ``total``, ``mean``, ``median``, ``top_decile_share`` (the 10% of
        customers, rounded up, with the highest CLV).

    Raises
    ------
    InputError
        No customers.
    """
    v = np.asarray(clv, dtype=np.float64).reshape(-1)
    if len(v) == 0:
        raise InputError("clv: no customers")
    top = np.sort(v)[::-1][: int(np.ceil(len(v) / 10))].sum() / v.sum()
    return {"customers": len(v), "total": float(v.sum()), "mean": float(v.mean()),
            "median": float(np.median(v)), "top_decile_share": float(top)}


def value_tiers_now(
    transactions: pd.DataFrame, clv_table: pd.DataFrame, as_of: Any, tiers: Mapping[str, Any]
) -> pd.DataFrame:
    """Value tier of each customer from past spend and from forecast CLV, by the same rule.

    Both use :func:`crmlab.segmentation.value_tiers` (``segmentation.tiers``): past spend
    is every purchase up to ``as_of``, the forecast is the ``clv`` of :func:`clv_forecast`
    made at ``as_of``.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``customer_id``, ``date``, ``amount``; rows after ``as_of`` are ignored.
    clv_table : DataFrame
        :func:`clv_forecast` output (``customer_id``, ``clv``).
    as_of : date-like
        The day of the CLV (normally ``observation_end``).
    tiers : mapping
        The params ``segmentation.tiers`` block (``high``, ``medium``).

    Returns
    -------
    DataFrame
        ``customer_id``, ``clv``, ``value_tier_past``, ``value_tier_predicted``, in the
        order of ``clv_table``.

    Raises
    ------
    InputError
        Missing column, or no positive spend or CLV to share out.
    """
    require_columns(clv_table, ["customer_id", "clv"], "clv table")
    spend = calibration_rows(transactions, as_of).groupby("customer_id")["amount"].sum()
    spend = compute(spend, what="spend per customer")[0]  # on Dask: summed on the workers
    past_spend = spend.reindex(clv_table["customer_id"]).fillna(0.0).to_numpy()
    clv = clv_table["clv"].to_numpy()
    past = value_tiers(pd.DataFrame({"total_spend": past_spend}), tiers)["value_tier"]
    predicted = value_tiers(pd.DataFrame({"total_spend": clv}), tiers)["value_tier"]
    return pd.DataFrame({"customer_id": clv_table["customer_id"].to_numpy(), "clv": clv,
                         "value_tier_past": np.asarray(past), "value_tier_predicted": np.asarray(predicted)})


def tier_moves(tiers: pd.DataFrame, order: Sequence[str] = tuple(TIER_ORDER)) -> tuple[int, int]:
    """Count customers whose forecast tier is above their past tier, and below it.

    Parameters
    ----------
    tiers : DataFrame
        :func:`value_tiers_now` output.
    order : sequence of str
        Tier names, best first.

    Returns
    -------
    (int, int)
        Customers moving up (undervalued by history) and down (their spending is behind them).

    Raises
    ------
    InputError
        Missing column.
    """
    require_columns(tiers, ["value_tier_past", "value_tier_predicted"], "tiers")
    rank = {t: i for i, t in enumerate(order)}
    past = tiers["value_tier_past"].map(rank)
    predicted = tiers["value_tier_predicted"].map(rank)
    return int((predicted < past).sum()), int((predicted > past).sum())
