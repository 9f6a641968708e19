"""Gap analysis checked against scipy/statsmodels, closed forms and the generator's ground truth."""
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sqmlib import SQMDataError, audit, gaps, instruments, io
from sqmlib.gaps import paired as gaps_paired, segments as gaps_segments

from conftest import ROOT

SAMPLE = ROOT / "data" / "sample"
INST = instruments.load("servqual")


@pytest.fixture(scope="module")
def sample():
    s = io.load_survey(SAMPLE / "survey.csv")
    return s[~audit.careless(s, INST)]


def test_paired_table_equals_scipy():
    rng = np.random.default_rng(0)
    P = rng.integers(1, 8, (300, 4)).astype(float)
    E = np.clip(P + rng.integers(-3, 3, (300, 4)), 1, 7)
    P[rng.random(P.shape) < 0.1] = np.nan
    t = gaps.paired_table(P, E, list("abcd"), confidence=0.9)
    for j in range(4):
        m = ~np.isnan(P[:, j]) & ~np.isnan(E[:, j])
        ref = stats.ttest_rel(P[m, j], E[m, j])
        ci = ref.confidence_interval(0.90)
        row = t.iloc[j]
        assert row["n"] == m.sum()
        assert row["t"] == pytest.approx(ref.statistic, rel=1e-12)
        assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-12)
        d = P[m, j] - E[m, j]
        assert row["wilcoxon_p"] == pytest.approx(stats.wilcoxon(d, method="approx").pvalue, rel=1e-9)
        assert row["dz"] == pytest.approx(d.mean() / d.std(ddof=1), rel=1e-12)
        assert row["share_below"] == pytest.approx(np.mean(d < 0)) and row["share_meet"] == pytest.approx(np.mean(d == 0))


def test_wilcoxon_non_integer_differences():
    rng = np.random.default_rng(1)
    d = np.round(rng.normal(-0.2, 1, 500), 2)  # ties at two decimals, some zeros
    d[:7] = 0
    assert gaps_paired._wilcoxon_p(d) == pytest.approx(stats.wilcoxon(d, method="approx").pvalue, rel=1e-9)


def test_holm_and_bh():
    p = np.array([0.01, 0.04, 0.03, 0.2, np.nan])
    holm = gaps.adjust_p(p, "holm")
    # Holm by hand: sorted 0.01, 0.03, 0.04, 0.2 times 4, 3, 2, 1, made monotone
    np.testing.assert_allclose(holm[:4], [0.04, 0.09, 0.09, 0.2])
    assert np.isnan(holm[4])
    bh = gaps.adjust_p(p, "bh")
    np.testing.assert_allclose(bh[:4], [0.04, 0.0533333333, 0.0533333333, 0.2])


def test_holm_equals_statsmodels_exactly():
    """The Holm adjustment is statsmodels' to the last bit: random p-values, ties, values adjusted past 1."""
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(3)
    for p in (rng.uniform(size=50), rng.uniform(size=7) ** 4, np.array([0.2, 0.01, 0.2, 0.01, 0.5, 0.9, 0.9]),
              np.array([0.3])):
        assert np.array_equal(gaps_paired.holm(p), multipletests(p, method="holm")[1])


def test_true_gaps_inside_intervals(sample):
    """The generator's exact gaps lie inside the 95 % intervals (2025Q4, all regions alike)."""
    truth = json.loads((SAMPLE / "truth.json").read_text())
    means = pd.read_csv(SAMPLE / "truth_item_means.csv", dtype={"item": str})
    # the truth describes genuine respondents: the planted straight-liners are left out, as the report does
    sample = sample[~audit.flag_straightliners(sample, INST)]
    q = sample[sample["quarter"] == "2025Q4"]
    t = gaps.servqual_gaps(q, INST)
    dims = t[t["level"] == "dimension"].set_index("name")
    for d, g in truth["true_gap_per_dimension"].items():
        assert dims.loc[d, "ci_low"] <= g <= dims.loc[d, "ci_high"], d
    base = means[(means.quarter == "2025Q4") & (means.region == "North")].pivot(index="item", columns="block",
                                                                                values="true_mean")
    true_item = base["P"] - base["E"]
    items = t[t["level"] == "item"].set_index("name")
    inside = ((items["ci_low"] <= true_item) & (true_item <= items["ci_high"])).mean()
    assert inside >= 0.85  # 95 % intervals: about 21 of 22 expected
    # the planted deterioration, South in 2026Q3 (about 500 respondents): five 95 % intervals may miss once
    # by chance, so each is checked with its 99.9 % interval, which a real bias would still miss
    south = sample[(sample["quarter"] == "2026Q3") & (sample["region"] == "South")]
    st = gaps.servqual_gaps(south, INST, confidence=0.999).query("level == 'dimension'").set_index("name")
    for d, g in truth["true_gap_per_dimension_deteriorated"].items():
        assert st.loc[d, "ci_low"] <= g <= st.loc[d, "ci_high"], d


def test_table_shape_and_adjustment(sample):
    q = sample[sample["quarter"] == "2026Q3"]
    t = gaps.servqual_gaps(q, INST, adjust="holm")
    assert list(t["level"].value_counts().sort_index()) == [5, 22, 1]
    items = t[t["level"] == "item"]
    np.testing.assert_allclose(items["p_adj"], gaps.adjust_p(items["p_value"], "holm"))
    assert (items["p_adj"] >= items["p_value"]).all()
    np.testing.assert_allclose(items[["share_exceed", "share_meet", "share_below"]].sum(axis=1), 1.0)
    # dimension score = respondent mean of its items: check one dimension by hand
    pc, ec = q[INST.item_columns("P", "assurance")], q[INST.item_columns("E", "assurance")]
    p, e = pc.mean(axis=1), ec.mean(axis=1)
    ok = (pc.notna().sum(axis=1) >= 2) & (ec.notna().sum(axis=1) >= 2)  # at least half of the 4 items
    row = t[(t["level"] == "dimension") & (t["name"] == "assurance")].iloc[0]
    assert row["gap"] == pytest.approx((p[ok] - e[ok]).mean(), abs=1e-12)


def test_segments_and_single_respondent_warning(sample):
    q = sample[sample["quarter"] == "2026Q3"]
    t = gaps.servqual_gaps(q, INST, by="region", wilcoxon=False)
    assert set(t["region"]) == {"East", "North", "South", "West"} and len(t) == 4 * 28
    south = t[(t["region"] == "South") & (t["level"] == "dimension")].set_index("name")
    direct = gaps.servqual_gaps(q[q["region"] == "South"], INST, wilcoxon=False)
    assert south.loc["responsiveness", "gap"] == pytest.approx(
        direct.query("level == 'dimension' and name == 'responsiveness'")["gap"].iloc[0])
    tiny = pd.concat([q[q["region"] == "North"].head(30), q[q["region"] == "South"].head(1)])
    with pytest.warns(UserWarning, match="single respondent.*South"):
        tt = gaps.servqual_gaps(tiny, INST, by="region")
    lone = tt[tt["region"] == "South"]
    assert lone["ci_low"].isna().all() and lone["note"].str.contains("fewer than two").all()


def test_weights():
    rng = np.random.default_rng(2)
    n = 200
    df = pd.DataFrame({c: rng.integers(1, 8, n).astype(float) for c in INST.item_columns("E") + INST.item_columns("P")})
    w = {"tangibles": 10, "reliability": 30, "responsiveness": 20, "assurance": 20, "empathy": 20}
    t = gaps.servqual_gaps(df, INST, weights=w)
    dims = t[t["level"] == "dimension"].set_index("name")["gap"]
    weighted = t[t["name"] == "weighted"]["gap"].iloc[0]
    assert weighted == pytest.approx(sum(dims[d] * v / 100 for d, v in w.items()), abs=1e-12)
    # stated weights: a respondent without points gets the mean weights of the others
    for d in INST.dimensions:
        df[f"I_{d}"] = 20.0
    df.loc[0, "I_tangibles"], df.loc[0, "I_empathy"] = 40.0, 0.0
    df.loc[1, [f"I_{d}" for d in INST.dimensions]] = np.nan
    rw = gaps.respondent_weights(df, INST, "stated")
    np.testing.assert_allclose(rw.sum(axis=1), 1.0)
    assert rw.loc[0, "tangibles"] == pytest.approx(0.4)
    np.testing.assert_allclose(rw.loc[1].to_numpy(), rw.drop(index=1).mean().to_numpy())


def test_servperf_mode(sample):
    q = sample[sample["quarter"] == "2026Q3"]
    with pytest.warns(UserWarning, match="SERVPERF"):
        t = gaps.servqual_gaps(q, "servperf")
    assert "gap" not in t.columns and "mean_p" in t.columns
    row = t[(t["level"] == "item") & (t["name"] == "05")].iloc[0]
    assert row["mean_p"] == pytest.approx(q["P05"].mean())


def test_mismatched_blocks_are_clear(sample, tmp_path):
    q = sample.head(50).drop(columns=["E07"])
    with pytest.raises(SQMDataError, match=r"block E lacks columns \['E07'\]"):
        gaps.servqual_gaps(q, INST)


def test_zone_of_tolerance(sample):
    q = sample[sample["quarter"] == "2026Q3"]
    z = gaps.zone_of_tolerance(q, INST).set_index("item")
    m = q[["P05", "A05"]].dropna()
    assert z.loc["05", "msa"] == pytest.approx((m["P05"] - m["A05"]).mean())
    assert (z[["n_below", "n_within", "n_above"]].sum(axis=1) == z["n"]).all()
    assert set(z["position"]) <= {"below", "within", "above"}
    lo, hi = z["mean_adequate"], z["mean_desired"]
    expected = np.where(z["mean_p"] < lo, "below", np.where(z["mean_p"] > hi, "above", "within"))
    assert (z["position"] == expected).all()


def test_ipa(sample):
    q = sample[sample["quarter"] == "2026Q3"]
    r = gaps.ipa(q, INST, rule="mean")
    t = r.table
    assert t.loc["05", "importance"] == pytest.approx(q["P05"].corr(q["overall_sat"]))
    imp, perf = r.crosshair["mean"]
    assert imp == pytest.approx(t["importance"].mean()) and perf == pytest.approx(t["performance"].mean())
    for name, row in t.iterrows():
        hi_i, hi_p = row["importance"] >= imp, row["performance"] >= perf
        assert row["quadrant"] == gaps.QUADRANTS[(hi_i, hi_p)]
    changed = set(r.changes["name"])
    for name, row in t.iterrows():
        assert (name in changed) == (len({row["quadrant_mean"], row["quadrant_median"], row["quadrant_midpoint"]}) > 1)
    assert r.crosshair["midpoint"][1] == 4.0
    d = gaps.ipa(q, INST, level="dimension", importance="stated")
    assert d.table["importance"].sum() == pytest.approx(100)
    # the planted responsiveness shortfall matters to satisfaction: its items that also carry the next
    # dimension (cross-loadings) correlate most with satisfaction and are to be concentrated on
    assert {"11", "13"} <= set(r.concentrate_here())
    with pytest.raises(SQMDataError, match="IMP block"):
        gaps.ipa(q, INST, level="item", importance="stated")


def test_gap1_and_standards(sample):
    mgmt = io.load_management(SAMPLE / "management.csv")
    q = sample[sample["quarter"] == "2026Q3"]
    g1 = gaps.gap1(mgmt, q, INST).set_index("item")
    assert g1.loc["11", "gap1"] == pytest.approx(mgmt["E11"].mean() - q["E11"].mean())
    # managers were generated to underestimate responsiveness and empathy expectations
    by_dim = g1.groupby("dimension")["gap1"].mean()
    assert by_dim["responsiveness"] < -0.4 and by_dim["empathy"] < -0.3
    inter = io.load_interactions(SAMPLE / "interactions.csv")
    std = io.load_standards(SAMPLE / "standards.csv")
    att = gaps.standard_attainment(inter, std, by="region", start="2026-07-01", end="2026-10-01")
    row = att[(att["kpi"] == "first_response_hours") & (att["severity"] == "major") & (att["unit"] == "East")].iloc[0]
    c = inter[(inter["opened_at"] >= "2026-07-01") & (inter["opened_at"] < "2026-10-01") & (inter["type"] == "complaint")
              & (inter["severity"] == "major") & (inter["region"] == "East")]
    hours = (c["first_response_at"] - c["opened_at"]).dt.total_seconds() / 3600
    assert row["n"] == len(c) and row["share_meeting"] == pytest.approx((hours <= 4).mean())
    south = att[(att["kpi"] == "closure_hours") & (att["unit"] == "South")]["share_meeting"].iloc[0]
    north = att[(att["kpi"] == "closure_hours") & (att["unit"] == "North")]["share_meeting"].iloc[0]
    assert south < north - 0.1  # slower closures planted in the South
    summary = gaps.gaps_model_summary(gaps.servqual_gaps(q, INST), g1.reset_index(), att)
    assert list(summary["gap_number"]) == [1, 2, 3, 4, 5]
    assert summary.loc[summary["gap_number"] == 2, "status"].str.startswith("not measured").all()
    assert summary["value"].notna().sum() == 3


def test_segment_differences(sample):
    from statsmodels.stats.oneway import anova_oneway

    q = sample[sample["quarter"] == "2026Q3"]
    omni, pairs = gaps.segment_differences(q, INST, "region")
    g = gaps_segments._respondent_gaps(q, INST, "dimension")
    groups = [g.loc[q["region"] == r, "responsiveness"].dropna() for r in sorted(q["region"].unique())]
    ref = anova_oneway(groups, use_var="unequal")
    row = omni.set_index("name").loc["responsiveness"]
    assert row["welch_F"] == pytest.approx(ref.statistic, rel=1e-10)
    assert row["welch_p"] == pytest.approx(ref.pvalue, rel=1e-8)
    assert row["kruskal_H"] == pytest.approx(stats.kruskal(*groups).statistic, rel=1e-12)
    resp = pairs[pairs["name"] == "responsiveness"]
    assert len(resp) == 6
    np.testing.assert_allclose(resp["p_adj"], gaps.adjust_p(resp["p_value"], "holm"))
    south_pairs = resp[(resp["segment_a"] == "South") | (resp["segment_b"] == "South")]
    assert (south_pairs["p_adj"] < 0.001).all()
    others = resp[(resp["segment_a"] != "South") & (resp["segment_b"] != "South")]
    assert (others["p_adj"] > 0.01).all()


def test_gap_trend(sample):
    t = gaps.gap_trend(sample, INST)
    r = t[(t["name"] == "responsiveness")].set_index("quarter")
    g = gaps_segments._respondent_gaps(sample, INST, "dimension")["responsiveness"]
    a = g[sample["quarter"] == "2026Q3"].dropna()
    b = g[sample["quarter"] == "2026Q2"].dropna()
    assert r.loc["2026Q3", "change"] == pytest.approx(a.mean() - b.mean())
    assert r.loc["2026Q3", "change_p"] == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-9)
    assert np.isnan(r.loc["2025Q4", "change"])


def test_largest_gaps_text(sample):
    q = sample[sample["quarter"] == "2026Q3"]
    lines = gaps.largest_gaps(gaps.servqual_gaps(q, INST), 3, instrument=INST)
    assert len(lines) == 3 and all("short of expectations" in line for line in lines)


def _scaled(w):
    """Weights scaled to sum to Kish's effective n: statsmodels' DescrStatsW then gives the weighted mean, the
    variance Σw(x − x̄)²/Σw · n_eff/(n_eff − 1) and nobs = n_eff."""
    return w * w.sum() / (w * w).sum()


def test_sampling_weights_in_segments_trend_zone_and_servperf(sample):
    """Segment tests, the quarter trend, the zone of tolerance and the SERVPERF table with sampling weights,
    each against statsmodels' DescrStatsW / CompareMeans on the rows (Welch's test on Kish's n)."""
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    rng = np.random.default_rng(5)
    s = sample.assign(wt=rng.choice([0.4, 1.0, 2.5], len(sample)))
    q = s[s["quarter"] == "2026Q3"]
    omni, pairs = gaps.segment_differences(q, INST, "region", sample_weight="wt")
    g = gaps_segments._respondent_gaps(q, INST, "dimension")["responsiveness"]
    ok = g.notna()
    east, north = ((g[ok & (q["region"] == r)].to_numpy(), q.loc[ok & (q["region"] == r), "wt"].to_numpy())
                   for r in ("East", "North"))
    da, db = DescrStatsW(east[0], weights=_scaled(east[1])), DescrStatsW(north[0], weights=_scaled(north[1]))
    t, p, _ = CompareMeans(da, db).ttest_ind(usevar="unequal")
    row = pairs[(pairs["name"] == "responsiveness") & (pairs["segment_a"] == "East")
                & (pairs["segment_b"] == "North")].iloc[0]
    assert row["diff"] == pytest.approx(da.mean - db.mean, abs=1e-12)
    assert row["t"] == pytest.approx(t, rel=1e-10) and row["p_value"] == pytest.approx(p, rel=1e-8)
    o = omni.set_index("name").loc["responsiveness"]
    assert o["gap_East"] == pytest.approx(da.mean, abs=1e-12) and np.isnan(o["kruskal_p"])
    # Welch's ANOVA from weighted means and variances on Kish's n, written out (Welch 1951)
    mom = []
    for r in sorted(q["region"].unique()):
        x, w = g[ok & (q["region"] == r)].to_numpy(), q.loc[ok & (q["region"] == r), "wt"].to_numpy()
        d = DescrStatsW(x, weights=_scaled(w))
        mom.append((d.mean, d.var_ddof(1), d.sum_weights))
    m, v, n = map(np.array, zip(*mom))
    wi = n / v
    k = len(m)
    mw = (wi * m).sum() / wi.sum()
    lam = ((1 - wi / wi.sum()) ** 2 / (n - 1)).sum()
    F = (wi * (m - mw) ** 2).sum() / (k - 1) / (1 + 2 * (k - 2) / (k * k - 1) * lam)
    assert o["welch_F"] == pytest.approx(F, rel=1e-10)
    assert o["welch_p"] == pytest.approx(stats.f.sf(F, k - 1, (k * k - 1) / (3 * lam)), rel=1e-8)
    # the trend: weighted quarter means, Welch's change on Kish's n
    tr = gaps.gap_trend(s, INST, sample_weight="wt").set_index(["name", "quarter"])
    G = gaps_segments._respondent_gaps(s, INST, "dimension")["overall"]
    d3, d2 = (DescrStatsW(G[G.notna() & (s["quarter"] == qq)].to_numpy(),
                          weights=_scaled(s.loc[G.notna() & (s["quarter"] == qq), "wt"].to_numpy()))
              for qq in ("2026Q3", "2026Q2"))
    r = tr.loc[("overall", "2026Q3")]
    assert r["gap"] == pytest.approx(d3.mean, abs=1e-12) and r["n_eff"] == pytest.approx(d3.sum_weights)
    lo, hi = d3.tconfint_mean()
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((lo, hi), rel=1e-10)
    assert r["change_p"] == pytest.approx(CompareMeans(d3, d2).ttest_ind(usevar="unequal")[1], rel=1e-8)
    # zone of tolerance and SERVPERF means
    z = gaps.zone_of_tolerance(q, INST, sample_weight="wt").set_index("item")
    both = q[["P05", "A05"]].notna().all(axis=1)
    assert z.loc["05", "msa"] == pytest.approx(np.average(q.loc[both, "P05"] - q.loc[both, "A05"],
                                                          weights=q.loc[both, "wt"]), abs=1e-12)
    sp = gaps.servperf_table(q, "servperf", sample_weight="wt")
    row = sp[(sp["level"] == "item") & (sp["name"] == "05")].iloc[0]
    x = q["P05"].notna()
    d = DescrStatsW(q.loc[x, "P05"].to_numpy(), weights=_scaled(q.loc[x, "wt"].to_numpy()))
    assert row["mean_p"] == pytest.approx(d.mean, abs=1e-12) and row["ci_low"] == pytest.approx(d.tconfint_mean()[0])


def test_gap_trend_pairs_the_people_of_a_panel(sample):
    """Two quarters answered by the same people: the change of each gap is the paired t (scipy's ttest_rel on
    each person's two gaps); when only some repeat, a cluster-robust z (statsmodels OLS clustered by person)."""
    import statsmodels.api as sm

    cols = INST.item_columns("P", "empathy") + INST.item_columns("E", "empathy")
    full = sample[sample[cols].notna().all(axis=1)]  # everyone has an empathy gap in both quarters
    a = full[full["quarter"] == "2026Q2"].head(300).reset_index(drop=True)
    b = full[full["quarter"] == "2026Q3"].head(300).reset_index(drop=True)
    people = [f"P{k}" for k in range(300)]
    s = pd.concat([a.assign(pid=people), b.assign(pid=people)], ignore_index=True)
    t = gaps.gap_trend(s, INST, panel="pid").set_index(["name", "quarter"])
    g = gaps_segments._respondent_gaps(s, INST, "dimension")
    pair = pd.DataFrame({"cur": g["empathy"][s["quarter"] == "2026Q3"].to_numpy(),
                         "prev": g["empathy"][s["quarter"] == "2026Q2"].to_numpy()}).dropna()
    ref = stats.ttest_rel(pair["cur"], pair["prev"])
    row = t.loc[("empathy", "2026Q3")]
    assert row["change_test"] == "paired t" and row["change_p"] == pytest.approx(ref.pvalue, rel=1e-10)
    ci = ref.confidence_interval(0.95)
    assert (row["change_ci_low"], row["change_ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-10)
    # a third of the people answered only once: cluster-robust errors, each person a cluster
    s2 = s.assign(pid=[p if k % 3 else f"{p}-{q}" for k, (p, q) in enumerate(zip(s["pid"], s["quarter"]))])
    t2 = gaps.gap_trend(s2, INST, panel="pid").set_index(["name", "quarter"])
    y = g["empathy"]
    ok = y.notna()
    fit = sm.OLS(y[ok].to_numpy(), sm.add_constant((s.loc[ok, "quarter"] == "2026Q3").to_numpy(float))).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(s2.loc[ok, "pid"])[0]}, use_t=False)
    row = t2.loc[("empathy", "2026Q3")]
    assert row["change_test"] == "cluster-robust z" and row["change_p"] == pytest.approx(fit.pvalues[1], rel=1e-8)
    assert row["change"] == pytest.approx(fit.params[1], abs=1e-12)


def test_ipa_with_sampling_weights(sample):
    """Weighted performance (DescrStatsW's mean) and derived importance (the weighted correlation from numpy's
    cov with aweights); unit weights give the unweighted map."""
    from statsmodels.stats.weightstats import DescrStatsW

    q = sample[sample["quarter"] == "2026Q3"]
    w = np.random.default_rng(4).choice([0.5, 1.0, 2.0], len(q))
    s = q.assign(wt=w)
    r = gaps.ipa(s, INST, level="item", importance="derived", sample_weight="wt").table
    ok = s[["P05", "overall_sat"]].notna().all(axis=1)
    C = np.cov(s.loc[ok, "P05"], s.loc[ok, "overall_sat"], aweights=s.loc[ok, "wt"])
    assert r.loc["05", "importance"] == pytest.approx(C[0, 1] / np.sqrt(C[0, 0] * C[1, 1]), abs=1e-12)
    x = s["P05"].notna()
    assert r.loc["05", "performance"] == pytest.approx(DescrStatsW(s.loc[x, "P05"], weights=s.loc[x, "wt"]).mean)
    plain = gaps.ipa(q, INST, level="item", importance="derived").table
    unit = gaps.ipa(q.assign(wt=1.0), INST, level="item", importance="derived", sample_weight="wt").table
    assert np.allclose(plain[["importance", "performance"]], unit[["importance", "performance"]], atol=1e-12)


def test_welch_anova_with_a_group_without_spread_is_undefined():
    """A group whose answers are all equal has infinite weight in Welch's ANOVA: the test is undefined (NaN, as
    R's oneway.test), without numpy's divide-by-zero warnings reaching a page."""
    import warnings

    from sqmlib.gaps.segments import welch_anova

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        F, df1, df2, p = welch_anova([np.array([4.0, 4.0, 4.0]), np.array([1.0, 2.0, 3.0])])
    assert np.isnan(F) and df1 == 1 and np.isnan(p)
