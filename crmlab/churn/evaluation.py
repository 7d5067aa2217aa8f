"""How good the churn model is, and what it says: ROC/PR, gains, calibration, odds ratios.

Everything here reads outcomes and probabilities (or the fitted logistic pipeline) and
returns plain tables or numbers: the reliability table and its expected calibration error,
ROC and precision-recall points, churners caught by risk decile (:func:`churn_gains`), what
the team's capacity catches, and the logistic model's odds ratios and per-customer
contributions.

References
----------
Niculescu-Mizil, A. & Caruana, R. (2005). Predicting good probabilities with supervised
learning. ICML (reliability diagrams).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import Pipeline

from crmlab.churn.data import ChurnTable
from crmlab.churn.estimators import DropCollinear, StatsmodelsLogit
from crmlab.errors import InputError, require_columns
from crmlab.i18n import EN, Catalog

__all__ = [
    "reliability_table",
    "expected_calibration_error",
    "classification_metrics",
    "curve_points",
    "churn_gains",
    "capacity_summary",
    "business_name",
    "feature_name",
    "level_name",
    "odds_ratio_table",
    "logit_contributions",
]


def reliability_table(actual, probability, bins: int = 10) -> pd.DataFrame:
    """Reliability (calibration) table: predicted vs observed churn rate in probability bins.

    Bins are quantiles of the predicted probability (equal counts), so each point rests on
    the same number of customers.

    Returns
    -------
    DataFrame
        ``bin`` (1 = lowest), ``customers``, ``mean_predicted``, ``observed_rate``.

    Raises
    ------
    InputError
        When the lengths differ or there are no rows.
    """
    y = np.asarray(actual, dtype=np.float64)
    p = np.asarray(probability, dtype=np.float64)
    if len(y) != len(p) or len(y) == 0:
        raise InputError("reliability_table: actual and probability must be non-empty and of equal length")
    order = np.argsort(p, kind="stable")
    groups = np.array_split(order, min(bins, len(p)))
    return pd.DataFrame({
        "bin": np.arange(1, len(groups) + 1),
        "customers": [len(g) for g in groups],
        "mean_predicted": [p[g].mean() for g in groups],
        "observed_rate": [y[g].mean() for g in groups],
    })


def expected_calibration_error(table: pd.DataFrame) -> float:
    r"""Compute the expected calibration error of a reliability table.

    .. math:: \mathrm{ECE} = \sum_b \frac{n_b}{N}\,\lvert \bar y_b - \bar p_b \rvert

    Raises
    ------
    InputError
        When a column of :func:`reliability_table` is missing.
    """
    require_columns(table, ["customers", "mean_predicted", "observed_rate"], "reliability table")
    w = table["customers"] / table["customers"].sum()
    return float((w * (table["observed_rate"] - table["mean_predicted"]).abs()).sum())


def classification_metrics(actual, probability) -> dict[str, float]:
    """ROC AUC, PR AUC (average precision) and Brier score of probabilities.

    Raises
    ------
    InputError
        When ``actual`` holds a single class (AUCs are undefined).
    """
    y = np.asarray(actual)
    p = np.asarray(probability, dtype=np.float64)
    if len(np.unique(y)) < 2:
        raise InputError("classification_metrics: need both classes among the actual outcomes")
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
    }


def curve_points(actual, probabilities: Mapping[str, Any]) -> pd.DataFrame:
    """ROC and precision-recall curve points for several models' probabilities.

    ``probabilities`` maps a model name to its probabilities (a DataFrame with one column
    per model works too).

    Returns
    -------
    DataFrame
        ``model``, ``curve`` (``roc`` or ``pr``), ``x`` (false positive rate or recall),
        ``y`` (true positive rate or precision), ``auc`` (ROC AUC or average precision).

    Raises
    ------
    InputError
        When a single class is present.
    """
    y = np.asarray(actual)
    if len(np.unique(y)) < 2:
        raise InputError("curve_points: need both classes among the actual outcomes")
    parts = []
    for name, prob in probabilities.items():
        p = np.asarray(prob, dtype=np.float64)
        fpr, tpr, _ = roc_curve(y, p)
        prec, rec, _ = precision_recall_curve(y, p)
        parts.append(pd.DataFrame({"model": name, "curve": "roc", "x": fpr, "y": tpr,
                                   "auc": roc_auc_score(y, p)}))
        parts.append(pd.DataFrame({"model": name, "curve": "pr", "x": rec, "y": prec,
                                   "auc": average_precision_score(y, p)}))
    return pd.concat(parts, ignore_index=True)


def _top_order(probability: np.ndarray) -> np.ndarray:
    # highest first; ties keep input order so results are reproducible
    return np.argsort(-probability, kind="stable")


def churn_gains(actual, probability, bins: int = 10) -> pd.DataFrame:
    """Churners caught: cumulative gains and lift by decile of predicted risk (decile 1 = riskiest).

    Not to be confused with :func:`crmlab.value.gains_table`, the share of *spend*
    captured; here the gains are churners reached.

    Returns
    -------
    DataFrame
        ``decile``, ``customers``, ``churners``, ``churn_rate``, ``lift`` (rate / overall
        rate), ``cum_customers_share``, ``cum_churners_share`` (the gains curve),
        ``cum_lift``.

    Raises
    ------
    InputError
        When there are no churners or the lengths differ.
    """
    y = np.asarray(actual, dtype=np.float64)
    p = np.asarray(probability, dtype=np.float64)
    if len(y) != len(p) or len(y) == 0 or y.sum() == 0:
        raise InputError("churn_gains: need equal-length, non-empty inputs with at least one churner")
    groups = np.array_split(_top_order(p), min(bins, len(p)))
    customers = np.array([len(g) for g in groups])
    churners = np.array([y[g].sum() for g in groups])
    rate = y.mean()
    out = pd.DataFrame({
        "decile": np.arange(1, len(groups) + 1),
        "customers": customers,
        "churners": churners.astype(np.int64),
        "churn_rate": churners / customers,
    })
    out["lift"] = out["churn_rate"] / rate
    out["cum_customers_share"] = customers.cumsum() / customers.sum()
    out["cum_churners_share"] = churners.cumsum() / churners.sum()
    out["cum_lift"] = out["cum_churners_share"] / out["cum_customers_share"]
    return out


def capacity_summary(actual, probability, capacity: float) -> dict[str, float]:
    """Summarise what contacting the riskiest ``capacity`` share of customers would achieve.

    Returns
    -------
    dict
        ``capacity``, ``contacted`` (k = ceil(capacity x n)), ``churners_caught`` (actual
        churners among them), ``expected_churners_caught`` (sum of their probabilities: what
        a calibrated model promises before the outcome is known), ``precision_at_k``,
        ``recall_at_k``, ``lift_at_k``, ``base_rate``.

    Raises
    ------
    InputError
        When ``capacity`` is not in (0, 1] or there are no rows.
    """
    y = np.asarray(actual, dtype=np.float64)
    p = np.asarray(probability, dtype=np.float64)
    if not 0 < capacity <= 1 or len(y) == 0:
        raise InputError(f"key 'churn.capacity': {capacity} must be in (0, 1] with rows to rank")
    k = max(1, math.ceil(capacity * len(y)))
    top = _top_order(p)[:k]
    caught = float(y[top].sum())
    base = float(y.mean())
    return {
        "capacity": float(capacity),
        "contacted": int(k),
        "churners_caught": int(caught),
        "expected_churners_caught": float(p[top].sum()),
        "precision_at_k": caught / k,
        "recall_at_k": caught / y.sum() if y.sum() else float("nan"),
        "lift_at_k": (caught / k) / base if base else float("nan"),
        "base_rate": base,
    }


def _logit_parts(pipeline: Pipeline) -> tuple[StatsmodelsLogit, DropCollinear, ColumnTransformer]:
    steps = getattr(pipeline, "named_steps", {})
    if not isinstance(steps.get("model"), StatsmodelsLogit):
        raise InputError("expected a fitted pipeline from make_logit_pipeline")
    if not hasattr(steps["model"], "result_"):
        raise InputError("the logistic pipeline is not fitted yet")
    return steps["model"], steps["dedup"], steps["prep"]


def _source_of(name: str, table: ChurnTable) -> str:
    """Return the input feature a design column comes from."""
    if name in table.features.columns:
        return name
    if name.startswith("missingindicator_") and name[17:] in table.features.columns:
        return name[17:]
    matches = [c for c in table.categorical if name.startswith(f"{c}=")]
    return max(matches, key=len) if matches else name


def business_name(feature: str) -> str:
    """Return a column name in words: ``total_charges`` -> ``Total charges``."""
    text = str(feature).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def feature_name(feature: str, tr: Catalog = EN) -> str:
    """Return an input column's name for display, in the language of ``tr``.

    The columns of the bundled Telco table have names in the catalog
    (``churn.feature.<column>``: ``total_charges`` -> ``Total charges`` / ``累计收费（美元）``);
    any other column (a user's own churn table) is worded by :func:`business_name`.
    """
    key = f"churn.feature.{feature}"
    return tr(key) if tr.has(key) else business_name(feature)


def level_name(level: Any, tr: Catalog = EN) -> Any:
    """Return a category level for display, in the language of ``tr``.

    The levels of the bundled Telco table (``Month-to-month``, ``Fiber optic`` ...) and the
    lab's own blank level ``(missing)`` have names in the catalog (``churn.level.<level>``);
    any other level is returned as it is (the same object, so its ``repr`` is unchanged).
    """
    key = f"churn.level.{level}"
    return tr(key) if tr.has(key) else level


def _marginal_odds_ratios(design: pd.DataFrame, y: np.ndarray) -> pd.Series:
    """Odds ratio of each design column on its own (intercept + that column only)."""
    from statsmodels.discrete.discrete_model import Logit

    out = {}
    for col in design.columns:
        x = design[col].to_numpy(dtype=np.float64)
        if np.ptp(x) == 0:
            out[col] = np.nan
            continue
        X = np.column_stack([np.ones(len(x)), x])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                beta = Logit(y, X).fit(method="newton", maxiter=100, disp=0).params[1]
            except (np.linalg.LinAlgError, ValueError):
                beta = np.nan
        with np.errstate(over="ignore"):
            out[col] = float(np.exp(beta))
    return pd.Series(out, dtype=np.float64)


def odds_ratio_table(
    pipeline: Pipeline, table: ChurnTable, level: float = 0.95, rows=None, tr: Catalog = EN
) -> pd.DataFrame:
    """Odds ratios of the fitted logistic pipeline, with confidence intervals.

    With ``rows`` (the training rows the pipeline was fitted on), each term's odds ratio
    **on its own** is added (``alone_odds_ratio``: a logistic regression on that design
    column only) and ``suppression`` marks a term whose adjusted effect is clear and points
    the other way: it is a *suppression effect*. In Telco, ``total_charges`` is about
    ``tenure`` x the monthly price; with ``tenure`` in the model, higher total charges
    *at the same tenure* mean a higher monthly price, so its odds ratio > 1 is the price
    effect, although on its own total charges goes with *less* churn (long-standing
    customers have paid the most). Such a term is read as "what is left once the correlated
    features are held fixed", never as a cause.

    Returns
    -------
    DataFrame
        One row per design column: ``term``, ``feature`` (input column), ``label`` (the
        term in words: ``Contract: Two year``), ``unit`` (how to read it: per standard
        deviation of a number, yes vs no, or a level vs the baseline level), ``coef``,
        ``odds_ratio``, ``ci_low``, ``ci_high``, ``p_value`` and, with ``rows``,
        ``alone_odds_ratio`` and ``suppression``; sorted by odds ratio. ``label`` and ``unit``
        are for display, in the language of ``tr``: feature names by :func:`feature_name`,
        levels by :func:`level_name` (a column or level the catalog does not know stays as
        it is); ``term`` and ``feature`` keep the raw column names.

    Raises
    ------
    InputError
        When ``pipeline`` is not a fitted :func:`make_logit_pipeline`, or ``rows`` does not
        match the table.
    """
    model, dedup, prep = _logit_parts(pipeline)
    res = model.result_
    terms = ["(intercept)", *model.coef_.index]
    ci = pd.DataFrame(np.asarray(res.conf_int(alpha=1 - level)), index=terms)
    pvalues = pd.Series(np.asarray(res.pvalues), index=terms)
    scaler = prep.named_transformers_["num"].named_steps["scale"] if table.numeric else None
    onehot = prep.named_transformers_["cat"] if table.categorical else None
    rows_out = []
    for term, coef in model.coef_.items():
        feature = _source_of(term, table)
        if term in table.numeric:
            sd = float(scaler.scale_[list(table.numeric).index(term)])
            unit = tr("churn.odds.unit_sd", sd=f"{sd:,.0f}" if sd >= 100 else f"{sd:.3g}")
            label = feature_name(feature, tr)
        elif term.startswith("missingindicator_"):
            unit = tr("churn.odds.unit_missing")
            label = tr("churn.odds.label_missing", name=feature_name(feature, tr))
        elif term in table.binary:
            unit = tr("churn.odds.unit_binary")
            label = feature_name(feature, tr)
        else:
            unit = tr("churn.odds.unit_level", level=level_name(onehot.levels_[feature][0], tr))
            label = tr("churn.odds.label_level", name=feature_name(feature, tr),
                       level=level_name(term[len(feature) + 1:], tr))
        with np.errstate(over="ignore"):  # a separated level has an infinite interval
            ci_low, ci_high = np.exp(ci.loc[term].to_numpy(dtype=np.float64))
        rows_out.append({
            "term": term, "feature": feature, "label": label, "unit": unit, "coef": float(coef),
            "odds_ratio": float(np.exp(coef)),
            "ci_low": float(ci_low),
            "ci_high": float(ci_high),
            "p_value": float(pvalues[term]),
        })
    out = pd.DataFrame(rows_out)
    if rows is not None:
        mask = np.asarray(rows, dtype=bool)
        if len(mask) != len(table.features):
            raise InputError("odds_ratio_table: rows must have one entry per table row")
        design = dedup.transform(prep.transform(table.features[mask]))[list(model.coef_.index)]
        alone = _marginal_odds_ratios(design, table.target.to_numpy()[mask])
        out["alone_odds_ratio"] = alone.reindex(out["term"]).to_numpy()
        clear = (out["ci_low"] > 1) | (out["ci_high"] < 1)
        out["suppression"] = clear & (
            np.sign(np.log(out["odds_ratio"])) * np.sign(np.log(out["alone_odds_ratio"])) < 0
        )
    return out.sort_values("odds_ratio", ascending=False, kind="stable").reset_index(drop=True)


def logit_contributions(pipeline: Pipeline, table: ChurnTable, features: pd.DataFrame) -> pd.DataFrame:
    r"""Each feature's contribution to each customer's log-odds, relative to the average customer.

    .. math:: c_{ij} = \sum_{k \in \text{feature } j} \beta_k\,(x_{ik} - \bar x_k)

    with :math:`\bar x_k` the training mean of design column *k*; one-hot levels and missing
    flags are summed back to their input column. A positive value pushes the customer's
    churn odds up by a factor :math:`e^{c_{ij}}`.

    Returns
    -------
    DataFrame
        Index of ``features``, one column per input feature.

    Raises
    ------
    InputError
        When ``pipeline`` is not a fitted logistic pipeline or a feature column is missing.
    """
    model, dedup, prep = _logit_parts(pipeline)
    require_columns(features, table.features.columns, "features")
    design = dedup.transform(prep.transform(features[table.features.columns]))
    centred = design[model.coef_.index].astype(np.float64) - model.x_mean_[model.coef_.index]
    contrib = centred * model.coef_
    sources = [_source_of(t, table) for t in contrib.columns]
    out = contrib.T.groupby(sources, sort=False).sum().T
    return out.reindex(columns=[c for c in table.features.columns if c in out.columns])
