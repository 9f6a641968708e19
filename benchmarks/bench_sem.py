"""Speed of PLS path modelling (sqmlib.sem) with seminr's Python port measured in the same run as the peer.

Rows: one fit of the ECSI mobi model (250 respondents × 24 items), 1,000 bootstrap resamples of it, and a
10,000 × 30 model (six constructs of five items) with 1,000 resamples. Targets: fit ≤ 20 ms, 1,000 resamples
≤ 2 s (R's seminr: 71 s on this machine's busy cores, single core), 10,000 × 30 with 1,000 resamples ≤ 20 s.
Run ``python benchmarks/bench_sem.py [--boot 1000] [--no-peer]``; the tests run it smoke-sized.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from sqmlib import sem

MOBI_ITEMS = {"Image": [f"IMAG{i}" for i in range(1, 6)], "Expectation": [f"CUEX{i}" for i in range(1, 4)],
              "Quality": [f"PERQ{i}" for i in range(1, 8)], "Value": ["PERV1", "PERV2"],
              "Satisfaction": [f"CUSA{i}" for i in range(1, 4)], "Complaints": "CUSCO",
              "Loyalty": [f"CUSL{i}" for i in range(1, 4)]}
MOBI_PATHS = [("Image", "Expectation"), ("Image", "Satisfaction"), ("Image", "Loyalty"), ("Expectation", "Quality"),
              ("Expectation", "Value"), ("Expectation", "Satisfaction"), ("Quality", "Value"),
              ("Quality", "Satisfaction"), ("Value", "Satisfaction"), ("Satisfaction", "Complaints"),
              ("Satisfaction", "Loyalty"), ("Complaints", "Loyalty")]


def mobi() -> pd.DataFrame | None:
    try:
        from seminr.datasets import load_mobi
    except ImportError:
        return None
    d = load_mobi()
    return pd.DataFrame({c: np.asarray(d.values[:, k], float) for k, c in enumerate(d.columns)})


def large(n: int = 10_000, seed: int = 0):
    """Six constructs of five items in a chain, n respondents."""
    rng = np.random.default_rng(seed)
    lv = np.zeros((n, 6))
    lv[:, 0] = rng.standard_normal(n)
    for j in range(1, 6):
        lv[:, j] = 0.6 * lv[:, j - 1] + 0.8 * rng.standard_normal(n)
    cols, cons = {}, {}
    for j in range(6):
        cons[f"C{j}"] = [f"x{j}_{k}" for k in range(5)]
        for k in range(5):
            cols[f"x{j}_{k}"] = np.clip(np.round(4 + 1.2 * lv[:, j] + rng.standard_normal(n)), 1, 7)
    return pd.DataFrame(cols), cons, [(f"C{j}", f"C{j + 1}") for j in range(5)]


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run(n_boot: int = 1000, n_large: int = 10_000, peer: bool = True, repeat: int = 3) -> pd.DataFrame:
    rows = []
    data = mobi()
    if data is None:  # without the peer's data: a synthetic model of the same size
        big, cons, paths = large(250, seed=1)
        data, items, edges = big, cons, paths
    else:
        items, edges = MOBI_ITEMS, MOBI_PATHS
    m = sem.pls(data, items, edges)
    rows.append({"task": "fit, 250 × 24", "tool": "sqm", "seconds": best_of(lambda: sem.pls(data, items, edges), repeat)})
    rows.append({"task": f"bootstrap {n_boot}, 250 × 24", "tool": "sqm",
                 "seconds": best_of(lambda: m.bootstrap(n_boot, seed=1), 1)})
    if peer:
        try:
            import seminr
            from seminr import composite, constructs, estimate_pls, paths, relationships, single_item
            from seminr.datasets import load_mobi

            raw = load_mobi()
            mm = constructs(*[composite(c, single_item(v) if isinstance(v, str) else v) for c, v in MOBI_ITEMS.items()])
            sm = relationships(*[paths(a, b) for a, b in MOBI_PATHS])
            ref = estimate_pls(raw, mm, sm)
            rows.append({"task": "fit, 250 × 24", "tool": "seminr (Python port)",
                         "seconds": best_of(lambda: estimate_pls(raw, mm, sm), repeat)})
            rows.append({"task": f"bootstrap {n_boot}, 250 × 24", "tool": "seminr (Python port)",
                         "seconds": best_of(lambda: seminr.bootstrap_model(ref, nboot=n_boot, seed=1), 1)})
        except ImportError:
            pass
    big, cons, bpaths = large(n_large)
    t0 = time.perf_counter()
    mb = sem.pls(big, cons, bpaths)
    mb.bootstrap(n_boot, seed=1)
    rows.append({"task": f"fit + bootstrap {n_boot}, {n_large:,} × 30", "tool": "sqm",
                 "seconds": time.perf_counter() - t0})
    return pd.DataFrame(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--no-peer", action="store_true")
    args = ap.parse_args(argv)
    print(run(args.boot, peer=not args.no_peer).to_string(index=False, float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
