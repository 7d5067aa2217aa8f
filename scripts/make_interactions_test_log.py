"""Write the small simulated interaction log the pipeline tests read (tests/data/).

    python scripts/make_interactions_test_log.py

The same generator as the demo log (:mod:`crmlab.interactions.simulate`, see
``data/raw/interactions/README.md`` for how it simulates), run on the 1,500 CDNOW customers
of ``tests/data/cdnow_small.txt`` with fewer contacts per purchase and fewer dirty rows, so
``params/test.yaml`` runs the interactions stage in seconds. Same inputs -> same bytes.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from make_interactions_demo import read_cdnow, read_lines  # noqa: E402

from crmlab.interactions.simulate import DemoConfig, prepare_texts, simulate_interactions  # noqa: E402
from crmlab.io import write_text  # noqa: E402

SMALL = replace(
    DemoConfig(), pre_mean=0.4, post_mean=0.35, background_per_year=0.6,
    n_duplicates=6, n_missing_id=3, n_unknown_customer=3, n_bad_timestamp=2, n_future=2,
    n_bad_rating=3, n_bad_group=2, n_contact_texts=5,
)
OUT = ROOT / "tests" / "data" / "interactions_small.csv"


def main() -> int:
    """Simulate the test log from the small CDNOW file and write it."""
    purchases = read_cdnow(ROOT / "tests" / "data" / "cdnow_small.txt")
    corpus = ROOT / "data" / "raw" / "sentiment"
    texts = prepare_texts(read_lines(corpus / "pos.txt"), read_lines(corpus / "neg.txt"), SMALL.max_text_chars)
    log = simulate_interactions(purchases, texts, SMALL)
    write_text(log.to_csv(index=False, lineterminator="\n"), OUT)
    print(f"{OUT}: {len(log):,} rows, {OUT.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
