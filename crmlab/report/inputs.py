"""The report's side of the run store: what it reads from earlier stages and runs, what it leaves.

A thin facade over :mod:`crmlab.runstore`, so the report notebook imports only
:mod:`crmlab.report` (never the runner or the run store): this run's products
(:func:`load_inputs`), the previous successful run (:func:`previous_run`), the history
of runs (:func:`history`), the input files' facts (:func:`describe_inputs`), and the state
this run leaves for the next one (:func:`save_state`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlab import runstore
from crmlab.context import StageContext
from crmlab.runstore import KPIS_FILE, PROFILE_FILE, SNAPSHOT_FILE, PreviousRun, ReportInputs

__all__ = [
    "ReportInputs",
    "PreviousRun",
    "load_inputs",
    "previous_run",
    "history",
    "describe_inputs",
    "save_state",
]


def load_inputs(ctx: StageContext, engine: Any = None) -> ReportInputs:
    """Read the upstream products the report may use (:func:`crmlab.runstore.load_report_inputs`).

    With a Dask ``engine`` the transactions stay on its cluster (a Dask frame): the report
    computes its transaction KPIs there and brings back aggregates only.
    """
    return runstore.load_report_inputs(ctx, engine)


def previous_run(ctx: StageContext) -> PreviousRun | None:
    """Return the last successful run of this run name that left report state, or None."""
    return runstore.previous_run(ctx)


def history(ctx: StageContext) -> pd.DataFrame:
    """Read ``history.csv`` beside the run folders (empty when there is none yet)."""
    return runstore.read_history(ctx.run_dir.parent)


def describe_inputs(ctx: StageContext, manifest: dict[str, Any] | None) -> dict[str, dict]:
    """Return columns and sha256 of each input file named in the params (headers only)."""
    return runstore.describe_inputs(ctx.params, manifest)


def save_state(ctx: StageContext, kpi_doc: dict[str, Any], profile: dict[str, Any],
               snapshot: pd.DataFrame | None) -> None:
    """Leave in the run folder what the next run compares with.

    ``kpis.json`` (:func:`crmlab.report.kpis.kpi_doc`), ``input_profile.json``
    (:func:`crmlab.report.trends.input_profile`) and, when segmentation contributed,
    ``customer_snapshot.parquet`` (:func:`crmlab.report.trends.customer_snapshot`).
    """
    from crmlab.io import write_json, write_parquet

    write_json(kpi_doc, ctx.run_dir / KPIS_FILE)
    write_json(profile, ctx.run_dir / PROFILE_FILE)
    if snapshot is not None:
        write_parquet(snapshot, ctx.run_dir / SNAPSHOT_FILE)
