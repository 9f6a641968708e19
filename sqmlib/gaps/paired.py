"""Paired statistics column by column: gaps with intervals, t, Wilcoxon and adjusted p-values."""
from __future__ import annotations

from typing import Sequence
import numpy as np
import pandas as pd
from scipy import stats


MOMENTS_NOTE = ("computed from moments: the Wilcoxon test needs the rows and is not given (wilcoxon_p is "
                "missing)")
QUADRANTS = {(True, False): "concentrate here", (True, True): "keep up the good work",
             (False, False): "low priority", (False, True): "possible overkill"}
CROSSHAIRS = ("mean", "median", "midpoint")


# ---------------------------------------------------------------------------------------------------------
# paired statistics, column by column
# ---------------------------------------------------------------------------------------------------------
def _wilcoxon_p(d: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value (zeros dropped, normal approximation with tie correction, no
    continuity correction: scipy's ``wilcoxon(d, method="approx")``). Ranks come from counts of the distinct
    absolute differences, so integer-valued answers cost one pass."""
    d = d[d != 0]
    n = d.size
    if n == 0:
        return np.nan
    a = np.abs(d)
    if np.all(a == np.round(a)) and a.max() < 1e6:
        counts = np.bincount(a.astype(np.int64))
        vals = np.flatnonzero(counts)
        cnt = counts[vals]
        pos = np.bincount(a[d > 0].astype(np.int64), minlength=counts.size)[vals]
    else:
        vals, inv, cnt = np.unique(a, return_inverse=True, return_counts=True)
        pos = np.bincount(inv[d > 0], minlength=vals.size)
    upper = np.cumsum(cnt)
    avg_rank = upper - (cnt - 1) / 2.0
    r_plus = float((avg_rank * pos).sum())
    mean = n * (n + 1) / 4.0
    var = n * (n + 1) * (2 * n + 1) / 24.0 - ((cnt ** 3 - cnt).sum()) / 48.0
    if var <= 0:
        return np.nan
    z = (r_plus - mean) / np.sqrt(var)
    return float(2 * stats.norm.sf(abs(z)))


def _paired_frame(names: Sequence[str], n: np.ndarray, mean_p: np.ndarray, mean_e: np.ndarray, mean_d: np.ndarray,
                  sd: np.ndarray, zero_sd: np.ndarray, shares: tuple, wilcoxon_p: np.ndarray,
                  confidence: float) -> pd.DataFrame:
    """The paired table from per-column n, means, sd of the gap and the shares above / at / below zero:
    interval, t, p, d_z, and a ``note`` where there is no test."""
    with np.errstate(invalid="ignore", divide="ignore"):
        se = sd / np.sqrt(n)
        t = mean_d / se
        df = n - 1
        p = 2 * stats.t.sf(np.abs(t), df)
        half = stats.t.ppf(0.5 + confidence / 2, df) * se
        dz = mean_d / sd
    note = np.where(n < 2, "fewer than two paired answers: no interval or test", "")
    zero_sd = (n >= 2) & zero_sd
    note = np.where(zero_sd, "every respondent has the same gap: no test", note)
    t = np.where(zero_sd | (n < 2), np.nan, t)
    p = np.where(zero_sd | (n < 2), np.nan, p)
    exceed, meet, below = shares
    return pd.DataFrame({
        "name": list(names), "n": n, "mean_e": mean_e, "mean_p": mean_p, "gap": mean_d,
        "ci_low": mean_d - half, "ci_high": mean_d + half, "t": t, "p_value": p, "wilcoxon_p": wilcoxon_p,
        "dz": dz, "share_exceed": exceed, "share_meet": meet, "share_below": below, "note": note,
    })


def weighted_columns(X: np.ndarray, weights) -> tuple[np.ndarray, ...]:
    """Per column of ``X`` (missing answers NaN), over the respondents with an answer and a positive finite
    sampling weight: the respondents n, Kish's n_eff = (Σw)²/Σw², the weighted mean and the weighted sd
    s_w = √(Σw(x − x̄)²/Σw · n_eff/(n_eff − 1)); and the weights matrix W (0 where a cell does not count)."""
    X = np.asarray(X, dtype=float)
    w = np.asarray(weights, dtype=float).reshape(-1, 1)
    mask = ~np.isnan(X) & np.isfinite(w) & (w > 0)
    W = np.where(mask, w, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sw = W.sum(axis=0)
        n_eff = sw ** 2 / (W ** 2).sum(axis=0)
        mean = (W * np.where(mask, X, 0.0)).sum(axis=0) / sw
        sd = np.sqrt((W * np.where(mask, X - mean, 0.0) ** 2).sum(axis=0) / sw * n_eff / (n_eff - 1))
    return mask.sum(axis=0), n_eff, mean, sd, W


def weighted_paired_table(P: np.ndarray, E: np.ndarray, names: Sequence[str], weights: np.ndarray, *,
                          confidence: float = 0.95) -> pd.DataFrame:
    """:func:`paired_table` with sampling weights: weighted means of P, E and the gap, weighted shares, and the
    paired t on Kish's effective n (n_eff = (Σw)²/Σw² of the respondents with both answers): SE = s_w/√n_eff
    with s_w² = Σw(d − d̄)²/Σw · n_eff/(n_eff − 1), df = n_eff − 1 (:func:`weighted_columns`). No Wilcoxon test
    (``wilcoxon_p`` missing); ``n`` is the respondents, ``n_eff`` Kish's n."""
    P, E = np.asarray(P, dtype=float), np.asarray(E, dtype=float)
    n, n_eff, mean_d, sd, W = weighted_columns(P - E, weights)
    D = np.where(W > 0, P - E, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        sw = W.sum(axis=0)
        mean_p = (W * np.nan_to_num(P)).sum(axis=0) / sw
        mean_e = (W * np.nan_to_num(E)).sum(axis=0) / sw
        shares = tuple((W * cmp).sum(axis=0) / sw for cmp in (D > 0, D == 0, D < 0))
    out = _paired_frame(names, n_eff, mean_p, mean_e, mean_d, sd, sd == 0, shares, np.full(len(n), np.nan),
                        confidence)
    out["n"] = n
    out.insert(out.columns.get_loc("n") + 1, "n_eff", n_eff)
    return out


def paired_table(P: np.ndarray, E: np.ndarray, names: Sequence[str], *, confidence: float = 0.95,
                 wilcoxon: bool = True) -> pd.DataFrame:
    """Paired comparison of P and E for every column: n, means, gap P − E with its ``confidence`` interval,
    paired t and p, Wilcoxon p, effect size d_z and the shares of respondents with P > E, P = E, P < E.

    Only respondents with both answers count for a column. Columns with fewer than two such respondents get
    no interval or test, and say so in ``note``. With sampling weights: :func:`weighted_paired_table`.
    """
    P = np.asarray(P, dtype=float)
    E = np.asarray(E, dtype=float)
    mask = ~np.isnan(P) & ~np.isnan(E)
    n = mask.sum(axis=0)
    D = np.where(mask, P - E, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_d = D.sum(axis=0) / n
        dev = np.where(mask, D - mean_d, 0.0)
        sd = np.sqrt((dev ** 2).sum(axis=0) / (n - 1))
        mean_p = np.where(mask, P, 0.0).sum(axis=0) / n
        mean_e = np.where(mask, E, 0.0).sum(axis=0) / n
        shares = tuple((mask & cmp).sum(axis=0) / n for cmp in (D > 0, D == 0, D < 0))
    wp = np.array([_wilcoxon_p(D[mask[:, j], j]) if wilcoxon and n[j] >= 2 else np.nan
                   for j in range(D.shape[1])])
    return _paired_frame(names, n, mean_p, mean_e, mean_d, sd, sd == 0, shares, wp, confidence)


def paired_from_sums(sums: np.ndarray, names: Sequence[str], *, confidence: float = 0.95) -> pd.DataFrame:
    """:func:`paired_table` from sums (one row per column: n, ΣP, ΣE, Σd, Σd², n with P > E, P = E, P < E, and
    optionally Σw² and the respondents), as :mod:`sqmlib.moments` keeps them. Wilcoxon's test needs the rows:
    ``wilcoxon_p`` is missing.

    Sums taken with sampling weights (n = Σw, the sums and counts weighted, Σw² ≠ n) give
    :func:`weighted_paired_table`'s numbers: the variance Σw(d − d̄)²/(Σw − Σw²/Σw), the test on Kish's
    n_eff = (Σw)²/Σw², ``n`` the respondents and a column ``n_eff``."""
    sums = np.atleast_2d(np.asarray(sums, dtype=float))
    n, sp, se, sd_, sdd, npos, nzero, nneg = sums.T[:8]
    sww, rows = (sums.T[8], sums.T[9]) if sums.shape[1] >= 10 else (n, n)
    weighted = bool(np.any(sww != n))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_d = sd_ / n
        ss = sdd - sd_ * mean_d
        # every respondent with the same gap: ss is zero up to rounding of the sums
        same = ss <= 1e-12 * np.maximum(sdd, 1.0)
        if weighted:
            n_eff = n * n / sww
            sd = np.sqrt(np.where(same, 0.0, ss) / (n - sww / n))
        else:
            n_eff = n
            sd = np.sqrt(np.where(same, 0.0, ss) / (n - 1))
        out = _paired_frame(names, n_eff, sp / n, se / n, mean_d, sd, same, (npos / n, nzero / n, nneg / n),
                            np.full(len(n), np.nan), confidence)
    out["n"] = rows.astype(int)
    if weighted:
        out.insert(out.columns.get_loc("n") + 1, "n_eff", n_eff)
    return out


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values, as statsmodels' ``multipletests(method="holm")`` computes them (the
    same arithmetic, without the garbage collection statsmodels runs on every call)."""
    order = np.argsort(p)
    adjusted = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    adjusted[adjusted > 1] = 1
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


def adjust_p(p: Sequence[float], method: str = "holm") -> np.ndarray:
    """Holm or Benjamini–Hochberg adjusted p-values (missing ones stay missing)."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        m = {"holm": "holm", "bh": "fdr_bh", "fdr_bh": "fdr_bh", "none": None}[method.lower()]
        out[ok] = p[ok] if m is None else holm(p[ok]) if m == "holm" else multipletests(p[ok], method=m)[1]
    return out
