"""Factor models and the covariance matrices they start from.

Item checks and covariance matrices (complete cases, pairwise, ML with divisor N), KMO and Bartlett's test,
the maximum-likelihood factor model behind ω and the CFA, confirmatory factor analysis with the fit measures
lavaan reports by default (χ², CFI, TLI, RMSEA with its 90 % interval, SRMR) plus composite reliability, AVE,
the Fornell–Larcker table and HTMT, and exploratory factor analysis with parallel analysis.

Definitions follow R's psych (``KMO``, ``cortest.bartlett``, ``fa.parallel``) and lavaan (ML estimation with
the sample covariance divided by N, χ² = N·F_ML); the tests check them against closed forms and the published
lavaan results for the Holzinger–Swineford (1939) model. :mod:`sqmlib.reliability` re-exports the functions
researchers look for there (``cfa``, ``efa``, ``kmo``, ``bartlett_sphericity``, ``htmt``).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats
from statsmodels.multivariate.factor import Factor

from .errors import Problem, SQMArgumentError, SQMDataError, SQMWarning

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
_GL_X, _GL_W = np.polynomial.legendre.leggauss(20)
_BIG = 8.0  # ±8 stands for ±infinity in thresholds (Φ(8) = 1 − 6e-16)


def bvn_cdf(h: np.ndarray, k: np.ndarray, rho) -> np.ndarray:
    """Bivariate standard normal P(X ≤ h, Y ≤ k) with correlation ``rho`` (broadcast), by Plackett's identity
    ∂Φ₂/∂ρ = φ₂ integrated from 0 to ρ over θ = asin(t) with 20-point Gauss–Legendre (Genz 2004's form for
    |ρ| < 0.925; accurate to about 1e-8 up to |ρ| = 0.95). Thresholds beyond ±8 are taken as ±8."""
    h, k = np.clip(h, -_BIG, _BIG), np.clip(k, -_BIG, _BIG)
    rho = np.asarray(rho, float)
    a = np.arcsin(rho)[..., None]
    theta = a * (_GL_X + 1) / 2  # nodes on [0, asin ρ]
    sn, cs2 = np.sin(theta), np.cos(theta) ** 2
    hh, kk = h[..., None], k[..., None]
    f = np.exp(-(hh * hh - 2 * sn * hh * kk + kk * kk) / (2 * cs2))
    integral = (f * _GL_W).sum(axis=-1) * np.arcsin(rho) / 2 / (2 * np.pi)
    return stats.norm.cdf(h) * stats.norm.cdf(k) + integral


def bvn_pdf(h: np.ndarray, k: np.ndarray, rho) -> np.ndarray:
    """Bivariate standard normal density φ₂(h, k; ρ) (0 at the ±8 stand-ins for infinity)."""
    rho = np.asarray(rho, float)
    d = 1 - rho * rho
    out = np.exp(-(h * h - 2 * rho * h * k + k * k) / (2 * d)) / (2 * np.pi * np.sqrt(d))
    return np.where((np.abs(h) >= _BIG) | (np.abs(k) >= _BIG), 0.0, out)


def thresholds(x: np.ndarray, categories: np.ndarray) -> np.ndarray:
    """Normal thresholds of an ordinal item from its marginal proportions: Φ⁻¹ of the cumulative shares of the
    categories (all but the last), as lavaan's first step."""
    x = x[~np.isnan(x)]
    counts = np.array([(x == c).sum() for c in categories], float)
    cum = np.cumsum(counts)[:-1] / counts.sum()
    return stats.norm.ppf(cum)


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
    p = X.shape[1]
    cats, taus, problems = [], [], []
    for j in range(p):
        c = np.unique(X[~np.isnan(X[:, j]), j])
        if len(c) < 2:
            problems.append(Problem("constant", "a single answer category: no correlation", names[j]))
        if len(c) > max_categories:
            problems.append(Problem("not_ordinal", f"{len(c)} distinct values: not an ordinal rating", names[j]))
        cats.append(c)
    if problems:
        raise SQMDataError("items", problems)
    K = max(len(c) for c in cats)
    edges = np.full((p, K + 1), _BIG)
    codes = np.full(X.shape, -1)
    for j in range(p):
        t = thresholds(X[:, j], cats[j])
        edges[j, 0] = -_BIG
        edges[j, 1:len(t) + 1] = np.clip(t, -_BIG, _BIG)
        ok = ~np.isnan(X[:, j])
        codes[ok, j] = np.searchsorted(cats[j], X[ok, j])
        taus.append(t)
    pairs = [(a, b) for a in range(p) for b in range(a + 1, p)]
    A = np.array([a for a, _ in pairs])
    B = np.array([b for _, b in pairs])
    N = np.zeros((len(pairs), K, K))
    for q, (a, b) in enumerate(pairs):
        both = (codes[:, a] >= 0) & (codes[:, b] >= 0)
        np.add.at(N[q], (codes[both, a], codes[both, b]), 1)
    H = edges[A][:, :, None] * np.ones((1, 1, K + 1))  # corners (pairs × K+1 × K+1)
    Kk = edges[B][:, None, :] * np.ones((1, K + 1, 1))

    def score(rho):
        r = rho[:, None, None]
        F = bvn_cdf(H, Kk, r)
        f = bvn_pdf(H, Kk, r)
        P = F[:, 1:, 1:] - F[:, :-1, 1:] - F[:, 1:, :-1] + F[:, :-1, :-1]
        dP = f[:, 1:, 1:] - f[:, :-1, 1:] - f[:, 1:, :-1] + f[:, :-1, :-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(N > 0, N * dP / P, 0.0)
        return terms.sum(axis=(1, 2))

    lo, hi = np.full(len(pairs), -0.999), np.full(len(pairs), 0.999)
    for _ in range(42):  # bisection: the score falls from + to − through the maximum
        mid = (lo + hi) / 2
        up = score(mid) > 0
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    rho = (lo + hi) / 2
    R = np.eye(p)
    R[A, B] = R[B, A] = rho
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


# ---------------------------------------------------------------------------------------------------------
# confirmatory factor analysis
# ---------------------------------------------------------------------------------------------------------
def rmsea_ci(chisq: float, df: int, n: int, confidence: float = 0.90) -> tuple[float, float]:
    """Confidence interval of the RMSEA by inverting the non-central χ² distribution (as lavaan does)."""
    if df <= 0:
        return (np.nan, np.nan)
    lo_p, hi_p = (1 + confidence) / 2, (1 - confidence) / 2

    def ncp_for(prob):
        f = lambda lam: stats.ncx2.cdf(chisq, df, lam) - prob if lam > 0 else stats.chi2.cdf(chisq, df) - prob
        if f(0) < 0:
            return 0.0
        hi = max(chisq, 1.0)
        while f(hi) > 0:
            hi *= 2
        return optimize.brentq(f, 0, hi, xtol=1e-12)

    lam_lo, lam_hi = ncp_for(lo_p), ncp_for(hi_p)
    return float(np.sqrt(lam_lo / (n * df))), float(np.sqrt(lam_hi / (n * df)))


@dataclass(frozen=True)
class CFAResult:
    """A fitted confirmatory factor model.

    Attributes
    ----------
    loadings : DataFrame
        One row per (factor, item): ``estimate`` (raw units, factor variance 1), ``marker_scaled`` (the
        estimate divided by the factor's first loading, as lavaan reports with its default marker
        identification), ``std_all`` (standardised) and ``residual_variance``.
    factor_corr : DataFrame
    fit : Series
        ``chisq``, ``df``, ``p_value``, ``cfi``, ``tli``, ``rmsea``, ``rmsea_ci_low``, ``rmsea_ci_high``,
        ``srmr``, ``baseline_chisq``, ``baseline_df``, ``n``.
    validity : DataFrame
        Per factor: composite reliability ``cr`` (and ``cr_ok``: ≥ .70), ``ave`` (and ``ave_ok``: ≥ .50),
        ``sqrt_ave``, the largest correlation with another factor, and whether Fornell–Larcker holds.
    fornell_larcker : DataFrame
        √AVE on the diagonal, factor correlations off it.
    htmt : DataFrame
        Heterotrait–monotrait ratios of the observed correlations.
    converged : bool
    improper : tuple of str
        Why the solution is improper (a latent covariance matrix that is not positive definite, Heywood cases);
        empty for a proper solution. Each is also warned about.

    Validity also carries semTools' definitions in raw units: ``cr_raw_observed`` (``compRelSEM`` with the
    observed total variance, its default), ``cr_raw_implied`` (with the model-implied one) and ``ave_raw``
    (``AVE``: Σλ²φ / Σσᵢᵢ of the observed variances); ``cr`` and ``ave`` are Fornell–Larcker's standardised ones.
    """

    model: Mapping[str, tuple[str, ...]]
    loadings: pd.DataFrame
    factor_corr: pd.DataFrame
    fit: pd.Series
    validity: pd.DataFrame
    fornell_larcker: pd.DataFrame
    htmt: pd.DataFrame
    converged: bool
    implied_cov: pd.DataFrame = field(repr=False)
    improper: tuple = ()

    def summary(self) -> pd.DataFrame:
        """The fit measures with the usual thresholds and whether each is met."""
        f = self.fit
        rows = [("chisq", f["chisq"], None, None), ("df", f["df"], None, None), ("p_value", f["p_value"], None, None),
                ("cfi", f["cfi"], ">= 0.95", f["cfi"] >= THRESHOLDS["cfi"]),
                ("tli", f["tli"], ">= 0.95", f["tli"] >= THRESHOLDS["tli"]),
                ("rmsea", f["rmsea"], "<= 0.06", f["rmsea"] <= THRESHOLDS["rmsea"]),
                ("rmsea_ci_low", f["rmsea_ci_low"], None, None), ("rmsea_ci_high", f["rmsea_ci_high"], None, None),
                ("srmr", f["srmr"], "<= 0.08", f["srmr"] <= THRESHOLDS["srmr"]), ("n", f["n"], None, None)]
        return pd.DataFrame(rows, columns=["measure", "value", "threshold", "met"]).set_index("measure")

    def _repr_html_(self) -> str:
        return ("<p><b>CFA fit</b></p>" + self.summary().to_html(float_format=lambda v: f"{v:.3f}")
                + "<p><b>Validity</b></p>" + self.validity.to_html(float_format=lambda v: f"{v:.3f}"))


HTMT_KINDS = ("htmt", "htmt2")


def htmt(R: pd.DataFrame, model: Mapping[str, Sequence[str]], *, absolute: bool = True,
         kind: str = "htmt") -> pd.DataFrame:
    """Heterotrait–monotrait ratio (Henseler, Ringle & Sarstedt 2015) from an item correlation matrix.

    ``absolute=True`` (semTools' default, which its documentation recommends) takes absolute correlations, so a
    negatively correlated item pair cannot make two constructs look more distinct than they are; ``False`` uses
    the signed correlations. ``kind="htmt2"`` uses geometric instead of arithmetic means (Roemer, Schuberth &
    Henseler 2021), as semTools' ``htmt2 = TRUE``.
    """
    if kind not in HTMT_KINDS:
        raise SQMArgumentError(f"kind must be one of {', '.join(HTMT_KINDS)}, got {kind!r}")
    A = R.abs() if absolute else R
    factors = list(model)
    out = pd.DataFrame(np.nan, index=factors, columns=factors)

    def mean(values: np.ndarray) -> float:
        if kind == "htmt2":
            return float(np.exp(np.log(values).mean())) if np.all(values > 0) else np.nan
        return float(values.mean())

    def mono(items):
        k = len(items)
        if k < 2:
            return np.nan
        sub = A.loc[items, items].to_numpy()
        return mean(sub[np.triu_indices(k, 1)])

    for i, a in enumerate(factors):
        out.loc[a, a] = 1.0
        for b in factors[:i]:
            hetero = mean(A.loc[list(model[a]), list(model[b])].to_numpy().ravel())
            out.loc[a, b] = out.loc[b, a] = hetero / np.sqrt(mono(list(model[a])) * mono(list(model[b])))
    return out


def cfa(data: pd.DataFrame | None = None, model: Mapping[str, Sequence[str]] | None = None, *,
        estimator: str = "ML", cov: pd.DataFrame | None = None, n_obs: int | None = None) -> CFAResult:
    """Confirmatory factor analysis by maximum likelihood, with fit and validity measures.

    Parameters
    ----------
    data : DataFrame, optional
        Respondents × items; complete cases are used (as lavaan's default ``missing="listwise"``).
    model : dict factor -> items
        Each item loads on the factors that list it; factors correlate freely.
    estimator : {"ML"}
    cov, n_obs : optional
        A covariance matrix (divisor N) and the sample size, instead of ``data``.

    Notes
    -----
    As lavaan's ML defaults: the sample covariance uses divisor N, χ² = N·F_ML, the baseline model is the
    independence model, RMSEA = sqrt(max(χ² − df, 0) / (N·df)) with a 90 % interval from the non-central χ²,
    and SRMR is Bentler's: the root mean square of (s_ij − σ̂_ij) / sqrt(s_ii s_jj) over i ≤ j.
    """
    if estimator != "ML":
        raise SQMArgumentError("only estimator='ML' is available")
    if not model:
        raise SQMArgumentError("model must map each factor to its items")
    items = list(dict.fromkeys(str(i) for its in model.values() for i in its))
    if cov is not None:
        if n_obs is None:
            raise SQMArgumentError("n_obs is required with cov")
        S = cov.loc[items, items].to_numpy(dtype=float)
        n = int(n_obs)
        R_obs = pd.DataFrame(cov2cor(S), index=items, columns=items)
    else:
        missing = [i for i in items if i not in data.columns]
        if missing:
            raise SQMDataError("data", [Problem("missing_column", f"model items not in the data: {missing}")])
        X, _ = check_items(data[items], what="data")
        S, n = ml_cov(X)
        check_variances(S, items, what="data")
        R_obs = pd.DataFrame(cov2cor(S), index=items, columns=items)
    p, factors = len(items), list(model)
    pattern = np.zeros((p, len(factors)), bool)
    for j, fct in enumerate(factors):
        for i in model[fct]:
            pattern[items.index(str(i)), j] = True
    with warnings.catch_warnings():  # Heywood cases are reported with the other improper solutions below
        warnings.filterwarnings("ignore", message="a residual variance reached its lower bound")
        fit = ml_fit(S, pattern)
    chisq = n * fit.fmin
    df = p * (p + 1) // 2 - fit.n_free
    _, logdet_s = np.linalg.slogdet(S)
    base = n * (np.log(np.diag(S)).sum() - logdet_s)
    base_df = p * (p - 1) // 2
    cfi_den = max(base - base_df, chisq - df, 0.0)
    cfi = 1.0 - max(chisq - df, 0.0) / cfi_den if cfi_den > 0 else 1.0
    tli = ((base / base_df) - (chisq / df)) / ((base / base_df) - 1.0) if df > 0 else np.nan
    rmsea = float(np.sqrt(max(chisq - df, 0.0) / (n * df))) if df > 0 else np.nan
    lo, hi = rmsea_ci(chisq, df, n)
    d = np.sqrt(np.diag(S))
    resid = (S - fit.Sigma) / np.outer(d, d)
    srmr = float(np.sqrt(np.mean(resid[np.tril_indices(p)] ** 2)))
    fit_s = pd.Series({"chisq": chisq, "df": df, "p_value": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
                       "cfi": cfi, "tli": tli, "rmsea": rmsea, "rmsea_ci_low": lo, "rmsea_ci_high": hi,
                       "srmr": srmr, "baseline_chisq": base, "baseline_df": base_df, "n": n})
    sd_model = np.sqrt(np.diag(fit.Sigma))
    std = fit.Lambda / sd_model[:, None]
    rows = []
    for j, fct in enumerate(factors):
        first = items.index(str(model[fct][0]))
        for i in model[fct]:
            r = items.index(str(i))
            rows.append({"factor": fct, "item": str(i), "estimate": fit.Lambda[r, j],
                         "marker_scaled": fit.Lambda[r, j] / fit.Lambda[first, j], "std_all": std[r, j],
                         "residual_variance": fit.theta[r]})
    loadings = pd.DataFrame(rows)
    phi = pd.DataFrame(fit.Phi, index=factors, columns=factors)
    val = []
    for j, fct in enumerate(factors):
        idx = [items.index(str(i)) for i in model[fct]]
        lam = std[idx, j]
        th = fit.theta[idx] / sd_model[idx] ** 2
        cr = lam.sum() ** 2 / (lam.sum() ** 2 + th.sum())
        ave = (lam ** 2).sum() / ((lam ** 2).sum() + th.sum())
        raw = fit.Lambda[idx, j]  # raw units, factor variance 1
        S_jj, Sig_jj = S[np.ix_(idx, idx)], fit.Sigma[np.ix_(idx, idx)]
        others = phi.loc[fct].drop(fct).abs()
        max_r = float(others.max()) if len(others) else np.nan
        val.append({"factor": fct, "items": len(idx), "cr": cr, "ave": ave, "sqrt_ave": np.sqrt(ave),
                    "max_factor_corr": max_r, "fornell_larcker_ok": bool(np.sqrt(ave) > max_r) if len(others) else True,
                    "cr_raw_observed": raw.sum() ** 2 / S_jj.sum(), "cr_raw_implied": raw.sum() ** 2 / Sig_jj.sum(),
                    "ave_raw": (raw ** 2).sum() / np.trace(S_jj)})
    validity = pd.DataFrame(val).set_index("factor")
    validity.insert(validity.columns.get_loc("cr") + 1, "cr_ok", validity["cr"] >= THRESHOLDS["cr"])
    validity.insert(validity.columns.get_loc("ave") + 1, "ave_ok", validity["ave"] >= THRESHOLDS["ave"])
    fl = phi.copy()
    for fct in factors:
        fl.loc[fct, fct] = validity.loc[fct, "sqrt_ave"]
    if not fit.converged:
        warnings.warn(f"the CFA did not converge: {fit.message}", SQMWarning, stacklevel=2)
    improper = improper_solution(fit.Phi, fit.theta, std, factors, items, S)
    for note in improper:
        warnings.warn(note, SQMWarning, stacklevel=2)
    return CFAResult({k: tuple(str(i) for i in v) for k, v in model.items()}, loadings, phi, fit_s, validity, fl,
                     htmt(R_obs, model), fit.converged,
                     pd.DataFrame(fit.Sigma, index=items, columns=items), tuple(improper))


def improper_solution(Phi: np.ndarray, theta: np.ndarray, std: np.ndarray, factors: Sequence[str],
                      items: Sequence[str], S: np.ndarray) -> list[str]:
    """What makes a fitted factor model improper, as lavaan warns: a latent covariance matrix that is not
    positive definite, and Heywood cases (a residual variance at or below zero, a standardised loading above 1)."""
    notes = []
    ev = np.linalg.eigvalsh(Phi)
    if ev.min() < 1e-8:
        notes.append(f"the factor correlation matrix is not positive definite (smallest eigenvalue {ev.min():.3f}): "
                     "some factors are not distinct, or the model is misspecified — the solution is improper")
    low = [items[i] for i in np.flatnonzero(theta <= 1e-6 * np.diag(S))]
    big = sorted({items[i] for i, _ in zip(*np.nonzero(np.abs(std) >= 1.0))})
    if low or big:
        notes.append("Heywood case: " + "; ".join(filter(None, [
            f"residual variance at its bound for {', '.join(low)}" if low else "",
            f"standardised loading of 1 or more for {', '.join(big)}" if big else ""])) + " — the solution is improper")
    return notes


# ---------------------------------------------------------------------------------------------------------
# exploratory factor analysis
# ---------------------------------------------------------------------------------------------------------
def parallel_analysis(R: np.ndarray, n: int, n_iter: int = 100, quantile: float = 0.95,
                      seed: int = 0) -> pd.DataFrame:
    """Horn's parallel analysis: eigenvalues of R against those of random normal data of the same size.

    Random correlation matrices are drawn from the Wishart distribution of ``n`` normal observations, which
    costs the same whatever ``n``. Returns per component the observed eigenvalue, the random mean and
    ``quantile``; the suggested number of factors is the count of leading observed eigenvalues above that
    quantile.
    """
    p = R.shape[0]
    if n <= p:
        raise SQMDataError("items", [Problem("too_few_rows", f"only {n} respondents for {p} items: parallel "
                                                             "analysis and factor models need more respondents "
                                                             "than items")])
    obs = np.sort(np.linalg.eigvalsh(R))[::-1]
    rng = np.random.default_rng(seed)
    W = stats.wishart.rvs(df=n - 1, scale=np.eye(p), size=n_iter, random_state=rng)
    W = W.reshape(n_iter, p, p)
    sims = np.empty((n_iter, p))
    for b in range(n_iter):
        sims[b] = np.sort(np.linalg.eigvalsh(cov2cor(W[b])))[::-1]
    out = pd.DataFrame({"observed": obs, "random_mean": sims.mean(axis=0),
                        "random_quantile": np.quantile(sims, quantile, axis=0)},
                       index=pd.RangeIndex(1, p + 1, name="component"))
    above = out["observed"] > out["random_quantile"]
    out["retain"] = above.cumprod().astype(bool)
    return out


@dataclass(frozen=True)
class EFAResult:
    """Exploratory factor analysis: loadings, communalities, variance explained and the parallel analysis."""

    n_factors: int
    rotation: str
    loadings: pd.DataFrame
    communalities: pd.Series
    variance: pd.DataFrame
    factor_corr: pd.DataFrame | None
    parallel: pd.DataFrame
    suggested_n_factors: int

    def summary(self) -> pd.DataFrame:
        return self.variance

    def _repr_html_(self) -> str:
        return (f"<p><b>EFA</b>: {self.n_factors} factors ({self.rotation}); parallel analysis suggests "
                f"{self.suggested_n_factors}</p>" + self.loadings.to_html(float_format=lambda v: f"{v:.2f}"))


def efa(items: pd.DataFrame, n_factors: int | None = None, rotation: str = "oblimin", *, n_iter: int = 100,
        seed: int = 0) -> EFAResult:
    """Exploratory factor analysis by maximum likelihood (statsmodels) with parallel analysis.

    Parameters
    ----------
    items : DataFrame
    n_factors : int, optional
        Default: the number parallel analysis suggests (at least 1).
    rotation : {"oblimin", "varimax", "promax", "quartimin", None}
        Oblique rotations also give factor correlations.
    """
    R, names, n = items_corr(items)
    pa = parallel_analysis(R, n, n_iter=n_iter, seed=seed)
    suggested = max(1, int(pa["retain"].sum()))
    m = suggested if n_factors is None else int(n_factors)
    # statsmodels draws the EM starting values at random: its generator is seeded here, so a seed pins the result
    fa = Factor(corr=R, n_factor=m, method="ml", nobs=n).fit(rng=np.random.default_rng(seed))
    if rotation and m > 1:
        fa.rotate(rotation)
    L = np.asarray(fa.loadings)
    L = L * np.where(L.sum(axis=0) < 0, -1.0, 1.0)
    cols = [f"F{j + 1}" for j in range(m)]
    loadings = pd.DataFrame(L, index=names, columns=cols)
    phi = None
    if rotation in ("oblimin", "promax", "quartimin") and m > 1:
        T = np.asarray(fa.rotation_matrix)  # statsmodels: L = A (T')^-1, factor correlations T'T
        Phi = T.T @ T
        dflip = np.where(np.asarray(fa.loadings).sum(axis=0) < 0, -1.0, 1.0)
        Phi = Phi * np.outer(dflip, dflip)
        phi = pd.DataFrame(Phi, index=cols, columns=cols)
        common = np.einsum("ij,jk,ik->i", L, Phi, L)
    else:
        common = (L ** 2).sum(axis=1)
    ss = (L ** 2).sum(axis=0)
    variance = pd.DataFrame({"ss_loadings": ss, "proportion": ss / len(names)}, index=cols)
    variance["cumulative"] = variance["proportion"].cumsum()
    return EFAResult(m, rotation or "none", loadings, pd.Series(common, index=names, name="communality"),
                     variance, phi, pa, suggested)


