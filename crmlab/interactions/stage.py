"""The choices the stage notebook makes from params and data, as small pure functions.

Which campaign to read, which two dates the channel migration compares, where the
comparisons of a period with the next one split, and the quarantine as a frame that
saves to Parquet, and whether the log is the shipped simulated demo. Kept here so the
notebook only calls, and so each choice is tested.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from crmlab.config import PROJ_ROOT
from crmlab.errors import InputError
from crmlab.interactions.campaign import campaign_names
from crmlab.interactions.common import as_timestamp
from crmlab.interactions.feedback import comparison_split

__all__ = ["DEMO_LOG_DIR", "require_contacts", "pick_campaign", "migration_dates", "period_split", "quarantine_for_parquet",
           "is_demo_log"]

# The shipped simulated log and its README (data/raw/interactions/README.md).
DEMO_LOG_DIR = PROJ_ROOT / "data" / "raw" / "interactions"


def require_contacts(report: dict[str, Any], path: str) -> None:
    """Stop the stage with one clear line when no row of the log survived the checks.

    Nothing can be analysed then, and the usual cause is a log that belongs to other
    customers (other ids, or ids pseudonymised in one file and not the other).

    Raises
    ------
    InputError
        Naming the file, the number of rows and the reasons they were set aside.
    """
    if report.get("rows_clean", 0) > 0:
        return
    reasons = ", ".join(f"{k}: {v:,}" for k, v in sorted((report.get("by_reason") or {}).items(),
                                                          key=lambda kv: -kv[1]) if v)
    raise InputError(
        f"{path}: no clean contact in {report.get('rows_in', 0):,} rows ({reasons or 'empty log'}); "
        "check that interactions.columns.customer_id holds the ids of the transactions"
    )


def pick_campaign(log: pd.DataFrame, name: str | None) -> str | None:
    """Return the campaign to analyse: ``interactions.campaign.name``, else the log's.

    With no name set and several campaigns in the log, the one with most rows is read (the
    notebook says which); None when the log names no campaign.
    """
    if name:
        return str(name)
    names = campaign_names(log)
    return names[0] if names else None


def migration_dates(as_of: Any, calibration_end: Any | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the two snapshot dates of the channel migration.

    They are ``periods.calibration_end`` (else a year before the as-of date) and the as-of date.
    """
    end = as_timestamp(as_of, "as_of")
    start = as_timestamp(calibration_end, "calibration_end") if calibration_end else end - pd.DateOffset(years=1)
    if start >= end:
        start = end - pd.DateOffset(years=1)
    return pd.Timestamp(start), end


def period_split(as_of: Any, period_days: int) -> pd.Timestamp:
    """Return the split of the period comparisons (complaint -> lapse, sentiment -> repeat).

    It is the latest one whose following ``period_days`` end on the as-of day, so every
    outcome is known.
    """
    return comparison_split(as_of, period_days)


def quarantine_for_parquet(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Return the quarantine with every original column as text (a file's columns can be anything)."""
    out = quarantine.copy()
    for col in out.columns:
        if col not in ("source_row",):
            out[col] = out[col].astype("string")
    return out


def is_demo_log(path: Any, demo_dir: str | Path = DEMO_LOG_DIR, root: str | Path = PROJ_ROOT) -> bool:
    """Whether the log file is the shipped simulated demo (``interaction_metrics.json``'s ``simulated``).

    The rule: the log's path, resolved (symbolic links and ``..`` followed; a relative path
    taken from ``root``, the project root, as params paths are), lies inside ``demo_dir``,
    ``data/raw/interactions/``. A file name alone proves nothing: a copy of the demo
    elsewhere counts as the user's own log, and a user's log saved into that folder counts
    as the demo (the folder is the project's raw data, not a drop box).

    Parameters
    ----------
    path : str or Path or None
        ``interactions.path`` (None -> False).
    demo_dir, root : str or Path
        The demo folder and the folder relative paths start from.
    """
    if path is None or str(path) == "":
        return False
    p = Path(path).expanduser()
    if not p.is_absolute():
        p = Path(root) / p
    return p.resolve().is_relative_to(Path(demo_dir).resolve())
