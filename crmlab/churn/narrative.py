"""Every run-dependent sentence of the churn stage, as Markdown strings.

The notebook shows these; :mod:`crmlab.churn.views` puts them above the figures. Nothing
here computes a result: each function words numbers that were computed elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from crmlab.churn.evaluation import expected_calibration_error
from crmlab.churn.ranking import WITH_INTERACTIONS
from crmlab.errors import require_columns

__all__ = [
    "model_name",
    "run_scope",
    "intake_summary",
    "blank_rows_note",
    "imbalance_summary",
    "model_choice",
    "odds_takeaway",
    "roc_takeaway",
    "pr_takeaway",
    "calibration_takeaway",
    "capacity_takeaway",
    "lift_takeaway",
    "bands_takeaway",
    "risk_list_summary",
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

WARNING_SKIPPED = "Part B skipped: no transactions product from the cleaning stage."
NO_BACKTEST = ("No backtest: `periods.calibration_end` is not set, so there is no holdout to "
               "check against.")


def model_name(name: str) -> str:
    """Return a model's name in words: ``gradient_boosting`` -> ``gradient boosting``."""
    return str(name).replace("_", " ")


def _file_name(path: Any) -> str:
    return str(path).split("/")[-1]


def run_scope(table_path: str | None, transactional: bool) -> str:
    """Say which parts of the chapter this run can do.

    ``table_path`` is the labelled table's path (None without a ``churn`` section);
    ``transactional`` says whether the cleaning stage's transactions are there.
    """
    return (
        "**What this run can do.** "
        + ("Part A (labelled table `" + _file_name(table_path) + "`): yes. " if table_path is not None
           else "Part A: *skipped* — no `churn:` section in the params. ")
        + ("Part B (transactional warning): yes, from the clean transactions, every input taken "
           "at one as-of date." if transactional
           else "Part B: *skipped* — no transactions product from the cleaning stage.")
    )


def intake_summary(table: Any, path: str, target: str) -> str:
    """Describe the typed churn table: rows, target, feature kinds, columns left out, key."""
    kinds = table.types["kind"].value_counts()
    return (
        f"Read **{len(table.features):,} customers** from `{_file_name(path)}`: "
        f"target `{target}` with `{table.labels['positive']}` = churned; "
        f"{kinds.get('numeric', 0)} numeric, {kinds.get('binary', 0)} binary and "
        f"{kinds.get('categorical', 0)} categorical features; "
        f"{kinds.get('excluded', 0)} column(s) left out; scores keyed by `{table.key.name}`."
    )


def blank_rows_note(blanks: pd.DataFrame) -> str:
    """Count the rows with a blank or non-numeric numeric/flag cell."""
    return f"{len(blanks):,} row(s) had a blank or non-numeric numeric/flag cell."


def imbalance_summary(target: pd.Series, test_size: float, seed: int) -> str:
    """State the churn rate, what predicting *no one churns* would score, and the split."""
    rate = target.mean()
    return (
        f"**{int(target.sum()):,} of {len(target):,} customers churned "
        f"({rate:.1%})**: predicting *no one churns* would already be {1 - rate:.1%} accurate. "
        f"Test split: {test_size:.0%} of the rows, stratified, seed {seed}."
    )


def model_choice(cv_summary: pd.DataFrame, chosen: str) -> str:
    """Which model was chosen by cross-validation, and why (best, or within one SE and simpler)."""
    best = cv_summary.loc[cv_summary["mean"].idxmax()]
    mine = cv_summary.set_index("model").loc[chosen]
    why = ("it has the best cross-validated ROC AUC" if best["model"] == chosen else
           f"it is within one standard error ({best['se']:.3f}) of "
           f"{model_name(best['model'])} ({best['mean']:.3f}) and simpler")
    return (
        f"**Chosen: {model_name(chosen)}** (cross-validated ROC AUC "
        f"{mine['mean']:.3f} ± {mine['se']:.3f}) because {why}."
    )


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


def roc_takeaway(metrics: Mapping[str, Any], chosen: str) -> str:
    """Test-split ROC AUC of both models and which one scores the customers."""
    return (
        f"On the held-out test rows, ROC AUC: logistic regression **{metrics['logistic']['roc_auc']:.3f}**, "
        f"gradient boosting **{metrics['gradient_boosting']['roc_auc']:.3f}**; the chosen model "
        f"({model_name(chosen)}) scores the customers."
    )


def pr_takeaway(metrics: Mapping[str, Any], base_rate: float) -> str:
    """Average precision of both models against the no-skill level (the churn rate)."""
    return (
        f"Average precision: logistic regression **{metrics['logistic']['pr_auc']:.3f}**, gradient boosting "
        f"**{metrics['gradient_boosting']['pr_auc']:.3f}**, against a no-skill level of "
        f"{base_rate:.3f} (the churn rate)."
    )


def calibration_takeaway(
    reason: str, metrics: Mapping[str, Any], curves: Mapping[str, pd.DataFrame]
) -> str:
    """Give the recalibration decision (training rows) and the test-split ECE and Brier scores.

    ``curves`` maps ``logistic``, ``gradient_boosting`` and ``final`` to reliability tables.
    """
    ece = expected_calibration_error
    return (
        f"Decision on the training rows: {reason}. On the test split: "
        f"logistic regression ECE {ece(curves['logistic']):.3f} (Brier {metrics['logistic']['brier']:.3f}), "
        f"gradient boosting ECE {ece(curves['gradient_boosting']):.3f} "
        f"(Brier {metrics['gradient_boosting']['brier']:.3f}); the scores actually used (final) "
        f"ECE {ece(curves['final']):.3f}."
    )


def capacity_takeaway(cap: Mapping[str, Any]) -> str:
    """Say what calling the riskiest ``capacity`` share reaches (:func:`capacity_summary`)."""
    return (
        f"Calling the riskiest **{cap['capacity']:.0%}** of the test customers ({cap['contacted']:,}) "
        f"reaches **{cap['churners_caught']:,} churners** — {cap['recall_at_k']:.0%} of all of them, "
        f"with precision {cap['precision_at_k']:.0%} against {cap['base_rate']:.0%} for random calls "
        f"(lift {cap['lift_at_k']:.1f}). The probabilities promised "
        f"{cap['expected_churners_caught']:,.0f} churners among them: a check of calibration where it matters."
    )


def lift_takeaway(gains: pd.DataFrame) -> str:
    """Lift of the riskiest and of the safest decile (:func:`churn_gains`)."""
    return (
        f"The riskiest decile churns {gains['lift'].iloc[0]:.1f}× as often as the average customer; "
        f"the safest {gains['lift'].iloc[-1]:.2f}×."
    )


def bands_takeaway(scores: pd.DataFrame, thresholds: Mapping[str, Any], churned: str) -> str:
    """Count current customers vs already churned, and the current customers per risk band."""
    counts = scores["risk_band"].value_counts()
    current = int((scores["risk_band"] != churned).sum())
    return (
        f"Of {len(scores):,} rows, **{current:,} are current customers** and "
        f"{counts.get(churned, 0):,} have already churned (band *churned*: scored for "
        f"evaluation, never for action). Current customers by band ({thresholds['rule']}, set "
        f"on current customers): **high** from probability {thresholds['high']:.2f} "
        f"({counts.get('high', 0):,}), **medium** from {thresholds['medium']:.2f} "
        f"({counts.get('medium', 0):,}), **low** below ({counts.get('low', 0):,})."
    )


def risk_list_summary(risks: pd.DataFrame, current: int) -> str:
    """Size of the risk list, its mean probability and the most common first reason."""
    top = risks["reason_1"].str.split(" = ").str[0].value_counts()
    return (
        f"Watch list: the **{len(risks):,} riskiest of {current:,} current customers** "
        f"(mean out-of-sample churn probability {risks['churn_probability'].mean():.0%}); "
        f"none of them has already churned. Most common first reason: "
        f"`{top.index[0]}` ({top.iloc[0]:,} of them)."
    )


def warning_takeaway(wm: Mapping[str, Any], as_of_source: str, horizon: int) -> str:
    """Candidates, warned customers and one-time buyers of the warning (:func:`warning_metrics`)."""
    return (
        f"As of **{wm['as_of']}** ({as_of_source}), horizon {horizon:,} days: "
        f"{wm['candidates']:,} of {wm['customers']:,} customers are overdue or unlikely to be "
        f"alive ({wm['candidates'] / wm['customers']:.0%}); **{wm['warned']:,} are warned** — the "
        f"riskiest, up to the capacity of {wm['capacity']:.0%} of the customers. "
        f"**{wm['one_time_buyers']:,} one-time buyers** ({wm['one_time_buyers'] / wm['customers']:.0%}) "
        f"all have P(alive) = 1 by construction ({wm['one_time_buyers_p_alive_one']:,} exactly 1): "
        f"they are judged against a typical gap of {wm['one_time_gap_days'] or 0:,.0f} days instead."
    )


def backtest_takeaway(backtest: Mapping[str, Any]) -> str:
    """Precision, base rate, lift and recall of the warning raised at ``calibration_end``."""
    lift = f"{backtest['lift']:.2f}" if backtest["lift"] is not None else "n/a"
    return (
        f"Flags raised at **{backtest['as_of']}** for {backtest['flagged']:,} of "
        f"{backtest['customers']:,} customers ({backtest['flagged_share']:.0%}): "
        f"**{(backtest['precision'] or 0):.0%}** of them bought nothing until {backtest['until']}, "
        f"against {backtest['base_rate']:.0%} of all customers — lift **{lift}**; the list reached "
        f"{(backtest['recall'] or 0):.0%} of everyone who bought nothing."
    )


def call_list_summary(call_list: pd.DataFrame, as_of: str, money: str) -> str:
    """Size of the warning's call list and what those customers spent up to ``as_of``."""
    return (
        f"Call list: **{len(call_list):,} warned customers**, biggest spenders first; they spent "
        f"{money}{call_list['priority_value'].sum():,.0f} up to {as_of}."
    )


def _window(window_days: Any) -> str:
    return f"{int(window_days)} days" if window_days else "recent window"


def rising_complaints_reason(recent: float, previous: float, window_days: Any) -> str:
    """Word a warning reason: more complaints in the recent window than in the one before."""
    return (f"rising complaints: {recent:,.0f} in the last {_window(window_days)} vs "
            f"{previous:,.0f} in the {_window(window_days)} before")


def falling_sentiment_reason(recent: float, previous: float, texts_recent: float, texts_previous: float,
                             window_days: Any) -> str:
    """Word a warning reason: the recent texts' mean sentiment fell below the previous window's."""
    counts = (f" ({texts_recent:,.0f} and {texts_previous:,.0f} texts)"
              if pd.notna(texts_recent) and pd.notna(texts_previous) else "")
    return (f"falling sentiment: mean {recent:.2f} in the last {_window(window_days)} vs "
            f"{previous:.2f} before (0 = negative, 1 = positive){counts}")


NO_SIGNALS = ("No interaction features (the interactions stage did not run): the warning uses "
              "purchases alone.")
NO_SIGNAL_BACKTEST = ("The interaction features hold no columns taken at `periods.calibration_end` "
                      "(`backtest_...`), so the backtest cannot say whether the interaction signals "
                      "help: signals taken today would leak the holdout into the check.")


def signals_takeaway(wm: Mapping[str, Any]) -> str:
    """How many customers the interaction signals flag and how many of them are warned."""
    s = wm["interaction_signals"]
    rules = s.get("rules") or {}
    texts = (f"at least {rules.get('min_texts')} scored texts in each window"
             if rules.get("text_counts") else "a mean in both windows (text counts not in the product)")
    ranked = ("Signalled candidates are ranked first: " if s.get("ranking") == WITH_INTERACTIONS
              else "The signals do not rank the warning (purchases alone do): ")
    return (
        f"Interaction signals over {s.get('window_days') or '?'}-day windows: "
        f"**{s['rising_complaints']:,} customers with rising complaints** (at least "
        f"{rules.get('min_complaints', 1)} in the recent window and more than in the window before) and "
        f"**{s['falling_sentiment']:,} with falling sentiment** (mean down by at least "
        f"{rules.get('sentiment_drop', 0):.2f} on the 0-1 scale, {texts}); "
        f"{s['candidates_by_signal_only']:,} of them are not purchase candidates. {ranked}"
        f"{s['warned_with_signal']:,} of the {wm['warned']:,} warned customers carry a signal "
        "(it is among their reasons)."
    )


def _pct(v: Any) -> str:
    return f"{v:.0%}" if v is not None else "n/a"


def signals_backtest_takeaway(comparison: Mapping[str, Any]) -> str:
    """Do the interaction signals help? The two backtests and the swaps between them."""
    a, b, sw = comparison["purchases_only"], comparison["with_interactions"], comparison["swaps"]
    lift = [f"{x['lift']:.2f}" if x["lift"] is not None else "n/a" for x in (a, b)]
    pa, pb = a["precision"], b["precision"]
    if sw["moved_in"] == 0:
        verdict = "the signals moved nobody into the list, so they change nothing here."
    else:
        rate_in = sw["moved_in_lapsed"] / sw["moved_in"]
        moved = f"the signals moved {sw['moved_in']:,} customers in ({rate_in:.0%} of them bought nothing)"
        if sw["moved_out"]:
            moved += (f" and pushed {sw['moved_out']:,} out "
                      f"({sw['moved_out_lapsed'] / sw['moved_out']:.0%} bought nothing)")
        if pa is None or pb is None or pa == pb:
            judged = "no difference in precision"
        elif pb > pa:
            judged = "**they help** on this holdout"
        else:
            judged = "**they do not help** on this holdout"
        verdict = f"{moved} — {judged}."
    return (
        f"Backtest at {a['as_of']}: precision {_pct(a['precision'])} → **{_pct(b['precision'])}**, "
        f"recall {_pct(a['recall'])} → **{_pct(b['recall'])}**, lift {lift[0]} → **{lift[1]}** "
        f"(purchases only → with interaction signals); {verdict}"
    )


def signals_note(wm: Mapping[str, Any]) -> str:
    """Word the warning's interaction signals (:func:`warning_metrics`), or say there were none."""
    return signals_takeaway(wm) if wm.get("interaction_signals") else NO_SIGNALS


def _points(v: float) -> str:
    return f"{v * 100:+.1f} points"


def ranking_note(decision: Mapping[str, Any]) -> str:
    """Which ranking the warning used and why (:func:`crmlab.churn.ranking.ranking_decision`)."""
    why = decision["why"]
    kept = ("so they do not re-rank the warning: it is ranked by purchases alone, and the signals "
            "are shown as reasons on the customers who carry them.")
    if why in ("no backtest", "nobody flagged"):
        missing = ("there is no backtest of the signals taken at `periods.calibration_end` "
                   "(no `backtest_` features or no calibration date)" if why == "no backtest"
                   else "the backtest flagged nobody")
        return f"**Ranking: purchases alone.** {missing[0].upper()}{missing[1:]}: no evidence that the signals help, {kept}"
    pa, pb, (low, high) = decision["precision_purchases"], decision["precision_interactions"], decision["interval"]
    numbers = (f"precision {pb:.1%} with the signals vs {pa:.1%} from purchases alone at the same capacity "
               f"(difference {_points(decision['difference'])}, {decision['level']:.0%} interval "
               f"{_points(low)} to {_points(high)})")
    if decision["ranking"] == WITH_INTERACTIONS:
        return (f"**Ranking: purchases + interaction signals.** The backtest shows the signals help — "
                f"{numbers}, an interval above zero — so signalled candidates are ranked first.")
    verdict = "worse" if why == "signals worse" else "not clearly better (the interval includes zero)"
    return f"**Ranking: purchases alone.** In the backtest the signals were {verdict} — {numbers} — {kept}"
