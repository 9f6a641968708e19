"""SERVQUAL gap analysis: where perceived service falls short of expectations, how sure we are, for whom,
and what to fix first.

All item, dimension and overall gaps of a survey are computed together from respondent × item arrays (no loop
over rows): paired t statistics, intervals and effect sizes column by column, and the Wilcoxon signed-rank test
from counts of the (integer) differences. Functions return tidy DataFrames; :func:`ipa` returns a small result
object.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from . import plots
from .engines import check_engine
from .errors import Problem, SQMArgumentError, SQMDataError, SQMWarning
from .instruments import Instrument
from .instruments import load as load_instrument
from .invariance import SurveyInvariance, survey_invariance
from .io import DataFolder
from .moments import Moments, is_moments, survey_moments
from .periods import quarter_bounds
from .results import Block, Result, figure, headline, table, text
from .tickets import standard_attainment  # noqa: F401  (gap 3: re-exported where the gaps model lives)

MOMENTS_NOTE = ("computed from moments: the Wilcoxon test needs the rows and is not given (wilcoxon_p is "
                "missing)")
QUADRANTS = {(True, False): "concentrate here", (True, True): "keep up the good work",
             (False, False): "low priority", (False, True): "possible overkill"}
CROSSHAIRS = ("mean", "median", "midpoint")


# ---------------------------------------------------------------------------------------------------------
# paired statistics, column by column
# ---------------------------------------------------------------------------------------------------------
def _wilcoxon_p(d: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value (zeros dropped, normal approximation with tie correction, no
    continuity correction: scipy's ``wilcoxon(d, method="approx")``). Ranks come from counts of the distinct
    absolute differences, so integer-valued answers cost one pass."""
    d = d[d != 0]
    n = d.size
    if n == 0:
        return np.nan
    a = np.abs(d)
    if np.all(a == np.round(a)) and a.max() < 1e6:
        counts = np.bincount(a.astype(np.int64))
        vals = np.flatnonzero(counts)
        cnt = counts[vals]
        pos = np.bincount(a[d > 0].astype(np.int64), minlength=counts.size)[vals]
    else:
        vals, inv, cnt = np.unique(a, return_inverse=True, return_counts=True)
        pos = np.bincount(inv[d > 0], minlength=vals.size)
    upper = np.cumsum(cnt)
    avg_rank = upper - (cnt - 1) / 2.0
    r_plus = float((avg_rank * pos).sum())
    mean = n * (n + 1) / 4.0
    var = n * (n + 1) * (2 * n + 1) / 24.0 - ((cnt ** 3 - cnt).sum()) / 48.0
    if var <= 0:
        return np.nan
    z = (r_plus - mean) / np.sqrt(var)
    return float(2 * stats.norm.sf(abs(z)))


def _paired_frame(names: Sequence[str], n: np.ndarray, mean_p: np.ndarray, mean_e: np.ndarray, mean_d: np.ndarray,
                  sd: np.ndarray, zero_sd: np.ndarray, shares: tuple, wilcoxon_p: np.ndarray,
                  confidence: float) -> pd.DataFrame:
    """The paired table from per-column n, means, sd of the gap and the shares above / at / below zero:
    interval, t, p, d_z, and a ``note`` where there is no test."""
    with np.errstate(invalid="ignore", divide="ignore"):
        se = sd / np.sqrt(n)
        t = mean_d / se
        df = n - 1
        p = 2 * stats.t.sf(np.abs(t), df)
        half = stats.t.ppf(0.5 + confidence / 2, df) * se
        dz = mean_d / sd
    note = np.where(n < 2, "fewer than two paired answers: no interval or test", "")
    zero_sd = (n >= 2) & zero_sd
    note = np.where(zero_sd, "every respondent has the same gap: no test", note)
    t = np.where(zero_sd | (n < 2), np.nan, t)
    p = np.where(zero_sd | (n < 2), np.nan, p)
    exceed, meet, below = shares
    return pd.DataFrame({
        "name": list(names), "n": n, "mean_e": mean_e, "mean_p": mean_p, "gap": mean_d,
        "ci_low": mean_d - half, "ci_high": mean_d + half, "t": t, "p_value": p, "wilcoxon_p": wilcoxon_p,
        "dz": dz, "share_exceed": exceed, "share_meet": meet, "share_below": below, "note": note,
    })


def paired_table(P: np.ndarray, E: np.ndarray, names: Sequence[str], *, confidence: float = 0.95,
                 wilcoxon: bool = True) -> pd.DataFrame:
    """Paired comparison of P and E for every column: n, means, gap P − E with its ``confidence`` interval,
    paired t and p, Wilcoxon p, effect size d_z and the shares of respondents with P > E, P = E, P < E.

    Only respondents with both answers count for a column. Columns with fewer than two such respondents get
    no interval or test, and say so in ``note``.
    """
    P = np.asarray(P, dtype=float)
    E = np.asarray(E, dtype=float)
    mask = ~np.isnan(P) & ~np.isnan(E)
    n = mask.sum(axis=0)
    D = np.where(mask, P - E, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_d = D.sum(axis=0) / n
        dev = np.where(mask, D - mean_d, 0.0)
        sd = np.sqrt((dev ** 2).sum(axis=0) / (n - 1))
        mean_p = np.where(mask, P, 0.0).sum(axis=0) / n
        mean_e = np.where(mask, E, 0.0).sum(axis=0) / n
        shares = tuple((mask & cmp).sum(axis=0) / n for cmp in (D > 0, D == 0, D < 0))
    wp = np.array([_wilcoxon_p(D[mask[:, j], j]) if wilcoxon and n[j] >= 2 else np.nan
                   for j in range(D.shape[1])])
    return _paired_frame(names, n, mean_p, mean_e, mean_d, sd, sd == 0, shares, wp, confidence)


def paired_from_sums(sums: np.ndarray, names: Sequence[str], *, confidence: float = 0.95) -> pd.DataFrame:
    """:func:`paired_table` from sums (one row per column: n, ΣP, ΣE, Σd, Σd², n with P > E, P = E, P < E), as
    :mod:`sqmlib.moments` keeps them. Wilcoxon's test needs the rows: ``wilcoxon_p`` is missing."""
    sums = np.atleast_2d(np.asarray(sums, dtype=float))
    n, sp, se, sd_, sdd, npos, nzero, nneg = sums.T
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_d = sd_ / n
        ss = sdd - sd_ * mean_d
        # every respondent with the same gap: ss is zero up to rounding of the sums
        same = ss <= 1e-12 * np.maximum(sdd, 1.0)
        sd = np.sqrt(np.where(same, 0.0, ss) / (n - 1))
        out = _paired_frame(names, n, sp / n, se / n, mean_d, sd, same, (npos / n, nzero / n, nneg / n),
                            np.full(len(n), np.nan), confidence)
    out["n"] = out["n"].astype(int)
    return out


def adjust_p(p: Sequence[float], method: str = "holm") -> np.ndarray:
    """Holm or Benjamini–Hochberg adjusted p-values (missing ones stay missing)."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        m = {"holm": "holm", "bh": "fdr_bh", "fdr_bh": "fdr_bh", "none": None}[method.lower()]
        out[ok] = p[ok] if m is None else multipletests(p[ok], method=m)[1]
    return out


# ---------------------------------------------------------------------------------------------------------
# respondent scores
# ---------------------------------------------------------------------------------------------------------
def _check_blocks(survey: pd.DataFrame, inst: Instrument, blocks: Sequence[str]) -> None:
    problems = []
    for b in blocks:
        if b not in inst.blocks:
            problems.append(Problem("missing_block", f"the instrument {inst.name!r} has no block {b}"))
            continue
        missing = [c for c in inst.item_columns(b) if c not in survey.columns]
        if missing:
            problems.append(Problem("missing_column", f"block {b} lacks columns {missing}"))
    if problems:
        raise SQMDataError("survey", problems)


def dimension_scores(survey: pd.DataFrame, instrument, block: str, min_share: float = 0.5) -> pd.DataFrame:
    """Respondent × dimension mean of the answered items of a block; missing when fewer than ``min_share`` of
    the dimension's items were answered."""
    inst = load_instrument(instrument)
    out = {}
    for d, items in inst.dimensions.items():
        x = survey[inst.item_columns(block, d)].to_numpy(dtype=float)
        k = (~np.isnan(x)).sum(axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            m = np.nanmean(x, axis=1)
        out[d] = np.where(k >= np.ceil(min_share * len(items)), m, np.nan)
    return pd.DataFrame(out, index=survey.index)


def item_means(survey: pd.DataFrame, instrument, block: str, *, confidence: float = 0.95) -> pd.DataFrame:
    """Per item of one block: answers, mean, standard deviation and the t interval of the mean.

    Returns a DataFrame with ``item``, ``dimension``, ``n``, ``mean``, ``sd``, ``ci_low``, ``ci_high``
    (pairwise: each item over the respondents who answered it).
    """
    inst = load_instrument(instrument)
    _check_blocks(survey, inst, [block])
    x = survey[inst.item_columns(block)].to_numpy(dtype=float)
    n = (~np.isnan(x)).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(x, axis=0)
        sd = np.nanstd(x, axis=0, ddof=1)
        half = stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    half = np.where(n > 1, half, np.nan)
    return pd.DataFrame({"item": list(inst.items), "dimension": [inst.dimension_of(i) for i in inst.items],
                         "n": n, "mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half})


def respondent_weights(survey: pd.DataFrame, instrument, weights="stated") -> pd.DataFrame:
    """Dimension weights per respondent, summing to 1.

    ``"stated"``: each respondent's importance points (``I_<dimension>``) divided by their total; respondents
    who skipped the question get the mean weights of those who answered. A mapping dimension → weight gives
    the same (normalised) weights to everyone.
    """
    inst = load_instrument(instrument)
    dims = list(inst.dimensions)
    if isinstance(weights, Mapping):
        w = np.array([float(weights[d]) for d in dims])
        return pd.DataFrame(np.tile(w / w.sum(), (len(survey), 1)), index=survey.index, columns=dims)
    cols = inst.importance_columns()
    if not cols or any(c not in survey.columns for c in cols):
        raise SQMDataError("survey", [Problem("missing_column", "weights='stated' needs the importance columns "
                                                                f"{cols or 'I_<dimension>'}")])
    pts = survey[cols].to_numpy(dtype=float)
    total = pts.sum(axis=1, keepdims=True)
    ok = ~np.isnan(pts).any(axis=1) & (total[:, 0] > 0)
    if not ok.any():
        raise SQMDataError("survey", [Problem("no_importance", "no respondent gave importance points")])
    w = np.where(ok[:, None], pts / np.where(total == 0, 1, total), np.nan)
    mean_w = np.nanmean(w[ok], axis=0)
    w[~ok] = mean_w
    return pd.DataFrame(w, index=survey.index, columns=dims)


# ---------------------------------------------------------------------------------------------------------
# the gap table
# ---------------------------------------------------------------------------------------------------------
def _tag(frame: pd.DataFrame, level: str, dimension, p_adj) -> None:
    """Level and dimension columns in front, the adjusted p-value before Wilcoxon's (in place)."""
    frame.insert(0, "level", level)
    frame.insert(2, "dimension", dimension)
    frame.insert(frame.columns.get_loc("wilcoxon_p"), "p_adj", p_adj)


def _per_segment(groups, by_cols: list[str], compute, stacklevel: int) -> pd.DataFrame:
    """``compute(segment)`` for every (key, size, segment) of ``groups``, the key columns in front; warns
    about segments with a single respondent."""
    frames, small = [], []
    for key, size, seg in groups:
        if size < 2:
            small.append("/".join(map(str, key)))
        f = compute(seg)
        for col, v in reversed(list(zip(by_cols, key))):
            f.insert(0, col, v)
        frames.append(f)
    if small:
        warnings.warn(f"segments with a single respondent have no intervals or tests: {', '.join(small)}",
                      SQMWarning, stacklevel=stacklevel + 1)
    return pd.concat(frames, ignore_index=True)


def _one_segment(seg: pd.DataFrame, inst: Instrument, weights, confidence, adjust, wilcoxon, min_share) -> pd.DataFrame:
    items = list(inst.items)
    P = seg[inst.item_columns("P")].to_numpy(dtype=float)
    E = seg[inst.item_columns("E")].to_numpy(dtype=float)
    it = paired_table(P, E, items, confidence=confidence, wilcoxon=wilcoxon)
    _tag(it, "item", [inst.dimension_of(i) for i in items], adjust_p(it["p_value"], adjust))
    dp = dimension_scores(seg, inst, "P", min_share)
    de = dimension_scores(seg, inst, "E", min_share)
    dims = list(inst.dimensions)
    dt = paired_table(dp.to_numpy(), de.to_numpy(), dims, confidence=confidence, wilcoxon=wilcoxon)
    _tag(dt, "dimension", dims, adjust_p(dt["p_value"], adjust))
    # overall: the mean of the dimension scores (each dimension counts once, whatever its number of items)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        op = np.where(dp.notna().all(axis=1), dp.mean(axis=1), np.nan)
        oe = np.where(de.notna().all(axis=1), de.mean(axis=1), np.nan)
    parts = [it, dt]
    ot = paired_table(op[:, None], oe[:, None], ["unweighted"], confidence=confidence, wilcoxon=wilcoxon)
    _tag(ot, "overall", None, ot["p_value"])
    parts.append(ot)
    if weights is not None:
        w = respondent_weights(seg, inst, weights).to_numpy()
        wp, we = (dp.to_numpy() * w).sum(axis=1), (de.to_numpy() * w).sum(axis=1)
        wt = paired_table(wp[:, None], we[:, None], ["weighted"], confidence=confidence, wilcoxon=wilcoxon)
        _tag(wt, "overall", None, wt["p_value"])
        parts.append(wt)
    return pd.concat(parts, ignore_index=True)


def _weighted_sums(m, inst: Instrument) -> tuple[np.ndarray, bool]:
    """Paired sums of the importance-weighted overall score from moments, and whether the shares above /
    at / below zero are known (they are not when some respondents got the mean weights)."""
    if "weights" not in m.sets or "overall:weighted_own" not in m.pairs:
        raise SQMDataError("survey", [Problem("missing_column", "weights='stated' needs the importance columns "
                                                                f"{inst.importance_columns() or 'I_<dimension>'}")])
    w = m.select(m.sets["weights"].columns, "listwise")
    if w.n == 0:
        raise SQMDataError("survey", [Problem("no_importance", "no respondent gave importance points")])
    wbar = np.diag(w.S) / w.n  # mean weights of those who answered (shift 0)
    own = m.pair("overall:weighted_own")
    nw = m.select(m.sets["weights_missing:dims"].columns, "listwise")
    k = len(wbar)
    if nw.n == 0:
        return own, True
    Sp, Se = np.diag(nw.S)[:k], np.diag(nw.S)[k:]
    cp, ce = nw.shift[:k], nw.shift[k:]
    Q = nw.Q
    Qg = Q[:k, :k] - Q[:k, k:] - Q[k:, :k] + Q[k:, k:]  # cross-products of (P − E) per dimension
    sum_p = wbar @ (Sp + nw.n * cp)
    sum_e = wbar @ (Se + nw.n * ce)
    sum_d = wbar @ (Sp - Se) + nw.n * (wbar @ (cp - ce))
    sum_dd = float(wbar @ Qg @ wbar)
    extra = np.array([nw.n, sum_p, sum_e, sum_d, sum_dd, np.nan, np.nan, np.nan])
    return own + extra, False


def _one_segment_moments(m, inst: Instrument, weights, confidence, adjust, min_share) -> pd.DataFrame:
    """The gap table of one (pooled) group of moments; see :func:`servqual_gaps`."""
    if m.spec.info.get("min_share") != min_share:
        raise SQMArgumentError(f"the moments were taken with min_share="
                                                               f"{m.spec.info.get('min_share')}, not {min_share}")
    items, dims = list(inst.items), list(inst.dimensions)
    missing = [f"item:{i}" for i in items if f"item:{i}" not in m.pairs]
    if missing:
        raise SQMDataError("moments", [Problem("missing_column", f"the moments lack the pairs {missing[:3]}…: "
                                                                 "build them with survey_spec")])
    it = paired_from_sums(np.stack([m.pair(f"item:{i}") for i in items]), items, confidence=confidence)
    _tag(it, "item", [inst.dimension_of(i) for i in items], adjust_p(it["p_value"], adjust))
    dt = paired_from_sums(np.stack([m.pair(f"dimension:{d}") for d in dims]), dims, confidence=confidence)
    _tag(dt, "dimension", dims, adjust_p(dt["p_value"], adjust))
    parts = [it, dt]
    overall = [("unweighted", m.pair("overall:unweighted"), True)]
    if weights is not None:
        if weights != "stated":
            raise SQMArgumentError("from moments the weighted gap uses the stated "
                                                                   "importance points (weights='stated')")
        overall.append(("weighted", *_weighted_sums(m, inst)))
    for name, sums, shares_known in overall:
        ot = paired_from_sums(sums, [name], confidence=confidence)
        if not shares_known:
            ot["note"] = "shares need the rows (some respondents got the mean weights)"
        _tag(ot, "overall", None, ot["p_value"])
        parts.append(ot)
    return pd.concat(parts, ignore_index=True)


def _gaps_from_moments(m, inst: Instrument, by_cols: list[str], weights, confidence, adjust, min_share) -> pd.DataFrame:
    if not isinstance(m, Moments):
        raise SQMArgumentError("servqual_gaps needs the Moments object of "
                                                               "survey_moments, not a selection of columns")
    if not by_cols:
        out = _one_segment_moments(m.pooled(), inst, weights, confidence, adjust, min_share)
    else:
        out = _per_segment(((key, g.n_rows.sum(), g) for key, g in m.groupby(by_cols)), by_cols,
                           lambda g: _one_segment_moments(g, inst, weights, confidence, adjust, min_share), stacklevel=3)
    return out


def servperf_table(survey: pd.DataFrame, instrument, *, by=None, confidence: float = 0.95,
                   min_share: float = 0.5) -> pd.DataFrame:
    """SERVPERF (perceptions only): mean perception per item, dimension and overall with its interval."""
    inst = load_instrument(instrument)
    _check_blocks(survey, inst, ["P"])
    groups = [((), survey)] if not by else list(survey.groupby(list(_as_list(by)), dropna=False, sort=True))
    frames = []
    for key, seg in groups:
        dp = dimension_scores(seg, inst, "P", min_share)
        cols = {"item": (seg[inst.item_columns("P")].to_numpy(dtype=float), list(inst.items)),
                "dimension": (dp.to_numpy(), list(inst.dimensions)),
                "overall": (np.where(dp.notna().all(axis=1), dp.mean(axis=1), np.nan)[:, None], ["unweighted"])}
        for level, (x, names) in cols.items():
            n = (~np.isnan(x)).sum(axis=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                m = np.nanmean(x, axis=0)
                sd = np.nanstd(x, axis=0, ddof=1)
                half = stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / np.sqrt(n)
            f = pd.DataFrame({"level": level, "name": names, "n": n, "mean_p": m, "sd": sd,
                              "ci_low": m - half, "ci_high": m + half,
                              "note": np.where(n < 2, "fewer than two answers: no interval", "")})
            for col, v in zip(_as_list(by), key if isinstance(key, tuple) else (key,)):
                f.insert(0, col, v)
            frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    return out


def _as_list(by) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def servqual_gaps(survey: pd.DataFrame, instrument, *, by: str | Sequence[str] | None = None,
                  weights: str | Mapping[str, float] | None = None, confidence: float = 0.95, adjust: str = "holm",
                  wilcoxon: bool = True, min_share: float = 0.5) -> pd.DataFrame:
    """SERVQUAL gaps (P − E) of every item, dimension and the overall score, per segment.

    Parameters
    ----------
    survey : DataFrame or Moments
        As loaded by :func:`sqmlib.io.load_survey`, or its moments (:func:`sqmlib.moments.survey_moments`,
        grouped by at least the ``by`` columns; no Wilcoxon test then: ``wilcoxon_p`` is missing, as
        :data:`MOMENTS_NOTE` says).
    instrument : str or Instrument
        Needs E and P blocks; an instrument without E gives the SERVPERF table (:func:`servperf_table`)
        with a warning saying so.
    by : str or list of str, optional
        Segment columns; one set of rows per segment.
    weights : {None, "stated"} or mapping
        Adds a weighted overall gap: ``"stated"`` uses each respondent's 100-point importance (mean weights
        for those who skipped it); a mapping gives fixed dimension weights.
    confidence : float
        Confidence level of the intervals.
    adjust : {"holm", "bh", "none"}
        Multiple-testing adjustment of the paired t p-values, over the items (and separately over the
        dimensions) of each segment.
    wilcoxon : bool
        Also the Wilcoxon signed-rank p-value.
    min_share : float
        Share of a dimension's items a respondent must answer (in each block) to get a dimension score.

    Returns
    -------
    DataFrame
        One row per (segment, level, name): ``level`` in item / dimension / overall; columns ``n``,
        ``mean_e``, ``mean_p``, ``gap``, ``ci_low``, ``ci_high``, ``t``, ``p_value``, ``p_adj``,
        ``wilcoxon_p``, ``dz``, ``share_exceed``, ``share_meet``, ``share_below`` and ``note`` (why a value
        is missing). Dimension and overall scores are respondent means of their items.
    """
    inst = load_instrument(instrument)
    if is_moments(survey):
        if not inst.has_expectations:
            raise SQMDataError("moments", [Problem("missing_block", "SERVPERF means from moments: use "
                                                                    "moments[columns].means")])
        return _gaps_from_moments(survey, inst, _as_list(by), weights, confidence, adjust, min_share)
    if not inst.has_expectations:
        warnings.warn(f"instrument {inst.name!r} has no expectation block: SERVPERF means are returned instead "
                      "of gaps", SQMWarning, stacklevel=2)
        return servperf_table(survey, inst, by=by, confidence=confidence, min_share=min_share)
    _check_blocks(survey, inst, ["E", "P"])
    by_cols = _as_list(by)
    missing = [c for c in by_cols if c not in survey.columns]
    if missing:
        raise SQMDataError("survey", [Problem("missing_column", f"segment columns not in the survey: {missing}")])
    if not by_cols:
        out = _one_segment(survey, inst, weights, confidence, adjust, wilcoxon, min_share)
    else:
        groups = ((key if isinstance(key, tuple) else (key,), len(seg), seg)
                  for key, seg in survey.groupby(by_cols, dropna=False, sort=True))
        out = _per_segment(groups, by_cols, lambda seg: _one_segment(seg, inst, weights, confidence, adjust, wilcoxon,
                                                                     min_share), stacklevel=2)
    return out


# ---------------------------------------------------------------------------------------------------------
# three-column format
# ---------------------------------------------------------------------------------------------------------
def zone_of_tolerance(survey: pd.DataFrame, instrument, *, confidence: float = 0.95) -> pd.DataFrame:
    """Three-column format (Parasuraman, Zeithaml & Berry 1994): per item the mean adequate (A), desired (D)
    and perceived (P) level, MSA = P − A and MSS = P − D with intervals, where the mean perception lies
    (below / within / above the zone of tolerance A–D), and how many respondents are below, within, above
    their own zone."""
    inst = load_instrument(instrument)
    _check_blocks(survey, inst, ["A", "D", "P"])
    items = list(inst.items)
    P = survey[inst.item_columns("P")].to_numpy(dtype=float)
    A = survey[inst.item_columns("A")].to_numpy(dtype=float)
    D = survey[inst.item_columns("D")].to_numpy(dtype=float)
    msa = paired_table(P, A, items, confidence=confidence, wilcoxon=False)
    mss = paired_table(P, D, items, confidence=confidence, wilcoxon=False)
    ok = ~np.isnan(P) & ~np.isnan(A) & ~np.isnan(D)
    lo, hi = np.minimum(A, D), np.maximum(A, D)
    below = (ok & (P < lo)).sum(axis=0)
    within = (ok & (P >= lo) & (P <= hi)).sum(axis=0)
    above = (ok & (P > hi)).sum(axis=0)
    mean_a, mean_d, mean_p = msa["mean_e"].to_numpy(), mss["mean_e"].to_numpy(), msa["mean_p"].to_numpy()
    position = np.where(mean_p < mean_a, "below", np.where(mean_p > mean_d, "above", "within"))
    return pd.DataFrame({
        "item": items, "dimension": [inst.dimension_of(i) for i in items],
        "mean_adequate": mean_a, "mean_desired": mean_d, "mean_p": mean_p,
        "msa": msa["gap"], "msa_ci_low": msa["ci_low"], "msa_ci_high": msa["ci_high"],
        "mss": mss["gap"], "mss_ci_low": mss["ci_low"], "mss_ci_high": mss["ci_high"],
        "zone_width": mean_d - mean_a, "position": position,
        "n_below": below, "n_within": within, "n_above": above, "n": ok.sum(axis=0),
    })


# ---------------------------------------------------------------------------------------------------------
# importance–performance analysis
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IPAResult:
    """Importance–performance analysis.

    Attributes
    ----------
    table : DataFrame
        Per attribute: ``importance``, ``performance``, ``quadrant`` under the chosen rule, and the quadrant
        under every other rule (``quadrant_<rule>``).
    rule : str
        Crosshair rule used: ``"mean"`` (means of the attributes), ``"median"`` or ``"midpoint"`` (scale
        midpoint of performance; mean importance, since importance has no natural midpoint).
    crosshair : dict
        The crosshair per rule: ``{rule: (importance, performance)}``.
    importance_kind : str
        How importance was obtained.
    changes : DataFrame
        Attributes whose quadrant differs under another rule.
    """

    table: pd.DataFrame
    rule: str
    crosshair: Mapping[str, tuple[float, float]]
    importance_kind: str
    changes: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        return self.table

    def concentrate_here(self) -> list[str]:
        t = self.table
        return t[t["quadrant"] == "concentrate here"].sort_values("importance", ascending=False).index.tolist()

    def _repr_html_(self) -> str:
        imp, perf = self.crosshair[self.rule]
        return (f"<p><b>IPA</b> ({self.importance_kind}; crosshair: {self.rule}, importance {imp:.3f}, "
                f"performance {perf:.3f})</p>" + self.table.to_html(float_format=lambda v: f"{v:.3f}"))


def ipa(survey: pd.DataFrame, instrument, *, level: str = "item", importance: str = "derived",
        outcome: str = "overall_sat", performance: str = "P", rule: str = "mean",
        shapley: pd.Series | None = None) -> IPAResult:
    """Importance–performance analysis.

    Parameters
    ----------
    level : {"item", "dimension"}
    importance : {"derived", "stated", "shapley"}
        ``"derived"``: correlation of each attribute's perception with ``outcome``; ``"stated"``: the
        respondents' importance (the ``I_<dimension>`` points at dimension level, or an ``IMP`` block of
        item importance ratings at item level); ``"shapley"``: the shares given in ``shapley`` (e.g. from a
        relative-importance analysis).
    performance : {"P", "gap"}
        Mean perception or mean gap P − E.
    rule : {"mean", "median", "midpoint"}
        Where the crosshair sits; the quadrants under the other rules are reported too.
    """
    inst = load_instrument(instrument)
    if rule not in CROSSHAIRS:
        raise SQMArgumentError(f"rule must be one of {CROSSHAIRS}")
    if level == "item":
        names = list(inst.items)
        Pm = survey[inst.item_columns("P")].set_axis(names, axis=1)
        Em = survey[inst.item_columns("E")].set_axis(names, axis=1) if performance == "gap" else None
    elif level == "dimension":
        names = list(inst.dimensions)
        Pm = dimension_scores(survey, inst, "P")
        Em = dimension_scores(survey, inst, "E") if performance == "gap" else None
    else:
        raise SQMArgumentError("level must be 'item' or 'dimension'")
    perf = (Pm - Em).mean() if performance == "gap" else Pm.mean()
    if importance == "derived":
        if outcome not in survey.columns:
            raise SQMDataError("survey", [Problem("missing_column", f"derived importance needs the outcome {outcome!r}")])
        imp = Pm.corrwith(survey[outcome])
        kind = f"derived: correlation with {outcome}"
    elif importance == "stated":
        if level == "dimension":
            imp = respondent_weights(survey, inst, "stated").mean() * 100
            kind = "stated: mean importance points"
        elif "IMP" in inst.blocks:
            imp = survey[inst.item_columns("IMP")].set_axis(names, axis=1).mean()
            kind = "stated: mean importance rating"
        else:
            raise SQMDataError("survey", [Problem("no_importance", "stated importance at item level needs an IMP "
                                                                   "block of item importance ratings; use "
                                                                   "level='dimension' for the 100-point weights")])
    elif importance == "shapley":
        if shapley is None:
            raise SQMArgumentError("importance='shapley' needs the shares in shapley=")
        imp = pd.Series(shapley).reindex(names)
        kind = "derived: Shapley share of R²"
    else:
        raise SQMArgumentError("importance must be 'derived', 'stated' or 'shapley'")
    if imp.isna().any():
        raise SQMDataError("survey", [Problem("no_importance", f"no importance for {imp.index[imp.isna()].tolist()}")])
    mid_perf = 0.0 if performance == "gap" else (inst.scale_min + inst.scale_max) / 2
    cross = {"mean": (float(imp.mean()), float(perf.mean())),
             "median": (float(imp.median()), float(perf.median())),
             "midpoint": (float(imp.mean()), float(mid_perf))}
    table = pd.DataFrame({"importance": imp, "performance": perf})
    if level == "item":
        table.insert(0, "dimension", [inst.dimension_of(i) for i in names])
        table["text"] = [inst.text(i) for i in names]
    for r, (ci, cp) in cross.items():
        table[f"quadrant_{r}"] = [QUADRANTS[(bool(i >= ci), bool(p >= cp))] for i, p in zip(imp, perf)]
    table["quadrant"] = table[f"quadrant_{rule}"]
    others = [r for r in CROSSHAIRS if r != rule]
    rows = [{"name": n, "rule": r, "quadrant": table.loc[n, "quadrant"], "quadrant_other": table.loc[n, f"quadrant_{r}"]}
            for n in names for r in others if table.loc[n, f"quadrant_{r}"] != table.loc[n, "quadrant"]]
    changes = pd.DataFrame(rows, columns=["name", "rule", "quadrant", "quadrant_other"])
    table.index.name = level
    return IPAResult(table, rule, cross, kind, changes)


# ---------------------------------------------------------------------------------------------------------
# segments and time
# ---------------------------------------------------------------------------------------------------------
def _respondent_gaps(survey: pd.DataFrame, inst: Instrument, level: str) -> pd.DataFrame:
    """Each respondent's gaps (P − E) per dimension and overall, or per item; for an instrument without
    expectations (SERVPERF) the perceptions themselves."""
    if not inst.has_expectations:
        if level == "dimension":
            g = dimension_scores(survey, inst, "P")
            g["overall"] = g.mean(axis=1, skipna=False)
            return g
        return pd.DataFrame(survey[inst.item_columns("P")].to_numpy(dtype=float), columns=list(inst.items),
                            index=survey.index)
    if level == "dimension":
        g = dimension_scores(survey, inst, "P") - dimension_scores(survey, inst, "E")
        g["overall"] = g.mean(axis=1, skipna=False)
        return g
    names = list(inst.items)
    return pd.DataFrame(survey[inst.item_columns("P")].to_numpy(dtype=float)
                        - survey[inst.item_columns("E")].to_numpy(dtype=float), columns=names, index=survey.index)


def welch_anova(groups: Sequence[np.ndarray]) -> tuple[float, float, float, float]:
    """Welch's heteroscedastic one-way ANOVA: (F, df1, df2, p)."""
    groups = [np.asarray(g, float) for g in groups]
    k = len(groups)
    n = np.array([len(g) for g in groups], float)
    m = np.array([g.mean() for g in groups])
    v = np.array([g.var(ddof=1) for g in groups])
    w = n / v
    mw = (w * m).sum() / w.sum()
    a = (w * (m - mw) ** 2).sum() / (k - 1)
    lam = ((1 - w / w.sum()) ** 2 / (n - 1)).sum()
    b = 1 + 2 * (k - 2) / (k ** 2 - 1) * lam
    F = a / b
    df2 = (k ** 2 - 1) / (3 * lam)
    return float(F), float(k - 1), float(df2), float(stats.f.sf(F, k - 1, df2))


class SegmentDifferences(NamedTuple):
    """Tests across segments: ``omnibus`` (one row per dimension) and ``pairwise`` (adjusted pairwise tests)."""

    omnibus: pd.DataFrame
    pairwise: pd.DataFrame


def segment_differences(survey: pd.DataFrame, instrument, by: str, *, level: str = "dimension",
                        adjust: str = "holm") -> SegmentDifferences:
    """Do gaps differ between segments?

    Returns
    -------
    (omnibus, pairwise)
        ``omnibus``: per dimension (and overall) the mean gap per segment, Welch's ANOVA (F, df, p) and the
        Kruskal–Wallis test (H, p). ``pairwise``: Welch t-tests between every pair of segments with
        Holm- (or BH-) adjusted p-values within each dimension. Segments with fewer than two respondents are
        left out of the tests, with a warning.
    """
    inst = load_instrument(instrument)
    _check_blocks(survey, inst, ["E", "P"] if inst.has_expectations else ["P"])
    if by not in survey.columns:
        raise SQMDataError("survey", [Problem("missing_column", f"no segment column {by!r}")])
    g = _respondent_gaps(survey, inst, level)
    seg = survey[by]
    small = [str(s) for s, n in seg.value_counts().items() if n < 2]
    if small:
        warnings.warn(f"segments of {by} with fewer than two respondents are left out of the tests: "
                      f"{', '.join(small)}", SQMWarning, stacklevel=2)
    omni, pairs = [], []
    for col in g.columns:
        data = {s: g.loc[seg == s, col].dropna().to_numpy() for s in sorted(seg.dropna().unique(), key=str)}
        data = {s: v for s, v in data.items() if len(v) >= 2}
        row = {"name": col, **{f"gap_{s}": v.mean() for s, v in data.items()}}
        if len(data) >= 2:
            F, d1, d2, p = welch_anova(list(data.values()))
            H, pk = stats.kruskal(*data.values())
            row.update(welch_F=F, df1=d1, df2=d2, welch_p=p, kruskal_H=float(H), kruskal_p=float(pk))
        omni.append(row)
        keys = list(data)
        rows = []
        for i in range(len(keys)):
            for j in range(i + 1, len(keys)):
                a, b = data[keys[i]], data[keys[j]]
                t, p = stats.ttest_ind(a, b, equal_var=False)
                rows.append({"name": col, "segment_a": keys[i], "segment_b": keys[j], "diff": a.mean() - b.mean(),
                             "t": float(t), "p_value": float(p)})
        if rows:
            f = pd.DataFrame(rows)
            f["p_adj"] = adjust_p(f["p_value"], adjust)
            pairs.append(f)
    pair_cols = ["name", "segment_a", "segment_b", "diff", "t", "p_value", "p_adj"]
    return SegmentDifferences(pd.DataFrame(omni),
                              pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame(columns=pair_cols))


def gap_trend(survey: pd.DataFrame, instrument, *, level: str = "dimension", confidence: float = 0.95) -> pd.DataFrame:
    """Mean gap per quarter with its interval, and the change from the previous quarter with a Welch interval
    and test (different respondents each quarter). For an instrument without expectations (SERVPERF) the
    column ``gap`` holds the mean perception."""
    inst = load_instrument(instrument)
    _check_blocks(survey, inst, ["E", "P"] if inst.has_expectations else ["P"])
    if "quarter" not in survey.columns:
        raise SQMDataError("survey", [Problem("missing_column", "a trend needs the quarter column")])
    g = _respondent_gaps(survey, inst, level)
    quarters = sorted(survey["quarter"].dropna().unique())
    rows = []
    for col in g.columns:
        prev = None
        for q in quarters:
            x = g.loc[survey["quarter"] == q, col].dropna().to_numpy()
            n = len(x)
            m = x.mean() if n else np.nan
            se = x.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
            half = stats.t.ppf(0.5 + confidence / 2, n - 1) * se if n > 1 else np.nan
            row = {"name": col, "quarter": q, "n": n, "gap": m, "ci_low": m - half, "ci_high": m + half,
                   "change": np.nan, "change_ci_low": np.nan, "change_ci_high": np.nan, "change_p": np.nan}
            if prev is not None and n > 1 and len(prev) > 1:
                d, lo, hi, p = welch_difference(x, prev, confidence)
                row.update(change=d, change_ci_low=lo, change_ci_high=hi, change_p=p)
            rows.append(row)
            prev = x
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------
# the gaps model beyond gap 5
# ---------------------------------------------------------------------------------------------------------
def welch_difference(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Mean of ``a`` minus mean of ``b`` with Welch's ``confidence`` interval and two-sided p-value:
    (difference, ci_low, ci_high, p)."""
    d = a.mean() - b.mean()
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    h = stats.t.ppf(0.5 + confidence / 2, df) * se
    return float(d), float(d - h), float(d + h), float(2 * stats.t.sf(abs(d / se), df))


def gap1(management: pd.DataFrame, survey: pd.DataFrame, instrument, *, confidence: float = 0.95) -> pd.DataFrame:
    """Gap 1: what managers think customers expect minus what customers expect, per item (Welch interval).
    Negative values mean management underestimates expectations."""
    inst = load_instrument(instrument)
    rows = []
    for i in inst.items:
        col = inst.item_column("E", i)
        m = management[col].dropna().to_numpy(dtype=float)
        c = survey[col].dropna().to_numpy(dtype=float)
        d, lo, hi, p = welch_difference(m, c, confidence)
        rows.append({"item": i, "dimension": inst.dimension_of(i), "managers": len(m), "customers": len(c),
                     "manager_estimate": m.mean(), "customer_expectation": c.mean(), "gap1": d,
                     "ci_low": lo, "ci_high": hi, "p_value": p})
    return pd.DataFrame(rows)


def gaps_model_summary(gap_table: pd.DataFrame, gap1_table: pd.DataFrame | None = None,
                       attainment: pd.DataFrame | None = None) -> pd.DataFrame:
    """One table of the five gaps: what each measures, the figure the data give, or why it is not measured."""
    overall = gap_table[(gap_table["level"] == "overall") & (gap_table["name"] == "unweighted")]
    g5 = float(overall["gap"].iloc[0]) if len(overall) else np.nan
    rows = [
        {"gap": 1, "between": "management's idea of customers' expectations and those expectations",
         "measure": "mean over items of manager estimate − customer expectation",
         "value": float(gap1_table["gap1"].mean()) if gap1_table is not None else np.nan,
         "status": "measured" if gap1_table is not None else "not measured: no management survey"},
        {"gap": 2, "between": "service standards and management's idea of expectations",
         "measure": "—", "value": np.nan,
         "status": "not measured: needs a review of the written standards against the management survey"},
        {"gap": 3, "between": "service delivered and the service standards",
         "measure": "mean share of cases meeting the ticket-level standards",
         "value": float(attainment["share_meeting"].mean()) if attainment is not None and len(attainment) else np.nan,
         "status": "measured" if attainment is not None and len(attainment) else "not measured: no interactions or standards"},
        {"gap": 4, "between": "service delivered and what was promised to customers",
         "measure": "—", "value": np.nan,
         "status": "not measured: needs the promises made (advertising, contracts) to compare with delivery"},
        {"gap": 5, "between": "customers' perceptions and expectations (SERVQUAL)",
         "measure": "overall P − E", "value": g5, "status": "measured"},
    ]
    return pd.DataFrame(rows)


def largest_gaps(gap_table: pd.DataFrame, k: int = 3, level: str = "item", lang: str = "en",
                 instrument=None) -> list[str]:
    """Plain-language lines for the ``k`` largest shortfalls that are significant after adjustment."""
    t = gap_table[(gap_table["level"] == level) & (gap_table["gap"] < 0)]
    t = t[t["p_adj"] < 0.05].sort_values("gap").head(k)
    inst = load_instrument(instrument) if instrument is not None else None
    out = []
    for r in t.itertuples():
        label = f"{r.name} ({inst.text(r.name, lang)})" if inst is not None and level == "item" else str(r.name)
        out.append(f"{label}: perceptions fall {abs(r.gap):.2f} points short of expectations "
                   f"[{r.ci_low:.2f}, {r.ci_high:.2f}]; {r.share_below:.0%} of customers rate it below what they expect.")
    return out


# ---------------------------------------------------------------------------------------------------------
# the pipeline of the gap notebook
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GapMetrics:
    """Key figures of :func:`run_gaps` (``metrics.json`` of the gap notebook)."""

    respondents: int
    mode: str  # "servqual" or "servperf"
    dimension_gap: dict
    dimension_ci: dict
    overall_gap: float | None
    weighted_gap: float | None
    largest_item_gaps: list
    concentrate_here: list
    ipa_rule: str
    gap1_mean: float | None
    standards_share_meeting: float | None
    findings: list
    segment_invariance: str  # lowest level over the E and P blocks across the segments ("" = not tested)
    quarter_invariance: str  # the same across the quarters of the trend


@dataclass(frozen=True)
class GapResult(Result):
    """What :func:`run_gaps` found: gaps per item, dimension and overall, zone of tolerance, IPA, the gaps
    model, segment comparisons and the trend."""

    title = "Gap analysis"
    notebook = "02_gap_analysis"

    quarter: str
    instrument: Instrument
    engine: str
    respondents: int
    servperf: bool
    table: pd.DataFrame
    notes: tuple
    zone: pd.DataFrame | None
    ipa_result: IPAResult
    ipa_level: str
    gap1_table: pd.DataFrame | None
    attainment: pd.DataFrame | None
    segment: str
    segment_table: pd.DataFrame | None
    segment_tests: SegmentDifferences | None
    trend: pd.DataFrame | None
    segment_invariance: SurveyInvariance | None = None
    quarter_invariance: SurveyInvariance | None = None
    ipa_note: str = ""  # how importance was found when the survey lacks overall satisfaction

    def _dims(self) -> pd.DataFrame:
        return self.table[self.table["level"] == "dimension"].set_index("name")

    def largest(self) -> list[str]:
        """Plain-language lines for the three largest significant item shortfalls (SERVPERF: the three
        lowest-rated items)."""
        if self.servperf:
            inst = self.instrument
            lo, hi = inst.block_scale("P")
            items = self.table[self.table["level"] == "item"].sort_values("mean_p").head(3)
            return [f"{r.name} ({inst.text(r.name)}): mean perception {r.mean_p:.2f} on {lo:g}–{hi:g} "
                    f"[{r.ci_low:.2f}, {r.ci_high:.2f}]." for r in items.itertuples()]
        return largest_gaps(self.table, 3, "item", instrument=self.instrument)

    def fix_first(self) -> list[str]:
        """The 'what to fix first' text, line by line."""
        inst, crosshair = self.instrument, self.ipa_result.rule
        conc = self.ipa_result.concentrate_here()
        lines = self.largest()
        out = ["**Lowest-rated items**" if self.servperf else "**Largest significant gaps**"] + [
            f"- {line}" for line in lines or ["none significant"]]
        out += ["", f"**Concentrate here** (high importance, low performance; crosshair: {crosshair}): "
                + (", ".join(f"{c} ({inst.text(c)})" if self.ipa_level == "item" else c for c in conc) or "none")]
        what = "mean perception" if self.servperf else "gap"
        if self.segment_table is not None:
            col = "mean_p" if self.servperf else "gap"
            worst = self.segment_table[self.segment_table["level"] == "dimension"].sort_values(col).iloc[0]
            out.append(f"\nThe {'lowest dimension perception' if self.servperf else 'largest dimension shortfall'} "
                       f"among {self.segment} segments: {worst['name']} in {worst[self.segment]} "
                       f"({worst[col]:.2f}).")
        if self.trend is not None:
            ch = self.trend[(self.trend["quarter"] == self.quarter) & (self.trend["change_p"] < 0.05)]
            for r in ch.itertuples():
                out.append(f"\n{r.name}: the {what} changed by {r.change:+.2f} since last quarter "
                           f"[{r.change_ci_low:+.2f}, {r.change_ci_high:+.2f}].")
        return out

    def findings(self) -> list[str]:
        out = self.largest()
        for inv in (self.segment_invariance, self.quarter_invariance):
            if inv is not None and not inv.means_comparable:
                out.append(inv.statement().replace("**", ""))
        return out

    def metrics(self) -> GapMetrics:
        dims, t = self._dims(), self.table
        items = t[t["level"] == "item"]
        ov = t[(t["level"] == "overall") & (t["name"] == "unweighted")]
        sp = self.servperf
        return GapMetrics(
            respondents=self.respondents, mode="servperf" if sp else "servqual",
            dimension_gap={} if sp else dims["gap"].to_dict(),
            dimension_ci={} if sp else {k: [r.ci_low, r.ci_high] for k, r in dims.iterrows()},
            overall_gap=None if sp else float(ov["gap"].iloc[0]),
            weighted_gap=None if sp or "weighted" not in set(t["name"]) else float(t.loc[t["name"] == "weighted",
                                                                                          "gap"].iloc[0]),
            largest_item_gaps=[] if sp else items.sort_values("gap").head(3)[["name", "gap", "ci_low",
                                                                              "ci_high"]].to_dict("records"),
            concentrate_here=self.ipa_result.concentrate_here(), ipa_rule=self.ipa_result.rule,
            gap1_mean=None if self.gap1_table is None else float(self.gap1_table["gap1"].mean()),
            standards_share_meeting=None if self.attainment is None else float(self.attainment["share_meeting"].mean()),
            findings=self.largest(),
            segment_invariance="" if self.segment_invariance is None else self.segment_invariance.level,
            quarter_invariance="" if self.quarter_invariance is None else self.quarter_invariance.level)

    def headline(self) -> list[dict]:
        if self.servperf:
            dims, t = self._dims(), self.table
            ov = t[(t["level"] == "overall") & (t["name"] == "unweighted")]
            low = dims["mean_p"].idxmin()
            return [headline("Overall perception", float(ov["mean_p"].iloc[0]), "{:.2f}"),
                    headline(f"Lowest dimension: {low}", float(dims.loc[low, "mean_p"]), "{:.2f}"),
                    headline("Items to concentrate on", len(self.ipa_result.concentrate_here()))]
        m, dims = self.metrics(), self._dims()
        worst = dims["gap"].idxmin()
        return [headline("Overall gap (P − E)", m.overall_gap, "{:+.2f}"),
                headline(f"Largest dimension gap: {worst}", float(dims.loc[worst, "gap"]), "{:+.2f}"),
                headline("Items to concentrate on", len(m.concentrate_here))]

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {"gaps": self.table, "ipa": self.ipa_result.table}
        for name, t in (("zone of tolerance", self.zone), ("gap 1", self.gap1_table), ("standards", self.attainment),
                        ("segments", self.segment_table), ("trend", self.trend),
                        ("segment invariance", None if self.segment_invariance is None else self.segment_invariance.table()),
                        ("quarter invariance", None if self.quarter_invariance is None else self.quarter_invariance.table())):
            if t is not None:
                out[name] = t
        return out

    def sections(self) -> dict[str, list[Block]]:
        inst, t = self.instrument, self.table
        fmt3 = lambda s: s.format(precision=3).hide(axis="index")  # noqa: E731
        k, nd = len(inst.items), len(inst.dimensions)
        lo, hi = inst.block_scale("P")
        scope = self.quarter or "every respondent: the survey has no dates"
        sample = [text(f"**{self.respondents:,} respondents** ({scope}); instrument {inst.title}: {k} items in "
                       f"{nd} dimension(s), answered on {lo:g}–{hi:g}"
                       + (" — perceptions only (SERVPERF): mean perceptions instead of gaps." if self.servperf
                          else f", {' and '.join(inst.blocks[b].label for b in inst.blocks)}."))]
        dims = []
        if self.notes:
            dims.append(text(f"Gaps computed by **{self.engine}** from moments; " + "; ".join(self.notes) + "."))
        if self.servperf:
            dims.append(table(t[t["level"] != "item"]))
        else:
            dims += [figure(lambda: plots.dimension_gaps(t), "dimension gaps"),
                     table(t[t["level"] != "item"].drop(columns=["dimension"]), fmt3)]
        items = t[t["level"] == "item"]
        item_blocks = [] if self.servperf else [figure(lambda: plots.item_gaps(t, labels={i: inst.text(i) for i in
                                                                                          inst.items}), "item gaps")]
        item_blocks.append(table(items.assign(text=[inst.text(i) for i in items["name"]])
                                 .sort_values("gap" if not self.servperf else "mean_p"), fmt3))
        if self.zone is not None:
            counts = self.zone["position"].value_counts()
            zone = [figure(lambda: plots.zone_chart(self.zone), "zone of tolerance"), table(self.zone, fmt3),
                    text(f"Mean perception lies below the zone for **{counts.get('below', 0)}** item(s), within it "
                         f"for {counts.get('within', 0)} and above it for {counts.get('above', 0)}.")]
        else:
            zone = [text("This survey has no adequate/desired (three-column) answers.")]
        res = self.ipa_result
        ipa_blocks = ([text(self.ipa_note)] if self.ipa_note else []) + [
                      figure(lambda: plots.ipa_plot(res), "importance-performance"),
                      table(res.table, lambda s: s.format(precision=3))]
        ipa_blocks += ([text("**Attributes that change quadrant under another crosshair rule**"), table(res.changes)]
                       if len(res.changes) else
                       [text("No attribute changes quadrant under the other crosshair rules.")])
        model = [] if self.servperf else [table(gaps_model_summary(t, self.gap1_table, self.attainment),
                                                lambda s: s.format(precision=3, na_rep="–").hide(axis="index"))]
        if self.gap1_table is not None:
            model += [text("**Gap 1: managers' estimate of expectations − customers' expectations** (negative: "
                           "management underestimates what customers expect)"),
                      table(self.gap1_table.sort_values("gap1"), fmt3)]
        if self.attainment is not None:
            model += [text("**Gap 3: share of cases meeting each service standard**"),
                      table(self.attainment.pivot_table(index=["kpi", "severity"], columns="unit",
                                                        values=["share_meeting", "value"]),
                            lambda s: s.format(precision=3, na_rep="–"))]
        if self.segment_table is not None:
            omnibus, pairwise = self.segment_tests
            sig = pairwise[pairwise["p_adj"] < 0.05]
            seg = [text(self.segment_invariance.statement()) if self.segment_invariance is not None else
                   text(f"Measurement invariance across {self.segment} could not be tested (too few respondents per "
                        "group or single-item dimensions): read the comparisons with care."),
                   figure(lambda: plots.segment_heatmap(
                       self.segment_table, self.segment,
                       f"Mean perception per dimension by {self.segment}" if self.servperf else None,
                       centre=None if not self.servperf else sum(inst.block_scale("P")) / 2,
                       value="mean_p" if self.servperf else "gap"), "segments"),
                   table(omnibus, fmt3),
                   text(f"**{len(sig)}** pairwise difference(s) significant after adjustment:"), table(sig, fmt3)]
        elif self.segment:
            seg = [text(f"No segment comparison: {self.segment} has a single value in these answers.")]
        else:
            seg = [text("No segment comparison: the instrument declares no segment column that the survey has.")]
        if self.trend is not None:
            trend = ([text(self.quarter_invariance.statement("gaps of different quarters"))]
                     if self.quarter_invariance is not None else []) + [
                     figure(lambda: plots.gap_trend_plot(
                         self.trend, *(("Mean perception per quarter, with 95 % intervals", "mean perception")
                                       if self.servperf else ())), "trend"),
                     table(self.trend[self.trend["quarter"] == self.quarter], fmt3)]
        elif not self.quarter:
            trend = [text("The survey has no dates: no trend.")]
        else:
            trend = [text("Only one quarter of data: no trend.")]
        return {"sample": sample, "dimensions": dims, "items": item_blocks, "zone": zone, "ipa": ipa_blocks,
                "gaps model": model, "segments": seg, "trend": trend, "fix first": [text("\n".join(self.fix_first()))]}


def run_gaps(folder: DataFolder, *, quarter: str = "", segment: str = "region", weighting: bool = True,
             crosshair: str = "mean", importance: str = "derived", drop_careless: bool = True,
             engine: str = "pandas") -> GapResult:
    """Where perceived service falls short of expectations: the pipeline of notebook ``02_gap_analysis``.

    Parameters
    ----------
    folder : DataFolder
        From :func:`sqmlib.io.load_folder`; needs the survey. The management table adds gap 1, the
        interactions and standards tables gap 3.
    quarter : str
        Quarter to analyse ("" = the latest; a survey without quarters is analysed whole).
    segment : str
        Segment column for the comparisons ("" = none).
    weighting : bool
        Add the importance-weighted overall gap when the survey holds importance points.
    crosshair : {"mean", "median", "midpoint"}
        The importance–performance crosshair rule.
    importance : {"derived", "stated"}
        IPA importance: correlation with overall satisfaction, or the respondents' own.
    drop_careless : bool
        Leave out straight-liners and too-fast respondents (judged over the whole file).
    engine : {"pandas", "duckdb", "spark"}
        Where the gap table is computed (moments; no Wilcoxon test then).

    Returns
    -------
    GapResult

    Examples
    --------
    >>> from sqmlib import gaps, io
    >>> g = gaps.run_gaps(io.load_folder(), segment="region")
    >>> g.metrics().dimension_gap
    """
    check_engine(engine)
    if crosshair not in CROSSHAIRS:
        raise SQMArgumentError(f"crosshair must be one of {', '.join(CROSSHAIRS)}, got {crosshair!r}")
    if importance not in ("derived", "stated"):
        raise SQMArgumentError(f"importance must be derived or stated, got {importance!r}")
    folder.require("survey", purpose="the gap analysis")
    inst = folder.instrument
    if drop_careless:
        folder = folder.without_careless()
    survey_all = folder.survey
    q = folder.quarter(quarter)
    survey = folder.survey_of(q)
    servperf = not inst.has_expectations
    weights = ("stated" if weighting and inst.importance_columns() and all(c in survey for c in
                                                                          inst.importance_columns()) else None)
    notes: tuple = ()
    if servperf:
        gap_table = servperf_table(survey, inst)
    elif engine == "pandas":
        gap_table = servqual_gaps(survey, inst, weights=weights)
    else:  # the same table from moments computed by the engine over the whole file (no Wilcoxon test)
        mom = survey_moments(folder.files["survey"], inst, by=["quarter"], engine=engine,
                             drop_careless=drop_careless)
        gap_table = servqual_gaps(mom.where(quarter=q) if q else mom, inst, weights=weights)
        notes = (MOMENTS_NOTE,)
    zone = None
    if all(b in inst.blocks for b in "AD") and all(c in survey for c in inst.item_columns("A")
                                                   + inst.item_columns("D")):
        zone = zone_of_tolerance(survey, inst)
    stated_ok = "IMP" in inst.blocks or (bool(inst.importance_columns())
                                         and all(c in survey for c in inst.importance_columns()))
    outcomes = [c for c in ("overall_sat", *inst.outcomes) if c in survey and survey[c].notna().any()]
    imp_kind, criterion, ipa_note = importance, "overall_sat", ""
    ipa_survey = survey
    if importance == "derived" and outcomes:
        criterion = outcomes[0]
        if criterion != "overall_sat":
            ipa_note = f"Importance is derived from each item's correlation with {criterion} (the survey has no " \
                       "overall satisfaction question)."
    elif importance == "derived" and stated_ok:
        imp_kind = "stated"
        ipa_note = "Importance is the respondents' stated importance (the survey has no outcome question)."
    elif not stated_ok:  # no outcome, no stated importance: the item-total correlation as implicit importance
        imp_kind, criterion = "derived", "overall perception"
        ipa_survey = survey.assign(**{criterion: survey[inst.item_columns("P")].mean(axis=1)})
        ipa_note = ("The survey has no outcome question and no stated importance: importance is each item's "
                    "correlation with the respondent's mean perception over all items (implicit importance; it "
                    "favours items that are typical of the whole).")
    level = "item" if imp_kind == "derived" or "IMP" in inst.blocks else "dimension"
    ipa_result = ipa(ipa_survey, inst, level=level, importance=imp_kind, outcome=criterion, rule=crosshair)
    g1 = gap1(folder.management, survey, inst) if folder.has("management") and inst.has_expectations else None
    att = None
    if folder.has("interactions", "standards"):
        start, end = quarter_bounds(q) if q else (None, None)
        att = standard_attainment(folder.interactions, folder.standards, by=segment or None, start=start, end=end)
    seg_table = seg_tests = seg_inv = q_inv = None
    segment = folder.segment_column(segment)
    if segment and survey[segment].nunique() > 1:
        seg_table = (servperf_table(survey, inst, by=segment) if servperf else
                     servqual_gaps(survey, inst, by=segment, wilcoxon=False))
        seg_tests = segment_differences(survey, inst, segment)
        seg_inv = survey_invariance(survey, inst, segment)
    trend = None
    if "quarter" in survey_all and survey_all["quarter"].nunique() > 1:
        trend = gap_trend(survey_all[survey_all["quarter"] <= q], inst)
        recent = sorted(survey_all.loc[survey_all["quarter"] <= q, "quarter"].unique())[-8:]
        q_inv = survey_invariance(survey_all[survey_all["quarter"].isin(recent)], inst, "quarter")
    return GapResult(ipa_note=ipa_note, quarter=q, instrument=inst, engine=engine, respondents=len(survey),
                     servperf=servperf,
                     table=gap_table, notes=notes, zone=zone, ipa_result=ipa_result, ipa_level=level, gap1_table=g1,
                     attainment=att, segment=segment, segment_table=seg_table, segment_tests=seg_tests, trend=trend,
                     segment_invariance=seg_inv, quarter_invariance=q_inv)
