"""Is a store's score real? Variance components of visit scores and the generalizability of a store's mean.

:func:`variance_components` fits visit score ~ 1 + (1 | store) + (1 | shopper) by restricted maximum likelihood
(REML), crossed random effects as statsmodels' ``MixedLM`` (variance components in one group) and R's
``lme4::lmer`` estimate them. The likelihood is profiled as lme4 does: with relative standard deviations θ of
the two effects, the penalised least-squares system has the size of the stores plus the shoppers (not of the
visits), built from counts and sums; the factor with more levels is eliminated first (its block is diagonal,
the crossing counts sparse), so each evaluation is one Cholesky factorisation of the smaller factor's size.

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
from scipy import linalg, optimize, sparse

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


MAX_PAIRS = 20_000_000  # pairs of crossing counts listed for the penalised system (else a sparse product)


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
    # the factor with more levels is eliminated first: its block of the penalised system is diagonal, and the
    # remaining (fewer levels + intercept) system is formed from the sparse crossing counts
    swap = q2 > q1
    c1, c2 = (r, s) if swap else (s, r)
    k1, k2 = (q2, q1) if swap else (q1, q2)
    n1 = np.bincount(c1, minlength=k1).astype(float)
    n2 = np.bincount(c2, minlength=k2).astype(float)
    cross = sparse.csr_matrix((np.ones(n), (c1, c2)), shape=(k1, k2))  # duplicates summed: visit counts
    g = sparse.hstack([cross, sparse.csr_matrix(n1[:, None])], format="csr")  # [C | Z1'X]
    y1, y2 = np.bincount(c1, y, k1), np.bincount(c2, y, k2)
    xty, yty = float(y.sum()), float(y @ y)
    p = 1

    # Gᵀ D⁻¹ G = Σ_rows g_i g_iᵀ / a_i: every pair of non-zeros within a row, listed once, so that each
    # evaluation is one weighted count (a sparse product when the pairs would be too many to list)
    m_row = np.diff(g.indptr)
    ent_row = np.repeat(np.arange(k1), m_row)
    reps = m_row[ent_row]
    pairs = int(reps.sum())
    if pairs <= MAX_PAIRS:
        j_ent = np.repeat(np.arange(g.nnz), reps)
        within = np.arange(pairs) - np.repeat(np.cumsum(reps) - reps, reps)
        k_ent = g.indptr[ent_row[j_ent]] + within
        pair_row = ent_row[j_ent]
        pair_cell = g.indices[j_ent] * (k2 + 1) + g.indices[k_ent]
        pair_value = g.data[j_ent] * g.data[k_ent]

    def gram(a):
        """Gᵀ D⁻¹ G for the diagonal ``a``."""
        if pairs <= MAX_PAIRS:
            return np.bincount(pair_cell, pair_value / a[pair_row], minlength=(k2 + 1) ** 2).reshape(k2 + 1, k2 + 1)
        return (g.T @ sparse.diags(1.0 / a) @ g).toarray()

    def solve(t1, t2):
        """(criterion, parts) at relative standard deviations t1 (eliminated factor) and t2."""
        a = t1 * t1 * n1 + 1.0  # diagonal of the eliminated block
        scale = np.concatenate([np.full(k2, t1 * t2), [t1]])  # G's columns scaled by Λ
        k = gram(a) * scale[:, None] * scale[None, :]
        rest = np.zeros((k2 + 1, k2 + 1))
        rest[np.arange(k2), np.arange(k2)] = t2 * t2 * n2 + 1.0
        rest[:k2, k2] = rest[k2, :k2] = t2 * n2
        rest[k2, k2] = n
        rest -= k
        r1 = t1 * y1
        rhs = np.concatenate([t2 * y2, [xty]]) - scale * (g.T @ (r1 / a))
        try:
            low = linalg.cholesky(rest, lower=True, check_finite=False)
        except linalg.LinAlgError:
            return np.inf, None
        w = linalg.solve_triangular(low, rhs, lower=True, check_finite=False)
        r2 = yty - r1 @ (r1 / a) - w @ w
        if r2 <= 0:
            return np.inf, None
        logdet = np.log(a).sum() + 2 * np.log(np.diag(low)).sum()  # log|A| + log|R_X'R_X|
        return logdet + (n - p) * (1 + math.log(2 * math.pi * r2 / (n - p))), (r2, low, w, a, scale, r1)

    def criterion(theta):  # theta = (store, shopper) as the caller names them
        t1, t2 = (theta[1], theta[0]) if swap else (theta[0], theta[1])
        return solve(t1, t2)

    best = None
    for start in ((1.0, 1.0), (0.2, 0.2)):
        fit = optimize.minimize(lambda t: criterion(t)[0], np.array(start), method="L-BFGS-B",
                                bounds=[(0, None), (0, None)], options={"ftol": 1e-13, "gtol": 1e-9})
        if best is None or fit.fun < best.fun:
            best = fit
    value, (r2, low, w, a, scale, r1) = criterion(best.x)
    sigma2 = r2 / (n - p)
    sol2 = linalg.solve_triangular(low, w, lower=True, trans="T", check_finite=False)  # [u2; β]
    u1 = (r1 - g @ (scale * sol2)) / a
    t1, t2 = (best.x[1], best.x[0]) if swap else (best.x[0], best.x[1])
    b1, b2 = t1 * u1, t2 * sol2[:k2]
    b_store, b_shopper = (b2, b1) if swap else (b1, b2)
    return Components(store=float(best.x[0] ** 2 * sigma2), shopper=float(best.x[1] ** 2 * sigma2),
                      residual=float(sigma2), mean=float(sol2[k2]), visits=n, stores=q1, shoppers=q2,
                      converged=bool(best.success), reml=float(value),
                      store_effects=pd.Series(b_store, index=store_names, name="effect"),
                      shopper_effects=pd.Series(b_shopper, index=shopper_names, name="effect"))


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
