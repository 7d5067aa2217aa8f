"""The churn stage's results as :class:`~crmlab.display.Display` objects: compute, word, draw.

Each function computes one result, takes its sentence from :mod:`crmlab.churn.narrative`
and draws it with :mod:`crmlab.churn.plotting`; the display's name is the file stem its
figure (and table, where the chapter saves one) has always had. In the notebook::

    ctx.show(churn.roc_display(models, tr=ctx.tr))

Every function takes ``tr`` (the run's catalog, English by default) and passes it on to the
sentence and the figure.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import pandas as pd

from crmlab.churn import narrative
from crmlab.churn.backtest import comparison_table
from crmlab.churn.data import ChurnTable
from crmlab.churn.evaluation import (
    capacity_summary,
    churn_gains,
    curve_points,
    level_name,
    odds_ratio_table,
    reliability_table,
)
from crmlab.churn.metrics import warning_metrics
from crmlab.churn.model import ChurnModels
from crmlab.churn.plotting import (
    plot_backtest_comparison,
    plot_calibration_curve,
    plot_cumulative_gains,
    plot_gap_ratios,
    plot_lift_by_decile,
    plot_odds_ratios,
    plot_pr_curves,
    plot_probability_by_class,
    plot_roc_curves,
    plot_warning_backtest,
)
from crmlab.churn.risk import CHURNED
from crmlab.display import Display
from crmlab.i18n import EN, Catalog

__all__ = [
    "odds_ratios_display",
    "roc_display",
    "pr_display",
    "calibration_display",
    "gains_display",
    "lift_display",
    "probability_display",
    "gap_ratios_display",
    "backtest_display",
    "backtest_comparison_display",
    "call_list_view",
    "column_labels",
    "typing_view",
    "model_choice_view",
    "watch_list_view",
]

_COMPARED = ["logistic", "gradient_boosting"]


def odds_ratios_display(models: ChurnModels, table: ChurnTable, tr: Catalog = EN) -> Display:
    """Odds ratios of the logistic model (training rows), with the suppression check.

    ``data["odds"]`` is :func:`~crmlab.churn.evaluation.odds_ratio_table`, also saved as
    the table ``churn_odds_ratios``.
    """
    logit = models.fitted["logistic"]
    odds = odds_ratio_table(logit, table, rows=models.split == "train", tr=tr)
    return Display(
        name="churn_odds_ratios",
        takeaway=narrative.odds_takeaway(odds, logit.named_steps["dedup"].dropped_, tr=tr),
        draw=partial(plot_odds_ratios, odds, tr=tr),
        table=odds,
        data={"odds": odds},
    )


def _test_points(models: ChurnModels) -> pd.DataFrame:
    test = models.test
    return curve_points(test["actual"], test[_COMPARED])


def roc_display(models: ChurnModels, tr: Catalog = EN) -> Display:
    """ROC curves of both models on the test split (``data["points"]``)."""
    points = _test_points(models)
    return Display(
        name="churn_roc",
        takeaway=narrative.roc_takeaway(models.metrics, models.chosen, tr=tr),
        draw=partial(plot_roc_curves, points, tr=tr),
        data={"points": points},
    )


def pr_display(models: ChurnModels, tr: Catalog = EN) -> Display:
    """Precision-recall curves of both models on the test split, against the churn rate."""
    points = _test_points(models)
    base_rate = models.test["actual"].mean()
    return Display(
        name="churn_pr",
        takeaway=narrative.pr_takeaway(models.metrics, base_rate, tr=tr),
        draw=partial(plot_pr_curves, points, base_rate=base_rate, tr=tr),
        data={"points": points},
    )


def calibration_display(models: ChurnModels, tr: Catalog = EN) -> Display:
    """Reliability diagram on the test split: both models and, when recalibrated, the final scores.

    ``data["curves"]`` maps ``logistic``, ``gradient_boosting`` and ``final`` to their
    reliability tables; the final curve is drawn only when it differs from the chosen
    model's (recalibration on).
    """
    test = models.test
    curves = {name: reliability_table(test["actual"], test[name]) for name in [*_COMPARED, "final"]}
    drawn = dict(curves)
    if not models.calibration["method"]:
        del drawn["final"]  # same as the chosen model's curve
    return Display(
        name="churn_calibration",
        takeaway=narrative.calibration_takeaway(narrative.calibration_reason(models.calibration, tr),
                                                models.metrics, curves, tr=tr),
        draw=partial(plot_calibration_curve, drawn, tr=tr),
        data={"curves": curves},
    )


def gains_display(models: ChurnModels, capacity: float, tr: Catalog = EN) -> Display:
    """Cumulative gains of the final scores on the test split, with the team's capacity.

    ``data["gains"]`` is :func:`~crmlab.churn.evaluation.churn_gains` (saved as the table
    ``churn_gains``), ``data["capacity"]`` :func:`~crmlab.churn.evaluation.capacity_summary`.
    """
    test = models.test
    gains = churn_gains(test["actual"], test["final"])
    cap = capacity_summary(test["actual"], test["final"], capacity)
    return Display(
        name="churn_gains",
        takeaway=narrative.capacity_takeaway(cap, tr=tr),
        draw=partial(plot_cumulative_gains, gains, capacity=capacity, tr=tr),
        table=gains,
        data={"gains": gains, "capacity": cap},
    )


def lift_display(gains: pd.DataFrame, tr: Catalog = EN) -> Display:
    """Lift by risk decile, from :func:`~crmlab.churn.evaluation.churn_gains`."""
    return Display(
        name="churn_lift",
        takeaway=narrative.lift_takeaway(gains, tr=tr),
        draw=partial(plot_lift_by_decile, gains, tr=tr),
    )


def probability_display(scores: pd.DataFrame, thresholds: dict, table: ChurnTable, tr: Catalog = EN) -> Display:
    """Out-of-sample churn probability by actual outcome, with the band thresholds.

    ``scores`` and ``thresholds`` are :func:`~crmlab.churn.risk.churn_scores`' result.
    """
    return Display(
        name="churn_probability_by_class",
        takeaway=narrative.bands_takeaway(scores, thresholds, CHURNED, tr=tr),
        draw=partial(
            plot_probability_by_class,
            scores["churn_probability"],
            scores["actual"],
            thresholds={"high": thresholds["high"], "medium": thresholds["medium"]},
            labels=(tr("churn.plot.current_customers", label=level_name(table.labels["negative"], tr)),
                    tr("churn.plot.already_churned", label=level_name(table.labels["positive"], tr))),
            tr=tr,
        ),
    )


def gap_ratios_display(warning: pd.DataFrame, params: Any, as_of_source: str, horizon: int,
                       tr: Catalog = EN) -> Display:
    """Repeat buyers' gap ratios by warning status; ``data["metrics"]`` is :func:`warning_metrics`.

    ``params`` is the validated ``churn_warning`` section.
    """
    wm = warning_metrics(warning, params)
    return Display(
        name="churn_gap_ratios",
        takeaway=narrative.warning_takeaway(wm, as_of_source, horizon, tr=tr),
        draw=partial(plot_gap_ratios, warning, params.gap_factor, tr=tr),
        data={"metrics": wm},
    )


def backtest_display(backtest: dict, tr: Catalog = EN) -> Display:
    """Share who bought nothing in the holdout, flagged vs all (:func:`warning_backtest`)."""
    return Display(
        name="churn_warning_backtest",
        takeaway=narrative.backtest_takeaway(backtest, tr=tr),
        draw=partial(plot_warning_backtest, backtest, tr=tr),
    )


def backtest_comparison_display(comparison: dict, tr: Catalog = EN) -> Display:
    """Backtest with and without interaction signals (:func:`backtest_comparison`).

    Its table is :func:`~crmlab.churn.backtest.comparison_table` (saved beside the figure).
    """
    return Display(
        name="churn_warning_backtest_interactions",
        takeaway=narrative.signals_backtest_takeaway(comparison, tr=tr),
        draw=partial(plot_backtest_comparison, comparison, tr=tr),
        table=comparison_table(comparison, tr=tr).reset_index(),
    )


def column_labels(frame: pd.DataFrame, tr: Catalog = EN) -> pd.DataFrame:
    """Return ``frame`` with its columns headed in the language of ``tr``, for display.

    A column with a heading in the catalog (``churn.column.<name>``) gets it; any other
    column keeps its name. In English every heading is the column's own name.
    """
    def label(c: Any) -> Any:
        key = f"churn.column.{c}"
        return tr(key) if tr.has(key) else c

    return frame.rename(columns=label)


# What the typing did to a column (crmlab.churn.data), one pattern per phrase: the phrases of
# an ``action`` are joined by "; " (none inside the parentheses)
_ACTIONS = [
    (r"left out: constant", "constant", ()),
    (r"0/1 flag", "flag", ()),
    (r"left out: identifier \(every value distinct\)", "identifier", ()),
    (r"number", "number", ()),
    (r"(?P<n>\d+) non-numeric cell\(s\) set missing", "invalid", ("n",)),
    (r"(?P<n>\d+) blank\(s\) set to (?P<value>\S+) \(churn\.fill_blanks\)", "filled", ("n", "value")),
    (r"missing imputed with the training mode", "impute_mode", ()),
    (r"missing imputed with the training mean, plus a missing flag", "impute_mean", ()),
    (r"(?P<n>\d+) negative value\(s\): check", "negative", ("n",)),
    (r"yes/no -> 1/0", "yes_no", ()),
    (r"left out: identifier-like \((?P<levels>\d+) levels; churn\.max_levels=(?P<max>\d+)\)", "id_like",
     ("levels", "max")),
    (r"category", "category", ()),
    # the level is written as its repr ('(missing)'); shown by level_name (the lab's word)
    (r"blanks kept as level (?P<level>'[^'\\]*')", "blank_level", ("level",)),
    (r"left out: copies the target \(every level has one outcome\) - a leak", "leak", ()),
]


def _action_words(action: Any, tr: Catalog) -> Any:
    """Word an ``action`` of the typing table in the language of ``tr`` (an unknown phrase stays)."""
    if not isinstance(action, str) or not action:
        return action
    words = []
    for phrase in re.split(r"; (?![^(]*\))", action):
        for pattern, key, fields in _ACTIONS:
            m = re.fullmatch(pattern, phrase)
            if m:
                values = {f: m.group(f) for f in fields}
                if "level" in values:
                    values["level"] = level_name(values["level"][1:-1], tr)
                words.append(tr(f"churn.action.{key}", **values))
                break
        else:
            words.append(phrase)
    return tr("churn.semi").join(words)


def typing_view(types: pd.DataFrame, tr: Catalog = EN) -> pd.DataFrame:
    """Return the typing table (:attr:`ChurnTable.types`) to show.

    Kinds, actions and headings are in the language of ``tr`` (in English it is the table
    itself). The saved table keeps its codes.
    """
    out = types.copy()
    if "kind" in out.columns:
        out["kind"] = [tr(f"churn.kind.{k}") if tr.has(f"churn.kind.{k}") else k for k in out["kind"]]
    if "action" in out.columns:
        out["action"] = [_action_words(a, tr) for a in out["action"]]
    return column_labels(out, tr)


def model_choice_view(cv_summary: pd.DataFrame, tr: Catalog = EN) -> pd.DataFrame:
    """Return the cross-validation summary to show: model names and headings in the language of ``tr``."""
    out = cv_summary.copy()
    if "model" in out.columns:
        out["model"] = [tr(f"churn.model_code.{m}") if tr.has(f"churn.model_code.{m}") else m
                        for m in out["model"]]
    return column_labels(out, tr)


def watch_list_view(risks: pd.DataFrame, rows: int = 15, tr: Catalog = EN) -> pd.DataFrame:
    """Return the first ``rows`` of the risk list (:func:`~crmlab.churn.risk.risk_list`) to show.

    Risk bands and headings are in the language of ``tr`` (in English it is the list itself).
    """
    out = risks.head(rows).copy()
    if "risk_band" in out.columns:
        out["risk_band"] = [tr.name("risk_band", b) for b in out["risk_band"]]
    return column_labels(out, tr)


def call_list_view(call_list: pd.DataFrame, money: str, rows: int = 15, tr: Catalog = EN) -> Any:
    """Format the first ``rows`` of the warning's call list as a table (a pandas Styler).

    Its headings are in the language of ``tr`` (:func:`column_labels`).
    """
    shown = ["rank", "customer_id", "days_since_last", "gap_ratio", "lapse_probability",
             "priority_value", "reason"]
    formats = {"priority_value": lambda v: f"{money}{v:,.2f}", "gap_ratio": "{:.1f}",
               "lapse_probability": "{:.0%}", "days_since_last": "{:,.0f}"}
    heading = column_labels(pd.DataFrame(columns=list(formats)), tr).columns
    return column_labels(call_list[shown].head(rows), tr).style.format(
        dict(zip(heading, formats.values(), strict=True))
    ).hide(axis="index")
