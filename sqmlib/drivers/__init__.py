"""Key drivers: relative importance (LMG and relaimpo's metrics), dominance, driver models, penalty–reward and
segments; :func:`run_drivers` is the pipeline of the driver notebook."""
from __future__ import annotations

from .importance import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
from .pipeline import *  # noqa: F401,F403
