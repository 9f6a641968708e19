"""Mystery shopping: agreement statistics against their references, REML variance components against
statsmodels, the G coefficient against the ICC closed forms, visit scoring written out by hand, intervals and the
timing regression against statsmodels, bad visit files refused in one line each, other survey shapes, and the
sample's planted truth recovered."""
import json
import shutil

import krippendorff
import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from statsmodels.stats.proportion import proportion_confint

from sqmlib import audit, io, mystery
from sqmlib.errors import SQMDataError
from sqmlib.instruments import load as load_instrument
from sqmlib.mystery import scores
from sqmlib.sample import mystery as planted

from conftest import ROOT, report_on_changed_sample

NAN = np.nan
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the 4 observers × 12 units example
K2011 = [[1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
         [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN]]


@pytest.fixture(scope="module")
def sample():
    return io.load_folder(ROOT / "data" / "sample")


@pytest.fixture(scope="module")
def result(sample):
    return mystery.run_mystery(sample, n_boot=400)


@pytest.fixture(scope="module")
def truth():
    return json.loads((ROOT / "data" / "sample" / "truth.json").read_text())["mystery_shopping"]


# ---- agreement ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("level, published", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849),
                                              ("ratio", 0.797)])
def test_krippendorff_alpha_equals_the_published_example(level, published):
    a = mystery.krippendorff_alpha(K2011, level=level)
    assert round(a, 3) == published
    assert a == pytest.approx(krippendorff.alpha(reliability_data=K2011, level_of_measurement=level), abs=1e-12)


def test_krippendorff_alpha_of_the_binary_example():
    """Krippendorff (2011): two observers, ten units, nominal α = 0.095."""
    d = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]
    assert round(mystery.krippendorff_alpha(d, "nominal"), 3) == 0.095


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_krippendorff_alpha_equals_the_reference_on_random_data_with_gaps(level):
    rng = np.random.default_rng(7)
    d = rng.integers(1, 6, (6, 80)).astype(float)
    d = np.where(rng.random(d.shape) < 0.25, np.nan, d)
    d[:, :5] = np.where(np.arange(6)[:, None] == 0, d[:, :5], np.nan)  # units coded once: not pairable
    ours = mystery.krippendorff_alpha(pd.DataFrame(d), level=level)
    assert ours == pytest.approx(krippendorff.alpha(reliability_data=d, level_of_measurement=level), abs=1e-12)


def test_krippendorff_alpha_written_out_for_two_raters_nominal():
    """Two raters, no gaps: α = 1 − (n − 1) · D_o / (Σ n_c n_k δ), computed from the pairs directly."""
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 3, 40), rng.integers(0, 3, 40)
    b[:25] = a[:25]
    values = np.concatenate([a, b])
    n = len(values)
    disagree = 2 * (a != b).sum()  # each unit's two ordered pairs
    counts = np.bincount(values)
    expected = (n ** 2 - (counts ** 2).sum())
    assert mystery.krippendorff_alpha([a, b]) == pytest.approx(1 - (n - 1) * disagree / expected, abs=1e-12)


def _icc_data(n=25, k=4, seed=1, missing=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 1)) + 0.6 * rng.normal(size=(1, k)) + rng.normal(size=(n, k))
    df = pd.DataFrame([(f"t{i}", f"r{j}", x[i, j]) for i in range(n) for j in range(k)],
                      columns=["target", "rater", "rating"])
    return df.drop(index=df.sample(missing, random_state=seed).index) if missing else df


@pytest.mark.parametrize("seed, missing", [(1, 0), (2, 0), (5, 6)])
def test_icc_family_equals_pingouin(seed, missing):
    df = _icc_data(seed=seed, missing=missing)
    ours = mystery.icc(df, targets="target", raters="rater", ratings="rating")
    ref = pg.intraclass_corr(df, targets="target", raters="rater", ratings="rating",
                             nan_policy="omit").set_index("Type")
    names = {"ICC1": "ICC(1,1)", "ICC2": "ICC(A,1)", "ICC3": "ICC(C,1)", "ICC1k": "ICC(1,k)", "ICC2k": "ICC(A,k)",
             "ICC3k": "ICC(C,k)"}
    for ours_name, ref_name in names.items():
        r = ref.loc[ref_name]
        assert ours.loc[ours_name, "icc"] == pytest.approx(r["ICC"], abs=1e-9)
        assert ours.loc[ours_name, "F"] == pytest.approx(r["F"], abs=1e-9)
        assert ours.loc[ours_name, "p_value"] == pytest.approx(r["pval"], abs=1e-9)
        assert (ours.loc[ours_name, "df1"], ours.loc[ours_name, "df2"]) == (r["df1"], r["df2"])
        # pingouin rounds its intervals to two decimals
        assert ours.loc[ours_name, ["ci_low", "ci_high"]].to_numpy(float) == pytest.approx(list(r["CI95"]), abs=0.0051)
    assert ours.attrs["dropped"] == len(set(df["target"])) - ours.attrs["targets"]


# ---- variance components and the G study ----------------------------------------------------------------------
def _visits(seed=2, stores=15, shoppers=8, n=300):
    rng = np.random.default_rng(seed)
    st, sh = rng.integers(0, stores, n), rng.integers(0, shoppers, n)
    y = 70 + rng.normal(0, 5, stores)[st] + rng.normal(0, 6, shoppers)[sh] + rng.normal(0, 10, n)
    return pd.DataFrame({"store": [f"s{i:02d}" for i in st], "shopper": [f"m{i}" for i in sh], "y": y})


@pytest.mark.parametrize("seed", [2, 4])
def test_reml_variance_components_equal_statsmodels_mixedlm(seed):
    v = _visits(seed)
    ours = mystery.variance_components(v, store="store", shopper="shopper", score="y")
    fit = sm.MixedLM.from_formula("y ~ 1", groups=np.ones(len(v)), re_formula="0", data=v,
                                  vc_formula={"a_store": "0 + C(store)", "b_shopper": "0 + C(shopper)"}
                                  ).fit(reml=True, method=["lbfgs"])
    ref = dict(zip(fit.model.exog_vc.names, fit.vcomp))
    assert ours.store == pytest.approx(ref["a_store"], rel=2e-4)
    assert ours.shopper == pytest.approx(ref["b_shopper"], rel=2e-4)
    assert ours.residual == pytest.approx(fit.scale, rel=2e-4)
    assert ours.mean == pytest.approx(fit.fe_params.iloc[0], rel=1e-5)
    # ours is at least as good an optimum of the same restricted likelihood
    assert -0.5 * ours.reml >= fit.llf - 1e-6


def test_the_g_coefficients_equal_icc_closed_forms_for_a_balanced_crossed_design():
    rng = np.random.default_rng(11)
    n, k = 30, 5  # every shopper visits every store once
    y = 60 + rng.normal(0, 6, (n, 1)) + rng.normal(0, 4, (1, k)) + rng.normal(0, 8, (n, k))
    v = pd.DataFrame([(f"s{i}", f"m{j}", y[i, j]) for i in range(n) for j in range(k)],
                     columns=["store", "shopper", "score"])
    g = mystery.g_study(v, store="store", shopper="shopper", score="score")
    ref = mystery.icc(v, targets="store", raters="shopper", ratings="score")
    assert g.visits_per_store == pytest.approx(k, abs=1e-12)
    assert g.g_coefficient == pytest.approx(ref.loc["ICC3k", "icc"], abs=1e-6)
    assert g.coefficient == pytest.approx(ref.loc["ICC2k", "icc"], abs=1e-6)
    assert g.g(1) == pytest.approx(ref.loc["ICC3", "icc"], abs=1e-6)
    assert g.phi(1) == pytest.approx(ref.loc["ICC2", "icc"], abs=1e-6)


def test_the_decision_study_and_the_visits_needed():
    v = _visits(3, stores=30, shoppers=12, n=400)
    g = mystery.g_study(v, store="store", shopper="shopper", score="y")
    c = g.components
    need = g.visits_needed(0.8)
    assert g.phi(need) >= 0.8 > g.phi(need - 1)
    assert need == int(np.ceil(4 * (c.shopper + c.residual) / c.store - 1e-9))
    d = g.d_study(np.arange(1, 31))
    assert d["phi"].is_monotonic_increasing and (d["g"] >= d["phi"]).all()
    assert g.visits_needed(0.8, relative=True) <= need


def test_an_unbalanced_design_with_a_shopper_in_one_store_only():
    v = _visits(5, stores=10, shoppers=6, n=120)
    v = pd.concat([v, pd.DataFrame({"store": ["s00"] * 3, "shopper": ["lone"] * 3, "y": [50.0, 55.0, 52.0]})])
    c = mystery.variance_components(v, store="store", shopper="shopper", score="y")
    assert c.converged and c.shoppers == 7 and min(c.store, c.shopper, c.residual) >= 0


# ---- scoring -------------------------------------------------------------------------------------------------
def _instrument(folder, checklist: str):
    """A one-item instrument with the ``checklist:`` section given as YAML lines."""
    path = folder / "inst.yaml"
    path.write_text("name: t\nscale: {min: 1, max: 5}\nblocks: {P: {source: 'P{item}'}}\nitems: {'01': a}\n"
                    "dimensions: {d: ['01']}\nchecklist:\n" + checklist, encoding="utf-8")
    return load_instrument(path)


def _checklist(folder, rule="zero", cap=50):
    return _instrument(folder, f"  critical_rule: {rule}\n  cap: {cap}\n  items:\n"
                               "    greet: {section: greeting, weight: 1}\n"
                               "    price: {section: product, weight: 3, critical: true}\n"
                               "    polite: {section: greeting, weight: 2, scale: {min: 1, max: 5}}\n"
                               "    id: {section: product, weight: 2, scenarios: [change]}\n").checklist


def _visit_rows():
    visits = pd.DataFrame({"visit_id": ["v1", "v2", "v3"], "store": ["A", "A", "B"], "region": "r",
                           "shopper_id": ["m1", "m2", "m1"], "quarter": "2026Q1", "scenario": ["new", "change", "new"],
                           "visit_date": pd.to_datetime(["2026-01-05", "2026-01-10", "2026-01-11"])})
    rows = [("v1", "greet", 1), ("v1", "price", 1), ("v1", "polite", 4), ("v1", "id", 0),  # id: not its scenario
            ("v2", "greet", 0), ("v2", "price", 0), ("v2", "polite", 5), ("v2", "id", 1),
            ("v3", "greet", 1), ("v3", "price", np.nan), ("v3", "polite", 2)]
    items = pd.DataFrame(rows, columns=["visit_id", "item_id", "value"])
    items["applicable"] = items["value"].notna()
    return visits, items


@pytest.mark.parametrize("rule, v2_score", [("zero", 0.0), ("cap", 40.0), ("flag", 4 / 7 * 100)])
def test_visit_scores_written_out_by_hand(tmp_path, rule, v2_score):
    ck = _checklist(tmp_path, rule, cap=40)
    visits, items = _visit_rows()
    out = scores.visit_scores(scores.item_scores(items, visits, ck), visits, ck).set_index("visit_id")
    # v1: greet 1·1, price 1·3, polite (4−1)/4·2 → (1 + 3 + 1.5) / 6; its id check is not for its scenario
    assert out.loc["v1", "raw"] == pytest.approx(100 * 5.5 / 6)
    # v2: greet 0, price 0 (critical, failed), polite 1·2, id 1·2 → 4 / 8 · 100 = 50 raw
    assert out.loc["v2", "raw"] == pytest.approx(50.0)
    assert out.loc["v2", "critical_failed"] and out.loc["v2", "failed_items"] == "price"
    expected = {"zero": 0.0, "cap": 40.0, "flag": 50.0}[rule]
    assert out.loc["v2", "score"] == pytest.approx(expected)
    # v3: price not applicable: greet 1·1, polite 0.25·2 → 1.5 / 3
    assert out.loc["v3", "raw"] == pytest.approx(50.0) and not out.loc["v3", "critical_failed"]
    assert out.loc["v1", "section:greeting"] == pytest.approx(100 * (1 + 1.5) / 3)
    assert (out.loc["v1", "checks"], out.loc["v1", "passed"]) == (2, 2)
    assert (out.loc["v2", "checks"], out.loc["v2", "passed"]) == (3, 1)


def test_intervals_equal_statsmodels():
    k, n = np.array([0, 3, 17, 40]), np.array([10, 12, 20, 40])
    low, high = scores.clopper_pearson(k, n)
    wl, wh = scores.wilson(k, n)
    for i in range(len(k)):
        assert (low[i], high[i]) == pytest.approx(proportion_confint(k[i], n[i], method="beta"), abs=1e-12)
        assert (wl[i], wh[i]) == pytest.approx(proportion_confint(k[i], n[i], method="wilson"), abs=1e-12)


def test_timing_effects_equal_a_fixed_effects_regression_by_statsmodels(result):
    v = result.visits
    ours = scores.timing_effects(v)
    d = v.dropna(subset=["visit_hour"]).assign(
        weekend=lambda x: x["weekend"].astype(float),
        afternoon=lambda x: ((x["visit_hour"] >= 12) & (x["visit_hour"] < 17)).astype(float),
        evening=lambda x: (x["visit_hour"] >= 17).astype(float))
    fit = smf.ols("score ~ weekend + afternoon + evening + C(store) + C(shopper_id)", d).fit(cov_type="HC1")
    for name in ("weekend", "afternoon", "evening"):
        assert ours.loc[name, "effect"] == pytest.approx(fit.params[name], abs=1e-9)
        assert ours.loc[name, "se"] == pytest.approx(fit.bse[name], rel=1e-9)


def test_rank_intervals_are_deterministic_and_consistent(result):
    now = result.visits[result.visits["quarter"] == result.quarter]
    a = scores.rank_intervals(now, n_boot=300, seed=4)
    b = scores.rank_intervals(now, n_boot=300, seed=4, chunk=1000)  # resampled in many chunks: same draws
    pd.testing.assert_frame_equal(a, b)
    assert (a["rank_low"] <= a["rank"]).all() and (a["rank"] <= a["rank_high"]).all()
    assert (a["ci_low"] <= a["score"]).all() and (a["score"] <= a["ci_high"]).all()
    mean = now.groupby("store")["score"].mean()
    assert a["score"].to_dict() == pytest.approx(mean.to_dict(), abs=1e-12)
    assert set(a.loc[a["difference_low"] > 0, "group"]) <= {"above_chain"}


def test_the_survey_link_correlation_is_pearsons_with_fishers_interval(result):
    pairs, corr = result.link[0], result.link[1]
    t = pairs[pairs["dimension"] == "assurance"]
    r = np.corrcoef(t["audit"], t["perception"])[0, 1]
    assert corr.loc["assurance", "r"] == pytest.approx(r, abs=1e-12)
    z, h = np.arctanh(r), 1.959963984540054 / np.sqrt(len(t) - 3)
    assert (corr.loc["assurance", "ci_low"], corr.loc["assurance", "ci_high"]) == pytest.approx(
        (np.tanh(z - h), np.tanh(z + h)), abs=1e-9)


# ---- the planted truth -------------------------------------------------------------------------------------
def test_the_failing_store_is_found(result, truth):
    m = result.metrics()
    assert truth["failing_store"] in m.failing_stores
    n = round(planted.FAILING_RATE * planted.VISITS_PER_STORE)
    assert m.failing_stores[truth["failing_store"]] >= n
    assert any(truth["failing_store"] in f and "critical" in f for f in result.findings())


def test_the_weekend_effect_and_no_time_of_day_effect(result):
    t = result.timing
    assert t.loc["weekend", "ci_high"] < 0 and t.loc["weekend", "p_value"] < 0.01
    assert t.loc["evening", "ci_low"] < 0 < t.loc["evening", "ci_high"]


def test_store_effects_and_shopper_leniency_are_recovered(sample, result, truth):
    v = result.visits
    c = mystery.variance_components(v, store="store", shopper="shopper_id", score="raw")
    store = pd.Series(truth["store_effect"])
    assert np.corrcoef(store[c.store_effects.index], c.store_effects)[0, 1] > 0.8
    lenient = pd.Series(truth["shopper_leniency"])
    eff = result.leniency["effect"].dropna()
    assert np.corrcoef(lenient[eff.index], eff)[0, 1] > 0.5
    dev = result.calibration["shoppers"]["deviation"]
    assert np.corrcoef(lenient[dev.index], dev)[0, 1] > 0.8
    assert result.gstudy.components.store > 0 and result.gstudy.visits_needed(0.8) > planted.VISITS_PER_STORE


def test_the_audit_lists_the_planted_visits(sample, truth):
    a = audit.run_audit(sample)
    v = a.visits
    assert truth["duplicate_visit"] in set(v.loc[v["kind"] == "duplicate_visit", "visit_id"])
    assert truth["repeat_shopper_visit"] in set(v.loc[v["kind"] == "repeat_shopper", "visit_id"])
    assert a.metrics().visit_checks == {"duplicate_visit": 2, "repeat_shopper": 2}


def test_one_number_in_the_gaps_model_and_the_mystery_page(sample, result):
    ev = mystery.gap_evidence(sample, result.quarter)
    assert ev["compliance"] == result.metrics().compliance
    assert ev["executed_unhappy"] == result.metrics().executed_unhappy


# ---- bad input and other shapes -----------------------------------------------------------------------------
@pytest.fixture
def copy(tmp_path):
    """A copy of the bundled sample (``visits_only``: its instrument and visit files alone, quick to load)."""
    def make(visits_only: bool = False):
        d = tmp_path / "data"
        if visits_only:
            d.mkdir()
            for name in ("instrument.yaml", "visits.csv", "visit_items.csv", "calibration.csv"):
                shutil.copy(ROOT / "data" / "sample" / name, d / name)
        else:
            shutil.copytree(ROOT / "data" / "sample", d)
        return d
    return make


def _one_line(exc) -> str:
    lines = str(exc.value).splitlines()
    assert len(lines) == 2, lines  # the file and one problem
    return str(exc.value)


@pytest.mark.parametrize("change, file, words", [
    ("no_items", "visits.csv", "without any checklist answer"),
    ("unknown_item", "visit_items.csv", "not in the instrument's checklist"),
    ("out_of_scale", "visit_items.csv", "not numbers on the item's scale"),
    ("unknown_shopper", "calibration.csv", "shoppers who made no visit"),
])
def test_bad_visit_files_are_refused_in_one_line(copy, change, file, words):
    d = copy(visits_only=True)
    items = pd.read_csv(d / "visit_items.csv", dtype=str, keep_default_na=False)
    if change == "no_items":
        items = items[items["visit_id"] != "V00010"]
        items.to_csv(d / "visit_items.csv", index=False)
    elif change == "unknown_item":
        items.loc[3, "item_id"] = "smile_wide"
        items.to_csv(d / "visit_items.csv", index=False)
    elif change == "out_of_scale":
        items.loc[items.index[items["item_id"] == "friendly"][:3], "response"] = "7"
        items.to_csv(d / "visit_items.csv", index=False)
    else:
        cal = pd.read_csv(d / "calibration.csv", dtype=str, keep_default_na=False)
        cal.loc[0, "shopper_id"] = "MS99"
        cal.to_csv(d / "calibration.csv", index=False)
    with pytest.raises(SQMDataError) as exc:
        io.load_folder(d)
    text = _one_line(exc)
    assert file in text and words in text


def test_visits_without_a_checklist_leave_the_other_analyses_be(copy):
    """A folder with visit files but an instrument without a checklist: the visits are not read (the other
    tables are) and the mystery page says why; the loader alone refuses visit items without a checklist."""
    d = copy(visits_only=True)
    shutil.copy(ROOT / "data" / "sample" / "standards.csv", d / "standards.csv")
    (d / "instrument.yaml").write_text("extends: servqual\n", encoding="utf-8")
    folder = io.load_folder(d)
    assert folder.visits is None and folder.standards is not None and "skipped" in folder.sources["visits"]
    r = mystery.run_mystery(folder)
    assert r.unavailable and "no checklist: section" in r.reason
    with pytest.raises(SQMDataError, match="checklist: section"):
        io.load_visit_items(d / "visit_items.csv", None)


def test_checklist_mistakes_are_named(tmp_path):
    with pytest.raises(SQMDataError) as exc:
        _instrument(tmp_path, "  critical_rule: zeroes\n  items:\n    a: {dimension: tangible, scale: stars}\n"
                              "    b: {weight: -1}\n    c: {critcal: true}\n")
    text = str(exc.value)
    for words in ("critical_rule 'zeroes'", "dimension 'tangible'", "scale should be yes/no", "weight should be",
                  "unknown key 'critcal'"):
        assert words in text


def test_a_folder_without_visits_is_not_available(copy):
    d = copy(visits_only=True)
    for name in ("visits", "visit_items", "calibration"):
        (d / f"{name}.csv").unlink()
    r = mystery.run_mystery(io.load_folder(d))
    assert r.unavailable and "no audit visits" in r.reason


def test_another_shape_yes_no_only_rule_flag_no_store_in_the_survey_and_chinese_answers(copy):
    """A programme answering in Chinese (是/否/不适用), the flag rule, a checklist of yes/no items only, and a
    survey without a store column: scores, ranks and reliability still come, the link says why it is absent."""
    d = copy()
    items = pd.read_csv(d / "visit_items.csv", dtype=str, keep_default_na=False)
    keep = [k for k, v in planted.CHECKLIST.items() if v[1] is None]
    items = items[items["item_id"].isin(keep)]
    items["response"] = items["response"].map({"yes": "是", "no": "否", "n/a": "不适用"})
    items.to_csv(d / "visit_items.csv", index=False)
    cal = pd.read_csv(d / "calibration.csv", dtype=str, keep_default_na=False)
    cal[cal["item_id"].isin(keep)].to_csv(d / "calibration.csv", index=False)
    survey = pd.read_csv(d / "survey.csv", dtype=str, keep_default_na=False)
    survey.drop(columns="store").to_csv(d / "survey.csv", index=False)
    text = (d / "instrument.yaml").read_text(encoding="utf-8").replace("critical_rule: zero", "critical_rule: flag")
    lines = [ln for ln in text.splitlines() if "scale: {min: 1, max: 5}" not in ln]
    (d / "instrument.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    folder = io.load_folder(d)
    assert folder.instrument.checklist.critical_rule == "flag"
    r = mystery.run_mystery(folder, n_boot=200)
    v = r.visits
    assert (v["score"] == v["raw"]).all()  # flag: the score stands
    assert v["critical_failed"].any() and r.link is None
    assert r.calibration["alpha_ratings"] != r.calibration["alpha_ratings"]  # no rating items: NaN
    # the visit score of the yes/no items alone, written out: weighted share passed
    w = {k: planted.CHECKLIST[k][3] for k in keep}
    x = folder.visit_items.merge(folder.visits[["visit_id", "scenario"]], on="visit_id")
    x = x[x["applicable"]]
    x = x[[not planted.CHECKLIST[i][8] or s in planted.CHECKLIST[i][8] for i, s in zip(x["item_id"], x["scenario"])]]
    x = x.assign(w=x["item_id"].map(w))
    by_hand = 100 * (x["w"] * x["value"]).groupby(x["visit_id"]).sum() / x["w"].groupby(x["visit_id"]).sum()
    assert v.set_index("visit_id")["raw"].to_dict() == pytest.approx(by_hand.to_dict(), abs=1e-9)
    assert any("no store column" in b.content for b in r.sections()["survey"])


@pytest.mark.long
def test_a_bad_visit_file_stops_the_report_in_one_line(tmp_path):
    """Through the command as a user runs it: an answer of a visit that is not in visits.csv."""
    def change(items):
        items.loc[5, "visit_id"] = "V99999"
    code, lines, stderr = report_on_changed_sample(tmp_path, "visit_items.csv", change)
    assert code == 1 and len(lines) == 1 and "answers of visits not in visits" in lines[0], stderr[-2000:]
    assert "visit_items.csv" in lines[0] and "Traceback" not in stderr
