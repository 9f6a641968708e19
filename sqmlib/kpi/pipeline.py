"""Quarter against quarter, and the pipeline of the KPI notebook: :func:`run_kpis` and its result."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import SQMArgumentError
from ..instruments import load as load_instrument
from ..moments import survey_moments, top_box_of
from ..moments.engines import check_engine
from ..pdca.pipeline import complaint_explanations, explanation_markdown
from ..periods import period_of, previous_quarter, quarter_bounds
from ..render import formats, plots
from ..render.messages import clauses, listed, msg, term
from ..results import Block, Result, figure, headline, table, text
from . import tickets as tickets_mod
from .complaints import (
    CategoryClassifier,
    Maturity,
    maturity,
    maturity_evidence,
    pareto,
)
from .control import NPSAlerts, imr_chart, nps_alerts, p_chart
from .panel import wave_change
from .recovery import Recovery, recovery_analysis
from .survey import kish_n, nps_ci, survey_kpis, survey_weight, weighted_nps, weighted_share
from .tickets import active_customers, standard_attainment, ticket_kpis


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

    NPS: difference of two independent NPS estimates, z test with the multinomial variances. In a panel
    (a ``role: panel`` column), the survey KPIs' changes pair the repeated respondents instead
    (:func:`sqmlib.kpi.panel.wave_change`: McNemar, paired t or cluster-robust z; columns ``test`` and
    ``repeated`` say which and how many). CSAT (the top
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
    panel = inst.panel if inst is not None and inst.panel in survey.columns and quarter else None

    def add(name, cur, before, p, higher_is_better=True, unit="", test=None):
        change = cur - before if np.isfinite(cur) and np.isfinite(before) else np.nan
        if test is not None:  # a panel: the test that pairs the repeated respondents, and how many there are
            p = test.p_value
        rows.append({"kpi": name, "current": cur, "previous": before, "change": change, "p_value": p,
                     "significant": bool(np.isfinite(p) and p < significance),
                     "better": bool(np.isfinite(change) and (change > 0) == higher_is_better) if np.isfinite(change) and change != 0 else None,
                     "unit": unit,
                     **({"test": test.test, "repeated": test.repeated} if test is not None else
                        {"test": "independent samples", "repeated": 0} if panel else {})})

    def paired(column, kind, transform):
        if not panel:
            return None
        return wave_change(transform(cur_s[column]), transform(prev_s[column]), cur_s[panel], prev_s[panel],
                           kind=kind)

    def two_prop(k1, n1, k2, n2):
        if min(n1, n2) == 0:
            return np.nan
        p = (k1 + k2) / (n1 + n2)
        se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
        return float(2 * stats.norm.sf(abs(k1 / n1 - k2 / n2) / se)) if se > 0 else np.nan

    weight = survey_weight(survey, inst)
    if weight is not None:  # sampling weights: weighted KPIs, tests on Kish's effective n
        _weighted_comparison(cur_s, prev_s, weight, top, boxes, inst, ces_unit, add, paired)
    elif "nps" in survey:
        a, b = nps_ci(cur_s["nps"]), nps_ci(prev_s["nps"])
        if b["n"]:
            se = np.sqrt(((a["promoters"] + a["detractors"] - (a["promoters"] - a["detractors"]) ** 2) / a["n"])
                         + ((b["promoters"] + b["detractors"] - (b["promoters"] - b["detractors"]) ** 2) / b["n"]))
            p = float(2 * stats.norm.sf(abs(a["nps"] - b["nps"]) / 100 / se))
        else:
            p = np.nan
        add("NPS", a["nps"], b["nps"], p, unit="points", test=paired("nps", "mean", _nps_score))
    if "overall_sat" in survey and weight is None:
        x1, x2 = cur_s["overall_sat"].dropna(), prev_s["overall_sat"].dropna()
        add(f"CSAT (top-{boxes}-box)", (x1 >= top).mean() if len(x1) else np.nan,
            (x2 >= top).mean() if len(x2) else np.nan,
            two_prop((x1 >= top).sum(), len(x1), (x2 >= top).sum(), len(x2)), unit="share",
            test=paired("overall_sat", "share", _at_least(top)))
    if "ces" in survey and weight is None:
        x1, x2 = cur_s["ces"].dropna(), prev_s["ces"].dropna()
        p = float(stats.ttest_ind(x1, x2, equal_var=False).pvalue) if min(len(x1), len(x2)) > 1 else np.nan
        add("CES", x1.mean(), x2.mean() if len(x2) else np.nan, p, unit=ces_unit,
            test=paired("ces", "mean", lambda x: x.astype(float)))
        easy, ces_boxes = _top_boxes(inst, "ces")
        add(f"CES easy (top-{ces_boxes}-box)", (x1 >= easy).mean() if len(x1) else np.nan,
            (x2 >= easy).mean() if len(x2) else np.nan,
            two_prop((x1 >= easy).sum(), len(x1), (x2 >= easy).sum(), len(x2)), unit="share",
            test=paired("ces", "share", _at_least(easy)))
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
                                       "unit"] + (["test", "repeated"] if panel else []))


def _nps_score(x: pd.Series) -> pd.Series:
    """Each answer's part in the NPS: promoter +1, passive 0, detractor −1 (missing where not answered)."""
    return ((x >= 9).astype(float) - (x <= 6).astype(float)).where(x.notna())


def _at_least(cut: float):
    """Answers at or above ``cut`` as 1/0 (missing where not answered): a top-box share's indicator."""
    return lambda x: (x >= cut).astype(float).where(x.notna())


def _kpi_rows(styler, comparison: pd.DataFrame):
    """Each KPI's current and previous value and change as the summary's tiles show them (NPS ``+34.9``, shares
    ``29.2%`` with the change in percentage points, means with two decimals): one rule for every page."""
    for i, r in comparison.iterrows():
        kpi, unit = r["kpi"], r["unit"]
        styler = styler.format(lambda v, k=kpi, u=unit: formats.kpi_value(v, k, u),
                               subset=pd.IndexSlice[[i], ["current", "previous"]])
        styler = styler.format(lambda v, k=kpi, u=unit: formats.kpi_change(v, k, u),
                               subset=pd.IndexSlice[[i], ["change"]])
    return styler


def _weighted_comparison(cur_s, prev_s, weight, top, boxes, inst, ces_unit, add, paired) -> None:
    """The survey KPIs of :func:`quarter_comparison` with sampling weights: weighted NPS, CSAT, CES and CES
    easy in each quarter; the change tested by a z test on Kish's effective n of each quarter (unpooled
    variances; for CES the weighted variance). A panel's paired tests stay unweighted."""
    def z_p(diff, var):
        return float(2 * stats.norm.sf(abs(diff) / np.sqrt(var))) if var > 0 else np.nan

    if "nps" in cur_s:
        a, b = weighted_nps(cur_s["nps"], cur_s[weight]), weighted_nps(prev_s["nps"], prev_s[weight])
        var = sum((r["promoters"] + r["detractors"] - (r["promoters"] - r["detractors"]) ** 2) / r["n_eff"]
                  for r in (a, b)) if b["n_eff"] and a["n_eff"] else np.nan
        add("NPS", a["nps"], b["nps"], z_p((a["nps"] - b["nps"]) / 100, var) if var == var else np.nan,
            unit="points", test=paired("nps", "mean", _nps_score))

    def shares(column, cut, name, test):
        hit = [_at_least(cut)(s[column]) for s in (cur_s, prev_s)]
        (p1, _, _, n1), (p2, _, _, n2) = (weighted_share(h, s[weight]) for h, s in zip(hit, (cur_s, prev_s)))
        var = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2 if n1 and n2 else np.nan
        add(name, p1, p2 if n2 else np.nan, z_p(p1 - p2, var) if var == var else np.nan, unit="share", test=test)

    if "overall_sat" in cur_s:
        shares("overall_sat", top, f"CSAT (top-{boxes}-box)", paired("overall_sat", "share", _at_least(top)))
    if "ces" in cur_s:
        means = []
        for s in (cur_s, prev_s):
            ok = s["ces"].notna() & s[weight].notna()
            x, w = s["ces"][ok].to_numpy(float), s[weight][ok].to_numpy(float)
            if len(x) and w.sum() > 0:
                m = np.average(x, weights=w)
                means.append((m, np.average((x - m) ** 2, weights=w), kish_n(w)))
            else:
                means.append((np.nan, np.nan, 0.0))
        (m1, v1, n1), (m2, v2, n2) = means
        var = v1 / n1 + v2 / n2 if n1 > 1 and n2 > 1 else np.nan
        add("CES", m1, m2, z_p(m1 - m2, var) if var == var else np.nan, unit=ces_unit,
            test=paired("ces", "mean", lambda x: x.astype(float)))
        easy, ces_boxes = _top_boxes(inst, "ces")
        shares("ces", easy, f"CES easy (top-{ces_boxes}-box)", paired("ces", "share", _at_least(easy)))


# ---------------------------------------------------------------------------------------------------------
# the pipeline of the KPI notebook
# ---------------------------------------------------------------------------------------------------------
def median_response_by_period(tickets: pd.DataFrame, freq: str = "M") -> pd.Series:
    """Median hours to the first response to complaints, per period."""
    comp = tickets_mod.complaints(tickets)
    hours = tickets_mod.response_hours(comp)
    return hours.groupby(period_of(comp["opened_at"], freq)).median()


def table_name(name: str) -> str:
    """A data folder's table named for a reader."""
    return {"customers": msg("tables.customers", "customers"), "interactions": msg("tables.interactions", "interactions"),
            "standards": msg("tables.standards", "standards"), "management": msg("tables.management", "management"),
            "survey": msg("tables.survey", "survey")}.get(name, name)


def no_alert() -> str:
    """The sentence for a quarter without NPS alerts (a finding and a line of the monitoring section)."""
    return msg("kpi.no_alert", "No unit triggered the NPS alert rule.")


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
    complaint_surges: list = dataclasses.field(default_factory=list)  # see complaint_surges()
    recovery: dict = dataclasses.field(default_factory=dict)  # service recovery (Recovery.metrics())


def complaint_surges(per_quarter: pd.DataFrame, quarter: str, *, min_rise: float = 0.5,
                     alpha: float = 0.05) -> list[dict]:
    """Units whose complaints rose from the previous quarter to ``quarter`` by at least ``min_rise`` (a share)
    and significantly: with equally long quarters and the unit's customer base about the same, the count of the
    two quarters together splits evenly under no change, so the current count is tested against Binomial(total,
    ½) (the conditional test of two Poisson counts, one-sided), Holm-adjusted over the units. ``per_quarter``:
    complaints per quarter (rows) and unit (columns). Largest rise first."""
    from scipy import stats

    prev = previous_quarter(quarter) if quarter else ""
    if not quarter or quarter not in per_quarter.index or prev not in per_quarter.index:
        return []
    rows = []
    for unit in per_quarter.columns:
        cur, before = int(per_quarter.loc[quarter, unit]), int(per_quarter.loc[prev, unit])
        if before > 0 and cur >= (1 + min_rise) * before:
            p = float(stats.binomtest(cur, cur + before, 0.5, alternative="greater").pvalue)
            rows.append({"unit": unit, "current": cur, "previous": before, "rise": cur / before - 1, "p_value": p})
    if not rows:
        return []
    from statsmodels.stats.multitest import multipletests

    # Holm over every unit looked at: units that did not rise enough count as tested with p = 1
    p_all = [r["p_value"] for r in rows] + [1.0] * (len(per_quarter.columns) - len(rows))
    adjusted = multipletests(p_all, method="holm")[1][:len(rows)]
    out = [dict(r, p_adj=float(a), quarter=quarter, previous_quarter=prev) for r, a in zip(rows, adjusted)
           if a < alpha]
    return sorted(out, key=lambda r: -r["rise"])


def surge_line(surge: Mapping, unit: str) -> str:
    """A complaint surge (:func:`complaint_surges`) in one line, in the reader's language."""
    return msg("kpi.complaint_surge", "**Complaints surge in {name}** ({unit}): {current:,} in {quarter} against "
               "{previous:,} in {previous_quarter} ({rise:+.0%}; p {p}).", name=term(surge["unit"]), unit=term(unit),
               current=surge["current"], quarter=surge["quarter"],
               previous=surge["previous"], previous_quarter=surge["previous_quarter"], rise=surge["rise"],
               p=formats.p_value(surge["p_adj"]))


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
    weighted: tuple = ()  # with sampling weights: (weight column, respondents, Kish's effective n) of the quarter
    recovery: Recovery | None = None  # service recovery, when the tickets carry remedies and revisits
    explanations: pd.DataFrame | None = None  # where the complaints moved since the previous quarter (drill-down)
    examples: Mapping | None = None  # explanation rank -> example complaint texts

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
            out.append(msg("kpi.alert", "Alert: {unit} ({unit_type}): NPS {nps:+.0f} against a benchmark of "
                           "{benchmark:+.0f} from {first} to {last} ({periods} periods).", unit=term(a.unit),
                           unit_type=term(a.unit_type), nps=a.nps, benchmark=a.benchmark, first=term(a.first_period),
                           last=term(a.last_period), periods=a.periods))
        if not len(self.monitor.alerts):
            out.append(no_alert())
        out += self.design_notes()
        if self.causes is not None:
            out.append(msg("kpi.top_cause", "Top complaint cause: {cause} ({share:.0%}).", cause=term(self.causes.index[0]),
                           share=self.causes["share"].iloc[0]))
        if self.recovery is not None:
            out += self.recovery.findings()
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
            maturity=lv.levels["level"].to_dict() if lv is not None else {}, unit=self.unit,
            complaint_surges=self.surges(), recovery=self.recovery.metrics() if self.recovery is not None else {})

    def surges(self) -> list[dict]:
        """Units whose complaints surged this quarter (:func:`complaint_surges`)."""
        if self.complaints_per_quarter is None or not self.quarter:
            return []
        return complaint_surges(self.complaints_per_quarter, self.quarter)

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
        if self.recovery is not None:
            out.update(self.recovery.tables())
        return out

    def design_notes(self) -> list[str]:
        """How the survey's design shaped the KPIs: sampling weights, a panel's paired comparisons."""
        out = []
        if self.weighted:
            column, n, n_eff = self.weighted
            out.append(msg("kpi.weighted", "Weighted by {column}: NPS, CSAT and CES count each respondent by their "
                           "sampling weight (effective n {n_eff:,.0f} of {n:,} respondents); intervals and tests use "
                           "the effective n.", column=term(column), n_eff=n_eff, n=n))
        if "test" in self.comparison.columns:  # a panel: say how the waves were compared
            paired = self.comparison[self.comparison["test"].ne("independent samples")
                                     & self.comparison["test"].notna()]
            if len(paired):
                out.append(msg("kpi.panel", "A panel: the changes since {previous} pair the {n:,} people who "
                               "answered in both quarters ({tests}).", previous=term(previous_quarter(self.quarter)),
                               n=int(paired["repeated"].max()), tests=listed(dict.fromkeys(paired["test"]))))
        return out

    def sections(self) -> dict[str, list[Block]]:
        skipped = text(msg("kpi.skipped", "Skipped: needs the interactions, customers and standards tables."))
        sample = ([text(msg("kpi.absent", "**No {tables} table in the data folder**: only the survey KPIs and the NPS "
                            "alerts are shown; ticket, standard and maturity sections are skipped.",
                            tables=listed(table_name(t) for t in self.absent)))]
                  if self.absent else [])
        sample += [text(note) for note in self.design_notes()]
        fmt = {"current": "{:.3f}", "previous": "{:.3f}", "change": "{:+.3f}", "p_value": "{:.3g}"}
        if not self.quarter:  # a one-off study
            levels = self.comparison[["kpi", "current", "unit"]]
            by_unit = ([text(msg("kpi.per_unit_undated", "**KPIs per {unit}**", unit=term(self.unit))), table(self.per_unit, lambda s: s.format(precision=3))]
                       if self.unit else [])
            glance = [table(levels, lambda s: s.format({"current": "{:.3f}"}, na_rep="–").hide(axis="index")),
                      text(msg("kpi.undated", "The survey has no dates: the KPIs cover every respondent, with no "
                               "period to compare with.")), *by_unit]
            none = text(msg("kpi.no_monitoring_undated", "Monitoring over time needs survey dates; this survey has "
                            "none."))
            return {"sample": sample, "glance": glance, "monitor": [none],
                    "complaints": [skipped], "maturity": [skipped], "recovery": [skipped]}
        glance = [table(self.comparison, lambda s: _kpi_rows(s.format(fmt, na_rep="–"), self.comparison).map(
                      lambda v: "background-color: #c6efce" if v is True else (
                          "background-color: #ffc7ce" if v is False else ""), subset=["better"]).hide(axis="index"),
                        own_formats=("current", "previous", "change")),
                  text(msg("kpi.compared", "Compared with {previous}; `significant` at the 5 % level.",
                           previous=term(previous_quarter(self.quarter)))),
                  text(msg("kpi.per_unit", "**KPIs per {unit}, {quarter}**", unit=term(self.unit),
                           quarter=term(self.quarter))),
                  table(self.per_unit, lambda s: s.format(precision=3).background_gradient(
                      subset=[c for c in ("nps", "csat") if c in self.per_unit.columns][:1], cmap=plots.gradient("RdYlGn")))]
        table_, alerts = self.monitor
        if not len(table_):
            monitor = [text(msg("kpi.no_nps_segment", "No NPS monitoring: the survey has no NPS question or no "
                                "segment column.") if "nps" in self.per_unit.columns else
                            msg("kpi.no_nps", "No NPS monitoring: the survey has no NPS question."))]
        else:
            monitor = [figure(lambda: plots.nps_monitor(table_, self.unit, alerts, title=f"NPS per "
                              f"{'month' if self.freq == 'M' else 'quarter'} and {self.unit}"), "nps monitor")]
        if not len(table_):
            pass
        elif len(alerts):
            monitor += [text(msg("kpi.alerts", "**{n} alert(s)**: NPS more than {drop:.0%} below the unit's benchmark "
                                 "for {k} or more consecutive periods", n=len(alerts), drop=self.alert_drop,
                                 k=self.alert_periods)),
                        table(alerts, lambda s: s.format(precision=1).hide(axis="index"))]
        else:
            monitor.append(text(no_alert()))
        if self.charts:
            broken = self.breaks
            monitor += [figure(lambda: plots.control_chart(self.charts["first-contact resolution"],
                                                           "First-contact resolution (p-chart)", "share resolved"),
                               "first-contact resolution"),
                        figure(lambda: plots.control_chart(self.charts["median response"], "Median first response "
                                                           "to complaints (individuals chart)", "hours"),
                               "median response"),
                        text(msg("kpi.rule_breaks", "{n} point(s) break a Western Electric rule:", n=len(broken))),
                        table(broken[["chart", "label", "value", "centre", "rule1", "rule2", "rule3", "rule4"]],
                              lambda s: s.format(precision=3).hide(axis="index"))]
        if self.has_tickets:
            pc, pdep = self.causes, self.departments
            confused = clauses(msg("kpi.confused_pair", "{true} → {predicted} ({n})", true=term(a), predicted=term(b),
                                   n=n) for a, b, n in self.classifier.most_confused())
            complaints = [
                text(msg("kpi.classified", "{n} complaint(s) without a category were classified from their text "
                         "(cross-validated accuracy on labelled tickets {accuracy:.1%}). Most often confused (true → "
                         "predicted): {pairs}.", n=self.predicted, accuracy=self.classifier.accuracy, pairs=confused)),
                table(self.classifier.confusion, lambda s: s.background_gradient(cmap=plots.gradient("Blues"), axis=None)),
                figure(lambda: plots.pareto_chart(pc, f"Complaint causes, {self.quarter}"), "complaint causes"),
                table(pc, lambda s: s.format({"share": "{:.1%}", "cumulative_share": "{:.1%}"})),
                figure(lambda: plots.pareto_chart(pdep, f"Complaints by department, {self.quarter}"), "departments"),
                text(msg("kpi.severity_mix", "**Severity mix per unit**")),
                table(self.severity_mix, lambda s: s.format("{:.1%}")),
                text(msg("kpi.complaints_per_quarter", "**Complaints per quarter and unit**")),
                table(self.complaints_per_quarter)] + [
                text(surge_line(r, self.unit)) for r in self.surges()]
            if self.explanations is not None and len(self.explanations):
                complaints += [text(msg("kpi.where_moved", "**Where the complaints moved since the previous quarter** "
                                        "(the segments that explain the change, with complaints of theirs; the PDCA "
                                        "page follows them up):")),
                               text(explanation_markdown(self.explanations, self.examples or {}, top=2))]
            lv = self.maturity_levels
            maturity = [
                table(lv.levels, lambda s: s.background_gradient(subset=["level"], cmap=plots.gradient("RdYlGn"), vmin=0, vmax=3)),
                text(msg("kpi.maturity_levels", "Level 1 basic standards (are the rules followed?), level 2 process "
                         "optimisation (first-contact resolution, speed, improving), level 3 value co-creation (NPS, "
                         "satisfaction, retention). A unit reaches a level when it meets every criterion of that level "
                         "and the ones below.")),
                table(lv.evidence.pivot(index=["level", "criterion", "rule"], columns="unit", values="value"),
                      lambda s: s.format(precision=3))]
        else:
            complaints = maturity = [skipped]
        if self.recovery is not None:
            recovery = self.recovery.blocks()
        elif self.has_tickets:
            recovery = [text(msg("kpi.no_recovery", "No service recovery data: the interactions have no remedy, "
                                 "recovered_at and revisit_at columns (see data/README.md)."))]
        else:
            recovery = [skipped]
        return {"sample": sample, "glance": glance, "monitor": monitor, "complaints": complaints,
                "maturity": maturity, "recovery": recovery}


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
    weight = survey_weight(folder.survey, folder.instrument) if folder.has("survey") else None
    result = _run_kpis(folder, quarter=quarter, unit=unit, freq=freq, alert_drop=alert_drop,
                       alert_periods=alert_periods, engine=engine)
    if weight is None:
        return result
    s = folder.survey_of(result.quarter) if result.quarter else folder.survey
    return dataclasses.replace(result, weighted=(weight, len(s), kish_n(s[weight].dropna())))


def _run_kpis(folder, *, quarter: str, unit: str, freq: str, alert_drop: float, alert_periods: int,
              engine: str) -> KPIResult:
    """:func:`run_kpis` without its checks and the weights' statement."""
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
    # shares of cases meeting each standard (not the measure itself: the column says so)
    att_wide.columns = [f"share_met_{k}{'/' + s if s else ''}" for k, s in att_wide.columns]
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
    rec = recovery_analysis(tickets, quarter=q, unit=unit, survey=survey, customers=customers,
                            standards=data.standards)
    explanations = examples = None
    if (per_quarter["quarter"] == prev_q).any():
        explanations, examples = complaint_explanations(per_quarter.assign(quarter=per_quarter["quarter"].astype(str)),
                                                        q, prev_q)
    return KPIResult(recovery=rec, explanations=explanations, examples=examples, quarter=q, unit=unit, freq=freq, alert_drop=alert_drop, alert_periods=alert_periods,
                     absent=absent, comparison=comparison, per_unit=per_unit, monitor=monitor, attainment=att,
                     charts={"first-contact resolution": fcr_chart, "median response": resp_chart}, classifier=clf,
                     predicted=int(filled["predicted"].sum()), causes=pc, departments=pdep, severity_mix=sev,
                     complaints_per_quarter=pd.crosstab(per_quarter["quarter"], per_quarter[unit]),
                     maturity_levels=levels)
