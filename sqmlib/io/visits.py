"""Mystery shopping: audit visits, their checklist answers and the shoppers' calibration visits.

``visits`` (one row a visit), ``visit_items`` (one row an item checked on a visit) and the optional
``calibration`` (every shopper scoring the same staged or recorded visits, called cases). The answers are read
against the instrument's ``checklist:``: yes/no items take yes/no (是/否 and the like, 1/0) or "not applicable"
(不适用, n/a, -); rating items a number on their scale. :func:`check_visits` finds what only the files together
show (a visit without items, items of unknown visits, calibration by unknown shoppers);
:func:`visit_anomalies` what the data audit lists (visits entered twice, impossible times, a shopper visiting a
store twice in a quarter).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import Problem, SQMDataError
from ..instruments.checklist import NO, NOT_APPLICABLE, YES
from ..periods import quarter_of
from .tables import _load_table, _spec


VISIT_COLUMNS = (
    _spec("visit_id", "id"),
    _spec("store", "category"),
    _spec("region", "category"),
    _spec("shopper_id", "text"),
    _spec("visit_date", "date"),
    _spec("visit_time", "text", required=False),  # HH:MM (24-hour clock)
    _spec("channel", "category", required=False),  # in store, phone, online, WeChat
    _spec("scenario", "category", required=False),
    _spec("duration", "number", required=False, min=0),  # minutes
)
VISIT_ITEM_COLUMNS = (
    _spec("visit_id", "text"),
    _spec("item_id", "text"),
    _spec("response", "text", required=False),
    _spec("comment", "text", required=False),
)
CALIBRATION_COLUMNS = (
    _spec("shopper_id", "text"),
    _spec("case_id", "text"),
    _spec("item_id", "text"),
    _spec("response", "text", required=False),
)
_TIME = re.compile(r"^\s*(\d{1,2})[:：.](\d{2})(?:[:：.](\d{2}))?\s*$")


def _hours(s: pd.Series, chk) -> pd.Series:
    """Clock times (HH:MM) as hours of the day; impossible times (25:10, 9:75) are problems."""
    txt = s.astype(object).where(s.notna(), None).map(lambda v: None if v is None else str(v))
    parts = txt.str.extract(_TIME)
    h = pd.to_numeric(parts[0], errors="coerce")
    m = pd.to_numeric(parts[1], errors="coerce")
    bad = (txt.notna() & (parts[0].isna() | (h > 23) | (m > 59))).to_numpy()
    if bad.any():
        chk.add("bad_value", "visit_time is not a time of day (HH:MM, 00:00–23:59)", "visit_time", bad,
                txt[bad].head(6).tolist())
    return (h + m / 60).where(~pd.Series(bad, index=s.index))


def load_visits(path, *, encoding=None, sheet=0, errors="raise") -> pd.DataFrame:
    """Load audit visits: ``visit_id``, ``store``, ``region``, ``shopper_id``, ``visit_date``, and optionally
    ``visit_time`` (HH:MM), ``channel``, ``scenario`` and ``duration`` (minutes). Adds ``visit_hour`` (the time
    as hours, NaN when not given) and ``quarter``."""

    def checks(df, chk):
        if "visit_time" in df:
            df["visit_hour"] = _hours(df["visit_time"], chk)
        else:
            df["visit_hour"] = np.nan
        df["quarter"] = quarter_of(df["visit_date"])

    return _load_table(path, VISIT_COLUMNS, encoding=encoding, sheet=sheet, errors=errors, extra_checks=checks)


def _responses(df: pd.DataFrame, checklist, chk, file_label: str) -> None:
    """``value`` (0–1 for yes/no, the rating for rating items; NaN where not applicable or blank) and
    ``applicable`` from ``response``, checked against the checklist."""
    known = set(checklist.ids)
    unknown = ~df["item_id"].isin(known).to_numpy() & df["item_id"].notna().to_numpy()
    if unknown.any():
        chk.add("unknown_item", f"item ids not in the instrument's checklist (it has {', '.join(checklist.ids)})",
                "item_id", unknown, df["item_id"][unknown].head(6).tolist())
    resp = df["response"] if "response" in df else pd.Series(None, index=df.index, dtype=object)
    txt = resp.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip().casefold())
    is_na = txt.isin(NOT_APPLICABLE) | txt.isna()
    value = pd.Series(np.nan, index=df.index)
    yes_no = df["item_id"].isin({i.id for i in checklist.items if i.yes_no})
    y = txt.isin(YES)
    n = txt.isin(NO)
    value[yes_no & y] = 1.0
    value[yes_no & n] = 0.0
    bad = (yes_no & ~y & ~n & ~is_na).to_numpy()
    if bad.any():
        chk.add("bad_value", "answers to yes/no items that are neither yes, no nor not applicable", "response", bad,
                resp[bad].head(6).tolist())
    rated = ~yes_no & df["item_id"].isin(known) & ~is_na
    if rated.any():
        num = pd.to_numeric(txt[rated], errors="coerce")
        lo = df.loc[rated, "item_id"].map({i.id: i.scale[0] for i in checklist.items if i.scale})
        hi = df.loc[rated, "item_id"].map({i.id: i.scale[1] for i in checklist.items if i.scale})
        out = num.isna() | (num < lo) | (num > hi)
        mask = pd.Series(False, index=df.index)
        mask[out[out].index] = True
        if out.any():
            chk.add("out_of_range", "ratings that are not numbers on the item's scale", "response",
                    mask.to_numpy(), resp[mask].head(6).tolist())
        value[rated] = num.where(~out)
    key = ["shopper_id", "case_id", "item_id"] if "case_id" in df else ["visit_id", "item_id"]
    dup = df.duplicated(key, keep=False).to_numpy()
    if dup.any():
        chk.add("duplicate_id", f"the same item answered twice for one {file_label}", "item_id", dup,
                df["item_id"][dup].head(6).tolist())
    df["value"] = value
    df["applicable"] = ~is_na


def load_visit_items(path, checklist, *, encoding=None, sheet=0, errors="raise") -> pd.DataFrame:
    """Load the checklist answers of the visits: ``visit_id``, ``item_id``, ``response`` (yes/no/not applicable
    or a rating) and ``comment``. Adds ``value`` and ``applicable``."""
    if checklist is None:
        raise SQMDataError(str(path), [Problem("missing_checklist", "visit items need the checklist they answer: "
                                                                    "a checklist: section in the instrument")])
    return _load_table(path, VISIT_ITEM_COLUMNS, encoding=encoding, sheet=sheet, errors=errors,
                       extra_checks=lambda df, chk: _responses(df, checklist, chk, "visit"))


def load_calibration(path, checklist, *, encoding=None, sheet=0, errors="raise") -> pd.DataFrame:
    """Load calibration visits: ``shopper_id``, ``case_id`` (a staged or recorded visit every shopper scores),
    ``item_id`` and ``response``. Adds ``value`` and ``applicable``."""
    if checklist is None:
        raise SQMDataError(str(path), [Problem("missing_checklist", "calibration visits need the checklist they "
                                                                    "answer: a checklist: section in the instrument")])
    return _load_table(path, CALIBRATION_COLUMNS, encoding=encoding, sheet=sheet, errors=errors,
                       extra_checks=lambda df, chk: _responses(df, checklist, chk, "shopper and case"))


def _rows(df: pd.DataFrame, mask: np.ndarray, header_rows: int = 1) -> tuple[tuple[int, ...], int]:
    pos = np.flatnonzero(mask)
    return tuple(int(p) + header_rows + 1 for p in pos[:5]), int(len(pos))


def check_visits(visits: pd.DataFrame | None, items: pd.DataFrame | None, calibration: pd.DataFrame | None,
                 files: dict) -> None:
    """What the visit files show only together: a visit without items, items of visits not in ``visits``,
    calibration by shoppers who made no visit. Raises :class:`SQMDataError` naming the file (every problem of
    it at once); the items file without the visits file is a problem too."""
    if items is not None and visits is None:
        raise SQMDataError(str(files.get("visit_items", "visit_items")), [Problem(
            "missing_file", "visit items without the visits they belong to: add visits.csv (visit_id, store, "
                            "region, shopper_id, visit_date)")])
    if visits is None:
        return
    if items is None:
        raise SQMDataError(str(files.get("visits", "visits")), [Problem(
            "missing_file", "visits without their checklist answers: add visit_items.csv (visit_id, item_id, "
                            "response)")])
    empty = ~visits["visit_id"].isin(set(items["visit_id"])).to_numpy()
    if empty.any():
        rows, n = _rows(visits, empty)
        raise SQMDataError(str(files["visits"]), [Problem("no_items", "visits without any checklist answer in "
                                                          "visit_items", "visit_id",
                                                          tuple(visits["visit_id"][empty].head(6)), rows, n)])
    orphan = ~items["visit_id"].isin(set(visits["visit_id"])).to_numpy()
    if orphan.any():
        rows, n = _rows(items, orphan)
        raise SQMDataError(str(files["visit_items"]), [Problem("unknown_visit", "answers of visits not in visits",
                                                               "visit_id", tuple(dict.fromkeys(
                                                                   items["visit_id"][orphan].head(20)))[:6], rows, n)])
    if calibration is not None:
        strangers = ~calibration["shopper_id"].isin(set(visits["shopper_id"])).to_numpy()
        if strangers.any():
            rows, n = _rows(calibration, strangers)
            raise SQMDataError(str(files["calibration"]), [Problem(
                "unknown_shopper", "calibration by shoppers who made no visit in visits", "shopper_id",
                tuple(dict.fromkeys(calibration["shopper_id"][strangers]))[:6], rows, n)])


OPEN_HOURS = (7.0, 23.0)  # visits outside these hours are listed as unlikely times
MAX_MINUTES = 240  # a visit longer than this is listed


def visit_anomalies(visits: pd.DataFrame, data_end: pd.Timestamp | None = None) -> pd.DataFrame:
    """What the data audit lists about visits: ``duplicate_visit`` (one store, shopper, date and time under two
    ids), ``unlikely_time`` (before 07:00 or after 23:00, a duration of 0 or over four hours, a date after
    ``data_end``) and ``repeat_shopper`` (a shopper visiting one store more than once in a quarter: staff may
    recognise them). One row a visit and reason."""
    v = visits
    out = []
    key = [c for c in ("store", "shopper_id", "visit_date", "visit_time") if c in v]
    dup = v.duplicated(key, keep=False).to_numpy()
    out.append(v[dup].assign(kind="duplicate_visit", detail=v["visit_id"][dup].astype(str)))
    hour = v["visit_hour"] if "visit_hour" in v else pd.Series(np.nan, index=v.index)
    odd = ((hour < OPEN_HOURS[0]) | (hour >= OPEN_HOURS[1])).to_numpy()
    if "duration" in v:
        odd |= ((v["duration"] <= 0) | (v["duration"] > MAX_MINUTES)).to_numpy()
    if data_end is not None:
        odd |= (v["visit_date"] >= data_end).to_numpy()
    out.append(v[odd].assign(kind="unlikely_time", detail=v.get("visit_time", pd.Series("", index=v.index))[odd]
                             .fillna("").astype(str)))
    distinct = v.drop_duplicates(key).groupby(["store", "shopper_id", "quarter"], observed=True).size()
    again = distinct[distinct >= 2].index
    rep = pd.MultiIndex.from_frame(v[["store", "shopper_id", "quarter"]]).isin(again)
    out.append(v[rep].assign(kind="repeat_shopper", detail=v["quarter"][rep].astype(str)))
    cols = ["kind", "visit_id", "store", "shopper_id", "visit_date", "detail"]
    return pd.concat(out)[cols].reset_index(drop=True) if out else pd.DataFrame(columns=cols)
