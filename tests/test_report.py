"""The report runner end to end: real papermill runs of the real notebooks on a real kernel."""
import hashlib
import json
import shutil

import nbformat
import pandas as pd
import papermill as pm
import pytest

from sqmlib import SQMDataError, SQMReportError, cli, report
from sqmlib.paths import NOTEBOOK_DIR

from conftest import KIOSK, KIOSK_INSTRUMENT, needs_shared

pytestmark = pytest.mark.slow


def run_notebook(name: str, tmp_path, **parameters) -> dict:
    """Execute a report notebook with papermill into ``tmp_path`` and return the metrics.json it wrote."""
    out = tmp_path / name
    pm.execute_notebook(str(NOTEBOOK_DIR / f"{name}.ipynb"), str(tmp_path / f"{name}.ipynb"),
                        parameters={**parameters, "out_dir": str(out)}, kernel_name="python3",
                        progress_bar=False, cwd=str(tmp_path))
    return json.loads((out / "metrics.json").read_text())


KIOSK_PARAMS = {"survey_file": str(KIOSK), "instrument": str(KIOSK_INSTRUMENT)}


def sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built(small_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    before = {p.name: sha(p) for p in small_dir.iterdir()}
    path = report.build(data_dir=small_dir, out_dir=out, progress=False, log=lambda *a: None)
    assert {p.name: sha(p) for p in small_dir.iterdir()} == before, "inputs must not change"
    return path, out, before


def test_report_folder_and_index(built):
    path, out, _ = built
    assert path == out / "2026Q3"
    index = (path / "index.html").read_text(encoding="utf-8")
    for nb in report.report_notebooks():
        assert f"href='{nb.stem}.html'" in index
        assert (path / f"{nb.stem}.html").exists() and (path / f"{nb.stem}.ipynb").exists()
        assert json.loads((path / nb.stem / "metrics.json").read_text())["headline"]
    assert "Respondents this quarter" in index and "200" in index
    assert [p.name for p in out.iterdir()] == ["2026Q3"], "no temporary folders left behind"


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


def test_existing_report_is_not_replaced(built, small_dir):
    path, out, _ = built
    stamp = (path / "index.html").stat().st_mtime_ns
    with pytest.raises(SQMReportError, match="already exists"):
        report.build(data_dir=small_dir, out_dir=out, progress=False, log=lambda *a: None)
    assert (path / "index.html").stat().st_mtime_ns == stamp


def test_force_replaces_and_metrics_are_identical(built, small_dir, tmp_path):
    path, out, _ = built
    first = (path / "00_data_audit" / "metrics.json").read_bytes()
    other = report.build(data_dir=small_dir, out_dir=tmp_path, progress=False, log=lambda *a: None)
    for nb in report.report_notebooks():  # every notebook's figures are identical across builds
        assert (other / nb.stem / "metrics.json").read_bytes() == (path / nb.stem / "metrics.json").read_bytes()
    again = report.build(data_dir=small_dir, out_dir=tmp_path, force=True, progress=False, log=lambda *a: None,
                         notebooks=report.report_notebooks()[:1])
    assert (again / "00_data_audit" / "metrics.json").read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026Q3"]


def test_other_quarter(small_dir, tmp_path):
    path = report.build("2026Q1", data_dir=small_dir, out_dir=tmp_path, progress=False, log=lambda *a: None,
                        notebooks=report.report_notebooks()[:1])
    m = json.loads((path / "00_data_audit" / "metrics.json").read_text())
    assert path.name == "2026Q1" and m["quarter"] == "2026Q1"
    with pytest.raises(SQMReportError, match="must look like 2026Q3"):
        report.build("2026-3", data_dir=small_dir, out_dir=tmp_path, progress=False)


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
        report.build(data_dir=small_dir, out_dir=out, notebooks=notebooks, progress=False, log=lambda *a: None)
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
    # finding the default quarter reads the survey, so the data error comes first and plainly
    with pytest.raises(SQMDataError, match="'P05'.*row 5"):
        report.build(data_dir=data, out_dir=out, progress=False, log=lambda *a: None)
    # with the quarter given, the audit notebook meets it and the build names the notebook
    with pytest.raises(SQMReportError) as e:
        report.build("2026Q3", data_dir=data, out_dir=out, progress=False, log=lambda *a: None,
                     notebooks=report.report_notebooks()[:1])
    assert "00_data_audit.ipynb" in str(e.value) and "SQMDataError" in str(e.value)
    assert "'P05'" in str(e.value) and "row 5" in str(e.value)
    assert list(out.iterdir()) == []


def test_cli_report(small_dir, tmp_path, capsys):
    assert cli.main(["report", "--data", str(small_dir), "--out", str(tmp_path), "--no-progress"]) == 0
    assert "index.html" in capsys.readouterr().out
    assert cli.main(["report", "--data", str(small_dir), "--out", str(tmp_path), "--no-progress"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_cli_synth(tmp_path, capsys):
    out = tmp_path / "s"
    assert cli.main(["synth", "--out", str(out), "--seed", "3"]) == 0
    assert (out / "survey.csv").exists() and (out / "truth.json").exists()
    assert cli.main(["synth", "--out", str(out)]) == 1
    assert "not empty" in capsys.readouterr().err


def test_explorers_render_their_default_view_in_the_report(built):
    for stem, title in (("02_gap_analysis", "Survey explorer"), ("03_driver_regression", "Driver explorer"),
                        ("04_churn_prediction", "Churn explorer")):
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


@needs_shared(KIOSK)
def test_kiosk_through_data_audit(tmp_path):
    m = run_notebook("00_data_audit", tmp_path, **KIOSK_PARAMS)
    assert m["quarter"] == "" and m["metrics"]["respondents_file"] == 211
    assert m["metrics"]["item_columns"] == 96 and m["metrics"]["problems"] == 0


@needs_shared(KIOSK)
def test_kiosk_through_survey_reliability(tmp_path):
    m = run_notebook("01_survey_reliability", tmp_path, **KIOSK_PARAMS)["metrics"]
    assert set(m["cr"]) == {"reliability", "tangibles", "control", "economy", "convenience", "security"}
    # real E and P answers correlate, so some gap scores lose reliability against their parts
    assert min(m["difference_reliability"].values()) < min(v for k, v in m["alpha"].items() if k.startswith("P:"))
    assert any("Gap scores" in f for f in m["findings"])


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


@needs_shared(KIOSK)
def test_kiosk_through_gap_analysis(tmp_path):
    m = run_notebook("02_gap_analysis", tmp_path, **KIOSK_PARAMS)["metrics"]
    assert m["mode"] == "servqual" and m["respondents"] > 200
    assert set(m["dimension_gap"]) == {"reliability", "tangibles", "control", "economy", "convenience", "security"}
    assert m["gap1_mean"] is None and m["standards_share_meeting"] is None  # no side tables for this survey
    assert len(m["findings"]) == 3


def test_driver_metrics_in_report(built):
    m = json.loads((built[0] / "03_driver_regression" / "metrics.json").read_text())
    assert m["metrics"]["outcome"] == "overall_sat" and m["metrics"]["importance_basis"] == "R2"
    shares = m["metrics"]["lmg_share"]
    assert abs(sum(shares.values()) - 100) < 1e-6 and set(shares) == {"tangibles", "reliability", "responsiveness",
                                                                       "assurance", "empathy"}


def test_churn_drivers_notebook(small_dir, tmp_path):
    m = run_notebook("03_driver_regression", tmp_path, data_dir=str(small_dir), outcome="churned", n_boot=0)
    assert m["quarter"] == "2026Q1"  # the latest quarter followed up for 180 days by 2026-09-30
    assert m["metrics"]["importance_basis"] == "McFadden pseudo-R2"
    assert abs(sum(m["metrics"]["lmg_share"].values()) - 100) < 1e-6


@needs_shared(KIOSK)
def test_kiosk_through_driver_analysis(tmp_path):
    m = run_notebook("03_driver_regression", tmp_path, **KIOSK_PARAMS, n_boot=50)["metrics"]
    assert set(m["lmg_share"]) == {"reliability", "tangibles", "control", "economy", "convenience", "security"}
    assert 0 < m["r2"] < 1


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
    assert set(k["metrics"]["maturity"]) == {"East", "North", "South", "West"}


def test_full_report_on_bundled_data_finds_the_alert(tmp_path):
    """The real thing: every notebook on the bundled sample, as `make report` builds it."""
    path = report.build("2026Q3", out_dir=tmp_path, progress=False, log=lambda *a: None)
    k = json.loads((path / "05_kpi_monitoring" / "metrics.json").read_text())
    assert [(a["unit"], a["first_period"], a["last_period"]) for a in k["metrics"]["alerts"]] == [("South", "2026-07", "2026-09")]
    assert k["metrics"]["maturity"]["South"] == 0
    s = json.loads((path / "06_quarterly_summary" / "metrics.json").read_text())
    assert any("South" in t for t in s["metrics"]["todo"])
    prov = json.loads((path / "provenance.json").read_text())
    assert len(prov["seconds_per_notebook"]) == 7


def test_summary_reads_the_previous_quarter(small_dir, tmp_path):
    for q in ("2026Q2", "2026Q3"):
        report.build(q, data_dir=small_dir, out_dir=tmp_path, progress=False, log=lambda *a: None)
    m = json.loads((tmp_path / "2026Q3" / "06_quarterly_summary" / "metrics.json").read_text())["metrics"]
    assert m["previous_report_found"] and m["since_previous_report"]
    first = json.loads((tmp_path / "2026Q2" / "06_quarterly_summary" / "metrics.json").read_text())["metrics"]
    assert not first["previous_report_found"]


def test_report_from_a_survey_alone(small_dir, tmp_path):
    """Bring your own survey: without customers, tickets, standards or management tables every notebook still
    runs; churn says it was skipped and the KPI notebook keeps the survey KPIs and alerts."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(small_dir / "survey.csv", data / "survey.csv")
    path = report.build(data_dir=data, out_dir=tmp_path / "reports", progress=False, log=lambda *a: None)
    churn_m = json.loads((path / "04_churn_prediction" / "metrics.json").read_text())
    assert churn_m["metrics"]["skipped"] is True
    k = json.loads((path / "05_kpi_monitoring" / "metrics.json").read_text())["metrics"]
    assert "NPS" in k["kpis"] and k["maturity"] == {}
    s = json.loads((path / "06_quarterly_summary" / "metrics.json").read_text())["metrics"]
    assert not any("risk" in t for t in s["todo"])


def _differences(a, b, path="", tol=1e-9):
    """Where two metrics.json trees differ: numbers beyond ``tol``, anything else unequal."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = set(a) | set(b)
        return [d for k in sorted(keys, key=str) for d in (
            [(f"{path}/{k}", "only on one side")] if k not in a or k not in b else _differences(a[k], b[k], f"{path}/{k}", tol))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{path}[{i}]", tol)]
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return [] if (a != a and b != b) or abs(a - b) <= tol else [(path, a, b)]
    return [] if a == b else [(path, a, b)]


def test_duckdb_engine_report_equals_pandas(built, small_dir, tmp_path):
    """engine="duckdb": the notebooks run unchanged and their figures equal the pandas report's."""
    path = report.build(data_dir=small_dir, out_dir=tmp_path, progress=False, log=lambda *a: None,
                        parameters={"engine": "duckdb"})
    prov = json.loads((path / "provenance.json").read_text())
    assert prov["parameters"]["engine"] == "duckdb"
    for nb in ("01_survey_reliability", "02_gap_analysis", "03_driver_regression", "05_kpi_monitoring"):
        a = json.loads((built[0] / nb / "metrics.json").read_text())["metrics"]
        b = json.loads((path / nb / "metrics.json").read_text())["metrics"]
        diff = _differences(a, b)
        # ω is an iterative fit (equal to the optimiser's tolerance); bootstrap intervals need rows
        diff = [d for d in diff if not d[0].startswith(("/omega/", "/lmg_ci"))]
        assert diff == [], (nb, diff[:5])
        assert not _differences(a["omega"], b["omega"], tol=1e-6) if "omega" in a else True
    assert "computed by <strong>duckdb</strong>" in (path / "02_gap_analysis.html").read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java")
def test_spark_engine_gap_notebook(built, small_dir, tmp_path):
    pytest.importorskip("pyspark")
    m = run_notebook("02_gap_analysis", tmp_path, data_dir=str(small_dir), engine="spark")["metrics"]
    a = json.loads((built[0] / "02_gap_analysis" / "metrics.json").read_text())["metrics"]
    assert _differences(a, m) == []
