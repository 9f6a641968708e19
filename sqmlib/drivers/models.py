"""Dominance analysis, driver models (OLS/logistic with diagnostics), penalty–reward (Kano) and segment differences."""
from __future__ import annotations

from .importance import _check_collinear, _group_indices, _lmg, _prepare, all_subsets_r2, lmg_from_r2, lmg_only, relative_importance, shares, weighted_corr
import warnings
from dataclasses import dataclass
from typing import NamedTuple, Sequence
import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning, PerfectSeparationWarning

from ..errors import Problem, SQMArgumentError, SQMDataError, SQMWarning
from ..periods import followed_up


# ---------------------------------------------------------------------------------------------------------
# dominance analysis
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DominanceResult:
    """Dominance analysis (Budescu 1993; Azen & Budescu 2003) from all-subsets R².

    Attributes
    ----------
    general : Series
        General dominance (= LMG) per driver.
    conditional : DataFrame
        Driver × subset size: mean increase in R² when the driver joins a subset of that size.
    complete : DataFrame
        Row driver vs column driver: ``"complete"``, ``"conditional"``, ``"general"`` (the strongest kind of
        dominance the row has over the column) or ``""``.
    r2 : float
    """

    general: pd.Series
    conditional: pd.DataFrame
    complete: pd.DataFrame
    r2: float

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame({"general": self.general, "share": 100 * self.general / self.general.sum()})

    def _repr_html_(self) -> str:
        return ("<p><b>Dominance analysis</b></p>" + self.summary().to_html(float_format=lambda v: f"{v:.4f}")
                + self.complete.to_html())


def dominance_analysis(data: pd.DataFrame, outcome: str, drivers: Sequence[str], *, weights=None) -> DominanceResult:
    """Complete, conditional and general dominance of every pair of drivers (linear model, R²)."""
    X, w, n = _prepare(data, outcome, drivers, weights)
    R = weighted_corr(X, w)
    p = len(drivers)
    _check_collinear(R[:p, :p], drivers)
    r2 = all_subsets_r2(R)
    general, cond = lmg_from_r2(r2, p)
    labels = np.empty((p, p), dtype=object)
    labels[:] = ""
    for i in range(p):
        for j in range(i + 1, p):
            # subsets of the others: axes for bits i (lo) and j (hi)
            v = r2.reshape(2 ** (p - j - 1), 2, 2 ** (j - i - 1), 2, 2 ** i)
            with_i = v[:, 0, :, 1, :]
            with_j = v[:, 1, :, 0, :]
            tol = 1e-12
            for a, b, x, y in ((i, j, with_i, with_j), (j, i, with_j, with_i)):
                if np.all(x > y + tol):
                    labels[a, b] = "complete"
                elif np.all(cond[a] > cond[b] + tol):
                    labels[a, b] = "conditional"
                elif general[a] > general[b] + tol:
                    labels[a, b] = "general"
    names = list(drivers)
    return DominanceResult(pd.Series(general, index=names, name="general"),
                           pd.DataFrame(cond, index=names, columns=[f"k={k}" for k in range(p)]),
                           pd.DataFrame(labels, index=names, columns=names), float(r2[-1]))


# ---------------------------------------------------------------------------------------------------------
# driver models
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DriverModelResult:
    """A fitted driver model.

    Attributes
    ----------
    kind : {"ols", "ordinal", "logit"}
    coefficients : DataFrame
        Per driver: ``coef``, ``se`` (HC3 for OLS), ``stat``, ``p_value`` (OLS: from the t distribution with the
        residual degrees of freedom, as R's lmtest::coeftest with sandwich::vcovHC(type = "HC3")), ``std_coef`` (standardised: for
        logit and ordinal models the coefficient times the driver's sd), ``r`` (zero-order correlation with
        the outcome), ``suppressor`` (sign of the standardised coefficient differs from r), ``vif``.
    fit : Series
        ``n``, ``r2`` (OLS) or ``pseudo_r2`` (McFadden), ``condition_number`` of the standardised drivers.
    dominance : Series or None
        General dominance on the model's R² or pseudo-R² (Shapley over all subsets of drivers).
    """

    kind: str
    coefficients: pd.DataFrame
    fit: pd.Series
    dominance: pd.Series | None
    model: object

    def summary(self) -> pd.DataFrame:
        return self.coefficients

    def _repr_html_(self) -> str:
        return (f"<p><b>Driver model ({self.kind})</b>: " + ", ".join(f"{k} {v:.3f}" for k, v in self.fit.items())
                + "</p>" + self.coefficients.to_html(float_format=lambda v: f"{v:.3f}"))


def vif(X: np.ndarray) -> np.ndarray:
    """Variance inflation factors: the diagonal of the inverse correlation matrix."""
    return np.diag(np.linalg.inv(np.corrcoef(X, rowvar=False)))


def _pseudo_r2_subsets(y: np.ndarray, X: np.ndarray, kind: str) -> np.ndarray:
    from statsmodels.discrete.discrete_model import Logit
    from statsmodels.tools.tools import add_constant
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    p = X.shape[1]
    out = np.zeros(2 ** p)
    with warnings.catch_warnings():  # 2^p refits: a subset that does not converge or separates is expected
        for category in (ConvergenceWarning, HessianInversionWarning, PerfectSeparationWarning, RuntimeWarning):
            warnings.simplefilter("ignore", category)
        if kind == "logit":
            ll0 = Logit(y, np.ones((len(y), 1))).fit(disp=0).llf
        else:
            ll0 = None
        for s in range(1, 2 ** p):
            cols = [j for j in range(p) if s >> j & 1]
            if kind == "logit":
                res = Logit(y, add_constant(X[:, cols])).fit(disp=0, maxiter=200)
                out[s] = 1 - res.llf / ll0
            else:
                res = OrderedModel(y, X[:, cols], distr="logit").fit(method="bfgs", disp=0, maxiter=500)
                if ll0 is None:
                    counts = np.unique(y, return_counts=True)[1]
                    ll0 = float((counts * np.log(counts / counts.sum())).sum())
                out[s] = 1 - res.llf / ll0
    return out


def driver_model(data: pd.DataFrame, outcome: str, drivers: Sequence[str], *, kind: str = "ols",
                 dominance: bool = True, max_dominance_drivers: int = 10, weights=None) -> DriverModelResult:
    """Fit the driver model: OLS with HC3 standard errors, a proportional-odds model for ordinal outcomes, or
    a logistic model for binary outcomes (promoter vs detractor, churn), with diagnostics and dominance.

    Dominance for OLS is exact on R² (any number of drivers); for logit and ordinal models it is on
    McFadden's pseudo-R², refitting every subset, so it is computed only up to ``max_dominance_drivers``
    (a warning says when it is skipped).

    With sampling ``weights`` (a column name or one weight per row; OLS only) the model is fitted by weighted
    least squares (statsmodels' ``WLS``, HC3 errors from the weighted residuals, as R's ``lm(weights = w)`` with
    ``sandwich::vcovHC(type = "HC3")``; ``survey::svyglm`` scales its errors differently), R² is the weighted R²,
    and the standardised coefficients, correlations, VIFs and dominance come from the weighted covariances.
    """
    from statsmodels.discrete.discrete_model import Logit
    from statsmodels.regression.linear_model import OLS, WLS
    from statsmodels.tools.tools import add_constant

    if weights is not None and kind != "ols":
        raise SQMArgumentError("sampling weights are applied to the linear (OLS) driver model only")
    X_all, w, n = _prepare(data, outcome, drivers, weights)
    X, y = X_all[:, :-1], X_all[:, -1]
    names = list(drivers)
    Rw = weighted_corr(X_all, w) if weights is not None else None
    if Rw is None:
        sd, sd_y = X.std(axis=0, ddof=1), y.std(ddof=1)
        r = np.array([np.corrcoef(X[:, j], y)[0, 1] for j in range(X.shape[1])])
        v = vif(X) if X.shape[1] > 1 else np.ones(1)
    else:
        C = np.cov(X_all, rowvar=False, aweights=w)
        sd, sd_y = np.sqrt(np.diag(C))[:-1], float(np.sqrt(C[-1, -1]))
        r = Rw[:-1, -1]
        v = np.diag(np.linalg.inv(Rw[:-1, :-1])) if X.shape[1] > 1 else np.ones(1)
    Z = (X - X.mean(axis=0)) / sd
    cond = float(np.linalg.cond(Z))
    dom = None
    if kind == "ols":
        with np.errstate(divide="ignore", invalid="ignore"):  # a point of leverage 1 has no HC3 weight: NaN SEs
            fitted = OLS(y, add_constant(X)) if Rw is None else WLS(y, add_constant(X), weights=w)
            model = fitted.fit(cov_type="HC3", use_t=True)  # t, n − k − 1 df
        coef, se, stat, pv = model.params[1:], model.bse[1:], model.tvalues[1:], model.pvalues[1:]
        std = coef * sd / sd_y
        fit = pd.Series({"n": n, "r2": model.rsquared, "adj_r2": model.rsquared_adj, "condition_number": cond})
        if dominance:
            R = np.corrcoef(X_all, rowvar=False) if Rw is None else Rw
            dom = pd.Series(lmg_only(all_subsets_r2(R), len(names)), index=names, name="general_dominance")
    elif kind in ("logit", "ordinal"):
        if kind == "logit":
            vals = set(np.unique(y))
            if not vals <= {0.0, 1.0}:
                raise SQMDataError("data", [Problem("bad_value", f"a logit outcome must be 0/1, got {sorted(vals)[:6]}")])
            model = Logit(y, add_constant(X)).fit(disp=0)
            coef, se, stat, pv = model.params[1:], model.bse[1:], model.tvalues[1:], model.pvalues[1:]
        else:
            from statsmodels.miscmodels.ordinal_model import OrderedModel

            model = OrderedModel(y, X, distr="logit").fit(method="bfgs", disp=0, maxiter=1000)
            p = X.shape[1]
            coef, se, stat, pv = model.params[:p], model.bse[:p], model.tvalues[:p], model.pvalues[:p]
        std = coef * sd
        fit = pd.Series({"n": n, "pseudo_r2": float(getattr(model, "prsquared", np.nan))
                         if kind == "logit" else np.nan, "condition_number": cond})
        if dominance:
            if X.shape[1] <= max_dominance_drivers:
                r2s = _pseudo_r2_subsets(y, X, kind)
                fit["pseudo_r2"] = r2s[-1]
                dom = pd.Series(lmg_only(r2s, X.shape[1]), index=names, name="general_dominance")
            else:
                warnings.warn(f"dominance on pseudo-R² refits 2^{X.shape[1]} models: skipped above "
                              f"{max_dominance_drivers} drivers; group the drivers (e.g. by dimension)", SQMWarning, stacklevel=2)
    else:
        raise SQMArgumentError("kind must be 'ols', 'ordinal' or 'logit'")
    coefs = pd.DataFrame({"coef": np.asarray(coef), "se": np.asarray(se), "stat": np.asarray(stat),
                          "p_value": np.asarray(pv), "std_coef": np.asarray(std), "r": r,
                          "suppressor": np.sign(np.asarray(std)) != np.sign(r), "vif": v},
                         index=pd.Index(names, name="driver"))
    if (v > 10).any():
        warnings.warn(f"high variance inflation (VIF > 10) for {coefs.index[v > 10].tolist()}", SQMWarning, stacklevel=2)
    return DriverModelResult(kind, coefs, fit, dom, model)


# ---------------------------------------------------------------------------------------------------------
# asymmetric effects (Kano) by penalty-reward contrast analysis
# ---------------------------------------------------------------------------------------------------------
def penalty_reward(data: pd.DataFrame, outcome: str, drivers: Sequence[str], *, low: float = 3,
                   high: float = 6, threshold: float = 0.2) -> pd.DataFrame:
    """Penalty–reward contrast analysis (Brandt 1987; Mikulić & Prebežac 2008).

    Each driver becomes two dummies: low performance (answer ≤ ``low``) and high performance (≥ ``high``),
    the middle as reference; the outcome is regressed on all dummies. ``penalty`` is the (usually negative)
    effect of low performance, ``reward`` the effect of high performance. With RIS = |penalty| + reward,
    the impact-asymmetry index is IA = reward/RIS − |penalty|/RIS. Drivers with IA > ``threshold`` are
    *excitement* factors, IA < −``threshold`` *basic* factors, the rest *performance* factors.
    Cell counts show how many respondents are low, middle and high on each driver.
    """
    from statsmodels.regression.linear_model import OLS
    from statsmodels.tools.tools import add_constant

    X_all, _, n = _prepare(data, outcome, drivers)
    X, y = X_all[:, :-1], X_all[:, -1]
    lo_d = (X <= low).astype(float)
    hi_d = (X >= high).astype(float)
    names = list(drivers)
    empty = [nm for j, nm in enumerate(names) if lo_d[:, j].sum() == 0 or hi_d[:, j].sum() == 0
             or (1 - lo_d[:, j] - hi_d[:, j]).sum() == 0]
    if empty:
        raise SQMDataError("data", [Problem("empty_cell", f"drivers with no respondents in a low, middle or high "
                                                          f"cell (cut-offs ≤ {low}, ≥ {high}): {empty}")])
    with np.errstate(divide="ignore", invalid="ignore"):  # a point of leverage 1 has no HC3 weight: NaN SEs
        model = OLS(y, add_constant(np.column_stack([lo_d, hi_d]))).fit(cov_type="HC3", use_t=True)
    p = len(names)
    penalty, reward = model.params[1:p + 1], model.params[p + 1:]
    ris = np.abs(penalty) + np.abs(reward)
    ia = (np.abs(reward) - np.abs(penalty)) / ris
    kano = np.where(ia > threshold, "excitement", np.where(ia < -threshold, "basic", "performance"))
    return pd.DataFrame({"penalty": penalty, "penalty_p": model.pvalues[1:p + 1], "reward": reward,
                         "reward_p": model.pvalues[p + 1:], "ris": ris, "ia": ia, "kano": kano,
                         "n_low": lo_d.sum(axis=0).astype(int),
                         "n_mid": (1 - lo_d - hi_d).sum(axis=0).astype(int),
                         "n_high": hi_d.sum(axis=0).astype(int)}, index=pd.Index(names, name="driver"))


# ---------------------------------------------------------------------------------------------------------
# segments
# ---------------------------------------------------------------------------------------------------------
class SegmentImportance(NamedTuple):
    """Driver shares per segment and their pairwise differences."""

    shares: pd.DataFrame
    differences: pd.DataFrame


def importance_by_segment(data: pd.DataFrame, outcome: str, drivers: Sequence[str], by: str, *,
                          n_boot: int = 200, seed: int = 0, confidence: float = 0.95, groups=None) -> SegmentImportance:
    """LMG shares (% of R²) per segment, and bootstrap intervals of the difference between every pair of
    segments (each segment resampled on its own).

    Returns
    -------
    SegmentImportance
        ``shares`` (drivers × segments, with a row ``R2``) and ``differences`` (every pair of segments and
        driver: the difference, its interval and whether 0 is outside); unpacks as ``shares, differences``.
    """
    if by not in data.columns:
        raise SQMDataError("data", [Problem("missing_column", f"no segment column {by!r}")])
    rng = np.random.default_rng(seed)
    groups_idx = _group_indices(drivers, groups) if groups else None
    seg_shares, boots = {}, {}
    r2 = {}
    for s, sub in data.groupby(by, sort=True):
        with warnings.catch_warnings():  # said once for the whole sample, not again per segment
            warnings.filterwarnings("ignore", r"\d+ of \d+ rows have a missing outcome, driver or weight", SQMWarning)
            imp = relative_importance(sub, outcome, drivers, methods=("lmg",), groups=groups)
        seg_shares[s] = shares(imp)
        r2[s] = imp.r2
        cols = [*drivers, outcome]
        arr = sub[cols].dropna().to_numpy(dtype=float)
        bs = []
        for _ in range(n_boot):
            i = rng.integers(0, len(arr), len(arr))
            v = _lmg(weighted_corr(arr[i]), groups_idx)[0]
            bs.append(100 * v / v.sum())
        boots[s] = np.array(bs)
    table = pd.DataFrame(seg_shares)
    table.loc["R2"] = pd.Series(r2)
    rows = []
    keys = list(seg_shares)
    g = 1 - confidence
    for a in range(len(keys)):
        for b in range(a + 1, len(keys)):
            d = boots[keys[a]] - boots[keys[b]]
            for k, name in enumerate(table.index[:-1]):
                lo, hi = np.quantile(d[:, k], [g / 2, 1 - g / 2]) if n_boot else (np.nan, np.nan)
                rows.append({"driver": name, "segment_a": keys[a], "segment_b": keys[b],
                             "difference": seg_shares[keys[a]][name] - seg_shares[keys[b]][name],
                             "ci_low": lo, "ci_high": hi, "differs": bool(lo > 0 or hi < 0)})
    return SegmentImportance(table, pd.DataFrame(rows))


def survey_with_churn(survey: pd.DataFrame, customers: pd.DataFrame, horizon_days: int = 180,
                      observed_until=None) -> pd.DataFrame:
    """The survey with ``churned``: 1 if the respondent's customer left within ``horizon_days`` after answering,
    else 0.

    Only respondents whose whole horizon lies before ``observed_until`` (default: the last date in the
    survey or customer data) are kept: keeping the others would keep early leavers and drop stayers, a
    biased sample.
    """
    c = customers.set_index("customer_id")[["churn_date"]]
    s = survey.join(c, on="customer_id")
    until = observed_until if observed_until is not None else follow_up_end(survey, customers)
    end = s["survey_date"] + pd.Timedelta(days=horizon_days)
    left = s["churn_date"].notna() & (s["churn_date"] >= s["survey_date"]) & (s["churn_date"] < end)
    known = end <= pd.Timestamp(until)
    out = s[known].copy()
    out["churned"] = left[known].astype(float)
    return out.drop(columns=["churn_date"])


def follow_up_end(survey: pd.DataFrame, customers: pd.DataFrame) -> pd.Timestamp:
    """The last date the survey and the customer records observe (the default end of follow-up)."""
    return max(pd.Timestamp(survey["survey_date"].max()), pd.Timestamp(customers["churn_date"].max()))


def latest_followed_quarter(survey: pd.DataFrame, horizon_days: int, observed_until) -> str | None:
    """The latest quarter whose every respondent can be followed for ``horizon_days`` by ``observed_until``."""
    ok = [q for q in sorted(survey["quarter"].dropna().unique()) if followed_up(q, horizon_days, observed_until)]
    return ok[-1] if ok else None
