"""From a PLS model to 0–100 indices and the importance–performance map."""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import SQMArgumentError
from .pls import PLSResult, Spec, _estimate, _total, _weighted_corr


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
    cols = list(model.spec.indicators)
    items = frame[cols]
    if not all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in items.dtypes):
        items = items.apply(pd.to_numeric, errors="coerce")
    x = items.to_numpy(dtype=float, na_value=np.nan)
    x = np.where(np.isnan(x), model.means.reindex(cols).to_numpy(dtype=float), x)
    return pd.DataFrame((x - lo) / (hi - lo) * 100, index=frame.index, columns=cols)


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
