"""Gaps across segments and quarters, and the gaps model beyond gap 5."""
from __future__ import annotations

from .paired import adjust_p, weighted_columns
from .tables import _check_blocks, dimension_scores
import warnings
from typing import Mapping, NamedTuple, Sequence
import numpy as np
import pandas as pd
from scipy import stats
from ..errors import Problem, SQMDataError, SQMWarning
from ..instruments import Instrument
from ..instruments import load as load_instrument
from ..render import labels
from ..render.messages import msg, term
from ..kpi.panel import wave_change


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


def weighted_moments(x: np.ndarray, w: np.ndarray | None = None) -> tuple[float, float, float]:
    """(mean, variance, n) of answers ``x``; with sampling weights ``w`` the weighted mean, the variance
    ``Σw(x − x̄)²/Σw · n_eff/(n_eff − 1)`` and Kish's effective n ``(Σw)²/Σw²`` (statsmodels' ``DescrStatsW``
    with the weights scaled to sum to n_eff gives the same mean, variance and n)."""
    if w is None:
        return float(x.mean()), float(x.var(ddof=1)) if len(x) > 1 else np.nan, float(len(x))
    _, n_eff, m, sd, _ = weighted_columns(np.asarray(x, dtype=float)[:, None], w)
    return float(m[0]), float(sd[0] ** 2) if n_eff[0] > 1 else np.nan, float(n_eff[0])


def welch_anova(groups: Sequence[np.ndarray], weights: Sequence[np.ndarray] | None = None
                ) -> tuple[float, float, float, float]:
    """Welch's heteroscedastic one-way ANOVA: (F, df1, df2, p). With sampling ``weights`` (one array per
    group) each group enters with its weighted mean and variance on Kish's effective n
    (:func:`weighted_moments`). Undefined (NaN) when a group's variance is zero or unknown, as R's
    ``oneway.test`` cannot weigh such a group either."""
    groups = [np.asarray(g, float) for g in groups]
    k = len(groups)
    mom = np.array([weighted_moments(g, None if weights is None else np.asarray(wg, float))
                    for g, wg in zip(groups, weights if weights is not None else [None] * k)])
    m, v, n = mom[:, 0], mom[:, 1], mom[:, 2]
    if not (np.all(np.isfinite(v)) and np.all(v > 0)):  # a group without spread has infinite weight: undefined
        return float("nan"), float(k - 1), float("nan"), float("nan")
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
                        adjust: str = "holm", sample_weight: str | None = None) -> SegmentDifferences:
    """Do gaps differ between segments?

    Returns
    -------
    (omnibus, pairwise)
        ``omnibus``: per dimension (and overall) the mean gap per segment, Welch's ANOVA (F, df, p) and the
        Kruskal–Wallis test (H, p). ``pairwise``: Welch t-tests between every pair of segments with
        Holm- (or BH-) adjusted p-values within each dimension. Segments with fewer than two respondents are
        left out of the tests, with a warning. With ``sample_weight`` (a column of sampling weights) the means
        are weighted and Welch's tests use each segment's weighted variance on Kish's effective n
        (:func:`weighted_moments`); the Kruskal–Wallis test has no weights and is left out (missing).
    """
    inst = load_instrument(instrument)
    _check_blocks(survey, inst, ["E", "P"] if inst.has_expectations else ["P"])
    if by not in survey.columns:
        raise SQMDataError("survey", [Problem("missing_column", f"no segment column {by!r}")])
    g = _respondent_gaps(survey, inst, level)
    seg = survey[by]
    wt = (None if sample_weight is None else
          pd.Series(survey[sample_weight].to_numpy(dtype=float, na_value=np.nan), index=survey.index))
    small = [str(s) for s, n in seg.value_counts().items() if n < 2]
    if small:
        warnings.warn(f"segments of {by} with fewer than two respondents are left out of the tests: "
                      f"{', '.join(small)}", SQMWarning, stacklevel=2)
    omni, pairs = [], []
    for col in g.columns:
        answered = g[col].notna() & (True if wt is None else wt.notna() & (wt > 0))
        data, wts = {}, {}
        for s in sorted(seg.dropna().unique(), key=str):
            mask = answered & (seg == s)
            if mask.sum() >= 2:
                data[s] = g.loc[mask, col].to_numpy()
                wts[s] = None if wt is None else wt[mask].to_numpy()
        mom = {s: weighted_moments(data[s], wts[s]) for s in data}
        row = {"name": col, **{f"gap_{s}": mom[s][0] for s in data}}
        if len(data) >= 2:
            F, d1, d2, p = welch_anova(list(data.values()), None if wt is None else list(wts.values()))
            row.update(welch_F=F, df1=d1, df2=d2, welch_p=p)
            if wt is None:
                H, pk = stats.kruskal(*data.values())
                row.update(kruskal_H=float(H), kruskal_p=float(pk))
            else:
                row.update(kruskal_H=np.nan, kruskal_p=np.nan)
        omni.append(row)
        keys = list(data)
        rows = []
        for i in range(len(keys)):
            for j in range(i + 1, len(keys)):
                d, _, _, t, p = _welch(mom[keys[i]], mom[keys[j]])
                rows.append({"name": col, "segment_a": keys[i], "segment_b": keys[j], "diff": d,
                             "t": t, "p_value": p})
        if rows:
            f = pd.DataFrame(rows)
            f["p_adj"] = adjust_p(f["p_value"], adjust)
            pairs.append(f)
    pair_cols = ["name", "segment_a", "segment_b", "diff", "t", "p_value", "p_adj"]
    return SegmentDifferences(pd.DataFrame(omni),
                              pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame(columns=pair_cols))


def gap_trend(survey: pd.DataFrame, instrument, *, level: str = "dimension", confidence: float = 0.95,
              sample_weight: str | None = None, panel: str | None = None) -> pd.DataFrame:
    """Mean gap per quarter with its interval, and the change from the previous quarter with a Welch interval
    and test (different respondents each quarter). For an instrument without expectations (SERVPERF) the
    column ``gap`` holds the mean perception. With ``sample_weight`` (a column of sampling weights) the means
    are weighted and the intervals and tests use Kish's effective n of each quarter (column ``n_eff``;
    :func:`weighted_moments`). With ``panel`` (the column of a person's panel id) and no sampling weights, the
    change pairs the people who answered both quarters (:func:`sqmlib.kpi.panel.wave_change`: the paired t when
    everyone answered both, else cluster-robust errors per person), and column ``change_test`` names the test."""
    inst = load_instrument(instrument)
    _check_blocks(survey, inst, ["E", "P"] if inst.has_expectations else ["P"])
    if "quarter" not in survey.columns:
        raise SQMDataError("survey", [Problem("missing_column", "a trend needs the quarter column")])
    g = _respondent_gaps(survey, inst, level)
    wt = (None if sample_weight is None else
          pd.Series(survey[sample_weight].to_numpy(dtype=float, na_value=np.nan), index=survey.index))
    quarters = sorted(survey["quarter"].dropna().unique())
    paired = panel is not None and wt is None and panel in survey.columns
    rows = []
    for col in g.columns:
        prev = prev_mask = None
        answered = g[col].notna() & (True if wt is None else wt.notna() & (wt > 0))
        for q in quarters:
            mask = answered & (survey["quarter"] == q)
            x = g.loc[mask, col].to_numpy()
            n = len(x)
            mom = weighted_moments(x, None if wt is None else wt[mask].to_numpy()) if n else (np.nan, np.nan, 0.0)
            m, v, n_eff = mom
            ok = n > 1 and n_eff > 1
            se = np.sqrt(v / n_eff) if ok else np.nan
            half = stats.t.ppf(0.5 + confidence / 2, n_eff - 1) * se if ok else np.nan
            row = {"name": col, "quarter": q, "n": n, **({} if wt is None else {"n_eff": n_eff}), "gap": m,
                   "ci_low": m - half, "ci_high": m + half,
                   "change": np.nan, "change_ci_low": np.nan, "change_ci_high": np.nan, "change_p": np.nan}
            if prev is not None and ok and prev[2] > 1:
                d, lo, hi, _, p = _welch(mom, prev, confidence)
                if paired:
                    wc = wave_change(g.loc[mask, col], g.loc[prev_mask, col], survey.loc[mask, panel],
                                     survey.loc[prev_mask, panel], confidence=confidence)
                    lo, hi, p = wc.ci_low, wc.ci_high, wc.p_value
                    row["change_test"] = wc.test
                row.update(change=d, change_ci_low=lo, change_ci_high=hi, change_p=p)
            rows.append(row)
            prev, prev_mask = (mom, mask) if n else (None, None)
    return pd.DataFrame(rows)


def _welch(a: tuple, b: tuple, confidence: float = 0.95) -> tuple[float, float, float, float, float]:
    """(difference, ci_low, ci_high, t, two-sided p) of Welch's comparison from (mean, variance, n) of two
    groups, as scipy's ``ttest_ind(equal_var=False)`` computes it from the rows."""
    (ma, va, na), (mb, vb, nb) = a, b
    sa, sb = va / na, vb / nb
    with np.errstate(invalid="ignore", divide="ignore"):
        d, se = ma - mb, np.sqrt(sa + sb)
        df = (sa + sb) ** 2 / (sa ** 2 / (na - 1) + sb ** 2 / (nb - 1))
        t = d / se
        h = stats.t.ppf(0.5 + confidence / 2, df) * se
    p = float(2 * stats.t.sf(abs(t), df)) if np.isfinite(t) else np.nan
    return float(d), float(d - h), float(d + h), float(t), p


def welch_difference(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Mean of ``a`` minus mean of ``b`` with Welch's ``confidence`` interval and two-sided p-value:
    (difference, ci_low, ci_high, p)."""
    d, lo, hi, _, p = _welch(weighted_moments(a), weighted_moments(b), confidence)
    return d, lo, hi, p


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
                       attainment: pd.DataFrame | None = None, audit: Mapping | None = None) -> pd.DataFrame:
    """One table of the five gaps: what each measures, the figure the data give, or why it is not measured.
    ``audit`` (:func:`sqmlib.mystery.gap_evidence`) adds what the mystery-shopping visits show: the share of the
    checklist met (gap 3), the stores not executing the standards whose customers are content anyway (gap 3) and
    the stores executing them whose customers still perceive less than the chain (gap 5)."""
    overall = gap_table[(gap_table["level"] == "overall") & (gap_table["name"] == "unweighted")]
    g5 = float(overall["gap"].iloc[0]) if len(overall) else np.nan
    rows = [
        {"gap_number": 1, "between": "management's idea of customers' expectations and those expectations",
         "measure": "mean over items of manager estimate − customer expectation",
         "value": float(gap1_table["gap1"].mean()) if gap1_table is not None else np.nan,
         "status": "measured" if gap1_table is not None else "not measured: no management survey"},
        {"gap_number": 2, "between": "service standards and management's idea of expectations",
         "measure": "—", "value": np.nan,
         "status": "not measured: needs a review of the written standards against the management survey"},
        {"gap_number": 3, "between": "service delivered and the service standards",
         "measure": "mean share of cases meeting the ticket-level standards",
         "value": float(attainment["share_meeting"].mean()) if attainment is not None and len(attainment) else np.nan,
         "status": "measured" if attainment is not None and len(attainment) else "not measured: no interactions or standards"},
        {"gap_number": 4, "between": "service delivered and what was promised to customers",
         "measure": "—", "value": np.nan,
         "status": "not measured: needs the promises made (advertising, contracts) to compare with delivery"},
        {"gap_number": 5, "between": "customers' perceptions and expectations (SERVQUAL)",
         "measure": "overall P − E", "value": g5, "status": "measured"},
    ]
    if audit:
        stores = lambda key: ", ".join(audit.get(key) or ()) or "none"  # noqa: E731
        rows[3:3] = [
            {"gap_number": 3, "between": "service delivered and the service standards",
             "measure": "audit visits (mystery shopping): share of the checklist's yes/no items met",
             "value": audit["compliance"], "status": "measured"},
            {"gap_number": 3, "between": "service delivered and the service standards",
             "measure": "stores not executing the standards whose customers perceive more than the chain",
             "value": float(len(audit.get("unexecuted_content") or ())), "status": stores("unexecuted_content")}]
        rows.append({"gap_number": 5, "between": "customers' perceptions and expectations (SERVQUAL)",
                     "measure": "stores executing the standards whose customers perceive less than the chain",
                     "value": float(len(audit.get("executed_unhappy") or ())), "status": stores("executed_unhappy")})
    return pd.DataFrame(rows)


def largest_gaps(gap_table: pd.DataFrame, k: int = 3, level: str = "item", instrument=None) -> list[str]:
    """Plain-language lines for the ``k`` largest shortfalls that are significant after adjustment, in the
    reader's language (:func:`sqmlib.labels.use`)."""
    t = gap_table[(gap_table["level"] == level) & (gap_table["gap"] < 0)]
    t = t[t["p_adj"] < 0.05].sort_values("gap").head(k)
    inst = load_instrument(instrument) if instrument is not None else None
    out = []
    for r in t.itertuples():
        label = item_label(inst, r.name) if inst is not None and level == "item" else term(r.name)
        out.append(msg("gaps.shortfall", "{item}: perceptions fall {gap:.2f} points short of expectations [{low:.2f}, "
                       "{high:.2f}]; {share:.0%} of customers rate it below what they expect.", item=label,
                       gap=abs(r.gap), low=r.ci_low, high=r.ci_high, share=r.share_below))
    return out


def item_label(inst, item) -> str:
    """An item named for a reader: its number and its wording in the reader's language."""
    return msg("gaps.item", "{item} ({wording})", item=item, wording=labels.item_wording(inst.text(item, "en")))
