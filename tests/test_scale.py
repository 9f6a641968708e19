"""Churn at scale: stratified training samples and chunked scoring give the in-memory predictions."""
import shutil
import warnings

import pandas as pd
import pytest

from sqmlib import churn, scale


@pytest.fixture(scope="module")
def features(small_data, tmp_path_factory):
    d = small_data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = churn.build_features(d.customers, d.interactions, d.survey, "2026-04-01", 90).reset_index()
    path = tmp_path_factory.mktemp("scale") / "features.parquet"
    f.to_parquet(path, index=False)
    return f, path


def test_stratified_sample_keeps_the_churn_rate(features):
    f, path = features
    s1 = scale.stratified_sample(path, "churned", 300, seed=4)
    s2 = scale.stratified_sample(path, "churned", 300, seed=4)
    s3 = scale.stratified_sample(path, "churned", 300, seed=5)
    assert s1.equals(s2) and not s1["customer_id"].equals(s3["customer_id"])
    rate = f["churned"].mean()
    assert abs(len(s1) - 300) <= 2
    assert abs(s1["churned"].sum() - round(300 * rate)) <= 1
    assert s1["customer_id"].is_unique and set(s1["customer_id"]) <= set(f["customer_id"])


def test_chunked_scores_equal_in_memory(features, tmp_path):
    f, path = features
    res, sample = scale.fit_on_sample(path, "churned", 400, seed=1)
    assert len(sample) < len(f)
    memory = pd.DataFrame({"customer_id": f["customer_id"],
                           "probability": res.pipeline.predict_proba(f[list(res.features)])[:, 1]})
    chunked = scale.score_duckdb(res, path, chunk_rows=97)
    assert len(chunked) == len(f)
    assert scale.equal_predictions(memory, chunked) < 1e-12  # BLAS blocks by chunk size
    out = scale.score_duckdb(res, path, chunk_rows=150, out=tmp_path / "scores.parquet")
    assert scale.equal_predictions(memory, pd.read_parquet(out)) < 1e-12
    with pytest.raises(FileExistsError):
        scale.score_duckdb(res, path, out=out)


@pytest.mark.long
@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java")
def test_spark_scores_equal_in_memory(features):
    pytest.importorskip("pyspark")
    f, path = features
    spark = scale.local_spark()
    try:
        res, _ = scale.fit_on_sample(path, "churned", 400, seed=1)
        memory = pd.DataFrame({"customer_id": f["customer_id"],
                               "probability": res.pipeline.predict_proba(f[list(res.features)])[:, 1]})
        scored = scale.score_spark(res, spark.read.parquet(str(path))).toPandas()
        assert scale.equal_predictions(memory, scored) < 1e-12
        s = scale.stratified_sample(path, "churned", 300, seed=4, engine="spark", spark=spark)
        assert abs(s["churned"].sum() - round(300 * f["churned"].mean())) <= 1
        # the moments test stops its own session; this one keeps the same configuration
    finally:
        spark.stop()
