"""The Net Promoter Score: one formula, its interval, and the answer bands on any scale.

NPS is defined on a 0-10 "how likely are you to recommend us" question: promoters answer
9-10, passives 7-8, detractors 0-6; NPS = 100 × (share of promoters - share of
detractors). Another scale is read by its labels (1-10: 9-10 promote, 1-6 detract) or
mapped linearly onto 0-10 first; :func:`nps_bands` says which answers fall in each band.

References
----------
Reichheld (2003), "The one number you need to grow", Harvard Business Review 81(12).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.errors import InputError, require_columns
from crmlab.satisfaction.thresholds import NPS_SCALE

__all__ = ["nps", "nps_by_group", "net_promoter_score", "nps_bands"]

# Band edges on the 0-10 scale: promoters at or above 9, detractors at or below 6.
_PROMOTER_MIN = 9
_DETRACTOR_MAX = 6


def _scale_of(scale, construct: str) -> tuple[float, float]:
    lo_hi = scale.get(construct) if isinstance(scale, Mapping) else scale
    if lo_hi is None:
        raise InputError(f"scale.{construct}: no item scale given")
    try:
        lo, hi = (float(v) for v in lo_hi)
    except (TypeError, ValueError):
        raise InputError(f"scale.{construct}: expected [min, max], got {lo_hi!r}") from None
    if not lo < hi:
        raise InputError(f"scale.{construct}: min {lo:g} must be below max {hi:g}")
    return lo, hi


def nps(
    values,
    scale: Sequence[float] = (0, 10),
    missing_codes: Sequence[float] = (),
    level: float = 0.95,
    mapping: str = "labels",
) -> dict:
    """Net Promoter Score of a "would you recommend" item, with a confidence interval.

    NPS is defined on a 0-10 scale: promoters answer 9-10, passives 7-8, detractors
    0-6; NPS = 100 * (share of promoters - share of detractors), from -100 to 100.

    A 1-10 item (mobi's CUSL3) lacks the 0. With ``mapping="labels"`` (default) the
    answers keep their labels -- 9 and 10 are promoters, 1-6 detractors -- which is how
    such surveys are usually scored; the NPS is then slightly flattering versus a true
    0-10 question, which has one more detractor point. With ``mapping="linear"`` answers
    are first mapped onto 0-10 by ``10 * (x - min) / (max - min)`` (needed for any other
    scale, e.g. 1-7); on 1-10 this makes only 10 a promoter (9 -> 8.9) and 1-6 detractors.

    The interval is the delta-method (multinomial) one: Var(p_prom - p_detr) =
    (p_prom + p_detr - (p_prom - p_detr)^2) / n, clipped to [-100, 100].

    Parameters
    ----------
    values : Series or array-like
        The answers; NaN and ``missing_codes`` are left out.
    scale : (min, max)
        The answer scale, default (0, 10).
    missing_codes : list of number
        Codes meaning "no answer" (e.g. -99, 99).
    level : float
        Confidence level.
    mapping : {"labels", "linear"}
        How a non-0-10 scale is read (see above); ``"labels"`` needs max 10 and min 0 or 1.

    Returns
    -------
    dict
        ``n``, ``n_missing``, ``promoters``, ``passives``, ``detractors`` (shares),
        ``nps``, ``se``, ``ci_low``, ``ci_high``, ``scale``, ``mapping``.

    Raises
    ------
    InputError
        Non-numeric answers, answers outside ``scale``, no answers, a bad scale or mapping.
    """
    name = getattr(values, "name", None) or "recommend item"
    lo, hi = _scale_of(scale, "nps")
    if mapping not in ("labels", "linear"):
        raise InputError(f"nps.mapping: expected 'labels' or 'linear', got {mapping!r}")
    if mapping == "labels" and not (hi == 10 and lo in (0, 1)):
        raise InputError(
            f"nps.mapping: 'labels' needs a 0-10 or 1-10 scale, got [{lo:g}, {hi:g}]; use 'linear'"
        )
    raw = pd.Series(values)
    x = pd.to_numeric(raw, errors="coerce")
    if (x.isna() & raw.notna()).any():
        raise InputError(f"nps: {name!r} has non-numeric answers")
    if len(missing_codes):
        x = x.mask(x.isin([float(c) for c in missing_codes]))
    n_missing = int(x.isna().sum())
    x = x.dropna().astype(float)
    if x.empty:
        raise InputError(f"nps: {name!r} has no answers")
    if ((x < lo) | (x > hi)).any():
        raise InputError(f"nps: {name!r} has answers outside [{lo:g}, {hi:g}]")
    y = x if mapping == "labels" else 10 * (x - lo) / (hi - lo)
    n = len(y)
    prom = float((y >= _PROMOTER_MIN).mean())
    detr = float((y <= _DETRACTOR_MAX).mean())
    diff = prom - detr
    se = float(np.sqrt(max(prom + detr - diff**2, 0.0) / n))
    z = stats.norm.ppf(0.5 + level / 2)
    return {
        "n": n,
        "n_missing": n_missing,
        "promoters": prom,
        "passives": 1 - prom - detr,
        "detractors": detr,
        "nps": 100 * diff,
        "se": 100 * se,
        "ci_low": float(max(-100.0, 100 * (diff - z * se))),
        "ci_high": float(min(100.0, 100 * (diff + z * se))),
        "scale": [lo, hi],
        "mapping": mapping,
    }


def nps_by_group(
    data: pd.DataFrame,
    item: str,
    group: str,
    scale: Sequence[float] = (0, 10),
    missing_codes: Sequence[float] = (),
    level: float = 0.95,
    mapping: str = "labels",
) -> pd.DataFrame:
    """NPS per group (e.g. segment), with the overall NPS as the last row ``"all"``.

    Parameters
    ----------
    data : DataFrame
        With columns ``item`` and ``group``; respondents without a group count only
        in ``"all"``; a group where nobody answered gets ``n`` 0 and NaN elsewhere.
    item, group : str
        The recommend item and the grouping column.
    scale, missing_codes, level, mapping
        As in :func:`nps`.

    Returns
    -------
    DataFrame
        One row per group: ``n``, ``promoters``, ``passives``, ``detractors``, ``nps``,
        ``se``, ``ci_low``, ``ci_high``.
    """
    require_columns(data, [item, group], "survey")
    cols = ["n", "promoters", "passives", "detractors", "nps", "se", "ci_low", "ci_high"]
    rows = {}
    for key, part in data.groupby(group, sort=True, dropna=True):
        answered = ~pd.to_numeric(part[item], errors="coerce").isin(missing_codes)
        if not (answered & part[item].notna()).any():
            rows[key] = [0] + [np.nan] * (len(cols) - 1)  # nobody in the group answered
            continue
        res = nps(part[item], scale, missing_codes, level, mapping)
        rows[key] = [res[c] for c in cols]
    overall = nps(data[item], scale, missing_codes, level, mapping)
    rows["all"] = [overall[c] for c in cols]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    table.index.name = group
    return table


def net_promoter_score(
    recommend: pd.Series, group: pd.Series | None = None, confidence: float = 0.95
) -> dict[str, Any]:
    r"""Net Promoter Score from a 0-10 "how likely are you to recommend us" item.

    .. math:: NPS = 100\,(p_{9\text{-}10} - p_{0\text{-}6}),\qquad
              SE = 100\sqrt{\frac{p_P + p_D - (p_P - p_D)^2}{n}}

    Parameters
    ----------
    recommend : Series
        Answers on 0-10 (missing answers are left out and counted by the caller).
    group : Series, optional
        Group labels (same index) for an NPS per group.
    confidence : float
        Level of the normal-approximation interval.

    Returns
    -------
    dict
        ``n``, ``promoters``, ``passives``, ``detractors`` (shares), ``nps`` (-100..100),
        ``ci`` [low, high] and, with ``group``, ``by_group`` {label: {n, nps}}.

    Raises
    ------
    InputError
        An answer outside 0-10, or no answers at all.

    References
    ----------
    Reichheld (2003), Harvard Business Review 81(12).
    """
    r = pd.to_numeric(recommend, errors="raise").astype("float64")
    answered = r.dropna()  # the missing answers were counted when the survey was prepared
    if answered.empty:
        raise InputError("net_promoter_score: no recommend answers")
    if ((answered < NPS_SCALE[0]) | (answered > NPS_SCALE[1])).any():
        raise InputError("net_promoter_score: recommend answers must lie in 0-10")

    def _nps(x: pd.Series) -> dict[str, Any]:
        # one NPS formula in the package: nps() below (interval clipped to +-100)
        got = nps(x, scale=NPS_SCALE, level=confidence)
        keys = ("n", "promoters", "passives", "detractors", "nps")
        return {k: got[k] for k in keys} | {"ci": [got["ci_low"], got["ci_high"]]}

    out = _nps(answered)
    if group is not None:
        labels = group.astype("string").reindex(answered.index)
        out["by_group"] = {
            str(g): {k: v for k, v in _nps(part).items() if k in ("n", "nps")}
            for g, part in answered.groupby(labels, sort=True)
        }
    return out


def nps_bands(
    scale: Sequence[float] = NPS_SCALE, mapping: str = "labels"
) -> dict[str, tuple[float, float] | None]:
    """List the answers on the item's own scale that count as detractor, passive and promoter.

    Parameters
    ----------
    scale : (min, max)
        The recommend item's answer scale (whole-number answers), e.g. ``(1, 10)``.
    mapping : {"labels", "linear"}
        How :func:`nps` reads a non-0-10 scale: ``labels`` keeps the answers' labels
        (promoters 9-10, detractors min-6); ``linear`` maps ``10 * (x - min) / (max - min)``
        onto 0-10 first.

    Returns
    -------
    dict
        ``detractors``, ``passives``, ``promoters``: ``(lowest, highest)`` answer of the
        band, or ``None`` when no whole-number answer falls in it (e.g. passives on 1-5
        read linearly).

    Raises
    ------
    InputError
        A bad scale or an unknown mapping.

    Examples
    --------
    >>> nps_bands((1, 10))
    {'detractors': (1.0, 6.0), 'passives': (7.0, 8.0), 'promoters': (9.0, 10.0)}
    >>> nps_bands((1, 7), "linear")
    {'detractors': (1.0, 4.0), 'passives': (5.0, 6.0), 'promoters': (7.0, 7.0)}
    """
    lo, hi = _scale_of(scale, "nps")
    if mapping not in ("labels", "linear"):
        raise InputError(f"nps.mapping: expected 'labels' or 'linear', got {mapping!r}")
    if mapping == "labels":
        detr_top, prom_low = float(_DETRACTOR_MAX), float(_PROMOTER_MIN)
    else:  # the answers whose mapped value reaches the 0-10 edges
        span = hi - lo
        detr_top = math.floor(lo + _DETRACTOR_MAX / 10 * span + 1e-9)
        prom_low = math.ceil(lo + _PROMOTER_MIN / 10 * span - 1e-9)
    first, last = math.ceil(lo), math.floor(hi)

    def band(a: float, b: float) -> tuple[float, float] | None:
        a, b = max(float(a), first), min(float(b), last)
        return (a, b) if a <= b else None

    return {
        "detractors": band(first, detr_top),
        "passives": band(detr_top + 1, prom_low - 1),
        "promoters": band(prom_low, last),
    }
