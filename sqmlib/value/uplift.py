"""Who an offer changes: uplift curves and their areas, and cross-fitted two-model and X-learner estimates.

A retention campaign with a random control group tells, for customers like each one, how much contacting them
changes the outcome (uplift = P(outcome | contacted) − P(outcome | not contacted)). Customers are ranked by an
uplift score; the **uplift curve** at the top k is (the treated's outcome rate − the controls' outcome rate) × k,
the **Qini curve** the treated's outcomes − the controls' outcomes scaled to the treated's number. Their areas are
normalised between a random ranking (0) and the perfect ranking of these data (1), the definitions of
scikit-uplift's ``uplift_auc_score`` and ``qini_auc_score`` (``negative_effect=True``), which the tests check to
1e-12. Ties in the score share a point of the curve.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SQMArgumentError

__all__ = ["uplift_curve", "qini_curve", "uplift_auc", "qini_auc", "arm_models", "arm_outcomes", "two_model", "x_learner",
           "risk_without_offer",
           "measured_uplift", "uplift_by_group"]


def _check(y, treatment, score=None):
    y = np.asarray(y, dtype=float)
    t = np.asarray(treatment, dtype=float)
    if y.shape != t.shape or (score is not None and np.shape(score) != y.shape):
        raise SQMArgumentError("outcome, treatment and score must have one value per customer")
    if not (np.isin(y, (0, 1)).all() and np.isin(t, (0, 1)).all()):
        raise SQMArgumentError("outcome and treatment must be 0/1")
    return y, t


def _points(y, t, score):
    """Cumulative counts at each distinct score, highest first: (customers, treated, treated outcomes, control
    outcomes)."""
    order = np.argsort(-np.asarray(score, dtype=float), kind="mergesort")
    s, yy, tt = np.asarray(score, dtype=float)[order], y[order], t[order]
    cut = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    n = cut + 1.0
    nt = np.cumsum(tt)[cut]
    yt = np.cumsum(yy * tt)[cut]
    yc = np.cumsum(yy * (1 - tt))[cut]
    return n, nt, yt, yc


def _start(x, v):
    if x.size == 0 or x[0] != 0 or v[0] != 0:
        return np.r_[0.0, x], np.r_[0.0, v]
    return x, v


def uplift_curve(y, treatment, score) -> tuple[np.ndarray, np.ndarray]:
    """(customers targeted, uplift × customers targeted) at each distinct score, from (0, 0)."""
    y, t = _check(y, treatment, score)
    n, nt, yt, yc = _points(y, t, score)
    nc = n - nt
    rate_t = np.divide(yt, nt, out=np.zeros_like(yt), where=nt != 0)
    rate_c = np.divide(yc, nc, out=np.zeros_like(yc), where=nc != 0)
    return _start(n, (rate_t - rate_c) * n)


def qini_curve(y, treatment, score) -> tuple[np.ndarray, np.ndarray]:
    """(customers targeted, treated outcomes − control outcomes × treated/controls) at each distinct score."""
    y, t = _check(y, treatment, score)
    n, nt, yt, yc = _points(y, t, score)
    nc = n - nt
    return _start(n, yt - yc * np.divide(nt, nc, out=np.zeros_like(nt), where=nc != 0))


def _area(x, v) -> float:
    return float(np.trapezoid(v, x)) if hasattr(np, "trapezoid") else float(np.trapz(v, x))


def _normalised(curve, perfect) -> float:
    xa, va = curve
    xp, vp = perfect
    base = _area(np.array([0.0, xp[-1]]), np.array([0.0, vp[-1]]))
    return (_area(xa, va) - base) / (_area(xp, vp) - base)


def uplift_auc(y, treatment, score) -> float:
    """Area under the uplift curve between a random ranking (0) and the perfect one (1)."""
    y, t = _check(y, treatment, score)
    control_responders = np.sum((y == 1) & (t == 0))
    treated_non = np.sum((y == 0) & (t == 1))
    perfect = 2 * (y == t) + (y if control_responders > treated_non else t)
    return _normalised(uplift_curve(y, t, score), uplift_curve(y, t, perfect))


def qini_auc(y, treatment, score) -> float:
    """Area under the Qini curve between a random ranking (0) and the perfect one (1): treated responders first,
    control responders last."""
    y, t = _check(y, treatment, score)
    return _normalised(qini_curve(y, t, score), qini_curve(y, t, y * t - y * (1 - t)))


def _folds(n: int, k: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).permutation(np.arange(n) % k)


def _model(seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=100, learning_rate=0.08, max_leaf_nodes=15, min_samples_leaf=40,
                                          random_state=seed)


def arm_models(x: pd.DataFrame, y, treatment, *, folds: int = 5, seed: int = 0, model=None) -> list[tuple]:
    """Per fold: a classifier fitted on the other folds' treated customers and one on their controls (the
    outcome models :func:`arm_outcomes` and :func:`x_learner` share)."""
    y, t = _check(y, treatment)
    X = np.asarray(x, dtype=float)
    make = model or _model
    fold = _folds(len(y), folds, seed)
    return [(make(seed).fit(X[(fold != f) & (t == 1)], y[(fold != f) & (t == 1)]),
             make(seed).fit(X[(fold != f) & (t == 0)], y[(fold != f) & (t == 0)])) for f in range(folds)]


def arm_outcomes(x: pd.DataFrame, y, treatment, *, folds: int = 5, seed: int = 0, model=None, models=None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Cross-fitted outcome probabilities of every customer as if treated and as if not: for each fold, one
    classifier on the other folds' treated customers and one on their controls (``models``: those of
    :func:`arm_models`, when already fitted)."""
    y, t = _check(y, treatment)
    X = np.asarray(x, dtype=float)
    models = models or arm_models(x, y, t, folds=folds, seed=seed, model=model)
    treated, control = np.empty(len(y)), np.empty(len(y))
    fold = _folds(len(y), folds, seed)
    for f, (mt, mc) in enumerate(models):
        test = fold == f
        treated[test], control[test] = mt.predict_proba(X[test])[:, 1], mc.predict_proba(X[test])[:, 1]
    return treated, control


def two_model(x: pd.DataFrame, y, treatment, *, folds: int = 5, seed: int = 0, model=None) -> np.ndarray:
    """Cross-fitted two-model uplift: for each fold, one classifier on the other folds' treated customers and one on
    their controls; a customer's uplift is the difference of the two predicted probabilities
    (:func:`arm_outcomes`)."""
    treated, control = arm_outcomes(x, y, treatment, folds=folds, seed=seed, model=model)
    return treated - control


def x_learner(x: pd.DataFrame, y, treatment, *, folds: int = 5, seed: int = 0, models=None) -> np.ndarray:
    """Cross-fitted X-learner (Künzel et al. 2019): outcome models per arm (``models``: those of
    :func:`arm_models`, when already fitted), imputed effects regressed on the features in each arm, combined with
    the treated share as the propensity (a randomised campaign)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    y, t = _check(y, treatment)
    X = np.asarray(x, dtype=float)
    models = models or arm_models(x, y, t, folds=folds, seed=seed)
    out = np.empty(len(y))
    fold = _folds(len(y), folds, seed)
    for f, (mu1, mu0) in enumerate(models):
        test, train = fold == f, fold != f
        tr, co = train & (t == 1), train & (t == 0)
        d1 = y[tr] - mu0.predict_proba(X[tr])[:, 1]
        d0 = mu1.predict_proba(X[co])[:, 1] - y[co]
        reg = dict(max_iter=100, learning_rate=0.08, max_leaf_nodes=15, min_samples_leaf=40, random_state=seed)
        tau1 = HistGradientBoostingRegressor(**reg).fit(X[tr], d1)
        tau0 = HistGradientBoostingRegressor(**reg).fit(X[co], d0)
        e = t[train].mean()
        out[test] = e * tau0.predict(X[test]) + (1 - e) * tau1.predict(X[test])
    return out


def risk_without_offer(x: pd.DataFrame, y, treatment, *, folds: int = 5, seed: int = 0, model=None) -> np.ndarray:
    """Cross-fitted churn risk as a churn model sees it: the probability of *not* reaching the outcome (``y`` = 0,
    e.g. leaving) when not contacted, from a classifier on the other folds' control customers only (the control
    model of :func:`arm_outcomes`)."""
    return 1 - arm_outcomes(x, y, treatment, folds=folds, seed=seed, model=model)[1]


def measured_uplift(y, treatment, score, fraction: float = 0.1) -> float:
    """The campaign's measured effect among the ``fraction`` of customers ranked highest by ``score`` (ties at the
    cut all in): their treated customers' outcome rate minus their controls'."""
    y, t = _check(y, treatment, score)
    s = np.asarray(score, dtype=float)
    cut = np.sort(s)[::-1][max(0, int(np.ceil(fraction * len(s))) - 1)]
    top = s >= cut
    return float(y[top & (t == 1)].mean() - y[top & (t == 0)].mean())


def uplift_by_group(y, treatment, score, groups: int = 10) -> pd.DataFrame:
    """Customers in ``groups`` equal groups by ``score`` (highest first): customers, treated, and the measured
    effect (treated outcome rate − control outcome rate) in each."""
    y, t = _check(y, treatment, score)
    order = np.argsort(-np.asarray(score, dtype=float), kind="stable")
    g = np.empty(len(y), dtype=int)
    g[order] = np.arange(len(y)) * groups // len(y) + 1
    d = pd.DataFrame({"group": g, "y": y, "t": t})
    out = d.groupby("group").apply(lambda p: pd.Series({
        "customers": len(p), "treated": int(p["t"].sum()),
        "measured_uplift": p.loc[p["t"] == 1, "y"].mean() - p.loc[p["t"] == 0, "y"].mean()}), include_groups=False)
    return out.astype({"customers": int, "treated": int})
