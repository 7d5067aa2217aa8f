"""Display words of the stage's own codes (quadrants, verdicts, NPS bands ...) in a catalog."""

from __future__ import annotations

from typing import Any

from crmlab.i18n import EN, Catalog

__all__ = ["word", "label", "bare", "construct_name", "construct_names", "path_name"]


def word(tr: Catalog, kind: str, value: Any) -> str:
    """Look up ``satisfaction.<kind>.<value>``; a value the catalog does not know passes as text.

    The codes stay English in the products (``quadrant: concentrate here``); only what a
    reader sees is looked up.
    """
    key = f"satisfaction.{kind}.{value}"
    return tr(key) if tr.has(key) else str(value)


def construct_name(value: Any, tr: Catalog = EN) -> str:
    """Display name of a construct (``satisfaction.construct.<name>``).

    The lab's default (ECSI) construct names have an entry in each catalog (the English one
    maps each name to itself); a user's own construct name is not in the catalog and is
    shown as it is. Only for display: products and saved tables keep the params' names.
    """
    return word(tr, "construct", value)


def construct_names(values: Any, tr: Catalog = EN) -> list[str]:
    """:func:`construct_name` of each value."""
    return [construct_name(v, tr) for v in values]


def path_name(value: Any, tr: Catalog = EN) -> str:
    """Display name of a path label ``"A -> B"`` (each end a construct); other values as text."""
    text = str(value)
    if " -> " not in text:
        return construct_name(text, tr)
    return " -> ".join(construct_name(part.strip(), tr) for part in text.split("->"))


def label(tr: Catalog = EN) -> str:
    """Return the bold "Takeaway:" label that starts every takeaway (``**Takeaway:** ``)."""
    return f"**{tr('common.takeaway')}** "


def bare(text: str, tr: Catalog = EN) -> str:
    """Return ``text`` without its leading takeaway label (the stage context adds its own)."""
    lab = label(tr)
    return text[len(lab):] if text.startswith(lab) else text
