"""The run_* layer: the data folder, periods, ticket rules, each pipeline's result object, and the explorers and
lessons giving the same numbers as the report's pipelines."""
import dataclasses
import hashlib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sqmlib.audit import careless
from sqmlib import (SQMArgumentError, SQMDataError, audit, churn, drivers, explore, gaps, io, kpi, periods,
                    reliability, sem, summary, tickets)
from sqmlib.training import exercises
from sqmlib.io import folder as io_folder, survey as io_survey, tables as io_tables


# ---- periods ------------------------------------------------------------------------------------------------
def test_periods():
    assert periods.quarter_bounds("2026Q4") == (pd.Timestamp("2026-10-01"), pd.Timestamp("2027-01-01"))
    assert periods.previous_quarter("2026Q1") == "2025Q4" and periods.next_quarter("2025Q4") == "2026Q1"
    assert periods.months("2026Q3") == ["2026-07", "2026-08", "2026-09"]
    assert periods.month_bounds("2026-02") == (pd.Timestamp("2026-02-01"), pd.Timestamp("2026-03-01"))
    assert periods.last_day("2026Q1") == pd.Timestamp("2026-03-31")
    d = pd.Series([pd.Timestamp("2026-03-31 23:59"), pd.Timestamp("2026-04-01"), pd.NaT])
    assert periods.quarter_of(d).tolist() == ["2026Q1", "2026Q2", None]
    assert periods.period_of(d.dropna(), "M").tolist() == ["2026-03", "2026-04"]
    assert periods.in_period(d, *periods.quarter_bounds("2026Q1")).tolist() == [True, False, False]
    assert periods.followed_up("2026Q1", 183, "2026-09-30") and not periods.followed_up("2026Q1", 184, "2026-09-30")
    with pytest.raises(SQMArgumentError, match="2026Q3"):
        periods.quarter_bounds("2026-3")
    with pytest.raises(SQMArgumentError, match="freq"):
        periods.period_of(d, "W")


# ---- ticket rules -------------------------------------------------------------------------------------------
def _tickets():
    t0 = pd.Timestamp("2026-01-05 09:00")
    hours = lambda h: t0 + pd.to_timedelta(h, unit="h")  # noqa: E731
    return pd.DataFrame({
        "opened_at": [t0] * 4,
        "first_response_at": [hours(0.5), hours(3), hours(30), pd.NaT],
        "closed_at": [hours(10), hours(20), hours(40), pd.NaT],
        "severity": ["critical", "major", "minor", "minor"],
    })


def test_breaches_follow_the_standards_and_their_direction():
    t = _tickets()
    # defaults: critical 1 h, major 4 h, minor 24 h to respond; close within 24 h
    assert tickets.breaches(t, None).tolist() == [False, False, True, False]
    std = pd.DataFrame({"kpi": ["first_response_hours", "first_response_hours", "closure_hours"],
                        "severity": ["major", "minor", ""], "target": [2.0, 48.0, 24.0],
                        "direction": ["at_most", "at_most", "at_most"]})
    assert tickets.breaches(t, std).tolist() == [False, True, True, False]
    # an at_least rule: a response sooner than the target breaks it (e.g. a cooling-off period)
    std.loc[0, "direction"] = "at_least"
    std.loc[0, "target"] = 5.0
    assert tickets.breaches(t, std).tolist() == [False, True, True, False]
    std.loc[0, "target"] = 2.0
    assert tickets.breaches(t, std).tolist() == [False, False, True, False]
    with pytest.raises(SQMArgumentError, match="direction"):
        tickets.meets(1.0, 2.0, "below")
    assert tickets.response_hours(t).tolist()[:3] == [0.5, 3.0, 30.0]


# ---- the data folder ----------------------------------------------------------------------------------------
READERS = (io_folder, io_survey, io_tables)


def sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_load_folder_reads_each_file_once(small_dir, monkeypatch):
    before = {p.name: sha(p) for p in small_dir.iterdir()}
    calls = []
    real = io.read_table
    for module in READERS:  # every loader that reads a file
        monkeypatch.setattr(module, "read_table", lambda path, **kw: calls.append(path) or real(path, **kw))
    folder = io.load_folder(small_dir)
    assert sorted(p.name for p in map(lambda c: __import__("pathlib").Path(c), calls)) == sorted(
        f.name for f in folder.files.values())
    assert set(folder.tables()) == {"survey", "customers", "interactions", "standards", "management", "visits",
                                    "visit_items", "calibration", "actions", "transactions", "campaigns", "feedback"}
    assert {p.name: sha(p) for p in small_dir.iterdir()} == before
    assert folder.latest_quarter == "2026Q3" and folder.quarters == ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    assert folder.sources["survey"]["format"] == "csv" and folder.sources["survey"]["n_rows_file"] == 800


def test_latest_quarter_reads_the_quarter_column_alone(small_dir, monkeypatch):
    seen = []
    real = io.read_table
    for module in READERS:
        monkeypatch.setattr(module, "read_table", lambda path, **kw: seen.append(kw) or real(path, **kw))
    assert io.latest_quarter(small_dir) == "2026Q3"
    assert seen[-1]["usecols"] == ["quarter"]


def test_folder_methods(small_dir):
    folder = io.load_folder(small_dir)
    q2 = folder.until("2026Q2")
    assert q2.survey["survey_date"].max() < pd.Timestamp("2026-07-01")
    assert q2.interactions["opened_at"].max() < pd.Timestamp("2026-07-01") and len(q2.customers) == 800
    clean = folder.without_careless()
    flagged = int(audit.careless(folder.survey, folder.instrument).sum())
    assert clean.careless_dropped == flagged and len(clean.survey) == len(folder.survey) - flagged
    assert len(folder.survey_of("2026Q1")) == 200 and folder.quarter("") == "2026Q3"
    with pytest.raises(SQMArgumentError, match="2030Q1"):
        folder.quarter("2030Q1")
    only = io.load_folder(survey_file=small_dir / "survey.csv")
    assert set(only.tables()) == {"survey"} and only.missing("customers") == ["customers"]
    with pytest.raises(SQMDataError, match="customers"):
        only.require("customers", purpose="churn prediction")
    assert not churn.run_churn(only).metrics_json().keys() - {"skipped"}
    with pytest.raises(SQMDataError, match="not found"):
        io.load_folder(small_dir / "nowhere")


# ---- the result objects -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def folder(small_dir):
    return io.load_folder(small_dir)


@pytest.fixture(scope="module")
def results(folder):
    return {
        "00_data_audit": audit.run_audit(folder),
        "01_survey_reliability": reliability.run_reliability(folder),
        "02_gap_analysis": gaps.run_gaps(folder),
        "03_driver_regression": drivers.run_drivers(folder, n_boot=50),
        "04_churn_prediction": churn.run_churn(folder),
        "05_kpi_monitoring": kpi.run_kpis(folder),
        "07_service_profit_chain": sem.run_chain(folder, n_boot=50),
    }


def test_results_share_one_convention(results):
    import matplotlib.pyplot as plt

    for stem, r in results.items():
        assert r.notebook == stem and r.title
        assert dataclasses.is_dataclass(r) and dataclasses.is_dataclass(r.metrics())
        with pytest.raises(dataclasses.FrozenInstanceError):
            r.quarter = "1999Q1"
        assert r.findings() and all(isinstance(f, str) for f in r.findings())
        assert all(isinstance(t, pd.DataFrame) for t in r.tables().values()) and r.tables()
        assert r.headline() and all({"label", "value", "display"} <= set(h) for h in r.headline())
        assert isinstance(r._repr_html_(), str) and isinstance(r.summary(), pd.DataFrame)
        figs = r.figures()
        assert figs, stem
        plt.close("all")
        for name, blocks in r.sections().items():
            assert all(b.kind in ("text", "table", "figure", "html") for b in blocks), (stem, name)


def test_summary_from_typed_metrics(folder, results):
    current = {k: r.metrics() for k, r in results.items()}
    s = summary.run_summary(folder, current=current)
    assert s.missing == [] and not s.metrics().previous_report_found
    assert s.tiles["kpi"].tolist()[:2] == ["NPS", "Overall gap (P − E)"]
    g = results["02_gap_analysis"].metrics()
    assert any(g.concentrate_here[0] in t for t in s.todo()) if g.concentrate_here else True
    # the previous quarter's figures make the changes section
    s2 = summary.run_summary(folder, current=current, previous={"03_driver_regression": current["03_driver_regression"]})
    assert s2.since_previous() == [f"The top driver is still {current['03_driver_regression'].top_drivers[0]}."]
    with pytest.raises(SQMArgumentError, match="GapMetrics"):
        summary.run_summary(folder, current={"02_gap_analysis": current["01_survey_reliability"]})


def test_pipelines_check_their_arguments(folder):
    with pytest.raises(SQMArgumentError, match="engine"):
        gaps.run_gaps(folder, engine="polars")
    with pytest.raises(SQMArgumentError, match="crosshair"):
        gaps.run_gaps(folder, crosshair="centre")
    with pytest.raises(SQMArgumentError, match="level"):
        drivers.run_drivers(folder, level="both")
    with pytest.raises(SQMArgumentError, match="block"):
        reliability.run_reliability(folder, block="X")
    with pytest.raises(SQMArgumentError, match="freq"):
        kpi.run_kpis(folder, freq="W")
    with pytest.raises(SQMArgumentError, match="model"):
        churn.run_churn(folder, model="forest")
    with pytest.raises(SQMDataError, match="outcome"):
        drivers.run_drivers(folder, outcome="loyalty")


def test_gap_pipeline_matches_an_independent_computation(folder, results):
    """Dimension gaps of the gap pipeline equal respondent means of P − E computed here with pandas."""
    inst = folder.instrument
    s = folder.without_careless().survey_of("2026Q3")
    got = results["02_gap_analysis"].metrics().dimension_gap
    for dim, items in inst.dimensions.items():
        p = s[[f"P{i}" for i in items]]
        e = s[[f"E{i}" for i in items]]
        ok = (p.notna().sum(axis=1) >= len(items) / 2) & (e.notna().sum(axis=1) >= len(items) / 2)
        diff = (p.mean(axis=1) - e.mean(axis=1))[ok]
        assert got[dim] == pytest.approx(diff.mean(), abs=1e-12)


# ---- explorers and lessons give the report's numbers ---------------------------------------------------------
def test_driver_explorer_equals_the_driver_pipeline(folder):
    result = drivers.run_drivers(folder, segment="", n_boot=50)
    ex = explore.DriverExplorer.from_folder(folder, quarter=result.quarter, n_boot=50)
    imp, matrix = ex.importance(result.quarter, "overall_sat", "dimension", explore.NONE, explore.ALL)
    pd.testing.assert_series_equal(imp.table["lmg"], result.importance.table["lmg"], atol=1e-12)
    pd.testing.assert_series_equal(imp.table["lmg_ci_low"], result.importance.table["lmg_ci_low"], atol=1e-12)
    assert matrix.concentrate_here() == result.matrix.concentrate_here()


def test_survey_explorer_equals_the_gap_pipeline(folder, results):
    g = results["02_gap_analysis"]
    ex = explore.SurveyExplorer.from_folder(folder, quarter=g.quarter)
    st = ex.statistics(g.quarter, explore.NONE, explore.ALL)
    a = st["gaps"].set_index(["level", "name"])[["gap", "ci_low", "ci_high", "n"]]
    b = g.table.set_index(["level", "name"]).loc[a.index, ["gap", "ci_low", "ci_high", "n"]]
    pd.testing.assert_frame_equal(a, b, atol=1e-12)


def test_churn_explorer_equals_the_churn_pipeline(folder, results):
    c = results["04_churn_prediction"]
    ex = explore.ChurnExplorer.from_folder(folder)
    assert np.array_equal(ex.y, c.model.y.to_numpy()) and np.allclose(ex.p, c.model.oof.to_numpy(), atol=1e-15)
    pd.testing.assert_frame_equal(ex.scored, c.risk.drop(columns=["contact"]))
    assert ex.best(200.0, 10.0)["best_threshold"] == c.curve.best_threshold


def test_lessons_equal_the_report_pipelines(small_dir, folder):
    d = exercises.load("satisfaction_loyalty", small_dir)
    result = drivers.run_drivers(folder, segment="", n_boot=200)
    pd.testing.assert_frame_equal(exercises.driver_importance(d).table, result.importance.table)
    g = gaps.run_gaps(folder, segment="")
    lesson = exercises.gap_table(d).set_index(["level", "name"])["gap"]
    assert lesson.loc["dimension"].to_dict() == pytest.approx(g.metrics().dimension_gap, abs=1e-12)
    fitted = churn.fit_at_snapshot(folder.without_careless(), d["quarter"], horizon_days=90, seed=0)
    assert exercises.churn_model(d).cv_auc == fitted.model.cv_auc


KPI_ONLY_INSTRUMENT = """name: relationship_nps
title: Relationship NPS study
scale: {min: 0, max: 10}
blocks: {}
items: []
columns:
  respondent_id: {type: id, required: true}
  survey_date: {type: date, required: true}
  region: {type: category, role: segment}
  nps: {type: rating, min: 0, max: 10, role: outcome}
  overall_sat: {type: rating, min: 1, max: 5, role: outcome}
"""


def test_a_study_of_the_kpis_alone(tmp_path):
    """A relationship NPS study (no rating items: NPS, overall satisfaction, a region): the audit, the KPI page
    and the summary are built; reliability, gaps, drivers and the chain each say in one line why they are
    absent. NPS and CSAT per region equal those computed from the raw file."""
    rng = np.random.default_rng(5)
    n = 1200
    raw = pd.DataFrame({"respondent_id": [f"R{i}" for i in range(n)],
                        "survey_date": (pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 270, n), "D")
                                        ).strftime("%Y-%m-%d"),
                        "region": rng.choice(["North", "South", "East"], n),
                        "nps": rng.integers(0, 11, n), "overall_sat": rng.integers(1, 6, n)})
    raw.to_csv(tmp_path / "survey.csv", index=False)
    (tmp_path / "instrument.yaml").write_text(KPI_ONLY_INSTRUMENT, encoding="utf-8")
    folder = io.load_folder(tmp_path)
    assert folder.instrument.design == "kpi"
    k = kpi.run_kpis(folder, unit="region")
    q = raw[pd.to_datetime(raw["survey_date"]).dt.quarter.eq(3)]
    for region, g in q.groupby("region"):
        nps = 100 * ((g["nps"] >= 9).mean() - (g["nps"] <= 6).mean())
        assert k.per_unit.loc[region, "nps"] == pytest.approx(nps, abs=1e-9)
        assert k.per_unit.loc[region, "csat"] == pytest.approx((g["overall_sat"] >= 4).mean(), abs=1e-9)
    a = audit.run_audit(folder)
    assert a.n_quarter == len(q) and not any("perception item" in f for f in a.findings())
    absent = {"reliability": reliability.run_reliability, "gaps": gaps.run_gaps, "drivers": drivers.run_drivers,
              "chain": sem.run_chain}
    for name, run in absent.items():
        r = run(folder)
        assert r.unavailable and "no rating items" in r.reason, name
        assert list(r.sections()[r.first]) and all(not r.sections()[s] for s in ("items", "matrix")), name
    s = summary.run_summary(folder, current={"05_kpi_monitoring": k.metrics(), "00_data_audit": a.metrics()})
    assert s.missing == ["04_churn_prediction"]  # the item analyses are absent by design, not "to be run"
    page = " ".join(str(b.content) for blocks in s.sections().values() for b in blocks)
    assert "KPIs alone" in page


def _weighted_small_folder(small_dir, tmp_path):
    """The small sample with a sampling weight (0.5, 1 or 2) declared in its instrument."""
    import shutil

    import yaml

    from sqmlib import instruments

    data = tmp_path / "data"
    shutil.copytree(small_dir, data)
    s = pd.read_csv(data / "survey.csv", dtype=str, keep_default_na=False)
    s["weight"] = np.resize([0.5, 1.0, 2.0], len(s))
    s.to_csv(data / "survey.csv", index=False)
    doc = yaml.safe_load((instruments.BUILTIN_DIR / "servqual.yaml").read_text(encoding="utf-8"))
    doc["columns"]["weight"] = {"type": "number", "role": "weight"}
    (data / "instrument.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return io.load_folder(data)


def test_analyses_that_do_not_apply_sampling_weights_say_so(small_dir, tmp_path):
    """With a declared weight column, the KPIs are weighted (tests/test_kpi.py); reliability, gaps, drivers and
    the chain run unweighted and say so in their findings."""
    folder = _weighted_small_folder(small_dir, tmp_path)
    assert folder.instrument.weight == "weight"
    # drivers: LMG shares of R² from the weighted correlations (np.cov with aweights, all subsets by brute force)
    import itertools
    import math

    d = drivers.run_drivers(folder, n_boot=0, segment="")
    assert any(f.startswith("Weighted by") for f in d.findings())
    frame = d.frame
    w = folder.without_careless().survey.loc[frame.index, "weight"].to_numpy(float)
    C = np.cov(frame.to_numpy(float), rowvar=False, aweights=w)
    R = C / np.sqrt(np.outer(np.diag(C), np.diag(C)))
    names, y = [c for c in frame.columns if c != d.outcome], list(frame.columns).index(d.outcome)

    def r2(subset):
        idx = [list(frame.columns).index(c) for c in subset]
        return 0.0 if not idx else float(R[y, idx] @ np.linalg.solve(R[np.ix_(idx, idx)], R[idx, y]))

    p_ = len(names)
    for name in names:
        others = [c for c in names if c != name]
        lmg = sum((r2([*s_, name]) - r2(list(s_))) * math.factorial(k) * math.factorial(p_ - k - 1)
                  / math.factorial(p_) for k in range(p_) for s_ in itertools.combinations(others, k))
        assert d.importance.table.loc[name, "lmg"] == pytest.approx(lmg, abs=1e-10)
    # the gap table is weighted: weighted means of each respondent's gaps, t on Kish's effective n (by hand)
    g = gaps.run_gaps(folder, weighting=False, segment="")
    assert any(f.startswith("Weighted by") for f in g.findings())
    sv = folder.without_careless().survey_of(g.quarter)
    inst = folder.instrument
    for item in ("05", "18"):
        d = (sv[f"P{item}"] - sv[f"E{item}"]).to_numpy()
        w = sv["weight"].to_numpy()
        ok = ~np.isnan(d)
        d, w = d[ok], w[ok]
        mean = (w * d).sum() / w.sum()
        n_eff = w.sum() ** 2 / (w ** 2).sum()
        sd = np.sqrt((w * (d - mean) ** 2).sum() / w.sum() * n_eff / (n_eff - 1))
        row = g.table[(g.table["level"] == "item") & (g.table["name"] == item)].iloc[0]
        assert row["gap"] == pytest.approx(mean, abs=1e-12) and row["n_eff"] == pytest.approx(n_eff, rel=1e-12)
        t = mean / (sd / np.sqrt(n_eff))
        assert row["t"] == pytest.approx(t, rel=1e-10)
        assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), n_eff - 1), rel=1e-9)
        assert row["share_below"] == pytest.approx(w[d < 0].sum() / w.sum(), abs=1e-12)
    assert inst.weight == "weight"
    # the summary's overall gap is the gap page's (weighted) overall gap: one number in both places
    tiles = summary.headline_tiles(folder, g.quarter).set_index("kpi")
    assert tiles.loc["Overall gap (P − E)", "current"] == pytest.approx(g.metrics().overall_gap, abs=1e-12)


@pytest.mark.long
def test_duckdb_weights_its_moments_as_pandas_weights_the_rows(small_dir, tmp_path):
    folder = _weighted_small_folder(small_dir, tmp_path)
    k_pd, k_db = (kpi.run_kpis(folder, unit="region", engine=e) for e in ("pandas", "duckdb"))
    assert np.allclose(k_pd.per_unit.to_numpy(float), k_db.per_unit.to_numpy(float), atol=1e-9, equal_nan=True)
    g_pd, g_db = (gaps.run_gaps(folder, weighting=False, segment="", engine=e) for e in ("pandas", "duckdb"))
    assert g_db.metrics().overall_gap == pytest.approx(g_pd.metrics().overall_gap, abs=1e-9)
    assert any(f.startswith("Weighted by") for f in g_db.findings())
    r_pd, r_db = (reliability.run_reliability(folder, invariance_by="", engine=e) for e in ("pandas", "duckdb"))
    assert np.allclose(r_pd.table["alpha"], r_db.table["alpha"], atol=1e-9)


def _one_factor_omega(S):
    """ω = (Σλ)²/((Σλ)² + Σθ) of a one-factor model fitted by ML to S with scipy (an independent fit)."""
    from scipy import optimize

    p = S.shape[0]

    def f(x):
        lam, th = x[:p], np.exp(x[p:])
        Sigma = np.outer(lam, lam) + np.diag(th)
        sign, logdet = np.linalg.slogdet(Sigma)
        return logdet + np.trace(S @ np.linalg.inv(Sigma)) if sign > 0 else 1e10

    x0 = np.r_[np.sqrt(np.diag(S)) * 0.7, np.log(np.diag(S) * 0.5)]
    x = optimize.minimize(f, x0, method="BFGS", options={"gtol": 1e-10}).x
    lam, th = x[:p], np.exp(x[p:])
    return lam.sum() ** 2 / (lam.sum() ** 2 + th.sum())


@pytest.mark.long
def test_reliability_is_weighted_and_the_chain_says_it_runs_unweighted(small_dir, tmp_path):
    """α and ω from weighted covariances (numpy's cov with aweights, computed here from the rows), Feldt's
    interval on Kish's n; the chain says it runs unweighted."""
    folder = _weighted_small_folder(small_dir, tmp_path)
    r = reliability.run_reliability(folder, invariance_by="")
    assert any(f.startswith("Weighted by") for f in r.findings())
    inst = folder.instrument
    sv = folder.survey_of(r.quarter)
    sv = sv[~careless(sv, inst)]
    assert len(sv) == r.respondents
    w = sv["weight"].to_numpy(float)
    for dim in ("reliability", "empathy"):
        X = sv[inst.item_columns("P", dim)].to_numpy(float)
        k = X.shape[1]
        C = np.empty((k, k))
        for i in range(k):  # pairwise: each covariance from the respondents who answered both, one pair at a time
            for j in range(k):
                ok = ~np.isnan(X[:, i]) & ~np.isnan(X[:, j])
                C[i, j] = np.cov(X[ok, i], X[ok, j], aweights=w[ok])[0, 1]
        alpha = k / (k - 1) * (1 - np.trace(C) / C.sum())
        row = r.table[(r.table["block"] == "P") & (r.table["dimension"] == dim)].iloc[0]
        assert row["alpha"] == pytest.approx(alpha, abs=1e-12)
        used = (~np.isnan(X)).sum(axis=1) >= 2
        n_eff = w[used].sum() ** 2 / (w[used] ** 2).sum()
        assert row["n_eff"] == pytest.approx(n_eff, rel=1e-12)
        lo = 1 - (1 - alpha) * stats.f.isf(0.025, n_eff - 1, (n_eff - 1) * (k - 1))
        assert row["alpha_ci_low"] == pytest.approx(lo, rel=1e-10)
        # ω: one-factor ML fit to the weighted ML covariance of the complete cases
        full = ~np.isnan(X).any(axis=1)
        S = np.cov(X[full], rowvar=False, aweights=w[full], ddof=0)
        assert row["omega"] == pytest.approx(_one_factor_omega(S), abs=1e-5)
    found = sem.run_chain(folder, n_boot=2, segment="").findings()
    assert any(f.startswith("Unweighted") and "weight" in f for f in found)


def test_kpi_page_and_summary_tiles_show_one_number(folder, results):
    """The KPI page's comparison shows each KPI as the summary's tile does (NPS +34.9, CSAT 29.2%, the change
    of a share in points): one rule (sqmlib.render.formats.kpi_value) for both."""
    from sqmlib.render import formats, show

    k = results["05_kpi_monitoring"]
    block = k.sections()["glance"][0]
    page = show.styled(block.content, block.style, own_formats=block.own_formats).to_html()
    tiles = summary.run_summary(folder, current={s: r.metrics() for s, r in results.items()
                                                 if not getattr(r, "unavailable", False)}).tiles_html()
    for r in k.comparison.itertuples():
        shown = formats.kpi_value(r.current, r.kpi, r.unit)
        assert f">{shown}<" in page, r.kpi
        if r.kpi in ("NPS", "CSAT (top-2-box)"):
            assert shown in tiles, r.kpi
    assert "+" in formats.kpi_value(34.91, "NPS", "points") and formats.kpi_value(0.2921, "CSAT", "share") == "29.2%"


def test_summary_claims_a_churn_driver_only_for_an_effect_worth_the_name(folder, results):
    """"Churn depends most on X" only when shuffling X costs the churn model at least .01 of ROC-AUC; below that
    the summary says no dimension stands out, with the figure."""
    current = {s: r.metrics() for s, r in results.items() if not getattr(r, "unavailable", False)}
    c = current["04_churn_prediction"]
    key = f"quality: {c.top_quality_driver}"
    for drop, said in ((0.004, "No service-quality dimension stands out"), (0.05, "churn depends on most")):
        changed = dict(current, **{"04_churn_prediction": dataclasses.replace(c, importance={**c.importance,
                                                                                           key: drop})})
        text = summary.run_summary(folder, current=changed).at_risk()
        assert said in text and (drop >= 0.01 or f"{drop:.3f}" in text), text


def test_summary_says_why_a_dimension_worth_more_is_not_the_lever(folder, results):
    """The chain page's table may show a dimension worth more than the lever: the summary then says it already
    performs above the dimensions' average (the one rule: the most important among those performing below it)."""
    current = {s: r.metrics() for s, r in results.items() if not getattr(r, "unavailable", False)}
    ch = current["07_service_profit_chain"]
    other = next(d for d in ch.retained_value if d != ch.lever and d in ch.ipma)
    dims = [d for d in ch.retained_value if d in ch.ipma]
    high = max(ch.ipma[d]["performance"] for d in dims) + 1
    ipma = {**ch.ipma, other: {**ch.ipma[other], "performance": high}}
    richer = dataclasses.replace(ch, ipma=ipma, retained_value={**ch.retained_value,
                                                                other: 2 * ch.retained_value[ch.lever] + 1})
    result = summary.SummaryResult(quarter="2026Q3", tiles=pd.DataFrame())
    text = result._chain_line(richer)
    assert "Raising" in text and f"{high:.1f}" in text
    poorer = dataclasses.replace(ch, retained_value={d: (10.0 if d == ch.lever else 1.0) for d in ch.retained_value})
    assert "Raising" not in result._chain_line(poorer)
