"""The survey's moments: one specification for reliability, gaps, drivers and KPIs."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import io
from ..io.careless import careless
from ..errors import Problem, SQMArgumentError, SQMDataError
from ..instruments import Instrument
from ..instruments import load as load_instrument
from ..periods import period_of
from .aggregate import _aggregate, _lit, _nn, from_pandas
from .engines import Dialect, check_engine, open_table
from .spec import ColumnSet, Derived, Moments, MomentSpec


# ---------------------------------------------------------------------------------------------------------
# the survey: one spec for reliability, gaps, drivers and KPIs
# ---------------------------------------------------------------------------------------------------------
def survey_spec(instrument, *, min_share: float = 0.5, top_box: float | None = None,
                outcome: str | None = "overall_sat", columns: Sequence[str] | None = None, weights: bool = True,
                omega: bool = True, raw: bool = False, sampling_weights: bool = True) -> MomentSpec:
    """The moments a SERVQUAL-type survey needs for :func:`sqmlib.reliability.cronbach_alpha` (per block and
    dimension, pairwise and listwise), :func:`sqmlib.gaps.servqual_gaps` (items, dimensions, overall and the
    importance-weighted overall), :func:`sqmlib.drivers.relative_importance` (dimension perceptions on
    ``outcome``) and :func:`sqmlib.kpi.survey_kpis` (NPS, CSAT with ``top_box``, CES).

    ``columns`` (the columns present in the data) leaves out what the data cannot provide (the E block, the
    importance points, outcomes). ``omega=False`` leaves out the listwise sets ω needs (a third of the
    aggregation's work). ``top_box`` (default: the instrument's top boxes of ``overall_sat``) is the lowest
    answer counted in CSAT. ``raw=True``: the source holds answers as given (a file read by DuckDB or Spark),
    so reverse-keyed items are reflected in the aggregation (a loaded survey has them reflected already).
    ``sampling_weights`` (default): when the instrument declares a sampling weight (``role: weight``) that the
    data has, every count and sum is weighted by it (a respondent without a weight counts 0).
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
    codes = {c: _numeric_codes(inst.missing_codes) for c in base}
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
    weight = inst.weight if sampling_weights and inst.weight and present([inst.weight]) else None
    if weight:
        base.append(weight)
    for c in base:  # outcomes carry their own missing codes
        if c in inst.columns:
            codes[c] = _numeric_codes(inst.columns[c].missing_codes)
    reflect = {}
    if raw:
        for b in blocks:
            lo, hi = inst.block_scale(b)
            reflect.update({inst.item_column(b, i): float(lo + hi) for i in inst.reverse})
    return MomentSpec(tuple(dict.fromkeys(base)), shift, tuple(derived), tuple(sets), tuple(pairs), codes,
                      {"instrument": inst.name, "min_share": min_share, "top_box": top_box, "outcome": outcome,
                       "dimensions": tuple(dims), "items": tuple(inst.items)}, reflect, weight)


def top_box_of(instrument, column: str, default: float = 6.0) -> float:
    """The lowest answer in the top boxes of a rating column (its ``top_boxes`` counted down from its scale
    maximum; ``default`` when the instrument does not describe the column as a rating)."""
    spec = instrument.columns.get(column)
    if spec is None or spec.type != "rating" or spec.max is None:
        return default
    return spec.top_box_threshold()


def _numeric_codes(codes) -> tuple[float, ...]:
    """The numeric missing codes (a text code such as "N/A" is the loader's: a file read here by an engine
    holds numbers in its rating columns, and a text there is reported as not a number)."""
    return tuple(sorted(k for k in codes if not isinstance(k, str)))


def _careless_sql(inst: Instrument, limit: float | None, q) -> str:
    """SQL condition of :func:`sqmlib.io.careless.careless`: straight-lining the P block, or faster than ``limit``."""
    block = "P" if "P" in inst.blocks else next(iter(inst.blocks))
    cols = [q(c) for c in inst.item_columns(block)]
    codes = _numeric_codes(inst.missing_codes)

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
        codes = tuple(sorted(set(spec.missing_codes.get(c, ())) | set(_numeric_codes(getattr(col, "missing_codes", {}) or {}))))
        points = c in inst.importance_columns() or c == spec.weight  # 100 points over the dimensions
        if points:
            lo, hi = (0, 100) if c != spec.weight else (0, 1e300)
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
                                        f"numbers (e.g. {row[2 * k + 1]})", c) if c != spec.weight else
                Problem("bad_weight", f"{int(row[2 * k])} negative sampling weight(s) (e.g. {row[2 * k + 1]})", c)
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
        Leave out straight-liners and too-fast respondents (:func:`sqmlib.io.careless.careless`; the too-fast limit
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
    if engine != "pandas" and inst.survey_files and not isinstance(source, pd.DataFrame):
        raise SQMArgumentError(f"the survey is joined from several files ({', '.join(inst.survey_files)}), which "
                               f"the {engine} engine does not read: use engine='pandas'")
    if engine == "pandas":
        df = source
        if not isinstance(df, pd.DataFrame):
            df = io.load_survey(source, inst)
        for c, v in where.items():
            df = df[df[c].astype(str) == str(v)]
        if drop_careless:
            df = df[~careless(df, inst, min_seconds)]
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
