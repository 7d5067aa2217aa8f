"""The report's tables of segments, tiers, drivers and churn risk: pure functions over products.

Segment and tier tables, actions, the 80/20 share and tier transitions come from
:mod:`crmlab.segmentation`, the drivers' quadrants from :mod:`crmlab.satisfaction`, so the
report and the stage notebooks never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.report._values import _num, _ordered, _param

__all__ = ["top_drivers", "tier_watch_table", "risk_band_table"]


def top_drivers(satisfaction: Mapping[str, Any]) -> pd.DataFrame:
    """Rank the satisfaction drivers by importance, with their importance-performance quadrant.

    Parameters
    ----------
    satisfaction : mapping
        ``satisfaction.json``; ``drivers`` is ``{construct: {importance, performance,
        quadrant}}`` (importance: share of explained variance; performance: 0-100 index).

    Returns
    -------
    DataFrame
        ``construct``, ``importance``, ``performance``, ``quadrant``, ``actionable`` — most
        important first; ``attrs["crosshair"]`` is the map's cross-hair (importance,
        performance) for :func:`crmlab.satisfaction.plotting.plot_importance_performance`. Quadrant,
        actionable and the cross-hair are the satisfaction stage's (``drivers.*.quadrant``,
        ``drivers.*.actionable``, ``ipm``); when absent they are derived the same way
        (:func:`crmlab.satisfaction.importance_performance`: cross-hair in the middle of the
        drivers' range, every driver but Expectation actionable).

    Raises
    ------
    InputError
        When ``drivers`` is missing or empty, or a driver lacks ``importance`` or
        ``performance``.

    References
    ----------
    Martilla, J. A. & James, J. C. (1977). Importance-performance analysis. Journal of
    Marketing 41(1), 77-79.
    """
    drivers = satisfaction.get("drivers") if isinstance(satisfaction, Mapping) else None
    if not drivers:
        raise InputError("satisfaction.json: key 'drivers' missing or empty")
    rows = []
    for name, d in drivers.items():
        for key in ("importance", "performance"):
            if _num((d or {}).get(key)) is None:
                raise InputError(f"satisfaction.json: drivers.{name}: key {key!r} missing")
        rows.append((str(name), float(d["importance"]), float(d["performance"]), d.get("quadrant")))
    from crmlab.satisfaction import actionable_drivers, ipm_crosshair, quadrant_of

    out = pd.DataFrame(rows, columns=["construct", "importance", "performance", "quadrant"])
    ipm = satisfaction.get("ipm") or {}
    cuts = ipm_crosshair(out["importance"], out["performance"])
    given = (_num(ipm.get("importance_cut")), _num(ipm.get("performance_cut")))
    cuts = tuple(c if g is None else g for g, c in zip(given, cuts, strict=True))
    derived = quadrant_of(out["importance"], out["performance"], cuts)
    out["quadrant"] = out["quadrant"].astype(object).where(out["quadrant"].notna(), derived)
    out["quadrant"] = out["quadrant"].astype(str)
    levers = set(actionable_drivers(out["construct"].tolist()))
    out["actionable"] = [bool(d.get("actionable", name in levers)) for name, d in
                         ((r, drivers[r] or {}) for r in out["construct"])]
    out = out.sort_values(["importance", "construct"], ascending=[False, True],
                          kind="stable").reset_index(drop=True)
    out.attrs["crosshair"] = cuts
    return out


def tier_watch_table(
    customers: pd.DataFrame,
    params: Mapping[str, Any],
    value_predictions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """List the valuable customers who are slipping: the report's watch list.

    A customer is on it when their tier is in ``watch_tiers`` and their lifecycle stage in
    ``watch_stages`` (not to be confused with :func:`crmlab.churn.watch_list`, the churn
    model's risk list).

    Parameters
    ----------
    customers : DataFrame
        Columns ``customer_id``, ``value_tier``, ``lifecycle_stage``; ``rfm_segment``,
        ``total_spend`` and ``days_since_last`` are carried along when present.
    params : mapping
        The validated ``report`` params section (``watch_tiers``, ``watch_stages``).
    value_predictions : DataFrame, optional
        Adds ``clv`` and ``p_alive`` (when present) by ``customer_id``.

    Returns
    -------
    DataFrame
        The watched customers, highest total spend first (else by id).

    Raises
    ------
    InputError
        When a required column or a params key is missing.
    """
    require_columns(customers, ["customer_id", "value_tier", "lifecycle_stage"], "customers")
    tiers = [str(t) for t in _param(params, "watch_tiers")]
    stages = [str(s) for s in _param(params, "watch_stages")]
    keep = ["customer_id", "value_tier", "lifecycle_stage"] + [
        c for c in ("rfm_segment", "total_spend", "days_since_last") if c in customers.columns
    ]
    mask = customers["value_tier"].astype(str).isin(tiers) & customers["lifecycle_stage"].astype(
        str
    ).isin(stages)
    out = customers.loc[mask, keep].copy()
    if value_predictions is not None:
        require_columns(value_predictions, ["customer_id"], "value_predictions")
        extra = [c for c in ("clv", "p_alive") if c in value_predictions.columns]
        if extra:
            vp = value_predictions[["customer_id", *extra]].drop_duplicates("customer_id")
            out = out.merge(vp, on="customer_id", how="left")
    by = ["total_spend", "customer_id"] if "total_spend" in out.columns else ["customer_id"]
    asc = [False, True] if len(by) == 2 else [True]
    return out.sort_values(by, ascending=asc, kind="stable").reset_index(drop=True)


def risk_band_table(
    churn_scores: pd.DataFrame, order: Sequence[str] = ("high", "medium", "low", "churned")
) -> pd.DataFrame:
    """Count scored customers per churn-risk band, with mean predicted and observed churn.

    The action bands hold current customers only (rows that already churned have the band
    ``churned``), so their own observed churn is 0 by definition; the check that a band
    means what it says is the churn rate of the test rows whose *probability* falls in it
    (``score_band`` when the product has it).

    Parameters
    ----------
    churn_scores : DataFrame
        The churn product: ``risk_band``, ``churn_probability``; with ``split`` and
        ``actual`` the observed churn rate on the test split is added (grouped by
        ``score_band`` when present, else by ``risk_band``).
    order : sequence of str
        Band order (others follow by name).

    Returns
    -------
    DataFrame
        ``risk_band``, ``customers``, ``share``, ``mean_probability`` and, when possible,
        ``test_churn_rate`` (share who actually left among the band's test-split rows).

    Raises
    ------
    InputError
        When ``risk_band`` or ``churn_probability`` is missing.
    """
    require_columns(churn_scores, ["risk_band", "churn_probability"], "churn_scores")
    df = churn_scores.assign(risk_band=churn_scores["risk_band"].astype(str))
    g = df.groupby("risk_band", sort=False)
    out = pd.DataFrame({"customers": g.size(), "mean_probability": g["churn_probability"].mean()})
    if {"split", "actual"} <= set(df.columns):
        test = df.loc[df["split"].astype(str) == "test"]
        by = "score_band" if "score_band" in test.columns else "risk_band"
        rate = test.groupby(test[by].astype(str), sort=False)["actual"].mean()
        gone = test.loc[test["risk_band"] == "churned", "actual"]
        if len(gone):  # left already: 100% by definition, shown so the row is not blank
            rate["churned"] = gone.mean()
        out["test_churn_rate"] = rate
    out = out.reindex(_ordered(out.index, order))
    out.insert(1, "share", out["customers"] / out["customers"].sum())
    return out.rename_axis("risk_band").reset_index().astype({"customers": "int64"})
