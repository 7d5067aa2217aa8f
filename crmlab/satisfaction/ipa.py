"""Where to act? Martilla & James's importance-performance map of the drivers.

Importance (share of R², or a total effect) runs up, performance (0-100 index) across;
the cross-hair sits in the middle of the drivers' range, so "high" compares a driver with
the other drivers. Advice to improve is given only for drivers the firm can act on.

References
----------
Martilla & James (1977), "Importance-performance analysis", Journal of Marketing 41(1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmlab.errors import InputError
from crmlab.i18n import EN, Catalog

__all__ = [
    "QUADRANTS",
    "NOT_A_LEVER",
    "NOT_ACTIONABLE",
    "CROSSHAIRS",
    "EMPTY_ACTIONS",
    "ipm_crosshair",
    "actionable_drivers",
    "quadrant_of",
    "importance_performance",
]

# Martilla & James (1977) quadrant -> (advice for a driver the firm can act on, rank order).
# "high" = at or above the cross-hair (ipm_crosshair), so the words compare a driver with the
# other drivers, not with an absolute bar.
QUADRANTS: dict[str, tuple[str, int]] = {
    "concentrate here": (
        "more important than most drivers but weaker: improve it first",
        1,
    ),
    "keep up the good work": ("important and strong: keep it at this level", 2),
    "low priority": ("less important and weaker: low priority, keep watching", 3),
    "possible overkill": (
        "strong but less important: check whether effort here could go elsewhere",
        4,
    ),
}
# The same quadrants for a driver the firm cannot set directly (see NOT_ACTIONABLE).
NOT_A_LEVER: dict[str, str] = {
    "concentrate here": (
        "important and weaker, but not a lever: do not budget for it as such; shape it "
        "through what the firm does control (promises in advertising, onboarding)"
    ),
    "keep up the good work": "important and strong, but not a lever: keep watching it",
    "low priority": "less important and weaker, and not a lever: nothing to do",
    "possible overkill": "strong but less important, and not a lever: nothing to do",
}
# Constructs that are not levers unless survey.actionable says otherwise: customers'
# expectations before buying (ECSI/ACSI) are formed by word of mouth, past experience and
# the market; the firm influences them only through what it promises.
NOT_ACTIONABLE = frozenset({"expectation", "expectations", "customer expectations"})
CROSSHAIRS = ("midrange", "mean")


EMPTY_ACTIONS = pd.DataFrame(
    {
        "rank": pd.Series(dtype="int64"),
        "construct": pd.Series(dtype=object),
        "importance": pd.Series(dtype="float64"),
        "performance": pd.Series(dtype="float64"),
        "beta": pd.Series(dtype="float64"),
        "quadrant": pd.Series(dtype=object),
        "action": pd.Series(dtype=object),
    }
)


def ipm_crosshair(
    importance: pd.Series | Sequence[float],
    performance: pd.Series | Sequence[float],
    method: str = "midrange",
) -> tuple[float, float]:
    """Where the importance-performance map's cross-hair sits.

    Parameters
    ----------
    importance, performance : sequence of float
        The drivers' importance (share of R²) and performance (0-100 index).
    method : {"midrange", "mean"}
        ``midrange`` (default, data-centred): half way between the lowest and the highest
        driver on each axis. ``mean``: the drivers' mean importance and mean performance —
        with importance as shares of R² the mean is always 1/p, whatever the data, which is
        why it is not the default.

    Returns
    -------
    (float, float)
        Importance cut, performance cut.

    Raises
    ------
    InputError
        Unknown ``method`` or no drivers.
    """
    if method not in CROSSHAIRS:
        raise InputError(f"ipm_crosshair: method {method!r} is not one of {', '.join(CROSSHAIRS)}")
    imp = np.asarray(importance, dtype=float)
    perf = np.asarray(performance, dtype=float)
    if imp.size == 0 or perf.size == 0:
        raise InputError("ipm_crosshair: no drivers")
    if method == "mean":
        return float(imp.mean()), float(perf.mean())
    return float((imp.min() + imp.max()) / 2), float((perf.min() + perf.max()) / 2)


def actionable_drivers(drivers: Sequence[str], actionable: Sequence[str] | None = None) -> list[str]:
    """List the drivers a firm can change directly (the only ones advice may say to improve).

    Parameters
    ----------
    drivers : sequence of str
        The driver constructs.
    actionable : sequence of str, optional
        The params' ``survey.actionable``. ``None`` means every driver except those named
        like :data:`NOT_ACTIONABLE` (the ECSI/ACSI *Expectation* construct: what customers
        expected before buying is formed by word of mouth, past experience and the market,
        not set by the firm).

    Returns
    -------
    list of str
        The actionable drivers, in driver order.

    Raises
    ------
    InputError
        ``actionable`` names a construct that is not a driver.
    """
    drivers = list(drivers)
    if actionable is None:
        return [d for d in drivers if d.strip().lower() not in NOT_ACTIONABLE]
    for name in actionable:
        if name not in drivers:
            raise InputError(
                f"survey: key 'survey.actionable': {name!r} is not one of the drivers "
                f"({', '.join(drivers)})"
            )
    return [d for d in drivers if d in set(actionable)]


def quadrant_of(
    importance: pd.Series, performance: pd.Series, cuts: tuple[float, float]
) -> np.ndarray:
    """Martilla & James quadrant per driver, given the cross-hair ``(importance, performance)``.

    At or above a cut counts as high, so a driver exactly on the cross-hair is "high".
    """
    hi_imp = np.asarray(importance, dtype=float) >= cuts[0]
    hi_perf = np.asarray(performance, dtype=float) >= cuts[1]
    return np.select(
        [hi_imp & ~hi_perf, hi_imp & hi_perf, ~hi_imp & ~hi_perf],
        ["concentrate here", "keep up the good work", "low priority"],
        default="possible overkill",
    )


def importance_performance(
    drivers: pd.DataFrame,
    index: pd.DataFrame,
    actionable: Sequence[str] | None = None,
    crosshair: str = "midrange",
    *,
    tr: Catalog = EN,
) -> pd.DataFrame:
    """Place each driver on Martilla & James's importance-performance map and rank actions.

    Importance is the driver's share of R²; performance its 0-100 index. The cross-hair is
    :func:`ipm_crosshair` (default: the middle of the drivers' range on each axis), so
    "high" compares a driver with the other drivers, not with an absolute bar. Advice to
    improve a driver is given only for drivers the firm can act on
    (:func:`actionable_drivers`); for the others it says what to do instead.

    Parameters
    ----------
    drivers : DataFrame
        :attr:`DriverResult.table` (``construct``, ``importance``, ``beta``).
    index : DataFrame
        :func:`satisfaction_index` output (``construct``, ``index``).
    actionable : sequence of str, optional
        The drivers the firm can change (``survey.actionable``); default: all but
        Expectation.
    crosshair : {"midrange", "mean"}
        Where the cross-hair sits.
    tr : Catalog, optional
        The language of the ``action`` sentences (default English: :data:`QUADRANTS`,
        :data:`NOT_A_LEVER`); ``quadrant`` keeps its English code.

    Returns
    -------
    DataFrame
        ``rank``, ``construct``, ``importance``, ``performance``, ``beta``, ``quadrant``,
        ``actionable``, ``action``, ``importance_cut``, ``performance_cut`` (the
        cross-hair), ranked by quadrant (concentrate here, keep up the good work, low
        priority, possible overkill), actionable drivers first, then by importance.

    Raises
    ------
    InputError
        Missing columns, a driver without an index, an unknown cross-hair, or an actionable
        name that is not a driver.

    References
    ----------
    Martilla & James (1977), "Importance-performance analysis", Journal of Marketing 41(1).
    """
    for frame, cols, what in (
        (drivers, ("construct", "importance", "beta"), "drivers"),
        (index, ("construct", "index"), "index"),
    ):
        for col in cols:
            if col not in frame.columns:
                raise InputError(f"importance_performance: {what} table has no column {col!r}")
    perf = index.set_index("construct")["index"]
    missing = [c for c in drivers["construct"] if c not in perf.index]
    if missing:
        raise InputError(f"importance_performance: driver {missing[0]!r} has no index")
    levers = set(actionable_drivers(drivers["construct"].tolist(), actionable))
    df = drivers[["construct", "importance", "beta"]].copy()
    df["performance"] = df["construct"].map(perf).astype(float)
    cuts = ipm_crosshair(df["importance"], df["performance"], crosshair)
    df["quadrant"] = quadrant_of(df["importance"], df["performance"], cuts)
    df["actionable"] = df["construct"].isin(levers)
    df["action"] = [
        tr(f"satisfaction.action.{'lever' if lever else 'not_lever'}.{q}")
        for q, lever in zip(df["quadrant"], df["actionable"], strict=True)
    ]
    df["importance_cut"], df["performance_cut"] = cuts
    order = df["quadrant"].map({k: v[1] for k, v in QUADRANTS.items()})
    df = df.assign(_order=order, _lever=~df["actionable"]).sort_values(
        ["_order", "_lever", "importance"], ascending=[True, True, False], kind="stable"
    )
    df = df.drop(columns=["_order", "_lever"]).reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df[["rank", "construct", "importance", "performance", "beta", "quadrant",
               "actionable", "action", "importance_cut", "performance_cut"]]
