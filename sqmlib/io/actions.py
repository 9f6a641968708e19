"""The PDCA action register: ``actions.csv``, one row an improvement action.

Columns (``data/README.md``): ``action_id``, ``title``, ``kpi`` (one of :data:`ACTION_KPIS`), ``scope_column``
(a segment column of the tickets or survey, e.g. region) and ``scope_values`` (its values, separated by ``;``),
``owner``, ``cause`` (people, machines, materials, methods, environment, measurement), ``why1`` … ``why5`` (the
5-Why chain), ``start``, ``end`` (optional), ``direction`` (down / up: which way the KPI should move),
``expected_size`` (in the KPI's unit), ``controls`` (optional: untreated units of the scope column, ``;``-separated;
default every other unit), ``status`` (planned, doing, checking, standardised, dropped) and ``aspect`` (optional:
the feedback aspect the action answers, e.g. ``waiting``, which links it to that aspect's rising issues on the
weekly improvement page). :func:`check_actions`
reads the register against the data: a scope naming units the data do not have, dates outside the data, an
action without a period before its start.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import Problem, SQMDataError
from ..instruments import CAUSES
from .tables import _load_table, _spec

# the KPIs an action can target: name -> (table, what it is)
ACTION_KPIS = {
    "complaints": ("interactions", "complaints opened"),
    "fcr": ("interactions", "share of complaints resolved at the first contact"),
    "first_response_hours": ("interactions", "median hours to the first response to a complaint"),
    "closure_hours": ("interactions", "median hours to close a complaint"),
    "answer_seconds": ("interactions", "mean seconds a phone caller waits"),
    "nps": ("survey", "net promoter score"),
    "csat": ("survey", "share of satisfied customers (top boxes)"),
}
STATUSES = ("planned", "doing", "checking", "standardised", "dropped")
DIRECTIONS = ("down", "up")

ACTION_COLUMNS = (
    _spec("action_id", "id"),
    _spec("title", "text"),
    _spec("kpi", "text"),
    _spec("scope_column", "text"),
    _spec("scope_values", "text"),
    _spec("owner", "text", required=False),
    _spec("cause", "text", required=False),
    *(_spec(f"why{k}", "text", required=False) for k in range(1, 6)),
    _spec("start", "date"),
    _spec("end", "date", required=False),
    _spec("direction", "text"),
    _spec("expected_size", "number", required=False),
    _spec("controls", "text", required=False),
    _spec("status", "text"),
    _spec("aspect", "text", required=False),
)


def split_values(v) -> list[str]:
    """``"East;North"`` → ["East", "North"] (also , and ；)."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return []
    return [p.strip() for p in str(v).replace("；", ";").replace(",", ";").split(";") if p.strip()]


def load_actions(path, *, encoding=None, sheet=0) -> pd.DataFrame:
    """Load the action register (see the module's description); every problem of the file at once."""

    def checks(df, chk):
        for column, allowed in (("kpi", tuple(ACTION_KPIS)), ("direction", DIRECTIONS), ("status", STATUSES)):
            v = df[column].astype(str).str.strip().str.lower()
            bad = (~v.isin(allowed) & df[column].notna()).to_numpy()
            if bad.any():
                chk.add("bad_value", f"{column} must be one of {', '.join(allowed)}", column, bad,
                        df[column][bad].tolist())
            df[column] = v.where(df[column].notna())
        if "cause" in df:
            c = df["cause"].astype(str).str.strip().str.lower()
            bad = (df["cause"].notna() & ~c.isin(CAUSES)).to_numpy()
            if bad.any():
                chk.add("bad_value", f"cause must be one of {', '.join(CAUSES)}", "cause", bad,
                        df["cause"][bad].tolist())
        if "end" in df:
            early = (df["end"].notna() & (df["end"] <= df["start"])).to_numpy()
            if early.any():
                chk.add("inconsistent", "end on or before start", "end", early, [str(v) for v in df["end"][early]])

    return _load_table(path, ACTION_COLUMNS, encoding=encoding, sheet=sheet, extra_checks=checks)


def _rows(mask: np.ndarray) -> tuple[tuple[int, ...], int]:
    pos = np.flatnonzero(mask)
    return tuple(int(p) + 2 for p in pos[:5]), int(len(pos))


def check_actions(actions: pd.DataFrame, tables: dict, source: str, wanted=None) -> None:
    """The register against the data (``tables``: name → DataFrame of the folder): the KPI's table must be
    there with the scope column, the scope and control units must exist in it, the start must fall inside the
    data's dates with some data before it (actions on tables not in ``wanted`` are not checked). Raises :class:`SQMDataError` naming ``source`` with every problem."""
    problems = []

    def add(kind, message, column, mask, values):
        rows, n = _rows(mask)
        problems.append(Problem(kind, message, column, tuple(dict.fromkeys(values))[:6], rows, n))

    missing_table = np.zeros(len(actions), bool)
    unknown_column = np.zeros(len(actions), bool)
    unknown_units, outside, no_pre = {}, np.zeros(len(actions), bool), np.zeros(len(actions), bool)
    for i, (_, a) in enumerate(actions.iterrows()):
        table = ACTION_KPIS.get(a["kpi"], ("", ""))[0]
        df = tables.get(table)
        if df is None and wanted is not None and table not in wanted:
            continue
        if df is None:
            missing_table[i] = True
            continue
        col = str(a["scope_column"])
        if col not in df:
            unknown_column[i] = True
            continue
        known = set(df[col].dropna().astype(str))
        for v in split_values(a["scope_values"]) + split_values(a.get("controls")):
            if v not in known:
                unknown_units.setdefault(i, []).append(v)
        when = pd.to_datetime(df["opened_at" if table == "interactions" else "survey_date"], errors="coerce")
        first, last = when.min(), when.max()
        start = a["start"]
        if pd.notna(start) and (start < first or start > last):
            outside[i] = True
        elif pd.notna(start) and (when < start).sum() == 0:
            no_pre[i] = True
    if missing_table.any():
        add("missing_file", "the action's KPI needs a table the folder does not have", "kpi", missing_table,
            actions["kpi"][missing_table])
    if unknown_column.any():
        add("unknown_column", "scope_column is not a column of the KPI's table", "scope_column", unknown_column,
            actions["scope_column"][unknown_column])
    if unknown_units:
        mask = np.isin(np.arange(len(actions)), list(unknown_units))
        add("unknown_value", "scope or control units not in the data", "scope_values", mask,
            [v for vs in unknown_units.values() for v in vs])
    if outside.any():
        add("out_of_range", "start outside the data's dates", "start", outside,
            [str(v.date()) for v in actions["start"][outside]])
    if no_pre.any():
        add("no_pre_period", "no data before the start: nothing to compare with", "start", no_pre,
            [str(v.date()) for v in actions["start"][no_pre]])
    if problems:
        raise SQMDataError(source, problems)
