"""How satisfied are customers? Construct scores and the 0-100 index with its interval.

A construct score is the mean of the items a respondent answered (when at least
``min_answered`` of them are); the index maps the mean score from the survey scale to
0-100, and the outcome construct's index is the number leadership tracks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.errors import InputError
from crmlab.satisfaction.survey import _check_constructs, _numeric_frame

__all__ = ["construct_scores", "satisfaction_index"]


def construct_scores(
    items: pd.DataFrame, constructs: Mapping[str, Sequence[str]], min_answered: float = 0.5
) -> pd.DataFrame:
    """Each respondent's score per construct: the mean of the items they answered.

    Parameters
    ----------
    items : DataFrame
        Numeric items on the survey scale (reversed items already recoded).
    constructs : mapping
        Construct name -> list of item columns.
    min_answered : float
        Share of a construct's items that must be answered for a score (default half);
        with fewer, the score is missing.

    Returns
    -------
    DataFrame
        One column per construct (in mapping order), same index as ``items``, on the
        survey scale.

    Raises
    ------
    InputError
        An item column is missing or not numeric, or ``min_answered`` outside (0, 1].
    """
    if not 0 < min_answered <= 1:
        raise InputError(f"construct_scores: min_answered must be in (0, 1], got {min_answered}")
    _check_constructs(items, constructs, "construct_scores")
    out = {}
    for name, cols in constructs.items():
        block = _numeric_frame(items[list(cols)], "construct_scores")
        answered = block.notna().sum(axis=1)
        enough = (answered >= 1) & (answered / len(cols) >= min_answered - 1e-12)
        out[name] = block.mean(axis=1).where(enough)
    return pd.DataFrame(out, index=items.index)


def satisfaction_index(
    scores: pd.DataFrame, scale: Sequence[float], confidence: float = 0.95
) -> pd.DataFrame:
    r"""Turn construct scores into a 0-100 index with a t confidence interval.

    .. math:: \text{index} = \frac{\bar s - s_{min}}{s_{max} - s_{min}} \times 100

    with :math:`\bar s` the mean construct score of the respondents who have one.

    Parameters
    ----------
    scores : DataFrame
        Construct scores on the survey scale (:func:`construct_scores`).
    scale : (min, max)
        The survey scale.
    confidence : float
        Level of the interval (default 0.95).

    Returns
    -------
    DataFrame
        ``construct``, ``n``, ``mean`` (scale units), ``sd``, ``index``, ``ci_low``,
        ``ci_high`` (index points; NaN with fewer than two scores).

    Raises
    ------
    InputError
        A bad scale or confidence level, or a score column that is not numeric.
    """
    lo, hi = (float(x) for x in scale)
    if not lo < hi:
        raise InputError(f"satisfaction_index: scale minimum {lo:g} must be below maximum {hi:g}")
    if not 0 < confidence < 1:
        raise InputError(f"satisfaction_index: confidence must be in (0, 1), got {confidence}")
    scores = _numeric_frame(scores, "satisfaction_index")
    rows = []
    for name in scores.columns:
        s = scores[name].dropna()  # respondents without a score are counted in n below
        n = len(s)
        mean = float(s.mean()) if n else np.nan
        sd = float(s.std(ddof=1)) if n > 1 else np.nan
        index = (mean - lo) / (hi - lo) * 100
        half = np.nan
        if n > 1:
            half = stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n) / (hi - lo) * 100
        rows.append(
            {
                "construct": name,
                "n": n,
                "mean": mean,
                "sd": sd,
                "index": index,
                "ci_low": index - half,
                "ci_high": index + half,
            }
        )
    return pd.DataFrame(rows)
