"""Quarters, months and weeks: bounds, the previous quarter, the months of a quarter, the period of a date.

Every module and notebook takes its period arithmetic from here. A quarter is written ``"YYYYQn"``
(``"2026Q3"``); a month ``"YYYY-MM"``; a week as ISO 8601 writes it, ``"YYYY-Www"`` (``"2026-W40"``, Monday to
Sunday). Bounds are half-open ``[start, end)``: ``end`` is the next period's
first day at midnight, so ``start <= t < end`` selects a period's timestamps exactly.
"""
from __future__ import annotations

import re

import pandas as pd

from .errors import SQMArgumentError

QUARTER_RE = re.compile(r"^\d{4}Q[1-4]$")
WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


def week_bounds(week: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(start, end)`` of an ISO week: its Monday and the next Monday (midnight).

    Examples
    --------
    >>> week_bounds("2026-W01")
    (Timestamp('2025-12-29 00:00:00'), Timestamp('2026-01-05 00:00:00'))
    """
    import datetime as dt

    m = WEEK_RE.match(str(week))
    try:
        monday = dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1) if m else None
    except ValueError:
        monday = None
    if monday is None:
        raise SQMArgumentError(f"week must look like 2026-W39 (an ISO week that exists), got {week!r}")
    start = pd.Timestamp(monday)
    return start, start + pd.Timedelta(days=7)


def week_of(when) -> str:
    """The ISO week of a timestamp: ``week_of("2026-01-01") == "2026-W01"``."""
    y, w, _ = pd.Timestamp(when).isocalendar()
    return f"{y:04d}-W{w:02d}"


def default_week(dates: pd.Series) -> str:
    """The week a weekly report covers by default: the last complete week of the data — the latest week whose
    Sunday is on or before the last day with data (data exported on a Monday morning report the week
    before) —, or the data's only week when none is complete."""
    last = pd.Timestamp(dates.max()).normalize()
    sunday = last - pd.Timedelta(days=(last.dayofweek + 1) % 7)  # the last Sunday on or before that day
    return week_of(sunday if sunday >= pd.Timestamp(dates.min()).normalize() else last)


def quarter_of_week(week: str) -> str:
    """The quarter a week's Sunday falls in (the quarterly report a week's issues belong to)."""
    return str(pd.Period(week_bounds(week)[1] - pd.Timedelta(days=1), freq="Q"))


def check_quarter(quarter: str) -> str:
    """``quarter`` itself when it looks like ``2026Q3``; otherwise :class:`SQMArgumentError`."""
    if not QUARTER_RE.match(str(quarter)):
        raise SQMArgumentError(f"quarter must look like 2026Q3, got {quarter!r}")
    return str(quarter)


def quarter_bounds(quarter: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(start, end)`` of a quarter: its first day and the next quarter's first day (midnight).

    Examples
    --------
    >>> quarter_bounds("2026Q3")
    (Timestamp('2026-07-01 00:00:00'), Timestamp('2026-10-01 00:00:00'))
    """
    p = pd.Period(check_quarter(quarter), freq="Q")
    # the next quarter's start, not end_time + 1 ns: end_time has microsecond resolution in pandas 3
    return p.start_time.normalize(), (p + 1).start_time.normalize()


def quarter_start(quarter: str) -> pd.Timestamp:
    """The first day of a quarter (the churn snapshot of that quarter)."""
    return quarter_bounds(quarter)[0]


def quarter_end(quarter: str) -> pd.Timestamp:
    """The first day after a quarter (exclusive end)."""
    return quarter_bounds(quarter)[1]


def last_day(quarter: str) -> pd.Timestamp:
    """The last calendar day of a quarter (midnight)."""
    return quarter_end(quarter) - pd.Timedelta(days=1)


def previous_quarter(quarter: str, k: int = 1) -> str:
    """The quarter ``k`` quarters before: ``previous_quarter("2026Q1") == "2025Q4"``."""
    return str(pd.Period(check_quarter(quarter), freq="Q") - k)


def next_quarter(quarter: str, k: int = 1) -> str:
    """The quarter ``k`` quarters after."""
    return str(pd.Period(check_quarter(quarter), freq="Q") + k)


def quarter_of(dates) -> pd.Series | str:
    """The quarter (``"YYYYQn"``) of a date, or of each date of a Series (missing dates stay missing)."""
    if isinstance(dates, pd.Series):
        return dates.dt.to_period("Q").astype(str).where(dates.notna(), None)
    return str(pd.Timestamp(dates).to_period("Q"))


def period_of(dates: pd.Series, freq: str) -> pd.Series:
    """Each date's period as text: ``freq="M"`` gives ``"2026-07"``, ``"Q"`` gives ``"2026Q3"``."""
    if freq not in ("M", "Q"):
        raise SQMArgumentError(f"freq must be 'M' (months) or 'Q' (quarters), got {freq!r}")
    return dates.dt.to_period(freq).astype(str)


def months(quarter: str) -> list[str]:
    """The three months of a quarter: ``months("2026Q3") == ["2026-07", "2026-08", "2026-09"]``."""
    start, end = quarter_bounds(quarter)
    return [str(p) for p in pd.period_range(start, end - pd.Timedelta(days=1), freq="M")]


def month_bounds(month: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(start, end)`` of a month ``"YYYY-MM"``."""
    p = pd.Period(month, freq="M")
    return p.start_time.normalize(), (p + 1).start_time.normalize()


def in_period(dates: pd.Series, start, end) -> pd.Series:
    """Boolean mask of ``start <= date < end``."""
    return (dates >= pd.Timestamp(start)) & (dates < pd.Timestamp(end))


def followed_up(quarter: str, horizon_days: int, observed_until) -> bool:
    """Whether every respondent of ``quarter`` can be followed for ``horizon_days`` by ``observed_until``."""
    return last_day(quarter) + pd.Timedelta(days=horizon_days) <= pd.Timestamp(observed_until)
