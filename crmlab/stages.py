"""The stage registry: the chain's contract.

Each stage names its notebook, the params section it needs, and the products it **reads**
and **writes**. The runner checks the chain against it before a run; the notebook reaches
products only through :class:`crmlab.context.StageContext`, which refuses a product the
stage did not declare. Nothing here imports the rest of the package.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from crmlab.errors import InputError

__all__ = ["Stage", "STAGES", "stage_names", "select_stages", "get_stage", "producer_of"]


@dataclass(frozen=True)
class Stage:
    """One link of the chain.

    Attributes
    ----------
    name : str
        The stage name used by ``--only``.
    notebook : str
        File name under ``notebooks/``.
    section : str, tuple of str, or None
        Params section that must be present for the stage to run (else it is skipped);
        with a tuple, any one of them is enough (the notebook uses what is there).
    reads : tuple of str
        Products of earlier stages the notebook must find (the run fails without them).
    optional_reads : tuple of str
        Products of earlier stages the notebook uses when they exist.
    writes : tuple of str
        Products the notebook writes.
    needs_keys : tuple of str
        Dotted params keys that must be non-null (else the stage is skipped).
    """

    name: str
    notebook: str
    section: str | tuple[str, ...] | None
    reads: tuple[str, ...] = ()
    optional_reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    needs_keys: tuple[str, ...] = ()

    def declares_read(self, product: str) -> bool:
        """Say whether the stage declared ``product`` among its (optional) reads."""
        return product in self.reads or product in self.optional_reads

    def skip_reason(self, params: Any, tr: Any = None) -> str | None:
        """Why this stage cannot run with these params, or None (in the language of ``tr``)."""
        from crmlab.i18n import EN

        tr = tr or EN
        sections = (self.section,) if isinstance(self.section, str) else (self.section or ())
        if sections and not any(params.get(s) for s in sections):
            names = tr("common.skip.or").join(f"'{s}:'" for s in sections)
            return tr("common.skip.no_section", names=names)
        for dotted in self.needs_keys:
            node: Any = params
            for part in dotted.split("."):
                node = node.get(part) if hasattr(node, "get") else None
            if node in (None, ""):
                return tr("common.skip.key_not_set", key=dotted)
        return None


_UPSTREAM = (
    "transactions.parquet", "quarantine.parquet", "cleaning_report.json", "customers.parquet",
    "value_predictions.parquet", "value_metrics.json", "satisfaction.json",
    "churn_scores.parquet", "churn_metrics.json", "churn_warning.parquet",
    "interactions.parquet", "customer_interactions.parquet", "interaction_metrics.json",
    "interaction_quarantine.parquet",
)

STAGES: tuple[Stage, ...] = (
    Stage(
        "cleaning",
        "01_data_cleaning.ipynb",
        "transactions",
        writes=("transactions.parquet", "quarantine.parquet", "cleaning_report.json"),
    ),
    Stage(
        "segmentation",
        "02_segmentation.ipynb",
        "transactions",
        reads=("transactions.parquet",),
        writes=("customers.parquet",),
    ),
    Stage(
        "value",
        "03_value_prediction.ipynb",
        "transactions",
        reads=("transactions.parquet",),
        writes=("value_predictions.parquet", "value_metrics.json"),
        needs_keys=("periods.calibration_end", "periods.observation_end"),
    ),
    Stage(
        "satisfaction",
        "04_satisfaction_analysis.ipynb",
        "survey",
        writes=("satisfaction.json",),
    ),
    # Contacts, channels, complaints, feedback sentiment, campaigns and profitability; feeds
    # per-customer interaction features to the churn warning.
    Stage(
        "interactions",
        "05_interactions.ipynb",
        "interactions",
        reads=("transactions.parquet", "customers.parquet"),
        optional_reads=("value_predictions.parquet",),
        writes=("interactions.parquet", "customer_interactions.parquet", "interaction_metrics.json",
                "interaction_quarantine.parquet"),
    ),
    # The labelled churn model and/or the purchase-based warning: either input is enough,
    # the notebook does what its inputs allow, so its upstream reads are optional.
    Stage(
        "churn",
        "06_churn_warning.ipynb",
        ("churn", "transactions"),
        optional_reads=("transactions.parquet", "customers.parquet", "customer_interactions.parquet"),
        writes=("churn_scores.parquet", "churn_metrics.json", "churn_warning.parquet"),
    ),
    Stage("report", "07_summary_report.ipynb", None, optional_reads=_UPSTREAM),
)


def stage_names() -> list[str]:
    """Stage names in chain order."""
    return [s.name for s in STAGES]


def get_stage(name: str) -> Stage:
    """Return the registered stage called ``name``."""
    for st in STAGES:
        if st.name == name:
            return st
    raise KeyError(f"no stage named {name!r} (stages: {', '.join(stage_names())})")


def producer_of(product: str) -> str | None:
    """Name of the stage that writes ``product``, or None."""
    return next((s.name for s in STAGES if product in s.writes), None)


def select_stages(only: Iterable[str] | None) -> list[Stage]:
    """Return the stages to run, in chain order; ``only`` names a subset (any order)."""
    if not only:
        return list(STAGES)
    wanted = []
    for item in only:
        wanted += [x.strip() for x in item.split(",") if x.strip()]
    known = stage_names()
    if not wanted:  # --only "" must not run nothing and call it a success
        raise InputError(f"--only: no stage named (stages: {', '.join(known)})")
    for name in wanted:
        if name not in known:
            raise InputError(f"--only: unknown stage {name!r} (stages: {', '.join(known)})")
    return [s for s in STAGES if s.name in wanted]
