"""crmlab.satisfaction: survey intake, reliability, index, key drivers, loyalty, groups, NPS.

The ECSI numbers are checked against plain numpy formulas written out here, independently
of the module; the tiny survey (tests/data/survey_tiny.csv) is small enough to know by hand.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from crmlab import satisfaction as sat
from crmlab.config import load_params
from crmlab.errors import InputError
from crmlab.io import read_table

from conftest import RAW, ROOT

TINY = ROOT / "tests" / "data" / "survey_tiny.csv"
TINY_SURVEY = {
    "path": str(TINY),
    "scale": [1, 7],
    "constructs": {
        "Service": ["sv1", "sv2", "sv3"],
        "Price": ["pr1", "pr2"],
        "Staff": ["st1"],
        "Happy": ["hp1", "hp2"],
        "Loyal": ["ly1", "ly2"],
    },
    "outcome": "Happy",
    "loyalty": "Loyal",
    "reversed": ["sv3"],
    "id": "resp_id",
    "group": "region",
    "recommend": "rec",
    "missing_codes": [-99],
}
NAN = np.nan
# The tiny survey after the policy, worked out by hand: the second 'r02' row is dropped
# (repeated id), sv3 is reversed (8 - x), -99 / 'x' / blank / 9 (above 7) become missing.
TINY_ITEMS = pd.DataFrame(
    {
        "sv1": [6, 5, 4, 7, 3, NAN, 5, 2, 6, 4, 7],
        "sv2": [7, 5, NAN, 6, 3, NAN, 6, 3, 5, 4, 7],
        "sv3": [6, 5, 4, 7, 3, 2, 5, 2, 6, 4, 7],
        "pr1": [5, 4, 3, NAN, 2, 2, 5, 3, 6, 4, 6],
        "pr2": [6, 4, 4, 6, 3, 2, 5, 2, 5, 3, 7],
        "st1": [7, 5, 4, 6, 3, 2, 4, 3, 5, 5, 6],
        "hp1": [5, 5, 4, 7, NAN, 2, 5, 4, 5, 5, 6],
        "hp2": [6, 5, 4, 6, 3, 3, 6, 4, 5, 4, 7],
        "ly1": [6, 5, 4, 7, 3, 2, 5, 3, 6, 4, 7],
        "ly2": [6, 4, 5, 7, 2, 3, 5, 3, 5, 4, 6],
    },
    dtype="float64",
)
TINY_REC = [9, 8, 6, 10, 3, 0, NAN, 5, 9, 7, 10]
TINY_REGION = [
    "North",
    "North",
    "South",
    "South",
    "East",
    "East",
    None,
    "South",
    "East",
    "North",
    "South",
]


@pytest.fixture(scope="module")
def tiny():
    raw, _ = read_table(TINY)
    return raw, sat.analyze_survey(raw, TINY_SURVEY)


@pytest.fixture(scope="module")
def mobi():
    survey = load_params(ROOT / "params" / "default.yaml").survey
    raw, _ = read_table(survey.path)
    return survey, sat.summary_json(sat.analyze_survey(raw, survey))


# --- independent numpy formulas --------------------------------------------------------------


def np_alpha(m: np.ndarray) -> float:
    k = m.shape[1]
    return k / (k - 1) * (1 - m.var(axis=0, ddof=1).sum() / m.sum(axis=1).var(ddof=1))


def np_std_alpha(m: np.ndarray) -> float:
    k = m.shape[1]
    r = np.corrcoef(m, rowvar=False)
    rbar = (r.sum() - k) / (k * (k - 1))
    return k * rbar / (1 + (k - 1) * rbar)


def np_r2(y: np.ndarray, x: np.ndarray) -> float:
    design = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    return 1 - (resid**2).sum() / ((y - y.mean()) ** 2).sum()


# --- the ECSI survey: acceptance numbers -----------------------------------------------------


def test_mobi_matches_hand_computation(mobi):
    survey, result = mobi
    with open(RAW / "ecsi" / "mobi.csv", encoding="utf-8") as fh:
        header = fh.readline().strip().replace('"', "").split(",")
    data = np.loadtxt(RAW / "ecsi" / "mobi.csv", delimiter=",", skiprows=1)
    assert data.shape == (250, 24)
    col = {name: i for i, name in enumerate(header)}
    score = {}
    for name, items in survey.constructs.items():
        m = data[:, [col[i] for i in items]]
        score[name] = m.mean(axis=1)
        got = result["constructs"][name]
        assert got["index_0_100"] == pytest.approx((score[name].mean() - 1) / 9 * 100, abs=5e-4)
        assert got["n"] == 250
        if len(items) > 1:
            assert got["alpha"] == pytest.approx(np_alpha(m), abs=5e-4)
            assert got["alpha_standardized"] == pytest.approx(np_std_alpha(m), abs=5e-4)
        else:
            assert got["alpha"] is None and "single item" in got["note"]
    drivers = survey.drivers or [c for c in survey.constructs if c not in (survey.outcome, survey.loyalty)]
    assert drivers == ["Image", "Expectation", "Quality", "Value"]  # the ECSI model of the default params
    r2 = np_r2(score["Satisfaction"], np.column_stack([score[d] for d in drivers]))
    assert result["r2"] == pytest.approx(r2, abs=5e-4)
    assert result["satisfaction_index"] == result["constructs"]["Satisfaction"]["index_0_100"]
    assert set(result["drivers"]) == set(drivers)
    assert sum(d["importance"] for d in result["drivers"].values()) == pytest.approx(1)
    for name, d in result["drivers"].items():
        assert d["performance"] == result["constructs"][name]["index_0_100"]
    # the loyalty slope in scale points is the simple regression slope
    slope = np.polyfit(score["Satisfaction"], score["Loyalty"], 1)[0]
    assert result["loyalty"]["slope"] == pytest.approx(slope, abs=5e-4)
    assert result["missing"]["answers_set_missing"] == {r: 0 for r in sat.MISSING_REASONS}
    json.dumps(result, allow_nan=False)  # the product writer refuses NaN


def test_mobi_json_names_which_alpha(mobi):
    _, result = mobi
    assert "raw-score Cronbach" in result["notes"]["alpha"]
    assert "standardised-item" in result["notes"]["alpha"]
    assert "maximum-likelihood one-factor" in result["notes"]["loadings"]


def test_mobi_reliability_is_judged_on_measurement_model_loadings(mobi):
    """The review's case: Expectation has alpha 0.43 but first-PC loadings gave CR 0.73."""
    survey, result = mobi
    c = result["constructs"]
    exp = c["Expectation"]
    assert exp["loadings"] == "ml" and exp["alpha"] == pytest.approx(0.4326, abs=1e-3)
    # three items fit one factor exactly: lambda_1 = sqrt(r12 r13 / r23), and so on
    data = np.loadtxt(RAW / "ecsi" / "mobi.csv", delimiter=",", skiprows=1)
    with open(RAW / "ecsi" / "mobi.csv", encoding="utf-8") as fh:
        header = fh.readline().strip().replace('"', "").split(",")
    cols = [header.index(i) for i in survey.constructs["Expectation"]]
    r = np.corrcoef(data[:, cols], rowvar=False)
    lam = np.sqrt([r[0, 1] * r[0, 2] / r[1, 2], r[0, 1] * r[1, 2] / r[0, 2],
                   r[0, 2] * r[1, 2] / r[0, 1]])
    cr = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    assert exp["composite_reliability"] == pytest.approx(cr, abs=1e-4)
    assert exp["composite_reliability"] < sat.CR_MIN and exp["verdict"] == "unreliable"
    np.testing.assert_allclose(list(exp["item_loadings"].values()), lam, atol=1e-4)
    # two items: equal loadings sqrt(r), so CR is the standardised alpha (Spearman-Brown)
    assert c["Value"]["loadings"] == "tau-equivalent"
    assert c["Value"]["composite_reliability"] == pytest.approx(c["Value"]["alpha_standardized"])
    # Loyalty's third loading runs into 1: flagged, and not passed
    assert c["Loyalty"]["heywood"] and c["Loyalty"]["verdict"] == "unreliable"
    assert "Heywood" in c["Loyalty"]["note"]


def test_mobi_suppression_and_levers_in_product_and_takeaways(mobi):
    survey, result = mobi
    raw, _ = read_table(survey.path)
    t = sat.takeaways(sat.analyze_survey(raw, survey))
    quality = result["loyalty"]["with_drivers"]["terms"]["Quality"]
    assert quality["beta"] < 0 < quality["r"] and quality["sign_flip"]
    assert (quality["beta"], quality["r"]) == (pytest.approx(-0.177, abs=1e-3),
                                               pytest.approx(0.444, abs=1e-3))  # README numbers
    assert result["loyalty"]["with_drivers"]["suppressed"] == ["Quality"]
    assert "Quality's coefficient turns negative" in t["loyalty"] and "suppression" in t["loyalty"]
    assert result["drivers"]["Expectation"]["actionable"] is False
    assert "Expectation is not a lever" in t["ipm"]
    assert "improve Expectation" not in t["ipm"] and "invest" not in t["ipm"]
    assert "Expectation (alpha 0.43, CR 0.51)" in t["reliability"]
    assert t["loadings"] == (
        "**Takeaway:** first-principal-component loadings would put Expectation's CR at 0.73 "
        "instead of 0.51 (alpha 0.43): enough to make it look reliable.")
    assert result["ipm"]["importance_cut"] != pytest.approx(1 / len(result["drivers"]))


# --- intake ---------------------------------------------------------------------------------


def test_prepare_tiny_survey_sets_missing_and_counts_by_reason(tiny):
    _, analysis = tiny
    prepared = analysis.prepared
    assert_frame_equal(prepared.items, TINY_ITEMS)
    assert prepared.respondents_in == 12 and prepared.duplicate_ids == 1
    assert prepared.blank_groups == 1
    assert_series_equal(prepared.recommend, pd.Series(TINY_REC, dtype="float64", name="recommend"))
    expected = pd.DataFrame(
        {
            "item": ["sv1", "sv2", "sv3", "pr1", "pr2", "st1", "hp1", "hp2", "ly1", "ly2", "rec"],
            "construct": ["Service"] * 3
            + ["Price"] * 2
            + ["Staff"]
            + ["Happy"] * 2
            + ["Loyal"] * 2
            + ["(recommend, 0-10)"],
            "blank": [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            "non_numeric": [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
            "missing_code": [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            "out_of_range": [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
            "missing": [1, 2, 0, 1, 0, 0, 1, 0, 0, 0, 1],
            "answered": [10, 9, 11, 10, 11, 11, 10, 11, 11, 11, 10],
            "reversed": [False, False, True] + [False] * 8,
        }
    )
    assert_frame_equal(prepared.missing, expected, check_dtype=False)
    assert analysis.losses["answers_set_missing"] == {
        "blank": 2,
        "non_numeric": 1,
        "missing_code": 1,
        "out_of_range": 1,
    }


def test_prepare_accepts_numeric_columns_and_does_not_mutate():
    raw = pd.DataFrame({"a": [1.0, -99.0, np.nan, 5.0], "b": [2.0, 3.0, 4.0, 12.0]})
    before = raw.copy()
    survey = {
        "scale": [1, 5],
        "constructs": {"S": ["a", "b"]},
        "outcome": "S",
        "missing_codes": [-99],
    }
    prepared = sat.prepare_survey(raw, survey)
    assert_frame_equal(raw, before)
    expected = pd.DataFrame({"a": [1.0, NAN, NAN, 5.0], "b": [2.0, 3.0, 4.0, NAN]})
    assert_frame_equal(prepared.items, expected)
    assert prepared.missing[["blank", "missing_code", "out_of_range"]].to_numpy().tolist() == [
        [1, 1, 0],
        [0, 0, 1],
    ]


def test_recommend_zero_is_an_answer_even_when_zero_is_a_missing_code():
    raw = pd.DataFrame({"q": ["1", "0", "2"], "rec": ["0", "10", "-1"]})
    survey = {
        "scale": [1, 5],
        "constructs": {"S": ["q"]},
        "outcome": "S",
        "recommend": "rec",
        "missing_codes": [0, -1],
    }
    prepared = sat.prepare_survey(raw, survey)
    assert prepared.items["q"].isna().tolist() == [False, True, False]
    assert prepared.recommend.tolist()[:2] == [0.0, 10.0] and np.isnan(prepared.recommend.iloc[2])


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"constructs": {**TINY_SURVEY["constructs"], "Happy": ["hp1", "nope"]}},
            "survey item column 'nope' not found",
        ),
        ({"group": "segment"}, "'survey.group': column 'segment' not found"),
        ({"outcome": "Joy"}, "'survey.outcome': 'Joy' is not one of the constructs"),
        ({"reversed": ["rec"]}, "'survey.reversed': 'rec' is not an item of any construct"),
        (
            {"constructs": {"A": ["sv1"], "B": ["sv1"]}, "outcome": "A", "loyalty": None},
            "item 'sv1' is listed under both 'A' and 'B'",
        ),
        ({"drivers": ["Happy"]}, "'survey.drivers': 'Happy' is the outcome"),
        ({"scale": [7, 1]}, "'survey.scale'"),
        ({"loyalty": "Happy"}, "name the same construct"),
    ],
    ids=[
        "missing-item",
        "missing-group",
        "unknown-outcome",
        "reversed-not-item",
        "item-twice",
        "outcome-as-driver",
        "bad-scale",
        "loyalty-is-outcome",
    ],
)
def test_prepare_survey_rejects_bad_params(tiny, change, message):
    raw, _ = tiny
    with pytest.raises(InputError, match=message):
        sat.prepare_survey(raw, {**TINY_SURVEY, **change})


# --- reliability ----------------------------------------------------------------------------

A = [1.0, 2.0, 3.0, 4.0]
B = [2.0, 1.0, 4.0, 3.0]


@pytest.mark.parametrize(
    "items, raw_alpha, std_alpha",
    [
        # var a = var b = 5/3, var(a+b) = 16/3: alpha = 2 (1 - (10/3)/(16/3)) = 0.75; r = 0.6
        ({"a": A, "b": B}, 0.75, 0.75),
        # doubling b leaves r (so the standardised alpha) alone but changes raw alpha:
        # var(a + 2b) = 37/3, alpha = 2 (1 - (25/3)/(37/3)) = 24/37
        ({"a": A, "b": [2 * x for x in B]}, 24 / 37, 0.75),
        # identical items agree perfectly
        ({"a": A, "b": A, "c": A}, 1.0, 1.0),
    ],
    ids=["equal-variances", "unequal-variances", "identical"],
)
def test_alphas(items, raw_alpha, std_alpha):
    df = pd.DataFrame(items)
    assert sat.cronbach_alpha(df) == pytest.approx(raw_alpha)
    assert sat.standardised_alpha(df) == pytest.approx(std_alpha)


def test_alpha_uses_complete_rows_and_single_item_is_nan():
    df = pd.DataFrame({"a": A + [7.0], "b": B + [NAN]})
    assert sat.cronbach_alpha(df) == pytest.approx(0.75)
    assert np.isnan(sat.cronbach_alpha(df[["a"]]))


@pytest.mark.parametrize(
    "fn",
    [sat.cronbach_alpha, sat.standardised_alpha, sat.one_factor_loadings],
    ids=["alpha", "std-alpha", "loadings"],
)
def test_reliability_functions_reject_text(fn):
    with pytest.raises(InputError, match="not numeric"):
        fn(pd.DataFrame({"a": ["1", "2"], "b": [1.0, 2.0]}))


def test_two_item_loadings_cr_and_ave():
    # r = 0.6: two items are taken as tau-equivalent, loadings sqrt(0.6) each;
    # CR = (2 sqrt .6)^2 / ((2 sqrt .6)^2 + 2 * 0.4) = 2.4 / 3.2 = 2r / (1 + r); AVE = r
    lam = sat.one_factor_loadings(pd.DataFrame({"a": A, "b": B}))
    assert_series_equal(lam, pd.Series([0.6**0.5] * 2, index=["a", "b"], name="loading"))
    assert sat.composite_reliability(lam) == pytest.approx(2.4 / 3.2)
    assert sat.average_variance_extracted(lam) == pytest.approx(0.6)
    # the first principal component's loadings are sqrt(0.8): CR 3.2 / 3.6 (inflated)
    pca = sat.one_factor_loadings(pd.DataFrame({"a": A, "b": B}), method="pca")
    assert sat.composite_reliability(pca) == pytest.approx(3.2 / 3.6)


def _exact_sample(corr: np.ndarray, n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Data whose sample correlation matrix is exactly ``corr``."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, len(corr)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T
    x = z @ np.linalg.cholesky(corr).T * 1.5 + 5  # scale and shift: loadings do not care
    return pd.DataFrame(x, columns=[f"q{i + 1}" for i in range(len(corr))])


def _one_factor_corr(lam) -> np.ndarray:
    lam = np.asarray(lam, dtype=float)
    corr = np.outer(lam, lam)
    np.fill_diagonal(corr, 1.0)
    return corr


@pytest.mark.parametrize(
    "lam",
    [[0.8, 0.7, 0.6, 0.5], [0.9, 0.4, 0.3], [0.7] * 5, [0.85, 0.8, 0.75, 0.7, 0.65, 0.6]],
    ids=["four-items", "short-weak-scale", "equal-loadings", "six-items"],
)
def test_ml_loadings_recover_a_known_one_factor_model(lam):
    items = _exact_sample(_one_factor_corr(lam))
    fit = sat.fit_one_factor(items)
    assert fit.method == "ml" and not fit.heywood and fit.n == 400
    np.testing.assert_allclose(fit.loadings.to_numpy(), lam, atol=2e-4)
    lam = np.asarray(lam)
    cr = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    assert sat.composite_reliability(fit.loadings) == pytest.approx(cr, abs=2e-4)
    assert sat.average_variance_extracted(fit.loadings) == pytest.approx((lam**2).mean(), abs=2e-4)
    if len(lam) > 3:  # the model holds exactly: nothing left for the fit test to find
        assert fit.df == len(lam) * (len(lam) - 3) // 2 and fit.chi2 == pytest.approx(0, abs=1e-3)
    # first-principal-component loadings overstate CR of the same items
    pca = sat.one_factor_loadings(items, method="pca")
    assert sat.composite_reliability(pca) > cr + 0.01


def test_ml_loadings_from_a_simulated_survey():
    # y_i = lambda_i * factor + noise, n = 5,000: the fit lands near the true loadings
    rng = np.random.default_rng(7)
    lam = np.array([0.8, 0.6, 0.4])
    f = rng.standard_normal(5000)
    x = f[:, None] * lam + rng.standard_normal((5000, 3)) * np.sqrt(1 - lam**2)
    fit = sat.fit_one_factor(pd.DataFrame(x, columns=["a", "b", "c"]))
    np.testing.assert_allclose(fit.loadings.to_numpy(), lam, atol=0.05)


def test_short_scale_with_weak_items_fails_on_ml_but_passed_on_pca():
    """Expectation's pattern (r = .326, .214, .107): alpha ~0.45; PCA CR 0.73 'passed'."""
    r12, r13, r23 = 0.326, 0.214, 0.107
    corr = np.array([[1, r12, r13], [r12, 1, r23], [r13, r23, 1]])
    items = _exact_sample(corr)
    lam = np.sqrt([r12 * r13 / r23, r12 * r23 / r13, r13 * r23 / r12])  # by hand: .806 .404 .265
    cr = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())  # 0.507
    rel = sat.reliability(items, {"Expectation": list(items.columns)}).iloc[0]
    assert rel["composite_reliability"] == pytest.approx(cr, abs=1e-4)
    assert rel["composite_reliability"] < sat.CR_MIN and rel["verdict"] == "unreliable"
    rbar = (r12 + r13 + r23) / 3
    assert rel["alpha_standardized"] == pytest.approx(3 * rbar / (1 + 2 * rbar))
    pca = sat.one_factor_loadings(items, method="pca")
    assert sat.composite_reliability(pca) == pytest.approx(0.73, abs=0.005)  # the review's 0.73


def test_heywood_case_is_flagged():
    # r13 * r23 / r12 > 1: the exact solution needs a loading above 1
    corr = np.array([[1, 0.046, 0.542], [0.046, 1, 0.101], [0.542, 0.101, 1]])
    items = _exact_sample(corr)
    fit = sat.fit_one_factor(items)
    assert fit.heywood and fit.loadings.max() == pytest.approx(np.sqrt(0.995), abs=1e-3)
    rel = sat.reliability(items, {"L": list(items.columns)}).iloc[0]
    assert rel["heywood"] and "Heywood" in rel["flag"] and rel["verdict"] == "unreliable"


@pytest.mark.parametrize(
    "given, source, cr",
    [
        ({"q1": 0.8, "q2": 0.7, "q3": 0.6}, "PLS outer loadings", 4.41 / 5.92),
        (pd.Series({"q3": 0.5, "q2": 0.5, "q1": 0.5}), None, 2.25 / 4.5),
    ],
    ids=["mapping-with-source", "series-default-source"],
)
def test_reliability_uses_loadings_passed_in(given, source, cr):
    items = _exact_sample(_one_factor_corr([0.6, 0.6, 0.6]))
    rel = sat.reliability(items, {"X": ["q1", "q2", "q3"]}, loadings=given,
                          loading_source=source).iloc[0]
    assert rel["composite_reliability"] == pytest.approx(cr)
    assert rel["loadings"] == (source or "given")
    stats_ = sat.item_statistics(items, {"X": ["q1", "q2", "q3"]}, loadings=given)
    assert stats_["loading"].tolist() == [float(given[c]) for c in ["q1", "q2", "q3"]]


@pytest.mark.parametrize(
    "given, match",
    [({"q1": 0.8, "q2": 0.7}, "no value for item 'q3' of construct 'X'"),
     ({"q1": 0.8, "q2": 0.7, "q3": 1.4}, r"\[-1, 1\]")],
    ids=["missing-item", "out-of-range"],
)
def test_reliability_rejects_bad_loadings(given, match):
    items = _exact_sample(_one_factor_corr([0.6, 0.6, 0.6]))
    with pytest.raises(InputError, match=match):
        sat.reliability(items, {"X": ["q1", "q2", "q3"]}, loadings=given)


def test_fit_one_factor_rejects_unknown_method():
    with pytest.raises(InputError, match="'varimax' is not ml or pca"):
        sat.fit_one_factor(pd.DataFrame({"a": A, "b": B}), method="varimax")


@pytest.mark.parametrize(
    "loadings, cr, ave",
    [
        ([0.8, 0.7, 0.6], 4.41 / 5.92, 1.49 / 3),
        ([1.0], NAN, NAN),
    ],
    ids=["three-items", "single-item"],
)
def test_composite_reliability_and_ave(loadings, cr, ave):
    np.testing.assert_allclose(sat.composite_reliability(loadings), cr)
    np.testing.assert_allclose(sat.average_variance_extracted(loadings), ave)


@pytest.mark.parametrize(
    "fn", [sat.composite_reliability, sat.average_variance_extracted], ids=["cr", "ave"]
)
def test_loadings_outside_minus_one_one_are_rejected(fn):
    with pytest.raises(InputError, match=r"\[-1, 1\]"):
        fn([0.5, 1.2])


def test_item_statistics_on_hand_frame():
    df = pd.DataFrame({"a": A, "b": B, "c": [1.0, 1.0, 2.0, 2.0]})
    stats_ = sat.item_statistics(df, {"X": ["a", "b"], "Y": ["c"]})
    assert stats_["item"].tolist() == ["a", "b", "c"]
    # with two items the "rest" is the other item: item-total r = r(a, b) = 0.6
    np.testing.assert_allclose(stats_["item_total_r"].iloc[:2], [0.6, 0.6])
    assert stats_[["alpha_if_deleted", "alpha_change", "item_total_r"]].iloc[2].isna().all()
    assert stats_["loading"].iloc[2] == 1.0


def test_item_statistics_missing_item():
    with pytest.raises(InputError, match="item column 'z' of construct 'X' not found"):
        sat.item_statistics(pd.DataFrame({"a": A}), {"X": ["a", "z"]})


def test_reliability_flags_in_plain_words():
    weak = pd.DataFrame({"a": A, "b": [3.0, 1.0, 2.0, 4.0], "s": [2.0, 2.0, 3.0, 3.0]})
    rel = sat.reliability(weak, {"W": ["a", "b"], "S": ["s"]}).set_index("construct")
    assert rel.at["W", "alpha"] < sat.ALPHA_MIN and "do not move together" in rel.at["W", "flag"]
    assert "single item" in rel.at["S", "flag"] and np.isnan(rel.at["S", "alpha"])


def test_reliability_needs_its_items():
    with pytest.raises(InputError, match="not found"):
        sat.reliability(pd.DataFrame({"a": A}), {"X": ["b"]})


# --- scores and index -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "min_answered, expected",
    [(0.5, [2.0, 3.0, NAN]), (1.0, [2.0, NAN, NAN]), (0.3, [2.0, 3.0, 5.0])],
    ids=["half", "all", "one-of-three"],
)
def test_construct_scores_policy(min_answered, expected):
    items = pd.DataFrame({"a": [1.0, 2.0, NAN], "b": [2.0, 4.0, 5.0], "c": [3.0, NAN, NAN]})
    got = sat.construct_scores(items, {"S": ["a", "b", "c"]}, min_answered)
    assert_frame_equal(got, pd.DataFrame({"S": expected}))


def test_construct_scores_rejects_bad_share():
    with pytest.raises(InputError, match="min_answered"):
        sat.construct_scores(pd.DataFrame({"a": A}), {"S": ["a"]}, 0)


def test_satisfaction_index_and_interval():
    scores = pd.DataFrame({"S": [1.0, 10.0, NAN]})
    got = sat.satisfaction_index(scores, (1, 10), 0.95)
    half = 12.706204736174698 * (9 / 2**0.5) / 2**0.5 / 9 * 100  # t(0.975, 1) sd / sqrt(n)
    expected = pd.DataFrame(
        {
            "construct": ["S"],
            "n": [2],
            "mean": [5.5],
            "sd": [9 / 2**0.5],
            "index": [50.0],
            "ci_low": [50.0 - half],
            "ci_high": [50.0 + half],
        }
    )
    assert_frame_equal(got, expected)


def test_satisfaction_index_rejects_bad_scale():
    with pytest.raises(InputError, match="scale"):
        sat.satisfaction_index(pd.DataFrame({"S": [1.0]}), (5, 5))


def test_tiny_index_by_hand(tiny):
    _, analysis = tiny
    happy = TINY_ITEMS[["hp1", "hp2"]].mean(axis=1)  # every row has at least 1 of 2 answers
    idx = analysis.index.set_index("construct")
    assert idx.at["Happy", "index"] == pytest.approx((happy.mean() - 1) / 6 * 100)
    service = TINY_ITEMS[["sv1", "sv2", "sv3"]]
    enough = service.notna().sum(axis=1) >= 2  # r06 answered 1 of 3: no score
    assert idx.at["Service", "n"] == 10
    assert idx.at["Service", "index"] == pytest.approx(
        (service[enough].mean(axis=1).mean() - 1) / 6 * 100
    )


# --- drivers --------------------------------------------------------------------------------


def _driver_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": [3.0, 5.0, 4.0, 7.0, 6.0, 9.0, 8.0, 6.0],
            "x1": [1.0, 2.0, 2.0, 4.0, 3.0, 5.0, 5.0, 3.0],
            "x2": [2.0, 2.0, 3.0, 3.0, 5.0, 4.0, 6.0, 4.0],
            "x3": [5.0, 1.0, 4.0, 2.0, 2.0, 3.0, 1.0, 5.0],
        }
    )


def test_shapley_two_drivers_closed_form():
    df = _driver_frame()
    r = df.corr()
    full = np_r2(df["y"].to_numpy(), df[["x1", "x2"]].to_numpy())
    # two drivers: each gets half of its own R² plus half of what it adds to the other
    lmg1 = 0.5 * r.at["y", "x1"] ** 2 + 0.5 * (full - r.at["y", "x2"] ** 2)
    got = sat.shapley_r2(df, "y", ["x1", "x2"])
    np.testing.assert_allclose(got.to_numpy(), [lmg1, full - lmg1])


def test_shapley_three_drivers_averages_over_orders():
    df = _driver_frame()
    xs = ["x1", "x2", "x3"]
    y = df["y"].to_numpy()

    def r2(cols):
        return np_r2(y, df[list(cols)].to_numpy()) if cols else 0.0

    expected = dict.fromkeys(xs, 0.0)
    orders = list(itertools.permutations(xs))
    for order in orders:
        for i, x in enumerate(order):
            expected[x] += (r2(order[: i + 1]) - r2(order[:i])) / len(orders)
    got = sat.shapley_r2(df, "y", xs)
    np.testing.assert_allclose(got.to_numpy(), [expected[x] for x in xs])
    assert got.sum() == pytest.approx(r2(xs))


def test_relative_weights_sum_to_r2_and_equal_r2_share_when_uncorrelated():
    df = _driver_frame()
    rw = sat.relative_weights(df, "y", ["x1", "x2", "x3"])
    assert rw.sum() == pytest.approx(np_r2(df["y"].to_numpy(), df[["x1", "x2", "x3"]].to_numpy()))
    # orthogonal drivers: the weight is the squared correlation
    orth = pd.DataFrame(
        {"y": [1.0, 2.0, 4.0, 3.0], "a": [1.0, -1.0, 1.0, -1.0], "b": [1.0, 1.0, -1.0, -1.0]}
    )
    r = orth.corr()
    np.testing.assert_allclose(
        sat.relative_weights(orth, "y", ["a", "b"]).to_numpy(),
        [r.at["y", "a"] ** 2, r.at["y", "b"] ** 2],
        atol=1e-12,
    )


@pytest.mark.parametrize(
    "fn", [sat.shapley_r2, sat.relative_weights], ids=["shapley", "relative-weights"]
)
def test_importance_functions_refuse_missing_values(fn):
    df = _driver_frame()
    df.loc[0, "x1"] = NAN
    with pytest.raises(InputError, match="missing values"):
        fn(df, "y", ["x1", "x2"])


def test_key_drivers_against_numpy():
    df = _driver_frame()
    res = sat.key_drivers(df, "y", ["x1", "x2"])
    z = (df - df.mean()) / df.std(ddof=1)
    coef, *_ = np.linalg.lstsq(np.column_stack([np.ones(8), z[["x1", "x2"]]]), z["y"], rcond=None)
    table = res.table.set_index("construct")
    np.testing.assert_allclose(table.loc[["x1", "x2"], "beta"], coef[1:])
    vif = 1 / (1 - df["x1"].corr(df["x2"]) ** 2)  # two drivers: both VIFs are 1 / (1 - r²)
    np.testing.assert_allclose(table["vif"], [vif, vif])
    assert res.r2 == pytest.approx(np_r2(df["y"].to_numpy(), df[["x1", "x2"]].to_numpy()))
    assert table["importance"].sum() == pytest.approx(1)
    assert (res.n, res.dropped) == (8, 0)


def test_key_drivers_needs_enough_complete_rows():
    df = _driver_frame().iloc[:3]
    with pytest.raises(InputError, match="only 3 respondents have every score"):
        sat.key_drivers(df, "y", ["x1", "x2"])


def test_key_drivers_constant_score():
    df = _driver_frame().assign(x2=1.0)
    with pytest.raises(InputError, match="'x2' has no variance"):
        sat.key_drivers(df, "y", ["x1", "x2"])


def test_importance_performance_quadrants():
    drivers = pd.DataFrame(
        {
            "construct": ["A", "B", "C", "D"],
            "importance": [0.4, 0.3, 0.2, 0.1],
            "beta": [0.5, 0.4, 0.2, 0.1],
        }
    )
    index = pd.DataFrame({"construct": ["A", "B", "C", "D"], "index": [50.0, 80.0, 90.0, 40.0]})
    got = sat.importance_performance(drivers, index)
    # cross-hair: middle of the range, importance (0.1 + 0.4) / 2, performance (40 + 90) / 2
    expected = pd.DataFrame(
        {
            "rank": [1, 2, 3, 4],
            "construct": ["A", "B", "D", "C"],
            "importance": [0.4, 0.3, 0.1, 0.2],
            "performance": [50.0, 80.0, 40.0, 90.0],
            "beta": [0.5, 0.4, 0.1, 0.2],
            "quadrant": [
                "concentrate here",
                "keep up the good work",
                "low priority",
                "possible overkill",
            ],
            "actionable": [True] * 4,
            "importance_cut": [0.25] * 4,
            "performance_cut": [65.0] * 4,
        }
    )
    assert_frame_equal(got.drop(columns="action"), expected, check_dtype=False)
    assert got["action"].tolist() == [sat.QUADRANTS[q][0] for q in expected["quadrant"]]


@pytest.mark.parametrize(
    "crosshair, cuts, b_quadrant",
    [("midrange", (0.30, 60.0), "low priority"), ("mean", (0.25, 57.5), "concentrate here")],
    ids=["midrange", "mean-is-one-over-p"],
)
def test_importance_performance_cross_hair(crosshair, cuts, b_quadrant):
    drivers = pd.DataFrame({"construct": ["A", "B", "C", "D"],
                            "importance": [0.55, 0.25, 0.15, 0.05], "beta": [0.5] * 4})
    index = pd.DataFrame({"construct": ["A", "B", "C", "D"], "index": [80.0, 50.0, 60.0, 40.0]})
    got = sat.importance_performance(drivers, index, crosshair=crosshair).set_index("construct")
    assert (got["importance_cut"].iloc[0], got["performance_cut"].iloc[0]) == pytest.approx(cuts)
    assert got.at["B", "quadrant"] == b_quadrant


@pytest.mark.parametrize(
    "names, actionable, levers",
    [(["Quality", "Expectation"], None, [True, False]),
     (["Quality", "Expectations"], None, [True, False]),
     (["Quality", "Expectation"], ["Expectation"], [False, True]),
     (["Quality", "Image"], [], [False, False])],
    ids=["default-expectation", "default-plural", "explicit-list", "none-actionable"],
)
def test_actionable_drivers_and_advice(names, actionable, levers):
    assert [n in sat.actionable_drivers(names, actionable) for n in names] == levers
    drivers = pd.DataFrame({"construct": names, "importance": [0.3, 0.7], "beta": [0.2, 0.5]})
    index = pd.DataFrame({"construct": names, "index": [90.0, 40.0]})
    got = sat.importance_performance(drivers, index, actionable).set_index("construct")
    weak = names[1]  # important and weak: concentrate here
    assert got.at[weak, "quadrant"] == "concentrate here"
    expected = (sat.QUADRANTS["concentrate here"][0] if levers[1]
                else sat.NOT_A_LEVER["concentrate here"])
    assert got.at[weak, "action"] == expected
    assert ("improve" in got.at[weak, "action"]) is levers[1]


def test_actionable_must_name_drivers():
    with pytest.raises(InputError, match="survey.actionable': 'Loyalty' is not one of the drivers"):
        sat.actionable_drivers(["Quality"], ["Loyalty"])
    with pytest.raises(InputError, match="survey.actionable"):
        sat.survey_settings({**TINY_SURVEY, "actionable": ["Happy"]})
    with pytest.raises(InputError, match="method 'median'"):
        sat.ipm_crosshair([0.5, 0.5], [50.0, 60.0], "median")


# --- suppression ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "beta, r, flips",
    [([0.5, -0.2, 0.1], [0.6, 0.4, 0.1], [False, True, False]),
     ([-0.3, 0.2], [-0.1, -0.2], [False, True]),
     ([0.0, 0.4], [0.3, 0.0], [False, False])],
    ids=["positive-r-negative-beta", "negative-r-positive-beta", "zero-has-no-sign"],
)
def test_sign_flips(beta, r, flips):
    idx = [f"x{i}" for i in range(len(beta))]
    got = sat.sign_flips(pd.Series(beta, index=idx), pd.Series(r, index=idx[::-1])[::-1])
    assert got.tolist() == flips


def test_suppression_sentence_needs_r_and_flags():
    table = pd.DataFrame({"construct": ["X"], "beta": [0.2], "ci_low": [0.1], "ci_high": [0.3]})
    with pytest.raises(InputError, match="no column 'r'"):
        sat.suppression_sentence(table, "L", pd.DataFrame({"X": [1.0]}, index=["X"]))
    no_flip = table.assign(r=[0.3], sign_flip=[False])
    assert sat.suppression_sentence(no_flip, "L", pd.DataFrame({"X": [1.0]}, index=["X"])) == ""


def test_sign_flips_needs_the_same_terms():
    with pytest.raises(InputError, match="different terms"):
        sat.sign_flips(pd.Series([0.1], index=["a"]), pd.Series([0.1], index=["b"]))


def _suppressor_scores() -> pd.DataFrame:
    # r(L, S) = .6, r(L, X) = .2, r(S, X) = .7: by hand beta_S = (.6 - .2 * .7) / (1 - .49)
    # = .902 and beta_X = (.2 - .6 * .7) / .51 = -.431 although X correlates +.2 with L
    corr = np.array([[1, 0.6, 0.2], [0.6, 1, 0.7], [0.2, 0.7, 1]])
    return _exact_sample(corr).set_axis(["L", "S", "X"], axis=1)


def test_loyalty_link_explains_a_suppression_effect():
    ly = sat.loyalty_link(_suppressor_scores(), "S", "L", ["X"])
    t = ly.table.set_index("term")
    assert t.at["X", "beta"] == pytest.approx((0.2 - 0.6 * 0.7) / 0.51)
    assert t.at["S", "beta"] == pytest.approx((0.6 - 0.2 * 0.7) / 0.51)
    assert t.at["X", "r"] == pytest.approx(0.2) and t.at["S", "r"] == pytest.approx(0.6)
    assert t["sign_flip"].tolist() == [False, True] and ly.suppressed == ["X"]
    assert "X's coefficient is -0.43 although X and L correlate +0.20" in ly.multiple_sentence
    assert "overlaps with S (r = 0.70)" in ly.multiple_sentence
    assert "does not mean that more X lowers L" in ly.multiple_sentence


def test_key_drivers_flag_suppression():
    table = sat.key_drivers(_suppressor_scores(), "L", ["S", "X"]).table.set_index("construct")
    assert table.at["X", "sign_flip"] and not table.at["S", "sign_flip"]
    assert table.at["X", "r"] == pytest.approx(0.2)
    text = sat.suppression_sentence(table.reset_index(), "L", _suppressor_scores()[["S", "X"]].corr())
    assert text.startswith("X's coefficient is -0.43") and "suppression" in text



def test_importance_performance_needs_every_index():
    drivers = pd.DataFrame({"construct": ["A"], "importance": [1.0], "beta": [0.5]})
    with pytest.raises(InputError, match="driver 'A' has no index"):
        sat.importance_performance(drivers, pd.DataFrame({"construct": ["B"], "index": [50.0]}))


# --- loyalty, groups, NPS -------------------------------------------------------------------


def test_loyalty_link_slope_and_sentence(tiny):
    _, analysis = tiny
    happy = TINY_ITEMS[["hp1", "hp2"]].mean(axis=1)
    loyal = TINY_ITEMS[["ly1", "ly2"]].mean(axis=1)
    slope, intercept = np.polyfit(happy, loyal, 1)
    ly = analysis.loyalty
    assert (ly.slope, ly.intercept) == (pytest.approx(slope), pytest.approx(intercept))
    assert ly.r2 == pytest.approx(happy.corr(loyal) ** 2)
    assert f"goes with {slope:.2f} points more Loyal" in ly.sentence
    assert ly.table["term"].tolist() == ["Happy", "Service", "Price", "Staff"]


def test_loyalty_link_needs_rows():
    scores = pd.DataFrame({"S": [1.0, 2.0, NAN], "L": [1.0, NAN, 3.0]})
    with pytest.raises(InputError, match="only 1 respondents"):
        sat.loyalty_link(scores, "S", "L")


def test_group_comparison_effect_sizes_by_hand():
    scores = pd.DataFrame({"S": [1.0, 2.0, 3.0, 5.0, 6.0, 7.0, 4.0]})
    group = pd.Series(["a", "a", "a", "b", "b", "b", "c"])
    res = sat.group_comparison(scores, group, (1, 7))
    # 'c' has one respondent: left out of the tests. a: mean 2, b: mean 6, grand mean 4
    assert res.small_groups == ["c"]
    ss_between = 3 * (2 - 4) ** 2 + 3 * (6 - 4) ** 2  # 24
    ss_total = sum((x - 4) ** 2 for x in [1, 2, 3, 5, 6, 7])  # 28
    row = res.tests.iloc[0]
    assert row["eta_sq"] == pytest.approx(ss_between / ss_total)
    assert row["anova_f"] == pytest.approx((24 / 1) / (4 / 4))
    assert row["epsilon_sq"] == pytest.approx(row["kruskal_h"] / 5)
    expected_means = pd.DataFrame(
        {
            "group": ["a", "b", "c"],
            "construct": ["S"] * 3,
            "n": [3, 3, 1],
            "index": [50 / 3, 250 / 3, 50.0],
        }
    )
    assert_frame_equal(res.means, expected_means)


def test_group_comparison_needs_aligned_groups():
    with pytest.raises(InputError, match="same index"):
        sat.group_comparison(pd.DataFrame({"S": [1.0, 2.0]}), pd.Series(["a"]), (1, 7))


@pytest.mark.parametrize(
    "answers, nps, promoters",
    [([10, 9, 8, 7, 6, 0], 0.0, 2 / 6), ([10, 10, 9, 5], 50.0, 0.75), ([10, NAN, 7], 50.0, 0.5)],
    ids=["balanced", "mostly-promoters", "missing-left-out"],
)
def test_net_promoter_score(answers, nps, promoters):
    got = sat.net_promoter_score(pd.Series(answers, dtype="float64"))
    assert got["nps"] == pytest.approx(nps) and got["promoters"] == pytest.approx(promoters)


def test_net_promoter_score_rejects_out_of_scale():
    with pytest.raises(InputError, match="0-10"):
        sat.net_promoter_score(pd.Series([5.0, 11.0]))


def test_tiny_nps_and_groups_by_hand(tiny):
    _, analysis = tiny
    # valid answers 9 8 6 10 3 0 5 9 7 10: promoters 4, detractors 4
    assert analysis.nps["n"] == 10 and analysis.nps["nps"] == pytest.approx(0.0)
    assert {g: round(v["nps"], 6) for g, v in analysis.nps["by_group"].items()} == {
        "East": round(100 * (1 - 2) / 3, 6),
        "North": round(100 / 3, 6),
        "South": 0.0,
    }
    happy = TINY_ITEMS[["hp1", "hp2"]].mean(axis=1)
    region = pd.Series(TINY_REGION)
    keep = region.notna()
    grand = happy[keep].mean()
    ss_b = sum(len(v) * (v.mean() - grand) ** 2 for _, v in happy[keep].groupby(region[keep]))
    ss_t = ((happy[keep] - grand) ** 2).sum()
    eta = analysis.groups.tests.set_index("construct").at["Happy", "eta_sq"]
    assert eta == pytest.approx(ss_b / ss_t)


# --- the product ----------------------------------------------------------------------------


def test_tiny_summary_json_single_item_and_missing(tiny):
    _, analysis = tiny
    result = sat.summary_json(analysis)
    json.dumps(result, allow_nan=False)
    staff = result["constructs"]["Staff"]
    assert staff["alpha"] is None and staff["composite_reliability"] is None
    assert "single item" in staff["note"]
    service = TINY_ITEMS[["sv1", "sv2", "sv3"]].dropna()  # reliability: complete rows only
    assert result["constructs"]["Service"]["alpha"] == pytest.approx(np_alpha(service.to_numpy()))
    assert result["missing"]["scores_missing"]["Service"] == 1
    assert result["missing"]["regression_rows_dropped"] == 1
    assert result["missing"]["recommend_missing"] == 1
    assert result["n_regression"] == 10
    assert "@" not in json.dumps(result), "no personal data in the product"


def test_outcome_only_survey_has_no_drivers():
    raw = pd.DataFrame({"a": ["1", "2", "3", "4"], "b": ["2", "2", "4", "3"]})
    analysis = sat.analyze_survey(
        raw, {"scale": [1, 5], "constructs": {"S": ["a", "b"]}, "outcome": "S"}
    )
    result = sat.summary_json(analysis)
    assert result["drivers"] == {} and result["r2"] is None and result["loyalty"] is None
    assert "no key-driver analysis" in sat.takeaways(analysis)["drivers"]


def test_analyze_survey_does_not_mutate_raw(tiny):
    raw, _ = tiny
    before = raw.copy()
    sat.analyze_survey(raw, TINY_SURVEY)
    assert_frame_equal(raw, before)


@pytest.mark.parametrize("fn", [sat.summary_json, sat.takeaways], ids=["summary-json", "takeaways"])
def test_product_functions_need_an_analysis(fn):
    with pytest.raises(InputError, match="analyze_survey"):
        fn({"outcome": "S"})


def test_takeaways_fill_in_numbers(tiny):
    _, analysis = tiny
    t = sat.takeaways(analysis)
    assert "**+0**" in t["nps"] and "Staff is a single item" in t["reliability"]
    idx = analysis.index.set_index("construct").at["Happy", "index"]
    assert f"{idx:.1f} out of 100" in t["index"]


def test_survey_settings_rejects_too_many_shapley_drivers():
    constructs = {f"C{i}": [f"q{i}"] for i in range(17)}
    with pytest.raises(InputError, match="relative_weights"):
        sat.survey_settings({"constructs": constructs, "outcome": "C0", "scale": [1, 5]})


# --- the command line -------------------------------------------------------------------------


def crmlab(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crmlab.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


def _tiny_params(tmp_path, **change):
    return {
        "run_name": "sat_tiny",
        "paths": {"processed": str(tmp_path / "processed"), "outputs": str(tmp_path / "outputs")},
        "survey": {**TINY_SURVEY, **change},
    }


@pytest.mark.parametrize("command", ["validate", "run"])
def test_cli_unknown_item_is_exit_2_naming_it(tmp_path, write_params, command):
    constructs = {**TINY_SURVEY["constructs"], "Price": ["pr1", "pr9"]}
    path = write_params(_tiny_params(tmp_path, constructs=constructs))
    out = crmlab(
        command, "--params", str(path), *(["--only", "satisfaction"] if command == "run" else [])
    )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "survey_tiny.csv: survey item column 'pr9' not found" in lines[0], (
        out.stderr
    )
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_cli_runs_the_stage_on_the_tiny_survey(tmp_path, write_params):
    path = write_params(_tiny_params(tmp_path))
    out = crmlab("run", "--params", str(path), "--only", "satisfaction", "--no-progress")
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads((tmp_path / "processed" / "sat_tiny" / "satisfaction.json").read_text())
    raw, _ = read_table(TINY)
    expected = sat.summary_json(sat.analyze_survey(raw, TINY_SURVEY))
    assert result["constructs"]["Staff"]["alpha"] is None
    assert result["satisfaction_index"] == pytest.approx(expected["satisfaction_index"])
    assert result["r2"] == pytest.approx(expected["r2"])
    assert result["nps"]["nps"] == pytest.approx(0.0) and result["groups"]["column"] == "region"
    run_dir = (tmp_path / "outputs" / "sat_tiny" / "latest").resolve()
    names = {p.name for p in (run_dir / "figures").glob("*.png")}
    assert {"satisfaction_importance_performance.png", "satisfaction_nps.png"} <= names
    for f in run_dir.rglob("*"):
        if f.is_file() and f.suffix in {".csv", ".json", ".html", ".ipynb"}:
            assert "@x.org" not in f.read_text(encoding="utf-8-sig"), f"personal data in {f.name}"


# --- figures --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "actionable, labels",
    [(None, {"A", "Expectation (not a lever)"}), (["Expectation"], {"A (not a lever)", "Expectation"})],
    ids=["default-levers", "explicit-levers"],
)
def test_importance_performance_map_is_martilla_james(actionable, labels):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmlab.satisfaction import plotting

    drivers = pd.DataFrame({"construct": ["A", "Expectation"], "importance": [0.7, 0.3],
                            "beta": [0.5, 0.2]})
    index = pd.DataFrame({"construct": ["A", "Expectation"], "index": [40.0, 80.0]})
    actions = sat.importance_performance(drivers, index, actionable)
    ax = plotting.plot_importance_performance(actions, outcome="Satisfaction")
    try:
        assert ax.get_xlabel().startswith("performance (index, 0-100 points")
        assert ax.get_ylabel().startswith("importance (% of explained Satisfaction")
        assert {t.get_text() for t in ax.texts if t.get_text()[:1].isupper()} >= {
            "Concentrate here", "Keep up the good work", "Low priority", "Possible overkill"}
        # Concentrate here sits top left: high importance, low performance
        corner = next(t for t in ax.texts if t.get_text() == "Concentrate here")
        assert corner.get_position() == (0.02, 0.98)
        corners = {c.capitalize() for c in sat.QUADRANTS}
        assert {t.get_text() for t in ax.texts} - corners == labels
        # the dashed cross-hair is the one the analysis used: middle of the range, 60 and 50%
        assert ax.lines[0].get_xdata()[0] == pytest.approx(60.0)
        assert ax.lines[1].get_ydata()[0] == pytest.approx(50.0)
    finally:
        plt.close(ax.figure)


def test_loyalty_coefficients_figure_marks_the_sign_flip():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmlab.satisfaction import plotting

    ly = sat.loyalty_link(_suppressor_scores(), "S", "L", ["X"])
    ax = plotting.plot_loyalty_coefficients(ly.table, "L")
    try:
        assert [t.get_text() for t in ax.get_yticklabels()] == ["X (sign flips)", "S"]
        assert "SD per SD" in ax.get_xlabel()
    finally:
        plt.close(ax.figure)
    empty = plotting.plot_loyalty_coefficients(ly.table.iloc[:0], "L")
    assert "no multi-construct" in empty.texts[0].get_text()
    plt.close(empty.figure)


def test_loading_comparison_shows_the_pca_inflation():
    items = _exact_sample(_one_factor_corr([0.9, 0.4, 0.3]))
    items["s"] = items["q1"]
    got = sat.loading_comparison(items, {"X": ["q1", "q2", "q3"], "S": ["s"]})
    assert got["construct"].tolist() == ["X"]  # single items have nothing to compare
    lam = np.array([0.9, 0.4, 0.3])
    cr = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    row = got.iloc[0]
    assert row["cr_model"] == pytest.approx(cr, abs=2e-4)
    assert row["cr_gap"] == pytest.approx(row["cr_pca"] - row["cr_model"]) and row["cr_gap"] > 0
    with pytest.raises(InputError, match="item column 'z' of construct 'X' not found"):
        sat.loading_comparison(items, {"X": ["q1", "z"]})


def test_loyalty_model_takeaway(tiny):
    _, analysis = tiny
    text = sat.takeaways(analysis)["loyalty_model"]
    assert text.startswith("**Takeaway:** With Happy, Service, Price and Staff in one model")
    assert ("a suppression effect" in text) is bool(analysis.loyalty.suppressed)


def test_importance_performance_map_reads_the_report_cross_hair():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmlab import report
    from crmlab.satisfaction import plotting

    drivers = report.top_drivers({
        "drivers": {"Quality": {"importance": 0.7, "performance": 50.0},
                    "Expectation": {"importance": 0.3, "performance": 90.0}},
        "ipm": {"importance_cut": 0.6, "performance_cut": 40.0},
    })
    ax = plotting.plot_importance_performance(drivers, outcome="Satisfaction")
    try:
        assert ax.lines[0].get_xdata()[0] == pytest.approx(40.0)
        assert ax.lines[1].get_ydata()[0] == pytest.approx(60.0)
        assert "Expectation (not a lever)" in {t.get_text() for t in ax.texts}
    finally:
        plt.close(ax.figure)
