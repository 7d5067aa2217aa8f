"""Can we trust the scales? Alpha, composite reliability, AVE and item statistics.

Two alphas are reported and named (they differ whenever item variances differ):
``alpha`` is raw-score Cronbach's alpha (from item variances and covariances);
``alpha_standardized`` is the standardised-item alpha from the mean inter-item correlation,
the one PLS-SEM tools such as seminr print. CR and AVE come from the loadings of a
measurement model (:mod:`crmlab.satisfaction.factor`, or loadings passed in).

References
----------
Cronbach (1951), "Coefficient alpha and the internal structure of tests", Psychometrika 16.
Fornell & Larcker (1981), "Evaluating structural equation models with unobservable
variables and measurement error", JMR 18(1) (composite reliability, AVE).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from crmlab.errors import InputError
from crmlab.i18n import EN, Catalog
from crmlab.satisfaction import narrative
from crmlab.satisfaction.factor import (
    OneFactorFit,
    _item_correlations,
    _loadings,
    average_variance_extracted,
    composite_reliability,
    fit_one_factor,
)
from crmlab.satisfaction.index import construct_scores
from crmlab.satisfaction.survey import _check_constructs, _complete, _numeric_frame
from crmlab.satisfaction.thresholds import ALPHA_MIN, CR_MIN

__all__ = [
    "ALPHA_NOTE",
    "LOADING_NOTE",
    "cronbach_alpha",
    "standardised_alpha",
    "construct_loadings",
    "item_statistics",
    "loading_comparison",
    "reliability",
]

ALPHA_NOTE = (
    "alpha = raw-score Cronbach's alpha (item variances and covariances); "
    "alpha_standardized = standardised-item alpha from the mean inter-item correlation "
    "(what PLS-SEM tools such as seminr report). Single-item constructs have no alpha, "
    "composite reliability or AVE: internal consistency needs at least two items."
)
LOADING_NOTE = (
    "composite_reliability and ave use standardised loadings from a measurement model: by "
    "default a maximum-likelihood one-factor model per construct (congeneric; two items are "
    "taken as tau-equivalent, loading sqrt(r) each), or loadings passed in (e.g. PLS outer "
    "loadings; constructs.<name>.loadings says which). First-principal-component loadings are "
    "not used: they absorb error variance and inflate CR and AVE, most for short scales. "
    "A construct is 'reliable' when raw alpha and CR both reach 0.7."
)


def cronbach_alpha(items: pd.DataFrame) -> float:
    r"""Raw-score Cronbach's alpha of the items of one construct.

    .. math:: \alpha = \frac{k}{k-1}\Bigl(1 - \frac{\sum_i s_i^2}{s_T^2}\Bigr)

    with :math:`s_i^2` the item variances and :math:`s_T^2` the variance of the respondents'
    item sums (sample variances, ``ddof=1``).

    Parameters
    ----------
    items : DataFrame
        Numeric item columns of one construct; rows with a missing item are left out.

    Returns
    -------
    float
        NaN with fewer than two items, fewer than two complete rows or a constant total.

    Raises
    ------
    InputError
        No item columns, or a column that is not numeric.

    References
    ----------
    Cronbach (1951), Psychometrika 16.
    """
    x = _complete(_numeric_frame(items, "cronbach_alpha"))
    k = x.shape[1]
    if k < 2 or len(x) < 2:
        return float("nan")
    total_var = x.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return float("nan")
    return float(k / (k - 1) * (1 - x.var(ddof=1).sum() / total_var))


def standardised_alpha(items: pd.DataFrame) -> float:
    r"""Standardised-item alpha: alpha of the z-scored items.

    .. math:: \alpha_{std} = \frac{k\,\bar r}{1 + (k-1)\,\bar r}

    with :math:`\bar r` the mean correlation between distinct items. PLS-SEM software
    (seminr, SmartPLS) reports this one; it equals raw alpha only when item variances are
    equal.

    Parameters
    ----------
    items : DataFrame
        Numeric item columns of one construct; rows with a missing item are left out.

    Returns
    -------
    float
        NaN with fewer than two items or when a correlation is undefined (constant item).

    Raises
    ------
    InputError
        No item columns, or a column that is not numeric.
    """
    x = _complete(_numeric_frame(items, "standardised_alpha"))
    k = x.shape[1]
    if k < 2 or len(x) < 3:
        return float("nan")
    r = _item_correlations(x)
    rbar = r[~np.eye(k, dtype=bool)].mean()
    return float(k * rbar / (1 + (k - 1) * rbar))
def _given_loadings(
    loadings: Mapping[str, float] | pd.Series, cols: Sequence[str], name: str, what: str
) -> pd.Series:
    lam = pd.Series(loadings, dtype="float64") if not isinstance(loadings, pd.Series) else loadings
    missing = [c for c in cols if c not in lam.index]
    if missing:
        raise InputError(
            f"{what}: loadings give no value for item {missing[0]!r} of construct {name!r}"
        )
    lam = lam.reindex(list(cols)).astype("float64").rename("loading")
    _loadings(lam, what)  # range check
    return lam


def construct_loadings(
    items: pd.DataFrame,
    constructs: Mapping[str, Sequence[str]],
    loadings: Mapping[str, float] | pd.Series | None = None,
    source: str | None = None,
) -> dict[str, OneFactorFit]:
    """Get the loadings each construct's CR and AVE rest on: a one-factor fit, or given ones.

    Parameters
    ----------
    items : DataFrame
        Numeric items (:attr:`PreparedSurvey.items`).
    constructs : mapping
        Construct name -> list of item columns.
    loadings : mapping or Series, optional
        Item -> standardised loading from another measurement model (e.g. the outer
        loadings of a PLS path model); every item of every construct needs one. When not
        given, :func:`fit_one_factor` (maximum likelihood) runs per construct.
    source : str, optional
        What the given loadings are, for the tables ("PLS outer loadings"); default "given".

    Returns
    -------
    dict
        Construct -> :class:`OneFactorFit` (``method`` is ``source`` for given loadings).

    Raises
    ------
    InputError
        An item column is missing or not numeric, a given loading is missing for an item or
        lies outside [-1, 1].
    """
    _check_constructs(items, constructs, "construct_loadings")
    out = {}
    for name, cols in constructs.items():
        block = _numeric_frame(items[list(cols)], "construct_loadings")
        if loadings is None:
            out[name] = fit_one_factor(block)
        else:
            lam = _given_loadings(loadings, cols, name, "construct_loadings")
            out[name] = OneFactorFit(
                lam, (1 - lam**2).rename("uniqueness"), source or "given", len(_complete(block))
            )
    return out


def item_statistics(
    items: pd.DataFrame,
    constructs: Mapping[str, Sequence[str]],
    loadings: Mapping[str, float] | pd.Series | None = None,
) -> pd.DataFrame:
    """Per item: answers, mean, spread, loading, corrected item-total r, alpha if deleted.

    Parameters
    ----------
    items : DataFrame
        Numeric items (:attr:`PreparedSurvey.items`).
    constructs : mapping
        Construct name -> list of item columns.
    loadings : mapping or Series, optional
        Item -> standardised loading from another model (see :func:`construct_loadings`);
        default: the maximum-likelihood one-factor loadings.

    Returns
    -------
    DataFrame
        ``construct``, ``item``, ``n`` (answers), ``mean``, ``sd``, ``loading``
        (:func:`construct_loadings`), ``item_total_r`` (correlation of the item with the sum
        of the construct's *other* items), ``alpha_if_deleted`` (raw alpha without the item),
        ``alpha_change`` (``alpha_if_deleted`` minus the construct's alpha: positive means
        the scale is more consistent without this item),
        all on the construct's complete rows except ``n``, ``mean`` and ``sd``. Item-total r
        and alpha-if-deleted are NaN where the construct has too few items for them.

    Raises
    ------
    InputError
        An item column named in ``constructs`` is missing or not numeric.
    """
    _check_constructs(items, constructs, "item_statistics")
    fits = construct_loadings(items, constructs, loadings)
    rows = []
    for name, cols in constructs.items():
        block = _numeric_frame(items[list(cols)], "item_statistics")
        complete = _complete(block)
        lam = fits[name].loadings
        alpha = cronbach_alpha(block)
        for col in cols:
            others = [c for c in cols if c != col]
            if others and len(complete) >= 3:
                rest = complete[others].sum(axis=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    r_it = (
                        float(np.corrcoef(complete[col], rest)[0, 1]) if rest.std() > 0 else np.nan
                    )
            else:
                r_it = np.nan
            rows.append(
                {
                    "construct": name,
                    "item": col,
                    "n": int(block[col].notna().sum()),
                    "mean": float(block[col].mean()),
                    "sd": float(block[col].std(ddof=1)),
                    "loading": float(lam[col]),
                    "item_total_r": r_it,
                    "alpha_if_deleted": cronbach_alpha(complete[others])
                    if len(others) >= 2
                    else np.nan,
                }
            )
            rows[-1]["alpha_change"] = rows[-1]["alpha_if_deleted"] - alpha
    return pd.DataFrame(rows)


def loading_comparison(
    items: pd.DataFrame, constructs: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    """CR and AVE from the measurement model beside those from the first principal component.

    The principal component is built to soak up as much item variance as it can, error
    included, so its loadings (and the CR and AVE computed from them) are higher than a
    measurement model's; the gap is largest for short scales with weak items. This table
    shows by how much, construct by construct.

    Parameters
    ----------
    items : DataFrame
        Numeric items (:attr:`PreparedSurvey.items`).
    constructs : mapping
        Construct name -> list of item columns.

    Returns
    -------
    DataFrame
        Constructs with two or more items: ``construct``, ``items``, ``alpha`` (raw),
        ``cr_model``, ``ave_model`` (:func:`fit_one_factor`, ``method="ml"``), ``cr_pca``,
        ``ave_pca``, ``cr_gap`` (``cr_pca - cr_model``).

    Raises
    ------
    InputError
        An item column is missing or not numeric.
    """
    _check_constructs(items, constructs, "loading_comparison")
    rows = []
    for name, cols in constructs.items():
        if len(cols) < 2:
            continue
        block = _numeric_frame(items[list(cols)], "loading_comparison")
        model = fit_one_factor(block).loadings
        pca = fit_one_factor(block, method="pca").loadings
        rows.append({
            "construct": name,
            "items": len(cols),
            "alpha": cronbach_alpha(block),
            "cr_model": composite_reliability(model),
            "ave_model": average_variance_extracted(model),
            "cr_pca": composite_reliability(pca),
            "ave_pca": average_variance_extracted(pca),
        })
    out = pd.DataFrame(rows, columns=["construct", "items", "alpha", "cr_model", "ave_model",
                                      "cr_pca", "ave_pca"])
    out["cr_gap"] = out["cr_pca"] - out["cr_model"]
    return out


def _verdict(alpha: float, cr: float, heywood: bool) -> str:
    """Both raw alpha and CR are read; the scale passes only when both reach 0.7."""
    if not (np.isfinite(alpha) and np.isfinite(cr)):
        return "not estimable"
    if heywood:
        return "unreliable" if alpha < ALPHA_MIN else "borderline"
    passed = (alpha >= ALPHA_MIN) + (cr >= CR_MIN)
    return {2: "reliable", 1: "borderline", 0: "unreliable"}[int(passed)]


def reliability(
    items: pd.DataFrame,
    constructs: Mapping[str, Sequence[str]],
    scores: pd.DataFrame | None = None,
    loadings: Mapping[str, float] | pd.Series | None = None,
    loading_source: str | None = None,
    *,
    tr: Catalog = EN,
) -> pd.DataFrame:
    """Reliability and convergent/discriminant validity per construct, with plain-words flags.

    Alpha comes from the answers; composite reliability (CR) and AVE come from standardised
    loadings of a measurement model: by default a maximum-likelihood one-factor model per
    construct (:func:`fit_one_factor`), or the loadings passed in (e.g. a PLS path model's
    outer loadings). The ``verdict`` reads both: ``reliable`` when raw alpha and CR reach
    0.7, ``borderline`` when only one does (or a loading hit 1), ``unreliable`` when
    neither does.

    Parameters
    ----------
    items : DataFrame
        Numeric items (:attr:`PreparedSurvey.items`).
    constructs : mapping
        Construct name -> list of item columns.
    scores : DataFrame, optional
        Construct scores (:func:`construct_scores`) for the Fornell-Larcker check; computed
        with the default policy when not given.
    loadings : mapping or Series, optional
        Item -> standardised loading from another measurement model; every item needs one.
    loading_source : str, optional
        What ``loadings`` are (shown in the ``loadings`` column); default "given".
    tr : Catalog, optional
        The language of the ``flag`` text (default English); codes stay English.

    Returns
    -------
    DataFrame
        One row per construct: ``construct``, ``items``, ``n`` (complete rows used),
        ``alpha`` (raw Cronbach), ``alpha_standardized``, ``composite_reliability``, ``ave``,
        ``loadings`` (which model gave them: ``ml``, ``tau-equivalent``, ``single item`` or
        the source), ``heywood`` (a loading at 1: CR/AVE overstated), ``verdict``,
        ``sqrt_ave``, ``max_r_other`` (largest correlation of its score with another
        construct's score), ``discriminant_ok`` (``sqrt_ave > max_r_other``,
        Fornell-Larcker), ``flag`` (plain-words reading; empty when all is well).

    Raises
    ------
    InputError
        An item column is missing or not numeric; a given loading is missing or outside
        [-1, 1].

    References
    ----------
    Fornell & Larcker (1981), JMR 18(1); Jöreskog (1971), Psychometrika 36.
    """
    _check_constructs(items, constructs, "reliability")
    fits = construct_loadings(items, constructs, loadings, loading_source)
    if scores is None:
        scores = construct_scores(items, constructs)
    corr = scores.corr() if scores.shape[1] > 1 else None
    rows = []
    for name, cols in constructs.items():
        block = _numeric_frame(items[list(cols)], "reliability")
        fit = fits[name]
        lam = fit.loadings
        k = len(cols)
        alpha = cronbach_alpha(block)
        cr = composite_reliability(lam)
        ave = average_variance_extracted(lam)
        max_r = np.nan
        if corr is not None and name in corr:
            other = corr[name].drop(name).abs()
            max_r = float(other.max()) if other.notna().any() else np.nan
        sqrt_ave = math.sqrt(ave) if np.isfinite(ave) else np.nan
        flags = narrative.reliability_flags(k, alpha, cr, ave, fit, sqrt_ave, max_r, tr=tr)
        rows.append(
            {
                "construct": name,
                "items": k,
                "n": len(_complete(block)),
                "alpha": alpha,
                "alpha_standardized": standardised_alpha(block),
                "composite_reliability": cr,
                "ave": ave,
                "loadings": fit.method,
                "heywood": fit.heywood,
                "verdict": "single item" if k == 1 else _verdict(alpha, cr, fit.heywood),
                "sqrt_ave": sqrt_ave,
                "max_r_other": max_r,
                "discriminant_ok": bool(sqrt_ave > max_r)
                if np.isfinite(sqrt_ave) and np.isfinite(max_r)
                else None,
                "flag": tr("satisfaction.flag.sep").join(flags),
            }
        )
    return pd.DataFrame(rows)
