"""Drawing only: every function takes computed results and ``ax=None`` and returns the Axes.

Titles and axis labels (with units) are set here; the one-sentence takeaway above each
figure is the notebook's; saving is the notebook's job too.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["get_ax"]


def get_ax(ax=None, figsize=(7, 4)):
    """Return ``ax`` or a new Axes of a fresh figure."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax
