"""Where survey statistics are computed: DuckDB and Spark plumbing shared by :mod:`sqmlib.moments` and
:mod:`sqmlib.scale`.

:func:`open_table` opens files (Parquet or UTF-8 CSV, a glob, a SELECT, or a Spark DataFrame) as a
:class:`Table` that runs SQL on the chosen engine; :class:`Dialect` writes the few expressions that differ
between the two SQL dialects; :func:`duckdb_connect` opens a quiet DuckDB connection; :func:`local_spark`
starts a local Spark session.
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Problem, SQMArgumentError, SQMDataError

ENGINES = ("pandas", "duckdb", "spark")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_engine(engine: str) -> str:
    """``engine`` when it is one of pandas, duckdb, spark; otherwise :class:`SQMArgumentError`."""
    if engine not in ENGINES:
        raise SQMArgumentError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    return engine


def local_spark(app: str = "sqm", cores: int = 2, memory: str = "2g"):
    """A local Spark session for tests and single machines: no web UI, few shuffle partitions, and Python
    workers running this interpreter (so they see the same packages)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(f"local[{cores}]").appName(app)
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", str(cores))
             .config("spark.driver.memory", memory)
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class Dialect:
    """SQL expressions that differ between DuckDB and Spark."""

    def __init__(self, name: str):
        self.name = name

    def q(self, ident: str) -> str:
        if not _IDENT.match(ident):
            raise SQMDataError("moments", [Problem("bad_column", f"column name {ident!r} is not a plain "
                                                                 "identifier")])
        return f"`{ident}`" if self.name == "spark" else f'"{ident}"'

    def quarter(self, date: str) -> str:
        if self.name == "spark":
            return f"concat(CAST(year({date}) AS STRING), 'Q', CAST(quarter({date}) AS STRING))"
        return f"(CAST(year({date}) AS VARCHAR) || 'Q' || CAST(quarter({date}) AS VARCHAR))"

    def month(self, date: str) -> str:
        return f"date_format({date}, 'yyyy-MM')" if self.name == "spark" else f"strftime({date}, '%Y-%m')"

    @property
    def text(self) -> str:
        return "STRING" if self.name == "spark" else "VARCHAR"

    def median(self, expr: str) -> str:
        return f"percentile({expr}, 0.5)" if self.name == "spark" else f"median({expr})"


def duckdb_relation(source: str | Path) -> str:
    path = str(source)
    ext = Path(path.split("*")[0]).suffix.lower() if "*" not in Path(path).name else Path(path).suffix.lower()
    lit = "'" + path.replace("'", "''") + "'"
    if ext in (".parquet", ".pq"):
        return f"read_parquet({lit})"
    if ext in (".csv", ".txt", ".tsv"):
        return f"read_csv({lit}, header = true)"
    raise SQMDataError(path, [Problem("unsupported_format", "DuckDB reads Parquet or UTF-8 CSV files here; "
                                                             "convert other formats with sqmlib.io first")])


def duckdb_connect(con=None, threads: int | None = None, memory_limit: str | None = None):
    import duckdb

    if con is not None:
        return con
    con = duckdb.connect()
    try:  # reports and logs get no progress bar noise (inside Jupyter DuckDB refuses without ipywidgets)
        con.execute("SET enable_progress_bar = false")
    except Exception:  # duckdb.InvalidInputException
        pass
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    return con


@dataclass
class Table:
    """A source opened by DuckDB or Spark: the FROM-clause text, its columns and how to run a query."""

    dialect: Dialect
    relation: str
    columns: list[str]
    run: Any  # sql -> list of tuples
    frame: Any  # sql -> DataFrame
    close: Any
    label: str


def spark_frame(source, spark=None):
    """(session, Spark DataFrame) of a Spark DataFrame or a Parquet/CSV path (the active or a local session)."""
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql import functions as F

    if isinstance(source, DataFrame):
        return source.sparkSession, source
    session = spark or SparkSession.getActiveSession()
    if session is None:
        session = local_spark()
    path = str(source)
    parquet = path.endswith((".parquet", ".pq"))
    nanos = _nanosecond_columns(path) if parquet else []
    if nanos:  # pandas writes nanoseconds, which Spark reads only as numbers
        session.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    try:
        sdf = session.read.parquet(path) if parquet else session.read.csv(path, header=True, inferSchema=True)
        for c in nanos:
            sdf = sdf.withColumn(c, F.expr(f"timestamp_micros(`{c}` div 1000)"))
    except Exception as exc:  # Spark's AnalysisException and Py4J errors: one line, not a JVM stack trace
        said = [line.strip(" :") for line in str(exc).splitlines() if line.strip() and not line.strip().startswith(
            "at ") and "An error occurred while calling" not in line]
        first = said[0] if said else type(exc).__name__
        raise SQMDataError(path, [Problem("unreadable", f"Spark cannot read it: {first[:300]}")]) from None
    return session, sdf


def _nanosecond_columns(path: str) -> list[str]:
    """Columns a Parquet file (a folder of them, or a glob's first file) holds as nanosecond timestamps."""
    import glob

    import pyarrow as pa
    import pyarrow.dataset as ds

    files = sorted(glob.glob(path)) if any(c in path for c in "*?[") else [path]
    try:
        schema = ds.dataset(files[0] if files else path, format="parquet").schema
    except Exception:  # unreadable here too: Spark says why
        return []
    return [f.name for f in schema if pa.types.is_timestamp(f.type) and f.type.unit == "ns"]


def open_table(source, engine: str, *, con=None, spark=None, sql: bool = False) -> Table:
    """Open files (or a query, or a Spark DataFrame) for SQL on the chosen engine."""
    if engine == "duckdb":
        con = duckdb_connect(con)
        relation = f"({source}) AS src" if sql else f"{duckdb_relation(source)} AS src"
        try:
            have = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
        except Exception as exc:  # duckdb raises its own IOException, ParserException, …
            raise SQMDataError(str(source), [Problem("unreadable", f"DuckDB cannot read it: {exc}")]) from None
        return Table(Dialect("duckdb"), relation, have, lambda q: con.execute(q).fetchall(),
                      lambda q: con.execute(q).df(), lambda: None, str(source))
    if engine != "spark":
        raise SQMArgumentError(f"engine must be 'duckdb' or 'spark', got {engine!r}")
    session, sdf = spark_frame(source, spark)
    view = f"sqm_{abs(hash((id(sdf), str(source)))) % 10 ** 9}"
    sdf.createOrReplaceTempView(view)
    return Table(Dialect("spark"), view, list(sdf.columns), lambda q: [tuple(r) for r in session.sql(q).collect()],
                  lambda q: session.sql(q).toPandas(), lambda: session.catalog.dropTempView(view),
                  "Spark DataFrame" if hasattr(source, "sparkSession") else str(source))
