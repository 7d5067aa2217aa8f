"""The whole satisfaction analysis of one survey, step by step (:func:`analyze_survey`).

Missing-data policy (:data:`crmlab.satisfaction.survey.MISSING_POLICY`): an answer that is
blank, not a number, one of ``missing_codes`` or outside ``scale`` is set missing and
counted by reason; a construct score is the mean of the answered items when at least
``min_answered`` of its items are answered; reliability uses the respondents who answered
every item of the construct; regressions use complete cases. Each step reports how many
respondents it used (``SurveyAnalysis.losses``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from crmlab.i18n import EN, Catalog
from crmlab.satisfaction import narrative
from crmlab.satisfaction.drivers import DriverResult, key_drivers
from crmlab.satisfaction.groups import GroupResult, group_comparison
from crmlab.satisfaction.index import construct_scores, satisfaction_index
from crmlab.satisfaction.ipa import EMPTY_ACTIONS, importance_performance
from crmlab.satisfaction.loyalty import LoyaltyResult, loyalty_link
from crmlab.satisfaction.nps import net_promoter_score
from crmlab.satisfaction.reliability import item_statistics, reliability
from crmlab.satisfaction.survey import (
    MISSING_REASONS,
    PreparedSurvey,
    SurveySettings,
    prepare_survey,
    survey_settings,
)

__all__ = ["SurveyAnalysis", "analyze_survey"]


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
    *,
    tr: Catalog = EN,
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
    tr : Catalog, optional
        The language of the text the results carry (``notes``, the reliability ``flag``,
        the ``action`` of each driver, the loyalty sentences); default English. Codes
        (``verdict``, ``quadrant`` ...) stay English whatever the language.

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
        notes.append(narrative.single_item_note(single, tr=tr))
    partial = {}
    for name, cols in s.constructs.items():
        answered = prepared.items[cols].notna().sum(axis=1)
        partial[name] = int(((answered < len(cols)) & scores[name].notna()).sum())
    idx = satisfaction_index(scores, s.scale, s.confidence)
    drivers, actions = DriverResult.empty(s.importance), EMPTY_ACTIONS.copy()
    if s.drivers:
        drivers = key_drivers(scores, s.outcome, s.drivers, s.confidence, s.importance)
        actions = importance_performance(drivers.table, idx, s.actionable, tr=tr)
        text = narrative.suppression_sentence(
            drivers.table, s.outcome, scores[s.drivers].dropna().corr(), tr=tr
        )
        if text:
            notes.append(narrative.driver_suppression_note(text, tr=tr))
    else:
        notes.append(narrative.no_drivers_note(s.outcome, tr=tr))
    loyalty = None
    if s.loyalty is not None:
        loyalty = loyalty_link(scores, s.outcome, s.loyalty, s.drivers, s.scale, s.confidence,
                               tr=tr)
        if loyalty.suppressed:
            notes.append(narrative.loyalty_suppression_note(loyalty.multiple_sentence, tr=tr))
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
        reliability=reliability(prepared.items, s.constructs, scores, loadings, loading_source,
                                tr=tr),
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
