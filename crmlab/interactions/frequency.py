"""Contact frequency: contacts per customer and month, frequency groups, the trend, activation.

Rules stated once, here:

- **Frequency group** (over the recent window): ``none`` without a contact; among
  contacted customers ``high`` when their contacts reach the upper quartile of contacted
  customers' counts *and* at least 2 (one contact is never "frequent"), else ``low``.
  The threshold is relative to this customer base, so it moves with the data.
- **Trend**: contacts in the recent ``window_days`` against the same length just before,
  per customer and overall; the overall change per customer comes with a 95% paired t
  interval (customers are the units, so a few heavy contacters do not fake precision).
- **Activation candidates**: customers of the ``high`` value tier whose frequency group is
  ``none`` or ``low``: valuable customers the firm rarely hears from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.weightstats import DescrStatsW

from crmlab.interactions.common import (
    check_customers,
    check_log,
    contacts_only,
    in_window,
    month_start,
    windows,
)

__all__ = [
    "FREQUENCY_GROUPS",
    "customer_month_contacts",
    "contacts_per_month",
    "window_contacts",
    "frequency_groups",
    "ContactTrend",
    "contact_trend",
    "activation_candidates",
]

FREQUENCY_GROUPS = ["high", "low", "none"]
_MIN_HIGH = 2  # one contact in a window is never "high frequency"


def customer_month_contacts(log: pd.DataFrame) -> pd.DataFrame:
    """Contacts per customer and calendar month (only customer-months with a contact).

    Parameters
    ----------
    log : DataFrame
        The clean log (``customer_id``, ``timestamp``, ``channel``, ``type``).

    Returns
    -------
    DataFrame
        ``customer_id``, ``month`` (first day, datetime64), ``contacts``.
    """
    log = contacts_only(check_log(log))
    out = (log.assign(month=month_start(log["timestamp"]))
           .groupby(["customer_id", "month"], observed=True).size()
           .rename("contacts").reset_index())
    return out


def contacts_per_month(log: pd.DataFrame, customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Contacts per month, customers contacted, and contacts per customer.

    Parameters
    ----------
    log : DataFrame
        The clean log.
    customers : DataFrame, optional
        The customers table; with it, ``per_customer`` divides by the whole base (who could
        have been in touch), not only by those who were.

    Returns
    -------
    DataFrame
        ``month``, ``contacts``, ``customers_contacted``, ``per_contacted`` (contacts per
        contacted customer), ``per_customer`` (per customer of the base, NaN without it),
        and ``complaints``. Months without a contact between the first and last appear
        with zeros.
    """
    log = contacts_only(check_log(log))
    base = len(check_customers(customers)) if customers is not None else 0
    if log.empty:
        return pd.DataFrame({"month": pd.Series(dtype="datetime64[ns]"), "contacts": 0,
                             "customers_contacted": 0, "per_contacted": np.nan,
                             "per_customer": np.nan, "complaints": 0}).iloc[:0]
    month = month_start(log["timestamp"])
    g = log.assign(month=month, complaint=(log["type"] == "complaint")).groupby("month")
    out = pd.DataFrame({"contacts": g.size(), "customers_contacted": g["customer_id"].nunique(),
                        "complaints": g["complaint"].sum()})
    full = pd.date_range(out.index.min(), out.index.max(), freq="MS")
    out = out.reindex(full, fill_value=0).rename_axis("month").reset_index()
    out["per_contacted"] = out["contacts"] / out["customers_contacted"].where(out["customers_contacted"] > 0)
    out["per_customer"] = out["contacts"] / base if base else np.nan
    out = out.astype({"contacts": "int64", "customers_contacted": "int64", "complaints": "int64"})
    return out[["month", "contacts", "customers_contacted", "per_contacted", "per_customer", "complaints"]]


def window_contacts(log: pd.DataFrame, customers: pd.DataFrame, as_of, window_days: int,
                    types: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Contacts per customer of the base in the recent window and in the one before.

    Parameters
    ----------
    log, customers : DataFrame
        The clean log and the customers table (one output row per customer).
    as_of : date-like
        Last day of the recent window (included).
    window_days : int
        Window length (``interactions.window_days``).
    types : tuple of str, optional
        Count only these contact types (e.g. ``("complaint",)``).

    Returns
    -------
    DataFrame
        ``customer_id``, ``recent``, ``previous`` (int), in the customers table's order.
    """
    log = contacts_only(check_log(log))
    ids = check_customers(customers)["customer_id"]
    if types is not None:
        log = log[log["type"].isin(types)]
    prev, recent, end = windows(as_of, window_days)
    out = pd.DataFrame({"customer_id": ids.to_numpy()})
    for name, (a, b) in {"recent": (recent, end), "previous": (prev, recent)}.items():
        counts = log.loc[in_window(log["timestamp"], a, b), "customer_id"].value_counts()
        out[name] = ids.map(counts).fillna(0).astype("int64").to_numpy()
    return out


def frequency_groups(log: pd.DataFrame, customers: pd.DataFrame, as_of, window_days: int
                     ) -> tuple[pd.DataFrame, float]:
    """Sort customers into ``high``, ``low`` and ``none`` contact frequency (module rule).

    Returns
    -------
    (DataFrame, float)
        ``customer_id``, ``contacts`` (recent window), ``frequency_group``; and the
        threshold a contacted customer must reach to be ``high``.
    """
    counts = window_contacts(log, customers, as_of, window_days)
    c = counts["recent"]
    contacted = c[c > 0]
    q75 = float(contacted.quantile(0.75)) if len(contacted) else float(_MIN_HIGH)
    threshold = max(float(_MIN_HIGH), float(np.ceil(q75)))
    group = np.where(c == 0, "none", np.where(c >= threshold, "high", "low"))
    out = pd.DataFrame({"customer_id": counts["customer_id"], "contacts": c,
                        "frequency_group": pd.Categorical(group, categories=FREQUENCY_GROUPS)})
    return out, threshold


@dataclass(frozen=True)
class ContactTrend:
    """The recent window against the one before.

    Attributes
    ----------
    per_customer : DataFrame
        ``customer_id``, ``recent``, ``previous``, ``change`` (recent - previous),
        ``direction`` (``up``, ``down``, ``same``).
    overall : dict
        ``recent``, ``previous`` (total contacts), ``relative_change`` (recent / previous
        - 1, NaN when previous is 0), ``mean_change`` per customer with ``low``/``high``
        (95% paired t interval), ``customers``, ``up``, ``down``, ``same``, ``window_days``,
        ``method``.
    """

    per_customer: pd.DataFrame
    overall: dict


def contact_trend(log: pd.DataFrame, customers: pd.DataFrame, as_of, window_days: int,
                  level: float = 0.95) -> ContactTrend:
    """Compare contacts in the recent ``window_days`` with the window before.

    Parameters
    ----------
    log, customers : DataFrame
        The clean log and the customers table.
    as_of : date-like
        Last day of the recent window.
    window_days : int
        Window length.
    level : float
        Confidence level of the mean change per customer.

    Returns
    -------
    ContactTrend
    """
    t = window_contacts(log, customers, as_of, window_days)
    t["change"] = t["recent"] - t["previous"]
    t["direction"] = np.select([t["change"] > 0, t["change"] < 0], ["up", "down"], "same")
    recent, previous = int(t["recent"].sum()), int(t["previous"].sum())
    d = t["change"].to_numpy(dtype=np.float64)
    low = high = np.nan
    if d.size >= 2 and d.var() > 0:
        low, high = DescrStatsW(d).tconfint_mean(alpha=1 - level)
    overall = {
        "recent": recent, "previous": previous,
        "relative_change": recent / previous - 1 if previous else np.nan,
        "mean_change": float(d.mean()) if d.size else np.nan, "low": float(low), "high": float(high),
        "customers": int(d.size), "up": int((d > 0).sum()), "down": int((d < 0).sum()),
        "same": int((d == 0).sum()), "window_days": int(window_days), "level": level,
        "method": "paired t interval of the change in contacts per customer",
    }
    return ContactTrend(per_customer=t, overall=overall)


def activation_candidates(log: pd.DataFrame, customers: pd.DataFrame, as_of, window_days: int,
                          tier: str = "high") -> pd.DataFrame:
    """High-value customers with few or no recent contacts, the most valuable first.

    Parameters
    ----------
    log : DataFrame
        The clean log.
    customers : DataFrame
        The customers table with ``value_tier`` (and optionally ``rfm_segment``,
        ``lifecycle_stage``, ``total_spend``, ``monetary_value``, which are carried along;
        the first spend column present orders customers with equal contacts).
    as_of, window_days
        The recent window, as in :func:`frequency_groups`.
    tier : str
        The value tier counted as high value.

    Returns
    -------
    DataFrame
        The candidates: ``customer_id``, ``value_tier``, ``contacts``, ``frequency_group``,
        ``last_contact`` (NaT when never) and the carried columns.
    """
    cust = check_customers(customers, ("value_tier",))
    groups, _ = frequency_groups(log, cust, as_of, window_days)
    log = contacts_only(check_log(log))
    last = log.groupby("customer_id")["timestamp"].max()
    keep = [c for c in ("rfm_segment", "lifecycle_stage", "total_spend", "monetary_value") if c in cust]
    out = cust[["customer_id", "value_tier", *keep]].merge(groups, on="customer_id", how="left")
    out["last_contact"] = out["customer_id"].map(last)
    out = out[(out["value_tier"].astype(str) == tier) & out["frequency_group"].isin(["none", "low"])]
    spend = [c for c in ("total_spend", "monetary_value") if c in out][:1]
    return out.sort_values(["contacts", *spend], ascending=[True] + [False] * len(spend),
                           kind="stable").reset_index(drop=True)
