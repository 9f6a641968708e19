"""Speed of the mystery-shopping page: every score, interval, rank bootstrap, variance component and chart.

Target: a 200-store, 20,000-visit programme (12 checklist items, 400 shoppers, four quarters) builds its page in
≤ 10 s — :func:`sqmlib.mystery.run_mystery` and every section rendered to HTML (tables styled, charts drawn to SVG),
as the notebook shows them. Run ``python benchmarks/bench_mystery.py`` (``--stores``/``--visits`` set the size);
the tests run it smoke-sized.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sqmlib import io, mystery
from sqmlib.paths import SAMPLE_DIR
from sqmlib.render.show import figure_html, styled
from sqmlib.sample import mystery as sample


def programme(folder: Path, stores: int, visits: int, shoppers: int, seed: int = 0) -> Path:
    """A data folder: the bundled instrument and survey (whose twelve stores are the programme's first twelve, so
    audits meet perceptions), and a generated programme of the given size with every shopper's calibration."""
    rng = np.random.default_rng(seed)
    for name in ("instrument.yaml", "survey.csv"):
        shutil.copy(SAMPLE_DIR / name, folder / name)
    sample_stores = sorted(pd.read_csv(SAMPLE_DIR / "survey.csv", usecols=["store"])["store"].unique())
    names = (sample_stores + [f"T{k:03d}" for k in range(stores)])[:stores]
    region_of = {"N": "North", "S": "South", "E": "East", "W": "West"}
    quarters = ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    st = rng.integers(0, stores, visits)
    sh = rng.integers(0, shoppers, visits)
    q = rng.integers(0, len(quarters), visits)
    start = pd.PeriodIndex(quarters, freq="Q").start_time
    v = pd.DataFrame({"visit_id": [f"V{k:06d}" for k in range(visits)], "store": np.array(names)[st],
                      "region": [region_of.get(names[i][0], ("North", "South", "East", "West")[i % 4]) for i in st],
                      "shopper_id": [f"MS{k:03d}" for k in sh],
                      "visit_date": (start[q] + pd.to_timedelta(rng.integers(0, 90, visits), unit="D")).strftime(
                          "%Y-%m-%d"),
                      "visit_time": [f"{h:02d}:{m:02d}" for h, m in zip(rng.integers(9, 21, visits),
                                                                        rng.integers(0, 60, visits))],
                      "channel": "store", "scenario": rng.choice(list(sample.SCENARIOS), visits), "duration": 20})
    quality = rng.normal(0, 0.45, stores)[st] + rng.normal(0, 0.4, shoppers)[sh] + rng.normal(0, 0.55, visits)
    ans = sample._answers(quality, rng, v["scenario"].to_numpy(), v["channel"].to_numpy())
    items = pd.DataFrame({"visit_id": np.repeat(v["visit_id"].to_numpy(), len(sample.CHECKLIST)),
                          "item_id": np.tile(list(sample.CHECKLIST), visits),
                          "response": np.column_stack([ans[k] for k in sample.CHECKLIST]).ravel()})
    cases = []
    lenient = rng.normal(0, 0.4, shoppers)
    for c in range(4):
        a = sample._answers(rng.normal(0, 0.45) + lenient + 0.3 * rng.standard_normal(shoppers), rng,
                            np.full(shoppers, "new_plan"), np.full(shoppers, "store"))
        cases += [pd.DataFrame({"shopper_id": [f"MS{k:03d}" for k in range(shoppers)], "case_id": f"CASE{c + 1}",
                                "item_id": k, "response": a[k]}) for k in sample.CHECKLIST]
    calibration = pd.concat(cases)
    v.to_csv(folder / "visits.csv", index=False)
    items.to_csv(folder / "visit_items.csv", index=False)
    calibration[calibration["shopper_id"].isin(set(v["shopper_id"]))].to_csv(folder / "calibration.csv", index=False)
    return folder


def page(result) -> int:
    """Every section of the result as HTML (tables styled, charts drawn); the number of characters."""
    size = 0
    for blocks in result.sections().values():
        for b in blocks:
            if b.kind == "table":
                size += len(styled(b.content, b.style, own_formats=b.own_formats).to_html())
            elif b.kind == "figure":
                size += len(figure_html(b.content(), b.name))
            else:
                size += len(str(b.content))
    return size


def run(stores: int = 200, visits: int = 20_000, shoppers: int = 400, repeat: int = 1) -> pd.DataFrame:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = programme(Path(tmp), stores, visits, shoppers)
        t0 = time.perf_counter()
        data = io.load_folder(folder)
        load = time.perf_counter() - t0
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            result = mystery.run_mystery(data)
            analysis = time.perf_counter() - t0
            chars = page(result)
            times.append((analysis, time.perf_counter() - t0))
        analysis, total = min(times)
        rows.append({"task": "read visits and items", "stores": stores, "visits": visits, "seconds": load,
                     "target_s": None})
        rows.append({"task": "run_mystery", "stores": stores, "visits": visits, "seconds": analysis,
                     "target_s": None})
        rows.append({"task": "run_mystery + page (tables, charts)", "stores": stores, "visits": visits,
                     "seconds": total, "target_s": 10.0, "page_chars": chars})
    out = pd.DataFrame(rows)
    out["meets_target"] = [None if pd.isna(t) else s <= t for s, t in zip(out["seconds"], out["target_s"])]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stores", type=int, default=200)
    ap.add_argument("--visits", type=int, default=20_000)
    ap.add_argument("--shoppers", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    print(run(args.stores, args.visits, args.shoppers, args.repeat).to_string(
        index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
