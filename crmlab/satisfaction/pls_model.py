"""PLS path modelling (PLS-SEM): the engine behind a customer satisfaction index model.

A satisfaction index model (ACSI, ECSI) is a chain of constructs -- Image -> Expectation
-> Quality -> Value -> Satisfaction -> Complaints -> Loyalty -- each measured by a few
survey items. Partial least squares path modelling estimates it as *composites*: every
construct score is a weighted sum of its standardised items, with the weights chosen
iteratively so that each composite predicts (and is predicted by) its neighbours in the
structural model. It is prediction-oriented and needs no distributional assumptions,
which is why the customer satisfaction indices use it instead of covariance-based SEM.

The algorithm follows Lohmöller (1989) as implemented by seminr 2.5 (its defaults are
ours): indicators standardised (sample SD, ``n - 1``), outer weights started at 1, inner
weighting by the *path* scheme, outer weights updated by mode A (covariance with the
inner proxy; reflective) or mode B (multiple regression on the items; formative),
rescaled so every construct score has unit variance, and iterated until the summed
absolute change of the outer weights is below ``tol`` (1e-7). Path coefficients are OLS
on the final construct scores; total effects are ``(I - B)^-1 - I`` for the path matrix
``B`` (``B[source, target]``), indirect effects the total minus the direct ones.

The model is given the way the params hold it::

    measurement = {"Image": ["IMAG1", ...], "Expectation": ["CUEX1", "CUEX2", "CUEX3"]}
    structural = {"Expectation": ["Image"], "Quality": ["Expectation"], ...}

``structural`` maps each endogenous construct to its predecessors. This module holds the
model's specification (:func:`specify`) and its fitted result (:class:`PLSResult`); the
estimation is :mod:`crmlab.satisfaction.pls`, quality measures (reliability, HTMT) and the
0-100 index :mod:`crmlab.satisfaction.pls_quality`, NPS :mod:`crmlab.satisfaction.nps`.

References
----------
Lohmöller (1989), *Latent Variable Path Modeling with Partial Least Squares*, Physica.
Tenenhaus, Esposito Vinzi, Chatelin & Lauro (2005), "PLS path modeling", Computational
Statistics & Data Analysis 48(1).
Ray, Danks & Calero Valdez (2022), *seminr* R package 2.5 (``estimate_pls``,
``bootstrap_model``).
Hair, Hult, Ringle & Sarstedt (2022), *A Primer on PLS-SEM*, 3rd ed., Sage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmlab.errors import InputError

__all__ = [
    "SCHEMES",
    "MODES",
    "MISSING",
    "ConvergenceError",
    "PLSModel",
    "PLSResult",
    "specify",
]

SCHEMES = ("path", "centroid", "factor")
MODES = ("A", "B")
MISSING = ("mean", "drop")


class ConvergenceError(RuntimeError):
    """The PLS iterations did not settle within ``max_iter`` steps."""


@dataclass(frozen=True)
class PLSModel:
    """A validated PLS path model (build it with :func:`specify`).

    Attributes
    ----------
    measurement : dict of str to tuple of str
        Construct -> its items, in the order given.
    structural : dict of str to tuple of str
        Endogenous construct -> its predecessors.
    modes : dict of str to str
        Construct -> ``"A"`` (reflective) or ``"B"`` (formative).
    """

    measurement: dict[str, tuple[str, ...]]
    structural: dict[str, tuple[str, ...]]
    modes: dict[str, str]

    @property
    def constructs(self) -> list[str]:
        """Constructs in measurement order."""
        return list(self.measurement)

    @property
    def items(self) -> list[str]:
        """All items, construct by construct."""
        return [item for items in self.measurement.values() for item in items]

    @property
    def edges(self) -> list[tuple[str, str]]:
        """Structural paths as ``(source, target)`` pairs."""
        return [(s, t) for t, preds in self.structural.items() for s in preds]

    def path_mask(self) -> np.ndarray:
        """Boolean matrix ``M[source, target]`` of the structural paths."""
        idx = {c: i for i, c in enumerate(self.constructs)}
        mask = np.zeros((len(idx), len(idx)), dtype=bool)
        for s, t in self.edges:
            mask[idx[s], idx[t]] = True
        return mask

    def reach(self) -> tuple[np.ndarray, np.ndarray]:
        """Which pairs have a total effect and which an indirect one (boolean ``[s, t]``)."""
        mask = self.path_mask().astype(int)
        total = np.zeros_like(mask)
        power = mask.copy()
        indirect = np.zeros_like(mask)
        for step in range(len(mask)):
            total |= power > 0
            if step > 0:
                indirect |= power > 0
            power = (power @ mask > 0).astype(int)
        return total.astype(bool), indirect.astype(bool)


def _as_names(value, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        raise InputError(f"{key}: expected a list of names, got {type(value).__name__}")
    names = tuple(value)
    for name in names:
        if not isinstance(name, str) or not name:
            raise InputError(f"{key}: expected names, got {name!r}")
    return names


def specify(
    measurement: Mapping[str, Sequence[str]],
    structural: Mapping[str, Sequence[str]],
    modes: Mapping[str, str] | None = None,
) -> PLSModel:
    """Check a PLS path model and return it as a :class:`PLSModel`.

    Parameters
    ----------
    measurement : mapping of str to list of str
        Construct -> the names of its items (a single name is accepted).
    structural : mapping of str to list of str
        Endogenous construct -> its predecessors, e.g. ``{"Quality": ["Expectation"]}``.
    modes : mapping of str to str, optional
        Construct -> ``"A"`` (reflective, default) or ``"B"`` (formative).

    Returns
    -------
    PLSModel

    Raises
    ------
    InputError
        A construct without items, an item used twice, a structural key or predecessor
        that is not a construct, a self-loop or cycle, a construct with no path, or an
        unknown mode; the message names the key.
    """
    if not isinstance(measurement, Mapping) or not measurement:
        raise InputError("measurement: expected a non-empty mapping {construct: [items]}")
    if not isinstance(structural, Mapping) or not structural:
        raise InputError("model: expected a non-empty mapping {construct: [predecessors]}")
    meas: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {}
    for construct, items in measurement.items():
        names = _as_names(items if items is not None else [], f"measurement.{construct}")
        if not names:
            raise InputError(f"measurement.{construct}: construct has no items")
        for item in names:
            if item in seen:
                raise InputError(
                    f"measurement.{construct}: item {item!r} already belongs to {seen[item]!r}"
                )
            seen[item] = construct
        meas[str(construct)] = names
    struct: dict[str, tuple[str, ...]] = {}
    for target, preds in structural.items():
        if target not in meas:
            raise InputError(f"model.{target}: not a construct of the measurement model")
        names = _as_names(preds if preds is not None else [], f"model.{target}")
        if not names:
            raise InputError(f"model.{target}: no predecessors")
        for source in names:
            if source not in meas:
                raise InputError(f"model.{target}: predecessor {source!r} is not a construct")
            if source == target:
                raise InputError(f"model.{target}: a construct cannot predict itself")
        if len(set(names)) != len(names):
            raise InputError(f"model.{target}: a predecessor is listed twice")
        struct[str(target)] = names
    linked = set(struct) | {s for preds in struct.values() for s in preds}
    for construct in meas:
        if construct not in linked:
            raise InputError(f"model: construct {construct!r} has no structural path")
    # Kahn's algorithm: whatever cannot be ordered sits on a cycle.
    remaining = {t: set(p) for t, p in struct.items()}
    done = set(meas) - set(struct)
    while True:
        ready = [t for t, p in remaining.items() if p <= done]
        if not ready:
            break
        for t in ready:
            done.add(t)
            del remaining[t]
    if remaining:
        raise InputError(f"model: cycle through {', '.join(sorted(remaining))}")
    mode_map = {c: "A" for c in meas}
    for construct, mode in (modes or {}).items():
        if construct not in meas:
            raise InputError(f"modes.{construct}: not a construct of the measurement model")
        mode = str(mode).upper()
        if mode not in MODES:
            raise InputError(f"modes.{construct}: expected 'A' or 'B', got {mode!r}")
        mode_map[construct] = mode
    return PLSModel(meas, struct, mode_map)


def _effects(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    eye = np.eye(len(b))
    total = np.linalg.inv(eye - b) - eye
    return total, total - b


@dataclass
class PLSResult:
    """A fitted PLS path model (see :func:`fit_pls`).

    Attributes
    ----------
    model : PLSModel
    scheme : str
        Inner weighting scheme used.
    iterations : int
        Outer-weight updates made, the last one being the one whose change fell below
        ``tol``. seminr counts its loop from 0 and so reports one less for the same fit
        (mobi's ECSI model: 7 here, "6 iterations" in seminr).
    n : int
        Respondents used.
    data : DataFrame
        The items after missing-value handling, raw scale (for reliability and indices).
    outer : DataFrame
        One row per item: ``construct``, ``mode``, ``weight`` (for standardised items),
        ``loading`` (correlation of the item with its construct score).
    scores : DataFrame
        Standardised construct scores, one row per respondent.
    paths, total_effects, indirect_effects : DataFrame
        Square ``[source, target]`` matrices over the constructs.
    r2, r2_adj : Series
        R² and adjusted R² of each endogenous construct.
    """

    model: PLSModel
    scheme: str
    iterations: int
    n: int
    data: pd.DataFrame
    outer: pd.DataFrame
    scores: pd.DataFrame
    paths: pd.DataFrame
    total_effects: pd.DataFrame
    indirect_effects: pd.DataFrame
    r2: pd.Series
    r2_adj: pd.Series

    def effects_table(self) -> pd.DataFrame:
        """Every pair with a total effect: ``source``, ``target``, ``direct``, ``indirect``, ``total``.

        Returns
        -------
        DataFrame
            Indexed by ``"source -> target"``, in structural order.
        """
        total, _ = self.model.reach()
        names = self.model.constructs
        rows = [
            {
                "source": s,
                "target": t,
                "direct": float(self.paths.loc[s, t]),
                "indirect": float(self.indirect_effects.loc[s, t]),
                "total": float(self.total_effects.loc[s, t]),
            }
            for i, s in enumerate(names)
            for j, t in enumerate(names)
            if total[i, j]
        ]
        table = pd.DataFrame(rows, columns=["source", "target", "direct", "indirect", "total"])
        return table.set_axis(
            [f"{s} -> {t}" for s, t in zip(table.source, table.target, strict=True)]
        )

    def _indirect(self) -> list[tuple[str, str]]:
        names = self.model.constructs
        _, reach = self.model.reach()
        return [(s, t) for i, s in enumerate(names) for j, t in enumerate(names) if reach[i, j]]

    def to_dict(self) -> dict:
        """Summarise as JSON-ready dict: r2, paths and effects keyed ``"A -> B"``, weights.

        Returns
        -------
        dict
            ``r2``, ``r2_adj``, ``paths``, ``total_effects``, ``indirect_effects``,
            ``outer_weights`` and ``outer_loadings`` ({construct: {item: value}}),
            ``iterations``, ``scheme``, ``n``.
        """
        eff = self.effects_table()
        nested = {
            kind: {
                c: {i: float(v) for i, v in grp[kind].items()}
                for c, grp in self.outer.groupby("construct", sort=False)
            }
            for kind in ("weight", "loading")
        }
        return {
            "r2": {k: float(v) for k, v in self.r2.items()},
            "r2_adj": {k: float(v) for k, v in self.r2_adj.items()},
            "paths": {f"{s} -> {t}": float(self.paths.loc[s, t]) for s, t in self.model.edges},
            "total_effects": {k: float(v) for k, v in eff["total"].items()},
            "indirect_effects": {
                f"{s} -> {t}": float(self.indirect_effects.loc[s, t]) for s, t in self._indirect()
            },
            "outer_weights": nested["weight"],
            "outer_loadings": nested["loading"],
            "iterations": int(self.iterations),
            "scheme": self.scheme,
            "n": int(self.n),
        }
