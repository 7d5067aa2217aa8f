"""The segment playbook: what to do with each RFM segment, value tier and customer profile.

These are the recommended-action texts the stage's tables carry (``who``, ``action``,
``rule``, ``strategy``); every other sentence of the stage is in
:mod:`crmlab.segmentation.narrative`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.segmentation.common import SEGMENT_ORDER, TIER_ORDER, tier_thresholds

__all__ = ["segment_actions", "tier_strategies", "PROFILE_ACTIONS", "checked_actions"]

_SEGMENT_ACTIONS = {
    "Champions": ("bought recently, buy often and spend the most",
                  "Reward them: early access, recognition, ask for reviews and referrals; "
                  "no discounts needed."),
    "Loyal": ("buy regularly and spend well, not always the most recent",
              "Upsell higher-value products, invite them to the loyalty programme."),
    "Potential loyalist": ("recent customers with middling frequency and spend",
                           "Recommend related products and offer membership to build the habit."),
    "New": ("bought very recently, once or for little",
            "Onboarding: a welcome series that leads to the second purchase early."),
    "Promising": ("fairly recent, low frequency and spend",
                  "Raise awareness with targeted offers and free trials."),
    "Need attention": ("middling recency, frequency and spend",
                       "Limited-time offers based on their history before they slip."),
    "About to sleep": ("below-average recency, low frequency and spend",
                       "Reconnect with popular products and a modest incentive."),
    "At risk": ("used to buy often or spend well, but not for a while",
                "Personalised win-back messages; find out what changed."),
    "Cannot lose": ("were among the best customers, long silent",
                    "Win back by personal contact and a strong offer; do not lose them to a "
                    "competitor."),
    "Hibernating": ("last purchase long ago, low frequency and spend",
                    "Low-cost reactivation with relevant offers; do not overspend."),
    "Lost": ("lowest recency, frequency and spend",
             "Cheapest channel only, or let go; exclude from expensive campaigns."),
}


def segment_actions(segments: Iterable[str] | None = None) -> pd.DataFrame:
    """List the recommended action per RFM segment.

    Parameters
    ----------
    segments : iterable of str, optional
        Segment names to list, in this order; ``None`` lists :data:`SEGMENT_ORDER`. Names
        from a custom segment map without a known action get ``"(no action defined)"``.

    Returns
    -------
    DataFrame
        Columns ``rfm_segment``, ``who`` (what the scores say), ``action``.
    """
    names = list(SEGMENT_ORDER if segments is None else segments)
    unknown = ("(custom segment)", "(no action defined)")
    return pd.DataFrame(
        {
            "rfm_segment": names,
            "who": [_SEGMENT_ACTIONS.get(n, unknown)[0] for n in names],
            "action": [_SEGMENT_ACTIONS.get(n, unknown)[1] for n in names],
        }
    )


def tier_strategies(tiers: Mapping[str, Any]) -> pd.DataFrame:
    """List the rule and the recommended strategy per value tier.

    Parameters
    ----------
    tiers : mapping
        ``high`` and ``medium`` shares (params ``segmentation.tiers``), to write the rule
        in numbers.

    Returns
    -------
    DataFrame
        Columns ``value_tier``, ``rule``, ``strategy``; rows high, medium, low.

    Raises
    ------
    InputError
        On bad thresholds.
    """
    high, medium = tier_thresholds(tiers)
    return pd.DataFrame(
        {
            "value_tier": TIER_ORDER,
            "rule": [
                f"the top spenders who together make the first {high:.0%} of revenue",
                f"the next spenders, up to {medium:.0%} of revenue",
                f"everyone else: the long tail making the last {1 - medium:.0%}",
            ],
            "strategy": [
                "Protect: personal service, recognition and early access; watch every "
                "slowdown, a lost high-tier customer costs the most.",
                "Grow: cross-sell and upsell to move them up a tier; loyalty programme.",
                "Serve efficiently: automated low-cost channels; reactivate selectively "
                "where the RFM segment says it can pay.",
            ],
        }
    )



# What to do with a segment whose name overstates it, by what the data says it is.
PROFILE_ACTIONS: dict[str, str] = {
    "mostly lapsed repeat buyers": (
        "Win back: a personal reminder and an offer built on what they used to buy. They "
        "have stopped buying, so upselling or 'before they slip' offers come too late."),
    "mostly lapsed one-time buyers": (
        "Cheap reactivation only (e-mail, a modest incentive); do not spend on them what a "
        "repeat buyer is worth."),
    "mostly at risk repeat buyers": (
        "Contact now, before they lapse: a reminder timed to their own buying rhythm."),
    "mostly at risk one-time buyers": (
        "A low-cost reminder now; most one-time buyers do not come back on their own."),
    "mostly active repeat buyers": (
        "They are still buying: keep them by their spend and rhythm, not as lost customers."),
    "mostly active one-time buyers": (
        "Recent first-time buyers: onboarding towards the second purchase."),
}


def checked_actions(profiles: pd.DataFrame, check: pd.DataFrame) -> pd.DataFrame:
    """Replace the action of each segment whose name overstates it by the action its data calls for.

    A table that warns "'Loyal' is mostly lapsed" and still recommends "upsell, invite to
    the loyalty programme" says two things; this says one, the true one.

    Parameters
    ----------
    profiles : DataFrame
        :func:`crmlab.segmentation.segment_profiles` output with ``rfm_segment`` and
        ``action``.
    check : DataFrame
        :func:`crmlab.segmentation.segment_name_check` of the same profiles.

    Returns
    -------
    DataFrame
        A copy of ``profiles`` with ``profile`` (what the data calls the segment) and
        ``action`` replaced from :data:`PROFILE_ACTIONS` where the name does not fit (kept
        when the profile is mixed, i.e. no majority).

    Raises
    ------
    InputError
        On a missing column or a segment of ``profiles`` absent from ``check``.
    """
    require_columns(profiles, ["rfm_segment", "action"], "segment profiles")
    require_columns(check, ["rfm_segment", "profile", "fits"], "segment name check")
    c = check.set_index("rfm_segment")
    absent = sorted(set(profiles["rfm_segment"].astype(str)) - set(c.index))
    if absent:
        raise InputError(f"segment name check: no row for {absent}")
    out = profiles.copy()
    seg = out["rfm_segment"].astype(str)
    out["profile"] = seg.map(c["profile"]).to_numpy()
    wrong = ~seg.map(c["fits"]).astype(bool)
    better = out["profile"].map(PROFILE_ACTIONS)
    replace = wrong & better.notna()
    out.loc[replace, "action"] = better[replace]
    return out
