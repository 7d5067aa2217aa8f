"""The scikit-learn pieces of the explainable logistic model.

:class:`BaselineOneHot` codes each category against its most frequent level,
:class:`DropCollinear` removes design columns the others already explain, and
:class:`StatsmodelsLogit` puts statsmodels' maximum-likelihood ``Logit`` (standard errors,
confidence intervals) behind the scikit-learn API, so all three sit inside one ``Pipeline``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin

__all__ = ["BaselineOneHot", "DropCollinear", "StatsmodelsLogit"]


class BaselineOneHot(TransformerMixin, BaseEstimator):
    """One-hot encoding whose dropped (baseline) level is each column's most frequent one.

    The baseline is the typical customer, so every odds ratio reads "this level vs the usual
    one". Levels unseen in training encode as the baseline (all zeros).
    """

    def fit(self, X, y=None):
        """Learn each column's levels, most frequent first (ties alphabetically)."""
        X = pd.DataFrame(X)
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.levels_ = {}
        for col in X.columns:
            counts = X[col].astype(str).value_counts()
            order = sorted(counts.index, key=lambda v: (-counts[v], v))
            self.levels_[str(col)] = order
        return self

    def transform(self, X):
        """Return dummy columns ``<column>=<level>`` for every non-baseline level."""
        X = pd.DataFrame(X)
        cols = {}
        for col, levels in self.levels_.items():
            values = X[col].astype(str).to_numpy()
            for level in levels[1:]:
                cols[f"{col}={level}"] = (values == level).astype(np.float64)
        return pd.DataFrame(cols, index=X.index)

    def get_feature_names_out(self, input_features=None):
        """Names ``<column>=<level>``."""
        return np.asarray(
            [f"{c}={lv}" for c, levels in self.levels_.items() for lv in levels[1:]], dtype=object
        )


class DropCollinear(TransformerMixin, BaseEstimator):
    r"""Drop design columns the others (and the intercept) already explain.

    Two passes on the training rows, each dropped column listed in ``dropped_`` with why:

    1. **exact** redundancy: Telco's ``online_security = No internet service`` repeats
       ``internet_service = No`` in six columns and ``multiple_lines = No phone service`` is
       ``1 - phone_service``, which makes the logistic information matrix singular. Columns
       are scanned in order; one whose residual after projecting on the kept columns
       (Gram-Schmidt) is ~0 is dropped -- the earlier, more readable column keeps the effect.
    2. **near** redundancy: while the largest variance inflation factor
       :math:`\mathrm{VIF}_j = 1 / (1 - R_j^2)` exceeds ``max_vif``, that column is dropped
       (Telco's ``monthly_charges`` is almost the sum of the service prices). Its odds
       ratio would have a huge confidence interval and its effect would be split at random
       between it and the services, which makes per-customer reasons unreadable.

    Parameters
    ----------
    tol : float
        Relative residual norm below which a column counts as an exact combination.
    max_vif : float or None
        Largest VIF allowed; ``None`` keeps near-redundant columns.
    """

    def __init__(self, tol: float = 1e-7, max_vif: float | None = 20.0):
        self.tol = tol
        self.max_vif = max_vif

    def fit(self, X, y=None):
        """Find the redundant columns on the training rows."""
        X = pd.DataFrame(X)
        A = X.to_numpy(dtype=np.float64)
        basis = [np.ones(len(A)) / math.sqrt(max(len(A), 1))]
        keep = np.zeros(A.shape[1], dtype=bool)
        dropped: dict[str, str] = {}
        for j in range(A.shape[1]):
            v = A[:, j].copy()
            norm = np.linalg.norm(v)
            for _ in range(2):  # twice: classical Gram-Schmidt loses orthogonality otherwise
                for q in basis:
                    v -= (q @ v) * q
            r = np.linalg.norm(v)
            if norm == 0 or r <= self.tol * max(norm, 1.0):
                dropped[str(X.columns[j])] = "exact linear combination of earlier columns"
            else:
                keep[j] = True
                basis.append(v / r)
        while self.max_vif is not None and keep.sum() >= 2:
            idx = np.flatnonzero(keep)
            corr = np.corrcoef(A[:, idx], rowvar=False)
            vif = np.diag(np.linalg.pinv(corr))
            worst = int(np.argmax(vif))
            if vif[worst] <= self.max_vif:
                break
            keep[idx[worst]] = False
            dropped[str(X.columns[idx[worst]])] = f"variance inflation factor {vif[worst]:,.0f}"
        self.keep_ = keep
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.dropped_ = dropped
        return self

    def transform(self, X):
        """Return the kept columns."""
        X = pd.DataFrame(X)
        if [str(c) for c in X.columns] != list(self.feature_names_in_):
            raise ValueError("DropCollinear: columns differ from the ones seen in fit")
        return X.loc[:, self.keep_]

    def get_feature_names_out(self, input_features=None):
        """Names of the kept columns."""
        return self.feature_names_in_[self.keep_]


class StatsmodelsLogit(ClassifierMixin, BaseEstimator):
    """statsmodels ``Logit`` (maximum likelihood, standard errors) behind the scikit-learn API.

    After ``fit``: ``result_`` (the statsmodels results, with ``conf_int()``), ``coef_``
    (Series by design column, intercept excluded), ``intercept_``, ``x_mean_`` (training
    means of the design columns, for contributions) and ``notes_`` (separation/convergence
    warnings raised while fitting).

    Parameters
    ----------
    maxiter : int
        Newton iterations.
    """

    def __init__(self, maxiter: int = 100):
        self.maxiter = maxiter

    def fit(self, X, y):
        """Fit by Newton-Raphson; fall back to BFGS if the information matrix is singular."""
        # the module, not statsmodels.api: that one imports plotting and costs a second
        from statsmodels.discrete.discrete_model import Logit

        X = pd.DataFrame(X).astype(np.float64)
        y = np.asarray(y, dtype=np.float64)
        self.classes_ = np.array([0, 1])
        design = X.copy()
        design.insert(0, "(intercept)", 1.0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = Logit(y, design).fit(method="newton", maxiter=self.maxiter, disp=0)
            except np.linalg.LinAlgError:
                result = Logit(y, design).fit(method="bfgs", maxiter=10 * self.maxiter, disp=0)
        self.notes_ = sorted({f"{type(w.message).__name__}: {w.message}" for w in caught})
        self.result_ = result
        params = pd.Series(result.params, index=design.columns)
        self.intercept_ = float(params.iloc[0])
        self.coef_ = params.iloc[1:]
        self.x_mean_ = X.mean()
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def decision_function(self, X):
        """Linear predictor (log-odds)."""
        X = pd.DataFrame(X).astype(np.float64)
        return X.to_numpy() @ self.coef_.to_numpy() + self.intercept_

    def predict_proba(self, X):
        """Probabilities of class 0 and class 1."""
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        """Class at the 0.5 threshold."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)
