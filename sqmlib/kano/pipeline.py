"""The KANO questionnaire as the driver page shows it: :func:`kano_analysis` and its result."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from ..render import seed_plots as plots
from ..render.language import current
from ..render.messages import msg, term, terms
from ..results import Block, Result, figure, table, text
from .tables import (NAMES, answer_pairs, by_segment, classify, continuous, counts, disagreements,
                     half_answered, kano_coefficients)

STANDARD_MINIMUM = 0.95  # a must-be attribute proposed as a standard: delivered in at least 95 % of cases
MIN_SEGMENT_N = 30  # complete answer pairs a segment needs for its own category


@dataclass(frozen=True)
class KanoMetrics:
    """Key figures of the KANO questionnaire (part of the driver notebook's ``metrics.json``)."""

    respondents: int
    categories: dict  # attribute -> category word (must_be, one_dimensional, attractive, …)
    better: dict
    worse: dict
    questionable_share: float
    disagreements: list


CATEGORY_WORDS = {"A": "kano_attractive", "O": "kano_one_dimensional", "M": "kano_must_be", "I": "kano_indifferent",
                  "R": "kano_reverse", "Q": "kano_questionable"}  # the categories as the pages name them
COUNT_COLUMNS = {"A": "n_attractive", "O": "n_one_dimensional", "M": "n_must_be", "I": "n_indifferent",
                 "R": "n_reverse", "Q": "n_questionable"}


@dataclass(frozen=True)
class KanoResult(Result):
    """What the KANO questionnaire says: per attribute the categories' counts, the category (hierarchy rule
    M > O > A > I) and the plain mode, strengths, Better/Worse, Fong's test, the continuous view, the categories
    per segment, where the driver analysis' penalty–reward classes disagree, and proposed standards."""

    title = "KANO questionnaire"

    quarter: str
    coefficients: pd.DataFrame  # kano_coefficients, indexed by attribute id
    scores: pd.DataFrame  # continuous()
    segments: pd.DataFrame | None
    segment: str
    labels: Mapping[str, Mapping[str, str]]  # attribute -> {language: name}
    dimension_of: Mapping[str, str]
    respondents: int
    incomplete: int  # answer pairs with one half missing
    disagree: pd.DataFrame  # disagreements() with the penalty–reward classes ("" columns when not compared)

    def names(self, lang: str | None = None) -> dict[str, str]:
        """Each attribute's name in ``lang`` (default the current language; English where it has none)."""
        lang = lang or current()
        return {a: (self.labels.get(a, {}).get(lang) or self.labels.get(a, {}).get("en") or a)
                for a in self.coefficients.index}

    def table(self) -> pd.DataFrame:
        """The KANO table as the page shows it: categories as words, Better/Worse, strengths, Fong."""
        c = self.coefficients
        out = c[["A", "O", "M", "I", "R", "Q", "n"]].rename(columns=COUNT_COLUMNS).assign(
            kano_category=c["category"].map(CATEGORY_WORDS), kano_mode=c["mode"].map(_mode_words),
            category_strength=c["category_strength"], total_strength=c["total_strength"], kano_better=c["better"],
            kano_worse=c["worse"], fong_significant=c["fong_significant"])
        out.insert(0, "dimension", pd.Series(self.dimension_of).reindex(out.index))
        return out.rename_axis("attribute")

    def shown_scores(self) -> pd.DataFrame:
        """The continuous view as the page shows it (the quadrant named)."""
        return self.scores.assign(quadrant=self.scores["quadrant"].map(CATEGORY_WORDS))

    def standards(self) -> pd.DataFrame:
        """Must-be attributes proposed as service standards: delivered in at least :data:`STANDARD_MINIMUM` of
        cases, ranked by how many customers their absence dissatisfies (|Worse|)."""
        c = self.coefficients
        must = c[c["category"] == "M"].sort_values("worse")
        return pd.DataFrame({"dimension": pd.Series(self.dimension_of).reindex(must.index),
                             "kano_worse": must["worse"], "minimum_share": STANDARD_MINIMUM},
                            index=must.index).rename_axis("attribute")

    @property
    def questionable_share(self) -> float:
        c = self.coefficients
        return float(c["Q"].sum() / c["n"].sum()) if c["n"].sum() else np.nan

    def findings(self) -> list[str]:
        c = self.coefficients
        out = []
        groups = {code: c.index[c["category"] == code].tolist() for code in ("M", "O", "A", "R")}
        if any(groups.values()):
            none = msg("kano.none", "none")
            rev = (msg("kano.reverse", "; reverse (most would rather not have it): {names}", names=terms(groups["R"]))
                   if groups["R"] else "")
            out.append(msg("kano.categories", "KANO categories — must-be (expected; their absence dissatisfies): "
                           "{must}; one-dimensional (the more, the better): {one}; attractive (delight when "
                           "present, no harm when absent): {attractive}{reverse}.",
                           must=terms(groups["M"]) if groups["M"] else none,
                           one=terms(groups["O"]) if groups["O"] else none,
                           attractive=terms(groups["A"]) if groups["A"] else none, reverse=rev))
        close = c.index[~c["fong_significant"] & c["category"].isin(["M", "O", "A"])].tolist()
        if close:
            out.append(msg("kano.close", "Not clearly one category (Fong's test: the two most frequent do not "
                           "differ): {names}.", names=terms(close)))
        if len(self.disagree):
            out.append(msg("kano.disagree", "The questionnaire and the penalty–reward analysis disagree on "
                           "{names}: read both before setting a standard.",
                           names=terms(self.disagree["attribute"])))
        if self.segments is not None and len(self.segments):
            overall = self.coefficients["category"]
            seg = self.segments.dropna(subset=["category"])
            differs = seg[seg["category"] != seg["attribute"].map(overall)]
            for r in differs.itertuples():
                out.append(msg("kano.segment", "In {segment} {value}, {name} is {category} (overall: {overall}).",
                               segment=term(self.segment), value=term(r.segment), name=term(r.attribute),
                               category=term(CATEGORY_WORDS[r.category]),
                               overall=term(CATEGORY_WORDS[overall[r.attribute]])))
        return out

    def metrics(self) -> KanoMetrics:
        c = self.coefficients
        return KanoMetrics(respondents=self.respondents,
                           categories=c["category"].map(NAMES).to_dict(),
                           better=c["better"].to_dict(), worse=c["worse"].to_dict(),
                           questionable_share=self.questionable_share,
                           disagreements=self.disagree.to_dict("records"))

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {"kano questionnaire": self.table(), "kano scores": self.shown_scores(),
               "kano standards": self.standards()}
        if self.segments is not None:
            out["kano segments"] = self.segments
        return out

    def blocks(self) -> list[Block]:
        """The section of the driver page."""
        names, shown = self.names(), self.table()
        out = [text(msg("kano.sample", "**{n:,} respondents** answered the KANO pairs ({quarter}), classified by "
                        "Berger et al.'s (1993) table; an attribute's category is its most frequent (a tie: must-be > "
                        "one-dimensional > attractive > indifferent). Better = (A + O)/(A + O + M + I), Worse = "
                        "−(O + M)/(A + O + M + I).",
                        n=self.respondents, quarter=term(self.quarter) if self.quarter else "—")),
               figure(lambda: plots.kano_better_worse(self.coefficients, names), "kano better worse"),
               figure(lambda: plots.kano_continuous(self.scores, names), "kano continuous"),
               text(msg("kano.continuous", "**The continuous view** (the second chart): mean functional and dysfunctional scores "
                        "(like it 4 … dislike it −2, and the mirror), reverse and questionable answers left out; "
                        "the quadrant at 2 on each axis (the scores and their spread: the workbook's KANO scores).")),
               table(shown[["dimension", *COUNT_COLUMNS.values(), "n"]]),
               table(shown[["kano_category", "kano_mode", "category_strength", "total_strength",
                                   "kano_better", "kano_worse", "fong_significant"]],
                     lambda s: s.format(precision=2).format("{:.0%}", subset=["category_strength",
                                                                              "total_strength"]))]
        if self.incomplete:
            out.append(text(msg("kano.incomplete", "{n:,} answer pair(s) with one question unanswered are left "
                                "out.", n=self.incomplete)))
        if self.segments is not None and len(self.segments):
            wide = self.segments.pivot(index="attribute", columns="segment", values="category").reindex(
                self.coefficients.index)
            overall = self.coefficients["category"]
            differs = wide.apply(lambda row: row.dropna().ne(overall[row.name]).any(), axis=1)
            if differs.any():
                out += [text(msg("kano.by_segment", "**Category per {segment}** where a {segment} differs from the "
                                 "whole (segments with fewer than {k} complete pairs show none; every attribute: "
                                 "the workbook's KANO segments)", segment=term(self.segment), k=MIN_SEGMENT_N)),
                        table(wide[differs].assign(**{"(all)": overall[differs]}).apply(
                            lambda col: col.map(lambda v: CATEGORY_WORDS.get(v, v) if isinstance(v, str) else v)))]
            else:
                out.append(text(msg("kano.same_segments", "Every {segment} with at least {k} complete pairs puts "
                                    "every attribute in the same category as the whole.", segment=term(self.segment),
                                    k=MIN_SEGMENT_N)))
        if len(self.disagree):
            out += [text(msg("kano.disagree_table", "**Where the questionnaire and the penalty–reward analysis "
                             "disagree** (must-be ↔ basic, one-dimensional ↔ performance, attractive ↔ "
                             "excitement)")),
                    table(self.disagree.assign(kano=self.disagree["kano"].map(CATEGORY_WORDS))
                          .rename(columns={"kano": "kano_category"}).set_index("attribute"))]
        std = self.standards()
        if len(std):
            out += [text(msg("kano.standards", "**Proposed service standards**: each must-be attribute delivered "
                             "in at least {minimum:.0%} of cases and checked (audits, mystery shopping); customers "
                             "take it for granted, so a lapse only costs.", minimum=STANDARD_MINIMUM)),
                    table(std, lambda s: s.format(precision=2).format("{:.0%}", subset=["minimum_share"]))]
        return out


def _mode_words(mode) -> str | None:
    if not isinstance(mode, str):
        return None
    return "/".join(CATEGORY_WORDS[m] for m in mode.split("/"))


def kano_analysis(survey: pd.DataFrame, instrument, *, quarter: str = "", segment: str = "",
                  prca: pd.Series | None = None) -> KanoResult | None:
    """The KANO questionnaire of ``survey`` (the instrument's ``kano:`` pairs, columns ``KF_<id>`` and
    ``KD_<id>``), among the respondents who answered any pair; None when the survey has none. ``prca`` (the
    penalty–reward class per dimension) is compared through each attribute's ``dimension``."""
    pairs = answer_pairs(survey, instrument)
    if pairs is None:
        return None
    f, d = pairs
    ids, kano = list(f.columns), instrument.kano
    answered = (f.notna() | d.notna()).any(axis=1)
    f, d = f[answered], d[answered]
    if not len(f):
        return None
    cats = classify(f, d)
    coef = kano_coefficients(counts(cats))
    incomplete = int(half_answered(f, d).sum())
    seg = None
    if segment and segment in survey:
        seg = by_segment(f, d, survey.loc[f.index, segment], min_n=MIN_SEGMENT_N)
    dim_of = {a.id: a.dimension for a in kano.attributes if a.id in ids and a.dimension}
    dis = disagreements(coef["category"], prca if prca is not None else pd.Series(dtype=object), dim_of)
    return KanoResult(quarter=quarter, coefficients=coef, scores=continuous(f, d, cats), segments=seg,
                      segment=segment, labels={a.id: dict(a.text) for a in kano.attributes if a.id in ids},
                      dimension_of=dim_of, respondents=int(len(f)), incomplete=incomplete, disagree=dis)


__all__ = ["CATEGORY_WORDS", "KanoMetrics", "KanoResult", "NAMES", "kano_analysis"]
