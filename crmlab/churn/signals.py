"""Interaction signals for the purchase-based warning: rising complaints, falling sentiment.

The interactions stage writes ``customer_interactions.parquet``, one row per customer with
contact, complaint and sentiment counts over a recent window of *w* days and the *w* days
before it (``complaints_90d``, ``complaints_prev_90d``, ``sentiment_90d`` ... at w = 90).
Two rules turn them into warning signals, both comparing a customer with themself:

- **rising complaints**: complaints in the recent window >= :data:`MIN_COMPLAINTS` (1) and
  strictly more than in the window before. One complaint after a quiet quarter counts;
  a customer who complained as often before does not (that is their normal level);
- **falling sentiment**: the mean sentiment (0..1) of the recent window's texts is at least
  :data:`SENTIMENT_DROP` (0.2, a fifth of the scale) below the previous window's, with at
  least :data:`MIN_TEXTS` (2) scored texts in *each* window (``texts_90d`` ...). Without the
  text counts in the product the rule needs a mean in both windows (>= 1 text each) and
  the rules record says so.

The features may also carry the same columns prefixed ``backtest_`` -- computed at
``periods.calibration_end`` from the log cut there -- so the warning backtest can raise the
signals with only what was known on that day (:func:`interaction_signals` with
``prefix="backtest_"``).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns

__all__ = ["MIN_COMPLAINTS", "SENTIMENT_DROP", "MIN_TEXTS", "SIGNAL_COLUMNS", "feature_window",
           "has_backtest_features", "interaction_signals", "check_signal_date"]

MIN_COMPLAINTS = 1
SENTIMENT_DROP = 0.2
MIN_TEXTS = 2

SIGNAL_COLUMNS = ["complaints_recent", "complaints_previous", "sentiment_recent", "sentiment_previous",
                  "texts_recent", "texts_previous", "rising_complaints", "falling_sentiment"]


def feature_window(features: pd.DataFrame, prefix: str = "") -> int:
    """Window length in days of a feature table, read from its ``complaints_<w>d`` column.

    Raises
    ------
    InputError
        When no (or more than one) such column exists.
    """
    pattern = re.compile(rf"^{re.escape(prefix)}complaints_(\d+)d$")
    found = sorted({int(m.group(1)) for c in map(str, features.columns) if (m := pattern.match(c))})
    if len(found) != 1:
        raise InputError(f"interaction features: expected one '{prefix}complaints_<days>d' column, "
                         f"found {len(found)}")
    return found[0]


def has_backtest_features(features: pd.DataFrame | None) -> bool:
    """Whether the table carries the ``backtest_`` columns the warning backtest needs."""
    if features is None:
        return False
    try:
        feature_window(features, "backtest_")
    except InputError:
        return False
    return True


def interaction_signals(features: pd.DataFrame, prefix: str = "", min_complaints: int = MIN_COMPLAINTS,
                        sentiment_drop: float = SENTIMENT_DROP, min_texts: int = MIN_TEXTS) -> pd.DataFrame:
    """Raise the rising-complaints and falling-sentiment signals per customer.

    Parameters
    ----------
    features : DataFrame
        ``customer_interactions.parquet``: ``customer_id``, ``{prefix}complaints_{w}d``,
        ``{prefix}complaints_prev_{w}d``, ``{prefix}sentiment_{w}d``,
        ``{prefix}sentiment_prev_{w}d`` and optionally ``{prefix}texts_{w}d``,
        ``{prefix}texts_prev_{w}d`` (scored texts per window).
    prefix : str
        ``""`` for today's features, ``"backtest_"`` for those taken at ``calibration_end``.
    min_complaints, sentiment_drop, min_texts
        The rules' thresholds (see the module docstring).

    Returns
    -------
    DataFrame
        ``customer_id`` (str) and :data:`SIGNAL_COLUMNS`, one row per customer; ``attrs``
        holds ``window_days``, ``as_of`` (when the table says) and ``rules`` (the thresholds
        and whether text counts were available).

    Raises
    ------
    InputError
        Missing columns, a duplicated customer, or thresholds out of range.
    """
    if min_complaints < 1 or not 0 < sentiment_drop <= 1 or min_texts < 1:
        raise InputError("interaction signals: need min_complaints >= 1, 0 < sentiment_drop <= 1, "
                         "min_texts >= 1")
    w = feature_window(features, prefix)
    names = {"complaints_recent": f"complaints_{w}d", "complaints_previous": f"complaints_prev_{w}d",
             "sentiment_recent": f"sentiment_{w}d", "sentiment_previous": f"sentiment_prev_{w}d"}
    cols = {k: prefix + v for k, v in names.items()}
    require_columns(features, ["customer_id", *cols.values()], "interaction features")
    if features["customer_id"].duplicated().any():
        raise InputError("interaction features: a customer appears more than once")
    out = pd.DataFrame({"customer_id": features["customer_id"].astype(str).to_numpy()})
    for k, c in cols.items():
        out[k] = pd.to_numeric(features[c], errors="coerce").to_numpy(dtype=np.float64)
    texts = [prefix + f"texts_{w}d", prefix + f"texts_prev_{w}d"]
    counted = all(c in features.columns for c in texts)
    if counted:
        out["texts_recent"] = pd.to_numeric(features[texts[0]], errors="coerce").fillna(0).to_numpy()
        out["texts_previous"] = pd.to_numeric(features[texts[1]], errors="coerce").fillna(0).to_numpy()
        enough = (out["texts_recent"] >= min_texts) & (out["texts_previous"] >= min_texts)
    else:
        out["texts_recent"] = out["texts_previous"] = np.nan
        enough = pd.Series(True, index=out.index)  # a mean in both windows is checked below
    recent, previous = out["complaints_recent"].fillna(0), out["complaints_previous"].fillna(0)
    out["rising_complaints"] = (recent >= min_complaints) & (recent > previous)
    # NaN means (no text in a window) compare False: no evidence, no signal
    drop = out["sentiment_previous"] - out["sentiment_recent"]
    out["falling_sentiment"] = (drop >= sentiment_drop - 1e-12) & enough
    out = out[["customer_id", *SIGNAL_COLUMNS]]
    out.attrs = {
        "window_days": w,
        "rules": {"min_complaints": int(min_complaints), "sentiment_drop": float(sentiment_drop),
                  "min_texts": int(min_texts) if counted else 1, "text_counts": counted},
    }
    date_col = "backtest_as_of" if prefix == "backtest_" else "as_of"
    if date_col in features.columns and features[date_col].notna().any():
        out.attrs["as_of"] = f"{pd.Timestamp(features[date_col].dropna().iloc[0]):%Y-%m-%d}"
    return out


def check_signal_date(signals: pd.DataFrame, as_of: Any) -> None:
    """Refuse signals that say they describe another day than ``as_of``.

    The backtest raises its flags at ``calibration_end``: signals taken on another day would
    let later contacts leak into the check (or leave recent ones out).

    Raises
    ------
    InputError
        When ``signals.attrs["as_of"]`` is set and differs from ``as_of``.
    """
    said = signals.attrs.get("as_of")
    if said is not None and pd.Timestamp(said) != pd.Timestamp(as_of).normalize():
        raise InputError(f"interaction signals describe {said}, the warning is taken at "
                         f"{pd.Timestamp(as_of):%Y-%m-%d}")
