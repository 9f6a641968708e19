"""Counts, sums and cross-products of the answers per segment, computed where the data lives (pandas, DuckDB,
Spark), which reliability, gaps, drivers and KPIs take in place of a DataFrame."""
from __future__ import annotations

from .spec import *  # noqa: F401,F403
from .aggregate import *  # noqa: F401,F403
from .survey import *  # noqa: F401,F403
