"""Report notebooks on other data and engines: the bundled sample against the committed expectations, the
real kiosk survey, a survey alone, churn as a driver outcome, DuckDB and Spark moments. Real papermill runs on a
real kernel."""
import ast
import inspect
import json
import shutil
from pathlib import Path

import papermill as pm
import pytest

from sqmlib import SQMReportError, audit, churn, drivers, gaps, io, kpi, mystery, pdca, reliability, report, sem, summary, value, voc
from sqmlib.paths import NOTEBOOK_DIR
from sqmlib.runner.notebook import _jsonable
from sqmlib.results import metrics_dict

from pages import CHROMIUM, pdf_pages, reads_well
from test_report import run_notebook

pytestmark = pytest.mark.slow
EXPECTED = Path(__file__).parent / "data" / "expected_metrics"


def _differences(a, b, path="", tol=1e-9):
    """Where two metrics.json trees differ: numbers beyond ``tol`` (relative to the larger of 1 and the
    value), anything else unequal."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = set(a) | set(b)
        return [d for k in sorted(keys, key=str) for d in (
            [(f"{path}/{k}", "only on one side")] if k not in a or k not in b else _differences(a[k], b[k], f"{path}/{k}", tol))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{path}[{i}]", tol)]
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        # full-information ML is fitted to a gradient of 1e-6: its figures are equal to about 1e-8;
        t = max(tol, 1e-6) if "/estimators/ML, full information" in path else tol
        # ω comes from an iterative one-factor ML fit: equal to about 1e-9 across BLAS builds and thread counts
        t = max(t, 1e-7) if "/omega/" in path else t
        # mystery shopping's variance components: REML by L-BFGS on a numerical gradient, equal to about 1e-7
        t = max(t, 1e-6) if path.startswith(("/metrics/variance_shares/", "/metrics/reliability")) else t
        # customer value: maximum likelihood by L-BFGS-B and Nelder–Mead, equal to about 1e-7 (and what follows)
        t = max(t, 1e-5) if "/metrics/bgnbd" in path or "/metrics/gamma_gamma" in path or path.startswith(
            ("/metrics/clv", "/metrics/segment_value_share", "/metrics/holdout", "/metrics/uplift",
             "/metrics/pareto", "/metrics/spend_correlation")) else t
        return [] if (a != a and b != b) or abs(a - b) <= t * max(1.0, abs(a)) else [(path, a, b)]
    return [] if a == b else [(path, a, b)]


# the pipeline each report notebook calls, and the notebook parameters that are the data folder's, the page's or
# the output's rather than the pipeline's
PIPELINES = {"00_data_audit": audit.run_audit, "01_survey_reliability": reliability.run_reliability,
             "02_gap_analysis": gaps.run_gaps, "03_driver_regression": drivers.run_drivers,
             "04_churn_prediction": churn.run_churn, "05_kpi_monitoring": kpi.run_kpis,
             "07_service_profit_chain": sem.run_chain, "08_pdca": pdca.run_pdca, "09_mystery_shopping": mystery.run_mystery,
             "10_customer_value": value.run_value, "11_voice_of_customer": voc.run_voc}
POSITIONS = {"08_pdca": 105.2, "09_mystery_shopping": 105.5, "10_customer_value": 104.5,
             "11_voice_of_customer": 105.1}  # where a notebook asks the index to list it (its report.save call)
NOT_THE_PIPELINES = {"data_dir", "instrument", "encoding", "lang", "out_dir", "reports_dir", "interactive",
                     "survey_file", "strict"}


@pytest.mark.long  # the quick tier keeps the small report's checks; this and the real build run in CI
def test_bundled_figures_equal_the_expected_in_process(tmp_path):
    """Every report notebook's pipeline on the bundled sample, in this process, with the notebook's own default
    parameters (read from the notebook, as papermill reads them), written by report.save as the notebook writes
    them: every figure of every metrics.json equals the committed expectations. (The same through papermill,
    the runner and the pages: the long tier's full build below.)"""
    folder = io.load_folder()
    for stem, run in PIPELINES.items():
        declared = pm.inspect_notebook(str(NOTEBOOK_DIR / f"{stem}.ipynb"))
        wanted = inspect.signature(run).parameters
        kwargs = {k: ast.literal_eval(p["default"]) for k, p in declared.items()
                  if k in wanted and k not in NOT_THE_PIPELINES}
        kwargs["quarter"] = "2026Q3"
        if "min_seconds" in kwargs:
            kwargs["min_seconds"] = kwargs["min_seconds"] or None  # as the audit notebook passes it
        report.save(run(folder, **kwargs), tmp_path / stem, position=POSITIONS.get(stem))
    result = summary.run_summary(folder, quarter="2026Q3", current=summary.read_report(tmp_path),
                                 previous=summary.read_previous(tmp_path / "no-earlier-reports", "2026Q3"))
    report.save(result, tmp_path / summary.NOTEBOOK, position=0)
    for expected in sorted(EXPECTED.glob("*.json")):
        want = json.loads(expected.read_text(encoding="utf-8"))
        got = json.loads((tmp_path / expected.stem / "metrics.json").read_text(encoding="utf-8"))
        assert _differences(want, got) == [], (expected.stem, _differences(want, got)[:5])
    _realism_bands(tmp_path)


@pytest.mark.long
def test_full_report_on_bundled_data_equals_the_expected_figures(tmp_path):
    """The real thing: every notebook on the bundled sample, as `make report` builds it. Every figure of every
    metrics.json (and the headline, title and quarter) equals the committed expectations, recorded on the bundled
    sample (re-recorded when the sample is regenerated), so a change of any figure is a conscious one; the whole
    report prints on at most 76 A4 pages and the summary on one."""
    path = report.build("2026Q3", out_dir=tmp_path, pdf=CHROMIUM is not None, progress=False, log=lambda *a: None)
    if CHROMIUM is not None:
        assert pdf_pages(path / "report.pdf") <= 76 and pdf_pages(path / "summary.pdf") == 1
    for expected in sorted(EXPECTED.glob("*.json")):
        want = json.loads(expected.read_text(encoding="utf-8"))
        got = json.loads((path / expected.stem / "metrics.json").read_text(encoding="utf-8"))
        assert _differences(want, got) == [], (expected.stem, _differences(want, got)[:5])
    k = json.loads((path / "05_kpi_monitoring" / "metrics.json").read_text())
    assert [(a["unit"], a["first_period"], a["last_period"]) for a in k["metrics"]["alerts"]] == [("South", "2026-07", "2026-09")]
    _realism_bands(path)
    assert k["metrics"]["maturity"]["South"] == 0
    s = json.loads((path / "06_quarterly_summary" / "metrics.json").read_text())
    assert any("South" in t for t in s["metrics"]["todo"])
    chain = json.loads((path / "07_service_profit_chain" / "metrics.json").read_text())["metrics"]
    summary_page = (path / "06_quarterly_summary.html").read_text(encoding="utf-8")
    assert "Service-profit chain" in summary_page and f"The lever: <strong>{chain['lever']}</strong>" in summary_page
    # the summary's charts: KPI trend over the quarters, gaps per dimension, units against the alert rule
    for alt in ("Chart: Headline KPIs per quarter", "Chart: Gap (P − E) per dimension", "Chart: NPS per region"):
        assert f'alt="{alt}' in summary_page, alt
    index = (path / "index.html").read_text(encoding="utf-8")
    assert index.index("03_driver_regression.html") < index.index("07_service_profit_chain.html") < index.index(
        "04_churn_prediction.html")
    assert index.index("05_kpi_monitoring.html") < index.index("11_voice_of_customer.html") < index.index(
        "08_pdca.html") < index.index("09_mystery_shopping.html")
    prov = json.loads((path / "provenance.json").read_text())
    assert len(prov["seconds_per_notebook"]) == 12
    # the PDCA loop: the planted verdicts, the surge's channel, owned actions on the summary
    p = json.loads((path / "08_pdca" / "metrics.json").read_text())["metrics"]
    assert p["verdicts"] == {"A1": "effective", "A2": "not_shown", "A3": "worse"}
    assert p["drill_down"][0]["segments"] == [[["region", "South"], ["channel", "phone"]]]
    assert s["metrics"]["actions"][1]["owner"] == "Liu Yang (South operations)"
    assert [c.split("**")[1] for c in s["metrics"]["checked"]] == ["A1", "A2", "A3"]
    assert (path / "08_pdca" / "actions_proposed.xlsx").exists()
    ms = json.loads((path / "09_mystery_shopping" / "metrics.json").read_text())["metrics"]
    assert ms["failing_stores"]["S2"] == 3 and any("S2" in t for t in s["metrics"]["todo"])
    reads_well(path, "en")


def _realism_bands(path):
    """The bundled sample behaves like real data (issue: sample data that tells a true story): the five-factor CFA
    fits acceptably, not perfectly; gap scores are clearly less reliable than their parts; churn is predictable
    from observables with a profitable contact share and a money figure worth acting on; the complaint classifier
    is good but not perfect. (The planted South alert is checked above.)"""
    m = {stem: json.loads((path / stem / "metrics.json").read_text())["metrics"]
         for stem in ("01_survey_reliability", "04_churn_prediction", "05_kpi_monitoring", "07_service_profit_chain")}
    r, c, k = m["01_survey_reliability"], m["04_churn_prediction"], m["05_kpi_monitoring"]
    assert 0.92 <= r["cfa"]["cfi"] <= 0.96 and 0.04 <= r["cfa"]["rmsea"] <= 0.07
    for d, rel in r["difference_reliability"].items():
        assert rel < min(r["alpha"][f"E:{d}"], r["alpha"][f"P:{d}"]) - 0.08, d
    assert 0.75 <= c["cv_auc"] <= 0.85 and 0.05 <= c["best_fraction"] <= 0.25
    assert c["expected_loss_to_contact"] > 10_000
    assert 0.75 <= k["classifier_accuracy"] <= 0.92
    chain = m["07_service_profit_chain"]
    assert chain["churn_link"]["ci_high"] < 1 and max(chain["retained_value"].values()) > 1_000


class _PandasMetrics(dict):
    """The figures of a report notebook computed in this process by its pipeline (pandas), when first asked for."""

    RUN = {"01_survey_reliability": reliability.run_reliability, "02_gap_analysis": gaps.run_gaps,
           "03_driver_regression": drivers.run_drivers, "05_kpi_monitoring": kpi.run_kpis}

    def __init__(self, small_dir):
        super().__init__()
        self.folder = io.load_folder(small_dir)

    def __missing__(self, stem):
        self[stem] = _jsonable(metrics_dict(self.RUN[stem](self.folder).metrics()))
        return self[stem]


@pytest.fixture(scope="module")
def pandas_metrics(small_dir):
    return _PandasMetrics(small_dir)


@pytest.mark.long  # the engines' statistics are compared in process in every run (tests/test_moments.py)
@pytest.mark.parametrize("stems", [("02_gap_analysis",),
                                   ("01_survey_reliability", "03_driver_regression", "05_kpi_monitoring")])
def test_duckdb_engine_report_equals_pandas(pandas_metrics, small_dir, tmp_path, stems):
    """engine="duckdb": the notebooks run unchanged and their figures equal the pandas pipelines' (the long
    tier; tests/test_moments.py compares every engine's statistics in process in every run)."""
    path = report.build(data_dir=small_dir, out_dir=tmp_path, pdf=False, progress=False, log=lambda *a: None,
                        parameters={"engine": "duckdb"},
                        notebooks=[nb for nb in report.report_notebooks() if nb.stem in stems])
    prov = json.loads((path / "provenance.json").read_text())
    assert prov["parameters"]["engine"] == "duckdb"
    for nb in stems:
        a = pandas_metrics[nb]
        b = json.loads((path / nb / "metrics.json").read_text())["metrics"]
        diff = _differences(a, b)
        # ω is an iterative fit (equal to the optimiser's tolerance); bootstrap intervals need rows
        diff = [d for d in diff if not d[0].startswith(("/omega/", "/lmg_ci"))]
        assert diff == [], (nb, diff[:5])
        assert not _differences(a["omega"], b["omega"], tol=1e-6) if "omega" in a else True
    if "02_gap_analysis" in stems:
        assert "computed by <strong>duckdb</strong>" in (path / "02_gap_analysis.html").read_text(encoding="utf-8")


@pytest.mark.long
@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java")
def test_spark_engine_gap_notebook(pandas_metrics, small_dir, tmp_path):
    pytest.importorskip("pyspark")
    m = run_notebook("02_gap_analysis", tmp_path, data_dir=str(small_dir), engine="spark")["metrics"]
    assert _differences(pandas_metrics["02_gap_analysis"], m) == []


def test_summary_reads_typed_metrics_back(small_report):
    """A notebook's metrics.json reads back into its dataclass; a renamed figure is a clear error."""
    m = json.loads((small_report[0] / "02_gap_analysis" / "metrics.json").read_text(encoding="utf-8"))
    parsed = summary.parse_metrics("02_gap_analysis", m)
    assert parsed.mode == "servqual" and set(parsed.dimension_gap) == {"tangibles", "reliability", "responsiveness",
                                                                       "assurance", "empathy"}
    renamed = {**m, "metrics": {("dim_gap" if k == "dimension_gap" else k): v for k, v in m["metrics"].items()}}
    with pytest.raises(SQMReportError, match="does not match GapMetrics"):
        summary.parse_metrics("02_gap_analysis", renamed)


@pytest.mark.long  # the pipelines without those tables run in process in every run (tests/test_pipelines.py)
def test_report_from_a_survey_alone(small_dir, tmp_path):
    """Bring your own survey: without customers, tickets, standards or management tables every notebook still
    runs; churn says it was skipped and the KPI notebook keeps the survey KPIs and alerts."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(small_dir / "survey.csv", data / "survey.csv")
    stems = ("04_churn_prediction", "05_kpi_monitoring", "07_service_profit_chain", "06_quarterly_summary")
    path = report.build(data_dir=data, out_dir=tmp_path / "reports", pdf=False, progress=False, log=lambda *a: None,
                        notebooks=[nb for nb in report.report_notebooks() if nb.stem in stems])
    churn_m = json.loads((path / "04_churn_prediction" / "metrics.json").read_text())
    assert churn_m["metrics"]["skipped"] is True
    k = json.loads((path / "05_kpi_monitoring" / "metrics.json").read_text())["metrics"]
    assert "NPS" in k["kpis"] and k["maturity"] == {}
    s = json.loads((path / "06_quarterly_summary" / "metrics.json").read_text())["metrics"]
    assert not any("risk" in t for t in s["todo"])
    chain = json.loads((path / "07_service_profit_chain" / "metrics.json").read_text())["metrics"]
    assert chain["churn_link"] is None and chain["retained_value"] == {} and chain["lever"]
    assert "skipped" in chain["findings"][-1]
