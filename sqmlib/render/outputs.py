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
import numpy as np
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


# XlsxWriter writes every text as text: no formula, hyperlink or number is made of a string
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


SHARE_WORDS = ("share", "rate", "fcr", "_pct", "percent")  # column names whose fractions read as percentages


def number_format(column: str, values) -> str | None:
    """The Excel number format of a column of numbers (the cell keeps its full precision): counts with thousands
    separators, shares as percentages with one decimal, p-values and other decimals with three."""
    name = str(column).lower()
    vals = [v for v in values if _number(v)]
    if not vals:
        return None
    if all(float(v).is_integer() for v in vals if v == v) and not any(w in name for w in SHARE_WORDS):
        return "#,##0"
    if any(w in name for w in SHARE_WORDS) and all(0 <= v <= 1 for v in vals if v == v):
        return "0.0%"
    return "0.000"


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _blank(value) -> bool:
    """A cell written empty: None, NaN, NA, NaT or ""."""
    if isinstance(value, str):
        return value == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array in a cell
        return False


def column_width(header: str, values) -> float:
    """A column as wide as its longest entry (the header's CJK characters counted twice), within 8–60."""
    width = max([len(header) * (2 if any(ord(ch) > 0x2e80 for ch in header) else 1)]
                + [len(str(v)) for v in values if not _blank(v)] + [0])
    return min(max(width + 2, 8), 60)


def _format(book, cache: dict, number_format: str | None):
    """The workbook's cell format for a number format (one per format string, made once); None for none."""
    if not number_format or number_format == "General":
        return None
    if number_format not in cache:
        cache[number_format] = book.add_format({"num_format": number_format})
    return cache[number_format]


def dress_sheet(ws, book, columns, header_rows: int = 1, n_rows: int = 0, formats: bool = True,
                cache: dict | None = None) -> None:
    """Make a table written with XlsxWriter read well in Excel: the header row(s) frozen, an autofilter over the
    table, each column as wide as its longest entry (:func:`column_width`) and, with ``formats``, a number
    format by column chosen from its name (:func:`number_format`) and kept by every cell written without a
    format of its own. ``columns``: (name, header text, values) per column in sheet order; ``n_rows``: the body
    rows below the header."""
    if not columns:
        return
    cache = {} if cache is None else cache
    ws.freeze_panes(header_rows, 0)
    ws.autofilter(0, 0, max(header_rows + n_rows - 1, 0), len(columns) - 1)
    for j, (name, header, values) in enumerate(columns):
        head = values[:2000]
        ws.set_column(j, j, column_width(header, head),
                      _format(book, cache, number_format(name, head) if formats else None))


def _columns(shown: pd.DataFrame, df: pd.DataFrame, index: bool) -> list[tuple[str, str, list]]:
    """(identifier, header text, values as written) of each sheet column of a table: index levels first."""
    out = []
    if index:
        for level, (name, ident) in enumerate(zip(shown.index.names, df.index.names)):
            values = shown.index.get_level_values(level)
            out.append((str(ident or ""), "" if name is None else str(name), values.tolist()))
    for (label, col), ident in zip(shown.items(), _identifiers(df, False)):
        parts = label if isinstance(label, tuple) else (label,)
        out.append((str(ident), " ".join(str(x) for x in parts if x is not None), col.tolist()))
    return out


def _identifiers(df: pd.DataFrame, index: bool) -> list:
    """The identifiers of a table's columns in sheet order (index levels first)."""
    cols = [c[-1] if isinstance(c, tuple) else c for c in df.columns]
    return ([n or "" for n in df.index.names] if index else []) + cols


def _row_numbers(index: pd.Index) -> bool:
    """An unnamed index that only numbers the rows 0, 1, 2 … (pandas' default)."""
    return (index.nlevels == 1 and index.name is None and pd.api.types.is_integer_dtype(index)
            and bool((index == np.arange(len(index))).all()))


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
    with pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": XLSX_OPTIONS}) as xl:
        cache: dict = {}
        for name, df in frames.items():
            sheet = _sheet_name(labels.phrase(str(name)) if labelled else name, used)
            shown = labels.frame(df) if labelled else df
            keep = index and not _row_numbers(df.index)  # pandas' row numbers are not data: no column for them
            shown.to_excel(xl, sheet_name=sheet, index=keep)
            header_rows = df.columns.nlevels + (1 if keep and df.columns.nlevels > 1 else 0)
            dress_sheet(xl.sheets[sheet], xl.book, _columns(shown, df, keep), header_rows, len(df), cache=cache)
            if labelled:
                key.extend({"sheet": sheet, "column": str(lab), "identifier": str(ident)}
                           for lab, ident in zip(_identifiers(shown, keep), _identifiers(df, keep))
                           if str(lab) != str(ident))
        if key:  # the identifiers behind the labels, for code that reads the workbook
            sheet = _sheet_name(COLUMNS_SHEET, used)
            frame = pd.DataFrame(key)
            frame.to_excel(xl, sheet_name=sheet, index=False)
            dress_sheet(xl.sheets[sheet], xl.book, _columns(frame, frame, False), 1, len(frame), formats=False)
    return path


def read_sheets(src: str | Path) -> list[tuple[str, list[list]]]:
    """A workbook's sheets as (title, rows of (value, number format) cells; None for an empty cell), for
    :func:`write_sheets`."""
    from openpyxl import load_workbook

    wb = load_workbook(src, read_only=True)
    try:
        return [(ws.title, [[None if getattr(cell, "value", None) is None
                             else (cell.value, getattr(cell, "number_format", None)) for cell in row]
                            for row in ws.iter_rows()]) for ws in wb.worksheets]
    finally:
        wb.close()


def write_sheets(parts: Mapping[str, list[tuple[str, list[list]]]], path: str | Path) -> Path | None:
    """Sheets read by :func:`read_sheets` in one workbook (sheet names prefixed as the mapping says), cell by
    cell, so that every value keeps its type and number format: text stays text (``000123``, ``01``, long
    ids), numbers stay numbers. None (nothing written) when there are no sheets."""
    import xlsxwriter

    if not parts:
        return None
    book = xlsxwriter.Workbook(str(path), XLSX_OPTIONS)
    formats: dict = {}
    used: set[str] = set()
    try:
        for prefix, sheets in parts.items():
            for title, rows in sheets:
                target = book.add_worksheet(_sheet_name(f"{prefix} {title}", used))
                width = max((len(row) for row in rows), default=0)
                for i, row in enumerate(rows):
                    for j, cell in enumerate(row):
                        if cell is None:
                            continue
                        value, fmt = cell
                        style = _format(book, formats, fmt)
                        if isinstance(value, str):
                            target.write_string(i, j, value, style)
                        elif isinstance(value, bool):
                            target.write_boolean(i, j, value, style)
                        elif _number(value):
                            target.write_number(i, j, value, style)
                        else:  # dates and times
                            target.write_datetime(i, j, value, style or _format(book, formats, "yyyy-mm-dd hh:mm:ss"))
                grid = [[None if c is None else c[0] for c in row] for row in rows[:2001]]  # header + 2,000 rows
                columns = [("", str(grid[0][j]) if j < len(grid[0]) and grid[0][j] is not None else "",
                            [r[j] if j < len(r) else None for r in grid[1:2001]]) for j in range(width)]
                dress_sheet(target, book, columns, 1, len(rows) - 1, formats=False)
    finally:
        book.close()
    return Path(path)


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell, index and column label HTML-escaped (for pandas' Styler, which does not
    escape)."""
    return _map_text(frame, lambda v: html.escape(v) if isinstance(v, str) else v)


def markdown_html(text: str) -> str:
    """sqmlib's Markdown as HTML, with any raw HTML in it escaped and harmful links (``javascript:``) dropped."""
    return _MARKDOWN(text)
