"""RFM: recency, frequency and monetary value per customer, their quintile scores and two segment maps.

Conventions (written on the page): recency is the days from the last purchase to ``as_of``; frequency the orders
(or, with ``frequency="days"``, the distinct purchase days); monetary the spend net of refunds. Scores 1–5 by
quintiles with a fixed tie rule: customers with equal values share the score of the lowest rank among them
(``rank(method="min")``), so equal customers are never split between scores; recency is scored the other way
(recent = 5). Segments: the common English map on the R and F scores (Champions … Hibernating) and the Chinese
eight-segment map by R, F and M above or below their means (重要价值 … 一般挽留).
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from ..errors import SQMArgumentError

__all__ = ["rfm", "rfm_scores", "quintile_scores", "SEGMENTS", "SEGMENTS_ZH", "SEGMENT_ACTIONS", "migration"]

# the common map on the RF score string (R then F); first match wins
SEGMENTS = (
    (r"[1-2][1-2]", "hibernating"), (r"[1-2][3-4]", "at_risk"), (r"[1-2]5", "cant_lose_them"),
    (r"3[1-2]", "about_to_sleep"), (r"33", "need_attention"), (r"[3-4][4-5]", "loyal_customers"),
    (r"41", "promising"), (r"51", "new_customers"), (r"[4-5][2-3]", "potential_loyalists"), (r"5[4-5]", "champions"),
)
# (R recent, F high, M high) above the mean -> the Chinese map's eight segments
SEGMENTS_ZH = {
    (True, True, True): "important_value", (True, False, True): "important_develop",
    (False, True, True): "important_keep", (False, False, True): "important_win_back",
    (True, True, False): "ordinary_value", (True, False, False): "ordinary_develop",
    (False, True, False): "ordinary_keep", (False, False, False): "ordinary_win_back",
}
SEGMENT_ACTIONS = {  # segment -> the suggested action (a code; its words are in the label catalogue)
    "champions": "reward_and_ask_referrals", "loyal_customers": "upsell_and_vip_service",
    "potential_loyalists": "membership_offer", "new_customers": "onboarding", "promising": "build_habit",
    "need_attention": "personal_contact", "about_to_sleep": "reactivate_with_offer", "at_risk": "win_back_now",
    "cant_lose_them": "win_back_now", "hibernating": "low_cost_reactivation",
    "important_value": "upsell_and_vip_service", "important_develop": "build_habit",
    "important_keep": "win_back_now", "important_win_back": "win_back_now", "ordinary_value": "build_habit",
    "ordinary_develop": "onboarding", "ordinary_keep": "reactivate_with_offer",
    "ordinary_win_back": "low_cost_reactivation",
}


def quintile_scores(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """Scores 1–5 by quintiles: 1 + floor(5 × (rank − 1) / n) with ties taking their lowest rank (reversed when
    lower values are better)."""
    v = values if higher_is_better else -values
    rank = v.rank(method="min")
    return (1 + np.floor(5 * (rank - 1) / len(v))).astype(int)


def rfm(transactions: pd.DataFrame, *, customer: str, time: str, amount: str, as_of=None,
        refunded: str | None = None, frequency: str = "orders") -> pd.DataFrame:
    """One row per customer: ``recency_days``, ``frequency``, ``monetary``, ``r_score``, ``f_score``, ``m_score``,
    ``segment`` (the English map) and ``segment_zh`` (the Chinese eight-segment map), both codes whose words are in
    the label catalogue, and ``suggested_action`` (the English segment's).

    Refunded orders (``refunded`` true) count in neither frequency nor spend; negative amounts (refund lines)
    lower the spend."""
    for c in (customer, time, amount):
        if c not in transactions:
            raise SQMArgumentError(f"no column {c!r} in the transactions")
    if frequency not in ("orders", "days"):
        raise SQMArgumentError("frequency must be 'orders' or 'days'")
    t = pd.to_datetime(transactions[time])
    end = pd.Timestamp(as_of) if as_of is not None else t.max()
    keep = (t <= end).to_numpy()
    if refunded and refunded in transactions:
        keep &= ~transactions[refunded].fillna(False).astype(bool).to_numpy()
    d = pd.DataFrame({"c": transactions[customer].to_numpy()[keep], "t": t.to_numpy()[keep],
                      "a": pd.to_numeric(transactions[amount], errors="coerce").to_numpy()[keep]})
    orders = d[d["a"] >= 0]
    g = orders.groupby("c")
    out = pd.DataFrame({
        "recency_days": (end - g["t"].max()).dt.days.astype(float),
        "frequency": (g.size() if frequency == "orders" else
                      orders.assign(t=orders["t"].dt.normalize()).drop_duplicates(["c", "t"]).groupby("c").size()
                      ).astype(float),
    })
    out["monetary"] = d.groupby("c")["a"].sum().reindex(out.index).fillna(0.0)
    out.index.name = customer
    return rfm_scores(out)


def rfm_scores(out: pd.DataFrame) -> pd.DataFrame:
    """Scores, segments and suggested actions of per-customer ``recency_days``, ``frequency`` and ``monetary``
    (:func:`rfm` computes those in pandas, :func:`sqmlib.value.rfm_summary` in DuckDB or Spark)."""
    out = out.copy()
    out["r_score"] = quintile_scores(out["recency_days"], higher_is_better=False)
    out["f_score"] = quintile_scores(out["frequency"])
    out["m_score"] = quintile_scores(out["monetary"].round(6))  # sums equal to the millionth tie, in any order
    rf = out["r_score"].astype(str) + out["f_score"].astype(str)
    seg = pd.Series("hibernating", index=out.index, dtype=object)
    done = pd.Series(False, index=out.index)
    for pattern, name in SEGMENTS:
        hit = rf.str.fullmatch(pattern) & ~done
        seg[hit] = name
        done |= hit
    out["segment"] = seg
    key = zip(out["recency_days"] < out["recency_days"].mean(), out["frequency"] > out["frequency"].mean(),
              out["monetary"] > out["monetary"].mean())
    out["segment_zh"] = [SEGMENTS_ZH[k] for k in key]
    out["suggested_action"] = out["segment"].map(SEGMENT_ACTIONS)
    return out


def migration(before: pd.DataFrame, after: pd.DataFrame, column: str = "segment") -> pd.DataFrame:
    """Customers per segment at one date (rows) and another (columns); customers new at the second date in row
    "new"."""
    a = before[column].reindex(after.index).fillna("new")
    return pd.crosstab(a.rename(f"{column} before"), after[column].rename(f"{column} after"))


