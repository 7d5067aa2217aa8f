"""Intake of a labelled churn table: the target to 0/1, typed features, the leakage guard, the split.

The raw text table is typed automatically (numbers, yes/no flags, categories), the target is
mapped to 0/1 and identifiers and the target are kept out of the features, so a new table
with other column names works without code changes. Pure functions: DataFrames in,
DataFrames out; no argument is modified.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from crmlab.errors import InputError, require_columns

__all__ = [
    "MISSING_LEVEL",
    "ChurnTable",
    "map_target",
    "infer_feature_types",
    "prepare_churn_table",
    "blank_rows",
    "split_train_test",
]

MISSING_LEVEL = "(missing)"

# Text spellings of a yes/no answer (compared after strip + casefold).
_TRUE = {"yes", "y", "true", "t", "1", "1.0"}
_FALSE = {"no", "n", "false", "f", "0", "0.0"}
# A text column counts as numeric when at least this share of its non-blank cells parse.
_NUMERIC_SHARE = 0.95
# A text column whose levels cover more than this share of rows names customers, not a trait.
_ID_LIKE_SHARE = 0.5


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
    fill_blanks: Mapping[str, float] | None,
    max_levels: int,
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
    fill_blanks : mapping of str to float, or None
        Column -> value for blank cells (``churn.fill_blanks``).
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


def prepare_churn_table(raw: pd.DataFrame, params: Any) -> ChurnTable:
    """Intake of a labelled churn table: target to 0/1, typed features, the leakage guard.

    Parameters
    ----------
    raw : DataFrame
        The table as read (one row per customer), text or typed columns.
    params : params section
        The validated ``churn`` section: ``target``, ``positive``, ``id`` (None = none),
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
    target_col = params.target
    id_col = params.id
    require_columns(raw, [target_col] + ([id_col] if id_col else []), "churn table")
    if id_col == target_col:
        raise InputError(f"key 'churn.id': {id_col!r} is the target column")
    df = raw.reset_index(drop=True)
    y = map_target(df[target_col], params.positive, target_col)
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
        candidates, params.fill_blanks, int(params.max_levels)
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


def split_train_test(target: pd.Series, test_size: float, seed: int) -> pd.Series:
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
