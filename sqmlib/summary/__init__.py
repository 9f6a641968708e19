"""The quarterly summary: one page for the quality manager, computed from the other analyses' typed metrics.

:func:`run_summary` takes the metrics of the audit, reliability, gap, driver, churn and KPI analyses of this
quarter (and, when there is one, of the previous quarter's report) as the dataclasses their ``metrics()``
return, plus the data folder for the headline comparison, and gives the headline tiles, the findings, what
changed since the previous report and the list of actions. :func:`read_report` reads a report folder's
``metrics.json`` files back into those dataclasses, so a renamed metric fails here, in a unit test, not in a
report build.
"""
from .report import (
    ITEM_ANALYSES,
    METRICS,
    NEGLIGIBLE_AUC_DROP,
    NOTEBOOK,
    OPTIONAL_ANALYSES,
    SummaryMetrics,
    SummaryResult,
    headline_tiles,
    maturity_meaning,
    parse_metrics,
    read_previous,
    read_report,
    run_summary,
    tile_scales,
)
from .todo import REVISIT_SHARE_WANTED, ActionList

__all__ = ["ITEM_ANALYSES", "METRICS", "NEGLIGIBLE_AUC_DROP", "NOTEBOOK", "OPTIONAL_ANALYSES", "REVISIT_SHARE_WANTED",
           "ActionList", "SummaryMetrics", "SummaryResult", "headline_tiles", "maturity_meaning", "parse_metrics",
           "read_previous", "read_report", "run_summary", "tile_scales"]
