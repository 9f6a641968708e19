"""The summary page: the metrics read back, the headline tiles, findings and what changed (the to-do list is in
:mod:`sqmlib.summary.todo`)."""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..audit import AuditMetrics
from ..churn import ChurnMetrics
from ..drivers import DriverMetrics
from ..errors import SQMArgumentError, SQMReportError
from ..gaps import GapMetrics, gap_trend, servqual_gaps
from ..kpi import KPIMetrics, quarter_comparison, survey_kpis
from ..kpi.pipeline import surge_line
from ..moments.survey import top_box_of
from ..paths import REPORTS_DIR, resolve
from ..periods import previous_quarter
from ..reliability import ReliabilityMetrics
from ..render import formats, labels, plots
from ..render.language import Said
from ..render.messages import listed, msg, sentences, term, terms
from ..results import Block, Result, figure, headline, table, text
from ..mystery import MysteryMetrics
from ..pdca.pipeline import PDCAMetrics, explanation_line, quote
from ..sem import ChainMetrics
from ..value import ValueMetrics
from ..voc import VoCMetrics
from .todo import ActionList

NOTEBOOK = "06_quarterly_summary"
METRICS = {
    "00_data_audit": AuditMetrics,
    "01_survey_reliability": ReliabilityMetrics,
    "02_gap_analysis": GapMetrics,
    "03_driver_regression": DriverMetrics,
    "04_churn_prediction": ChurnMetrics,
    "05_kpi_monitoring": KPIMetrics,
    "07_service_profit_chain": ChainMetrics,
    "08_pdca": PDCAMetrics,
    "09_mystery_shopping": MysteryMetrics,
    "10_customer_value": ValueMetrics,
    "11_voice_of_customer": VoCMetrics,
}
# analyses of data a study may simply not collect (audit visits, tickets for the PDCA loop): never listed as missing
OPTIONAL_ANALYSES = ("08_pdca", "09_mystery_shopping", "10_customer_value", "11_voice_of_customer")


# a drop in the churn model's ROC-AUC below this when a service-quality dimension is shuffled is too small to say
# churn "depends on" that dimension (the model ranks customers about as well without it)
NEGLIGIBLE_AUC_DROP = 0.01


def maturity_meaning(level: int) -> str:
    """What a maturity level means, in the reader's language."""
    return {0: msg("maturity.0", "basic standards not yet met"), 1: msg("maturity.1", "basic standards met"),
            2: msg("maturity.2", "processes optimised"), 3: msg("maturity.3", "creating value with customers")}[level]


def _said(lines) -> Said:
    """Lines of Markdown made of messages (and of findings already written in the reader's language)."""
    return Said("\n".join(lines))


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


# the analyses of rating items: absent by design from a study of the KPIs alone
ITEM_ANALYSES = ("01_survey_reliability", "02_gap_analysis", "03_driver_regression", "07_service_profit_chain")


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
    actions: list  # the to-do list with owner, scope, target and due date (one dict per line of todo)
    checked: list  # the registered actions' verdicts (PDCA), one line each
    missing_inputs: list
    previous_report_found: bool
    since_previous_report: list


def _scale_of(inst, column: str, default: tuple[float, float] = (1, 7)) -> tuple[float, float]:
    spec = inst.columns.get(column) if inst is not None else None
    if spec is not None and spec.min is not None and spec.max is not None:
        return float(spec.min), float(spec.max)
    return default


def tile_scales(inst) -> dict[str, str]:
    """What each headline KPI counts and on which scale, in the current language (the tiles' third line)."""
    low, high = _scale_of(inst, "overall_sat")
    top = top_box_of(inst, "overall_sat") if inst is not None else 6.0
    c_low, c_high = _scale_of(inst, "ces")
    easy = top_box_of(inst, "ces") if inst is not None else 6.0
    smin, smax = (inst.scale_min, inst.scale_max) if inst is not None else (1, 7)
    return {
        "NPS": msg("summary.scale_nps", "% promoters (9–10) − % detractors (0–6); −100 to +100"),
        "CSAT": msg("summary.scale_csat", "share answering {top:g}–{high:g} on {low:g}–{high:g}", top=top, low=low,
                    high=high),
        "CES": msg("summary.scale_ces", "mean effort score on {low:g}–{high:g}; higher is easier", low=c_low,
                   high=c_high),
        "CES easy": msg("summary.scale_ces_easy", "share answering {top:g}–{high:g} on {low:g}–{high:g} (easy)",
                        top=easy, low=c_low, high=c_high),
        "First-contact resolution": msg("summary.scale_fcr", "share of tickets resolved at the first contact"),
        "Churn rate": msg("summary.scale_churn", "share of active customers who left in the quarter"),
        "Overall gap (P − E)": msg("summary.scale_gap", "perception − expectation on {low:g}–{high:g}; below 0 "
                                   "falls short", low=smin, high=smax),
    }


def _tile_scale(kpi: str, scales: Mapping[str, str]) -> str:
    for prefix in sorted(scales, key=len, reverse=True):  # "CES easy (top-2-box)" before "CES"
        if kpi.startswith(prefix):
            return scales[prefix]
    return ""


def _tile_html(r: Mapping, prev: str, scales: Mapping[str, str] | None = None) -> str:
    cur = formats.kpi_value(r["current"], r["kpi"], r["unit"]) if np.isfinite(r["current"]) else "–"
    if np.isfinite(r["change"]):
        ch = formats.kpi_change(r["change"], r["kpi"], r["unit"])
        colour = "#1e7b34" if r["better"] else "#b3261e"
        verdict = (msg("summary.tile_significant", "significant") if r["significant"] else
                   msg("summary.tile_noise", "within noise"))
        change = f"<span style='color:{colour}'>{html.escape(ch)}</span>"
        sub = msg("summary.tile_change", "{change} vs {quarter} ({verdict})", change=change,
                  quarter=html.escape(prev), verdict=verdict)
    else:
        sub = (msg("summary.tile_no_previous", "no previous quarter") if prev else
               msg("summary.tile_everyone", "all respondents"))
    scale = _tile_scale(r["kpi"], scales or {})
    meaning = f"<div style='font-size:10px;color:#555;max-width:200px'>{html.escape(scale)}</div>" if scale else ""
    return (f"<div style='display:inline-block;vertical-align:top;background:#f3f6fa;border-radius:6px;"
            f"padding:8px 14px;margin:4px;min-width:170px'><div style='font-size:12px;color:#555'>"
            f"{html.escape(labels.phrase(r['kpi']))}</div>"
            f"<div style='font-size:24px;font-weight:600'>{cur}</div><div style='font-size:11px'>{sub}</div>"
            f"{meaning}</div>")


@dataclass(frozen=True)
class SummaryResult(ActionList, Result):
    """The quarterly summary: headline tiles, findings, customers at risk, alerts and maturity, changes since
    the previous report and what to do next."""

    title = "Quarterly summary"
    notebook = "06_quarterly_summary"

    quarter: str
    tiles: pd.DataFrame
    current: Mapping[str, Any] = field(default_factory=dict)
    previous: Mapping[str, Any] = field(default_factory=dict)

    design: str = "servqual"  # the instrument's design: "servqual", "three-column", "servperf" or "kpi"
    study: str = ""  # the instrument's title (named on a one-off study's summary)
    trend: pd.DataFrame | None = None  # NPS and CSAT per quarter up to this one (index: quarter)
    instrument: Any = None  # the survey's instrument: the tiles' scales

    def money(self, amount) -> str:
        """An amount in the data's currency (its instrument's)."""
        return formats.money(amount, currency=getattr(self.instrument, "currency", None))

    @property
    def previous_quarter(self) -> str:
        return previous_quarter(self.quarter) if self.quarter else ""

    @property
    def period(self) -> str:
        """How the text names the period: "this quarter", or "this study" for a survey without dates."""
        return msg("summary.this_quarter", "this quarter") if self.quarter else msg("summary.this_study", "this study")

    @property
    def missing(self) -> list[str]:
        """Analyses without results that the study could have (a study of the KPIs alone has no item analyses)."""
        return [s for s, m in self.current.items() if m is None and s not in OPTIONAL_ANALYSES
                and not (self.design == "kpi" and s in ITEM_ANALYSES)]

    def shortfalls(self) -> list[str]:
        """Largest gaps, top drivers and the reliability caveat, as Markdown lines."""
        lines = []
        g, d, r = (self.current.get(k) for k in ("02_gap_analysis", "03_driver_regression", "01_survey_reliability"))
        if g and g.mode == "servperf":
            lines.append(msg("summary.lowest_items", "**Lowest-rated items** (perceptions only; the survey asks no "
                             "expectations):"))
            lines += [f"- {f}" for f in g.findings[:3]] or ["- " + msg("summary.none", "none")]
        elif g:
            lines.append(msg("summary.largest_gaps", "**Largest gaps** (perception below expectation):"))
            lines += [f"- {f}" for f in g.findings[:3]] or ["- " + msg("summary.none_significant", "none significant")]
        if d:
            shares = [msg("summary.driver_share", "{name} ({share:.0f} %)", name=term(t), share=d.lmg_share[t])
                      for t in d.top_drivers[:3]]
            lines.append("\n" + msg("summary.top_drivers", "**Top drivers of {outcome}**: {drivers}.",
                                     outcome=term(d.outcome), drivers=listed(shares)))
            if d.fix_first:
                lines.append(msg("summary.fix_first", "Fix first (important and below average): {names}.",
                                 names=terms(d.fix_first)))
        ch = self.current.get("07_service_profit_chain")
        if ch:
            lines.append("\n" + self._chain_line(ch))
        if r:
            low = [k.split(":")[1] for k, v in r.alpha.items() if k.startswith("P:") and v < 0.7]
            lines.append("\n" + (msg("summary.reliable", "The survey scales are reliable (every perception α ≥ .70).")
                                  if not low else
                                  msg("summary.unreliable", "Read with care: the perception scales of {names} have α "
                                      "below .70.", names=terms(low))))
        return lines

    def _chain_line(self, ch: ChainMetrics) -> str:
        idx = ch.index
        parts = dict(target=term(ch.target), index=idx[ch.target])
        if "Satisfaction" in idx and ch.target != "Satisfaction":
            line = msg("summary.chain_satisfaction", "**Service-profit chain**: {target} index {index:.1f} of 100, "
                       "satisfaction {satisfaction:.1f}.", satisfaction=idx["Satisfaction"], **parts)
        else:
            line = msg("summary.chain", "**Service-profit chain**: {target} index {index:.1f} of 100.", **parts)
        if not ch.lever:
            return line
        parts = dict(lever=term(ch.lever), target=term(ch.target), importance=ch.ipma[ch.lever]["importance"],
                     performance=ch.ipma[ch.lever]["performance"])
        value = ch.retained_value.get(ch.lever)
        ci = (ch.retained_value_ci or {}).get(ch.lever)
        if value is not None and ci:
            lever = msg("summary.chain_lever_value_ci", "The lever: **{lever}** (one index point moves {target} by "
                        "{importance:.2f}; it performs at {performance:.1f}), worth an expected {value} (95% interval "
                        "{low} to {high}) in retained customer value for +5 points.", value=self.money(value),
                        low=self.money(ci[0]), high=self.money(ci[1]), **parts)
        elif value is not None:
            lever = msg("summary.chain_lever_value", "The lever: **{lever}** (one index point moves {target} by "
                        "{importance:.2f}; it performs at {performance:.1f}), worth an expected {value} in "
                        "retained customer value for +5 points.", value=self.money(value), **parts)
        else:
            lever = msg("summary.chain_lever", "The lever: **{lever}** (one index point moves {target} by "
                        "{importance:.2f}; it performs at {performance:.1f}).", **parts)
        richer = max((d for d in ch.retained_value if d != ch.lever and d in ch.ipma), default=None,
                     key=lambda d: ch.retained_value[d])
        dims = [d for d in ch.retained_value if d in ch.ipma]
        average = float(np.mean([ch.ipma[d]["performance"] for d in dims])) if dims else np.nan
        if (value is not None and richer is not None and ch.retained_value[richer] > value
                and ch.ipma[richer]["performance"] >= average):
            # the chain page's table shows a dimension worth more: say why it is not the lever (one rule)
            why = msg("summary.chain_not_lever", "Raising {other} would be worth more ({other_value} for +5 "
                      "points), but it already performs at {other_performance:.1f}, above the dimensions' average of "
                      "{average:.1f}: the lever is the most important dimension among those performing below it.",
                      other=term(richer), other_value=self.money(ch.retained_value[richer]),
                      other_performance=ch.ipma[richer]["performance"], average=average)
            return sentences([line, lever, why])
        return sentences([line, lever])

    def _churn(self) -> ChurnMetrics | None:
        c = self.current.get("04_churn_prediction")
        return None if c is None or c.skipped else c

    def at_risk(self) -> str:
        c = self._churn()
        if c is None:
            return msg("summary.no_churn", "Churn results are not available.")
        out = msg("summary.at_risk", "The churn model (cross-validated ROC-AUC {auc:.2f}) scores every active "
                  "customer. Contacting the **{n:,}** customers above the profit-maximising threshold puts an "
                  "expected **{at_stake}** of customer value at stake among them; across all active customers "
                  "the expected loss is {loss}. The list is in {file}.", auc=c.cv_auc, n=c.to_contact,
                  at_stake=self.money(c.expected_loss_to_contact), loss=self.money(c.expected_loss_all),
                  file="04_churn_prediction/risk_list.xlsx")
        if c.value_basis == "orders":
            out = sentences([out, msg("summary.at_risk_orders", "Each customer counts with their own lifetime value "
                                      "from their orders (mean {mean}): the money at risk sums each customer's churn "
                                      "probability × their value.",
                                      mean=self.money(c.mean_value))])
        if not c.top_quality_driver:
            return out
        drop = (c.importance or {}).get(f"quality: {c.top_quality_driver}")
        if drop is not None and drop < NEGLIGIBLE_AUC_DROP:  # a claim only for an effect worth the name
            driver = msg("summary.churn_driver_negligible", "No service-quality dimension stands out as a churn "
                         "driver: shuffling the strongest, {name}, lowers the model's ROC-AUC by only {drop:.3f}.",
                         name=term(c.top_quality_driver), drop=drop)
        else:
            driver = msg("summary.churn_driver", "The service-quality dimension churn depends on most: **{name}**.",
                         name=term(c.top_quality_driver))
        return sentences([out, driver])

    def alert_lines(self) -> list[str]:
        k = self.current.get("05_kpi_monitoring")
        if not k:
            return []
        surges = ["- " + surge_line(r, k.unit) for r in (k.complaint_surges or [])]
        p = self.current.get("08_pdca")
        if surges and p and p.drill_down:
            top = p.drill_down[0]
            surges.append("- " + msg("summary.where_moved", "Where the complaints moved: {line}",
                                     line=explanation_line(top)))
            surges += [f"    - “{quote(t)}”" for t in top.get("examples", [])[:2]]
        v = self.current.get("11_voice_of_customer")
        if v and v.rising:
            r = v.rising[0]
            surges.append("- " + msg("summary.voc_rising", "Rising in customer feedback: **{aspect}** at **{unit}** "
                                     "({ratio:.1f} times the earlier rate of complaints; {n} in the last weeks).",
                                     aspect=term(r["aspect"]), unit=term(r["unit"]), ratio=r["rate_ratio"],
                                     n=r["recent_negative"]))
        if not k.alerts:
            return ([msg("summary.no_alert", "No NPS alert {period}.", period=self.period)] if self.quarter
                    else []) + surges
        return ["- " + msg("summary.alert", "**Alert: {unit}** ({unit_type}): NPS {nps:+.0f} against a benchmark of "
                           "{benchmark:+.0f} from {first} to {last} ({periods} periods).", unit=term(a["unit"]),
                           unit_type=term(a["unit_type"]), nps=a["nps"], benchmark=a["benchmark"],
                           first=a["first_period"], last=a["last_period"], periods=a["periods"])
                for a in k.alerts] + surges

    def maturity_table(self) -> pd.DataFrame | None:
        k = self.current.get("05_kpi_monitoring")
        if not k or not k.maturity:
            return None
        levels = pd.Series(k.maturity, name="maturity level").to_frame()
        levels["meaning"] = levels["maturity level"].map(maturity_meaning)
        return levels

    def top_causes(self) -> str:
        k = self.current.get("05_kpi_monitoring")
        if not k or not k.pareto_categories_top3:
            return ""
        # metrics.json stores dicts with sorted keys: order by share again
        top3 = [msg("summary.cause_share", "{cause} ({share:.0%})", cause=term(c), share=v)
                for c, v in sorted(k.pareto_categories_top3.items(), key=lambda kv: -kv[1])]
        return msg("summary.top_causes", "Top complaint causes: {causes}.", causes=listed(top3))

    def since_previous(self) -> list[str]:
        """What changed since the previous quarter's report (empty without one)."""
        cur, before, prev = self.current, self.previous, self.previous_quarter
        changes = []
        d, g, k = cur.get("03_driver_regression"), cur.get("02_gap_analysis"), cur.get("05_kpi_monitoring")
        if before.get("03_driver_regression") and d:
            old_top, new_top = before["03_driver_regression"].top_drivers, d.top_drivers
            changes.append(msg("summary.top_driver_changed", "Top driver: {before} in {quarter}, {now} now.",
                               before=term(old_top[0]), quarter=prev, now=term(new_top[0]))
                           if old_top[0] != new_top[0] else
                           msg("summary.top_driver_same", "The top driver is still {name}.", name=term(new_top[0])))
        if before.get("02_gap_analysis") and g:
            old_g, new_g = before["02_gap_analysis"].dimension_gap, g.dimension_gap
            moved = {k_: new_g[k_] - old_g[k_] for k_ in new_g if k_ in old_g}
            if moved:
                worst = min(moved, key=moved.get)
                changes.append(msg("summary.gap_worsened", "The dimension gap that worsened most since {quarter}: "
                                   "{name} ({change:+.2f}).", quarter=prev, name=term(worst), change=moved[worst]))
        if before.get("05_kpi_monitoring") and k:
            old_a = {a["unit"] for a in before["05_kpi_monitoring"].alerts}
            new_a = {a["unit"] for a in k.alerts}
            if new_a - old_a:
                changes.append(msg("summary.new_alerts", "New alerts: {units}.", units=terms(sorted(new_a - old_a))))
            if old_a - new_a:
                changes.append(msg("summary.alerts_cleared", "Alerts cleared: {units}.",
                                   units=terms(sorted(old_a - new_a))))
        return changes

    def findings(self) -> list[str]:
        return self.todo() or [msg("summary.nothing_urgent", "Nothing urgent {period}.", period=self.period)]

    def metrics(self) -> SummaryMetrics:
        return SummaryMetrics(
            headlines=self.tiles.set_index("kpi")[["current", "previous", "change", "p_value",
                                                   "significant"]].to_dict("index"),
            todo=self.todo(), actions=self.todo_items(), checked=self.checked(), missing_inputs=self.missing,
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
        scales = tile_scales(self.instrument)
        return "".join(_tile_html(r, self.previous_quarter, scales) for r in self.tiles.to_dict("records"))

    def sections(self) -> dict[str, list[Block]]:
        study = self.study or msg("summary.study", "Service-quality study")
        head = [text("# " + (msg("summary.title", "Service quality, {quarter}: the summary", quarter=self.quarter)
                             if self.quarter else msg("summary.title_study", "{study}: the summary", study=study)))]
        if not self.quarter:
            head.append(text("*" + msg("summary.one_off", "A one-off study (the survey has no dates): every "
                                       "respondent, no trends or period comparisons.") + "*"))
        if self.design == "kpi":
            head.append(text("*" + msg("summary.kpi_only", "A study of the KPIs alone: the survey has no rating "
                                       "items, so there is no reliability, gap, driver or service-profit-chain "
                                       "analysis.") + "*"))
        if self.missing:
            head.append(text("*" + msg("summary.missing", "Not available for {period} (run them first): {names}.",
                                       period=self.period, names=listed(self.missing)) + "*"))
        lines = self.shortfalls()
        alerts = [text(_said(self.alert_lines()))] if self.alert_lines() else []
        mat = self.maturity_table()
        if mat is not None:
            alerts.append(table(mat, lambda s: s.background_gradient(subset=["maturity level"], cmap=plots.gradient("RdYlGn"),
                                                                    vmin=0, vmax=3)))
        if self.top_causes():
            alerts.append(text(self.top_causes()))
        changes = self.since_previous()
        todo = self.todo()
        no_alerts = (msg("summary.no_alerts_undated", "No alerts or maturity levels: they need survey dates "
                         "(alerts) and the interactions, customers and standards tables (maturity).")
                     if not self.quarter else
                     msg("summary.no_alerts", "No alerts or maturity levels are available."))
        no_changes = (msg("summary.no_previous_report", "No report for {quarter} was found: the comparison above is "
                          "computed from the data.", quarter=self.previous_quarter)
                      if self.quarter else
                      msg("summary.no_earlier_report", "A one-off study: there is no earlier report to compare with."))
        return {  # the order of the page: the figures, what changed and where, the lever, the actions, the charts
            "title": head,
            "tiles": [Block("html", self.tiles_html())],
            "alerts": alerts or [text(no_alerts)],
            "since": [text(_said(f"- {c}" for c in changes) if changes else no_changes)],
            "shortfalls": [text(_said(lines) if lines else
                                msg("summary.no_shortfalls", "Gap and driver results are not available."))],
            "risk": [text(self.at_risk())],
            "checked": [text(_said(f"- {c}" for c in self.checked()) if self.checked() else
                             msg("summary.no_checked", "No action register (actions.csv): no action was checked."))],
            "todo": [text(_said(self._todo_line(i, t) for i, t in enumerate(self.todo_items(), 1)) if todo else
                          self.findings()[0])],
            "charts": self.charts() or [text(msg("summary.no_charts", "No charts: they need quarters, gaps or KPIs "
                                                 "per unit."))],
        }


def headline_tiles(folder, quarter: str) -> pd.DataFrame:
    """The headline KPIs of ``quarter`` against the previous quarter (:func:`sqmlib.kpi.quarter_comparison`),
    with the overall gap (P − E) and its change second when the survey has expectations."""
    data = folder.until(quarter) if quarter else folder
    clean = data.without_careless()  # for gaps, as the gap analysis; KPIs use every answer, as the KPI monitor
    comp = quarter_comparison(data.survey, quarter, interactions=data.interactions, customers=data.customers,
                              instrument=folder.instrument)
    rows = comp.to_dict("records")
    weight = folder.instrument.weight_in(clean.survey)  # as the gap page weights the overall gap
    if folder.instrument.has_expectations and not quarter:  # a one-off study: the overall gap, no change
        t = servqual_gaps(clean.survey, folder.instrument, sample_weight=weight)
        o = t[t["level"] == "overall"].iloc[0]
        rows.insert(1, {"kpi": "Overall gap (P − E)", "current": o["gap"], "previous": np.nan, "change": np.nan,
                        "p_value": np.nan, "significant": False, "better": None, "unit": "points"})
    elif folder.instrument.has_expectations:
        trend = gap_trend(clean.survey, folder.instrument, sample_weight=weight, panel=folder.instrument.panel)
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
                         design=folder.instrument.design, study=folder.instrument.title, trend=trend,
                         instrument=folder.instrument)
