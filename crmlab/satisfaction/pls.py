"""PLS path modelling: the estimation (Lohmöller's algorithm as in seminr 2.5) and bootstrap.

Indicators are standardised (sample SD, ``n - 1``), outer weights start at 1, inner
weights follow the *path* scheme (or centroid, factor), outer weights are updated by mode
A (covariance with the inner proxy) or mode B (regression on the items), rescaled to unit
score variance, and iterated until the summed absolute change is below ``tol``. Path
coefficients are OLS on the final scores. The model and the result types live in
:mod:`crmlab.satisfaction.pls_model`.

References
----------
Lohmöller (1989), *Latent Variable Path Modeling with Partial Least Squares*, Physica.
Ray, Danks & Calero Valdez (2022), *seminr* R package 2.5 (``estimate_pls``,
``bootstrap_model``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from tqdm import tqdm  # plain text bar: tqdm.auto warns in kernels without ipywidgets

from crmlab.errors import InputError, require_columns
from crmlab.satisfaction.pls_model import (
    MISSING,
    SCHEMES,
    ConvergenceError,
    PLSModel,
    PLSResult,
    _effects,
    specify,
)

__all__ = ["prepare_items", "fit_pls", "bootstrap_pls"]


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
    desc: str = "PLS bootstrap",
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
    desc : str
        The progress bar's label.

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
    for _ in tqdm(range(n_boot), desc=desc, disable=not progress):
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
