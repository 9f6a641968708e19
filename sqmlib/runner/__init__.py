"""The quarterly report: run every report notebook with papermill and link the results.

:func:`build` executes each ``notebooks/NN_*.ipynb`` (kernel ``python3``, with an execution timeout) into a
temporary folder beside the target, renders each executed notebook to HTML without code cells, writes
``index.html`` with each notebook's headline figures (read from the ``metrics.json`` it wrote) and
``provenance.json``, and only then renames the folder to ``<out_dir>/<quarter>``. An existing quarter is
never replaced unless ``force=True``; a failing notebook raises :class:`SQMReportError` naming the notebook
and the cell, and leaves nothing behind.

Notebooks call :func:`write_metrics` to record their key figures.

Its modules, lowest first: notebook, index, logs, folders, kernel, build; the package re-exports their names.
"""
from __future__ import annotations

from .notebook import *  # noqa: F401,F403
from .index import *  # noqa: F401,F403
from .logs import *  # noqa: F401,F403
from .folders import *  # noqa: F401,F403
from .kernel import *  # noqa: F401,F403
from .build import *  # noqa: F401,F403
