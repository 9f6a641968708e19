"""Operational KPIs: survey KPIs with intervals, ticket standards, control charts, NPS alerts, complaints and
maturity; :func:`run_kpis` is the pipeline of the KPI notebook."""
from __future__ import annotations

from .survey import *  # noqa: F401,F403
from .control import *  # noqa: F401,F403
from .complaints import *  # noqa: F401,F403
from .pipeline import *  # noqa: F401,F403
