"""Value tiers by cumulative revenue share, and how concentrated revenue is (Lorenz, Gini).

References
----------
Lorenz, M. O. (1905). Methods of measuring the concentration of wealth. JASA 9(70).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.i18n import EN, Catalog
from crmlab.segmentation.common import TIER_ORDER, run_bounds, text_column, tier_thresholds
from crmlab.segmentation.playbook import tier_strategies

__all__ = ["value_tiers", "tier_table", "Concentration", "concentration"]

_LORENZ_POINTS = 10_000  # above this many customers the Lorenz curve keeps 10,001 points


def value_tiers(customers: pd.DataFrame, tiers: Mapping[str, Any], *,
                order: np.ndarray | None = None) -> pd.DataFrame:
    """Assign value tiers by cumulative revenue share.

    Customers are ranked by ``total_spend``; a customer is ``high`` when the customers
    spending strictly more than them make less than ``tiers.high`` of revenue (so the
    customer who crosses the threshold is still high), ``medium`` below ``tiers.medium``,
    else ``low``. Customers with equal spend always share a tier.

    Parameters
    ----------
    customers : DataFrame
        Column ``total_spend``.
    tiers : mapping
        ``high`` and ``medium`` cumulative revenue shares (params ``segmentation.tiers``).
    order : ndarray, optional
        ``np.argsort`` of ``total_spend``, when the caller has it (the M score sorts it too).

    Returns
    -------
    DataFrame
        A copy with ``value_tier`` in ``high``, ``medium``, ``low``.

    Raises
    ------
    InputError
        On a missing column, bad thresholds, or no positive revenue to share.
    """
    require_columns(customers, ["total_spend"], "customers")
    high, medium = tier_thresholds(tiers)
    spend = customers["total_spend"].to_numpy(dtype=np.float64)
    total = spend.sum()
    if not total > 0:
        raise InputError("customers: 'total_spend' sums to no positive revenue; tiers need revenue")
    if order is None or len(order) != len(spend):
        order = np.argsort(spend)  # ties share a tier whatever their order here
    asc = spend[order]
    upto = np.concatenate([[0.0], np.cumsum(asc)])
    # in sorted order: the revenue of customers spending strictly more (past the run of
    # equal spends), then each tier scattered back once
    above = total - upto[run_bounds(asc, "right")]
    share_above = above / total
    df = customers.copy(deep=False)  # copy-on-write: nothing is duplicated
    tier = np.empty(len(spend), dtype=np.int64)
    tier[order] = np.where(share_above < high, 0, np.where(share_above < medium, 1, 2))
    df["value_tier"] = text_column(["high", "medium", "low"], tier, df.index)
    return df


def tier_table(customers: pd.DataFrame, tiers: Mapping[str, Any], *,
               tr: Catalog = EN) -> pd.DataFrame:
    """Size, revenue and strategy of each value tier.

    Parameters
    ----------
    customers : DataFrame
        Columns ``value_tier`` and ``total_spend``.
    tiers : mapping
        ``segmentation.tiers``: the thresholds, for the ``rule`` text (see
        :func:`crmlab.segmentation.playbook.tier_strategies`).

    Returns
    -------
    DataFrame
        Columns ``value_tier``, ``customers``, ``customer_share``, ``revenue``,
        ``revenue_share``, ``mean_spend``, ``rule``, ``strategy``; rows high, medium, low
        (a tier with no customer is listed with zeros).

    Raises
    ------
    InputError
        On a missing column.
    """
    require_columns(customers, ["value_tier", "total_spend"], "customers")
    g = customers.groupby("value_tier", sort=False)["total_spend"].agg(["size", "sum"])
    g = g.reindex(TIER_ORDER, fill_value=0)
    n, rev = len(customers), customers["total_spend"].sum()
    out = pd.DataFrame(
        {
            "value_tier": TIER_ORDER,
            "customers": g["size"].to_numpy(np.int64),
            "customer_share": g["size"].to_numpy(np.float64) / max(n, 1),
            "revenue": g["sum"].to_numpy(np.float64),
            "revenue_share": g["sum"].to_numpy(np.float64) / rev if rev else np.nan,
            "mean_spend": np.divide(
                g["sum"].to_numpy(np.float64), g["size"].to_numpy(np.float64),
                out=np.full(len(g), np.nan), where=g["size"].to_numpy() > 0,
            ),
        }
    )
    return out.merge(tier_strategies(tiers, tr=tr), on="value_tier", how="left")


@dataclass(frozen=True)
class Concentration:
    """How concentrated revenue is across customers.

    Attributes
    ----------
    lorenz : DataFrame
        ``customer_share`` and ``revenue_share``: the Lorenz curve from (0, 0) to (1, 1),
        customers sorted from the smallest to the largest spender (one point per customer
        up to 10,000 customers, else 10,001 evenly spaced points of the exact curve).
    gini : float
        Gini coefficient, 0 (everyone spends the same) to almost 1 (one customer has it all).
    top : float
        The top share of customers asked about (e.g. 0.2).
    top_share : float
        Share of revenue made by that top share of customers (the "80/20" check).
    customers : int
        Number of customers.
    clipped : int
        Customers with negative spend (net refunds) counted as 0 for the curve.
    """

    lorenz: pd.DataFrame = field(repr=False)
    gini: float
    top: float
    top_share: float
    customers: int
    clipped: int

    def at(self, points: int = 21) -> pd.DataFrame:
        """Read the Lorenz curve at evenly spaced customer shares (0, 5 %, ..., 100 %).

        Parameters
        ----------
        points : int
            Number of evenly spaced points from 0 to 1 (at least 2).

        Returns
        -------
        DataFrame
            ``customer_share`` and ``revenue_share`` (linear between customers): "the
            smallest x % of customers make y % of revenue", a table people can read.

        Raises
        ------
        InputError
            When ``points`` is below 2.
        """
        if points < 2:
            raise InputError(f"concentration: need at least 2 points, got {points}")
        u = np.linspace(0.0, 1.0, points)
        y = np.interp(u, self.lorenz["customer_share"], self.lorenz["revenue_share"])
        return pd.DataFrame({"customer_share": u, "revenue_share": y})


def concentration(spend: Sequence[float] | pd.Series, top: float) -> Concentration:
    """Lorenz curve, Gini coefficient and the revenue share of the top customers.

    Parameters
    ----------
    spend : array-like of float
        Revenue per customer (e.g. ``customers["total_spend"]``). Negative values (net
        refunds) are counted as zero and reported in ``clipped``.
    top : float
        Share of customers for :attr:`Concentration.top_share`, in (0, 1)
        (``report.top_share``).

    Returns
    -------
    Concentration
        With ``gini = 1 - 2 * (area under the Lorenz curve)`` (trapezoids over the
        customers, the usual discrete Gini ``sum((2i - n - 1) x_(i)) / (n sum x)``) and the
        top share read off the Lorenz curve, interpolating linearly between customers.

    Raises
    ------
    InputError
        On missing values, no customers, no positive revenue, or ``top`` outside (0, 1).

    References
    ----------
    Lorenz, M. O. (1905). Methods of measuring the concentration of wealth. JASA 9(70).
    """
    x = np.asarray(spend, dtype=np.float64)
    if not 0 < top < 1:
        raise InputError(f"concentration: top share {top} must be between 0 and 1")
    if x.size == 0:
        raise InputError("concentration: no customers")
    if np.isnan(x).any():
        raise InputError(f"concentration: {int(np.isnan(x).sum())} missing spend values")
    clipped = int((x < 0).sum())
    x = np.sort(np.clip(x, 0, None))
    total = x.sum()
    if not total > 0:
        raise InputError("concentration: spend sums to no positive revenue")
    n = x.size
    cust = np.arange(n + 1) / n
    rev = np.concatenate([[0.0], np.cumsum(x) / total])
    rev[-1] = 1.0  # exact end point despite rounding in the cumulative sum
    i = np.arange(1, n + 1)
    gini = float(((2 * i - n - 1) * x).sum() / (n * total))
    top_share = float(1.0 - np.interp(1.0 - top, cust, rev))
    if n > _LORENZ_POINTS:
        # the curve of millions of customers is kept at 10,001 of its points (exact values
        # there; a figure cannot show more, and drawing millions of points takes minutes)
        keep = np.unique(np.round(np.linspace(0, n, _LORENZ_POINTS + 1)).astype(np.int64))
        cust, rev = cust[keep], rev[keep]
    lorenz = pd.DataFrame({"customer_share": cust, "revenue_share": rev})
    return Concentration(lorenz, gini, float(top), top_share, n, clipped)
