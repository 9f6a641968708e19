"""Mystery shopping: audit visits against the service standards, with scores people can trust.

- :mod:`.agreement`: :func:`krippendorff_alpha` and :func:`icc` (agreement between shoppers).
- :mod:`.gstudy`: :func:`variance_components` (REML, crossed store and shopper effects), :func:`g_study` and its
  decision study (visits per store for a reliability of .80).
- :mod:`.scores`: item, visit, section, store and region scores with intervals, ranks with bootstrap intervals,
  item compliance, timing effects, the link to the survey's perceptions, calibration scores.
- :mod:`.pipeline`: :func:`run_mystery`, the pipeline of notebook ``09_mystery_shopping``.

Its modules, lowest first: agreement, gstudy, scores, pipeline; the package re-exports their names.
"""
from __future__ import annotations

from .agreement import *  # noqa: F401,F403
from .gstudy import *  # noqa: F401,F403
from .scores import *  # noqa: F401,F403
from .pipeline import *  # noqa: F401,F403
