"""The mystery-shopping explorer: a quarter, a region and a store → the league with intervals, the compliance
heat map and the store's visits."""
from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from .. import mystery
from ..errors import Problem, SQMArgumentError, SQMDataError
from ..render import seed_plots
from ..render.language import current
from ..render.messages import msg
from .base import ALL, View, _dropdowns, _Explorer, option_label


class MysteryExplorer(_Explorer):
    """Audit visits for any quarter × region × store (:mod:`sqmlib.mystery`): with every store, the league table
    with bootstrap intervals and the item compliance heat map of the region's stores; with one store, its visits
    and their failed critical items."""

    name = "mystery"
    title = "Mystery shopping"

    def __init__(self, folder, *, quarter: str = "", n_boot: int = 1000):  # as the page: the same groups
        super().__init__()
        if folder.visits is None or folder.instrument.checklist is None:
            raise SQMDataError(str(folder.path), [Problem("missing_file", "no audit visits in the data folder")])
        ck = folder.instrument.checklist
        self.checklist = ck
        self.scored, self.visits = mystery.scored_visits(folder)
        self.quarters = sorted(self.visits["quarter"].dropna().unique())
        self.regions = sorted(self.visits["region"].dropna().astype(str).unique())
        self.default_quarter = quarter if quarter in self.quarters else self.quarters[-1]
        self.n_boot = n_boot

    @classmethod
    def from_folder(cls, folder, *, quarter: str = "", **kwargs) -> "MysteryExplorer":
        return cls(folder, quarter=quarter, **kwargs)

    def defaults(self) -> dict:
        return {"quarter": self.default_quarter, "region": ALL, "store": ALL}

    def stores(self, region=ALL) -> list[str]:
        v = self.visits if region in (ALL, "", None) else self.visits[self.visits["region"].astype(str) == str(region)]
        return sorted(v["store"].astype(str).unique())

    def options(self, segment=None, region=ALL) -> dict:
        return {"quarter": self.quarters, "region": [ALL] + self.regions, "store": [ALL] + self.stores(region)}

    def adjust(self, selection: Mapping[str, Any], changed: str = "") -> dict:
        """The store follows the region: a store outside the chosen region selects every store."""
        sel = super().adjust(selection, changed)
        if sel["quarter"] not in self.quarters:
            raise SQMArgumentError(f"quarter must be one of {self.quarters}")
        if sel["region"] not in [ALL] + self.regions:
            sel["region"] = ALL
        if sel["store"] not in [ALL] + self.stores(sel["region"]):
            sel["store"] = ALL
        return sel

    def valid(self, **selection) -> dict:
        opts = self.options(region=selection.get("region", ALL))
        return {k: v for k, v in selection.items() if k in opts and v in opts[k]}

    def league(self, quarter: str, region) -> pd.DataFrame:
        """The quarter's league (ranks and groups against the whole chain, as the page has them), cut to one
        region's stores (cached)."""
        def compute():
            v = self._rows(quarter, ALL)
            ranks = mystery.rank_intervals(v, "store", n_boot=self.n_boot)
            ranks.attrs["chain"] = float(v["score"].mean())
            return ranks
        whole = self._cached(("league", quarter), compute)
        if region in (ALL, "", None):
            return whole
        part = whole.loc[whole.index.isin(self.stores(region))]
        part.attrs["chain"] = whole.attrs["chain"]
        return part

    def _rows(self, quarter: str, region) -> pd.DataFrame:
        v = self.visits[self.visits["quarter"] == quarter]
        return v if region in (ALL, "", None) else v[v["region"].astype(str) == str(region)]

    def view(self, **selection) -> View:
        sel = self.adjust(selection)
        q, region, store = sel["quarter"], sel["region"], sel["store"]
        rows = self._rows(q, region)
        if self._rows(q, ALL)["store"].nunique() < 2 or rows.empty:
            raise SQMArgumentError("fewer than two stores with visits in this quarter, or none in this region")
        league = self.league(q, region)
        names = {i.id: i.text.get(current()) or i.text.get("en") or i.id for i in self.checklist.items}
        s = self.scored[self.scored["visit_id"].isin(set(rows["visit_id"]))]
        heat = mystery.item_compliance(s)["share"].unstack("item_id")
        heat = heat[[i for i in names if i in heat.columns]].rename(columns=names)
        key = (q, str(region))
        charts = [(("league", *key), lambda: seed_plots.league_chart(league)),
                  (("heat", *key), lambda: seed_plots.compliance_heatmap(heat))]
        if store in (ALL, "", None):
            table = league[["visits", "score", "ci_low", "ci_high", "rank", "rank_low", "rank_high", "group"]]
            note = msg("explore.mystery_note", "{visits:,} visits to {stores} stores; mean score {score:.1f}",
                       visits=len(rows), stores=rows["store"].nunique(), score=rows["score"].mean())
        else:
            mine = rows[rows["store"].astype(str) == str(store)]
            table = mine[["visit_id", "visit_date", "shopper_id", "score", "failed_items"]].assign(
                visit_date=mine["visit_date"].dt.strftime("%Y-%m-%d"),
                failed_items=mine["failed_items"].map(lambda t: "; ".join(names.get(i, i) for i in t.split(", ") if i)))
            r = league.loc[store]
            note = msg("explore.mystery_store_note", "{store}: {visits} visits, score {score:.1f} [{low:.1f}, {high:.1f}], "
                       "rank {rank} ({rank_low}–{rank_high})", store=store, visits=int(r["visits"]), score=r["score"],
                       low=r["ci_low"], high=r["ci_high"], rank=int(r["rank"]), rank_low=int(r["rank_low"]),
                       rank_high=int(r["rank_high"]))
        return View(sel, table.reset_index(drop=store not in (ALL, "", None)), charts=tuple(charts), note=note)

    def _likely(self) -> list:
        return [lambda r=r: self._render(region=r) for r in self.regions]

    def _controls(self) -> dict:
        d = self.defaults()
        return _dropdowns(self.options(), d)

    def _on_control(self, name: str, controls: dict) -> None:
        if name == "region":
            controls["store"].options = [(option_label("store", o), o) for o in self.options(
                region=controls["region"].value)["store"]]
        for k, v in self.adjust({k: c.value for k, c in controls.items()}, name).items():
            if k in controls and controls[k].value != v:
                controls[k].value = v

