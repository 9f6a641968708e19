"""Benchmarks run smoke-sized, so that they keep working; the speed itself is read off by hand."""
import importlib.util

import pytest

from conftest import ROOT


def test_bench_io_smoke():
    spec = importlib.util.spec_from_file_location("bench_io", ROOT / "benchmarks" / "bench_io.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    table = mod.run([500], formats=("csv", "parquet"))
    assert list(table["rows"]) == [500, 500] and (table["seconds"] > 0).all()


def test_bench_reliability_smoke():
    spec = importlib.util.spec_from_file_location("bench_reliability", ROOT / "benchmarks" / "bench_reliability.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    table = mod.run(n=2_000, n_cfa=500, repeat=1)
    assert {"sqm cronbach_alpha, complete", "sqm cfa, five factors"} <= set(table["task"])
    assert (table["seconds"] > 0).all()


def test_bench_gaps_smoke():
    spec = importlib.util.spec_from_file_location("bench_gaps", ROOT / "benchmarks" / "bench_gaps.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    table = mod.run(n=2_000, repeat=1)
    assert len(table) == 2 and (table["seconds"] > 0).all()


def test_bench_drivers_smoke():
    spec = importlib.util.spec_from_file_location("bench_drivers", ROOT / "benchmarks" / "bench_drivers.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    table = mod.run(ps=(4, 6), n=500, refit_up_to=4)
    assert list(table["drivers"]) == [4, 6] and (table["lmg_sum_minus_r2"].abs() < 1e-10).all()


def test_bench_churn_smoke():
    spec = importlib.util.spec_from_file_location("bench_churn", ROOT / "benchmarks" / "bench_churn.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    table = mod.run(n=3_000, n_profit=5_000)
    assert len(table) == 2 and 0.6 < table["cv_auc"].iloc[0] < 0.9


@pytest.mark.long  # DuckDB over generated files: the engines' numbers are tests/test_moments.py's
def test_bench_moments_smoke(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_moments", ROOT / "benchmarks" / "bench_moments.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    table = mod.run([3_000], engines=("duckdb", "pandas"), folder=tmp_path)
    assert list(table["engine"]) == ["duckdb", "pandas"] and (table["seconds"] > 0).all()
    # both paths compute the same figures
    for col in ("overall_gap", "alpha_P_reliability", "r2"):
        assert abs(table[col].iloc[0] - table[col].iloc[1]) < 1e-9


def test_bench_explore_smoke(small_dir):
    spec = importlib.util.spec_from_file_location("bench_explore", ROOT / "benchmarks" / "bench_explore.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    table = mod.run(small_dir, changes={name: changes[:2] for name, changes in mod.CHANGES.items()})
    assert set(table["explorer"]) == {"(all)", "survey", "drivers", "churn"} and len(table) == 7
    assert (table["first_s"] > 0).all()


def test_bench_sem_smoke():
    spec = importlib.util.spec_from_file_location("bench_sem", ROOT / "benchmarks" / "bench_sem.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    table = mod.run(n_boot=20, n_large=500, peer=False, repeat=1)
    assert len(table) == 3 and (table["seconds"] > 0).all()


def test_bench_psychometrics_smoke():
    spec = importlib.util.spec_from_file_location("bench_psychometrics", ROOT / "benchmarks" / "bench_psychometrics.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    table = mod.run(n_ordinal=400, n_fiml=400, n_groups=400, repeat=1)
    assert len(table) == 4 and (table["seconds"] > 0).all()


def test_bench_mystery_smoke():
    spec = importlib.util.spec_from_file_location("bench_mystery", ROOT / "benchmarks" / "bench_mystery.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    table = mod.run(stores=8, visits=160, shoppers=12)
    assert len(table) == 3 and (table["seconds"] > 0).all() and table["page_chars"].iloc[-1] > 10_000


def test_bench_pdca_smoke():
    spec = importlib.util.spec_from_file_location("bench_pdca", ROOT / "benchmarks" / "bench_pdca.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    table = mod.run(rows=20_000, units=12, weeks=30, repeat=1)
    assert len(table) == 3 and (table["seconds"] > 0).all()


def test_bench_value_smoke(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_value", ROOT / "benchmarks" / "bench_value.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    table = mod.run(rows=20_000, peer_rows=5_000, folder=tmp_path, isolated=False)
    assert len(table) >= 3 and (table["seconds"] > 0).all() and table["meets_target"].iloc[0]


def test_bench_voc_smoke():
    spec = importlib.util.spec_from_file_location("bench_voc", ROOT / "benchmarks" / "bench_voc.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    table = mod.run(rows=3_000, chunk=1_000)
    assert len(table) == 3 and (table["seconds"] > 0).all() and table["mentions"].iloc[0] > 3_000


def test_eval_voc_reviews_smoke(tmp_path):
    """The real-review evaluation reads a rating file and a 1/0 label file (here the sample's rated reviews) and
    scores the model, the lexicon and each file's model on the other."""
    spec = importlib.util.spec_from_file_location("eval_voc_reviews", ROOT / "benchmarks" / "eval_voc_reviews.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    import pandas as pd

    fb = pd.read_csv(ROOT / "data" / "sample" / "feedback.csv").dropna(subset=["rating"])
    fb = fb[(fb["rating"] != 3) & fb["text"].str.contains(r"[\u4e00-\u9fff]")]  # the Chinese, as the sample's model
    fb[["text", "rating"]].iloc[::2].to_csv(tmp_path / "rated.csv", index=False)
    pd.DataFrame({"label": (fb["rating"] >= 4).astype(int), "review": fb["text"]}).iloc[1::2].to_csv(
        tmp_path / "labelled.csv", index=False)
    within, cross = mod.evaluate([tmp_path / "rated.csv", tmp_path / "labelled.csv"])
    assert list(within["file"]) == ["rated", "labelled"] and (within["model_cv_accuracy"] > 0.8).all()
    assert len(cross) == 4 and (cross["accuracy"] > 0.7).all()
