"""Loading and validating input files.

``load_survey``, ``load_customers``, ``load_interactions``, ``load_standards`` and ``load_management`` read
CSV (UTF-8, UTF-8 with BOM, GB18030/GBK and CP949 detected, or ``encoding=``), Excel, Parquet, SPSS ``.sav``
and Qualtrics CSV exports (two extra header rows). Every problem in a file is collected and raised together
as one :class:`~sqmlib.errors.SQMDataError` naming the file, the column, the offending values and the first
row numbers (as a spreadsheet shows them: the header is row 1). Declared missing codes become NaN. Input
files are only ever opened for reading.
"""
from __future__ import annotations

import difflib
import fnmatch
import hashlib
import io as _io
import re
import unicodedata
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from . import labels
from .audit import careless
from .errors import Problem, SQMArgumentError, SQMDataError, SQMWarning
from .instruments import ColumnSpec, Instrument
from .instruments import load as load_instrument
from .paths import SAMPLE_DIR, resolve
from .periods import check_quarter, quarter_end, quarter_of

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xls", ".parquet", ".pq", ".sav")
TRUE_WORDS = {"1", "1.0", "true", "t", "yes", "y"}
FALSE_WORDS = {"0", "0.0", "false", "f", "no", "n"}
QUARTER_RE = re.compile(r"^\s*(\d{4})\s*[-_ ]?\s*[Qq]\s*([1-4])\s*$")


# ---------------------------------------------------------------------------------------------------------
# Reading raw tables
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceInfo:
    """Where a table came from: path, format, encoding, extra header rows skipped and the file's SHA-256."""

    path: str
    format: str
    encoding: str | None
    header_rows: int  # rows above the first answer row (1 for a plain header, 3 for a Qualtrics export)
    sha256: str
    value_labels: Mapping[str, Mapping] = field(default_factory=dict)  # SPSS: column -> {code: label}
    user_missing: Mapping[str, tuple] = field(default_factory=dict)  # SPSS: column -> declared missing codes


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# The most frequent Hangul syllables of Korean text (with the particles and endings every sentence has) and
# charset-normalizer's list of the most frequent hanzi: a reading in which the characters are mostly common ones
# is the right one. Korean bytes read as GB18030 give hanzi spread evenly over the ~3,800 common ones (about
# 13 % of them among the 500 most frequent); Chinese bytes read as CP949 give rare syllables such as 빽굇.
COMMON_HANGUL = set(
    "이다는의에하고을가지한기로서리대사도자를시어인으수아나있정일게적그전들해상보과주부것요라만장성문우동국여"
    "공제유원면소화스위내연구경방신비개조세발선관계진물생실중할무용회했결후없분통미되된간학재말식안모업단당때"
    "저반입명체래및까야오마차거금행불외현같각민드운심점산감터작히표력데형품교호설트받약치양질예급역등년월날본"
    "번님께든록며므던려겠습니죠네함합십니까십시오않는편리족매렇직원객친절빠르확신뢰응답키크템필수택결제"
    "남녀별령세대학생회원기타지역울경북강충전광천산도군구읍면동층자주가끔거의항상혀보통그렇아니매우"
    "좋싫쉽어렵느린만족불중요음기대인지설문사용이용서비스거래정보화면선택입력처리과정시간안전개인출노험위원"
)
try:
    from charset_normalizer.constant import COMMON_CHINESE_CHARACTERS as _COMMON_HANZI
except ImportError:  # pragma: no cover
    _COMMON_HANZI = "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后"
COMMON_HANZI = set(_COMMON_HANZI) | set("华北南东西区省市店员工服务满意期望感知客户顾企业质量")
AMBIGUOUS_MARGIN = 0.25  # the better reading must have this much larger a share of common characters


def _common_share(text: str, encoding: str) -> float:
    """Share of the CJK characters of a reading that are common in the language the encoding implies
    (Hangul syllables for CP949, hanzi for GB18030); 0 when the reading has no CJK character."""
    common = COMMON_HANGUL if encoding == "cp949" else COMMON_HANZI
    total = hits = 0
    for ch in text:
        o = ord(ch)
        if 0xAC00 <= o <= 0xD7A3 or 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
            total += 1
            hits += ch in common
    return hits / total if total else 0.0


class AmbiguousEncoding(UnicodeError):
    """The bytes read as both Korean and Chinese and the text does not say which: ``readings`` maps each
    encoding to a sample line in that reading."""

    def __init__(self, readings: Mapping[str, str]):
        self.readings = dict(readings)
        shown = "; ".join(f"as {e.upper()}: {line!r}" for e, line in self.readings.items())
        super().__init__(f"the text reads as Korean (CP949) and as Chinese (GB18030) and cannot be told apart "
                         f"({shown}); pass the encoding, e.g. --encoding gb18030 or encoding: gb18030 in the "
                         "instrument file")


def _sample_line(text: str) -> str:
    """The first line with non-ASCII text (cut to 60 characters), for showing a reading."""
    for line in text.splitlines():
        if any(ord(c) > 127 for c in line):
            return line.strip()[:60]
    return text.strip().splitlines()[0][:60] if text.strip() else ""


def detect_encoding(raw: bytes) -> str:
    """Guess the encoding of a CSV file's bytes.

    UTF-8 (with or without BOM) first; otherwise CP949 (Korean) or GB18030 (Simplified Chinese, a superset
    of GBK and GB2312). Much Korean text also decodes as GB18030 and short Chinese text as CP949 (the two share
    byte ranges), so when both decode, the text itself decides: the reading whose characters are mostly common
    ones in its language (frequent Hangul syllables, frequent hanzi) wins by at least ``AMBIGUOUS_MARGIN``.

    Raises
    ------
    AmbiguousEncoding
        Both readings are about as plausible (a sample line of each is in the message).
    UnicodeError
        If the bytes decode as none of them.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    decoded = {}
    for enc in ("cp949", "gb18030"):
        try:
            decoded[enc] = raw.decode(enc)
        except UnicodeDecodeError:
            pass
    if not decoded:
        raise UnicodeError("the file is not UTF-8, GB18030/GBK or CP949")
    if len(decoded) == 1:
        return next(iter(decoded))
    ko, zh = _common_share(decoded["cp949"], "cp949"), _common_share(decoded["gb18030"], "gb18030")
    if ko - zh >= AMBIGUOUS_MARGIN:
        return "cp949"
    if zh - ko >= AMBIGUOUS_MARGIN:
        return "gb18030"
    raise AmbiguousEncoding({enc: _sample_line(text) for enc, text in decoded.items()})


def _decode(raw: bytes, path: Path, encoding: str | None) -> tuple[str, str]:
    if encoding is None:
        try:
            encoding = detect_encoding(raw)
        except AmbiguousEncoding as exc:
            raise SQMDataError(str(path), [Problem("encoding", str(exc))]) from None
        except UnicodeError as exc:
            raise SQMDataError(str(path), [Problem("encoding", f"cannot read the text: {exc}; pass encoding=…")])
    try:
        return raw.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SQMDataError(
            str(path),
            [Problem("encoding", f"the file is not valid {encoding} (byte {exc.start}, line {line}); "
                                 "check the encoding or leave encoding= unset to detect it")],
        ) from None
    except LookupError:
        raise SQMDataError(str(path), [Problem("encoding", f"unknown encoding {encoding!r}")]) from None


def _drop_qualtrics_rows(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Qualtrics CSV exports carry the question text and an ImportId row under the header: drop them."""
    for k in range(min(2, len(df))):
        row = df.iloc[k].astype(str)
        if row.str.startswith('{"ImportId"').any():
            return df.iloc[k + 1:].reset_index(drop=True), k + 1
    return df, 0


MAX_XLSX_UNPACKED = 1 << 30  # bytes of worksheet XML a workbook may unpack to (a zip bomb stops here)
MAX_CELLS_PER_BYTE = 2  # a real worksheet holds well under one cell per byte of its XML


def _read_xlsx(path: Path, sheet: str | int | None = 0) -> pd.DataFrame:
    """An .xlsx sheet as a DataFrame of objects, in bounded memory: the unpacked size of the worksheets is
    checked first, the sheet is read in openpyxl's streaming mode, and its declared dimension (which a file can
    set to a million rows × 16,384 columns) is ignored in favour of the cells it really holds."""
    import zipfile

    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as z:
            sheets = [i for i in z.infolist() if i.filename.startswith("xl/worksheets/")]
            unpacked = sum(i.file_size for i in sheets)
    except zipfile.BadZipFile:
        raise SQMDataError(str(path), [Problem("unreadable", "not an .xlsx workbook (not a zip archive)")]) from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise SQMDataError(str(path), [Problem("too_large", f"its worksheets unpack to {unpacked / 2**20:,.0f} MiB "
                                                            "(more than 1 GiB): export the survey as CSV")])
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        names = wb.sheetnames
        if isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise SQMDataError(str(path), [Problem("missing_sheet", f"no sheet number {sheet}")])
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
               nrows: int | None = None) -> tuple[pd.DataFrame, SourceInfo]:
    """Read a data file as it is, with every CSV cell kept as text.

    Parameters
    ----------
    path : str or Path
        A ``.csv``/``.txt``/``.tsv``, ``.xlsx``/``.xls``, ``.parquet`` or SPSS ``.sav`` file.
    encoding : str, optional
        Text encoding of a CSV file; detected when omitted (see :func:`detect_encoding`).
    sheet : str or int, optional
        Excel sheet (default the first).
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
    header_rows = 1
    used_encoding = None
    spss_labels: dict = {}
    spss_missing: dict = {}
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            raw_bytes = path.read_bytes() if nrows is None else _prefix(path, PREFIX_BYTES)
            text, used_encoding = _decode(raw_bytes, path, encoding)
            if not text.strip():
                raise SQMDataError(str(path), [Problem("empty", "the file holds only blank space")])
            df = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False,
                             sep="\t" if suffix == ".tsv" else ",", usecols=usecols, nrows=nrows)
            df, extra = _drop_qualtrics_rows(df)
            header_rows += extra
            fmt = "qualtrics-csv" if extra else "csv"
            if not extra:
                df, extra = _merge_two_header_rows(df)
                header_rows += extra
                fmt = "surveymonkey-csv" if extra else fmt
        elif suffix == ".xlsx":
            df = _read_xlsx(path, sheet)
            df, extra = _merge_two_header_rows(df)
            header_rows += extra
            fmt = "surveymonkey-excel" if extra else "excel"
        elif suffix == ".xls":
            df = pd.read_excel(path, sheet_name=sheet, dtype=object)
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
    if strip:
        for c in df.columns:
            if pd.api.types.is_string_dtype(df[c]) and not isinstance(df[c].dtype, pd.CategoricalDtype):
                df[c] = df[c].str.strip()
            elif df[c].dtype == object:  # Excel: mixed numbers and text
                df[c] = df[c].map(lambda v: v.strip() if isinstance(v, str) else v)
    return df, SourceInfo(str(path), fmt, used_encoding, header_rows, digest, spss_labels, spss_missing)


# ---------------------------------------------------------------------------------------------------------
# Validation engine, shared by every loader
# ---------------------------------------------------------------------------------------------------------
def _blank(s: pd.Series) -> np.ndarray:
    """True where a cell holds no answer (NaN, None or an empty string)."""
    isna = s.isna().to_numpy()
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        isna = isna | (s.astype(str).str.len().to_numpy() == 0) & ~isna
    return isna


class _Checker:
    """Collects problems for one file; rows are reported as spreadsheet row numbers."""

    def __init__(self, source: SourceInfo):
        self.source = source
        self.problems: list[Problem] = []

    def rownums(self, mask: np.ndarray) -> tuple[int, ...]:
        pos = np.flatnonzero(mask)
        return tuple(int(p) + self.source.header_rows + 1 for p in pos[:5]), int(len(pos))

    def missing_label(self, col: str, code) -> str:
        """The label of an SPSS user-missing code (its value label, else "user-missing")."""
        lab = self.source.value_labels.get(col, {})
        return str(lab.get(code, lab.get(float(code), f"user-missing {_plain(code)}")))

    def add(self, kind: str, message: str, column: str | None = None, mask: np.ndarray | None = None,
            values: Iterable = ()):
        rows, n = ((), 0) if mask is None else self.rownums(mask)
        vals = tuple(dict.fromkeys(_plain(v) for v in values))[:6]
        self.problems.append(Problem(kind, message, column, vals, rows, n))


def _plain(v):
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _fast_float(s: pd.Series) -> pd.Series | None:
    """Text to float in one vectorised cast when every non-blank cell is a number, else None."""
    try:
        pa_arr = getattr(s.array, "_pa_array", None)
        if pa_arr is not None:  # Arrow-backed strings: cast in Arrow, far faster than to_numeric
            import pyarrow as pa
            import pyarrow.compute as pc

            arr = pc.if_else(pc.equal(pa_arr, ""), pa.scalar(None, pa.string()), pa_arr)
            return pd.Series(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), index=s.index)
        return s.replace("", np.nan).astype(float)
    except (ValueError, TypeError, ArithmeticError, ImportError):
        return None


def _numeric(s: pd.Series, col: str, chk: _Checker) -> pd.Series:
    """Convert to float; non-empty cells that are not numbers are a problem and become NaN."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    fast = _fast_float(s) if pd.api.types.is_string_dtype(s) else None
    if fast is not None:
        return fast.rename(s.name)
    blank = _blank(s)
    num = pd.to_numeric(s.where(~blank), errors="coerce").astype(float)
    bad = num.isna().to_numpy() & ~blank
    if bad.any():
        chk.add("non_numeric", "answers that are not numbers", col, bad, s[bad].head(6).tolist())
    return num


def _ratings(s: pd.Series, col: str, lo: float, hi: float, codes: Mapping[float, str], chk: _Checker,
             code_counts: dict, whole: bool = True) -> pd.Series:
    num = _numeric(s, col, chk)
    v = num.to_numpy()
    if codes:
        is_code = np.isin(v, np.fromiter(codes, float))
        if is_code.any():
            counts = pd.Series(v[is_code]).value_counts()
            code_counts[col] = {codes[float(k)]: int(n) for k, n in counts.items()}
            v = np.where(is_code, np.nan, v)
    out = ~np.isnan(v) & ((v < lo) | (v > hi))
    if out.any():
        declared = f"; declared missing codes are {', '.join(str(_plain(k)) for k in codes)}" if codes else ""
        chk.add("out_of_range", f"values outside the scale {_plain(lo)}–{_plain(hi)} that are not declared "
                                f"missing codes{declared}", col, out, v[out][:6])
        v = np.where(out, np.nan, v)
    if whole:
        frac = ~np.isnan(v) & (v != np.round(v))
        if frac.any():
            chk.add("not_whole", "answers that are not whole scale points", col, frac, v[frac][:6])
            v = np.where(frac, np.nan, v)
    return pd.Series(v, index=s.index, name=col)


def _dates(s: pd.Series, col: str, chk: _Checker) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    blank = _blank(s)
    txt = s.where(~blank)
    out = pd.to_datetime(txt, errors="coerce", format="ISO8601")
    retry = out.isna().to_numpy() & ~blank
    if retry.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[retry] = pd.to_datetime(txt[retry], errors="coerce", format="mixed")
    bad = out.isna().to_numpy() & ~blank
    if bad.any():
        chk.add("bad_date", "dates that cannot be read", col, bad, s[bad].head(6).tolist())
    return out


def _bools(s: pd.Series, col: str, chk: _Checker) -> pd.Series:
    blank = _blank(s)
    txt = s.astype(str).str.strip().str.lower()
    is_true = txt.isin(TRUE_WORDS).to_numpy()
    is_false = txt.isin(FALSE_WORDS).to_numpy()
    bad = ~blank & ~is_true & ~is_false
    if bad.any():
        chk.add("not_boolean", "values that are not yes/no (1/0, true/false)", col, bad, s[bad].head(6).tolist())
    out = pd.Series(pd.array(np.where(is_true, True, False), dtype="boolean"), index=s.index, name=col)
    out[blank | bad] = pd.NA
    return out


def _quarters(s: pd.Series, col: str, chk: _Checker) -> pd.Series:
    blank = _blank(s)
    txt = s.astype(str)
    m = txt.str.extract(QUARTER_RE)
    ok = m[0].notna().to_numpy()
    bad = ~ok & ~blank
    if bad.any():
        chk.add("bad_quarter", "quarters not written as YYYYQn (e.g. 2026Q3)", col, bad, s[bad].head(6).tolist())
    out = (m[0] + "Q" + m[1]).where(ok)
    return out.astype(object).where(ok, None)


def _ids(s: pd.Series, col: str, chk: _Checker, unique: bool = True) -> pd.Series:
    blank = _blank(s)
    txt = s.astype(str).where(~blank)
    if blank.any():
        chk.add("missing_id", "rows without an id", col, blank)
    if unique:
        dup = txt.duplicated(keep=False).to_numpy() & ~blank
        if dup.any():
            chk.add("duplicate_id", "duplicated ids", col, dup, txt[dup].head(6).tolist())
    return txt.astype(object)


def _convert(df: pd.DataFrame, col: str, spec: ColumnSpec, chk: _Checker, code_counts: dict,
             unique_id: bool = True) -> pd.Series:
    s = df[col]
    if spec.type == "id":
        return _ids(s, col, chk, unique_id)
    if spec.type == "date":
        return _dates(s, col, chk)
    if spec.type == "quarter":
        return _quarters(s, col, chk)
    if spec.type == "bool":
        return _bools(s, col, chk)
    if spec.type == "rating":
        codes = dict(spec.missing_codes)
        codes.update({c: chk.missing_label(col, c) for c in chk.source.user_missing.get(col, ())})
        return _ratings(s, col, spec.min, spec.max, codes, chk, code_counts)
    if spec.type == "duration":
        return _durations(s, col, chk)
    if spec.type == "number":
        num = _numeric(s, col, chk)
        v = num.to_numpy()
        lo = -np.inf if spec.min is None else spec.min
        hi = np.inf if spec.max is None else spec.max
        out = ~np.isnan(v) & ((v < lo) | (v > hi))
        if out.any():
            chk.add("out_of_range", f"values outside {_plain(lo)}–{_plain(hi)}", col, out, v[out][:6])
            num = num.where(~out)
        return num
    # text / category: keep as text, blanks as missing; codes with labels (the instrument's, else the SPSS
    # file's) become their labels; SPSS user-missing codes become missing and are counted
    blank = _blank(s)
    user_missing = chk.source.user_missing.get(col, ())
    if user_missing and pd.api.types.is_numeric_dtype(s):
        is_code = s.isin(user_missing).to_numpy()
        if is_code.any():
            counts = s[is_code].value_counts()
            code_counts[col] = {chk.missing_label(col, k): int(n) for k, n in counts.items()}
            blank = blank | is_code
    labels = dict(chk.source.value_labels.get(col, {}))
    labels.update(spec.labels)
    if labels:
        return _labelled(s.astype(object).where(~blank, None), labels)
    return s.astype(object).where(~blank, None).map(
        lambda v: v if v is None else str(_plain(v)) if isinstance(v, (float, np.floating)) else str(v))


def norm_header(h: str) -> str:
    """A header as compared: Unicode NFKC (full-width letters, digits and brackets such as ``（期望）`` become
    their half-width forms ``(期望)``), white space folded to single spaces and trimmed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(h))).strip()


def find_column(headers: list[str], pattern: str) -> list[str]:
    """Headers equal to ``pattern`` once normalised (:func:`norm_header`), else, if it holds glob characters
    (``*``, ``?``, ``[``), matching it, else equal to it ignoring case."""
    pat = norm_header(pattern)
    exact = [h for h in headers if norm_header(h) == pat]
    if exact:
        return exact
    if any(ch in pat for ch in "*?["):
        return [h for h in headers if fnmatch.fnmatchcase(norm_header(h), pat)]
    return [h for h in headers if norm_header(h).casefold() == pat.casefold()]


def _closest_headers(pattern: str, headers: Iterable[str], n: int = 2) -> list[str]:
    """The headers most like ``pattern`` (glob characters left out), for "did you mean" in errors."""
    pat = norm_header(pattern).replace("*", "").replace("?", "")
    normed = {norm_header(h): h for h in headers}
    return [normed[m] for m in difflib.get_close_matches(pat, list(normed), n=n, cutoff=0.4)]


DURATION_RE = re.compile(
    r"^\s*(?:(?P<h>\d+(?:\.\d+)?)\s*(?:h|hr|hrs|hours?|小时|時間)\s*)?"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*(?:m|min|mins|minutes?|分钟|分|분)\s*)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds?|秒|초)?\s*)?$", re.I)
CLOCK_RE = re.compile(r"^\s*(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)\s*$")


def parse_duration(text) -> float:
    """Seconds from a duration as survey platforms write it: ``215``, ``215秒``, ``3分35秒``, ``3 min 35 s``,
    ``00:03:35``, ``3:35``, ``1小时2分``; NaN when it is none of these."""
    if isinstance(text, (int, float, np.number)) and not isinstance(text, bool):
        return float(text)
    t = unicodedata.normalize("NFKC", str(text)).strip()
    if not t:
        return np.nan
    m = CLOCK_RE.match(t)
    if m:
        h, mi, se = m.groups()
        return float(h or 0) * 3600 + float(mi) * 60 + float(se)
    m = DURATION_RE.match(t)
    if m and any(m.group(k) for k in "hms"):
        return sum(float(m.group(k) or 0) * f for k, f in (("h", 3600), ("m", 60), ("s", 1)))
    return np.nan


def _durations(s: pd.Series, col: str, chk: _Checker) -> pd.Series:
    """A duration column in seconds (see :func:`parse_duration`); unreadable or negative values are problems."""
    fast = _numeric(s, col, _Checker(chk.source)) if not pd.api.types.is_numeric_dtype(s) else s.astype(float)
    blank = _blank(s)
    v = fast.to_numpy(dtype=float, copy=True)
    retry = np.isnan(v) & ~blank
    if retry.any():
        v[retry] = [parse_duration(x) for x in s[retry]]
    bad = np.isnan(v) & ~blank
    if bad.any():
        chk.add("bad_duration", "durations that cannot be read (write seconds, 3分35秒 or 00:03:35)", col, bad,
                s[bad].head(6).tolist())
    neg = ~np.isnan(v) & (v < 0)
    if neg.any():
        chk.add("out_of_range", "negative durations", col, neg, v[neg][:6])
        v[neg] = np.nan
    return pd.Series(v, index=s.index, name=col)


def _labelled(s: pd.Series, labels: Mapping) -> pd.Series:
    """Category codes replaced by their labels (``1`` or ``"1"`` or ``1.0`` → ``"North"``); unlabelled values
    kept as text (whole numbers without ``.0``)."""
    lab = {}
    for k, v in labels.items():
        lab[str(_plain(k))] = str(v)
        try:
            lab[str(_plain(float(k)))] = str(v)
        except (TypeError, ValueError):
            pass

    def one(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        key = str(_plain(v)) if isinstance(v, (int, float, np.number)) else str(v)
        if key not in lab:
            try:
                key = str(_plain(float(key)))
            except ValueError:
                pass
        return lab.get(key, key)
    return s.map(one)


def _finish(df: pd.DataFrame, chk: _Checker, errors: str, meta: dict) -> pd.DataFrame:
    meta["problems"] = [p.__dict__ for p in chk.problems]
    df.attrs["sqm"] = meta
    if chk.problems:
        err = SQMDataError(chk.source.path, chk.problems)
        if errors == "raise":
            raise err
        warnings.warn(f"{err}\n(invalid values were set to missing because errors='coerce')", SQMWarning, stacklevel=3)
    return df


def _check_errors_arg(errors: str):
    if errors not in ("raise", "coerce"):
        raise SQMArgumentError("errors must be 'raise' or 'coerce'")


# ---------------------------------------------------------------------------------------------------------
# Survey responses
# ---------------------------------------------------------------------------------------------------------
SAMPLE_ROWS = 5_000  # rows of a large file checked first
PREFIX_BYTES = 4 << 20  # text files above this size have their first rows checked before the whole is read
MOSTLY_INVALID = 0.5  # share of a column's rows with a problem that marks a file as not survey data


def _check_sample(df: pd.DataFrame, other: Mapping, item_cols: list[str], inst: Instrument, src: SourceInfo) -> None:
    """Validate the first rows of a large survey file; when most of them are invalid in some column, stop with
    those problems at once instead of validating (and holding) the whole file."""
    head = df.head(SAMPLE_ROWS)
    chk = _Checker(src)
    for name, spec in other.items():
        _convert(head, name, spec, chk, {})
    for c in item_cols:
        _ratings(head[c], c, *inst.block_scale(inst.block_of(c)), _item_codes(c, inst, chk), chk, {})
    bad = [p for p in chk.problems if p.n_rows >= MOSTLY_INVALID * len(head)]
    if bad:
        note = Problem("not_survey_data", f"stopped after checking the first {len(head):,} of {len(df):,} rows: "
                                          f"{len(bad)} column(s) are invalid in most of them; is this the survey "
                                          "file, with the header the instrument describes?")
        raise SQMDataError(src.path, [note, *bad])
def _item_codes(column: str, inst: Instrument, chk: _Checker) -> dict:
    """The missing codes of an item column: the instrument's, and the user-missing codes an SPSS file declares
    for it (under their labels)."""
    codes = dict(inst.missing_codes)
    codes.update({k: chk.missing_label(column, k) for k in chk.source.user_missing.get(column, ())})
    return codes


def load_survey(path: str | Path, instrument: "str | Path | Instrument" = "servqual", *,
                encoding: str | None = None, sheet: str | int | None = 0, errors: str = "raise") -> pd.DataFrame:
    """Load survey responses, one row a respondent, with columns named as the instrument says.

    Parameters
    ----------
    path : str or Path
        The responses file (CSV, Excel, Parquet, SPSS ``.sav`` or a Qualtrics CSV export).
    instrument : str, Path or Instrument
        Built-in name (``"servqual"``, ``"servperf"``) or the path of an instrument YAML file. The
        instrument's templates and patterns find each column in the file; columns come back under their
        canonical names (``E01`` … ``E22``, ``P01`` …, ``I_tangibles`` …, ``overall_sat`` …). Columns the
        instrument does not mention are kept as they are.
    encoding : str, optional
        CSV encoding; detected when omitted.
    sheet : str or int, optional
        Excel sheet.
    errors : {"raise", "coerce"}
        ``"raise"`` (default): any problem raises :class:`SQMDataError` listing them all. ``"coerce"``:
        invalid values become NaN with a warning (missing columns still raise); the problems stay in
        ``df.attrs["sqm"]["problems"]``.

    Returns
    -------
    DataFrame
        Item and rating columns as floats with declared missing codes turned into NaN, dates as datetimes,
        ``quarter`` as ``"YYYYQn"`` text (derived from ``survey_date`` when the file has none). When the
        file has no respondent id column, ``respondent_id`` is the spreadsheet row number. ``df.attrs["sqm"]``
        records the source, encoding, SHA-256, instrument and counts of each declared missing code.
    """
    _check_errors_arg(errors)
    inst = load_instrument(instrument)
    encoding = encoding or inst.encoding
    p = Path(path)
    if p.suffix.lower() in (".csv", ".txt", ".tsv") and p.is_file() and p.stat().st_size > PREFIX_BYTES:
        # a large text file: its first rows first, so that a wrong or garbled file stops within seconds
        head, head_src = read_table(p, encoding=encoding, nrows=SAMPLE_ROWS)
        _survey_frame(head, head_src, inst, "raise", sample_only=True)
        encoding = encoding or head_src.encoding
        raw, src = read_table(path, encoding=encoding, sheet=sheet)
        return _survey_frame(raw, src, inst, errors, first_rows_checked=True)
    raw, src = read_table(path, encoding=encoding, sheet=sheet)
    return _survey_frame(raw, src, inst, errors)


def _survey_frame(raw: pd.DataFrame, src: SourceInfo, inst: Instrument, errors: str,
                  sample_only: bool = False, first_rows_checked: bool = False) -> pd.DataFrame | None:
    """Map, convert and validate a raw survey table (see :func:`load_survey`); with ``sample_only`` only find
    the columns and check the rows given for being mostly invalid (``first_rows_checked``: that was done
    already, on the file's first rows)."""
    chk = _Checker(src)
    headers = list(raw.columns)
    rename: dict[str, str] = {}
    claimed: dict[str, str] = {}

    def locate(canonical: str, pattern: str) -> str | None:
        found = find_column(headers, pattern)
        if len(found) > 1:
            chk.add("ambiguous_column", f"{len(found)} columns match {pattern!r} for {canonical}: "
                                        f"{', '.join(repr(f[:40]) for f in found[:4])}", canonical)
            return None
        if found:
            if found[0] in claimed and claimed[found[0]] != canonical:
                chk.add("ambiguous_column", f"column {found[0][:40]!r} is claimed by both "
                                            f"{claimed[found[0]]} and {canonical}", canonical)
                return None
            claimed[found[0]] = canonical
            rename[found[0]] = canonical
            return found[0]
        return None

    missing_cols: list[str] = []
    item_cols: list[str] = []
    looked_for: dict[str, str] = {}
    for code, block in inst.blocks.items():
        want = {inst.item_column(code, i): block.header(i) for i in inst.items}
        looked_for.update(want)
        got = {c: locate(c, pat) for c, pat in want.items()}
        absent = [c for c, g in got.items() if g is None]
        if block.optional and len(absent) == len(want):
            continue
        missing_cols += absent
        item_cols += [c for c, g in got.items() if g is not None]
    imp_cols: list[str] = []
    if inst.importance is not None:
        want = {f"I_{d}": inst.importance.source.replace("{dimension}", d) for d in inst.dimensions}
        got = {c: locate(c, pat) for c, pat in want.items()}
        absent = [c for c, g in got.items() if g is None]
        if not (inst.importance.optional and len(absent) == len(want)):
            missing_cols += absent
            imp_cols = [c for c, g in got.items() if g is not None]
    other: dict[str, ColumnSpec] = {}
    for name, spec in inst.columns.items():
        looked_for[name] = spec.source or name
        if locate(name, spec.source or name) is not None:
            other[name] = spec
        elif spec.required and not (name == "quarter" and "survey_date" in rename.values()):
            missing_cols.append(name)
    if missing_cols:
        unclaimed = [h for h in headers if h not in claimed]
        hints = []
        for c in missing_cols[:4]:
            near = _closest_headers(looked_for.get(c, c), unclaimed)
            hints.append(f"{c} (looked for {looked_for.get(c, c)!r}"
                         + (f"; closest headers: {', '.join(repr(h[:50]) for h in near)})" if near else
                            "; no similar header)"))
        more = f"; and {len(missing_cols) - 4} more" if len(missing_cols) > 4 else ""
        chk.add("missing_column", f"required columns are missing: {', '.join(missing_cols)}. "
                                  f"{'; '.join(hints)}{more}. Say where each is found with source: in the "
                                  "instrument file (or draft one with `sqm instrument draft`)")
    if len(raw) == 0:
        chk.add("empty", "the file has a header but no answers")
    if missing_cols or len(raw) == 0:
        raise SQMDataError(src.path, chk.problems)

    df = raw.rename(columns=rename)
    if sample_only or (len(df) > 2 * SAMPLE_ROWS and not first_rows_checked):  # stop early on non-survey data
        _check_sample(df, other, item_cols, inst, src)
        if sample_only:
            return None
    code_counts: dict = {}
    out: dict[str, pd.Series] = {}
    for name, spec in other.items():
        out[name] = _convert(df, name, spec, chk, code_counts)
    reflected = []
    reverse = set(inst.reverse_columns())
    for c in item_cols:
        lo, hi = inst.block_scale(inst.block_of(c))
        out[c] = _ratings(df[c], c, lo, hi, _item_codes(c, inst, chk), chk, code_counts)
        if c in reverse:  # scored so that a higher number is always the better answer
            out[c] = lo + hi - out[c]
            reflected.append(c)
    for c in imp_cols:
        out[c] = _numeric(df[c], c, chk)
        neg = (out[c] < 0).to_numpy()
        if neg.any():
            chk.add("out_of_range", "negative importance points", c, neg, out[c][neg].head(6).tolist())
    if imp_cols:
        pts = pd.DataFrame({c: out[c] for c in imp_cols})
        answered = pts.notna().sum(axis=1).to_numpy()
        partial = (answered > 0) & (answered < len(imp_cols))
        if partial.any():
            chk.add("importance_incomplete", "importance points given for some dimensions but not all",
                    ", ".join(imp_cols), partial)
        total = pts.sum(axis=1, min_count=1).to_numpy()
        off = (answered == len(imp_cols)) & (np.abs(total - inst.importance.total) > 1e-9)
        if off.any():
            chk.add("importance_sum", f"importance points do not sum to {_plain(inst.importance.total)}",
                    ", ".join(imp_cols), off, total[off][:6])
            if errors == "coerce":
                for c in imp_cols:
                    out[c] = out[c].where(~off)
    if "respondent_id" not in out:
        out["respondent_id"] = pd.Series(
            [str(i + src.header_rows + 1) for i in range(len(df))], index=df.index, dtype=object)
    if "quarter" not in out and "survey_date" in out:
        d = out["survey_date"]
        out["quarter"] = (d.dt.year.astype("Int64").astype(str) + "Q" + d.dt.quarter.astype("Int64").astype(str)
                          ).where(d.notna(), None).astype(object)
    lead = [c for c in ("respondent_id", "customer_id", "survey_date", "quarter") if c in out]
    order = lead + [c for c in out if c not in lead]
    result = pd.concat([out[c].rename(c) for c in order], axis=1)
    rest = [c for c in df.columns if c not in result.columns]
    if rest:
        result = pd.concat([result, df[rest]], axis=1)
    meta = {"source": src.path, "format": src.format, "encoding": src.encoding, "sha256": src.sha256,
            "instrument": inst.name, "missing_codes": code_counts, "n_rows_file": int(len(df)),
            "reflected": reflected, "columns_found": {k: v for k, v in rename.items() if k != v}}
    return _finish(result, chk, errors, meta)


# ---------------------------------------------------------------------------------------------------------
# Customers, interactions, standards, management survey
# ---------------------------------------------------------------------------------------------------------
def _spec(name, type="text", required=True, **kw) -> ColumnSpec:
    return ColumnSpec(name=name, type=type, required=required, **kw)


CUSTOMER_COLUMNS = (
    _spec("customer_id", "id"),
    _spec("signup_date", "date"),
    _spec("plan", "category"),
    _spec("monthly_charges", "number", min=0),
    _spec("region", "category"),
    _spec("churned", "bool"),
    _spec("churn_date", "date", required=False),
)
INTERACTION_COLUMNS = (
    _spec("ticket_id", "id"),
    _spec("customer_id", "text"),
    _spec("opened_at", "date"),
    _spec("first_response_at", "date"),
    _spec("closed_at", "date"),
    _spec("channel", "category"),
    _spec("category", "category"),
    _spec("severity", "category"),
    _spec("first_contact_resolved", "bool"),
    _spec("department", "category"),
    _spec("text", "text", required=False),
    _spec("type", "category", required=False),
    _spec("region", "category", required=False),
    _spec("store", "category", required=False),
    _spec("wait_seconds", "number", required=False, min=0),
    _spec("error", "bool", required=False),
)
STANDARD_COLUMNS = (
    _spec("kpi", "text"),
    _spec("severity", "category", required=False),
    _spec("target", "number"),
    _spec("unit", "category"),
    _spec("direction", "category"),
    _spec("description", "text", required=False),
)
DIRECTIONS = ("at_most", "at_least")


def _load_table(path, columns: tuple[ColumnSpec, ...], *, encoding=None, sheet=0, errors="raise",
                extra_checks=None, extra_specs: tuple[ColumnSpec, ...] = ()) -> pd.DataFrame:
    _check_errors_arg(errors)
    raw, src = read_table(path, encoding=encoding, sheet=sheet)
    chk = _Checker(src)
    specs = columns + extra_specs
    missing = [c.name for c in specs if c.required and c.name not in raw.columns]
    if missing:
        chk.add("missing_column", f"required columns are missing: {', '.join(missing)}")
    if len(raw) == 0:
        chk.add("empty", "the file has a header but no rows")
    if chk.problems:
        raise SQMDataError(src.path, chk.problems)
    code_counts: dict = {}
    out = {c.name: _convert(raw, c.name, c, chk, code_counts) for c in specs if c.name in raw.columns}
    known = set(out)
    result = pd.concat([pd.DataFrame(out, index=raw.index), raw[[c for c in raw.columns if c not in known]]],
                       axis=1)
    if extra_checks is not None:
        extra_checks(result, chk)
    meta = {"source": src.path, "format": src.format, "encoding": src.encoding, "sha256": src.sha256,
            "missing_codes": code_counts, "n_rows_file": int(len(raw))}
    return _finish(result, chk, errors, meta)


def load_customers(path, *, encoding=None, sheet=0, errors="raise") -> pd.DataFrame:
    """Load the customer table: ``customer_id``, ``signup_date``, ``plan``, ``monthly_charges``, ``region``,
    ``churned`` (yes/no, 1/0, true/false) and ``churn_date`` (blank while active).

    Besides the column checks, a churned customer needs a churn date, an active one must not have one, and
    no churn date may fall before the signup date. See :func:`load_survey` for ``errors``.
    """

    def checks(df, chk):
        if "churn_date" not in df:
            return
        churned = df["churned"].fillna(False).to_numpy(dtype=bool)
        has_date = df["churn_date"].notna().to_numpy()
        if (churned & ~has_date).any():
            chk.add("inconsistent", "churned customers without a churn_date", "churn_date", churned & ~has_date)
        if (~churned & has_date).any():
            chk.add("inconsistent", "customers not churned but with a churn_date", "churn_date",
                    ~churned & has_date)
        before = (df["churn_date"] < df["signup_date"]).to_numpy()
        if before.any():
            chk.add("inconsistent", "churn_date before signup_date", "churn_date", before)

    return _load_table(path, CUSTOMER_COLUMNS, encoding=encoding, sheet=sheet, errors=errors,
                       extra_checks=checks)


def load_interactions(path, *, encoding=None, sheet=0, errors="raise") -> pd.DataFrame:
    """Load interactions and complaints: one row a ticket (see ``data/README.md`` for the columns).

    A first response or closure before the ticket was opened is reported as a problem.
    """

    def checks(df, chk):
        for col in ("first_response_at", "closed_at"):
            early = (df[col] < df["opened_at"]).to_numpy()
            if early.any():
                chk.add("inconsistent", f"{col} before opened_at", col, early)

    return _load_table(path, INTERACTION_COLUMNS, encoding=encoding, sheet=sheet, errors=errors,
                       extra_checks=checks)


def load_standards(path, *, encoding=None, sheet=0, errors="raise") -> pd.DataFrame:
    """Load service standards: ``kpi``, optional ``severity``, ``target``, ``unit``, ``direction``
    (``at_most`` or ``at_least``) and ``description``."""

    def checks(df, chk):
        bad = ~df["direction"].isin(DIRECTIONS).to_numpy()
        if bad.any():
            chk.add("bad_value", f"direction must be one of {', '.join(DIRECTIONS)}", "direction", bad,
                    df["direction"][bad].tolist())
        key = df[["kpi"]].assign(severity=df.get("severity", pd.Series(None, index=df.index)).fillna(""))
        dup = key.duplicated(keep=False).to_numpy()
        if dup.any():
            chk.add("duplicate_id", "the same KPI and severity appear twice", "kpi", dup, df["kpi"][dup].tolist())

    return _load_table(path, STANDARD_COLUMNS, encoding=encoding, sheet=sheet, errors=errors,
                       extra_checks=checks)


def load_management(path, instrument: "str | Path | Instrument" = "servqual", *, encoding=None, sheet=0,
                    errors="raise") -> pd.DataFrame:
    """Load the management survey: one row a manager with ``manager_id`` and the manager's estimate of what
    customers expect for every item (``E01`` … on the instrument's scale); ``store`` and ``region`` optional.
    Used for gap 1 of the gaps model."""
    inst = load_instrument(instrument)
    item_specs = tuple(
        ColumnSpec(name=c, type="rating", required=True, min=inst.scale_min, max=inst.scale_max,
                   missing_codes=inst.missing_codes)
        for c in inst.item_columns("E" if "E" in inst.blocks else next(iter(inst.blocks)))
    )
    cols = (_spec("manager_id", "id"), _spec("store", "category", required=False),
            _spec("region", "category", required=False))
    return _load_table(path, cols, encoding=encoding, sheet=sheet, errors=errors, extra_specs=item_specs)


# ---------------------------------------------------------------------------------------------------------
# A data folder
# ---------------------------------------------------------------------------------------------------------
TABLES = ("survey", "customers", "interactions", "standards", "management")


def find_table(data_dir: str | Path, name: str) -> Path | None:
    """The file ``<name>.<ext>`` in ``data_dir`` for a supported extension, or None.

    Raises
    ------
    SQMDataError
        If two files of that name exist (``survey.csv`` and ``survey.xlsx``): which one is meant is unclear.
    """
    data_dir = Path(data_dir)
    found = [data_dir / f"{name}{s}" for s in SUPPORTED_SUFFIXES if (data_dir / f"{name}{s}").exists()]
    if len(found) > 1:
        raise SQMDataError(str(data_dir), [Problem("ambiguous_file", f"several {name} files: "
                                                   f"{', '.join(p.name for p in found)}; keep one")])
    return found[0] if found else None


def dataset_instrument(data_dir: str | Path, instrument: "str | Path | Instrument | None" = None) -> Instrument:
    """The instrument for a data folder: the one given, else ``instrument.yaml`` in the folder, else SERVQUAL."""
    if instrument not in (None, ""):
        return load_instrument(instrument)
    own = Path(data_dir) / "instrument.yaml"
    return load_instrument(own if own.exists() else "servqual")


def input_files(data_dir: str | Path) -> list[Path]:
    """Every file of a data folder, sorted (for checksums in provenance records)."""
    return sorted(p for p in Path(data_dir).rglob("*") if p.is_file() and not p.name.startswith("."))


def survey_quarters(path: str | Path, instrument: "str | Path | Instrument" = "servqual", *,
                    encoding: str | None = None) -> list[str]:
    """The quarters in a survey file, read from its ``quarter`` (or ``survey_date``) column alone.

    Only that column is parsed (for CSV and Parquet files), so finding the default quarter of a report costs a
    fraction of a full load; the values are checked as :func:`load_survey` checks them. A survey without
    either column gives ``[]``.
    """
    inst = load_instrument(instrument)
    path = Path(path)
    wanted = {"quarter": (inst.columns["quarter"].source if "quarter" in inst.columns else None) or "quarter",
              "survey_date": (inst.columns["survey_date"].source if "survey_date" in inst.columns else None)
              or "survey_date"}
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv", ".parquet", ".pq"):
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            headers = [str(c) for c in pq.read_schema(path).names]
        else:
            raw, _ = read_table(path, encoding=encoding, strip=False, nrows=5)
            headers = list(raw.columns)
        found = {k: find_column(headers, pat) for k, pat in wanted.items()}
        use = found["quarter"][:1] or found["survey_date"][:1]
        if not use:
            return []
        raw, src = read_table(path, encoding=encoding, usecols=use)
    else:
        raw, src = read_table(path, encoding=encoding)
        headers = list(raw.columns)
        found = {k: find_column(headers, pat) for k, pat in wanted.items()}
    chk = _Checker(src)
    if found["quarter"]:
        q = _quarters(raw[found["quarter"][0]], "quarter", chk)
    elif found["survey_date"]:
        d = _dates(raw[found["survey_date"][0]], "survey_date", chk)
        q = quarter_of(d)
    else:
        return []
    if chk.problems:
        raise SQMDataError(src.path, chk.problems)
    return sorted(set(q.dropna()))


def latest_quarter(data_dir: str | Path, instrument: "str | Path | Instrument | None" = None) -> str:
    """The latest quarter found in a data folder's survey (its ``quarter`` column, or ``survey_date``), read
    from that column alone (:func:`survey_quarters`)."""
    path = find_table(data_dir, "survey")
    if path is None:
        raise SQMDataError(str(data_dir), [Problem("missing_file", "no survey file (survey.csv, .xlsx, "
                                                                   ".parquet or .sav) in the data folder")])
    quarters = survey_quarters(path, dataset_instrument(data_dir, instrument))
    if not quarters:
        raise SQMDataError(str(path), [Problem("bad_quarter", "no quarter can be read from the survey")])
    return quarters[-1]


# ---------------------------------------------------------------------------------------------------------
# The data folder object
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DataFolder:
    """A data folder read once and checked once: its tables (each optional), the instrument that describes
    the survey, and what each loader recorded about its file.

    Build it with :func:`load_folder`. Methods return new ``DataFolder`` objects and never change this one:
    :meth:`until` keeps what happened before a quarter's end, :meth:`without_careless` leaves out
    straight-liners and too-fast respondents.

    Attributes
    ----------
    path : Path
        The folder (or the survey file's folder when only a survey file was given).
    instrument : Instrument
    survey, customers, interactions, standards, management : DataFrame or None
    files : mapping
        Table name → the file it was read from.
    sources : mapping
        Table name → what the loader recorded: format, encoding, SHA-256, counts of declared missing codes
        per column, the problems found (with ``errors="coerce"``) and the rows in the file.
    careless_dropped : int
        Respondents left out by :meth:`without_careless` (0 before).
    """

    path: Path
    instrument: Instrument
    survey: pd.DataFrame | None = None
    customers: pd.DataFrame | None = None
    interactions: pd.DataFrame | None = None
    standards: pd.DataFrame | None = None
    management: pd.DataFrame | None = None
    files: Mapping[str, Path] = field(default_factory=dict)
    sources: Mapping[str, Mapping] = field(default_factory=dict)
    careless_dropped: int = 0

    # ---- what is there -------------------------------------------------------------------------------
    def has(self, *names: str) -> bool:
        """Whether every named table is present."""
        return all(getattr(self, n) is not None for n in names)

    def missing(self, *names: str) -> list[str]:
        """The named tables that are absent."""
        return [n for n in names if getattr(self, n) is None]

    def require(self, *names: str, purpose: str = "this analysis") -> None:
        """Raise :class:`SQMDataError` naming the absent tables that ``purpose`` needs."""
        absent = self.missing(*names)
        if absent:
            raise SQMDataError(str(self.path), [Problem("missing_file", f"{purpose} needs the {', '.join(absent)} "
                                                                        f"table(s), which the folder lacks")])

    @property
    def quarters(self) -> list[str]:
        """The survey's quarters, sorted (``[]`` for a survey without dates or without a survey)."""
        if self.survey is None or "quarter" not in self.survey.columns:
            return []
        return sorted(set(self.survey["quarter"].dropna()))

    @property
    def latest_quarter(self) -> str:
        """The latest quarter of the survey ("" when it has none: a one-off study)."""
        q = self.quarters
        return q[-1] if q else ""

    def quarter(self, quarter: str = "") -> str:
        """``quarter`` checked against the survey, or the latest when "" (``""`` for a survey without
        quarters). A quarter the survey does not hold raises :class:`SQMArgumentError`."""
        if not quarter:
            return self.latest_quarter
        check_quarter(quarter)
        if self.survey is not None and self.quarters and quarter not in self.quarters:
            raise SQMArgumentError(f"no respondents in quarter {quarter!r} (the survey has "
                                   f"{', '.join(self.quarters)})")
        if self.survey is not None and not self.quarters:
            raise SQMArgumentError(f"quarter {quarter!r} asked for, but the survey has no quarter or survey_date "
                                   "column")
        return quarter

    def survey_of(self, quarter: str = "") -> pd.DataFrame:
        """The respondents of a quarter (all of them for a survey without quarters)."""
        self.require("survey")
        q = self.quarter(quarter)
        return self.survey[self.survey["quarter"] == q] if q else self.survey

    def segment_column(self, requested: str) -> str:
        """The segment column to compare: ``requested`` when the survey has it; otherwise (or for ``"auto"``)
        the first of the instrument's segments the survey has with two or more groups; "" when it has none (or
        "" was asked for)."""
        if not requested or self.survey is None:
            return ""
        if requested != "auto" and requested in self.survey.columns:
            return requested
        present = self.instrument.segments_in(self.survey)
        return present[0] if present else ""

    # ---- derived folders ------------------------------------------------------------------------------
    def until(self, quarter: str) -> "DataFolder":
        """What was known at the end of ``quarter``: survey answers and tickets dated before the next quarter's
        first day (customers, standards and management answers are kept whole)."""
        end = quarter_end(quarter)
        survey, tickets = self.survey, self.interactions
        if survey is not None and "survey_date" in survey.columns:
            survey = survey[survey["survey_date"] < end]
        if tickets is not None:
            tickets = tickets[tickets["opened_at"] < end]
        return replace(self, survey=survey, interactions=tickets)

    def without_careless(self, min_seconds: float | None = None) -> "DataFolder":
        """The folder without straight-liners and too-fast respondents (see :func:`sqmlib.audit.careless`)."""
        if self.survey is None:
            return self
        keep = ~careless(self.survey, self.instrument, min_seconds)
        return replace(self, survey=self.survey[keep], careless_dropped=self.careless_dropped + int((~keep).sum()))

    def with_survey(self, survey: pd.DataFrame) -> "DataFolder":
        """The same folder with another survey table (e.g. one segment's respondents)."""
        return replace(self, survey=survey)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables present, by name."""
        return {n: getattr(self, n) for n in TABLES if getattr(self, n) is not None}

    def describe(self) -> pd.DataFrame:
        """One row per table: file, rows, columns."""
        rows = [{"table": n, "file": self.files[n].name if n in self.files else "", "rows": len(t),
                 "columns": t.shape[1]} for n, t in self.tables().items()]
        return pd.DataFrame(rows, columns=["table", "file", "rows", "columns"]).set_index("table")

    def _repr_html_(self) -> str:
        import html as _html

        return (f"<p>Data folder <code>{_html.escape(str(self.path))}</code>, instrument "
                f"{_html.escape(self.instrument.name)}</p>" + self.describe().to_html())


def load_folder(path: str | Path | None = None, instrument: "str | Path | Instrument | None" = None, *,
                survey_file: str | Path | None = None, encoding: str | None = None, errors: str = "raise",
                tables: Iterable[str] = TABLES) -> DataFolder:
    """Read a data folder once: ``survey``, ``customers``, ``interactions``, ``standards`` and ``management``
    (each optional, each as CSV, Excel, Parquet or SPSS), validated by their loaders.

    Parameters
    ----------
    path : path, optional
        The data folder; default the bundled sample (``data/sample``). Relative paths are taken from the
        project root.
    instrument : name, path or Instrument, optional
        Default: ``instrument.yaml`` in the folder, else SERVQUAL.
    survey_file : path, optional
        A survey file elsewhere. Without ``path`` only that survey is read (no other tables).
    encoding : str, optional
        Encoding of the survey CSV (detected when omitted).
    errors : {"raise", "coerce"}
        For the survey: stop on invalid values, or set them missing and record them in ``sources``.
    tables : names
        The tables to read (default all five).

    Returns
    -------
    DataFolder

    Raises
    ------
    SQMDataError
        A file cannot be used (every problem of that file at once), or the folder does not exist.

    Examples
    --------
    >>> folder = load_folder()                      # the bundled sample
    >>> folder.latest_quarter, folder.has("customers")
    ('2026Q3', True)
    >>> recent = folder.until("2026Q2").without_careless()
    """
    _check_errors_arg(errors)
    given_folder = path not in (None, "")
    data_path = resolve(path, SAMPLE_DIR)
    survey_path = resolve(survey_file) if survey_file not in (None, "") else None
    if survey_path is not None and not given_folder:
        data_path = survey_path.parent
    if survey_path is None and not data_path.is_dir():
        raise SQMDataError(str(data_path), [Problem("missing_file", "data folder not found")])
    inst = dataset_instrument(data_path, instrument)
    wanted = list(tables)
    unknown = [t for t in wanted if t not in TABLES]
    if unknown:
        raise SQMArgumentError(f"unknown table(s) {unknown}; the tables are {', '.join(TABLES)}")
    files: dict[str, Path] = {}
    for name in wanted:
        if name == "survey" and survey_path is not None:
            files[name] = survey_path
        elif survey_path is None or given_folder:
            found = find_table(data_path, name)
            if found is not None:
                files[name] = found
    loaded: dict[str, pd.DataFrame] = {}
    sources: dict[str, Mapping] = {}
    for name, file in files.items():
        if name == "survey":
            df = load_survey(file, inst, encoding=encoding, errors=errors)
        elif name == "management":
            df = load_management(file, inst)
        else:
            df = {"customers": load_customers, "interactions": load_interactions,
                  "standards": load_standards}[name](file)
        sources[name] = dict(df.attrs.get("sqm", {}))
        loaded[name] = df
    labels.register_instrument(inst)  # pages show this instrument's wording for its items, dimensions, segments
    return DataFolder(data_path, inst, files=files, sources=sources, **loaded)
