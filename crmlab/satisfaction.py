"""Satisfaction surveys: intake, reliability, satisfaction index, key drivers, loyalty link.

A survey measures each idea ("construct": Image, Quality, Satisfaction ...) with a few
questions ("items") on a rating scale. This module answers, in order:

1. *Can we trust the scales?* Cronbach's alpha, composite reliability (CR) and average
   variance extracted (AVE) per construct, item-total correlations.
2. *How satisfied are customers?* Construct scores (item means) turned into a 0-100 index
   with a confidence interval; the outcome construct's index is the number leadership tracks.
3. *What drives satisfaction, and where to invest?* Standardised OLS of the outcome on the
   other constructs, a Shapley/LMG decomposition of R² (robust to correlated drivers) and
   the importance-performance matrix.
4. *Does satisfaction turn into loyalty?* A regression of loyalty on satisfaction, group
   comparisons and the Net Promoter Score when the survey has what they need.

Every function is pure (DataFrames in, DataFrames or small dataclasses out); reading the
file is :func:`crmlab.io.read_table`'s job and drawing is :mod:`crmlab.plots`'.

Missing-data policy (:data:`MISSING_POLICY`): an answer that is blank, not a number, one of
``missing_codes`` or outside ``scale`` is set missing and counted by reason; a construct
score is the mean of the answered items when at least ``min_answered`` (default half) of
its items are answered; reliability uses the respondents who answered every item of the
construct; regressions use complete cases. Each step reports how many respondents it used.

Two alphas are reported and named (they differ whenever item variances differ):
``alpha`` is raw-score Cronbach's alpha (from item variances and covariances);
``alpha_standardized`` is the standardised-item alpha from the mean inter-item correlation,
the one PLS-SEM tools such as seminr print.

References
----------
Cronbach (1951), "Coefficient alpha and the internal structure of tests", Psychometrika 16.
Fornell & Larcker (1981), "Evaluating structural equation models with unobservable
variables and measurement error", JMR 18(1) (composite reliability, AVE).
Lindeman, Merenda & Gold (1980), *Introduction to Bivariate and Multivariate Analysis*
(LMG decomposition); Grömping (2007), "Estimators of relative importance in linear
regression based on variance decomposition", The American Statistician 61(2).
Johnson (2000), "A heuristic method for estimating the relative weight of predictor
variables in multiple regression", Multivariate Behavioral Research 35(1).
Martilla & James (1977), "Importance-performance analysis", Journal of Marketing 41(1).
Reichheld (2003), "The one number you need to grow", Harvard Business Review (NPS).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.outliers_influence import variance_inflation_factor

from crmlab import pls_quality
from crmlab.errors import InputError

__all__ = [
    "ALPHA_MIN",
    "AVE_MIN",
    "CR_MIN",
    "MISSING_POLICY",
    "MISSING_REASONS",
    "ALPHA_NOTE",
    "LOADING_NOTE",
    "QUADRANTS",
    "NOT_A_LEVER",
    "NOT_ACTIONABLE",
    "CROSSHAIRS",
    "SurveySettings",
    "PreparedSurvey",
    "DriverResult",
    "LoyaltyResult",
    "GroupResult",
    "SurveyAnalysis",
    "survey_settings",
    "prepare_survey",
    "cronbach_alpha",
    "standardized_alpha",
    "OneFactorFit",
    "fit_one_factor",
    "one_factor_loadings",
    "construct_loadings",
    "loading_comparison",
    "composite_reliability",
    "average_variance_extracted",
    "item_statistics",
    "construct_scores",
    "reliability",
    "satisfaction_index",
    "shapley_r2",
    "relative_weights",
    "key_drivers",
    "sign_flips",
    "suppression_sentence",
    "ipm_crosshair",
    "actionable_drivers",
    "quadrant_of",
    "importance_performance",
    "loyalty_link",
    "group_comparison",
    "net_promoter_score",
    "analyze_survey",
    "takeaways",
    "summary_json",
]

# Usual rules of thumb (Nunnally 1978 for alpha; Fornell & Larcker 1981 for CR and AVE).
ALPHA_MIN = 0.7
CR_MIN = 0.7
AVE_MIN = 0.5
# Shapley/LMG visits every subset of drivers: 2**15 small solves is still well under a second.
MAX_SHAPLEY_DRIVERS = 15
NPS_SCALE = (0.0, 10.0)

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
ALPHA_NOTE = (
    "alpha = raw-score Cronbach's alpha (item variances and covariances); "
    "alpha_standardized = standardised-item alpha from the mean inter-item correlation "
    "(what PLS-SEM tools such as seminr report). Single-item constructs have no alpha, "
    "composite reliability or AVE: internal consistency needs at least two items."
)
LOADING_NOTE = (
    "composite_reliability and ave use standardised loadings from a measurement model: by "
    "default a maximum-likelihood one-factor model per construct (congeneric; two items are "
    "taken as tau-equivalent, loading sqrt(r) each), or loadings passed in (e.g. PLS outer "
    "loadings; constructs.<name>.loadings says which). First-principal-component loadings are "
    "not used: they absorb error variance and inflate CR and AVE, most for short scales. "
    "A construct is 'reliable' when raw alpha and CR both reach 0.7."
)

# Martilla & James (1977) quadrant -> (advice for a driver the firm can act on, rank order).
# "high" = at or above the cross-hair (ipm_crosshair), so the words compare a driver with the
# other drivers, not with an absolute bar.
QUADRANTS: dict[str, tuple[str, int]] = {
    "concentrate here": (
        "more important than most drivers but weaker: improve it first",
        1,
    ),
    "keep up the good work": ("important and strong: keep it at this level", 2),
    "low priority": ("less important and weaker: low priority, keep watching", 3),
    "possible overkill": (
        "strong but less important: check whether effort here could go elsewhere",
        4,
    ),
}
# The same quadrants for a driver the firm cannot set directly (see NOT_ACTIONABLE).
NOT_A_LEVER: dict[str, str] = {
    "concentrate here": (
        "important and weaker, but not a lever: do not budget for it as such; shape it "
        "through what the firm does control (promises in advertising, onboarding)"
    ),
    "keep up the good work": "important and strong, but not a lever: keep watching it",
    "low priority": "less important and weaker, and not a lever: nothing to do",
    "possible overkill": "strong but less important, and not a lever: nothing to do",
}
# Constructs that are not levers unless survey.actionable says otherwise: customers'
# expectations before buying (ECSI/ACSI) are formed by word of mouth, past experience and
# the market; the firm influences them only through what it promises.
NOT_ACTIONABLE = frozenset({"expectation", "expectations", "customer expectations"})
CROSSHAIRS = ("midrange", "mean")


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
    loyalty: str | None = None
    drivers: list[str] = field(default_factory=list)
    reversed: list[str] = field(default_factory=list)
    id: str | None = None
    group: str | None = None
    recommend: str | None = None
    missing_codes: list[float] = field(default_factory=list)
    min_answered: float = 0.5
    confidence: float = 0.95
    importance: str = "shapley"
    actionable: list[str] | None = None

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
        if not survey.get(key):
            raise InputError(f"survey: missing required key 'survey.{key}'")
    constructs = {str(k): [str(i) for i in v] for k, v in survey["constructs"].items()}
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
    lo, hi = (float(x) for x in survey.get("scale") or (1, 10))
    if not lo < hi:
        raise InputError(f"survey: key 'survey.scale': minimum {lo:g} must be below maximum {hi:g}")
    outcome, loyalty = str(survey["outcome"]), survey.get("loyalty")
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
    drivers = survey.get("drivers")
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
    for item in survey.get("reversed") or []:
        if item not in seen:
            raise InputError(
                f"survey: key 'survey.reversed': {item!r} is not an item of any construct"
            )
    importance = survey.get("importance") or "shapley"
    if importance not in ("shapley", "relative_weights"):
        raise InputError(
            f"survey: key 'survey.importance': {importance!r} is not shapley or relative_weights"
        )
    if importance == "shapley" and len(drivers) > MAX_SHAPLEY_DRIVERS:
        raise InputError(
            f"survey: key 'survey.importance': shapley needs at most {MAX_SHAPLEY_DRIVERS} "
            f"drivers, got {len(drivers)}; use importance: relative_weights"
        )
    actionable = survey.get("actionable")
    if actionable is not None:
        actionable = [str(a) for a in actionable]
        actionable_drivers(drivers, actionable)  # names every non-driver as survey.actionable
    return SurveySettings(
        constructs=constructs,
        scale=(lo, hi),
        outcome=outcome,
        loyalty=loyalty,
        drivers=list(drivers),
        reversed=list(survey.get("reversed") or []),
        id=survey.get("id"),
        group=survey.get("group"),
        recommend=survey.get("recommend"),
        missing_codes=[float(c) for c in survey.get("missing_codes") or []],
        min_answered=float(survey.get("min_answered", 0.5)),
        confidence=float(survey.get("confidence", 0.95)),
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


def cronbach_alpha(items: pd.DataFrame) -> float:
    r"""Raw-score Cronbach's alpha of the items of one construct.

    .. math:: \alpha = \frac{k}{k-1}\Bigl(1 - \frac{\sum_i s_i^2}{s_T^2}\Bigr)

    with :math:`s_i^2` the item variances and :math:`s_T^2` the variance of the respondents'
    item sums (sample variances, ``ddof=1``).

    Parameters
    ----------
    items : DataFrame
        Numeric item columns of one construct; rows with a missing item are left out.

    Returns
    -------
    float
        NaN with fewer than two items, fewer than two complete rows or a constant total.

    Raises
    ------
    InputError
        No item columns, or a column that is not numeric.

    References
    ----------
    Cronbach (1951), Psychometrika 16.
    """
    x = _complete(_numeric_frame(items, "cronbach_alpha"))
    k = x.shape[1]
    if k < 2 or len(x) < 2:
        return float("nan")
    total_var = x.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return float("nan")
    return float(k / (k - 1) * (1 - x.var(ddof=1).sum() / total_var))


def _item_correlations(x: pd.DataFrame) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.corrcoef(x.to_numpy(), rowvar=False)


def standardized_alpha(items: pd.DataFrame) -> float:
    r"""Standardised-item alpha: alpha of the z-scored items.

    .. math:: \alpha_{std} = \frac{k\,\bar r}{1 + (k-1)\,\bar r}

    with :math:`\bar r` the mean correlation between distinct items. PLS-SEM software
    (seminr, SmartPLS) reports this one; it equals raw alpha only when item variances are
    equal.

    Parameters
    ----------
    items : DataFrame
        Numeric item columns of one construct; rows with a missing item are left out.

    Returns
    -------
    float
        NaN with fewer than two items or when a correlation is undefined (constant item).

    Raises
    ------
    InputError
        No item columns, or a column that is not numeric.
    """
    x = _complete(_numeric_frame(items, "standardized_alpha"))
    k = x.shape[1]
    if k < 2 or len(x) < 3:
        return float("nan")
    r = _item_correlations(x)
    rbar = r[~np.eye(k, dtype=bool)].mean()
    return float(k * rbar / (1 + (k - 1) * rbar))


# Heywood bound of R's factanal: a uniqueness this small means the loading hit 1.
_PSI_MIN = 0.005


@dataclass
class OneFactorFit:
    """A one-factor (congeneric) measurement model of one construct's items.

    Attributes
    ----------
    loadings : Series
        Standardised loading per item (the correlation of the item with the factor).
    uniquenesses : Series
        ``1 - loading**2``: the share of each item's variance the factor leaves unexplained.
    method : str
        ``ml`` (maximum likelihood, three or more items), ``tau-equivalent`` (two items:
        the one-factor model is not identified, so both loadings are set equal,
        ``sqrt(r)``), ``single item`` or ``pca`` (the first principal component, kept for
        comparison only).
    n : int
        Complete rows the fit used.
    heywood : bool
        A uniqueness hit its lower bound (a loading at 1): the model does not fit this
        construct and CR/AVE from it overstate reliability.
    chi2, df, p_value : float
        Likelihood-ratio test of one factor (NaN when ``df`` is 0: three items fit exactly).
    """

    loadings: pd.Series
    uniquenesses: pd.Series
    method: str
    n: int
    heywood: bool = False
    chi2: float = float("nan")
    df: int = 0
    p_value: float = float("nan")


def _ml_one_factor(r: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Maximum-likelihood one-factor fit of a correlation matrix (R's ``factanal``).

    The uniquenesses psi are found by L-BFGS-B on [0.005, 1]; the loadings follow from the
    largest eigenpair of Psi^-1/2 R Psi^-1/2 (Joreskog 1967). Returns loadings, psi and the
    minimised discrepancy F.
    """
    from scipy.optimize import minimize

    k = r.shape[0]
    if np.linalg.eigvalsh(r)[0] < 1e-8:
        # duplicate or collinear items: a tiny ridge keeps the likelihood finite; the fit
        # then puts those loadings at the bound (a Heywood case, flagged by the caller)
        r = (r + 1e-6 * np.eye(k)) / (1 + 1e-6)

    def loadings(psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sc = 1 / np.sqrt(psi)
        eigval, eigvec = np.linalg.eigh(r * np.outer(sc, sc))  # ascending
        lam = np.sqrt(psi) * eigvec[:, -1] * math.sqrt(max(eigval[-1] - 1, 0.0))
        return lam, eigval

    def objective(psi: np.ndarray) -> float:
        _, eigval = loadings(psi)
        rest = np.clip(eigval[:-1], 1e-12, None)
        return float(-(np.log(rest) - rest).sum() - (k - 1))

    def gradient(psi: np.ndarray) -> np.ndarray:
        lam, _ = loadings(psi)
        return (lam**2 + psi - np.diag(r)) / psi**2

    start = np.clip((1 - 0.5 / k) / np.diag(np.linalg.pinv(r)), _PSI_MIN, 1.0)
    res = minimize(objective, start, jac=gradient, method="L-BFGS-B",
                   bounds=[(_PSI_MIN, 1.0)] * k, options={"ftol": 1e-12, "gtol": 1e-9})
    lam, _ = loadings(res.x)
    if lam.sum() < 0:
        lam = -lam
    return lam, res.x, float(res.fun)


def fit_one_factor(items: pd.DataFrame, method: str = "ml") -> OneFactorFit:
    r"""Fit a one-factor measurement model to one construct's (standardised) items.

    The congeneric model says each standardised item is
    :math:`z_i = \lambda_i \xi + \varepsilon_i` with one common factor :math:`\xi` and
    independent errors, so item correlations are :math:`r_{ij} = \lambda_i\lambda_j`. With
    ``method="ml"`` the loadings are the maximum-likelihood estimates of that model, fitted
    to the item correlation matrix (the algorithm of R's ``factanal``); three items fit
    exactly (:math:`\lambda_1 = \sqrt{r_{12}r_{13}/r_{23}}`). Two items cannot identify two
    loadings, so they are taken equal (tau-equivalent): :math:`\lambda = \sqrt{r_{12}}`. A
    single item loads 1 on itself.

    ``method="pca"`` returns the first principal component's loadings (eigenvector times
    the square root of the eigenvalue) instead. They are *not* a measurement model: the
    component absorbs the items' error variance too, which inflates composite reliability
    most for short scales with weak items. It is kept to show that difference.

    Parameters
    ----------
    items : DataFrame
        Numeric item columns of one construct; rows with a missing item are left out.
    method : {"ml", "pca"}
        Which loadings.

    Returns
    -------
    OneFactorFit
        Loadings are NaN when the items cannot be fitted (fewer than three complete rows, a
        constant item, or two items that do not correlate positively).

    Raises
    ------
    InputError
        No item columns, a column that is not numeric, or an unknown ``method``.

    References
    ----------
    Jöreskog (1967), "Some contributions to maximum likelihood factor analysis",
    Psychometrika 32; Jöreskog (1971), "Statistical analysis of sets of congeneric tests",
    Psychometrika 36.
    """
    if method not in ("ml", "pca"):
        raise InputError(f"fit_one_factor: method {method!r} is not ml or pca")
    x = _complete(_numeric_frame(items, "fit_one_factor"))
    k, n = x.shape[1], len(x)
    cols = x.columns

    def out(lam: Any, how: str, **kw: Any) -> OneFactorFit:
        lam = pd.Series(np.asarray(lam, dtype=float), index=cols, name="loading")
        return OneFactorFit(lam, (1 - lam**2).rename("uniqueness"), how, n, **kw)

    if k == 1:
        return out([1.0], "single item")
    r = _item_correlations(x) if n >= 3 else np.full((k, k), np.nan)
    if not np.isfinite(r).all():
        return out(np.full(k, np.nan), method if k > 2 else "tau-equivalent")
    if method == "pca":
        eigval, eigvec = np.linalg.eigh(r)  # ascending: the last one is the largest
        v = eigvec[:, -1] * math.sqrt(max(eigval[-1], 0.0))
        return out(v if v.sum() >= 0 else -v, "pca")
    if k == 2:
        r12 = r[0, 1]
        return out(np.full(2, math.sqrt(r12) if r12 > 0 else np.nan), "tau-equivalent")
    lam, psi, f = _ml_one_factor(r)
    df = (k * k - 3 * k) // 2
    chi2 = p_value = float("nan")
    if df > 0:
        # Bartlett's correction, as in factanal
        chi2 = max((n - 1 - (2 * k + 5) / 6 - 2 / 3) * f, 0.0)
        p_value = float(stats.chi2.sf(chi2, df))
    return out(lam, "ml", heywood=bool((psi <= _PSI_MIN * 1.001).any()), chi2=chi2, df=df,
               p_value=p_value)


def one_factor_loadings(items: pd.DataFrame, method: str = "ml") -> pd.Series:
    """Standardised one-factor loadings of one construct's items (:func:`fit_one_factor`).

    Parameters
    ----------
    items : DataFrame
        Numeric item columns of one construct; rows with a missing item are left out.
    method : {"ml", "pca"}
        ``ml``: maximum-likelihood one-factor model (tau-equivalent for two items);
        ``pca``: first principal component, which inflates CR and AVE (comparison only).

    Returns
    -------
    Series
        One loading per item (index = item names); NaN when the items cannot be fitted.

    Raises
    ------
    InputError
        No item columns, a column that is not numeric, or an unknown ``method``.
    """
    return fit_one_factor(items, method).loadings


def composite_reliability(loadings: pd.Series | Sequence[float]) -> float:
    r"""Composite reliability (Jöreskog's rho) from standardised loadings.

    .. math:: CR = \frac{(\sum_i \lambda_i)^2}{(\sum_i \lambda_i)^2 + \sum_i (1 - \lambda_i^2)}

    Parameters
    ----------
    loadings : Series or sequence of float
        Standardised loadings of the items of one construct.

    Returns
    -------
    float
        NaN for a single item (1 by construction, so it says nothing) or missing loadings.

    Raises
    ------
    InputError
        No loadings, or a loading outside [-1, 1].

    References
    ----------
    Fornell & Larcker (1981), JMR 18(1).
    """
    lam = _loadings(loadings, "composite_reliability")
    if len(lam) < 2 or not np.isfinite(lam).all():
        return float("nan")
    s = lam.sum() ** 2
    return float(s / (s + (1 - lam**2).sum()))


def average_variance_extracted(loadings: pd.Series | Sequence[float]) -> float:
    r"""Average variance extracted: the mean squared standardised loading.

    .. math:: AVE = \frac{1}{k}\sum_i \lambda_i^2

    Parameters
    ----------
    loadings : Series or sequence of float
        Standardised loadings of the items of one construct.

    Returns
    -------
    float
        NaN for a single item or missing loadings.

    Raises
    ------
    InputError
        No loadings, or a loading outside [-1, 1].

    References
    ----------
    Fornell & Larcker (1981), JMR 18(1).
    """
    lam = _loadings(loadings, "average_variance_extracted")
    if len(lam) < 2 or not np.isfinite(lam).all():
        return float("nan")
    return float((lam**2).mean())


def _loadings(loadings: Any, what: str) -> np.ndarray:
    lam = np.asarray(loadings, dtype=float)
    if lam.ndim != 1 or lam.size == 0:
        raise InputError(f"{what}: needs a non-empty list of loadings")
    finite = lam[np.isfinite(lam)]
    if (np.abs(finite) > 1 + 1e-9).any():
        raise InputError(f"{what}: standardised loadings must lie in [-1, 1], got {finite.max():g}")
    return lam


def _check_constructs(
    items: pd.DataFrame, constructs: Mapping[str, Sequence[str]], what: str
) -> None:
    if not constructs:
        raise InputError(f"{what}: no constructs given")
    for name, cols in constructs.items():
        for col in cols:
            if col not in items.columns:
                raise InputError(f"{what}: item column {col!r} of construct {name!r} not found")


def _given_loadings(
    loadings: Mapping[str, float] | pd.Series, cols: Sequence[str], name: str, what: str
) -> pd.Series:
    lam = pd.Series(loadings, dtype="float64") if not isinstance(loadings, pd.Series) else loadings
    missing = [c for c in cols if c not in lam.index]
    if missing:
        raise InputError(
            f"{what}: loadings give no value for item {missing[0]!r} of construct {name!r}"
        )
    lam = lam.reindex(list(cols)).astype("float64").rename("loading")
    _loadings(lam, what)  # range check
    return lam


def construct_loadings(
    items: pd.DataFrame,
    constructs: Mapping[str, Sequence[str]],
    loadings: Mapping[str, float] | pd.Series | None = None,
    source: str | None = None,
) -> dict[str, OneFactorFit]:
    """Get the loadings each construct's CR and AVE rest on: a one-factor fit, or given ones.

    Parameters
    ----------
    items : DataFrame
        Numeric items (:attr:`PreparedSurvey.items`).
    constructs : mapping
        Construct name -> list of item columns.
    loadings : mapping or Series, optional
        Item -> standardised loading from another measurement model (e.g. the outer
        loadings of a PLS path model); every item of every construct needs one. When not
        given, :func:`fit_one_factor` (maximum likelihood) runs per construct.
    source : str, optional
        What the given loadings are, for the tables ("PLS outer loadings"); default "given".

    Returns
    -------
    dict
        Construct -> :class:`OneFactorFit` (``method`` is ``source`` for given loadings).

    Raises
    ------
    InputError
        An item column is missing or not numeric, a given loading is missing for an item or
        lies outside [-1, 1].
    """
    _check_constructs(items, constructs, "construct_loadings")
    out = {}
    for name, cols in constructs.items():
        block = _numeric_frame(items[list(cols)], "construct_loadings")
        if loadings is None:
            out[name] = fit_one_factor(block)
        else:
            lam = _given_loadings(loadings, cols, name, "construct_loadings")
            out[name] = OneFactorFit(
                lam, (1 - lam**2).rename("uniqueness"), source or "given", len(_complete(block))
            )
    return out


def item_statistics(
    items: pd.DataFrame,
    constructs: Mapping[str, Sequence[str]],
    loadings: Mapping[str, float] | pd.Series | None = None,
) -> pd.DataFrame:
    """Per item: answers, mean, spread, loading, corrected item-total r, alpha if deleted.

    Parameters
    ----------
    items : DataFrame
        Numeric items (:attr:`PreparedSurvey.items`).
    constructs : mapping
        Construct name -> list of item columns.
    loadings : mapping or Series, optional
        Item -> standardised loading from another model (see :func:`construct_loadings`);
        default: the maximum-likelihood one-factor loadings.

    Returns
    -------
    DataFrame
        ``construct``, ``item``, ``n`` (answers), ``mean``, ``sd``, ``loading``
        (:func:`construct_loadings`), ``item_total_r`` (correlation of the item with the sum
        of the construct's *other* items), ``alpha_if_deleted`` (raw alpha without the item),
        ``alpha_change`` (``alpha_if_deleted`` minus the construct's alpha: positive means
        the scale is more consistent without this item),
        all on the construct's complete rows except ``n``, ``mean`` and ``sd``. Item-total r
        and alpha-if-deleted are NaN where the construct has too few items for them.

    Raises
    ------
    InputError
        An item column named in ``constructs`` is missing or not numeric.
    """
    _check_constructs(items, constructs, "item_statistics")
    fits = construct_loadings(items, constructs, loadings)
    rows = []
    for name, cols in constructs.items():
        block = _numeric_frame(items[list(cols)], "item_statistics")
        complete = _complete(block)
        lam = fits[name].loadings
        alpha = cronbach_alpha(block)
        for col in cols:
            others = [c for c in cols if c != col]
            if others and len(complete) >= 3:
                rest = complete[others].sum(axis=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    r_it = (
                        float(np.corrcoef(complete[col], rest)[0, 1]) if rest.std() > 0 else np.nan
                    )
            else:
                r_it = np.nan
            rows.append(
                {
                    "construct": name,
                    "item": col,
                    "n": int(block[col].notna().sum()),
                    "mean": float(block[col].mean()),
                    "sd": float(block[col].std(ddof=1)),
                    "loading": float(lam[col]),
                    "item_total_r": r_it,
                    "alpha_if_deleted": cronbach_alpha(complete[others])
                    if len(others) >= 2
                    else np.nan,
                }
            )
            rows[-1]["alpha_change"] = rows[-1]["alpha_if_deleted"] - alpha
    return pd.DataFrame(rows)


def construct_scores(
    items: pd.DataFrame, constructs: Mapping[str, Sequence[str]], min_answered: float = 0.5
) -> pd.DataFrame:
    """Each respondent's score per construct: the mean of the items they answered.

    Parameters
    ----------
    items : DataFrame
        Numeric items on the survey scale (reversed items already recoded).
    constructs : mapping
        Construct name -> list of item columns.
    min_answered : float
        Share of a construct's items that must be answered for a score (default half);
        with fewer, the score is missing.

    Returns
    -------
    DataFrame
        One column per construct (in mapping order), same index as ``items``, on the
        survey scale.

    Raises
    ------
    InputError
        An item column is missing or not numeric, or ``min_answered`` outside (0, 1].
    """
    if not 0 < min_answered <= 1:
        raise InputError(f"construct_scores: min_answered must be in (0, 1], got {min_answered}")
    _check_constructs(items, constructs, "construct_scores")
    out = {}
    for name, cols in constructs.items():
        block = _numeric_frame(items[list(cols)], "construct_scores")
        answered = block.notna().sum(axis=1)
        enough = (answered >= 1) & (answered / len(cols) >= min_answered - 1e-12)
        out[name] = block.mean(axis=1).where(enough)
    return pd.DataFrame(out, index=items.index)


def loading_comparison(
    items: pd.DataFrame, constructs: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    """CR and AVE from the measurement model beside those from the first principal component.

    The principal component is built to soak up as much item variance as it can, error
    included, so its loadings (and the CR and AVE computed from them) are higher than a
    measurement model's; the gap is largest for short scales with weak items. This table
    shows by how much, construct by construct.

    Parameters
    ----------
    items : DataFrame
        Numeric items (:attr:`PreparedSurvey.items`).
    constructs : mapping
        Construct name -> list of item columns.

    Returns
    -------
    DataFrame
        Constructs with two or more items: ``construct``, ``items``, ``alpha`` (raw),
        ``cr_model``, ``ave_model`` (:func:`fit_one_factor`, ``method="ml"``), ``cr_pca``,
        ``ave_pca``, ``cr_gap`` (``cr_pca - cr_model``).

    Raises
    ------
    InputError
        An item column is missing or not numeric.
    """
    _check_constructs(items, constructs, "loading_comparison")
    rows = []
    for name, cols in constructs.items():
        if len(cols) < 2:
            continue
        block = _numeric_frame(items[list(cols)], "loading_comparison")
        model = fit_one_factor(block).loadings
        pca = fit_one_factor(block, method="pca").loadings
        rows.append({
            "construct": name,
            "items": len(cols),
            "alpha": cronbach_alpha(block),
            "cr_model": composite_reliability(model),
            "ave_model": average_variance_extracted(model),
            "cr_pca": composite_reliability(pca),
            "ave_pca": average_variance_extracted(pca),
        })
    out = pd.DataFrame(rows, columns=["construct", "items", "alpha", "cr_model", "ave_model",
                                      "cr_pca", "ave_pca"])
    out["cr_gap"] = out["cr_pca"] - out["cr_model"]
    return out


def _verdict(alpha: float, cr: float, heywood: bool) -> str:
    """Both raw alpha and CR are read; the scale passes only when both reach 0.7."""
    if not (np.isfinite(alpha) and np.isfinite(cr)):
        return "not estimable"
    if heywood:
        return "unreliable" if alpha < ALPHA_MIN else "borderline"
    passed = (alpha >= ALPHA_MIN) + (cr >= CR_MIN)
    return {2: "reliable", 1: "borderline", 0: "unreliable"}[int(passed)]


def reliability(
    items: pd.DataFrame,
    constructs: Mapping[str, Sequence[str]],
    scores: pd.DataFrame | None = None,
    loadings: Mapping[str, float] | pd.Series | None = None,
    loading_source: str | None = None,
) -> pd.DataFrame:
    """Reliability and convergent/discriminant validity per construct, with plain-words flags.

    Alpha comes from the answers; composite reliability (CR) and AVE come from standardised
    loadings of a measurement model: by default a maximum-likelihood one-factor model per
    construct (:func:`fit_one_factor`), or the loadings passed in (e.g. a PLS path model's
    outer loadings). The ``verdict`` reads both: ``reliable`` when raw alpha and CR reach
    0.7, ``borderline`` when only one does (or a loading hit 1), ``unreliable`` when
    neither does.

    Parameters
    ----------
    items : DataFrame
        Numeric items (:attr:`PreparedSurvey.items`).
    constructs : mapping
        Construct name -> list of item columns.
    scores : DataFrame, optional
        Construct scores (:func:`construct_scores`) for the Fornell-Larcker check; computed
        with the default policy when not given.
    loadings : mapping or Series, optional
        Item -> standardised loading from another measurement model; every item needs one.
    loading_source : str, optional
        What ``loadings`` are (shown in the ``loadings`` column); default "given".

    Returns
    -------
    DataFrame
        One row per construct: ``construct``, ``items``, ``n`` (complete rows used),
        ``alpha`` (raw Cronbach), ``alpha_standardized``, ``composite_reliability``, ``ave``,
        ``loadings`` (which model gave them: ``ml``, ``tau-equivalent``, ``single item`` or
        the source), ``heywood`` (a loading at 1: CR/AVE overstated), ``verdict``,
        ``sqrt_ave``, ``max_r_other`` (largest correlation of its score with another
        construct's score), ``discriminant_ok`` (``sqrt_ave > max_r_other``,
        Fornell-Larcker), ``flag`` (plain-words reading; empty when all is well).

    Raises
    ------
    InputError
        An item column is missing or not numeric; a given loading is missing or outside
        [-1, 1].

    References
    ----------
    Fornell & Larcker (1981), JMR 18(1); Jöreskog (1971), Psychometrika 36.
    """
    _check_constructs(items, constructs, "reliability")
    fits = construct_loadings(items, constructs, loadings, loading_source)
    if scores is None:
        scores = construct_scores(items, constructs)
    corr = scores.corr() if scores.shape[1] > 1 else None
    rows = []
    for name, cols in constructs.items():
        block = _numeric_frame(items[list(cols)], "reliability")
        fit = fits[name]
        lam = fit.loadings
        k = len(cols)
        alpha = cronbach_alpha(block)
        cr = composite_reliability(lam)
        ave = average_variance_extracted(lam)
        max_r = np.nan
        if corr is not None and name in corr:
            other = corr[name].drop(name).abs()
            max_r = float(other.max()) if other.notna().any() else np.nan
        sqrt_ave = math.sqrt(ave) if np.isfinite(ave) else np.nan
        flags = []
        if k == 1:
            flags.append("single item: reliability cannot be estimated from the data")
        else:
            if np.isfinite(alpha) and alpha < ALPHA_MIN:
                flags.append(
                    f"alpha {alpha:.2f} < {ALPHA_MIN}: the items do not move together enough "
                    "to be added up as one scale; check the weakest item"
                )
            if np.isfinite(cr) and cr < CR_MIN:
                flags.append(f"composite reliability {cr:.2f} < {CR_MIN}")
            if fit.heywood:
                flags.append(
                    "a loading hit 1 (Heywood case): one factor does not describe these items, "
                    "so CR and AVE overstate reliability"
                )
            if np.isfinite(ave) and ave < AVE_MIN:
                flags.append(
                    f"AVE {ave:.2f} < {AVE_MIN}: the items share less than half their variance "
                    "with the construct"
                )
            if np.isfinite(sqrt_ave) and np.isfinite(max_r) and sqrt_ave <= max_r:
                flags.append("sqrt(AVE) <= correlation with another construct: hard to tell apart")
            if not np.isfinite(alpha):
                flags.append("alpha undefined (too few complete answers or a constant item)")
            if k == 2 and fit.method == "tau-equivalent" and not lam.notna().all():
                flags.append("the two items do not correlate positively: no loadings")
        rows.append(
            {
                "construct": name,
                "items": k,
                "n": len(_complete(block)),
                "alpha": alpha,
                "alpha_standardized": standardized_alpha(block),
                "composite_reliability": cr,
                "ave": ave,
                "loadings": fit.method,
                "heywood": fit.heywood,
                "verdict": "single item" if k == 1 else _verdict(alpha, cr, fit.heywood),
                "sqrt_ave": sqrt_ave,
                "max_r_other": max_r,
                "discriminant_ok": bool(sqrt_ave > max_r)
                if np.isfinite(sqrt_ave) and np.isfinite(max_r)
                else None,
                "flag": "; ".join(flags),
            }
        )
    return pd.DataFrame(rows)


# --- index ---------------------------------------------------------------------------------


def satisfaction_index(
    scores: pd.DataFrame, scale: Sequence[float], confidence: float = 0.95
) -> pd.DataFrame:
    r"""Turn construct scores into a 0-100 index with a t confidence interval.

    .. math:: \text{index} = \frac{\bar s - s_{min}}{s_{max} - s_{min}} \times 100

    with :math:`\bar s` the mean construct score of the respondents who have one.

    Parameters
    ----------
    scores : DataFrame
        Construct scores on the survey scale (:func:`construct_scores`).
    scale : (min, max)
        The survey scale.
    confidence : float
        Level of the interval (default 0.95).

    Returns
    -------
    DataFrame
        ``construct``, ``n``, ``mean`` (scale units), ``sd``, ``index``, ``ci_low``,
        ``ci_high`` (index points; NaN with fewer than two scores).

    Raises
    ------
    InputError
        A bad scale or confidence level, or a score column that is not numeric.
    """
    lo, hi = (float(x) for x in scale)
    if not lo < hi:
        raise InputError(f"satisfaction_index: scale minimum {lo:g} must be below maximum {hi:g}")
    if not 0 < confidence < 1:
        raise InputError(f"satisfaction_index: confidence must be in (0, 1), got {confidence}")
    scores = _numeric_frame(scores, "satisfaction_index")
    rows = []
    for name in scores.columns:
        s = scores[name].dropna()  # respondents without a score are counted in n below
        n = len(s)
        mean = float(s.mean()) if n else np.nan
        sd = float(s.std(ddof=1)) if n > 1 else np.nan
        index = (mean - lo) / (hi - lo) * 100
        half = np.nan
        if n > 1:
            half = stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n) / (hi - lo) * 100
        rows.append(
            {
                "construct": name,
                "n": n,
                "mean": mean,
                "sd": sd,
                "index": index,
                "ci_low": index - half,
                "ci_high": index + half,
            }
        )
    return pd.DataFrame(rows)


# --- key drivers ---------------------------------------------------------------------------


def _r2_from_corr(rxx: np.ndarray, rxy: np.ndarray, subset: Sequence[int]) -> float:
    if not subset:
        return 0.0
    idx = list(subset)
    r = rxy[idx]
    return float(r @ np.linalg.solve(rxx[np.ix_(idx, idx)], r))


def _check_regression_frame(
    data: pd.DataFrame, y: str, xs: Sequence[str], what: str
) -> pd.DataFrame:
    for col in [y, *xs]:
        if col not in data.columns:
            raise InputError(f"{what}: column {col!r} not found")
    if not xs:
        raise InputError(f"{what}: needs at least one driver")
    return _numeric_frame(data[[y, *xs]], what)


def shapley_r2(data: pd.DataFrame, y: str, xs: Sequence[str]) -> pd.Series:
    r"""Shapley (LMG) decomposition of the R² of ``y`` on ``xs``: each driver's fair share.

    Driver *j* gets its extra R² averaged over every order in which drivers can enter:

    .. math:: \phi_j = \sum_{S \subseteq X\setminus\{j\}}
              \frac{|S|!\,(p-|S|-1)!}{p!}\,\bigl[R^2(S\cup\{j\}) - R^2(S)\bigr]

    The shares are never negative and add up to the full model's R², so correlated drivers
    split what they explain jointly instead of one of them taking it all.

    Parameters
    ----------
    data : DataFrame
        Numeric columns ``y`` and ``xs`` without missing values (complete cases).
    y : str
        The outcome column.
    xs : sequence of str
        Driver columns (at most 15: the method visits all :math:`2^p` subsets).

    Returns
    -------
    Series
        :math:`\phi_j` per driver (R² units; divide by their sum for shares).

    Raises
    ------
    InputError
        Missing column, missing values, too many drivers or too few rows.

    References
    ----------
    Lindeman, Merenda & Gold (1980); Grömping (2007), The American Statistician 61(2).
    """
    df = _check_regression_frame(data, y, xs, "shapley_r2")
    if df.isna().any().any():
        raise InputError("shapley_r2: data has missing values; pass complete cases")
    p = len(xs)
    if p > MAX_SHAPLEY_DRIVERS:
        raise InputError(f"shapley_r2: at most {MAX_SHAPLEY_DRIVERS} drivers, got {p}")
    if len(df) < p + 2:
        raise InputError(f"shapley_r2: {len(df)} rows are too few for {p} drivers")
    r = df.corr().to_numpy()
    rxx, rxy = r[1:, 1:], r[1:, 0]
    r2 = {}
    for size in range(p + 1):
        for subset in itertools.combinations(range(p), size):
            r2[subset] = _r2_from_corr(rxx, rxy, subset)
    phi = np.zeros(p)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for size in range(p):
            weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for subset in itertools.combinations(others, size):
                phi[j] += weight * (r2[tuple(sorted((*subset, j)))] - r2[subset])
    return pd.Series(phi, index=list(xs), name="lmg")


def relative_weights(data: pd.DataFrame, y: str, xs: Sequence[str]) -> pd.Series:
    r"""Split R² by Johnson's relative weights, through an orthogonal copy of the drivers.

    The drivers' correlation matrix :math:`R = V\Lambda V'` gives
    :math:`\Lambda^{1/2}_* = V\Lambda^{1/2}V'`; with :math:`\beta = (\Lambda^{1/2}_*)^{-1}
    r_{xy}` the weight of driver *j* is :math:`\sum_k (\Lambda^{1/2}_*)_{jk}^2 \beta_k^2`.
    Weights add up to R² and are close to the Shapley values at a fraction of the cost.

    Parameters
    ----------
    data : DataFrame
        Numeric columns ``y`` and ``xs`` without missing values.
    y : str
        The outcome column.
    xs : sequence of str
        Driver columns.

    Returns
    -------
    Series
        Weight per driver (R² units).

    Raises
    ------
    InputError
        Missing column, missing values or too few rows.

    References
    ----------
    Johnson (2000), Multivariate Behavioral Research 35(1).
    """
    df = _check_regression_frame(data, y, xs, "relative_weights")
    if df.isna().any().any():
        raise InputError("relative_weights: data has missing values; pass complete cases")
    if len(df) < len(xs) + 2:
        raise InputError(f"relative_weights: {len(df)} rows are too few for {len(xs)} drivers")
    r = df.corr().to_numpy()
    rxx, rxy = r[1:, 1:], r[1:, 0]
    eigval, eigvec = np.linalg.eigh(rxx)
    half = eigvec @ np.diag(np.sqrt(np.clip(eigval, 0, None))) @ eigvec.T
    beta = np.linalg.solve(half, rxy)
    return pd.Series((half**2) @ (beta**2), index=list(xs), name="relative_weight")


@dataclass
class DriverResult:
    """Key-driver regression of the outcome on the drivers (standardised scores).

    Attributes
    ----------
    table : DataFrame
        One row per driver: ``construct``, ``beta`` (standardised coefficient), ``ci_low``,
        ``ci_high``, ``p_value``, ``vif``, ``lmg`` (Shapley R² share in R² units),
        ``relative_weight`` (Johnson, R² units), ``importance`` (the chosen measure as a share
        of R², sums to 1), ``r`` (zero-order correlation with the outcome), ``sign_flip``
        (``beta`` and ``r`` differ in sign: a suppression effect, :func:`sign_flips`),
        sorted by importance.
    r2, r2_adj : float
        R² and adjusted R² of the full model.
    n : int
        Complete cases used.
    dropped : int
        Respondents left out because a score was missing.
    method : str
        ``shapley`` or ``relative_weights`` (what ``importance`` is).
    fit : statsmodels RegressionResults
        The fitted OLS model (``fit.summary()`` prints the textbook table).
    """

    table: pd.DataFrame
    r2: float
    r2_adj: float
    n: int
    dropped: int
    method: str
    fit: Any = field(repr=False, default=None)

    @classmethod
    def empty(cls, method: str = "shapley") -> DriverResult:
        """Make the result of a survey with no driver constructs (only the outcome)."""
        cols = [
            "construct",
            "beta",
            "ci_low",
            "ci_high",
            "p_value",
            "vif",
            "lmg",
            "relative_weight",
            "importance",
            "r",
            "sign_flip",
        ]
        table = pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
        table["construct"] = table["construct"].astype(object)
        table["sign_flip"] = table["sign_flip"].astype(bool)
        return cls(table=table, r2=float("nan"), r2_adj=float("nan"), n=0, dropped=0, method=method)


def sign_flips(beta: pd.Series, r: pd.Series) -> pd.Series:
    """Flag suppression: a coefficient whose sign differs from its zero-order correlation.

    In a regression with overlapping predictors, a predictor that correlates *positively*
    with the outcome can get a *negative* coefficient (or the reverse): the part of it the
    other predictors do not already carry is related the other way. That is a statement about
    the overlap, not about what happens if the predictor rises, so such a coefficient must
    not be read as an effect.

    Parameters
    ----------
    beta : Series
        Coefficients by term.
    r : Series
        Zero-order correlations of each term with the outcome, same index.

    Returns
    -------
    Series of bool
        True where ``beta`` and ``r`` have opposite signs (zero counts as no sign).

    Raises
    ------
    InputError
        The two Series do not have the same terms.

    References
    ----------
    Conger (1974), "A revised definition for suppressor variables", Educational and
    Psychological Measurement 34; Tzelgov & Henik (1991), "Suppression situations in
    psychological research", Psychological Bulletin 109(3).
    """
    if not isinstance(beta, pd.Series) or not isinstance(r, pd.Series):
        raise InputError("sign_flips: needs two Series (coefficients and correlations)")
    if set(beta.index) != set(r.index) or len(beta) != len(r):
        raise InputError("sign_flips: coefficients and correlations name different terms")
    r = r.reindex(beta.index)
    return pd.Series(np.sign(beta.astype(float)) * np.sign(r.astype(float)) < 0,
                     index=beta.index, name="sign_flip")


def suppression_sentence(table: pd.DataFrame, outcome: str, corr: pd.DataFrame) -> str:
    """Explain every sign flip of a coefficient table in words ("" when there is none).

    Parameters
    ----------
    table : DataFrame
        ``construct``, ``beta``, ``ci_low``, ``ci_high``, ``r``, ``sign_flip``.
    outcome : str
        What the model explains.
    corr : DataFrame
        Correlations among the model's terms (to name the term each flipped one overlaps
        with most).

    Returns
    -------
    str
        One sentence per flipped term.

    Raises
    ------
    InputError
        A column is missing.
    """
    for col in ("construct", "beta", "ci_low", "ci_high", "r", "sign_flip"):
        if col not in table.columns:
            raise InputError(f"suppression_sentence: coefficient table has no column {col!r}")
    out = []
    for row in table.loc[table["sign_flip"].astype(bool)].itertuples(index=False):
        others = corr[row.construct].drop(row.construct).abs()
        partner = others.idxmax() if len(others) else None
        overlap = (
            f"it overlaps with {partner} (r = {corr.at[row.construct, partner]:.2f}) and the "
            "other terms, and only the small part they do not already carry is left, with the "
            "opposite sign"
            if partner is not None
            else "only the part the other terms do not carry is left"
        )
        crosses = row.ci_low <= 0 <= row.ci_high
        misread = "lowers" if row.r > 0 else "raises"
        out.append(
            f"{row.construct}'s coefficient is {row.beta:+.2f} although {row.construct} and "
            f"{outcome} correlate {row.r:+.2f} on their own: a suppression effect — {overlap}"
            + ("; its interval also crosses zero" if crosses else "")
            + f". It does not mean that more {row.construct} {misread} {outcome}."
        )
    return " ".join(out)


def _zscore(df: pd.DataFrame, what: str) -> pd.DataFrame:
    sd = df.std(ddof=1)
    flat = sd.index[~(sd > 0)]
    if len(flat):
        raise InputError(
            f"{what}: construct {flat[0]!r} has no variance among the respondents used"
        )
    return (df - df.mean()) / sd


def key_drivers(
    scores: pd.DataFrame,
    outcome: str,
    drivers: Sequence[str],
    confidence: float = 0.95,
    importance: str = "shapley",
) -> DriverResult:
    r"""Regress the outcome on the drivers (standardised) and split R² among them.

    .. math:: z_{y} = \sum_j \beta_j z_{x_j} + \varepsilon

    With every score z-scored on the complete cases, :math:`\beta_j` is the change in the
    outcome, in standard deviations, for one standard deviation more of driver *j* with the
    other drivers held fixed. Correlated drivers make the betas unstable (see ``vif``), so
    importance is the Shapley/LMG share of R² (or Johnson's relative weights).

    Parameters
    ----------
    scores : DataFrame
        Construct scores (:func:`construct_scores`).
    outcome : str
        The construct explained.
    drivers : sequence of str
        The explaining constructs.
    confidence : float
        Level of the coefficient intervals.
    importance : {"shapley", "relative_weights"}
        Which relative-importance measure becomes ``importance``.

    Returns
    -------
    DriverResult

    Raises
    ------
    InputError
        Missing column, no driver, too few complete respondents, or a constant score.

    References
    ----------
    Grömping (2007); Johnson (2000).
    """
    if importance not in ("shapley", "relative_weights"):
        raise InputError(
            f"key_drivers: importance {importance!r} is not shapley or relative_weights"
        )
    if not 0 < confidence < 1:
        raise InputError(f"key_drivers: confidence must be in (0, 1), got {confidence}")
    df = _check_regression_frame(scores, outcome, list(drivers), "key_drivers")
    complete = df.loc[df.notna().all(axis=1)]
    p = len(drivers)
    if len(complete) < p + 2:
        raise InputError(
            f"key_drivers: only {len(complete)} respondents have every score; "
            f"the regression on {p} drivers needs at least {p + 2}"
        )
    z = _zscore(complete, "key_drivers")
    X = sm.add_constant(z[list(drivers)], has_constant="add")
    fit = sm.OLS(z[outcome], X).fit()
    ci = fit.conf_int(alpha=1 - confidence)
    vif = [variance_inflation_factor(X.to_numpy(), i + 1) for i in range(p)]
    lmg = (
        shapley_r2(complete, outcome, list(drivers))
        if importance == "shapley" or p <= MAX_SHAPLEY_DRIVERS
        else None
    )
    rw = relative_weights(complete, outcome, list(drivers))
    chosen = lmg if importance == "shapley" else rw
    total = chosen.sum()
    table = pd.DataFrame(
        {
            "construct": list(drivers),
            "beta": fit.params[list(drivers)].to_numpy(),
            "ci_low": ci.loc[list(drivers), 0].to_numpy(),
            "ci_high": ci.loc[list(drivers), 1].to_numpy(),
            "p_value": fit.pvalues[list(drivers)].to_numpy(),
            "vif": vif,
            "lmg": lmg.to_numpy() if lmg is not None else np.nan,
            "relative_weight": rw.to_numpy(),
            "importance": (chosen / total).to_numpy() if total > 0 else np.nan,
            "r": complete.corr()[outcome].loc[list(drivers)].to_numpy(),
        }
    )
    table["sign_flip"] = sign_flips(table.set_index("construct")["beta"],
                                    table.set_index("construct")["r"]).to_numpy()
    table = table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
    return DriverResult(
        table=table,
        r2=float(fit.rsquared),
        r2_adj=float(fit.rsquared_adj),
        n=len(complete),
        dropped=len(df) - len(complete),
        method=importance,
        fit=fit,
    )


_EMPTY_ACTIONS = pd.DataFrame(
    {
        "rank": pd.Series(dtype="int64"),
        "construct": pd.Series(dtype=object),
        "importance": pd.Series(dtype="float64"),
        "performance": pd.Series(dtype="float64"),
        "beta": pd.Series(dtype="float64"),
        "quadrant": pd.Series(dtype=object),
        "action": pd.Series(dtype=object),
    }
)


def ipm_crosshair(
    importance: pd.Series | Sequence[float],
    performance: pd.Series | Sequence[float],
    method: str = "midrange",
) -> tuple[float, float]:
    """Where the importance-performance map's cross-hair sits.

    Parameters
    ----------
    importance, performance : sequence of float
        The drivers' importance (share of R²) and performance (0-100 index).
    method : {"midrange", "mean"}
        ``midrange`` (default, data-centred): half way between the lowest and the highest
        driver on each axis. ``mean``: the drivers' mean importance and mean performance —
        with importance as shares of R² the mean is always 1/p, whatever the data, which is
        why it is not the default.

    Returns
    -------
    (float, float)
        Importance cut, performance cut.

    Raises
    ------
    InputError
        Unknown ``method`` or no drivers.
    """
    if method not in CROSSHAIRS:
        raise InputError(f"ipm_crosshair: method {method!r} is not one of {', '.join(CROSSHAIRS)}")
    imp = np.asarray(importance, dtype=float)
    perf = np.asarray(performance, dtype=float)
    if imp.size == 0 or perf.size == 0:
        raise InputError("ipm_crosshair: no drivers")
    if method == "mean":
        return float(imp.mean()), float(perf.mean())
    return float((imp.min() + imp.max()) / 2), float((perf.min() + perf.max()) / 2)


def actionable_drivers(drivers: Sequence[str], actionable: Sequence[str] | None = None) -> list[str]:
    """List the drivers a firm can change directly (the only ones advice may say to improve).

    Parameters
    ----------
    drivers : sequence of str
        The driver constructs.
    actionable : sequence of str, optional
        The params' ``survey.actionable``. ``None`` means every driver except those named
        like :data:`NOT_ACTIONABLE` (the ECSI/ACSI *Expectation* construct: what customers
        expected before buying is formed by word of mouth, past experience and the market,
        not set by the firm).

    Returns
    -------
    list of str
        The actionable drivers, in driver order.

    Raises
    ------
    InputError
        ``actionable`` names a construct that is not a driver.
    """
    drivers = list(drivers)
    if actionable is None:
        return [d for d in drivers if d.strip().lower() not in NOT_ACTIONABLE]
    for name in actionable:
        if name not in drivers:
            raise InputError(
                f"survey: key 'survey.actionable': {name!r} is not one of the drivers "
                f"({', '.join(drivers)})"
            )
    return [d for d in drivers if d in set(actionable)]


def quadrant_of(
    importance: pd.Series, performance: pd.Series, cuts: tuple[float, float]
) -> np.ndarray:
    """Martilla & James quadrant per driver, given the cross-hair ``(importance, performance)``.

    At or above a cut counts as high, so a driver exactly on the cross-hair is "high".
    """
    hi_imp = np.asarray(importance, dtype=float) >= cuts[0]
    hi_perf = np.asarray(performance, dtype=float) >= cuts[1]
    return np.select(
        [hi_imp & ~hi_perf, hi_imp & hi_perf, ~hi_imp & ~hi_perf],
        ["concentrate here", "keep up the good work", "low priority"],
        default="possible overkill",
    )


def importance_performance(
    drivers: pd.DataFrame,
    index: pd.DataFrame,
    actionable: Sequence[str] | None = None,
    crosshair: str = "midrange",
) -> pd.DataFrame:
    """Place each driver on Martilla & James's importance-performance map and rank actions.

    Importance is the driver's share of R²; performance its 0-100 index. The cross-hair is
    :func:`ipm_crosshair` (default: the middle of the drivers' range on each axis), so
    "high" compares a driver with the other drivers, not with an absolute bar. Advice to
    improve a driver is given only for drivers the firm can act on
    (:func:`actionable_drivers`); for the others it says what to do instead.

    Parameters
    ----------
    drivers : DataFrame
        :attr:`DriverResult.table` (``construct``, ``importance``, ``beta``).
    index : DataFrame
        :func:`satisfaction_index` output (``construct``, ``index``).
    actionable : sequence of str, optional
        The drivers the firm can change (``survey.actionable``); default: all but
        Expectation.
    crosshair : {"midrange", "mean"}
        Where the cross-hair sits.

    Returns
    -------
    DataFrame
        ``rank``, ``construct``, ``importance``, ``performance``, ``beta``, ``quadrant``,
        ``actionable``, ``action``, ``importance_cut``, ``performance_cut`` (the
        cross-hair), ranked by quadrant (concentrate here, keep up the good work, low
        priority, possible overkill), actionable drivers first, then by importance.

    Raises
    ------
    InputError
        Missing columns, a driver without an index, an unknown cross-hair, or an actionable
        name that is not a driver.

    References
    ----------
    Martilla & James (1977), "Importance-performance analysis", Journal of Marketing 41(1).
    """
    for frame, cols, what in (
        (drivers, ("construct", "importance", "beta"), "drivers"),
        (index, ("construct", "index"), "index"),
    ):
        for col in cols:
            if col not in frame.columns:
                raise InputError(f"importance_performance: {what} table has no column {col!r}")
    perf = index.set_index("construct")["index"]
    missing = [c for c in drivers["construct"] if c not in perf.index]
    if missing:
        raise InputError(f"importance_performance: driver {missing[0]!r} has no index")
    levers = set(actionable_drivers(drivers["construct"].tolist(), actionable))
    df = drivers[["construct", "importance", "beta"]].copy()
    df["performance"] = df["construct"].map(perf).astype(float)
    cuts = ipm_crosshair(df["importance"], df["performance"], crosshair)
    df["quadrant"] = quadrant_of(df["importance"], df["performance"], cuts)
    df["actionable"] = df["construct"].isin(levers)
    df["action"] = [
        QUADRANTS[q][0] if lever else NOT_A_LEVER[q]
        for q, lever in zip(df["quadrant"], df["actionable"], strict=True)
    ]
    df["importance_cut"], df["performance_cut"] = cuts
    order = df["quadrant"].map({k: v[1] for k, v in QUADRANTS.items()})
    df = df.assign(_order=order, _lever=~df["actionable"]).sort_values(
        ["_order", "_lever", "importance"], ascending=[True, True, False], kind="stable"
    )
    df = df.drop(columns=["_order", "_lever"]).reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df[["rank", "construct", "importance", "performance", "beta", "quadrant",
               "actionable", "action", "importance_cut", "performance_cut"]]


# --- loyalty, groups, NPS ------------------------------------------------------------------


@dataclass
class LoyaltyResult:
    """Loyalty regressed on satisfaction (scale units) and on satisfaction plus the drivers.

    Attributes
    ----------
    slope, intercept : float
        Simple regression ``loyalty = intercept + slope × satisfaction`` in scale points.
    ci : (float, float)
        Confidence interval of the slope.
    r2 : float
        R² of the simple regression (the squared correlation).
    n : int
        Complete cases of the simple regression.
    beta : float
        Standardised slope (= the correlation).
    table : DataFrame
        The second model, loyalty on satisfaction *and* the drivers, all standardised:
        ``term``, ``beta``, ``ci_low``, ``ci_high``, ``p_value``, ``r`` (the term's
        zero-order correlation with loyalty, on the same respondents) and ``sign_flip``
        (:func:`sign_flips`); empty without drivers.
    r2_multiple : float
        R² of that multiple regression (NaN without drivers).
    n_multiple : int
        Its complete cases.
    sentence : str
        The satisfaction-only link in words (the number to quote).
    suppressed : list of str
        Terms of the second model whose coefficient has the opposite sign of their
        correlation with loyalty (suppression, not an effect).
    multiple_sentence : str
        The second model in words, explaining any sign flip ("" without drivers).
    """

    slope: float
    intercept: float
    ci: tuple[float, float]
    r2: float
    n: int
    beta: float
    table: pd.DataFrame
    r2_multiple: float
    n_multiple: int
    sentence: str
    suppressed: list[str] = field(default_factory=list)
    multiple_sentence: str = ""


def loyalty_link(
    scores: pd.DataFrame,
    satisfaction: str,
    loyalty: str,
    drivers: Sequence[str] = (),
    scale: Sequence[float] = (1, 10),
    confidence: float = 0.95,
) -> LoyaltyResult:
    """Regress loyalty on satisfaction (scale points), then on satisfaction and the drivers.

    Parameters
    ----------
    scores : DataFrame
        Construct scores on the survey scale.
    satisfaction, loyalty : str
        The two construct columns.
    drivers : sequence of str
        Other constructs added in the second, standardised model (whether satisfaction
        still matters once image, quality ... are held fixed).
    scale : (min, max)
        The survey scale (for the sentence).
    confidence : float
        Level of the intervals.

    Returns
    -------
    LoyaltyResult

    Raises
    ------
    InputError
        Missing column, too few complete respondents or a constant score.
    """
    df = _check_regression_frame(scores, loyalty, [satisfaction, *drivers], "loyalty_link")
    pair = df[[loyalty, satisfaction]]
    pair = pair.loc[pair.notna().all(axis=1)]
    if len(pair) < 3:
        raise InputError(f"loyalty_link: only {len(pair)} respondents have both scores; need 3")
    _zscore(pair, "loyalty_link")
    fit = sm.OLS(pair[loyalty], sm.add_constant(pair[[satisfaction]], has_constant="add")).fit()
    lo_ci, hi_ci = fit.conf_int(alpha=1 - confidence).loc[satisfaction]
    slope = float(fit.params[satisfaction])
    beta = slope * pair[satisfaction].std(ddof=1) / pair[loyalty].std(ddof=1)
    table = pd.DataFrame(
        columns=["term", "beta", "ci_low", "ci_high", "p_value", "r", "sign_flip"]
    )
    r2_multiple, n_multiple = np.nan, 0
    multiple_sentence = ""
    if drivers:
        full = df.loc[df.notna().all(axis=1)]
        if len(full) >= len(drivers) + 3:
            z = _zscore(full, "loyalty_link")
            terms = [satisfaction, *drivers]
            mfit = sm.OLS(z[loyalty], sm.add_constant(z[terms], has_constant="add")).fit()
            mci = mfit.conf_int(alpha=1 - confidence)
            table = pd.DataFrame(
                {
                    "term": terms,
                    "beta": mfit.params[terms].to_numpy(),
                    "ci_low": mci.loc[terms, 0].to_numpy(),
                    "ci_high": mci.loc[terms, 1].to_numpy(),
                    "p_value": mfit.pvalues[terms].to_numpy(),
                    "r": z.corr()[loyalty].loc[terms].to_numpy(),
                }
            )
            table["sign_flip"] = sign_flips(
                table.set_index("term")["beta"], table.set_index("term")["r"]
            ).to_numpy()
            r2_multiple, n_multiple = float(mfit.rsquared), len(full)
            multiple_sentence = (
                f"With {_names(terms)} in one model (R² = {r2_multiple:.0%}, n = {n_multiple:,}), "
                f"{satisfaction}'s own coefficient is {table['beta'].iloc[0]:+.2f} SD per SD. "
                + suppression_sentence(table.rename(columns={"term": "construct"}), loyalty,
                                       z[terms].corr())
            )
    lo, hi = (float(x) for x in scale)
    more = "more" if slope >= 0 else "less"
    sentence = (
        f"One point more {satisfaction} (on the {lo:g}-{hi:g} scale) goes with {abs(slope):.2f} "
        f"points {more} {loyalty} on average ({confidence:.0%} CI {lo_ci:.2f} to {hi_ci:.2f}); "
        f"{satisfaction} alone accounts for {fit.rsquared:.0%} of the differences in {loyalty} "
        f"between respondents (n = {len(pair)})."
    )
    return LoyaltyResult(
        slope=slope,
        intercept=float(fit.params["const"]),
        ci=(float(lo_ci), float(hi_ci)),
        r2=float(fit.rsquared),
        n=len(pair),
        beta=float(beta),
        table=table,
        r2_multiple=r2_multiple,
        n_multiple=n_multiple,
        sentence=sentence,
        suppressed=table.loc[table["sign_flip"].astype(bool), "term"].tolist(),
        multiple_sentence=multiple_sentence,
    )


@dataclass
class GroupResult:
    """Constructs compared across groups.

    Attributes
    ----------
    means : DataFrame
        ``group``, ``construct``, ``n``, ``index`` (0-100) per group and construct.
    tests : DataFrame
        Per construct: ``groups`` compared, ``n``, ``anova_f``, ``anova_p``, ``eta_sq``,
        ``kruskal_h``, ``kruskal_p``, ``epsilon_sq``.
    small_groups : list of str
        Groups left out of the tests (fewer than two respondents).
    """

    means: pd.DataFrame
    tests: pd.DataFrame
    small_groups: list[str]


def group_comparison(scores: pd.DataFrame, group: pd.Series, scale: Sequence[float]) -> GroupResult:
    r"""Compare construct scores across groups: ANOVA and Kruskal-Wallis with effect sizes.

    Effect sizes: :math:`\eta^2 = SS_{between}/SS_{total}` (share of the score variance that
    lies between groups) and :math:`\varepsilon^2 = H/(n-1)` for Kruskal-Wallis. Rough
    reading: 0.01 small, 0.06 medium, 0.14 large.

    Parameters
    ----------
    scores : DataFrame
        Construct scores on the survey scale.
    group : Series
        Group label per respondent (same index); missing labels are left out.
    scale : (min, max)
        The survey scale (for the 0-100 index per group).

    Returns
    -------
    GroupResult

    Raises
    ------
    InputError
        ``group`` does not align with ``scores``.

    References
    ----------
    Tomczak & Tomczak (2014), "The need to report effect size estimates revisited",
    Trends in Sport Sciences 21(1).
    """
    if not isinstance(group, pd.Series) or not group.index.equals(scores.index):
        raise InputError("group_comparison: group must be a Series with the same index as scores")
    lo, hi = (float(x) for x in scale)
    scores = _numeric_frame(scores, "group_comparison")
    labels = group.astype("string")
    sizes = labels.value_counts()
    small = sorted(str(g) for g in sizes.index[sizes < 2])
    mean_rows, test_rows = [], []
    for name in scores.columns:
        df = pd.DataFrame({"g": labels, "s": scores[name]})
        df = df.loc[df["g"].notna() & df["s"].notna()]
        for g, part in df.groupby("g", sort=True):
            mean_rows.append(
                {
                    "group": str(g),
                    "construct": name,
                    "n": len(part),
                    "index": (part["s"].mean() - lo) / (hi - lo) * 100,
                }
            )
        df = df.loc[~df["g"].isin(small)]
        samples = [part["s"].to_numpy() for _, part in df.groupby("g", sort=True)]
        row = {"construct": name, "groups": len(samples), "n": len(df)}
        row.update(
            anova_f=np.nan,
            anova_p=np.nan,
            eta_sq=np.nan,
            kruskal_h=np.nan,
            kruskal_p=np.nan,
            epsilon_sq=np.nan,
        )
        if len(samples) >= 2 and len(df) > len(samples):
            values = df["s"].to_numpy()
            ss_total = ((values - values.mean()) ** 2).sum()
            ss_between = sum(len(x) * (x.mean() - values.mean()) ** 2 for x in samples)
            if ss_total > 0:
                f = stats.f_oneway(*samples)
                h = stats.kruskal(*samples)
                row.update(
                    anova_f=float(f.statistic),
                    anova_p=float(f.pvalue),
                    eta_sq=float(ss_between / ss_total),
                    kruskal_h=float(h.statistic),
                    kruskal_p=float(h.pvalue),
                    epsilon_sq=float(h.statistic / (len(df) - 1)),
                )
        test_rows.append(row)
    return GroupResult(pd.DataFrame(mean_rows), pd.DataFrame(test_rows), small)


def net_promoter_score(
    recommend: pd.Series, group: pd.Series | None = None, confidence: float = 0.95
) -> dict[str, Any]:
    r"""Net Promoter Score from a 0-10 "how likely are you to recommend us" item.

    .. math:: NPS = 100\,(p_{9\text{-}10} - p_{0\text{-}6}),\qquad
              SE = 100\sqrt{\frac{p_P + p_D - (p_P - p_D)^2}{n}}

    Parameters
    ----------
    recommend : Series
        Answers on 0-10 (missing answers are left out and counted by the caller).
    group : Series, optional
        Group labels (same index) for an NPS per group.
    confidence : float
        Level of the normal-approximation interval.

    Returns
    -------
    dict
        ``n``, ``promoters``, ``passives``, ``detractors`` (shares), ``nps`` (-100..100),
        ``ci`` [low, high] and, with ``group``, ``by_group`` {label: {n, nps}}.

    Raises
    ------
    InputError
        An answer outside 0-10, or no answers at all.

    References
    ----------
    Reichheld (2003), Harvard Business Review 81(12).
    """
    r = pd.to_numeric(recommend, errors="raise").astype("float64")
    answered = r.dropna()  # the missing answers were counted when the survey was prepared
    if answered.empty:
        raise InputError("net_promoter_score: no recommend answers")
    if ((answered < NPS_SCALE[0]) | (answered > NPS_SCALE[1])).any():
        raise InputError("net_promoter_score: recommend answers must lie in 0-10")

    def _nps(x: pd.Series) -> dict[str, Any]:
        # one NPS formula in the package: crmlab.pls_quality.nps (interval clipped to +-100)
        got = pls_quality.nps(x, scale=NPS_SCALE, level=confidence)
        keys = ("n", "promoters", "passives", "detractors", "nps")
        return {k: got[k] for k in keys} | {"ci": [got["ci_low"], got["ci_high"]]}

    out = _nps(answered)
    if group is not None:
        labels = group.astype("string").reindex(answered.index)
        out["by_group"] = {
            str(g): {k: v for k, v in _nps(part).items() if k in ("n", "nps")}
            for g, part in answered.groupby(labels, sort=True)
        }
    return out


# --- the whole analysis --------------------------------------------------------------------


@dataclass
class SurveyAnalysis:
    """Everything the satisfaction stage computes (see :func:`analyze_survey`)."""

    settings: SurveySettings
    prepared: PreparedSurvey
    scores: pd.DataFrame
    reliability: pd.DataFrame
    items: pd.DataFrame
    index: pd.DataFrame
    correlations: pd.DataFrame
    drivers: DriverResult
    actions: pd.DataFrame
    loyalty: LoyaltyResult | None
    groups: GroupResult | None
    nps: dict[str, Any] | None
    losses: dict[str, Any]
    notes: list[str]


def analyze_survey(
    raw: pd.DataFrame,
    survey: Mapping[str, Any],
    loadings: Mapping[str, float] | pd.Series | None = None,
    loading_source: str | None = None,
) -> SurveyAnalysis:
    """Run the whole satisfaction analysis on a survey file's table.

    Parameters
    ----------
    raw : DataFrame
        The survey as :func:`crmlab.io.read_table` returns it.
    survey : mapping
        The ``survey:`` params block (``params.survey``).
    loadings : mapping or Series, optional
        Item -> standardised loading from another measurement model (e.g. PLS outer
        loadings) for CR and AVE; default: a maximum-likelihood one-factor model per construct.
    loading_source : str, optional
        What ``loadings`` are, shown in the reliability table and the product.

    Returns
    -------
    SurveyAnalysis
        Intake (``prepared``), ``scores``, ``reliability``, ``items`` (item statistics),
        ``index``, construct ``correlations``, ``drivers`` and ``actions`` (empty tables when
        the outcome has no driver), ``loyalty`` (``None`` without ``loyalty``), ``groups``
        (``None`` without ``group``), ``nps`` (``None`` without ``recommend``), ``losses``
        (respondents each step could not use) and ``notes`` (plain-words caveats).

    Raises
    ------
    InputError
        Inconsistent params, a mapped column missing from the file, or too few usable
        respondents for the regression.
    """
    s = survey_settings(survey)
    prepared = prepare_survey(raw, s)
    scores = construct_scores(prepared.items, s.constructs, s.min_answered)
    notes: list[str] = []
    single = [c for c, items in s.constructs.items() if len(items) == 1]
    if single:
        notes.append(
            f"{', '.join(single)}: single-item construct(s), so no alpha, composite reliability "
            "or AVE (internal consistency needs at least two items)."
        )
    partial = {}
    for name, cols in s.constructs.items():
        answered = prepared.items[cols].notna().sum(axis=1)
        partial[name] = int(((answered < len(cols)) & scores[name].notna()).sum())
    idx = satisfaction_index(scores, s.scale, s.confidence)
    drivers, actions = DriverResult.empty(s.importance), _EMPTY_ACTIONS.copy()
    if s.drivers:
        drivers = key_drivers(scores, s.outcome, s.drivers, s.confidence, s.importance)
        actions = importance_performance(drivers.table, idx, s.actionable)
        text = suppression_sentence(
            drivers.table, s.outcome, scores[s.drivers].dropna().corr()
        )
        if text:
            notes.append(text + " Its importance share still counts what it explains.")
    else:
        notes.append(f"No driver constructs besides {s.outcome!r}: no key-driver analysis.")
    loyalty = None
    if s.loyalty is not None:
        loyalty = loyalty_link(scores, s.outcome, s.loyalty, s.drivers, s.scale, s.confidence)
        if loyalty.suppressed:
            notes.append(f"Loyalty model with the drivers: {loyalty.multiple_sentence}")
    groups = None
    if prepared.group is not None:
        groups = group_comparison(scores, prepared.group, s.scale)
    nps = None
    if prepared.recommend is not None:
        nps = net_promoter_score(prepared.recommend, prepared.group, s.confidence)
    n = len(prepared.items)
    losses = {
        "respondents_in": prepared.respondents_in,
        "duplicate_ids_dropped": prepared.duplicate_ids,
        "blank_ids": prepared.blank_ids,
        "respondents": n,
        # items only: the 0-10 recommend item is counted apart (recommend_missing)
        "answers_set_missing": {
            r: int(prepared.missing[r].iloc[: len(s.items)].sum()) for r in MISSING_REASONS
        },
        "scores_missing": {c: int(scores[c].isna().sum()) for c in scores.columns},
        "scores_from_partial_items": partial,
        "reliability_rows_dropped": {
            c: n - int(k)
            for c, k in zip(
                scores.columns, _complete_counts(prepared.items, s.constructs), strict=True
            )
        },
        "regression_rows_dropped": drivers.dropped if s.drivers else None,
        "loyalty_rows_dropped": (n - loyalty.n) if loyalty else None,
        "blank_groups": prepared.blank_groups if prepared.group is not None else None,
        "recommend_missing": int(prepared.recommend.isna().sum())
        if prepared.recommend is not None
        else None,
    }
    return SurveyAnalysis(
        settings=s,
        prepared=prepared,
        scores=scores,
        reliability=reliability(prepared.items, s.constructs, scores, loadings, loading_source),
        items=item_statistics(prepared.items, s.constructs, loadings),
        index=idx,
        correlations=scores.corr(),
        drivers=drivers,
        actions=actions,
        loyalty=loyalty,
        groups=groups,
        nps=nps,
        losses=losses,
        notes=notes,
    )


def _complete_counts(items: pd.DataFrame, constructs: Mapping[str, Sequence[str]]) -> list[int]:
    return [int(items[list(cols)].notna().all(axis=1).sum()) for cols in constructs.values()]


def _num(x: Any) -> float | None:
    """JSON-safe number: NaN/inf become null (the writer refuses NaN)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def summary_json(analysis: SurveyAnalysis) -> dict[str, Any]:
    """Build the ``satisfaction.json`` product (SPEC names plus the detail below).

    Parameters
    ----------
    analysis : SurveyAnalysis
        :func:`analyze_survey` output.

    Returns
    -------
    dict
        ``outcome``, ``satisfaction_index``, ``scale``, ``n_respondents``, ``constructs``
        {name: items, alpha, alpha_standardized, composite_reliability, ave, loadings (which
        measurement model), item_loadings, heywood, verdict, index_0_100, index_ci, n,
        note}, ``drivers`` {name: importance, performance, beta, beta_ci, r (zero-order),
        sign_flip, vif, quadrant, actionable, action}, ``ipm`` (layout, cross-hair and
        actionable drivers), ``r2``, ``r2_adj``, ``n_regression``, ``importance_method``,
        ``loyalty`` (the satisfaction-only link, plus ``with_drivers``: the multi-driver model
        with r beside each beta and the sign flips explained), ``groups``, ``nps`` (null
        when not set), ``missing`` (counts and the policy), ``notes`` (how to read alpha and
        CR/AVE).

    Raises
    ------
    InputError
        ``analysis`` is not a :class:`SurveyAnalysis`.
    """
    if not isinstance(analysis, SurveyAnalysis):
        raise InputError("summary_json: needs the SurveyAnalysis returned by analyze_survey")
    s = analysis.settings
    rel = analysis.reliability.set_index("construct")
    idx = analysis.index.set_index("construct")
    item_loadings = analysis.items.groupby("construct", sort=False)
    constructs = {}
    for name, items in s.constructs.items():
        entry = {
            "items": len(items),
            "alpha": _num(rel.at[name, "alpha"]) if len(items) > 1 else None,
            "alpha_standardized": _num(rel.at[name, "alpha_standardized"])
            if len(items) > 1
            else None,
            "composite_reliability": _num(rel.at[name, "composite_reliability"]),
            "ave": _num(rel.at[name, "ave"]),
            "loadings": rel.at[name, "loadings"],
            "item_loadings": {
                r.item: _num(r.loading)
                for r in item_loadings.get_group(name).itertuples(index=False)
            },
            "heywood": bool(rel.at[name, "heywood"]),
            "verdict": rel.at[name, "verdict"],
            "index_0_100": _num(idx.at[name, "index"]),
            "index_ci": [_num(idx.at[name, "ci_low"]), _num(idx.at[name, "ci_high"])],
            "n": int(idx.at[name, "n"]),
        }
        if len(items) == 1:
            entry["note"] = (
                "single item: no alpha, composite reliability or AVE (needs two or more items)"
            )
        elif rel.at[name, "flag"]:
            entry["note"] = rel.at[name, "flag"]
        constructs[name] = entry
    drivers: dict[str, Any] = {}
    r2 = r2_adj = None
    n_reg = None
    ipm = None
    if len(analysis.drivers.table):
        act = analysis.actions.set_index("construct")
        for row in analysis.drivers.table.itertuples(index=False):
            drivers[row.construct] = {
                "importance": _num(row.importance),
                "performance": _num(idx.at[row.construct, "index"]),
                "beta": _num(row.beta),
                "beta_ci": [_num(row.ci_low), _num(row.ci_high)],
                "p_value": _num(row.p_value),
                "r": _num(row.r),
                "sign_flip": bool(row.sign_flip),
                "vif": _num(row.vif),
                "quadrant": act.at[row.construct, "quadrant"],
                "actionable": bool(act.at[row.construct, "actionable"]),
                "action": act.at[row.construct, "action"],
            }
        ipm = {
            "layout": "Martilla & James (1977): performance across, importance up",
            "crosshair": "midrange: half way between the lowest and highest driver on each axis",
            "importance_cut": _num(analysis.actions["importance_cut"].iloc[0]),
            "performance_cut": _num(analysis.actions["performance_cut"].iloc[0]),
            "actionable": analysis.actions.loc[analysis.actions["actionable"], "construct"]
            .tolist(),
        }
        r2, r2_adj, n_reg = analysis.drivers.r2, analysis.drivers.r2_adj, analysis.drivers.n
    loyalty = None
    if analysis.loyalty is not None:
        ly = analysis.loyalty
        loyalty = {
            "construct": s.loyalty,
            "slope": _num(ly.slope),
            "slope_ci": [_num(ly.ci[0]), _num(ly.ci[1])],
            "intercept": _num(ly.intercept),
            "beta": _num(ly.beta),
            "r2": _num(ly.r2),
            "n": ly.n,
            "r2_with_drivers": _num(ly.r2_multiple),
            "effect": ly.sentence,
            "with_drivers": {
                "note": "loyalty on satisfaction and the drivers, standardised; beta is with "
                "the other terms held fixed, r is the zero-order correlation with loyalty",
                "n": ly.n_multiple,
                "terms": {
                    r.term: {
                        "beta": _num(r.beta),
                        "beta_ci": [_num(r.ci_low), _num(r.ci_high)],
                        "r": _num(r.r),
                        "sign_flip": bool(r.sign_flip),
                    }
                    for r in ly.table.itertuples(index=False)
                },
                "suppressed": ly.suppressed,
                "effect": ly.multiple_sentence,
            }
            if len(ly.table)
            else None,
        }
    groups = None
    if analysis.groups is not None:
        out_tests = analysis.groups.tests.set_index("construct")
        groups = {
            "column": s.group,
            "small_groups_left_out": analysis.groups.small_groups,
            "tests": {
                c: {
                    k: _num(out_tests.at[c, k])
                    for k in (
                        "anova_f",
                        "anova_p",
                        "eta_sq",
                        "kruskal_h",
                        "kruskal_p",
                        "epsilon_sq",
                    )
                }
                for c in out_tests.index
            },
            "index": {
                str(g): {r.construct: _num(r.index) for r in part.itertuples(index=False)}
                for g, part in analysis.groups.means.groupby("group", sort=True)
            },
        }
    nps = None
    if analysis.nps is not None:
        nps = _jsonable(analysis.nps)
    return {
        "outcome": s.outcome,
        "satisfaction_index": _num(idx.at[s.outcome, "index"]),
        "satisfaction_index_ci": [
            _num(idx.at[s.outcome, "ci_low"]),
            _num(idx.at[s.outcome, "ci_high"]),
        ],
        "scale": list(s.scale),
        "confidence": s.confidence,
        "n_respondents": analysis.losses["respondents"],
        "constructs": constructs,
        "drivers": drivers,
        "ipm": ipm,
        "r2": _num(r2),
        "r2_adj": _num(r2_adj),
        "n_regression": n_reg,
        "importance_method": s.importance if len(analysis.drivers.table) else None,
        "loyalty": loyalty,
        "groups": groups,
        "nps": nps,
        "missing": {**analysis.losses, "policy": MISSING_POLICY, "min_answered": s.min_answered},
        "notes": {"alpha": ALPHA_NOTE, "loadings": LOADING_NOTE, "caveats": analysis.notes},
    }


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return _num(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


# --- plain-words takeaways ------------------------------------------------------------------


def _effect_words(value: float) -> str:
    # Cohen's (1988) rough bands for eta-squared, also used for epsilon-squared.
    if not np.isfinite(value):
        return "not estimable"
    if value < 0.01:
        return "negligible"
    if value < 0.06:
        return "small"
    if value < 0.14:
        return "medium"
    return "large"


def _names(values: Sequence[str]) -> str:
    values = list(values)
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + " and " + values[-1]


def takeaways(analysis: SurveyAnalysis) -> dict[str, str]:
    """One-sentence readings of each result, with the numbers filled in.

    The notebook puts them above the matching table or figure, so the text always agrees
    with the data whatever survey is analysed.

    Parameters
    ----------
    analysis : SurveyAnalysis
        :func:`analyze_survey` output.

    Returns
    -------
    dict
        Keys ``intake``, ``reliability``, ``loadings`` (how much first-principal-component
        loadings would inflate CR), ``items``, ``index``, ``correlations``,
        ``drivers``, ``ipm``, ``loyalty``, ``loyalty_model`` (the multi-construct model and
        its sign flips), ``groups``, ``nps`` (the last four say so when the survey does not
        have what they need).

    Raises
    ------
    InputError
        ``analysis`` is not a :class:`SurveyAnalysis`.
    """
    if not isinstance(analysis, SurveyAnalysis):
        raise InputError("takeaways: needs the SurveyAnalysis returned by analyze_survey")
    s, lost = analysis.settings, analysis.losses
    out: dict[str, str] = {}

    answers = lost["respondents"] * len(s.items)
    set_missing = sum(lost["answers_set_missing"].values())
    reasons = [f"{v:,} {k.replace('_', ' ')}" for k, v in lost["answers_set_missing"].items() if v]
    dup = (
        f"; {lost['duplicate_ids_dropped']:,} row(s) repeating an earlier respondent id were dropped"
        if lost["duplicate_ids_dropped"]
        else ""
    )
    out["intake"] = (
        f"**Takeaway:** {lost['respondents']:,} respondents × {len(s.items)} items; "
        f"{set_missing:,} of {answers:,} answers ({set_missing / max(answers, 1):.1%}) "
        "were set missing"
        + (f" ({', '.join(reasons)})" if reasons else "")
        + f"{dup}; the smallest construct score rests on "
        f"{int(analysis.index['n'].min()):,} respondents."
    )

    rel = analysis.reliability
    multi = rel.loc[rel["items"] > 1]
    single = rel.loc[rel["items"] == 1, "construct"].tolist()
    sources = sorted(set(multi["loadings"]))
    words = {
        "ml": "maximum-likelihood one-factor loadings",
        "tau-equivalent": "equal loadings for two-item scales",
    }
    source = _names([words.get(x, x) for x in sources])

    def ac(r: Any) -> str:
        return f"{r.construct} (alpha {r.alpha:.2f}, CR {r.composite_reliability:.2f})"

    groups = {v: [r for r in multi.itertuples() if r.verdict == v]
              for v in ("reliable", "borderline", "unreliable")}
    parts = []
    if groups["reliable"]:
        parts.append(f"{_names([r.construct for r in groups['reliable']])} reach 0.7 on both")
    if groups["borderline"]:
        parts.append(f"{_names([ac(r) for r in groups['borderline']])} pass on one only: "
                     "borderline")
    if groups["unreliable"]:
        many = len(groups["unreliable"]) > 1
        parts.append(
            f"{_names([ac(r) for r in groups['unreliable']])} fall{'' if many else 's'} short, "
            f"so read {'their' if many else 'its'} scores with care"
        )
    heywood = multi.loc[multi["heywood"], "construct"].tolist()
    if heywood:
        parts.append(f"for {_names(heywood)} one loading hits 1, so even that CR is too high")
    if single:
        parts.append(
            f"{_names(single)} {'is a single item' if len(single) == 1 else 'are single items'} "
            "and cannot be checked"
        )
    out["reliability"] = (
        "**Takeaway:** "
        + (
            f"judged on raw alpha and composite reliability (CR, from {source}) together, "
            + "; ".join(parts)
            if len(multi)
            else "; ".join(parts) or "no construct has two or more items"
        )
        + "."
    )

    comparison = loading_comparison(analysis.prepared.items, s.constructs)
    if len(comparison):
        w = comparison.sort_values("cr_gap", ascending=False).iloc[0]
        out["loadings"] = (
            f"**Takeaway:** first-principal-component loadings would put {w.construct}'s CR at "
            f"{w.cr_pca:.2f} instead of {w.cr_model:.2f} (alpha {w.alpha:.2f})"
            + (": enough to make it look reliable."
               if w.cr_pca >= CR_MIN > w.cr_model
               else f", {w.cr_gap:.2f} too high.")
        )
    else:
        out["loadings"] = "**Takeaway:** no construct has two or more items: nothing to compare."

    items = analysis.items.dropna(subset=["alpha_change"])
    items = items.loc[items["alpha_change"] > 0].sort_values("alpha_change", ascending=False)
    if len(items):
        w = items.iloc[0]
        base = w.alpha_if_deleted - w.alpha_change
        out["items"] = (
            f"**Takeaway:** dropping {w['item']} would raise {w.construct}'s alpha from {base:.2f} "
            f"to {w.alpha_if_deleted:.2f}: it is the item that agrees least with its construct "
            f"(item-total r = {w.item_total_r:.2f}); check its wording before the next wave."
        )
    else:
        out["items"] = (
            "**Takeaway:** no item lowers its construct's alpha: every item pulls its weight."
        )

    idx = analysis.index.set_index("construct")
    o = idx.loc[s.outcome]
    top, low = idx["index"].idxmax(), idx["index"].idxmin()
    out["index"] = (
        f"**Takeaway:** the {s.outcome} index is **{o['index']:.1f} out of 100** "
        f"({s.confidence:.0%} CI {o.ci_low:.1f}-{o.ci_high:.1f}, n = {int(o.n):,}); "
        f"{top} scores highest ({idx.at[top, 'index']:.1f}), "
        f"{low} lowest ({idx.at[low, 'index']:.1f})."
    )

    corr = analysis.correlations
    if corr.shape[0] > 1:
        m = corr.where(~np.eye(len(corr), dtype=bool)).abs()
        a, b = m.stack().idxmax()
        out["correlations"] = (
            f"**Takeaway:** construct scores overlap "
            f"(up to r = {corr.at[a, b]:.2f}, {a} with {b}), "
            "so a driver's coefficient depends on which other drivers are in the model; the "
            "importance shares below split the overlap fairly."
        )
    else:
        out["correlations"] = "**Takeaway:** one construct only: nothing to correlate."

    dr = analysis.drivers
    if len(dr.table):
        t = dr.table
        flips = t.loc[t["sign_flip"].astype(bool)]
        out["drivers"] = (
            f"**Takeaway:** together the drivers explain R² = {dr.r2:.0%} of the differences in "
            f"{s.outcome} (n = {dr.n:,}); {t.construct.iloc[0]} carries the largest share "
            f"({t.importance.iloc[0]:.0%}), {t.construct.iloc[-1]} the smallest "
            f"({t.importance.iloc[-1]:.0%})"
            + (
                "; "
                + _names([f"{r.construct} (beta {r.beta:+.2f}, r {r.r:+.2f})"
                          for r in flips.itertuples()])
                + " change sign once the others are held fixed: suppression from overlap, "
                "not an effect"
                if len(flips)
                else ""
            )
            + "."
        )
        act = analysis.actions
        lever = act["actionable"].astype(bool)
        conc = act.loc[(act["quadrant"] == "concentrate here") & lever, "construct"].tolist()
        keep = act.loc[(act["quadrant"] == "keep up the good work") & lever, "construct"].tolist()
        not_levers = act.loc[~lever]
        worst = act.loc[act["performance"].idxmin()]
        first = (
            f"improve {_names(conc)} first (more important than most drivers, and weaker)"
            if conc
            else "no driver the firm can act on is both more important and weaker than the rest"
        )
        out["ipm"] = (
            f"**Takeaway:** {first}"
            + (f"; keep {_names(keep)} at its level" if keep else "")
            + f"; the weakest performer is {worst.construct} (index {worst.performance:.1f}, "
            f"{worst.importance:.0%} of R²)"
            + (
                f"; {_names(not_levers['construct'].tolist())} "
                f"{'is' if len(not_levers) == 1 else 'are'} not a lever the firm sets directly "
                f"({_names(not_levers['quadrant'].tolist())}), so no budget goes to "
                f"{'it' if len(not_levers) == 1 else 'them'} as such"
                if len(not_levers)
                else ""
            )
            + "."
        )
    else:
        out["drivers"] = (
            f"**Takeaway:** no driver constructs besides {s.outcome}: no key-driver analysis."
        )
        out["ipm"] = "**Takeaway:** no driver constructs, so no importance-performance matrix."

    ly = analysis.loyalty
    if ly is None:
        out["loyalty"] = (
            "**Takeaway:** no `loyalty` construct is set in the params, so no loyalty link."
        )
    else:
        flipped = ly.table.loc[ly.table["sign_flip"].astype(bool)] if len(ly.table) else ly.table
        out["loyalty"] = f"**Takeaway:** {ly.sentence}" + (
            " In the model that also holds the drivers fixed, "
            + _names([f"{r.term}'s coefficient turns {'negative' if r.beta < 0 else 'positive'} "
                      f"({r.beta:+.2f}, while r = {r.r:+.2f})" for r in flipped.itertuples()])
            + ": suppression from overlap with the other constructs, not a sign that "
            + _names(flipped["term"].tolist())
            + f" {'hurts' if flipped['beta'].iloc[0] < 0 else 'helps'} {s.loyalty}."
            if len(flipped)
            else ""
        )

    if ly is not None and len(ly.table):
        out["loyalty_model"] = f"**Takeaway:** {ly.multiple_sentence}" + (
            "" if ly.suppressed else " No coefficient changes sign against its correlation: "
            "no suppression to explain."
        )
    else:
        out["loyalty_model"] = (
            "**Takeaway:** no multi-construct loyalty model (it needs `loyalty` and drivers)."
        )

    g = analysis.groups
    if g is not None and len(g.tests):
        row = g.tests.set_index("construct").loc[s.outcome]
        means = g.means.loc[g.means["construct"] == s.outcome].set_index("group")["index"]
        if np.isfinite(row.eta_sq):
            out["groups"] = (
                f"**Takeaway:** the {s.outcome} index ranges from "
                f"{means.min():.1f} ({means.idxmin()}) "
                f"to {means.max():.1f} ({means.idxmax()}); ANOVA p = {row.anova_p:.3f}, "
                f"eta² = {row.eta_sq:.2f} ({_effect_words(row.eta_sq)} effect), "
                f"Kruskal-Wallis p = {row.kruskal_p:.3f}."
            )
        else:
            out["groups"] = "**Takeaway:** too few groups with two or more respondents to compare."
    else:
        out["groups"] = (
            "**Takeaway:** no `group` column is set in the params, so no group comparison."
        )

    n = analysis.nps
    out["nps"] = (
        f"**Takeaway:** the Net Promoter Score is **{n['nps']:+.0f}** ({s.confidence:.0%} CI "
        f"{n['ci'][0]:+.0f} to {n['ci'][1]:+.0f}): {n['promoters']:.0%} promoters, "
        f"{n['detractors']:.0%} detractors (n = {n['n']:,})."
        if n is not None
        else "**Takeaway:** no `recommend` item is set in the params, so no Net Promoter Score."
    )
    return out
