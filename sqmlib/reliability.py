"""Reliability and validity of survey scales.

Everything here works from one covariance (or correlation) matrix: Cronbach's α with all item statistics in
closed form, Guttman's λ6, ω from a one-factor (and bifactor) ML model, KMO and Bartlett's test, exploratory
factor analysis with parallel analysis, and a maximum-likelihood confirmatory factor analysis with the fit
measures lavaan reports by default (χ², CFI, TLI, RMSEA with its 90 % interval, SRMR) plus composite
reliability, AVE, the Fornell–Larcker table and HTMT.

Definitions follow R's psych (``alpha``, ``KMO``, ``cortest.bartlett``) and lavaan (ML estimation with the
sample covariance divided by N, χ² = N·F_ML); the tests check them against pingouin, closed forms and the
published lavaan results for the Holzinger–Swineford (1939) model.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

from .errors import Problem, SQMDataError

THRESHOLDS = {"alpha": 0.70, "omega": 0.70, "cr": 0.70, "ave": 0.50, "htmt": 0.85, "cfi": 0.95, "tli": 0.95,
              "rmsea": 0.06, "srmr": 0.08}


# ---------------------------------------------------------------------------------------------------------
# input handling and covariance matrices
# ---------------------------------------------------------------------------------------------------------
def _check_items(items: pd.DataFrame, reverse: Sequence[str] = (), scale: tuple[float, float] | None = None,
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
    idx = _reverse_index(names, reverse, scale, problems)
    if idx:
        X = X.copy()
        X[:, idx] = scale[0] + scale[1] - X[:, idx]
    if X.shape[1] and X.shape[0]:
        _no_answers(names, (~np.isnan(X)).sum(axis=0), problems)
    if problems:
        raise SQMDataError(what, problems)
    return X, names


def _reverse_index(names: Sequence[str], reverse: Sequence[str], scale, problems: list) -> list[int]:
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


def _no_answers(names: Sequence[str], answered, problems: list) -> None:
    empty = [n for n, k in zip(names, answered) if k == 0]
    if empty:
        problems.append(Problem("all_missing", f"items with no answers at all: {empty}"))


def _check_variances(C: np.ndarray, names: Sequence[str], what: str = "items") -> None:
    const = [n for n, v in zip(names, np.diag(C)) if not v > 0]
    if const:
        raise SQMDataError(what, [Problem("constant_item", f"items with the same answer from everyone (no "
                                                           f"variance): {const}; drop them")])


def _complete_cov(X: np.ndarray) -> np.ndarray:
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
        return _complete_cov(X), np.full((X.shape[1], X.shape[1]), X.shape[0], dtype=float)
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
        raise ValueError("missing must be 'pairwise' or 'listwise'")
    nan = np.isnan(X)
    if not nan.any():
        if X.shape[0] < 2:
            raise SQMDataError("items", [Problem("too_few_rows", f"only {X.shape[0]} respondents")])
        return _complete_cov(X), X.shape[0], None
    if missing == "listwise":
        rows = ~nan.any(axis=1)
        n = int(rows.sum())
        if n < 2:
            raise SQMDataError("items", [Problem("too_few_rows", f"only {n} complete respondents")])
        return _complete_cov(X[rows]), n, rows
    C, N = pairwise_cov(X)
    if np.any(N < 2):
        i, j = np.argwhere(N < 2)[0]
        raise SQMDataError("items", [Problem("too_few_pairs", f"items {i} and {j} are answered together by "
                                                              f"fewer than two respondents")])
    rows = (X.shape[1] - nan.sum(axis=1)) >= 2  # rows that contribute to at least one covariance
    return C, int(rows.sum()), rows


def _cov2cor(C: np.ndarray) -> np.ndarray:
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
                      stacklevel=3)
        inv = np.linalg.pinv(R)
    return 1.0 - 1.0 / np.diag(inv)


# ---------------------------------------------------------------------------------------------------------
# Cronbach's alpha
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlphaResult:
    """Cronbach's α and its companions (psych's ``alpha``).

    Attributes
    ----------
    alpha : float
        Raw α from covariances.
    std_alpha : float
        Standardised α from correlations.
    g6 : float
        Guttman's λ6 from squared multiple correlations (psych's ``G6(smc)``).
    average_r : float
        Mean inter-item correlation.
    n : int
        Respondents used (listwise: complete cases; pairwise: those with at least two answers).
    k : int
        Number of items.
    ci : tuple of float
        Confidence interval of α (Feldt, or bootstrap percentile when ``n_boot > 0``).
    ci_level : float
    ci_method : str
    item_stats : DataFrame
        Per item: ``mean``, ``sd``, ``r_drop`` (corrected item–total correlation), ``alpha_if_deleted``.
    missing : str
    """

    alpha: float
    std_alpha: float
    g6: float
    average_r: float
    n: int
    k: int
    ci: tuple[float, float]
    ci_level: float
    ci_method: str
    item_stats: pd.DataFrame
    missing: str

    def summary(self) -> pd.DataFrame:
        lo, hi = self.ci
        return pd.DataFrame([{"alpha": self.alpha, "ci_low": lo, "ci_high": hi, "std_alpha": self.std_alpha,
                              "g6": self.g6, "average_r": self.average_r, "n": self.n, "k": self.k,
                              "ci_method": self.ci_method, "missing": self.missing}])

    def weak_items(self) -> pd.DataFrame:
        """Items whose removal would raise α, or whose corrected item–total correlation is below .30."""
        s = self.item_stats
        return s[(s["alpha_if_deleted"] > self.alpha) | (s["r_drop"] < 0.30)]

    def _repr_html_(self) -> str:
        lo, hi = self.ci
        head = (f"<p><b>Cronbach's α = {self.alpha:.3f}</b> [{lo:.3f}, {hi:.3f}] ({self.ci_method}, "
                f"{self.ci_level:.0%}); standardised {self.std_alpha:.3f}; λ6 {self.g6:.3f}; "
                f"mean r {self.average_r:.3f}; n = {self.n:,}, k = {self.k}</p>")
        return head + self.item_stats.to_html(float_format=lambda v: f"{v:.3f}")


def _alpha_from_cov(C: np.ndarray) -> float:
    k = C.shape[0]
    return k / (k - 1) * (1.0 - np.trace(C) / C.sum())


def alpha_stats(C: np.ndarray) -> dict:
    """α, standardised α, λ6, mean r, and per-item r_drop and α-if-deleted from one covariance matrix.

    α if item i is deleted uses ``sum(C) − 2·rowsum_i + c_ii`` and ``trace(C) − c_ii``; the corrected
    item–total correlation is ``(rowsum_i − c_ii) / sqrt(c_ii · var(total − x_i))``: no refitting per item.
    """
    k = C.shape[0]
    total = C.sum()
    rows = C.sum(axis=1)
    diag = np.diag(C)
    tr = diag.sum()
    alpha = k / (k - 1) * (1.0 - tr / total)
    rest_var = total - 2 * rows + diag
    with np.errstate(invalid="ignore", divide="ignore"):
        r_drop = (rows - diag) / np.sqrt(diag * rest_var)
        a_drop = (k - 1) / (k - 2) * (1.0 - (tr - diag) / rest_var) if k > 2 else np.full(k, np.nan)
    R = _cov2cor(C)
    sum_r = R.sum()
    return {
        "alpha": float(alpha),
        "std_alpha": float(k / (k - 1) * (1.0 - k / sum_r)),
        "g6": float(1.0 - (k - smc(R).sum()) / sum_r),
        "average_r": float((sum_r - k) / (k * (k - 1))),
        "r_drop": r_drop,
        "alpha_if_deleted": a_drop,
    }


def feldt_ci(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    """Feldt's (1965) F-based confidence interval of α, with ``n − 1`` and ``(n − 1)(k − 1)`` degrees of freedom."""
    df1, df2 = n - 1, (n - 1) * (k - 1)
    g = 1 - level
    return (float(1 - (1 - alpha) * stats.f.isf(g / 2, df1, df2)),
            float(1 - (1 - alpha) * stats.f.isf(1 - g / 2, df1, df2)))


def cronbach_alpha(items: pd.DataFrame, *, reverse: Sequence[str] = (), scale: tuple[float, float] | None = None,
                   missing: str = "pairwise", ci: float = 0.95, n_boot: int = 0, seed: int = 0) -> AlphaResult:
    """Cronbach's α with item statistics, from one covariance matrix.

    Parameters
    ----------
    items : DataFrame or CovMoments
        Respondents × items, or their moments (``moments[columns]``, see :mod:`sqmlib.moments`; Feldt's
        interval only).
    reverse : sequence of str
        Reverse-keyed items, reflected as ``(min + max) − x``; needs ``scale``.
    scale : (min, max), optional
        The rating scale.
    missing : {"pairwise", "listwise"}
        ``"pairwise"`` (as psych and pingouin) takes each covariance from the respondents who answered both
        items; ``"listwise"`` keeps complete cases only.
    ci : float
        Confidence level of the interval.
    n_boot : int
        Bootstrap resamples; 0 gives Feldt's interval, more gives a percentile bootstrap interval.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    AlphaResult

    Raises
    ------
    SQMDataError
        Fewer than two items, an item nobody answered, an item with no variance.
    """
    from .moments import is_moments

    if is_moments(items):
        return _alpha_from_moments(items, reverse, scale, missing, ci, n_boot)
    X, names = _check_items(items, reverse, scale)
    C, n, rows = covariance(X, missing)
    _check_variances(C, names)
    if X.shape[1] > n:
        warnings.warn(f"more items ({X.shape[1]}) than respondents ({n}): α is unstable and λ6 unreliable",
                      stacklevel=2)
    st = alpha_stats(C)
    Xu = X if rows is None else X[rows]
    # pairwise: each item's mean and sd over all its answers (the covariance diagonal is that variance)
    means = np.nanmean(X, axis=0) if missing == "pairwise" or rows is None else Xu.mean(axis=0)
    item_stats = pd.DataFrame({"mean": means, "sd": np.sqrt(np.diag(C)),
                               "r_drop": st["r_drop"], "alpha_if_deleted": st["alpha_if_deleted"]},
                              index=pd.Index(names, name="item"))
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        boots = np.empty(n_boot)
        for b in range(n_boot):
            Xb = Xu[rng.integers(0, len(Xu), len(Xu))]
            Cb, _, _ = covariance(Xb, missing) if missing == "listwise" else (pairwise_cov(Xb)[0], 0, None)
            boots[b] = _alpha_from_cov(Cb)
        g = 1 - ci
        interval = tuple(float(v) for v in np.nanquantile(boots, [g / 2, 1 - g / 2]))
        method = f"bootstrap ({n_boot})"
    else:
        interval = feldt_ci(st["alpha"], n, X.shape[1], ci)
        method = "Feldt"
    return AlphaResult(st["alpha"], st["std_alpha"], st["g6"], st["average_r"], n, X.shape[1], interval, ci,
                       method, item_stats, missing)


def _alpha_from_moments(m, reverse: Sequence[str], scale, missing: str, ci: float, n_boot: int) -> AlphaResult:
    """α from moments (:class:`sqmlib.moments.CovMoments`): the same numbers as from the rows."""
    from .moments import Moments

    if isinstance(m, Moments):
        raise SQMDataError("moments", [Problem("bad_argument", "choose the items: cronbach_alpha(m[columns])")])
    names = list(m.columns)
    problems = []
    if len(names) < 2:
        problems.append(Problem("too_few_items", f"at least two items are needed, got {len(names)}"))
    if n_boot > 0:
        problems.append(Problem("bad_argument", "a bootstrap needs the rows; moments give Feldt's interval "
                                                "(n_boot=0)"))
    if m.missing != missing and not m.complete:
        problems.append(Problem("bad_argument", f"the moments were taken with {m.missing} deletion, {missing} "
                                                "was asked for"))
    _no_answers(names, np.diag(m.N), problems)
    idx = _reverse_index(names, reverse, scale, problems)
    if idx:
        m = m.reflect(idx, *scale)
    if problems:
        raise SQMDataError("items", problems)
    if np.any(m.N < 2):
        raise SQMDataError("items", [Problem("too_few_pairs", "some items are answered together by fewer than two "
                                                              "respondents")])
    C = m.cov()
    _check_variances(C, names)
    n = m.n
    if not m.n_exact:
        warnings.warn("these items are a part of a moments set with missing answers: " + (
            "the complete cases are those of the whole set" if m.missing == "listwise" else
            "n (for the interval) is the largest item count, not the respondents answering two or more"),
            stacklevel=3)
    if len(names) > n:
        warnings.warn(f"more items ({len(names)}) than respondents ({n}): α is unstable and λ6 unreliable",
                      stacklevel=3)
    st = alpha_stats(C)
    item_stats = pd.DataFrame({"mean": m.means, "sd": np.sqrt(np.diag(C)), "r_drop": st["r_drop"],
                               "alpha_if_deleted": st["alpha_if_deleted"]}, index=pd.Index(names, name="item"))
    interval = feldt_ci(st["alpha"], n, len(names), ci)
    return AlphaResult(st["alpha"], st["std_alpha"], st["g6"], st["average_r"], n, len(names), interval, ci,
                       "Feldt", item_stats, m.missing if not m.complete else missing)


# ---------------------------------------------------------------------------------------------------------
# KMO and Bartlett
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KMOResult:
    overall: float
    per_item: pd.Series

    def summary(self) -> pd.DataFrame:
        return pd.concat([self.per_item, pd.Series({"overall": self.overall})]).rename("kmo").to_frame()


def _items_corr(items) -> tuple[np.ndarray, list[str], int]:
    X, names = _check_items(items)
    C, n, _ = covariance(X, "pairwise")
    _check_variances(C, names)
    return _cov2cor(C), names, n


def kmo(items: pd.DataFrame) -> KMOResult:
    """Kaiser–Meyer–Olkin measure of sampling adequacy (psych's ``KMO``): overall and per item.

    With R the correlation matrix and Q the partial correlations (from R⁻¹),
    ``KMO = Σ r² / (Σ r² + Σ q²)`` over off-diagonal cells (per item: over its row).
    """
    R, names, _ = _items_corr(items)
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
    R, names, n = _items_corr(items)
    p = len(names)
    sign, logdet = np.linalg.slogdet(R)
    chi2 = -(n - 1 - (2 * p + 5) / 6) * logdet
    df = p * (p - 1) // 2
    return BartlettResult(float(chi2), df, float(stats.chi2.sf(chi2, df)), n)


# ---------------------------------------------------------------------------------------------------------
# maximum-likelihood factor models (one-factor, bifactor, CFA)
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _MLFit:
    Lambda: np.ndarray  # p × m, factor variances fixed at 1
    Phi: np.ndarray  # m × m correlations
    theta: np.ndarray  # p residual variances
    Sigma: np.ndarray
    fmin: float  # F_ML at the optimum
    n_free: int
    converged: bool
    message: str


def _ml_fit(S: np.ndarray, pattern: np.ndarray, orthogonal: bool = False) -> _MLFit:
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
                      "badly or an item is almost redundant", stacklevel=3)
    Sigma = L @ Phi @ L.T + np.diag(th)
    # L-BFGS-B may stop on its line search at the optimum itself: judge convergence by the gradient
    converged = bool(res.success) or float(np.max(np.abs(res.jac))) < 1e-6
    return _MLFit(L, Phi, th, Sigma, float(res.fun), n_l + n_t + len(tri), converged, str(res.message))


def _ml_cov(X: np.ndarray) -> tuple[np.ndarray, int]:
    """ML covariance (divisor N) of the complete cases, as lavaan uses by default."""
    rows = ~np.isnan(X).any(axis=1)
    Xc = X[rows]
    n = len(Xc)
    if n < 3:
        raise SQMDataError("items", [Problem("too_few_rows", f"only {n} complete respondents")])
    return _complete_cov(Xc) * (n - 1) / n, n


def _omega_from_fit(fit: _MLFit) -> float:
    s = fit.Lambda[:, 0].sum()
    return float(s ** 2 / (s ** 2 + fit.theta.sum()))


@dataclass(frozen=True)
class OmegaResult:
    """McDonald's ω.

    Attributes
    ----------
    omega_total : float
        ``(Σλ)² / ((Σλ)² + Σθ)`` from a one-factor ML model.
    loadings : Series
        One-factor loadings (raw units) of the items.
    omega_hierarchical : float or None
        With ``groups``: ``(Σλ_general)² / 1'Σ1`` from a bifactor model (general factor plus orthogonal
        group factors).
    omega_total_bifactor : float or None
        With ``groups``: the share of total variance due to all common factors of the bifactor model.
    omega_groups : Series or None
        With ``groups``: one-factor ω of each group's items.
    n : int
    """

    omega_total: float
    loadings: pd.Series
    n: int
    omega_hierarchical: float | None = None
    omega_total_bifactor: float | None = None
    omega_groups: pd.Series | None = None

    def summary(self) -> pd.DataFrame:
        row = {"omega_total": self.omega_total, "omega_hierarchical": self.omega_hierarchical,
               "omega_total_bifactor": self.omega_total_bifactor, "n": self.n}
        out = pd.DataFrame([row])
        if self.omega_groups is not None:
            for g, v in self.omega_groups.items():
                out[f"omega_{g}"] = v
        return out

    def _repr_html_(self) -> str:
        return "<p><b>McDonald's ω</b></p>" + self.summary().to_html(float_format=lambda v: f"{v:.3f}")


def omega(items: pd.DataFrame, *, reverse: Sequence[str] = (), scale: tuple[float, float] | None = None,
          groups: Mapping[str, Sequence[str]] | None = None) -> OmegaResult:
    """McDonald's ω from ML factor models on the complete cases.

    ``omega_total`` comes from a one-factor model: ``(Σλ)² / ((Σλ)² + Σθ)`` in raw units. With ``groups``
    (dimension → items) a bifactor model (a general factor on every item plus one orthogonal factor per group)
    gives ``omega_hierarchical`` = (Σλ_general)² / 1'Σ̂1, and each group gets its own one-factor ω.
    """
    X, names = _check_items(items, reverse, scale)
    S, n = _ml_cov(X)
    _check_variances(S, names)
    p = len(names)
    one = _ml_fit(S, np.ones((p, 1), bool))
    result = dict(omega_total=_omega_from_fit(one), loadings=pd.Series(one.Lambda[:, 0], index=names), n=n)
    if groups:
        gnames = list(groups)
        pattern = np.zeros((p, 1 + len(gnames)), bool)
        pattern[:, 0] = True
        problems = []
        for j, g in enumerate(gnames, start=1):
            members = [str(i) for i in groups[g]]
            unknown = [i for i in members if i not in names]
            if unknown:
                problems.append(Problem("unknown_item", f"group {g!r} names items not given: {unknown}"))
            if len(members) < 2:
                problems.append(Problem("too_few_items", f"group {g!r} needs at least two items"))
            for i in members:
                if i in names:
                    pattern[names.index(i), j] = True
        if problems:
            raise SQMDataError("groups", problems)
        bi = _ml_fit(S, pattern, orthogonal=True)
        total = bi.Sigma.sum()
        common = (bi.Lambda.sum(axis=0) ** 2).sum()
        per_group = {}
        for g in gnames:
            idx = [names.index(str(i)) for i in groups[g]]
            per_group[g] = _omega_from_fit(_ml_fit(S[np.ix_(idx, idx)], np.ones((len(idx), 1), bool)))
        result.update(omega_hierarchical=float(bi.Lambda[:, 0].sum() ** 2 / total),
                      omega_total_bifactor=float(common / total),
                      omega_groups=pd.Series(per_group, name="omega"))
    return OmegaResult(**result)


# ---------------------------------------------------------------------------------------------------------
# confirmatory factor analysis
# ---------------------------------------------------------------------------------------------------------
def rmsea_ci(chisq: float, df: int, n: int, level: float = 0.90) -> tuple[float, float]:
    """Confidence interval of the RMSEA by inverting the non-central χ² distribution (as lavaan does)."""
    if df <= 0:
        return (np.nan, np.nan)
    lo_p, hi_p = (1 + level) / 2, (1 - level) / 2

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


def htmt(R: pd.DataFrame, model: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Heterotrait–monotrait ratio (Henseler, Ringle & Sarstedt 2015) from an item correlation matrix."""
    factors = list(model)
    out = pd.DataFrame(np.nan, index=factors, columns=factors)

    def mono(items):
        sub = R.loc[items, items].to_numpy()
        k = len(items)
        return (sub.sum() - np.trace(sub)) / (k * (k - 1)) if k > 1 else np.nan

    for a in factors:
        out.loc[a, a] = 1.0
        for b in factors:
            if a < b or a == b:
                continue
            hetero = R.loc[list(model[a]), list(model[b])].to_numpy().mean()
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
        raise ValueError("only estimator='ML' is available")
    if not model:
        raise ValueError("model must map each factor to its items")
    items = list(dict.fromkeys(str(i) for its in model.values() for i in its))
    if cov is not None:
        if n_obs is None:
            raise ValueError("n_obs is required with cov")
        S = cov.loc[items, items].to_numpy(dtype=float)
        n = int(n_obs)
        R_obs = pd.DataFrame(_cov2cor(S), index=items, columns=items)
    else:
        missing = [i for i in items if i not in data.columns]
        if missing:
            raise SQMDataError("data", [Problem("missing_column", f"model items not in the data: {missing}")])
        X, _ = _check_items(data[items], what="data")
        S, n = _ml_cov(X)
        _check_variances(S, items, what="data")
        R_obs = pd.DataFrame(_cov2cor(S), index=items, columns=items)
    p, factors = len(items), list(model)
    pattern = np.zeros((p, len(factors)), bool)
    for j, fct in enumerate(factors):
        for i in model[fct]:
            pattern[items.index(str(i)), j] = True
    fit = _ml_fit(S, pattern)
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
        others = phi.loc[fct].drop(fct).abs()
        max_r = float(others.max()) if len(others) else np.nan
        val.append({"factor": fct, "items": len(idx), "cr": cr, "ave": ave, "sqrt_ave": np.sqrt(ave),
                    "max_factor_corr": max_r, "fornell_larcker_ok": bool(np.sqrt(ave) > max_r) if len(others) else True})
    validity = pd.DataFrame(val).set_index("factor")
    validity.insert(validity.columns.get_loc("cr") + 1, "cr_ok", validity["cr"] >= THRESHOLDS["cr"])
    validity.insert(validity.columns.get_loc("ave") + 1, "ave_ok", validity["ave"] >= THRESHOLDS["ave"])
    fl = phi.copy()
    for fct in factors:
        fl.loc[fct, fct] = validity.loc[fct, "sqrt_ave"]
    if not fit.converged:
        warnings.warn(f"the CFA did not converge: {fit.message}", stacklevel=2)
    return CFAResult({k: tuple(str(i) for i in v) for k, v in model.items()}, loadings, phi, fit_s, validity, fl,
                     htmt(R_obs, model), fit.converged,
                     pd.DataFrame(fit.Sigma, index=items, columns=items))


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
    obs = np.sort(np.linalg.eigvalsh(R))[::-1]
    rng = np.random.default_rng(seed)
    W = stats.wishart.rvs(df=n - 1, scale=np.eye(p), size=n_iter, random_state=rng)
    W = W.reshape(n_iter, p, p)
    sims = np.empty((n_iter, p))
    for b in range(n_iter):
        sims[b] = np.sort(np.linalg.eigvalsh(_cov2cor(W[b])))[::-1]
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
    from statsmodels.multivariate.factor import Factor

    R, names, n = _items_corr(items)
    pa = parallel_analysis(R, n, n_iter=n_iter, seed=seed)
    suggested = max(1, int(pa["retain"].sum()))
    m = suggested if n_factors is None else int(n_factors)
    fa = Factor(corr=R, n_factor=m, method="ml", nobs=n).fit()
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


# ---------------------------------------------------------------------------------------------------------
# the reliability table of a SERVQUAL-type survey
# ---------------------------------------------------------------------------------------------------------
def difference_score_reliability(rel_p: float, rel_e: float, var_p: float, var_e: float, r_pe: float) -> float:
    """Reliability of a difference score D = P − E from the reliabilities and variances of its parts
    (Lord 1963): ``(σ²_P ρ_P + σ²_E ρ_E − 2 σ_P σ_E r_PE) / (σ²_P + σ²_E − 2 σ_P σ_E r_PE)``."""
    cov = r_pe * np.sqrt(var_p * var_e)
    return float((var_p * rel_p + var_e * rel_e - 2 * cov) / (var_p + var_e - 2 * cov))


def block_items(survey: pd.DataFrame, instrument, block: str, dimension: str | None = None) -> pd.DataFrame:
    """Item answers of one block (``"E"``, ``"P"``) or of the gap ``"gap"`` = P − E, named by item id."""
    from .instruments import load as load_instrument

    inst = load_instrument(instrument)
    ids = list(inst.dimensions[dimension]) if dimension else list(inst.items)
    if block == "gap":
        p = survey[inst.item_columns("P", dimension)].to_numpy(dtype=float)
        e = survey[inst.item_columns("E", dimension)].to_numpy(dtype=float)
        return pd.DataFrame(p - e, columns=ids, index=survey.index)
    cols = inst.item_columns(block, dimension)
    missing = [c for c in cols if c not in survey.columns]
    if missing:
        raise SQMDataError("survey", [Problem("missing_column", f"columns of block {block} are missing: {missing}")])
    return survey[cols].set_axis(ids, axis=1)


def omega_bootstrap_ci(items: pd.DataFrame, n_boot: int = 200, ci: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the one-factor ω (complete cases resampled)."""
    X, names = _check_items(items)
    Xc = X[~np.isnan(X).any(axis=1)]
    rng = np.random.default_rng(seed)
    p = Xc.shape[1]
    vals = np.empty(n_boot)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for b in range(n_boot):
            Xb = Xc[rng.integers(0, len(Xc), len(Xc))]
            S = _complete_cov(Xb) * (len(Xb) - 1) / len(Xb)
            vals[b] = _omega_from_fit(_ml_fit(S, np.ones((p, 1), bool)))
    g = 1 - ci
    lo, hi = np.quantile(vals, [g / 2, 1 - g / 2])
    return float(lo), float(hi)


def reliability_table(survey: pd.DataFrame, instrument, *, blocks: Sequence[str] | None = None,
                      ci: float = 0.95, missing: str = "pairwise", n_boot: int = 0, seed: int = 0) -> pd.DataFrame:
    """Per dimension and block: α with its Feldt interval, ω, and for the gap score also the reliability of
    the difference computed from its parts (Lord's formula), with flags on the usual thresholds.

    Parameters
    ----------
    survey : DataFrame
        As loaded by :func:`sqmlib.io.load_survey`.
    instrument : str or Instrument
    blocks : sequence, optional
        Default ``("E", "P", "gap")`` when the instrument has expectations, else ``("P",)``.

    Returns
    -------
    DataFrame with columns ``dimension``, ``block``, ``k``, ``n``, ``alpha``, ``alpha_ci_low``,
    ``alpha_ci_high`` (Feldt, or bootstrap with ``n_boot``), ``omega``, ``omega_ci_low``, ``omega_ci_high``
    (bootstrap; only with ``n_boot > 0``, else missing and said so in ``note``), ``difference_reliability``
    (gap rows), ``alpha_ok`` and ``omega_ok`` (≥ .70).
    """
    from .instruments import load as load_instrument
    from .moments import is_moments

    inst = load_instrument(instrument)
    if blocks is None:
        blocks = ("E", "P", "gap") if inst.has_expectations else ("P",)
    if is_moments(survey):
        if n_boot > 0:
            raise SQMDataError("moments", [Problem("bad_argument", "bootstrap intervals need the rows (n_boot=0)")])
        m = survey

        def scale_stats(b, d):
            a = cronbach_alpha(m.select(m.sets[f"{b}:{d}"].columns, missing), missing=missing, ci=ci)
            if a.k < 3:
                return a, np.nan, (np.nan, np.nan), ["ω needs at least three items"]
            if f"{b}:{d}:listwise" not in m.sets:
                return a, np.nan, (np.nan, np.nan), ["ω needs the listwise moments (survey_spec(omega=True))"]
            lw = m.select(m.sets[f"{b}:{d}:listwise"].columns, "listwise")
            if lw.n < 3:
                raise SQMDataError("items", [Problem("too_few_rows", f"only {lw.n} complete respondents")])
            S = lw.cov() * (lw.n - 1) / lw.n
            _check_variances(S, list(lw.columns))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a Heywood case in one dimension is noted, not fatal
                w = _omega_from_fit(_ml_fit(S, np.ones((a.k, 1), bool)))
            return a, w, (np.nan, np.nan), ["ω interval: set n_boot"]

        def parts(d):  # variances and correlation of the any-item P and E means
            C = m.select(m.sets[f"diffrel:{d}"].columns, "listwise").cov()
            return C[0, 0], C[1, 1], float(C[0, 1] / np.sqrt(C[0, 0] * C[1, 1]))
    else:
        def scale_stats(b, d):
            x = block_items(survey, inst, b, d)
            a = cronbach_alpha(x, missing=missing, ci=ci, n_boot=n_boot, seed=seed)
            if x.shape[1] < 3:
                return a, np.nan, (np.nan, np.nan), ["ω needs at least three items"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a Heywood case in one dimension is noted, not fatal
                w = omega(x).omega_total
            if n_boot > 0:
                return a, w, omega_bootstrap_ci(x, n_boot, ci, seed), []
            return a, w, (np.nan, np.nan), ["ω interval: set n_boot"]

        def parts(d):
            sp, se = (block_items(survey, inst, b, d).mean(axis=1) for b in ("P", "E"))
            ok = sp.notna() & se.notna()
            sp, se = sp[ok], se[ok]
            return sp.var(), se.var(), float(np.corrcoef(sp, se)[0, 1])

    rows = []
    for d in inst.dimensions:
        res = {}
        for b in blocks:
            a, w, w_ci, notes = scale_stats(b, d)
            res[b] = a
            rows.append({"dimension": d, "block": b, "k": a.k, "n": a.n, "alpha": a.alpha,
                         "alpha_ci_low": a.ci[0], "alpha_ci_high": a.ci[1], "omega": w,
                         "omega_ci_low": w_ci[0], "omega_ci_high": w_ci[1],
                         "difference_reliability": np.nan, "note": "; ".join(notes)})
        if "gap" in blocks and "E" in res and "P" in res:
            rel = difference_score_reliability(res["P"].alpha, res["E"].alpha, *parts(d))
            gap_row = rows[-len(blocks) + list(blocks).index("gap")]
            gap_row["difference_reliability"] = rel
            if rel < min(res["P"].alpha, res["E"].alpha) - 0.05:
                gap_row["note"] = "; ".join(filter(None, [gap_row["note"], (
                    f"the gap score is less reliable ({rel:.2f}) than its parts "
                    f"(P {res['P'].alpha:.2f}, E {res['E'].alpha:.2f})")]))
    out = pd.DataFrame(rows)
    out["alpha_ok"] = out["alpha"] >= THRESHOLDS["alpha"]
    out["omega_ok"] = out["omega"] >= THRESHOLDS["omega"]
    if is_moments(survey):
        out.attrs["engine"] = survey.engine
    return out


def item_diagnostics(survey: pd.DataFrame, instrument, block: str = "P", *, missing: str = "pairwise",
                     lang: str = "en") -> pd.DataFrame:
    """Per item of every dimension: corrected item–total correlation, α if deleted, and a plain reason when
    the item hurts its scale (α would rise without it, or r_drop < .30)."""
    from .instruments import load as load_instrument

    inst = load_instrument(instrument)
    rows = []
    for d in inst.dimensions:
        x = block_items(survey, inst, block, d)
        a = cronbach_alpha(x, missing=missing)
        for item, st in a.item_stats.iterrows():
            reasons = []
            if st["alpha_if_deleted"] > a.alpha + 1e-12:
                reasons.append(f"α of {d} would rise from {a.alpha:.3f} to {st['alpha_if_deleted']:.3f} without it")
            if st["r_drop"] < 0.30:
                reasons.append(f"it correlates only {st['r_drop']:.2f} with the rest of {d}")
            rows.append({"dimension": d, "item": item, "text": inst.text(item, lang), "mean": st["mean"],
                         "sd": st["sd"], "r_drop": st["r_drop"], "alpha_if_deleted": st["alpha_if_deleted"],
                         "dimension_alpha": a.alpha, "flag": bool(reasons), "reason": "; ".join(reasons)})
    return pd.DataFrame(rows)


def conclusions(table: pd.DataFrame, diagnostics: pd.DataFrame | None = None, fit: CFAResult | None = None,
                block: str = "P") -> list[str]:
    """Plain-language conclusions from the reliability table, item diagnostics and CFA."""
    out = []
    t = table[table["block"] == block]
    good = t[t["alpha"] >= 0.80]["dimension"].tolist()
    weak = t[t["alpha"] < THRESHOLDS["alpha"]]["dimension"].tolist()
    label = {"P": "perception", "E": "expectation", "gap": "gap"}.get(block, block)
    if len(weak) == 0:
        out.append(f"Every dimension's {label} scale is reliable enough (α ≥ .70)"
                   + (f"; {', '.join(good)} reach .80 or more." if good else "."))
    else:
        out.append(f"The {label} scales of {', '.join(weak)} fall below α = .70: treat their scores with care.")
    gaps = table[(table["block"] == "gap") & table["difference_reliability"].notna()].set_index("dimension")
    if len(gaps):
        parts = table[table["block"].isin(["P", "E"])].groupby("dimension")["alpha"].min()
        lower = gaps.index[gaps["difference_reliability"] < parts.reindex(gaps.index) - 0.05].tolist()
        worst = gaps["difference_reliability"].idxmin()
        if lower:
            out.append(f"Gap scores (P − E) are clearly less reliable than their parts for {', '.join(lower)}, "
                       f"as difference scores of correlated measures are (lowest: {worst} at "
                       f"{gaps.loc[worst, 'difference_reliability']:.2f}). Report gaps at dimension level and read "
                       f"item gaps as indications only.")
        else:
            out.append(f"Gap scores (P − E) are about as reliable as their parts here (lowest: {worst} at "
                       f"{gaps.loc[worst, 'difference_reliability']:.2f}), because expectations and perceptions "
                       f"correlate weakly; with correlated E and P the gap would lose reliability.")
    if diagnostics is not None and diagnostics["flag"].any():
        f = diagnostics[diagnostics["flag"]]
        out.append(f"{len(f)} item(s) weaken their scale: " + "; ".join(
            f"{r.item} ({r.dimension}): {r.reason}" for r in f.itertuples()) + ".")
    elif diagnostics is not None:
        out.append("No item weakens its scale: each correlates well with the rest of its dimension.")
    if fit is not None:
        s = fit.summary()
        met = s["met"].dropna()
        verdict = "fits well" if met.all() else ("fits acceptably" if met.sum() >= 3 else "does not fit well")
        out.append(f"The {len(fit.model)}-dimension model {verdict}: CFI {fit.fit['cfi']:.3f}, TLI {fit.fit['tli']:.3f}, "
                   f"RMSEA {fit.fit['rmsea']:.3f} [{fit.fit['rmsea_ci_low']:.3f}, {fit.fit['rmsea_ci_high']:.3f}], "
                   f"SRMR {fit.fit['srmr']:.3f}.")
        low_ave = fit.validity[fit.validity["ave"] < THRESHOLDS["ave"]].index.tolist()
        if low_ave:
            out.append(f"Convergent validity is weak for {', '.join(low_ave)} (AVE < .50).")
        fl_bad = fit.validity[~fit.validity["fornell_larcker_ok"]].index.tolist()
        h = fit.htmt.where(np.triu(np.ones(fit.htmt.shape, bool), 1))
        pairs = [(a, b) for a in h.index for b in h.columns if pd.notna(h.loc[a, b]) and h.loc[a, b] >= THRESHOLDS["htmt"]]
        if fl_bad or pairs:
            out.append("Discriminant validity is in doubt for " + ", ".join(
                fl_bad + [f"{a}/{b} (HTMT {h.loc[a, b]:.2f})" for a, b in pairs]) + ".")
        else:
            out.append("The dimensions are distinct: every HTMT is below .85 and the Fornell–Larcker criterion holds.")
    return out
