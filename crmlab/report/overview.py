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
from crmlab.i18n import EN, Catalog

__all__ = ["stage_overview", "stage_name", "overview_notes", "missing_reasons", "localized_overview"]

# A note is a list of catalog messages: (key, values); kept in ``DataFrame.attrs`` so that the
# note can be worded in the reader's language (the ``note`` column holds the English).
_NOTES = "crmlab_notes"
_PRODUCTS = "crmlab_products"


def stage_name(stage: Any, tr: Catalog = EN) -> str:
    """Display name of a stage (``report.stage.<name>``; unknown names pass through)."""
    key = f"report.stage.{stage}"
    return tr(key) if tr.has(key) else str(stage)


def _status(status: Any, tr: Catalog) -> str:
    key = f"report.status.{status}"
    return tr(key) if tr.has(key) else str(status)


def _word(parts: list[tuple[str, dict[str, Any]]], tr: Catalog) -> str:
    out = []
    for key, values in parts:
        values = dict(values)
        if "status" in values:
            values["status"] = _status(values["status"], tr)
        if "files" in values:
            values["files"] = tr("report.sep.comma").join(values["files"])
        out.append(tr(key, **values))
    return "".join(out)


def _listed(have: Sequence[str], missing: Sequence[str], tr: Catalog) -> str:
    return tr("report.sep.comma").join(
        list(have) + [tr("report.overview.missing_file", file=p) for p in missing]) or "-"


def overview_notes(overview: pd.DataFrame, tr: Catalog = EN) -> dict[str, str]:
    """Stage -> its overview note in the language of ``tr`` (the ``note`` column when unknown)."""
    spec = overview.attrs.get(_NOTES) or {}
    return {str(s): (_word(spec[s], tr) if s in spec else str(n))
            for s, n in zip(overview["stage"], overview["note"], strict=True)}


def missing_reasons(overview: pd.DataFrame, tr: Catalog = EN) -> dict[str, str]:
    """Stage -> why its products are not used (the note), for the stages not used, worded by ``tr``.

    Like :meth:`crmlab.runstore.ReportInputs.missing_reasons`, in the reader's language.
    """
    notes = overview_notes(overview, tr)
    return {str(s): notes[str(s)] for s in overview.loc[~overview["use"], "stage"]}


def localized_overview(overview: pd.DataFrame, tr: Catalog = EN) -> pd.DataFrame:
    """Return the overview with stage, status, products and note worded in the language of ``tr``."""
    notes = overview_notes(overview, tr)
    products = overview.attrs.get(_PRODUCTS) or {}
    out = overview.copy()
    out["note"] = [notes[str(s)] for s in overview["stage"]]
    out["products"] = [(_listed(*products[s], tr) if s in products else p)
                       for s, p in zip(overview["stage"], overview["products"], strict=True)]
    out["status"] = [_status(s, tr) for s in overview["status"]]
    out["stage"] = [stage_name(s, tr) for s in overview["stage"]]
    return out


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
    notes: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    listed_files: dict[str, tuple[list[str], list[str]]] = {}
    for st in stages:
        if "name" not in st:
            raise InputError("stage overview: every stage needs a 'name'")
        name = st["name"]
        produces = list(st.get("produces", ()))
        skip = st.get("skip_reason")
        have = [p for p in produces if found.get(p)]
        missing = [p for p in produces if not found.get(p)]
        listed = _listed(have, missing, EN)
        listed_files[name] = (have, missing)
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
            spec = [("report.overview.skipped", {"reason": reason})]
            if have:
                spec.append(("report.overview.stale", {}))
            listed_files[name] = ([], [])
            notes[name] = spec
            rows.append((name, status, "-", _word(spec, EN), False))
            continue
        if status not in ("ran", "not in this run", "by hand"):
            notes[name] = [("report.overview.not_used", {"status": status})]
            rows.append((name, status, listed, _word(notes[name], EN), False))
            continue
        if not have:
            spec = [("report.overview.none_found", {"name": name})]
        elif status == "ran" or any(found.get(p) == "this run" for p in have):
            spec = [("report.overview.this_run", {})]
        else:
            spec = [("report.overview.earlier_run", {})]
        if missing and have:
            spec.append(("report.overview.missing", {"files": missing}))
        notes[name] = spec
        rows.append((name, status, listed, _word(spec, EN), bool(have)))
    out = pd.DataFrame(rows, columns=["stage", "status", "products", "note", "use"])
    out.attrs[_NOTES] = notes
    out.attrs[_PRODUCTS] = listed_files
    return out
