"""Money and unit formatting shared by text, tables and figure axes.

One formatter for every amount a reader sees, so that the report, the notebooks and the
figures write money the same way: the currency from ``report.currency`` (``"$"`` for
CDNOW), a thousands separator, and a minus sign in front of the currency for refunds.
When no currency is configured the unit is said in words ("currency units") on axes, and
amounts in text carry no symbol.
"""

from __future__ import annotations

import math
from typing import Any

from crmlab.errors import InputError

__all__ = ["format_money", "money_unit", "money_axis"]


def format_money(value: Any, currency: str = "", digits: int = 0) -> str:
    """Format an amount for people: ``$2,500,316``, ``-$12.50``, ``n/a`` when missing.

    Parameters
    ----------
    value : number or None
        The amount; None, NaN and infinities read ``n/a``.
    currency : str
        Prefix such as ``"$"`` or ``"EUR "`` (``report.currency``); empty for none.
    digits : int
        Decimals (0 for totals, 2 for a price).

    Returns
    -------
    str

    Raises
    ------
    InputError
        When ``digits`` is negative or ``value`` is not a number.
    """
    if digits < 0:
        raise InputError(f"format_money: digits must be >= 0, got {digits}")
    if value is None:
        return "n/a"
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"format_money: {value!r} is not a number") from None
    if math.isnan(x) or math.isinf(x):
        return "n/a"
    if round(abs(x), digits) == 0:
        x = 0.0  # no "-$0"
    sign = "-" if x < 0 else ""
    return f"{sign}{currency}{abs(x):,.{digits}f}"


def money_unit(currency: str = "") -> str:
    """Return the unit words for an axis label: the currency, or ``currency units``."""
    return currency.strip() or "currency units"


def money_axis(ax: Any, currency: str = "", axis: str = "y", digits: int = 0) -> Any:
    """Write an axis's tick labels with :func:`format_money` (currency, thousands separator).

    Parameters
    ----------
    ax : matplotlib Axes
    currency : str
        As in :func:`format_money`.
    axis : {"x", "y"}
    digits : int
        Decimals of the tick labels.

    Returns
    -------
    The Axes.

    Raises
    ------
    InputError
        For an ``axis`` other than ``x`` or ``y``.
    """
    from matplotlib.ticker import FuncFormatter

    if axis not in ("x", "y"):
        raise InputError(f"money_axis: axis must be 'x' or 'y', got {axis!r}")
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: format_money(v, currency, digits)))
    return ax
