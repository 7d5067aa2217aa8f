"""Run every benchmark and print its table (``make bench``).

1. customer features by row order (``bench_orders.py``): crmlab, lifetimes, DuckDB and
   polars on the same 7M rows sorted by customer, by date and shuffled;
2. customer features by size (``bench_features.py``): crmlab against lifetimes at 70k /
   700k / 7M rows, and the Dask engine at 7M (and 101M with ``--100m``: about 10 minutes
   and 3 GB of Parquet written on first use);
3. the chain on a 15M-row date-sorted export (``bench_chain.py --export-copies 216 --only
   cleaning,segmentation``): seconds per stage and the peak memory of the run;
4. the default chain (``bench_chain.py``): seconds per stage, split into kernel start-up
   and compute;
5. with ``--100m``, also the chain on a 100M-row date-sorted export (CDNOW x 1,436, written
   day by day on first use: 5 minutes, 0.5 GB of Parquet) on the Dask engine (a local
   cluster), ``cleaning,segmentation``: seconds per stage and the peak memory of the run.

The tables are also written to ``results.md`` in the data folder (``CRMLAB_BENCH_DATA``,
default ``benchmarks/data/``, git-ignored) with the machine and the date, ready to paste
into the README. Timings move with whatever else the machine is doing: run it when the
machine is quiet, and compare the CPU seconds too.

Usage: ``python benchmarks/run_all.py [--100m] [--quick] [--no-chain] [--chain-copies 216]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_chain  # noqa: E402
import bench_features  # noqa: E402
import bench_orders  # noqa: E402
import datasets  # noqa: E402


def machine() -> str:
    """One line: cores, memory, CPU model, Python, date."""
    cpu = platform.processor() or platform.machine()
    info = Path("/proc/cpuinfo")
    if info.exists():
        names = [ln.split(":", 1)[1].strip() for ln in info.read_text().splitlines()
                 if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} cores ({cpu}), {psutil.virtual_memory().total / 2**30:.0f} GB RAM, "
        f"Python {platform.python_version()}, {dt.date.today().isoformat()}, "
        f"load average {load:.1f} at the start"
    )


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--100m", dest="big", action="store_true",
                    help="add the 101M-row Dask features run and the 100M-row Dask chain")
    ap.add_argument("--quick", action="store_true", help="70k and 700k rows only, no Dask")
    ap.add_argument("--no-chain", action="store_true", help="skip the chain timings")
    ap.add_argument("--chain-copies", type=int, default=216,
                    help="CDNOW copies of the date-sorted export for the chain (216 = 15M rows)")
    args = ap.parse_args(argv)
    where = machine()
    print(f"crmlab benchmarks — {where}\n", flush=True)
    out = [f"# crmlab benchmarks\n\n{where}\n"]

    copies = 10 if args.quick else 100
    orders = bench_orders.main(["--copies", str(copies)])
    out.append("## Customer features by row order\n\n" + bench_orders.table(orders))

    feats = ["--sizes", "1,10" if args.quick else "1,10,100"]
    feats += ["--dask-sizes", "" if args.quick else "100"] + (["--100m"] if args.big else [])
    rows = bench_features.main(feats)
    out.append("## Transactions -> customer table\n\n" + bench_features.table(rows))

    if not args.no_chain:
        chain_copies = 10 if args.quick else args.chain_copies
        result = bench_chain.main(["--export-copies", str(chain_copies), "--run-name",
                                   f"chain_x{chain_copies}", "--only", "cleaning,segmentation"])
        out.append(f"## cleaning + segmentation on a date-sorted export (CDNOW x {chain_copies})"
                   "\n\n" + bench_chain.table(result))
        result = bench_chain.main([])
        out.append("## Default chain (params/default.yaml)\n\n" + bench_chain.table(result))
        if args.big:
            result = bench_chain.main(["--export-copies", "1436", "--run-name", "chain_x1436_dask",
                                       "--only", "cleaning,segmentation", "--engine", "dask"])
            out.append("## cleaning + segmentation on 100M rows, Dask engine (CDNOW x 1436)"
                       "\n\n" + bench_chain.table(result))

    datasets.DATA.mkdir(parents=True, exist_ok=True)
    target = datasets.DATA / "results.md"
    target.write_text("\n".join(out), encoding="utf-8")
    print(f"tables written to {target}")


if __name__ == "__main__":
    main()
