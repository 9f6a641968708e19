"""The report's pages: notebook order, HTML rendering, the combined workbook, PDFs and the index page."""
from __future__ import annotations

import html
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..paths import NOTEBOOK_DIR, PROJECT_ROOT
from ..render import labels
from ..render.messages import msg
from ..render.outputs import read_sheets, write_sheets
from . import pages
from .notebook import PROVENANCE_PACKAGES

# ---------------------------------------------------------------------------------------------------------
# building a report
# ---------------------------------------------------------------------------------------------------------
SUMMARY_NOTEBOOK = "06_quarterly_summary"


def report_notebooks(notebook_dir: str | Path = NOTEBOOK_DIR) -> list[Path]:
    """The report notebooks in run order: ``NN_*.ipynb`` directly in ``notebook_dir`` (not ``training/``), the
    quarterly summary last, since it reads every other notebook's figures."""
    found = sorted(Path(notebook_dir).glob("[0-9][0-9]_*.ipynb"))
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
    """The report's title (its index page, its PDFs) in ``lang``."""
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


def _index_html(quarter: str, entries: list[dict], provenance: dict, workbook: str | None = None, *,
                lang: str = "en", pdfs: Mapping[str, str] | None = None) -> str:
    esc = html.escape
    executed = msg("index.notebook", "executed notebook", lang=lang)
    rows = []
    for e in entries:
        figures = "".join(
            f"<div class='fig'><span class='v'>{esc(labels.phrase(str(h.get('display', h.get('value'))), lang))}</span>"
            f"<span class='l'>{esc(labels.phrase(str(h.get('label', '')), lang))}</span></div>"
            for h in e["headline"])
        rows.append(f"<section><h2><a href='{esc(e['html'])}'>{esc(labels.phrase(e['title'], lang))}</a></h2>"
                    f"<div class='figs'>{figures}</div>"
                    f"<p class='meta'><a href='{esc(e['notebook'])}'>{executed}</a> · "
                    f"<a href='{esc(e['metrics'])}'>metrics.json</a> · {e['seconds']:.1f} s</p></section>")
    data_dir = esc(provenance["parameters"]["data_dir"])
    commit = provenance["git"].get("commit") or "unknown"
    links = ['<a href="provenance.json">provenance.json</a>']
    if workbook:
        every_table = msg("index.workbook", "every table in one Excel workbook", lang=lang)
        links.append(f'<a href="{esc(workbook)}">{every_table}</a>')
    for key, name in (pdfs or {}).items():
        links.append(f'<a href="{esc(name)}">{_pdf_link(key, lang)}</a>')
    title = index_title(esc(quarter), lang)
    data = msg("index.data", "Data: {folder}", lang=lang, folder=data_dir)
    version = msg("index.commit", "commit {commit}", lang=lang, commit=esc(commit[:12]))
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
.meta {{ font-size: .8rem; color: #666; }}
</style></head><body>
<h1>{title}</h1>
<p class="meta">{data} · {version} · {' · '.join(links)}</p>
{''.join(rows)}
</body></html>
"""
