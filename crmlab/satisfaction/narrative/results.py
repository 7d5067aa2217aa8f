"""Sentences the computation carries into its results (and so into ``satisfaction.json``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crmlab.errors import InputError
from crmlab.i18n import EN, Catalog
from crmlab.satisfaction.narrative.words import construct_name, construct_names
from crmlab.satisfaction.thresholds import (
    ALPHA_MIN,
    AVE_MIN,
    CR_MIN,
)

if TYPE_CHECKING:  # the computation modules import narrative: type names only
    from crmlab.satisfaction.factor import OneFactorFit




# --- sentences the computation carries into its results ------------------------------------


def reliability_flags(
    k: int, alpha: float, cr: float, ave: float, fit: OneFactorFit, sqrt_ave: float,
    max_r: float, *, tr: Catalog = EN,
) -> list[str]:
    """Plain-words reliability problems of one construct (empty when all is well).

    Parameters
    ----------
    k : int
        Items of the construct.
    alpha, cr, ave : float
        Raw alpha, composite reliability and AVE (NaN when not estimable).
    fit : OneFactorFit
        The measurement model the loadings come from (Heywood case, method).
    sqrt_ave, max_r : float
        Square root of AVE and the largest correlation with another construct.

    Returns
    -------
    list of str
    """
    lam = fit.loadings
    flags = []

    def f(key: str, **values: object) -> None:
        flags.append(tr(f"satisfaction.flag.{key}", **values))

    if k == 1:
        f("single_item")
    else:
        if np.isfinite(alpha) and alpha < ALPHA_MIN:
            f("alpha", alpha=alpha, min=ALPHA_MIN)
        if np.isfinite(cr) and cr < CR_MIN:
            f("cr", cr=cr, min=CR_MIN)
        if fit.heywood:
            f("heywood")
        if np.isfinite(ave) and ave < AVE_MIN:
            f("ave", ave=ave, min=AVE_MIN)
        if np.isfinite(sqrt_ave) and np.isfinite(max_r) and sqrt_ave <= max_r:
            f("discriminant")
        if not np.isfinite(alpha):
            f("alpha_undefined")
        if k == 2 and fit.method == "tau-equivalent" and not lam.notna().all():
            f("no_loadings")
    return flags


def loyalty_sentence(
    satisfaction: str, loyalty: str, scale: Sequence[float], slope: float,
    ci: tuple[float, float], confidence: float, r2: float, n: int, *, tr: Catalog = EN,
) -> str:
    """Put the satisfaction-only loyalty link in words (the number to quote).

    Parameters
    ----------
    satisfaction, loyalty : str
        The two constructs.
    scale : (min, max)
        The survey scale.
    slope : float
        Loyalty points per satisfaction point.
    ci : (float, float)
        Interval of the slope at ``confidence``.
    r2 : float
        R² of the simple regression.
    n : int
        Respondents with both scores.

    Returns
    -------
    str
    """
    lo, hi = (float(x) for x in scale)
    lo_ci, hi_ci = ci
    more = "more" if slope >= 0 else "less"
    return tr(f"satisfaction.result.loyalty_{more}", satisfaction=construct_name(satisfaction, tr),
              loyalty=construct_name(loyalty, tr),
              lo=lo, hi=hi, slope=abs(slope), confidence=confidence, ci_low=lo_ci,
              ci_high=hi_ci, r2=r2, n=n)


def loyalty_model_sentence(
    table: pd.DataFrame, satisfaction: str, loyalty: str, r2: float, n: int,
    corr: pd.DataFrame, *, tr: Catalog = EN,
) -> str:
    """Put the multi-construct loyalty model in words, explaining any sign flip.

    Parameters
    ----------
    table : DataFrame
        :attr:`LoyaltyResult.table` (``term``, ``beta``, ``ci_low``, ``ci_high``, ``r``,
        ``sign_flip``), satisfaction first.
    satisfaction, loyalty : str
        The two constructs.
    r2 : float
        R² of the model.
    n : int
        Its complete cases.
    corr : DataFrame
        Correlations among the model's terms.

    Returns
    -------
    str
    """
    terms = table["term"].tolist()
    return (
        tr("satisfaction.result.loyalty_model", terms=tr.join(construct_names(terms, tr)), r2=r2,
           n=n, satisfaction=construct_name(satisfaction, tr), beta=table["beta"].iloc[0])
        + suppression_sentence(table.rename(columns={"term": "construct"}), loyalty, corr, tr=tr)
    )


def single_item_note(constructs: Sequence[str], *, tr: Catalog = EN) -> str:
    """Caveat for single-item constructs (no internal consistency to measure)."""
    return tr("satisfaction.result.single_item_note",
              names=tr("common.list_sep").join(construct_names(constructs, tr)))


def driver_suppression_note(text: str, *, tr: Catalog = EN) -> str:
    """Caveat for sign flips among the drivers (``text``: :func:`suppression_sentence`)."""
    return text + tr("satisfaction.result.driver_suppression_note")


def no_drivers_note(outcome: str, *, tr: Catalog = EN) -> str:
    """Caveat for a survey whose outcome has no driver construct."""
    return tr("satisfaction.result.no_drivers_note", outcome=repr(construct_name(outcome, tr)))


def loyalty_suppression_note(multiple_sentence: str, *, tr: Catalog = EN) -> str:
    """Caveat for sign flips in the loyalty model with the drivers."""
    return tr("satisfaction.result.loyalty_suppression_note", sentence=multiple_sentence)


def nps_caveat(lo: float, hi: float, mapping: str, *, tr: Catalog = EN) -> str | None:
    """How a recommend item that is not on 0-10 was read (``None`` on 0-10)."""
    if (lo, hi) == (0.0, 10.0):
        return None
    key = "nps_caveat_labels" if mapping == "labels" else "nps_caveat_linear"
    return tr(f"satisfaction.result.{key}", lo=lo, hi=hi)


def suppression_sentence(table: pd.DataFrame, outcome: str, corr: pd.DataFrame, *,
                         tr: Catalog = EN) -> str:
    """Explain every sign flip of a coefficient table in words ("" when there is none).

    Parameters
    ----------
    table : DataFrame
        ``construct``, ``beta``, ``ci_low``, ``ci_high``, ``r``, ``sign_flip``.
    outcome : str
        What the model explains.
    corr : DataFrame
        Correlations among the model's terms (to name the term each flipped one overlaps
        with most).

    Returns
    -------
    str
        One sentence per flipped term.

    Raises
    ------
    InputError
        A column is missing.
    """
    for col in ("construct", "beta", "ci_low", "ci_high", "r", "sign_flip"):
        if col not in table.columns:
            raise InputError(f"suppression_sentence: coefficient table has no column {col!r}")
    out = []
    for row in table.loc[table["sign_flip"].astype(bool)].itertuples(index=False):
        others = corr[row.construct].drop(row.construct).abs()
        partner = others.idxmax() if len(others) else None
        overlap = (
            tr("satisfaction.result.overlap", partner=construct_name(partner, tr),
               r=corr.at[row.construct, partner])
            if partner is not None
            else tr("satisfaction.result.overlap_none")
        )
        crosses = row.ci_low <= 0 <= row.ci_high
        misread = "lowers" if row.r > 0 else "raises"
        out.append(tr(
            f"satisfaction.result.suppression_{misread}",
            construct=construct_name(row.construct, tr), beta=row.beta,
            outcome=construct_name(outcome, tr), r=row.r, overlap=overlap,
            crosses=tr("satisfaction.result.crosses_zero") if crosses else "",
        ))
    return tr("satisfaction.result.sentence_sep").join(out)


def _names(values: Sequence[str], tr: Catalog = EN) -> str:
    return tr.join(list(values))
