"""Params: one YAML file, validated once at the door into nested, typed sections.

Every key the chain understands is declared in :data:`SCHEMA` below, with its type and
default. An unknown key, a wrong type or a missing required key fails with the dotted key
and the file (``InputError``), before any notebook starts.

Relative paths in a params file are resolved against the project root (:data:`PROJ_ROOT`,
the folder holding ``pyproject.toml``), so the same file works from the shell, from cron and
from a notebook whose working folder is ``notebooks/``.
"""

from __future__ import annotations

import copy
import datetime as _dt
import difflib
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from crmlab.errors import InputError

__all__ = [
    "PROJ_ROOT",
    "DEFAULT_PARAMS",
    "Params",
    "load_params",
    "params_from_dict",
    "apply_overrides",
    "check_writable",
    "apply_privacy",
]

PROJ_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PARAMS = PROJ_ROOT / "params" / "default.yaml"

_REQUIRED = object()


class Params(dict):
    """A validated params section: a plain ``dict`` that also allows ``p.key`` access.

    Being a dict keeps it JSON/YAML-serialisable for the manifest and for papermill.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:  # attribute protocol wants AttributeError
            raise AttributeError(name) from exc

    def __deepcopy__(self, memo: dict) -> Params:
        return Params({k: copy.deepcopy(v, memo) for k, v in self.items()})


class _Bad(Exception):
    """Raised by a checker; the loader adds the key and the file."""


class _Loader(yaml.SafeLoader):
    """``SafeLoader`` that keeps dates as text.

    ``2024-02-30`` then becomes a params error naming its key (the date checker's), not a
    crash inside the YAML parser.
    """


_Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)


# --- checkers: value -> normalised value, or raise _Bad ------------------------------------


def _string(v: Any) -> str:
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise _Bad(f"expected a string, got {type(v).__name__}")
    return str(v)


def _nonempty_string(v: Any) -> str:
    s = _string(v)
    if not s.strip():
        raise _Bad("must not be empty")
    return s


RUN_NAME_MAX = 100  # folder names: run_name + ".staging-<run id>" must fit 255 bytes


def _slug(v: Any) -> str:
    s = _string(v)
    if len(s) > RUN_NAME_MAX:
        raise _Bad(f"is {len(s)} characters long; at most {RUN_NAME_MAX} (it names folders)")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", s):
        raise _Bad(f"{s!r} must be letters, digits, '_', '-', '.' (it names folders)")
    return s


def _boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise _Bad(f"expected true or false, got {v!r}")
    return v


def integer(lo: float | None = None, hi: float | None = None) -> Callable[[Any], int]:
    """Checker for an integer within [lo, hi]."""

    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise _Bad(f"expected a whole number, got {v!r}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise _Bad(f"{v} is outside [{lo}, {hi}]")
        return v

    return check


def number(lo: float | None = None, hi: float | None = None) -> Callable[[Any], float]:
    """Checker for a real number within [lo, hi]."""

    def check(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _Bad(f"expected a number, got {v!r}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise _Bad(f"{v} is outside [{lo}, {hi}]")
        return float(v)

    return check


def choice(*options: Any) -> Callable[[Any], Any]:
    """Checker for one of a fixed set of values."""

    def check(v: Any) -> Any:
        if v not in options:
            raise _Bad(f"{v!r} is not one of {', '.join(map(repr, options))}")
        return v

    return check


def nullable(inner: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Checker that also accepts ``null``."""

    def check(v: Any) -> Any:
        return None if v is None else inner(v)

    return check


def list_of(inner: Callable[[Any], Any], min_len: int = 0, max_len: int | None = None):
    """Checker for a list whose items pass ``inner``."""

    def check(v: Any) -> list:
        if not isinstance(v, list):
            raise _Bad(f"expected a list, got {v!r}")
        if len(v) < min_len or (max_len is not None and len(v) > max_len):
            want = f"{min_len}" if max_len == min_len else f"{min_len}..{max_len or 'any'}"
            raise _Bad(f"expected {want} items, got {len(v)}")
        out = []
        for i, item in enumerate(v):
            try:
                out.append(inner(item))
            except _Bad as exc:
                raise _Bad(f"item {i}: {exc}") from None
        return out

    return check


def mapping_of(inner: Callable[[Any], Any], min_len: int = 0):
    """Checker for an open mapping (user-chosen keys) whose values pass ``inner``."""

    def check(v: Any) -> dict:
        if not isinstance(v, dict):
            raise _Bad(f"expected a mapping, got {v!r}")
        if len(v) < min_len:
            raise _Bad(f"expected at least {min_len} entries")
        out = {}
        for k, item in v.items():
            try:
                out[str(k)] = inner(item)
            except _Bad as exc:
                raise _Bad(f"entry {k!r}: {exc}") from None
        return out

    return check


def _any_scalar(v: Any) -> Any:
    if isinstance(v, (dict, list)):
        raise _Bad("expected a single value")
    return v


def _date(v: Any) -> str:
    if isinstance(v, _dt.datetime):
        v = v.date()
    if isinstance(v, _dt.date):
        return v.isoformat()
    s = _string(v)
    try:
        return _dt.date.fromisoformat(s).isoformat()
    except ValueError:
        raise _Bad(f"{s!r} is not a date in YYYY-MM-DD form") from None


def _path(v: Any) -> str:
    return _nonempty_string(v)


# Options the reader sets itself (each has its own params key, or must not change).
_READER_OWN = {
    "filepath_or_buffer": "path", "io": "path", "path": "path", "sep": "sep",
    "delimiter": "sep", "encoding": "encoding", "sheet_name": "sheet_name",
    "dtype": None, "keep_default_na": None, "na_filter": None, "engine": None, "nrows": None,
    "skipinitialspace": None, "iterator": None, "chunksize": None, "storage_options": None,
    "filesystem": None, "dtype_backend": None, "encoding_errors": "encoding",
    "memory_map": None, "low_memory": None, "converters": None,
}


def _pandas_reader_options() -> set[str]:
    import inspect

    import pandas as pd

    names: set[str] = set()
    for fn in (pd.read_csv, pd.read_excel, pd.read_parquet):
        names |= {p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind is not inspect.Parameter.VAR_KEYWORD}
    return names - set(_READER_OWN)


def _reader_options(v: Any) -> dict:
    if not isinstance(v, dict):
        raise _Bad(f"expected a mapping of reader options, got {v!r}")
    out = {str(k): val for k, val in v.items()}
    known = _pandas_reader_options()
    for k in out:
        if k in _READER_OWN:
            own = _READER_OWN[k]
            hint = f"; use the section key '{own}'" if own else " (crmlab sets it)"
            raise _Bad(f"option {k!r} cannot be set here{hint}")
        if k not in known:
            close = difflib.get_close_matches(k, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _Bad(f"unknown reader option {k!r}{hint}")
    return out


def _timezone(v: Any) -> str:
    import zoneinfo

    s = _nonempty_string(v)
    try:
        zoneinfo.ZoneInfo(s)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _Bad(f"{s!r} is not a time zone name (e.g. UTC, Europe/Berlin, Asia/Shanghai)") from None
    return s


# --- schema --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One leaf key: a checker, a default (or required), and whether it is a file path."""

    check: Callable[[Any], Any]
    default: Any = _REQUIRED
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
        "path": Key(_path, _REQUIRED if default_path is None else default_path, is_path=True),
        "encoding": Key(_nonempty_string, "auto", doc="auto | utf-8 | utf-8-sig | gb18030 | ..."),
        "sep": Key(nullable(_string), None, doc="null = sniff"),
        "sheet_name": Key(nullable(_any_scalar), None, doc="Excel sheet (name or 0-based index)"),
        "reader": Key(_reader_options, {}, doc="extra options passed to the pandas reader"),
        "source": Key(nullable(_nonempty_string), None,
                      doc="name of the data set, shown in the report; null = the file name"),
        "pii_columns": Key(list_of(_nonempty_string), [], doc="personal columns, dropped on reading"),
        "max_size_mb": Key(number(0.001), 20480.0, doc="refuse larger files (MB)"),
    }


TRANSACTIONS = Section(
    optional=True,
    doc="Transaction export; enables cleaning, segmentation and value.",
    keys={
        **_reader_keys(),
        "columns": Section(
            keys={
                "customer_id": Key(_nonempty_string),
                "date": Key(_nonempty_string),
                "amount": Key(_nonempty_string),
                "quantity": Key(nullable(_nonempty_string), None),
                "order_id": Key(nullable(_nonempty_string), None),
            }
        ),
        "date_format": Key(nullable(_nonempty_string), None, doc="strftime format; null = infer"),
        "dayfirst": Key(_boolean, False, doc="when inferring: 03/04 is 3 April"),
        "decimal": Key(choice(".", ","), ".", doc="decimal mark of amounts"),
        "timezone": Key(_timezone, "UTC", doc="zone that timestamps with an offset are converted to"),
        "max_amount": Key(number(1), 1e12, doc="amounts above this are quarantined (amount_out_of_range)"),
        "duplicates": Key(choice("quarantine", "keep"), "quarantine"),
        "zero_amount": Key(choice("keep", "quarantine"), "keep"),
        "strip_leading_zeros": Key(_boolean, False, doc="treat id 00042 and 42 as one customer"),
    },
)

PERIODS = Section(
    optional=True,
    keys={
        "calibration_end": Key(nullable(_date), None),
        "observation_end": Key(nullable(_date), None),
    },
)


def _segment_map(v: Any) -> dict:
    """RFM segment map: every score code 11..55 must match a pattern (checked at the door)."""
    from crmlab.segmentation import validate_segment_map  # lazy: scikit-learn is heavy

    out = mapping_of(_nonempty_string, 1)(v)
    try:
        validate_segment_map(out)
    except InputError as exc:
        raise _Bad(str(exc).split(": ", 1)[-1]) from None
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
        "constructs": Key(mapping_of(list_of(_nonempty_string, 1), 1)),
        "outcome": Key(_nonempty_string),
        "loyalty": Key(nullable(_nonempty_string), None),
        "reversed": Key(list_of(_nonempty_string), []),
        "id": Key(nullable(_nonempty_string), None),
        "group": Key(nullable(_nonempty_string), None),
        "recommend": Key(nullable(_nonempty_string), None, doc="recommend item for NPS"),
        "recommend_scale": Key(list_of(number(), 2, 2), [0, 10], doc="answer scale of the recommend item"),
        "nps_mapping": Key(
            choice("labels", "linear"), "labels",
            doc="a non-0-10 recommend item: labels (1-10: 9-10 promote) or linear onto 0-10",
        ),
        "missing_codes": Key(list_of(number()), []),
        "drivers": Key(
            nullable(list_of(_nonempty_string, 1)), None,
            doc="constructs that explain the outcome; null = all but outcome and loyalty",
        ),
        "min_answered": Key(number(0.01, 1), 0.5, doc="share of a construct's items needed for a score"),
        "confidence": Key(number(0.5, 0.999), 0.95, doc="level of confidence intervals"),
        "importance": Key(choice("shapley", "relative_weights"), "shapley", doc="driver importance measure"),
        "actionable": Key(
            nullable(list_of(_nonempty_string)), None,
            doc="drivers the firm can change (IPM advice); null = all but Expectation",
        ),
        # PLS path model (crmlab.satisfaction_pls); null model = the driver analysis only
        "model": Key(
            nullable(mapping_of(list_of(_nonempty_string, 1), 1)), None,
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
        "target": Key(_nonempty_string),
        "positive": Key(_any_scalar, "Yes"),
        "id": Key(nullable(_nonempty_string), None),
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
        "currency": Key(_string, "", doc="shown before money amounts, e.g. '$'"),
        "watch_tiers": Key(list_of(_nonempty_string), ["high", "medium"], doc="value tiers watched"),
        "watch_stages": Key(list_of(_nonempty_string), ["at risk"], doc="lifecycle stages that put a watched-tier customer on the watch list"),
        "high_risk_band": Key(_nonempty_string, "high", doc="churn risk_band counted as high risk"),
        "drift_tolerance": Key(number(0, 100), 0.25, doc="flag an input whose row count changed by more than this share"),
    },
)

SCHEMA = Section(
    keys={
        "run_name": Key(_slug, "default"),
        "engine": Section(
            keys={
                "name": Key(choice("pandas", "dask"), "pandas"),
                "address": Key(nullable(_nonempty_string), None, doc="null = local cluster"),
                "n_workers": Key(nullable(integer(1)), None, doc="local cluster; null = one per core"),
                "timeout": Key(number(0.1, 3600), 10.0, doc="seconds to wait for engine.address"),
            }
        ),
        "paths": Section(
            keys={
                "processed": Key(_path, "data/processed", is_path=True),
                "outputs": Key(_path, "outputs", is_path=True),
            }
        ),
        "transactions": TRANSACTIONS,
        "periods": PERIODS,
        "segmentation": SEGMENTATION,
        "value": VALUE,
        "survey": SURVEY,
        "churn": CHURN,
        "churn_warning": CHURN_WARNING,
        "report": REPORT,
        "privacy": Section(
            doc="Pseudonymisation of identifiers that are personal data (e-mail as customer id).",
            keys={
                "key_file": Key(nullable(_path), None, is_path=True,
                                doc="file holding the pseudonymisation key (else $CRMLAB_PSEUDONYM_KEY)"),
            },
        ),
    }
)


def _validate(section: Section, raw: Any, prefix: str, source: str, root: Path) -> Params:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        where = prefix.rstrip(".") or "top level"
        raise InputError(f"{source}: '{where}' must be a mapping, got {raw!r}")
    unknown = [k for k in raw if k not in section.keys]
    if unknown:
        k = str(unknown[0])
        hint = difflib.get_close_matches(k, [str(x) for x in section.keys], n=1)
        extra = f" (did you mean '{prefix}{hint[0]}'?)" if hint else ""
        raise InputError(f"{source}: unknown key '{prefix}{k}'{extra}")
    out = Params()
    for name, spec in section.keys.items():
        dotted = f"{prefix}{name}"
        present = name in raw
        if isinstance(spec, Section):
            if not present and spec.optional:
                out[name] = None
            elif present and raw[name] is None and spec.optional:
                out[name] = None
            else:
                out[name] = _validate(spec, raw.get(name), f"{dotted}.", source, root)
            continue
        if not present:
            if spec.default is _REQUIRED:
                raise InputError(f"{source}: missing required key '{dotted}'")
            value = copy.deepcopy(spec.default)
            if value is None:
                out[name] = None
                continue
        else:
            value = raw[name]
        try:
            value = spec.check(value)
        except _Bad as exc:
            raise InputError(f"{source}: key '{dotted}': {exc}") from None
        if spec.is_path and value is not None:
            p = Path(value).expanduser()
            value = str(p if p.is_absolute() else (root / p).resolve())
        out[name] = value
    return out


def _cross_checks(p: Params, source: str) -> None:
    per = p.periods
    if per and per.calibration_end and per.observation_end:
        if per.calibration_end >= per.observation_end:
            raise InputError(
                f"{source}: key 'periods.calibration_end' ({per.calibration_end}) must be "
                f"before 'periods.observation_end' ({per.observation_end})"
            )
    t = p.segmentation.tiers
    if not 0 < t.high < t.medium <= 1:
        raise InputError(
            f"{source}: keys 'segmentation.tiers': need 0 < high < medium <= 1, "
            f"got high={t.high}, medium={t.medium}"
        )
    k0, k1 = p.segmentation.k_range
    if k0 > k1:
        raise InputError(f"{source}: key 'segmentation.k_range': {k0} > {k1}")
    life = p.segmentation.lifecycle
    if life.at_risk_factor >= life.lapsed_factor:
        raise InputError(
            f"{source}: keys 'segmentation.lifecycle': need at_risk_factor < lapsed_factor, "
            f"got {life.at_risk_factor} and {life.lapsed_factor}"
        )
    s = p.survey
    if s:
        lo, hi = s.scale
        if lo >= hi:
            raise InputError(f"{source}: key 'survey.scale': minimum {lo} >= maximum {hi}")
        for d in s.drivers or []:
            if d not in s.constructs or d in (s.outcome, s.loyalty):
                raise InputError(
                    f"{source}: key 'survey.drivers': {d!r} is not one of the constructs other "
                    f"than the outcome and loyalty ({', '.join(s.constructs)})"
                )
        levers = s.drivers or [c for c in s.constructs if c not in (s.outcome, s.loyalty)]
        for a in s.actionable or []:
            if a not in levers:
                raise InputError(
                    f"{source}: key 'survey.actionable': {a!r} is not one of the drivers "
                    f"({', '.join(levers)})"
                )
        for key in ("outcome", "loyalty"):
            if s[key] is not None and s[key] not in s.constructs:
                raise InputError(
                    f"{source}: key 'survey.{key}': {s[key]!r} is not one of the constructs "
                    f"({', '.join(s.constructs)})"
                )
        rlo, rhi = s.recommend_scale
        if rlo >= rhi:
            raise InputError(f"{source}: key 'survey.recommend_scale': minimum {rlo} >= maximum {rhi}")
        if s.nps_mapping == "labels" and not (rhi == 10 and rlo in (0, 1)):
            raise InputError(
                f"{source}: key 'survey.nps_mapping': labels needs a 0-10 or 1-10 "
                f"recommend_scale, got [{rlo:g}, {rhi:g}]; use linear"
            )
        if s.model is not None:
            from crmlab.satisfaction_pls import pls_model  # lazy, as the segment map above

            try:
                pls_model(s)
            except InputError as exc:
                where, _, what = str(exc).partition(": ")
                raise InputError(f"{source}: key 'survey.{where}': {what}") from None
    if p.engine.name == "pandas" and p.engine.address:
        raise InputError(f"{source}: key 'engine.address' is only used with engine.name: dask")


def apply_overrides(raw: dict, overrides: Iterable[str], source: str = "--set") -> dict:
    """Return a copy of ``raw`` with ``dotted.key=value`` overrides applied.

    Values are parsed as YAML, so ``--set segmentation.k_range=[3,6]`` or
    ``--set periods.calibration_end=null`` work as they would in the file.
    """
    raw = copy.deepcopy(raw) if raw else {}
    for item in overrides:
        if "=" not in item:
            raise InputError(f"{source}: override {item!r} must look like dotted.key=value")
        dotted, text = item.split("=", 1)
        parts = [x for x in dotted.strip().split(".")]
        if not all(parts):
            raise InputError(f"{source}: override {item!r} has an empty key part")
        try:
            value = _yaml(text) if text.strip() else ""
        except (yaml.YAMLError, ValueError, RecursionError) as exc:
            raise InputError(f"{source}: override {item!r}: value is not valid YAML ({exc})") from None
        node = raw
        for part in parts[:-1]:
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
            elif not isinstance(nxt, dict):
                raise InputError(f"{source}: override {item!r}: '{part}' is not a section")
            node = nxt
        node[parts[-1]] = value
    return raw


def params_from_dict(
    raw: Mapping, overrides: Iterable[str] = (), source: str = "<params>", root: Path | None = None
) -> Params:
    """Validate an already-parsed params mapping (used by tests and the runner)."""
    root = Path(root) if root is not None else PROJ_ROOT
    if raw is not None and not isinstance(raw, Mapping):
        raise InputError(f"{source}: 'top level' must be a mapping of keys, got {type(raw).__name__}")
    raw = apply_overrides(dict(raw or {}), overrides, source)
    p = _validate(SCHEMA, raw, "", source, root)
    _cross_checks(p, source)
    return p


def load_params(path: str | Path | None = None, overrides: Iterable[str] = ()) -> Params:
    """Read, override and validate a params YAML file.

    Parameters
    ----------
    path : str or Path, optional
        The YAML file; ``None`` means ``params/default.yaml``. A relative path is taken
        from the current folder first, then from the project root.
    overrides : iterable of str
        ``dotted.key=value`` items, applied after the file is read (the CLI's ``--set``).

    Returns
    -------
    Params
        Nested sections with every key present (defaults filled in), file paths absolute.
        Optional sections that are absent (``survey``, ``churn``, ...) are ``None``.

    Raises
    ------
    InputError
        Missing file, YAML syntax error, unknown key, wrong type: the message names the
        file and the dotted key.
    """
    p = Path(path) if path is not None else DEFAULT_PARAMS
    if not p.is_absolute() and not p.exists() and (PROJ_ROOT / p).exists():
        p = PROJ_ROOT / p
    if not p.is_file():
        raise InputError(f"{p}: params file not found")
    if p.stat().st_size > 1 << 20:
        raise InputError(f"{p}: params file larger than 1 MB; is this the right file?")
    try:
        raw = _yaml(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"{p}: not valid YAML{where}") from None
    except UnicodeDecodeError:
        raise InputError(f"{p}: params file must be UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{p}: not valid YAML ({exc})") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read the params file ({exc.strerror or exc})") from None
    return params_from_dict(raw, overrides, source=str(p))


# --- where a stage reads and writes ---------------------------------------------------------


def _writable_folder(folder: Path, key: str, source: str) -> None:
    """Raise unless ``folder`` is (or can be created as) a folder this process can write in."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise InputError(f"{source}: key '{key}': {probe} is a file, not a folder")
    try:  # the deepest folder that exists must take a new file (nothing is created here)
        import tempfile

        fd, tmp = tempfile.mkstemp(dir=probe, prefix=".crmlab-write-check-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise InputError(
            f"{source}: key '{key}': cannot write in {probe} ({exc.strerror or exc})"
        ) from None


def check_writable(params: Params, source: str = "params") -> None:
    """Check that the run can write its products and its run folder (``paths.*``).

    Raises
    ------
    InputError
        A path is under a file, or a folder is read-only / cannot be created.
    """
    for key in ("processed", "outputs"):
        _writable_folder(Path(params.paths[key]) / params.run_name, f"paths.{key}", source)


def apply_privacy(params: Params) -> None:
    """Make the pseudonymisation key of ``privacy.key_file`` available to the readers.

    The key goes into this process's environment (:data:`crmlab.privacy.KEY_ENV`), which
    papermill kernels inherit; a key already set in the environment wins. The key itself
    is never written anywhere.
    """
    from crmlab.privacy import KEY_ENV

    key_file = (params.get("privacy") or {}).get("key_file")
    if not key_file or os.environ.get(KEY_ENV):
        return
    try:
        key = Path(key_file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{key_file}: key 'privacy.key_file': cannot read the key ({exc})") from None
    if len(key) < 16:
        raise InputError(f"{key_file}: key 'privacy.key_file': the key must be at least 16 characters")
    os.environ[KEY_ENV] = key
