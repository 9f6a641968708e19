"""Churn prediction: which customers will leave, why, what keeping them is worth.

- :func:`build_features`: one row per customer active at ``as_of`` with features dated before ``as_of`` only
  and the label "churned within the horizon", guarded against leakage.
- :func:`fit_churn_model`: a scikit-learn pipeline (impute, scale, one-hot; logistic regression or gradient
  boosting) with stratified K-fold out-of-fold predictions and an optional time-based holdout.
- :func:`empc`, :func:`mpc`, :func:`profit_curve`: profit-based evaluation (Verbraken, Verbeke & Baesens 2013).
- :func:`permutation_importance_grouped`, :func:`odds_ratios`, :func:`risk_list`: explanations and the
  contact list.
- :func:`km_curves`, :func:`cox_model`, :func:`conditional_survival`: time to churn (lifelines).

Its modules, lowest first: features, profit, model, survival, pipeline; the package re-exports their names.
"""
from __future__ import annotations

from .features import *  # noqa: F401,F403
from .profit import *  # noqa: F401,F403
from .model import *  # noqa: F401,F403
from .survival import *  # noqa: F401,F403
from .pipeline import *  # noqa: F401,F403
