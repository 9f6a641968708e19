"""The churn model: fitting, explanation (permutation importance, odds ratios) and risk lists."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import Problem, SQMArgumentError, SQMDataError
from .profit import evaluate, gains_table


# ---------------------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------------------
def make_pipeline(X: pd.DataFrame, model: str = "logit", seed: int = 0):
    """Impute, scale and one-hot encode, then logistic regression or histogram gradient boosting."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    num = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c])]
    cat = [c for c in X.columns if c not in num]
    if model == "logit":
        pre = ColumnTransformer([
            ("num", Pipeline([("impute", SimpleImputer(strategy="median")),
                              ("scale", StandardScaler())]), num),
            ("cat", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                              ("onehot", OneHotEncoder(handle_unknown="ignore", drop="if_binary"))]), cat),
        ], sparse_threshold=0, verbose_feature_names_out=False)  # "tenure_days", not "num__tenure_days"
        clf = LogisticRegression(max_iter=2000)
    elif model == "gbm":
        pre = ColumnTransformer([
            ("num", "passthrough", num),
            ("cat", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                              ("ordinal", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1))]), cat),
        ], sparse_threshold=0, verbose_feature_names_out=False)
        clf = HistGradientBoostingClassifier(categorical_features=list(range(len(num), len(num) + len(cat))),
                                             random_state=seed, early_stopping=False, max_iter=200,
                                             learning_rate=0.1)
    else:
        raise SQMArgumentError(f"model must be 'logit' or 'gbm', got {model!r}")
    return Pipeline([("prepare", pre), ("model", clf)])


@dataclass(frozen=True)
class ChurnResult:
    """A fitted churn model with its out-of-fold predictions.

    Attributes
    ----------
    cv_auc, cv_auc_sd : float
        Mean and standard deviation of ROC-AUC over the folds.
    oof : Series
        Out-of-fold churn probability of every customer.
    pipeline : sklearn Pipeline
        Refitted on all rows.
    holdout_auc : float or None
        ROC-AUC on the time-based holdout, when one was asked for.
    """

    model: str
    features: tuple[str, ...]
    target: str
    y: pd.Series
    oof: pd.Series
    cv_auc: float
    cv_auc_sd: float
    fold_auc: tuple[float, ...]
    pipeline: object = field(repr=False)
    X: pd.DataFrame = field(repr=False)
    holdout_auc: float | None = None

    def evaluation(self, n_boot: int = 200, seed: int = 0) -> pd.DataFrame:
        """Out-of-fold ROC-AUC, PR-AUC, Brier, log loss, ECE and top-decile lift with bootstrap intervals."""
        return evaluate(self.y.to_numpy(), self.oof.to_numpy(), n_boot=n_boot, seed=seed)

    def gains(self, bins: int = 10) -> pd.DataFrame:
        return gains_table(self.y.to_numpy(), self.oof.to_numpy(), bins)

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"model": self.model, "n": len(self.y), "churn_rate": float(self.y.mean()),
                              "cv_auc": self.cv_auc, "cv_auc_sd": self.cv_auc_sd, "holdout_auc": self.holdout_auc,
                              "features": len(self.features)}])

    def _repr_html_(self) -> str:
        return "<p><b>Churn model</b></p>" + self.summary().to_html(float_format=lambda v: f"{v:.3f}")


def fit_churn_model(data: pd.DataFrame, target: str = "churned", *, features: Sequence[str] | None = None,
                    model: str = "logit", cv: int = 5, seed: int = 0, id_col: str | None = "customer_id",
                    time_col: str | None = None, holdout_from=None) -> ChurnResult:
    """Fit a churn model with stratified K-fold out-of-fold predictions.

    Parameters
    ----------
    data : DataFrame
        One row per customer with the target (0/1, or yes/no).
    features : sequence, optional
        Default: every column but the target, ``id_col`` and ``time_col``.
    model : {"logit", "gbm"}
    cv : int
        Folds (stratified, shuffled with ``seed``).
    time_col, holdout_from : optional
        With both, the model is also trained on rows with ``time_col < holdout_from`` and scored on the
        rest (``holdout_auc``): how the model would have done on the next period.
    """
    from sklearn.base import clone
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    y = data[target]
    if y.dtype == object or pd.api.types.is_string_dtype(y):
        y = y.astype(str).str.strip().str.lower().map({"yes": 1, "no": 0, "1": 1, "0": 0, "true": 1, "false": 0})
    y = y.astype(float)
    if y.isna().any() or not set(y.unique()) <= {0.0, 1.0}:
        raise SQMDataError("data", [Problem("bad_value", f"target {target!r} must be 0/1 or yes/no for every row")])
    drop = {target, id_col, time_col} - {None}
    feats = list(features) if features is not None else [c for c in data.columns if c not in drop]
    X = data[feats]
    pipe = make_pipeline(X, model, seed)
    skf = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    oof = np.empty(len(X))
    aucs = []
    yv = y.to_numpy()
    for train, test in skf.split(X, yv):
        m = clone(pipe).fit(X.iloc[train], yv[train])
        oof[test] = m.predict_proba(X.iloc[test])[:, 1]
        aucs.append(roc_auc_score(yv[test], oof[test]))
    holdout = None
    if time_col is not None and holdout_from is not None:
        early = (data[time_col] < pd.Timestamp(holdout_from)).to_numpy()
        if early.any() and (~early).any():
            m = clone(pipe).fit(X[early], yv[early])
            holdout = float(roc_auc_score(yv[~early], m.predict_proba(X[~early])[:, 1]))
    pipe.fit(X, yv)
    return ChurnResult(model, tuple(feats), target, pd.Series(yv, index=data.index, name=target),
                       pd.Series(oof, index=data.index, name="p_churn"), float(np.mean(aucs)),
                       float(np.std(aucs, ddof=1)), tuple(float(a) for a in aucs), pipe, X, holdout)


# ---------------------------------------------------------------------------------------------------------
# explanation
# ---------------------------------------------------------------------------------------------------------
def permutation_importance_grouped(result: ChurnResult, *, groups: Mapping[str, Sequence[str]] | None = None,
                                   n_repeats: int = 5, seed: int = 0, max_rows: int = 20_000) -> pd.DataFrame:
    """Drop in ROC-AUC when a column (or a group of columns) is shuffled, on the original columns, so a
    one-hot encoded category counts once. ``groups`` (e.g. service-quality dimensions → their columns)
    shuffles the listed columns together. Uses at most ``max_rows`` rows."""
    from sklearn.metrics import roc_auc_score

    X, y = result.X, result.y.to_numpy()
    rng = np.random.default_rng(seed)
    if len(X) > max_rows:
        idx = rng.choice(len(X), max_rows, replace=False)
        X, y = X.iloc[idx], y[idx]
    base = roc_auc_score(y, result.pipeline.predict_proba(X)[:, 1])
    units = {c: [c] for c in X.columns} if groups is None else {g: list(cols) for g, cols in groups.items()}
    rows = []
    for name, cols in units.items():
        shuffled = []
        for _ in range(n_repeats):
            Xp = X.copy()
            perm = rng.permutation(len(X))
            Xp[cols] = X[cols].to_numpy()[perm]
            shuffled.append(Xp)
        # the repeats scored in one call (rows are scored independently: the same probabilities)
        proba = result.pipeline.predict_proba(pd.concat(shuffled, ignore_index=True))[:, 1].reshape(n_repeats, -1)
        drops = [base - roc_auc_score(y, row) for row in proba]
        rows.append({"feature": name, "auc_drop": float(np.mean(drops)), "sd": float(np.std(drops, ddof=1))})
    return pd.DataFrame(rows).sort_values("auc_drop", ascending=False).reset_index(drop=True)


def _design(result: ChurnResult) -> tuple[np.ndarray, list[str]]:
    pre = result.pipeline.named_steps["prepare"]
    Z = pre.transform(result.X)
    return np.asarray(Z, dtype=float), list(pre.get_feature_names_out())


class OddsRatios(NamedTuple):
    """Odds ratios (``table``) and the features ``left_out`` because they cannot be estimated."""

    table: pd.DataFrame
    left_out: list


def odds_ratios(result: ChurnResult, confidence: float = 0.95) -> OddsRatios:
    """Odds ratios with ``confidence`` intervals from an unpenalised logistic model on the prepared features
    (numeric features standardised: the odds ratio is per standard deviation). Binary features too rare to
    estimate and features collinear with others are left out and named in ``left_out``."""
    from statsmodels.discrete.discrete_model import Logit
    from statsmodels.tools.tools import add_constant

    if result.model != "logit":
        raise SQMArgumentError("odds ratios need model='logit'")
    from scipy.linalg import qr

    Z, names = _design(result)
    y = result.y.to_numpy()
    # binary columns with few cases, or without both outcomes among them, separate the classes and have no
    # finite odds ratio: leave them out and say which
    binary = np.all((Z == Z.min(axis=0)) | (Z == Z.max(axis=0)), axis=0)
    hi = Z == Z.max(axis=0)
    sparse = binary & ((hi.sum(axis=0) < 10) | ((hi & (y[:, None] == 1)).sum(axis=0) == 0)
                       | ((hi & (y[:, None] == 0)).sum(axis=0) == 0))
    keep = np.flatnonzero((Z.std(axis=0) > 0) & ~sparse)
    # keep linearly independent columns only (missing-value indicators of features missing together, e.g.
    # all survey answers of customers never surveyed, are identical): QR with column pivoting
    _, R, piv = qr(Z[:, keep] - Z[:, keep].mean(axis=0), mode="economic", pivoting=True)
    rank = int((np.abs(np.diag(R)) > 1e-8 * abs(R[0, 0])).sum())
    keep = np.sort(keep[piv[:rank]])
    fit = Logit(result.y.to_numpy(), add_constant(Z[:, keep])).fit(disp=0, maxiter=500, method="bfgs")
    params, bse = fit.params[1:], fit.bse[1:]
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(over="ignore"):  # a nearly separated feature's interval is unbounded: its upper end is inf
        ratios = np.exp(np.column_stack([params, params - z * bse, params + z * bse]))
    out = pd.DataFrame({"coef": params, "odds_ratio": ratios[:, 0], "ci_low": ratios[:, 1],
                        "ci_high": ratios[:, 2], "p_value": fit.pvalues[1:]},
                       index=pd.Index(np.array(names)[keep], name="feature")).sort_values("odds_ratio", ascending=False)
    return OddsRatios(out, [n for j, n in enumerate(names) if j not in set(keep)])


def risk_list(result: ChurnResult, data: pd.DataFrame, *, clv=200, id_col: str = "customer_id",
              top_reasons: int = 3, threshold: float | None = None, _explainer: ChurnResult | None = None) -> pd.DataFrame:
    """Customers by churn probability with their value (``clv``: one amount, or one per customer), expected loss
    (probability × value) and their top reasons.

    Reasons come from the logistic model on the prepared features: the features whose contribution
    (coefficient × the customer's standardised value) raises this customer's risk most. For a gbm the
    reasons come from a logistic model fitted to the same features for explanation only.
    """
    p = result.pipeline.predict_proba(result.X)[:, 1]
    explainer = _explainer or (result if result.model == "logit" else _as_logit(result))
    Z, names = _design(explainer)
    coef = explainer.pipeline.named_steps["model"].coef_[0]
    contrib = Z * coef
    top = np.argsort(-contrib, axis=1)[:, :top_reasons]
    clean = [n.split("__", 1)[-1] for n in names]
    reasons = ["; ".join(clean[j] for j, v in zip(row, contrib[i, row]) if v > 0) for i, row in enumerate(top)]
    clv_arr = np.broadcast_to(np.asarray(clv, float), (len(p),))
    out = pd.DataFrame({id_col: data[id_col].to_numpy(), "probability": p, "clv": clv_arr,
                        "expected_loss": p * clv_arr, "top_reasons": reasons})
    out = out.sort_values("probability", ascending=False).reset_index(drop=True)
    if threshold is not None:
        out = out[out["probability"] >= threshold]
    return out


def score_customers(result: ChurnResult, data: pd.DataFrame, *, clv=200, id_col: str = "customer_id",
                    top_reasons: int = 3) -> pd.DataFrame:
    """Score other customers (e.g. today's active ones) with a fitted model: :func:`risk_list` of ``data``.

    ``data`` holds the model's features, built as for training (:func:`build_features` at another date).
    """
    missing = [f for f in result.features if f not in data.columns]
    if missing:
        raise SQMDataError("data", [Problem("missing_column", f"features the model needs are missing: {missing}")])
    X = data[list(result.features)]
    zero = pd.Series(np.zeros(len(data)), index=data.index)
    # reasons come from a logistic model of the training rows, then applied to the new rows
    explainer = result if result.model == "logit" else _as_logit(result)
    return risk_list(replace(result, y=zero, oof=zero, X=X), data, clv=clv, id_col=id_col,
                     top_reasons=top_reasons, _explainer=replace(explainer, X=X))


def _as_logit(result: ChurnResult) -> ChurnResult:
    pipe = make_pipeline(result.X, "logit").fit(result.X, result.y.to_numpy())
    return ChurnResult("logit", result.features, result.target, result.y, result.oof, result.cv_auc,
                       result.cv_auc_sd, result.fold_auc, pipe, result.X)
