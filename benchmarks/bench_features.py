"""Transactions -> customer table: crmlab against lifetimes, 70k to 100M rows.

Every measurement runs in a fresh child process (``--child``), so one run's memory does
not inflate the next and peak memory is that run's alone:

- seconds: best wall-clock time of ``--repeat`` calls on a frame already in memory (reading
  the Parquet file is timed separately), plus the CPU seconds of that call — the CPU time
  moves less than wall time when other jobs share the machine;
- peak MB: the largest resident memory of the child and every process it started (Dask
  workers included), sampled every 50 ms, and never below the child's own ``ru_maxrss``;
  ``data MB`` is the child's memory with the transactions loaded, before the call.

Each child saves its customer table; the parent checks that crmlab's ``frequency``,
``recency``, ``T`` and ``monetary_value`` equal lifetimes' exactly (``check_exact``), and
that the Dask engine's full table equals the pandas engine's.

Usage: ``python benchmarks/bench_features.py [--sizes 1,10,100] [--100m] [--repeat 3]``
(sizes are copies of CDNOW: 1 = 69,659 rows, 100 = 7M, 1450 = 101M).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import pandas as pd
import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import datasets  # noqa: E402

BTYD = ["customer_id", "frequency", "recency", "T", "monetary_value"]
MB = 1 << 20


# --- the child: one tool, one size -----------------------------------------------------------


def _buckets(k: int) -> int:
    """Customer buckets for k copies: 7M rows in 16 (440k rows each), 101M in 64 (1.6M)."""
    return 64 if k > 100 else 16


def _rss() -> int:
    return psutil.Process().memory_info().rss


def _child(tool: str, k: int, repeat: int, out: Path) -> dict:
    from crmlab.features import customer_summary

    end = datasets.OBSERVATION_END
    t0 = time.perf_counter()
    if tool == "crmlab-dask":
        from crmlab.engine import engine_session, read_parquet

        path = datasets.bucketed_copy(k, n_buckets=_buckets(k))
        runs = []
        with engine_session({"name": "dask"}) as eng:
            info = str(eng)
            read_s = 0.0
            loaded = _rss()
            for _ in range(repeat):
                t = time.perf_counter()
                table = customer_summary(read_parquet(path, eng), end)
                runs.append((time.perf_counter() - t, None))
        rows = int((path / "_COMPLETE").read_text().split()[0])
    else:
        df = pd.read_parquet(datasets.parquet_copy(k))
        read_s = time.perf_counter() - t0
        rows = len(df)
        loaded = _rss()
        info = "pandas, one process"
        runs = []
        for _ in range(repeat):
            t, c = time.perf_counter(), time.process_time()
            if tool == "crmlab":
                table = customer_summary(df, end)
            else:
                from lifetimes.utils import summary_data_from_transaction_data

                table = summary_data_from_transaction_data(
                    df, "customer_id", "date", monetary_value_col="amount",
                    observation_period_end=end, freq="D",
                ).reset_index()
            runs.append((time.perf_counter() - t, time.process_time() - c))
    best = min(runs)
    table = table if tool != "lifetimes" else table.sort_values("customer_id")
    keep = table.columns if k <= 100 else BTYD
    table[list(keep)].reset_index(drop=True).to_parquet(out)
    return {
        "tool": tool,
        "copies": k,
        "rows": rows,
        "customers": len(table),
        "read_s": read_s,
        "seconds": best[0],
        "cpu_s": best[1],
        "all_seconds": [r[0] for r in runs],
        "data_mb": loaded / MB,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "engine": info,
    }


# --- the parent: spawn, watch memory, compare ------------------------------------------------


def measure(tool: str, k: int, repeat: int) -> dict:
    """Run one tool on one size in a child process; return its numbers."""
    out = datasets.DATA / f"result_{tool}_x{k}.parquet"
    cmd = [sys.executable, __file__, "--child", tool, str(k), str(repeat), str(out)]
    result = datasets.measure_child(cmd, f"{tool} x{k}")
    result["output"] = str(out)
    return result


def identical(a: str, b: str, columns: list[str] | None = None) -> bool:
    """Whether two saved customer tables are equal to the last bit (on ``columns``)."""
    x, y = pd.read_parquet(a), pd.read_parquet(b)
    cols = columns or list(x.columns)
    x = x[cols].astype({"frequency": "float64"})
    y = y[cols].astype({"frequency": "float64"})
    try:
        pd.testing.assert_frame_equal(x, y, check_exact=True)
    except AssertionError as exc:
        print(f"  NOT IDENTICAL {Path(a).name} vs {Path(b).name}: {str(exc)[:300]}", flush=True)
        return False
    return True


def identical_copies(output: str, k: int) -> bool:
    """Whether the first and the last CDNOW copy in a k-copy result equal the 1-copy result.

    Reads only those customers (the table is sorted by id, so Parquet statistics skip the
    rest); the 1-copy reference is computed here with the pandas engine.
    """
    from crmlab.features import customer_summary

    ref = customer_summary(pd.read_parquet(datasets.parquet_copy(1)), datasets.OBSERVATION_END)
    ref = ref[BTYD].astype({"frequency": "float64"})
    ok = True
    for r in (0, k - 1):
        prefix = f"r{r:04d}-"
        got = pd.read_parquet(
            output, filters=[("customer_id", ">=", prefix), ("customer_id", "<", f"r{r:04d}.")]
        )
        got["customer_id"] = "r0000-" + got["customer_id"].str.slice(len(prefix))
        got = got[BTYD].astype({"frequency": "float64"}).reset_index(drop=True)
        try:
            pd.testing.assert_frame_equal(got, ref, check_exact=True)
        except AssertionError as exc:
            print(f"  copy {r} of {k} differs from the 1-copy table: {str(exc)[:300]}", flush=True)
            ok = False
    return ok


def run(sizes: list[int], dask_sizes: list[int], repeat: int, lifetimes: bool) -> list[dict]:
    """Measure every size; return one row per size and engine."""
    rows = []
    for k in sizes:
        datasets.parquet_copy(k)
        ours = measure("crmlab", k, repeat)
        row = {**ours, "engine_label": "crmlab (pandas)"}
        if lifetimes:
            theirs = measure("lifetimes", k, 1 if k >= 100 else repeat)
            row.update(
                lifetimes_s=theirs["seconds"], lifetimes_cpu_s=theirs["cpu_s"],
                lifetimes_peak_mb=theirs["peak_mb"],
                speedup=theirs["seconds"] / ours["seconds"],
                speedup_cpu=theirs["cpu_s"] / ours["cpu_s"],
                identical=identical(ours["output"], theirs["output"], BTYD),
            )
        rows.append(row)
        _print_row(row)
    for k in dask_sizes:
        datasets.bucketed_copy(k, n_buckets=_buckets(k))
        # twice below 100M: the first call also starts Python and imports in every worker
        runs = 1 if k > 100 else 2
        row = {**measure("crmlab-dask", k, runs), "engine_label": "crmlab (dask, local cluster)"}
        ref = datasets.DATA / f"result_crmlab_x{k}.parquet"
        if ref.exists():
            row["identical"] = identical(ref.as_posix(), row["output"])
        else:
            row["identical"] = identical_copies(row["output"], k)
        rows.append(row)
        _print_row(row)
    return rows


def _fmt(v, spec: str) -> str:
    return "—" if v is None else format(v, spec)


def _print_row(r: dict) -> None:
    print(
        f"  {r['rows']:>12,} rows  {r['engine_label']:<30} {r['seconds']:7.2f} s"
        f"  peak {r['peak_mb']:7.0f} MB"
        + (f"  lifetimes {r['lifetimes_s']:6.2f} s  x{r['speedup']:.1f}" if "speedup" in r else ""),
        flush=True,
    )


def table(rows: list[dict]) -> str:
    """The results as a Markdown table."""
    head = (
        "| rows | customers | engine | seconds (cpu) | peak MB (data) | lifetimes s (cpu) "
        "| lifetimes peak MB | speed-up wall (cpu) | identical |\n"
        "|---:|---:|---|---:|---:|---:|---:|---:|---|\n"
    )
    lines = []
    for r in rows:
        ident = {True: "yes", False: "NO"}.get(r.get("identical"), "—")
        # the Dask engine reads inside the call: nothing is loaded beforehand
        data = "—" if r["tool"] == "crmlab-dask" else f"{r['data_mb']:,.0f}"
        if "speedup" in r:
            theirs = (
                f"{r['lifetimes_s']:.2f} ({r['lifetimes_cpu_s']:.2f}) | {r['lifetimes_peak_mb']:,.0f} "
                f"| {r['speedup']:.1f}× ({r['speedup_cpu']:.1f}×)"
            )
        else:
            theirs = "— | — | —"
        lines.append(
            f"| {r['rows']:,} | {r['customers']:,} | {r['engine_label']} "
            f"| {r['seconds']:.2f} ({_fmt(r.get('cpu_s'), '.2f')}) "
            f"| {r['peak_mb']:,.0f} ({data}) | {theirs} | {ident} |"
        )
    return head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> list[dict]:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", nargs=4, metavar=("TOOL", "K", "REPEAT", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--sizes", default="1,10,100", help="CDNOW copies for pandas vs lifetimes")
    ap.add_argument("--dask-sizes", default="100", help="CDNOW copies for the Dask engine ('' = none)")
    ap.add_argument("--100m", dest="big", action="store_true",
                    help="also 1,450 copies (101M rows, ~3 GB of Parquet) on the Dask engine")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-lifetimes", action="store_true")
    args = ap.parse_args(argv)
    if args.child:
        tool, k, repeat, out = args.child
        print(json.dumps(_child(tool, int(k), int(repeat), Path(out))), flush=True)
        return []
    sizes = [int(x) for x in args.sizes.split(",") if x]
    dask_sizes = [int(x) for x in args.dask_sizes.split(",") if x] + ([1450] if args.big else [])
    print(f"customer features: CDNOW copies {sizes} (+ Dask {dask_sizes}), "
          f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GB", flush=True)
    rows = run(sizes, dask_sizes, args.repeat, not args.no_lifetimes)
    print()
    print(table(rows))
    return rows


if __name__ == "__main__":
    main()
