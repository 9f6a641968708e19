"""Reliability and validity of survey scales.

Everything here works from one covariance matrix: Cronbach's α with all item statistics in closed form,
Guttman's λ6, ω from a one-factor (and bifactor) ML model, the gap-score reliability, the reliability table of
a SERVQUAL-type survey, item diagnostics and conclusions in plain language, and :func:`run_reliability`, the
pipeline of the reliability notebook. Factor models (CFA, EFA, KMO, Bartlett, HTMT) live in
:mod:`sqmlib.factors` and are re-exported here.

Definitions follow R's psych (``alpha``, ``KMO``, ``cortest.bartlett``) and lavaan (ML estimation with the
sample covariance divided by N, χ² = N·F_ML); the tests check them against pingouin, closed forms and the
published lavaan results for the Holzinger–Swineford (1939) model.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from . import plots
from .audit import careless, segment_filter, select_segment
from .engines import check_engine
from .errors import Problem, SQMArgumentError, SQMDataError, SQMWarning, raise_problems
from .factors import (THRESHOLDS, BartlettResult, CFAResult, EFAResult, KMOResult, MLFit,  # noqa: F401
                      bartlett_sphericity, cfa, check_items, check_variances, complete_cov, cov2cor,
                      covariance, efa, htmt, kmo, ml_cov, ml_fit, no_answers, pairwise_cov,
                      parallel_analysis, polychoric, reverse_index, rmsea_ci, smc)
from .instruments import load as load_instrument
from .invariance import InvarianceResult, invariance
from .io import DataFolder
from .moments import Moments, is_moments, survey_moments
from .results import Block, Result, bullets, figure, headline, table, text




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


def feldt_ci(alpha: float, n: int, k: int, confidence: float = 0.95) -> tuple[float, float]:
    """Feldt's (1965) F-based confidence interval of α, with ``n − 1`` and ``(n − 1)(k − 1)`` degrees of freedom."""
    df1, df2 = n - 1, (n - 1) * (k - 1)
    g = 1 - confidence
    return (float(1 - (1 - alpha) * stats.f.isf(g / 2, df1, df2)),
            float(1 - (1 - alpha) * stats.f.isf(1 - g / 2, df1, df2)))


def cronbach_alpha(items: pd.DataFrame, *, reverse: Sequence[str] = (), scale: tuple[float, float] | None = None,
                   missing: str = "pairwise", confidence: float = 0.95, n_boot: int = 0, seed: int = 0,
                   ordinal: bool = False) -> AlphaResult:
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

    Returns
    -------
    AlphaResult

    Raises
    ------
    SQMDataError
        Fewer than two items, an item nobody answered, an item with no variance.
    """

    if is_moments(items):
        return _alpha_from_moments(items, reverse, scale, missing, confidence, n_boot)
    X, names = check_items(items, reverse, scale)
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
        g = 1 - confidence
        interval = tuple(float(v) for v in np.nanquantile(boots, [g / 2, 1 - g / 2]))
        method = f"bootstrap ({n_boot})"
    else:
        interval = feldt_ci(st["alpha"], n, X.shape[1], confidence)
        method = "Feldt"
    return AlphaResult(st["alpha"], st["std_alpha"], st["g6"], st["average_r"], n, X.shape[1], interval, confidence,
                       method, item_stats, missing)


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
    if np.any(m.N < 2):
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
    item_stats = pd.DataFrame({"mean": m.means, "sd": np.sqrt(np.diag(C)), "r_drop": st["r_drop"],
                               "alpha_if_deleted": st["alpha_if_deleted"]}, index=pd.Index(names, name="item"))
    interval = feldt_ci(st["alpha"], n, len(names), confidence)
    return AlphaResult(st["alpha"], st["std_alpha"], st["g6"], st["average_r"], n, len(names), interval, confidence,
                       "Feldt", item_stats, m.missing if not m.complete else missing)


def _omega_from_fit(fit: MLFit) -> float:
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
          groups: Mapping[str, Sequence[str]] | None = None, ordinal: bool = False,
          missing: str = "listwise") -> OmegaResult:
    """McDonald's ω from ML factor models on the complete cases.

    ``omega_total`` comes from a one-factor model: ``(Σλ)² / ((Σλ)² + Σθ)`` in raw units. With ``groups``
    (dimension → items) a bifactor model (a general factor on every item plus one orthogonal factor per group)
    gives ``omega_hierarchical`` = (Σλ_general)² / 1'Σ̂1, and each group gets its own one-factor ω. With
    ``ordinal`` the models are fitted to the polychoric correlations of the complete cases (ordinal ω, as
    psych's ``omega`` with ``poly = TRUE``). With ``missing="fiml"`` the one-factor model is fitted by
    full-information ML to everyone who answered at least one item (as semTools' ``compRelSEM`` on a
    ``cfa(…, missing="ml")`` model; no bifactor model then).
    """
    if missing not in ("listwise", "fiml"):
        raise SQMArgumentError(f"missing must be listwise or fiml, got {missing!r}")
    if missing == "fiml" and (ordinal or groups):
        raise SQMArgumentError("missing='fiml' gives the one-factor ω only (no ordinal or bifactor model)")
    X, names = check_items(items, reverse, scale)
    if missing == "fiml":
        one = cfa(pd.DataFrame(X, columns=names), {"general": names}, missing="fiml")
        lam = one.loadings["estimate"].to_numpy()  # raw units, factor variance 1
        s = lam.sum()
        return OmegaResult(omega_total=float(s ** 2 / (s ** 2 + one.loadings["residual_variance"].sum())),
                           loadings=pd.Series(lam, index=names), n=int(one.fit["n"]))
    S, n = ml_cov(X)
    check_variances(S, names)
    if ordinal:
        S = polychoric(pd.DataFrame(X[~np.isnan(X).any(axis=1)], columns=names)).to_numpy()
    p = len(names)
    one = ml_fit(S, np.ones((p, 1), bool))
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
        bi = ml_fit(S, pattern, orthogonal=True)
        total = bi.Sigma.sum()
        common = (bi.Lambda.sum(axis=0) ** 2).sum()
        per_group = {}
        for g in gnames:
            idx = [names.index(str(i)) for i in groups[g]]
            per_group[g] = _omega_from_fit(ml_fit(S[np.ix_(idx, idx)], np.ones((len(idx), 1), bool)))
        result.update(omega_hierarchical=float(bi.Lambda[:, 0].sum() ** 2 / total),
                      omega_total_bifactor=float(common / total),
                      omega_groups=pd.Series(per_group, name="omega"))
    return OmegaResult(**result)


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


def omega_bootstrap_ci(items: pd.DataFrame, n_boot: int = 200, confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the one-factor ω (complete cases resampled)."""
    X, names = check_items(items)
    Xc = X[~np.isnan(X).any(axis=1)]
    rng = np.random.default_rng(seed)
    p = Xc.shape[1]
    vals = np.empty(n_boot)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for b in range(n_boot):
            Xb = Xc[rng.integers(0, len(Xc), len(Xc))]
            S = complete_cov(Xb) * (len(Xb) - 1) / len(Xb)
            vals[b] = _omega_from_fit(ml_fit(S, np.ones((p, 1), bool)))
    g = 1 - confidence
    lo, hi = np.quantile(vals, [g / 2, 1 - g / 2])
    return float(lo), float(hi)


def reliability_table(survey: pd.DataFrame, instrument, *, blocks: Sequence[str] | None = None,
                      confidence: float = 0.95, missing: str = "pairwise", n_boot: int = 0, seed: int = 0) -> pd.DataFrame:
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

    inst = load_instrument(instrument)
    if blocks is None:
        blocks = ("E", "P", "gap") if inst.has_expectations else ("P",)
    if is_moments(survey):
        if n_boot > 0:
            raise SQMArgumentError("bootstrap intervals need the rows (n_boot=0)")
        m = survey

        def scale_stats(b, d):
            a = cronbach_alpha(m.select(m.sets[f"{b}:{d}"].columns, missing), missing=missing, confidence=confidence)
            if a.k < 3:
                return a, np.nan, (np.nan, np.nan), ["ω needs at least three items"]
            if f"{b}:{d}:listwise" not in m.sets:
                return a, np.nan, (np.nan, np.nan), ["ω needs the listwise moments (survey_spec(omega=True))"]
            lw = m.select(m.sets[f"{b}:{d}:listwise"].columns, "listwise")
            if lw.n < 3:
                raise SQMDataError("items", [Problem("too_few_rows", f"only {lw.n} complete respondents")])
            S = lw.cov() * (lw.n - 1) / lw.n
            check_variances(S, list(lw.columns))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a Heywood case in one dimension is noted, not fatal
                w = _omega_from_fit(ml_fit(S, np.ones((a.k, 1), bool)))
            return a, w, (np.nan, np.nan), []  # no interval without the bootstrap (n_boot)

        def parts(d):  # variances and correlation of the any-item P and E means
            C = m.select(m.sets[f"diffrel:{d}"].columns, "listwise").cov()
            return C[0, 0], C[1, 1], float(C[0, 1] / np.sqrt(C[0, 0] * C[1, 1]))
    else:
        def scale_stats(b, d):
            x = block_items(survey, inst, b, d)
            a = cronbach_alpha(x, missing=missing, confidence=confidence, n_boot=n_boot, seed=seed)
            if x.shape[1] < 3:
                return a, np.nan, (np.nan, np.nan), ["ω needs at least three items"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a Heywood case in one dimension is noted, not fatal
                w = omega(x).omega_total
            if n_boot > 0:
                return a, w, omega_bootstrap_ci(x, n_boot, confidence, seed), []
            return a, w, (np.nan, np.nan), []  # no interval without the bootstrap (n_boot)

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
    return out


def item_diagnostics(survey: pd.DataFrame, instrument, block: str = "P", *, missing: str = "pairwise",
                     lang: str = "en") -> pd.DataFrame:
    """Per item of every dimension: corrected item–total correlation, α if deleted, and a plain reason when
    the item hurts its scale (α would rise without it, or r_drop < .30)."""

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
        out += [f"Improper solution: {note}; read the loadings and validity below with care." for note in fit.improper]
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


# ---------------------------------------------------------------------------------------------------------
# the CFA by three estimators, and which to trust
# ---------------------------------------------------------------------------------------------------------
INVARIANCE_FORMAT = {"chisq": "{:.1f}", "aic": "{:.1f}", "bic": "{:.1f}", "delta_chisq": "{:.1f}", "delta_df": "{:.0f}",
                     "delta_p": "{:.3g}", "p_value": "{:.3g}"}
ESTIMATOR_LABELS = {"ML": "ML, complete cases", "FIML": "ML, full information (every respondent)",
                    "WLSMV": "WLSMV, answers as ordered categories"}


def estimator_comparison(items: pd.DataFrame, model: Mapping[str, Sequence[str]], *, ordinal: bool = True,
                         ml: CFAResult | None = None) -> tuple[pd.DataFrame, dict, str]:
    """The CFA by ML on complete cases, by full-information ML (when answers are missing) and by WLSMV (when
    the answers are ordered categories), side by side: one row per estimator with the respondents used, χ²
    (the scaled one for WLSMV), df, CFI, TLI, RMSEA, SRMR and the mean standardised loading; the fits; and
    a sentence on which to trust, from the data (number of answer categories, share of missing answers, share
    at the top of the scale)."""
    fits = {"ML": ml if ml is not None else cfa(items, model)}
    X = items.to_numpy(dtype=float)
    missing_share = float(np.isnan(X).mean())
    n_all = int((~np.isnan(X).all(axis=1)).sum())
    if missing_share > 0:
        fits["FIML"] = cfa(items, model, missing="fiml")
    categories = max(len(np.unique(c[~np.isnan(c)])) for c in X.T)
    ordered = ordinal and categories <= 7
    if ordered:
        fits["WLSMV"] = cfa(items, model, estimator="WLSMV")
    rows = []
    for key, f in fits.items():
        sfx = "_scaled" if key == "WLSMV" else ""
        rows.append({"estimator": ESTIMATOR_LABELS[key], "n": int(f.fit["n"]), "chisq": f.fit["chisq" + sfx],
                     "df": int(f.fit["df"]), "cfi": f.fit["cfi" + sfx], "tli": f.fit["tli" + sfx],
                     "rmsea": f.fit["rmsea" + sfx], "srmr": f.fit["srmr"],
                     "mean_loading": float(f.loadings["std_all"].mean())})
    table = pd.DataFrame(rows)
    top = float(np.nanmean(X == np.nanmax(X)))
    parts = []
    if ordered:
        parts.append(f"The answers are {categories} ordered categories ({top:.0%} at the top of the scale): WLSMV "
                     "models them as such and is the one to trust for fit and loadings; ML treats the points as "
                     "equally spaced numbers, which bends χ² and the loadings when answers pile up at one end")
    else:
        parts.append(f"With {categories} answer points the ratings behave nearly as continuous numbers, so ML is "
                     "appropriate")
    if missing_share > 0:
        n_cc = int(fits["ML"].fit["n"])
        parts.append(f"{missing_share:.1%} of the answers are missing: complete cases keep {n_cc:,} of {n_all:,} "
                     f"respondents, full-information ML uses all {n_all:,}"
                     + (" — where WLSMV and FIML disagree, missing answers are not random and FIML is the safer "
                        "read of the loadings" if ordered else " and is the one to trust"))
    else:
        parts.append("no answer is missing, so full-information ML equals ML on complete cases")
    return table, fits, "; ".join(parts) + "."


def invariance_column(survey: pd.DataFrame, instrument, requested: str) -> str:
    """The grouping column for the invariance test: ``requested`` ("" = none, "auto" = the instrument's first
    segment column present in the survey with two or more groups)."""
    if requested != "auto":
        return requested
    present = load_instrument(instrument).segments_in(survey)
    return present[0] if present else ""


# ---------------------------------------------------------------------------------------------------------
# the pipeline of the reliability notebook
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReliabilityMetrics:
    """Key figures of :func:`run_reliability` (``metrics.json`` of the reliability notebook)."""

    respondents: int
    careless_dropped: int
    block: str
    alpha: dict  # "block:dimension" -> α
    omega: dict
    difference_reliability: dict  # dimension -> reliability of the gap score
    weak_items: list
    parallel_analysis_factors: int
    cfa: dict  # fit measures
    cr: dict
    ave: dict
    max_htmt: float
    findings: list
    estimators: dict  # estimator -> fit measures as reported (WLSMV: scaled)
    invariance_level: str  # "" when not tested


@dataclass(frozen=True)
class ReliabilityResult(Result):
    """What :func:`run_reliability` found: the reliability table, item diagnostics, EFA and CFA."""

    title = "Survey reliability and validity"
    notebook = "01_survey_reliability"

    quarter: str
    segment: str
    block: str
    engine: str
    respondents: int
    careless_dropped: int
    moments_rows: int | None
    table: pd.DataFrame
    diagnostics: pd.DataFrame
    correlations: pd.DataFrame
    dimensions: Mapping[str, list]
    efa: EFAResult
    fit: CFAResult
    conclusions: tuple
    estimators: pd.DataFrame | None = None
    estimator_advice: str = ""
    invariance: InvarianceResult | None = None
    invariance_note: str = ""

    def findings(self) -> list[str]:
        return list(self.conclusions)

    def _perception_rows(self) -> pd.DataFrame:
        blocks = list(dict.fromkeys(self.table["block"]))
        return self.table[self.table["block"] == ("P" if "P" in blocks else blocks[0])].set_index("dimension")

    def metrics(self) -> ReliabilityMetrics:
        t, fit = self.table, self.fit
        return ReliabilityMetrics(
            respondents=self.respondents, careless_dropped=self.careless_dropped, block=self.block,
            alpha={f"{r.block}:{r.dimension}": r.alpha for r in t.itertuples()},
            omega={f"{r.block}:{r.dimension}": r.omega for r in t.itertuples()},
            difference_reliability=t.dropna(subset=["difference_reliability"]).set_index("dimension")[
                "difference_reliability"].to_dict(),
            weak_items=self.diagnostics.loc[self.diagnostics["flag"], "item"].tolist(),
            parallel_analysis_factors=self.efa.suggested_n_factors, cfa=fit.fit.to_dict(),
            cr=fit.validity["cr"].to_dict(), ave=fit.validity["ave"].to_dict(),
            max_htmt=float(fit.htmt.where(np.triu(np.ones(fit.htmt.shape, bool), 1)).max().max()),
            findings=list(self.conclusions),
            estimators={} if self.estimators is None else {
                r["estimator"]: {k: r[k] for k in ("n", "chisq", "df", "cfi", "tli", "rmsea", "srmr", "mean_loading")}
                for r in self.estimators.to_dict("records")},
            invariance_level=self.invariance.level if self.invariance is not None else "")

    def headline(self) -> list[dict]:
        pb = self._perception_rows()
        return [headline("Lowest α (perceptions)", float(pb["alpha"].min()), "{:.2f}"),
                headline("Dimensions with α ≥ .70", f"{int((pb['alpha'] >= 0.7).sum())} of {len(pb)}", "{}"),
                headline("CFA CFI", float(self.fit.fit["cfi"]), "{:.3f}"),
                headline("RMSEA", float(self.fit.fit["rmsea"]), "{:.3f}")]

    def tables(self) -> dict[str, pd.DataFrame]:
        extra = {}
        if self.estimators is not None:
            extra["cfa by estimator"] = self.estimators
        if self.invariance is not None:
            extra["invariance"] = self.invariance.table.reset_index()
        return extra | {"reliability": self.table, "item diagnostics": self.diagnostics, "cfa fit": self.fit.summary(),
                "cfa loadings": self.fit.loadings, "validity": self.fit.validity, "htmt": self.fit.htmt,
                "parallel analysis": self.efa.parallel}

    def sections(self) -> dict[str, list[Block]]:
        light = lambda v: plots.traffic_light(v, 0.80, 0.70)  # noqa: E731
        scope = f"{self.quarter or 'every respondent: the survey has no dates'}{', ' + self.segment if self.segment else ''}"
        head = [text(f"**{self.respondents:,} respondents** analysed ({scope}); {self.careless_dropped:,} careless "
                     "respondents left out.")]
        rel = [table(self.table, lambda s: s.format(precision=3, na_rep="–")
                     .map(light, subset=["alpha", "omega", "difference_reliability"]).hide(axis="index"))]
        if self.moments_rows is not None:
            rel.append(text(f"α, ω and the gap reliability computed by **{self.engine}** from moments of "
                            f"{self.moments_rows:,} rows."))
        diag = self.diagnostics
        flagged = diag[diag["flag"]]
        items = ([text("**Items that weaken their scale**"),
                  table(flagged[["dimension", "item", "text", "r_drop", "alpha_if_deleted", "dimension_alpha",
                                 "reason"]], lambda s: s.format(precision=3).hide(axis="index"))]
                 if len(flagged) else [text("No item weakens its scale.")])
        items.append(table(diag.drop(columns=["reason"]), lambda s: s.format(precision=3).hide(axis="index")))
        fit, ordered = self.fit, [i for v in self.dimensions.values() for i in v]
        return {
            "sample": head,
            "reliability": rel,
            "items": items,
            "correlations": [figure(lambda: plots.correlation_heatmap(
                self.correlations, dict(self.dimensions), title=f"Inter-item correlations ({self.block})"),
                "inter-item correlations")],
            "dimensionality": [
                figure(lambda: plots.scree(self.efa.parallel), "scree plot"),
                text(f"Parallel analysis retains **{self.efa.suggested_n_factors}** factor(s); the instrument has "
                     f"{len(self.dimensions)} dimensions."
                     + ("" if self.efa.converged else " The maximum-likelihood extraction did not converge on these "
                        "answers (too few respondents for the number of factors?): read the loadings with care.")),
                table(self.efa.loadings, lambda s: s.format(precision=2).background_gradient(
                    cmap="Blues", vmin=0, vmax=1))],
            "cfa": [
                table(fit.summary(), lambda s: s.format(precision=3, na_rep="")),
                table(fit.loadings.pivot(index="item", columns="factor", values="std_all").loc[ordered],
                      lambda s: s.format(precision=3, na_rep="").background_gradient(cmap="Blues", vmin=0, vmax=1)),
                text("**Factor correlations**"),
                table(fit.factor_corr, lambda s: s.format(precision=3))],
            "validity": [
                table(fit.validity, lambda s: s.format(precision=3)
                      .map(lambda v: plots.traffic_light(v, 0.80, 0.70), subset=["cr"])
                      .map(lambda v: plots.traffic_light(v, 0.60, 0.50), subset=["ave"])),
                text("**Fornell–Larcker** (√AVE on the diagonal should exceed the correlations beside it)"),
                table(fit.fornell_larcker, lambda s: s.format(precision=3)),
                text("**HTMT** (absolute item correlations, arithmetic means, as semTools' default; should stay "
                     "below .85)"),
                table(fit.htmt, lambda s: s.format(precision=3).map(
                    lambda v: plots.traffic_light(v, 0.85, 0.90, higher_is_better=False) if v < 0.999 else ""))],
            "estimators": ([table(self.estimators, lambda s: s.format(
                {"chisq": "{:.1f}", "cfi": "{:.3f}", "tli": "{:.3f}", "rmsea": "{:.3f}", "srmr": "{:.3f}",
                 "mean_loading": "{:.3f}", "n": "{:,}"}).hide(axis="index")), text(self.estimator_advice)]
                           if self.estimators is not None else [text(self.estimator_advice)]),
            "invariance": ([text(self.invariance.statement()),
                            table(self.invariance.table.drop(columns=["converged"]).reset_index(),
                                  lambda s: s.format(INVARIANCE_FORMAT, precision=3, na_rep="–").hide(axis="index"))]
                           if self.invariance is not None else [text(self.invariance_note)]),
            "conclusions": [text(bullets(self.conclusions))],
        }


def run_reliability(folder: DataFolder, *, quarter: str = "", block: str = "P", segment: str = "",
                    drop_careless: bool = True, n_boot: int = 0, engine: str = "pandas",
                    seed: int = 0, invariance_by: str = "auto") -> ReliabilityResult:
    """Reliability and validity of the survey's scales: the pipeline of notebook ``01_survey_reliability``.

    Parameters
    ----------
    folder : DataFolder
        From :func:`sqmlib.io.load_folder`; needs the survey.
    quarter : str
        Quarter to analyse ("" = the latest; a survey without quarters is analysed whole).
    block : {"P", "E", "gap"}
        Block for the item diagnostics, correlations, EFA and CFA.
    segment : str
        One segment only, ``"column=value"`` ("" = everyone).
    drop_careless : bool
        Leave out straight-liners and too-fast respondents (judged within the quarter and segment).
    n_boot : int
        Bootstrap resamples for α and ω intervals (0: Feldt intervals for α, none for ω).
    engine : {"pandas", "duckdb", "spark"}
        Where the reliability table is computed (the others need rows: pandas).
    seed : int
    invariance_by : str
        Column whose groups the measurement-invariance test compares ("auto" = the instrument's first
        segment column present in the survey; "" = no test).

    Returns
    -------
    ReliabilityResult

    Examples
    --------
    >>> from sqmlib import io, reliability
    >>> r = reliability.run_reliability(io.load_folder(), quarter="2026Q3")
    >>> r.findings()[:1]
    """
    check_engine(engine)
    if block not in ("P", "E", "gap"):
        raise SQMArgumentError(f"block must be P, E or gap, got {block!r}")
    if n_boot < 0:
        raise SQMArgumentError(f"n_boot must be 0 or more, got {n_boot}")
    folder.require("survey", purpose="the reliability analysis")
    inst = folder.instrument
    q = folder.quarter(quarter)
    survey = select_segment(folder.survey_of(q), segment)
    n_before = len(survey)
    if drop_careless:
        survey = survey[~careless(survey, inst)]
    blocks = [b for b in ("E", "P", "gap") if b != "gap" and b in inst.blocks
              or b == "gap" and inst.has_expectations and "P" in inst.blocks]
    moments_rows = None
    if engine == "pandas":
        rel = reliability_table(survey, inst, blocks=blocks, n_boot=n_boot, seed=seed)
    else:  # the same table from moments computed by the engine over the whole file (Feldt intervals only)
        scope = {"quarter": q} if q else {}
        scope.update(segment_filter(segment))
        mom = survey_moments(folder.files["survey"], inst, by=[], engine=engine, where=scope,
                             drop_careless=drop_careless)
        rel = reliability_table(mom, inst, blocks=blocks)
        moments_rows = int(mom.n_rows.sum())
    diag = item_diagnostics(survey, inst, block)
    dims = {d: list(v) for d, v in inst.dimensions.items()}
    ordered = [i for items in dims.values() for i in items]
    x = block_items(survey, inst, block)[ordered]
    efa_result = efa(x, rotation="oblimin", seed=seed)
    fit = cfa(x, dims)
    est_table, _, advice = estimator_comparison(x, dims, ordinal=block != "gap", ml=fit)
    found = conclusions(rel, diag, fit, block="P" if block == "gap" else block)
    found.append("Estimators: " + advice)
    by = invariance_column(survey, inst, invariance_by)
    inv, inv_note = None, ""
    if by and by in survey:
        try:
            inv = invariance(x.assign(**{by: survey[by].to_numpy()}), dims, by)
            found.append(inv.statement().replace("**", ""))
        except SQMDataError as e:
            inv_note = f"Measurement invariance across {by} not tested: {e}"
    else:
        inv_note = ("Measurement invariance not tested: no segment column"
                    + (f" {by!r} in the survey." if by else " chosen."))
    return ReliabilityResult(quarter=q, segment=segment, block=block, engine=engine, respondents=len(survey),
                             careless_dropped=n_before - len(survey), moments_rows=moments_rows, table=rel,
                             diagnostics=diag, correlations=x.corr(), dimensions=dims, efa=efa_result, fit=fit,
                             conclusions=tuple(found), estimators=est_table, estimator_advice=advice,
                             invariance=inv, invariance_note=inv_note)
