"""Does the purchase-based warning work? Flags raised at one date, checked against the holdout."""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlab.churn.warning import transactional_warning, warning_inputs
from crmlab.engine import compute, is_dask
from crmlab.errors import InputError, require_columns

__all__ = ["warning_backtest", "backtest_warning"]


def warning_backtest(warning: pd.DataFrame, transactions: pd.DataFrame, until: Any) -> dict[str, Any]:
    """Check flags raised at ``as_of`` against who actually bought in ``(as_of, until]``.

    The warning claims "these customers will not buy"; the holdout tells. With *n* customers
    (all known at ``as_of``), *F* flagged, *L* who bought nothing in the window and *TP*
    flagged customers who bought nothing:

    - ``precision`` = TP / F (how many calls reach a customer who really lapsed),
    - ``recall`` = TP / L (how many of the lapsed the list reaches),
    - ``lift`` = precision / (L / n) (against flagging at random),
    - ``flagged_share`` = F / n.

    Parameters
    ----------
    warning : DataFrame
        From :func:`transactional_warning` computed at one ``as_of`` before ``until``:
        ``customer_id``, ``as_of``, ``warning``.
    transactions : DataFrame (pandas or Dask)
        Clean transactions (``customer_id``, ``date``) covering the window.
    until : date-like
        End of the window (inclusive), e.g. ``periods.observation_end``.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``lift``, ``flagged_share`` (NaN-free floats; precision and
        lift are None when nobody is flagged, recall None when nobody lapsed), plus
        ``customers``, ``flagged``, ``lapsed``, ``flagged_lapsed``, ``base_rate``, ``as_of``,
        ``until``, ``event``.

    Raises
    ------
    InputError
        Missing columns, inputs at more than one date, or ``until`` not after ``as_of``.
    """
    require_columns(warning, ["customer_id", "as_of", "warning"], "warning table")
    require_columns(transactions, ["customer_id", "date"], "transactions")
    dates = pd.to_datetime(warning["as_of"]).unique()
    if len(dates) != 1:
        raise InputError(f"warning backtest: flags must share one as_of date, found {len(dates)}")
    start, end = pd.Timestamp(dates[0]), pd.Timestamp(until)
    if end <= start:
        raise InputError(f"warning backtest: until ({end:%Y-%m-%d}) must be after as_of ({start:%Y-%m-%d})")
    window = transactions[(transactions["date"] > start) & (transactions["date"] <= end)]
    buyers = window["customer_id"].astype(str)
    if is_dask(buyers):  # the distinct buyers (per customer) come back, not the rows
        buyers = compute(buyers.unique(), what="buyers in the backtest window")[0]
    bought = warning["customer_id"].astype(str).isin(set(buyers))
    lapsed = ~bought.to_numpy()
    flag = warning["warning"].astype(bool).to_numpy()
    n, f, lap, tp = len(warning), int(flag.sum()), int(lapsed.sum()), int((flag & lapsed).sum())
    base = lap / n if n else None
    precision = tp / f if f else None
    return {
        "precision": precision,
        "recall": tp / lap if lap else None,
        "lift": precision / base if precision is not None and base else None,
        "flagged_share": f / n if n else None,
        "customers": n, "flagged": f, "lapsed": lap, "flagged_lapsed": tp,
        "base_rate": base,
        "as_of": f"{start:%Y-%m-%d}", "until": f"{end:%Y-%m-%d}",
        "event": "no purchase in (as_of, until]",
    }


def backtest_warning(
    transactions: pd.DataFrame, calibration_end: Any, until: Any, horizon_days: float, params: Any
) -> dict[str, Any]:
    """Raise the warning at ``calibration_end`` from the purchases up to then, and check it.

    The same rules as today's warning (:func:`crmlab.churn.warning.transactional_warning`
    with the same ``params`` and horizon), applied to what was known at
    ``calibration_end``; :func:`warning_backtest` then compares the flags with who bought in
    ``(calibration_end, until]``.

    Parameters
    ----------
    transactions : DataFrame
        Clean transactions: ``customer_id``, ``date``, ``amount``.
    calibration_end, until : date-like
        Where the flags are raised and where the holdout ends.
    horizon_days : float
        Forecast window of the lapse probability, days.
    params : params section
        The validated ``churn_warning`` section.

    Returns
    -------
    dict
        :func:`warning_backtest`'s result.

    Raises
    ------
    InputError
        As :func:`crmlab.churn.warning.warning_inputs` and :func:`warning_backtest`.
    """
    past = transactional_warning(warning_inputs(transactions, calibration_end, horizon_days), params)
    return warning_backtest(past, transactions, until)
