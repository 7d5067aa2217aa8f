"""The report's markup: KPI cards as inline-CSS HTML, and the styled tables the report shows.

Everything shown comes from user files and is untrusted text. The cards escape every
value with :func:`html.escape` and carry no script and no external resource, so the static
report keeps its Content-Security-Policy. The tables are pandas Stylers that escape their
values: the ``styler.format.escape = "html"`` option that
:func:`crmlab.context.stage_context` sets covers a Styler's own formatter, and every
``format`` call here passes ``escape="html"`` itself, because such a call replaces the
formatter of every column. The runner's HTML export cleans every output again
(:mod:`crmlab.safety`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import pandas as pd

from crmlab.errors import InputError
from crmlab.formatting import format_money
from crmlab.i18n import EN, Catalog
from crmlab.report._values import _mapping, _num
from crmlab.report.interactions import INTERACTION_KPIS, interaction_kpi_label
from crmlab.report.kpis import KPIS, format_kpi, kpi_delta, kpi_label, section_name
from crmlab.report.narrative import construct_name
from crmlab.report.narrative_interactions import format_interaction_kpi
from crmlab.report.overview import localized_overview
from crmlab.report.trends import drift_check_name

__all__ = [
    "kpi_cards_html",
    "interaction_cards_html",
    "style_interaction_table",
    "style_overview",
    "style_segments",
    "style_tiers",
    "style_drivers",
    "style_risk_bands",
    "style_watch",
    "style_first_rows",
    "style_plain",
    "style_drift",
    "column_label",
]

# Good news green, bad news red, neither grey.
_VERDICT_COLOURS = {"good": "#2e7d32", "bad": "#c62828", "neutral": "#666666"}


def kpi_cards_html(
    kpis: Mapping[str, Any],
    previous: Mapping[str, Any] | None = None,
    currency: str = "",
    notes: Mapping[str, str] | None = None,
    tr: Catalog = EN,
) -> str:
    """Render the headline KPIs as a grid of cards (self-contained HTML, inline CSS).

    Parameters
    ----------
    kpis : mapping
        KPI name -> value (from :func:`headline_kpis`); names not in :data:`KPIS` are ignored.
    previous : mapping, optional
        The previous run's KPIs; adds "▲ +3.2% vs last run" lines.
    currency : str
        Prefix for money values.
    notes : mapping, optional
        KPI name -> small caption under the label (e.g. "last 90 days").
    tr : Catalog
        The language of the labels, values and changes.

    Returns
    -------
    str
        An HTML fragment (no scripts, no external resources).

    Raises
    ------
    InputError
        When ``kpis`` (or ``previous``, ``notes``) is not a mapping.
    """
    if not isinstance(kpis, Mapping):
        raise InputError(f"kpi cards: expected a mapping of KPI values, got {type(kpis).__name__}")
    notes = _mapping(notes, "kpi cards notes")
    previous = _mapping(previous, "previous KPIs")
    cards = []
    for k in KPIS:
        if k.name not in kpis:
            continue
        value = format_kpi(k.name, kpis[k.name], currency, tr)
        delta, verdict = kpi_delta(k.name, kpis[k.name], (previous or {}).get(k.name), tr)
        colour = _VERDICT_COLOURS[verdict]
        delta = tr("report.format.vs_last_run", delta=delta) if delta else ""
        missing = _num(kpis[k.name]) is None
        cards.append(_card(kpi_label(k.name, tr), value, notes.get(k.name, ""), delta, colour, missing))
    return _grid(cards)


def _card(label: str, value: str, note: str, delta: str, colour: str, missing: bool) -> str:
    """One KPI card; every text is escaped here."""
    return (
        '<div style="border:1px solid #d0d7de;border-radius:6px;padding:10px 12px;'
        f'background:{"#f6f8fa" if missing else "#ffffff"}">'
        f'<div style="font-size:12px;color:#57606a">{html.escape(label)}</div>'
        f'<div style="font-size:22px;font-weight:600;color:{"#8c959f" if missing else "#1f2328"}">'
        f"{html.escape(value)}</div>"
        f'<div style="font-size:11px;color:#57606a">{html.escape(note)}</div>'
        f'<div style="font-size:11px;color:{colour}">{html.escape(delta)}</div>'
        "</div>"
    )


def _grid(cards: list[str]) -> str:
    return (
        '<div style="display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));'
        'gap:10px;margin:6px 0 12px 0">' + "".join(cards) + "</div>"
    )


def interaction_cards_html(kpis: Mapping[str, Any], notes: Mapping[str, str] | None = None,
                           tr: Catalog = EN) -> str:
    """Render the interactions stage's KPIs as cards, like :func:`kpi_cards_html` (escaped, inline CSS).

    ``kpis`` is :func:`crmlab.report.interactions.interaction_kpis`; ``notes`` the lines under
    the labels (:func:`crmlab.report.narrative_interactions.interaction_card_notes`).

    Raises
    ------
    InputError
        When ``kpis`` or ``notes`` is not a mapping.
    """
    if not isinstance(kpis, Mapping):
        raise InputError(f"interaction cards: expected a mapping of KPI values, got {type(kpis).__name__}")
    notes = _mapping(notes, "interaction card notes") or {}
    cards = [_card(interaction_kpi_label(name, tr), format_interaction_kpi(name, kpis, tr), notes.get(name, ""), "",
                   _VERDICT_COLOURS["neutral"], _num(kpis.get(name)) is None)
             for name in INTERACTION_KPIS]
    return _grid(cards)

# --- tables -------------------------------------------------------------------------------------
#
# The tables keep their canonical column names and values (they are the products' and the
# saved tables'); the header row and the columns that hold data values (segment, tier,
# lifecycle stage, risk band ...) are worded for the reader at display time.

# column -> kind of data value (``tr.name(kind, value)``)
_NAME_COLUMNS = {"rfm_segment": "segment", "value_tier": "tier", "lifecycle_stage": "lifecycle",
                 "risk_band": "risk_band", "construct": "construct",
                 "contact_type": "contact_type", "group": "group", "method": "method",
                 "value_tier_before": "tier", "value_tier_after": "tier"}


def column_label(column: Any, tr: Catalog = EN) -> str:
    """Word the header of a shown table's column (``report.col.<column>``; other names pass through)."""
    key = f"report.col.{column}"
    return tr(key) if tr.has(key) else str(column)


def _worded(styler: Any, table: pd.DataFrame, tr: Catalog, done: Mapping[str, Any] | None = None) -> Any:
    """Word the header row and the data-value columns of ``table``'s Styler in ``tr``'s language.

    ``done`` holds the formatters the caller already set: they are kept for those columns.
    Every ``format`` call names its ``subset``: a dict alone resets every other column.
    """
    def name(kind: str) -> Any:
        return lambda v: tr.name(kind, v)

    names = {c: name(k) for c, k in _NAME_COLUMNS.items() if c in table.columns and c not in (done or {})}
    if "construct" in names:  # the satisfaction stage's names (the lab's default constructs)
        names["construct"] = lambda v: construct_name(v, tr)
    if "quadrant" in table.columns and "quadrant" not in (done or {}):  # the satisfaction stage's words
        names["quadrant"] = lambda v: (tr(f"satisfaction.quadrant.{v}") if tr.has(f"satisfaction.quadrant.{v}")
                                       else str(v))
    if "language" in table.columns and "language" not in (done or {}):  # the sentiment accuracy table
        names["language"] = lambda v: (tr(f"report.text_language.{v}") if tr.has(f"report.text_language.{v}")
                                       else str(v))
    if names:
        styler = styler.format(names, subset=list(names), escape="html")
    return styler.format_index(lambda c: column_label(c, tr), escape="html", axis=1)


def style_overview(overview: pd.DataFrame, tr: Catalog = EN) -> Any:
    """Style the :func:`crmlab.report.overview.stage_overview` table (without ``use``), worded by ``tr``."""
    table = localized_overview(overview, tr).drop(columns="use")
    return _worded(table.style.set_properties(**{"text-align": "left"}).hide(axis="index"), table, tr)


def style_segments(profiles: pd.DataFrame, tr: Catalog = EN) -> Any:
    """Style the segment profiles: segment, customers, shares in percent, action."""
    table = profiles[["rfm_segment", "customers", "customer_share", "revenue_share", "action"]]
    return _worded(
        table.style.format({"customer_share": "{:.1%}", "revenue_share": "{:.1%}", "customers": "{:,}"},
                           escape="html")
        .set_properties(subset=["action"], **{"text-align": "left"})
        .hide(axis="index"), table, tr)


def style_tiers(tiers: pd.DataFrame, currency: str, tr: Catalog = EN) -> Any:
    """Style the tier table: tier, customers, shares in percent, mean spend, strategy."""
    table = tiers[["value_tier", "customers", "customer_share", "revenue_share", "mean_spend", "strategy"]]
    return _worded(
        table.style.format({"customer_share": "{:.1%}", "revenue_share": "{:.1%}",
                            "mean_spend": lambda v: format_money(v, currency), "customers": "{:,}"},
                           escape="html")
        .set_properties(subset=["strategy"], **{"text-align": "left"})
        .hide(axis="index"), table, tr)


def style_drivers(drivers: pd.DataFrame, tr: Catalog = EN) -> Any:
    """Style :func:`crmlab.report.tables.top_drivers`: importance in percent, performance 0-100."""
    styler = drivers.style.format({"importance": "{:.0%}", "performance": "{:.1f}"}, escape="html")
    if "actionable" in drivers:
        styler = styler.format({"actionable": lambda v: _yes_no(v, tr)}, subset=["actionable"], escape="html")
    return _worded(styler.hide(axis="index"), drivers, tr)


def _yes_no(value: Any, tr: Catalog) -> str:
    return tr("report.bool.true") if bool(value) else tr("report.bool.false")


def style_risk_bands(bands: pd.DataFrame, tr: Catalog = EN) -> Any:
    """Style :func:`crmlab.report.tables.risk_band_table`: shares and rates in percent."""
    return _worded(bands.style.format({"share": "{:.1%}", "mean_probability": "{:.1%}",
                                       "test_churn_rate": "{:.1%}", "customers": "{:,}"},
                                      escape="html").hide(axis="index"), bands, tr)


def style_watch(watch: pd.DataFrame, currency: str, rows: int = 15, tr: Catalog = EN) -> Any:
    """Style the first ``rows`` of the watch list: amounts in ``currency``, whole days."""
    money_cols = [c for c in ("total_spend", "clv", "predicted_value") if c in watch]
    table = watch.head(rows)
    return _worded(table.style.format(precision=2, escape="html").format(
        {c: (lambda v: format_money(v, currency, 2)) for c in money_cols}
        | {"days_since_last": "{:,.0f}"}, escape="html"
    ).hide(axis="index"), table, tr)


def style_first_rows(table: pd.DataFrame, rows: int = 10, tr: Catalog = EN) -> Any:
    """Style the first ``rows`` of a customer list, numbers to two decimals."""
    table = table.head(rows)
    styler = table.style.format(precision=2, escape="html")
    flags = [c for c in table.columns if pd.api.types.is_bool_dtype(table[c])]
    if flags:
        styler = styler.format({c: (lambda v: _yes_no(v, tr)) for c in flags}, subset=flags, escape="html")
    return _worded(styler.hide(axis="index"), table, tr)


def style_plain(table: pd.DataFrame, tr: Catalog = EN) -> Any:
    """Style a table as it is, without its index (KPI changes, input drift); headers worded by ``tr``."""
    return _worded(table.style.hide(axis="index"), table, tr)


def style_drift(drift: pd.DataFrame, tr: Catalog = EN) -> Any:
    """Style :func:`crmlab.report.trends.input_drift`: input, check and flag worded by ``tr``."""
    styler = drift.style.format({"input": lambda v: section_name(v, tr),
                                 "check": lambda v: drift_check_name(v, tr),
                                 "flag": lambda v: _yes_no(v, tr)},
                                subset=[c for c in ("input", "check", "flag") if c in drift], escape="html")
    return _worded(styler.hide(axis="index"), drift, tr)


def style_interaction_table(table: pd.DataFrame, percent: tuple[str, ...] = (), tr: Catalog = EN) -> Any:
    """Style a small interactions table: ``percent`` columns in percent; cells *and* headers escaped.

    The channel table's column names are the user's channel names, so the header row is
    escaped too (``format`` escapes only the cells); known names are worded by ``tr``.
    """
    fmt = {c: "{:.1%}" for c in table.columns if c in percent}
    return _worded(table.style.format(fmt, escape="html", na_rep="–", precision=2).hide(axis="index"),
                   table, tr, fmt)
