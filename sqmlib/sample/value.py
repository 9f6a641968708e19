"""The sample's orders and retention campaign, with planted truth (a random stream of its own).

Orders follow the BG/NBD process (Fader, Hardie and Lee 2005) from each customer's signup, the first order on the
signup day: a customer buys at rate λ ~ Gamma(``R``, ``ALPHA``) a week while active and drops out after each
repeat order with probability p ~ Beta(``A``, ``B``); a customer who cancelled their contract (``churn_date``) buys
nothing after it. Spend per order follows the Gamma-Gamma model: ν ~ Gamma(``Q``, ``GAMMA``), amounts ~ Gamma(``P``,
ν) (mean p/ν, about ``P * GAMMA / (Q - 1)`` yuan); ``REFUND_RATE`` of the orders are refunded.

The campaign: on ``SENT`` the customers active then were split at random, half contacted with a retention offer,
half held out; a departure within ``WINDOW`` days counts. Planted effects on departures in that window:
**persuadables** (a complaint in the previous quarter) contacted stay with probability ``PERSUADED`` when they
would have left; **do-not-disturb** customers (basic plan, under a year of tenure) contacted leave with
probability ``DISTURBED`` when they would have stayed; everyone else (sure things, lost causes) is unmoved.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

R, ALPHA, A, B = 0.75, 6.0, 0.8, 3.2  # BG/NBD: purchase rate per week ~ Gamma(R, ALPHA); dropout ~ Beta(A, B)
P, Q, GAMMA = 6.0, 4.0, 60.0  # Gamma-Gamma spend
REFUND_RATE = 0.03
SENT = "2026-07-01"
WINDOW = 90
PERSUADED = 0.8
DISTURBED = 0.20
CHANNELS = {"store": 0.45, "app": 0.35, "web": 0.20}


def orders(customers: pd.DataFrame, end: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(orders, each customer's λ, p and ν) from the BG/NBD and Gamma-Gamma processes up to ``end``."""
    rng = np.random.default_rng([seed, 32])
    n = len(customers)
    lam = rng.gamma(R, 1 / ALPHA, n)
    p = rng.beta(A, B, n)
    nu = rng.gamma(Q, 1 / GAMMA, n)
    start = pd.to_datetime(customers["signup_date"]).to_numpy()
    stop = pd.to_datetime(customers["churn_date"]).fillna(pd.Timestamp(end)).clip(upper=pd.Timestamp(end)).to_numpy()
    weeks_left = (stop - start) / np.timedelta64(7, "D")
    rows_c, rows_t = [], []
    # purchase by purchase for every customer at once: the next gap is exponential, dropout after each purchase
    t = np.zeros(n)
    alive = weeks_left >= 0
    rows_c.append(np.flatnonzero(alive))
    rows_t.append(t[alive])
    while alive.any():  # the next purchase, then the chance to drop out after it (none after the first order)
        t = t + rng.exponential(1 / np.maximum(lam, 1e-12))
        alive &= t <= weeks_left
        rows_c.append(np.flatnonzero(alive))
        rows_t.append(t[alive])
        alive &= rng.random(n) >= p
    c = np.concatenate(rows_c)
    w = np.concatenate(rows_t)
    order = np.lexsort((w, c))
    c, w = c[order], w[order]
    when = start[c] + (w * 7 * 24 * 60).astype("timedelta64[m]")
    amount = np.round(rng.gamma(P, 1 / nu[c]), 2)
    ids = customers["customer_id"].to_numpy()
    stores = customers["store"].to_numpy()
    out = pd.DataFrame({"customer_id": ids[c], "order_id": [f"O{k:07d}" for k in range(1, len(c) + 1)],
                        "order_time": when, "amount": amount,
                        "channel": rng.choice(list(CHANNELS), len(c), p=list(CHANNELS.values())),
                        "store": stores[c], "refunded": rng.random(len(c)) < REFUND_RATE})
    out = out.sort_values(["order_time", "order_id"], kind="stable").reset_index(drop=True)
    out["order_id"] = [f"O{k:07d}" for k in range(1, len(out) + 1)]
    latent = pd.DataFrame({"customer_id": ids, "rate_per_week": lam, "dropout": p, "spend_nu": nu})
    return out, latent


def campaign(customers: pd.DataFrame, tickets: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(the campaign's customers, the customers table with the campaign's planted effects on departures, truth)."""
    rng = np.random.default_rng([seed, 33])
    sent = pd.Timestamp(SENT)
    until = sent + pd.Timedelta(days=WINDOW)
    c = customers.copy()
    signup = pd.to_datetime(c["signup_date"])
    churn = pd.to_datetime(c["churn_date"])
    active = (signup < sent) & (churn.isna() | (churn >= sent))
    ids = c.loc[active, "customer_id"].to_numpy()
    treated = rng.random(len(ids)) < 0.5
    complaints = tickets[(tickets["type"] == "complaint") & (tickets["opened_at"] >= sent - pd.DateOffset(months=3))
                         & (tickets["opened_at"] < sent)]
    complained = set(complaints["customer_id"])
    sub = c.set_index("customer_id").loc[ids]
    tenure_years = (sent - pd.to_datetime(sub["signup_date"])).dt.days / 365.25
    persuadable = np.array([i in complained for i in ids])
    disturb = ((sub["plan"] == "basic") & (tenure_years < 1)).to_numpy() & ~persuadable
    left = (pd.to_datetime(sub["churn_date"]) < until).to_numpy()
    keep = treated & persuadable & left & (rng.random(len(ids)) < PERSUADED)
    push = treated & disturb & ~left & (rng.random(len(ids)) < DISTURBED)
    days = rng.integers(1, WINDOW, len(ids))
    idx = c.index[c["customer_id"].isin(set(ids[keep]))]
    c.loc[idx, "churned"] = False
    c.loc[idx, "churn_date"] = pd.NaT
    when = pd.Series(sent + pd.to_timedelta(days, unit="D"), index=ids)
    idx = c.index[c["customer_id"].isin(set(ids[push]))]
    c.loc[idx, "churned"] = True
    c.loc[idx, "churn_date"] = when.loc[c.loc[idx, "customer_id"]].to_numpy()
    camp = pd.DataFrame({"customer_id": ids, "campaign": "retention_2026Q3", "treated": treated,
                         "sent_at": sent, "window_days": WINDOW})
    truth = {"sent_at": SENT, "window_days": WINDOW, "persuaded": PERSUADED, "disturbed": DISTURBED,
             "persuadables": "a complaint in the three months before the contact",
             "do_not_disturb": "basic plan, under a year of tenure at the contact (and no complaint)",
             "customers": int(len(ids)), "treated": int(treated.sum()),
             "kept_by_the_offer": int(keep.sum()), "lost_by_the_offer": int(push.sum())}
    return camp, c, truth


def value_truth(latent: pd.DataFrame) -> dict:
    return {"bgnbd": {"r": R, "alpha": ALPHA, "a": A, "b": B}, "gamma_gamma": {"p": P, "q": Q, "v": GAMMA},
            "refund_rate": REFUND_RATE, "time_unit": "week", "first_order": "on the signup day",
            "after_churn": "no orders after a customer's churn_date"}
