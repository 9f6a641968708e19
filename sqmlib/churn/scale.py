"""Working with data larger than memory: a local Spark session, stratified training samples, and churn scoring
in chunks (DuckDB) or on a cluster (Spark's ``mapInPandas``).

A churn model is trained on a sample that keeps the churn rate of the whole table (churners are the rare class
that matters), then every customer is scored by the same fitted pipeline: the predictions are the ones
``pipeline.predict_proba`` gives in memory, chunk by chunk.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

from ..errors import Problem, SQMDataError
from ..moments.engines import (  # noqa: F401 (local_spark: public here too)
    Dialect,
    duckdb_connect,
    duckdb_relation,
    local_spark,
    open_table,
)
from . import fit_churn_model


def stratified_sample(source, target: str, n: int, *, id_col: str = "customer_id", seed: int = 0,
                      engine: str = "duckdb", spark=None, con=None) -> pd.DataFrame:
    """A sample of about ``n`` rows keeping each ``target`` class in its share of the whole table.

    Rows are taken in the order of a hash of (``id_col``, ``seed``) within each class, so the same data and
    seed give the same sample, and the sample is uniform within each class.

    Parameters
    ----------
    source : path or Spark DataFrame
        Parquet/CSV file(s) for DuckDB; a file or Spark DataFrame for Spark.
    target : str
        The label column (e.g. ``churned``).
    n : int
        Rows wanted (each class gets ``round(n · share)``, at least one row of each class).
    """
    table = open_table(source, engine, con=con, spark=spark)
    q = table.dialect.q
    ident = f"CAST({q(id_col)} AS {table.dialect.text})"
    key = (f"xxhash64(concat({ident}, '#{int(seed)}'))" if engine == "spark"
           else f"hash({ident} || '#{int(seed)}')")
    try:
        counts = {r[0]: int(r[1]) for r in table.run(f"SELECT {q(target)}, count(*) FROM {table.relation} "
                                                     f"GROUP BY {q(target)}")}
        total = sum(counts.values())
        if total == 0:
            raise SQMDataError(str(source), [Problem("empty", "no rows to sample")])
        parts = []
        for value, count in sorted(counts.items(), key=lambda kv: str(kv[0])):
            k = max(1, int(round(n * count / total)))
            cond = f"{q(target)} IS NULL" if value is None else f"{q(target)} = {value!r}"
            parts.append(f"(SELECT * FROM {table.relation} WHERE {cond} ORDER BY {key}, {q(id_col)} LIMIT {k})")
        out = table.frame(" UNION ALL ".join(parts))
    finally:
        table.close()
    return out.sort_values(id_col).reset_index(drop=True)


def _predict(pipeline, features: Sequence[str], batch: pd.DataFrame, id_col: str) -> pd.DataFrame:
    missing = [c for c in features if c not in batch.columns]
    if missing:
        raise SQMDataError("scoring data", [Problem("missing_column", f"feature columns not in the data: {missing}")])
    X = batch[list(features)]
    return pd.DataFrame({id_col: batch[id_col].to_numpy(), "probability": pipeline.predict_proba(X)[:, 1]})


def iter_scores_duckdb(model, source, *, id_col: str = "customer_id", chunk_rows: int = 100_000,
                       features: Sequence[str] | None = None, con=None) -> Iterator[pd.DataFrame]:
    """Churn probabilities chunk by chunk: DuckDB streams the file, the fitted pipeline scores each chunk.

    ``model`` is a :class:`sqmlib.churn.ChurnResult` (or a fitted scikit-learn pipeline with ``features``).
    """
    pipeline, features = _pipeline(model, features)
    con = duckdb_connect(con)
    cols = ", ".join(Dialect("duckdb").q(c) for c in dict.fromkeys([id_col, *features]))
    rel = con.sql(f"SELECT {cols} FROM {duckdb_relation(source)} AS src")
    # a streaming reader: DuckDB 2 calls it to_arrow_reader, 1.x fetch_arrow_reader
    reader = rel.to_arrow_reader(chunk_rows) if hasattr(rel, "to_arrow_reader") else rel.fetch_arrow_reader(chunk_rows)
    for batch in reader:
        yield _predict(pipeline, features, batch.to_pandas(), id_col)


def score_duckdb(model, source, *, id_col: str = "customer_id", chunk_rows: int = 100_000,
                 features: Sequence[str] | None = None, out: str | Path | None = None, con=None,
                 progress: bool = False) -> pd.DataFrame | Path:
    """Score every row of a Parquet/CSV source in chunks; with ``out`` the scores go to a Parquet file
    chunk by chunk (memory stays at one chunk) and its path is returned, else a DataFrame."""
    chunks = iter_scores_duckdb(model, source, id_col=id_col, chunk_rows=chunk_rows, features=features, con=con)
    if progress:
        from tqdm.auto import tqdm

        chunks = tqdm(chunks, desc="scoring", unit="chunk")
    if out is None:
        parts = list(chunks)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[id_col, "probability"])
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} exists; scores are never written over an existing file")
    tmp = out.with_name(out.name + ".part")
    writer = None
    try:
        for part in chunks:
            table = pa.Table.from_pandas(part, preserve_index=False)
            writer = writer or pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    tmp.rename(out)
    return out


def score_spark(model, sdf, *, id_col: str = "customer_id", features: Sequence[str] | None = None):
    """Score a Spark DataFrame with ``mapInPandas``: each partition runs the fitted pipeline; returns a Spark
    DataFrame (``id_col``, ``probability``)."""
    pipeline, features = _pipeline(model, features)
    from pyspark.sql import types as T

    id_type = sdf.schema[id_col].dataType
    schema = T.StructType([T.StructField(id_col, id_type), T.StructField("probability", T.DoubleType())])
    cols = list(dict.fromkeys([id_col, *features]))

    def score(batches):
        for b in batches:
            yield _predict(pipeline, features, b, id_col)

    return sdf.select(*cols).mapInPandas(score, schema=schema)


def _pipeline(model, features):
    pipe = getattr(model, "pipeline", model)
    feats = list(features) if features is not None else list(getattr(model, "features", ()))
    if not feats:
        raise ValueError("give the feature columns (or a ChurnResult, which knows them)")
    return pipe, feats


def fit_on_sample(source, target: str = "churned", n: int = 50_000, *, id_col: str = "customer_id",
                  seed: int = 0, engine: str = "duckdb", model: str = "logit", features=None, spark=None,
                  con=None, **fit_args):
    """Train :func:`sqmlib.churn.fit_churn_model` on a stratified sample of a large table; returns the
    :class:`~sqmlib.churn.ChurnResult` and the sample."""
    sample = stratified_sample(source, target, n, id_col=id_col, seed=seed, engine=engine, spark=spark, con=con)
    if features is not None:
        sample = sample[[id_col, target, *features]]
    res = fit_churn_model(sample, target, model=model, seed=seed, id_col=id_col, **fit_args)
    return res, sample


def equal_predictions(a: pd.DataFrame, b: pd.DataFrame, id_col: str = "customer_id") -> float:
    """Largest difference between two score tables matched on ``id_col`` (inf when the ids differ)."""
    a, b = a.set_index(id_col)["probability"], b.set_index(id_col)["probability"]
    if set(a.index) != set(b.index):
        return float("inf")
    return float(np.max(np.abs(a.sort_index().to_numpy() - b.sort_index().to_numpy()))) if len(a) else 0.0
