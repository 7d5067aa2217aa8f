"""What every stage's ``plotting`` module shares: a fresh Axes when none is given.

Drawing lives per stage in ``crmlab/<stage>/plotting.py``: every function takes computed
results and ``ax=None``, sets the title and the axis labels with units, and returns the
Axes. The takeaway above a figure comes from the stage's ``narrative`` module; saving is
:meth:`crmlab.context.StageContext.show`'s job.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["get_ax"]


def get_ax(ax=None, figsize=(7, 4)):
    """Return ``ax`` or a new Axes of a fresh figure."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax
