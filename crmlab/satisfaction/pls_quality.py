"""Measurement quality, the 0-100 satisfaction index and NPS for a PLS path model.

Companion of :mod:`crmlab.satisfaction.pls` (which estimates the model). Everything here is computed
from a fitted :class:`crmlab.satisfaction.pls_model.PLSResult` or from plain item columns:

* :func:`reliability` -- per construct: Cronbach's alpha twice (``alpha`` from raw item
  variances and covariances; ``alpha_standardized`` from the item correlations, the one
  seminr prints), Dijkstra-Henseler's ``rho_a``, composite reliability ``rho_c`` and the
  average variance extracted ``ave`` from the PLS loadings.
* :func:`htmt` -- the heterotrait-monotrait ratio of correlations (discriminant validity).
* :func:`construct_index` -- the ACSI-style 0-100 index from the outer weights, beside
  the equal-weight index.

References
----------
Cronbach (1951), "Coefficient alpha and the internal structure of tests", Psychometrika 16.
Dijkstra & Henseler (2015), "Consistent partial least squares path modeling", MIS
Quarterly 39(2) (rho_A).
Fornell & Larcker (1981), JMR 18(1) (composite reliability, AVE).
Henseler, Ringle & Sarstedt (2015), "A new criterion for assessing discriminant validity
in variance-based structural equation modeling", JAMS 43(1) (HTMT).
Fornell, Johnson, Anderson, Cha & Bryant (1996), "The American Customer Satisfaction
Index", Journal of Marketing 60(4) (index from rescaled unstandardised weights).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.errors import InputError, require_columns
from crmlab.satisfaction.nps import _scale_of
from crmlab.satisfaction.pls_model import PLSResult

__all__ = [
    "reliability",
    "htmt",
    "construct_index",
    "index_scores",
]


def _alpha(cov: np.ndarray) -> float:
    k = len(cov)
    return float(k / (k - 1) * (1 - np.trace(cov) / cov.sum()))


def reliability(result: PLSResult) -> pd.DataFrame:
    """Reliability and convergent validity of each construct of a fitted model.

    Parameters
    ----------
    result : PLSResult
        A fitted model (:func:`crmlab.satisfaction.pls.fit_pls`).

    Returns
    -------
    DataFrame
        One row per construct: ``n_items``, ``mode``, ``alpha`` (raw-score Cronbach's
        alpha), ``alpha_standardized`` (standardised-item alpha, as seminr reports it),
        ``rho_a`` (Dijkstra-Henseler), ``rho_c`` (composite reliability,
        ``(sum l)^2 / ((sum l)^2 + sum(1 - l^2))``) and ``ave`` (mean squared loading).
        As in seminr, a single-item construct gets 1 throughout and a formative (mode B)
        construct gets ``rho_a`` = 1; alpha, rho_c and AVE assume reflective items.
    """
    data = result.data
    corr = data.corr().to_numpy()
    cov = data.cov().to_numpy()
    pos = {item: k for k, item in enumerate(data.columns)}
    rows = {}
    for construct, items in result.model.measurement.items():
        idx = [pos[i] for i in items]
        mode = result.model.modes[construct]
        lam = result.outer.loc[list(items), "loading"].to_numpy()
        if len(items) == 1:
            rows[construct] = (1, mode, 1.0, 1.0, 1.0, 1.0, 1.0)
            continue
        s = corr[np.ix_(idx, idx)]
        w = result.outer.loc[list(items), "weight"].to_numpy()
        if mode == "B":
            rho_a = 1.0
        else:
            ww = np.outer(w, w)
            off = s - np.diag(np.diag(s))
            rho_a = float((w @ w) ** 2 * (w @ off @ w) / (w @ (ww - np.diag(np.diag(ww))) @ w))
        rho_c = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
        rows[construct] = (
            len(items),
            mode,
            _alpha(cov[np.ix_(idx, idx)]),
            _alpha(s),
            rho_a,
            float(rho_c),
            float((lam**2).mean()),
        )
    cols = ["n_items", "mode", "alpha", "alpha_standardized", "rho_a", "rho_c", "ave"]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    table.index.name = "construct"
    return table


def htmt(data: pd.DataFrame, measurement: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Heterotrait-monotrait ratio of correlations between every pair of constructs.

    HTMT(i, j) is the mean correlation between the items of ``i`` and those of ``j``,
    divided by the geometric mean of the average correlation among ``i``'s items and
    among ``j``'s items. Absolute correlations are used, as seminr does; a single-item
    construct's monotrait mean is 1. Values near 1 mean the two constructs are not
    distinct; 0.85 (0.90 for conceptually close constructs) is the usual ceiling.

    Parameters
    ----------
    data : DataFrame
        Item columns (e.g. ``result.data`` of a fitted model).
    measurement : mapping of str to list of str
        Construct -> its items.

    Returns
    -------
    DataFrame
        Symmetric construct x construct matrix, NaN on the diagonal.

    Raises
    ------
    InputError
        A construct without items or an item missing from ``data``.
    """
    for construct, items in measurement.items():
        if not items:
            raise InputError(f"measurement.{construct}: construct has no items")
        require_columns(data, items, f"measurement.{construct}")
    names = list(measurement)
    corr = data[[i for c in names for i in measurement[c]]].corr().abs()
    mono = {}
    for c in names:
        items = list(measurement[c])
        k = len(items)
        block = corr.loc[items, items].to_numpy()
        mono[c] = 1.0 if k == 1 else (block.sum() - k) / (k * (k - 1))
    out = pd.DataFrame(np.nan, index=names, columns=names)
    for a, ca in enumerate(names):
        for cb in names[a + 1 :]:
            hetero = corr.loc[list(measurement[ca]), list(measurement[cb])].to_numpy().mean()
            out.loc[ca, cb] = out.loc[cb, ca] = hetero / np.sqrt(mono[ca] * mono[cb])
    return out


def index_scores(
    result: PLSResult,
    scale: Sequence[float] | Mapping[str, Sequence[float]],
    weighting: str = "pls",
) -> pd.DataFrame:
    """Each respondent's 0-100 construct index.

    With ``weighting="pls"`` (the ACSI method) the outer weights, which apply to
    standardised items, are divided by each item's standard deviation so they apply to
    the raw answers, then rescaled to sum to 1 within the construct; the weighted mean
    of the raw answers is mapped from the item scale ``[min, max]`` to 0-100.
    ``weighting="equal"`` uses the plain item mean instead.

    Parameters
    ----------
    result : PLSResult
        A fitted model; its ``data`` (raw items after missing-value handling) is used.
    scale : (min, max) or mapping of construct to (min, max)
        The answer scale of the items, e.g. ``(1, 10)`` for mobi.
    weighting : {"pls", "equal"}
        Item weights.

    Returns
    -------
    DataFrame
        Respondents x constructs, values in [0, 100] when all weights are positive.

    Raises
    ------
    InputError
        Bad scale, answers outside it, an unknown ``weighting``, or PLS weights that do
        not sum to a positive number (a formative construct with opposing weights).
    """
    if weighting not in ("pls", "equal"):
        raise InputError(f"weighting: expected 'pls' or 'equal', got {weighting!r}")
    data = result.data
    sd = data.std(ddof=1)
    out = {}
    for construct, items in result.model.measurement.items():
        items = list(items)
        lo, hi = _scale_of(scale, construct)
        x = data[items]
        outside = ((x < lo) | (x > hi)).any()
        if outside.any():
            raise InputError(
                f"scale.{construct}: item {outside.idxmax()!r} has answers outside [{lo:g}, {hi:g}]"
            )
        if weighting == "equal":
            w = pd.Series(1.0, index=items)
        else:
            w = result.outer.loc[items, "weight"] / sd[items]
        if not w.sum() > 0:
            raise InputError(f"{construct}: PLS weights do not sum to a positive number")
        w = w / w.sum()
        out[construct] = 100 * (x.to_numpy() @ w.to_numpy() - lo) / (hi - lo)
    return pd.DataFrame(out, index=data.index)


def construct_index(
    result: PLSResult,
    scale: Sequence[float] | Mapping[str, Sequence[float]],
    level: float = 0.95,
) -> pd.DataFrame:
    """Compute each construct's 0-100 index, PLS-weighted (ACSI) beside equal-weighted.

    Parameters
    ----------
    result : PLSResult
        A fitted model.
    scale : (min, max) or mapping of construct to (min, max)
        The answer scale of the items.
    level : float
        Confidence level of the interval around the PLS index (mean +- t * SE).

    Returns
    -------
    DataFrame
        One row per construct: ``index_pls``, ``ci_low``, ``ci_high``, ``index_equal``
        and ``difference`` (PLS minus equal; positive when the items the model weights
        most are the ones answered higher).
    """
    pls = index_scores(result, scale, "pls")
    equal = index_scores(result, scale, "equal")
    n = len(pls)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * pls.std(ddof=1) / np.sqrt(n)
    table = pd.DataFrame(
        {
            "index_pls": pls.mean(),
            "ci_low": pls.mean() - half,
            "ci_high": pls.mean() + half,
            "index_equal": equal.mean(),
        }
    )
    table["difference"] = table["index_pls"] - table["index_equal"]
    table.index.name = "construct"
    return table
