"""Shared checks for the survey-shape tests (tests/test_zoo_*.py): each shape is written by
:mod:`sqmlib.exports` and a few headline numbers are compared with the same numbers computed here from the
answers with pandas and numpy alone: from the notebooks' pipelines run in this process (:func:`check_pipelines`,
every shape in every run) and from a whole report built by ``sqm report`` (:func:`check_report`, with the
pages' checks; one shape in every run, all in the long tier)."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from html.parser import HTMLParser

import numpy as np
import pandas as pd

from sqmlib import exports

ROOT = Path(__file__).resolve().parents[1]


def build(shape: str, tmp: Path) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """Write a shape's folder and build its report with the command line; (data folder, report, process)."""
    data = exports.write_shape(shape, tmp / "data" / shape)
    out = tmp / "reports" / shape
    proc = subprocess.run([sys.executable, "-m", "sqmlib.cli", "report", "--data", str(data), "--out", str(out),
                           "--no-progress", "--no-pdf"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    folders = [p for p in out.iterdir() if p.is_dir()] if out.exists() else []
    return data, (folders[0] if folders else out), proc


def answers(shape: exports.Shape, data: Path) -> pd.DataFrame:
    """The answers as the analyses should see them, computed independently of sqmlib's loader: the generator's
    answers (or, for the SPSS file, the file read with pyreadstat), declared missing codes as NaN, reverse-keyed
    items reflected, quarters from the dates."""
    df = exports.canonical_answers(shape)
    if shape.fmt == "sav":
        import pyreadstat

        raw, _ = pyreadstat.read_sav(str(data / "survey.sav"), apply_value_formats=False, user_missing=True)
        for c in raw.columns:
            if c[:1] in "EPAD" and c[1:].isdigit():
                df[c] = raw[c].where(~raw[c].isin([98.0, 99.0]))
    lo, hi = shape.scale
    items = [c for c in df.columns if c[:1] in "EPAD" and c[1:].isdigit()]
    if shape.missing_code is not None:
        df[items] = df[items].where(df[items] != shape.missing_code)
    for c in items:
        if c[1:] in shape.reverse:
            df[c] = lo + hi - df[c]
    if "survey_date" in df:
        d = pd.to_datetime(df["survey_date"])
        df["quarter"] = d.dt.year.astype(str) + "Q" + d.dt.quarter.astype(str)
    return df


class _Tables(HTMLParser):
    """The tables of a page as lists of rows of cell texts (standard library only)."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def p_value_cells(page: str) -> list[str]:
    """Every cell under a p-value header (p_value, p_adj, …_p) in the page's tables."""
    parser = _Tables()
    parser.feed(page)
    cells = []
    for rows in parser.tables:
        if not rows:
            continue
        head = rows[0]
        cols = [k for k, h in enumerate(head) if h in ("p", "p_value", "p_adj") or h.startswith("p (") or
                (h.endswith("_p") and not h.startswith(("mean", "gap")))]
        for row in rows[1:]:
            offset = len(row) - len(head)  # index cells before the header's columns
            cells += [row[k + offset] for k in cols if 0 <= k + offset < len(row)]
    return cells


def metrics(report: Path, stem: str) -> dict:
    return json.loads((report / stem / "metrics.json").read_text(encoding="utf-8"))["metrics"]


def alpha(x: pd.DataFrame) -> float:
    """Cronbach's α from the pairwise covariance matrix (as psych::alpha with pairwise deletion)."""
    c = x.cov().to_numpy()
    k = c.shape[0]
    return k / (k - 1) * (1 - np.trace(c) / c.sum())


def dimension_means(df: pd.DataFrame, block: str, dims: dict[str, list[str]], min_share: float = 0.5) -> pd.DataFrame:
    """Each respondent's mean per dimension, where at least half of its items are answered."""
    out = {}
    for d, items in dims.items():
        x = df[[f"{block}{i}" for i in items]]
        need = math.ceil(min_share * len(items))
        out[d] = x.mean(axis=1).where(x.notna().sum(axis=1) >= need)
    return pd.DataFrame(out)


def check_figures(shape: exports.Shape, df: pd.DataFrame, metrics_of, gap_table: pd.DataFrame, quarter) -> None:
    """A shape's headline figures against independent computations from the answers ``df``: α per perception
    dimension, the overall gap (or SERVPERF's none), answers per item in the gap table and CSAT.
    ``metrics_of(stem)`` gives a notebook's metrics."""
    audit = metrics_of("00_data_audit")
    assert audit["straightliners"] == 0 and audit["too_fast"] == 0  # so no analysis leaves anyone out
    cur = df[df["quarter"] == quarter] if quarter else df
    dims = exports._items(shape)
    # α per perception dimension, reverse-keyed items reflected
    rel = metrics_of("01_survey_reliability")
    for d, items in dims.items():
        expected = alpha(cur[[f"P{i}" for i in items]])
        assert abs(rel["alpha"][f"P:{d}"] - expected) < 1e-9, (d, rel["alpha"][f"P:{d}"], expected)
    # the overall gap (mean of dimension means, P − E) or, without expectations, nothing to compare
    gap = metrics_of("02_gap_analysis")
    if "E" in shape.blocks:
        p, e = dimension_means(cur, "P", dims), dimension_means(cur, "E", dims)
        overall = (p.mean(axis=1, skipna=False) - e.mean(axis=1, skipna=False)).dropna()
        assert abs(gap["overall_gap"] - overall.mean()) < 1e-9
        assert gap["mode"] == "servqual"
    else:
        assert gap["mode"] == "servperf" and gap["overall_gap"] is None
    # answers per item in the gap table (pairs of E and P, or P alone)
    items = gap_table[gap_table["level"] == "item"].set_index("name")["n"]
    for i in [i for its in dims.values() for i in its]:
        both = cur[f"P{i}"].notna() & (cur[f"E{i}"].notna() if "E" in shape.blocks else True)
        assert int(items[i]) == int(both.sum()), i
    # CSAT: the top two boxes of the satisfaction question on its own scale
    if shape.overall_sat is not None:
        kpis = metrics_of("05_kpi_monitoring")["kpis"]
        sat = cur["overall_sat"].dropna()
        top = shape.overall_sat[1] - 1
        assert abs(kpis["CSAT (top-2-box)"]["current"] - (sat >= top).mean()) < 1e-12


def check_pipelines(shape_name: str, tmp: Path) -> None:
    """The shape's folder through the notebooks' pipelines in this process (the notebooks' defaults, the latest
    quarter): the same figures as :func:`check_report` checks in the built report."""
    from sqmlib import audit, gaps, io, kpi, reliability
    from sqmlib.results import metrics_dict
    from sqmlib.runner.notebook import _jsonable

    shape = exports.SHAPES[shape_name]
    data = exports.write_shape(shape_name, tmp / "data" / shape_name)
    folder = io.load_folder(data)
    df = answers(shape, data)
    quarter = sorted(df["quarter"].unique())[-1] if "quarter" in df else None
    runs = {"00_data_audit": lambda: audit.run_audit(folder),
            "01_survey_reliability": lambda: reliability.run_reliability(folder),
            "02_gap_analysis": lambda: gaps.run_gaps(folder),
            "05_kpi_monitoring": lambda: kpi.run_kpis(folder)}
    results = {}

    def metrics_of(stem):
        if stem not in results:
            results[stem] = runs[stem]()
        return _jsonable(metrics_dict(results[stem].metrics()))

    metrics_of("02_gap_analysis")
    gap_table = results["02_gap_analysis"].tables()["gaps"]
    assert (results["02_gap_analysis"].quarter or None) == quarter
    check_figures(shape, df, metrics_of, gap_table, quarter)


def check_report(shape_name: str, tmp: Path) -> None:
    """Build the shape's report and compare its headline numbers with independent computations."""
    shape = exports.SHAPES[shape_name]
    data, report, proc = build(shape_name, tmp)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and (report / "index.html").exists()
    df = answers(shape, data)
    quarter = sorted(df["quarter"].unique())[-1] if "quarter" in df else None
    assert report.name == (quarter or "study")
    table = pd.read_excel(report / "02_gap_analysis" / "tables.xlsx", sheet_name="gaps", dtype={"name": str})
    check_figures(shape, df, lambda stem: metrics(report, stem), table, quarter)
    dims = exports._items(shape)
    # every page of the report has the study's own numbers of items and dimensions, no Python traceback
    pages = {p.name: p.read_text(encoding="utf-8") for p in report.glob("*.html")}
    for name, page in pages.items():
        assert "Traceback (most recent call last)" not in page and "History logging" not in page, name
        assert "Warning" not in page.replace("SQMWarning", ""), name
    k = sum(len(v) for v in dims.values())
    assert f"{k} items in {len(dims)} dimension(s)" in pages["02_gap_analysis.html"]
    assert sum(page.count("<img") for page in pages.values()) > 10
    assert {n: images_without_alt(p) for n, p in pages.items() if images_without_alt(p)} == {}  # every chart named
    p_cells = [c for page in pages.values() for c in p_value_cells(page)]
    assert p_cells and not [c for c in p_cells if c in ("0.000", "0.0")], p_cells[:20]  # "< .001", not 0.000
    text = "".join(pages.values())
    assert "22 items" not in text and "five-dimension" not in text and "all quarters" not in text
    if shape.overall_sat is None and not shape.nps:  # nothing to explain: said in one line, the rest runs
        assert "Not available for this data" in pages["03_driver_regression.html"]
        assert "Not available for this data" in pages["07_service_profit_chain.html"]
    return report


def images_without_alt(page: str) -> int:
    """How many ``<img>`` of a page have no (or an empty) alt text."""
    import re

    imgs = re.findall(r"<img\b[^>]*>", page)
    return sum(1 for tag in imgs if not re.search(r'\salt="[^"]+"', tag))
