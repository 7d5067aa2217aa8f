"""Result objects that draw themselves, in the spirit of scikit-learn's ``Display`` objects.

A stage function computes a result and returns a :class:`Display`: the file name its
figure and table are saved under, the one-sentence takeaway (from the stage's
``narrative`` module), the table behind the chart, and how to draw it. In a notebook one
line shows and saves it all::

    ctx.show(seg.rfm_grid_display(customers, s.segment_map))

and ``display.plot(ax)`` draws it into an Axes of one's own (a subplot, a slide).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Display", "figure_of"]


@dataclass(frozen=True)
class Display:
    """A computed result, ready to draw and save.

    Attributes
    ----------
    name : str
        File stem for the figure (``figures/<name>.png``) and the table (``tables/<name>.csv``),
        prefixed by the stage name (``segmentation_lorenz``).
    takeaway : str
        The sentence shown above the figure (Markdown, without the "Takeaway:" label).
    draw : callable
        ``draw(ax=None)`` draws the figure and returns its Axes (or an array of Axes).
    table : DataFrame or None
        The numbers behind the figure, saved beside it; None when there is none to save.
    table_name : str or None
        File stem for the table when it differs from ``name``.
    data : dict
        Further computed results a notebook may want to show or reuse (by name).
    """

    name: str
    takeaway: str
    draw: Callable[..., Any]
    table: Any = None
    table_name: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def plot(self, ax: Any = None) -> Any:
        """Draw the figure (into ``ax`` when given) and return its Axes."""
        return self.draw(ax=ax)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


def figure_of(drawn: Any) -> Any:
    """Return the Matplotlib figure behind what a ``draw`` returned (an Axes or an array of them)."""
    if hasattr(drawn, "figure") and not hasattr(drawn, "flat"):
        return drawn.figure
    first = drawn.flat[0] if hasattr(drawn, "flat") else drawn[0]
    return first.figure
