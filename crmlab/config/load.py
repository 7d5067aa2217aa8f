"""Load params: read the YAML, apply ``--set`` overrides, validate against the schema.

Validation (:func:`params_from_dict`) checks every key against :data:`SCHEMA`, fills in
the defaults, resolves relative paths against the project root, runs the checks that
span keys, and returns frozen :class:`~crmlab.config.params.Params`. Also here: the checks a
run makes before it writes (:func:`check_writable`) and the pseudonymisation key
(:func:`apply_privacy`).
"""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from crmlab.config.checks import Bad
from crmlab.config.params import Params, freeze
from crmlab.config.schema import REQUIRED, SCHEMA, Section
from crmlab.errors import InputError

__all__ = [
    "PROJ_ROOT",
    "DEFAULT_PARAMS",
    "load_params",
    "params_from_dict",
    "apply_overrides",
    "check_writable",
    "apply_privacy",
]

PROJ_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PARAMS = PROJ_ROOT / "params" / "default.yaml"


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


def _validate(section: Section, raw: Any, prefix: str, source: str, root: Path) -> dict:
    """Check ``raw`` against ``section``; a plain dict with every key (defaults filled in)."""
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
    out: dict[str, Any] = {}
    for name, spec in section.keys.items():
        dotted = f"{prefix}{name}"
        present = name in raw
        if isinstance(spec, Section):
            if spec.optional and (not present or raw[name] is None):
                out[name] = None
            else:
                out[name] = _validate(spec, raw.get(name), f"{dotted}.", source, root)
            continue
        if not present:
            if spec.default is REQUIRED:
                raise InputError(f"{source}: missing required key '{dotted}'")
            value = copy.deepcopy(spec.default)
            if value is None:
                out[name] = None
                continue
        else:
            value = raw[name]
        try:
            value = spec.check(value)
        except Bad as exc:
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
            from crmlab.satisfaction.pls_stage import pls_model  # lazy, as the segment map above

            try:
                pls_model(s)
            except InputError as exc:
                where, _, what = str(exc).partition(": ")
                raise InputError(f"{source}: key 'survey.{where}': {what}") from None
    if p.interactions:
        from crmlab.interactions.params import check_interactions  # no heavy imports behind it

        check_interactions(p.interactions, source)
        if not p.transactions:
            raise InputError(
                f"{source}: key 'interactions': needs a 'transactions:' section (contacts are "
                "analysed against the customers' purchases)"
            )
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
    """Validate an already-parsed params mapping (used by tests and the runner).

    Returns
    -------
    Params
        Frozen: sections, open mappings and lists refuse to be changed (``TypeError``).
    """
    root = Path(root) if root is not None else PROJ_ROOT
    if raw is not None and not isinstance(raw, Mapping):
        raise InputError(f"{source}: 'top level' must be a mapping of keys, got {type(raw).__name__}")
    raw = apply_overrides(dict(raw or {}), overrides, source)
    p = freeze(_validate(SCHEMA, raw, "", source, root))
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
        Optional sections that are absent (``survey``, ``churn``, ...) are ``None``. The
        sections are frozen: setting or deleting a key raises ``TypeError``.

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
