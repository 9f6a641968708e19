"""The weekly improvement page (``sqm report --period week``, notebook ``weekly/weekly_improvement``):
:func:`run_weekly`.

A week's voice of the customer as a to-do list: the aspects whose negative mentions rose at a unit in the four
weeks up to the end of that week (:func:`sqmlib.voc.rising_issues`, as on the quarterly voice page but as of the
week's end), each with what customers wrote that week, the owning department (the instrument's
``owners: {aspect: …}``) and the PDCA actions that answer it — rows of ``actions.csv`` naming the issue's aspect in
their ``aspect`` column with the unit in their scope. An issue no action answers yet gets a drafted row for the
action register (``draft_actions.csv``), to be completed by its owner.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SQMArgumentError
from ..io.actions import split_values
from ..io.feedback import listening_posts
from ..periods import default_week, quarter_of_week, week_bounds, week_of
from ..render import labels, plots
from ..render.messages import msg, term
from ..render.outputs import write_csv, write_excel
from ..results import Result, Unavailable, figure, headline, table, text
from .pipeline import BASELINE_WEEKS, MIN_COUNT, RECENT_WEEKS, VoCResult, no_feedback, run_voc

__all__ = ["WeeklyMetrics", "WeeklyResult", "run_weekly", "default_week", "TOP"]

TOP = 5  # rising issues on the page
PDCA_PAGE = "08_pdca.html"  # the quarterly report's PDCA page, linked when it has been built


def _day(when) -> str:
    """A date as ISO 8601 writes it (2026-09-28), the same in every language."""
    return "–" if pd.isna(when) else pd.Timestamp(when).date().isoformat()


@dataclass(frozen=True)
class WeeklyMetrics:
    """Key figures of :func:`run_weekly` (``metrics.json`` of the weekly improvement notebook)."""

    week: str
    start: str  # Monday
    end: str  # Sunday
    data_end: str  # the last day with feedback (before the Sunday when the week is not complete)
    feedback: int  # pieces of feedback this week
    negative_mentions: int  # negative aspect mentions this week
    issues: list  # unit, aspect, this_week, last_week, rate_ratio, q_value, owner, actions
    without_action: int
    findings: list


@dataclass(frozen=True)
class WeeklyResult(Result):
    """A week's rising issues with quotes, owners and PDCA actions."""

    title = "Weekly improvement"
    notebook = "weekly_improvement"

    week: str
    voc: VoCResult
    data_end: pd.Timestamp
    actions: pd.DataFrame | None = None  # the action register (None: the folder has none)
    regions: dict = field(default_factory=dict)  # unit -> its region, for actions scoped by region
    pdca_page: str = ""  # relative link to the quarter's PDCA page ("" = not built)
    top: int = TOP

    # ---- numbers ---------------------------------------------------------------------------------------
    @property
    def bounds(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return week_bounds(self.week)

    def _negative(self) -> pd.DataFrame:
        m = self.voc.mentions
        return m[m["polarity"] < 0]

    def _count(self, frame: pd.DataFrame, weeks_back: int = 0) -> pd.DataFrame:
        start = self.bounds[0] - pd.Timedelta(weeks=weeks_back)
        return frame[(frame["created_at"] >= start) & (frame["created_at"] < start + pd.Timedelta(days=7))]

    def issues(self) -> pd.DataFrame:
        """The rising issues as of the week's end (at most :attr:`top`), with their negative mentions this week
        and the week before, their owner and the ids of the actions answering them."""
        return self._issues.copy()

    @cached_property
    def _issues(self) -> pd.DataFrame:  # the same in every language: found once, read by every section
        r = self.voc.issues().head(self.top).copy()
        unit = self.voc.unit
        neg = self._negative()
        now, before = self._count(neg), self._count(neg, 1)
        key = [unit, "aspect"]
        r["this_week"] = [int(((now[unit] == u) & (now["aspect"] == a)).sum()) for u, a in zip(r[unit], r["aspect"])]
        r["last_week"] = [int(((before[unit] == u) & (before["aspect"] == a)).sum())
                          for u, a in zip(r[unit], r["aspect"])]
        r["owner"] = [self.voc.owner(a) for a in r["aspect"]]
        r["actions"] = [", ".join(self.linked(u, a)["action_id"].astype(str)) for u, a in zip(r[unit], r["aspect"])]
        return r[key + ["this_week", "last_week", "recent_negative", "baseline_negative", "rate_ratio", "q_value",
                        "owner", "actions"]].reset_index(drop=True)

    def linked(self, unit, aspect) -> pd.DataFrame:
        """The register's actions answering ``aspect`` at ``unit``: their ``aspect`` is that aspect and their scope
        holds the unit (scoped by the unit's own column) or its region; dropped actions last."""
        a = self.actions
        cols = ["action_id", "title", "owner", "status", "start"]
        if a is None or not len(a) or "aspect" not in a:
            return pd.DataFrame(columns=cols)
        same = a["aspect"].astype(str).str.strip().str.lower() == str(aspect).lower()
        region = self.regions.get(unit)

        def covers(column, values) -> bool:
            v = set(split_values(values))
            return (column == self.voc.unit and str(unit) in v) or (column == "region" and region in v)

        scope = np.array([covers(c, v) for c, v in zip(a["scope_column"], a["scope_values"])], dtype=bool)
        hit = a[same.to_numpy() & scope]
        hit = hit.assign(_dropped=hit["status"] == "dropped").sort_values(["_dropped", "start", "action_id"])
        return hit.reindex(columns=cols)

    def aspect_week(self) -> pd.DataFrame:
        """Per aspect: negative mentions this week, the week before, and the weekly mean of the
        :attr:`VoCResult.baseline_weeks` weeks before the recent ones (the rising test's baseline)."""
        neg = self._negative()
        now, before = self._count(neg), self._count(neg, 1)
        start = self.bounds[0] - pd.Timedelta(weeks=self.voc.recent_weeks - 1)
        base = neg[(neg["created_at"] < start)
                   & (neg["created_at"] >= start - pd.Timedelta(weeks=self.voc.baseline_weeks))]
        out = pd.DataFrame({"this_week": now.groupby("aspect").size(), "last_week": before.groupby("aspect").size(),
                            "weekly_mean_before": base.groupby("aspect").size() / self.voc.baseline_weeks})
        out = out.fillna(0).astype({"this_week": int, "last_week": int})
        return out.sort_values(["this_week", "weekly_mean_before"], ascending=False)

    def drafts(self) -> pd.DataFrame:
        """A drafted action-register row (``actions.csv``'s columns) for every issue no action answers yet:
        planned, starting the Monday after the week, the owner from the instrument, complaints going down at the
        unit — for the owner to complete (cause, 5 Whys, expected size)."""
        i = self.issues()
        i = i[i["actions"] == ""]
        unit = self.voc.unit
        start = self.bounds[1].date().isoformat()
        rows = [{"action_id": f"{self.week}-{k + 1}",
                 "title": msg("weekly.draft_title", "Fewer complaints about {aspect} at {unit}",
                              aspect=term(r["aspect"]), unit=term(str(r[unit]))),
                 "kpi": "complaints", "scope_column": unit, "scope_values": str(r[unit]), "owner": r["owner"],
                 "cause": "", "why1": "", "start": start, "direction": "down", "status": "planned",
                 "aspect": r["aspect"]} for k, (_, r) in enumerate(i.iterrows())]
        return pd.DataFrame(rows, columns=["action_id", "title", "kpi", "scope_column", "scope_values", "owner",
                                           "cause", "why1", "start", "direction", "status", "aspect"])

    def metrics(self) -> WeeklyMetrics:
        start, end = self.bounds
        fb = self.voc.feedback
        this = fb[(fb["created_at"] >= start) & (fb["created_at"] < end)]
        issues = self.issues()
        unit = self.voc.unit
        return WeeklyMetrics(
            week=self.week, start=start.date().isoformat(), end=(end - pd.Timedelta(days=1)).date().isoformat(),
            data_end=self.data_end.date().isoformat(), feedback=int(len(this)),
            negative_mentions=int(len(self._count(self._negative()))),
            issues=[{"unit": str(r[unit]), "aspect": r["aspect"], "this_week": int(r["this_week"]),
                     "last_week": int(r["last_week"]), "rate_ratio": float(r["rate_ratio"]),
                     "q_value": float(r["q_value"]), "owner": r["owner"],
                     "actions": [a for a in r["actions"].split(", ") if a]} for _, r in issues.iterrows()],
            without_action=int((issues["actions"] == "").sum()), findings=self.findings())

    # ---- words -----------------------------------------------------------------------------------------
    def complete(self) -> bool:
        return self.data_end >= self.bounds[1] - pd.Timedelta(days=1)

    def findings(self) -> list[str]:
        issues = self.issues()
        if not len(issues):
            return [msg("weekly.no_issue", "No aspect's negative mentions rose significantly at any {unit} in the "
                        "{weeks} weeks up to {end}.", unit=term(self.voc.unit), weeks=self.voc.recent_weeks,
                        end=_day(self.bounds[1] - pd.Timedelta(days=1)))]
        out = [self.voc.issue_line(issues.iloc[0])]
        missing = int((issues["actions"] == "").sum())
        if missing:
            out.append(msg("weekly.without_action", "Rising issues without a PDCA action yet: {n} of {total} (a "
                           "draft row for each is in draft_actions.csv).", n=missing, total=len(issues)))
        else:
            out.append(msg("weekly.all_answered", "Every rising issue has an action in the PDCA register."))
        return out

    def headline(self) -> list[dict]:
        m = self.metrics()
        return [headline("Feedback this week", m.feedback), headline("Rising issues", len(m.issues)),
                headline("Issues without an action", m.without_action)]

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"rising issues": self.issues(), "aspects this week": self.aspect_week().reset_index(),
                "draft actions": self.drafts()}

    def write_files(self, out_dir) -> list:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = [write_excel({"rising issues": self.issues(), "aspects this week": self.aspect_week()},
                             out / "weekly_issues.xlsx", index=False)]
        drafts = self.drafts()
        if len(drafts):
            files.append(write_csv(drafts, out / "draft_actions.csv", index=False))
        return files

    def _action_line(self, row) -> str:
        return msg("weekly.action", "{id} “{title}” — {owner}, {status} since {start}.", id=str(row["action_id"]),
                   title=str(row["title"]), owner=str(row["owner"]) if pd.notna(row["owner"]) else "–",
                   status=term(str(row["status"])), start=_day(row["start"]))

    def sections(self) -> dict:
        start, end = self.bounds
        m = self.metrics()
        week = [text(msg("weekly.period", "Week {week}: {start} to {end}. {n:,} pieces of feedback this week, "
                         "{neg:,} negative aspect mentions.", week=self.week, start=_day(start),
                         end=_day(end - pd.Timedelta(days=1)), n=m.feedback, neg=m.negative_mentions))]
        if not self.complete():
            week.append(text(msg("weekly.incomplete", "The feedback ends on {day}: this week is not complete.",
                                 day=_day(self.data_end))))
        aw = self.aspect_week()
        aw.index = [labels.label(a) for a in aw.index]
        week += [table(aw, lambda s: s.format({"weekly_mean_before": "{:.1f}"}), own_formats=("weekly_mean_before",)),
                 figure(lambda: plots.bar_chart(aw["this_week"], title="Negative mentions per aspect this week",
                                                digits=0, rotation=30, color="#C44E52"), "this week")]
        unit = self.voc.unit
        issues = self.issues()
        if len(issues):
            found = [text(msg("weekly.rising_count", "Rising issues as of {end}: {n} — an aspect whose negative "
                              "mentions per piece of feedback rose at a {unit} in the {weeks} weeks up to then "
                              "against the {base} weeks before (q ≤ .05).", end=_day(end - pd.Timedelta(days=1)),
                              n=len(issues), unit=term(unit), weeks=self.voc.recent_weeks,
                              base=self.voc.baseline_weeks))]
        else:
            found = [text(self.findings()[0])]
        for _, r in issues.iterrows():
            lines = [self.voc.issue_line(r),
                     msg("weekly.this_week", "This week {now}, the week before {before}.", now=int(r["this_week"]),
                         before=int(r["last_week"]))]
            if r["owner"]:
                lines.append(msg("voc.owner", "Owner: {owner}.", owner=r["owner"]))
            acts = self.linked(r[unit], r["aspect"])
            if len(acts):
                lines.append(msg("weekly.actions", "PDCA actions:") + " " + " ".join(
                    self._action_line(a) for _, a in acts.iterrows()))
            else:
                lines.append(msg("weekly.no_action", "No PDCA action answers it yet (a draft is below)."))
            said = "\n".join(f"- “{q_}”" for q_ in self.voc.quotes(r[unit], r["aspect"]))
            found.append(text(" ".join(lines) + "\n\n" + said))
        if self.pdca_page:
            found.append(text(msg("weekly.pdca_link", "The actions' effects: [the PDCA page of {quarter}]({link}).",
                                  quarter=quarter_of_week(self.week), link=self.pdca_page)))
        drafts = self.drafts()
        if len(drafts):
            draft = [text(msg("weekly.drafts_how", "Rows for the action register (actions.csv), one per issue without "
                              "an action: the owner completes the cause, the 5 Whys and the expected size, then adds "
                              "it.")), table(drafts, lambda s: s.hide(axis="index"))]
        else:
            draft = [text(msg("weekly.no_drafts", "No drafts: every issue has an action."))]
        return {"week": week, "issues": found, "drafts": draft}


def run_weekly(folder, *, week: str = "", unit: str = "", lexicon: str = "", recent_weeks: int = RECENT_WEEKS,
               baseline_weeks: int = BASELINE_WEEKS, min_count: int = MIN_COUNT, top: int = TOP,
               reports_dir: str = "", tickets: bool = False) -> WeeklyResult | Unavailable:
    """The weekly improvement page: the pipeline of notebook ``weekly/weekly_improvement``.

    Parameters
    ----------
    folder : DataFolder
        Needs ``feedback``; its ``actions`` (the PDCA register), when present, link issues to actions.
    week : str
        ``"2026-W39"`` (ISO week); default :func:`default_week`, the last complete week of the feedback.
    unit, lexicon, recent_weeks, baseline_weeks, min_count, tickets
        As for :func:`sqmlib.voc.run_voc`; the recent weeks end with ``week``.
    top : int
        Rising issues shown.
    reports_dir : str
        The folder of this data's reports: the quarter's PDCA page there is linked when it has been built.
    """
    f = listening_posts(folder, tickets=tickets)
    if f is None or not len(f) or f["created_at"].notna().sum() == 0:
        return no_feedback(WeeklyResult, "week")
    dates = f["created_at"].dropna()
    week = week or default_week(dates)
    start, end = week_bounds(week)
    if start > dates.max() or end <= dates.min():
        raise SQMArgumentError(f"no feedback in week {week}: the feedback runs from {week_of(dates.min())} to "
                               f"{week_of(dates.max())}")
    # the feedback known at the week's end, every listening post in it (read once)
    known = dataclasses.replace(folder, feedback=f[f["created_at"] < end], survey=None, interactions=None)
    voc = run_voc(known, unit=unit, lexicon=lexicon, recent_weeks=recent_weeks, baseline_weeks=baseline_weeks,
                  min_count=min_count, polarity_model=False)
    fb = voc.feedback
    regions = {}
    if "region" in fb and voc.unit != "region":
        regions = fb.dropna(subset=[voc.unit, "region"]).groupby(voc.unit)["region"].agg(
            lambda s: s.mode().iloc[0]).to_dict()
    link = ""
    if reports_dir:
        page = Path(reports_dir) / quarter_of_week(week) / PDCA_PAGE
        if page.is_file():
            link = f"../{quarter_of_week(week)}/{PDCA_PAGE}"
    return WeeklyResult(week=week, voc=voc, data_end=min(dates.max(), end - pd.Timedelta(seconds=1)).normalize(),
                        actions=folder.actions, regions=regions, pdca_page=link, top=top)
