"""Interactive explorers: pick a quarter, a segment, a dimension or a threshold and see tables and charts follow.

Three explorers, each a plain Python object with an update function and an ipywidgets front end:

- :class:`SurveyExplorer` — quarter, segment column and value, block (E, P or the gap P − E) and dimension →
  item chart with intervals, zone of tolerance, importance–performance quadrants and the item table;
- :class:`DriverExplorer` — quarter, outcome, driver level and segment → relative importance with bootstrap
  intervals and the driver matrix;
- :class:`ChurnExplorer` — threshold, customer lifetime value and offer cost → profit curve, confusion counts
  and the list of customers to contact;
- :class:`MysteryExplorer` — quarter, region and store → the audit league with bootstrap intervals, the item
  compliance heat map and a store's visits.

``view(**selection)`` computes what the explorer shows for one selection and returns a :class:`View` (tables
and chart drawers); it is what the widgets call and what the tests check. Heavy results (the statistics of a
subset of respondents, bootstrap importance, the profit curve for a CLV and offer cost) are cached per
selection, so moving back and forth between selections answers at once.

``show(live=True)`` puts the explorer at the end of a notebook: live widgets in JupyterLab, or, with
``live=False`` (papermill reports, which have no kernel behind them when read), the default view as static
charts and a table. :func:`app` assembles all three for ``make explore``.

- :class:`PDCAExplorer` — a KPI, two quarters and the columns to drill into → where the change came from;
- :class:`ValueExplorer` — quarter and RFM segment → the segments' customers and lifetime value, a segment's
  suggested action and its most valuable customers.

Its modules, lowest first: base, survey, churn, mystery, pdca, value, app; the package re-exports their names.
"""
from __future__ import annotations

from .base import *  # noqa: F401,F403
from .survey import *  # noqa: F401,F403
from .churn import *  # noqa: F401,F403
from .mystery import *  # noqa: F401,F403
from .pdca import *  # noqa: F401,F403
from .value import *  # noqa: F401,F403
from .voc import *  # noqa: F401,F403
from .app import *  # noqa: F401,F403
