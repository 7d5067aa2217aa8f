"""What the segmentation numbers mean, in words a CRM team can act on.

Two traps of a segmentation read by people rather than by code:

- **A silhouette is not a grade.** Kaufman & Rousseeuw (1990, p. 88) read the mean
  silhouette as: above 0.70 a *strong* structure, 0.51-0.70 a *reasonable* one, 0.26-0.50
  a *weak* structure "that could be artificial", 0.25 or below *no substantial* structure.
  Two values of k whose silhouettes differ by less than ``tie_tolerance`` are a tie: the
  silhouette is estimated on a sample of customers, and the difference says nothing about
  which k is better (:func:`k_search_reading`).
- **A segment name is a promise.** The RFM map names cells ("Loyal", "At risk") by their
  *relative* scores; on a base where most customers have lapsed, the third recency
  quintile can be a year old, and "Loyal" then labels customers who stopped buying.
  :func:`segment_name_check` compares what each name claims with the segment's own
  profile (lifecycle stage shares judged by each customer's rhythm, share of one-time
  buyers) and says when the name overstates them, and what the data would call them.

Three different spends are called "monetary" in the literature; this package keeps
them apart by name (:data:`SPEND_MEASURES`).

References
----------
Kaufman, L. & Rousseeuw, P. J. (1990). Finding Groups in Data. Wiley, p. 88.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns

__all__ = [
    "SILHOUETTE_SCALE",
    "SPEND_MEASURES",
    "SEGMENT_CLAIMS",
    "silhouette_strength",
    "silhouette_ties",
    "k_search_reading",
    "segment_name_check",
    "segment_labels",
    "reading_segment_names",
    "align_transitions",
    "score_ranges",
    "PROFILE_ACTIONS",
    "checked_actions",
]

# (lower bound exclusive, label), best first: Kaufman & Rousseeuw (1990), p. 88.
SILHOUETTE_SCALE: tuple[tuple[float, str], ...] = (
    (0.70, "strong"),
    (0.50, "reasonable"),
    (0.25, "weak"),
    (-math.inf, "no substantial"),
)

# The three spends that are all called "monetary" somewhere: column -> what it is.
SPEND_MEASURES: dict[str, str] = {
    "total_spend": "total spend to date (RFM's M score ranks it)",
    "spend_per_line": "spend per order line (the clustering's spend feature)",
    "monetary_value": "mean spend of the repeat purchase days (the BTYD / Gamma-Gamma input)",
}

# What the default RFM segment names promise. ``status``: "current" (still buying: new or
# active by their own rhythm), "slipping" (at risk, not yet lapsed) or "gone" (at risk or
# lapsed); ``repeat``: True when the name promises repeat buyers.
SEGMENT_CLAIMS: dict[str, dict[str, Any]] = {
    "Champions": {"status": "current", "repeat": True},
    "Loyal": {"status": "current", "repeat": True},
    "Potential loyalist": {"status": "current", "repeat": False},
    "New": {"status": "current", "repeat": False},
    "Promising": {"status": "current", "repeat": False},
    "Need attention": {"status": "slipping", "repeat": False},
    "About to sleep": {"status": "slipping", "repeat": False},
    "At risk": {"status": "slipping", "repeat": False},
    "Cannot lose": {"status": "gone", "repeat": True},
    "Hibernating": {"status": "gone", "repeat": False},
    "Lost": {"status": "gone", "repeat": False},
}
_STATUS_WORDS = {
    "current": "customers who still buy",
    "slipping": "customers who are slipping but have not lapsed yet",
    "gone": "customers who stopped buying",
}


def silhouette_strength(silhouette: float) -> str:
    """Read a mean silhouette on Kaufman & Rousseeuw's scale.

    Parameters
    ----------
    silhouette : float
        Mean silhouette, -1..1.

    Returns
    -------
    str
        ``"strong"`` (> 0.70), ``"reasonable"`` (0.51-0.70), ``"weak"`` (0.26-0.50) or
        ``"no substantial"`` (<= 0.25) — followed in text by "structure".

    Raises
    ------
    InputError
        For a missing value or one outside -1..1.
    """
    try:
        s = float(silhouette)
    except (TypeError, ValueError):
        raise InputError(f"silhouette: {silhouette!r} is not a number") from None
    if math.isnan(s) or not -1.0 <= s <= 1.0:
        raise InputError(f"silhouette: {silhouette!r} is not between -1 and 1")
    for bound, label in SILHOUETTE_SCALE:
        if s > bound:
            return label
    return SILHOUETTE_SCALE[-1][1]  # pragma: no cover - the last bound is -inf


def silhouette_ties(search: pd.DataFrame, k: int, tolerance: float = 0.01) -> list[int]:
    """List the other k whose silhouette is within ``tolerance`` of k's (a tie), nearest first.

    Parameters
    ----------
    search : DataFrame
        :func:`crmlab.segmentation.k_search` output (``k``, ``silhouette``).
    k : int
        The k compared with the others (usually the chosen one).
    tolerance : float
        Largest difference that is still a tie (absolute silhouette units). The default
        0.01 is about twice the sampling noise: on CDNOW, the k = 3 and k = 4 silhouettes
        on ten different seeded samples of 5,000 customers have a standard deviation of
        0.005 each.

    Returns
    -------
    list of int

    Raises
    ------
    InputError
        On a missing column, a negative tolerance or a k that is not in the search.
    """
    require_columns(search, ["k", "silhouette"], "k search")
    if tolerance < 0:
        raise InputError(f"silhouette tie tolerance must be >= 0, got {tolerance}")
    table = search.dropna(subset=["silhouette"]).set_index("k")["silhouette"]
    if k not in table.index:
        raise InputError(f"k search: k = {k} was not scored (scored: {list(table.index)})")
    gap = (table.drop(index=k) - table[k]).abs()
    # a tiny epsilon so that a gap of exactly `tolerance` in decimal counts as a tie
    close = gap[gap <= tolerance + 1e-12]
    return [int(x) for x in close.sort_values(kind="stable").index]


def k_search_reading(search: pd.DataFrame, chosen: int, fixed: bool = False,
                     tolerance: float = 0.01) -> str:
    """One paragraph on the k search: the chosen k, its silhouette read on K&R's scale, ties.

    Parameters
    ----------
    search : DataFrame
        :func:`crmlab.segmentation.k_search` output (``k``, ``silhouette``,
        ``calinski_harabasz``).
    chosen : int
        The k in use.
    fixed : bool
        True when k was fixed in the params rather than chosen by the search.
    tolerance : float
        See :func:`silhouette_ties`.

    Returns
    -------
    str
        Markdown.

    Raises
    ------
    InputError
        As :func:`silhouette_ties`.
    """
    require_columns(search, ["k", "silhouette", "calinski_harabasz"], "k search")
    sil = search.dropna(subset=["silhouette"]).set_index("k")
    if chosen not in sil.index:
        raise InputError(f"k search: k = {chosen} was not scored (scored: {list(sil.index)})")
    s = float(sil.at[chosen, "silhouette"])
    strength = silhouette_strength(s)
    how = "fixed in the params" if fixed else "the best silhouette of the search"
    text = (
        f"We use **k = {chosen}** ({how}): mean silhouette {s:.3f}, a **{strength} "
        "structure** on Kaufman & Rousseeuw's scale (above 0.70 strong, 0.51–0.70 "
        "reasonable, 0.26–0.50 weak, 0.25 or below none)."
    )
    if strength in ("weak", "no substantial"):
        text += (" The clusters are slices of one continuous cloud of customers, not natural "
                 "groups: use them as profiles, and do not expect their borders to mean much.")
    ties = silhouette_ties(search, chosen, tolerance)
    if ties:
        others = ", ".join(f"k = {t} ({sil.at[t, 'silhouette']:.3f})" for t in ties)
        ch_best = int(sil.loc[[chosen, *ties], "calinski_harabasz"].idxmax())
        text += (
            f" **A tie:** {others} {'is' if len(ties) == 1 else 'are'} within {tolerance:g} "
            "of it — a difference the "
            "silhouette, estimated on a sample of customers, cannot tell apart."
        )
        if not fixed and ch_best != chosen:
            text += (
                f" Among the tied values Calinski–Harabasz prefers k = {ch_best}; the search "
                f"kept k = {chosen} by the last digits. Either is defensible: pick the one whose "
                "profiles the team can act on (or fix `segmentation.k`)."
            )
    return text


# --- do the segment names fit? -----------------------------------------------------------------


def _majority_status(row: Any) -> str:
    shares = {"active": row.current_share, "at risk": row.at_risk_share, "lapsed": row.lapsed_share}
    status, share = max(shares.items(), key=lambda kv: kv[1])
    return f"mostly {status}" if share > 0.5 else "mixed"


def segment_name_check(profiles: pd.DataFrame,
                       claims: Mapping[str, Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """Compare what each segment's name promises with the segment's own profile.

    A name promising customers who still buy (*Champions*, *Loyal*, ...) is contradicted
    when more than half of its customers have **lapsed** by their own rhythm; one promising
    customers who are slipping but still here (*At risk*, *About to sleep*, *Need
    attention*) when more than half have lapsed or more than half are still active; one
    promising customers who stopped (*Hibernating*, *Lost*, *Cannot lose*) when more than
    half are active; one promising repeat buyers (*Champions*, *Loyal*, *Cannot lose*)
    when more than half bought on one day only.

    Parameters
    ----------
    profiles : DataFrame
        :func:`crmlab.segmentation.segment_profiles` of ``rfm_segment`` on customers with
        ``lifecycle_stage``: columns ``rfm_segment``, ``customers``,
        ``mean_days_since_last``, ``current_share`` (new or active), ``at_risk_share``,
        ``lapsed_share``, ``one_time_share``.
    claims : mapping, optional
        Segment name -> ``{"status": "current" | "slipping" | "gone", "repeat": bool}``;
        default :data:`SEGMENT_CLAIMS`. Names without a claim are not checked.

    Returns
    -------
    DataFrame
        ``rfm_segment``, ``profile`` (what the data would call the segment, e.g. "mostly
        lapsed repeat buyers"), ``fits`` (bool; True when the name makes no claim) and
        ``warning`` (one sentence, empty when the name fits).

    Raises
    ------
    InputError
        On a missing column or a claim with an unknown status.
    """
    need = ["rfm_segment", "customers", "mean_days_since_last", "current_share",
            "at_risk_share", "lapsed_share", "one_time_share"]
    require_columns(profiles, need, "segment profiles")
    claims = SEGMENT_CLAIMS if claims is None else claims
    rows = []
    for r in profiles.itertuples(index=False):
        buyers = "one-time buyers" if r.one_time_share > 0.5 else "repeat buyers"
        profile = f"{_majority_status(r)} {buyers}"
        claim = claims.get(str(r.rfm_segment))
        problems = []
        if claim is not None:
            status = claim.get("status")
            if status not in _STATUS_WORDS:
                raise InputError(f"segment claims: {r.rfm_segment!r} has unknown status {status!r}")
            if status == "current" and r.lapsed_share > 0.5:
                problems.append(f"{r.lapsed_share:.0%} of them have lapsed")
            elif status == "slipping" and r.lapsed_share > 0.5:
                problems.append(f"{r.lapsed_share:.0%} of them have already lapsed")
            elif status == "slipping" and r.current_share > 0.5:
                problems.append(f"{r.current_share:.0%} of them are still active")
            elif status == "gone" and r.current_share > 0.5:
                problems.append(f"{r.current_share:.0%} of them are still active")
            if claim.get("repeat") and r.one_time_share > 0.5:
                problems.append(f"{r.one_time_share:.0%} bought on one day only")
        warning = ""
        if problems:
            promise = _STATUS_WORDS[claim["status"]]
            if claim.get("repeat"):
                promise = promise.replace("customers", "repeat customers", 1)
            warning = (
                f"'{r.rfm_segment}' suggests {promise}, but {' and '.join(problems)} "
                f"(mean {r.mean_days_since_last:,.0f} days since the last purchase, "
                f"{int(r.customers):,} customers): read it as **{profile}**."
            )
        rows.append((str(r.rfm_segment), profile, not problems, warning))
    return pd.DataFrame(rows, columns=["rfm_segment", "profile", "fits", "warning"])


def segment_labels(check: pd.DataFrame) -> dict[str, str]:
    """Figure labels: the segment name, with what the data says when the name overstates.

    Parameters
    ----------
    check : DataFrame
        :func:`segment_name_check` output.

    Returns
    -------
    dict
        Segment -> label, e.g. ``{"Loyal": "Loyal (in fact: mostly lapsed repeat buyers)"}``.

    Raises
    ------
    InputError
        On a missing column.
    """
    require_columns(check, ["rfm_segment", "profile", "fits"], "segment name check")
    return {
        r.rfm_segment: r.rfm_segment if r.fits else f"{r.rfm_segment} (in fact: {r.profile})"
        for r in check.itertuples(index=False)
    }


def reading_segment_names(check: pd.DataFrame) -> str:
    """One Markdown paragraph: which segment names overstate their customers, or none.

    Raises
    ------
    InputError
        On a missing column.
    """
    require_columns(check, ["rfm_segment", "fits", "warning"], "segment name check")
    bad = check.loc[~check["fits"].astype(bool)]
    if bad.empty:
        return "Every segment's name fits its customers' recency and repeat buying."
    lead = (
        f"**{len(bad)} segment name(s) overstate their customers.** RFM scores are ranks "
        "within this customer base, so on a base where most customers have stopped buying "
        "even a middle recency score can be months old: "
    )
    return lead + " ".join(np.asarray(bad["warning"], dtype=str))


def align_transitions(matrix: pd.DataFrame, new_row: str = "new (not yet customer)") -> pd.DataFrame:
    """Reorder a transition matrix so that cell (i, i) is "stayed in group i".

    :func:`crmlab.segmentation.transition_matrix` puts the row of customers who were not
    customers yet first, which shifts every later row by one against the columns: drawn as
    it is, the visual diagonal is not the "stayed" diagonal. This puts the groups present
    both as a row and as a column first, in the columns' order, then every other row
    (``new_row`` last); the columns keep their order.

    Parameters
    ----------
    matrix : DataFrame
        Counts or shares, rows = group before, columns = group after.
    new_row : str
        Label of the row of newcomers (:data:`crmlab.segmentation.NEW_CUSTOMER`).

    Returns
    -------
    DataFrame
        The same cells, rows reordered.

    Raises
    ------
    InputError
        When ``matrix`` is not a DataFrame.
    """
    if not isinstance(matrix, pd.DataFrame):
        raise InputError(f"transitions: expected a DataFrame, got {type(matrix).__name__}")
    both = [c for c in matrix.columns if c in matrix.index]
    rest = [r for r in matrix.index if r not in both and r != new_row]
    tail = [new_row] if new_row in matrix.index else []
    return matrix.loc[both + rest + tail]


def score_ranges(customers: pd.DataFrame, score: str = "r_score", value: str = "days_since_last",
                 unit: str = "days") -> dict[int, str]:
    """Label each score with the range of the raw value behind it: ``{3: "3 (231–389 days)"}``.

    RFM scores are ranks: what R = 3 means in days depends on the customer base. Putting
    the range on the axis lets the reader see that, for example, a "middle" recency score
    can mean a year without a purchase.

    Parameters
    ----------
    customers : DataFrame
        Columns ``score`` (integer scores) and ``value``.
    score, value : str
        The score column and the raw column it ranks.
    unit : str
        Unit words after the range.

    Returns
    -------
    dict
        Score -> label, for the scores present (empty scores are left out).

    Raises
    ------
    InputError
        On a missing column.
    """
    require_columns(customers, [score, value], "customers")
    g = customers.groupby(score, sort=True)[value].agg(["min", "max"])
    return {int(s): f"{int(s)} ({r['min']:,.0f}–{r['max']:,.0f} {unit})" for s, r in g.iterrows()}


# What to do with a segment whose name overstates it, by what the data says it is.
PROFILE_ACTIONS: dict[str, str] = {
    "mostly lapsed repeat buyers": (
        "Win back: a personal reminder and an offer built on what they used to buy. They "
        "have stopped buying, so upselling or 'before they slip' offers come too late."),
    "mostly lapsed one-time buyers": (
        "Cheap reactivation only (e-mail, a modest incentive); do not spend on them what a "
        "repeat buyer is worth."),
    "mostly at risk repeat buyers": (
        "Contact now, before they lapse: a reminder timed to their own buying rhythm."),
    "mostly at risk one-time buyers": (
        "A low-cost reminder now; most one-time buyers do not come back on their own."),
    "mostly active repeat buyers": (
        "They are still buying: keep them by their spend and rhythm, not as lost customers."),
    "mostly active one-time buyers": (
        "Recent first-time buyers: onboarding towards the second purchase."),
}


def checked_actions(profiles: pd.DataFrame, check: pd.DataFrame) -> pd.DataFrame:
    """Replace the action of each segment whose name overstates it by the action its data calls for.

    A table that warns "'Loyal' is mostly lapsed" and still recommends "upsell, invite to
    the loyalty programme" says two things; this says one, the true one.

    Parameters
    ----------
    profiles : DataFrame
        :func:`crmlab.segmentation.segment_profiles` output with ``rfm_segment`` and
        ``action``.
    check : DataFrame
        :func:`segment_name_check` of the same profiles.

    Returns
    -------
    DataFrame
        A copy of ``profiles`` with ``profile`` (what the data calls the segment) and
        ``action`` replaced from :data:`PROFILE_ACTIONS` where the name does not fit (kept
        when the profile is mixed, i.e. no majority).

    Raises
    ------
    InputError
        On a missing column or a segment of ``profiles`` absent from ``check``.
    """
    require_columns(profiles, ["rfm_segment", "action"], "segment profiles")
    require_columns(check, ["rfm_segment", "profile", "fits"], "segment name check")
    c = check.set_index("rfm_segment")
    absent = sorted(set(profiles["rfm_segment"].astype(str)) - set(c.index))
    if absent:
        raise InputError(f"segment name check: no row for {absent}")
    out = profiles.copy()
    seg = out["rfm_segment"].astype(str)
    out["profile"] = seg.map(c["profile"]).to_numpy()
    wrong = ~seg.map(c["fits"]).astype(bool)
    better = out["profile"].map(PROFILE_ACTIONS)
    replace = wrong & better.notna()
    out.loc[replace, "action"] = better[replace]
    return out
