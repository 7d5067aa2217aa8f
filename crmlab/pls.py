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

``structural`` maps each endogenous construct to its predecessors. Quality measures
(reliability, HTMT), the 0-100 index and NPS live in :mod:`crmlab.pls_quality`.

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
from tqdm import tqdm  # plain text bar: tqdm.auto warns in kernels without ipywidgets

from crmlab.errors import InputError, require_columns

__all__ = [
    "SCHEMES",
    "MODES",
    "MISSING",
    "ConvergenceError",
    "PLSModel",
    "PLSResult",
    "specify",
    "prepare_items",
    "fit_pls",
    "bootstrap_pls",
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


def prepare_items(
    data: pd.DataFrame,
    items: Sequence[str],
    missing: str = "mean",
    missing_codes: Sequence[float] = (),
) -> pd.DataFrame:
    """Select the model's items as floats and deal with missing answers.

    Parameters
    ----------
    data : DataFrame
        The survey, one row per respondent, holding every item in ``items``.
    items : list of str
        The item columns.
    missing : {"mean", "drop"}
        ``"mean"`` replaces a missing answer by the item mean (seminr's default);
        ``"drop"`` removes respondents with any missing item (listwise).
    missing_codes : list of number
        Values that mean "no answer" (e.g. -99): set missing before anything else.

    Returns
    -------
    DataFrame
        The items only, as float, without missing values (index kept).

    Raises
    ------
    InputError
        A missing or non-numeric item column, an item with no answers, an unknown
        ``missing`` policy.
    """
    if missing not in MISSING:
        raise InputError(f"missing: expected one of {MISSING}, got {missing!r}")
    require_columns(data, items, "survey")
    out = pd.DataFrame(index=data.index)
    for item in items:
        col = pd.to_numeric(data[item], errors="coerce")
        bad = col.isna() & data[item].notna()
        if bad.any():
            raise InputError(f"survey: item {item!r} has non-numeric values")
        col = col.astype(float)
        if len(missing_codes):
            col = col.mask(col.isin([float(c) for c in missing_codes]))
        if col.notna().sum() == 0:
            raise InputError(f"survey: item {item!r} has no answers")
        out[item] = col
    if missing == "mean":
        return out.fillna(out.mean())
    return out.dropna()


def _standardise(x: np.ndarray, names: Sequence[str]) -> np.ndarray:
    sd = x.std(axis=0, ddof=1)
    flat = ~(sd > 0)
    if flat.any():
        raise InputError(f"survey: item {names[int(np.argmax(flat))]!r} has no variance")
    return (x - x.mean(axis=0)) / sd


def _unit(y: np.ndarray) -> np.ndarray:
    return (y - y.mean(axis=0)) / y.std(axis=0, ddof=1)


def _inner_weights(scores: np.ndarray, mask: np.ndarray, scheme: str) -> np.ndarray:
    r = np.corrcoef(scores, rowvar=False)
    adjacent = mask | mask.T
    if scheme == "centroid":
        return np.sign(r) * adjacent
    if scheme == "factor":
        return r * adjacent
    e = r * mask.T  # successors of a construct get their correlation with it
    for t in np.flatnonzero(mask.any(axis=0)):
        preds = np.flatnonzero(mask[:, t])
        e[preds, t] = np.linalg.solve(r[np.ix_(preds, preds)], r[preds, t])
    return e


def _outer_loop(z, blocks, modes, mask, scheme, tol, max_iter):
    """Iterate the outer weights; return ``(W, iterations)`` (``W`` is items x constructs)."""
    n, p = z.shape
    w = np.zeros((p, len(blocks)))
    for c, idx in enumerate(blocks):
        w[idx, c] = 1.0
    for iteration in range(1, max_iter + 1):
        last = w
        outer = _unit(z @ w)
        proxies = _unit(outer @ _inner_weights(outer, mask, scheme))
        w = np.zeros_like(last)
        for c, idx in enumerate(blocks):
            zc = z[:, idx]
            cov = zc.T @ proxies[:, c] / (n - 1)
            if modes[c] == "B":
                cov = np.linalg.solve(zc.T @ zc / (n - 1), cov)
            w[idx, c] = cov
        w = w / np.sqrt(((z @ w) ** 2).sum(axis=0) / (n - 1))
        if np.abs(w - last).sum() < tol:
            return w, iteration
    raise ConvergenceError(
        f"PLS did not converge in {max_iter} iterations (tol {tol:g}); raise max_iter "
        "or check the model"
    )


def _paths(scores: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS path matrix ``B[source, target]`` and R² per construct (NaN if exogenous)."""
    r = np.corrcoef(scores, rowvar=False)
    b = np.zeros_like(r)
    r2 = np.full(len(r), np.nan)
    for t in np.flatnonzero(mask.any(axis=0)):
        preds = np.flatnonzero(mask[:, t])
        beta = np.linalg.solve(r[np.ix_(preds, preds)], r[preds, t])
        b[preds, t] = beta
        r2[t] = float(beta @ r[preds, t])
    return b, r2


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


def _check_scheme(scheme: str, tol: float, max_iter: int) -> None:
    if scheme not in SCHEMES:
        raise InputError(f"scheme: expected one of {SCHEMES}, got {scheme!r}")
    if not (isinstance(max_iter, int | np.integer) and max_iter >= 1):
        raise InputError(f"max_iter: expected a positive integer, got {max_iter!r}")
    if not tol > 0:
        raise InputError(f"tol: expected a positive number, got {tol!r}")


def _fit_arrays(x: np.ndarray, model: PLSModel, scheme: str, tol: float, max_iter: int):
    """Core fit on a raw item array in ``model.items`` order."""
    items = model.items
    z = _standardise(x, items)
    pos = {item: k for k, item in enumerate(items)}
    blocks = [[pos[i] for i in model.measurement[c]] for c in model.constructs]
    modes = [model.modes[c] for c in model.constructs]
    mask = model.path_mask()
    w, iterations = _outer_loop(z, blocks, modes, mask, scheme, tol, max_iter)
    scores = z @ w
    b, r2 = _paths(scores, mask)
    return z, w, scores, b, r2, iterations


def fit_pls(
    data: pd.DataFrame,
    measurement: Mapping[str, Sequence[str]],
    structural: Mapping[str, Sequence[str]],
    modes: Mapping[str, str] | None = None,
    scheme: str = "path",
    missing: str = "mean",
    missing_codes: Sequence[float] = (),
    tol: float = 1e-7,
    max_iter: int = 300,
) -> PLSResult:
    """Estimate a PLS path model (seminr's ``estimate_pls`` with its defaults).

    Parameters
    ----------
    data : DataFrame
        One row per respondent, with every item named in ``measurement`` (other columns
        are ignored).
    measurement : mapping of str to list of str
        Construct -> its items.
    structural : mapping of str to list of str
        Endogenous construct -> its predecessors.
    modes : mapping of str to str, optional
        Construct -> ``"A"`` (reflective, the default) or ``"B"`` (formative).
    scheme : {"path", "centroid", "factor"}
        Inner weighting scheme.
    missing : {"mean", "drop"}
        Missing answers: item-mean replacement (seminr's default) or listwise deletion.
    missing_codes : list of number
        Values that mean "no answer" (e.g. -99), set missing first.
    tol : float
        Stop when the summed absolute change of all outer weights is below this.
    max_iter : int
        Give up (:class:`ConvergenceError`) after this many outer-weight updates. seminr's
        ``maxIt`` allows one more update and returns the unconverged weights silently;
        here non-convergence is an error.

    Returns
    -------
    PLSResult

    Raises
    ------
    InputError
        Bad model, items or settings (the message names the key or column).
    ConvergenceError
        The weights did not settle within ``max_iter`` iterations.

    """
    _check_scheme(scheme, tol, max_iter)
    model = specify(measurement, structural, modes)
    require_columns(data, [], "survey")
    for construct, names in model.measurement.items():
        for item in names:
            if item not in data.columns:
                raise InputError(f"measurement.{construct}: item {item!r} not in the survey data")
    items = prepare_items(data, model.items, missing, missing_codes)
    if len(items) < len(model.items) + 2:
        raise InputError(
            f"survey: {len(items)} usable respondents for {len(model.items)} items; too few"
        )
    z, w, scores, b, r2, iterations = _fit_arrays(items.to_numpy(), model, scheme, tol, max_iter)
    names = model.constructs
    n = len(items)
    owner = [c for c in names for _ in model.measurement[c]]
    col = {c: k for k, c in enumerate(names)}
    rows = np.arange(len(owner))
    cols = np.array([col[c] for c in owner])
    loadings = (z.T @ scores / (n - 1))[rows, cols]
    outer = pd.DataFrame(
        {
            "construct": owner,
            "mode": [model.modes[c] for c in owner],
            "weight": w[rows, cols],
            "loading": loadings,
        },
        index=pd.Index(model.items, name="item"),
    )
    total, indirect = _effects(b)
    endo = list(model.structural)
    k = pd.Series({t: len(model.structural[t]) for t in endo})
    r2s = pd.Series(r2, index=names)[endo]
    square = lambda m: pd.DataFrame(m, index=names, columns=names)  # noqa: E731
    return PLSResult(
        model=model,
        scheme=scheme,
        iterations=iterations,
        n=n,
        data=items,
        outer=outer,
        scores=pd.DataFrame(scores, index=items.index, columns=names),
        paths=square(b),
        total_effects=square(total),
        indirect_effects=square(indirect),
        r2=r2s.rename("r2"),
        r2_adj=(1 - (1 - r2s) * (n - 1) / (n - k - 1)).rename("r2_adj"),
    )


def bootstrap_pls(
    result: PLSResult,
    n_boot: int = 500,
    seed: int = 0,
    level: float = 0.95,
    tol: float = 1e-7,
    max_iter: int = 300,
    progress: bool = True,
) -> pd.DataFrame:
    """Percentile bootstrap intervals for paths, total and indirect effects.

    Respondents of ``result.data`` (after its missing-value handling) are resampled with
    replacement ``n_boot`` times and the model is refitted with the same scheme. A resample
    on which the model cannot be fitted (an item without variance, no convergence) is
    skipped and counted in ``n_ok``.

    Parameters
    ----------
    result : PLSResult
        The fit on the full sample (:func:`fit_pls`).
    n_boot : int
        Bootstrap resamples.
    seed : int
        Seed for ``np.random.default_rng``; the same seed gives the same intervals.
    level : float
        Confidence level of the percentile interval.
    tol, max_iter : float, int
        Stop rule of each refit.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    DataFrame
        Indexed by ``"source -> target"`` within ``kind``: columns ``kind`` (``path``,
        ``total``, ``indirect``), ``source``, ``target``, ``estimate`` (full sample),
        ``boot_mean``, ``boot_sd``, ``ci_low``, ``ci_high``, ``n_ok``.

    Raises
    ------
    InputError
        ``n_boot`` below 2 or ``level`` outside (0, 1).
    """
    if not (isinstance(n_boot, int | np.integer) and n_boot >= 2):
        raise InputError(f"n_boot: expected an integer >= 2, got {n_boot!r}")
    if not 0 < level < 1:
        raise InputError(f"level: expected a number in (0, 1), got {level!r}")
    _check_scheme(result.scheme, tol, max_iter)
    model = result.model
    names = model.constructs
    idx = {c: i for i, c in enumerate(names)}
    reach_total, reach_indirect = model.reach()
    wanted = [("path", s, t) for s, t in model.edges]
    for kind, reach in (("total", reach_total), ("indirect", reach_indirect)):
        wanted += [(kind, s, t) for s in names for t in names if reach[idx[s], idx[t]]]

    def pick(b: np.ndarray) -> np.ndarray:
        total, indirect = _effects(b)
        mats = {"path": b, "total": total, "indirect": indirect}
        return np.array([mats[k][idx[s], idx[t]] for k, s, t in wanted])

    x = result.data.to_numpy()
    rng = np.random.default_rng(seed)
    draws = []
    for _ in tqdm(range(n_boot), desc="PLS bootstrap", disable=not progress):
        rows = rng.integers(0, len(x), len(x))
        try:
            b = _fit_arrays(x[rows], model, result.scheme, tol, max_iter)[3]
        except (InputError, ConvergenceError, np.linalg.LinAlgError):
            continue
        draws.append(pick(b))
    if len(draws) < 2:
        raise InputError("bootstrap: fewer than two resamples could be fitted")
    draws = np.asarray(draws)
    tail = (1 - level) / 2
    estimate = pick(result.paths.to_numpy())
    table = pd.DataFrame(
        {
            "kind": [k for k, _, _ in wanted],
            "source": [s for _, s, _ in wanted],
            "target": [t for _, _, t in wanted],
            "estimate": estimate,
            "boot_mean": draws.mean(axis=0),
            "boot_sd": draws.std(axis=0, ddof=1),
            "ci_low": np.quantile(draws, tail, axis=0),
            "ci_high": np.quantile(draws, 1 - tail, axis=0),
            "n_ok": len(draws),
        }
    )
    return table.set_axis([f"{s} -> {t}" for _, s, t in wanted])
