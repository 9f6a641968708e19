"""Agreement between shoppers: Krippendorff's α and the intraclass correlations.

:func:`krippendorff_alpha` follows Krippendorff (2011, *Computing Krippendorff's alpha-reliability*): the
coincidence matrix of the pairable values (units coded by two or more raters), the observed and the expected
disagreement under the level's difference function — nominal, ordinal (ranks from the values' marginal
frequencies), interval or ratio — and α = 1 − D_o / D_e. Units coded by fewer than two raters do not count.

:func:`icc` gives the six intraclass correlations of Shrout & Fleiss (1979) in McGraw & Wong's (1996) terms
from one two-way analysis of variance of a targets × raters table, with F tests and 95 % intervals as pingouin's
``intraclass_corr`` and R's ``psych::ICC`` compute them: ICC1 (one-way random), ICC2 (two-way random, absolute
agreement), ICC3 (two-way mixed, consistency) and their means of k raters. Targets missing a rater's rating are
left out (the table must be complete, as in pingouin); the result says how many targets were used.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import SQMArgumentError

LEVELS = ("nominal", "ordinal", "interval", "ratio")


def _coincidences(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, coincidence matrix) of a raters × units array with NaN for missing."""
    values = np.unique(data[~np.isnan(data)])
    if len(values) == 0:
        return values, np.zeros((0, 0))
    units = data.shape[1]
    counts = np.zeros((units, len(values)))  # units × values: how many raters gave each value
    r, u = np.nonzero(~np.isnan(data))
    np.add.at(counts, (u, np.searchsorted(values, data[r, u])), 1)
    m = counts.sum(axis=1)
    keep = m >= 2  # pairable units only
    counts, m = counts[keep], m[keep]
    w = 1.0 / (m - 1)
    o = (counts * w[:, None]).T @ counts - np.diag((counts * w[:, None]).sum(axis=0))
    return values, o


def _delta2(values: np.ndarray, marginals: np.ndarray, level: str) -> np.ndarray:
    c, k = np.meshgrid(values, values, indexing="ij")
    if level == "nominal":
        return (c != k).astype(float)
    if level == "interval":
        return (c - k) ** 2
    if level == "ratio":
        s = c + k
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.where(s == 0, 0.0, ((c - k) / np.where(s == 0, 1, s)) ** 2)
        return d
    # ordinal: (sum of the marginals from c to k − (n_c + n_k) / 2)²
    cum = np.concatenate([[0.0], np.cumsum(marginals)])
    i, j = np.meshgrid(np.arange(len(values)), np.arange(len(values)), indexing="ij")
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    between = cum[hi + 1] - cum[lo]
    return (between - (marginals[i] + marginals[j]) / 2) ** 2


def krippendorff_alpha(reliability_data, level: str = "nominal") -> float:
    """Krippendorff's α of a raters × units table.

    Parameters
    ----------
    reliability_data : array or DataFrame
        One row per rater (shopper), one column per unit (a visit's item, a recorded visit); NaN where a rater
        did not code a unit. Values are numbers (codes for nominal data).
    level : {"nominal", "ordinal", "interval", "ratio"}
        Nominal for yes/no answers, ordinal for 1–5 ratings, interval or ratio where the numbers are measures.

    Returns
    -------
    float
        α (1 perfect agreement, 0 agreement as by chance); NaN when fewer than two values are pairable or the
        pairable values do not vary.

    Examples
    --------
    >>> krippendorff_alpha([[1, 2, 3, 3], [1, 2, 3, 4]], level="interval")  # doctest: +SKIP
    """
    if level not in LEVELS:
        raise SQMArgumentError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    data = np.asarray(reliability_data.to_numpy() if isinstance(reliability_data, pd.DataFrame)
                      else reliability_data, dtype=float)
    if data.ndim != 2:
        raise SQMArgumentError("reliability_data must be a raters × units table")
    values, o = _coincidences(data)
    if len(values) < 2:
        return float("nan")
    nc = o.sum(axis=1)
    n = nc.sum()
    d2 = _delta2(values, nc, level)
    expected = (np.outer(nc, nc) * d2).sum()
    if n <= 1 or expected == 0:
        return float("nan")
    return float(1 - (n - 1) * (o * d2).sum() / expected)


ICC_TYPES = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")


def icc(data: pd.DataFrame, *, targets: str, raters: str, ratings: str, confidence: float = 0.95) -> pd.DataFrame:
    """The six intraclass correlations of a long table (one row a rating).

    Parameters
    ----------
    data : DataFrame
        Columns ``targets`` (what is rated: a staged visit), ``raters`` (the shopper) and ``ratings``.
        A target rated twice by one rater takes the mean of the two; targets without every rater's rating are
        left out.
    confidence : float
        Level of the intervals.

    Returns
    -------
    DataFrame
        Indexed ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k with columns ``icc``, ``ci_low``, ``ci_high``, ``F``,
        ``df1``, ``df2``, ``p_value``; ``attrs["targets"]`` and ``attrs["raters"]`` the table's size and
        ``attrs["dropped"]`` the targets left out.
    """
    wide = data.pivot_table(index=targets, columns=raters, values=ratings, aggfunc="mean", observed=True)
    complete = wide.dropna()
    x = complete.to_numpy(dtype=float)
    n, k = x.shape
    if n < 2 or k < 2:
        raise SQMArgumentError(f"the intraclass correlation needs two or more targets rated by every one of two or "
                               f"more raters; {n} complete target(s), {k} rater(s)")
    grand = x.mean()
    ssr = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ssc = n * ((x.mean(axis=0) - grand) ** 2).sum()
    sst = ((x - grand) ** 2).sum()
    sse = sst - ssr - ssc
    dfr, dfc, dfe, dfw = n - 1, k - 1, (n - 1) * (k - 1), n * (k - 1)
    msr, msc, mse, msw = ssr / dfr, ssc / dfc, sse / dfe, (ssc + sse) / dfw
    v = {"ICC1": (msr - msw) / (msr + (k - 1) * msw),
         "ICC2": (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n),
         "ICC3": (msr - mse) / (msr + (k - 1) * mse),
         "ICC1k": (msr - msw) / msr,
         "ICC2k": (msr - mse) / (msr + (msc - mse) / n),
         "ICC3k": (msr - mse) / msr}
    a = 1 - confidence
    f1, f3 = msr / msw, msr / mse
    f1l, f1u = f1 / stats.f.ppf(1 - a / 2, dfr, dfw), f1 * stats.f.ppf(1 - a / 2, dfw, dfr)
    f3l, f3u = f3 / stats.f.ppf(1 - a / 2, dfr, dfe), f3 * stats.f.ppf(1 - a / 2, dfe, dfr)
    # ICC2: Satterthwaite's degrees of freedom of a·MSC + b·MSE (McGraw & Wong 1996, case 2A), multiplied out
    i2, fj = v["ICC2"], msc / mse
    vn = dfe * (k * i2 * fj + n * (1 + (k - 1) * i2) - k * i2) ** 2
    vd = dfr * k ** 2 * i2 ** 2 * fj ** 2 + (n * (1 + (k - 1) * i2) - k * i2) ** 2
    nu = vn / vd
    f2u, f2l = stats.f.ppf(1 - a / 2, dfr, nu), stats.f.ppf(1 - a / 2, nu, dfr)
    l2 = n * (msr - f2u * mse) / (f2u * (k * msc + (k * n - k - n) * mse) + n * msr)
    u2 = n * (f2l * msr - mse) / (k * msc + (k * n - k - n) * mse + n * f2l * msr)
    ci = {"ICC1": ((f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1)),
          "ICC2": (l2, u2),
          "ICC3": ((f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)),
          "ICC1k": (1 - 1 / f1l, 1 - 1 / f1u),
          "ICC2k": (l2 * k / (1 + l2 * (k - 1)), u2 * k / (1 + u2 * (k - 1))),
          "ICC3k": (1 - 1 / f3l, 1 - 1 / f3u)}
    ftest = {"ICC1": (f1, dfr, dfw), "ICC1k": (f1, dfr, dfw)}
    for t in ("ICC2", "ICC3", "ICC2k", "ICC3k"):
        ftest[t] = (f3, dfr, dfe)
    rows = [{"type": t, "icc": v[t], "ci_low": ci[t][0], "ci_high": ci[t][1], "F": ftest[t][0],
             "df1": ftest[t][1], "df2": ftest[t][2], "p_value": float(stats.f.sf(*ftest[t]))} for t in ICC_TYPES]
    out = pd.DataFrame(rows).set_index("type")
    out.attrs.update(targets=int(n), raters=int(k), dropped=int(len(wide) - n))
    return out
