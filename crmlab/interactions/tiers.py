"""Loyalty and potential tiers, crossed with the value tier into one grid.

The three tiering schemes CRM courses teach: by spend (the segmentation stage's
``value_tier``), by loyalty (here) and by potential (the value stage's prediction).

**Loyalty score** (points, stated so anyone can recompute it):

- repeat purchasing, from the repeat-purchase rate = repeat purchase days per year since
  the first purchase (at least 30 days counted, so a new customer's one early repeat does
  not look like a habit): no repeat 0; a repeat buyer below the repeat buyers' median 1;
  at or above it 2;
- complaints (up to ``as_of``): none +1, one 0, two or more -1;
- voice, when the customer has one: a recommendation (0-10) counts promoters (9-10) +1
  and detractors (0-6) -1; otherwise the mean rating rescaled to [0, 1] on the rating
  scale: >= 2/3 +1, <= 1/3 -1; neither: 0.

The score runs from -2 to 4: **high** loyalty at 3 or more, **medium** at 2, **low** below.

**Potential**: tertiles of the predicted value (``clv``, else ``predicted_holdout_value``)
among customers with a prediction: top third ``high``, middle ``medium``, bottom ``low``
(customers with equal predictions share a tier); no prediction: ``unknown``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.interactions.common import (
    as_timestamp,
    check_customers,
    check_log,
    check_transactions,
    contacts_only,
)
from crmlab.segmentation.common import TIER_ORDER

__all__ = ["LOYALTY_ORDER", "POTENTIAL_ORDER", "loyalty_tiers", "potential_tiers", "tier_grid"]

LOYALTY_ORDER = ["high", "medium", "low"]
POTENTIAL_ORDER = ["high", "medium", "low", "unknown"]
_MIN_TENURE_DAYS = 30
_PREDICTION_COLUMNS = ("clv", "predicted_holdout_value")


def _rating_points(log: pd.DataFrame, ids: pd.Series, scale: Sequence[float] | None) -> pd.Series:
    if scale is None or "rating" not in log.columns:
        return pd.Series(np.nan, index=ids.index)
    lo, hi = float(scale[0]), float(scale[1])
    if not hi > lo:
        raise InputError(f"interactions.rating_scale: need lo < hi, got {list(scale)}")
    mean = log.assign(r=pd.to_numeric(log["rating"], errors="coerce")).groupby("customer_id")["r"].mean()
    r = (ids.map(mean).astype(np.float64) - lo) / (hi - lo)
    return pd.Series(np.select([r >= 2 / 3, r <= 1 / 3], [1.0, -1.0], 0.0), index=ids.index).where(r.notna())


def loyalty_tiers(transactions: pd.DataFrame, log: pd.DataFrame, customers: pd.DataFrame, as_of,
                  rating_scale: Sequence[float] | None = None,
                  recommend: pd.DataFrame | None = None) -> pd.DataFrame:
    """Score every customer's loyalty and put them in a tier (module rule).

    Parameters
    ----------
    transactions : DataFrame
        Clean transactions.
    log : DataFrame
        The clean log (``rating`` used when present).
    customers : DataFrame
        The customers table (one output row each, in its order).
    as_of : date-like
        Last day counted.
    rating_scale : (lo, hi), optional
        ``interactions.rating_scale``; without it ratings are not used.
    recommend : DataFrame, optional
        ``customer_id``, ``recommend`` (0-10), e.g. from a survey.

    Returns
    -------
    DataFrame
        ``customer_id``, ``purchase_days``, ``repeat_rate`` (per year), ``complaints``,
        ``repeat_points``, ``complaint_points``, ``voice_points``, ``loyalty_score``,
        ``loyalty_tier``.
    """
    cust = check_customers(customers)
    end = as_timestamp(as_of, "as_of")
    tx = check_transactions(transactions)
    tx = tx[tx["date"] < end + pd.Timedelta(days=1)]
    log = contacts_only(check_log(log))
    log = log[log["timestamp"] < end + pd.Timedelta(days=1)]
    ids = cust["customer_id"].reset_index(drop=True)
    days = tx.assign(day=tx["date"].dt.normalize()).groupby("customer_id")["day"].agg(["nunique", "min"])
    n = ids.map(days["nunique"]).fillna(0).astype("int64")
    tenure = ((end - ids.map(days["min"])).dt.days.clip(lower=_MIN_TENURE_DAYS)) / 365.25
    rate = ((n - 1).clip(lower=0) / tenure).fillna(0.0)
    repeaters = rate[rate > 0]
    median = float(repeaters.median()) if len(repeaters) else np.inf
    repeat_pts = np.select([rate <= 0, rate < median], [0, 1], 2)
    complaints = ids.map(log[log["type"] == "complaint"].groupby("customer_id").size()).fillna(0).astype("int64")
    complaint_pts = np.select([complaints == 0, complaints == 1], [1, 0], -1)
    voice = _rating_points(log, ids, rating_scale)
    if recommend is not None:
        require_columns(recommend, ["customer_id", "recommend"], "recommend")
        rec = recommend.assign(customer_id=recommend["customer_id"].astype(str)).groupby("customer_id")["recommend"].mean()
        r = ids.map(rec).astype(np.float64)
        rec_pts = pd.Series(np.select([r >= 9, r <= 6], [1.0, -1.0], 0.0), index=ids.index).where(r.notna())
        voice = rec_pts.fillna(voice)
    voice = voice.fillna(0.0).astype("int64")
    score = repeat_pts + complaint_pts + voice.to_numpy()
    tier = np.select([score >= 3, score == 2], ["high", "medium"], "low")
    return pd.DataFrame({
        "customer_id": ids, "purchase_days": n.to_numpy(), "repeat_rate": rate.to_numpy(dtype=np.float64),
        "complaints": complaints.to_numpy(), "repeat_points": repeat_pts, "complaint_points": complaint_pts,
        "voice_points": voice.to_numpy(), "loyalty_score": score,
        "loyalty_tier": pd.Categorical(tier, categories=LOYALTY_ORDER),
    })


def potential_tiers(customers: pd.DataFrame, value_predictions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tertiles of predicted value per customer, ``unknown`` without a prediction.

    Parameters
    ----------
    customers : DataFrame
        The customers table (one output row each).
    value_predictions : DataFrame, optional
        ``value_predictions.parquet``: ``customer_id`` and ``clv`` or
        ``predicted_holdout_value``.

    Returns
    -------
    DataFrame
        ``customer_id``, ``predicted_value`` (NaN when unknown), ``potential``.
    """
    ids = check_customers(customers)["customer_id"].reset_index(drop=True)
    pred = pd.Series(np.nan, index=ids.index)
    if value_predictions is not None:
        col = next((c for c in _PREDICTION_COLUMNS if c in value_predictions.columns), None)
        if col is None:
            raise InputError("value_predictions: required column 'clv' or 'predicted_holdout_value' missing")
        require_columns(value_predictions, ["customer_id"], "value_predictions")
        v = value_predictions.assign(customer_id=value_predictions["customer_id"].astype(str))
        pred = ids.map(v.drop_duplicates("customer_id").set_index("customer_id")[col]).astype(np.float64)
    pct = pred.rank(pct=True, method="average")
    tier = np.select([pct > 2 / 3, pct > 1 / 3, pct.notna()], ["high", "medium", "low"], "unknown")
    return pd.DataFrame({"customer_id": ids, "predicted_value": pred.to_numpy(),
                         "potential": pd.Categorical(tier, categories=POTENTIAL_ORDER)})


def tier_grid(customers: pd.DataFrame, loyalty: pd.DataFrame, potential: pd.DataFrame) -> pd.DataFrame:
    """Count customers per cell of value tier x loyalty tier x potential.

    Parameters
    ----------
    customers : DataFrame
        ``customer_id``, ``value_tier``.
    loyalty : DataFrame
        :func:`loyalty_tiers`.
    potential : DataFrame
        :func:`potential_tiers`.

    Returns
    -------
    DataFrame
        ``value_tier``, ``loyalty_tier``, ``potential``, ``customers``, ``share`` (of all
        customers): every combination of the tiers present, in tier order, zeros kept;
        the ``unknown`` potential only when some customer has no prediction.
    """
    cust = check_customers(customers, ("value_tier",))
    require_columns(loyalty, ["customer_id", "loyalty_tier"], "loyalty")
    require_columns(potential, ["customer_id", "potential"], "potential")
    m = (cust[["customer_id", "value_tier"]]
         .merge(loyalty[["customer_id", "loyalty_tier"]].astype({"customer_id": str}), on="customer_id", how="left")
         .merge(potential[["customer_id", "potential"]].astype({"customer_id": str}), on="customer_id", how="left"))
    m["value_tier"] = m["value_tier"].astype(str)
    m["loyalty_tier"] = m["loyalty_tier"].astype(str)
    m["potential"] = m["potential"].astype("string").fillna("unknown").astype(str)
    values = [t for t in TIER_ORDER if t in set(m["value_tier"])] + sorted(set(m["value_tier"]) - set(TIER_ORDER))
    pots = [p for p in POTENTIAL_ORDER if p != "unknown" or (m["potential"] == "unknown").any()]
    idx = pd.MultiIndex.from_product([values, LOYALTY_ORDER, pots], names=["value_tier", "loyalty_tier", "potential"])
    counts = m.groupby(["value_tier", "loyalty_tier", "potential"]).size().reindex(idx, fill_value=0)
    if not (m["potential"] != "unknown").any():
        counts = counts.xs("unknown", level="potential", drop_level=False)
    out = counts.rename("customers").reset_index()
    out["share"] = out["customers"] / max(len(m), 1)
    return out
