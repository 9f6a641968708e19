"""The PDCA explorer: pick a KPI, a change (two quarters) and the columns to drill into → the segments that
explain the change, as the PDCA page ranks them, and first-contact resolution's change split into mix and rate."""
from __future__ import annotations


import pandas as pd

from .. import pdca
from ..errors import Problem, SQMArgumentError, SQMDataError
from ..render import seed_plots
from ..render.messages import msg, term
from .base import ALL, View, _Choices

__all__ = ["PDCAExplorer", "DRILL_KPIS"]

# what can be drilled: the tickets counted (additive KPIs)
DRILL_KPIS = ("complaints", "unresolved_complaints", "enquiries")


class PDCAExplorer(_Choices):
    """Where did it move? For any two quarters of the tickets: the drill-down of complaints, unresolved
    complaints or enquiries over region, channel, category, severity and store (or one of them), the
    explanations ranked as on the PDCA page (:func:`sqmlib.pdca.drill_down`), and the change of first-contact
    resolution split into mix and rate over the chosen column (region when every column is searched)."""

    name = "pdca"
    title = "Where did it move?"

    def __init__(self, folder):
        super().__init__()
        t = folder.interactions
        if t is None:
            raise SQMDataError(str(folder.path), [Problem("missing_file", "no tickets (interactions) in the data folder")])
        self.tickets = t.assign(quarter=t["opened_at"].dt.to_period("Q").astype(str))
        self.quarters = sorted(self.tickets["quarter"].dropna().unique())
        if len(self.quarters) < 2:
            raise SQMDataError(str(folder.path), [Problem("too_few_rows", "tickets of one quarter only: no change "
                                                                          "to explain")])
        self.dims = [d for d in pdca.DRILL_DIMS if d in t]

    @classmethod
    def from_folder(cls, folder, **kwargs) -> "PDCAExplorer":
        return cls(folder)

    def defaults(self) -> dict:
        return {"kpi": "complaints", "before": self.quarters[-2], "after": self.quarters[-1], "dims": ALL}

    def options(self, segment=None, region=ALL) -> dict:
        return {"kpi": list(DRILL_KPIS), "before": self.quarters, "after": self.quarters, "dims": [ALL] + self.dims}

    def rows(self, kpi: str) -> pd.DataFrame:
        t = self.tickets
        kind = t["type"] if "type" in t else pd.Series("complaint", index=t.index)
        if kpi == "enquiries":
            return t[kind == "enquiry"]
        c = t[kind == "complaint"]
        return c[~c["first_contact_resolved"].astype(bool)] if kpi == "unresolved_complaints" else c

    def explanations(self, kpi: str, before: str, after: str, dims) -> pd.DataFrame:
        """The drill-down of a selection (cached): as the PDCA page's for complaints and every column."""
        def compute():
            cols = self.dims if dims in (ALL, "", None) else [dims]
            return pdca.drill_down(self.rows(kpi), kpi=None, dims=cols, before=("quarter", before),
                                   after=("quarter", after), depth=2 if len(cols) > 1 else 1)
        return self._cached(("drill", kpi, before, after, str(dims)), compute)

    def view(self, **selection) -> View:
        sel = self.adjust(selection)
        kpi, before, after, dims = sel["kpi"], sel["before"], sel["after"], sel["dims"]
        if before == after:
            raise SQMArgumentError("choose two different quarters")
        rows = self.rows(kpi)
        n0, n1 = int((rows["quarter"] == before).sum()), int((rows["quarter"] == after).sum())
        ex = self.explanations(kpi, before, after, dims)
        table = ex.assign(segments=ex["segments"].map(pdca.segments_text), dims=ex["dims"].map(pdca.dims_text))[
            ["segments", "dims", "power", "before", "after"]]
        table = table.astype({c: int for c in ("before", "after")})  # tickets counted
        note = msg("explore.pdca_note", "{kpi}: {n0:,} in {before}, {n1:,} in {after}", kpi=term(kpi),
                   n0=n0, n1=n1, before=before, after=after)
        if len(ex):
            note = msg("explore.pdca_note_top", "{note}; {top}", note=note, top=pdca.explanation_line(ex.iloc[0], kpi, bold=False))
        extra = {}
        by = "region" if dims in (ALL, "", None) else dims
        c = self.rows("complaints")
        if by in c and (c["quarter"] == before).any() and (c["quarter"] == after).any():
            d = pdca.decompose_change(c.assign(fcr=c["first_contact_resolved"].astype(float)), value="fcr", by=by,
                                      between=("quarter", before, after))
            extra["First-contact resolution: mix and rate"] = d.segments.reset_index()
        key = (kpi, before, after, str(dims))
        charts = ((("drill", *key), lambda: seed_plots.drill_chart(table.head(6), before, after)),) if len(ex) else ()
        return View(sel, table, charts=charts, note=note, extra=extra)

    def _likely(self) -> list:
        return [lambda d=d: self._render(dims=d) for d in self.dims]
