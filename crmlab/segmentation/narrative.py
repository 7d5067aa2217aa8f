"""Every sentence the segmentation stage writes: takeaways, readings, notes, actions.

The computing modules return numbers; this module turns them into words a CRM team can act
on. Two traps of a segmentation read by people rather than by code are spelt out here:

- **A silhouette is not a grade** (:func:`k_search_reading`, on Kaufman & Rousseeuw's
  scale of :data:`crmlab.segmentation.cluster_count.SILHOUETTE_SCALE`).
- **A segment name is a promise.** The RFM map names cells ("Loyal", "At risk") by their
  *relative* scores; on a base where most customers have lapsed, the third recency
  quintile can be a year old, and "Loyal" then labels customers who stopped buying.
  :func:`segment_name_check` compares what each name claims with the segment's own
  profile (lifecycle stage shares judged by each customer's rhythm, share of one-time
  buyers) and says when the name overstates them, and what the data would call them.

Three different spends are called "monetary" in the literature; this package keeps
them apart by name (:data:`SPEND_MEASURES`). The recommended actions per segment, tier and
profile, which the stage's tables carry, are :mod:`crmlab.segmentation.playbook`.

References
----------
Kaufman, L. & Rousseeuw, P. J. (1990). Finding Groups in Data. Wiley, p. 88.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import InputError, require_columns
from crmlab.formatting import format_money
from crmlab.segmentation.cluster_count import silhouette_strength, silhouette_ties
from crmlab.segmentation.common import NEW_CUSTOMER
from crmlab.segmentation.migration import transition_summary

__all__ = [
    "SPEND_MEASURES",
    "SEGMENT_CLAIMS",
    "segment_name_check",
    "segment_labels",
    "reading_segment_names",
    "k_search_note",
    "k_search_reading",
    "describe_transitions",
    "observation_source",
    "dynamic_view_note",
    "customer_base_note",
    "score_note",
    "rfm_grid_takeaway",
    "segment_sizes_takeaway",
    "stability_takeaway",
    "cluster_profiles_takeaway",
    "projection_takeaway",
    "lorenz_takeaway",
    "tiers_takeaway",
    "lifecycle_takeaway",
    "transitions_takeaway",
    "moved_down_note",
    "product_note",
]

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


# --- clusters -------------------------------------------------------------------------------------

def k_search_note(search: pd.DataFrame, k: int | None = None) -> str:
    """One sentence for the notebook: how k was chosen and on how many customers.

    Parameters
    ----------
    search : DataFrame
        Output of :func:`crmlab.segmentation.k_search`.
    k : int, optional
        The fixed ``segmentation.k``, if any.
    """
    if k is not None:
        return (f"k = {int(k)} is fixed in the params (segmentation.k), so the k search "
                "did not run.")
    if search.empty:
        return "No k could be searched."
    used, total = int(search["customers"].iloc[0]), int(search["of_customers"].iloc[0])
    if used < total:
        return (f"Every k was fitted and scored on a sample of {used:,} of the {total:,} "
                "customers drawn with segmentation.seed (enough to choose k; all customers "
                "are clustered below).")
    return f"Every k was fitted and scored on all {total:,} customers."


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


def stability_takeaway(stability: pd.DataFrame) -> str:
    """Say how well the bootstrap refits of :func:`crmlab.segmentation.cluster_stability` agree."""
    if not len(stability):
        return "stability was not checked (segmentation.bootstrap = 0)."
    ari = stability["ari"]
    verdict = ("the clusters are stable." if ari.min() >= 0.9
               else "some refits disagree; treat the borders as soft.")
    return (f"over {len(stability)} bootstrap refits the mean ARI is {ari.mean():.3f} "
            f"(lowest {ari.min():.3f}): {verdict}")


def cluster_profiles_takeaway(profiles: pd.DataFrame, currency: str) -> str:
    """Cluster 0 (the highest mean spend) in one sentence."""
    best = profiles.iloc[0]
    return (
        f"cluster 0, *{best.cluster_name}*, is {best.customer_share:.0%} of customers and "
        f"brings {best.revenue_share:.0%} of revenue (mean total spend "
        f"{format_money(best.mean_total_spend, currency)} per customer)."
    )


def projection_takeaway(explained: np.ndarray) -> str:
    """How faithful the two-component picture is."""
    return (
        f"two principal components keep {explained.sum():.0%} of the variation of the three "
        "features, so this flat picture is faithful; the clusters are slices of one "
        "continuous cloud rather than islands, which is why their borders matter less than "
        "their profiles."
    )


# --- the customer base, RFM ----------------------------------------------------------------------


def observation_source(date: pd.Timestamp, from_params: bool) -> str:
    """Say where the as-of date came from (:func:`crmlab.segmentation.observation_date`)."""
    if from_params:
        return f"periods.observation_end = {date:%Y-%m-%d}"
    return (f"the last transaction date, {date:%Y-%m-%d} "
            "(periods.observation_end is not set in the params)")


def customer_base_note(summary: pd.DataFrame, source: str, as_of_source: str) -> str:
    """Describe the customer base: how many, from what, observed when."""
    return (
        f"**{len(summary):,} customers** of {source} from {summary['orders'].sum():,} clean "
        f"transactions, observed on {as_of_source}. {(summary['frequency'] == 0).mean():.0%} "
        "of them bought on a single day only; the median customer last bought "
        f"{summary['days_since_last'].median():.0f} days before the as-of date."
    )


def score_note(scores: pd.DataFrame) -> str:
    """Name the empty scores of :func:`crmlab.segmentation.score_distribution` (ties kept)."""
    empty = [f"{col} {i}" for col in scores.columns for i in scores.index
             if scores.at[i, col] == 0]
    return "Customers per score. " + (
        f"Empty because ties are kept together: {', '.join(empty)}." if empty
        else "Every score is used.")


def rfm_grid_takeaway(grid: pd.DataFrame, names: pd.DataFrame, r_days: Mapping[int, str]) -> str:
    """Name the busiest cell of the RFM map, and what R = 3 means in days."""
    top_cell = grid.stack().idxmax()
    r3 = (f": R = 3 is {r_days[3].split(' ', 1)[1].strip('()')} since the last purchase."
          if 3 in r_days else ".")
    return (
        f"the busiest cell is R = {top_cell[0]}, FM = {top_cell[1]} "
        f"(*{names.loc[top_cell]}*, {grid.stack().max():,} customers); read the map as a "
        "ladder: up means more recent, right means more frequent and bigger spending. The "
        "days on the left are what each R score means here" + r3
    )


def segment_sizes_takeaway(profiles: pd.DataFrame) -> str:
    """Compare the first segment's share of customers with its share of revenue."""
    first = profiles.set_index("rfm_segment").iloc[0]
    return (
        f"*{first.name}* are {first.customer_share:.0%} of customers and make "
        f"{first.revenue_share:.0%} of revenue; the gap between the grey and the blue bar is "
        "where the money is (or is not). A name followed by *(in fact: ...)* overstates its "
        "customers — see below."
    )


# --- value tiers, lifecycle ---------------------------------------------------------------------


def lorenz_takeaway(conc: Any) -> str:
    """State the top share and the Gini of a :class:`crmlab.segmentation.Concentration`."""
    return (
        f"the top {conc.top:.0%} of customers make **{conc.top_share:.0%}** of revenue "
        f"(Gini {conc.gini:.2f})"
        + (f"; {conc.clipped:,} customers with net refunds were counted as zero."
           if conc.clipped else ".")
    )


def tiers_takeaway(tiers: pd.DataFrame, currency: str) -> str:
    """Say what the high tier is worth, from :func:`crmlab.segmentation.tier_table`."""
    high = tiers.set_index("value_tier").loc["high"]
    return (
        f"{int(high.customers):,} high-tier customers ({high.customer_share:.0%}) make "
        f"{high.revenue_share:.0%} of revenue, with a mean total spend of "
        f"{format_money(high.mean_spend, currency)}: losing one of them costs as much as "
        "losing many low-tier customers."
    )


def lifecycle_takeaway(life: pd.DataFrame, fallback_gap: float | None) -> str:
    """Count customers per stage, the high-tier ones at risk; name the one-time buyers' yardstick.

    ``fallback_gap`` is the typical gap given to one-time buyers (None when there are none).
    """
    return (
        f"{life.loc['active'].sum():,} customers are active, {life.loc['at risk'].sum():,} "
        f"at risk and {life.loc['lapsed'].sum():,} lapsed; the "
        f"{int(life.at['at risk', 'high']):,} *high-tier customers at risk* are the first "
        "call list. "
        + (f"One-time buyers were measured against the median gap of {fallback_gap:.0f} days."
           if fallback_gap is not None else "")
    )


# --- migration ----------------------------------------------------------------------------------

def describe_transitions(counts: pd.DataFrame, groups: Sequence[str] | None = None) -> str:
    """One sentence per earlier group: share that stayed and the main other destination.

    Parameters
    ----------
    counts : DataFrame
        A :func:`crmlab.segmentation.transition_matrix` of counts (empty when there was no
        earlier date).
    groups : sequence of str, optional
        Groups to describe (those without customers are skipped); default all.

    Returns
    -------
    str
        Markdown text for a notebook takeaway.

    Raises
    ------
    InputError
        As :func:`transition_summary`.
    """
    if counts.empty:
        return "there is no earlier date to compare with."
    summ = transition_summary(counts)
    if groups is not None and summ["group"].isin(list(groups)).any():
        summ = summ[summ["group"].isin(list(groups))]
    parts = []
    for r in summ.itertuples(index=False):
        move = (f"{r.main_move_share:.0%} moved to *{r.main_move}*" if pd.notna(r.main_move)
                else "nobody moved")
        if r.group == NEW_CUSTOMER:
            parts.append(f"of the {r.customers:,} new customers, {r.main_move_share:.0%} "
                         f"arrived as *{r.main_move}*")
        else:
            parts.append(f"of the {r.customers:,} *{r.group}*, {r.stayed:.0%} stayed and {move}")
    return "; ".join(parts) + "." if parts else "no customers to compare."


def dynamic_view_note(before_date: pd.Timestamp | None, after_date: pd.Timestamp | None = None,
                      before: int = 0, after: int = 0, new: int = 0, down: int = 0) -> str:
    """Say what :func:`crmlab.segmentation.dynamic_view` compared, or why nothing was."""
    if before_date is None:
        return ("No periods.calibration_end is set, so there is no earlier date to compare "
                "with: set it in the params to see how customers moved.")
    return (
        f"Segments at {before_date:%Y-%m-%d} ({before:,} customers) compared with "
        f"{after_date:%Y-%m-%d} ({after:,} customers, {new:,} of them new since); "
        f"{down:,} customers moved down a value tier."
    )


# the groups each transition takeaway describes, and what it adds
_TRANSITION_READINGS = {
    "value_tier": (("high", "medium"), ""),
    "lifecycle_stage": (("at risk", "lapsed"),
                        " The share that came back to *active* without help is the bar a "
                        "win-back campaign has to beat."),
    "rfm_segment": (("Champions", "At risk", "Cannot lose"), " Empty cells are moves nobody made."),
}


def transitions_takeaway(counts: pd.DataFrame, col: str) -> str:
    """Write the takeaway of the transition matrix of ``col``: who stayed, where others went."""
    groups, tail = _TRANSITION_READINGS.get(col, (None, ""))
    return describe_transitions(counts, groups) + tail


def moved_down_note(down: pd.DataFrame, currency: str) -> str:
    """Sum up the retention list in one sentence (:func:`crmlab.segmentation.moved_down`)."""
    if not len(down):
        return f"**{len(down):,} customers moved down a tier**."
    idle = (down["total_spend_after"] == down["total_spend_before"]).mean()
    return (
        f"**{len(down):,} customers moved down a tier**; together they had spent "
        f"{format_money(down['total_spend_before'].sum(), currency)} by the earlier date, "
        f"and {idle:.0%} of them have not bought since."
    )


def product_note(file_name: str, product: pd.DataFrame) -> str:
    """Say what the stage wrote."""
    return f"Wrote `{file_name}`: {len(product):,} customers × {product.shape[1]} columns."
