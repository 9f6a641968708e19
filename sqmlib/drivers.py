"""Key driver analysis: which parts of service move overall satisfaction, NPS and churn most.

Relative importance follows the definitions of R's relaimpo (metrics in R² units, ``rela = FALSE``):

- ``lmg``: the Shapley decomposition of R² (the increase in R² when a driver enters, averaged over all
  orderings); sums to R².
- ``first``: squared zero-order correlation with the outcome.
- ``last``: the drop in R² when the driver is removed from the full model.
- ``betasq``: squared standardised coefficient.
- ``pratt``: standardised coefficient times the zero-order correlation; sums to R².
- ``relative_weights``: Johnson's relative weights (relaimpo's ``genizi``); sums to R².

Everything comes from the correlation matrix. Exact LMG needs R² for all 2^p subsets of drivers: they are
computed without refitting by eliminating one driver at a time (Schur complements of the correlation
matrix), breadth first over the tree of include/exclude decisions and vectorised over all nodes of a level,
about 6·2^p operations in all. Dominance analysis reads the same all-subsets table.
"""
from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, replace
from math import comb
from typing import Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd

from . import plots
from .engines import check_engine
from .errors import Problem, SQMArgumentError, SQMDataError, SQMWarning, raise_problems
from .factors import cov2cor
from .gaps import QUADRANTS, dimension_scores, ipa
from .instruments import load as load_instrument
from .io import DataFolder
from .moments import Moments, is_moments, survey_moments
from .periods import followed_up
from .results import Unavailable, Block, Result, bullets, figure, headline, table, text

METHODS = ("lmg", "first", "last", "betasq", "pratt", "relative_weights")
MAX_EXACT_DRIVERS = 30


# ---------------------------------------------------------------------------------------------------------
# correlation input
# ---------------------------------------------------------------------------------------------------------
def _prepare(data: pd.DataFrame, outcome: str, drivers: Sequence[str], weights=None,
             what: str = "data") -> tuple[np.ndarray, np.ndarray, int]:
    """Complete cases of outcome and drivers as a float matrix (outcome last) and their case weights."""
    drivers = list(drivers)
    problems = []
    missing = [c for c in [outcome, *drivers] if c not in data.columns]
    if missing:
        raise SQMDataError(what, [Problem("missing_column", f"columns not in the data: {missing}")])
    problems += _driver_problems(outcome, drivers)
    raise_problems(what, problems)
    X = data[[*drivers, outcome]].to_numpy(dtype=float)
    w = np.ones(len(X)) if weights is None else (
        data[weights].to_numpy(dtype=float) if isinstance(weights, str) else np.asarray(weights, dtype=float))
    ok = ~np.isnan(X).any(axis=1) & ~np.isnan(w)
    dropped = int((~ok).sum())
    if dropped:
        warnings.warn(f"{dropped} of {len(X)} rows have a missing outcome, driver or weight and are left out "
                      "(complete cases, as relaimpo)", SQMWarning, stacklevel=3)
    X, w = X[ok], w[ok]
    n = len(X)
    _check_rows(n, len(drivers), what)
    if np.any(w < 0):
        raise SQMDataError(what, [Problem("bad_weights", "case weights must not be negative")])
    var = np.cov(X, rowvar=False, aweights=w).diagonal() if n > 1 else np.zeros(X.shape[1])
    _check_constant([*drivers, outcome], var, what)
    return X, w, n


def _driver_problems(outcome: str, drivers: Sequence[str]) -> list[Problem]:
    problems = []
    if outcome in drivers:
        problems.append(Problem("bad_argument", f"the outcome {outcome!r} is also listed as a driver"))
    if len(drivers) < 1:
        problems.append(Problem("too_few_items", "at least one driver is needed"))
    if len(drivers) > MAX_EXACT_DRIVERS:
        problems.append(Problem("too_many_drivers", f"{len(drivers)} drivers: exact all-subsets analysis is "
                                                    f"limited to {MAX_EXACT_DRIVERS}; group them"))
    return problems


def _check_rows(n: int, p: int, what: str) -> None:
    if n <= p + 1:
        raise SQMDataError(what, [Problem("too_few_rows", f"{n} complete rows for {p} drivers: "
                                                          "at least drivers + 2 are needed")])


def _check_constant(names: Sequence[str], variances, what: str) -> None:
    const = [c for c, v in zip(names, variances) if not np.sqrt(v) > 0]
    if const:
        raise SQMDataError(what, [Problem("constant_item", f"columns without variance: {const}")])


def weighted_corr(X: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Pearson correlation matrix of the columns of X with case weights."""
    return cov2cor(np.cov(X, rowvar=False, aweights=w))


def _check_collinear(Rxx: np.ndarray, names: Sequence[str]) -> None:
    ev, V = np.linalg.eigh(Rxx)
    if ev[0] < 1e-10:
        involved = [names[i] for i in np.flatnonzero(np.abs(V[:, 0]) > 0.1)]
        raise SQMDataError("drivers", [Problem("collinear", "drivers are perfectly collinear (one is a linear "
                                                            f"combination of others): {involved}; drop one")])
    if ev[-1] / ev[0] > 1e8:
        warnings.warn(f"the drivers are nearly collinear (condition number of their correlation matrix "
                      f"{ev[-1] / ev[0]:.3g}); importance shares among them are unstable", SQMWarning, stacklevel=3)


# ---------------------------------------------------------------------------------------------------------
# all-subsets R²
# ---------------------------------------------------------------------------------------------------------
def _levels(M: np.ndarray, n_levels: int) -> np.ndarray:
    """Decide the first ``n_levels`` variables of every node: exclude (drop) or include (eliminate by the
    Schur complement). Node index bit t records the decision for variable t."""
    for _ in range(n_levels):
        rest = M[:, 1:, 1:]
        pivot = M[:, 0, 0][:, None, None]
        col = M[:, 1:, 0]
        inc = rest - col[:, :, None] * col[:, None, :] / pivot
        M = np.concatenate([rest, inc], axis=0)
    return M


def all_subsets_r2(R: np.ndarray, chunk_levels: int = 20) -> np.ndarray:
    """R² of the outcome (last row/column of the correlation matrix R) on every subset of the drivers.

    Returns an array of length 2^p; entry ``s`` is the R² of the drivers whose bits are set in ``s``
    (bit j = driver j). Memory stays below about ``2^chunk_levels`` small matrices whatever p.
    """
    p = R.shape[0] - 1
    out = np.empty(2 ** p)
    top = max(0, p - chunk_levels)
    M = _levels(R[None, :, :].astype(float), top)  # 2^top nodes
    for s in range(M.shape[0]):
        leaf = _levels(M[s:s + 1], p - top)  # 2^(p - top) nodes, each the residual variance of y
        out[s + (2 ** top) * np.arange(2 ** (p - top))] = 1.0 - leaf[:, 0, 0]
    return out


def _popcount(p: int) -> np.ndarray:
    idx = np.arange(2 ** p, dtype=np.int64)
    pc = np.zeros(2 ** p, dtype=np.int8)
    for j in range(p):
        pc += ((idx >> j) & 1).astype(np.int8)
    return pc


def lmg_from_r2(r2: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Shapley values (LMG) and the conditional-dominance table (p × sizes 0..p−1) from all-subsets R².

    For driver j the array is viewed with bit j as its own axis, so R²(S ∪ j) − R²(S) for every S without j
    is one subtraction; increments are summed per subset size and weighted by k!(p−k−1)!/p!.
    """
    pc = _popcount(p)
    k_weights = np.array([1.0 / (p * comb(p - 1, k)) for k in range(p)])
    lmg = np.empty(p)
    cond = np.empty((p, p))
    for j in range(p):
        inc = r2.reshape(2 ** (p - j - 1), 2, 2 ** j)
        diff = (inc[:, 1, :] - inc[:, 0, :]).ravel()
        size = pc.reshape(2 ** (p - j - 1), 2, 2 ** j)[:, 0, :].ravel()
        sums = np.bincount(size, weights=diff, minlength=p)[:p]
        cond[j] = sums / np.array([comb(p - 1, k) for k in range(p)])
        lmg[j] = (sums * k_weights).sum()
    return lmg, cond


# ---------------------------------------------------------------------------------------------------------
# relative importance
# ---------------------------------------------------------------------------------------------------------
def _metrics_from_corr(R: np.ndarray, methods: Sequence[str], names: Sequence[str]) -> tuple[pd.DataFrame, float, np.ndarray | None]:
    p = R.shape[0] - 1
    Rxx, rxy = R[:p, :p], R[:p, p]
    _check_collinear(Rxx, names)
    beta = np.linalg.solve(Rxx, rxy)
    r2 = float(rxy @ beta)
    out = {}
    subsets = None
    if "lmg" in methods:
        subsets = all_subsets_r2(R)
        out["lmg"] = lmg_from_r2(subsets, p)[0]
    if "first" in methods:
        out["first"] = rxy ** 2
    if "last" in methods:
        out["last"] = beta ** 2 / np.diag(np.linalg.inv(Rxx))
    if "betasq" in methods:
        out["betasq"] = beta ** 2
    if "pratt" in methods:
        out["pratt"] = beta * rxy
    if "relative_weights" in methods:
        ev, V = np.linalg.eigh(Rxx)
        half = (V * np.sqrt(ev)) @ V.T  # R^{1/2}: correlations of the drivers with their orthogonal twins
        bz = np.linalg.solve(half, rxy)
        out["relative_weights"] = (half ** 2) @ (bz ** 2)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise SQMArgumentError(f"unknown methods {unknown}; choose from {METHODS}")
    return pd.DataFrame(out, index=pd.Index(list(names), name="driver"))[list(methods)], r2, subsets


def _group_r2(R: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """R² for every subset of groups of drivers (by direct solves; groups are few)."""
    G = len(groups)
    p = R.shape[0] - 1
    out = np.zeros(2 ** G)
    for s in range(1, 2 ** G):
        idx = [i for g in range(G) if s >> g & 1 for i in groups[g]]
        Rs = R[np.ix_(idx, idx)]
        r = R[idx, p]
        out[s] = float(r @ np.linalg.solve(Rs, r))
    return out


def _group_indices(drivers: Sequence[str], groups: Mapping[str, Sequence[str]]) -> list[list[int]]:
    """Driver positions of each group; every driver must be in exactly one group."""
    drivers = list(drivers)
    idx = [[drivers.index(d) for d in g] for g in groups.values()]
    if sorted(i for g in idx for i in g) != list(range(len(drivers))):
        raise SQMDataError("groups", [Problem("bad_groups", "every driver must be in exactly one group")])
    return idx


def _lmg(R: np.ndarray, groups_idx: list[list[int]] | None) -> tuple[np.ndarray, float]:
    """LMG of each driver (or group, with ``groups_idx``) and the full R², from a correlation matrix."""
    r2s = _group_r2(R, groups_idx) if groups_idx else all_subsets_r2(R)
    return lmg_from_r2(r2s, len(groups_idx) if groups_idx else R.shape[0] - 1)[0], float(r2s[-1])


@dataclass(frozen=True)
class Importance:
    """Relative importance of drivers: ``table`` (indexed by driver or group, one column per method in R²
    units, with bootstrap intervals and ranks when asked for), the model's ``r2``, the ``n`` rows used, the
    ``outcome``, and the ``engine`` the covariances came from (``"pandas"`` for rows)."""

    table: pd.DataFrame
    r2: float
    n: int
    outcome: str
    engine: str = "pandas"

    @property
    def methods(self) -> list[str]:
        return [c for c in self.table.columns if c in METHODS]

    def shares(self, method: str = "lmg") -> pd.Series:
        """A metric as percentages of its total (for LMG: of R²)."""
        return shares(self.table, method)

    def _repr_html_(self) -> str:
        return (f"<p>Relative importance for {html.escape(self.outcome)}: R² = {self.r2:.3f}, n = {self.n:,}</p>"
                + self.table.to_html(float_format=lambda v: f"{v:.4f}"))


def relative_importance(data: pd.DataFrame, outcome: str, drivers: Sequence[str], *,
                        methods: Sequence[str] = METHODS, groups: Mapping[str, Sequence[str]] | None = None,
                        weights: str | np.ndarray | None = None, n_boot: int = 0, seed: int = 0,
                        confidence: float = 0.95) -> Importance:
    """Relative importance of drivers for a linear model, as R's relaimpo computes it.

    Parameters
    ----------
    data : DataFrame or Moments
        Rows, or moments holding a listwise set of the drivers and the outcome (:mod:`sqmlib.moments`;
        no weights or bootstrap then).
    outcome : str
    drivers : sequence of str
        Up to 30 drivers (exact LMG over all 2^p subsets).
    methods : sequence of str
        Any of ``"lmg"``, ``"first"``, ``"last"``, ``"betasq"``, ``"pratt"``, ``"relative_weights"``.
    groups : mapping name -> drivers, optional
        One share per group (e.g. SERVQUAL dimensions): the LMG of the groups treated as single players;
        only ``"lmg"`` is given then.
    weights : column name or array, optional
        Case weights.
    n_boot : int
        Bootstrap resamples: adds ``<method>_ci_low``/``_ci_high`` columns, and for LMG the rank with
        ``rank_ci_low``/``rank_ci_high`` (1 = most important).
    seed : int
    confidence : float
        Confidence level of the bootstrap intervals.

    Returns
    -------
    Importance
        ``table`` indexed by driver (or group), one column per method in R² units; ``r2`` and ``n``;
        :func:`shares` turns a column into percentages of R².

    Examples
    --------
    >>> imp = relative_importance(scores, "overall_sat", ["tangibles", "reliability"], n_boot=200)
    >>> imp.shares()            # LMG as % of R²
    """
    if is_moments(data):
        return _importance_from_moments(data, outcome, drivers, methods, groups, weights, n_boot)
    X, w, n = _prepare(data, outcome, drivers, weights)
    drivers = list(drivers)

    def compute(Xs, ws):
        return _importance_from_corr(weighted_corr(Xs, ws), drivers, methods, groups)

    result, r2 = compute(X, w)
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        boots = []
        for _ in range(n_boot):
            i = rng.integers(0, n, n)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                boots.append(compute(X[i], w[i])[0])
        arr = np.stack([b.to_numpy() for b in boots])  # boot × driver × method
        g = 1 - confidence
        for k, m in enumerate(result.columns):
            result[f"{m}_ci_low"] = np.quantile(arr[:, :, k], g / 2, axis=0)
            result[f"{m}_ci_high"] = np.quantile(arr[:, :, k], 1 - g / 2, axis=0)
        if "lmg" in result.columns:
            k = list(boots[0].columns).index("lmg")
            ranks = np.argsort(np.argsort(-arr[:, :, k], axis=1), axis=1) + 1
            result["rank"] = (-result["lmg"]).rank(method="min").astype(int)
            result["rank_ci_low"] = np.quantile(ranks, g / 2, axis=0)
            result["rank_ci_high"] = np.quantile(ranks, 1 - g / 2, axis=0)
    return Importance(result, float(r2), int(n), outcome)


def _importance_from_corr(R: np.ndarray, drivers: list[str], methods, groups) -> tuple[pd.DataFrame, float]:
    """Importance metrics (or group LMG) and R² from the correlation matrix of the drivers and the outcome."""
    if groups:
        lmg, r2 = _lmg(R, _group_indices(drivers, groups))
        return pd.DataFrame({"lmg": lmg}, index=pd.Index(list(groups), name="group")), r2
    frame, r2, _ = _metrics_from_corr(R, methods, drivers)
    return frame, r2


def _importance_from_moments(m, outcome: str, drivers: Sequence[str], methods, groups, weights,
                             n_boot: int) -> Importance:
    """:func:`relative_importance` from the listwise moments of the drivers and the outcome."""
    drivers = list(drivers)
    problems = []
    if weights is not None or n_boot > 0:
        problems.append(Problem("bad_argument", "case weights and the bootstrap need the rows, not moments"))
    problems += _driver_problems(outcome, drivers)
    raise_problems("moments", problems)
    if isinstance(m, Moments):
        cm = m.select([*drivers, outcome], "listwise")
    elif list(m.columns) != [*drivers, outcome]:
        raise SQMArgumentError("the moments' columns must be the drivers "
                                                               "followed by the outcome")
    else:
        cm = m
    if cm.missing != "listwise" and not cm.complete:
        raise SQMArgumentError("relative importance needs listwise (complete-case) "
                                                               "moments of the drivers and the outcome")
    if not cm.n_exact:
        warnings.warn("complete cases are those of the whole moments set, which has more columns than these",
                      SQMWarning, stacklevel=3)
    _check_rows(cm.n, len(drivers), "moments")
    C = cm.cov()
    _check_constant(cm.columns, np.diag(C), "moments")
    result, r2 = _importance_from_corr(cov2cor(C), drivers, methods, groups)
    return Importance(result, float(r2), int(cm.n), outcome, cm.engine)


def shares(importance: "pd.DataFrame | Importance", method: str = "lmg") -> pd.Series:
    """A metric as percentages of its total (for LMG, pratt and relative weights: of R²)."""
    if isinstance(importance, Importance):
        importance = importance.table
    s = importance[method]
    return 100 * s / s.sum()


@dataclass(frozen=True)
class DriverMatrix:
    """The driver matrix: ``table`` (importance as % of R², performance, quadrant per driver) and the
    ``crosshair`` (mean share, mean performance) that splits the quadrants."""

    table: pd.DataFrame
    crosshair: tuple[float, float]
    method: str = "lmg"

    def concentrate_here(self) -> list[str]:
        """Drivers of high importance and low performance, most important first."""
        t = self.table
        return t[t["quadrant"] == QUADRANTS[(True, False)]].sort_values("importance", ascending=False).index.tolist()


def driver_matrix(data: pd.DataFrame, importance: "pd.DataFrame | Importance", method: str = "lmg") -> DriverMatrix:
    """The driver matrix: each driver's importance (share of R², %) against its performance (mean score).

    Quadrants are split at the mean share and the mean performance of the drivers, named as in
    importance–performance analysis: high importance and low performance is where to concentrate.

    Parameters
    ----------
    data : DataFrame
        The rows the importance came from, with a column per driver.
    importance : Importance or DataFrame
        From :func:`relative_importance`, indexed by driver.
    """
    if isinstance(importance, Importance):
        importance = importance.table
    names = list(importance.index)
    missing = [d for d in names if d not in data.columns]
    if missing:
        raise SQMDataError("data", [Problem("missing_column", f"no column for driver(s) {missing}")])
    share = shares(importance, method)
    perf = data[names].mean()
    ci, cp = float(share.mean()), float(perf.mean())
    out = pd.DataFrame({"importance": share, "performance": perf})
    out["quadrant"] = [QUADRANTS[(bool(i >= ci), bool(p >= cp))] for i, p in zip(share, perf)]
    out.index.name = "driver"
    return DriverMatrix(out, (ci, cp), method)


# ---------------------------------------------------------------------------------------------------------
# dominance analysis
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DominanceResult:
    """Dominance analysis (Budescu 1993; Azen & Budescu 2003) from all-subsets R².

    Attributes
    ----------
    general : Series
        General dominance (= LMG) per driver.
    conditional : DataFrame
        Driver × subset size: mean increase in R² when the driver joins a subset of that size.
    complete : DataFrame
        Row driver vs column driver: ``"complete"``, ``"conditional"``, ``"general"`` (the strongest kind of
        dominance the row has over the column) or ``""``.
    r2 : float
    """

    general: pd.Series
    conditional: pd.DataFrame
    complete: pd.DataFrame
    r2: float

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame({"general": self.general, "share": 100 * self.general / self.general.sum()})

    def _repr_html_(self) -> str:
        return ("<p><b>Dominance analysis</b></p>" + self.summary().to_html(float_format=lambda v: f"{v:.4f}")
                + self.complete.to_html())


def dominance_analysis(data: pd.DataFrame, outcome: str, drivers: Sequence[str], *, weights=None) -> DominanceResult:
    """Complete, conditional and general dominance of every pair of drivers (linear model, R²)."""
    X, w, n = _prepare(data, outcome, drivers, weights)
    R = weighted_corr(X, w)
    p = len(drivers)
    _check_collinear(R[:p, :p], drivers)
    r2 = all_subsets_r2(R)
    general, cond = lmg_from_r2(r2, p)
    labels = np.empty((p, p), dtype=object)
    labels[:] = ""
    for i in range(p):
        for j in range(i + 1, p):
            # subsets of the others: axes for bits i (lo) and j (hi)
            v = r2.reshape(2 ** (p - j - 1), 2, 2 ** (j - i - 1), 2, 2 ** i)
            with_i = v[:, 0, :, 1, :]
            with_j = v[:, 1, :, 0, :]
            tol = 1e-12
            for a, b, x, y in ((i, j, with_i, with_j), (j, i, with_j, with_i)):
                if np.all(x > y + tol):
                    labels[a, b] = "complete"
                elif np.all(cond[a] > cond[b] + tol):
                    labels[a, b] = "conditional"
                elif general[a] > general[b] + tol:
                    labels[a, b] = "general"
    names = list(drivers)
    return DominanceResult(pd.Series(general, index=names, name="general"),
                           pd.DataFrame(cond, index=names, columns=[f"k={k}" for k in range(p)]),
                           pd.DataFrame(labels, index=names, columns=names), float(r2[-1]))


# ---------------------------------------------------------------------------------------------------------
# driver models
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DriverModelResult:
    """A fitted driver model.

    Attributes
    ----------
    kind : {"ols", "ordinal", "logit"}
    coefficients : DataFrame
        Per driver: ``coef``, ``se`` (HC3 for OLS), ``stat``, ``p_value`` (OLS: from the t distribution with the
        residual degrees of freedom, as R's lmtest::coeftest with sandwich::vcovHC(type = "HC3")), ``std_coef`` (standardised: for
        logit and ordinal models the coefficient times the driver's sd), ``r`` (zero-order correlation with
        the outcome), ``suppressor`` (sign of the standardised coefficient differs from r), ``vif``.
    fit : Series
        ``n``, ``r2`` (OLS) or ``pseudo_r2`` (McFadden), ``condition_number`` of the standardised drivers.
    dominance : Series or None
        General dominance on the model's R² or pseudo-R² (Shapley over all subsets of drivers).
    """

    kind: str
    coefficients: pd.DataFrame
    fit: pd.Series
    dominance: pd.Series | None
    model: object

    def summary(self) -> pd.DataFrame:
        return self.coefficients

    def _repr_html_(self) -> str:
        return (f"<p><b>Driver model ({self.kind})</b>: " + ", ".join(f"{k} {v:.3f}" for k, v in self.fit.items())
                + "</p>" + self.coefficients.to_html(float_format=lambda v: f"{v:.3f}"))


def vif(X: np.ndarray) -> np.ndarray:
    """Variance inflation factors: the diagonal of the inverse correlation matrix."""
    return np.diag(np.linalg.inv(np.corrcoef(X, rowvar=False)))


def _pseudo_r2_subsets(y: np.ndarray, X: np.ndarray, kind: str) -> np.ndarray:
    import statsmodels.api as sm
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    p = X.shape[1]
    out = np.zeros(2 ** p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "logit":
            ll0 = sm.Logit(y, np.ones((len(y), 1))).fit(disp=0).llf
        else:
            ll0 = None
        for s in range(1, 2 ** p):
            cols = [j for j in range(p) if s >> j & 1]
            if kind == "logit":
                res = sm.Logit(y, sm.add_constant(X[:, cols])).fit(disp=0, maxiter=200)
                out[s] = 1 - res.llf / ll0
            else:
                res = OrderedModel(y, X[:, cols], distr="logit").fit(method="bfgs", disp=0, maxiter=500)
                if ll0 is None:
                    counts = np.unique(y, return_counts=True)[1]
                    ll0 = float((counts * np.log(counts / counts.sum())).sum())
                out[s] = 1 - res.llf / ll0
    return out


def driver_model(data: pd.DataFrame, outcome: str, drivers: Sequence[str], *, kind: str = "ols",
                 dominance: bool = True, max_dominance_drivers: int = 10) -> DriverModelResult:
    """Fit the driver model: OLS with HC3 standard errors, a proportional-odds model for ordinal outcomes, or
    a logistic model for binary outcomes (promoter vs detractor, churn), with diagnostics and dominance.

    Dominance for OLS is exact on R² (any number of drivers); for logit and ordinal models it is on
    McFadden's pseudo-R², refitting every subset, so it is computed only up to ``max_dominance_drivers``
    (a warning says when it is skipped).
    """
    import statsmodels.api as sm

    X_all, _, n = _prepare(data, outcome, drivers)
    X, y = X_all[:, :-1], X_all[:, -1]
    names = list(drivers)
    sd = X.std(axis=0, ddof=1)
    r = np.array([np.corrcoef(X[:, j], y)[0, 1] for j in range(X.shape[1])])
    Z = (X - X.mean(axis=0)) / sd
    cond = float(np.linalg.cond(Z))
    v = vif(X) if X.shape[1] > 1 else np.ones(1)
    dom = None
    if kind == "ols":
        with np.errstate(divide="ignore", invalid="ignore"):  # a point of leverage 1 has no HC3 weight: NaN SEs
            model = sm.OLS(y, sm.add_constant(X)).fit(cov_type="HC3", use_t=True)  # t, n − k − 1 df
        coef, se, stat, pv = model.params[1:], model.bse[1:], model.tvalues[1:], model.pvalues[1:]
        std = coef * sd / y.std(ddof=1)
        fit = pd.Series({"n": n, "r2": model.rsquared, "adj_r2": model.rsquared_adj, "condition_number": cond})
        if dominance:
            R = np.corrcoef(X_all, rowvar=False)
            dom = pd.Series(lmg_from_r2(all_subsets_r2(R), len(names))[0], index=names, name="general_dominance")
    elif kind in ("logit", "ordinal"):
        if kind == "logit":
            vals = set(np.unique(y))
            if not vals <= {0.0, 1.0}:
                raise SQMDataError("data", [Problem("bad_value", f"a logit outcome must be 0/1, got {sorted(vals)[:6]}")])
            model = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
            coef, se, stat, pv = model.params[1:], model.bse[1:], model.tvalues[1:], model.pvalues[1:]
        else:
            from statsmodels.miscmodels.ordinal_model import OrderedModel

            model = OrderedModel(y, X, distr="logit").fit(method="bfgs", disp=0, maxiter=1000)
            p = X.shape[1]
            coef, se, stat, pv = model.params[:p], model.bse[:p], model.tvalues[:p], model.pvalues[:p]
        std = coef * sd
        fit = pd.Series({"n": n, "pseudo_r2": float(getattr(model, "prsquared", np.nan))
                         if kind == "logit" else np.nan, "condition_number": cond})
        if dominance:
            if X.shape[1] <= max_dominance_drivers:
                r2s = _pseudo_r2_subsets(y, X, kind)
                fit["pseudo_r2"] = r2s[-1]
                dom = pd.Series(lmg_from_r2(r2s, X.shape[1])[0], index=names, name="general_dominance")
            else:
                warnings.warn(f"dominance on pseudo-R² refits 2^{X.shape[1]} models: skipped above "
                              f"{max_dominance_drivers} drivers; group the drivers (e.g. by dimension)", SQMWarning, stacklevel=2)
    else:
        raise SQMArgumentError("kind must be 'ols', 'ordinal' or 'logit'")
    coefs = pd.DataFrame({"coef": np.asarray(coef), "se": np.asarray(se), "stat": np.asarray(stat),
                          "p_value": np.asarray(pv), "std_coef": np.asarray(std), "r": r,
                          "suppressor": np.sign(np.asarray(std)) != np.sign(r), "vif": v},
                         index=pd.Index(names, name="driver"))
    if (v > 10).any():
        warnings.warn(f"high variance inflation (VIF > 10) for {coefs.index[v > 10].tolist()}", SQMWarning, stacklevel=2)
    return DriverModelResult(kind, coefs, fit, dom, model)


# ---------------------------------------------------------------------------------------------------------
# asymmetric effects (Kano) by penalty-reward contrast analysis
# ---------------------------------------------------------------------------------------------------------
def penalty_reward(data: pd.DataFrame, outcome: str, drivers: Sequence[str], *, low: float = 3,
                   high: float = 6, threshold: float = 0.2) -> pd.DataFrame:
    """Penalty–reward contrast analysis (Brandt 1987; Mikulić & Prebežac 2008).

    Each driver becomes two dummies: low performance (answer ≤ ``low``) and high performance (≥ ``high``),
    the middle as reference; the outcome is regressed on all dummies. ``penalty`` is the (usually negative)
    effect of low performance, ``reward`` the effect of high performance. With RIS = |penalty| + reward,
    the impact-asymmetry index is IA = reward/RIS − |penalty|/RIS. Drivers with IA > ``threshold`` are
    *excitement* factors, IA < −``threshold`` *basic* factors, the rest *performance* factors.
    Cell counts show how many respondents are low, middle and high on each driver.
    """
    import statsmodels.api as sm

    X_all, _, n = _prepare(data, outcome, drivers)
    X, y = X_all[:, :-1], X_all[:, -1]
    lo_d = (X <= low).astype(float)
    hi_d = (X >= high).astype(float)
    names = list(drivers)
    empty = [nm for j, nm in enumerate(names) if lo_d[:, j].sum() == 0 or hi_d[:, j].sum() == 0
             or (1 - lo_d[:, j] - hi_d[:, j]).sum() == 0]
    if empty:
        raise SQMDataError("data", [Problem("empty_cell", f"drivers with no respondents in a low, middle or high "
                                                          f"cell (cut-offs ≤ {low}, ≥ {high}): {empty}")])
    with np.errstate(divide="ignore", invalid="ignore"):  # a point of leverage 1 has no HC3 weight: NaN SEs
        model = sm.OLS(y, sm.add_constant(np.column_stack([lo_d, hi_d]))).fit(cov_type="HC3", use_t=True)
    p = len(names)
    penalty, reward = model.params[1:p + 1], model.params[p + 1:]
    ris = np.abs(penalty) + np.abs(reward)
    ia = (np.abs(reward) - np.abs(penalty)) / ris
    kano = np.where(ia > threshold, "excitement", np.where(ia < -threshold, "basic", "performance"))
    return pd.DataFrame({"penalty": penalty, "penalty_p": model.pvalues[1:p + 1], "reward": reward,
                         "reward_p": model.pvalues[p + 1:], "ris": ris, "ia": ia, "kano": kano,
                         "n_low": lo_d.sum(axis=0).astype(int),
                         "n_mid": (1 - lo_d - hi_d).sum(axis=0).astype(int),
                         "n_high": hi_d.sum(axis=0).astype(int)}, index=pd.Index(names, name="driver"))


# ---------------------------------------------------------------------------------------------------------
# segments
# ---------------------------------------------------------------------------------------------------------
class SegmentImportance(NamedTuple):
    """Driver shares per segment and their pairwise differences."""

    shares: pd.DataFrame
    differences: pd.DataFrame


def importance_by_segment(data: pd.DataFrame, outcome: str, drivers: Sequence[str], by: str, *,
                          n_boot: int = 200, seed: int = 0, confidence: float = 0.95, groups=None) -> SegmentImportance:
    """LMG shares (% of R²) per segment, and bootstrap intervals of the difference between every pair of
    segments (each segment resampled on its own).

    Returns
    -------
    SegmentImportance
        ``shares`` (drivers × segments, with a row ``R2``) and ``differences`` (every pair of segments and
        driver: the difference, its interval and whether 0 is outside); unpacks as ``shares, differences``.
    """
    if by not in data.columns:
        raise SQMDataError("data", [Problem("missing_column", f"no segment column {by!r}")])
    rng = np.random.default_rng(seed)
    groups_idx = _group_indices(drivers, groups) if groups else None
    seg_shares, boots = {}, {}
    r2 = {}
    for s, sub in data.groupby(by, sort=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            imp = relative_importance(sub, outcome, drivers, methods=("lmg",), groups=groups)
        seg_shares[s] = shares(imp)
        r2[s] = imp.r2
        cols = [*drivers, outcome]
        arr = sub[cols].dropna().to_numpy(dtype=float)
        bs = []
        for _ in range(n_boot):
            i = rng.integers(0, len(arr), len(arr))
            v = _lmg(weighted_corr(arr[i]), groups_idx)[0]
            bs.append(100 * v / v.sum())
        boots[s] = np.array(bs)
    table = pd.DataFrame(seg_shares)
    table.loc["R2"] = pd.Series(r2)
    rows = []
    keys = list(seg_shares)
    g = 1 - confidence
    for a in range(len(keys)):
        for b in range(a + 1, len(keys)):
            d = boots[keys[a]] - boots[keys[b]]
            for k, name in enumerate(table.index[:-1]):
                lo, hi = np.quantile(d[:, k], [g / 2, 1 - g / 2]) if n_boot else (np.nan, np.nan)
                rows.append({"driver": name, "segment_a": keys[a], "segment_b": keys[b],
                             "difference": seg_shares[keys[a]][name] - seg_shares[keys[b]][name],
                             "ci_low": lo, "ci_high": hi, "differs": bool(lo > 0 or hi < 0)})
    return SegmentImportance(table, pd.DataFrame(rows))


def survey_with_churn(survey: pd.DataFrame, customers: pd.DataFrame, horizon_days: int = 180,
                      observed_until=None) -> pd.DataFrame:
    """The survey with ``churned``: 1 if the respondent's customer left within ``horizon_days`` after answering,
    else 0.

    Only respondents whose whole horizon lies before ``observed_until`` (default: the last date in the
    survey or customer data) are kept: keeping the others would keep early leavers and drop stayers, a
    biased sample.
    """
    c = customers.set_index("customer_id")[["churn_date"]]
    s = survey.join(c, on="customer_id")
    until = observed_until if observed_until is not None else follow_up_end(survey, customers)
    end = s["survey_date"] + pd.Timedelta(days=horizon_days)
    left = s["churn_date"].notna() & (s["churn_date"] >= s["survey_date"]) & (s["churn_date"] < end)
    known = end <= pd.Timestamp(until)
    out = s[known].copy()
    out["churned"] = left[known].astype(float)
    return out.drop(columns=["churn_date"])


def follow_up_end(survey: pd.DataFrame, customers: pd.DataFrame) -> pd.Timestamp:
    """The last date the survey and the customer records observe (the default end of follow-up)."""
    return max(pd.Timestamp(survey["survey_date"].max()), pd.Timestamp(customers["churn_date"].max()))


def latest_followed_quarter(survey: pd.DataFrame, horizon_days: int, observed_until) -> str | None:
    """The latest quarter whose every respondent can be followed for ``horizon_days`` by ``observed_until``."""
    ok = [q for q in sorted(survey["quarter"].dropna().unique()) if followed_up(q, horizon_days, observed_until)]
    return ok[-1] if ok else None


# ---------------------------------------------------------------------------------------------------------
# building blocks shared by the notebook, the explorer and the lessons
# ---------------------------------------------------------------------------------------------------------
LEVELS = ("dimension", "item")


def driver_table(survey: pd.DataFrame, instrument, outcome: str, level: str = "dimension") -> pd.DataFrame:
    """The drivers table: one column per driver (mean perception of each dimension, or each perception item
    named by its item id) and the outcome, complete rows only.

    The driver notebook, the driver explorer and the training lessons all build their drivers with this.
    """
    if level not in LEVELS:
        raise SQMArgumentError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if outcome not in survey.columns:
        raise SQMDataError("survey", [Problem("missing_column", f"no outcome column {outcome!r}")])
    inst = load_instrument(instrument)
    if level == "dimension":
        X = dimension_scores(survey, inst, "P")
    else:
        X = survey[inst.item_columns("P")].set_axis(list(inst.items), axis=1)
    return X.assign(**{outcome: survey[outcome]}).dropna()


class FollowedSurvey(NamedTuple):
    """The survey with ``churned`` (respondents whose horizon is over) and the ``latest_quarter`` whose every
    respondent was followed for the whole horizon ("" if none)."""

    survey: pd.DataFrame
    latest_quarter: str


def churn_followed(survey: pd.DataFrame, customers: pd.DataFrame, horizon_days: int) -> FollowedSurvey:
    """The survey with ``churned`` within ``horizon_days`` of answering (respondents whose horizon is over), and
    the latest quarter whose every respondent could be followed for the whole horizon ("" if none)."""
    until = follow_up_end(survey, customers)
    followed = survey_with_churn(survey, customers, horizon_days, until)
    return FollowedSurvey(followed, latest_followed_quarter(survey, horizon_days, until) or "")


# ---------------------------------------------------------------------------------------------------------
# the pipeline of the driver notebook
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DriverMetrics:
    """Key figures of :func:`run_drivers` (``metrics.json`` of the driver notebook)."""

    outcome: str
    level: str
    respondents: int
    r2: float
    importance_basis: str
    lmg_share: dict
    lmg_ci: dict
    top_drivers: list
    fix_first: list
    kano: dict
    model_fit: dict
    findings: list


@dataclass(frozen=True)
class DriverResult(Result):
    """What :func:`run_drivers` found: importance (LMG with intervals), the driver model, dominance, the driver
    matrix, Kano classes and segment differences."""

    notebook = "03_driver_regression"

    quarter: str
    outcome: str
    level: str
    kind: str
    engine: str
    frame: pd.DataFrame
    labels: Mapping[str, str]
    importance: Importance
    model: DriverModelResult
    model_notes: tuple
    importance_note: str
    dominance: DominanceResult | None
    matrix: object  # gaps.IPAResult
    kano: pd.DataFrame | None
    kano_note: str
    segment: str
    by_segment: SegmentImportance | None
    followed_note: str

    @property
    def title(self) -> str:  # type: ignore[override]
        return f"Key drivers of {self.outcome}"

    @property
    def drivers(self) -> list[str]:
        return [c for c in self.frame.columns if c != self.outcome]

    def shares(self) -> pd.Series:
        return shares(self.importance)

    def findings(self) -> list[str]:
        share = self.shares()
        ranked = share.sort_values(ascending=False)
        fix = self.matrix.concentrate_here()
        basis = "explained variance" if self.kind == "ols" else "pseudo-R²"
        lines = [f"The strongest driver of {self.outcome} is **{ranked.index[0]}** ({ranked.iloc[0]:.0f} % of the "
                 f"{basis}), then {ranked.index[1]} ({ranked.iloc[1]:.0f} %) and {ranked.index[2]} "
                 f"({ranked.iloc[2]:.0f} %)." if len(ranked) >= 3 else f"The strongest driver is {ranked.index[0]}."]
        lines.append(f"The drivers explain R² = {self.importance.r2:.2f} of {self.outcome}." if self.kind == "ols" else
                     f"The model explains McFadden pseudo-R² = {self.model.fit['pseudo_r2']:.3f} of churn.")
        if fix:
            lines.append("Fix first (important and performing below average): " + ", ".join(
                f"{f} ({share[f]:.0f} %)" for f in fix) + ".")
        if self.kano is not None:
            basic = self.kano.index[self.kano["kano"] == "basic"].tolist()
            excite = self.kano.index[self.kano["kano"] == "excitement"].tolist()
            if basic:
                lines.append(f"Basic factors (hurt when poor, little reward when good): {', '.join(basic)}.")
            if excite:
                lines.append(f"Excitement factors (delight when good): {', '.join(excite)}.")
        return lines

    def metrics(self) -> DriverMetrics:
        imp, share = self.importance.table, self.shares()
        basis = ("R2" if self.kind == "ols" else
                 ("McFadden pseudo-R2" if self.model.dominance is not None else "R2 (linear probability)"))
        return DriverMetrics(
            outcome=self.outcome, level=self.level, respondents=len(self.frame), r2=self.importance.r2,
            importance_basis=basis, lmg_share=share.to_dict(),
            lmg_ci={k: [imp.loc[k, "lmg_ci_low"], imp.loc[k, "lmg_ci_high"]] for k in self.drivers}
            if "lmg_ci_low" in imp else {},
            top_drivers=share.sort_values(ascending=False).index[:3].tolist(), fix_first=self.matrix.concentrate_here(),
            kano={} if self.kano is None else self.kano["kano"].to_dict(), model_fit=self.model.fit.to_dict(),
            findings=self.findings())

    def headline(self) -> list[dict]:
        ranked = self.shares().sort_values(ascending=False)
        return [headline("Top driver", f"{ranked.index[0]} ({ranked.iloc[0]:.0f} %)", "{}"),
                headline("R² explained" if self.kind == "ols" else "pseudo-R²",
                         self.importance.r2 if self.kind == "ols" else self.model.fit["pseudo_r2"], "{:.2f}"),
                headline("Drivers to fix first", len(self.matrix.concentrate_here()))]

    def importance_table(self) -> pd.DataFrame:
        return self.importance.table.assign(share=self.shares()).sort_values("lmg", ascending=False)

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {"importance": self.importance_table(), "driver model": self.model.coefficients,
               "driver matrix": self.matrix.table}
        if self.kano is not None:
            out["kano"] = self.kano
        if self.by_segment is not None:
            out["segments"], out["segment differences"] = self.by_segment
        return out

    def sections(self) -> dict[str, list[Block]]:
        sample = [text(self.followed_note)] if self.followed_note else []
        sample.append(text(f"**{len(self.frame):,} respondents** with every driver and the outcome "
                           f"({self.quarter or 'every respondent: the survey has no dates'}); outcome **{self.outcome}**, {len(self.drivers)} "
                           f"drivers ({self.level} level), model: {self.kind}."))
        ranked = [text(self.importance_note)] if self.importance_note else []
        ranked += [figure(lambda: plots.importance_bars(self.importance, labels=dict(self.labels)
                                                        if self.level == "item" else None), "importance"),
                   table(self.importance_table(), lambda s: s.format(precision=4)
                         .background_gradient(subset=["share"], cmap="Blues"))]
        model = [text(f"*Note: {n}*") for n in self.model_notes]
        model += [table(self.model.fit.to_frame("value"), lambda s: s.format(precision=3)),
                  table(self.model.coefficients, lambda s: s.format(precision=3))]
        coef = self.model.coefficients
        sup = coef.index[coef["suppressor"]].tolist()
        if sup:
            model.append(text(f"Suppressor pattern (coefficient sign differs from the correlation): {', '.join(sup)} "
                              "— read their coefficients with care; their importance share is unaffected."))
        if self.dominance is not None:
            model += [text("**Dominance between drivers** (row over column)"), table(self.dominance.complete),
                      table(self.dominance.conditional, lambda s: s.format(precision=4))]
        m = self.matrix
        matrix = [figure(lambda: plots.ipa_plot(m, title="Driver matrix (importance: share of R²; performance: "
                                                         "mean perception)"), "driver matrix"),
                  table(m.table[["importance", "performance", "quadrant"]].sort_values("importance", ascending=False),
                        lambda s: s.format(precision=3))]
        if self.kano is not None:
            kano = [figure(lambda: plots.kano_plot(self.kano), "kano"), table(self.kano, lambda s: s.format(precision=3))]
        else:
            kano = [text(self.kano_note)]
        if self.by_segment is not None:
            seg_table, diffs = self.by_segment
            diff = diffs[diffs["differs"]]
            seg = [table(seg_table, lambda s: s.format(precision=2)),
                   text(f"**{len(diff)}** driver share difference(s) between {self.segment} segments exclude 0:"),
                   table(diff, lambda s: s.format(precision=2).hide(axis="index"))]
        else:
            seg = [text("No segment comparison.")]
        return {"sample": sample, "ranked": ranked, "model": model, "matrix": matrix, "kano": kano,
                "segments": seg, "fix first": [text(bullets(self.findings()))]}


DEFAULT_OUTCOME = "overall_sat"  # when the survey lacks it, the instrument's first rating outcome is used


def run_drivers(folder: DataFolder, *, quarter: str = "", outcome: str = DEFAULT_OUTCOME, level: str = "dimension",
                n_boot: int = 200, segment: str = "channel", horizon_days: int = 180, drop_careless: bool = True,
                engine: str = "pandas", seed: int = 0) -> DriverResult:
    """Which parts of the service move the outcome most: the pipeline of notebook ``03_driver_regression``.

    Parameters
    ----------
    folder : DataFolder
        From :func:`sqmlib.io.load_folder`; needs the survey (and the customers table for ``churned``).
    quarter : str
        Quarter to analyse ("" = the latest; for ``churned`` the latest whose respondents were followed for
        the whole horizon).
    outcome : {"overall_sat", "nps", "ces", "churned"} or another rating column
        The default ``overall_sat``, when the survey has none, becomes the instrument's first rating outcome;
        without any the result is :class:`~sqmlib.results.Unavailable`.
    level : {"dimension", "item"}
        Drivers are dimensions (mean perception) or items.
    n_boot : int
        Bootstrap resamples for the intervals of shares and ranks.
    segment : str
        Segment column for comparing driver importance ("" = none).
    horizon_days : int
        For ``churned``: leaving within this many days after answering.
    drop_careless : bool
    engine : {"pandas", "duckdb", "spark"}
        Where dimension-level shares are computed (moments; no bootstrap intervals then).
    seed : int

    Returns
    -------
    DriverResult

    Examples
    --------
    >>> from sqmlib import drivers, io
    >>> d = drivers.run_drivers(io.load_folder(), outcome="nps", n_boot=100)
    >>> d.shares()
    """
    check_engine(engine)
    if level not in LEVELS:
        raise SQMArgumentError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if n_boot < 0 or horizon_days <= 0:
        raise SQMArgumentError("n_boot must be 0 or more and horizon_days positive")
    folder.require("survey", purpose="the driver analysis")
    inst = folder.instrument
    if drop_careless:
        folder = folder.without_careless()
    survey_all = folder.survey
    followed_note = ""
    if outcome == "churned":
        folder.require("customers", purpose="churn as an outcome")
        survey_all, latest = churn_followed(survey_all, folder.customers, horizon_days)
        # the horizon must be over for everyone: the latest quarter that can be followed up in full
        until = follow_up_end(folder.survey, folder.customers)
        quarter = quarter or latest
        followed_note = (f"Churn within {horizon_days} days of answering, data observed until {until.date()}: "
                         f"analysing {quarter or 'every respondent with a complete horizon'}.")
    elif outcome not in survey_all.columns:
        present = [c for c in inst.outcomes if c in survey_all.columns and inst.columns[c].type == "rating"
                   and survey_all[c].notna().any()]
        if outcome != DEFAULT_OUTCOME:  # asked for by name: say what there is instead
            raise SQMDataError("survey", [Problem("missing_column", f"no outcome column {outcome!r} (the survey's "
                                                  f"outcomes: {', '.join(present) or 'none'})")])
        if not present:
            return Unavailable(notebook=DriverResult.notebook, title="Key driver analysis",
                               reason=f"the survey has no outcome question ({outcome} or another rating the "
                                      "instrument marks as an outcome) for the drivers to explain.",
                               quarter=folder.latest_quarter)
        outcome = present[0]
    segment = folder.segment_column(segment)
    sub = folder.with_survey(survey_all)
    q = sub.quarter(quarter)
    survey = sub.survey_of(q)
    frame = driver_table(survey, inst, outcome, level)
    names = [c for c in frame.columns if c != outcome]
    labels = {d: "" for d in names} if level == "dimension" else {i: inst.text(i) for i in inst.items}
    kind = "logit" if outcome == "churned" else "ols"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = driver_model(frame, outcome, names, kind=kind)
    note = ""
    if kind == "ols" and engine != "pandas" and level == "dimension":
        # the same shares from moments computed by the engine over the whole file (no bootstrap intervals)
        mom = survey_moments(folder.files["survey"], inst, by=["quarter"], engine=engine, drop_careless=drop_careless,
                             outcome=outcome)
        imp = relative_importance(mom.where(quarter=q) if q else mom, outcome, [f"P_dim_{d}" for d in names])
        imp = replace(imp, table=imp.table.rename(index=lambda v: v[6:]))
        note = f"Relative importance computed by **{engine}** from moments of {imp.n:,} complete rows."
    elif kind == "ols":
        imp = relative_importance(frame, outcome, names, n_boot=n_boot, seed=seed)
    elif model.dominance is not None:
        # a binary outcome: the Shapley split of the logistic model's McFadden pseudo-R²
        imp = Importance(model.dominance.rename("lmg").to_frame(), float(model.fit["pseudo_r2"]), len(frame), outcome)
        note = ("Shares of McFadden's pseudo-R² of the logistic model; no bootstrap intervals here, since each "
                "resample would refit every subset of drivers.")
    else:
        imp = relative_importance(frame, outcome, names, methods=("lmg", "first"), n_boot=n_boot, seed=seed)
        note = ("Too many drivers for dominance on the logistic model: shares of R² of the linear probability "
                "model instead.")
    share = shares(imp)
    dom = dominance_analysis(frame, outcome, names) if len(names) <= 12 and kind == "ols" else None
    matrix = ipa(survey.loc[frame.index], inst, level=level, importance="shapley", shapley=share)
    kano, kano_note = None, "Penalty–reward analysis is for satisfaction-type outcomes."
    if kind == "ols":
        try:
            kano = penalty_reward(frame, outcome, names)
        except (SQMDataError, ValueError, np.linalg.LinAlgError) as exc:  # e.g. a driver with nobody in its low cell
            kano_note = f"Penalty–reward analysis not possible here: {exc}"
    by_seg = None
    if segment and segment in survey and kind == "ols":
        seg_frame = frame.assign(**{segment: survey.loc[frame.index, segment]})
        by_seg = importance_by_segment(seg_frame, outcome, names, segment, n_boot=min(n_boot, 100), seed=seed)
    return DriverResult(quarter=q, outcome=outcome, level=level, kind=kind, engine=engine, frame=frame,
                        labels=labels, importance=imp, model=model, model_notes=tuple(str(w.message) for w in caught),
                        importance_note=note, dominance=dom, matrix=matrix, kano=kano, kano_note=kano_note,
                        segment=segment, by_segment=by_seg, followed_note=followed_note)
