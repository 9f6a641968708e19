"""What a report notebook writes: metrics.json, tables.xlsx and its own files."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from .. import results
from ..paths import REPORTS_DIR, resolve
from ..render.outputs import write_excel
from ..results import metrics_dict

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
