"""The message catalogues (sqmlib.render.messages): every message the code uses has its Chinese, with the same
placeholders, and the compiled catalogue is the one of the .po file."""
import numpy as np
import pandas as pd
import pytest

from sqmlib.render import messages


@pytest.fixture(scope="module")
def used():
    return {m.context: m for m in messages.extract() if m.id}


@pytest.fixture(scope="module")
def zh():
    return messages.read_catalogue("zh")


def test_every_message_has_a_key_of_its_own():
    seen = {}
    for m in messages.extract():
        if m.id:
            assert seen.setdefault(m.context, m.id) == m.id, f"key {m.context} has two English texts"


def test_every_message_in_the_code_has_its_chinese(used, zh):
    missing = [key for key, m in used.items()
               if zh.get(m.id, context=key) is None or not zh.get(m.id, context=key).string
               or zh.get(m.id, context=key).fuzzy]
    assert missing == [], f"no (or a fuzzy) Chinese for {missing}: run `make messages` and translate them"


def test_the_extraction_finds_every_message_of_the_code(used):
    """Every ``msg("key", …)`` written in the package reaches the catalogue (Babel's extractor can lose a message
    nested in another call inside a message's arguments: its sentence then stays English on Chinese pages)."""
    import re

    written = {key for path in messages.PACKAGE_DIR.rglob("*.py")
               for key in re.findall(r'\bmsg\(\s*"([\w.]+)"', path.read_text(encoding="utf-8"))}
    assert sorted(written - set(used)) == []


def test_translations_keep_the_placeholders_of_their_source(zh):
    wrong = [(m.context, sorted(messages.placeholders(m.id) ^ messages.placeholders(m.string)))
             for m in zh if m.id and m.string and messages.placeholders(m.id) != messages.placeholders(m.string)]
    assert wrong == []


def test_no_message_is_left_in_the_catalogue_that_the_code_does_not_use(used, zh):
    assert sorted(m.context for m in zh if m.id and m.context not in used) == []


def test_bold_in_chinese_closes_where_markdown_can_close_it(zh):
    """Markdown ends bold only at a "**" that follows a letter or precedes a space or punctuation: "**不可用：**原因"
    stays literal asterisks on the page, "**不可用**：原因" is bold. Every closing "**" of the Chinese catalogue
    follows a letter, or is followed by punctuation, a space or the end."""
    import re
    import unicodedata

    def punct(ch):
        return unicodedata.category(ch).startswith("P")

    wrong = []
    for m in zh:
        if not m.id or not m.string:
            continue
        marks = [x.start() for x in re.finditer(r"\*\*", m.string)]
        for close in marks[1::2]:
            before, after = m.string[close - 1:close], m.string[close + 2:close + 3]
            # a placeholder ("{reason}") is filled with words
            if before and punct(before) and after and not (after.isspace() or (punct(after) and after != "{")):
                wrong.append((m.context, m.string))
    assert wrong == []


def test_the_compiled_catalogue_is_the_po(zh):
    mo = messages.LOCALE_DIR / "zh" / "LC_MESSAGES" / "sqm.mo"
    assert mo.read_bytes() == messages.compiled(zh), "sqm.mo is older than sqm.po: run `make messages`"


def test_the_catch_finds_a_missing_placeholder():
    """The placeholder rule sees a translation that drops one."""
    assert messages.placeholders("{n:,} of {m:,} in {quarter}") == {"n", "m", "quarter"}
    assert messages.placeholders("{n:,} 份") != messages.placeholders("{n:,} of {m:,}")


def test_messages_in_both_languages():
    parts = dict(sl=12, sl_share=0.0063, tf=1234, tf_share=0.05, both=3, limit=92.4)
    english = ("{sl:,} respondents ({sl_share:.1%}) gave the same answer to every perception item and {tf:,} "
               "({tf_share:.1%}) finished too fast (under {limit:.0f} s); {both:,} did both. Consider leaving them "
               "out of the analyses that follow.")
    assert messages.msg("audit.careless", english, lang="en", **parts) == (
        "12 respondents (0.6%) gave the same answer to every perception item and 1,234 (5.0%) finished too fast "
        "(under 92 s); 3 did both. Consider leaving them out of the analyses that follow.")
    assert messages.msg("audit.careless", english, lang="zh", **parts) == (
        "12 名受访者（0.6%）对所有感知题给出同一答案，1,234 名（5.0%）作答过快（少于 92 秒）；3 名两者兼有。"
        "后续分析可考虑排除他们。")
    assert messages.msg("audit.by_segment", "**By {segment}**", lang="zh", segment=messages.term("region")) == "**按区域**"


def test_the_audit_speaks_chinese_from_its_messages(small_dir):
    """The audit's findings come from the catalogue: in Chinese no English is left but the file name, and a
    sentence that had no Chinese pattern before (no durations recorded) has its Chinese now."""
    from sqmlib import audit, io, labels

    folder = io.load_folder(small_dir, tables=["survey"])
    result = audit.run_audit(folder, quarter="2026Q3")
    labels.register_instrument(folder.instrument)  # as a notebook does: the KANO attributes' names
    try:
        with labels.language("zh"):
            found = result.findings()
            shown = labels.text(messages.bullets(found))
    finally:
        labels.forget_instrument()
    assert found[0] == "从 survey.csv 读入 800 份问卷，其中 200 份属于 2026Q3。"
    assert [labels.english_words(f, ["survey.csv"]) for f in found] == [[]] * len(found)
    assert shown == "\n".join(f"- {f}" for f in found)  # shown as it is, not translated again
    english = result.findings()
    assert english[0] == "800 responses were loaded from survey.csv; 200 of them are in 2026Q3."
    no_durations = audit.run_audit(folder.survey.drop(columns=["duration_sec"]), folder.instrument, "2026Q3")
    with labels.language("zh"):
        line = no_durations.findings()[2]
    assert "调查未记录作答时长" in line and labels.english_words(line) == []


def test_reliability_speaks_chinese_from_its_messages(small_dir):
    """The reliability notebook's words come from the catalogue, in the language chosen when it runs: in Chinese
    no English is left (its sentences that had no Chinese pattern before have it now: ML for many answer points,
    no missing answers, an extraction that did not converge), numbers keep their formats, and the English is as
    before."""
    from sqmlib import io, labels, reliability, show
    from sqmlib.render.outputs import markdown_html

    folder = io.load_folder(small_dir, tables=["survey"])
    show.use_instrument(folder.instrument)
    english = reliability.run_reliability(folder, quarter="2026Q3")
    with labels.language("zh"):
        chinese = reliability.run_reliability(folder, quarter="2026Q3")
        shown = [labels.text(f) for f in chinese.findings()]
        head = markdown_html(labels.text(chinese.sections()["sample"][0].content))
    labels.forget_instrument()
    assert shown == chinese.findings()  # shown as it is, not translated again
    assert english.findings()[0] == ("Every dimension's perception scale is reliable enough (α ≥ .70); tangibles, "
                                     "reliability, responsiveness, assurance, empathy reach .80 or more.")
    assert chinese.findings()[0] == "每个维度的感知量表信度都足够（α ≥ .70）；有形性、可靠性、响应性、保证性、移情性达到 .80 或以上。"
    assert head == "<p><strong>188 名受访者</strong>参与分析（2026Q3）；排除 12 名粗心作答者。</p>\n"
    fit = next(f for f in chinese.findings() if "维度模型" in f)
    trusted = chinese.estimators[chinese.estimators["trusted"]].iloc[0]  # the verdict is the trusted estimator's
    assert f"CFI {trusted['cfi']:.3f}，TLI {trusted['tli']:.3f}" in fit
    allowed = ["ML", "FIML", "WLSMV", "HTMT", "Fornell–Larcker"]
    assert [f for f in chinese.findings() if labels.english_words(f, allowed)] == []
    rng = np.random.default_rng(3)  # nine answer points, none missing: the two clauses with new Chinese
    f = rng.normal(size=(300, 2))
    items = pd.DataFrame(np.clip(np.round(5 + 1.5 * f[:, [0, 0, 0, 1, 1, 1]] + rng.normal(size=(300, 6))), 1, 9),
                         columns=["a1", "a2", "a3", "b1", "b2", "b3"])
    with labels.language("zh"):
        advice = reliability.estimator_comparison(items, {"a": ["a1", "a2", "a3"], "b": ["b1", "b2", "b3"]})[2]
    assert advice.startswith("答案有 9 个分值") and "没有缺失的答案" in advice
    assert labels.english_words(advice, ["ML"]) == []


def test_drivers_speak_chinese_from_their_messages(small_dir):
    """The driver notebook's findings come from the catalogue in the reader's language: names as labels, shares
    with their format, and its sentences that stayed English on Chinese pages before (basic factors, several
    drivers to fix first, the suppressor note) in Chinese now; the English is as before."""
    from sqmlib import drivers, io, labels, show

    folder = io.load_folder(small_dir, tables=["survey"])
    show.use_instrument(folder.instrument)
    result = drivers.run_drivers(folder, quarter="2026Q3", n_boot=20)
    english = result.findings()
    with labels.language("zh"):
        chinese = result.findings()
        suppressor = [b.content for b in result.sections()["model"] if b.kind == "text"]
    labels.forget_instrument()
    share = result.shares().sort_values(ascending=False)
    assert english[0] == (f"The strongest driver of overall_sat is **{share.index[0]}** ({share.iloc[0]:.0f} % of the "
                          f"explained variance), then {share.index[1]} ({share.iloc[1]:.0f} %) and {share.index[2]} "
                          f"({share.iloc[2]:.0f} %).")
    zh_name = {d: labels.word(d, "zh") for d in share.index}
    assert chinese[0] == (f"总体满意度最强的驱动因素是 **{zh_name[share.index[0]]}**（占解释方差的 {share.iloc[0]:.0f} %），"
                          f"其次是{zh_name[share.index[1]]}（{share.iloc[1]:.0f} %）和{zh_name[share.index[2]]}"
                          f"（{share.iloc[2]:.0f} %）。")
    assert [f for f in chinese + suppressor if labels.english_words(f, ["R²"])] == []
    assert any(f.startswith("基本型因素") for f in chinese) and any("抑制模式" in t for t in suppressor)


def test_kpis_speak_chinese_from_their_messages(small_dir):
    """The KPI notebook's findings and notes come from the catalogue: its findings, English only before, read in
    Chinese (the alert with the unit's label, the top complaint cause); the absent tables are named in Chinese."""
    from sqmlib import io, kpi, labels

    folder = io.load_folder(small_dir)
    result = kpi.run_kpis(folder, quarter="2026Q3")
    english = result.findings()
    with labels.language("zh"):
        chinese = result.findings()
        survey_only = kpi.run_kpis(io.load_folder(small_dir, tables=["survey"]), quarter="2026Q3")
        note = survey_only.sections()["sample"][0].content
    cause = result.causes.index[0]
    assert f"Top complaint cause: {cause} ({result.causes['share'].iloc[0]:.0%})." in english
    assert f"首要投诉原因：{labels.word(cause, 'zh')}（{result.causes['share'].iloc[0]:.0%}）。" in chinese
    assert [f for f in chinese if labels.english_words(f, ["NPS"])] == []
    assert note.startswith("**数据文件夹中没有顾客、工单、服务标准表**")


def test_chain_speaks_chinese_from_its_messages(small_dir):
    """The service-profit chain's findings and model line come from the catalogue in the reader's language."""
    from sqmlib import io, labels, sem, show

    folder = io.load_folder(small_dir)
    show.use_instrument(folder.instrument)
    with labels.language("zh"):
        result = sem.run_chain(folder, n_boot=20)
        chinese = result.findings()
        model_line = result.sections()["model"][0].content
    labels.forget_instrument()
    r2 = result.model.r2["r2"]
    assert chinese[2] == "模型解释了" + "、".join(f"{labels.word(k, 'zh')}的 R² = {v:.2f}" for k, v in r2.items()) + "。"
    assert model_line.startswith(f"**{result.model.n:,} 名受访者**") and "均值替换缺失" in model_line
    assert [f for f in chinese + [model_line] if labels.english_words(f, ["R²"])] == []


def test_gaps_speak_chinese_from_their_messages(small_dir):
    """The gap notebook's findings and notes come from the catalogue in the language of the moment they are asked
    for: an item with its number and its Chinese wording, figures in their formats, no English left; the English
    is as before."""
    from sqmlib import gaps, io, labels, show

    folder = io.load_folder(small_dir, tables=["survey"])
    show.use_instrument(folder.instrument)
    english = gaps.run_gaps(folder, quarter="2026Q3")
    with labels.language("zh"):
        chinese = gaps.run_gaps(folder, quarter="2026Q3")
        found = chinese.findings()
        fix = chinese.fix_first()
        segments = [b.content for b in chinese.sections()["segments"] if b.kind == "text"]
    labels.forget_instrument()
    r = english.table[(english.table["level"] == "item") & (english.table["gap"] < 0) & (english.table["p_adj"] < 0.05)]
    r = r.sort_values("gap").iloc[0]
    wording = folder.instrument.text(r["name"], "zh")
    assert english.findings()[0].startswith(f"{r['name']} ({folder.instrument.text(r['name'], 'en')}): perceptions fall "
                                            f"{abs(r['gap']):.2f} points short of expectations")
    assert found[0] == (f"{r['name']}（{wording}）：感知比期望低 {abs(r['gap']):.2f} 分 [{r['ci_low']:.2f}, "
                                     f"{r['ci_high']:.2f}]；{r['share_below']:.0%} 的顾客给出的评分低于其期望。")
    assert [line for line in found + fix + segments if labels.english_words(line)] == []


def test_the_summary_speaks_chinese_from_its_messages(small_dir):
    """The quarterly summary's sentences come from the catalogue: the English as before, the Chinese with each
    name labelled (units, dimensions, complaint causes), shares in their formats and no English left."""
    from sqmlib import io, labels, summary
    from sqmlib.drivers import DriverMetrics
    from sqmlib.kpi import KPIMetrics

    alert = {"unit": "South", "unit_type": "region", "nps": -12.0, "benchmark": 30.0, "first_period": "2026-07",
             "last_period": "2026-09", "periods": 3}
    k = KPIMetrics(kpis={}, per_unit={}, alerts=[alert], western_electric_breaks=0,
                   pareto_categories_top3={"billing": 0.18, "waiting_time": 0.24, "staff_attitude": 0.19},
                   pareto_departments_top3={}, classifier_accuracy=None, maturity={"South": 0}, unit="region")
    d = DriverMetrics(outcome="overall_sat", level="dimension", respondents=200, r2=0.5, importance_basis="outcome",
                      lmg_share={"reliability": 30.4, "empathy": 24.0}, lmg_ci={}, top_drivers=["reliability", "empathy"],
                      fix_first=["empathy"], kano={}, model_fit={}, findings=[])
    folder = io.load_folder(small_dir)
    result = summary.run_summary(folder, quarter="2026Q3",
                                 current={"05_kpi_monitoring": k, "03_driver_regression": d},
                                 previous={"05_kpi_monitoring": KPIMetrics(**{**k.__dict__, "alerts": []})})
    assert result.top_causes() == "Top complaint causes: waiting_time (24%), staff_attitude (19%), billing (18%)."
    assert result.todo()[:2] == [
        "Investigate **South** now: its NPS has been far below its benchmark for 3 periods and it does not meet "
        "the basic service standards (maturity level 0).",
        "Improve **empathy**: it moves overall_sat most among the dimensions performing below average."]
    with labels.language("zh"):
        assert result.top_causes() == "主要投诉原因：等候时间（24%）、员工态度（19%）、账单（18%）。"
        todo, since = result.todo(), result.since_previous()
        shortfalls, alerts = result.shortfalls(), result.alert_lines()
        tiles = result.tiles_html()
    assert todo[:2] == ["立即调查 **南区**：其 NPS 已连续 3 期远低于基准，且未达到基本服务标准（成熟度 0 级）。",
                        "改进 **移情性**：在表现低于平均的维度中，它对总体满意度的影响最大。"]
    assert since == ["新增预警：南区。"]
    assert "**总体满意度的首要驱动因素**：可靠性（30%）、移情性（24%）。" in shortfalls[0]
    assert alerts == ["- **预警：南区**（区域）：2026-07 至 2026-09 NPS 为 -12，基准为 +30（3 期）。"]
    words = [w for line in todo + since + shortfalls + alerts for w in labels.english_words(line, ["NPS"])]
    assert words == [] and "较 2026Q2（" in tiles


@pytest.mark.parametrize("level", ["configural", "metric", "scalar", "strict"])
def test_invariance_statements_in_both_languages(level):
    """What an invariance test found, as the pages say it: the English is the psychometrics layer's own
    statement, the Chinese has no English left and names the group in the reader's language."""
    import pandas as pd

    from sqmlib import labels
    from sqmlib.psychometrics.invariance import InvarianceResult, SurveyInvariance
    from sqmlib.render import statements

    one = InvarianceResult(table=pd.DataFrame(), level=level, group="region",
                           groups=pd.Series({"North": 90, "South": 80}), group_chisq=pd.Series(dtype=float))
    survey = SurveyInvariance(by="region", blocks={"E": one, "P": one}, level=level)
    assert statements.invariance(one) == one.statement()
    assert statements.survey_invariance(survey) == survey.statement()
    assert statements.survey_invariance(survey, True) == survey.statement("gaps of different quarters")
    with labels.language("zh"):
        chinese = [statements.invariance(one), statements.survey_invariance(survey),
                   statements.survey_invariance(survey, across_quarters=True)]
    assert all("区域" in c for c in chinese)
    assert [w for c in chinese for w in labels.english_words(c)] == []
