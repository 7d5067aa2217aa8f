"""The stage's two feeds: per-customer features for churn, and ``interaction_metrics.json`` for the report.

:func:`interaction_features` returns one row per customer of the customers table (zeros
and NaN for customers without a contact), the columns of :func:`feature_columns`; with
the default ``window_days`` of 90 they are the ``contacts_90d`` ... of ``INTERACTIONS.md``.
The window is in the names so that a 60-day run never writes a column called "90d".

:func:`churn_feed` is the product ``customer_interactions.parquet``: those features, an
``as_of`` column (the day they describe) and, when ``periods.calibration_end`` falls before
the as-of date, the same features taken **at calibration_end** from the log and the
purchases cut at the end of that day (columns ``backtest_...`` and ``backtest_as_of``), so
the churn warning's backtest raises its interaction signals with only what was known then.

:func:`summary_json` gathers KPIs and small tables from results the notebook has already
computed; every section names its source, and the result is JSON-safe (NaN -> null).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import require_columns
from crmlab.interactions.common import (
    as_timestamp,
    check_customers,
    check_log,
    contacts_only,
    in_window,
    windows,
)
from crmlab.interactions.frequency import window_contacts
from crmlab.interactions.profitability import customer_profit
from crmlab.interactions.tiers import loyalty_tiers
from crmlab.satisfaction.jsonsafe import json_safe

__all__ = ["feature_columns", "interaction_features", "churn_feed", "cut_at", "recent_sentiment_mean",
           "summary_json"]

SOURCE_LOG = "interactions log (clean)"
SOURCE_TX = "transactions.parquet"
SOURCE_CUSTOMERS = "customers.parquet"


def feature_columns(window_days: int) -> list[str]:
    """Return the churn feed's columns for a window of ``window_days`` (``contacts_90d`` ... at 90).

    ``texts_{w}`` and ``texts_prev_{w}`` count the scored texts (non-NaN ``sentiment``)
    behind ``sentiment_{w}`` and ``sentiment_prev_{w}``: a mean of one text is weak evidence.
    """
    w = f"{int(window_days)}d"
    return ["customer_id", f"contacts_{w}", f"contacts_prev_{w}", f"complaints_{w}",
            f"complaints_prev_{w}", "sentiment_mean", f"sentiment_{w}", f"sentiment_prev_{w}",
            f"texts_{w}", f"texts_prev_{w}", "channels", "cost_to_serve", "revenue", "profit",
            "loyalty_tier"]


def _mean_sentiment(log: pd.DataFrame, ids: pd.Series, mask: np.ndarray | None = None) -> np.ndarray:
    if "sentiment" not in log.columns:
        return np.full(len(ids), np.nan)
    s = log if mask is None else log[mask]
    mean = pd.to_numeric(s["sentiment"], errors="coerce").groupby(s["customer_id"]).mean()
    return ids.map(mean).to_numpy(dtype=np.float64)


def _count_texts(log: pd.DataFrame, ids: pd.Series, mask: np.ndarray) -> np.ndarray:
    if "sentiment" not in log.columns:
        return np.zeros(len(ids), dtype=np.int64)
    s = log[mask]
    n = pd.to_numeric(s["sentiment"], errors="coerce").notna().groupby(s["customer_id"]).sum()
    return ids.map(n).fillna(0).to_numpy(dtype=np.int64)


def interaction_features(log: pd.DataFrame, transactions: pd.DataFrame, customers: pd.DataFrame,
                         costs: Mapping[str, Any], margin: float, as_of, window_days: int,
                         loyalty: pd.DataFrame | None = None,
                         rating_scale: Sequence[float] | None = None) -> pd.DataFrame:
    """Per-customer interaction features for the churn stage.

    Parameters
    ----------
    log : DataFrame
        The clean log, with ``sentiment`` (0..1, NaN without text) when scored.
    transactions : DataFrame
        Clean transactions.
    customers : DataFrame
        The customers table: one output row per customer, in its order.
    costs : mapping
        ``interactions.costs``.
    margin : float
        ``interactions.margin``.
    as_of : date-like
        Last day of the data (end of the recent window).
    window_days : int
        ``interactions.window_days``.
    loyalty : DataFrame, optional
        :func:`~crmlab.interactions.tiers.loyalty_tiers`; computed (with ``rating_scale``)
        when not given.
    rating_scale : (lo, hi), optional
        ``interactions.rating_scale``, used only when ``loyalty`` is computed here.

    Returns
    -------
    DataFrame
        The columns of :func:`feature_columns`.
    """
    cust = check_customers(customers).reset_index(drop=True)
    ids = cust["customer_id"]
    log = contacts_only(check_log(log))
    w = f"{int(window_days)}d"
    out = pd.DataFrame({"customer_id": ids})
    allc = window_contacts(log, cust, as_of, window_days)
    comp = window_contacts(log, cust, as_of, window_days, types=("complaint",))
    out[f"contacts_{w}"], out[f"contacts_prev_{w}"] = allc["recent"].to_numpy(), allc["previous"].to_numpy()
    out[f"complaints_{w}"], out[f"complaints_prev_{w}"] = comp["recent"].to_numpy(), comp["previous"].to_numpy()
    prev, recent, end = windows(as_of, window_days)
    out["sentiment_mean"] = _mean_sentiment(log, ids)
    in_recent, in_prev = in_window(log["timestamp"], recent, end), in_window(log["timestamp"], prev, recent)
    out[f"sentiment_{w}"] = _mean_sentiment(log, ids, in_recent)
    out[f"sentiment_prev_{w}"] = _mean_sentiment(log, ids, in_prev)
    out[f"texts_{w}"] = _count_texts(log, ids, in_recent)
    out[f"texts_prev_{w}"] = _count_texts(log, ids, in_prev)
    out["channels"] = ids.map(log.groupby("customer_id")["channel"].nunique()).fillna(0).astype("int64")
    profit = customer_profit(transactions, log, cust, costs, margin, as_of)
    for col in ("cost_to_serve", "revenue", "profit"):
        out[col] = profit[col].to_numpy()
    if loyalty is None:
        loyalty = loyalty_tiers(transactions, log, cust, as_of, rating_scale)
    tiers = loyalty.assign(customer_id=loyalty["customer_id"].astype(str)).set_index("customer_id")["loyalty_tier"]
    out["loyalty_tier"] = ids.map(tiers.astype(str)).astype("str")
    return out[feature_columns(window_days)]


def cut_at(log: pd.DataFrame, transactions: pd.DataFrame, day) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the log and the transactions as they were known at the end of ``day``.

    Rows are kept up to and including ``day`` (a contact at 15:00 on ``day`` is kept, one
    at 00:00 the day after is not), the same day boundary as :func:`~crmlab.interactions.common.windows`
    and the churn backtest, whose holdout starts after ``day``.

    Parameters
    ----------
    log : DataFrame
        With a datetime64 ``timestamp``.
    transactions : DataFrame
        With a datetime64 ``date``.
    day : date-like
        The last day kept.

    Returns
    -------
    (DataFrame, DataFrame)
        Copies of the rows known on ``day``.

    Raises
    ------
    InputError
        A missing ``timestamp`` / ``date`` column or an unparseable ``day``.
    """
    require_columns(log, ["timestamp"], "interactions log")
    require_columns(transactions, ["date"], "transactions")
    end = as_timestamp(day, "calibration_end") + pd.Timedelta(days=1)
    return log[log["timestamp"] < end].copy(), transactions[transactions["date"] < end].copy()


def churn_feed(log: pd.DataFrame, transactions: pd.DataFrame, customers: pd.DataFrame,
               costs: Mapping[str, Any], margin: float, as_of, window_days: int, calibration_end=None,
               loyalty: pd.DataFrame | None = None,
               rating_scale: Sequence[float] | None = None) -> pd.DataFrame:
    """Build ``customer_interactions.parquet``: today's features, their date and the backtest copies.

    Parameters
    ----------
    log, transactions, customers, costs, margin, as_of, window_days, loyalty, rating_scale
        As :func:`interaction_features` (``loyalty`` is used for today's features only; the
        backtest's loyalty tiers are recomputed from the cut data with ``rating_scale``).
    calibration_end : date-like, optional
        ``periods.calibration_end``. When it falls before ``as_of``, the features are taken
        again at that day from :func:`cut_at`'s rows -- nothing later leaks in -- and added
        with the prefix ``backtest_``. Customers first seen after it have zero counts there.

    Returns
    -------
    DataFrame
        :func:`feature_columns`, ``as_of`` (datetime64, the day described) and, with a
        usable ``calibration_end``, ``backtest_<column>`` for every feature column but
        ``customer_id`` plus ``backtest_as_of``; one row per customer, in the customers'
        order.

    Raises
    ------
    InputError
        As :func:`interaction_features` and :func:`cut_at`.
    """
    feats = interaction_features(log, transactions, customers, costs, margin, as_of, window_days,
                                 loyalty=loyalty, rating_scale=rating_scale)
    today = as_timestamp(as_of, "as_of")
    feats["as_of"] = today
    if calibration_end is None:
        return feats
    cal = as_timestamp(calibration_end, "calibration_end")
    if cal >= today:
        return feats
    past_log, past_tx = cut_at(log, transactions, cal)
    past = interaction_features(past_log, past_tx, customers, costs, margin, cal, window_days,
                                rating_scale=rating_scale)
    past = past.drop(columns="customer_id").add_prefix("backtest_")
    out = pd.concat([feats, past.set_axis(feats.index)], axis=1)  # same customers, same order
    out["backtest_as_of"] = cal
    return out


def recent_sentiment_mean(log: pd.DataFrame, as_of, window_days: int) -> float | None:
    """Mean sentiment (0..1) of the scored texts in the recent window; None without any.

    Each text counts once (not each customer), over the contacts (control-arm rows dropped)
    of the ``window_days`` days ending with the as-of day.
    """
    log = contacts_only(check_log(log))
    if "sentiment" not in log.columns:
        return None
    _, recent, end = windows(as_of, window_days)
    s = pd.to_numeric(log.loc[in_window(log["timestamp"], recent, end), "sentiment"], errors="coerce").dropna()
    return float(s.mean()) if len(s) else None


def _records(df: pd.DataFrame | None, limit: int | None = None) -> list[dict] | None:
    if df is None:
        return None
    d = df.head(limit) if limit else df
    d = d.copy()
    for c in d.columns:
        if pd.api.types.is_datetime64_any_dtype(d[c]):
            d[c] = d[c].dt.strftime("%Y-%m-%d")
    d = d.astype(object).where(d.notna(), None)  # pd.NA and NaT are not JSON
    return d.to_dict(orient="records")


def summary_json(*, as_of, window_days: int, currency: str = "", trend=None, monthly=None,
                 mix=None, multichannel=None, rates=None, complaint_trend=None, lapse=None,
                 sentiment_monthly=None, sentiment_accuracy: Mapping | None = None,
                 campaign=None, whale=None, destroyers=None, grid=None, candidates=None,
                 reading: Mapping | None = None, sentiment_mean: float | None = None,
                 simulated: bool | None = None) -> dict:
    """Build ``interaction_metrics.json``: KPIs and small tables for the report, JSON-safe.

    Every argument but ``as_of`` and ``window_days`` is optional (a section is left out
    when its result is missing): ``trend`` a ContactTrend, ``monthly`` the contacts per
    month, ``mix`` a ChannelMix, ``multichannel`` a MultichannelSpend, ``rates`` and
    ``complaint_trend`` the complaint rates and their trend, ``lapse`` a ComplaintLapse,
    ``sentiment_monthly`` :func:`~crmlab.interactions.complaints.sentiment_by_month`,
    ``sentiment_accuracy`` the sentiment model's measured accuracy (passed through),
    ``campaign`` a CampaignEffect, ``whale`` a WhaleCurve, ``destroyers`` the pair of
    :func:`~crmlab.interactions.profitability.value_destroyers`, ``grid`` the tier grid,
    ``candidates`` the activation candidates (counted), ``reading`` the reader's report
    (:attr:`~crmlab.interactions.read.InteractionLog.report`: rows read, clean, set aside),
    ``sentiment_mean`` the recent window's mean text sentiment (:func:`recent_sentiment_mean`,
    written as ``kpis.sentiment_mean``), ``simulated`` whether the log is the shipped demo
    (:func:`crmlab.interactions.stage.is_demo_log`; top-level ``simulated``, left out when None).

    Returns
    -------
    dict
        ``as_of``, ``window_days``, ``currency``, ``simulated`` (when given), ``kpis`` and one
        section per result.
    """
    out: dict[str, Any] = {"as_of": str(pd.Timestamp(as_of).date()), "window_days": int(window_days),
                           "currency": currency, "kpis": {}}
    if simulated is not None:
        out["simulated"] = bool(simulated)
    k = out["kpis"]
    if sentiment_mean is not None:
        k["sentiment_mean"] = float(sentiment_mean)
    src_log = [SOURCE_LOG]
    if reading is not None:
        keep = ("rows_in", "rows_clean", "rows_quarantined", "by_reason", "types", "channels", "groups",
                "customers", "timestamp_min", "timestamp_max")
        out["reading"] = {"source": ["interactions log (as read)"], **{k: reading.get(k) for k in keep}}
        k.update(contacts_rows_clean=reading.get("rows_clean"), contacts_rows_quarantined=reading.get("rows_quarantined"))
    if trend is not None:
        k.update(contacts_recent=trend.overall["recent"], contacts_previous=trend.overall["previous"],
                 contacts_change=trend.overall["relative_change"])
        out["frequency"] = {"source": src_log + [SOURCE_CUSTOMERS], "trend": trend.overall,
                            "monthly": _records(monthly)}
    if candidates is not None:
        k["activation_candidates"] = len(candidates)
    if mix is not None:
        out["channels"] = {"source": src_log + [SOURCE_CUSTOMERS], "by": mix.by,
                           "shares": _records(mix.shares.reset_index()),
                           "contacts": _records(mix.counts.reset_index())}
    if multichannel is not None:
        out.setdefault("channels", {"source": src_log})
        out["channels"]["multichannel"] = {"source": src_log + [SOURCE_TX], "table": _records(multichannel.table),
                                           "difference": multichannel.difference}
    if rates is not None:
        done = rates[~rates["partial"].astype(bool)]
        k["complaints_per_1000_last_month"] = float(done["rate_per_1000"].iloc[-1]) if len(done) else None
        out["complaints"] = {"source": src_log + [SOURCE_TX],
                             "definition": "complaint contacts per 1,000 customers who purchased or made "
                                           "a contact in the month",
                             "monthly": _records(rates), "trend": complaint_trend}
    if lapse is not None:
        out.setdefault("complaints", {"source": src_log + [SOURCE_TX]})
        out["complaints"]["lapse"] = {"split": str(lapse.split.date()), "period_days": lapse.period_days,
                                      "table": _records(lapse.table), "difference": lapse.difference}
        k["lapse_risk_difference"] = lapse.difference["diff"]
    if sentiment_monthly is not None or sentiment_accuracy is not None:
        out["sentiment"] = {"source": src_log + ["sentiment model"], "accuracy": sentiment_accuracy,
                            "monthly": _records(sentiment_monthly)}
        zh = (sentiment_accuracy or {}).get("chinese") or {}
        if zh:  # the contract's two keys: the Chinese model, the one trained and held out here
            out["sentiment"].update(method=zh.get("method"), holdout_accuracy=zh.get("accuracy"))
    if campaign is not None:
        c = campaign
        out["campaign"] = {"source": src_log + [SOURCE_TX], "name": c.name, "estimable": c.estimable,
                           "reason": c.reason, "window_days": c.window_days, "n_treatment": c.n_treatment,
                           "n_control": c.n_control, "excluded_both_arms": c.excluded_both_arms,
                           "excluded_open_window": c.excluded_open_window}
        if c.estimable:
            out["campaign"].update(conversion=c.conversion, spend=c.spend,
                                   incremental_revenue=c.incremental_revenue, contact_cost=c.contact_cost,
                                   roi=c.roi, margin=c.margin, by_segment=_records(c.by_segment))
            k.update(campaign_conversion_diff=c.conversion["diff"], campaign_incremental_revenue=c.incremental_revenue["value"])
        # the contract's per-campaign summary: effect = conversion difference (treatment - control)
        conv = c.conversion or {}
        out["campaigns"] = {c.name: {
            "estimable": c.estimable, "reason": c.reason, "effect": conv.get("diff"),
            "ci_low": conv.get("low"), "ci_high": conv.get("high"),
            "incremental_revenue": (c.incremental_revenue or {}).get("value"),
            "roi": (c.roi or {}).get("value")}}
    if whale is not None:
        out["profitability"] = {"source": src_log + [SOURCE_TX, SOURCE_CUSTOMERS, "params interactions.costs"],
                                "total_profit": whale.total_profit, "peak_profit": whale.peak_profit,
                                "peak_share": whale.peak_share, "peak_at": whale.peak_at,
                                "customers": whale.customers}
        k.update(total_profit=whale.total_profit, whale_peak_share=whale.peak_share)
    if destroyers is not None:
        overall, by = destroyers
        out.setdefault("profitability", {"source": src_log + [SOURCE_TX]})
        out["profitability"]["destroyers"] = {"overall": overall, "by_group": _records(by)}
        k["value_destroyers_share"] = overall["share"]
    if grid is not None:
        out["tiers"] = {"source": src_log + [SOURCE_TX, SOURCE_CUSTOMERS, "value_predictions.parquet"],
                        "grid": _records(grid)}
    return json_safe(out)
