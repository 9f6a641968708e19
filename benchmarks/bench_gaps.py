"""Speed of the gap analysis: every item, dimension and overall gap with its tests.

Target: 1,000,000 respondents × 22 items × 2 blocks in ≤ 3 s (paired t, intervals, Holm, Wilcoxon, shares).
Run ``python benchmarks/bench_gaps.py`` (``--n`` sets the respondents); the tests run it smoke-sized.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from sqmlib import gaps, instruments


def survey(n: int, seed: int = 0) -> pd.DataFrame:
    inst = instruments.load("servqual")
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((n, 1))
    cols = {}
    for b, mu in (("E", 5.9), ("P", 5.1)):
        x = np.clip(np.floor(mu + 0.8 * f + rng.standard_normal((n, 22)) + 0.5), 1, 7)
        x[rng.random(x.shape) < 0.03] = np.nan
        cols.update(dict(zip(inst.item_columns(b), x.T)))
    return pd.DataFrame(cols)


def run(n: int = 1_000_000, repeat: int = 3) -> pd.DataFrame:
    df = survey(n)
    rows = []
    for wil in (True, False):
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            gaps.servqual_gaps(df, "servqual", wilcoxon=wil)
            times.append(time.perf_counter() - t0)
        rows.append({"task": f"servqual_gaps, all levels{' with Wilcoxon' if wil else ''}", "rows": n,
                     "seconds": min(times), "target_s": 3.0 if wil else None})
    out = pd.DataFrame(rows)
    out["meets_target"] = [None if pd.isna(t) else s <= t for s, t in zip(out["seconds"], out["target_s"])]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    print(run(args.n, args.repeat).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
