"""Survey responses: the instrument applied to a raw export (columns found, scales checked, codes, reverse keys)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import Problem, SQMDataError
from ..instruments import ColumnSpec, Instrument
from ..instruments import load as load_instrument
from .checks import (
    _check_errors_arg,
    _Checker,
    _closest_headers,
    _convert,
    _finish,
    _numeric,
    _plain,
    _ratings,
    find_column,
)
from .readers import PREFIX_BYTES, header_rows_of, read_table
from .sources import SourceInfo

# Survey responses
# ---------------------------------------------------------------------------------------------------------
SAMPLE_ROWS = 5_000  # rows of a large file checked first
MOSTLY_INVALID = 0.5  # share of a column's rows with a problem that marks a file as not survey data


def _check_sample(df: pd.DataFrame, other: Mapping, item_cols: list[str], inst: Instrument, src: SourceInfo) -> None:
    """Validate the first rows of a large survey file; when most of them are invalid in some column, stop with
    those problems at once instead of validating (and holding) the whole file."""
    head = df.head(SAMPLE_ROWS)
    chk = _Checker(src)
    for name, spec in other.items():
        _convert(head, name, spec, chk, {})
    for c in item_cols:
        _ratings(head[c], c, *inst.block_scale(inst.block_of(c)), _item_codes(c, inst, chk), chk, {},
                 labels=inst.scale_labels)
    bad = [p for p in chk.problems if p.n_rows >= MOSTLY_INVALID * len(head)]
    if bad:
        note = Problem("not_survey_data", f"stopped after checking the first {len(head):,} of {len(df):,} rows: "
                                          f"{len(bad)} column(s) are invalid in most of them; is this the survey "
                                          "file, with the header the instrument describes?")
        raise SQMDataError(src.path, [note, *bad])
EARLIEST_SURVEY = pd.Timestamp("1990-01-01")


def plausible_survey_dates(d: pd.Series) -> pd.Series:
    """Which survey dates can be right: from 1990 up to today (an earlier or later one is a misread date —
    day and month swapped, a number taken for a date — never a quarter of its own); missing dates count as
    plausible."""
    today = pd.Timestamp.now().normalize() + pd.Timedelta(days=1)
    return d.isna() | ((d >= EARLIEST_SURVEY) & (d < today))


def _where_headers_are(src: SourceInfo, inst: Instrument, looked_for: Mapping[str, str]) -> str:
    """For a workbook or text file whose headers were not found where the instrument says: the sheet and row
    that hold most of them, as the instrument keys that point there ("" when no better place is found)."""
    if not (src.format.startswith("excel") or src.format.endswith("csv")) or src.path.lower().endswith(".xls"):
        return ""
    try:
        places = header_rows_of(Path(src.path), list(dict.fromkeys(looked_for.values())))
    except Exception:  # a file that cannot be scanned: the missing columns are reported as they are
        return ""
    if not places or places[0][2] == 0:
        sheets = [name for name, *_ in sorted(places, key=lambda f: f[3]) if name]
        return (f"No sheet of the workbook ({', '.join(repr(n) for n in sheets)}) holds the headers in its first "
                "30 rows. ") if sheets else ""
    name, row, hits, position = places[0]
    read = inst.sheet if inst.sheet is not None else 0
    if row == inst.header_row and (not name or read in (name, position)):
        return ""  # the headers are where they were looked for: the missing ones are missing
    keys = ([f"sheet: {name}"] if name else []) + ([f"header_row: {row}"] if row != 1 else [])
    where = (f"sheet {name!r}, row {row}" if name else f"row {row}")
    return (f"{hits} of the {len(set(looked_for.values()))} expected headers are on {where}: add "
            f"{' and '.join(keys)} to the instrument. ")


def _joined(path: Path, inst: Instrument, encoding, sheet, header_row) -> tuple[pd.DataFrame, SourceInfo, dict]:
    """The instrument's survey files (``survey: {files: [...], on: id}``, in the folder of ``path``) joined on
    their shared id: the respondents found in every file, in the first file's order (row numbers in problems
    are the first file's), and per file the ids found in no other (left out, reported by the data audit)."""
    folder = path if path.is_dir() else path.parent
    on = inst.survey_on
    frames, sources, problems = [], [], []
    for name in inst.survey_files:
        raw, src = read_table(folder / name, encoding=encoding, sheet=sheet, header_row=header_row)
        hits = find_column(list(raw.columns), on)
        if len(hits) != 1:
            problems.append(Problem("missing_column", f"{name} has no column {on!r} to join the survey files on",
                                    on))
            continue
        ids = raw[hits[0]].astype(str).str.strip()
        dup = (ids.duplicated(keep=False) & ids.ne("")).to_numpy()
        if dup.any():
            chk = _Checker(src)
            chk.add("duplicate_id", f"{name}: ids that occur more than once cannot be joined", on, dup, ids[dup])
            problems += chk.problems
        frames.append(raw.assign(**{hits[0]: ids}).rename(columns={hits[0]: on}))
        sources.append(src)
    if problems:
        raise SQMDataError(" + ".join(inst.survey_files), problems)
    common = set(frames[0][on])
    for f in frames[1:]:
        common &= set(f[on])
    unmatched = {name: {"n": len(set(f[on]) - common), "ids": sorted(set(f[on]) - common)[:5]}
                 for name, f in zip(inst.survey_files, frames) if set(f[on]) - common}
    kept = frames[0][on].isin(common).to_numpy()
    joined = frames[0][kept]
    for f in frames[1:]:
        extra = [c for c in f.columns if c not in joined.columns]  # a column in two files: the first file's
        joined = joined.merge(f[[on, *extra]], on=on, how="left", sort=False)
    first = sources[0]
    src = SourceInfo(" + ".join(str(s.path) for s in sources), first.format, first.encoding, first.header_rows,
                     first.sha256, {k: v for s in sources for k, v in s.value_labels.items()},
                     {k: v for s in sources for k, v in s.user_missing.items()},
                     rows=tuple(int(k) + first.header_rows + 1 for k in np.flatnonzero(kept)))
    return joined.reset_index(drop=True), src, unmatched


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
    if sheet in (0, None) and inst.sheet is not None:
        sheet = inst.sheet
    header_row = inst.header_row
    if inst.survey_files:  # one survey in several files, joined on the respondent's id
        raw, src, unmatched = _joined(Path(path), inst, encoding, sheet, header_row)
        out = _survey_frame(raw, src, inst, errors)
        out.attrs["sqm"]["unmatched"] = unmatched
        return out
    p = Path(path)
    if p.suffix.lower() in (".csv", ".txt", ".tsv") and p.is_file() and p.stat().st_size > PREFIX_BYTES:
        # a large text file: its first rows first, so that a wrong or garbled file stops within seconds
        head, head_src = read_table(p, encoding=encoding, nrows=SAMPLE_ROWS, header_row=header_row)
        _survey_frame(head, head_src, inst, "raise", sample_only=True)
        encoding = encoding or head_src.encoding
        raw, src = read_table(path, encoding=encoding, sheet=sheet, header_row=header_row)
        return _survey_frame(raw, src, inst, errors, first_rows_checked=True)
    raw, src = read_table(path, encoding=encoding, sheet=sheet, header_row=header_row)
    return _survey_frame(raw, src, inst, errors)


MAX_SEGMENT_VALUES = 30  # a segment column with more values keeps its most frequent ones and "(other)"
OTHER = "(other)"


def _collapse_segments(frame: pd.DataFrame, inst: Instrument) -> dict:
    """Segment columns with more than :data:`MAX_SEGMENT_VALUES` values keep the most frequent
    ``MAX_SEGMENT_VALUES − 1`` (ties by value) and put the rest under "(other)", in place: thousands of stores
    would otherwise make thousands of table columns, charts and per-segment models. Returns per column the
    values found, kept and the respondents moved, for the data audit."""
    out = {}
    for col in inst.segments:
        if col not in frame.columns:
            continue
        counts = frame[col].dropna().astype(str).value_counts()
        if len(counts) <= MAX_SEGMENT_VALUES:
            continue
        order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        keep = {v for v, _ in order[:MAX_SEGMENT_VALUES - 1]}
        values = frame[col].astype(object)
        moved = values.notna() & ~values.astype(str).isin(keep)
        frame[col] = values.where(~moved, OTHER)
        out[col] = {"values": int(len(counts)), "kept": len(keep), "respondents_other": int(moved.sum())}
    return out


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
    kano_cols: list[str] = []
    if inst.kano is not None:  # KANO pairs: both questions of an attribute, or neither
        absent_pairs = []
        for a in inst.kano.attributes:
            fc, dc = f"KF_{a.id}", f"KD_{a.id}"
            looked_for[fc], looked_for[dc] = a.functional_source, a.dysfunctional_source
            gf, gd = locate(fc, a.functional_source), locate(dc, a.dysfunctional_source)
            if gf is not None and gd is not None:
                kano_cols += [fc, dc]
            elif gf is None and gd is None:
                absent_pairs += [fc, dc]
            else:
                lack, pattern = (dc, a.dysfunctional_source) if gd is None else (fc, a.functional_source)
                half = "functional" if gf is not None else "dysfunctional"
                chk.add("kano_pair", f"KANO attribute {a.id!r} has its {half} question in the file but not the "
                                     f"other half of the pair (looked for {pattern!r}); a KANO answer needs both",
                        lack)
        if absent_pairs and not (inst.kano.optional and not kano_cols):
            missing_cols += absent_pairs
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
                                  f"{'; '.join(hints)}{more}. " + _where_headers_are(src, inst, looked_for)
                + "Say where each is found with source: in the instrument file (or draft one with "
                  "`sqm instrument draft`)")
    if len(raw) == 0:
        chk.add("empty", "the file has a header but no answers")
    if missing_cols or len(raw) == 0 or any(p.kind == "kano_pair" for p in chk.problems):
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
        out[c] = _ratings(df[c], c, lo, hi, _item_codes(c, inst, chk), chk, code_counts, labels=inst.scale_labels)
        if c in reverse:  # scored so that a higher number is always the better answer
            out[c] = lo + hi - out[c]
            reflected.append(c)
    for c in kano_cols:  # answers 1 like it … 5 dislike it, as codes or option texts
        out[c] = _ratings(df[c], c, 1, 5, _item_codes(c, inst, chk), chk, code_counts, labels=inst.kano.answers)
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
    if "survey_date" in out:  # a survey answered before 1990 or in the future is a misread date, not a quarter
        d = out["survey_date"]
        odd = (~plausible_survey_dates(d)).to_numpy()
        if odd.any():
            chk.add("implausible_date", f"survey dates before {EARLIEST_SURVEY:%Y} or after today (a date read "
                                        "wrongly, such as day and month swapped or a number taken for a date)",
                    "survey_date", odd, [str(v.date()) for v in d[odd].head(6)])
            out["survey_date"] = d.where(~odd)
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
    collapsed = _collapse_segments(result, inst)
    meta = {"source": src.path, "format": src.format, "encoding": src.encoding, "sha256": src.sha256,
            "instrument": inst.name, "missing_codes": code_counts, "n_rows_file": int(len(df)),
            "reflected": reflected, "columns_found": {k: v for k, v in rename.items() if k != v},
            "cleaned": {rename.get(k, k): dict(v) for k, v in (src.cleaned or {}).items()},
            "collapsed": collapsed}
    return _finish(result, chk, errors, meta)


# ---------------------------------------------------------------------------------------------------------
