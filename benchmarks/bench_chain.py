"""Wall time of the default chain, per stage: kernel start-up, compute, the rest.

Runs ``crmlab run --params params/default.yaml --set run_name=bench --no-progress`` on the
stages whose notebooks exist (the chain is built stage by stage; missing ones are listed,
not failed), then splits each stage's seconds from the run's ``manifest.json`` with the
timestamps papermill writes into the executed notebook:

- start-up: from papermill starting the notebook to its first cell (kernel launch);
- compute: the sum of the cells' durations (imports included: a fresh kernel pays them);
- rest: the stage's seconds minus both (saving the notebook);
- HTML: the seconds of the stage's HTML export, which runs on a thread of ``crmlab run``
  while the next stage computes (so it is not part of the stage's seconds).

``--export-copies K`` runs the chain on a generated raw export instead: CDNOW copied K
times (216 copies = 15M rows), rows sorted by date as exports come, written as Parquet to
the benchmark data folder (``CRMLAB_BENCH_DATA``, default ``benchmarks/data/``), with
products and outputs there too; ``--only`` picks the stages (e.g.
``cleaning,segmentation``). The peak memory of the whole run (every process it starts) is
sampled every 50 ms.

``--engine dask`` runs the chain on the Dask engine (a local cluster; cleaning then writes
``transactions.parquet`` as a customer-bucketed folder).

Usage: ``python benchmarks/bench_chain.py [--params FILE] [--run-name bench]
[--export-copies 216 --only cleaning,segmentation] [--engine dask]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crmlab.config import load_params  # noqa: E402
from crmlab.runner import NOTEBOOKS_DIR  # noqa: E402
from crmlab.stages import STAGES  # noqa: E402


def runnable_stages(params_file: str, run_name: str, only: list[str] | None = None
                    ) -> tuple[list[str], dict[str, str]]:
    """Stages to run (notebook present, inputs obtainable) and why the others are left out."""
    params = load_params(params_file, [f"run_name={run_name}"])
    processed = Path(params.paths.processed) / params.run_name
    made: set[str] = set()
    chosen, left_out = [], {}
    for st in STAGES:
        if only and st.name not in only:
            continue
        if not (NOTEBOOKS_DIR / st.notebook).exists():
            left_out[st.name] = f"notebooks/{st.notebook} not written yet"
            continue
        reason = st.skip_reason(params)
        if reason:
            left_out[st.name] = f"skipped: {reason}"
            continue
        missing = [r for r in st.reads if r not in made and not (processed / r).exists()]
        if missing:
            left_out[st.name] = f"needs {', '.join(missing)} from a stage not run"
            continue
        chosen.append(st.name)
        made.update(st.writes)
    return chosen, left_out


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def split_stage(notebook: Path, seconds: float) -> dict[str, float]:
    """Start-up / compute / rest seconds of one executed notebook."""
    nb = nbformat.read(notebook, as_version=4)
    started = _when(nb.metadata["papermill"]["start_time"])
    cells = [c.metadata.get("papermill", {}) for c in nb.cells]
    first = min((_when(c["start_time"]) for c in cells if c.get("start_time")), default=started)
    startup = max(0.0, (first - started).total_seconds())
    compute = sum(c.get("duration") or 0.0 for c in cells)
    return {"seconds": seconds, "startup": startup, "compute": compute,
            "rest": max(0.0, seconds - startup - compute)}


def latest_run(outputs: Path, run_name: str, since: float) -> Path | None:
    """The newest run folder of ``run_name`` with a manifest written after ``since``."""
    runs = [m.parent for m in (outputs / run_name).glob("*/manifest.json")
            if m.stat().st_mtime >= since]
    return max(runs, key=lambda p: p.name) if runs else None


def export_params(copies: int) -> str:
    """A params file for a generated date-sorted export of ``copies`` CDNOW copies."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import datasets

    path = datasets.export_copy(copies, "date")
    target = datasets.DATA / f"chain_x{copies}.yaml"
    target.write_text(
        f"run_name: chain_x{copies}\n"
        "engine: {name: pandas}\n"
        f"paths: {{processed: {datasets.DATA / f'processed_x{copies}'}, outputs: {datasets.DATA / 'outputs'}}}\n"
        f"transactions:\n  path: {path}\n"
        "  columns: {customer_id: customer_id, date: date, amount: dollar_value, "
        "quantity: number_of_cds}\n"
        '  date_format: "%Y%m%d"\n'
        'periods: {calibration_end: "1997-09-30", observation_end: "1998-06-30"}\n',
        encoding="utf-8",
    )
    return str(target)


def _peak_rss(proc: subprocess.Popen, stop: threading.Event, out: list[int]) -> None:
    root = psutil.Process(proc.pid)
    while not stop.is_set():
        total = 0
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        out[0] = max(out[0], total)
        time.sleep(0.05)


def run(params_file: str = "params/default.yaml", run_name: str = "bench",
        only: list[str] | None = None, engine: str | None = None) -> dict:
    """Run the chain once and return per-stage timings (also for a failed run)."""
    stages, left_out = runnable_stages(params_file, run_name, only)
    result: dict = {"stages": {}, "left_out": left_out, "status": "not run"}
    if not stages:
        return result
    cmd = [str(Path(sys.executable).with_name("crmlab")), "run", "--params", params_file,
           "--set", f"run_name={run_name}", "--only", ",".join(stages), "--no-progress"]
    if engine:
        cmd += ["--set", f"engine.name={engine}"]
    t0 = time.time()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak, stop = [0], threading.Event()
    watcher = threading.Thread(target=_peak_rss, args=(proc, stop, peak), daemon=True)
    watcher.start()
    _, stderr = proc.communicate()
    stop.set()
    watcher.join()
    result["wall"] = time.perf_counter() - started
    result["peak_mb"] = peak[0] / 2**20
    result["exit"] = proc.returncode
    params = load_params(params_file, [f"run_name={run_name}"])
    folder = latest_run(Path(params.paths.outputs), run_name, t0 - 1)
    if folder is None:
        result["status"] = f"failed before a run folder was made: {stderr.strip()[-300:]}"
        return result
    manifest = json.loads((folder / "manifest.json").read_text())
    result["status"] = manifest.get("status")
    result["run_dir"] = str(folder)
    for name, entry in manifest["stages"].items():
        nb = folder / entry["notebook"] if entry.get("notebook") else None
        if entry.get("status") in ("success", "failed") and nb is not None and nb.exists():
            result["stages"][name] = {**split_stage(nb, entry["seconds"]), "status": entry["status"],
                                      "html": entry.get("html_seconds") or 0.0}
        else:
            result["stages"][name] = {"status": entry.get("status"), "seconds": entry.get("seconds")}
    return result


def table(result: dict) -> str:
    """The timings as a Markdown table."""
    lines = ["| stage | status | seconds | kernel start-up | compute | rest (save) | HTML (beside) |",
             "|---|---|---:|---:|---:|---:|---:|"]
    tot = {"seconds": 0.0, "startup": 0.0, "compute": 0.0, "rest": 0.0, "html": 0.0}
    for name, s in result["stages"].items():
        if "startup" in s:
            for key in tot:
                tot[key] += s[key]
            lines.append(f"| {name} | {s['status']} | {s['seconds']:.1f} | {s['startup']:.1f} "
                         f"| {s['compute']:.1f} | {s['rest']:.1f} | {s['html']:.1f} |")
        else:
            lines.append(f"| {name} | {s['status']} | {s.get('seconds') or 0:.1f} | — | — | — | — |")
    lines.append(f"| **all stages** | {result['status']} | {tot['seconds']:.1f} | "
                 f"{tot['startup']:.1f} | {tot['compute']:.1f} | {tot['rest']:.1f} | {tot['html']:.1f} |")
    if "wall" in result:
        lines.append(f"| `crmlab run` wall time | exit {result['exit']} | {result['wall']:.1f} "
                     f"| peak {result['peak_mb']:,.0f} MB | | | |")
    for name, why in result["left_out"].items():
        lines.append(f"| {name} | not run: {why} | | | | | |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--run-name", default="bench")
    ap.add_argument("--export-copies", type=int, default=0,
                    help="run on a generated date-sorted export of this many CDNOW copies")
    ap.add_argument("--only", default="", help="comma-separated stages (default: all)")
    ap.add_argument("--engine", choices=["pandas", "dask"], default=None,
                    help="engine.name for the run (default: the params file's)")
    args = ap.parse_args(argv)
    params = export_params(args.export_copies) if args.export_copies else args.params
    only = [s for s in args.only.split(",") if s] or None
    print(f"chain: crmlab run --params {params} (run_name={args.run_name})"
          + (f" --only {','.join(only)}" if only else "")
          + (f" --set engine.name={args.engine}" if args.engine else ""), flush=True)
    result = run(params, args.run_name, only, args.engine)
    print()
    print(table(result))
    return result


if __name__ == "__main__":
    main()
