"""Cronbach's α and McDonald's ω, with intervals, from covariance matrices."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import Problem, SQMArgumentError, SQMDataError, SQMWarning, raise_problems
from ..moments import Moments, is_moments
from .factors import (
    MLFit,
    cfa,
    check_items,
    check_variances,
    cov2cor,
    covariance,
    ml_cov,
    ml_fit,
    no_answers,
    pairwise_cov,
    polychoric,
    reverse_index,
    sampling_weights,
    smc,
    weighted_covariance,
)


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
    n_eff : float or None
        With sampling weights: Kish's effective n of the respondents used (the interval's n); else None.
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
    n_eff: float | None = None

    def summary(self) -> pd.DataFrame:
        lo, hi = self.ci
        row = {"alpha": self.alpha, "ci_low": lo, "ci_high": hi, "std_alpha": self.std_alpha,
               "g6": self.g6, "average_r": self.average_r, "n": self.n, "k": self.k,
               "ci_method": self.ci_method, "missing": self.missing}
        if self.n_eff is not None:
            row["n_eff"] = self.n_eff
        return pd.DataFrame([row])

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
    R = cov2cor(C)
    sum_r = R.sum()
    return {
        "alpha": float(alpha),
        "std_alpha": float(k / (k - 1) * (1.0 - k / sum_r)),
        "g6": float(1.0 - (k - smc(R).sum()) / sum_r),
        "average_r": float((sum_r - k) / (k * (k - 1))),
        "r_drop": r_drop,
        "alpha_if_deleted": a_drop,
    }


def _item_stats(names: Sequence[str], means, C: np.ndarray, st: dict) -> pd.DataFrame:
    """Per item: mean, sd (from the covariance diagonal), r_drop and α if deleted (:func:`alpha_stats`)."""
    return pd.DataFrame({"mean": means, "sd": np.sqrt(np.diag(C)), "r_drop": st["r_drop"],
                         "alpha_if_deleted": st["alpha_if_deleted"]}, index=pd.Index(names, name="item"))


def _percentile_interval(boots: np.ndarray, confidence: float) -> tuple[tuple[float, float], str]:
    """The percentile interval of bootstrap values (resamples that gave none left out) and its method name."""
    g = 1 - confidence
    return tuple(float(v) for v in np.nanquantile(boots, [g / 2, 1 - g / 2])), f"bootstrap ({len(boots)})"


def feldt_ci(alpha: float, n: int, k: int, confidence: float = 0.95) -> tuple[float, float]:
    """Feldt's (1965) F-based confidence interval of α, with ``n − 1`` and ``(n − 1)(k − 1)`` degrees of freedom."""
    df1, df2 = n - 1, (n - 1) * (k - 1)
    g = 1 - confidence
    return (float(1 - (1 - alpha) * stats.f.isf(g / 2, df1, df2)),
            float(1 - (1 - alpha) * stats.f.isf(1 - g / 2, df1, df2)))


def cronbach_alpha(items: pd.DataFrame, *, reverse: Sequence[str] = (), scale: tuple[float, float] | None = None,
                   missing: str = "pairwise", confidence: float = 0.95, n_boot: int = 0, seed: int = 0,
                   ordinal: bool = False, weights=None) -> AlphaResult:
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
    confidence : float
        Confidence level of the interval.
    n_boot : int
        Bootstrap resamples; 0 gives Feldt's interval, more gives a percentile bootstrap interval.
    seed : int
        Seed of the bootstrap.
    ordinal : bool
        Ordinal α (Zumbo, Gadermann & Zeisser 2007): α of the polychoric correlation matrix
        (:func:`sqmlib.factors.polychoric`), as psych's ``alpha`` on ``polychoric(x)$rho``; item ``sd`` is then 1.
    weights : array-like, optional
        Sampling weights, one per respondent: α from the weighted covariance matrix (numpy's
        ``cov(aweights=w)``, pairwise or listwise), weighted item means, and
        Feldt's interval on Kish's effective n (``n_eff``); the bootstrap resamples respondents with their
        weights. psych's ``alpha`` has no weights: its numbers equal these with every weight equal. Not with
        ``ordinal`` (polychoric correlations are unweighted) or moments.

    Returns
    -------
    AlphaResult

    Raises
    ------
    SQMDataError
        Fewer than two items, an item nobody answered, an item with no variance.
    """

    if is_moments(items):
        if weights is not None:
            raise SQMArgumentError("moments carry their sampling weights in themselves (survey_spec): no weights "
                                   "argument with moments")
        return _alpha_from_moments(items, reverse, scale, missing, confidence, n_boot)
    X, names = check_items(items, reverse, scale)
    if weights is not None:
        if ordinal:
            raise SQMArgumentError("ordinal α has no sampling weights (polychoric correlations are unweighted)")
        return _weighted_alpha(X, names, weights, missing, confidence, n_boot, seed)
    C, n, rows = covariance(X, missing)
    check_variances(C, names)
    if X.shape[1] > n:
        warnings.warn(f"more items ({X.shape[1]}) than respondents ({n}): α is unstable and λ6 unreliable",
                      SQMWarning, stacklevel=2)
    if ordinal:
        frame = pd.DataFrame(X if rows is None else X[rows], columns=names)
        C = polychoric(frame).to_numpy()
        if n_boot > 0:
            raise SQMArgumentError("ordinal α has Feldt's interval only (n_boot=0)")
    st = alpha_stats(C)
    Xu = X if rows is None else X[rows]
    # pairwise: each item's mean and sd over all its answers (the covariance diagonal is that variance)
    means = np.nanmean(X, axis=0) if missing == "pairwise" or rows is None else Xu.mean(axis=0)
    item_stats = _item_stats(names, means, C, st)
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        boots = np.empty(n_boot)
        for b in range(n_boot):
            Xb = Xu[rng.integers(0, len(Xu), len(Xu))]
            Cb, _, _ = covariance(Xb, missing) if missing == "listwise" else (pairwise_cov(Xb)[0], 0, None)
            boots[b] = _alpha_from_cov(Cb)
        interval, method = _percentile_interval(boots, confidence)
    else:
        interval = feldt_ci(st["alpha"], n, X.shape[1], confidence)
        method = "Feldt"
    return AlphaResult(st["alpha"], st["std_alpha"], st["g6"], st["average_r"], n, X.shape[1], interval, confidence,
                       method, item_stats, missing)


def _weighted_alpha(X: np.ndarray, names: list, weights, missing: str, confidence: float, n_boot: int,
                    seed: int) -> AlphaResult:
    C, n_eff, rows = weighted_covariance(X, weights, missing)
    check_variances(C, names)
    w = sampling_weights(weights, X.shape[0])
    M = ~np.isnan(X) & (rows[:, None] if missing == "listwise" else True)
    W = np.where(M, w[:, None], 0.0)
    means = (W * np.where(M, X, 0.0)).sum(axis=0) / W.sum(axis=0)
    st = alpha_stats(C)
    item_stats = _item_stats(names, means, C, st)
    if n_boot > 0:
        Xu, wu = X[rows], w[rows]
        rng = np.random.default_rng(seed)
        boots = np.empty(n_boot)
        with np.errstate(invalid="ignore", divide="ignore"):
            for b in range(n_boot):
                take = rng.integers(0, len(Xu), len(Xu))
                try:
                    boots[b] = _alpha_from_cov(weighted_covariance(Xu[take], wu[take], missing)[0])
                except SQMDataError:
                    boots[b] = np.nan
        interval, method = _percentile_interval(boots, confidence)
    else:
        interval = feldt_ci(st["alpha"], n_eff, X.shape[1], confidence)
        method = "Feldt"
    return AlphaResult(st["alpha"], st["std_alpha"], st["g6"], st["average_r"], int(rows.sum()), X.shape[1],
                       interval, confidence, method, item_stats, missing, n_eff=n_eff)


def _alpha_from_moments(m, reverse: Sequence[str], scale, missing: str, confidence: float, n_boot: int) -> AlphaResult:
    """α from moments (:class:`sqmlib.moments.CovMoments`): the same numbers as from the rows."""

    if isinstance(m, Moments):
        raise SQMArgumentError("choose the items: cronbach_alpha(m[columns])")
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
    no_answers(names, np.diag(m.N), problems)
    idx = reverse_index(names, reverse, scale, problems)
    if idx:
        m = m.reflect(idx, *scale)
    raise_problems("items", problems)
    if np.any(m.pair_n < 2):
        raise SQMDataError("items", [Problem("too_few_pairs", "some items are answered together by fewer than two "
                                                              "respondents")])
    C = m.cov()
    check_variances(C, names)
    n = m.n
    if not m.n_exact:
        warnings.warn("these items are a part of a moments set with missing answers: " + (
            "the complete cases are those of the whole set" if m.missing == "listwise" else
            "n (for the interval) is the largest item count, not the respondents answering two or more"),
            SQMWarning, stacklevel=3)
    if len(names) > n:
        warnings.warn(f"more items ({len(names)}) than respondents ({n}): α is unstable and λ6 unreliable",
                      SQMWarning, stacklevel=3)
    st = alpha_stats(C)
    item_stats = _item_stats(names, m.means, C, st)
    interval = feldt_ci(st["alpha"], n, len(names), confidence)
    return AlphaResult(st["alpha"], st["std_alpha"], st["g6"], st["average_r"], m.rows if m.weighted else n,
                       len(names), interval, confidence, "Feldt", item_stats,
                       m.missing if not m.complete else missing, n_eff=n if m.weighted else None)


def omega_from_fit(fit: MLFit) -> float:
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
    n : int or float
        Complete cases (with sampling weights: Kish's effective n of them).
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
          groups: Mapping[str, Sequence[str]] | None = None, ordinal: bool = False,
          missing: str = "listwise", weights=None) -> OmegaResult:
    """McDonald's ω from ML factor models on the complete cases.

    ``omega_total`` comes from a one-factor model: ``(Σλ)² / ((Σλ)² + Σθ)`` in raw units. With ``groups``
    (dimension → items) a bifactor model (a general factor on every item plus one orthogonal factor per group)
    gives ``omega_hierarchical`` = (Σλ_general)² / 1'Σ̂1, and each group gets its own one-factor ω. With
    ``ordinal`` the models are fitted to the polychoric correlations of the complete cases (ordinal ω, as
    psych's ``omega`` with ``poly = TRUE``). With ``missing="fiml"`` the one-factor model is fitted by
    full-information ML to everyone who answered at least one item (as semTools' ``compRelSEM`` on a
    ``cfa(…, missing="ml")`` model; no bifactor model then).

    With sampling ``weights`` (one per respondent) the models are fitted to the weighted ML covariance matrix of
    the complete cases (numpy's ``cov(aweights=w, ddof=0)``) and ``n`` is Kish's effective n: the pseudo-ML
    point estimate (as lavaan's ``sampling.weights`` gives it); not with ``ordinal`` or ``missing="fiml"``.
    """
    if missing not in ("listwise", "fiml"):
        raise SQMArgumentError(f"missing must be listwise or fiml, got {missing!r}")
    if missing == "fiml" and (ordinal or groups):
        raise SQMArgumentError("missing='fiml' gives the one-factor ω only (no ordinal or bifactor model)")
    if weights is not None and (ordinal or missing == "fiml"):
        raise SQMArgumentError("weighted ω is fitted to the weighted covariances of the complete cases (no ordinal "
                               "or FIML model)")
    X, names = check_items(items, reverse, scale)
    if missing == "fiml":
        one = cfa(pd.DataFrame(X, columns=names), {"general": names}, missing="fiml")
        lam = one.loadings["estimate"].to_numpy()  # raw units, factor variance 1
        s = lam.sum()
        return OmegaResult(omega_total=float(s ** 2 / (s ** 2 + one.loadings["residual_variance"].sum())),
                           loadings=pd.Series(lam, index=names), n=int(one.fit["n"]))
    if weights is not None:
        S, n_eff, _ = weighted_covariance(X, weights, "listwise", ddof=0)
        n = n_eff
    else:
        S, n = ml_cov(X)
    check_variances(S, names)
    if ordinal:
        S = polychoric(pd.DataFrame(X[~np.isnan(X).any(axis=1)], columns=names)).to_numpy()
    p = len(names)
    one = ml_fit(S, np.ones((p, 1), bool))
    result = dict(omega_total=omega_from_fit(one), loadings=pd.Series(one.Lambda[:, 0], index=names), n=n)
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
        bi = ml_fit(S, pattern, orthogonal=True)
        total = bi.Sigma.sum()
        common = (bi.Lambda.sum(axis=0) ** 2).sum()
        per_group = {}
        for g in gnames:
            idx = [names.index(str(i)) for i in groups[g]]
            per_group[g] = omega_from_fit(ml_fit(S[np.ix_(idx, idx)], np.ones((len(idx), 1), bool)))
        result.update(omega_hierarchical=float(bi.Lambda[:, 0].sum() ** 2 / total),
                      omega_total_bifactor=float(common / total),
                      omega_groups=pd.Series(per_group, name="omega"))
    return OmegaResult(**result)
