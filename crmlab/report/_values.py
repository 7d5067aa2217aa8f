"""Small value helpers shared by the report's modules (not part of the public API)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError
from crmlab.formatting import format_money


def _mapping(obj: Any, what: str) -> Mapping[str, Any]:
    """Return ``obj`` (None -> {}), or raise ``InputError`` when it is not a mapping."""
    if obj is None:
        return {}
    if not isinstance(obj, Mapping):
        raise InputError(f"{what}: expected a mapping, got {type(obj).__name__}")
    return obj


def _param(params: Mapping[str, Any] | None, key: str) -> Any:
    """Return ``params[key]`` of the validated ``report`` section, or raise ``InputError``.

    The schema in :mod:`crmlab.config` holds the defaults; a function here never carries
    a second copy, so a key missing from a hand-built mapping is an error, not a guess.
    """
    params = _mapping(params, "report params")
    if key not in params:
        raise InputError(f"report params: key {key!r} missing")
    return params[key]


def _num(value: Any) -> float | int | None:
    """Return a plain Python number, or None for missing/NaN (JSON has no NaN)."""
    if value is None:
        return None
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def _ordered(values: Iterable[Any], order: Sequence[str]) -> list:
    """``order`` first (those present), then any other values sorted as text."""
    present = list(dict.fromkeys(v for v in values if pd.notna(v)))
    head = [o for o in order if o in present]
    return head + sorted((v for v in present if v not in order), key=str)


def _pct(x: float | None, digits: int = 0) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def _money(x: float | None, currency: str = "") -> str:
    return format_money(x, currency)
