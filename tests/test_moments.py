"""Moments from pandas, DuckDB and Spark give the in-memory results (to 1e-9)."""
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from sqmlib import audit, drivers, gaps, io, kpi, moments, reliability
from sqmlib.errors import SQMArgumentError, SQMDataError
from sqmlib.instruments import load as load_instrument

SURVEY = ROOT / "data" / "sample" / "survey.csv"
TOL = 1e-9


@pytest.fixture(scope="module")
def inst():
    return load_instrument("servqual")


@pytest.fixture(scope="module")
def survey(inst):
    return io.load_survey(SURVEY, inst)


@pytest.fixture(scope="module")
def parquet(survey, tmp_path_factory):
    """The sample survey as Parquet with more missing answers planted (every pairwise count differs)."""
    s = survey.copy()
    rng = np.random.default_rng(3)
    items = [c for c in s.columns if c[:1] in "EP" and c[1:].isdigit()]
    hole = rng.random((len(s), len(items))) < 0.04
    s[items] = s[items].mask(hole)
    path = tmp_path_factory.mktemp("moments") / "survey.parquet"
    s.to_parquet(path, index=False, coerce_timestamps="us")  # Spark reads no nanosecond timestamps
    return path, s


@pytest.fixture(scope="module")
def engines(survey, parquet, inst):
    path, holed = parquet
    by = ["quarter", "region"]
    return holed, {
        "pandas": moments.survey_moments(holed, inst, by=by, engine="pandas"),
        "duckdb": moments.survey_moments(path, inst, by=by, engine="duckdb"),
    }


def numeric_diff(a: pd.DataFrame, b: pd.DataFrame) -> float:
    a, b = a.select_dtypes("number"), b.select_dtypes("number")
    assert list(a.columns) == list(b.columns) and a.shape == b.shape
    x, y = a.to_numpy(float), b.to_numpy(float)
    assert np.array_equal(np.isnan(x), np.isnan(y))
    return float(np.nanmax(np.abs(x - y))) if x.size else 0.0


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_alpha_from_moments_equals_rows(engines, inst, engine):
    holed, ms = engines
    m = ms[engine]
    for b in ("E", "P", "gap"):
        for d in inst.dimensions:
            cols = list(m.sets[f"{b}:{d}"].columns)
            x = holed[cols] if b != "gap" else pd.DataFrame({c: holed["P" + c[4:]] - holed["E" + c[4:]] for c in cols})
            for missing in ("pairwise", "listwise"):
                mm = m.select(cols, missing)
                a1 = reliability.cronbach_alpha(x, missing=missing)
                a2 = reliability.cronbach_alpha(mm, missing=missing)
                assert a1.n == a2.n and a1.k == a2.k
                for f in ("alpha", "std_alpha", "g6", "average_r"):
                    assert abs(getattr(a1, f) - getattr(a2, f)) < TOL, (b, d, missing, f)
                assert np.allclose(a1.ci, a2.ci, atol=TOL, rtol=0)
                assert numeric_diff(a1.item_stats, a2.item_stats) < TOL
    # reverse-keyed items reflect the same way
    cols = list(m.sets["P:tangibles"].columns)
    a1 = reliability.cronbach_alpha(holed[cols], reverse=[cols[0]], scale=inst.scale)
    a2 = reliability.cronbach_alpha(m[cols], reverse=[cols[0]], scale=inst.scale)
    assert abs(a1.alpha - a2.alpha) < TOL and numeric_diff(a1.item_stats, a2.item_stats) < TOL


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_reliability_table_from_moments(engines, inst, engine):
    holed, ms = engines
    t1 = reliability.reliability_table(holed, inst)
    t2 = reliability.reliability_table(ms[engine], inst)
    assert numeric_diff(t1.drop(columns=["omega"]), t2.drop(columns=["omega"])) < TOL
    # ω is an iterative ML fit: equal up to the optimiser's tolerance
    assert np.allclose(t1["omega"], t2["omega"], atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_gaps_from_moments_equal_rows(engines, inst, engine):
    holed, ms = engines
    m = ms[engine]
    g1 = gaps.servqual_gaps(holed, inst, by="region", weights="stated")
    g2 = gaps.servqual_gaps(m, inst, by="region", weights="stated")
    assert g2["wilcoxon_p"].isna().all() and "Wilcoxon" in gaps.MOMENTS_NOTE
    weighted = g2["name"] == "weighted"
    shares = ["share_exceed", "share_meet", "share_below"]
    # respondents without importance points get the mean weights: the sign of their weighted gap needs rows
    assert g2.loc[weighted, shares].isna().all().all()
    assert g2.loc[weighted, "note"].str.contains("shares need the rows").all()
    a = g1.drop(columns=["wilcoxon_p"]).copy()
    a.loc[weighted.to_numpy(), shares] = np.nan
    assert numeric_diff(a, g2.drop(columns=["wilcoxon_p"])) < TOL
    assert (g1["name"] == g2["name"]).all() and (g1["region"] == g2["region"]).all()
    # one quarter, no segments, no weights
    q1 = gaps.servqual_gaps(holed[holed["quarter"] == "2026Q3"], inst, wilcoxon=False)
    q2 = gaps.servqual_gaps(m.where(quarter="2026Q3"), inst)
    assert numeric_diff(q1, q2) < TOL


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_drivers_and_kpis_from_moments(engines, inst, engine):
    holed, ms = engines
    m = ms[engine]
    dims = [f"P_dim_{d}" for d in inst.dimensions]
    frame = pd.concat([gaps.dimension_scores(holed, inst, "P").add_prefix("P_dim_"), holed["overall_sat"]], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the rows path warns about incomplete rows
        r1 = drivers.relative_importance(frame, "overall_sat", dims)
        g1 = drivers.relative_importance(frame, "overall_sat", dims, groups={"a": dims[:2], "b": dims[2:]})
    r2 = drivers.relative_importance(m, "overall_sat", dims)
    g2 = drivers.relative_importance(m, "overall_sat", dims, groups={"a": dims[:2], "b": dims[2:]})
    assert numeric_diff(r1.table, r2.table) < TOL and numeric_diff(g1.table, g2.table) < TOL
    assert r1.n == r2.n and abs(r1.r2 - r2.r2) < TOL and r2.engine == engine
    k1 = kpi.survey_kpis(holed, by="region")
    k2 = kpi.survey_kpis(m, by="region")
    assert list(k1.columns) == list(k2.columns) and numeric_diff(k1, k2) < TOL
    assert (k1["period"] == k2["period"]).all()


def test_groups_pool_by_addition(engines):
    holed, ms = engines
    whole = moments.from_pandas(holed, ms["pandas"].spec)
    pooled = ms["pandas"].pooled()
    for name, s in whole.sets.items():
        for f in ("N", "S", "Q", "n_min2"):
            assert np.allclose(getattr(s, f), getattr(pooled.sets[name], f), rtol=1e-12, atol=1e-9), (name, f)
    for name, v in whole.pairs.items():
        assert np.allclose(v, pooled.pairs[name], rtol=1e-12, atol=1e-9)


def test_careless_and_scope_on_every_engine(survey, parquet, inst):
    path, _ = parquet
    s = pd.read_parquet(path)
    q = s[s["quarter"] == "2026Q3"]
    q = q[~audit.careless(q, inst)]
    g1 = gaps.servqual_gaps(q, inst, by="region", wilcoxon=False)
    for engine, src in (("pandas", s), ("duckdb", path)):
        m = moments.survey_moments(src, inst, by=["region"], engine=engine, where={"quarter": "2026Q3"},
                                   drop_careless=True)
        assert int(m.n_rows.sum()) == len(q)
        assert numeric_diff(g1, gaps.servqual_gaps(m, inst, by="region")) < TOL


def test_monthly_kpis_derive_the_month(survey, parquet, inst):
    path, holed = parquet
    k1 = kpi.survey_kpis(holed, freq="M")
    m = moments.survey_moments(path, inst, by=["month"], engine="duckdb")
    k2 = kpi.survey_kpis(m, freq="M")
    assert (k1["period"] == k2["period"]).all() and numeric_diff(k1, k2) < TOL


def test_duckdb_sql_source_and_custom_spec(parquet):
    path, holed = parquet
    spec = moments.MomentSpec(base=("P01", "P02", "E01"), shift={"P01": 4.0},
                              derived=(moments.Derived("g1", "diff", ("P01", "E01")),),
                              sets=(moments.ColumnSet("s", ("P01", "P02", "g1")),), pairs=(("p", "P01", "E01"),))
    m = moments.from_duckdb(f"SELECT * FROM read_parquet('{path}') WHERE region = 'South'", spec, by=["quarter"],
                            sql=True)
    south = holed[holed["region"] == "South"].assign(g1=lambda d: d["P01"] - d["E01"])
    c = m.select(["P01", "P02", "g1"]).cov()
    assert np.allclose(c, south[["P01", "P02", "g1"]].cov().to_numpy(), atol=1e-12)
    assert list(m.keys["quarter"]) == sorted(south["quarter"].unique())
    assert m.pair("p")[0] == (south["P01"].notna() & south["E01"].notna()).sum()


def test_bad_input_is_named(tmp_path, survey, inst):
    bad = survey.copy()
    bad.loc[bad.index[[3, 10]], "P05"] = 12
    bad.loc[bad.index[4], "nps"] = 11
    path = tmp_path / "bad.parquet"
    bad.to_parquet(path, index=False)
    before = path.read_bytes()
    with pytest.raises(SQMDataError) as e:
        moments.survey_moments(path, inst, engine="duckdb")
    text = str(e.value)
    assert "P05" in text and "2 value(s)" in text and "nps" in text and "bad.parquet" in text
    assert path.read_bytes() == before
    with pytest.raises(SQMDataError, match="group columns not in the data"):
        moments.survey_moments(path, inst, by=["regio"], engine="duckdb")
    (tmp_path / "x.sav").write_bytes(b"")
    with pytest.raises(SQMDataError, match="Parquet or UTF-8 CSV"):
        moments.survey_moments(tmp_path / "x.sav", inst, engine="duckdb")


def test_moments_refuse_what_needs_rows(engines, inst):
    _, ms = engines
    m = ms["pandas"]
    cols = list(m.sets["P:tangibles"].columns)
    with pytest.raises(SQMArgumentError, match="bootstrap"):
        reliability.cronbach_alpha(m[cols], n_boot=50)
    with pytest.raises(SQMArgumentError, match="choose the items"):
        reliability.cronbach_alpha(m)
    with pytest.raises(SQMArgumentError, match="min_share"):
        gaps.servqual_gaps(m, inst, min_share=0.8)
    with pytest.raises(SQMArgumentError, match="rows"):
        drivers.relative_importance(m, "overall_sat", [f"P_dim_{d}" for d in inst.dimensions], n_boot=10)
    with pytest.raises(SQMArgumentError, match="grouped by"):
        kpi.survey_kpis(m, by="channel")
    with pytest.raises(SQMArgumentError, match="2030Q1"):
        m.where(quarter="2030Q1")


def java_ok() -> bool:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return shutil.which("java") is not None


@pytest.mark.long
@pytest.mark.skipif(not java_ok(), reason="Spark needs pyspark and Java")
def test_spark_equals_pandas(parquet, inst, weighted):
    from pyspark.sql import SparkSession

    from sqmlib.engines import local_spark

    path, holed = parquet
    spark = local_spark()
    try:
        ms = moments.survey_moments(path, inst, by=["quarter", "region"], engine="spark", spark=spark,
                                    drop_careless=True)
        mp = moments.survey_moments(holed, inst, by=["quarter", "region"], engine="pandas", drop_careless=True)
        assert ms.keys.astype(str).equals(mp.keys.astype(str))
        for name, s in mp.sets.items():
            for f in ("N", "S", "Q", "n_min2"):
                assert np.allclose(getattr(s, f), getattr(ms.sets[name], f), rtol=1e-12, atol=1e-9), (name, f)
        for name, v in mp.pairs.items():
            assert np.allclose(v, ms.pairs[name], rtol=1e-12, atol=1e-9), name
        assert numeric_diff(gaps.servqual_gaps(mp, inst, by="region"), gaps.servqual_gaps(ms, inst, by="region")) < TOL
        assert numeric_diff(kpi.survey_kpis(mp), kpi.survey_kpis(ms)) < TOL
        assert SparkSession.getActiveSession() is not None
        # with sampling weights: Spark's weighted moments are pandas'
        s, inst_w, mw = weighted
        path_w = path.parent / "weighted.parquet"
        s.to_parquet(path_w, index=False, coerce_timestamps="us")
        sw = moments.survey_moments(path_w, inst_w, by=["quarter", "region"], engine="spark", spark=spark)
        for name, st in mw["pandas"].sets.items():
            for f in ("N", "S", "Q", "n_min2", "N2", "n2_min2", "counts", "rows_min2"):
                assert np.allclose(getattr(st, f), getattr(sw.sets[name], f), rtol=1e-12, atol=1e-9), (name, f)
        for name, v in mw["pandas"].pairs.items():
            assert np.allclose(v, sw.pairs[name], rtol=1e-12, atol=1e-9), name
    finally:
        spark.stop()


def test_subset_of_a_listwise_set_is_flagged(engines, inst):
    """Complete cases over a larger set are not those of a few of its columns: said, not hidden."""
    holed, ms = engines
    cols = list(ms["pandas"].sets["P:tangibles:listwise"].columns)
    assert ms["pandas"].select(cols, "listwise").n_exact
    sub = ms["pandas"].select(cols[:3], "listwise")
    assert not sub.n_exact and sub.n == int(holed[cols].notna().all(axis=1).sum())
    with pytest.warns(UserWarning, match="complete cases are those of the whole set"):
        reliability.cronbach_alpha(sub, missing="listwise")


@pytest.fixture(scope="module")
def weighted(survey, parquet, tmp_path_factory):
    """The holed survey with a sampling weight (some missing: those respondents count 0), declared in an
    instrument, as a DataFrame and as Parquet."""
    import yaml

    from sqmlib import instruments

    _, holed = parquet
    rng = np.random.default_rng(8)
    w = rng.choice([0.4, 1.0, 1.7, 3.0], len(holed))
    w[rng.random(len(w)) < 0.02] = np.nan
    s = holed.assign(weight=w)
    folder = tmp_path_factory.mktemp("weighted")
    doc = yaml.safe_load((instruments.BUILTIN_DIR / "servqual.yaml").read_text(encoding="utf-8"))
    doc["columns"]["weight"] = {"type": "number", "role": "weight"}
    (folder / "instrument.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    inst_w = load_instrument(folder / "instrument.yaml")
    s.to_parquet(folder / "survey.parquet", index=False, coerce_timestamps="us")
    by = ["quarter", "region"]
    return s, inst_w, {"pandas": moments.survey_moments(s, inst_w, by=by, engine="pandas"),
                       "duckdb": moments.survey_moments(folder / "survey.parquet", inst_w, by=by, engine="duckdb")}


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_weighted_moments_equal_the_weighted_rows(weighted, engine):
    """With a declared sampling weight every engine's moments give the row path's weighted α (Kish's n),
    gap table, relative importance and KPIs."""
    s, inst_w, ms = weighted
    m = ms[engine]
    assert m.weighted
    w = s["weight"].to_numpy(float)
    for missing in ("pairwise", "listwise"):
        cols = list(m.sets["P:empathy"].columns)
        a1 = reliability.cronbach_alpha(s[cols], missing=missing, weights=w)
        a2 = reliability.cronbach_alpha(m.select(cols, missing), missing=missing)
        assert a1.n == a2.n and abs(a1.n_eff - a2.n_eff) < TOL and abs(a1.alpha - a2.alpha) < TOL
        assert np.allclose(a1.ci, a2.ci, atol=TOL, rtol=0) and numeric_diff(a1.item_stats, a2.item_stats) < TOL
    t1 = reliability.reliability_table(s, inst_w, sample_weight="weight")
    t2 = reliability.reliability_table(m, inst_w)
    assert numeric_diff(t1.drop(columns=["omega"]), t2.drop(columns=["omega"])) < TOL
    assert np.allclose(t1["omega"], t2["omega"], atol=1e-6, equal_nan=True)
    g1 = gaps.servqual_gaps(s, inst_w, by="region", sample_weight="weight")
    g2 = gaps.servqual_gaps(m, inst_w, by="region")
    assert numeric_diff(g1.drop(columns=["wilcoxon_p"]), g2.drop(columns=["wilcoxon_p"])) < TOL
    dims = [f"P_dim_{d}" for d in inst_w.dimensions]
    frame = pd.concat([gaps.dimension_scores(s, inst_w, "P").add_prefix("P_dim_"), s[["overall_sat", "weight"]]],
                      axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the rows path warns about incomplete rows
        r1 = drivers.relative_importance(frame, "overall_sat", dims, weights="weight")
    r2 = drivers.relative_importance(m, "overall_sat", dims)
    assert numeric_diff(r1.table, r2.table) < TOL and abs(r1.r2 - r2.r2) < TOL
    k1 = kpi.survey_kpis(s, by="region", instrument=inst_w)
    k2 = kpi.survey_kpis(m, by="region")
    assert list(k1.columns) == list(k2.columns) and numeric_diff(k1, k2) < TOL
