"""Loading and validating input files.

``load_survey``, ``load_customers``, ``load_interactions``, ``load_standards``, ``load_management`` and the
mystery-shopping ``load_visits``, ``load_visit_items`` and ``load_calibration`` read
CSV (UTF-8, UTF-8 with BOM, GB18030/GBK and CP949 detected, or ``encoding=``), Excel, Parquet, SPSS ``.sav``
and Qualtrics CSV exports (two extra header rows). Every problem in a file is collected and raised together
as one :class:`~sqmlib.errors.SQMDataError` naming the file, the column, the offending values and the first
row numbers (as a spreadsheet shows them: the header is row 1). Declared missing codes become NaN. Input
files are only ever opened for reading.

Its modules, lowest first: sources, encodings, readers, checks, careless, survey, tables, visits, folder; the package
re-exports their names.
"""
from __future__ import annotations

from .sources import *  # noqa: F401,F403
from .encodings import *  # noqa: F401,F403
from .readers import *  # noqa: F401,F403
from .checks import *  # noqa: F401,F403
from .careless import *  # noqa: F401,F403
from .survey import *  # noqa: F401,F403
from .tables import *  # noqa: F401,F403
from .visits import *  # noqa: F401,F403
from .folder import *  # noqa: F401,F403
