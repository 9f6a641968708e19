"""PLS path modelling: the service-profit chain as one structural model.

:func:`pls` estimates a PLS path model as seminr and SmartPLS define it (Lohmöller's algorithm): indicators
standardised (sd with n − 1), outer weights seeded with ones, then repeated until the summed absolute change of
the weights falls below ``tol`` (1e-7, at most 300 iterations): construct scores → inner weights by the path
weighting scheme (regression coefficients on a construct's predecessors, correlations with its successors;
centroid and factorial optional) → inner proxies → outer weights by mode A (correlation of each item with the
proxy) or mode B (regression of the proxy on the items) → weights rescaled to scores of unit variance. Path
coefficients are least squares on the final scores, loadings the item–score correlations.

Every step depends on the data only through the correlation matrix of the indicators, so the estimation runs on
that matrix, and :meth:`PLSResult.bootstrap` estimates all resamples at once: one weighted correlation matrix
per resample and the same iteration on the whole stack (no Python loop over refits).

Missing answers: replaced by the item mean (seminr's default ``mean_replacement``) or rows with any missing
answer dropped (``missing="listwise"``); the result says which.

Reliability per construct: Cronbach's α (standardised items), composite reliability ρ_c, AVE and
Dijkstra–Henseler's ρ_A, as seminr reports them; HTMT on absolute item correlations (semTools' default).

:func:`satisfaction_index` puts constructs on the ACSI 0–100 scale from unstandardised weights and the items'
scale; :func:`ipma` is the importance–performance map of a target construct (importance: total effect;
performance: the 0–100 index).
"""
from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

import statsmodels.api as sm

from . import plots
from .drivers import churn_followed
from .errors import Problem, SQMArgumentError, SQMDataError, SQMWarning
from .results import Unavailable, Result, bullets, figure, headline, table, text

SCHEMES = ("path", "centroid", "factorial")
MODES = ("A", "B")


# ---------------------------------------------------------------------------------------------------------
# the model specification
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    """A checked model: constructs in order, their items and modes, the paths as an m × m 0/1 matrix
    (``[from, to]``), and the indicator list."""

    constructs: tuple[str, ...]
    items: Mapping[str, tuple[str, ...]]
    modes: Mapping[str, str]
    paths: np.ndarray
    indicators: tuple[str, ...]

    @property
    def mask(self) -> np.ndarray:
        """Indicators × constructs membership (0/1)."""
        out = np.zeros((len(self.indicators), len(self.constructs)))
        pos = {v: k for k, v in enumerate(self.indicators)}
        for j, c in enumerate(self.constructs):
            for i in self.items[c]:
                out[pos[i], j] = 1.0
        return out

    @property
    def endogenous(self) -> list[int]:
        return [j for j in range(len(self.constructs)) if self.paths[:, j].any()]

    def predecessors(self, j: int) -> list[int]:
        return list(np.flatnonzero(self.paths[:, j]))


def _specify(data_columns: Sequence[str], constructs: Mapping[str, Sequence[str] | str],
             paths: Sequence[tuple[str, str]], modes: Mapping[str, str] | None) -> Spec:
    problems: list[Problem] = []
    items: dict[str, tuple[str, ...]] = {}
    for c, its in constructs.items():
        its = (its,) if isinstance(its, str) else tuple(its)
        if not its:
            problems.append(Problem("bad_model", f"construct {c!r} has no items", c))
        missing = [i for i in its if i not in data_columns]
        if missing:
            problems.append(Problem("missing_column", f"construct {c!r}: no column for item(s) "
                                                      f"{', '.join(map(str, missing))}", c))
        items[str(c)] = tuple(str(i) for i in its)
    seen: dict[str, str] = {}
    for c, its in items.items():
        for i in its:
            if i in seen:
                problems.append(Problem("bad_model", f"item {i!r} is in both {seen[i]!r} and {c!r}", i))
            seen[i] = c
    names = list(items)
    modes = {c: (modes or {}).get(c, "A") for c in names}
    for c, m in (modes or {}).items():
        if m not in MODES:
            problems.append(Problem("bad_model", f"construct {c!r}: mode must be A or B, got {m!r}", c))
    P = np.zeros((len(names), len(names)))
    for edge in paths:
        if len(edge) != 2:
            problems.append(Problem("bad_model", f"a path is a pair (from, to), got {edge!r}"))
            continue
        a, b = map(str, edge)
        for x in (a, b):
            if x not in items:
                problems.append(Problem("bad_model", f"path {a!r} → {b!r} names an unknown construct {x!r}"))
        if a in items and b in items:
            if a == b:
                problems.append(Problem("bad_model", f"path from {a!r} to itself"))
            P[names.index(a), names.index(b)] = 1.0
    if not P.any() and not problems:
        problems.append(Problem("bad_model", "the model has no paths"))
    # a loop (non-recursive model) makes the path coefficients undefined for PLS
    state: dict[int, int] = {}

    def visit(k: int, stack: list[int]):
        state[k] = 1
        for t in np.flatnonzero(P[k]):
            if state.get(t) == 1:
                cyc = [names[s] for s in stack[stack.index(t):]] + [names[t]]
                problems.append(Problem("bad_model", "the paths form a loop: " + " → ".join(cyc)))
            elif t not in state:
                visit(int(t), stack + [int(t)])
        state[k] = 2

    for k in range(len(names)):
        if k not in state:
            visit(k, [k])
    if problems:
        raise SQMDataError("model", problems)
    indicators = tuple(i for c in names for i in items[c])
    return Spec(tuple(names), items, modes, P, indicators)


# ---------------------------------------------------------------------------------------------------------
# the algorithm on (a stack of) correlation matrices
# ---------------------------------------------------------------------------------------------------------
def _solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.solve(A, b[..., None])[..., 0]


def _block(R: np.ndarray, idx: list[int]) -> np.ndarray:
    """The idx × idx block of (a stack of) square matrices."""
    return R[..., np.ix_(idx, idx)[0], np.ix_(idx, idx)[1]]


def _inner(R: np.ndarray, spec: Spec, scheme: str) -> np.ndarray:
    """Inner weights E (… × m × m): the proxy of construct j is Σ_k E[k, j]·Y_k."""
    P = spec.paths
    if scheme == "factorial":
        E = R * (P + P.T)
    elif scheme == "centroid":
        E = np.sign(R) * (P + P.T)
    else:
        E = R * P.T  # successors: correlations
        for j in spec.endogenous:
            pred = spec.predecessors(j)
            E[..., pred, j] = _solve(_block(R, pred), R[..., pred, j])
    alone = ~(P + P.T).any(axis=0)  # a construct without neighbours is its own proxy
    if alone.any():
        E = E.copy()
        E[..., alone, alone] = 1.0
    return E


def _estimate(S: np.ndarray, spec: Spec, scheme: str, tol: float, max_iter: int):
    """Outer weights (… × p × m) from indicator correlations S (… × p × p); returns (W, iterations, diff)."""
    mask = spec.mask
    m = len(spec.constructs)
    W = np.broadcast_to(mask, S.shape[:-2] + mask.shape).copy()
    blocks = [np.flatnonzero(mask[:, j]) for j in range(m)]
    diff = np.inf
    it = 0
    while True:
        SW = S @ W
        Wn = W / np.sqrt((W * SW).sum(axis=-2))[..., None, :]
        SWn = S @ Wn
        R = np.swapaxes(Wn, -1, -2) @ SWn
        E = _inner(R, spec, scheme)
        Ez = E / np.sqrt((E * (R @ E)).sum(axis=-2))[..., None, :]
        C = SWn @ Ez  # cov(items, proxies)
        new = np.zeros_like(W)
        for j, idx in enumerate(blocks):
            if spec.modes[spec.constructs[j]] == "B" and len(idx) > 1:
                new[..., idx, j] = _solve(S[..., idx[:, None], idx[None, :]], C[..., idx, j])
            else:
                new[..., idx, j] = C[..., idx, j]
        new = new / np.sqrt((new * (S @ new)).sum(axis=-2))[..., None, :]
        d = np.abs(new - W).sum(axis=(-2, -1))
        diff = float(np.max(d))
        W = new
        if diff < tol or it >= max_iter:
            break
        it += 1
    return W, it, diff


def _structure(S: np.ndarray, W: np.ndarray, spec: Spec):
    """Construct correlations, loadings, path coefficients and R² from S and standardised weights W."""
    SW = S @ W
    R = np.swapaxes(W, -1, -2) @ SW
    L = SW * spec.mask
    B = np.zeros(R.shape)
    r2 = np.full(R.shape[:-1], np.nan)
    for j in spec.endogenous:
        pred = spec.predecessors(j)
        b = _solve(_block(R, pred), R[..., pred, j])
        B[..., pred, j] = b
        r2[..., j] = np.einsum("...k,...k->...", b, R[..., pred, j])
    return R, L, B, r2


def _total(B: np.ndarray) -> np.ndarray:
    """Total effects (I − B)⁻¹ − I of the path matrix B[from, to]."""
    m = B.shape[-1]
    eye = np.eye(m)
    return np.linalg.inv(eye - B) - eye


def _weighted_corr(X: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Correlation matrices of the rows of X weighted by each resample's counts (B × n): B × p × p."""
    n = counts.sum(axis=1, keepdims=True)
    mean = counts @ X / n
    second = np.stack([(X.T * c) @ X for c in counts]) / n[..., None]
    cov = second - mean[:, :, None] * mean[:, None, :]
    sd = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2), 0, None))
    return cov / (sd[:, :, None] * sd[:, None, :])


# ---------------------------------------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PLSResult:
    """A fitted PLS path model (see :func:`pls`)."""

    spec: Spec
    n: int
    missing: str
    scheme: str
    iterations: int
    converged: bool
    weights_std: np.ndarray  # indicators × constructs, scores of unit variance
    S: np.ndarray
    X: np.ndarray = field(repr=False)  # the standardised, imputed indicators used
    means: pd.Series = field(repr=False)
    sds: pd.Series = field(repr=False)
    raw: pd.DataFrame = field(repr=False)

    # ---- the estimates ---------------------------------------------------------------------------
    def _structure(self):
        return _structure(self.S, self.weights_std, self.spec)

    @property
    def construct_corr(self) -> pd.DataFrame:
        names = list(self.spec.constructs)
        return pd.DataFrame(self._structure()[0], index=names, columns=names)

    @property
    def paths(self) -> pd.DataFrame:
        """Tidy path coefficients: ``from``, ``to``, ``coef``."""
        B = self._structure()[2]
        c = self.spec.constructs
        return pd.DataFrame([{"from": c[i], "to": c[j], "coef": float(B[i, j])}
                             for i, j in zip(*np.nonzero(self.spec.paths))])

    @property
    def path_matrix(self) -> pd.DataFrame:
        c = list(self.spec.constructs)
        return pd.DataFrame(self._structure()[2], index=c, columns=c)

    @property
    def loadings(self) -> pd.DataFrame:
        """Tidy loadings and (standardised) outer weights: ``construct``, ``item``, ``loading``, ``weight``."""
        L = self._structure()[1]
        rows = []
        pos = {v: k for k, v in enumerate(self.spec.indicators)}
        for j, c in enumerate(self.spec.constructs):
            for i in self.spec.items[c]:
                rows.append({"construct": c, "item": i, "loading": float(L[pos[i], j]),
                             "weight": float(self.weights_std[pos[i], j])})
        return pd.DataFrame(rows)

    @property
    def r2(self) -> pd.DataFrame:
        """R² and adjusted R² per endogenous construct."""
        r2 = self._structure()[3]
        rows = []
        for j in self.spec.endogenous:
            k = len(self.spec.predecessors(j))
            r = float(r2[j])
            rows.append({"construct": self.spec.constructs[j], "r2": r,
                         "r2_adj": 1 - (1 - r) * (self.n - 1) / (self.n - k - 1)})
        return pd.DataFrame(rows).set_index("construct")

    @property
    def total_effects(self) -> pd.DataFrame:
        """Total effects (direct + indirect), constructs × constructs (row: from, column: to)."""
        c = list(self.spec.constructs)
        return pd.DataFrame(_total(self._structure()[2]), index=c, columns=c)

    @property
    def indirect_effects(self) -> pd.DataFrame:
        return self.total_effects - self.path_matrix

    @property
    def f2(self) -> pd.DataFrame:
        """Cohen's f² of every path: (R²_included − R²_excluded) / (1 − R²_included), where R²_excluded comes
        from the model estimated again without that path (as seminr and SmartPLS do)."""
        r2 = self._structure()[3]
        rows = []
        c = self.spec.constructs
        for k, j in zip(*np.nonzero(self.spec.paths)):
            P2 = self.spec.paths.copy()
            P2[k, j] = 0.0
            spec2 = replace(self.spec, paths=P2)
            red = 0.0
            if P2[:, j].any():
                W2, _, _ = _estimate(self.S, spec2, self.scheme, 1e-7, 300)
                red = float(_structure(self.S, W2, spec2)[3][j])
            rows.append({"from": c[k], "to": c[j], "f2": (float(r2[j]) - red) / (1 - float(r2[j]))})
        return pd.DataFrame(rows)

    @property
    def scores(self) -> pd.DataFrame:
        """Standardised construct scores, one row per respondent used."""
        return pd.DataFrame(self.X @ self.weights_std, index=self.raw.index, columns=list(self.spec.constructs))

    @property
    def reliability(self) -> pd.DataFrame:
        """Per construct: ``alpha`` (standardised items), ``rho_c``, ``ave`` and Dijkstra–Henseler's ``rho_a``,
        as seminr computes them (single-item constructs get 1)."""
        L = self._structure()[1]
        pos = {v: k for k, v in enumerate(self.spec.indicators)}
        rows = []
        for j, c in enumerate(self.spec.constructs):
            idx = [pos[i] for i in self.spec.items[c]]
            k = len(idx)
            lam = L[idx, j]
            if k == 1:
                rows.append({"construct": c, "alpha": 1.0, "rho_c": 1.0, "ave": 1.0, "rho_a": 1.0})
                continue
            Sjj = self.S[np.ix_(idx, idx)]
            alpha = (k / (k - 1)) * (1 - k / Sjj.sum())
            rho_c = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam ** 2).sum())
            ave = float((lam ** 2).mean())
            w = self.weights_std[idx, j]
            off = Sjj - np.diag(np.diag(Sjj))
            ww = np.outer(w, w)
            rho_a = (w @ w) ** 2 * (w @ off @ w) / (w @ (ww - np.diag(np.diag(ww))) @ w)
            rows.append({"construct": c, "alpha": float(alpha), "rho_c": float(rho_c), "ave": ave,
                         "rho_a": float(rho_a)})
        return pd.DataFrame(rows).set_index("construct")

    @property
    def htmt(self) -> pd.DataFrame:
        """Heterotrait–monotrait ratio on absolute item correlations (semTools' default), constructs × constructs
        (single-item constructs included; a construct's monotrait part needs two items)."""
        pos = {v: k for k, v in enumerate(self.spec.indicators)}
        A = np.abs(self.S)
        c = list(self.spec.constructs)
        out = pd.DataFrame(np.nan, index=c, columns=c)

        def mono(idx):
            if len(idx) < 2:
                return 1.0
            sub = A[np.ix_(idx, idx)]
            return float(sub[np.triu_indices(len(idx), 1)].mean())

        for a in range(len(c)):
            ia = [pos[i] for i in self.spec.items[c[a]]]
            for b in range(a + 1, len(c)):
                ib = [pos[i] for i in self.spec.items[c[b]]]
                out.iloc[b, a] = out.iloc[a, b] = float(A[np.ix_(ia, ib)].mean()) / np.sqrt(mono(ia) * mono(ib))
        return out

    # ---- the bootstrap ---------------------------------------------------------------------------
    def bootstrap(self, n_boot: int = 1000, seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
        """Bootstrap every path, loading, outer weight, indirect and total effect: tidy table with ``kind``,
        ``from``, ``to``, ``coef`` (the estimate), ``boot_mean``, ``sd``, ``t`` (coef / sd) and the percentile
        interval ``ci_low``, ``ci_high``. Seeded and deterministic; all resamples are estimated at once.

        Rows are resampled from the data the model used (after mean replacement, where it applied).
        """
        if n_boot < 2:
            raise SQMArgumentError("n_boot must be at least 2")
        rng = np.random.default_rng(seed)
        counts = rng.multinomial(self.n, np.full(self.n, 1 / self.n), size=n_boot).astype(float)
        est = []
        with np.errstate(all="ignore"):
            for chunk in np.array_split(np.arange(n_boot), max(1, n_boot // 250)):
                Sb = _weighted_corr(self.X, counts[chunk])
                Wb, _, _ = _estimate(Sb, self.spec, self.scheme, 1e-7, 300)
                # a resample may flip a composite's sign: align weights with the full-sample estimate
                sign = np.sign(np.einsum("bpj,pj->bj", Wb, self.weights_std))
                sign[sign == 0] = 1
                Wb = Wb * sign[:, None, :]
                _, Lb, Bb, _ = _structure(Sb, Wb, self.spec)
                est.append((Wb, Lb, Bb, _total(Bb)))
        Wb, Lb, Bb, Tb = (np.concatenate([e[k] for e in est]) for k in range(4))
        _, L, B, _ = self._structure()
        T = _total(B)
        g = (1 - confidence) / 2
        c, ind = self.spec.constructs, self.spec.indicators
        rows = []

        def add(kind, a, b, value, draws):
            draws = draws[np.isfinite(draws)]
            sd = float(draws.std(ddof=1)) if len(draws) > 1 else np.nan
            rows.append({"kind": kind, "from": a, "to": b, "coef": float(value), "boot_mean": float(draws.mean()),
                         "sd": sd, "t": float(value / sd) if sd and np.isfinite(sd) else np.nan,
                         "ci_low": float(np.quantile(draws, g)), "ci_high": float(np.quantile(draws, 1 - g))})

        for i, j in zip(*np.nonzero(self.spec.paths)):
            add("path", c[i], c[j], B[i, j], Bb[:, i, j])
        pos = {v: k for k, v in enumerate(ind)}
        for j, name in enumerate(c):
            for it in self.spec.items[name]:
                add("loading", name, it, L[pos[it], j], Lb[:, pos[it], j])
                add("weight", name, it, self.weights_std[pos[it], j], Wb[:, pos[it], j])
        routes = _total(self.spec.paths)  # how many routes lead from i to j (the model is acyclic)
        for i, j in zip(*np.nonzero(routes)):
            add("total", c[i], c[j], T[i, j], Tb[:, i, j])
            if routes[i, j] > self.spec.paths[i, j]:  # a route through other constructs
                add("indirect", c[i], c[j], T[i, j] - B[i, j], Tb[:, i, j] - Bb[:, i, j])
        return pd.DataFrame(rows)

    def summary(self) -> pd.DataFrame:
        return self.paths

    def _repr_html_(self) -> str:
        return (f"<p>PLS path model: {len(self.spec.constructs)} constructs, n = {self.n:,}, "
                f"{html.escape(self.missing)}; {self.iterations} iterations</p>" + self.paths.to_html(index=False))


def pls(data: pd.DataFrame, constructs: Mapping[str, Sequence[str] | str], paths: Sequence[tuple[str, str]], *,
        modes: Mapping[str, str] | None = None, scheme: str = "path", missing: str = "mean",
        max_iter: int = 300, tol: float = 1e-7) -> PLSResult:
    """Estimate a PLS path model.

    Parameters
    ----------
    data : DataFrame
        One row per respondent, one column per item (numeric).
    constructs : mapping
        Construct → its items (a single item is allowed: a string or a one-item list).
    paths : sequence of (from, to)
        The structural model (recursive: no loops).
    modes : mapping, optional
        Construct → ``"A"`` (reflective composite, the default) or ``"B"`` (formative).
    scheme : {"path", "centroid", "factorial"}
        Inner weighting scheme (default path weighting, as seminr and SmartPLS).
    missing : {"mean", "listwise"}
        Missing answers replaced by the item's mean (seminr's default) or rows with any missing answer dropped.
    max_iter, tol
        At most ``max_iter`` iterations; stop when the summed absolute change of the weights is below ``tol``.

    Returns
    -------
    PLSResult
        ``paths``, ``loadings``, ``r2``, ``total_effects``, ``f2``, ``reliability``, ``htmt``, ``scores``,
        ``bootstrap(n_boot, seed)``.

    Raises
    ------
    SQMDataError
        An unknown item or construct, a construct without items, a loop of paths, a constant item, too few
        complete rows (every problem at once).

    Examples
    --------
    >>> m = pls(survey, {"Quality": ["P05", "P06", "P07"], "Satisfaction": ["overall_sat"]},
    ...         [("Quality", "Satisfaction")])
    >>> m.paths, m.r2, m.bootstrap(n_boot=1000, seed=1)
    """
    if scheme not in SCHEMES:
        raise SQMArgumentError(f"scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    if missing not in ("mean", "listwise"):
        raise SQMArgumentError(f"missing must be 'mean' or 'listwise', got {missing!r}")
    spec = _specify(list(map(str, data.columns)), constructs, paths, modes)
    cols = list(spec.indicators)
    raw = data[cols].apply(pd.to_numeric, errors="coerce").astype(float)
    if missing == "listwise":
        raw = raw.dropna()
        how = "listwise deletion"
    else:
        how = "mean replacement"
    problems = []
    answered = raw.notna().sum()
    for c in cols:
        if answered[c] == 0:
            problems.append(Problem("no_answers", "no answers", c))
    filled = raw.fillna(raw.mean())
    sd = filled.std(ddof=1)
    const = [c for c in cols if not (sd[c] > 0)]
    if const:
        problems.append(Problem("constant", f"items without variance: {', '.join(const)}"))
    if len(filled) < len(spec.constructs) + 2:
        problems.append(Problem("too_few_rows", f"only {len(filled)} complete rows for {len(spec.constructs)} "
                                                "constructs"))
    if problems:
        raise SQMDataError("data", problems)
    X = ((filled - filled.mean()) / sd).to_numpy()
    S = np.corrcoef(X, rowvar=False)
    W, it, diff = _estimate(S, spec, scheme, tol, max_iter)
    converged = diff < tol
    if not converged:
        warnings.warn(f"PLS did not converge in {max_iter} iterations (last change of the weights {diff:.2g})",
                      SQMWarning, stacklevel=2)
    return PLSResult(spec, len(filled), how, scheme, it, converged, W, S, X, filled.mean(), sd, raw)


# ---------------------------------------------------------------------------------------------------------
# the satisfaction index and the importance–performance map
# ---------------------------------------------------------------------------------------------------------
def _scales(model: PLSResult, scale) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) of every indicator: one pair for all, or a mapping item → pair."""
    ind = model.spec.indicators
    if isinstance(scale, Mapping):
        missing = [i for i in ind if i not in scale]
        if missing:
            raise SQMArgumentError(f"no scale for item(s) {', '.join(missing)}")
        lo = np.array([float(scale[i][0]) for i in ind])
        hi = np.array([float(scale[i][1]) for i in ind])
    else:
        lo = np.full(len(ind), float(scale[0]))
        hi = np.full(len(ind), float(scale[1]))
    if np.any(hi <= lo):
        raise SQMArgumentError("every scale needs max > min")
    return lo, hi


def _unstd(weights_std: np.ndarray, sds: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Unstandardised outer weights (… × p × m), each construct's summing to 1."""
    w = weights_std / sds[..., :, None] * mask
    return w / w.sum(axis=-2, keepdims=True)


def unstandardized_weights(model: PLSResult) -> pd.DataFrame:
    """Outer weights for the raw items, rescaled to sum to 1 within each construct (the ACSI convention)."""
    w = _unstd(model.weights_std, model.sds.to_numpy(), model.spec.mask)
    pos = {v: k for k, v in enumerate(model.spec.indicators)}
    return pd.DataFrame([{"construct": c, "item": i, "weight": float(w[pos[i], j])}
                         for j, c in enumerate(model.spec.constructs) for i in model.spec.items[c]])


def _rescaled_items(model: PLSResult, frame: pd.DataFrame, scale) -> pd.DataFrame:
    """The model's items of ``frame`` on 0–100 (each from its scale), missing answers taking the model's means."""
    lo, hi = _scales(model, scale)
    items = frame[list(model.spec.indicators)].apply(pd.to_numeric, errors="coerce").fillna(model.means)
    return (items - lo) / (hi - lo) * 100


def score_rows(model: PLSResult, frame: pd.DataFrame, scale) -> pd.DataFrame:
    """Construct scores on 0–100 for any rows (e.g. respondents outside the estimation sample) with the model's
    unstandardised weights; missing answers take the model's item means."""
    w = _unstd(model.weights_std, model.sds.to_numpy(), model.spec.mask)
    return pd.DataFrame(_rescaled_items(model, frame, scale).to_numpy() @ w, index=frame.index,
                        columns=list(model.spec.constructs))


def rescaled_scores(model: PLSResult, scale) -> pd.DataFrame:
    """Construct scores on 0–100 of the respondents the model used (:func:`score_rows` of them): items
    rescaled from their scale to 0–100 and combined with the unstandardised weights."""
    return score_rows(model, model.raw, scale)


def satisfaction_index(model: PLSResult, scale) -> pd.Series:
    """Each construct's index on the ACSI 0–100 scale: the mean of :func:`rescaled_scores`."""
    return rescaled_scores(model, scale).mean().rename("index")


def _unstd_total(scores: np.ndarray, spec: Spec) -> np.ndarray:
    """Total effects of the unstandardised paths among 0–100 construct scores (least squares with intercept)."""
    m = len(spec.constructs)
    B = np.zeros((m, m))
    for j in spec.endogenous:
        pred = spec.predecessors(j)
        Z = np.column_stack([np.ones(len(scores)), scores[:, pred]])
        B[pred, j] = np.linalg.lstsq(Z, scores[:, j], rcond=None)[0][1:]
    return _total(B)


def ipma(model: PLSResult, target: str, scale, *, level: str = "construct") -> pd.DataFrame:
    """Importance–performance map for ``target`` as SmartPLS computes it: construct scores rescaled to 0–100
    (:func:`rescaled_scores`), importance = the unstandardised total effect on the target (index points of the
    target per index point of the construct), performance = the construct's index. At item level an item's
    importance is its construct's total effect times the item's unstandardised weight, its performance the
    item's mean on 0–100."""
    if target not in model.spec.constructs:
        raise SQMArgumentError(f"no construct {target!r}; the model has {', '.join(model.spec.constructs)}")
    if level not in ("construct", "item"):
        raise SQMArgumentError("level must be 'construct' or 'item'")
    sc = rescaled_scores(model, scale)
    T = pd.DataFrame(_unstd_total(sc.to_numpy(), model.spec), index=sc.columns, columns=sc.columns)[target]
    preds = [c for c in model.spec.constructs if c != target and abs(T[c]) > 1e-15]
    if level == "construct":
        return pd.DataFrame({"importance": T[preds], "performance": sc.mean()[preds]}).rename_axis("construct")
    items = _rescaled_items(model, model.raw, scale)
    uw = unstandardized_weights(model)
    rows = [{"item": r.item, "construct": r.construct, "importance": float(T[r.construct] * r.weight),
             "performance": float(items[r.item].mean())} for r in uw[uw["construct"].isin(preds)].itertuples()]
    return pd.DataFrame(rows).set_index("item")


def index_intervals(model: PLSResult, scale, *, n_boot: int = 200, seed: int = 0,
                    confidence: float = 0.95) -> pd.DataFrame:
    """The satisfaction index with percentile bootstrap intervals: each resample re-estimates the weights and
    re-averages the respondents (all resamples at once, as :meth:`PLSResult.bootstrap`)."""
    lo, hi = _scales(model, scale)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(model.n, np.full(model.n, 1 / model.n), size=n_boot).astype(float)
    raw = model.X * model.sds.to_numpy() + model.means.to_numpy()
    resc = (raw - lo) / (hi - lo) * 100
    draws = []
    with np.errstate(all="ignore"):
        for chunk in np.array_split(np.arange(n_boot), max(1, n_boot // 250)):
            c = counts[chunk]
            Sb = _weighted_corr(model.X, c)
            Wb, _, _ = _estimate(Sb, model.spec, model.scheme, 1e-7, 300)
            nb = c.sum(axis=1, keepdims=True)
            mean = c @ raw / nb
            sd = np.sqrt(np.clip(c @ raw ** 2 / nb - mean ** 2, 0, None) * model.n / (model.n - 1))
            w = _unstd(Wb, sd, model.spec.mask)
            item_means = c @ resc / nb
            draws.append(np.einsum("bp,bpj->bj", item_means, w))
    D = np.concatenate(draws)
    g = (1 - confidence) / 2
    est = satisfaction_index(model, scale)
    return pd.DataFrame({"index": est, "ci_low": np.quantile(D, g, axis=0), "ci_high": np.quantile(D, 1 - g, axis=0)},
                        index=est.index).rename_axis("construct")


# ---------------------------------------------------------------------------------------------------------
# the service-profit chain on a data folder: the pipeline of notebook 07
# ---------------------------------------------------------------------------------------------------------
def chain_spec(instrument, columns: Sequence[str]) -> tuple[dict, list, dict, str]:
    """(constructs, paths, item scales, target) of the service-profit chain for a survey.

    From the instrument's ``model:`` section (``constructs: {name: [columns]}``, ``paths: [[from, to], …]``,
    ``target: name``) or, by default, SERVQUAL's: each dimension's perception items → Satisfaction
    (``overall_sat``) → Loyalty (``nps``), with the dimensions also reaching Loyalty only through Satisfaction.
    Constructs whose columns are absent are left out with the paths touching them.
    """
    inst = instrument
    cols = set(columns)
    if inst.model:
        cons = {str(k): [str(v)] if isinstance(v, str) else [str(x) for x in v]
                for k, v in dict(inst.model.get("constructs", {})).items()}
        paths = [(str(a), str(b)) for a, b in inst.model.get("paths", [])]
        target = str(inst.model.get("target", paths[-1][1] if paths else ""))
    else:
        cons = {d: [inst.item_column("P", i) for i in items] for d, items in inst.dimensions.items()}
        cons["Satisfaction"] = ["overall_sat"]
        cons["Loyalty"] = ["nps"]
        paths = [(d, "Satisfaction") for d in inst.dimensions] + [("Satisfaction", "Loyalty")]
        target = "Loyalty"
    cons = {k: [c for c in v if c in cols] for k, v in cons.items()}
    cons = {k: v for k, v in cons.items() if v}
    paths = [(a, b) for a, b in paths if a in cons and b in cons]
    if target not in cons:
        target = paths[-1][1] if paths else ""
    scales = {}
    for c in (c for v in cons.values() for c in v):
        spec = inst.columns.get(c)
        if spec is not None and getattr(spec, "min", None) is not None and getattr(spec, "max", None) is not None:
            scales[c] = (float(spec.min), float(spec.max))
        else:
            block = inst.block_of(c)
            lo, hi = inst.block_scale(block) if block else inst.scale
            scales[c] = (float(lo), float(hi))
    return cons, paths, scales, target


@dataclass(frozen=True)
class ChainMetrics:
    """Key figures of :func:`run_chain` (``metrics.json`` of the service-profit chain notebook)."""

    respondents: int
    target: str
    paths: dict  # "from → to" -> coefficient
    r2: dict
    index: dict  # construct -> 0–100
    index_ci: dict
    ipma: dict  # construct -> {"importance", "performance"}
    lever: str | None
    churn_link: dict | None  # odds ratio per 10 index points, interval, p, respondents
    retained_value: dict  # dimension -> expected retained value of +5 index points
    findings: list


def lever(cmap: pd.DataFrame, candidates: Sequence[str]) -> str | None:
    """The construct to raise: the most important among those performing below the candidates' mean (else the
    most important)."""
    t = cmap.loc[[c for c in candidates if c in cmap.index]]
    if t.empty:
        return None
    low = t[t["performance"] < t["performance"].mean()]
    return str((low if len(low) else t)["importance"].idxmax())


@dataclass(frozen=True)
class ChainResult(Result):
    """The service-profit chain: the PLS model, the satisfaction index (overall, per segment and per quarter),
    the importance–performance map of the target, the link from loyalty to churn and what it is worth."""

    title = "The service-profit chain"
    notebook = "07_service_profit_chain"

    quarter: str
    model: PLSResult
    target: str
    drivers: tuple
    scales: Mapping
    index: pd.DataFrame
    by_segment: pd.DataFrame | None
    segment: str
    by_quarter: pd.DataFrame | None
    ipma_constructs: pd.DataFrame
    ipma_items: pd.DataFrame
    link: Mapping | None
    retained: pd.DataFrame | None
    link_note: str

    def metrics(self) -> ChainMetrics:
        m = self.model
        cmap = self.ipma_constructs
        return ChainMetrics(
            respondents=m.n, target=self.target,
            paths={f"{r._1} → {r.to}": r.coef for r in m.paths.itertuples()}, r2=m.r2["r2"].to_dict(),
            index=self.index["index"].to_dict(),
            index_ci={k: [r.ci_low, r.ci_high] for k, r in self.index.iterrows()},
            ipma={k: {"importance": r.importance, "performance": r.performance} for k, r in cmap.iterrows()},
            lever=lever(cmap, self.drivers), churn_link=dict(self.link) if self.link else None,
            retained_value={} if self.retained is None else self.retained["retained_value"].to_dict(),
            findings=self.findings())

    def findings(self) -> list[str]:
        idx, top = self.index["index"], lever(self.ipma_constructs, self.drivers)
        out = [f"{self.target} index {idx[self.target]:.1f} of 100 "
               f"[{self.index.loc[self.target, 'ci_low']:.1f}, {self.index.loc[self.target, 'ci_high']:.1f}]"
               + (f"; satisfaction {idx['Satisfaction']:.1f}" if "Satisfaction" in idx and self.target != "Satisfaction"
                  else "") + "."]
        if top:
            r = self.ipma_constructs.loc[top]
            out.append(f"The lever to pull: **{top}** — one index point more moves {self.target} by "
                       f"{r['importance']:.2f} points, and it performs at {r['performance']:.1f}, below the dimensions' "
                       "average.")
        r2 = self.model.r2["r2"]
        out.append("The model explains " + ", ".join(f"R² = {v:.2f} of {k}" for k, v in r2.items()) + ".")
        if self.link:
            out.append(f"Each 10 points of {self.target} index change the odds of leaving within the horizon by a "
                       f"factor {self.link['odds_ratio_per_10']:.2f} [{self.link['ci_low']:.2f}, "
                       f"{self.link['ci_high']:.2f}].")
            if self.retained is not None and top in self.retained.index:
                out.append(f"Raising {top} by 5 index points is worth an expected "
                           f"{self.retained.loc[top, 'retained_value']:,.0f} in retained customer value.")
        else:
            out.append(self.link_note)
        return out

    def headline(self) -> list[dict]:
        m = self.metrics()
        out = [headline(f"{self.target} index", m.index[self.target], "{:.1f}")]
        if m.lever:
            out.append(headline("Lever", m.lever, "{}"))
        if m.lever and m.retained_value.get(m.lever) is not None:
            out.append(headline(f"Value of +5 {m.lever}", m.retained_value[m.lever], "{:,.0f}"))
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {"paths": self.model.paths, "r2": self.model.r2, "loadings": self.model.loadings,
               "reliability": self.model.reliability, "htmt": self.model.htmt, "index": self.index,
               "ipma": self.ipma_constructs, "ipma items": self.ipma_items}
        for name, t in (("index by segment", self.by_segment), ("index by quarter", self.by_quarter),
                        ("retained value", self.retained)):
            if t is not None:
                out[name] = t
        return out

    def summary(self) -> pd.DataFrame:
        return self.index

    def sections(self) -> dict:
        m = self.model
        model = [text(f"**{m.n:,} respondents** ({self.quarter or 'every respondent: the survey has no dates'}), {m.missing}; "
                      f"{len(m.spec.constructs)} constructs, {int(m.spec.paths.sum())} paths, "
                      + ("converged" if m.converged else "**did not converge**") + f" (iterations: {m.iterations})."),
                 table(m.paths, lambda s: s.format(precision=3).hide(axis="index")),
                 table(m.r2, lambda s: s.format(precision=3))]
        quality = [table(m.reliability, lambda s: s.format(precision=3)),
                   text("**HTMT** (should stay below .85)"), table(m.htmt, lambda s: s.format(precision=3, na_rep=""))]
        index = [figure(lambda: plots.index_chart(self.index), "index"),
                 table(self.index, lambda s: s.format(precision=1))]
        if self.by_segment is not None:
            index += [text(f"**Index by {self.segment}** (95 % intervals)"),
                      table(self.by_segment["index"].unstack()[list(m.spec.constructs)], lambda s: s.format(precision=1)),
                      table(self.by_segment, lambda s: s.format(precision=1))]
        if self.by_quarter is not None:
            index += [text("**Index by quarter** (95 % intervals)"),
                      table(self.by_quarter["index"].unstack()[list(m.spec.constructs)], lambda s: s.format(precision=1)),
                      table(self.by_quarter, lambda s: s.format(precision=1))]
        ipma_blocks = [figure(lambda: plots.ipma_chart(self.ipma_constructs, self.target), "ipma"),
                       table(self.ipma_constructs, lambda s: s.format(precision=2)),
                       text("**Items**"), table(self.ipma_items, lambda s: s.format(precision=3))]
        money = [text(bullets(self.findings()[-2:] if self.link else [self.link_note]))]
        if self.retained is not None:
            money.append(table(self.retained, lambda s: s.format({"retained_value": "{:,.0f}",
                                                                 "churn_change": "{:+.4f}",
                                                                 "target_change": "{:+.2f}"})))
        return {"model": model, "quality": quality, "index": index, "ipma": ipma_blocks, "money": money,
                "findings": [text(bullets(self.findings()))]}


def run_chain(folder, *, quarter: str = "", segment: str = "region", horizon_days: int = 180,
              clv: float = 200.0, n_boot: int = 200, drop_careless: bool = True, seed: int = 0) -> ChainResult:
    """The service-profit chain as one PLS path model: the pipeline of notebook ``07_service_profit_chain``.

    Parameters
    ----------
    folder : DataFolder
        From :func:`sqmlib.io.load_folder`; needs the survey (the customers table adds the churn link).
    quarter : str
        Quarter whose respondents estimate the model ("" = the latest; a survey without quarters: all).
    segment : str
        Segment column for the index per segment ("" = none).
    horizon_days : int
        The churn link: leaving within this many days of answering.
    clv : float
        Value of a retained customer, for the money the levers are worth.
    n_boot : int
        Bootstrap resamples for the index intervals.
    drop_careless : bool
    seed : int

    Returns
    -------
    ChainResult

    Examples
    --------
    >>> from sqmlib import io, sem
    >>> c = sem.run_chain(io.load_folder())
    >>> c.index, c.ipma_constructs, c.findings()
    """
    if horizon_days <= 0 or clv <= 0 or n_boot < 2:
        raise SQMArgumentError("horizon_days and clv must be positive and n_boot at least 2")
    folder.require("survey", purpose="the service-profit chain")
    data = folder.without_careless() if drop_careless else folder
    q = data.quarter(quarter)
    survey = data.survey_of(q)
    cons, edges, scales, target = chain_spec(folder.instrument, survey.columns)
    if not edges:
        return Unavailable(reason="the survey has no outcome the chain can lead to: an overall satisfaction "
                                  "question (overall_sat), a loyalty question (nps) or a model: section in the "
                                  "instrument naming them.", notebook=ChainResult.notebook, title=ChainResult.title,
                           first="findings", quarter=q)
    segment = folder.segment_column(segment)
    model = pls(survey, cons, edges)
    drivers = tuple(c for c in model.spec.constructs if c not in ("Satisfaction", "Loyalty", target))
    index = index_intervals(model, scales, n_boot=n_boot, seed=seed)
    def per_group(groups, name):
        parts = [index_intervals(pls(sub, cons, edges), scales, n_boot=n_boot, seed=seed).reset_index()
                 .assign(**{name: str(key)}) for key, sub in groups if len(sub) >= 30]
        if not parts:
            return None
        return pd.concat(parts).set_index([name, "construct"])

    by_segment = per_group(survey.groupby(segment), segment) if segment and segment in survey.columns else None
    by_quarter = None
    if len(data.quarters) > 1:
        by_quarter = per_group(((qq, data.survey_of(qq)) for qq in data.quarters if qq <= q or not q), "quarter")
    cmap = ipma(model, target, scales)
    items = ipma(model, target, scales, level="item")
    link = retained = None
    note = "No customers table in the data folder: the link from loyalty to churn is skipped."
    if folder.has("customers") and "customer_id" in data.survey.columns:
        followed, _ = churn_followed(data.survey, folder.customers, horizon_days)
        sc = score_rows(model, followed, scales)[target]
        y = followed["churned"].to_numpy()
        if 0 < y.sum() < len(y) and len(y) >= 50:
            X = sm.add_constant(sc.to_numpy() / 10)
            fit = sm.Logit(y, X).fit(disp=0)
            b, se = fit.params[1], fit.bse[1]
            link = {"odds_ratio_per_10": float(np.exp(b)), "ci_low": float(np.exp(b - 1.959963984540054 * se)),
                    "ci_high": float(np.exp(b + 1.959963984540054 * se)), "p_value": float(fit.pvalues[1]),
                    "respondents": int(len(y)), "horizon_days": int(horizon_days)}
            active = int(folder.customers["churn_date"].isna().sum())
            now = rescaled_scores(model, scales)[target].to_numpy() / 10
            p0 = 1 / (1 + np.exp(-(fit.params[0] + b * now)))
            rows = []
            for d in drivers:
                if d not in cmap.index:
                    continue
                dt = 5 * float(cmap.loc[d, "importance"])  # index points of the target
                p1 = 1 / (1 + np.exp(-(fit.params[0] + b * (now + dt / 10))))
                change = float((p1 - p0).mean())
                rows.append({"construct": d, "target_change": dt, "churn_change": change,
                             "retained_value": -change * active * clv})
            retained = pd.DataFrame(rows).set_index("construct")
        else:
            note = "Too few followed respondents (or no churn among them) to link loyalty to churn."
    return ChainResult(quarter=q, model=model, target=target, drivers=drivers, scales=scales, index=index,
                       by_segment=by_segment, segment=segment if by_segment is not None else "",
                       by_quarter=by_quarter, ipma_constructs=cmap, ipma_items=items, link=link, retained=retained,
                       link_note=note)
