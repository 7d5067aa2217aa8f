"""What every interactions analysis shares: the input contracts, windows, small helpers.

Three tables come in (see ``INTERACTIONS.md``):

- the **clean log**: one row per contact, columns ``customer_id`` (str), ``timestamp``
  (datetime64), ``channel`` (str), ``type`` (one of :data:`CONTACT_TYPES`), and optionally
  ``text``, ``rating``, ``campaign``, ``group`` and ``sentiment`` (0..1, NaN without text);
- the **clean transactions**: ``customer_id``, ``date``, ``amount``;
- the **customers** table (``customers.parquet``): ``customer_id``, ``value_tier``,
  ``rfm_segment``, ``cluster_name``, ``lifecycle_stage`` ...

A row of the control arm of a campaign records an *assignment*, not a contact: nobody
was called. :func:`contacts_only` drops those rows wherever contacts are counted or costed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.i18n import EN, Catalog

__all__ = [
    "period_buyers",
    "CONTACT_TYPES",
    "LOG_COLUMNS",
    "TX_COLUMNS",
    "NOT_LISTED",
    "NO_CHANNEL",
    "check_log",
    "check_transactions",
    "check_customers",
    "contacts_only",
    "as_timestamp",
    "windows",
    "in_window",
    "month_start",
    "require_key",
    "channel_costs",
    "ordered_groups",
    "group_word",
    "group_value",
    "result_word",
]

CONTACT_TYPES = ["inquiry", "complaint", "praise", "service", "campaign", "other"]
LOG_COLUMNS = ["customer_id", "timestamp", "channel", "type"]
TX_COLUMNS = ["customer_id", "date", "amount"]
NOT_LISTED = "not listed"  # a customer of the log or transactions missing from the customers table
NO_CHANNEL = "none"  # no contact in a window
# customers column -> the kind of its values' display names (crmlab/locale/*/common.yaml)
_VALUE_KINDS = {"value_tier": "tier", "rfm_segment": "segment", "lifecycle_stage": "lifecycle",
                "loyalty_tier": "tier", "potential": "tier"}


def check_log(log: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Check the clean log's contract and return a copy with ``customer_id`` as ``str``.

    Raises
    ------
    InputError
        On a missing column or a ``timestamp`` that is not datetime64.
    """
    require_columns(log, [*LOG_COLUMNS, *extra], "interactions log")
    if not pd.api.types.is_datetime64_any_dtype(log["timestamp"]):
        raise InputError("interactions log: column 'timestamp' must be datetime64")
    out = log.copy()
    out["customer_id"] = out["customer_id"].astype("str")
    return out


def check_transactions(transactions: pd.DataFrame) -> pd.DataFrame:
    """Check ``customer_id``, ``date``, ``amount`` and return a copy with ``str`` ids."""
    require_columns(transactions, TX_COLUMNS, "transactions")
    if not pd.api.types.is_datetime64_any_dtype(transactions["date"]):
        raise InputError("transactions: column 'date' must be datetime64")
    out = transactions[TX_COLUMNS].copy()
    out["customer_id"] = out["customer_id"].astype("str")
    return out


def check_customers(customers: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Check the customers table (unique ``customer_id``) and return a copy with ``str`` ids."""
    require_columns(customers, ["customer_id", *extra], "customers")
    out = customers.copy()
    out["customer_id"] = out["customer_id"].astype("str")
    if out["customer_id"].duplicated().any():
        raise InputError("customers: 'customer_id' is not unique")
    return out


def contacts_only(log: pd.DataFrame) -> pd.DataFrame:
    """Drop the control arm's rows: they record who was *not* contacted."""
    if "group" not in log.columns:
        return log
    return log[log["group"].astype("string").fillna("") != "control"]


def as_timestamp(value: Any, name: str) -> pd.Timestamp:
    """Return ``value`` as a Timestamp at midnight; an unparseable value is an InputError."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: {value!r} is not a date") from None
    if ts is pd.NaT:
        raise InputError(f"{name}: a date is required")
    return ts.normalize()


def windows(as_of: Any, window_days: int) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """Return ``(prev_start, recent_start, end)``: the recent window and the one before.

    The recent window is the ``window_days`` days ending with the as-of *day* included
    (``[end - window_days, end)`` with ``end`` the midnight after ``as_of``), because a
    contact at 15:00 on the as-of day belongs to it; the previous window is the same
    length just before.
    """
    days = int(window_days)
    if days <= 0:
        raise InputError(f"interactions.window_days must be positive, got {window_days}")
    end = as_timestamp(as_of, "as_of") + pd.Timedelta(days=1)
    recent = end - pd.Timedelta(days=days)
    return recent - pd.Timedelta(days=days), recent, end


def in_window(times: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """Boolean mask of ``start <= t < end``."""
    return ((times >= start) & (times < end)).to_numpy()


def month_start(times: pd.Series) -> pd.Series:
    """Return the first day of each time's calendar month (datetime64, so it saves and plots)."""
    return times.dt.to_period("M").dt.to_timestamp()


def require_key(block: Mapping[str, Any], key: str, dotted: str) -> Any:
    """Return ``block[key]``; a missing key is an InputError naming ``dotted`` (no defaults here)."""
    try:
        return block[key]
    except (KeyError, TypeError):
        raise InputError(f"params: missing key '{dotted}'") from None


def channel_costs(costs: Mapping[str, Any], channels: pd.Series) -> pd.Series:
    """Cost per contact for each row's channel, from ``interactions.costs.contact``.

    Raises
    ------
    InputError
        When a channel of the log has no cost (named), or a cost is negative.
    """
    table = {str(k): float(v) for k, v in require_key(costs, "contact", "interactions.costs.contact").items()}
    bad = [k for k, v in table.items() if not v >= 0]
    if bad:
        raise InputError(f"interactions.costs.contact: negative or missing cost for {', '.join(bad)}")
    missing = sorted(set(channels.astype(str)) - set(table))
    if missing:
        raise InputError(
            "interactions.costs.contact: no cost for channel(s) " + ", ".join(repr(m) for m in missing)
        )
    return channels.astype(str).map(table).astype(np.float64)


def ordered_groups(values: pd.Series, order: list[str] | None = None) -> list[str]:
    """Return the distinct values of ``values``: those in ``order`` first (in that order), then the rest sorted."""
    present = [str(v) for v in pd.unique(values.dropna())]
    first = [g for g in (order or []) if g in present]
    return first + sorted(g for g in present if g not in first)


def group_word(column: str, tr: Catalog = EN) -> str:
    """Return the words for a customers column in text and on axes (``rfm_segment`` -> ``RFM segment``)."""
    key = f"interactions.group_word.{column}"
    return tr(key) if tr.has(key) else column.replace("_", " ")


def group_value(column: str | None, value: Any, tr: Catalog = EN) -> str:
    """Display name of a value of a customers column (a segment, a tier); other values pass as text."""
    kind = _VALUE_KINDS.get(str(column)) if column is not None else None
    return tr.name(kind, value) if kind else str(value)


def result_word(value: Any, tr: Catalog = EN) -> str:
    """Display name of a group an analysis made (``multichannel``, ``complained`` ...); the tables keep the code."""
    key = f"interactions.value.{value}"
    return tr(key) if tr.has(key) else str(value)


def period_buyers(transactions: pd.DataFrame, split, period_days: int, as_of, what: str):
    """Return the period before ``split`` and the one from it, for a before/after comparison.

    Returns ``(split, length, before, after)``: the split as a Timestamp, the period as a
    Timedelta, the customers who bought in the ``period_days`` before ``split`` (an Index,
    in order of first appearance) and the set of those who bought in the ``period_days``
    from it. ``transactions`` must be checked already.

    Raises
    ------
    InputError
        When the following period runs past ``as_of`` (its outcomes are not yet known);
        the message starts with ``what``.
    """
    s, last = as_timestamp(split, "split"), as_timestamp(as_of, "as_of")
    d = pd.Timedelta(days=int(period_days))
    if s + d > last + pd.Timedelta(days=1):
        raise InputError(f"{what}: the {int(period_days)} days from {s.date()} run past the "
                         f"data's last day {last.date()}; choose an earlier split")
    tx = transactions
    before = pd.Index(tx.loc[(tx["date"] >= s - d) & (tx["date"] < s), "customer_id"].unique())
    after = set(tx.loc[(tx["date"] >= s) & (tx["date"] < s + d), "customer_id"])
    return s, d, before, after
