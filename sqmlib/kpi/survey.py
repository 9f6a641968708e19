"""Survey KPIs with intervals: NPS, CSAT, CES."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import Problem, raise_problems
from ..instruments import load as load_instrument
from ..moments import is_moments, top_box_of
from ..periods import period_of


# ---------------------------------------------------------------------------------------------------------
# survey KPIs with intervals
# ---------------------------------------------------------------------------------------------------------
def nps_ci(scores, confidence: float = 0.95) -> dict:
    """NPS (0–10 answers: promoters 9–10, detractors 0–6) with its interval from the multinomial variance:
    Var(p̂_P − p̂_D) = (p_P + p_D − (p_P − p_D)²)/n. Returned on the −100…100 scale."""
    x = pd.Series(scores).dropna().to_numpy(dtype=float)
    n = len(x)
    if n == 0:
        return nps_from_shares(np.nan, np.nan, 0, confidence)
    return nps_from_shares(np.mean(x >= 9), np.mean(x <= 6), n, confidence)


def nps_from_shares(pp: float, pd_: float, n: int, confidence: float = 0.95) -> dict:
    """:func:`nps_ci` from the shares of promoters and detractors among ``n`` answers."""
    if n == 0:
        return {"n": 0, "nps": np.nan, "ci_low": np.nan, "ci_high": np.nan, "promoters": np.nan, "detractors": np.nan}
    v = pp - pd_
    se = np.sqrt(max(pp + pd_ - v ** 2, 0.0) / n)
    z = stats.norm.ppf(0.5 + confidence / 2)
    return {"n": n, "nps": 100 * v, "ci_low": 100 * (v - z * se), "ci_high": 100 * (v + z * se),
            "promoters": pp, "detractors": pd_}


def kish_n(weights) -> float:
    """Kish's effective sample size of weighted answers: (Σw)² / Σw² (n when every weight is equal)."""
    w = np.asarray(weights, dtype=float)
    w = w[np.isfinite(w)]
    return float(w.sum() ** 2 / (w * w).sum()) if len(w) and (w * w).sum() > 0 else 0.0


def weighted_nps(scores, weights, confidence: float = 0.95) -> dict:
    """NPS with sampling weights: the weighted shares of promoters and detractors, and the multinomial interval
    on Kish's effective n (``n``: the answers; ``n_eff``: Kish's n)."""
    x = pd.Series(scores, dtype=float).to_numpy()
    w = np.asarray(weights, dtype=float)
    ok = ~np.isnan(x) & np.isfinite(w) & (w > 0)  # a respondent without a (positive) weight counts 0
    x, w = x[ok], w[ok]
    if not len(x) or w.sum() <= 0:
        return {**nps_from_shares(np.nan, np.nan, 0, confidence), "n_eff": 0.0}
    n_eff = kish_n(w)
    out = nps_from_shares(w[x >= 9].sum() / w.sum(), w[x <= 6].sum() / w.sum(), n_eff, confidence)
    return {**out, "n": int(len(x)), "n_eff": n_eff}


def wilson(k, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score intervals of proportions k/n (arrays; NaN where n is 0)."""
    k, n = np.asarray(k, float), np.asarray(n, float)
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return np.where(n > 0, centre - half, np.nan), np.where(n > 0, centre + half, np.nan)


def wilson_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n."""
    low, high = wilson(k, n, confidence)
    return (float(low), float(high))


def survey_kpis(survey: pd.DataFrame, *, by: str | None = None, freq: str = "Q", top_box: float | None = None,
                confidence: float = 0.95, instrument=None) -> pd.DataFrame:
    """NPS, CSAT (share answering ``top_box`` or above on overall satisfaction) and CES per period and unit.

    ``freq`` is a pandas period code (``"Q"`` quarters, ``"M"`` months) applied to ``survey_date``.
    ``top_box`` defaults to the instrument's top boxes of ``overall_sat`` (the top two: 6 on 1–7, 4 on 1–5),
    or 6 without an instrument.
    """
    if top_box is None:
        top_box = top_box_of(load_instrument(instrument), "overall_sat") if instrument is not None else 6.0

    if is_moments(survey):
        return _survey_kpis_from_moments(survey, by, freq, top_box, confidence)
    weight = survey_weight(survey, instrument)
    if "survey_date" in survey.columns and freq:
        s = survey.assign(period=period_of(survey["survey_date"], freq))
    else:  # a survey without dates (a one-off study): one period, "all"
        s = survey.assign(period="all")
    keys = ["period"] + ([by] if by else [])
    rows = []
    for key, g in s.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, key))
        if weight is not None:
            row.update(_weighted_kpi_fields(g, g[weight], top_box, confidence))
            rows.append(row)
            continue
        sat = g["overall_sat"].dropna() if "overall_sat" in g else None
        row.update(_kpi_fields(nps_ci(g["nps"], confidence) if "nps" in g else None,
                               (int((sat >= top_box).sum()), len(sat)) if sat is not None else None,
                               (float(g["ces"].mean()), int(g["ces"].notna().sum())) if "ces" in g else None,
                               confidence))
        rows.append(row)
    return pd.DataFrame(rows)


def survey_weight(survey: pd.DataFrame, instrument=None) -> str | None:
    """The survey's sampling-weight column (the instrument's ``role: weight``) when the survey has it."""
    return load_instrument(instrument).weight_in(survey) if instrument is not None else None


def weighted_share(hit, weights, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """A share with sampling weights: (Σw·hit / Σw, Wilson interval on Kish's effective n, Kish's n); ``hit``
    is 1/0 and missing where not answered."""
    h = pd.Series(hit, dtype=float).to_numpy()
    w = np.asarray(weights, dtype=float)
    ok = ~np.isnan(h) & np.isfinite(w)
    h, w = h[ok], w[ok]
    if not len(h) or w.sum() <= 0:
        return (np.nan, np.nan, np.nan, 0.0)
    p, n_eff = float((w * h).sum() / w.sum()), kish_n(w)
    lo, hi = wilson_ci(p * n_eff, n_eff, confidence)
    return (p, lo, hi, n_eff)


def _weighted_kpi_fields(g: pd.DataFrame, w: pd.Series, top_box: float, confidence: float) -> dict:
    """One row of :func:`survey_kpis` with sampling weights: weighted NPS, CSAT and CES, intervals on Kish's
    effective n (``*_n``: the answers, ``*_n_eff``: Kish's n)."""
    row: dict = {}
    if "nps" in g:
        r = weighted_nps(g["nps"], w, confidence)
        row.update(nps=r["nps"], nps_ci_low=r["ci_low"], nps_ci_high=r["ci_high"], nps_n=r["n"],
                   promoters=r["promoters"], detractors=r["detractors"], nps_n_eff=r["n_eff"])
    if "overall_sat" in g:
        sat = g["overall_sat"]
        p, lo, hi, n_eff = weighted_share((sat >= top_box).astype(float).where(sat.notna()), w, confidence)
        row.update(csat=p, csat_ci_low=lo, csat_ci_high=hi, csat_n=int((sat.notna() & (w > 0)).sum()),
                   csat_n_eff=n_eff)
    if "ces" in g:
        ok = g["ces"].notna() & (w > 0)  # answers with a weight (a missing weight counts 0)
        row.update(ces=float(np.average(g["ces"][ok], weights=w[ok])) if ok.any() else np.nan,
                   ces_n=int(ok.sum()))
    return row


def _weighted_kpi_fields_from_moments(kset, cols: list, confidence: float) -> dict:
    """One row of :func:`survey_kpis` from weighted moments (the set ``kpi`` pooled over a group): the same
    numbers as :func:`_weighted_kpi_fields` computes from the rows."""
    w1 = dict(zip(cols, np.diag(kset.N.sum(0))))
    w2 = dict(zip(cols, np.diag(kset.N2.sum(0))))
    tot = dict(zip(cols, np.diag(kset.S.sum(0)) + np.diag(kset.N.sum(0)) * kset.shift))
    answers = dict(zip(cols, kset.counts.sum(0)))
    mean = {c: tot[c] / w1[c] if w1[c] > 0 else np.nan for c in cols}
    n_eff = {c: w1[c] ** 2 / w2[c] if w2[c] > 0 else 0.0 for c in cols}
    row: dict = {}
    if "nps_promoter" in cols:
        r = nps_from_shares(mean["nps_promoter"], mean["nps_detractor"], n_eff["nps_promoter"], confidence)
        row.update(nps=r["nps"], nps_ci_low=r["ci_low"], nps_ci_high=r["ci_high"],
                   nps_n=int(answers["nps_promoter"]), promoters=r["promoters"], detractors=r["detractors"],
                   nps_n_eff=n_eff["nps_promoter"])
    if "csat_top" in cols:
        lo, hi = wilson_ci(mean["csat_top"] * n_eff["csat_top"], n_eff["csat_top"], confidence)
        row.update(csat=mean["csat_top"], csat_ci_low=lo, csat_ci_high=hi, csat_n=int(answers["csat_top"]),
                   csat_n_eff=n_eff["csat_top"])
    if "ces" in cols:
        row.update(ces=mean["ces"], ces_n=int(answers["ces"]))
    return row


def _kpi_fields(nps: dict | None, csat: tuple[int, int] | None, ces: tuple[float, int] | None,
                confidence: float) -> dict:
    """One row of :func:`survey_kpis` from the NPS result, (top-box answers, answers) and (mean CES, answers);
    None leaves a KPI out."""
    row = {}
    if nps is not None:
        row.update(nps=nps["nps"], nps_ci_low=nps["ci_low"], nps_ci_high=nps["ci_high"], nps_n=nps["n"],
                   promoters=nps["promoters"], detractors=nps["detractors"])
    if csat is not None:
        k, n = csat
        lo, hi = wilson_ci(k, n, confidence)
        row.update(csat=k / n if n else np.nan, csat_ci_low=lo, csat_ci_high=hi, csat_n=n)
    if ces is not None:
        row.update(ces=ces[0], ces_n=ces[1])
    return row


def _survey_kpis_from_moments(m, by: str | None, freq: str, top_box: float, confidence: float) -> pd.DataFrame:
    """:func:`survey_kpis` from :func:`sqmlib.moments.survey_moments` grouped by quarter (or month)."""
    period = {"Q": "quarter", "M": "month"}.get(freq)
    problems = []
    if period is None or period not in m.by:
        problems.append(Problem("bad_argument", f"KPIs per {freq} from moments need moments grouped by "
                                                f"{period or 'quarter or month'} (they are by {m.by})"))
    if by and by not in m.by:
        problems.append(Problem("bad_argument", f"the moments are not grouped by {by!r}"))
    if "kpi" not in m.sets:
        problems.append(Problem("missing_column", "the moments hold no NPS, overall_sat or ces column"))
    elif "csat_top" in m.sets["kpi"].columns and m.spec.info.get("top_box") != top_box:
        problems.append(Problem("bad_argument", f"the moments count top box {m.spec.info.get('top_box')}, "
                                                f"not {top_box}"))
    raise_problems("moments", problems)
    cols = list(m.sets["kpi"].columns)
    rows = []
    for key, g in m.groupby([period] + ([by] if by else [])):
        if key[0] is None:
            continue  # no survey date: no period, as pandas' groupby drops it
        row = dict(zip(["period"] + ([by] if by else []), key))
        k = g.select(cols)
        if k.weighted:
            row.update(_weighted_kpi_fields_from_moments(g.sets["kpi"], cols, confidence))
            rows.append(row)
            continue
        cnt = dict(zip(cols, np.diag(k.N)))
        tot = dict(zip(cols, np.diag(k.S) + np.diag(k.N) * k.shift))
        n = {c: int(v) for c, v in cnt.items()}
        nps = None
        if "nps_promoter" in cols:
            k = n["nps_promoter"]
            nps = nps_from_shares(tot["nps_promoter"] / k if k else np.nan, tot["nps_detractor"] / k if k else np.nan,
                                  k, confidence)
        row.update(_kpi_fields(
            nps, (int(round(tot["csat_top"])), n["csat_top"]) if "csat_top" in cols else None,
            (tot["ces"] / n["ces"] if n["ces"] else np.nan, n["ces"]) if "ces" in cols else None, confidence))
        rows.append(row)
    out = pd.DataFrame(rows)
    return out
