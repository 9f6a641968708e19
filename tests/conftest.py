from pathlib import Path

import pytest

from sqmlib import synth

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
KIOSK = SHARED / "kiosk_servqual_kr.csv"
KIOSK_INSTRUMENT = ROOT / "data" / "instruments" / "kiosk_servqual_kr.yaml"

SMALL = synth.SynthConfig(seed=11, n_customers=800, respondents_per_quarter=200, n_managers=4)


@pytest.fixture(scope="session")
def small_data():
    """A small generated dataset (tables in memory and ground truth)."""
    return synth.generate(SMALL)


@pytest.fixture(scope="session")
def small_dir(tmp_path_factory, small_data):
    """The small dataset written to a folder, as a user's data folder would be."""
    out = tmp_path_factory.mktemp("small_data")
    small_data.save(out)
    return out


def needs_shared(path: Path):
    return pytest.mark.skipif(not path.exists(), reason=f"{path} is absent (public datasets live in ../shared)")

