"""Customer features on the three row orders of one export: crmlab, lifetimes, DuckDB, polars.

The same 7M rows (CDNOW x 100, 2.36M string customer ids) in three orders — customer
(file order, customers contiguous), date (sorted by date, as most exports come) and
shuffled — and four tools computing ``frequency``, ``recency``, ``T`` and
``monetary_value`` (lifetimes' definitions, ``freq="D"``):

- ``crmlab``: :func:`crmlab.features.customer_summary` (pandas engine, one thread);
- ``lifetimes``: ``lifetimes.utils.summary_data_from_transaction_data``;
- ``duckdb``: one SQL query on a DuckDB table already loaded (all cores);
- ``polars``: one lazy query on a polars frame already loaded (all cores).

Each tool runs in a fresh child process on data already in memory in its own format
(reading the Parquet file is not timed); the best wall time of ``--repeat`` calls
(lifetimes once) and its CPU seconds (CPU above wall means several cores worked). All
twelve measurements run one after the other in the same run, so their ratios compare
like with like even on a busy machine. "identical" compares each table with lifetimes':
``exact`` is ``assert_frame_equal(check_exact=True)``; otherwise the largest relative
difference of ``monetary_value`` (DuckDB and polars add same-day amounts in another order).

DuckDB and polars are benchmark-only dependencies: ``pip install -e ".[bench]"``.

Usage: ``python benchmarks/bench_orders.py [--copies 100] [--repeat 3] [--tools ...]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import datasets  # noqa: E402

TOOLS = ("crmlab", "lifetimes", "duckdb", "polars")
BTYD = ["customer_id", "frequency", "recency", "T", "monetary_value"]
MB = 1 << 20


def ordered_copy(k: int, order: str) -> Path:
    """``cdnow_x{k}_{order}.parquet``: the k-copy frame in that row order, on first use."""
    path = datasets.DATA / f"cdnow_x{k}_{order}.parquet"
    if not path.exists():
        df = datasets.reorder(pd.read_parquet(datasets.parquet_copy(k)), order)
        df[["customer_id", "date", "amount"]].to_parquet(path, row_group_size=1 << 20)
    return path


# --- the child ----------------------------------------------------------------------------------


def _load(tool: str, path: Path):
    if tool == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.execute(f"CREATE TABLE tx AS SELECT * FROM read_parquet('{path}')")
        return con
    if tool == "polars":
        import polars as pl

        return pl.read_parquet(path)
    return pd.read_parquet(path)


def _duckdb(con, end: str) -> pd.DataFrame:
    return con.execute(
        f"""
        WITH d AS (
            SELECT customer_id, CAST(date AS DATE) AS day, SUM(amount) AS amount
            FROM tx WHERE CAST(date AS DATE) <= DATE '{end}' GROUP BY 1, 2
        )
        SELECT customer_id,
               COUNT(*) - 1 AS frequency,
               CAST(MAX(day) - MIN(day) AS DOUBLE) AS recency,
               CAST(DATE '{end}' - MIN(day) AS DOUBLE) AS T,
               CASE WHEN COUNT(*) > 1
                    THEN (SUM(amount) - ARG_MIN(amount, day)) / (COUNT(*) - 1)
                    ELSE 0 END AS monetary_value
        FROM d GROUP BY 1 ORDER BY 1
        """
    ).df()


def _polars(df, end: str) -> pd.DataFrame:
    import datetime as dt

    import polars as pl

    stop = dt.date.fromisoformat(end)
    daily = (
        df.lazy()
        .with_columns(pl.col("date").dt.date().alias("day"))
        .filter(pl.col("day") <= stop)
        .group_by("customer_id", "day")
        .agg(pl.col("amount").sum())
    )
    out = (
        daily.group_by("customer_id")
        .agg(
            n=pl.len(),
            first=pl.col("day").min(),
            last=pl.col("day").max(),
            total=pl.col("amount").sum(),
            first_amount=pl.col("amount").sort_by("day").first(),
        )
        .select(
            "customer_id",
            frequency=pl.col("n") - 1,
            recency=(pl.col("last") - pl.col("first")).dt.total_days().cast(pl.Float64),
            T=(pl.lit(stop) - pl.col("first")).dt.total_days().cast(pl.Float64),
            monetary_value=pl.when(pl.col("n") > 1)
            .then((pl.col("total") - pl.col("first_amount")) / (pl.col("n") - 1))
            .otherwise(0.0),
        )
        .sort("customer_id")
        .collect()
    )
    return out.to_pandas()


def _call(tool: str, data, end: str) -> pd.DataFrame:
    if tool == "crmlab":
        from crmlab.features import customer_summary

        return customer_summary(data, end)
    if tool == "lifetimes":
        from lifetimes.utils import summary_data_from_transaction_data

        return summary_data_from_transaction_data(
            data, "customer_id", "date", monetary_value_col="amount",
            observation_period_end=end, freq="D",
        ).reset_index()
    if tool == "duckdb":
        return _duckdb(data, end)
    return _polars(data, end)


def _child(tool: str, path: Path, repeat: int, out: Path) -> dict:
    end = datasets.OBSERVATION_END
    data = _load(tool, path)
    runs = []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        table = _call(tool, data, end)
        runs.append((time.perf_counter() - t, time.process_time() - c))
    best = min(runs)
    table = table[BTYD].sort_values("customer_id", kind="stable").reset_index(drop=True)
    table["customer_id"] = table["customer_id"].astype(str)
    table.astype({"frequency": "float64"}).to_parquet(out)
    return {"tool": tool, "seconds": best[0], "cpu_s": best[1], "customers": len(table),
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# --- the parent ---------------------------------------------------------------------------------


def measure(tool: str, path: Path, repeat: int) -> dict:
    """One tool on one file, in a child process; its numbers and peak memory."""
    out = datasets.DATA / f"orders_{tool}_{path.stem}.parquet"
    cmd = [sys.executable, __file__, "--child", tool, str(path), str(repeat), str(out)]
    result = datasets.measure_child(cmd, f"{tool} on {path.name}")
    result["output"] = str(out)
    return result


def agreement(ours: str, reference: str) -> str:
    """``exact`` when equal to the last bit, else the largest relative difference."""
    x, y = pd.read_parquet(ours), pd.read_parquet(reference)
    try:
        pd.testing.assert_frame_equal(x, y, check_exact=True)
        return "exact"
    except AssertionError:
        pass
    if not x["customer_id"].equals(y["customer_id"]):
        return "DIFFERENT customers"
    worst = 0.0
    for col in BTYD[1:]:
        a, b = x[col].to_numpy(float), y[col].to_numpy(float)
        rel = np.abs(a - b) / np.maximum(np.abs(b), 1e-300)
        worst = max(worst, float(np.nanmax(np.where(a == b, 0.0, rel))))
    return f"rel. diff ≤ {worst:.0e}"


def run(k: int, repeat: int, tools: list[str], orders: list[str]) -> list[dict]:
    rows = []
    for order in orders:
        path = ordered_copy(k, order)
        row = {"order": order, "rows": None}
        for tool in tools:
            r = measure(tool, path, 1 if tool == "lifetimes" else repeat)
            row[tool] = r
            print(f"  {order:<9} {tool:<10} {r['seconds']:7.2f} s (cpu {r['cpu_s']:.2f})"
                  f"  peak {r['peak_mb']:,.0f} MB", flush=True)
        if "lifetimes" in row:
            for tool in tools:
                if tool != "lifetimes":
                    row[tool]["agrees"] = agreement(row[tool]["output"],
                                                    row["lifetimes"]["output"])
        row["rows"] = len(pd.read_parquet(path, columns=["amount"]))
        rows.append(row)
    return rows


_LABEL = {"customer": "customer-contiguous", "date": "date-sorted", "shuffled": "shuffled"}


def table(rows: list[dict]) -> str:
    """Markdown: one line per row order, seconds (CPU) per tool, crmlab's ratios."""
    tools = [t for t in TOOLS if t in rows[0]]
    head = "| row order | " + " | ".join(f"{t} s (cpu)" for t in tools)
    sep = "|---|" + "---:|" * len(tools)
    extra = []
    if "crmlab" in tools:
        extra = [t for t in tools if t != "crmlab"]
        head += " | " + " | ".join(f"crmlab speed-up vs {t}" for t in extra) + " | crmlab = lifetimes"
        sep += "---:|" * len(extra) + "---|"
    lines = [head + " |", sep]
    for r in rows:
        cells = [f"{r[t]['seconds']:.2f} ({r[t]['cpu_s']:.2f})" for t in tools]
        if extra:
            ours = r["crmlab"]["seconds"]
            cells += [f"{r[t]['seconds'] / ours:.1f}×" for t in extra]
            cells.append(r["crmlab"].get("agrees", "—"))
        lines.append(f"| {_LABEL[r['order']]} | " + " | ".join(cells) + " |")
    rows_n = rows[0]["rows"]
    customers = rows[0][tools[0]]["customers"]
    note = [f"\n{rows_n:,} rows, {customers:,} customers. DuckDB / polars agreement with "
            "lifetimes: " + "; ".join(
                f"{t} {r[t].get('agrees', '—')} ({r['order']})" for r in rows
                for t in tools if t in ("duckdb", "polars"))]
    return "\n".join(lines) + "\n" + "\n".join(note) + "\n"


def main(argv: list[str] | None = None) -> list[dict]:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", nargs=4, metavar=("TOOL", "PATH", "REPEAT", "OUT"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--copies", type=int, default=100, help="CDNOW copies (100 = 7M rows)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--orders", default=",".join(datasets.ORDERS))
    args = ap.parse_args(argv)
    if args.child:
        tool, path, repeat, out = args.child
        print(json.dumps(_child(tool, Path(path), int(repeat), Path(out))), flush=True)
        return []
    tools = [t for t in args.tools.split(",") if t]
    orders = [o for o in args.orders.split(",") if o]
    print(f"customer features by row order: CDNOW x {args.copies}, tools {tools}", flush=True)
    rows = run(args.copies, args.repeat, tools, orders)
    print()
    print(table(rows))
    return rows


if __name__ == "__main__":
    main()
