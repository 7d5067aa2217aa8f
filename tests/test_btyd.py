"""BG/NBD and Gamma-Gamma: the published CDNOW estimates, hand-checkable formulas, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from crmlab.btyd import BetaGeo, ConvergenceError, GammaGamma, rfm_arrays
from crmlab.errors import InputError
from crmlab.features import customer_summary

from conftest import RAW


@pytest.fixture(scope="module")
def cdnow_weekly():
    """The published 2,357-customer calibration summary (weeks)."""
    return pd.read_csv(RAW / "cdnow" / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def cdnow_sample_summary():
    """The same sample from its transactions, same-day purchases merged, to 1997-09-30."""
    raw = pd.read_csv(
        RAW / "cdnow" / "CDNOW_sample.txt", sep=r"\s+", header=None, dtype=str,
        names=["customer_id", "sample_id", "date", "cds", "amount"],
    )
    tx = pd.DataFrame({
        "customer_id": raw["customer_id"],
        "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
        "amount": raw["amount"].astype(float),
    })
    return customer_summary(tx, "1997-09-30")


def _fitted_bgnbd(r, alpha, a, b):
    m = BetaGeo()
    m.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
    return m


# --- the published numbers (Fader, Hardie & Lee 2005) -------------------------------------


def test_bgnbd_reproduces_published_cdnow_estimates(cdnow_weekly):
    s = cdnow_weekly
    m = BetaGeo().fit(s["frequency"], s["recency"], s["T"])
    assert m.n_customers_ == 2357
    got = {k: round(v, 2) for k, v in m.params_.items()}
    assert got == {"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43}
    assert m.params_["r"] == pytest.approx(0.243, abs=5e-4)
    assert m.params_["alpha"] == pytest.approx(4.414, abs=5e-4)
    assert m.params_["a"] == pytest.approx(0.793, abs=5e-4)
    assert m.params_["b"] == pytest.approx(2.426, abs=5e-4)
    assert m.log_likelihood_ == pytest.approx(-9582.43, abs=0.005)
    assert m.log_likelihood(s["frequency"], s["recency"], s["T"]).sum() == pytest.approx(
        m.log_likelihood_
    )


def test_bgnbd_published_conditional_expectation(cdnow_weekly):
    s = cdnow_weekly
    m = BetaGeo().fit(s["frequency"], s["recency"], s["T"])
    got = m.expected_purchases(39, [2], [30.43], [38.86])
    assert got[0] == pytest.approx(1.226, abs=5e-4)


def test_gamma_gamma_reproduces_published_cdnow_estimates(cdnow_sample_summary):
    s = cdnow_sample_summary
    assert len(s) == 2357
    repeat = s[s["frequency"] > 0]
    assert len(repeat) == 946
    g = GammaGamma().fit(repeat["frequency"], repeat["monetary_value"])
    assert {k: round(v, 2) for k, v in g.params_.items()} == {"p": 6.25, "q": 3.74, "gamma": 15.44}


# --- formulas checked by hand or by integration ----------------------------------------


def test_loglik_of_a_one_time_buyer_is_the_gamma_poisson_zero_probability():
    # x = 0: nobody can have died (death follows a purchase), so L = (alpha / (alpha + T))^r
    r, alpha, T = 0.5, 10.0, 30.0
    m = _fitted_bgnbd(r, alpha, 0.8, 2.5)
    assert m.log_likelihood([0], [0], [T])[0] == pytest.approx(r * math.log(alpha / (alpha + T)))


def test_p_alive_by_hand():
    r, alpha, a, b = 0.25, 4.0, 0.8, 2.4
    m = _fitted_bgnbd(r, alpha, a, b)
    x, t_x, T = 3, 10.0, 20.0
    odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    got = m.p_alive([0, x], [0, t_x], [T, T])
    np.testing.assert_allclose(got, [1.0, 1.0 / (1.0 + odds)])


@pytest.mark.parametrize(
    "params",
    [(0.2644, 28.866, 0.2581, 0.5487), (0.243, 4.414, 0.793, 2.426), (0.25, 30.0, 2.5, 4.0)],
    ids=["a_plus_b_below_1", "published", "a_above_1"],
)
def test_expected_purchases_of_a_one_time_buyer_matches_integration(params):
    # x = 0: lambda | data ~ Gamma(r, alpha + T), p ~ Beta(a, b) unchanged, and a customer
    # alive with (lambda, p) makes (1 - exp(-lambda p t)) / p purchases in t on average
    r, alpha, a, b = params
    T, t = 50.0, 120.0

    def integrand(p):
        return stats.beta.pdf(p, a, b) * (1 - ((alpha + T) / (alpha + T + p * t)) ** r) / p

    want = integrate.quad(integrand, 0, 1, limit=200)[0]
    got = _fitted_bgnbd(*params).expected_purchases(t, [0], [0], [T])[0]
    assert got == pytest.approx(want, rel=1e-7)


def test_expected_purchases_match_lifetimes_including_heavy_buyers():
    lifetimes = pytest.importorskip("lifetimes")
    rng = np.random.default_rng(0)
    n = 300
    T = rng.uniform(10, 300, n)
    x = rng.integers(0, 120, n).astype(float)
    t_x = np.where(x > 0, T * rng.uniform(0.1, 1, n), 0.0)
    ours = _fitted_bgnbd(0.25, 33.5, 0.72, 2.16)
    ref = lifetimes.BetaGeoFitter()
    ref.params_ = pd.Series({"r": 0.25, "alpha": 33.5, "a": 0.72, "b": 2.16})
    np.testing.assert_allclose(
        ours.expected_purchases(273, x, t_x, T),
        ref.conditional_expected_number_of_purchases_up_to_time(273, x, t_x, T),
        rtol=1e-8,
    )


def test_expected_spend_by_hand():
    g = GammaGamma()
    g.params_ = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    got = g.expected_spend([0, 2], [0.0, 40.0])
    # x = 0: the population mean p * gamma / (q - 1); x = 2: p (gamma + 2 m) / (2 p + q - 1)
    np.testing.assert_allclose(got, [6 * 15 / 3, 6 * (15 + 80) / (12 + 3)])


def test_fit_returns_self_and_is_deterministic(cdnow_weekly):
    s = cdnow_weekly
    m1 = BetaGeo()
    assert m1.fit(s["frequency"], s["recency"], s["T"]) is m1
    m2 = BetaGeo().fit(s["frequency"], s["recency"], s["T"])
    assert m1.params_ == m2.params_


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, t_x, T, column",
    [
        ([1, 2], [1.0], [5.0, 5.0], "recency"),
        ([-1], [0.0], [5.0], "frequency"),
        ([1.5], [1.0], [5.0], "frequency"),
        ([1], [6.0], [5.0], "recency"),
        ([0], [2.0], [5.0], "recency"),
        ([1], [float("nan")], [5.0], "recency"),
        ([], [], [], "frequency"),
    ],
    ids=["length", "negative", "fractional", "recency_beyond_T", "recency_without_repeat", "nan", "empty"],
)
def test_rfm_arrays_reject_bad_input(x, t_x, T, column):
    with pytest.raises(InputError, match=column):
        rfm_arrays(x, t_x, T)


def test_bgnbd_needs_a_repeat_buyer():
    with pytest.raises(InputError, match="no customer has a repeat purchase"):
        BetaGeo().fit([0, 0], [0.0, 0.0], [5.0, 9.0])


def test_bgnbd_degenerate_data_raise_convergence_error():
    # every customer bought twice, the second time today: no maximum inside the space; scipy
    # 1.17 stops on the ridge (r ~ 2000, alpha ~ 20000) and calls it a success
    with pytest.raises(ConvergenceError, match=r"did not converge \(ran away: r = .*alpha = "):
        BetaGeo().fit([1] * 50, [10.0] * 50, [10.0] * 50)


def test_gamma_gamma_degenerate_data_raise_convergence_error():
    # every repeat buyer spends exactly the same: p and q run off to infinity together
    with pytest.raises(ConvergenceError, match=r"ran away: p = .*towards infinity"):
        GammaGamma().fit([3] * 40, [20.0] * 40)


class _Claimed:
    """What an optimiser returns when it claims success at ``x``."""

    def __init__(self, x):
        self.x, self.success, self.message = np.asarray(x, dtype=float), True, "claimed"
        self.fun = 0.0


@pytest.mark.parametrize(
    "claimed, match",
    [
        (np.log([2000.0, 2000.0, 1.0, 3.0]), r"ran away: r = 2000 \(towards infinity\), alpha = "),
        ([np.log(1e6), 0.0, 0.0, 1.0], r"bound of the parameter space: r = 1e\+06"),
    ],
    ids=["ridge_with_success_flag", "box_edge"],
)
def test_convergence_is_judged_by_the_estimate_not_the_flag(monkeypatch, claimed, match):
    import crmlab.btyd as btyd

    def fake_minimize(fun, x0, **kwargs):
        out = _Claimed(claimed)
        out.fun = fun(out.x)
        return out

    monkeypatch.setattr(btyd, "minimize", fake_minimize)
    # data with a proper maximum: only the claimed estimate is wrong
    rng = np.random.default_rng(1)
    x = rng.integers(0, 6, 300).astype(float)
    T = np.full(300, 30.0)
    t_x = np.where(x > 0, rng.uniform(1, 30, 300), 0.0)
    with pytest.raises(ConvergenceError, match=match):
        BetaGeo().fit(x, t_x, T)


def test_estimates_do_not_depend_on_the_time_unit(cdnow_weekly):
    s = cdnow_weekly
    weeks = BetaGeo().fit(s["frequency"], s["recency"], s["T"]).params_
    days = BetaGeo().fit(s["frequency"], s["recency"] * 7, s["T"] * 7).params_
    for k in ("r", "a", "b"):
        assert days[k] == pytest.approx(weeks[k], rel=1e-4)
    assert days["alpha"] == pytest.approx(7 * weeks["alpha"], rel=1e-4)


def test_bgnbd_unfitted_and_bad_horizon():
    with pytest.raises(RuntimeError, match="not fitted"):
        BetaGeo().p_alive([0], [0], [1])
    with pytest.raises(InputError, match="forecast length"):
        _fitted_bgnbd(0.2, 4.0, 0.8, 2.4).expected_purchases(0, [1], [1.0], [2.0])


@pytest.mark.parametrize(
    "x, m, column",
    [([0, 2], [10.0, 12.0], "frequency"), ([1, 2], [0.0, 12.0], "monetary_value"), ([3], [5.0], "frequency")],
    ids=["one_time_buyer", "zero_spend", "single_customer"],
)
def test_gamma_gamma_rejects_bad_input(x, m, column):
    with pytest.raises(InputError, match=column):
        GammaGamma().fit(x, m)


def test_gamma_gamma_unfitted():
    with pytest.raises(RuntimeError, match="not fitted"):
        GammaGamma().expected_spend([1], [10.0])
