"""Churn early warning: who is likely to leave, why, how sure we are, whom to call first.

Two inputs, used as far as they are present:

1. **A labelled churn table** (one row per customer, a yes/no target). The raw text table is
   typed automatically (numbers, yes/no flags, categories), the target is mapped to 0/1,
   identifiers and the target are kept out of the features (the leakage guard), and two
   models are compared by stratified cross-validation on the training rows only: a
   statsmodels logistic regression (the explainable baseline, odds ratios with confidence
   intervals) and a scikit-learn gradient-boosting classifier. Every encoding lives inside
   a scikit-learn ``Pipeline`` so it is fitted on training rows only. The chosen model is
   recalibrated (inside the training rows) when its cross-validated probabilities are off.
   Scores become risk bands (``high``/``medium``/``low``) and a watch list with reasons.
2. **Transactions without a label**: every input is taken at one as-of date; a customer
   whose time since the last purchase exceeds their own typical inter-purchase gap by a
   factor is "overdue", a repeat buyer with a low BG/NBD probability of still being active
   warns as well (a one-time buyer's P(alive) is 1 by construction and is not used); the
   riskiest candidates, by the probability of no purchase over a horizon, are warned up to
   the contact capacity, and the warning is backtested: raised at ``calibration_end``,
   checked against who bought in the holdout.

Every function is pure: DataFrames in, DataFrames (or plain dicts) out; nothing reads files,
the clock or globals, and no argument is modified.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way:
an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284 (``p_alive``).
Niculescu-Mizil, A. & Caruana, R. (2005). Predicting good probabilities with supervised
learning. ICML (calibration of boosted models, reliability diagrams).
Hastie, T., Tibshirani, R. & Friedman, J. (2009). The Elements of Statistical Learning,
2nd ed., section 7.10 (the one-standard-error rule for model choice).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder, StandardScaler

from crmlab.errors import InputError, require_columns

__all__ = [
    "MISSING_LEVEL",
    "BANDS",
    "CHURNED",
    "ChurnTable",
    "map_target",
    "infer_feature_types",
    "prepare_churn_table",
    "split_train_test",
    "BaselineOneHot",
    "DropCollinear",
    "StatsmodelsLogit",
    "make_logit_pipeline",
    "make_boosting_pipeline",
    "make_models",
    "cross_validate_models",
    "cross_fitted_probability",
    "choose_model",
    "ChurnModels",
    "fit_churn_models",
    "churn_scores",
    "reliability_table",
    "expected_calibration_error",
    "calibration_decision",
    "calibrate",
    "classification_metrics",
    "curve_points",
    "gains_table",
    "capacity_summary",
    "risk_bands",
    "business_name",
    "odds_ratio_table",
    "logit_contributions",
    "odds_takeaway",
    "watch_list",
    "blank_rows",
    "labelled_metrics",
    "warning_inputs",
    "transactional_warning",
    "transactional_watch_list",
    "warning_backtest",
    "warning_metrics",
]

MISSING_LEVEL = "(missing)"
BANDS = ["low", "medium", "high"]
# The band of a row whose label says the customer has already left: scored for evaluation,
# never for action (nobody can be retained who is gone).
CHURNED = "churned"

# Text spellings of a yes/no answer (compared after strip + casefold).
_TRUE = {"yes", "y", "true", "t", "1", "1.0"}
_FALSE = {"no", "n", "false", "f", "0", "0.0"}
# A text column counts as numeric when at least this share of its non-blank cells parse.
_NUMERIC_SHARE = 0.95
# A text column whose levels cover more than this share of rows names customers, not a trait.
_ID_LIKE_SHARE = 0.5



def _get(block: Mapping[str, Any] | None, key: str, default: Any) -> Any:
    if block is None:
        return default
    value = block.get(key, default)
    return default if value is None and default is not None else value


# --- intake ----------------------------------------------------------------------------------


@dataclass
class ChurnTable:
    """A labelled churn table ready for modelling.

    Attributes
    ----------
    features : DataFrame
        Typed features only (never the id or the target): numeric and binary columns as
        float64 (blanks NaN), categorical columns as text with blanks as ``"(missing)"``.
    target : Series
        0/1 (int64), 1 = the ``positive`` class (churned).
    key : Series
        ``row`` (0-based input row) or the id column's values (text): what the scores are
        keyed by.
    types : DataFrame
        One row per input column: ``column``, ``kind``, ``levels``, ``blanks``, ``invalid``,
        ``negative``, ``action`` -- what the typing found and did.
    numeric, binary, categorical : list of str
        Feature names by kind, in table order.
    labels : dict
        ``{"positive": <text>, "negative": <text>}`` as spelled in the file.
    """

    features: pd.DataFrame
    target: pd.Series
    key: pd.Series
    types: pd.DataFrame
    numeric: list[str] = field(default_factory=list)
    binary: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)


def _positive_matches(values: pd.Series, positive: Any) -> pd.Series:
    """Boolean: which (stripped, casefolded) texts spell the positive class."""
    if isinstance(positive, bool):
        # YAML reads an unquoted `yes` as True: accept every spelling of yes (or of no).
        return values.isin(_TRUE if positive else _FALSE)
    want = str(positive).strip().casefold()
    hit = values == want
    num = pd.to_numeric(pd.Series([want]), errors="coerce").iloc[0]
    if not hit.any() and not pd.isna(num):
        # 1 vs "1.0": the same number spelled differently
        hit = pd.to_numeric(values, errors="coerce") == num
    return hit


def map_target(values: pd.Series, positive: Any, column: str = "target") -> pd.Series:
    """Map a two-class target column to 0/1, comparing ``positive`` as text, case-insensitively.

    Parameters
    ----------
    values : Series
        The target column as read (text, numbers or booleans).
    positive : str, number or bool
        The value meaning "churned" (``"Yes"`` matches ``yes``, ``YES ``; ``True`` from an
        unquoted YAML ``yes`` matches any spelling of yes).
    column : str
        The column's name, for error messages.

    Returns
    -------
    Series
        int64 0/1 with the same index and name as ``values``.

    Raises
    ------
    InputError
        Blank target cells, only one class, more than two classes, or ``positive`` not one
        of the two values found.
    """
    text = values.astype("string").str.strip().str.casefold()
    blank = text.isna() | (text == "")
    if blank.any():
        first = list(np.flatnonzero(blank.to_numpy())[:3])
        raise InputError(
            f"target column {column!r}: {int(blank.sum())} blank value(s) (0-based rows {first}); "
            "every row needs a known outcome"
        )
    classes = sorted(text.unique())
    shown = sorted(values.astype("string").str.strip().unique())
    if len(classes) == 1:
        raise InputError(f"target column {column!r} has only one class ({shown[0]!r}); need two")
    if len(classes) > 2:
        raise InputError(
            f"target column {column!r} has {len(classes)} distinct values {shown[:6]}; need exactly two"
        )
    hit = _positive_matches(text, positive)
    if not hit.any() or hit.all():
        raise InputError(
            f"key 'churn.positive': {positive!r} is not one of the target column {column!r}'s "
            f"two values {shown}"
        )
    return pd.Series(hit.to_numpy(dtype=np.int64), index=values.index, name=values.name)


def _as_text(col: pd.Series) -> pd.Series:
    """Return stripped text with blanks as <NA>."""
    text = col.astype("string").str.strip()
    return text.mask(text == "")


def infer_feature_types(
    features: pd.DataFrame,
    fill_blanks: Mapping[str, float] | None = None,
    max_levels: int = 50,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type raw columns as numeric, binary (yes/no -> 1/0) or categorical, and say what was done.

    Rules, per column (blank cells are never counted as values):

    - at least 95% of the non-blank cells parse as numbers -> **numeric**; the rest are
      counted as ``invalid`` and set missing; only the values 0/1 -> **binary**;
      all-distinct whole numbers -> left out as an **identifier**;
    - every value a spelling of yes/no (``yes``, ``no``, ``true``, ``Y`` ...) -> **binary**;
    - otherwise **categorical** (blanks become the level ``"(missing)"``), unless it has more
      than ``max_levels`` levels or its levels cover more than half the rows -> left out as
      **identifier-like** (a name, an e-mail: it would memorise customers, not learn traits);
    - a single value -> left out as **constant**.

    Numeric blanks listed in ``fill_blanks`` get that value (a blank that means a known
    number, e.g. total charges of a customer not billed yet = 0); other numeric blanks stay
    NaN and are imputed inside the model pipelines from training rows only.

    Parameters
    ----------
    features : DataFrame
        Candidate feature columns (text as read by :func:`crmlab.io.read_table`, or typed).
    fill_blanks : mapping of str to float, optional
        Column -> value for blank cells.
    max_levels : int
        Most levels a categorical feature may have.

    Returns
    -------
    (DataFrame, DataFrame)
        The typed features (columns left out are dropped) and the typing report with
        columns ``column``, ``kind``, ``levels``, ``blanks``, ``invalid``, ``negative``,
        ``action``.

    Raises
    ------
    InputError
        When ``fill_blanks`` names a column that is not a feature.
    """
    fill_blanks = dict(fill_blanks or {})
    for col in fill_blanks:
        if col not in features.columns:
            raise InputError(f"key 'churn.fill_blanks': column {col!r} is not a feature column")
    n = len(features)
    typed: dict[str, pd.Series] = {}
    rows = []
    for col in features.columns:
        raw = features[col]
        info = {"column": col, "kind": "", "levels": 0, "blanks": 0, "invalid": 0,
                "negative": 0, "action": ""}
        if pd.api.types.is_bool_dtype(raw):
            raw = raw.astype("Float64")
        if pd.api.types.is_numeric_dtype(raw):
            blank = raw.isna()
            num = raw.astype("float64")
            invalid = pd.Series(False, index=raw.index)
        else:
            text = _as_text(raw)
            blank = text.isna()
            parsed = pd.to_numeric(text, errors="coerce")
            invalid = parsed.isna() & ~blank  # counted and reported below, never silent
            nonblank = int((~blank).sum())
            numeric_share = (nonblank - int(invalid.sum())) / nonblank if nonblank else 0.0
            num = parsed.astype("float64") if numeric_share >= _NUMERIC_SHARE else None
            if num is None:
                invalid = pd.Series(False, index=raw.index)
        info["blanks"] = int(blank.sum())
        if num is not None:
            values = num.dropna()  # the NaNs are the blanks and invalid cells counted above
            info["levels"] = int(values.nunique())
            info["invalid"] = int(invalid.sum())
            info["negative"] = int((values < 0).sum())
            if info["levels"] <= 1:
                info.update(kind="excluded", action="left out: constant")
            elif set(values.unique()) <= {0.0, 1.0}:
                info.update(kind="binary", action="0/1 flag")
            elif (
                n >= 20
                and info["levels"] == len(values) == n
                and np.allclose(values, np.round(values))
            ):
                info.update(kind="excluded", action="left out: identifier (every value distinct)")
            else:
                info.update(kind="numeric", action="number")
            if info["kind"] != "excluded":
                notes = [info["action"]]
                if info["invalid"]:
                    notes.append(f"{info['invalid']} non-numeric cell(s) set missing")
                if info["blanks"] and col in fill_blanks:
                    num = num.where(~blank, float(fill_blanks[col]))
                    notes.append(f"{info['blanks']} blank(s) set to {fill_blanks[col]:g} (churn.fill_blanks)")
                elif info["blanks"] or info["invalid"]:
                    how = "mode" if info["kind"] == "binary" else "mean, plus a missing flag"
                    notes.append(f"missing imputed with the training {how}")
                if info["negative"]:
                    notes.append(f"{info['negative']} negative value(s): check")
                info["action"] = "; ".join(notes)
                typed[col] = num
            rows.append(info)
            continue
        folded = text.str.casefold()
        spellings = set(folded.dropna().unique())  # the NaNs are the blanks counted above
        # a blank is a level of its own: "reason given" vs "no reason" is information
        levels = int(text.nunique()) + (1 if info["blanks"] else 0)
        info["levels"] = levels
        is_yes_no = spellings <= _TRUE | _FALSE and bool(spellings & _TRUE) and bool(spellings & _FALSE)
        if len(spellings) == 2 and is_yes_no:
            flag = folded.isin(_TRUE).astype("float64").where(~blank)
            info.update(kind="binary", action="yes/no -> 1/0")
            if info["blanks"]:
                info["action"] += "; missing imputed with the training mode"
            typed[col] = flag
        elif levels <= 1:
            info.update(kind="excluded", action="left out: constant")
        elif levels > max_levels or (n >= 20 and levels > _ID_LIKE_SHARE * n):
            info.update(
                kind="excluded",
                action=f"left out: identifier-like ({levels} levels; churn.max_levels={max_levels})",
            )
        else:
            info.update(kind="categorical", action="category")
            if info["blanks"]:
                info["action"] += f"; blanks kept as level {MISSING_LEVEL!r}"
            typed[col] = text.fillna(MISSING_LEVEL).astype(object)
        rows.append(info)
    report = pd.DataFrame(rows, columns=["column", "kind", "levels", "blanks", "invalid",
                                         "negative", "action"])
    out = pd.DataFrame(typed, index=features.index)
    return out, report


def _target_copies(features: pd.DataFrame, target: pd.Series, kinds: pd.Series) -> list[str]:
    """Non-numeric features whose every level holds one outcome only: a copy of the label."""
    leaks = []
    for col in features.columns:
        if kinds[col] == "numeric":
            continue
        pure = target.groupby(features[col].astype(object).fillna(MISSING_LEVEL)).nunique()
        if len(pure) >= 2 and (pure == 1).all():
            leaks.append(col)
    return leaks


def prepare_churn_table(raw: pd.DataFrame, params: Mapping[str, Any]) -> ChurnTable:
    """Intake of a labelled churn table: target to 0/1, typed features, the leakage guard.

    Parameters
    ----------
    raw : DataFrame
        The table as read (one row per customer), text or typed columns.
    params : mapping
        The ``churn:`` params block: ``target``, ``positive``, ``id`` (optional),
        ``fill_blanks``, ``max_levels``.

    Returns
    -------
    ChurnTable
        Features never include the id column or the target; a feature that copies the
        target (every level holds a single outcome, e.g. a "churn reason" column) is left
        out and reported as a leak.

    Raises
    ------
    InputError
        Missing target or id column, blank or duplicate ids, a bad target (see
        :func:`map_target`), or no usable feature left.
    """
    target_col = params["target"]
    id_col = params.get("id")
    require_columns(raw, [target_col] + ([id_col] if id_col else []), "churn table")
    if id_col == target_col:
        raise InputError(f"key 'churn.id': {id_col!r} is the target column")
    df = raw.reset_index(drop=True)
    y = map_target(df[target_col], params.get("positive", "Yes"), target_col)
    if id_col:
        key = _as_text(df[id_col])
        if key.isna().any():
            raise InputError(f"churn id column {id_col!r}: {int(key.isna().sum())} blank id(s)")
        if key.duplicated().any():
            dup = key[key.duplicated()].iloc[0]
            raise InputError(
                f"churn id column {id_col!r}: {int(key.duplicated().sum())} duplicate id(s), e.g. {dup!r}"
            )
        key = key.astype(str).rename(id_col)
    else:
        key = pd.Series(np.arange(len(df), dtype=np.int64), name="row")
    # the leakage guard: neither the id nor the target may become a feature
    candidates = df.drop(columns=[c for c in (target_col, id_col) if c])
    features, types = infer_feature_types(
        candidates, _get(params, "fill_blanks", {}), int(_get(params, "max_levels", 50))
    )
    kinds = types.set_index("column")["kind"]
    for col in _target_copies(features, y, kinds):
        features = features.drop(columns=col)
        types.loc[types["column"] == col, ["kind", "action"]] = [
            "excluded", "left out: copies the target (every level has one outcome) - a leak",
        ]
    if features.shape[1] == 0:
        raise InputError(
            f"churn table: no usable feature column besides target {target_col!r}"
            + (f" and id {id_col!r}" if id_col else "")
        )
    kinds = types.set_index("column")["kind"]
    text = df[target_col].astype("string").str.strip()
    labels = {
        "positive": str(text[y == 1].iloc[0]),
        "negative": str(text[y == 0].iloc[0]),
    }
    return ChurnTable(
        features=features,
        target=y,
        key=key,
        types=types,
        numeric=[c for c in features.columns if kinds[c] == "numeric"],
        binary=[c for c in features.columns if kinds[c] == "binary"],
        categorical=[c for c in features.columns if kinds[c] == "categorical"],
        labels=labels,
    )


def blank_rows(raw: pd.DataFrame, table: ChurnTable) -> pd.DataFrame:
    """Return the rows with a blank (or non-numeric) numeric or binary feature, as typed.

    Shows what the blanks look like once typed -- e.g. Telco's blank ``total_charges`` all
    sit on customers with ``tenure`` 0 -- so the fill policy can be judged. Categorical blanks
    are left out: they are simply their own level.

    Returns
    -------
    DataFrame
        ``blank_in`` (the columns blank in that row) followed by the typed features, for the
        affected rows of ``table`` (index = 0-based input row).

    Raises
    ------
    InputError
        When ``raw`` lacks a feature column of ``table`` or the row counts differ.
    """
    cols = [*table.numeric, *table.binary]
    require_columns(raw, cols, "churn table")
    if len(raw) != len(table.features):
        raise InputError("blank_rows: raw and table must have the same rows")
    raw = raw.reset_index(drop=True)
    # blank in the file, or missing once typed (a non-numeric cell in a numeric column)
    missing = pd.DataFrame(
        {c: _as_text(raw[c]).isna().to_numpy() | table.features[c].isna().to_numpy() for c in cols},
        index=table.features.index,
    )
    hit = missing.any(axis=1) if cols else pd.Series(False, index=table.features.index)
    out = table.features[hit.to_numpy()].copy()
    out.insert(0, "blank_in", [", ".join(c for c in cols if missing.at[i, c]) for i in out.index])
    return out


def split_train_test(target: pd.Series, test_size: float = 0.3, seed: int = 42) -> pd.Series:
    """Stratified train/test assignment: the churn rate is the same in both parts.

    Parameters
    ----------
    target : Series
        0/1 outcome.
    test_size : float
        Share of rows held out for testing.
    seed : int
        Random seed (the same seed gives the same split).

    Returns
    -------
    Series
        ``"train"`` or ``"test"`` per row, same index as ``target``, named ``split``.

    Raises
    ------
    InputError
        When a class is too small to appear in both parts.
    """
    y = np.asarray(target)
    counts = np.bincount(y.astype(np.int64), minlength=2)
    n_test = math.ceil(test_size * len(y))
    if counts.min() < 2 or n_test < 2 or len(y) - n_test < 2:
        raise InputError(
            f"churn table: too few rows to split ({counts[0]} negative, {counts[1]} positive, "
            f"test_size {test_size}); need at least 2 of each class on both sides"
        )
    _, test_idx = train_test_split(
        np.arange(len(y)), test_size=test_size, stratify=y, random_state=seed
    )
    split = np.full(len(y), "train", dtype=object)
    split[test_idx] = "test"
    return pd.Series(split, index=target.index, name="split").astype(str)


# --- model pieces ------------------------------------------------------------------------


class BaselineOneHot(TransformerMixin, BaseEstimator):
    """One-hot encoding whose dropped (baseline) level is each column's most frequent one.

    The baseline is the typical customer, so every odds ratio reads "this level vs the usual
    one". Levels unseen in training encode as the baseline (all zeros).
    """

    def fit(self, X, y=None):
        """Learn each column's levels, most frequent first (ties alphabetically)."""
        X = pd.DataFrame(X)
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.levels_ = {}
        for col in X.columns:
            counts = X[col].astype(str).value_counts()
            order = sorted(counts.index, key=lambda v: (-counts[v], v))
            self.levels_[str(col)] = order
        return self

    def transform(self, X):
        """Return dummy columns ``<column>=<level>`` for every non-baseline level."""
        X = pd.DataFrame(X)
        cols = {}
        for col, levels in self.levels_.items():
            values = X[col].astype(str).to_numpy()
            for level in levels[1:]:
                cols[f"{col}={level}"] = (values == level).astype(np.float64)
        return pd.DataFrame(cols, index=X.index)

    def get_feature_names_out(self, input_features=None):
        """Names ``<column>=<level>``."""
        return np.asarray(
            [f"{c}={lv}" for c, levels in self.levels_.items() for lv in levels[1:]], dtype=object
        )


class DropCollinear(TransformerMixin, BaseEstimator):
    r"""Drop design columns the others (and the intercept) already explain.

    Two passes on the training rows, each dropped column listed in ``dropped_`` with why:

    1. **exact** redundancy: Telco's ``online_security = No internet service`` repeats
       ``internet_service = No`` in six columns and ``multiple_lines = No phone service`` is
       ``1 - phone_service``, which makes the logistic information matrix singular. Columns
       are scanned in order; one whose residual after projecting on the kept columns
       (Gram-Schmidt) is ~0 is dropped -- the earlier, more readable column keeps the effect.
    2. **near** redundancy: while the largest variance inflation factor
       :math:`\mathrm{VIF}_j = 1 / (1 - R_j^2)` exceeds ``max_vif``, that column is dropped
       (Telco's ``monthly_charges`` is almost the sum of the service prices). Its odds
       ratio would have a huge confidence interval and its effect would be split at random
       between it and the services, which makes per-customer reasons unreadable.

    Parameters
    ----------
    tol : float
        Relative residual norm below which a column counts as an exact combination.
    max_vif : float or None
        Largest VIF allowed; ``None`` keeps near-redundant columns.
    """

    def __init__(self, tol: float = 1e-7, max_vif: float | None = 20.0):
        self.tol = tol
        self.max_vif = max_vif

    def fit(self, X, y=None):
        """Find the redundant columns on the training rows."""
        X = pd.DataFrame(X)
        A = X.to_numpy(dtype=np.float64)
        basis = [np.ones(len(A)) / math.sqrt(max(len(A), 1))]
        keep = np.zeros(A.shape[1], dtype=bool)
        dropped: dict[str, str] = {}
        for j in range(A.shape[1]):
            v = A[:, j].copy()
            norm = np.linalg.norm(v)
            for _ in range(2):  # twice: classical Gram-Schmidt loses orthogonality otherwise
                for q in basis:
                    v -= (q @ v) * q
            r = np.linalg.norm(v)
            if norm == 0 or r <= self.tol * max(norm, 1.0):
                dropped[str(X.columns[j])] = "exact linear combination of earlier columns"
            else:
                keep[j] = True
                basis.append(v / r)
        while self.max_vif is not None and keep.sum() >= 2:
            idx = np.flatnonzero(keep)
            corr = np.corrcoef(A[:, idx], rowvar=False)
            vif = np.diag(np.linalg.pinv(corr))
            worst = int(np.argmax(vif))
            if vif[worst] <= self.max_vif:
                break
            keep[idx[worst]] = False
            dropped[str(X.columns[idx[worst]])] = f"variance inflation factor {vif[worst]:,.0f}"
        self.keep_ = keep
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.dropped_ = dropped
        return self

    def transform(self, X):
        """Return the kept columns."""
        X = pd.DataFrame(X)
        if [str(c) for c in X.columns] != list(self.feature_names_in_):
            raise ValueError("DropCollinear: columns differ from the ones seen in fit")
        return X.loc[:, self.keep_]

    def get_feature_names_out(self, input_features=None):
        """Names of the kept columns."""
        return self.feature_names_in_[self.keep_]


class StatsmodelsLogit(ClassifierMixin, BaseEstimator):
    """statsmodels ``Logit`` (maximum likelihood, standard errors) behind the scikit-learn API.

    After ``fit``: ``result_`` (the statsmodels results, with ``conf_int()``), ``coef_``
    (Series by design column, intercept excluded), ``intercept_``, ``x_mean_`` (training
    means of the design columns, for contributions) and ``notes_`` (separation/convergence
    warnings raised while fitting).

    Parameters
    ----------
    maxiter : int
        Newton iterations.
    """

    def __init__(self, maxiter: int = 100):
        self.maxiter = maxiter

    def fit(self, X, y):
        """Fit by Newton-Raphson; fall back to BFGS if the information matrix is singular."""
        # the module, not statsmodels.api: that one imports plotting and costs a second
        from statsmodels.discrete.discrete_model import Logit

        X = pd.DataFrame(X).astype(np.float64)
        y = np.asarray(y, dtype=np.float64)
        self.classes_ = np.array([0, 1])
        design = X.copy()
        design.insert(0, "(intercept)", 1.0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = Logit(y, design).fit(method="newton", maxiter=self.maxiter, disp=0)
            except np.linalg.LinAlgError:
                result = Logit(y, design).fit(method="bfgs", maxiter=10 * self.maxiter, disp=0)
        self.notes_ = sorted({f"{type(w.message).__name__}: {w.message}" for w in caught})
        self.result_ = result
        params = pd.Series(result.params, index=design.columns)
        self.intercept_ = float(params.iloc[0])
        self.coef_ = params.iloc[1:]
        self.x_mean_ = X.mean()
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def decision_function(self, X):
        """Linear predictor (log-odds)."""
        X = pd.DataFrame(X).astype(np.float64)
        return X.to_numpy() @ self.coef_.to_numpy() + self.intercept_

    def predict_proba(self, X):
        """Probabilities of class 0 and class 1."""
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        """Class at the 0.5 threshold."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)


def _kinds(table: ChurnTable) -> tuple[list[str], list[str], list[str]]:
    return list(table.numeric), list(table.binary), list(table.categorical)


def make_logit_pipeline(table: ChurnTable, max_vif: float | None = 20.0) -> Pipeline:
    """Build encoding + redundant-column guard + statsmodels logistic regression as one pipeline.

    Numeric features are standardised (odds ratios per standard deviation) and then missing
    values set to 0, i.e. the training mean, with a 0/1 missing flag that stays unscaled;
    binary features stay 0/1 (odds ratio = yes vs no; missing -> training mode);
    categorical features are one-hot encoded against their most frequent level; then
    :class:`DropCollinear` removes redundant columns (``max_vif``).
    """
    numeric, binary, categorical = _kinds(table)
    num = Pipeline([
        ("scale", StandardScaler()),  # ignores NaN when fitting, passes it through
        ("impute", SimpleImputer(strategy="constant", fill_value=0.0, add_indicator=True,
                                 keep_empty_features=True)),
    ])
    prep = ColumnTransformer(
        [
            ("num", num, numeric),
            ("bin", SimpleImputer(strategy="most_frequent", keep_empty_features=True), binary),
            ("cat", BaselineOneHot(), categorical),
        ],
        verbose_feature_names_out=False,
    )
    pipe = Pipeline([
        ("prep", prep),
        ("dedup", DropCollinear(max_vif=max_vif)),
        ("model", StatsmodelsLogit()),
    ])
    return pipe.set_output(transform="pandas")


def make_boosting_pipeline(table: ChurnTable, seed: int = 42) -> Pipeline:
    """Histogram gradient boosting with native categorical splits (ordinal-coded levels).

    Missing numbers are handled natively by the trees; nothing is scaled. Settings are
    deliberately modest (shallow trees, a small learning rate) for tables of a few thousand
    customers.
    """
    numeric, binary, categorical = _kinds(table)
    prep = ColumnTransformer(
        [
            ("num", "passthrough", numeric + binary),
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan),
             categorical),
        ],
        verbose_feature_names_out=False,
    )
    model = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=200,
        max_depth=3,
        min_samples_leaf=20,
        l2_regularization=1.0,
        early_stopping=False,
        categorical_features=categorical or None,
        random_state=seed,
    )
    pipe = Pipeline([("prep", prep), ("model", model)])
    return pipe.set_output(transform="pandas")


def make_models(table: ChurnTable, params: Mapping[str, Any] | None = None) -> dict[str, Pipeline]:
    """Return the two compared models, simplest first: ``logistic``, ``gradient_boosting``.

    ``params`` is the ``churn:`` block (``seed``, ``max_vif``).
    """
    return {
        "logistic": make_logit_pipeline(table, (params or {}).get("max_vif", 20.0)),
        "gradient_boosting": make_boosting_pipeline(table, int(_get(params, "seed", 42))),
    }


def _stratified_folds(y: pd.Series, folds: int, seed: int) -> StratifiedKFold:
    """Return the stratified folds every cross-fit uses; InputError when a class is too small."""
    if y.value_counts().min() < folds:
        raise InputError(
            f"churn: {int(y.value_counts().min())} training rows in the smaller class, fewer "
            f"than churn.cv_folds={folds}"
        )
    return StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)


def cross_validate_models(
    models: Mapping[str, Any],
    X: pd.DataFrame,
    y: pd.Series,
    folds: int = 5,
    seed: int = 42,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified k-fold cross-validation of each model (call it on training rows only).

    Returns
    -------
    (DataFrame, DataFrame)
        Per model and fold: ``model``, ``fold``, ``roc_auc``, ``pr_auc``, ``brier``; and the
        out-of-fold probabilities: ``model``, ``index`` (row label of ``X``), ``actual``,
        ``probability``.

    Raises
    ------
    InputError
        When a class has fewer rows than folds.
    """
    y = pd.Series(np.asarray(y), index=X.index)
    cv = _stratified_folds(y, folds, seed)
    scores, oof = [], []
    for name, model in models.items():
        for fold, (tr, va) in enumerate(cv.split(X, y), 1):
            fitted = clone(model).fit(X.iloc[tr], y.iloc[tr])
            p = fitted.predict_proba(X.iloc[va])[:, 1]
            yv = y.iloc[va].to_numpy()
            scores.append({"model": name, "fold": fold, **classification_metrics(yv, p)})
            oof.append(pd.DataFrame({"model": name, "index": X.index[va], "actual": yv,
                                     "probability": p}))
    return pd.DataFrame(scores), pd.concat(oof, ignore_index=True)


def cross_fitted_probability(
    model: Any, X: pd.DataFrame, y: pd.Series, folds: int = 5, seed: int = 42
) -> pd.Series:
    """Out-of-fold probabilities: each row is scored by a model fitted without it.

    The folds are the stratified folds of :func:`cross_validate_models` (same ``folds`` and
    ``seed``), so for an unchanged model the result equals its cross-validation predictions.
    An in-sample score rewards the model for having memorised the row; a customer put on a
    watch list by such a score is there partly because the model saw their outcome.

    Returns
    -------
    Series
        ``churn_probability`` with the index of ``X``.

    Raises
    ------
    InputError
        When a class has fewer rows than folds.
    """
    y = pd.Series(np.asarray(y), index=X.index)
    cv = _stratified_folds(y, folds, seed)
    out = np.full(len(X), np.nan)
    for tr, va in cv.split(X, y):
        out[va] = clone(model).fit(X.iloc[tr], y.iloc[tr]).predict_proba(X.iloc[va])[:, 1]
    return pd.Series(out, index=X.index, name="churn_probability")


def choose_model(cv_scores: pd.DataFrame, metric: str = "roc_auc") -> tuple[str, pd.DataFrame]:
    """Pick a model from cross-validation scores with the one-standard-error rule.

    The model with the best mean wins, unless a simpler model (earlier in ``cv_scores``) is
    within one standard error of that mean: then the simpler one is preferred, because
    a difference smaller than the fold-to-fold noise is not evidence.

    Returns
    -------
    (str, DataFrame)
        The chosen name and a summary per model: ``model``, ``mean``, ``std``, ``se``,
        ``folds``, ``chosen``.

    Raises
    ------
    InputError
        When ``metric`` or the ``model`` column is missing.

    References
    ----------
    Hastie, Tibshirani & Friedman (2009), The Elements of Statistical Learning, section 7.10.
    """
    require_columns(cv_scores, ["model", metric], "cv_scores")
    order = list(dict.fromkeys(cv_scores["model"]))
    g = cv_scores.groupby("model", sort=False)[metric]
    summary = pd.DataFrame({
        "model": order,
        "mean": g.mean().reindex(order).to_numpy(),
        "std": g.std(ddof=1).reindex(order).to_numpy(),
        "folds": g.size().reindex(order).to_numpy(),
    })
    summary["se"] = summary["std"] / np.sqrt(summary["folds"])
    best = summary.loc[summary["mean"].idxmax()]
    within = summary[summary["mean"] >= best["mean"] - best["se"]]
    chosen = str(within.iloc[0]["model"])  # the simplest within one SE of the best
    summary["chosen"] = summary["model"] == chosen
    return chosen, summary[["model", "mean", "std", "se", "folds", "chosen"]]


@dataclass
class ChurnModels:
    """Everything :func:`fit_churn_models` learned, for the notebook to show and save.

    Attributes
    ----------
    split : Series
        ``train``/``test`` per row.
    cv_scores, cv_summary : DataFrame
        Per-fold scores and the per-model summary behind the choice (training rows only).
    oof : DataFrame
        Out-of-fold training probabilities per model.
    chosen : str
        The chosen model's name.
    calibration : dict
        From :func:`calibration_decision` (decided on training rows only).
    fitted : dict
        Each model refitted on all training rows.
    scorer : estimator
        What scores customers: the chosen model, recalibrated when ``calibration`` says so.
    test : DataFrame
        Test rows: ``actual``, one probability column per model and ``final`` (the scorer).
    probability : Series
        Every row's churn probability from a model that did not train on it: training rows
        out of fold (:func:`cross_fitted_probability` of the scorer), test rows from the
        scorer fitted on all training rows.
    metrics : dict
        Test-split ``roc_auc``, ``pr_auc``, ``brier`` per model and for ``final``.
    """

    split: pd.Series
    cv_scores: pd.DataFrame
    cv_summary: pd.DataFrame
    oof: pd.DataFrame
    chosen: str
    calibration: dict
    fitted: dict
    scorer: Any
    test: pd.DataFrame
    probability: pd.Series
    metrics: dict


def fit_churn_models(table: ChurnTable, params: Mapping[str, Any]) -> ChurnModels:
    """Split, compare by cross-validation, choose, calibrate and score -- test rows untouched.

    1. stratified split (``test_size``, ``seed``);
    2. :func:`cross_validate_models` on the training rows (``cv_folds``) and
       :func:`choose_model` (ROC AUC, one-standard-error rule);
    3. :func:`calibration_decision` on the chosen model's out-of-fold probabilities
       (``calibration``, ``calibration_tolerance``), :func:`calibrate` if needed;
    4. refit on all training rows, then -- only now -- predict the test rows;
    5. score the training rows out of fold (the chosen model's cross-validation
       predictions, or a cross-fit of the recalibrated scorer), so no row's score comes
       from a model that saw its outcome.

    Linear algebra and tree threads are limited to one per process: on small tables
    threads only compete with each other (and with the other notebooks of a run).

    Parameters
    ----------
    table : ChurnTable
        From :func:`prepare_churn_table`.
    params : mapping
        The ``churn:`` block.

    Returns
    -------
    ChurnModels

    Raises
    ------
    InputError
        Too few rows per class to split or cross-validate.
    """
    from threadpoolctl import threadpool_limits

    seed = int(_get(params, "seed", 42))
    folds = int(_get(params, "cv_folds", 5))
    X, y = table.features, table.target
    split = split_train_test(y, float(_get(params, "test_size", 0.3)), seed)
    train = (split == "train").to_numpy()
    with threadpool_limits(limits=1):
        models = make_models(table, params)
        cv_scores, oof = cross_validate_models(models, X[train], y[train], folds, seed)
        chosen, summary = choose_model(cv_scores)
        mine = oof[oof["model"] == chosen]
        cal = calibration_decision(
            mine["actual"], mine["probability"], _get(params, "calibration", "auto"),
            float(_get(params, "calibration_tolerance", 0.02)),
        )
        fitted = {name: clone(m).fit(X[train], y[train]) for name, m in models.items()}
        if cal["method"] is None:
            scorer = fitted[chosen]
        else:
            scorer = calibrate(models[chosen], cal["method"], folds, seed).fit(X[train], y[train])
        test = pd.DataFrame({"actual": y[~train]}, index=X.index[~train])
        for name, m in fitted.items():
            test[name] = m.predict_proba(X[~train])[:, 1]
        test["final"] = scorer.predict_proba(X[~train])[:, 1]
        if cal["method"] is None:  # the cross-validation already scored every row out of fold
            oof_train = pd.Series(mine["probability"].to_numpy(), index=mine["index"].to_numpy())
        else:
            oof_train = cross_fitted_probability(
                calibrate(models[chosen], cal["method"], folds, seed), X[train], y[train], folds, seed
            )
        probability = pd.Series(np.nan, index=X.index, name="churn_probability")
        probability[X.index[train]] = oof_train.reindex(X.index[train]).to_numpy()
        probability[X.index[~train]] = test["final"].to_numpy()
    metrics = {c: classification_metrics(test["actual"], test[c]) for c in [*fitted, "final"]}
    return ChurnModels(split, cv_scores, summary, oof, chosen, cal, fitted, scorer, test,
                       probability, metrics)


def churn_scores(table: ChurnTable, models: ChurnModels, params: Mapping[str, Any]) -> tuple[pd.DataFrame, dict]:
    """Build the ``churn_scores.parquet`` product: key, split, actual, probability, risk band.

    Every probability comes from a model that did not train on the row (see
    :attr:`ChurnModels.probability`). Bands are for action, so they are sized on the
    **current customers** (``actual`` 0) only; a row whose label says the customer already
    left keeps its score (for evaluation) but gets the band ``churned``.

    Returns
    -------
    (DataFrame, dict)
        Columns ``row`` (or the id column), ``split``, ``actual``, ``churn_probability``,
        ``risk_band`` (``high``/``medium``/``low`` for current customers, ``churned`` where
        ``actual`` is 1), ``score_band`` (the band the probability alone falls in, for every
        row: what lets the bands be checked against the outcomes of the test rows), in
        input row order; and the band thresholds from :func:`risk_bands`.

    Raises
    ------
    InputError
        When the band params contradict each other (see :func:`risk_bands`).
    """
    actual = table.target.to_numpy(dtype=np.int64)
    bands, thresholds = risk_bands(models.probability, params, actual=actual)
    p = models.probability.to_numpy(dtype=np.float64)
    score_band = np.where(p >= thresholds["high"], "high",
                          np.where(p >= thresholds["medium"], "medium", "low"))
    out = pd.DataFrame({
        table.key.name: table.key.to_numpy(),
        "split": models.split.to_numpy(),
        "actual": actual,
        "churn_probability": p,
        "risk_band": bands.astype(str).to_numpy(),
        "score_band": score_band,
    })
    return out, thresholds


# --- calibration ------------------------------------------------------------------------------


def reliability_table(actual, probability, bins: int = 10) -> pd.DataFrame:
    """Reliability (calibration) table: predicted vs observed churn rate in probability bins.

    Bins are quantiles of the predicted probability (equal counts), so each point rests on
    the same number of customers.

    Returns
    -------
    DataFrame
        ``bin`` (1 = lowest), ``customers``, ``mean_predicted``, ``observed_rate``.

    Raises
    ------
    InputError
        When the lengths differ or there are no rows.
    """
    y = np.asarray(actual, dtype=np.float64)
    p = np.asarray(probability, dtype=np.float64)
    if len(y) != len(p) or len(y) == 0:
        raise InputError("reliability_table: actual and probability must be non-empty and of equal length")
    order = np.argsort(p, kind="stable")
    groups = np.array_split(order, min(bins, len(p)))
    return pd.DataFrame({
        "bin": np.arange(1, len(groups) + 1),
        "customers": [len(g) for g in groups],
        "mean_predicted": [p[g].mean() for g in groups],
        "observed_rate": [y[g].mean() for g in groups],
    })


def expected_calibration_error(table: pd.DataFrame) -> float:
    r"""Compute the expected calibration error of a reliability table.

    .. math:: \mathrm{ECE} = \sum_b \frac{n_b}{N}\,\lvert \bar y_b - \bar p_b \rvert

    Raises
    ------
    InputError
        When a column of :func:`reliability_table` is missing.
    """
    require_columns(table, ["customers", "mean_predicted", "observed_rate"], "reliability table")
    w = table["customers"] / table["customers"].sum()
    return float((w * (table["observed_rate"] - table["mean_predicted"]).abs()).sum())


def calibration_decision(
    actual, probability, method: str = "auto", tolerance: float = 0.02, bins: int = 10
) -> dict[str, Any]:
    """Decide from out-of-fold training predictions whether to recalibrate.

    Parameters
    ----------
    actual, probability : array-like
        Out-of-fold outcome and probability of the chosen model (training rows only).
    method : {"auto", "sigmoid", "isotonic", "none"}
        ``auto`` recalibrates with ``sigmoid`` (Platt scaling) when the ECE exceeds
        ``tolerance``; a named method always recalibrates; ``none`` never does.
    tolerance : float
        ECE above which ``auto`` recalibrates.

    Returns
    -------
    dict
        ``ece``, ``brier`` (out-of-fold), ``method`` (``"sigmoid"``, ``"isotonic"`` or
        ``None``) and ``reason`` (one sentence).

    Raises
    ------
    InputError
        When ``method`` is not one of the four.
    """
    if method not in ("auto", "sigmoid", "isotonic", "none"):
        raise InputError(f"key 'churn.calibration': {method!r} is not auto, sigmoid, isotonic or none")
    ece = expected_calibration_error(reliability_table(actual, probability, bins))
    brier = float(brier_score_loss(np.asarray(actual), np.asarray(probability)))
    if method == "none":
        use, reason = None, "recalibration switched off (churn.calibration: none)"
    elif method == "auto":
        if ece > tolerance:
            use = "sigmoid"
            reason = f"cross-validated ECE {ece:.3f} > tolerance {tolerance:.3f}: Platt (sigmoid) recalibration"
        else:
            use = None
            reason = f"cross-validated ECE {ece:.3f} <= tolerance {tolerance:.3f}: probabilities kept as they are"
    else:
        use, reason = method, f"{method} recalibration requested (churn.calibration)"
    return {"ece": ece, "brier": brier, "method": use, "reason": reason}


def calibrate(model: Any, method: str, folds: int = 5, seed: int = 42) -> CalibratedClassifierCV:
    """Wrap an (unfitted) model in ``CalibratedClassifierCV`` with stratified inner folds.

    Fit the result on training rows only: each fold's model is fitted on k-1 parts and its
    calibration map on the remaining part, so no row calibrates a model that saw it.

    Raises
    ------
    InputError
        When ``method`` is not ``sigmoid`` or ``isotonic``.
    """
    if method not in ("sigmoid", "isotonic"):
        raise InputError(f"calibrate: method {method!r} is not sigmoid or isotonic")
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return CalibratedClassifierCV(clone(model), method=method, cv=cv)


# --- evaluation -----------------------------------------------------------------------------


def classification_metrics(actual, probability) -> dict[str, float]:
    """ROC AUC, PR AUC (average precision) and Brier score of probabilities.

    Raises
    ------
    InputError
        When ``actual`` holds a single class (AUCs are undefined).
    """
    y = np.asarray(actual)
    p = np.asarray(probability, dtype=np.float64)
    if len(np.unique(y)) < 2:
        raise InputError("classification_metrics: need both classes among the actual outcomes")
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
    }


def curve_points(actual, probabilities: Mapping[str, Any]) -> pd.DataFrame:
    """ROC and precision-recall curve points for several models' probabilities.

    ``probabilities`` maps a model name to its probabilities (a DataFrame with one column
    per model works too).

    Returns
    -------
    DataFrame
        ``model``, ``curve`` (``roc`` or ``pr``), ``x`` (false positive rate or recall),
        ``y`` (true positive rate or precision), ``auc`` (ROC AUC or average precision).

    Raises
    ------
    InputError
        When a single class is present.
    """
    y = np.asarray(actual)
    if len(np.unique(y)) < 2:
        raise InputError("curve_points: need both classes among the actual outcomes")
    parts = []
    for name, prob in probabilities.items():
        p = np.asarray(prob, dtype=np.float64)
        fpr, tpr, _ = roc_curve(y, p)
        prec, rec, _ = precision_recall_curve(y, p)
        parts.append(pd.DataFrame({"model": name, "curve": "roc", "x": fpr, "y": tpr,
                                   "auc": roc_auc_score(y, p)}))
        parts.append(pd.DataFrame({"model": name, "curve": "pr", "x": rec, "y": prec,
                                   "auc": average_precision_score(y, p)}))
    return pd.concat(parts, ignore_index=True)


def _top_order(probability: np.ndarray) -> np.ndarray:
    # highest first; ties keep input order so results are reproducible
    return np.argsort(-probability, kind="stable")


def gains_table(actual, probability, bins: int = 10) -> pd.DataFrame:
    """Cumulative gains and lift by decile of predicted risk (decile 1 = riskiest).

    Returns
    -------
    DataFrame
        ``decile``, ``customers``, ``churners``, ``churn_rate``, ``lift`` (rate / overall
        rate), ``cum_customers_share``, ``cum_churners_share`` (the gains curve),
        ``cum_lift``.

    Raises
    ------
    InputError
        When there are no churners or the lengths differ.
    """
    y = np.asarray(actual, dtype=np.float64)
    p = np.asarray(probability, dtype=np.float64)
    if len(y) != len(p) or len(y) == 0 or y.sum() == 0:
        raise InputError("gains_table: need equal-length, non-empty inputs with at least one churner")
    groups = np.array_split(_top_order(p), min(bins, len(p)))
    customers = np.array([len(g) for g in groups])
    churners = np.array([y[g].sum() for g in groups])
    rate = y.mean()
    out = pd.DataFrame({
        "decile": np.arange(1, len(groups) + 1),
        "customers": customers,
        "churners": churners.astype(np.int64),
        "churn_rate": churners / customers,
    })
    out["lift"] = out["churn_rate"] / rate
    out["cum_customers_share"] = customers.cumsum() / customers.sum()
    out["cum_churners_share"] = churners.cumsum() / churners.sum()
    out["cum_lift"] = out["cum_churners_share"] / out["cum_customers_share"]
    return out


def capacity_summary(actual, probability, capacity: float) -> dict[str, float]:
    """Summarise what contacting the riskiest ``capacity`` share of customers would achieve.

    Returns
    -------
    dict
        ``capacity``, ``contacted`` (k = ceil(capacity x n)), ``churners_caught`` (actual
        churners among them), ``expected_churners_caught`` (sum of their probabilities: what
        a calibrated model promises before the outcome is known), ``precision_at_k``,
        ``recall_at_k``, ``lift_at_k``, ``base_rate``.

    Raises
    ------
    InputError
        When ``capacity`` is not in (0, 1] or there are no rows.
    """
    y = np.asarray(actual, dtype=np.float64)
    p = np.asarray(probability, dtype=np.float64)
    if not 0 < capacity <= 1 or len(y) == 0:
        raise InputError(f"key 'churn.capacity': {capacity} must be in (0, 1] with rows to rank")
    k = max(1, math.ceil(capacity * len(y)))
    top = _top_order(p)[:k]
    caught = float(y[top].sum())
    base = float(y.mean())
    return {
        "capacity": float(capacity),
        "contacted": int(k),
        "churners_caught": int(caught),
        "expected_churners_caught": float(p[top].sum()),
        "precision_at_k": caught / k,
        "recall_at_k": caught / y.sum() if y.sum() else float("nan"),
        "lift_at_k": (caught / k) / base if base else float("nan"),
        "base_rate": base,
    }


def risk_bands(
    probability, params: Mapping[str, Any] | None = None, actual=None
) -> tuple[pd.Series, dict]:
    """Risk bands ``high``/``medium``/``low`` from thresholds or from contact capacity.

    With ``high_threshold``/``medium_threshold`` set, a probability at or above the threshold
    is in the band. Otherwise the thresholds are chosen so that the riskiest ``capacity``
    share of the current customers is ``high`` and the riskiest ``medium_capacity`` share
    (cumulative) is ``high`` or ``medium``: the threshold is the k-th highest probability,
    k = ceil(share x current customers), so ties at that value may add a customer or two.

    With ``actual`` (0/1, 1 = already churned), the capacity thresholds are computed on the
    rows with ``actual`` 0 only -- the customers a team can still reach -- and every row
    with ``actual`` 1 gets the band ``churned`` whatever its probability.

    Parameters
    ----------
    probability : array-like or Series
        Churn probabilities of the customers to band.
    params : mapping, optional
        The ``churn:`` block: ``capacity`` (0.1), ``medium_capacity`` (0.3),
        ``high_threshold``, ``medium_threshold`` (null = from capacity).
    actual : array-like, optional
        Observed outcome per row (0 = still a customer, 1 = already left).

    Returns
    -------
    (Series, dict)
        Categorical bands (categories ``low``, ``medium``, ``high`` and, with ``actual``,
        ``churned``; index of ``probability`` when a Series) and
        ``{"high": t_high, "medium": t_medium, "rule": "capacity" | "thresholds",
        "basis": "current customers" | "all rows"}``.

    Raises
    ------
    InputError
        When ``medium`` would be above ``high`` (thresholds or capacities), no rows, no
        current customer, or ``actual`` does not match ``probability``.
    """
    index = probability.index if isinstance(probability, pd.Series) else None
    p = np.asarray(probability, dtype=np.float64)
    if len(p) == 0:
        raise InputError("risk_bands: no probabilities to band")
    if actual is None:
        gone = np.zeros(len(p), dtype=bool)
    else:
        a = np.asarray(actual)
        if len(a) != len(p):
            raise InputError("risk_bands: actual and probability must have the same length")
        gone = a == 1
        if gone.all():
            raise InputError("risk_bands: every row has already churned; no current customer to band")
    capacity = float(_get(params, "capacity", 0.1))
    medium_capacity = float(_get(params, "medium_capacity", 0.3))
    hi_t = _get(params, "high_threshold", None)
    md_t = _get(params, "medium_threshold", None)
    ranked = -np.sort(-p[~gone])
    rule = "thresholds" if hi_t is not None or md_t is not None else "capacity"
    if hi_t is None:
        hi_t = ranked[max(1, math.ceil(capacity * len(ranked))) - 1]
    if md_t is None:
        if medium_capacity < capacity:
            raise InputError(
                f"key 'churn.medium_capacity' ({medium_capacity}) must be >= 'churn.capacity' ({capacity})"
            )
        md_t = min(ranked[max(1, math.ceil(medium_capacity * len(ranked))) - 1], hi_t)
    if md_t > hi_t:
        raise InputError(
            f"keys 'churn.medium_threshold' ({md_t}) must be <= 'churn.high_threshold' ({hi_t})"
        )
    band = np.where(p >= hi_t, "high", np.where(p >= md_t, "medium", "low")).astype(object)
    band[gone] = CHURNED
    categories = BANDS + ([CHURNED] if actual is not None else [])
    bands = pd.Series(pd.Categorical(band, categories=categories), index=index, name="risk_band")
    basis = "all rows" if actual is None else "current customers"
    return bands, {"high": float(hi_t), "medium": float(md_t), "rule": rule, "basis": basis}


# --- explanation ----------------------------------------------------------------------------


def _logit_parts(pipeline: Pipeline) -> tuple[StatsmodelsLogit, DropCollinear, ColumnTransformer]:
    steps = getattr(pipeline, "named_steps", {})
    if not isinstance(steps.get("model"), StatsmodelsLogit):
        raise InputError("expected a fitted pipeline from make_logit_pipeline")
    if not hasattr(steps["model"], "result_"):
        raise InputError("the logistic pipeline is not fitted yet")
    return steps["model"], steps["dedup"], steps["prep"]


def _source_of(name: str, table: ChurnTable) -> str:
    """Return the input feature a design column comes from."""
    if name in table.features.columns:
        return name
    if name.startswith("missingindicator_") and name[17:] in table.features.columns:
        return name[17:]
    matches = [c for c in table.categorical if name.startswith(f"{c}=")]
    return max(matches, key=len) if matches else name


def business_name(feature: str) -> str:
    """Return a column name in words: ``total_charges`` -> ``Total charges``."""
    text = str(feature).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _marginal_odds_ratios(design: pd.DataFrame, y: np.ndarray) -> pd.Series:
    """Odds ratio of each design column on its own (intercept + that column only)."""
    from statsmodels.discrete.discrete_model import Logit

    out = {}
    for col in design.columns:
        x = design[col].to_numpy(dtype=np.float64)
        if np.ptp(x) == 0:
            out[col] = np.nan
            continue
        X = np.column_stack([np.ones(len(x)), x])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                beta = Logit(y, X).fit(method="newton", maxiter=100, disp=0).params[1]
            except (np.linalg.LinAlgError, ValueError):
                beta = np.nan
        with np.errstate(over="ignore"):
            out[col] = float(np.exp(beta))
    return pd.Series(out, dtype=np.float64)


def odds_ratio_table(
    pipeline: Pipeline, table: ChurnTable, level: float = 0.95, rows=None
) -> pd.DataFrame:
    """Odds ratios of the fitted logistic pipeline, with confidence intervals.

    With ``rows`` (the training rows the pipeline was fitted on), each term's odds ratio
    **on its own** is added (``alone_odds_ratio``: a logistic regression on that design
    column only) and ``suppression`` marks a term whose adjusted effect is clear and points
    the other way: it is a *suppression effect*. In Telco, ``total_charges`` is about
    ``tenure`` x the monthly price; with ``tenure`` in the model, higher total charges
    *at the same tenure* mean a higher monthly price, so its odds ratio > 1 is the price
    effect, although on its own total charges goes with *less* churn (long-standing
    customers have paid the most). Such a term is read as "what is left once the correlated
    features are held fixed", never as a cause.

    Returns
    -------
    DataFrame
        One row per design column: ``term``, ``feature`` (input column), ``label`` (the
        term in words: ``Contract: Two year``), ``unit`` (how to read it: per standard
        deviation of a number, yes vs no, or a level vs the baseline level), ``coef``,
        ``odds_ratio``, ``ci_low``, ``ci_high``, ``p_value`` and, with ``rows``,
        ``alone_odds_ratio`` and ``suppression``; sorted by odds ratio.

    Raises
    ------
    InputError
        When ``pipeline`` is not a fitted :func:`make_logit_pipeline`, or ``rows`` does not
        match the table.
    """
    model, dedup, prep = _logit_parts(pipeline)
    res = model.result_
    terms = ["(intercept)", *model.coef_.index]
    ci = pd.DataFrame(np.asarray(res.conf_int(alpha=1 - level)), index=terms)
    pvalues = pd.Series(np.asarray(res.pvalues), index=terms)
    scaler = prep.named_transformers_["num"].named_steps["scale"] if table.numeric else None
    onehot = prep.named_transformers_["cat"] if table.categorical else None
    rows_out = []
    for term, coef in model.coef_.items():
        feature = _source_of(term, table)
        if term in table.numeric:
            sd = float(scaler.scale_[list(table.numeric).index(term)])
            unit = f"per standard deviation ({sd:,.0f})" if sd >= 100 else f"per standard deviation ({sd:.3g})"
            label = business_name(feature)
        elif term.startswith("missingindicator_"):
            unit = "missing vs present"
            label = f"{business_name(feature)} missing"
        elif term in table.binary:
            unit = "1 (yes) vs 0 (no)"
            label = business_name(feature)
        else:
            unit = f"vs {onehot.levels_[feature][0]!r}"
            label = f"{business_name(feature)}: {term[len(feature) + 1:]}"
        with np.errstate(over="ignore"):  # a separated level has an infinite interval
            ci_low, ci_high = np.exp(ci.loc[term].to_numpy(dtype=np.float64))
        rows_out.append({
            "term": term, "feature": feature, "label": label, "unit": unit, "coef": float(coef),
            "odds_ratio": float(np.exp(coef)),
            "ci_low": float(ci_low),
            "ci_high": float(ci_high),
            "p_value": float(pvalues[term]),
        })
    out = pd.DataFrame(rows_out)
    if rows is not None:
        mask = np.asarray(rows, dtype=bool)
        if len(mask) != len(table.features):
            raise InputError("odds_ratio_table: rows must have one entry per table row")
        design = dedup.transform(prep.transform(table.features[mask]))[list(model.coef_.index)]
        alone = _marginal_odds_ratios(design, table.target.to_numpy()[mask])
        out["alone_odds_ratio"] = alone.reindex(out["term"]).to_numpy()
        clear = (out["ci_low"] > 1) | (out["ci_high"] < 1)
        out["suppression"] = clear & (
            np.sign(np.log(out["odds_ratio"])) * np.sign(np.log(out["alone_odds_ratio"])) < 0
        )
    return out.sort_values("odds_ratio", ascending=False, kind="stable").reset_index(drop=True)


def logit_contributions(pipeline: Pipeline, table: ChurnTable, features: pd.DataFrame) -> pd.DataFrame:
    r"""Each feature's contribution to each customer's log-odds, relative to the average customer.

    .. math:: c_{ij} = \sum_{k \in \text{feature } j} \beta_k\,(x_{ik} - \bar x_k)

    with :math:`\bar x_k` the training mean of design column *k*; one-hot levels and missing
    flags are summed back to their input column. A positive value pushes the customer's
    churn odds up by a factor :math:`e^{c_{ij}}`.

    Returns
    -------
    DataFrame
        Index of ``features``, one column per input feature.

    Raises
    ------
    InputError
        When ``pipeline`` is not a fitted logistic pipeline or a feature column is missing.
    """
    model, dedup, prep = _logit_parts(pipeline)
    require_columns(features, table.features.columns, "features")
    design = dedup.transform(prep.transform(features[table.features.columns]))
    centred = design[model.coef_.index].astype(np.float64) - model.x_mean_[model.coef_.index]
    contrib = centred * model.coef_
    sources = [_source_of(t, table) for t in contrib.columns]
    out = contrib.T.groupby(sources, sort=False).sum().T
    return out.reindex(columns=[c for c in table.features.columns if c in out.columns])


def odds_takeaway(odds: pd.DataFrame, dropped: Mapping[str, str], k: int = 3) -> str:
    """One markdown paragraph: what was dropped, the clearest risk raisers and protectors.

    "Clearest" = the confidence interval excludes 1; raisers by largest odds ratio,
    protectors by smallest. A term marked ``suppression`` (see :func:`odds_ratio_table`) is
    left out of those lists and said to be one, with its odds ratio on its own, so it is
    not read as a cause.

    Raises
    ------
    InputError
        When a column of :func:`odds_ratio_table` is missing.
    """
    require_columns(odds, ["term", "odds_ratio", "ci_low", "ci_high"], "odds table")
    names = odds["label"] if "label" in odds.columns else odds["term"]
    odds = odds.assign(_name=names)
    sure = odds[(odds["ci_low"] > 1) | (odds["ci_high"] < 1)]
    if "suppression" in odds.columns:  # said separately below, never listed as a driver
        sure = sure[~sure["suppression"].astype(bool)]
    up = sure[sure["odds_ratio"] > 1].nlargest(k, "odds_ratio")
    down = sure[sure["odds_ratio"] < 1].nsmallest(k, "odds_ratio")

    def fmt(rows: pd.DataFrame) -> str:
        pairs = zip(rows["_name"], rows["odds_ratio"], strict=True)
        return ", ".join(f"{t} (x{o:.2f})" for t, o in pairs) or "none"

    exact = [c for c, why in dropped.items() if why.startswith("exact")]
    near = [f"`{c}` ({why})" for c, why in dropped.items() if not why.startswith("exact")]
    parts = ([f"{len(exact)} column(s) that exactly repeat earlier ones ("
              + ", ".join(f"`{c}`" for c in exact) + ")"] if exact else []) + near
    gone = "; ".join(parts) or "nothing"
    text = (f"Dropped before fitting: {gone}.\n\nClearest risk raisers: {fmt(up)}; "
            f"clearest protectors: {fmt(down)}.")
    if "suppression" in odds.columns and odds["suppression"].any():
        sup = odds[odds["suppression"]]
        items = "; ".join(
            f"{n}: x{o:.2f} with the other features held fixed, but x{a:.2f} on its own"
            for n, o, a in zip(sup["_name"], sup["odds_ratio"], sup["alone_odds_ratio"], strict=True)
        )
        text += (f"\n\n**Suppression effect** — {items}. The sign flips because a correlated "
                 "feature in the model takes over the plain association; the adjusted number is "
                 "what is *left* once those are held fixed, not a cause to act on.")
    return text


def _describe(feature: str, value: Any, table: ChurnTable) -> str:
    name = business_name(feature)
    if feature in table.binary:
        return f"{name} = {'yes' if value == 1 else 'no' if value == 0 else 'missing'}"
    if feature in table.numeric:
        return f"{name} = {value:,.4g}" if pd.notna(value) else f"{name} missing"
    return f"{name} = {value}"


def watch_list(
    scores: pd.DataFrame,
    contributions: pd.DataFrame,
    table: ChurnTable,
    capacity: float = 0.1,
    top_reasons: int = 3,
    suppressed: Any = (),
) -> pd.DataFrame:
    """List the customers to call first: still customers (``actual`` 0), riskiest, with reasons.

    Customers who already churned are gone; the list ranks those who are still here but
    look like the ones who left, by scores from models that did not train on them (see
    :func:`churn_scores`). Reasons are the features pushing the customer's log-odds up
    the most (see :func:`logit_contributions`), worded with the customer's own value.

    Parameters
    ----------
    scores : DataFrame
        Same row order as ``table``: ``actual``, ``churn_probability``, ``risk_band`` and
        the key column.
    contributions : DataFrame
        From :func:`logit_contributions` for the same rows.
    table : ChurnTable
        For the features' values and kinds.
    capacity : float
        Share of the current customers on the list (k = ceil(capacity x current customers)).
    top_reasons : int
        Reasons per customer.
    suppressed : iterable of str
        Features whose odds ratio is a suppression effect (``odds_ratio_table(...,
        rows=...)``, column ``suppression``): their reasons are marked as such, so a
        caller does not read "total charges" as the cause.

    Returns
    -------
    DataFrame
        ``rank``, the key column, ``churn_probability``, ``risk_band``, ``reason_1`` ...
        (``"Contract = Month-to-month (+0.81)"``: the feature in words, the customer's value
        and its log-odds push).

    Raises
    ------
    InputError
        When a column is missing or the frames do not line up.
    """
    key = table.key.name
    require_columns(scores, [key, "actual", "churn_probability", "risk_band"], "scores")
    if len(scores) != len(contributions) or len(scores) != len(table.features):
        raise InputError("watch_list: scores, contributions and table must have the same rows")
    if not 0 < capacity <= 1:
        raise InputError(f"key 'churn.capacity': {capacity} must be in (0, 1]")
    suppressed = {str(f) for f in suppressed}
    # only customers who are still here: label 0 and not banded as churned
    still = np.flatnonzero((scores["actual"].to_numpy() == 0)
                           & (scores["risk_band"].astype(str).to_numpy() != CHURNED))
    prob = scores["churn_probability"].to_numpy()[still]
    pick = still[_top_order(prob)[: math.ceil(capacity * len(still))]]
    C = contributions.to_numpy()[pick]
    names = list(contributions.columns)
    reasons = []
    for row, pos in zip(C, pick, strict=True):
        top = [j for j in np.argsort(-row, kind="stable")[:top_reasons] if row[j] > 0]
        texts = [
            f"{_describe(names[j], table.features.iloc[pos][names[j]], table)} ({row[j]:+.2f})"
            + (" [suppression effect, not a cause]" if names[j] in suppressed else "")
            for j in top
        ]
        reasons.append(texts + [""] * (top_reasons - len(texts)))
    out = pd.DataFrame({
        "rank": np.arange(1, len(pick) + 1),
        key: scores[key].to_numpy()[pick],
        "churn_probability": scores["churn_probability"].to_numpy()[pick],
        "risk_band": scores["risk_band"].astype(str).to_numpy()[pick],
    })
    for i in range(top_reasons):
        out[f"reason_{i + 1}"] = [r[i] for r in reasons] if reasons else pd.Series([], dtype=str)
    return out


# --- transactional early warning (no label) -------------------------------------------------

_BASE_COLUMNS = ["customer_id", "days_since_last", "gap_mean"]
_EXTRA_COLUMNS = ["frequency", "total_spend", "value_tier", "lifecycle_stage"]
_INPUT_COLUMNS = ["customer_id", "as_of", "frequency", "recency", "T", "days_since_last",
                  "gap_mean", "total_spend"]


def warning_inputs(
    transactions: pd.DataFrame,
    as_of: Any,
    horizon_days: float = 90.0,
    customers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    r"""Every input of the purchase-based warning, taken at one date ``as_of``.

    Purchases after ``as_of`` are ignored; the purchase rhythm (``days_since_last``,
    ``gap_mean``, ``frequency``, ``recency``, ``T``, ``total_spend``) comes from
    :func:`crmlab.features.customer_summary` at ``as_of``, and a BG/NBD model is fitted on
    those same features, so P(alive) and the lapse probability describe the same day as the
    recency they are read with. (Mixing dates -- P(alive) at ``calibration_end``, recency
    at ``observation_end`` -- put a customer who had bought five days earlier at the top of
    the list.)

    The **lapse probability** is the probability of no purchase in the next ``horizon_days``:

    .. math:: P(X(t)=0) = 1 - P(\text{alive})\left[1 -
       \left(\frac{\alpha+T}{\alpha+T+t}\right)^{r+x}\right]

    (alive customers buy as a Poisson process whose rate has the Gamma posterior
    :math:`\Gamma(r+x, \alpha+T)`). For a one-time buyer BG/NBD sets P(alive) to 1 by
    construction -- nobody can drop out before a repeat purchase -- so P(alive) says nothing
    about them; their lapse probability is driven only by how long ago their single purchase
    was, compared with the purchase rates of the whole cohort.

    Parameters
    ----------
    transactions : DataFrame
        Clean transactions: ``customer_id``, ``date``, ``amount``.
    as_of : date-like
        The one date every input is taken at.
    horizon_days : float
        Forecast window of the lapse probability, days (> 0).
    customers : DataFrame, optional
        ``customer_id`` with ``value_tier``/``lifecycle_stage`` labels to carry along (only
        pass a table observed at ``as_of``: they are shown, never used to flag).

    Returns
    -------
    DataFrame
        ``customer_id``, ``as_of``, ``frequency``, ``recency``, ``T``, ``days_since_last``,
        ``gap_mean`` (NaN for one-time buyers), ``total_spend``, ``p_alive``,
        ``lapse_probability`` (both NaN when BG/NBD cannot be fitted, e.g. no repeat buyer)
        and the optional labels; sorted by ``customer_id``. ``attrs["bgnbd"]`` holds the
        fitted parameters or why there are none.

    Raises
    ------
    InputError
        Missing columns, ``horizon_days`` not positive, or no purchase up to ``as_of``.
    """
    from crmlab.btyd import BetaGeo, ConvergenceError
    from crmlab.features import customer_summary

    require_columns(transactions, ["customer_id", "date", "amount"], "transactions")
    if not horizon_days or horizon_days <= 0:
        raise InputError(f"transactional warning: horizon_days must be > 0, got {horizon_days}")
    as_of = pd.Timestamp(as_of)
    summary = customer_summary(transactions, as_of)
    if summary.empty:
        raise InputError(f"transactional warning: no purchase on or before {as_of:%Y-%m-%d}")
    base = summary[[c for c in _INPUT_COLUMNS if c != "as_of"]].copy()
    base.insert(1, "as_of", as_of)
    base["p_alive"] = np.nan
    base["lapse_probability"] = np.nan
    x, t_x, t = (base[c].to_numpy(dtype=np.float64) for c in ("frequency", "recency", "T"))
    try:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):  # a failed fit raises below
            bg = BetaGeo().fit(x, t_x, t)
    except (InputError, ConvergenceError) as exc:
        base.attrs["bgnbd"] = {"fitted": False, "why": str(exc)}
    else:
        r, alpha = bg.params_["r"], bg.params_["alpha"]
        alive = bg.p_alive(x, t_x, t)
        silent = np.exp((r + x) * (np.log(alpha + t) - np.log(alpha + t + horizon_days)))
        base["p_alive"] = alive
        base["lapse_probability"] = 1.0 - alive * (1.0 - silent)
        base.attrs["bgnbd"] = {"fitted": True, **bg.params_, "unit": "days"}
    if customers is not None and "customer_id" in customers.columns:
        extra = [c for c in ("value_tier", "lifecycle_stage") if c in customers.columns]
        if extra:
            attrs = base.attrs
            base = base.merge(customers[["customer_id", *extra]].drop_duplicates("customer_id"),
                              on="customer_id", how="left")
            base.attrs = attrs
    base.attrs["horizon_days"] = float(horizon_days)
    return base.sort_values("customer_id", kind="stable").reset_index(drop=True)


def transactional_warning(base: pd.DataFrame, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Flag the customers most likely to have lapsed, sized to the team's contact capacity.

    Two signals make a customer a **candidate**:

    - *overdue*: for customer *i* with mean inter-purchase gap :math:`g_i` (days) and
      :math:`d_i` days since the last purchase, the gap ratio :math:`r_i = d_i / g_i`
      exceeds ``gap_factor``. One-time buyers have no gap of their own: they are measured
      against their cohort's rhythm, ``one_time_gap`` days (by default the median gap of
      the repeat buyers);
    - *low P(alive)*: BG/NBD's probability of still being active is below
      ``p_alive_threshold`` -- for **repeat buyers only**: a one-time buyer's P(alive) is 1
      by construction, so it is shown with that note and never used for them.

    Candidates are ranked by their lapse probability (no purchase over the horizon, see
    :func:`warning_inputs`; by gap ratio when BG/NBD could not be fitted) and the top
    ceil(``capacity`` x customers) are **warned**: a list a team can work through, not a
    share of the base.

    Parameters
    ----------
    base : DataFrame
        From :func:`warning_inputs`: ``customer_id``, ``as_of`` (one date), ``days_since_last``,
        ``gap_mean`` (NaN for one-time buyers); optional ``frequency``, ``p_alive``,
        ``lapse_probability``, ``total_spend``, ``value_tier``, ``lifecycle_stage``.
    params : mapping, optional
        The ``churn_warning:`` block: ``gap_factor`` (2.0), ``one_time_gap`` (null),
        ``p_alive_threshold`` (0.3), ``capacity`` (0.1).

    Returns
    -------
    DataFrame
        ``customer_id``, ``as_of``, ``days_since_last``, ``typical_gap``, ``gap_basis``
        (``own`` or ``shop median`` / ``one_time_gap``), ``gap_ratio``, ``one_time_buyer``,
        ``p_alive``, ``lapse_probability``, ``overdue``, ``low_p_alive``, ``candidate``,
        ``warning``, ``reason``, ``priority_value`` (spend up to ``as_of``), then the
        optional columns of ``base``; sorted by ``customer_id``.

    Raises
    ------
    InputError
        Missing columns, inputs at more than one date, ``capacity`` not in (0, 1], or no
        repeat buyer to learn a typical gap from while ``one_time_gap`` is null.
    """
    require_columns(base, [*_BASE_COLUMNS, "as_of"], "warning inputs")
    dates = pd.to_datetime(base["as_of"]).dropna().unique()
    if len(dates) != 1 or base["as_of"].isna().any():
        raise InputError(
            f"transactional warning: inputs must share one as_of date, found {len(dates)} "
            f"({', '.join(f'{pd.Timestamp(d):%Y-%m-%d}' for d in dates[:3])})"
        )
    factor = float(_get(params, "gap_factor", 2.0))
    fixed = _get(params, "one_time_gap", None)
    threshold = float(_get(params, "p_alive_threshold", 0.3))
    capacity = float(_get(params, "capacity", 0.1))
    if not 0 < capacity <= 1:
        raise InputError(f"key 'churn_warning.capacity': {capacity} must be in (0, 1]")
    df = base.copy()
    own = df["gap_mean"].astype("float64")
    if fixed is None:
        repeat = own.dropna()  # NaN = one-time buyers, handled by the fallback below
        if repeat.empty:
            raise InputError(
                "transactional warning: no repeat buyer to learn a typical gap from; "
                "set churn_warning.one_time_gap (days)"
            )
        fallback, basis = float(repeat.median()), "shop median"
    else:
        fallback, basis = float(fixed), "one_time_gap"
    df["one_time_buyer"] = own.isna().to_numpy()
    df["typical_gap"] = own.fillna(fallback).clip(lower=1.0)  # same-day gaps do not exist
    df["gap_basis"] = np.where(own.notna(), "own", basis)
    df["gap_ratio"] = df["days_since_last"].astype("float64") / df["typical_gap"]
    for col in ("p_alive", "lapse_probability"):
        df[col] = df[col].astype("float64") if col in df else np.nan
    df["priority_value"] = df["total_spend"].astype("float64") if "total_spend" in df else np.nan
    df["overdue"] = df["gap_ratio"] > factor
    # NaN compares False: no BG/NBD, no flag; one-time buyers' P(alive) = 1 is not evidence
    df["low_p_alive"] = (df["p_alive"] < threshold) & ~df["one_time_buyer"]
    df["candidate"] = df["overdue"] | df["low_p_alive"]
    risk = df["lapse_probability"].where(df["lapse_probability"].notna(), df["gap_ratio"] / 1e6)
    order = pd.DataFrame({"risk": risk, "ratio": df["gap_ratio"], "id": df["customer_id"].astype(str),
                          "cand": df["candidate"]})
    order = order[order["cand"]].sort_values(["risk", "ratio", "id"], ascending=[False, False, True],
                                             kind="stable")
    k = math.ceil(capacity * len(df))
    df["warning"] = df.index.isin(order.index[:k])
    reasons = []
    for d, g, r, one, pa, lp, od, lo, w in zip(
        df["days_since_last"], df["typical_gap"], df["gap_ratio"], df["one_time_buyer"], df["p_alive"], df["lapse_probability"], df["overdue"],
        df["low_p_alive"], df["warning"], strict=True,
    ):
        parts = []
        if od and one:
            parts.append(f"one-time buyer: {d:,.0f} days since the only purchase, {r:.1f}x the "
                         f"shop's typical {g:,.0f}-day gap (P(alive) is 1 for every one-time "
                         "buyer in BG/NBD: not used)")
        elif od:
            parts.append(f"{d:,.0f} days since last purchase, {r:.1f}x their usual {g:,.0f}-day gap")
        if lo:
            parts.append(f"P(alive) {pa:.2f} < {threshold:.2f}")
        if w and pd.notna(lp):
            parts.append(f"{lp:.0%} likely to buy nothing in the horizon")
        reasons.append("; ".join(parts))
    df["reason"] = reasons
    cols = ["customer_id", "as_of", "days_since_last", "typical_gap", "gap_basis", "gap_ratio",
            "one_time_buyer", "p_alive", "lapse_probability", "overdue", "low_p_alive",
            "candidate", "warning", "reason", "priority_value"]
    cols += [c for c in _EXTRA_COLUMNS if c in df.columns]
    out = df[cols].sort_values("customer_id", kind="stable").reset_index(drop=True)
    out.attrs = dict(base.attrs)
    return out


def transactional_watch_list(warning: pd.DataFrame) -> pd.DataFrame:
    """Warned customers in the order to contact them, most valuable first.

    The warning is already sized to the team's capacity (:func:`transactional_warning`);
    this orders it by ``priority_value`` (spend so far, high first), then by the smaller gap
    ratio (the less long gone, the likelier a call still helps).

    Raises
    ------
    InputError
        When a column is missing.
    """
    require_columns(warning, ["customer_id", "warning", "gap_ratio", "priority_value"], "warning table")
    flagged = warning[warning["warning"]]
    out = flagged.sort_values(
        ["priority_value", "gap_ratio", "customer_id"], ascending=[False, True, True],
        kind="stable", na_position="last",
    )
    out = out.reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def warning_backtest(warning: pd.DataFrame, transactions: pd.DataFrame, until: Any) -> dict[str, Any]:
    """Check flags raised at ``as_of`` against who actually bought in ``(as_of, until]``.

    The warning claims "these customers will not buy"; the holdout tells. With *n* customers
    (all known at ``as_of``), *F* flagged, *L* who bought nothing in the window and *TP*
    flagged customers who bought nothing:

    - ``precision`` = TP / F (how many calls reach a customer who really lapsed),
    - ``recall`` = TP / L (how many of the lapsed the list reaches),
    - ``lift`` = precision / (L / n) (against flagging at random),
    - ``flagged_share`` = F / n.

    Parameters
    ----------
    warning : DataFrame
        From :func:`transactional_warning` computed at one ``as_of`` before ``until``:
        ``customer_id``, ``as_of``, ``warning``.
    transactions : DataFrame
        Clean transactions (``customer_id``, ``date``) covering the window.
    until : date-like
        End of the window (inclusive), e.g. ``periods.observation_end``.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``lift``, ``flagged_share`` (NaN-free floats; precision and
        lift are None when nobody is flagged, recall None when nobody lapsed), plus
        ``customers``, ``flagged``, ``lapsed``, ``flagged_lapsed``, ``base_rate``, ``as_of``,
        ``until``, ``event``.

    Raises
    ------
    InputError
        Missing columns, inputs at more than one date, or ``until`` not after ``as_of``.
    """
    require_columns(warning, ["customer_id", "as_of", "warning"], "warning table")
    require_columns(transactions, ["customer_id", "date"], "transactions")
    dates = pd.to_datetime(warning["as_of"]).unique()
    if len(dates) != 1:
        raise InputError(f"warning backtest: flags must share one as_of date, found {len(dates)}")
    start, end = pd.Timestamp(dates[0]), pd.Timestamp(until)
    if end <= start:
        raise InputError(f"warning backtest: until ({end:%Y-%m-%d}) must be after as_of ({start:%Y-%m-%d})")
    window = transactions[(transactions["date"] > start) & (transactions["date"] <= end)]
    bought = warning["customer_id"].astype(str).isin(set(window["customer_id"].astype(str)))
    lapsed = ~bought.to_numpy()
    flag = warning["warning"].astype(bool).to_numpy()
    n, f, lap, tp = len(warning), int(flag.sum()), int(lapsed.sum()), int((flag & lapsed).sum())
    base = lap / n if n else None
    precision = tp / f if f else None
    return {
        "precision": precision,
        "recall": tp / lap if lap else None,
        "lift": precision / base if precision is not None and base else None,
        "flagged_share": f / n if n else None,
        "customers": n, "flagged": f, "lapsed": lap, "flagged_lapsed": tp,
        "base_rate": base,
        "as_of": f"{start:%Y-%m-%d}", "until": f"{end:%Y-%m-%d}",
        "event": "no purchase in (as_of, until]",
    }


def labelled_metrics(
    table: ChurnTable,
    models: ChurnModels,
    scores: pd.DataFrame,
    thresholds: Mapping[str, Any],
    capacity: float,
) -> dict[str, Any]:
    """Assemble the labelled part of ``churn_metrics.json``.

    Returns
    -------
    dict
        Per model on the test split ``{roc_auc, pr_auc, brier}`` under its name; ``models``
        (names, simplest first); ``chosen``; ``final`` (the scorer actually used: the chosen
        model, recalibrated or not); ``cv`` (the training-only scores behind the choice);
        ``calibration``; ``capacity`` (:func:`capacity_summary` on the test split: an
        evaluation, it counts churners caught); ``risk_bands`` (thresholds set on current
        customers; counts per band, ``churned`` last); ``current_customers`` (how many are
        still here, how many of them are ``high``: the action KPIs); ``rows``; ``left_out`` (feature columns
        left out by typing and by the collinearity guard, with why).

    Raises
    ------
    InputError
        When ``scores`` lacks ``risk_band``.
    """
    require_columns(scores, ["risk_band", "split"], "scores")
    names = list(models.fitted)
    test = models.test
    cv = {"metric": "roc_auc", "folds": int(models.cv_summary["folds"].iloc[0]),
          "rule": "best mean, or a simpler model within one standard error of it"}
    for _, row in models.cv_summary.iterrows():
        cv[row["model"]] = {"mean": float(row["mean"]), "std": float(row["std"]),
                            "se": float(row["se"])}
    typing = table.types[table.types["kind"] == "excluded"]
    left_out = {str(c): str(a) for c, a in zip(typing["column"], typing["action"], strict=True)}
    dedup = models.fitted["logistic"].named_steps["dedup"]
    left_out.update({f"logistic: {k}": v for k, v in dedup.dropped_.items()})
    counts = scores["risk_band"].astype(str).value_counts()
    current = scores["risk_band"].astype(str) != CHURNED
    out: dict[str, Any] = {"labelled": True, "models": names}
    out.update({n: models.metrics[n] for n in names})
    out["chosen"] = models.chosen
    out["final"] = {**models.metrics["final"], "calibration": models.calibration["method"]}
    out["cv"] = cv
    out["calibration"] = {k: models.calibration[k] for k in ("ece", "brier", "method", "reason")}
    out["capacity"] = capacity_summary(test["actual"], test["final"], capacity)
    out["risk_bands"] = {**dict(thresholds),
                         "counts": {b: int(counts.get(b, 0)) for b in [*reversed(BANDS), CHURNED]}}
    prob = scores.loc[current, "churn_probability"] if "churn_probability" in scores else None
    out["current_customers"] = {
        "customers": int(current.sum()),
        "high": int(counts.get("high", 0)),
        "scores": "out of fold (training rows) or held out (test rows)",
        "mean_probability": float(prob.mean()) if prob is not None and len(prob) else None,
    }
    out["rows"] = {"total": int(len(scores)), "train": int((scores["split"] == "train").sum()),
                   "test": int((scores["split"] == "test").sum()),
                   "churned": int((~current).sum()),
                   "churn_rate": float(table.target.mean())}
    out["left_out"] = left_out
    return out


def warning_metrics(warning: pd.DataFrame, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Assemble the transactional part of ``churn_metrics.json``: who is warned, why, as of when.

    Raises
    ------
    InputError
        When a column of :func:`transactional_warning` is missing.
    """
    require_columns(warning, ["as_of", "warning", "candidate", "overdue", "low_p_alive", "gap_basis",
                              "typical_gap", "p_alive", "one_time_buyer"], "warning table")
    fallback = warning.loc[warning["gap_basis"] != "own", "typical_gap"]
    one = warning["one_time_buyer"].astype(bool)
    bg = warning.attrs.get("bgnbd") or {}
    return {
        "as_of": f"{pd.Timestamp(warning['as_of'].iloc[0]):%Y-%m-%d}" if len(warning) else None,
        "customers": int(len(warning)),
        "candidates": int(warning["candidate"].sum()),
        "warned": int(warning["warning"].sum()),
        "capacity": float(_get(params, "capacity", 0.1)),
        "overdue": int(warning["overdue"].sum()),
        "low_p_alive": int(warning["low_p_alive"].sum()),
        "one_time_buyers": int(one.sum()),
        "one_time_buyers_p_alive_one": int((warning.loc[one, "p_alive"] >= 1 - 1e-12).sum()),
        "one_time_gap_days": float(fallback.iloc[0]) if len(fallback) else None,
        "p_alive_available": bool(warning["p_alive"].notna().any()),
        "horizon_days": warning.attrs.get("horizon_days"),
        "bgnbd": {k: v for k, v in bg.items()} or None,
        "gap_factor": float(_get(params, "gap_factor", 2.0)),
        "p_alive_threshold": float(_get(params, "p_alive_threshold", 0.3)),
    }
