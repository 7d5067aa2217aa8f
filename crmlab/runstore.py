"""The run store: what a run leaves on disk, and how later stages and runs read it.

Layout, under ``<outputs>/<run_name>/``: one folder per run (``manifest.json``,
``run.log``, ``figures/``, ``tables/``, and the report's ``kpis.json``,
``customer_snapshot.parquet`` and ``input_profile.json``), ``history.csv`` (one row per
successful run) and ``latest`` (the last successful run). Products live in
``<processed>/<run_name>/``.

The write side is the runner's: a lock per run_name (:func:`run_lock`), leftovers of
killed runs removed (:func:`clean_stale`), products staged in
``<processed>/<run_name>/.staging-<run_id>/`` and moved over the current ones only when the
whole run succeeded (:func:`promote`), then ``history.csv`` (:func:`record_history`) and
``latest`` (:func:`point_latest`). A failed run leaves products, history and ``latest``
exactly as they were.

The read side serves the report stage: this run's products (:func:`load_report_inputs`),
the previous successful run's KPIs and customer snapshot (:func:`previous_run`), the
history (:func:`read_history`). Notebooks use it through :mod:`crmlab.report`, never
through the runner.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmlab import stages as registry
from crmlab.config import Params
from crmlab.context import StageContext
from crmlab.errors import InputError
from crmlab.io import file_sha256, read_header, read_json, write_json, write_text

__all__ = [
    "REPORT_FILE", "HISTORY_FILE", "KPIS_FILE", "SNAPSHOT_FILE", "PROFILE_FILE",
    "ReportInputs", "PreviousRun", "read_manifest", "load_report_inputs", "describe_inputs",
    "previous_run", "read_history", "latest_id",
    "staging_dir", "run_lock", "clean_stale", "promote", "point_latest", "record_history",
]

REPORT_FILE = "report.html"
HISTORY_FILE = "history.csv"  # in <outputs>/<run_name>/, one row per successful run
KPIS_FILE = "kpis.json"
SNAPSHOT_FILE = "customer_snapshot.parquet"
PROFILE_FILE = "input_profile.json"
STAGING_PREFIX = ".staging-"  # <processed>/<run_name>/.staging-<run_id>/ while a run is live

log = logging.getLogger("crmlab.runstore")


# --- the write side: lock, staging, promotion, history, latest (the runner's) -------------


def staging_dir(final: Path, run_id: str) -> Path:
    """Where run ``run_id`` stages its products before promotion into ``final``."""
    return final / f"{STAGING_PREFIX}{run_id}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


@contextlib.contextmanager
def run_lock(folder: Path):
    """Hold the exclusive lock of one run_name (``<folder>/.lock``) for the ``with`` block.

    A stale lock (its pid no longer alive) is taken over.

    Raises
    ------
    InputError
        Another live run of the same run_name holds the lock.
    """
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / ".lock"
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(lock.read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and _pid_alive(pid):
                raise InputError(
                    f"{lock}: another run of this run_name is in progress (pid {pid}); "
                    "wait for it or use another run_name"
                ) from None
            lock.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        break
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def clean_stale(final: Path, parent: Path) -> list[str]:
    """Remove what killed runs of this run_name left behind (call under :func:`run_lock`).

    ``.staging-*`` folders under ``<processed>/<run_name>/`` and ``.latest-*`` links are
    only ever in use by a live run, and the lock says none is; run folders whose
    manifest still says ``running`` are marked ``failed``. Returns the names removed.
    """
    removed = []
    for folder, pattern in ((final, f"{STAGING_PREFIX}*"), (parent, ".latest-*")):
        if not folder.is_dir():
            continue
        for item in folder.glob(pattern):
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)
            removed.append(item.name)
    for mpath in parent.glob("*/manifest.json") if parent.is_dir() else ():
        try:
            doc = read_json(mpath)
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("status") == "running":
            doc["status"] = "failed"
            doc["error"] = doc.get("error") or "the run was killed (found still running by a later run)"
            with contextlib.suppress(OSError, ValueError, TypeError):
                write_json(doc, mpath)
    return removed


def promote(staging: Path, final: Path, covered: Iterable[str] = ()) -> list[str]:
    """Move staged products over the current ones (each an atomic rename).

    ``covered`` names the products of every stage this run covered (ran or skipped): one
    of them that the run did not make is an older run's file that no longer describes the
    inputs (a removed ``survey:`` section, a churn stage now without a label), so it is
    removed rather than left for a later ``--only report`` to read as current. Products of
    stages outside the run (``--only``) are kept. Returns the names removed.
    """
    final.mkdir(parents=True, exist_ok=True)
    made = {item.name for item in staging.iterdir()}
    removed = []
    for name in sorted(set(covered) - made):
        if (final / name).is_file():
            (final / name).unlink()
            removed.append(name)
        elif (final / name).is_dir():
            shutil.rmtree(final / name)
            removed.append(name)
    for item in staging.iterdir():
        target = final / item.name
        # a product may change kind between runs: a file on pandas, a folder on Dask
        if target.is_dir() and not target.is_symlink() and not (item.is_dir() and not item.is_symlink()):
            shutil.rmtree(target)
        if item.is_file():
            os.replace(item, target)
        elif item.is_dir():
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            os.replace(item, target)
    shutil.rmtree(staging, ignore_errors=True)
    return removed


def point_latest(parent: Path, run_id: str) -> None:
    """Move ``latest`` atomically: a relative symlink, or a text file where links fail."""
    latest = parent / "latest"
    tmp = parent / f".latest-{run_id}"
    try:
        tmp.unlink(missing_ok=True)
        os.symlink(run_id, tmp)
        os.replace(tmp, latest)
    except OSError:
        tmp.unlink(missing_ok=True)
        if latest.is_symlink() or latest.is_dir():
            latest.unlink()
        write_text(run_id + "\n", latest)


def record_history(run_dir: Path, manifest: dict[str, Any]) -> None:
    """Append this successful run to ``<outputs>/<run_name>/history.csv``.

    The row carries the KPIs the report stage left in ``kpis.json`` (empty when the report
    did not run). History is a convenience for trend plots: failing to write it is logged
    and said, never turns a successful run into a failed one, and a history file that
    cannot be parsed is left untouched rather than overwritten.
    """
    import sys

    from crmlab.report import append_history, history_row
    from crmlab.safety import neutralise_formulas

    path = run_dir.parent / HISTORY_FILE
    try:
        doc = read_json(run_dir / KPIS_FILE) if (run_dir / KPIS_FILE).exists() else {}
        obs = doc.get("observation_end") or ((manifest["params"].get("periods") or {}).get(
            "observation_end"))
        ran = [k for k, v in manifest["stages"].items() if v.get("status") == "success"]
        row = history_row(manifest["run_id"], manifest["finished"], obs, ran, doc.get("kpis"))
        table = append_history(read_history(run_dir.parent), row)
        text = neutralise_formulas(table).to_csv(index=False, lineterminator="\n", float_format="%.12g")
        write_text(text, path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        msg = f"warning: {path}: history not updated ({exc})"
        print(msg, file=sys.stderr, flush=True)
        log.warning(msg)


# --- the read side: run folders, as the report notebook reads them -------------------------



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


def _read_product(path: Path, engine: Any = None) -> Any:
    import pandas as pd

    if path.suffix == ".json":
        return read_json(path)
    if engine is not None and engine.is_dask and path.name == "transactions.parquet":
        from crmlab.engine import read_parquet  # the rows stay on the cluster

        return read_parquet(path, engine, columns=["customer_id", "date", "amount"])
    if path.is_dir():  # a dataset folder, e.g. transactions.parquet as Dask cleaning writes it
        from crmlab.engine import read_parquet

        return read_parquet(path)
    return pd.read_parquet(path)


def load_report_inputs(ctx: StageContext, engine: Any = None) -> ReportInputs:
    """Find and read the upstream products the report may use, and say which were not.

    With a Dask ``engine`` (:func:`crmlab.engine.engine_session`) the transactions are a
    Dask frame on its cluster; everything else is read into memory.

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
    upstream = [s for s in registry.STAGES if s.name != "report"]
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
        {"name": s.name, "skip_reason": s.skip_reason(ctx.params, ctx.tr), "produces": s.writes}
        for s in upstream
    ]
    overview = stage_overview(plan, (manifest or {}).get("stages") if manifest else None, found)
    products: dict[str, Any] = {}
    for st in upstream:
        use = bool(overview.loc[overview["stage"] == st.name, "use"].iloc[0])
        for name in st.writes:
            products[name] = _read_product(paths[name], engine) if use and name in paths else None
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
    for section in ("transactions", "survey", "churn", "interactions"):
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
    """Return the run id ``<parent>/latest`` points at (None before any successful run)."""
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
