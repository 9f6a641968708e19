import re

import pytest

from sqmlib import SQMArgumentError, SQMDataError, instruments

from conftest import KIOSK_INSTRUMENT, ROOT


def test_servqual_structure():
    sq = instruments.load("servqual")
    assert sq.dimensions == {
        "tangibles": ("01", "02", "03", "04"),
        "reliability": ("05", "06", "07", "08", "09"),
        "responsiveness": ("10", "11", "12", "13"),
        "assurance": ("14", "15", "16", "17"),
        "empathy": ("18", "19", "20", "21", "22"),
    }
    assert sq.items == tuple(f"{i:02d}" for i in range(1, 23))
    assert sq.scale == (1, 7)
    assert dict(sq.missing_codes) == {8.0: "don't know", 9.0: "not applicable"}
    assert set(sq.blocks) == {"E", "P", "A", "D"}
    assert sq.blocks["A"].optional and not sq.blocks["P"].optional
    assert sq.item_columns("P", "tangibles") == ["P01", "P02", "P03", "P04"]
    assert sq.importance_columns() == ["I_tangibles", "I_reliability", "I_responsiveness", "I_assurance", "I_empathy"]
    assert sq.segments == ["channel", "region", "store"]
    assert sq.outcomes == ["overall_sat", "nps", "ces"]
    # wording in English and Simplified Chinese for every item
    for i in sq.items:
        assert sq.text(i, "en") and re.search(r"[\u4e00-\u9fff]", sq.text(i, "zh"))
    assert sq.dimension_text["empathy"]["zh"] == "移情性"
    assert sq.dimension_of("11") == "responsiveness"


def test_servperf_has_perceptions_only():
    sp = instruments.load("servperf")
    assert list(sp.blocks) == ["P"]
    assert not sp.has_expectations
    assert sp.dimensions == instruments.load("servqual").dimensions
    with pytest.raises(SQMArgumentError, match="no block .E."):
        sp.item_columns("E")


def test_available_and_unknown_name():
    assert {"servqual", "servperf"} <= set(instruments.available())
    with pytest.raises(SQMDataError, match="no built-in instrument"):
        instruments.load("no_such_instrument")


def test_kiosk_instrument_file():
    k = instruments.load(KIOSK_INSTRUMENT)
    assert len(k.items) == 24 and set(k.blocks) == {"E", "P", "IMP", "SAT"}
    assert k.dimensions["security"] == ("19", "20", "21")
    assert {i for d in k.dimensions.values() for i in d}.isdisjoint({"09", "12", "23", "24"})
    assert k.text("01", "ko").startswith("사용자가")


def test_readme_example_instrument_loads(tmp_path):
    text = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    p = tmp_path / "my.yaml"
    p.write_text(block, encoding="utf-8")
    inst = instruments.load(p)
    assert inst.dimensions["place"] == ("03", "04") and inst.reverse == ("04",)
    assert inst.item_columns("P") == ["P01", "P02", "P03", "P04"]
    assert inst.text("02") == "Staff know the products"


def test_invalid_instrument_lists_every_problem(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(
        "name: bad\nscale: {min: 1, max: 5}\nmissing_codes: {3: dont know}\nblocks: {P: {}}\n"
        "items: ['01', '02']\ndimensions: {a: ['01', '07'], b: ['01']}\nreverse: ['09']\n"
        "columns: {x: {type: nonsense}}\n",
        encoding="utf-8")
    with pytest.raises(SQMDataError) as e:
        instruments.load(p)
    msg = str(e.value)
    assert str(p) in msg
    for expected in ("inside the scale", "unknown items ['07']", "in two dimensions", "['09']", "nonsense"):
        assert expected in msg
    assert len(e.value.problems) == 5


def test_missing_keys(tmp_path):
    p = tmp_path / "empty.yaml"
    p.write_text("name: x\n", encoding="utf-8")
    with pytest.raises(SQMDataError, match="required key 'scale'"):
        instruments.load(p)
