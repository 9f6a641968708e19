"""Did it work? Interrupted time series and difference-in-differences for an action's KPI.

:func:`its` fits a segmented regression to one series (level and slope change at ``start``; annual Fourier terms
when the series covers two years) with Newey–West (HAC) errors. :func:`did` compares the treated units with the
untreated ones in a two-way fixed-effects regression (unit and period effects) with Driscoll–Kraay errors, and
tests the event study's leads jointly (parallel trends before the start). Both are ordinary least squares
written out in NumPy; the tests check them against statsmodels' OLS on the same design to 1e-10
(``cov_type="HAC"`` and ``"hac-groupsum"``). :func:`verdict` turns a check into one of four words with the rule
the page prints.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import SQMArgumentError

__all__ = ["Effect", "its", "did", "verdict", "newey_west_lags", "MIN_PRE", "MIN_POST", "ALPHA", "PRETREND_ALPHA",
           "VERDICTS"]

MIN_PRE = 8  # periods before the start an effect needs (else: cannot judge)
MIN_POST = 4  # periods after it
ALPHA = 0.05  # an effect in the expected direction with p below this is "effective"; against it, "worse"
PRETREND_ALPHA = 0.05  # leads jointly different from zero below this: the comparison is not trusted
MAX_LEADS = 6  # event-study lead bins before the start (the last before the start is the reference)
VERDICTS = ("effective", "not_shown", "worse", "cannot_judge")


def newey_west_lags(n: int) -> int:
    """The Newey–West rule for the HAC window, floor(4 (n/100)^(2/9)) (statsmodels' default)."""
    return int(np.floor(4 * (n / 100) ** (2 / 9)))


@dataclass(frozen=True)
class Effect:
    """An estimated effect: ``effect`` with its standard error, 95 % interval and p value (t with the residual
    degrees of freedom for :func:`its`, the periods less one for :func:`did`); ``method`` ("its" or "did"),
    ``n_pre`` and ``n_post`` periods, ``pretrend_p`` (did: the leads' joint test), ``persistence`` (the effect after
    the action's end, with ``persistence_se``/``persistence_p``, when there are such periods), ``params`` and
    ``cov`` of the regression, and ``fitted``/``counterfactual`` series (its: the treated series; did: the treated
    units' mean and the same without the effect)."""

    method: str
    effect: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n_pre: int
    n_post: int
    pretrend_p: float = np.nan
    persistence: float = np.nan
    persistence_se: float = np.nan
    persistence_p: float = np.nan
    level: float = np.nan  # its: level change at the start
    slope: float = np.nan  # its: slope change per period
    params: pd.Series = field(default=None, repr=False)
    cov: pd.DataFrame = field(default=None, repr=False)
    observed: pd.Series = field(default=None, repr=False)
    counterfactual: pd.Series = field(default=None, repr=False)
    lags: int = 0
    df: int = 0


def _ols(x: np.ndarray, y: np.ndarray):
    q, r = np.linalg.qr(x)
    beta = np.linalg.solve(r, q.T @ y)
    resid = y - x @ beta
    r_inv = np.linalg.inv(r)
    return beta, resid, r_inv @ r_inv.T  # (X'X)^-1


def _bartlett_sum(scores: np.ndarray, lags: int) -> np.ndarray:
    """Σ_l w_l (Γ_l + Γ_l') with Bartlett weights, for rows of scores in time order."""
    s = scores.T @ scores
    for lag in range(1, lags + 1):
        g = scores[lag:].T @ scores[:-lag]
        s += (1 - lag / (lags + 1)) * (g + g.T)
    return s


def _test(est: float, se: float, df: int) -> tuple[float, float, float]:
    if not np.isfinite(se) or se <= 0:
        return np.nan, np.nan, np.nan
    t = stats.t.ppf(0.975, df)
    return est - t * se, est + t * se, float(2 * stats.t.sf(abs(est / se), df))


def _periods(index) -> pd.Index:
    idx = pd.Index(index)
    if not idx.is_monotonic_increasing or idx.has_duplicates:
        raise SQMArgumentError("the series' periods must be increasing and unique")
    return idx


def _position(index: pd.Index, when) -> int:
    """The first period at or after ``when`` (a period or timestamp)."""
    if isinstance(index, pd.PeriodIndex):
        when = pd.Period(when, freq=index.freq) if not isinstance(when, pd.Period) else when.asfreq(index.freq)
        return int(index.searchsorted(when, side="left"))
    if isinstance(index, pd.DatetimeIndex):
        return int(index.searchsorted(pd.Timestamp(when), side="left"))
    return int(index.searchsorted(when, side="left"))


def _season(index: pd.Index, n: int) -> np.ndarray | None:
    """Two annual Fourier pairs when the series covers at least two years (dated periods only)."""
    if isinstance(index, pd.PeriodIndex):
        when = index.to_timestamp()
    elif isinstance(index, pd.DatetimeIndex):
        when = index
    else:
        return None
    if (when[-1] - when[0]).days < 2 * 365:
        return None
    year = (when.dayofyear.to_numpy() - 1) / 365.25
    return np.column_stack([f(2 * np.pi * k * year) for k in (1, 2) for f in (np.sin, np.cos)])


def its(series: pd.Series, *, start, end=None, lags: int | None = None) -> Effect:
    """Interrupted time series: segmented regression of one KPI series on time, a level change and a slope
    change at ``start`` (and a level change after ``end`` when given: the persistence), with annual Fourier
    terms when the series covers two years or more.

    Parameters
    ----------
    series : Series
        The KPI per period, indexed by increasing periods (PeriodIndex, dates or integers); missing values are
        dropped (the periods keep their place in time).
    start, end : period or date
        When the action started (and ended; optional).
    lags : int, optional
        The Newey–West window (default floor(4 (n/100)^(2/9))).

    Returns
    -------
    Effect
        ``effect``: the mean difference between the observed series and its counterfactual (the pre-period line
        continued) over the periods from ``start`` (to ``end``), i.e. level + slope × the mean time since the
        start; ``level`` and ``slope`` separately. Errors: HAC with Bartlett weights and statsmodels' small-sample
        factor n/(n − k); p and interval from t with n − k degrees of freedom.
    """
    idx = _periods(series.index)
    y_all = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    n_all = len(idx)
    t = np.arange(n_all, dtype=float)
    t0 = _position(idx, start)
    t1 = _position(idx, end) if end is not None else n_all
    post = (t >= t0).astype(float)
    after = (t >= t1).astype(float) if end is not None and t1 < n_all else None
    cols = {"const": np.ones(n_all), "time": t, "level": post, "slope": (t - t0) * post}
    if after is not None:
        cols["after_end"] = after
    season = _season(idx, n_all)
    if season is not None:
        for k in range(season.shape[1]):
            cols[f"season{k + 1}"] = season[:, k]
    x_all = np.column_stack(list(cols.values()))
    ok = np.isfinite(y_all)
    x, y, tt = x_all[ok], y_all[ok], t[ok]
    n_pre, n_post = int(((tt < t0)).sum()), int(((tt >= t0) & (tt < t1)).sum())
    n, k = x.shape
    if n_pre < 2 or n_post < 1 or n <= k:
        return Effect("its", np.nan, np.nan, np.nan, np.nan, np.nan, n_pre, n_post)
    beta, resid, xtx_inv = _ols(x, y)
    L = newey_west_lags(n) if lags is None else int(lags)
    meat = _bartlett_sum(x * resid[:, None], L)
    cov = xtx_inv @ meat @ xtx_inv * (n / (n - k))
    names = list(cols)
    during = (tt >= t0) & (tt < t1)
    c = np.zeros(k)
    c[names.index("level")] = 1.0
    c[names.index("slope")] = float(np.mean(tt[during] - t0))
    est, se = float(c @ beta), float(np.sqrt(c @ cov @ c))
    lo, hi, p = _test(est, se, n - k)
    pers = pers_se = pers_p = np.nan
    if after is not None and ok[t >= t1].any():
        a = names.index("after_end")
        ca = c.copy()
        ca[names.index("slope")] = float(np.mean(tt[tt >= t1] - t0))
        ca[a] = 1.0
        pers, pers_se = float(ca @ beta), float(np.sqrt(ca @ cov @ ca))
        pers_p = _test(pers, pers_se, n - k)[2]
    fitted = x_all @ beta
    cf_x = x_all.copy()
    for name in ("level", "slope", "after_end"):
        if name in names:
            cf_x[:, names.index(name)] = 0.0
    return Effect("its", est, se, lo, hi, p, n_pre, n_post, persistence=pers, persistence_se=pers_se,
                  persistence_p=pers_p, level=float(beta[names.index("level")]),
                  slope=float(beta[names.index("slope")]), params=pd.Series(beta, index=names),
                  cov=pd.DataFrame(cov, index=names, columns=names),
                  observed=pd.Series(y_all, index=idx, name="observed"),
                  counterfactual=pd.Series(np.where(t >= t0, cf_x @ beta, fitted), index=idx, name="counterfactual"),
                  lags=L, df=n - k)


def _driscoll_kraay(x: np.ndarray, resid: np.ndarray, time: np.ndarray, n_times: int, lags: int,
                    xtx_inv: np.ndarray) -> np.ndarray:
    """Driscoll–Kraay covariance: scores summed per period, then Newey–West over the periods, with statsmodels'
    "cluster" small-sample factor T/(T − 1) · (N − 1)/(N − k)."""
    scores = np.zeros((n_times, x.shape[1]))
    np.add.at(scores, time, x * resid[:, None])
    meat = _bartlett_sum(scores, lags)
    n, k = x.shape
    used = len(np.unique(time))
    return xtx_inv @ meat @ xtx_inv * (used / (used - 1)) * ((n - 1) / (n - k))


def _dummies(codes: np.ndarray, n: int, drop_first: bool = True) -> np.ndarray:
    d = np.zeros((len(codes), n))
    d[np.arange(len(codes)), codes] = 1.0
    return d[:, 1:] if drop_first else d


def did(panel: pd.DataFrame, *, unit: str, time: str, outcome: str, treated, start, end=None,
        lags: int | None = None, bin: int | None = None) -> Effect:
    """Difference-in-differences: the treated units' change from before ``start`` against the untreated units'
    change over the same periods, as a two-way fixed-effects regression
    ``outcome ~ unit + period + treated × during [+ treated × after end]``.

    Parameters
    ----------
    panel : DataFrame
        One row per unit and period (missing outcomes dropped).
    unit, time, outcome : str
        Columns: the unit, the period (sortable: Period, date or integer) and the KPI.
    treated : str or collection
        A boolean column, or the treated units' names; every other unit is a control.
    start, end : period or date
        When the action started (and ended; optional, for ``persistence``).
    lags : int, optional
        Newey–West window over periods for the errors (default floor(4 (T/100)^(2/9))).
    bin : int, optional
        Periods per event-study bin (default: enough that at most six lead bins precede the start).

    Returns
    -------
    Effect
        ``effect`` (the coefficient of treated × during), errors by Driscoll–Kraay (robust to correlation
        between units in a period and over periods; an action's scope is usually one or a few units, too few for
        errors clustered by unit) — statsmodels' ``cov_type="hac-groupsum"`` —, p and interval from t with
        T − 1 degrees of freedom; ``pretrend_p``: the joint Wald test (χ²) that the event study's leads (bins of
        periods before the start, the last one the reference) are zero.
    """
    for c in (unit, time, outcome):
        if c not in panel:
            raise SQMArgumentError(f"did: no column {c!r} in the panel")
    d = panel[[unit, time, outcome] + ([treated] if isinstance(treated, str) else [])].copy()
    d[outcome] = pd.to_numeric(d[outcome], errors="coerce")
    d = d[d[outcome].notna()]
    is_t = (d[treated].astype(bool).to_numpy() if isinstance(treated, str)
            else d[unit].isin(set(treated)).to_numpy())
    if is_t.all() or not is_t.any():
        raise SQMArgumentError("did needs treated and untreated units")
    periods = _periods(pd.Index(sorted(d[time].unique())))
    tcode = periods.get_indexer(d[time])
    units = pd.Index(sorted(d[unit].astype(str).unique()))
    ucode = units.get_indexer(d[unit].astype(str))
    t0 = _position(periods, start)
    t1 = _position(periods, end) if end is not None else len(periods)
    during = (is_t & (tcode >= t0) & (tcode < t1)).astype(float)
    after = (is_t & (tcode >= t1)).astype(float)
    n_pre, n_post = int(t0), int(min(t1, len(periods)) - t0)
    y = d[outcome].to_numpy(dtype=float)
    base = np.column_stack([np.ones(len(d)), _dummies(ucode, len(units)), _dummies(tcode, len(periods))])
    names = ["const"] + [f"unit[{u}]" for u in units[1:]] + [f"period[{p}]" for p in periods[1:]]
    x = np.column_stack([base, during] + ([after] if after.any() else []))
    names = names + ["treated_during"] + (["treated_after"] if after.any() else [])
    if n_pre < 2 or n_post < 1 or len(y) <= x.shape[1]:
        return Effect("did", np.nan, np.nan, np.nan, np.nan, np.nan, n_pre, n_post)
    L = newey_west_lags(len(periods)) if lags is None else int(lags)
    beta, resid, xtx_inv = _ols(x, y)
    cov = _driscoll_kraay(x, resid, tcode, len(periods), L, xtx_inv)
    df = len(np.unique(tcode)) - 1
    j = names.index("treated_during")
    est, se = float(beta[j]), float(np.sqrt(cov[j, j]))
    lo, hi, p = _test(est, se, df)
    pers = pers_se = pers_p = np.nan
    if "treated_after" in names:
        a = names.index("treated_after")
        pers, pers_se = float(beta[a]), float(np.sqrt(cov[a, a]))
        pers_p = _test(pers, pers_se, df)[2]
    pre_p = event_study(d, is_t, tcode, ucode, y, t0, bin)[0]
    # the treated units' mean per period, and the same without the effect
    fitted = x @ beta
    frame = pd.DataFrame({"t": tcode, "y": y, "cf": fitted - beta[j] * during
                          - (beta[names.index("treated_after")] * after if "treated_after" in names else 0)})[is_t]
    mean = frame.groupby("t").mean().reindex(range(len(periods)))
    return Effect("did", est, se, lo, hi, p, n_pre, n_post, pretrend_p=pre_p, persistence=pers,
                  persistence_se=pers_se, persistence_p=pers_p, params=pd.Series(beta, index=names),
                  cov=pd.DataFrame(cov, index=names, columns=names),
                  observed=pd.Series(mean["y"].to_numpy(), index=periods, name="observed"),
                  counterfactual=pd.Series(mean["cf"].to_numpy(), index=periods, name="counterfactual"),
                  lags=L, df=df)


def _bin_size(t0: int, bin: int | None) -> int:
    """Periods per event-study bin: as given, else enough that at most :data:`MAX_LEADS` lead bins precede the
    reference bin."""
    return max(1, int(np.ceil(t0 / (MAX_LEADS + 1)))) if bin is None else bin


def event_design(tcode: np.ndarray, is_t: np.ndarray, t0: int, bin: int | None = None
                 ) -> tuple[np.ndarray, list[int]]:
    """The event study's indicator columns (treated × event-time bin, the bin just before the start left out
    as the reference) and each column's bin (negative: leads). Bins of ``bin`` periods counted from the start;
    the earliest leads and the latest lags are pooled at their ends (at most :data:`MAX_LEADS` lead bins)."""
    bin = _bin_size(t0, bin)
    rel = np.floor((tcode - t0) / bin).astype(int)
    lowest = max(int(rel.min()), -(MAX_LEADS + 1))
    rel = np.maximum(rel, lowest)
    bins = [b for b in range(lowest, int(rel.max()) + 1) if b != -1]
    cols = np.column_stack([(is_t & (rel == b)).astype(float) for b in bins])
    return cols, bins


def event_study(panel: pd.DataFrame, is_t: np.ndarray, tcode: np.ndarray, ucode: np.ndarray, y: np.ndarray,
                t0: int, bin: int | None = None) -> tuple[float, pd.Series, pd.DataFrame]:
    """The event study behind :func:`did`'s pre-trend test: the outcome averaged per unit and bin of periods,
    regressed on unit and bin effects and treated × bin indicators (leads before the start, lags from it; the
    bin just before the start is the reference), with the classical OLS covariance pooled over all unit-bins
    (bins of several periods carry little of the periods' autocorrelation, and a lead's own few periods are too
    few for a robust covariance of its own). With one treated and one control unit the leads would leave no
    residual: the test is then of a linear trend in the treated unit's difference across the lead bins. Returns the F test's p that every lead is zero, the treated ×
    bin coefficients and their covariance (index: the bins, negative for leads)."""
    cols, bins = event_design(tcode, is_t, t0, bin)
    size = _bin_size(t0, bin)
    cell = np.floor((tcode - t0) / size).astype(int)
    frame = pd.DataFrame({"u": ucode, "b": cell, "y": y, "t": is_t})
    agg = frame.groupby(["u", "b"], sort=True).agg(y=("y", "mean"), t=("t", "first")).reset_index()
    lowest = min(bins) if bins else -1
    rel = np.maximum(agg["b"].to_numpy(), lowest)
    treated = agg["t"].to_numpy(dtype=bool)
    ind = np.column_stack([(treated & (rel == b)).astype(float) for b in bins])
    keep = ind.any(axis=0)
    ind, bins = ind[:, keep], [b for b, k in zip(bins, keep) if k]
    bcodes = pd.Index(sorted(agg["b"].unique()))
    ucodes = pd.Index(sorted(agg["u"].unique()))
    fixed = np.column_stack([np.ones(len(agg)), _dummies(ucodes.get_indexer(agg["u"]), len(ucodes)),
                             _dummies(bcodes.get_indexer(agg["b"]), len(bcodes))])
    yy = agg["y"].to_numpy(dtype=float)
    if len(yy) - fixed.shape[1] - ind.shape[1] < 2:
        # one treated and one control unit: the leads one by one leave no residual to judge them by, so the
        # test is of a linear trend across the lead bins (the bins from the start keep their own indicators)
        lags = [k for k, b in enumerate(bins) if b >= 0]
        slope = (treated & (rel < 0)) * (rel + 1.0)
        ind = np.column_stack([slope] + [ind[:, k] for k in lags])
        bins = [-2] + [bins[k] for k in lags]  # the trend stands in for the leads
    x = np.column_stack([fixed, ind])
    k0 = fixed.shape[1]
    df = len(yy) - x.shape[1]
    if df < 1 or np.linalg.matrix_rank(x) < x.shape[1]:
        return np.nan, pd.Series(dtype=float), pd.DataFrame()
    beta, resid, xtx_inv = _ols(x, yy)
    cov = xtx_inv * float(resid @ resid) / df
    coef = pd.Series(beta[k0:], index=bins)
    v = pd.DataFrame(cov[k0:, k0:], index=bins, columns=bins)
    leads = [b for b in bins if b < -1]
    if not leads:
        return np.nan, coef, v
    b_, v_ = coef[leads].to_numpy(), v.loc[leads, leads].to_numpy()
    f = float(b_ @ np.linalg.solve(v_, b_)) / len(leads)
    return float(stats.f.sf(f, len(leads), df)), coef, v


def verdict(effect: Effect, direction: str) -> str:
    """One word for a check (the rule the page prints): ``cannot_judge`` with fewer than :data:`MIN_PRE`
    periods before the start or :data:`MIN_POST` after it, or when the leads reject parallel trends
    (``pretrend_p`` < :data:`PRETREND_ALPHA`); ``effective`` when the effect goes the expected way
    (``direction`` "down" or "up") with p < :data:`ALPHA`; ``worse`` when it goes the other way with p < ALPHA;
    otherwise ``not_shown``."""
    if (effect.n_pre < MIN_PRE or effect.n_post < MIN_POST or not np.isfinite(effect.p_value)
            or (np.isfinite(effect.pretrend_p) and effect.pretrend_p < PRETREND_ALPHA)):
        return "cannot_judge"
    if effect.p_value >= ALPHA:
        return "not_shown"
    wanted = -1 if direction == "down" else 1
    return "effective" if np.sign(effect.effect) == wanted else "worse"
