"""sqmlib: the logic behind the sqm service-quality notebooks, in layers (each imports only from those above it):

    errors, paths, periods, results     the base: errors, folders, quarters, the result-object protocol
    instruments                         survey instruments as data
    io, sample                          loading (readers, encodings, the instrument applied, the data folder,
                                        the careless-respondent rule, drafts) and the bundled sample data
    moments                             counts, sums and cross-products where the data lives (DuckDB, Spark)
    psychometrics                       α, ω, factor models, latent and ordinal estimation, invariance, PLS
    render                              language, labels, formats, fonts, charts, safe outputs, notebook display
    audit, kpi, reliability, gaps,      one package per analysis: statistics, then the notebook pipeline
    drivers, churn, sem, summary        (``run_*``) and its result object
    runner                              the report build: papermill in one kernel, pages, index, PDFs
    explore                             the explorers and their web app
    training                            the teaching notebooks' cases and exercises
    cli                                 the ``sqm`` command

Modules that moved into a layer keep their documented import paths (``sqmlib.factors``, ``sqmlib.report``,
``sqmlib.plots``, …): :data:`MOVED` names where each lives now, and ``import sqmlib.factors`` gives that very
module.
"""
import importlib
import importlib.abc
import importlib.util
import sys

from .errors import Problem, SQMArgumentError, SQMDataError, SQMError, SQMReportError, SQMWarning

__version__ = "0.1.0"
__all__ = ["Problem", "SQMArgumentError", "SQMDataError", "SQMError", "SQMReportError", "SQMWarning",
           "__version__"]

# documented path (sqmlib.<name>) -> the module that holds it now
MOVED = {
    "draft": "io.draft", "engines": "moments.engines", "exports": "sample.exports", "factors": "psychometrics.factors",
    "fonts": "render.fonts", "formats": "render.formats", "invariance": "psychometrics.invariance",
    "labels": "render.labels", "labels_zh": "render.labels_zh", "latent": "psychometrics.latent",
    "ordinal": "psychometrics.ordinal", "outputs": "render.outputs", "pages": "runner.pages", "plots": "render.plots",
    "report": "runner", "scale": "churn.scale", "serve": "explore.serve", "show": "render.show", "synth": "sample",
    "tickets": "kpi.tickets",
}


class _Moved(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import sqmlib.<old name>`` imports the module's new home and gives that module itself."""

    def find_spec(self, fullname, path=None, target=None):
        head, _, name = fullname.partition(".")
        if head == __name__ and name in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(f"{__name__}.{MOVED[spec.name.partition('.')[2]]}")

    def exec_module(self, module):
        pass


if not any(isinstance(f, _Moved) for f in sys.meta_path):
    sys.meta_path.insert(0, _Moved())


def __getattr__(name):  # sqmlib.factors after a plain ``import sqmlib``
    if name in MOVED:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
