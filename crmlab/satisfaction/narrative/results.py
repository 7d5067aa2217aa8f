"""Sentences the computation carries into its results (and so into ``satisfaction.json``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crmlab.errors import InputError
from crmlab.satisfaction.thresholds import (
    ALPHA_MIN,
    AVE_MIN,
    CR_MIN,
)

if TYPE_CHECKING:  # the computation modules import narrative: type names only
    from crmlab.satisfaction.factor import OneFactorFit


_NPS_CAVEAT = (
    "NPS is defined on a 0-10 question; this item is on {lo:g}-{hi:g}, read by its labels "
    "(9-10 promoters, {lo:g}-6 detractors), which flatters the score slightly against a "
    "true 0-10 question, where 0 is one more detractor point."
)
_NPS_LINEAR = (
    "NPS is defined on a 0-10 question; this item is on {lo:g}-{hi:g}, mapped linearly onto "
    "0-10 before counting promoters (9-10) and detractors (0-6)."
)


# --- sentences the computation carries into its results ------------------------------------


def reliability_flags(
    k: int, alpha: float, cr: float, ave: float, fit: OneFactorFit, sqrt_ave: float,
    max_r: float,
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
    if k == 1:
        flags.append("single item: reliability cannot be estimated from the data")
    else:
        if np.isfinite(alpha) and alpha < ALPHA_MIN:
            flags.append(
                f"alpha {alpha:.2f} < {ALPHA_MIN}: the items do not move together enough "
                "to be added up as one scale; check the weakest item"
            )
        if np.isfinite(cr) and cr < CR_MIN:
            flags.append(f"composite reliability {cr:.2f} < {CR_MIN}")
        if fit.heywood:
            flags.append(
                "a loading hit 1 (Heywood case): one factor does not describe these items, "
                "so CR and AVE overstate reliability"
            )
        if np.isfinite(ave) and ave < AVE_MIN:
            flags.append(
                f"AVE {ave:.2f} < {AVE_MIN}: the items share less than half their variance "
                "with the construct"
            )
        if np.isfinite(sqrt_ave) and np.isfinite(max_r) and sqrt_ave <= max_r:
            flags.append("sqrt(AVE) <= correlation with another construct: hard to tell apart")
        if not np.isfinite(alpha):
            flags.append("alpha undefined (too few complete answers or a constant item)")
        if k == 2 and fit.method == "tau-equivalent" and not lam.notna().all():
            flags.append("the two items do not correlate positively: no loadings")
    return flags


def loyalty_sentence(
    satisfaction: str, loyalty: str, scale: Sequence[float], slope: float,
    ci: tuple[float, float], confidence: float, r2: float, n: int,
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
    return (
        f"One point more {satisfaction} (on the {lo:g}-{hi:g} scale) goes with {abs(slope):.2f} "
        f"points {more} {loyalty} on average ({confidence:.0%} CI {lo_ci:.2f} to {hi_ci:.2f}); "
        f"{satisfaction} alone accounts for {r2:.0%} of the differences in {loyalty} "
        f"between respondents (n = {n})."
    )


def loyalty_model_sentence(
    table: pd.DataFrame, satisfaction: str, loyalty: str, r2: float, n: int,
    corr: pd.DataFrame,
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
        f"With {_names(terms)} in one model (R² = {r2:.0%}, n = {n:,}), "
        f"{satisfaction}'s own coefficient is {table['beta'].iloc[0]:+.2f} SD per SD. "
        + suppression_sentence(table.rename(columns={"term": "construct"}), loyalty, corr)
    )


def single_item_note(constructs: Sequence[str]) -> str:
    """Caveat for single-item constructs (no internal consistency to measure)."""
    return (
        f"{', '.join(constructs)}: single-item construct(s), so no alpha, composite reliability "
        "or AVE (internal consistency needs at least two items)."
    )


def driver_suppression_note(text: str) -> str:
    """Caveat for sign flips among the drivers (``text``: :func:`suppression_sentence`)."""
    return text + " Its importance share still counts what it explains."


def no_drivers_note(outcome: str) -> str:
    """Caveat for a survey whose outcome has no driver construct."""
    return f"No driver constructs besides {outcome!r}: no key-driver analysis."


def loyalty_suppression_note(multiple_sentence: str) -> str:
    """Caveat for sign flips in the loyalty model with the drivers."""
    return f"Loyalty model with the drivers: {multiple_sentence}"


def nps_caveat(lo: float, hi: float, mapping: str) -> str | None:
    """How a recommend item that is not on 0-10 was read (``None`` on 0-10)."""
    if (lo, hi) == (0.0, 10.0):
        return None
    return (_NPS_CAVEAT if mapping == "labels" else _NPS_LINEAR).format(lo=lo, hi=hi)


def suppression_sentence(table: pd.DataFrame, outcome: str, corr: pd.DataFrame) -> str:
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
            f"it overlaps with {partner} (r = {corr.at[row.construct, partner]:.2f}) and the "
            "other terms, and only the small part they do not already carry is left, with the "
            "opposite sign"
            if partner is not None
            else "only the part the other terms do not carry is left"
        )
        crosses = row.ci_low <= 0 <= row.ci_high
        misread = "lowers" if row.r > 0 else "raises"
        out.append(
            f"{row.construct}'s coefficient is {row.beta:+.2f} although {row.construct} and "
            f"{outcome} correlate {row.r:+.2f} on their own: a suppression effect — {overlap}"
            + ("; its interval also crosses zero" if crosses else "")
            + f". It does not mean that more {row.construct} {misread} {outcome}."
        )
    return " ".join(out)


def _names(values: Sequence[str]) -> str:
    values = list(values)
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + " and " + values[-1]
