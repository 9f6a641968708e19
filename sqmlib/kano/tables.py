"""The KANO questionnaire's statistics: each respondent's category from the functional and dysfunctional answer
(Berger et al. 1993's evaluation table), per attribute the counts, the category, its strength, Timko's
Better/Worse coefficients, Fong's test and the continuous (functional/dysfunctional score) view.

Answers are coded 1 = like it, 2 = expect it (must be), 3 = neutral, 4 = can tolerate (live with),
5 = dislike it, for both questions of a pair.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import Problem, SQMDataError

CATEGORIES = ("A", "O", "M", "I", "R", "Q")  # attractive, one-dimensional, must-be, indifferent, reverse, questionable
NAMES = {"A": "attractive", "O": "one-dimensional", "M": "must-be", "I": "indifferent", "R": "reverse",
         "Q": "questionable"}
TIE_ORDER = ("M", "O", "A", "I", "R", "Q")  # the hierarchy rule: a tie goes to the category first here
ANSWERS = (1, 2, 3, 4, 5)

# Berger et al. (1993), table 1: rows the functional answer, columns the dysfunctional answer
EVALUATION = np.array([
    ["Q", "A", "A", "A", "O"],   # like it
    ["R", "I", "I", "I", "M"],   # expect it
    ["R", "I", "I", "I", "M"],   # neutral
    ["R", "I", "I", "I", "M"],   # can tolerate
    ["R", "R", "R", "R", "Q"],   # dislike it
])
# the continuous view (DuMouchel, in Berger et al. 1993): an answer's score on the functional and the
# dysfunctional question, from −2 to 4
FUNCTIONAL_SCORE = np.array([4.0, 2.0, 0.0, -1.0, -2.0])
DYSFUNCTIONAL_SCORE = np.array([-2.0, -1.0, 0.0, 2.0, 4.0])
FONG_Z = 1.65  # Fong (1996): the two most frequent categories differ when |a − b| ≥ 1.65·√((a+b)(2n−a−b)/(2n))


def _answers(frame: pd.DataFrame, what: str) -> np.ndarray:
    """Answers 1–5 as integers (0 where missing); anything else is a problem naming the column."""
    v = frame.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isnan(v) & ~np.isin(v, ANSWERS)
    if bad.any():
        cols = [str(c) for c, b in zip(frame.columns, bad.any(axis=0)) if b]
        raise SQMDataError(what, [Problem("out_of_range", f"KANO answers must be 1 (like it) to 5 (dislike it); "
                                                          f"other values in {', '.join(cols)}")])
    return np.where(np.isnan(v), 0, v).astype(int)


def classify(functional: pd.DataFrame, dysfunctional: pd.DataFrame) -> pd.DataFrame:
    """Each respondent's category per attribute by the evaluation table: ``"A"``, ``"O"``, ``"M"``, ``"I"``,
    ``"R"``, ``"Q"``, or missing when either answer of the pair is missing.

    Parameters
    ----------
    functional, dysfunctional : DataFrame
        One column per attribute (the same columns in both), answers 1–5 (1 like it … 5 dislike it).
    """
    if list(functional.columns) != list(dysfunctional.columns):
        raise SQMDataError("kano", [Problem("kano_pair", "the functional and dysfunctional answers must have the "
                                                         "same attribute columns in the same order")])
    f, d = _answers(functional, "functional answers"), _answers(dysfunctional, "dysfunctional answers")
    table = np.vstack([np.full(5, None, dtype=object), EVALUATION.astype(object)])
    table = np.hstack([np.full((6, 1), None, dtype=object), table])  # row/column 0: a missing answer
    cat = table[f, d]
    cat[(f == 0) | (d == 0)] = None
    return pd.DataFrame(cat, index=functional.index, columns=functional.columns)


def counts(categories: pd.DataFrame) -> pd.DataFrame:
    """Per attribute (rows) the number of respondents in each category (columns A, O, M, I, R, Q)."""
    out = {c: (categories == c).sum(axis=0) for c in CATEGORIES}
    return pd.DataFrame(out).astype(int).rename_axis("attribute")


def fong_differs(a, b, n) -> np.ndarray:
    """Fong's test (1996): whether two category frequencies ``a`` ≥ ``b`` out of ``n`` answers differ,
    |a − b| ≥ 1.65·√((a + b)(2n − a − b) / (2n))."""
    a, b, n = (np.asarray(x, dtype=float) for x in (a, b, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        limit = FONG_Z * np.sqrt((a + b) * (2 * n - a - b) / (2 * n))
    return np.abs(a - b) >= limit


def kano_coefficients(counts: pd.DataFrame) -> pd.DataFrame:
    """The KANO table from counts per attribute (columns A, O, M, I, R, Q; a missing column counts 0).

    Returns, indexed by attribute: the counts, ``n`` (every answer pair, Q and R included), ``category`` (the
    most frequent category, a tie resolved by the hierarchy rule M > O > A > I, then R, Q), ``mode`` (the
    plain mode, tied categories joined as ``"A/O"``), ``category_strength`` (share of the most frequent
    category minus the second's, Lee and Newcomb 1997), ``total_strength`` (share of A + O + M), ``better``
    = (A + O)/(A + O + M + I) and ``worse`` = −(O + M)/(A + O + M + I) (Timko, in Berger et al. 1993; NaN
    when A + O + M + I = 0), ``fong_significant`` (whether the two most frequent categories differ by Fong's
    test) and ``second`` (the second most frequent category). Shares are of ``n``.
    """
    c = counts.reindex(columns=list(CATEGORIES), fill_value=0).fillna(0)
    c = c.astype(float)
    if (c.to_numpy() < 0).any():
        raise SQMDataError("kano counts", [Problem("out_of_range", "KANO counts cannot be negative")])
    n = c.sum(axis=1)
    order_rank = {k: i for i, k in enumerate(TIE_ORDER)}
    rows = []
    for attr, r in c.iterrows():
        ranked = sorted(CATEGORIES, key=lambda k: (-r[k], order_rank[k]))
        top, second = ranked[0], ranked[1]
        tied = [k for k in TIE_ORDER if r[k] == r[top]]
        rows.append({"category": top if n[attr] else None, "mode": "/".join(tied) if n[attr] else None,
                     "second": second if n[attr] else None, "top_count": r[top], "second_count": r[second]})
    extra = pd.DataFrame(rows, index=c.index)
    core = c["A"] + c["O"] + c["M"] + c["I"]
    with np.errstate(invalid="ignore", divide="ignore"):
        better = ((c["A"] + c["O"]) / core).where(core > 0)
        worse = (-(c["O"] + c["M"]) / core).where(core > 0)
        cs = ((extra["top_count"] - extra["second_count"]) / n).where(n > 0)
        ts = ((c["A"] + c["O"] + c["M"]) / n).where(n > 0)
    whole = bool((c.to_numpy() == np.round(c.to_numpy())).all())  # counts; percentages stay as given
    out = (c.astype(int) if whole else c).assign(
        n=n.astype(int) if whole else n, category=extra["category"], mode=extra["mode"], second=extra["second"],
        category_strength=cs, total_strength=ts, better=better, worse=worse,
        fong_significant=fong_differs(extra["top_count"], extra["second_count"], n) & (n > 0))
    return out.rename_axis("attribute")


def kano_table(functional: pd.DataFrame, dysfunctional: pd.DataFrame) -> pd.DataFrame:
    """:func:`kano_coefficients` of the respondents' categories (:func:`classify`): the counts, category,
    strengths, Better/Worse and Fong's test per attribute (answer pairs with a missing half are left out)."""
    return kano_coefficients(counts(classify(functional, dysfunctional)))


def continuous(functional: pd.DataFrame, dysfunctional: pd.DataFrame,
               categories: pd.DataFrame | None = None) -> pd.DataFrame:
    """The continuous view: per attribute the mean and standard deviation of the functional and dysfunctional
    scores (like it 4, expect it 2, neutral 0, can tolerate −1, dislike it −2 on the functional question; the
    mirror −2, −1, 0, 2, 4 on the dysfunctional one), over complete pairs that are neither reverse nor
    questionable, and the quadrant at 2 on each axis: attractive (functional ≥ 2, dysfunctional < 2),
    one-dimensional (both ≥ 2), must-be (dysfunctional ≥ 2 only), indifferent (both < 2)."""
    cats = classify(functional, dysfunctional) if categories is None else categories
    f, d = _answers(functional, "functional answers"), _answers(dysfunctional, "dysfunctional answers")
    keep = cats.isin(["A", "O", "M", "I"]).to_numpy()
    fs = np.where(keep, FUNCTIONAL_SCORE[np.clip(f - 1, 0, 4)], np.nan)
    ds = np.where(keep, DYSFUNCTIONAL_SCORE[np.clip(d - 1, 0, 4)], np.nan)
    n = keep.sum(axis=0)
    fs, ds = pd.DataFrame(fs), pd.DataFrame(ds)
    fm, dm = fs.mean().to_numpy(), ds.mean().to_numpy()
    fsd, dsd = fs.std(ddof=1).to_numpy(), ds.std(ddof=1).to_numpy()
    quadrant = np.where(fm >= 2, np.where(dm >= 2, "O", "A"), np.where(dm >= 2, "M", "I")).astype(object)
    quadrant[np.isnan(fm)] = None
    return pd.DataFrame({"functional": fm, "functional_sd": fsd, "dysfunctional": dm, "dysfunctional_sd": dsd,
                         "n": n.astype(int), "quadrant": quadrant},
                        index=pd.Index(functional.columns, name="attribute"))


def by_segment(functional: pd.DataFrame, dysfunctional: pd.DataFrame, segment: pd.Series,
               min_n: int = 30) -> pd.DataFrame:
    """The category, Better and Worse of each attribute per segment value (segments with fewer than ``min_n``
    complete answer pairs on an attribute show no category): long format, one row per segment and attribute."""
    cats = classify(functional, dysfunctional)
    rows = []
    for value, idx in segment.dropna().groupby(segment.dropna().astype(str)).groups.items():
        t = kano_coefficients(counts(cats.loc[idx]))
        t = t.assign(segment=value)
        small = t["n"] < min_n
        t.loc[small, ["category", "better", "worse"]] = None
        rows.append(t.reset_index())
    cols = ["segment", "attribute", "n", "category", "better", "worse"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


def disagreements(questionnaire: pd.Series, prca: pd.Series, dimension_of: dict) -> pd.DataFrame:
    """Where the questionnaire's category of an attribute and the penalty–reward class of the dimension it
    belongs to disagree: must-be ↔ basic, one-dimensional ↔ performance, attractive ↔ excitement (indifferent,
    reverse and questionable attributes are not compared). Columns attribute, dimension, kano, prca."""
    expect = {"M": "basic", "O": "performance", "A": "excitement"}
    rows = []
    for attr, cat in questionnaire.items():
        dim = dimension_of.get(attr)
        if cat in expect and dim in prca.index and prca[dim] != expect[cat]:
            rows.append({"attribute": attr, "dimension": dim, "kano": cat, "prca": prca[dim]})
    return pd.DataFrame(rows, columns=["attribute", "dimension", "kano", "prca"])


def answer_pairs(survey: pd.DataFrame, instrument) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The functional and dysfunctional answers of the instrument's KANO attributes found in ``survey`` (columns
    ``KF_<id>`` and ``KD_<id>`` as loaded), one column per attribute id; None when it asks none."""
    kano = getattr(instrument, "kano", None)
    ids = [a for a in (kano.ids if kano is not None else ()) if f"KF_{a}" in survey and f"KD_{a}" in survey]
    if not ids:
        return None
    return (survey[[f"KF_{a}" for a in ids]].set_axis(ids, axis=1),
            survey[[f"KD_{a}" for a in ids]].set_axis(ids, axis=1))


def half_answered(functional: pd.DataFrame, dysfunctional: pd.DataFrame) -> pd.Series:
    """Per attribute, the respondents who answered one question of the pair and left the other blank."""
    return (functional.notna() ^ dysfunctional.notna()).sum()
