"""Voice of the customer at scale: a million feedback texts classified — aspects and their sentiment (the lexicon)
and document polarity (the character n-gram model) — in bounded memory.

Target: 1,000,000 texts (Chinese and English, the sample's phrasings with their numbers varied) read for aspects
and sentiment in ≤ 120 s on this machine, chunk by chunk (only counts kept), peak memory ≤ 2 GB. Beside it, in
the same run: the polarity model's predictions for the same texts, and jieba-rs segmentation alone (the floor
under any Chinese analysis). Run ``python benchmarks/bench_voc.py`` (``--rows`` sets the size); the tests run it
smoke-sized.
"""
from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def texts(rows: int, seed: int = 0) -> list[str]:
    """``rows`` texts: the sample's feedback drawn at random, each with a number of its own (no two alike)."""
    base = pd.read_csv(ROOT / "data" / "sample" / "feedback.csv")["text"].to_numpy()
    rng = np.random.default_rng(seed)
    pick = base[rng.integers(0, len(base), rows)]
    return [f"{t} #{i}" for i, t in enumerate(pick)]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(rows: int = 1_000_000, chunk: int = 50_000) -> pd.DataFrame:
    import rjieba

    from sqmlib import voc

    data = texts(rows)
    a = voc.Analyser()
    counts: dict = {}
    t0 = time.perf_counter()
    for k in range(0, rows, chunk):  # only the counts per aspect and polarity are kept
        f = a.frame(data[k:k + chunk])
        for key, n in f.groupby(["aspect", "polarity"]).size().items():
            counts[key] = counts.get(key, 0) + int(n)
    lexicon_s = time.perf_counter() - t0
    mib = peak_mib()
    fb = pd.read_csv(ROOT / "data" / "sample" / "feedback.csv")
    model = voc.fit_polarity(fb["text"], voc.ratings_to_labels(fb["rating"]), lang="zh", calibrate=False)
    t0 = time.perf_counter()
    for k in range(0, rows, chunk):
        model.predict(data[k:k + chunk])
    model_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for t in data:
        rjieba.cut(t)
    seg_s = time.perf_counter() - t0
    out = pd.DataFrame([
        {"task": "aspects and sentiment (lexicon), in chunks", "texts": rows, "seconds": lexicon_s,
         "peak_mib": mib, "target_s": 120.0, "mentions": sum(counts.values())},
        {"task": "document polarity (character n-gram model)", "texts": rows, "seconds": model_s,
         "peak_mib": peak_mib(), "target_s": None, "mentions": None},
        {"task": "floor: jieba-rs segmentation alone", "texts": rows, "seconds": seg_s, "peak_mib": peak_mib(),
         "target_s": None, "mentions": None},
    ])
    out["meets_target"] = [None if pd.isna(t) else (s <= t and m <= 2048) for s, t, m in
                           zip(out["seconds"], out["target_s"], out["peak_mib"])]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    print(run(args.rows).to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
