"""Quarters and months: bounds, the previous quarter, the months of a quarter, the period of a date.

Every module and notebook takes its period arithmetic from here. A quarter is written ``"YYYYQn"``
(``"2026Q3"``); a month ``"YYYY-MM"``. Bounds are half-open ``[start, end)``: ``end`` is the next period's
first day at midnight, so ``start <= t < end`` selects a period's timestamps exactly.
"""
from __future__ import annotations

import re

import pandas as pd

from .errors import SQMArgumentError

QUARTER_RE = re.compile(r"^\d{4}Q[1-4]$")


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
