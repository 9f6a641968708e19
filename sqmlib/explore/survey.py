"""The survey and driver explorers."""
from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any, Mapping, Sequence

import pandas as pd

from .. import drivers, gaps
from ..errors import Problem, SQMArgumentError, SQMDataError, SQMWarning
from ..render import plots
from ..render.labels import item_wording
from ..render.messages import msg, term
from .base import ALL, NONE, View, _dropdowns, _segment_values, _subset, _SurveyBased, control_label, option_label


# ---------------------------------------------------------------------------------------------------------
# survey
# ---------------------------------------------------------------------------------------------------------
class SurveyExplorer(_SurveyBased):
    """Gaps, zone of tolerance and IPA for any quarter × segment, block and dimension.

    Parameters
    ----------
    survey : DataFrame
        As :func:`sqmlib.io.load_survey` returns it (careless respondents already removed, if wanted).
    instrument : Instrument or name
    segments : sequence of str, optional
        Segment columns offered; default every text column with 2–30 values.
    quarter : str, optional
        Default quarter (default: the latest).
    """

    name = "survey"
    title = "Survey explorer"
    BLOCKS = ("gap", "P", "E")

    def __init__(self, survey: pd.DataFrame, instrument, *, segments: Sequence[str] | None = None,
                 quarter: str | None = None):
        super().__init__(survey, instrument, segments, quarter)
        blocks = set(self.inst.blocks)
        self.blocks = [b for b in self.BLOCKS if b in blocks or (b == "gap" and self.inst.has_expectations)]

    def defaults(self) -> dict:
        return {"quarter": self.default_quarter, "segment": NONE, "value": ALL,
                "block": self.blocks[0], "dimension": ALL}

    def options(self, segment: str = NONE) -> dict:
        return {"quarter": self.quarters + [ALL], "segment": [NONE] + self.segments,
                "value": _segment_values(self.survey, segment), "block": self.blocks,
                "dimension": [ALL] + list(self.inst.dimensions)}

    def statistics(self, quarter: str, segment: str, value) -> dict:
        """Gap table, item means, zone of tolerance and IPA of one subset (cached)."""
        def compute():
            sub = _subset(self.survey, quarter, segment, value)
            inst = self.inst
            out = {"n": len(sub), "gaps": None, "zone": None, "ipa": None,
                   "means": {b: gaps.item_means(sub, inst, b) for b in ("P", "E") if b in self.blocks}}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SQMWarning)
                if inst.has_expectations:
                    out["gaps"] = gaps.servqual_gaps(sub, inst, wilcoxon=False)
                if all(b in inst.blocks for b in "AD") and all(c in sub for c in inst.item_columns("A") + inst.item_columns("D")):
                    out["zone"] = gaps.zone_of_tolerance(sub, inst)
                if "overall_sat" in sub and sub["overall_sat"].notna().sum() > 2:
                    out["ipa"] = gaps.ipa(sub, inst, level="item", importance="derived")
            return out

        return self._cached(("stats", quarter, segment, str(value)), compute)

    def view(self, **selection) -> View:
        sel = self._complete(selection)
        if sel["block"] not in self.blocks:
            raise SQMArgumentError(f"block must be one of {self.blocks}")
        if sel["dimension"] not in (ALL, *self.inst.dimensions):
            raise SQMArgumentError(f"dimension must be {ALL!r} or one of {list(self.inst.dimensions)}")
        q, seg, val = self._subset_key(sel)
        st = self.statistics(q, seg, val)
        inst = self.inst
        items = list(inst.items) if sel["dimension"] == ALL else list(inst.dimensions[sel["dimension"]])
        table = pd.DataFrame({"item": items, "dimension": [inst.dimension_of(i) for i in items],
                              "text": [inst.text(i) for i in items]})
        block = sel["block"]
        if block == "gap":  # paired: respondents who answered both E and P
            gi = st["gaps"][st["gaps"]["level"] == "item"].set_index("name")
            table = table.join(gi[["n", "mean_e", "mean_p", "gap", "ci_low", "ci_high", "p_adj"]], on="item")
        else:  # every answer of the block
            m = st["means"][block].set_index("item")
            table = table.join(m[["n", "mean", "sd", "ci_low", "ci_high"]].add_prefix(f"{block}_"), on="item")
        if st["zone"] is not None:
            table = table.join(st["zone"].set_index("item")[["mean_adequate", "mean_desired", "position"]], on="item")
        if st["ipa"] is not None:
            table = table.join(st["ipa"].table[["importance", "quadrant"]], on="item")
        subset = (q, seg, val, sel["dimension"])
        charts = [(("block", block, *subset), self._block_chart(st, block, items))]
        if st["zone"] is not None:
            zone = st["zone"][st["zone"]["item"].isin(items)]
            zone_title = msg("explore.chart.zone", "Zone of tolerance")
            charts.append((("zone", *subset), lambda: plots.zone_chart(zone, title=zone_title)))
        if st["ipa"] is not None:
            res = st["ipa"]
            shown = replace(res, table=res.table.loc[items])
            ipa_title = msg("explore.chart.ipa", "Importance–performance (crosshair over all items)")
            charts.append((("ipa", *subset), lambda: plots.ipa_plot(shown, title=ipa_title)))
        where = option_label("quarter", q) + (f", {option_label('segment', seg)} = {option_label('value', val)}"
                                              if seg != NONE else "")
        return View(sel, table, charts=tuple(charts),
                    note=msg("explore.survey_note", "{n:,} respondents ({where})", n=st["n"], where=where))

    def _likely(self) -> list:
        q = self.default_quarter
        jobs = [lambda c=c, v=v: self._render(segment=c, value=v) for c in self.segments
                for v in _segment_values(self.survey, c)[1:]]
        jobs += [lambda b=b: self._render(block=b) for b in self.blocks]
        jobs += [lambda d=d: self._render(dimension=d) for d in self.inst.dimensions]
        jobs += [lambda o=o: self._render(quarter=o) for o in self.quarters + [ALL] if o != q]
        return jobs

    def _block_chart(self, st: dict, block: str, items: list[str]):
        labels = {i: item_wording(self.inst.text(i)) for i in items}
        if block == "gap":
            g = st["gaps"]
            t = g[(g["level"] == "item") & g["name"].isin(items)]
            title = msg("explore.chart.gaps", "Item gaps (P − E) with 95% intervals")
            return lambda: plots.item_gaps(t, labels=labels, title=title)
        m = st["means"][block]
        t = m[m["item"].isin(items)]
        title = msg("explore.chart.means", "Mean {block} with 95% intervals", block=option_label("block", block))
        return lambda: plots.item_means(t, labels=labels, scale=(self.inst.scale_min, self.inst.scale_max),
                                        title=title)

    def _controls(self) -> dict:
        import ipywidgets as w

        d = self.defaults()
        opts = self.options(d["segment"])
        c = _dropdowns({k: opts[k] for k in ("quarter", "segment", "value", "dimension")}, d)
        c["block"] = w.ToggleButtons(options=[(option_label("block", b), b) for b in opts["block"]],
                                     value=d["block"], description=control_label("block"))
        return {k: c[k] for k in ("quarter", "segment", "value", "block", "dimension")}

# ---------------------------------------------------------------------------------------------------------
# drivers
# ---------------------------------------------------------------------------------------------------------
class DriverExplorer(_SurveyBased):
    """Relative importance (LMG share of R² with bootstrap intervals) and the driver matrix.

    Parameters
    ----------
    survey : DataFrame
    instrument : Instrument or name
    customers : DataFrame, optional
        Adds the outcome ``churned`` (leaving within ``horizon_days`` of answering).
    n_boot : int
        Bootstrap resamples for the intervals at dimension level. Item level shows LMG without intervals:
        each resample would need R² of all 2^22 subsets again.
    """

    name = "drivers"
    title = "Driver explorer"
    LEVELS = drivers.LEVELS

    def __init__(self, survey: pd.DataFrame, instrument, *, customers: pd.DataFrame | None = None,
                 horizon_days: int = 180, segments: Sequence[str] | None = None, quarter: str | None = None,
                 n_boot: int = 200, seed: int = 0):
        super().__init__(survey, instrument, segments, quarter)
        self.outcomes = [o for o in ("overall_sat", "nps", "ces") if o in survey and survey[o].notna().any()]
        self.followed, self.churn_quarters, self.horizon_days = None, [], horizon_days
        if customers is not None and "customer_id" in survey:
            self.followed, latest = drivers.churn_followed(survey, customers, horizon_days)
            if self.followed["churned"].nunique() == 2:
                self.outcomes.append("churned")
                # quarters whose every respondent could be followed for the whole horizon
                self.churn_quarters = [q for q in self.quarters if q <= latest]
        if not self.outcomes:
            raise SQMDataError("survey", [Problem("missing_column", "no outcome column (overall_sat, nps, ces)")])
        self.n_boot, self.seed = n_boot, seed

    def defaults(self) -> dict:
        return {"quarter": self.default_quarter, "outcome": self.outcomes[0], "level": "dimension",
                "segment": NONE, "value": ALL}

    def options(self, segment: str = NONE) -> dict:
        return {"quarter": self.quarters + [ALL], "outcome": self.outcomes, "level": list(self.LEVELS),
                "segment": [NONE] + self.segments, "value": _segment_values(self.survey, segment)}

    def frame(self, quarter: str, outcome: str, level: str, segment: str, value) -> pd.DataFrame:
        """Drivers (mean perception per dimension, or items) and the outcome, complete rows only."""
        if outcome not in self.outcomes:
            raise SQMArgumentError(f"outcome must be one of {self.outcomes}")
        source = self.followed if outcome == "churned" else self.survey
        if outcome == "churned" and quarter not in (ALL, "", None) and quarter not in self.churn_quarters:
            raise SQMDataError("survey", [Problem("too_few_rows", (
                f"churn within {self.horizon_days} days of answering is known only for quarters "
                f"{', '.join(self.churn_quarters) or 'none'} (or all quarters), not {quarter}"))])
        return drivers.driver_table(_subset(source, quarter, segment, value), self.inst, outcome, level)

    def importance(self, quarter: str, outcome: str, level: str, segment: str, value) -> tuple:
        """Relative importance (:class:`sqmlib.drivers.Importance`) and the driver matrix
        (:class:`sqmlib.drivers.DriverMatrix`) of one selection (cached)."""
        def compute():
            f = self.frame(quarter, outcome, level, segment, value)
            names = [c for c in f.columns if c != outcome]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SQMWarning)
                imp = drivers.relative_importance(f, outcome, names, methods=("lmg",),
                                                  n_boot=self.n_boot if level == "dimension" else 0, seed=self.seed)
            return imp, drivers.driver_matrix(f, imp)

        return self._cached(("imp", quarter, outcome, level, segment, str(value)), compute)

    def view(self, **selection) -> View:
        sel = self._complete(selection)
        quarter, segment, value = self._subset_key(sel)
        imp, matrix = self.importance(quarter, sel["outcome"], sel["level"], segment, value)
        table = matrix.table.join(imp.table.drop(columns=[c for c in imp.table.columns if c in matrix.table.columns]))
        table = table.sort_values("importance", ascending=False).reset_index()
        if sel["level"] == "item":
            table.insert(1, "text", [self.inst.text(i) for i in table["driver"]])
        labels = {i: item_wording(self.inst.text(i)) for i in self.inst.items} if sel["level"] == "item" else None
        model = (msg("explore.linear_probability", "linear probability model") if sel["outcome"] == "churned" else
                 msg("explore.linear_regression", "linear regression"))
        parts = {"n": imp.n, "outcome": term(sel["outcome"]), "model": model, "r2": imp.r2}
        note = (msg("explore.driver_note", "{n:,} respondents, {outcome} ({model}), R² = {r2:.3f}", **parts)
                if sel["level"] == "dimension" else
                msg("explore.driver_note_items", "{n:,} respondents, {outcome} ({model}), R² = {r2:.3f}; no intervals "
                    "at item level", **parts))
        key = (quarter, sel["outcome"], sel["level"], segment, value)
        title = msg("explore.chart.importance", "Share of R² for {outcome}", outcome=option_label("outcome", sel["outcome"]))
        return View(sel, table, charts=(
            (("importance", *key), lambda: plots.importance_bars(imp, labels=labels, title=title)),
            (("matrix", *key), lambda: plots.driver_matrix(matrix))), note=note)

    def _likely(self) -> list:
        d = self.defaults()
        q = d["quarter"]
        jobs = [lambda lv=lv: self._render(level=lv) for lv in self.LEVELS]
        jobs += [lambda o=o: self._render(outcome=o) for o in self.outcomes if o not in ("churned", d["outcome"])]
        jobs += [lambda c=c, v=v: self._render(segment=c, value=v) for c in self.segments
                 for v in _segment_values(self.survey, c)[1:]]
        jobs += [lambda qq=qq: self._render(quarter=qq) for qq in self.quarters + [ALL] if qq != q]
        return jobs

    def _controls(self) -> dict:
        d = self.defaults()
        return _dropdowns(self.options(d["segment"]), d)

    def adjust(self, selection: Mapping[str, Any], changed: str = "") -> dict:
        """Choosing churn as the outcome moves the quarter to the latest one whose horizon is over."""
        sel = super().adjust(selection, changed)
        if changed == "outcome" and sel["outcome"] == "churned" and sel["quarter"] not in [ALL, *self.churn_quarters]:
            sel["quarter"] = self.churn_quarters[-1] if self.churn_quarters else ALL
        return sel
