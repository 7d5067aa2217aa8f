"""Raw transaction export -> clean canonical rows + quarantined rows with a reason each.

The rules, in the order they are checked (a row gets the *first* reason that applies):

====================  ===========================================================
reason                when
====================  ===========================================================
undecodable_text      the customer or order id holds bytes the file's encoding cannot
                      decode (U+FFFD)
missing_customer_id   the id is blank (or ``nan``/``null``/``none``/``n/a``) after trimming
invalid_date          the date does not parse (given ``date_format``, else inferred)
invalid_amount        the amount is blank or not a number after repairs, or infinite
                      (``inf``, ``1e400``)
amount_out_of_range   the amount is above ``max_amount`` (default 1e12), so totals
                      cannot overflow
negative_amount       the amount is below zero (returns/refunds are not purchases)
zero_amount           the amount is zero and ``zero_amount: quarantine``
invalid_quantity      a mapped quantity is present but not a number
after_observation_end the purchase is dated after ``periods.observation_end``
duplicate             the row repeats an earlier clean row exactly (``duplicates: quarantine``)
====================  ===========================================================

Repairs keep a row and are counted, never silent: trimmed or Excel-float ids
(``" 00042 "``, ``42.0``), currency symbols and codes (``$``, ``¥``, ``RMB``), thousands
separators, decimal commas (``decimal: ","``), accounting negatives ``(12.50)``, Chinese
date forms (``2024年3月5日``), dates in a second format inside one column, and timestamps
with a UTC offset (``2024-03-05T09:00:00Z``, ``+08:00``), converted to ``timezone`` (params,
default UTC) and then stored without a zone. Year-first (ISO) dates are never read day-first,
whatever ``dayfirst`` says.

``rows_in == rows_clean + rows_quarantined`` always holds: every input row ends up in
exactly one of the two outputs.

Personal data: the columns named in ``pii_columns`` are dropped before anything else, and
unmapped columns that *look* personal (e-mail addresses in the values, or a name such as
``email``, ``phone``, ``手机``, ``姓名``) are dropped too and reported, so that the quarantine
file — which keeps the original columns for the analyst — never carries them.

The package, one concern a module:

- :mod:`~crmlab.cleaning.parsing`: ids, amounts and dates from text, repairs counted;
- :mod:`~crmlab.cleaning.rules`: the row rules and the column mapping checks;
- :mod:`~crmlab.cleaning.duplicates`: exact duplicates;
- :mod:`~crmlab.cleaning.clean`: the in-memory path (:func:`clean_transactions`);
- :mod:`~crmlab.cleaning.distributed`: the Dask path (:func:`clean_transactions_dask`);
- :mod:`~crmlab.cleaning.report`: the cleaning report and the tables read from it;
- :mod:`~crmlab.cleaning.activity`: monthly activity and purchase values of the clean rows;
- :mod:`~crmlab.cleaning.plotting`, :mod:`~crmlab.cleaning.narrative`,
  :mod:`~crmlab.cleaning.views`: figures, sentences, and the two together as displays.
"""

from __future__ import annotations

from crmlab.cleaning import narrative
from crmlab.cleaning.activity import monthly_activity, order_value_summary
from crmlab.cleaning.clean import CleaningResult, clean_transactions
from crmlab.cleaning.distributed import clean_transactions_dask
from crmlab.cleaning.parsing import guess_date_format, normalise_ids, parse_amounts, parse_dates
from crmlab.cleaning.plotting import (
    plot_monthly_activity,
    plot_order_values,
    plot_quarantine_reasons,
)
from crmlab.cleaning.report import (
    accounting_table,
    mapping_table,
    money_table,
    reason_table,
    repair_table,
    with_source,
)
from crmlab.cleaning.rules import CANONICAL, REASONS, detect_pii_columns
from crmlab.cleaning.views import (
    monthly_activity_display,
    order_values_display,
    quarantine_reasons_display,
)

__all__ = [
    "REASONS",
    "CANONICAL",
    "CleaningResult",
    "detect_pii_columns",
    "normalise_ids",
    "parse_amounts",
    "parse_dates",
    "clean_transactions",
    "clean_transactions_dask",
    "guess_date_format",
    "reason_table",
    "repair_table",
    "mapping_table",
    "accounting_table",
    "money_table",
    "with_source",
    "monthly_activity",
    "order_value_summary",
    "plot_quarantine_reasons",
    "plot_monthly_activity",
    "plot_order_values",
    "quarantine_reasons_display",
    "monthly_activity_display",
    "order_values_display",
    "narrative",
]
