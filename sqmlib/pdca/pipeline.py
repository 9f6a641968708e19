"""The PDCA loop on a data folder: the pipeline of notebook ``08_pdca``.

Plan: where the complaints moved this quarter (:func:`~sqmlib.pdca.drill_down` over region, channel, category,
severity and store, with example complaints), the first-contact resolution's change split into mix and rate
(:func:`~sqmlib.pdca.decompose_change`) and the complaints' root causes as a fishbone. Do: the action register
(``actions.csv``) as a board, and actions proposed from the findings, each with an owner (the instrument's
``owners:``), a target and a due date (``actions_proposed.xlsx``). Check: every registered action with enough data
gets difference-in-differences against its control units (else an interrupted time series on its scope) and a
verdict. Act: effective actions propose their new level as a standard; actions not shown to work are reopened.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import SQMArgumentError
from ..instruments import CAUSES
from ..io.actions import split_values
from ..periods import previous_quarter, quarter_bounds
from ..render import formats, labels
from ..render import seed_plots as plots
from ..render.messages import clauses, listed, msg, term, terms, unavailable_line
from ..render.outputs import write_excel
from ..results import Result, Unavailable, figure, headline, table, text
from .change import decompose_change, drill_down
from .effects import ALPHA, MIN_POST, MIN_PRE, PRETREND_ALPHA, Effect, did, its, verdict
from .series import kpi_panel, kpi_series, root_causes

__all__ = ["PDCAMetrics", "PDCAResult", "run_pdca", "check_action", "propose_actions", "proposal_text",
           "complaint_explanations", "explanation_line", "explanation_markdown", "quote", "segments_text", "dims_text", "DRILL_DIMS", "MIN_RISE",
           "EXAMPLES", "UNASSIGNED"]

DRILL_DIMS = ("region", "channel", "category", "severity", "store")
MIN_RISE = 0.10  # complaints rising by this share (and by MIN_RISE_COUNT) get a drill-down and a proposed action
MIN_RISE_COUNT = 20
EXAMPLES = 3  # example complaints shown per explanation
UNASSIGNED = "unassigned"
OPEN = ("planned", "doing", "checking")


@dataclass(frozen=True)
class PDCAMetrics:
    """Key figures of :func:`run_pdca` (``metrics.json`` of the PDCA notebook)."""

    actions: int
    verdicts: dict  # action id -> effective / not_shown / worse / cannot_judge
    effects: dict  # action id -> method, effect, ci_low, ci_high, p_value, pretrend_p, kpi, scope, owner, title
    board: dict  # status -> number of actions
    complaints: dict  # before, after, previous_quarter
    drill_down: list  # top explanations: dims, segments, power, before, after
    proposed: list  # actions proposed: title, kpi, scope, owner, target, due, reason
    reopened: list  # action ids
    standards_proposed: list  # kpi, scope, level before, level after, proposed target
    top_cause: str | None
    findings: list


def _owner(instrument, scope: Mapping[str, str], kpi: str) -> str:
    owners = getattr(instrument, "owners", {}) or {}
    for column, value in scope.items():
        found = (owners.get(column) or {}).get(str(value))
        if found:
            return found
    return (owners.get("kpi") or {}).get(kpi) or UNASSIGNED


def check_action(folder, action: Mapping, *, freq: str = "W") -> tuple[Effect | None, Effect | None]:
    """(difference-in-differences, interrupted time series) of one registered action on its KPI per ``freq``
    period: DiD when the scope column has other units (the register's ``controls``, else every other unit);
    the ITS on the scope's pooled series always."""
    column, scope = str(action["scope_column"]), split_values(action["scope_values"])
    controls = split_values(action.get("controls"))
    start = pd.Timestamp(action["start"])
    end = action.get("end")
    end = pd.Timestamp(end) if end is not None and pd.notna(end) else None
    panel = kpi_panel(folder, action["kpi"], column, freq=freq)
    if controls:
        panel = panel[panel["unit"].isin(set(scope) | set(controls))]
    d = None
    if panel["unit"].isin(scope).any() and (~panel["unit"].isin(scope)).any():
        d = did(panel, unit="unit", time="period", outcome="value", treated=scope, start=start.to_period(freq),
                end=end.to_period(freq) if end is not None else None)
    i = its(kpi_series(folder, action["kpi"], column, scope, freq=freq), start=start.to_period(freq),
            end=end.to_period(freq) if end is not None else None)
    return d, i


def explanation_line(r: Mapping, kpi: str = "complaints", bold: bool = True) -> str:
    """One explanation of the drill-down (a row of :func:`~sqmlib.pdca.drill_down`, or its metrics entry with
    segments as column–value pairs) in words; ``kpi`` names what was counted; ``bold``: the segments in bold
    (Markdown), else plain text."""
    segs = segments_text(r["segments"])
    parts = dict(segments=f"**{segs}**" if bold else segs, dims=terms(r["dims"].split(" × ")), before=r["before"],
                 after=r["after"], power=r["power"])
    if kpi == "complaints":
        return msg("pdca.explained", "{segments} ({dims}): {before:,.0f} → {after:,.0f} complaints, {power:.0%} of "
                   "the change.", **parts)
    return msg("pdca.explained_other", "{segments} ({dims}): {before:,.0f} → {after:,.0f}, {power:.0%} of the change.",
               **parts)


def explanation_markdown(explanations: pd.DataFrame, examples: Mapping, top: int = 3) -> str:
    """The top explanations as a Markdown list, each with its example complaints (quoted, Markdown-escaped)."""
    lines = []
    for k, r in explanations.head(top).iterrows():
        lines.append("- " + explanation_line(r))
        lines += [f"    - “{quote(t)}”" for t in examples.get(k, [])]
    return "\n".join(lines)


def segments_text(segments) -> str:
    """An explanation's segments in words, in the reader's language ("South, phone; North, e-mail")."""
    return clauses(_segment_text(dict(s)) for s in segments)


def dims_text(dims: str) -> str:
    """An explanation's segment columns in the reader's language ("region × channel" / "区域 × 渠道")."""
    return " × ".join(labels.label(d) for d in str(dims).split(" × "))


def quote(t: str) -> str:
    """A customer's words inside sqmlib's Markdown: one line, Markdown's marks taken literally (HTML is escaped
    where the Markdown becomes HTML)."""
    t = " ".join(str(t).split())
    return "".join("\\" + ch if ch in "\\`*_[]<>#|~" else ch for ch in t)


def _segment_text(seg: Mapping[str, str]) -> str:
    return listed(str(labels.code(v)) for v in seg.values())


def proposal_text(r: Mapping) -> str:
    """A proposed action in words (the page, the workbook and the summary say it alike, from the same fields)."""
    if r.get("reason") == "complaints":
        return msg("pdca.propose_complaints", "Bring the complaints of {segment} back to {target:,}",
                   segment=_segment_text(dict(r["segment"])), target=int(r["before"]))
    return msg("pdca.reopen", "Reopen {id}: {title}", id=r["action_id"], title=r["register_title"])


def proposal_why(r: Mapping) -> str:
    """The first "why" of a proposed action: what the report saw."""
    if r.get("reason") == "complaints":
        return msg("pdca.why_rose", "Complaints of {segment} rose from {before:,} to {after:,}",
                   segment=_segment_text(dict(r["segment"])), before=int(r["before"]),
                   after=int(r["after"]))
    return msg("pdca.why_reopen", "Last check: {verdict}", verdict=labels.label(r["reason"]))


def propose_actions(quarter: str, instrument, explanation: Mapping | None, causes: pd.DataFrame | None,
                    register: pd.DataFrame | None, verdicts: Mapping[str, str]) -> pd.DataFrame:
    """Actions the report proposes, in the register's columns (status planned, due at the end of the next
    quarter): one per segment of the complaints' top explanation (target: back to the previous quarter's count,
    cause: the segment's largest root cause) and one reopening each open action not shown to work."""
    due = (quarter_bounds(quarter)[1] + pd.offsets.QuarterEnd(1)).date().isoformat() if quarter else ""
    rows = []
    if explanation is not None:
        for seg, before, after in zip(explanation["segments"], explanation["before_each"], explanation["after_each"]):
            column, value = next(iter(seg.items()))
            cause = ""
            if causes is not None and len(causes):
                mask = np.ones(len(causes), bool)
                for c, v in seg.items():
                    if c in causes:
                        mask &= (causes[c].astype(str) == v).to_numpy()
                top = causes[mask]["cause"].value_counts()
                top = top[top.index != "unmapped"]
                cause = str(top.index[0]) if len(top) else ""
            row = {"action_id": "", "kpi": "complaints", "scope_column": column, "scope_values": value,
                   "owner": _owner(instrument, seg, "complaints"), "cause": cause, "start": "", "end": due,
                   "direction": "down", "expected_size": float(after - before), "target": float(before),
                   "controls": "", "status": "planned", "reason": "complaints",
                   "segment": [[c, v] for c, v in seg.items()],  # pairs: metrics.json keeps their order
                   "before": int(before), "after": int(after)}
            rows.append({**row, "title": proposal_text(row), "why1": proposal_why(row)})
    if register is not None:
        for _, a in register.iterrows():
            v = verdicts.get(a["action_id"])
            if v in ("not_shown", "worse") and a["status"] in OPEN:
                row = {"action_id": a["action_id"], "kpi": a["kpi"], "scope_column": a["scope_column"],
                       "scope_values": a["scope_values"],
                       "owner": a.get("owner") if isinstance(a.get("owner"), str) else UNASSIGNED,
                       "cause": a.get("cause") or "", "start": "", "end": due, "direction": a["direction"],
                       "expected_size": a.get("expected_size"), "target": np.nan, "controls": a.get("controls") or "",
                       "status": "doing", "reason": v, "register_title": a["title"]}
                rows.append({**row, "title": proposal_text(row), "why1": proposal_why(row)})
    cols = ["action_id", "title", "kpi", "scope_column", "scope_values", "owner", "cause", "why1", "start", "end",
            "direction", "expected_size", "target", "controls", "status", "reason", "segment", "before", "after",
            "register_title"]
    return pd.DataFrame(rows, columns=cols)


@dataclass(frozen=True)
class PDCAResult(Result):
    """Plan, do, check, act: where the complaints moved, the action board, each action's effect, what to
    propose and to standardise."""

    title = "PDCA: actions and their effects"
    notebook = "08_pdca"

    quarter: str
    complaints: Mapping  # before, after, previous quarter
    explanations: pd.DataFrame  # drill_down of the complaints
    examples: Mapping  # explanation rank -> example complaint texts
    fcr_change: object  # Decomposition of first-contact resolution by region (or None)
    causes: pd.DataFrame  # this quarter's complaints: cause, category, count
    cause_trend: pd.DataFrame  # cause × quarter counts
    register: pd.DataFrame | None
    checks: Mapping  # action id -> (did, its)
    verdicts: Mapping
    proposed: pd.DataFrame
    freq: str = "W"
    instrument: object = field(default=None, repr=False)

    # ---- figures -----------------------------------------------------------------------------------------
    def effect(self, action_id: str) -> Effect | None:
        d, i = self.checks.get(action_id, (None, None))
        return d if d is not None and np.isfinite(d.effect) else i

    def effects_table(self) -> pd.DataFrame:
        rows = []
        if self.register is None:
            return pd.DataFrame()
        for _, a in self.register.iterrows():
            e = self.effect(a["action_id"])
            rows.append({"action_id": a["action_id"], "title": a["title"], "kpi": a["kpi"],
                         "scope": ", ".join(split_values(a["scope_values"])), "owner": a.get("owner"),
                         "status": a["status"], "method": e.method if e is not None else "",
                         "action_effect": e.effect if e is not None else np.nan,
                         "ci_low": e.ci_low if e is not None else np.nan, "ci_high": e.ci_high if e is not None else np.nan,
                         "p_value": e.p_value if e is not None else np.nan,
                         "pretrend_p": e.pretrend_p if e is not None else np.nan,
                         "persistence": e.persistence if e is not None else np.nan,
                         "periods_before": e.n_pre if e is not None else 0,
                         "periods_after": e.n_post if e is not None else 0,
                         "verdict": self.verdicts.get(a["action_id"], "cannot_judge")})
        return pd.DataFrame(rows).set_index("action_id")

    def standards_proposed(self) -> pd.DataFrame:
        """Effective actions' new level as a proposed target: the KPI's mean over the periods since the start."""
        rows = []
        if self.register is None:
            return pd.DataFrame(columns=["kpi", "scope", "level_before", "level_after", "proposed_target"])
        for _, a in self.register.iterrows():
            if self.verdicts.get(a["action_id"]) != "effective":
                continue
            e = self.effect(a["action_id"])
            start = pd.Timestamp(a["start"]).to_period(self.freq)
            obs = e.observed
            before, after = float(obs[obs.index < start].mean()), float(obs[obs.index >= start].mean())
            rows.append({"action_id": a["action_id"], "kpi": a["kpi"], "scope": ", ".join(split_values(a["scope_values"])),
                         "level_before": before, "level_after": after,
                         "proposed_target": float(np.round(after, 2 if abs(after) < 10 else 1))})
        return pd.DataFrame(rows, columns=["action_id", "kpi", "scope", "level_before", "level_after",
                                           "proposed_target"]).set_index("action_id")

    def register_rows(self) -> pd.DataFrame:
        """The proposed actions in the register's columns (what ``actions_proposed.xlsx`` holds)."""
        return self.proposed.drop(columns=["reason", "segment", "before", "after", "register_title", "target"])

    def reopened(self) -> list[str]:
        return [str(i) for i in self.proposed["action_id"] if i]

    def metrics(self) -> PDCAMetrics:
        eff = self.effects_table()
        top = []
        for k, r in self.explanations.head(3).iterrows():
            top.append({"dims": r["dims"], "segments": [[[c, v] for c, v in seg.items()] for seg in r["segments"]],
                        "examples": list(self.examples.get(k, [])), "power": float(r["power"]),
                        "before": float(r["before"]), "after": float(r["after"])})
        board = (self.register["status"].value_counts().to_dict() if self.register is not None else {})
        causes = self.causes[self.causes["cause"] != "unmapped"].groupby("cause")["count"].sum()
        return PDCAMetrics(
            actions=0 if self.register is None else int(len(self.register)),
            verdicts={k: str(v) for k, v in self.verdicts.items()},
            effects={i: {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                         for k, v in r.items() if k in ("method", "action_effect", "ci_low", "ci_high", "p_value",
                                                        "pretrend_p", "kpi", "scope", "owner", "title")}
                     for i, r in eff.to_dict("index").items()},
            board={str(k): int(v) for k, v in board.items()}, complaints=dict(self.complaints), drill_down=top,
            proposed=[{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()
                       if k in ("kpi", "scope_column", "scope_values", "owner", "target", "end", "reason", "action_id",
                                "segment", "before", "after", "register_title")}
                      for r in self.proposed.to_dict("records")],
            reopened=self.reopened(),
            standards_proposed=[{"action_id": i, **r} for i, r in self.standards_proposed().to_dict("index").items()],
            top_cause=str(causes.idxmax()) if len(causes) else None, findings=self.findings())

    # ---- words -------------------------------------------------------------------------------------------
    def explanation_line(self, r: Mapping) -> str:
        return explanation_line(r)

    def verdict_line(self, action_id: str) -> str:
        a = self.register.set_index("action_id").loc[action_id]
        e = self.effect(action_id)
        v = self.verdicts.get(action_id, "cannot_judge")
        what = dict(id=action_id, title=a["title"], kpi=labels.label(a["kpi"]))
        if e is None or not np.isfinite(e.effect):
            return msg("pdca.verdict_none", "**{id}** {title}: cannot judge — too few periods of {kpi} around its "
                       "start.", **what)
        nums = dict(effect=e.effect, low=e.ci_low, high=e.ci_high, method=labels.label(e.method), **what)
        if v == "effective":
            return msg("pdca.verdict_effective", "**{id}** {title}: **effective** — {kpi} changed by {effect:+.3g} "
                       "(95% interval {low:+.3g} to {high:+.3g}; {method}).", **nums)
        if v == "worse":
            return msg("pdca.verdict_worse", "**{id}** {title}: **made it worse** — {kpi} changed by {effect:+.3g} "
                       "(95% interval {low:+.3g} to {high:+.3g}; {method}), against the expected direction.", **nums)
        if v == "not_shown":
            return msg("pdca.verdict_not_shown", "**{id}** {title}: **not shown to work** — {kpi} changed by "
                       "{effect:+.3g}, but the 95% interval {low:+.3g} to {high:+.3g} includes no change ({method}).",
                       **nums)
        return msg("pdca.verdict_cannot", "**{id}** {title}: **cannot judge** — too few periods before or after the "
                   "start, or the units did not move together before it ({method}).", **nums)

    def persistence_line(self, action_id: str) -> str:
        """Whether the effect lasted after the action's end (empty without an end, or no period after it)."""
        a = self.register.set_index("action_id").loc[action_id]
        e = self.effect(action_id)
        if e is None or not np.isfinite(e.persistence) or pd.isna(a.get("end")):
            return ""
        if e.persistence_p < ALPHA and np.sign(e.persistence) == np.sign(e.effect):
            lasted = msg("pdca.lasted", "the effect lasted")
        else:
            lasted = msg("pdca.not_lasted", "no lasting effect is shown")
        return msg("pdca.persistence", "After its end on {end}: {kpi} {persistence:+.3g} against the counterfactual "
                   "(p {p}) — {lasted}.", end=pd.Timestamp(a["end"]).date().isoformat(), kpi=labels.label(a["kpi"]),
                   persistence=e.persistence, p=formats.p_value(e.persistence_p), lasted=lasted)

    def findings(self) -> list[str]:
        out = []
        c = self.complaints
        if c.get("previous_quarter"):
            out.append(msg("pdca.complaints", "Complaints {quarter}: {after:,} against {before:,} in {previous} "
                           "({change:+.0%}).", quarter=term(self.quarter), after=c["after"], before=c["before"],
                           previous=term(c["previous_quarter"]),
                           change=(c["after"] / c["before"] - 1) if c["before"] else 0.0))
        if len(self.explanations):
            out.append(msg("pdca.top_explanation", "Where they moved: {line}", line=self.explanation_line(
                self.explanations.iloc[0])))
        if self.register is not None:
            out += [self.verdict_line(i) for i in self.register["action_id"]]
        else:
            out.append(msg("pdca.no_register", "No action register (actions.csv) in the data folder: the page proposes "
                           "actions but cannot check any."))
        if len(self.proposed):
            out.append(msg("pdca.proposed", "{n} actions proposed for the register (actions_proposed.xlsx).",
                           n=len(self.proposed)))
        return out

    def headline(self) -> list[dict]:
        m = self.verdicts
        return [headline("Actions", 0 if self.register is None else len(self.register)),
                headline("Effective", sum(v == "effective" for v in m.values())),
                headline("Proposed", len(self.proposed))]

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {"explanations": self.explanations.assign(segments=self.explanations["segments"].map(segments_text),
                                                        dims=self.explanations["dims"].map(dims_text)),
               "root causes": self.causes, "causes by quarter": self.cause_trend,
               "proposed actions": self.register_rows().assign(target=self.proposed["target"])}
        if self.fcr_change is not None:
            out["fcr mix and rate"] = self.fcr_change.segments
        if self.register is not None:
            out["action board"] = self.effects_table()
            out["five whys"] = self.whys()
            out["standards proposed"] = self.standards_proposed()
        return out

    def whys(self) -> pd.DataFrame:
        cols = [f"why{k}" for k in range(1, 6) if f"why{k}" in self.register]
        return self.register.set_index("action_id")[["title", "cause"] + cols].fillna("")

    def write_files(self, out_dir) -> list:
        """``actions_proposed.xlsx``: the proposed actions in the register's columns, for managers to accept."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_excel({"proposed actions": self.register_rows()}, out / "actions_proposed.xlsx", index=False)
        return [out / "actions_proposed.xlsx"]

    def _card(self, action_id: str):
        a = self.register.set_index("action_id").loc[action_id]
        e = self.effect(action_id)
        if e is None or e.observed is None:
            return None
        title = f"{action_id}: {a['title']}"
        return figure(lambda: plots.effect_chart(e.observed, e.counterfactual, pd.Timestamp(a["start"]), title,
                                                 labels.phrase(a["kpi"])), f"effect {action_id}")

    def sections(self) -> dict:
        pct = "{:.0%}".format
        plan = [text(self.findings()[0])] if self.complaints.get("previous_quarter") else []
        if len(self.explanations):
            plan.append(text(explanation_markdown(self.explanations, self.examples)))
        if self.fcr_change is not None:
            d = self.fcr_change
            plan.append(text(msg("pdca.fcr_change", "First-contact resolution moved {change:+.1%}: {mix:+.1%} because "
                                 "the regions' shares of complaints changed (mix), {rate:+.1%} because the regions "
                                 "themselves changed (rate).", change=d.change, mix=d.mix, rate=d.rate)))
            shares = ("share_before", "share_after", "rate_before", "rate_after")
            plan.append(table(d.segments, lambda s: s.format({c: "{:+.1%}" for c in ("mix", "rate", "change")}
                                                               | {c: pct for c in shares}),
                              own_formats=("mix", "rate", "change") + shares))
        names = {c: labels.phrase(c) for c in set(CAUSES) | set(self.causes["cause"]) | set(self.causes["category"])}
        causes = [figure(lambda: plots.fishbone_chart(self.causes, labels.phrase("complaints") + f" {self.quarter}",
                                                      names=names), "fishbone")]
        causes.append(table(self.cause_trend))
        board, check, act = [], [], []
        if self.register is None:
            board = [text(msg("pdca.no_register", "No action register (actions.csv) in the data folder: the page "
                              "proposes actions but cannot check any."))]
        else:
            eff = self.effects_table()
            board.append(table(eff[["title", "kpi", "scope", "owner", "status", "verdict"]]))
            check.append(text(msg("pdca.rule", "The rule: an action is **effective** when its KPI moved the expected "
                                  "way with p < {alpha:g}, **made it worse** when it moved the other way with p < "
                                  "{alpha:g}, **not shown to work** otherwise, and **cannot judge** with fewer than "
                                  "{min_pre} periods before the start or {min_post} after it, or when the treated and "
                                  "control units did not move together before the start (pre-trend test p < "
                                  "{pretrend:g}). With control units the effect is a difference-in-differences, else an "
                                  "interrupted time series.", alpha=ALPHA, min_pre=MIN_PRE, min_post=MIN_POST,
                                  pretrend=PRETREND_ALPHA)))
            for i in self.register["action_id"]:
                check.append(text(" ".join(x for x in (self.verdict_line(i), self.persistence_line(i)) if x)))
                card = self._card(i)
                if card is not None:
                    check.append(card)
            sig = "{:+.3g}".format
            check.append(table(eff[["method", "action_effect", "ci_low", "ci_high", "p_value", "pretrend_p",
                                    "periods_before", "periods_after"]],
                               lambda s: s.format({"action_effect": sig, "ci_low": sig, "ci_high": sig}),
                               own_formats=("action_effect", "ci_low", "ci_high")))
            check.append(table(self.whys()))
            std = self.standards_proposed()
            act.append(text(msg("pdca.standards_proposed", "Make it the standard: what the effective actions reached, "
                                "proposed as the new target (the KPI's mean since the start).") if len(std) else
                            msg("pdca.no_standards", "No action was shown to work: no new standard to propose.")))
            if len(std):
                num = "{:.3g}".format
                act.append(table(std, lambda s: s.format({"level_before": num, "level_after": num,
                                                          "proposed_target": num}),
                                 own_formats=("level_before", "level_after", "proposed_target")))
        if len(self.proposed):
            act.append(text(msg("pdca.proposed_file", "Proposed for the register (also in actions_proposed.xlsx): "
                                "accept them into actions.csv with a start date.")))
            shown = self.proposed.set_index("title")[["owner", "scope_values", "kpi", "target", "end", "status"]]
            act.append(table(shown, lambda s: s.format({"target": lambda v: "–" if v != v else f"{v:,.0f}"}),
                             own_formats=("target",)))
        return {"plan": plan or [text(msg("pdca.no_plan", "No previous quarter to compare the complaints with."))],
                "causes": causes, "board": board, "check": check, "act": act}


def complaint_explanations(complaints: pd.DataFrame, q: str, prev: str) -> tuple[pd.DataFrame, dict]:
    """(the drill-down of the complaints from quarter ``prev`` to ``q`` over :data:`DRILL_DIMS`, with each
    explanation's complaints per segment in ``before_each``/``after_each``; rank → up to :data:`EXAMPLES` example
    texts of the explanation's complaints in ``q``, drawn with a fixed seed). ``complaints``: one row a complaint,
    with a ``quarter`` column."""
    dims = [d for d in DRILL_DIMS if d in complaints]
    dd = drill_down(complaints, kpi=None, dims=dims, before=("quarter", prev), after=("quarter", q))
    examples = {}
    if len(dd):
        befores, afters = [], []
        for k, r in dd.iterrows():
            each_b, each_a, texts = [], [], []
            for seg in r["segments"]:
                m = np.ones(len(complaints), bool)
                for c, v in seg.items():
                    m &= (complaints[c].astype(str) == v).to_numpy()
                each_b.append(int((m & (complaints["quarter"] == prev).to_numpy()).sum()))
                now = complaints[m & (complaints["quarter"] == q).to_numpy()]
                each_a.append(len(now))
                if "text" in now and len(texts) < EXAMPLES:
                    t = now["text"].dropna().astype(str)
                    t = t[t.str.len().between(20, 300)]
                    if len(t):
                        texts += list(t.sample(min(EXAMPLES - len(texts), len(t)), random_state=0))
            befores.append(each_b)
            afters.append(each_a)
            examples[k] = texts
        dd = dd.assign(before_each=befores, after_each=afters)
    return dd, examples


def run_pdca(folder, *, quarter: str = "", freq: str = "W") -> PDCAResult | Unavailable:
    """The PDCA page: the pipeline of notebook ``08_pdca``.

    Parameters
    ----------
    folder : DataFolder
        Needs the tickets (``interactions``); the action register (``actions``) is optional.
    quarter : str
        The quarter reported ("" = the latest).
    freq : str
        The period of the actions' checks ("W" weeks, "M" months).

    Examples
    --------
    >>> from sqmlib import io, pdca
    >>> p = pdca.run_pdca(io.load_folder())
    >>> p.verdicts, p.explanations.head(3)
    """
    if folder.interactions is None:
        reason = msg("pdca.no_tickets", "the data folder has no tickets (interactions.csv): there are no complaints "
                     "to trace and no KPIs to check actions on.")
        return Unavailable(reason=reason, line=unavailable_line(reason), notebook=PDCAResult.notebook,
                           title=PDCAResult.title, first="plan", quarter=quarter)
    t = folder.interactions
    complaints = t[t["type"] == "complaint"] if "type" in t else t
    complaints = complaints.assign(quarter=complaints["opened_at"].dt.to_period("Q").astype(str))
    quarters = sorted(complaints["quarter"].dropna().unique())
    q = quarter or (folder.latest_quarter if folder.survey is not None and folder.latest_quarter in quarters
                    else quarters[-1])
    if q not in quarters:
        raise SQMArgumentError(f"no complaints in quarter {q!r} (the tickets cover {', '.join(quarters)})")
    folder = folder.until(q)  # what was known at the quarter's end: no later ticket or answer enters a check
    complaints = complaints[complaints["quarter"] <= q]
    prev = previous_quarter(q)
    n_before = int((complaints["quarter"] == prev).sum())
    n_after = int((complaints["quarter"] == q).sum())
    explanations, examples = complaint_explanations(complaints, q, prev) if n_before else (pd.DataFrame(), {})
    if not len(explanations):
        explanations = pd.DataFrame(columns=["dims", "segments", "power", "surprise", "before", "after", "change"])
    fcr = None
    if n_before and "region" in complaints:
        fcr = decompose_change(complaints.assign(fcr=complaints["first_contact_resolved"].astype(float)),
                               value="fcr", by="region", between=("quarter", prev, q))
    complaints = complaints.assign(cause=root_causes(complaints["category"], folder.instrument))
    now = complaints[complaints["quarter"] == q]
    causes = now.groupby(["cause", "category"]).size().rename("count").reset_index()
    trend = complaints.pivot_table(index="cause", columns="quarter", values="ticket_id", aggfunc="count", fill_value=0)
    register, checks, verdicts = folder.actions, {}, {}
    if register is not None:
        for _, a in register.iterrows():
            d, i = check_action(folder, a, freq=freq)
            checks[a["action_id"]] = (d, i)
            e = d if d is not None and np.isfinite(d.effect) else i
            verdicts[a["action_id"]] = verdict(e, a["direction"])
    rose = n_before and (n_after - n_before) >= max(MIN_RISE * n_before, MIN_RISE_COUNT)
    top = None
    if rose and len(explanations):
        top = explanations.iloc[0]
    proposed = propose_actions(q, folder.instrument, top, complaints[complaints["quarter"] == q], register, verdicts)
    return PDCAResult(quarter=q, complaints={"before": n_before, "after": n_after, "previous_quarter": prev if n_before
                                             else ""},
                      explanations=explanations, examples=examples, fcr_change=fcr, causes=causes, cause_trend=trend,
                      register=register, checks=checks, verdicts=verdicts, proposed=proposed, freq=freq,
                      instrument=folder.instrument)

