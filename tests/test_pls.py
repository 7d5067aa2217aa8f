"""PLS path model engine: seminr's published ECSI numbers on mobi, and small known answers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from crmlab.errors import InputError
from crmlab.satisfaction.nps import nps, nps_by_group
from crmlab.satisfaction.pls import bootstrap_pls, fit_pls, prepare_items
from crmlab.satisfaction.pls_model import ConvergenceError, specify
from crmlab.satisfaction.pls_quality import construct_index, htmt, index_scores, reliability

from conftest import ECSI_MODEL, RAW

ECSI_MEASUREMENT = {
    "Image": [f"IMAG{i}" for i in range(1, 6)],
    "Expectation": [f"CUEX{i}" for i in range(1, 4)],
    "Quality": [f"PERQ{i}" for i in range(1, 8)],
    "Value": ["PERV1", "PERV2"],
    "Satisfaction": [f"CUSA{i}" for i in range(1, 4)],
    "Complaints": ["CUSCO"],
    "Loyalty": [f"CUSL{i}" for i in range(1, 4)],
}

# seminr 2.5, estimate_pls(mobi, mobi_mm, mobi_sm): path weighting, all mode A.
SEMINR_R2 = {
    "Expectation": 0.254938,
    "Quality": 0.309969,
    "Value": 0.345279,
    "Satisfaction": 0.681078,
    "Complaints": 0.278854,
    "Loyalty": 0.456944,
}
SEMINR_PATHS = {
    ("Image", "Expectation"): 0.504914,
    ("Image", "Satisfaction"): 0.178740,
    ("Image", "Loyalty"): 0.195755,
    ("Expectation", "Quality"): 0.556749,
    ("Expectation", "Value"): 0.049988,
    ("Expectation", "Satisfaction"): 0.062523,
    ("Quality", "Value"): 0.558304,
    ("Quality", "Satisfaction"): 0.512024,
    ("Value", "Satisfaction"): 0.194765,
    ("Satisfaction", "Complaints"): 0.528066,
    ("Satisfaction", "Loyalty"): 0.485478,
    ("Complaints", "Loyalty"): 0.066926,
}


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    return pd.read_csv(RAW / "ecsi" / "mobi.csv")


@pytest.fixture(scope="module")
def ecsi(mobi):
    return fit_pls(mobi, ECSI_MEASUREMENT, ECSI_MODEL)


# --- seminr's published ECSI model -------------------------------------------------


@pytest.mark.parametrize("construct", list(SEMINR_R2))
def test_ecsi_r2_matches_seminr(ecsi, construct):
    assert ecsi.r2[construct] == pytest.approx(SEMINR_R2[construct], abs=1e-4)


@pytest.mark.parametrize(("source", "target"), list(SEMINR_PATHS))
def test_ecsi_paths_match_seminr(ecsi, source, target):
    assert ecsi.paths.loc[source, target] == pytest.approx(SEMINR_PATHS[(source, target)], abs=1e-4)


def test_ecsi_total_effect_weight_and_iterations_match_seminr(ecsi):
    assert ecsi.total_effects.loc["Quality", "Satisfaction"] == pytest.approx(0.620762, abs=1e-4)
    assert ecsi.outer.loc["CUSL2", "weight"] == pytest.approx(0.114270, abs=1e-4)
    # seminr counts its loop from 0 and prints 6 for the same 7 weight updates.
    assert ecsi.iterations == 6 + 1


def test_ecsi_effects_decompose(ecsi):
    b = ecsi.paths.to_numpy()
    # Quality -> Satisfaction: direct + via Value, by hand.
    by_hand = b[2, 4] + b[2, 3] * b[3, 4]
    assert ecsi.total_effects.loc["Quality", "Satisfaction"] == pytest.approx(by_hand)
    assert ecsi.indirect_effects.loc["Quality", "Satisfaction"] == pytest.approx(b[2, 3] * b[3, 4])
    table = ecsi.effects_table()
    assert np.allclose(table["direct"] + table["indirect"], table["total"])
    assert "Image -> Loyalty" in table.index and "Loyalty -> Image" not in table.index


def test_ecsi_scores_loadings_and_r2_adj(ecsi):
    scores = ecsi.scores
    assert np.allclose(scores.std(ddof=1), 1) and np.allclose(scores.mean(), 0)
    z = (ecsi.data - ecsi.data.mean()) / ecsi.data.std(ddof=1)
    assert ecsi.outer.loc["CUSA1", "loading"] == pytest.approx(
        np.corrcoef(z["CUSA1"], scores["Satisfaction"])[0, 1]
    )
    n, k = 250, 4
    r2 = SEMINR_R2["Satisfaction"]
    assert ecsi.r2_adj["Satisfaction"] == pytest.approx(
        1 - (1 - r2) * (n - 1) / (n - k - 1), abs=1e-4
    )


def test_ecsi_to_dict_is_json_ready(ecsi):
    out = json.loads(json.dumps(ecsi.to_dict()))
    assert out["paths"]["Quality -> Satisfaction"] == pytest.approx(0.512024, abs=1e-4)
    assert out["total_effects"]["Quality -> Satisfaction"] == pytest.approx(0.620762, abs=1e-4)
    assert out["outer_weights"]["Loyalty"]["CUSL2"] == pytest.approx(0.114270, abs=1e-4)
    assert "Quality -> Value" not in out["indirect_effects"]
    assert out["iterations"] == 7 and len(out["paths"]) == 12


def test_ecsi_standardised_alpha_and_reliability_formulas(ecsi, mobi):
    rel = reliability(ecsi)
    items = ECSI_MEASUREMENT["Satisfaction"]
    r = mobi[items].corr().to_numpy()
    k = len(items)
    rbar = r[np.triu_indices(k, 1)].mean()
    assert rel.loc["Satisfaction", "alpha_standardized"] == pytest.approx(
        k * rbar / (1 + (k - 1) * rbar)
    )
    c = mobi[items].cov().to_numpy()
    assert rel.loc["Satisfaction", "alpha"] == pytest.approx(
        k / (k - 1) * (1 - np.trace(c) / c.sum())
    )
    lam = ecsi.outer.loc[items, "loading"]
    assert rel.loc["Satisfaction", "ave"] == pytest.approx((lam**2).mean())
    assert rel.loc["Satisfaction", "rho_c"] == pytest.approx(
        lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    )
    assert rel.loc["Complaints"].drop(["n_items", "mode"]).eq(1).all()


# --- small data with known answers -------------------------------------------------


def _reflective(rng, factor, loadings, prefix):
    noise = rng.standard_normal((len(factor), len(loadings)))
    lam = np.asarray(loadings)
    x = factor[:, None] * lam + noise * np.sqrt(1 - lam**2)
    return {f"{prefix}{k + 1}": x[:, k] for k in range(len(lam))}


def _population_loadings(lam, w):
    """cor(x_k, sum_j w_j x_j) for one-factor items with loadings ``lam``."""
    sigma = np.outer(lam, lam)
    np.fill_diagonal(sigma, 1)
    return sigma @ w / np.sqrt(w @ sigma @ w), sigma


def test_two_construct_model_matches_population_values():
    rng = np.random.default_rng(1)
    n = 20000
    lam_x, lam_y, beta = np.array([0.9, 0.8, 0.7]), np.array([0.85, 0.8, 0.75]), 0.5
    xi = rng.standard_normal(n)
    eta = beta * xi + np.sqrt(1 - beta**2) * rng.standard_normal(n)
    data = pd.DataFrame({**_reflective(rng, xi, lam_x, "x"), **_reflective(rng, eta, lam_y, "y")})
    res = fit_pls(data, {"X": ["x1", "x2", "x3"], "Y": ["y1", "y2", "y3"]}, {"Y": ["X"]})
    wx = res.outer.loc[["x1", "x2", "x3"], "weight"].to_numpy()
    wy = res.outer.loc[["y1", "y2", "y3"], "weight"].to_numpy()
    load_x, sx = _population_loadings(lam_x, wx)
    load_y, sy = _population_loadings(lam_y, wy)
    assert np.allclose(res.outer.loc[["x1", "x2", "x3"], "loading"], load_x, atol=0.02)
    assert np.allclose(res.outer.loc[["y1", "y2", "y3"], "loading"], load_y, atol=0.02)
    # Composite correlation in the population: beta * (w'lambda) for each side.
    pop_path = beta * (wx @ lam_x) / np.sqrt(wx @ sx @ wx) * (wy @ lam_y) / np.sqrt(wy @ sy @ wy)
    assert res.paths.loc["X", "Y"] == pytest.approx(pop_path, abs=0.02)
    # One predecessor: the path is the correlation of the scores and R² its square.
    r = np.corrcoef(res.scores["X"], res.scores["Y"])[0, 1]
    assert res.paths.loc["X", "Y"] == pytest.approx(r)
    assert res.r2["Y"] == pytest.approx(r**2)


def test_formative_mode_b_recovers_weights():
    rng = np.random.default_rng(2)
    n = 20000
    sigma = np.array([[1, 0.5, 0.3], [0.5, 1, 0.4], [0.3, 0.4, 1]])
    x = rng.multivariate_normal(np.zeros(3), sigma, n)
    w_true = np.array([0.7, 0.5, -0.2])
    w_true = w_true / np.sqrt(w_true @ sigma @ w_true)  # unit-variance composite
    z = 0.9 * (x @ w_true) + np.sqrt(1 - 0.81) * rng.standard_normal(n)
    data = pd.DataFrame({"f1": x[:, 0], "f2": x[:, 1], "f3": x[:, 2]})
    data = data.assign(**_reflective(rng, z, [0.85, 0.8, 0.75], "y"))
    meas = {"F": ["f1", "f2", "f3"], "Y": ["y1", "y2", "y3"]}
    res_b = fit_pls(data, meas, {"Y": ["F"]}, modes={"F": "B"})
    est = res_b.outer.loc[["f1", "f2", "f3"], "weight"].to_numpy()
    assert np.allclose(est, w_true, atol=0.03)
    # Mode A weights follow the items' covariances with the proxy (sigma @ w), not w.
    res_a = fit_pls(data, meas, {"Y": ["F"]})
    est_a = res_a.outer.loc[["f1", "f2", "f3"], "weight"].to_numpy()
    assert np.abs(est_a - w_true).max() > 0.1
    assert reliability(res_b).loc["F", "rho_a"] == 1


@pytest.mark.parametrize("scheme", ["centroid", "factor"])
def test_other_schemes_run_and_differ_from_path(mobi, ecsi, scheme):
    res = fit_pls(mobi, ECSI_MEASUREMENT, ECSI_MODEL, scheme=scheme)
    diff = (res.paths - ecsi.paths).abs().to_numpy().max()
    assert 1e-5 < diff < 0.05
    assert res.scheme == scheme and res.iterations < 300


def test_reliability_of_parallel_items_is_spearman_brown():
    rng = np.random.default_rng(3)
    f = rng.standard_normal(20000)
    g = 0.6 * f + 0.8 * rng.standard_normal(20000)
    data = pd.DataFrame(
        {**_reflective(rng, f, [0.7] * 4, "a"), **_reflective(rng, g, [0.8] * 3, "b")}
    )
    res = fit_pls(data, {"A": ["a1", "a2", "a3", "a4"], "B": ["b1", "b2", "b3"]}, {"B": ["A"]})
    rel = reliability(res)
    truth = 4 * 0.49 / (1 + 3 * 0.49)  # composite reliability of 4 parallel items
    for col in ("alpha", "alpha_standardized", "rho_a"):
        assert rel.loc["A", col] == pytest.approx(truth, abs=0.01)
    assert rel.loc["A", "rho_c"] > truth  # PLS loadings are inflated: rho_C overstates


def test_htmt_identical_near_one_independent_near_zero():
    rng = np.random.default_rng(4)
    f, h = rng.standard_normal(20000), rng.standard_normal(20000)
    data = pd.DataFrame(
        {
            **_reflective(rng, f, [0.8, 0.7, 0.75], "a"),
            **_reflective(rng, f, [0.8, 0.7, 0.75], "b"),
            **_reflective(rng, h, [0.8, 0.7], "c"),
        }
    )
    meas = {"A": ["a1", "a2", "a3"], "B": ["b1", "b2", "b3"], "C": ["c1", "c2"]}
    out = htmt(data, meas)
    assert out.loc["A", "B"] == pytest.approx(1, abs=0.03)
    assert out.loc["A", "C"] < 0.05 and out.loc["C", "B"] == out.loc["B", "C"]
    assert np.isnan(out.loc["A", "A"])


def test_htmt_by_hand_single_item():
    data = pd.DataFrame({"a1": [1, 2, 3, 4, 5.0], "a2": [2, 1, 4, 3, 5.0], "b": [1, 3, 2, 5, 4.0]})
    r = data.corr().abs()
    expected = (r.loc["a1", "b"] + r.loc["a2", "b"]) / 2 / np.sqrt(r.loc["a1", "a2"] * 1)
    assert htmt(data, {"A": ["a1", "a2"], "B": ["b"]}).loc["A", "B"] == pytest.approx(expected)


def test_missing_codes_mean_and_drop(mobi):
    coded = mobi.copy()
    coded.loc[[3, 10, 20], "CUEX1"] = -99
    coded.loc[[5], "PERV2"] = -99
    prepared = prepare_items(coded, ["CUEX1", "PERV2"], "mean", [-99])
    keep = mobi.drop(index=[3, 10, 20])["CUEX1"].mean()
    assert prepared.loc[10, "CUEX1"] == pytest.approx(keep)
    by_mean = coded.replace(-99, np.nan).pipe(lambda d: d.fillna(d.mean()))
    res = fit_pls(coded, ECSI_MEASUREMENT, ECSI_MODEL, missing_codes=[-99])
    ref = fit_pls(by_mean, ECSI_MEASUREMENT, ECSI_MODEL)
    assert np.allclose(res.paths, ref.paths)
    res = fit_pls(coded, ECSI_MEASUREMENT, ECSI_MODEL, missing="drop", missing_codes=[-99])
    ref = fit_pls(mobi.drop(index=[3, 5, 10, 20]), ECSI_MEASUREMENT, ECSI_MODEL)
    assert res.n == 246 and np.allclose(res.paths, ref.paths)


def test_bootstrap_seeded_reproducible_and_covers_estimate(ecsi):
    one = bootstrap_pls(ecsi, n_boot=60, seed=7, progress=False)
    two = bootstrap_pls(ecsi, n_boot=60, seed=7, progress=False)
    other = bootstrap_pls(ecsi, n_boot=60, seed=8, progress=False)
    pd.testing.assert_frame_equal(one, two)
    assert not np.allclose(one["ci_low"], other["ci_low"])
    paths = one[one["kind"] == "path"]
    assert len(paths) == 12 and (one["n_ok"] == 60).all()
    assert (paths["ci_low"] <= paths["estimate"]).all()
    assert (paths["estimate"] <= paths["ci_high"]).all()
    assert paths.loc["Quality -> Satisfaction", "estimate"] == pytest.approx(0.512024, abs=1e-4)
    # The mean of a sum is the sum of the means: total = direct + indirect per draw.
    tot = one[one["kind"] == "total"]
    ind = one[one["kind"] == "indirect"]["boot_mean"]
    direct = paths["boot_mean"].reindex(tot.index, fill_value=0)
    assert np.allclose(tot["boot_mean"], direct + ind.reindex(tot.index, fill_value=0))


# --- index and NPS -------------------------------------------------------------------


def test_construct_index_by_hand(ecsi, mobi):
    table = construct_index(ecsi, (1, 10))
    # A single item: weighted and equal index are both the rescaled item mean.
    by_hand = 100 * (mobi["CUSCO"].mean() - 1) / 9
    assert table.loc["Complaints", "index_pls"] == pytest.approx(by_hand)
    assert table.loc["Complaints", "index_equal"] == pytest.approx(by_hand)
    items = ECSI_MEASUREMENT["Loyalty"]
    w = ecsi.outer.loc[items, "weight"] / mobi[items].std(ddof=1)
    w = w / w.sum()
    assert table.loc["Loyalty", "index_pls"] == pytest.approx(
        100 * ((mobi[items] @ w).mean() - 1) / 9
    )
    assert table.loc["Loyalty", "index_equal"] == pytest.approx(
        100 * (mobi[items].mean(axis=1).mean() - 1) / 9
    )
    scores = index_scores(ecsi, (1, 10))
    assert scores.min().min() >= -1e-9 and scores.max().max() <= 100 + 1e-9
    top = (mobi[items] == 10).all(axis=1)  # all answers at the scale's top -> 100
    assert top.any() and np.allclose(scores.loc[top, "Loyalty"], 100)
    assert (table["ci_low"] < table["index_pls"]).all()


def test_construct_index_rejects_answers_outside_scale(ecsi):
    with pytest.raises(InputError, match="scale.Image: item 'IMAG1'"):
        construct_index(ecsi, {**dict.fromkeys(ECSI_MEASUREMENT, (1, 10)), "Image": (1, 7)})


@pytest.mark.parametrize(
    ("values", "scale", "mapping", "expected"),
    [
        ([10, 10, 9, 8, 7, 6, 2, 9, 10, 4], (0, 10), "labels", (0.5, 0.2, 0.3, 20.0)),
        ([10, 9, 7, 6, 1], (1, 10), "labels", (0.4, 0.2, 0.4, 0.0)),
        ([10, 9, 7, 6, 1], (1, 10), "linear", (0.2, 0.4, 0.4, -20.0)),
        ([7, 6, 4, 1], (1, 7), "linear", (0.25, 0.25, 0.5, -25.0)),
    ],
)
def test_nps_by_hand(values, scale, mapping, expected):
    out = nps(pd.Series(values, name="rec"), scale, mapping=mapping)
    prom, pas, det, score = expected
    assert (out["promoters"], out["passives"], out["detractors"]) == pytest.approx((prom, pas, det))
    assert out["nps"] == pytest.approx(score)
    n = len(values)
    se = 100 * np.sqrt((prom + det - (prom - det) ** 2) / n)
    assert out["se"] == pytest.approx(se)
    assert out["ci_low"] == pytest.approx(max(-100, score - 1.959964 * se), abs=1e-4)


def test_nps_missing_codes_and_groups():
    out = nps([-99, 10, 0, np.nan], missing_codes=[-99])
    assert out["n"] == 2 and out["n_missing"] == 2 and out["nps"] == 0
    data = pd.DataFrame({"rec": [10, 9, 3, 10, 8, 1], "seg": ["a", "a", "a", "b", "b", "b"]})
    table = nps_by_group(data, "rec", "seg")
    assert table.loc["a", "nps"] == pytest.approx(100 / 3)
    assert table.loc["b", "nps"] == pytest.approx(0)
    assert table.loc["all", "nps"] == pytest.approx(100 / 6)
    silent = pd.concat([data, pd.DataFrame({"rec": [-99], "seg": ["c"]})], ignore_index=True)
    table = nps_by_group(silent, "rec", "seg", missing_codes=[-99])
    assert table.loc["c", "n"] == 0 and np.isnan(table.loc["c", "nps"])
    assert table.loc["all", "n"] == 6


@pytest.mark.parametrize(
    ("values", "kwargs", "message"),
    [
        ([11, 5], {}, "outside"),
        ([5, 6], {"scale": (1, 7)}, "'labels' needs"),
        (["x", 5], {}, "non-numeric"),
        ([-99], {"missing_codes": [-99]}, "no answers"),
        ([5], {"mapping": "odd"}, "nps.mapping"),
    ],
)
def test_nps_errors(values, kwargs, message):
    with pytest.raises(InputError, match=message):
        nps(values, **kwargs)


# --- error paths ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measurement", "structural", "message"),
    [
        ({"A": ["IMAG1"], "B": ["CUEX1"]}, {"A": ["B"], "B": ["A"]}, "cycle through A, B"),
        ({"A": ["IMAG1"], "B": ["NOPE"]}, {"B": ["A"]}, "measurement.B: item 'NOPE' not in"),
        ({"A": ["IMAG1"], "B": []}, {"B": ["A"]}, "measurement.B: construct has no items"),
        ({"A": ["IMAG1"], "B": ["CUEX1"]}, {"B": ["C"]}, "model.B: predecessor 'C'"),
        ({"A": ["IMAG1"], "B": ["CUEX1"]}, {"C": ["A"]}, "model.C: not a construct"),
        ({"A": ["IMAG1"], "B": ["IMAG1"]}, {"B": ["A"]}, "item 'IMAG1' already belongs"),
        ({"A": ["IMAG1"], "B": ["CUEX1"], "C": ["CUEX2"]}, {"B": ["A"]}, "'C' has no structural"),
        ({"A": ["IMAG1"], "B": ["CUEX1"]}, {"B": ["B"]}, "cannot predict itself"),
    ],
)
def test_bad_model_raises_input_error(mobi, measurement, structural, message):
    with pytest.raises(InputError, match=message):
        fit_pls(mobi, measurement, structural)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scheme": "magic"}, "scheme"),
        ({"missing": "zero"}, "missing"),
        ({"modes": {"Image": "C"}}, "modes.Image"),
        ({"max_iter": 0}, "max_iter"),
    ],
)
def test_bad_settings_raise_input_error(mobi, kwargs, message):
    with pytest.raises(InputError, match=message):
        fit_pls(mobi, ECSI_MEASUREMENT, ECSI_MODEL, **kwargs)


def test_non_convergence_raises(mobi):
    with pytest.raises(ConvergenceError, match="did not converge in 1 iterations"):
        fit_pls(mobi, ECSI_MEASUREMENT, ECSI_MODEL, max_iter=1)


def test_constant_item_is_named(mobi):
    flat = mobi.assign(CUEX1=5)
    with pytest.raises(InputError, match="item 'CUEX1' has no variance"):
        fit_pls(flat, ECSI_MEASUREMENT, ECSI_MODEL)


def test_specify_keeps_order_and_defaults_to_mode_a():
    model = specify({"A": "a1", "B": ["b1", "b2"]}, {"B": ["A"]}, modes={"B": "b"})
    assert model.constructs == ["A", "B"] and model.items == ["a1", "b1", "b2"]
    assert model.modes == {"A": "A", "B": "B"} and model.edges == [("A", "B")]
