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
from crmlab.i18n import EN, Catalog
from crmlab.segmentation.common import SEGMENT_ORDER, TIER_ORDER, tier_thresholds
from crmlab.segmentation.narrative import profile_text

__all__ = ["segment_actions", "tier_strategies", "PROFILE_ACTIONS", "profile_actions",
           "checked_actions"]

# the segments with a recommended action in the catalogs (segmentation.segment_who /
# segment_action): what the scores say about them, and what to do
_SEGMENT_ACTIONS = frozenset({
    "Champions", "Loyal", "Potential loyalist", "New", "Promising", "Need attention",
    "About to sleep", "At risk", "Cannot lose", "Hibernating", "Lost",
})


def segment_actions(segments: Iterable[str] | None = None, *, tr: Catalog = EN) -> pd.DataFrame:
    """List the recommended action per RFM segment.

    Parameters
    ----------
    segments : iterable of str, optional
        Segment names to list, in this order; ``None`` lists :data:`SEGMENT_ORDER`. Names
        from a custom segment map without a known action get ``"(no action defined)"``.
    tr : Catalog
        The language of ``who`` and ``action`` (``rfm_segment`` keeps the data's names).

    Returns
    -------
    DataFrame
        Columns ``rfm_segment``, ``who`` (what the scores say), ``action``.
    """
    names = list(SEGMENT_ORDER if segments is None else segments)

    def text(what: str, name: str) -> str:
        if name in _SEGMENT_ACTIONS:
            return tr(f"segmentation.segment_{what}.{name}")
        return tr(f"segmentation.custom_{what}")

    return pd.DataFrame(
        {
            "rfm_segment": names,
            "who": [text("who", n) for n in names],
            "action": [text("action", n) for n in names],
        }
    )


def tier_strategies(tiers: Mapping[str, Any], *, tr: Catalog = EN) -> pd.DataFrame:
    """List the rule and the recommended strategy per value tier.

    Parameters
    ----------
    tiers : mapping
        ``high`` and ``medium`` shares (params ``segmentation.tiers``), to write the rule
        in numbers.
    tr : Catalog
        The language of ``rule`` and ``strategy``.

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
                tr("segmentation.tier_rule.high", share=high),
                tr("segmentation.tier_rule.medium", share=medium),
                tr("segmentation.tier_rule.low", share=1 - medium),
            ],
            "strategy": [tr(f"segmentation.tier_strategy.{t}") for t in ("high", "medium", "low")],
        }
    )



# What to do with a segment whose name overstates it, by what the data says it is:
# profile (segment_name_check's English code) -> key of the action in the catalogs.
_PROFILE_ACTION_KEYS: dict[str, str] = {
    "mostly lapsed repeat buyers": "segmentation.profile_action.lapsed_repeat",
    "mostly lapsed one-time buyers": "segmentation.profile_action.lapsed_one_time",
    "mostly at risk repeat buyers": "segmentation.profile_action.at_risk_repeat",
    "mostly at risk one-time buyers": "segmentation.profile_action.at_risk_one_time",
    "mostly active repeat buyers": "segmentation.profile_action.active_repeat",
    "mostly active one-time buyers": "segmentation.profile_action.active_one_time",
}


def profile_actions(tr: Catalog = EN) -> dict[str, str]:
    """Profile -> the action its customers call for, in ``tr``'s words (:data:`PROFILE_ACTIONS`)."""
    return {profile: tr(key) for profile, key in _PROFILE_ACTION_KEYS.items()}


# the English actions (kept for callers that look one up by profile)
PROFILE_ACTIONS: dict[str, str] = profile_actions(EN)


def checked_actions(profiles: pd.DataFrame, check: pd.DataFrame, *,
                    tr: Catalog = EN) -> pd.DataFrame:
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
    tr : Catalog
        The language of the ``profile`` and replaced ``action`` texts (display columns;
        ``profiles`` should come from ``segment_profiles(..., tr=tr)`` for the others).

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
    profile = seg.map(c["profile"])
    wrong = ~seg.map(c["fits"]).astype(bool)
    better = profile.map(profile_actions(tr))
    replace = wrong & better.notna()
    out["profile"] = [profile_text(p, tr) for p in profile]
    out.loc[replace, "action"] = better[replace]
    return out
