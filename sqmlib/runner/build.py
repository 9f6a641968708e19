"""Building a report: every notebook through papermill, then the index, provenance and PDFs."""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import sys
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import SQMReportError
from ..instruments import BUILTIN_DIR, available
from ..io import dataset_instrument, find_survey, load_folder, survey_quarters
from ..io.feedback import listening_posts
from ..paths import NOTEBOOK_DIR, REPORTS_DIR, SAMPLE_DIR, resolve
from ..periods import QUARTER_RE, WEEK_RE, default_week, week_bounds, week_of
from ..render import labels
from . import pages
from .folders import (
    _check_replaceable,
    _input_hashes,
    _keep_failed,
    _swap_into_place,
    remove_stale_builds,
)
from .index import (
    index_title,
    _git_state,
    _index_html,
    _package_versions,
    _render_html,
    _write_pdfs,
    combine_tables,
    report_notebooks,
)
from ..render.outputs import read_sheets
from .kernel import SharedKernel
from .logs import _one_line, _RunnerLogsToFile
from .notebook import DEFAULT_TIMEOUT, _jsonable


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
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / nb.name
    nbformat.write(book, target)
    return target


def _run_all(nbs, tmp, data_dir, out_root, quarter, instrument, parameters, kernel, progress, timeout, log,
             what="", inputs=None, jobs=1):
    """Run every notebook into ``tmp`` (each from a fresh start): their index entries (in ``nbs`` order) and
    seconds. With ``jobs`` > 1, that many kernels side by side, each taking the next notebook when it is free
    (every notebook starts from a fresh start, so its figures and pages do not depend on the kernel that ran
    it), and a notebook that reads the others' results (one declaring ``reports_dir``: the summary) runs once
    they are all done. Each kernel reads the data folder once."""
    books = {nb: _read_notebook(nb) for nb in nbs}
    first = [nb for nb in nbs if not _reads_reports(books[nb])]
    # the kernels start first and import what the notebooks import while papermill is loaded here
    jobs = max(1, min(int(jobs), len(first)))
    done: dict = {}
    finishing = _Finishing()
    with finishing, contextlib.ExitStack() as stack:
        threads = max(1, _cores() // jobs) if jobs > 1 else None
        kernels = [stack.enter_context(SharedKernel(kernel, threads)) for _ in range(jobs)]
        modules = notebook_imports(books.values())
        for shared in kernels:
            shared.start(modules, cwd=tmp)
        import papermill as pm

        declared = {nb: pm.inspect_notebook(str(nb)) for nb in nbs}
        run = functools.partial(_run_one, tmp=tmp, data_dir=data_dir, out_root=out_root, quarter=quarter,
                                instrument=instrument, parameters=parameters, progress=progress and jobs == 1,
                                timeout=timeout, log=log, what=what, inputs=inputs, total=len(nbs),
                                declared=declared, finish=finishing.submit)
        if jobs == 1:
            for k, nb in enumerate(nbs):
                done[nb] = run(kernels[0], nb, k)
        else:
            queue, lock = list(first), threading.Lock()

            def work(j):
                while not stop.is_set():
                    with lock:
                        if not queue:
                            return
                        nb = queue.pop(0)
                    if stop.is_set():
                        return
                    done[nb] = run(kernels[j], nb, nbs.index(nb))

            stop = threading.Event()
            with ThreadPoolExecutor(jobs, thread_name_prefix="sqm-kernel") as pool:
                pending = {pool.submit(work, j) for j in range(jobs)}
                try:
                    while pending:  # in short waits: a signal (often taken by another thread) stops the build now
                        finished, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
                        for f in finished:
                            f.result()  # the first failure stops the build
                except BaseException:
                    stop.set()
                    for shared in kernels:  # a notebook still running in the other kernel ends with its kernel
                        shared.shutdown()
                    raise
            for nb in nbs:
                if nb not in done:
                    done[nb] = run(kernels[-1], nb, nbs.index(nb))
    return [done[nb][0] for nb in nbs], {nb.name: done[nb][1] for nb in nbs}, finishing.sheets


class _Finishing:
    """What the builder does with a notebook once it has run, in a thread of its own so that the notebook's
    kernel can start the next one meanwhile: its HTML page, and its ``tables.xlsx`` read for the report's
    workbook. Leaving the context waits for all of it; the first failure is raised there."""

    def __init__(self):
        self.sheets: dict[str, list] = {}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="sqm-pages")
        self._jobs: list = []

    def submit(self, stem: str, executed: Path, page: Path, title: str, lang: str) -> None:
        self._jobs.append(self._pool.submit(self._finish, stem, executed, page, title, lang))

    def _finish(self, stem, executed, page, title, lang) -> None:
        _render_html(executed, page, title, lang)
        tables = executed.parent / stem / "tables.xlsx"
        if tables.exists():
            self.sheets[stem] = read_sheets(tables)

    def __enter__(self) -> "_Finishing":
        return self

    def __exit__(self, kind, *exc) -> bool:
        if kind is not None:  # the build failed or was stopped: what is queued is not needed
            for job in self._jobs:
                job.cancel()
        self._pool.shutdown(wait=True)
        if kind is None:
            for job in self._jobs:
                job.result()
        return False


def _read_notebook(nb: Path):
    import nbformat

    return nbformat.read(nb, as_version=4)


def _reads_reports(book) -> bool:
    """Whether a notebook declares ``reports_dir`` (reads the other notebooks' results: runs after them)."""
    return any(cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", [])
               and re.search(r"(?m)^reports_dir\b", cell.source) for cell in book.cells)


def notebook_imports(books) -> list[str]:
    """What the notebooks import in their code cells, as :func:`sqmlib.runner.session.warm_up` takes it
    (``package`` or ``package:name``; ``%matplotlib inline`` is its backend module), in first-seen order."""
    import ast

    found: dict[str, None] = {}
    for book in books:
        for cell in book.cells:
            if cell.cell_type != "code":
                continue
            lines = []
            for line in cell.source.splitlines():
                if line.strip() == "%matplotlib inline":
                    found["matplotlib_inline.backend_inline"] = None
                lines.append("" if line.lstrip().startswith(("%", "!")) else line)
            try:
                tree = ast.parse("\n".join(lines))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    found.update({a.name: None for a in node.names})
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.update({f"{node.module}:{a.name}": None for a in node.names})
    return list(found)


def _run_one(shared, nb, k, *, tmp, data_dir, out_root, quarter, instrument, parameters, progress, timeout, log,
             what, inputs, total, declared, finish):
    """Run the notebook ``nb`` (the ``k``-th of the build) in the kernel ``shared``: its index entry and seconds
    (its page and tables are left to ``finish``: see :class:`_Finishing`)."""
    import papermill as pm

    stem = nb.stem
    nb_out = tmp / stem
    nb_out.mkdir()
    offered = {"data_dir": str(data_dir), "quarter": quarter, "out_dir": str(nb_out),
               "reports_dir": str(out_root), "instrument": instrument,
               "interactive": False,  # a rendered report has no kernel: explorers show their default view
               **(parameters or {})}
    params = {key: v for key, v in offered.items() if key in declared[nb]}
    lang = params.get("lang", "en")
    source = localized_notebook(nb, lang, tmp / ".sources")
    log(f"[{k + 1}/{total}] {nb.name}")
    t0 = time.perf_counter()
    executed = tmp / f"{stem}.ipynb"
    try:
        shared.execute(source, executed, params, nb_out, timeout=timeout, progress=progress, inputs=inputs)
    except pm.PapermillExecutionError as exc:
        kept = _keep_failed(executed)
        raise SQMReportError(
            f"notebook {nb.name} failed in cell {exc.exec_count} (cell index {exc.cell_index}): "
            # a data error lists every kind of problem once (sqmlib.errors.summarise): all of it is shown
            f"{exc.ename}: {_one_line(exc.evalue, 1500 if exc.ename == 'SQMDataError' else 300)}; "
            f"no report was written for {what}"
            + (f" (executed notebook kept at {kept})" if kept else "")) from None
    except OSError as exc:
        raise SQMReportError(f"notebook {nb.name} could not be written: {exc.strerror or exc}; no report "
                             f"was written for {what}") from None
    except Exception as exc:  # kernel died, timeout, …
        raise SQMReportError(f"notebook {nb.name} could not be run: {type(exc).__name__}: "
                             f"{_one_line(str(exc))}; no report was written for {what}") from exc
    seconds = time.perf_counter() - t0
    metrics_path = nb_out / "metrics.json"
    if not metrics_path.exists():
        raise SQMReportError(f"notebook {nb.name} ran but wrote no metrics.json to its out_dir")
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    title = labels.phrase(metrics.get("title", stem), lang)
    finish(stem, executed, tmp / f"{stem}.html", title, lang)
    entry = {"title": title, "html": f"{stem}.html", "notebook": f"{stem}.ipynb",
             "metrics": f"{stem}/metrics.json", "headline": metrics.get("headline", []),
             "seconds": seconds, "position": metrics.get("position", 100 + k), "stem": stem}
    return entry, round(seconds, 2)


def default_jobs() -> int:
    """Kernels a build runs side by side by default: the environment variable ``SQM_JOBS`` when set (a machine
    already busy with other work, such as a test run on every core, is faster with one), else one per core this
    process may use, at most two (the report's notebooks split into two about equal halves; a third kernel would
    mostly wait)."""
    chosen = os.environ.get("SQM_JOBS", "").strip()
    if chosen:
        if not chosen.isdigit() or int(chosen) < 1:
            raise SQMReportError(f"SQM_JOBS must be a whole number of kernels, 1 or more; got {chosen!r}")
        return int(chosen)
    return max(1, min(2, _cores()))


def _cores() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _inputs_key(hashes: Mapping[str, str]) -> str:
    """One checksum for every input file of a build: the key under which its notebooks share the data folder."""
    return hashlib.sha256(json.dumps(sorted(hashes.items())).encode()).hexdigest()


STUDY_PERIOD = "study"  # the report folder of a survey without dates


def _report_quarter(data_dir: Path, inst, quarter, encoding: str) -> str:
    """The quarter a quarterly report covers ("" for a survey without dates: a study report)."""
    survey_path = find_survey(data_dir, inst)
    if survey_path is None:
        raise SQMReportError(f"no survey file (survey.csv, .xlsx, .parquet or .sav) in {data_dir}")
    quarters = survey_quarters(survey_path, inst, encoding=encoding or None)
    if quarter in (None, ""):
        return quarters[-1] if quarters else ""
    if not QUARTER_RE.match(str(quarter)):
        raise SQMReportError(f"quarter must look like 2026Q3, got {quarter!r}")
    if not quarters:
        raise SQMReportError(f"quarter {quarter} asked for, but the survey has no dates: it is a one-off study, "
                             "whose report covers every respondent; leave out --quarter")
    if quarter not in quarters:
        raise SQMReportError(f"no respondents in quarter {quarter} (the survey has {', '.join(quarters)})")
    return quarter


def report_week(data_dir: Path, inst, week: str, encoding: str = "") -> str:
    """The week a weekly report covers: ``week`` when the feedback has items in it, else (empty) the last
    complete week of the feedback."""
    # the survey only when it holds open answers (a large survey is not read for nothing)
    tables = ["feedback", "survey"] if inst.comments else ["feedback"]
    f = listening_posts(load_folder(data_dir, inst, encoding=encoding or None, tables=tables))
    dates = f["created_at"].dropna() if f is not None else None
    if dates is None or dates.empty:
        raise SQMReportError(f"a weekly report reads the feedback, and {data_dir} has none (feedback.csv with "
                             "created_at and text, or the survey's open answers; see data/README.md)")
    if not week:
        return default_week(dates)
    if not WEEK_RE.match(str(week)):
        raise SQMReportError(f"week must look like 2026-W39, got {week!r}")
    start, end = week_bounds(week)
    if not ((dates >= start) & (dates < end)).any():
        raise SQMReportError(f"no feedback in week {week} (the feedback runs from {week_of(dates.min())} to "
                             f"{week_of(dates.max())})")
    return week


def study_name(data_dir: str | Path, instrument) -> str:
    """The folder a data set's reports go to: the instrument's name for a survey with its own instrument file,
    else (a built-in instrument, or a file extending one under its name) the data folder's name (the bundled
    sample: ``sample``), so that different data never share a folder."""
    own = Path(instrument.path).resolve().parent != BUILTIN_DIR.resolve() and instrument.name not in available()
    name = instrument.name if own else Path(data_dir).resolve().name  # a built-in, or a file extending one
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "study"


def build(quarter: str | None = None, data_dir: str | Path | None = None, out_dir: str | Path | None = None, *,
          force: bool = False, notebooks: Iterable[str | Path] | None = None, instrument: str = "",
          encoding: str = "", lang: str = "en", pdf: bool = True,
          timeout: int = DEFAULT_TIMEOUT, progress: bool = True, kernel: str = "python3",
          parameters: Mapping[str, Any] | None = None, log=print, jobs: int | None = None,
          period: str = "quarter", week: str = "") -> Path:
    """Build the quarterly report, or with ``period="week"`` the weekly improvement report.

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
    jobs : int, optional
        Kernels running notebooks side by side (default: :func:`default_jobs`, one per core up to two). The
        report is the same whatever the number.
    period : {"quarter", "week"}
        ``"week"``: the weekly improvement report (the notebooks in ``notebooks/weekly``) of ``week``, into
        ``<out_dir>/<week>``; it needs the feedback, not the survey.
    week : str
        ``"2026-W39"`` (ISO week); default the last complete week of the feedback
        (:func:`sqmlib.voc.default_week`).

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
    if period not in ("quarter", "week"):
        raise SQMReportError(f"period must be quarter or week, got {period!r}")
    if period == "week":
        if quarter:
            raise SQMReportError("a weekly report takes a week (--week 2026-W39), not a quarter")
        week = report_week(data_dir, inst, week, encoding)
    else:
        if week:
            raise SQMReportError(f"week {week} asked for a quarterly report: add --period week")
        quarter = _report_quarter(data_dir, inst, quarter, encoding)
    period = week or quarter or STUDY_PERIOD
    study_root = out_root if out_dir not in (None, "") else \
        out_root / (study_name(data_dir, inst) + ("" if lang == "en" else f"-{lang}"))
    final = study_root / period
    _check_replaceable(final, force)
    nbs = [resolve(p) for p in notebooks] if notebooks is not None else \
        report_notebooks(NOTEBOOK_DIR / "weekly" if week else NOTEBOOK_DIR, pattern="*.ipynb" if week else None)
    if not nbs:
        raise SQMReportError("no report notebooks found")
    what = f"week {week}" if week else f"{quarter}" if quarter else "this study"
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
            entries, timings, sheets = _run_all(nbs, tmp, data_dir, study_root, quarter, instrument,
                                        {**({"encoding": encoding} if encoding else {}), "lang": lang,
                                         **({"week": week} if week else {}), **dict(parameters or {})},
                                        kernel, progress, timeout, log, what, _inputs_key(inputs_before),
                                        default_jobs() if jobs is None else jobs)
        inputs_after = _input_hashes(data_dir)
        changed = sorted(k for k in inputs_before.keys() | inputs_after.keys()
                         if inputs_before.get(k) != inputs_after.get(k))
        if changed:
            raise SQMReportError(f"input files changed while the report was built ({', '.join(changed)}): its "
                                 f"notebooks may have read different data; no report was written for {what}. "
                                 "Build again once the data folder is complete.")
        provenance = {
            "quarter": quarter,
            **({"week": week} if week else {}),
            "study": study_root.name,
            "instrument": {"name": inst.name, "path": str(inst.path), "design": inst.design},
            "parameters": {"data_dir": str(data_dir), "quarter": quarter, "instrument": instrument,
                           "encoding": encoding, "lang": lang, **({"week": week} if week else {}),
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
        workbook = combine_tables(tmp, [e["stem"] for e in entries], sheets)
        heading = week or quarter or inst.title  # what the index and the PDFs are titled by
        title = index_title(heading, lang)
        pdfs, pdf_note = _write_pdfs(tmp, entries, title, lang) if pdf else ({}, {"unavailable": "not asked for"})
        provenance["pdf"] = pdf_note
        (tmp / "provenance.json").write_text(json.dumps(_jsonable(provenance), indent=2, sort_keys=True) + "\n",
                                             encoding="utf-8")
        if not pdfs and pdf:
            log(f"PDF not written: {pdf_note['unavailable']}")
        (tmp / "index.html").write_text(pages.finish_page(_index_html(heading, entries, provenance, workbook,
                                                                      lang=lang, pdfs=pdfs), lang), encoding="utf-8")
        shutil.rmtree(tmp / ".sources", ignore_errors=True)
        _swap_into_place(tmp, final, force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
