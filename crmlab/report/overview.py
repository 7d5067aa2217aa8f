"""Which stages fed this report: per stage, whether its products may be used, and why.

A report must not show stale numbers as current: a stage skipped in this run contributes
nothing, even when an older product file is still on disk. :func:`stage_overview` decides
this from the stage plan, the run manifest and where each product was found;
:func:`crmlab.runstore.load_report_inputs` reads only the products it allows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from crmlab.errors import InputError

__all__ = ["stage_overview"]


def stage_overview(
    stages: Sequence[Mapping[str, Any]],
    manifest_stages: Mapping[str, Mapping[str, Any]] | None,
    found: Mapping[str, str | None],
) -> pd.DataFrame:
    """Decide, per stage, whether its products may feed this report, and say why.

    Parameters
    ----------
    stages : sequence of mappings
        One per upstream stage in chain order with keys ``name``, ``skip_reason`` (why the
        params make the stage skip, or None) and ``produces`` (product file names).
    manifest_stages : mapping or None
        ``manifest.json``'s ``stages`` of the current run (``{name: {status, reason}}``);
        None when the notebook runs by hand (no run manifest).
    found : mapping
        Product file name -> where it was found: ``"this run"``, ``"earlier run"``
        (the products folder), or None (missing).

    Returns
    -------
    DataFrame
        Columns ``stage``, ``status`` (``ran``, ``skipped``, ``not in this run``,
        ``by hand``, or the manifest's status), ``products`` (found ones, missing ones
        marked), ``note`` (one line for the reader) and ``use`` (bool: its products may be
        read). A stage skipped in this run is never used, even when an older product file
        is still in the products folder — a report must not show stale numbers as current.

    Raises
    ------
    InputError
        When a stage entry lacks ``name``.
    """
    rows = []
    for st in stages:
        if "name" not in st:
            raise InputError("stage overview: every stage needs a 'name'")
        name = st["name"]
        produces = list(st.get("produces", ()))
        skip = st.get("skip_reason")
        have = [p for p in produces if found.get(p)]
        missing = [p for p in produces if not found.get(p)]
        listed = ", ".join(have + [f"{p} (missing)" for p in missing]) or "-"
        entry = (manifest_stages or {}).get(name)
        if entry is not None:
            status = str(entry.get("status", "unknown"))
            if status == "success":
                status = "ran"
        elif skip:
            status = "skipped"
        elif manifest_stages is not None:
            status = "not in this run"
        else:
            status = "by hand"
        if status == "skipped":
            reason = (entry or {}).get("reason") or skip or "skipped"
            stale = " (older product files are ignored)" if have else ""
            rows.append((name, status, "-", f"skipped: {reason}{stale}", False))
            continue
        if status not in ("ran", "not in this run", "by hand"):
            rows.append((name, status, listed, f"stage {status}; its products are not used", False))
            continue
        if not have:
            note = f"no products found; run it with: crmlab run --only {name}"
        elif status == "ran":
            note = "products of this run"
        elif any(found.get(p) == "this run" for p in have):
            note = "products of this run"
        else:
            note = "products of an earlier run (the stage did not run now)"
        if missing and have:
            note += f"; missing: {', '.join(missing)}"
        rows.append((name, status, listed, note, bool(have)))
    return pd.DataFrame(rows, columns=["stage", "status", "products", "note", "use"])
