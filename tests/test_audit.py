import numpy as np
import pandas as pd
import pytest

from sqmlib import SQMArgumentError, audit, instruments, io


def frame():
    inst = instruments.load("servperf")
    rng = np.random.default_rng(1)
    p = rng.integers(1, 8, (6, 22)).astype(float)
    p[0] = 4  # straight-liner
    p[1] = 7
    p[1, :10] = np.nan  # only 12 of 22 answered: too few to flag
    p[2] = 5
    p[2, 0] = np.nan  # 21 answered, all 5: flagged
    df = pd.DataFrame(p, columns=inst.item_columns("P"))
    df["duration_sec"] = [60, 500, 520, 610, 480, np.nan]
    df["quarter"] = ["2026Q2", "2026Q2", "2026Q3", "2026Q3", "2026Q3", "2026Q3"]
    return df, inst


def test_flag_straightliners():
    df, inst = frame()
    assert audit.flag_straightliners(df, inst).tolist() == [True, False, True, False, False, False]
    assert audit.flag_straightliners(df, inst, min_answered=12).tolist()[:3] == [True, True, True]


def test_flag_too_fast():
    df, _ = frame()
    assert audit.too_fast_threshold(df) == pytest.approx(500 / 3)  # median of the five durations
    assert audit.flag_too_fast(df).tolist() == [True, False, False, False, False, False]
    assert audit.flag_too_fast(df, 505).tolist() == [True, True, False, False, True, False]
    assert not audit.flag_too_fast(df.drop(columns="duration_sec")).any()


def test_select_quarter():
    df, _ = frame()
    q, sub = audit.select_quarter(df)
    assert q == "2026Q3" and len(sub) == 4
    with pytest.raises(SQMArgumentError, match="2026Q2, 2026Q3"):
        audit.select_quarter(df, "2025Q1")
    q, sub = audit.select_quarter(df.drop(columns="quarter"))
    assert q == "" and len(sub) == 6


def test_completeness_counts_codes(small_dir):
    s = io.load_survey(small_dir / "survey.csv")
    comp = audit.completeness(s, "servqual")
    assert len(comp) == 88  # E, P, A, D
    raw = pd.read_csv(small_dir / "survey.csv")
    row = comp.set_index("column").loc["P07"]
    assert row["don't know"] == (raw["P07"] == 8).sum()
    assert row["not applicable"] == (raw["P07"] == 9).sum()
    assert row["blank"] == raw["P07"].isna().sum()
    assert row["answered"] == raw["P07"].between(1, 7).sum()
    # a filtered table has no per-code counts (they were counted on the whole file)
    assert "blank" not in audit.completeness(s.head(10), "servqual").columns


def test_run_audit(small_dir):
    s = io.load_survey(small_dir / "survey.csv")
    r = audit.run_audit(s, "servqual")
    assert r.quarter == "2026Q3" and r.n_quarter == 200 and r.n_file == 800
    m = r.metrics()
    assert m.respondents_per_quarter == {"2025Q4": 200, "2026Q1": 200, "2026Q2": 200, "2026Q3": 200}
    sl = audit.flag_straightliners(s, "servqual")[s["quarter"] == "2026Q3"].sum()
    assert m.straightliners == sl
    assert r.careless.loc["2026Q3", "straightliners"] == sl
    assert set(r.responses) == {"quarter", "channel", "region", "store"}
    assert r.responses["region"].loc["total", "total"] == 800
    assert any("too fast" in f for f in r.findings())
    assert "<ul>" in r._repr_html_()


def test_select_segment_and_careless():
    df, inst = frame()
    df["region"] = ["N", "S", "S", "N", "S", "N"]
    assert len(audit.select_segment(df, "region=S")) == 3
    assert len(audit.select_segment(df, "")) == 6
    with pytest.raises(SQMArgumentError, match="values: N, S"):
        audit.select_segment(df, "region=X")
    with pytest.raises(ValueError, match="column=value"):
        audit.select_segment(df, "region")
    assert audit.careless(df, inst).tolist() == [True, False, True, False, False, False]
