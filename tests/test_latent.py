"""Multi-group and full-information ML factor models, measurement invariance and WLSMV.

References: lavaan's published results for the Holzinger–Swineford model by school (lavaan tutorial and semTools'
``measurementInvariance`` example), lavaan 0.6-17 output for FIML and WLSMV published by the lavaan–Mplus comparison
suite (see tests/data/README.md), and brute force with scipy.
"""
import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from sqmlib import factors, latent, ordinal
from sqmlib.errors import SQMArgumentError, SQMDataError
from sqmlib.invariance import invariance
from sqmlib.reliability import cfa

DATA = "tests/data/"
HS_MODEL = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}


@pytest.fixture(scope="module")
def hs():
    d = pd.read_csv(DATA + "hs1939_x1_x9.csv")
    d["school"] = ["Pasteur"] * 156 + ["Grant-White"] * 145
    return d


@pytest.fixture(scope="module")
def inv(hs):
    return invariance(hs, HS_MODEL, "school")


def test_invariance_levels_equal_lavaan(inv):
    t = inv.table
    # lavaan tutorial / semTools measurementInvariance(HS.model, group = "school")
    for level, chisq, df, aic, bic in [("configural", 115.851, 48, 7484.4, 7706.8), ("metric", 124.044, 54, 7480.6, 7680.8),
                                       ("scalar", 164.103, 60, 7508.6, 7686.6)]:
        assert t.loc[level, "chisq"] == pytest.approx(chisq, abs=5e-4)
        assert t.loc[level, "df"] == df
        assert t.loc[level, "aic"] == pytest.approx(aic, abs=0.05)
        assert t.loc[level, "bic"] == pytest.approx(bic, abs=0.05)
    assert t.loc["metric", "delta_chisq"] == pytest.approx(8.192, abs=5e-4)
    assert t.loc["metric", "delta_p"] == pytest.approx(0.2244, abs=5e-5)
    assert t.loc["scalar", "delta_chisq"] == pytest.approx(40.059, abs=5e-4)
    assert t.loc["scalar", "delta_p"] == pytest.approx(4.435e-07, rel=1e-3)
    # the configural model's fit measures (lavaan 0.6-17, lavaan-mplus HS_multi)
    c = t.loc["configural"]
    for key, value in {"cfi": 0.923, "tli": 0.885, "rmsea": 0.097, "srmr": 0.068}.items():
        assert c[key] == pytest.approx(value, abs=5e-4), key
    assert dict(inv.group_chisq.round(3)) == {"Grant-White": 51.542, "Pasteur": 64.309}
    assert inv.level == "metric" and not inv.means_comparable
    assert t["holds"].tolist() == [True, True, False, True]
    assert "metric" in inv.statement() and "care" in inv.statement()


def test_multigroup_fit_measures_and_loglik(hs):
    X = hs[[f"x{i}" for i in range(1, 10)]].to_numpy()
    g = (hs["school"] == "Grant-White").to_numpy().astype(int)
    mf = latent.fit_model(X, latent.pattern_from_model(HS_MODEL, list(hs.columns[:9])), g)
    m = mf.measures
    expected = {"chisq": 115.851, "baseline_chisq": 957.769, "loglik": -3682.198, "unrestricted_loglik": -3624.272,
                "aic": 7484.395, "bic": 7706.822, "rmsea_ci_low": 0.075, "rmsea_ci_high": 0.120, "srmr_nomean": 0.074}
    for key, value in expected.items():
        assert m[key] == pytest.approx(value, abs=5e-4), key
    # brute force: the log-likelihood at the estimates summed row by row with scipy
    ll = sum(stats.multivariate_normal(mf.fit.mu[k], mf.fit.Sigma[k]).logpdf(X[g == k]).sum() for k in (0, 1))
    assert m["loglik"] == pytest.approx(ll, abs=1e-8)
    # lavaan's group-1 (Pasteur) estimates
    assert mf.fit.Lambda[0][1, 0] == pytest.approx(0.394, abs=5e-4)
    assert mf.fit.Lambda[0][7, 2] == pytest.approx(1.125, abs=5e-4)
    assert mf.fit.Phi[0][1, 0] == pytest.approx(0.479, abs=5e-4)
    assert mf.fit.nu[1][0] == pytest.approx(4.930, abs=5e-4)


def test_strict_level_is_the_constrained_likelihood_maximum(hs):
    """Strict invariance checked by brute force: the likelihood (scipy, row by row) is not improved by a generic
    optimiser over the same constrained parameters, and the constraints hold."""
    X = hs[[f"x{i}" for i in range(1, 10)]].to_numpy()
    g = (hs["school"] == "Grant-White").to_numpy().astype(int)
    pattern = latent.pattern_from_model(HS_MODEL, list(hs.columns[:9]))
    mf = latent.fit_model(X, pattern, g, latent.EQUAL["strict"])
    f = mf.fit
    assert np.allclose(f.Lambda[0], f.Lambda[1]) and np.allclose(f.nu[0], f.nu[1])
    assert np.allclose(f.theta[0], f.theta[1])
    assert np.allclose(f.alpha[0], 0) and not np.allclose(f.alpha[1], 0)

    def m2ll(x):
        _, _, _, _, _, Sigma, mu = latent.implied(f.spec, x)
        try:
            return -2 * sum(stats.multivariate_normal(mu[k], Sigma[k]).logpdf(X[g == k]).sum() for k in (0, 1))
        except (ValueError, np.linalg.LinAlgError):
            return np.inf

    assert m2ll(f.x) == pytest.approx(f.minus2ll, abs=1e-7)
    with np.errstate(invalid="ignore"):
        better = optimize.minimize(m2ll, f.x, method="Powell", options={"xtol": 1e-8, "ftol": 1e-12, "maxfev": 20000})
    assert better.fun > f.minus2ll - 1e-5
    assert f.spec.n_free == 2 * 54 - 69  # 108 moments minus 69 df


def test_fiml_equals_lavaan_missing_ml():
    d = pd.read_csv(DATA + "hs1939_missing.csv")
    r = cfa(d, HS_MODEL, missing="fiml")
    f = r.fit
    # lavaan 0.6-17 cfa(..., missing = "ml") (lavaan-mplus HS_missing, 3 decimals)
    expected = {"chisq": 82.631, "df": 24, "baseline_chisq": 822.648, "baseline_df": 36, "cfi": 0.925, "tli": 0.888,
                "loglik": -3507.165, "unrestricted_loglik": -3465.850, "aic": 7074.330, "bic": 7185.544,
                "rmsea": 0.090, "rmsea_ci_low": 0.069, "rmsea_ci_high": 0.112, "srmr": 0.060, "srmr_nomean": 0.066}
    for key, value in expected.items():
        assert f[key] == pytest.approx(value, abs=5e-4), key
    assert f["chisq"] == pytest.approx(82.631, rel=1e-4)
    assert f["n"] == 301 and r.missing == "fiml"
    lam = r.loadings.set_index("item")["marker_scaled"]
    for item, value in {"x2": 0.566, "x3": 0.774, "x5": 1.087, "x6": 0.905, "x8": 1.210, "x9": 1.246}.items():
        assert lam[item] == pytest.approx(value, abs=5e-4)
    assert r.loadings.set_index("item").loc["x1", "residual_variance"] == pytest.approx(0.617, abs=5e-4)
    assert "loglik" in r.summary().index


def test_fiml_loglik_by_brute_force():
    """The FIML log-likelihood summed over rows with scipy's multivariate normal on each row's observed items,
    at the model and at the unrestricted estimates."""
    X = pd.read_csv(DATA + "hs1939_missing.csv").to_numpy()
    mf = latent.fit_model(X, latent.pattern_from_model(HS_MODEL, [f"x{i}" for i in range(1, 10)]))

    def ll(mu, Sigma):
        total = 0.0
        for row in X:
            o = ~np.isnan(row)
            total += stats.multivariate_normal(mu[o], Sigma[np.ix_(o, o)]).logpdf(row[o])
        return total

    assert ll(mf.fit.mu[0], mf.fit.Sigma[0]) == pytest.approx(mf.measures["loglik"], abs=1e-8)
    assert ll(mf.means[0], mf.S[0]) == pytest.approx(mf.measures["unrestricted_loglik"], abs=1e-8)
    # the gradient of the unrestricted likelihood vanishes (it is the maximum), checked numerically in μ
    eps = 1e-5
    for j in range(3):
        up, down = mf.means[0].copy(), mf.means[0].copy()
        up[j] += eps
        down[j] -= eps
        assert (ll(up, mf.S[0]) - ll(down, mf.S[0])) / (2 * eps) == pytest.approx(0, abs=1e-3)


def personality_survey(n=2800, seed=1):
    """A 25-item, 6-point survey shaped like psych's bfi: five factors of five items, reverse-keyed items that
    are often a factor's first (its marker), factors correlated with both signs, cross-loadings and a method
    factor (the model misfits, CFI about .79), about 0.5 % of answers missing at random and 30 respondents who
    answered only one to four items."""
    rng = np.random.default_rng(seed)
    facs = "ACENO"
    rev = {"A": [0], "C": [3, 4], "E": [0, 1], "N": [], "O": [1, 4]}
    C = np.array([[1, .3, .4, -.2, .2], [.3, 1, .3, -.25, .2], [.4, .3, 1, -.25, .3], [-.2, -.25, -.25, 1, -.1],
                  [.2, .2, .3, -.1, 1]])
    F, M = rng.multivariate_normal(np.zeros(5), C, n), rng.normal(size=(n, 5))
    cols, X = [], []
    for j, f in enumerate(facs):
        for i in range(5):
            lam = rng.uniform(0.4, 0.75) * (-1 if i in rev[f] else 1)
            y = (lam * F[:, j] + rng.uniform(-0.35, 0.35) * F[:, (j + 1 + i) % 5] + 0.3 * M[:, i]
                 + rng.normal(0, np.sqrt(1 - lam ** 2), n))
            X.append(np.clip(np.round(4.2 + 1.3 * y), 1, 6))
            cols.append(f"{f}{i + 1}")
    d = pd.DataFrame(np.array(X).T, columns=cols)
    d = d.mask(rng.random(d.shape) < 0.005)
    for r in rng.choice(n, 30, replace=False):
        keep = rng.choice(25, rng.integers(1, 5), replace=False)
        d.iloc[r, [c for c in range(25) if c not in keep]] = np.nan
    d["gender"] = rng.integers(1, 3, n)
    return d, {f: [f"{f}{i}" for i in range(1, 6)] for f in facs}


def test_fiml_on_a_large_survey_with_scattered_missing_answers():
    """25 items × 2,800 respondents: the FIML fit returns finite statistics, its log-likelihoods equal the
    row-wise likelihood computed with scipy, and the starting values are a proper model (positive-definite
    factor covariances although summed loadings of both signs nearly cancel)."""
    d, model = personality_survey()
    items = [i for its in model.values() for i in its]
    X = d[items].to_numpy(float)
    pattern = latent.pattern_from_model(model, items)
    blocks = latent.make_blocks(X)
    spec = latent.measurement_spec(pattern, 1)
    _, Phi, _, _, _, Sigma, _ = latent.implied(spec, latent.starting_values(spec, blocks, pattern))
    assert np.linalg.eigvalsh(Phi[0])[0] > 0 and np.linalg.eigvalsh(Sigma[0])[0] > 0
    r = cfa(d[items], model, missing="fiml")
    f = r.fit
    assert r.converged and np.isfinite(f[["chisq", "cfi", "tli", "rmsea", "rmsea_ci_low", "rmsea_ci_high"]].astype(float)).all()
    assert f["df"] == 265 and f["n"] == 2800 and 0.7 < f["cfi"] < 0.85
    mf = latent.fit_model(X, pattern)

    rows = X[~np.isnan(X).all(axis=1)]
    patterns = pd.DataFrame(np.isnan(rows)).groupby(list(range(rows.shape[1]))).indices

    def ll(mu, Sig):  # scipy's multivariate normal on each row's observed items, rows of a pattern together
        total = 0.0
        for k in patterns.values():
            o = ~np.isnan(rows[k[0]])
            total += np.sum(stats.multivariate_normal(mu[o], Sig[np.ix_(o, o)]).logpdf(rows[np.ix_(k, o)]))
        return total

    assert ll(mf.fit.mu[0], mf.fit.Sigma[0]) == pytest.approx(mf.measures["loglik"], abs=1e-6)
    assert ll(mf.means[0], mf.S[0]) == pytest.approx(mf.measures["unrestricted_loglik"], abs=1e-6)
    assert f["chisq"] == pytest.approx(2 * (mf.measures["unrestricted_loglik"] - mf.measures["loglik"]), rel=1e-12)
    # invariance by gender on the complete cases (about 2,440 respondents, 25 items): every level fitted
    t = invariance(d.dropna(subset=items), model, "gender").table
    assert t["converged"].all() and np.isfinite(t["chisq"]).all() and list(t["df"]) == [530, 550, 570, 595]


def test_no_endless_search_without_a_finite_chisq():
    """A χ² that is not finite has no RMSEA interval and no fit measures: they are missing, at once."""
    assert all(np.isnan(latent.rmsea_ci(np.inf, 10, 500)))
    assert all(np.isnan(latent.rmsea_ci(np.nan, 10, 500)))
    m = latent.fit_measures(np.inf, 10, 900.0, 15, 500, 1)
    assert np.isnan([m["cfi"], m["tli"], m["rmsea"], m["rmsea_ci_low"], m["rmsea_ci_high"], m["p_value"]]).all()
    lo, hi = latent.rmsea_ci(5e4, 10, 500)  # large: found by doubling, within its bound
    assert np.isfinite(lo) and hi > lo
    latent.rmsea_ci(1e12, 10, 500)  # beyond what the non-central χ² evaluates: returns (missing), no loop


def test_wlsmv_orients_each_factor_by_its_first_item():
    """As lavaan (whose marker is each factor's first item), a factor whose first item is reverse-keyed keeps
    that item's loading positive and the others negative."""
    d, model = personality_survey(n=1200, seed=2)
    items = [i for its in model.values() for i in its]
    r = cfa(d[items].dropna(), model, estimator="WLSMV")
    lam = r.loadings.set_index("item")["std_all"]
    for fct, its in model.items():
        assert lam[its[0]] > 0, fct
    assert (lam[["E3", "E4", "E5", "A2", "A3"]] < 0).all()  # E1/E2 and A1 are the reverse-keyed ones
    assert lam["E2"] > 0


def test_fiml_without_missing_answers_is_ml(hs):
    items = hs[[f"x{i}" for i in range(1, 10)]]
    ml, fiml = cfa(items, HS_MODEL), cfa(items, HS_MODEL, missing="fiml")
    assert fiml.fit["chisq"] == pytest.approx(ml.fit["chisq"], rel=1e-7)  # 85.306, lavaan's classic result
    assert fiml.fit["chisq"] == pytest.approx(85.306, abs=5e-4)
    assert fiml.fit["cfi"] == pytest.approx(ml.fit["cfi"], abs=1e-8)
    assert np.allclose(fiml.loadings["std_all"], ml.loadings["std_all"], atol=1e-5)


def test_wlsmv_equals_lavaan():
    d = pd.read_csv(DATA + "mplus_ex5_2.csv")
    r = cfa(d, {"f1": ["u1", "u2", "u3"], "f2": ["u4", "u5", "u6"]}, estimator="WLSMV")
    f = r.fit
    # lavaan 0.6-17 sem(..., ordered = TRUE, estimator = "WLSMV") (lavaan-mplus Categorical/ex5.2, 3 decimals)
    expected = {"chisq": 2.454, "df": 8, "p_value": 0.964, "chisq_scaled": 5.474, "p_value_scaled": 0.706,
                "scaling_factor": 0.629, "baseline_chisq": 4319.297, "baseline_chisq_scaled": 2803.017,
                "cfi": 1.000, "tli": 1.002, "cfi_scaled": 1.000, "tli_scaled": 1.002, "rmsea_scaled": 0.0,
                "rmsea_ci_high_scaled": 0.040, "srmr": 0.024}
    for key, value in expected.items():
        assert f[key] == pytest.approx(value, abs=5e-4), key
    lo = r.loadings.set_index("item")
    assert lo["std_all"].round(3).tolist() == [0.895, 0.955, 0.895, 0.858, 0.952, 0.884]
    assert lo["marker_scaled"].round(3).tolist() == [1.0, 1.067, 1.001, 1.0, 1.109, 1.030]
    assert r.factor_corr.loc["f1", "f2"] == pytest.approx(-0.027, abs=5e-4)
    assert r.thresholds["estimate"].round(3).tolist() == [0.010, 0.015, -0.010, 0.060, 0.020, 0.025]
    assert r.summary().index[0] == "chisq_scaled" and r.estimator == "WLSMV"


def _brute_acov(X):
    """Muthén's sandwich with every score and cross-derivative by central differences of the log-probabilities."""
    n, p = X.shape
    cats = [np.unique(X[:, j]) for j in range(p)]
    codes = np.column_stack([np.searchsorted(cats[j], X[:, j]) for j in range(p)])
    taus = [stats.norm.ppf(np.cumsum([(X[:, j] == c).mean() for c in cats[j]])[:-1]) for j in range(p)]
    pc = factors.polychoric(pd.DataFrame(X)).to_numpy()
    pairs = [(a, b) for a in range(p) for b in range(a + 1, p)]
    nt = [len(t) for t in taus]
    start = np.concatenate([[0], np.cumsum(nt)])
    T = start[-1]

    def edges(t):
        return np.concatenate([[-np.inf], t, [np.inf]])

    def uni(j, t):
        e = edges(t)
        return np.log(stats.norm.cdf(e[codes[:, j] + 1]) - stats.norm.cdf(e[codes[:, j]]))

    def F(h, k, r):
        h, k = np.clip(h, -8, 8), np.clip(k, -8, 8)
        return ordinal.bvn_cdf(h, k, r)

    def pair(a, b, ta, tb, r):
        ea, eb = edges(ta), edges(tb)
        ca, cb = codes[:, a], codes[:, b]
        P = F(ea[ca + 1], eb[cb + 1], r) - F(ea[ca], eb[cb + 1], r) - F(ea[ca + 1], eb[cb], r) + F(ea[ca], eb[cb], r)
        return np.log(P)

    h = 1e-6
    sc = np.zeros((n, T + len(pairs)))
    for j in range(p):
        for t in range(nt[j]):
            up, dn = taus[j].copy(), taus[j].copy()
            up[t] += h
            dn[t] -= h
            sc[:, start[j] + t] = (uni(j, up) - uni(j, dn)) / (2 * h)
    A21 = np.zeros((len(pairs), T))
    for q, (a, b) in enumerate(pairs):
        r = pc[a, b]
        s_rho = (pair(a, b, taus[a], taus[b], r + h) - pair(a, b, taus[a], taus[b], r - h)) / (2 * h)
        sc[:, T + q] = s_rho
        for item, other in ((a, b), (b, a)):
            for t in range(nt[item]):
                up, dn = taus[item].copy(), taus[item].copy()
                up[t] += h
                dn[t] -= h
                if item == a:
                    d = (pair(a, b, up, taus[b], r) - pair(a, b, dn, taus[b], r)) / (2 * h)
                else:
                    d = (pair(a, b, taus[a], up, r) - pair(a, b, taus[a], dn, r)) / (2 * h)
                A21[q, start[item] + t] = (s_rho * d).sum()
    inner = sc.T @ sc
    A11 = np.zeros((T, T))
    for j in range(p):
        s = slice(start[j], start[j + 1])
        A11[s, s] = inner[s, s]
    A22 = np.diag(np.diag(inner)[T:])
    B = np.block([[A11, np.zeros((T, len(pairs)))], [A21, A22]])
    Binv = np.linalg.inv(B)
    return Binv @ inner @ Binv.T


def test_polychoric_acov_against_numerical_derivatives():
    rng = np.random.default_rng(3)
    Z = rng.multivariate_normal(np.zeros(3), [[1, .5, .3], [.5, 1, .4], [.3, .4, 1]], 400)
    X = np.column_stack([np.digitize(Z[:, 0], [-1, 0, 0.8]), np.digitize(Z[:, 1], [-0.5, 0.5]),
                         np.digitize(Z[:, 2], [-1.2, -0.2, 0.6, 1.3])]).astype(float) + 1
    pc = ordinal.polychoric_fit(X, ["a", "b", "c"])
    assert np.allclose(ordinal.acov(pc), _brute_acov(X), rtol=1e-5, atol=1e-9)


def test_wlsmv_recovers_a_population_model():
    """Large sample from a known two-factor model on 5-point items: loadings and the factor correlation come
    back, the scaled test does not reject, and the scaled indices say the model fits."""
    rng = np.random.default_rng(11)
    lam = np.array([0.8, 0.7, 0.6, 0.75, 0.65, 0.7])
    F = rng.multivariate_normal([0, 0], [[1, 0.4], [0.4, 1]], 20000)
    Z = np.column_stack([F[:, 0]] * 3 + [F[:, 1]] * 3) * lam + rng.normal(size=(20000, 6)) * np.sqrt(1 - lam ** 2)
    X = np.digitize(Z, [-1.5, -0.5, 0.4, 1.2]).astype(float) + 1
    d = pd.DataFrame(X, columns=[f"i{j}" for j in range(6)])
    r = cfa(d, {"a": ["i0", "i1", "i2"], "b": ["i3", "i4", "i5"]}, estimator="WLSMV")
    assert np.allclose(r.loadings["std_all"], lam, atol=0.02)
    assert r.factor_corr.loc["a", "b"] == pytest.approx(0.4, abs=0.03)
    assert r.fit["p_value_scaled"] > 0.001 and r.fit["cfi_scaled"] > 0.99
    th = r.thresholds[r.thresholds["item"] == "i0"]["estimate"].to_numpy()
    assert np.allclose(th, [-1.5, -0.5, 0.4, 1.2], atol=0.05)


def test_invariance_input_errors(hs):
    with pytest.raises(SQMDataError, match="two or more"):
        invariance(hs.assign(school="one"), HS_MODEL, "school")
    with pytest.raises(SQMDataError, match="columns not in the data"):
        invariance(hs, HS_MODEL, "region")
    with pytest.raises(SQMArgumentError):
        invariance(hs, HS_MODEL, "school", levels=["metric"])
    flat = hs.copy()
    flat.loc[flat["school"] == "Pasteur", "x1"] = 3.0
    with pytest.raises(SQMDataError, match="no variance within group Pasteur: x1"):
        invariance(flat, HS_MODEL, "school")
    small = hs.copy()
    small.loc[:5, "school"] = "Tiny"
    r = invariance(small, HS_MODEL, "school", levels=["configural", "metric"])
    assert r.dropped == ("Tiny",) and list(r.table.index) == ["configural", "metric"]


def test_cfa_argument_errors(hs):
    items = hs[[f"x{i}" for i in range(1, 10)]]
    with pytest.raises(SQMArgumentError):
        cfa(items, HS_MODEL, estimator="ULS")
    with pytest.raises(SQMArgumentError):
        cfa(items, HS_MODEL, missing="pairwise")
    with pytest.raises(SQMArgumentError):
        cfa(items, HS_MODEL, estimator="WLSMV", missing="fiml")


def test_omega_by_fiml():
    from sqmlib.reliability import omega
    d = pd.read_csv(DATA + "hs1939_missing.csv")[["x4", "x5", "x6"]]
    full = pd.read_csv(DATA + "hs1939_x1_x9.csv")[["x4", "x5", "x6"]]
    o = omega(d, missing="fiml")
    # brute force: the one-factor FIML model maximises the row-wise likelihood; ω from its parameters
    X = d.to_numpy()
    patterns = {}
    for row in X[~np.isnan(X).all(axis=1)]:
        patterns.setdefault(tuple(~np.isnan(row)), []).append(row[~np.isnan(row)])

    def m2ll(x):
        lam, th, mu = x[:3], x[3:6], x[6:]
        Sigma = np.outer(lam, lam) + np.diag(th)
        total = 0.0
        for key, rows in patterns.items():
            ok = np.array(key)
            total += stats.multivariate_normal(mu[ok], Sigma[np.ix_(ok, ok)]).logpdf(np.array(rows)).sum()
        return -2 * total

    res = optimize.minimize(m2ll, np.r_[0.9, 0.9, 0.9, 0.5, 0.5, 0.5, np.nanmean(X, axis=0)], method="Nelder-Mead",
                            options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 40000, "maxfev": 40000})
    lam, th = np.abs(res.x[:3]), res.x[3:6]
    assert o.omega_total == pytest.approx(lam.sum() ** 2 / (lam.sum() ** 2 + th.sum()), abs=1e-5)
    assert o.n == (~np.isnan(X)).any(axis=1).sum()
    assert omega(full, missing="fiml").omega_total == pytest.approx(omega(full).omega_total, abs=1e-6)


def test_gap_report_says_when_segment_means_are_not_comparable():
    """Items that work differently in one region (an intercept shift on two perception items, i.e. differential
    item functioning): scalar invariance fails for perceptions, and the gap pipeline says the region means are
    not strictly comparable; on the bundled data they are."""
    from sqmlib import gaps, io
    folder = io.load_folder()  # on it the regions are scalar invariant (tests/data/expected_metrics: strict)
    s = folder.survey.copy()
    south = (s["region"] == "South") & (s["quarter"] == "2026Q3")
    for col in ("P01", "P06"):
        s.loc[south, col] = np.clip(s.loc[south, col] + 1.5, 1, 7)
    r = gaps.run_gaps(folder.with_survey(s), quarter="2026Q3")
    inv = r.segment_invariance
    assert inv.blocks["P"].level in ("configural", "metric") and not inv.means_comparable
    assert inv.blocks["E"].means_comparable  # expectations were left alone
    assert any("not strictly comparable across region" in f for f in r.findings())
    assert r.metrics().segment_invariance == inv.level
    assert "segment invariance" in r.tables()
