"""The ``interactions:`` params section: the contact log, its mapping, costs and windows.

Declared in the style of :data:`crmlab.config.TRANSACTIONS` so that
:data:`crmlab.config.SCHEMA` can hold it as ``"interactions": INTERACTIONS`` (absent ->
``None`` -> the stage is skipped, as for ``survey:``). Defaults live here and nowhere else.

:func:`check_interactions` holds the checks that need more than one key (the rating scale's
order); the config loader's ``_cross_checks`` calls it when the section is wired in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmlab.config import (
    Key,
    Section,
    _Bad,
    _boolean,
    _nonempty_string,
    _reader_keys,
    _timezone,
    choice,
    integer,
    list_of,
    mapping_of,
    nullable,
    number,
)
from crmlab.errors import InputError

__all__ = ["TYPES", "GROUPS", "INTERACTIONS", "DEFAULT_CONTACT_COSTS", "check_interactions"]

# The canonical contact types every analysis function works with (INTERACTIONS.md).
TYPES = ("inquiry", "complaint", "praise", "service", "campaign", "other")
# The arms of a randomised campaign.
GROUPS = ("treatment", "control")

# Money per contact by canonical channel, in report.currency: an in-store conversation and
# a phone call cost staff time, digital channels almost nothing. "none" is the channel of a
# control-group assignment row, which is not a contact and costs nothing.
DEFAULT_CONTACT_COSTS = {
    "store": 4.0, "web": 0.3, "app": 0.2, "phone": 3.5, "email": 0.1, "wechat": 0.2, "none": 0.0,
}


def _share(v: Any) -> float:
    """Check a share in (0, 1]: a margin of 0 would make every customer a loss by definition."""
    x = number(0, 1)(v)
    if x <= 0:
        raise _Bad(f"{x} must be above 0 (a share in (0, 1])")
    return x


def _channel_name(v: Any) -> str:
    # channel names are compared lower-cased and stripped, as the reader does with the log
    return _nonempty_string(v).strip().lower()


INTERACTIONS = Section(
    optional=True,
    doc="Customer interaction (contact) log; enables the interactions stage.",
    keys={
        **_reader_keys(),
        "columns": Section(
            keys={
                "customer_id": Key(_nonempty_string, "customer_id"),
                "timestamp": Key(_nonempty_string, "timestamp"),
                "channel": Key(_nonempty_string, "channel"),
                "type": Key(_nonempty_string, "type"),
                "text": Key(nullable(_nonempty_string), None, doc="free feedback text"),
                "rating": Key(nullable(_nonempty_string), None, doc="rating on rating_scale"),
                "campaign": Key(nullable(_nonempty_string), None, doc="campaign name"),
                "group": Key(nullable(_nonempty_string), None, doc="treatment / control arm"),
            }
        ),
        "date_format": Key(nullable(_nonempty_string), None, doc="strftime format; null = infer"),
        "dayfirst": Key(_boolean, False, doc="when inferring: 03/04 is 3 April"),
        "timezone": Key(_timezone, "UTC", doc="zone that timestamps with an offset are converted to"),
        "type_map": Key(
            mapping_of(choice(*TYPES), 1),
            doc="the log's type values -> " + " | ".join(TYPES) + " (e.g. 投诉: complaint)",
        ),
        "channel_map": Key(
            mapping_of(_channel_name), {},
            doc="the log's channel values -> channel name; unmapped values are lower-cased",
        ),
        "rating_scale": Key(list_of(number(), 2, 2), [1, 5], doc="[lowest, highest] rating"),
        "costs": Section(
            keys={
                "contact": Key(
                    mapping_of(number(0)), dict(DEFAULT_CONTACT_COSTS),
                    doc="money per contact by channel; a channel not listed costs 0",
                ),
                "acquisition": Key(number(0), 15.0, doc="money per customer acquired"),
            }
        ),
        "margin": Key(_share, 0.3, doc="gross margin on revenue, in (0, 1]"),
        "window_days": Key(integer(1, 3650), 90, doc="recent window (contacts_90d ...)"),
        "campaign": Section(
            keys={
                "name": Key(nullable(_nonempty_string), None,
                            doc="campaign analysed; null = the only campaign in the log"),
                "window_days": Key(integer(1, 3650), 60, doc="outcome window after contact (days)"),
            }
        ),
    },
)


def check_interactions(section: Mapping[str, Any] | None, source: str = "<params>") -> None:
    """Check the ``interactions`` keys that involve more than one key.

    Parameters
    ----------
    section : mapping or None
        The validated section (``None`` when absent: nothing to check).
    source : str
        The params file, for the message.

    Raises
    ------
    InputError
        ``rating_scale`` not increasing, or two log columns mapped to one file column.
    """
    if not section:
        return
    lo, hi = section["rating_scale"]
    if lo >= hi:
        raise InputError(f"{source}: key 'interactions.rating_scale': minimum {lo:g} >= maximum {hi:g}")
    used: dict[str, str] = {}
    for canon, col in section["columns"].items():
        if col is None:
            continue
        if col in used:
            raise InputError(
                f"{source}: key 'interactions.columns.{canon}': column {col!r} is already "
                f"mapped as {used[col]}"
            )
        used[col] = canon
