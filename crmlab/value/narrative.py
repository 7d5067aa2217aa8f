"""Every sentence of the value stage that depends on a run: readings, takeaways, notes.

Functions take computed results and return Markdown strings; nothing here computes a
model or reads a file. A takeaway is returned without its "**Takeaway:**" label
(:meth:`crmlab.context.StageContext.show` adds it above a figure; :func:`takeaway` adds
it above a table). ``currency`` is ``report.currency`` ("" for none: amounts then carry
no symbol).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab.i18n import EN, Catalog
from crmlab.value.models import CHOSEN_MODEL, FEATURE_LABELS

__all__ = [
    "takeaway",
    "split_reading",
    "benchmark_reading",
    "glm_fit_reading",
    "glm_takeaway",
    "tuning_reading",
    "validation_takeaway",
    "holdout_takeaway",
    "deciles_takeaway",
    "gains_takeaway",
    "tracking_takeaway",
    "residuals_takeaway",
    "backtest_takeaway",
    "no_backtest",
    "clv_reading",
    "tiers_takeaway",
    "products_written",
    "selection_rule",
    "model_name",
    "metric_name",
    "feature_label",
]


def _day(d: Any) -> str:
    return f"{pd.Timestamp(d):%Y-%m-%d}"


def _dates(days: Sequence[Any], tr: Catalog = EN) -> str:
    return tr("common.list_sep").join(_day(d) for d in days)


def _lookup(tr: Catalog, key: str, default: Any) -> str:
    return tr(key) if tr.has(key) else str(default)


def model_name(model: Any, tr: Catalog = EN) -> str:
    """Display name of a model code (``glm_tweedie`` ...); the code itself in English and when unknown."""
    return _lookup(tr, f"value.model.{model}", model)


def metric_name(metric: Any, tr: Catalog = EN) -> str:
    """Display name of a metric code as a params value (``rmse``, ``spearman`` ...); the code in English."""
    return _lookup(tr, f"value.metric_code.{metric}", metric)


def feature_label(feature: Any, tr: Catalog = EN) -> str:
    """Return the business words for a GLM input (:data:`~crmlab.value.models.FEATURE_LABELS` in English)."""
    return _lookup(tr, f"value.feature.{feature}", FEATURE_LABELS.get(str(feature), str(feature)))


def takeaway(text: str, tr: Catalog = EN) -> str:
    """Label a takeaway shown above a table (a figure's is labelled by ``ctx.show``)."""
    return f"**{tr('common.takeaway')}** {text}"


def split_reading(summary: Mapping[str, Any], tr: Catalog = EN) -> str:
    """Say what the models see and what only scores them (:func:`~crmlab.value.features.split_summary`)."""
    s = summary
    return tr("value.split_reading", calibration_rows=s["calibration_rows"],
              calibration_customers=s["calibration_customers"], first_date=_day(s["first_date"]),
              calibration_end=_day(s["calibration_end"]), holdout_rows=s["holdout_rows"],
              holdout_days=s["holdout_days"], observation_end=_day(s["observation_end"]))


def benchmark_reading(result: Any, calibration_end: Any, currency: str = "", tr: Catalog = EN) -> str:
    """Read the benchmark's parameters in business words, or say why it failed.

    ``result`` is a :class:`~crmlab.value.forecast.ValueResult`; ``tr`` the run's catalog.
    """
    bench = result.benchmark
    if bench is None:
        return tr("value.benchmark_reading.failed", error=result.benchmark_error)
    bp = bench.params()
    return tr(
        "value.benchmark_reading.fitted", date=_day(calibration_end), per_year=bp["r"] / bp["alpha"] * 365.25,
        leave=bp["a"] / (bp["a"] + bp["b"]), money=currency or "", spend=bp["p"] * bp["gamma"] / (bp["q"] - 1),
        alpha=bp["alpha"], alpha_weeks=bp["alpha"] / 7, repeat_buyers=bench.gamma_gamma.n_customers_,
        corr=bench.spend_frequency_corr, excluded=bench.gg_excluded,
    )


def glm_fit_reading(result: Any, diagnostics: Mapping[str, float], var_power: float, tr: Catalog = EN) -> str:
    """How much the GLM explains and what its dispersion means (its unit is the currency's)."""
    return tr("value.glm_fit_reading", rows=result.panel_rows, origins=_dates(result.origins, tr),
              explained=diagnostics["explained_deviance"], scale=diagnostics["scale"], power=var_power,
              exponent=2 - var_power)


def glm_takeaway(coefficients: pd.DataFrame, outside: pd.Series, calibration_end: Any, tr: Catalog = EN) -> str:
    """Name the two clearest signals (largest |z|) and the inputs clipped to their training range.

    ``outside`` is :meth:`~crmlab.value.models.TweedieGLM.outside_range` (share of
    customers per input).
    """
    strongest = coefficients[coefficients["feature"] != "const"].assign(
        az=lambda d: d["z"].abs()).nlargest(2, "az")
    clipped = outside[outside > 0]
    listed = tr("common.list_sep").join(tr("value.clipped_input", label=feature_label(k, tr), share=s)
                                        for k, s in clipped.items())
    return tr("value.glm_takeaway", first=feature_label(strongest["feature"].iloc[0], tr),
              second=feature_label(strongest["feature"].iloc[1], tr), date=_day(calibration_end),
              listed=listed or tr("common.none"))


def tuning_reading(result: Any, metric: str, tr: Catalog = EN) -> str:
    """Name the validation windows and the GLM weight they chose, against w = 0 and w = 1."""
    tuning = result.weight_tuning.set_index("weight")
    windows = tr("common.list_sep").join(tr("value.window_span", start=_day(s), end=_day(e))
                                         for s, e in result.validation_windows)
    return tr("value.tuning_reading", windows=windows, metric=metric_name(metric, tr), weight=result.glm_weight,
              best=tuning.loc[result.glm_weight, metric], w0=tuning.loc[0.0, metric], w1=tuning.loc[1.0, metric])


def validation_takeaway(gap: float, swing: float, metric: str, calibration_end: Any, tr: Catalog = EN) -> str:
    """Whether the regressions' gap is larger than one model's swing across windows."""
    if not np.isfinite(swing):
        return tr("value.validation_takeaway.one_window", date=_day(calibration_end))
    return tr("value.validation_takeaway.noise" if gap < swing else "value.validation_takeaway.real",
              metric=metric_name(metric, tr), gap=gap, swing=swing)


def holdout_takeaway(scores: pd.DataFrame, chosen: str, wins: Sequence[str] | None, currency: str = "",
                     tr: Catalog = EN) -> str:
    """Compare the chosen model with the benchmark on the holdout.

    ``wins`` is :func:`~crmlab.value.metrics.better_metrics` (None when the benchmark failed).
    """
    money = currency or ""
    c = scores.loc[chosen]
    if wins is None:
        return tr("value.holdout_takeaway.no_benchmark", chosen=model_name(chosen, tr), money=money, rmse=c.rmse,
                  spearman=c.spearman, top=c.top_decile_share, aggregate=c.aggregate_error)
    b = scores.loc["bgnbd_gg"]
    better = tr("common.list_sep").join(tr(f"value.metric.{m}") for m in wins) if wins else tr("common.none")
    return tr(
        "value.holdout_takeaway.compared", chosen=model_name(chosen, tr), money=money,
        rmse=c.rmse, rmse_b=b.rmse, spearman=c.spearman, spearman_b=b.spearman,
        top=c.top_decile_share, top_b=b.top_decile_share, aggregate=c.aggregate_error,
        aggregate_b=b.aggregate_error, mae=c.mae, mae_b=b.mae, better=better,
        naive=scores.loc["naive", "aggregate_error"],
    )


def deciles_takeaway(deciles: pd.DataFrame, model: str, currency: str = "", tr: Catalog = EN) -> str:
    """Say what the top decile by forecast spent, and the bottom half's share."""
    top = deciles.iloc[0]
    return tr("value.deciles_takeaway", model=model_name(model, tr), money=currency or "",
              actual=top.mean_actual, predicted=top.mean_predicted, share=top.share_of_actual,
              bottom=deciles["share_of_actual"].iloc[5:].sum())


def gains_takeaway(gains: pd.DataFrame, chosen: str, reference: str, tr: Catalog = EN) -> str:
    """Give the share of holdout spend a campaign on the top 10% reaches, model by model."""
    at10 = gains.set_index("customer_share").loc[0.1]
    return tr("value.gains_takeaway", chosen=model_name(chosen, tr), reference=model_name(reference, tr),
              chosen_share=at10[chosen], reference_share=at10[reference], naive_share=at10["naive"],
              perfect_share=at10["perfect"])


def tracking_takeaway(tracking: pd.DataFrame, chosen: str, currency: str = "", tr: Catalog = EN) -> str:
    """Actual against forecast spend at the end of the holdout."""
    last = tracking.iloc[-1]
    values = dict(date=_day(last.week_end), money=currency or "", actual=last.actual,
                  chosen=model_name(chosen, tr), forecast=last[chosen], error=last[chosen] / last.actual - 1)
    if "bgnbd_gg" in tracking:
        return tr("value.tracking_takeaway.with_benchmark", **values, benchmark=last["bgnbd_gg"],
                  benchmark_error=last["bgnbd_gg"] / last.actual - 1)
    return tr("value.tracking_takeaway.chosen_only", **values)


def residuals_takeaway(zero_share: float, mean_residual: float, currency: str = "", tr: Catalog = EN) -> str:
    """Why customer-level errors are large, and what to read instead (bias by group)."""
    return tr("value.residuals_takeaway", zero_share=zero_share, money=currency or "", residual=mean_residual)


def backtest_takeaway(summary: pd.DataFrame, info: pd.DataFrame, wins: int, compared: int,
                      tr: Catalog = EN) -> str:
    """How often the chosen model ranks as well as the benchmark, and its error ranges.

    ``summary`` is :func:`~crmlab.value.backtesting.backtest_summary`, ``info`` the second
    table of :func:`~crmlab.value.backtesting.backtest`, ``wins`` and ``compared`` from
    :func:`~crmlab.value.backtesting.backtest_rank_wins`.
    """
    ok = summary.dropna(subset=["rmse_benchmark"])
    failed = info[info["benchmark_error"].notna()]
    return (
        tr("value.backtest_takeaway", wins=wins, compared=compared, origins=_dates(summary["origin"], tr),
           rmse_low=ok["rmse_ratio"].min() - 1, rmse_high=ok["rmse_ratio"].max() - 1,
           total_low=summary["aggregate_error_chosen"].min(), total_high=summary["aggregate_error_chosen"].max())
        + "".join(tr("value.backtest_failed_at", date=_day(r.origin), error=r.benchmark_error)
                  for r in failed.itertuples())
    )


def no_backtest(tr: Catalog = EN) -> str:
    """Said when the backtest is switched off."""
    return tr("value.no_backtest")


def clv_reading(summary: Mapping[str, float], as_of: Any, value: Mapping[str, Any], chosen: str,
                glm_weight: float, clv_error: str | None, currency: str = "", tr: Catalog = EN) -> str:
    """Say what the base is worth from ``as_of`` and how concentrated it is.

    ``summary`` is :func:`~crmlab.value.clv.clv_summary`; ``value`` the params ``value``
    block (``horizon_months``, ``margin``, ``annual_discount_rate``).
    """
    s = summary
    return (
        tr("value.clv_reading", date=_day(as_of), months=value["horizon_months"], margin=value["margin"],
           discount=value["annual_discount_rate"], customers=s["customers"], money=currency or "",
           total=s["total"], mean=s["mean"], median=s["median"], top_share=s["top_decile_share"],
           chosen=model_name(chosen, tr), weight=glm_weight)
        + (tr("value.clv_benchmark_failed", error=clv_error) if clv_error else "")
    )


def tiers_takeaway(up: int, down: int, as_of: Any, tr: Catalog = EN) -> str:
    """How many customers forecast CLV moves up (undervalued by history) and down."""
    return tr("value.tiers_takeaway", date=_day(as_of), up=up, down=down)


def products_written(customers: int, calibration_end: Any, observation_end: Any, chosen: str,
                     tr: Catalog = EN) -> str:
    """Say what the stage wrote."""
    return tr("value.products_written", customers=customers, calibration_end=_day(calibration_end),
              observation_end=_day(observation_end), chosen=model_name(chosen, tr))


def selection_rule(select_by: str, higher_is_better: bool, windows: int) -> str:
    """State the rule of the choice, as ``value_metrics.json`` records it (``selection.rule``).

    Product text (the data contract): always English, whatever the run's language.
    """
    return (f"{CHOSEN_MODEL} (interpretable by design); the weight of its correction of the benchmark "
            + ("highest" if higher_is_better else "lowest")
            + f" mean validation {select_by} over {windows} windows")
