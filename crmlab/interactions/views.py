"""The interactions results as :class:`~crmlab.display.Display` objects: compute, word, draw.

Each function computes one result, takes its sentences from
:mod:`crmlab.interactions.narrative` and draws with :mod:`crmlab.interactions.plotting`;
the display's name is its figure's file stem. In the notebook::

    ctx.show(ix.interactions_campaign(log, tx, s.campaign.name, ...))
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import pandas as pd

from crmlab.display import Display
from crmlab.interactions import narrative, plotting
from crmlab.interactions.campaign import campaign_effect
from crmlab.interactions.channels import channel_migration, channel_mix, multichannel_spend
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
]


def _join(*sentences: str) -> str:
    return " ".join(s for s in sentences if s)


def interactions_contacts(log: pd.DataFrame, customers: pd.DataFrame, as_of, window_days: int) -> Display:
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
        takeaway=_join(narrative.contacts_takeaway(monthly), narrative.trend_reading(trend.overall),
                       narrative.frequency_takeaway(groups, threshold)),
        draw=partial(plotting.plot_contacts_per_month, monthly),
        table=monthly,
        data={"monthly": monthly, "groups": groups, "threshold": threshold, "trend": trend,
              "candidates": candidates, "activation": narrative.activation_takeaway(candidates, high)},
    )


def interactions_channel_mix(log: pd.DataFrame, customers: pd.DataFrame, by: str = "value_tier") -> Display:
    """Channel shares per value tier (or segment: ``by``) as stacked bars; ``data['mix']``."""
    mix = channel_mix(log, customers, by)
    return Display(
        name=f"interactions_channel_mix_{by}",
        takeaway=narrative.channel_mix_takeaway(mix),
        draw=partial(plotting.plot_channel_mix, mix),
        table=mix.shares.reset_index(),
        data={"mix": mix},
    )


def interactions_multichannel(log: pd.DataFrame, transactions: pd.DataFrame, as_of=None,
                              currency: str = "") -> Display:
    """Spend of multichannel against single-channel customers (Welch); ``data['result']``."""
    ms = multichannel_spend(log, transactions, as_of)
    return Display(
        name="interactions_multichannel_spend",
        takeaway=narrative.multichannel_takeaway(ms, currency),
        draw=partial(plotting.plot_multichannel_spend, ms, currency=currency),
        table=ms.table,
        data={"result": ms},
    )


def interactions_migration(log: pd.DataFrame, start, end, window_days: int) -> Display:
    """Main-channel migration between two snapshot dates; ``data['result']``."""
    mig = channel_migration(log, start, end, window_days)
    return Display(
        name="interactions_channel_migration",
        takeaway=narrative.migration_takeaway(mig),
        draw=partial(plotting.plot_channel_migration, mig),
        table=mig.counts.reset_index(),
        data={"result": mig},
    )


def interactions_complaint_rate(log: pd.DataFrame, transactions: pd.DataFrame, as_of=None) -> Display:
    """Complaints per 1,000 active customers per month and the trend; ``data['rates']``, ``data['trend']``."""
    rates = complaint_rates(log, transactions, as_of)
    trend = complaint_trend(rates)
    return Display(
        name="interactions_complaint_rate",
        takeaway=narrative.complaint_rate_takeaway(rates, trend),
        draw=partial(plotting.plot_complaint_rate, rates),
        table=rates,
        data={"rates": rates, "trend": trend},
    )


def interactions_complaint_lapse(log: pd.DataFrame, transactions: pd.DataFrame, split, period_days: int,
                                 as_of) -> Display:
    """Lapse after a complaint: complainers against the others (Newcombe); ``data['result']``."""
    lapse = complaint_lapse(log, transactions, split, period_days, as_of)
    return Display(
        name="interactions_complaint_lapse",
        takeaway=narrative.lapse_takeaway(lapse),
        draw=partial(plotting.plot_complaint_lapse, lapse),
        table=lapse.table,
        data={"result": lapse},
    )


def interactions_campaign(log: pd.DataFrame, transactions: pd.DataFrame, name: str, window_days: int,
                          as_of, margin: float, costs: Mapping[str, Any] | None = None,
                          customers: pd.DataFrame | None = None, by: str = "rfm_segment",
                          currency: str = "", min_arm: int = 50) -> Display:
    """Campaign effect with intervals, revenue and ROI, uplift by segment, or why none.

    ``data['effect']`` is the CampaignEffect; the table is the uplift by segment (None
    when the effect cannot be estimated or no customers table is given).
    """
    effect = campaign_effect(log, transactions, name, window_days, as_of, margin, costs,
                             customers, by, min_arm)
    takeaway = (narrative.cannot_estimate(effect) if not effect.estimable else
                _join(narrative.campaign_takeaway(effect, currency), narrative.roi_reading(effect, currency),
                      narrative.segment_uplift_note(effect)))
    return Display(
        name="interactions_campaign_effect",
        takeaway=takeaway,
        draw=partial(plotting.plot_campaign_effect, effect),
        table=effect.by_segment,
        data={"effect": effect},
    )


def interactions_whale_curve(profit: pd.DataFrame, by: str = "value_tier", currency: str = "") -> Display:
    """Whale curve and the value destroyers by ``by``, from :func:`customer_profit`.

    The table is the destroyers per group; ``data`` holds ``whale``, ``destroyers``
    (overall dict) and ``by_group``.
    """
    whale = whale_curve(profit)
    overall, by_group = value_destroyers(profit, by)
    return Display(
        name="interactions_whale_curve",
        takeaway=_join(narrative.whale_takeaway(whale, currency),
                       narrative.destroyers_takeaway(overall, by_group, currency)),
        draw=partial(plotting.plot_whale_curve, whale, currency=currency),
        table=by_group,
        table_name="interactions_value_destroyers",
        data={"whale": whale, "destroyers": overall, "by_group": by_group},
    )


def interactions_tier_grid(customers: pd.DataFrame, loyalty: pd.DataFrame, potential: pd.DataFrame) -> Display:
    """Value x loyalty x potential grid, with the strategy of each cell in the table."""
    grid = tier_grid(customers, loyalty, potential)
    table = grid.assign(strategy=[narrative.cell_strategy(v, lo, p) for v, lo, p in
                                  zip(grid["value_tier"], grid["loyalty_tier"], grid["potential"], strict=True)])
    return Display(
        name="interactions_tier_grid",
        takeaway=narrative.tier_grid_takeaway(grid),
        draw=partial(plotting.plot_tier_grid, grid),
        table=table,
        data={"grid": grid},
    )


def interactions_sentiment(log: pd.DataFrame) -> Display:
    """Mean feedback sentiment per month with intervals (log with a ``sentiment`` column)."""
    monthly = sentiment_by_month(log)
    return Display(
        name="interactions_sentiment_by_month",
        takeaway=narrative.sentiment_takeaway(monthly),
        draw=partial(plotting.plot_sentiment_by_month, monthly),
        table=monthly,
        data={"monthly": monthly},
    )


def interactions_candidates_view(candidates: pd.DataFrame, rows: int = 15) -> Any:
    """Format the first ``rows`` activation candidates as a table (a pandas Styler)."""
    shown = [c for c in ("customer_id", "value_tier", "rfm_segment", "lifecycle_stage", "contacts",
                         "last_contact") if c in candidates.columns]
    return (candidates[shown].head(rows).style
            .format({"last_contact": lambda v: "never" if pd.isna(v) else f"{v:%Y-%m-%d}"})
            .hide(axis="index"))


def interactions_sentiment_accuracy(accuracy: dict) -> Display:
    """Held-out accuracy of the sentiment methods (:func:`~crmlab.interactions.feedback.accuracy_summary`)."""
    rows = [{"language": lang, **{k: v for k, v in a.items() if not isinstance(v, dict)}}
            for lang, a in accuracy.items()]
    return Display(
        name="interactions_sentiment_accuracy",
        takeaway=narrative.accuracy_takeaway(accuracy),
        draw=partial(plotting.plot_sentiment_accuracy, accuracy),
        table=pd.DataFrame(rows),
        data={"accuracy": accuracy},
    )


def interactions_sentiment_groups(log: pd.DataFrame, customers: pd.DataFrame, by: str = "rfm_segment") -> Display:
    """Mean feedback sentiment per segment (``by``) with intervals; ``data['table']``."""
    table = sentiment_by_group(log, customers, by)
    return Display(
        name=f"interactions_sentiment_by_{by}",
        takeaway=narrative.sentiment_groups_takeaway(table, by),
        draw=partial(plotting.plot_sentiment_by_group, table, by),
        table=table,
        data={"table": table},
    )


def interactions_sentiment_repeat(log: pd.DataFrame, transactions: pd.DataFrame, split, period_days: int,
                                  as_of) -> Display:
    """Repeat purchase after negative against positive feedback (Newcombe); ``data['result']``."""
    result = sentiment_repeat(log, transactions, split, period_days, as_of)
    return Display(
        name="interactions_sentiment_repeat",
        takeaway=narrative.repeat_takeaway(result),
        draw=partial(plotting.plot_sentiment_repeat, result),
        table=result.table,
        data={"result": result},
    )
