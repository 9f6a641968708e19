"""PDCA: the interrupted time series and difference-in-differences against statsmodels' OLS on the same design,
the event study's pre-trend test against a hand-built F test, Kitagawa's identity, the drill-down on planted
changes, the verdict rule, the action register's bad input in one line each, and the sample's planted truth (the
surge's channel, each action's verdict) in English and Chinese, monthly as well as weekly."""
import json
import shutil

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from sqmlib import io, pdca, summary
from sqmlib.errors import SQMDataError
from sqmlib.pdca.effects import Effect, newey_west_lags
from sqmlib.render import labels
from sqmlib.sample.folders import sample_folder

from conftest import ROOT, report_on_changed_sample


@pytest.fixture(scope="module")
def sample():
    return io.load_folder(ROOT / "data" / "sample", tables=["survey", "interactions", "standards", "actions"])


@pytest.fixture(scope="module")
def result(sample):
    return pdca.run_pdca(sample)


@pytest.fixture(scope="module")
def truth():
    return json.loads((ROOT / "data" / "sample" / "truth.json").read_text())["pdca"]


# ---- interrupted time series ----------------------------------------------------------------------------
def _its_design(n, t0, t1=None, season=None):
    t = np.arange(n, dtype=float)
    cols = {"const": np.ones(n), "time": t, "level": (t >= t0) * 1.0, "slope": np.maximum(t - t0, 0) * (t >= t0)}
    if t1 is not None:
        cols["after_end"] = (t >= t1) * 1.0
    x = pd.DataFrame(cols)
    if season is not None:
        for k in range(season.shape[1]):
            x[f"season{k + 1}"] = season[:, k]
    return x


@pytest.mark.parametrize("seed, monthly, end", [(1, False, None), (2, False, 48), (3, True, None)])
def test_its_equals_statsmodels_ols_with_hac_errors(seed, monthly, end):
    rng = np.random.default_rng(seed)
    n = 60 if not monthly else 40  # 40 months: two years and more, so the annual Fourier terms enter
    idx = (pd.period_range("2023-01", periods=n, freq="M") if monthly else
           pd.period_range("2025-01-06", periods=n, freq="W"))
    y = 10 + 0.03 * np.arange(n) + rng.normal(0, 1, n) + np.where(np.arange(n) >= 30, -1.5, 0)
    y += np.sin(2 * np.pi * np.arange(n) / 12) if monthly else 0
    y[[4, 17]] = np.nan  # missing periods keep their place in time
    e = pdca.its(pd.Series(y, idx), start=idx[30], end=idx[end] if end else None)
    season = None
    if monthly:
        year = (idx.to_timestamp().dayofyear.to_numpy() - 1) / 365.25
        season = np.column_stack([f(2 * np.pi * k * year) for k in (1, 2) for f in (np.sin, np.cos)])
    x = _its_design(n, 30, end, season)
    ok = ~np.isnan(y)
    ref = sm.OLS(y[ok], x[ok]).fit(cov_type="HAC", cov_kwds={"maxlags": newey_west_lags(ok.sum()),
                                                            "use_correction": True}, use_t=True)
    assert list(e.params.index) == list(x.columns)
    np.testing.assert_allclose(e.params.to_numpy(), ref.params.to_numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(e.cov.to_numpy(), ref.cov_params().to_numpy(), rtol=0, atol=1e-10)
    # the effect: level + slope × the mean time since the start over the action's periods, a contrast of the fit
    t = np.arange(n)
    during = ok & (t >= 30) & (t < (end or n))
    c = np.zeros(len(x.columns))
    c[2], c[3] = 1.0, np.mean(t[during] - 30)
    con = ref.t_test(c)
    assert e.effect == pytest.approx(float(con.effect[0]), abs=1e-10)
    assert e.se == pytest.approx(float(con.sd[0, 0]), abs=1e-10)
    assert e.p_value == pytest.approx(float(con.pvalue), abs=1e-10)
    assert e.ci_low == pytest.approx(float(con.conf_int()[0, 0]), abs=1e-10)
    assert (e.level, e.slope) == pytest.approx((ref.params["level"], ref.params["slope"]), abs=1e-10)
    if end:
        assert np.isfinite(e.persistence) and np.isfinite(e.persistence_p)


# ---- difference-in-differences --------------------------------------------------------------------------
def _panel(seed, effect=1.5, units="ABCDE", n=50, start=30, drop=True):
    rng = np.random.default_rng(seed)
    rows = []
    for u in units:
        level = rng.normal(0, 2)
        for t in range(n):
            rows.append((u, t, level + 0.05 * t + rng.normal() + (u == "A") * (t >= start) * effect))
    p = pd.DataFrame(rows, columns=["unit", "t", "y"])
    return p.drop(index=[3, 77]) if drop else p  # an unbalanced panel


@pytest.mark.parametrize("seed, end", [(1, None), (2, 40)])
def test_did_equals_statsmodels_ols_with_driscoll_kraay_errors(seed, end):
    p = _panel(seed)
    e = pdca.did(p, unit="unit", time="t", outcome="y", treated=["A"], start=30, end=end)
    x = pd.get_dummies(p[["unit"]], drop_first=True, dtype=float)
    x = pd.concat([x, pd.get_dummies(p["t"].map("{:03d}".format), prefix="t", drop_first=True, dtype=float)], axis=1)
    x.insert(0, "const", 1.0)
    a = (p["unit"] == "A").to_numpy()
    x["during"] = (a & (p["t"] >= 30) & (p["t"] < (end or 99))).astype(float)
    if end:
        x["after"] = (a & (p["t"] >= end)).astype(float)
    ref = sm.OLS(p["y"], x).fit(cov_type="hac-groupsum", cov_kwds={"time": p["t"].to_numpy(),
                                                                   "maxlags": newey_west_lags(50)})
    np.testing.assert_allclose(e.params.to_numpy(), ref.params.to_numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(e.cov.to_numpy(), ref.cov_params().to_numpy(), rtol=0, atol=1e-10)
    assert e.effect == pytest.approx(ref.params["during"], abs=1e-10)
    assert e.se == pytest.approx(ref.bse["during"], abs=1e-10)
    if end:
        assert e.persistence == pytest.approx(ref.params["after"], abs=1e-10)


def test_the_pretrend_test_equals_a_hand_built_f_test_of_the_leads():
    """Means per unit and bin of periods, unit and bin effects, treated × bin indicators (the bin before the
    start the reference, the earliest leads pooled); the F test that the leads are zero, built with statsmodels."""
    p = _panel(4, drop=False)
    p.loc[(p["unit"] == "A") & (p["t"].between(10, 24)), "y"] += 2.0  # a treated unit drifting before the start
    e = pdca.did(p, unit="unit", time="t", outcome="y", treated=["A"], start=30, bin=5)
    b = p.assign(bin=np.floor((p["t"] - 30) / 5).astype(int)).groupby(["unit", "bin"], as_index=False)["y"].mean()
    lowest = -7  # at most six lead bins before the reference
    rel = b["bin"].clip(lower=lowest)
    x = pd.get_dummies(b["unit"], prefix="u", drop_first=True, dtype=float)
    x = pd.concat([x, pd.get_dummies(b["bin"], prefix="b", drop_first=True, dtype=float)], axis=1)
    x.insert(0, "const", 1.0)
    leads = []
    for k in sorted(rel.unique()):
        if k == -1:
            continue
        x[f"e{k}"] = ((b["unit"] == "A") & (rel == k)).astype(float)
        if k < -1:
            leads.append(f"e{k}")
    ref = sm.OLS(b["y"], x).fit()
    f = ref.f_test(", ".join(f"{c} = 0" for c in leads))
    assert e.pretrend_p == pytest.approx(float(f.pvalue), abs=1e-10)
    assert e.pretrend_p < 0.05  # the planted drift is found
    assert pdca.verdict(e, "up") == "cannot_judge"


def test_the_pretrend_test_holds_its_size_under_autocorrelated_noise():
    rng = np.random.default_rng(7)
    rejections = 0
    for _ in range(200):
        e_, rows = np.zeros(3), []
        for t in range(65):
            e_ = 0.4 * e_ + rng.normal(size=3)
            rows += [(u, t, e_[i]) for i, u in enumerate("ABC")]
        p = pd.DataFrame(rows, columns=["unit", "t", "y"])
        rejections += pdca.did(p, unit="unit", time="t", outcome="y", treated=["A"], start=35).pretrend_p < 0.05
    assert rejections / 200 < 0.10


def test_the_verdict_rule():
    def eff(effect, p, pre=20, post=10, pretrend=np.nan):
        return Effect("did", effect, 1.0, effect - 2, effect + 2, p, pre, post, pretrend_p=pretrend)
    assert pdca.verdict(eff(-3, 0.001), "down") == "effective"
    assert pdca.verdict(eff(3, 0.001), "down") == "worse"
    assert pdca.verdict(eff(3, 0.001), "up") == "effective"
    assert pdca.verdict(eff(-1, 0.2), "down") == "not_shown"
    assert pdca.verdict(eff(-3, 0.001, pre=7), "down") == "cannot_judge"
    assert pdca.verdict(eff(-3, 0.001, post=3), "down") == "cannot_judge"
    assert pdca.verdict(eff(-3, 0.001, pretrend=0.01), "down") == "cannot_judge"


# ---- where did it move? ---------------------------------------------------------------------------------
def test_kitagawa_by_hand_and_the_identity():
    d = pd.DataFrame({"q": ["a"] * 10 + ["b"] * 10,
                      "seg": list("xxxxxxyyyy") + list("xxyyyyyyzz"),
                      "v": [1, 1, 1, 0, 0, 0, 1, 0, 0, 0] + [1, 1, 1, 1, 0, 0, 0, 0, 1, 1]})
    r = pdca.decompose_change(d, value="v", by="seg", between=("q", "a", "b"))
    # by hand: before x 6 rows rate 3/6, y 4 rows rate 1/4; after x 2 rows rate 1, y 6 rate 2/6, z 2 rate 1
    w0, r0 = {"x": .6, "y": .4, "z": 0}, {"x": .5, "y": .25, "z": 1.0}  # z absent before: its rate taken equal
    w1, r1 = {"x": .2, "y": .6, "z": .2}, {"x": 1.0, "y": 2 / 6, "z": 1.0}
    for s in "xyz":
        assert r.segments.loc[s, "mix"] == pytest.approx((w1[s] - w0[s]) * (r0[s] + r1[s]) / 2, abs=1e-15)
        assert r.segments.loc[s, "rate"] == pytest.approx((r1[s] - r0[s]) * (w0[s] + w1[s]) / 2, abs=1e-15)
    assert (r.before, r.after) == pytest.approx((0.4, 0.6), abs=1e-15)
    assert r.mix + r.rate == r.change
    assert (r.segments["mix"] + r.segments["rate"] == r.segments["change"]).all()
    assert r.change == pytest.approx(r.after - r.before, abs=1e-15)


def test_kitagawa_with_weights_equals_the_weighted_means():
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"q": rng.choice(["a", "b"], 500), "seg": rng.choice(list("pqrs"), 500),
                      "v": rng.normal(5, 2, 500), "w": rng.uniform(0.2, 3, 500)})
    r = pdca.decompose_change(d, value="v", by="seg", between=("q", "a", "b"), weight="w")
    mean = {q: np.average(g["v"], weights=g["w"]) for q, g in d.groupby("q")}
    assert (r.before, r.after) == pytest.approx((mean["a"], mean["b"]), abs=1e-12)
    assert r.mix + r.rate == r.change and r.change == pytest.approx(mean["b"] - mean["a"], abs=1e-12)


def test_the_drill_down_finds_a_planted_pair_by_itself():
    rng = np.random.default_rng(5)
    n = 6000
    d = pd.DataFrame({"period": rng.choice(["before", "after"], n), "region": rng.choice(list("NSEW"), n),
                      "channel": rng.choice(["phone", "chat", "email"], n), "severity": rng.choice(["a", "b"], n)})
    extra = pd.DataFrame({"period": "after", "region": "S", "channel": "chat", "severity": rng.choice(["a", "b"], 900)})
    d = pd.concat([d, extra], ignore_index=True)
    r = pdca.drill_down(d, kpi=None, dims=["region", "channel", "severity"], before=("period", "before"),
                        after=("period", "after"))
    assert r.loc[0, "dims"] == "region × channel" and r.loc[0, "segments"] == [{"region": "S", "channel": "chat"}]
    assert r.loc[0, "power"] > 0.67
    # a summed KPI: the same answer when every row carries the value 2
    r2 = pdca.drill_down(d.assign(k=2.0), kpi="k", dims=["region", "channel"], before=("period", "before"),
                         after=("period", "after"))
    assert r2.loc[0, "segments"] == r.loc[0, "segments"] and r2.loc[0, "after"] == 2 * r.loc[0, "after"]


# ---- the sample's planted truth -------------------------------------------------------------------------
def test_the_planted_verdicts_and_the_surge_channel(result, truth):
    assert result.verdicts == {k: v["verdict"] for k, v in truth["actions"].items()}
    top = result.explanations.iloc[0]
    assert top["segments"] == [{"region": truth["surge"]["region"], "channel": truth["surge"]["channel"]}]
    m = result.metrics()
    assert [dict(seg) for seg in m.drill_down[0]["segments"]] == top["segments"] and m.complaints["after"] > m.complaints["before"]
    assert m.effects["A1"]["method"] == "did" and m.effects["A1"]["action_effect"] < 0
    assert m.standards_proposed[0]["action_id"] == "A1"
    assert m.reopened == ["A2", "A3"]
    first = m.proposed[0]
    assert first["owner"] == "Liu Yang (South operations)" and first["target"] == top["before"]
    assert first["end"] == "2026-12-31"
    # the page quotes complaints of the explanation, escaped for Markdown
    assert all(len(v) <= 3 for v in result.examples.values()) and result.examples[0]


def test_the_effect_card_counterfactual_is_the_fit_without_the_effect(result):
    d, i = result.checks["A1"]
    obs, cf = d.observed, d.counterfactual
    start = pd.Timestamp("2026-03-02").to_period("W")
    after = obs.index >= start
    # the treated unit's observed mean after the start lies below its counterfactual by about the effect
    gap = float((obs[after] - cf[after]).mean())
    assert gap == pytest.approx(d.effect, abs=0.05 * abs(d.effect))
    assert (cf[~after] - obs[~after]).abs().mean() < 1.5  # before the start the fit follows the data


def test_monthly_checks_find_the_planted_effects(sample):
    """Months instead of weeks: the two real effects are found again. (A2 has no effect; at α = .05 one check in
    twenty of a null action says otherwise, and the 15 months of this sample happen to be one for A2: its
    verdict is the weekly one's job, which the test above holds.)"""
    r = pdca.run_pdca(sample, freq="M")
    assert r.verdicts["A1"] == "effective" and r.verdicts["A3"] == "worse"
    assert r.checks["A1"][0].n_pre == 8 and r.checks["A3"][0].n_post == 5


def test_the_chinese_sample(truth):
    folder = io.load_folder(sample_folder("zh"), tables=["survey", "interactions", "standards", "actions"])
    zt = json.loads((sample_folder("zh") / "truth.json").read_text())["pdca"]
    with labels.language("zh"):
        r = pdca.run_pdca(folder)
        lines = r.findings()
    assert r.verdicts == {k: v["verdict"] for k, v in truth["actions"].items()}
    assert r.explanations.iloc[0]["segments"] == [{"region": zt["surge"]["region"], "channel": zt["surge"]["channel"]}]
    assert r.metrics().proposed[0]["owner"] == "刘洋（华南运营）"
    assert "有效" in lines[2] and not any(labels.english_words(s, ["A1", "A2", "A3", "DID"]) for s in lines[:2])


# ---- bad input ------------------------------------------------------------------------------------------
@pytest.fixture
def folder_copy(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    for name in ("instrument.yaml", "interactions.csv", "standards.csv", "actions.csv"):
        shutil.copy(ROOT / "data" / "sample" / name, d / name)
    return d


def _one_line(exc) -> str:
    lines = str(exc.value).splitlines()
    assert len(lines) == 2, lines  # the file and one problem
    return str(exc.value)


@pytest.mark.parametrize("column, value, words", [
    ("scope_values", "Atlantis", "scope or control units not in the data"),
    ("controls", "North;Mars", "scope or control units not in the data"),
    ("start", "2031-01-05", "start outside the data's dates"),
    ("start", "2025-07-01 01:01", "no data before the start"),
    ("kpi", "happiness", "kpi must be one of"),
    ("status", "finished", "status must be one of"),
    ("scope_column", "planet", "scope_column is not a column"),
])
def test_bad_action_registers_are_refused_in_one_line(folder_copy, column, value, words):
    a = pd.read_csv(folder_copy / "actions.csv", dtype=str, keep_default_na=False)
    a.loc[1, column] = value
    a.to_csv(folder_copy / "actions.csv", index=False)
    with pytest.raises(SQMDataError) as exc:
        io.load_folder(folder_copy, tables=["interactions", "standards", "actions"])
    text = _one_line(exc)
    assert "actions.csv" in text and words in text and "row 3" in text.replace("rows 3", "row 3")


def test_without_a_register_the_page_proposes_but_checks_nothing(folder_copy):
    (folder_copy / "actions.csv").unlink()
    r = pdca.run_pdca(io.load_folder(folder_copy, tables=["interactions", "standards", "actions"]))
    assert r.register is None and r.verdicts == {} and len(r.proposed) == 1
    assert any("No action register" in f for f in r.findings())
    assert r.metrics().actions == 0 and "board" in r.sections()


def test_without_tickets_the_page_is_not_available(folder_copy):
    (folder_copy / "interactions.csv").unlink()
    (folder_copy / "actions.csv").unlink()
    r = pdca.run_pdca(io.load_folder(folder_copy, tables=["interactions", "standards", "actions"]))
    assert r.unavailable


# ---- the summary --------------------------------------------------------------------------------------
def test_the_summary_lists_owned_actions_and_last_quarters_verdicts(result):
    folder = io.load_folder(ROOT / "data" / "sample")
    s = summary.run_summary(folder, quarter="2026Q3", current={"08_pdca": result.metrics()})
    items = s.todo_items()
    first = items[0]
    assert first["owner"] == "Liu Yang (South operations)" and first["due"] == "2026-12-31"
    assert first["target"] == "158" and "South, phone" in first["action"]
    assert any(i["action"].startswith("Reopen A3") and i["owner"].startswith("Zhao Min") for i in items)
    checked = s.checked()
    assert [c.split("**")[1] for c in checked] == ["A1", "A2", "A3"]
    assert "**effective**" in checked[0] and "**made it worse**" in checked[2]
    m = s.metrics()
    assert m.actions == items and m.checked == checked and m.todo == [i["action"] for i in items]
    with labels.language("zh"):
        zh = s.checked()
        todo = [s._todo_line(k, i) for k, i in enumerate(s.todo_items(), 1)]
    assert "**有效**" in zh[0] and "负责人：Liu Yang (South operations)；截止 2026-12-31" in todo[0]


def test_with_one_control_unit_the_pretrend_test_is_of_a_linear_trend():
    """Two units: treated × each lead would leave no residual; the test is then the slope of the treated unit's
    difference across the lead bins (hand-built: unit and bin effects, the slope, an indicator per bin from the
    start)."""
    p = _panel(6, units="AB", drop=False)
    p.loc[p["unit"] == "A", "y"] += 0.1 * np.minimum(p["t"], 30)  # A drifts upwards until the start
    e = pdca.did(p, unit="unit", time="t", outcome="y", treated=["A"], start=30, bin=5)
    b = p.assign(bin=np.floor((p["t"] - 30) / 5).astype(int)).groupby(["unit", "bin"], as_index=False)["y"].mean()
    rel = b["bin"].clip(lower=-7)
    x = pd.get_dummies(b["unit"], prefix="u", drop_first=True, dtype=float)
    x = pd.concat([x, pd.get_dummies(b["bin"], prefix="b", drop_first=True, dtype=float)], axis=1)
    x.insert(0, "const", 1.0)
    a = b["unit"] == "A"
    x["trend"] = (a & (rel < 0)) * (rel + 1.0)
    for k in sorted(rel[rel >= 0].unique()):
        x[f"e{k}"] = (a & (rel == k)).astype(float)
    ref = sm.OLS(b["y"], x).fit()
    assert e.pretrend_p == pytest.approx(float(ref.f_test("trend = 0").pvalue), abs=1e-10)
    assert e.pretrend_p < 0.05


def test_an_ended_action_is_checked_for_a_lasting_effect(folder_copy):
    """A1 ended on 1 June (its planted effect goes on): the effect after the end is estimated and said to last;
    the page's sentence says so."""
    a = pd.read_csv(folder_copy / "actions.csv", dtype=str, keep_default_na=False)
    a.loc[0, "end"] = "2026-06-01"
    a.to_csv(folder_copy / "actions.csv", index=False)
    r = pdca.run_pdca(io.load_folder(folder_copy, tables=["interactions", "standards", "actions"]))
    d = r.checks["A1"][0]
    assert np.isfinite(d.persistence) and d.persistence < 0 and d.persistence_p < 0.05
    assert r.verdicts["A1"] == "effective" and "the effect lasted" in r.persistence_line("A1")
    assert r.persistence_line("A2") == ""


def test_an_earlier_quarter_uses_nothing_after_it(sample):
    """The 2026Q2 page: complaints up to 2026Q2, each check on the weeks up to the quarter's end."""
    r = pdca.run_pdca(sample, quarter="2026Q2")
    assert r.complaints["previous_quarter"] == "2026Q1" and r.cause_trend.columns[-1] == "2026Q2"
    last = r.checks["A3"][0].observed.index.max()
    assert last.end_time <= pd.Timestamp("2026-07-01") and r.verdicts["A3"] == "worse"


@pytest.mark.long
def test_a_bad_action_register_stops_the_report_in_one_line(tmp_path):
    """Through the command as a user runs it: an action scoped to a region the data do not have."""
    def change(actions):
        actions.loc[2, "scope_values"] = "Atlantis"
    code, lines, stderr = report_on_changed_sample(tmp_path, "actions.csv", change)
    assert code == 1 and len(lines) == 1 and "scope or control units not in the data" in lines[0], stderr[-2000:]
    assert "actions.csv" in lines[0] and "row 4" in lines[0] and "Traceback" not in stderr
