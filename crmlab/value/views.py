"""The value stage's figures as :class:`~crmlab.display.Display` objects.

Each function computes what its figure shows and returns a ``Display``: the file name
(``value_<figure>``, as the figure and its table were always saved), the takeaway from
:mod:`crmlab.value.narrative`, the table behind the chart and how to draw it. In the
notebook::

    ctx.show(value.deciles_display(y, preds[res.chosen], res.chosen, currency))
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from crmlab.display import Display
from crmlab.i18n import EN, Catalog
from crmlab.value import narrative
from crmlab.value.backtesting import backtest_rank_wins, backtest_summary
from crmlab.value.benchmark import holdout_timing
from crmlab.value.clv import tier_crosstab, tier_moves
from crmlab.value.forecast import ValueResult
from crmlab.value.metrics import decile_table, finite_forecasts, gains_table, weekly_tracking
from crmlab.value.plotting import (
    plot_glm_coefficients,
    plot_value_backtest,
    plot_value_deciles,
    plot_value_gains,
    plot_value_residuals,
    plot_value_tiers,
    plot_value_tracking,
)

__all__ = [
    "glm_coefficients_display",
    "deciles_display",
    "gains_display",
    "tracking_display",
    "residuals_display",
    "backtest_display",
    "tiers_display",
    "shown_table",
]


def _column(name: Any, tr: Catalog) -> Any:
    text = str(name)
    if text.startswith("window to "):  # validation_table's window columns
        return tr("value.column.window_to", date=text[len("window to "):])
    key = f"value.column.{text}"
    return tr(key) if tr.has(key) else name


def shown_table(table: pd.DataFrame, tr: Catalog = EN) -> pd.DataFrame:
    """Return a table of the stage as the notebook shows it: headers and model names translated.

    Columns and the index name are looked up as ``value.column.<name>`` (metric codes,
    ``weight``, ``mean``, ``window to <date>`` ...), a ``model`` index or a ``model`` or
    ``chosen`` column of model codes through
    :func:`~crmlab.value.narrative.model_name`; anything the catalog does not know is kept.
    In English the table is returned as it is. Only for display: the saved tables and the
    products keep their canonical names.

    Parameters
    ----------
    table : DataFrame
        E.g. the holdout scores, the weight tuning, :func:`~crmlab.value.metrics.validation_table`.
    tr : Catalog
        The run's catalog (``ctx.tr``).
    """
    out = table.copy()
    name = table.index.name
    if name == "model":
        out.index = pd.Index([narrative.model_name(m, tr) for m in table.index], name=name)
    for col in ("model", "chosen"):  # model codes (the backtest summary's ``chosen``)
        if col in out.columns and not pd.api.types.is_bool_dtype(out[col]):
            out[col] = [narrative.model_name(m, tr) for m in out[col]]
    if name is not None:
        out.index.name = _column(name, tr)
    out.columns = pd.Index([_column(c, tr) for c in table.columns], name=table.columns.name)
    return out


def _shown_coefficients(coef: pd.DataFrame, tr: Catalog) -> pd.DataFrame:
    """Return the coefficient table for the notebook: rows by input name (in the run's language), rounded."""
    shown = coef.assign(label=[narrative.feature_label(f, tr) if tr.has(f"value.feature.{f}") else label
                               for f, label in zip(coef["feature"], coef["label"], strict=True)])
    shown = shown.set_index("label").drop(columns="feature").round(3)
    shown.index.name = tr("value.table.input")
    shown.columns = [_column(c, tr) for c in shown.columns]
    return shown


def glm_coefficients_display(result: ValueResult, calibration_end: Any, tr: Catalog = EN) -> Display:
    """Show the GLM's coefficients (elasticities of the factor on the benchmark), with 95% intervals.

    Parameters
    ----------
    result : ValueResult
        :func:`~crmlab.value.forecast.predict_holdout` output.
    calibration_end : date-like
        The day the forecasts are made (inputs outside their training range are named).
    tr : Catalog
        The run's catalog (``ctx.tr``): takeaway, reading, titles, labels, input names.

    Returns
    -------
    Display
        ``value_glm_coefficients``; table: the coefficient table. ``data``:
        ``coefficients``, ``diagnostics`` (one-row table, saved as
        ``value_glm_diagnostics``), ``reading`` (the fit in words), ``shown`` (the
        coefficients by label, rounded, for the notebook).
    """
    glm = result.models["glm_tweedie"]
    coef = glm.coefficients()
    diag = glm.diagnostics()
    return Display(
        name="value_glm_coefficients",
        takeaway=narrative.glm_takeaway(coef, glm.outside_range(result.features), calibration_end, tr=tr),
        draw=partial(plot_glm_coefficients, coef, tr=tr),
        table=coef,
        data={"coefficients": coef, "diagnostics": pd.DataFrame([diag]),
              "reading": narrative.glm_fit_reading(result, diag, glm.var_power, tr=tr),
              "shown": _shown_coefficients(coef, tr)},
    )


def deciles_display(actual, predicted, model: str, currency: str = "", tr: Catalog = EN) -> Display:
    """Mean forecast and mean actual holdout spend per forecast decile.

    Parameters
    ----------
    actual, predicted : array-like
        Holdout spend and forecast per customer.
    model : str
        The model the forecasts are from (named in the title).
    currency : str
        ``report.currency``.
    tr : Catalog
        The run's catalog (``ctx.tr``).

    Returns
    -------
    Display
        ``value_deciles`` (no table is saved); ``data["deciles"]``: :func:`decile_table`.
    """
    deciles = decile_table(actual, predicted)
    return Display(
        name="value_deciles",
        takeaway=narrative.deciles_takeaway(deciles, model, currency, tr=tr),
        draw=partial(plot_value_deciles, deciles, model, currency=currency, tr=tr),
        data={"deciles": deciles},
    )


def gains_display(actual, predictions: pd.DataFrame, chosen: str, tr: Catalog = EN) -> Display:
    """Gains over the benchmark's list: extra holdout spend each model's list reaches.

    Parameters
    ----------
    actual : array-like
        Holdout spend per customer.
    predictions : DataFrame
        ``pred_<model>`` columns (:attr:`ValueResult.predictions`); models without
        finite forecasts are left out.
    chosen : str
        The delivered model.
    tr : Catalog
        The run's catalog (``ctx.tr``).

    Returns
    -------
    Display
        ``value_gains``; table: :func:`gains_table` of every model. The naive list is
        not drawn when the benchmark is the reference (it would flatten the others).
    """
    gains = gains_table(actual, finite_forecasts(predictions))
    reference = "bgnbd_gg" if "bgnbd_gg" in gains else "naive"
    drawn = gains.drop(columns=["naive"] if reference != "naive" else [])
    return Display(
        name="value_gains",
        takeaway=narrative.gains_takeaway(gains, chosen, reference, tr=tr),
        draw=partial(plot_value_gains, drawn, reference=reference, tr=tr),
        table=gains,
    )


def tracking_display(transactions: pd.DataFrame, result: ValueResult, calibration_end: Any,
                     observation_end: Any, currency: str = "", tr: Catalog = EN) -> Display:
    """Cumulative holdout spend week by week: actual against the benchmark and the chosen model.

    Each forecast total is spread over the weeks with the customer's BG/NBD timing (an
    even spread when the benchmark failed).

    Parameters
    ----------
    transactions : DataFrame
        Clean transactions (holdout rows are read here: scoring).
    result : ValueResult
        :func:`~crmlab.value.forecast.predict_holdout` output.
    calibration_end, observation_end : date-like
        The holdout.
    currency : str
        ``report.currency``.
    tr : Catalog
        The run's catalog (``ctx.tr``).

    Returns
    -------
    Display
        ``value_tracking``; table: :func:`weekly_tracking`.
    """
    share = holdout_timing(result.features, result.benchmark, result.horizon_days)
    forecasts = finite_forecasts(result.predictions)
    shown = {m: forecasts[m] for m in dict.fromkeys(("bgnbd_gg", result.chosen)) if m in forecasts}
    tracking = weekly_tracking(transactions, result.predictions["customer_id"], calibration_end,
                               observation_end, shown, share)
    return Display(
        name="value_tracking",
        takeaway=narrative.tracking_takeaway(tracking, result.chosen, currency, tr=tr),
        draw=partial(plot_value_tracking, tracking, currency=currency, tr=tr),
        table=tracking,
    )


def residuals_display(actual, predicted, model: str, currency: str = "", tr: Catalog = EN) -> Display:
    """Bias by forecast group: mean actual - forecast per group of equal size, with 95% intervals.

    Parameters
    ----------
    actual, predicted : array-like
        Holdout spend and forecast per customer.
    model : str
        The model the forecasts are from.
    currency : str
        ``report.currency``.
    tr : Catalog
        The run's catalog (``ctx.tr``).

    Returns
    -------
    Display
        ``value_residuals`` (no table is saved).
    """
    y = np.asarray(actual, dtype=np.float64)
    p = np.asarray(predicted, dtype=np.float64)
    return Display(
        name="value_residuals",
        takeaway=narrative.residuals_takeaway(float((y == 0).mean()), float((y - p).mean()), currency, tr=tr),
        draw=partial(plot_value_residuals, y, p, model, currency=currency, tr=tr),
    )


def backtest_display(table: pd.DataFrame, info: pd.DataFrame, currency: str = "", tr: Catalog = EN) -> Display:
    """Show the chosen model and the benchmark at every backtest cut-off (four metrics).

    Parameters
    ----------
    table, info : DataFrame
        :func:`~crmlab.value.backtesting.backtest` output.
    currency : str
        ``report.currency``.
    tr : Catalog
        The run's catalog (``ctx.tr``).

    Returns
    -------
    Display
        ``value_backtest``; table: ``table``; ``data["summary"]``: :func:`backtest_summary`.
    """
    summary = backtest_summary(table)
    wins, compared = backtest_rank_wins(summary)

    def draw(ax=None):
        return plot_value_backtest(table, axes=ax, currency=currency, tr=tr)

    return Display(
        name="value_backtest",
        takeaway=narrative.backtest_takeaway(summary, info, wins, compared, tr=tr),
        draw=draw,
        table=table,
        data={"summary": summary},
    )


def tiers_display(tiers: pd.DataFrame, as_of: Any, tr: Catalog = EN) -> Display:
    """Count customers by value tier from past spend and from forecast CLV.

    Parameters
    ----------
    tiers : DataFrame
        :func:`~crmlab.value.clv.value_tiers_now` output.
    as_of : date-like
        The day of the CLV.
    tr : Catalog
        The run's catalog (``ctx.tr``).

    Returns
    -------
    Display
        ``value_tiers``; table (saved as ``value_tier_migration``): the crosstab.
    """
    crosstab = tier_crosstab(tiers["value_tier_past"], tiers["value_tier_predicted"])
    up, down = tier_moves(tiers)
    return Display(
        name="value_tiers",
        takeaway=narrative.tiers_takeaway(up, down, as_of, tr=tr),
        draw=partial(plot_value_tiers, crosstab, tr=tr),
        table=crosstab.reset_index(),
        table_name="value_tier_migration",
        data={"crosstab": crosstab},
    )
