"""sqmlib: the logic behind the sqm service-quality notebooks.

Data: ``instruments`` (survey instruments as data), ``io`` (loading and validation; ``io.load_folder`` gives a
:class:`~sqmlib.io.DataFolder`), ``periods`` (quarters and months), ``synth`` (sample data with known ground
truth). Analyses, each with a ``run_*`` pipeline returning a result object: ``audit.run_audit``,
``reliability.run_reliability``, ``gaps.run_gaps``, ``drivers.run_drivers``, ``churn.run_churn``,
``kpi.run_kpis``, ``sem.run_chain`` (PLS path modelling of the service-profit chain), ``summary.run_summary``.
Building blocks: ``factors`` (factor models, polychoric correlations), ``tickets`` (service standards and
response times), ``moments`` and ``engines`` (DuckDB/Spark), ``scale``. Front ends: ``show`` (notebook
display), ``outputs`` (safe CSV, Excel and HTML), ``plots``, ``explore`` and ``serve`` (the explorers and their
web app), ``training``, ``report`` and ``cli``.
"""
from .errors import Problem, SQMArgumentError, SQMDataError, SQMError, SQMReportError, SQMWarning

__version__ = "0.1.0"
__all__ = ["Problem", "SQMArgumentError", "SQMDataError", "SQMError", "SQMReportError", "SQMWarning",
           "__version__"]
