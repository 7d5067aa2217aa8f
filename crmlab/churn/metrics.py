"""What ``churn_metrics.json`` holds: the labelled model's and the warning's numbers, together.

Plain dicts of plain numbers (JSON-ready), assembled from the results of
:mod:`crmlab.churn.model`, :mod:`crmlab.churn.risk`, :mod:`crmlab.churn.warning` and
:mod:`crmlab.churn.backtest`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from crmlab.churn.data import ChurnTable
from crmlab.churn.evaluation import capacity_summary
from crmlab.churn.model import ChurnModels
from crmlab.churn.risk import BANDS, CHURNED
from crmlab.errors import require_columns

__all__ = ["labelled_metrics", "warning_metrics", "churn_metrics"]


def labelled_metrics(
    table: ChurnTable,
    models: ChurnModels,
    scores: pd.DataFrame,
    thresholds: Mapping[str, Any],
    capacity: float,
) -> dict[str, Any]:
    """Assemble the labelled part of ``churn_metrics.json``.

    Returns
    -------
    dict
        Per model on the test split ``{roc_auc, pr_auc, brier}`` under its name; ``models``
        (names, simplest first); ``chosen``; ``final`` (the scorer actually used: the chosen
        model, recalibrated or not); ``cv`` (the training-only scores behind the choice);
        ``calibration``; ``capacity`` (:func:`capacity_summary` on the test split: an
        evaluation, it counts churners caught); ``risk_bands`` (thresholds set on current
        customers; counts per band, ``churned`` last); ``current_customers`` (how many are
        still here, how many of them are ``high``: the action KPIs); ``rows``; ``left_out`` (feature columns
        left out by typing and by the collinearity guard, with why).

    Raises
    ------
    InputError
        When ``scores`` lacks ``risk_band``.
    """
    require_columns(scores, ["risk_band", "split"], "scores")
    names = list(models.fitted)
    test = models.test
    cv = {"metric": "roc_auc", "folds": int(models.cv_summary["folds"].iloc[0]),
          "rule": "best mean, or a simpler model within one standard error of it"}
    for _, row in models.cv_summary.iterrows():
        cv[row["model"]] = {"mean": float(row["mean"]), "std": float(row["std"]),
                            "se": float(row["se"])}
    typing = table.types[table.types["kind"] == "excluded"]
    left_out = {str(c): str(a) for c, a in zip(typing["column"], typing["action"], strict=True)}
    dedup = models.fitted["logistic"].named_steps["dedup"]
    left_out.update({f"logistic: {k}": v for k, v in dedup.dropped_.items()})
    counts = scores["risk_band"].astype(str).value_counts()
    current = scores["risk_band"].astype(str) != CHURNED
    out: dict[str, Any] = {"labelled": True, "models": names}
    out.update({n: models.metrics[n] for n in names})
    out["chosen"] = models.chosen
    out["final"] = {**models.metrics["final"], "calibration": models.calibration["method"]}
    out["cv"] = cv
    out["calibration"] = {k: models.calibration[k] for k in ("ece", "brier", "method", "reason")}
    out["capacity"] = capacity_summary(test["actual"], test["final"], capacity)
    out["risk_bands"] = {**dict(thresholds),
                         "counts": {b: int(counts.get(b, 0)) for b in [*reversed(BANDS), CHURNED]}}
    prob = scores.loc[current, "churn_probability"] if "churn_probability" in scores else None
    out["current_customers"] = {
        "customers": int(current.sum()),
        "high": int(counts.get("high", 0)),
        "scores": "out of fold (training rows) or held out (test rows)",
        "mean_probability": float(prob.mean()) if prob is not None and len(prob) else None,
    }
    out["rows"] = {"total": int(len(scores)), "train": int((scores["split"] == "train").sum()),
                   "test": int((scores["split"] == "test").sum()),
                   "churned": int((~current).sum()),
                   "churn_rate": float(table.target.mean())}
    out["left_out"] = left_out
    return out


def warning_metrics(warning: pd.DataFrame, params: Any) -> dict[str, Any]:
    """Assemble the transactional part of ``churn_metrics.json``: who is warned, why, as of when.

    Raises
    ------
    InputError
        When a column of :func:`transactional_warning` is missing.
    """
    require_columns(warning, ["as_of", "warning", "candidate", "overdue", "low_p_alive", "gap_basis",
                              "typical_gap", "p_alive", "one_time_buyer"], "warning table")
    fallback = warning.loc[warning["gap_basis"] != "own", "typical_gap"]
    one = warning["one_time_buyer"].astype(bool)
    bg = warning.attrs.get("bgnbd") or {}
    out = {
        "as_of": f"{pd.Timestamp(warning['as_of'].iloc[0]):%Y-%m-%d}" if len(warning) else None,
        "customers": int(len(warning)),
        "candidates": int(warning["candidate"].sum()),
        "warned": int(warning["warning"].sum()),
        "capacity": float(params.capacity),
        "overdue": int(warning["overdue"].sum()),
        "low_p_alive": int(warning["low_p_alive"].sum()),
        "one_time_buyers": int(one.sum()),
        "one_time_buyers_p_alive_one": int((warning.loc[one, "p_alive"] >= 1 - 1e-12).sum()),
        "one_time_gap_days": float(fallback.iloc[0]) if len(fallback) else None,
        "p_alive_available": bool(warning["p_alive"].notna().any()),
        "horizon_days": warning.attrs.get("horizon_days"),
        "bgnbd": {k: v for k, v in bg.items()} or None,
        "gap_factor": float(params.gap_factor),
        "p_alive_threshold": float(params.p_alive_threshold),
    }
    if "interaction_signal" in warning.columns:  # only with interaction features: else unchanged
        sig = warning["interaction_signal"].astype(bool)
        out["interaction_signals"] = {
            "rising_complaints": int(warning["rising_complaints"].sum()),
            "falling_sentiment": int(warning["falling_sentiment"].sum()),
            "any": int(sig.sum()),
            "warned_with_signal": int((sig & warning["warning"]).sum()),
            "candidates_by_signal_only": int((sig & ~(warning["overdue"] | warning["low_p_alive"])).sum()),
            **warning.attrs.get("interaction_signals", {}),
        }
    return out


def churn_metrics(
    labelled: Mapping[str, Any] | None,
    warning: Mapping[str, Any] | None,
    call_list: pd.DataFrame | None,
    backtest: Mapping[str, Any] | None,
    backtest_interactions: Mapping[str, Any] | None = None,
    ranking: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble ``churn_metrics.json`` from its parts; a part that did not run is None.

    Parameters
    ----------
    labelled : dict or None
        :func:`labelled_metrics`, or None without a labelled table.
    warning : dict or None
        :func:`warning_metrics`, or None without transactions.
    call_list : DataFrame or None
        :func:`crmlab.churn.warning.warning_call_list`, with ``warning``; its length is
        stored under the product's existing key ``watch_list``.
    backtest : dict or None
        :func:`crmlab.churn.backtest.warning_backtest`, or None.
    backtest_interactions : dict or None
        :func:`crmlab.churn.backtest.backtest_comparison` when interaction features were
        there; stored under ``warning_backtest_interactions`` (the key is absent otherwise,
        so a run without the interactions stage writes the same product as before).
    ranking : dict or None
        :func:`crmlab.churn.ranking.ranking_decision` when the warning had interaction
        signals: which ranking it used, the rule, the two precisions and the interval;
        stored under ``warning_ranking`` (absent otherwise, for the same reason).

    Returns
    -------
    dict
        The labelled part (``{"labelled": False, "chosen": None}`` without one), then
        ``transactional`` and ``warning_backtest``.

    Raises
    ------
    ValueError
        When ``warning`` is given without ``call_list``.
    """
    out: dict[str, Any] = dict(labelled) if labelled is not None else {"labelled": False, "chosen": None}
    if warning is not None:
        if call_list is None:
            raise ValueError("churn_metrics: the warning's call list is missing")
        out["transactional"] = {**warning, "watch_list": int(len(call_list))}
        out["warning_backtest"] = dict(backtest) if backtest is not None else None
        if backtest_interactions is not None:
            out["warning_backtest_interactions"] = dict(backtest_interactions)
        if ranking is not None:
            out["warning_ranking"] = dict(ranking)
    else:
        out["transactional"] = None
        out["warning_backtest"] = None
    return out
