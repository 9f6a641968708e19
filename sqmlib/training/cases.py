"""Seeded data for the teaching case: *Lotus Kitchen*, a restaurant chain losing its regulars.

The story the data are made to tell: six restaurants with a complete service manual and regular training
(premises, uniforms and opening routines are fine: tangibles close to expectations, service errors rare, most
complaints acknowledged within the standard) — yet complaints rise every quarter and fewer members come back.
Guests say staff are cold (empathy), problems are handled slowly (responsiveness: first responses and closures
slow, problems rarely solved at the first contact) and dishes differ from their description on the menu
(reliability items 05–07). The chain meets the basic standards (maturity level 1) but not process optimisation.

The tables have the canonical columns of :mod:`sqmlib.io` (survey with the SERVQUAL E and P blocks, loyalty
members as ``customers``, complaint tickets as ``interactions``, the service ``standards``), so every sqmlib
function runs on them unchanged. The unit column ``chain`` holds the chain's name.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..instruments import load as load_instrument
from ..periods import quarter_bounds

QUARTERS = ("2025Q4", "2026Q1", "2026Q2", "2026Q3")
STORES = {"R1": "city", "R2": "city", "R3": "city", "R4": "suburbs", "R5": "suburbs", "R6": "suburbs"}
CHAIN = "Lotus Kitchen"
E_MEAN = 6.0
# perception shortfall per dimension in the first and the last quarter (linear in between)
SHORTFALL = {"tangibles": (-0.15, -0.10), "reliability": (0.60, 0.85), "responsiveness": (0.70, 1.30),
             "assurance": (0.35, 0.45), "empathy": (0.80, 1.45)}
DISH_ITEMS = ("05", "06", "07")  # "delivers what it promised": dishes as described on the menu
DISH_EXTRA = 0.6
CATEGORIES = {"staff_attitude": 0.30, "slow_handling": 0.24, "dish_not_as_described": 0.22,
              "waiting_time": 0.12, "billing": 0.07, "cleanliness": 0.05}
DEPARTMENT = {"staff_attitude": "floor", "slow_handling": "floor", "dish_not_as_described": "kitchen",
              "waiting_time": "kitchen", "billing": "cashier", "cleanliness": "housekeeping"}
TEXTS = {"staff_attitude": "the waiter was cold and ignored us", "slow_handling": "nobody came back about my problem",
         "dish_not_as_described": "the dish looked nothing like the menu", "waiting_time": "waited too long for food",
         "billing": "charged twice on the bill", "cleanliness": "table was sticky"}
COMPLAINTS_PER_QUARTER = (170, 215, 265, 330)
SEVERITY = {"minor": 0.62, "major": 0.30, "critical": 0.08}
# first response: log-normal median (hours) and spread per severity; closure after the response
RESPONSE = {"minor": (7.0, 1.0), "major": (1.9, 0.6), "critical": (0.5, 0.5)}
CLOSURE_MEDIAN_H = 8.0
FCR = (0.58, 0.50)
MEMBERS = 2400
LAPSE = (0.05, 0.11)  # members lapsing per quarter, first and last quarter
STANDARDS = pd.DataFrame({
    "kpi": ["first_response_hours", "first_response_hours", "first_response_hours", "closure_hours", "error_rate"],
    "severity": ["critical", "major", "minor", None, None],
    "target": [1.0, 4.0, 24.0, 24.0, 0.005],
    "unit": ["hours", "hours", "hours", "hours", "share"],
    "direction": ["at_most"] * 5,
    "description": ["Critical complaints acknowledged within 1 hour", "Major complaints acknowledged within 4 hours",
                    "Minor complaints acknowledged within 24 hours", "Complaints closed within 24 hours",
                    "Order errors in at most 0.5 % of bills"],
})


@dataclass(frozen=True)
class CaseData:
    """The case's tables: ``survey``, ``customers`` (loyalty members), ``interactions`` (complaints),
    ``standards`` and ``visits`` (members who came back per quarter)."""

    survey: pd.DataFrame
    customers: pd.DataFrame
    interactions: pd.DataFrame
    standards: pd.DataFrame
    visits: pd.DataFrame


def _quarter_dates(rng, q: str, n: int) -> pd.Series:
    start, end = quarter_bounds(q)
    days = (end - start).days
    return pd.Series(start + pd.to_timedelta(rng.integers(0, days * 24 * 60, n), unit="min"))


def restaurant_chain(seed: int = 2026, respondents_per_quarter: int = 250) -> CaseData:
    """Generate the Lotus Kitchen case (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    inst = load_instrument("servqual")
    stores = list(STORES)
    # loyalty members: joined in the two years before the first quarter; lapse more each quarter
    first = quarter_bounds(QUARTERS[0])[0]
    signup = first - pd.to_timedelta(rng.integers(1, 730, MEMBERS), unit="D")
    members = pd.DataFrame({"customer_id": [f"G{i:05d}" for i in range(1, MEMBERS + 1)], "signup_date": signup,
                            "plan": "member", "monthly_charges": np.round(rng.gamma(4, 12, MEMBERS), 2),
                            "store": rng.choice(stores, MEMBERS)})
    members["region"] = members["store"].map(STORES)
    members["chain"] = CHAIN
    u = rng.normal(size=MEMBERS)  # how warmly a member sees the chain
    churn_date = pd.Series(pd.NaT, index=members.index, dtype="datetime64[ns]")
    returning = []
    for k, q in enumerate(QUARTERS):
        active = churn_date.isna().to_numpy()
        rate = LAPSE[0] + (LAPSE[1] - LAPSE[0]) * k / (len(QUARTERS) - 1)
        logit = np.log(rate / (1 - rate)) - 0.6 * u
        lapse = active & (rng.random(MEMBERS) < 1 / (1 + np.exp(-logit)))
        churn_date[lapse] = _quarter_dates(rng, q, int(lapse.sum())).to_numpy()
        returning.append({"quarter": q, "members_at_start": int(active.sum()),
                          "came_back": int(active.sum() - lapse.sum()),
                          "returning_share": float((active.sum() - lapse.sum()) / active.sum())})
    members["churn_date"] = churn_date.dt.normalize()
    members["churned"] = members["churn_date"].notna()
    # survey: members who visited in the quarter
    rows = []
    for k, q in enumerate(QUARTERS):
        t = k / (len(QUARTERS) - 1)
        idx = rng.choice(MEMBERS, respondents_per_quarter, replace=False)
        n = len(idx)
        base = {"respondent_id": [f"S{q}-{i:04d}" for i in range(n)], "customer_id": members["customer_id"].to_numpy()[idx],
                "survey_date": _quarter_dates(rng, q, n).dt.normalize().to_numpy(), "quarter": q, "channel": "table card",
                "store": members["store"].to_numpy()[idx], "duration_sec": rng.gamma(9, 30, n).round()}
        frame = pd.DataFrame(base)
        frame["region"] = frame["store"].map(STORES)
        frame["chain"] = CHAIN
        g = 0.55 * u[idx] + rng.normal(0, 0.6, n)
        p_dim = {}
        for d, items in inst.dimensions.items():
            short = SHORTFALL[d][0] + (SHORTFALL[d][1] - SHORTFALL[d][0]) * t
            f = g + rng.normal(0, 0.6, n)
            for j, item in enumerate(items):
                e = E_MEAN + 0.1 * ((j % 3) - 1) + 0.5 * rng.normal(0, 1, n) + 0.08 * rng.normal(0, 1)
                extra = DISH_EXTRA if item in DISH_ITEMS else 0.0
                pval = E_MEAN - short - extra + 0.1 * ((j % 3) - 1) + 0.75 * f + rng.normal(0, 0.65, n)
                frame[f"E{item}"] = np.clip(np.rint(e), 1, 7)
                frame[f"P{item}"] = np.clip(np.rint(pval), 1, 7)
            p_dim[d] = frame[[f"P{i}" for i in items]].mean(axis=1)
        sat = (4.9 + 0.10 * (p_dim["tangibles"] - 5) + 0.30 * (p_dim["reliability"] - 5)
               + 0.25 * (p_dim["responsiveness"] - 5) + 0.10 * (p_dim["assurance"] - 5)
               + 0.30 * (p_dim["empathy"] - 5) + rng.normal(0, 0.5, n))
        frame["overall_sat"] = np.clip(np.rint(sat), 1, 7)
        frame["nps"] = np.clip(np.rint(1.6 * sat - 0.2 + rng.normal(0, 0.9, n)), 0, 10)
        frame["ces"] = np.clip(np.rint(8 - sat + rng.normal(0, 0.8, n)), 1, 7)
        rows.append(frame)
    survey = pd.concat(rows, ignore_index=True)
    # complaints
    tickets = []
    for k, q in enumerate(QUARTERS):
        n = COMPLAINTS_PER_QUARTER[k]
        t = k / (len(QUARTERS) - 1)
        weights = np.exp(-0.5 * u)
        who = rng.choice(MEMBERS, n, p=weights / weights.sum())
        cat = rng.choice(list(CATEGORIES), n, p=list(CATEGORIES.values()))
        sev = rng.choice(list(SEVERITY), n, p=list(SEVERITY.values()))
        opened = _quarter_dates(rng, q, n).reset_index(drop=True)
        med = np.array([RESPONSE[s][0] for s in sev]) * (1 + 0.25 * t)
        spread = np.array([RESPONSE[s][1] for s in sev])
        response = np.exp(np.log(med) + spread * rng.normal(size=n))
        closure = response + np.exp(np.log(CLOSURE_MEDIAN_H * (1 + 0.2 * t)) + 0.7 * rng.normal(size=n))
        fcr = rng.random(n) < (FCR[0] + (FCR[1] - FCR[0]) * t)
        tickets.append(pd.DataFrame({
            "customer_id": members["customer_id"].to_numpy()[who], "opened_at": opened.dt.floor("min"),
            "first_response_at": (opened + pd.to_timedelta(response, unit="h")).dt.floor("min"),
            "closed_at": (opened + pd.to_timedelta(closure, unit="h")).dt.floor("min"),
            "channel": rng.choice(["in person", "phone", "app"], n, p=[0.5, 0.2, 0.3]), "category": cat,
            "severity": sev, "first_contact_resolved": fcr, "department": [DEPARTMENT[c] for c in cat],
            "text": [TEXTS[c] for c in cat], "type": "complaint",
            "store": members["store"].to_numpy()[who], "error": rng.random(n) < 0.003}))
    inter = pd.concat(tickets, ignore_index=True).sort_values("opened_at", kind="stable").reset_index(drop=True)
    inter.insert(0, "ticket_id", [f"K{i:05d}" for i in range(1, len(inter) + 1)])
    inter["region"] = inter["store"].map(STORES)
    inter["chain"] = CHAIN
    inter["wait_seconds"] = np.nan
    inter["first_contact_resolved"] = inter["first_contact_resolved"].astype("boolean")
    inter["error"] = inter["error"].astype("boolean")
    members["churned"] = members["churned"].astype("boolean")
    return CaseData(survey, members, inter, STANDARDS.copy(), pd.DataFrame(returning))
