"""PLS path modelling as seminr and SmartPLS define it: specification, estimation on correlation matrices, the result."""
from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import Problem, SQMArgumentError, SQMDataError, SQMWarning

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
