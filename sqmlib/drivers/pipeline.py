"""The pipeline of the driver notebook: :func:`run_drivers` and its result."""
from __future__ import annotations

from .importance import Importance, relative_importance, shares
from .models import DominanceResult, DriverModelResult, SegmentImportance, dominance_analysis, driver_model, follow_up_end, importance_by_segment, latest_followed_quarter, penalty_reward, survey_with_churn
import dataclasses
import warnings
from dataclasses import dataclass, replace
from typing import Mapping, NamedTuple
import numpy as np
import pandas as pd
from ..render import plots
from ..moments.engines import check_engine
from ..errors import Problem, SQMArgumentError, SQMDataError
from ..gaps import dimension_scores, ipa
from ..instruments import load as load_instrument
from ..io import DataFolder
from ..moments import survey_moments
from ..render.messages import listed, msg, no_items_reason, period, term, terms, unavailable_line, unweighted_note
from ..results import Unavailable, Block, Result, bullets, figure, headline, metrics_dict, table, text
from ..kano.pipeline import KanoResult, kano_analysis


# ---------------------------------------------------------------------------------------------------------
# building blocks shared by the notebook, the explorer and the lessons
# ---------------------------------------------------------------------------------------------------------
LEVELS = ("dimension", "item")


def driver_table(survey: pd.DataFrame, instrument, outcome: str, level: str = "dimension") -> pd.DataFrame:
    """The drivers table: one column per driver (mean perception of each dimension, or each perception item
    named by its item id) and the outcome, complete rows only.

    The driver notebook, the driver explorer and the training lessons all build their drivers with this.
    """
    if level not in LEVELS:
        raise SQMArgumentError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if outcome not in survey.columns:
        raise SQMDataError("survey", [Problem("missing_column", f"no outcome column {outcome!r}")])
    inst = load_instrument(instrument)
    if level == "dimension":
        X = dimension_scores(survey, inst, "P")
    else:
        X = survey[inst.item_columns("P")].set_axis(list(inst.items), axis=1)
    return X.assign(**{outcome: survey[outcome]}).dropna()


class FollowedSurvey(NamedTuple):
    """The survey with ``churned`` (respondents whose horizon is over) and the ``latest_quarter`` whose every
    respondent was followed for the whole horizon ("" if none)."""

    survey: pd.DataFrame
    latest_quarter: str


def churn_followed(survey: pd.DataFrame, customers: pd.DataFrame, horizon_days: int) -> FollowedSurvey:
    """The survey with ``churned`` within ``horizon_days`` of answering (respondents whose horizon is over), and
    the latest quarter whose every respondent could be followed for the whole horizon ("" if none)."""
    until = follow_up_end(survey, customers)
    followed = survey_with_churn(survey, customers, horizon_days, until)
    return FollowedSurvey(followed, latest_followed_quarter(survey, horizon_days, until) or "")


# ---------------------------------------------------------------------------------------------------------
# the pipeline of the driver notebook
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DriverMetrics:
    """Key figures of :func:`run_drivers` (``metrics.json`` of the driver notebook)."""

    outcome: str
    level: str
    respondents: int
    r2: float
    importance_basis: str
    lmg_share: dict
    lmg_ci: dict
    top_drivers: list
    fix_first: list
    kano: dict
    model_fit: dict
    findings: list
    kano_questionnaire: dict = dataclasses.field(default_factory=dict)  # KanoMetrics, when the survey has KANO pairs


@dataclass(frozen=True)
class DriverResult(Result):
    """What :func:`run_drivers` found: importance (LMG with intervals), the driver model, dominance, the driver
    matrix, Kano classes and segment differences."""

    notebook = "03_driver_regression"

    quarter: str
    outcome: str
    level: str
    kind: str
    engine: str
    frame: pd.DataFrame
    labels: Mapping[str, str]
    importance: Importance
    model: DriverModelResult
    model_notes: tuple
    importance_note: str
    dominance: DominanceResult | None
    matrix: object  # gaps.IPAResult
    kano: pd.DataFrame | None
    kano_note: str
    segment: str
    by_segment: SegmentImportance | None
    followed_note: str
    unweighted: str = ""  # the survey's sampling-weight column, which this analysis does not apply
    sample_weight: str = ""  # the sampling-weight column the relative importance applies
    questionnaire: KanoResult | None = None  # the KANO questionnaire, when the survey has its pairs

    @property
    def title(self) -> str:  # type: ignore[override]
        return f"Key drivers of {self.outcome}"

    @property
    def drivers(self) -> list[str]:
        return [c for c in self.frame.columns if c != self.outcome]

    def shares(self) -> pd.Series:
        return shares(self.importance)

    def findings(self) -> list[str]:
        share = self.shares()
        ranked = share.sort_values(ascending=False)
        fix = self.matrix.concentrate_here()
        top = dict(outcome=term(self.outcome), **{f"d{k}": term(d) for k, d in enumerate(ranked.index[:3], 1)},
                   **{f"p{k}": float(v) for k, v in enumerate(ranked.iloc[:3], 1)})
        if len(ranked) < 3:
            lines = [msg("drivers.strongest_one", "The strongest driver is {d1}.", d1=top["d1"])]
        elif self.kind == "ols":
            lines = [msg("drivers.strongest", "The strongest driver of {outcome} is **{d1}** ({p1:.0f} % of the "
                         "explained variance), then {d2} ({p2:.0f} %) and {d3} ({p3:.0f} %).", **top)]
        else:
            lines = [msg("drivers.strongest_pseudo", "The strongest driver of {outcome} is **{d1}** ({p1:.0f} % of the "
                         "pseudo-R²), then {d2} ({p2:.0f} %) and {d3} ({p3:.0f} %).", **top)]
        lines.append(msg("drivers.r2", "The drivers explain R² = {r2:.2f} of {outcome}.", r2=self.importance.r2,
                         outcome=term(self.outcome)) if self.kind == "ols" else
                     msg("drivers.pseudo_r2", "The model explains McFadden pseudo-R² = {r2:.3f} of churn.",
                         r2=self.model.fit["pseudo_r2"]))
        if fix:
            items = listed(
                msg("drivers.share", "{driver} ({share:.0f} %)", driver=term(f), share=share[f]) for f in fix)
            lines.append(msg("drivers.fix_first", "Fix first (important and performing below average): {drivers}.",
                             drivers=items))
        if self.kano is not None:
            basic = self.kano.index[self.kano["kano"] == "basic"].tolist()
            excite = self.kano.index[self.kano["kano"] == "excitement"].tolist()
            if basic:
                lines.append(msg("drivers.basic", "Basic factors (hurt when poor, little reward when good): "
                                 "{drivers}.", drivers=terms(basic)))
            if excite:
                lines.append(msg("drivers.excitement", "Excitement factors (delight when good): {drivers}.",
                                 drivers=terms(excite)))
        if self.questionnaire is not None:
            lines += self.questionnaire.findings()
        return lines + self.weight_notes()

    def weight_notes(self) -> list[str]:
        """What the survey's sampling weights changed (or did not)."""
        if self.unweighted:
            return [unweighted_note(self.unweighted)]
        if self.sample_weight:
            return [msg("drivers.weighted_models", "Weighted by {column}: the relative importance (shares of R², "
                        "with its intervals, as relaimpo's case weights), the regression table (weighted least "
                        "squares), dominance and the driver matrix weight each respondent; the penalty–reward "
                        "analysis and the segment comparison are unweighted.", column=term(self.sample_weight))]
        return []

    def metrics(self) -> DriverMetrics:
        imp, share = self.importance.table, self.shares()
        basis = ("R2" if self.kind == "ols" else
                 ("McFadden pseudo-R2" if self.model.dominance is not None else "R2 (linear probability)"))
        return DriverMetrics(
            outcome=self.outcome, level=self.level, respondents=len(self.frame), r2=self.importance.r2,
            importance_basis=basis, lmg_share=share.to_dict(),
            lmg_ci={k: [imp.loc[k, "lmg_ci_low"], imp.loc[k, "lmg_ci_high"]] for k in self.drivers}
            if "lmg_ci_low" in imp else {},
            top_drivers=share.sort_values(ascending=False).index[:3].tolist(), fix_first=self.matrix.concentrate_here(),
            kano={} if self.kano is None else self.kano["kano"].to_dict(), model_fit=self.model.fit.to_dict(),
            findings=self.findings(),
            kano_questionnaire={} if self.questionnaire is None else metrics_dict(self.questionnaire.metrics()))

    def headline(self) -> list[dict]:
        ranked = self.shares().sort_values(ascending=False)
        return [headline("Top driver", f"{ranked.index[0]} ({ranked.iloc[0]:.0f} %)", "{}"),
                headline("R² explained" if self.kind == "ols" else "pseudo-R²",
                         self.importance.r2 if self.kind == "ols" else self.model.fit["pseudo_r2"], "{:.2f}"),
                headline("Drivers to fix first", len(self.matrix.concentrate_here()))]

    def importance_table(self) -> pd.DataFrame:
        return self.importance.table.assign(share=self.shares()).sort_values("lmg", ascending=False)

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {"importance": self.importance_table(), "driver model": self.model.coefficients,
               "driver matrix": self.matrix.table}
        if self.kano is not None:
            out["kano"] = self.kano
        if self.by_segment is not None:
            out["segments"], out["segment differences"] = self.by_segment
        if self.questionnaire is not None:
            out.update(self.questionnaire.tables())
        return out

    def sections(self) -> dict[str, list[Block]]:
        sample = [text(self.followed_note)] if self.followed_note else []
        scope = period(self.quarter)
        sample.append(text(msg("drivers.sample", "**{n:,} respondents** with every driver and the outcome ({scope}); "
                               "outcome **{outcome}**, {k} drivers ({level} level), model: {kind}.",
                               n=len(self.frame), scope=scope, outcome=term(self.outcome), k=len(self.drivers),
                               level=term(self.level), kind=term(self.kind))))
        sample += [text(note) for note in self.weight_notes()]
        ranked = [text(self.importance_note)] if self.importance_note else []
        ranked += [figure(lambda: plots.importance_bars(self.importance, labels=dict(self.labels)
                                                        if self.level == "item" else None), "importance"),
                   table(self.importance_table(), lambda s: s.format(precision=4)
                         .format("{:.1f}%", subset=["share"])  # a percentage of R²
                         .format("{:.0f}", subset=[c for c in ("rank", "rank_ci_low", "rank_ci_high")
                                                   if c in self.importance.table], na_rep="–")
                         .background_gradient(subset=["share"], cmap=plots.gradient("Blues")))]
        model = [text(f"*Note: {n}*") for n in self.model_notes]
        fit = self.model.fit.to_frame("value")
        model += [table(fit, lambda s: s.format(precision=3).format(
                      "{:,.0f}", subset=pd.IndexSlice[[r for r in ("n",) if r in fit.index], :])),
                  table(self.model.coefficients, lambda s: s.format(precision=3))]
        coef = self.model.coefficients
        sup = coef.index[coef["suppressor"]].tolist()
        if sup:
            model.append(text(msg("drivers.suppressor", "Suppressor pattern (coefficient sign differs from the "
                                  "correlation): {drivers} — read their coefficients with care; their importance "
                                  "share is unaffected.", drivers=terms(sup))))
        if self.dominance is not None:
            model += [text(msg("drivers.dominance", "**Dominance between drivers** (row over column)")), table(self.dominance.complete),
                      table(self.dominance.conditional, lambda s: s.format(precision=4))]
        m = self.matrix
        matrix = [figure(lambda: plots.ipa_plot(m, title="Driver matrix (importance: share of R²; performance: "
                                                         "mean perception)"), "driver matrix"),
                  table(m.table[["importance", "performance", "quadrant"]].sort_values("importance", ascending=False),
                        lambda s: s.format(precision=3))]
        if self.kano is not None:
            kano = [figure(lambda: plots.kano_plot(self.kano), "kano"), table(self.kano, lambda s: s.format(precision=3))]
        else:
            kano = [text(self.kano_note)]
        if self.by_segment is not None:
            seg_table, diffs = self.by_segment
            diff = diffs[diffs["differs"]]
            seg = [table(seg_table, lambda s: s.format(precision=2)),
                   text(msg("drivers.segment_differences", "**{n}** driver share difference(s) between {segment} "
                            "segments exclude 0:", n=len(diff), segment=term(self.segment))),
                   table(diff, lambda s: s.format(precision=2).hide(axis="index"))]
        else:
            seg = [text(msg("drivers.no_segments", "No segment comparison."))]
        questionnaire = (self.questionnaire.blocks() if self.questionnaire is not None else
                         [text(msg("drivers.no_kano_questionnaire", "No KANO questionnaire in this survey and "
                                   "quarter (pairs of a functional and a dysfunctional question per attribute, "
                                   "described under kano: in the instrument)."))])
        return {"sample": sample, "ranked": ranked, "model": model, "matrix": matrix, "kano": kano,
                "kano questionnaire": questionnaire, "segments": seg, "fix first": [text(bullets(self.findings()))]}


DEFAULT_OUTCOME = "overall_sat"  # when the survey lacks it, the instrument's first rating outcome is used


def run_drivers(folder: DataFolder, *, quarter: str = "", outcome: str = DEFAULT_OUTCOME, level: str = "dimension",
                n_boot: int = 200, segment: str = "channel", horizon_days: int = 180, drop_careless: bool = True,
                engine: str = "pandas", seed: int = 0, kano_segment: str = "region") -> DriverResult:
    """Which parts of the service move the outcome most: the pipeline of notebook ``03_driver_regression``.

    Parameters
    ----------
    folder : DataFolder
        From :func:`sqmlib.io.load_folder`; needs the survey (and the customers table for ``churned``).
    quarter : str
        Quarter to analyse ("" = the latest; for ``churned`` the latest whose respondents were followed for
        the whole horizon).
    outcome : {"overall_sat", "nps", "ces", "churned"} or another rating column
        The default ``overall_sat``, when the survey has none, becomes the instrument's first rating outcome;
        without any the result is :class:`~sqmlib.results.Unavailable`.
    level : {"dimension", "item"}
        Drivers are dimensions (mean perception) or items.
    n_boot : int
        Bootstrap resamples for the intervals of shares and ranks.
    segment : str
        Segment column for comparing driver importance ("" = none).
    horizon_days : int
        For ``churned``: leaving within this many days after answering.
    drop_careless : bool
    engine : {"pandas", "duckdb", "spark"}
        Where dimension-level shares are computed (moments; no bootstrap intervals then).
    seed : int
    kano_segment : str
        Segment column for the KANO questionnaire's categories per segment ("" = none); the questionnaire
        (the instrument's ``kano:`` pairs, when the quarter's respondents answered them) is compared with the
        penalty–reward classes of the dimensions at the dimension level.

    Returns
    -------
    DriverResult

    Examples
    --------
    >>> from sqmlib import drivers, io
    >>> d = drivers.run_drivers(io.load_folder(), outcome="nps", n_boot=100)
    >>> d.shares()
    """
    check_engine(engine)
    if level not in LEVELS:
        raise SQMArgumentError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if n_boot < 0 or horizon_days <= 0:
        raise SQMArgumentError("n_boot must be 0 or more and horizon_days positive")
    folder.require("survey", purpose="the driver analysis")
    inst = folder.instrument
    if not inst.items:
        return Unavailable(notebook=DriverResult.notebook, title="Key driver analysis", reason=no_items_reason(),
                           line=unavailable_line(no_items_reason()), quarter=folder.latest_quarter)
    if drop_careless:
        folder = folder.without_careless()
    survey_all = folder.survey
    followed_note = ""
    if outcome == "churned":
        folder.require("customers", purpose="churn as an outcome")
        survey_all, latest = churn_followed(survey_all, folder.customers, horizon_days)
        # the horizon must be over for everyone: the latest quarter that can be followed up in full
        until = follow_up_end(folder.survey, folder.customers)
        quarter = quarter or latest
        followed_note = msg("drivers.followed", "Churn within {days} days of answering, data observed until {until}: "
                            "analysing {scope}.", days=horizon_days, until=str(until.date()),
                            scope=term(quarter) if quarter else msg("drivers.scope_horizon", "every respondent "
                                                                    "with a complete horizon"))
    elif outcome not in survey_all.columns:
        present = [c for c in inst.outcomes if c in survey_all.columns and inst.columns[c].type == "rating"
                   and survey_all[c].notna().any()]
        if outcome != DEFAULT_OUTCOME:  # asked for by name: say what there is instead
            raise SQMDataError("survey", [Problem("missing_column", f"no outcome column {outcome!r} (the survey's "
                                                  f"outcomes: {', '.join(present) or 'none'})")])
        if not present:
            reason = msg("drivers.no_outcome", "the survey has no outcome question ({outcome} or another rating the "
                         "instrument marks as an outcome) for the drivers to explain.", outcome=term(outcome))
            return Unavailable(notebook=DriverResult.notebook, title="Key driver analysis", reason=reason,
                               line=unavailable_line(reason), quarter=folder.latest_quarter)
        outcome = present[0]
    segment = folder.segment_column(segment)
    sub = folder.with_survey(survey_all)
    q = sub.quarter(quarter)
    survey = sub.survey_of(q)
    frame = driver_table(survey, inst, outcome, level)
    names = [c for c in frame.columns if c != outcome]
    sample_weight = inst.weight_in(survey)
    weighted_frame = frame.assign(**{sample_weight: survey.loc[frame.index, sample_weight]}) if sample_weight else frame
    labels = {d: "" for d in names} if level == "dimension" else {i: inst.text(i) for i in inst.items}
    kind = "logit" if outcome == "churned" else "ols"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = driver_model(weighted_frame, outcome, names, kind=kind,
                             weights=sample_weight if sample_weight and kind == "ols" else None)
    note = ""
    if kind == "ols" and engine != "pandas" and level == "dimension":
        # the same shares from moments computed by the engine over the whole file (no bootstrap intervals)
        mom = survey_moments(folder.files["survey"], inst, by=["quarter"], engine=engine, drop_careless=drop_careless,
                             outcome=outcome)
        imp = relative_importance(mom.where(quarter=q) if q else mom, outcome, [f"P_dim_{d}" for d in names])
        imp = replace(imp, table=imp.table.rename(index=lambda v: v[6:]))
        note = msg("drivers.engine", "Relative importance computed by **{engine}** from moments of {rows:,} complete "
                   "rows.", engine=engine, rows=imp.n)
    elif kind == "ols" and sample_weight:  # sampling weights: relaimpo's case weights (weighted correlations)
        imp = relative_importance(weighted_frame, outcome, names, weights=sample_weight, n_boot=n_boot, seed=seed)
    elif kind == "ols":
        imp = relative_importance(frame, outcome, names, n_boot=n_boot, seed=seed)
    elif model.dominance is not None:
        # a binary outcome: the Shapley split of the logistic model's McFadden pseudo-R²
        imp = Importance(model.dominance.rename("lmg").to_frame(), float(model.fit["pseudo_r2"]), len(frame), outcome)
        note = msg("drivers.pseudo_r2_shares", "Shares of McFadden's pseudo-R² of the logistic model; no bootstrap "
                   "intervals here, since each resample would refit every subset of drivers.")
    else:
        imp = relative_importance(frame, outcome, names, methods=("lmg", "first"), n_boot=n_boot, seed=seed)
        note = msg("drivers.linear_probability", "Too many drivers for dominance on the logistic model: shares of R² "
                   "of the linear probability model instead.")
    share = shares(imp)
    dom = (dominance_analysis(weighted_frame, outcome, names, weights=sample_weight or None)
           if len(names) <= 12 and kind == "ols" else None)
    matrix = ipa(survey.loc[frame.index], inst, level=level, importance="shapley", shapley=share,
                 sample_weight=sample_weight if kind == "ols" else None)
    kano, kano_note = None, msg("drivers.kano_outcome", "Penalty–reward analysis is for satisfaction-type outcomes.")
    if kind == "ols":
        try:
            kano = penalty_reward(frame, outcome, names)
        except (SQMDataError, ValueError, np.linalg.LinAlgError) as exc:  # e.g. a driver with nobody in its low cell
            kano_note = msg("drivers.kano_impossible", "Penalty–reward analysis not possible here: {reason}",
                            reason=exc)
    by_seg = None
    if segment and segment in survey and kind == "ols":
        seg_frame = frame.assign(**{segment: survey.loc[frame.index, segment]})
        by_seg = importance_by_segment(seg_frame, outcome, names, segment, n_boot=min(n_boot, 100), seed=seed)
    kseg = folder.segment_column(kano_segment) if kano_segment else ""
    questionnaire = kano_analysis(survey, inst, quarter=q, segment=kseg if kseg in survey else "",
                                  prca=kano["kano"] if kano is not None and level == "dimension" else None)
    return DriverResult(questionnaire=questionnaire, unweighted=(inst.weight or "") if not (sample_weight and kind == "ols") else "",
                        sample_weight=sample_weight if kind == "ols" else "", quarter=q, outcome=outcome, level=level, kind=kind, engine=engine, frame=frame,
                        labels=labels, importance=imp, model=model, model_notes=tuple(str(w.message) for w in caught),
                        importance_note=note, dominance=dom, matrix=matrix, kano=kano, kano_note=kano_note,
                        segment=segment, by_segment=by_seg, followed_note=followed_note)
