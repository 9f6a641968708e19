"""Time to churn (Kaplan–Meier, Cox) and the snapshot building blocks shared by notebook, explorer and lessons."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import SQMWarning
from ..periods import quarter_of, quarter_start
from .features import build_features
from .model import ChurnResult, fit_churn_model, score_customers


# ---------------------------------------------------------------------------------------------------------
# time to churn
# ---------------------------------------------------------------------------------------------------------
def durations(customers: pd.DataFrame, until=None) -> pd.DataFrame:
    """Tenure in days until churn (event 1) or until ``until`` (censored, event 0)."""
    until = pd.Timestamp(until) if until is not None else max(customers["signup_date"].max(), customers["churn_date"].max())
    end = customers["churn_date"].where(customers["churn_date"].notna(), until)
    out = customers.copy()
    out["duration_days"] = (end - customers["signup_date"]).dt.days.clip(lower=0) + 0.5
    out["event"] = customers["churn_date"].notna().astype(int)
    return out


def km_curves(customers: pd.DataFrame, by: str | None = None, until=None) -> dict:
    """Kaplan–Meier survival curves (lifelines), overall or per segment: {segment: fitted KaplanMeierFitter}."""
    from lifelines import KaplanMeierFitter

    d = durations(customers, until)
    groups = [("all", d)] if by is None else list(d.groupby(by))
    return {str(k): KaplanMeierFitter(label=str(k)).fit(g["duration_days"], g["event"]) for k, g in groups}


def cox_model(data: pd.DataFrame, duration_col: str = "duration_days", event_col: str = "event", *,
              penalizer: float = 0.01):
    """Cox proportional-hazards model (lifelines) on numeric columns (one-hot encode categories first)."""
    from lifelines import CoxPHFitter

    num = data.select_dtypes("number")
    num = num.loc[:, num.std() > 0]
    return CoxPHFitter(penalizer=penalizer).fit(num.fillna(num.median()), duration_col, event_col)


def conditional_survival(km, tenure_days, horizon_days: float):
    """P(still a customer after another ``horizon_days`` | a customer for ``tenure_days`` already) = S(t + h)/S(t),
    NaN where S(t) = 0. ``tenure_days`` is a number (a float back) or an array (an array back, the curve read
    once for all of them)."""
    t = np.atleast_1d(np.asarray(tenure_days, dtype=float))
    s = km.survival_function_at_times(np.concatenate([t, t + horizon_days])).to_numpy()
    before, after = s[:len(t)], s[len(t):]
    out = np.full(len(t), np.nan)
    np.divide(after, before, out=out, where=before > 0)
    return float(out[0]) if np.ndim(tenure_days) == 0 else out


# ---------------------------------------------------------------------------------------------------------
# building blocks shared by the notebook, the explorer and the lessons
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SnapshotModel:
    """A churn model learnt at a snapshot: the ``snapshot`` date, the training ``features`` (one row per
    customer active then), the fitted ``model`` and the warnings the feature build gave (``notes``)."""

    snapshot: pd.Timestamp
    horizon_days: int
    features: pd.DataFrame
    model: ChurnResult
    notes: tuple = ()


def snapshot_of(folder, quarter: str = "", as_of: str = "") -> tuple[str, pd.Timestamp]:
    """The quarter (default the survey's latest, else the quarter of the last churn) and the snapshot date
    (default that quarter's first day) of a churn analysis."""
    if not quarter:
        quarter = folder.latest_quarter if folder.survey is not None else quarter_of(
            pd.Timestamp(folder.customers["churn_date"].max()))
    snapshot = pd.Timestamp(as_of) if as_of else quarter_start(quarter)
    return quarter, snapshot


def features_at(folder, as_of, horizon_days: int = 90) -> tuple[pd.DataFrame, tuple]:
    """:func:`build_features` of a data folder at ``as_of``, with the warnings it gave as notes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        feats = build_features(folder.customers, folder.interactions, folder.survey, as_of, horizon_days,
                               instrument=folder.instrument, standards=folder.standards)
    return feats, tuple(str(w.message) for w in caught)


def fit_at_snapshot(folder, quarter: str = "", *, as_of: str = "", horizon_days: int = 90, model: str = "logit",
                    seed: int = 0) -> SnapshotModel:
    """The churn model fitted at a snapshot (default: the first day of ``quarter``, default the latest): every
    customer active then, features from data before it, label churn within ``horizon_days``.

    The churn notebook, the churn explorer and the lessons fit their model with this.
    """
    folder.require("customers", purpose="churn prediction")
    _, snapshot = snapshot_of(folder, quarter, as_of)
    train, notes = features_at(folder, snapshot, horizon_days)
    return SnapshotModel(snapshot, horizon_days, train, fit_churn_model(train, "churned", model=model, seed=seed),
                         notes)


def scoring_date(customers: pd.DataFrame) -> pd.Timestamp:
    """The day after the last signup or churn in the customer records: "today" for the risk list."""
    until = max(customers["signup_date"].max(), customers["churn_date"].max())
    return pd.Timestamp(until).normalize() + pd.Timedelta(days=1)


def score_today(folder, fitted: SnapshotModel, *, clv=200) -> pd.DataFrame:
    """Score the customers active at the end of the data with a model from :func:`fit_at_snapshot`
    (:func:`score_customers`; the label of this snapshot lies in the future, so its warning is dropped)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SQMWarning)  # the scoring snapshot's label lies in the future, as it should
        now = build_features(folder.customers, folder.interactions, folder.survey, scoring_date(folder.customers),
                             fitted.horizon_days, instrument=folder.instrument, standards=folder.standards)
    if isinstance(clv, pd.Series):  # a value per customer: theirs, else the median
        clv = now["customer_id"].map(clv).fillna(clv.median()).to_numpy()
    return score_customers(fitted.model, now, clv=clv)


def importance_groups(features: Sequence[str], dimensions: Sequence[str]) -> dict[str, list[str]]:
    """Feature groups for :func:`permutation_importance_grouped`: each quality dimension (its perception and
    gap), complaints, contacts, the survey outcomes, tenure, plan and charges, region."""
    cols = list(features)
    groups = {f"quality: {d}": [c for c in (f"P_{d}", f"gap_{d}") if c in cols] for d in dimensions}
    groups.update({
        "complaints": [c for c in cols if "complaint" in c or c == "standard_breaches_365d"],
        "contacts": [c for c in cols if c.startswith("contacts_")],
        "overall satisfaction, NPS, CES": [c for c in ("overall_sat", "nps", "ces") if c in cols],
        "tenure": ["tenure_days"], "plan and charges": ["plan", "monthly_charges"], "region": ["region"],
    })
    return {k: v for k, v in groups.items() if v}
