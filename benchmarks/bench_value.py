"""Customer value at scale: the RFM and BG/NBD summaries of 10 million orders, then the models on the summary.

Target: 10,000,000 orders (1,000,000 customers) summarised — the purchase summary (frequency, recency, T, spend)
and RFM — in ≤ 60 s and ≤ 2 GB peak memory on the 2-core machine, DuckDB reading a Parquet file; the BG/NBD and
Gamma-Gamma fits on the summary are timed apart. Peers, measured in the same run on a smaller file: our pandas
summary and the ``lifetimes`` library's ``summary_data_from_transaction_data`` (when installed). Each measurement
runs in its own process, so its peak memory is its own. Run ``python benchmarks/bench_value.py`` (``--rows``,
``--peer-rows`` set the sizes); the tests run it smoke-sized.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the benchmarks' own helpers
from isolated import in_child  # noqa: E402


def make_parquet(rows: int, path: Path, seed: int = 0, chunk: int = 100_000) -> Path:
    """About ``rows`` orders from a BG/NBD process (r 0.75, α 6 weeks, a 0.5, b 4.5: about ten orders a customer),
    customers joining over two years and observed to the end of the third, Gamma-Gamma spend (p 6, q 4, γ 60),
    1 % of orders refunded; written chunk by chunk of customers (never whole in memory)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    start, days = np.datetime64("2024-01-01T00:00:00", "s"), 3 * 365
    writer, done, first = None, 0, 0
    while done < rows:
        n = max(1_000, min(chunk, (rows - done) // 9 + 1))  # about nine orders a customer in the window
        lam = rng.gamma(0.75, 1 / 6, n) / 7  # purchases per day
        drop = rng.beta(0.5, 4.5, n)
        # the first purchase, then repeat purchases until the one after which the customer drops out; capped where
        # the window could not hold more (a purchase past the window is dropped anyway)
        k = 1 + np.minimum(rng.geometric(drop), 20 + np.ceil(3 * lam * days).astype(np.int64))
        born = rng.uniform(0, 2 * 365, n)
        who = np.repeat(np.arange(n), k)
        starts = np.r_[0, np.cumsum(k)[:-1]]
        gaps = rng.exponential(1, len(who)) / lam[who]
        gaps[starts] = 0.0  # the first purchase at joining
        cum = np.cumsum(gaps)
        at = born[who] + cum - cum[starts][who]
        keep = at < days
        who, at = who[keep], at[keep]
        nu = rng.gamma(4, 1 / 60, n)  # Gamma-Gamma: each customer's spend rate ν ~ Gamma(q, γ), spend ~ Gamma(p, ν)
        amount = np.round(rng.gamma(6, 1, len(who)) / nu[who], 2)
        table = pa.table({
            "customer_id": np.char.add("C", np.char.zfill((first + who).astype(str), 8)),
            "order_id": np.char.add("O", (done + np.arange(len(who))).astype(str)),
            "order_time": start + (at * 86400).astype("timedelta64[s]"),
            "amount": amount, "refunded": rng.random(len(who)) < 0.01})
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        done += len(who)
        first += n
    writer.close()
    return path


AS_OF = "2026-12-31"


def work(path: str, task: str) -> dict:
    """One measurement (in a fresh process): seconds, peak memory and the size of the result."""
    from sqmlib import value

    t0 = time.perf_counter()
    extra = {}
    if task == "duckdb":
        s = value.purchase_summary(path, as_of=AS_OF)
        r = value.rfm_summary(path, as_of=AS_OF)
        extra["customers"] = len(s)
        seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        m = value.bgnbd(s["frequency"], s["recency"], s["T"])
        value.gamma_gamma(s["frequency"], s["monetary_value"])
        extra["fit_s"] = time.perf_counter() - t1
        extra["converged"] = bool(m.converged)
        extra["rfm_rows"] = len(r)
    elif task == "pandas":
        tx = pd.read_parquet(path)
        tx = tx[~tx["refunded"]]
        s = value.summary_from_transactions(tx, customer="customer_id", time="order_time", amount="amount",
                                            as_of=AS_OF)
        value.rfm(tx, customer="customer_id", time="order_time", amount="amount", as_of=AS_OF)
        extra["customers"] = len(s)
        seconds = time.perf_counter() - t0
    else:  # lifetimes
        from lifetimes.utils import summary_data_from_transaction_data

        tx = pd.read_parquet(path)
        tx = tx[~tx["refunded"]]
        s = summary_data_from_transaction_data(tx, "customer_id", "order_time", monetary_value_col="amount",
                                               observation_period_end=AS_OF, freq="W")
        extra["customers"] = len(s)
        seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"seconds": seconds, "peak_mib": peak, **extra}


def measure(path: Path, task: str) -> dict:
    """``work`` in a child process, so that each peak memory is its own."""
    return in_child(__file__, "work", str(path), task)


def run(rows: int = 10_000_000, peer_rows: int = 1_000_000, folder: Path | None = None,
        isolated: bool = True) -> pd.DataFrame:
    """The table; ``isolated=False`` measures in this process (quicker; the peaks are then this process's)."""
    import importlib.util

    out = []
    measure_ = measure if isolated else work
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(folder or tmp)
        big = make_parquet(rows, folder / f"orders_{rows}.parquet")
        small = make_parquet(peer_rows, folder / f"orders_{peer_rows}.parquet")
        r = measure_(str(big), "duckdb")
        out.append({"task": "ours, DuckDB: purchase summary + RFM", "orders": rows, **r, "target_s": 60.0,
                    "target_mib": 2048.0})
        for task, name in (("duckdb", "ours, DuckDB"), ("pandas", "ours, pandas"), ("lifetimes", "peer: lifetimes")):
            if task == "lifetimes" and importlib.util.find_spec("lifetimes") is None:
                continue
            r = measure_(str(small), task)
            out.append({"task": f"{name}: purchase summary" + (" + RFM" if task != "lifetimes" else ""),
                        "orders": peer_rows, **r, "target_s": None, "target_mib": None})
    t = pd.DataFrame(out)
    t["meets_target"] = [None if pd.isna(s) else (sec <= s and mib <= m)
                         for sec, mib, s, m in zip(t["seconds"], t["peak_mib"], t["target_s"], t["target_mib"])]
    return t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--peer-rows", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    print(run(args.rows, args.peer_rows).to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
