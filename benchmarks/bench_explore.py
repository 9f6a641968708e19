"""How fast the explorers answer a widget change: first visit (computed and drawn) and revisit (from the cache).

Target: a change answers in under a second on the bundled data. Each row is one selection change as the
widget performs it: the explorer's view, its charts drawn to SVG (cached per chart) and the table to HTML.
Run ``python benchmarks/bench_explore.py`` (the bundled data; ``--data`` for another folder); the tests run it
on a small generated folder.
"""
from __future__ import annotations

import argparse
import time

import pandas as pd

from sqmlib import explore

CHANGES = {
    "survey": [{}, {"segment": "region", "value": "North"}, {"segment": "region", "value": "North", "block": "P"},
               {"segment": "region", "value": "North", "block": "P", "dimension": "empathy"},
               {"segment": "channel", "value": "phone"}, {"quarter": explore.ALL}],
    "drivers": [{}, {"outcome": "nps"}, {"segment": "channel", "value": "phone"}, {"level": "item"}],
    "churn": [{}, {"threshold": 0.3}, {"clv": 500.0}, {"offer_cost": 50.0, "threshold": 0.5}],
}


def _update(e, selection: dict) -> float:
    t0 = time.perf_counter()
    v = e.view(**selection)
    for key, draw in v.charts:
        e.image(key, draw)
    explore.html_table(v.table)
    for t in v.extra.values():
        explore.html_table(t, 20)
    return time.perf_counter() - t0


def run(data_dir=None, changes: dict | None = None) -> pd.DataFrame:
    """The timing table: loading, then each change of ``changes`` (default :data:`CHANGES`) per explorer."""
    t0 = time.perf_counter()
    exps = explore.explorers(data_dir)
    load = time.perf_counter() - t0
    rows = [{"explorer": "(all)", "change": "load data, fit the churn model", "first_s": load, "revisit_s": float("nan")}]
    for name, selections in (CHANGES if changes is None else changes).items():
        e = exps.get(name)
        if e is None:
            continue
        for sel in selections:
            first = _update(e, sel)
            again = _update(e, sel)
            rows.append({"explorer": name, "change": ", ".join(f"{k}={v}" for k, v in sel.items()) or "default view",
                         "first_s": first, "revisit_s": again})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", help="data folder (default: the bundled sample)")
    args = ap.parse_args()
    table = run(args.data)
    with pd.option_context("display.width", 140, "display.max_colwidth", 60):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    worst = table[table["explorer"] != "(all)"]["first_s"].max()
    print(f"\nslowest first visit {worst:.2f} s; slowest revisit {table['revisit_s'].max():.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()
