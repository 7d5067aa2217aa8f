"""One-factor measurement models: the standardised loadings CR and AVE rest on.

Composite reliability and average variance extracted need standardised loadings from a
measurement model. By default that is a maximum-likelihood one-factor (congeneric) model
per construct, the algorithm of R's ``factanal``; the first principal component is kept
only to show how much it inflates both.

References
----------
Jöreskog (1967), "Some contributions to maximum likelihood factor analysis",
Psychometrika 32; Jöreskog (1971), "Statistical analysis of sets of congeneric tests",
Psychometrika 36. Fornell & Larcker (1981), JMR 18(1) (composite reliability, AVE).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.errors import InputError
from crmlab.satisfaction.survey import _complete, _numeric_frame

__all__ = [
    "OneFactorFit",
    "fit_one_factor",
    "one_factor_loadings",
    "composite_reliability",
    "average_variance_extracted",
]


def _item_correlations(x: pd.DataFrame) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.corrcoef(x.to_numpy(), rowvar=False)


# Heywood bound of R's factanal: a uniqueness this small means the loading hit 1.
_PSI_MIN = 0.005


@dataclass
class OneFactorFit:
    """A one-factor (congeneric) measurement model of one construct's items.

    Attributes
    ----------
    loadings : Series
        Standardised loading per item (the correlation of the item with the factor).
    uniquenesses : Series
        ``1 - loading**2``: the share of each item's variance the factor leaves unexplained.
    method : str
        ``ml`` (maximum likelihood, three or more items), ``tau-equivalent`` (two items:
        the one-factor model is not identified, so both loadings are set equal,
        ``sqrt(r)``), ``single item`` or ``pca`` (the first principal component, kept for
        comparison only).
    n : int
        Complete rows the fit used.
    heywood : bool
        A uniqueness hit its lower bound (a loading at 1): the model does not fit this
        construct and CR/AVE from it overstate reliability.
    chi2, df, p_value : float
        Likelihood-ratio test of one factor (NaN when ``df`` is 0: three items fit exactly).
    """

    loadings: pd.Series
    uniquenesses: pd.Series
    method: str
    n: int
    heywood: bool = False
    chi2: float = float("nan")
    df: int = 0
    p_value: float = float("nan")


def _ml_one_factor(r: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Maximum-likelihood one-factor fit of a correlation matrix (R's ``factanal``).

    The uniquenesses psi are found by L-BFGS-B on [0.005, 1]; the loadings follow from the
    largest eigenpair of Psi^-1/2 R Psi^-1/2 (Joreskog 1967). Returns loadings, psi and the
    minimised discrepancy F.
    """
    from scipy.optimize import minimize

    k = r.shape[0]
    if np.linalg.eigvalsh(r)[0] < 1e-8:
        # duplicate or collinear items: a tiny ridge keeps the likelihood finite; the fit
        # then puts those loadings at the bound (a Heywood case, flagged by the caller)
        r = (r + 1e-6 * np.eye(k)) / (1 + 1e-6)

    def loadings(psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sc = 1 / np.sqrt(psi)
        eigval, eigvec = np.linalg.eigh(r * np.outer(sc, sc))  # ascending
        lam = np.sqrt(psi) * eigvec[:, -1] * math.sqrt(max(eigval[-1] - 1, 0.0))
        return lam, eigval

    def objective(psi: np.ndarray) -> float:
        _, eigval = loadings(psi)
        rest = np.clip(eigval[:-1], 1e-12, None)
        return float(-(np.log(rest) - rest).sum() - (k - 1))

    def gradient(psi: np.ndarray) -> np.ndarray:
        lam, _ = loadings(psi)
        return (lam**2 + psi - np.diag(r)) / psi**2

    start = np.clip((1 - 0.5 / k) / np.diag(np.linalg.pinv(r)), _PSI_MIN, 1.0)
    res = minimize(objective, start, jac=gradient, method="L-BFGS-B",
                   bounds=[(_PSI_MIN, 1.0)] * k, options={"ftol": 1e-12, "gtol": 1e-9})
    lam, _ = loadings(res.x)
    if lam.sum() < 0:
        lam = -lam
    return lam, res.x, float(res.fun)


def fit_one_factor(items: pd.DataFrame, method: str = "ml") -> OneFactorFit:
    r"""Fit a one-factor measurement model to one construct's (standardised) items.

    The congeneric model says each standardised item is
    :math:`z_i = \lambda_i \xi + \varepsilon_i` with one common factor :math:`\xi` and
    independent errors, so item correlations are :math:`r_{ij} = \lambda_i\lambda_j`. With
    ``method="ml"`` the loadings are the maximum-likelihood estimates of that model, fitted
    to the item correlation matrix (the algorithm of R's ``factanal``); three items fit
    exactly (:math:`\lambda_1 = \sqrt{r_{12}r_{13}/r_{23}}`). Two items cannot identify two
    loadings, so they are taken equal (tau-equivalent): :math:`\lambda = \sqrt{r_{12}}`. A
    single item loads 1 on itself.

    ``method="pca"`` returns the first principal component's loadings (eigenvector times
    the square root of the eigenvalue) instead. They are *not* a measurement model: the
    component absorbs the items' error variance too, which inflates composite reliability
    most for short scales with weak items. It is kept to show that difference.

    Parameters
    ----------
    items : DataFrame
        Numeric item columns of one construct; rows with a missing item are left out.
    method : {"ml", "pca"}
        Which loadings.

    Returns
    -------
    OneFactorFit
        Loadings are NaN when the items cannot be fitted (fewer than three complete rows, a
        constant item, or two items that do not correlate positively).

    Raises
    ------
    InputError
        No item columns, a column that is not numeric, or an unknown ``method``.

    References
    ----------
    Jöreskog (1967), "Some contributions to maximum likelihood factor analysis",
    Psychometrika 32; Jöreskog (1971), "Statistical analysis of sets of congeneric tests",
    Psychometrika 36.
    """
    if method not in ("ml", "pca"):
        raise InputError(f"fit_one_factor: method {method!r} is not ml or pca")
    x = _complete(_numeric_frame(items, "fit_one_factor"))
    k, n = x.shape[1], len(x)
    cols = x.columns

    def out(lam: Any, how: str, **kw: Any) -> OneFactorFit:
        lam = pd.Series(np.asarray(lam, dtype=float), index=cols, name="loading")
        return OneFactorFit(lam, (1 - lam**2).rename("uniqueness"), how, n, **kw)

    if k == 1:
        return out([1.0], "single item")
    r = _item_correlations(x) if n >= 3 else np.full((k, k), np.nan)
    if not np.isfinite(r).all():
        return out(np.full(k, np.nan), method if k > 2 else "tau-equivalent")
    if method == "pca":
        eigval, eigvec = np.linalg.eigh(r)  # ascending: the last one is the largest
        v = eigvec[:, -1] * math.sqrt(max(eigval[-1], 0.0))
        return out(v if v.sum() >= 0 else -v, "pca")
    if k == 2:
        r12 = r[0, 1]
        return out(np.full(2, math.sqrt(r12) if r12 > 0 else np.nan), "tau-equivalent")
    lam, psi, f = _ml_one_factor(r)
    df = (k * k - 3 * k) // 2
    chi2 = p_value = float("nan")
    if df > 0:
        # Bartlett's correction, as in factanal
        chi2 = max((n - 1 - (2 * k + 5) / 6 - 2 / 3) * f, 0.0)
        p_value = float(stats.chi2.sf(chi2, df))
    return out(lam, "ml", heywood=bool((psi <= _PSI_MIN * 1.001).any()), chi2=chi2, df=df,
               p_value=p_value)


def one_factor_loadings(items: pd.DataFrame, method: str = "ml") -> pd.Series:
    """Standardised one-factor loadings of one construct's items (:func:`fit_one_factor`).

    Parameters
    ----------
    items : DataFrame
        Numeric item columns of one construct; rows with a missing item are left out.
    method : {"ml", "pca"}
        ``ml``: maximum-likelihood one-factor model (tau-equivalent for two items);
        ``pca``: first principal component, which inflates CR and AVE (comparison only).

    Returns
    -------
    Series
        One loading per item (index = item names); NaN when the items cannot be fitted.

    Raises
    ------
    InputError
        No item columns, a column that is not numeric, or an unknown ``method``.
    """
    return fit_one_factor(items, method).loadings


def composite_reliability(loadings: pd.Series | Sequence[float]) -> float:
    r"""Composite reliability (Jöreskog's rho) from standardised loadings.

    .. math:: CR = \frac{(\sum_i \lambda_i)^2}{(\sum_i \lambda_i)^2 + \sum_i (1 - \lambda_i^2)}

    Parameters
    ----------
    loadings : Series or sequence of float
        Standardised loadings of the items of one construct.

    Returns
    -------
    float
        NaN for a single item (1 by construction, so it says nothing) or missing loadings.

    Raises
    ------
    InputError
        No loadings, or a loading outside [-1, 1].

    References
    ----------
    Fornell & Larcker (1981), JMR 18(1).
    """
    lam = _loadings(loadings, "composite_reliability")
    if len(lam) < 2 or not np.isfinite(lam).all():
        return float("nan")
    s = lam.sum() ** 2
    return float(s / (s + (1 - lam**2).sum()))


def average_variance_extracted(loadings: pd.Series | Sequence[float]) -> float:
    r"""Average variance extracted: the mean squared standardised loading.

    .. math:: AVE = \frac{1}{k}\sum_i \lambda_i^2

    Parameters
    ----------
    loadings : Series or sequence of float
        Standardised loadings of the items of one construct.

    Returns
    -------
    float
        NaN for a single item or missing loadings.

    Raises
    ------
    InputError
        No loadings, or a loading outside [-1, 1].

    References
    ----------
    Fornell & Larcker (1981), JMR 18(1).
    """
    lam = _loadings(loadings, "average_variance_extracted")
    if len(lam) < 2 or not np.isfinite(lam).all():
        return float("nan")
    return float((lam**2).mean())


def _loadings(loadings: Any, what: str) -> np.ndarray:
    lam = np.asarray(loadings, dtype=float)
    if lam.ndim != 1 or lam.size == 0:
        raise InputError(f"{what}: needs a non-empty list of loadings")
    finite = lam[np.isfinite(lam)]
    if (np.abs(finite) > 1 + 1e-9).any():
        raise InputError(f"{what}: standardised loadings must lie in [-1, 1], got {finite.max():g}")
    return lam
