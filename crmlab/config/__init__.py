"""Params: one YAML file, validated once at the door into nested, typed, frozen sections.

Every key the chain understands is declared in the schema (:mod:`crmlab.config.schema`),
with its checker (:mod:`crmlab.config.checks`) and its default, the one place a default
lives (:func:`default`). An unknown key, a wrong type or a missing required key fails with
the dotted key and the file (``InputError``), before any notebook starts
(:mod:`crmlab.config.load`). The validated sections are read-only dicts
(:mod:`crmlab.config.params`).

Relative paths in a params file are resolved against the project root (:data:`PROJ_ROOT`,
the folder holding ``pyproject.toml``), so the same file works from the shell, from cron and
from a notebook whose working folder is ``notebooks/``.
"""

from crmlab.config.checks import RUN_NAME_MAX
from crmlab.config.load import (
    DEFAULT_PARAMS,
    PROJ_ROOT,
    apply_overrides,
    apply_privacy,
    check_writable,
    load_params,
    params_from_dict,
)
from crmlab.config.params import FrozenList, Params, plain
from crmlab.config.schema import (
    CHURN,
    CHURN_WARNING,
    INTERACTIONS,
    PERIODS,
    REPORT,
    SCHEMA,
    SEGMENTATION,
    SURVEY,
    TRANSACTIONS,
    VALUE,
    Key,
    Section,
    default,
)

__all__ = [
    "PROJ_ROOT",
    "DEFAULT_PARAMS",
    "RUN_NAME_MAX",
    "SCHEMA",
    "TRANSACTIONS",
    "PERIODS",
    "SEGMENTATION",
    "VALUE",
    "SURVEY",
    "CHURN",
    "CHURN_WARNING",
    "REPORT",
    "INTERACTIONS",
    "Key",
    "Section",
    "Params",
    "FrozenList",
    "plain",
    "default",
    "load_params",
    "params_from_dict",
    "apply_overrides",
    "check_writable",
    "apply_privacy",
]
