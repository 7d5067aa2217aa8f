"""Churn early warning: intake, leakage guard, split, model choice, calibration, bands, warning."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from pandas.testing import assert_frame_equal, assert_series_equal

from crmlab import churn
from crmlab.config import params_from_dict
from crmlab.errors import InputError
from crmlab.io import read_table

from conftest import RAW, ROOT

TINY = ROOT / "tests" / "data" / "churn_tiny.csv"
TINY_PARAMS = {"path": str(TINY), "target": "left_us", "positive": "yes", "id": "account_no"}


def churn_params(**extra):
    """A validated churn section (defaults filled in exactly as a params file gets them)."""
    return params_from_dict({"churn": {**TINY_PARAMS, **extra}}).churn


def churn_section(**keys):
    """A validated churn section for a hand-built table (``path`` is only read by the notebook)."""
    return params_from_dict({"churn": {"path": str(TINY), "target": "churn", **keys}}).churn


def warning_section(**keys):
    """A validated churn_warning section: the schema's defaults plus ``keys``."""
    return params_from_dict({"churn_warning": keys}).churn_warning


@pytest.fixture(scope="module")
def tiny():
    raw, _ = read_table(TINY)
    params = churn_params()
    table = churn.prepare_churn_table(raw, params)
    return raw, params, table


@pytest.fixture(scope="module")
def tiny_models(tiny):
    _, params, table = tiny
    return churn.fit_churn_models(table, params)


# --- target and typing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, positive, expected",
    [
        (["Yes", "No", "No"], "Yes", [1, 0, 0]),
        ([" YES ", "no", "yes"], "Yes", [1, 0, 1]),
        (["yes", "no"], True, [1, 0]),  # unquoted YAML `yes` arrives as True
        (["1", "0", "0"], 1, [1, 0, 0]),
        (["1.0", "0.0"], 1, [1, 0]),
        (["stayed", "left"], "LEFT", [0, 1]),
    ],
    ids=["exact", "case-and-space", "yaml-bool", "number", "number-spelling", "other-words"],
)
def test_map_target(values, positive, expected):
    out = churn.map_target(pd.Series(values, name="t"), positive, "t")
    assert_series_equal(out, pd.Series(expected, name="t", dtype=np.int64))


@pytest.mark.parametrize(
    "values, positive, message",
    [
        (["Yes", "", "No"], "Yes", "1 blank value"),
        (["Yes", "Yes"], "Yes", "only one class"),
        (["Yes", "No", "Maybe"], "Yes", "3 distinct values"),
        (["Y", "N"], "Yes", "'churn.positive'"),
    ],
    ids=["blank", "one-class", "three-classes", "positive-not-found"],
)
def test_map_target_errors(values, positive, message):
    with pytest.raises(InputError, match=message):
        churn.map_target(pd.Series(values), positive, "churn")


def test_infer_feature_types_by_hand():
    n = 20
    raw = pd.DataFrame({
        "amount": [str(v) for v in range(1, n)] + ["n/a"],  # 95% numbers: one invalid cell
        "flag": ["Yes", "no"] * (n // 2),
        "tier": ["gold", "silver", ""] * 6 + ["gold", "gold"],
        "constant": ["x"] * n,
        "name": [f"n{i}" for i in range(n)],  # a level per row: identifier-like
        "number": [str(1000 + i) for i in range(n)],  # all-distinct whole numbers
        "charges": [""] + [str(float(i)) for i in range(1, n)],
    })
    typed, report = churn.infer_feature_types(raw, fill_blanks={"charges": 0}, max_levels=50)
    expected = pd.DataFrame({
        "amount": [float(v) for v in range(1, n)] + [np.nan],
        "flag": [1.0, 0.0] * (n // 2),
        "tier": pd.Series(["gold", "silver", "(missing)"] * 6 + ["gold", "gold"], dtype=object),
        "charges": [0.0] + [float(i) for i in range(1, n)],
    })
    assert_frame_equal(typed, expected)
    kinds = report.set_index("column")["kind"].to_dict()
    assert kinds == {"amount": "numeric", "flag": "binary", "tier": "categorical",
                     "constant": "excluded", "name": "excluded", "number": "excluded",
                     "charges": "numeric"}
    row = report.set_index("column").loc["amount"]
    assert (row["invalid"], row["blanks"]) == (1, 0)
    assert report.set_index("column").loc["charges", "blanks"] == 1
    assert "set to 0" in report.set_index("column").loc["charges", "action"]


def test_infer_feature_types_rejects_unknown_fill_column():
    with pytest.raises(InputError, match="'churn.fill_blanks': column 'nope'"):
        churn.infer_feature_types(pd.DataFrame({"a": ["1", "2"]}), fill_blanks={"nope": 0}, max_levels=50)


# --- intake and the leakage guard --------------------------------------------------------------


def test_leakage_guard_keeps_id_target_and_identifiers_out(tiny):
    raw, _, table = tiny
    assert "account_no" not in table.features and "left_us" not in table.features
    assert "contact" not in table.features  # e-mail per customer: identifier-like
    assert table.key.name == "account_no" and table.key.tolist() == raw["account_no"].tolist()
    assert set(table.numeric) == {"monthly_fee", "support_calls"}
    assert table.binary == ["autopay"] and set(table.categorical) == {"plan", "region"}
    assert table.labels == {"positive": "yes", "negative": "no"}
    assert table.target.sum() == (raw["left_us"] == "yes").sum()


def test_a_column_copying_the_target_is_left_out_as_a_leak():
    raw = pd.DataFrame({
        "churn": ["Yes", "No"] * 10,
        "reason": ["price", ""] * 10,  # only churners have a reason
        "calls": [str(i % 7) for i in range(20)],
    })
    table = churn.prepare_churn_table(raw, churn_section(target="churn", positive="Yes"))
    assert list(table.features.columns) == ["calls"]
    assert "leak" in table.types.set_index("column").loc["reason", "action"]
    assert table.key.name == "row" and table.key.tolist() == list(range(20))


@pytest.mark.parametrize(
    "raw, params, message",
    [
        (pd.DataFrame({"a": ["1", "2"]}), {"target": "churn"}, "required column 'churn'"),
        (pd.DataFrame({"c": ["Yes", "No"], "a": ["1", "2"]}), {"target": "c", "id": "who"}, "required column 'who'"),
        (pd.DataFrame({"c": ["Yes", "No"], "i": ["x", "x"], "a": ["1", "2"]}), {"target": "c", "id": "i"}, "duplicate id"),
        (pd.DataFrame({"c": ["Yes", "No"], "i": ["x", ""], "a": ["1", "2"]}), {"target": "c", "id": "i"}, "blank id"),
        (pd.DataFrame({"c": ["Yes", "No"], "i": ["x", "y"]}), {"target": "c", "id": "i"}, "no usable feature"),
    ],
    ids=["no-target", "no-id", "duplicate-id", "blank-id", "no-features"],
)
def test_prepare_churn_table_errors(raw, params, message):
    with pytest.raises(InputError, match=message):
        churn.prepare_churn_table(raw, churn_section(positive="Yes", **params))


def test_blank_rows_show_the_typed_rows(tiny):
    raw, _, table = tiny
    blanks = churn.blank_rows(raw, table)
    assert blanks.index.tolist() == [3, 17]
    assert blanks["blank_in"].tolist() == ["monthly_fee", "monthly_fee"]
    with pytest.raises(InputError, match="same rows"):
        churn.blank_rows(raw.head(5), table)


# --- the split ---------------------------------------------------------------------------------


def test_split_is_stratified_disjoint_and_reproducible():
    y = pd.Series([1] * 30 + [0] * 70)
    split = churn.split_train_test(y, test_size=0.3, seed=1)
    assert set(split) == {"train", "test"} and len(split) == len(y)  # each row exactly once
    assert (split == "test").sum() == 30
    assert y[split == "test"].sum() == 9 and y[split == "train"].sum() == 21  # 30% in both
    assert_series_equal(split, churn.split_train_test(y, test_size=0.3, seed=1))
    assert not split.equals(churn.split_train_test(y, test_size=0.3, seed=2))


def test_split_needs_both_classes_on_both_sides():
    with pytest.raises(InputError, match="too few rows"):
        churn.split_train_test(pd.Series([1, 0, 0, 0, 0]), test_size=0.3, seed=0)


# --- model pieces ------------------------------------------------------------------------------


def test_baseline_one_hot_drops_the_most_frequent_level():
    X = pd.DataFrame({"plan": ["b", "a", "b", "c", "b", "a"]})
    enc = churn.BaselineOneHot().fit(X)
    assert enc.levels_ == {"plan": ["b", "a", "c"]}
    out = enc.transform(pd.DataFrame({"plan": ["a", "b", "c", "new"]}))
    expected = pd.DataFrame({"plan=a": [1.0, 0, 0, 0], "plan=c": [0.0, 0, 1, 0]})
    assert_frame_equal(out, expected)


def test_drop_collinear_removes_exact_and_near_copies():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=200), rng.integers(0, 2, 200).astype(float)
    X = pd.DataFrame({
        "a": a, "b": b,
        "sum": a + b,  # exact combination
        "not_b": 1 - b,  # exact with the intercept
        "near": a + rng.normal(scale=0.01, size=200),  # VIF ~ 10,000
    })
    dropped = churn.DropCollinear(max_vif=20).fit(X).dropped_
    assert list(dropped)[:2] == ["sum", "not_b"]
    assert "exact" in dropped["sum"] and len(dropped) == 3
    kept = churn.DropCollinear(max_vif=None).fit(X)
    assert list(kept.get_feature_names_out()) == ["a", "b", "near"]
    with pytest.raises(ValueError):
        churn.DropCollinear().fit(X).transform(X.drop(columns="near"))


def test_statsmodels_logit_matches_unpenalised_sklearn():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    X = pd.DataFrame({"x1": rng.normal(size=400), "x2": rng.normal(size=400)})
    y = (rng.random(400) < 1 / (1 + np.exp(-(0.5 + X["x1"] - 2 * X["x2"])))).astype(int)
    ours = churn.StatsmodelsLogit().fit(X, y)
    ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(ours.coef_.to_numpy(), ref.coef_[0], rtol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize(
    "complex_scores, expected",
    [
        ([0.82, 0.78, 0.80, 0.83, 0.77], "simple"),  # mean 0.80 - SE 0.0114 < 0.79: within one SE
        ([0.90, 0.91, 0.89, 0.90, 0.90], "complex"),  # clearly better
    ],
    ids=["within-one-se", "clearly-better"],
)
def test_choose_model_one_standard_error_rule(complex_scores, expected):
    scores = pd.DataFrame({
        "model": ["simple"] * 5 + ["complex"] * 5,
        "fold": list(range(1, 6)) * 2,
        "roc_auc": [0.79, 0.78, 0.80, 0.79, 0.79] + complex_scores,
    })
    chosen, summary = churn.choose_model(scores)
    assert chosen == expected
    assert summary["model"].tolist() == ["simple", "complex"]
    assert summary.loc[summary["chosen"], "model"].item() == expected
    with pytest.raises(InputError, match="'pr_auc'"):
        churn.choose_model(scores, metric="pr_auc")


def test_cross_validation_needs_enough_rows_per_class(tiny):
    _, params, table = tiny
    with pytest.raises(InputError, match="cv_folds"):
        churn.cross_validate_models(churn.make_models(table, params), table.features.head(8),
                                    table.target.head(8), folds=5, seed=42)


def test_model_choice_never_looks_at_the_test_rows(tiny, tiny_models):
    _, params, table = tiny
    # garble every feature of the test rows: nothing learned or chosen may change
    test = (tiny_models.split == "test").to_numpy()
    garbled = table.features.copy()
    for col in table.numeric + table.binary:
        garbled.loc[test, col] = 1e6
    for col in table.categorical:
        garbled.loc[test, col] = "never seen"
    other = churn.fit_churn_models(
        churn.ChurnTable(garbled, table.target, table.key, table.types, table.numeric,
                         table.binary, table.categorical, table.labels), params)
    assert_series_equal(other.split, tiny_models.split)  # stratified on the labels only
    assert_frame_equal(other.cv_summary, tiny_models.cv_summary)
    assert other.chosen == tiny_models.chosen
    assert other.calibration == tiny_models.calibration
    np.testing.assert_allclose(other.probability[~test], tiny_models.probability[~test])


def test_fit_churn_models_on_a_different_table(tiny, tiny_models):
    _, _, table = tiny
    m = tiny_models
    assert m.chosen in ("logistic", "gradient_boosting")
    assert list(m.metrics) == ["logistic", "gradient_boosting", "final"]
    assert m.test.index.tolist() == table.features.index[m.split == "test"].tolist()
    assert m.probability.between(0, 1).all() and len(m.probability) == len(table.target)
    oof_rows = m.oof.loc[m.oof["model"] == "logistic", "index"]
    assert sorted(oof_rows) == table.features.index[m.split == "train"].tolist()


def test_forced_recalibration_happens_inside_the_training_rows(tiny):
    from sklearn.calibration import CalibratedClassifierCV

    _, _, table = tiny
    models = churn.fit_churn_models(table, churn_params(calibration="sigmoid"))
    assert models.calibration["method"] == "sigmoid"
    assert isinstance(models.scorer, CalibratedClassifierCV)
    assert models.scorer.n_features_in_ == table.features.shape[1]
    assert not np.allclose(models.test["final"], models.test[models.chosen])


# --- calibration and evaluation --------------------------------------------------------------


def test_reliability_table_and_ece_by_hand():
    actual = [0, 0, 1, 0, 1, 1]
    prob = [0.1, 0.1, 0.2, 0.8, 0.9, 0.9]
    table = churn.reliability_table(actual, prob, bins=2)
    expected = pd.DataFrame({"bin": [1, 2], "customers": [3, 3],
                             "mean_predicted": [0.4 / 3, 2.6 / 3], "observed_rate": [1 / 3, 2 / 3]})
    assert_frame_equal(table, expected)
    assert churn.expected_calibration_error(table) == pytest.approx(0.2)
    with pytest.raises(InputError):
        churn.reliability_table([0, 1], [0.5])
    with pytest.raises(InputError, match="mean_predicted"):
        churn.expected_calibration_error(table.drop(columns="mean_predicted"))


@pytest.mark.parametrize(
    "method, tolerance, expected",
    [("auto", 0.3, None), ("auto", 0.1, "sigmoid"), ("isotonic", 0.9, "isotonic"), ("none", 0.0, None)],
    ids=["auto-fine", "auto-off", "forced", "off"],
)
def test_calibration_decision(method, tolerance, expected):
    actual = [0, 0, 1, 0, 1, 1]
    prob = [0.1, 0.1, 0.2, 0.8, 0.9, 0.9]  # ECE 0.2 with 2 bins
    decision = churn.calibration_decision(actual, prob, method, tolerance, bins=2)
    assert decision["method"] == expected
    assert decision["ece"] == pytest.approx(0.2)


def test_calibration_decision_and_calibrate_reject_unknown_methods():
    with pytest.raises(InputError, match="'churn.calibration'"):
        churn.calibration_decision([0, 1], [0.2, 0.8], "beta", 0.02)
    with pytest.raises(InputError, match="sigmoid or isotonic"):
        churn.calibrate(churn.StatsmodelsLogit(), "auto", 5, 0)


def test_classification_metrics_and_curves_need_two_classes():
    m = churn.classification_metrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert m["roc_auc"] == pytest.approx(0.75)
    assert m["brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    points = churn.curve_points([0, 0, 1, 1], {"m": [0.1, 0.4, 0.35, 0.8]})
    assert set(points["curve"]) == {"roc", "pr"}
    assert points.loc[points["curve"] == "roc", "auc"].iloc[0] == pytest.approx(0.75)
    with pytest.raises(InputError):
        churn.classification_metrics([1, 1], [0.2, 0.3])
    with pytest.raises(InputError):
        churn.curve_points([0, 0], {"m": [0.2, 0.3]})


def test_churn_gains_and_capacity_by_hand():
    actual = [1, 0, 1, 0, 0, 0, 1, 0, 0, 0]
    prob = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
    gains = churn.churn_gains(actual, prob, bins=5)
    assert gains["churners"].tolist() == [1, 1, 0, 1, 0]
    assert gains["cum_churners_share"].tolist() == pytest.approx([1 / 3, 2 / 3, 2 / 3, 1, 1])
    assert gains["lift"].tolist() == pytest.approx([0.5 / 0.3, 0.5 / 0.3, 0, 0.5 / 0.3, 0])
    cap = churn.capacity_summary(actual, prob, 0.3)
    assert (cap["contacted"], cap["churners_caught"]) == (3, 2)
    assert cap["precision_at_k"] == pytest.approx(2 / 3) and cap["recall_at_k"] == pytest.approx(2 / 3)
    assert cap["expected_churners_caught"] == pytest.approx(2.4)
    with pytest.raises(InputError):
        churn.churn_gains([0, 0], [0.1, 0.2])
    with pytest.raises(InputError, match="capacity"):
        churn.capacity_summary(actual, prob, 0)


# --- risk bands ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, expected, rule",
    [
        ({"capacity": 0.1, "medium_capacity": 0.3}, ["high"] + ["medium"] * 2 + ["low"] * 7, "capacity"),
        ({"capacity": 0.2, "medium_capacity": 0.5}, ["high"] * 2 + ["medium"] * 3 + ["low"] * 5, "capacity"),
        ({"high_threshold": 0.75, "medium_threshold": 0.35}, ["high"] * 3 + ["medium"] * 4 + ["low"] * 3, "thresholds"),
    ],
    ids=["top-10-30", "top-20-50", "thresholds"],
)
def test_risk_bands(params, expected, rule):
    prob = pd.Series([0.95, 0.85, 0.75, 0.65, 0.55, 0.45, 0.35, 0.25, 0.15, 0.05], index=list("abcdefghij"))
    bands, thresholds = churn.risk_bands(prob, churn_section(**params))
    assert bands.astype(str).tolist() == expected
    assert bands.index.tolist() == list("abcdefghij")
    assert thresholds["rule"] == rule
    assert list(bands.cat.categories) == ["low", "medium", "high"]


def test_risk_bands_with_a_table_of_defaults(tiny, tiny_models):
    _, params, table = tiny
    scores, thresholds = churn.churn_scores(table, tiny_models, params)
    assert list(scores.columns) == ["account_no", "split", "actual", "churn_probability", "risk_band",
                                    "score_band"]
    # no row with a positive churn label has a band other than `churned`, and vice versa
    assert (scores.loc[scores["actual"] == 1, "risk_band"] == "churned").all()
    assert (scores.loc[scores["actual"] == 0, "risk_band"] != "churned").all()
    current = scores[scores["actual"] == 0]
    n_high = (current["risk_band"] == "high").sum()
    assert n_high >= math.ceil(0.1 * len(current))  # sized on current customers; ties may add one
    assert (current.loc[current["risk_band"] == "high", "churn_probability"] >= thresholds["high"]).all()
    assert (current.loc[current["risk_band"] == "low", "churn_probability"] < thresholds["medium"]).all()
    assert thresholds["basis"] == "current customers"
    # the score band is the probability's band for every row; for current customers it is the risk band
    assert (current["score_band"] == current["risk_band"]).all()


@pytest.mark.parametrize(
    "actual, expected, high",
    [
        ([0, 1, 0, 1, 0, 0, 0, 0, 0, 0], ["high", "churned", "medium", "churned", "medium"] + ["low"] * 5, 0.95),
        ([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], ["churned", "churned", "high", "medium", "medium"] + ["low"] * 5, 0.75),
        ([0] * 10, ["high", "medium", "medium"] + ["low"] * 7, 0.95),
    ],
    ids=["churned-in-the-middle", "riskiest-already-gone", "nobody-gone"],
)
def test_risk_bands_are_sized_on_current_customers(actual, expected, high):
    # 8 or 10 current customers: top 10% = 1 high, top 30% = 3 high or medium
    prob = [0.95, 0.85, 0.75, 0.65, 0.55, 0.45, 0.35, 0.25, 0.15, 0.05]
    bands, thresholds = churn.risk_bands(prob, churn_section(capacity=0.1, medium_capacity=0.3), actual=actual)
    assert bands.astype(str).tolist() == expected
    assert thresholds["high"] == high and thresholds["basis"] == "current customers"
    assert list(bands.cat.categories) == ["low", "medium", "high", "churned"]


@pytest.mark.parametrize(
    "actual, message",
    [([1, 1, 1], "no current customer"), ([0, 1], "same length")],
    ids=["all-gone", "length"],
)
def test_risk_bands_actual_errors(actual, message):
    with pytest.raises(InputError, match=message):
        churn.risk_bands([0.1, 0.5, 0.9], churn_section(), actual=actual)


@pytest.fixture(scope="module")
def noise_table():
    """Random labels and pure-noise features: any in-sample skill is memorisation."""
    rng = np.random.default_rng(7)
    n = 120
    raw = pd.DataFrame({f"x{j}": rng.normal(size=n).round(3) for j in range(12)})
    raw["left"] = np.where(rng.random(n) < 0.4, "yes", "no")
    return churn.prepare_churn_table(raw, churn_section(target="left", positive="yes"))


@pytest.mark.parametrize("calibration", ["none", "sigmoid"], ids=["as-fitted", "recalibrated"])
def test_scores_are_out_of_fold_not_in_sample(noise_table, calibration):
    from sklearn.metrics import roc_auc_score

    params = churn_section(target="left", seed=3, cv_folds=5, test_size=0.25, calibration=calibration)
    models = churn.fit_churn_models(noise_table, params)
    train = (models.split == "train").to_numpy()
    y = noise_table.target.to_numpy()
    X = noise_table.features
    in_sample = models.scorer.predict_proba(X[train])[:, 1]
    scored = models.probability.to_numpy()[train]
    # the in-sample fit is over-confident on noise; the cross-fitted scores are not
    auc_in, auc_oof = roc_auc_score(y[train], in_sample), roc_auc_score(y[train], scored)
    assert auc_in > 0.7 and auc_oof < auc_in - 0.15
    assert not np.allclose(scored, in_sample)
    # test rows: the scorer fitted on all training rows; training rows: cross-fitted
    np.testing.assert_allclose(models.probability.to_numpy()[~train], models.test["final"].to_numpy())
    expected = churn.cross_fitted_probability(
        models.scorer if calibration == "none" else churn.calibrate(
            churn.make_models(noise_table, params)[models.chosen], "sigmoid", 5, 3),
        X[train], noise_table.target[train], 5, 3)
    np.testing.assert_allclose(scored, expected.to_numpy(), rtol=1e-6)


def test_cross_fitted_probability_needs_enough_rows_per_class(noise_table):
    model = churn.make_logit_pipeline(noise_table, max_vif=20.0)
    with pytest.raises(InputError, match="cv_folds=80"):
        churn.cross_fitted_probability(model, noise_table.features, noise_table.target, folds=80, seed=0)


def test_risk_list_holds_no_churned_customer(tiny, tiny_models):
    _, params, table = tiny
    scores, _ = churn.churn_scores(table, tiny_models, params)
    contrib = churn.logit_contributions(tiny_models.fitted["logistic"], table, table.features)
    risks = churn.risk_list(scores, contrib, table, capacity=0.2, top_reasons=3)
    gone = set(scores.loc[scores["actual"] == 1, "account_no"])
    assert len(risks) == math.ceil(0.2 * (scores["actual"] == 0).sum())
    assert not set(risks["account_no"]) & gone
    assert "churned" not in set(risks["risk_band"])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"high_threshold": 0.3, "medium_threshold": 0.5}, "medium_threshold"),
        ({"capacity": 0.3, "medium_capacity": 0.1}, "medium_capacity"),
    ],
    ids=["thresholds-swapped", "capacities-swapped"],
)
def test_risk_bands_errors(params, message):
    with pytest.raises(InputError, match=message):
        churn.risk_bands([0.1, 0.5, 0.9], churn_section(**params))


# --- explanation --------------------------------------------------------------------------------


def test_contributions_add_up_to_the_linear_predictor(tiny, tiny_models):
    _, _, table = tiny
    logit = tiny_models.fitted["logistic"]
    contrib = churn.logit_contributions(logit, table, table.features)
    model = logit.named_steps["model"]
    design = logit[:-1].transform(table.features)
    at_mean = model.intercept_ + float(model.x_mean_ @ model.coef_)
    np.testing.assert_allclose(contrib.sum(axis=1), model.decision_function(design) - at_mean, atol=1e-9)
    assert list(contrib.columns) == [c for c in table.features.columns if c in contrib.columns]
    with pytest.raises(InputError, match="make_logit_pipeline"):
        churn.logit_contributions(tiny_models.fitted["gradient_boosting"], table, table.features)


def test_odds_ratio_table(tiny, tiny_models):
    _, _, table = tiny
    odds = churn.odds_ratio_table(tiny_models.fitted["logistic"], table)
    assert (odds["ci_low"] <= odds["odds_ratio"]).all() and (odds["odds_ratio"] <= odds["ci_high"]).all()
    np.testing.assert_allclose(odds["odds_ratio"], np.exp(odds["coef"]))
    assert odds["odds_ratio"].is_monotonic_decreasing
    assert set(odds["feature"]) <= set(table.features.columns)
    text = churn.odds_takeaway(odds, {"x": "why"})
    assert text.startswith("Dropped before fitting: `x` (why).")
    with pytest.raises(InputError, match="odds table"):
        churn.odds_takeaway(odds.drop(columns="ci_low"), {})
    with pytest.raises(InputError):
        churn.odds_ratio_table(churn.make_logit_pipeline(table, max_vif=20.0), table)  # not fitted


@pytest.mark.parametrize(
    "feature, expected",
    [("total_charges", "Total charges"), ("tenure", "Tenure"), ("PaymentMethod", "PaymentMethod"),
     ("_x_", "X")],
    ids=["snake", "single", "camel-kept", "padded"],
)
def test_business_name(feature, expected):
    assert churn.business_name(feature) == expected


@pytest.fixture(scope="module")
def price_table():
    """Total charges = tenure x monthly price; churn falls with tenure and rises with price.

    On its own, total charges goes with *less* churn (long tenure); with tenure in the
    model it stands in for the price and its odds ratio is > 1: a suppression effect.
    """
    rng = np.random.default_rng(11)
    n = 1500
    tenure = rng.uniform(1, 72, n)
    price = rng.uniform(20, 110, n)
    logit = 0.5 - 0.07 * tenure + 0.03 * (price - 65)
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    raw = pd.DataFrame({"tenure": tenure.round(1), "total_charges": (tenure * price).round(2),
                        "churned": np.where(churned, "Yes", "No")})
    return churn.prepare_churn_table(raw, churn_section(target="churned", positive="Yes"))


def test_a_suppression_effect_is_marked_and_not_read_as_a_risk_raiser(price_table):
    logit = churn.make_logit_pipeline(price_table, max_vif=20.0).fit(price_table.features, price_table.target)
    odds = churn.odds_ratio_table(logit, price_table, rows=np.ones(len(price_table.target), dtype=bool))
    by = odds.set_index("term")
    assert by.loc["total_charges", "odds_ratio"] > 1 > by.loc["total_charges", "alone_odds_ratio"]
    assert bool(by.loc["total_charges", "suppression"]) and not bool(by.loc["tenure", "suppression"])
    assert by.loc["total_charges", "label"] == "Total charges"
    text = churn.odds_takeaway(odds, {})
    assert "Clearest risk raisers: none" in text
    assert "**Suppression effect** — Total charges: x" in text
    without = churn.odds_ratio_table(logit, price_table)  # no rows: no marginal fits
    assert "suppression" not in without.columns and "Suppression" not in churn.odds_takeaway(without, {})
    with pytest.raises(InputError, match="one entry per table row"):
        churn.odds_ratio_table(logit, price_table, rows=[True, False])


def test_risk_list_ranks_current_customers_with_positive_reasons():
    table = churn.ChurnTable(
        features=pd.DataFrame({"calls": [5.0, 1.0, 7.0, 3.0], "plan": ["basic", "pro", "basic", "pro"]}),
        target=pd.Series([0, 0, 1, 0]),
        key=pd.Series(["a", "b", "c", "d"], name="id"),
        types=pd.DataFrame(),
        numeric=["calls"], categorical=["plan"],
    )
    scores = pd.DataFrame({"id": ["a", "b", "c", "d"], "actual": [0, 0, 1, 0],
                           "churn_probability": [0.6, 0.2, 0.9, 0.4], "risk_band": ["high", "low", "high", "medium"]})
    contrib = pd.DataFrame({"calls": [0.8, -0.5, 1.2, 0.1], "plan": [0.3, -0.2, 0.3, -0.2]})
    risks = churn.risk_list(scores, contrib, table, capacity=0.5, top_reasons=2)
    expected = pd.DataFrame({
        "rank": [1, 2], "id": ["a", "d"], "churn_probability": [0.6, 0.4],
        "risk_band": ["high", "medium"],
        "reason_1": ["Calls = 5 (+0.80)", "Calls = 3 (+0.10)"],
        "reason_2": ["Plan = basic (+0.30)", ""],
    })
    assert_frame_equal(risks, expected, check_dtype=False)
    marked = churn.risk_list(scores, contrib, table, capacity=0.5, top_reasons=2, suppressed=["plan"])
    assert marked["reason_2"].tolist() == ["Plan = basic (+0.30) [suppression effect, not a cause]", ""]
    assert marked["reason_1"].tolist() == expected["reason_1"].tolist()
    with pytest.raises(InputError, match="same rows"):
        churn.risk_list(scores.head(3), contrib, table, 0.5, 2)
    with pytest.raises(InputError, match="'churn_probability'"):
        churn.risk_list(scores.drop(columns="churn_probability"), contrib, table, 0.5, 2)


# --- transactional warning ----------------------------------------------------------------------


AS_OF = pd.Timestamp("1997-02-01")


@pytest.fixture
def base(warning_inputs):
    """The five customers of tests/conftest.py's warning_inputs."""
    return warning_inputs


def test_transactional_warning_by_hand(base):
    out = churn.transactional_warning(base, warning_section(gap_factor=2.0, p_alive_threshold=0.3, capacity=0.4))
    # repeat buyers' gaps 10, 10, 30 -> one-time buyers are measured against the median, 10;
    # candidates A (overdue), B (low P(alive)), C (overdue); capacity 0.4 x 5 = 2 -> the two
    # likeliest to lapse, B (0.95) and C (0.70)
    expected = pd.DataFrame({
        "customer_id": ["A", "B", "C", "D", "E"],
        "as_of": AS_OF,
        "days_since_last": [25.0, 15.0, 100.0, 10.0, 5.0],
        "typical_gap": [10.0, 10.0, 10.0, 30.0, 10.0],
        "gap_basis": ["own", "own", "shop median", "own", "shop median"],
        "gap_ratio": [2.5, 1.5, 10.0, 1 / 3, 0.5],
        "one_time_buyer": [False, False, True, False, True],
        "p_alive": [0.9, 0.1, 1.0, 0.8, 0.1],
        "lapse_probability": [0.4, 0.95, 0.7, 0.2, 0.99],
        "overdue": [True, False, True, False, False],
        "low_p_alive": [False, True, False, False, False],
        "candidate": [True, True, True, False, False],
        "warning": [False, True, True, False, False],
        "reason": [
            "25 days since last purchase, 2.5x their usual 10-day gap",
            "P(alive) 0.10 < 0.30; 95% likely to buy nothing in the horizon",
            "one-time buyer: 100 days since the only purchase, 10.0x the shop's typical 10-day gap "
            "(P(alive) is 1 for every one-time buyer in BG/NBD: not used); "
            "70% likely to buy nothing in the horizon",
            "",
            "",
        ],
        "priority_value": [50.0, 80.0, 20.0, 200.0, 10.0],
        "frequency": [3.0, 2.0, 0.0, 1.0, 0.0],
        "total_spend": [50.0, 80.0, 20.0, 200.0, 10.0],
    })
    assert_frame_equal(out, expected, check_dtype=False)
    calls = churn.warning_call_list(out)
    assert calls["customer_id"].tolist() == ["B", "C"] and calls["rank"].tolist() == [1, 2]


@pytest.mark.parametrize(
    "capacity, warned",
    [(0.2, ["B"]), (0.4, ["B", "C"]), (1.0, ["A", "B", "C"])],
    ids=["one-call", "two-calls", "everyone-who-qualifies"],
)
def test_transactional_warning_is_sized_to_capacity(base, capacity, warned):
    out = churn.transactional_warning(base, warning_section(capacity=capacity))
    assert out.loc[out["warning"], "customer_id"].tolist() == warned
    assert out["warning"].sum() <= math.ceil(capacity * len(base))


def test_transactional_warning_without_bgnbd_ranks_by_gap_ratio(base):
    out = churn.transactional_warning(
        base.assign(p_alive=np.nan, lapse_probability=np.nan),
        warning_section(gap_factor=2.0, one_time_gap=50, capacity=0.2),
    )
    assert out["typical_gap"].tolist() == [10.0, 10.0, 50.0, 30.0, 50.0]
    assert out["gap_basis"].tolist()[2] == "one_time_gap"
    assert out["candidate"].tolist() == [True, False, False, False, False]  # C: 100 / 50 = 2.0, not > 2
    assert out.loc[out["warning"], "customer_id"].tolist() == ["A"]


@pytest.mark.parametrize(
    "change, params, message",
    [
        (lambda b: b.drop(columns="gap_mean"), {}, "'gap_mean'"),
        (lambda b: b.assign(gap_mean=np.nan), {}, "no repeat buyer"),
        (lambda b: b.drop(columns="as_of"), {}, "'as_of'"),
        (lambda b: b.assign(as_of=[AS_OF] * 4 + [pd.Timestamp("1997-09-30")]), {}, "one as_of date"),
    ],
    ids=["no-gap-column", "no-repeat-buyers", "no-date", "two-dates"],
)
def test_transactional_warning_errors(base, change, params, message):
    with pytest.raises(InputError, match=message):
        churn.transactional_warning(change(base), warning_section(**params))


def test_transactional_warning_refuses_a_capacity_outside_zero_to_one(base):
    # the schema refuses it first; a section built by hand must be refused as well
    section = SimpleNamespace(gap_factor=2.0, one_time_gap=None, p_alive_threshold=0.3, capacity=0)
    with pytest.raises(InputError, match="churn_warning.capacity"):
        churn.transactional_warning(base, section)


def test_every_warning_input_is_taken_at_one_date():
    tx = pd.DataFrame({
        "customer_id": ["X", "X", "X", "X", "Y", "Y", "Z"],
        "date": pd.to_datetime(["1997-01-01", "1997-01-11", "1997-01-21", "1997-03-01",
                                "1997-01-15", "1997-02-10", "1997-01-31"]),
        "amount": [10.0, 20.0, 30.0, 99.0, 5.0, 99.0, 7.0],
    })
    out = churn.warning_inputs(tx, AS_OF, horizon_days=30)
    # purchases after as_of (X on 1 March, Y on 10 February) do not count
    assert (out["as_of"] == AS_OF).all()
    assert out["customer_id"].tolist() == ["X", "Y", "Z"]
    assert out["days_since_last"].tolist() == [11.0, 17.0, 1.0]
    assert out["T"].tolist() == [31.0, 17.0, 1.0]
    assert out["frequency"].tolist() == [2.0, 0.0, 0.0]
    assert out["gap_mean"].iloc[0] == 10.0 and out["gap_mean"].iloc[1:].isna().all()
    assert out["total_spend"].tolist() == [60.0, 5.0, 7.0]
    with pytest.raises(InputError, match="no purchase on or before 1996-12-31"):
        churn.warning_inputs(tx, "1996-12-31", horizon_days=90)
    with pytest.raises(InputError, match="horizon_days"):
        churn.warning_inputs(tx, AS_OF, horizon_days=0)


def test_p_alive_and_lapse_probability_are_fitted_at_the_same_date():
    from crmlab.btyd import BetaGeo
    from crmlab.features import customer_summary

    raw, _ = read_table(ROOT / "tests" / "data" / "cdnow_small.txt")
    tx = pd.DataFrame({"customer_id": raw["customer_id"], "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
                       "amount": raw["dollar_value"].astype(float)})
    for as_of in ("1997-09-30", "1998-06-30"):
        out = churn.warning_inputs(tx, as_of, horizon_days=90)
        summary = customer_summary(tx, as_of)
        bg = BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"])
        np.testing.assert_allclose(out["p_alive"], bg.p_alive(summary["frequency"], summary["recency"], summary["T"]))
        np.testing.assert_allclose(out["days_since_last"], summary["days_since_last"])
        one = out["frequency"] == 0
        assert (out.loc[one, "p_alive"] == 1.0).all()  # BG/NBD: one-time buyers are "alive"
        assert ((out["lapse_probability"] >= 1 - out["p_alive"] - 1e-12) & (out["lapse_probability"] <= 1)).all()
        assert out.attrs["bgnbd"]["fitted"] and out.attrs["horizon_days"] == 90
        warned = churn.transactional_warning(out, warning_section(capacity=0.1))
        assert not warned.loc[warned["one_time_buyer"], "low_p_alive"].any()
        assert warned["warning"].sum() <= math.ceil(0.1 * len(out))
        ratio = summary["days_since_last"] / summary["gap_mean"].fillna(summary["gap_mean"].median()).clip(lower=1)
        np.testing.assert_allclose(warned["gap_ratio"], ratio)


def test_warning_inputs_without_repeat_buyers_keep_p_alive_missing():
    tx = pd.DataFrame({"customer_id": ["A", "B"], "date": pd.to_datetime(["1997-01-01", "1997-01-05"]),
                       "amount": [1.0, 2.0]})
    out = churn.warning_inputs(tx, AS_OF, horizon_days=90)
    assert out["p_alive"].isna().all() and not out.attrs["bgnbd"]["fitted"]
    assert "no customer has a repeat purchase" in out.attrs["bgnbd"]["why"]


@pytest.fixture
def backtest_tx():
    # flags raised on 1 Feb 1997, checked over (1 Feb, 1 Apr]
    return pd.DataFrame({
        "customer_id": ["A", "A", "B", "C", "D", "E", "F"],
        "date": pd.to_datetime(["1997-01-03", "1997-02-10",   # A bought in the window
                                "1997-01-05",                 # B: nothing after as_of
                                "1997-04-01",                 # C: on the last day (counts)
                                "1997-05-01",                 # D: after the window
                                "1997-02-01",                 # E: on as_of itself (before the window)
                                "1997-03-15"]),               # F: not a customer at as_of
        "amount": 1.0,
    })


@pytest.mark.parametrize(
    "flags, expected",
    [
        # bought: A, C; lapsed: B, D, E (base rate 3/5); flagged A, B, E -> 2 of 3 lapsed
        ([True, True, False, False, True], {"precision": 2 / 3, "recall": 2 / 3, "lift": (2 / 3) / (3 / 5),
                                            "flagged_share": 3 / 5, "flagged_lapsed": 2}),
        ([False, True, False, True, False], {"precision": 1.0, "recall": 2 / 3, "lift": 5 / 3,
                                             "flagged_share": 2 / 5, "flagged_lapsed": 2}),
        ([False] * 5, {"precision": None, "recall": 0.0, "lift": None, "flagged_share": 0.0,
                       "flagged_lapsed": 0}),
    ],
    ids=["mixed", "perfect", "nobody-flagged"],
)
def test_warning_backtest_by_hand(backtest_tx, flags, expected):
    warning = pd.DataFrame({"customer_id": list("ABCDE"), "as_of": AS_OF, "warning": flags})
    out = churn.warning_backtest(warning, backtest_tx, "1997-04-01")
    for key, value in expected.items():
        assert out[key] == (pytest.approx(value) if value is not None else None), key
    assert (out["customers"], out["lapsed"], out["base_rate"]) == (5, 3, pytest.approx(0.6))
    assert (out["as_of"], out["until"]) == ("1997-02-01", "1997-04-01")


def test_warning_backtest_errors(backtest_tx):
    warning = pd.DataFrame({"customer_id": ["A", "B"], "as_of": AS_OF, "warning": [True, False]})
    with pytest.raises(InputError, match="must be after as_of"):
        churn.warning_backtest(warning, backtest_tx, "1997-02-01")
    with pytest.raises(InputError, match="one as_of date"):
        churn.warning_backtest(warning.assign(as_of=[AS_OF, pd.Timestamp("1997-03-01")]), backtest_tx, "1997-04-01")
    with pytest.raises(InputError, match="'warning'"):
        churn.warning_backtest(warning.drop(columns="warning"), backtest_tx, "1997-04-01")


def test_warning_metrics(base):
    out = churn.transactional_warning(base, warning_section(capacity=0.4))
    metrics = churn.warning_metrics(out, warning_section(capacity=0.4))
    assert (metrics["customers"], metrics["candidates"], metrics["warned"]) == (5, 3, 2)
    assert (metrics["one_time_buyers"], metrics["one_time_buyers_p_alive_one"]) == (2, 1)
    assert metrics["one_time_gap_days"] == 10.0 and metrics["p_alive_available"] is True
    assert metrics["as_of"] == "1997-02-01"
    json.dumps(metrics)
    with pytest.raises(InputError, match="'warning'"):
        churn.warning_metrics(out.drop(columns="warning"), warning_section())
    with pytest.raises(InputError, match="'gap_ratio'"):
        churn.warning_call_list(out.drop(columns="gap_ratio"))


# --- products and the whole stage ------------------------------------------------------------------


def test_labelled_metrics_document(tiny, tiny_models):
    _, params, table = tiny
    scores, thresholds = churn.churn_scores(table, tiny_models, params)
    doc = churn.labelled_metrics(table, tiny_models, scores, thresholds, params.capacity)
    assert doc["chosen"] == tiny_models.chosen and doc["models"] == ["logistic", "gradient_boosting"]
    for name in doc["models"]:
        assert set(doc[name]) == {"roc_auc", "pr_auc", "brier"}
    assert doc["rows"]["test"] == (scores["split"] == "test").sum()
    assert sum(doc["risk_bands"]["counts"].values()) == len(scores)
    assert doc["risk_bands"]["counts"]["churned"] == doc["rows"]["churned"] == int(table.target.sum())
    assert doc["current_customers"]["customers"] == int((table.target == 0).sum())
    assert doc["current_customers"]["high"] == doc["risk_bands"]["counts"]["high"]
    assert "contact" in doc["left_out"]
    json.dumps(doc)  # serialisable as it is
    with pytest.raises(InputError, match="'risk_band'"):
        churn.labelled_metrics(table, tiny_models, scores.drop(columns="risk_band"), thresholds, 0.1)


@pytest.mark.slow
def test_telco_chosen_model_is_at_least_as_good_as_either(tmp_path):
    params = params_from_dict({"churn": {"path": str(RAW / "telco" / "telco_churn.csv"), "target": "churn",
                                         "fill_blanks": {"total_charges": 0}}}).churn
    raw, _ = read_table(params.path)
    table = churn.prepare_churn_table(raw, params)
    models = churn.fit_churn_models(table, params)
    test_auc = {name: m["roc_auc"] for name, m in models.metrics.items()}
    assert test_auc[models.chosen] >= max(test_auc["logistic"], test_auc["gradient_boosting"])
    assert test_auc["logistic"] > 0.83
    assert models.metrics["final"]["brier"] < 0.15
    assert table.types.set_index("column").loc["total_charges", "blanks"] == 11


@pytest.mark.slow
def test_stage_runs_on_another_table_from_params_alone(tmp_path):
    params = tmp_path / "tiny.yaml"
    params.write_text(yaml.safe_dump({
        "run_name": "tiny",
        "paths": {"processed": str(tmp_path / "processed"), "outputs": str(tmp_path / "outputs")},
        "churn": TINY_PARAMS,
    }))
    out = subprocess.run([sys.executable, "-m", "crmlab.cli", "run", "--params", str(params),
                          "--only", "churn", "--no-progress"],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    products = tmp_path / "processed" / "tiny"
    scores = pd.read_parquet(products / "churn_scores.parquet")
    assert list(scores.columns) == ["account_no", "split", "actual", "churn_probability", "risk_band",
                                    "score_band"]
    assert len(scores) == 80 and set(scores["risk_band"]) <= {"high", "medium", "low", "churned"}
    assert (scores.loc[scores["actual"] == 1, "risk_band"] == "churned").all()
    metrics = json.loads((products / "churn_metrics.json").read_text())
    assert metrics["chosen"] in metrics["models"] and metrics["transactional"] is None
    assert not (products / "churn_warning.parquet").exists()
    run_dir = (tmp_path / "outputs" / "tiny" / "latest").resolve()
    for f in [*run_dir.glob("tables/*.csv"), run_dir / "06_churn.html"]:
        assert "@example.com" not in f.read_text(encoding="utf-8-sig"), f"personal data in {f.name}"


@pytest.mark.slow
def test_a_bad_target_fails_the_stage_with_a_clear_error(tmp_path):
    params = tmp_path / "bad.yaml"
    params.write_text(yaml.safe_dump({
        "run_name": "bad",
        "paths": {"processed": str(tmp_path / "processed"), "outputs": str(tmp_path / "outputs")},
        "churn": {**TINY_PARAMS, "positive": "churned"},
    }))
    out = subprocess.run([sys.executable, "-m", "crmlab.cli", "run", "--params", str(params),
                          "--only", "churn", "--no-progress"],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 2
    assert "error:" in out.stderr and "'churn.positive'" in out.stderr


# --- narrative and displays ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "chosen, expected",
    [
        ("logistic", "**Chosen: logistic** (cross-validated ROC AUC 0.800 ± 0.020) because it is within "
                     "one standard error (0.015) of gradient boosting (0.810) and simpler."),
        ("gradient_boosting", "**Chosen: gradient boosting** (cross-validated ROC AUC 0.810 ± 0.015) "
                              "because it has the best cross-validated ROC AUC."),
    ],
    ids=["simpler-within-one-se", "best"],
)
def test_model_choice_sentence(chosen, expected):
    summary = pd.DataFrame({"model": ["logistic", "gradient_boosting"], "mean": [0.80, 0.81],
                            "se": [0.02, 0.015]})
    assert churn.narrative.model_choice(summary, chosen) == expected


def test_run_scope_says_what_is_skipped():
    text = churn.narrative.run_scope("data/raw/telco/telco_churn.csv", False)
    assert "Part A (labelled table `telco_churn.csv`): yes." in text
    assert "Part B: *skipped*" in text
    assert "Part A: *skipped*" in churn.narrative.run_scope(None, True)


def test_labelled_displays_keep_the_figure_names(tiny, tiny_models):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, params, table = tiny
    scores, thresholds = churn.churn_scores(table, tiny_models, params)
    gains = churn.gains_display(tiny_models, params.capacity)
    shown = [churn.odds_ratios_display(tiny_models, table), churn.roc_display(tiny_models),
             churn.pr_display(tiny_models), churn.calibration_display(tiny_models), gains,
             churn.lift_display(gains["gains"]), churn.probability_display(scores, thresholds, table)]
    assert [d.name for d in shown] == ["churn_odds_ratios", "churn_roc", "churn_pr", "churn_calibration",
                                       "churn_gains", "churn_lift", "churn_probability_by_class"]
    assert [d.table is not None for d in shown] == [True, False, False, False, True, False, False]
    assert gains["capacity"] == churn.capacity_summary(tiny_models.test["actual"], tiny_models.test["final"],
                                                       params.capacity)
    for d in shown:
        assert d.takeaway
        ax = d.plot()
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    plt.close("all")


def test_churn_metrics_without_either_part():
    assert churn.churn_metrics(None, None, None, None) == {
        "labelled": False, "chosen": None, "transactional": None, "warning_backtest": None}
    doc = churn.churn_metrics({"labelled": True}, {"warned": 2}, pd.DataFrame({"rank": [1, 2]}), None)
    assert doc == {"labelled": True, "transactional": {"warned": 2, "watch_list": 2}, "warning_backtest": None}
    with pytest.raises(ValueError, match="call list"):
        churn.churn_metrics(None, {"warned": 2}, None, None)


def test_warning_horizon_is_the_holdout_length():
    assert churn.warning_horizon(pd.Timestamp("1998-06-30"), "1997-09-30") == 273
    assert churn.warning_horizon(pd.Timestamp("1998-06-30"), None) == churn.FALLBACK_HORIZON_DAYS
