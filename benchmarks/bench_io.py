"""Speed of loading and validating a survey file, by size.

Run by hand: ``python benchmarks/bench_io.py`` (or ``make bench``) prints a table of rows, seconds and rows
per second for CSV and Parquet; ``--rows`` sets the sizes. The test suite runs it smoke-sized.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sqmlib import io, synth


def make_file(rows: int, folder: Path, fmt: str) -> Path:
    base = synth.generate(synth.SynthConfig(n_customers=max(800, rows // 4 + 200),
                                            respondents_per_quarter=max(10, min(2000, rows // 4)))).survey
    reps = int(np.ceil(rows / len(base)))
    df = pd.concat([base] * reps, ignore_index=True).head(rows)
    df["respondent_id"] = [f"R{i:08d}" for i in range(len(df))]
    path = folder / f"survey_{rows}.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path)
    return path


def run(sizes: list[int], formats=("csv", "parquet")) -> pd.DataFrame:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            for n in sizes:
                path = make_file(n, Path(tmp), fmt)
                t0 = time.perf_counter()
                s = io.load_survey(path)
                dt = time.perf_counter() - t0
                out.append({"format": fmt, "rows": len(s), "columns": s.shape[1], "seconds": round(dt, 3),
                            "rows_per_second": int(len(s) / dt)})
    return pd.DataFrame(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    args = ap.parse_args(argv)
    print(run(args.rows).to_string(index=False))


if __name__ == "__main__":
    main()
