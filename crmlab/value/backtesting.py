"""Rolling-origin backtest: the whole value procedure at several month-end cut-offs.

One holdout is one draw. :func:`backtest` repeats :func:`~crmlab.value.forecast.predict_holdout`
at each cut-off, from the rows up to it only, and scores it on its own holdout, so that
one split is not mistaken for the truth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.value.features import _DAY, _ts, holdout_actuals
from crmlab.value.forecast import ValueResult, predict_holdout
from crmlab.value.metrics import score_models
from crmlab.value.models import MODELS

__all__ = ["backtest_origins", "backtest", "backtest_summary", "backtest_rank_wins"]


def backtest_origins(first_date: Any, observation_end: Any, n: int, step_months: int,
                     min_holdout_days: int) -> list[pd.Timestamp]:
    """Month-end cut-offs for the backtest, earliest first.

    The latest is the last month-end at least ``min_holdout_days`` before
    ``observation_end``; the others are ``step_months`` apart before it. Cut-offs less
    than 90 days after the first purchase are dropped (no history to learn from).

    Raises
    ------
    InputError
        When ``n`` is negative, ``step_months`` < 1, or no cut-off fits.
    """
    if n < 0 or step_months < 1:
        raise InputError("value.backtest_origins must be >= 0 and value.backtest_step_months >= 1")
    if n == 0:
        return []
    first, obs = _ts(first_date, "first_date"), _ts(observation_end, "observation_end")
    last = (obs - min_holdout_days * _DAY + pd.offsets.MonthEnd(0)).normalize()
    if last > obs - min_holdout_days * _DAY:
        last = (last - pd.offsets.MonthEnd(1)).normalize()
    out = [(last - pd.offsets.MonthEnd(step_months * k)).normalize() for k in range(n)]
    out = sorted(o for o in out if o >= first + 90 * _DAY)
    if not out:
        raise InputError(
            f"value.backtest_origins: no month-end cut-off leaves {min_holdout_days} days before "
            f"observation_end ({obs.date()}) and 90 days of history; set value.backtest_origins: 0"
        )
    return out


def backtest(
    transactions: pd.DataFrame,
    observation_end: Any,
    origins: Sequence[Any],
    value: Mapping[str, Any],
    cache: dict | None = None,
    known: Mapping[pd.Timestamp, ValueResult] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling-origin backtest: the whole value procedure at each cut-off, scored on its own holdout.

    At each origin ``c`` the models are fitted, chosen and tuned exactly as
    :func:`predict_holdout` does at ``calibration_end`` (from the rows up to ``c`` only)
    and scored on ``(c, observation_end]`` against the customers first seen by ``c``.

    Parameters
    ----------
    transactions : DataFrame
        Clean transactions.
    observation_end : date-like
        End of every holdout.
    origins : sequence of date-like
        The calibration cut-offs (see :func:`backtest_origins`).
    value : mapping
        The params ``value`` block.
    cache : dict, optional
        Benchmark fits shared across origins.
    known : mapping, optional
        Results already computed (origin -> :class:`ValueResult`), reused.

    Returns
    -------
    (DataFrame, DataFrame)
        Rows of ``origin``, ``model``, ``mae``, ``rmse``, ``spearman``,
        ``top_decile_share``, ``aggregate_error``, ``chosen`` (bool), ``customers``,
        ``holdout_days``; and one row per origin: ``origin``, ``chosen``, ``glm_weight``,
        ``benchmark_error`` (None when the benchmark converged).

    Raises
    ------
    InputError
        As :func:`predict_holdout`, naming the origin.
    """
    obs = _ts(observation_end, "observation_end")
    known = dict(known or {})
    rows, info = [], []
    for origin in origins:
        c = _ts(origin, "backtest origin")
        try:
            res = known.get(c) or predict_holdout(transactions, c, obs, value, cache)
        except InputError as exc:
            raise InputError(f"value backtest at {c.date()}: {exc}") from None
        act = holdout_actuals(transactions, c, obs)
        preds = {m: res.predictions[f"pred_{m}"].to_numpy() for m in MODELS}
        scores = score_models(act["actual_holdout_value"].to_numpy(), preds).reset_index()
        scores.insert(0, "origin", c)
        scores["chosen"] = scores["model"] == res.chosen
        scores["customers"] = len(act)
        scores["holdout_days"] = int((obs - c).days)
        rows.append(scores)
        info.append({"origin": c, "chosen": res.chosen, "glm_weight": res.glm_weight,
                     "benchmark_error": res.benchmark_error})
    return pd.concat(rows, ignore_index=True), pd.DataFrame(info)


def backtest_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per origin: the chosen model against the benchmark.

    Returns
    -------
    DataFrame
        ``origin``, ``chosen``, and for each of ``rmse``, ``spearman``,
        ``top_decile_share``, ``aggregate_error`` the chosen model's and the benchmark's
        value (``<metric>_chosen``, ``<metric>_benchmark``), plus ``rmse_ratio``.

    Raises
    ------
    InputError
        Missing column.
    """
    require_columns(table, ["origin", "model", "chosen", "rmse", "spearman", "top_decile_share",
                            "aggregate_error"], "backtest")
    ch = table[table["chosen"]].set_index("origin")
    bm = table[table["model"] == "bgnbd_gg"].set_index("origin").reindex(ch.index)
    out = pd.DataFrame({"chosen": ch["model"]})
    for m in ("rmse", "spearman", "top_decile_share", "aggregate_error"):
        out[f"{m}_chosen"] = ch[m]
        out[f"{m}_benchmark"] = bm[m]
    out["rmse_ratio"] = out["rmse_chosen"] / out["rmse_benchmark"]
    return out.reset_index()


def backtest_rank_wins(summary: pd.DataFrame) -> tuple[int, int]:
    """Count the cut-offs where the chosen model ranks customers at least as well as the benchmark.

    "At least as well" is on both Spearman and top-decile share; cut-offs where the
    benchmark failed are not compared.

    Parameters
    ----------
    summary : DataFrame
        :func:`backtest_summary` output.

    Returns
    -------
    (int, int)
        The cut-offs won and the cut-offs compared.

    Raises
    ------
    InputError
        Missing column.
    """
    require_columns(summary, ["rmse_benchmark", "spearman_chosen", "spearman_benchmark",
                              "top_decile_share_chosen", "top_decile_share_benchmark"], "backtest summary")
    ok = summary.dropna(subset=["rmse_benchmark"])
    wins = ((ok["spearman_chosen"] >= ok["spearman_benchmark"])
            & (ok["top_decile_share_chosen"] >= ok["top_decile_share_benchmark"]))
    return int(wins.sum()), len(ok)
