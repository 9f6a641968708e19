"""Service recovery: the revisit standard, time to revisit (Kaplan–Meier), the remedies' adjusted effects, the
recovery paradox, bad recovery data refused in one line, and the sample's planted truth recovered."""
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from sqmlib import io, kpi
from sqmlib.errors import SQMDataError
from sqmlib.kpi import recovery
from sqmlib.kpi.tickets import standard_attainment
from sqmlib.sample.seeds import NEVER_REVISITED, REMEDY_EFFECT, REVISIT_WITHIN_72H

from conftest import ROOT


@pytest.fixture(scope="module")
def sample():
    return io.load_folder(ROOT / "data" / "sample")


def test_the_planted_72_hour_compliance_per_region_is_recovered(sample):
    t = sample.interactions
    c = recovery.revisit_compliance(t, "region")
    for region, p in REVISIT_WITHIN_72H.items():
        expected = p * (1 - NEVER_REVISITED)  # never revisited count as missed
        assert abs(c.loc[region, "share"] - expected) < 0.035, region
        assert c.loc[region, "ci_low"] < c.loc[region, "share"] < c.loc[region, "ci_high"]
    assert c.loc["South", "share"] < c.drop(index=["all", "South"])["share"].min() - 0.15


def test_the_revisit_standard_is_a_ticket_kpi(sample):
    """The standards table's revisit_hours row is judged as revisit_compliance judges it."""
    t = sample.interactions
    att = standard_attainment(t, sample.standards, by="region")
    row = att[att["kpi"] == "revisit_hours"].set_index("unit")
    comp = recovery.revisit_compliance(t, "region", 72, until=recovery.data_end(t))
    for region in REVISIT_WITHIN_72H:
        assert row.loc[region, "share_meeting"] == pytest.approx(comp.loc[region, "share"], abs=1e-12)
        assert row.loc[region, "n"] == comp.loc[region, "n"]


def test_kaplan_meier_equals_the_plain_share_without_censoring():
    """With every remedy followed up past the horizon, 1 − S(t) is the share revisited by t."""
    rng = np.random.default_rng(1)
    n = 300
    rec = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 100, n), unit="h")
    hours = rng.exponential(50, n)
    t = pd.DataFrame({"type": "complaint", "region": rng.choice(["a", "b"], n), "remedy": "refund",
                      "opened_at": rec - pd.Timedelta(hours=5), "recovered_at": rec,
                      "revisit_at": rec + pd.to_timedelta(hours, unit="h")})
    curves = recovery.time_to_revisit(t, "region", until=t["revisit_at"].max() + pd.Timedelta(days=30),
                                      horizon=200, step=1)
    for unit, idx in [("all", t.index)] + [(u, g.index) for u, g in t.groupby("region")]:
        h = hours[idx]
        for at in (24, 72, 150):
            assert curves.loc[float(at), unit] == pytest.approx((h <= at).mean(), abs=1e-12)


def test_adjusted_means_equal_a_regression_done_independently():
    """Adjusted means and differences equal statsmodels' formula regression with HC3 and the average prediction
    with every row set to one level (g-computation by hand)."""
    rng = np.random.default_rng(7)
    n = 900
    d = pd.DataFrame({"remedy": rng.choice(["apology", "refund", "voucher"], n),
                      "severity": rng.choice(["minor", "major", "critical"], n, p=[0.6, 0.3, 0.1]),
                      "category": rng.choice(["billing", "delivery", "staff"], n)})
    d["y"] = (3 + d["remedy"].map({"apology": 0, "refund": 0.9, "voucher": 0.4})
              - d["severity"].map({"minor": 0, "major": 0.3, "critical": 0.6}) + rng.normal(0, 1, n))
    got = recovery.adjusted_means(d, "y", "remedy", ["severity", "category"], reference="apology")
    fit = smf.ols("y ~ C(remedy) + C(severity) + C(category)", data=d).fit(cov_type="HC3")
    for level in ("apology", "refund", "voucher"):
        pred = fit.predict(d.assign(remedy=level)).mean()
        assert got.loc[level, "adjusted"] == pytest.approx(pred, abs=1e-10)
    diff = fit.params["C(remedy)[T.refund]"]
    assert got.loc["refund", "difference"] == pytest.approx(diff, abs=1e-10)
    se = fit.bse["C(remedy)[T.refund]"]
    assert got.loc["refund", "diff_ci_high"] - got.loc["refund", "difference"] == pytest.approx(1.959964 * se,
                                                                                                rel=1e-5)
    assert got.loc["apology", "n"] == (d["remedy"] == "apology").sum()


def test_the_planted_remedy_effects_are_recovered(sample):
    e = recovery.remedy_effects(sample.interactions)
    sat = e["satisfaction"]
    for remedy, (effect, _) in REMEDY_EFFECT.items():
        if remedy == "apology":
            continue
        # the 1–5 answer scale clips the latent effect a little; the interval is about ±0.06
        assert sat.loc[remedy, "difference"] == pytest.approx(effect, abs=0.12), remedy
        assert sat.loc[remedy, "p_value"] < 0.001
    again = e["again"]
    assert list(again["adjusted"].sort_values().index) == ["refund", "replacement", "voucher", "apology"]


def test_recovery_paradox_on_planted_data():
    """Respondents recovered well are planted +0.5 more satisfied than those without a complaint, and equally
    likely to leave: the paradox is found on satisfaction, not on churn."""
    rng = np.random.default_rng(2)
    n = 3000
    survey = pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)],
                           "survey_date": pd.Timestamp("2026-03-01") + pd.to_timedelta(rng.integers(0, 30, n), "D"),
                           "quarter": "2026Q1", "region": rng.choice(["a", "b"], n)})
    complained = rng.random(n) < 0.3
    opened = survey["survey_date"] - pd.to_timedelta(rng.integers(10, 100, n), "D")
    tickets = pd.DataFrame({"customer_id": survey["customer_id"], "type": "complaint", "opened_at": opened,
                            "recovered_at": opened + pd.Timedelta(days=2), "revisit_sat": 5.0})[complained]
    survey["overall_sat"] = 5 + 0.5 * complained + rng.normal(0, 1, n)
    churn = np.where(rng.random(n) < 0.1, survey["survey_date"] + pd.Timedelta(days=60), pd.NaT)
    customers = pd.DataFrame({"customer_id": survey["customer_id"], "churn_date": pd.to_datetime(churn)})
    customers.loc[0, "churn_date"] = pd.Timestamp("2027-06-01")  # the data run long enough to follow everyone
    got = recovery.recovery_paradox(survey, tickets, customers, controls=("region",))
    assert got["satisfaction"].verdict == "higher"
    assert got["satisfaction"].difference == pytest.approx(0.5, abs=0.12)
    assert got["churn"].verdict == "no difference"
    assert got["satisfaction"].table.loc["recovered", "n"] == complained.sum()


def test_a_revisit_before_the_complaint_is_one_clear_problem(tmp_path):
    src = ROOT / "data" / "sample" / "interactions.csv"
    t = pd.read_csv(src, dtype=str, keep_default_na=False).head(200)
    row = t.index[t["revisit_at"] != ""][0]
    t.loc[row, "revisit_at"] = "2020-01-01 10:00"
    row2 = t.index[(t["revisit_at"] != "") & (t.index != row)][0]
    t.loc[row2, "revisit_at"] = t.loc[row2, "opened_at"]  # after the complaint, before the remedy
    t.to_csv(tmp_path / "interactions.csv", index=False)
    with pytest.raises(SQMDataError) as e:
        io.load_interactions(tmp_path / "interactions.csv")
    kinds = [(p.column, p.message, p.rows) for p in e.value.problems]
    assert ("revisit_at", "revisit_at before opened_at (the complaint)", (row + 2,)) in kinds
    assert any(c == "revisit_at" and "before recovered_at" in m and rows == (row + 2, row2 + 2)
               or rows == (row2 + 2,) for c, m, rows in kinds if "recovered_at" in m)
    assert all("\n" not in m for _, m, _ in kinds)


def test_the_kpi_page_has_recovery_in_both_languages(sample):
    from sqmlib import labels

    r = kpi.run_kpis(sample)
    assert r.recovery is not None
    m = r.metrics().recovery
    assert m["target_hours"] == 72 and set(m["paradox"]) == {"satisfaction", "churn"}
    assert {"revisit standard", "remedy satisfaction", "remedy complained again"} <= set(r.tables())
    labels.register_instrument(sample.instrument)
    try:
        with labels.language("zh"):
            lines = r.recovery.findings()
            texts = [b.content for b in r.sections()["recovery"] if b.kind == "text"]
        assert len(lines) == 4
        assert [x for x in lines + texts if labels.english_words(x, ["NPS"])] == []
    finally:
        labels.forget_instrument()


def test_churn_per_remedy_counts_as_a_loop_does(sample):
    """Leaving within 180 days of the remedy, counted row by row, equals the adjusted table's raw means; the
    sample plants no remedy effect on churn, and none is found."""
    t, cust = sample.interactions, sample.customers
    got = recovery.remedy_effects(t, customers=cust)["churn"]
    end = recovery.data_end(t)
    churn_date = dict(zip(cust["customer_id"], cust["churn_date"]))
    counts: dict = {}
    for row in t[(t["type"] == "complaint") & t["remedy"].notna()].itertuples():
        if pd.isna(row.recovered_at) or row.recovered_at + pd.Timedelta(days=180) > end:
            continue
        cd = churn_date.get(row.customer_id)
        left = cd is not None and not pd.isna(cd) and row.recovered_at < cd <= row.recovered_at + pd.Timedelta(days=180)
        n, k = counts.get(row.remedy, (0, 0))
        counts[row.remedy] = (n + 1, k + left)
    for remedy, (n, k) in counts.items():
        assert got.loc[remedy, "n"] == n and got.loc[remedy, "mean"] == pytest.approx(k / n, abs=1e-12)
    assert (got["p_value"].dropna() > 0.05).all()


@pytest.mark.long
def test_bad_recovery_or_kano_data_stop_the_report_in_one_line(tmp_path):
    """Through the command as a user runs it: a revisit dated before its complaint, and a KANO pair whose
    dysfunctional question is not in the file, each stop the build with one line naming the problem."""
    import shutil
    import subprocess
    import sys

    for case in ("revisit", "kano"):
        data = tmp_path / case
        shutil.copytree(ROOT / "data" / "sample", data)
        if case == "revisit":
            t = pd.read_csv(data / "interactions.csv", dtype=str, keep_default_na=False)
            t.loc[t.index[t["revisit_at"] != ""][0], "revisit_at"] = "2020-01-01 10:00"
            t.to_csv(data / "interactions.csv", index=False)
            want = "revisit_at before opened_at"
        else:
            text = (data / "instrument.yaml").read_text(encoding="utf-8")
            text = text.replace("      dimension: reliability\n", "      dimension: reliability\n"
                                "      sources: {dysfunctional: KD_not_asked}\n", 1)
            (data / "instrument.yaml").write_text(text, encoding="utf-8")
            want = "KANO attribute 'correct_bill' has its functional question in the file but not the other half"
        r = subprocess.run([sys.executable, "-m", "sqmlib.cli", "report", "--data", str(data), "--out",
                            str(tmp_path / f"out-{case}"), "--no-progress", "--no-pdf"], capture_output=True,
                           text=True, timeout=600)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode == 1 and len(lines) == 1 and want in lines[0], r.stderr[-2000:]
        assert "Traceback" not in r.stderr
