"""Speed and memory of exact LMG (Shapley decomposition of R²) as the number of drivers grows.

Targets: 20 drivers at n = 100,000 in ≤ 1 s; 25 drivers in ≤ 30 s; memory flat in n. Prints seconds and
peak memory for p from 8 to 25 (``--p`` to choose), and the time of the same LMG by refitting every subset
with numpy least squares for small p, to show the growth a refitting approach has.
Run ``python benchmarks/bench_drivers.py``; the tests run it smoke-sized.
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd

from sqmlib import drivers


def data(n: int, p: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 0.5 * rng.standard_normal((n, 1))
    y = X @ rng.uniform(0.1, 1, p) + 3 * rng.standard_normal(n)
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(p)]).assign(y=y)


def refit_lmg_seconds(df: pd.DataFrame, p: int) -> float:
    """All 2^p subset regressions refitted with lstsq on the raw data (the naive way)."""
    X = df[[f"x{i}" for i in range(p)]].to_numpy()
    y = df["y"].to_numpy()
    t0 = time.perf_counter()
    ones = np.ones((len(X), 1))
    for s in range(1, 2 ** p):
        cols = [j for j in range(p) if s >> j & 1]
        A = np.hstack([ones, X[:, cols]])
        np.linalg.lstsq(A, y, rcond=None)
    return time.perf_counter() - t0


def run(ps=(8, 12, 16, 20, 22, 25), n: int = 100_000, refit_up_to: int = 10) -> pd.DataFrame:
    rows = []
    for p in ps:
        df = data(n, p)
        cols = [f"x{i}" for i in range(p)]
        tracemalloc.start()
        t0 = time.perf_counter()
        res = drivers.relative_importance(df, "y", cols, methods=("lmg",))
        dt = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
        tracemalloc.stop()
        target = 1.0 if p == 20 else (30.0 if p == 25 else None)
        rows.append({"drivers": p, "n": n, "seconds": dt, "peak_MiB": peak, "target_s": target,
                     "meets_target": None if target is None else dt <= target,
                     "lmg_sum_minus_r2": float(res.table["lmg"].sum() - res.r2),
                     "refit_seconds": refit_lmg_seconds(df, p) if p <= refit_up_to else None})
    return pd.DataFrame(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p", type=int, nargs="+", default=[8, 12, 16, 20, 22, 25])
    ap.add_argument("--n", type=int, default=100_000)
    args = ap.parse_args(argv)
    print(run(args.p, args.n).to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
