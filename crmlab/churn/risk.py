"""From scores to action: risk bands, the scores product and the risk list.

Bands are for action, so they are sized on the **current customers** only: a row whose
label says the customer already left keeps its score (for evaluation) and gets the band
``churned``. The risk list ranks the current customers by out-of-sample churn probability,
up to the team's capacity, with the reasons pushing each one's risk up.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from crmlab.churn.data import ChurnTable
from crmlab.churn.evaluation import _top_order, feature_name, level_name
from crmlab.churn.model import ChurnModels
from crmlab.errors import InputError, require_columns
from crmlab.i18n import EN, Catalog

__all__ = ["BANDS", "CHURNED", "risk_bands", "churn_scores", "risk_list"]

BANDS = ["low", "medium", "high"]
# The band of a row whose label says the customer has already left: scored for evaluation,
# never for action (nobody can be retained who is gone).
CHURNED = "churned"


def risk_bands(
    probability, params: Any, actual=None
) -> tuple[pd.Series, dict]:
    """Risk bands ``high``/``medium``/``low`` from thresholds or from contact capacity.

    With ``high_threshold``/``medium_threshold`` set, a probability at or above the threshold
    is in the band. Otherwise the thresholds are chosen so that the riskiest ``capacity``
    share of the current customers is ``high`` and the riskiest ``medium_capacity`` share
    (cumulative) is ``high`` or ``medium``: the threshold is the k-th highest probability,
    k = ceil(share x current customers), so ties at that value may add a customer or two.

    With ``actual`` (0/1, 1 = already churned), the capacity thresholds are computed on the
    rows with ``actual`` 0 only -- the customers a team can still reach -- and every row
    with ``actual`` 1 gets the band ``churned`` whatever its probability.

    Parameters
    ----------
    probability : array-like or Series
        Churn probabilities of the customers to band.
    params : params section
        The validated ``churn`` section: ``capacity``, ``medium_capacity``,
        ``high_threshold``, ``medium_threshold`` (None = from capacity).
    actual : array-like, optional
        Observed outcome per row (0 = still a customer, 1 = already left).

    Returns
    -------
    (Series, dict)
        Categorical bands (categories ``low``, ``medium``, ``high`` and, with ``actual``,
        ``churned``; index of ``probability`` when a Series) and
        ``{"high": t_high, "medium": t_medium, "rule": "capacity" | "thresholds",
        "basis": "current customers" | "all rows"}``.

    Raises
    ------
    InputError
        When ``medium`` would be above ``high`` (thresholds or capacities), no rows, no
        current customer, or ``actual`` does not match ``probability``.
    """
    index = probability.index if isinstance(probability, pd.Series) else None
    p = np.asarray(probability, dtype=np.float64)
    if len(p) == 0:
        raise InputError("risk_bands: no probabilities to band")
    if actual is None:
        gone = np.zeros(len(p), dtype=bool)
    else:
        a = np.asarray(actual)
        if len(a) != len(p):
            raise InputError("risk_bands: actual and probability must have the same length")
        gone = a == 1
        if gone.all():
            raise InputError("risk_bands: every row has already churned; no current customer to band")
    capacity = float(params.capacity)
    medium_capacity = float(params.medium_capacity)
    hi_t = params.high_threshold
    md_t = params.medium_threshold
    ranked = -np.sort(-p[~gone])
    rule = "thresholds" if hi_t is not None or md_t is not None else "capacity"
    if hi_t is None:
        hi_t = ranked[max(1, math.ceil(capacity * len(ranked))) - 1]
    if md_t is None:
        if medium_capacity < capacity:
            raise InputError(
                f"key 'churn.medium_capacity' ({medium_capacity}) must be >= 'churn.capacity' ({capacity})"
            )
        md_t = min(ranked[max(1, math.ceil(medium_capacity * len(ranked))) - 1], hi_t)
    if md_t > hi_t:
        raise InputError(
            f"keys 'churn.medium_threshold' ({md_t}) must be <= 'churn.high_threshold' ({hi_t})"
        )
    band = np.where(p >= hi_t, "high", np.where(p >= md_t, "medium", "low")).astype(object)
    band[gone] = CHURNED
    categories = BANDS + ([CHURNED] if actual is not None else [])
    bands = pd.Series(pd.Categorical(band, categories=categories), index=index, name="risk_band")
    basis = "all rows" if actual is None else "current customers"
    return bands, {"high": float(hi_t), "medium": float(md_t), "rule": rule, "basis": basis}


def churn_scores(table: ChurnTable, models: ChurnModels, params: Any) -> tuple[pd.DataFrame, dict]:
    """Build the ``churn_scores.parquet`` product: key, split, actual, probability, risk band.

    Every probability comes from a model that did not train on the row (see
    :attr:`ChurnModels.probability`). Bands are for action, so they are sized on the
    **current customers** (``actual`` 0) only; a row whose label says the customer already
    left keeps its score (for evaluation) but gets the band ``churned``.

    Returns
    -------
    (DataFrame, dict)
        Columns ``row`` (or the id column), ``split``, ``actual``, ``churn_probability``,
        ``risk_band`` (``high``/``medium``/``low`` for current customers, ``churned`` where
        ``actual`` is 1), ``score_band`` (the band the probability alone falls in, for every
        row: what lets the bands be checked against the outcomes of the test rows), in
        input row order; and the band thresholds from :func:`risk_bands`.

    Raises
    ------
    InputError
        When the band params contradict each other (see :func:`risk_bands`).
    """
    actual = table.target.to_numpy(dtype=np.int64)
    bands, thresholds = risk_bands(models.probability, params, actual=actual)
    p = models.probability.to_numpy(dtype=np.float64)
    score_band = np.where(p >= thresholds["high"], "high",
                          np.where(p >= thresholds["medium"], "medium", "low"))
    out = pd.DataFrame({
        table.key.name: table.key.to_numpy(),
        "split": models.split.to_numpy(),
        "actual": actual,
        "churn_probability": p,
        "risk_band": bands.astype(str).to_numpy(),
        "score_band": score_band,
    })
    return out, thresholds


def _describe(feature: str, value: Any, table: ChurnTable, tr: Catalog = EN) -> str:
    name = feature_name(feature, tr)
    if feature in table.binary:
        word = ("churn.reason.binary_yes" if value == 1 else "churn.reason.binary_no" if value == 0
                else "churn.reason.missing")
        return tr("churn.reason.value", name=name, value=tr(word))
    if feature in table.numeric:
        return (tr("churn.reason.value", name=name, value=f"{value:,.4g}") if pd.notna(value)
                else tr("churn.reason.numeric_missing", name=name))
    return tr("churn.reason.value", name=name, value=level_name(value, tr))


def risk_list(
    scores: pd.DataFrame,
    contributions: pd.DataFrame,
    table: ChurnTable,
    capacity: float,
    top_reasons: int,
    suppressed: Any = (),
    tr: Catalog = EN,
) -> pd.DataFrame:
    """List the customers to call first: still customers (``actual`` 0), riskiest, with reasons.

    Customers who already churned are gone; the list ranks those who are still here but
    look like the ones who left, by scores from models that did not train on them (see
    :func:`churn_scores`). Reasons are the features pushing the customer's log-odds up
    the most (see :func:`logit_contributions`), worded with the customer's own value.

    Parameters
    ----------
    scores : DataFrame
        Same row order as ``table``: ``actual``, ``churn_probability``, ``risk_band`` and
        the key column.
    contributions : DataFrame
        From :func:`logit_contributions` for the same rows.
    table : ChurnTable
        For the features' values and kinds.
    capacity : float
        Share of the current customers on the list (k = ceil(capacity x current customers)).
    top_reasons : int
        Reasons per customer.
    suppressed : iterable of str
        Features whose odds ratio is a suppression effect (``odds_ratio_table(...,
        rows=...)``, column ``suppression``): their reasons are marked as such, so a
        caller does not read "total charges" as the cause.
    tr : Catalog
        Language of the reasons (English by default): feature names and levels by
        :func:`~crmlab.churn.evaluation.feature_name` and
        :func:`~crmlab.churn.evaluation.level_name` (unknown ones stay as they are).

    Returns
    -------
    DataFrame
        ``rank``, the key column, ``churn_probability``, ``risk_band``, ``reason_1`` ...
        (``"Contract = Month-to-month (+0.81)"``: the feature in words, the customer's value
        and its log-odds push).

    Raises
    ------
    InputError
        When a column is missing or the frames do not line up.
    """
    key = table.key.name
    require_columns(scores, [key, "actual", "churn_probability", "risk_band"], "scores")
    if len(scores) != len(contributions) or len(scores) != len(table.features):
        raise InputError("risk_list: scores, contributions and table must have the same rows")
    if not 0 < capacity <= 1:
        raise InputError(f"key 'churn.capacity': {capacity} must be in (0, 1]")
    suppressed = {str(f) for f in suppressed}
    # only customers who are still here: label 0 and not banded as churned
    still = np.flatnonzero((scores["actual"].to_numpy() == 0)
                           & (scores["risk_band"].astype(str).to_numpy() != CHURNED))
    prob = scores["churn_probability"].to_numpy()[still]
    pick = still[_top_order(prob)[: math.ceil(capacity * len(still))]]
    C = contributions.to_numpy()[pick]
    names = list(contributions.columns)
    reasons = []
    for row, pos in zip(C, pick, strict=True):
        top = [j for j in np.argsort(-row, kind="stable")[:top_reasons] if row[j] > 0]
        texts = [
            tr("churn.reason.push", describe=_describe(names[j], table.features.iloc[pos][names[j]], table, tr),
               push=row[j])
            + (tr("churn.reason.suppression") if names[j] in suppressed else "")
            for j in top
        ]
        reasons.append(texts + [""] * (top_reasons - len(texts)))
    out = pd.DataFrame({
        "rank": np.arange(1, len(pick) + 1),
        key: scores[key].to_numpy()[pick],
        "churn_probability": scores["churn_probability"].to_numpy()[pick],
        "risk_band": scores["risk_band"].astype(str).to_numpy()[pick],
    })
    for i in range(top_reasons):
        out[f"reason_{i + 1}"] = [r[i] for r in reasons] if reasons else pd.Series([], dtype=str)
    return out
