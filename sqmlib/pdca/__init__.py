"""PDCA: where a KPI moved, the actions taken, and whether they worked."""
from __future__ import annotations

from .effects import *  # noqa: F401,F403
from .change import *  # noqa: F401,F403
from .series import *  # noqa: F401,F403
from .pipeline import *  # noqa: F401,F403
