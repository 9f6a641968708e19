"""Survey shapes, first half: each builds a whole report with `sqm report`, and its headline numbers equal
independent computations (tests/zoo.py). The other half is in test_zoo_b.py, so that the two run side by side."""
import pytest

from zoo import check_report

SHAPES = ["servqual7_reverse", "servperf5_six", "ten_point", "three_column9", "oneoff_study", "zh_gb18030"]


@pytest.mark.slow
# one shape per file builds through the command line in every run; the others in the long tier (CI)
@pytest.mark.parametrize("shape", [s if s == 'servqual7_reverse' else pytest.param(s, marks=pytest.mark.long) for s in SHAPES])
def test_shape_report(shape, tmp_path):
    check_report(shape, tmp_path)
