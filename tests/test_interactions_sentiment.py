import math

import numpy as np
import pandas as pd
import pytest

from crmlab.config import PROJ_ROOT
from crmlab.interactions import sentiment as s

POS = ["质量很好，非常满意", "物流很快，包装完好，推荐购买", "非常好用，性价比高", "服务态度好，下次还来",
       "屏幕清晰，运行流畅，很满意", "做工精致，值得购买", "很喜欢，质量不错", "好评，卖家发货快"]
NEG = ["太差了，再也不买了", "质量很差，用了两天就坏了", "服务态度恶劣，不推荐", "物流太慢，包装破损",
       "屏幕有坏点，非常失望", "做工粗糙，退货了", "很不满意，质量太差", "差评，卖家不发货"]


@pytest.fixture(scope="module")
def toy_model():
    corpus = pd.DataFrame({"text": POS * 3 + NEG * 3,
                           "label": ["positive"] * 24 + ["negative"] * 24})
    clean, _ = s.prepare_corpus(corpus)
    return s.chinese_pipeline("char13_lr_c10", seed=0).fit(clean["text"], clean["label"])


def test_prepare_corpus_dedups_and_drops_contradictions():
    corpus = pd.DataFrame({
        "text": ["好评", " 好评 ", "好评！", "差评", "差评", "一般", "一般", "？？", "ＯＫ很好"],
        "label": ["positive", "positive", "positive", "negative", "negative",
                  "positive", "negative", "negative", "positive"],
    })
    clean, summary = s.prepare_corpus(corpus)
    # "好评" three ways (spaces, punctuation) is one review; "一般" is under both labels;
    # "？？" has no letter; full-width ＯＫ folds to OK.
    assert clean.to_dict("list") == {"text": ["OK很好", "好评", "差评"],
                                     "label": ["positive", "positive", "negative"]}
    assert summary == {"lines": 9, "punctuation_only": 1, "distinct_raw": 6,
                       "contradictions_raw": 1, "distinct": 4, "contradictions": 1,
                       "kept": 3, "negative": 1, "positive": 2}
    assert corpus.loc[1, "text"] == " 好评 "  # argument untouched


@pytest.mark.parametrize("frame, match", [
    (pd.DataFrame({"txt": ["a"], "label": ["positive"]}), "Required column 'text'"),
    (pd.DataFrame({"text": ["a"], "label": ["good"]}), "label must be"),
], ids=["missing-column", "bad-label"])
def test_prepare_corpus_rejects_bad_input(frame, match):
    with pytest.raises(ValueError, match=match):
        s.prepare_corpus(frame)


def test_split_has_no_text_on_both_sides():
    corpus = pd.DataFrame({"text": [f"评论{i}" for i in range(100)] * 2,
                           "label": (["positive"] * 50 + ["negative"] * 50) * 2})
    clean, _ = s.prepare_corpus(corpus)
    train, test = s.split_corpus(clean, seed=1)
    assert (len(train), len(test)) == (80, 20)
    assert not set(train["text"]) & set(test["text"])
    assert (test["label"] == "positive").sum() == 10  # stratified
    with pytest.raises(ValueError, match="distinct"):
        s.split_corpus(pd.DataFrame({"text": ["a", "a"], "label": ["positive"] * 2}), seed=1)


@pytest.mark.parametrize("text, expected", [
    ("质量很好", "zh"), ("ThinkPad质量很好", "zh"), ("iPhone 13 屏幕很好", "zh"),
    ("I bought it at 京东 and it was great", "en"), ("Great service!", "en"),
    ("Ｇｒｅａｔ", "en"), ("Très bien, merci", "en"), ("12345", "unknown"), ("👍👍", "unknown"),
    ("!!!", "unknown"), ("この商品は素晴らしい", "unknown"), ("Отлично", "unknown"),
    ("", "none"), ("   ", "none"), (None, "none"), (np.nan, "none"), (pd.NA, "none"),
], ids=["zh", "zh-brand", "zh-model-number", "en-with-place", "en", "fullwidth-en", "latin-fr",
        "digits", "emoji", "punct", "japanese", "cyrillic", "empty", "blank", "None", "nan", "NA"])
def test_detect_language(text, expected):
    assert s.detect_language(text) == expected


def test_vader_mapping_signs():
    great, neutral, terrible = s.english_sentiment(["great service", "the", "terrible, rude staff"])
    assert great > 0.5 > terrible
    assert neutral == 0.5
    assert 0 <= terrible and great <= 1


def test_chinese_model_on_clear_sentences(toy_model):
    p = s.score_chinese(toy_model, ["质量很好，非常满意", "太差了，再也不买了", None, ""])
    assert p[0] > 0.5 > p[1]
    assert np.isnan(p[2:]).all()


def test_score_texts_mixed_and_missing(toy_model):
    texts = pd.Series(["质量很好，非常满意", "terrible, rude staff", None, "", "123", "great"],
                      index=list("abcdef"))
    out = s.score_texts(texts, toy_model)
    assert list(out.index) == list("abcdef")
    assert list(out["language"]) == ["zh", "en", "none", "none", "unknown", "en"]
    assert list(out["method"]) == ["zh-char-ngram-lr", "vader", "none", "none", "none", "vader"]
    assert out["sentiment"].iloc[2:5].isna().all()
    assert out["label"].iloc[2:5].isna().all()
    assert out.loc["a", "label"] == "positive" and out.loc["b", "label"] == "negative"
    assert s.score_texts([], toy_model).empty


def test_label_thresholds(toy_model):
    # VADER's band is compound ±0.05, i.e. 0.475..0.525; "the" scores exactly 0.5.
    out = s.score_texts(["the", "great"], toy_model, bands={"vader": (0.4, 0.99)})
    assert list(out["label"]) == ["neutral", "neutral"]


def test_wilson_interval_known_value():
    low, high = s.wilson_interval(81, 100)  # textbook: 0.7222..0.8749
    assert math.isclose(low, 0.7222, abs_tol=1e-4) and math.isclose(high, 0.8749, abs_tol=1e-4)
    with pytest.raises(ValueError):
        s.wilson_interval(5, 0)


def test_unknown_model_name():
    with pytest.raises(ValueError, match="unknown model"):
        s.chinese_pipeline("bert")


@pytest.mark.slow
def test_real_corpus_held_out_accuracy():
    # The one full-corpus test (~10-20 s on a shared 2-core machine).
    fit = s.train_chinese(s.read_corpus(PROJ_ROOT / "data" / "raw" / "sentiment"), seed=42)
    c = fit.corpus
    assert (c["lines"], c["distinct_raw"], c["contradictions_raw"]) == (35123, 17410, 47)
    assert c["kept"] == c["distinct"] - c["contradictions"] == c["train"] + c["test"]
    assert fit.evaluation["accuracy"] >= 0.85
    assert fit.evaluation["ci_low"] < fit.evaluation["accuracy"] < fit.evaluation["ci_high"]
    p = s.score_chinese(fit, ["质量很好，非常满意", "太差了，再也不买了"])
    assert p[0] > 0.5 > p[1]
