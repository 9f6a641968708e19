"""Measurement invariance across groups: can dimension scores be compared between regions, quarters, channels?

A comparison of dimension means across groups presumes the items measure the same thing in every group with the
same origin: equal loadings (metric invariance) and equal intercepts (scalar invariance). :func:`invariance`
fits the multi-group CFA at four levels, each nested in the one before, as lavaan's
``cfa(model, data, group=…, group.equal=…)``:

- configural: the same pattern of loadings in every group, all parameters free;
- metric: loadings equal across groups;
- scalar: loadings and item intercepts equal (latent means free after the first group);
- strict: also the residual variances equal.

Each level is judged against the one before by the change in fit — the usual rules (Chen 2007, Cheung &
Rensvold 2002): CFI falls by at most .01 and RMSEA rises by at most .015 — and by the χ² difference test, which
large samples make strict. The level reached is the last one in the chain that holds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import Problem, SQMArgumentError, SQMDataError, raise_problems
from ..instruments import load as load_instrument
from . import latent
from .structure import check_items

DELTA_CFI = 0.01
DELTA_RMSEA = 0.015
LEVEL_WORDS = {"configural": "the same factor structure", "metric": "equal loadings",
               "scalar": "equal loadings and intercepts", "strict": "equal loadings, intercepts and residuals"}


@dataclass(frozen=True)
class InvarianceResult:
    """Fit of the invariance levels and the level reached.

    Attributes
    ----------
    table : DataFrame
        One row per level: ``chisq``, ``df``, ``p_value``, ``cfi``, ``tli``, ``rmsea``, ``srmr``, ``aic``,
        ``bic``, and against the level before ``delta_chisq``, ``delta_df``, ``delta_p``, ``delta_cfi``,
        ``delta_rmsea`` and ``holds`` (ΔCFI ≥ −.01 and ΔRMSEA ≤ .015).
    level : str
        The highest level of the unbroken chain that holds ("configural" when metric invariance fails).
    group : str
        The grouping column.
    groups : Series
        Respondents per group (complete cases; with ``missing="fiml"`` all who answered something).
    group_chisq : DataFrame
        Each group's share of the configural χ² (complete data).
    dropped : tuple of str
        Groups left out for having too few respondents.
    """

    table: pd.DataFrame
    level: str
    group: str
    groups: pd.Series
    group_chisq: pd.Series
    dropped: tuple = ()
    missing: str = "listwise"

    @property
    def means_comparable(self) -> bool:
        """Whether scalar (or strict) invariance holds: only then are differences in means differences in the
        dimensions rather than in how the items work."""
        return self.level in ("scalar", "strict")

    def statement(self) -> str:
        """One sentence: the level reached across the groups and what it allows."""
        k = len(self.groups)
        head = (f"Measurement invariance across {k} {self.group} groups: **{self.level}** "
                f"({LEVEL_WORDS[self.level]}).")
        if self.means_comparable:
            return head + " Dimension means can be compared across the groups."
        if self.level == "metric":
            return (head + " Relations (correlations, regressions) can be compared, but differences in dimension "
                    "means may partly reflect items that work differently in some groups — read mean comparisons "
                    "with care.")
        return (head + " Even the loadings differ: neither means nor relations are strictly comparable across "
                "the groups.")

    def findings(self) -> list[str]:
        out = [self.statement()]
        t = self.table
        for lvl in t.index[1:]:
            r = t.loc[lvl]
            out.append(f"{lvl}: ΔCFI {r['delta_cfi']:+.3f}, ΔRMSEA {r['delta_rmsea']:+.3f}, Δχ² {r['delta_chisq']:.1f} "
                       f"on {int(r['delta_df'])} df (p {r['delta_p']:.3g}) — {'holds' if r['holds'] else 'does not hold'}.")
        if self.dropped:
            out.append(f"Left out for too few respondents: {', '.join(self.dropped)}.")
        return out

    def summary(self) -> pd.DataFrame:
        return self.table

    def _repr_html_(self) -> str:
        return f"<p>{self.statement()}</p>" + self.table.to_html(float_format=lambda v: f"{v:.3f}")


def invariance(data: pd.DataFrame, model: Mapping[str, Sequence[str]], group: str, *,
               levels: Sequence[str] = latent.LEVELS, missing: str = "listwise",
               min_group_size: int | None = None) -> InvarianceResult:
    """Configural, metric, scalar and strict invariance of a CFA model across the groups in column ``group``.

    Parameters
    ----------
    data : DataFrame
        Respondents × columns: the model's items and the group column.
    model : dict factor -> items
    group : str
        Column whose values define the groups (at least two).
    levels : sequence of str
        Which levels to fit, in order (a prefix of configural, metric, scalar, strict).
    missing : {"listwise", "fiml"}
        Complete cases (lavaan's default) or full-information ML.
    min_group_size : int, optional
        Groups with fewer respondents are left out and named (default: three per item and never below 50:
        each group estimates its own loadings, intercepts and residual variances, and with fewer respondents
        the configural fits are unstable: they wander for thousands of iterations and their χ² differences
        mean little).

    Returns
    -------
    InvarianceResult

    Notes
    -----
    Fit as lavaan: marker-variable identification, χ² as the likelihood ratio against the unrestricted
    multi-group model (Σ_g N_g·F_ML,g), the same independence baseline for every level, RMSEA with N and
    ``sqrt(G)``, SRMR with mean residuals weighted by group size. The tests reproduce lavaan's published
    Holzinger–Swineford results by school (χ² 115.851, 124.044, 164.103 on 48, 54, 60 df).
    """
    levels = list(levels)
    if not levels or levels != list(latent.LEVELS[:len(levels)]):
        raise SQMArgumentError(f"levels must be a prefix of {', '.join(latent.LEVELS)}, got {levels}")
    if missing not in ("listwise", "fiml"):
        raise SQMArgumentError(f"missing must be listwise or fiml, got {missing!r}")
    if not model:
        raise SQMArgumentError("model must map each factor to its items")
    items = list(dict.fromkeys(str(i) for its in model.values() for i in its))
    problems = []
    absent = [c for c in items + [group] if c not in data.columns]
    if absent:
        raise SQMDataError("data", [Problem("missing_column", f"columns not in the data: {absent}")])
    X, _ = check_items(data[items], what="data")
    g_values = data[group].to_numpy()
    keep = pd.notna(g_values)
    if missing == "listwise":
        keep &= ~np.isnan(X).any(axis=1)
    else:
        keep &= ~np.isnan(X).all(axis=1)
    X, g_values = X[keep], g_values[keep]
    counts = pd.Series(g_values).value_counts().sort_index()
    least = min_group_size if min_group_size is not None else max(3 * len(items), 50)
    dropped = tuple(str(k) for k, v in counts.items() if v < least)
    counts = counts[counts >= least]
    if len(counts) < 2:
        raise_problems("data", [Problem("too_few_groups", f"{group!r} has {len(counts)} group(s) with at least "
                                        f"{least} respondents; invariance needs two or more", column=group,
                                        values=(len(counts), least))])
    inside = np.isin(g_values, counts.index.to_numpy())
    X, g_values = X[inside], g_values[inside]
    codes = pd.Categorical(g_values, categories=counts.index).codes
    for k, name in enumerate(counts.index):
        sd = np.nanstd(X[codes == k], axis=0)
        flat = [items[i] for i in np.flatnonzero(~(sd > 0))]
        if flat:
            problems.append(Problem("constant", f"no variance within group {name}: {', '.join(flat)}", column=group,
                                    values=(name, *flat)))
    raise_problems("data", problems)
    pattern = latent.pattern_from_model(model, items)
    rows, first = [], None
    for lvl in levels:
        mf = latent.fit_model(X, pattern, codes, latent.EQUAL[lvl])
        m = mf.measures
        row = {"level": lvl, "chisq": m["chisq"], "df": m["df"], "p_value": m["p_value"], "cfi": m["cfi"],
               "tli": m["tli"], "rmsea": m["rmsea"], "srmr": m["srmr"], "aic": m["aic"], "bic": m["bic"],
               "converged": mf.fit.converged}
        if rows:
            prev = rows[-1]
            d_chi, d_df = row["chisq"] - prev["chisq"], row["df"] - prev["df"]
            row.update(delta_chisq=d_chi, delta_df=d_df,
                       delta_p=float(stats.chi2.sf(max(d_chi, 0.0), d_df)) if d_df > 0 else np.nan,
                       delta_cfi=row["cfi"] - prev["cfi"], delta_rmsea=row["rmsea"] - prev["rmsea"])
            row["holds"] = bool(row["delta_cfi"] >= -DELTA_CFI and row["delta_rmsea"] <= DELTA_RMSEA)
        else:
            first = mf
            row.update(delta_chisq=np.nan, delta_df=np.nan, delta_p=np.nan, delta_cfi=np.nan, delta_rmsea=np.nan,
                       holds=True)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("level")
    level = levels[0]
    for lvl in levels[1:]:
        if not table.loc[lvl, "holds"]:
            break
        level = lvl
    by_group = pd.Series(np.nan, index=[str(k) for k in counts.index], name="chisq")
    if missing == "listwise":
        by_group[:] = latent.group_chisq(first.fit, first.blocks, first.S, first.means)
    return InvarianceResult(table, level, group, pd.Series(counts.to_numpy(), index=[str(k) for k in counts.index],
                                                          name="n"), by_group, dropped, missing)


BLOCK_WORDS = {"E": "expectations", "P": "perceptions", "A": "adequate service", "D": "desired service"}
ORDER = {lvl: i for i, lvl in enumerate(latent.LEVELS)}


@dataclass(frozen=True)
class SurveyInvariance:
    """Measurement invariance of each rating block of a survey (E and P) across the groups of one column.

    ``level`` is the lowest level any block reached: mean gaps (P − E) are comparable only when both blocks are
    scalar invariant."""

    by: str
    blocks: Mapping[str, InvarianceResult]
    level: str
    notes: tuple = ()

    @property
    def means_comparable(self) -> bool:
        return self.level in ("scalar", "strict")

    def statement(self, what: str = "dimension means and gaps") -> str:
        parts = [f"{BLOCK_WORDS.get(b, b)} {r.level}" for b, r in self.blocks.items()]
        head = f"Measurement invariance across {self.by}: " + ", ".join(parts) + "."
        if self.means_comparable:
            return head + f" The items work alike in every group, so {what} can be compared."
        return (head + f" Scalar invariance does not hold, so {what} are **not strictly comparable** across "
                f"{self.by}: a difference may come from items that work differently in some groups.")

    def table(self) -> pd.DataFrame:
        return pd.concat({BLOCK_WORDS.get(b, b): r.table for b, r in self.blocks.items()}, names=["block", "level"]
                         ).reset_index()


def survey_invariance(survey: pd.DataFrame, instrument, by: str, *, blocks: Sequence[str] = ("E", "P"),
                      levels: Sequence[str] = latent.LEVELS) -> SurveyInvariance | None:
    """Invariance of each of ``blocks`` the instrument has (its dimensions as the CFA model) across the groups
    of column ``by``; ``None`` when it cannot be tested (no such column,
    fewer than two groups large enough, a dimension with a single item)."""
    inst = load_instrument(instrument)
    if by not in survey or any(len(v) < 2 for v in inst.dimensions.values()):
        return None
    out, notes = {}, []
    for b in blocks:
        if b not in inst.blocks:
            continue
        cols = inst.item_columns(b)
        if not all(c in survey for c in cols):
            continue
        model = {d: [inst.item_column(b, i) for i in items] for d, items in inst.dimensions.items()}
        try:
            out[b] = invariance(survey[cols + [by]], model, by, levels=levels)
        except SQMDataError as e:
            notes.append(f"{BLOCK_WORDS.get(b, b)}: {e}")
    if not out:
        return None
    level = min((r.level for r in out.values()), key=ORDER.get)
    return SurveyInvariance(by, out, level, tuple(notes))
