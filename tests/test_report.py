"""The report runner end to end: real papermill runs of the real notebooks on a real kernel."""
import ast
import json
import re
import shutil

import nbformat
import pandas as pd
import papermill as pm
import pytest

from sqmlib import SQMDataError, SQMReportError, cli, report
from sqmlib.paths import NOTEBOOK_DIR
from sqmlib.runner.kernel import THREAD_VARIABLES

from conftest import IMG
from pages import CHROMIUM, pdf_pages, pdf_text, reads_well


pytestmark = pytest.mark.slow


def run_notebook(name: str, tmp_path, **parameters) -> dict:
    """Execute a report notebook with papermill into ``tmp_path`` and return the metrics.json it wrote."""
    out = tmp_path / name
    pm.execute_notebook(str(NOTEBOOK_DIR / f"{name}.ipynb"), str(tmp_path / f"{name}.ipynb"),
                        parameters={**parameters, "out_dir": str(out)}, kernel_name="python3",
                        progress_bar=False, cwd=str(tmp_path))
    return json.loads((out / "metrics.json").read_text())






@pytest.fixture
def built(small_report):
    """The shared small report (conftest.small_report): markup in its data, a 2026Q2 report before it."""
    return small_report


def test_report_folder_and_index(built):
    path, out, _ = built
    assert path == out / "2026Q3"
    index = (path / "index.html").read_text(encoding="utf-8")
    for nb in report.report_notebooks():
        assert f"href='{nb.stem}.html'" in index
        assert (path / f"{nb.stem}.html").exists() and (path / f"{nb.stem}.ipynb").exists()
        assert json.loads((path / nb.stem / "metrics.json").read_text())["headline"]
    assert "Respondents this quarter" in index and "200" in index
    assert sorted(p.name for p in out.iterdir()) == ["2026Q2", "2026Q3"], "no temporary folders left behind"


def test_html_has_no_code_and_shows_results(built):
    html = (built[0] / "00_data_audit.html").read_text(encoding="utf-8")
    assert "from sqmlib import" not in html and "report.write_metrics" not in html
    assert "Completeness per item" in html and "<img" in html
    assert "Straight-liners" in html or "straight-liners" in html.lower()


def test_metrics_content(built):
    m = json.loads((built[0] / "00_data_audit" / "metrics.json").read_text())
    assert m["quarter"] == "2026Q3" and m["title"] == "Data audit"
    assert m["metrics"]["respondents_quarter"] == 200 and m["metrics"]["respondents_file"] == 800
    assert 0.9 < m["metrics"]["answered_share"] < 1


def test_tables_workbook(built):
    xl = pd.read_excel(built[0] / "00_data_audit" / "tables.xlsx", sheet_name=None, index_col=0)
    assert {"summary", "completeness", "careless", "responses by region"} <= set(xl)
    assert xl["careless"].loc["2026Q3", "respondents"] == 200
    assert len(xl["completeness"]) == 88


def test_provenance(built):
    path, _, before = built
    prov = json.loads((path / "provenance.json").read_text())
    assert prov["inputs"] == before
    assert prov["parameters"]["quarter"] == "2026Q3"
    assert set(prov["seconds_per_notebook"]) == {nb.name for nb in report.report_notebooks()}
    assert prov["packages"]["papermill"] and prov["packages"]["pandas"]
    assert "commit" in prov["git"]


def test_existing_report_is_not_replaced(built, markup_dir):
    path, out, _ = built
    stamp = (path / "index.html").stat().st_mtime_ns
    with pytest.raises(SQMReportError, match="already exists"):
        report.build(data_dir=markup_dir, out_dir=out, pdf=False, progress=False, log=lambda *a: None)
    assert (path / "index.html").stat().st_mtime_ns == stamp


@pytest.mark.long  # a second build (26 s): with the long tier's other whole-build comparisons
def test_build_is_deterministic_and_force_replaces(built, markup_dir, tmp_path, capsys, monkeypatch):
    """A build with its notebooks in two kernels side by side (`jobs=2`, one BLAS thread each, as the kernels side
    by side get on two cores) gives the same figures and pages as the shared report's one kernel, here for the
    notebooks with the most figures and statistics (the gap notebook's explorer, invariance fits and bootstrap; the
    churn model's cross-validation); a second build stops; force replaces."""
    path, _, _ = built
    for name in THREAD_VARIABLES:
        monkeypatch.setenv(name, "1")
    compared = [nb for nb in report.report_notebooks()
                if nb.stem in ("02_gap_analysis", "04_churn_prediction")]
    other = report.build(data_dir=markup_dir, out_dir=tmp_path, pdf=False, progress=False, log=lambda *a: None,
                         notebooks=compared, jobs=2)
    for nb in compared:  # every notebook's figures and pages are identical across builds
        assert (other / nb.stem / "metrics.json").read_bytes() == (path / nb.stem / "metrics.json").read_bytes()
        page = (other / f"{nb.stem}.html").read_text(encoding="utf-8")
        assert page == (path / f"{nb.stem}.html").read_text(encoding="utf-8"), nb.stem
        assert "written to" not in page and "History logging" not in page
    assert cli.main(["report", "--data", str(markup_dir), "--out", str(tmp_path), "--no-progress", "--no-pdf"]) == 1
    assert "already exists" in capsys.readouterr().err
    first = (path / "00_data_audit" / "metrics.json").read_bytes()
    again = report.build(data_dir=markup_dir, out_dir=tmp_path, force=True, pdf=False, progress=False, log=lambda *a: None,
                         notebooks=report.report_notebooks()[:1])
    assert (again / "00_data_audit" / "metrics.json").read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026Q3"]


def test_other_quarter(small_dir, tmp_path):
    path = report.build("2026Q1", data_dir=small_dir, out_dir=tmp_path, pdf=False, progress=False, log=lambda *a: None,
                        notebooks=report.report_notebooks()[:1])
    m = json.loads((path / "00_data_audit" / "metrics.json").read_text())
    assert path.name == "2026Q1" and m["quarter"] == "2026Q1"
    with pytest.raises(SQMReportError, match="must look like 2026Q3"):
        report.build("2026-3", data_dir=small_dir, out_dir=tmp_path, pdf=False, progress=False)


def test_failing_notebook_leaves_nothing(small_dir, tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell('data_dir: str = ""  # data', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("raise ValueError('planted failure')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    bad = tmp_path / "99_broken.ipynb"
    nbformat.write(nb, bad)
    out = tmp_path / "reports"
    notebooks = report.report_notebooks()[:1] + [bad]
    with pytest.raises(SQMReportError) as e:
        report.build(data_dir=small_dir, out_dir=out, notebooks=notebooks, pdf=False, progress=False, log=lambda *a: None)
    msg = str(e.value)
    assert "99_broken.ipynb" in msg and "cell" in msg and "planted failure" in msg
    assert list(out.iterdir()) == []


def test_bad_data_fails_with_the_data_error(small_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(small_dir, data)
    df = pd.read_csv(data / "survey.csv", dtype=str, keep_default_na=False)
    df.loc[3, "P05"] = "12"
    df.to_csv(data / "survey.csv", index=False)
    out = tmp_path / "reports"
    # finding the default quarter reads the quarter column alone; the audit notebook meets the bad value and
    # the build names the notebook, the column and the row
    for quarter in (None, "2026Q3"):
        with pytest.raises(SQMReportError) as e:
            report.build(quarter, data_dir=data, out_dir=out, pdf=False, progress=False, log=lambda *a: None,
                         notebooks=report.report_notebooks()[:1])
        assert "00_data_audit.ipynb" in str(e.value) and "SQMDataError" in str(e.value)
        assert "'P05'" in str(e.value) and "row 5" in str(e.value)
        assert list(out.iterdir()) == []
    # a bad quarter value is found by the quarter read itself, plainly
    df.loc[5, "quarter"] = "2026-Q9"
    df.to_csv(data / "survey.csv", index=False)
    with pytest.raises(SQMDataError, match="'quarter'.*row 7"):
        report.build(data_dir=data, out_dir=out, pdf=False, progress=False, log=lambda *a: None)


def test_cli_synth(tmp_path, capsys):
    out = tmp_path / "s"
    assert cli.main(["synth", "--out", str(out), "--seed", "3"]) == 0
    assert (out / "survey.csv").exists() and (out / "truth.json").exists()
    assert cli.main(["synth", "--out", str(out)]) == 1
    assert "not empty" in capsys.readouterr().err


def test_explorers_render_their_default_view_in_the_report(built):
    for stem, title in (("02_gap_analysis", "Survey explorer"), ("03_driver_regression", "Driver explorer"),
                        ("04_churn_prediction", "Churn explorer"),
                        ("07_service_profit_chain", "Service-profit chain")):
        html = (built[0] / f"{stem}.html").read_text(encoding="utf-8")
        assert f"{title}</strong> — default view" in html, stem
        assert "VBox(" not in html and "widget-view" not in html, f"{stem}: live widgets in a static report"


def test_notebooks_follow_the_conventions():
    for path in report.report_notebooks():
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "import" in code[0].source
        assert "parameters" in code[1].metadata.get("tags", []), f"{path.name}: second cell must be parameters"
        params = pm.inspect_notebook(str(path))
        assert {"data_dir", "quarter", "out_dir"} <= set(params)
        for name, p in params.items():
            assert p["help"], f"{path.name}: parameter {name} needs a comment"
            assert p["inferred_type_name"] != "None", f"{path.name}: parameter {name} needs a type"
        assert all(not c.get("outputs") for c in code), f"{path.name} is committed with outputs"
        # thin notebooks: the logic lives in sqmlib's pipelines
        for k, cell in enumerate(code[2:], 2):
            lines = [ln for ln in cell.source.splitlines() if ln.strip() and not ln.strip().startswith("#")]
            assert len(lines) <= 15, f"{path.name}: code cell {k} has {len(lines)} lines (at most 15)"
            tree = ast.parse("\n".join(ln for ln in cell.source.splitlines() if not ln.startswith("%")))
            defs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                                                 ast.ClassDef))]
            assert not defs, f"{path.name}: code cell {k} defines a function or class"
            attrs = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "attrs"]
            assert not attrs, f"{path.name}: code cell {k} reads .attrs"
        assert any("run_" in c.source for c in code), f"{path.name} calls no run_* pipeline"


def test_kernels_import_what_the_notebooks_import_before_the_first_one():
    """A build starts its kernels first and lets them import the notebooks' modules while it prepares the
    notebooks (the pages stay byte-identical: test_build_is_deterministic_and_force_replaces)."""
    from sqmlib.runner import session
    from sqmlib.runner.build import _reads_reports, notebook_imports

    books = [nbformat.read(p, as_version=4) for p in report.report_notebooks()]
    modules = notebook_imports(books)
    assert modules[0] == "matplotlib_inline.backend_inline" and "sqmlib:gaps" in modules and "sqmlib:summary" in modules
    assert len(modules) == len(set(modules))
    assert [_reads_reports(b) for b in books] == ["reports_dir" in pm.inspect_notebook(str(p))
                                                  for p in report.report_notebooks()]
    session.warm_up(["no_such_module_anywhere", "sqmlib:no_such_name", "sqmlib:gaps"])  # a failing import is the notebook's


def test_summary_reads_the_previous_quarter(built):
    out = built[1]
    m = json.loads((out / "2026Q3" / "06_quarterly_summary" / "metrics.json").read_text())["metrics"]
    assert m["previous_report_found"] and m["since_previous_report"]
    first = json.loads((out / "2026Q2" / "06_quarterly_summary" / "metrics.json").read_text())["metrics"]
    assert not first["previous_report_found"]


def test_reliability_metrics_in_report(built):
    m = json.loads((built[0] / "01_survey_reliability" / "metrics.json").read_text())
    assert m["title"] == "Survey reliability and validity"
    assert m["metrics"]["cfa"]["df"] > 0 and 0 < m["metrics"]["cfa"]["cfi"] <= 1
    assert set(m["metrics"]["cr"]) == {"tangibles", "reliability", "responsiveness", "assurance", "empathy"}


def test_gap_metrics_in_report(built):
    m = json.loads((built[0] / "02_gap_analysis" / "metrics.json").read_text())
    assert m["title"] == "Gap analysis" and m["quarter"] == "2026Q3"
    gaps_ = m["metrics"]["dimension_gap"]
    assert set(gaps_) == {"tangibles", "reliability", "responsiveness", "assurance", "empathy"}
    assert all(v < 0 for v in gaps_.values())
    assert m["metrics"]["gap1_mean"] is not None and 0 < m["metrics"]["standards_share_meeting"] < 1
    html = (built[0] / "02_gap_analysis.html").read_text(encoding="utf-8")
    assert "What to fix first" in html and "Concentrate here" in html


def test_driver_metrics_in_report(built):
    m = json.loads((built[0] / "03_driver_regression" / "metrics.json").read_text())
    assert m["metrics"]["outcome"] == "overall_sat" and m["metrics"]["importance_basis"] == "R2"
    shares = m["metrics"]["lmg_share"]
    assert abs(sum(shares.values()) - 100) < 1e-6 and set(shares) == {"tangibles", "reliability", "responsiveness",
                                                                       "assurance", "empathy"}


def test_churn_metrics_and_risk_list_in_report(built):
    folder = built[0] / "04_churn_prediction"
    m = json.loads((folder / "metrics.json").read_text())
    assert m["metrics"]["snapshot"] == "2026-07-01" and 0.5 < m["metrics"]["cv_auc"] < 0.9
    assert m["metrics"]["perfect_model_profit"] >= m["metrics"]["best_profit"] >= 0
    risk = pd.read_csv(folder / "risk_list.csv")
    assert {"customer_id", "probability", "expected_loss", "top_reasons", "contact"} <= set(risk.columns)
    assert risk["probability"].is_monotonic_decreasing
    assert (folder / "risk_list.xlsx").exists()


def test_summary_first_and_workbook(built):
    path = built[0]
    index = (path / "index.html").read_text(encoding="utf-8")
    assert index.index("06_quarterly_summary.html") < index.index("00_data_audit.html")
    assert "report_tables.xlsx" in index
    sheets = pd.read_excel(path / "report_tables.xlsx", sheet_name=None)
    assert {"00 completeness", "02 gaps", "05 alerts", "06 headlines"} <= set(sheets)
    m = json.loads((path / "06_quarterly_summary" / "metrics.json").read_text())
    assert m["position"] == 0 and m["metrics"]["missing_inputs"] == []
    assert "NPS" in m["metrics"]["headlines"]
    k = json.loads((path / "05_kpi_monitoring" / "metrics.json").read_text())
    assert set(k["metrics"]["maturity"]) == {"East", "North", IMG, "West"}  # South, as markup


def test_pdfs_fit_the_page(built):
    """The summary and the whole report as PDFs, linked from the index; the widest table fits the page."""
    path = built[0]
    prov = json.loads((path / "provenance.json").read_text())
    if CHROMIUM is None:
        assert "unavailable" in prov["pdf"]
        return
    widest = prov["pdf"]["widest_table_share_of_page"]
    assert set(widest) == {"summary.pdf", "report.pdf"} and max(widest.values()) <= 1.0
    index = (path / "index.html").read_text(encoding="utf-8")
    assert 'href="summary.pdf"' in index and 'href="report.pdf"' in index
    for name in ("summary.pdf", "report.pdf"):
        assert (path / name).read_bytes()[:5] == b"%PDF-"
    assert pdf_pages(path / "summary.pdf") == 1  # the one-page summary is one A4 sheet
    text = pdf_text(path / "report.pdf")
    if text is not None:  # tables print whole: no number or word broken inside its cell
        split = r"(?:(?<=\s)|^)\d+\.\s+\d{2}|<\s*\.\s+\d"  # "49. 80", "< . 001"
        assert not re.search(split, text), re.findall(r".{20}(?:" + split + ").{10}", text)[:5]
        for word in ("Reliability", "Responsiveness", "Tangibles", "Assurance", "Empathy", "expectation"):
            broken = [word[:i] + " " + word[i:] for i in range(2, len(word) - 1)]
            assert not any(b in text for b in broken), word
        assert "Explore" not in text  # the live explorers are on screen only


def test_pages_read_well(built):
    """The shared report, on data holding markup, reads as a person reads it (tests/pages.py: reads_well)."""
    reads_well(built[0], "en-small", [IMG])


def test_one_number_everywhere(built):
    """Each headline figure, taken from its notebook's metrics.json and formatted by the one rule
    (sqmlib.render.formats), is what every page showing it shows: the KPI page, the summary, the index tiles,
    the gap and churn pages; the workbook holds the same values at full precision."""
    from pages import headline_figures

    path = built[0]
    metrics, shown, missing = headline_figures(path)
    kpis, gap = metrics["05_kpi_monitoring"]["kpis"], metrics["02_gap_analysis"]
    assert missing == [], missing
    # the summary names every item the gap page puts in the "concentrate here" quadrant, and says how many
    assert f"{len(gap['concentrate_here'])} items" in shown["06_quarterly_summary"]
    assert all(item in shown["06_quarterly_summary"] for item in gap["concentrate_here"])
    # the workbook: the summary's headline sheet and the KPI page's comparison hold the metrics' values
    book = path / "report_tables.xlsx"
    heads = pd.read_excel(book, sheet_name="06 headlines").set_index("KPI")
    comparison = pd.read_excel(book, sheet_name="05 quarter comparison").set_index("KPI")
    assert heads.loc["NPS", "this quarter"] == pytest.approx(kpis["NPS"]["current"], abs=1e-9)
    assert comparison.loc["NPS", "this quarter"] == pytest.approx(kpis["NPS"]["current"], abs=1e-9)
    assert heads.loc["Overall gap (P − E)", "this quarter"] == pytest.approx(gap["overall_gap"], abs=1e-9)
    assert "Unnamed: 0" not in heads.reset_index().columns  # no column of pandas' row numbers
