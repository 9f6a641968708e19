"""The pipeline of the reliability notebook: :func:`run_reliability` and its result."""
from __future__ import annotations

from .tables import INVARIANCE_FORMAT, block_items, conclusions, estimator_comparison, invariance_column, item_diagnostics, reliability_table
from dataclasses import dataclass
from typing import Mapping
import numpy as np
import pandas as pd
from ..render import plots, statements
from ..audit import careless, segment_filter, select_segment
from ..moments.engines import check_engine
from ..errors import SQMArgumentError, SQMDataError
from ..psychometrics.factors import (CFAResult, EFAResult, cfa, efa)
from ..psychometrics.invariance import InvarianceResult, invariance
from ..io import DataFolder
from ..moments import survey_moments
from ..render.messages import clauses, listed, msg, no_items_reason, period, term, unavailable_line, unweighted_note
from ..results import Block, Result, Unavailable, bullets, figure, headline, table, text


# ---------------------------------------------------------------------------------------------------------
# the pipeline of the reliability notebook
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReliabilityMetrics:
    """Key figures of :func:`run_reliability` (``metrics.json`` of the reliability notebook)."""

    respondents: int
    careless_dropped: int
    block: str
    alpha: dict  # "block:dimension" -> α
    omega: dict
    difference_reliability: dict  # dimension -> reliability of the gap score
    weak_items: list
    parallel_analysis_factors: int
    cfa: dict  # fit measures
    cr: dict
    ave: dict
    max_htmt: float
    findings: list
    estimators: dict  # estimator -> fit measures as reported (WLSMV: scaled)
    invariance_level: str  # "" when not tested


@dataclass(frozen=True)
class ReliabilityResult(Result):
    """What :func:`run_reliability` found: the reliability table, item diagnostics, EFA and CFA."""

    title = "Survey reliability and validity"
    notebook = "01_survey_reliability"

    quarter: str
    segment: str
    block: str
    engine: str
    respondents: int
    careless_dropped: int
    moments_rows: int | None
    table: pd.DataFrame
    diagnostics: pd.DataFrame
    correlations: pd.DataFrame
    dimensions: Mapping[str, list]
    efa: EFAResult
    fit: CFAResult
    conclusions: tuple
    estimators: pd.DataFrame | None = None
    estimator_advice: str = ""
    invariance: InvarianceResult | None = None
    invariance_note: str = ""
    unweighted: str = ""  # the survey's sampling-weight column, which this analysis does not apply
    sample_weight: str = ""  # the sampling-weight column α, ω and the item diagnostics apply

    def findings(self) -> list[str]:
        return list(self.conclusions) + self.weight_notes()

    def weight_notes(self) -> list[str]:
        """What the survey's sampling weights changed (or did not)."""
        if self.unweighted:
            return [unweighted_note(self.unweighted)]
        if self.sample_weight:
            n_eff = float(self.table["n_eff"].min())
            return [msg("reliability.weighted", "Weighted by {column}: α, ω, the gap score's reliability and the "
                        "item diagnostics come from weighted covariances, with intervals on the effective n (at "
                        "least {n_eff:,.0f}); the inter-item correlations and the factor analyses (EFA, CFA, "
                        "estimators, invariance) are unweighted.", column=term(self.sample_weight), n_eff=n_eff)]
        return []

    def _perception_rows(self) -> pd.DataFrame:
        blocks = list(dict.fromkeys(self.table["block"]))
        return self.table[self.table["block"] == ("P" if "P" in blocks else blocks[0])].set_index("dimension")

    def metrics(self) -> ReliabilityMetrics:
        t, fit = self.table, self.fit
        return ReliabilityMetrics(
            respondents=self.respondents, careless_dropped=self.careless_dropped, block=self.block,
            alpha={f"{r.block}:{r.dimension}": r.alpha for r in t.itertuples()},
            omega={f"{r.block}:{r.dimension}": r.omega for r in t.itertuples()},
            difference_reliability=t.dropna(subset=["difference_reliability"]).set_index("dimension")[
                "difference_reliability"].to_dict(),
            weak_items=self.diagnostics.loc[self.diagnostics["flag"], "item"].tolist(),
            parallel_analysis_factors=self.efa.suggested_n_factors, cfa=fit.fit.to_dict(),
            cr=fit.validity["cr"].to_dict(), ave=fit.validity["ave"].to_dict(),
            max_htmt=float(fit.htmt.where(np.triu(np.ones(fit.htmt.shape, bool), 1)).max().max()),
            findings=list(self.conclusions),
            estimators={} if self.estimators is None else {
                r["estimator"]: {k: r[k] for k in ("n", "chisq", "df", "cfi", "tli", "rmsea", "srmr", "mean_loading")}
                for r in self.estimators.to_dict("records")},
            invariance_level=self.invariance.level if self.invariance is not None else "")

    def headline(self) -> list[dict]:
        pb = self._perception_rows()
        return [headline("Lowest α (perceptions)", float(pb["alpha"].min()), "{:.2f}"),
                headline("Dimensions with α ≥ .70", f"{int((pb['alpha'] >= 0.7).sum())} of {len(pb)}", "{}"),
                headline("CFA CFI", float(self.fit.fit["cfi"]), "{:.3f}"),
                headline("RMSEA", float(self.fit.fit["rmsea"]), "{:.3f}")]

    def tables(self) -> dict[str, pd.DataFrame]:
        extra = {}
        if self.estimators is not None:
            extra["cfa by estimator"] = self.estimators
        if self.invariance is not None:
            extra["invariance"] = self.invariance.table.reset_index()
        return extra | {"reliability": self.table, "item diagnostics": self.diagnostics, "cfa fit": self.fit.summary(),
                "cfa loadings": self.fit.loadings, "validity": self.fit.validity, "htmt": self.fit.htmt,
                "parallel analysis": self.efa.parallel}

    def sections(self) -> dict[str, list[Block]]:
        light = lambda v: plots.traffic_light(v, 0.80, 0.70)  # noqa: E731
        scope = period(self.quarter)
        if self.segment:
            scope = msg("reliability.scope_segment", "{scope}, {segment}", scope=scope, segment=term(self.segment))
        head = [text(msg("reliability.sample", "**{n:,} respondents** analysed ({scope}); {careless:,} careless "
                         "respondents left out.", n=self.respondents, scope=scope, careless=self.careless_dropped))]
        head += [text(note) for note in self.weight_notes()]
        rel = [table(self.table.drop(columns=["n_eff"], errors="ignore"), lambda s: s.format(precision=3, na_rep="–")
                     .map(light, subset=["alpha", "omega", "difference_reliability"]).hide(axis="index"))]
        if self.moments_rows is not None:
            rel.append(text(msg("reliability.engine", "α, ω and the gap reliability computed by **{engine}** from "
                                "moments of {rows:,} rows.", engine=self.engine, rows=self.moments_rows)))
        diag = self.diagnostics
        flagged = diag[diag["flag"]]
        items = ([text(msg("reliability.weak_items_heading", "**Items that weaken their scale**")),
                  table(flagged[["dimension", "item", "text", "r_drop", "alpha_if_deleted", "dimension_alpha",
                                 "reason"]], lambda s: s.format(precision=3).hide(axis="index"))]
                 if len(flagged) else [text(msg("reliability.no_weak_items_short", "No item weakens its scale."))])
        items.append(table(diag.drop(columns=["reason"]), lambda s: s.format(precision=3).hide(axis="index")))
        fit, ordered = self.fit, [i for v in self.dimensions.values() for i in v]
        return {
            "sample": head,
            "reliability": rel,
            "items": items,
            "correlations": [figure(lambda: plots.correlation_heatmap(
                self.correlations, dict(self.dimensions), title=f"Inter-item correlations ({self.block})"),
                "inter-item correlations")],
            "dimensionality": [
                figure(lambda: plots.scree(self.efa.parallel), "scree plot"),
                text(msg("reliability.parallel", "Parallel analysis retains **{n}** factor(s); the instrument has {k} "
                         "dimensions.", n=self.efa.suggested_n_factors, k=len(self.dimensions))
                     if self.efa.converged else
                     msg("reliability.parallel_unconverged", "Parallel analysis retains **{n}** factor(s); the "
                         "instrument has {k} dimensions. The maximum-likelihood extraction did not converge on these "
                         "answers (too few respondents for the number of factors?): read the loadings with care.",
                         n=self.efa.suggested_n_factors, k=len(self.dimensions))),
                table(self.efa.loadings, lambda s: s.format(precision=2).background_gradient(
                    cmap=plots.gradient("Blues"), vmin=0, vmax=1))],
            "cfa": [
                table(fit.summary(), lambda s: s.format(precision=3, na_rep="")),
                table(fit.loadings.pivot(index="item", columns="factor", values="std_all").loc[ordered],
                      lambda s: s.format(precision=3, na_rep="").background_gradient(cmap=plots.gradient("Blues"), vmin=0, vmax=1)),
                text(msg("reliability.factor_correlations", "**Factor correlations**")),
                table(fit.factor_corr, lambda s: s.format(precision=3))],
            "validity": [
                # each statistic once: √AVE is the Fornell–Larcker table's diagonal, and semTools' raw-unit CR
                # and AVE are in the workbook's validity sheet
                table(fit.validity[[c for c in fit.validity.columns if c not in PAGE_HIDDEN_VALIDITY]],
                      lambda s: s.format(precision=3)
                      .map(lambda v: plots.traffic_light(v, 0.80, 0.70), subset=["cr"])
                      .map(lambda v: plots.traffic_light(v, 0.60, 0.50), subset=["ave"])),
                text(msg("reliability.validity_raw", "Composite reliability and AVE from standardised loadings "
                         "(Fornell and Larcker); semTools' compRelSEM and AVE in raw units are in the workbook's "
                         "validity sheet.")),
                text(msg("reliability.fornell_larcker", "**Fornell–Larcker** (√AVE on the diagonal should exceed the "
                         "correlations beside it)")),
                table(fit.fornell_larcker, lambda s: s.format(precision=3)),
                text(msg("reliability.htmt", "**HTMT** (absolute item correlations, arithmetic means, as semTools' "
                         "default; should stay below .85)")),
                table(fit.htmt, lambda s: s.format(precision=3).map(
                    lambda v: plots.traffic_light(v, 0.85, 0.90, higher_is_better=False) if v < 0.999 else ""))],
            "estimators": ([table(self.estimators, lambda s: s.format(
                {"chisq": "{:.1f}", "cfi": "{:.3f}", "tli": "{:.3f}", "rmsea": "{:.3f}", "srmr": "{:.3f}",
                 "mean_loading": "{:.3f}", "n": "{:,}"}).hide(axis="index")), text(self.estimator_advice)]
                           if self.estimators is not None else [text(self.estimator_advice)]),
            "invariance": ([text(statements.invariance(self.invariance)),
                            table(self.invariance.table.drop(columns=["converged"]).reset_index(),
                                  lambda s: s.format(INVARIANCE_FORMAT, precision=3, na_rep="–").hide(axis="index"))]
                           if self.invariance is not None else [text(self.invariance_note)]),
            "conclusions": [text(bullets(self.conclusions))],
        }


# the validity columns the page leaves to the workbook (√AVE is the Fornell–Larcker table's diagonal)
PAGE_HIDDEN_VALIDITY = ("sqrt_ave", "cr_raw_observed", "cr_raw_implied", "ave_raw")


def _untested_reason(problem) -> str:
    """Why invariance could not be tested, in the reader's language (a problem the invariance test raised)."""
    if problem.kind == "too_few_groups":
        groups, least = problem.values
        return msg("reliability.invariance_few_groups", "{groups} group(s) with at least {least} respondents; "
                   "invariance needs two or more.", groups=groups, least=least)
    if problem.kind == "constant":
        group, *items = problem.values
        return msg("reliability.invariance_constant", "no variance within the group {group} for {items}.",
                   group=term(group), items=listed(items))
    return problem.message


def run_reliability(folder: DataFolder, *, quarter: str = "", block: str = "P", segment: str = "",
                    drop_careless: bool = True, n_boot: int = 0, engine: str = "pandas",
                    seed: int = 0, invariance_by: str = "auto") -> ReliabilityResult:
    """Reliability and validity of the survey's scales: the pipeline of notebook ``01_survey_reliability``.

    Parameters
    ----------
    folder : DataFolder
        From :func:`sqmlib.io.load_folder`; needs the survey.
    quarter : str
        Quarter to analyse ("" = the latest; a survey without quarters is analysed whole).
    block : {"P", "E", "gap"}
        Block for the item diagnostics, correlations, EFA and CFA.
    segment : str
        One segment only, ``"column=value"`` ("" = everyone).
    drop_careless : bool
        Leave out straight-liners and too-fast respondents (judged within the quarter and segment).
    n_boot : int
        Bootstrap resamples for α and ω intervals (0: Feldt intervals for α, none for ω).
    engine : {"pandas", "duckdb", "spark"}
        Where the reliability table is computed (the others need rows: pandas).
    seed : int
    invariance_by : str
        Column whose groups the measurement-invariance test compares ("auto" = the instrument's first
        segment column present in the survey; "" = no test).

    Returns
    -------
    ReliabilityResult

    Examples
    --------
    >>> from sqmlib import io, reliability
    >>> r = reliability.run_reliability(io.load_folder(), quarter="2026Q3")
    >>> r.findings()[:1]
    """
    check_engine(engine)
    if block not in ("P", "E", "gap"):
        raise SQMArgumentError(f"block must be P, E or gap, got {block!r}")
    if n_boot < 0:
        raise SQMArgumentError(f"n_boot must be 0 or more, got {n_boot}")
    folder.require("survey", purpose="the reliability analysis")
    inst = folder.instrument
    if not inst.items:
        return Unavailable(notebook=ReliabilityResult.notebook, title=ReliabilityResult.title, reason=no_items_reason(),
                           line=unavailable_line(no_items_reason()), quarter=folder.latest_quarter)
    q = folder.quarter(quarter)
    survey = select_segment(folder.survey_of(q), segment)
    n_before = len(survey)
    if drop_careless:
        survey = survey[~careless(survey, inst)]
    blocks = [b for b in ("E", "P", "gap") if b != "gap" and b in inst.blocks
              or b == "gap" and inst.has_expectations and "P" in inst.blocks]
    moments_rows = None
    sample_weight = inst.weight_in(survey)
    if engine == "pandas":
        rel = reliability_table(survey, inst, blocks=blocks, n_boot=n_boot, seed=seed, sample_weight=sample_weight)
    else:  # the same table from moments computed by the engine over the whole file (Feldt intervals only)
        scope = {"quarter": q} if q else {}
        scope.update(segment_filter(segment))
        mom = survey_moments(folder.files["survey"], inst, by=[], engine=engine, where=scope,
                             drop_careless=drop_careless)
        rel = reliability_table(mom, inst, blocks=blocks)
        moments_rows = int(mom.n_rows.sum())
    diag = item_diagnostics(survey, inst, block, sample_weight=sample_weight)
    dims = {d: list(v) for d, v in inst.dimensions.items()}
    ordered = [i for items in dims.values() for i in items]
    x = block_items(survey, inst, block)[ordered]
    efa_result = efa(x, rotation="oblimin", seed=seed)
    fit = cfa(x, dims)
    est_table, _, advice = estimator_comparison(x, dims, ordinal=block != "gap", ml=fit)
    found = conclusions(rel, diag, fit, block="P" if block == "gap" else block, estimators=est_table)
    found.append(msg("reliability.estimators", "Estimators: {advice}", advice=advice))
    by = invariance_column(survey, inst, invariance_by)
    inv, inv_note = None, ""
    if by and by in survey:
        try:
            inv = invariance(x.assign(**{by: survey[by].to_numpy()}), dims, by)
            found.append(statements.invariance(inv).replace("**", ""))
        except SQMDataError as e:
            reasons = [_untested_reason(problem) for problem in e.problems]
            inv_note = msg("reliability.invariance_untested", "Measurement invariance across {by} not tested: "
                           "{reason}", by=term(by), reason=clauses(reasons))
    elif by:
        inv_note = msg("reliability.invariance_no_column", "Measurement invariance not tested: no segment column "
                       "'{by}' in the survey.", by=by)
    else:
        inv_note = msg("reliability.invariance_no_segment", "Measurement invariance not tested: no segment column "
                       "chosen.")
    return ReliabilityResult(unweighted="" if sample_weight else inst.weight or "", sample_weight=sample_weight or "",
                             quarter=q, segment=segment, block=block, engine=engine, respondents=len(survey),
                             careless_dropped=n_before - len(survey), moments_rows=moments_rows, table=rel,
                             diagnostics=diag, correlations=x.corr(), dimensions=dims, efa=efa_result, fit=fit,
                             conclusions=tuple(found), estimators=est_table, estimator_advice=advice,
                             invariance=inv, invariance_note=inv_note)
