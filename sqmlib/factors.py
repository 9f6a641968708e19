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

from . import latent, ordinal
from .errors import Problem, SQMArgumentError, SQMDataError, SQMWarning
from .latent import rmsea_ci  # noqa: F401  (re-exported)
from .ordinal import bvn_cdf, bvn_pdf, thresholds  # noqa: F401  (re-exported)

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


# ---------------------------------------------------------------------------------------------------------
# confirmatory factor analysis
# ---------------------------------------------------------------------------------------------------------
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
    estimator: str = "ML"
    missing: str = "listwise"
    thresholds: pd.DataFrame | None = None

    def summary(self) -> pd.DataFrame:
        """The fit measures to report with the usual thresholds and whether each is met (with WLSMV the scaled
        χ² and the indices from it)."""
        f = self.fit
        sfx = "_scaled" if self.estimator == "WLSMV" else ""
        rows = [("chisq" + sfx, f["chisq" + sfx], None, None), ("df", f["df"], None, None),
                ("p_value" + sfx, f["p_value" + sfx], None, None),
                ("cfi" + sfx, f["cfi" + sfx], ">= 0.95", f["cfi" + sfx] >= THRESHOLDS["cfi"]),
                ("tli" + sfx, f["tli" + sfx], ">= 0.95", f["tli" + sfx] >= THRESHOLDS["tli"]),
                ("rmsea" + sfx, f["rmsea" + sfx], "<= 0.06", f["rmsea" + sfx] <= THRESHOLDS["rmsea"]),
                ("rmsea_ci_low" + sfx, f["rmsea_ci_low" + sfx], None, None),
                ("rmsea_ci_high" + sfx, f["rmsea_ci_high" + sfx], None, None),
                ("srmr", f["srmr"], "<= 0.08", f["srmr"] <= THRESHOLDS["srmr"]), ("n", f["n"], None, None)]
        if "loglik" in f:
            rows.append(("loglik", f["loglik"], None, None))
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


ESTIMATORS = ("ML", "WLSMV")
MISSING = ("listwise", "fiml")


def cfa(data: pd.DataFrame | None = None, model: Mapping[str, Sequence[str]] | None = None, *,
        estimator: str = "ML", missing: str = "listwise", cov: pd.DataFrame | None = None,
        n_obs: int | None = None) -> CFAResult:
    """Confirmatory factor analysis, with fit and validity measures.

    Parameters
    ----------
    data : DataFrame, optional
        Respondents × items.
    model : dict factor -> items
        Each item loads on the factors that list it; factors correlate freely.
    estimator : {"ML", "WLSMV"}
        ``"ML"`` treats answers as continuous (lavaan's default); ``"WLSMV"`` treats them as ordered categories:
        diagonally weighted least squares on polychoric correlations with the mean-and-variance-adjusted χ², as
        lavaan's ``cfa(…, ordered=TRUE, estimator="WLSMV")`` (complete cases; see :func:`sqmlib.ordinal.wlsmv_fit`).
    missing : {"listwise", "fiml"}
        With ML: complete cases only (lavaan's default) or full-information ML using every respondent with at
        least one answer (lavaan's ``missing="ml"``, which adds the mean structure and reports ``loglik``).
    cov, n_obs : optional
        A covariance matrix (divisor N) and the sample size, instead of ``data`` (ML, listwise).

    Notes
    -----
    As lavaan's ML defaults: the sample covariance uses divisor N, χ² = N·F_ML, the baseline model is the
    independence model, RMSEA = sqrt(max(χ² − df, 0) / (N·df)) with a 90 % interval from the non-central χ²,
    and SRMR is Bentler's: the root mean square of (s_ij − σ̂_ij) / sqrt(s_ii s_jj) over i ≤ j (with FIML also
    the standardised mean residuals, as lavaan; ``srmr_nomean`` leaves them out). With WLSMV, ``cfi``, ``tli``
    and ``rmsea`` come from the DWLS χ² and ``cfi_scaled``, ``tli_scaled``, ``rmsea_scaled`` from the scaled
    one (the values to report); loadings are standardised, and :attr:`CFAResult.thresholds` lists the
    thresholds.
    """
    if estimator not in ESTIMATORS:
        raise SQMArgumentError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}")
    if missing not in MISSING:
        raise SQMArgumentError(f"missing must be one of {', '.join(MISSING)}, got {missing!r}")
    if estimator == "WLSMV" and missing == "fiml":
        raise SQMArgumentError("missing='fiml' needs estimator='ML' (WLSMV uses complete cases)")
    if not model:
        raise SQMArgumentError("model must map each factor to its items")
    items = list(dict.fromkeys(str(i) for its in model.values() for i in its))
    factors = list(model)
    pattern = latent.pattern_from_model(model, items)
    thresholds_table = None
    if cov is not None:
        if n_obs is None:
            raise SQMArgumentError("n_obs is required with cov")
        if estimator != "ML" or missing != "listwise":
            raise SQMArgumentError("a covariance matrix can only be fitted by ML with complete cases")
        S = cov.loc[items, items].to_numpy(dtype=float)
        n = int(n_obs)
    else:
        absent = [i for i in items if i not in data.columns]
        if absent:
            raise SQMDataError("data", [Problem("missing_column", f"model items not in the data: {absent}")])
        X, _ = check_items(data[items], what="data")
    if estimator == "WLSMV":
        w = ordinal.wlsmv_fit(X, items, pattern)
        L, Phi, theta, Sigma, S = w.Lambda, w.Phi, w.theta, w.Sigma, w.polychoric.R
        fit_s = pd.Series(w.fit)
        converged, message = w.converged, w.message
        thresholds_table = pd.DataFrame(
            [{"item": i, "threshold": k + 1, "estimate": t} for i, taus in zip(items, w.polychoric.taus)
             for k, t in enumerate(taus)])
    elif missing == "fiml":
        mf = latent.fit_model(X, pattern)
        check_variances(mf.S[0], items, what="data")
        f = mf.fit
        sd_f = np.sqrt(np.diag(f.Phi[0]))
        L, Phi, theta = f.Lambda[0] * sd_f, f.Phi[0] / np.outer(sd_f, sd_f), f.theta[0]
        Sigma, S = f.Sigma[0], mf.S[0]
        fit_s = pd.Series(mf.measures)
        converged, message = f.converged, f.message
    else:
        if cov is None:
            S, n = ml_cov(X)
            check_variances(S, items, what="data")
        with warnings.catch_warnings():  # Heywood cases are reported with the other improper solutions below
            warnings.filterwarnings("ignore", message="a residual variance reached its lower bound")
            fit = ml_fit(S, pattern)
        L, Phi, theta, Sigma = fit.Lambda, fit.Phi, fit.theta, fit.Sigma
        fit_s = pd.Series(ml_fit_measures(S, fit, n))
        converged, message = fit.converged, fit.message
    if not converged:
        warnings.warn(f"the CFA did not converge: {message}", SQMWarning, stacklevel=2)
    return assemble_cfa(model, items, factors, L, Phi, theta, Sigma, S, fit_s, converged, estimator, missing,
                        thresholds_table)


def ml_fit_measures(S: np.ndarray, fit: MLFit, n: int) -> dict:
    """χ², CFI, TLI, RMSEA with its interval and SRMR of an ML fit to the covariance matrix S (divisor N)."""
    p = len(S)
    chisq = n * fit.fmin
    df = p * (p + 1) // 2 - fit.n_free
    _, logdet_s = np.linalg.slogdet(S)
    base = n * (np.log(np.diag(S)).sum() - logdet_s)
    out = latent.fit_measures(chisq, df, base, p * (p - 1) // 2, n, 1)
    d = np.sqrt(np.diag(S))
    resid = (S - fit.Sigma) / np.outer(d, d)
    out["srmr"] = float(np.sqrt(np.mean(resid[np.tril_indices(p)] ** 2)))
    out["n"] = n
    return out


def assemble_cfa(model, items, factors, L, Phi, theta, Sigma, S, fit_s, converged, estimator, missing,
                 thresholds_table) -> CFAResult:
    """Loadings, validity, Fornell–Larcker and HTMT tables of a fitted CFA (loadings with factor variances 1)."""
    sd_model = np.sqrt(np.diag(Sigma))
    std = L / sd_model[:, None]
    rows = []
    for j, fct in enumerate(factors):
        first = items.index(str(model[fct][0]))
        for i in model[fct]:
            r = items.index(str(i))
            rows.append({"factor": fct, "item": str(i), "estimate": L[r, j],
                         "marker_scaled": L[r, j] / L[first, j], "std_all": std[r, j],
                         "residual_variance": theta[r]})
    loadings = pd.DataFrame(rows)
    phi = pd.DataFrame(Phi, index=factors, columns=factors)
    val = []
    for j, fct in enumerate(factors):
        idx = [items.index(str(i)) for i in model[fct]]
        lam = std[idx, j]
        th = theta[idx] / sd_model[idx] ** 2
        cr = lam.sum() ** 2 / (lam.sum() ** 2 + th.sum())
        ave = (lam ** 2).sum() / ((lam ** 2).sum() + th.sum())
        raw = L[idx, j]  # raw units, factor variance 1
        S_jj, Sig_jj = S[np.ix_(idx, idx)], Sigma[np.ix_(idx, idx)]
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
    improper = improper_solution(Phi, theta, std, factors, items, S)
    for note in improper:
        warnings.warn(note, SQMWarning, stacklevel=3)
    R_obs = pd.DataFrame(cov2cor(S), index=items, columns=items)
    return CFAResult({k: tuple(str(i) for i in v) for k, v in model.items()}, loadings, phi, fit_s, validity, fl,
                     htmt(R_obs, model), converged, pd.DataFrame(Sigma, index=items, columns=items),
                     tuple(improper), estimator, missing, thresholds_table)


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
    converged: bool = True  # statsmodels' ML extraction reached its tolerance

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
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        fa = Factor(corr=R, n_factor=m, method="ml", nobs=n).fit(rng=np.random.default_rng(seed))
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
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
                     variance, phi, pa, suggested, converged)


