"""Factor models with a mean structure fitted by maximum likelihood to several groups or missing-data patterns.

One likelihood serves three analyses: the multi-group CFA behind measurement invariance (each group its own
covariance matrix and means, parameters shared where the invariance level says so), full-information ML for
respondents with missing answers (each missing-data pattern is a block of rows that sees only its observed
items), and the unrestricted (saturated) model those are tested against.

The minus-two log-likelihood of a block of ``n`` rows with observed items ``o``, mean vector ``m`` and ML
covariance ``S`` (divisor n) is ``n·(k·log 2π + log|Σ_oo| + tr(Σ_oo⁻¹(S + dd')))`` with ``d = m − μ_o``; blocks of
the same size are evaluated together with batched linear algebra, so a survey with thousands of patterns costs
a few array operations per iteration. The analytic gradient goes through ``Σ = ΛΦΛ' + Θ`` and ``μ = ν + Λα``.

Definitions follow lavaan (``cfa(…, group=, group.equal=)``, ``missing="ml"``): marker-variable
identification (first loading of each factor 1, factor variances free, latent means 0 in the first group),
χ² as the likelihood-ratio against the unrestricted model, CFI/TLI against the independence model with free
means and variances, RMSEA with N and ``sqrt(G)`` for G groups, and Bentler's SRMR with mean residuals,
averaged over groups by their sizes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from scipy import linalg, optimize, stats

from ..errors import Problem, SQMDataError

LOG2PI = float(np.log(2 * np.pi))


# ---------------------------------------------------------------------------------------------------------
# data blocks: groups × missing-data patterns
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SizeBatch:
    """Each group's complete rows as one block: their count, mean and ML covariance (divisor n)."""

    group: np.ndarray  # (b,) group of each block
    n: np.ndarray  # (b,) rows
    mean: np.ndarray  # (b, p)
    cov: np.ndarray  # (b, p, p)


@dataclass(frozen=True)
class RowBatch:
    """Rows with the same number r of missing answers, each with its own pattern."""

    group: np.ndarray  # (b,)
    miss: np.ndarray  # (b, r) missing item indices
    x: np.ndarray  # (b, p) answers, 0 where missing


@dataclass(frozen=True)
class Blocks:
    p: int
    n_groups: int
    n: np.ndarray  # rows per group
    complete: SizeBatch
    rows: tuple  # of RowBatch
    X: np.ndarray  # the rows used (NaN = missing)
    g: np.ndarray  # their groups

    @property
    def n_total(self) -> int:
        return int(self.n.sum())


def make_blocks(X: np.ndarray, group: np.ndarray | None = None) -> Blocks:
    """Each group's complete rows as one block (they enter through their moments) and the incomplete rows
    batched by their number of missing answers; rows without any answer are dropped."""
    X = np.asarray(X, float)
    g = np.zeros(len(X), int) if group is None else np.asarray(group, int)
    keep = ~np.isnan(X).all(axis=1)
    X, g = X[keep], g[keep]
    G = int(g.max()) + 1 if len(g) else 1
    p = X.shape[1]
    n_miss = np.isnan(X).sum(axis=1)
    cg, cn, cm, cs = [], [], [], []
    for k in range(G):
        rows = X[(g == k) & (n_miss == 0)]
        if len(rows):
            m = rows.mean(axis=0)
            dev = rows - m
            cg.append(k), cn.append(len(rows)), cm.append(m), cs.append(dev.T @ dev / len(rows))
    complete = SizeBatch(np.array(cg, int), np.array(cn, float), np.array(cm).reshape(-1, p),
                         np.array(cs).reshape(-1, p, p))
    batches = []
    for r in range(1, p):
        sel = n_miss == r
        if sel.any():
            Xr = X[sel]
            miss = np.argwhere(np.isnan(Xr))[:, 1].reshape(-1, r)
            batches.append(RowBatch(g[sel], miss, np.nan_to_num(Xr, nan=0.0)))
    return Blocks(p, G, np.bincount(g, minlength=G), complete, tuple(batches), X, g)


def minus2ll(blocks: Blocks, Sigma: np.ndarray, mu: np.ndarray, grad: bool = True):
    """−2 log-likelihood of all rows under each group's Σ (G×p×p) and μ (G×p), and its gradient with
    respect to Σ and μ (G×p×p, G×p). Returns (inf, None, None) when a Σ is not positive definite.

    Complete rows enter through their group's moments. A row missing the items m uses, with P = Σ⁻¹,
    Σ_oo⁻¹ = P_oo − P_om P_mm⁻¹ P_mo and log|Σ_oo| = log|Σ| + log|P_mm| (the Schur complement), so only the
    small r × r matrices P_mm are inverted per row; summed over rows, the gradient is n·P − P (C + D'D) P
    with C the P_mm⁻¹ scattered into place and D the rows' residuals adjusted for what is missing."""
    G, p = mu.shape
    try:
        Lc = np.linalg.cholesky(Sigma)
    except np.linalg.LinAlgError:
        return np.inf, None, None
    logdet = 2 * np.log(np.diagonal(Lc, axis1=1, axis2=2)).sum(axis=1)
    P = np.linalg.inv(Sigma)
    P = (P + np.swapaxes(P, 1, 2)) / 2
    total = 0.0
    A = np.zeros((G, p, p))  # Σ over rows of what is sandwiched between P and P in the gradient
    nrows = np.zeros(G)
    dsum = np.zeros((G, p))  # Σ over rows of the adjusted residuals
    c = blocks.complete
    if len(c.n):
        d = c.mean - mu[c.group]
        M = c.cov + d[:, :, None] * d[:, None, :]
        total += float((c.n * (p * LOG2PI + logdet[c.group] + np.einsum("bij,bji->b", P[c.group], M))).sum())
        np.add.at(A, c.group, c.n[:, None, None] * M)
        np.add.at(nrows, c.group, c.n)
        np.add.at(dsum, c.group, c.n[:, None] * d)
    for bt in blocks.rows:
        b, r = bt.miss.shape
        e = bt.x - mu[bt.group]
        rows = np.arange(b)[:, None]
        e[rows, bt.miss] = 0.0
        Pg = P[bt.group]
        PE = np.einsum("bij,bj->bi", Pg, e)
        Pmm = Pg[rows[:, :, None], bt.miss[:, :, None], bt.miss[:, None, :]]
        sign, ld = np.linalg.slogdet(Pmm)
        if np.any(sign <= 0):
            return np.inf, None, None
        Pmm_inv = np.linalg.inv(Pmm)
        u = PE[rows, bt.miss]
        w = np.einsum("bij,bj->bi", Pmm_inv, u)
        quad = np.einsum("bi,bi->b", e, PE) - np.einsum("bi,bi->b", u, w)
        total += float(((p - r) * LOG2PI + logdet[bt.group] + ld + quad).sum())
        if grad:
            D = e.copy()
            D[rows, bt.miss] = -w
            flat = ((bt.group[:, None, None] * p + bt.miss[:, :, None]) * p + bt.miss[:, None, :]).ravel()
            A += np.bincount(flat, Pmm_inv.ravel(), minlength=G * p * p).reshape(G, p, p)
            for k in np.unique(bt.group):
                Dk = D[bt.group == k]
                A[k] += Dk.T @ Dk
                dsum[k] += Dk.sum(axis=0)
            nrows += np.bincount(bt.group, minlength=G)
    if not grad:
        return total, None, None
    dS = nrows[:, None, None] * P - P @ A @ P
    dmu = -2 * np.einsum("gij,gj->gi", P, dsum)
    return total, dS, dmu


# ---------------------------------------------------------------------------------------------------------
# the unrestricted and the independence model
# ---------------------------------------------------------------------------------------------------------
def saturated(blocks: Blocks) -> tuple[float, np.ndarray, np.ndarray]:
    """The unrestricted model (free means and covariances per group): −2LL, Σ (G×p×p) and μ (G×p).

    With complete data this is the sample means and ML covariances in closed form; with missing answers the
    FIML estimates (as lavaan's EM for the h1 model), found by maximising the same likelihood over a Cholesky
    factor with its analytic gradient."""
    G, p = blocks.n_groups, blocks.p
    if not blocks.rows:
        Sigma, mu = np.zeros((G, p, p)), np.zeros((G, p))
        Sigma[blocks.complete.group], mu[blocks.complete.group] = blocks.complete.cov, blocks.complete.mean
        return minus2ll(blocks, Sigma, mu, grad=False)[0], Sigma, mu
    mu0, S0 = available_moments(blocks)
    tril = np.tril_indices(p)

    def unpack(x):
        mu = x[:G * p].reshape(G, p)
        L = np.zeros((G, p, p))
        L[:, tril[0], tril[1]] = x[G * p:].reshape(G, -1)
        return mu, L

    def f(x):
        mu, L = unpack(x)
        Sigma = L @ np.swapaxes(L, 1, 2)
        val, dS, dmu = minus2ll(blocks, Sigma, mu)
        if not np.isfinite(val):
            return np.inf, np.zeros_like(x)
        gL = 2 * dS @ L
        scale = blocks.n_total
        return val / scale, np.concatenate([dmu.ravel(), gL[:, tril[0], tril[1]].ravel()]) / scale

    L0 = np.stack([np.linalg.cholesky(nearest_pd(S0[g])) for g in range(G)])
    x0 = np.concatenate([mu0.ravel(), L0[:, tril[0], tril[1]].ravel()])
    res = minimize(f, x0)
    mu, L = unpack(res.x)
    Sigma = L @ np.swapaxes(L, 1, 2)
    return float(res.fun * blocks.n_total), Sigma, mu


def independence(blocks: Blocks) -> float:
    """−2LL of the independence model (free means and variances, no covariances): in closed form per item,
    from the answers it has."""
    out = 0.0
    for k in range(blocks.n_groups):
        Xk = blocks.X[blocks.g == k]
        cnt = (~np.isnan(Xk)).sum(axis=0)
        v = np.nanvar(Xk, axis=0)
        out += float((cnt * (LOG2PI + np.log(v) + 1))[cnt > 0].sum())
    return out


def available_moments(blocks: Blocks) -> tuple[np.ndarray, np.ndarray]:
    """Means and covariances of each group from every row that has the item (pair): starting values."""
    G, p = blocks.n_groups, blocks.p
    mu, S = np.zeros((G, p)), np.zeros((G, p, p))
    for k in range(G):
        Xk = blocks.X[blocks.g == k]
        ok = ~np.isnan(Xk)
        mu[k] = np.nanmean(Xk, axis=0)
        Z = np.where(ok, Xk - mu[k], 0.0)
        cnt = ok.T.astype(float) @ ok
        S[k] = Z.T @ Z / np.maximum(cnt, 1)
    return mu, S


def nearest_pd(S: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    w, V = np.linalg.eigh((S + S.T) / 2)
    return (V * np.maximum(w, floor * max(w.max(), 1e-12))) @ V.T


# ---------------------------------------------------------------------------------------------------------
# the measurement model: which entries are free, which are shared across groups
# ---------------------------------------------------------------------------------------------------------
LEVELS = ("configural", "metric", "scalar", "strict")
EQUAL = {"configural": (), "metric": ("loadings",), "scalar": ("loadings", "intercepts"),
         "strict": ("loadings", "intercepts", "residuals")}


@dataclass(frozen=True)
class Spec:
    """Free-parameter indices (−1 = fixed) and fixed values of Λ, Φ, Θ (diagonal), ν and α per group."""

    lam: np.ndarray  # G × p × m
    phi: np.ndarray  # G × m × m (symmetric: the same index on both sides)
    theta: np.ndarray  # G × p
    nu: np.ndarray  # G × p
    alpha: np.ndarray  # G × m
    lam_fixed: np.ndarray
    n_free: int


def measurement_spec(pattern: np.ndarray, n_groups: int, equal: Sequence[str] = ()) -> Spec:
    """lavaan's CFA parameterisation for ``pattern`` (p × m, bool): the first item of each factor loads 1,
    factor (co)variances, residual variances and intercepts free; latent means 0, except in groups after the
    first when intercepts are held equal (then they are free, as lavaan does)."""
    p, m = pattern.shape
    G = n_groups
    counter = iter(range(10 ** 9))
    lam = -np.ones((G, p, m), int)
    lam_fixed = np.zeros((G, p, m))
    markers = [int(np.flatnonzero(pattern[:, j])[0]) for j in range(m)]
    shared: dict = {}

    def idx(kind, key, g):
        if kind in equal:
            if (kind, key) not in shared:
                shared[(kind, key)] = next(counter)
            return shared[(kind, key)]
        return next(counter)

    phi = -np.ones((G, m, m), int)
    theta = -np.ones((G, p), int)
    nu = -np.ones((G, p), int)
    alpha = -np.ones((G, m), int)
    for g in range(G):
        for j in range(m):
            for i in np.flatnonzero(pattern[:, j]):
                if i == markers[j]:
                    lam_fixed[g, i, j] = 1.0
                else:
                    lam[g, i, j] = idx("loadings", (i, j), g)
        for a in range(m):
            for b in range(a + 1):
                phi[g, a, b] = phi[g, b, a] = next(counter)
        for i in range(p):
            theta[g, i] = idx("residuals", i, g)
        for i in range(p):
            nu[g, i] = idx("intercepts", i, g)
        if "intercepts" in equal and g > 0:
            alpha[g] = [next(counter) for _ in range(m)]
    return Spec(lam, phi, theta, nu, alpha, lam_fixed, next(counter))


def implied(spec: Spec, x: np.ndarray):
    """Λ, Φ, Θ, ν, α and the implied Σ, μ of every group for the parameter vector x."""
    def fill(idx, fixed):
        out = fixed.copy()
        free = idx >= 0
        out[free] = x[idx[free]]
        return out

    Lam = fill(spec.lam, spec.lam_fixed)
    Phi = fill(spec.phi, np.zeros(spec.phi.shape))
    Th = fill(spec.theta, np.zeros(spec.theta.shape))
    nu = fill(spec.nu, np.zeros(spec.nu.shape))
    al = fill(spec.alpha, np.zeros(spec.alpha.shape))
    LP = Lam @ Phi
    Sigma = LP @ np.swapaxes(Lam, 1, 2) + Th[:, :, None] * np.eye(Th.shape[1])
    mu = nu + np.einsum("gpm,gm->gp", Lam, al)
    return Lam, Phi, Th, nu, al, Sigma, mu


def spec_gradient(spec: Spec, x: np.ndarray, dS: np.ndarray, dmu: np.ndarray) -> np.ndarray:
    Lam, Phi, _, _, al, _, _ = implied(spec, x)
    g = np.zeros(len(x))
    dLam = 2 * dS @ Lam @ Phi + dmu[:, :, None] * al[:, None, :]
    dPhi = np.swapaxes(Lam, 1, 2) @ dS @ Lam
    dTh = np.diagonal(dS, axis1=1, axis2=2)
    dal = np.einsum("gpm,gp->gm", Lam, dmu)
    for idx, d in ((spec.lam, dLam), (spec.phi, dPhi), (spec.theta, dTh), (spec.nu, dmu), (spec.alpha, dal)):
        free = idx >= 0
        np.add.at(g, idx[free], d[free])
    return g


@dataclass(frozen=True)
class MGFit:
    spec: Spec
    x: np.ndarray
    minus2ll: float
    Lambda: np.ndarray
    Phi: np.ndarray
    theta: np.ndarray
    nu: np.ndarray
    alpha: np.ndarray
    Sigma: np.ndarray
    mu: np.ndarray
    converged: bool
    message: str


def starting_values(spec: Spec, blocks: Blocks, pattern: np.ndarray) -> np.ndarray:
    """Per group, marker-scaled loadings from each factor's first principal component of the available-case
    covariances, factor (co)variances and residual variances to match them; shared parameters take the mean
    over groups."""
    mu0, S0 = available_moments(blocks)
    p, m = pattern.shape
    sums = np.zeros(spec.n_free)
    counts = np.zeros(spec.n_free)
    for g in range(blocks.n_groups):
        S = nearest_pd(S0[g])
        Lm, Ph = np.zeros((p, m)), np.eye(m)
        for j in range(m):
            idx = np.flatnonzero(pattern[:, j])
            w, V = np.linalg.eigh(S[np.ix_(idx, idx)])
            v = V[:, -1] * np.sign(V[0, -1] if V[0, -1] != 0 else 1.0)
            v[0] = v[0] if abs(v[0]) > 1e-3 else 1e-3
            Lm[idx, j] = v / v[0]
            Ph[j, j] = 0.8 * v[0] ** 2 * w[-1]
        for a in range(m):
            for b in range(a):
                ia, ib = np.flatnonzero(pattern[:, a]), np.flatnonzero(pattern[:, b])
                den = Lm[ia, a].sum() * Lm[ib, b].sum()
                r = S[np.ix_(ia, ib)].sum() / den if den != 0 else 0.0
                lim = 0.9 * np.sqrt(Ph[a, a] * Ph[b, b])
                Ph[a, b] = Ph[b, a] = float(np.clip(r, -lim, lim))
        if m > 1 and np.linalg.eigvalsh(Ph)[0] <= 0:
            Ph = _factor_covariances(S, Lm, Ph, pattern)
        th = np.maximum(np.diag(S) - np.diag(Lm @ Ph @ Lm.T), 0.1 * np.diag(S))
        for idx, val in ((spec.lam[g], Lm), (spec.phi[g], Ph), (spec.theta[g], th),
                         (spec.nu[g], mu0[g]), (spec.alpha[g], np.zeros(m))):
            free = idx >= 0
            np.add.at(sums, idx[free], val[free])
            np.add.at(counts, idx[free], 1)
    return sums / np.maximum(counts, 1)


def _factor_covariances(S: np.ndarray, Lm: np.ndarray, Ph: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """Starting factor covariances that form a positive-definite matrix, for when those from summed loadings
    do not (loadings of both signs, as with reverse-keyed items, can nearly cancel in a sum): each pair by least
    squares, Λ_a'S_abΛ_b / (Λ_a'Λ_a · Λ_b'Λ_b), as correlations shrunk towards none until positive definite."""
    m = len(Ph)
    d = np.sqrt(np.diag(Ph))
    R = np.eye(m)
    for a in range(m):
        for b in range(a):
            ia, ib = np.flatnonzero(pattern[:, a]), np.flatnonzero(pattern[:, b])
            la, lb = Lm[ia, a], Lm[ib, b]
            cov = la @ S[np.ix_(ia, ib)] @ lb / ((la @ la) * (lb @ lb))
            R[a, b] = R[b, a] = float(np.clip(cov / (d[a] * d[b]), -0.9, 0.9))
    for shrink in np.linspace(1.0, 0.0, 11):
        Rs = np.eye(m) + shrink * (R - np.eye(m))
        if np.linalg.eigvalsh(Rs)[0] > 0.05:
            break
    return Rs * np.outer(d, d)


def minimize(f, x0: np.ndarray) -> optimize.OptimizeResult:
    """L-BFGS with the analytic gradient. A point where a covariance matrix is not positive definite has no
    likelihood: there the objective is the best value seen so far plus a steep bowl around the point it came
    from, so the line search steps back instead of stopping. Where L-BFGS still stops short of a stationary
    point, BFGS continues from there."""
    best = {"x": np.asarray(x0, float), "f": None}

    def guarded(x):
        val, grad = f(x)
        if np.isfinite(val):
            if best["f"] is None or val < best["f"]:
                best["x"], best["f"] = x.copy(), val
            return val, grad
        d = x - best["x"]
        base = best["f"] if best["f"] is not None else 1e6
        return base + 1e3 * (1.0 + d @ d), 2e3 * d

    with np.errstate(invalid="ignore", over="ignore"):
        res = optimize.minimize(guarded, x0, jac=True, method="L-BFGS-B",
                                options={"maxiter": 3_000, "maxfun": 6_000, "ftol": 1e-15, "gtol": 1e-10,
                                         "maxcor": 30})
        feasible = np.isfinite(f(res.x)[0])
        if feasible and np.all(np.isfinite(res.jac)) and np.max(np.abs(res.jac)) < 1e-6:
            return res
        return optimize.minimize(f, res.x if feasible else x0, jac=True, method="BFGS",
                                 options={"gtol": 1e-9, "maxiter": 1_000})


def fit_spec(spec: Spec, blocks: Blocks, x0: np.ndarray) -> MGFit:
    """Maximise the likelihood over the free parameters of ``spec`` (see :func:`minimize`)."""
    N = blocks.n_total

    def f(x):
        _, _, _, _, _, Sigma, mu = implied(spec, x)
        val, dS, dmu = minus2ll(blocks, Sigma, mu)
        if not np.isfinite(val):
            return np.inf, np.zeros_like(x)
        return val / N, spec_gradient(spec, x, dS, dmu) / N

    res = minimize(f, x0)
    Lam, Phi, Th, nu, al, Sigma, mu = implied(spec, res.x)
    converged = bool(res.success) or float(np.max(np.abs(res.jac))) < 1e-6
    return MGFit(spec, res.x, float(res.fun * N), Lam, Phi, Th, nu, al, Sigma, mu, converged, str(res.message))


# ---------------------------------------------------------------------------------------------------------
# fit measures
# ---------------------------------------------------------------------------------------------------------
def srmr_groups(S: np.ndarray, m: np.ndarray, Sigma: np.ndarray, mu: np.ndarray, n: np.ndarray,
                means: bool = True) -> float:
    """Bentler's SRMR per group (residual correlations on the observed standard deviations, and standardised
    mean residuals when ``means``), averaged with weights N_g/N, as lavaan."""
    out = 0.0
    p = S.shape[1]
    tril = np.tril_indices(p)
    for g in range(len(n)):
        d = np.sqrt(np.diag(S[g]))
        r = ((S[g] - Sigma[g]) / np.outer(d, d))[tril]
        rm = (m[g] - mu[g]) / d if means else np.zeros(0)
        out += n[g] / n.sum() * np.sqrt((np.sum(r ** 2) + np.sum(rm ** 2)) / (len(r) + len(rm)))
    return float(out)


def rmsea_ci(chisq: float, df: int, n: int, confidence: float = 0.90) -> tuple[float, float]:
    """Confidence interval of the RMSEA by inverting the non-central χ² distribution (as lavaan does)."""
    if df <= 0:
        return (np.nan, np.nan)
    lo_p, hi_p = (1 + confidence) / 2, (1 - confidence) / 2

    if not (np.isfinite(chisq) and n > 0):  # no likelihood ratio, no interval (and no endless search for one)
        return (np.nan, np.nan)

    def ncp_for(prob):
        f = lambda lam: stats.ncx2.cdf(chisq, df, lam) - prob if lam > 0 else stats.chi2.cdf(chisq, df) - prob
        if f(0) < 0:
            return 0.0
        hi = max(chisq, 1.0)
        for _ in range(64):  # the cdf falls below any prob long before 2⁶⁴·χ²
            if f(hi) <= 0:
                try:
                    return optimize.brentq(f, 0, hi, xtol=1e-12)
                except ValueError:  # the non-central χ² cannot be evaluated this far out
                    return np.nan
            hi *= 2
        return np.nan

    lam_lo, lam_hi = ncp_for(lo_p), ncp_for(hi_p)
    return float(np.sqrt(lam_lo / (n * df))), float(np.sqrt(lam_hi / (n * df)))


def fit_measures(chisq: float, df: int, base_chisq: float, base_df: int, n: int, n_groups: int) -> dict:
    """CFI, TLI and RMSEA (with its 90 % interval) as lavaan computes them for ML with G groups (all missing
    when a χ² is not finite)."""
    if not (np.isfinite(chisq) and np.isfinite(base_chisq)):
        return {"chisq": chisq, "df": df, "p_value": np.nan, "cfi": np.nan, "tli": np.nan, "rmsea": np.nan,
                "rmsea_ci_low": np.nan, "rmsea_ci_high": np.nan, "baseline_chisq": base_chisq, "baseline_df": base_df}
    cfi_den = max(base_chisq - base_df, chisq - df, 0.0)
    cfi = 1.0 - max(chisq - df, 0.0) / cfi_den if cfi_den > 0 else 1.0
    tli = ((base_chisq / base_df) - (chisq / df)) / ((base_chisq / base_df) - 1.0) if df > 0 else np.nan
    rmsea = float(np.sqrt(max(chisq / n / df - 1.0 / n, 0.0)) * np.sqrt(n_groups)) if df > 0 else np.nan
    lo, hi = rmsea_ci(chisq, df, n)
    return {"chisq": chisq, "df": df, "p_value": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
            "cfi": cfi, "tli": tli, "rmsea": rmsea, "rmsea_ci_low": lo * np.sqrt(n_groups),
            "rmsea_ci_high": hi * np.sqrt(n_groups), "baseline_chisq": base_chisq, "baseline_df": base_df}


@dataclass(frozen=True)
class ModelFit:
    """A fitted measurement model with its fit measures and the unrestricted model's moments."""

    fit: MGFit
    measures: dict
    blocks: Blocks
    S: np.ndarray  # G × p × p unrestricted (FI)ML covariances
    means: np.ndarray  # G × p


def fit_model(X: np.ndarray, pattern: np.ndarray, group: np.ndarray | None = None,
              equal: Sequence[str] = ()) -> ModelFit:
    """Fit the measurement model to rows X (NaN = not answered) with groups, by (FI)ML: the fit, its fit
    measures (χ², df, CFI, TLI, RMSEA, SRMR, log-likelihoods, AIC, BIC) and the unrestricted moments."""
    blocks = make_blocks(X, group)
    G, p = blocks.n_groups, blocks.p
    spec = measurement_spec(pattern, G, equal)
    fit = fit_spec(spec, blocks, starting_values(spec, blocks, pattern))
    if not np.isfinite(fit.minus2ll):
        raise SQMDataError("data", [Problem(
            "no_fit", "the factor model has no likelihood at any point tried (its covariance matrix is never "
            "positive definite there): look for items that copy each other or that very few respondents answered")])
    m2_sat, S_sat, mu_sat = saturated(blocks)
    m2_base = independence(blocks)
    chisq = max(fit.minus2ll - m2_sat, 0.0)
    df = G * (p * (p + 1) // 2 + p) - spec.n_free
    base_df = G * (p * (p + 1) // 2 + p) - 2 * p * G
    out = fit_measures(chisq, df, m2_base - m2_sat, base_df, blocks.n_total, G)
    out["srmr"] = srmr_groups(S_sat, mu_sat, fit.Sigma, fit.mu, blocks.n)
    out["srmr_nomean"] = srmr_groups(S_sat, mu_sat, fit.Sigma, fit.mu, blocks.n, means=False)
    out["loglik"] = -fit.minus2ll / 2
    out["unrestricted_loglik"] = -m2_sat / 2
    out["n_parameters"] = spec.n_free
    out["aic"] = fit.minus2ll + 2 * spec.n_free
    out["bic"] = fit.minus2ll + np.log(blocks.n_total) * spec.n_free
    out["n"] = blocks.n_total
    return ModelFit(fit, out, blocks, S_sat, mu_sat)


def group_chisq(fit: MGFit, blocks: Blocks, S_sat: np.ndarray, mu_sat: np.ndarray) -> np.ndarray:
    """Each group's share of χ² (complete data): N_g·F_ML,g."""
    out = np.zeros(blocks.n_groups)
    for g in range(blocks.n_groups):
        Sg, Sig = S_sat[g], fit.Sigma[g]
        d = mu_sat[g] - fit.mu[g]
        cf = linalg.cho_factor(Sig)
        inv = linalg.cho_solve(cf, np.eye(len(Sig)))
        F = (2 * np.log(np.diag(cf[0])).sum() + np.trace(Sg @ inv) + d @ inv @ d - np.linalg.slogdet(Sg)[1]
             - len(Sig))
        out[g] = blocks.n[g] * F
    return out


def pattern_from_model(model: Mapping[str, Sequence[str]], items: Sequence[str]) -> np.ndarray:
    pattern = np.zeros((len(items), len(model)), bool)
    for j, fct in enumerate(model):
        for i in model[fct]:
            pattern[list(items).index(str(i)), j] = True
    return pattern
