"""The interactions results as :class:`~crmlab.display.Display` objects: compute, word, draw.

Each function computes one result, takes its sentences from
:mod:`crmlab.interactions.narrative` and draws with :mod:`crmlab.interactions.plotting`;
the display's name is its figure's file stem. In the notebook::

    ctx.show(ix.interactions_campaign(log, tx, s.campaign.name, ..., tr=ctx.tr))

Every function takes ``tr`` (a :class:`~crmlab.i18n.Catalog`, English by default) and
passes it to the narrative and the figure; the computed tables keep their codes, and
:func:`interactions_table` gives a copy to show with the words of the run's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import pandas as pd

from crmlab.display import Display
from crmlab.i18n import EN, Catalog
from crmlab.interactions import narrative, plotting
from crmlab.interactions.campaign import campaign_effect
from crmlab.interactions.channels import channel_migration, channel_mix, multichannel_spend
from crmlab.interactions.common import group_value
from crmlab.interactions.complaints import (
    complaint_lapse,
    complaint_rates,
    complaint_trend,
    sentiment_by_month,
)
from crmlab.interactions.feedback import sentiment_by_group, sentiment_repeat
from crmlab.interactions.frequency import (
    activation_candidates,
    contact_trend,
    contacts_per_month,
    frequency_groups,
)
from crmlab.interactions.profitability import value_destroyers, whale_curve
from crmlab.interactions.tiers import tier_grid

__all__ = [
    "interactions_contacts",
    "interactions_channel_mix",
    "interactions_multichannel",
    "interactions_migration",
    "interactions_complaint_rate",
    "interactions_complaint_lapse",
    "interactions_campaign",
    "interactions_whale_curve",
    "interactions_tier_grid",
    "interactions_sentiment",
    "interactions_candidates_view",
    "interactions_sentiment_accuracy",
    "interactions_sentiment_groups",
    "interactions_sentiment_repeat",
    "interactions_table",
    "interactions_types_table",
]


def _join(*sentences: str, tr: Catalog = EN) -> str:
    return tr("interactions.sentence_sep").join(s for s in sentences if s)


def interactions_contacts(log: pd.DataFrame, customers: pd.DataFrame, as_of, window_days: int,
                          tr: Catalog = EN) -> Display:
    """Contacts per month, the recent-window trend, frequency groups and activation candidates.

    ``data`` holds ``monthly``, ``groups``, ``threshold``, ``trend`` (ContactTrend),
    ``candidates`` and ``activation`` (its sentence).
    """
    monthly = contacts_per_month(log, customers)
    groups, threshold = frequency_groups(log, customers, as_of, window_days)
    trend = contact_trend(log, customers, as_of, window_days)
    candidates = activation_candidates(log, customers, as_of, window_days)
    high = int((customers["value_tier"].astype(str) == "high").sum()) if "value_tier" in customers else 0
    return Display(
        name="interactions_contacts_per_month",
        takeaway=_join(narrative.contacts_takeaway(monthly, tr=tr), narrative.trend_reading(trend.overall, tr=tr),
                       narrative.frequency_takeaway(groups, threshold, tr=tr), tr=tr),
        draw=partial(plotting.plot_contacts_per_month, monthly, tr=tr),
        table=monthly,
        data={"monthly": monthly, "groups": groups, "threshold": threshold, "trend": trend,
              "candidates": candidates, "activation": narrative.activation_takeaway(candidates, high, tr=tr)},
    )


def interactions_channel_mix(log: pd.DataFrame, customers: pd.DataFrame, by: str = "value_tier",
                             tr: Catalog = EN) -> Display:
    """Channel shares per value tier (or segment: ``by``) as stacked bars; ``data['mix']``."""
    mix = channel_mix(log, customers, by)
    return Display(
        name=f"interactions_channel_mix_{by}",
        takeaway=narrative.channel_mix_takeaway(mix, tr=tr),
        draw=partial(plotting.plot_channel_mix, mix, tr=tr),
        table=mix.shares.reset_index(),
        data={"mix": mix},
    )


def interactions_multichannel(log: pd.DataFrame, transactions: pd.DataFrame, as_of=None,
                              currency: str = "", tr: Catalog = EN) -> Display:
    """Spend of multichannel against single-channel customers (Welch); ``data['result']``."""
    ms = multichannel_spend(log, transactions, as_of)
    return Display(
        name="interactions_multichannel_spend",
        takeaway=narrative.multichannel_takeaway(ms, currency, tr=tr),
        draw=partial(plotting.plot_multichannel_spend, ms, currency=currency, tr=tr),
        table=ms.table,
        data={"result": ms},
    )


def interactions_migration(log: pd.DataFrame, start, end, window_days: int, tr: Catalog = EN) -> Display:
    """Main-channel migration between two snapshot dates; ``data['result']``."""
    mig = channel_migration(log, start, end, window_days)
    return Display(
        name="interactions_channel_migration",
        takeaway=narrative.migration_takeaway(mig, tr=tr),
        draw=partial(plotting.plot_channel_migration, mig, tr=tr),
        table=mig.counts.reset_index(),
        data={"result": mig},
    )


def interactions_complaint_rate(log: pd.DataFrame, transactions: pd.DataFrame, as_of=None,
                                tr: Catalog = EN) -> Display:
    """Complaints per 1,000 active customers per month and the trend; ``data['rates']``, ``data['trend']``."""
    rates = complaint_rates(log, transactions, as_of)
    trend = complaint_trend(rates)
    return Display(
        name="interactions_complaint_rate",
        takeaway=narrative.complaint_rate_takeaway(rates, trend, tr=tr),
        draw=partial(plotting.plot_complaint_rate, rates, tr=tr),
        table=rates,
        data={"rates": rates, "trend": trend},
    )


def interactions_complaint_lapse(log: pd.DataFrame, transactions: pd.DataFrame, split, period_days: int,
                                 as_of, tr: Catalog = EN) -> Display:
    """Lapse after a complaint: complainers against the others (Newcombe); ``data['result']``."""
    lapse = complaint_lapse(log, transactions, split, period_days, as_of)
    return Display(
        name="interactions_complaint_lapse",
        takeaway=narrative.lapse_takeaway(lapse, tr=tr),
        draw=partial(plotting.plot_complaint_lapse, lapse, tr=tr),
        table=lapse.table,
        data={"result": lapse},
    )


def interactions_campaign(log: pd.DataFrame, transactions: pd.DataFrame, name: str, window_days: int,
                          as_of, margin: float, costs: Mapping[str, Any] | None = None,
                          customers: pd.DataFrame | None = None, by: str = "rfm_segment",
                          currency: str = "", min_arm: int = 50, tr: Catalog = EN) -> Display:
    """Campaign effect with intervals, revenue and ROI, uplift by segment, or why none.

    ``data['effect']`` is the CampaignEffect; the table is the uplift by segment (None
    when the effect cannot be estimated or no customers table is given).
    """
    effect = campaign_effect(log, transactions, name, window_days, as_of, margin, costs,
                             customers, by, min_arm)
    takeaway = (narrative.cannot_estimate(effect, tr=tr) if not effect.estimable else
                _join(narrative.campaign_takeaway(effect, currency, tr=tr), narrative.roi_reading(effect, currency, tr=tr),
                      narrative.segment_uplift_note(effect, tr=tr), tr=tr))
    return Display(
        name="interactions_campaign_effect",
        takeaway=takeaway,
        draw=partial(plotting.plot_campaign_effect, effect, tr=tr),
        table=effect.by_segment,
        data={"effect": effect},
    )


def interactions_whale_curve(profit: pd.DataFrame, by: str = "value_tier", currency: str = "",
                             tr: Catalog = EN) -> Display:
    """Whale curve and the value destroyers by ``by``, from :func:`customer_profit`.

    The table is the destroyers per group; ``data`` holds ``whale``, ``destroyers``
    (overall dict) and ``by_group``.
    """
    whale = whale_curve(profit)
    overall, by_group = value_destroyers(profit, by)
    return Display(
        name="interactions_whale_curve",
        takeaway=_join(narrative.whale_takeaway(whale, currency, tr=tr),
                       narrative.destroyers_takeaway(overall, by_group, currency, tr=tr, column=by), tr=tr),
        draw=partial(plotting.plot_whale_curve, whale, currency=currency, tr=tr),
        table=by_group,
        table_name="interactions_value_destroyers",
        data={"whale": whale, "destroyers": overall, "by_group": by_group},
    )


def interactions_tier_grid(customers: pd.DataFrame, loyalty: pd.DataFrame, potential: pd.DataFrame,
                           tr: Catalog = EN) -> Display:
    """Value x loyalty x potential grid, with the strategy of each cell in the table."""
    grid = tier_grid(customers, loyalty, potential)
    table = grid.assign(strategy=[narrative.cell_strategy(v, lo, p, tr=tr) for v, lo, p in
                                  zip(grid["value_tier"], grid["loyalty_tier"], grid["potential"], strict=True)])
    return Display(
        name="interactions_tier_grid",
        takeaway=narrative.tier_grid_takeaway(grid, tr=tr),
        draw=partial(plotting.plot_tier_grid, grid, tr=tr),
        table=table,
        data={"grid": grid},
    )


def interactions_sentiment(log: pd.DataFrame, tr: Catalog = EN) -> Display:
    """Mean feedback sentiment per month with intervals (log with a ``sentiment`` column)."""
    monthly = sentiment_by_month(log)
    return Display(
        name="interactions_sentiment_by_month",
        takeaway=narrative.sentiment_takeaway(monthly, tr=tr),
        draw=partial(plotting.plot_sentiment_by_month, monthly, tr=tr),
        table=monthly,
        data={"monthly": monthly},
    )


def interactions_candidates_view(candidates: pd.DataFrame, rows: int = 15, tr: Catalog = EN) -> Any:
    """Format the first ``rows`` activation candidates as a table (a pandas Styler)."""
    shown = [c for c in ("customer_id", "value_tier", "rfm_segment", "lifecycle_stage", "contacts",
                         "last_contact") if c in candidates.columns]
    never = tr("interactions.table.never")
    return (interactions_table(candidates[shown].head(rows), tr).style
            .format({_column("last_contact", tr): lambda v: never if pd.isna(v) else f"{v:%Y-%m-%d}"})
            .hide(axis="index"))


def interactions_sentiment_accuracy(accuracy: dict, tr: Catalog = EN) -> Display:
    """Held-out accuracy of the sentiment methods (:func:`~crmlab.interactions.feedback.accuracy_summary`)."""
    rows = [{"language": lang, **{k: v for k, v in a.items() if not isinstance(v, dict)}}
            for lang, a in accuracy.items()]
    return Display(
        name="interactions_sentiment_accuracy",
        takeaway=narrative.accuracy_takeaway(accuracy, tr=tr),
        draw=partial(plotting.plot_sentiment_accuracy, accuracy, tr=tr),
        table=pd.DataFrame(rows),
        data={"accuracy": accuracy},
    )


def interactions_sentiment_groups(log: pd.DataFrame, customers: pd.DataFrame, by: str = "rfm_segment",
                                  tr: Catalog = EN) -> Display:
    """Mean feedback sentiment per segment (``by``) with intervals; ``data['table']``."""
    table = sentiment_by_group(log, customers, by)
    return Display(
        name=f"interactions_sentiment_by_{by}",
        takeaway=narrative.sentiment_groups_takeaway(table, by, tr=tr),
        draw=partial(plotting.plot_sentiment_by_group, table, by, tr=tr),
        table=table,
        data={"table": table},
    )


def interactions_sentiment_repeat(log: pd.DataFrame, transactions: pd.DataFrame, split, period_days: int,
                                  as_of, tr: Catalog = EN) -> Display:
    """Repeat purchase after negative against positive feedback (Newcombe); ``data['result']``."""
    result = sentiment_repeat(log, transactions, split, period_days, as_of)
    return Display(
        name="interactions_sentiment_repeat",
        takeaway=narrative.repeat_takeaway(result, tr=tr),
        draw=partial(plotting.plot_sentiment_repeat, result, tr=tr),
        table=result.table,
        data={"result": result},
    )


# --- tables shown in the notebook, in the words of the run's language ----------------------

# columns holding codes -> how to name their values (the saved tables keep the codes)
_CODE_COLUMNS = ("value_tier", "rfm_segment", "lifecycle_stage", "loyalty_tier", "potential")
_KEYED_VALUES = {"language": "interactions.language", "sentiment_label": "interactions.label",
                 "true": "interactions.label", "predicted": "interactions.label"}


def _column(name: Any, tr: Catalog) -> Any:
    key = f"interactions.column.{name}"
    return tr(key) if tr.has(key) else name


def _keyed(prefix: str, value: Any, tr: Catalog) -> Any:
    key = f"{prefix}.{value}"
    return tr(key) if tr.has(key) else value


def _axis_values(index: pd.Index, tr: Catalog) -> pd.Index:
    name = index.name
    if name in _KEYED_VALUES:
        index = index.map(lambda v: _keyed(_KEYED_VALUES[name], v, tr))
    return index.rename(_column(name, tr) if name is not None else None)


def interactions_table(table: pd.DataFrame, tr: Catalog = EN) -> pd.DataFrame:
    """Return a copy of a stage table to show: column names and coded values in ``tr``'s words.

    Tiers and segments get their display names (``tr.name``), sentiment labels and text
    languages theirs; columns named in ``interactions.column`` are renamed, others kept.
    In English the copy reads as the table does.
    """
    out = table.copy()
    for col in out.columns:
        if col in _CODE_COLUMNS:
            out[col] = [group_value(col, v, tr) for v in out[col]]
        elif col in _KEYED_VALUES:
            out[col] = [_keyed(_KEYED_VALUES[col], v, tr) for v in out[col]]
    out.index = _axis_values(out.index, tr)
    out.columns = _axis_values(pd.Index([_column(c, tr) for c in out.columns], name=out.columns.name), tr)
    return out


def interactions_types_table(report: Mapping[str, Any], tr: Catalog = EN) -> pd.DataFrame:
    """Clean rows per contact type, one row (the reader's ``report['types']``), to show."""
    types = report["types"]
    table = pd.DataFrame({tr("interactions.table.clean_rows"): list(types.values())},
                         index=pd.Index([tr.name("contact_type", t) for t in types], name=tr("interactions.table.type")))
    return table.T
