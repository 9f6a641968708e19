"""Gap analysis: SERVQUAL gaps (P − E) with intervals and tests, zone of tolerance, importance–performance,
segments, trends and the gaps model; :func:`run_gaps` is the pipeline of the gap notebook."""
from __future__ import annotations

from .paired import *  # noqa: F401,F403
from .tables import *  # noqa: F401,F403
from .ipa import *  # noqa: F401,F403
from .segments import *  # noqa: F401,F403
from .pipeline import *  # noqa: F401,F403
