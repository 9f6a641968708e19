"""Mystery shopping on a data folder: the pipeline of notebook ``09_mystery_shopping``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import SQMArgumentError
from ..kpi.control import p_chart
from ..psychometrics.structure import dimension_scores
from ..render import plots as base_plots
from ..render import seed_plots as plots
from ..render.language import current
from ..render.messages import listed, msg, period, unavailable_line
from ..results import Result, Unavailable, bullets, figure, headline, table, text
from .agreement import icc, krippendorff_alpha
from .gstudy import GStudy, g_study
from .scores import (calibration_scores, compliance_chart, item_compliance, item_scores, quadrants, rank_intervals,
                     shopper_deviations, survey_link, timing_effects, unit_scores, visit_scores)

TARGET_RELIABILITY = 0.80
FAILING_VISITS = 2  # a store failing a critical item on this many visits in the quarter …
FAILING_SHARE = 0.25  # … and on at least this share of them gets a line in the findings and the summary
NAMED = 6  # names listed in a finding before "and n more"
HEAT_STORES = 30  # stores in the compliance heat map (the lowest-scoring, when there are more)
LEAGUE_SHOWN = 60  # stores in the page's league table (else the best and the worst half of it each)
SHOPPERS_SHOWN = 5  # the strictest and the most lenient shown on the page (every shopper in the workbook)
OFF_POINTS = 15.0  # a shopper scoring the calibration cases this many points off the others is named


@dataclass(frozen=True)
class MysteryMetrics:
    """Key figures of :func:`run_mystery` (``metrics.json`` of the mystery-shopping notebook)."""

    visits: int
    stores: int
    shoppers: int
    score: float
    score_ci: list
    compliance: float
    critical_failures: int  # visits of the quarter failing a critical item
    failing_stores: dict  # store -> visits failing a critical item (at least FAILING_VISITS)
    above: list  # stores above the chain's mean (95 % bootstrap interval)
    below: list
    reliability: float  # Φ of a store's quarterly score with today's visits
    visits_per_store: float
    visits_needed: int | None  # per store and quarter for Φ ≥ .80
    variance_shares: dict  # store, shopper, residual
    weekend_effect: float | None
    weekend_p: float | None
    alpha_yes_no: float | None
    alpha_ratings: float | None
    icc_shoppers: float | None  # ICC(2,1) of the calibration case scores
    lenient_shoppers: dict  # shopper -> deviation (points) beyond OFF_POINTS
    survey_r: float | None
    executed_unhappy: list
    findings: list


@dataclass(frozen=True)
class MysteryResult(Result):
    """Audit visits against the checklist: scores of visits, stores and regions, ranks with intervals, item
    compliance, critical failures, how far a store's score can be trusted (variance components, G and decision
    study, shoppers' calibration), timing bias and the link to the survey."""

    title = "Mystery shopping"
    notebook = "09_mystery_shopping"

    quarter: str
    rule: str  # the checklist's critical-item rule (zero, cap, flag) …
    cap: float  # … and its cap
    item_names: Mapping[str, Mapping[str, str]]  # item id -> {language: wording}
    visits: pd.DataFrame  # every visit, scored
    league: pd.DataFrame  # the quarter's stores: rank, score and intervals, group, compliance
    regions: pd.DataFrame  # quarter × region scores
    stores_by_quarter: pd.DataFrame
    compliance: pd.DataFrame  # the quarter's store × item compliance (long)
    chart: pd.DataFrame  # p-chart of monthly yes/no compliance
    critical: pd.DataFrame  # the quarter's visits failing a critical item
    gstudy: GStudy
    d_study: pd.DataFrame
    calibration: Mapping | None  # alpha_yes_no, alpha_ratings, icc (table), shoppers (table)
    leniency: pd.DataFrame  # per shopper: visits, effect (BLUP from the visits), calibration cases, deviation, agreement
    timing: pd.DataFrame
    link: tuple | None  # (pairs, correlations, quadrants)
    chain: Mapping  # score, ci_low, ci_high, compliance of the quarter

    def names(self, lang: str | None = None) -> dict[str, str]:
        lang = lang or current()
        return {k: v.get(lang) or v.get("en") or k for k, v in self.item_names.items()}

    # ---- figures of the quarter --------------------------------------------------------------------------
    def failing_stores(self) -> dict:
        """Stores failing a critical item on at least :data:`FAILING_VISITS` visits of the quarter and
        :data:`FAILING_SHARE` of them: store → visits failing."""
        c = self.critical.groupby("store").size() if len(self.critical) else pd.Series(dtype=int)
        visits = self.league["visits"]
        return {str(k): int(v) for k, v in c.sort_values(ascending=False, kind="stable").items()
                if v >= FAILING_VISITS and v >= FAILING_SHARE * visits.get(k, v)}

    def lenient(self) -> dict:
        if not self.calibration:
            return {}
        s = self.calibration["shoppers"]["deviation"]
        return {str(k): float(v) for k, v in s[s.abs() >= OFF_POINTS].sort_values().items()}

    def metrics(self) -> MysteryMetrics:
        g = self.gstudy
        w = self.timing.loc["weekend"] if "weekend" in self.timing.index else None
        cal = self.calibration or {}
        corr = self.link[1] if self.link else None
        quad = self.link[2] if self.link else None
        q_visits = self.visits[self.visits["quarter"] == self.quarter]
        return MysteryMetrics(
            visits=int(len(q_visits)), stores=int(q_visits["store"].nunique()),
            shoppers=int(q_visits["shopper_id"].nunique()), score=float(self.chain["score"]),
            score_ci=[float(self.chain["ci_low"]), float(self.chain["ci_high"])],
            compliance=float(self.chain["compliance"]), critical_failures=int(len(self.critical)),
            failing_stores=self.failing_stores(),
            above=[str(s) for s in self.league.index[self.league["group"] == "above_chain"]],
            below=[str(s) for s in self.league.index[self.league["group"] == "below_chain"]],
            reliability=float(g.coefficient), visits_per_store=float(g.visits_per_store),
            visits_needed=g.visits_needed(TARGET_RELIABILITY),
            variance_shares={k: float(v) for k, v in g.components.shares().items()},
            weekend_effect=None if w is None else float(w["effect"]),
            weekend_p=None if w is None else float(w["p_value"]),
            alpha_yes_no=_float(cal.get("alpha_yes_no")), alpha_ratings=_float(cal.get("alpha_ratings")),
            icc_shoppers=_float(cal["icc"].loc["ICC2", "icc"]) if cal.get("icc") is not None else None,
            lenient_shoppers=self.lenient(),
            survey_r=_float(corr.loc["all", "r"]) if corr is not None and "all" in corr.index else None,
            executed_unhappy=[] if quad is None else [str(s) for s in quad.index[quad["position"] == "executed_unhappy"]],
            findings=self.findings())

    def findings(self) -> list[str]:
        c, names = self.chain, self.names()
        out = [msg("mystery.chain", "Chain score **{score:.1f}** of 100 [{low:.1f}, {high:.1f}] over {visits:,} audit "
                   "visits ({scope}); {compliance:.0%} of the yes/no checks passed.", score=c["score"],
                   low=c["ci_low"], high=c["ci_high"], visits=int(c["visits"]), scope=period(self.quarter),
                   compliance=c["compliance"])]
        above = [str(s) for s in self.league.index[self.league["group"] == "above_chain"]]
        below = [str(s) for s in self.league.index[self.league["group"] == "below_chain"]]
        level = int((self.league["group"] == "level_with_chain").sum())
        out.append(msg("mystery.groups", "Above the chain's average: {above}; below it: {below}; {level} store(s) "
                       "cannot be told apart from it (95 % bootstrap intervals).", above=_names(above),
                       below=_names(below[::-1]), level=level))
        failing = self.failing_stores()
        for store, n in list(failing.items())[:NAMED]:
            t = self.critical[self.critical["store"] == store]
            items = sorted({i for s in t["failed_items"] for i in s.split(", ") if i})
            total = int(self.league.loc[store, "visits"]) if store in self.league.index else n
            out.append(msg("mystery.failing", "**{store}** failed a critical standard on {n} of {visits} visits: "
                           "{items}.", store=store, n=n, visits=total, items=listed(names.get(i, i) for i in items)))
        if len(failing) > NAMED:
            out.append(msg("mystery.failing_more", "{n} more store(s) failed critical standards on a quarter or more of "
                           "their visits (the critical failures table).", n=len(failing) - NAMED))
        g = self.gstudy
        need = g.visits_needed(TARGET_RELIABILITY)
        shares = g.components.shares()
        if need is None:
            out.append(msg("mystery.no_store_variance", "Stores do not differ beyond what the shoppers and chance "
                           "explain: no number of visits tells them apart."))
        else:
            out.append(msg("mystery.reliability", "A store's quarterly score has a reliability of {phi:.2f} with "
                           "{today:.1f} visits; **{need} visits per store per quarter** reach .80 (of a visit score's "
                           "variance, stores account for {store:.0%}, shoppers for {shopper:.0%}).", phi=g.coefficient,
                           today=g.visits_per_store, need=need, store=shares["store"], shopper=shares["shopper"]))
        if self.calibration and np.isfinite(self.calibration["alpha_yes_no"]):
            cal = self.calibration
            lenient = self.lenient()
            furthest = sorted(lenient.items(), key=lambda kv: -abs(kv[1]))
            off = _names([msg("mystery.off", "{shopper} ({points:+.1f})", shopper=k, points=v) for k, v in furthest])
            out.append(msg("mystery.calibration", "On the calibration visits shoppers agree with Krippendorff's α = "
                           "{alpha:.2f} on yes/no items; shoppers scoring {points:.0f}+ points off the others: {off}.",
                           alpha=cal["alpha_yes_no"], points=OFF_POINTS, off=off))
        if "weekend" in self.timing.index and self.timing.loc["weekend", "p_value"] < 0.05:
            w = self.timing.loc["weekend"]
            out.append(msg("mystery.weekend", "Weekend visits score {effect:+.1f} points [{low:+.1f}, {high:+.1f}] "
                           "against weekdays, in the same store by the same shopper.", effect=w["effect"],
                           low=w["ci_low"], high=w["ci_high"]))
        elif len(self.timing):
            out.append(msg("mystery.no_weekend", "No clear weekend effect on the scores (same store, same shopper)."))
        if self.link:
            corr, quad = self.link[1], self.link[2]
            r = corr.loc["all"]
            out.append(msg("mystery.link", "Audit scores and customers' perceptions correlate r = {r:.2f} [{low:.2f}, "
                           "{high:.2f}] over {pairs} store-quarters.", r=r["r"], low=r["ci_low"], high=r["ci_high"],
                           pairs=int(r["store_quarters"])))
            unhappy = [str(s) for s in quad.index[quad["position"] == "executed_unhappy"]]
            if unhappy:
                out.append(msg("mystery.executed_unhappy", "Standards executed but customers still below the chain: "
                               "{stores} — the standards may not be what customers expect (gap 2; gap 5 remains).",
                               stores=listed(unhappy)))
        return out

    def headline(self) -> list[dict]:
        m = self.metrics()
        out = [headline("Audit score", m.score, "{:.1f}"), headline("Audit visits", m.visits)]
        if m.visits_needed is not None:
            out.append(headline("Visits needed per store and quarter", m.visits_needed))
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {"league": self.league, "regions": self.regions, "stores by quarter": self.stores_by_quarter,
               "item compliance": self.compliance, "critical failures": self.critical,
               "variance components": self.components_table(), "d study": self.d_study, "timing": self.timing,
               "shopper leniency": self.leniency,
               "visit scores": self.visits.drop(columns=[c for c in self.visits if c.startswith("section:")])}
        if self.calibration:
            out["calibration icc"] = self.calibration["icc"]
        if self.link:
            out["survey link"], out["survey correlations"], out["survey quadrants"] = self.link
        return out

    def components_table(self) -> pd.DataFrame:
        c = self.gstudy.components
        shares = c.shares()
        return pd.DataFrame({"variance": [c.store, c.shopper, c.residual],
                             "share": [shares["store"], shares["shopper"], shares["residual"]]},
                            index=pd.Index(["store", "shopper", "residual"], name="component"))

    def shoppers_shown(self) -> pd.DataFrame:
        """The strictest and the most lenient shoppers (by their effect from the visits)."""
        t = self.leniency.sort_values("effect")
        return t if len(t) <= 2 * SHOPPERS_SHOWN else pd.concat([t.head(SHOPPERS_SHOWN), t.tail(SHOPPERS_SHOWN)])

    def heat(self) -> pd.DataFrame:
        """Stores × items (in the reader's language) of the quarter; with more than :data:`HEAT_STORES` stores,
        the lowest-scoring of them (every store in the workbook)."""
        t = self.compliance["share"].unstack("item_id")
        if len(t) > HEAT_STORES:
            t = t.loc[self.league.sort_values("score").index[:HEAT_STORES]]
        names = self.names()
        t = t[[i for i in self.item_names if i in t.columns]]
        return t.rename(columns=names)

    def sections(self) -> dict:
        pct = "{:.0%}".format
        league = self.league[["region", "visits", "score", "ci_low", "ci_high", "rank", "rank_low", "rank_high",
                              "group", "compliance", "critical_failures"]]  # every column in the workbook
        if len(league) > LEAGUE_SHOWN:
            league = pd.concat([league.head(LEAGUE_SHOWN // 2), league.tail(LEAGUE_SHOWN // 2)])
        blocks = [figure(lambda: plots.league_chart(self.league), "league"),
                  figure(lambda: plots.region_scores_chart(self.regions["score"].unstack("quarter")), "regions"),
                  text(msg("mystery.rule", "Visit score: the weighted share of the checklist met (0–100); a visit "
                           "failing a critical item {rule}. Groups compare each store with the chain's mean visit "
                           "score by a bootstrap of its visits.", rule=_rule_words(self.rule, self.cap))),
                  table(league, lambda s: s.format({"score": "{:.1f}", "ci_low": "{:.1f}", "ci_high": "{:.1f}",
                                                    "compliance": pct}),
                        own_formats=("score", "ci_low", "ci_high", "compliance"))]
        if len(self.league) > LEAGUE_SHOWN:
            blocks.append(text(msg("mystery.league_cut", "The {k} best and the {k} worst of {n} stores (every store in "
                                   "the workbook).", k=LEAGUE_SHOWN // 2, n=len(self.league))))
        comp = ([text(msg("mystery.heat_lowest", "The {k} lowest-scoring of {n} stores (every store in the workbook).",
                          k=HEAT_STORES, n=len(self.league)))] if len(self.league) > HEAT_STORES else [])
        comp += [figure(lambda: plots.compliance_heatmap(self.heat()), "compliance"),
                figure(lambda: base_plots.control_chart(self.chart, "Yes/no checks passed per month (p-chart)",
                                                        "share passed"), "p-chart")]
        if len(self.critical):
            crit = [text(msg("mystery.critical_list", "**{n}** visit(s) failed a critical item in {scope}:",
                             n=len(self.critical), scope=period(self.quarter))),
                    table(self.critical.assign(failed_items=self.critical["failed_items"].map(
                        lambda s: "; ".join(self.names().get(i, i) for i in s.split(", "))),
                        visit_date=self.critical["visit_date"].dt.strftime("%Y-%m-%d")),
                        lambda s: s.hide(axis="index"))]
        else:
            crit = [text(msg("mystery.no_critical", "No visit failed a critical item in {scope}.",
                             scope=period(self.quarter)))]
        g = self.gstudy
        rel = [table(self.components_table(), lambda s: s.format({"variance": "{:.1f}", "share": pct}),
                     own_formats=("variance", "share")),
               figure(lambda: plots.d_study_chart(self.d_study, g.visits_per_store, TARGET_RELIABILITY), "d-study"),
               text(msg("mystery.d_study_note", "Reliability of a store's quarterly score (generalizability theory): "
                        "store variance against the error of a mean of n visits — shopper and visit variance when "
                        "shoppers differ between stores (Φ), visit variance alone when every store sees the same "
                        "shoppers (Eρ²).")),
               ]
        if self.calibration:
            cal = self.calibration
            rel += [text(msg("mystery.calibration_head", "**Calibration visits**: {shoppers} shoppers scored the same "
                             "{cases} recorded visits. Krippendorff's α: {alpha:.2f} on yes/no items (nominal), {ordinal} "
                             "on ratings (ordinal).", shoppers=int(cal["icc"].attrs.get("raters", 0)),
                             cases=int(cal["icc"].attrs.get("targets", 0)), alpha=cal["alpha_yes_no"],
                             ordinal=_fmt2(cal["alpha_ratings"]))),
                    table(cal["icc"], lambda s: s.format(precision=3))]
        shown = self.shoppers_shown()
        rel += [text(msg("mystery.shoppers", "**The {k} strictest and most lenient shoppers** of {n} (all in the "
                         "workbook): effect on a visit's score from the visits (predicted, score points) and, from the "
                         "calibration visits, the deviation from the other shoppers and agreement with their majority "
                         "on yes/no items.", k=SHOPPERS_SHOWN, n=len(self.leniency))),
                table(shown, lambda s: s.format({"effect": "{:+.1f}", "deviation": "{:+.1f}", "agreement": pct},
                                                na_rep="–"), own_formats=("effect", "deviation", "agreement"))]
        timing = ([table(self.timing, lambda s: s.format({"effect": "{:+.2f}", "se": "{:.2f}", "ci_low": "{:+.2f}",
                                                          "ci_high": "{:+.2f}", "p_value": "{:.4f}"}),
                         own_formats=("effect", "se", "ci_low", "ci_high", "p_value")),
                   text(msg("mystery.timing_note", "Score points against weekday mornings, from a regression with "
                            "store and shopper fixed effects (HC1 standard errors)."))]
                  if len(self.timing) else [text(msg("mystery.no_timing", "Too few visits to estimate timing effects."))])
        if self.link:
            pairs, corr, quad = self.link
            survey = [figure(lambda: plots.audit_survey_scatter(pairs), "audit-survey"),
                      table(corr, lambda s: s.format(precision=2), own_formats=("r", "ci_low", "ci_high")),
                      ]
            telling = quad[quad["position"] != "consistent"]
            if len(telling):
                survey += [text(msg("mystery.quadrants", "**Stores in {scope} whose audits and customers disagree** "
                                    "(against the chain's averages; every store in the workbook)",
                                    scope=period(self.quarter))),
                           table(telling, lambda s: s.format("{:.1f}", subset=["audit", "perception", "perception_low",
                                                                                 "perception_high"]),
                                 own_formats=("audit", "perception", "perception_low", "perception_high"))]
            else:
                survey.append(text(msg("mystery.quadrants_none", "In {scope} no store's audit score and customers' "
                                       "perception disagree clearly.", scope=period(self.quarter))))
        else:
            survey = [text(msg("mystery.no_link", "The survey has no store column (or too few respondents per store): "
                               "audit scores are not compared with customers' perceptions."))]
        return {"findings": [text(bullets(self.findings()))], "league": blocks, "compliance": comp,
                "critical": crit, "reliability": rel, "timing": timing, "survey": survey}


def _names(names: list) -> str:
    """Names for a finding: at most :data:`NAMED` of them, then how many more; "none" for none."""
    if not names:
        return msg("mystery.none", "none")
    if len(names) <= NAMED:
        return listed(names)
    return msg("mystery.and_more", "{names} and {n} more", names=listed(names[:NAMED]), n=len(names) - NAMED)


def _float(v) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def _fmt2(v) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:.2f}"


def _rule_words(rule: str, cap: float) -> str:
    if rule == "zero":
        return msg("mystery.rule_zero", "scores 0")
    if rule == "cap":
        return msg("mystery.rule_cap", "scores at most {cap:g}", cap=cap)
    return msg("mystery.rule_flag", "keeps its score and is listed")


def calibration_agreement(calibration: pd.DataFrame, checklist) -> dict | None:
    """Krippendorff's α (nominal on yes/no items, ordinal on ratings), the ICC table of the shoppers' case scores
    and the per-shopper deviations, from the calibration visits; None when fewer than two shoppers or cases."""
    scored, cases = calibration_scores(calibration, checklist)
    if cases["shopper_id"].nunique() < 2 or cases["case_id"].nunique() < 2:
        return None
    unit = scored["case_id"].astype(str) + "|" + scored["item_id"].astype(str)

    def alpha(rows, level):
        if not rows.any():
            return float("nan")
        wide = scored[rows].assign(unit=unit[rows]).pivot_table(index="shopper_id", columns="unit", values="score",
                                                                aggfunc="mean")
        return krippendorff_alpha(wide.to_numpy(), level=level)

    yn = scored["yes_no"].to_numpy(bool)
    try:
        table_icc = icc(cases, targets="case_id", raters="shopper_id", ratings="raw")
    except SQMArgumentError:
        table_icc = None
    return {"alpha_yes_no": alpha(yn, "nominal"), "alpha_ratings": alpha(~yn, "ordinal"), "icc": table_icc,
            "shoppers": shopper_deviations(cases, scored)}


def run_mystery(folder, *, quarter: str = "", n_boot: int = 1000, seed: int = 0) -> MysteryResult:
    """Mystery shopping: the pipeline of notebook ``09_mystery_shopping``.

    Parameters
    ----------
    folder : DataFolder
        From :func:`sqmlib.io.load_folder`; needs ``visits`` and ``visit_items`` (and the instrument's
        ``checklist:``); ``calibration`` adds the shoppers' agreement, the survey (with a ``store`` column) the
        comparison with customers' perceptions.
    quarter : str
        The quarter reported ("" = the latest with visits).
    n_boot : int
        Bootstrap resamples for the stores' rank intervals.
    seed : int

    Returns
    -------
    MysteryResult (or :class:`~sqmlib.results.Unavailable` when the folder has no visits)

    Examples
    --------
    >>> from sqmlib import io, mystery
    >>> m = mystery.run_mystery(io.load_folder())
    >>> m.league, m.gstudy.visits_needed(0.8), m.findings()
    """
    if n_boot < 10:
        raise SQMArgumentError("n_boot must be at least 10")
    if folder.visits is None or folder.instrument.checklist is None:
        skipped = "skipped" in folder.sources.get("visits", {})
        reason = (msg("mystery.no_checklist", "the data folder has audit visits, but the instrument has no checklist: "
                      "section describing their items (see data/README.md).") if skipped else
                  msg("mystery.no_visits", "the data folder has no audit visits (visits.csv and visit_items.csv, with "
                      "a checklist: section in the instrument)."))
        return Unavailable(reason=reason, line=unavailable_line(reason),
                           notebook=MysteryResult.notebook, title=MysteryResult.title, first="findings",
                           quarter=quarter)
    ck = folder.instrument.checklist
    scored, visits = scored_visits(folder)
    quarters = sorted(visits["quarter"].dropna().unique())
    q = quarter or quarters[-1]
    if q not in quarters:
        raise SQMArgumentError(f"no audit visits in quarter {q!r} (the visits cover {', '.join(quarters)})")
    now = visits[visits["quarter"] == q]
    ranks = rank_intervals(now, "store", n_boot=n_boot, seed=seed)
    per_store = unit_scores(now, "store")
    league = ranks.join(per_store[["compliance", "compliance_low", "compliance_high", "critical_failures"]])
    league.insert(0, "region", now.groupby("store")["region"].first().reindex(league.index))
    league.attrs["chain"] = float(now["score"].mean())
    chain_row = unit_scores(now.assign(_all="all"), "_all").iloc[0]
    fails = now[now["critical_failed"]]
    crit = fails[["visit_id", "store", "region", "visit_date", "shopper_id", "failed_items"]].copy()
    if "comment" in folder.visit_items:
        notes = folder.visit_items.dropna(subset=["comment"])
        notes = notes[notes["comment"].astype(str).str.strip() != ""].groupby("visit_id")["comment"].agg(
            lambda s: "; ".join(dict.fromkeys(map(str, s))))
        crit["comment"] = crit["visit_id"].map(notes).fillna("")
    g = g_study(visits.assign(_unit=visits["store"].astype(str) + " " + visits["quarter"].astype(str)),
                store="_unit", shopper="shopper_id", score="score")
    cal = calibration_agreement(folder.calibration, ck) if folder.calibration is not None else None
    leniency = pd.DataFrame({"visits": visits.groupby("shopper_id").size(), "effect": g.components.shopper_effects})
    if cal is not None:
        leniency = leniency.join(cal["shoppers"], how="outer")
    leniency = leniency.sort_values("effect")
    leniency.index.name = "shopper_id"
    monthly = compliance_chart(scored)
    chart = p_chart(monthly["passed"], monthly["checks"], labels=list(monthly["label"]))
    link = linked_survey(folder, scored, q)
    names = {i.id: dict(i.text) for i in ck.items}
    return MysteryResult(
        quarter=q, rule=ck.critical_rule, cap=ck.cap, item_names=names, visits=visits, league=league,
        regions=unit_scores(visits, ["quarter", "region"]), stores_by_quarter=unit_scores(visits, ["quarter", "store"]),
        compliance=item_compliance(scored[scored["quarter"] == q]), chart=chart, critical=crit.reset_index(drop=True),
        gstudy=g, d_study=g.d_study(np.arange(1, 31)), calibration=cal, leniency=leniency,
        timing=timing_effects(visits), link=link,
        chain={"score": chain_row["score"], "ci_low": chain_row["ci_low"], "ci_high": chain_row["ci_high"],
               "compliance": chain_row["compliance"], "visits": chain_row["visits"]})


def gap_evidence(folder, quarter: str) -> dict | None:
    """What the audit visits of ``quarter`` say about gaps 3 and 5 (for the gap page's gaps-model table): the share
    of the checklist's yes/no items met (as :func:`run_mystery`'s chain compliance) and the stores in each of the
    quadrants' two telling positions (:func:`~sqmlib.mystery.scores.quadrants`); None without visits then."""
    if folder.visits is None or folder.instrument.checklist is None or not quarter:
        return None
    scored, visits = scored_visits(folder)
    now = visits[visits["quarter"] == quarter]
    if now.empty or now["checks"].sum() == 0:
        return None
    out = {"compliance": float(now["passed"].sum() / now["checks"].sum()), "visits": int(len(now)),
           "executed_unhappy": [], "unexecuted_content": []}
    link = linked_survey(folder, scored, quarter)
    if link is not None:
        quad = link[2]
        for key in ("executed_unhappy", "unexecuted_content"):
            out[key] = [str(s) for s in quad.index[quad["position"] == key]]
    return out


def scored_visits(folder) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(item scores, visit scores) of a folder's audit visits against its instrument's checklist: what the page,
    the gaps model and the explorer all start from."""
    ck = folder.instrument.checklist
    scored = item_scores(folder.visit_items, folder.visits, ck)
    return scored, visit_scores(scored, folder.visits, ck)


def linked_survey(folder, scored: pd.DataFrame, quarter: str) -> tuple | None:
    """(pairs, correlations, quadrants of ``quarter``) of the audit scores and the survey's perceptions
    (:func:`~sqmlib.mystery.scores.survey_link`); None without a survey with stores and perception items, or
    with fewer than three store-quarter pairs."""
    survey, inst = folder.survey, folder.instrument
    if survey is None or "store" not in survey or not inst.items or "P" not in inst.blocks:
        return None
    pairs, corr = survey_link(scored, survey, dimension_scores(survey, inst, "P"), inst.block_scale("P"))
    return (pairs, corr, quadrants(pairs, quarter)) if len(pairs) >= 3 else None
