"""Profit measures of a churn model (EMPC, profit curves) and its evaluation."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import Problem, SQMArgumentError, SQMDataError


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
    from sklearn.metrics import (
        average_precision_score,
        brier_score_loss,
        log_loss,
        roc_auc_score,
    )

    top = np.argsort(-p, kind="stable")[: max(1, int(round(0.1 * len(p))))]
    return {"roc_auc": roc_auc_score(y, p), "pr_auc": average_precision_score(y, p),
            "brier": brier_score_loss(y, p), "log_loss": log_loss(y, np.clip(p, 1e-15, 1 - 1e-15)),
            "ece": expected_calibration_error(y, p), "top_decile_lift": y[top].mean() / y.mean()}


def _metric_rows(Y: np.ndarray, P: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """:func:`_metric_values` of every row of ``Y`` and ``P`` (resamples × customers) at once, with the same
    definitions: ROC-AUC as the Mann–Whitney statistic on average ranks (the area under sklearn's ROC curve,
    ties included), PR-AUC as sklearn's average precision (a step at each distinct score), Brier score, log loss
    (probabilities clipped to 1e-15), the expected calibration error over equal-count bins and the top-decile lift
    (both with sklearn's and numpy's stable order for tied scores)."""
    from scipy.stats import rankdata

    B, n = P.shape
    pos = Y.sum(axis=1)
    neg = n - pos
    ranks = rankdata(P, axis=1)
    roc = ((ranks * Y).sum(axis=1) - pos * (pos + 1) / 2) / (pos * neg)
    down = np.argsort(-P, axis=1, kind="stable")
    Pd, Yd = np.take_along_axis(P, down, 1), np.take_along_axis(Y, down, 1)
    tp = np.cumsum(Yd, axis=1)
    last = np.ones((B, n), bool)
    last[:, :-1] = Pd[:, :-1] != Pd[:, 1:]  # the last of each group of tied scores: one threshold
    before = np.zeros((B, n))
    before[:, 1:] = np.maximum.accumulate(np.where(last, tp, 0.0), axis=1)[:, :-1]
    pr = (np.where(last, (tp - before) * tp / np.arange(1, n + 1), 0.0)).sum(axis=1) / pos
    q = np.clip(P, 1e-15, 1 - 1e-15)
    top = max(1, int(round(0.1 * n)))
    up = np.argsort(P, axis=1, kind="stable")
    Pu, Yu = np.take_along_axis(P, up, 1), np.take_along_axis(Y, up, 1)
    sizes = np.array([len(b) for b in np.array_split(np.arange(n), bins) if len(b)])
    edges = np.concatenate([[0], np.cumsum(sizes)])
    sp = np.add.reduceat(Pu, edges[:-1], axis=1) / sizes
    sy = np.add.reduceat(Yu, edges[:-1], axis=1) / sizes
    return pd.DataFrame({
        "roc_auc": roc, "pr_auc": pr, "brier": ((Y - P) ** 2).mean(axis=1),
        "log_loss": -(Y * np.log(q) + (1 - Y) * np.log(1 - q)).mean(axis=1),
        "ece": (sizes * np.abs(sy - sp)).sum(axis=1) / n,
        "top_decile_lift": Yd[:, :top].mean(axis=1) / Y.mean(axis=1)})


def evaluate(y, p, n_boot: int = 200, seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
    """ROC-AUC, PR-AUC, Brier score, log loss, expected calibration error and top-decile lift, with
    percentile bootstrap intervals (customers resampled; all resamples evaluated at once, see
    :func:`_metric_rows`)."""
    y, p = check_binary(y, p)
    est = _metric_values(y, p)
    out = pd.DataFrame({"value": est})
    if n_boot:
        rng = np.random.default_rng(seed)
        idx = np.stack([rng.integers(0, len(y), len(y)) for _ in range(n_boot)])
        Y, P = y[idx], p[idx]
        both = (Y.min(axis=1) != Y.max(axis=1))  # a resample with one class has no AUC: left out
        b = _metric_rows(Y[both], P[both])
        g = 1 - confidence
        out["ci_low"] = b.quantile(g / 2)
        out["ci_high"] = b.quantile(1 - g / 2)
    out.index.name = "metric"
    return out
