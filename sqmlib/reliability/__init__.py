"""Reliability and validity of a survey: the statistics of :mod:`sqmlib.psychometrics` (α, ω, CFA, …) applied
to an instrument's blocks; :func:`run_reliability` is the pipeline of the reliability notebook."""
from __future__ import annotations

from .tables import *  # noqa: F401,F403
from .pipeline import *  # noqa: F401,F403
from ..psychometrics.alpha import *  # noqa: F401,F403  (reliability.cronbach_alpha, reliability.omega)
from ..psychometrics.factors import *  # noqa: F401,F403  (reliability.cfa, reliability.kmo, …)
