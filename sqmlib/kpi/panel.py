"""Comparing two waves of a survey in which some or all respondents answered both (a panel).

Treating the waves as independent samples ignores that a person's answers in the two waves go together; for
most KPIs they correlate positively and the independent test's standard error is too large (a real change is
called noise). With the person's id (``role: panel`` in the instrument):

- every respondent answered both waves once: McNemar's test for a share (R's ``mcnemar.test``: χ² with the
  continuity correction, on the discordant pairs) and the paired t test for a mean or an NPS (each answer
  scored promoter +1, passive 0, detractor −1);
- only some repeat (or some answered twice in a wave): the difference of the two waves' means with
  cluster-robust standard errors (each person a cluster, statsmodels' CR1 correction, z test), which is the
  independent test when nobody repeats.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats


class WaveChange(NamedTuple):
    """A KPI's change between two waves: the p-value, the test used, the people in both waves, and for a mean
    the interval of the change (paired t: t quantile on n − 1 df; cluster-robust: normal quantile)."""

    p_value: float
    test: str
    repeated: int
    ci_low: float = np.nan
    ci_high: float = np.nan


def _paired_frame(cur: pd.Series, prev: pd.Series, ids_cur: pd.Series, ids_prev: pd.Series) -> pd.DataFrame | None:
    """Each person's answer in both waves, when every respondent of both answered each wave exactly once."""
    a = pd.DataFrame({"id": ids_cur.to_numpy(), "y": cur.to_numpy()}).dropna()
    b = pd.DataFrame({"id": ids_prev.to_numpy(), "y": prev.to_numpy()}).dropna()
    if a["id"].duplicated().any() or b["id"].duplicated().any():
        return None
    if set(a["id"]) != set(b["id"]):
        return None
    return a.merge(b, on="id", suffixes=("_cur", "_prev"))


def wave_change(cur: pd.Series, prev: pd.Series, ids_cur: pd.Series, ids_prev: pd.Series, *,
                kind: str = "mean", confidence: float = 0.95) -> WaveChange:
    """Test the change of a KPI between two waves of a panel.

    Parameters
    ----------
    cur, prev : Series
        Each respondent's value in the current and the previous wave: a 0/1 indicator for a share (``kind``
        ``"share"``), a score (``"mean"``; for NPS the +1/0/−1 score, the result ×100 is the NPS change).
    ids_cur, ids_prev : Series
        The person's panel id of each respondent (aligned with ``cur`` and ``prev``).

    Returns
    -------
    WaveChange
        p-value, the test's name and the number of people in both waves.
    """
    ids_cur, ids_prev = ids_cur.astype(str), ids_prev.astype(str)
    repeated = len(set(ids_cur[cur.notna()]) & set(ids_prev[prev.notna()]))
    pairs = _paired_frame(cur, prev, ids_cur, ids_prev)
    if pairs is not None and len(pairs) > 1:
        if kind == "share":
            b = int(((pairs["y_cur"] == 1) & (pairs["y_prev"] == 0)).sum())
            c = int(((pairs["y_cur"] == 0) & (pairs["y_prev"] == 1)).sum())
            if b + c == 0:
                return WaveChange(1.0, "McNemar", len(pairs))
            chi2 = (abs(b - c) - 1) ** 2 / (b + c)
            return WaveChange(float(stats.chi2.sf(chi2, 1)), "McNemar", len(pairs))
        d = (pairs["y_cur"] - pairs["y_prev"]).to_numpy(float)
        if np.all(d == d[0]):
            return WaveChange(1.0 if d[0] == 0 else 0.0, "paired t", len(pairs), d[0], d[0])
        res = stats.ttest_rel(pairs["y_cur"], pairs["y_prev"])
        ci = res.confidence_interval(confidence)
        return WaveChange(float(res.pvalue), "paired t", len(pairs), float(ci.low), float(ci.high))
    y = np.concatenate([cur.to_numpy(float), prev.to_numpy(float)])
    x = np.concatenate([np.ones(len(cur)), np.zeros(len(prev))])
    g = np.concatenate([ids_cur.to_numpy(), ids_prev.to_numpy()])
    ok = ~np.isnan(y)
    y, x, g = y[ok], x[ok], g[ok]
    if x.sum() < 2 or (1 - x).sum() < 2:
        return WaveChange(np.nan, "cluster-robust z", repeated)
    p, slope, se = _cluster_p(y, x, g)
    h = stats.norm.ppf(0.5 + confidence / 2) * se
    return WaveChange(p, "cluster-robust z", repeated, slope - h, slope + h)


def _cluster_p(y: np.ndarray, x: np.ndarray, groups: np.ndarray) -> tuple[float, float, float]:
    """(p, slope, standard error) of the slope of y on [1, x] with standard errors clustered by ``groups``
    (CR1: G/(G−1)·(N−1)/(N−2))."""
    X = np.column_stack([np.ones(len(y)), x])
    XtX_inv = np.linalg.inv(X.T @ X)
    beta = XtX_inv @ X.T @ y
    u = y - X @ beta
    codes, idx = np.unique(groups, return_inverse=True)
    scores = np.zeros((len(codes), 2))
    np.add.at(scores, idx, X * u[:, None])
    G, N = len(codes), len(y)
    meat = scores.T @ scores
    V = XtX_inv @ meat @ XtX_inv * (G / (G - 1)) * ((N - 1) / (N - 2))
    se = float(np.sqrt(V[1, 1]))
    return (float(2 * stats.norm.sf(abs(beta[1]) / se)) if se > 0 else np.nan), float(beta[1]), se
