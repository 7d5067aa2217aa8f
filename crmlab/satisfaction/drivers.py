"""What drives satisfaction? Standardised key-driver regression and relative importance.

The outcome is regressed on the driver constructs (all z-scored); because drivers overlap,
each one's importance is its Shapley/LMG share of R² (or Johnson's relative weight), and a
coefficient whose sign differs from its correlation is flagged as suppression.

References
----------
Lindeman, Merenda & Gold (1980), *Introduction to Bivariate and Multivariate Analysis*
(LMG decomposition); Grömping (2007), "Estimators of relative importance in linear
regression based on variance decomposition", The American Statistician 61(2).
Johnson (2000), "A heuristic method for estimating the relative weight of predictor
variables in multiple regression", Multivariate Behavioral Research 35(1).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.outliers_influence import variance_inflation_factor

from crmlab.errors import InputError
from crmlab.satisfaction.survey import _numeric_frame
from crmlab.satisfaction.thresholds import MAX_SHAPLEY_DRIVERS

__all__ = [
    "DriverResult",
    "shapley_r2",
    "relative_weights",
    "sign_flips",
    "key_drivers",
]


def _r2_from_corr(rxx: np.ndarray, rxy: np.ndarray, subset: Sequence[int]) -> float:
    if not subset:
        return 0.0
    idx = list(subset)
    r = rxy[idx]
    return float(r @ np.linalg.solve(rxx[np.ix_(idx, idx)], r))


def _check_regression_frame(
    data: pd.DataFrame, y: str, xs: Sequence[str], what: str
) -> pd.DataFrame:
    for col in [y, *xs]:
        if col not in data.columns:
            raise InputError(f"{what}: column {col!r} not found")
    if not xs:
        raise InputError(f"{what}: needs at least one driver")
    return _numeric_frame(data[[y, *xs]], what)


def shapley_r2(data: pd.DataFrame, y: str, xs: Sequence[str]) -> pd.Series:
    r"""Shapley (LMG) decomposition of the R² of ``y`` on ``xs``: each driver's fair share.

    Driver *j* gets its extra R² averaged over every order in which drivers can enter:

    .. math:: \phi_j = \sum_{S \subseteq X\setminus\{j\}}
              \frac{|S|!\,(p-|S|-1)!}{p!}\,\bigl[R^2(S\cup\{j\}) - R^2(S)\bigr]

    The shares are never negative and add up to the full model's R², so correlated drivers
    split what they explain jointly instead of one of them taking it all.

    Parameters
    ----------
    data : DataFrame
        Numeric columns ``y`` and ``xs`` without missing values (complete cases).
    y : str
        The outcome column.
    xs : sequence of str
        Driver columns (at most 15: the method visits all :math:`2^p` subsets).

    Returns
    -------
    Series
        :math:`\phi_j` per driver (R² units; divide by their sum for shares).

    Raises
    ------
    InputError
        Missing column, missing values, too many drivers or too few rows.

    References
    ----------
    Lindeman, Merenda & Gold (1980); Grömping (2007), The American Statistician 61(2).
    """
    df = _check_regression_frame(data, y, xs, "shapley_r2")
    if df.isna().any().any():
        raise InputError("shapley_r2: data has missing values; pass complete cases")
    p = len(xs)
    if p > MAX_SHAPLEY_DRIVERS:
        raise InputError(f"shapley_r2: at most {MAX_SHAPLEY_DRIVERS} drivers, got {p}")
    if len(df) < p + 2:
        raise InputError(f"shapley_r2: {len(df)} rows are too few for {p} drivers")
    r = df.corr().to_numpy()
    rxx, rxy = r[1:, 1:], r[1:, 0]
    r2 = {}
    for size in range(p + 1):
        for subset in itertools.combinations(range(p), size):
            r2[subset] = _r2_from_corr(rxx, rxy, subset)
    phi = np.zeros(p)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for size in range(p):
            weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for subset in itertools.combinations(others, size):
                phi[j] += weight * (r2[tuple(sorted((*subset, j)))] - r2[subset])
    return pd.Series(phi, index=list(xs), name="lmg")


def relative_weights(data: pd.DataFrame, y: str, xs: Sequence[str]) -> pd.Series:
    r"""Split R² by Johnson's relative weights, through an orthogonal copy of the drivers.

    The drivers' correlation matrix :math:`R = V\Lambda V'` gives
    :math:`\Lambda^{1/2}_* = V\Lambda^{1/2}V'`; with :math:`\beta = (\Lambda^{1/2}_*)^{-1}
    r_{xy}` the weight of driver *j* is :math:`\sum_k (\Lambda^{1/2}_*)_{jk}^2 \beta_k^2`.
    Weights add up to R² and are close to the Shapley values at a fraction of the cost.

    Parameters
    ----------
    data : DataFrame
        Numeric columns ``y`` and ``xs`` without missing values.
    y : str
        The outcome column.
    xs : sequence of str
        Driver columns.

    Returns
    -------
    Series
        Weight per driver (R² units).

    Raises
    ------
    InputError
        Missing column, missing values or too few rows.

    References
    ----------
    Johnson (2000), Multivariate Behavioral Research 35(1).
    """
    df = _check_regression_frame(data, y, xs, "relative_weights")
    if df.isna().any().any():
        raise InputError("relative_weights: data has missing values; pass complete cases")
    if len(df) < len(xs) + 2:
        raise InputError(f"relative_weights: {len(df)} rows are too few for {len(xs)} drivers")
    r = df.corr().to_numpy()
    rxx, rxy = r[1:, 1:], r[1:, 0]
    eigval, eigvec = np.linalg.eigh(rxx)
    half = eigvec @ np.diag(np.sqrt(np.clip(eigval, 0, None))) @ eigvec.T
    beta = np.linalg.solve(half, rxy)
    return pd.Series((half**2) @ (beta**2), index=list(xs), name="relative_weight")


@dataclass
class DriverResult:
    """Key-driver regression of the outcome on the drivers (standardised scores).

    Attributes
    ----------
    table : DataFrame
        One row per driver: ``construct``, ``beta`` (standardised coefficient), ``ci_low``,
        ``ci_high``, ``p_value``, ``vif``, ``lmg`` (Shapley R² share in R² units),
        ``relative_weight`` (Johnson, R² units), ``importance`` (the chosen measure as a share
        of R², sums to 1), ``r`` (zero-order correlation with the outcome), ``sign_flip``
        (``beta`` and ``r`` differ in sign: a suppression effect, :func:`sign_flips`),
        sorted by importance.
    r2, r2_adj : float
        R² and adjusted R² of the full model.
    n : int
        Complete cases used.
    dropped : int
        Respondents left out because a score was missing.
    method : str
        ``shapley`` or ``relative_weights`` (what ``importance`` is).
    fit : statsmodels RegressionResults
        The fitted OLS model (``fit.summary()`` prints the textbook table).
    """

    table: pd.DataFrame
    r2: float
    r2_adj: float
    n: int
    dropped: int
    method: str
    fit: Any = field(repr=False, default=None)

    @classmethod
    def empty(cls, method: str = "shapley") -> DriverResult:
        """Make the result of a survey with no driver constructs (only the outcome)."""
        cols = [
            "construct",
            "beta",
            "ci_low",
            "ci_high",
            "p_value",
            "vif",
            "lmg",
            "relative_weight",
            "importance",
            "r",
            "sign_flip",
        ]
        table = pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
        table["construct"] = table["construct"].astype(object)
        table["sign_flip"] = table["sign_flip"].astype(bool)
        return cls(table=table, r2=float("nan"), r2_adj=float("nan"), n=0, dropped=0, method=method)


def sign_flips(beta: pd.Series, r: pd.Series) -> pd.Series:
    """Flag suppression: a coefficient whose sign differs from its zero-order correlation.

    In a regression with overlapping predictors, a predictor that correlates *positively*
    with the outcome can get a *negative* coefficient (or the reverse): the part of it the
    other predictors do not already carry is related the other way. That is a statement about
    the overlap, not about what happens if the predictor rises, so such a coefficient must
    not be read as an effect.

    Parameters
    ----------
    beta : Series
        Coefficients by term.
    r : Series
        Zero-order correlations of each term with the outcome, same index.

    Returns
    -------
    Series of bool
        True where ``beta`` and ``r`` have opposite signs (zero counts as no sign).

    Raises
    ------
    InputError
        The two Series do not have the same terms.

    References
    ----------
    Conger (1974), "A revised definition for suppressor variables", Educational and
    Psychological Measurement 34; Tzelgov & Henik (1991), "Suppression situations in
    psychological research", Psychological Bulletin 109(3).
    """
    if not isinstance(beta, pd.Series) or not isinstance(r, pd.Series):
        raise InputError("sign_flips: needs two Series (coefficients and correlations)")
    if set(beta.index) != set(r.index) or len(beta) != len(r):
        raise InputError("sign_flips: coefficients and correlations name different terms")
    r = r.reindex(beta.index)
    return pd.Series(np.sign(beta.astype(float)) * np.sign(r.astype(float)) < 0,
                     index=beta.index, name="sign_flip")


def _zscore(df: pd.DataFrame, what: str) -> pd.DataFrame:
    sd = df.std(ddof=1)
    flat = sd.index[~(sd > 0)]
    if len(flat):
        raise InputError(
            f"{what}: construct {flat[0]!r} has no variance among the respondents used"
        )
    return (df - df.mean()) / sd


def key_drivers(
    scores: pd.DataFrame,
    outcome: str,
    drivers: Sequence[str],
    confidence: float = 0.95,
    importance: str = "shapley",
) -> DriverResult:
    r"""Regress the outcome on the drivers (standardised) and split R² among them.

    .. math:: z_{y} = \sum_j \beta_j z_{x_j} + \varepsilon

    With every score z-scored on the complete cases, :math:`\beta_j` is the change in the
    outcome, in standard deviations, for one standard deviation more of driver *j* with the
    other drivers held fixed. Correlated drivers make the betas unstable (see ``vif``), so
    importance is the Shapley/LMG share of R² (or Johnson's relative weights).

    Parameters
    ----------
    scores : DataFrame
        Construct scores (:func:`construct_scores`).
    outcome : str
        The construct explained.
    drivers : sequence of str
        The explaining constructs.
    confidence : float
        Level of the coefficient intervals.
    importance : {"shapley", "relative_weights"}
        Which relative-importance measure becomes ``importance``.

    Returns
    -------
    DriverResult

    Raises
    ------
    InputError
        Missing column, no driver, too few complete respondents, or a constant score.

    References
    ----------
    Grömping (2007); Johnson (2000).
    """
    if importance not in ("shapley", "relative_weights"):
        raise InputError(
            f"key_drivers: importance {importance!r} is not shapley or relative_weights"
        )
    if not 0 < confidence < 1:
        raise InputError(f"key_drivers: confidence must be in (0, 1), got {confidence}")
    df = _check_regression_frame(scores, outcome, list(drivers), "key_drivers")
    complete = df.loc[df.notna().all(axis=1)]
    p = len(drivers)
    if len(complete) < p + 2:
        raise InputError(
            f"key_drivers: only {len(complete)} respondents have every score; "
            f"the regression on {p} drivers needs at least {p + 2}"
        )
    z = _zscore(complete, "key_drivers")
    X = sm.add_constant(z[list(drivers)], has_constant="add")
    fit = sm.OLS(z[outcome], X).fit()
    ci = fit.conf_int(alpha=1 - confidence)
    vif = [variance_inflation_factor(X.to_numpy(), i + 1) for i in range(p)]
    lmg = (
        shapley_r2(complete, outcome, list(drivers))
        if importance == "shapley" or p <= MAX_SHAPLEY_DRIVERS
        else None
    )
    rw = relative_weights(complete, outcome, list(drivers))
    chosen = lmg if importance == "shapley" else rw
    total = chosen.sum()
    table = pd.DataFrame(
        {
            "construct": list(drivers),
            "beta": fit.params[list(drivers)].to_numpy(),
            "ci_low": ci.loc[list(drivers), 0].to_numpy(),
            "ci_high": ci.loc[list(drivers), 1].to_numpy(),
            "p_value": fit.pvalues[list(drivers)].to_numpy(),
            "vif": vif,
            "lmg": lmg.to_numpy() if lmg is not None else np.nan,
            "relative_weight": rw.to_numpy(),
            "importance": (chosen / total).to_numpy() if total > 0 else np.nan,
            "r": complete.corr()[outcome].loc[list(drivers)].to_numpy(),
        }
    )
    table["sign_flip"] = sign_flips(table.set_index("construct")["beta"],
                                    table.set_index("construct")["r"]).to_numpy()
    table = table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
    return DriverResult(
        table=table,
        r2=float(fit.rsquared),
        r2_adj=float(fit.rsquared_adj),
        n=len(complete),
        dropped=len(df) - len(complete),
        method=importance,
        fit=fit,
    )
