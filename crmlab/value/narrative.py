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
]

#: Words for the metrics in readings, in the order :func:`crmlab.value.metrics.better_metrics` lists them.
_METRIC_WORDS = {"rmse": "RMSE", "spearman": "Spearman", "top_decile_share": "top-decile share",
                 "aggregate_error": "aggregate error", "mae": "MAE"}


def _dates(days: Sequence[Any]) -> str:
    return ", ".join(f"{pd.Timestamp(d):%Y-%m-%d}" for d in days)


def takeaway(text: str) -> str:
    """Label a takeaway shown above a table (a figure's is labelled by ``ctx.show``)."""
    return f"**Takeaway:** {text}"


def split_reading(summary: Mapping[str, Any]) -> str:
    """Say what the models see and what only scores them (:func:`~crmlab.value.features.split_summary`)."""
    s = summary
    return (
        f"The models see **{s['calibration_rows']:,} calibration rows** of **{s['calibration_customers']:,} "
        f"customers**, from {s['first_date']:%Y-%m-%d} to {s['calibration_end']:%Y-%m-%d}. "
        f"The **{s['holdout_rows']:,} holdout rows** ({s['holdout_days']} days, to {s['observation_end']:%Y-%m-%d}) "
        "are used only to score."
    )


def benchmark_reading(result: Any, calibration_end: Any, currency: str = "") -> str:
    """Read the benchmark's parameters in business words, or say why it failed.

    ``result`` is a :class:`~crmlab.value.forecast.ValueResult`.
    """
    bench = result.benchmark
    if bench is None:
        return (
            f"**The benchmark failed:** {result.benchmark_error}. The regression models below correct the naive "
            "forecast instead, and every benchmark number in this chapter is missing."
        )
    money = currency or ""
    bp = bench.params()
    cal = pd.Timestamp(calibration_end)
    return (
        f"At {cal:%Y-%m-%d}: while alive, the average customer buys about "
        f"**{bp['r'] / bp['alpha'] * 365.25:.1f} times a year** ($r/\\alpha$ per day x 365); after each "
        f"purchase the average chance of leaving for good is **{bp['a'] / (bp['a'] + bp['b']):.0%}** "
        f"($a/(a+b)$); the population mean spend per purchase is "
        f"**{money}{bp['p'] * bp['gamma'] / (bp['q'] - 1):,.2f}** "
        f"($p\\gamma/(q-1)$). The scale $\\alpha$ = {bp['alpha']:.1f} is in **days** because time is counted in "
        f"days here; in weeks it is {bp['alpha'] / 7:.2f} - the unit of the published CDNOW estimate "
        "(4.414, Fader, Hardie & Lee 2005, fitted on a 2,357-customer sample to 1997-09-30). $r$, $a$, $b$ do not "
        "depend on the unit. Gamma-Gamma check: the correlation of purchase frequency and mean spend "
        f"among the {bench.gamma_gamma.n_customers_:,} repeat buyers is **{bench.spend_frequency_corr:+.2f}** "
        "(the model assumes about 0); "
        f"repeat buyers with a mean spend of 0 left out of its fit: {bench.gg_excluded}."
    )


def glm_fit_reading(result: Any, diagnostics: Mapping[str, float], var_power: float) -> str:
    """How much the GLM explains and what its dispersion means (its unit is the currency's)."""
    return (
        f"Training rows: **{result.panel_rows:,}** (customers x origins {_dates(result.origins)}). The GLM explains "
        f"**{diagnostics['explained_deviance']:.0%} of the deviance** left by the benchmark offset. "
        f"Its dispersion $\\phi$ = {diagnostics['scale']:,.1f} is measured in units of spend: with Tweedie power "
        f"{var_power} its unit is (currency)^{2 - var_power:g}, so the same data in cents would give "
        f"another number. It cannot be compared with the 1 of a Poisson count; it only says how spread out spend "
        f"is around the forecast in this currency."
    )


def glm_takeaway(coefficients: pd.DataFrame, outside: pd.Series, calibration_end: Any) -> str:
    """Name the two clearest signals (largest |z|) and the inputs clipped to their training range.

    ``outside`` is :meth:`~crmlab.value.models.TweedieGLM.outside_range` (share of
    customers per input).
    """
    strongest = coefficients[coefficients["feature"] != "const"].assign(
        az=lambda d: d["z"].abs()).nlargest(2, "az")
    clipped = outside[outside > 0]
    listed = ", ".join(f"*{FEATURE_LABELS.get(k, k)}* ({s:.1%} of customers)" for k, s in clipped.items())
    return (
        f"the clearest signals are *{strongest['label'].iloc[0]}* and "
        f"*{strongest['label'].iloc[1]}* (largest |z|). At {pd.Timestamp(calibration_end):%Y-%m-%d} these inputs "
        "lie outside their training range and are clipped to it: " + (listed or "none") + "."
    )


def tuning_reading(result: Any, metric: str) -> str:
    """Name the validation windows and the GLM weight they chose, against w = 0 and w = 1."""
    tuning = result.weight_tuning.set_index("weight")
    windows = ", ".join(f"{s:%Y-%m-%d} to {e:%Y-%m-%d}" for s, e in result.validation_windows)
    return (
        f"Validation windows {windows}: "
        f"the weight with the best mean {metric} is **w = {result.glm_weight:.2f}** "
        f"({metric} {tuning.loc[result.glm_weight, metric]:.3f}; w = 0, the benchmark, "
        f"{tuning.loc[0.0, metric]:.3f}; w = 1, the full correction, {tuning.loc[1.0, metric]:.3f})."
    )


def validation_takeaway(gap: float, swing: float, metric: str, calibration_end: Any) -> str:
    """Whether the regressions' gap is larger than one model's swing across windows."""
    if not np.isfinite(swing):
        return (f"only one validation window fits before {pd.Timestamp(calibration_end):%Y-%m-%d}, so there is "
                "no spread to judge a gap by: treat small differences as noise.")
    return (
        f"the three regressions' mean {metric} lie {gap:.3f} apart, while one model's {metric} swings "
        f"by {swing:.3f} (median) from one window to the next"
        + (" — a gap smaller than the swing is noise: on this evidence the models are equally good." if gap < swing
           else " — the gap is larger than the swing, so the ranking is more than luck on these windows.")
    )


def holdout_takeaway(scores: pd.DataFrame, chosen: str, wins: Sequence[str] | None, currency: str = "") -> str:
    """Compare the chosen model with the benchmark on the holdout.

    ``wins`` is :func:`~crmlab.value.metrics.better_metrics` (None when the benchmark failed).
    """
    money = currency or ""
    c = scores.loc[chosen]
    if wins is None:
        return (
            f"the benchmark failed, so there is nothing to compare with; the chosen **{chosen}** "
            f"has RMSE {money}{c.rmse:,.1f}, Spearman {c.spearman:.3f}, top-decile share {c.top_decile_share:.1%} "
            f"and misses the holdout total by {c.aggregate_error:+.1%}."
        )
    b = scores.loc["bgnbd_gg"]
    better = ", ".join(_METRIC_WORDS[m] for m in wins) if wins else "none"
    return (
        f"on the holdout the chosen **{chosen}** has RMSE {money}{c.rmse:,.1f} vs "
        f"{money}{b.rmse:,.1f}, Spearman {c.spearman:.3f} vs {b.spearman:.3f}, top-decile share "
        f"{c.top_decile_share:.1%} vs {b.top_decile_share:.1%}, aggregate error {c.aggregate_error:+.1%} vs "
        f"{b.aggregate_error:+.1%} (the same total by design) and MAE {money}{c.mae:,.1f} vs {money}{b.mae:,.1f} "
        f"against the BG/NBD x Gamma-Gamma benchmark; it is better on: {better}. "
        f"The naive rate misses the total by {scores.loc['naive', 'aggregate_error']:+.0%}."
    )


def deciles_takeaway(deciles: pd.DataFrame, model: str, currency: str = "") -> str:
    """Say what the top decile by forecast spent, and the bottom half's share."""
    money = currency or ""
    top = deciles.iloc[0]
    return (
        f"the 10% of customers with the highest {model} forecasts spent on average "
        f"{money}{top.mean_actual:,.0f} in the holdout against a forecast of {money}{top.mean_predicted:,.0f}, "
        f"and made {top.share_of_actual:.0%} of all holdout spend; the bottom five deciles together made "
        f"{deciles['share_of_actual'].iloc[5:].sum():.0%}."
    )


def gains_takeaway(gains: pd.DataFrame, chosen: str, reference: str) -> str:
    """Give the share of holdout spend a campaign on the top 10% reaches, model by model."""
    at10 = gains.set_index("customer_share").loc[0.1]
    return (
        f"contacting the top 10% by forecast reaches **{at10[chosen]:.1%}** of holdout spend "
        f"with {chosen}, {at10[reference]:.1%} with {reference} and {at10['naive']:.1%} with the naive "
        f"rate; hindsight (the perfect list) would reach {at10['perfect']:.1%}. The curves of the good models lie "
        f"within a few points of each other, so the chart shows each model's gain over {reference}."
    )


def tracking_takeaway(tracking: pd.DataFrame, chosen: str, currency: str = "") -> str:
    """Actual against forecast spend at the end of the holdout."""
    money = currency or ""
    last = tracking.iloc[-1]
    return (
        f"by {last.week_end:%Y-%m-%d} the customers had spent **{money}{last.actual:,.0f}**; "
        f"the {chosen} forecast was {money}{last[chosen]:,.0f} "
        f"({last[chosen] / last.actual - 1:+.1%})"
        + (f", the benchmark {money}{last['bgnbd_gg']:,.0f} ({last['bgnbd_gg'] / last.actual - 1:+.1%})"
           if "bgnbd_gg" in tracking else "") + "."
    )


def residuals_takeaway(zero_share: float, mean_residual: float, currency: str = "") -> str:
    """Why customer-level errors are large, and what to read instead (bias by group)."""
    money = currency or ""
    return (
        f"{zero_share:.0%} of customers spent nothing in the holdout, so no forecast can be right "
        f"customer by customer; what matters is bias by group. The mean residual is {money}{mean_residual:+,.2f} "
        "per customer; bars above zero are groups the model under-forecast, below zero over-forecast."
    )


def backtest_takeaway(summary: pd.DataFrame, info: pd.DataFrame, wins: int, compared: int) -> str:
    """How often the chosen model ranks as well as the benchmark, and its error ranges.

    ``summary`` is :func:`~crmlab.value.backtesting.backtest_summary`, ``info`` the second
    table of :func:`~crmlab.value.backtesting.backtest`, ``wins`` and ``compared`` from
    :func:`~crmlab.value.backtesting.backtest_rank_wins`.
    """
    ok = summary.dropna(subset=["rmse_benchmark"])
    failed = info[info["benchmark_error"].notna()]
    return (
        f"at {wins} of {compared} cut-offs ({_dates(summary['origin'])}) "
        "the chosen model ranks customers at least as well as the benchmark (Spearman and top-decile share); "
        f"its RMSE ranges from {ok['rmse_ratio'].min() - 1:+.1%} to {ok['rmse_ratio'].max() - 1:+.1%} of the "
        f"benchmark's, and its total error from {summary['aggregate_error_chosen'].min():+.1%} to "
        f"{summary['aggregate_error_chosen'].max():+.1%} - the level moves with the season the holdout holds."
        + "".join(f" The benchmark failed at {r.origin:%Y-%m-%d}: {r.benchmark_error}." for r in failed.itertuples())
    )


def no_backtest() -> str:
    """Said when the backtest is switched off."""
    return "No backtest: `value.backtest_origins` is 0."


def clv_reading(summary: Mapping[str, float], as_of: Any, value: Mapping[str, Any], chosen: str,
                glm_weight: float, clv_error: str | None, currency: str = "") -> str:
    """Say what the base is worth from ``as_of`` and how concentrated it is.

    ``summary`` is :func:`~crmlab.value.clv.clv_summary`; ``value`` the params ``value``
    block (``horizon_months``, ``margin``, ``annual_discount_rate``).
    """
    money = currency or ""
    s = summary
    day = pd.Timestamp(as_of)
    return (
        f"As of **{day:%Y-%m-%d}** (the end of the data), over the next {value['horizon_months']} months at a "
        f"{value['margin']:.0%} margin and {value['annual_discount_rate']:.0%} a year discounting, the "
        f"{s['customers']:,} customers are worth **{money}{s['total']:,.0f}** (mean {money}{s['mean']:,.2f}, "
        f"median {money}{s['median']:,.2f}); the top 10% of customers hold **{s['top_decile_share']:.0%}** of it. "
        f"The {chosen} model was refitted on the data up to {day:%Y-%m-%d} for this (correction weight "
        f"w = {glm_weight:.2f}, as tuned above)."
        + (f" The benchmark failed at that date ({clv_error}); its timing is replaced by an even spread."
           if clv_error else "")
    )


def tiers_takeaway(up: int, down: int, as_of: Any) -> str:
    """How many customers forecast CLV moves up (undervalued by history) and down."""
    return (
        f"at {pd.Timestamp(as_of):%Y-%m-%d}, **{up:,} customers** move up a tier when judged by forecast CLV "
        f"(undervalued by history) and {down:,} move down (their spending is behind them)."
    )


def products_written(customers: int, calibration_end: Any, observation_end: Any, chosen: str) -> str:
    """Say what the stage wrote."""
    return (
        f"Wrote `value_predictions.parquet` ({customers:,} customers: holdout forecasts made at "
        f"{pd.Timestamp(calibration_end):%Y-%m-%d}, `clv` as of {pd.Timestamp(observation_end):%Y-%m-%d}) "
        f"and `value_metrics.json` (chosen: {chosen})."
    )


def selection_rule(select_by: str, higher_is_better: bool, windows: int) -> str:
    """State the rule of the choice, as ``value_metrics.json`` records it (``selection.rule``)."""
    return (f"{CHOSEN_MODEL} (interpretable by design); the weight of its correction of the benchmark "
            + ("highest" if higher_is_better else "lowest")
            + f" mean validation {select_by} over {windows} windows")
