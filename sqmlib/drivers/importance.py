"""Relative importance from correlation matrices: all-subsets R², LMG and relaimpo's other metrics."""
from __future__ import annotations

import html
import warnings
from dataclasses import dataclass
from functools import lru_cache
from math import comb
from typing import Mapping, Sequence
import numpy as np
import pandas as pd
from ..errors import Problem, SQMArgumentError, SQMDataError, SQMWarning, raise_problems
from ..psychometrics.factors import cov2cor
from ..gaps import QUADRANTS
from ..moments import Moments, is_moments


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
def _packed(R: np.ndarray) -> np.ndarray:
    """The upper triangle of a symmetric matrix row by row ((0,0), (0,1) … (0,m−1), (1,1) …) as one column."""
    return np.concatenate([R[i, i:] for i in range(R.shape[0])]).astype(float)[:, None]


def _levels(M: np.ndarray, m: int, n_levels: int) -> np.ndarray:
    """Decide the first ``n_levels`` variables of every node: exclude (drop) or include (eliminate by the
    Schur complement). ``M`` holds one packed upper triangle of an m × m matrix per column (node); node index
    bit t records the decision for variable t.

    The packing puts the pivot's row first, so the matrix without the pivot is the contiguous tail, and the
    nodes run along the fast axis: every operation is on long contiguous rows, and symmetry halves the work.
    """
    for _ in range(n_levels):
        col = M[1:m]
        scaled = col / M[0]
        rest = M[m:]
        inc = np.empty_like(rest)
        pos = 0
        for i in range(m - 1):  # row i of the remaining triangle: rest − col_i · col_j / pivot for j ≥ i
            width = m - 1 - i
            np.subtract(rest[pos:pos + width], col[i:] * scaled[i], out=inc[pos:pos + width])
            pos += width
        M = np.concatenate([rest, inc], axis=1)
        m -= 1
    return M


def all_subsets_r2(R: np.ndarray, chunk_levels: int = 20) -> np.ndarray:
    """R² of the outcome (last row/column of the correlation matrix R) on every subset of the drivers.

    Returns an array of length 2^p; entry ``s`` is the R² of the drivers whose bits are set in ``s``
    (bit j = driver j). Memory stays below about ``2^chunk_levels`` small matrices whatever p.
    """
    p = R.shape[0] - 1
    out = np.empty(2 ** p)
    top = max(0, p - chunk_levels)
    M = _levels(_packed(R), p + 1, top)  # 2^top nodes
    for s in range(M.shape[1]):
        leaf = _levels(M[:, s:s + 1], p + 1 - top, p - top)  # 2^(p - top) nodes, each the residual variance of y
        out[s + (2 ** top) * np.arange(2 ** (p - top))] = 1.0 - leaf[0]
    return out


@lru_cache(maxsize=4)
def _popcount(p: int) -> np.ndarray:
    """Bits set in 0 … 2^p − 1 (read-only; built by doubling)."""
    pc = np.zeros(1, dtype=np.int8)
    for _ in range(p):
        pc = np.concatenate([pc, pc + 1])
    pc.flags.writeable = False
    return pc


def _shapley_weights(p: int) -> np.ndarray:
    """k!(p−k−1)!/p! for a coalition of k of the other p − 1 players."""
    return np.array([1.0 / (p * comb(p - 1, k)) for k in range(p)])


def lmg_only(r2: np.ndarray, p: int) -> np.ndarray:
    """The Shapley values (LMG) alone from all-subsets R², in one pass over the subsets.

    Σ_{S∌j} w(|S|) (R²(S ∪ j) − R²(S)) = Σ_{T∋j} (a + b)(T) − Σ_S b(S) with a(T) = w(|T| − 1) R²(T) and
    b(S) = w(|S|) R²(S) (w = 0 outside 0 … p − 1): one weighted copy of R², then a strided sum per driver.
    """
    w = _shapley_weights(p)
    both = np.zeros(p + 1)
    both[1:] += w  # a: the subset holds j, and w counts the others
    both[:p] += w  # b: the subset without j, any size below p
    b_only = np.zeros(p + 1)
    b_only[:p] = w
    pc = _popcount(p)
    c = both[pc] * r2
    total_b = float(b_only[pc] @ r2)
    return np.array([c.reshape(2 ** (p - j - 1), 2, 2 ** j)[:, 1, :].sum() for j in range(p)]) - total_b


def lmg_from_r2(r2: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Shapley values (LMG) and the conditional-dominance table (p × sizes 0..p−1) from all-subsets R².

    For driver j the array is viewed with bit j as its own axis, so R²(S ∪ j) − R²(S) for every S without j
    is one subtraction; increments are summed per subset size and weighted by k!(p−k−1)!/p!.
    """
    pc = _popcount(p)
    k_weights = _shapley_weights(p)
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
        out["lmg"] = lmg_only(subsets, p)
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
    return lmg_only(r2s, len(groups_idx) if groups_idx else R.shape[0] - 1), float(r2s[-1])


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
            with warnings.catch_warnings():  # a resample's near-collinearity is part of the interval
                warnings.filterwarnings("ignore", "the drivers are nearly collinear", SQMWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
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
    return Importance(result, float(r2), int(cm.rows if cm.weighted else cm.n), outcome, cm.engine)


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
