"""The KPIs an action targets, per unit and period, and the complaint categories' root causes.

:func:`kpi_panel` computes one of :data:`sqmlib.io.actions.ACTION_KPIS` per value of a segment column and per
period (weeks by default) from the tickets or the survey: the panel :func:`sqmlib.pdca.did` reads and, pooled
over an action's scope, the series :func:`sqmlib.pdca.its` reads. :func:`root_causes` maps complaint categories to
the six causes of a fishbone (人机料法环测), by the instrument's ``causes:`` and :data:`DEFAULT_CAUSES`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SQMArgumentError
from ..instruments import CAUSES
from ..io.actions import ACTION_KPIS
from ..moments.survey import top_box_of

__all__ = ["kpi_panel", "kpi_series", "root_causes", "DEFAULT_CAUSES", "MIN_CELL", "KPI_LOWER_IS_BETTER"]

MIN_CELL = 5  # a unit's period with fewer observations than this has no value (a median of three is noise)
KPI_LOWER_IS_BETTER = {"complaints", "first_response_hours", "closure_hours", "answer_seconds"}

# complaint category -> cause, for the categories sqm's sample and common ticket systems use
DEFAULT_CAUSES = {
    "staff_attitude": "people", "attitude": "people", "staff": "people", "competence": "people",
    "technical": "machines", "system": "machines", "network": "machines", "app": "machines", "website": "machines",
    "product_quality": "materials", "product": "materials", "quality": "materials", "parts": "materials",
    "waiting_time": "methods", "delivery": "methods", "process": "methods", "account": "methods",
    "store": "environment", "environment": "environment", "cleanliness": "environment",
    "billing": "measurement", "metering": "measurement", "invoice": "measurement",
}


def _frame(folder, kpi: str) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """(rows, their dates, their values) for a KPI."""
    if kpi not in ACTION_KPIS:
        raise SQMArgumentError(f"unknown KPI {kpi!r}; the KPIs are {', '.join(ACTION_KPIS)}")
    table = ACTION_KPIS[kpi][0]
    df = getattr(folder, table, None)
    if df is None:
        raise SQMArgumentError(f"the KPI {kpi} needs the {table} table")
    if table == "survey":
        when = pd.to_datetime(df["survey_date"], errors="coerce")
        if kpi == "nps":
            v = pd.to_numeric(df["nps"], errors="coerce")
            v = np.where(v >= 9, 100.0, np.where(v <= 6, -100.0, 0.0)) * 1.0
            v = pd.Series(v, index=df.index).where(pd.to_numeric(df["nps"], errors="coerce").notna())
        else:
            s = pd.to_numeric(df["overall_sat"], errors="coerce")
            v = (s >= top_box_of(folder.instrument, "overall_sat")).astype(float).where(s.notna())
        return df, when, v
    t = df
    when = t["opened_at"]
    complaint = (t["type"] == "complaint") if "type" in t else pd.Series(True, index=t.index)
    if kpi == "complaints":
        v = complaint.astype(float).where(complaint)
    elif kpi == "fcr":
        v = t["first_contact_resolved"].astype(float).where(complaint)
    elif kpi == "first_response_hours":
        v = ((t["first_response_at"] - t["opened_at"]).dt.total_seconds() / 3600).where(complaint)
    elif kpi == "closure_hours":
        v = ((t["closed_at"] - t["opened_at"]).dt.total_seconds() / 3600).where(complaint)
    else:  # answer_seconds
        if "wait_seconds" not in t:
            raise SQMArgumentError("answer_seconds needs the tickets' wait_seconds")
        v = pd.to_numeric(t["wait_seconds"], errors="coerce")
    return t, when, v


def _periods(when: pd.Series, freq: str) -> pd.PeriodIndex:
    """The periods between the data's first and last date, without an edge period the data cover for less
    than half its length (a week of two days is a different quantity, not a week)."""
    first, last = when.min(), when.max()
    periods = pd.period_range(first, last, freq=freq)
    start = periods.start_time.to_numpy()
    end = periods.end_time.to_numpy()
    span = end - start
    inside = np.minimum(end, last.to_datetime64()) - np.maximum(start, first.to_datetime64())
    return periods[inside >= span / 2]


def _aggregate(kpi: str):
    if kpi == "complaints":
        return "sum"
    if kpi in ("first_response_hours", "closure_hours"):
        return "median"
    return "mean"


def kpi_panel(folder, kpi: str, by: str, *, freq: str = "W", units=None) -> pd.DataFrame:
    """A KPI per value of ``by`` and per period: columns ``unit``, ``period`` (a Period of ``freq``), ``value``
    and ``n`` (observations), for every period between the first and the last date (an edge period the data cover
    for less than half its length left out). Complaints are counted; first-response and closure hours are medians (skewed
    times); FCR, CSAT (top boxes), NPS (−100/0/100 per answer) and phone waits are means. A cell with fewer than
    :data:`MIN_CELL` observations has no value."""
    rows, when, v = _frame(folder, kpi)
    if by not in rows:
        raise SQMArgumentError(f"no column {by!r} in the {ACTION_KPIS[kpi][0]} table")
    ok = when.notna() & rows[by].notna()
    d = pd.DataFrame({"unit": rows[by][ok].astype(str), "period": when[ok].dt.to_period(freq), "v": v[ok]})
    if units is not None:
        d = d[d["unit"].isin(set(map(str, units)))]
    periods = _periods(when, freq)
    d = d[d["period"].isin(periods)]
    g = d.groupby(["unit", "period"])["v"]
    how = _aggregate(kpi)
    out = pd.DataFrame({"value": g.agg(how), "n": g.count()})
    if how != "sum":
        out.loc[out["n"] < MIN_CELL, "value"] = np.nan
    full = pd.MultiIndex.from_product([sorted(d["unit"].unique()), periods], names=["unit", "period"])
    out = out.reindex(full)
    out["n"] = out["n"].fillna(0).astype(int)
    if how == "sum":
        out["value"] = out["value"].fillna(0.0)
    return out.reset_index()


def kpi_series(folder, kpi: str, by: str, units, *, freq: str = "W") -> pd.Series:
    """The KPI of ``units`` pooled (their rows together), per period: the series :func:`its` reads."""
    rows, when, v = _frame(folder, kpi)
    keep = rows[by].astype(str).isin(set(map(str, units))) & when.notna()
    d = pd.DataFrame({"period": when[keep].dt.to_period(freq), "v": v[keep]})
    periods = _periods(when, freq)
    g = d.groupby("period")["v"]
    how = _aggregate(kpi)
    value = g.agg(how)
    if how != "sum":
        value = value.where(g.count() >= MIN_CELL)
    value = value.reindex(periods)
    return value.fillna(0.0) if how == "sum" else value


def root_causes(categories: pd.Series, instrument=None) -> pd.Series:
    """Each complaint's root cause (one of :data:`sqmlib.instruments.CAUSES`, or "unmapped"): the instrument's
    ``causes:`` first, then :data:`DEFAULT_CAUSES` (by the category's name in lower case)."""
    own = dict(getattr(instrument, "causes", {}) or {})
    key = categories.astype(str).str.strip()
    mapped = key.map(own)
    mapped = mapped.fillna(key.str.lower().map(DEFAULT_CAUSES))
    out = mapped.where(mapped.isin(CAUSES), "unmapped")
    return out.where(categories.notna() & (key != ""), "unmapped")
