"""The message catalogues (sqmlib.render.messages): every message the code uses has its Chinese, with the same
placeholders, and the compiled catalogue is the one of the .po file."""
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


def test_translations_keep_the_placeholders_of_their_source(zh):
    wrong = [(m.context, sorted(messages.placeholders(m.id) ^ messages.placeholders(m.string)))
             for m in zh if m.id and m.string and messages.placeholders(m.id) != messages.placeholders(m.string)]
    assert wrong == []


def test_no_message_is_left_in_the_catalogue_that_the_code_does_not_use(used, zh):
    assert sorted(m.context for m in zh if m.id and m.context not in used) == []


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
    with labels.language("zh"):
        found = result.findings()
        shown = labels.text(messages.bullets(found))
    assert found[0] == "从 survey.csv 读入 800 份问卷，其中 200 份属于 2026Q3。"
    assert [labels.english_words(f, ["survey.csv"]) for f in found] == [[]] * len(found)
    assert shown == "\n".join(f"- {f}" for f in found)  # shown as it is, not translated again
    english = result.findings()
    assert english[0] == "800 responses were loaded from survey.csv; 200 of them are in 2026Q3."
    no_durations = audit.run_audit(folder.survey.drop(columns=["duration_sec"]), folder.instrument, "2026Q3")
    with labels.language("zh"):
        line = no_durations.findings()[2]
    assert "调查未记录作答时长" in line and labels.english_words(line) == []
