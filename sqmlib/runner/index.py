"""The report's pages: notebook order, HTML rendering, the combined workbook, PDFs and the index page."""
from __future__ import annotations

import html
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..paths import NOTEBOOK_DIR, PROJECT_ROOT
from ..periods import WEEK_RE
from ..render import labels
from ..render.messages import msg
from ..render.outputs import read_sheets, write_sheets
from . import pages
from .notebook import PROVENANCE_PACKAGES

# ---------------------------------------------------------------------------------------------------------
# building a report
# ---------------------------------------------------------------------------------------------------------
SUMMARY_NOTEBOOK = "06_quarterly_summary"


def report_notebooks(notebook_dir: str | Path = NOTEBOOK_DIR, pattern: str | None = None) -> list[Path]:
    """The report notebooks in run order: ``NN_*.ipynb`` (or ``pattern``) directly in ``notebook_dir`` (not
    ``training/`` or ``weekly/``), the quarterly summary last, since it reads every other notebook's figures."""
    found = sorted(Path(notebook_dir).glob(pattern or "[0-9][0-9]_*.ipynb"))
    return [p for p in found if p.stem != SUMMARY_NOTEBOOK] + [p for p in found if p.stem == SUMMARY_NOTEBOOK]


def _package_versions() -> dict[str, str | None]:
    out = {"python": platform.python_version()}
    for name in PROVENANCE_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _git_state() -> dict[str, Any]:
    def git(*args):
        r = subprocess.run(["git", "-C", str(PROJECT_ROOT), *args], capture_output=True, text=True, timeout=20)
        return r.stdout.strip() if r.returncode == 0 else None

    try:
        commit = git("rev-parse", "HEAD")
        status = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        commit, status = None, None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def _render_html(executed: Path, target: Path, title: str, lang: str = "en") -> None:
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed, as_version=4)
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    exporter.exclude_anchor_links = True
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    target.write_text(pages.finish_page(body, lang), encoding="utf-8")


def combine_tables(folder: Path, stems: Sequence[str], sheets: Mapping[str, list] | None = None,
                   filename: str = "report_tables.xlsx") -> str | None:
    """Every notebook's ``tables.xlsx`` in one workbook, one sheet a table, sheets prefixed by the notebook
    number (``02 gaps``), copied cell by cell so that text stays text (``sheets``: those already read, by
    notebook). Returns the file name, or None when no notebook wrote tables."""
    sheets = sheets or {}
    parts = {stem[:2]: sheets[stem] if stem in sheets else read_sheets(folder / stem / "tables.xlsx")
             for stem in stems if stem in sheets or (folder / stem / "tables.xlsx").exists()}
    done = write_sheets(parts, folder / filename)
    return filename if done is not None else None


def index_title(quarter: str, lang: str) -> str:
    """The report's title (its index page, its PDFs) in ``lang``; a week's (``2026-W39``) is the weekly
    improvement report's."""
    if WEEK_RE.match(str(quarter)):
        return msg("index.title_week", "Weekly improvement report — {week}", lang=lang, week=quarter)
    return msg("index.title", "Service-quality report — {quarter}", lang=lang, quarter=quarter)


def _pdf_link(key: str, lang: str) -> str:
    return (msg("index.pdf_summary", "summary as PDF", lang=lang) if key == "summary" else
            msg("index.pdf_report", "whole report as PDF", lang=lang))


PDF_NAMES = {"summary": "summary.pdf", "report": "report.pdf"}


def _write_pdfs(folder: Path, entries: list[dict], title: str, lang: str) -> tuple[dict[str, str], dict]:
    """``summary.pdf`` (the summary page) and ``report.pdf`` (every page, the summary first) in ``folder``:
    the PDFs written (key → file name) and a note for provenance.json (the widest table's share of the page
    width per PDF, or why there is none)."""
    summary = next((e for e in entries if e["stem"] == SUMMARY_NOTEBOOK), None)
    whole = folder / ".report-print.html"
    texts = [(folder / e["html"]).read_text(encoding="utf-8") for e in entries]
    if not texts:
        return {}, {"unavailable": "no pages"}
    whole.write_text(pages.combine_pages(texts, title, lang), encoding="utf-8")
    jobs = {folder / PDF_NAMES["report"]: (whole, title)}
    if summary is not None:
        jobs = {folder / PDF_NAMES["summary"]: (folder / summary["html"], f"{title} · {summary['title']}", True),
                **jobs}
    try:
        widest = pages.write_pdfs(jobs)
    except pages.PDFUnavailable as exc:
        return {}, {"unavailable": str(exc)}
    finally:
        whole.unlink(missing_ok=True)
    written = {k: v for k, v in PDF_NAMES.items() if (folder / v).exists()}
    return written, {"widest_table_share_of_page": widest}


# the terms a manager meets on the index, each explained once at the end and linked from its first use
def _glossary(lang: str) -> list[tuple[str, str, str]]:
    """(anchor, term, explanation in ``lang``) of the terms the index's figures use."""
    return [
        ("nps", "NPS", msg("glossary.nps", "Net Promoter Score: the share of promoters (9–10 on the 0–10 "
                           "recommendation question) minus the share of detractors (0–6), in points from −100 to "
                           "+100.", lang=lang)),
        ("csat", "CSAT", msg("glossary.csat", "Customer satisfaction: the share of customers answering in the top "
                             "two boxes of the overall satisfaction question (on a 1–7 scale: 6 or 7).", lang=lang)),
        ("ces", "CES", msg("glossary.ces", "Customer Effort Score: the mean answer to how easy it was to get the "
                           "matter handled, on the survey's scale (higher is easier).", lang=lang)),
        ("gap", "P − E", msg("glossary.gap", "The gap: perception minus expectation on the same item, in scale "
                             "points; below zero the service falls short of what customers expect.", lang=lang)),
        ("alpha", "α", msg("glossary.alpha", "Cronbach's alpha: how consistently the items of one dimension measure "
                           "the same thing (0 to 1; .70 or more is acceptable).", lang=lang)),
        ("cfi", "CFI", msg("glossary.cfi", "Comparative fit index of the factor model: how well the "
                           "questionnaire's dimensions fit the answers (0 to 1; .95 or more fits well).", lang=lang)),
        ("rmsea", "RMSEA", msg("glossary.rmsea", "Root mean square error of approximation: the factor model's "
                               "misfit per degree of freedom (.06 or less fits well).", lang=lang)),
        ("r2", "R²", msg("glossary.r2", "The share of the differences in the outcome (e.g. overall satisfaction) "
                         "that the drivers explain together (0 to 1).", lang=lang)),
        ("auc", "ROC-AUC", msg("glossary.auc", "How well the churn model ranks customers who leave above those who "
                               "stay: 0.5 is guessing, 1 is perfect.", lang=lang)),
        ("empc", "EMPC", msg("glossary.empc", "Expected maximum profit of the churn model per customer: what a "
                             "retention campaign aimed by the model is expected to earn, in the data's currency.",
                             lang=lang)),
    ]


def _link_terms(label: str, glossary: list, linked: set) -> str:
    """An escaped tile label whose glossary terms link to their explanation, each term the first time only."""
    out = html.escape(label)
    for key, term, _ in glossary:
        t = html.escape(term)
        if key not in linked and t in out:
            out = out.replace(t, f"<a class='g' href='#g-{key}'>{t}</a>", 1)
            linked.add(key)
    return out


def _index_html(quarter: str, entries: list[dict], provenance: dict, workbook: str | None = None, *,
                lang: str = "en", pdfs: Mapping[str, str] | None = None) -> str:
    """The index a manager opens first: the PDFs and the workbook, each page's headline figures, a glossary of
    the terms they use, and at the end the technical details (data folder, version, executed notebooks)."""
    esc = html.escape
    executed = msg("index.notebook", "executed notebook", lang=lang)
    glossary, linked = _glossary(lang), set()
    rows, runs = [], []
    for e in entries:
        figures = "".join(
            f"<div class='fig'><span class='v'>{esc(labels.phrase(str(h.get('display', h.get('value'))), lang))}</span>"
            f"<span class='l'>{_link_terms(labels.phrase(str(h.get('label', '')), lang), glossary, linked)}</span></div>"
            for h in e["headline"])
        title = esc(labels.phrase(e['title'], lang))
        rows.append(f"<section><h2><a href='{esc(e['html'])}'>{title}</a></h2><div class='figs'>{figures}</div></section>")
        runs.append(f"<li>{title}: <a href='{esc(e['notebook'])}'>{executed}</a> · "
                    f"<a href='{esc(e['metrics'])}'>metrics.json</a> · {e['seconds']:.1f} s</li>")
    data_dir = esc(provenance["parameters"]["data_dir"])
    commit = provenance["git"].get("commit") or "unknown"
    links = [f'<a href="{esc(name)}">{_pdf_link(key, lang)}</a>' for key, name in (pdfs or {}).items()]
    if workbook:
        every_table = msg("index.workbook", "every table in one Excel workbook", lang=lang)
        links.append(f'<a href="{esc(workbook)}">{every_table}</a>')
    title = index_title(esc(quarter), lang)
    data = msg("index.data", "Data: {folder}", lang=lang, folder=data_dir)
    version = msg("index.commit", "commit {commit}", lang=lang, commit=esc(commit[:12]))
    terms = "".join(f"<dt id='g-{key}'>{esc(term)}</dt><dd>{esc(text)}</dd>" for key, term, text in glossary
                    if key in linked)  # the terms the tiles use (a weekly report's use none)
    glossary_head = msg("index.glossary", "Terms used above", lang=lang)
    technical = msg("index.technical", "Technical details", lang=lang)
    links_line = f'<p class="links">{" · ".join(links)}</p>' if links else ""
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: {pages.FONT_STACK}; max-width: 60rem; margin: 2rem auto; color: #222; }}
section {{ border-top: 1px solid #ddd; padding: .6rem 0; }}
h2 {{ font-size: 1.15rem; margin: .3rem 0; }}
.figs {{ display: flex; flex-wrap: wrap; gap: .8rem; }}
.fig {{ background: #f3f6fa; border-radius: 6px; padding: .4rem .8rem; min-width: 8rem; }}
.fig .v {{ display: block; font-size: 1.3rem; font-weight: 600; }}
.fig .l {{ font-size: .8rem; color: #555; }}
.fig a.g {{ color: inherit; text-decoration: underline dotted; }}
.links {{ font-size: 1rem; }}
dl {{ display: grid; grid-template-columns: 6rem 1fr; gap: .3rem .8rem; font-size: .9rem; }}
dt {{ font-weight: 600; }}
dd {{ margin: 0; }}
.meta, .meta li {{ font-size: .8rem; color: #666; }}
</style></head><body>
<h1>{title}</h1>
{links_line}
{''.join(rows)}
{f'<section id="glossary"><h2>{glossary_head}</h2><dl>{terms}</dl></section>' if terms else ''}
<section class="meta"><h2>{technical}</h2><p>{data} · {version} · <a href="provenance.json">provenance.json</a></p>
<ul>{''.join(runs)}</ul></section>
</body></html>
"""
