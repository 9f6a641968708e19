"""Time to build a report: every notebook in one shared kernel (as ``sqm report`` runs them) against papermill's
default of a new kernel per notebook (the peer, measured in the same run on the same notebooks).

Rows: the bundled sample's quarterly report (eight notebooks, 8,000 respondents, customers and tickets) and a
one-off study of 160 respondents (``sqm synth --shapes``, survey only). Target: the shared kernel at least 25 %
faster on the small study, where starting kernels and importing the scientific stack dominate. Run
``python benchmarks/bench_report.py`` (``--quick`` builds only the small study).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqmlib import exports, report
from sqmlib.paths import SAMPLE_DIR


def shared(data: Path, out: Path) -> float:
    t = time.perf_counter()
    report.build(data_dir=data, out_dir=out, progress=False, log=lambda *a: None)
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
        print("| report | shared kernel (s) | kernel per notebook (s) | faster by |")
        print("|---|---|---|---|")
        for k, (name, data) in enumerate(cases.items()):
            a = shared(data, tmp / f"shared{k}")
            b = kernel_per_notebook(data, tmp / f"peer{k}")
            print(f"| {name} | {a:.1f} | {b:.1f} | {100 * (1 - a / b):.0f} % |")


if __name__ == "__main__":
    main()
