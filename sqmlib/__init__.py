"""sqmlib: the logic behind the sqm service-quality notebooks.

Modules: ``instruments`` (survey instruments as data), ``io`` (loading and validation), ``synth`` (sample
data with known ground truth), ``audit`` (data audit), ``plots``, ``report`` (papermill report runner) and
``cli`` (the ``sqm`` command).
"""
from .errors import Problem, SQMDataError, SQMError, SQMReportError

__version__ = "0.1.0"
__all__ = ["Problem", "SQMDataError", "SQMError", "SQMReportError", "__version__"]
