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

The second half of this module reads run folders for the report notebook: this run's
products (:func:`load_report_inputs`), the previous successful run's KPIs and customer
snapshot (:func:`previous_run`) and the history (:func:`read_history`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import logging
import os
import platform
import re
import secrets
import shutil
import signal
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
from crmlab.config import (
    PROJ_ROOT,
    Params,
    apply_privacy,
    check_writable,
    load_params,
)
from crmlab.errors import InputError, Terminated
from crmlab.io import check_inputs, file_sha256, read_header, read_json, write_json, write_text
from crmlab.kernel import ProjectKernelManager
from crmlab.runstore import HISTORY_FILE, KPIS_FILE, REPORT_FILE, read_history
from crmlab import stages as registry
from crmlab.stages import Stage

__all__ = [
    "NOTEBOOKS_DIR",
    "StageFailed",
    "Terminated",
    "RunResult",
    "run",
    "export_html",
    "export_report",
]

NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
KERNEL = "python3"  # only labels the executed notebook; crmlab.kernel picks the interpreter
log = logging.getLogger("crmlab.runner")

# What a run folder holds for people (report.html) and for the next run (the rest).
# Cells tagged like this (formulas, method notes for a class) stay in NN_report.html and the
# notebook but are left out of report.html, which is for readers who skip the method.
METHOD_TAG = "method"


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


def _clean_stale(final: Path, parent: Path) -> list[str]:
    """Remove what killed runs of this run_name left behind (called under the run lock).

    ``.staging-*`` folders under ``<processed>/<run_name>/`` and ``.latest-*`` links are
    only ever in use by a live run, and the lock says none is; run folders whose
    manifest still says ``running`` are marked ``failed``.
    """
    removed = []
    for folder, pattern in ((final, ".staging-*"), (parent, ".latest-*")):
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


def _promote(staging: Path, final: Path, covered: Iterable[str] = ()) -> list[str]:
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


# nbconvert's "lab" template loads require.js (and mermaid.js when a diagram is present) from
# a CDN and MathJax from another; a report opened offline must not wait for any of them.
# Figures are PNG outputs, which the exporter already embeds as data: URIs.
_OFFLINE_BLOCKS = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
"""
_NO_MATHJAX = """{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
"""


def _exporter(mathjax: bool, remove_tags: Iterable[str] = ()):
    import jinja2
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    from crmlab.safety import sanitize_outputs_preprocessor

    name = "crmlab_stage.html.j2" if mathjax else "crmlab_report.html.j2"
    template = _OFFLINE_BLOCKS + ("" if mathjax else _NO_MATHJAX)
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[jinja2.DictLoader({name: template})],
        template_file=name,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    if remove_tags:
        exporter.register_preprocessor(
            TagRemovePreprocessor(remove_cell_tags=set(remove_tags)), enabled=True
        )
    # values from the data (ids, headers, survey groups) are text, never markup: every
    # output is escaped/cleaned before it becomes HTML (crmlab.safety)
    exporter.register_preprocessor(sanitize_outputs_preprocessor(), enabled=True)
    return exporter


def _with_csp(body: str, policy: str) -> str:
    """Put a Content-Security-Policy meta first in ``<head>`` (before any script tag)."""
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    head = re.search(r"<head[^>]*>", body)
    if head is None:
        return meta + body
    return body[: head.end()] + "\n" + meta + body[head.end():]


def export_html(notebook: Path, target: Path) -> Path:
    """Render an executed notebook to HTML with code hidden (formulas need MathJax online)."""
    import nbformat

    from crmlab.safety import STAGE_CSP

    nb = nbformat.read(notebook, as_version=4)
    body, _ = _exporter(mathjax=True).from_notebook_node(nb)
    return write_text(_with_csp(body, STAGE_CSP), target)


def export_report(notebook: Path, target: Path, title: str) -> Path:
    """Render the report notebook to ``report.html``: code hidden, fully offline.

    Cells tagged ``method`` (formulas and method notes) are left out, and no script is
    loaded at all (no MathJax, no require.js): the page is plain HTML and CSS with the
    figures embedded as data URIs, so it renders the same from an e-mail attachment on a
    machine without network. A Content-Security-Policy (:data:`crmlab.safety.REPORT_CSP`)
    forbids scripts and fetches, and every output is cleaned of markup from the data.
    """
    import nbformat

    from crmlab.safety import REPORT_CSP

    nb = nbformat.read(notebook, as_version=4)
    nb.metadata["title"] = title
    body, _ = _exporter(mathjax=False, remove_tags=(METHOD_TAG,)).from_notebook_node(nb)
    return write_text(_with_csp(body, REPORT_CSP), target)


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
                kernel_manager_class=ProjectKernelManager,
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
        for need in st.reads:
            if need not in made and not (final / need).exists():
                producer = next((s.name for s in registry.STAGES if need in s.writes), "?")
                raise InputError(
                    f"{final / need}: needed by stage '{st.name}' but not found; "
                    f"run '{producer}' too (e.g. --only {producer},{st.name})"
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
    with _run_lock(parent):
        stale = _clean_stale(final, parent)
        if stale:
            log.info("removed leftovers of killed runs: %s", ", ".join(stale))
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
            index = registry.STAGES.index(st) + 1
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
            entry = {
                "status": "success",
                "seconds": round(time.perf_counter() - t0, 2),
                "notebook": out.name,
                "html": html.name,
            }
            if st.name == "report":
                title = f"crmlab report: {params.run_name} {run_id}"
                entry["report"] = export_report(out, run_dir / REPORT_FILE, title).name
            manifest["stages"][st.name] = entry
            write_json(manifest, mpath)
            _say(f"      done in {entry['seconds']:.1f} s")
        covered = [name for st in stages for name in st.writes]
        removed = _promote(staging, final, covered)
        if removed:
            manifest["removed_stale_products"] = removed
            _say(f"removed products this run did not make (stale): {', '.join(removed)}")
    except BaseException as exc:
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
    manifest["status"] = "success"
    manifest["finished"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    manifest["products"] = str(final)
    write_json(manifest, mpath)
    _record_history(run_dir, manifest)
    _point_latest(run_dir.parent, run_id)
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


def _record_history(run_dir: Path, manifest: dict[str, Any]) -> None:
    """Append this successful run to ``<outputs>/<run_name>/history.csv``.

    The row carries the KPIs the report stage left in ``kpis.json`` (empty when the report
    did not run). History is a convenience for trend plots: failing to write it is logged
    and said, never turns a successful run into a failed one, and a history file that
    cannot be parsed is left untouched rather than overwritten.
    """
    from crmlab.report import append_history, history_row

    path = run_dir.parent / HISTORY_FILE
    try:
        doc = read_json(run_dir / KPIS_FILE) if (run_dir / KPIS_FILE).exists() else {}
        obs = doc.get("observation_end") or ((manifest["params"].get("periods") or {}).get(
            "observation_end"))
        ran = [k for k, v in manifest["stages"].items() if v.get("status") == "success"]
        row = history_row(manifest["run_id"], manifest["finished"], obs, ran, doc.get("kpis"))
        table = append_history(read_history(run_dir.parent), row)
        from crmlab.safety import neutralise_formulas

        text = neutralise_formulas(table).to_csv(index=False, lineterminator="\n", float_format="%.12g")
        write_text(text, path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _say(f"warning: {path}: history not updated ({exc})")


def _plain(obj: Any) -> Any:
    """Params -> plain dicts/lists for YAML/JSON."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


