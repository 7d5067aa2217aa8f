"""The gate: the interaction signals re-rank the warning only when its backtest says they help."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from crmlab import churn
from crmlab.config import params_from_dict

CAL, UNTIL = pd.Timestamp("1997-06-30"), pd.Timestamp("1997-09-30")
HORIZON = (UNTIL - CAL).days


def warning_section(**keys):
    return params_from_dict({"churn_warning": keys}).churn_warning


def shop(customers: list[tuple[bool, bool, bool]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Transactions and interaction features for customers ``(quiet, complains, returns)``.

    Everyone buys every 10 days from 1997-01-01; a *quiet* customer stops 35-93 days before
    CAL (the j-th quiet customer 35 + 2j days before: later ones are longer gone), the others
    buy up to CAL. A *complainer* has 2 complaints in the 90 days before CAL after none
    (rising complaints, today and at CAL). A customer who *returns* buys 20 days after CAL.
    """
    rows, quiet_seen = [], 0
    for i, (quiet, _, returns) in enumerate(customers):
        cid = f"c{i:03d}"
        stop = CAL
        if quiet:
            stop = CAL - pd.Timedelta(days=35 + 2 * quiet_seen)
            quiet_seen += 1
        rows += [(cid, d, 10.0) for d in pd.date_range("1997-01-01", stop, freq="10D")]
        if returns:
            rows.append((cid, CAL + pd.Timedelta(days=20), 10.0))
    tx = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    complaints = [2 if c else 0 for _, c, _ in customers]
    feats = pd.DataFrame({"customer_id": [f"c{i:03d}" for i in range(len(customers))],
                          "complaints_90d": complaints, "complaints_prev_90d": 0,
                          "sentiment_90d": np.nan, "sentiment_prev_90d": np.nan,
                          "backtest_complaints_90d": complaints, "backtest_complaints_prev_90d": 0,
                          "backtest_sentiment_90d": np.nan, "backtest_sentiment_prev_90d": np.nan,
                          "backtest_as_of": CAL})
    return tx, feats


PARAMS = warning_section(gap_factor=2.0, capacity=0.1, one_time_gap=10)  # 20 calls of 200


def gated_warning(tx, feats, backtest=True):
    """What notebook 06 does: compare at CAL, decide, then raise today's warning (at UNTIL)."""
    compared = None
    if backtest and churn.has_backtest_features(feats):
        compared = churn.backtest_comparison(tx, CAL, UNTIL, HORIZON, PARAMS,
                                             churn.interaction_signals(feats, prefix="backtest_"))
    decision = churn.ranking_decision(compared)
    today = feats if backtest else feats.drop(columns=[c for c in feats if c.startswith("backtest_")])
    warning = churn.transactional_warning(churn.warning_inputs(tx, UNTIL, HORIZON), PARAMS,
                                          churn.interaction_signals(today), ranking=decision["ranking"])
    plain = churn.transactional_warning(churn.warning_inputs(tx, UNTIL, HORIZON), PARAMS)
    return compared, decision, warning, plain


def test_signals_that_help_rerank_the_warning():
    # 20 regular customers complain and then lapse; of 30 quiet ones only 10 lapse
    spec = ([(False, False, True)] * 150 + [(False, True, False)] * 20
            + [(True, False, False)] * 10 + [(True, False, True)] * 20)
    compared, decision, warning, plain = gated_warning(*shop(spec))
    a, b = compared["purchases_only"], compared["with_interactions"]
    assert a["flagged"] == b["flagged"] == 20
    assert b["precision"] == 1.0 and a["precision"] <= 0.5
    assert decision["ranking"] == churn.WITH_INTERACTIONS and decision["why"] == "signals help"
    assert decision["precision_interactions"] == 1.0 and decision["interval"][0] > 0
    assert (warning["ranking"] == "purchases+interactions").all()
    complainers = warning["customer_id"].isin([f"c{i:03d}" for i in range(150, 170)])
    # today (at UNTIL) the complainers are overdue too; the signal puts all 20 of them first
    assert warning.loc[complainers, "warning"].all()
    assert warning.loc[complainers, "reason"].str.contains("rising complaints: 2 in the last 90 days").all()
    text = churn.narrative.ranking_note(decision)
    assert text.startswith("**Ranking: purchases + interaction signals.**") and "interval above zero" in text
    doc = churn.churn_metrics(None, churn.warning_metrics(warning, PARAMS), churn.warning_call_list(warning),
                              a, compared, decision)
    assert json.loads(json.dumps(doc))["warning_ranking"]["ranking"] == "purchases+interactions"


def test_signals_that_hurt_do_not_rerank_but_stay_as_reasons():
    # 20 regular customers complain and come back; the 30 quiet ones lapse, the 5 longest
    # gone of them complain too
    spec = ([(False, False, True)] * 150 + [(False, True, True)] * 20
            + [(True, False, False)] * 25 + [(True, True, False)] * 5)
    tx, feats = shop(spec)
    compared, decision, warning, plain = gated_warning(tx, feats)
    a, b = compared["purchases_only"], compared["with_interactions"]
    assert a["precision"] == 1.0 and b["precision"] == pytest.approx(5 / 20)
    assert decision["ranking"] == churn.PURCHASES and decision["why"] == "signals worse"
    assert decision["difference"] == pytest.approx(-0.75) and decision["interval"][1] < 0
    # the flags are exactly the purchase-only warning's
    assert warning["warning"].tolist() == plain["warning"].tolist()
    assert warning["candidate"].tolist() == plain["candidate"].tolist()
    assert (warning["ranking"] == "purchases").all()
    # ... and the warned complainers carry their signal as a reason
    quiet_complainers = warning["customer_id"].isin([f"c{i:03d}" for i in range(195, 200)])
    assert warning.loc[quiet_complainers, "warning"].all()
    assert warning.loc[quiet_complainers, "reason"].str.contains("rising complaints").all()
    regular_complainers = warning["customer_id"].isin([f"c{i:03d}" for i in range(150, 170)])
    assert not warning.loc[regular_complainers, "warning"].any()
    text = churn.narrative.ranking_note(decision)
    assert text.startswith("**Ranking: purchases alone.** In the backtest the signals were worse")
    assert "shown as reasons" in text
    # the decision is made on the backtest's numbers: the swaps say the same
    assert compared["swaps"]["moved_in_lapsed"] < compared["swaps"]["moved_out_lapsed"]


def test_without_backtest_columns_the_signals_do_not_rerank():
    spec = ([(False, False, True)] * 150 + [(False, True, False)] * 20
            + [(True, False, False)] * 10 + [(True, True, True)] * 20)
    tx, feats = shop(spec)
    compared, decision, warning, plain = gated_warning(tx, feats, backtest=False)
    assert compared is None
    assert decision["ranking"] == churn.PURCHASES and decision["why"] == "no backtest"
    assert decision["precision_purchases"] is None and decision["interval"] is None
    assert warning["warning"].tolist() == plain["warning"].tolist()
    warned_signal = warning["warning"] & warning["interaction_signal"]
    assert warned_signal.any() and warning.loc[warned_signal, "reason"].str.contains("rising complaints").all()
    text = churn.narrative.ranking_note(decision)
    assert "no evidence that the signals help" in text and "`backtest_`" in text
    json.dumps(decision)


@pytest.mark.parametrize(
    "a, b, ranking, why",
    [((10, 20), (19, 20), "purchases+interactions", "signals help"),
     ((10, 20), (12, 20), "purchases", "no clear gain"),
     ((10, 20), (10, 20), "purchases", "no clear gain"),
     ((15, 20), (5, 20), "purchases", "signals worse"),
     ((0, 0), (0, 0), "purchases", "nobody flagged")],
    ids=["clear-gain", "small-gain", "tie", "worse", "nobody-flagged"],
)
def test_ranking_decision_by_hand(a, b, ranking, why):
    comparison = {"purchases_only": {"flagged_lapsed": a[0], "flagged": a[1]},
                  "with_interactions": {"flagged_lapsed": b[0], "flagged": b[1]}}
    decision = churn.ranking_decision(comparison)
    assert (decision["ranking"], decision["why"]) == (ranking, why)
    assert decision["rule"] == churn.RANKING_RULE and decision["level"] == 0.95
    if a[1]:
        assert decision["difference"] == pytest.approx(b[0] / b[1] - a[0] / a[1])
        low, high = decision["interval"]
        assert low <= decision["difference"] <= high
    assert churn.narrative.ranking_note(decision).startswith("**Ranking:")


def test_ranking_decision_errors():
    with pytest.raises(ValueError, match="alpha"):
        churn.ranking_decision(None, alpha=1.5)
    with pytest.raises(ValueError, match="'with_interactions' needs"):
        churn.ranking_decision({"purchases_only": {"flagged": 5, "flagged_lapsed": 2}, "with_interactions": {}})
