"""Every run-dependent sentence of the churn stage, as Markdown strings.

Each function takes ``tr`` (the run's :class:`~crmlab.i18n.Catalog`, English by default);
the words live in ``crmlab/locale/<language>/churn.yaml``.

The notebook shows these; :mod:`crmlab.churn.views` puts them above the figures. Nothing
here computes a result: each function words numbers that were computed elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from crmlab.churn.evaluation import expected_calibration_error, level_name
from crmlab.churn.ranking import WITH_INTERACTIONS
from crmlab.errors import require_columns
from crmlab.i18n import EN, Catalog

__all__ = [
    "model_name",
    "run_scope",
    "intake_summary",
    "blank_rows_note",
    "imbalance_summary",
    "model_choice",
    "calibration_reason",
    "odds_takeaway",
    "roc_takeaway",
    "pr_takeaway",
    "calibration_takeaway",
    "capacity_takeaway",
    "lift_takeaway",
    "bands_takeaway",
    "risk_list_summary",
    "as_of_source",
    "warning_takeaway",
    "WARNING_SKIPPED",
    "backtest_takeaway",
    "NO_BACKTEST",
    "call_list_summary",
    "rising_complaints_reason",
    "falling_sentiment_reason",
    "signals_takeaway",
    "signals_note",
    "NO_SIGNALS",
    "signals_backtest_takeaway",
    "NO_SIGNAL_BACKTEST",
    "ranking_note",
]

WARNING_SKIPPED = EN("churn.warning_skipped")
NO_BACKTEST = EN("churn.no_backtest")


def model_name(name: str, tr: Catalog = EN) -> str:
    """Return a model's name in words: ``gradient_boosting`` -> ``gradient boosting``."""
    key = f"churn.model.{name}"
    return tr(key) if tr.has(key) else str(name).replace("_", " ")


def _file_name(path: Any) -> str:
    return str(path).split("/")[-1]


def run_scope(table_path: str | None, transactional: bool, tr: Catalog = EN) -> str:
    """Say which parts of the chapter this run can do.

    ``table_path`` is the labelled table's path (None without a ``churn`` section);
    ``transactional`` says whether the cleaning stage's transactions are there.
    """
    return (
        tr("churn.scope.head")
        + (tr("churn.scope.part_a", file=_file_name(table_path)) if table_path is not None
           else tr("churn.scope.part_a_skipped"))
        + (tr("churn.scope.part_b") if transactional else tr("churn.scope.part_b_skipped"))
    )


def intake_summary(table: Any, path: str, target: str, tr: Catalog = EN) -> str:
    """Describe the typed churn table: rows, target, feature kinds, columns left out, key."""
    kinds = table.types["kind"].value_counts()
    return tr(
        "churn.intake", n=len(table.features), file=_file_name(path), target=target,
        positive=table.labels["positive"], numeric=kinds.get("numeric", 0), binary=kinds.get("binary", 0),
        categorical=kinds.get("categorical", 0), excluded=kinds.get("excluded", 0), key=table.key.name,
    )


def blank_rows_note(blanks: pd.DataFrame, tr: Catalog = EN) -> str:
    """Count the rows with a blank or non-numeric numeric/flag cell."""
    return tr("churn.blank_rows", n=len(blanks))


def imbalance_summary(target: pd.Series, test_size: float, seed: int, tr: Catalog = EN) -> str:
    """State the churn rate, what predicting *no one churns* would score, and the split."""
    rate = target.mean()
    return tr("churn.imbalance", churned=int(target.sum()), n=len(target), rate=rate, accuracy=1 - rate,
              test_size=test_size, seed=seed)


def model_choice(cv_summary: pd.DataFrame, chosen: str, tr: Catalog = EN) -> str:
    """Which model was chosen by cross-validation, and why (best, or within one SE and simpler)."""
    best = cv_summary.loc[cv_summary["mean"].idxmax()]
    mine = cv_summary.set_index("model").loc[chosen]
    why = (tr("churn.choice.best") if best["model"] == chosen else
           tr("churn.choice.within", se=best["se"], best=model_name(best["model"], tr), mean=best["mean"]))
    return tr("churn.choice.text", model=model_name(chosen, tr), mean=mine["mean"], se=mine["se"], why=why)


def _dropped_why(why: str, tr: Catalog) -> str:
    """Word a dropped column's reason (:class:`~crmlab.churn.estimators.DropCollinear`)."""
    vif = "variance inflation factor "
    return tr("churn.odds.vif", value=why[len(vif):]) if why.startswith(vif) else why


def term_words(term: Any, tr: Catalog = EN) -> str:
    """Name a design column (``contract=Two year``, ``tenure``) in a sentence.

    A column of the bundled Telco table (``churn.term.<column>`` in the catalog) is worded in
    the language of ``tr`` (its level by :func:`~crmlab.churn.evaluation.level_name`); in
    English, and for any other column, it is the design column's own name as code.
    """
    column, eq, level = str(term).partition("=")
    key = f"churn.term.{column}"
    if not tr.has(key):
        return tr("churn.odds.code", column=term)
    if eq:
        return tr("churn.odds.term_level", column=tr(key), level=level_name(level, tr))
    return tr("churn.odds.term", column=tr(key))


def odds_takeaway(odds: pd.DataFrame, dropped: Mapping[str, str], k: int = 3, tr: Catalog = EN) -> str:
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
    sep, semi = tr("churn.sep"), tr("churn.semi")

    def fmt(rows: pd.DataFrame) -> str:
        pairs = zip(rows["_name"], rows["odds_ratio"], strict=True)
        return sep.join(tr("churn.odds.item", name=t, odds=o) for t, o in pairs) or tr("churn.odds.none")

    exact = [c for c, why in dropped.items() if why.startswith("exact")]
    near = [tr("churn.odds.near", column=term_words(c, tr), why=_dropped_why(why, tr))
            for c, why in dropped.items() if not why.startswith("exact")]
    parts = ([tr("churn.odds.exact", n=len(exact), columns=sep.join(term_words(c, tr) for c in exact))]
             if exact else []) + near
    gone = semi.join(parts) or tr("churn.odds.nothing")
    text = tr("churn.odds.text", gone=gone, up=fmt(up), down=fmt(down))
    if "suppression" in odds.columns and odds["suppression"].any():
        sup = odds[odds["suppression"]]
        items = semi.join(
            tr("churn.odds.suppression_item", name=n, odds=o, alone=a)
            for n, o, a in zip(sup["_name"], sup["odds_ratio"], sup["alone_odds_ratio"], strict=True)
        )
        text += tr("churn.odds.suppression", items=items)
    return text


def roc_takeaway(metrics: Mapping[str, Any], chosen: str, tr: Catalog = EN) -> str:
    """Test-split ROC AUC of both models and which one scores the customers."""
    return tr("churn.roc", logistic=metrics["logistic"]["roc_auc"],
              boosting=metrics["gradient_boosting"]["roc_auc"], model=model_name(chosen, tr))


def pr_takeaway(metrics: Mapping[str, Any], base_rate: float, tr: Catalog = EN) -> str:
    """Average precision of both models against the no-skill level (the churn rate)."""
    return tr("churn.pr", logistic=metrics["logistic"]["pr_auc"],
              boosting=metrics["gradient_boosting"]["pr_auc"], base_rate=base_rate)


def calibration_reason(calibration: Mapping[str, Any], tr: Catalog = EN) -> str:
    """Word the recalibration decision (:func:`~crmlab.churn.model.calibration_decision`).

    Needs its ``requested`` and ``tolerance``; a decision without them (made by an older
    version) keeps its stored English ``reason``.
    """
    requested = calibration.get("requested")
    if requested is None or "tolerance" not in calibration:
        return str(calibration["reason"])
    if requested == "none":
        return tr("churn.calibration.switched_off")
    if requested == "auto":
        key = "churn.calibration.above" if calibration["method"] else "churn.calibration.within"
        return tr(key, ece=calibration["ece"], tolerance=calibration["tolerance"])
    return tr("churn.calibration.requested", method=requested)


def calibration_takeaway(
    reason: str, metrics: Mapping[str, Any], curves: Mapping[str, pd.DataFrame], tr: Catalog = EN
) -> str:
    """Give the recalibration decision (training rows) and the test-split ECE and Brier scores.

    ``curves`` maps ``logistic``, ``gradient_boosting`` and ``final`` to reliability tables;
    ``reason`` is the decision in words (:func:`calibration_reason`).
    """
    ece = expected_calibration_error
    return tr(
        "churn.calibration.text", reason=reason,
        ece_logistic=ece(curves["logistic"]), brier_logistic=metrics["logistic"]["brier"],
        ece_boosting=ece(curves["gradient_boosting"]), brier_boosting=metrics["gradient_boosting"]["brier"],
        ece_final=ece(curves["final"]),
    )


def capacity_takeaway(cap: Mapping[str, Any], tr: Catalog = EN) -> str:
    """Say what calling the riskiest ``capacity`` share reaches (:func:`capacity_summary`)."""
    return tr(
        "churn.capacity", capacity=cap["capacity"], contacted=cap["contacted"], caught=cap["churners_caught"],
        recall=cap["recall_at_k"], precision=cap["precision_at_k"], base_rate=cap["base_rate"],
        lift=cap["lift_at_k"], expected=cap["expected_churners_caught"],
    )


def lift_takeaway(gains: pd.DataFrame, tr: Catalog = EN) -> str:
    """Lift of the riskiest and of the safest decile (:func:`churn_gains`)."""
    return tr("churn.lift", top=gains["lift"].iloc[0], bottom=gains["lift"].iloc[-1])


def bands_takeaway(scores: pd.DataFrame, thresholds: Mapping[str, Any], churned: str, tr: Catalog = EN) -> str:
    """Count current customers vs already churned, and the current customers per risk band."""
    counts = scores["risk_band"].value_counts()
    current = int((scores["risk_band"] != churned).sum())
    rule = f"churn.band_rule.{thresholds['rule']}"
    return tr(
        "churn.bands", n=len(scores), current=current, churned=counts.get(churned, 0),
        rule=tr(rule) if tr.has(rule) else thresholds["rule"],
        high=thresholds["high"], n_high=counts.get("high", 0), medium=thresholds["medium"],
        n_medium=counts.get("medium", 0), n_low=counts.get("low", 0),
    )


def risk_list_summary(risks: pd.DataFrame, current: int, tr: Catalog = EN) -> str:
    """Size of the risk list, its mean probability and the most common first reason."""
    top = risks["reason_1"].str.split(" = ").str[0].value_counts()
    return tr("churn.risk_list", n=len(risks), current=current, mean=risks["churn_probability"].mean(),
              reason=top.index[0], count=top.iloc[0])


def as_of_source(as_of: Any, from_params: bool, tr: Catalog = EN) -> str:
    """Say where the warning's as-of date came from.

    In the words of :func:`crmlab.segmentation.observation_date`, in the language of ``tr``.

    ``from_params``: the date is ``periods.observation_end``; otherwise it is the last
    transaction date.
    """
    from crmlab.segmentation.narrative import observation_source

    return observation_source(pd.Timestamp(as_of), from_params, tr=tr)


def warning_takeaway(wm: Mapping[str, Any], as_of_source: str, horizon: int, tr: Catalog = EN) -> str:
    """Candidates, warned customers and one-time buyers of the warning (:func:`warning_metrics`)."""
    return tr(
        "churn.warning", as_of=wm["as_of"], source=as_of_source, horizon=horizon,
        candidates=wm["candidates"], customers=wm["customers"],
        candidate_share=wm["candidates"] / wm["customers"], warned=wm["warned"], capacity=wm["capacity"],
        one_time=wm["one_time_buyers"], one_time_share=wm["one_time_buyers"] / wm["customers"],
        one_time_p_one=wm["one_time_buyers_p_alive_one"], gap=wm["one_time_gap_days"] or 0,
    )


def backtest_takeaway(backtest: Mapping[str, Any], tr: Catalog = EN) -> str:
    """Precision, base rate, lift and recall of the warning raised at ``calibration_end``."""
    lift = f"{backtest['lift']:.2f}" if backtest["lift"] is not None else tr("churn.na")
    return tr(
        "churn.backtest", as_of=backtest["as_of"], flagged=backtest["flagged"], customers=backtest["customers"],
        flagged_share=backtest["flagged_share"], precision=backtest["precision"] or 0, until=backtest["until"],
        base_rate=backtest["base_rate"], lift=lift, recall=backtest["recall"] or 0,
    )


def call_list_summary(call_list: pd.DataFrame, as_of: str, money: str, tr: Catalog = EN) -> str:
    """Size of the warning's call list and what those customers spent up to ``as_of``."""
    return tr("churn.call_list", n=len(call_list), money=money, spent=call_list["priority_value"].sum(),
              as_of=as_of)


def _window(window_days: Any, tr: Catalog = EN) -> str:
    return tr("churn.window_days", days=int(window_days)) if window_days else tr("churn.window_recent")


def rising_complaints_reason(recent: float, previous: float, window_days: Any, tr: Catalog = EN) -> str:
    """Word a warning reason: more complaints in the recent window than in the one before."""
    return tr("churn.reason.rising_complaints", recent=recent, previous=previous, window=_window(window_days, tr))


def falling_sentiment_reason(recent: float, previous: float, texts_recent: float, texts_previous: float,
                             window_days: Any, tr: Catalog = EN) -> str:
    """Word a warning reason: the recent texts' mean sentiment fell below the previous window's."""
    counts = (tr("churn.reason.texts", recent=texts_recent, previous=texts_previous)
              if pd.notna(texts_recent) and pd.notna(texts_previous) else "")
    return tr("churn.reason.falling_sentiment", recent=recent, previous=previous,
              window=_window(window_days, tr), counts=counts)


NO_SIGNALS = EN("churn.no_signals")
NO_SIGNAL_BACKTEST = EN("churn.no_signal_backtest")


def signals_takeaway(wm: Mapping[str, Any], tr: Catalog = EN) -> str:
    """How many customers the interaction signals flag and how many of them are warned."""
    s = wm["interaction_signals"]
    rules = s.get("rules") or {}
    texts = (tr("churn.signals.texts_counted", min_texts=rules.get("min_texts"))
             if rules.get("text_counts") else tr("churn.signals.texts_mean"))
    ranked = (tr("churn.signals.ranked_first") if s.get("ranking") == WITH_INTERACTIONS
              else tr("churn.signals.not_ranked"))
    return tr(
        "churn.signals.text", window=s.get("window_days") or tr("churn.signals.unknown_window"),
        rising=s["rising_complaints"], min_complaints=rules.get("min_complaints", 1),
        falling=s["falling_sentiment"], drop=rules.get("sentiment_drop", 0), texts=texts,
        signal_only=s["candidates_by_signal_only"], ranked=ranked,
        warned_with_signal=s["warned_with_signal"], warned=wm["warned"],
    )


def _pct(v: Any, tr: Catalog = EN) -> str:
    return tr("churn.signals.pct", value=v) if v is not None else tr("churn.na")


def signals_backtest_takeaway(comparison: Mapping[str, Any], tr: Catalog = EN) -> str:
    """Do the interaction signals help? The two backtests and the swaps between them."""
    a, b, sw = comparison["purchases_only"], comparison["with_interactions"], comparison["swaps"]
    lift = [f"{x['lift']:.2f}" if x["lift"] is not None else tr("churn.na") for x in (a, b)]
    pa, pb = a["precision"], b["precision"]
    if sw["moved_in"] == 0:
        verdict = tr("churn.signals.nobody_moved")
    else:
        moved = tr("churn.signals.moved_in", n=sw["moved_in"], rate=sw["moved_in_lapsed"] / sw["moved_in"])
        if sw["moved_out"]:
            moved += tr("churn.signals.moved_out", n=sw["moved_out"],
                        rate=sw["moved_out_lapsed"] / sw["moved_out"])
        if pa is None or pb is None or pa == pb:
            judged = tr("churn.signals.no_difference")
        elif pb > pa:
            judged = tr("churn.signals.help")
        else:
            judged = tr("churn.signals.no_help")
        verdict = tr("churn.signals.verdict", moved=moved, judged=judged)
    return tr(
        "churn.signals.backtest", as_of=a["as_of"], pa=_pct(a["precision"], tr), pb=_pct(b["precision"], tr),
        ra=_pct(a["recall"], tr), rb=_pct(b["recall"], tr), la=lift[0], lb=lift[1], verdict=verdict,
    )


def signals_note(wm: Mapping[str, Any], tr: Catalog = EN) -> str:
    """Word the warning's interaction signals (:func:`warning_metrics`), or say there were none."""
    return signals_takeaway(wm, tr) if wm.get("interaction_signals") else tr("churn.no_signals")


def _points(v: float, tr: Catalog = EN) -> str:
    return tr("churn.ranking.points", value=v * 100)


def ranking_note(decision: Mapping[str, Any], tr: Catalog = EN) -> str:
    """Which ranking the warning used and why (:func:`crmlab.churn.ranking.ranking_decision`)."""
    why = decision["why"]
    kept = tr("churn.ranking.kept")
    if why in ("no backtest", "nobody flagged"):
        missing = (tr("churn.ranking.missing_backtest") if why == "no backtest"
                   else tr("churn.ranking.nobody_flagged"))
        return tr("churn.ranking.no_evidence", missing=f"{missing[0].upper()}{missing[1:]}", kept=kept)
    pa, pb, (low, high) = decision["precision_purchases"], decision["precision_interactions"], decision["interval"]
    numbers = tr("churn.ranking.numbers", pb=pb, pa=pa, difference=_points(decision["difference"], tr),
                 level=decision["level"], low=_points(low, tr), high=_points(high, tr))
    if decision["ranking"] == WITH_INTERACTIONS:
        return tr("churn.ranking.with_signals", numbers=numbers)
    verdict = tr("churn.ranking.worse") if why == "signals worse" else tr("churn.ranking.unclear")
    return tr("churn.ranking.purchases", verdict=verdict, numbers=numbers, kept=kept)
