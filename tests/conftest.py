import fcntl
import hashlib
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sqmlib.sample.mystery import COMMENTS, checklist_yaml

from sqmlib import cli, report, synth
from sqmlib.runner.kernel import THREAD_VARIABLES

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
KIOSK = SHARED / "kiosk_servqual_kr.csv"
KIOSK_INSTRUMENT = ROOT / "data" / "instruments" / "kiosk_servqual_kr.yaml"

SMALL = synth.SynthConfig(seed=11, n_customers=800, respondents_per_quarter=200, n_managers=4)


@pytest.fixture(scope="session")
def small_data():
    """A small generated dataset (tables in memory and ground truth)."""
    return synth.generate(SMALL)


@pytest.fixture(scope="session")
def small_dir(tmp_path_factory, small_data):
    """The small dataset written to a folder, as a user's data folder would be."""
    out = tmp_path_factory.mktemp("small_data")
    small_data.save(out)
    return out


def needs_shared(path: Path):
    return pytest.mark.skipif(not path.exists(), reason=f"{path} is absent (public datasets live in ../shared)")



# markup a data file may hold: item wording, a region name and a complaint category of the shared report's data
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=2">'
CATEGORY = "<script>window.__pwned=3</script>"


def shared(tmp_path_factory, name: str, make) -> Path:
    """A folder made once per test run and shared by the test workers: the first worker that asks makes it
    (``make(folder)``) under a lock while the others wait for it. Nothing may change it afterwards."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    target = root / name
    with open(root / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / f".{name}.done").exists():
            shutil.rmtree(target, ignore_errors=True)
            make(target)
            (root / f".{name}.done").write_text("")
    return target


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def markup_dir(tmp_path_factory, small_data):
    """The small dataset with markup in an item's wording, a region name (South), a complaint category
    (billing), an audit visit's comment and an action's title and owner, as an untrusted file may hold it: the
    data of the shared report."""
    def make(d: Path):
        small_data.save(d)
        inst = yaml.safe_load((ROOT / "sqmlib" / "instruments" / "servqual.yaml").read_text(encoding="utf-8"))
        inst["items"]["05"]["en"] = f"does what it promised {SCRIPT}"
        inst["checklist"] = yaml.safe_load(checklist_yaml())["checklist"]  # the audit visits' checklist
        (d / "instrument.yaml").write_text(yaml.safe_dump(inst, allow_unicode=True), encoding="utf-8")
        items = pd.read_csv(d / "visit_items.csv", dtype=str, keep_default_na=False)
        items["comment"] = items["comment"].replace(COMMENTS["en"], f"price quoted wrongly {SCRIPT}")
        items.to_csv(d / "visit_items.csv", index=False)
        for name in ("survey.csv", "customers.csv", "interactions.csv", "visits.csv"):
            t = pd.read_csv(d / name, dtype=str, keep_default_na=False)
            t["region"] = t["region"].replace("South", IMG)
            if name == "interactions.csv":
                t["category"] = t["category"].replace("billing", CATEGORY)
            t.to_csv(d / name, index=False)
        actions = pd.read_csv(d / "actions.csv", dtype=str, keep_default_na=False)  # the PDCA register
        actions.loc[0, "title"] = f"call-back team {SCRIPT}"
        actions.loc[1, "owner"] = IMG
        actions.to_csv(d / "actions.csv", index=False)
    return shared(tmp_path_factory, "markup_data", make)


def _previous_quarter(data: Path, folder: Path) -> None:
    """What the summary reads of a 2026Q2 report (the gap, driver, KPI and summary notebooks' metrics.json),
    written by their pipelines in this process as the notebooks write them."""
    from sqmlib import drivers, gaps, io, kpi, summary

    loaded = io.load_folder(data)
    for result in (gaps.run_gaps(loaded, quarter="2026Q2"), drivers.run_drivers(loaded, quarter="2026Q2", n_boot=50),
                   kpi.run_kpis(loaded, quarter="2026Q2")):
        report.save(result, folder / result.notebook)
    result = summary.run_summary(loaded, quarter="2026Q2", current=summary.read_report(folder))
    report.save(result, folder / summary.NOTEBOOK, position=0)


@pytest.fixture(scope="session")
def small_report(tmp_path_factory, markup_dir):
    """The report of :func:`markup_dir` for 2026Q3 (with its PDFs) built by `sqm report`, after the figures of the
    2026Q2 notebooks the summary reads from the previous quarter; built once per test run and read by the report, hardening and
    report-data tests: (the quarter's folder, the reports folder, the input files' checksums before the build)."""
    before = {p.name: sha(p) for p in markup_dir.iterdir()}

    def make(out: Path):
        _previous_quarter(markup_dir, out / "2026Q2")
        # through the command line, its notebooks in one kernel (SQM_JOBS=1 in make test; test_report compares
        # it with a build in two kernels side by side)
        with pytest.MonkeyPatch.context() as env:
            for name in THREAD_VARIABLES:  # one BLAS thread, as each of two kernels gets
                env.setenv(name, "1")
            assert cli.main(["report", "--data", str(markup_dir), "--out", str(out), "--jobs", "1",
                             "--no-progress"]) == 0

    out = shared(tmp_path_factory, "small_report", make)
    assert {p.name: sha(p) for p in markup_dir.iterdir()} == before, "inputs must not change"
    return out / "2026Q3", out, before


def report_on_changed_sample(tmp_path: Path, name: str, change) -> tuple[int, list[str], str]:
    """``sqm report`` as a user runs it, on a copy of the bundled sample whose file ``name`` went through
    ``change`` (a function of the table read as text): (exit code, the non-blank stderr lines, stderr)."""
    import subprocess
    import sys

    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "sample", data)
    table = pd.read_csv(data / name, dtype=str, keep_default_na=False)
    change(table)
    table.to_csv(data / name, index=False)
    r = subprocess.run([sys.executable, "-m", "sqmlib.cli", "report", "--data", str(data), "--out",
                        str(tmp_path / "out"), "--no-progress", "--no-pdf"], capture_output=True, text=True,
                       timeout=600)
    return r.returncode, [ln for ln in r.stderr.splitlines() if ln.strip()], r.stderr


def one_cell_notebook(folder: Path, parameters: str, code: str, name: str = "00_one_cell.ipynb") -> Path:
    """A notebook with a papermill parameters cell (``parameters``) and one cell of ``code``, for the tests of
    what the runner does around notebooks (folders, locks, replacing) rather than what a notebook computes."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / name
    nbformat.write(nb, path)
    return path
