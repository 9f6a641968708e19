"""Reading raw tables: CSV, Excel (streamed), Parquet and SPSS files, with the extra header rows of survey platforms."""
from __future__ import annotations

import re

import io as _io
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import Problem, SQMDataError
from .checks import find_column
from .encodings import _decode
from .sources import SUPPORTED_SUFFIXES, SourceInfo, sha256_file

PREFIX_BYTES = 4 << 20  # text files above this size have their first rows checked before the whole is read


def _drop_qualtrics_rows(df: pd.DataFrame) -> tuple[pd.DataFrame, int, dict[str, str]]:
    """Qualtrics CSV exports carry the question text and an ImportId row under the header: dropped, the
    question texts kept (column → text)."""
    for k in range(min(2, len(df))):
        row = df.iloc[k].astype(str)
        if row.str.startswith('{"ImportId"').any():
            questions = {str(c): str(v).strip() for c, v in df.iloc[0].items()
                         if k == 1 and str(v).strip() and str(v).strip() != str(c)}
            return df.iloc[k + 1:].reset_index(drop=True), k + 1, questions
    return df, 0, {}


MAX_XLSX_UNPACKED = 1 << 30  # bytes a workbook's parts may unpack to, all together (a zip bomb stops here)
MAX_XLSX_STRINGS = 256 << 20  # bytes of shared-strings XML (held in memory whole while the sheet is read)
MAX_CELLS_PER_BYTE = 2  # a real worksheet holds well under one cell per byte of its XML


def _read_xlsx(path: Path, sheet: str | int | None = 0, header_row: int = 1) -> pd.DataFrame:
    """An .xlsx sheet as a DataFrame of objects, in bounded memory: the unpacked size of the worksheets is
    checked first, the sheet is read in openpyxl's streaming mode, and its declared dimension (which a file can
    set to a million rows × 16,384 columns) is ignored in favour of the cells it really holds. The headers are
    on ``header_row`` (1 = the first row; rows above it, a title or a note, are left out)."""
    import zipfile

    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as z:
            parts = z.infolist()
            unpacked = sum(i.file_size for i in parts if i.filename.startswith("xl/worksheets/"))
            everything = sum(i.file_size for i in parts)
            strings = sum(i.file_size for i in parts if i.filename.lower().endswith("sharedstrings.xml"))
    except zipfile.BadZipFile:
        raise SQMDataError(str(path), [Problem("unreadable", "not an .xlsx workbook (not a zip archive)")]) from None
    if everything > MAX_XLSX_UNPACKED:  # every compressed part counts: shared strings, styles, drawings …
        raise SQMDataError(str(path), [Problem("too_large", f"it unpacks to {everything / 2**20:,.0f} MiB (more "
                                                            "than 1 GiB): export the survey as CSV")])
    if strings > MAX_XLSX_STRINGS:  # read whole into memory by openpyxl: a few times their size
        raise SQMDataError(str(path), [Problem("too_large", f"its shared texts unpack to {strings / 2**20:,.0f} MiB "
                                                            f"(more than {MAX_XLSX_STRINGS / 2**20:,.0f} MiB): "
                                                            "export the survey as CSV")])
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        names = wb.sheetnames
        if sheet is None:
            sheet = 0
        if isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise SQMDataError(str(path), [Problem("missing_sheet", f"no sheet number {sheet} (sheets: "
                                                                        f"{', '.join(names)})")])
            ws = wb[names[sheet]]
        else:
            if sheet not in names:
                raise SQMDataError(str(path), [Problem("missing_sheet", f"no sheet {sheet!r} (sheets: "
                                                                        f"{', '.join(names)})")])
            ws = wb[sheet]
        ws.reset_dimensions()  # iterate what the sheet holds, not what its header claims
        rows, width, cells = [], 0, 0
        limit = max(unpacked, 1) * MAX_CELLS_PER_BYTE
        for row in ws.iter_rows(values_only=True):
            row = list(row)
            while row and row[-1] is None:
                row.pop()
            cells += len(row)
            if cells > limit:
                raise SQMDataError(str(path), [Problem("unreadable", "the sheet claims more cells than its data "
                                                                     "holds: not a plain table")])
            width = max(width, len(row))
            rows.append(row)
    finally:
        wb.close()
    rows = rows[max(header_row, 1) - 1:]
    while rows and not rows[-1]:
        rows.pop()
    if not rows:
        return pd.DataFrame()
    header, seen = [], {}
    for k, h in enumerate(rows[0] + [None] * (width - len(rows[0]))):
        name = str(h) if h is not None else f"Unnamed: {k}"
        if name in seen:  # as pandas does: a repeated header gets .1, .2, …
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        header.append(name)
    body = [r + [None] * (width - len(r)) for r in rows[1:]]
    return pd.DataFrame(body, columns=header, dtype=object)


def header_rows_of(path: Path, patterns: list[str], rows: int = 30) -> list[tuple[str, int, int]]:
    """Where a workbook (or CSV file) holds the headers ``patterns`` describe: (sheet, row as the spreadsheet
    numbers it, patterns matched, the sheet's position) for each sheet's best row among its first ``rows``,
    best first. Reads those rows only."""
    path = Path(path)
    found = []
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            sheets = {name: [list(r) for r in wb[name].iter_rows(max_row=rows, values_only=True)]
                      for name in wb.sheetnames}
        finally:
            wb.close()
    elif path.suffix.lower() in (".csv", ".txt", ".tsv"):
        import csv

        text, _ = _decode(_prefix(path, PREFIX_BYTES), path, None)
        sheets = {"": [r for _, r in zip(range(rows), csv.reader(_io.StringIO(text),
                                                                 delimiter="\t" if path.suffix == ".tsv" else ","))]}
    else:
        return []
    for position, (name, table) in enumerate(sheets.items()):
        best = (0, 0)
        for k, row in enumerate(table, 1):
            headers = [str(v) for v in row if v is not None and str(v).strip()]
            hits = sum(bool(find_column(headers, pat)) for pat in patterns) if headers else 0
            if hits > best[0]:
                best = (hits, k)
        found.append((name, best[1], best[0], position))
    return sorted(found, key=lambda f: -f[2])


def table_start(path: Path, rows: int = 30) -> tuple[str | int, int]:
    """Where the answers' table of a workbook starts, for a draft: the sheet with the widest header among its
    first ``rows`` (a cover or notes sheet holds a line or two), and the first of those rows that is at least
    80 % as wide as the widest (a title or a blank line above the headers is not). (0, 1) for other files."""
    from openpyxl import load_workbook

    if Path(path).suffix.lower() != ".xlsx":
        return 0, 1
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        first = wb.sheetnames[0]
        best: tuple[int, str | int, int] = (0, first, 1)
        for name in wb.sheetnames:
            widths = [sum(v is not None and str(v).strip() != "" for v in r)
                      for r in wb[name].iter_rows(max_row=rows, values_only=True)]
            if not widths or max(widths) <= best[0]:
                continue
            top = max(widths)
            best = (top, name, next(k for k, w in enumerate(widths, 1) if w >= 0.8 * top))
    finally:
        wb.close()
    _, sheet, row = best
    return (0 if sheet == first else sheet), row


SURVEYMONKEY_SUBHEADS = {"response", "open-ended response", "other (please specify)"}


def _merge_two_header_rows(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """SurveyMonkey exports have two header rows: the question (written once over its sub-columns) and, under
    it, "Response" or the row of a matrix question. Merged into one header: ``question - row`` (the question
    alone where the second row says "Response" or is blank)."""
    if len(df) == 0:
        return df, 0
    second = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip() for v in df.iloc[0]]
    if not any(v.lower() in SURVEYMONKEY_SUBHEADS for v in second):
        return df, 0
    header, current = [], ""
    for h, sub in zip(df.columns, second):
        h = str(h)
        blank_head = h.startswith("Unnamed:") or h == ""
        if not blank_head:
            current = h
        if sub == "" or sub.lower() == "response":
            header.append(current)
        else:
            header.append(f"{current} - {sub}")
    out = df.iloc[1:].reset_index(drop=True)
    out.columns = header
    return out, 1


def _prefix(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of a file, cut after the last line break (and before a split character)."""
    with open(path, "rb") as fh:
        data = fh.read(size)
        more = bool(fh.read(1))
    if more and b"\n" in data:
        data = data[: data.rindex(b"\n") + 1]
    return data


def read_table(path: str | Path, *, encoding: str | None = None, sheet: str | int | None = 0,
               strip: bool = True, usecols: list[str] | None = None,
               nrows: int | None = None, header_row: int = 1) -> tuple[pd.DataFrame, SourceInfo]:
    """Read a data file as it is, with every CSV cell kept as text.

    Parameters
    ----------
    path : str or Path
        A ``.csv``/``.txt``/``.tsv``, ``.xlsx``/``.xls``, ``.parquet`` or SPSS ``.sav`` file.
    encoding : str, optional
        Text encoding of a CSV file; detected when omitted (see :func:`detect_encoding`).
    sheet : str or int, optional
        Excel sheet (default the first).
    header_row : int
        The row holding the headers, as a spreadsheet numbers it (Excel and CSV files; rows above it are left
        out, and row numbers in problems stay the spreadsheet's).
    usecols, nrows : optional
        Only these columns, only the first rows (CSV and Parquet; other formats are read whole).

    Returns
    -------
    (DataFrame, SourceInfo)

    Raises
    ------
    SQMDataError
        If the file is missing, empty, of an unsupported kind or cannot be decoded.
    """
    path = Path(path)
    if not path.exists():
        raise SQMDataError(str(path), [Problem("missing_file", "file not found")])
    if path.is_dir():
        raise SQMDataError(str(path), [Problem("missing_file", "is a folder, not a file")])
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise SQMDataError(str(path), [Problem("format", f"unsupported file type {suffix!r} "
                                                         f"(use one of {', '.join(SUPPORTED_SUFFIXES)})")])
    if path.stat().st_size == 0:
        raise SQMDataError(str(path), [Problem("empty", "the file is empty")])
    digest = sha256_file(path)
    invisible = True  # unknown until a CSV's text is scanned
    header_row = max(int(header_row or 1), 1)
    header_rows = header_row
    used_encoding = None
    questions: dict[str, str] = {}
    spss_labels: dict = {}
    spss_missing: dict = {}
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            raw_bytes = path.read_bytes() if nrows is None else _prefix(path, PREFIX_BYTES)
            text, used_encoding = _decode(raw_bytes, path, encoding)
            if not text.strip():
                raise SQMDataError(str(path), [Problem("empty", "the file holds only blank space")])
            _check_width(text, "\t" if suffix == ".tsv" else ",", path)
            text = text.replace("\x00", _NUL_MARK)  # pandas' parser would cut a cell at a NUL byte
            invisible = _INVISIBLE.search(text) is not None  # one scan of the text: most files hold none
            df = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False,
                             sep="\t" if suffix == ".tsv" else ",", usecols=usecols, nrows=nrows,
                             skiprows=header_row - 1)
            df, extra, questions = _drop_qualtrics_rows(df)
            header_rows += extra
            fmt = "qualtrics-csv" if extra else "csv"
            if not extra:
                df, extra = _merge_two_header_rows(df)
                header_rows += extra
                fmt = "surveymonkey-csv" if extra else fmt
        elif suffix == ".xlsx":
            df = _read_xlsx(path, sheet, header_row)
            df, extra = _merge_two_header_rows(df)
            header_rows += extra
            fmt = "surveymonkey-excel" if extra else "excel"
        elif suffix == ".xls":
            df = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object,
                               skiprows=header_row - 1)
            fmt = "excel"
        elif suffix in (".parquet", ".pq"):
            df = pd.read_parquet(path, columns=usecols)
            fmt = "parquet"
        else:
            import pyreadstat

            df, meta = pyreadstat.read_sav(str(path), apply_value_formats=False, user_missing=True)
            fmt = "spss"
            spss_labels = {str(k): dict(v) for k, v in (meta.variable_value_labels or {}).items()}
            spss_missing = {}
            for col, codes in (meta.missing_user_values or {}).items():
                spss_missing[str(col)] = tuple(float(c) for c in codes if isinstance(c, (int, float)))
            for col, ranges in (meta.missing_ranges or {}).items():
                found = [float(v) for r in ranges for v in np.unique(df[col].dropna())
                         if isinstance(r.get("lo"), (int, float)) and r["lo"] <= v <= r["hi"]] \
                    if col in df.columns and pd.api.types.is_numeric_dtype(df[col]) else []
                spss_missing[str(col)] = tuple(sorted(set(spss_missing.get(str(col), ())) | set(found)))
    except SQMDataError:
        raise
    except MemoryError:
        raise SQMDataError(str(path), [Problem("too_large", "the file does not fit in memory here; for surveys "
                                                            "larger than memory use engine='duckdb'")]) from None
    except Exception as exc:  # a parser's own error, reported with the file named
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise SQMDataError(str(path), [Problem("unreadable", f"cannot be read as {suffix}: {detail}")]) from None
    df.columns = [str(c) for c in df.columns]
    if strip:  # the columns rebuilt at once: assigning them one by one costs time quadratic in their number
        parts = []
        for k in range(df.shape[1]):
            col = df.iloc[:, k]
            if pd.api.types.is_string_dtype(col) and not isinstance(col.dtype, pd.CategoricalDtype):
                col = col.str.strip()
            elif col.dtype == object:  # Excel: mixed numbers and text
                col = col.map(lambda v: v.strip() if isinstance(v, str) else v)
            parts.append(col)
        if parts:
            df = pd.concat(parts, axis=1, copy=False)
    df, cleaned = _remove_invisible(df, header_rows) if invisible else (df, {})
    return df, SourceInfo(str(path), fmt, used_encoding, header_rows, digest, spss_labels, spss_missing, questions,
                          cleaned=cleaned)


_NUL_MARK = "\U0010fffd"  # stands for a NUL byte while pandas parses (a private-use character nobody types)
# NUL and the characters that print as nothing: zero-width space and joiners, direction marks and embeddings,
# the byte-order mark and the soft hyphen. Left in, "North\u200b" and "North" are two regions that both print as
# "North", and a header with one matches no column.
_INVISIBLE = re.compile("[\x00\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff" + _NUL_MARK + "]")


MAX_COLUMNS = 5000  # a questionnaire export has hundreds; tens of thousands is the wrong file or a lost newline


def _check_width(text: str, sep: str, path: Path) -> None:
    """Stop before parsing a header of more than :data:`MAX_COLUMNS` fields (counted on its first line)."""
    end = text.find("\n")
    first = text if end < 0 else text[:end]
    fields = first.count(sep) + 1
    if fields > MAX_COLUMNS:
        raise SQMDataError(str(path), [Problem("too_wide", f"its first line has {fields:,} fields (more than "
                                                           f"{MAX_COLUMNS:,}): not a survey table, or its line "
                                                           "breaks were lost; check the file and the separator")])


def _remove_invisible(df: pd.DataFrame, header_rows: int) -> tuple[pd.DataFrame, dict]:
    """Text cells and headers without NUL bytes and invisible characters, and per column what was removed
    (cells, the first spreadsheet rows, which characters): reported by the data audit, never silently."""
    cleaned: dict[str, dict] = {}

    def note(column: str, hits: list[str], rows: list[int]) -> None:
        kinds = sorted({"U+0000" if c == _NUL_MARK else f"U+{ord(c):04X}" for h in hits for c in _INVISIBLE.findall(h)})
        cleaned[column] = {"cells": len(hits), "rows": rows[:5], "characters": kinds}

    headers = [str(c) for c in df.columns]
    bad = [h for h in headers if _INVISIBLE.search(h)]
    if bad:
        note("(headers)", bad, [header_rows])
        df = df.rename(columns={h: _INVISIBLE.sub("", h) for h in bad})
    for c in df.columns:
        col = df[c]
        if col.dtype != object and not pd.api.types.is_string_dtype(col):
            continue
        text = col.map(lambda v: isinstance(v, str) and _INVISIBLE.search(v) is not None)
        if not text.any():
            continue
        where = np.flatnonzero(text.to_numpy(dtype=bool))
        note(str(c), [col.iat[i] for i in where], [int(i) + header_rows + 1 for i in where])
        df[c] = col.map(lambda v: _INVISIBLE.sub("", v).strip() if isinstance(v, str) else v)
    return df, cleaned


# ---------------------------------------------------------------------------------------------------------
