"""The generator: determinism, the bundled files, and ground truth that analyses can recover."""
import filecmp
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sqmlib import audit, instruments, io, synth

from conftest import ROOT, SMALL

SAMPLE = ROOT / "data" / "sample"


def test_same_seed_same_data(small_data):
    again = synth.generate(SMALL)
    for name in ("survey", "customers", "interactions", "management", "standards"):
        pd.testing.assert_frame_equal(getattr(small_data, name), getattr(again, name))
    assert again.truth == small_data.truth
    other = synth.generate(synth.SynthConfig(seed=12, n_customers=800, respondents_per_quarter=200, n_managers=4))
    assert not other.survey["P01"].equals(small_data.survey["P01"])


def test_bundled_sample_regenerates_byte_identically(tmp_path):
    synth.generate().save(tmp_path)
    files = sorted(p.name for p in SAMPLE.iterdir())
    assert files == sorted(p.name for p in tmp_path.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(SAMPLE, tmp_path, files, shallow=False)
    assert mismatch == [] and errors == []


def test_bundled_sample_shape():
    truth = json.loads((SAMPLE / "truth.json").read_text())
    s = io.load_survey(SAMPLE / "survey.csv")
    assert s.groupby("quarter").size().to_dict() == {q: 2000 for q in ("2025Q4", "2026Q1", "2026Q2", "2026Q3")}
    assert len(io.load_customers(SAMPLE / "customers.csv")) == 10_000
    assert truth["deterioration"] == {**truth["deterioration"], "region": "South", "quarter": "2026Q3"}


def test_expected_answer_closed_form():
    rng = np.random.default_rng(0)
    for mu in (1.2, 3.7, 5.5, 6.8):
        y = np.clip(np.floor(rng.normal(mu, synth.SIGMA, 2_000_000) + 0.5), 1, 7)
        assert synth.expected_answer(mu) == pytest.approx(y.mean(), abs=3e-3)
    # no clipping far inside the scale: E[round(Y)] = mu
    assert synth.expected_answer(4.0, sd=0.3) == pytest.approx(4.0, abs=1e-9)


def _dimension_gaps(s, inst, dims):
    out = {}
    for d in dims:
        g = s[inst.item_columns("P", d)].to_numpy() - s[inst.item_columns("E", d)].to_numpy()
        per_item = np.nanmean(g, axis=0)
        out[d] = per_item.mean()
    return out


def test_true_gaps_recovered_on_bundled_data():
    """Sample gaps of genuine respondents agree with the closed-form truth within sampling error."""
    inst = instruments.load("servqual")
    s = io.load_survey(SAMPLE / "survey.csv")
    s = s[~audit.flag_straightliners(s, inst)]
    means = pd.read_csv(SAMPLE / "truth_item_means.csv", dtype={"item": str})
    first = s[s["quarter"] == "2025Q4"]
    observed = _dimension_gaps(first, inst, inst.dimensions)
    truth = json.loads((SAMPLE / "truth.json").read_text())["true_gap_per_dimension"]
    for d in inst.dimensions:
        # se of a dimension mean gap for ~1,950 respondents is about 0.03; allow 4 se
        assert observed[d] == pytest.approx(truth[d], abs=0.12), d
    south = s[(s["quarter"] == "2026Q3") & (s["region"] == "South")]
    det = json.loads((SAMPLE / "truth.json").read_text())["true_gap_per_dimension_deteriorated"]
    obs_south = _dimension_gaps(south, inst, inst.dimensions)
    for d in inst.dimensions:
        assert obs_south[d] == pytest.approx(det[d], abs=0.2), d
    # item level: per-item truth equals the mean of the region/quarter-specific truths of the respondents
    m = means.set_index(["quarter", "region", "block", "item"])["true_mean"]
    key = list(zip(first["quarter"], first["region"], ["P"] * len(first), ["11"] * len(first)))
    assert np.nanmean(first["P11"]) == pytest.approx(m.loc[key].mean(), abs=0.1)


def test_deterioration_planted_only_in_south_last_quarter():
    s = io.load_survey(SAMPLE / "survey.csv")
    inst = instruments.load("servqual")
    resp = s[inst.item_columns("P", "responsiveness")].mean(axis=1)
    table = resp.groupby([s["quarter"], s["region"]]).mean().unstack()
    drop = table.loc["2026Q3"] - table.loc[["2025Q4", "2026Q1", "2026Q2"]].mean()
    assert drop["South"] < -0.5
    assert (drop.drop("South").abs() < 0.15).all()
    tickets = io.load_interactions(SAMPLE / "interactions.csv")
    compl = tickets[tickets["type"] == "complaint"]
    hours = (compl["first_response_at"] - compl["opened_at"]).dt.total_seconds() / 3600
    q = compl["opened_at"].dt.to_period("Q").astype(str)
    med = hours.groupby([q, compl["region"]]).median().unstack()
    assert med.loc["2026Q3", "South"] > 2 * med.loc["2026Q2", "South"]


def test_planted_answer_behaviour(small_data):
    s = small_data.survey
    p = s[[f"P{i:02d}" for i in range(1, 23)]].to_numpy()
    assert 0.013 < np.mean(p == 8) < 0.017  # don't know at 1.5 %
    assert 0.015 < np.mean(np.isnan(p)) < 0.025  # blank at 2 %
    imp = s[[f"I_{d}" for d in synth.DIMENSIONS]]
    answered = imp.notna().all(axis=1)
    assert (imp[answered].sum(axis=1) == 100).all()
    assert 0.06 < 1 - answered.mean() < 0.14
    w = imp[answered].mean() / 100
    assert np.allclose(w.to_numpy(), list(synth.IMPORTANCE.values()), atol=0.01)


def test_satisfaction_weights_recovered():
    """OLS of satisfaction on the dimension means ranks the dimensions as the true weights do."""
    s = io.load_survey(SAMPLE / "survey.csv")
    inst = instruments.load("servqual")
    s = s[~audit.flag_straightliners(s, inst)]
    X = pd.DataFrame({d: s[inst.item_columns("P", d)].mean(axis=1) for d in inst.dimensions})
    ok = X.notna().all(axis=1) & s["overall_sat"].notna()
    beta = np.linalg.lstsq(np.column_stack([np.ones(ok.sum()), X[ok]]), s.loc[ok, "overall_sat"], rcond=None)[0][1:]
    true = np.array([synth.SAT_WEIGHTS[d] for d in inst.dimensions])
    assert stats.spearmanr(beta, true).statistic > 0.8
    assert int(np.argmax(beta)) == int(np.argmax(true))


def test_churn_coefficients_recovered(small_data):
    """A logistic fit on the simulated quarter-level risk set recovers the true coefficients."""
    cfg = synth.SynthConfig(seed=5, n_customers=30_000, respondents_per_quarter=10)
    d = synth.generate(cfg)
    c = d.customers
    t = d.interactions[d.interactions["type"] == "complaint"]
    # rebuild the risk set of one quarter (2026Q2): active at its start, churned during it
    qs, qe = pd.Timestamp("2026-04-01"), pd.Timestamp("2026-07-01")
    prev = t[(t["opened_at"] >= pd.Timestamp("2026-01-01")) & (t["opened_at"] < qs)]
    active = c[(c["signup_date"] < qs) & (c["churn_date"].isna() | (c["churn_date"] >= qs))]
    y = (active["churn_date"] < qe).to_numpy()
    n_prev = prev.groupby("customer_id").size().reindex(active["customer_id"]).fillna(0).to_numpy()
    assert y.mean() > 0.03
    import statsmodels.api as sm

    latent = d.truth_customers.set_index("customer_id").reindex(active["customer_id"])
    unresolved = prev[~prev["first_contact_resolved"].astype(bool)].groupby("customer_id").size()
    X = pd.DataFrame({
        "quality": latent["quality_u"].to_numpy(), "loyalty": latent["loyalty_l"].to_numpy(),
        "complaints_prev_q": n_prev,
        "unresolved_prev_q": unresolved.reindex(active["customer_id"]).fillna(0).to_numpy(),
        "log_tenure_years": np.log((qs - active["signup_date"]).dt.days.to_numpy() / 365.25 + 0.25),
        "plan_basic": (active["plan"] == "basic").to_numpy(float),
        "plan_premium": (active["plan"] == "premium").to_numpy(float),
        "charges_10": ((active["monthly_charges"] - 60) / 10).to_numpy(),
    })
    fit = sm.Logit(y.astype(float), sm.add_constant(X)).fit(disp=0)
    truth = {("const" if k == "intercept" else k): v for k, v in synth.CHURN_COEF.items()}
    for name, value in truth.items():
        assert fit.params[name] == pytest.approx(value, abs=3 * fit.bse[name]), name


def test_expectations_pile_up_at_the_top():
    s = io.load_survey(SAMPLE / "survey.csv")
    e = s[instruments.load("servqual").item_columns("E")].to_numpy()
    assert np.mean(e[e <= 7] == 7) > 0.25


def test_ticket_texts_vary(small_data):
    t = small_data.interactions
    comp = t[t["type"] == "complaint"]
    per_category = comp.groupby("category")["text"].nunique()
    assert (per_category[per_category.index != ""] >= 20).all()  # phrasings × mixes × fillers × slips
    lengths = comp["text"].str.len()
    assert lengths.quantile(0.9) > 2 * lengths.quantile(0.1)
    assert comp["text"].str.contains("Also, ").mean() > 0.15


def test_chinese_variant_has_the_same_numbers_with_chinese_names():
    cfg = dict(seed=11, n_customers=800, respondents_per_quarter=200, n_managers=4)
    en, zh = synth.generate(synth.SynthConfig(**cfg)), synth.generate(synth.SynthConfig(**cfg, language="zh"))
    assert set(zh.survey["region"]) == {"华北", "华南", "华东", "华西"} and set(zh.survey["channel"]) <= {"门店", "电话", "网上"}
    assert set(zh.customers["plan"]) == {"基础版", "标准版", "高级版"}
    assert zh.truth["deterioration"]["region"] == "华南"
    numeric = [c for c in en.survey.columns if c not in ("region", "channel")]
    pd.testing.assert_frame_equal(en.survey[numeric], zh.survey[numeric])
    pd.testing.assert_series_equal(en.survey["region"].map(synth.REGION_ZH), zh.survey["region"])
    text = "".join(zh.interactions["text"].head(200))
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in text) / len(text) > 0.8
    pd.testing.assert_series_equal(en.interactions["category"], zh.interactions["category"])
