"""Rising issues: aspects whose negative mentions per feedback item rose in a unit's recent weeks.

For each unit (store, region …) and aspect, the negative mentions in the last ``recent`` weeks are compared with
those of the ``baseline`` weeks before, each per feedback item of that unit (its exposure). Under no change the
recent count, given the total, is binomial with the recent share of the exposure — the conditional test of two
Poisson rates (Przyborowski and Wilenski 1940); one-sided p from the binomial tail, Benjamini–Hochberg across
every unit and aspect tested (those with at least ``min_count`` recent negative mentions). The rate ratio is
(recent rate) ÷ (baseline rate), with the baseline's zero count read as half a mention.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import SQMArgumentError

__all__ = ["rising_issues", "bh"]


def bh(p) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), in the input's order."""
    p = np.asarray(p, dtype=float)
    n = len(p)
    if n == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def rising_issues(mentions: pd.DataFrame, items: pd.DataFrame, *, unit: str, week: str = "week", recent: int = 4,
                  baseline: int = 12, min_count: int = 5, alpha: float = 0.05, until=None) -> pd.DataFrame:
    """Every unit × aspect tested, most significant first: ``recent_negative``, ``recent_items``,
    ``baseline_negative``, ``baseline_items``, ``rate_ratio``, ``p_value``, ``q_value`` and ``rising`` (q ≤ alpha and
    the rate up).

    ``mentions``: one row per aspect mention with ``unit``, ``week`` (a weekly period or its start date), ``aspect``
    and ``polarity``; ``items``: one row per feedback item with ``unit`` and ``week`` (the exposure). ``until``: the
    last week counted (default the latest in ``items``)."""
    if recent < 1 or baseline < 1 or min_count < 1:
        raise SQMArgumentError("recent, baseline and min_count must be at least 1")
    weeks = pd.Index(sorted(items[week].dropna().unique()))
    if len(weeks) == 0:
        return pd.DataFrame()
    last = weeks[-1] if until is None else until
    pos = weeks.get_indexer([last])[0] if last in weeks else len(weeks) - 1
    recent_w = set(weeks[max(0, pos - recent + 1): pos + 1])
    base_w = set(weeks[max(0, pos - recent - baseline + 1): max(0, pos - recent + 1)])
    if not base_w:
        return pd.DataFrame()
    neg = mentions[mentions["polarity"] < 0]
    period = np.where(neg[week].isin(recent_w), "recent", np.where(neg[week].isin(base_w), "baseline", ""))
    counts = neg.assign(period=period)[period != ""].groupby([unit, "aspect", "period"]).size().unstack(
        fill_value=0).reindex(columns=["recent", "baseline"], fill_value=0)
    iperiod = np.where(items[week].isin(recent_w), "recent", np.where(items[week].isin(base_w), "baseline", ""))
    expo = items.assign(period=iperiod)[iperiod != ""].groupby([unit, "period"]).size().unstack(fill_value=0).reindex(
        columns=["recent", "baseline"], fill_value=0)
    t = counts.reset_index().merge(expo.reset_index().rename(columns={"recent": "recent_items",
                                                                      "baseline": "baseline_items"}), on=unit)
    t = t.rename(columns={"recent": "recent_negative", "baseline": "baseline_negative"})
    t.columns.name = None
    t = t[(t["recent_negative"] >= min_count) & (t["recent_items"] > 0) & (t["baseline_items"] > 0)].copy()
    if t.empty:
        return t.assign(rate_ratio=[], p_value=[], q_value=[], rising=[])
    x1, x0 = t["recent_negative"].to_numpy(), t["baseline_negative"].to_numpy()
    n1, n0 = t["recent_items"].to_numpy(float), t["baseline_items"].to_numpy(float)
    share = n1 / (n1 + n0)
    t["p_value"] = stats.binom.sf(x1 - 1, x1 + x0, share)  # P(X ≥ x1)
    t["rate_ratio"] = (x1 / n1) / (np.where(x0 > 0, x0, 0.5) / n0)
    t["q_value"] = bh(t["p_value"].to_numpy())
    t["rising"] = (t["q_value"] <= alpha) & (t["rate_ratio"] > 1)
    return t.sort_values(["q_value", "rate_ratio"], ascending=[True, False]).reset_index(drop=True)
