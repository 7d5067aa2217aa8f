"""Does satisfaction turn into loyalty? The link in scale points, then with the drivers.

References
----------
Conger (1974), "A revised definition for suppressor variables", Educational and
Psychological Measurement 34 (reading sign flips in the second model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

from crmlab.errors import InputError
from crmlab.i18n import EN, Catalog
from crmlab.satisfaction import narrative
from crmlab.satisfaction.drivers import _check_regression_frame, _zscore, sign_flips

__all__ = ["LoyaltyResult", "loyalty_link"]


@dataclass
class LoyaltyResult:
    """Loyalty regressed on satisfaction (scale units) and on satisfaction plus the drivers.

    Attributes
    ----------
    slope, intercept : float
        Simple regression ``loyalty = intercept + slope × satisfaction`` in scale points.
    ci : (float, float)
        Confidence interval of the slope.
    r2 : float
        R² of the simple regression (the squared correlation).
    n : int
        Complete cases of the simple regression.
    beta : float
        Standardised slope (= the correlation).
    table : DataFrame
        The second model, loyalty on satisfaction *and* the drivers, all standardised:
        ``term``, ``beta``, ``ci_low``, ``ci_high``, ``p_value``, ``r`` (the term's
        zero-order correlation with loyalty, on the same respondents) and ``sign_flip``
        (:func:`sign_flips`); empty without drivers.
    r2_multiple : float
        R² of that multiple regression (NaN without drivers).
    n_multiple : int
        Its complete cases.
    sentence : str
        The satisfaction-only link in words (the number to quote).
    suppressed : list of str
        Terms of the second model whose coefficient has the opposite sign of their
        correlation with loyalty (suppression, not an effect).
    multiple_sentence : str
        The second model in words, explaining any sign flip ("" without drivers).
    """

    slope: float
    intercept: float
    ci: tuple[float, float]
    r2: float
    n: int
    beta: float
    table: pd.DataFrame
    r2_multiple: float
    n_multiple: int
    sentence: str
    suppressed: list[str] = field(default_factory=list)
    multiple_sentence: str = ""


def loyalty_link(
    scores: pd.DataFrame,
    satisfaction: str,
    loyalty: str,
    drivers: Sequence[str] = (),
    scale: Sequence[float] = (1, 10),
    confidence: float = 0.95,
    *,
    tr: Catalog = EN,
) -> LoyaltyResult:
    """Regress loyalty on satisfaction (scale points), then on satisfaction and the drivers.

    Parameters
    ----------
    scores : DataFrame
        Construct scores on the survey scale.
    satisfaction, loyalty : str
        The two construct columns.
    drivers : sequence of str
        Other constructs added in the second, standardised model (whether satisfaction
        still matters once image, quality ... are held fixed).
    scale : (min, max)
        The survey scale (for the sentence).
    confidence : float
        Level of the intervals.
    tr : Catalog, optional
        The language of ``sentence`` and ``multiple_sentence`` (default English).

    Returns
    -------
    LoyaltyResult

    Raises
    ------
    InputError
        Missing column, too few complete respondents or a constant score.
    """
    df = _check_regression_frame(scores, loyalty, [satisfaction, *drivers], "loyalty_link")
    pair = df[[loyalty, satisfaction]]
    pair = pair.loc[pair.notna().all(axis=1)]
    if len(pair) < 3:
        raise InputError(f"loyalty_link: only {len(pair)} respondents have both scores; need 3")
    _zscore(pair, "loyalty_link")
    fit = sm.OLS(pair[loyalty], sm.add_constant(pair[[satisfaction]], has_constant="add")).fit()
    lo_ci, hi_ci = fit.conf_int(alpha=1 - confidence).loc[satisfaction]
    slope = float(fit.params[satisfaction])
    beta = slope * pair[satisfaction].std(ddof=1) / pair[loyalty].std(ddof=1)
    table = pd.DataFrame(
        columns=["term", "beta", "ci_low", "ci_high", "p_value", "r", "sign_flip"]
    )
    r2_multiple, n_multiple = np.nan, 0
    multiple_sentence = ""
    if drivers:
        full = df.loc[df.notna().all(axis=1)]
        if len(full) >= len(drivers) + 3:
            z = _zscore(full, "loyalty_link")
            terms = [satisfaction, *drivers]
            mfit = sm.OLS(z[loyalty], sm.add_constant(z[terms], has_constant="add")).fit()
            mci = mfit.conf_int(alpha=1 - confidence)
            table = pd.DataFrame(
                {
                    "term": terms,
                    "beta": mfit.params[terms].to_numpy(),
                    "ci_low": mci.loc[terms, 0].to_numpy(),
                    "ci_high": mci.loc[terms, 1].to_numpy(),
                    "p_value": mfit.pvalues[terms].to_numpy(),
                    "r": z.corr()[loyalty].loc[terms].to_numpy(),
                }
            )
            table["sign_flip"] = sign_flips(
                table.set_index("term")["beta"], table.set_index("term")["r"]
            ).to_numpy()
            r2_multiple, n_multiple = float(mfit.rsquared), len(full)
            multiple_sentence = narrative.loyalty_model_sentence(
                table, satisfaction, loyalty, r2_multiple, n_multiple, z[terms].corr(), tr=tr
            )
    sentence = narrative.loyalty_sentence(
        satisfaction, loyalty, scale, slope, (lo_ci, hi_ci), confidence, fit.rsquared, len(pair),
        tr=tr,
    )
    return LoyaltyResult(
        slope=slope,
        intercept=float(fit.params["const"]),
        ci=(float(lo_ci), float(hi_ci)),
        r2=float(fit.rsquared),
        n=len(pair),
        beta=float(beta),
        table=table,
        r2_multiple=r2_multiple,
        n_multiple=n_multiple,
        sentence=sentence,
        suppressed=table.loc[table["sign_flip"].astype(bool), "term"].tolist(),
        multiple_sentence=multiple_sentence,
    )
