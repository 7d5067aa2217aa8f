"""Early warning from purchases alone: every input at one as-of date, sized to the team.

A customer whose time since the last purchase exceeds their own typical inter-purchase gap
by a factor is *overdue*; a repeat buyer with a low BG/NBD probability of still being
active warns as well (a one-time buyer's P(alive) is 1 by construction and is not used).
The riskiest candidates, by the probability of no purchase over a horizon, are warned up
to the contact capacity; the call list orders them by what they have spent.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way:
an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284 (``p_alive``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from crmlab.churn.narrative import falling_sentiment_reason, rising_complaints_reason
from crmlab.churn.ranking import PURCHASES, RANKINGS, WITH_INTERACTIONS
from crmlab.errors import InputError, require_columns
from crmlab.i18n import EN, Catalog

__all__ = [
    "FALLBACK_HORIZON_DAYS",
    "warning_horizon",
    "warning_inputs",
    "transactional_warning",
    "warning_call_list",
]

# Forecast window of the lapse probability when the params set no calibration_end (no
# holdout whose length could serve): about one quarter.
FALLBACK_HORIZON_DAYS = 90


def warning_horizon(as_of: Any, calibration_end: Any = None) -> int:
    """Days over which a lapse is forecast: the holdout's length, ``as_of - calibration_end``.

    The backtest checks the flags raised at ``calibration_end`` over the same number of
    days, so the warning and its check speak of one horizon. Without a ``calibration_end``
    it is :data:`FALLBACK_HORIZON_DAYS`. (A horizon that is not positive is refused by
    :func:`warning_inputs`.)
    """
    if calibration_end is None:
        return FALLBACK_HORIZON_DAYS
    return (pd.Timestamp(as_of) - pd.Timestamp(calibration_end)).days


_BASE_COLUMNS = ["customer_id", "days_since_last", "gap_mean"]


_EXTRA_COLUMNS = ["frequency", "total_spend", "value_tier", "lifecycle_stage"]


_INPUT_COLUMNS = ["customer_id", "as_of", "frequency", "recency", "T", "days_since_last",
                  "gap_mean", "total_spend"]


def warning_inputs(
    transactions: pd.DataFrame,
    as_of: Any,
    horizon_days: float,
    customers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    r"""Every input of the purchase-based warning, taken at one date ``as_of``.

    Purchases after ``as_of`` are ignored; the purchase rhythm (``days_since_last``,
    ``gap_mean``, ``frequency``, ``recency``, ``T``, ``total_spend``) comes from
    :func:`crmlab.features.customer_summary` at ``as_of``, and a BG/NBD model is fitted on
    those same features, so P(alive) and the lapse probability describe the same day as the
    recency they are read with. (Mixing dates -- P(alive) at ``calibration_end``, recency
    at ``observation_end`` -- put a customer who had bought five days earlier at the top of
    the list.)

    The **lapse probability** is the probability of no purchase in the next ``horizon_days``:

    .. math:: P(X(t)=0) = 1 - P(\text{alive})\left[1 -
       \left(\frac{\alpha+T}{\alpha+T+t}\right)^{r+x}\right]

    (alive customers buy as a Poisson process whose rate has the Gamma posterior
    :math:`\Gamma(r+x, \alpha+T)`). For a one-time buyer BG/NBD sets P(alive) to 1 by
    construction -- nobody can drop out before a repeat purchase -- so P(alive) says nothing
    about them; their lapse probability is driven only by how long ago their single purchase
    was, compared with the purchase rates of the whole cohort.

    Parameters
    ----------
    transactions : DataFrame
        Clean transactions: ``customer_id``, ``date``, ``amount``.
    as_of : date-like
        The one date every input is taken at.
    horizon_days : float
        Forecast window of the lapse probability, days (> 0).
    customers : DataFrame, optional
        ``customer_id`` with ``value_tier``/``lifecycle_stage`` labels to carry along (only
        pass a table observed at ``as_of``: they are shown, never used to flag).

    Returns
    -------
    DataFrame
        ``customer_id``, ``as_of``, ``frequency``, ``recency``, ``T``, ``days_since_last``,
        ``gap_mean`` (NaN for one-time buyers), ``total_spend``, ``p_alive``,
        ``lapse_probability`` (both NaN when BG/NBD cannot be fitted, e.g. no repeat buyer)
        and the optional labels; sorted by ``customer_id``. ``attrs["bgnbd"]`` holds the
        fitted parameters or why there are none.

    Raises
    ------
    InputError
        Missing columns, ``horizon_days`` not positive, or no purchase up to ``as_of``.
    """
    from crmlab.btyd import BetaGeo, ConvergenceError
    from crmlab.features import customer_summary

    require_columns(transactions, ["customer_id", "date", "amount"], "transactions")
    if not horizon_days or horizon_days <= 0:
        raise InputError(f"transactional warning: horizon_days must be > 0, got {horizon_days}")
    as_of = pd.Timestamp(as_of)
    summary = customer_summary(transactions, as_of)
    if summary.empty:
        raise InputError(f"transactional warning: no purchase on or before {as_of:%Y-%m-%d}")
    base = summary[[c for c in _INPUT_COLUMNS if c != "as_of"]].copy()
    base.insert(1, "as_of", as_of)
    base["p_alive"] = np.nan
    base["lapse_probability"] = np.nan
    x, t_x, t = (base[c].to_numpy(dtype=np.float64) for c in ("frequency", "recency", "T"))
    try:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):  # a failed fit raises below
            bg = BetaGeo().fit(x, t_x, t)
    except (InputError, ConvergenceError) as exc:
        base.attrs["bgnbd"] = {"fitted": False, "why": str(exc)}
    else:
        r, alpha = bg.params_["r"], bg.params_["alpha"]
        alive = bg.p_alive(x, t_x, t)
        silent = np.exp((r + x) * (np.log(alpha + t) - np.log(alpha + t + horizon_days)))
        base["p_alive"] = alive
        base["lapse_probability"] = 1.0 - alive * (1.0 - silent)
        base.attrs["bgnbd"] = {"fitted": True, **bg.params_, "unit": "days"}
    if customers is not None and "customer_id" in customers.columns:
        extra = [c for c in ("value_tier", "lifecycle_stage") if c in customers.columns]
        if extra:
            attrs = base.attrs
            base = base.merge(customers[["customer_id", *extra]].drop_duplicates("customer_id"),
                              on="customer_id", how="left")
            base.attrs = attrs
    base.attrs["horizon_days"] = float(horizon_days)
    return base.sort_values("customer_id", kind="stable").reset_index(drop=True)


def transactional_warning(base: pd.DataFrame, params: Any, signals: pd.DataFrame | None = None,
                          ranking: str = PURCHASES, tr: Catalog = EN) -> pd.DataFrame:
    """Flag the customers most likely to have lapsed, sized to the team's contact capacity.

    Two signals make a customer a **candidate**:

    - *overdue*: for customer *i* with mean inter-purchase gap :math:`g_i` (days) and
      :math:`d_i` days since the last purchase, the gap ratio :math:`r_i = d_i / g_i`
      exceeds ``gap_factor``. One-time buyers have no gap of their own: they are measured
      against their cohort's rhythm, ``one_time_gap`` days (by default the median gap of
      the repeat buyers);
    - *low P(alive)*: BG/NBD's probability of still being active is below
      ``p_alive_threshold`` -- for **repeat buyers only**: a one-time buyer's P(alive) is 1
      by construction, so it is shown with that note and never used for them.

    Candidates are ranked by their lapse probability (no purchase over the horizon, see
    :func:`warning_inputs`; by gap ratio when BG/NBD could not be fitted) and the top
    ceil(``capacity`` x customers) are **warned**: a list a team can work through, not a
    share of the base.

    With ``signals`` (:func:`crmlab.churn.signals.interaction_signals`), customers with
    *rising complaints* or *falling sentiment* get them as reasons. Whether the signals also
    **rank** the warning is ``ranking``:

    - ``"purchases"`` (the default): the flags are exactly the purchase-only warning's; the
      signals are information for the retention team, not a reason to call;
    - ``"purchases+interactions"``: a signalled customer is a candidate too, and signalled
      candidates are ranked **ahead** of the others (by lapse probability within each
      group); the capacity does not change. A fixed order, not a weighted score: it has no
      weight to fit. Use it only when the warning backtest shows it is better
      (:func:`crmlab.churn.ranking.ranking_decision`).

    Without ``signals`` the result is exactly the purchase-only warning (``ranking`` unused).

    Parameters
    ----------
    base : DataFrame
        From :func:`warning_inputs`: ``customer_id``, ``as_of`` (one date), ``days_since_last``,
        ``gap_mean`` (NaN for one-time buyers); optional ``frequency``, ``p_alive``,
        ``lapse_probability``, ``total_spend``, ``value_tier``, ``lifecycle_stage``.
    params : params section
        The validated ``churn_warning`` section: ``gap_factor``, ``one_time_gap`` (None =
        the repeat buyers' median gap), ``p_alive_threshold``, ``capacity``.
    signals : DataFrame, optional
        Interaction signals per customer (``customer_id``, ``rising_complaints``,
        ``falling_sentiment`` and their counts); a customer missing from it has none.
    ranking : {"purchases", "purchases+interactions"}
        Whether the signals re-rank the warning (see above).
    tr : Catalog
        Language of the ``reason`` sentences (display only; English by default). Every other
        column is the same in every language.

    Returns
    -------
    DataFrame
        ``customer_id``, ``as_of``, ``days_since_last``, ``typical_gap``, ``gap_basis``
        (``own`` or ``shop median`` / ``one_time_gap``), ``gap_ratio``, ``one_time_buyer``,
        ``p_alive``, ``lapse_probability``, ``overdue``, ``low_p_alive``, ``candidate``,
        ``warning``, ``reason``, ``priority_value`` (spend up to ``as_of``), then the
        optional columns of ``base``; with ``signals`` also ``rising_complaints``,
        ``falling_sentiment``, ``interaction_signal`` and ``ranking`` (the ranking used);
        sorted by ``customer_id``.

    Raises
    ------
    InputError
        Missing columns, inputs at more than one date, ``capacity`` not in (0, 1], an
        unknown ``ranking``, or no repeat buyer to learn a typical gap from while ``one_time_gap`` is null.
    """
    require_columns(base, [*_BASE_COLUMNS, "as_of"], "warning inputs")
    dates = pd.to_datetime(base["as_of"]).dropna().unique()
    if len(dates) != 1 or base["as_of"].isna().any():
        raise InputError(
            f"transactional warning: inputs must share one as_of date, found {len(dates)} "
            f"({', '.join(f'{pd.Timestamp(d):%Y-%m-%d}' for d in dates[:3])})"
        )
    factor = float(params.gap_factor)
    fixed = params.one_time_gap
    threshold = float(params.p_alive_threshold)
    capacity = float(params.capacity)
    if not 0 < capacity <= 1:
        raise InputError(f"key 'churn_warning.capacity': {capacity} must be in (0, 1]")
    if ranking not in RANKINGS:
        raise InputError(f"transactional warning: ranking must be one of {', '.join(RANKINGS)}, got {ranking!r}")
    df = base.copy()
    own = df["gap_mean"].astype("float64")
    if fixed is None:
        repeat = own.dropna()  # NaN = one-time buyers, handled by the fallback below
        if repeat.empty:
            raise InputError(
                "transactional warning: no repeat buyer to learn a typical gap from; "
                "set churn_warning.one_time_gap (days)"
            )
        fallback, basis = float(repeat.median()), "shop median"
    else:
        fallback, basis = float(fixed), "one_time_gap"
    df["one_time_buyer"] = own.isna().to_numpy()
    df["typical_gap"] = own.fillna(fallback).clip(lower=1.0)  # same-day gaps do not exist
    df["gap_basis"] = np.where(own.notna(), "own", basis)
    df["gap_ratio"] = df["days_since_last"].astype("float64") / df["typical_gap"]
    for col in ("p_alive", "lapse_probability"):
        df[col] = df[col].astype("float64") if col in df else np.nan
    df["priority_value"] = df["total_spend"].astype("float64") if "total_spend" in df else np.nan
    df["overdue"] = df["gap_ratio"] > factor
    # NaN compares False: no BG/NBD, no flag; one-time buyers' P(alive) = 1 is not evidence
    df["low_p_alive"] = (df["p_alive"] < threshold) & ~df["one_time_buyer"]
    df["candidate"] = df["overdue"] | df["low_p_alive"]
    sig = _attach_signals(df, signals)
    rerank = sig is not None and ranking == WITH_INTERACTIONS
    if rerank:
        df["candidate"] = df["candidate"] | df["interaction_signal"]
    risk = df["lapse_probability"].where(df["lapse_probability"].notna(), df["gap_ratio"] / 1e6)
    order = pd.DataFrame({"sig": df["interaction_signal"] if rerank else False, "risk": risk,
                          "ratio": df["gap_ratio"], "id": df["customer_id"].astype(str),
                          "cand": df["candidate"]})
    order = order[order["cand"]].sort_values(["sig", "risk", "ratio", "id"],
                                             ascending=[False, False, False, True], kind="stable")
    k = math.ceil(capacity * len(df))
    df["warning"] = df.index.isin(order.index[:k])
    reasons = []
    for d, g, r, one, pa, lp, od, lo, w in zip(
        df["days_since_last"], df["typical_gap"], df["gap_ratio"], df["one_time_buyer"], df["p_alive"], df["lapse_probability"], df["overdue"],
        df["low_p_alive"], df["warning"], strict=True,
    ):
        parts = []
        if od and one:
            parts.append(tr("churn.reason.one_time", days=d, ratio=r, gap=g))
        elif od:
            parts.append(tr("churn.reason.overdue", days=d, ratio=r, gap=g))
        if lo:
            parts.append(tr("churn.reason.low_p_alive", p_alive=pa, threshold=threshold))
        if w and pd.notna(lp):
            parts.append(tr("churn.reason.lapse", lapse=lp))
        reasons.append(tr("churn.semi").join(parts))
    if sig is not None:
        reasons = [_with_signal_reasons(r, row, sig.attrs.get("window_days"), tr)
                   for r, row in zip(reasons, df[_SIGNAL_SHOWN].itertuples(index=False), strict=True)]
    df["reason"] = reasons
    cols = ["customer_id", "as_of", "days_since_last", "typical_gap", "gap_basis", "gap_ratio",
            "one_time_buyer", "p_alive", "lapse_probability", "overdue", "low_p_alive",
            "candidate", "warning", "reason", "priority_value"]
    if sig is not None:
        df["ranking"] = WITH_INTERACTIONS if rerank else PURCHASES
        cols += ["rising_complaints", "falling_sentiment", "interaction_signal", "ranking"]
    cols += [c for c in _EXTRA_COLUMNS if c in df.columns]
    out = df[cols].sort_values("customer_id", kind="stable").reset_index(drop=True)
    out.attrs = dict(base.attrs)
    if sig is not None:
        out.attrs["interaction_signals"] = {"window_days": sig.attrs.get("window_days"),
                                            "as_of": sig.attrs.get("as_of"),
                                            "rules": dict(sig.attrs.get("rules") or {}),
                                            "ranking": WITH_INTERACTIONS if rerank else PURCHASES,
                                            "order": ("interaction signal first, then lapse probability"
                                                      if rerank else "lapse probability (signals as reasons)")}
    return out


_SIGNAL_SHOWN = ["rising_complaints", "falling_sentiment", "complaints_recent", "complaints_previous",
                 "sentiment_recent", "sentiment_previous", "texts_recent", "texts_previous"]


def _attach_signals(df: pd.DataFrame, signals: pd.DataFrame | None) -> pd.DataFrame | None:
    """Add the signal columns to ``df`` in place (a customer missing from ``signals`` has none)."""
    if signals is None:
        return None
    require_columns(signals, ["customer_id", *_SIGNAL_SHOWN], "interaction signals")
    sig = signals.assign(key=signals["customer_id"].astype(str)).drop_duplicates("key").set_index("key")
    ids = df["customer_id"].astype(str)
    for col in _SIGNAL_SHOWN:
        mapped = ids.map(sig[col])
        if col in ("rising_complaints", "falling_sentiment"):
            mapped = mapped.fillna(False).astype(bool)
        df[col] = mapped.to_numpy()
    df["interaction_signal"] = df["rising_complaints"] | df["falling_sentiment"]
    return signals


def _with_signal_reasons(reason: str, row: Any, window_days: Any, tr: Catalog = EN) -> str:
    parts = [reason] if reason else []
    if row.rising_complaints:
        parts.append(rising_complaints_reason(row.complaints_recent, row.complaints_previous, window_days, tr))
    if row.falling_sentiment:
        parts.append(falling_sentiment_reason(row.sentiment_recent, row.sentiment_previous,
                                              row.texts_recent, row.texts_previous, window_days, tr))
    return tr("churn.semi").join(parts)


def warning_call_list(warning: pd.DataFrame) -> pd.DataFrame:
    """Warned customers in the order to contact them, most valuable first.

    The warning is already sized to the team's capacity (:func:`transactional_warning`);
    this orders it by ``priority_value`` (spend so far, high first), then by the smaller gap
    ratio (the less long gone, the likelier a call still helps).

    Raises
    ------
    InputError
        When a column is missing.
    """
    require_columns(warning, ["customer_id", "warning", "gap_ratio", "priority_value"], "warning table")
    flagged = warning[warning["warning"]]
    out = flagged.sort_values(
        ["priority_value", "gap_ratio", "customer_id"], ascending=[False, True, True],
        kind="stable", na_position="last",
    )
    out = out.reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out
