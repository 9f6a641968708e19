"""The validation engine every loader shares: converters per column type that collect every problem at once."""
from __future__ import annotations

import difflib
import fnmatch
import re
import unicodedata
import warnings
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..errors import Problem, SQMArgumentError, SQMDataError, SQMWarning
from ..instruments import ColumnSpec
from .sources import FALSE_WORDS, QUARTER_RE, TRUE_WORDS, SourceInfo


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
        if self.source.rows is not None:  # a table joined from several files: the first file's rows
            return tuple(self.source.rows[p] for p in pos[:5]), int(len(pos))
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


NOT_A_RATING = ("answers that are not numbers (a text that means no answer is declared under missing_codes in "
                "the instrument, e.g. \"N/A\": not applicable; answers given as option texts under the scale's "
                "labels)")


def _numeric(s: pd.Series, col: str, chk: _Checker, what: str = "answers that are not numbers") -> pd.Series:
    """Convert to float; non-empty cells that are not numbers are a problem (``what``) and become NaN."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    fast = _fast_float(s) if pd.api.types.is_string_dtype(s) else None
    if fast is not None:
        return fast.rename(s.name)
    blank = _blank(s)
    num = pd.to_numeric(s.where(~blank), errors="coerce").astype(float)
    bad = num.isna().to_numpy() & ~blank
    if bad.any():
        chk.add("non_numeric", what, col, bad, s[bad].head(6).tolist())
    return num


def answer_keys(s: pd.Series) -> pd.Series:
    """Cells as declared texts (missing codes, option labels) are matched to them: trimmed and case-blind
    (the rule of :func:`sqmlib.instruments.missing_code`); missing cells stay missing."""
    return s.astype(str).str.strip().str.casefold().where(s.notna())


def _option_texts(s: pd.Series, labels: Mapping) -> pd.Series:
    """Answers exported as option texts (问卷星's "按选项文本", Qualtrics' choice text) as their scale points,
    through the declared labels (point → text; matched as :func:`answer_keys`). A text that is neither a
    number nor a label is left as it is (:func:`_numeric` reports it)."""
    points = {}
    for code, text in labels.items():
        for t in (text if isinstance(text, (tuple, list)) else (text,)):  # a point may have several texts
            try:
                points[str(t).strip().casefold()] = float(code)
            except (TypeError, ValueError):
                continue
    if not points or pd.api.types.is_numeric_dtype(s):
        return s
    key = answer_keys(s)
    hit = key.isin(list(points)).to_numpy()
    if not hit.any():
        return s
    return s.astype(object).where(~hit, key.map(points))


def _ratings(s: pd.Series, col: str, lo: float, hi: float, codes: Mapping[float | str, str], chk: _Checker,
             code_counts: dict, whole: bool = True, labels: Mapping | None = None) -> pd.Series:
    if labels:
        s = _option_texts(s, labels)
    texts = {k: v for k, v in codes.items() if isinstance(k, str)}
    codes = {k: v for k, v in codes.items() if not isinstance(k, str)}
    found: dict[str, int] = {}
    if texts and not pd.api.types.is_numeric_dtype(s):  # "N/A", "不适用": missing of their kind, counted
        key = answer_keys(s)
        hit = key.isin(list(texts)).to_numpy()
        if hit.any():
            for k, n in key[hit].value_counts().items():
                found[texts[k]] = found.get(texts[k], 0) + int(n)
            s = s.mask(hit)
    num = _numeric(s, col, chk, NOT_A_RATING)
    v = num.to_numpy()
    if codes:
        is_code = np.isin(v, np.fromiter(codes, float))
        if is_code.any():
            counts = pd.Series(v[is_code]).value_counts()
            for k, n in counts.items():
                found[codes[float(k)]] = found.get(codes[float(k)], 0) + int(n)
            v = np.where(is_code, np.nan, v)
    if found:
        code_counts[col] = found
    out = ~np.isnan(v) & ((v < lo) | (v > hi))
    if out.any():
        shown = [str(_plain(k)) for k in codes] + [repr(k) for k in texts]
        declared = f"; declared missing codes are {', '.join(shown)}" if shown else ""
        chk.add("out_of_range", f"values outside the scale {_plain(lo)}–{_plain(hi)} that are not declared "
                                f"missing codes{declared}", col, out, v[out][:6])
        v = np.where(out, np.nan, v)
    if whole:
        frac = ~np.isnan(v) & (v != np.round(v))
        if frac.any():
            chk.add("not_whole", "answers that are not whole scale points", col, frac, v[frac][:6])
            v = np.where(frac, np.nan, v)
    return pd.Series(v, index=s.index, name=col)


EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # day 0 of Excel's serial dates (1900 system, after its leap-year bug)
EXCEL_SERIALS = (20_000, 80_000)  # 1954-10-03 … 2119-01-10: numbers in this range are serial dates


def _excel_serials(s: pd.Series, blank: np.ndarray) -> pd.Series | None:
    """Dates written as Excel serial numbers (46247.81 = 2026-08-13 19:26), when every filled cell is a number
    in :data:`EXCEL_SERIALS`; None otherwise."""
    num = pd.to_numeric(s.where(~blank), errors="coerce")
    filled = ~blank
    if not filled.any() or num[filled].isna().any():
        return None
    v = num[filled]
    if not ((v >= EXCEL_SERIALS[0]) & (v <= EXCEL_SERIALS[1])).all():
        return None
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    out[filled] = (EXCEL_EPOCH + pd.to_timedelta(v.to_numpy(float) * 86_400_000, unit="ms")).round("s")
    return out


def _dates(s: pd.Series, col: str, chk: _Checker) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    blank = _blank(s)
    serial = _excel_serials(s, blank)
    if serial is not None:
        return serial.rename(s.name)
    if pd.api.types.is_numeric_dtype(s):  # numbers that are not serial dates: not nanoseconds since 1970 either
        compact = pd.to_datetime(s.where(~blank).astype("Int64").astype(str), format="%Y%m%d", errors="coerce") \
            if (s[~blank] % 1 == 0).all() else None  # 20260813
        if compact is not None and compact[~blank].notna().all():
            return compact.rename(s.name)
        bad = ~blank
        if bad.any():
            chk.add("bad_date", "numbers where dates should be (and not Excel serial dates)", col, bad,
                    s[bad].head(6).tolist())
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]", name=s.name)
    txt = s.where(~blank)
    out = pd.to_datetime(txt, errors="coerce", format="ISO8601")
    retry = out.isna().to_numpy() & ~blank
    if retry.any():
        with warnings.catch_warnings():  # pandas/dateutil guessing formats: the unreadable ones are reported below
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
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
        return _ratings(s, col, spec.min, spec.max, codes, chk, code_counts, labels=spec.labels)
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
