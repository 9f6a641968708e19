"""Survey shapes, first half: each builds a whole report with `sqm report`, and its headline numbers equal
independent computations (tests/zoo.py). The other half is in test_zoo_b.py, so that the two run side by side."""
import pytest

from zoo import check_pipelines, check_report

SHAPES = ["servqual7_reverse", "servperf5_six", "ten_point", "three_column9", "oneoff_study", "zh_gb18030"]


@pytest.mark.parametrize("shape", SHAPES)
def test_shape_figures(shape, tmp_path):
    """Every shape through the notebooks' pipelines in this process: its figures equal the independent ones."""
    check_pipelines(shape, tmp_path)


@pytest.mark.slow
# every shape builds through the command line in the long tier (CI); in every run, the shapes go through the
# pipelines above and the small sample through the command line (tests/test_report.py)
@pytest.mark.long
@pytest.mark.parametrize("shape", SHAPES)
def test_shape_report(shape, tmp_path):
    """The shape's whole report built by `sqm report`: the same figures, and pages that read well."""
    check_report(shape, tmp_path)
