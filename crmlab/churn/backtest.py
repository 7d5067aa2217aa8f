"""Does the purchase-based warning work? Flags raised at one date, checked against the holdout."""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlab.churn.ranking import WITH_INTERACTIONS
from crmlab.churn.signals import check_signal_date
from crmlab.churn.warning import transactional_warning, warning_inputs
from crmlab.engine import compute, is_dask
from crmlab.errors import InputError, require_columns
from crmlab.i18n import EN, Catalog

__all__ = ["warning_backtest", "backtest_warning", "backtest_comparison", "comparison_table"]


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
    transactions: pd.DataFrame, calibration_end: Any, until: Any, horizon_days: float, params: Any,
    signals: pd.DataFrame | None = None,
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
    signals : DataFrame, optional
        Interaction signals **taken at calibration_end**
        (:func:`crmlab.churn.signals.interaction_signals` with ``prefix="backtest_"``); with
        them the list checked is the one the signals re-rank (``"purchases+interactions"``).

    Returns
    -------
    dict
        :func:`warning_backtest`'s result.

    Raises
    ------
    InputError
        As :func:`crmlab.churn.warning.warning_inputs` and :func:`warning_backtest`, or
        signals that say they describe another day.
    """
    if signals is not None:
        check_signal_date(signals, calibration_end)
    past = transactional_warning(warning_inputs(transactions, calibration_end, horizon_days), params, signals,
                                 ranking=WITH_INTERACTIONS)
    return warning_backtest(past, transactions, until)


def backtest_comparison(
    transactions: pd.DataFrame, calibration_end: Any, until: Any, horizon_days: float, params: Any,
    signals: pd.DataFrame,
) -> dict[str, Any]:
    """Backtest the warning with and without the interaction signals, side by side.

    Both lists are raised at ``calibration_end`` from one set of purchase inputs (one
    BG/NBD fit) and the same capacity, so they differ only by the signals: customers the
    signals move **into** the list and the ones they push **out**. Whether the signals help
    is read from those swaps -- did the customers moved in lapse more often than the ones
    they displaced? -- and from the precision, recall and lift of the two lists;
    :func:`crmlab.churn.ranking.ranking_decision` turns the two precisions into the ranking
    today's warning uses.

    Parameters
    ----------
    transactions, calibration_end, until, horizon_days, params
        As :func:`backtest_warning`.
    signals : DataFrame
        Interaction signals taken at ``calibration_end`` (``prefix="backtest_"``).

    Returns
    -------
    dict
        ``purchases_only`` and ``with_interactions`` (each :func:`warning_backtest`'s dict);
        ``swaps``: ``moved_in``, ``moved_in_lapsed``, ``moved_out``, ``moved_out_lapsed``;
        ``signals``: customers with each signal at ``calibration_end`` and the rules.

    Raises
    ------
    InputError
        As :func:`backtest_warning`.
    """
    check_signal_date(signals, calibration_end)
    inputs = warning_inputs(transactions, calibration_end, horizon_days)
    plain = transactional_warning(inputs, params)
    mixed = transactional_warning(inputs, params, signals, ranking=WITH_INTERACTIONS)
    out = {"purchases_only": warning_backtest(plain, transactions, until),
           "with_interactions": warning_backtest(mixed, transactions, until)}
    start, end = pd.Timestamp(calibration_end), pd.Timestamp(until)
    window = transactions[(transactions["date"] > start) & (transactions["date"] <= end)]
    bought = set(window["customer_id"].astype(str))
    ids = mixed["customer_id"].astype(str)  # both tables are sorted by customer_id
    lapsed = ~ids.isin(bought).to_numpy()
    a, b = plain["warning"].to_numpy(dtype=bool), mixed["warning"].to_numpy(dtype=bool)
    moved_in, moved_out = b & ~a, a & ~b
    out["swaps"] = {"moved_in": int(moved_in.sum()), "moved_in_lapsed": int((moved_in & lapsed).sum()),
                    "moved_out": int(moved_out.sum()), "moved_out_lapsed": int((moved_out & lapsed).sum())}
    out["signals"] = {"rising_complaints": int(mixed["rising_complaints"].sum()),
                      "falling_sentiment": int(mixed["falling_sentiment"].sum()),
                      "any": int(mixed["interaction_signal"].sum()),
                      **mixed.attrs.get("interaction_signals", {})}
    return out


def comparison_table(comparison: dict[str, Any], tr: Catalog = EN) -> pd.DataFrame:
    """Put the two backtests side by side: precision, recall, lift, flagged, flagged share.

    ``comparison`` is :func:`backtest_comparison`'s result. Returns a DataFrame indexed by
    measure with columns ``purchases only``, ``with interaction signals`` and ``change``
    (a table to show: its labels are in the language of ``tr``, English by default).
    """
    measures = ["precision", "recall", "lift", "flagged", "flagged_share"]
    a, b = comparison["purchases_only"], comparison["with_interactions"]
    only, withs = tr("churn.comparison.purchases_only"), tr("churn.comparison.with_interactions")
    table = pd.DataFrame({only: [a[m] for m in measures], withs: [b[m] for m in measures]},
                         index=pd.Index([tr(f"churn.comparison.{m}") for m in measures],
                                        name=tr("churn.comparison.measure")), dtype="float64")
    table[tr("churn.comparison.change")] = table[withs] - table[only]
    return table
