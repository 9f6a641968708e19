"""Order summaries from the engines: the RFM and purchase-model statistics of any number of orders, aggregated in
DuckDB (the default; Parquet or CSV files, or a DataFrame) or Spark, so only one row per customer reaches
pandas.

:func:`purchase_summary` equals :func:`sqmlib.value.summary_from_transactions` and :func:`rfm_summary` equals
:func:`sqmlib.value.rfm` on the same orders (the tests hold them to 1e-12); the models are then fitted on the
summary. A refunded order (``refunded`` true) counts nowhere; the orders after ``as_of`` are left out.
"""
from __future__ import annotations

import pandas as pd

from ..errors import Problem, SQMArgumentError, SQMDataError
from ..moments.engines import Dialect, check_engine, duckdb_connect, local_spark, open_table
from .clv import check_freq, from_aggregates
from .rfm import rfm_scores

__all__ = ["purchase_summary", "rfm_summary"]


def _period_sql(d: Dialect, t: str, freq: str) -> str:
    """SQL of :func:`sqmlib.value.clv.period_index`."""
    days = (f"datediff(to_date({t}), DATE '1970-01-01')" if d.name == "spark"
            else f"datediff('day', DATE '1970-01-01', CAST({t} AS DATE))")
    if freq == "D":
        return f"CAST({days} AS BIGINT)"
    if freq == "W":
        return f"CAST(floor(({days} - 4) / 7.0) AS BIGINT)"
    return f"CAST((year({t}) - 1970) * 12 + month({t}) - 1 AS BIGINT)"


def _micros(d: Dialect, expr: str) -> str:
    return f"unix_micros({expr})" if d.name == "spark" else f"epoch_us({expr})"


def _ts(d: Dialect, when: pd.Timestamp) -> str:
    return f"TIMESTAMP '{pd.Timestamp(when).isoformat(sep=' ')}'"


class _Orders:
    """The orders as a table on an engine, with the columns checked and the refunded ones left out."""

    def __init__(self, source, *, customer: str, time: str, amount: str | None, refunded: str | None,
                 engine: str, con=None, spark=None):
        check_engine(engine)
        if engine == "pandas":
            raise SQMArgumentError("order summaries run on duckdb or spark (pandas: summary_from_transactions, rfm)")
        if isinstance(source, pd.DataFrame):
            if engine == "duckdb":
                con = duckdb_connect(con)
                con.register("sqm_orders", source)
                self.table = open_table("SELECT * FROM sqm_orders", engine, con=con, sql=True)
            else:
                spark = spark or local_spark()
                self.table = open_table(spark.createDataFrame(source), engine, spark=spark)
        else:
            self.table = open_table(source, engine, con=con, spark=spark)
        need = [c for c in (customer, time, amount) if c]
        missing = [c for c in need if c not in self.table.columns]
        if missing:
            self.table.close()
            raise SQMDataError(self.table.label, [Problem("missing_column", f"no column {c!r} in the orders", c)
                                                  for c in missing])
        d = self.d = self.table.dialect
        self.c, self.t = d.q(customer), f"CAST({d.q(time)} AS TIMESTAMP)"
        self.a = f"CAST({d.q(amount)} AS DOUBLE)" if amount else "0.0"
        self.where = "TRUE"
        if refunded and refunded in self.table.columns:
            flag = f"CAST({d.q(refunded)} AS BOOLEAN)" if d.name == "spark" else f"TRY_CAST({d.q(refunded)} AS BOOLEAN)"
            self.where = f"NOT coalesce({flag}, FALSE)"

    def rows(self, end) -> str:
        """The orders up to ``end`` as (c, t, a)."""
        return (f"(SELECT {self.c} AS c, {self.t} AS t, {self.a} AS a FROM {self.table.relation} "
                f"WHERE {self.where} AND {self.t} <= {_ts(self.d, end)}) AS o")

    def end(self, as_of) -> pd.Timestamp:
        if as_of is not None:
            return pd.Timestamp(as_of)
        (last,), = self.table.run(f"SELECT max({self.t}) FROM {self.table.relation} WHERE {self.where}")
        if last is None:
            raise SQMDataError(self.table.label, [Problem("empty", "no orders")])
        return pd.Timestamp(last)

    def frame(self, sql: str) -> pd.DataFrame:
        try:
            return self.table.frame(sql)
        finally:
            self.table.close()


def purchase_summary(source, *, customer: str = "customer_id", time: str = "order_time",
                     amount: str | None = "amount", refunded: str | None = "refunded", as_of=None, freq: str = "W",
                     calibration_end=None, ends: pd.Series | None = None, engine: str = "duckdb", con=None,
                     spark=None) -> pd.DataFrame:
    """:func:`sqmlib.value.summary_from_transactions` (``frequency``, ``recency``, ``T``, ``monetary_value``, and
    the hold-out with ``calibration_end``) with the orders aggregated per customer and period in DuckDB or Spark.

    ``source``: Parquet/CSV file(s) or a glob, a pandas DataFrame, or (Spark) a Spark DataFrame. ``refunded``: a
    column whose true rows are left out (when the orders have it)."""
    check_freq(freq)
    o = _Orders(source, customer=customer, time=time, amount=amount, refunded=refunded, engine=engine, con=con,
                spark=spark)
    end = o.end(as_of)
    cal = pd.Timestamp(calibration_end) if calibration_end is not None else end
    p = _period_sql(o.d, "t", freq)
    hold_col, hold_join = "", ""
    if calibration_end is not None:  # the hold-out's purchase periods after the calibration end
        hold_col = ", coalesce(h.holdout, 0) AS holdout"
        hold_join = (f"LEFT JOIN (SELECT c, count(DISTINCT {p}) AS holdout FROM {o.rows(end)} "
                     f"WHERE t > {_ts(o.d, cal)} GROUP BY c) AS h ON h.c = f.c")
    sql = f"""
        WITH cp AS (SELECT c, {p} AS p, coalesce(sum(a), 0.0) AS a FROM {o.rows(end)}
                    WHERE t <= {_ts(o.d, cal)} GROUP BY c, {p}),
             f AS (SELECT c, min(p) AS first, max(p) AS last, count(*) AS periods, sum(a) AS spend FROM cp GROUP BY c)
        SELECT f.c, f.first, f.last, f.periods, f.spend, cp.a AS first_spend{hold_col}
        FROM f JOIN cp ON cp.c = f.c AND cp.p = f.first {hold_join}
        ORDER BY f.c"""
    agg = o.frame(sql).set_index("c")
    agg.index.name = customer
    return from_aggregates(agg, customer=customer, freq=freq, end=end, calibration_end=calibration_end, ends=ends,
                           amount=bool(amount))


def rfm_summary(source, *, customer: str = "customer_id", time: str = "order_time", amount: str = "amount",
                refunded: str | None = "refunded", as_of=None, frequency: str = "orders", engine: str = "duckdb",
                con=None, spark=None) -> pd.DataFrame:
    """:func:`sqmlib.value.rfm` with recency, frequency and spend aggregated per customer in DuckDB or Spark (the
    scores and segments then from that one row per customer)."""
    if frequency not in ("orders", "days"):
        raise SQMArgumentError("frequency must be 'orders' or 'days'")
    o = _Orders(source, customer=customer, time=time, amount=amount, refunded=refunded, engine=engine, con=con,
                spark=spark)
    end = o.end(as_of)
    count = ("sum(CASE WHEN a >= 0 THEN 1 ELSE 0 END)" if frequency == "orders"
             else "count(DISTINCT CASE WHEN a >= 0 THEN CAST(t AS DATE) END)")
    last = "max(CASE WHEN a >= 0 THEN t END)"
    sql = f"""
        SELECT c, floor(({_micros(o.d, _ts(o.d, end))} - {_micros(o.d, last)}) / 86400000000.0) AS recency_days,
               CAST({count} AS DOUBLE) AS frequency, coalesce(sum(a), 0.0) AS monetary
        FROM {o.rows(end)} GROUP BY c HAVING sum(CASE WHEN a >= 0 THEN 1 ELSE 0 END) > 0 ORDER BY c"""
    out = o.frame(sql).set_index("c")
    out.index.name = customer
    out = out.astype({"recency_days": float, "frequency": float, "monetary": float})
    return rfm_scores(out)

