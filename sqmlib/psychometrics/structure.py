"""Covariance matrices, KMO, Bartlett, polychoric correlations and maximum-likelihood factor fits."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

from ..errors import Problem, SQMArgumentError, SQMDataError, SQMWarning
from ..instruments import load as load_instrument
from . import ordinal

THRESHOLDS = {"alpha": 0.70, "omega": 0.70, "cr": 0.70, "ave": 0.50, "htmt": 0.85, "cfi": 0.95, "tli": 0.95,
              "rmsea": 0.06, "srmr": 0.08}

# ---------------------------------------------------------------------------------------------------------
# input handling and covariance matrices
# ---------------------------------------------------------------------------------------------------------
def check_items(items: pd.DataFrame, reverse: Sequence[str] = (), scale: tuple[float, float] | None = None,
                 what: str = "items") -> tuple[np.ndarray, list[str]]:
    """Items as a float matrix (reverse-keyed ones reflected), with clear errors for unusable input.

    Items nobody answered are caught here; items without variance are caught by :func:`covariance`, which
    sees the variances anyway.
    """
    if not isinstance(items, pd.DataFrame):
        items = pd.DataFrame(items)
    names = [str(c) for c in items.columns]
    problems = []
    if len(names) < 2:
        problems.append(Problem("too_few_items", f"at least two items are needed, got {len(names)}"))
    try:
        if all(dt == np.float64 for dt in items.dtypes):
            X = items.to_numpy()
        else:
            X = items.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise SQMDataError(what, [Problem("non_numeric", "items must be numeric")]) from None
    idx = reverse_index(names, reverse, scale, problems)
    if idx:
        X = X.copy()
        X[:, idx] = scale[0] + scale[1] - X[:, idx]
    if X.shape[1] and X.shape[0]:
        no_answers(names, (~np.isnan(X)).sum(axis=0), problems)
    if problems:
        raise SQMDataError(what, problems)
    return X, names


def reverse_index(names: Sequence[str], reverse: Sequence[str], scale, problems: list) -> list[int]:
    """Positions of the reverse-keyed items to reflect; unknown items or a missing scale go to ``problems``."""
    if not reverse:
        return []
    unknown = [r for r in reverse if r not in names]
    if unknown:
        problems.append(Problem("unknown_item", f"reverse-keyed items not among the items: {unknown}"))
    elif scale is None:
        problems.append(Problem("no_scale", "reverse-keyed items need scale=(min, max) to be reflected"))
    else:
        return [list(names).index(r) for r in reverse]
    return []


def no_answers(names: Sequence[str], answered, problems: list) -> None:
    empty = [n for n, k in zip(names, answered) if k == 0]
    if empty:
        problems.append(Problem("all_missing", f"items with no answers at all: {empty}"))


def check_variances(C: np.ndarray, names: Sequence[str], what: str = "items") -> None:
    const = [n for n, v in zip(names, np.diag(C)) if not v > 0]
    if const:
        raise SQMDataError(what, [Problem("constant_item", f"items with the same answer from everyone (no "
                                                           f"variance): {const}; drop them")])


def complete_cov(X: np.ndarray) -> np.ndarray:
    mean = X.mean(axis=0)
    Xc = X - mean
    return (Xc.T @ Xc) / (X.shape[0] - 1)


def pairwise_cov(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covariances from pairwise-complete answers (as R's ``cov(use="pairwise")`` and pandas), with counts.

    Computed with three matrix products instead of a loop over pairs: for items i, j and the mask M of
    answered cells, with X0 = X centred and zero where missing, ``n_ij = (M'M)_ij``,
    ``s_ij = (X0'M)_ij`` (sum of x_i where x_j is answered) and ``cov_ij = ((X0'X0)_ij − s_ij s_ji / n_ij) /
    (n_ij − 1)``. Centring first keeps the sums small.
    """
    M = ~np.isnan(X)
    if M.all():
        return complete_cov(X), np.full((X.shape[1], X.shape[1]), X.shape[0], dtype=float)
    Mf = M.astype(float)
    X0 = np.where(M, X - np.nanmean(X, axis=0), 0.0)
    N = Mf.T @ Mf
    S = X0.T @ Mf
    P = X0.T @ X0
    with np.errstate(invalid="ignore", divide="ignore"):
        C = (P - S * S.T / N) / (N - 1)
    return C, N


def sampling_weights(weights, n: int) -> np.ndarray:
    """Sampling weights as a float vector of length ``n``. A respondent without a weight (missing) is kept out,
    as one with weight 0, the same as the KPI and gap tables do; a negative or infinite weight is a data
    problem."""
    w = np.asarray(weights, dtype=float).ravel()
    if len(w) != n:
        raise SQMArgumentError(f"weights has {len(w)} values for {n} respondents")
    bad = np.isinf(w) | (w < 0)
    if bad.any():
        raise SQMDataError("weights", [Problem("bad_weight", f"{int(bad.sum())} respondent(s) with a negative or "
                                                               "infinite sampling weight")])
    return np.where(np.isnan(w), 0.0, w)


def weighted_covariance(X: np.ndarray, weights, missing: str = "pairwise", *,
                        ddof: int = 1) -> tuple[np.ndarray, float, np.ndarray]:
    """(covariance matrix, Kish's effective n, rows used) with sampling weights.

    Each covariance is ``Σw(x − x̄_w)(y − ȳ_w) / (V1 − ddof·V2/V1)`` over the respondents who answered both
    items (``"pairwise"``) or every item (``"listwise"``), with ``V1 = Σw`` and ``V2 = Σw²`` over those
    respondents: numpy's ``cov(aweights=w)`` for complete data (``ddof=0`` gives the ML divisor ``V1``).
    Pairwise, it takes the same three matrix products as :func:`pairwise_cov`, weighted. The effective n is
    Kish's ``(Σw)²/Σw²`` over the rows used (pairwise: those with two or more answers).
    """
    if missing not in ("pairwise", "listwise"):
        raise SQMArgumentError("missing must be 'pairwise' or 'listwise'")
    w = sampling_weights(weights, X.shape[0])
    M = ~np.isnan(X) & (w > 0)[:, None]
    rows = M.all(axis=1) if missing == "listwise" else M.sum(axis=1) >= 2
    if missing == "listwise":
        M = M & rows[:, None]
    wr = w[rows]
    n_eff = float(wr.sum() ** 2 / (wr * wr).sum()) if (wr > 0).any() else 0.0
    Mf = M.astype(float)
    W1 = (Mf * w[:, None]).T @ Mf
    W2 = (Mf * (w * w)[:, None]).T @ Mf
    if np.any(W1 <= 0) or n_eff < 2:
        raise SQMDataError("items", [Problem("too_few_pairs", "some items are answered together by fewer than two "
                                                              "weighted respondents")])
    centre = np.nansum(np.where(M, X, 0.0) * w[:, None], axis=0) / np.diag(W1)
    X0 = np.where(M, X - centre, 0.0)
    Xw = X0 * w[:, None]
    S = Xw.T @ Mf  # Σ w x_i over the respondents who answered j
    P = Xw.T @ X0
    with np.errstate(invalid="ignore", divide="ignore"):
        C = (P - S * S.T / W1) / (W1 - ddof * W2 / W1)
    return C, n_eff, rows


def covariance(X: np.ndarray, missing: str = "pairwise") -> tuple[np.ndarray, int, np.ndarray | None]:
    """(covariance matrix, n used, rows used) under the chosen missing-data rule.

    ``rows`` is None when every row is used (complete data), to spare a copy of a large matrix.
    """
    if missing not in ("pairwise", "listwise"):
        raise SQMArgumentError("missing must be 'pairwise' or 'listwise'")
    nan = np.isnan(X)
    if not nan.any():
        if X.shape[0] < 2:
            raise SQMDataError("items", [Problem("too_few_rows", f"only {X.shape[0]} respondents")])
        return complete_cov(X), X.shape[0], None
    if missing == "listwise":
        rows = ~nan.any(axis=1)
        n = int(rows.sum())
        if n < 2:
            raise SQMDataError("items", [Problem("too_few_rows", f"only {n} complete respondents")])
        return complete_cov(X[rows]), n, rows
    C, N = pairwise_cov(X)
    if np.any(N < 2):
        i, j = np.argwhere(N < 2)[0]
        raise SQMDataError("items", [Problem("too_few_pairs", f"items {i} and {j} are answered together by "
                                                              f"fewer than two respondents")])
    rows = (X.shape[1] - nan.sum(axis=1)) >= 2  # rows that contribute to at least one covariance
    return C, int(rows.sum()), rows


def cov2cor(C: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.diag(C))
    R = C / np.outer(d, d)
    np.fill_diagonal(R, 1.0)
    return R


def smc(R: np.ndarray) -> np.ndarray:
    """Squared multiple correlation of each item with all others: 1 − 1/diag(R⁻¹)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)  # singularity is handled just below
            inv = linalg.inv(R, check_finite=True)
        if not np.all(np.isfinite(inv)) or np.linalg.cond(R) > 1e12:
            raise linalg.LinAlgError
    except linalg.LinAlgError:
        warnings.warn("the correlation matrix is singular (more items than respondents, or items that are "
                      "linear combinations of others); squared multiple correlations use a pseudo-inverse",
                      SQMWarning, stacklevel=3)
        inv = np.linalg.pinv(R)
    return 1.0 - 1.0 / np.diag(inv)


# ---------------------------------------------------------------------------------------------------------
# KMO and Bartlett
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KMOResult:
    overall: float
    per_item: pd.Series

    def summary(self) -> pd.DataFrame:
        return pd.concat([self.per_item, pd.Series({"overall": self.overall})]).rename("kmo").to_frame()


def pairwise_corr(X: np.ndarray) -> np.ndarray:
    """Pearson correlations, each pair over the rows where both are answered, with that pair's own means and
    standard deviations: R's ``cor(use = "pairwise")`` and pandas' ``DataFrame.corr()`` (not the pairwise
    covariance scaled by whole-column variances)."""
    M = (~np.isnan(X)).astype(float)
    Z = np.where(M > 0, X, 0.0)
    N = M.T @ M
    S = Z.T @ M  # S[i, j]: sum of x_i over rows where x_j is answered too
    Q = (Z * Z).T @ M
    P = Z.T @ Z
    with np.errstate(invalid="ignore", divide="ignore"):
        num = P - S * S.T / N
        vi = Q - S * S / N
        R = num / np.sqrt(vi * vi.T)
    np.fill_diagonal(R, 1.0)
    return R


def items_corr(items) -> tuple[np.ndarray, list[str], int]:
    """(correlations, item names, n): pairwise correlations as psych's ``KMO`` and ``cortest.bartlett`` take
    them from ``cor(x, use = "pairwise")``."""
    X, names = check_items(items)
    C, n, _ = covariance(X, "pairwise")
    check_variances(C, names)
    return (pairwise_corr(X) if np.isnan(X).any() else cov2cor(C)), names, n


def kmo(items: pd.DataFrame) -> KMOResult:
    """Kaiser–Meyer–Olkin measure of sampling adequacy (psych's ``KMO``): overall and per item.

    With R the correlation matrix and Q the partial correlations (from R⁻¹),
    ``KMO = Σ r² / (Σ r² + Σ q²)`` over off-diagonal cells (per item: over its row).
    """
    R, names, _ = items_corr(items)
    inv = linalg.inv(R)
    d = np.sqrt(np.diag(inv))
    Q = -inv / np.outer(d, d)
    np.fill_diagonal(Q, 0.0)
    R0 = R.copy()
    np.fill_diagonal(R0, 0.0)
    r2, q2 = R0 ** 2, Q ** 2
    per = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    return KMOResult(float(r2.sum() / (r2.sum() + q2.sum())), pd.Series(per, index=names, name="kmo"))


@dataclass(frozen=True)
class BartlettResult:
    chi2: float
    df: int
    p_value: float
    n: int

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"chi2": self.chi2, "df": self.df, "p_value": self.p_value, "n": self.n}])


def bartlett_sphericity(items: pd.DataFrame) -> BartlettResult:
    """Bartlett's test that the correlation matrix is an identity: ``χ² = −(n − 1 − (2p + 5)/6) ln|R|``
    with ``p(p − 1)/2`` degrees of freedom (psych's ``cortest.bartlett``)."""
    R, names, n = items_corr(items)
    p = len(names)
    sign, logdet = np.linalg.slogdet(R)
    chi2 = -(n - 1 - (2 * p + 5) / 6) * logdet
    df = p * (p - 1) // 2
    return BartlettResult(float(chi2), df, float(stats.chi2.sf(chi2, df)), n)


# ---------------------------------------------------------------------------------------------------------
# ordinal items: polychoric correlations
# ---------------------------------------------------------------------------------------------------------
def polychoric(items: pd.DataFrame, *, max_categories: int = 15) -> pd.DataFrame:
    """Polychoric correlations of ordinal items by the two-step method (as lavaan's ``lavCor(ordered=…)``):
    thresholds from each item's margins, then for every pair the correlation of the underlying bivariate normal
    that maximises the likelihood of the pair's contingency table (respondents who answered both).

    All pairs are solved at once: the score function (derivative of the log-likelihood, from Plackett's
    identity) is bisected to 1e-12 for every pair in the same vectorised pass.

    Raises
    ------
    SQMDataError
        Fewer than two items, an item with a single category, more than ``max_categories`` categories
        (not an ordinal rating).
    """
    X, names = check_items(items)
    R = ordinal.polychoric_fit(X, names, max_categories=max_categories).R
    return pd.DataFrame(R, index=names, columns=names)


# ---------------------------------------------------------------------------------------------------------
# maximum-likelihood factor models (one-factor, bifactor, CFA)
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MLFit:
    Lambda: np.ndarray  # p × m, factor variances fixed at 1
    Phi: np.ndarray  # m × m correlations
    theta: np.ndarray  # p residual variances
    Sigma: np.ndarray
    fmin: float  # F_ML at the optimum
    n_free: int
    converged: bool
    message: str


def ml_fit(S: np.ndarray, pattern: np.ndarray, orthogonal: bool = False) -> MLFit:
    """Fit ``Σ = ΛΦΛ' + Θ`` by maximum likelihood to the covariance matrix S.

    ``pattern`` (p × m, bool) marks free loadings; factor variances are fixed at 1 (the std.lv
    parameterisation, equivalent in fit to fixing a marker loading); factor correlations are free unless
    ``orthogonal``. F_ML = log|Σ| + tr(SΣ⁻¹) − log|S| − p is minimised with its analytic gradient.
    """
    p, m = pattern.shape
    free_l = np.argwhere(pattern)
    tri = [(i, j) for i in range(m) for j in range(i)] if not orthogonal else []
    n_l, n_t = len(free_l), p
    sd = np.sqrt(np.diag(S))
    x0 = np.concatenate([0.7 * sd[free_l[:, 0]], 0.5 * np.diag(S), np.full(len(tri), 0.2)])
    _, logdet_s = np.linalg.slogdet(S)

    def unpack(x):
        L = np.zeros((p, m))
        L[free_l[:, 0], free_l[:, 1]] = x[:n_l]
        th = x[n_l:n_l + n_t]
        Phi = np.eye(m)
        for k, (i, j) in enumerate(tri):
            Phi[i, j] = Phi[j, i] = x[n_l + n_t + k]
        return L, Phi, th

    def f(x):
        L, Phi, th = unpack(x)
        Sigma = L @ Phi @ L.T + np.diag(th)
        try:
            cf = linalg.cho_factor(Sigma, check_finite=False)
        except linalg.LinAlgError:
            return 1e10, np.zeros_like(x)
        Sinv = linalg.cho_solve(cf, np.eye(p), check_finite=False)
        logdet = 2 * np.log(np.diag(cf[0])).sum()
        F = logdet + np.sum(S * Sinv) - logdet_s - p
        G = Sinv @ (Sigma - S) @ Sinv
        gL = 2 * G @ L @ Phi
        gPhi = L.T @ G @ L
        grad = np.concatenate([gL[free_l[:, 0], free_l[:, 1]], np.diag(G),
                               [2 * gPhi[i, j] for i, j in tri]])
        return F, grad

    lo = np.concatenate([np.full(n_l, -np.inf), 1e-8 * np.diag(S), np.full(len(tri), -0.999)])
    hi = np.concatenate([np.full(n_l, np.inf), np.full(n_t, np.inf), np.full(len(tri), 0.999)])
    res = optimize.minimize(f, x0, jac=True, method="L-BFGS-B", bounds=list(zip(lo, hi)),
                            options={"maxiter": 10_000, "maxfun": 20_000, "ftol": 1e-16, "gtol": 1e-10})
    L, Phi, th = unpack(res.x)
    # each factor's sign is arbitrary: make its loadings sum positive
    flip = np.where(L.sum(axis=0) < 0, -1.0, 1.0)
    L = L * flip
    Phi = Phi * np.outer(flip, flip)
    if np.any(th <= 1e-8 * np.diag(S) * 1.0001):
        warnings.warn("a residual variance reached its lower bound (a Heywood case): the model fits the data "
                      "badly or an item is almost redundant", SQMWarning, stacklevel=3)
    Sigma = L @ Phi @ L.T + np.diag(th)
    # L-BFGS-B may stop on its line search at the optimum itself: judge convergence by the gradient
    converged = bool(res.success) or float(np.max(np.abs(res.jac))) < 1e-6
    return MLFit(L, Phi, th, Sigma, float(res.fun), n_l + n_t + len(tri), converged, str(res.message))


def ml_cov(X: np.ndarray) -> tuple[np.ndarray, int]:
    """ML covariance (divisor N) of the complete cases, as lavaan uses by default."""
    rows = ~np.isnan(X).any(axis=1)
    Xc = X[rows]
    n = len(Xc)
    if n < 3:
        raise SQMDataError("items", [Problem("too_few_rows", f"only {n} complete respondents")])
    return complete_cov(Xc) * (n - 1) / n, n


def dimension_scores(survey: pd.DataFrame, instrument, block: str, min_share: float = 0.5) -> pd.DataFrame:
    """Respondent × dimension mean of the answered items of a block; missing when fewer than ``min_share`` of
    the dimension's items were answered."""
    inst = load_instrument(instrument)
    out = {}
    for d, items in inst.dimensions.items():
        x = survey[inst.item_columns(block, d)].to_numpy(dtype=float)
        k = (~np.isnan(x)).sum(axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            m = np.nanmean(x, axis=1)
        out[d] = np.where(k >= np.ceil(min_share * len(items)), m, np.nan)
    return pd.DataFrame(out, index=survey.index)
