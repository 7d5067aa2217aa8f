"""The catalogs: both languages hold the same keys with the same placeholders, Chinese is Chinese."""

from __future__ import annotations

import re

import pytest

from crmlab.i18n import EN, LANGUAGES, Catalog, MissingMessage, catalog, load_messages, placeholders

# Latin words a Chinese text may keep: names of methods and people, acronyms the Chinese
# literature writes in Latin letters, file and column names shown as code.
ALLOWED_LATIN = {
    "RFM", "CLV", "NPS", "ROI", "AUC", "ROC", "PR", "BG", "NBD", "BTYD", "ECSI", "ACSI", "KPI", "PLS",
    "SEM", "AVE", "HTMT", "ARI", "ECE", "LMG", "IPA", "CDNOW", "Telco", "IBM", "CSV", "HTML", "PDF",
    "Excel", "Parquet", "YAML", "ID", "Tweedie", "Gamma", "Pareto", "Lorenz", "Gini", "Welch",
    "Newcombe", "Wilson", "Wald", "Cronbach", "Spearman", "Pearson", "Kendall", "VADER", "Brier",
    "Shapley", "Hughes", "Fader", "Hardie", "Lee", "Fornell", "Kaiser", "Bonferroni", "Poisson",
    "Pandas", "pandas", "Dask", "scikit", "learn", "statsmodels", "lifetimes", "papermill", "crmlab",
    "GBK", "UTF", "TF", "IDF", "SVM", "MAE", "RMSE", "MAPE", "WeChat", "App", "app", "web",
    "Web", "email", "mail", "pp", "log", "logit", "max", "min", "days", "k", "means", "silhouette",
    "AIC", "BIC", "VIF", "SE", "CI", "OR", "df", "Cohen", "Kaplan", "Meier", "Lin", "Newey",
    "West", "Huber", "Mann", "Whitney", "Chi", "Jaccard", "Sankey", "Hosmer", "Lemeshow", "Platt",
    "isotonic", "Youden", "Dirichlet", "none", "treatment", "control", "winback", "SMOTE", "GB",
    "MB", "CPU", "LR", "GBM", "HGB", "NaN", "nan", "None", "True", "False", "Kano", "Likert",
    "Kaufman", "Rousseeuw", "Calinski", "Harabasz",
    "Kruskal", "Wallis", "Heywood",
}


def _latin_words(text: str) -> list[str]:
    text = re.sub(r"\{[^}]*\}", " ", text)  # placeholders
    text = re.sub(r"`[^`]*`", " ", text)  # code: column names, params keys
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in ALLOWED_LATIN and not w.isupper()]


def test_every_key_in_every_language():
    keys = {lang: set(load_messages(lang)) for lang in LANGUAGES}
    for lang in LANGUAGES:
        missing = keys["en"] - keys[lang]
        extra = keys[lang] - keys["en"]
        assert not missing, f"{lang}: missing {sorted(missing)[:20]}"
        assert not extra, f"{lang}: not in English {sorted(extra)[:20]}"


def test_same_placeholders_in_every_language():
    en, zh = load_messages("en"), load_messages("zh")
    bad = [k for k in en if placeholders(en[k]) != placeholders(zh[k])]
    assert not bad, f"placeholders differ: {bad[:20]}"


def test_chinese_catalog_is_chinese():
    zh = load_messages("zh")
    english = {k: _latin_words(v) for k, v in zh.items() if _latin_words(v)}
    assert not english, f"English words left in the Chinese catalog: {dict(list(english.items())[:20])}"


def test_every_template_formats():
    for lang in LANGUAGES:
        for _key, template in load_messages(lang).items():
            names = placeholders(template)
            values = dict.fromkeys(names, 1234.5)
            try:
                template.format(**values)
            except (ValueError, TypeError):  # a string format spec ({name:s}): try text
                template.format(**dict.fromkeys(names, "x"))


def test_lookup_names_and_join():
    zh = catalog("zh")
    assert zh("common.n_customers", n=1200) == "1,200 位客户"
    assert zh.name("segment", "Champions") == "冠军客户"
    assert zh.name("segment", "My own segment") == "My own segment"  # a user's name passes
    assert zh.join(["甲", "乙", "丙"]) == "甲、乙和丙"
    assert EN.join(["a", "b", "c"]) == "a, b and c"
    assert EN.join(["a"]) == "a"


def test_missing_key_is_loud():
    with pytest.raises(MissingMessage, match="no message 'common.nope'"):
        EN("common.nope")
    with pytest.raises(ValueError, match="language must be one of"):
        load_messages("fr")
    assert isinstance(catalog("en"), Catalog) and catalog("en") is EN
