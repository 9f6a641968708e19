"""Survey shapes, second half (see test_zoo_a.py): an SPSS file with value labels and user-missing codes and the
exports of Qualtrics, SurveyMonkey, Google Forms and 问卷星, each read as it is by its instrument file."""
import pytest

from zoo import check_pipelines, check_report

SHAPES = ["spss_labels", "qualtrics", "surveymonkey", "googleforms", "wjx"]


@pytest.mark.parametrize("shape", SHAPES)
def test_shape_figures(shape, tmp_path):
    """Every shape through the notebooks' pipelines in this process: its figures equal the independent ones."""
    check_pipelines(shape, tmp_path)


@pytest.mark.slow
# every shape builds through the command line in the long tier (CI); test_zoo_a.py builds one in every run
@pytest.mark.parametrize("shape", [pytest.param(s, marks=pytest.mark.long) for s in SHAPES])
def test_shape_report(shape, tmp_path):
    """The shape's whole report built by `sqm report`: the same figures, and pages that read well."""
    check_report(shape, tmp_path)
