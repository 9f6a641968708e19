"""The summary's to-do list: what to do next, each with an owner (the instrument's ``owners:``), a scope, a
target where there is one and a due date (the end of the next quarter), and the registered actions' verdicts."""
from __future__ import annotations

from typing import Mapping

import pandas as pd

from ..pdca.pipeline import UNASSIGNED, proposal_text
from ..render import labels
from ..render.messages import listed, msg, term, terms

REVISIT_SHARE_WANTED = 0.8  # a unit revisiting fewer of its remedies within the standard gets an action


class _Adder:
    """The to-do list being written: ``owned`` sets the next line's owner, scope and target; ``append`` adds it."""

    def __init__(self, add):
        self._add, self._next = add, {}

    def owned(self, owner: str = UNASSIGNED, scope: str = "", target: str = "") -> None:
        self._next = {"owner": owner, "scope": scope, "target": target}

    def append(self, text_: str) -> None:
        self._add(text_, **self._next)
        self._next = {}



class ActionList:
    """The to-do list and the check of last quarter's actions, for :class:`sqmlib.summary.SummaryResult` (which
    holds ``current``, ``instrument``, ``quarter``, ``period`` and ``tiles``)."""

    def owner(self, kind: str, key) -> str:
        """Who owns an action about ``key`` of ``kind`` (a segment column, ``kpi`` or ``dimension``): the
        instrument's ``owners:``, else "unassigned"."""
        owners = getattr(self.instrument, "owners", {}) or {}
        return (owners.get(kind) or {}).get(str(key)) or UNASSIGNED

    @property
    def due(self) -> str:
        """When the actions of this report are due: the end of the next quarter."""
        if not self.quarter:
            return ""
        return (pd.Period(self.quarter, freq="Q") + 1).end_time.date().isoformat()

    def todo(self) -> list[str]:
        """What to do next, most urgent first."""
        return [a["action"] for a in self.todo_items()]

    def todo_items(self) -> list[dict]:
        """What to do next, most urgent first: ``action`` (the sentence), ``owner``, ``scope``, ``target`` (where
        the action has one) and ``due`` (the end of the next quarter)."""
        cur = self.current
        k, d, g, c = (cur.get("05_kpi_monitoring"), cur.get("03_driver_regression"), cur.get("02_gap_analysis"),
                      self._churn())
        items = []

        def add(text_, owner=UNASSIGNED, scope="", target=""):
            items.append({"action": text_, "owner": owner, "scope": scope, "target": target, "due": self.due})

        todo = _Adder(add)
        if k and k.alerts:
            for a in k.alerts:
                lvl = k.maturity.get(a["unit"])
                parts = dict(unit=term(a["unit"]), periods=a["periods"])
                todo.owned(self.owner(a["unit_type"], a["unit"]), str(a["unit"]))
                todo.append(msg("summary.investigate_basic", "Investigate **{unit}** now: its NPS has been far below "
                                "its benchmark for {periods} periods and it does not meet the basic service standards "
                                "(maturity level {level}).", level=lvl, **parts) if lvl == 0 else
                            msg("summary.investigate", "Investigate **{unit}** now: its NPS has been far below its "
                                "benchmark for {periods} periods.", **parts))
        p = cur.get("08_pdca")
        for r in (p.proposed if p else []):
            if r.get("reason") == "complaints":
                todo.owned(r.get("owner") or UNASSIGNED, str(r.get("scope_values") or ""),
                           f"{r['target']:,.0f}" if r.get("target") is not None else "")
                todo.append(proposal_text(r))
        ms = cur.get("09_mystery_shopping")
        failing = sorted((ms.failing_stores if ms else {}).items(), key=lambda kv: (-kv[1], kv[0]))
        if len(failing) > 3:
            todo.append(msg("summary.critical_failures_many", "Stop the critical failures at **{n} stores** ({stores}): "
                            "each failed critical standards on a quarter or more of its audit visits {period}.",
                            n=len(failing), stores=listed(s for s, _ in failing[:5]) + (" …" if len(failing) > 5 else ""),
                            period=self.period))
        else:
            for store, n in failing:
                todo.owned(self.owner("store", store), str(store))
                todo.append(msg("summary.critical_failures", "Stop the critical failures at **{store}**: {n} of its "
                                "audit visits {period} failed a critical standard.", store=store, n=n,
                                period=self.period))
        if d and d.fix_first:
            todo.owned(self.owner("dimension", d.fix_first[0]), str(d.fix_first[0]))
            todo.append(msg("summary.improve", "Improve **{name}**: it moves {outcome} most among the dimensions "
                            "performing below average.", name=term(d.fix_first[0]), outcome=term(d.outcome)))
        if g and g.concentrate_here:
            todo.append(msg("summary.concentrate_all", "Concentrate on the {n} items that are important and "
                            "perform below average: {items}.", n=len(g.concentrate_here),
                            items=listed(g.concentrate_here)))  # all of them: the gap page and the index count them
        rec = (k.recovery if k else None) or {}
        shares = {u: v for u, v in (rec.get("revisit_share") or {}).items() if u != "all" and v == v}
        if shares and min(shares.values()) < REVISIT_SHARE_WANTED:
            unit = min(shares, key=shares.get)
            todo.owned(self.owner(k.unit, unit), str(unit), f"{REVISIT_SHARE_WANTED:.0%}")
            todo.append(msg("summary.revisit", "Keep the revisit standard in **{unit}**: {share:.0%} of its remedies "
                            "were followed by a satisfaction revisit within {hours:g} hours.", unit=term(unit),
                            share=shares[unit], hours=rec.get("target_hours", 72)))
        must = [a for a, cat in ((d.kano_questionnaire or {}).get("categories") or {}).items() if cat == "must-be"] \
            if d else []
        if must:
            todo.append(msg("summary.kano_standards", "Make {names} service standards: customers take them for "
                            "granted (must-be in the KANO questionnaire), so only a lapse is noticed.",
                            names=terms(must)))
        for r in (p.proposed if p else []):
            if r.get("reason") in ("not_shown", "worse"):
                todo.owned(r.get("owner") or UNASSIGNED, str(r.get("scope_values") or ""))
                todo.append(proposal_text(r))
        if c and c.to_contact:
            todo.owned(self.owner("kpi", "churn"))
            todo.append(msg("summary.contact", "Contact the {n:,} highest-risk customers with a retention offer.",
                            n=c.to_contact))
        t = self.tiles
        worse = t[(t["significant"]) & (t["better"] == False)]  # noqa: E712
        if len(worse):
            names = listed(labels.phrase(k_) for k_ in worse["kpi"])
            todo.owned(self.owner("kpi", "headline"))
            todo.append(msg("summary.deteriorations", "Significant deteriorations {period}: {kpis}.",
                            period=self.period, kpis=names))
        return items

    def checked(self) -> list[str]:
        """The registered actions' verdicts (the PDCA page's check), one line each."""
        p = self.current.get("08_pdca")
        if not p:
            return []
        out = []
        for i, e in sorted(p.effects.items()):
            v = p.verdicts.get(i, "cannot_judge")
            parts = dict(id=i, title=e.get("title") or "", owner=e.get("owner") or UNASSIGNED,
                         kpi=labels.label(e["kpi"]), verdict=labels.label(v))
            if e.get("action_effect") is None or v == "cannot_judge":
                out.append(msg("summary.checked_none", "**{id}** {title} ({owner}): {verdict}.", **parts))
            else:
                out.append(msg("summary.checked", "**{id}** {title} ({owner}): **{verdict}** — {kpi} {effect:+.3g} "
                               "(95% interval {low:+.3g} to {high:+.3g}).", effect=e["action_effect"],
                               low=e["ci_low"], high=e["ci_high"], **parts))
        return out

    def _todo_line(self, i: int, item: Mapping) -> str:
        owner = msg("summary.unassigned", "unassigned") if item["owner"] == UNASSIGNED else item["owner"]
        who = (msg("summary.owner_due", "owner: {owner}; due {due}", owner=owner, due=item["due"]) if item["due"] else
               msg("summary.owner", "owner: {owner}", owner=owner))
        return f"{i}. {item['action']} — *{who}*"
