"""The quarterly report: run every report notebook with papermill and link the results.

:func:`build` executes each ``notebooks/NN_*.ipynb`` (kernel ``python3``, with an execution timeout) into a
temporary folder beside the target, renders each executed notebook to HTML without code cells, writes
``index.html`` with each notebook's headline figures (read from the ``metrics.json`` it wrote) and
``provenance.json``, and only then renames the folder to ``<out_dir>/<quarter>``. An existing quarter is
never replaced unless ``force=True``; a failing notebook raises :class:`SQMReportError` naming the notebook
and the cell, and leaves nothing behind.

Notebooks call :func:`write_metrics` to record their key figures.
"""
from __future__ import annotations

import html
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .errors import SQMReportError
from .instruments import BUILTIN_DIR
from . import labels, pages, results
from .outputs import copy_workbooks, write_excel
from .results import metrics_dict
from .io import dataset_instrument, find_table, input_files, sha256_file, survey_quarters
from .periods import QUARTER_RE
from .paths import NOTEBOOK_DIR, PROJECT_ROOT, REPORTS_DIR, SAMPLE_DIR, resolve

PROVENANCE_PACKAGES = ("sqm", "numpy", "pandas", "scipy", "statsmodels", "scikit-learn", "matplotlib",
                       "seaborn", "papermill", "nbconvert", "nbformat", "ipykernel", "pyyaml")
DEFAULT_TIMEOUT = 1200  # seconds a single cell may run


# ---------------------------------------------------------------------------------------------------------
# metrics.json
# ---------------------------------------------------------------------------------------------------------
def _jsonable(x: Any) -> Any:
    """Plain JSON types: numpy scalars to Python, NaN/inf to None, floats rounded to 12 significant digits
    so that the file is identical across runs and platforms."""
    try:
        import numpy as np

        if isinstance(x, np.generic):
            x = x.item()
        elif isinstance(x, np.ndarray):
            x = x.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(x, float):
        if not math.isfinite(x):
            return None
        return float(f"{x:.12g}")
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if hasattr(x, "isoformat"):
        return x.isoformat()
    return x


def write_metrics(out_dir: str | Path, *, notebook: str, title: str, quarter: str,
                  headline: Sequence[Mapping[str, Any]] = (), position: float | None = None, **metrics: Any) -> Path:
    """Write a notebook's key figures to ``<out_dir>/metrics.json``.

    Parameters
    ----------
    out_dir : path
        The notebook's output folder (created if needed).
    notebook, title, quarter : str
        Which notebook wrote it, its human title, and the quarter analysed ("" for all).
    headline : sequence of mappings
        The few figures shown on the report's index page, each ``{"label": …, "value": …, "display": …}``
        (``display`` is the formatted text, e.g. ``"97.1 %"``).
    **metrics
        Any further figures (numbers, strings, lists, dicts), written as plain JSON.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    doc = {"notebook": notebook, "title": title, "quarter": quarter, "headline": list(headline),
           "metrics": metrics}
    if position is not None:  # where the report's index lists it (lower first); default: run order
        doc["position"] = position
    path = out / "metrics.json"
    path.write_text(json.dumps(_jsonable(doc), indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path


def write_tables(out_dir: str | Path, tables: Mapping[str, Any], filename: str = "tables.xlsx") -> Path:
    """Write DataFrames to one Excel workbook, one sheet a table (sheet names cut to Excel's 31 characters);
    text stays text and nothing is written as a formula (:func:`sqmlib.outputs.write_excel`).

    Returns the workbook's path.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return write_excel(tables, out / filename)


def headline(label: str, value: Any, fmt: str = "{:,}") -> dict:
    """One headline figure (:func:`sqmlib.results.headline`)."""
    return results.headline(label, value, fmt)


def output_folder(out_dir: str | Path | None, notebook: str) -> Path:
    """A notebook's output folder: ``out_dir``, or ``reports/interactive/<notebook>`` when empty."""
    return resolve(out_dir, REPORTS_DIR / "interactive" / notebook)


def save(result, out_dir: str | Path | None = "", *, position: float | None = None) -> Path:
    """Write a pipeline result where its notebook keeps its output: ``metrics.json`` (its typed metrics and
    headline), ``tables.xlsx`` (its ``tables()``) and any files of its own (the churn risk list).

    Parameters
    ----------
    result : a ``run_*`` result
    out_dir : path
        The notebook's output folder ("" = ``reports/interactive/<notebook>``).
    position : int, optional
        Where the report's index lists it (the summary asks for 0: first).

    Returns
    -------
    Path
        The output folder.
    """
    out = output_folder(out_dir, result.notebook)
    metrics = result.metrics_json() if hasattr(result, "metrics_json") else metrics_dict(result.metrics())
    quarter = getattr(result, "quarter", "") or ""
    write_metrics(out, notebook=result.notebook, title=result.title, quarter=quarter, headline=result.headline(),
                  position=position, **metrics)
    tables = result.tables()
    if tables:
        write_tables(out, tables)
    if hasattr(result, "write_files"):
        result.write_files(out)
    return out


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


def combine_tables(folder: Path, stems: Sequence[str], filename: str = "report_tables.xlsx") -> str | None:
    """Every notebook's ``tables.xlsx`` in one workbook, one sheet a table, sheets prefixed by the notebook
    number (``02 gaps``), copied cell by cell so that text stays text. Returns the file name, or None when no
    notebook wrote tables."""
    done = copy_workbooks({stem[:2]: folder / stem / "tables.xlsx" for stem in stems}, folder / filename)
    return filename if done is not None else None


INDEX_TEXT = {
    "en": {"title": "Service-quality report — {q}", "data": "Data", "commit": "commit", "notebook": "executed notebook",
           "workbook": "every table in one Excel workbook", "pdf_summary": "summary as PDF",
           "pdf_report": "whole report as PDF"},
    "zh": {"title": "服务质量报告 — {q}", "data": "数据", "commit": "版本", "notebook": "已运行的笔记本",
           "workbook": "全部表格（一个 Excel 工作簿）", "pdf_summary": "摘要 PDF", "pdf_report": "完整报告 PDF"},
}


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
        jobs = {folder / PDF_NAMES["summary"]: (folder / summary["html"], f"{title} · {summary['title']}"), **jobs}
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
    T = INDEX_TEXT[lang]
    rows = []
    for e in entries:
        figures = "".join(
            f"<div class='fig'><span class='v'>{esc(labels.phrase(str(h.get('display', h.get('value'))), lang))}</span>"
            f"<span class='l'>{esc(labels.phrase(str(h.get('label', '')), lang))}</span></div>"
            for h in e["headline"])
        rows.append(f"<section><h2><a href='{esc(e['html'])}'>{esc(labels.phrase(e['title'], lang))}</a></h2>"
                    f"<div class='figs'>{figures}</div>"
                    f"<p class='meta'><a href='{esc(e['notebook'])}'>{T['notebook']}</a> · "
                    f"<a href='{esc(e['metrics'])}'>metrics.json</a> · {e['seconds']:.1f} s</p></section>")
    data_dir = esc(provenance["parameters"]["data_dir"])
    commit = provenance["git"].get("commit") or "unknown"
    links = ['<a href="provenance.json">provenance.json</a>']
    if workbook:
        links.append(f'<a href="{esc(workbook)}">{T["workbook"]}</a>')
    for key, name in (pdfs or {}).items():
        links.append(f'<a href="{esc(name)}">{T["pdf_" + key]}</a>')
    title = T["title"].format(q=esc(quarter))
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
<p class="meta">{T['data']}{'：' if lang == 'zh' else ': '}{data_dir} · {T['commit']} {esc(commit[:12])} · {' · '.join(links)}</p>
{''.join(rows)}
</body></html>
"""


KERNEL_LOG = Path(tempfile.gettempdir()) / f"sqm-kernels-{os.getuid() if hasattr(os, 'getuid') else 0}.log"
KERNEL_LOG_MAX = 10 << 20  # bytes before the log is rotated (one old file kept)


def _quiet_kernel_manager():
    """A kernel manager whose kernels write their own messages (the transport warning, a traceback when they are
    stopped) to a log file instead of the console of ``sqm report``."""
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            try:
                if KERNEL_LOG.exists() and KERNEL_LOG.stat().st_size > KERNEL_LOG_MAX:  # keep the last one only
                    KERNEL_LOG.replace(KERNEL_LOG.with_suffix(".old.log"))
                log = open(KERNEL_LOG, "ab")
            except OSError:
                log = None
            if log is not None:
                kw.setdefault("stderr", log)
                kw.setdefault("stdout", log)
            try:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                if log is not None:
                    log.close()

    return QuietKernelManager


class _RunnerLogsToFile:
    """While notebooks run, the notebook runner's own log messages (papermill, nbclient through traitlets: e.g.
    "Kernel died while waiting for execute reply" when a build is interrupted) go to the kernel log file, not to
    the console of ``sqm report``, whose failures are one line."""

    NAMES = ("traitlets", "papermill", "nbclient")

    def __enter__(self):
        import logging

        self.saved = []
        try:
            handler = logging.FileHandler(KERNEL_LOG, encoding="utf-8")
        except OSError:
            handler = logging.NullHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        self.handler = handler
        for name in self.NAMES:
            lg = logging.getLogger(name)
            self.saved.append((lg, lg.propagate))
            lg.addHandler(handler)
            lg.propagate = False
        return self

    def __exit__(self, *exc):
        for lg, propagate in self.saved:
            lg.removeHandler(self.handler)
            lg.propagate = propagate
        self.handler.close()
        return False


def _one_line(text: str) -> str:
    """An error text on one line (the first lines joined), at most 300 characters."""
    flat = " ".join(part.strip() for part in str(text).splitlines() if part.strip())
    return flat if len(flat) <= 300 else flat[:297] + "…"


def _input_hashes(data_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(data_dir)): sha256_file(p) for p in input_files(data_dir)}


def _keep_failed(executed: Path) -> Path | None:
    """Keep a failed notebook's executed copy (with the error) where the user can open it."""
    if not executed.exists():
        return None
    folder = Path(tempfile.gettempdir()) / "sqm-failed-notebooks"
    try:
        folder.mkdir(exist_ok=True)
        target = folder / f"{executed.stem}-{os.getpid()}.ipynb"
        shutil.copyfile(executed, target)
        return target
    except OSError:
        return None


def is_report(folder: Path) -> bool:
    """Whether a folder is a report sqm built (it holds ``provenance.json`` and ``index.html``)."""
    return (folder / "provenance.json").is_file() and (folder / "index.html").is_file()


def _check_replaceable(final: Path, force: bool) -> None:
    if not final.exists() and not final.is_symlink():
        return
    if not force:
        raise SQMReportError(f"a report for {final.name} already exists at {final}; it was left as it is. "
                             "Use --force (force=True) to replace it, or choose another --out folder.")
    if final.is_symlink() or not final.is_dir() or not is_report(final):
        raise SQMReportError(f"{final} is not a report built by sqm (no provenance.json and index.html): it was "
                             "left as it is, even with --force. Move it away or choose another --out folder.")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


STALE_RE = re.compile(r"^\.(\d{4}Q[1-4]|study)\.(building|replaced)-(\d+)$")


def remove_stale_builds(out_root: Path) -> list[Path]:
    """Remove the hidden ``.<quarter>.building-<pid>`` (and ``.replaced-<pid>``) folders left by builds whose
    process is gone (killed with ``kill -9``, a power cut). Returns the folders removed."""
    removed = []
    for p in Path(out_root).iterdir() if Path(out_root).is_dir() else []:
        m = STALE_RE.match(p.name)
        if m and p.is_dir() and int(m.group(3)) != os.getpid() and not _pid_alive(int(m.group(3))):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def _swap_into_place(tmp: Path, final: Path, force: bool) -> None:
    """Move the finished report into place without ever replacing a report by accident: a new quarter's
    folder is claimed with an atomic ``mkdir`` (a second build of the same quarter finds it taken and stops);
    with ``force`` only an sqm report is replaced, moved aside first and deleted once the new one is in place."""
    backup = None
    if force and (final.exists() or final.is_symlink()):
        _check_replaceable(final, force)
        backup = final.parent / f".{final.name}.replaced-{os.getpid()}"
        final.rename(backup)
    try:
        final.mkdir()  # atomic: fails when another build got there first
    except FileExistsError:
        if backup is not None:  # put the old report back where it was
            backup.rename(final) if not final.exists() else None
        raise SQMReportError(f"a report for {final.name} appeared at {final} while this one was built (another "
                             "build of the same quarter?); it was left as it is and this build was discarded. "
                             "Use --force to replace it.") from None
    os.rename(tmp, final)  # replaces the empty folder just made, atomically
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


RESET_CODE = """\
get_ipython().reset(new_session=True)
import os as _os, sys as _sys, matplotlib as _mpl, matplotlib.pyplot as _plt
_plt.close("all")
if not hasattr(_mpl, "_sqm_rc"):
    _mpl._sqm_rc = {k: v for k, v in _mpl.rcParams.items() if k != "backend"}
else:
    _mpl.rcParams.update(_mpl._sqm_rc)
    if "sqmlib.fonts" in _sys.modules:
        _sys.modules["sqmlib.fonts"].add_cjk_fallback.cache_clear()
        _sys.modules["sqmlib.fonts"].add_cjk_fallback()
if "sqmlib.labels" in _sys.modules:
    _sys.modules["sqmlib.labels"].use("en")
_os.chdir(__CWD__)
del _os, _sys, _mpl, _plt
"""


def _reset_kernel(km, cwd: Path, timeout: float = 60) -> None:
    """Give the next notebook a fresh start in a shared kernel: every variable gone, figures closed, matplotlib's
    settings as before the first notebook (a lesson switching to a Chinese font does not leak into the next),
    the notebook's output folder as working directory and execution counts from 1. The imported modules stay
    loaded, which is what saves the time."""
    from jupyter_client import BlockingKernelClient

    kc = BlockingKernelClient()
    kc.load_connection_info(km.get_connection_info())
    kc.start_channels()
    try:
        msg_id = kc.execute(RESET_CODE.replace("__CWD__", repr(str(cwd))), store_history=False)
        while True:  # the reply on the shell channel (iopub may have been joined too late to see anything)
            reply = kc.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        if reply["content"].get("status") != "ok":
            raise SQMReportError(f"the report's kernel could not be reset: {reply['content'].get('evalue', '')}")
    finally:
        kc.stop_channels()


class SharedKernel:
    """Run notebooks with papermill one after the other in one kernel, each from a fresh start
    (:func:`_reset_kernel`): starting a kernel and importing the scientific stack once instead of once per
    notebook. Use as a context manager; the kernel is shut down on leaving it, also on errors and interrupts."""

    def __init__(self, kernel: str = "python3"):
        self.km = _quiet_kernel_manager()(kernel_name=kernel)

    def __enter__(self) -> "SharedKernel":
        return self

    def __exit__(self, *exc) -> bool:
        from jupyter_client.utils import run_sync

        if self.km.has_kernel:
            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # already gone (killed, interrupted): nothing left to stop
                pass
        return False

    def execute(self, notebook: Path, target: Path, parameters: Mapping[str, Any], cwd: Path, *,
                timeout: int = DEFAULT_TIMEOUT, progress: bool = False) -> None:
        """papermill's ``execute_notebook`` of ``notebook`` into ``target`` in the shared kernel."""
        import papermill as pm
        from jupyter_client.utils import run_sync

        if not self.km.has_kernel:
            run_sync(self.km.start_kernel)(cwd=str(cwd))
        _reset_kernel(self.km, cwd)
        try:
            pm.execute_notebook(str(notebook), str(target), parameters=dict(parameters),
                                kernel_name=self.km.kernel_name, progress_bar=progress, execution_timeout=timeout,
                                cwd=str(cwd), log_output=False, km=self.km)
        finally:
            _stable_cell_ids(target)


def _stable_cell_ids(path: Path) -> None:
    """papermill gives the cell it injects a random id: a fixed one instead, so that two runs of the same
    notebook on the same data give the same file (and the same rendered page)."""
    import nbformat

    if not path.exists():
        return
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []) and cell.get("id") != "injected-parameters":
            cell["id"] = "injected-parameters"
            changed = True
    if changed:
        nbformat.write(nb, path)


def localized_notebook(nb: Path, lang: str, folder: Path) -> Path:
    """The notebook to run for a report in ``lang``: for English the notebook itself; for Chinese a copy in
    ``folder`` whose Markdown cells (headings, introductions) carry their Chinese text from the cell's
    ``metadata.sqm.zh``."""
    if lang == "en":
        return nb
    import nbformat

    book = nbformat.read(nb, as_version=4)
    for cell in book.cells:
        text = cell.get("metadata", {}).get("sqm", {}).get(lang)
        if cell.cell_type == "markdown" and text:
            cell.source = text
    folder.mkdir(exist_ok=True)
    target = folder / nb.name
    nbformat.write(book, target)
    return target


def _run_all(nbs, tmp, data_dir, out_root, quarter, instrument, parameters, kernel, progress, timeout, log,
             what=""):
    """Run every notebook into ``tmp``, one after the other in one kernel (each from a fresh start): their index
    entries and seconds."""
    with SharedKernel(kernel) as shared:
        return _run_each(shared, nbs, tmp, data_dir, out_root, quarter, instrument, parameters, progress, timeout,
                         log, what)


def _run_each(shared, nbs, tmp, data_dir, out_root, quarter, instrument, parameters, progress, timeout, log,
              what):
    import papermill as pm

    entries, timings = [], {}
    for nb in nbs:
        stem = nb.stem
        nb_out = tmp / stem
        nb_out.mkdir()
        offered = {"data_dir": str(data_dir), "quarter": quarter, "out_dir": str(nb_out),
                   "reports_dir": str(out_root), "instrument": instrument,
                   "interactive": False,  # a rendered report has no kernel: explorers show their default view
                   **(parameters or {})}
        declared = pm.inspect_notebook(str(nb))
        params = {k: v for k, v in offered.items() if k in declared}
        source = localized_notebook(nb, params.get("lang", "en"), tmp / ".sources")
        log(f"[{len(entries) + 1}/{len(nbs)}] {nb.name}")
        t0 = time.perf_counter()
        executed = tmp / f"{stem}.ipynb"
        try:
            shared.execute(source, executed, params, nb_out, timeout=timeout, progress=progress)
        except pm.PapermillExecutionError as exc:
            kept = _keep_failed(executed)
            raise SQMReportError(
                f"notebook {nb.name} failed in cell {exc.exec_count} (cell index {exc.cell_index}): "
                f"{exc.ename}: {_one_line(exc.evalue)}; no report was written for {what}"
                + (f" (executed notebook kept at {kept})" if kept else "")) from None
        except OSError as exc:
            raise SQMReportError(f"notebook {nb.name} could not be written: {exc.strerror or exc}; no report "
                                 f"was written for {what}") from None
        except Exception as exc:  # kernel died, timeout, …
            raise SQMReportError(f"notebook {nb.name} could not be run: {type(exc).__name__}: "
                                 f"{_one_line(str(exc))}; no report was written for {what}") from exc
        seconds = time.perf_counter() - t0
        timings[nb.name] = round(seconds, 2)
        metrics_path = nb_out / "metrics.json"
        if not metrics_path.exists():
            raise SQMReportError(f"notebook {nb.name} ran but wrote no metrics.json to its out_dir")
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        title = metrics.get("title", stem)
        lang = params.get("lang", "en")
        title = labels.phrase(title, lang)
        _render_html(executed, tmp / f"{stem}.html", title, lang)
        entries.append({"title": title, "html": f"{stem}.html", "notebook": f"{stem}.ipynb",
                        "metrics": f"{stem}/metrics.json", "headline": metrics.get("headline", []),
                        "seconds": seconds, "position": metrics.get("position", 100 + len(entries)),
                        "stem": stem})
    return entries, timings


STUDY_PERIOD = "study"  # the report folder of a survey without dates


def study_name(data_dir: str | Path, instrument) -> str:
    """The folder a data set's reports go to: the instrument's name for a survey with its own instrument file,
    else the data folder's name (the bundled sample: ``sample``), so that different data never share a folder."""
    own = Path(instrument.path).resolve().parent != BUILTIN_DIR.resolve()
    name = instrument.name if own else Path(data_dir).resolve().name
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "study"


def build(quarter: str | None = None, data_dir: str | Path | None = None, out_dir: str | Path | None = None, *,
          force: bool = False, notebooks: Iterable[str | Path] | None = None, instrument: str = "",
          encoding: str = "", lang: str = "en", pdf: bool = True,
          timeout: int = DEFAULT_TIMEOUT, progress: bool = True, kernel: str = "python3",
          parameters: Mapping[str, Any] | None = None, log=print) -> Path:
    """Build the quarterly report.

    Parameters
    ----------
    quarter : str, optional
        ``"YYYYQn"``; default the latest quarter in the data's survey. A survey without dates (a one-off study)
        gets a study report: every respondent, no trends or period comparisons.
    data_dir : path, optional
        Folder with ``survey.*``, ``customers.*``, ``interactions.*``, ``standards.*``, ``management.*``
        (and optionally ``instrument.yaml``); default the bundled ``data/sample``.
    out_dir : path, optional
        The folder for this data's reports: the report goes to ``<out_dir>/<quarter>`` (``<out_dir>/study`` for
        a survey without dates). Default ``reports/<study>`` with ``<study>`` from :func:`study_name`, so that
        reports of different data never share a folder.
    force : bool
        Replace an existing report for the quarter (only once the new one is complete).
    notebooks : paths, optional
        Report notebooks to run; default every ``notebooks/NN_*.ipynb``.
    instrument : str
        Instrument name or file passed to every notebook ("" = the data folder's own or SERVQUAL).
    encoding : str
        Text encoding of the survey CSV ("" = detected, or the instrument's ``encoding``).
    lang : {"en", "zh"}
        Language of the report: narrative, headings, tables, charts, the index page and the PDFs. A Chinese
        report of a study goes to ``reports/<study>-zh`` by default, beside the English one.
    pdf : bool
        Also print ``summary.pdf`` and ``report.pdf`` (headless Chromium; without a browser the report is built
        and the console says how to get one).
    timeout : int
        Seconds a single cell may run before the build fails.
    progress : bool
        Show a progress bar per notebook.
    kernel : str
        Jupyter kernel name.
    parameters : mapping, optional
        Extra parameters, passed to the notebooks that declare them.

    Returns
    -------
    Path
        The report folder (``<out_dir>/<quarter>``); its ``index.html`` links every notebook.

    Raises
    ------
    SQMReportError
        The quarter's report exists and ``force`` is False, or a notebook failed (named, with its cell).
    SQMDataError
        The data cannot be read.
    """

    if lang not in labels.LANGS:
        raise SQMReportError(f"lang must be en or zh, got {lang!r}")
    data_dir = resolve(data_dir, SAMPLE_DIR).resolve()
    out_root = resolve(out_dir, REPORTS_DIR).resolve()
    if not data_dir.is_dir():
        raise SQMReportError(f"data folder not found: {data_dir}")
    if out_root.exists() and not out_root.is_dir():
        raise SQMReportError(f"the reports folder {out_root} is a file, not a folder; choose another --out")
    inst = dataset_instrument(data_dir, instrument or None)
    survey_path = find_table(data_dir, "survey")
    if survey_path is None:
        raise SQMReportError(f"no survey file (survey.csv, .xlsx, .parquet or .sav) in {data_dir}")
    quarters = survey_quarters(survey_path, inst, encoding=encoding or None)
    if quarter in (None, ""):
        quarter = quarters[-1] if quarters else ""
    elif not QUARTER_RE.match(str(quarter)):
        raise SQMReportError(f"quarter must look like 2026Q3, got {quarter!r}")
    elif not quarters:
        raise SQMReportError(f"quarter {quarter} asked for, but the survey has no dates: it is a one-off study, "
                             "whose report covers every respondent; leave out --quarter")
    elif quarter not in quarters:
        raise SQMReportError(f"no respondents in quarter {quarter} (the survey has {', '.join(quarters)})")
    period = quarter or STUDY_PERIOD
    study_root = out_root if out_dir not in (None, "") else \
        out_root / (study_name(data_dir, inst) + ("" if lang == "en" else f"-{lang}"))
    final = study_root / period
    _check_replaceable(final, force)
    nbs = [resolve(p) for p in notebooks] if notebooks is not None else report_notebooks()
    if not nbs:
        raise SQMReportError("no report notebooks found")
    what = f"{quarter}" if quarter else "this study"
    try:
        study_root.mkdir(parents=True, exist_ok=True)
        remove_stale_builds(study_root)
        tmp = study_root / f".{period}.building-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
    except OSError as exc:
        raise SQMReportError(f"cannot write to the reports folder {out_root}: {exc.strerror or exc}") from None
    started = time.perf_counter()
    inputs_before = _input_hashes(data_dir)
    try:
        with _RunnerLogsToFile():
            entries, timings = _run_all(nbs, tmp, data_dir, study_root, quarter, instrument,
                                        {**({"encoding": encoding} if encoding else {}), "lang": lang,
                                         **dict(parameters or {})},
                                        kernel, progress, timeout, log, what)
        inputs_after = _input_hashes(data_dir)
        changed = sorted(k for k in inputs_before.keys() | inputs_after.keys()
                         if inputs_before.get(k) != inputs_after.get(k))
        if changed:
            raise SQMReportError(f"input files changed while the report was built ({', '.join(changed)}): its "
                                 f"notebooks may have read different data; no report was written for {what}. "
                                 "Build again once the data folder is complete.")
        provenance = {
            "quarter": quarter,
            "study": study_root.name,
            "instrument": {"name": inst.name, "path": str(inst.path), "design": inst.design},
            "parameters": {"data_dir": str(data_dir), "quarter": quarter, "instrument": instrument,
                           "encoding": encoding, "lang": lang,
                           "timeout": timeout, "kernel": kernel, **dict(parameters or {})},
            "notebooks": [nb.name for nb in nbs],
            "seconds_per_notebook": timings,
            "seconds_total": round(time.perf_counter() - started, 2),
            "built_at_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "packages": _package_versions(),
            "platform": {"system": platform.system(), "machine": platform.machine(),
                         "python_executable": sys.executable},
            "git": _git_state(),
            "inputs": inputs_before,
        }
        (tmp / "provenance.json").write_text(json.dumps(_jsonable(provenance), indent=2, sort_keys=True) + "\n",
                                             encoding="utf-8")
        entries.sort(key=lambda e: e["position"])  # a notebook may ask to come first (the summary)
        workbook = combine_tables(tmp, [e["stem"] for e in entries])
        title = INDEX_TEXT[lang]["title"].format(q=quarter or inst.title)
        pdfs, pdf_note = _write_pdfs(tmp, entries, title, lang) if pdf else ({}, {"unavailable": "not asked for"})
        provenance["pdf"] = pdf_note
        (tmp / "provenance.json").write_text(json.dumps(_jsonable(provenance), indent=2, sort_keys=True) + "\n",
                                             encoding="utf-8")
        if not pdfs and pdf:
            log(f"PDF not written: {pdf_note['unavailable']}")
        (tmp / "index.html").write_text(pages.finish_page(_index_html(quarter or inst.title, entries, provenance,
                                                                      workbook, lang=lang, pdfs=pdfs), lang),
                                        encoding="utf-8")
        shutil.rmtree(tmp / ".sources", ignore_errors=True)
        _swap_into_place(tmp, final, force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
