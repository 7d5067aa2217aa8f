"""The time split and the customer features a forecast is made from.

Every function here that builds features or targets starts by dropping the rows after its
own end date (:func:`calibration_rows`), so a holdout row cannot reach a model even if the
caller passes all rows; :func:`holdout_actuals` is the only reader of the holdout, for
scoring.

On the Dask engine (``transactions`` a Dask frame from :func:`crmlab.engine.read_parquet`)
the same functions run on the cluster: filters stay lazy, customer tables come from
:func:`crmlab.features.customer_summary`'s Dask path, and only per-customer tables, counts
and dates reach the client (:func:`crmlab.engine.compute`), never the rows.

Training rows are cut from *inside* the calibration period: at several training origins
``o`` (every ``origin_step_days`` back from the end ``E`` of the data a model may use) the
features describe each customer with the purchases up to ``o`` and the target is the spend
in ``(o, E]`` (:func:`training_panel`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab.engine import compute, is_dask
from crmlab.errors import InputError, require_columns
from crmlab.features import customer_summary, daily_purchases
from crmlab.value.benchmark import BENCHMARK_COLUMNS, Benchmark, fit_benchmark
from crmlab.value.models import naive_forecast

__all__ = [
    "calibration_rows",
    "holdout_actuals",
    "split_summary",
    "features_at",
    "window_spend",
    "training_origins",
    "training_panel",
]


_TX_COLUMNS = ("customer_id", "date", "amount")


_DAY = pd.Timedelta(days=1)


def _ts(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: {value!r} is not a date") from None
    if ts is pd.NaT:
        raise InputError(f"{name}: missing date")
    return ts.normalize()


def _none_left(transactions) -> bool:
    """Whether no row is left (on Dask, a row count on the workers)."""
    if is_dask(transactions):
        return compute(transactions.shape[0], what="row count")[0] == 0
    return transactions.empty


def _first_date(transactions) -> pd.Timestamp:
    """Date of the first purchase (on Dask, a minimum on the workers)."""
    return compute(transactions["date"].min(), what="first purchase date")[0]


def calibration_rows(transactions: pd.DataFrame, calibration_end: Any) -> pd.DataFrame:
    """Keep the transactions the models may learn from: dated on or before ``calibration_end``.

    This filter is the time split. Every function of this package that builds features,
    targets or models calls it first, so a holdout row cannot reach a model even if the
    caller passes all rows.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``customer_id``, ``date`` (datetime64), ``amount``.
    calibration_end : date-like
        Last day of the calibration period (inclusive).

    Returns
    -------
    DataFrame
        The rows on or before ``calibration_end`` (a copy), index reset. A Dask frame
        stays a (lazy) Dask frame with its partitions and index, so customer buckets stay
        customer buckets.

    Raises
    ------
    InputError
        A required column is missing or the date is not a date.
    """
    require_columns(transactions, _TX_COLUMNS, "transactions")
    end = _ts(calibration_end, "calibration_end")
    # compare on the day: a timestamp later on calibration_end is still calibration
    keep = transactions["date"].dt.normalize() <= end
    if is_dask(transactions):
        return transactions[keep]
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


def split_summary(transactions: pd.DataFrame, calibration_end: Any, observation_end: Any) -> dict[str, Any]:
    """Count what the time split gives the models and what it keeps for scoring.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``customer_id``, ``date``, ``amount``.
    calibration_end, observation_end : date-like
        The holdout is ``(calibration_end, observation_end]``.

    Returns
    -------
    dict
        ``calibration_rows``, ``calibration_customers``, ``first_date`` (Timestamp),
        ``calibration_end``, ``observation_end`` (Timestamps), ``holdout_rows``,
        ``holdout_days``.

    Raises
    ------
    InputError
        Missing column or a date that is not a date.
    """
    calib = calibration_rows(transactions, calibration_end)
    cal, obs = _ts(calibration_end, "calibration_end"), _ts(observation_end, "observation_end")
    day = transactions["date"].dt.normalize()
    if is_dask(transactions):  # four aggregates in one pass on the workers
        rows, customers, first, holdout = compute(
            calib.shape[0], calib["customer_id"].nunique(), calib["date"].min(),
            ((day > cal) & (day <= obs)).sum(), what="time split counts",
        )
        return {"calibration_rows": int(rows), "calibration_customers": int(customers),
                "first_date": first, "calibration_end": cal, "observation_end": obs,
                "holdout_rows": int(holdout), "holdout_days": (obs - cal).days}
    return {
        "calibration_rows": len(calib),
        "calibration_customers": int(calib["customer_id"].nunique()),
        "first_date": calib["date"].min(),
        "calibration_end": cal,
        "observation_end": obs,
        "holdout_rows": int(((day > cal) & (day <= obs)).sum()),
        "holdout_days": (obs - cal).days,
    }


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
    if is_dask(past):
        # the customer table is the one pass over the rows; the rest is read from it
        df = customer_summary(past, o)
        if df.empty:
            raise InputError(f"transactions: no purchase on or before {o.date()}")
        key = (o, int(df["orders"].sum()), round(float(df["total_spend"].sum()), 6), len(df))
    else:
        if past.empty:
            raise InputError(f"transactions: no purchase on or before {o.date()}")
        df = customer_summary(past, o)
        key = None
    if use_benchmark and benchmark is None:
        key = key or _fingerprint(past, o)
        if cache is not None and key in cache:
            benchmark = cache[key]
        else:
            benchmark = fit_benchmark(df)
            if cache is not None:
                cache[key] = benchmark
    daily = daily_purchases(past)
    o_day = (o - pd.Timestamp("1970-01-01")).days
    recent = daily[daily["day"] > o_day - 90].groupby("customer_id").size()
    recent = compute(recent, what="purchase days in the last 90 days")[0]  # per customer
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
    if is_dask(transactions):  # summed per customer on the workers
        w = transactions[(day > s) & (day <= e)]
        w = w.assign(customer_id=w["customer_id"].astype(str))
        total = compute(w.groupby("customer_id")["amount"].sum(), what="window spend")[0]
    else:
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
    n_origins: int,
    step_days: int,
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
    first = _first_date(tx)
    if pd.isna(first):
        raise InputError(f"transactions: no purchase on or before {e.date()}")
    parts = []
    for o in training_origins(first, e, n_origins, step_days):
        window = float((e - o).days)
        feats, _ = features_at(tx, o, window, cache=cache, use_benchmark=use_benchmark)
        feats["origin"] = o
        feats["window_days"] = window
        feats["target_spend"] = window_spend(tx, o, e, feats["customer_id"])
        feats["target_rate"] = feats["target_spend"] / window
        parts.append(feats)
    return pd.concat(parts, ignore_index=True)
