"""The shared money formatter: text and figure axes write amounts the same way."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from crmlab.errors import InputError  # noqa: E402
from crmlab.formatting import format_money, money_axis, money_unit  # noqa: E402


@pytest.mark.parametrize(
    "value, currency, digits, expected",
    [
        (1234567.891, "$", 0, "$1,234,568"),
        (1234.5, "$", 2, "$1,234.50"),
        (-20, "$", 0, "-$20"),
        (-0.001, "$", 2, "$0.00"),
        (5, "EUR ", 0, "EUR 5"),
        (999.5, "", 0, "1,000"),
        (None, "$", 0, "n/a"),
        (float("inf"), "$", 0, "n/a"),
    ],
    ids=["thousands", "cents", "refund", "no-minus-zero", "prefix-word", "no-currency",
         "missing", "infinite"],
)
def test_format_money(value, currency, digits, expected):
    assert format_money(value, currency, digits) == expected


def test_format_money_errors():
    with pytest.raises(InputError, match="not a number"):
        format_money("abc", "$")
    with pytest.raises(InputError, match="digits"):
        format_money(1, "$", -1)


def test_money_unit_and_axis():
    assert money_unit("$") == "$" and money_unit("") == "currency units"
    fig, ax = plt.subplots()
    ax.plot([0, 2000], [0, 150000])
    money_axis(ax, "$")
    money_axis(ax, "$", axis="x")
    fmt = ax.yaxis.get_major_formatter()
    assert fmt(150000, 0) == "$150,000"
    assert ax.xaxis.get_major_formatter()(1500, 0) == "$1,500"
    with pytest.raises(InputError, match="axis"):
        money_axis(ax, "$", axis="z")
    plt.close(fig)
