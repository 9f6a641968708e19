"""Service recovery: the revisit standard (补偿执行后72小时内进行满意度回访 — revisit within 72 hours of the
remedy), which remedy works, and the recovery paradox tested honestly.

The interactions' optional recovery columns: ``remedy_offered`` (the choices, ``;``-separated), ``remedy`` (the
one chosen), ``recovered_at`` (remedy completed), ``revisit_at``, ``revisit_sat`` (1–5) and
``complained_again``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..periods import quarter_bounds
from ..render import seed_plots as plots
from ..render.messages import listed, msg, term
from ..results import figure, table, text
from .survey import wilson_ci
from .tickets import DEFAULT_REVISIT_HOURS, complaints, data_end, revisit_hours

RECOVERY_COLUMNS = ("remedy", "recovered_at", "revisit_at")


def has_recovery(tickets: pd.DataFrame | None) -> bool:
    """Whether the tickets carry recovery data: a remedy, its completion and a revisit for some complaint."""
    return tickets is not None and all(c in tickets for c in RECOVERY_COLUMNS) and bool(
        tickets["recovered_at"].notna().any())


def _all_and_units(frame: pd.DataFrame, by: str | None) -> list[tuple[str, pd.DataFrame]]:
    """The rows as a whole ("all"), then per value of ``by`` when the frame has it."""
    units = [(u, g) for u, g in frame.groupby(by, observed=True, sort=True)] if by and by in frame else []
    return [("all", frame)] + units


def _customer_column(customers: pd.DataFrame, column: str, ids: pd.Series) -> pd.Series:
    """``column`` of the customers table for each customer id of ``ids`` (missing where unknown)."""
    return ids.map(customers.drop_duplicates("customer_id").set_index("customer_id")[column])


def chose_remedy(tickets: pd.DataFrame) -> pd.Series:
    """Which tickets record a remedy chosen (not blank)."""
    return tickets["remedy"].notna() & tickets["remedy"].astype(str).str.strip().ne("")


def revisit_compliance(tickets: pd.DataFrame, by: str | None = "region", target: float = DEFAULT_REVISIT_HOURS,
                       until: pd.Timestamp | None = None) -> pd.DataFrame:
    """The revisit standard per unit: remedies whose window is over (``n``), those revisited within ``target``
    hours (``revisited_in_time``), their share with a Wilson 95 % interval, and the median hours to the revisit (revisits only)."""
    h = revisit_hours(tickets, target, until)
    t = tickets.assign(_h=h)[h.notna()]  # judged: revisited, or overdue (inf)
    rows = []
    for unit, g in _all_and_units(t, by):
        n, k = len(g), int((g["_h"] <= target).sum())
        lo, hi = wilson_ci(k, n) if n else (np.nan, np.nan)
        done = g["_h"][np.isfinite(g["_h"])]
        rows.append({"unit": unit, "n": n, "revisited_in_time": k, "share": k / n if n else np.nan, "ci_low": lo,
                     "ci_high": hi, "median_hours": float(done.median()) if len(done) else np.nan})
    return pd.DataFrame(rows).set_index("unit")


def time_to_revisit(tickets: pd.DataFrame, by: str | None = "region", until: pd.Timestamp | None = None,
                    horizon: float = 240.0, step: float = 2.0) -> pd.DataFrame:
    """Kaplan–Meier curves of the time from the completed remedy to the revisit (lifelines), per unit: the share
    revisited by each hour 0…``horizon`` (1 − S(t)); remedies not (yet) revisited are censored at the data's
    end. Index the hour, one column per unit and ``all``."""
    from lifelines import KaplanMeierFitter

    until = data_end(tickets) if until is None else pd.Timestamp(until)
    t = tickets[tickets["recovered_at"].notna()]
    end = t["revisit_at"].where(t["revisit_at"].notna(), until)
    dur = ((end - t["recovered_at"]).dt.total_seconds() / 3600).clip(lower=0)
    event = t["revisit_at"].notna()
    grid = np.arange(0, horizon + step / 2, step)
    out = {}
    for unit, g in _all_and_units(t, by):
        if len(g) == 0:
            continue
        km = KaplanMeierFitter().fit(dur.loc[g.index], event.loc[g.index])
        out[unit] = 1 - km.survival_function_at_times(grid).to_numpy()
    return pd.DataFrame(out, index=pd.Index(grid, name="hours"))


# ---------------------------------------------------------------------------------------------------------
# which remedy works
# ---------------------------------------------------------------------------------------------------------
def _design(frame: pd.DataFrame, factor: str, controls: Sequence[str]) -> tuple[np.ndarray, list, list]:
    """Treatment-coded design matrix: intercept, the factor's levels but the first, each control's levels but
    the first (missing control values form a level of their own)."""
    levels = sorted(frame[factor].unique())
    cols, names = [np.ones(len(frame))], ["intercept"]
    for lv in levels[1:]:
        cols.append((frame[factor] == lv).to_numpy(float))
        names.append(f"{factor}={lv}")
    for c in controls:
        v = frame[c].astype(object).where(frame[c].notna(), "(blank)").astype(str)
        for lv in sorted(v.unique())[1:]:
            cols.append((v == lv).to_numpy(float))
            names.append(f"{c}={lv}")
    return np.column_stack(cols), levels, names


def adjusted_means(frame: pd.DataFrame, outcome: str, factor: str, controls: Sequence[str] = (),
                   reference: str | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Per level of ``factor``: the raw mean of ``outcome``, its mean adjusted for ``controls`` (least squares with
    HC3 errors; the adjusted mean is the model's average prediction with everyone set to that level, so the
    controls' mix is the whole sample's), its interval, and the adjusted difference from ``reference`` (default
    the first level) with interval and p value. For a yes/no outcome this is the linear probability model."""
    from statsmodels.regression.linear_model import OLS

    d = frame.dropna(subset=[outcome, factor])
    y = d[outcome].astype(float).to_numpy()
    X, levels, names = _design(d, factor, controls)
    # drop columns without variation (a control level absent after the filter)
    keep = [0] + [j for j in range(1, X.shape[1]) if X[:, j].any() and not X[:, j].all()]
    X, names = X[:, keep], [names[j] for j in keep]
    fit = OLS(y, X).fit(cov_type="HC3")
    beta, V = fit.params, fit.cov_params()
    z = stats.norm.ppf(0.5 + confidence / 2)
    base = X.mean(axis=0)
    fcols = [j for j, nm in enumerate(names) if nm.startswith(f"{factor}=")]
    base[fcols] = 0.0
    ref = reference if reference in levels else levels[0]

    def vec(level):
        a = base.copy()
        if f"{factor}={level}" in names:
            a[names.index(f"{factor}={level}")] = 1.0
        return a

    rows = []
    for lv in levels:
        a, r = vec(lv), vec(ref)
        m, se = float(a @ beta), float(np.sqrt(a @ V @ a))
        diff = a - r
        dm, dse = float(diff @ beta), float(np.sqrt(max(diff @ V @ diff, 0.0)))
        sub = d[d[factor] == lv]
        rows.append({factor: lv, "n": len(sub), "mean": float(sub[outcome].astype(float).mean()),
                     "adjusted": m, "ci_low": m - z * se, "ci_high": m + z * se,
                     "difference": dm, "diff_ci_low": dm - z * dse if lv != ref else np.nan,
                     "diff_ci_high": dm + z * dse if lv != ref else np.nan,
                     "p_value": float(2 * stats.norm.sf(abs(dm) / dse)) if lv != ref and dse > 0 else np.nan})
    return pd.DataFrame(rows).set_index(factor)


def remedy_effects(tickets: pd.DataFrame, controls: Sequence[str] = ("severity", "category"),
                   reference: str = "apology", customers: pd.DataFrame | None = None,
                   horizon_days: int = 180) -> dict[str, pd.DataFrame]:
    """Revisit satisfaction, complaining again and, with ``customers``, leaving within ``horizon_days`` of the
    remedy, per remedy chosen, adjusted for severity and category (:func:`adjusted_means`; the apology as
    reference when offered). Keys ``satisfaction``, ``again`` and ``churn`` (absent when the data lack them).
    Churn counts complaints whose remedy was done at least ``horizon_days`` before the data's end (a customer
    with two complaints counts twice)."""
    c = complaints(tickets)
    c = c[chose_remedy(c)]
    ctrl = [x for x in controls if x in c]
    out = {}
    if customers is not None and "churn_date" in customers and "recovered_at" in c:
        horizon = pd.Timedelta(days=horizon_days)
        done = c[c["recovered_at"].notna() & (c["recovered_at"] + horizon <= data_end(tickets))]
        left = _customer_column(customers, "churn_date", done["customer_id"])
        churned = ((left > done["recovered_at"]) & (left <= done["recovered_at"] + horizon)).astype(float)
        if len(done) > 10:
            out["churn"] = adjusted_means(done.assign(churned=churned), "churned", "remedy", ctrl, reference)
    if "revisit_sat" in c and c["revisit_sat"].notna().sum() > 10:
        out["satisfaction"] = adjusted_means(c, "revisit_sat", "remedy", ctrl, reference)
    if "complained_again" in c and c["complained_again"].notna().sum() > 10:
        out["again"] = adjusted_means(c.assign(complained_again=c["complained_again"].astype(float)),
                                      "complained_again", "remedy", ctrl, reference)
    return out


# ---------------------------------------------------------------------------------------------------------
# the recovery paradox
# ---------------------------------------------------------------------------------------------------------
def paradox_groups(survey: pd.DataFrame, tickets: pd.DataFrame, window_days: int = 180,
                   satisfied_from: float = 4) -> pd.Series:
    """Each respondent's group at the time they answered: ``recovered`` (a complaint in the ``window_days``
    before, its remedy completed before answering and the revisit satisfied, ``revisit_sat`` ≥
    ``satisfied_from``), ``not_recovered`` (a complaint in the window otherwise), ``no_failure`` (no complaint
    in the window)."""
    c = complaints(tickets)
    c = c[c["customer_id"].isin(set(survey["customer_id"]))]
    s = survey[["customer_id", "survey_date"]].assign(_row=np.arange(len(survey)))  # positions: any index
    j = s.merge(c[["customer_id", "opened_at", "recovered_at", "revisit_sat"]], on="customer_id", how="inner")
    j = j[(j["opened_at"] < j["survey_date"])
          & (j["opened_at"] >= j["survey_date"] - pd.Timedelta(days=window_days))]
    ok = (j["recovered_at"] < j["survey_date"]) & (j["revisit_sat"] >= satisfied_from)
    per = j.assign(ok=ok).groupby("_row")["ok"].all()  # every complaint of the window recovered well
    group = np.full(len(survey), "no_failure", dtype=object)
    group[per.index.to_numpy()] = np.where(per.to_numpy(), "recovered", "not_recovered")
    return pd.Series(group, index=survey.index)


@dataclass(frozen=True)
class Paradox:
    """The recovery paradox on one outcome: recovered complainants against respondents without a failure."""

    outcome: str
    table: pd.DataFrame  # adjusted_means per group
    difference: float  # recovered − no failure, adjusted
    ci: tuple[float, float]
    p_value: float
    verdict: str  # "higher", "lower", "no difference", "too few"

    @staticmethod
    def of(table: pd.DataFrame, outcome: str, min_n: int = 30) -> "Paradox":
        if "recovered" not in table.index or table.loc["recovered", "n"] < min_n:
            return Paradox(outcome, table, np.nan, (np.nan, np.nan), np.nan, "too few")
        r = table.loc["recovered"]
        lo, hi = float(r["diff_ci_low"]), float(r["diff_ci_high"])
        verdict = "higher" if lo > 0 else "lower" if hi < 0 else "no difference"
        return Paradox(outcome, table, float(r["difference"]), (lo, hi), float(r["p_value"]), verdict)


def recovery_paradox(survey: pd.DataFrame, tickets: pd.DataFrame, customers: pd.DataFrame | None = None, *,
                     outcome: str = "overall_sat", window_days: int = 180, horizon_days: int = 180,
                     controls: Sequence[str] = ("quarter", "region", "plan")) -> dict[str, Paradox]:
    """The paradox tested on satisfaction and on churn separately (the literature finds it for the first and
    rarely for the second): respondents whose complaint was recovered well (:func:`paradox_groups`) against
    respondents without a complaint in the same window, adjusted for ``controls`` (least squares, HC3).
    Satisfaction is ``outcome`` as answered; churn is leaving within ``horizon_days`` of answering, among
    respondents followed that long (linear probability model). A control the survey lacks is taken from the
    customers table when it has it (the plan). Keys ``satisfaction`` and ``churn``."""
    group = paradox_groups(survey, tickets, window_days)
    frame = survey.assign(group=group)
    if customers is not None:  # the customer's plan: a difference between the groups beyond region and quarter
        for c in controls:
            if c not in frame and c in customers:
                frame[c] = _customer_column(customers, c, frame["customer_id"])
    ctrl = [c for c in controls if c in frame]
    out = {}
    if outcome in survey and survey[outcome].notna().any():
        t = adjusted_means(frame, outcome, "group", ctrl, reference="no_failure")
        out["satisfaction"] = Paradox.of(t, outcome)
    if customers is not None and "churn_date" in customers:
        until = pd.Timestamp(customers["churn_date"].max())
        cd = _customer_column(customers, "churn_date", survey["customer_id"])
        horizon = pd.Timedelta(days=horizon_days)
        followed = survey["survey_date"] + horizon <= until
        left = (cd > survey["survey_date"]) & (cd <= survey["survey_date"] + horizon)
        f = frame[followed.to_numpy()].assign(churned=left[followed.to_numpy()].astype(float))
        if len(f) and f["group"].eq("recovered").any():
            t = adjusted_means(f, "churned", "group", ctrl, reference="no_failure")
            out["churn"] = Paradox.of(t, "churned")
    return out


# ---------------------------------------------------------------------------------------------------------
# the KPI page's section
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recovery:
    """Service recovery in a quarter: the revisit standard per unit, the time-to-revisit curves, the remedies'
    adjusted effects and the recovery paradox (see :func:`recovery_analysis`)."""

    quarter: str
    unit: str
    target: float
    compliance: pd.DataFrame
    curves: pd.DataFrame
    remedies: dict  # "satisfaction" / "again" -> adjusted_means table
    paradox: dict  # "satisfaction" / "churn" -> Paradox
    complaints: int
    with_remedy: int
    chosen: pd.Series  # remedy chosen -> complaints

    def findings(self) -> list[str]:
        out = []
        c = self.compliance
        if len(c) and c.loc["all", "n"]:
            worst = c.drop(index="all").sort_values("share").head(1)
            out.append(msg("recovery.revisit", "Revisits within {target:g} hours of the remedy: {share:.0%} "
                           "(lowest: {unit} {low:.0%}).", target=self.target, share=c.loc["all", "share"],
                           unit=term(worst.index[0]) if len(worst) else "—",
                           low=float(worst["share"].iloc[0]) if len(worst) else np.nan))
        sat = self.remedies.get("satisfaction")
        if sat is not None and len(sat) > 1:
            best = sat["adjusted"].idxmax()
            out.append(msg("recovery.best_remedy", "Best remedy for revisit satisfaction: {remedy} ({value:.2f} of "
                           "5, adjusted for severity and category).", remedy=term(best),
                           value=float(sat.loc[best, "adjusted"])))
        p = self.paradox.get("satisfaction")
        if p is not None:
            out.append(paradox_line(p))
        p = self.paradox.get("churn")
        if p is not None:
            out.append(paradox_line(p))
        return out

    def metrics(self) -> dict:
        c = self.compliance
        return {"target_hours": self.target, "complaints": self.complaints, "with_remedy": self.with_remedy,
                "revisit_share": c["share"].to_dict() if len(c) else {},
                "remedy_satisfaction": (self.remedies["satisfaction"]["adjusted"].to_dict()
                                        if "satisfaction" in self.remedies else {}),
                "remedy_complained_again": (self.remedies["again"]["adjusted"].to_dict()
                                            if "again" in self.remedies else {}),
                "remedy_churn": (self.remedies["churn"]["adjusted"].to_dict() if "churn" in self.remedies else {}),
                "paradox": {k: {"difference": p.difference, "ci": list(p.ci), "p_value": p.p_value,
                                "verdict": p.verdict} for k, p in self.paradox.items()}}

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {"revisit standard": self.compliance}
        if "satisfaction" in self.remedies:
            out["remedy satisfaction"] = self.remedies["satisfaction"]
        if "again" in self.remedies:
            out["remedy complained again"] = self.remedies["again"]
        if "churn" in self.remedies:
            out["remedy churn"] = self.remedies["churn"]
        for k, p in self.paradox.items():
            out[f"recovery paradox {k}"] = p.table
        return out

    def blocks(self) -> list:
        remedies = listed(msg("recovery.remedy_count", "{remedy} {n:,}", remedy=term(r), n=int(n))
                          for r, n in self.chosen.items())
        out = [text(msg("recovery.sample", "{n:,} complaints opened up to {quarter}, {k:,} with a remedy chosen "
                        "({remedies}). The standard: a satisfaction revisit within {target:g} hours of the remedy; a "
                        "remedy whose {target:g} hours have passed without a revisit counts as missed.",
                        n=self.complaints, quarter=term(self.quarter), k=self.with_remedy,
                        remedies=remedies, target=self.target)),
               table(self.compliance, lambda s: s.format(precision=1).format(
                   "{:.1%}", subset=["share", "ci_low", "ci_high"]).format("{:,.0f}", subset=["n", "revisited_in_time"]),
                   own_formats=("share", "ci_low", "ci_high")),
               figure(lambda: plots.revisit_curves(self.curves, self.target), "revisit curves")]
        sat, again = self.remedies.get("satisfaction"), self.remedies.get("again")
        if sat is not None:
            out += [figure(lambda: plots.remedy_chart(sat), "remedy satisfaction"),
                    text(msg("recovery.remedies", "**Which remedy works?** Revisit satisfaction (1–5) and the share "
                             "who complained again per remedy chosen: raw means, and means adjusted for severity "
                             "and category (least squares with robust errors; each remedy's mean as if every "
                             "complaint had got it), with differences from the apology.")),
                    table(sat, lambda s: s.format(precision=2, na_rep="–"), own_formats=ADJUSTED_COLUMNS)]
        if again is not None:
            out += [text(msg("recovery.again", "**Complained again**, per remedy (share of complaints with a "
                             "remedy, adjusted as above):")),
                    _share_table(again)]
        left = self.remedies.get("churn")
        if left is not None:
            out += [text(msg("recovery.churn", "**Left within 180 days of the remedy**, per remedy (complaints whose "
                             "180 days are over, adjusted as above):")),
                    _share_table(left)]
        if self.paradox:
            out.append(text(msg("recovery.paradox_intro", "**The recovery paradox**: are customers whose complaint "
                                "was recovered well (remedy completed and satisfied at the revisit) more satisfied, "
                                "or more loyal, than comparable customers without a failure? Survey respondents "
                                "with a complaint in the 180 days before answering against those without, adjusted "
                                "for quarter, region and plan; on satisfaction and on churn separately.")))
            for k, p in self.paradox.items():
                fmt, diff = ("{:.2f}", "{:+.2f}") if k == "satisfaction" else ("{:.1%}", "{:+.1%}")
                c = ADJUSTED_COLUMNS
                out += [text(paradox_line(p)),
                        table(p.table, lambda s, f=fmt, g=diff: s.format(f, subset=list(c[:4]), na_rep="–")
                              .format(g, subset=list(c[4:]), na_rep="–"), own_formats=c)]
        return out


ADJUSTED_COLUMNS = ("mean", "adjusted", "ci_low", "ci_high", "difference", "diff_ci_low", "diff_ci_high")


def _share_table(frame: pd.DataFrame):
    """An adjusted_means table of a yes/no outcome as the page shows it: shares, and differences with a sign."""
    return table(frame, lambda s: s.format("{:.1%}", subset=list(ADJUSTED_COLUMNS[:4]))
                 .format("{:+.1%}", subset=list(ADJUSTED_COLUMNS[4:]), na_rep="–"), own_formats=ADJUSTED_COLUMNS)


def paradox_line(p: Paradox) -> str:
    """What the data support about the recovery paradox on one outcome, in one sentence."""
    if p.verdict == "too few" and p.outcome == "churned":
        return msg("recovery.paradox_few_churn", "Too few well-recovered complainants among the respondents "
                   "followed long enough to test the recovery paradox on churn.")
    if p.verdict == "too few":
        return msg("recovery.paradox_few", "Too few well-recovered complainants among the respondents to test the "
                   "recovery paradox on {outcome}.", outcome=term(p.outcome))
    if p.outcome == "churned":
        pp = dict(diff=100 * p.difference, lo=100 * p.ci[0], hi=100 * p.ci[1])
        key = {"higher": msg("recovery.churn_higher", "Recovered complainants left more often than customers "
                             "without a failure ({diff:+.1f} percentage points, 95 % interval {lo:+.1f} to {hi:+.1f}): no "
                             "recovery paradox on loyalty.", **pp),
               "lower": msg("recovery.churn_lower", "Recovered complainants left less often than customers "
                            "without a failure ({diff:+.1f} percentage points, 95 % interval {lo:+.1f} to {hi:+.1f}): a "
                            "recovery paradox on loyalty.", **pp),
               "no difference": msg("recovery.churn_same", "Recovered complainants left about as often as "
                                    "customers without a failure ({diff:+.1f} percentage points, 95 % "
                                    "interval {lo:+.1f} to {hi:+.1f}): no recovery paradox on loyalty.", **pp)}
        return key[p.verdict]
    return {"higher": msg("recovery.sat_higher", "Recovered complainants are more satisfied than customers "
                          "without a failure ({diff:+.2f}, 95 % interval {lo:+.2f} to {hi:+.2f}): a recovery "
                          "paradox on {outcome}.", diff=p.difference, lo=p.ci[0], hi=p.ci[1],
                          outcome=term(p.outcome)),
            "lower": msg("recovery.sat_lower", "Recovered complainants are less satisfied than customers without a "
                         "failure ({diff:+.2f}, 95 % interval {lo:+.2f} to {hi:+.2f}): recovery does not make up "
                         "for the failure on {outcome}.", diff=p.difference, lo=p.ci[0], hi=p.ci[1],
                         outcome=term(p.outcome)),
            "no difference": msg("recovery.sat_same", "Recovered complainants are as satisfied as customers without "
                                 "a failure ({diff:+.2f}, 95 % interval {lo:+.2f} to {hi:+.2f}): recovery makes up "
                                 "for the failure on {outcome}, no more.", diff=p.difference, lo=p.ci[0],
                                 hi=p.ci[1], outcome=term(p.outcome))}[p.verdict]


def recovery_analysis(tickets: pd.DataFrame, *, quarter: str, unit: str = "region", survey: pd.DataFrame | None = None,
                      customers: pd.DataFrame | None = None, standards: pd.DataFrame | None = None,
                      outcome: str = "overall_sat") -> Recovery | None:
    """Service recovery up to the end of ``quarter`` (tickets as known then): the revisit standard of the
    quarter's remedies per ``unit`` (the standards table's ``revisit_hours`` target, else 72 hours), the
    time-to-revisit curves, the remedies' adjusted effects (every complaint with a remedy so far) and, with the
    survey, the recovery paradox. None when the tickets carry no recovery data."""
    if not has_recovery(tickets):
        return None
    target = DEFAULT_REVISIT_HOURS
    if standards is not None and "kpi" in standards and (standards["kpi"] == "revisit_hours").any():
        target = float(standards.loc[standards["kpi"] == "revisit_hours", "target"].iloc[0])
    until = data_end(tickets)
    c = complaints(tickets)
    start, end = quarter_bounds(quarter) if quarter else (None, None)
    in_q = c if start is None else c[(c["recovered_at"] >= start) & (c["recovered_at"] < end)]
    by = unit if unit and unit in c else None
    has_remedy = chose_remedy(c)
    paradox = {}
    if survey is not None and "customer_id" in survey and "survey_date" in survey:
        paradox = recovery_paradox(survey, tickets, customers, outcome=outcome)
    return Recovery(quarter=quarter, unit=unit, target=target,
                    compliance=revisit_compliance(in_q, by, target, until),
                    curves=time_to_revisit(in_q, by, until, horizon=max(3 * target, 24.0), step=max(target / 36, 1.0)),
                    remedies=remedy_effects(tickets, customers=customers), paradox=paradox, complaints=int(len(c)),
                    with_remedy=int(has_remedy.sum()),
                    chosen=c.loc[has_remedy, "remedy"].astype(str).value_counts())
