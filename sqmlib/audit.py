"""Data audit: what was loaded, how complete it is, and which respondents look careless.

Used by ``notebooks/00_data_audit.ipynb``. Every function takes the DataFrame returned by
:func:`sqmlib.io.load_survey` and returns a tidy DataFrame or a boolean Series aligned with it.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .render import labels, plots
from .render.messages import bullets, listed, msg, no_items_reason, term, terms
from .errors import SQMArgumentError
from .instruments import Instrument
from .instruments import load as load_instrument
from .results import Block, Result, figure, headline, metrics_dict, table, text
from .kano import answer_pairs, half_answered
from .kano import classify as kano_classify
from .io.transactions import transaction_anomalies
from .io.visits import visit_anomalies
from .periods import quarter_end
from .io.careless import careless, flag_straightliners, flag_too_fast, too_fast_threshold  # noqa: F401  (the audit's own API)


def item_columns(survey: pd.DataFrame, instrument: "str | Instrument") -> list[tuple[str, str, str]]:
    """(block, item, column) for every item column of the instrument present in ``survey``."""
    inst = load_instrument(instrument)
    return [(b, i, inst.item_column(b, i)) for b in inst.blocks for i in inst.items
            if inst.item_column(b, i) in survey.columns]


def completeness(survey: pd.DataFrame, instrument: "str | Instrument", source: Mapping | None = None) -> pd.DataFrame:
    """Answered share of every item column, with the declared missing codes counted where known.

    Returns
    -------
    DataFrame
        One row per item column: ``block``, ``item``, ``dimension``, ``column``, ``n`` (respondents),
        ``answered``, ``share_answered`` and, when ``survey`` is the whole file as loaded, one count column
        per declared missing code (e.g. ``don't know``) and ``blank`` (no answer at all).
    """
    inst = load_instrument(instrument)
    cols = item_columns(survey, inst)
    n = len(survey)
    answered = survey[[c for _, _, c in cols]].notna().sum().to_numpy() if cols else np.array([], int)
    out = pd.DataFrame({
        "block": [b for b, _, _ in cols],
        "item": [i for _, i, _ in cols],
        "dimension": [inst.dimension_of(i) for _, i, _ in cols],
        "column": [c for _, _, c in cols],
        "n": n,
        "answered": answered,
        "share_answered": answered / n if n else np.nan,
    })
    meta = source if source is not None else survey.attrs.get("sqm", {})
    if meta.get("n_rows_file") == n:  # codes were counted on this very table
        counts = meta.get("missing_codes", {})
        labels = list(inst.missing_codes.values())
        for lab in labels:
            out[lab] = [int(counts.get(c, {}).get(lab, 0)) for c in out["column"]]
        out["blank"] = out["n"] - out["answered"] - out[labels].sum(axis=1) if labels else out["n"] - out["answered"]
    return out


def responses_by(survey: pd.DataFrame, rows: str = "quarter", columns: str | None = None) -> pd.DataFrame:
    """Respondents per ``rows`` (and per ``columns`` value when given), with a total row and column."""
    if rows not in survey.columns:
        raise SQMArgumentError(f"the survey has no column {rows!r}")
    survey = survey.assign(**{rows: survey[rows].astype(object).where(survey[rows].notna(), "(none)")})
    if columns is None or columns not in survey.columns:  # rows without a value (no date: no quarter) as "(none)"
        t = survey.groupby(rows, dropna=False).size().rename("respondents").to_frame()
        t.loc["total"] = t["respondents"].sum()
        return t
    return pd.crosstab(survey[rows], survey[columns], margins=True, margins_name="total")


def outcome_summary(survey: pd.DataFrame, instrument: "str | Instrument") -> pd.DataFrame:
    """Count, answered share, mean, min and max of every outcome column (overall satisfaction, NPS, …)."""
    inst = load_instrument(instrument)
    rows = []
    for name in inst.outcomes:
        if name not in survey.columns:
            continue
        s = survey[name]
        spec = inst.columns[name]
        rows.append({"outcome": name, "scale": f"{spec.min:g}–{spec.max:g}", "answered": int(s.notna().sum()),
                     "share_answered": float(s.notna().mean()), "mean": float(s.mean()),
                     "min": float(s.min()), "max": float(s.max())})
    return pd.DataFrame(rows, columns=["outcome", "scale", "answered", "share_answered", "mean", "min", "max"])


def problems_table(survey: pd.DataFrame, source: Mapping | None = None) -> pd.DataFrame:
    """Problems found on loading (only non-empty when loaded with ``errors="coerce"``), from what the loader
    recorded (``source``: a DataFolder's ``sources["survey"]``)."""
    probs = (source if source is not None else survey.attrs.get("sqm", {})).get("problems", [])
    cols = ["column", "kind", "message", "n_rows", "rows", "values"]
    return pd.DataFrame([{k: p.get(k) for k in cols} for p in probs], columns=cols)


def select_segment(survey: pd.DataFrame, segment: str = "") -> pd.DataFrame:
    """Respondents of one segment, written ``"column=value"`` (e.g. ``"region=South"``); "" keeps everyone."""
    if not segment:
        return survey
    if "=" not in segment:
        raise SQMArgumentError(f"a segment is written column=value, got {segment!r}")
    col, val = (part.strip() for part in segment.split("=", 1))
    if col not in survey.columns:
        raise SQMArgumentError(f"the survey has no column {col!r}")
    sub = survey[survey[col].astype(str) == val]
    if sub.empty:
        have = ", ".join(map(str, sorted(survey[col].dropna().astype(str).unique())[:10]))
        raise SQMArgumentError(f"no respondents with {col} = {val!r} (values: {have})")
    return sub


def segment_filter(segment: str = "") -> dict[str, str]:
    """``"column=value"`` as a one-entry dict (empty for ""), for engines that filter rows themselves."""
    if not segment:
        return {}
    if "=" not in segment:
        raise SQMArgumentError(f"a segment is written column=value, got {segment!r}")
    col, val = (part.strip() for part in segment.split("=", 1))
    return {col: val}


def select_quarter(survey: pd.DataFrame, quarter: str = "") -> tuple[str, pd.DataFrame]:
    """The quarter to look at ("" = the latest in the survey) and the respondents of that quarter.

    A survey without quarters (e.g. a one-off study) is returned whole, with quarter "".
    """
    if "quarter" not in survey.columns or survey["quarter"].isna().all():
        if quarter:
            raise SQMArgumentError(f"quarter {quarter!r} asked for, but the survey has no quarter or survey_date column")
        return "", survey
    q = quarter or str(max(survey["quarter"].dropna()))
    sub = survey[survey["quarter"] == q]
    if sub.empty:
        have = ", ".join(sorted(survey["quarter"].dropna().unique()))
        raise SQMArgumentError(f"no respondents in quarter {q!r} (the survey has {have})")
    return q, sub


@dataclass(frozen=True)
class AuditMetrics:
    """Key figures of :func:`run_audit` (``metrics.json`` of the audit notebook)."""

    respondents_file: int
    respondents_quarter: int
    item_columns: int
    answered_share: float
    lowest_answered_share: float
    straightliners: int
    straightliner_share: float
    too_fast: int
    too_fast_share: float
    too_fast_limit_sec: float | None
    problems: int
    respondents_per_quarter: dict
    missing_codes: dict
    kano_questionable_share: float | None = None  # of the quarter's KANO answer pairs, when the survey has them
    visit_checks: dict | None = None  # audit visits: duplicate_visit, unlikely_time, repeat_shopper -> visits
    order_checks: dict | None = None  # orders: negative_amount, refunded, duplicate_order, future_date -> orders


def _readable(value):
    """A metric as a table cell: a mapping as ``name: count; name: count``."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v:,}" if isinstance(v, int) else f"{k}: {v}" for k, v in value.items())
    return value


@dataclass(frozen=True)
class AuditResult(Result):
    """Everything the data audit found. ``summary()`` gives the key figures as a DataFrame."""

    title = "Data audit"
    notebook = "00_data_audit"

    source: Mapping[str, Any]
    instrument: str
    quarter: str
    n_file: int
    n_quarter: int
    completeness: pd.DataFrame
    responses: Mapping[str, pd.DataFrame]
    careless: pd.DataFrame  # per quarter: respondents, straight-liners, too fast
    flags: pd.DataFrame  # per respondent of the file: straightliner, too_fast
    too_fast_limit: float | None
    missing_codes: pd.DataFrame
    problems: pd.DataFrame
    outcomes: pd.DataFrame
    item_table: pd.DataFrame | None = None
    durations: pd.Series | None = None
    weight_like: tuple = ()  # columns named like a sampling weight that the instrument does not declare
    kano: pd.DataFrame | None = None  # the quarter's KANO pairs per attribute: answered, incomplete, Q, R
    visits: pd.DataFrame | None = None  # what the audit visits' checks found (io.visits.visit_anomalies), if any visits
    orders: pd.DataFrame | None = None  # what the orders' checks found (io.transactions.transaction_anomalies)

    def _file_name(self) -> str:
        """The survey file's name (the names of a survey joined from several files: "a.csv + b.csv")."""
        return " + ".join(Path(part).name for part in str(self.source.get("source", "")).split(" + "))

    def summary(self) -> pd.DataFrame:
        comp = self.completeness
        sel = self.flags.loc[self._in_quarter()]
        rows = [
            ("file", self._file_name()),
            ("format", self.source.get("format")),
            ("encoding", self.source.get("encoding") or "n/a"),
            ("instrument", self.instrument),
            ("respondents in file", self.n_file),
            ("quarter audited", self.quarter or "all"),
            ("respondents in quarter", self.n_quarter),
            ("item columns", len(comp)),
            ("answered share (all items, whole file)", float(comp["answered"].sum() / comp["n"].sum())
             if len(comp) else np.nan),
            ("lowest item answered share", float(comp["share_answered"].min()) if len(comp) else np.nan),
            ("straight-liners in quarter", int(sel["straightliner"].sum())),
            ("too fast in quarter", int(sel["too_fast"].sum())),
            ("problems on loading", len(self.problems)),
        ]
        return pd.DataFrame(rows, columns=["figure", "value"]).set_index("figure")

    def _in_quarter(self) -> np.ndarray:
        return self.flags["in_quarter"].to_numpy()

    def findings(self) -> list[str]:
        """Plain-language conclusions, in the language chosen with :func:`sqmlib.labels.use`."""
        comp = self.completeness
        out = []
        source = self._file_name()
        if self.quarter:
            out.append(msg("audit.loaded_quarter", "{n:,} responses were loaded from {file}; {m:,} of them are in "
                           "{quarter}.", n=self.n_file, file=source, m=self.n_quarter, quarter=term(self.quarter)))
        else:
            out.append(msg("audit.loaded_file", "{n:,} responses were loaded from {file}; {m:,} of them are in the "
                           "file.", n=self.n_file, file=source, m=self.n_quarter))
        for file, left in (self.source.get("unmatched") or {}).items():  # a survey joined from several files
            out.append(msg("audit.unmatched", "{n:,} respondents of {file} have no row in the other survey files "
                           "and were left out (ids {ids}).", n=left["n"], file=file,
                           ids=", ".join(map(str, left["ids"])) + (" …" if left["n"] > len(left["ids"]) else "")))
        if len(comp):
            low = comp[comp["share_answered"] < 0.95]
            share = comp["answered"].sum() / comp["n"].sum()
            if len(low):
                out.append(msg("audit.usable_low", "{share:.1%} of all item answers are usable; {k} item column(s) "
                               "have fewer than 95 % usable answers, lowest {column} at {lowest:.1%}.", share=share,
                               k=len(low), column=low.sort_values("share_answered").iloc[0]["column"],
                               lowest=low["share_answered"].min()))
            else:
                out.append(msg("audit.usable_all", "{share:.1%} of all item answers are usable; every item column "
                               "has at least 95 % usable answers.", share=share))
        sel = self.flags.loc[self._in_quarter()]
        n = max(len(sel), 1)
        sl, tf = int(sel["straightliner"].sum()), int(sel["too_fast"].sum())
        both = int((sel["straightliner"] & sel["too_fast"]).sum())
        parts = dict(sl=sl, sl_share=sl / n, tf=tf, tf_share=tf / n, both=both)
        if not len(self.item_table):  # a study of the KPIs alone: only the too-fast rule applies
            pass
        elif self.too_fast_limit:
            out.append(msg("audit.careless", "{sl:,} respondents ({sl_share:.1%}) gave the same answer to every "
                           "perception item and {tf:,} ({tf_share:.1%}) finished too fast (under {limit:.0f} s); "
                           "{both:,} did both. Consider leaving them out of the analyses that follow.",
                           limit=self.too_fast_limit, **parts))
        else:
            out.append(msg("audit.careless_no_durations", "{sl:,} respondents ({sl_share:.1%}) gave the same answer "
                           "to every perception item and {tf:,} ({tf_share:.1%}) finished too fast (no durations "
                           "recorded); {both:,} did both. Consider leaving them out of the analyses that follow.",
                           **parts))
        for column in self.weight_like:
            out.append(msg("audit.weight_undeclared", "The column {column} looks like a sampling weight, but the "
                           "instrument does not declare it (role: weight): every figure is unweighted.",
                           column=column))
        for column, c in (self.source.get("collapsed") or {}).items():
            out.append(msg("audit.collapsed", "The segment column {column} has {values:,} values: the {kept} most "
                           "frequent are compared and the other {other:,} respondents are shown as one group, "
                           "(other).", column=column, values=c["values"], kept=c["kept"],
                           other=c["respondents_other"]))
        for column, c in (self.source.get("cleaned") or {}).items():
            out.append(msg("audit.invisible", "{cells:,} cell(s) of {column} held characters that print as nothing "
                           "({characters}; spreadsheet rows {rows}): they were removed, so that values which look "
                           "the same are the same.", cells=c["cells"], column=column,
                           characters=listed(_char_name(k) for k in c["characters"]),
                           rows=listed(str(r) for r in c["rows"])))
        if self.kano is not None and len(self.kano):
            k = self.kano
            if k["questionable"].sum():
                worst = k.sort_values("questionable_share", ascending=False).index[:2]
                out.append(msg("audit.kano_questionable", "{n:,} KANO answer pair(s) ({share:.1%}) contradict "
                               "themselves (questionable: liking, or disliking, both having and not having the "
                               "attribute); most for {attributes}. Check those questions' wording and the "
                               "respondents who answer so.", n=int(k["questionable"].sum()),
                               share=float(k["questionable"].sum() / max(k["pairs"].sum(), 1)),
                               attributes=terms(worst)))
            rev = k.index[k["reverse_share"] > REVERSE_SHARE].tolist()
            if rev:
                out.append(msg("audit.kano_reverse", "Reverse answers (rather not have it) are frequent for "
                               "{attributes}: either customers do not want it, or the functional and dysfunctional "
                               "questions were swapped in the questionnaire or the instrument.",
                               attributes=terms(rev)))
            if k["incomplete"].sum():
                out.append(msg("audit.kano_incomplete", "{n:,} KANO pair(s) have one question answered and the "
                               "other blank: they cannot be classified.", n=int(k["incomplete"].sum())))
        if self.visits is not None and len(self.visits):
            n = self.visits.groupby("kind")["visit_id"].nunique()
            parts = []
            if n.get("duplicate_visit"):
                parts.append(msg("audit.visit_duplicates", "{n} entered twice (one store, shopper, date and time under "
                                 "two ids)", n=int(n["duplicate_visit"])))
            if n.get("unlikely_time"):
                parts.append(msg("audit.visit_times", "{n} at unlikely times (before 07:00 or after 23:00, no or an "
                                 "over-long duration, or a date after the data's end)", n=int(n["unlikely_time"])))
            if n.get("repeat_shopper"):
                parts.append(msg("audit.visit_repeats", "{n} by a shopper visiting the same store again within a "
                                 "quarter (staff may recognise them)", n=int(n["repeat_shopper"])))
            out.append(msg("audit.visits", "Audit visits to check: {parts}. They are listed in the workbook.",
                           parts=listed(parts)))
        if self.orders is not None and len(self.orders):
            n = self.orders.groupby("kind")["order_id"].nunique()
            parts = [ORDER_CHECKS[k](int(n[k])) for k in ("negative_amount", "refunded", "duplicate_order",
                                                          "future_date") if n.get(k)]
            out.append(msg("audit.orders", "Orders to check: {parts}. They are listed in the workbook.",
                           parts=listed(parts)))
        if len(self.problems):
            out.append(msg("audit.problems", "{k} kind(s) of invalid values were found and set to missing: see the "
                           "problems table.", k=len(self.problems)))
        else:
            out.append(msg("audit.no_problems", "No value was outside its scale or unreadable."))
        return out

    def metrics(self) -> AuditMetrics:
        """Key figures for ``metrics.json``."""
        s = self.summary()["value"]
        sel = self.flags.loc[self._in_quarter()]
        n = max(len(sel), 1)
        comp = self.completeness
        return AuditMetrics(
            respondents_file=int(self.n_file),
            respondents_quarter=int(self.n_quarter),
            item_columns=int(len(comp)),
            answered_share=float(s["answered share (all items, whole file)"]),
            lowest_answered_share=float(s["lowest item answered share"]),
            straightliners=int(sel["straightliner"].sum()),
            straightliner_share=float(sel["straightliner"].sum() / n),
            too_fast=int(sel["too_fast"].sum()),
            too_fast_share=float(sel["too_fast"].sum() / n),
            too_fast_limit_sec=self.too_fast_limit,
            problems=int(len(self.problems)),
            respondents_per_quarter={str(k): int(v) for k, v in self.careless["respondents"].items()},
            missing_codes={str(k): int(v) for k, v in self.missing_codes.sum(numeric_only=True).items()},
            kano_questionable_share=(float(self.kano["questionable"].sum() / max(self.kano["pairs"].sum(), 1))
                                     if self.kano is not None and len(self.kano) else None),
            visit_checks=(None if self.visits is None else
                          {str(k): int(v) for k, v in self.visits.groupby("kind")["visit_id"].nunique().items()}),
            order_checks=(None if self.orders is None else
                          {str(k): int(v) for k, v in self.orders.groupby("kind")["order_id"].nunique().items()}),
        )

    def headline(self) -> list[dict]:
        m = self.metrics()
        return [headline("Respondents this quarter", m.respondents_quarter),
                headline("Usable item answers", m.answered_share, "{:.1%}"),
                headline("Straight-liners", m.straightliner_share, "{:.1%}"),
                headline("Too fast", m.too_fast_share, "{:.1%}")]

    def sections(self) -> dict[str, list[Block]]:
        comp = self.completeness
        completeness = [figure(lambda: plots.completeness_bars(comp), "completeness"),
                        table(comp.sort_values("share_answered").head(10),
                              lambda s: s.format({"share_answered": "{:.1%}"}))] if len(comp) else \
            [text(no_items_reason())]  # a study of the KPIs alone: the outcomes' answers are below
        if len(self.missing_codes):
            completeness.append(table(self.missing_codes))
        responses = []
        for name, t in self.responses.items():
            responses += [text(msg("audit.by_segment", "**By {segment}**", segment=term(name))), table(t)]
            if t.shape[1] > 1:
                responses.append(figure(lambda t=t, name=name: plots.count_heatmap(t, title=f"Respondents by {name}"),
                                        f"respondents by {name}"))
        flagged = [table(self.careless, lambda s: s.format({"straightliner_share": "{:.1%}",
                                                             "too_fast_share": "{:.1%}"}))]
        if self.durations is not None:
            flagged.append(figure(lambda: plots.duration_histogram(self.durations, self.too_fast_limit),
                                   "durations"))
        outcomes = [table(self.outcomes)]  # the KANO pairs' table: the workbook (the findings say what matters)
        outcomes.append(table(self.problems) if len(self.problems) else
                        text(msg("audit.no_invalid_values", "No invalid values: every answer is on its scale or a "
                                 "declared missing code.")))
        return {"findings": [text(bullets(self.findings()))],
                "loaded": [table(self.summary()), table(self.item_table)],
                "completeness": completeness, "responses": responses, "careless": flagged, "outcomes": outcomes,
                "key figures": [table(pd.Series({k: _readable(v) for k, v in metrics_dict(self.metrics()).items()},
                                                dtype=object).to_frame("value"))]}

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the audit by name, e.g. for :func:`sqmlib.report.write_tables`."""
        out = {"summary": self.summary(), "completeness": self.completeness.set_index("column"),
               "careless": self.careless, "outcomes": self.outcomes.set_index("outcome")}
        out.update({f"responses by {k}": v for k, v in self.responses.items()})
        if len(self.missing_codes):
            out["missing codes"] = self.missing_codes
        if len(self.problems):
            out["problems"] = self.problems
        if self.kano is not None and len(self.kano):
            out["kano pairs"] = self.kano
        if self.visits is not None and len(self.visits):
            out["visit checks"] = self.visits
        if self.orders is not None and len(self.orders):
            out["order checks"] = self.orders
        return out

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(f)}</li>" for f in self.findings())
        return f"<h4>Data audit</h4><ul>{items}</ul>" + self.summary().to_html()


def run_audit(survey, instrument: "str | Instrument | None" = None, quarter: str = "",
              min_seconds: float | None = None, straightline_block: str | None = None) -> AuditResult:
    """Audit a survey: completeness, responses by quarter and segment, careless responding — the pipeline of
    notebook ``00_data_audit``.

    Parameters
    ----------
    survey : DataFolder or DataFrame
        A data folder from :func:`sqmlib.io.load_folder` (its survey, instrument and what the loader recorded),
        or a survey as :func:`sqmlib.io.load_survey` returns it (the whole file, so declared codes can be
        counted).
    instrument : str or Instrument, optional
        Needed with a DataFrame; a DataFolder brings its own.
    quarter : str
        Quarter to report on ("" = the latest; surveys without quarters are audited whole).
    min_seconds : float, optional
        Too-fast limit (default: a third of the median duration).
    straightline_block : str, optional
        Block checked for straight-lining (default ``P`` when present, else the first block).

    Returns
    -------
    AuditResult

    Examples
    --------
    >>> from sqmlib import audit, io
    >>> a = audit.run_audit(io.load_folder(), quarter="2026Q3")
    >>> a.findings()
    """
    source = visits = orders = None
    if hasattr(survey, "instrument") and hasattr(survey, "sources"):  # a DataFolder
        folder = survey
        visits, orders = folder.visits, folder.transactions
        folder.require("survey", purpose="the data audit")
        inst = load_instrument(instrument) if instrument is not None else folder.instrument
        source = dict(folder.sources.get("survey", {}))
        survey = folder.survey
    elif instrument is None:
        raise SQMArgumentError("run_audit needs the instrument with a survey DataFrame")
    else:
        inst = load_instrument(instrument)
    if source is None:
        source = dict(survey.attrs.get("sqm", {}))
    q, sub = select_quarter(survey, quarter)
    block = straightline_block or ("P" if "P" in inst.blocks else next(iter(inst.blocks), None))
    flags = pd.DataFrame({  # a study of the KPIs alone has no grid of items to straight-line
        "straightliner": flag_straightliners(survey, inst, block) if block is not None else
        pd.Series(False, index=survey.index),
        "too_fast": flag_too_fast(survey, min_seconds),
        "in_quarter": survey.index.isin(sub.index),
    })
    group = survey["quarter"] if q else pd.Series("all", index=survey.index, name="quarter")
    per_quarter = pd.DataFrame({
        "respondents": group.value_counts().sort_index(),
        "straightliners": flags["straightliner"].groupby(group).sum(),
        "too_fast": flags["too_fast"].groupby(group).sum(),
    }).fillna(0).astype(int)
    per_quarter["straightliner_share"] = per_quarter["straightliners"] / per_quarter["respondents"]
    per_quarter["too_fast_share"] = per_quarter["too_fast"] / per_quarter["respondents"]
    responses = {}
    if q:
        responses["quarter"] = responses_by(survey, "quarter")
        for seg in inst.segments:
            if seg in survey.columns:
                responses[seg] = responses_by(survey, seg, "quarter")
    else:
        for seg in inst.segments:
            if seg in survey.columns:
                responses[seg] = responses_by(survey, seg)
    comp = completeness(survey, inst, source)
    code_labels = [c for c in list(inst.missing_codes.values()) + ["blank"] if c in comp.columns]
    missing = comp.groupby("block", sort=False)[code_labels].sum() if code_labels else pd.DataFrame()
    return AuditResult(
        source=source, instrument=inst.name, quarter=q, n_file=len(survey),
        n_quarter=len(sub), completeness=comp, responses=responses, careless=per_quarter, flags=flags,
        too_fast_limit=too_fast_threshold(survey, min_seconds), missing_codes=missing,
        problems=problems_table(survey, source), outcomes=outcome_summary(sub, inst),
        item_table=inst.item_table().set_index("item"),
        durations=survey["duration_sec"] if "duration_sec" in survey else None,
        weight_like=tuple(c for c in survey.columns if _weight_like(c) and c != inst.weight),
        kano=kano_pairs(sub, inst),
        visits=None if visits is None else visit_anomalies(visits, quarter_end(q) if q else None),
        orders=None if orders is None else transaction_anomalies(orders, quarter_end(q) if q else None))


# the orders' checks in words (literal messages, so that the catalogue holds them)
ORDER_CHECKS = {
    "negative_amount": lambda n: msg("audit.order_negative", "{n:,} refund lines (negative amounts)", n=n),
    "refunded": lambda n: msg("audit.order_refunded", "{n:,} orders refunded in full (left out of spend and "
                              "frequency)", n=n),
    "duplicate_order": lambda n: msg("audit.order_duplicates", "{n:,} order ids entered twice", n=n),
    "future_date": lambda n: msg("audit.order_future", "{n:,} orders dated after the data's end", n=n),
}
REVERSE_SHARE = 0.25  # a KANO attribute whose reverse answers exceed this share is an audit finding


def kano_pairs(survey: pd.DataFrame, inst) -> pd.DataFrame | None:
    """Per KANO attribute of the instrument found in ``survey``: answer pairs complete (``pairs``), with one half
    blank (``incomplete``), questionable (Q) and reverse (R), with their shares of the complete pairs."""
    found = answer_pairs(survey, inst)
    if found is None:
        return None
    f, d = found
    cats = kano_classify(f, d)
    pairs = cats.notna().sum()
    out = pd.DataFrame({"pairs": pairs, "incomplete": half_answered(f, d),
                        "questionable": (cats == "Q").sum(), "reverse_answers": (cats == "R").sum()}).astype(int)
    out["questionable_share"] = out["questionable"] / out["pairs"].where(out["pairs"] > 0)
    out["reverse_share"] = out["reverse_answers"] / out["pairs"].where(out["pairs"] > 0)
    return out[out["pairs"] + out["incomplete"] > 0].rename_axis("attribute")


CHAR_NAMES = {"U+0000": "NUL", "U+200B": "zero-width space", "U+200C": "zero-width non-joiner",
              "U+200D": "zero-width joiner", "U+FEFF": "byte-order mark", "U+00AD": "soft hyphen"}


def _char_name(code: str) -> str:
    """A removed character as a reader knows it: its name in English, its code point in Chinese."""
    return code if labels.current() == "zh" else f"{code} {CHAR_NAMES[code]}" if code in CHAR_NAMES else code


WEIGHT_NAMES = re.compile(r"^(?:.*[_ ])?(?:weight|weights|wt|wgt|weighting|pweight|权重|加权|權重)(?:[_ ].*)?$", re.I)


def _weight_like(column: str) -> bool:
    """A column name that says sampling weight (``weight``, ``wt``, ``post_strat_weight``, 权重)."""
    return bool(WEIGHT_NAMES.match(str(column).strip()))
