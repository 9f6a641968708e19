"""A data folder: its files, its instrument, its quarters, and the DataFolder read once and checked once."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from .careless import careless
from ..errors import Problem, SQMArgumentError, SQMDataError
from ..instruments import Instrument
from ..instruments import load as load_instrument
from ..paths import SAMPLE_DIR, resolve
from ..periods import check_quarter, quarter_end, quarter_of
from .checks import _check_errors_arg, _Checker, _dates, _quarters, find_column
from .readers import read_table
from .sources import SUPPORTED_SUFFIXES
from .survey import load_survey, plausible_survey_dates
from .tables import load_customers, load_interactions, load_management, load_standards
from .actions import check_actions, load_actions
from .feedback import load_feedback
from .transactions import check_value_tables, load_campaigns, load_transactions
from .visits import check_visits, load_calibration, load_visit_items, load_visits

# A data folder
# ---------------------------------------------------------------------------------------------------------
VISIT_TABLES = ("visits", "visit_items", "calibration")
NO_CHECKLIST = ("the instrument has no checklist: section describing the audit visits' items, so the visit files "
                "were not read")
TABLES = ("survey", "customers", "interactions", "standards", "management", "visits", "visit_items", "calibration",
          "actions", "transactions", "campaigns", "feedback")


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


def find_survey(data_dir: str | Path, instrument: Instrument) -> Path | None:
    """The survey file of a data folder: ``survey.<ext>``, else the first of the instrument's survey files (a
    survey in several files, joined on an id when it is loaded); None when there is none."""
    found = find_table(data_dir, "survey")
    if found is None and instrument.survey_files:
        found = Path(data_dir) / instrument.survey_files[0]
    return found


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
    encoding = encoding or inst.encoding  # as load_survey reads it
    path = Path(path)
    if inst.survey_files:  # several files joined on an id: the quarters of the joined respondents
        s = load_survey(path, inst, encoding=encoding)
        return sorted(set(s["quarter"].dropna())) if "quarter" in s else []
    wanted = {"quarter": (inst.columns["quarter"].source if "quarter" in inst.columns else None) or "quarter",
              "survey_date": (inst.columns["survey_date"].source if "survey_date" in inst.columns else None)
              or "survey_date"}
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv", ".parquet", ".pq"):
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            headers = [str(c) for c in pq.read_schema(path).names]
        else:
            raw, _ = read_table(path, encoding=encoding, strip=False, nrows=5, header_row=inst.header_row)
            headers = list(raw.columns)
        found = {k: find_column(headers, pat) for k, pat in wanted.items()}
        use = found["quarter"][:1] or found["survey_date"][:1]
        if not use:
            return []
        raw, src = read_table(path, encoding=encoding, usecols=use, header_row=inst.header_row)
    else:
        raw, src = read_table(path, encoding=encoding, sheet=inst.sheet, header_row=inst.header_row)
        headers = list(raw.columns)
        found = {k: find_column(headers, pat) for k, pat in wanted.items()}
    chk = _Checker(src)
    if found["quarter"]:
        q = _quarters(raw[found["quarter"][0]], "quarter", chk)
    elif found["survey_date"]:
        d = _dates(raw[found["survey_date"][0]], "survey_date", chk)
        q = quarter_of(d.where(plausible_survey_dates(d)))  # the others are load_survey's problem
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
    visits, visit_items, calibration : DataFrame or None
        Mystery shopping: audit visits, their checklist answers, shoppers' calibration visits.
    actions : DataFrame or None
        The PDCA action register (:func:`sqmlib.io.actions.load_actions`).
    transactions, campaigns : DataFrame or None
        Orders and retention campaigns (:mod:`sqmlib.io.transactions`).
    feedback : DataFrame or None
        Reviews, call notes and survey comments (:mod:`sqmlib.io.feedback`).
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
    visits: pd.DataFrame | None = None
    visit_items: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None
    actions: pd.DataFrame | None = None  # the PDCA action register
    transactions: pd.DataFrame | None = None  # orders (customer value: RFM, lifetime value)
    campaigns: pd.DataFrame | None = None  # retention campaigns with a random control group (uplift)
    feedback: pd.DataFrame | None = None  # reviews, call notes and comments (voice of the customer)
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
        """What was known at the end of ``quarter``: survey answers, tickets, audit visits and orders dated before
        the next quarter's first day (customers, standards, management answers, calibration visits, the action
        register and campaigns are kept whole)."""
        end = quarter_end(quarter)
        survey, tickets, visits, items = self.survey, self.interactions, self.visits, self.visit_items
        if survey is not None and "survey_date" in survey.columns:
            survey = survey[survey["survey_date"] < end]
        if tickets is not None:
            tickets = tickets[tickets["opened_at"] < end]
        if visits is not None:
            visits = visits[visits["visit_date"] < end]
            items = items[items["visit_id"].isin(set(visits["visit_id"]))] if items is not None else None
        orders, notes = self.transactions, self.feedback
        if orders is not None:
            orders = orders[orders["order_time"] < end]
        if notes is not None:
            notes = notes[notes["created_at"] < end]
        return replace(self, survey=survey, interactions=tickets, visits=visits, visit_items=items,
                       transactions=orders, feedback=notes)

    def without_careless(self, min_seconds: float | None = None) -> "DataFolder":
        """The folder without straight-liners and too-fast respondents (see :func:`sqmlib.io.careless.careless`)."""
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


# tables shared by the notebooks of one report build (see share_folders): key -> DataFrame as loaded
_SHARED: dict = {"key": None, "tables": {}}


def share_folders(key: str | None) -> None:
    """Share loaded tables between the notebooks of one report build: while ``key`` (the build's input
    checksums) stays the same, :func:`load_folder` reads each file once and hands every later caller a copy of
    what it read. A new key forgets the tables; None stops sharing. The report runner calls this in its kernel
    before each notebook (:func:`sqmlib.runner.session.fresh_start`); nothing else needs to."""
    if key != _SHARED["key"]:
        _SHARED["tables"].clear()
    _SHARED["key"] = key


def load_folder(path: str | Path | None = None, instrument: "str | Path | Instrument | None" = None, *,
                survey_file: str | Path | None = None, encoding: str | None = None, errors: str = "raise",
                tables: Iterable[str] = TABLES) -> DataFolder:
    """Read a data folder once: ``survey``, ``customers``, ``interactions``, ``standards``, ``management`` and the
    mystery-shopping ``visits``, ``visit_items`` and ``calibration`` (each optional, each as CSV, Excel, Parquet or
    SPSS), validated by their loaders (the visit files also together, :func:`sqmlib.io.visits.check_visits`).
    Visit files in a folder whose instrument has no ``checklist:`` are not read (``sources`` records why): the
    other analyses run, and the mystery-shopping page says what is missing.

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
        The tables to read (default all).

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
            found = find_survey(data_path, inst) if name == "survey" else find_table(data_path, name)
            if found is not None:
                files[name] = found
    loaded: dict[str, pd.DataFrame] = {}
    sources: dict[str, Mapping] = {}
    if inst.checklist is None:  # audit visits without the checklist they answer: the mystery page says so
        for name in VISIT_TABLES:
            if name in files:
                sources[name] = {"source": str(files.pop(name)), "skipped": NO_CHECKLIST}
    for name, file in files.items():
        key = (name, str(Path(file).resolve()), str(inst.path), inst.name, encoding, errors)
        shared = _SHARED["tables"].get(key)
        if shared is not None:  # read earlier in this report build: a copy, so no notebook changes another's
            df = shared.copy(deep=True)
        else:
            if name == "survey":
                df = load_survey(file, inst, encoding=encoding, errors=errors)
            elif name == "management":
                df = load_management(file, inst)
            elif name in ("visit_items", "calibration"):
                df = (load_visit_items if name == "visit_items" else load_calibration)(file, inst.checklist)
            else:
                df = {"customers": load_customers, "interactions": load_interactions,
                      "standards": load_standards, "visits": load_visits, "actions": load_actions,
                      "transactions": load_transactions, "campaigns": load_campaigns,
                      "feedback": load_feedback}[name](file)
            if _SHARED["key"] is not None:
                _SHARED["tables"][key] = df.copy(deep=True)
        sources[name] = dict(df.attrs.get("sqm", {}))
        loaded[name] = df
    if {"visits", "visit_items"} <= set(wanted):
        check_visits(loaded.get("visits"), loaded.get("visit_items"), loaded.get("calibration"), files)
    if "customers" in loaded:
        check_value_tables(loaded.get("transactions"), loaded.get("campaigns"), loaded["customers"], files)
    if "actions" in loaded:
        check_actions(loaded["actions"], loaded, str(files["actions"]), wanted=wanted)
    return DataFolder(data_path, inst, files=files, sources=sources, **loaded)
