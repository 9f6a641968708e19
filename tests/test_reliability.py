"""Reliability and validity, checked against pingouin, closed forms and lavaan's published HS1939 results."""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from sqmlib import SQMDataError, factors, instruments, io, reliability as rl, synth

from conftest import ROOT

DATA = ROOT / "tests" / "data"
HS_MODEL = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}


@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(DATA / "hs1939_x1_x9.csv")


@pytest.fixture(scope="module")
def hs_cov():
    return pd.read_csv(DATA / "hs1939_cov.csv", comment="#", index_col=0)


def likert(n=400, k=6, seed=0, missing=0.0):
    rng = np.random.default_rng(seed)
    f = rng.standard_normal(n)
    x = np.clip(np.round(4 + 0.9 * f[:, None] * np.linspace(0.6, 1.2, k) + rng.standard_normal((n, k))), 1, 7)
    if missing:
        x[rng.random(x.shape) < missing] = np.nan
    return pd.DataFrame(x, columns=[f"i{j}" for j in range(1, k + 1)])


# ---- alpha --------------------------------------------------------------------------------------------------
def test_alpha_matches_pingouin(hs):
    a = rl.cronbach_alpha(hs)
    ref, ci = pg.cronbach_alpha(hs)
    assert a.alpha == pytest.approx(ref, abs=1e-12)
    assert a.ci == pytest.approx(tuple(ci), abs=1e-3)  # pingouin rounds its interval to 3 decimals
    assert a.n == 301 and a.k == 9


@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
def test_alpha_with_missing_matches_pingouin(missing):
    x = likert(missing=0.08, seed=3)
    a = rl.cronbach_alpha(x, missing=missing)
    ref, ci = pg.cronbach_alpha(x, nan_policy=missing)
    assert a.alpha == pytest.approx(ref, abs=1e-12)
    if missing == "listwise":
        n_complete = int(x.notna().all(axis=1).sum())
        assert a.n == n_complete < len(x)
        # pingouin computes Feldt's interval with every row, not the complete cases actually used;
        # ours uses n_complete, and with n = all rows it reproduces pingouin's (rounded) interval
        assert a.ci == pytest.approx(rl.feldt_ci(ref, n_complete, a.k), abs=1e-12)
        assert rl.feldt_ci(ref, len(x), a.k) == pytest.approx(tuple(ci), abs=1e-3)
        assert a.ci[1] - a.ci[0] > ci[1] - ci[0]


def test_pairwise_cov_equals_pandas():
    x = likert(missing=0.1, seed=4)
    C, N = rl.pairwise_cov(x.to_numpy())
    np.testing.assert_allclose(C, x.cov().to_numpy(), atol=1e-12)
    m = x.notna().astype(int)
    np.testing.assert_array_equal(N, (m.T @ m).to_numpy())


def test_alpha_family_closed_forms():
    """α, item statistics, standardised α, mean r and λ6 against a plain, per-item recomputation."""
    x = likert(k=7, seed=5)
    X = x.to_numpy()
    a = rl.cronbach_alpha(x)
    k = X.shape[1]

    def alpha_of(M):
        kk = M.shape[1]
        return kk / (kk - 1) * (1 - M.var(axis=0, ddof=1).sum() / M.sum(axis=1).var(ddof=1))

    assert a.alpha == pytest.approx(alpha_of(X), abs=1e-12)
    for j, name in enumerate(x.columns):
        rest = np.delete(X, j, axis=1)
        assert a.item_stats.loc[name, "alpha_if_deleted"] == pytest.approx(alpha_of(rest), abs=1e-12)
        assert a.item_stats.loc[name, "r_drop"] == pytest.approx(np.corrcoef(X[:, j], rest.sum(axis=1))[0, 1],
                                                                 abs=1e-12)
        assert a.item_stats.loc[name, "sd"] == pytest.approx(X[:, j].std(ddof=1), abs=1e-12)
    R = np.corrcoef(X.T)
    rbar = (R.sum() - k) / (k * (k - 1))
    assert a.average_r == pytest.approx(rbar, abs=1e-12)
    assert a.std_alpha == pytest.approx(k * rbar / (1 + (k - 1) * rbar), abs=1e-12)
    smc = np.array([1 - 1 / np.linalg.inv(R)[j, j] for j in range(k)])
    assert a.g6 == pytest.approx(1 - (k - smc.sum()) / R.sum(), abs=1e-12)


def test_feldt_interval_and_bootstrap():
    x = likert(seed=6)
    a = rl.cronbach_alpha(x, confidence=0.90)
    from scipy import stats

    df1, df2 = a.n - 1, (a.n - 1) * (a.k - 1)
    assert a.ci[0] == pytest.approx(1 - (1 - a.alpha) * stats.f.ppf(0.95, df1, df2), abs=1e-12)
    assert a.ci[1] == pytest.approx(1 - (1 - a.alpha) * stats.f.ppf(0.05, df1, df2), abs=1e-12)
    b1 = rl.cronbach_alpha(x, n_boot=300, seed=1)
    b2 = rl.cronbach_alpha(x, n_boot=300, seed=1)
    assert b1.ci == b2.ci and b1.ci[0] < b1.alpha < b1.ci[1]
    assert b1.ci_method == "bootstrap (300)"
    # the bootstrap and Feldt intervals agree roughly for well-behaved data
    assert abs((b1.ci[1] - b1.ci[0]) - (a.ci[1] - a.ci[0]) * 1.96 / 1.645) < 0.03


def test_reverse_keyed_items():
    x = likert(seed=7)
    flipped = x.copy()
    flipped["i2"] = 8 - flipped["i2"]
    a = rl.cronbach_alpha(flipped, reverse=["i2"], scale=(1, 7))
    assert a.alpha == pytest.approx(rl.cronbach_alpha(x).alpha, abs=1e-12)
    with pytest.raises(SQMDataError, match="need scale"):
        rl.cronbach_alpha(flipped, reverse=["i2"])
    with pytest.raises(SQMDataError, match="not among the items"):
        rl.cronbach_alpha(flipped, reverse=["zz"], scale=(1, 7))


def test_bad_inputs_are_clear():
    x = likert(seed=8)
    with pytest.raises(SQMDataError, match="at least two items"):
        rl.cronbach_alpha(x[["i1"]])
    const = x.assign(i3=4.0)
    with pytest.raises(SQMDataError, match=r"no variance\): \['i3'\]"):
        rl.cronbach_alpha(const)
    empty = x.assign(i4=np.nan)
    with pytest.raises(SQMDataError, match=r"no answers at all: \['i4'\]"):
        rl.cronbach_alpha(empty)
    wide = likert(n=5, k=8, seed=9)
    with pytest.warns(UserWarning, match="more items"):
        r = rl.cronbach_alpha(wide)
    assert np.isfinite(r.alpha)


def test_weak_items_flagged():
    x = likert(seed=10)
    x["noise"] = np.random.default_rng(0).integers(1, 8, len(x)).astype(float)
    a = rl.cronbach_alpha(x)
    assert "noise" in a.weak_items().index
    assert "Cronbach" in a._repr_html_()


# ---- KMO and Bartlett ---------------------------------------------------------------------------------------
def equicorrelated(p=6, r=0.4, n=500, seed=0):
    """Data whose sample correlation matrix is exactly equicorrelated (by whitening and recolouring)."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    Z -= Z.mean(axis=0)
    Z = Z @ np.linalg.inv(np.linalg.cholesky(np.cov(Z.T)).T)
    R = np.full((p, p), r) + (1 - r) * np.eye(p)
    return pd.DataFrame(Z @ np.linalg.cholesky(R).T, columns=[f"v{i}" for i in range(p)]), R


def test_kmo_closed_form():
    x, R = equicorrelated(p=6, r=0.4)
    p, r = 6, 0.4
    q = r / (1 + (p - 2) * r)  # partial correlation of two items given the rest
    res = rl.kmo(x)
    assert res.overall == pytest.approx(r ** 2 / (r ** 2 + q ** 2), abs=1e-10)
    np.testing.assert_allclose(res.per_item, r ** 2 / (r ** 2 + q ** 2), atol=1e-10)


def test_bartlett_closed_form():
    x, R = equicorrelated(p=5, r=0.3, n=250)
    p, r, n = 5, 0.3, 250
    logdet = (p - 1) * np.log(1 - r) + np.log(1 + (p - 1) * r)
    b = rl.bartlett_sphericity(x)
    assert b.chi2 == pytest.approx(-(n - 1 - (2 * p + 5) / 6) * logdet, abs=1e-8)
    assert b.df == 10 and b.n == 250


def test_kmo_on_hs(hs):
    # psych::KMO(HolzingerSwineford1939[, 7:15]) prints an overall MSA of 0.75 and these item MSAs
    k = rl.kmo(hs)
    assert k.overall == pytest.approx(0.75, abs=5e-3)
    printed = {"x1": 0.81, "x2": 0.78, "x3": 0.73, "x4": 0.76, "x5": 0.74, "x6": 0.81, "x7": 0.59, "x8": 0.68,
               "x9": 0.79}
    for item, v in printed.items():
        assert k.per_item[item] == pytest.approx(v, abs=5e-3), item


# ---- omega --------------------------------------------------------------------------------------------------
def data_with_cov(Sigma, n=1000, seed=0):
    """Data whose ML covariance (divisor n) equals Sigma exactly."""
    rng = np.random.default_rng(seed)
    p = Sigma.shape[0]
    Z = rng.standard_normal((n, p))
    Z -= Z.mean(axis=0)
    Z = Z @ np.linalg.inv(np.linalg.cholesky(Z.T @ Z / n).T)
    return pd.DataFrame(Z @ np.linalg.cholesky(Sigma).T + 3.0, columns=[f"v{i}" for i in range(p)])


def test_omega_one_factor_exact():
    lam = np.array([0.9, 0.7, 1.1, 0.5, 0.8])
    th = np.array([0.5, 0.8, 0.4, 0.9, 0.6])
    x = data_with_cov(np.outer(lam, lam) + np.diag(th))
    w = rl.omega(x)
    assert w.omega_total == pytest.approx(lam.sum() ** 2 / (lam.sum() ** 2 + th.sum()), abs=1e-6)
    np.testing.assert_allclose(w.loadings.to_numpy(), lam, atol=1e-5)


def test_omega_equals_alpha_when_tau_equivalent():
    lam = np.full(4, 0.8)
    x = data_with_cov(np.outer(lam, lam) + np.diag([0.3, 0.5, 0.7, 0.4]))
    # alpha uses the n − 1 covariance; the ratio is scale-free, so both see the same matrix shape
    assert rl.omega(x).omega_total == pytest.approx(rl.cronbach_alpha(x).alpha, abs=1e-6)


def test_omega_hierarchical_bifactor_exact():
    # three group factors: with only two, a bifactor model is not identified
    g = np.array([0.7, 0.6, 0.8, 0.5, 0.6, 0.7, 0.65, 0.55, 0.75])
    s = np.array([0.5, 0.4, 0.3, 0.6, 0.5, 0.4, 0.45, 0.35, 0.5])
    th = np.array([0.4, 0.5, 0.3, 0.45, 0.35, 0.5, 0.4, 0.45, 0.3])
    L = np.zeros((9, 4))
    L[:, 0] = g
    for j in range(3):
        L[3 * j:3 * j + 3, j + 1] = s[3 * j:3 * j + 3]
    Sigma = L @ L.T + np.diag(th)
    x = data_with_cov(Sigma, n=2000)
    groups = {"a": ["v0", "v1", "v2"], "b": ["v3", "v4", "v5"], "c": ["v6", "v7", "v8"]}
    w = rl.omega(x, groups=groups)
    assert w.omega_hierarchical == pytest.approx(g.sum() ** 2 / Sigma.sum(), abs=1e-4)
    common = g.sum() ** 2 + sum(s[3 * j:3 * j + 3].sum() ** 2 for j in range(3))
    assert w.omega_total_bifactor == pytest.approx(common / Sigma.sum(), abs=1e-4)
    # each group's own omega is the one-factor omega of its items
    assert w.omega_groups["a"] == pytest.approx(rl.omega(x[["v0", "v1", "v2"]]).omega_total, abs=1e-9)
    with pytest.raises(SQMDataError, match="at least two items"):
        rl.omega(x, groups={"a": ["v0"], "b": ["v3", "v4", "v5"]})


# ---- CFA ----------------------------------------------------------------------------------------------------
def test_cfa_matches_lavaan_holzinger_swineford(hs_cov):
    """lavaan's tutorial output for cfa(HS.model, data = HolzingerSwineford1939), to its 3 printed decimals."""
    r = rl.cfa(cov=hs_cov, n_obs=301, model=HS_MODEL)
    f = r.fit
    published = {"chisq": 85.306, "cfi": 0.931, "tli": 0.896, "rmsea": 0.092, "rmsea_ci_low": 0.071,
                 "rmsea_ci_high": 0.114, "srmr": 0.065}
    for k, v in published.items():
        assert f[k] == pytest.approx(v, abs=1e-3), k
    assert f["df"] == 24
    marker = r.loadings.set_index("item")["marker_scaled"]
    for item, v in {"x2": 0.554, "x3": 0.729, "x5": 1.113, "x6": 0.926, "x8": 1.180, "x9": 1.082}.items():
        assert marker[item] == pytest.approx(v, abs=1e-3), item
    std = r.loadings.set_index("item")["std_all"]
    for item, v in {"x1": 0.772, "x2": 0.424, "x3": 0.581, "x4": 0.852, "x5": 0.855, "x6": 0.838, "x7": 0.570,
                    "x8": 0.723, "x9": 0.665}.items():
        assert std[item] == pytest.approx(v, abs=1e-3), item
    assert r.factor_corr.loc["visual", "textual"] == pytest.approx(0.459, abs=1e-3)
    assert r.factor_corr.loc["visual", "speed"] == pytest.approx(0.471, abs=1e-3)
    assert r.factor_corr.loc["textual", "speed"] == pytest.approx(0.283, abs=1e-3)
    resid = r.loadings.set_index("item")["residual_variance"]
    for item, v in {"x1": 0.549, "x2": 1.134, "x3": 0.844, "x4": 0.371, "x5": 0.446, "x6": 0.356, "x7": 0.799,
                    "x8": 0.488, "x9": 0.566}.items():
        assert resid[item] == pytest.approx(v, abs=1e-3), item


def test_cfa_from_data_equals_from_cov(hs, hs_cov):
    a = rl.cfa(hs, HS_MODEL)
    b = rl.cfa(cov=hs_cov, n_obs=301, model=HS_MODEL)
    pd.testing.assert_series_equal(a.fit, b.fit, atol=1e-6)


def test_cfa_recovers_a_known_model_exactly():
    lam = np.array([0.8, 0.7, 0.9, 0.6, 0.75, 0.85])
    L = np.zeros((6, 2))
    L[:3, 0], L[3:, 1] = lam[:3], lam[3:]
    Phi = np.array([[1, 0.4], [0.4, 1]])
    th = 1 - lam ** 2
    x = data_with_cov(L @ Phi @ L.T + np.diag(th), n=500)
    r = rl.cfa(x, {"a": ["v0", "v1", "v2"], "b": ["v3", "v4", "v5"]})
    assert r.fit["chisq"] == pytest.approx(0, abs=1e-6)
    assert r.fit["cfi"] == pytest.approx(1) and r.fit["rmsea"] == pytest.approx(0, abs=1e-4)
    np.testing.assert_allclose(r.loadings["std_all"], lam, atol=1e-5)
    assert r.factor_corr.loc["a", "b"] == pytest.approx(0.4, abs=1e-5)
    cr_a = lam[:3].sum() ** 2 / (lam[:3].sum() ** 2 + th[:3].sum())
    assert r.validity.loc["a", "cr"] == pytest.approx(cr_a, abs=1e-5)
    assert r.validity.loc["b", "ave"] == pytest.approx(np.mean(lam[3:] ** 2), abs=1e-5)
    assert r.fornell_larcker.loc["a", "a"] == pytest.approx(np.sqrt(np.mean(lam[:3] ** 2)), abs=1e-5)
    assert r.validity["cr_ok"].all() and r.validity.loc["b", "ave_ok"] == (np.mean(lam[3:] ** 2) >= 0.5)
    # HTMT from the model-implied correlations: mean cross / sqrt(mean within a × mean within b)
    R = L @ Phi @ L.T + np.diag(th)
    within_a = np.mean([R[0, 1], R[0, 2], R[1, 2]])
    within_b = np.mean([R[3, 4], R[3, 5], R[4, 5]])
    assert r.htmt.loc["a", "b"] == pytest.approx(R[:3, 3:].mean() / np.sqrt(within_a * within_b), abs=1e-10)


def test_rmsea_interval_brackets_the_estimate():
    lo, hi = rl.rmsea_ci(85.306, 24, 301)
    assert lo == pytest.approx(0.071, abs=1e-3) and hi == pytest.approx(0.114, abs=1e-3)
    assert rl.rmsea_ci(10.0, 24, 301) == (0.0, pytest.approx(0.0, abs=1e-9)) or rl.rmsea_ci(10.0, 24, 301)[0] == 0


# ---- EFA ----------------------------------------------------------------------------------------------------
def test_efa_on_hs(hs):
    e = rl.efa(hs, seed=1)
    assert e.suggested_n_factors == 3 and e.n_factors == 3
    main = e.loadings.abs().idxmax(axis=1)
    groups = [set(main[list(v)]) for v in HS_MODEL.values()]
    assert all(len(g) == 1 for g in groups) and len(set.union(*groups)) == 3
    np.testing.assert_allclose(np.diag(e.factor_corr), 1.0, atol=1e-10)
    assert e.parallel["observed"].iloc[0] > e.parallel["random_quantile"].iloc[0]


# ---- the generator's structure recovered -------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_p():
    s = io.load_survey(ROOT / "data" / "sample" / "survey.csv")
    return s, instruments.load("servqual")


def test_five_factor_structure_recovered(sample_p):
    """The CFA on a quarter recovers what the planted structure implies: the same model fitted to the
    population covariance of the continuous responses (cross-loadings, answer style and paired residuals
    included, which the five-factor model leaves out, so it fits acceptably rather than perfectly)."""
    s, inst = sample_p
    x = rl.block_items(s[s["quarter"] == "2025Q4"], inst, "P")
    model = {d: list(v) for d, v in inst.dimensions.items()}
    r = rl.cfa(x, model)
    items = list(inst.items)
    pop = rl.cfa(cov=pd.DataFrame(synth.population_covariance(), index=items, columns=items), n_obs=int(r.fit["n"]),
                 model=model)
    assert 0.92 <= r.fit["cfi"] <= 0.96 and 0.04 <= r.fit["rmsea"] <= 0.07
    assert r.fit["cfi"] == pytest.approx(pop.fit["cfi"], abs=0.02) and r.fit["rmsea"] == pytest.approx(pop.fit["rmsea"], abs=0.01)
    # rounding to whole scale points attenuates the continuous loadings a little
    np.testing.assert_allclose(r.loadings["std_all"], pop.loadings["std_all"], atol=0.08)
    np.testing.assert_allclose(r.factor_corr, pop.factor_corr, atol=0.06)


def test_reliability_table(sample_p):
    s, inst = sample_p
    t = rl.reliability_table(s[s["quarter"] == "2026Q3"], inst)
    assert set(t["block"]) == {"E", "P", "gap"} and len(t) == 15
    assert t.loc[t["block"] == "P", "alpha_ok"].all()
    gap = t[t["block"] == "gap"].set_index("dimension")
    a = t.set_index(["block", "dimension"])["alpha"]
    q = s[s["quarter"] == "2026Q3"]
    for d in inst.dimensions:
        p_score = q[inst.item_columns("P", d)].mean(axis=1)
        e_score = q[inst.item_columns("E", d)].mean(axis=1)
        ok = p_score.notna() & e_score.notna()
        vp, ve = p_score[ok].var(), e_score[ok].var()
        c = np.cov(p_score[ok], e_score[ok])[0, 1]
        lord = (vp * a["P", d] + ve * a["E", d] - 2 * c) / (vp + ve - 2 * c)
        assert gap.loc[d, "difference_reliability"] == pytest.approx(lord, abs=1e-12)
    assert t["omega"].notna().all() and t["alpha_ci_low"].lt(t["alpha"]).all()


def test_reliability_table_bootstrap(sample_p):
    s, inst = sample_p
    q = s[s["quarter"] == "2026Q1"].head(400)
    t = rl.reliability_table(q, inst, blocks=("P",), n_boot=50, seed=3)
    assert (t["omega_ci_low"] < t["omega"]).all() and (t["omega"] < t["omega_ci_high"]).all()
    assert (t["alpha_ci_low"] < t["alpha"]).all()
    t0 = rl.reliability_table(q, inst, blocks=("P",))
    assert t0["omega_ci_low"].isna().all() and t0["omega_ci_high"].isna().all()


def test_difference_score_reliability_closed_form():
    # equal variances and reliabilities: (rho - r) / (1 - r)
    assert rl.difference_score_reliability(0.8, 0.8, 1.0, 1.0, 0.5) == pytest.approx((0.8 - 0.5) / (1 - 0.5))
    assert rl.difference_score_reliability(0.8, 0.8, 2.0, 2.0, 0.0) == pytest.approx(0.8)


# ---- checked against R on real surveys: the definitions psych, semTools and lmtest use --------------------------
def test_kmo_and_bartlett_use_pairwise_correlations():
    """psych's KMO and cortest.bartlett take cor(x, use = "pairwise"): each pair over its own complete rows."""
    tiny = pd.DataFrame({"a": [1, 2, 3, 4, 5, 2], "b": [2, 1, 4, 3, 5, np.nan], "c": [1, 3, 2, 5, 4, 4]})
    R = factors.items_corr(tiny)[0]
    assert R[0, 1] == pytest.approx(0.8, abs=1e-12)
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.normal(size=(344, 6)) + rng.normal(size=(344, 1)), columns=list("abcdef"))
    X = X.mask(rng.random(X.shape) < 0.08)
    Rp = X.corr().to_numpy()  # pandas: pairwise, as R
    inv = np.linalg.inv(Rp)
    Q = -inv / np.sqrt(np.outer(np.diag(inv), np.diag(inv)))
    off = ~np.eye(6, dtype=bool)
    kmo_ref = (Rp[off] ** 2).sum() / ((Rp[off] ** 2).sum() + (Q[off] ** 2).sum())
    assert rl.kmo(X).overall == pytest.approx(kmo_ref, abs=1e-12)
    n = factors.items_corr(X)[2]
    chi2_ref = -(n - 1 - (2 * 6 + 5) / 6) * np.linalg.slogdet(Rp)[1]
    assert rl.bartlett_sphericity(X).chi2 == pytest.approx(chi2_ref, rel=1e-12)


def test_htmt_absolute_and_htmt2():
    R = pd.DataFrame([[1, .6, -.3, .2], [.6, 1, .25, .35], [-.3, .25, 1, .5], [.2, .35, .5, 1]],
                     index=list("abcd"), columns=list("abcd"))
    model = {"F": ["a", "b"], "G": ["c", "d"]}
    hetero_abs = np.mean([.3, .2, .25, .35])
    assert rl.htmt(R, model).loc["F", "G"] == pytest.approx(hetero_abs / np.sqrt(.6 * .5), abs=1e-12)
    hetero_signed = np.mean([-.3, .2, .25, .35])
    assert rl.htmt(R, model, absolute=False).loc["F", "G"] == pytest.approx(hetero_signed / np.sqrt(.6 * .5))
    geo = np.exp(np.mean(np.log([.3, .2, .25, .35])))
    assert rl.htmt(R, model, kind="htmt2").loc["F", "G"] == pytest.approx(geo / np.sqrt(.6 * .5), abs=1e-12)


def test_composite_reliability_both_definitions():
    """In a population model fitted exactly, semTools' raw-unit CR with observed and implied variance agree,
    and equal the standardised Fornell–Larcker CR and the closed form when items have unit variance."""
    lam = {"F": [.8, .7, .6, .75], "G": [.65, .7, .8]}
    items = [f"{f}{k}" for f, ls in lam.items() for k in range(len(ls))]
    L = np.zeros((7, 2))
    L[:4, 0], L[4:, 1] = lam["F"], lam["G"]
    Phi = np.array([[1, .4], [.4, 1]])
    Sigma = L @ Phi @ L.T
    np.fill_diagonal(Sigma, 1.0)
    fit = rl.cfa(cov=pd.DataFrame(Sigma, index=items, columns=items), n_obs=500,
                 model={"F": items[:4], "G": items[4:]})
    v = fit.validity
    for f, ls in lam.items():
        ls = np.array(ls)
        closed = ls.sum() ** 2 / (ls.sum() ** 2 + (1 - ls ** 2).sum())
        for col in ("cr", "cr_raw_observed", "cr_raw_implied"):
            assert v.loc[f, col] == pytest.approx(closed, abs=1e-5), (f, col)
        assert v.loc[f, "ave_raw"] == pytest.approx((ls ** 2).mean(), abs=1e-5)
        assert v.loc[f, "ave"] == pytest.approx((ls ** 2).mean(), abs=1e-5)
    assert fit.improper == ()


def test_improper_solutions_are_reported():
    """Factor correlations that no positive-definite matrix can hold: lavaan warns; so does the CFA, and the
    conclusions say so."""
    L = np.zeros((9, 3))
    L[0:3, 0] = L[3:6, 1] = L[6:9, 2] = 0.7
    Phi = np.array([[1, .98, .98], [.98, 1, .5], [.98, .5, 1]])  # not positive definite
    Sigma = L @ Phi @ L.T
    np.fill_diagonal(Sigma, 1.0)
    assert np.linalg.eigvalsh(Phi).min() < 0 < np.linalg.eigvalsh(Sigma).min()
    items = [f"x{i}" for i in range(9)]
    with pytest.warns(rl.SQMWarning, match="not positive definite"):
        fit = rl.cfa(cov=pd.DataFrame(Sigma, index=items, columns=items), n_obs=400,
                     model={"A": items[:3], "B": items[3:6], "C": items[6:]})
    assert fit.converged and any("not positive definite" in n for n in fit.improper)
    table = pd.DataFrame({"block": ["P"], "dimension": ["A"], "alpha": [.8], "omega": [.8], "alpha_ok": [True],
                          "omega_ok": [True], "difference_reliability": [np.nan], "note": [""],
                          "alpha_ci_low": [.7], "alpha_ci_high": [.9], "items": [3], "n": [400]})
    assert any(f.startswith("Improper solution") for f in rl.conclusions(table, None, fit, block="P"))


def test_efa_seed_pins_the_result():
    rng = np.random.default_rng(9)
    X = pd.DataFrame(rng.normal(size=(300, 2)) @ rng.uniform(.4, .9, (2, 8)) + rng.normal(size=(300, 8)),
                     columns=[f"i{k}" for k in range(8)])
    runs = [rl.efa(X, n_factors=2, seed=3).loadings for _ in range(4)]
    for r in runs[1:]:
        pd.testing.assert_frame_equal(r, runs[0], check_exact=True)


def test_ols_hc3_p_values_use_the_t_distribution(attitude_like=None):
    from scipy import stats

    from sqmlib import drivers

    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 3))
    y = X @ [0.5, 0.2, 0.0] + rng.normal(size=30)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y)
    m = drivers.driver_model(df, "y", ["a", "b", "c"], dominance=False)
    c = m.coefficients
    t = c["coef"] / c["se"]
    np.testing.assert_allclose(c["p_value"], 2 * stats.t.sf(np.abs(t), 30 - 3 - 1), rtol=1e-10)


# ---- ordinal items ------------------------------------------------------------------------------------------------
def test_bivariate_normal_cdf_equals_scipy():
    from scipy import stats

    rng = np.random.default_rng(0)
    h, k, r = rng.normal(size=300), rng.normal(size=300), rng.uniform(-0.95, 0.95, 300)
    ref = np.array([stats.multivariate_normal(cov=[[1, ri], [ri, 1]]).cdf([hi, ki]) for hi, ki, ri in zip(h, k, r)])
    np.testing.assert_allclose(factors.bvn_cdf(h, k, r), ref, atol=1e-10)


def _population_table(rho, t1, t2, total):
    e1, e2 = np.r_[-8, t1, 8], np.r_[-8, t2, 8]
    F = lambda a, b: float(factors.bvn_cdf(np.array(a), np.array(b), rho))  # noqa: E731
    P = np.array([[F(e1[i + 1], e2[j + 1]) - F(e1[i], e2[j + 1]) - F(e1[i + 1], e2[j]) + F(e1[i], e2[j])
                   for j in range(len(e2) - 1)] for i in range(len(e1) - 1)])
    counts = np.round(P * total).astype(int)
    rows = [(i + 1, j + 1) for i in range(counts.shape[0]) for j in range(counts.shape[1]) for _ in range(counts[i, j])]
    return pd.DataFrame(rows, columns=["a", "b"], dtype=float)


@pytest.mark.parametrize("rho", [-0.6, 0.0, 0.5, 0.85])
def test_polychoric_recovers_a_discretised_bivariate_normal(rho):
    """The expected table of a discretised bivariate normal gives back its correlation (closed form)."""
    d = _population_table(rho, [-1.0, 0.0, 0.8], [-0.5, 0.5], 2_000_000)
    assert factors.polychoric(d).loc["a", "b"] == pytest.approx(rho, abs=2e-5)


def test_polychoric_equals_a_brute_force_maximum_likelihood():
    """Each pair's estimate maximises the two-step likelihood, found here by scipy on scipy's normal CDF."""
    from scipy import optimize, stats

    rng = np.random.default_rng(5)
    z = rng.multivariate_normal([0, 0, 0], [[1, .5, .3], [.5, 1, .4], [.3, .4, 1]], size=400)
    d = pd.DataFrame(np.digitize(z, [-0.8, 0.2, 1.1]) + 1.0, columns=list("xyz"))
    R = factors.polychoric(d)
    for a, b in (("x", "y"), ("x", "z"), ("y", "z")):
        ta = np.r_[-np.inf, stats.norm.ppf(d[a].value_counts(normalize=True).sort_index().cumsum().to_numpy()[:-1]), np.inf]
        tb = np.r_[-np.inf, stats.norm.ppf(d[b].value_counts(normalize=True).sort_index().cumsum().to_numpy()[:-1]), np.inf]
        table = pd.crosstab(d[a], d[b]).to_numpy()

        def nll(r):
            mvn = stats.multivariate_normal(cov=[[1, r], [r, 1]])
            F = lambda x, y: mvn.cdf([np.clip(x, -9, 9), np.clip(y, -9, 9)])  # noqa: E731
            total = 0.0
            for i in range(table.shape[0]):
                for j in range(table.shape[1]):
                    P = F(ta[i + 1], tb[j + 1]) - F(ta[i], tb[j + 1]) - F(ta[i + 1], tb[j]) + F(ta[i], tb[j])
                    total -= table[i, j] * np.log(max(P, 1e-300))
            return total

        ref = optimize.minimize_scalar(nll, bounds=(-0.99, 0.99), method="bounded", options={"xatol": 1e-9}).x
        assert R.loc[a, b] == pytest.approx(ref, abs=1e-5), (a, b)


def test_ordinal_alpha_and_omega():
    rng = np.random.default_rng(8)
    z = rng.normal(size=(3000, 1)) * 0.75 + rng.normal(size=(3000, 5)) * 0.66
    d = pd.DataFrame(np.digitize(z, [-1.0, -0.3, 0.4, 1.1]) + 1.0, columns=[f"i{k}" for k in range(5)])
    R = factors.polychoric(d).to_numpy()
    k = 5
    a = rl.cronbach_alpha(d, ordinal=True)
    assert a.alpha == pytest.approx(k / (k - 1) * (1 - k / R.sum()), abs=1e-12)  # psych: alpha(polychoric rho)
    assert a.alpha > rl.cronbach_alpha(d).alpha  # coarse categories attenuate the Pearson α
    w = rl.omega(d, ordinal=True)
    lam = w.loadings.to_numpy()
    assert w.omega_total == pytest.approx(lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam ** 2).sum()), abs=1e-6)
    # population: loadings 0.75 on latent normal items
    assert np.allclose(lam, 0.75, atol=0.04)


def test_weighted_alpha_and_omega_equal_replicated_rows():
    """Integer sampling weights give the α and ω of the data with each row repeated that many times (complete
    data: α and ω do not depend on the divisor); unit weights give the unweighted numbers, missing answers
    included; Feldt's interval uses Kish's effective n and the item means are DescrStatsW's."""
    from statsmodels.stats.weightstats import DescrStatsW

    x = likert(n=300, k=5, seed=3)
    w = np.random.default_rng(3).integers(1, 4, len(x)).astype(float)
    repeated = x.loc[x.index.repeat(w.astype(int))]
    a, ref = rl.cronbach_alpha(x, weights=w), rl.cronbach_alpha(repeated)
    assert a.alpha == pytest.approx(ref.alpha, abs=1e-12) and a.std_alpha == pytest.approx(ref.std_alpha, abs=1e-12)
    assert np.allclose(a.item_stats["r_drop"], ref.item_stats["r_drop"], atol=1e-12)
    assert np.allclose(a.item_stats["alpha_if_deleted"], ref.item_stats["alpha_if_deleted"], atol=1e-12)
    assert np.allclose(a.item_stats["mean"], DescrStatsW(x.to_numpy(float), weights=w).mean, atol=1e-12)
    n_eff = w.sum() ** 2 / (w * w).sum()
    assert a.n_eff == pytest.approx(n_eff) and a.ci == pytest.approx(rl.feldt_ci(a.alpha, n_eff, 5))
    assert rl.omega(x, weights=w).omega_total == pytest.approx(rl.omega(repeated).omega_total, abs=1e-6)
    holes = likert(n=300, k=5, seed=4, missing=0.08)
    one = rl.cronbach_alpha(holes, weights=np.ones(len(holes)))
    assert one.alpha == pytest.approx(rl.cronbach_alpha(holes).alpha, abs=1e-12)
    # a respondent without a weight is left out, as the KPI and gap tables do
    w_missing = np.r_[np.nan, np.ones(len(x) - 1)]
    assert rl.cronbach_alpha(x, weights=w_missing).alpha == pytest.approx(
        rl.cronbach_alpha(x.iloc[1:]).alpha, abs=1e-12)
    with pytest.raises(SQMDataError, match="negative"):
        rl.cronbach_alpha(x, weights=-w)
