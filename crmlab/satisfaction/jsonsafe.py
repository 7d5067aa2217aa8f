"""JSON-safe values for ``satisfaction.json``: the writer refuses NaN and numpy scalars."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["json_number", "json_safe"]


def json_number(x: Any) -> float | None:
    """Return ``x`` as a float, or ``None`` for a missing, NaN or infinite value."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def json_safe(obj: Any) -> Any:
    """Convert a nested result for JSON: NaN/inf -> None, numpy scalars -> Python, keys -> str."""
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj
