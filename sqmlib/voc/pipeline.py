"""The voice-of-the-customer page (notebook ``11_voice_of_customer``): :func:`run_voc`.

Reviews, call notes and survey comments (``feedback.csv``) are read for service aspects and their sentiment
(:mod:`sqmlib.voc.aspects`); star ratings, when there are enough, train a document-polarity model
(:func:`sqmlib.voc.fit_polarity`) whose cross-validated accuracy stands beside the lexicon's; aspects whose
negative mentions rose at a unit in the last weeks are listed with example quotes (personal data masked) and
the owning department (the instrument's ``owners: {aspect: …}``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..io.feedback import feedback_quality, listening_posts
from ..render import labels, plots
from ..render.language import current as current_language
from ..render.messages import msg, term, unavailable_line
from ..render.outputs import write_excel
from ..results import Result, Unavailable, figure, headline, table, text
from .aspects import Analyser
from .polarity import MIN_LABELS, fit_polarity, lexicon_accuracy, ratings_to_labels
from .rising import rising_issues
from .text import quote

__all__ = ["VoCMetrics", "VoCResult", "run_voc", "RECENT_WEEKS", "BASELINE_WEEKS", "MIN_COUNT"]

RECENT_WEEKS, BASELINE_WEEKS, MIN_COUNT = 4, 12, 5
HEAT_WEEKS = 12  # weeks in the heat map
QUOTES = 3


@dataclass(frozen=True)
class VoCMetrics:
    """Key figures of :func:`run_voc` (``metrics.json`` of the voice-of-the-customer notebook)."""

    items: int
    usable: int
    left_out: dict
    mentions: int
    negative_share: dict  # aspect -> share of its mentions that are negative
    rising: list  # unit, aspect, rate_ratio, q_value, recent_negative
    lexicon_accuracy: float | None
    model_accuracy: float | None
    model_interval: list | None
    findings: list


@dataclass(frozen=True)
class VoCResult(Result):
    """Aspects and sentiment of the feedback, rising issues and the classified feedback."""

    title = "Voice of the customer"
    notebook = "11_voice_of_customer"

    unit: str
    feedback: pd.DataFrame  # usable feedback with week, language, score, polarity
    mentions: pd.DataFrame  # one row per aspect mention, with the feedback's unit and week
    quality: dict
    rising: pd.DataFrame
    lexicon_check: dict = field(default_factory=dict)
    model: object | None = None
    owners: dict = field(default_factory=dict)
    dimensions: dict = field(default_factory=dict)  # aspect -> SERVQUAL dimension (the lexicon's)
    recent_weeks: int = RECENT_WEEKS
    baseline_weeks: int = BASELINE_WEEKS

    # ---- numbers ---------------------------------------------------------------------------------------
    def negative_share(self) -> pd.Series:
        m = self.mentions[self.mentions["polarity"] != 0]
        return (m["polarity"] < 0).groupby(m["aspect"]).mean().sort_values(ascending=False)

    def issues(self) -> pd.DataFrame:
        r = self.rising
        return r[r["rising"]] if len(r) else r

    def owner(self, aspect: str) -> str:
        return (self.owners.get("aspect") or {}).get(aspect, "")

    def quotes(self, unit, aspect, n: int = QUOTES, lang: str | None = None) -> list[str]:
        """Up to ``n`` negative quotes of an aspect at a unit, personal data masked: the latest written in ``lang``
        (default the reader's language) first, then the latest others."""
        lang = lang or current_language()
        m = self.mentions
        hit = m[(m[self.unit] == unit) & (m["aspect"] == aspect) & (m["polarity"] < 0)]
        info = self.feedback.set_index("feedback_id")
        hit = hit.assign(other=(info.loc[hit["text_id"], "language"].to_numpy() != lang))
        ids = hit.sort_values(["other", "created_at"], ascending=[True, False])["text_id"].drop_duplicates().head(n)
        return [quote(t) for t in info.loc[ids, "text"]]

    def metrics(self) -> VoCMetrics:
        issues = self.issues()
        m = self.model
        return VoCMetrics(
            items=int(self.quality["rows"]), usable=int(self.quality["usable"]),
            left_out={k: self.quality[k] for k in ("empty", "junk", "unknown_source", "long")},
            mentions=int(len(self.mentions)),
            negative_share={k: round(float(v), 12) for k, v in self.negative_share().items()},
            rising=[{"unit": str(r[self.unit]), "aspect": r["aspect"], "rate_ratio": float(r["rate_ratio"]),
                     "q_value": float(r["q_value"]), "recent_negative": int(r["recent_negative"])}
                    for _, r in issues.iterrows()],
            lexicon_accuracy=self.lexicon_check.get("accuracy"),
            model_accuracy=None if m is None else float(m.cv_accuracy),
            model_interval=None if m is None else [float(v) for v in m.cv_interval],
            findings=self.findings())

    # ---- words -----------------------------------------------------------------------------------------
    def issue_line(self, r) -> str:
        return msg("voc.issue", "**{aspect}** at **{unit}**: {recent} negative mentions in the last {weeks} weeks, "
                   "{ratio:.1f} times the rate of the {base} weeks before (q = {q:.3f}).", aspect=term(r["aspect"]),
                   unit=term(str(r[self.unit])), recent=int(r["recent_negative"]), weeks=self.recent_weeks,
                   ratio=float(r["rate_ratio"]), base=self.baseline_weeks, q=float(r["q_value"]))

    def findings(self) -> list[str]:
        out = []
        issues = self.issues()
        if len(issues):
            out.append(self.issue_line(issues.iloc[0]))
        else:
            out.append(msg("voc.no_issue", "No aspect's negative mentions rose significantly at any {unit} in the "
                           "last {weeks} weeks.", unit=term(self.unit), weeks=self.recent_weeks))
        share = self.negative_share()
        if len(share):
            out.append(msg("voc.most_criticised", "Most criticised: **{aspect}** ({share:.0%} of its mentions "
                           "negative).", aspect=term(share.index[0]), share=float(share.iloc[0])))
        return out

    def headline(self) -> list[dict]:
        return [headline("Feedback analysed", int(self.quality["usable"])),
                headline("Rising issues", int(len(self.issues())))]

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"rising issues": self.rising, "aspects per unit": self.aspect_table(),
                "classified feedback": self.classified()}

    def aspect_table(self) -> pd.DataFrame:
        """Per unit and aspect: mentions and the share negative."""
        m = self.mentions[self.mentions["polarity"] != 0]
        g = m.groupby([self.unit, "aspect"])["polarity"]
        out = pd.DataFrame({"mentions": g.size(), "negative_share": g.apply(lambda s: float((s < 0).mean()))})
        return out.reset_index()

    def classified(self) -> pd.DataFrame:
        """One row per feedback item: its source, unit, time, polarity (the model's when there is one, else the
        lexicon's), its aspects with their signs, and the text with personal data masked."""
        f = self.feedback
        names = {a: str(labels.label(a)) for a in self.mentions["aspect"].unique()}
        signs = self.mentions.assign(tag=self.mentions["aspect"].map(names) + self.mentions["polarity"].map(
            {1: " +", -1: " −", 0: ""})).groupby("text_id")["tag"].agg(lambda s: "; ".join(dict.fromkeys(s)))
        cols = [c for c in ("feedback_id", "source", "platform", "created_at", self.unit, "rating") if c in f]
        out = f[cols].copy()
        if "rating" in out:
            out["rating"] = out["rating"].astype("Int64")
        out["polarity"] = f["polarity"].to_numpy()
        out["aspects"] = f["feedback_id"].map(signs).fillna("").to_numpy()
        out["feedback_text"] = f["text"].map(quote).to_numpy()
        return out

    def write_files(self, out_dir) -> list:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_excel({"classified feedback": self.classified(), "rising issues": self.rising,
                     "aspects per unit": self.aspect_table()}, out / "classified_feedback.xlsx", index=False)
        return [out / "classified_feedback.xlsx"]

    def heat(self) -> pd.DataFrame:
        """Negative mentions per aspect (rows) and week (columns), the last :data:`HEAT_WEEKS` weeks."""
        m = self.mentions[self.mentions["polarity"] < 0]
        t = m.groupby(["aspect", "week"]).size().unstack(fill_value=0)
        t = t[sorted(t.columns)[-HEAT_WEEKS:]]
        t.columns = [pd.Timestamp(c).strftime("%m-%d") for c in t.columns]
        t.index = [labels.label(a) for a in t.index]
        t.index.name, t.columns.name = "", "week starting"
        return t

    def _keyword_scores(self, lang: str | None = None) -> pd.DataFrame:
        """Per aspect and word of its negative clauses written in ``lang`` (default the reader's language): ``n``
        (clauses) and ``score`` = n × log(1 + lift over all negative clauses); the lexicon's function words and
        single characters left out."""
        lang = lang or current_language()
        m = self.mentions[self.mentions["polarity"] < 0]
        m = m[m["text_id"].map(self.feedback.set_index("feedback_id")["language"]) == lang]
        words = m["tokens"].explode().dropna()
        if words.empty:
            return pd.DataFrame(columns=["aspect", "word", "n", "score"])
        d = pd.DataFrame({"aspect": m.loc[words.index, "aspect"].to_numpy(), "word": words.to_numpy()})
        d = d[d["word"].str.len() > 1]
        c = d.groupby(["aspect", "word"]).size().rename("n").reset_index()
        total = d["word"].value_counts()
        per_aspect = d.groupby("aspect").size()
        c["score"] = c["n"] * np.log1p(c["n"] / per_aspect.reindex(c["aspect"]).to_numpy()
                                       / (total.reindex(c["word"]).to_numpy() / len(d)))
        return c.sort_values(["aspect", "score", "word"], ascending=[True, False, True])

    def keywords(self, k: int = 5, lang: str | None = None) -> pd.DataFrame:
        """Per aspect, the words most often in its negative clauses (the lexicon's function words left out),
        ranked by count × lift over all negative clauses; the words of the texts in ``lang`` (default the
        reader's language: a Chinese reader sees the Chinese complaints' words)."""
        c = self._keyword_scores(lang)
        if c.empty:
            return pd.DataFrame(columns=["aspect", "keywords"])
        top = c.groupby("aspect").head(k)
        return top.groupby("aspect")["word"].agg(", ".join).rename("keywords").reset_index()

    def keyword_map(self, k: int = 3, lang: str | None = None) -> pd.DataFrame:
        """The hot-issue map: negative clauses per aspect (rows, most criticised first) and keyword (columns: the
        ``k`` most typical words of each aspect, see :meth:`keywords`), so a word shared by several aspects shows
        where complaints run together."""
        c = self._keyword_scores(lang)
        if c.empty:
            return pd.DataFrame()
        ranked = list(self.negative_share().index)
        order = [a for a in ranked if a in set(c["aspect"])] + sorted(set(c["aspect"]) - set(ranked))
        top = c.groupby("aspect").head(k)
        words = list(dict.fromkeys(w for a in order for w in top.loc[top["aspect"] == a, "word"]))
        t = c[c["word"].isin(words)].pivot(index="aspect", columns="word", values="n").fillna(0).astype(int)
        t = t.reindex(index=order, columns=words, fill_value=0)
        t.index = [labels.label(a) for a in t.index]
        return t

    def sections(self) -> dict:
        q = self.quality
        sources = self.feedback.groupby(["source", "language"]).size().unstack(fill_value=0)
        left = {k: q[k] for k in ("empty", "junk", "unknown_source") if q[k]}
        src = [text(msg("voc.read", "{usable:,} of {rows:,} pieces of feedback analysed.", usable=q["usable"],
                        rows=q["rows"]))]
        if left:
            src.append(text(msg("voc.left_out", "Left out: {empty:,} empty, {junk:,} unreadable, {unknown:,} from "
                                "an unknown source ({sources}).", empty=q["empty"], junk=q["junk"],
                                unknown=q["unknown_source"], sources=", ".join(q["unknown_sources"]) or "–")))
        if q["long"]:
            src.append(text(msg("voc.long", "{n:,} very long texts were read on their first characters.",
                                n=q["long"])))
        src.append(table(sources))
        checks = []
        lc = self.lexicon_check
        if lc:
            checks.append(msg("voc.lexicon_accuracy", "The lexicon reads the polarity of {share:.0%} of the rated "
                              "reviews; of those it reads {acc:.1%} right (95% interval {lo:.1%}–{hi:.1%}).",
                              share=lc["covered"], acc=lc["accuracy"], lo=lc["interval"][0], hi=lc["interval"][1]))
        if self.model is not None:
            m = self.model
            checks.append(msg("voc.model_accuracy", "A model learnt from {n:,} star ratings (1–2 negative, 4–5 "
                              "positive) reads {acc:.1%} right in {folds}-fold cross-validation (95% interval "
                              "{lo:.1%}–{hi:.1%}); it gives each text's polarity.", n=m.n, acc=m.cv_accuracy,
                              folds=m.folds, lo=m.cv_interval[0], hi=m.cv_interval[1]))
        elif lc:
            checks.append(msg("voc.no_model", "Fewer than {n} rated reviews: the lexicon gives each text's "
                              "polarity.", n=MIN_LABELS))
        src += [text(c) for c in checks]
        share = self.negative_share()
        aspects = [text(self.findings()[-1]),
                   table(pd.DataFrame({"negative_share": share,
                                       "dimension": [labels.label(self.dimension(a)) for a in share.index]}),
                         lambda s: s.format({"negative_share": "{:.0%}"}), own_formats=("negative_share",)),
                   figure(lambda: plots.count_heatmap(self.heat(), title="Negative mentions per aspect and week"),
                          "heat map"),
                   table(self.aspect_table().pivot(index=self.unit, columns="aspect", values="negative_share"),
                         lambda s: s.format("{:.0%}", na_rep="–"))]
        issues = self.issues()
        if len(issues):
            rising = [text(msg("voc.rising_count", "Rising issues: {n} — an aspect whose negative mentions per piece "
                               "of feedback rose at a {unit} in the last {weeks} weeks against the {base} weeks "
                               "before (one-sided conditional test of two rates, Benjamini–Hochberg q ≤ .05).",
                               n=len(issues), unit=term(self.unit), weeks=self.recent_weeks,
                               base=self.baseline_weeks))]
        else:
            rising = [text(self.findings()[0])]
        for _, r in issues.head(5).iterrows():
            owner = self.owner(r["aspect"])
            lines = [self.issue_line(r)]
            if owner:
                lines.append(msg("voc.owner", "Owner: {owner}.", owner=owner))
            said = "\n".join(f"- “{q_}”" for q_ in self.quotes(r[self.unit], r["aspect"]))
            rising.append(text(" ".join(lines) + "\n\n" + said))
        rising.append(table(self.rising.head(15)[[self.unit, "aspect", "recent_negative", "baseline_negative",
                                                  "rate_ratio", "p_value", "q_value"]]
                            if len(self.rising) else pd.DataFrame(),
                            lambda s: s.format({"rate_ratio": "{:.2f}"}).hide(axis="index"),
                            own_formats=("rate_ratio",)))
        kw = self.keywords()
        words = [text(msg("voc.keywords_how", "Per aspect, the words most often in its negative clauses, the most "
                          "typical of that aspect first (feedback written in English).")),
                 table(kw.assign(aspect=kw["aspect"].map(labels.label)), lambda s: s.hide(axis="index"))]
        hot = self.keyword_map()
        if hot.size:
            words += [text(msg("voc.map_how", "The hot-issue map: each aspect's most typical complaint words and how "
                               "many negative clauses of every aspect use them — a word under several aspects is "
                               "a complaint that runs across them.")),
                      figure(lambda: plots.bubble_map(hot.T, title="Hot-issue map: aspects and their complaint words",
                                                      size_label="Negative clauses using the word"), "hot-issue map")]
        return {"sources": src, "aspects": aspects, "rising": rising, "words": words}

    def dimension(self, aspect: str) -> str:
        return self.dimensions.get(aspect, "")


def no_feedback(page, first: str, quarter: str = "") -> Unavailable:
    """A voice-of-the-customer page (``page``: its result class) for a folder without feedback: one line under its
    ``first`` section saying what to bring."""
    reason = msg("voc.no_feedback", "the data folder has no feedback (feedback.csv: feedback_id, source, "
                 "created_at, text; see data/README.md).")
    return Unavailable(reason=reason, line=unavailable_line(reason), notebook=page.notebook, title=page.title,
                       first=first, quarter=quarter)


def run_voc(folder, *, quarter: str = "", unit: str = "", lexicon: str = "", recent_weeks: int = RECENT_WEEKS,
            baseline_weeks: int = BASELINE_WEEKS, min_count: int = MIN_COUNT, polarity_model: bool = True,
            tickets: bool = False, seed: int = 0) -> VoCResult | Unavailable:
    """The voice of the customer: the pipeline of notebook ``11_voice_of_customer``.

    Parameters
    ----------
    folder : DataFolder
        Needs ``feedback`` or survey comments (the instrument's ``role: comment`` columns); both are read.
    quarter : str
        Only the feedback up to this quarter's end ("" = all of it).
    unit : str
        The column issues are found per (default ``store``, else ``region``).
    lexicon : str
        A YAML file extending the default lexicon (more words, other aspects).
    recent_weeks, baseline_weeks, min_count : int
        Rising issues: the recent weeks against the baseline weeks before them, for units and aspects with at
        least ``min_count`` recent negative mentions.
    polarity_model : bool
        With enough star ratings, learn each text's polarity from them (else, and with False: the lexicon's).
    tickets : bool
        Also read the tickets' texts (``interactions``). Off by default: the KPI page reads the tickets by their
        categories, and thousands of tickets beside a few hundred reviews decide every rate on the page.
    """
    if quarter:
        folder = folder.until(quarter)
    f = listening_posts(folder, tickets=tickets)
    if f is None or not len(f):
        return no_feedback(VoCResult, "sources", quarter)
    unit = unit or ("store" if "store" in f and f["store"].notna().any() else "region")
    usable, quality = feedback_quality(f)
    fb = f[usable].reset_index(drop=True).copy()
    a = Analyser(lexicon or None)
    rows, scores, langs = [], np.empty(len(fb)), []
    for i, (fid, t) in enumerate(zip(fb["feedback_id"], fb["text"])):
        s, found, lang = a.analyse(t, tokens=True)
        scores[i] = s
        langs.append(lang)
        rows.extend((fid, k, c, asp, p, tk) for k, c, asp, p, tk in found)
    mentions = pd.DataFrame(rows, columns=["text_id", "clause", "clause_text", "aspect", "polarity", "tokens"])
    fb["language"] = langs
    fb["score"] = scores
    fb["week"] = fb["created_at"].dt.to_period("W").dt.start_time
    fb["polarity"] = np.sign(scores).astype(int)
    labelled = ratings_to_labels(fb["rating"]) if "rating" in fb else pd.Series(dtype=object)
    check, model = {}, None
    if labelled.notna().sum():
        check = lexicon_accuracy(fb["text"], labelled, scores=scores)  # the scores read above
    if polarity_model and labelled.notna().sum() >= MIN_LABELS and labelled.dropna().nunique() == 2:
        main = pd.Series(langs).mode().iloc[0]
        model = fit_polarity(fb["text"], labelled, lang=main, seed=seed)
        fb["polarity"] = np.where(model.predict(fb["text"]) == "negative", -1, 1)
    mentions = mentions.join(fb.set_index("feedback_id")[[unit, "week", "created_at"]], on="text_id")
    rising = rising_issues(mentions, fb[[unit, "week"]], unit=unit, recent=recent_weeks, baseline=baseline_weeks,
                           min_count=min_count)
    owners = getattr(folder.instrument, "owners", {}) or {}
    return VoCResult(unit=unit, feedback=fb, mentions=mentions, quality=quality, rising=rising, lexicon_check=check,
                     model=model, owners=dict(owners), dimensions=dict(a.lex.dimension), recent_weeks=recent_weeks,
                     baseline_weeks=baseline_weeks)
