"""Reliability and validity of survey scales.

Everything here works from one covariance matrix: Cronbach's α with all item statistics in closed form,
Guttman's λ6, ω from a one-factor (and bifactor) ML model, the gap-score reliability, the reliability table of
a SERVQUAL-type survey, item diagnostics and conclusions in plain language, and :func:`run_reliability`, the
pipeline of the reliability notebook. Factor models (CFA, EFA, KMO, Bartlett, HTMT) live in
:mod:`sqmlib.factors` and are re-exported here.

Definitions follow R's psych (``alpha``, ``KMO``, ``cortest.bartlett``) and lavaan (ML estimation with the
sample covariance divided by N, χ² = N·F_ML); the tests check them against pingouin, closed forms and the
published lavaan results for the Holzinger–Swineford (1939) model.

Its modules, lowest first: tables, pipeline; the package re-exports their names.
"""
from __future__ import annotations

from .tables import *  # noqa: F401,F403
from .pipeline import *  # noqa: F401,F403
from ..psychometrics.alpha import *  # noqa: F401,F403  (reliability.cronbach_alpha, reliability.omega)
from ..psychometrics.factors import *  # noqa: F401,F403  (reliability.cfa, reliability.kmo, …)
from ..psychometrics.invariance import InvarianceResult, invariance  # noqa: F401  (re-exported)
