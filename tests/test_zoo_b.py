"""Survey shapes, second half (see test_zoo_a.py): an SPSS file with value labels and user-missing codes and the
exports of Qualtrics, SurveyMonkey, Google Forms and 问卷星, each read as it is by its instrument file."""
import pytest

from zoo import check_report

SHAPES = ["spss_labels", "qualtrics", "surveymonkey", "googleforms", "wjx"]


@pytest.mark.slow
# one shape per file builds through the command line in every run; the others in the long tier (CI)
@pytest.mark.parametrize("shape", [s if s == 'wjx' else pytest.param(s, marks=pytest.mark.long) for s in SHAPES])
def test_shape_report(shape, tmp_path):
    check_report(shape, tmp_path)
