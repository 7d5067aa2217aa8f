"""The cleaning stage's figures as :class:`crmlab.display.Display` objects: compute, say, draw.

Each function computes what its figure needs (only a small result is kept: a row per
month, a histogram), takes its sentence from :mod:`crmlab.cleaning.narrative` and draws
with :mod:`crmlab.cleaning.plotting`; ``ctx.show(display)`` shows and saves it under the
figure's usual file name.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from crmlab.cleaning import narrative
from crmlab.cleaning.activity import monthly_activity, order_value_summary
from crmlab.cleaning.plotting import (
    plot_monthly_activity,
    plot_order_values,
    plot_quarantine_reasons,
)
from crmlab.cleaning.report import reason_table
from crmlab.display import Display
from crmlab.i18n import EN, Catalog

__all__ = ["quarantine_reasons_display", "monthly_activity_display", "order_values_display"]


def quarantine_reasons_display(report: Mapping[str, Any], tr: Catalog = EN) -> Display:
    """Rows quarantined per reason (figure and table ``cleaning_quarantine_reasons``).

    Parameters
    ----------
    report : mapping
        A cleaning report (``rows_in``, ``rows_quarantined``, ``by_reason``).
    tr : Catalog
        The run's catalog (``ctx.tr``): the takeaway, titles and labels.
    """
    reasons = reason_table(report)
    return Display(
        name="cleaning_quarantine_reasons",
        takeaway=narrative.quarantine_takeaway(report, reasons, tr=tr),
        draw=partial(plot_quarantine_reasons, reasons, tr=tr),
        table=reasons,
    )


def monthly_activity_display(clean: Any, report: Mapping[str, Any], source: str, currency: str = "",
                             tr: Catalog = EN) -> Display:
    """Revenue and purchases per month (figure and table ``cleaning_monthly_activity``).

    Parameters
    ----------
    clean : DataFrame (pandas or Dask)
        Clean transactions: ``customer_id``, ``date``, ``amount``
        (:func:`crmlab.cleaning.monthly_activity`). Only the row per month is kept.
    report : mapping
        The cleaning report (``customers``, ``rows_clean``, ``date_min``, ``date_max``).
    source : str
        The data set's name.
    currency : str
        Currency of the amounts.
    tr : Catalog
        The run's catalog (``ctx.tr``).
    """
    monthly = monthly_activity(clean)

    def draw(ax=None):
        return plot_monthly_activity(monthly, axes=ax, currency=currency, tr=tr)

    return Display(
        name="cleaning_monthly_activity",
        takeaway=narrative.activity_takeaway(report, monthly, source, currency, tr=tr),
        draw=draw,
        table=monthly,
        data={"monthly": monthly},
    )


def order_values_display(amounts: Any, currency: str = "", tr: Catalog = EN) -> Display:
    """Distribution of purchase values (figure ``cleaning_order_values``; no table).

    Parameters
    ----------
    amounts : pandas or Dask Series
        Purchase values of the clean rows (:func:`crmlab.cleaning.order_value_summary`).
    currency : str
        Currency of the amounts.
    tr : Catalog
        The run's catalog (``ctx.tr``).
    """
    summary = order_value_summary(amounts)
    return Display(
        name="cleaning_order_values",
        takeaway=narrative.order_values_takeaway(summary, currency, tr=tr),
        draw=partial(plot_order_values, summary, currency=currency, tr=tr),
        data={"order_values": summary},
    )
