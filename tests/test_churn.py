"""Churn prediction: profit measures against the published vector and brute force, the leakage guard on the
real IBM Telco data, features dated strictly before as_of, and the generator's churn coefficients."""
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import integrate, stats

from sqmlib import churn, io, synth

from conftest import ROOT, SHARED, needs_shared

SAMPLE = ROOT / "data" / "sample"
TELCO = SHARED / "telco_customer_churn.csv"
TELCO_STATUS = SHARED / "telco_customer_churn_status.csv"


@pytest.fixture(scope="module")
def sample():
    return (io.load_customers(SAMPLE / "customers.csv"), io.load_interactions(SAMPLE / "interactions.csv"),
            io.load_survey(SAMPLE / "survey.csv"), io.load_standards(SAMPLE / "standards.csv"))


# ---- profit measures ----------------------------------------------------------------------------------------
def test_empc_published_vector():
    value, fraction = churn.empc([0, 1, 0, 1, 0, 1, 0, 1], [.1, .2, .3, .4, .5, .7, .8, .9])
    assert value == pytest.approx(23.875593418348124, abs=1e-12)
    assert fraction == pytest.approx(0.8743700763487141, abs=1e-12)


def test_empc_equals_numerical_integration():
    """Integrate the best profit over every ROC point (not just the hull) against the Beta density."""
    from sklearn.metrics import roc_curve

    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.25).astype(int)
    s = y * 0.8 + rng.normal(0, 0.6, 300)
    clv, d, f, a, b = 200, 10, 1, 6, 14
    fpr, tpr, _ = roc_curve(y, s)
    pi1 = y.mean()

    def best(g):
        return np.max(clv * (g * (1 - d / clv) - f / clv) * pi1 * tpr - clv * (d / clv + f / clv) * (1 - pi1) * fpr)

    ref = integrate.quad(lambda g: best(g) * stats.beta.pdf(g, a, b), 0, 1, limit=500, epsabs=1e-11)[0]
    assert churn.empc(y, s, clv, d, f, a, b)[0] == pytest.approx(ref, abs=1e-6)


def test_profit_curve_brute_force_and_mpc():
    rng = np.random.default_rng(1)
    y = (rng.random(200) < 0.3).astype(int)
    s = np.round(y * 0.5 + rng.random(200), 1)  # ties
    clv = rng.uniform(100, 300, 200)
    curve = churn.profit_curve(y, s, clv=clv, offer_cost=10, contact_cost=1, accept_rate=0.3)
    pc = curve.table
    for _, row in pc.iterrows():
        contacted = s >= row["threshold"]
        gain = np.where(y == 1, 0.3 * (clv - 10) - 1, -11.0)
        assert row["profit"] == pytest.approx(gain[contacted].sum(), abs=1e-9)
        assert row["n_contacted"] == contacted.sum()
    assert pc["threshold"].iloc[0] == np.inf and pc["profit"].iloc[0] == 0
    assert curve.contact_everyone == pytest.approx(pc["profit"].iloc[-1])
    gain = np.where(y == 1, 0.3 * (clv - 10) - 1, -11.0)
    assert curve.perfect_model == pytest.approx(gain[(y == 1) & (gain > 0)].sum())
    value, frac = churn.mpc(y, s, clv=200, offer_cost=10, contact_cost=1, accept_rate=0.3)
    p2 = churn.profit_curve(y, s, 200, 10, 1, 0.3)
    assert value == pytest.approx(p2.table["profit"].max() / 200) and frac == pytest.approx(p2.best_fraction)


def test_convex_hull():
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    tpr, fpr = churn.roc_convex_hull(y, np.array([.1, .2, .3, .4, .5, .7, .8, .9]))
    assert (fpr[0], tpr[0]) == (0, 0) and (fpr[-1], tpr[-1]) == (1, 1)
    # concave: each segment's slope (as an angle, so vertical segments are fine) no steeper than the last
    angles = np.arctan2(np.diff(tpr), np.diff(fpr))
    assert np.all(np.diff(angles) <= 1e-12)


def test_evaluation_against_sklearn():
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    rng = np.random.default_rng(2)
    y = (rng.random(1000) < 0.2).astype(int)
    p = np.clip(0.2 + 0.3 * y + rng.normal(0, 0.15, 1000), 0.01, 0.99)
    e = churn.evaluate(y, p, n_boot=100, seed=1)
    assert e.loc["roc_auc", "value"] == pytest.approx(roc_auc_score(y, p))
    assert e.loc["pr_auc", "value"] == pytest.approx(average_precision_score(y, p))
    assert e.loc["brier", "value"] == pytest.approx(brier_score_loss(y, p))
    assert (e["ci_low"] <= e["value"]).all() and (e["value"] <= e["ci_high"]).all()
    # ECE by hand: 10 equal-count bins of the sorted probabilities
    order = np.argsort(p, kind="stable")
    ece = sum(len(b) * abs(y[b].mean() - p[b].mean()) for b in np.array_split(order, 10)) / len(p)
    assert e.loc["ece", "value"] == pytest.approx(ece)
    g = churn.gains_table(y, p)
    assert g["churners"].sum() == y.sum() and g["cum_share_churners"].iloc[-1] == pytest.approx(1)
    top = np.argsort(-p, kind="stable")[:100]
    assert e.loc["top_decile_lift", "value"] == pytest.approx(y[top].mean() / y.mean())


# ---- features ---------------------------------------------------------------------------------------------
def test_build_features_uses_only_the_past(sample):
    c, i, s, st = sample
    as_of = pd.Timestamp("2026-04-01")
    f = churn.build_features(c, i, s, as_of, 91, standards=st).set_index("customer_id")
    active = c[(c["signup_date"] < as_of) & (c["churn_date"].isna() | (c["churn_date"] >= as_of))]
    assert set(f.index) == set(active["customer_id"])
    cid = i[(i["opened_at"] < as_of) & (i["type"] == "complaint")]["customer_id"].value_counts().index[0]
    mine = i[(i["customer_id"] == cid) & (i["type"] == "complaint")]
    age = (as_of - mine["opened_at"]).dt.days
    assert f.loc[cid, "complaints_365d"] == ((mine["opened_at"] < as_of) & (age < 365)).sum()
    assert f.loc[cid, "complaints_90d"] == ((mine["opened_at"] < as_of) & (age < 90)).sum()
    label = c.set_index("customer_id").loc[f.index, "churn_date"]
    assert (f["churned"] == ((label >= as_of) & (label < as_of + pd.Timedelta(days=91))).astype(int)).all()
    # adding tickets and survey answers dated on or after as_of changes nothing
    late_t = i.copy()
    late_t["opened_at"] = late_t["opened_at"] + pd.Timedelta(days=3650)
    late_s = s.copy()
    late_s["survey_date"] = late_s["survey_date"] + pd.Timedelta(days=3650)
    f2 = churn.build_features(c, pd.concat([i, late_t.assign(ticket_id=late_t["ticket_id"] + "x")]),
                              pd.concat([s, late_s]), as_of, 91, standards=st).set_index("customer_id")
    pd.testing.assert_frame_equal(f.drop(columns=[], errors="ignore"), f2[f.columns])
    surveyed = f[f["has_survey"] == 1].index[0]
    last = s[(s["customer_id"] == surveyed) & (s["survey_date"] < as_of)].sort_values("survey_date").iloc[-1]
    assert f.loc[surveyed, "nps"] == last["nps"]


def test_generator_churn_coefficients_recovered(sample):
    """With each customer's latent quality and loyalty from truth_customers.csv, a logistic fit on the features
    of one quarter recovers every true churn coefficient within three standard errors."""
    c, i, s, st = sample
    latent = pd.read_csv(SAMPLE / "truth_customers.csv").set_index("customer_id")
    as_of = pd.Timestamp("2026-04-01")
    f = churn.build_features(c, i, s, as_of, 91)  # Q2: complaints_90d = the previous calendar quarter
    comp = i[(i["type"] == "complaint") & (i["opened_at"] >= pd.Timestamp("2026-01-01")) & (i["opened_at"] < as_of)]
    unresolved = comp[~comp["first_contact_resolved"].astype(bool)].groupby("customer_id").size()
    X = pd.DataFrame({"quality": latent["quality_u"].reindex(f["customer_id"]).to_numpy(),
                      "loyalty": latent["loyalty_l"].reindex(f["customer_id"]).to_numpy(),
                      "complaints_prev_q": f["complaints_90d"].to_numpy(),
                      "unresolved_prev_q": unresolved.reindex(f["customer_id"]).fillna(0).to_numpy(),
                      "log_tenure_years": np.log(f["tenure_days"].to_numpy() / 365.25 + 0.25),
                      "plan_basic": (f["plan"] == "basic").astype(float).to_numpy(),
                      "plan_premium": (f["plan"] == "premium").astype(float).to_numpy(),
                      "charges_10": ((f["monthly_charges"] - 60) / 10).to_numpy()})
    fit = sm.Logit(f["churned"].to_numpy(), sm.add_constant(X)).fit(disp=0)
    truth = dict(synth.CHURN_COEF)
    truth["const"] = truth.pop("intercept")
    for k, v in truth.items():
        assert abs(fit.params[k] - v) < 3 * fit.bse[k], (k, fit.params[k], v)


def test_leakage_guard_on_planted_column(sample):
    c, i, s, st = sample
    f = churn.build_features(c, i, s, "2026-04-01", 91)
    leaky = f.assign(exit_score=f["churned"] * 4 + np.random.default_rng(0).integers(1, 3, len(f)))
    with pytest.raises(churn.LeakageError, match="exit_score"):
        churn.leakage_check(leaky.drop(columns=["customer_id"]), "churned")
    with pytest.warns(UserWarning, match="LEAKAGE OVERRIDDEN: exit_score"):
        churn.leakage_check(leaky.drop(columns=["customer_id"]), "churned", allow=["exit_score"])


# ---- models -----------------------------------------------------------------------------------------------
def test_model_on_sample(sample):
    c, i, s, st = sample
    f = churn.build_features(c, i, s, "2026-04-01", 91, standards=st)
    r = churn.fit_churn_model(f, "churned", seed=3)
    r2 = churn.fit_churn_model(f, "churned", seed=3)
    pd.testing.assert_series_equal(r.oof, r2.oof)
    assert 0.72 < r.cv_auc < 0.88 and len(r.fold_auc) == 5
    imp = churn.permutation_importance_grouped(
        r, groups={"complaints": [k for k in f.columns if "complaint" in k], "plan": ["plan"],
                   "survey": [k for k in f.columns if k.startswith(("P_", "gap_"))]})
    # plan and complaints (with their resolution) are planted drivers; both matter
    assert set(imp["feature"]) == {"complaints", "plan", "survey"}
    assert imp.set_index("feature").loc[["complaints", "plan"], "auc_drop"].min() > 0.005
    ors = churn.odds_ratios(r).table
    assert np.isfinite(ors[["ci_low", "ci_high"]].to_numpy()).all()
    assert ors.loc["complaints_90d", "odds_ratio"] > 1
    rl = churn.risk_list(r, f, clv=200)
    assert rl["probability"].is_monotonic_decreasing and rl["expected_loss"].iloc[0] == pytest.approx(200 * rl["probability"].iloc[0])
    assert rl["top_reasons"].str.len().gt(0).mean() > 0.9
    g = churn.fit_churn_model(f, "churned", model="gbm", cv=3)
    assert 0.65 < g.cv_auc < 0.88


def test_time_holdout(sample):
    c, i, s, st = sample
    frames = [churn.build_features(c, i, s, a, 91).assign(as_of=pd.Timestamp(a)) for a in ("2026-01-01", "2026-04-01")]
    both = pd.concat(frames, ignore_index=True)
    r = churn.fit_churn_model(both, "churned", time_col="as_of", holdout_from="2026-04-01",
                              features=[k for k in both.columns if k not in ("customer_id", "churned", "as_of")])
    assert r.holdout_auc is not None and 0.55 < r.holdout_auc < 0.85


def test_survival(sample):
    c = sample[0]
    km = churn.km_curves(c, by="plan")
    assert set(km) == {"basic", "standard", "premium"}
    d = churn.durations(c)
    allkm = churn.km_curves(c)["all"]
    t = 400.0
    # Kaplan-Meier by hand at t: product over event times <= t of (1 - d_i / n_i)
    times = np.sort(d.loc[d["event"] == 1, "duration_days"].unique())
    s_hand = 1.0
    for ti in times[times <= t]:
        at_risk = (d["duration_days"] >= ti).sum()
        events = ((d["duration_days"] == ti) & (d["event"] == 1)).sum()
        s_hand *= 1 - events / at_risk
    assert float(allkm.survival_function_at_times([t]).iloc[0]) == pytest.approx(s_hand, rel=1e-10)
    cs = churn.conditional_survival(allkm, 365, 90)
    s = allkm.survival_function_at_times([365, 455]).to_numpy()
    assert cs == pytest.approx(s[1] / s[0])
    cox = churn.cox_model(d.assign(charges=d["monthly_charges"], basic=(d["plan"] == "basic").astype(int))[
        ["duration_days", "event", "charges", "basic"]])
    assert set(cox.params_.index) == {"charges", "basic"}


# ---- the real IBM Telco data ------------------------------------------------------------------------------
@needs_shared(TELCO)
def test_telco_logistic_auc():
    t = pd.read_csv(TELCO)
    t["TotalCharges"] = pd.to_numeric(t["TotalCharges"], errors="coerce")  # 11 blanks for tenure 0
    r = churn.fit_churn_model(t, "Churn", id_col="customerID")
    # published results for this data: 0.84-0.85; far above 0.87 would mean leakage
    assert 0.835 < r.cv_auc < 0.86
    ev = r.evaluation(n_boot=50)
    assert ev.loc["top_decile_lift", "value"] > 2.5


@needs_shared(TELCO_STATUS)
def test_telco_guard_catches_satisfaction_score():
    t = pd.read_csv(TELCO)
    st = pd.read_csv(TELCO_STATUS)
    m = t.merge(st[["Customer ID", "Satisfaction Score"]], left_on="customerID", right_on="Customer ID")
    m["churned"] = (m["Churn"] == "Yes").astype(int)
    with pytest.raises(churn.LeakageError, match="Satisfaction Score"):
        churn.leakage_check(m.drop(columns=["customerID", "Customer ID", "Churn"]), "churned")


@pytest.mark.parametrize("n, decimals", [(300, None), (257, 1), (41, 1), (1200, 2)])
def test_bootstrap_metrics_at_once_equal_one_by_one(n, decimals):
    """Every resample's metrics computed at once equal sklearn's and numpy's computed one resample at a time,
    tied scores included (to rounding)."""
    from sqmlib.churn import profit

    rng = np.random.default_rng(n)
    y = (rng.uniform(size=n) < 0.2).astype(float)
    p = np.clip(0.15 + 0.3 * y * rng.uniform(size=n) + 0.2 * rng.uniform(size=n), 0, 1)
    p = p if decimals is None else np.round(p, decimals)
    idx = np.stack([rng.integers(0, n, n) for _ in range(40)])
    idx = idx[[y[i].min() != y[i].max() for i in idx]]
    one_by_one = pd.DataFrame([profit._metric_values(y[i], p[i]) for i in idx])
    pd.testing.assert_frame_equal(profit._metric_rows(y[idx], p[idx]), one_by_one, check_exact=False,
                                  rtol=1e-12, atol=1e-12)
