"""Survey intake: the ``survey:`` params read once, answers parsed, recoded and counted.

A survey measures each idea ("construct": Image, Quality, Satisfaction ...) with a few
questions ("items") on a rating scale. The file is read by :func:`crmlab.io.read_input`
with every cell as text; this module turns the mapped columns into numbers and counts,
by reason, every answer it sets missing (:data:`MISSING_POLICY`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from crmlab.errors import InputError
from crmlab.satisfaction.ipa import actionable_drivers
from crmlab.satisfaction.thresholds import MAX_SHAPLEY_DRIVERS, NPS_SCALE

__all__ = [
    "MISSING_POLICY",
    "MISSING_REASONS",
    "SurveySettings",
    "PreparedSurvey",
    "setting",
    "survey_settings",
    "prepare_survey",
]

MISSING_REASONS = ("blank", "non_numeric", "missing_code", "out_of_range")
# Cells that mean "no answer" in exports (the reader keeps cells as text, so "NA" is a string).
_NA_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "."})

MISSING_POLICY = (
    "Answers that are blank, not numbers, listed in missing_codes or outside the scale are "
    "set missing and counted by reason; reversed items are recoded as scale_min + scale_max - x; "
    "a construct score is the mean of the answered items when at least min_answered of its "
    "items are answered (else missing); reliability uses respondents who answered every item "
    "of the construct; regressions use respondents with every score they need (complete cases)."
)


# --- settings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveySettings:
    """The ``survey:`` params block, checked for internal consistency.

    Attributes mirror the params keys; ``drivers`` is resolved (``None`` in params means
    every construct except the outcome and loyalty).
    """

    constructs: dict[str, list[str]]
    scale: tuple[float, float]
    outcome: str
    loyalty: str | None
    drivers: list[str]
    reversed: list[str]
    id: str | None
    group: str | None
    recommend: str | None
    missing_codes: list[float]
    min_answered: float
    confidence: float
    importance: str
    actionable: list[str] | None

    @property
    def items(self) -> list[str]:
        """Every item column, in construct order."""
        return [i for items in self.constructs.values() for i in items]


def survey_settings(survey: Mapping[str, Any]) -> SurveySettings:
    """Check a ``survey:`` params block and resolve its defaults.

    Parameters
    ----------
    survey : mapping
        The params block (``params.survey``) or a plain dict with at least ``constructs``,
        ``scale`` and ``outcome``; other keys take their params defaults.

    Returns
    -------
    SurveySettings

    Raises
    ------
    InputError
        Naming the ``survey.<key>`` that is inconsistent (outcome not a construct, an item
        listed twice, a reversed item that is no construct's item, ...).
    """
    for key in ("constructs", "outcome"):
        if not setting(survey, key):
            raise InputError(f"survey: missing required key 'survey.{key}'")
    constructs = {str(k): [str(i) for i in v] for k, v in setting(survey, "constructs").items()}
    for name, items in constructs.items():
        if not items:
            raise InputError(f"survey: key 'survey.constructs.{name}' lists no items")
    seen: dict[str, str] = {}
    for name, items in constructs.items():
        for item in items:
            if item in seen:
                raise InputError(
                    f"survey: key 'survey.constructs': item {item!r} is listed under both "
                    f"{seen[item]!r} and {name!r}"
                )
            seen[item] = name
    lo, hi = (float(x) for x in setting(survey, "scale"))
    if not lo < hi:
        raise InputError(f"survey: key 'survey.scale': minimum {lo:g} must be below maximum {hi:g}")
    outcome, loyalty = str(setting(survey, "outcome")), setting(survey, "loyalty")
    for key, value in (("outcome", outcome), ("loyalty", loyalty)):
        if value is not None and value not in constructs:
            raise InputError(
                f"survey: key 'survey.{key}': {value!r} is not one of the constructs "
                f"({', '.join(constructs)})"
            )
    if loyalty == outcome:
        raise InputError(
            "survey: keys 'survey.loyalty' and 'survey.outcome' name the same construct"
        )
    drivers = setting(survey, "drivers")
    if drivers is None:
        drivers = [c for c in constructs if c not in (outcome, loyalty)]
    for d in drivers:
        if d not in constructs:
            raise InputError(
                f"survey: key 'survey.drivers': {d!r} is not one of the constructs "
                f"({', '.join(constructs)})"
            )
        if d in (outcome, loyalty):
            raise InputError(
                f"survey: key 'survey.drivers': {d!r} is the outcome or loyalty construct"
            )
    for item in setting(survey, "reversed"):
        if item not in seen:
            raise InputError(
                f"survey: key 'survey.reversed': {item!r} is not an item of any construct"
            )
    importance = setting(survey, "importance")
    if importance not in ("shapley", "relative_weights"):
        raise InputError(
            f"survey: key 'survey.importance': {importance!r} is not shapley or relative_weights"
        )
    if importance == "shapley" and len(drivers) > MAX_SHAPLEY_DRIVERS:
        raise InputError(
            f"survey: key 'survey.importance': shapley needs at most {MAX_SHAPLEY_DRIVERS} "
            f"drivers, got {len(drivers)}; use importance: relative_weights"
        )
    actionable = setting(survey, "actionable")
    if actionable is not None:
        actionable = [str(a) for a in actionable]
        actionable_drivers(drivers, actionable)  # names every non-driver as survey.actionable
    return SurveySettings(
        constructs=constructs,
        scale=(lo, hi),
        outcome=outcome,
        loyalty=loyalty,
        drivers=list(drivers),
        reversed=list(setting(survey, "reversed")),
        id=setting(survey, "id"),
        group=setting(survey, "group"),
        recommend=setting(survey, "recommend"),
        missing_codes=[float(c) for c in setting(survey, "missing_codes")],
        min_answered=float(setting(survey, "min_answered")),
        confidence=float(setting(survey, "confidence")),
        importance=importance,
        actionable=actionable,
    )


# --- intake --------------------------------------------------------------------------------


@dataclass
class PreparedSurvey:
    """The survey as numbers, with what was set missing.

    Attributes
    ----------
    items : DataFrame
        One float column per item (reversed items recoded), missing answers as NaN.
    group : Series or None
        The grouping column as text (missing where blank).
    recommend : Series or None
        The 0-10 recommend answer as float (missing where not usable).
    missing : DataFrame
        One row per item (and the recommend item): ``item``, ``construct``, one count per
        reason in :data:`MISSING_REASONS`, ``missing``, ``answered``, ``reversed``.
    respondents_in : int
        Rows in the file.
    duplicate_ids : int
        Rows dropped because their respondent id repeats an earlier row (``id`` set).
    blank_ids : int
        Rows whose respondent id is blank (kept: their answers are still answers).
    blank_groups : int
        Respondents with a blank group (left out of group comparisons only).
    """

    items: pd.DataFrame
    group: pd.Series | None
    recommend: pd.Series | None
    missing: pd.DataFrame
    respondents_in: int
    duplicate_ids: int = 0
    blank_ids: int = 0
    blank_groups: int = 0


def _blank(col: pd.Series) -> pd.Series:
    text = col.astype("string").str.strip()
    return text.isna() | text.str.lower().isin(_NA_TOKENS)


def _parse_answers(
    col: pd.Series, lo: float, hi: float, codes: Sequence[float]
) -> tuple[pd.Series, dict[str, int]]:
    """Numbers on [lo, hi] from a raw column, and how many answers each rule set missing."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        values = col.astype("float64")
        blank = values.isna()
        non_numeric = pd.Series(False, index=col.index)
    else:
        blank = _blank(col)
        text = col.astype("string").str.strip().where(~blank)
        # errors="coerce" is safe here: every value it turns into NaN is counted just below.
        values = pd.to_numeric(text.astype(object), errors="coerce").astype("float64")
        non_numeric = values.isna() & ~blank
    coded = values.isin(list(codes)) & values.notna()
    out_of_range = values.notna() & ~coded & ~values.between(lo, hi)
    clean = values.where(~(coded | out_of_range))
    counts = {
        "blank": int(blank.sum()),
        "non_numeric": int(non_numeric.sum()),
        "missing_code": int(coded.sum()),
        "out_of_range": int(out_of_range.sum()),
    }
    return clean, counts


def prepare_survey(raw: pd.DataFrame, survey: Mapping[str, Any] | SurveySettings) -> PreparedSurvey:
    """Turn the survey file's text cells into numbers, counting every answer set missing.

    Parameters
    ----------
    raw : DataFrame
        The file as :func:`crmlab.io.read_table` returns it (text cells; Parquet may be
        numeric), with the item columns of ``survey.constructs``.
    survey : mapping or SurveySettings
        The ``survey:`` params block.

    Returns
    -------
    PreparedSurvey
        Items as floats on the declared scale (reversed items recoded as
        ``scale_min + scale_max - x``), the optional group and recommend columns, and the
        per-item count of answers set missing by reason.

    Raises
    ------
    InputError
        An item, id, group or recommend column is not in the file; or the file has no rows.

    Notes
    -----
    ``missing_codes`` apply to every item. On the 0-10 recommend item a code that is a valid
    answer there (e.g. 0) is not applied, since 0 means "not at all likely" on that scale.
    With ``id`` set, a row whose id repeats an earlier row is dropped (the first is kept)
    and counted.
    """
    s = survey if isinstance(survey, SurveySettings) else survey_settings(survey)
    for item in s.items:
        if item not in raw.columns:
            raise InputError(f"survey: survey item column {item!r} not found in the survey file")
    for key in ("id", "group", "recommend"):
        col = getattr(s, key)
        if col is not None and col not in raw.columns:
            raise InputError(
                f"survey: key 'survey.{key}': column {col!r} not found in the survey file"
            )
    if raw.empty:
        raise InputError("survey: the survey file has no respondents")
    df = raw.reset_index(drop=True)
    n_in = len(df)
    duplicate_ids = blank_ids = 0
    if s.id is not None:
        ids = df[s.id].astype("string").str.strip()
        blank = _blank(df[s.id])
        blank_ids = int(blank.sum())
        # Blank ids are not duplicates of each other: only real ids can repeat.
        dup = ids.duplicated(keep="first") & ~blank
        duplicate_ids = int(dup.sum())
        df = df.loc[~dup].reset_index(drop=True)

    lo, hi = s.scale
    reversed_items = set(s.reversed)
    item_of = {i: c for c, items in s.constructs.items() for i in items}
    columns, rows = {}, []
    for item in s.items:
        values, counts = _parse_answers(df[item], lo, hi, s.missing_codes)
        if item in reversed_items:
            values = lo + hi - values
        columns[item] = values
        rows.append(
            {"item": item, "construct": item_of[item], **counts, "reversed": item in reversed_items}
        )
    items = pd.DataFrame(columns, index=df.index)

    recommend = None
    if s.recommend is not None:
        codes = [c for c in s.missing_codes if not NPS_SCALE[0] <= c <= NPS_SCALE[1]]
        recommend, counts = _parse_answers(df[s.recommend], *NPS_SCALE, codes)
        recommend = recommend.rename("recommend")
        rows.append(
            {"item": s.recommend, "construct": "(recommend, 0-10)", **counts, "reversed": False}
        )

    group, blank_groups = None, 0
    if s.group is not None:
        blank = _blank(df[s.group])
        blank_groups = int(blank.sum())
        group = df[s.group].astype("string").str.strip().where(~blank).rename("group")

    missing = pd.DataFrame(rows)
    missing["missing"] = missing[list(MISSING_REASONS)].sum(axis=1)
    missing["answered"] = len(df) - missing["missing"]
    missing = missing[["item", "construct", *MISSING_REASONS, "missing", "answered", "reversed"]]
    return PreparedSurvey(
        items=items,
        group=group,
        recommend=recommend,
        missing=missing,
        respondents_in=n_in,
        duplicate_ids=duplicate_ids,
        blank_ids=blank_ids,
        blank_groups=blank_groups,
    )


# --- reliability ---------------------------------------------------------------------------


def _numeric_frame(items: pd.DataFrame, what: str) -> pd.DataFrame:
    if not isinstance(items, pd.DataFrame) or items.shape[1] == 0:
        raise InputError(f"{what}: needs a DataFrame with at least one item column")
    bad = [c for c in items.columns if not pd.api.types.is_numeric_dtype(items[c])]
    if bad:
        raise InputError(
            f"{what}: item column {bad[0]!r} is not numeric (use prepare_survey first)"
        )
    return items.astype("float64")


def _complete(items: pd.DataFrame) -> pd.DataFrame:
    # Listwise within one construct; callers report len() as the n the statistic rests on.
    return items.loc[items.notna().all(axis=1)]


def _check_constructs(
    items: pd.DataFrame, constructs: Mapping[str, Sequence[str]], what: str
) -> None:
    if not constructs:
        raise InputError(f"{what}: no constructs given")
    for name, cols in constructs.items():
        for col in cols:
            if col not in items.columns:
                raise InputError(f"{what}: item column {col!r} of construct {name!r} not found")


def setting(survey: Any, key: str, section: str | None = None) -> Any:
    """One key of a ``survey:`` block, or the params schema's default when it is unset.

    Parameters
    ----------
    survey : mapping or params section
        ``params.survey`` or a plain dict (tests, notebooks run by hand).
    key : str
        The key, e.g. ``"min_answered"``.
    section : str, optional
        A nested section (``"bootstrap"``): the key is read inside it.

    Returns
    -------
    Any
        The value; a key that is absent or null takes the default of
        :data:`crmlab.config.SURVEY` (the one place defaults live), ``None`` when the
        schema has none (a required key).
    """
    from crmlab.config import SURVEY

    schema = SURVEY.keys[section] if section else SURVEY
    block = survey
    if section is not None:
        block = _value(survey, section) or {}
    value = _value(block, key)
    if value is None:
        default = getattr(schema.keys.get(key), "default", None)
        value = default if isinstance(default, (str, int, float, bool, list, dict)) else None
    return value


def _value(block: Any, key: str) -> Any:
    return block.get(key) if isinstance(block, Mapping) else getattr(block, key, None)
