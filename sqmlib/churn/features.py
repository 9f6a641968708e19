"""Churn features as of a date, and the leakage guard."""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import Problem, SQMDataError, SQMWarning
from ..gaps import dimension_scores
from ..instruments import load as load_instrument
from ..kpi import tickets


class LeakageError(SQMDataError):
    """A feature that could only be known after the outcome."""


# ---------------------------------------------------------------------------------------------------------
# leakage guard
# ---------------------------------------------------------------------------------------------------------
def single_feature_auc(data: pd.DataFrame, target: str, exclude: Sequence[str] = ()) -> pd.Series:
    """ROC-AUC of each column alone for the target (max of AUC and 1 − AUC; categories scored by their
    churn rate). Columns with a single value get 0.5."""
    from sklearn.metrics import roc_auc_score

    y = data[target].astype(float).to_numpy()
    out = {}
    for c in data.columns:
        if c == target or c in exclude:
            continue
        s = data[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            x = s.astype(float)
        else:
            x = s.astype(str).map(pd.Series(y, index=s.index).groupby(s.astype(str)).mean())
        ok = x.notna().to_numpy()
        if ok.sum() < 2 or len(np.unique(y[ok])) < 2 or x[ok].nunique() < 2:
            out[c] = 0.5
            continue
        a = roc_auc_score(y[ok], x[ok])
        out[c] = max(a, 1 - a)
    return pd.Series(out, name="auc").sort_values(ascending=False)


def leakage_check(data: pd.DataFrame, target: str, *, threshold: float = 0.95, allow: Sequence[str] = (),
                  exclude: Sequence[str] = (), source: str = "features") -> pd.Series:
    """Stop on columns that predict the target almost perfectly on their own (ROC-AUC > ``threshold``):
    such a column was almost always written after the outcome (a satisfaction score asked at exit, a churn
    reason). Columns in ``allow`` pass with a loud warning instead.

    Returns the single-feature AUCs; raises :class:`LeakageError` naming the columns.
    """
    aucs = single_feature_auc(data, target, exclude)
    leaky = aucs[aucs > threshold]
    allowed = [c for c in leaky.index if c in allow]
    if allowed:
        warnings.warn(f"LEAKAGE OVERRIDDEN: {', '.join(f'{c} (AUC {leaky[c]:.3f})' for c in allowed)} predict "
                      f"{target} almost perfectly on their own and are kept because allow= says so", SQMWarning, stacklevel=2)
    bad = leaky.drop(allowed)
    if len(bad):
        raise LeakageError(source, [Problem("leakage", f"predicts {target} almost perfectly on its own (ROC-AUC "
                                                       f"{v:.3f} > {threshold}): probably recorded after the "
                                                       "outcome; drop it, or pass allow=[...] if you are sure",
                                            column=c) for c, v in bad.items()])
    return aucs


# ---------------------------------------------------------------------------------------------------------
# features
# ---------------------------------------------------------------------------------------------------------
def _no_future(dates: pd.Series, as_of: pd.Timestamp, table: str) -> None:
    """The leakage guard's date check: nothing dated on or after the snapshot may enter the features."""
    late = int((dates >= as_of).sum())
    if late:
        raise LeakageError(table, [Problem("leakage", f"{late} row(s) dated on or after the snapshot {as_of.date()} "
                                                      "reached the features")])


def build_features(customers: pd.DataFrame, interactions: pd.DataFrame | None, survey: pd.DataFrame | None,
                   as_of, horizon_days: int = 90, *, instrument="servqual", standards: pd.DataFrame | None = None,
                   auc_threshold: float = 0.95, allow: Sequence[str] = ()) -> pd.DataFrame:
    """One row per customer active at ``as_of``, features from data dated before ``as_of``, and the label.

    Features: ``tenure_days``, ``plan``, ``monthly_charges``, ``region``; from tickets opened before
    ``as_of``: contacts and complaints in the last 90 and 365 days, complaints per category (365 days),
    complaints not solved at first contact, repeat complaints (same category within 30 days), tickets that
    breached a service standard (response by severity, closure), days since the last complaint; from the
    latest survey answered before ``as_of``: perception and gap per dimension, overall satisfaction, NPS,
    CES and days since the survey (``has_survey`` flags customers never surveyed).

    Label ``churned``: the customer left in [as_of, as_of + horizon_days).

    Leakage guard: events dated on or after ``as_of`` never enter (checked: a later date raises :class:`LeakageError`); any feature
    whose single-feature ROC-AUC exceeds ``auc_threshold`` stops the build with :class:`LeakageError`
    naming it, unless listed in ``allow`` (then a loud warning).
    """
    as_of = pd.Timestamp(as_of)
    end = as_of + pd.Timedelta(days=horizon_days)
    c = customers
    active = (c["signup_date"] < as_of) & (c["churn_date"].isna() | (c["churn_date"] >= as_of))
    base = c.loc[active, ["customer_id", "signup_date", "plan", "monthly_charges", "region"]].copy()
    if base.empty:
        raise SQMDataError("customers", [Problem("empty", f"no customer is active at {as_of.date()}")])
    dates = [c["signup_date"].max(), c["churn_date"].max()]
    if interactions is not None and len(interactions):
        dates.append(interactions["opened_at"].max())
    if survey is not None and len(survey):
        dates.append(survey["survey_date"].max())
    observed_until = pd.Timestamp(max(dates)).normalize() + pd.Timedelta(days=1)  # the last day counts in full
    if end > observed_until:
        warnings.warn(f"the horizon ends {end.date()}, after the last date in the data ({observed_until.date()}): "
                      "churn in the unobserved part is missing from the label", SQMWarning, stacklevel=2)
    churn_date = c.set_index("customer_id").loc[base["customer_id"], "churn_date"].to_numpy()
    base["churned"] = ((churn_date >= as_of.to_datetime64()) & (churn_date < end.to_datetime64())).astype(int)
    base["tenure_days"] = (as_of - base["signup_date"]).dt.days
    feats = base.drop(columns=["signup_date"]).set_index("customer_id")

    if interactions is not None and len(interactions):
        t = interactions[interactions["opened_at"] < as_of]
        _no_future(t["opened_at"], as_of, "interactions")
        t = t[t["customer_id"].isin(feats.index)].copy()
        is_c = (t["type"] == "complaint") if "type" in t.columns else pd.Series(True, index=t.index)
        age = (as_of - t["opened_at"]).dt.days
        comp = t[is_c].sort_values(["customer_id", "opened_at"])
        g = lambda mask: t[mask].groupby("customer_id").size()  # noqa: E731
        feats["contacts_90d"] = g(age < 90)
        feats["contacts_365d"] = g(age < 365)
        feats["complaints_90d"] = g(is_c & (age < 90))
        feats["complaints_365d"] = g(is_c & (age < 365))
        # a ticket's later timestamps (response, closure) may fall after as_of: only the opening is used,
        # except for breaches, which count only tickets already closed before as_of
        closed = t["closed_at"] < as_of
        feats["unresolved_complaints_365d"] = g(is_c & (age < 365) & ~t["first_contact_resolved"].fillna(False).astype(bool))
        feats["standard_breaches_365d"] = g(is_c & (age < 365) & closed & tickets.breaches(t, standards))
        if "category" in comp.columns:
            cat = comp[(as_of - comp["opened_at"]).dt.days < 365]
            by_cat = cat.groupby(["customer_id", cat["category"].fillna("unknown").replace("", "unknown")]).size()
            by_cat = by_cat.unstack(fill_value=0)
            by_cat.columns = [f"complaints_{k}_365d" for k in by_cat.columns]
            feats = feats.join(by_cat)
            prev_same = comp.groupby(["customer_id", comp["category"].fillna("")])["opened_at"].shift()
            repeat = (comp["opened_at"] - prev_same).dt.days < 30
            feats["repeat_complaints_365d"] = comp[repeat & ((as_of - comp["opened_at"]).dt.days < 365)].groupby("customer_id").size()
        last = comp.groupby("customer_id")["opened_at"].max()
        feats["days_since_complaint"] = (as_of - last).dt.days
        count_cols = [col for col in feats.columns if col.startswith(("contacts_", "complaints_", "unresolved_",
                                                                      "standard_", "repeat_"))]
        feats[count_cols] = feats[count_cols].fillna(0)
    if survey is not None and len(survey):
        inst = load_instrument(instrument)
        sv = survey[(survey["survey_date"] < as_of) & survey["customer_id"].isin(feats.index)]
        _no_future(sv["survey_date"], as_of, "survey")
        sv = sv.sort_values("survey_date").groupby("customer_id").tail(1).set_index("customer_id")
        p = dimension_scores(sv, inst, "P").add_prefix("P_")
        s_feats = p
        if inst.has_expectations:
            e = dimension_scores(sv, inst, "E")
            s_feats = s_feats.join((dimension_scores(sv, inst, "P") - e).add_prefix("gap_"))
        for col in ("overall_sat", "nps", "ces"):
            if col in sv.columns:
                s_feats[col] = sv[col]
        s_feats["days_since_survey"] = (as_of - sv["survey_date"]).dt.days
        feats = feats.join(s_feats)
        feats["has_survey"] = feats.index.isin(sv.index).astype(int)
    feats = feats.reset_index()
    leakage_check(feats.drop(columns=["customer_id"]), "churned", threshold=auc_threshold, allow=allow,
                  source=f"features as of {as_of.date()}")
    return feats
