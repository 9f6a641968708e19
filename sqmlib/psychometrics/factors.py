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
from scipy import stats

from ..errors import Problem, SQMArgumentError, SQMDataError, SQMWarning
from . import latent, ordinal
from .latent import rmsea_ci  # noqa: F401  (re-exported)
from .ordinal import bvn_cdf, bvn_pdf, thresholds  # noqa: F401  (re-exported)
from .structure import *  # noqa: F401,F403  (sqmlib.factors is the documented path of every factor-model function)
from .structure import (
    THRESHOLDS,
    MLFit,
    check_items,
    check_variances,
    cov2cor,
    items_corr,
    ml_cov,
    ml_fit,
)


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
    from statsmodels.multivariate.factor import Factor  # imported when first used: it is slow to import
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
