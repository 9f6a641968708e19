"""How well the voice-of-the-customer reading does on real reviews it was never tuned on.

Give it labelled review files (CSV; a text column — ``text``, ``review``, ``content``, ``comment``, ``评论`` or
``内容`` — and either a ``label`` of 1/0 or positive/negative, or a star ``rating`` 1–5, read as 1–2 negative and
4–5 positive). For each file: the polarity model's 5-fold cross-validated accuracy (:func:`sqmlib.voc.fit_polarity`,
the settings chosen on the bundled sample, never on these files) with its 95 % Wilson interval, and the lexicon's
document accuracy on the texts it scores, with its coverage. With several files, a model learnt on one file is
scored on each other (another domain: hotels against take-away food), and the model learnt on the sample's star
ratings is scored on every file. Run::

    python benchmarks/eval_voc_reviews.py hotel_reviews.csv takeaway_reviews.csv

Public labelled Chinese sets of this form are ChnSentiCorp's hotel reviews (``ChnSentiCorp_htl_all.csv``, 7,766
reviews) and the ``waimai_10k`` take-away reviews (11,987), both in the ChineseNlpCorpus collection.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TEXT_COLUMNS = ("text", "review", "content", "comment", "评论", "内容")
LABEL_COLUMNS = ("label", "polarity", "sentiment")
RATING_COLUMNS = ("rating", "stars", "star", "评分")


def read_labelled(path) -> tuple[list[str], np.ndarray]:
    """(texts, labels ``positive``/``negative``) of a labelled review file; rows without either left out."""
    from sqmlib.voc import ratings_to_labels

    d = pd.read_csv(path)
    cols = {c.lower().strip(): c for c in d.columns}
    text = next((cols[c] for c in TEXT_COLUMNS if c in cols), None)
    label = next((cols[c] for c in LABEL_COLUMNS if c in cols), None)
    rating = next((cols[c] for c in RATING_COLUMNS if c in cols), None)
    if text is None or (label is None and rating is None):
        raise SystemExit(f"{path}: needs a text column ({', '.join(TEXT_COLUMNS)}) and a label or rating column")
    if label is not None:
        v = d[label].astype(str).str.strip().str.lower()
        y = v.map({"1": "positive", "positive": "positive", "pos": "positive", "0": "negative",
                   "negative": "negative", "neg": "negative", "-1": "negative"})
    else:
        y = ratings_to_labels(d[rating])
    keep = y.notna() & d[text].notna() & (d[text].astype(str).str.strip() != "")
    return d.loc[keep, text].astype(str).tolist(), y[keep].to_numpy(dtype=object)


def sample_labelled() -> tuple[list[str], np.ndarray]:
    from sqmlib.voc import ratings_to_labels

    fb = pd.read_csv(ROOT / "data" / "sample" / "feedback.csv")
    zh = fb["text"].astype(str).str.contains(r"[\u4e00-\u9fff]")
    y = ratings_to_labels(fb["rating"])
    keep = y.notna() & zh
    return fb.loc[keep, "text"].tolist(), y[keep].to_numpy(dtype=object)


def evaluate(files, lang: str = "zh") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per file: the model's cross-validated and the lexicon's accuracy; across files: one file's model scored on
    another's texts (and the sample's model on each)."""
    from sqmlib.voc import fit_polarity, lexicon_accuracy

    data = {Path(f).stem: read_labelled(f) for f in files}
    rows, models = [], {}
    for name, (t, y) in data.items():
        t0 = time.perf_counter()
        m = fit_polarity(t, y, lang=lang, calibrate=False)
        cv_s = time.perf_counter() - t0
        lex = lexicon_accuracy(t, y)
        models[name] = m
        rows.append({"file": name, "reviews": len(t), "positive_share": float(np.mean(y == "positive")),
                     "model_cv_accuracy": m.cv_accuracy, "model_low": m.cv_interval[0], "model_high": m.cv_interval[1],
                     "lexicon_accuracy": lex["accuracy"], "lexicon_low": lex["interval"][0],
                     "lexicon_high": lex["interval"][1], "lexicon_covered": lex["covered"], "cv_seconds": cv_s})
    models["sample (star ratings)"] = fit_polarity(*sample_labelled(), lang=lang, calibrate=False)
    cross = [{"learnt_on": a, "scored_on": b, "accuracy": float(np.mean(m.predict(data[b][0]) == data[b][1]))}
             for a, m in models.items() for b in data if a != b]
    return pd.DataFrame(rows), pd.DataFrame(cross)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", help="labelled review files (CSV)")
    p.add_argument("--lang", default="zh", choices=("zh", "en"))
    args = p.parse_args(argv)
    within, cross = evaluate(args.files, args.lang)
    with pd.option_context("display.width", 200, "display.float_format", "{:.3f}".format):
        print(within.to_string(index=False))
        print()
        print(cross.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
