"""All explorers of a data folder, and the served app."""
from __future__ import annotations

from typing import Callable

from .. import io
from ..render.show import use_instrument
from ..errors import SQMDataError
from .churn import ChainExplorer, ChurnExplorer
from .mystery import MysteryExplorer
from .pdca import PDCAExplorer
from .value import ValueExplorer
from .voc import FeedbackExplorer
from .survey import DriverExplorer, SurveyExplorer


# ---------------------------------------------------------------------------------------------------------
# the served app
# ---------------------------------------------------------------------------------------------------------
def explorers(data_dir=None, *, quarter: str = "", instrument: str = "", drop_careless: bool = True,
              progress: Callable[[str], None] | None = None) -> dict:
    """The explorers on a data folder (default the bundled sample), read once: survey, drivers, churn (with
    customers), the service-profit chain (with its columns), mystery shopping (with audit visits) and where the
    complaints moved (with tickets of two quarters or more), customer value (with orders) and customer feedback."""
    say = progress or (lambda msg: None)
    say("reading the data")
    folder = io.load_folder(data_dir, instrument or None)  # each table read once, for all three explorers
    folder.require("survey", purpose="the explorers")
    use_instrument(folder.instrument)  # the explorers show the instrument's wording and currency
    data = folder.without_careless() if drop_careless else folder
    out = {"survey": SurveyExplorer(data.survey, folder.instrument, quarter=quarter or None)}
    say("driver importance")
    out["drivers"] = DriverExplorer(data.survey, folder.instrument, customers=folder.customers,
                                    quarter=quarter or None)
    if folder.has("customers"):
        say("fitting the churn model")  # on every respondent, as the churn notebook does
        out["churn"] = ChurnExplorer.from_folder(folder)
    try:
        out["chain"] = ChainExplorer(data.survey, folder.instrument, quarter=quarter or None)
    except SQMDataError:  # a survey without the chain's columns: no chain tab
        pass
    if folder.visits is not None and folder.instrument.checklist is not None:
        say("audit visits")
        out["mystery"] = MysteryExplorer(folder, quarter=quarter)
    if folder.has("interactions") and folder.interactions["opened_at"].dt.to_period("Q").nunique() > 1:
        out["pdca"] = PDCAExplorer(folder)
    if folder.transactions is not None and len(folder.transactions):
        out["value"] = ValueExplorer(folder)
    if folder.feedback is not None and len(folder.feedback):
        say("customer feedback")
        out["feedback"] = FeedbackExplorer.from_folder(folder)
    return out


def app(data_dir=None, *, warm: bool = True, **kwargs):
    """All explorers in widget tabs, for a notebook in JupyterLab (``warm``: compute likely selections in the
    background). ``sqm explore`` serves the same explorers without kernels (:mod:`sqmlib.serve`)."""
    import ipywidgets as w

    exp = explorers(data_dir, **kwargs)
    tabs = w.Tab(children=[e.widget(warm=warm) for e in exp.values()])
    for i, e in enumerate(exp.values()):
        tabs.set_title(i, e.heading())
    return tabs
