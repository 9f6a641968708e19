"""The service-profit chain by PLS path modelling: the estimation of :mod:`sqmlib.psychometrics.pls` and
:func:`run_chain`, the pipeline of notebook 07."""
from __future__ import annotations

from .chain import *  # noqa: F401,F403
from ..psychometrics.pls import *  # noqa: F401,F403
from ..psychometrics.pls_index import *  # noqa: F401,F403
