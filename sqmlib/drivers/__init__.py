"""Key driver analysis: which parts of service move overall satisfaction, NPS and churn most.

Relative importance follows the definitions of R's relaimpo (metrics in R² units, ``rela = FALSE``):

- ``lmg``: the Shapley decomposition of R² (the increase in R² when a driver enters, averaged over all
  orderings); sums to R².
- ``first``: squared zero-order correlation with the outcome.
- ``last``: the drop in R² when the driver is removed from the full model.
- ``betasq``: squared standardised coefficient.
- ``pratt``: standardised coefficient times the zero-order correlation; sums to R².
- ``relative_weights``: Johnson's relative weights (relaimpo's ``genizi``); sums to R².

Everything comes from the correlation matrix. Exact LMG needs R² for all 2^p subsets of drivers: they are
computed without refitting by eliminating one driver at a time (Schur complements of the correlation
matrix), breadth first over the tree of include/exclude decisions and vectorised over all nodes of a level,
about 6·2^p operations in all. Dominance analysis reads the same all-subsets table.

Its modules, lowest first: importance, models, pipeline; the package re-exports their names.
"""
from __future__ import annotations

from .importance import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
from .pipeline import *  # noqa: F401,F403
