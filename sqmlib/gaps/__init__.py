"""SERVQUAL gap analysis: where perceived service falls short of expectations, how sure we are, for whom,
and what to fix first.

All item, dimension and overall gaps of a survey are computed together from respondent × item arrays (no loop
over rows): paired t statistics, intervals and effect sizes column by column, and the Wilcoxon signed-rank test
from counts of the (integer) differences. Functions return tidy DataFrames; :func:`ipa` returns a small result
object.

Its modules, lowest first: paired, tables, ipa, segments, pipeline; the package re-exports their names.
"""
from __future__ import annotations

from .paired import *  # noqa: F401,F403
from .tables import *  # noqa: F401,F403
from .ipa import *  # noqa: F401,F403
from .segments import *  # noqa: F401,F403
from .pipeline import *  # noqa: F401,F403
from ..kpi.tickets import standard_attainment  # noqa: F401  (gap 3: re-exported where the gaps model lives)
