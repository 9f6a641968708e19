"""Lifetime value: the BG/NBD and Pareto/NBD purchase models, Gamma-Gamma spend, P(alive) and discounted CLV.

Conventions as the ``lifetimes`` library's, so users can compare: per customer, ``frequency`` is the number of
repeat purchase periods (periods with a purchase after the first), ``recency`` the age at the last purchase
(first to last purchase) and ``T`` the age at the end of the data, all in periods of ``freq`` (weeks by
default); ``monetary_value`` the mean spend of the repeat purchases. The models are fitted by maximum likelihood on
the logarithms of their parameters, from several starting points, with the likelihood summed over groups of
customers with the same (frequency, recency, T) — a few thousand distinct rows, however many customers.

References: Fader, Hardie and Lee (2005), "Counting your customers the easy way: an alternative to the
Pareto/NBD model" (BG/NBD); Schmittlein, Morrison and Colombo (1987) and Fader and Hardie (2005), "A note on
deriving the Pareto/NBD model and related expressions"; Fader, Hardie and Lee (2005), "RFM and CLV: using
iso-value curves for customer base analysis" (Gamma-Gamma). Their CDNOW estimates are reproduced in the tests.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..errors import SQMArgumentError

__all__ = ["BGNBD", "ParetoNBD", "GammaGamma", "bgnbd", "pareto_nbd", "gamma_gamma", "summary_from_transactions",
           "from_aggregates", "period_index", "clv", "intervals"]


def summary_from_transactions(transactions: pd.DataFrame, *, customer: str, time: str, amount: str | None = None,
                              as_of=None, freq: str = "W", calibration_end=None, ends: pd.Series | None = None
                              ) -> pd.DataFrame:
    """Per customer: ``frequency``, ``recency``, ``T`` (and ``monetary_value`` with ``amount``), as ``lifetimes``'
    ``summary_data_from_transaction_data`` defines them: purchases are counted per period of ``freq`` (D, W or M;
    several in
    one period are one purchase, their amounts summed); ``T`` runs from the first purchase period to ``as_of``
    (default the last date), ``recency`` from the first to the last purchase period; ``monetary_value`` is the mean
    of the repeat periods' amounts (0 without repeats). With ``calibration_end``, only purchases up to it count and
    ``T`` ends there; the hold-out purchases after it are added as ``frequency_holdout`` (and ``duration_holdout``,
    in periods). ``ends`` (customer → date) ends a customer's observation earlier, e.g. at a contract's
    cancellation, after which no purchase is possible: ``T`` then runs to that date (not in ``lifetimes``)."""
    for c in (customer, time) + ((amount,) if amount else ()):
        if c not in transactions:
            raise SQMArgumentError(f"no column {c!r} in the transactions")
    check_freq(freq)
    t = pd.to_datetime(transactions[time])
    end = pd.Timestamp(as_of) if as_of is not None else t.max()
    cal = pd.Timestamp(calibration_end) if calibration_end is not None else end
    keep = (t <= end).to_numpy()
    d = pd.DataFrame({"c": transactions[customer].to_numpy()[keep],
                      "p": period_index(t.to_numpy()[keep], freq),
                      "a": (pd.to_numeric(transactions[amount], errors="coerce").to_numpy()[keep] if amount else 0.0)})
    before = t.to_numpy()[keep] <= np.datetime64(cal)
    # purchases up to the calibration end (by time) per period; the hold-out's purchase periods after it
    per = d[before].groupby(["c", "p"], sort=True)["a"].sum().reset_index()
    g = per.groupby("c", sort=True)
    agg = pd.DataFrame({"first": g["p"].min(), "last": g["p"].max(), "periods": g.size(), "spend": g["a"].sum()})
    agg["first_spend"] = per.drop_duplicates("c").set_index("c")["a"]  # sorted: each customer's first period
    if calibration_end is not None:
        after = d[~before].drop_duplicates(["c", "p"])
        agg["holdout"] = after.groupby("c").size().reindex(agg.index).fillna(0)
    return from_aggregates(agg, customer=customer, freq=freq, end=end, calibration_end=calibration_end, ends=ends,
                           amount=bool(amount))


FREQS = ("D", "W", "M")


def check_freq(freq: str) -> str:
    """``freq`` when it is one of D (days), W (weeks, Monday to Sunday, as pandas' ``W``) or M (calendar months)."""
    if freq not in FREQS:
        raise SQMArgumentError(f"freq must be one of {', '.join(FREQS)} (days, weeks, months), got {freq!r}")
    return freq


def period_index(times, freq: str) -> np.ndarray:
    """The purchase period of each time as an integer (days since 1970-01-01; weeks from Monday 1970-01-05 — pandas'
    ``W`` periods, Monday to Sunday —; months since January 1970): differences are pandas' period differences."""
    days = np.asarray(times, dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
    if freq == "D":
        return days
    if freq == "W":
        return np.floor_divide(days - 4, 7)
    return np.asarray(times, dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64)


def from_aggregates(agg: pd.DataFrame, *, customer: str, freq: str, end, calibration_end=None,
                    ends: pd.Series | None = None, amount: bool = True) -> pd.DataFrame:
    """The purchase summary from per-customer aggregates of the purchase periods up to the calibration end:
    ``first`` and ``last`` period (:func:`period_index`), ``periods`` (how many had a purchase), ``spend`` (their
    total) and ``first_spend`` (the first period's), and ``holdout`` (purchase periods after the calibration end)
    with ``calibration_end``. :func:`summary_from_transactions` computes them in pandas,
    :func:`sqmlib.value.purchase_summary` in DuckDB or Spark."""
    end = pd.Timestamp(end)
    cal = pd.Timestamp(calibration_end) if calibration_end is not None else end
    cal_p = int(period_index(np.array([cal.to_datetime64()]), freq)[0])
    first = agg["first"].to_numpy(np.int64)
    stop = np.full(len(agg), cal_p, dtype=np.int64)
    if ends is not None:
        own = pd.to_datetime(ends.reindex(agg.index))
        early = (own.notna() & (own < cal)).to_numpy()
        stop[early] = period_index(own[early].to_numpy(), freq)
    n = agg["periods"].to_numpy(float)
    out = pd.DataFrame({"frequency": n - 1, "recency": (agg["last"].to_numpy(np.int64) - first).astype(float),
                        "T": (stop - first).astype(float)}, index=agg.index)
    if amount:
        # rounded to the millionth: sums in another order (an engine's) give the same spend, hence the same fit
        repeat = np.round(agg["spend"].to_numpy(float) - agg["first_spend"].to_numpy(float), 6)
        out["monetary_value"] = np.where(n > 1, repeat / np.maximum(n - 1, 1), 0.0)
    if calibration_end is not None:
        out["frequency_holdout"] = agg["holdout"].to_numpy(float)
        end_p = int(period_index(np.array([end.to_datetime64()]), freq)[0])
        out["duration_holdout"] = float(end_p - cal_p)
    out.index.name = customer
    return out


def _grouped(*cols) -> tuple[np.ndarray, ...]:
    """Distinct rows of the columns and how many customers each holds."""
    arr = np.column_stack([np.asarray(c, dtype=float) for c in cols])
    uniq, counts = np.unique(arr, axis=0, return_counts=True)
    return tuple(uniq[:, k] for k in range(uniq.shape[1])) + (counts.astype(float),)


def _hessian(f, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x``."""
    k = len(x)
    out = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            out[i, j] = out[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
    return out


def intervals(neg_ll, params: np.ndarray, names) -> pd.DataFrame:
    """Standard errors and 95 % intervals of the parameters from the observed information on the log scale (the
    interval is symmetric in log(parameter), so it stays positive)."""
    z = np.log(params)
    try:
        cov = np.linalg.inv(_hessian(neg_ll, z))
        se_log = np.sqrt(np.clip(np.diag(cov), 0, None))
    except np.linalg.LinAlgError:
        se_log = np.full(len(z), np.nan)
    return pd.DataFrame({"estimate": params, "se": params * se_log, "ci_low": np.exp(z - 1.96 * se_log),
                         "ci_high": np.exp(z + 1.96 * se_log)}, index=list(names))


BOUND = 20.0  # log parameters stay within ±20: a ridge to infinity (see _fit) ends on the bound


def _flat(neg_ll, x: np.ndarray, fun: float) -> bool:
    """Converged: the log-likelihood is flat at ``x`` (the first-order condition on the log scale, by central
    differences), a parameter on the bound counting when the likelihood still rises beyond it — a boundary ridge
    (e.g. a and b of the BG/NBD running to infinity together when the dropout probability does not vary between
    customers), where the optimisers' own stopping rules report failure."""
    h = 1e-5
    grad = np.array([(neg_ll(x + h * e) - neg_ll(x - h * e)) / (2 * h) for e in np.eye(len(x))])
    outward = ((x >= BOUND - 1e-6) & (grad < 0)) | ((x <= -BOUND + 1e-6) & (grad > 0))
    return bool(np.all(np.isfinite(grad))
                and np.max(np.abs(np.where(outward, 0.0, grad))) < 1e-3 * max(1.0, abs(float(fun))) ** 0.5)


def _fit(neg_ll, starts, names) -> tuple[np.ndarray, float, bool, int]:
    """Minimise over log parameters (bounded by ±:data:`BOUND`) from each start, polish the best with
    Nelder–Mead and a last bounded L-BFGS-B; the best (parameters, log-likelihood, converged, starts that reached
    it within 1e-4)."""
    bounds = [(-BOUND, BOUND)] * len(starts[0])
    opts = {"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8}
    best, results = None, []
    for x0 in starts:
        r = optimize.minimize(neg_ll, np.clip(np.log(x0), -BOUND, BOUND), method="L-BFGS-B", bounds=bounds,
                              options=opts)
        if not np.isfinite(r.fun):
            continue
        results.append(r)
        if best is None or r.fun < best.fun:
            best = r
    if best is None:
        raise SQMArgumentError("the model could not be fitted from any starting point")
    if not _flat(neg_ll, best.x, best.fun):
        # polish (the likelihood is flat in some directions for sparse data), then settle within the bounds
        polished = optimize.minimize(neg_ll, best.x, method="Nelder-Mead",
                                     options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 3000})
        x = np.clip(polished.x if polished.fun < best.fun else best.x, -BOUND, BOUND)
        final = optimize.minimize(neg_ll, x, method="L-BFGS-B", bounds=bounds, options=opts)
        if final.fun < min(best.fun, polished.fun):
            best = final
        elif polished.fun < best.fun and np.all(np.abs(polished.x) <= BOUND):
            best = polished
    agree = sum(abs(r.fun - best.fun) < 1e-4 for r in results)
    flat = _flat(neg_ll, best.x, best.fun)
    return np.exp(best.x), -float(best.fun), flat, int(agree)


@dataclass(frozen=True)
class BGNBD:
    """A fitted BG/NBD model: ``params`` (r, alpha, a, b), ``loglik`` (summed over customers), ``converged``,
    ``starts_agreeing`` (of the starting points, how many reached the best likelihood)."""

    params: pd.Series
    loglik: float
    converged: bool
    starts_agreeing: int = 0
    n: int = 0
    table: pd.DataFrame | None = None  # estimate, se, 95 % interval per parameter

    def _p(self):
        return (float(self.params[k]) for k in ("r", "alpha", "a", "b"))

    def p_alive(self, frequency, recency, T) -> np.ndarray:
        """P(the customer has not dropped out) at T."""
        r, alpha, a, b = self._p()
        x, tx, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        with np.errstate(divide="ignore", invalid="ignore"):
            odds = np.where(x > 0, a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x), 0.0)
        return 1.0 / (1.0 + odds)

    def expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """Expected purchases in the next ``t`` periods of a customer with this history."""
        r, alpha, a, b = self._p()
        x, tx, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        t = np.asarray(t, dtype=float)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
        first = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
        with np.errstate(divide="ignore", invalid="ignore"):
            odds = np.where(x > 0, a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x), 0.0)
        return first / (1 + odds)

    def expected_purchases_new(self, t) -> np.ndarray:
        """Expected purchases of a new customer in their first ``t`` periods, E[X(t)]."""
        r, alpha, a, b = self._p()
        t = np.asarray(t, dtype=float)
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, t / (alpha + t)))


def _bgnbd_ll(params, x, tx, T, w):
    r, alpha, a, b = np.exp(np.clip(params, -30, 30))  # the optimiser may step far out: stay finite
    ln_a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    ln_a2 = special.betaln(a, b + x) - special.betaln(a, b)  # Γ(a+b)Γ(b+x)/(Γ(b)Γ(a+b+x)), accurate for large a, b
    ln_a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + tx),
                         -np.inf)
    ll = ln_a1 + ln_a2 + np.logaddexp(ln_a3, ln_a4)
    return -float(np.sum(w * ll))


def _bgnbd_ll_mk(theta, x, tx, T, w):
    """The BG/NBD likelihood on (log r, log α, log m/(1 − m), log κ) with a = mκ, b = (1 − m)κ: the mean dropout
    probability m and its concentration κ. When the dropout probability does not vary between customers the
    maximum lies at κ → ∞, a single direction here (in a and b it is a curved ridge no optimiser settles on)."""
    lr, la, lm, lk = theta
    m = 1 / (1 + np.exp(-lm))
    k = np.exp(lk)
    return _bgnbd_ll(np.array([lr, la, np.log(m * k), np.log((1 - m) * k)]), x, tx, T, w)


def bgnbd(frequency, recency, T, *, starts: int = 6, seed: int = 0) -> BGNBD:
    """Fit the BG/NBD model by maximum likelihood (see the module's description), on the mean dropout probability
    and its concentration (:func:`_bgnbd_ll_mk`); ``params`` and ``table`` in the paper's (r, α, a, b). When the
    dropout probability does not vary between customers the likelihood keeps rising (very slowly) as a + b → ∞: the
    fit then stops at a concentration of e^20 or so, within a few hundredths of the supremum, and says converged
    (``lifetimes`` raises a ConvergenceError there)."""
    x, tx, TT, w = _grouped(frequency, recency, T)
    if np.any(tx > TT) or np.any(x < 0) or np.any((x == 0) & (tx > 0)):
        raise SQMArgumentError("inconsistent summary: recency above T, a negative frequency, or recency without "
                               "repeat purchases")
    rng = np.random.default_rng(seed)

    def start(r, alpha, a, b):  # (r, α, a, b) -> the positive numbers _fit takes the logarithm of
        return np.array([r, alpha, a / b, a + b])

    base = [start(1.0, max(float(np.mean(TT)), 1.0), 1.0, 1.0), start(0.5, 5.0, 0.8, 2.5)]
    extra = [start(*(np.exp(rng.normal(0, 1, 4)) * np.array([1.0, max(float(np.mean(TT)), 1.0), 1.0, 1.0])))
             for _ in range(max(starts - 2, 0))]
    f = lambda q: _bgnbd_ll_mk(q, x, tx, TT, w)  # noqa: E731  (its first three coordinates are logs as given)
    est, ll, ok, agree = _fit(f, base + extra, ("r", "alpha", "odds", "kappa"))
    r, alpha, odds, kappa = est
    m = odds / (1 + odds)
    p = np.array([r, alpha, m * kappa, (1 - m) * kappa])
    names = ["r", "alpha", "a", "b"]
    g = lambda q: _bgnbd_ll(q, x, tx, TT, w)  # noqa: E731
    return BGNBD(pd.Series(p, index=names), ll, ok, agree, int(w.sum()), intervals(g, p, names))


@dataclass(frozen=True)
class ParetoNBD:
    """A fitted Pareto/NBD model: ``params`` (r, alpha, s, beta), ``loglik``, ``converged``."""

    params: pd.Series
    loglik: float
    converged: bool
    starts_agreeing: int = 0
    n: int = 0
    table: pd.DataFrame | None = None


def _pnbd_ll(params, x, tx, T, w):
    r, alpha, s, beta = np.exp(np.clip(params, -30, 30))
    maxab = max(alpha, beta)
    absab = abs(alpha - beta)
    param2 = s + 1 if alpha >= beta else r + x
    rsx = r + s + x
    ln_common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    # the two terms of Fader & Hardie's (2005) expression, in logs (rescaled by max(alpha, beta))
    ln_l1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = special.hyp2f1(rsx, param2, rsx + 1, absab / (maxab + tx))
        f2 = special.hyp2f1(rsx, param2, rsx + 1, absab / (maxab + T))
        a1 = np.log(f1) - rsx * np.log(maxab + tx)
        a2 = np.log(f2) - rsx * np.log(maxab + T)
        # log(exp(a1) - exp(a2)), a1 > a2
        ln_diff = a1 + np.log1p(-np.exp(a2 - a1))
        ln_l2 = np.log(s) - np.log(rsx) + ln_diff
    with np.errstate(invalid="ignore"):  # far from the data the terms lose precision: a large penalty then
        ll = ln_common + np.logaddexp(ln_l1, ln_l2)
    if not np.all(np.isfinite(ll)):
        return 1e100
    return -float(np.sum(w * ll))


def pareto_nbd(frequency, recency, T, *, starts: int = 3, seed: int = 0) -> ParetoNBD:
    """Fit the Pareto/NBD model by maximum likelihood, for comparison with the BG/NBD."""
    x, tx, TT, w = _grouped(frequency, recency, T)
    rng = np.random.default_rng(seed)
    base = [np.array([1.0, max(float(np.mean(TT)), 1.0), 1.0, max(float(np.mean(TT)), 1.0)]),
            np.array([0.5, 10.0, 0.5, 10.0])]
    extra = [np.exp(rng.normal(0, 1, 4)) * base[1] for _ in range(max(starts - 2, 0))]
    f = lambda q: _pnbd_ll(q, x, tx, TT, w)  # noqa: E731
    p, ll, ok, agree = _fit(f, base + extra, ("r", "alpha", "s", "beta"))
    names = ["r", "alpha", "s", "beta"]
    return ParetoNBD(pd.Series(p, index=names), ll, ok, agree, int(w.sum()), intervals(f, p, names))


@dataclass(frozen=True)
class GammaGamma:
    """A fitted Gamma-Gamma spend model: ``params`` (p, q, v), ``loglik``, ``converged``; ``correlation``: the
    correlation between frequency and mean spend of the customers it was fitted on (the model assumes none)."""

    params: pd.Series
    loglik: float
    converged: bool
    correlation: float = np.nan
    n: int = 0
    table: pd.DataFrame | None = None

    def expected_spend(self, frequency, monetary_value) -> np.ndarray:
        """Expected mean spend per purchase of a customer (the population mean for those without repeats)."""
        p, q, v = (float(self.params[k]) for k in ("p", "q", "v"))
        x = np.asarray(frequency, dtype=float)
        m = np.asarray(monetary_value, dtype=float)
        return (p * (v + x * m)) / (p * x + q - 1)


def _gg_ll(params, x, m, w):
    p, q, v = np.exp(np.clip(params, -30, 30))
    ll = (special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q) + q * np.log(v)
          + (p * x - 1) * np.log(m) + (p * x) * np.log(x) - (p * x + q) * np.log(v + m * x))
    return -float(np.sum(w * ll))


def gamma_gamma(frequency, monetary_value, *, starts: int = 4, seed: int = 0) -> GammaGamma:
    """Fit the Gamma-Gamma model on customers with repeat purchases (frequency > 0, positive mean spend)."""
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary_value, dtype=float)
    keep = (x > 0) & (m > 0)
    if keep.sum() < 10:
        raise SQMArgumentError("fewer than 10 customers with repeat purchases: the spend model cannot be fitted")
    corr = float(np.corrcoef(x[keep], m[keep])[0, 1])
    xx, mm, w = _grouped(x[keep], m[keep])
    rng = np.random.default_rng(seed)
    base = [np.array([1.0, 1.0, max(float(np.mean(mm)), 1.0)]), np.array([6.0, 4.0, 15.0])]
    extra = [np.exp(rng.normal(0, 1, 3)) * base[0] for _ in range(max(starts - 2, 0))]
    f = lambda q: _gg_ll(q, xx, mm, w)  # noqa: E731
    p, ll, ok, _ = _fit(f, base + extra, ("p", "q", "v"))
    return GammaGamma(pd.Series(p, index=["p", "q", "v"]), ll, ok, corr, int(w.sum()), intervals(f, p, ["p", "q", "v"]))


def clv(model: BGNBD, spend: GammaGamma, frequency, recency, T, monetary_value, *, months: int = 12,
        discount_rate: float = 0.01, freq: str = "W") -> np.ndarray:
    """Discounted customer lifetime value over ``months``, as ``lifetimes``' ``customer_lifetime_value``: the
    expected purchases of each month (4.345 weeks, 30 days) times the expected spend, discounted by
    ``discount_rate`` a month."""
    per_month = {"D": 30.0, "W": 4.345, "M": 1.0}.get(freq)
    if per_month is None:
        raise SQMArgumentError("freq must be D, W or M")
    m = spend.expected_spend(frequency, monetary_value)
    total = np.zeros(len(np.asarray(frequency)))
    prev = 0.0
    for i in range(1, months + 1):
        now = model.expected_purchases(per_month * i, frequency, recency, T)
        total += (now - prev) * m / (1 + discount_rate) ** i
        prev = now
    return total


