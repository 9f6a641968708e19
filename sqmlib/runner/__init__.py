"""The runner: report notebooks built with papermill in one kernel, their pages, the index, PDFs and provenance.

Its documented path is ``sqmlib.report``; notebooks call :func:`save` (``report.save(result, out_dir)``)."""
from __future__ import annotations

from .notebook import *  # noqa: F401,F403
from .index import *  # noqa: F401,F403
from .logs import *  # noqa: F401,F403
from .folders import *  # noqa: F401,F403
from .kernel import *  # noqa: F401,F403
from .build import *  # noqa: F401,F403
