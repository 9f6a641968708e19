"""The explorers: interactive views of survey, drivers, chain and churn, in a notebook or as a served app."""
from __future__ import annotations

from .base import *  # noqa: F401,F403
from .survey import *  # noqa: F401,F403
from .churn import *  # noqa: F401,F403
from .app import *  # noqa: F401,F403
