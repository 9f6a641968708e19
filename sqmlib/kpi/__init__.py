"""Operational KPIs, their monitoring and the three-level maturity rubric.

- :func:`survey_kpis`: NPS (with a multinomial interval), CSAT top-2-box (Wilson interval) and CES per period
  and unit; :func:`ticket_kpis`: first-contact resolution, response and handling times, repeat-complaint rate,
  complaints per 1,000 customers; standard attainment comes from :func:`sqmlib.gaps.standard_attainment`.
- :func:`p_chart`, :func:`imr_chart` and :func:`western_electric`: control charts and their rules.
- :func:`nps_alerts`: the alert rule quality teams use — a unit's NPS more than 30 % below its benchmark for
  3 consecutive periods (all three numbers configurable).
- :func:`pareto` and :class:`CategoryClassifier`: complaint causes, and missing categories filled from text.
- :func:`maturity`: a transparent rubric placing each unit at level 1, 2 or 3 with the evidence.

Its modules, lowest first: survey, control, complaints, pipeline; the package re-exports their names.
"""
from __future__ import annotations

from .survey import *  # noqa: F401,F403
from .control import *  # noqa: F401,F403
from .complaints import *  # noqa: F401,F403
from .pipeline import *  # noqa: F401,F403
from .tickets import active_customers, repeat_flags, standard_attainment, ticket_kpis  # noqa: F401  (re-exported)
