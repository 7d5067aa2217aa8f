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
from crmlab.i18n import EN, Catalog
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
    "profile_text",
    "strength_word",
    "cluster_names",
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

# a profile (the canonical English of segment_name_check's ``profile`` column) -> its keys
_PROFILE_STATUS = {"mostly active": "active", "mostly at risk": "at_risk",
                   "mostly lapsed": "lapsed", "mixed": "mixed"}
_PROFILE_BUYERS = {"one-time buyers": "one_time", "repeat buyers": "repeat"}


def _profile_parts(profile: str) -> tuple[str, str] | None:
    """Return the status and buyers keys of a canonical profile, None for an unknown text."""
    for status, skey in _PROFILE_STATUS.items():
        for buyers, bkey in _PROFILE_BUYERS.items():
            if profile == f"{status} {buyers}":
                return skey, bkey
    return None


def profile_text(profile: str, tr: Catalog = EN) -> str:
    """Write a profile of :func:`segment_name_check` (``"mostly lapsed ..."``) in ``tr``'s words.

    The ``profile`` column keeps the English text (it is a code: :data:`PROFILE_ACTIONS`
    is keyed by it); this is its display text. Unknown texts pass through.
    """
    parts = _profile_parts(str(profile))
    if parts is None:
        return str(profile)
    return tr("segmentation.profile.text", status=tr(f"segmentation.profile.status.{parts[0]}"),
              buyers=tr(f"segmentation.profile.buyers.{parts[1]}"))


# --- do the segment names fit? -----------------------------------------------------------------


def _majority_status(row: Any) -> str:
    shares = {"active": row.current_share, "at risk": row.at_risk_share, "lapsed": row.lapsed_share}
    status, share = max(shares.items(), key=lambda kv: kv[1])
    return f"mostly {status}" if share > 0.5 else "mixed"


def segment_name_check(profiles: pd.DataFrame,
                       claims: Mapping[str, Mapping[str, Any]] | None = None,
                       *, tr: Catalog = EN) -> pd.DataFrame:
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
    tr : Catalog
        The language of ``warning`` (``profile`` stays the English code; see
        :func:`profile_text`).

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
                problems.append(tr("segmentation.problem.lapsed", share=r.lapsed_share))
            elif status == "slipping" and r.lapsed_share > 0.5:
                problems.append(tr("segmentation.problem.already_lapsed", share=r.lapsed_share))
            elif status == "slipping" and r.current_share > 0.5:
                problems.append(tr("segmentation.problem.still_active", share=r.current_share))
            elif status == "gone" and r.current_share > 0.5:
                problems.append(tr("segmentation.problem.still_active", share=r.current_share))
            if claim.get("repeat") and r.one_time_share > 0.5:
                problems.append(tr("segmentation.problem.one_day", share=r.one_time_share))
        warning = ""
        if problems:
            which = "claim_repeat" if claim.get("repeat") else "claim"
            warning = tr(
                "segmentation.name_warning", segment=tr.name("segment", r.rfm_segment),
                promise=tr(f"segmentation.{which}.{claim['status']}"),
                problems=tr("segmentation.problem.and").join(problems),
                days=r.mean_days_since_last, n=int(r.customers),
                profile=profile_text(profile, tr),
            )
        rows.append((str(r.rfm_segment), profile, not problems, warning))
    return pd.DataFrame(rows, columns=["rfm_segment", "profile", "fits", "warning"])


def segment_labels(check: pd.DataFrame, *, tr: Catalog = EN) -> dict[str, str]:
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
        r.rfm_segment: tr.name("segment", r.rfm_segment) if r.fits
        else tr("segmentation.label_in_fact", segment=tr.name("segment", r.rfm_segment),
                profile=profile_text(r.profile, tr))
        for r in check.itertuples(index=False)
    }


def reading_segment_names(check: pd.DataFrame, *, tr: Catalog = EN) -> str:
    """One Markdown paragraph: which segment names overstate their customers, or none.

    Raises
    ------
    InputError
        On a missing column.
    """
    require_columns(check, ["rfm_segment", "fits", "warning"], "segment name check")
    bad = check.loc[~check["fits"].astype(bool)]
    if bad.empty:
        return tr("segmentation.names_fit")
    lead = tr("segmentation.names_overstate", n=len(bad))
    return lead + tr("segmentation.sentence_sep").join(np.asarray(bad["warning"], dtype=str))


# --- clusters -------------------------------------------------------------------------------------

def k_search_note(search: pd.DataFrame, k: int | None = None, *, tr: Catalog = EN) -> str:
    """One sentence for the notebook: how k was chosen and on how many customers.

    Parameters
    ----------
    search : DataFrame
        Output of :func:`crmlab.segmentation.k_search`.
    k : int, optional
        The fixed ``segmentation.k``, if any.
    """
    if k is not None:
        return tr("segmentation.k_fixed", k=int(k))
    if search.empty:
        return tr("segmentation.k_none")
    used, total = int(search["customers"].iloc[0]), int(search["of_customers"].iloc[0])
    if used < total:
        return tr("segmentation.k_sample", used=used, total=total)
    return tr("segmentation.k_all", total=total)


def k_search_reading(search: pd.DataFrame, chosen: int, fixed: bool = False,
                     tolerance: float = 0.01, *, tr: Catalog = EN) -> str:
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
    how = tr("segmentation.k_how_fixed") if fixed else tr("segmentation.k_how_best")
    text = tr("segmentation.k_reading", k=chosen, how=how, s=s,
              strength=strength_word(strength, tr))
    if strength in ("weak", "no substantial"):
        text += tr("segmentation.k_weak")
    ties = silhouette_ties(search, chosen, tolerance)
    if ties:
        others = tr("common.list_sep").join(
            tr("segmentation.k_tie_item", k=t, s=sil.at[t, "silhouette"]) for t in ties)
        ch_best = int(sil.loc[[chosen, *ties], "calinski_harabasz"].idxmax())
        tie = "segmentation.k_tie_one" if len(ties) == 1 else "segmentation.k_tie_other"
        text += tr(tie, others=others, tolerance=tolerance)
        if not fixed and ch_best != chosen:
            text += tr("segmentation.k_tie_ch", ch=ch_best, k=chosen)
    return text


_STRENGTH_KEYS = {"strong": "strong", "reasonable": "reasonable", "weak": "weak",
                  "no substantial": "none"}


def strength_word(label: str, tr: Catalog = EN) -> str:
    """Name a label of :data:`~crmlab.segmentation.cluster_count.SILHOUETTE_SCALE` in ``tr``'s words."""
    key = _STRENGTH_KEYS.get(label)
    return tr(f"segmentation.strength.{key}") if key else label


def stability_takeaway(stability: pd.DataFrame, *, tr: Catalog = EN) -> str:
    """Say how well the bootstrap refits of :func:`crmlab.segmentation.cluster_stability` agree."""
    if not len(stability):
        return tr("segmentation.stability_none")
    ari = stability["ari"]
    verdict = (tr("segmentation.stability_stable") if ari.min() >= 0.9
               else tr("segmentation.stability_soft"))
    return tr("segmentation.stability", n=len(stability), mean=ari.mean(), low=ari.min(),
              verdict=verdict)


def cluster_names(profiles: pd.DataFrame, tr: Catalog = EN) -> pd.Series:
    """Return the display names of :func:`crmlab.segmentation.cluster_profiles` in ``tr``'s words.

    ``cluster_name`` is a product column and stays English; in another language the names
    are written again from the same profile (:func:`crmlab.segmentation.name_clusters`).
    Without the profile columns the English names are returned.
    """
    from crmlab.segmentation.clusters import name_clusters

    need = {"cluster", "one_time_share", "z_days_since_last", "z_purchase_days",
            "z_spend_per_line"}
    if tr.language == EN.language or not need <= set(profiles.columns):
        return profiles["cluster_name"].astype(str)
    return name_clusters(profiles, tr=tr)


def cluster_profiles_takeaway(profiles: pd.DataFrame, currency: str, *,
                              tr: Catalog = EN) -> str:
    """Cluster 0 (the highest mean spend) in one sentence."""
    best = profiles.iloc[0]
    return tr("segmentation.cluster_profiles", name=cluster_names(profiles, tr).iloc[0],
              customer_share=best.customer_share, revenue_share=best.revenue_share,
              spend=format_money(best.mean_total_spend, currency))


def projection_takeaway(explained: np.ndarray, *, tr: Catalog = EN) -> str:
    """How faithful the two-component picture is."""
    return tr("segmentation.projection", share=explained.sum())


# --- the customer base, RFM ----------------------------------------------------------------------


def observation_source(date: pd.Timestamp, from_params: bool, *, tr: Catalog = EN) -> str:
    """Say where the as-of date came from (:func:`crmlab.segmentation.observation_date`)."""
    if from_params:
        return tr("segmentation.observation_params", date=f"{date:%Y-%m-%d}")
    return tr("segmentation.observation_last", date=f"{date:%Y-%m-%d}")


def customer_base_note(summary: pd.DataFrame, source: str, as_of_source: str, *,
                       tr: Catalog = EN) -> str:
    """Describe the customer base: how many, from what, observed when."""
    return tr("segmentation.customer_base", n=len(summary), source=source,
              orders=summary["orders"].sum(), as_of=as_of_source,
              one_day=(summary["frequency"] == 0).mean(),
              median=summary["days_since_last"].median())


def score_note(scores: pd.DataFrame, *, tr: Catalog = EN) -> str:
    """Name the empty scores of :func:`crmlab.segmentation.score_distribution` (ties kept)."""
    def score_name(col: str) -> str:
        key = f"segmentation.score_name.{col}"
        return tr(key) if tr.has(key) else str(col)

    empty = [tr("segmentation.score_item", score=score_name(col), value=i)
             for col in scores.columns for i in scores.index if scores.at[i, col] == 0]
    return tr("segmentation.score_intro") + (
        tr("segmentation.score_empty", empty=tr("common.list_sep").join(empty)) if empty
        else tr("segmentation.score_all"))


def _range_of(label: str, score: int) -> str:
    """Return the range part of a :func:`crmlab.segmentation.score_ranges` label: "231–389 days"."""
    return label[len(str(score)):].strip().strip("()（）").strip()


def rfm_grid_takeaway(grid: pd.DataFrame, names: pd.DataFrame, r_days: Mapping[int, str], *,
                      tr: Catalog = EN) -> str:
    """Name the busiest cell of the RFM map, and what R = 3 means in days."""
    top_cell = grid.stack().idxmax()
    r3 = (tr("segmentation.rfm_r3", range=_range_of(r_days[3], 3)) if 3 in r_days
          else tr("segmentation.rfm_no_r3"))
    return tr("segmentation.rfm_grid", r=top_cell[0], fm=top_cell[1],
              segment=tr.name("segment", names.loc[top_cell]), n=grid.stack().max(), r3=r3)


def segment_sizes_takeaway(profiles: pd.DataFrame, *, tr: Catalog = EN) -> str:
    """Compare the first segment's share of customers with its share of revenue."""
    first = profiles.set_index("rfm_segment").iloc[0]
    return tr("segmentation.segment_sizes", segment=tr.name("segment", first.name),
              customer_share=first.customer_share, revenue_share=first.revenue_share)


# --- value tiers, lifecycle ---------------------------------------------------------------------


def lorenz_takeaway(conc: Any, *, tr: Catalog = EN) -> str:
    """State the top share and the Gini of a :class:`crmlab.segmentation.Concentration`."""
    return (
        tr("segmentation.lorenz", top=conc.top, top_share=conc.top_share, gini=conc.gini)
        + (tr("segmentation.lorenz_clipped", clipped=conc.clipped)
           if conc.clipped else tr("segmentation.lorenz_end"))
    )


def tiers_takeaway(tiers: pd.DataFrame, currency: str, *, tr: Catalog = EN) -> str:
    """Say what the high tier is worth, from :func:`crmlab.segmentation.tier_table`."""
    high = tiers.set_index("value_tier").loc["high"]
    return tr("segmentation.tiers", n=int(high.customers), customer_share=high.customer_share,
              revenue_share=high.revenue_share, spend=format_money(high.mean_spend, currency))


def lifecycle_takeaway(life: pd.DataFrame, fallback_gap: float | None, *,
                       tr: Catalog = EN) -> str:
    """Count customers per stage, the high-tier ones at risk; name the one-time buyers' yardstick.

    ``fallback_gap`` is the typical gap given to one-time buyers (None when there are none).
    """
    return (
        tr("segmentation.lifecycle", active=life.loc["active"].sum(),
           at_risk=life.loc["at risk"].sum(), lapsed=life.loc["lapsed"].sum(),
           high_at_risk=int(life.at["at risk", "high"]))
        + (tr("segmentation.lifecycle_fallback", gap=fallback_gap)
           if fallback_gap is not None else "")
    )


# --- migration ----------------------------------------------------------------------------------

def _group_name(value: Any, tr: Catalog) -> str:
    """Display name of a group of a transition matrix (a segment, tier or lifecycle stage)."""
    # "high" or "at risk" alone read badly in Chinese: "high-value customers", "customers at risk"
    for group in ("tier_group", "stage_group"):
        if tr.has(f"segmentation.{group}.{value}"):
            return tr(f"segmentation.{group}.{value}")
    for kind in ("segment", "lifecycle", "tier"):
        key = f"common.{kind}.{value}"
        if tr.has(key):
            return tr(key)
    return str(value)


def describe_transitions(counts: pd.DataFrame, groups: Sequence[str] | None = None, *,
                         tr: Catalog = EN) -> str:
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
        return tr("segmentation.no_earlier")
    summ = transition_summary(counts)
    if groups is not None and summ["group"].isin(list(groups)).any():
        summ = summ[summ["group"].isin(list(groups))]
    parts = []
    for r in summ.itertuples(index=False):
        move = (tr("segmentation.moved_to", share=r.main_move_share,
                   group=_group_name(r.main_move, tr)) if pd.notna(r.main_move)
                else tr("segmentation.nobody_moved"))
        if r.group == NEW_CUSTOMER:
            parts.append(tr("segmentation.new_arrived", n=r.customers, share=r.main_move_share,
                            group=_group_name(r.main_move, tr)))
        else:
            parts.append(tr("segmentation.group_moves", n=r.customers,
                            group=_group_name(r.group, tr), stayed=r.stayed, move=move))
    return (tr("segmentation.moves_sep").join(parts) + tr("segmentation.moves_end") if parts
            else tr("segmentation.no_customers"))


def dynamic_view_note(before_date: pd.Timestamp | None, after_date: pd.Timestamp | None = None,
                      before: int = 0, after: int = 0, new: int = 0, down: int = 0, *,
                      tr: Catalog = EN) -> str:
    """Say what :func:`crmlab.segmentation.dynamic_view` compared, or why nothing was."""
    if before_date is None:
        return tr("segmentation.dynamic_none")
    return tr("segmentation.dynamic", before_date=f"{before_date:%Y-%m-%d}", before=before,
              after_date=f"{after_date:%Y-%m-%d}", after=after, new=new, down=down)


# the groups each transition takeaway describes, and the key of what it adds
_TRANSITION_READINGS = {
    "value_tier": (("high", "medium"), None),
    "lifecycle_stage": (("at risk", "lapsed"), "segmentation.tail_lifecycle"),
    "rfm_segment": (("Champions", "At risk", "Cannot lose"), "segmentation.tail_rfm"),
}


def transitions_takeaway(counts: pd.DataFrame, col: str, *, tr: Catalog = EN) -> str:
    """Write the takeaway of the transition matrix of ``col``: who stayed, where others went."""
    groups, tail = _TRANSITION_READINGS.get(col, (None, None))
    return describe_transitions(counts, groups, tr=tr) + (tr(tail) if tail else "")


def moved_down_note(down: pd.DataFrame, currency: str, *, tr: Catalog = EN) -> str:
    """Sum up the retention list in one sentence (:func:`crmlab.segmentation.moved_down`)."""
    if not len(down):
        return tr("segmentation.moved_down", n=len(down))
    idle = (down["total_spend_after"] == down["total_spend_before"]).mean()
    return tr("segmentation.moved_down_spent", n=len(down),
              spent=format_money(down["total_spend_before"].sum(), currency), idle=idle)


def product_note(file_name: str, product: pd.DataFrame, *, tr: Catalog = EN) -> str:
    """Say what the stage wrote."""
    return tr("segmentation.product", file=file_name, n=len(product), columns=product.shape[1])
