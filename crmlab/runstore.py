"""The run store: what a run leaves on disk, and how later stages and runs read it.

Layout, under ``<outputs>/<run_name>/``: one folder per run (``manifest.json``,
``run.log``, ``figures/``, ``tables/``, and the report's ``kpis.json``,
``customer_snapshot.parquet`` and ``input_profile.json``), ``history.csv`` (one row per
successful run) and ``latest`` (the last successful run). Products live in
``<processed>/<run_name>/``.

This module reads it for the report stage: this run's products
(:func:`load_report_inputs`), the previous successful run's KPIs and customer snapshot
(:func:`previous_run`), the history (:func:`read_history`). Notebooks use it through
:mod:`crmlab.report`, never through the runner.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmlab.config import Params
from crmlab.context import StageContext
from crmlab.errors import InputError
from crmlab.io import file_sha256, read_header, read_json
from crmlab.stages import STAGES

__all__ = [
    "REPORT_FILE", "HISTORY_FILE", "KPIS_FILE", "SNAPSHOT_FILE", "PROFILE_FILE",
    "ReportInputs", "PreviousRun", "read_manifest", "load_report_inputs", "describe_inputs",
    "previous_run", "read_history", "latest_id",
]

REPORT_FILE = "report.html"
HISTORY_FILE = "history.csv"  # in <outputs>/<run_name>/, one row per successful run
KPIS_FILE = "kpis.json"
SNAPSHOT_FILE = "customer_snapshot.parquet"
PROFILE_FILE = "input_profile.json"


# --- run folders, as the report notebook reads them ----------------------------------------



@dataclass
class ReportInputs:
    """What the report notebook works from.

    Attributes
    ----------
    manifest : dict or None
        This run's ``manifest.json`` (None when the notebook runs by hand).
    overview : DataFrame
        :func:`crmlab.report.stage_overview`: per stage, status, products and a note.
    products : dict
        Product file name -> DataFrame (Parquet) or dict (JSON); None when missing or when
        its stage was skipped in this run.
    """

    manifest: dict[str, Any] | None
    overview: Any
    products: dict[str, Any]

    def missing_reasons(self) -> dict[str, str]:
        """Stage name -> the overview's note, for stages whose products are not used."""
        ov = self.overview
        return dict(zip(ov.loc[~ov["use"], "stage"], ov.loc[~ov["use"], "note"], strict=True))


@dataclass
class PreviousRun:
    """The last successful run of the same run_name that left report state behind.

    Attributes
    ----------
    run_id : str
        Its run id (the folder name).
    run_dir : Path
        Its run folder.
    kpis : dict
        Its ``kpis.json`` (``kpis``, ``observation_end``, ...).
    snapshot : DataFrame or None
        Its per-customer snapshot (None when segmentation did not run then).
    inputs : dict or None
        Its input profile.
    """

    run_id: str
    run_dir: Path
    kpis: dict[str, Any]
    snapshot: Any = None
    inputs: dict[str, Any] | None = None


def read_manifest(run_dir: str | Path) -> dict[str, Any] | None:
    """Read the run's ``manifest.json``; None when absent (a notebook run by hand)."""
    path = Path(run_dir) / "manifest.json"
    return read_json(path) if path.is_file() else None


def _read_product(path: Path) -> Any:
    import pandas as pd

    if path.suffix == ".json":
        return read_json(path)
    if path.is_dir():  # a dataset folder, e.g. transactions.parquet as Dask cleaning writes it
        from crmlab.engine import read_parquet

        return read_parquet(path)
    return pd.read_parquet(path)


def load_report_inputs(ctx: StageContext) -> ReportInputs:
    """Find and read the upstream products the report may use, and say which were not.

    A product counts when its stage ran in this run, or did not run now (``--only``, or
    the notebook run by hand) and left the product in ``<processed>/<run_name>/``. A stage
    *skipped* in this run (its params section is absent) contributes nothing, even if an
    older product is still on disk: the report must not present stale numbers as current.

    Raises
    ------
    InputError
        When no stage product at all is available (nothing to report on).
    """
    from crmlab.report import stage_overview

    manifest = read_manifest(ctx.run_dir)
    upstream = [s for s in STAGES if s.name != "report"]
    found: dict[str, str | None] = {}
    paths: dict[str, Path] = {}
    for st in upstream:
        for name in st.writes:
            path = ctx.find(name)
            if path is not None:
                paths[name] = path
                here = ctx.fallback is not None and path.parent == ctx.processed
                found[name] = "this run" if here else "earlier run"
    plan = [
        {"name": s.name, "skip_reason": s.skip_reason(ctx.params), "produces": s.writes}
        for s in upstream
    ]
    overview = stage_overview(plan, (manifest or {}).get("stages") if manifest else None, found)
    products: dict[str, Any] = {}
    for st in upstream:
        use = bool(overview.loc[overview["stage"] == st.name, "use"].iloc[0])
        for name in st.writes:
            products[name] = _read_product(paths[name]) if use and name in paths else None
    if all(v is None for v in products.values()):
        raise InputError(
            f"{ctx.processed}: no stage products to report on; run the chain first "
            "(crmlab run --params ...)"
        )
    return ReportInputs(manifest, overview, products)


def describe_inputs(params: Params, manifest: dict[str, Any] | None = None) -> dict[str, dict]:
    """Return columns and sha256 of each input file named in the params (reads headers only).

    The sha256 comes from the run manifest when there is one (computed once per run),
    else from the file.
    """
    out: dict[str, dict] = {}
    recorded = (manifest or {}).get("inputs") or {}
    for section in ("transactions", "survey", "churn"):
        sec = params.get(section)
        if not sec:
            continue
        columns = read_header(
            sec["path"], encoding=sec["encoding"], sep=sec["sep"],
            sheet_name=sec["sheet_name"], reader=sec["reader"],
        )
        sha = (recorded.get(section) or {}).get("sha256") or file_sha256(sec["path"])
        out[section] = {"path": sec["path"], "columns": columns, "sha256": sha}
    return out


def latest_id(parent: Path) -> str | None:
    latest = parent / "latest"
    if latest.is_symlink():
        return Path(os.readlink(latest)).name
    if latest.is_file():  # where symlinks are not available, latest holds the run id
        return latest.read_text(encoding="utf-8").strip() or None
    return None


def read_history(parent: str | Path):
    """Read ``<outputs>/<run_name>/history.csv`` (an empty DataFrame when there is none yet).

    Raises
    ------
    InputError
        When the file exists but is not a readable CSV with a ``run_id`` column.
    """
    import pandas as pd

    path = Path(parent) / HISTORY_FILE
    if not path.is_file():
        return pd.DataFrame(columns=["run_id"])
    try:
        table = pd.read_csv(
            path, dtype={"run_id": str, "finished": str, "observation_end": str, "stages": str}
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the run history ({exc})") from None
    if "run_id" not in table.columns:
        raise InputError(f"{path}: column 'run_id' missing")
    return table


def previous_run(ctx: StageContext) -> PreviousRun | None:
    """Find the newest earlier successful run of this run_name that left report state.

    ``latest`` is tried first (under ``crmlab run`` it still points at the previous
    successful run while this one executes), then the runs in ``history.csv`` from newest
    to oldest — so a run made with ``--only cleaning`` in between does not break the
    comparison. The current run folder is never its own previous run.
    """
    import pandas as pd

    parent = Path(ctx.params.paths.outputs) / ctx.params.run_name
    current = ctx.run_dir.resolve()
    history = read_history(parent)
    candidates = [latest_id(parent), *reversed(history["run_id"].dropna().astype(str).tolist())]
    for run_id in dict.fromkeys(c for c in candidates if c):
        folder = parent / run_id
        if folder.resolve() == current or not (folder / KPIS_FILE).is_file():
            continue
        snap, prof = folder / SNAPSHOT_FILE, folder / PROFILE_FILE
        return PreviousRun(
            run_id=run_id,
            run_dir=folder,
            kpis=read_json(folder / KPIS_FILE),
            snapshot=pd.read_parquet(snap) if snap.is_file() else None,
            inputs=read_json(prof) if prof.is_file() else None,
        )
    return None
