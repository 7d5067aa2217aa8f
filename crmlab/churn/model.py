"""The labelled churn model: two pipelines, chosen by cross-validation, calibrated if needed.

A statsmodels logistic regression (the explainable baseline) and a scikit-learn
gradient-boosting classifier are compared by stratified cross-validation on the training
rows only; the simpler model wins within one standard error of the best. The chosen model
is recalibrated (inside the training rows) when its cross-validated probabilities are off,
and every row is scored by a model that did not train on it.

References
----------
Hastie, T., Tibshirani, R. & Friedman, J. (2009). The Elements of Statistical Learning,
2nd ed., section 7.10 (the one-standard-error rule for model choice).
Niculescu-Mizil, A. & Caruana, R. (2005). Predicting good probabilities with supervised
learning. ICML (calibration of boosted models).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder, StandardScaler

from crmlab.churn.data import ChurnTable, split_train_test
from crmlab.churn.estimators import BaselineOneHot, DropCollinear, StatsmodelsLogit
from crmlab.churn.evaluation import (
    classification_metrics,
    expected_calibration_error,
    reliability_table,
)
from crmlab.errors import InputError, require_columns

__all__ = [
    "make_logit_pipeline",
    "make_boosting_pipeline",
    "make_models",
    "cross_validate_models",
    "cross_fitted_probability",
    "choose_model",
    "calibration_decision",
    "calibrate",
    "ChurnModels",
    "fit_churn_models",
]


def _kinds(table: ChurnTable) -> tuple[list[str], list[str], list[str]]:
    return list(table.numeric), list(table.binary), list(table.categorical)


def make_logit_pipeline(table: ChurnTable, max_vif: float | None) -> Pipeline:
    """Build encoding + redundant-column guard + statsmodels logistic regression as one pipeline.

    Numeric features are standardised (odds ratios per standard deviation) and then missing
    values set to 0, i.e. the training mean, with a 0/1 missing flag that stays unscaled;
    binary features stay 0/1 (odds ratio = yes vs no; missing -> training mode);
    categorical features are one-hot encoded against their most frequent level; then
    :class:`DropCollinear` removes redundant columns (``max_vif``).
    """
    numeric, binary, categorical = _kinds(table)
    num = Pipeline([
        ("scale", StandardScaler()),  # ignores NaN when fitting, passes it through
        ("impute", SimpleImputer(strategy="constant", fill_value=0.0, add_indicator=True,
                                 keep_empty_features=True)),
    ])
    prep = ColumnTransformer(
        [
            ("num", num, numeric),
            ("bin", SimpleImputer(strategy="most_frequent", keep_empty_features=True), binary),
            ("cat", BaselineOneHot(), categorical),
        ],
        verbose_feature_names_out=False,
    )
    pipe = Pipeline([
        ("prep", prep),
        ("dedup", DropCollinear(max_vif=max_vif)),
        ("model", StatsmodelsLogit()),
    ])
    return pipe.set_output(transform="pandas")


def make_boosting_pipeline(table: ChurnTable, seed: int) -> Pipeline:
    """Histogram gradient boosting with native categorical splits (ordinal-coded levels).

    Missing numbers are handled natively by the trees; nothing is scaled. Settings are
    deliberately modest (shallow trees, a small learning rate) for tables of a few thousand
    customers.
    """
    numeric, binary, categorical = _kinds(table)
    prep = ColumnTransformer(
        [
            ("num", "passthrough", numeric + binary),
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan),
             categorical),
        ],
        verbose_feature_names_out=False,
    )
    model = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=200,
        max_depth=3,
        min_samples_leaf=20,
        l2_regularization=1.0,
        early_stopping=False,
        categorical_features=categorical or None,
        random_state=seed,
    )
    pipe = Pipeline([("prep", prep), ("model", model)])
    return pipe.set_output(transform="pandas")


def make_models(table: ChurnTable, params: Any) -> dict[str, Pipeline]:
    """Return the two compared models, simplest first: ``logistic``, ``gradient_boosting``.

    ``params`` is the validated ``churn`` section (``seed``, ``max_vif``).
    """
    return {
        "logistic": make_logit_pipeline(table, params.max_vif),
        "gradient_boosting": make_boosting_pipeline(table, int(params.seed)),
    }


def _stratified_folds(y: pd.Series, folds: int, seed: int) -> StratifiedKFold:
    """Return the stratified folds every cross-fit uses; InputError when a class is too small."""
    if y.value_counts().min() < folds:
        raise InputError(
            f"churn: {int(y.value_counts().min())} training rows in the smaller class, fewer "
            f"than churn.cv_folds={folds}"
        )
    return StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)


def cross_validate_models(
    models: Mapping[str, Any],
    X: pd.DataFrame,
    y: pd.Series,
    folds: int,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified k-fold cross-validation of each model (call it on training rows only).

    Returns
    -------
    (DataFrame, DataFrame)
        Per model and fold: ``model``, ``fold``, ``roc_auc``, ``pr_auc``, ``brier``; and the
        out-of-fold probabilities: ``model``, ``index`` (row label of ``X``), ``actual``,
        ``probability``.

    Raises
    ------
    InputError
        When a class has fewer rows than folds.
    """
    y = pd.Series(np.asarray(y), index=X.index)
    cv = _stratified_folds(y, folds, seed)
    scores, oof = [], []
    for name, model in models.items():
        for fold, (tr, va) in enumerate(cv.split(X, y), 1):
            fitted = clone(model).fit(X.iloc[tr], y.iloc[tr])
            p = fitted.predict_proba(X.iloc[va])[:, 1]
            yv = y.iloc[va].to_numpy()
            scores.append({"model": name, "fold": fold, **classification_metrics(yv, p)})
            oof.append(pd.DataFrame({"model": name, "index": X.index[va], "actual": yv,
                                     "probability": p}))
    return pd.DataFrame(scores), pd.concat(oof, ignore_index=True)


def cross_fitted_probability(
    model: Any, X: pd.DataFrame, y: pd.Series, folds: int, seed: int
) -> pd.Series:
    """Out-of-fold probabilities: each row is scored by a model fitted without it.

    The folds are the stratified folds of :func:`cross_validate_models` (same ``folds`` and
    ``seed``), so for an unchanged model the result equals its cross-validation predictions.
    An in-sample score rewards the model for having memorised the row; a customer put on a
    risk list by such a score is there partly because the model saw their outcome.

    Returns
    -------
    Series
        ``churn_probability`` with the index of ``X``.

    Raises
    ------
    InputError
        When a class has fewer rows than folds.
    """
    y = pd.Series(np.asarray(y), index=X.index)
    cv = _stratified_folds(y, folds, seed)
    out = np.full(len(X), np.nan)
    for tr, va in cv.split(X, y):
        out[va] = clone(model).fit(X.iloc[tr], y.iloc[tr]).predict_proba(X.iloc[va])[:, 1]
    return pd.Series(out, index=X.index, name="churn_probability")


def choose_model(cv_scores: pd.DataFrame, metric: str = "roc_auc") -> tuple[str, pd.DataFrame]:
    """Pick a model from cross-validation scores with the one-standard-error rule.

    The model with the best mean wins, unless a simpler model (earlier in ``cv_scores``) is
    within one standard error of that mean: then the simpler one is preferred, because
    a difference smaller than the fold-to-fold noise is not evidence.

    Returns
    -------
    (str, DataFrame)
        The chosen name and a summary per model: ``model``, ``mean``, ``std``, ``se``,
        ``folds``, ``chosen``.

    Raises
    ------
    InputError
        When ``metric`` or the ``model`` column is missing.

    References
    ----------
    Hastie, Tibshirani & Friedman (2009), The Elements of Statistical Learning, section 7.10.
    """
    require_columns(cv_scores, ["model", metric], "cv_scores")
    order = list(dict.fromkeys(cv_scores["model"]))
    g = cv_scores.groupby("model", sort=False)[metric]
    summary = pd.DataFrame({
        "model": order,
        "mean": g.mean().reindex(order).to_numpy(),
        "std": g.std(ddof=1).reindex(order).to_numpy(),
        "folds": g.size().reindex(order).to_numpy(),
    })
    summary["se"] = summary["std"] / np.sqrt(summary["folds"])
    best = summary.loc[summary["mean"].idxmax()]
    within = summary[summary["mean"] >= best["mean"] - best["se"]]
    chosen = str(within.iloc[0]["model"])  # the simplest within one SE of the best
    summary["chosen"] = summary["model"] == chosen
    return chosen, summary[["model", "mean", "std", "se", "folds", "chosen"]]


def calibration_decision(
    actual, probability, method: str, tolerance: float, bins: int = 10
) -> dict[str, Any]:
    """Decide from out-of-fold training predictions whether to recalibrate.

    Parameters
    ----------
    actual, probability : array-like
        Out-of-fold outcome and probability of the chosen model (training rows only).
    method : {"auto", "sigmoid", "isotonic", "none"}
        ``auto`` recalibrates with ``sigmoid`` (Platt scaling) when the ECE exceeds
        ``tolerance``; a named method always recalibrates; ``none`` never does.
    tolerance : float
        ECE above which ``auto`` recalibrates.

    Returns
    -------
    dict
        ``ece``, ``brier`` (out-of-fold), ``method`` (``"sigmoid"``, ``"isotonic"`` or
        ``None``), ``reason`` (one sentence, English: the product's wording), ``requested``
        (``method`` as asked) and ``tolerance`` -- what
        :func:`crmlab.churn.narrative.calibration_reason` words the decision from in the
        run's language.

    Raises
    ------
    InputError
        When ``method`` is not one of the four.
    """
    if method not in ("auto", "sigmoid", "isotonic", "none"):
        raise InputError(f"key 'churn.calibration': {method!r} is not auto, sigmoid, isotonic or none")
    ece = expected_calibration_error(reliability_table(actual, probability, bins))
    brier = float(brier_score_loss(np.asarray(actual), np.asarray(probability)))
    if method == "none":
        use, reason = None, "recalibration switched off (churn.calibration: none)"
    elif method == "auto":
        if ece > tolerance:
            use = "sigmoid"
            reason = f"cross-validated ECE {ece:.3f} > tolerance {tolerance:.3f}: Platt (sigmoid) recalibration"
        else:
            use = None
            reason = f"cross-validated ECE {ece:.3f} <= tolerance {tolerance:.3f}: probabilities kept as they are"
    else:
        use, reason = method, f"{method} recalibration requested (churn.calibration)"
    return {"ece": ece, "brier": brier, "method": use, "reason": reason, "requested": method,
            "tolerance": float(tolerance)}


def calibrate(model: Any, method: str, folds: int, seed: int) -> CalibratedClassifierCV:
    """Wrap an (unfitted) model in ``CalibratedClassifierCV`` with stratified inner folds.

    Fit the result on training rows only: each fold's model is fitted on k-1 parts and its
    calibration map on the remaining part, so no row calibrates a model that saw it.

    Raises
    ------
    InputError
        When ``method`` is not ``sigmoid`` or ``isotonic``.
    """
    if method not in ("sigmoid", "isotonic"):
        raise InputError(f"calibrate: method {method!r} is not sigmoid or isotonic")
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return CalibratedClassifierCV(clone(model), method=method, cv=cv)


@dataclass
class ChurnModels:
    """Everything :func:`fit_churn_models` learned, for the notebook to show and save.

    Attributes
    ----------
    split : Series
        ``train``/``test`` per row.
    cv_scores, cv_summary : DataFrame
        Per-fold scores and the per-model summary behind the choice (training rows only).
    oof : DataFrame
        Out-of-fold training probabilities per model.
    chosen : str
        The chosen model's name.
    calibration : dict
        From :func:`calibration_decision` (decided on training rows only).
    fitted : dict
        Each model refitted on all training rows.
    scorer : estimator
        What scores customers: the chosen model, recalibrated when ``calibration`` says so.
    test : DataFrame
        Test rows: ``actual``, one probability column per model and ``final`` (the scorer).
    probability : Series
        Every row's churn probability from a model that did not train on it: training rows
        out of fold (:func:`cross_fitted_probability` of the scorer), test rows from the
        scorer fitted on all training rows.
    metrics : dict
        Test-split ``roc_auc``, ``pr_auc``, ``brier`` per model and for ``final``.
    """

    split: pd.Series
    cv_scores: pd.DataFrame
    cv_summary: pd.DataFrame
    oof: pd.DataFrame
    chosen: str
    calibration: dict
    fitted: dict
    scorer: Any
    test: pd.DataFrame
    probability: pd.Series
    metrics: dict


def fit_churn_models(table: ChurnTable, params: Any) -> ChurnModels:
    """Split, compare by cross-validation, choose, calibrate and score -- test rows untouched.

    1. stratified split (``test_size``, ``seed``);
    2. :func:`cross_validate_models` on the training rows (``cv_folds``) and
       :func:`choose_model` (ROC AUC, one-standard-error rule);
    3. :func:`calibration_decision` on the chosen model's out-of-fold probabilities
       (``calibration``, ``calibration_tolerance``), :func:`calibrate` if needed;
    4. refit on all training rows, then -- only now -- predict the test rows;
    5. score the training rows out of fold (the chosen model's cross-validation
       predictions, or a cross-fit of the recalibrated scorer), so no row's score comes
       from a model that saw its outcome.

    Linear algebra and tree threads are limited to one per process: on small tables
    threads only compete with each other (and with the other notebooks of a run).

    Parameters
    ----------
    table : ChurnTable
        From :func:`prepare_churn_table`.
    params : params section
        The validated ``churn`` section (``seed``, ``test_size``, ``cv_folds``,
        ``calibration``, ``calibration_tolerance``, ``max_vif``).

    Returns
    -------
    ChurnModels

    Raises
    ------
    InputError
        Too few rows per class to split or cross-validate.
    """
    from threadpoolctl import threadpool_limits

    seed = int(params.seed)
    folds = int(params.cv_folds)
    X, y = table.features, table.target
    split = split_train_test(y, float(params.test_size), seed)
    train = (split == "train").to_numpy()
    with threadpool_limits(limits=1):
        models = make_models(table, params)
        cv_scores, oof = cross_validate_models(models, X[train], y[train], folds, seed)
        chosen, summary = choose_model(cv_scores)
        mine = oof[oof["model"] == chosen]
        cal = calibration_decision(
            mine["actual"], mine["probability"], params.calibration,
            float(params.calibration_tolerance),
        )
        fitted = {name: clone(m).fit(X[train], y[train]) for name, m in models.items()}
        if cal["method"] is None:
            scorer = fitted[chosen]
        else:
            scorer = calibrate(models[chosen], cal["method"], folds, seed).fit(X[train], y[train])
        test = pd.DataFrame({"actual": y[~train]}, index=X.index[~train])
        for name, m in fitted.items():
            test[name] = m.predict_proba(X[~train])[:, 1]
        test["final"] = scorer.predict_proba(X[~train])[:, 1]
        if cal["method"] is None:  # the cross-validation already scored every row out of fold
            oof_train = pd.Series(mine["probability"].to_numpy(), index=mine["index"].to_numpy())
        else:
            oof_train = cross_fitted_probability(
                calibrate(models[chosen], cal["method"], folds, seed), X[train], y[train], folds, seed
            )
        probability = pd.Series(np.nan, index=X.index, name="churn_probability")
        probability[X.index[train]] = oof_train.reindex(X.index[train]).to_numpy()
        probability[X.index[~train]] = test["final"].to_numpy()
    metrics = {c: classification_metrics(test["actual"], test[c]) for c in [*fitted, "final"]}
    return ChurnModels(split, cv_scores, summary, oof, chosen, cal, fitted, scorer, test,
                       probability, metrics)
