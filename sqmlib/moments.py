"""Sufficient statistics (moments) of survey data, computed where the data lives.

Reliability, gaps, relative importance and survey KPIs need only counts, sums and cross-products of the
answers, per segment. A :class:`Moments` object holds them for every group of the ``by`` columns (say quarter ×
region); groups are pooled by adding, so one pass over the data answers every quarter, region and company-wide
question. Three engines fill the same object:

- :func:`from_pandas`: numpy on a DataFrame in memory;
- :func:`from_duckdb`: one SQL aggregation in DuckDB over Parquet or CSV files (streams: data larger than
  memory is fine);
- :func:`from_spark`: the same SQL in Spark.

What is aggregated is described by a :class:`MomentSpec`: derived row-level columns (gap scores, dimension
means, KPI indicators, respondent weights), *sets* of columns whose pairwise (or listwise) counts, sums and
cross-products are kept, and *pairs* (P, E) whose paired differences are summarised. :func:`survey_spec`
builds the spec a SERVQUAL-type instrument needs; :func:`survey_moments` runs it on any engine.

For a set with shifted values ``y = x − c`` (c: the scale midpoint, which keeps the sums small), ``N_ij`` counts
the rows answering both i and j, ``S_ij`` sums ``y_i`` over those rows and ``Q_ij`` sums ``y_i·y_j``; the
pairwise covariance is ``(Q_ij − S_ij·S_ji/N_ij)/(N_ij − 1)``, as pandas and R's ``cov(use="pairwise")``.
Rank statistics (Wilcoxon, medians) cannot be had from moments; functions that return them say so.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import audit, io
from .engines import ENGINES, Dialect, Table, check_engine, open_table  # noqa: F401 (ENGINES: public here too)
from .errors import Problem, SQMArgumentError, SQMDataError
from .instruments import Instrument
from .instruments import load as load_instrument
from .periods import period_of



# ---------------------------------------------------------------------------------------------------------
# the specification: derived columns, sets and pairs
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Derived:
    """A row-level column computed from others, the same way in numpy and in SQL.

    ``op`` is one of
    ``"diff"`` (a − b), ``"rowmean"`` (mean of the answered columns when at least ``k`` are answered),
    ``"allmean"`` (mean when all are answered), ``"anymean"`` (mean of whatever is answered),
    ``"ge"`` / ``"le"`` (1 when the column is ≥ / ≤ a value, 0 when not, missing when missing),
    ``"share"`` (column i divided by the row total of ``cols`` when all are answered and the total is > 0),
    ``"dot"`` (Σ a_i·b_i when all are present) and ``"missing_weights"`` (1 when the weights ``cols`` are
    not usable but every column of ``other`` is answered, else missing: a row filter).
    """

    name: str
    op: str
    cols: tuple[str, ...]
    value: float = 0.0
    other: tuple[str, ...] = ()


@dataclass(frozen=True)
class ColumnSet:
    """Columns whose counts, sums and cross-products are kept.

    ``missing="pairwise"`` keeps, for every pair, the rows answering both (and counts the rows answering at
    least two of the set, as :func:`sqmlib.reliability.covariance` reports n); ``"listwise"`` only the rows
    answering all. ``where`` names a derived column: only rows where it is 1 count.
    """

    name: str
    columns: tuple[str, ...]
    missing: str = "pairwise"
    where: str | None = None


@dataclass(frozen=True)
class MomentSpec:
    """What to aggregate: base columns (with their centring constants and missing codes), derived columns,
    sets and pairs."""

    base: tuple[str, ...]
    shift: Mapping[str, float]
    derived: tuple[Derived, ...] = ()
    sets: tuple[ColumnSet, ...] = ()
    pairs: tuple[tuple[str, str, str], ...] = ()  # (name, a, b): stats of a − b over rows with both
    missing_codes: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)  # e.g. min_share, top_box: checked by the users
    reflect: Mapping[str, float] = field(default_factory=dict)  # column -> min + max: scored as that − answer

    def shift_of(self, col: str) -> float:
        return float(self.shift.get(col, 0.0))


# ---------------------------------------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------------------------------------
PAIR_FIELDS = ("n", "sum_a", "sum_b", "sum_d", "sum_dd", "n_pos", "n_zero", "n_neg")


@dataclass(frozen=True)
class SetMoments:
    """Per group: pairwise counts ``N`` (g × k × k), sums ``S`` (``S[g, i, j]``: sum of y_i over rows with j),
    cross-products ``Q`` and ``n_min2`` (rows answering at least two of the set)."""

    name: str
    columns: tuple[str, ...]
    missing: str
    shift: np.ndarray
    N: np.ndarray
    S: np.ndarray
    Q: np.ndarray
    n_min2: np.ndarray

    def take(self, idx: np.ndarray) -> "SetMoments":
        return replace(self, N=self.N[idx], S=self.S[idx], Q=self.Q[idx], n_min2=self.n_min2[idx])

    def pooled(self) -> "SetMoments":
        return replace(self, N=self.N.sum(0, keepdims=True), S=self.S.sum(0, keepdims=True),
                       Q=self.Q.sum(0, keepdims=True), n_min2=self.n_min2.sum(0, keepdims=True))


@dataclass(frozen=True)
class CovMoments:
    """Moments of chosen columns, pooled over the selected groups: what :func:`sqmlib.reliability.cronbach_alpha`
    and :func:`sqmlib.drivers.relative_importance` take instead of rows."""

    columns: tuple[str, ...]
    missing: str
    N: np.ndarray  # k × k
    S: np.ndarray
    Q: np.ndarray
    shift: np.ndarray
    n: int  # rows used: listwise complete rows, or pairwise rows answering at least two
    n_exact: bool
    engine: str

    @property
    def means(self) -> np.ndarray:
        """Each column's mean over all its answers (pairwise) or over the complete rows (listwise)."""
        d = np.diag(self.N)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.diag(self.S) / d + self.shift

    def cov(self) -> np.ndarray:
        """Covariance matrix (n − 1 divisor) from the pairwise (or listwise) moments."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.Q - self.S * self.S.T / self.N) / (self.N - 1)

    @property
    def complete(self) -> bool:
        """True when every pair was answered by the same rows (no missing answers)."""
        return bool(np.all(self.N == self.N[0, 0]))

    def reflect(self, idx: Sequence[int], lo: float, hi: float) -> "CovMoments":
        """Reverse-keyed columns ``x → lo + hi − x``: flips signs of their deviations (covariances) and their
        means; pairwise counts are unchanged."""
        sign = np.ones(len(self.columns))
        sign[list(idx)] = -1.0
        # y' = (lo + hi − x) − c' with c' = lo + hi − c gives y' = −y: sums and cross-products flip sign
        shift = self.shift.copy()
        shift[list(idx)] = lo + hi - shift[list(idx)]
        return replace(self, S=self.S * sign[:, None], Q=self.Q * np.outer(sign, sign), shift=shift)


@dataclass(frozen=True)
class Moments:
    """Counts, sums and cross-products of survey columns for every group of the ``by`` columns.

    Attributes
    ----------
    keys : DataFrame
        One row per group, one column per ``by`` column (no columns and one row without ``by``).
    n_rows : ndarray
        Rows per group.
    sets : dict of SetMoments
    pairs : dict of name -> ndarray (groups × 8: n, Σa, Σb, Σd, Σd², n_pos, n_zero, n_neg)
    spec : MomentSpec
    engine : str
        Which engine computed them.
    source : str
        What they were computed from (file, SQL or "DataFrame").
    """

    keys: pd.DataFrame
    n_rows: np.ndarray
    sets: Mapping[str, SetMoments]
    pairs: Mapping[str, np.ndarray]
    spec: MomentSpec
    engine: str
    source: str = ""

    # ---- choosing groups ------------------------------------------------------------------------------
    @property
    def by(self) -> list[str]:
        return list(self.keys.columns)

    def take(self, mask) -> "Moments":
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        return replace(self, keys=self.keys.iloc[idx].reset_index(drop=True), n_rows=self.n_rows[idx],
                       sets={k: s.take(idx) for k, s in self.sets.items()},
                       pairs={k: v[idx] for k, v in self.pairs.items()})

    def where(self, **equal) -> "Moments":
        """The groups whose key columns equal the given values (e.g. ``where(quarter="2026Q3")``)."""
        mask = np.ones(len(self.keys), bool)
        for col, val in equal.items():
            if col not in self.keys.columns:
                raise SQMArgumentError(f"the moments are grouped by {self.by}, not by {col!r}")
            mask &= (self.keys[col].astype(str) == str(val)).to_numpy()
        if not mask.any():
            have = {c: sorted(map(str, self.keys[c].dropna().unique()))[:10] for c in equal if c in self.keys}
            raise SQMArgumentError(f"no group with {equal} (values: {have})")
        return self.take(mask)

    def pooled(self) -> "Moments":
        """All groups added into one (the moments of the union of their rows)."""
        return replace(self, keys=pd.DataFrame(index=[0]), n_rows=self.n_rows.sum(keepdims=True),
                       sets={k: s.pooled() for k, s in self.sets.items()},
                       pairs={k: v.sum(0, keepdims=True) for k, v in self.pairs.items()})

    def groupby(self, by: Sequence[str]) -> Iterable[tuple[tuple, "Moments"]]:
        """(key, pooled moments) for every value combination of ``by`` (a subset of the key columns), sorted
        as pandas' groupby sorts, missing values last."""
        by = list(by)
        unknown = [c for c in by if c not in self.keys.columns]
        if unknown:
            raise SQMDataError("moments", [Problem("missing_column", f"the moments are grouped by {self.by}; "
                                                                     f"{unknown} cannot be recovered")])
        codes = self.keys[by].astype(object).where(self.keys[by].notna(), None)
        for key, idx in pd.Series(range(len(codes))).groupby([codes[c] for c in by], dropna=False,
                                                             sort=True).groups.items():
            key = key if isinstance(key, tuple) else (key,)
            mask = np.zeros(len(self.keys), bool)
            mask[np.asarray(idx)] = True
            yield key, self.take(mask).pooled()

    # ---- reading statistics ---------------------------------------------------------------------------
    def select(self, columns: Sequence[str], missing: str | None = None) -> CovMoments:
        """Moments of ``columns`` pooled over all groups, from the first set that holds them all (with the
        missing-data rule ``missing`` when given)."""
        columns = tuple(columns)
        for s in self.sets.values():
            if all(c in s.columns for c in columns) and (missing is None or s.missing == missing):
                idx = [s.columns.index(c) for c in columns]
                ix = np.ix_(idx, idx)
                N, S, Q = s.N.sum(0)[ix], s.S.sum(0)[ix], s.Q.sum(0)[ix]
                exact_set = tuple(sorted(columns)) == tuple(sorted(s.columns))
                if s.missing == "listwise":
                    # complete rows of the whole set: those of these columns only if no row was dropped at all
                    n = int(N[0, 0]) if len(idx) else 0
                    exact = exact_set or n == int(self.n_rows.sum())
                elif exact_set:
                    n, exact = int(s.n_min2.sum()), True
                elif np.all(N == self.n_rows.sum()):
                    n, exact = int(self.n_rows.sum()), True  # nobody skipped any of these columns
                else:
                    n, exact = int(np.diag(N).max()), False
                return CovMoments(columns, s.missing, N.astype(float), S, Q, s.shift[idx], n, exact, self.engine)
        kinds = f" with {missing} deletion" if missing else ""
        raise SQMDataError("moments", [Problem("missing_column", f"no set of the moments holds {list(columns)}"
                                                                 f"{kinds}; sets: {list(self.sets)}")])

    def __getitem__(self, columns: Sequence[str]) -> CovMoments:
        return self.select([columns] if isinstance(columns, str) else columns)

    def pair(self, name: str) -> np.ndarray:
        """The 8 paired statistics of a pair, pooled over the groups."""
        if name not in self.pairs:
            raise SQMDataError("moments", [Problem("missing_column", f"no pair {name!r} in the moments")])
        return self.pairs[name].sum(0)

    def summary(self) -> pd.DataFrame:
        """Groups with their row counts."""
        return self.keys.assign(rows=self.n_rows)

    def _repr_html_(self) -> str:
        return (f"<p><b>Moments</b> from {self.engine} ({self.source}): {int(self.n_rows.sum()):,} rows in "
                f"{len(self.keys)} group(s) by {self.by or 'nothing'}; sets {list(self.sets)}; "
                f"{len(self.pairs)} pairs</p>")


def is_moments(x) -> bool:
    return isinstance(x, (Moments, CovMoments))


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


def _np_set(Y: np.ndarray, missing: str, where: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """N, S, Q and n_min2 of the shifted values Y (rows × k)."""
    if where is not None:
        Y = np.where(where[:, None], Y, np.nan)
    M = ~np.isnan(Y)
    if missing == "listwise":
        rows = M.all(axis=1)
        Yc = Y[rows]
        k = Y.shape[1]
        n = float(rows.sum())
        s = Yc.sum(axis=0)
        return (np.full((k, k), n), np.tile(s[:, None], (1, k)), Yc.T @ Yc, n)
    Mf = M.astype(float)
    Y0 = np.where(M, Y, 0.0)
    return Mf.T @ Mf, Y0.T @ Mf, Y0.T @ Y0, float((M.sum(axis=1) >= 2).sum())


def _np_pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[ok], b[ok]
    d = a - b
    return np.array([ok.sum(), a.sum(), b.sum(), d.sum(), (d * d).sum(), (d > 0).sum(), (d == 0).sum(),
                     (d < 0).sum()], dtype=float)


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
    sets = {}
    for s in spec.sets:
        shift = np.array([spec.shift_of(c) for c in s.columns])
        Y = np.column_stack([cols[c] for c in s.columns]) - shift
        where = None if s.where is None else (cols[s.where] == 1)
        parts = [_np_set(Y[i], s.missing, None if where is None else where[i]) for i in index_sets]
        sets[s.name] = SetMoments(s.name, s.columns, s.missing, shift, *(np.stack([p[j] for p in parts])
                                                                        for j in range(3)),
                                  np.array([p[3] for p in parts]))
    pairs = {name: np.stack([_np_pair(cols[a][i], cols[b][i]) for i in index_sets]) for name, a, b in spec.pairs}
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
    for s in spec.sets:
        y = {c: (f"({q(c)} - {_lit(spec.shift_of(c))})" if spec.shift_of(c) else q(c)) for c in s.columns}
        if s.where:
            y = {c: f"(CASE WHEN {q(s.where)} = 1 THEN {e} END)" for c, e in y.items()}
        cols = list(s.columns)
        if s.missing == "listwise":
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
        aggs += [f"count({d})", f"sum({qa} + 0 * {qb})", f"sum({qb} + 0 * {qa})", f"sum({d})", f"sum({d} * {d})",
                 f"sum(CASE WHEN {qa} > {qb} THEN 1 ELSE 0 END)", f"sum(CASE WHEN {qa} = {qb} THEN 1 ELSE 0 END)",
                 f"sum(CASE WHEN {qa} < {qb} THEN 1 ELSE 0 END)"]
        layout += [("pair", name, k, 0, "") for k in range(8)]
    select = ", ".join(keys + [f"{a} AS a{i}" for i, a in enumerate(aggs)])
    group = f" GROUP BY {', '.join(keys)} ORDER BY {', '.join(keys)}" if keys else ""
    return f"SELECT {select} FROM ({sql}) AS rows_{len(done)}{group}", layout


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
    for s in spec.sets:
        k = len(s.columns)
        sets[s.name] = SetMoments(s.name, s.columns, s.missing, np.array([spec.shift_of(c) for c in s.columns]),
                                  np.zeros((g, k, k)), np.zeros((g, k, k)), np.zeros((g, k, k)), np.zeros(g))
    pairs = {name: np.zeros((g, 8)) for name, _, _ in spec.pairs}
    n_rows = np.zeros(g)
    for col, (kind, name, i, j, f) in enumerate(layout):
        v = np.nan_to_num(vals[:, col])  # SQL sums over no rows are NULL: zero here
        if kind == "rows":
            n_rows = v
        elif kind == "pair":
            pairs[name][:, i] = v
        else:
            s = sets[name]
            if f == "n_min2":
                s.n_min2[:] = v
            elif s.missing == "listwise" and f == "N":
                s.N[:] = v[:, None, None]
            elif s.missing == "listwise" and f == "S":
                s.S[:, i, :] = v[:, None]
            else:
                arr = {"N": s.N, "S": s.S, "Q": s.Q}[f]
                arr[:, i, j] = v
                if f in ("N", "Q") and i != j:
                    arr[:, j, i] = v
    for s in spec.sets:  # listwise: every pair has the complete rows; n_min2 is that count
        if s.missing == "listwise":
            sets[s.name].n_min2[:] = sets[s.name].N[:, 0, 0]
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


# ---------------------------------------------------------------------------------------------------------
# the survey: one spec for reliability, gaps, drivers and KPIs
# ---------------------------------------------------------------------------------------------------------
def survey_spec(instrument, *, min_share: float = 0.5, top_box: float | None = None,
                outcome: str | None = "overall_sat", columns: Sequence[str] | None = None, weights: bool = True,
                omega: bool = True, raw: bool = False) -> MomentSpec:
    """The moments a SERVQUAL-type survey needs for :func:`sqmlib.reliability.cronbach_alpha` (per block and
    dimension, pairwise and listwise), :func:`sqmlib.gaps.servqual_gaps` (items, dimensions, overall and the
    importance-weighted overall), :func:`sqmlib.drivers.relative_importance` (dimension perceptions on
    ``outcome``) and :func:`sqmlib.kpi.survey_kpis` (NPS, CSAT with ``top_box``, CES).

    ``columns`` (the columns present in the data) leaves out what the data cannot provide (the E block, the
    importance points, outcomes). ``omega=False`` leaves out the listwise sets ω needs (a third of the
    aggregation's work). ``top_box`` (default: the instrument's top boxes of ``overall_sat``) is the lowest
    answer counted in CSAT. ``raw=True``: the source holds answers as given (a file read by DuckDB or Spark),
    so reverse-keyed items are reflected in the aggregation (a loaded survey has them reflected already).
    """
    inst = load_instrument(instrument)
    have = set(columns) if columns is not None else None
    if top_box is None:
        top_box = top_box_of(inst, "overall_sat")

    def present(cols):
        return have is None or all(c in have for c in cols)

    mid = (inst.scale_min + inst.scale_max) / 2.0
    dims = list(inst.dimensions)
    blocks = [b for b in inst.blocks if b in ("E", "P", "A", "D") and present(inst.item_columns(b))]
    base = [c for b in blocks for c in inst.item_columns(b)]
    shift = {c: mid for c in base}
    codes = {c: tuple(sorted(inst.missing_codes)) for c in base}
    derived: list[Derived] = []
    sets: list[ColumnSet] = []
    pairs: list[tuple[str, str, str]] = []
    gaps = "E" in blocks and "P" in blocks
    if gaps:
        for i in inst.items:
            derived.append(Derived(f"gap_{i}", "diff", (f"P{i}", f"E{i}")))
            shift[f"gap_{i}"] = 0.0
    for b in blocks + (["gap"] if gaps else []):
        for d in dims:
            cols = tuple(f"gap_{i}" for i in inst.dimensions[d]) if b == "gap" else tuple(inst.item_columns(b, d))
            sets.append(ColumnSet(f"{b}:{d}", cols, "pairwise"))
            if omega:
                sets.append(ColumnSet(f"{b}:{d}:listwise", cols, "listwise"))
    for b in blocks:
        for d in dims:
            derived.append(Derived(f"{b}_dim_{d}", "rowmean", tuple(inst.item_columns(b, d)),
                                   float(np.ceil(min_share * len(inst.dimensions[d])))))
            derived.append(Derived(f"{b}_any_{d}", "anymean", tuple(inst.item_columns(b, d))))
            shift[f"{b}_dim_{d}"] = shift[f"{b}_any_{d}"] = mid
        derived.append(Derived(f"{b}_overall", "allmean", tuple(f"{b}_dim_{d}" for d in dims)))
        shift[f"{b}_overall"] = mid
    if gaps:
        for d in dims:  # Lord's difference-score reliability uses any-item means of P and E
            sets.append(ColumnSet(f"diffrel:{d}", (f"P_any_{d}", f"E_any_{d}"), "listwise"))
        pairs += [(f"item:{i}", f"P{i}", f"E{i}") for i in inst.items]
        pairs += [(f"dimension:{d}", f"P_dim_{d}", f"E_dim_{d}") for d in dims]
        pairs.append(("overall:unweighted", "P_overall", "E_overall"))
        imp = inst.importance_columns()
        if weights and imp and present(imp):
            base += imp
            w = [f"w_{d}" for d in dims]
            derived += [Derived(w[k], "share", tuple(imp), float(k)) for k in range(len(dims))]
            pdims, edims = [f"P_dim_{d}" for d in dims], [f"E_dim_{d}" for d in dims]
            derived += [Derived("P_weighted_own", "dot", tuple(w + pdims)),
                        Derived("E_weighted_own", "dot", tuple(w + edims)),
                        Derived("weights_missing", "missing_weights", tuple(imp), other=tuple(pdims + edims))]
            pairs.append(("overall:weighted_own", "P_weighted_own", "E_weighted_own"))
            sets.append(ColumnSet("weights", tuple(w), "listwise"))
            sets.append(ColumnSet("weights_missing:dims", tuple(pdims + edims), "listwise", "weights_missing"))
    if "P" in blocks and outcome and present([outcome]):
        base.append(outcome)
        sets.append(ColumnSet(f"drivers:{outcome}", tuple(f"P_dim_{d}" for d in dims) + (outcome,), "listwise"))
    kpi = []
    if present(["nps"]):
        base.append("nps")
        derived += [Derived("nps_promoter", "ge", ("nps",), 9.0), Derived("nps_detractor", "le", ("nps",), 6.0)]
        kpi += ["nps_promoter", "nps_detractor"]
    if present(["overall_sat"]):
        if "overall_sat" not in base:
            base.append("overall_sat")
        derived.append(Derived("csat_top", "ge", ("overall_sat",), float(top_box)))
        kpi.append("csat_top")
    if present(["ces"]):
        base.append("ces")
        kpi.append("ces")
    if kpi:
        sets.append(ColumnSet("kpi", tuple(kpi), "pairwise"))
    for c in base:  # outcomes carry their own missing codes
        if c in inst.columns:
            codes[c] = tuple(sorted(inst.columns[c].missing_codes))
    reflect = {}
    if raw:
        for b in blocks:
            lo, hi = inst.block_scale(b)
            reflect.update({inst.item_column(b, i): float(lo + hi) for i in inst.reverse})
    return MomentSpec(tuple(dict.fromkeys(base)), shift, tuple(derived), tuple(sets), tuple(pairs), codes,
                      {"instrument": inst.name, "min_share": min_share, "top_box": top_box, "outcome": outcome,
                       "dimensions": tuple(dims), "items": tuple(inst.items)}, reflect)


def top_box_of(instrument, column: str, default: float = 6.0) -> float:
    """The lowest answer in the top boxes of a rating column (its ``top_boxes`` counted down from its scale
    maximum; ``default`` when the instrument does not describe the column as a rating)."""
    spec = instrument.columns.get(column)
    if spec is None or spec.type != "rating" or spec.max is None:
        return default
    return spec.top_box_threshold()


def _careless_sql(inst: Instrument, limit: float | None, q) -> str:
    """SQL condition of :func:`sqmlib.audit.careless`: straight-lining the P block, or faster than ``limit``."""
    block = "P" if "P" in inst.blocks else next(iter(inst.blocks))
    cols = [q(c) for c in inst.item_columns(block)]
    codes = tuple(sorted(inst.missing_codes))

    def val(c):
        x = f"CAST({c} AS DOUBLE)"
        return f"(CASE WHEN {x} IN ({', '.join(_lit(v) for v in codes)}) THEN NULL ELSE {x} END)" if codes else x

    k = " + ".join(_nn(val(c)) for c in cols)
    need = int(np.ceil(0.75 * len(cols)))
    straight = f"(({k}) >= {need} AND greatest({', '.join(map(val, cols))}) = least({', '.join(map(val, cols))}))"
    fast = f"coalesce(CAST({q('duration_sec')} AS DOUBLE) < {_lit(limit)}, FALSE)" if limit is not None else "FALSE"
    return f"({straight} OR {fast})"


def _sql_filters(equal: Mapping[str, Any], dl: Dialect) -> list[str]:
    return [f"CAST({dl.q(c)} AS {dl.text}) = '{str(v).replace(chr(39), '')}'" for c, v in equal.items()]


def _check_values(run, relation: str, inst: Instrument, spec: MomentSpec, q, source: str) -> None:
    """Ratings off their scale (declared missing codes aside) or not whole numbers: SQMDataError naming each
    column with its count of bad values and a few of them, as :func:`sqmlib.io.load_survey` does."""
    checks = []
    for c in spec.base:
        col = inst.columns.get(c)
        lo, hi = (col.min, col.max) if col is not None and col.min is not None else inst.scale
        codes = tuple(sorted(set(spec.missing_codes.get(c, ())) | set(getattr(col, "missing_codes", {}) or {})))
        points = c in inst.importance_columns()  # 100 points over the dimensions
        if points:
            lo, hi = 0, 100
        x = f"CAST({q(c)} AS DOUBLE)"
        bad = (f"({x} IS NOT NULL" + (f" AND {x} NOT IN ({', '.join(_lit(v) for v in codes)})" if codes else "")
               + f" AND ({x} < {_lit(lo)} OR {x} > {_lit(hi)}" + ("" if points else f" OR {x} <> floor({x})") + "))")
        checks.append((c, lo, hi, bad))
    aggs = ", ".join(f"sum(CASE WHEN {bad} THEN 1 ELSE 0 END), max(CASE WHEN {bad} THEN {q(c)} END)"
                     for c, _, _, bad in checks)
    try:
        row = run(f"SELECT {aggs} FROM {relation}")[0]
    except Exception as exc:  # a text value in a rating column, say
        raise SQMDataError(source, [Problem("non_numeric", f"rating columns cannot be read as numbers: {exc}")]) from None
    problems = [Problem("out_of_range", f"{int(row[2 * k])} value(s) off the scale {lo:g}–{hi:g} or not whole "
                                        f"numbers (e.g. {row[2 * k + 1]})", c)
                for k, (c, lo, hi, _) in enumerate(checks) if row[2 * k]]
    if problems:
        raise SQMDataError(source, problems)


def survey_moments(source, instrument, *, by: Sequence[str] = ("quarter",), engine: str = "pandas",
                   where: Mapping[str, Any] | None = None, drop_careless: bool = False,
                   min_seconds: float | None = None, spark=None, con=None, **spec_args) -> Moments:
    """Moments of a survey for reliability, gaps, drivers and KPIs, computed by the chosen engine.

    Parameters
    ----------
    source : DataFrame, path or Spark DataFrame
        A loaded survey (pandas), a Parquet/CSV file with canonical column names (DuckDB, Spark) or a Spark
        DataFrame.
    instrument : str or Instrument
    by : sequence of str
        Group columns; ``quarter`` and ``month`` are derived from ``survey_date`` when the data lacks them.
    engine : {"pandas", "duckdb", "spark"}
    where : mapping column -> value, optional
        Keep only these rows (e.g. ``{"quarter": "2026Q3", "region": "South"}``), before careless responses
        are judged, as the notebooks do.
    drop_careless : bool
        Leave out straight-liners and too-fast respondents (:func:`sqmlib.audit.careless`; the too-fast limit
        is a third of the median duration of the rows kept, computed by the engine).
    min_seconds : float, optional
        A fixed too-fast limit instead.
    spark : SparkSession, optional
        For ``engine="spark"`` with a file source (default: the active session).
    **spec_args
        Passed to :func:`survey_spec`.
    """
    check_engine(engine)
    inst = load_instrument(instrument)
    by = [by] if isinstance(by, str) else list(by)
    where = dict(where or {})
    if engine == "pandas":
        df = source
        if not isinstance(df, pd.DataFrame):
            df = io.load_survey(source, inst)
        for c, v in where.items():
            df = df[df[c].astype(str) == str(v)]
        if drop_careless:
            df = df[~audit.careless(df, inst, min_seconds)]
        for col, freq in (("quarter", "Q"), ("month", "M")):
            if col in by and col not in df.columns:
                df = df.assign(**{col: period_of(df["survey_date"], freq)})
        spec = survey_spec(inst, columns=list(df.columns), **spec_args)
        return from_pandas(df, spec, by)
    table = open_table(source, engine, con=con, spark=spark)
    dl, have = table.dialect, table.columns
    try:
        derived_keys = {col: fn(dl.q("survey_date")) for col, fn in (("quarter", dl.quarter), ("month", dl.month))
                        if col not in have and "survey_date" in have}
        inner = f"SELECT *{''.join(f', {e} AS {dl.q(c)}' for c, e in derived_keys.items())} FROM {table.relation}"
        conds = _sql_filters(where, dl)
        kept = f"(SELECT * FROM ({inner}) AS scoped" + (f" WHERE {' AND '.join(conds)}" if conds else "") + ")"
        if drop_careless:
            limit = None
            if "duration_sec" in have:
                if min_seconds:
                    limit = float(min_seconds)
                else:
                    duration = f"CAST({dl.q('duration_sec')} AS DOUBLE)"
                    med = table.run(f"SELECT {dl.median(duration)} FROM {kept} AS k")[0][0]
                    limit = None if med is None else float(med) / 3.0
            kept = f"(SELECT * FROM {kept} AS k WHERE NOT {_careless_sql(inst, limit, dl.q)})"
        spec = survey_spec(inst, columns=have + list(derived_keys), raw=True, **spec_args)
        missing = [c for c in by if c not in have and c not in derived_keys]
        if missing:
            raise SQMDataError(str(source), [Problem("missing_column", f"group columns not in the data: {missing}")])
        _check_values(table.run, f"{kept} AS kept", inst, spec, dl.q, str(source))
    except BaseException:
        table.close()
        raise
    return _aggregate(table, spec, by, f"{kept} AS kept")
