"""Figures of the value stage: every function takes computed results and ``ax=None``.

Each sets its title and axis labels (with units) and returns the Axes (or the array of
Axes); the takeaway above a figure comes from :mod:`crmlab.value.narrative`, and saving
is :meth:`crmlab.context.StageContext.show`'s job.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from crmlab.formatting import format_money, money_axis
from crmlab.i18n import EN, Catalog
from crmlab.plotting import count_heatmap, get_ax

__all__ = [
    "plot_value_deciles",
    "plot_value_gains",
    "plot_value_tracking",
    "plot_value_residuals",
    "plot_value_backtest",
    "plot_value_tiers",
    "plot_glm_coefficients",
]

#: One colour per model, the same in every figure of the stage.
_MODEL_COLOURS = {
    "naive": "#7f7f7f",
    "bgnbd_gg": "#c0504d",
    "glm_tweedie": "#4f81bd",
    "gbm": "#9bbb59",
    "ensemble": "#8064a2",
}


def _unit(currency: str, tr: Catalog) -> str:
    """Return the currency for an axis label, or the words for currency units."""
    return currency.strip() or tr("value.currency_units")


def _feature(feature, label, tr: Catalog) -> str:
    key = f"value.feature.{feature}"
    return tr(key) if tr.has(key) else str(label)


def _model(model, tr: Catalog) -> str:
    from crmlab.value.narrative import model_name

    return model_name(model, tr)
def plot_value_deciles(deciles, model="", ax=None, currency="", tr: Catalog = EN):
    """Bars of mean actual holdout spend per predicted decile, with the mean forecast.

    ``deciles`` is ``crmlab.value.decile_table`` output (decile 1 = highest forecasts);
    ``tr`` the run's catalog (``ctx.tr``).
    """
    ax = get_ax(ax, figsize=(7, 4))
    x = deciles["decile"].to_numpy()
    ax.bar(x, deciles["mean_actual"], color="#d9d9d9", edgecolor="#7f7f7f", label=tr("value.plot.deciles_actual"))
    ax.plot(x, deciles["mean_predicted"], marker="o", color=_MODEL_COLOURS.get(model, "#4f81bd"),
            label=tr("value.plot.deciles_forecast"))
    ax.set_xticks(x)
    ax.set_title(tr("value.plot.deciles_title_model", model=_model(model, tr)) if model
                 else tr("value.plot.deciles_title"))
    ax.set_xlabel(tr("value.plot.deciles_x"))
    ax.set_ylabel(tr("value.plot.deciles_y", unit=_unit(currency, tr)))
    money_axis(ax, currency)
    ax.legend(frameon=False)
    return ax


def plot_value_gains(gains, reference="bgnbd_gg", ax=None, tr: Catalog = EN):
    """Gains over the benchmark: extra share of holdout spend each model's list reaches.

    ``gains`` is ``crmlab.value.gains_table`` output: ``customer_share``, one column per
    model and ``perfect``. The cumulative gains curves of good models lie within a point
    of each other and cannot be told apart; their difference from the ``reference``
    (benchmark) list can. The hindsight list is drawn as a ceiling when it fits. ``tr``:
    the run's catalog (``ctx.tr``).
    """
    ax = get_ax(ax, figsize=(8, 4.8))
    x = gains["customer_share"].to_numpy() * 100
    base = gains[reference].to_numpy() * 100
    for col in gains.columns:
        if col in ("customer_share", "perfect", reference):
            continue
        diff = gains[col].to_numpy() * 100 - base
        ax.plot(x, diff, lw=1.8, color=_MODEL_COLOURS.get(col), label=_model(col, tr))
    ax.axhline(0, color=_MODEL_COLOURS.get(reference, "grey"), lw=1.4, ls="--",
               label=tr("value.plot.gains_reference", model=_model(reference, tr)))
    ax.axvline(10, color="grey", lw=0.6, ls=":")
    ax.set_xlim(0, 100)
    ax.set_title(tr("value.plot.gains_title"), fontsize=11)
    ax.set_xlabel(tr("value.plot.gains_x"))
    ax.set_ylabel(tr("value.plot.gains_y"))
    ax.legend(frameon=False, fontsize=8, loc="best")
    return ax


def plot_value_tracking(tracking, ax=None, currency="", tr: Catalog = EN):
    """Cumulative holdout spend week by week: actual (black) against each model's forecast.

    ``tracking`` is ``crmlab.value.weekly_tracking`` output; ``tr`` the run's catalog.
    """
    ax = get_ax(ax, figsize=(8, 4.5))
    x = tracking["week_end"]
    ax.plot(x, tracking["actual"], color="black", lw=2.4, label=tr("value.plot.tracking_actual"))
    for col in tracking.columns:
        if col in ("week", "week_end", "actual"):
            continue
        ax.plot(x, tracking[col], lw=1.4, ls="--", color=_MODEL_COLOURS.get(col), label=_model(col, tr))
    ax.set_title(tr("value.plot.tracking_title"))
    ax.set_xlabel(tr("value.plot.tracking_x"))
    ax.set_ylabel(tr("value.plot.tracking_y", unit=_unit(currency, tr)))
    money_axis(ax, currency)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    ax.figure.autofmt_xdate()
    return ax


def plot_value_residuals(actual, predicted, model="", ax=None, currency="", bins=10, tr: Catalog = EN):
    """Mean residual (actual - forecast) per forecast group, with its 95% interval.

    Customers are sorted by forecast into ``bins`` groups of equal size; a bar above zero
    means the model under-forecast that group on average (bias), the whisker the
    uncertainty of that mean. Individual residuals are not drawn: most customers spend
    nothing, a few a lot, and a cloud of 20,000 such points says only that. ``tr``: the
    run's catalog (``ctx.tr``).
    """
    ax = get_ax(ax, figsize=(8, 4.5))
    y = np.asarray(actual, dtype=float)
    p = np.asarray(predicted, dtype=float)
    r = y - p
    order = np.argsort(p, kind="stable")
    groups = np.array_split(order, bins)
    means = np.array([r[g].mean() for g in groups])
    ci = np.array([1.96 * r[g].std(ddof=1) / np.sqrt(len(g)) if len(g) > 1 else 0.0 for g in groups])
    labels = [f"{format_money(p[g].min(), currency)}-{format_money(p[g].max(), currency)}" for g in groups]
    x = np.arange(len(groups))
    colours = ["#c0504d" if m < 0 else "#4f81bd" for m in means]
    ax.bar(x, means, color=colours, alpha=0.8, yerr=ci, ecolor="#404040", capsize=3)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(x, labels, rotation=35, ha="right", fontsize=8)
    ax.set_title(tr("value.plot.residuals_title_model", model=_model(model, tr)) if model
                 else tr("value.plot.residuals_title"))
    ax.set_xlabel(tr("value.plot.residuals_x", unit=_unit(currency, tr), bins=bins))
    ax.set_ylabel(tr("value.plot.residuals_y", unit=_unit(currency, tr)))
    money_axis(ax, currency)
    return ax


def plot_value_backtest(table, axes=None, currency="", tr: Catalog = EN):
    """Small multiples: RMSE, Spearman, top-decile share and total error at every cut-off.

    ``table`` is ``crmlab.value.backtest`` output (``origin``, ``model``, the metrics,
    ``chosen``). The chosen model of each cut-off is one line, the benchmark another,
    the other regression models thin lines behind them. ``tr``: the run's catalog.
    """
    if axes is None:
        _, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True)
    axes = list(getattr(axes, "flat", axes))
    t = table.assign(origin=pd.to_datetime(table["origin"]))
    panels = [("rmse", tr("value.plot.backtest_rmse", unit=_unit(currency, tr)), 1),
              ("spearman", tr("value.plot.backtest_spearman"), 1),
              ("top_decile_share", tr("value.plot.backtest_top_decile"), 100),
              ("aggregate_error", tr("value.plot.backtest_total_error"), 100)]
    chosen = t[t["chosen"]].sort_values("origin")
    bench = t[t["model"] == "bgnbd_gg"].sort_values("origin")
    for ax, (col, label, k) in zip(axes, panels, strict=False):
        for m in ("glm_tweedie", "gbm", "ensemble"):
            d = t[t["model"] == m].sort_values("origin")
            if d.empty or d["chosen"].all():  # drawn as the chosen model
                continue
            ax.plot(d["origin"], d[col] * k, lw=0.8, alpha=0.5, color=_MODEL_COLOURS.get(m), label=_model(m, tr))
        ax.plot(bench["origin"], bench[col] * k, marker="s", lw=1.8, color=_MODEL_COLOURS["bgnbd_gg"],
                label=tr("value.plot.backtest_benchmark", model=_model("bgnbd_gg", tr)))
        ax.plot(chosen["origin"], chosen[col] * k, marker="o", lw=2.2, color="black", label=tr("value.plot.backtest_chosen"))
        if col == "aggregate_error":
            ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(label, fontsize=10)
        ax.set_ylabel(label)
    ticks = sorted(t["origin"].unique())
    for ax in axes:
        ax.set_xticks(ticks, [f"{pd.Timestamp(d):%Y-%m-%d}" for d in ticks])
    for ax in axes[2:]:
        ax.set_xlabel(tr("value.plot.backtest_x"))
        ax.tick_params(axis="x", rotation=35)
    axes[0].legend(frameon=False, fontsize=7, loc="best")
    axes[0].figure.suptitle(tr("value.plot.backtest_title"))
    axes[0].figure.tight_layout()
    return axes


def plot_value_tiers(crosstab, ax=None, tr: Catalog = EN):
    """Heatmap: customers by value tier from past spend (rows) and from forecast CLV (columns).

    Cells above the diagonal (forecast tier better than past tier) are outlined: the
    customers history alone undervalues. Tier names are shown through ``tr`` (the run's
    catalog, ``common.tier``).
    """
    ax = get_ax(ax, figsize=(5.5, 4.2))
    n = crosstab.shape[0]
    rows = crosstab.to_numpy(dtype=float)
    # colour by share of the row, so the big 'low' tier does not wash out the others
    colour = rows / np.maximum(rows.sum(axis=1, keepdims=True), 1)
    shown = crosstab.rename(index=lambda v: tr.name("tier", v), columns=lambda v: tr.name("tier", v))
    image = count_heatmap(ax, shown, highlight=[(i, j) for i in range(n) for j in range(n) if j < i],
                     colour=colour)
    ax.figure.colorbar(image, ax=ax, label=tr("value.plot.tiers_colourbar"))
    ax.set_title(tr("value.plot.tiers_title"))
    ax.set_xlabel(tr("value.plot.tiers_x"))
    ax.set_ylabel(tr("value.plot.tiers_y"))
    return ax


def plot_glm_coefficients(coefficients, ax=None, tr: Catalog = EN):
    """Dot-and-whisker plot of GLM coefficients (elasticities), without the constant.

    ``coefficients`` is ``TweedieGLM.coefficients()`` output; its ``label`` column (business
    words) names the rows when present; ``tr`` (the run's catalog) names an input it knows
    (``value.feature.<input>``: in English the same words as the label).
    """
    ax = get_ax(ax, figsize=(7.5, 4))
    df = coefficients[coefficients["feature"] != "const"].iloc[::-1]
    names = df["label"] if "label" in df else df["feature"]
    names = [_feature(f, n, tr) for f, n in zip(df["feature"], names, strict=True)]
    y = range(len(df))
    ax.errorbar(df["coef"], y, xerr=[df["coef"] - df["ci_low"], df["ci_high"] - df["coef"]],
                fmt="o", color="#4f81bd", ecolor="#7f7f7f", capsize=3)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(list(y), names)
    ax.set_title(tr("value.plot.glm_title"), fontsize=11)
    ax.set_xlabel(tr("value.plot.glm_x"))
    ax.set_ylabel(tr("value.plot.glm_y"))
    return ax


