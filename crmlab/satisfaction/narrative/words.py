"""Display words of the stage's own codes (quadrants, verdicts, NPS bands ...) in a catalog."""

from __future__ import annotations

from typing import Any

from crmlab.i18n import EN, Catalog

__all__ = ["word", "label", "bare"]


def word(tr: Catalog, kind: str, value: Any) -> str:
    """Look up ``satisfaction.<kind>.<value>``; a value the catalog does not know passes as text.

    The codes stay English in the products (``quadrant: concentrate here``); only what a
    reader sees is looked up.
    """
    key = f"satisfaction.{kind}.{value}"
    return tr(key) if tr.has(key) else str(value)


def label(tr: Catalog = EN) -> str:
    """Return the bold "Takeaway:" label that starts every takeaway (``**Takeaway:** ``)."""
    return f"**{tr('common.takeaway')}** "


def bare(text: str, tr: Catalog = EN) -> str:
    """Return ``text`` without its leading takeaway label (the stage context adds its own)."""
    lab = label(tr)
    return text[len(lab):] if text.startswith(lab) else text
