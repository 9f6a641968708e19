"""Reliability + gaps + drivers + KPIs on survey files from 10^5 to 10^7 rows: DuckDB moments beside pandas.

Run by hand: ``python benchmarks/bench_moments.py`` (sizes with ``--rows``, engines with ``--engines``) prints
rows, engine, seconds and the peak memory of the process that did the work (each measurement runs in its own
process, so peaks do not mix). The Parquet files are generated chunk by chunk (never whole in memory) with
SERVQUAL's E and P blocks, importance points, overall satisfaction, NPS and CES, 2 % of answers missing.

Each measurement covers the work a quarterly report does with the survey: moments by quarter × region (DuckDB)
or loading the file (pandas), then the reliability table (α, ω, gap reliability per dimension and block), the
gap table per region with the weighted gap, relative importance of the five dimensions and NPS/CSAT/CES per
quarter and region. The test suite runs it smoke-sized.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the benchmarks' own helpers
from isolated import in_child  # noqa: E402

ITEMS = [f"{i:02d}" for i in range(1, 23)]
DIMS = {"tangibles": 4, "reliability": 5, "responsiveness": 4, "assurance": 4, "empathy": 5}
QUARTERS = ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
REGIONS = ["North", "South", "East", "West"]


def make_parquet(rows: int, path: Path, seed: int = 0, chunk: int = 1_000_000) -> Path:
    """A SERVQUAL survey of ``rows`` rows written in chunks (one latent quality factor per respondent)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    writer = None
    done = 0
    dim_of = np.repeat(np.arange(len(DIMS)), list(DIMS.values()))
    while done < rows:
        n = min(chunk, rows - done)
        u = rng.normal(size=(n, 1))
        f = 0.8 * u + 0.6 * rng.normal(size=(n, len(DIMS)))
        cols = {"respondent_id": np.arange(done, done + n, dtype=np.int64),
                "quarter": np.array(QUARTERS)[rng.integers(0, 4, n)],
                "region": np.array(REGIONS)[rng.integers(0, 4, n)],
                "duration_sec": rng.gamma(9, 60, n).round()}
        for b, shift in (("E", 5.8), ("P", 5.0)):
            x = np.clip(np.rint(shift + f[:, dim_of] + 0.8 * rng.normal(size=(n, 22))), 1, 7)
            x[rng.random((n, 22)) < 0.02] = np.nan
            for k, i in enumerate(ITEMS):
                cols[f"{b}{i}"] = pa.array(x[:, k], mask=np.isnan(x[:, k])).cast(pa.int8())
        pts = rng.dirichlet(np.ones(5) * 4, n) * 100
        pts = np.floor(pts)
        pts[:, 0] += 100 - pts.sum(axis=1)
        skip = rng.random(n) < 0.1
        for k, d in enumerate(DIMS):
            cols[f"I_{d}"] = pa.array(pts[:, k], mask=skip)
        p_mean = np.nanmean(np.column_stack([cols[f"P{i}"].to_numpy(zero_copy_only=False) for i in ITEMS]), axis=1)
        cols["overall_sat"] = np.clip(np.rint(p_mean + 0.7 * rng.normal(size=n)), 1, 7).astype(np.int8)
        cols["nps"] = np.clip(np.rint(1.6 * p_mean - 1 + 1.5 * rng.normal(size=n)), 0, 10).astype(np.int8)
        cols["ces"] = np.clip(np.rint(8 - p_mean + rng.normal(size=n)), 1, 7).astype(np.int8)
        table = pa.table(cols)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        done += n
    writer.close()
    return path


def work(path: str, engine: str, threads: int = 2, omega: bool = True) -> dict:
    """One measurement (run in a fresh process): seconds and peak memory."""
    from sqmlib import drivers, gaps, kpi, moments, reliability
    from sqmlib.engines import duckdb_connect
    from sqmlib.instruments import load

    inst = load("servqual")
    dims = [f"P_dim_{d}" for d in DIMS]
    t0 = time.perf_counter()
    if engine == "duckdb":
        con = duckdb_connect(threads=threads, memory_limit="1GB")
        m = moments.survey_moments(path, inst, by=["quarter", "region"], engine="duckdb", con=con, omega=omega)
        t_agg = time.perf_counter() - t0
        rel = reliability.reliability_table(m, inst)
        gap = gaps.servqual_gaps(m, inst, by="region", weights="stated")
        imp = drivers.relative_importance(m, "overall_sat", dims)
        k = kpi.survey_kpis(m, by="region")
    else:
        s = pd.read_parquet(path)
        s[s.select_dtypes("number").columns] = s.select_dtypes("number").astype(float)
        s["survey_date"] = pd.PeriodIndex(s["quarter"], freq="Q").start_time
        t_agg = time.perf_counter() - t0
        rel = reliability.reliability_table(s, inst)
        gap = gaps.servqual_gaps(s, inst, by="region", weights="stated", wilcoxon=False)
        frame = pd.concat([gaps.dimension_scores(s, inst, "P").add_prefix("P_dim_"), s["overall_sat"]], axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            imp = drivers.relative_importance(frame, "overall_sat", dims)
        k = kpi.survey_kpis(s, by="region")
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"seconds": seconds, "aggregate_or_load_s": t_agg, "peak_mib": peak,
            "overall_gap": float(gap[(gap["name"] == "unweighted")]["gap"].mean()),
            "alpha_P_reliability": float(rel[(rel["block"] == "P") & (rel["dimension"] == "reliability")]["alpha"].iloc[0]),
            "r2": float(imp.r2), "nps_rows": int(len(k))}


def measure(path: Path, engine: str) -> dict:
    """``work`` in a child process, so that each peak memory is its own."""
    return in_child(__file__, "work", str(path), engine)


def run(sizes: list[int], engines=("duckdb", "pandas"), folder: Path | None = None,
        pandas_max: int = 2_000_000) -> pd.DataFrame:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(folder or tmp)
        for n in sizes:
            path = folder / f"survey_{n}.parquet"
            if not path.exists():
                make_parquet(n, path)
            for engine in engines:
                if engine == "pandas" and n > pandas_max:
                    rows.append({"rows": n, "engine": engine, "seconds": np.nan,
                                 "note": f"not run: ~{n * 60 * 8 / 2**30:.0f} GiB of float columns in memory"})
                    continue
                r = measure(path, engine)
                rows.append({"rows": n, "engine": engine, **r, "note": ""})
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    ap.add_argument("--engines", nargs="+", default=["duckdb", "pandas"])
    ap.add_argument("--folder", type=Path, help="keep the generated Parquet files here")
    args = ap.parse_args(argv)
    table = run(args.rows, args.engines, args.folder)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    d = table[table["engine"] == "duckdb"].dropna(subset=["seconds"])
    if len(d) > 1:
        slope = np.polyfit(np.log10(d["rows"]), np.log10(d["seconds"]), 1)[0]
        print(f"\nDuckDB growth: seconds ∝ rows^{slope:.2f} (1 = linear)")


if __name__ == "__main__":
    main()
