"""Writing results safely: text from data files never becomes code in the files and pages sqm writes.

- CSV: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with
  ``'`` (OWASP's rule against formula injection), so a spreadsheet shows it as text instead of running it.
- Excel: no cell is ever written as a formula; a text cell holds exactly its text (``000123`` stays
  ``000123``, ``=HYPERLINK(…)`` is shown, not run).
- HTML: :func:`escape_frame` escapes text cells, index and column labels of a table before it is styled
  (pandas' Styler writes cell text as it is); :func:`markdown_html` renders sqmlib's Markdown with raw HTML
  escaped and harmful links removed.
"""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Mapping

import mistune
import pandas as pd

from . import labels

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MARKDOWN = mistune.create_markdown(escape=True)


def neutralize(value):
    """A text value that a spreadsheet could take for a formula, prefixed with ``'``; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _map_text(frame: pd.DataFrame, fn) -> pd.DataFrame:
    out = frame.copy()
    for c in out.columns:
        col = out[c]
        if col.dtype == object or pd.api.types.is_string_dtype(col) or isinstance(col.dtype, pd.CategoricalDtype):
            out[c] = col.astype(object).map(fn)
    out.columns = pd.Index([fn(c) for c in out.columns], name=out.columns.name) \
        if not isinstance(out.columns, pd.MultiIndex) else \
        pd.MultiIndex.from_tuples([tuple(fn(x) for x in t) for t in out.columns], names=out.columns.names)
    if isinstance(out.index, pd.MultiIndex):
        out.index = pd.MultiIndex.from_tuples([tuple(fn(x) for x in t) for t in out.index], names=out.index.names)
    elif out.index.dtype == object or pd.api.types.is_string_dtype(out.index) or isinstance(out.index,
                                                                                            pd.CategoricalIndex):
        out.index = pd.Index([fn(x) for x in out.index], name=out.index.name, dtype=object)
    return out


def neutralize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell (and label) that could start a formula prefixed with ``'``."""
    return _map_text(frame, neutralize)


def write_csv(frame: pd.DataFrame, path: str | Path, **kwargs) -> Path:
    """``frame.to_csv`` with formula-like text neutralised."""
    neutralize_frame(frame).to_csv(path, **kwargs)
    return Path(path)


def _sheet_name(name: str, used: set[str]) -> str:
    """A sheet name Excel accepts (no []:*?/\\, at most 31 characters), made unique among ``used``."""
    sheet = re.sub(r"[\[\]:*?/\\]", "_", str(name))[:31]
    k = 2
    while sheet in used:
        sheet = f"{sheet[:28]}_{k}"
        k += 1
    used.add(sheet)
    return sheet


def _no_formulas(ws) -> None:
    """Store every cell openpyxl took for a formula (text starting with "=") as the text it is."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


SHARE_WORDS = ("share", "rate", "fcr", "_pct", "percent")  # column names whose fractions read as percentages


def number_format(column: str, values) -> str | None:
    """The Excel number format of a column of numbers (the cell keeps its full precision): counts with thousands
    separators, shares as percentages with one decimal, p-values and other decimals with three."""
    name = str(column).lower()
    vals = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not vals:
        return None
    if all(float(v).is_integer() for v in vals if v == v) and not any(w in name for w in SHARE_WORDS):
        return "#,##0"
    if any(w in name for w in SHARE_WORDS) and all(0 <= v <= 1 for v in vals if v == v):
        return "0.0%"
    return "0.000"


def dress_sheet(ws, header_rows: int = 1, names: list | None = None, formats: bool = True) -> None:
    """Make a written table read well in Excel: the header row(s) frozen, an autofilter over the table, each
    column as wide as its longest entry (within 8–60 characters), and number formats by column, chosen from
    ``names`` (the columns' identifiers, when the headers show labels) or the header text."""
    if ws.max_row < 1 or ws.max_column < 1:
        return
    from openpyxl.utils import get_column_letter

    ws.freeze_panes = ws.cell(row=header_rows + 1, column=1)
    ws.auto_filter.ref = ws.dimensions
    for j, col in enumerate(ws.iter_cols(min_row=1, max_row=ws.max_row), start=1):
        header = " ".join(str(c.value) for c in col[:header_rows] if c.value is not None)
        body = col[header_rows:]
        width = max([len(header) * (2 if any(ord(ch) > 0x2e80 for ch in header) else 1)]
                    + [len(str(c.value)) for c in body[:2000] if c.value is not None] + [0])
        ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 60)
        if not formats:
            continue
        name = str(names[j - 1]) if names is not None and j - 1 < len(names) else header
        fmt = number_format(name, [c.value for c in body[:2000]])
        if fmt:
            for c in body:
                if isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
                    c.number_format = fmt


def _identifiers(df: pd.DataFrame, index: bool) -> list:
    """The identifiers of a table's columns in sheet order (index levels first)."""
    cols = [c[-1] if isinstance(c, tuple) else c for c in df.columns]
    return ([n or "" for n in df.index.names] if index else []) + cols


COLUMNS_SHEET = "columns"  # the last sheet of a labelled workbook: sheet, column label, identifier


def write_excel(frames: Mapping[str, pd.DataFrame], path: str | Path, *, index: bool = True,
                labelled: bool = True) -> Path:
    """One workbook, one sheet a table (names cut to Excel's 31 characters and made unique). Headers show
    labels in the current language (:mod:`sqmlib.labels`; ``labelled=False`` keeps identifiers), numbers keep
    full precision with number formats chosen by the column's identifier, text cells stay text: nothing is
    written as a formula. Each sheet is dressed (:func:`dress_sheet`)."""
    path = Path(path)
    used: set[str] = set()
    key: list[dict] = []
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        for name, df in frames.items():
            sheet = _sheet_name(labels.phrase(str(name)) if labelled else name, used)
            shown = labels.frame(df) if labelled else df
            shown.to_excel(xl, sheet_name=sheet, index=index)
            _no_formulas(xl.sheets[sheet])
            dress_sheet(xl.sheets[sheet], header_rows=df.columns.nlevels + (1 if index and df.columns.nlevels > 1 else 0),
                        names=_identifiers(df, index))
            if labelled:
                key.extend({"sheet": sheet, "column": str(lab), "identifier": str(ident)}
                           for lab, ident in zip(_identifiers(shown, index), _identifiers(df, index))
                           if str(lab) != str(ident))
        if key:  # the identifiers behind the labels, for code that reads the workbook
            sheet = _sheet_name(COLUMNS_SHEET, used)
            pd.DataFrame(key).to_excel(xl, sheet_name=sheet, index=False)
            _no_formulas(xl.sheets[sheet])
            dress_sheet(xl.sheets[sheet], formats=False)
    return path


def copy_workbooks(sources: Mapping[str, Path], path: str | Path) -> Path | None:
    """Sheets of several workbooks in one (sheet names prefixed as the mapping says), cell by cell, so that
    every value keeps its type and number format: text stays text (``000123``, ``01``, long ids), numbers stay
    numbers."""
    from openpyxl import Workbook, load_workbook

    out = Workbook()
    out.remove(out.active)
    used: set[str] = set()
    for prefix, src in sources.items():
        if not Path(src).exists():
            continue
        wb = load_workbook(src, read_only=True)
        for ws in wb.worksheets:
            target = out.create_sheet(_sheet_name(f"{prefix} {ws.title}", used))
            for i, row in enumerate(ws.iter_rows(), start=1):
                for j, cell in enumerate(row, start=1):
                    if cell.value is None:
                        continue
                    t = target.cell(row=i, column=j, value=cell.value)
                    if cell.number_format and cell.number_format != "General":
                        t.number_format = cell.number_format
            _no_formulas(target)
            dress_sheet(target, formats=False)
        wb.close()
    if not out.worksheets:
        return None
    out.save(path)
    return Path(path)


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell, index and column label HTML-escaped (for pandas' Styler, which does not
    escape)."""
    return _map_text(frame, lambda v: html.escape(v) if isinstance(v, str) else v)


def markdown_html(text: str) -> str:
    """sqmlib's Markdown as HTML, with any raw HTML in it escaped and harmful links (``javascript:``) dropped."""
    return _MARKDOWN(text)
