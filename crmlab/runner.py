"""The papermill runner behind ``crmlab run``: stages in order, one run folder per run.

A run

1. validates the params and the input files' headers (bad input -> ``InputError``);
2. takes a lock on ``<outputs>/<run_name>/`` so two runs of the same name cannot interleave
   (runs of different names share nothing);
3. creates ``<outputs>/<run_name>/<run_id>/`` with ``params.yaml`` (the resolved params the
   notebooks receive), ``manifest.json``, ``run.log``, ``figures/`` and ``tables/``;
4. executes each stage notebook with papermill into the run folder, writing its products
   into a *staging* folder ``<processed>/<run_name>/.staging-<run_id>/``; a stage reads an
   upstream product from staging first, then from ``<processed>/<run_name>/`` (so ``--only``
   stages use earlier runs' products, see ``crmlab.context.StageContext.find``);
5. renders each executed notebook to HTML without code, and the report stage's notebook
   also to ``report.html`` (self-contained: figures embedded, no script or style fetched
   from the network, so it opens offline from an e-mail attachment);
6. only when every stage succeeded: moves the staged products over
   ``<processed>/<run_name>/``, appends a row to ``<outputs>/<run_name>/history.csv``
   (the run and the KPIs the report left in ``kpis.json``) and points
   ``<outputs>/<run_name>/latest`` at the run.

A failed run leaves the earlier products, ``history.csv`` and ``latest`` exactly as they
were; its ``run.log`` and ``manifest.json`` say what failed.

This module is the orchestration only: select the stages, check their reads against the
registry (:mod:`crmlab.stages`), execute the notebooks with papermill, keep the manifest
and the log. The run store (lock, staging, promotion, ``latest``, history) is
:mod:`crmlab.runstore`; the HTML export is :mod:`crmlab.export`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from crmlab import __version__
from crmlab import stages as registry
from crmlab.config import (
    PROJ_ROOT,
    Params,
    apply_privacy,
    check_writable,
    load_params,
    plain,
)
from crmlab.errors import InputError, Terminated
from crmlab.export import export_html, export_report
from crmlab.i18n import catalog
from crmlab.io import check_inputs, file_sha256, write_json, write_text
from crmlab.kernel import kernel_manager
from crmlab.runstore import (
    REPORT_FILE,
    clean_stale,
    point_latest,
    promote,
    record_history,
    run_lock,
    staging_dir,
)
from crmlab.stages import Stage

__all__ = [
    "NOTEBOOKS_DIR",
    "StageFailed",
    "Terminated",
    "RunResult",
    "run",
]

NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
KERNEL = "python3"  # only labels the executed notebook; crmlab.kernel picks the interpreter
log = logging.getLogger("crmlab.runner")


@contextlib.contextmanager
def _sigterm_as_exception():
    """Turn SIGTERM into :class:`Terminated` so the run is marked failed like Ctrl-C."""

    def handler(signum, frame):
        raise Terminated("terminated (SIGTERM)")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class StageFailed(Exception):
    """A notebook failed; ``notebook`` is the executed copy showing the failing cell."""

    def __init__(self, stage: str, notebook: Path, detail: str):
        super().__init__(f"stage '{stage}' failed: {detail}; open {notebook} (the failing cell is marked)")
        self.stage = stage
        self.notebook = notebook
        self.detail = detail


@dataclass
class RunResult:
    """What a finished run left behind."""

    run_id: str
    run_dir: Path
    status: str
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    report: Path | None = None


# --- small helpers ------------------------------------------------------------------------


def _new_run_id() -> str:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(2)}"


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "crmlab": __version__}
    for dist in (
        "pandas", "numpy", "scipy", "pyarrow", "scikit-learn", "statsmodels", "matplotlib",
        "seaborn", "papermill", "nbconvert", "ipykernel", "dask",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[dist] = metadata.version(dist)
    return out


def _git_commit() -> dict[str, Any] | None:
    if not (PROJ_ROOT / ".git").exists():
        return None
    try:
        head = subprocess.run(
            ["git", "-C", str(PROJ_ROOT), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(PROJ_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head, "dirty": bool(dirty)}


def _inputs(params: Params) -> dict[str, dict[str, str]]:
    out = {}
    for section in ("transactions", "survey", "churn", "interactions"):
        sec = params.get(section)
        if sec:
            out[section] = {"path": sec["path"], "sha256": file_sha256(sec["path"])}
    return out


def notebook_source(stage: Stage, language: str = "en") -> Path:
    """Return the notebook a stage runs: ``notebooks/<file>``, or ``notebooks/zh/<file>`` in Chinese."""
    return NOTEBOOKS_DIR / stage.notebook if language == "en" else NOTEBOOKS_DIR / language / stage.notebook


def _execute(stage: Stage, index: int, run_dir: Path, nb_params: dict, progress: bool,
             engine_name: str = "pandas") -> Path:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    source = notebook_source(stage, nb_params.get("language", "en"))
    out = run_dir / f"{index:02d}_{stage.name}.ipynb"
    attempts = 2  # one retry when the kernel fails to start (ZMQ port races)
    for attempt in range(attempts):
        try:
            pm.execute_notebook(
                str(source),
                str(out),
                parameters=nb_params,
                kernel_name=KERNEL,
                kernel_manager_class=kernel_manager(engine_name),
                cwd=str(source.parent),
                progress_bar=progress,
                log_output=False,
                request_save_on_cell_execute=True,
            )
            return out
        except PapermillExecutionError as exc:
            evalue = str(exc.evalue).strip().splitlines()[0] if exc.evalue else ""
            if exc.ename.split(".")[-1] == "InputError":
                raise InputError(f"{evalue} (stage '{stage.name}'; see {out})") from None
            raise StageFailed(stage.name, out, f"{exc.ename}: {evalue}") from None
        except RuntimeError as exc:
            text = str(exc)
            if attempt + 1 < attempts and ("didn't respond" in text or "Address already in use" in text):
                log.warning("kernel did not start (%s); retrying once", text)
                continue
            raise StageFailed(stage.name, out, f"kernel error: {text}") from None
        except Exception as exc:  # DeadKernelError and friends
            name = type(exc).__name__
            hint = " (the kernel died: out of memory?)" if "Dead" in name else ""
            raise StageFailed(stage.name, out, f"{name}: {exc}{hint}") from None
    raise AssertionError("unreachable")


def _setup_logging(run_dir: Path) -> logging.Handler:
    handler = logging.FileHandler(run_dir / "run.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("crmlab", "papermill"):
        lg = logging.getLogger(name)
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    return handler


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
    log.info(msg)


def _check_requirements(stages: Sequence[Stage], params: Params, final: Path) -> None:
    """Every product a selected stage reads is made earlier in this run or exists."""
    made: set[str] = set()
    for st in stages:
        if st.skip_reason(params):
            continue
        for need in st.reads:
            if need not in made and not (final / need).exists():
                producer = registry.producer_of(need) or "?"
                raise InputError(
                    f"{final / need}: needed by stage '{st.name}' but not found; "
                    f"run the '{producer}' stage first (e.g. --only {producer},{st.name})"
                )
        made.update(st.writes)


# --- the run -------------------------------------------------------------------------------


def run(
    params_file: str | Path | None = None,
    only: Iterable[str] | None = None,
    overrides: Iterable[str] = (),
    progress: bool = True,
) -> RunResult:
    """Run the chain (or the ``only`` stages) and return where it left its results.

    Raises
    ------
    InputError
        Bad params or input (before or during a stage): CLI exit code 2.
    StageFailed
        A notebook raised: CLI exit code 1; the executed notebook marks the failing cell.
    Terminated
        SIGTERM arrived: the run is marked failed (CLI exit code 143).
    """
    with _sigterm_as_exception():
        return _run(params_file, only, overrides, progress)


def _run(
    params_file: str | Path | None,
    only: Iterable[str] | None,
    overrides: Iterable[str],
    progress: bool,
) -> RunResult:
    overrides = list(overrides)
    params = load_params(params_file, overrides)
    stages = registry.select_stages(only)
    check_writable(params, params_file or "params")
    apply_privacy(params)
    check_inputs(params)
    final = Path(params.paths.processed) / params.run_name
    _check_requirements(stages, params, final)

    parent = Path(params.paths.outputs) / params.run_name
    with run_lock(parent):
        stale = clean_stale(final, parent)
        if stale:
            log.info("removed leftovers of killed runs: %s", ", ".join(stale))
        run_id = _new_run_id()
        run_dir = parent / run_id
        for sub in ("figures", "tables"):
            (run_dir / sub).mkdir(parents=True, exist_ok=True)
        handler = _setup_logging(run_dir)
        staging = staging_dir(final, run_id)
        try:
            return _run_stages(params, stages, overrides, run_id, run_dir, final, staging, progress)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            for name in ("crmlab", "papermill"):
                logging.getLogger(name).removeHandler(handler)
            handler.close()


def _timed_export(notebook: Path, language: str) -> float:
    """Render a stage's executed notebook to HTML beside it; return the seconds it took."""
    t0 = time.perf_counter()
    export_html(notebook, notebook.with_suffix(".html"), language=language)
    return round(time.perf_counter() - t0, 2)


def _wait_for_pages(pending: list[tuple[str, Future]], manifest: dict[str, Any]) -> None:
    """Wait for the stages' HTML pages; record their seconds, or fail the stage whose page failed."""
    while pending:
        name, page = pending.pop(0)
        entry = manifest["stages"][name]
        try:
            entry["html_seconds"] = page.result()
        except BaseException as exc:
            entry.update(status="failed", error=f"HTML export: {exc}")
            raise


def _run_stages(
    params: Params,
    stages: list[Stage],
    overrides: list[str],
    run_id: str,
    run_dir: Path,
    final: Path,
    staging: Path,
    progress: bool,
) -> RunResult:
    resolved = run_dir / "params.yaml"
    write_text(yaml.safe_dump(plain(params), sort_keys=False, allow_unicode=True), resolved)
    manifest: dict[str, Any] = {
        "run_id": run_id,
        "run_name": params.run_name,
        "status": "running",
        "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "finished": None,
        "command": sys.argv,
        "overrides": overrides,
        "params": plain(params),
        "inputs": _inputs(params),
        "versions": _versions(),
        "git": _git_commit(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "stages": {},
    }
    mpath = run_dir / "manifest.json"
    write_json(manifest, mpath)
    staging.mkdir(parents=True, exist_ok=True)
    result = RunResult(run_id, run_dir, "running", manifest["stages"])
    nb_params = {
        "params_file": str(resolved),
        "overrides": [],
        "run_dir": str(run_dir),
        "processed_dir": str(staging),
        "language": params.language,
    }
    _say(f"crmlab run {params.run_name}/{run_id} -> {run_dir}")
    runnable = [s for s in stages if not s.skip_reason(params)]
    k = 0
    # A stage's HTML page is rendered on a thread of this process while the next stage's
    # kernel computes (the kernel is another process: the two use two cores). One thread
    # renders every page, in order; the run waits for all of them before it succeeds.
    exports = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmlab-html")
    pending: list[tuple[str, Future]] = []
    try:
        for st in stages:
            reason = st.skip_reason(params)
            if reason:
                manifest["stages"][st.name] = {"status": "skipped", "reason": reason}
                _say(f"[skip] {st.name}: {reason}")
                write_json(manifest, mpath)
                continue
            k += 1
            index = registry.STAGES.index(st) + 1
            _say(f"[{k}/{len(runnable)}] {st.name}: "
                 f"{notebook_source(st, params.language).relative_to(NOTEBOOKS_DIR.parent).as_posix()}")
            manifest["stages"][st.name] = {"status": "running", "notebook": None}
            write_json(manifest, mpath)
            t0 = time.perf_counter()
            try:
                out = _execute(st, index, run_dir, nb_params, progress, params.engine.name)
            except (InputError, StageFailed) as exc:
                nb = run_dir / f"{index:02d}_{st.name}.ipynb"
                manifest["stages"][st.name] = {
                    "status": "failed",
                    "seconds": round(time.perf_counter() - t0, 2),
                    "notebook": nb.name if nb.exists() else None,
                    "error": str(exc),
                }
                if nb.exists():
                    with contextlib.suppress(Exception):
                        exports.submit(_timed_export, nb, params.language).result()
                raise
            entry = {
                "status": "success",
                "seconds": round(time.perf_counter() - t0, 2),
                "notebook": out.name,
                "html": out.with_suffix(".html").name,
            }
            manifest["stages"][st.name] = entry
            pending.append((st.name, exports.submit(_timed_export, out, params.language)))
            if st.name == "report":
                _wait_for_pages(pending, manifest)
                title = catalog(params.language)("report.page_title", run_name=params.run_name, run_id=run_id)
                entry["report"] = export_report(out, run_dir / REPORT_FILE, title, params.language).name
            write_json(manifest, mpath)
            _say(f"      done in {entry['seconds']:.1f} s")
        _wait_for_pages(pending, manifest)
        covered = [name for st in stages for name in st.writes]
        removed = promote(staging, final, covered)
        if removed:
            manifest["removed_stale_products"] = removed
            _say(f"removed products this run did not make (stale): {', '.join(removed)}")
    except BaseException as exc:
        exports.shutdown(wait=True)  # the pages of the stages that ran are still written
        manifest["status"] = "failed"
        manifest["error"] = str(exc) or type(exc).__name__
        for entry in manifest["stages"].values():  # a stage cut short by a signal
            if entry.get("status") == "running":
                entry["status"] = "failed"
                entry["error"] = manifest["error"]
        manifest["finished"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        write_json(manifest, mpath)
        if isinstance(exc, (InputError, StageFailed, KeyboardInterrupt, Terminated)):
            log.error("run failed: %s", manifest["error"])
        else:  # a bug or an environment failure: keep the traceback for whoever debugs it
            log.exception("run failed: %s", manifest["error"])
        raise
    exports.shutdown(wait=True)
    manifest["status"] = "success"
    manifest["finished"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    manifest["products"] = str(final)
    write_json(manifest, mpath)
    record_history(run_dir, manifest)
    point_latest(run_dir.parent, run_id)
    result.status = "success"
    report = run_dir / REPORT_FILE
    if not report.exists():
        htmls = sorted(run_dir.glob("[0-9][0-9]_*.html"))
        report = htmls[-1] if htmls else None
    result.report = report
    _say(f"run {run_id} succeeded; products in {final}")
    if report is not None:
        log.info("report: %s", report)
    return result
