"""Buy-Till-You-Die benchmark models: BG/NBD for purchase counts, Gamma-Gamma for spend.

Both are fitted by maximum likelihood with :func:`scipy.optimize.minimize` on the *logs* of
the parameters (so they stay positive without bounds), from starting values derived from
the data, with every likelihood term computed in log space (``gammaln``, ``betaln``,
``logaddexp``) so that customers with many purchases cannot overflow. A fit that does not
converge raises :class:`ConvergenceError` rather than returning parameters nobody should
use (lifetimes issues #419, #258, #332 show what happens otherwise). Convergence is judged
by the estimate itself, never by the optimiser's flag alone: it must lie inside the bound
``BOUND`` (in units of the data's own scale), the Hessian there must be positive definite,
and no parameter may sit beyond ``FAR`` with a standard error that leaves it unidentified.

The time unit is whatever ``recency``, ``T`` and ``t`` are measured in (days in crmlab,
weeks in the published CDNOW examples); ``alpha`` is in that unit.

The classes follow scikit-learn habits: nothing happens in ``__init__``, ``fit`` returns
``self``, learned attributes end in ``_``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, expit, gammaln, hyp2f1

from crmlab.errors import InputError

__all__ = ["BetaGeo", "GammaGamma", "ConvergenceError", "rfm_arrays"]


class ConvergenceError(RuntimeError):
    """A maximum-likelihood fit did not converge; the message says what to try."""


def _array(name: str, values, n: int | None = None) -> np.ndarray:
    """``values`` as a finite float array; InputError naming ``name`` otherwise."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if n is not None and len(arr) != n:
        raise InputError(f"{name}: expected {n} values, got {len(arr)}")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InputError(f"{name}: {int(bad.sum())} values are missing or infinite")
    return arr


def rfm_arrays(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check and return ``frequency``, ``recency``, ``T`` as float arrays.

    Parameters
    ----------
    frequency, recency, T : array-like
        Repeat purchases (whole numbers >= 0), time from first to last purchase, time from
        first purchase to the end of the period (same unit), one value per customer.

    Returns
    -------
    tuple of numpy.ndarray
        The three arrays as float64.

    Raises
    ------
    InputError
        Lengths differ, values are missing, negative, fractional (frequency), a recency is
        beyond ``T``, or a customer without repeat purchases has a recency other than 0.
    """
    x = _array("frequency", frequency)
    t_x = _array("recency", recency, len(x))
    t = _array("T", T, len(x))
    if len(x) == 0:
        raise InputError("frequency: no customers")
    if (x < 0).any() or (x != np.round(x)).any():
        raise InputError("frequency: must be whole numbers >= 0")
    if (t_x < 0).any():
        raise InputError("recency: must be >= 0")
    if (t_x > t + 1e-9).any():
        raise InputError(f"recency: {int((t_x > t + 1e-9).sum())} customers have recency > T")
    if ((x == 0) & (t_x != 0)).any():
        raise InputError("recency: must be 0 for customers with frequency 0")
    return x, t_x, t


#: Every parameter is estimated within [1 / BOUND, BOUND] after time (and, for Gamma-Gamma,
#: money) has been rescaled to the data's own mean, so the bound does not depend on units.
BOUND = 1e6
#: The Hessian of the negative log-likelihood (over log-parameters) counts as positive
#: definite when its smallest eigenvalue exceeds this share of its largest.
MIN_CURVATURE = 1e-7
#: A parameter beyond [1 / FAR, FAR] (same units as BOUND) whose log has a standard error
#: above MAX_LOG_SE (the inverse Hessian's) is running away along a ridge, not estimated.
FAR = 1e3
MAX_LOG_SE = 0.5


def _hessian(f, x: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x`` (few parameters, so 4 n^2 calls are cheap)."""
    n = len(x)
    out = np.empty((n, n))
    steps = np.eye(n) * h
    for i in range(n):
        for j in range(i, n):
            ei, ej = steps[i], steps[j]
            out[i, j] = out[j, i] = (
                f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            ) / (4 * h * h)
    return out


def _minimise(
    neg_ll, start: np.ndarray, what: str, names: tuple[str, ...], scales: tuple[float, ...]
) -> tuple[np.ndarray, float]:
    """Minimise ``neg_ll`` over log-parameters; raise ConvergenceError unless it is a maximum.

    L-BFGS-B within the box ``|log p| <= log(BOUND)`` is fast; when it stops on a
    line-search failure (flat, badly scaled surfaces are common with BTYD likelihoods)
    Nelder-Mead polishes from where it stopped. The optimiser's own success flag is not
    trusted: the estimate must lie inside the box (not on its edge), the Hessian there must
    be positive definite, and no parameter may sit far out (beyond ``FAR``) with a standard
    error that says the data do not pin it down. On degenerate data the likelihood keeps
    rising along a ridge towards infinity and scipy may report success far out on it
    (r ~ 2000, alpha ~ 20000 seen with scipy 1.17); these checks catch it and name the
    parameters. ``scales`` turn the internal units back into the data's for the message.
    """
    edge = np.log(BOUND)
    bounds = [(-edge, edge)] * len(start)
    res = minimize(neg_ll, start, method="L-BFGS-B", bounds=bounds, options={"maxiter": 2000})
    if not res.success or not np.isfinite(res.fun):
        polished = minimize(
            neg_ll,
            res.x if np.all(np.isfinite(res.x)) else start,
            method="Nelder-Mead",
            options={"maxiter": 20000, "maxfev": 20000, "xatol": 1e-8, "fatol": 1e-10},
        )
        res = polished if np.isfinite(polished.fun) else res
    x = np.asarray(res.x, dtype=np.float64)

    def named(idx) -> str:
        return ", ".join(
            f"{names[k]} = {float(np.exp(x[k]) * scales[k]):.4g}"
            + (f" (towards {'infinity' if x[k] > 0 else '0'})" if abs(x[k]) > np.log(FAR) else "")
            for k in idx
        )

    far = np.flatnonzero(np.abs(x) > np.log(FAR))
    why = None
    if not res.success or not np.isfinite(res.fun) or not np.all(np.isfinite(x)):
        why = f"the optimiser stopped: {res.message}"
    elif np.any(np.abs(x) >= edge - 1e-3):
        why = f"ran off to the bound of the parameter space: {named(np.flatnonzero(np.abs(x) >= edge - 1e-3))}"
    else:
        hess = _hessian(neg_ll, x)
        values, vectors = np.linalg.eigh(hess) if np.all(np.isfinite(hess)) else (None, None)
        if values is None or values[0] <= MIN_CURVATURE * max(abs(values[-1]), 1.0):
            if values is None:
                flat = np.arange(len(x))
            else:
                null = vectors[:, values <= MIN_CURVATURE * max(abs(values[-1]), 1.0)]
                flat = np.flatnonzero((null**2).sum(axis=1) > 0.1)
            idx = far if len(far) else flat
            why = (
                f"ran away: {named(idx)}; the Hessian is not positive definite there, so the "
                "likelihood has no maximum inside the parameter space"
            )
        elif len(far):
            se = np.sqrt(np.abs(np.diag(np.linalg.inv(hess))))
            loose = far[se[far] > MAX_LOG_SE]
            if len(loose):
                why = (
                    f"ran away: {named(loose)}, far out with a standard error of the log of "
                    f"{', '.join(f'{se[k]:.2g}' for k in loose)}: the data do not pin it down"
                )
    if why is None:
        return x, float(res.fun)
    raise ConvergenceError(
        f"{what}: maximum-likelihood fit did not converge ({why}); the data may hold too "
        "few repeat buyers or a degenerate pattern - check the customer summary"
    )


class BetaGeo:
    """BG/NBD model: Poisson purchasing while alive, a coin flip after each purchase to die.

    Purchase rates ``lambda`` vary across customers as Gamma(r, alpha); the dropout
    probability after each purchase ``p`` as Beta(a, b).

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha``, ``a``, ``b`` after :meth:`fit`.
    log_likelihood_ : float
        Total log-likelihood at the estimates.
    n_customers_ : int
        Customers the model was fitted on.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy
    way: An alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.
    """

    def fit(self, frequency, recency, T) -> BetaGeo:
        """Estimate ``r, alpha, a, b`` by maximum likelihood.

        Parameters
        ----------
        frequency, recency, T : array-like
            One value per customer (see :func:`rfm_arrays`).

        Returns
        -------
        BetaGeo
            ``self``, fitted.

        Raises
        ------
        InputError
            Invalid inputs, or no customer with a repeat purchase.
        ConvergenceError
            The optimiser did not reach a maximum.
        """
        x, t_x, t = rfm_arrays(frequency, recency, T)
        if not (x > 0).any():
            raise InputError("frequency: no customer has a repeat purchase; BG/NBD cannot be fitted")
        # identical (x, t_x, T) rows are common (one-off buyers of the same day): collapse
        # them into weights so each likelihood evaluation is cheaper
        # time is measured in units of the mean T inside the fit, so the bound on alpha
        # (BOUND) means the same whether the data come in days, weeks or hours
        scale = float(t.mean()) if t.mean() > 0 else 1.0
        keys, counts = np.unique(np.column_stack([x, t_x / scale, t / scale]), axis=0, return_counts=True)
        ux, utx, ut = keys.T
        w = counts.astype(np.float64)

        def neg_ll(logp: np.ndarray) -> float:
            r, alpha, a, b = np.exp(logp)
            ll = _bgnbd_loglik(r, alpha, a, b, ux, utx, ut)
            return -float(np.dot(w, ll))

        # start: a purchase rate matching the repeat purchases per unit of time observed
        # (E[lambda] = r / alpha with r = 1) and a moderate dropout p ~ Beta(1, 3)
        rate = max(float(x.sum() / max(ut @ w, 1e-12)), 1e-6)
        start = np.log([1.0, 1.0 / rate, 1.0, 3.0])
        logp, _ = _minimise(
            neg_ll, start, "BG/NBD", ("r", "alpha", "a", "b"), (1.0, scale, 1.0, 1.0)
        )
        r, alpha, a, b = np.exp(logp)
        alpha *= scale
        self.params_ = {"r": float(r), "alpha": float(alpha), "a": float(a), "b": float(b)}
        self.log_likelihood_ = float(_bgnbd_loglik(r, alpha, a, b, x, t_x, t).sum())
        self.n_customers_ = int(len(x))
        return self

    def _check_fitted(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise RuntimeError("BetaGeo is not fitted yet; call fit() first")
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    def log_likelihood(self, frequency, recency, T) -> np.ndarray:
        """Per-customer log-likelihood at the fitted parameters.

        Parameters
        ----------
        frequency, recency, T : array-like
            One value per customer.

        Returns
        -------
        numpy.ndarray
            One log-likelihood per customer.
        """
        r, alpha, a, b = self._check_fitted()
        x, t_x, t = rfm_arrays(frequency, recency, T)
        return _bgnbd_loglik(r, alpha, a, b, x, t_x, t)

    def _log_odds_dead(self, x, t_x, t) -> np.ndarray:
        # log of  (a / (b + x - 1)) * ((alpha + T) / (alpha + t_x))^(r + x)  for x > 0
        r, alpha, a, b = self._check_fitted()
        xs = np.maximum(x, 1.0)
        out = np.log(a) - np.log(b + xs - 1) + (r + x) * (np.log(alpha + t) - np.log(alpha + t_x))
        return np.where(x > 0, out, -np.inf)

    def p_alive(self, frequency, recency, T) -> np.ndarray:
        r"""Return the probability that each customer is still alive at the end of their history.

        .. math:: P(\text{alive}) = 1 \Big/ \Big(1 + \mathbb{1}_{x>0}\,
           \frac{a}{b+x-1}\left(\frac{\alpha+T}{\alpha+t_x}\right)^{r+x}\Big)

        Parameters
        ----------
        frequency, recency, T : array-like
            One value per customer.

        Returns
        -------
        numpy.ndarray
            Probabilities in (0, 1]; exactly 1 for customers without repeat purchases.
        """
        x, t_x, t = rfm_arrays(frequency, recency, T)
        return expit(-self._log_odds_dead(x, t_x, t))

    def expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """Return the expected repeat purchases in the next ``t`` time units, given each history.

        Equation (10) of Fader, Hardie & Lee (2005).

        Parameters
        ----------
        t : float or array-like
            Length of the forecast period (same unit as ``T``), > 0.
        frequency, recency, T : array-like
            One value per customer.

        Returns
        -------
        numpy.ndarray
            Expected purchases per customer.

        Raises
        ------
        InputError
            ``t`` is not positive.
        ConvergenceError
            The Gauss hypergeometric function cannot be evaluated for these parameters.
        """
        r, alpha, a, b = self._check_fitted()
        x, t_x, t_end = rfm_arrays(frequency, recency, T)
        h = np.broadcast_to(np.asarray(t, dtype=np.float64), x.shape)
        if not np.all(np.isfinite(h)) or (h <= 0).any():
            raise InputError("t: forecast length must be > 0")
        aa, bb, cc = r + x, b + x, a + b + x - 1
        z = h / (alpha + t_end + h)
        log_ratio = (r + x) * (np.log(alpha + t_end) - np.log(alpha + t_end + h))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            # evaluated in linear space: for a + b + x < 1 the function is negative, which a
            # log-space evaluation would turn into NaN
            term = hyp2f1(aa, bb, cc, z) * np.exp(log_ratio)
            # Euler's transformation 2F1(a,b;c;z) = (1-z)^(c-a-b) 2F1(c-a,c-b;c;z) for the
            # customers whose direct series overflows (many purchases)
            alt = hyp2f1(cc - aa, cc - bb, cc, z) * np.exp((cc - aa - bb) * np.log1p(-z) + log_ratio)
            term = np.where(np.isfinite(term), term, alt)
            scale = (a + b + x - 1) / (a - 1)
            out = scale * (1.0 - term) * expit(-self._log_odds_dead(x, t_x, t_end))
        if not np.all(np.isfinite(out)):
            raise ConvergenceError(
                "BG/NBD: expected purchases could not be evaluated for "
                f"{int((~np.isfinite(out)).sum())} customers (hypergeometric overflow)"
            )
        return out


def _bgnbd_loglik(r, alpha, a, b, x, t_x, t) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6), in log space."""
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + t)
    xs = np.maximum(x, 1.0)
    a3 = (
        betaln(a, b + x) - betaln(a, b) + np.log(a) - np.log(b + xs - 1)
        - (r + x) * np.log(alpha + t_x)
    )
    a3 = np.where(x > 0, a3, -np.inf)
    return a1 + np.logaddexp(a2, a3)


class GammaGamma:
    """Gamma-Gamma model of the spend per repeat transaction.

    Each transaction's spend is Gamma(p, nu); ``nu`` varies across customers as
    Gamma(q, gamma). The mean spend per transaction of a customer with ``x`` repeat
    transactions averaging ``m`` is shrunk towards the population mean
    ``p * gamma / (q - 1)``. The model assumes spend is independent of purchase frequency.

    Attributes
    ----------
    params_ : dict
        ``p``, ``q``, ``gamma`` after :meth:`fit`.
    log_likelihood_ : float
        Total log-likelihood at the estimates.
    n_customers_ : int
        Repeat buyers the model was fitted on.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using iso-value curves
    for customer base analysis. Journal of Marketing Research 42(4), 415-430.
    Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
    """

    def fit(self, frequency, monetary_value) -> GammaGamma:
        """Estimate ``p, q, gamma`` on repeat buyers.

        Parameters
        ----------
        frequency : array-like
            Repeat transactions per customer; every value must be >= 1.
        monetary_value : array-like
            Mean spend over those repeat transactions; every value must be > 0.

        Returns
        -------
        GammaGamma
            ``self``, fitted.

        Raises
        ------
        InputError
            A customer without repeat transactions or with a non-positive mean spend
            (select repeat buyers with positive spend before fitting), or fewer than 2.
        ConvergenceError
            The optimiser did not reach a maximum, or ``q <= 1`` (infinite mean spend).
        """
        x, m = self._arrays(frequency, monetary_value)
        if (x < 1).any():
            raise InputError(
                f"frequency: {int((x < 1).sum())} customers have no repeat transaction; "
                "Gamma-Gamma is fitted on repeat buyers only"
            )
        if (m <= 0).any():
            raise InputError(
                f"monetary_value: {int((m <= 0).sum())} repeat buyers have a mean spend <= 0; "
                "Gamma-Gamma needs positive amounts"
            )
        if len(x) < 2:
            raise InputError("frequency: Gamma-Gamma needs at least 2 repeat buyers")

        # money is measured in units of the mean spend inside the fit (see BOUND)
        scale = float(m.mean())
        ms = m / scale

        def neg_ll(logp: np.ndarray) -> float:
            p, q, g = np.exp(logp)
            return -float(_gg_loglik(p, q, g, x, ms).sum())

        # start: p = 1, q = 2 and gamma putting the population mean p*gamma/(q-1) at the
        # observed mean spend (1 in these units)
        start = np.log([1.0, 2.0, 1.0])
        logp, _ = _minimise(neg_ll, start, "Gamma-Gamma", ("p", "q", "gamma"), (1.0, 1.0, scale))
        p, q, g = np.exp(logp)
        g *= scale
        if q <= 1:
            raise ConvergenceError(
                f"Gamma-Gamma: estimated q = {q:.3f} <= 1 means an infinite mean spend; the "
                "spend distribution is too heavy-tailed for this model"
            )
        self.params_ = {"p": float(p), "q": float(q), "gamma": float(g)}
        self.log_likelihood_ = float(_gg_loglik(p, q, g, x, m).sum())
        self.n_customers_ = int(len(x))
        return self

    @staticmethod
    def _arrays(frequency, monetary_value) -> tuple[np.ndarray, np.ndarray]:
        x = _array("frequency", frequency)
        m = _array("monetary_value", monetary_value, len(x))
        if (x < 0).any() or (x != np.round(x)).any():
            raise InputError("frequency: must be whole numbers >= 0")
        return x, m

    def expected_spend(self, frequency, monetary_value) -> np.ndarray:
        r"""Return the expected spend per transaction given each customer's repeat history.

        .. math:: E[M \mid x, m_x] = \frac{p(\gamma + x\,m_x)}{p\,x + q - 1}

        Parameters
        ----------
        frequency : array-like
            Repeat transactions (0 allowed: those customers get the population mean).
        monetary_value : array-like
            Mean spend over repeat transactions (ignored where ``frequency`` is 0).

        Returns
        -------
        numpy.ndarray
            Expected spend per transaction.
        """
        if not hasattr(self, "params_"):
            raise RuntimeError("GammaGamma is not fitted yet; call fit() first")
        p, q, g = self.params_["p"], self.params_["q"], self.params_["gamma"]
        x, m = self._arrays(frequency, monetary_value)
        m = np.where(x > 0, m, 0.0)
        return p * (g + x * m) / (p * x + q - 1)


def _gg_loglik(p, q, g, x, m) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of the mean spend ``m`` of ``x`` purchases."""
    px = p * x
    return (
        gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g)
        + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(g + m * x)
    )
