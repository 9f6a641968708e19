"""Voice of the customer: a rule suite of hand-written sentences in both languages (contrast, negation, degree, two
aspects in one sentence, Traditional characters) with their expected aspect polarities; text normalisation and
masking; the rising-issue test against scipy and statsmodels; the polarity model cross-validated; the sample's
planted aspects and rising issue recovered; bad input counted, never a crash."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sqmlib import SQMArgumentError, SQMDataError, io, voc
from sqmlib.sample.voc import feedback as sample_feedback

from conftest import ROOT

# ---- the rule suite ------------------------------------------------------------------------------------------
RULES = [
    # (text, {aspect: polarity})
    ("维修师傅迟到但态度专业", {"waiting": -1, "staff_attitude": 1, "competence": 1}),
    ("維修師傅遲到但態度專業", {"waiting": -1, "staff_attitude": 1, "competence": 1}),  # Traditional
    ("环境很干净，服务员不太热情", {"environment": 1, "staff_attitude": -1}),
    ("等了很久，上菜太慢了", {"waiting": -1}),
    ("基本不用排队", {"waiting": 1}),  # a negated burden
    ("价格不贵，味道一般", {"price_billing": 1, "product": -1}),
    ("客服一直占线，没人接，非常失望", {"waiting": -1}),
    ("服务员态度不好", {"staff_attitude": -1}),
    ("店员态度非常好，但是价格太贵了", {"staff_attitude": 1, "price_billing": -1}),
    ("app总是闪退", {"digital": -1}),
    ("师傅不专业，问题没解决", {"competence": -1}),
    ("快递很快，包装也很好", {"delivery": 1}),
    ("The technician was late but very professional.", {"waiting": -1, "competence": 1}),
    ("The staff were not friendly.", {"staff_attitude": -1}),
    ("The wait was too long, but the staff were very friendly", {"waiting": -1, "staff_attitude": 1}),
    ("Not bad at all, quick delivery", {"delivery": 1, "waiting": 1}),  # quick: timeliness too
    ("I was overcharged on my bill", {"price_billing": -1}),
    ("The store was dirty and noisy", {"environment": -1}),
    ("The food was fresh and tasty, however the price was far too expensive.", {"product": 1, "price_billing": -1}),
    ("The app keeps crashing", {"digital": -1}),
    ("The agent was rude", {"staff_attitude": -1}),  # a person with a sentiment word: staff attitude
    ("<p>Great food!</p> 😡 the bill was wrong", {"product": 1, "price_billing": -1}),  # HTML and emoji
]


def _by_aspect(frame: pd.DataFrame) -> dict:
    return {a: int(g.iloc[np.argmax(np.abs(g.to_numpy()))]) for a, g in frame.groupby("aspect")["polarity"]}


@pytest.mark.parametrize("text, expected", RULES)
def test_the_rule_suite(text, expected):
    got = _by_aspect(voc.aspects([text]))
    assert got == expected, (text, got)


def test_documents_are_scored_with_contrast_negation_and_degree():
    a = voc.Analyser()
    # what follows "but" weighs more: late (−1) but professional (+1.5 × degree)
    assert a.analyse("The technician was late but very professional.")[0] > 0
    assert a.analyse("维修师傅态度专业，但是迟到了很久")[0] < 0
    assert a.analyse("not good")[0] < 0 < a.analyse("not bad")[0]
    assert a.analyse("很满意")[0] > a.analyse("满意")[0] > a.analyse("有点满意")[0] > 0
    assert a.analyse("不是很满意")[0] < 0
    assert a.analyse("")[0] == 0 and a.analyse(None)[0] == 0


def test_the_lexicon_can_be_extended(tmp_path):
    extra = tmp_path / "mine.yaml"
    extra.write_text("aspects:\n  parking:\n    dimension: tangibles\n    zh: [停车位]\n    en: [parking lot]\n"
                     "sentiment:\n  negative:\n    en: [cramped]\n", encoding="utf-8")
    got = _by_aspect(voc.aspects(["The parking lot was cramped"], lexicon=str(extra)))
    assert got == {"parking": -1}
    assert "parking" not in set(voc.aspects(["The parking lot was cramped"])["aspect"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("aspects:\n  parking: [a, b]\n", encoding="utf-8")
    with pytest.raises(SQMDataError, match="dimension"):
        voc.aspects(["x"], lexicon=str(bad))


# ---- text -----------------------------------------------------------------------------------------------------
def test_normalise_and_mask():
    assert voc.normalise("ＡＢＣ１２３，很好！") == "abc123,很好!"  # full width to half width
    assert voc.normalise("維修師傅") == "维修师傅"
    assert voc.normalise("<b>Great</b> &amp; 👍") == "great & good"
    assert voc.normalise(None) == "" and len(voc.normalise("好" * 100_000)) == voc.MAX_CHARS
    text = "电话13812345678，身份证110101199003071234，邮箱 a.b@example.com，400-123-4567, +86 138 1234 5678"
    masked = voc.mask(text)
    for secret in ("13812345678", "110101199003071234", "a.b@example.com", "400-123-4567", "138 1234 5678"):
        assert secret not in masked, masked
    assert masked.count("[phone]") == 3 and "[ID]" in masked and "[e-mail]" in masked
    assert voc.quote("x" * 500, 40).endswith("…") and len(voc.quote("x" * 500, 40)) == 40


# ---- rising issues against the references ------------------------------------------------------------------------
def test_the_rising_test_equals_scipy_and_statsmodels():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(3)
    weeks = pd.date_range("2026-01-05", periods=16, freq="W-MON")
    items = pd.DataFrame({"store": rng.choice(["A", "B", "C"], 3000), "week": rng.choice(weeks, 3000)})
    ment = items.sample(1500, random_state=1).assign(aspect=lambda d: rng.choice(["x", "y"], len(d)),
                                                     polarity=lambda d: rng.choice([-1, 1], len(d)))
    r = voc.rising_issues(ment, items, unit="store", recent=4, baseline=12, min_count=1)
    recent, base = set(weeks[-4:]), set(weeks[:12])
    for _, row in r.iterrows():
        neg = ment[(ment["store"] == row["store"]) & (ment["aspect"] == row["aspect"]) & (ment["polarity"] < 0)]
        x1, x0 = neg["week"].isin(recent).sum(), neg["week"].isin(base).sum()
        n1 = (items["store"] == row["store"]).mul(items["week"].isin(recent)).sum()
        n0 = (items["store"] == row["store"]).mul(items["week"].isin(base)).sum()
        ref = stats.binomtest(x1, x1 + x0, n1 / (n1 + n0), alternative="greater").pvalue
        assert row["p_value"] == pytest.approx(ref, rel=1e-10)
        assert (row["recent_negative"], row["baseline_negative"]) == (x1, x0)
    assert np.allclose(r["q_value"], multipletests(r["p_value"], method="fdr_bh")[1], atol=1e-12)
    assert np.allclose(voc.bh([0.01, 0.04, 0.03, 0.2]), multipletests([0.01, 0.04, 0.03, 0.2], method="fdr_bh")[1])


# ---- the sample ---------------------------------------------------------------------------------------------------
STORES = {s: {"E": "East", "N": "North", "S": "South", "W": "West"}[s[0]]
          for s in ["E1", "E2", "E3", "N1", "N2", "N3", "S1", "S2", "S3", "W1", "W2", "W3"]}


@pytest.mark.parametrize("seed", [0, 1])
def test_planted_aspects_are_recovered(seed):
    fb, truth, planted = sample_feedback(STORES, pd.Timestamp("2026-10-01"), seed)
    got = voc.aspects(fb["text"], ids=fb["feedback_id"])
    got = got.groupby(["text_id", "aspect"])["polarity"].agg(
        lambda s: s.iloc[np.argmax(np.abs(s.to_numpy()))]).rename("found").reset_index()
    m = planted.merge(got.rename(columns={"text_id": "feedback_id"}), on=["feedback_id", "aspect"], how="left")
    assert m["found"].notna().mean() > 0.97  # the aspects found
    assert (m["found"] == m["polarity"]).mean() > 0.9  # with their polarity
    extra = got.merge(planted.rename(columns={"feedback_id": "text_id"}), on=["text_id", "aspect"], how="left")
    assert extra["polarity"].isna().mean() < 0.06  # few aspects that are not there


@pytest.fixture(scope="module")
def sample():
    return io.load_folder(ROOT / "data" / "sample", tables=["feedback"])


@pytest.fixture(scope="module")
def result(sample):
    return voc.run_voc(sample)


def test_the_planted_rising_issue_comes_first(result):
    import json

    truth = json.loads((ROOT / "data" / "sample" / "truth.json").read_text())["voice_of_customer"]["issue"]
    top = result.issues().iloc[0]
    assert (top["store"], top["aspect"]) == (truth["store"], truth["aspect"]) and top["rate_ratio"] > 2
    m = result.metrics()
    assert m.rising[0]["unit"] == truth["store"] and m.usable == m.items
    quotes = result.quotes(top["store"], top["aspect"])
    assert len(quotes) == 3 and not any("13812345678" in q for q in quotes)


def test_the_polarity_model_is_cross_validated(result, sample):
    m = result.model
    assert m is not None and m.n >= voc.MIN_LABELS and 0.85 < m.cv_accuracy <= 1
    lo, hi = m.cv_interval
    assert lo < m.cv_accuracy < hi and hi - lo < 0.05
    labels = voc.ratings_to_labels(sample.feedback["rating"])
    assert set(labels.dropna()) == {"negative", "positive"} and labels[sample.feedback["rating"] == 3].isna().all()
    assert set(m.predict(["态度很差，等了很久", "Great staff, very friendly"])) == {"negative", "positive"}
    assert m.predict(["态度很差，等了很久"])[0] == "negative" and m.predict_proba(["x"]).shape == (1, 2)
    with pytest.raises(SQMArgumentError, match="at least"):
        voc.fit_polarity(["好"] * 10, ["positive"] * 10)
    assert result.lexicon_check["accuracy"] > 0.85 and result.lexicon_check["covered"] > 0.8


def test_bad_feedback_is_counted_not_fatal(tmp_path):
    fb, _, _ = sample_feedback(STORES, pd.Timestamp("2026-10-01"), 0)
    bad = pd.DataFrame({"feedback_id": ["B1", "B2", "B3", "B4"], "source": ["review", "review", "fax", "call"],
                        "platform": "x", "created_at": fb["created_at"].iloc[:4].to_numpy(), "store": "E1",
                        "region": "East", "customer_id": "C1", "rating": 3.0,
                        "text": ["", "\x01\x02\x03\x04\x05\x06\x07\x08" * 50, "好", "很慢" * 2_500_000]})
    (tmp_path / "feedback.csv").write_text(pd.concat([fb, bad]).to_csv(index=False), encoding="utf-8")
    folder = io.load_folder(tmp_path, tables=["feedback"])
    r = voc.run_voc(folder)
    q = r.metrics()
    assert q.left_out == {"empty": 1, "junk": 1, "unknown_source": 1, "long": 1}
    assert q.usable == len(fb) + 1 and r.quality["unknown_sources"] == ["fax"]
    lines = " ".join(b.content for b in r.sections()["sources"] if b.kind == "text")
    assert "1 from an unknown source (fax)" in lines and "1 very long" in lines


def test_without_feedback_the_page_is_not_available(tmp_path):
    folder = io.load_folder(ROOT / "data" / "sample", tables=["customers"])
    r = voc.run_voc(folder)
    assert r.unavailable and "feedback.csv" in r.reason


def test_the_feedback_explorer_finds_what_the_page_read(result, sample):
    from sqmlib import explore
    from sqmlib.explore.serve import App
    from sqmlib.render import labels

    ex = explore.FeedbackExplorer(result)
    v = ex.view(aspect="waiting", store="S2")
    m = result.mentions
    hit = m[(m["aspect"] == "waiting") & (m["store"] == "S2")]
    assert len(v.table) == min(200, hit["text_id"].nunique())
    assert set(v.table["feedback_id"]) <= set(hit["text_id"]) and (v.table["store"] == "S2").all()
    assert v.table["created_at"].is_monotonic_decreasing and "waiting −" in " ".join(v.table["aspects"])
    week = ex.weeks[-3]
    one = ex.view(aspect="waiting", store="S2", week=week)
    assert len(one.table) == hit[hit["week"] == pd.Timestamp(week)]["text_id"].nunique()
    assert not any("13812345678" in t for t in ex.view().table["feedback_text"])  # quotes masked
    with pytest.raises(SQMArgumentError, match="aspect must be one of"):
        ex.view(aspect="nothing")
    shown = App({"feedback": ex}, lang="zh").view("feedback", {"aspect": "waiting"})
    assert shown["note"].startswith("反馈") and shown["charts"]
    assert [c["label"] for c in shown["controls"].values()] == ["服务方面", "门店", "周起始日", "来源"]
    calls = ex.view(aspect="waiting", store="S2", source="call")
    src = result.feedback.set_index("feedback_id")["source"]
    assert len(calls.table) == (src.loc[hit["text_id"].unique()] == "call").sum() and (calls.table["source"] == "call").all()
    assert not any(labels.english_words(o["label"]) for o in shown["controls"]["source"]["options"][1:])
    assert not labels.english_words(shown["controls"]["aspect"]["options"][1]["label"])
    assert explore.FeedbackExplorer.from_folder(sample).result.model is None  # the app fits no model


# ---- real reviews ----------------------------------------------------------------------------------------------
def _review_files() -> list:
    """Labelled real review files: ``$SQM_REVIEWS`` (files or folders, separated by the path separator) or
    ``../shared/data/reviews/*.csv`` (see ``benchmarks/eval_voc_reviews.py`` for their form)."""
    import os

    from conftest import SHARED

    found = []
    for part in filter(None, os.environ.get("SQM_REVIEWS", "").split(os.pathsep)):
        p = Path(part)
        found += sorted(p.glob("*.csv")) if p.is_dir() else [p] if p.is_file() else []
    return found or sorted((SHARED / "reviews").glob("*.csv"))


@pytest.mark.long
@pytest.mark.skipif(not _review_files(), reason="no labelled real reviews ($SQM_REVIEWS or ../shared/data/reviews)")
def test_real_reviews_it_was_never_tuned_on():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from eval_voc_reviews import evaluate

    within, cross = evaluate(_review_files())
    assert (within["model_cv_accuracy"] >= 0.85).all(), within
    assert (within["lexicon_accuracy"] >= 0.8).all() and (within["lexicon_covered"] >= 0.6).all(), within
    assert (within["model_low"] < within["model_cv_accuracy"]).all() and len(cross) >= len(within)


def test_a_sentiment_word_holding_an_aspect_word_keeps_the_aspect():
    """The segmenter keeps a lexicon word whole (态度差, 效率高): the aspect word inside it still names the aspect."""
    import yaml

    lx = yaml.safe_load((ROOT / "sqmlib" / "voc" / "lexicon.yaml").read_text(encoding="utf-8"))
    aspect_of = {w: a for a, spec in lx["aspects"].items() for w in spec["zh"]}
    signs = {w: 1 for w in lx["sentiment"]["positive"]["zh"]} | {w: -1 for w in lx["sentiment"]["negative"]["zh"]}
    pairs = [(s, aspect_of[w]) for s in signs for w in aspect_of if w in s and w != s]
    assert len(pairs) >= 5
    for word, aspect in pairs:
        got = _by_aspect(voc.aspects([word]))
        assert aspect in got and got[aspect] == signs[word], (word, got)
    assert _by_aspect(voc.aspects(["配送员态度差"])) == {"delivery": -1, "staff_attitude": -1}
    assert _by_aspect(voc.aspects(["办事效率高"])) == {"waiting": 1}


# ---- other listening posts -------------------------------------------------------------------------------------
def test_the_surveys_open_answers_and_the_tickets_are_read_where_they_are(tmp_path):
    import shutil

    sample = ROOT / "data" / "sample"
    for name in ("feedback.csv", "interactions.csv", "customers.csv"):
        shutil.copy(sample / name, tmp_path / name)
    survey = pd.read_csv(sample / "survey.csv")
    rng = np.random.default_rng(3)
    said = rng.choice(np.array(["等了很久，上菜太慢了", "The staff were not friendly.", "", "   ", None], dtype=object), len(survey))
    survey["anything_else"] = said
    survey.to_csv(tmp_path / "survey.csv", index=False)
    import yaml

    columns = yaml.safe_load((ROOT / "sqmlib" / "instruments" / "servqual.yaml").read_text(encoding="utf-8"))["columns"]
    columns["anything_else"] = {"type": "text", "role": "comment", "text": {"en": "Anything else?", "zh": "其他建议"}}
    inst = (sample / "instrument.yaml").read_text(encoding="utf-8")
    (tmp_path / "instrument.yaml").write_text(inst + "\n" + yaml.safe_dump({"columns": columns}, allow_unicode=True),
                                              encoding="utf-8")
    folder = io.load_folder(tmp_path, tables=["feedback", "survey", "interactions"])
    assert folder.instrument.comments == ["anything_else"]
    answered = pd.Series(said).astype(str).str.strip().isin(["等了很久，上菜太慢了", "The staff were not friendly."])
    posts = io.feedback.listening_posts(folder)
    comments = posts[posts["source"] == "survey_comment"]
    assert len(comments) == answered.sum() + (folder.feedback["source"] == "survey_comment").sum()
    mine = comments[comments["feedback_id"].str.startswith("survey:")]
    assert len(mine) == answered.sum() and mine["store"].notna().all()  # blank answers are no feedback
    row = mine.iloc[0]
    src = survey[survey["respondent_id"].astype(str) == row["feedback_id"].split(":")[1]].iloc[0]
    assert (row["store"], row["customer_id"], row["text"]) == (src["store"], src["customer_id"], src["anything_else"])
    r = voc.run_voc(folder, polarity_model=False)
    m = r.mentions[r.mentions["text_id"].isin(mine["feedback_id"])]
    assert set(m["aspect"]) == {"waiting", "staff_attitude"} and (m["polarity"] == -1).all()
    assert r.quality["rows"] == len(folder.feedback) + answered.sum() and r.quality["empty"] == 0
    with_tickets = voc.run_voc(folder, polarity_model=False, tickets=True)
    tickets = folder.interactions["text"].notna().sum()
    assert with_tickets.quality["rows"] == r.quality["rows"] + tickets
    assert (with_tickets.feedback["source"] == "ticket").sum() == tickets
    w = voc.run_weekly(folder, week="2026-W39")
    assert (w.voc.feedback["source"] == "survey_comment").sum() > (folder.feedback["source"] == "survey_comment").sum()


def test_a_draft_instrument_marks_open_answers_as_comments(tmp_path):
    from sqmlib.io.draft import draft_instrument

    rng = np.random.default_rng(0)
    n = 60
    d = pd.DataFrame({"id": range(n), **{f"Q{k}": rng.integers(1, 8, n) for k in range(1, 6)},
                      "other_suggestions": [f"建议{k}：周末排队太久，希望多开一个窗口" for k in range(n)],
                      "region": rng.choice(["North", "South"], n)})
    d.to_csv(tmp_path / "survey.csv", index=False)
    text = draft_instrument(tmp_path / "survey.csv")
    line = next(x for x in text.splitlines() if "other_suggestions" in x)
    assert "role: comment" in line
