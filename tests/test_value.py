"""Value prediction: the time split is pinned, metrics and CLV by hand, models on known data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from crmlab import value
from crmlab.btyd import BetaGeo, ConvergenceError, GammaGamma
from crmlab.config import params_from_dict
from crmlab.errors import InputError
from crmlab.value.models import _glm_matrix as glm_matrix

from conftest import ROOT

CAL, OBS = "1997-09-30", "1998-06-30"


def tx_frame(rows):
    """Transactions from (customer_id, 'YYYY-MM-DD', amount) tuples."""
    df = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    df["date"] = pd.to_datetime(df["date"])
    df["amount"] = df["amount"].astype(float)
    return df


@pytest.fixture(scope="module")
def cdnow_small():
    """CDNOW customers 00001-01500 (tests/data), as the cleaning stage would hand them over."""
    raw = pd.read_csv(ROOT / "tests" / "data" / "cdnow_small.txt", sep=r"\s+", dtype=str)
    tx = pd.DataFrame({
        "customer_id": raw["customer_id"].str.strip(),
        "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
        "amount": raw["dollar_value"].astype(float),
    })
    return tx.drop_duplicates().reset_index(drop=True)


@pytest.fixture(scope="module")
def value_params():
    return params_from_dict({}).value


@pytest.fixture(scope="module")
def small_result(cdnow_small, value_params):
    return value.predict_holdout(cdnow_small, CAL, OBS, value_params)


def _perturb_holdout(tx: pd.DataFrame) -> pd.DataFrame:
    """Change every holdout row (amount, day), drop a third of them and add new ones."""
    df = tx.copy()
    hold = df["date"] > pd.Timestamp(CAL)
    df.loc[hold, "amount"] = df.loc[hold, "amount"] * 7 + 3
    df.loc[hold, "date"] = df.loc[hold, "date"] + pd.Timedelta(days=1)
    df = df[~(hold & (np.arange(len(df)) % 3 == 0))]
    extra = tx_frame([
        ("00001", "1997-10-01", 999.0),  # an existing customer, first holdout day
        ("99999", "1997-12-24", 50.0),  # a customer first seen in the holdout
    ])
    return pd.concat([df, extra], ignore_index=True)


# --- the split ---------------------------------------------------------------------------


def test_calibration_rows_keep_the_whole_last_day():
    tx = tx_frame([("a", "1997-09-30", 1), ("a", "1997-10-01", 2), ("b", "1997-01-05", 3)])
    tx.loc[0, "date"] = pd.Timestamp("1997-09-30 23:59")
    got = value.calibration_rows(tx, CAL)
    assert got["amount"].tolist() == [1.0, 3.0]


def test_calibration_rows_missing_column():
    with pytest.raises(InputError, match="'amount'"):
        value.calibration_rows(pd.DataFrame({"customer_id": [], "date": []}), CAL)


def test_holdout_actuals_by_hand():
    tx = tx_frame([
        ("a", "1997-01-01", 10), ("a", "1997-10-05", 5), ("a", "1997-10-05", 2),
        ("b", "1997-03-01", 20), ("c", "1997-11-01", 99),  # c first seen in the holdout
        ("a", "1998-07-01", 1000),  # after observation_end
    ])
    got = value.holdout_actuals(tx, CAL, OBS)
    want = pd.DataFrame({
        "customer_id": ["a", "b"], "calibration_value": [10.0, 20.0],
        "actual_holdout_value": [7.0, 0.0], "holdout_purchase_days": np.array([1, 0], dtype=np.int64),
    })
    assert_frame_equal(got, want, check_dtype=False)


def test_holdout_actuals_periods_in_order():
    with pytest.raises(InputError, match="before observation_end"):
        value.holdout_actuals(tx_frame([("a", "1997-01-01", 1)]), OBS, CAL)


def test_time_split_no_holdout_row_reaches_training(cdnow_small, value_params, small_result):
    """Perturbing every holdout row must change neither the training data nor any forecast."""
    perturbed = _perturb_holdout(cdnow_small)
    assert not perturbed[perturbed["date"] > pd.Timestamp(CAL)].empty
    panel = value.training_panel(cdnow_small, CAL, 3, 30)
    assert_frame_equal(panel, value.training_panel(perturbed, CAL, 3, 30))
    a = small_result
    b = value.predict_holdout(perturbed, CAL, OBS, value_params)
    assert_frame_equal(a.predictions, b.predictions)
    assert_frame_equal(a.features, b.features)
    assert_frame_equal(a.validation, b.validation)
    assert_frame_equal(a.validation_by_window, b.validation_by_window)
    assert a.chosen == b.chosen
    pd.testing.assert_series_equal(a.models["glm_tweedie"].result_.params, b.models["glm_tweedie"].result_.params)
    # ... while the scoring side does see the change
    act_a = value.holdout_actuals(cdnow_small, CAL, OBS)
    act_b = value.holdout_actuals(perturbed, CAL, OBS)
    assert not np.allclose(act_a["actual_holdout_value"], act_b["actual_holdout_value"])
    assert "99999" not in set(act_b["customer_id"])


def test_predict_holdout_products(cdnow_small, value_params, small_result):
    res = small_result
    pred = res.predictions
    assert list(pred.columns[:1]) == ["customer_id"]
    assert {f"pred_{m}" for m in value.MODELS} <= set(pred.columns)
    assert res.chosen in value.REGRESSION_MODELS
    np.testing.assert_array_equal(pred["predicted_holdout_value"], pred[f"pred_{res.chosen}"])
    # customers: first seen on or before calibration_end
    first = cdnow_small.groupby("customer_id")["date"].min()
    assert set(pred["customer_id"]) == set(first[first <= pd.Timestamp(CAL)].index)
    for m in value.MODELS:
        assert (pred[f"pred_{m}"] >= 0).all() and np.isfinite(pred[f"pred_{m}"]).all()
    assert pred["p_alive"].between(0, 1).all()
    # validation scored on windows inside the calibration period, one step apart
    start, end = res.validation_window
    assert end == pd.Timestamp(CAL) and start == end - pd.Timedelta(days=value_params["validation_days"])
    assert len(res.validation_windows) == value_params["n_validation"]
    assert all(e <= pd.Timestamp(CAL) for _, e in res.validation_windows)
    assert set(res.validation_by_window["window_end"]) == {e for _, e in res.validation_windows}
    # the regressions keep the benchmark's total (the level is the benchmark's)
    for m in value.REGRESSION_MODELS:
        assert pred[f"pred_{m}"].sum() == pytest.approx(pred["pred_bgnbd_gg"].sum())
    assert max(res.origins) < pd.Timestamp(CAL)
    # actual_holdout_value equals the clean rows' holdout spend
    act = value.holdout_actuals(cdnow_small, CAL, OBS)
    day = cdnow_small["date"]
    hold = cdnow_small[(day > pd.Timestamp(CAL)) & (day <= pd.Timestamp(OBS))]
    hold = hold[hold["customer_id"].isin(pred["customer_id"])]
    assert act["actual_holdout_value"].sum() == pytest.approx(hold["amount"].sum())


@pytest.mark.parametrize(
    "change, match",
    [
        ({"select_by": "r2"}, "select_by"),
        ({"validation_days": 400}, "validation_days"),
        ({"n_origins": None}, "n_origins"),
        ({"n_validation": None}, "n_validation"),
    ],
    ids=["unknown_metric", "validation_too_long", "missing_key", "missing_n_validation"],
)
def test_predict_holdout_bad_params(cdnow_small, value_params, change, match):
    v = dict(value_params)
    for k, val in change.items():
        if val is None:
            v.pop(k)
        else:
            v[k] = val
    with pytest.raises(InputError, match=match):
        value.predict_holdout(cdnow_small, CAL, OBS, v)


def test_predict_holdout_periods_in_order(cdnow_small, value_params):
    with pytest.raises(InputError, match="before observation_end"):
        value.predict_holdout(cdnow_small, OBS, CAL, value_params)


# --- windows and features -----------------------------------------------------------------


def test_training_origins_by_hand():
    got = value.training_origins("1997-01-01", "1997-09-30", 3, 30)
    assert got == [pd.Timestamp(d) for d in ("1997-08-31", "1997-08-01", "1997-07-02")]
    # origins without `step` days of history behind them are dropped
    got = value.training_origins("1997-07-01", "1997-09-30", 3, 30)
    assert got == [pd.Timestamp("1997-08-31"), pd.Timestamp("1997-08-01")]  # 07-02 < 07-31


def test_training_origins_period_too_short():
    with pytest.raises(InputError, match="origin_step_days"):
        value.training_origins("1997-09-01", "1997-09-30", 3, 30)


def test_window_spend_by_hand():
    tx = tx_frame([("a", "1997-01-01", 1), ("a", "1997-01-02", 2), ("a", "1997-01-03", 4),
                   ("b", "1997-01-03", 8)])
    got = value.window_spend(tx, "1997-01-01", "1997-01-03", ["b", "a", "c"])
    np.testing.assert_array_equal(got, [8.0, 6.0, 0.0])
    with pytest.raises(InputError, match="before end"):
        value.window_spend(tx, "1997-01-03", "1997-01-01", ["a"])


def _preset_benchmark():
    bg = BetaGeo()
    bg.params_ = {"r": 0.25, "alpha": 30.0, "a": 0.8, "b": 2.0}
    gg = GammaGamma()
    gg.params_ = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    return value.Benchmark(bg, gg, 0, 0.0)


def test_features_at_by_hand_and_blind_to_the_future():
    tx = tx_frame([
        ("a", "1997-01-01", 10), ("a", "1997-03-01", 30), ("a", "1997-03-01", 10), ("a", "1997-03-21", 20),
        ("b", "1997-03-10", 5),
        ("a", "1997-04-15", 500), ("c", "1997-04-20", 7),  # after the origin: invisible
    ])
    feats, bench = value.features_at(tx, "1997-03-31", 60, _preset_benchmark())
    assert feats["customer_id"].tolist() == ["a", "b"]
    a = feats.iloc[0]
    assert (a["frequency"], a["recency"], a["T"]) == (2, 79.0, 89.0)
    assert a["first_spend"] == pytest.approx(10.0)
    assert a["mean_day_spend"] == pytest.approx(70 / 3)
    assert a["purchase_days_last_90d"] == 3  # 1997-01-01 is 89 days before the origin
    assert a["frequency_rate"] == pytest.approx(2 / 90)
    want = bench.bgnbd.expected_purchases(60, [2], [79.0], [89.0])[0] * bench.gamma_gamma.expected_spend([2], [30.0])[0]
    assert a["pred_bgnbd_gg"] == pytest.approx(want)
    assert a["benchmark_rate"] == pytest.approx(want / 60)
    b = feats.iloc[1]
    assert (b["frequency"], b["p_alive"], b["expected_spend"]) == (0, 1.0, pytest.approx(30.0))


def test_features_at_errors():
    tx = tx_frame([("a", "1997-03-01", 1)])
    with pytest.raises(InputError, match="horizon_days"):
        value.features_at(tx, "1997-03-31", 0, _preset_benchmark())
    with pytest.raises(InputError, match="no purchase"):
        value.features_at(tx, "1997-01-31", 30, _preset_benchmark())


def test_fit_benchmark_needs_repeat_buyers_with_spend():
    summary = pd.DataFrame({"frequency": [1, 0], "recency": [3.0, 0.0], "T": [9.0, 9.0],
                            "monetary_value": [0.0, 0.0]})
    with pytest.raises(InputError, match="repeat purchases with positive"):
        value.fit_benchmark(summary)
    with pytest.raises(InputError, match="'monetary_value'"):
        value.fit_benchmark(summary.drop(columns="monetary_value"))


# --- models on data whose answer is known ----------------------------------------------


def test_naive_forecast_by_hand():
    f = pd.DataFrame({"total_spend": [30.0, 0.0, 5.0], "T": [9.0, 4.0, 0.0]})
    np.testing.assert_allclose(value.naive_forecast(f, 20), [60.0, 0.0, 100.0])
    with pytest.raises(InputError, match="'T'"):
        value.naive_forecast(f.drop(columns="T"), 20)


def _synthetic_panel(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "frequency": rng.integers(0, 30, n).astype(float), "mean_day_spend": rng.uniform(5, 200, n),
        "days_since_last": rng.uniform(0, 300, n), "spend_last_90d": rng.uniform(0, 500, n),
        "T": rng.uniform(1, 400, n), "horizon_days": rng.choice([30.0, 60.0, 90.0], n),
    })
    df["total_spend"] = df["spend_last_90d"] + rng.uniform(0, 1000, n)
    df["anchor"] = rng.uniform(0.5, 50, n)  # the benchmark's forecast of each window
    df["window_days"] = df["horizon_days"]
    return df


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.PerfectSeparationWarning")
def test_tweedie_glm_recovers_known_correction_of_the_benchmark():
    panel = _synthetic_panel()
    beta = np.array([-0.3, 0.2, 0.3, 0.2, -0.1, 0.05, -0.2])
    X = glm_matrix(panel)
    panel["target_spend"] = panel["anchor"] * np.exp(X.to_numpy() @ beta)  # noiseless: the MLE is beta
    glm = value.TweedieGLM(1.5)
    assert glm.fit(panel) is glm
    coef = glm.coefficients()
    assert coef["feature"].tolist() == ["const", *value.GLM_FEATURES]
    assert coef["label"].tolist() == [value.FEATURE_LABELS[f] for f in coef["feature"]]
    np.testing.assert_allclose(coef["coef"], beta, atol=1e-6)
    np.testing.assert_allclose(glm.predict(panel, rescale=False), panel["target_spend"], rtol=1e-6)
    # rescaled: same shares, the anchor's total
    got = glm.predict(panel)
    assert got.sum() == pytest.approx(panel["anchor"].sum())
    np.testing.assert_allclose(got / got.sum(), panel["target_spend"] / panel["target_spend"].sum(), rtol=1e-6)
    assert glm.diagnostics()["explained_deviance"] == pytest.approx(1.0)


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.PerfectSeparationWarning")
def test_tweedie_glm_does_not_extrapolate_beyond_training_inputs():
    panel = _synthetic_panel()
    panel["target_spend"] = panel["anchor"] * np.exp(-2 + 0.5 * np.log1p(panel["T"]))
    glm = value.TweedieGLM(1.5).fit(panel)
    row = panel.iloc[[0]].copy()
    far, edge = row.assign(T=1e6), row.assign(T=panel["T"].max())
    assert glm.predict(far, rescale=False)[0] == pytest.approx(glm.predict(edge, rescale=False)[0])
    assert glm.outside_range(far)["log1p_age"] == 1.0
    assert glm.outside_range(panel).max() == 0.0


def test_tweedie_glm_missing_target():
    with pytest.raises(InputError, match="'target_spend'"):
        value.TweedieGLM(1.5).fit(_synthetic_panel())


@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_gradient_boosting_constant_factor_on_the_anchor(factor):
    panel = _synthetic_panel(600)
    for col in value.GBM_FEATURES:
        if col not in panel:
            panel[col] = np.random.default_rng(1).uniform(0, 1, len(panel))
    panel["target_spend"] = factor * panel["anchor"]
    gbm = value.GradientBoosting(seed=3)
    assert gbm.fit(panel) is gbm
    np.testing.assert_allclose(gbm.predict(panel, rescale=False), factor * panel["anchor"], rtol=1e-6)
    np.testing.assert_allclose(gbm.predict(panel), panel["anchor"], rtol=1e-6)  # level: the anchor's
    with pytest.raises(InputError, match="'benchmark_rate'"):
        gbm.predict(panel.drop(columns="benchmark_rate"))


# --- metrics -----------------------------------------------------------------------------


def test_value_metrics_by_hand():
    y = [0.0, 10.0, 0.0, 30.0]
    p = [1.0, 9.0, 3.0, 20.0]
    got = value.value_metrics(y, p)
    assert got["mae"] == pytest.approx((1 + 1 + 3 + 10) / 4)
    assert got["rmse"] == pytest.approx(np.sqrt((1 + 1 + 9 + 100) / 4))
    # ranks: y (1.5, 3, 1.5, 4), p (1, 3, 2, 4)
    assert got["spearman"] == pytest.approx(np.corrcoef([1.5, 3, 1.5, 4], [1, 3, 2, 4])[0, 1])
    assert got["top_decile_share"] == pytest.approx(30 / 40)  # ceil(4 / 10) = 1 customer
    assert got["aggregate_error"] == pytest.approx(33 / 40 - 1)


def test_value_metrics_ties_keep_input_order_and_constant_forecast_has_no_rank():
    got = value.value_metrics([5.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    assert got["top_decile_share"] == 1.0  # first customer wins the tie
    assert np.isnan(got["spearman"])


@pytest.mark.parametrize(
    "y, p, match",
    [([1.0, 2.0], [1.0], "predicted"), ([0.0, 0.0], [1.0, 2.0], "no spend"),
     ([1.0], [float("nan")], "predicted"), ([], [], "no customers")],
    ids=["length", "no_spend", "nan", "empty"],
)
def test_value_metrics_errors(y, p, match):
    with pytest.raises(InputError, match=match):
        value.value_metrics(y, p)


def test_compare_models_names_the_bad_model():
    got = value.compare_models([1.0, 3.0], {"a": [1.0, 3.0], "b": [0.0, 0.0]})
    assert got.loc["a", "mae"] == 0 and got.loc["b", "aggregate_error"] == -1
    with pytest.raises(InputError, match="model 'c'"):
        value.compare_models([1.0, 3.0], {"c": [1.0]})
    with pytest.raises(InputError, match="no models"):
        value.compare_models([1.0], {})


def test_decile_table_and_gains_by_hand():
    y = np.arange(10, dtype=float)[::-1]  # customer 0 spends most
    p = np.arange(10, dtype=float)[::-1]
    d = value.decile_table(y, p)
    assert d["decile"].tolist() == list(range(1, 11))
    assert d["customers"].tolist() == [1] * 10
    np.testing.assert_allclose(d["mean_actual"], y)
    g = value.gains_table(y, {"m": p}, points=10)
    np.testing.assert_allclose(g["m"], g["perfect"])
    assert g["m"].iloc[0] == 0 and g["m"].iloc[-1] == pytest.approx(1.0)
    assert g["m"].iloc[1] == pytest.approx(9 / 45)
    with pytest.raises(InputError, match="no models"):
        value.gains_table(y, {})
    with pytest.raises(InputError, match="predicted"):
        value.decile_table(y, p[:3])


# --- timing, CLV, tiers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "rate, want",
    [(0.0, 0.5 * 300 * 3 / 3), (0.1, 0.5 * 300 * sum(1.1 ** (-k / 12) for k in (1, 2, 3)) / 3)],
    ids=["no_discount", "ten_percent"],
)
def test_clv_by_hand(rate, want):
    # one customer: 300 forecast over a holdout with 3 expected purchases, one per month
    got = value.customer_lifetime_value([300.0], [[1.0, 2.0, 3.0]], [3.0], 0.5, rate)
    assert got[0] == pytest.approx(want)


def test_clv_no_expected_purchase_is_zero_and_errors():
    assert value.customer_lifetime_value([10.0], [[0.0]], [0.0], 0.3, 0.1)[0] == 0.0
    with pytest.raises(InputError, match="margin"):
        value.customer_lifetime_value([1.0], [[1.0]], [1.0], 1.5, 0.1)
    with pytest.raises(InputError, match="expected_monthly"):
        value.customer_lifetime_value([1.0, 2.0], [[1.0]], [1.0, 1.0], 0.3, 0.1)


def test_weekly_timing_rows_rise_to_one():
    bg = _preset_benchmark().bgnbd
    f = pd.DataFrame({"frequency": [0, 5], "recency": [0.0, 50.0], "T": [60.0, 60.0]})
    share = value.weekly_timing(f, bg, 20)
    assert share.shape == (2, 3)  # weeks end on days 7, 14, 20
    assert np.all(np.diff(share, axis=1) > 0)
    np.testing.assert_allclose(share[:, -1], 1.0)
    with pytest.raises(InputError, match="horizon_days"):
        value.weekly_timing(f, bg, 0)


def test_weekly_tracking_by_hand():
    tx = tx_frame([
        ("a", "1997-09-30", 100), ("a", "1997-10-01", 5), ("b", "1997-10-09", 7),
        ("a", "1997-10-14", 1), ("z", "1997-10-02", 1000),  # z is not scored
    ])
    share = np.array([[0.5, 1.0], [0.25, 1.0]])
    got = value.weekly_tracking(tx, ["a", "b"], CAL, "1997-10-14", {"m": [10.0, 4.0]}, share)
    want = pd.DataFrame({
        "week": [1, 2], "week_end": pd.to_datetime(["1997-10-07", "1997-10-14"]),
        "actual": [5.0, 13.0], "m": [6.0, 14.0],
    })
    assert_frame_equal(got, want, check_dtype=False)
    with pytest.raises(InputError, match="weekly_share"):
        value.weekly_tracking(tx, ["a"], CAL, "1997-10-14", {"m": [1.0]}, share)


def test_tier_crosstab_counts_every_tier():
    got = value.tier_crosstab(["low", "low", "high"], ["medium", "low", "high"])
    want = pd.DataFrame([[1, 0, 0], [0, 0, 0], [0, 1, 1]],
                        index=pd.Index(["high", "medium", "low"], name="past_tier"),
                        columns=pd.Index(["high", "medium", "low"], name="predicted_tier"))
    assert_frame_equal(got, want)
    with pytest.raises(InputError, match="unknown tier 'gold'"):
        value.tier_crosstab(["gold"], ["low"])


def test_value_product_matches_customers():
    pred = pd.DataFrame({"customer_id": ["b", "a"], "predicted_holdout_value": [2.0, 1.0],
                         "p_alive": [0.5, 1.0], "expected_purchases": [0.2, 0.1]})
    for m in value.MODELS:
        pred[f"pred_{m}"] = pred["predicted_holdout_value"]
    act = pd.DataFrame({"customer_id": ["a", "b"], "actual_holdout_value": [3.0, 0.0],
                        "calibration_value": [10.0, 20.0]})
    got = value.value_product(pred, act, [5.0, 6.0], ["low", "high"], ["low", "medium"])
    assert got.columns.tolist() == value.PRODUCT_COLUMNS
    assert got["customer_id"].tolist() == ["a", "b"]
    assert got["actual_holdout_value"].tolist() == [3.0, 0.0]
    assert got["clv"].tolist() == [6.0, 5.0]
    assert got["value_tier_predicted"].tolist() == ["medium", "low"]
    with pytest.raises(InputError, match="only one of"):
        value.value_product(pred, act.iloc[:1], [5.0, 6.0], ["low"] * 2, ["low"] * 2)


def test_metrics_report_is_strict_json(cdnow_small, small_result):
    res = small_result
    act = value.holdout_actuals(cdnow_small, CAL, OBS)
    hold = value.compare_models(act["actual_holdout_value"],
                                {m: res.predictions[f"pred_{m}"] for m in value.MODELS})
    hold.loc["naive", "spearman"] = np.nan
    rep = value.metrics_report(hold, res, "rmse", clv_as_of=OBS)
    json.dumps(rep, allow_nan=False)
    assert rep["naive"]["spearman"] is None
    assert rep["chosen"] == res.chosen
    assert set(rep["selection"]["validation"]) == set(value.MODELS)
    assert rep["clv_as_of"] == OBS and rep["benchmark"]["status"] == "fitted"
    assert rep["benchmark_params"]["alpha_weeks"] == pytest.approx(rep["benchmark_params"]["alpha"] / 7)
    assert len(rep["selection"]["validation_windows"]) == 2
    with pytest.raises(InputError, match="'mae'"):
        value.metrics_report(hold.drop(columns="mae"), res, "rmse")


# --- validation windows, backtest, benchmark failure, CLV from today ------------------------


@pytest.mark.parametrize(
    "first, n_validation, want_ends",
    [
        ("1997-01-01", 2, ["1997-09-30", "1997-08-31"]),
        ("1997-01-01", 3, ["1997-09-30", "1997-08-31", "1997-08-01"]),
        # a window must leave 2 x 30 days before its start for a training origin
        ("1997-05-01", 3, ["1997-09-30"]),
    ],
)
def test_validation_windows_by_hand(first, n_validation, want_ends):
    v = {"origin_step_days": 30, "validation_days": 91, "n_validation": n_validation}
    got = value.validation_windows(first, CAL, v)
    assert [e for _, e in got] == [pd.Timestamp(d) for d in want_ends]
    assert all((e - s).days == 91 for s, e in got)


def test_validation_windows_too_long():
    with pytest.raises(InputError, match="validation_days"):
        value.validation_windows("1997-07-01", CAL, {"origin_step_days": 30, "validation_days": 91,
                                                     "n_validation": 2})


@pytest.mark.parametrize(
    "n, step, min_days, want",
    [
        (3, 2, 150, ["1997-09-30", "1997-11-30", "1998-01-31"]),
        (2, 1, 150, ["1997-12-31", "1998-01-31"]),
        (2, 3, 200, ["1997-08-31", "1997-11-30"]),  # 1998-06-30 - 200 days = 1997-12-12
        (10, 3, 150, ["1997-04-30", "1997-07-31", "1997-10-31", "1998-01-31"]),  # >= 90 days of history
        (0, 2, 150, []),
    ],
)
def test_backtest_origins_by_hand(n, step, min_days, want):
    got = value.backtest_origins("1997-01-01", OBS, n, step, min_days)
    assert got == [pd.Timestamp(d) for d in want]


def test_backtest_origins_none_fits():
    with pytest.raises(InputError, match="backtest_origins"):
        value.backtest_origins("1998-03-01", OBS, 2, 1, 150)


def _after(tx: pd.DataFrame, cut: str) -> pd.DataFrame:
    """Change every row after ``cut`` (amount, day), drop a third and add a new customer."""
    df = tx.copy()
    late = df["date"] > pd.Timestamp(cut)
    df.loc[late, "amount"] = df.loc[late, "amount"] * 5 + 1
    df.loc[late, "date"] = df.loc[late, "date"] + pd.Timedelta(days=2)
    df = df[~(late & (np.arange(len(df)) % 3 == 0))]
    extra = tx_frame([("99998", (pd.Timestamp(cut) + pd.Timedelta(days=1)).date().isoformat(), 777.0)])
    return pd.concat([df, extra], ignore_index=True)


@pytest.fixture(scope="module")
def small_backtest(cdnow_small, value_params):
    origins = [pd.Timestamp("1997-09-30"), pd.Timestamp("1997-12-31")]
    known = {pd.Timestamp(CAL): value.predict_holdout(cdnow_small, CAL, OBS, value_params)}
    cache: dict = {}
    table, info = value.backtest(cdnow_small, OBS, origins, value_params, cache, known)
    return origins, table, info, known, cache


@pytest.mark.parametrize("k", [0, 1])
def test_backtest_no_row_after_an_origin_reaches_its_fit_or_choice(cdnow_small, value_params, small_backtest, k):
    origins, table, info, known, _ = small_backtest
    c = origins[k]
    a = known.get(c) or value.predict_holdout(cdnow_small, c, OBS, value_params)
    b = value.predict_holdout(_after(cdnow_small, str(c.date())), c, OBS, value_params)
    assert_frame_equal(a.predictions, b.predictions)
    assert_frame_equal(a.validation_by_window, b.validation_by_window)
    assert a.chosen == b.chosen == info.set_index("origin").loc[c, "chosen"]
    for m in ("glm_tweedie",):
        pd.testing.assert_series_equal(a.models[m].result_.params, b.models[m].result_.params)
    assert a.benchmark.params() == b.benchmark.params()


def test_backtest_table(cdnow_small, small_backtest):
    origins, table, info, _, _ = small_backtest
    assert list(table.columns[:7]) == ["origin", "model", "mae", "rmse", "spearman", "top_decile_share",
                                       "aggregate_error"]
    assert len(table) == len(origins) * len(value.MODELS)
    assert table.groupby("origin")["chosen"].sum().tolist() == [1, 1]
    # each origin is scored on its own holdout: recompute one metric by hand
    c = origins[1]
    act = value.holdout_actuals(cdnow_small, c, OBS)
    row = table[(table["origin"] == c) & (table["model"] == "bgnbd_gg")].iloc[0]
    assert row["customers"] == len(act) and row["holdout_days"] == (pd.Timestamp(OBS) - c).days
    s = value.backtest_summary(table)
    assert s["origin"].tolist() == origins
    assert s["rmse_ratio"].tolist() == pytest.approx((s["rmse_chosen"] / s["rmse_benchmark"]).tolist())
    with pytest.raises(InputError, match="'chosen'"):
        value.backtest_summary(table.drop(columns="chosen"))


def test_backtest_names_the_origin_that_fails(cdnow_small, value_params):
    with pytest.raises(InputError, match="backtest at 1997-02-28"):
        value.backtest(cdnow_small, OBS, ["1997-02-28"], value_params)


def test_benchmark_failure_does_not_stop_the_regressions(cdnow_small, value_params, monkeypatch):
    def boom(summary):
        raise ConvergenceError("BG/NBD: maximum-likelihood fit did not converge (test)")

    # the features of every origin fit the benchmark through this name
    monkeypatch.setattr(value.features, "fit_benchmark", boom)
    res = value.predict_holdout(cdnow_small, CAL, OBS, value_params)
    assert res.benchmark is None and "did not converge (test)" in res.benchmark_error
    pred = res.predictions
    assert pred["pred_bgnbd_gg"].isna().all() and pred["p_alive"].isna().all()
    for m in ("naive", *value.REGRESSION_MODELS):
        assert np.isfinite(pred[f"pred_{m}"]).all() and (pred[f"pred_{m}"] >= 0).all()
    # the regressions now keep the naive forecast's total
    assert pred["pred_glm_tweedie"].sum() == pytest.approx(pred["pred_naive"].sum())
    act = value.holdout_actuals(cdnow_small, CAL, OBS)["actual_holdout_value"]
    preds = {m: pred[f"pred_{m}"].to_numpy() for m in value.MODELS}
    hold = value.compare_models(act, {m: p for m, p in preds.items() if np.isfinite(p).all()})
    table, info = value.backtest(cdnow_small, OBS, [CAL], value_params, known={pd.Timestamp(CAL): res})
    assert table.set_index("model").loc["bgnbd_gg", ["rmse", "spearman"]].isna().all()
    assert info["benchmark_error"].iloc[0] == res.benchmark_error
    clv, err = value.clv_forecast(cdnow_small, OBS, res.chosen, value_params)
    assert "did not converge" in err and np.isfinite(clv["clv"]).all() and (clv["clv"] >= 0).all()
    rep = value.metrics_report(hold, res, "rmse", table, info, clv_as_of=OBS, clv_error=err)
    text = json.dumps(rep, allow_nan=False)
    assert rep["benchmark"]["status"] == "failed" and "did not converge" in rep["benchmark"]["error"]
    assert "bgnbd_gg" not in rep and rep["benchmark_params"] is None
    assert '"rmse": null' in text


def test_clv_is_dated_at_observation_end_and_blind_after_it(cdnow_small, value_params):
    """CLV uses every row up to observation_end (holdout included) and nothing after it."""
    base, err = value.clv_forecast(cdnow_small, OBS, "glm_tweedie", value_params)
    assert err is None
    later = pd.concat([cdnow_small, tx_frame([("00001", "1998-07-02", 5000.0)])], ignore_index=True)
    assert_frame_equal(base, value.clv_forecast(later, OBS, "glm_tweedie", value_params)[0])
    # a holdout purchase does change it: the model now learns from data up to OBS
    moved = cdnow_small.copy()
    moved.loc[moved["date"] > pd.Timestamp(CAL), "amount"] *= 3
    assert not np.allclose(base["clv"], value.clv_forecast(moved, OBS, "glm_tweedie", value_params)[0]["clv"])
    first = cdnow_small.groupby("customer_id")["date"].min()
    assert set(base["customer_id"]) == set(first.index)
    assert (base["clv"] >= 0).all() and base["clv"].sum() < value_params["margin"] * base["forecast_spend"].sum()
    with pytest.raises(InputError, match="chosen model"):
        value.clv_forecast(cdnow_small, OBS, "bgnbd_gg", value_params)


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.PerfectSeparationWarning")
def test_tweedie_glm_factor_never_beyond_training_when_inputs_part():
    """Two inputs equal in training get opposite coefficients; apart later, the factor stays bounded."""
    panel = _synthetic_panel()
    panel["total_spend"] = panel["mean_day_spend"] * (panel["frequency"] + 1)
    panel["spend_last_90d"] = panel["total_spend"]  # young customers: all spend is recent
    panel["target_spend"] = panel["anchor"] * np.exp(0.3 * np.log1p(panel["frequency"]))
    glm = value.TweedieGLM(1.5).fit(panel)
    lo, hi = glm.factor_range_
    row = panel.iloc[[0]].assign(spend_last_90d=0.0, frequency=500.0, mean_day_spend=1e6)
    got = glm.predict(row, rescale=False)[0] / row["anchor"].iloc[0]
    assert np.exp(lo) - 1e-9 <= got <= np.exp(hi) + 1e-9


# --- helpers the notebook calls: tables behind the readings ---------------------------------


def test_benchmark_params_table_units_and_weeks():
    got = value.benchmark_params_table(_preset_benchmark(), "$")
    assert got["parameter"].tolist() == ["r", "alpha", "a", "b", "p", "q", "gamma", "alpha"]
    assert got["unit"].tolist() == ["none", "days", "none", "none", "none", "none", "money ($)", "weeks"]
    assert got["estimate"].iloc[-1] == pytest.approx(got["estimate"].iloc[1] / 7)
    empty = value.benchmark_params_table(None)
    assert empty.empty and empty.columns.tolist() == ["parameter", "estimate", "unit"]


def test_holdout_timing_even_without_a_benchmark():
    share = value.holdout_timing(pd.DataFrame({"x": [1, 2]}), None, 10.0)
    np.testing.assert_allclose(share, [[0.7, 1.0], [0.7, 1.0]])  # 7 of 10 days, then all
    with pytest.raises(InputError, match="horizon_days"):
        value.holdout_timing(pd.DataFrame({"x": [1]}), None, 0)


def test_holdout_scores_keep_a_failed_model_as_nan():
    pred = pd.DataFrame({f"pred_{m}": [1.0, 3.0] for m in value.MODELS})
    pred["pred_bgnbd_gg"] = np.nan
    got = value.holdout_scores([1.0, 3.0], pred)
    assert got.index.tolist() == list(value.MODELS)
    assert got.loc["bgnbd_gg"].isna().all() and got.loc["naive", "mae"] == 0.0
    assert list(value.finite_forecasts(pred)) == ["naive", "glm_tweedie", "gbm", "ensemble"]
    with pytest.raises(InputError, match="'pred_gbm'"):
        value.holdout_scores([1.0, 3.0], pred.drop(columns="pred_gbm"))


def test_better_metrics_missing_model():
    scores = pd.DataFrame({m: [1.0] for m in ("mae", "rmse", "spearman", "top_decile_share",
                                               "aggregate_error")}, index=["glm_tweedie"])
    with pytest.raises(InputError, match="'bgnbd_gg'"):
        value.better_metrics(scores, "glm_tweedie", "bgnbd_gg")


def test_validation_table_and_spread_by_hand():
    ends = pd.to_datetime(["1997-09-30", "1997-08-31"])
    by_window = pd.DataFrame({"window_end": np.repeat(ends, 3), "model": list(value.REGRESSION_MODELS) * 2,
                              "spearman": [0.30, 0.40, 0.36, 0.50, 0.44, 0.46]})
    validation = by_window.groupby("model", sort=False)["spearman"].mean().to_frame()
    wide = value.validation_table(by_window, validation, "spearman")
    assert wide.columns.tolist() == ["window to 1997-08-31", "window to 1997-09-30", "mean"]
    assert wide.loc["glm_tweedie", "mean"] == pytest.approx(0.40)
    gap, swing = value.regression_spread(wide)
    assert gap == pytest.approx(0.42 - 0.40)  # means: glm 0.40, gbm 0.42, ensemble 0.41
    assert swing == pytest.approx(0.10)  # ranges 0.20, 0.04, 0.10: the median
    one = value.validation_table(by_window[by_window["window_end"] == ends[0]], validation, "spearman")
    assert np.isnan(value.regression_spread(one)[1])
    with pytest.raises(InputError, match="'rmse'"):
        value.validation_table(by_window, validation, "rmse")


def test_clv_summary_and_tier_moves_by_hand():
    s = value.clv_summary([10.0, 30.0, 60.0])
    assert s == {"customers": 3, "total": 100.0, "mean": pytest.approx(100 / 3), "median": 30.0,
                 "top_decile_share": 0.6}
    with pytest.raises(InputError, match="no customers"):
        value.clv_summary([])
    tiers = pd.DataFrame({"value_tier_past": ["low", "high", "medium", "low"],
                          "value_tier_predicted": ["high", "medium", "medium", "low"]})
    assert value.tier_moves(tiers) == (1, 1)


def test_value_tiers_now_by_the_segmentation_rule():
    tx = tx_frame([("a", "1997-01-01", 90), ("b", "1997-01-02", 10), ("b", "1999-01-01", 500)])
    clv = pd.DataFrame({"customer_id": ["a", "b"], "clv": [1.0, 9.0]})
    got = value.value_tiers_now(tx, clv, "1998-06-30", {"high": 0.5, "medium": 0.8})
    assert got.columns.tolist() == ["customer_id", "clv", "value_tier_past", "value_tier_predicted"]
    assert got["value_tier_past"].tolist() == ["high", "low"]  # the 1999 purchase is after as_of
    assert got["value_tier_predicted"].tolist() == ["low", "high"]


def test_backtest_rank_wins_skips_failed_benchmark():
    summary = pd.DataFrame({"rmse_benchmark": [1.0, 1.0, np.nan], "spearman_chosen": [0.5, 0.3, 0.9],
                            "spearman_benchmark": [0.4, 0.4, np.nan], "top_decile_share_chosen": [0.5, 0.5, 0.5],
                            "top_decile_share_benchmark": [0.5, 0.4, np.nan]})
    assert value.backtest_rank_wins(summary) == (1, 2)


def test_product_table_aligns_clv_to_the_holdout_customers():
    pred = pd.DataFrame({"customer_id": ["b", "a"], "predicted_holdout_value": [2.0, 1.0],
                         "p_alive": [0.5, 1.0], "expected_purchases": [0.2, 0.1]})
    for m in value.MODELS:
        pred[f"pred_{m}"] = pred["predicted_holdout_value"]
    act = pd.DataFrame({"customer_id": ["a", "b"], "actual_holdout_value": [3.0, 0.0],
                        "calibration_value": [10.0, 20.0]})
    # "c" arrived after calibration_end: it has a CLV but no holdout forecast
    tiers = pd.DataFrame({"customer_id": ["c", "a"], "clv": [7.0, 5.0], "value_tier_past": ["low", "high"],
                          "value_tier_predicted": ["medium", "high"]})
    got = value.product_table(pred, act, tiers)
    assert got["customer_id"].tolist() == ["a", "b"]
    assert got["clv"].tolist() == [5.0, 0.0]  # "b" has no CLV row: 0 and the low tier
    assert got["value_tier_predicted"].tolist() == ["high", "low"]
    with pytest.raises(InputError, match="'clv'"):
        value.product_table(pred, act, tiers.drop(columns="clv"))
