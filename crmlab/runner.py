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
   stages use earlier runs' products, see ``StageContext.find``);
5. renders each executed notebook to HTML without code;
6. only when every stage succeeded: moves the staged products over
   ``<processed>/<run_name>/`` and points ``<outputs>/<run_name>/latest`` at the run.

A failed run leaves the earlier products and ``latest`` exactly as they were.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import logging
import os
import platform
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from crmlab import __version__
from crmlab.config import PROJ_ROOT, Params, load_params
from crmlab.errors import InputError
from crmlab.io import check_inputs, file_sha256, write_json, write_text

__all__ = [
    "Stage",
    "STAGES",
    "NOTEBOOKS_DIR",
    "StageFailed",
    "RunResult",
    "stage_names",
    "select_stages",
    "run",
]

NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
KERNEL = "python3"
log = logging.getLogger("crmlab.runner")


@dataclass(frozen=True)
class Stage:
    """One link of the chain.

    Attributes
    ----------
    name : str
        The stage name used by ``--only``.
    notebook : str
        File name under ``notebooks/``.
    section : str, tuple of str, or None
        Params section that must be present for the stage to run (else it is skipped);
        with a tuple, any one of them is enough (the notebook uses what is there).
    requires : tuple of str
        Products of earlier stages the notebook reads.
    produces : tuple of str
        Products the notebook writes.
    needs_keys : tuple of str
        Dotted params keys that must be non-null (else the stage is skipped).
    """

    name: str
    notebook: str
    section: str | tuple[str, ...] | None
    requires: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()
    needs_keys: tuple[str, ...] = ()

    def skip_reason(self, params: Params) -> str | None:
        """Why this stage cannot run with these params, or None."""
        sections = (self.section,) if isinstance(self.section, str) else (self.section or ())
        if sections and not any(params.get(s) for s in sections):
            names = " or ".join(f"'{s}:'" for s in sections)
            return f"no {names} section in the params"
        for dotted in self.needs_keys:
            node: Any = params
            for part in dotted.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if node in (None, ""):
                return f"params key '{dotted}' is not set"
        return None


STAGES: tuple[Stage, ...] = (
    Stage(
        "cleaning",
        "01_data_cleaning.ipynb",
        "transactions",
        produces=("transactions.parquet", "quarantine.parquet", "cleaning_report.json"),
    ),
    Stage(
        "segmentation",
        "02_segmentation.ipynb",
        "transactions",
        requires=("transactions.parquet",),
        produces=("customers.parquet",),
    ),
    Stage(
        "value",
        "03_value_prediction.ipynb",
        "transactions",
        requires=("transactions.parquet",),
        produces=("value_predictions.parquet", "value_metrics.json"),
        needs_keys=("periods.calibration_end", "periods.observation_end"),
    ),
    Stage(
        "satisfaction",
        "04_satisfaction_analysis.ipynb",
        "survey",
        produces=("satisfaction.json",),
    ),
    # Labelled churn table and/or the transactional early warning on customers.parquet:
    # either input is enough, the notebook does what its inputs allow.
    Stage(
        "churn",
        "05_churn_warning.ipynb",
        ("churn", "transactions"),
        produces=("churn_scores.parquet", "churn_metrics.json"),
    ),
    Stage("report", "06_summary_report.ipynb", None),
)


def stage_names() -> list[str]:
    """Stage names in chain order."""
    return [s.name for s in STAGES]


def select_stages(only: Iterable[str] | None) -> list[Stage]:
    """The stages to run, in chain order; ``only`` names a subset (any order)."""
    if not only:
        return list(STAGES)
    wanted = []
    for item in only:
        wanted += [x.strip() for x in item.split(",") if x.strip()]
    known = stage_names()
    for name in wanted:
        if name not in known:
            raise InputError(f"--only: unknown stage {name!r} (stages: {', '.join(known)})")
    return [s for s in STAGES if s.name in wanted]


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
    for section in ("transactions", "survey", "churn"):
        sec = params.get(section)
        if sec:
            out[section] = {"path": sec["path"], "sha256": file_sha256(sec["path"])}
    return out


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


@contextlib.contextmanager
def _run_lock(folder: Path):
    """Exclusive lock for one run_name; a stale lock (dead pid) is taken over."""
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


def _promote(staging: Path, final: Path) -> None:
    """Move staged products over the current ones (each an atomic rename)."""
    final.mkdir(parents=True, exist_ok=True)
    for item in staging.iterdir():
        if item.is_file():
            os.replace(item, final / item.name)
        elif item.is_dir():
            target = final / item.name
            if target.exists():
                shutil.rmtree(target)
            os.replace(item, target)
    shutil.rmtree(staging, ignore_errors=True)


def _point_latest(parent: Path, run_id: str) -> None:
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


def export_html(notebook: Path, target: Path) -> Path:
    """Render an executed notebook to self-contained HTML with code hidden."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook, as_version=4)
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(nb)
    return write_text(body, target)


def _execute(stage: Stage, index: int, run_dir: Path, nb_params: dict, progress: bool) -> Path:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    source = NOTEBOOKS_DIR / stage.notebook
    out = run_dir / f"{index:02d}_{stage.name}.ipynb"
    attempts = 2  # one retry when the kernel fails to start (ZMQ port races)
    for attempt in range(attempts):
        try:
            pm.execute_notebook(
                str(source),
                str(out),
                parameters=nb_params,
                kernel_name=KERNEL,
                cwd=str(NOTEBOOKS_DIR),
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
        for need in st.requires:
            if need not in made and not (final / need).exists():
                producer = next((s.name for s in STAGES if need in s.produces), "?")
                raise InputError(
                    f"{final / need}: needed by stage '{st.name}' but not found; "
                    f"run '{producer}' too (e.g. --only {producer},{st.name})"
                )
        made.update(st.produces)


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
    """
    overrides = list(overrides)
    params = load_params(params_file, overrides)
    stages = select_stages(only)
    check_inputs(params)
    final = Path(params.paths.processed) / params.run_name
    _check_requirements(stages, params, final)

    parent = Path(params.paths.outputs) / params.run_name
    with _run_lock(parent):
        run_id = _new_run_id()
        run_dir = parent / run_id
        for sub in ("figures", "tables"):
            (run_dir / sub).mkdir(parents=True, exist_ok=True)
        handler = _setup_logging(run_dir)
        staging = final / f".staging-{run_id}"
        try:
            return _run_stages(params, stages, overrides, run_id, run_dir, final, staging, progress)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            for name in ("crmlab", "papermill"):
                logging.getLogger(name).removeHandler(handler)
            handler.close()


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
    write_text(yaml.safe_dump(_plain(params), sort_keys=False, allow_unicode=True), resolved)
    manifest: dict[str, Any] = {
        "run_id": run_id,
        "run_name": params.run_name,
        "status": "running",
        "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "finished": None,
        "command": sys.argv,
        "overrides": overrides,
        "params": _plain(params),
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
    }
    _say(f"crmlab run {params.run_name}/{run_id} -> {run_dir}")
    runnable = [s for s in stages if not s.skip_reason(params)]
    k = 0
    try:
        for st in stages:
            reason = st.skip_reason(params)
            if reason:
                manifest["stages"][st.name] = {"status": "skipped", "reason": reason}
                _say(f"[skip] {st.name}: {reason}")
                write_json(manifest, mpath)
                continue
            k += 1
            index = STAGES.index(st) + 1
            _say(f"[{k}/{len(runnable)}] {st.name}: notebooks/{st.notebook}")
            manifest["stages"][st.name] = {"status": "running", "notebook": None}
            write_json(manifest, mpath)
            t0 = time.perf_counter()
            try:
                out = _execute(st, index, run_dir, nb_params, progress)
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
                        export_html(nb, nb.with_suffix(".html"))
                raise
            html = export_html(out, out.with_suffix(".html"))
            manifest["stages"][st.name] = {
                "status": "success",
                "seconds": round(time.perf_counter() - t0, 2),
                "notebook": out.name,
                "html": html.name,
            }
            write_json(manifest, mpath)
            _say(f"      done in {manifest['stages'][st.name]['seconds']:.1f} s")
    except BaseException as exc:
        manifest["status"] = "failed"
        manifest["error"] = str(exc) or type(exc).__name__
        manifest["finished"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        write_json(manifest, mpath)
        log.error("run failed: %s", manifest["error"])
        raise
    _promote(staging, final)
    manifest["status"] = "success"
    manifest["finished"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    manifest["products"] = str(final)
    write_json(manifest, mpath)
    _point_latest(run_dir.parent, run_id)
    result.status = "success"
    report = run_dir / "report.html"
    if not report.exists():
        htmls = sorted(run_dir.glob("[0-9][0-9]_*.html"))
        report = htmls[-1] if htmls else None
    result.report = report
    _say(f"run {run_id} succeeded; products in {final}")
    return result


def _plain(obj: Any) -> Any:
    """Params -> plain dicts/lists for YAML/JSON."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj
