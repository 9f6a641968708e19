"""Respondent scores and the SERVQUAL gap table (items, dimensions, overall; per segment; from moments)."""
from __future__ import annotations

from .paired import adjust_p, paired_from_sums, paired_table, weighted_columns, weighted_paired_table
import warnings
from typing import Mapping, Sequence
import numpy as np
import pandas as pd
from scipy import stats
from ..errors import Problem, SQMArgumentError, SQMDataError, SQMWarning
from ..instruments import Instrument
from ..instruments import load as load_instrument
from ..moments import Moments, is_moments
from ..psychometrics.structure import dimension_scores  # noqa: F401  (here where the gap analysis uses it)


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


def _one_segment(seg: pd.DataFrame, inst: Instrument, weights, confidence, adjust, wilcoxon, min_share,
                 sample_weight: str | None = None) -> pd.DataFrame:
    items = list(inst.items)
    P = seg[inst.item_columns("P")].to_numpy(dtype=float)
    E = seg[inst.item_columns("E")].to_numpy(dtype=float)
    if sample_weight is not None:  # sampling weights: weighted means and shares, tests on Kish's n
        sw = seg[sample_weight].to_numpy(dtype=float)

        def pair(P, E, names):
            return weighted_paired_table(P, E, names, sw, confidence=confidence)
    else:
        def pair(P, E, names):
            return paired_table(P, E, names, confidence=confidence, wilcoxon=wilcoxon)
    it = pair(P, E, items)
    _tag(it, "item", [inst.dimension_of(i) for i in items], adjust_p(it["p_value"], adjust))
    dp = dimension_scores(seg, inst, "P", min_share)
    de = dimension_scores(seg, inst, "E", min_share)
    dims = list(inst.dimensions)
    dt = pair(dp.to_numpy(), de.to_numpy(), dims)
    _tag(dt, "dimension", dims, adjust_p(dt["p_value"], adjust))
    # overall: the mean of the dimension scores (each dimension counts once, whatever its number of items)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        op = np.where(dp.notna().all(axis=1), dp.mean(axis=1), np.nan)
        oe = np.where(de.notna().all(axis=1), de.mean(axis=1), np.nan)
    parts = [it, dt]
    ot = pair(op[:, None], oe[:, None], ["unweighted"])
    _tag(ot, "overall", None, ot["p_value"])
    parts.append(ot)
    if weights is not None:
        w = respondent_weights(seg, inst, weights).to_numpy()
        wp, we = (dp.to_numpy() * w).sum(axis=1), (de.to_numpy() * w).sum(axis=1)
        wt = pair(wp[:, None], we[:, None], ["weighted"])
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
    wbar = np.diag(w.S) / w.N[0, 0]  # mean weights of those who answered (shift 0; weighted: Σw·points / Σw)
    own = m.pair("overall:weighted_own")
    nw = m.select(m.sets["weights_missing:dims"].columns, "listwise")
    k = len(wbar)
    if nw.n == 0:
        return own, True
    Sp, Se = np.diag(nw.S)[:k], np.diag(nw.S)[k:]
    cp, ce = nw.shift[:k], nw.shift[k:]
    Q = nw.Q
    Qg = Q[:k, :k] - Q[:k, k:] - Q[k:, :k] + Q[k:, k:]  # cross-products of (P − E) per dimension
    total = nw.N[0, 0]  # respondents (weighted: Σw) who got the mean weights
    sum_p = wbar @ (Sp + total * cp)
    sum_e = wbar @ (Se + total * ce)
    sum_d = wbar @ (Sp - Se) + total * (wbar @ (cp - ce))
    sum_dd = float(wbar @ Qg @ wbar)
    ww, rows = (nw.N2[0, 0], nw.rows) if nw.weighted else (total, total)
    extra = np.array([total, sum_p, sum_e, sum_d, sum_dd, np.nan, np.nan, np.nan, ww, rows])
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
                   min_share: float = 0.5, sample_weight: str | None = None) -> pd.DataFrame:
    """SERVPERF (perceptions only): mean perception per item, dimension and overall with its interval. With
    ``sample_weight`` (a column of sampling weights) the means are weighted and the intervals use the weighted
    sd on Kish's effective n (column ``n_eff``; as :func:`sqmlib.gaps.segments.weighted_moments`)."""
    inst = load_instrument(instrument)
    _check_blocks(survey, inst, ["P"])
    groups = [((), survey)] if not by else list(survey.groupby(list(_as_list(by)), dropna=False, sort=True))
    frames = []
    for key, seg in groups:
        dp = dimension_scores(seg, inst, "P", min_share)
        cols = {"item": (seg[inst.item_columns("P")].to_numpy(dtype=float), list(inst.items)),
                "dimension": (dp.to_numpy(), list(inst.dimensions)),
                "overall": (np.where(dp.notna().all(axis=1), dp.mean(axis=1), np.nan)[:, None], ["unweighted"])}
        w = None if sample_weight is None else seg[sample_weight].to_numpy(dtype=float, na_value=np.nan)
        for level, (x, names) in cols.items():
            n = (~np.isnan(x)).sum(axis=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                if w is None:
                    m = np.nanmean(x, axis=0)
                    sd = np.nanstd(x, axis=0, ddof=1)
                    n_eff = n
                else:
                    _, n_eff, m, sd, _ = weighted_columns(x, w)
                half = stats.t.ppf(0.5 + confidence / 2, n_eff - 1) * sd / np.sqrt(n_eff)
            f = pd.DataFrame({"level": level, "name": names, "n": n, **({} if w is None else {"n_eff": n_eff}),
                              "mean_p": m, "sd": sd, "ci_low": m - half, "ci_high": m + half,
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
                  wilcoxon: bool = True, min_share: float = 0.5, sample_weight: str | None = None) -> pd.DataFrame:
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
    sample_weight : str, optional
        A column of sampling weights (the instrument's ``role: weight``): weighted means, gaps and shares,
        tests on Kish's effective n (:func:`sqmlib.gaps.paired.weighted_paired_table`; column ``n_eff``, no
        Wilcoxon test).

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
        return servperf_table(survey, inst, by=by, confidence=confidence, min_share=min_share,
                              sample_weight=sample_weight)
    _check_blocks(survey, inst, ["E", "P"])
    by_cols = _as_list(by)
    missing = [c for c in by_cols if c not in survey.columns]
    if missing:
        raise SQMDataError("survey", [Problem("missing_column", f"segment columns not in the survey: {missing}")])
    if not by_cols:
        out = _one_segment(survey, inst, weights, confidence, adjust, wilcoxon, min_share, sample_weight)
    else:
        groups = ((key if isinstance(key, tuple) else (key,), len(seg), seg)
                  for key, seg in survey.groupby(by_cols, dropna=False, sort=True))
        out = _per_segment(groups, by_cols, lambda seg: _one_segment(seg, inst, weights, confidence, adjust, wilcoxon,
                                                                     min_share, sample_weight), stacklevel=2)
    return out
