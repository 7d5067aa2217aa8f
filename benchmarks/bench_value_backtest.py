"""Rolling-origin backtest of the value stage on CDNOW: the chosen model vs BG/NBD x Gamma-Gamma.

For every month-end calibration cut-off from 1997-06-30 to 1998-01-31 (observation end
1998-06-30) the whole value procedure runs as the stage runs it - models fitted and
chosen from the rows up to the cut-off only (:func:`crmlab.value.backtest`) - and is
scored on its own holdout. The CDNOW rows are cleaned as ``params/default.yaml`` says
(exact duplicates quarantined), so the numbers match a default run.

Prints a Markdown table per cut-off (chosen model / benchmark on RMSE, Spearman,
top-decile share and aggregate error, with whether issue 14's acceptance holds) and the
full per-model table; writes both to ``benchmarks/data/value_backtest.md`` and
``value_backtest.csv``.

Usage: ``python benchmarks/bench_value_backtest.py [--params params/default.yaml]
[--origins 1997-06-30,1997-12-31] [--set periods.observation_end=1998-03-31] [--out NAME]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crmlab import value  # noqa: E402
from crmlab.cleaning import clean_transactions  # noqa: E402
from crmlab.config import load_params  # noqa: E402
from crmlab.io import read_table  # noqa: E402

OUT = ROOT / "benchmarks" / "data"
DEFAULT_ORIGINS = [d.date().isoformat() for d in pd.date_range("1997-06-30", "1998-01-31", freq="ME")]


def acceptance(row: pd.Series) -> str:
    """Issue 14's test for one cut-off: 'yes', or the criteria that fail."""
    fails = []
    if not row.spearman_chosen >= row.spearman_benchmark:
        fails.append("Spearman")
    if not row.top_decile_share_chosen >= row.top_decile_share_benchmark:
        fails.append("top decile")
    if not row.rmse_chosen <= 1.02 * row.rmse_benchmark:
        fails.append("RMSE")
    if not abs(row.aggregate_error_chosen) <= abs(row.aggregate_error_benchmark) + 0.05:
        fails.append("total")
    return "yes" if not fails else "no: " + ", ".join(fails)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default=str(ROOT / "params" / "default.yaml"))
    ap.add_argument("--origins", default=",".join(DEFAULT_ORIGINS))
    ap.add_argument("--set", action="append", default=[], metavar="dotted.key=value",
                    help="params override, as crmlab run --set (e.g. periods.observation_end=1998-03-31)")
    ap.add_argument("--out", default="value_backtest", help="file stem under benchmarks/data/")
    args = ap.parse_args()
    p = load_params(args.params, args.set)
    raw, _ = read_table(p.transactions.path)
    tx = clean_transactions(raw, p.transactions, p.periods.observation_end).clean
    obs = p.periods.observation_end
    origins = [o.strip() for o in args.origins.split(",") if o.strip()]
    cache: dict = {}
    t0 = time.perf_counter()
    table, info = value.backtest(tx, obs, origins, p.value, cache)
    seconds = time.perf_counter() - t0
    s = value.backtest_summary(table)
    lines = [
        f"CDNOW, observation end {obs}, {len(tx):,} clean rows; {len(origins)} cut-offs in "
        f"{seconds:.0f} s ({seconds / len(origins):.1f} s per cut-off); choice by {p.value.select_by}.",
        "",
        "| calibration_end | chosen | RMSE chosen / benchmark | Spearman | top-decile share "
        "| total error chosen / benchmark | acceptance |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, r in s.iterrows():
        lines.append(
            f"| {r.origin:%Y-%m-%d} | `{r.chosen}` w={info.set_index('origin').loc[r.origin, 'glm_weight']:.2f} | {r.rmse_chosen:.1f} / {r.rmse_benchmark:.1f} "
            f"({r.rmse_ratio - 1:+.1%}) | {r.spearman_chosen:.3f} / {r.spearman_benchmark:.3f} "
            f"| {r.top_decile_share_chosen:.3f} / {r.top_decile_share_benchmark:.3f} "
            f"| {r.aggregate_error_chosen:+.1%} / {r.aggregate_error_benchmark:+.1%} | {acceptance(r)} |"
        )
    failed = info[info["benchmark_error"].notna()]
    for _, r in failed.iterrows():
        lines.append(f"\nbenchmark failed at {r.origin:%Y-%m-%d}: {r.benchmark_error}")
    full = table.copy()
    full["origin"] = pd.to_datetime(full["origin"]).dt.date
    text = "\n".join(lines) + "\n\nEvery model:\n\n" + full.round(4).to_string(index=False) + "\n"
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{args.out}.md").write_text(text, encoding="utf-8")
    full.to_csv(OUT / f"{args.out}.csv", index=False)


if __name__ == "__main__":
    main()
