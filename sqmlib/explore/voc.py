"""The feedback explorer: pick an aspect, a unit (store or region), a week and a listening post (reviews, calls,
tickets, survey comments) → the feedback that mentions it, with
each text's aspects and their sentiment (as the voice-of-the-customer page reads them) and the negative mentions
per week."""
from __future__ import annotations


import pandas as pd

from .. import voc
from ..errors import SQMArgumentError
from ..render import labels, plots
from ..render.messages import msg, term
from .base import ALL, View, _Choices

__all__ = ["FeedbackExplorer"]

SHOWN = 200  # pieces of feedback listed, the latest first


class FeedbackExplorer(_Choices):
    """Search the feedback by aspect, unit and week (:func:`sqmlib.voc.run_voc`'s reading of it)."""

    name = "feedback"
    title = "Customer feedback"

    def __init__(self, result):
        super().__init__()
        if getattr(result, "unavailable", False):
            raise SQMArgumentError(f"no feedback to explore: {result.reason}")
        self.result = result
        self.unit = result.unit
        m = result.mentions
        self.aspects = sorted(m["aspect"].unique())
        self.units = sorted(result.feedback[self.unit].dropna().astype(str).unique())
        self.weeks = [str(pd.Timestamp(w).date()) for w in sorted(result.feedback["week"].unique())]
        self.sources = sorted(result.feedback["source"].astype(str).unique())
        self._source = m["text_id"].map(result.feedback.set_index("feedback_id")["source"].astype(str))

    @classmethod
    def from_folder(cls, folder, **kwargs) -> "FeedbackExplorer":
        """Read the folder's feedback as the page does (the lexicon's polarity: no model is fitted here)."""
        return cls(voc.run_voc(folder, polarity_model=False, **kwargs))

    def defaults(self) -> dict:
        return {"aspect": ALL, self.unit: ALL, "week": ALL, "source": ALL}

    def options(self, segment=None, region=ALL) -> dict:
        return {"aspect": [ALL] + self.aspects, self.unit: [ALL] + self.units, "week": [ALL] + self.weeks,
                "source": [ALL] + self.sources}

    def view(self, **selection) -> View:
        sel = self.adjust(selection)
        r, m = self.result, self.result.mentions
        keep = pd.Series(True, index=m.index)
        if sel["aspect"] != ALL:
            keep &= m["aspect"] == sel["aspect"]
        if sel[self.unit] != ALL:
            keep &= m[self.unit].astype(str) == str(sel[self.unit])
        if sel["week"] != ALL:
            keep &= pd.to_datetime(m["week"]) == pd.Timestamp(sel["week"])
        if sel["source"] != ALL:
            keep &= self._source == sel["source"]
        hit = m[keep]
        ids = list(dict.fromkeys(hit.sort_values("created_at", ascending=False)["text_id"]))
        classified = self._cached(("classified", labels.current()), r.classified)  # aspects in the reader's words
        table = classified.set_index("feedback_id").loc[ids[:SHOWN]].reset_index()
        neg = hit[hit["polarity"] < 0]
        per_week = neg.groupby("week").size().reindex(sorted(r.feedback["week"].unique()), fill_value=0)
        per_week.index = [pd.Timestamp(w).strftime("%m-%d") for w in per_week.index]
        note = msg("explore.feedback_note", "{n:,} pieces of feedback; {neg:,} negative mentions", n=len(ids),
                   neg=len(neg))
        what = term(sel["aspect"]) if sel["aspect"] != ALL else labels.label(ALL)
        key = ("weeks", sel["aspect"], str(sel[self.unit]), sel["week"], sel["source"])
        charts = ((key, lambda: plots.bar_chart(per_week, f"Negative mentions per week: {what}", "week starting",
                                                "negative mentions", digits=0, rotation=90, color="#C44E52")),)
        return View(sel, table, charts=charts, note=note)

    def _likely(self) -> list:
        return [lambda a=a: self._render(aspect=a) for a in self.aspects[:4]]
