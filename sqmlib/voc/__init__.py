"""Voice of the customer: reviews, tickets, call notes and survey comments read for service aspects and their
sentiment, rising issues found week by week."""
from __future__ import annotations

from .text import *  # noqa: F401,F403
from .lexicon import *  # noqa: F401,F403
from .aspects import *  # noqa: F401,F403
from .polarity import *  # noqa: F401,F403
from .rising import *  # noqa: F401,F403
from .pipeline import *  # noqa: F401,F403
from .weekly import *  # noqa: F401,F403
