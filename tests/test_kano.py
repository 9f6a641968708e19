"""The KANO questionnaire: the evaluation table, counts, category rules, Better/Worse, Fong's test, the continuous
view, the instrument's kano: pairs (codes and option texts, a half pair refused), the draft recognising pairs,
the audit's findings and the planted categories of the sample recovered."""
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from sqmlib import audit, drivers, io, kano
from sqmlib.errors import SQMDataError
from sqmlib.io.draft import draft_instrument
from sqmlib.sample.seeds import KANO_ATTRIBUTES, KANO_PLANTED, KANO_QUESTIONABLE, KANO_REVERSE_BACKGROUND, KANO_SEGMENT

from conftest import ROOT

# Berger et al. (1993), table 1, written out cell by cell (functional answer, dysfunctional answer) -> category
TABLE = {
    (1, 1): "Q", (1, 2): "A", (1, 3): "A", (1, 4): "A", (1, 5): "O",
    (2, 1): "R", (2, 2): "I", (2, 3): "I", (2, 4): "I", (2, 5): "M",
    (3, 1): "R", (3, 2): "I", (3, 3): "I", (3, 4): "I", (3, 5): "M",
    (4, 1): "R", (4, 2): "I", (4, 3): "I", (4, 4): "I", (4, 5): "M",
    (5, 1): "R", (5, 2): "R", (5, 3): "R", (5, 4): "R", (5, 5): "Q",
}


def test_every_answer_pair_is_classified_as_the_evaluation_table_says():
    pairs = list(itertools.product(range(1, 6), repeat=2)) + [(np.nan, 3), (2, np.nan)]
    f = pd.DataFrame({"x": [p[0] for p in pairs]})
    d = pd.DataFrame({"x": [p[1] for p in pairs]})
    got = kano.classify(f, d)["x"].tolist()
    assert got[:25] == [TABLE[p] for p in pairs[:25]]
    assert got[25:] == [None, None]  # half a pair: no category


def test_published_example_better_worse():
    """Sauerwein, Bailom, Matzler and Hinterhuber (1996), "The Kano model: how to delight your customers": the
    ski example's tabulation in percent (edge sharpness: A 7, O 32.3, M 49.3, I 9.5, R 0.3, Q 1.3; category M)
    and its customer-satisfaction coefficients, extent of satisfaction 0.40 and of dissatisfaction −0.83."""
    counts = pd.DataFrame({"A": [7.0], "O": [32.3], "M": [49.3], "I": [9.5], "R": [0.3], "Q": [1.3]},
                          index=["edge sharpness"])
    t = kano.kano_coefficients(counts)
    assert t.loc["edge sharpness", "category"] == "M"
    assert round(t.loc["edge sharpness", "better"], 2) == 0.40
    assert round(t.loc["edge sharpness", "worse"], 2) == -0.83
    # closed forms
    assert t.loc["edge sharpness", "better"] == pytest.approx((7 + 32.3) / (7 + 32.3 + 49.3 + 9.5), abs=1e-12)
    assert t.loc["edge sharpness", "worse"] == pytest.approx(-(32.3 + 49.3) / (7 + 32.3 + 49.3 + 9.5), abs=1e-12)
    assert t.loc["edge sharpness", "category_strength"] == pytest.approx((49.3 - 32.3) / 99.7, abs=1e-12)  # the printed shares add to 99.7
    assert t.loc["edge sharpness", "total_strength"] == pytest.approx((7 + 32.3 + 49.3) / 99.7, abs=1e-12)


def test_tie_rule_plain_mode_and_fong():
    counts = pd.DataFrame({"A": [30, 40, 0], "O": [40, 38, 0], "M": [40, 12, 0], "I": [10, 10, 0], "R": [0, 0, 0],
                           "Q": [0, 0, 0]}, index=["tie", "close", "empty"])
    t = kano.kano_coefficients(counts)
    assert t.loc["tie", "category"] == "M" and t.loc["tie", "mode"] == "M/O"  # M > O > A > I
    assert t.loc["close", "category"] == "A" and t.loc["close", "second"] == "O"
    # Fong (1996): |a − b| < 1.65·√((a+b)(2n−a−b)/(2n)) → not significant
    a, b, n = 40, 38, 100
    assert not t.loc["close", "fong_significant"]
    assert abs(a - b) < 1.65 * math.sqrt((a + b) * (2 * n - a - b) / (2 * n))
    assert kano.fong_differs(60, 20, 100)  # 40 ≥ 1.65·√(80·120/200) = 11.4
    assert t.loc["empty", "category"] is None and math.isnan(t.loc["empty", "better"])


def test_kano_table_equals_counting_by_hand():
    rng = np.random.default_rng(3)
    f = pd.DataFrame(rng.integers(1, 6, (400, 3)), columns=list("xyz")).astype(float)
    d = pd.DataFrame(rng.integers(1, 6, (400, 3)), columns=list("xyz")).astype(float)
    f.iloc[:7, 0] = np.nan
    t = kano.kano_table(f, d)
    for attr in "xyz":
        cats = [TABLE[(int(a), int(b))] for a, b in zip(f[attr], d[attr]) if a == a]
        for c in "AOMIRQ":
            assert t.loc[attr, c] == cats.count(c)
        aomi = sum(cats.count(c) for c in "AOMI")
        assert t.loc[attr, "better"] == pytest.approx((cats.count("A") + cats.count("O")) / aomi, abs=1e-12)
        assert t.loc[attr, "worse"] == pytest.approx(-(cats.count("O") + cats.count("M")) / aomi, abs=1e-12)


def test_continuous_scores_by_hand():
    f = pd.DataFrame({"x": [1.0, 1, 2, 3, 5]})
    d = pd.DataFrame({"x": [5.0, 3, 5, 5, 1]})  # O, A, M, M, R (left out)
    s = kano.continuous(f, d)
    fun = [4, 4, 2, 0]
    dys = [4, 0, 4, 4]
    assert s.loc["x", "functional"] == pytest.approx(np.mean(fun))
    assert s.loc["x", "dysfunctional"] == pytest.approx(np.mean(dys))
    assert s.loc["x", "functional_sd"] == pytest.approx(np.std(fun, ddof=1))
    assert s.loc["x", "n"] == 4 and s.loc["x", "quadrant"] == "O"


def _expected(planted: str) -> dict:
    """The generator's category probabilities of an attribute planted as ``planted`` (before the questionable
    answers replace 2 % of the pairs), and Better/Worse from them."""
    others = [c for c in "AOMI" if c != planted]
    rev = KANO_REVERSE_BACKGROUND if planted != "R" else 0.0
    p = {c: (1 - KANO_PLANTED - rev) / len(others) for c in others}
    p[planted] = KANO_PLANTED
    p["R"] = p.get("R", 0.0) + rev
    aomi = p["A"] + p["O"] + p["M"] + p["I"]
    return {"better": (p["A"] + p["O"]) / aomi, "worse": -(p["O"] + p["M"]) / aomi}


def test_the_sample_s_planted_categories_are_recovered():
    folder = io.load_folder(ROOT / "data" / "sample")
    r = drivers.run_drivers(folder, n_boot=0)
    q = r.questionnaire
    assert q is not None and q.respondents > 1800
    for attr, (planted, dim, _, _) in KANO_ATTRIBUTES.items():
        row = q.coefficients.loc[attr]
        assert row["category"] == planted, attr
        assert row["fong_significant"], attr
        assert q.dimension_of[attr] == dim
        if planted != "R" and attr not in KANO_SEGMENT:
            exp = _expected(planted)
            assert row["better"] == pytest.approx(exp["better"], abs=0.035), attr
            assert row["worse"] == pytest.approx(exp["worse"], abs=0.035), attr
    assert q.questionable_share == pytest.approx(KANO_QUESTIONABLE, abs=0.006)
    seg = q.segments.set_index(["segment", "attribute"])["category"]
    assert seg[("South", "callback_1h")] == "M" and seg[("North", "callback_1h")] == "O"
    assert any("South" in f and "callback_1h" in f for f in q.findings())
    assert set(q.standards().index) == {"clean_store", "correct_bill"}
    m = r.metrics().kano_questionnaire
    assert m["categories"]["clean_store"] == "must-be" and m["respondents"] == q.respondents


def _kano_survey_file(tmp_path, answers: str = "texts"):
    rng = np.random.default_rng(5)
    n = 60
    rows = {"respondent_id": [f"R{i}" for i in range(n)], "survey_date": ["2026-08-01"] * n}
    zh = {1: "我很喜欢", 2: "理所当然", 3: "无所谓", 4: "能忍受", 5: "我很不喜欢"}
    en = {1: "I like it", 2: "I expect it", 3: "I am neutral", 4: "I can tolerate it", 5: "I dislike it"}
    f = rng.integers(1, 6, n)
    d = rng.integers(1, 6, n)
    if answers == "texts":
        rows["如果提供免费停车，您觉得如何？"] = [zh[v] for v in f]
        rows["如果不提供免费停车，您觉得如何？"] = [zh[v] for v in d]
        rows["If the branch has a coffee corner, how do you feel?"] = [en[v] for v in d]
        rows["If the branch does not have a coffee corner, how do you feel?"] = [en[v] for v in f]
    rows["overall_sat"] = rng.integers(1, 8, n)
    path = tmp_path / "kano.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path, f, d


def _kano_instrument(folder, columns: str, attributes: str):
    """An instrument of KANO pairs alone (no rating items; overall satisfaction as the outcome) in ``folder``:
    ``columns`` and ``attributes`` are YAML lines under ``columns:`` and ``kano: attributes:``."""
    path = folder / "inst.yaml"
    path.write_text("name: k\nscale: {min: 1, max: 7}\nblocks: {}\nitems: []\n"
                    "columns:\n" + columns + "  overall_sat: {type: rating, min: 1, max: 7, role: outcome}\n"
                    "kano:\n  attributes:\n" + attributes, encoding="utf-8")
    return path


def test_option_texts_in_both_languages_are_read_and_classified(tmp_path):
    path, f, d = _kano_survey_file(tmp_path)
    inst = _kano_instrument(tmp_path, "  respondent_id: {type: id}\n  survey_date: {type: date}\n",
                            "    parking:\n      text: {en: Free parking, zh: 免费停车}\n"
                            "      sources: {functional: '如果提供免费停车*', dysfunctional: '如果不提供免费停车*'}\n"
                            "    coffee:\n      text: Coffee corner\n"
                            "      sources: {functional: 'If the branch has a coffee*', "
                            "dysfunctional: 'If the branch does not*'}\n")
    s = io.load_survey(path, inst)
    assert s["KF_parking"].tolist() == f.astype(float).tolist()
    assert s["KD_coffee"].tolist() == f.astype(float).tolist()
    t = kano.kano_table(s[["KF_parking"]].set_axis(["parking"], axis=1), s[["KD_parking"]].set_axis(["parking"], axis=1))
    cats = [TABLE[(a, b)] for a, b in zip(f, d)]
    assert t.loc["parking", "M"] == cats.count("M") and t.loc["parking", "n"] == len(f)


def test_a_pair_with_one_question_missing_is_one_clear_problem(tmp_path):
    path, _, _ = _kano_survey_file(tmp_path)
    inst = _kano_instrument(tmp_path, "", "    parking:\n"
                            "      sources: {functional: '如果提供免费停车*', dysfunctional: 'no such header'}\n")
    with pytest.raises(SQMDataError) as e:
        io.load_survey(path, inst)
    problems = [p for p in e.value.problems if p.kind == "kano_pair"]
    assert len(problems) == 1 and "'parking'" in problems[0].message and "'no such header'" in problems[0].message
    assert problems[0].column == "KD_parking"
    assert "\n" not in problems[0].message


def test_instrument_mistakes_in_the_kano_section_are_named(tmp_path):
    (tmp_path / "inst.yaml").write_text(
        "name: k\nscale: {min: 1, max: 7}\nblocks: {}\nitems: []\ndimensions: {staff: []}\n"
        "columns:\n  overall_sat: {type: rating, min: 1, max: 7, role: outcome}\n"
        "kano:\n  attributes:\n    parking: {dimension: staf, wording: x}\n  answers: {7: maybe}\n",
        encoding="utf-8")
    from sqmlib.instruments import load

    with pytest.raises(SQMDataError) as e:
        load(tmp_path / "inst.yaml")
    text = str(e.value)
    assert "wording" in text and "did you mean" in text


def test_the_draft_recognises_kano_pairs_and_its_instrument_reads_them(tmp_path):
    path, f, d = _kano_survey_file(tmp_path)
    text = draft_instrument(path)
    assert "kano:" in text
    (tmp_path / "draft.yaml").write_text(text, encoding="utf-8")
    s = io.load_survey(path, tmp_path / "draft.yaml")
    kf = sorted(c for c in s.columns if c.startswith("KF_"))
    assert len(kf) == 2
    values = {tuple(s[c].tolist()) for c in kf}
    assert tuple(f.astype(float).tolist()) in values and tuple(d.astype(float).tolist()) in values
    assert not [c for c in s.columns if "如果" in c or c.startswith("If the")]  # every question claimed


def test_audit_names_questionable_and_reverse_answers():
    folder = io.load_folder(ROOT / "data" / "sample", tables=["survey"])
    a = audit.run_audit(folder)
    assert a.kano.loc["sms_offers", "reverse_share"] > 0.4
    found = a.findings()
    assert any("contradict" in f and "KANO" in f for f in found)
    assert any("sms_offers" in f and "Reverse" in f for f in found)
    assert a.metrics().kano_questionable_share == pytest.approx(KANO_QUESTIONABLE, abs=0.006)
