"""Ordinal items: polychoric correlations, their asymptotic covariance, and the WLSMV factor model.

Likert answers are ordered categories of an underlying continuous response. The two-step polychoric
correlations (thresholds from each item's margins, then each pair's correlation by ML given them) estimate the
correlations of those responses; Muthén's (1984) sandwich gives the asymptotic covariance Γ of thresholds and
correlations from the casewise scores; the factor model is then fitted by diagonally weighted least squares
(weights 1/diag Γ) with the mean-and-variance-adjusted ("scaled and shifted") χ² of Asparouhov & Muthén (2010).

Definitions follow lavaan's ``cfa(…, ordered=…, estimator="WLSMV")`` (delta parameterisation: latent response
variances 1, thresholds free), and the tests check them against lavaan's published output.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import optimize, stats

from ..errors import Problem, SQMDataError
from .latent import fit_measures

_GL_X, _GL_W = np.polynomial.legendre.leggauss(20)
_BIG = 8.0  # ±8 stands for ±infinity in thresholds (Φ(8) = 1 − 6e-16)


def bvn_cdf(h: np.ndarray, k: np.ndarray, rho) -> np.ndarray:
    """Bivariate standard normal P(X ≤ h, Y ≤ k) with correlation ``rho`` (broadcast), by Plackett's identity
    ∂Φ₂/∂ρ = φ₂ integrated from 0 to ρ over θ = asin(t) with 20-point Gauss–Legendre (Genz 2004's form for
    |ρ| < 0.925; accurate to about 1e-8 up to |ρ| = 0.95). Thresholds beyond ±8 are taken as ±8."""
    h, k, rho = np.broadcast_arrays(np.clip(h, -_BIG, _BIG), np.clip(k, -_BIG, _BIG), np.asarray(rho, float))
    out = np.atleast_1d(stats.norm.cdf(h) * stats.norm.cdf(k))
    inner = (np.abs(h) < _BIG) & (np.abs(k) < _BIG)  # at ±8 the product of the margins is exact
    inner = np.atleast_1d(inner)
    hh, kk, r = np.atleast_1d(h)[inner][:, None], np.atleast_1d(k)[inner][:, None], np.atleast_1d(rho)[inner]
    a = np.arcsin(r)[:, None]
    theta = a * (_GL_X + 1) / 2  # nodes on [0, asin ρ]
    sn, cs2 = np.sin(theta), np.cos(theta) ** 2
    f = np.exp(-(hh * hh - 2 * sn * hh * kk + kk * kk) / (2 * cs2))
    out[inner] += (f * _GL_W).sum(axis=-1) * np.arcsin(r) / 2 / (2 * np.pi)
    return out.reshape(h.shape) if h.ndim else float(out[0])


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


@dataclass(frozen=True)
class PolychoricFit:
    """Thresholds and polychoric correlations of ordinal items, with what their covariance needs."""

    names: list
    categories: list  # per item: the answer values, sorted
    taus: list  # per item: its thresholds
    edges: np.ndarray  # items × (K+1): −8, thresholds, +8 (padded with +8)
    codes: np.ndarray  # rows × items: category index, −1 = no answer
    A: np.ndarray  # first item of each pair (a < b)
    B: np.ndarray
    counts: np.ndarray  # pairs × K × K contingency tables
    rho: np.ndarray  # per pair
    R: np.ndarray


def polychoric_fit(X: np.ndarray, names: Sequence[str], *, max_categories: int = 15) -> PolychoricFit:
    """Two-step polychoric correlations of the item matrix X (NaN = no answer); all pairs are solved at once by
    bisecting the score function (from Plackett's identity) to 1e-12."""
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
    A, B = np.triu_indices(p, 1)
    ca, cb = codes[:, A], codes[:, B]  # rows × pairs
    both = (ca >= 0) & (cb >= 0)
    cell = (np.arange(len(A))[None, :] * K + ca) * K + cb
    N = np.bincount(cell[both], minlength=len(A) * K * K).reshape(len(A), K, K).astype(float)
    H, Kk = corners(edges, A, B)

    def score(rho):
        P, dP = cell_probabilities(H, Kk, rho)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(N > 0, N * dP / P, 0.0)
        return terms.sum(axis=(1, 2))

    rho = solve_decreasing(score, np.full(len(A), -0.999), np.full(len(A), 0.999))
    R = np.eye(p)
    R[A, B] = R[B, A] = rho
    return PolychoricFit(list(names), cats, taus, edges, codes, A, B, N, rho, R)


def solve_decreasing(score, lo: np.ndarray, hi: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """Roots of vectorised decreasing functions bracketed by [lo, hi] (the score falls from + to − through the
    likelihood's maximum): six bisection steps, then the Illinois variant of false position until every
    bracket is narrower than ``tol`` or its score is zero; a root outside the bracket ends at its edge."""
    for _ in range(6):
        mid = (lo + hi) / 2
        up = score(mid) > 0
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    f_lo, f_hi = score(lo), score(hi)
    side = np.zeros(len(lo), int)
    for _ in range(60):
        done = (hi - lo < tol) | (f_lo <= 0) | (f_hi >= 0)
        if done.all():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(done, (lo + hi) / 2, hi - f_hi * (hi - lo) / (f_hi - f_lo))
        x = np.where(np.isfinite(x) & (x > lo) & (x < hi), x, (lo + hi) / 2)
        fx = score(x)
        up = fx > 0
        zero = fx == 0
        # Illinois: halve the value kept at the end that stays, so the bracket shrinks from both sides
        f_hi = np.where(up & (side == 1), f_hi / 2, f_hi)
        f_lo = np.where(~up & (side == -1), f_lo / 2, f_lo)
        lo, f_lo = np.where(up | zero, x, lo), np.where(up | zero, fx, f_lo)
        hi, f_hi = np.where(~up | zero, x, hi), np.where(~up | zero, fx, f_hi)
        side = np.where(up, 1, -1)
    root = (lo + hi) / 2
    root = np.where(f_lo <= 0, lo, root)
    return np.where(f_hi >= 0, hi, root)


def corners(edges: np.ndarray, A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    K1 = edges.shape[1]
    return edges[A][:, :, None] * np.ones((1, 1, K1)), edges[B][:, None, :] * np.ones((1, K1, 1))


def cell_probabilities(H: np.ndarray, Kk: np.ndarray, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's cell probabilities and their derivatives in ρ (pairs × K × K)."""
    r = rho[:, None, None]
    F = bvn_cdf(H, Kk, r)
    f = bvn_pdf(H, Kk, r)
    P = F[:, 1:, 1:] - F[:, :-1, 1:] - F[:, 1:, :-1] + F[:, :-1, :-1]
    dP = f[:, 1:, 1:] - f[:, :-1, 1:] - f[:, 1:, :-1] + f[:, :-1, :-1]
    return P, dP


# ---------------------------------------------------------------------------------------------------------
# the asymptotic covariance of thresholds and correlations (Muthén 1984)
# ---------------------------------------------------------------------------------------------------------
def acov(pc: PolychoricFit) -> np.ndarray:
    """Asymptotic covariance of the stacked estimates (thresholds item by item, then the correlations in pair
    order) of complete rows: the sandwich B⁻¹ (Σ sᵢsᵢ') B⁻ᵀ of the casewise scores sᵢ of the univariate and the
    pairwise likelihoods, with the block-triangular bread B of outer-product information (as lavaan's
    ``muthen1984``). Multiply by N for the NACOV lavaan reports."""
    codes = pc.codes
    n, p = codes.shape
    K = pc.edges.shape[1] - 1
    n_t = [len(t) for t in pc.taus]
    t_start = np.concatenate([[0], np.cumsum(n_t)])
    T, Q = int(t_start[-1]), len(pc.A)
    phi = stats.norm.pdf(pc.edges)
    phi[:, 0] = 0.0
    phi[pc.edges >= _BIG] = 0.0
    Pu = np.diff(stats.norm.cdf(pc.edges), axis=1)  # items × K category probabilities
    # univariate threshold scores: an answer in category c moves thresholds c (lower) and c+1 (upper)
    sc = np.zeros((n, T + Q))
    rows = np.arange(n)
    for j in range(p):
        c = codes[:, j]
        pr = Pu[j, c]
        up = c < n_t[j]  # the upper edge is a threshold
        sc[rows[up], t_start[j] + c[up]] = phi[j, c[up] + 1] / pr[up]
        lo = c > 0
        sc[rows[lo], t_start[j] + c[lo] - 1] = -phi[j, c[lo]] / pr[lo]
    # pairwise scores in ρ, per cell, and their cross-derivatives in the thresholds of both items
    H, Kk = corners(pc.edges, pc.A, pc.B)
    P, dP = cell_probabilities(H, Kk, pc.rho)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_rho = np.where(P > 0, dP / P, 0.0)  # pairs × K × K
    sc[:, T:] = s_rho[np.arange(Q)[None, :], codes[:, pc.A], codes[:, pc.B]]
    inner = sc.T @ sc
    A11 = np.zeros((T, T))
    for j in range(p):
        s = slice(t_start[j], t_start[j + 1])
        A11[s, s] = inner[s, s]
    A22 = np.diag(inner)[T:]
    s2 = np.sqrt(1 - pc.rho ** 2)[:, None, None]
    # ∂ log P_ab / ∂τ for the first item's edge e (a row of corners) and the second item's edge
    ea = pc.edges[pc.A][:, :, None]  # pairs × (K+1) × 1
    eb = pc.edges[pc.B][:, None, :]  # pairs × 1 × (K+1)
    r = pc.rho[:, None, None]
    gA = stats.norm.pdf(ea) * stats.norm.cdf((eb - r * ea) / s2)  # ∂F(h,k)/∂h at every corner
    gB = stats.norm.pdf(eb) * stats.norm.cdf((ea - r * eb) / s2)
    gA[np.broadcast_to(np.abs(ea) >= _BIG, gA.shape)] = 0.0
    gB[np.broadcast_to(np.abs(eb) >= _BIG, gB.shape)] = 0.0
    dA_up = (gA[:, 1:, 1:] - gA[:, 1:, :-1])  # derivative of P_ab in the upper edge a+1 of the first item
    dA_lo = -(gA[:, :-1, 1:] - gA[:, :-1, :-1])  # … in its lower edge a
    dB_up = (gB[:, 1:, 1:] - gB[:, :-1, 1:])
    dB_lo = -(gB[:, 1:, :-1] - gB[:, :-1, :-1])
    A21 = np.zeros((Q, T))
    w = np.where(P > 0, pc.counts * s_rho / np.where(P > 0, P, 1), 0.0)  # n_ab · s_ρ / P_ab
    for q in range(Q):
        a, b = pc.A[q], pc.B[q]
        ka, kb = n_t[a], n_t[b]
        for t in range(ka):  # threshold t sits between categories t and t+1 (edge t+1)
            A21[q, t_start[a] + t] = (w[q, t, :] * dA_up[q, t, :]).sum() + (w[q, t + 1, :] * dA_lo[q, t + 1, :]).sum()
        for t in range(kb):
            A21[q, t_start[b] + t] = (w[q, :, t] * dB_up[q, :, t]).sum() + (w[q, :, t + 1] * dB_lo[q, :, t + 1]).sum()
    A11_inv = np.linalg.inv(A11)
    Binv = np.zeros((T + Q, T + Q))
    Binv[:T, :T] = A11_inv
    Binv[T:, T:] = np.diag(1 / A22)
    Binv[T:, :T] = -(A21 / A22[:, None]) @ A11_inv
    del K
    return Binv @ inner @ Binv.T


# ---------------------------------------------------------------------------------------------------------
# the factor model by diagonally weighted least squares (WLSMV)
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WLSMVFit:
    Lambda: np.ndarray  # p × m standardised loadings (latent response variances 1; factor variances 1)
    Phi: np.ndarray  # m × m factor correlations
    theta: np.ndarray  # p residual variances of the latent responses, 1 − communality
    Sigma: np.ndarray  # implied correlations of the latent responses
    polychoric: PolychoricFit
    fit: dict
    converged: bool
    message: str


def scaled_shifted(T: float, df: int, W: np.ndarray, Delta: np.ndarray, Gamma: np.ndarray) -> tuple[float, float, float]:
    """Asparouhov & Muthén's (2010) mean-and-variance adjustment of T: with U = W − WΔ(Δ'WΔ)⁻¹Δ'W,
    a = sqrt(df / tr((UΓ)²)), b = df − a·tr(UΓ); returns (a·T + b, 1/a, b) — lavaan's statistic, "scaling
    factor" and "shift parameter"."""
    WD = W[:, None] * Delta
    U = np.diag(W) - WD @ np.linalg.solve(Delta.T @ WD, WD.T)
    UG = U @ Gamma
    tr, tr2 = float(np.trace(UG)), float(np.sum(UG * UG.T))
    a = np.sqrt(df / tr2)
    b = df - a * tr
    return a * T + b, 1 / a, b


def wlsmv_fit(X: np.ndarray, names: Sequence[str], pattern: np.ndarray, *, max_categories: int = 15) -> WLSMVFit:
    """Fit the factor model ``pattern`` (p × m, bool) to ordinal items by WLSMV, as lavaan's
    ``cfa(…, ordered=TRUE, estimator="WLSMV")``: complete rows, two-step polychoric correlations, DWLS with
    weights 1/diag(NACOV), χ² = N·F_DWLS, the scaled-and-shifted χ² and the fit indices from it.

    ``fit`` holds ``chisq``, ``df``, ``p_value``, ``cfi``, ``tli``, ``rmsea`` (from the DWLS χ²),
    ``chisq_scaled``, ``p_value_scaled``, ``scaling_factor``, ``shift``, ``cfi_scaled``, ``tli_scaled``,
    ``rmsea_scaled`` with its 90 % interval, the baseline χ² (both), ``srmr`` (correlation residuals over the
    p(p+1)/2 elements of the matrix, lavaan's categorical SRMR) and ``n``.
    """
    rows = ~np.isnan(X).any(axis=1)
    X = X[rows]
    n = len(X)
    if n < 10:
        raise SQMDataError("items", [Problem("too_few_rows", f"only {n} complete respondents")])
    pc = polychoric_fit(X, names, max_categories=max_categories)
    # NACOV with lavaan's finite-sample factor: its weights and Γ are N/(N−1) times the sandwich × N, which makes
    # its χ² (N−1)/N times Mplus's; the scaled statistic's a and b do not change
    Gamma = acov(pc) * n * n / (n - 1)
    T_n = sum(len(t) for t in pc.taus)
    Q = len(pc.A)
    w_rho = 1.0 / np.diag(Gamma)[T_n:]
    p, m = pattern.shape
    free_l = np.argwhere(pattern)
    tri = [(i, j) for i in range(m) for j in range(i)]
    n_l = len(free_l)

    def unpack(x):
        L = np.zeros((p, m))
        L[free_l[:, 0], free_l[:, 1]] = x[:n_l]
        Phi = np.eye(m)
        for k, (i, j) in enumerate(tri):
            Phi[i, j] = Phi[j, i] = x[n_l + k]
        return L, Phi

    def rho_of(x):
        L, Phi = unpack(x)
        return (L @ Phi @ L.T)[pc.A, pc.B]

    def f(x):
        L, Phi = unpack(x)
        e = pc.rho - (L @ Phi @ L.T)[pc.A, pc.B]
        G = np.zeros((p, p))
        G[pc.A, pc.B] = G[pc.B, pc.A] = -w_rho * e
        gL = 2 * G @ L @ Phi
        gPhi = L.T @ G @ L
        return float(np.sum(w_rho * e * e)), np.concatenate(
            [gL[free_l[:, 0], free_l[:, 1]], [2 * gPhi[i, j] for i, j in tri]])

    # start: loadings from each factor's first principal component of the polychoric matrix
    L0 = np.zeros((p, m))
    for j in range(m):
        idx = np.flatnonzero(pattern[:, j])
        wv, V = np.linalg.eigh(pc.R[np.ix_(idx, idx)])
        v = V[:, -1] * np.sign(V[:, -1].sum() or 1.0)
        L0[idx, j] = np.clip(v * np.sqrt(wv[-1]), -0.95, 0.95)
    x0 = np.concatenate([L0[free_l[:, 0], free_l[:, 1]], np.full(len(tri), 0.3)])
    bounds = [(None, None)] * n_l + [(-0.999, 0.999)] * len(tri)
    res = optimize.minimize(f, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"maxiter": 10_000, "maxfun": 20_000, "ftol": 1e-16, "gtol": 1e-12})
    L, Phi = unpack(res.x)
    # orientation as lavaan's: each factor's first item (its marker there) loads positively
    markers = [int(np.flatnonzero(pattern[:, j])[0]) for j in range(m)]
    flip = np.where(L[markers, np.arange(m)] < 0, -1.0, 1.0)
    L, Phi = L * flip, Phi * np.outer(flip, flip)
    x = res.x
    Sigma = L @ Phi @ L.T
    theta = 1 - np.diag(Sigma)
    np.fill_diagonal(Sigma, 1.0)
    T = n * float(res.fun)  # N·F_DWLS with weights 1/diag(NACOV)
    df = Q - len(x)
    # Δ = ∂(τ, ρ)/∂(τ, θ): identity for the thresholds; ρ is quadratic in θ, so central differences are exact
    Delta = np.zeros((T_n + Q, T_n + len(x)))
    Delta[:T_n, :T_n] = np.eye(T_n)
    h = 1e-4
    for k in range(len(x)):
        xp, xm = x.copy(), x.copy()
        xp[k] += h
        xm[k] -= h
        Delta[T_n:, T_n + k] = (rho_of(xp) - rho_of(xm)) / (2 * h)
    W = np.concatenate([1.0 / np.diag(Gamma)[:T_n], w_rho])
    T_s, c, b = scaled_shifted(T, df, W, Delta, Gamma)
    base = n * float(np.sum(w_rho * pc.rho ** 2))
    base_df = Q
    base_s, _, _ = scaled_shifted(base, base_df, W, Delta[:, :T_n], Gamma)
    fit = {"chisq": T, "df": df, "p_value": float(stats.chi2.sf(T, df)) if df > 0 else np.nan}
    fit.update(indices(T, df, base, base_df, n))
    fit.update({"chisq_scaled": T_s, "p_value_scaled": float(stats.chi2.sf(T_s, df)) if df > 0 else np.nan,
                "scaling_factor": c, "shift": b, "baseline_chisq": base, "baseline_df": base_df,
                "baseline_chisq_scaled": base_s})
    fit.update({k + "_scaled": v for k, v in indices(T_s, df, base_s, base_df, n).items()})
    e = pc.rho - Sigma[pc.A, pc.B]
    fit["srmr"] = float(np.sqrt(np.sum(e ** 2) / (p * (p + 1) / 2)))
    fit["n"] = n
    converged = bool(res.success) or float(np.max(np.abs(res.jac))) < 1e-7
    return WLSMVFit(L, Phi, theta, Sigma, pc, fit, converged, str(res.message))


def indices(T: float, df: int, base: float, base_df: int, n: int) -> dict:
    """CFI, TLI and RMSEA (with its 90 % interval) from a statistic and its baseline, as lavaan."""
    m = fit_measures(T, df, base, base_df, n, 1)
    return {k: m[k] for k in ("cfi", "tli", "rmsea", "rmsea_ci_low", "rmsea_ci_high")}
