"""KPIs: intervals against closed forms, each Western Electric rule, the alert rule on the planted
deterioration, the maturity rubric and the complaint classifier."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sqmlib import instruments, io, kpi

from conftest import ROOT

SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="module")
def survey():
    return io.load_survey(SAMPLE / "survey.csv")


def test_nps_interval_closed_form():
    x = np.array([10] * 50 + [9] * 30 + [8] * 40 + [6] * 50 + [2] * 30)  # n = 200
    r = kpi.nps_ci(x)
    pp, pd_ = 80 / 200, 80 / 200
    assert r["nps"] == pytest.approx(0.0)
    se = np.sqrt((pp + pd_ - (pp - pd_) ** 2) / 200)
    assert r["ci_high"] == pytest.approx(100 * 1.959963984540054 * se, rel=1e-9)
    # NPS as the mean of +1/0/−1 scores: the multinomial variance is that mean's variance (ddof = 0)
    v = np.where(x >= 9, 1, np.where(x <= 6, -1, 0))
    assert (r["ci_high"] - r["nps"]) / 100 == pytest.approx(1.959963984540054 * v.std() / np.sqrt(len(v)), rel=1e-9)


def test_wilson_interval_closed_form():
    lo, hi = kpi.wilson_ci(30, 120)
    # closed form: (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    z, p, n = stats.norm.ppf(0.975), 30 / 120, 120
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (lo, hi) == pytest.approx((c - h, c + h))
    from statsmodels.stats.proportion import proportion_confint

    assert (lo, hi) == pytest.approx(proportion_confint(30, 120, method="wilson"))


def test_western_electric_rules_one_by_one():
    base = np.zeros(12)
    r1 = base.copy(); r1[5] = 3.2  # noqa: E702
    r2 = base.copy(); r2[[4, 6]] = 2.3  # noqa: E702  (2 of 3 beyond 2 sigma)
    r3 = base.copy(); r3[[3, 4, 6, 7]] = 1.4  # noqa: E702  (4 of 5 beyond 1 sigma)
    r4 = np.r_[np.zeros(2), np.full(8, 0.4), np.zeros(2)]  # 8 on one side
    w = kpi.western_electric(r1)
    assert w["rule1"].tolist() == [i == 5 for i in range(12)] and not w[["rule2", "rule3", "rule4"]].any().any()
    w = kpi.western_electric(r2)
    assert w["rule2"].tolist() == [i == 6 for i in range(12)] and not w["rule1"].any()
    w = kpi.western_electric(r3)
    assert w["rule3"].tolist() == [i == 7 for i in range(12)] and not w["rule2"].any()
    w = kpi.western_electric(r4)
    assert w["rule4"].tolist() == [i == 9 for i in range(12)] and not w[["rule1", "rule2", "rule3"]].any().any()
    neg = kpi.western_electric(-r2)
    assert neg["rule2"].tolist() == w["rule2"].tolist() or neg["rule2"][6]
    mixed = np.zeros(12); mixed[[4]] = 2.3; mixed[[6]] = -2.3  # noqa: E702  opposite sides: no rule 2
    assert not kpi.western_electric(mixed)["rule2"].any()


def test_p_chart_and_imr_chart():
    k, n = np.array([10, 12, 8, 30]), np.array([100, 120, 90, 100])
    ch = kpi.p_chart(k, n)
    pbar = k.sum() / n.sum()
    assert ch["centre"].iloc[0] == pytest.approx(pbar)
    assert ch["ucl"].iloc[1] == pytest.approx(pbar + 3 * np.sqrt(pbar * (1 - pbar) / 120))
    assert ch["rule1"].tolist() == [False, False, False, True]
    x = np.array([5.0, 5.2, 4.9, 5.1, 5.0, 5.3, 4.8, 9.0])
    im = kpi.imr_chart(x)
    mrbar = np.abs(np.diff(x)).mean()
    assert im["ucl"].iloc[0] == pytest.approx(x.mean() + 2.66 * mrbar, rel=1e-3)
    assert im["rule1"].iloc[-1]


def test_alert_rule_finds_the_planted_deterioration_only(survey):
    table, alerts = kpi.nps_alerts(survey, "region")
    assert len(alerts) == 1
    a = alerts.iloc[0]
    assert (a["unit"], a["first_period"], a["last_period"], a["periods"]) == ("South", "2026-07", "2026-09", 3)
    assert a["nps"] < 0.7 * a["benchmark"]
    # the three numbers are configurable: a 4-period rule finds nothing, a milder drop still only South
    assert kpi.nps_alerts(survey, "region", periods=4)[1].empty
    assert set(kpi.nps_alerts(survey, "region", drop=0.5)[1]["unit"]) == {"South"}
    # against the company in each month, South is the one too
    assert set(kpi.nps_alerts(survey, "region", benchmark="company")[1]["unit"]) == {"South"}


def test_survey_and_ticket_kpis(survey):
    sk = kpi.survey_kpis(survey, by="region").set_index(["period", "region"])
    q = survey[(survey["quarter"] == "2026Q3") & (survey["region"] == "South")]
    row = sk.loc[("2026Q3", "South")]
    assert row["nps"] == pytest.approx(kpi.nps_ci(q["nps"])["nps"])
    assert row["csat"] == pytest.approx((q["overall_sat"].dropna() >= 6).mean())
    t = io.load_interactions(SAMPLE / "interactions.csv")
    c = io.load_customers(SAMPLE / "customers.csv")
    tk = kpi.ticket_kpis(t, c, by="region").set_index(["period", "region"])
    south, north = tk.loc[("2026Q3", "South")], tk.loc[("2026Q3", "North")]
    assert south["response_h_median"] > 2 * north["response_h_median"]
    assert south["fcr"] < north["fcr"] - 0.1
    assert south["complaints_per_1000"] > 1.5 * north["complaints_per_1000"]
    comp = kpi.quarter_comparison(survey, "2026Q3", interactions=t, customers=c).set_index("kpi")
    assert comp.loc["NPS", "significant"] and not comp.loc["NPS", "better"]
    # the planted drop is South's: there it is significant whatever the other regions do by chance
    sc = kpi.quarter_comparison(survey[survey["region"] == "South"], "2026Q3").set_index("kpi")
    assert sc.loc["NPS", "significant"] and sc.loc["NPS", "change"] < -15


def test_pareto_and_classifier():
    t = io.load_interactions(SAMPLE / "interactions.csv")
    comp = t[t["type"] == "complaint"]
    p = kpi.pareto(comp["category"])
    assert p["count"].sum() == len(comp) and p["cumulative_share"].iloc[-1] == pytest.approx(1)
    assert p["top"].sum() == 3 and p["count"].is_monotonic_decreasing
    clf = kpi.CategoryClassifier().fit(t["text"], t["category"])
    assert 0.75 <= clf.accuracy <= 0.92  # texts vary as real ones do: mixed causes, vague ones, slips, mislabels
    filled = clf.fill(comp["text"], comp["category"])
    assert filled["category"].notna().all() and filled["predicted"].sum() == (comp["category"].isna() | (comp["category"] == "")).sum()
    # the cross-validated confusion table: its diagonal share is the accuracy, its rows count the labelled tickets
    c = clf.confusion
    known = t["category"].notna() & (t["category"] != "")
    assert int(c.to_numpy().sum()) == int(known.sum())
    assert np.trace(c.to_numpy()) / c.to_numpy().sum() == pytest.approx(clf.accuracy, abs=0.01)
    assert (clf.recall > 0.5).all() and list(c.index) == list(c.columns)
    assert len(clf.most_confused()) == 3 and all(a != b for a, b, _ in clf.most_confused())


def test_maturity_rubric():
    ev = pd.DataFrame({"standards_share_meeting": [0.9, 0.9, 0.5], "error_rate": [0.001, 0.001, 0.001],
                       "fcr": [0.8, 0.6, 0.9], "response_h_median": [2, 2, 2], "complaints_per_1000_change": [0, 0, 0],
                       "nps": [30, 30, 30], "csat": [0.5, 0.5, 0.5], "churn_rate": [0.02, 0.02, 0.02]},
                      index=["A", "B", "C"])
    levels, detail = kpi.maturity(ev)
    assert levels["level"].to_dict() == {"A": 3, "B": 1, "C": 0}  # B fails level 2, so level 3 cannot count
    assert detail[(detail["unit"] == "B") & (detail["criterion"] == "fcr")]["met"].item() is False
    assert levels.loc["C", "level1_met"] == "1/2"
    missing = ev.assign(nps=[np.nan, 30, 30])
    assert kpi.maturity(missing)[0].loc["A", "level"] == 2  # a missing value is not met



# ---- panels: the same people in two waves --------------------------------------------------------------------
def _panel_survey(n=370, seed=11, repeat_share=1.0):
    """Two quarters of a panel: each person's satisfaction (1–7), likelihood to recommend (0–10) and effort
    (1–7) in 2026Q3 follows their 2026Q2 answer (persons differ much more than waves do)."""
    rng = np.random.default_rng(seed)
    person = rng.normal(size=n)
    rows = []
    for q, shift in (("2026Q2", 0.0), ("2026Q3", 0.25)):
        who = np.arange(n) if q == "2026Q2" or repeat_share == 1 else np.where(
            rng.random(n) < repeat_share, np.arange(n), np.arange(n) + 10_000)
        latent = person + shift + rng.normal(scale=0.6, size=n)
        rows.append(pd.DataFrame({
            "respondent_id": [f"{q}-{k}" for k in range(n)], "panel_id": [f"P{w}" for w in who],
            "survey_date": pd.Timestamp(f"{q[:4]}-{3 * int(q[-1]) - 1:02d}-15"), "quarter": q,
            "overall_sat": np.clip(np.round(4.6 + 1.3 * latent), 1, 7), "nps": np.clip(np.round(7 + 2 * latent), 0, 10),
            "ces": np.clip(np.round(4.5 + latent), 1, 7)}))
    return pd.concat(rows, ignore_index=True)


def test_panel_waves_are_compared_as_pairs(tmp_path):
    """Two waves of the same 370 people: CSAT's change by McNemar on the matched panellists (statsmodels, with
    R's continuity correction), CES and NPS by paired t (scipy); the independent test is what the same
    respondents would get without their panel ids."""
    import yaml
    from statsmodels.stats.contingency_tables import mcnemar

    s = _panel_survey()
    doc = yaml.safe_load((instruments.BUILTIN_DIR / "servqual.yaml").read_text(encoding="utf-8"))
    doc["columns"]["panel_id"] = {"type": "text", "role": "panel"}
    path = tmp_path / "panel.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    inst = instruments.load(path)
    assert inst.panel == "panel_id"
    t = kpi.quarter_comparison(s, "2026Q3", instrument=inst).set_index("kpi")
    a = s[s.quarter == "2026Q3"].set_index("panel_id").sort_index()
    b = s[s.quarter == "2026Q2"].set_index("panel_id").sort_index()
    top_a, top_b = a["overall_sat"] >= 6, b["overall_sat"] >= 6
    table = pd.crosstab(top_b, top_a).reindex(index=[False, True], columns=[False, True], fill_value=0)
    want = mcnemar(table.to_numpy(), exact=False, correction=True).pvalue
    csat = t.loc["CSAT (top-2-box)"]
    assert csat["test"] == "McNemar" and csat["repeated"] == 370 and csat["p_value"] == pytest.approx(want, rel=1e-12)
    assert t.loc["CES", "test"] == "paired t"
    assert t.loc["CES", "p_value"] == pytest.approx(stats.ttest_rel(a["ces"], b["ces"]).pvalue, rel=1e-12)
    score = lambda x: (x >= 9).astype(float) - (x <= 6).astype(float)  # noqa: E731
    assert t.loc["NPS", "p_value"] == pytest.approx(stats.ttest_rel(score(a["nps"]), score(b["nps"])).pvalue, rel=1e-12)
    independent = kpi.quarter_comparison(s, "2026Q3", instrument="servqual").set_index("kpi")
    assert "test" not in independent.columns
    assert t.loc["CES", "p_value"] < independent.loc["CES", "p_value"]  # pairing removes the persons' spread


def test_panel_with_some_repeated_respondents_uses_cluster_robust_errors(tmp_path):
    """Half the people answer again: the difference of the waves' means with errors clustered by person,
    equal to statsmodels' OLS with cluster-robust covariance."""
    import statsmodels.api as sm
    import yaml

    s = _panel_survey(repeat_share=0.5)
    doc = yaml.safe_load((instruments.BUILTIN_DIR / "servqual.yaml").read_text(encoding="utf-8"))
    doc["columns"]["panel_id"] = {"type": "text", "role": "panel"}
    path = tmp_path / "panel.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    t = kpi.quarter_comparison(s, "2026Q3", instrument=instruments.load(path)).set_index("kpi")
    two = s[s.quarter.isin(["2026Q2", "2026Q3"])]
    fit = sm.OLS(two["ces"].to_numpy(float), sm.add_constant((two["quarter"] == "2026Q3").astype(float).to_numpy())
                 ).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(two["panel_id"])[0]}, use_t=False)
    assert t.loc["CES", "test"] == "cluster-robust z"
    assert 150 < t.loc["CES", "repeated"] < 220
    assert t.loc["CES", "p_value"] == pytest.approx(fit.pvalues[1], rel=1e-9)


# ---- sampling weights ------------------------------------------------------------------------------------------------
def _weighted_panel_export(tmp_path, seed=21, n=800):
    """A panel export with a post-stratification weight: the sample over-represents satisfied respondents and
    the weights put them back in proportion (Kish's effective n well below n)."""
    import yaml

    rng = np.random.default_rng(seed)
    young = rng.random(n) < 0.7  # 70 % young in the sample, 35 % in the population
    sat = np.clip(np.round(rng.normal(np.where(young, 4.2, 3.4), 0.9)), 1, 5)
    nps = np.clip(np.round(rng.normal(np.where(young, 7.8, 5.6), 2.0)), 0, 10)
    ces = np.clip(np.round(rng.normal(np.where(young, 5.2, 4.4), 1.1)), 1, 7)
    weight = np.where(young, 0.35 / 0.7, 0.65 / 0.3) * rng.uniform(0.8, 1.2, n)
    dates = pd.Timestamp("2026-04-01") + pd.to_timedelta(rng.integers(0, 180, n), "D")
    df = pd.DataFrame({"respondent_id": [f"R{k}" for k in range(n)], "survey_date": dates.strftime("%Y-%m-%d"),
                       "region": rng.choice(["North", "South"], n), "overall_sat": sat, "nps": nps, "ces": ces,
                       "weight": weight.round(4)})
    df.to_csv(tmp_path / "survey.csv", index=False)
    doc = {"name": "weighted_panel", "scale": {"min": 1, "max": 5}, "blocks": {}, "items": [],
           "columns": {"respondent_id": {"type": "id", "required": True},
                       "survey_date": {"type": "date", "required": True},
                       "region": {"type": "category", "role": "segment"},
                       "overall_sat": {"type": "rating", "min": 1, "max": 5, "role": "outcome"},
                       "nps": {"type": "rating", "min": 0, "max": 10, "role": "outcome"},
                       "ces": {"type": "rating", "min": 1, "max": 7, "role": "outcome"},
                       "weight": {"type": "number", "role": "weight"}}}
    (tmp_path / "instrument.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    return df


def test_weighted_kpis_equal_weighted_frequencies_by_hand(tmp_path):
    """NPS, CSAT and CES with a post-stratification weight equal the weighted frequencies computed by hand (as
    SPSS's WEIGHT BY) and statsmodels' DescrStatsW; intervals use Kish's effective n; the page says so."""
    from statsmodels.stats.weightstats import DescrStatsW

    raw = _weighted_panel_export(tmp_path)
    folder = io.load_folder(tmp_path)
    k = kpi.run_kpis(folder, unit="region", freq="Q")
    q = raw[pd.to_datetime(raw["survey_date"]).dt.quarter.eq(3)]
    w = q["weight"]
    nps = 100 * (w[q["nps"] >= 9].sum() - w[q["nps"] <= 6].sum()) / w.sum()
    csat = w[q["overall_sat"] >= 4].sum() / w.sum()
    comp = k.comparison.set_index("kpi")
    assert comp.loc["NPS", "current"] == pytest.approx(nps, abs=1e-9)
    assert comp.loc["CSAT (top-2-box)", "current"] == pytest.approx(csat, abs=1e-12)
    assert comp.loc["CES", "current"] == pytest.approx(DescrStatsW(q["ces"], weights=w).mean, abs=1e-12)
    unweighted_nps = 100 * ((q["nps"] >= 9).mean() - (q["nps"] <= 6).mean())
    assert abs(nps - unweighted_nps) > 5  # the weights matter here
    n_eff = w.sum() ** 2 / (w ** 2).sum()
    assert k.weighted[0] == "weight" and k.weighted[1] == len(q) and k.weighted[2] == pytest.approx(n_eff, rel=1e-12)
    north = q[q.region == "North"]
    wn = north["weight"]
    p_p, p_d = wn[north["nps"] >= 9].sum() / wn.sum(), wn[north["nps"] <= 6].sum() / wn.sum()
    se = np.sqrt((p_p + p_d - (p_p - p_d) ** 2) / (wn.sum() ** 2 / (wn ** 2).sum()))
    row = k.per_unit.loc["North"]
    assert row["nps"] == pytest.approx(100 * (p_p - p_d), abs=1e-9)
    assert row["nps_ci_high"] - row["nps_ci_low"] == pytest.approx(2 * 1.959963984540054 * 100 * se, rel=1e-9)
    assert any("Weighted by" in f and f"{n_eff:,.0f}" in f for f in k.findings())
    # the summary's tiles are the same numbers
    from sqmlib import summary

    tiles = summary.headline_tiles(folder, k.quarter).set_index("kpi")
    assert tiles.loc["NPS", "current"] == pytest.approx(nps, abs=1e-9)
    assert tiles.loc["CSAT (top-2-box)", "current"] == pytest.approx(csat, abs=1e-12)


def test_a_weight_column_that_is_not_declared_is_an_audit_finding(tmp_path):
    import yaml

    from sqmlib import audit

    _weighted_panel_export(tmp_path)
    doc = yaml.safe_load((tmp_path / "instrument.yaml").read_text(encoding="utf-8"))
    del doc["columns"]["weight"]
    (tmp_path / "instrument.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    found = audit.run_audit(io.load_folder(tmp_path)).findings()
    assert any("weight" in f and "unweighted" in f for f in found)


def test_complaint_surges_are_found_and_tested():
    """A unit whose complaints rose by half or more is tested against an even split of the two quarters' count
    (the exact binomial tail, summed here with math.comb), Holm-adjusted over every unit; a smaller or a
    non-significant rise is not a surge."""
    import math

    from sqmlib.kpi.pipeline import complaint_surges

    t = pd.DataFrame({"East": [365, 375], "North": [470, 500], "South": [380, 974], "West": [10, 16]},
                     index=["2026Q2", "2026Q3"])
    found = complaint_surges(t, "2026Q3")
    assert [r["unit"] for r in found] == ["South"]  # West rose by 60 % but 16 against 10 is noise
    cur, n = 974, 974 + 380
    p = sum(math.comb(n, k) for k in range(cur, n + 1)) / 2 ** n
    assert found[0]["p_value"] == pytest.approx(p, rel=1e-9)
    assert found[0]["p_adj"] == pytest.approx(min(1.0, 4 * p), rel=1e-9)  # the smallest of four: ×4 (Holm)
    assert found[0]["rise"] == pytest.approx(974 / 380 - 1) and found[0]["previous_quarter"] == "2026Q2"
    assert complaint_surges(t, "2026Q2") == [] and complaint_surges(t, "") == []
