"""The params schema: every key the chain understands, with its checker and its default.

This is the one place a params default lives. Code that needs a default asks
:func:`default` (``default("segmentation.seed")``) rather than repeating the value.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crmlab.config.checks import (
    Bad,
    boolean,
    choice,
    file_path,
    integer,
    iso_date,
    list_of,
    mapping_of,
    nonempty_string,
    nullable,
    number,
    reader_options,
    scalar,
    slug,
    string,
    timezone,
)
from crmlab.errors import InputError

__all__ = [
    "REQUIRED", "Key", "Section", "SCHEMA", "INTERACTIONS", "INTERACTION_TYPES", "INTERACTION_GROUPS",
    "DEFAULT_CONTACT_COSTS", "default",
]

REQUIRED = object()  # the default of a key the params file must set


@dataclass(frozen=True)
class Key:
    """One leaf key: a checker, a default (or required), and whether it is a file path."""

    check: Callable[[Any], Any]
    default: Any = REQUIRED
    is_path: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Section:
    """A mapping of known keys. ``optional`` sections may be absent (-> ``None``)."""

    keys: dict[str, Key | Section] = field(default_factory=dict)
    optional: bool = False
    doc: str = ""


def _reader_keys(default_path: str | None = None) -> dict[str, Key]:
    """Keys shared by every input file section (transactions, survey, churn)."""
    return {
        "path": Key(file_path, REQUIRED if default_path is None else default_path, is_path=True),
        "encoding": Key(nonempty_string, "auto", doc="auto | utf-8 | utf-8-sig | gb18030 | ..."),
        "sep": Key(nullable(string), None, doc="null = sniff"),
        "sheet_name": Key(nullable(scalar), None, doc="Excel sheet (name or 0-based index)"),
        "reader": Key(reader_options, {}, doc="extra options passed to the pandas reader"),
        "source": Key(nullable(nonempty_string), None,
                      doc="name of the data set, shown in the report; null = the file name"),
        "pii_columns": Key(list_of(nonempty_string), [], doc="personal columns, dropped on reading"),
        "max_size_mb": Key(number(0.001), 20480.0, doc="refuse larger files (MB)"),
    }


TRANSACTIONS = Section(
    optional=True,
    doc="Transaction export; enables cleaning, segmentation and value.",
    keys={
        **_reader_keys(),
        "columns": Section(
            keys={
                "customer_id": Key(nonempty_string),
                "date": Key(nonempty_string),
                "amount": Key(nonempty_string),
                "quantity": Key(nullable(nonempty_string), None),
                "order_id": Key(nullable(nonempty_string), None),
            }
        ),
        "date_format": Key(nullable(nonempty_string), None, doc="strftime format; null = infer"),
        "dayfirst": Key(boolean, False, doc="when inferring: 03/04 is 3 April"),
        "decimal": Key(choice(".", ","), ".", doc="decimal mark of amounts"),
        "timezone": Key(timezone, "UTC", doc="zone that timestamps with an offset are converted to"),
        "max_amount": Key(number(1), 1e12, doc="amounts above this are quarantined (amount_out_of_range)"),
        "duplicates": Key(choice("quarantine", "keep"), "quarantine"),
        "zero_amount": Key(choice("keep", "quarantine"), "keep"),
        "strip_leading_zeros": Key(boolean, False, doc="treat id 00042 and 42 as one customer"),
    },
)

PERIODS = Section(
    optional=True,
    keys={
        "calibration_end": Key(nullable(iso_date), None),
        "observation_end": Key(nullable(iso_date), None),
    },
)


def _segment_map(v: Any) -> dict:
    """RFM segment map: every score code 11..55 must match a pattern (checked at the door)."""
    from crmlab.segmentation import validate_segment_map  # lazy: scikit-learn is heavy

    out = mapping_of(nonempty_string, 1)(v)
    try:
        validate_segment_map(out)
    except InputError as exc:
        raise Bad(str(exc).split(": ", 1)[-1]) from None
    return out


SEGMENTATION = Section(
    keys={
        "k_range": Key(list_of(integer(2, 50), 2, 2), [2, 8], doc="[k_min, k_max] for K-means"),
        "method": Key(choice("kmeans", "gmm"), "kmeans"),
        "seed": Key(integer(0), 42),
        "bootstrap": Key(integer(0, 1000), 20, doc="bootstrap resamples for stability (ARI)"),
        "tiers": Section(
            keys={
                "high": Key(number(0, 1), 0.5, doc="top customers making this revenue share"),
                "medium": Key(number(0, 1), 0.8, doc="... up to this cumulative share"),
            }
        ),
        "lifecycle": Section(
            keys={
                "new_days": Key(integer(1), 90, doc="first purchase within this many days"),
                "at_risk_factor": Key(number(0), 1.5, doc="gap > factor x typical gap -> at risk"),
                "lapsed_factor": Key(number(0), 3.0, doc="gap > factor x typical gap -> lapsed"),
            }
        ),
        "segment_map": Key(
            nullable(_segment_map), None,
            doc="replace the RFM segment map: {regex over '<r_score><fm_score>': name}",
        ),
        "rfm_monetary": Key(choice("total", "average"), "total", doc="M = total spend or per day"),
        "k": Key(nullable(integer(2, 50)), None, doc="fixed number of clusters; null = search"),
    },
)

VALUE = Section(
    keys={
        "margin": Key(number(0, 1), 0.3, doc="gross margin on revenue"),
        "annual_discount_rate": Key(number(0, 1), 0.1),
        "horizon_months": Key(integer(1, 240), 12),
        "seed": Key(integer(0), 42),
        "n_origins": Key(integer(1, 24), 3, doc="training origins of the regression models"),
        "origin_step_days": Key(integer(7, 365), 30, doc="days between training origins"),
        "validation_days": Key(integer(7, 3650), 91, doc="length of each validation window that picks the model"),
        "n_validation": Key(integer(1, 12), 2, doc="validation windows, origin_step_days apart; the mean score picks"),
        "backtest_origins": Key(integer(0, 36), 3, doc="month-end cut-offs of the rolling-origin backtest (0 = none)"),
        "backtest_step_months": Key(integer(1, 12), 2, doc="months between backtest cut-offs"),
        "backtest_min_holdout_days": Key(integer(7, 3650), 150, doc="shortest holdout of a backtest cut-off"),
        "glm_var_power": Key(number(1.01, 1.99), 1.5, doc="Tweedie power of the GLM (1 Poisson, 2 Gamma)"),
        "select_by": Key(choice("rmse", "mae", "spearman", "top_decile_share"), "spearman",
                         doc="validation metric that tunes the weight of the GLM's correction"),
    },
)

SURVEY = Section(
    optional=True,
    doc="Multi-item satisfaction survey; enables satisfaction.",
    keys={
        **_reader_keys(),
        "scale": Key(list_of(number(), 2, 2), [1, 10]),
        "constructs": Key(mapping_of(list_of(nonempty_string, 1), 1)),
        "outcome": Key(nonempty_string),
        "loyalty": Key(nullable(nonempty_string), None),
        "reversed": Key(list_of(nonempty_string), []),
        "id": Key(nullable(nonempty_string), None),
        "group": Key(nullable(nonempty_string), None),
        "recommend": Key(nullable(nonempty_string), None, doc="recommend item for NPS"),
        "recommend_scale": Key(list_of(number(), 2, 2), [0, 10], doc="answer scale of the recommend item"),
        "nps_mapping": Key(
            choice("labels", "linear"), "labels",
            doc="a non-0-10 recommend item: labels (1-10: 9-10 promote) or linear onto 0-10",
        ),
        "missing_codes": Key(list_of(number()), []),
        "drivers": Key(
            nullable(list_of(nonempty_string, 1)), None,
            doc="constructs that explain the outcome; null = all but outcome and loyalty",
        ),
        "min_answered": Key(number(0.01, 1), 0.5, doc="share of a construct's items needed for a score"),
        "confidence": Key(number(0.5, 0.999), 0.95, doc="level of confidence intervals"),
        "importance": Key(choice("shapley", "relative_weights"), "shapley", doc="driver importance measure"),
        "actionable": Key(
            nullable(list_of(nonempty_string)), None,
            doc="drivers the firm can change (IPM advice); null = all but Expectation",
        ),
        # PLS path model (crmlab.satisfaction.pls_stage); null model = the driver analysis only
        "model": Key(
            nullable(mapping_of(list_of(nonempty_string, 1), 1)), None,
            doc="structural model {endogenous construct: [predecessors]}; null = no PLS model",
        ),
        "modes": Key(mapping_of(choice("A", "B")), {}, doc="construct: A (reflective, default) | B (formative)"),
        "scheme": Key(choice("path", "centroid", "factor"), "path", doc="PLS inner weighting scheme"),
        "missing": Key(choice("mean", "drop"), "mean", doc="PLS: item-mean replacement or listwise deletion"),
        "bootstrap": Section(
            keys={
                "n": Key(integer(0, 10000), 500, doc="PLS bootstrap resamples (0 = no intervals)"),
                "seed": Key(integer(0), 42),
            }
        ),
    },
)

CHURN = Section(
    optional=True,
    doc="Labelled churn table; enables churn.",
    keys={
        **_reader_keys(),
        "target": Key(nonempty_string),
        "positive": Key(scalar, "Yes"),
        "id": Key(nullable(nonempty_string), None),
        "test_size": Key(number(0.05, 0.9), 0.3),
        "seed": Key(integer(0), 42),
        "capacity": Key(number(0.001, 1), 0.1, doc="share of customers the team can contact"),
        "medium_capacity": Key(number(0.001, 1), 0.3, doc="riskiest share in the high + medium bands"),
        "high_threshold": Key(nullable(number(0, 1)), None, doc="probability for 'high'; null = from capacity"),
        "medium_threshold": Key(nullable(number(0, 1)), None, doc="probability for 'medium'; null = from medium_capacity"),
        "fill_blanks": Key(mapping_of(number()), {}, doc="column: value for blanks meaning a known number"),
        "max_levels": Key(integer(2, 250), 50, doc="categorical columns with more levels are left out"),
        "cv_folds": Key(integer(2, 20), 5, doc="stratified folds (training rows only) for model choice"),
        "calibration": Key(choice("auto", "sigmoid", "isotonic", "none"), "auto"),
        "calibration_tolerance": Key(number(0, 1), 0.02, doc="auto recalibrates above this cross-validated ECE"),
        "top_reasons": Key(integer(1, 10), 3, doc="reasons shown per watch-list customer"),
        "max_vif": Key(nullable(number(1)), 20.0, doc="logistic: drop columns the others explain (VIF above); null = keep"),
    },
)

CHURN_WARNING = Section(
    doc="Transactional early warning (churn stage, no label needed).",
    keys={
        "gap_factor": Key(number(1), 2.0, doc="warn when days since last purchase > factor x typical gap"),
        "one_time_gap": Key(nullable(number(1)), None, doc="days; null = median gap of repeat buyers"),
        "p_alive_threshold": Key(number(0, 1), 0.3, doc="warn a repeat buyer whose BG/NBD p_alive (same as-of date) is below"),
        "capacity": Key(number(0.001, 1), 0.1, doc="share of customers the team can contact"),
    },
)

REPORT = Section(
    doc="Summary report and run-over-run monitoring (stage report).",
    keys={
        "active_days": Key(integer(1), 90, doc="active = bought within this many days up to observation_end"),
        "top_share": Key(number(0.01, 0.99), 0.2, doc="revenue share of this top share of customers"),
        "currency": Key(string, "", doc="shown before money amounts, e.g. '$'"),
        "watch_tiers": Key(list_of(nonempty_string), ["high", "medium"], doc="value tiers watched"),
        "watch_stages": Key(list_of(nonempty_string), ["at risk"], doc="lifecycle stages that put a watched-tier customer on the watch list"),
        "high_risk_band": Key(nonempty_string, "high", doc="churn risk_band counted as high risk"),
        "drift_tolerance": Key(number(0, 100), 0.25, doc="flag an input whose row count changed by more than this share"),
    },
)

# --- interactions (issue 17): the contact log, its mapping, costs, windows, sentiment -------
# Declared here, with the other sections, so that the schema imports nothing from the
# stages; crmlab.interactions.params re-exports these names for the stage's modules.

# The canonical contact types every analysis function works with.
INTERACTION_TYPES = ("inquiry", "complaint", "praise", "service", "campaign", "other")
# The arms of a randomised campaign.
INTERACTION_GROUPS = ("treatment", "control")

# Money per contact by canonical channel, in report.currency: an in-store conversation and
# a phone call cost staff time, digital channels almost nothing. "none" is the channel of a
# control-group assignment row, which is not a contact and costs nothing; "unknown" (a blank
# channel) is costed like the web, the commonest channel.
DEFAULT_CONTACT_COSTS = {
    "store": 4.0, "web": 0.3, "app": 0.2, "phone": 3.5, "email": 0.1, "wechat": 0.2,
    "unknown": 0.3, "none": 0.0,
}


def _share(v: Any) -> float:
    """Check a share in (0, 1]: a margin of 0 would make every customer a loss by definition."""
    x = number(0, 1)(v)
    if x <= 0:
        raise Bad(f"{x} must be above 0 (a share in (0, 1])")
    return x


def _channel_name(v: Any) -> str:
    # channel names are compared lower-cased and stripped, as the reader does with the log
    return nonempty_string(v).strip().lower()


INTERACTIONS = Section(
    optional=True,
    doc="Customer interaction (contact) log; enables the interactions stage.",
    keys={
        **_reader_keys(),
        "columns": Section(
            keys={
                "customer_id": Key(nonempty_string, "customer_id"),
                "timestamp": Key(nonempty_string, "timestamp"),
                "channel": Key(nonempty_string, "channel"),
                "type": Key(nonempty_string, "type"),
                "text": Key(nullable(nonempty_string), None, doc="free feedback text"),
                "rating": Key(nullable(nonempty_string), None, doc="rating on rating_scale"),
                "campaign": Key(nullable(nonempty_string), None, doc="campaign name"),
                "group": Key(nullable(nonempty_string), None, doc="treatment / control arm"),
            }
        ),
        "date_format": Key(nullable(nonempty_string), None, doc="strftime format; null = infer"),
        "dayfirst": Key(boolean, False, doc="when inferring: 03/04 is 3 April"),
        "timezone": Key(timezone, "UTC", doc="zone that timestamps with an offset are converted to"),
        "type_map": Key(
            mapping_of(choice(*INTERACTION_TYPES), 1),
            doc="the log's type values -> " + " | ".join(INTERACTION_TYPES) + " (e.g. 投诉: complaint)",
        ),
        "channel_map": Key(
            mapping_of(_channel_name), {},
            doc="the log's channel values -> channel name; unmapped values are lower-cased",
        ),
        "rating_scale": Key(list_of(number(), 2, 2), [1, 5], doc="[lowest, highest] rating"),
        "costs": Section(
            keys={
                "contact": Key(
                    mapping_of(number(0)), dict(DEFAULT_CONTACT_COSTS),
                    doc="money per contact by channel; a channel not listed costs 0",
                ),
                "acquisition": Key(number(0), 15.0, doc="money per customer acquired"),
            }
        ),
        "margin": Key(_share, 0.3, doc="gross margin on revenue, in (0, 1]"),
        "window_days": Key(integer(1, 3650), 90, doc="recent window (contacts_90d ...)"),
        "campaign": Section(
            keys={
                "name": Key(nullable(nonempty_string), None,
                            doc="campaign analysed; null = the only campaign in the log"),
                "window_days": Key(integer(1, 3650), 60, doc="outcome window after contact (days)"),
            }
        ),
        "sentiment": Section(
            doc="Feedback sentiment: the labelled corpora the models are trained and measured on.",
            keys={
                "corpus": Key(file_path, "data/raw/sentiment", is_path=True,
                              doc="folder with pos.txt and neg.txt (Chinese, one review a line)"),
                "english_benchmark": Key(
                    nullable(file_path), "data/raw/sentiment/english/amazonReviewSnippets_GroundTruth.txt",
                    is_path=True, doc="VADER's labelled English snippets; null = accuracy not measured"),
                "seed": Key(integer(0), 42, doc="seed of the train/test split of the corpus"),
                "max_texts": Key(nullable(integer(200)), None,
                                 doc="train on a seeded sample of this many distinct texts; null = all"),
            },
        ),
    },
)


SCHEMA = Section(
    keys={
        "run_name": Key(slug, "default"),
        "language": Key(choice("en", "zh"), "en",
                        doc="en | zh: report, figures, takeaways, actions and the notebook edition"),
        "engine": Section(
            keys={
                "name": Key(choice("pandas", "dask"), "pandas"),
                "address": Key(nullable(nonempty_string), None, doc="null = local cluster"),
                "n_workers": Key(nullable(integer(1)), None, doc="local cluster; null = one per core"),
                "timeout": Key(number(0.1, 3600), 10.0, doc="seconds to wait for engine.address"),
                "persist": Key(boolean, True, doc="dask: keep the columns the value stage passes "
                               "over many times in the workers' memory; false when they do not fit"),
            }
        ),
        "paths": Section(
            keys={
                "processed": Key(file_path, "data/processed", is_path=True),
                "outputs": Key(file_path, "outputs", is_path=True),
            }
        ),
        "transactions": TRANSACTIONS,
        "periods": PERIODS,
        "segmentation": SEGMENTATION,
        "value": VALUE,
        "survey": SURVEY,
        "churn": CHURN,
        "churn_warning": CHURN_WARNING,
        "interactions": INTERACTIONS,
        "report": REPORT,
        "privacy": Section(
            doc="Pseudonymisation of identifiers that are personal data (e-mail as customer id).",
            keys={
                "key_file": Key(nullable(file_path), None, is_path=True,
                                doc="file holding the pseudonymisation key (else $CRMLAB_PSEUDONYM_KEY)"),
            },
        ),
    }
)


def default(dotted: str) -> Any:
    """Return the schema default of the key ``dotted`` (e.g. ``"segmentation.seed"``).

    Parameters
    ----------
    dotted : str
        The key's dotted name, as in a params file or ``--set``.

    Returns
    -------
    Any
        A copy of the default, as the loader fills it in (checked and normalised).

    Raises
    ------
    KeyError
        ``dotted`` is not a key of the schema, names a section, or the key is required
        (it has no default).
    """
    node: Key | Section = SCHEMA
    for part in dotted.split("."):
        if not isinstance(node, Section) or part not in node.keys:
            raise KeyError(f"no params key {dotted!r} in the schema")
        node = node.keys[part]
    if isinstance(node, Section):
        raise KeyError(f"params key {dotted!r} is a section, not a key")
    if node.default is REQUIRED:
        raise KeyError(f"params key {dotted!r} is required: it has no default")
    value = copy.deepcopy(node.default)
    return None if value is None else node.check(value)
