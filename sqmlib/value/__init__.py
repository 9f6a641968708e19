"""Customer value: RFM segments, lifetime value, and who a retention offer changes."""
from __future__ import annotations

from .rfm import *  # noqa: F401,F403
from .clv import *  # noqa: F401,F403
from .uplift import *  # noqa: F401,F403
from .engines import *  # noqa: F401,F403
from .pipeline import *  # noqa: F401,F403
