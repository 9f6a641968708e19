"""The quarterly summary: one page for the quality manager, computed from the other analyses' typed metrics.

:func:`run_summary` takes the metrics of the audit, reliability, gap, driver, churn and KPI analyses of this
quarter (and, when there is one, of the previous quarter's report) as the dataclasses their ``metrics()``
return, plus the data folder for the headline comparison, and gives the headline tiles, the findings, what
changed since the previous report and the list of actions. :func:`read_report` reads a report folder's
``metrics.json`` files back into those dataclasses, so a renamed metric fails here, in a unit test, not in a
report build.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .audit import AuditMetrics
from .churn import ChurnMetrics
from .drivers import DriverMetrics
from .errors import SQMArgumentError, SQMReportError
from .gaps import GapMetrics, gap_trend, servqual_gaps
from .render import plots
from .kpi import KPIMetrics, quarter_comparison, survey_kpis
from .paths import REPORTS_DIR, resolve
from .periods import previous_quarter
from .reliability import ReliabilityMetrics
from .sem import ChainMetrics
from .results import Block, Result, bullets, figure, headline, table, text

NOTEBOOK = "06_quarterly_summary"
METRICS = {
    "00_data_audit": AuditMetrics,
    "01_survey_reliability": ReliabilityMetrics,
    "02_gap_analysis": GapMetrics,
    "03_driver_regression": DriverMetrics,
    "04_churn_prediction": ChurnMetrics,
    "05_kpi_monitoring": KPIMetrics,
    "07_service_profit_chain": ChainMetrics,
}
MATURITY_MEANING = {0: "basic standards not yet met", 1: "basic standards met", 2: "processes optimised",
                    3: "creating value with customers"}


def parse_metrics(stem: str, doc: Mapping[str, Any]):
    """The typed metrics of one notebook from its ``metrics.json`` document (``{"metrics": {...}, ...}``).

    Raises
    ------
    SQMReportError
        The document's figures do not match the dataclass (a metric was renamed, added or removed).
    """
    cls = METRICS.get(stem)
    if cls is None:
        raise SQMArgumentError(f"no metrics class for {stem!r}; known: {', '.join(METRICS)}")
    if set(doc.get("metrics", {})) == {"unavailable"}:  # the data could not support this analysis
        return None
    try:
        return cls(**doc["metrics"])
    except TypeError as exc:
        raise SQMReportError(f"{stem}/metrics.json does not match {cls.__name__}: {exc}") from None


def read_report(folder: str | Path, *, strict: bool = True) -> dict[str, Any]:
    """The typed metrics of every analysis in a report folder: notebook stem → metrics dataclass, or None where
    that notebook's ``metrics.json`` is absent. With ``strict=False`` a file that does not match (e.g. a report
    built by an older version) counts as absent."""
    out = {}
    for stem in METRICS:
        path = Path(folder) / stem / "metrics.json"
        if not path.exists():
            out[stem] = None
            continue
        try:
            out[stem] = parse_metrics(stem, json.loads(path.read_text(encoding="utf-8")))
        except SQMReportError:
            if strict:
                raise
            out[stem] = None
    return out


def read_previous(reports_dir: str | Path | None, quarter: str) -> dict[str, Any]:
    """The typed metrics of the previous quarter's report under ``reports_dir`` (default ``reports/``); every
    entry None when there is none (or it was built by a version whose metrics differ)."""
    if not quarter:
        return {stem: None for stem in METRICS}
    return read_report(resolve(reports_dir, REPORTS_DIR) / previous_quarter(quarter), strict=False)


@dataclass(frozen=True)
class SummaryMetrics:
    """Key figures of :func:`run_summary` (``metrics.json`` of the summary notebook)."""

    headlines: dict
    todo: list
    missing_inputs: list
    previous_report_found: bool
    since_previous_report: list


def _tile_html(r: Mapping, prev: str) -> str:
    fmt = "{:+.1f}" if r["unit"] == "points" and r["kpi"] == "NPS" else (
        "{:.1%}" if r["unit"] == "share" else "{:+.2f}" if "gap" in r["kpi"] else "{:.2f}")
    cur = fmt.format(r["current"]) if np.isfinite(r["current"]) else "–"
    if np.isfinite(r["change"]):
        if r["unit"] == "share":
            ch = f"{100 * r['change']:+.1f} pts"
        elif r["kpi"] == "NPS":
            ch = f"{r['change']:+.1f}"
        else:
            ch = f"{r['change']:+.2f}"
        colour = "#1e7b34" if r["better"] else "#b3261e"
        sig = "significant" if r["significant"] else "within noise"
        sub = f"<span style='color:{colour}'>{ch}</span> vs {html.escape(prev)} ({sig})"
    else:
        sub = "no previous quarter" if prev else "all respondents"
    return (f"<div style='display:inline-block;background:#f3f6fa;border-radius:6px;padding:8px 14px;margin:4px;"
            f"min-width:170px'><div style='font-size:12px;color:#555'>{html.escape(r['kpi'])}</div>"
            f"<div style='font-size:24px;font-weight:600'>{cur}</div><div style='font-size:11px'>{sub}</div></div>")


@dataclass(frozen=True)
class SummaryResult(Result):
    """The quarterly summary: headline tiles, findings, customers at risk, alerts and maturity, changes since
    the previous report and what to do next."""

    title = "Quarterly summary"
    notebook = "06_quarterly_summary"

    quarter: str
    tiles: pd.DataFrame
    current: Mapping[str, Any] = field(default_factory=dict)
    previous: Mapping[str, Any] = field(default_factory=dict)

    design: str = "servqual"  # the instrument's design: "servqual", "three-column" or "servperf"
    study: str = ""  # the instrument's title (named on a one-off study's summary)
    trend: pd.DataFrame | None = None  # NPS and CSAT per quarter up to this one (index: quarter)

    @property
    def previous_quarter(self) -> str:
        return previous_quarter(self.quarter) if self.quarter else ""

    @property
    def period(self) -> str:
        """How the text names the period: "this quarter", or "this study" for a survey without dates."""
        return "this quarter" if self.quarter else "this study"

    @property
    def missing(self) -> list[str]:
        return [s for s, m in self.current.items() if m is None]

    def shortfalls(self) -> list[str]:
        """Largest gaps, top drivers and the reliability caveat, as Markdown lines."""
        lines = []
        g, d, r = (self.current.get(k) for k in ("02_gap_analysis", "03_driver_regression", "01_survey_reliability"))
        if g and g.mode == "servperf":
            lines.append("**Lowest-rated items** (perceptions only; the survey asks no expectations):")
            lines += [f"- {f}" for f in g.findings[:3]] or ["- none"]
        elif g:
            lines.append("**Largest gaps** (perception below expectation):")
            lines += [f"- {f}" for f in g.findings[:3]] or ["- none significant"]
        if d:
            top = d.top_drivers[:3]
            lines.append(f"\n**Top drivers of {d.outcome}**: " + ", ".join(f"{t} ({d.lmg_share[t]:.0f} %)" for t in top)
                         + ".")
            if d.fix_first:
                lines.append(f"Fix first (important and below average): {', '.join(d.fix_first)}.")
        ch = self.current.get("07_service_profit_chain")
        if ch:
            idx = ch.index
            line = (f"\n**Service-profit chain**: {ch.target} index {idx[ch.target]:.1f} of 100"
                    + (f", satisfaction {idx['Satisfaction']:.1f}" if "Satisfaction" in idx and ch.target != "Satisfaction"
                       else "") + ".")
            if ch.lever:
                line += (f" The lever: **{ch.lever}** (one index point moves {ch.target} by "
                         f"{ch.ipma[ch.lever]['importance']:.2f}; it performs at {ch.ipma[ch.lever]['performance']:.1f})"
                         + (f", worth an expected {ch.retained_value[ch.lever]:,.0f} in retained customer value for "
                            "+5 points" if ch.retained_value.get(ch.lever) is not None else "") + ".")
            lines.append(line)
        if r:
            low = [k.split(":")[1] for k, v in r.alpha.items() if k.startswith("P:") and v < 0.7]
            lines.append("\nThe survey scales are reliable (every perception α ≥ .70)." if not low else
                         f"\nRead with care: the perception scales of {', '.join(low)} have α below .70.")
        return lines

    def _churn(self) -> ChurnMetrics | None:
        c = self.current.get("04_churn_prediction")
        return None if c is None or c.skipped else c

    def at_risk(self) -> str:
        c = self._churn()
        if c is None:
            return "Churn results are not available."
        return (f"The churn model (cross-validated ROC-AUC {c.cv_auc:.2f}) scores every active customer. Contacting "
                f"the **{c.to_contact:,}** customers above the profit-maximising threshold puts an expected "
                f"**{c.expected_loss_to_contact:,.0f}** of customer value at stake among them; across all active "
                f"customers the expected loss is {c.expected_loss_all:,.0f}. The list is in "
                "04_churn_prediction/risk_list.xlsx."
                + (f" The service-quality dimension churn depends on most: **{c.top_quality_driver}**."
                   if c.top_quality_driver else ""))

    def alert_lines(self) -> list[str]:
        k = self.current.get("05_kpi_monitoring")
        if not k:
            return []
        if not k.alerts:
            return [f"No NPS alert {self.period}."] if self.quarter else []
        return [f"- **Alert: {a['unit']}** ({a['unit_type']}): NPS {a['nps']:+.0f} against a benchmark of "
                f"{a['benchmark']:+.0f} from {a['first_period']} to {a['last_period']} ({a['periods']} periods)."
                for a in k.alerts]

    def maturity_table(self) -> pd.DataFrame | None:
        k = self.current.get("05_kpi_monitoring")
        if not k or not k.maturity:
            return None
        levels = pd.Series(k.maturity, name="maturity level").to_frame()
        levels["meaning"] = levels["maturity level"].map(MATURITY_MEANING)
        return levels

    def top_causes(self) -> str:
        k = self.current.get("05_kpi_monitoring")
        if not k or not k.pareto_categories_top3:
            return ""
        # metrics.json stores dicts with sorted keys: order by share again
        top3 = ", ".join(f"{c} ({v:.0%})" for c, v in sorted(k.pareto_categories_top3.items(), key=lambda kv: -kv[1]))
        return f"Top complaint causes: {top3}."

    def since_previous(self) -> list[str]:
        """What changed since the previous quarter's report (empty without one)."""
        cur, before, prev = self.current, self.previous, self.previous_quarter
        changes = []
        d, g, k = cur.get("03_driver_regression"), cur.get("02_gap_analysis"), cur.get("05_kpi_monitoring")
        if before.get("03_driver_regression") and d:
            old_top, new_top = before["03_driver_regression"].top_drivers, d.top_drivers
            changes.append(f"Top driver: {old_top[0]} in {prev}, {new_top[0]} now." if old_top[0] != new_top[0]
                           else f"The top driver is still {new_top[0]}.")
        if before.get("02_gap_analysis") and g:
            old_g, new_g = before["02_gap_analysis"].dimension_gap, g.dimension_gap
            moved = {k_: new_g[k_] - old_g[k_] for k_ in new_g if k_ in old_g}
            if moved:
                worst = min(moved, key=moved.get)
                changes.append(f"The dimension gap that worsened most since {prev}: {worst} ({moved[worst]:+.2f}).")
        if before.get("05_kpi_monitoring") and k:
            old_a = {a["unit"] for a in before["05_kpi_monitoring"].alerts}
            new_a = {a["unit"] for a in k.alerts}
            if new_a - old_a:
                changes.append(f"New alerts: {', '.join(sorted(new_a - old_a))}.")
            if old_a - new_a:
                changes.append(f"Alerts cleared: {', '.join(sorted(old_a - new_a))}.")
        return changes

    def todo(self) -> list[str]:
        """What to do next, most urgent first."""
        cur = self.current
        k, d, g, c = (cur.get("05_kpi_monitoring"), cur.get("03_driver_regression"), cur.get("02_gap_analysis"),
                      self._churn())
        todo = []
        if k and k.alerts:
            for a in k.alerts:
                lvl = k.maturity.get(a["unit"])
                todo.append(f"Investigate **{a['unit']}** now: its NPS has been far below its benchmark for "
                            f"{a['periods']} periods"
                            + (f" and it does not meet the basic service standards (maturity level {lvl})."
                               if lvl == 0 else "."))
        if d and d.fix_first:
            todo.append(f"Improve **{d.fix_first[0]}**: it moves {d.outcome} most among the dimensions performing "
                        "below average.")
        if g and g.concentrate_here:
            todo.append(f"Concentrate on items {', '.join(g.concentrate_here[:4])} (important, performing below "
                        "average).")
        if c and c.to_contact:
            todo.append(f"Contact the {c.to_contact:,} highest-risk customers with a retention offer.")
        t = self.tiles
        worse = t[(t["significant"]) & (t["better"] == False)]  # noqa: E712
        if len(worse):
            todo.append(f"Significant deteriorations {self.period}: " + ", ".join(worse["kpi"]) + ".")
        return todo

    def findings(self) -> list[str]:
        return self.todo() or [f"Nothing urgent {self.period}."]

    def metrics(self) -> SummaryMetrics:
        return SummaryMetrics(
            headlines=self.tiles.set_index("kpi")[["current", "previous", "change", "p_value",
                                                   "significant"]].to_dict("index"),
            todo=self.todo(), missing_inputs=self.missing,
            previous_report_found=any(v is not None for v in self.previous.values()),
            since_previous_report=self.since_previous())

    def headline(self) -> list[dict]:
        t = self.tiles.set_index("kpi")
        nps = t.loc["NPS"] if "NPS" in t.index else None
        k = self.current.get("05_kpi_monitoring")
        out = [headline("NPS", float(nps["current"]), "{:+.1f}") if nps is not None else None,
               headline("NPS change", float(nps["change"]), "{:+.1f}")
               if nps is not None and np.isfinite(nps["change"]) else None,
               headline("Alerts", len(k.alerts)) if k else None,
               headline("Actions", len(self.todo()))]
        return [h for h in out if h is not None]

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"headlines": self.tiles}

    def charts(self) -> list[Block]:
        """The summary's charts: the KPI trend over the quarters, the gap per dimension with intervals, the units
        against the NPS alert rule (each where its data exist)."""
        out = []
        if self.trend is not None and len(self.trend) > 1 and self.trend.notna().any().any():
            out.append(figure(lambda: plots.kpi_trend_chart(self.trend, self.quarter), "kpi trend"))
        g = self.current.get("02_gap_analysis")
        if g and g.dimension_gap:
            table_ = pd.DataFrame([{"level": "dimension", "name": d, "gap": v, "ci_low": g.dimension_ci[d][0],
                                    "ci_high": g.dimension_ci[d][1]} for d, v in g.dimension_gap.items()])
            out.append(figure(lambda: plots.dimension_gaps(table_), "dimension gaps"))
        k = self.current.get("05_kpi_monitoring")
        if k and k.unit and any("nps" in v for v in k.per_unit.values()):
            nps = pd.Series({u: v.get("nps") for u, v in k.per_unit.items()}, dtype=float)
            alerted = {str(a["unit"]) for a in k.alerts}
            out.append(figure(lambda: plots.unit_alert_chart(nps, alerted, k.unit), "units and alerts"))
        return out

    def tiles_html(self) -> str:
        return "".join(_tile_html(r, self.previous_quarter) for r in self.tiles.to_dict("records"))

    def sections(self) -> dict[str, list[Block]]:
        head = [text(f"# Service quality, {self.quarter}: the summary" if self.quarter else
                     f"# {self.study or 'Service-quality study'}: the summary")]
        if not self.quarter:
            head.append(text("*A one-off study (the survey has no dates): every respondent, no trends or period "
                             "comparisons.*"))
        if self.missing:
            head.append(text(f"*Not available for {self.period} (run them first): {', '.join(self.missing)}.*"))
        lines = self.shortfalls()
        alerts = [text("\n".join(self.alert_lines()))] if self.alert_lines() else []
        mat = self.maturity_table()
        if mat is not None:
            alerts.append(table(mat, lambda s: s.background_gradient(subset=["maturity level"], cmap="RdYlGn",
                                                                    vmin=0, vmax=3)))
        if self.top_causes():
            alerts.append(text(self.top_causes()))
        changes = self.since_previous()
        todo = self.todo()
        return {
            "title": head,
            "tiles": [Block("html", self.tiles_html())],
            "charts": self.charts() or [text("No charts: they need quarters, gaps or KPIs per unit.")],
            "shortfalls": [text("\n".join(lines) if lines else "Gap and driver results are not available.")],
            "risk": [text(self.at_risk())],
            "alerts": alerts or [text("No alerts or maturity levels: they need survey dates (alerts) and the "
                                      "interactions, customers and standards tables (maturity)."
                                      if not self.quarter else "No alerts or maturity levels are available.")],
            "since": [text(bullets(changes) if changes else
                           f"No report for {self.previous_quarter} was found: the comparison above is computed from "
                           "the data." if self.quarter else "A one-off study: there is no earlier report to compare "
                           "with.")],
            "todo": [text("\n".join(f"{i}. {t}" for i, t in enumerate(todo, 1)) if todo else
                          f"Nothing urgent {self.period}.")],
        }


def headline_tiles(folder, quarter: str) -> pd.DataFrame:
    """The headline KPIs of ``quarter`` against the previous quarter (:func:`sqmlib.kpi.quarter_comparison`),
    with the overall gap (P − E) and its change second when the survey has expectations."""
    data = folder.until(quarter) if quarter else folder
    clean = data.without_careless()  # for gaps, as the gap analysis; KPIs use every answer, as the KPI monitor
    comp = quarter_comparison(data.survey, quarter, interactions=data.interactions, customers=data.customers,
                              instrument=folder.instrument)
    rows = comp.to_dict("records")
    if folder.instrument.has_expectations and not quarter:  # a one-off study: the overall gap, no change
        t = servqual_gaps(clean.survey, folder.instrument)
        o = t[t["level"] == "overall"].iloc[0]
        rows.insert(1, {"kpi": "Overall gap (P − E)", "current": o["gap"], "previous": np.nan, "change": np.nan,
                        "p_value": np.nan, "significant": False, "better": None, "unit": "points"})
    elif folder.instrument.has_expectations:
        trend = gap_trend(clean.survey, folder.instrument)
        o = trend[(trend["name"] == "overall") & (trend["quarter"] == quarter)].iloc[0]
        p_ = trend[(trend["name"] == "overall") & (trend["quarter"] == previous_quarter(quarter))]
        finite = np.isfinite(o["change_p"])
        rows.insert(1, {"kpi": "Overall gap (P − E)", "current": o["gap"],
                        "previous": p_["gap"].iloc[0] if len(p_) else np.nan, "change": o["change"],
                        "p_value": o["change_p"], "significant": bool(o["change_p"] < 0.05) if finite else False,
                        "better": bool(o["change"] > 0) if np.isfinite(o["change"]) else None, "unit": "points"})
    return pd.DataFrame(rows, columns=["kpi", "current", "previous", "change", "p_value", "significant", "better",
                                       "unit"])


def run_summary(folder, *, quarter: str = "", current: Mapping[str, Any] | None = None,
                previous: Mapping[str, Any] | None = None) -> SummaryResult:
    """The quarterly summary: the pipeline of notebook ``06_quarterly_summary``.

    Parameters
    ----------
    folder : DataFolder
        From :func:`sqmlib.io.load_folder`; needs the survey (for the headline comparison).
    quarter : str
        Quarter to summarise ("" = the latest in the survey).
    current : mapping, optional
        Notebook stem → this quarter's typed metrics (e.g. ``{"02_gap_analysis": gaps_result.metrics()}``
        or :func:`read_report` of the report being built); None where an analysis is not available.
    previous : mapping, optional
        The same for the previous quarter's report (:func:`read_report`), when there is one.

    Returns
    -------
    SummaryResult

    Examples
    --------
    >>> from sqmlib import io, gaps, summary
    >>> folder = io.load_folder()
    >>> s = summary.run_summary(folder, current={"02_gap_analysis": gaps.run_gaps(folder).metrics()})
    >>> s.todo()
    """
    folder.require("survey", purpose="the quarterly summary")
    q = folder.quarter(quarter)
    cur = {stem: None for stem in METRICS}
    cur.update(current or {})
    prev = {stem: None for stem in METRICS}
    prev.update(previous or {})
    for stem, m in list(cur.items()) + list(prev.items()):
        if m is not None and stem in METRICS and not isinstance(m, METRICS[stem]):
            raise SQMArgumentError(f"{stem}: expected {METRICS[stem].__name__}, got {type(m).__name__}")
    trend = None
    if q and "survey_date" in folder.survey.columns:
        k = survey_kpis(folder.until(q).survey, freq="Q", instrument=folder.instrument)
        keep = [c for c in ("nps", "csat") if c in k.columns]
        trend = k.set_index("period")[keep] if keep else None
    return SummaryResult(quarter=q, tiles=headline_tiles(folder, q), current=cur, previous=prev,
                         design=folder.instrument.design, study=folder.instrument.title, trend=trend)
