"""The pipeline of the gap notebook: :func:`run_gaps` and its result."""
from __future__ import annotations

from .ipa import IPAResult, ipa, zone_of_tolerance
from .paired import CROSSHAIRS, MOMENTS_NOTE
from ..mystery import gap_evidence
from .segments import SegmentDifferences, gap1, gap_trend, gaps_model_summary, item_label, largest_gaps, segment_differences
from .tables import servperf_table, servqual_gaps
from typing import Mapping
from dataclasses import dataclass
import pandas as pd
from ..render import labels, plots, statements
from ..render.messages import listed, msg, no_items_reason, period, term, unavailable_line, unweighted_note
from ..moments.engines import check_engine
from ..errors import SQMArgumentError
from ..instruments import Instrument
from ..psychometrics.invariance import SurveyInvariance, survey_invariance
from ..io import DataFolder
from ..moments import survey_moments
from ..periods import quarter_bounds
from ..results import Block, Result, Unavailable, figure, headline, table, text
from ..kpi.tickets import standard_attainment


# ---------------------------------------------------------------------------------------------------------
# the pipeline of the gap notebook
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GapMetrics:
    """Key figures of :func:`run_gaps` (``metrics.json`` of the gap notebook)."""

    respondents: int
    mode: str  # "servqual" or "servperf"
    dimension_gap: dict
    dimension_ci: dict
    overall_gap: float | None
    weighted_gap: float | None
    largest_item_gaps: list
    concentrate_here: list
    ipa_rule: str
    gap1_mean: float | None
    standards_share_meeting: float | None
    findings: list
    segment_invariance: str  # lowest level over the E and P blocks across the segments ("" = not tested)
    quarter_invariance: str  # the same across the quarters of the trend


@dataclass(frozen=True)
class GapResult(Result):
    """What :func:`run_gaps` found: gaps per item, dimension and overall, zone of tolerance, IPA, the gaps
    model, segment comparisons and the trend."""

    title = "Gap analysis"
    notebook = "02_gap_analysis"

    quarter: str
    instrument: Instrument
    engine: str
    respondents: int
    servperf: bool
    table: pd.DataFrame
    notes: tuple
    zone: pd.DataFrame | None
    ipa_result: IPAResult
    ipa_level: str
    gap1_table: pd.DataFrame | None
    attainment: pd.DataFrame | None
    segment: str
    segment_table: pd.DataFrame | None
    segment_tests: SegmentDifferences | None
    trend: pd.DataFrame | None
    segment_invariance: SurveyInvariance | None = None
    quarter_invariance: SurveyInvariance | None = None
    ipa_note: str = ""  # how importance was found when the survey lacks overall satisfaction
    unweighted: str = ""  # the survey's sampling-weight column, which this analysis does not apply
    sample_weight: str = ""  # the sampling-weight column the gap table applies
    audit_evidence: Mapping | None = None  # mystery shopping's evidence on gaps 3 and 5 (mystery.gap_evidence)

    def _dims(self) -> pd.DataFrame:
        return self.table[self.table["level"] == "dimension"].set_index("name")

    def largest(self) -> list[str]:
        """Plain-language lines for the three largest significant item shortfalls (SERVPERF: the three
        lowest-rated items)."""
        if self.servperf:
            inst = self.instrument
            lo, hi = inst.block_scale("P")
            items = self.table[self.table["level"] == "item"].sort_values("mean_p").head(3)
            return [msg("gaps.lowest_item", "{item}: mean perception {mean:.2f} on {lo:g}–{hi:g} [{low:.2f}, "
                        "{high:.2f}].", item=item_label(inst, r.name), mean=r.mean_p, lo=lo, hi=hi, low=r.ci_low,
                        high=r.ci_high) for r in items.itertuples()]
        return largest_gaps(self.table, 3, "item", instrument=self.instrument)

    def fix_first(self) -> list[str]:
        """The 'what to fix first' text, line by line."""
        inst, crosshair = self.instrument, self.ipa_result.rule
        conc = self.ipa_result.concentrate_here()
        lines = self.largest()
        out = [msg("gaps.lowest_heading", "**Lowest-rated items**") if self.servperf else
               msg("gaps.largest_heading", "**Largest significant gaps**")] + [
            f"- {line}" for line in lines or [msg("gaps.none_significant", "none significant")]]
        names = listed(item_label(inst, c) if self.ipa_level == "item" else term(c)
                                                 for c in conc)
        out += ["", msg("gaps.concentrate", "**Concentrate here** (high importance, low performance; crosshair: "
                        "{crosshair}): {names}", crosshair=term(crosshair),
                        names=names or msg("gaps.none", "none"))]
        if self.segment_table is not None:
            col = "mean_p" if self.servperf else "gap"
            worst = self.segment_table[self.segment_table["level"] == "dimension"].sort_values(col).iloc[0]
            parts = dict(segment=term(self.segment), dimension=term(worst["name"]), group=term(worst[self.segment]),
                         value=worst[col])
            out.append("\n" + (msg("gaps.segment_lowest", "The lowest dimension perception among {segment} segments: "
                                    "{dimension} in {group} ({value:.2f}).", **parts) if self.servperf else
                               msg("gaps.segment_largest", "The largest dimension shortfall among {segment} segments: "
                                   "{dimension} in {group} ({value:.2f}).", **parts)))
        if self.trend is not None:
            ch = self.trend[(self.trend["quarter"] == self.quarter) & (self.trend["change_p"] < 0.05)]
            for r in ch.itertuples():
                parts = dict(name=term(r.name), change=r.change, low=r.change_ci_low, high=r.change_ci_high)
                out.append("\n" + (msg("gaps.perception_changed", "{name}: the mean perception changed by {change:+.2f} "
                                        "since last quarter [{low:+.2f}, {high:+.2f}].", **parts) if self.servperf else
                                    msg("gaps.gap_changed", "{name}: the gap changed by {change:+.2f} since last quarter "
                                        "[{low:+.2f}, {high:+.2f}].", **parts)))
        return out

    def findings(self) -> list[str]:
        out = self.largest()
        for inv in (self.segment_invariance, self.quarter_invariance):
            if inv is not None and not inv.means_comparable:
                out.append(statements.survey_invariance(inv).replace("**", ""))
        return out + self.weight_notes()

    def weight_notes(self) -> list[str]:
        """What the survey's sampling weights changed (or did not)."""
        if self.unweighted:
            return [unweighted_note(self.unweighted)]
        if self.sample_weight:
            n_eff = self.table.loc[self.table["level"] == "overall", "n_eff"]
            return [msg("gaps.weighted_every", "Weighted by {column}: every figure on this page weighs each "
                        "respondent (effective n {n_eff:,.0f}) — the gaps of items, dimensions, segments and "
                        "quarters, the zone of tolerance and the importance–performance map — with tests on the "
                        "effective n (no Kruskal–Wallis or Wilcoxon test).", column=term(self.sample_weight),
                        n_eff=float(n_eff.iloc[0]))]
        return []

    def metrics(self) -> GapMetrics:
        dims, t = self._dims(), self.table
        items = t[t["level"] == "item"]
        ov = t[(t["level"] == "overall") & (t["name"] == "unweighted")]
        sp = self.servperf
        return GapMetrics(
            respondents=self.respondents, mode="servperf" if sp else "servqual",
            dimension_gap={} if sp else dims["gap"].to_dict(),
            dimension_ci={} if sp else {k: [r.ci_low, r.ci_high] for k, r in dims.iterrows()},
            overall_gap=None if sp else float(ov["gap"].iloc[0]),
            weighted_gap=None if sp or "weighted" not in set(t["name"]) else float(t.loc[t["name"] == "weighted",
                                                                                          "gap"].iloc[0]),
            largest_item_gaps=[] if sp else items.sort_values("gap").head(3)[["name", "gap", "ci_low",
                                                                              "ci_high"]].to_dict("records"),
            concentrate_here=self.ipa_result.concentrate_here(), ipa_rule=self.ipa_result.rule,
            gap1_mean=None if self.gap1_table is None else float(self.gap1_table["gap1"].mean()),
            standards_share_meeting=None if self.attainment is None else float(self.attainment["share_meeting"].mean()),
            findings=self.largest(),
            segment_invariance="" if self.segment_invariance is None else self.segment_invariance.level,
            quarter_invariance="" if self.quarter_invariance is None else self.quarter_invariance.level)

    def headline(self) -> list[dict]:
        if self.servperf:
            dims, t = self._dims(), self.table
            ov = t[(t["level"] == "overall") & (t["name"] == "unweighted")]
            low = dims["mean_p"].idxmin()
            return [headline("Overall perception", float(ov["mean_p"].iloc[0]), "{:.2f}"),
                    headline(f"Lowest dimension: {low}", float(dims.loc[low, "mean_p"]), "{:.2f}"),
                    headline("Items to concentrate on", len(self.ipa_result.concentrate_here()))]
        m, dims = self.metrics(), self._dims()
        worst = dims["gap"].idxmin()
        return [headline("Overall gap (P − E)", m.overall_gap, "{:+.2f}"),
                headline(f"Largest dimension gap: {worst}", float(dims.loc[worst, "gap"]), "{:+.2f}"),
                headline("Items to concentrate on", len(m.concentrate_here))]

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {"gaps": self.table, "ipa": self.ipa_result.table}
        for name, t in (("zone of tolerance", self.zone), ("gap 1", self.gap1_table), ("standards", self.attainment),
                        ("segments", self.segment_table), ("trend", self.trend),
                        ("segment invariance", None if self.segment_invariance is None else self.segment_invariance.table()),
                        ("quarter invariance", None if self.quarter_invariance is None else self.quarter_invariance.table())):
            if t is not None:
                out[name] = t
        return out

    def sections(self) -> dict[str, list[Block]]:
        inst, t = self.instrument, self.table
        if self.sample_weight:  # no Wilcoxon test with weights: no empty column
            t = t.drop(columns=["wilcoxon_p"], errors="ignore")
        fmt3 = lambda s: s.format(precision=3).hide(axis="index")  # noqa: E731
        k, nd = len(inst.items), len(inst.dimensions)
        lo, hi = inst.block_scale("P")
        parts = dict(n=self.respondents, title=term(inst.title), k=k, d=nd, lo=lo, hi=hi, scope=period(self.quarter))
        sample = [text(msg("gaps.sample_servperf", "**{n:,} respondents** ({scope}); instrument {title}: {k} items in "
                           "{d} dimension(s), answered on {lo:g}–{hi:g} — perceptions only (SERVPERF): mean "
                           "perceptions instead of gaps.", **parts) if self.servperf else
                       msg("gaps.sample", "**{n:,} respondents** ({scope}); instrument {title}: {k} items in {d} "
                           "dimension(s), answered on {lo:g}–{hi:g}, {blocks}.",
                           blocks=msg("list.and", " and ").join(labels.word(inst.blocks[b].label) for b in inst.blocks),
                           **parts))]
        sample += [text(note) for note in self.weight_notes()]
        dims = []
        if self.notes:
            dims.append(text(f"Gaps computed by **{self.engine}** from moments; " + "; ".join(self.notes) + "."))
        if self.servperf:
            dims.append(table(t[t["level"] != "item"]))
        else:
            dims += [figure(lambda: plots.dimension_gaps(t), "dimension gaps"),
                     table(t[t["level"] != "item"].drop(columns=["dimension"]), fmt3)]
        items = t[t["level"] == "item"]
        item_blocks = [] if self.servperf else [figure(lambda: plots.item_gaps(t, labels={i: inst.text(i) for i in
                                                                                          inst.items}), "item gaps")]
        item_blocks.append(table(items.assign(text=[inst.text(i) for i in items["name"]])
                                 .sort_values("gap" if not self.servperf else "mean_p"), fmt3))
        if self.zone is not None:
            counts = self.zone["position"].value_counts()
            zone = [figure(lambda: plots.zone_chart(self.zone), "zone of tolerance"), table(self.zone, fmt3),
                    text(msg("gaps.zone", "Mean perception lies below the zone for **{below}** item(s), within it for "
                             "{within} and above it for {above}.", below=counts.get("below", 0),
                             within=counts.get("within", 0), above=counts.get("above", 0)))]
        else:
            zone = [text(msg("gaps.no_zone", "This survey has no adequate/desired (three-column) answers."))]
        res = self.ipa_result
        ipa_blocks = ([text(self.ipa_note)] if self.ipa_note else []) + [
                      figure(lambda: plots.ipa_plot(res), "importance-performance"),
                      table(res.table, lambda s: s.format(precision=3))]
        ipa_blocks += ([text(msg("gaps.quadrant_changes", "**Attributes that change quadrant under another crosshair "
                                 "rule**")), table(res.changes)]
                       if len(res.changes) else
                       [text(msg("gaps.no_quadrant_changes", "No attribute changes quadrant under the other crosshair "
                                 "rules."))])
        model = [] if self.servperf else [table(gaps_model_summary(t, self.gap1_table, self.attainment, self.audit_evidence),
                                                lambda s: s.format(precision=3, na_rep="–")
                                                .format("{:d}", subset=["gap_number"]).hide(axis="index"))]
        if self.gap1_table is not None:
            model += [text(msg("gaps.gap1", "**Gap 1: managers' estimate of expectations − customers' expectations** "
                               "(negative: management underestimates what customers expect)")),
                      table(self.gap1_table.sort_values("gap1"), fmt3)]
        if self.attainment is not None:
            model += [text(msg("gaps.gap3", "**Gap 3: share of cases meeting each service standard**")),
                      table(self.attainment.pivot_table(index=["kpi", "severity"], columns="unit",
                                                        values=["share_meeting", "value"]),
                            lambda s: s.format(precision=3, na_rep="–"))]
        if self.segment_table is not None:
            omnibus, pairwise = self.segment_tests
            sig = pairwise[pairwise["p_adj"] < 0.05]
            inv = self.segment_invariance
            seg = [text(statements.survey_invariance(inv)) if inv is not None else
                   text(msg("gaps.invariance_untested", "Measurement invariance across {segment} could not be tested "
                            "(too few respondents per group or single-item dimensions): read the comparisons with care.",
                            segment=term(self.segment))),
                   figure(lambda: plots.segment_heatmap(
                       self.segment_table, self.segment,
                       f"Mean perception per dimension by {self.segment}" if self.servperf else None,
                       centre=None if not self.servperf else sum(inst.block_scale("P")) / 2,
                       value="mean_p" if self.servperf else "gap"), "segments"),
                   table(omnibus.dropna(axis=1, how="all"), fmt3),  # weighted: no Kruskal–Wallis columns
                   text(msg("gaps.pairwise", "**{n}** pairwise difference(s) significant after adjustment:",
                            n=len(sig))), table(sig, fmt3)]
        elif self.segment:
            seg = [text(msg("gaps.single_segment", "No segment comparison: {segment} has a single value in these "
                            "answers.", segment=term(self.segment)))]
        else:
            seg = [text(msg("gaps.no_segment", "No segment comparison: the instrument declares no segment column that "
                            "the survey has."))]
        if self.trend is not None:
            trend = ([text(statements.survey_invariance(self.quarter_invariance, across_quarters=True))]
                     if self.quarter_invariance is not None else []) + [
                     figure(lambda: plots.gap_trend_plot(
                         self.trend, *(("Mean perception per quarter, with 95 % intervals", "mean perception")
                                       if self.servperf else ())), "trend"),
                     table(self.trend[self.trend["quarter"] == self.quarter], fmt3)]
        elif not self.quarter:
            trend = [text(msg("gaps.no_trend_undated", "The survey has no dates: no trend."))]
        else:
            trend = [text(msg("gaps.no_trend_one_quarter", "Only one quarter of data: no trend."))]
        return {"sample": sample, "dimensions": dims, "items": item_blocks, "zone": zone, "ipa": ipa_blocks,
                "gaps model": model, "segments": seg, "trend": trend, "fix first": [text("\n".join(self.fix_first()))]}


def run_gaps(folder: DataFolder, *, quarter: str = "", segment: str = "region", weighting: bool = True,
             crosshair: str = "mean", importance: str = "derived", drop_careless: bool = True,
             engine: str = "pandas") -> GapResult:
    """Where perceived service falls short of expectations: the pipeline of notebook ``02_gap_analysis``.

    Parameters
    ----------
    folder : DataFolder
        From :func:`sqmlib.io.load_folder`; needs the survey. The management table adds gap 1, the
        interactions and standards tables gap 3.
    quarter : str
        Quarter to analyse ("" = the latest; a survey without quarters is analysed whole).
    segment : str
        Segment column for the comparisons ("" = none).
    weighting : bool
        Add the importance-weighted overall gap when the survey holds importance points.
    crosshair : {"mean", "median", "midpoint"}
        The importance–performance crosshair rule.
    importance : {"derived", "stated"}
        IPA importance: correlation with overall satisfaction, or the respondents' own.
    drop_careless : bool
        Leave out straight-liners and too-fast respondents (judged over the whole file).
    engine : {"pandas", "duckdb", "spark"}
        Where the gap table is computed (moments; no Wilcoxon test then).

    Returns
    -------
    GapResult

    Examples
    --------
    >>> from sqmlib import gaps, io
    >>> g = gaps.run_gaps(io.load_folder(), segment="region")
    >>> g.metrics().dimension_gap
    """
    check_engine(engine)
    if crosshair not in CROSSHAIRS:
        raise SQMArgumentError(f"crosshair must be one of {', '.join(CROSSHAIRS)}, got {crosshair!r}")
    if importance not in ("derived", "stated"):
        raise SQMArgumentError(f"importance must be derived or stated, got {importance!r}")
    folder.require("survey", purpose="the gap analysis")
    inst = folder.instrument
    if not inst.items:
        return Unavailable(notebook=GapResult.notebook, title=GapResult.title, reason=no_items_reason(),
                           line=unavailable_line(no_items_reason()), quarter=folder.latest_quarter)
    if drop_careless:
        folder = folder.without_careless()
    survey_all = folder.survey
    q = folder.quarter(quarter)
    survey = folder.survey_of(q)
    servperf = not inst.has_expectations
    weights = ("stated" if weighting and inst.importance_columns() and all(c in survey for c in
                                                                          inst.importance_columns()) else None)
    notes: tuple = ()
    sample_weight = inst.weight_in(survey)
    if servperf:
        gap_table = servperf_table(survey, inst, sample_weight=sample_weight)
    elif engine == "pandas":
        gap_table = servqual_gaps(survey, inst, weights=weights, sample_weight=sample_weight)
    else:  # the same table from moments computed by the engine over the whole file (no Wilcoxon test)
        mom = survey_moments(folder.files["survey"], inst, by=["quarter"], engine=engine,
                             drop_careless=drop_careless)
        gap_table = servqual_gaps(mom.where(quarter=q) if q else mom, inst, weights=weights)
        notes = (MOMENTS_NOTE,)
    zone = None
    if all(b in inst.blocks for b in "AD") and all(c in survey for c in inst.item_columns("A")
                                                   + inst.item_columns("D")):
        zone = zone_of_tolerance(survey, inst, sample_weight=sample_weight)
    stated_ok = "IMP" in inst.blocks or (bool(inst.importance_columns())
                                         and all(c in survey for c in inst.importance_columns()))
    outcomes = [c for c in ("overall_sat", *inst.outcomes) if c in survey and survey[c].notna().any()]
    imp_kind, criterion, ipa_note = importance, "overall_sat", ""
    ipa_survey = survey
    if importance == "derived" and outcomes:
        criterion = outcomes[0]
        if criterion != "overall_sat":
            ipa_note = msg("gaps.importance_derived", "Importance is derived from each item's correlation with "
                           "{criterion} (the survey has no overall satisfaction question).", criterion=term(criterion))
    elif importance == "derived" and stated_ok:
        imp_kind = "stated"
        ipa_note = msg("gaps.importance_stated", "Importance is the respondents' stated importance (the survey has "
                       "no outcome question).")
    elif not stated_ok:  # no outcome, no stated importance: the item-total correlation as implicit importance
        imp_kind, criterion = "derived", "overall perception"
        ipa_survey = survey.assign(**{criterion: survey[inst.item_columns("P")].mean(axis=1)})
        ipa_note = msg("gaps.importance_implicit", "The survey has no outcome question and no stated importance: "
                       "importance is each item's correlation with the respondent's mean perception over all items "
                       "(implicit importance; it favours items that are typical of the whole).")
    level = "item" if imp_kind == "derived" or "IMP" in inst.blocks else "dimension"
    ipa_result = ipa(ipa_survey, inst, level=level, importance=imp_kind, outcome=criterion, rule=crosshair,
                     sample_weight=sample_weight)
    g1 = gap1(folder.management, survey, inst) if folder.has("management") and inst.has_expectations else None
    att = None
    if folder.has("interactions", "standards"):
        start, end = quarter_bounds(q) if q else (None, None)
        att = standard_attainment(folder.interactions, folder.standards, by=segment or None, start=start, end=end)
    seg_table = seg_tests = seg_inv = q_inv = None
    segment = folder.segment_column(segment)
    if segment and survey[segment].nunique() > 1:
        seg_table = (servperf_table(survey, inst, by=segment, sample_weight=sample_weight) if servperf else
                     servqual_gaps(survey, inst, by=segment, wilcoxon=False, sample_weight=sample_weight))
        seg_tests = segment_differences(survey, inst, segment, sample_weight=sample_weight)
        seg_inv = survey_invariance(survey, inst, segment)
    trend = None
    if "quarter" in survey_all and survey_all["quarter"].nunique() > 1:
        trend = gap_trend(survey_all[survey_all["quarter"] <= q], inst, sample_weight=sample_weight,
                          panel=inst.panel)
        recent = sorted(survey_all.loc[survey_all["quarter"] <= q, "quarter"].unique())[-8:]
        q_inv = survey_invariance(survey_all[survey_all["quarter"].isin(recent)], inst, "quarter")
    return GapResult(unweighted="" if sample_weight else inst.weight or "", sample_weight=sample_weight or "",
                     ipa_note=ipa_note, quarter=q, instrument=inst, engine=engine, respondents=len(survey),
                     servperf=servperf,
                     table=gap_table, notes=notes, zone=zone, ipa_result=ipa_result, ipa_level=level, gap1_table=g1,
                     attainment=att, segment=segment, segment_table=seg_table, segment_tests=seg_tests, trend=trend,
                     segment_invariance=seg_inv, quarter_invariance=q_inv, audit_evidence=gap_evidence(folder, q))
