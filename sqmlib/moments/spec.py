"""What to aggregate (derived columns, sets and pairs) and the moments that result."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import Problem, SQMArgumentError, SQMDataError


# ---------------------------------------------------------------------------------------------------------
# the specification: derived columns, sets and pairs
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Derived:
    """A row-level column computed from others, the same way in numpy and in SQL.

    ``op`` is one of
    ``"diff"`` (a − b), ``"rowmean"`` (mean of the answered columns when at least ``k`` are answered),
    ``"allmean"`` (mean when all are answered), ``"anymean"`` (mean of whatever is answered),
    ``"ge"`` / ``"le"`` (1 when the column is ≥ / ≤ a value, 0 when not, missing when missing),
    ``"share"`` (column i divided by the row total of ``cols`` when all are answered and the total is > 0),
    ``"dot"`` (Σ a_i·b_i when all are present) and ``"missing_weights"`` (1 when the weights ``cols`` are
    not usable but every column of ``other`` is answered, else missing: a row filter).
    """

    name: str
    op: str
    cols: tuple[str, ...]
    value: float = 0.0
    other: tuple[str, ...] = ()


@dataclass(frozen=True)
class ColumnSet:
    """Columns whose counts, sums and cross-products are kept.

    ``missing="pairwise"`` keeps, for every pair, the rows answering both (and counts the rows answering at
    least two of the set, as :func:`sqmlib.reliability.covariance` reports n); ``"listwise"`` only the rows
    answering all. ``where`` names a derived column: only rows where it is 1 count.
    """

    name: str
    columns: tuple[str, ...]
    missing: str = "pairwise"
    where: str | None = None


@dataclass(frozen=True)
class MomentSpec:
    """What to aggregate: base columns (with their centring constants and missing codes), derived columns,
    sets and pairs."""

    base: tuple[str, ...]
    shift: Mapping[str, float]
    derived: tuple[Derived, ...] = ()
    sets: tuple[ColumnSet, ...] = ()
    pairs: tuple[tuple[str, str, str], ...] = ()  # (name, a, b): stats of a − b over rows with both
    missing_codes: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)  # e.g. min_share, top_box: checked by the users
    reflect: Mapping[str, float] = field(default_factory=dict)  # column -> min + max: scored as that − answer
    weight: str | None = None  # a base column of sampling weights: every count and sum is weighted

    def shift_of(self, col: str) -> float:
        return float(self.shift.get(col, 0.0))


# ---------------------------------------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------------------------------------
PAIR_FIELDS = ("n", "sum_a", "sum_b", "sum_d", "sum_dd", "n_pos", "n_zero", "n_neg", "sum_ww", "rows")
# with sampling weights n, the sums and the n_* counts are weighted (Σw, Σw·a …), sum_ww is Σw² and rows the
# respondents; without, sum_ww and rows equal n
WEIGHTED_FIELDS = ("N2", "n2_min2", "counts", "rows_min2")


@dataclass(frozen=True)
class SetMoments:
    """Per group: pairwise counts ``N`` (g × k × k), sums ``S`` (``S[g, i, j]``: sum of y_i over rows with j),
    cross-products ``Q`` and ``n_min2`` (rows answering at least two of the set).

    With sampling weights ``N``, ``S``, ``Q`` and ``n_min2`` are weighted (Σw, Σw·y, Σw·y·y, Σw) and four more
    arrays are kept: ``N2`` (Σw² per pair), ``n2_min2`` (Σw² of the rows answering two or more), ``counts``
    (g × k: the respondents answering each column) and ``rows_min2`` (the respondents answering two or more);
    without weights they are None."""

    name: str
    columns: tuple[str, ...]
    missing: str
    shift: np.ndarray
    N: np.ndarray
    S: np.ndarray
    Q: np.ndarray
    n_min2: np.ndarray
    N2: np.ndarray | None = None
    n2_min2: np.ndarray | None = None
    counts: np.ndarray | None = None
    rows_min2: np.ndarray | None = None

    def _arrays(self) -> list[str]:
        return ["N", "S", "Q", "n_min2"] + ([] if self.N2 is None else list(WEIGHTED_FIELDS))

    def take(self, idx: np.ndarray) -> "SetMoments":
        return replace(self, **{f: getattr(self, f)[idx] for f in self._arrays()})

    def pooled(self) -> "SetMoments":
        return replace(self, **{f: getattr(self, f).sum(0, keepdims=True) for f in self._arrays()})


@dataclass(frozen=True)
class CovMoments:
    """Moments of chosen columns, pooled over the selected groups: what :func:`sqmlib.reliability.cronbach_alpha`
    and :func:`sqmlib.drivers.relative_importance` take instead of rows."""

    columns: tuple[str, ...]
    missing: str
    N: np.ndarray  # k × k
    S: np.ndarray
    Q: np.ndarray
    shift: np.ndarray
    n: float  # rows used: listwise complete rows, or pairwise rows answering at least two (weighted: Kish's n)
    n_exact: bool
    engine: str
    N2: np.ndarray | None = None  # with sampling weights: Σw² per pair (N is then Σw)
    rows: int | None = None  # the respondents behind n (with sampling weights; else n)

    @property
    def weighted(self) -> bool:
        return self.N2 is not None

    @property
    def pair_n(self) -> np.ndarray:
        """Respondents per pair (weighted: Kish's effective n, (Σw)²/Σw²)."""
        if self.N2 is None:
            return self.N
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.N2 > 0, self.N * self.N / self.N2, 0.0)

    @property
    def means(self) -> np.ndarray:
        """Each column's mean over all its answers (pairwise) or over the complete rows (listwise)."""
        d = np.diag(self.N)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.diag(self.S) / d + self.shift

    def cov(self) -> np.ndarray:
        """Covariance matrix (n − 1 divisor) from the pairwise (or listwise) moments; with sampling weights the
        divisor is Σw − Σw²/Σw (numpy's ``cov(aweights=w)``)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            div = self.N - 1 if self.N2 is None else self.N - self.N2 / self.N
            return (self.Q - self.S * self.S.T / self.N) / div

    @property
    def complete(self) -> bool:
        """True when every pair was answered by the same rows (no missing answers)."""
        return bool(np.all(self.N == self.N[0, 0])) and (self.N2 is None or bool(np.all(self.N2 == self.N2[0, 0])))

    def reflect(self, idx: Sequence[int], lo: float, hi: float) -> "CovMoments":
        """Reverse-keyed columns ``x → lo + hi − x``: flips signs of their deviations (covariances) and their
        means; pairwise counts are unchanged."""
        sign = np.ones(len(self.columns))
        sign[list(idx)] = -1.0
        # y' = (lo + hi − x) − c' with c' = lo + hi − c gives y' = −y: sums and cross-products flip sign
        shift = self.shift.copy()
        shift[list(idx)] = lo + hi - shift[list(idx)]
        return replace(self, S=self.S * sign[:, None], Q=self.Q * np.outer(sign, sign), shift=shift)


@dataclass(frozen=True)
class Moments:
    """Counts, sums and cross-products of survey columns for every group of the ``by`` columns.

    Attributes
    ----------
    keys : DataFrame
        One row per group, one column per ``by`` column (no columns and one row without ``by``).
    n_rows : ndarray
        Rows per group.
    sets : dict of SetMoments
    pairs : dict of name -> ndarray (groups × 10: :data:`PAIR_FIELDS`)
    spec : MomentSpec
    engine : str
        Which engine computed them.
    source : str
        What they were computed from (file, SQL or "DataFrame").
    """

    keys: pd.DataFrame
    n_rows: np.ndarray
    sets: Mapping[str, SetMoments]
    pairs: Mapping[str, np.ndarray]
    spec: MomentSpec
    engine: str
    source: str = ""

    # ---- choosing groups ------------------------------------------------------------------------------
    @property
    def by(self) -> list[str]:
        return list(self.keys.columns)

    def take(self, mask) -> "Moments":
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        return replace(self, keys=self.keys.iloc[idx].reset_index(drop=True), n_rows=self.n_rows[idx],
                       sets={k: s.take(idx) for k, s in self.sets.items()},
                       pairs={k: v[idx] for k, v in self.pairs.items()})

    def where(self, **equal) -> "Moments":
        """The groups whose key columns equal the given values (e.g. ``where(quarter="2026Q3")``)."""
        mask = np.ones(len(self.keys), bool)
        for col, val in equal.items():
            if col not in self.keys.columns:
                raise SQMArgumentError(f"the moments are grouped by {self.by}, not by {col!r}")
            mask &= (self.keys[col].astype(str) == str(val)).to_numpy()
        if not mask.any():
            have = {c: sorted(map(str, self.keys[c].dropna().unique()))[:10] for c in equal if c in self.keys}
            raise SQMArgumentError(f"no group with {equal} (values: {have})")
        return self.take(mask)

    def pooled(self) -> "Moments":
        """All groups added into one (the moments of the union of their rows)."""
        return replace(self, keys=pd.DataFrame(index=[0]), n_rows=self.n_rows.sum(keepdims=True),
                       sets={k: s.pooled() for k, s in self.sets.items()},
                       pairs={k: v.sum(0, keepdims=True) for k, v in self.pairs.items()})

    def groupby(self, by: Sequence[str]) -> Iterable[tuple[tuple, "Moments"]]:
        """(key, pooled moments) for every value combination of ``by`` (a subset of the key columns), sorted
        as pandas' groupby sorts, missing values last."""
        by = list(by)
        unknown = [c for c in by if c not in self.keys.columns]
        if unknown:
            raise SQMDataError("moments", [Problem("missing_column", f"the moments are grouped by {self.by}; "
                                                                     f"{unknown} cannot be recovered")])
        codes = self.keys[by].astype(object).where(self.keys[by].notna(), None)
        for key, idx in pd.Series(range(len(codes))).groupby([codes[c] for c in by], dropna=False,
                                                             sort=True).groups.items():
            key = key if isinstance(key, tuple) else (key,)
            mask = np.zeros(len(self.keys), bool)
            mask[np.asarray(idx)] = True
            yield key, self.take(mask).pooled()

    # ---- reading statistics ---------------------------------------------------------------------------
    def select(self, columns: Sequence[str], missing: str | None = None) -> CovMoments:
        """Moments of ``columns`` pooled over all groups, from the first set that holds them all (with the
        missing-data rule ``missing`` when given)."""
        columns = tuple(columns)
        for s in self.sets.values():
            if all(c in s.columns for c in columns) and (missing is None or s.missing == missing):
                idx = [s.columns.index(c) for c in columns]
                ix = np.ix_(idx, idx)
                N, S, Q = s.N.sum(0)[ix], s.S.sum(0)[ix], s.Q.sum(0)[ix]
                exact_set = tuple(sorted(columns)) == tuple(sorted(s.columns))
                if s.N2 is not None:
                    return self._weighted_select(s, columns, idx, N, S, Q, exact_set)
                if s.missing == "listwise":
                    # complete rows of the whole set: those of these columns only if no row was dropped at all
                    n = int(N[0, 0]) if len(idx) else 0
                    exact = exact_set or n == int(self.n_rows.sum())
                elif exact_set:
                    n, exact = int(s.n_min2.sum()), True
                elif np.all(N == self.n_rows.sum()):
                    n, exact = int(self.n_rows.sum()), True  # nobody skipped any of these columns
                else:
                    n, exact = int(np.diag(N).max()), False
                return CovMoments(columns, s.missing, N.astype(float), S, Q, s.shift[idx], n, exact, self.engine)
        kinds = f" with {missing} deletion" if missing else ""
        raise SQMDataError("moments", [Problem("missing_column", f"no set of the moments holds {list(columns)}"
                                                                 f"{kinds}; sets: {list(self.sets)}")])

    def _weighted_select(self, s: SetMoments, columns: tuple, idx: list, N, S, Q, exact_set: bool) -> CovMoments:
        """:meth:`select` of weighted moments: n is Kish's effective n of the rows used."""
        N2 = s.N2.sum(0)[np.ix_(idx, idx)]
        kish = lambda w1, w2: float(w1 * w1 / w2) if w2 > 0 else 0.0  # noqa: E731
        if s.missing == "listwise" or exact_set:
            w1, w2 = (N[0, 0], N2[0, 0]) if s.missing == "listwise" else (s.n_min2.sum(), s.n2_min2.sum())
            rows = int(s.counts.sum(0)[idx[0]]) if s.missing == "listwise" and idx else int(s.rows_min2.sum())
            n, exact = kish(w1, w2), exact_set or s.missing != "listwise"
        else:
            j = int(np.argmax(np.diag(N)))
            n, rows, exact = kish(N[j, j], N2[j, j]), int(s.counts.sum(0)[idx[j]]), False
        return CovMoments(columns, s.missing, N.astype(float), S, Q, s.shift[idx], n, exact, self.engine,
                          N2=N2, rows=rows)

    @property
    def weighted(self) -> bool:
        return self.spec.weight is not None

    def __getitem__(self, columns: Sequence[str]) -> CovMoments:
        return self.select([columns] if isinstance(columns, str) else columns)

    def pair(self, name: str) -> np.ndarray:
        """The paired statistics of a pair (:data:`PAIR_FIELDS`), pooled over the groups."""
        if name not in self.pairs:
            raise SQMDataError("moments", [Problem("missing_column", f"no pair {name!r} in the moments")])
        return self.pairs[name].sum(0)

    def summary(self) -> pd.DataFrame:
        """Groups with their row counts."""
        return self.keys.assign(rows=self.n_rows)

    def _repr_html_(self) -> str:
        return (f"<p><b>Moments</b> from {self.engine} ({self.source}): {int(self.n_rows.sum()):,} rows in "
                f"{len(self.keys)} group(s) by {self.by or 'nothing'}; sets {list(self.sets)}; "
                f"{len(self.pairs)} pairs</p>")


def is_moments(x) -> bool:
    return isinstance(x, (Moments, CovMoments))
