"""PLS path modelling: the service-profit chain as one structural model.

:func:`pls` estimates a PLS path model as seminr and SmartPLS define it (Lohmöller's algorithm): indicators
standardised (sd with n − 1), outer weights seeded with ones, then repeated until the summed absolute change of
the weights falls below ``tol`` (1e-7, at most 300 iterations): construct scores → inner weights by the path
weighting scheme (regression coefficients on a construct's predecessors, correlations with its successors;
centroid and factorial optional) → inner proxies → outer weights by mode A (correlation of each item with the
proxy) or mode B (regression of the proxy on the items) → weights rescaled to scores of unit variance. Path
coefficients are least squares on the final scores, loadings the item–score correlations.

Every step depends on the data only through the correlation matrix of the indicators, so the estimation runs on
that matrix, and :meth:`PLSResult.bootstrap` estimates all resamples at once: one weighted correlation matrix
per resample and the same iteration on the whole stack (no Python loop over refits).

Missing answers: replaced by the item mean (seminr's default ``mean_replacement``) or rows with any missing
answer dropped (``missing="listwise"``); the result says which.

Reliability per construct: Cronbach's α (standardised items), composite reliability ρ_c, AVE and
Dijkstra–Henseler's ρ_A, as seminr reports them; HTMT on absolute item correlations (semTools' default).

:func:`satisfaction_index` puts constructs on the ACSI 0–100 scale from unstandardised weights and the items'
scale; :func:`ipma` is the importance–performance map of a target construct (importance: total effect;
performance: the 0–100 index).

Its modules, lowest first: chain; the package re-exports their names.
"""
from __future__ import annotations

from .chain import *  # noqa: F401,F403
from ..psychometrics.pls import *  # noqa: F401,F403
from ..psychometrics.pls_index import *  # noqa: F401,F403
