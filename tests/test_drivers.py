"""Driver analysis against independent computations on R's swiss, attitude and mtcars data."""
import itertools
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.outliers_influence import variance_inflation_factor

from sqmlib import SQMArgumentError, SQMDataError, SQMWarning, audit, drivers as dr, gaps, instruments, io, synth

from conftest import ROOT

DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def swiss():
    return pd.read_csv(DATA / "swiss.csv", index_col=0)


@pytest.fixture(scope="module")
def attitude():
    return pd.read_csv(DATA / "attitude.csv", index_col=0)


@pytest.fixture(scope="module")
def mtcars():
    return pd.read_csv(DATA / "mtcars.csv", index_col=0)


def ols_r2(df, y, cols):
    if not cols:
        return 0.0
    return sm.OLS(df[y], sm.add_constant(df[list(cols)])).fit().rsquared


def brute_shapley(df, y, xs):
    """LMG by refitting every subset with statsmodels and the Shapley formula (independent of sqmlib)."""
    p = len(xs)
    r2 = {frozenset(s): ols_r2(df, y, s) for k in range(p + 1) for s in itertools.combinations(xs, k)}
    out = {}
    for x in xs:
        others = [o for o in xs if o != x]
        total = 0.0
        for k in range(p):
            w = math.factorial(k) * math.factorial(p - k - 1) / math.factorial(p)
            for s in itertools.combinations(others, k):
                total += w * (r2[frozenset(s) | {x}] - r2[frozenset(s)])
        out[x] = total
    return pd.Series(out), r2


def johnson_weights(df, y, xs):
    """Johnson's (2000) relative weights from the SVD of the standardised data (independent of sqmlib)."""
    n = len(df)
    Zs = ((df[xs] - df[xs].mean()) / df[xs].std(ddof=1)).to_numpy() / np.sqrt(n - 1)  # Zs'Zs = R
    zy = ((df[y] - df[y].mean()) / df[y].std(ddof=1)).to_numpy() / np.sqrt(n - 1)
    P, d, Qt = np.linalg.svd(Zs, full_matrices=False)
    W = P @ Qt  # the orthonormal variables closest to the drivers
    lam = Qt.T @ np.diag(d) @ Qt  # regression of the drivers on W
    beta = W.T @ zy  # regression of the outcome on W
    return pd.Series((lam ** 2) @ (beta ** 2), index=xs)


@pytest.mark.parametrize("name,outcome", [("swiss", "Fertility"), ("attitude", "rating"), ("mtcars", "mpg")])
def test_all_metrics_match_independent_computation(name, outcome, request):
    df = request.getfixturevalue(name)
    xs = [c for c in df.columns if c != outcome]
    res = dr.relative_importance(df, outcome, xs)
    ri = res.table
    lmg, r2 = brute_shapley(df, outcome, xs)
    full = r2[frozenset(xs)]
    assert res.r2 == pytest.approx(full, abs=1e-10)
    np.testing.assert_allclose(ri["lmg"], lmg[xs], atol=1e-8)
    assert ri["lmg"].sum() == pytest.approx(full, abs=1e-10)
    np.testing.assert_allclose(ri["first"], [df[x].corr(df[outcome]) ** 2 for x in xs], atol=1e-10)
    np.testing.assert_allclose(ri["last"], [full - r2[frozenset(xs) - {x}] for x in xs], atol=1e-8)
    fit = sm.OLS(df[outcome], sm.add_constant(df[xs])).fit()
    beta = fit.params[xs] * df[xs].std() / df[outcome].std()
    np.testing.assert_allclose(ri["betasq"], beta ** 2, atol=1e-10)
    np.testing.assert_allclose(ri["pratt"], beta * [df[x].corr(df[outcome]) for x in xs], atol=1e-10)
    np.testing.assert_allclose(ri["relative_weights"], johnson_weights(df, outcome, xs), atol=1e-8)
    assert ri["relative_weights"].sum() == pytest.approx(full, abs=1e-10)


def test_groups_and_weights(attitude):
    xs = [c for c in attitude.columns if c != "rating"]
    groups = {"a": ["complaints", "privileges"], "b": ["learning", "raises"], "c": ["critical", "advance"]}
    gi = dr.relative_importance(attitude, "rating", xs, groups=groups)
    g = gi.table
    # brute force over groups: Shapley with players = groups
    r2 = {s: ols_r2(attitude, "rating", [x for k in s for x in groups[k]])
          for n in range(4) for s in map(frozenset, itertools.combinations(groups, n))}
    for k in groups:
        others = [o for o in groups if o != k]
        val = sum(math.factorial(len(s)) * math.factorial(2 - len(s)) / 6 * (r2[frozenset(s) | {k}] - r2[frozenset(s)])
                  for n in range(3) for s in itertools.combinations(others, n))
        assert g.loc[k, "lmg"] == pytest.approx(val, abs=1e-10)
    assert g["lmg"].sum() == pytest.approx(gi.r2)
    # integer case weights equal duplicated rows
    w = np.tile([1, 2, 3], 10)
    rep = attitude.loc[attitude.index.repeat(w)]
    a = dr.relative_importance(attitude.assign(w=w), "rating", xs, weights="w").table
    b = dr.relative_importance(rep, "rating", xs).table
    pd.testing.assert_frame_equal(a, b, atol=1e-10)


def test_bootstrap_is_seeded_and_brackets(swiss):
    xs = [c for c in swiss.columns if c != "Fertility"]
    a = dr.relative_importance(swiss, "Fertility", xs, methods=("lmg", "first"), n_boot=100, seed=4).table
    b = dr.relative_importance(swiss, "Fertility", xs, methods=("lmg", "first"), n_boot=100, seed=4).table
    pd.testing.assert_frame_equal(a, b)
    assert ((a["lmg_ci_low"] <= a["lmg"]) & (a["lmg"] <= a["lmg_ci_high"])).all()
    assert a.loc["Education", "rank"] == 1 and a["rank_ci_low"].min() >= 1 and a["rank_ci_high"].max() <= 5


def test_bad_inputs(swiss):
    xs = [c for c in swiss.columns if c != "Fertility"]
    with pytest.raises(SQMDataError, match="collinear.*Agriculture"):
        dr.relative_importance(swiss.assign(Agri2=2 * swiss["Agriculture"] + 1), "Fertility", xs + ["Agri2"])
    with pytest.raises(SQMDataError, match="without variance"):
        dr.relative_importance(swiss.assign(k=1.0), "Fertility", xs + ["k"])
    with pytest.raises(SQMDataError, match="complete rows"):
        dr.relative_importance(swiss.head(5), "Fertility", xs)
    with pytest.raises(SQMArgumentError, match="also listed as a driver"):
        dr.relative_importance(swiss, "Fertility", xs + ["Fertility"])
    holes = swiss.copy()
    holes.iloc[:3, 1] = np.nan
    with pytest.warns(SQMWarning, match="3 of 47 rows"):
        r = dr.relative_importance(holes, "Fertility", xs)
    assert r.n == 44


def test_dominance(attitude):
    xs = [c for c in attitude.columns if c != "rating"]
    d = dr.dominance_analysis(attitude, "rating", xs)
    ri = dr.relative_importance(attitude, "rating", xs).table
    np.testing.assert_allclose(d.general, ri["lmg"], atol=1e-12)
    np.testing.assert_allclose(d.conditional["k=0"], ri["first"], atol=1e-12)
    np.testing.assert_allclose(d.conditional[f"k={len(xs) - 1}"], ri["last"], atol=1e-10)
    _, r2 = brute_shapley(attitude, "rating", xs)
    for a in xs:
        for b in xs:
            if a == b:
                continue
            others = [o for o in xs if o not in (a, b)]
            complete = all(r2[frozenset(s) | {a}] > r2[frozenset(s) | {b}]
                           for n in range(len(others) + 1) for s in itertools.combinations(others, n))
            assert (d.complete.loc[a, b] == "complete") == complete, (a, b)


def test_driver_model_ols(attitude):
    xs = [c for c in attitude.columns if c != "rating"]
    m = dr.driver_model(attitude, "rating", xs)
    ref = sm.OLS(attitude["rating"], sm.add_constant(attitude[xs])).fit(cov_type="HC3")
    np.testing.assert_allclose(m.coefficients["coef"], ref.params[xs], rtol=1e-10)
    np.testing.assert_allclose(m.coefficients["se"], ref.bse[xs], rtol=1e-10)
    X = sm.add_constant(attitude[xs]).to_numpy()
    np.testing.assert_allclose(m.coefficients["vif"], [variance_inflation_factor(X, i) for i in range(1, X.shape[1])],
                               rtol=1e-8)
    assert m.fit["r2"] == pytest.approx(ref.rsquared)
    np.testing.assert_allclose(m.dominance, dr.relative_importance(attitude, "rating", xs).table["lmg"], atol=1e-12)
    # 'critical' and 'advance' have negative coefficients despite positive correlations: suppressors
    assert m.coefficients.loc["advance", "suppressor"]


def test_logit_dominance_on_pseudo_r2():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((800, 3))
    y = (rng.random(800) < 1 / (1 + np.exp(-(0.2 + X @ [1.2, 0.6, 0.0])))).astype(float)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y)
    m = dr.driver_model(df, "y", ["a", "b", "c"], kind="logit")
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
    assert m.fit["pseudo_r2"] == pytest.approx(ref.prsquared, rel=1e-8)
    assert m.dominance.sum() == pytest.approx(ref.prsquared, rel=1e-8)
    assert m.dominance.idxmax() == "a" and m.dominance["c"] < 0.01


def test_penalty_reward_classes():
    rng = np.random.default_rng(6)
    n = 3000
    basic = rng.integers(1, 8, n)
    excite = rng.integers(1, 8, n)
    perf = rng.integers(1, 8, n)
    y = (-1.5 * (basic <= 3) + 1.5 * (excite >= 6) - 0.8 * (perf <= 3) + 0.8 * (perf >= 6)
         + rng.normal(0, 1, n))
    df = pd.DataFrame({"basic": basic, "excite": excite, "perf": perf, "y": y})
    t = dr.penalty_reward(df, "y", ["basic", "excite", "perf"])
    assert list(t["kano"]) == ["basic", "excitement", "performance"]
    assert t.loc["basic", "penalty"] == pytest.approx(-1.5, abs=0.15)
    assert (t[["n_low", "n_mid", "n_high"]].sum(axis=1) == n).all()


def test_generator_satisfaction_weights_recovered():
    """Dimension shares of R² rank the dimensions as the generator's true weights do."""
    s = io.load_survey(ROOT / "data" / "sample" / "survey.csv")
    inst = instruments.load("servqual")
    s = s[~audit.careless(s, inst)]
    dims = gaps.dimension_scores(s, inst, "P").assign(overall_sat=s["overall_sat"]).dropna()
    ri = dr.relative_importance(dims, "overall_sat", list(inst.dimensions), methods=("lmg", "betasq")).table
    truth = pd.Series(synth.SAT_WEIGHTS)
    assert ri["lmg"].idxmax() == truth.idxmax() == "reliability"
    from scipy import stats

    assert stats.spearmanr(ri["betasq"], truth[ri.index] ** 2).statistic > 0.8


def test_importance_by_segment(attitude):
    xs = ["complaints", "learning", "raises"]
    df = attitude.assign(seg=np.where(np.arange(len(attitude)) % 2 == 0, "a", "b"))
    table, diffs = dr.importance_by_segment(df, "rating", xs, "seg", n_boot=50)
    assert list(table.columns) == ["a", "b"] and table.loc[xs].sum().round(8).tolist() == [100.0, 100.0]
    assert len(diffs) == 3 and {"ci_low", "ci_high", "differs"} <= set(diffs.columns)


def test_survey_with_churn(small_data):
    s, c = small_data.survey.copy(), small_data.customers
    out = dr.survey_with_churn(s, c, horizon_days=90)
    until = dr.follow_up_end(s, c)
    assert (out["survey_date"] + pd.Timedelta(days=90) <= until).all()  # complete horizons only
    assert len(out) == int((s["survey_date"] + pd.Timedelta(days=90) <= until).sum())
    cd = c.set_index("customer_id")["churn_date"]
    d = cd.reindex(out["customer_id"]).to_numpy()
    expected = pd.notna(d) & (d >= out["survey_date"].to_numpy()) & (d < (out["survey_date"] + pd.Timedelta(days=90)).to_numpy())
    np.testing.assert_array_equal(out["churned"].to_numpy(), expected.astype(float))
    assert 0 < out["churned"].mean() < 0.5
    assert dr.latest_followed_quarter(s, 180, "2026-09-30") == "2026Q1"
    assert dr.latest_followed_quarter(s, 400, "2026-09-30") is None


def test_ordinal_driver_model(small_data):
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    inst = instruments.load("servqual")
    s = small_data.survey
    dims = gaps.dimension_scores(s, inst, "P").assign(overall_sat=s["overall_sat"]).dropna().head(400)
    names = list(inst.dimensions)[:3]
    m = dr.driver_model(dims, "overall_sat", names, kind="ordinal")
    ref = OrderedModel(dims["overall_sat"].to_numpy(), dims[names].to_numpy(), distr="logit").fit(
        method="bfgs", disp=0, maxiter=1000)
    np.testing.assert_allclose(m.coefficients["coef"], ref.params[:3], rtol=1e-4)
    # McFadden pseudo-R² against the thresholds-only model, whose log-likelihood is that of the category shares
    counts = dims["overall_sat"].value_counts().to_numpy()
    ll0 = (counts * np.log(counts / counts.sum())).sum()
    assert m.fit["pseudo_r2"] == pytest.approx(1 - ref.llf / ll0, rel=1e-6)
    assert m.dominance.sum() == pytest.approx(m.fit["pseudo_r2"], rel=1e-6)
    assert (m.coefficients["coef"] > 0).all()


def test_driver_model_with_sampling_weights(attitude):
    """Weighted least squares written out: β = (X'WX)⁻¹X'Wy, HC3 from the whitened design (√w·X, √w·e), the
    weighted R², standardised coefficients and VIFs from numpy's weighted covariances; unit weights give OLS."""
    names = [c for c in attitude.columns if c != "rating"]
    w = np.random.default_rng(2).choice([0.5, 1.0, 3.0], len(attitude))
    m = dr.driver_model(attitude.assign(wt=w), "rating", names, weights="wt")
    X = np.column_stack([np.ones(len(attitude)), attitude[names].to_numpy(float)])
    y = attitude["rating"].to_numpy(float)
    Xw, yw = X * np.sqrt(w)[:, None], y * np.sqrt(w)
    XtX_inv = np.linalg.inv(Xw.T @ Xw)
    beta = XtX_inv @ Xw.T @ yw
    e = yw - Xw @ beta
    h = np.einsum("ij,jk,ik->i", Xw, XtX_inv, Xw)
    V = XtX_inv @ (Xw.T * (e / (1 - h)) ** 2) @ Xw @ XtX_inv
    c = m.coefficients
    np.testing.assert_allclose(c["coef"], beta[1:], rtol=1e-10)
    np.testing.assert_allclose(c["se"], np.sqrt(np.diag(V))[1:], rtol=1e-10)
    ybar = np.average(y, weights=w)
    r2 = 1 - (w * (y - X @ beta) ** 2).sum() / (w * (y - ybar) ** 2).sum()
    assert m.fit["r2"] == pytest.approx(r2, rel=1e-12)
    C = np.cov(np.column_stack([attitude[names], y]), rowvar=False, aweights=w)
    np.testing.assert_allclose(c["std_coef"], beta[1:] * np.sqrt(np.diag(C)[:-1] / C[-1, -1]), rtol=1e-10)
    R = C / np.sqrt(np.outer(np.diag(C), np.diag(C)))
    np.testing.assert_allclose(c["vif"], np.diag(np.linalg.inv(R[:-1, :-1])), rtol=1e-10)
    assert m.dominance.sum() == pytest.approx(r2, rel=1e-10)
    plain, unit = (dr.driver_model(attitude.assign(wt=1.0), "rating", names, weights=k) for k in (None, "wt"))
    np.testing.assert_allclose(unit.coefficients[["coef", "se", "std_coef", "vif"]],
                               plain.coefficients[["coef", "se", "std_coef", "vif"]], rtol=1e-10)
