"""Time to build a report without PDFs, three designs on the same notebooks in the same run: two kernels side by
side (``sqm report`` on a machine with two or more cores), every notebook in one shared kernel (the previous
design, ``--jobs 1``), and papermill's default of a new kernel per notebook (the peer).

Rows: the bundled sample's quarterly report (eight notebooks, 8,000 respondents, customers and tickets) and a
one-off study of 160 respondents (``sqm synth --shapes``, survey only). Targets: the shared kernel at least 25 %
faster than a kernel per notebook on the small study, where starting kernels and importing the scientific stack
dominate; the bundled report in 20 s. Run ``python benchmarks/bench_report.py`` (``--quick`` builds only the
small study).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqmlib import exports, report
from sqmlib.paths import SAMPLE_DIR
from sqmlib.runner.build import default_jobs


def shared(data: Path, out: Path, jobs: int | None = None) -> float:
    t = time.perf_counter()
    report.build(data_dir=data, out_dir=out, pdf=False, progress=False, log=lambda *a: None, jobs=jobs)
    return time.perf_counter() - t


def kernel_per_notebook(data: Path, out: Path) -> float:
    """The same notebooks with papermill's default: a kernel started (and the libraries imported) for each."""
    import papermill as pm

    t = time.perf_counter()
    for nb in report.report_notebooks():
        folder = out / nb.stem
        folder.mkdir(parents=True)
        offered = {"data_dir": str(data), "out_dir": str(folder), "reports_dir": str(out), "interactive": False}
        declared = pm.inspect_notebook(str(nb))
        pm.execute_notebook(str(nb), str(out / nb.name), parameters={k: v for k, v in offered.items() if k in declared},
                            kernel_name="python3", progress_bar=False, cwd=str(folder), log_output=False)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="only the small study")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cases = {"one-off study, 160 respondents": exports.write_shape("oneoff_study", tmp / "data" / "study")}
        if not args.quick:
            cases["bundled sample, quarterly report"] = SAMPLE_DIR
        jobs = default_jobs()
        print(f"| report | {jobs} kernel(s) side by side (s) | one shared kernel (s) | kernel per notebook (s) | "
              "shared kernel faster by |")
        print("|---|---|---|---|---|")
        for k, (name, data) in enumerate(cases.items()):
            side = shared(data, tmp / f"side{k}", jobs)
            a = shared(data, tmp / f"shared{k}", 1)
            b = kernel_per_notebook(data, tmp / f"peer{k}")
            print(f"| {name} | {side:.1f} | {a:.1f} | {b:.1f} | {100 * (1 - a / b):.0f} % |")


if __name__ == "__main__":
    main()
