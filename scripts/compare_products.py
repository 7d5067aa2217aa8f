"""Compare the products of two runs: every Parquet and JSON file must be identical.

Used to show that a refactoring changed no result: run the chain on the same params before
and after (into two ``paths.processed`` folders) and compare::

    python scripts/compare_products.py BEFORE_DIR AFTER_DIR

Parquet files are compared as DataFrames (values, dtypes, index, column order); JSON files
as parsed values. Keys that a run decides by itself (run ids, timestamps, durations,
versions) are ignored. Exit code 0 when identical, 1 when not (each difference printed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

# Keys a run decides by itself, or that name where the checkout lives (the input's absolute
# path in cleaning_report.json differs between two clones of the same commit).
VOLATILE = {"run_id", "created", "started", "finished", "timestamp", "seconds", "duration",
            "elapsed", "versions", "generated", "git", "file"}


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _files(root: Path) -> dict[str, Path]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if p.suffix == ".json" and p.is_file():
            out[str(rel)] = p
        elif p.suffix == ".parquet" and not any(q.suffix == ".parquet" for q in rel.parents):
            out[str(rel)] = p
    return out


def compare(before: Path, after: Path) -> list[str]:
    """Differences between the products under two folders (empty when identical)."""
    a, b = _files(before), _files(after)
    problems = [f"only in {before}: {n}" for n in sorted(a.keys() - b.keys())]
    problems += [f"only in {after}: {n}" for n in sorted(b.keys() - a.keys())]
    for name in sorted(a.keys() & b.keys()):
        if name.endswith(".json"):
            x = _strip(json.loads(a[name].read_text(encoding="utf-8")))
            y = _strip(json.loads(b[name].read_text(encoding="utf-8")))
            if x != y:
                problems.append(f"{name}: JSON differs")
        else:
            x, y = pd.read_parquet(a[name]), pd.read_parquet(b[name])
            try:
                pd.testing.assert_frame_equal(x, y, check_exact=True)
            except AssertionError as exc:
                problems.append(f"{name}: {str(exc).splitlines()[0]}")
    return problems


def main(argv: list[str]) -> int:
    """Compare two product folders named on the command line; 0 when identical, 1 when not."""
    if len(argv) != 2:
        print(__doc__)
        return 2
    before, after = Path(argv[0]), Path(argv[1])
    problems = compare(before, after)
    n = len(_files(before))
    for p in problems:
        print(p)
    print(f"{n} products compared: " + ("identical" if not problems else f"{len(problems)} differ"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
