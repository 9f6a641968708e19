"""Training notebooks: exercises that answer back, quizzes, two languages, the case data, and the notebooks
themselves (committed outputs validated by nbval; every lesson rendered by papermill in both languages and
both versions)."""
import json
import re
import subprocess
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import papermill as pm
import pytest

from conftest import ROOT, one_cell_notebook
from sqmlib import drivers, gaps, kpi, plots, training
from sqmlib.render import labels, seed_plots
from sqmlib.training import cases, exercises, i18n

TRAINING_DIR = ROOT / "notebooks" / "training"
LESSONS = {"01_servqual_gaps": "servqual_gaps", "02_restaurant_case": "restaurant_case",
           "03_complaints_kpis": "complaints_kpis", "04_satisfaction_loyalty": "satisfaction_loyalty",
           "05_pdca_effects": "pdca_effects", "06_risk_uplift": "risk_uplift",
           "07_voice_of_customer": "voice_of_customer"}


@pytest.fixture(scope="module")
def lesson1():
    return training.Lesson("servqual_gaps", lang="en")


@pytest.fixture(scope="module")
def case_lesson_zh():
    return training.Lesson("restaurant_case", lang="zh", solutions=True)


# ---- exercises ----------------------------------------------------------------------------------------------
def test_expected_answers_come_from_the_data(lesson1):
    d = lesson1.data
    s = d["survey"][d["survey"]["quarter"] == d["quarter"]]
    table = gaps.servqual_gaps(s, "servqual")
    rel = table[(table["level"] == "dimension") & (table["name"] == "reliability")]["gap"].iloc[0]
    assert lesson1.expected("reliability_gap") == pytest.approx(rel, abs=1e-12)
    # by hand: per respondent the mean of the answered P items minus that of the E items (at least 3 of 5
    # answered in each block), averaged over respondents
    cols = ["05", "06", "07", "08", "09"]

    def score(block):
        x = s[[f"{block}{i}" for i in cols]].to_numpy(dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.where((~np.isnan(x)).sum(axis=1) >= 3, np.nanmean(x, axis=1), np.nan)

    assert np.nanmean(score("P") - score("E")) == pytest.approx(rel, abs=1e-12)
    row = exercises.shown_respondent(d)
    assert lesson1.expected("item_gap") == row["P05"] - row["E05"]
    assert lesson1.expected("which_gap_standards") == "gap 3"


def test_check_right_wrong_and_empty(lesson1):
    rel = lesson1.expected("reliability_gap")
    assert training.check("reliability_gap", round(rel, 2)).correct is True
    assert training.check("reliability_gap", None).correct is None
    wrong = training.check("reliability_gap", rel + 0.3)
    assert wrong.correct is False and "Hint" in wrong.message
    sign = training.check("reliability_gap", -rel)
    assert "sign" in sign.message
    assert training.check("reliability_gap", "not a number").correct is False


def test_hints_never_reveal_the_answer(lesson1):
    for ex_id in lesson1.spec["exercises"]:
        expected = lesson1.expected(ex_id)
        shown = {i18n.format_answer(expected, "en"), str(expected)}
        if isinstance(expected, float):
            shown |= {f"{expected:.2f}", f"{expected:.1f}", f"{expected:.3f}"}
        for attempt in range(3):
            wrong = {"number": 999.0, "choice": "tangibles" if expected != "tangibles" else "empathy"}.get(
                lesson1.spec["exercises"][ex_id].get("kind", "number"), "gap 1")
            msg = lesson1.check(ex_id, wrong).message
            hint = msg.split(":", 1)[1]
            for s in shown:
                if len(s) > 2 or not s.isdigit():  # a single digit may occur in any sentence
                    assert s not in hint, (ex_id, s, hint)


def test_hints_progress_with_tries():
    L = training.Lesson("servqual_gaps", lang="en")
    first = L.check("item_gap", 99).message
    second = L.check("item_gap", 98).message
    third = L.check("item_gap", 97).message
    assert first != second and second == third  # the last hint stays


def test_choice_synonyms_and_specific_hints(case_lesson_zh):
    L = case_lesson_zh
    expected = L.expected("largest_gap_dimension")
    zh = labels.code(expected, "zh")  # the answer in the report's vocabulary
    assert L.check("largest_gap_dimension", zh).correct and L.check("largest_gap_dimension", expected.upper()).correct
    msg = L.check("largest_gap_dimension", "有形性").message
    assert "有形性正是手册管得好的维度" in msg
    # measures: at least three, every one backed
    assert L.check("measures", ["M1", "M3", "M4"]).correct
    assert "至少列出 3 项" in L.check("measures", ["M1", "M3"]).message
    msg = L.check("measures", ["M1", "M3", "M6"]).message
    assert msg.startswith("❌") and "有形性" in msg and "M1" not in msg
    assert "第 3 层" in L.check("measures", ["M8", "M1", "M2"]).message


def test_share_in_percent_gets_its_own_hint():
    L = training.Lesson("complaints_kpis", lang="en")
    v = L.expected("fcr")
    assert "fraction" in L.check("fcr", 100 * v).message
    assert L.check("fcr", v).correct


def test_quiz_and_answer_key(lesson1, monkeypatch):
    import IPython.display

    key = lesson1.quiz_key()
    assert len(key) == 5 and lesson1.check_quiz(key).correct
    assert "5 of 5" in lesson1.check_quiz(list(key.values())).message
    wrong = dict(key)
    wrong[2] = "a" if key[2] != "a" else "b"
    fb = lesson1.check_quiz(wrong)
    assert not fb.correct and "4 of 5" in fb.message and "- 2: ❌" in fb.message
    assert f"({key[2]})" not in fb.message.split("- 2:")[1].split("\n")[0]
    assert lesson1.check_quiz({}).correct is None
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *o: shown.extend(o))
    lesson1.answer_key()
    assert "instructor version" in shown[-1].data
    training.Lesson("servqual_gaps", lang="en", solutions=True).answer_key()
    assert "Answer key" in shown[-1].data and f"**({key[1]})**" in shown[-1].data


def test_unknown_things_raise_the_training_error():
    with pytest.raises(training.SQMTrainingError, match="lang"):
        training.Lesson("servqual_gaps", lang="fr")
    with pytest.raises(training.SQMTrainingError, match="no lesson"):
        training.Lesson("nope")
    L = training.Lesson("servqual_gaps")
    with pytest.raises(training.SQMTrainingError, match="no exercise"):
        L.check("nope", 1)


# ---- language -------------------------------------------------------------------------------------------------
def test_cjk_font_is_installed_by_the_setup():
    family = training.cjk_font()
    assert family is not None, "the project's setup installs mplfonts (Noto Sans CJK SC)"
    from matplotlib import font_manager

    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    from matplotlib.ft2font import FT2Font

    assert FT2Font(path).get_char_index(ord("质")) != 0


def test_missing_font_gives_a_clear_message(monkeypatch):
    import IPython.display

    monkeypatch.setattr(training, "cjk_font", lambda: None)
    with pytest.warns(UserWarning, match="No font with Chinese characters"):
        L = training.Lesson("servqual_gaps", lang="zh")
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *o: shown.extend(o))
    L.title()
    assert "fonts-noto-cjk" in shown[-1].data and "未找到" in shown[-1].data


def _lesson_figures(lang):
    """Every chart the lessons draw, drawn as the lessons draw them."""
    L1 = training.Lesson("servqual_gaps", lang=lang)
    d = L1.data
    s = exercises.quarter_rows(d)
    inst = d["instrument"]
    table = gaps.servqual_gaps(s, inst, wilcoxon=False)
    yield L1.plot(plots.dimension_gaps, table)
    yield L1.plot(plots.item_gaps, table, labels={i: inst.text(i, lang) for i in inst.items})
    L2 = training.Lesson("restaurant_case", lang=lang)
    c = L2.data
    per_q = c["visits"].assign(complaints=[170, 215, 265, 330])
    yield L2.plot(plots.bars_and_line, per_q, "quarter", "complaints", "returning_share",
                  "Complaints per quarter and share of members who came back", "complaints per quarter",
                  "share of members who came back")
    yield L2.plot(plots.gap_trend_plot, gaps.gap_trend(c["survey"], "servqual").query("name != 'overall'"))
    yield L2.plot(plots.pareto_chart, kpi.pareto(exercises.quarter_tickets(c)["category"]), "Complaint causes (Pareto)")
    L3 = training.Lesson("complaints_kpis", lang=lang)
    yield L3.plot(plots.pareto_chart, kpi.pareto(exercises._complaints(L3.data)["category"]), "Pareto of complaint causes")
    yield L3.plot(plots.control_chart, exercises.weekly_chart(L3.data),
                  "Share of major complaints acknowledged within 4 hours, per week", "share within 4 h")
    monitor, alerts = exercises.nps_monitor(L3.data)
    yield L3.plot(plots.nps_monitor, monitor, "region", alerts, title="NPS per month and region")
    L4 = training.Lesson("satisfaction_loyalty", lang=lang)
    imp = exercises.driver_importance(L4.data)
    yield L4.plot(plots.importance_bars, imp, title="Driver importance (lmg)")
    yield L4.plot(plots.driver_matrix, drivers.driver_matrix(exercises.driver_frame(L4.data), imp))
    yield L4.plot(plots.bar_chart, exercises.churn_by_nps_group(L4.data)["churn_rate"], "Churn rate by NPS group", "",
                  "churn within 180 days", percent=True)
    yield L4.plot(plots.gains_chart, exercises.churn_model(L4.data).gains(10))
    kano = exercises.kano_result(L4.data)
    yield L4.plot(seed_plots.kano_better_worse, kano.coefficients, kano.names(lang))
    L5 = training.Lesson("pdca_effects", lang=lang)
    card = exercises.pdca_result(L5.data).checks["A1"][0]
    yield L5.plot(seed_plots.effect_chart, card.observed, card.counterfactual, pd.Timestamp("2026-03-02"),
                  "Effect card of A1: weekly median first response in East", "first response (hours)")
    L6 = training.Lesson("risk_uplift", lang=lang)
    c = exercises.campaign(L6.data)
    yield L6.plot(seed_plots.ranking_effects_chart, {"churn risk": exercises.ranking_groups(L6.data, "risk"),
                                                     "X-learner": exercises.ranking_groups(L6.data, "x_learner")})
    yield L6.plot(seed_plots.qini_chart, {"two-model learner": c["models"]["two_model"]["curve"],
                                          "X-learner": c["models"]["x_learner"]["curve"]})
    L7 = training.Lesson("voice_of_customer", lang=lang)
    yield L7.plot(plots.count_heatmap, exercises.voc_result(L7.data).heat(), "Negative mentions per aspect and week")


def test_every_lesson_chart_is_fully_chinese():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "Glyph … missing from font" would fail here
        for fig in _lesson_figures("zh"):
            assert i18n.untranslated(fig) == [], fig.axes[0].get_title()
            texts = " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))
            assert re.search(r"[\u4e00-\u9fff]", texts)
            plt.close(fig)
    training.use_language("en")


def test_tables_are_translated(case_lesson_zh):
    t = case_lesson_zh.table(kpi.pareto(exercises.quarter_tickets(case_lesson_zh.data)["category"]))
    assert list(t.columns) == ["数量", "占比", "累计占比", "关键少数"]
    assert "员工态度" in t.index and t.index.name == "类别"
    assert set(t["关键少数"]) <= {"是", "否"}


# ---- the case ----------------------------------------------------------------------------------------------------
def test_case_data_tell_the_story():
    c = cases.restaurant_chain()
    again = cases.restaurant_chain()
    assert c.survey.equals(again.survey) and c.interactions.equals(again.interactions)
    assert not cases.restaurant_chain(seed=1).survey.equals(c.survey)
    # complaints rise every quarter, fewer members come back
    per_q = c.interactions["opened_at"].dt.to_period("Q").astype(str).value_counts().sort_index()
    assert per_q.is_monotonic_increasing and c.visits["returning_share"].is_monotonic_decreasing
    last = c.survey[c.survey["quarter"] == cases.QUARTERS[-1]]
    g = gaps.servqual_gaps(last, "servqual", wilcoxon=False)
    dims = g[g["level"] == "dimension"].set_index("name")["gap"]
    assert dims.idxmax() == "tangibles" and abs(dims["tangibles"]) < 0.2
    assert set(dims.nsmallest(3).index) == {"empathy", "responsiveness", "reliability"}
    items = g[g["level"] == "item"].set_index("name")["gap"]
    assert items[["05", "06", "07"]].max() < items[["08", "09"]].min()  # dishes unlike their description
    L = training.Lesson("restaurant_case")
    ev, levels, detail = exercises.case_evidence(L.data)
    assert levels["level"].iloc[0] == 1
    failed = set(detail[(detail["level"] == 2) & ~detail["met"]]["criterion"])
    assert {"fcr", "complaints_per_1000_change"} <= failed
    # the case tables go through sqmlib's own loaders' checks: canonical columns and types
    from sqmlib import io

    assert set(c.interactions.columns) >= {s.name for s in io.INTERACTION_COLUMNS if s.required}


# ---- notebooks ---------------------------------------------------------------------------------------------------
def test_training_notebooks_follow_the_conventions():
    nbs = training.training_notebooks()
    assert [p.stem for p in nbs] == list(LESSONS)
    for path in nbs:
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "import" in code[0].source
        assert "parameters" in code[1].metadata.get("tags", [])
        params = pm.inspect_notebook(str(path))
        assert {"lang", "solutions", "out_dir"} <= set(params)
        for name, p in params.items():
            assert p["help"] and p["inferred_type_name"] != "None", f"{path.name}: {name}"
        # committed with outputs: the trainee version in English, no errors, nothing answered
        outputs = [o for c in code for o in c.get("outputs", [])]
        assert outputs and not [o for o in outputs if o.output_type == "error"]
        text = json.dumps([o.get("data", {}).get("text/markdown", "") for o in outputs])
        lesson = training.Lesson(LESSONS[path.stem])
        assert text.count("No answer yet") == len(lesson.spec["exercises"]), path.name
        assert "💡" not in text and "instructor version" in text


@pytest.mark.slow
def test_committed_outputs_pass_nbval():
    r = subprocess.run([sys.executable, "-m", "pytest", "--nbval", str(TRAINING_DIR), "--nbval-sanitize-with",
                        str(ROOT / "tests" / "nbval_sanitize.cfg"), "-q", "-p", "no:cacheprovider"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert re.search(r"\d+ passed", r.stdout)


def _check_rendered(out, lang, versions=("trainee", "instructor")):
    for version in versions:
        for stem, name in LESSONS.items():
            path = out / lang / version / f"{stem}.ipynb"
            nb = nbformat.read(path, as_version=4)
            outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
            assert not [o for o in outputs if o.output_type == "error"], path
            stderr = "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
            assert "missing from font" not in stderr, path
            md = "\n".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
            n_ex = len(training.Lesson(name).spec["exercises"])
            if version == "instructor":
                assert md.count("✅") == n_ex + 5, path  # every exercise and every quiz question right
                assert "💡" in md and ("Answer key" in md or "答案" in md)
            else:
                assert md.count("✏️") >= n_ex and "💡" not in md
            if lang == "zh":
                assert len(re.findall(r"[\u4e00-\u9fff]", md)) > 500, path
                assert "No answer yet" not in md and "Right." not in md
            html = path.with_suffix(".html").read_text(encoding="utf-8")
            assert "<img" in html
            if lang == "zh":  # the page carries the CJK characters it uses, as the report's pages do
                assert "@font-face" in html and 'lang="zh-CN"' in html
            metrics = json.loads((out / lang / version / stem / "metrics.json").read_text())["metrics"]
            assert metrics["lang"] == lang and metrics["solutions"] == (version == "instructor")


@pytest.mark.slow
@pytest.mark.long  # the quick tier: the committed English lessons run by nbval, every lesson chart in Chinese
@pytest.mark.parametrize("lang, versions", [("en", (False, True)), ("zh", (False, True))])
def test_rendered_in_every_version(tmp_path, lang, versions):
    done = training.render(tmp_path, langs=[lang], versions=versions, log=lambda *a: None)
    assert len(done) == len(versions) * len(LESSONS)
    _check_rendered(tmp_path, lang, ["instructor" if v else "trainee" for v in versions])


@pytest.mark.slow
def test_render_never_overwrites_unless_forced(tmp_path, capsys):
    from sqmlib import cli

    out = tmp_path / "training"
    one = [_one_cell_lesson(tmp_path / "lessons")]  # what is replaced, not what a lesson computes, is tested here
    training.render(out, notebooks=one, langs=["zh"], versions=[True], log=lambda *a: None)
    (out / "zh" / "instructor" / "01_servqual_gaps.ipynb").write_text("an earlier rendering", encoding="utf-8")
    before = (out / "zh" / "instructor" / "01_servqual_gaps.ipynb").read_bytes()
    with pytest.raises(training.SQMTrainingError, match="left as it is"):
        training.render(out, notebooks=one, langs=["zh"], versions=[True], log=lambda *a: None)
    assert (out / "zh" / "instructor" / "01_servqual_gaps.ipynb").read_bytes() == before
    assert cli.main(["training", "--out", str(out), "--lang", "zh", "--version", "instructor"]) == 1
    assert "--force" in capsys.readouterr().err
    done = training.render(out, notebooks=one, langs=["zh"], versions=[True], force=True, log=lambda *a: None)
    assert done == [out / "zh" / "instructor" / "00_one_cell.ipynb"] and done[0].exists()
    assert not (out / "zh" / "instructor" / "01_servqual_gaps.ipynb").exists()  # replaced as a whole
    assert not list((out / "zh").glob(".*"))  # no temporary folder left


def _one_cell_lesson(folder):
    """A lesson notebook with the lessons' parameters and one cell."""
    return one_cell_notebook(folder, 'lang: str = "en"\nsolutions: bool = False\nout_dir: str = ""',
                             "print(lang, solutions)")


def test_chinese_lessons_use_the_chinese_sample():
    """The Chinese lessons work on the Chinese sample (same numbers, Chinese region names and complaint texts);
    a region answered in either language counts."""
    from sqmlib import synth

    zh = training.Lesson("complaints_kpis", lang="zh")
    en = training.Lesson("complaints_kpis", lang="en")
    assert zh.data["path"] == synth.sample_folder("zh")
    assert set(zh.data["survey"]["region"]) == {"华北", "华南", "华东", "华西"}
    assert zh.expected("alert_region") == "华南" and en.expected("alert_region") == "South"
    for answer in ("华南", "South", "south"):
        assert zh.check("alert_region", answer).correct, answer
    assert zh.expected("major_within_4h") == pytest.approx(en.expected("major_within_4h"), abs=1e-12)
