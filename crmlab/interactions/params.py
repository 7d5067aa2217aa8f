"""The ``interactions:`` params section: the contact log, its mapping, costs and windows.

The section itself is declared once, with every other section, in
:mod:`crmlab.config.schema` (``SCHEMA["interactions"]``; absent -> ``None`` -> the stage is
skipped, as for ``survey:``); defaults live there and nowhere else. This module re-exports
it under the stage's names and holds :func:`check_interactions`, the checks that need more
than one key, which the config loader's cross-checks call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmlab.config.schema import (
    DEFAULT_CONTACT_COSTS,
    INTERACTION_GROUPS,
    INTERACTION_TYPES,
    INTERACTIONS,
)
from crmlab.errors import InputError

__all__ = ["TYPES", "GROUPS", "INTERACTIONS", "DEFAULT_CONTACT_COSTS", "check_interactions"]

TYPES = INTERACTION_TYPES
GROUPS = INTERACTION_GROUPS


def check_interactions(section: Mapping[str, Any] | None, source: str = "<params>") -> None:
    """Check the ``interactions`` keys that involve more than one key.

    Parameters
    ----------
    section : mapping or None
        The validated section (``None`` when absent: nothing to check).
    source : str
        The params file, for the message.

    Raises
    ------
    InputError
        ``rating_scale`` not increasing, or two log columns mapped to one file column.
    """
    if not section:
        return
    lo, hi = section["rating_scale"]
    if lo >= hi:
        raise InputError(f"{source}: key 'interactions.rating_scale': minimum {lo:g} >= maximum {hi:g}")
    used: dict[str, str] = {}
    for canon, col in section["columns"].items():
        if col is None:
            continue
        if col in used:
            raise InputError(
                f"{source}: key 'interactions.columns.{canon}': column {col!r} is already "
                f"mapped as {used[col]}"
            )
        used[col] = canon
