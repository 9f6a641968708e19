"""Operational KPIs, their monitoring and the three-level maturity rubric.

- :func:`survey_kpis`: NPS (with a multinomial interval), CSAT top-2-box (Wilson interval) and CES per period
  and unit; :func:`ticket_kpis`: first-contact resolution, response and handling times, repeat-complaint rate,
  complaints per 1,000 customers; standard attainment comes from :func:`sqmlib.gaps.standard_attainment`.
- :func:`p_chart`, :func:`imr_chart` and :func:`western_electric`: control charts and their rules.
- :func:`nps_alerts`: the alert rule quality teams use — a unit's NPS more than 30 % below its benchmark for
  3 consecutive periods (all three numbers configurable).
- :func:`pareto` and :class:`CategoryClassifier`: complaint causes, and missing categories filled from text.
- :func:`maturity`: a transparent rubric placing each unit at level 1, 2 or 3 with the evidence.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from . import plots
from . import tickets as tickets_mod
from .engines import check_engine
from .errors import Problem, SQMArgumentError, SQMDataError, raise_problems
from .periods import period_of, previous_quarter, quarter_bounds
from .instruments import load as load_instrument
from .moments import is_moments, survey_moments, top_box_of
from .results import Block, Result, figure, headline, table, text
from .tickets import active_customers, repeat_flags, standard_attainment, ticket_kpis  # noqa: F401  (re-exported)


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


def wilson_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n."""
    if n == 0:
        return (np.nan, np.nan)
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (float(centre - half), float(centre + half))


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
    if "survey_date" in survey.columns and freq:
        s = survey.assign(period=period_of(survey["survey_date"], freq))
    else:  # a survey without dates (a one-off study): one period, "all"
        s = survey.assign(period="all")
    keys = ["period"] + ([by] if by else [])
    rows = []
    for key, g in s.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, key))
        sat = g["overall_sat"].dropna() if "overall_sat" in g else None
        row.update(_kpi_fields(nps_ci(g["nps"], confidence) if "nps" in g else None,
                               (int((sat >= top_box).sum()), len(sat)) if sat is not None else None,
                               (float(g["ces"].mean()), int(g["ces"].notna().sum())) if "ces" in g else None,
                               confidence))
        rows.append(row)
    return pd.DataFrame(rows)


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


# ---------------------------------------------------------------------------------------------------------
# ticket KPIs
# ---------------------------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------------------------
# control charts and the Western Electric rules
# ---------------------------------------------------------------------------------------------------------
def western_electric(z: Sequence[float]) -> pd.DataFrame:
    """The four Western Electric rules on standardised values z = (x − centre)/σ of each point.

    Rule 1: a point beyond 3σ. Rule 2: 2 of 3 consecutive points beyond 2σ on the same side. Rule 3: 4 of 5
    consecutive points beyond 1σ on the same side. Rule 4: 8 consecutive points on the same side of the
    centre. A point is flagged for a rule when it completes a window that breaks it.
    """
    z = np.asarray(z, dtype=float)
    n = len(z)
    out = np.zeros((n, 4), dtype=bool)
    out[:, 0] = np.abs(z) > 3
    for i in range(n):
        for side in (1, -1):
            w3 = z[max(0, i - 2):i + 1] * side
            if len(w3) == 3 and (w3 > 2).sum() >= 2 and w3[-1] > 2:
                out[i, 1] = True
            w5 = z[max(0, i - 4):i + 1] * side
            if len(w5) == 5 and (w5 > 1).sum() >= 4 and w5[-1] > 1:
                out[i, 2] = True
            w8 = z[max(0, i - 7):i + 1] * side
            if len(w8) == 8 and (w8 > 0).all():
                out[i, 3] = True
    return pd.DataFrame(out, columns=["rule1", "rule2", "rule3", "rule4"])


def p_chart(counts: Sequence[int], sizes: Sequence[int], labels: Sequence | None = None) -> pd.DataFrame:
    """p-chart of a proportion: centre p̄ = Σk/Σn, limits p̄ ± 3·sqrt(p̄(1 − p̄)/n_i), and the rules."""
    k, n = np.asarray(counts, float), np.asarray(sizes, float)
    p = k / n
    pbar = k.sum() / n.sum()
    sigma = np.sqrt(pbar * (1 - pbar) / n)
    out = pd.DataFrame({"label": labels if labels is not None else np.arange(len(p)), "value": p, "n": n,
                        "centre": pbar, "lcl": np.clip(pbar - 3 * sigma, 0, 1), "ucl": np.clip(pbar + 3 * sigma, 0, 1),
                        "z": (p - pbar) / sigma})
    return pd.concat([out, western_electric(out["z"])], axis=1)


def imr_chart(values: Sequence[float], labels: Sequence | None = None) -> pd.DataFrame:
    """Individuals chart: centre x̄, σ estimated as mean moving range / 1.128 (limits x̄ ± 2.66·MR̄), and
    the rules; ``mr`` is each point's moving range (MR̄ upper limit 3.267·MR̄)."""
    x = np.asarray(values, float)
    mr = np.abs(np.diff(x))
    mrbar = mr.mean()
    sigma = mrbar / 1.128
    centre = x.mean()
    out = pd.DataFrame({"label": labels if labels is not None else np.arange(len(x)), "value": x, "centre": centre,
                        "lcl": centre - 3 * sigma, "ucl": centre + 3 * sigma, "z": (x - centre) / sigma,
                        "mr": np.r_[np.nan, mr], "mr_ucl": 3.267 * mrbar})
    return pd.concat([out, western_electric(out["z"])], axis=1)


# ---------------------------------------------------------------------------------------------------------
# the NPS alert rule
# ---------------------------------------------------------------------------------------------------------
class NPSAlerts(NamedTuple):
    """The NPS monitor (``table``: one row per unit and period) and the ``alerts`` it raised."""

    table: pd.DataFrame
    alerts: pd.DataFrame


def nps_alerts(survey: pd.DataFrame, unit: str = "region", *, freq: str = "M", drop: float = 0.30,
               periods: int = 3, baseline: int = 6, min_history: int = 3, min_n: int = 30,
               benchmark: str = "own") -> NPSAlerts:
    """A unit's NPS more than ``drop`` (30 %) below its benchmark for ``periods`` (3) consecutive periods.

    Benchmark ``"own"``: the unit's pooled NPS over the ``baseline`` periods before each period (at least
    ``min_history`` of them); ``"company"``: the NPS of all units together in the same period. A period
    counts as low when NPS < benchmark − drop·|benchmark|; periods with fewer than ``min_n`` answers are not
    judged (and break a run).

    Returns (per unit and period: NPS, benchmark, low flag; alerts: unit, KPI, first and last period, number
    of periods, mean NPS and benchmark over the run and the size of the drop).
    """
    cols = ["unit", "unit_type", "kpi", "first_period", "last_period", "periods", "nps", "benchmark", "size"]
    if "nps" not in survey.columns or "survey_date" not in survey.columns or unit not in survey.columns:
        return NPSAlerts(pd.DataFrame(columns=[unit, "period", "n", "nps", "benchmark", "judged", "low"]),
                         pd.DataFrame(columns=cols))
    s = survey.assign(period=period_of(survey["survey_date"], freq))
    s = s[s["nps"].notna()]
    all_periods = sorted(s["period"].unique())
    company = {p: nps_ci(g["nps"])["nps"] for p, g in s.groupby("period")}
    rows = []
    for u, g in s.groupby(unit, sort=True):
        by_p = {p: gg["nps"].to_numpy() for p, gg in g.groupby("period")}
        for i, p in enumerate(all_periods):
            x = by_p.get(p, np.array([]))
            value = nps_ci(x)["nps"] if len(x) else np.nan
            if benchmark == "own":
                hist = [by_p[q] for q in all_periods[max(0, i - baseline):i] if q in by_p]
                bench = nps_ci(np.concatenate(hist))["nps"] if len(hist) >= min_history else np.nan
            elif benchmark == "company":
                bench = company.get(p, np.nan)
            else:
                raise SQMArgumentError("benchmark must be 'own' or 'company'")
            judged = len(x) >= min_n and np.isfinite(bench) and np.isfinite(value)
            low = bool(judged and value < bench - drop * abs(bench))
            rows.append({unit: u, "period": p, "n": len(x), "nps": value, "benchmark": bench, "judged": judged,
                         "low": low})
    table = pd.DataFrame(rows)
    alerts = []
    for u, g in table.groupby(unit, sort=True):
        run = []
        for r in list(g.itertuples()) + [None]:
            if r is not None and r.low:
                run.append(r)
                continue
            if len(run) >= periods:
                alerts.append({"unit": u, "unit_type": unit, "kpi": "NPS", "first_period": run[0].period,
                               "last_period": run[-1].period, "periods": len(run),
                               "nps": float(np.mean([x.nps for x in run])),
                               "benchmark": float(np.mean([x.benchmark for x in run])),
                               "size": float(np.mean([x.nps - x.benchmark for x in run]))})
            run = []
    cols = ["unit", "unit_type", "kpi", "first_period", "last_period", "periods", "nps", "benchmark", "size"]
    return NPSAlerts(table, pd.DataFrame(alerts, columns=cols))


# ---------------------------------------------------------------------------------------------------------
# complaints
# ---------------------------------------------------------------------------------------------------------
def pareto(values: pd.Series, top: int = 3) -> pd.DataFrame:
    """Counts per category, share and cumulative share, largest first; ``top`` flags the top categories."""
    v = values.fillna("unknown").replace("", "unknown")
    c = v.value_counts()
    out = pd.DataFrame({"count": c, "share": c / c.sum()})
    out["cumulative_share"] = out["share"].cumsum()
    out["top"] = np.arange(len(out)) < top
    out.index.name = values.name or "category"
    return out


@dataclass
class CategoryClassifier:
    """TF-IDF (word 1–2-grams; character 1–3-grams for Chinese text) and logistic regression, trained on
    tickets whose category is known, to fill the missing ones. ``accuracy`` is the 5-fold cross-validated
    accuracy on the labelled tickets; ``confusion`` counts, for every true category (rows), the categories the
    cross-validated predictions gave (columns), and ``recall`` is each true category's share predicted right."""

    accuracy: float = np.nan
    accuracy_sd: float = np.nan
    model: object = field(default=None, repr=False)
    confusion: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def recall(self) -> pd.Series:
        c = self.confusion
        return pd.Series(np.diag(c.to_numpy()) / c.sum(axis=1).to_numpy(), index=c.index, name="recall")

    def most_confused(self, k: int = 3) -> list[tuple[str, str, int]]:
        """The ``k`` largest off-diagonal cells: (true category, predicted category, tickets)."""
        c = self.confusion.copy()
        np.fill_diagonal(c.values, 0)
        s = c.stack()
        s = s[s > 0].sort_values(ascending=False, kind="stable").head(k)
        return [(str(a), str(b), int(v)) for (a, b), v in s.items()]

    def fit(self, text: pd.Series, category: pd.Series, seed: int = 0) -> "CategoryClassifier":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.base import clone
        from sklearn.model_selection import StratifiedKFold
        from sklearn.pipeline import make_pipeline

        known = category.notna() & (category.astype(str) != "") & text.notna()
        if known.sum() < 20:
            raise SQMDataError("interactions", [Problem("too_few_rows", "fewer than 20 labelled tickets to learn from")])
        sample = "".join(text[known].astype(str).head(500))
        cjk = sum("\u3400" <= ch <= "\u9fff" for ch in sample) / max(len(sample), 1)
        # Chinese is written without spaces: character 1–3-grams stand in for words
        vec = (TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=1) if cjk > 0.3
               else TfidfVectorizer(ngram_range=(1, 2), min_df=1))
        pipe = make_pipeline(vec, LogisticRegression(max_iter=2000))
        cv = StratifiedKFold(5, shuffle=True, random_state=seed)
        x, y = text[known].to_numpy(), category[known].astype(str).to_numpy()
        pred = np.empty(len(y), dtype=object)
        scores = []
        for train, test in cv.split(x, y):  # as cross_val_score, keeping the predictions for the confusion table
            pred[test] = clone(pipe).fit(x[train], y[train]).predict(x[test])
            scores.append(float(np.mean(pred[test] == y[test])))
        self.accuracy, self.accuracy_sd = float(np.mean(scores)), float(np.std(scores, ddof=1))
        labels = sorted(set(y))
        c = pd.crosstab(pd.Categorical(y, labels), pd.Categorical(pred.astype(str), labels), dropna=False)
        self.confusion = pd.DataFrame(c.to_numpy(), index=pd.Index(labels, name="true", dtype=object),
                                      columns=pd.Index(labels, name="predicted", dtype=object))
        self.model = pipe.fit(text[known], category[known])
        return self

    def fill(self, text: pd.Series, category: pd.Series) -> pd.DataFrame:
        """Categories with the missing ones predicted: columns ``category``, ``predicted`` (bool) and
        ``confidence`` (the predicted class's probability; 1 for known categories)."""
        missing = category.isna() | (category.astype(str) == "")
        out = pd.DataFrame({"category": category.where(~missing), "predicted": missing, "confidence": 1.0},
                           index=category.index)
        if missing.any():
            proba = self.model.predict_proba(text[missing].fillna(""))
            out.loc[missing, "category"] = self.model.classes_[proba.argmax(axis=1)]
            out.loc[missing, "confidence"] = proba.max(axis=1)
        return out


# ---------------------------------------------------------------------------------------------------------
# three-level maturity
# ---------------------------------------------------------------------------------------------------------
DEFAULT_RUBRIC = {
    # level 1, basic standards: are the rules followed? (the error-rate bar sits above the 0.5 % standard
    # because a unit's rate over a quarter's few hundred tickets is noisy)
    "standards_share_meeting": (1, ">=", 0.70, "mean share of cases meeting the ticket standards"),
    "error_rate": (1, "<=", 0.01, "service errors per interaction"),
    # level 2, process optimisation: first-contact resolution, speed, an improving (not worsening) trend
    "fcr": (2, ">=", 0.75, "first-contact resolution"),
    "response_h_median": (2, "<=", 8.0, "median first response to complaints (hours)"),
    "complaints_per_1000_change": (2, "<=", 0.15, "relative change in complaints per 1,000 customers since the previous quarter"),
    # level 3, value co-creation: loyalty, satisfaction, retention
    "nps": (3, ">=", 15.0, "NPS"),
    "csat": (3, ">=", 0.35, "CSAT (top-2-box)"),
    "churn_rate": (3, "<=", 0.07, "customers lost in the quarter"),
}


class Maturity(NamedTuple):
    """Maturity ``levels`` per unit and the ``evidence`` in long form."""

    levels: pd.DataFrame
    evidence: pd.DataFrame


def maturity(evidence: pd.DataFrame, rubric: Mapping[str, tuple] = DEFAULT_RUBRIC) -> Maturity:
    """Place each unit (row of ``evidence``, one column per rubric criterion) at maturity level 0–3.

    A unit reaches level L when it meets every criterion of levels 1..L (a missing value does not count as
    met). Returns (per unit: level and the number of criteria met per level; the evidence in long form:
    unit, level, criterion, description, value, rule, met).
    """
    long = []
    for unit, row in evidence.iterrows():
        for crit, (level, op, target, desc) in rubric.items():
            v = row.get(crit, np.nan)
            met = bool(np.isfinite(v) and (v >= target if op == ">=" else v <= target)) if v is not None else False
            long.append({"unit": unit, "level": level, "criterion": crit, "description": desc, "value": v,
                         "rule": f"{op} {target:g}", "met": met})
    ev = pd.DataFrame(long)
    summary = []
    for unit, g in ev.groupby("unit", sort=False):
        reached = 0
        for level in (1, 2, 3):
            if g[g["level"] == level]["met"].all():
                reached = level
            else:
                break
        summary.append({"unit": unit, "level": reached,
                        **{f"level{l}_met": f"{int(g[g['level'] == l]['met'].sum())}/{int((g['level'] == l).sum())}"
                           for l in (1, 2, 3)}})
    return Maturity(pd.DataFrame(summary).set_index("unit"), ev)


def maturity_evidence(attainment: pd.DataFrame, tickets_now: pd.DataFrame, survey_now: pd.DataFrame,
                      tickets_before: pd.DataFrame | None = None) -> pd.DataFrame:
    """The evidence :func:`maturity` reads, one row per unit, from a quarter's KPIs.

    Parameters
    ----------
    attainment : DataFrame
        :func:`sqmlib.gaps.standard_attainment` of the quarter (column ``unit``).
    tickets_now, tickets_before : DataFrame
        :func:`ticket_kpis` of the quarter and of the one before, indexed by unit (``before`` optional: the
        change in complaints per 1,000 customers is missing without it).
    survey_now : DataFrame
        :func:`survey_kpis` of the quarter, indexed by unit.
    """
    change = (tickets_now["complaints_per_1000"] / tickets_before["complaints_per_1000"] - 1
              if tickets_before is not None else np.nan)
    return pd.DataFrame({
        "standards_share_meeting": attainment[attainment["kpi"] != "error_rate"].groupby("unit")["share_meeting"].mean(),
        "error_rate": attainment[attainment["kpi"] == "error_rate"].set_index("unit")["value"],
        "fcr": tickets_now["fcr"], "response_h_median": tickets_now["response_h_median"],
        "complaints_per_1000_change": change,
        "nps": survey_now["nps"], "csat": survey_now["csat"], "churn_rate": tickets_now["churn_rate"],
    })


# ---------------------------------------------------------------------------------------------------------
# quarter against quarter
# ---------------------------------------------------------------------------------------------------------
def _top_boxes(inst, column: str) -> tuple[float, int]:
    """(lowest answer counted, number of boxes) of a rating column's top boxes: the instrument's, else the
    top two of 1–7."""
    if inst is None:
        return 6.0, 2
    spec = inst.columns.get(column)
    return top_box_of(inst, column), (spec.top_boxes if spec is not None and spec.type == "rating" else 2)


def quarter_comparison(survey: pd.DataFrame, quarter: str, *, interactions: pd.DataFrame | None = None,
                       customers: pd.DataFrame | None = None, significance: float = 0.05,
                       instrument=None) -> pd.DataFrame:
    """Headline KPIs of ``quarter`` against the previous quarter, with a test of the change.

    NPS: difference of two independent NPS estimates, z test with the multinomial variances. CSAT (the top
    boxes of ``overall_sat`` as the instrument defines them; 6–7 without one), the share answering CES in its
    top boxes ("easy") and first-contact resolution: two-proportion z test. CES: Welch t test, on the
    instrument's scale. Churn rate: two-proportion z test on
    the customers active in each quarter. ``better`` says whether the change is an improvement.
    """
    inst = load_instrument(instrument) if instrument is not None else None
    top, boxes = _top_boxes(inst, "overall_sat")
    ces_spec = inst.columns.get("ces") if inst is not None else None
    ces_unit = (f"{ces_spec.min:g}–{ces_spec.max:g}" if ces_spec is not None and ces_spec.max is not None
                else "1–7")
    if quarter:
        prev = previous_quarter(quarter)
        cur_s, prev_s = survey[survey["quarter"] == quarter], survey[survey["quarter"] == prev]
    else:  # a one-off study: every respondent, nothing to compare with
        cur_s, prev_s = survey, survey.iloc[:0]
        interactions = customers = None
    rows = []

    def add(name, cur, before, p, higher_is_better=True, unit=""):
        change = cur - before if np.isfinite(cur) and np.isfinite(before) else np.nan
        rows.append({"kpi": name, "current": cur, "previous": before, "change": change, "p_value": p,
                     "significant": bool(np.isfinite(p) and p < significance),
                     "better": bool(np.isfinite(change) and (change > 0) == higher_is_better) if np.isfinite(change) and change != 0 else None,
                     "unit": unit})

    def two_prop(k1, n1, k2, n2):
        if min(n1, n2) == 0:
            return np.nan
        p = (k1 + k2) / (n1 + n2)
        se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
        return float(2 * stats.norm.sf(abs(k1 / n1 - k2 / n2) / se)) if se > 0 else np.nan

    if "nps" in survey:
        a, b = nps_ci(cur_s["nps"]), nps_ci(prev_s["nps"])
        if b["n"]:
            se = np.sqrt(((a["promoters"] + a["detractors"] - (a["promoters"] - a["detractors"]) ** 2) / a["n"])
                         + ((b["promoters"] + b["detractors"] - (b["promoters"] - b["detractors"]) ** 2) / b["n"]))
            p = float(2 * stats.norm.sf(abs(a["nps"] - b["nps"]) / 100 / se))
        else:
            p = np.nan
        add("NPS", a["nps"], b["nps"], p, unit="points")
    if "overall_sat" in survey:
        x1, x2 = cur_s["overall_sat"].dropna(), prev_s["overall_sat"].dropna()
        add(f"CSAT (top-{boxes}-box)", (x1 >= top).mean() if len(x1) else np.nan,
            (x2 >= top).mean() if len(x2) else np.nan,
            two_prop((x1 >= top).sum(), len(x1), (x2 >= top).sum(), len(x2)), unit="share")
    if "ces" in survey:
        x1, x2 = cur_s["ces"].dropna(), prev_s["ces"].dropna()
        p = float(stats.ttest_ind(x1, x2, equal_var=False).pvalue) if min(len(x1), len(x2)) > 1 else np.nan
        add("CES", x1.mean(), x2.mean() if len(x2) else np.nan, p, unit=ces_unit)
        easy, ces_boxes = _top_boxes(inst, "ces")
        add(f"CES easy (top-{ces_boxes}-box)", (x1 >= easy).mean() if len(x1) else np.nan,
            (x2 >= easy).mean() if len(x2) else np.nan,
            two_prop((x1 >= easy).sum(), len(x1), (x2 >= easy).sum(), len(x2)), unit="share")
    if interactions is not None:
        q_of = period_of(interactions["opened_at"], "Q")
        t1, t2 = interactions[q_of == quarter], interactions[q_of == prev]
        f1, f2 = t1["first_contact_resolved"].dropna().astype(bool), t2["first_contact_resolved"].dropna().astype(bool)
        add("First-contact resolution", f1.mean(), f2.mean() if len(f2) else np.nan,
            two_prop(f1.sum(), len(f1), f2.sum(), len(f2)), unit="share")
    if customers is not None:
        vals = []
        for q in (quarter, prev):
            start, end = quarter_bounds(q)
            n = active_customers(customers, start, end)
            k = int(customers["churn_date"].between(start, end, inclusive="left").sum())
            vals.append((k, n))
        (k1, n1), (k2, n2) = vals
        add("Churn rate", k1 / n1 if n1 else np.nan, k2 / n2 if n2 else np.nan, two_prop(k1, n1, k2, n2),
            higher_is_better=False, unit="share")
    return pd.DataFrame(rows, columns=["kpi", "current", "previous", "change", "p_value", "significant", "better",
                                       "unit"])


# ---------------------------------------------------------------------------------------------------------
# the pipeline of the KPI notebook
# ---------------------------------------------------------------------------------------------------------
def median_response_by_period(tickets: pd.DataFrame, freq: str = "M") -> pd.Series:
    """Median hours to the first response to complaints, per period."""
    comp = tickets_mod.complaints(tickets)
    hours = tickets_mod.response_hours(comp)
    return hours.groupby(period_of(comp["opened_at"], freq)).median()


@dataclass(frozen=True)
class KPIMetrics:
    """Key figures of :func:`run_kpis` (``metrics.json`` of the KPI notebook)."""

    kpis: dict
    per_unit: dict
    alerts: list
    western_electric_breaks: int
    pareto_categories_top3: dict
    pareto_departments_top3: dict
    classifier_accuracy: float | None
    maturity: dict
    unit: str


@dataclass(frozen=True)
class KPIResult(Result):
    """What :func:`run_kpis` found: the quarter against the previous one, KPIs per unit, the NPS monitor and
    its alerts, control charts, complaint causes and the maturity levels."""

    title = "KPI monitoring"
    notebook = "05_kpi_monitoring"

    quarter: str
    unit: str
    freq: str
    alert_drop: float
    alert_periods: int
    absent: tuple
    comparison: pd.DataFrame
    per_unit: pd.DataFrame
    monitor: NPSAlerts
    attainment: pd.DataFrame | None = None
    charts: Mapping[str, pd.DataFrame] | None = None
    classifier: CategoryClassifier | None = None
    predicted: int = 0
    causes: pd.DataFrame | None = None
    departments: pd.DataFrame | None = None
    severity_mix: pd.DataFrame | None = None
    complaints_per_quarter: pd.DataFrame | None = None
    maturity_levels: Maturity | None = None

    @property
    def has_tickets(self) -> bool:
        return self.attainment is not None

    @property
    def rules(self) -> pd.DataFrame:
        if not self.charts:
            return pd.DataFrame()
        return pd.concat([self.charts["first-contact resolution"].assign(chart="first-contact resolution"),
                          self.charts["median response"].assign(chart="median response")])

    @property
    def breaks(self) -> pd.DataFrame:
        r = self.rules
        return r[r[["rule1", "rule2", "rule3", "rule4"]].any(axis=1)] if len(r) else pd.DataFrame()

    def findings(self) -> list[str]:
        out = []
        for a in self.monitor.alerts.itertuples():
            out.append(f"Alert: {a.unit} ({a.unit_type}): NPS {a.nps:+.0f} against a benchmark of {a.benchmark:+.0f} "
                       f"from {a.first_period} to {a.last_period} ({a.periods} periods).")
        if not len(self.monitor.alerts):
            out.append("No unit triggered the NPS alert rule.")
        if self.causes is not None:
            out.append(f"Top complaint cause: {self.causes.index[0]} ({self.causes['share'].iloc[0]:.0%}).")
        return out

    def metrics(self) -> KPIMetrics:
        company = self.comparison.set_index("kpi")
        pc, pdep, lv = self.causes, self.departments, self.maturity_levels
        return KPIMetrics(
            kpis=company[["current", "previous", "change", "p_value", "significant"]].to_dict("index"),
            per_unit=self.per_unit.to_dict("index"), alerts=self.monitor.alerts.to_dict("records"),
            western_electric_breaks=int(len(self.breaks)),
            pareto_categories_top3=pc.head(3)["share"].to_dict() if pc is not None else {},
            pareto_departments_top3=pdep.head(3)["share"].to_dict() if pdep is not None else {},
            classifier_accuracy=self.classifier.accuracy if self.classifier is not None else None,
            maturity=lv.levels["level"].to_dict() if lv is not None else {}, unit=self.unit)

    def headline(self) -> list[dict]:
        company = self.comparison.set_index("kpi")
        out = []
        if "NPS" in company.index:
            out.append(headline("NPS", company.loc["NPS", "current"], "{:+.1f}"))
        csat = [k for k in company.index if k.startswith("CSAT")]
        if csat:
            out.append(headline(csat[0], company.loc[csat[0], "current"], "{:.1%}"))
        if self.quarter:
            out.append(headline("Alerts", len(self.monitor.alerts)))
        if self.has_tickets:
            pc, lv = self.causes, self.maturity_levels.levels
            out += [headline("Top complaint cause", f"{pc.index[0]} ({pc['share'].iloc[0]:.0%})", "{}"),
                    headline(f"{self.unit.capitalize()}s at maturity level 3", int((lv["level"] == 3).sum()))]
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {"quarter comparison": self.comparison, f"kpis per {self.unit}": self.per_unit,
               "nps monitor": self.monitor.table, "alerts": self.monitor.alerts}
        if self.has_tickets:
            out.update({"standards": self.attainment, "control rules": self.rules, "complaint causes": self.causes,
                        "departments": self.departments, "maturity": self.maturity_levels.levels,
                        "maturity evidence": self.maturity_levels.evidence})
            if self.classifier is not None and self.classifier.confusion is not None:
                out["classifier confusion"] = self.classifier.confusion.reset_index()
        return out

    def sections(self) -> dict[str, list[Block]]:
        skipped = text("Skipped: needs the interactions, customers and standards tables.")
        sample = ([text(f"**No {', '.join(self.absent)} table in the data folder**: only the survey KPIs and the NPS "
                        "alerts are shown; ticket, standard and maturity sections are skipped.")] if self.absent else [])
        fmt = {"current": "{:.3f}", "previous": "{:.3f}", "change": "{:+.3f}", "p_value": "{:.3g}"}
        if not self.quarter:  # a one-off study
            levels = self.comparison[["kpi", "current", "unit"]]
            by_unit = ([text(f"**KPIs per {self.unit}**"), table(self.per_unit, lambda s: s.format(precision=3))]
                       if self.unit else [])
            glance = [table(levels, lambda s: s.format({"current": "{:.3f}"}, na_rep="–").hide(axis="index")),
                      text("The survey has no dates: the KPIs cover every respondent, with no period to compare "
                           "with."), *by_unit]
            none = text("Monitoring over time needs survey dates; this survey has none.")
            return {"sample": sample, "glance": glance, "monitor": [none],
                    "complaints": [skipped], "maturity": [skipped]}
        glance = [table(self.comparison, lambda s: s.format(fmt, na_rep="–").map(
                      lambda v: "background-color: #c6efce" if v is True else (
                          "background-color: #ffc7ce" if v is False else ""), subset=["better"]).hide(axis="index")),
                  text(f"Compared with {previous_quarter(self.quarter)}; `significant` at the 5 % level."),
                  text(f"**KPIs per {self.unit}, {self.quarter}**"),
                  table(self.per_unit, lambda s: s.format(precision=3).background_gradient(
                      subset=[c for c in ("nps", "csat") if c in self.per_unit.columns][:1], cmap="RdYlGn"))]
        table_, alerts = self.monitor
        if not len(table_):
            monitor = [text("No NPS monitoring: the survey has no NPS question"
                            + (" or no segment column." if "nps" in self.per_unit.columns else "."))]
        else:
            monitor = [figure(lambda: plots.nps_monitor(table_, self.unit, alerts, title=f"NPS per "
                              f"{'month' if self.freq == 'M' else 'quarter'} and {self.unit}"), "nps monitor")]
        if not len(table_):
            pass
        elif len(alerts):
            monitor += [text(f"**{len(alerts)} alert(s)**: NPS more than {self.alert_drop:.0%} below the unit's "
                             f"benchmark for {self.alert_periods} or more consecutive periods"),
                        table(alerts, lambda s: s.format(precision=1).hide(axis="index"))]
        else:
            monitor.append(text("No unit triggered the NPS alert rule."))
        if self.charts:
            broken = self.breaks
            monitor += [figure(lambda: plots.control_chart(self.charts["first-contact resolution"],
                                                           "First-contact resolution (p-chart)", "share resolved"),
                               "first-contact resolution"),
                        figure(lambda: plots.control_chart(self.charts["median response"], "Median first response "
                                                           "to complaints (individuals chart)", "hours"),
                               "median response"),
                        text(f"{len(broken)} point(s) break a Western Electric rule:"),
                        table(broken[["chart", "label", "value", "centre", "rule1", "rule2", "rule3", "rule4"]],
                              lambda s: s.format(precision=3).hide(axis="index"))]
        if self.has_tickets:
            pc, pdep = self.causes, self.departments
            complaints = [
                text(f"{self.predicted} complaint(s) without a category were classified from their text "
                     f"(cross-validated accuracy on labelled tickets {self.classifier.accuracy:.1%}). Most often "
                     "confused (true → predicted): " + "; ".join(f"{a} → {b} ({n})" for a, b, n in
                                                                  self.classifier.most_confused()) + "."),
                table(self.classifier.confusion, lambda s: s.background_gradient(cmap="Blues", axis=None)),
                figure(lambda: plots.pareto_chart(pc, f"Complaint causes, {self.quarter}"), "complaint causes"),
                table(pc, lambda s: s.format({"share": "{:.1%}", "cumulative_share": "{:.1%}"})),
                figure(lambda: plots.pareto_chart(pdep, f"Complaints by department, {self.quarter}"), "departments"),
                text("**Severity mix per unit**"), table(self.severity_mix, lambda s: s.format("{:.1%}")),
                text("**Complaints per quarter and unit**"), table(self.complaints_per_quarter)]
            lv = self.maturity_levels
            maturity = [
                table(lv.levels, lambda s: s.background_gradient(subset=["level"], cmap="RdYlGn", vmin=0, vmax=3)),
                text("Level 1 basic standards (are the rules followed?), level 2 process optimisation (first-contact "
                     "resolution, speed, improving), level 3 value co-creation (NPS, satisfaction, retention). A unit "
                     "reaches a level when it meets every criterion of that level and the ones below."),
                table(lv.evidence.pivot(index=["level", "criterion", "rule"], columns="unit", values="value"),
                      lambda s: s.format(precision=3))]
        else:
            complaints = maturity = [skipped]
        return {"sample": sample, "glance": glance, "monitor": monitor, "complaints": complaints,
                "maturity": maturity}


def run_kpis(folder, *, quarter: str = "", unit: str = "region", freq: str = "M", alert_drop: float = 0.30,
             alert_periods: int = 3, engine: str = "pandas") -> KPIResult:
    """The operational picture of a quarter: the pipeline of notebook ``05_kpi_monitoring``.

    Parameters
    ----------
    folder : DataFolder
        From :func:`sqmlib.io.load_folder`; needs the survey. Ticket, standard and maturity sections need the
        interactions, customers and standards tables.
    quarter : str
        Quarter to report ("" = the latest in the survey); nothing after it is used.
    unit : str
        Unit for KPIs, alerts and maturity: region, channel or store.
    freq : {"M", "Q"}
        Monitoring period.
    alert_drop, alert_periods
        The NPS alert rule: more than ``alert_drop`` below the unit's benchmark for ``alert_periods``
        consecutive periods.
    engine : {"pandas", "duckdb", "spark"}
        Where NPS, CSAT and CES per unit are computed.

    Returns
    -------
    KPIResult

    Examples
    --------
    >>> from sqmlib import io, kpi
    >>> k = kpi.run_kpis(io.load_folder(), unit="region")
    >>> k.monitor.alerts
    """
    check_engine(engine)
    if freq not in ("M", "Q"):
        raise SQMArgumentError(f"freq must be M or Q, got {freq!r}")
    if not 0 < alert_drop < 1 or alert_periods < 1:
        raise SQMArgumentError("alert_drop must lie between 0 and 1 and alert_periods be at least 1")
    folder.require("survey", purpose="KPI monitoring")
    q = folder.quarter(quarter)
    unit = folder.segment_column(unit)
    absent = tuple(folder.missing("customers", "interactions", "standards"))
    if not q:  # a one-off study: survey KPIs over every respondent, per unit; no periods, no tickets
        survey = folder.survey
        comparison = quarter_comparison(survey, "", instrument=folder.instrument)
        sk = survey_kpis(survey, by=unit or None, instrument=folder.instrument)
        per_unit = sk.drop(columns="period").set_index(unit) if unit else sk.drop(columns="period")
        per_unit = per_unit[[c for c in ("nps", "nps_ci_low", "nps_ci_high", "csat", "csat_ci_low", "csat_ci_high",
                                         "csat_n", "ces") if c in per_unit.columns]]
        return KPIResult(quarter="", unit=unit, freq=freq, alert_drop=alert_drop, alert_periods=alert_periods,
                         absent=absent, comparison=comparison, per_unit=per_unit,
                         monitor=nps_alerts(survey.iloc[:0], unit or "unit"))
    has_tickets = not absent
    data = folder.until(q)
    survey, tickets, customers = data.survey, data.interactions, data.customers
    q_start, q_end = quarter_bounds(q)
    comparison = quarter_comparison(survey, q, interactions=tickets, customers=customers,
                                    instrument=folder.instrument)
    if engine == "pandas":
        sk = survey_kpis(survey, by=unit, instrument=folder.instrument)
    else:  # NPS, CSAT and CES per unit from moments computed by the engine over the whole file
        sk = survey_kpis(survey_moments(folder.files["survey"], folder.instrument, by=["quarter", unit],
                                        engine=engine), by=unit, instrument=folder.instrument)
    sk = sk[sk["period"] == q].set_index(unit)
    per_unit = sk[[c for c in ("nps", "nps_ci_low", "nps_ci_high", "csat", "ces") if c in sk.columns]]
    monitor = nps_alerts(survey, unit, freq=freq, drop=alert_drop, periods=alert_periods)
    if not has_tickets:
        return KPIResult(quarter=q, unit=unit, freq=freq, alert_drop=alert_drop, alert_periods=alert_periods,
                         absent=absent, comparison=comparison, per_unit=per_unit, monitor=monitor)
    tk = ticket_kpis(tickets, customers, by=unit).set_index(["period", unit])
    tk_q = tk.loc[q]
    att = standard_attainment(tickets, data.standards, by=unit, start=q_start, end=q_end)
    att_wide = att.pivot_table(index="unit", columns=["kpi", "severity"], values="share_meeting")
    att_wide.columns = [f"{k}{'/' + s if s else ''}" for k, s in att_wide.columns]
    per_unit = per_unit.join(tk_q[["fcr", "response_h_median", "response_h_p90", "handling_h_median", "repeat_rate",
                                   "complaints_per_1000", "churn_rate"]]).join(att_wide)
    period = period_of(tickets["opened_at"], freq)
    by_p = tickets.groupby(period)
    fcr_chart = p_chart(by_p["first_contact_resolved"].sum(), by_p.size(), labels=list(by_p.groups))
    resp = median_response_by_period(tickets, freq)
    resp_chart = imr_chart(resp.to_numpy(), labels=list(resp.index))
    all_complaints = tickets_mod.complaints(tickets)
    cq = all_complaints[all_complaints["opened_at"] >= q_start].copy()
    clf = CategoryClassifier().fit(tickets["text"], tickets["category"])
    filled = clf.fill(cq["text"], cq["category"])
    cq["category_filled"] = filled["category"]
    pc = pareto(cq["category_filled"].rename("category"))
    pdep = pareto(cq["department"].rename("department"))
    sev = pd.crosstab(cq[unit], cq["severity"], normalize="index")
    per_quarter = all_complaints.assign(quarter=period_of(all_complaints["opened_at"], "Q"))
    prev_q = previous_quarter(q)
    before = tk.loc[prev_q] if prev_q in tk.index.get_level_values(0) else None
    levels = maturity(maturity_evidence(att, tk_q, sk, before))
    return KPIResult(quarter=q, unit=unit, freq=freq, alert_drop=alert_drop, alert_periods=alert_periods,
                     absent=absent, comparison=comparison, per_unit=per_unit, monitor=monitor, attainment=att,
                     charts={"first-contact resolution": fcr_chart, "median response": resp_chart}, classifier=clf,
                     predicted=int(filled["predicted"].sum()), causes=pc, departments=pdep, severity_mix=sev,
                     complaints_per_quarter=pd.crosstab(per_quarter["quarter"], per_quarter[unit]),
                     maturity_levels=levels)
