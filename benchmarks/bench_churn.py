"""Speed of churn modelling: the gbm pipeline's fit and 5-fold CV on 1,000,000 customers × 30 features
(target ≤ 5 min on 2 cores) and the profit curve over 1,000,000 scores (target ≤ 1 s).
Run ``python benchmarks/bench_churn.py`` (``--n`` sets the customers); the tests run it smoke-sized.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from sqmlib import churn


def data(n: int, p: int = 30, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p - 2))
    plan = rng.choice(["basic", "standard", "premium"], n)
    region = rng.choice(["North", "South", "East", "West"], n)
    logit = -2.2 + X[:, :5] @ np.array([0.6, -0.5, 0.4, 0.3, -0.2]) + 0.3 * (plan == "basic")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(p - 2)])
    return df.assign(plan=plan, region=region, churned=y)


def run(n: int = 1_000_000, n_profit: int = 1_000_000) -> pd.DataFrame:
    rows = []
    df = data(n)
    t0 = time.perf_counter()
    r = churn.fit_churn_model(df, "churned", model="gbm", cv=5, id_col=None)
    rows.append({"task": "gbm pipeline: 5-fold CV + final fit", "rows": n, "seconds": time.perf_counter() - t0,
                 "target_s": 300.0, "cv_auc": r.cv_auc})
    rng = np.random.default_rng(1)
    y = (rng.random(n_profit) < 0.2).astype(int)
    s = y * 0.5 + rng.random(n_profit)
    t0 = time.perf_counter()
    churn.profit_curve(y, s)
    rows.append({"task": "profit curve over every threshold", "rows": n_profit,
                 "seconds": time.perf_counter() - t0, "target_s": 1.0, "cv_auc": None})
    out = pd.DataFrame(rows)
    out["meets_target"] = out["seconds"] <= out["target_s"]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    print(run(args.n, 1_000_000).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
