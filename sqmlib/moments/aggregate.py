"""The aggregation itself: numpy for a DataFrame, SQL for DuckDB and Spark."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import Problem, SQMArgumentError, SQMDataError
from .engines import Dialect, Table, open_table
from .spec import Derived, Moments, MomentSpec, SetMoments


# ---------------------------------------------------------------------------------------------------------
# numpy: derived columns and aggregation
# ---------------------------------------------------------------------------------------------------------
def _np_derived(cols: dict[str, np.ndarray], d: Derived) -> np.ndarray:
    x = [cols[c] for c in d.cols]
    with np.errstate(invalid="ignore", divide="ignore"):
        if d.op == "diff":
            return x[0] - x[1]
        if d.op in ("rowmean", "anymean", "allmean"):
            X = np.column_stack(x)
            ok = ~np.isnan(X)
            k = ok.sum(axis=1)
            s = np.where(ok, X, 0.0).sum(axis=1)
            need = {"rowmean": d.value, "anymean": 1, "allmean": len(x)}[d.op]
            return np.where(k >= need, s / k, np.nan)
        if d.op in ("ge", "le"):
            hit = x[0] >= d.value if d.op == "ge" else x[0] <= d.value
            return np.where(np.isnan(x[0]), np.nan, hit.astype(float))
        if d.op == "share":
            X = np.column_stack(x)
            tot = X.sum(axis=1)
            ok = ~np.isnan(X).any(axis=1) & (tot > 0)
            return np.where(ok, X[:, int(d.value)] / np.where(ok, tot, 1.0), np.nan)
        if d.op == "dot":
            k = len(x) // 2
            return sum(x[i] * x[k + i] for i in range(k))
        if d.op == "missing_weights":
            W = np.column_stack(x)
            tot = W.sum(axis=1)
            usable = ~np.isnan(W).any(axis=1) & (tot > 0)
            other = ~np.isnan(np.column_stack([cols[c] for c in d.other])).any(axis=1)
            return np.where(~usable & other, 1.0, np.nan)
    raise SQMArgumentError(f"unknown derived operation {d.op!r}")


def _np_set(Y: np.ndarray, missing: str, where: np.ndarray | None, w: np.ndarray | None = None) -> tuple:
    """N, S, Q and n_min2 of the shifted values Y (rows × k); with sampling weights ``w`` (0 for a respondent
    without one) the weighted N, S, Q, n_min2 and then N2, n2_min2, counts and rows_min2 (see
    :class:`SetMoments`)."""
    if where is not None:
        Y = np.where(where[:, None], Y, np.nan)
    M = ~np.isnan(Y)
    if w is not None:
        M &= (w > 0)[:, None]
    k = Y.shape[1]
    if missing == "listwise":
        rows = M.all(axis=1)
        Yc = Y[rows]
        if w is None:
            n = float(rows.sum())
            s = Yc.sum(axis=0)
            return (np.full((k, k), n), np.tile(s[:, None], (1, k)), Yc.T @ Yc, n)
        wc = w[rows]
        n, n2 = float(wc.sum()), float((wc * wc).sum())
        s = (wc[:, None] * Yc).sum(axis=0)
        return (np.full((k, k), n), np.tile(s[:, None], (1, k)), (Yc * wc[:, None]).T @ Yc, n,
                np.full((k, k), n2), n2, np.full(k, float(rows.sum())), float(rows.sum()))
    Mf = M.astype(float)
    Y0 = np.where(M, Y, 0.0)
    two = M.sum(axis=1) >= 2
    if w is None:
        return Mf.T @ Mf, Y0.T @ Mf, Y0.T @ Y0, float(two.sum())
    Mw = Mf * w[:, None]
    return (Mw.T @ Mf, (Y0 * w[:, None]).T @ Mf, (Y0 * w[:, None]).T @ Y0, float(w[two].sum()),
            (Mw * w[:, None]).T @ Mf, float((w[two] ** 2).sum()), M.sum(axis=0).astype(float), float(two.sum()))


def _np_pair(a: np.ndarray, b: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    ok = ~np.isnan(a) & ~np.isnan(b)
    if w is not None:
        ok &= w > 0
    a, b = a[ok], b[ok]
    d = a - b
    if w is None:
        n = float(ok.sum())
        return np.array([n, a.sum(), b.sum(), d.sum(), (d * d).sum(), (d > 0).sum(), (d == 0).sum(),
                         (d < 0).sum(), n, n], dtype=float)
    w = w[ok]
    return np.array([w.sum(), (w * a).sum(), (w * b).sum(), (w * d).sum(), (w * d * d).sum(), w[d > 0].sum(),
                     w[d == 0].sum(), w[d < 0].sum(), (w * w).sum(), ok.sum()], dtype=float)


def _np_columns(df: pd.DataFrame, spec: MomentSpec) -> dict[str, np.ndarray]:
    cols: dict[str, np.ndarray] = {}
    for c in spec.base:
        x = pd.to_numeric(df[c], errors="raise").to_numpy(dtype=float, na_value=np.nan)
        codes = spec.missing_codes.get(c, ())
        if codes:
            x = np.where(np.isin(x, codes), np.nan, x)
        cols[c] = x
    for d in spec.derived:
        cols[d.name] = _np_derived(cols, d)
    return cols


def _check_base(columns: Sequence[str], spec: MomentSpec, by: Sequence[str], what: str) -> None:
    missing = [c for c in [*spec.base, *by] if c not in columns]
    if missing:
        raise SQMDataError(what, [Problem("missing_column", f"columns not in the data: {missing}")])


def from_pandas(df: pd.DataFrame, spec: MomentSpec, by: Sequence[str] = ()) -> Moments:
    """Moments of a DataFrame in memory, per group of ``by`` (see :class:`MomentSpec`).

    Parameters
    ----------
    df : DataFrame
        Rows with the spec's base columns (numeric; declared missing codes become missing).
    spec : MomentSpec
        What to aggregate, e.g. :func:`survey_spec`.
    by : sequence of str
        Group columns (missing values form their own group).

    Returns
    -------
    Moments
    """
    by = [by] if isinstance(by, str) else list(by)
    _check_base(df.columns, spec, by, "DataFrame")
    cols = _np_columns(df, spec)
    if by:
        grouped = df.groupby(by, dropna=False, sort=True).indices
        keys = pd.DataFrame([k if isinstance(k, tuple) else (k,) for k in grouped], columns=by)
        index_sets = list(grouped.values())
    else:
        keys, index_sets = pd.DataFrame(index=[0]), [np.arange(len(df))]
    w = None if spec.weight is None else np.where(np.isnan(cols[spec.weight]), 0.0, cols[spec.weight])
    if w is not None and (np.isinf(w).any() or (w < 0).any()):
        raise SQMDataError("DataFrame", [Problem("bad_weight", f"the sampling weights ({spec.weight}) hold negative "
                                                               "or infinite values")])
    sets = {}
    for s in spec.sets:
        shift = np.array([spec.shift_of(c) for c in s.columns])
        Y = np.column_stack([cols[c] for c in s.columns]) - shift
        where = None if s.where is None else (cols[s.where] == 1)
        parts = [_np_set(Y[i], s.missing, None if where is None else where[i], None if w is None else w[i])
                 for i in index_sets]
        arrays = [np.stack([p[j] for p in parts]) for j in range(len(parts[0]))]
        sets[s.name] = SetMoments(s.name, s.columns, s.missing, shift, *arrays)
    pairs = {name: np.stack([_np_pair(cols[a][i], cols[b][i], None if w is None else w[i]) for i in index_sets])
             for name, a, b in spec.pairs}
    n_rows = np.array([len(i) for i in index_sets], dtype=float)
    return Moments(keys, n_rows, sets, pairs, spec, "pandas", "DataFrame")


# ---------------------------------------------------------------------------------------------------------
# SQL: the same aggregation for DuckDB and Spark
# ---------------------------------------------------------------------------------------------------------
def _nn(e: str) -> str:
    return f"(CASE WHEN {e} IS NOT NULL THEN 1 ELSE 0 END)"


def _lit(v: float) -> str:
    return repr(float(v))


def _sql_derived(d: Derived, q) -> str:
    c = [q(x) for x in d.cols]
    if d.op == "diff":
        return f"({c[0]} - {c[1]})"
    if d.op in ("rowmean", "anymean", "allmean"):
        k = " + ".join(_nn(x) for x in c)
        s = " + ".join(f"coalesce({x}, 0.0)" for x in c)
        need = {"rowmean": d.value, "anymean": 1, "allmean": len(c)}[d.op]
        return f"(CASE WHEN ({k}) >= {_lit(need)} THEN ({s}) / ({k}) END)"
    if d.op in ("ge", "le"):
        op = ">=" if d.op == "ge" else "<="
        return f"(CASE WHEN {c[0]} IS NULL THEN NULL WHEN {c[0]} {op} {_lit(d.value)} THEN 1.0 ELSE 0.0 END)"
    if d.op == "share":
        tot = " + ".join(c)  # null when any is null
        return f"(CASE WHEN ({tot}) > 0 THEN {c[int(d.value)]} / ({tot}) END)"
    if d.op == "dot":
        k = len(c) // 2
        return "(" + " + ".join(f"{c[i]} * {c[k + i]}" for i in range(k)) + ")"
    if d.op == "missing_weights":
        tot = " + ".join(c)
        other = " AND ".join(f"{q(o)} IS NOT NULL" for o in d.other)
        return f"(CASE WHEN NOT coalesce(({tot}) > 0, FALSE) AND {other} THEN 1.0 END)"
    raise SQMArgumentError(f"unknown derived operation {d.op!r}")


def _base_expr(col: str, spec: MomentSpec, q) -> str:
    x = f"CAST({q(col)} AS DOUBLE)"
    codes = spec.missing_codes.get(col, ())
    if col in spec.reflect:  # a reverse-keyed item in a raw file: scored as min + max − answer
        x = f"({_lit(spec.reflect[col])} - {x})"
    if codes:
        raw = f"CAST({q(col)} AS DOUBLE)"
        return f"(CASE WHEN {raw} IN ({', '.join(_lit(v) for v in codes)}) THEN NULL ELSE {x} END)"
    return x


def moments_sql(relation: str, spec: MomentSpec, by: Sequence[str], dialect: str = "duckdb",
                where: str | None = None) -> tuple[str, list[tuple]]:
    """The aggregation query over ``relation`` (a table, view or subquery) and the layout of its result
    columns: a list of (kind, name, i, j, field)."""
    dl = Dialect(dialect)
    q = dl.q
    keys = [q(b) for b in by]
    base = ", ".join(keys + [f"{_base_expr(c, spec, q)} AS {q(c)}" for c in spec.base])
    sql = f"SELECT {base} FROM {relation}" + (f" WHERE {where}" if where else "")
    # one layer per derived column that needs an earlier one; plain ones share a layer
    done = set(spec.base)
    pending = list(spec.derived)
    while pending:
        layer = [d for d in pending if all(c in done for c in (*d.cols, *d.other))]
        if not layer:
            raise SQMArgumentError(f"derived columns with unknown inputs: {[d.name for d in pending]}")
        sql = (f"SELECT *, {', '.join(f'{_sql_derived(d, q)} AS {q(d.name)}' for d in layer)} "
               f"FROM ({sql}) AS t{len(done)}")
        done |= {d.name for d in layer}
        pending = [d for d in pending if d.name not in done]
    aggs, layout = ["count(*)"], [("rows", "", 0, 0, "")]
    W = None if spec.weight is None else f"coalesce({q(spec.weight)}, 0.0)"
    for s in spec.sets:
        y = {c: (f"({q(c)} - {_lit(spec.shift_of(c))})" if spec.shift_of(c) else q(c)) for c in s.columns}
        if s.where:
            y = {c: f"(CASE WHEN {q(s.where)} = 1 THEN {e} END)" for c, e in y.items()}
        cols = list(s.columns)
        if W is not None:
            a_, l_ = _weighted_set_sql(s, y, W)
            aggs += a_
            layout += l_
        elif s.missing == "listwise":
            cond = " AND ".join(f"{e} IS NOT NULL" for e in y.values())
            aggs.append(f"sum(CASE WHEN {cond} THEN 1 ELSE 0 END)")
            layout.append(("set", s.name, 0, 0, "N"))
            for i, a in enumerate(cols):
                aggs.append(f"sum(CASE WHEN {cond} THEN {y[a]} END)")
                layout.append(("set", s.name, i, i, "S"))
                for j in range(i, len(cols)):
                    aggs.append(f"sum(CASE WHEN {cond} THEN {y[a]} * {y[cols[j]]} END)")
                    layout.append(("set", s.name, i, j, "Q"))
        else:
            answered = " + ".join(_nn(e) for e in y.values())
            aggs.append(f"sum(CASE WHEN ({answered}) >= 2 THEN 1 ELSE 0 END)")
            layout.append(("set", s.name, 0, 0, "n_min2"))
            for i, a in enumerate(cols):
                for j in range(i, len(cols)):
                    b = cols[j]
                    if i == j:
                        aggs += [f"count({y[a]})", f"sum({y[a]})", f"sum({y[a]} * {y[a]})"]
                        layout += [("set", s.name, i, i, f) for f in ("N", "S", "Q")]
                    else:
                        aggs += [f"count({y[a]} * {y[b]})", f"sum({y[a]} + 0 * {y[b]})",
                                 f"sum({y[b]} + 0 * {y[a]})", f"sum({y[a]} * {y[b]})"]
                        layout += [("set", s.name, i, j, "N"), ("set", s.name, i, j, "S"),
                                   ("set", s.name, j, i, "S"), ("set", s.name, i, j, "Q")]
    for name, a, b in spec.pairs:
        qa, qb = q(a), q(b)
        d = f"({qa} - {qb})"
        if W is None:
            aggs += [f"count({d})", f"sum({qa} + 0 * {qb})", f"sum({qb} + 0 * {qa})", f"sum({d})",
                     f"sum({d} * {d})", f"sum(CASE WHEN {qa} > {qb} THEN 1 ELSE 0 END)",
                     f"sum(CASE WHEN {qa} = {qb} THEN 1 ELSE 0 END)", f"sum(CASE WHEN {qa} < {qb} THEN 1 ELSE 0 END)"]
            layout += [("pair", name, k, 0, "") for k in range(8)]
        else:
            aggs += [f"sum({W} + 0 * {d})", f"sum({W} * ({qa} + 0 * {qb}))", f"sum({W} * ({qb} + 0 * {qa}))",
                     f"sum({W} * {d})", f"sum({W} * {d} * {d})", f"sum(CASE WHEN {qa} > {qb} THEN {W} ELSE 0 END)",
                     f"sum(CASE WHEN {qa} = {qb} THEN {W} ELSE 0 END)",
                     f"sum(CASE WHEN {qa} < {qb} THEN {W} ELSE 0 END)", f"sum({W} * {W} + 0 * {d})",
                     f"sum(CASE WHEN {d} IS NOT NULL AND {W} > 0 THEN 1 ELSE 0 END)"]
            layout += [("pair", name, k, 0, "") for k in range(10)]
    select = ", ".join(keys + [f"{a} AS a{i}" for i, a in enumerate(aggs)])
    group = f" GROUP BY {', '.join(keys)} ORDER BY {', '.join(keys)}" if keys else ""
    return f"SELECT {select} FROM ({sql}) AS rows_{len(done)}{group}", layout


def _weighted_set_sql(s, y: dict, W: str) -> tuple[list[str], list[tuple]]:
    """The aggregates of one set with sampling weights ``W`` (an SQL expression, 0 without a weight), in the
    layout of :class:`SetMoments`'s weighted arrays."""
    cols = list(s.columns)
    aggs, layout = [], []
    if s.missing == "listwise":
        cond = " AND ".join(f"{e} IS NOT NULL" for e in y.values())
        aggs += [f"sum(CASE WHEN {cond} THEN {W} ELSE 0 END)", f"sum(CASE WHEN {cond} THEN {W} * {W} ELSE 0 END)",
                 f"sum(CASE WHEN {cond} AND {W} > 0 THEN 1 ELSE 0 END)"]
        layout += [("set", s.name, 0, 0, f) for f in ("N", "N2", "rows_min2")]
        for i, a in enumerate(cols):
            aggs.append(f"sum(CASE WHEN {cond} THEN {W} * {y[a]} END)")
            layout.append(("set", s.name, i, i, "S"))
            for j in range(i, len(cols)):
                aggs.append(f"sum(CASE WHEN {cond} THEN {W} * {y[a]} * {y[cols[j]]} END)")
                layout.append(("set", s.name, i, j, "Q"))
        return aggs, layout
    two = f"({' + '.join(_nn(e) for e in y.values())}) >= 2 AND {W} > 0"
    aggs += [f"sum(CASE WHEN {two} THEN {W} ELSE 0 END)", f"sum(CASE WHEN {two} THEN {W} * {W} ELSE 0 END)",
             f"sum(CASE WHEN {two} THEN 1 ELSE 0 END)"]
    layout += [("set", s.name, 0, 0, f) for f in ("n_min2", "n2_min2", "rows_min2")]
    for i, a in enumerate(cols):
        for j in range(i, len(cols)):
            b = cols[j]
            if i == j:
                aggs += [f"sum({W} + 0 * {y[a]})", f"sum({W} * {y[a]})", f"sum({W} * {y[a]} * {y[a]})",
                         f"sum({W} * {W} + 0 * {y[a]})", f"sum(CASE WHEN {y[a]} IS NOT NULL AND {W} > 0 THEN 1 ELSE 0 END)"]
                layout += [("set", s.name, i, i, f) for f in ("N", "S", "Q", "N2", "counts")]
            else:
                aggs += [f"sum({W} + 0 * {y[a]} * {y[b]})", f"sum({W} * ({y[a]} + 0 * {y[b]}))",
                         f"sum({W} * ({y[b]} + 0 * {y[a]}))", f"sum({W} * {y[a]} * {y[b]})",
                         f"sum({W} * {W} + 0 * {y[a]} * {y[b]})"]
                layout += [("set", s.name, i, j, "N"), ("set", s.name, i, j, "S"), ("set", s.name, j, i, "S"),
                           ("set", s.name, i, j, "Q"), ("set", s.name, i, j, "N2")]
    return aggs, layout


def _from_rows(rows: list[Sequence], by: Sequence[str], spec: MomentSpec, layout: list[tuple], engine: str,
               source: str) -> Moments:
    """Moments from the rows of the aggregation query (keys first, then the aggregates in ``layout`` order)."""
    nk = len(by)
    g = len(rows)
    keys = pd.DataFrame([tuple(r[:nk]) for r in rows], columns=list(by)) if nk else pd.DataFrame(index=[0])
    vals = np.array([[np.nan if v is None else float(v) for v in r[nk:]] for r in rows], dtype=float)
    if g == 0:
        vals = np.zeros((0, len(layout)))
    sets = {}
    weighted = spec.weight is not None
    for s in spec.sets:
        k = len(s.columns)
        extra = ((np.zeros((g, k, k)), np.zeros(g), np.zeros((g, k)), np.zeros(g)) if weighted else ())
        sets[s.name] = SetMoments(s.name, s.columns, s.missing, np.array([spec.shift_of(c) for c in s.columns]),
                                  np.zeros((g, k, k)), np.zeros((g, k, k)), np.zeros((g, k, k)), np.zeros(g), *extra)
    pairs = {name: np.zeros((g, 10)) for name, _, _ in spec.pairs}
    n_rows = np.zeros(g)
    for col, (kind, name, i, j, f) in enumerate(layout):
        v = np.nan_to_num(vals[:, col])  # SQL sums over no rows are NULL: zero here
        if kind == "rows":
            n_rows = v
        elif kind == "pair":
            pairs[name][:, i] = v
        else:
            s = sets[name]
            if f in ("n_min2", "n2_min2"):
                getattr(s, f)[:] = v
            elif f == "rows_min2":
                s.rows_min2[:] = v
                if s.missing == "listwise":
                    s.counts[:] = v[:, None]
            elif f == "counts":
                s.counts[:, i] = v
            elif s.missing == "listwise" and f in ("N", "N2"):
                getattr(s, f)[:] = v[:, None, None]
            elif s.missing == "listwise" and f == "S":
                s.S[:, i, :] = v[:, None]
            else:
                arr = {"N": s.N, "S": s.S, "Q": s.Q, "N2": s.N2}[f]
                arr[:, i, j] = v
                if f in ("N", "Q", "N2") and i != j:
                    arr[:, j, i] = v
    for s in spec.sets:  # listwise: every pair has the complete rows; n_min2 is that count (weight)
        if s.missing == "listwise":
            sets[s.name].n_min2[:] = sets[s.name].N[:, 0, 0]
            if weighted:
                sets[s.name].n2_min2[:] = sets[s.name].N2[:, 0, 0]
    if not weighted:  # Σw² and the respondents of a pair are its count
        for v in pairs.values():
            v[:, 8] = v[:, 9] = v[:, 0]
    return Moments(keys, n_rows, sets, pairs, spec, engine, source)


def _aggregate(table: Table, spec: MomentSpec, by: list[str], relation: str, where: str | None = None) -> Moments:
    query, layout = moments_sql(relation, spec, by, table.dialect.name, where)
    try:
        rows = table.run(query)
    finally:
        table.close()
    return _from_rows(rows, by, spec, layout, table.dialect.name, table.label)


def from_duckdb(source: str | Path, spec: MomentSpec, by: Sequence[str] = (), *, where: str | None = None,
                con=None, sql: bool = False) -> Moments:
    """Moments computed by DuckDB in one aggregation query, streaming over the files.

    Parameters
    ----------
    source : str or Path
        A Parquet or UTF-8 CSV file (or a glob of them), or with ``sql=True`` a SELECT statement.
    spec : MomentSpec
    by : sequence of str
        Group columns.
    where : str, optional
        SQL condition on the source's columns keeping rows (e.g. ``"quarter = '2026Q3'"``).
    con : duckdb connection, optional
        Default: a new in-memory connection.
    sql : bool
        ``source`` is a query instead of a file.

    Returns
    -------
    Moments
    """
    by = [by] if isinstance(by, str) else list(by)
    table = open_table(source, "duckdb", con=con, sql=sql)
    _check_base(table.columns, spec, by, str(source))
    return _aggregate(table, spec, by, table.relation, where)


def from_spark(df, spec: MomentSpec, by: Sequence[str] = (), *, where: str | None = None) -> Moments:
    """Moments computed by Spark SQL: the same aggregation query as DuckDB's, on a Spark DataFrame.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
    spec : MomentSpec
    by : sequence of str
    where : str, optional
        Spark SQL condition keeping rows.
    """
    by = [by] if isinstance(by, str) else list(by)
    _check_base(df.columns, spec, by, "Spark DataFrame")
    table = open_table(df, "spark")
    return _aggregate(table, spec, by, table.relation, where)
