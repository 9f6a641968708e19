"""The zone of tolerance (three-column format) and importance–performance analysis."""
from __future__ import annotations

from .paired import CROSSHAIRS, QUADRANTS, paired_table, weighted_columns, weighted_paired_table
from .tables import _check_blocks, dimension_scores, respondent_weights
from dataclasses import dataclass
from typing import Mapping
import numpy as np
import pandas as pd
from ..errors import Problem, SQMArgumentError, SQMDataError
from ..instruments import load as load_instrument


# ---------------------------------------------------------------------------------------------------------
# three-column format
# ---------------------------------------------------------------------------------------------------------
def zone_of_tolerance(survey: pd.DataFrame, instrument, *, confidence: float = 0.95,
                      sample_weight: str | None = None) -> pd.DataFrame:
    """Three-column format (Parasuraman, Zeithaml & Berry 1994): per item the mean adequate (A), desired (D)
    and perceived (P) level, MSA = P − A and MSS = P − D with intervals, where the mean perception lies
    (below / within / above the zone of tolerance A–D), and how many respondents are below, within, above
    their own zone. With ``sample_weight`` (a column of sampling weights) the means, MSA and MSS are weighted
    with intervals on Kish's effective n (:func:`sqmlib.gaps.paired.weighted_paired_table`); the counts below,
    within and above stay counts of respondents."""
    inst = load_instrument(instrument)
    _check_blocks(survey, inst, ["A", "D", "P"])
    items = list(inst.items)
    P = survey[inst.item_columns("P")].to_numpy(dtype=float)
    A = survey[inst.item_columns("A")].to_numpy(dtype=float)
    D = survey[inst.item_columns("D")].to_numpy(dtype=float)
    if sample_weight is None:
        msa = paired_table(P, A, items, confidence=confidence, wilcoxon=False)
        mss = paired_table(P, D, items, confidence=confidence, wilcoxon=False)
    else:
        w = survey[sample_weight].to_numpy(dtype=float, na_value=np.nan)
        msa, mss = (weighted_paired_table(P, X, items, w, confidence=confidence) for X in (A, D))
    ok = ~np.isnan(P) & ~np.isnan(A) & ~np.isnan(D)
    lo, hi = np.minimum(A, D), np.maximum(A, D)
    below = (ok & (P < lo)).sum(axis=0)
    within = (ok & (P >= lo) & (P <= hi)).sum(axis=0)
    above = (ok & (P > hi)).sum(axis=0)
    mean_a, mean_d, mean_p = msa["mean_e"].to_numpy(), mss["mean_e"].to_numpy(), msa["mean_p"].to_numpy()
    position = np.where(mean_p < mean_a, "below", np.where(mean_p > mean_d, "above", "within"))
    return pd.DataFrame({
        "item": items, "dimension": [inst.dimension_of(i) for i in items],
        "mean_adequate": mean_a, "mean_desired": mean_d, "mean_p": mean_p,
        "msa": msa["gap"], "msa_ci_low": msa["ci_low"], "msa_ci_high": msa["ci_high"],
        "mss": mss["gap"], "mss_ci_low": mss["ci_low"], "mss_ci_high": mss["ci_high"],
        "zone_width": mean_d - mean_a, "position": position,
        "n_below": below, "n_within": within, "n_above": above, "n": ok.sum(axis=0),
    })


# ---------------------------------------------------------------------------------------------------------
# importance–performance analysis
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IPAResult:
    """Importance–performance analysis.

    Attributes
    ----------
    table : DataFrame
        Per attribute: ``importance``, ``performance``, ``quadrant`` under the chosen rule, and the quadrant
        under every other rule (``quadrant_<rule>``).
    rule : str
        Crosshair rule used: ``"mean"`` (means of the attributes), ``"median"`` or ``"midpoint"`` (scale
        midpoint of performance; mean importance, since importance has no natural midpoint).
    crosshair : dict
        The crosshair per rule: ``{rule: (importance, performance)}``.
    importance_kind : str
        How importance was obtained.
    changes : DataFrame
        Attributes whose quadrant differs under another rule.
    """

    table: pd.DataFrame
    rule: str
    crosshair: Mapping[str, tuple[float, float]]
    importance_kind: str
    changes: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        return self.table

    def concentrate_here(self) -> list[str]:
        t = self.table
        return t[t["quadrant"] == "concentrate here"].sort_values("importance", ascending=False).index.tolist()

    def _repr_html_(self) -> str:
        imp, perf = self.crosshair[self.rule]
        return (f"<p><b>IPA</b> ({self.importance_kind}; crosshair: {self.rule}, importance {imp:.3f}, "
                f"performance {perf:.3f})</p>" + self.table.to_html(float_format=lambda v: f"{v:.3f}"))


def _weighted_means(frame: pd.DataFrame, w: np.ndarray) -> pd.Series:
    """Each column's weighted mean over the respondents who answered it (a missing weight counts 0)."""
    return pd.Series(weighted_columns(frame.to_numpy(dtype=float), w)[2], index=frame.columns)


def _weighted_correlations(frame: pd.DataFrame, y: pd.Series, w: np.ndarray) -> pd.Series:
    """Each column's weighted Pearson correlation with ``y`` over the respondents who answered both."""
    out = {}
    yv = y.to_numpy(dtype=float)
    for c in frame.columns:
        x = frame[c].to_numpy(dtype=float)
        ok = ~np.isnan(x) & ~np.isnan(yv) & (np.nan_to_num(w) > 0)
        C = np.cov(x[ok], yv[ok], aweights=w[ok]) if ok.sum() > 2 else np.full((2, 2), np.nan)
        out[c] = C[0, 1] / np.sqrt(C[0, 0] * C[1, 1]) if C[0, 0] > 0 and C[1, 1] > 0 else np.nan
    return pd.Series(out)


def ipa(survey: pd.DataFrame, instrument, *, level: str = "item", importance: str = "derived",
        outcome: str = "overall_sat", performance: str = "P", rule: str = "mean",
        shapley: pd.Series | None = None, sample_weight: str | None = None) -> IPAResult:
    """Importance–performance analysis.

    Parameters
    ----------
    level : {"item", "dimension"}
    importance : {"derived", "stated", "shapley"}
        ``"derived"``: correlation of each attribute's perception with ``outcome``; ``"stated"``: the
        respondents' importance (the ``I_<dimension>`` points at dimension level, or an ``IMP`` block of
        item importance ratings at item level); ``"shapley"``: the shares given in ``shapley`` (e.g. from a
        relative-importance analysis).
    performance : {"P", "gap"}
        Mean perception or mean gap P − E.
    rule : {"mean", "median", "midpoint"}
        Where the crosshair sits; the quadrants under the other rules are reported too.
    sample_weight : str, optional
        A column of sampling weights: performance and stated importance are weighted means, derived importance a
        weighted correlation (numpy's ``cov(aweights=w)``), each over the respondents who answered (a respondent
        without a weight counts 0).
    """
    inst = load_instrument(instrument)
    if rule not in CROSSHAIRS:
        raise SQMArgumentError(f"rule must be one of {CROSSHAIRS}")
    if level == "item":
        names = list(inst.items)
        Pm = survey[inst.item_columns("P")].set_axis(names, axis=1)
        Em = survey[inst.item_columns("E")].set_axis(names, axis=1) if performance == "gap" else None
    elif level == "dimension":
        names = list(inst.dimensions)
        Pm = dimension_scores(survey, inst, "P")
        Em = dimension_scores(survey, inst, "E") if performance == "gap" else None
    else:
        raise SQMArgumentError("level must be 'item' or 'dimension'")
    w = None if sample_weight is None else survey[sample_weight].to_numpy(dtype=float, na_value=np.nan)
    mean = (lambda f: f.mean()) if w is None else (lambda f: _weighted_means(f, w))  # noqa: E731
    perf = mean(Pm - Em) if performance == "gap" else mean(Pm)
    if importance == "derived":
        if outcome not in survey.columns:
            raise SQMDataError("survey", [Problem("missing_column", f"derived importance needs the outcome {outcome!r}")])
        imp = Pm.corrwith(survey[outcome]) if w is None else _weighted_correlations(Pm, survey[outcome], w)
        kind = f"derived: correlation with {outcome}"
    elif importance == "stated":
        if level == "dimension":
            imp = mean(respondent_weights(survey, inst, "stated")) * 100
            kind = "stated: mean importance points"
        elif "IMP" in inst.blocks:
            imp = mean(survey[inst.item_columns("IMP")].set_axis(names, axis=1))
            kind = "stated: mean importance rating"
        else:
            raise SQMDataError("survey", [Problem("no_importance", "stated importance at item level needs an IMP "
                                                                   "block of item importance ratings; use "
                                                                   "level='dimension' for the 100-point weights")])
    elif importance == "shapley":
        if shapley is None:
            raise SQMArgumentError("importance='shapley' needs the shares in shapley=")
        imp = pd.Series(shapley).reindex(names)
        kind = "derived: Shapley share of R²"
    else:
        raise SQMArgumentError("importance must be 'derived', 'stated' or 'shapley'")
    if imp.isna().any():
        raise SQMDataError("survey", [Problem("no_importance", f"no importance for {imp.index[imp.isna()].tolist()}")])
    mid_perf = 0.0 if performance == "gap" else (inst.scale_min + inst.scale_max) / 2
    cross = {"mean": (float(imp.mean()), float(perf.mean())),
             "median": (float(imp.median()), float(perf.median())),
             "midpoint": (float(imp.mean()), float(mid_perf))}
    table = pd.DataFrame({"importance": imp, "performance": perf})
    if level == "item":
        table.insert(0, "dimension", [inst.dimension_of(i) for i in names])
        table["text"] = [inst.text(i) for i in names]
    for r, (ci, cp) in cross.items():
        table[f"quadrant_{r}"] = [QUADRANTS[(bool(i >= ci), bool(p >= cp))] for i, p in zip(imp, perf)]
    table["quadrant"] = table[f"quadrant_{rule}"]
    others = [r for r in CROSSHAIRS if r != rule]
    rows = [{"name": n, "rule": r, "quadrant": table.loc[n, "quadrant"], "quadrant_other": table.loc[n, f"quadrant_{r}"]}
            for n in names for r in others if table.loc[n, f"quadrant_{r}"] != table.loc[n, "quadrant"]]
    changes = pd.DataFrame(rows, columns=["name", "rule", "quadrant", "quadrant_other"])
    table.index.name = level
    return IPAResult(table, rule, cross, kind, changes)
