"""Churn prediction: which customers will leave, why, what keeping them is worth.

- :func:`build_features`: one row per customer active at ``as_of`` with features dated before ``as_of`` only
  and the label "churned within the horizon", guarded against leakage.
- :func:`fit_churn_model`: a scikit-learn pipeline (impute, scale, one-hot; logistic regression or gradient
  boosting) with stratified K-fold out-of-fold predictions and an optional time-based holdout.
- :func:`empc`, :func:`mpc`, :func:`profit_curve`: profit-based evaluation (Verbraken, Verbeke & Baesens 2013).
- :func:`permutation_importance_grouped`, :func:`odds_ratios`, :func:`risk_list`: explanations and the
  contact list.
- :func:`km_curves`, :func:`cox_model`, :func:`conditional_survival`: time to churn (lifelines).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from . import plots, tickets
from .errors import Problem, SQMArgumentError, SQMDataError, SQMWarning
from .gaps import dimension_scores
from .instruments import load as load_instrument
from .outputs import write_csv, write_excel
from .periods import quarter_of, quarter_start
from .results import Block, Result, figure, headline, metrics_dict, table, text

class LeakageError(SQMDataError):
    """A feature that could only be known after the outcome."""


# ---------------------------------------------------------------------------------------------------------
# leakage guard
# ---------------------------------------------------------------------------------------------------------
def single_feature_auc(data: pd.DataFrame, target: str, exclude: Sequence[str] = ()) -> pd.Series:
    """ROC-AUC of each column alone for the target (max of AUC and 1 − AUC; categories scored by their
    churn rate). Columns with a single value get 0.5."""
    from sklearn.metrics import roc_auc_score

    y = data[target].astype(float).to_numpy()
    out = {}
    for c in data.columns:
        if c == target or c in exclude:
            continue
        s = data[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            x = s.astype(float)
        else:
            x = s.astype(str).map(pd.Series(y, index=s.index).groupby(s.astype(str)).mean())
        ok = x.notna().to_numpy()
        if ok.sum() < 2 or len(np.unique(y[ok])) < 2 or x[ok].nunique() < 2:
            out[c] = 0.5
            continue
        a = roc_auc_score(y[ok], x[ok])
        out[c] = max(a, 1 - a)
    return pd.Series(out, name="auc").sort_values(ascending=False)


def leakage_check(data: pd.DataFrame, target: str, *, threshold: float = 0.95, allow: Sequence[str] = (),
                  exclude: Sequence[str] = (), source: str = "features") -> pd.Series:
    """Stop on columns that predict the target almost perfectly on their own (ROC-AUC > ``threshold``):
    such a column was almost always written after the outcome (a satisfaction score asked at exit, a churn
    reason). Columns in ``allow`` pass with a loud warning instead.

    Returns the single-feature AUCs; raises :class:`LeakageError` naming the columns.
    """
    aucs = single_feature_auc(data, target, exclude)
    leaky = aucs[aucs > threshold]
    allowed = [c for c in leaky.index if c in allow]
    if allowed:
        warnings.warn(f"LEAKAGE OVERRIDDEN: {', '.join(f'{c} (AUC {leaky[c]:.3f})' for c in allowed)} predict "
                      f"{target} almost perfectly on their own and are kept because allow= says so", SQMWarning, stacklevel=2)
    bad = leaky.drop(allowed)
    if len(bad):
        raise LeakageError(source, [Problem("leakage", f"predicts {target} almost perfectly on its own (ROC-AUC "
                                                       f"{v:.3f} > {threshold}): probably recorded after the "
                                                       "outcome; drop it, or pass allow=[...] if you are sure",
                                            column=c) for c, v in bad.items()])
    return aucs


# ---------------------------------------------------------------------------------------------------------
# features
# ---------------------------------------------------------------------------------------------------------
def _no_future(dates: pd.Series, as_of: pd.Timestamp, table: str) -> None:
    """The leakage guard's date check: nothing dated on or after the snapshot may enter the features."""
    late = int((dates >= as_of).sum())
    if late:
        raise LeakageError(table, [Problem("leakage", f"{late} row(s) dated on or after the snapshot {as_of.date()} "
                                                      "reached the features")])


def build_features(customers: pd.DataFrame, interactions: pd.DataFrame | None, survey: pd.DataFrame | None,
                   as_of, horizon_days: int = 90, *, instrument="servqual", standards: pd.DataFrame | None = None,
                   auc_threshold: float = 0.95, allow: Sequence[str] = ()) -> pd.DataFrame:
    """One row per customer active at ``as_of``, features from data dated before ``as_of``, and the label.

    Features: ``tenure_days``, ``plan``, ``monthly_charges``, ``region``; from tickets opened before
    ``as_of``: contacts and complaints in the last 90 and 365 days, complaints per category (365 days),
    complaints not solved at first contact, repeat complaints (same category within 30 days), tickets that
    breached a service standard (response by severity, closure), days since the last complaint; from the
    latest survey answered before ``as_of``: perception and gap per dimension, overall satisfaction, NPS,
    CES and days since the survey (``has_survey`` flags customers never surveyed).

    Label ``churned``: the customer left in [as_of, as_of + horizon_days).

    Leakage guard: events dated on or after ``as_of`` never enter (checked: a later date raises :class:`LeakageError`); any feature
    whose single-feature ROC-AUC exceeds ``auc_threshold`` stops the build with :class:`LeakageError`
    naming it, unless listed in ``allow`` (then a loud warning).
    """
    as_of = pd.Timestamp(as_of)
    end = as_of + pd.Timedelta(days=horizon_days)
    c = customers
    active = (c["signup_date"] < as_of) & (c["churn_date"].isna() | (c["churn_date"] >= as_of))
    base = c.loc[active, ["customer_id", "signup_date", "plan", "monthly_charges", "region"]].copy()
    if base.empty:
        raise SQMDataError("customers", [Problem("empty", f"no customer is active at {as_of.date()}")])
    dates = [c["signup_date"].max(), c["churn_date"].max()]
    if interactions is not None and len(interactions):
        dates.append(interactions["opened_at"].max())
    if survey is not None and len(survey):
        dates.append(survey["survey_date"].max())
    observed_until = pd.Timestamp(max(dates)).normalize() + pd.Timedelta(days=1)  # the last day counts in full
    if end > observed_until:
        warnings.warn(f"the horizon ends {end.date()}, after the last date in the data ({observed_until.date()}): "
                      "churn in the unobserved part is missing from the label", SQMWarning, stacklevel=2)
    churn_date = c.set_index("customer_id").loc[base["customer_id"], "churn_date"].to_numpy()
    base["churned"] = ((churn_date >= as_of.to_datetime64()) & (churn_date < end.to_datetime64())).astype(int)
    base["tenure_days"] = (as_of - base["signup_date"]).dt.days
    feats = base.drop(columns=["signup_date"]).set_index("customer_id")

    if interactions is not None and len(interactions):
        t = interactions[interactions["opened_at"] < as_of]
        _no_future(t["opened_at"], as_of, "interactions")
        t = t[t["customer_id"].isin(feats.index)].copy()
        is_c = (t["type"] == "complaint") if "type" in t.columns else pd.Series(True, index=t.index)
        age = (as_of - t["opened_at"]).dt.days
        comp = t[is_c].sort_values(["customer_id", "opened_at"])
        g = lambda mask: t[mask].groupby("customer_id").size()  # noqa: E731
        feats["contacts_90d"] = g(age < 90)
        feats["contacts_365d"] = g(age < 365)
        feats["complaints_90d"] = g(is_c & (age < 90))
        feats["complaints_365d"] = g(is_c & (age < 365))
        # a ticket's later timestamps (response, closure) may fall after as_of: only the opening is used,
        # except for breaches, which count only tickets already closed before as_of
        closed = t["closed_at"] < as_of
        feats["unresolved_complaints_365d"] = g(is_c & (age < 365) & ~t["first_contact_resolved"].fillna(False).astype(bool))
        feats["standard_breaches_365d"] = g(is_c & (age < 365) & closed & tickets.breaches(t, standards))
        if "category" in comp.columns:
            cat = comp[(as_of - comp["opened_at"]).dt.days < 365]
            by_cat = cat.groupby(["customer_id", cat["category"].fillna("unknown").replace("", "unknown")]).size()
            by_cat = by_cat.unstack(fill_value=0)
            by_cat.columns = [f"complaints_{k}_365d" for k in by_cat.columns]
            feats = feats.join(by_cat)
            prev_same = comp.groupby(["customer_id", comp["category"].fillna("")])["opened_at"].shift()
            repeat = (comp["opened_at"] - prev_same).dt.days < 30
            feats["repeat_complaints_365d"] = comp[repeat & ((as_of - comp["opened_at"]).dt.days < 365)].groupby("customer_id").size()
        last = comp.groupby("customer_id")["opened_at"].max()
        feats["days_since_complaint"] = (as_of - last).dt.days
        count_cols = [col for col in feats.columns if col.startswith(("contacts_", "complaints_", "unresolved_",
                                                                      "standard_", "repeat_"))]
        feats[count_cols] = feats[count_cols].fillna(0)
    if survey is not None and len(survey):
        inst = load_instrument(instrument)
        sv = survey[(survey["survey_date"] < as_of) & survey["customer_id"].isin(feats.index)]
        _no_future(sv["survey_date"], as_of, "survey")
        sv = sv.sort_values("survey_date").groupby("customer_id").tail(1).set_index("customer_id")
        p = dimension_scores(sv, inst, "P").add_prefix("P_")
        s_feats = p
        if inst.has_expectations:
            e = dimension_scores(sv, inst, "E")
            s_feats = s_feats.join((dimension_scores(sv, inst, "P") - e).add_prefix("gap_"))
        for col in ("overall_sat", "nps", "ces"):
            if col in sv.columns:
                s_feats[col] = sv[col]
        s_feats["days_since_survey"] = (as_of - sv["survey_date"]).dt.days
        feats = feats.join(s_feats)
        feats["has_survey"] = feats.index.isin(sv.index).astype(int)
    feats = feats.reset_index()
    leakage_check(feats.drop(columns=["customer_id"]), "churned", threshold=auc_threshold, allow=allow,
                  source=f"features as of {as_of.date()}")
    return feats


# ---------------------------------------------------------------------------------------------------------
# profit measures
# ---------------------------------------------------------------------------------------------------------
def roc_convex_hull(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upper convex hull of the ROC curve (from (0, 0) to (1, 1)): (true positive rates, false positive rates)."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, score, drop_intermediate=False)
    pts = np.unique(np.column_stack([fpr, tpr]), axis=0)
    hull: list[tuple[float, float]] = []
    for x, v in pts:  # monotone chain, upper hull, x increasing
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (v - y1) - (y2 - y1) * (x - x1) >= 0:  # not a right turn: drop the middle point
                hull.pop()
            else:
                break
        hull.append((x, v))
    h = np.array(hull)
    return h[:, 1], h[:, 0]


def check_binary(y, score) -> tuple[np.ndarray, np.ndarray]:
    """``(y, score)`` as float arrays, after checking equal lengths and that ``y`` holds both 0 and 1."""
    y = np.asarray(y).astype(float)
    score = np.asarray(score, dtype=float)
    if y.shape != score.shape:
        raise SQMArgumentError("y and score must have the same length")
    if not set(np.unique(y)) <= {0.0, 1.0} or len(np.unique(y)) < 2:
        raise SQMDataError("y", [Problem("one_class", "y must contain both classes, coded 1 (churn) and 0")])
    return y, score


def empc(y, score, clv: float = 200, offer_cost: float = 10, contact_cost: float = 1, accept_a: float = 6,
         accept_b: float = 14) -> tuple[float, float]:
    """Expected maximum profit for customer churn (Verbraken, Verbeke & Baesens 2013).

    A contacted churner accepts the retention offer with probability γ ~ Beta(``accept_a``, ``accept_b``)
    (the paper's α, β); an accepted offer keeps ``clv`` at cost ``offer_cost`` (the paper's d); every contact
    costs ``contact_cost`` (f); a contacted non-churner takes the offer. With δ = d/clv, φ = f/clv, churn share π₁ and non-churn share π₀, targeting a point (TPR, FPR) of the
    ROC convex hull earns ``clv·[(γ(1 − δ) − φ)·π₁·TPR − (δ + φ)·π₀·FPR]`` per customer. For each γ the best
    hull point is taken and the result integrated over the Beta density: on a hull segment moving on pays
    when γ exceeds ``(φπ₁ΔTPR + (δ + φ)π₀ΔFPR) / ((1 − δ)π₁ΔTPR)``, so the integral is a sum of Beta CDF
    differences (the γ-weighted part uses Beta(α + 1, β)).

    Returns
    -------
    (empc, fraction)
        Expected maximum profit per customer, and the expected fraction of customers to target.
    """
    y, score = check_binary(y, score)
    pi1 = y.mean()
    pi0 = 1 - pi1
    alpha, beta = accept_a, accept_b
    delta, phi = offer_cost / clv, contact_cost / clv
    tpr, fpr = roc_convex_hull(y, score)
    dtpr, dfpr = np.diff(tpr), np.diff(fpr)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (phi * pi1 * dtpr + (delta + phi) * pi0 * dfpr) / (pi1 * (1 - delta) * dtpr)
    g = np.where(dtpr > 0, g, np.inf)
    bounds = np.concatenate([[0.0], g])
    bounds = np.concatenate([bounds[bounds < 1], [1.0]])
    k = len(bounds) - 1  # hull points 0 .. k-1 are optimal on the successive γ intervals
    cdf = np.diff(stats.beta.cdf(bounds, alpha, beta))
    cdf1 = np.diff(stats.beta.cdf(bounds, alpha + 1, beta))
    mean_g = alpha / (alpha + beta)
    t, fr = tpr[:k], fpr[:k]
    value = (mean_g * clv * (1 - delta) * pi1 * t * cdf1 - clv * (phi * pi1 * t + (delta + phi) * pi0 * fr) * cdf).sum()
    fraction = (cdf * (pi1 * t + pi0 * fr)).sum()
    return float(value), float(fraction)


def _contact_gain(y: np.ndarray, clv, offer_cost, contact_cost, accept_rate: float) -> np.ndarray:
    """Profit of contacting each customer: a churner accepts with ``accept_rate`` and is kept,
    ``accept_rate·(clv − offer_cost) − contact_cost``; a non-churner takes the offer, ``−(offer_cost + contact_cost)``."""
    n = len(y)
    clv = np.broadcast_to(np.asarray(clv, dtype=float), (n,))
    cost = np.broadcast_to(np.asarray(offer_cost, dtype=float), (n,))
    return np.where(y == 1, accept_rate * (clv - cost) - contact_cost, -(cost + contact_cost))


@dataclass(frozen=True)
class ProfitCurve:
    """Profit of contacting the highest-scored customers: ``table`` (one row per cut point), the best cut
    (``best_threshold``, ``best_fraction``, ``best_profit``) and the baselines ``contact_everyone`` and
    ``perfect_model`` (contacting exactly the churners). ``order`` holds customer ids by descending score
    when they were given."""

    table: pd.DataFrame
    best_threshold: float
    best_fraction: float
    best_profit: float
    contact_everyone: float
    perfect_model: float
    order: np.ndarray | None = None

    def best(self) -> dict:
        """The best cut and the baselines as a dict."""
        return {"best_threshold": self.best_threshold, "best_fraction": self.best_fraction,
                "best_profit": self.best_profit, "contact_everyone": self.contact_everyone,
                "perfect_model": self.perfect_model}


def profit_curve(y, score, clv=200, offer_cost=10, contact_cost=1, accept_rate: float = 0.3,
                 customer_ids=None) -> ProfitCurve:
    """Profit of contacting the ``k`` highest-scored customers, for every ``k`` at once (one sort).

    Per contacted customer: a churner accepts with probability ``accept_rate`` and is kept, earning
    ``accept_rate·(clv − offer_cost) − contact_cost``; a non-churner takes the offer,
    ``−(offer_cost + contact_cost)``. ``clv`` and ``offer_cost`` may be per-customer arrays. Tied scores are
    contacted together (only cut points between different scores are listed).

    Returns
    -------
    ProfitCurve
        ``table`` with ``threshold`` (lowest score contacted), ``n_contacted``, ``fraction``,
        ``churners_reached``, ``profit`` and ``profit_per_customer`` (the first row contacts nobody), the
        best row and the ``contact_everyone`` and ``perfect_model`` baselines.
    """
    y, score = check_binary(y, score)
    n = len(y)
    gain = _contact_gain(y, clv, offer_cost, contact_cost, accept_rate)
    order = np.argsort(-score, kind="stable")
    s_sorted = score[order]
    cum = np.cumsum(gain[order])
    reached = np.cumsum(y[order])
    last_of_tie = np.flatnonzero(np.r_[s_sorted[1:] != s_sorted[:-1], True])
    out = pd.DataFrame({
        "threshold": np.r_[np.inf, s_sorted[last_of_tie]],
        "n_contacted": np.r_[0, last_of_tie + 1],
        "churners_reached": np.r_[0, reached[last_of_tie]],
        "profit": np.r_[0.0, cum[last_of_tie]],
    })
    out["fraction"] = out["n_contacted"] / n
    out["profit_per_customer"] = out["profit"] / n
    best = out.loc[out["profit"].idxmax()]
    return ProfitCurve(out, best_threshold=float(best["threshold"]), best_fraction=float(best["fraction"]),
                       best_profit=float(best["profit"]), contact_everyone=float(cum[-1]),
                       perfect_model=float(gain[y == 1].clip(min=0).sum()),
                       order=np.asarray(customer_ids)[order] if customer_ids is not None else None)


def at_threshold(y, score, threshold: float, clv=200, offer_cost=10, contact_cost=1,
                 accept_rate: float = 0.3) -> dict:
    """Contacting every customer scored at or above ``threshold``: confusion counts and the campaign's profit.

    Returns a dict with ``contacted``, ``fraction``, ``tp`` (churners contacted), ``fp``, ``fn``, ``tn``,
    ``precision``, ``recall`` and ``profit`` (the same profit model as :func:`profit_curve`).
    """
    y, score = check_binary(y, score)
    hit = score >= threshold
    tp = int((hit & (y == 1)).sum())
    fp = int((hit & (y == 0)).sum())
    fn = int((~hit & (y == 1)).sum())
    tn = int((~hit & (y == 0)).sum())
    n = len(y)
    gain = _contact_gain(y, clv, offer_cost, contact_cost, accept_rate)
    return {"threshold": float(threshold), "contacted": tp + fp, "fraction": (tp + fp) / n, "tp": tp, "fp": fp,
            "fn": fn, "tn": tn, "precision": tp / (tp + fp) if tp + fp else float("nan"),
            "recall": tp / (tp + fn) if tp + fn else float("nan"), "profit": float(gain[hit].sum())}


def mpc(y, score, clv: float = 200, offer_cost: float = 10, contact_cost: float = 1,
        accept_rate: float = 0.3) -> tuple[float, float]:
    """Maximum profit for customer churn at a fixed acceptance rate: the best point of :func:`profit_curve`,
    per customer, with the fraction targeted."""
    pc = profit_curve(y, score, clv, offer_cost, contact_cost, accept_rate=accept_rate)
    return pc.best_profit / len(np.asarray(y)), pc.best_fraction


# ---------------------------------------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------------------------------------
def equal_count_bins(score, bins: int = 10, descending: bool = False) -> list[np.ndarray]:
    """Row indices in ``bins`` groups of (nearly) equal size by score (ties kept in row order), empty ones dropped."""
    s = np.asarray(score, float)
    order = np.argsort(-s if descending else s, kind="stable")
    return [b for b in np.array_split(order, bins) if len(b)]


def calibration_table(y, p, bins: int = 10) -> pd.DataFrame:
    """Per equal-count bin of predicted probability: customers, mean predicted and observed churn rate."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    parts = equal_count_bins(p, bins)
    return pd.DataFrame({"n": [len(b) for b in parts], "predicted": [p[b].mean() for b in parts],
                         "observed": [y[b].mean() for b in parts]})


def expected_calibration_error(y, p, bins: int = 10) -> float:
    """Expected calibration error over ``bins`` equal-count bins of predicted probability."""
    t = calibration_table(y, p, bins)
    return float((t["n"] * (t["observed"] - t["predicted"]).abs()).sum() / t["n"].sum())


def gains_table(y, score, bins: int = 10) -> pd.DataFrame:
    """Customers ranked by score in ``bins`` equal groups: churners, churn rate, lift and cumulative capture."""
    y, score = check_binary(y, score)
    parts = equal_count_bins(score, bins, descending=True)
    base = y.mean()
    rows, cum_n, cum_c = [], 0, 0
    for k, b in enumerate(parts, start=1):
        cum_n += len(b)
        cum_c += y[b].sum()
        rows.append({"group": k, "customers": len(b), "churners": int(y[b].sum()), "churn_rate": y[b].mean(),
                     "lift": y[b].mean() / base, "cum_share_customers": cum_n / len(y),
                     "cum_share_churners": cum_c / y.sum(), "cum_lift": (cum_c / cum_n) / base})
    return pd.DataFrame(rows)


def _metric_values(y, p) -> dict:
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

    top = np.argsort(-p, kind="stable")[: max(1, int(round(0.1 * len(p))))]
    return {"roc_auc": roc_auc_score(y, p), "pr_auc": average_precision_score(y, p),
            "brier": brier_score_loss(y, p), "log_loss": log_loss(y, np.clip(p, 1e-15, 1 - 1e-15)),
            "ece": expected_calibration_error(y, p), "top_decile_lift": y[top].mean() / y.mean()}


def evaluate(y, p, n_boot: int = 200, seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
    """ROC-AUC, PR-AUC, Brier score, log loss, expected calibration error and top-decile lift, with
    percentile bootstrap intervals (customers resampled)."""
    y, p = check_binary(y, p)
    est = _metric_values(y, p)
    out = pd.DataFrame({"value": est})
    if n_boot:
        rng = np.random.default_rng(seed)
        vals = []
        for _ in range(n_boot):
            i = rng.integers(0, len(y), len(y))
            if y[i].min() == y[i].max():
                continue
            vals.append(_metric_values(y[i], p[i]))
        b = pd.DataFrame(vals)
        g = 1 - confidence
        out["ci_low"] = b.quantile(g / 2)
        out["ci_high"] = b.quantile(1 - g / 2)
    out.index.name = "metric"
    return out


# ---------------------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------------------
def make_pipeline(X: pd.DataFrame, model: str = "logit", seed: int = 0):
    """Impute, scale and one-hot encode, then logistic regression or histogram gradient boosting."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    num = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c])]
    cat = [c for c in X.columns if c not in num]
    if model == "logit":
        pre = ColumnTransformer([
            ("num", Pipeline([("impute", SimpleImputer(strategy="median")),
                              ("scale", StandardScaler())]), num),
            ("cat", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                              ("onehot", OneHotEncoder(handle_unknown="ignore", drop="if_binary"))]), cat),
        ], sparse_threshold=0, verbose_feature_names_out=False)  # "tenure_days", not "num__tenure_days"
        clf = LogisticRegression(max_iter=2000)
    elif model == "gbm":
        pre = ColumnTransformer([
            ("num", "passthrough", num),
            ("cat", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                              ("ordinal", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1))]), cat),
        ], sparse_threshold=0, verbose_feature_names_out=False)
        clf = HistGradientBoostingClassifier(categorical_features=list(range(len(num), len(num) + len(cat))),
                                             random_state=seed, early_stopping=False, max_iter=200,
                                             learning_rate=0.1)
    else:
        raise SQMArgumentError(f"model must be 'logit' or 'gbm', got {model!r}")
    return Pipeline([("prepare", pre), ("model", clf)])


@dataclass(frozen=True)
class ChurnResult:
    """A fitted churn model with its out-of-fold predictions.

    Attributes
    ----------
    cv_auc, cv_auc_sd : float
        Mean and standard deviation of ROC-AUC over the folds.
    oof : Series
        Out-of-fold churn probability of every customer.
    pipeline : sklearn Pipeline
        Refitted on all rows.
    holdout_auc : float or None
        ROC-AUC on the time-based holdout, when one was asked for.
    """

    model: str
    features: tuple[str, ...]
    target: str
    y: pd.Series
    oof: pd.Series
    cv_auc: float
    cv_auc_sd: float
    fold_auc: tuple[float, ...]
    pipeline: object = field(repr=False)
    X: pd.DataFrame = field(repr=False)
    holdout_auc: float | None = None

    def evaluation(self, n_boot: int = 200, seed: int = 0) -> pd.DataFrame:
        """Out-of-fold ROC-AUC, PR-AUC, Brier, log loss, ECE and top-decile lift with bootstrap intervals."""
        return evaluate(self.y.to_numpy(), self.oof.to_numpy(), n_boot=n_boot, seed=seed)

    def gains(self, bins: int = 10) -> pd.DataFrame:
        return gains_table(self.y.to_numpy(), self.oof.to_numpy(), bins)

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"model": self.model, "n": len(self.y), "churn_rate": float(self.y.mean()),
                              "cv_auc": self.cv_auc, "cv_auc_sd": self.cv_auc_sd, "holdout_auc": self.holdout_auc,
                              "features": len(self.features)}])

    def _repr_html_(self) -> str:
        return "<p><b>Churn model</b></p>" + self.summary().to_html(float_format=lambda v: f"{v:.3f}")


def fit_churn_model(data: pd.DataFrame, target: str = "churned", *, features: Sequence[str] | None = None,
                    model: str = "logit", cv: int = 5, seed: int = 0, id_col: str | None = "customer_id",
                    time_col: str | None = None, holdout_from=None) -> ChurnResult:
    """Fit a churn model with stratified K-fold out-of-fold predictions.

    Parameters
    ----------
    data : DataFrame
        One row per customer with the target (0/1, or yes/no).
    features : sequence, optional
        Default: every column but the target, ``id_col`` and ``time_col``.
    model : {"logit", "gbm"}
    cv : int
        Folds (stratified, shuffled with ``seed``).
    time_col, holdout_from : optional
        With both, the model is also trained on rows with ``time_col < holdout_from`` and scored on the
        rest (``holdout_auc``): how the model would have done on the next period.
    """
    from sklearn.base import clone
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    y = data[target]
    if y.dtype == object or pd.api.types.is_string_dtype(y):
        y = y.astype(str).str.strip().str.lower().map({"yes": 1, "no": 0, "1": 1, "0": 0, "true": 1, "false": 0})
    y = y.astype(float)
    if y.isna().any() or not set(y.unique()) <= {0.0, 1.0}:
        raise SQMDataError("data", [Problem("bad_value", f"target {target!r} must be 0/1 or yes/no for every row")])
    drop = {target, id_col, time_col} - {None}
    feats = list(features) if features is not None else [c for c in data.columns if c not in drop]
    X = data[feats]
    pipe = make_pipeline(X, model, seed)
    skf = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    oof = np.empty(len(X))
    aucs = []
    yv = y.to_numpy()
    for train, test in skf.split(X, yv):
        m = clone(pipe).fit(X.iloc[train], yv[train])
        oof[test] = m.predict_proba(X.iloc[test])[:, 1]
        aucs.append(roc_auc_score(yv[test], oof[test]))
    holdout = None
    if time_col is not None and holdout_from is not None:
        early = (data[time_col] < pd.Timestamp(holdout_from)).to_numpy()
        if early.any() and (~early).any():
            m = clone(pipe).fit(X[early], yv[early])
            holdout = float(roc_auc_score(yv[~early], m.predict_proba(X[~early])[:, 1]))
    pipe.fit(X, yv)
    return ChurnResult(model, tuple(feats), target, pd.Series(yv, index=data.index, name=target),
                       pd.Series(oof, index=data.index, name="p_churn"), float(np.mean(aucs)),
                       float(np.std(aucs, ddof=1)), tuple(float(a) for a in aucs), pipe, X, holdout)


# ---------------------------------------------------------------------------------------------------------
# explanation
# ---------------------------------------------------------------------------------------------------------
def permutation_importance_grouped(result: ChurnResult, *, groups: Mapping[str, Sequence[str]] | None = None,
                                   n_repeats: int = 5, seed: int = 0, max_rows: int = 20_000) -> pd.DataFrame:
    """Drop in ROC-AUC when a column (or a group of columns) is shuffled, on the original columns, so a
    one-hot encoded category counts once. ``groups`` (e.g. service-quality dimensions → their columns)
    shuffles the listed columns together. Uses at most ``max_rows`` rows."""
    from sklearn.metrics import roc_auc_score

    X, y = result.X, result.y.to_numpy()
    rng = np.random.default_rng(seed)
    if len(X) > max_rows:
        idx = rng.choice(len(X), max_rows, replace=False)
        X, y = X.iloc[idx], y[idx]
    base = roc_auc_score(y, result.pipeline.predict_proba(X)[:, 1])
    units = {c: [c] for c in X.columns} if groups is None else {g: list(cols) for g, cols in groups.items()}
    rows = []
    for name, cols in units.items():
        drops = []
        for _ in range(n_repeats):
            Xp = X.copy()
            perm = rng.permutation(len(X))
            Xp[cols] = X[cols].to_numpy()[perm]
            drops.append(base - roc_auc_score(y, result.pipeline.predict_proba(Xp)[:, 1]))
        rows.append({"feature": name, "auc_drop": float(np.mean(drops)), "sd": float(np.std(drops, ddof=1))})
    return pd.DataFrame(rows).sort_values("auc_drop", ascending=False).reset_index(drop=True)


def _design(result: ChurnResult) -> tuple[np.ndarray, list[str]]:
    pre = result.pipeline.named_steps["prepare"]
    Z = pre.transform(result.X)
    return np.asarray(Z, dtype=float), list(pre.get_feature_names_out())


class OddsRatios(NamedTuple):
    """Odds ratios (``table``) and the features ``left_out`` because they cannot be estimated."""

    table: pd.DataFrame
    left_out: list


def odds_ratios(result: ChurnResult, confidence: float = 0.95) -> OddsRatios:
    """Odds ratios with ``confidence`` intervals from an unpenalised logistic model on the prepared features
    (numeric features standardised: the odds ratio is per standard deviation). Binary features too rare to
    estimate and features collinear with others are left out and named in ``left_out``."""
    import statsmodels.api as sm

    if result.model != "logit":
        raise SQMArgumentError("odds ratios need model='logit'")
    from scipy.linalg import qr

    Z, names = _design(result)
    y = result.y.to_numpy()
    # binary columns with few cases, or without both outcomes among them, separate the classes and have no
    # finite odds ratio: leave them out and say which
    binary = np.all((Z == Z.min(axis=0)) | (Z == Z.max(axis=0)), axis=0)
    hi = Z == Z.max(axis=0)
    sparse = binary & ((hi.sum(axis=0) < 10) | ((hi & (y[:, None] == 1)).sum(axis=0) == 0)
                       | ((hi & (y[:, None] == 0)).sum(axis=0) == 0))
    keep = np.flatnonzero((Z.std(axis=0) > 0) & ~sparse)
    # keep linearly independent columns only (missing-value indicators of features missing together, e.g.
    # all survey answers of customers never surveyed, are identical): QR with column pivoting
    _, R, piv = qr(Z[:, keep] - Z[:, keep].mean(axis=0), mode="economic", pivoting=True)
    rank = int((np.abs(np.diag(R)) > 1e-8 * abs(R[0, 0])).sum())
    keep = np.sort(keep[piv[:rank]])
    fit = sm.Logit(result.y.to_numpy(), sm.add_constant(Z[:, keep])).fit(disp=0, maxiter=500, method="bfgs")
    params, bse = fit.params[1:], fit.bse[1:]
    z = stats.norm.ppf(0.5 + confidence / 2)
    out = pd.DataFrame({"coef": params, "odds_ratio": np.exp(params), "ci_low": np.exp(params - z * bse),
                        "ci_high": np.exp(params + z * bse), "p_value": fit.pvalues[1:]},
                       index=pd.Index(np.array(names)[keep], name="feature")).sort_values("odds_ratio", ascending=False)
    return OddsRatios(out, [n for j, n in enumerate(names) if j not in set(keep)])


def risk_list(result: ChurnResult, data: pd.DataFrame, *, clv=200, id_col: str = "customer_id",
              top_reasons: int = 3, threshold: float | None = None, _explainer: ChurnResult | None = None) -> pd.DataFrame:
    """Customers by churn probability with expected loss (probability × CLV) and their top reasons.

    Reasons come from the logistic model on the prepared features: the features whose contribution
    (coefficient × the customer's standardised value) raises this customer's risk most. For a gbm the
    reasons come from a logistic model fitted to the same features for explanation only.
    """
    p = result.pipeline.predict_proba(result.X)[:, 1]
    explainer = _explainer or (result if result.model == "logit" else _as_logit(result))
    Z, names = _design(explainer)
    coef = explainer.pipeline.named_steps["model"].coef_[0]
    contrib = Z * coef
    top = np.argsort(-contrib, axis=1)[:, :top_reasons]
    clean = [n.split("__", 1)[-1] for n in names]
    reasons = ["; ".join(clean[j] for j, v in zip(row, contrib[i, row]) if v > 0) for i, row in enumerate(top)]
    clv_arr = np.broadcast_to(np.asarray(clv, float), (len(p),))
    out = pd.DataFrame({id_col: data[id_col].to_numpy(), "probability": p, "expected_loss": p * clv_arr,
                        "top_reasons": reasons})
    out = out.sort_values("probability", ascending=False).reset_index(drop=True)
    if threshold is not None:
        out = out[out["probability"] >= threshold]
    return out


def score_customers(result: ChurnResult, data: pd.DataFrame, *, clv=200, id_col: str = "customer_id",
                    top_reasons: int = 3) -> pd.DataFrame:
    """Score other customers (e.g. today's active ones) with a fitted model: :func:`risk_list` of ``data``.

    ``data`` holds the model's features, built as for training (:func:`build_features` at another date).
    """
    missing = [f for f in result.features if f not in data.columns]
    if missing:
        raise SQMDataError("data", [Problem("missing_column", f"features the model needs are missing: {missing}")])
    X = data[list(result.features)]
    zero = pd.Series(np.zeros(len(data)), index=data.index)
    # reasons come from a logistic model of the training rows, then applied to the new rows
    explainer = result if result.model == "logit" else _as_logit(result)
    return risk_list(replace(result, y=zero, oof=zero, X=X), data, clv=clv, id_col=id_col,
                     top_reasons=top_reasons, _explainer=replace(explainer, X=X))


def _as_logit(result: ChurnResult) -> ChurnResult:
    pipe = make_pipeline(result.X, "logit").fit(result.X, result.y.to_numpy())
    return ChurnResult("logit", result.features, result.target, result.y, result.oof, result.cv_auc,
                       result.cv_auc_sd, result.fold_auc, pipe, result.X)


# ---------------------------------------------------------------------------------------------------------
# time to churn
# ---------------------------------------------------------------------------------------------------------
def durations(customers: pd.DataFrame, until=None) -> pd.DataFrame:
    """Tenure in days until churn (event 1) or until ``until`` (censored, event 0)."""
    until = pd.Timestamp(until) if until is not None else max(customers["signup_date"].max(), customers["churn_date"].max())
    end = customers["churn_date"].where(customers["churn_date"].notna(), until)
    out = customers.copy()
    out["duration_days"] = (end - customers["signup_date"]).dt.days.clip(lower=0) + 0.5
    out["event"] = customers["churn_date"].notna().astype(int)
    return out


def km_curves(customers: pd.DataFrame, by: str | None = None, until=None) -> dict:
    """Kaplan–Meier survival curves (lifelines), overall or per segment: {segment: fitted KaplanMeierFitter}."""
    from lifelines import KaplanMeierFitter

    d = durations(customers, until)
    groups = [("all", d)] if by is None else list(d.groupby(by))
    return {str(k): KaplanMeierFitter(label=str(k)).fit(g["duration_days"], g["event"]) for k, g in groups}


def cox_model(data: pd.DataFrame, duration_col: str = "duration_days", event_col: str = "event", *,
              penalizer: float = 0.01):
    """Cox proportional-hazards model (lifelines) on numeric columns (one-hot encode categories first)."""
    from lifelines import CoxPHFitter

    num = data.select_dtypes("number")
    num = num.loc[:, num.std() > 0]
    return CoxPHFitter(penalizer=penalizer).fit(num.fillna(num.median()), duration_col, event_col)


def conditional_survival(km, tenure_days: float, horizon_days: float) -> float:
    """P(still a customer after another ``horizon_days`` | a customer for ``tenure_days`` already) = S(t + h)/S(t)."""
    s = km.survival_function_at_times([tenure_days, tenure_days + horizon_days]).to_numpy()
    return float(s[1] / s[0]) if s[0] > 0 else float("nan")


# ---------------------------------------------------------------------------------------------------------
# building blocks shared by the notebook, the explorer and the lessons
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SnapshotModel:
    """A churn model learnt at a snapshot: the ``snapshot`` date, the training ``features`` (one row per
    customer active then), the fitted ``model`` and the warnings the feature build gave (``notes``)."""

    snapshot: pd.Timestamp
    horizon_days: int
    features: pd.DataFrame
    model: ChurnResult
    notes: tuple = ()


def snapshot_of(folder, quarter: str = "", as_of: str = "") -> tuple[str, pd.Timestamp]:
    """The quarter (default the survey's latest, else the quarter of the last churn) and the snapshot date
    (default that quarter's first day) of a churn analysis."""
    if not quarter:
        quarter = folder.latest_quarter if folder.survey is not None else quarter_of(
            pd.Timestamp(folder.customers["churn_date"].max()))
    snapshot = pd.Timestamp(as_of) if as_of else quarter_start(quarter)
    return quarter, snapshot


def features_at(folder, as_of, horizon_days: int = 90) -> tuple[pd.DataFrame, tuple]:
    """:func:`build_features` of a data folder at ``as_of``, with the warnings it gave as notes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        feats = build_features(folder.customers, folder.interactions, folder.survey, as_of, horizon_days,
                               instrument=folder.instrument, standards=folder.standards)
    return feats, tuple(str(w.message) for w in caught)


def fit_at_snapshot(folder, quarter: str = "", *, as_of: str = "", horizon_days: int = 90, model: str = "logit",
                    seed: int = 0) -> SnapshotModel:
    """The churn model fitted at a snapshot (default: the first day of ``quarter``, default the latest): every
    customer active then, features from data before it, label churn within ``horizon_days``.

    The churn notebook, the churn explorer and the lessons fit their model with this.
    """
    folder.require("customers", purpose="churn prediction")
    _, snapshot = snapshot_of(folder, quarter, as_of)
    train, notes = features_at(folder, snapshot, horizon_days)
    return SnapshotModel(snapshot, horizon_days, train, fit_churn_model(train, "churned", model=model, seed=seed),
                         notes)


def scoring_date(customers: pd.DataFrame) -> pd.Timestamp:
    """The day after the last signup or churn in the customer records: "today" for the risk list."""
    until = max(customers["signup_date"].max(), customers["churn_date"].max())
    return pd.Timestamp(until).normalize() + pd.Timedelta(days=1)


def score_today(folder, fitted: SnapshotModel, *, clv=200) -> pd.DataFrame:
    """Score the customers active at the end of the data with a model from :func:`fit_at_snapshot`
    (:func:`score_customers`; the label of this snapshot lies in the future, so its warning is dropped)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SQMWarning)  # the scoring snapshot's label lies in the future, as it should
        now = build_features(folder.customers, folder.interactions, folder.survey, scoring_date(folder.customers),
                             fitted.horizon_days, instrument=folder.instrument, standards=folder.standards)
    return score_customers(fitted.model, now, clv=clv)


def importance_groups(features: Sequence[str], dimensions: Sequence[str]) -> dict[str, list[str]]:
    """Feature groups for :func:`permutation_importance_grouped`: each quality dimension (its perception and
    gap), complaints, contacts, the survey outcomes, tenure, plan and charges, region."""
    cols = list(features)
    groups = {f"quality: {d}": [c for c in (f"P_{d}", f"gap_{d}") if c in cols] for d in dimensions}
    groups.update({
        "complaints": [c for c in cols if "complaint" in c or c == "standard_breaches_365d"],
        "contacts": [c for c in cols if c.startswith("contacts_")],
        "overall satisfaction, NPS, CES": [c for c in ("overall_sat", "nps", "ces") if c in cols],
        "tenure": ["tenure_days"], "plan and charges": ["plan", "monthly_charges"], "region": ["region"],
    })
    return {k: v for k, v in groups.items() if v}


# ---------------------------------------------------------------------------------------------------------
# the pipeline of the churn notebook
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChurnMetrics:
    """Key figures of :func:`run_churn` (``metrics.json`` of the churn notebook)."""

    snapshot: str | None = None
    horizon_days: int | None = None
    model: str | None = None
    customers: int | None = None
    churn_rate: float | None = None
    cv_auc: float | None = None
    cv_auc_sd: float | None = None
    holdout_auc: float | None = None
    evaluation: dict | None = None
    empc: float | None = None
    empc_fraction: float | None = None
    mpc: float | None = None
    best_threshold: float | None = None
    best_fraction: float | None = None
    best_profit: float | None = None
    contact_everyone_profit: float | None = None
    perfect_model_profit: float | None = None
    to_contact: int | None = None
    expected_loss_to_contact: float | None = None
    expected_loss_all: float | None = None
    importance: dict | None = None
    top_quality_driver: str | None = None
    skipped: bool = False


@dataclass(frozen=True)
class ChurnAnalysis(Result):
    """What :func:`run_churn` found. With no customers table it is ``skipped`` and holds nothing else."""

    title = "Churn prediction"
    notebook = "04_churn_prediction"

    quarter: str
    skipped: bool = False
    fitted: SnapshotModel | None = None
    previous: pd.Timestamp | None = None
    holdout_auc: float | None = None
    evaluation: pd.DataFrame | None = None
    curve: ProfitCurve | None = None
    empc_value: tuple | None = None
    mpc_value: tuple | None = None
    economics: Mapping | None = None
    importance: pd.DataFrame | None = None
    odds: OddsRatios | None = None
    km: dict | None = None
    cox: object | None = None
    conditional: np.ndarray | None = None
    risk: pd.DataFrame | None = None
    scored_on: pd.Timestamp | None = None

    @property
    def model(self) -> ChurnResult | None:
        return self.fitted.model if self.fitted else None

    def findings(self) -> list[str]:
        if self.skipped:
            return ["No customers table in the data folder: churn prediction is skipped."]
        m = self.metrics()
        return [f"5-fold cross-validated ROC-AUC {m.cv_auc:.3f}; on the next snapshot {m.holdout_auc:.3f}.",
                f"Contacting the {m.to_contact:,} customers above the profit-maximising threshold puts an expected "
                f"{m.expected_loss_to_contact:,.0f} of customer value at stake."]

    def _quality(self) -> pd.DataFrame:
        return self.importance[self.importance["feature"].str.startswith("quality:")]

    def metrics(self) -> ChurnMetrics:
        if self.skipped:
            return ChurnMetrics(skipped=True)
        r, c, y = self.model, self.curve, self.model.y
        quality = self._quality()
        contact = self.risk[self.risk["contact"]]
        return ChurnMetrics(
            snapshot=str(self.fitted.snapshot.date()), horizon_days=self.fitted.horizon_days, model=r.model,
            customers=len(self.fitted.features), churn_rate=float(y.mean()), cv_auc=r.cv_auc, cv_auc_sd=r.cv_auc_sd,
            holdout_auc=self.holdout_auc, evaluation=self.evaluation["value"].to_dict(), empc=self.empc_value[0],
            empc_fraction=self.empc_value[1], mpc=self.mpc_value[0], best_threshold=c.best_threshold,
            best_fraction=c.best_fraction, best_profit=c.best_profit, contact_everyone_profit=c.contact_everyone,
            perfect_model_profit=c.perfect_model, to_contact=int(self.risk["contact"].sum()),
            expected_loss_to_contact=float(contact["expected_loss"].sum()),
            expected_loss_all=float(self.risk["expected_loss"].sum()),
            importance=self.importance.set_index("feature")["auc_drop"].to_dict(),
            top_quality_driver=quality.iloc[0]["feature"].split(": ")[1] if len(quality) else None)

    def metrics_json(self) -> dict:
        """The metrics as ``metrics.json`` holds them (a skipped analysis records only ``skipped``)."""
        m = self.metrics()
        return {"skipped": True} if self.skipped else {k: v for k, v in metrics_dict(m).items() if k != "skipped"}

    def headline(self) -> list[dict]:
        if self.skipped:
            return [headline("Skipped", "no customers table", "{}")]
        m = self.metrics()
        return [headline("CV ROC-AUC", m.cv_auc, "{:.3f}"), headline("Customers to contact", m.to_contact),
                headline("Expected loss among them", m.expected_loss_to_contact, "{:,.0f}"),
                headline("EMPC per customer", m.empc, "{:.2f}")]

    def tables(self) -> dict[str, pd.DataFrame]:
        if self.skipped:
            return {}
        return {"evaluation": self.evaluation, "gains": self.model.gains(), "profit curve": self.curve.table,
                "importance": self.importance, "risk list (top 1000)": self.risk.head(1000)}

    def write_files(self, out_dir) -> list:
        """The risk list as ``risk_list.csv`` and ``risk_list.xlsx`` in ``out_dir``."""
        if self.skipped:
            return []
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_csv(self.risk, out / "risk_list.csv", index=False)
        write_excel({"risk list": self.risk}, out / "risk_list.xlsx", index=False)
        return [out / "risk_list.csv", out / "risk_list.xlsx"]

    def sections(self) -> dict[str, list[Block]]:
        if self.skipped:
            msg = text("**No customers table in the data folder: churn prediction is skipped.** Add `customers.csv` "
                       "(see data/README.md) to predict churn.")
            return {k: [msg] if k == "sample" else [] for k in ("sample", "quality", "profit", "why", "time", "risk")}
        f, r, c, e = self.fitted, self.model, self.curve, dict(self.economics)
        train = f.features
        y, p = r.y.to_numpy(), r.oof.to_numpy()
        sample = [text(f"*Note: {n}*") for n in f.notes]
        sample.append(text(f"Snapshot **{f.snapshot.date()}**: {len(train):,} active customers, "
                           f"{train['churned'].mean():.1%} left within {f.horizon_days} days. "
                           f"{train.shape[1] - 2} features."))
        gains = r.gains()
        quality = [table(self.evaluation, lambda s: s.format(precision=3)),
                   text(f"5-fold cross-validated ROC-AUC **{r.cv_auc:.3f}** (sd {r.cv_auc_sd:.3f} over folds); "
                        f"trained on the snapshot of {self.previous.date()} and tested on {f.snapshot.date()}: "
                        f"**{self.holdout_auc:.3f}**."),
                   figure(lambda: plots.roc_pr_curves(y, p), "roc and precision-recall"),
                   figure(lambda: plots.calibration_plot(calibration_table(y, p)), "calibration"),
                   figure(lambda: plots.gains_chart(gains), "gains"),
                   table(gains, lambda s: s.format(precision=3).hide(axis="index"))]
        compare = pd.DataFrame({
            "profit": [c.best_profit, c.contact_everyone, c.perfect_model, 0.0],
            "customers contacted": [f"{c.best_fraction:.0%}", "100%", f"{y.mean():.0%} (the churners)", "0%"],
        }, index=["model, best threshold", "contact everyone", "perfect model", "contact nobody"])
        profit = [figure(lambda: plots.profit_plot(c), "profit curve"),
                  table(compare, lambda s: s.format({"profit": "{:,.0f}"})),
                  text(f"Best threshold: contact customers with a churn probability of at least "
                       f"**{c.best_threshold:.3f}** ({c.best_fraction:.0%} of customers). Expected maximum "
                       f"profit per customer over uncertain acceptance (EMPC, acceptance ~ Beta(6, 14)): "
                       f"**{self.empc_value[0]:.2f}**, targeting {self.empc_value[1]:.0%}; at a fixed acceptance of "
                       f"{e['accept_rate']:.0%} (MPC): {self.mpc_value[0]:.2f}.")]
        why = [figure(lambda: plots.permutation_bars(self.importance), "what the model relies on"),
               table(self.importance, lambda s: s.format(precision=4).hide(axis="index"))]
        if self.odds is not None:
            why += [text("**Odds ratios** (numeric features per standard deviation; 95 % intervals)"),
                    table(self.odds.table, lambda s: s.format(precision=3))]
            if self.odds.left_out:
                why.append(text(f"Left out of the odds-ratio model (too rare to estimate): "
                                f"{', '.join(self.odds.left_out)}"))
        cond = self.conditional
        time = [figure(lambda: plots.km_plot(self.km, title="Customers still with us by tenure and plan "
                                                             "(Kaplan–Meier)"), "kaplan-meier"),
                text("**Cox model from the snapshot** (hazard ratios per unit of each feature)"),
                table(self.cox.summary[["exp(coef)", "exp(coef) lower 95%", "exp(coef) upper 95%", "p"]]
                      .sort_values("p").head(12), lambda s: s.format(precision=3)),
                text(f"For customers active now, the chance of still being a customer {f.horizon_days} days later, "
                     f"given their tenure so far: median **{np.nanmedian(cond):.1%}** (10th percentile "
                     f"{np.nanpercentile(cond, 10):.1%}).")]
        risk = self.risk
        contact = risk[risk["contact"]]
        risk_blocks = [text(f"{len(risk):,} customers active on {self.scored_on.date()} scored; "
                            f"**{len(contact):,}** above the profit-maximising threshold; expected loss among them "
                            f"{contact['expected_loss'].sum():,.0f}. Full list: risk_list.csv / .xlsx."),
                       table(risk.head(15), lambda s: s.format({"probability": "{:.3f}", "expected_loss": "{:,.1f}"})
                             .hide(axis="index"))]
        return {"sample": sample, "quality": quality, "profit": profit, "why": why, "time": time, "risk": risk_blocks}


def run_churn(folder, *, quarter: str = "", as_of: str = "", horizon_days: int = 90, model: str = "logit",
              clv: float = 200.0, offer_cost: float = 10.0, contact_cost: float = 1.0, accept_rate: float = 0.3,
              seed: int = 0) -> ChurnAnalysis:
    """Which customers will leave, why, and what keeping them is worth: the pipeline of notebook
    ``04_churn_prediction``.

    Parameters
    ----------
    folder : DataFolder
        From :func:`sqmlib.io.load_folder`; needs the customers table (else the result is ``skipped``);
        interactions, survey and standards add features.
    quarter : str
        Quarter whose churn is predicted from its first day ("" = the survey's latest).
    as_of : str
        Snapshot date ``YYYY-MM-DD`` ("" = the first day of the quarter).
    horizon_days : int
        Churn within this many days after the snapshot.
    model : {"logit", "gbm"}
    clv, offer_cost, contact_cost, accept_rate : float
        The profit model: value of a retained customer, cost of the offer, cost of a contact, share of
        contacted churners who accept and stay.
    seed : int
        Seed of the folds and bootstraps.

    Returns
    -------
    ChurnAnalysis

    Examples
    --------
    >>> from sqmlib import churn, io
    >>> c = churn.run_churn(io.load_folder(), model="logit")
    >>> c.metrics().cv_auc, c.risk.head()
    """
    if model not in ("logit", "gbm"):
        raise SQMArgumentError(f"model must be 'logit' or 'gbm', got {model!r}")
    if horizon_days <= 0 or clv <= 0 or offer_cost < 0 or contact_cost < 0 or not 0 <= accept_rate <= 1:
        raise SQMArgumentError("horizon_days and clv must be positive, costs not negative, accept_rate in [0, 1]")
    if not folder.has("customers"):
        return ChurnAnalysis(quarter=quarter, skipped=True)
    quarter, snapshot = snapshot_of(folder, quarter, as_of)
    previous = snapshot - pd.Timedelta(days=horizon_days)
    fitted = fit_at_snapshot(folder, quarter, as_of=str(snapshot.date()), horizon_days=horizon_days, model=model,
                             seed=seed)
    train = fitted.features
    before, notes = features_at(folder, previous, horizon_days)
    fitted = replace(fitted, notes=fitted.notes + notes)
    result = fitted.model
    both = pd.concat([before.assign(snapshot=previous), train.assign(snapshot=snapshot)], ignore_index=True)
    both = both[list(train.columns) + ["snapshot"]].fillna({c: 0 for c in train.columns if c.startswith("complaints_")})
    holdout = fit_churn_model(both, "churned", model=model, seed=seed, time_col="snapshot", holdout_from=snapshot,
                              features=list(result.features)).holdout_auc
    evaluation = result.evaluation(n_boot=200, seed=seed)
    y, p = result.y.to_numpy(), result.oof.to_numpy()
    curve = profit_curve(y, p, clv=clv, offer_cost=offer_cost, contact_cost=contact_cost, accept_rate=accept_rate)
    empc_value = empc(y, p, clv=clv, offer_cost=offer_cost, contact_cost=contact_cost)
    mpc_value = mpc(y, p, clv=clv, offer_cost=offer_cost, contact_cost=contact_cost, accept_rate=accept_rate)
    groups = importance_groups(train.columns, list(folder.instrument.dimensions))
    importance = permutation_importance_grouped(result, groups=groups, seed=seed)
    odds = odds_ratios(result) if model == "logit" else None
    customers = folder.customers
    km = km_curves(customers, by="plan")
    until = max(customers["signup_date"].max(), customers["churn_date"].max())
    snap = train.set_index("customer_id")
    after = customers.set_index("customer_id").loc[snap.index, "churn_date"]
    cox_data = snap.select_dtypes("number").drop(columns=["churned"]).assign(
        duration_days=((after.fillna(until) - snapshot).dt.days.clip(lower=0) + 0.5).to_numpy(),
        event=after.notna().astype(int).to_numpy())
    cox = cox_model(cox_data)
    all_km = km_curves(customers)["all"]
    tenure_now = (until - customers.loc[customers["churn_date"].isna(), "signup_date"]).dt.days
    cond = np.array([conditional_survival(all_km, t, horizon_days) for t in tenure_now])
    risk = score_today(folder, fitted, clv=clv)
    risk["contact"] = risk["probability"] >= curve.best_threshold
    return ChurnAnalysis(quarter=quarter, fitted=fitted, previous=previous, holdout_auc=holdout,
                         evaluation=evaluation, curve=curve, empc_value=empc_value, mpc_value=mpc_value,
                         economics={"clv": clv, "offer_cost": offer_cost, "contact_cost": contact_cost,
                                    "accept_rate": accept_rate},
                         importance=importance, odds=odds, km=km, cox=cox, conditional=cond, risk=risk,
                         scored_on=scoring_date(customers))
