"""The BG/NBD x Gamma-Gamma benchmark (:mod:`crmlab.btyd`) and its purchase timing.

The benchmark's forecast of a window is the *anchor* the regressions correct; its
cumulative expected purchases spread a forecast total over weeks (tracking) and months
(CLV).

References
----------
Fader, Hardie & Lee (2005), Marketing Science 24(2); Fader, Hardie & Lee (2005), JMR 42(4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmlab.btyd import BetaGeo, GammaGamma
from crmlab.errors import InputError, require_columns
from crmlab.i18n import EN, Catalog

__all__ = [
    "BENCHMARK_COLUMNS",
    "Benchmark",
    "fit_benchmark",
    "benchmark_params_table",
    "cumulative_expected",
    "weekly_timing",
    "holdout_timing",
]


@dataclass
class Benchmark:
    """BG/NBD and Gamma-Gamma fitted at one origin.

    Attributes
    ----------
    bgnbd : BetaGeo
        Fitted on every customer (time unit: days).
    gamma_gamma : GammaGamma
        Fitted on repeat buyers with a positive mean repeat spend.
    gg_excluded : int
        Repeat buyers left out of the Gamma-Gamma fit because their mean repeat spend
        is not positive (zero-dollar purchases); they get the population mean spend.
    spend_frequency_corr : float
        Pearson correlation of frequency and mean spend among the Gamma-Gamma customers;
        Gamma-Gamma assumes it is near 0.
    """

    bgnbd: BetaGeo
    gamma_gamma: GammaGamma
    gg_excluded: int
    spend_frequency_corr: float

    def params(self) -> dict[str, float]:
        """All seven parameters in one flat dict (``r, alpha, a, b, p, q, gamma``)."""
        return {**self.bgnbd.params_, **self.gamma_gamma.params_}


def fit_benchmark(summary: pd.DataFrame) -> Benchmark:
    """Fit BG/NBD (all customers) and Gamma-Gamma (repeat buyers) on a customer summary.

    Parameters
    ----------
    summary : DataFrame
        Columns ``frequency``, ``recency``, ``T`` (days) and ``monetary_value``, as
        :func:`crmlab.features.customer_summary` returns them.

    Returns
    -------
    Benchmark
        The two fitted models and the checks of the Gamma-Gamma assumptions.

    Raises
    ------
    InputError
        Missing column, or fewer than 2 repeat buyers with positive spend.
    crmlab.btyd.ConvergenceError
        A fit did not converge.

    References
    ----------
    Fader, Hardie & Lee (2005), Marketing Science 24(2); Fader, Hardie & Lee (2005), JMR 42(4).
    """
    require_columns(summary, ["frequency", "recency", "T", "monetary_value"], "customer summary")
    repeat = summary["frequency"] > 0
    ok = repeat & (summary["monetary_value"] > 0)
    # checked before any fit: too little history is an input problem, not a convergence one
    if ok.sum() < 2:
        raise InputError(
            f"transactions: only {int(ok.sum())} customers have repeat purchases with positive "
            "spend before the cut-off; the Gamma-Gamma spend model needs more history"
        )
    bg = BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"])
    gg = GammaGamma().fit(summary.loc[ok, "frequency"], summary.loc[ok, "monetary_value"])
    corr = np.corrcoef(summary.loc[ok, "frequency"], summary.loc[ok, "monetary_value"])[0, 1]
    return Benchmark(bg, gg, int((repeat & ~ok).sum()), float(corr))


#: Columns that come from the BG/NBD and Gamma-Gamma fit (NaN when the benchmark failed).
BENCHMARK_COLUMNS = ("p_alive", "expected_purchases", "expected_spend", "pred_bgnbd_gg",
                     "expected_rate", "benchmark_rate")


def cumulative_expected(features: pd.DataFrame, bgnbd: BetaGeo, days: Sequence[float]) -> np.ndarray:
    """BG/NBD cumulative expected purchases after the origin, at each of ``days``.

    Parameters
    ----------
    features : DataFrame
        Columns ``frequency``, ``recency``, ``T`` (days), one row per customer.
    bgnbd : BetaGeo
        Fitted at the origin of ``features``.
    days : sequence of float
        Positive times after the origin, increasing.

    Returns
    -------
    numpy.ndarray
        Shape (customers, len(days)).

    Raises
    ------
    InputError
        Missing column or a non-positive time.
    """
    require_columns(features, ["frequency", "recency", "T"], "features")
    cols = [
        bgnbd.expected_purchases(float(d), features["frequency"], features["recency"], features["T"])
        for d in days
    ]
    return np.column_stack(cols) if cols else np.empty((len(features), 0))


def weekly_timing(features: pd.DataFrame, bgnbd: BetaGeo, horizon_days: float) -> np.ndarray:
    """Share of each customer's expected holdout purchases made by the end of each week.

    Parameters
    ----------
    features : DataFrame
        Columns ``frequency``, ``recency``, ``T`` at the origin.
    bgnbd : BetaGeo
        Fitted at the origin.
    horizon_days : float
        Holdout length; the last week may be shorter than 7 days.

    Returns
    -------
    numpy.ndarray
        Shape (customers, weeks), increasing along each row, last column 1.

    Raises
    ------
    InputError
        Missing column or a non-positive horizon.
    """
    if not horizon_days > 0:
        raise InputError(f"horizon_days: must be > 0, got {horizon_days}")
    weeks = int(np.ceil(horizon_days / 7))
    ends = np.minimum(7.0 * np.arange(1, weeks + 1), horizon_days)
    cum = cumulative_expected(features, bgnbd, ends)
    last = cum[:, -1:]
    # a customer expected to buy (numerically) nothing: spread evenly over the days
    even = np.broadcast_to(ends / horizon_days, cum.shape)
    return np.where(last > 0, cum / np.where(last > 0, last, 1.0), even)


def holdout_timing(features: pd.DataFrame, benchmark: Benchmark | None, horizon_days: float) -> np.ndarray:
    """Weekly timing of the holdout: the BG/NBD's, or an even spread without a benchmark.

    Parameters
    ----------
    features : DataFrame
        Columns ``frequency``, ``recency``, ``T`` at the origin, one row per customer.
    benchmark : Benchmark or None
        Fitted at the origin; None when the fit failed (each forecast is then spread
        evenly over the days of the holdout).
    horizon_days : float
        Holdout length.

    Returns
    -------
    numpy.ndarray
        Shape (customers, weeks), as :func:`weekly_timing`.

    Raises
    ------
    InputError
        Missing column or a non-positive horizon.
    """
    if benchmark is not None:
        return weekly_timing(features, benchmark.bgnbd, horizon_days)
    if not horizon_days > 0:
        raise InputError(f"horizon_days: must be > 0, got {horizon_days}")
    weeks = int(np.ceil(horizon_days / 7))
    return np.broadcast_to(np.minimum(7.0 * np.arange(1, weeks + 1), horizon_days) / horizon_days,
                           (len(features), weeks))


def benchmark_params_table(benchmark: Benchmark | None, currency: str = "", tr: Catalog = EN) -> pd.DataFrame:
    """Tabulate the seven benchmark parameters with their units, and the BG/NBD scale in weeks.

    Parameters
    ----------
    benchmark : Benchmark or None
        None when the fit failed: the table is then empty.
    currency : str
        ``report.currency``, the unit of the Gamma-Gamma scale ``gamma``.
    tr : Catalog
        The run's catalog (``ctx.tr``): the words of the ``unit`` column.

    Returns
    -------
    DataFrame
        ``parameter``, ``estimate``, ``unit``; ``alpha`` a second time in weeks (the unit
        of the published CDNOW estimates).
    """
    if benchmark is None:
        return pd.DataFrame(columns=["parameter", "estimate", "unit"])
    bp = benchmark.params()
    none = tr("value.unit.none")
    units = {"r": none, "alpha": tr("value.unit.days"), "a": none, "b": none, "p": none, "q": none,
             "gamma": tr("value.unit.money", currency=currency or tr("value.unit.currency"))}
    table = pd.DataFrame({"parameter": list(bp), "estimate": list(bp.values()),
                          "unit": [units.get(k, "") for k in bp]})
    weeks = pd.DataFrame({"parameter": ["alpha"], "estimate": [bp["alpha"] / 7], "unit": [tr("value.unit.weeks")]})
    return pd.concat([table, weeks], ignore_index=True)
