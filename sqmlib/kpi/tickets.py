"""Tickets (complaints and enquiries) against the service standards: response and handling times, which
standard applies to a ticket and whether it was met (each standard's ``direction``: ``at_most`` or
``at_least`` its target), breaches per ticket, attainment per unit (gap 3 of the gaps model), repeat
complaints, active customers and the ticket KPIs per period.

The churn features (breaches), the gap analysis (gap 3), the KPI monitor and the maturity rubric all take their
ticket logic from here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SQMArgumentError
from ..periods import month_bounds, period_of, quarter_bounds

DEFAULT_RESPONSE_HOURS = {"critical": 1.0, "major": 4.0, "minor": 24.0}
DEFAULT_CLOSURE_HOURS = 24.0
DIRECTIONS = ("at_most", "at_least")


def response_hours(tickets: pd.DataFrame) -> pd.Series:
    """Hours from opening to the first response, per ticket (missing when there was none)."""
    return (tickets["first_response_at"] - tickets["opened_at"]).dt.total_seconds() / 3600


def handling_hours(tickets: pd.DataFrame) -> pd.Series:
    """Hours from opening to closure, per ticket (missing while open)."""
    return (tickets["closed_at"] - tickets["opened_at"]).dt.total_seconds() / 3600


def meets(value, target: float, direction: str = "at_most"):
    """Whether a value (or each value of an array or Series) meets a target: ``at_most`` (a time, an error
    rate) or ``at_least`` (a share answered)."""
    if direction not in DIRECTIONS:
        raise SQMArgumentError(f"a standard's direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    return value <= target if direction == "at_most" else value >= target


DEFAULT_REVISIT_HOURS = 72.0  # 补偿执行后72小时内进行满意度回访: the revisit within 72 hours of the remedy


def data_end(tickets: pd.DataFrame) -> pd.Timestamp:
    """The last moment the tickets record (opening, closure, remedy or revisit): revisits not seen by then may
    still come."""
    cols = [c for c in ("opened_at", "closed_at", "recovered_at", "revisit_at") if c in tickets]
    return pd.Timestamp(max(tickets[c].max() for c in cols))


def revisit_hours(tickets: pd.DataFrame, target: float = DEFAULT_REVISIT_HOURS,
                  until: pd.Timestamp | None = None) -> pd.Series:
    """Hours from the completed remedy to the revisit, per ticket with a completed remedy: ``inf`` when no
    revisit came although ``target`` hours have passed by ``until`` (the data's end; a missed standard),
    missing when there was no remedy or the window is still open."""
    until = data_end(tickets) if until is None else pd.Timestamp(until)
    rec = tickets["recovered_at"]
    h = (tickets["revisit_at"] - rec).dt.total_seconds() / 3600
    overdue = rec.notna() & tickets["revisit_at"].isna() & (rec + pd.Timedelta(hours=target) <= until)
    return h.where(~overdue, np.inf).where(rec.notna())


def complaints(tickets: pd.DataFrame) -> pd.DataFrame:
    """The complaints among the tickets (every ticket when there is no ``type`` column)."""
    return tickets[tickets["type"] == "complaint"] if "type" in tickets.columns else tickets


def in_window(tickets: pd.DataFrame, start=None, end=None) -> pd.DataFrame:
    """Tickets opened in ``[start, end)`` (either bound optional)."""
    t = tickets
    if start is not None:
        t = t[t["opened_at"] >= pd.Timestamp(start)]
    if end is not None:
        t = t[t["opened_at"] < pd.Timestamp(end)]
    return t


def breaches(tickets: pd.DataFrame, standards: pd.DataFrame | None) -> pd.Series:
    """Per ticket: did the first response or the closure break the service standard for its severity?

    The standards table's ``first_response_hours`` rows (per severity) and ``closure_hours`` row set the
    limits, each with its ``direction``; without a standards table the defaults (critical 1 h, major 4 h,
    minor 24 h to respond; 24 h to close, all ``at_most``) apply. A ticket of a severity without its own
    rule takes the minor rule.
    """
    resp_rules = {k: (v, "at_most") for k, v in DEFAULT_RESPONSE_HOURS.items()}
    close_rule = (DEFAULT_CLOSURE_HOURS, "at_most")
    if standards is not None:
        for s in standards.itertuples():
            direction = getattr(s, "direction", "at_most") or "at_most"
            if s.kpi == "first_response_hours" and isinstance(s.severity, str) and s.severity:
                resp_rules[s.severity] = (float(s.target), direction)
            if s.kpi == "closure_hours":
                close_rule = (float(s.target), direction)
    resp, close = response_hours(tickets), handling_hours(tickets)
    fallback = resp_rules.get("minor", (24.0, "at_most"))
    severity = tickets["severity"]
    limit = severity.map({k: r[0] for k, r in resp_rules.items()}).fillna(fallback[0]).astype(float)
    at_least = severity.map({k: r[1] == "at_least" for k, r in resp_rules.items()}).fillna(
        fallback[1] == "at_least").astype(bool)
    resp_ok = np.where(at_least, resp >= limit, resp <= limit)
    # a missing time (no response yet, not closed) never breaks a rule
    return (resp.notna() & ~resp_ok) | (close.notna() & ~meets(close, *close_rule))


def standard_attainment(interactions: pd.DataFrame, standards: pd.DataFrame, *, by: str | None = "region",
                        start=None, end=None) -> pd.DataFrame:
    """Gap 3 (service delivery against the service standards): per standard and unit, how many cases the
    standard applies to and the share that met it (for ``error_rate``: the rate itself, and whether it is
    within target).

    Standards understood: ``answer_seconds`` (phone ``wait_seconds``), ``first_response_hours`` and
    ``closure_hours`` (complaints, per severity when given), ``revisit_hours`` (hours from a complaint's
    completed remedy to the satisfaction revisit; a revisit still missing when the target has passed counts as
    missed, one whose window is still open is left out), ``error_rate`` (share of interactions with
    ``error``). ``start``/``end`` restrict to tickets opened in [start, end).
    """
    t = in_window(interactions, start, end)
    comp_all = complaints(t)
    units = [("all", t.index)] if by is None else [(u, t.index[t[by] == u]) for u in sorted(t[by].dropna().unique())]
    rows = []
    for s in standards.itertuples():
        sev = s.severity if isinstance(s.severity, str) and s.severity else None
        for unit, idx in units:
            sub, comp = t.loc[idx], comp_all.loc[comp_all.index.intersection(idx)]
            if sev is not None:
                comp = comp[comp["severity"] == sev]
            if s.kpi == "answer_seconds":
                v = sub.loc[sub["channel"] == "phone", "wait_seconds"].dropna() if "wait_seconds" in sub else pd.Series(dtype=float)
            elif s.kpi == "first_response_hours":
                v = response_hours(comp).dropna()
            elif s.kpi == "closure_hours":
                v = handling_hours(comp).dropna()
            elif s.kpi == "revisit_hours":  # hours from the completed remedy to the revisit (overdue: inf)
                v = (revisit_hours(comp, float(s.target), until=data_end(interactions)).dropna()
                     if "recovered_at" in comp and "revisit_at" in comp else pd.Series(dtype=float))
            elif s.kpi == "error_rate":
                e = sub["error"].dropna().astype(bool) if "error" in sub else pd.Series(dtype=bool)
                rate = float(e.mean()) if len(e) else np.nan
                ok = meets(rate, s.target, s.direction)
                rows.append({"kpi": s.kpi, "severity": sev or "", "unit": unit, "n": len(e), "value": rate,
                             "target": s.target, "share_meeting": np.nan, "met": bool(ok) if len(e) else None,
                             "description": getattr(s, "description", "")})
                continue
            else:
                rows.append({"kpi": s.kpi, "severity": sev or "", "unit": unit, "n": 0, "value": np.nan,
                             "target": s.target, "share_meeting": np.nan, "met": None,
                             "description": f"not measured: no rule for KPI {s.kpi!r}"})
                continue
            met = meets(v, s.target, s.direction)
            rows.append({"kpi": s.kpi, "severity": sev or "", "unit": unit, "n": int(len(v)),
                         "value": float(v.median()) if len(v) else np.nan, "target": s.target,
                         "share_meeting": float(met.mean()) if len(v) else np.nan, "met": None,
                         "description": getattr(s, "description", "")})
    return pd.DataFrame(rows)


def repeat_flags(tickets: pd.DataFrame, days: int = 30) -> pd.Series:
    """Complaints that repeat an earlier complaint of the same customer and category within ``days``."""
    c = tickets.sort_values("opened_at")
    prev = c.groupby(["customer_id", c["category"].fillna("")])["opened_at"].shift()
    return ((c["opened_at"] - prev).dt.days < days).reindex(tickets.index).fillna(False)


def active_customers(customers: pd.DataFrame, start, end, by: str | None = None) -> pd.Series | int:
    """Customers active at some time in [start, end) (per unit when ``by``)."""
    a = customers[(customers["signup_date"] < pd.Timestamp(end))
                  & (customers["churn_date"].isna() | (customers["churn_date"] >= pd.Timestamp(start)))]
    return a.groupby(by).size() if by else len(a)


def ticket_kpis(interactions: pd.DataFrame, customers: pd.DataFrame | None = None, *, by: str | None = None,
                freq: str = "Q") -> pd.DataFrame:
    """Per period and unit: tickets, complaints, first-contact resolution, median and 90th-percentile first
    response and handling (closure) times in hours, repeat-complaint rate, complaints per 1,000 active
    customers (with ``customers``) and churn rate of the period (customers who left among those active)."""
    t = interactions.assign(period=period_of(interactions["opened_at"], freq))
    is_c = t["type"] == "complaint" if "type" in t.columns else pd.Series(True, index=t.index)
    t["is_complaint"] = is_c
    t["response_h"] = response_hours(t)
    t["handling_h"] = handling_hours(t)
    t["repeat"] = False
    t.loc[is_c, "repeat"] = repeat_flags(t[is_c])
    keys = ["period"] + ([by] if by else [])
    rows = []
    for key, g in t.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        comp = g[g["is_complaint"]]
        row = dict(zip(keys, key))
        row.update(tickets=len(g), complaints=len(comp),
                   fcr=float(g["first_contact_resolved"].astype(float).mean()),
                   response_h_median=float(comp["response_h"].median()), response_h_p90=float(comp["response_h"].quantile(0.9)),
                   handling_h_median=float(comp["handling_h"].median()), handling_h_p90=float(comp["handling_h"].quantile(0.9)),
                   repeat_rate=float(comp["repeat"].mean()) if len(comp) else np.nan)
        if customers is not None:
            start, end = quarter_bounds(key[0]) if freq == "Q" else month_bounds(key[0])
            # per unit when the customer table records the unit, else the whole customer base
            cust = customers[customers[by] == key[1]] if by and by in customers.columns else customers
            n_active = active_customers(cust, start, end)
            left = cust["churn_date"].between(start, end, inclusive="left").sum()
            row.update(active_customers=n_active, complaints_per_1000=1000 * len(comp) / n_active if n_active else np.nan,
                       churn_rate=left / n_active if n_active else np.nan)
        rows.append(row)
    return pd.DataFrame(rows)
