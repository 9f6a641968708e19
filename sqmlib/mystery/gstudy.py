"""Is a store's score real? Variance components of visit scores and the generalizability of a store's mean.

:func:`variance_components` fits visit score ~ 1 + (1 | store) + (1 | shopper) by restricted maximum likelihood
(REML), crossed random effects as statsmodels' ``MixedLM`` (variance components in one group) and R's
``lme4::lmer`` estimate them. The likelihood is profiled as lme4 does: with relative standard deviations θ of
the two effects, the penalised least-squares system has the size of the stores plus the shoppers (not of the
visits), so it is built once from counts and sums and each evaluation is one Cholesky factorisation.

:func:`g_study` turns the components into generalizability coefficients for a store's mean of ``n`` visits:

- ``phi`` (dependability, Brennan's Φ): error (σ²_shopper + σ²_residual) / n — shoppers differ from store to
  store, as in almost every programme, so a lenient shopper's visits move the store's score;
- ``g`` (Eρ², relative): error σ²_residual / n — every store seen by the same shoppers, whose leniency then
  cancels in comparisons.

For a balanced crossed design (every shopper visits every store once) the REML components are the ANOVA ones
and ``g`` equals ICC(3,k), ``phi`` ICC(2,k) of the stores × shoppers table. The decision study answers how many
visits per store give a coefficient of .80.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, optimize

from ..errors import SQMArgumentError


@dataclass(frozen=True)
class Components:
    """REML variance components of visit scores."""

    store: float
    shopper: float
    residual: float
    mean: float
    visits: int
    stores: int
    shoppers: int
    converged: bool
    reml: float  # −2 × the restricted log-likelihood at the optimum
    store_effects: pd.Series | None = None  # predicted random effects (BLUPs), score points
    shopper_effects: pd.Series | None = None

    def shares(self) -> dict:
        total = self.store + self.shopper + self.residual
        return {"store": self.store / total, "shopper": self.shopper / total, "residual": self.residual / total}


def _codes(s: pd.Series) -> tuple[np.ndarray, pd.Index]:
    codes, uniques = pd.factorize(s, sort=True)
    return codes, pd.Index(uniques)


def variance_components(data: pd.DataFrame, *, store: str, shopper: str, score: str) -> Components:
    """REML variance components of ``score`` ~ 1 + (1 | ``store``) + (1 | ``shopper``); rows with a missing
    score, store or shopper are left out. Unbalanced designs (stores visited unequally, shoppers
    partly crossed with stores) are what it is for."""
    d = data[[store, shopper, score]].dropna()
    y = d[score].to_numpy(dtype=float)
    n = len(y)
    s, store_names = _codes(d[store])
    r, shopper_names = _codes(d[shopper])
    q1, q2 = len(store_names), len(shopper_names)
    if n < 3 or q1 < 2 or q2 < 2:
        raise SQMArgumentError(f"variance components need two or more stores and shoppers; {n} visit(s), "
                               f"{q1} store(s), {q2} shopper(s)")
    q = q1 + q2
    # cross-products of [Z X] and y, from counts and sums
    ztz = np.zeros((q, q))
    ztz[:q1, :q1] = np.diag(np.bincount(s, minlength=q1))
    ztz[q1:, q1:] = np.diag(np.bincount(r, minlength=q2))
    cross = np.zeros((q1, q2))
    np.add.at(cross, (s, r), 1)
    ztz[:q1, q1:], ztz[q1:, :q1] = cross, cross.T
    ztx = np.concatenate([np.bincount(s, minlength=q1), np.bincount(r, minlength=q2)]).astype(float)
    zty = np.concatenate([np.bincount(s, y, q1), np.bincount(r, y, q2)])
    xtx, xty, yty = float(n), float(y.sum()), float(y @ y)
    p = 1
    m = np.zeros((q + 1, q + 1))
    rhs = np.zeros(q + 1)

    def criterion(theta):
        lam = np.concatenate([np.full(q1, theta[0]), np.full(q2, theta[1])])
        m[:q, :q] = lam[:, None] * ztz * lam[None, :] + np.eye(q)
        m[:q, q] = m[q, :q] = lam * ztx
        m[q, q] = xtx
        rhs[:q], rhs[q] = lam * zty, xty
        try:
            low = linalg.cholesky(m, lower=True, check_finite=False)
        except linalg.LinAlgError:
            return np.inf, None
        w = linalg.solve_triangular(low, rhs, lower=True, check_finite=False)
        r2 = yty - w @ w
        if r2 <= 0:
            return np.inf, None
        logdet = 2 * np.log(np.diag(low)).sum()  # log|A| + log|R_X'R_X|
        return logdet + (n - p) * (1 + math.log(2 * math.pi * r2 / (n - p))), (r2, low, w)

    best = None
    for start in ((1.0, 1.0), (0.3, 0.3), (2.0, 0.5), (0.5, 2.0)):
        fit = optimize.minimize(lambda t: criterion(t)[0], np.array(start), method="L-BFGS-B",
                                bounds=[(0, None), (0, None)], options={"ftol": 1e-14, "gtol": 1e-10})
        if best is None or fit.fun < best.fun:
            best = fit
    value, (r2, low, w) = criterion(best.x)
    sigma2 = r2 / (n - p)
    sol = linalg.solve_triangular(low, w, lower=True, trans="T", check_finite=False)  # [u; β]
    lam = np.concatenate([np.full(q1, best.x[0]), np.full(q2, best.x[1])])
    b = lam * sol[:q]
    return Components(store=float(best.x[0] ** 2 * sigma2), shopper=float(best.x[1] ** 2 * sigma2),
                      residual=float(sigma2), mean=float(sol[q]), visits=n, stores=q1, shoppers=q2,
                      converged=bool(best.success), reml=float(value),
                      store_effects=pd.Series(b[:q1], index=store_names, name="effect"),
                      shopper_effects=pd.Series(b[q1:], index=shopper_names, name="effect"))


@dataclass(frozen=True)
class GStudy:
    """Variance components and the generalizability of a store's mean score (see the module's notes)."""

    components: Components
    visits_per_store: float  # today's design: the harmonic mean of visits per store

    def phi(self, visits: float) -> float:
        c = self.components
        return c.store / (c.store + (c.shopper + c.residual) / visits) if c.store > 0 else 0.0

    def g(self, visits: float) -> float:
        c = self.components
        return c.store / (c.store + c.residual / visits) if c.store > 0 else 0.0

    @property
    def coefficient(self) -> float:
        """Φ of today's design."""
        return self.phi(self.visits_per_store)

    @property
    def g_coefficient(self) -> float:
        """Eρ² of today's design."""
        return self.g(self.visits_per_store)

    def visits_needed(self, target: float = 0.80, *, relative: bool = False) -> int | None:
        """The fewest visits per store giving Φ (or Eρ², ``relative=True``) of at least ``target``; None when
        stores do not differ (no number of visits tells them apart)."""
        c = self.components
        if c.store <= 0:
            return None
        error = c.residual if relative else c.shopper + c.residual
        n = target / (1 - target) * error / c.store
        k = max(1, math.ceil(n - 1e-9))
        return k

    def d_study(self, visits_per_store) -> pd.DataFrame:
        """Φ and Eρ² for each number of visits per store."""
        v = np.atleast_1d(np.asarray(visits_per_store, dtype=float))
        return pd.DataFrame({"visits": v, "phi": [self.phi(x) for x in v], "g": [self.g(x) for x in v]}
                            ).set_index("visits")


def g_study(visits: pd.DataFrame, *, store: str, shopper: str, score: str) -> GStudy:
    """Variance components of ``score`` and the generalizability of the store mean of today's design.

    Parameters
    ----------
    visits : DataFrame
        One row a visit.
    store : str
        The object of measurement: the store (or the store in a period, for the reliability of a quarter's score).
    shopper : str
    score : str

    Returns
    -------
    GStudy
        ``.components``, ``.coefficient`` (Φ), ``.g_coefficient`` (Eρ²), ``.d_study(n)`` and
        ``.visits_needed(.80)``.

    Examples
    --------
    >>> g = g_study(visits, store="store", shopper="shopper_id", score="score")  # doctest: +SKIP
    >>> g.visits_needed(0.80)                                                    # doctest: +SKIP
    """
    comp = variance_components(visits, store=store, shopper=shopper, score=score)
    per = visits.dropna(subset=[store, shopper, score]).groupby(store, observed=True).size()
    return GStudy(comp, float(len(per) / (1.0 / per).sum()))
