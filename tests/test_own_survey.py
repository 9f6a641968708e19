"""Bringing your own survey: the instrument as the single source of truth (strict schema, block scales, reverse
keys, top boxes, per-item sources and offsets), real exports (header normalisation, durations, SPSS labels and
user-missing codes, two header rows), encodings that do not corrupt Chinese, and `sqm instrument draft`."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from sqmlib import SQMDataError, exports, instruments, io
from sqmlib.draft import draft_instrument
from sqmlib.io import AmbiguousEncoding, detect_encoding, parse_duration

from conftest import KIOSK as KIOSK_CSV, KIOSK_INSTRUMENT, ROOT


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


MINI = """name: mini
scale: {min: 1, max: 5}
blocks: {P: {label: perception}}
reverse: ["03"]
dimensions: {all: ["01", "02", "03"]}
items: {"01": a, "02": b, "03": c}
columns:
  overall_sat: {type: rating, min: 1, max: 5, role: outcome}
  region: {type: category, role: segment, labels: {1: North, 2: South}}
  duration_sec: {type: duration}
"""


def test_typos_and_wrong_types_are_errors_with_suggestions(tmp_path):
    bad = MINI.replace("reverse:", "revers:").replace("role: segment", "role: segmnt").replace(
        "type: duration", "type: duraton") + 'extra_items: {"04": {en: one, two}}\n'
    with pytest.raises(SQMDataError) as e:
        instruments.load(_write(tmp_path, "bad.yaml", bad))
    msg = str(e.value)
    assert "unknown key 'revers'" in msg and "did you mean 'reverse'" in msg
    assert "did you mean 'segment'" in msg and "did you mean 'duration'" in msg
    assert "'extra_items'" in msg
    with pytest.raises(SQMDataError, match="is not a language code"):
        instruments.load(_write(tmp_path, "comma.yaml", MINI.replace('"01": a', '"01": {en: screen (colours, fun)}')))
    with pytest.raises(SQMDataError, match="scale should be"):
        instruments.load(_write(tmp_path, "type.yaml", MINI.replace("scale: {min: 1, max: 5}", "scale: 5")))


def test_kiosk_example_keeps_whole_wording():
    k = instruments.load(KIOSK_INSTRUMENT)
    assert k.text("04") == "has an engaging screen (colours, animation)"
    assert k.model["target"] == "Loyalty"


def test_reverse_keys_reflected_on_loading_and_straight_lining_on_raw_answers(tmp_path):
    inst = instruments.load(_write(tmp_path, "i.yaml", MINI))
    raw = pd.DataFrame({"P01": [5, 4, 2, 3], "P02": [5, 4, 1, 3], "P03": [5, 2, 5, 9], "overall_sat": [5, 4, 1, 3],
                        "region": [1, 2, 1, 2], "duration_sec": ["215秒", "3分35秒", "00:03:35", "200"]})
    raw.to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(SQMDataError, match="outside the scale 1–5"):
        io.load_survey(tmp_path / "s.csv", inst)
    raw.loc[3, "P03"] = 4
    raw.to_csv(tmp_path / "s.csv", index=False)
    s = io.load_survey(tmp_path / "s.csv", inst)
    assert s["P03"].tolist() == [1, 4, 1, 2]  # 6 − answer
    assert s.attrs["sqm"]["reflected"] == ["P03"]
    assert s["region"].tolist() == ["North", "South", "North", "South"]
    assert s["duration_sec"].tolist() == [215, 215, 215, 200]
    from sqmlib.audit import flag_straightliners

    assert flag_straightliners(s, inst, min_answered=3).tolist() == [True, False, False, False]


@pytest.mark.parametrize("text, seconds", [("215", 215), ("215秒", 215), ("3分35秒", 215), ("3 min 35 s", 215),
                                           ("00:03:35", 215), ("3:35", 215), ("1小时2分", 3720), ("2m", 120),
                                           ("３分３５秒", 215), ("soon", np.nan), ("", np.nan)])
def test_durations(text, seconds):
    got = parse_duration(text)
    assert (np.isnan(got) and np.isnan(seconds)) or got == seconds


def test_top_boxes_follow_each_questions_scale(tmp_path):
    from sqmlib.kpi import quarter_comparison, survey_kpis

    inst = instruments.load(_write(tmp_path, "i.yaml", MINI))
    s = pd.DataFrame({"overall_sat": [5, 4, 3, 2, 1, 4, 5, 3], "quarter": ["2026Q3"] * 8,
                      "survey_date": pd.to_datetime(["2026-07-01"] * 8)})
    k = survey_kpis(s, instrument=inst)
    assert k["csat"].iloc[0] == 4 / 8  # 4 and 5 on 1–5
    comp = quarter_comparison(s, "2026Q3", instrument=inst).set_index("kpi")
    assert comp.loc["CSAT (top-2-box)", "current"] == 4 / 8
    three = instruments.load(_write(tmp_path, "j.yaml", MINI.replace("role: outcome}", "role: outcome, top_boxes: 3}")))
    assert survey_kpis(s, instrument=three)["csat"].iloc[0] == 6 / 8
    assert survey_kpis(s.assign(overall_sat=s["overall_sat"] + 2))["csat"].iloc[0] == 4 / 8  # 1–7 default: 6, 7
    ces = instruments.load(_write(tmp_path, "k.yaml", MINI + "  ces: {type: rating, min: 1, max: 5, role: outcome}\n"))
    comp = quarter_comparison(s.assign(ces=[5, 4, 4, 3, 2, 1, 1, 2]), "2026Q3", instrument=ces).set_index("kpi")
    assert comp.loc["CES easy (top-2-box)", "current"] == 3 / 8 and comp.loc["CES", "unit"] == "1–5"


def test_headers_normalised_and_missing_columns_name_the_closest(tmp_path):
    doc = yaml.safe_load(MINI)
    doc["blocks"]["P"] = {"source": "{num}、*(感知)", "offset": 3}
    inst_path = tmp_path / "i.yaml"
    inst_path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    headers = ["4、员工友好（感知）", "5、 员工 专业（感知）", "6、环境整洁（感知）", "overall_sat", "region", "duration_sec"]
    pd.DataFrame([[5, 4, 3, 4, 1, 100]], columns=headers).to_csv(tmp_path / "s.csv", index=False)
    s = io.load_survey(tmp_path / "s.csv", inst_path)
    assert s[["P01", "P02", "P03"]].iloc[0].tolist() == [5, 4, 3]
    doc["blocks"]["P"]["offset"] = 0
    inst_path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SQMDataError) as e:
        io.load_survey(tmp_path / "s.csv", inst_path)
    assert "P01 (looked for '{num}、*(感知)'".replace("{num}", "1") in str(e.value)
    assert "closest headers:" in str(e.value) and "'4、员工友好（感知）'" in str(e.value)


def test_short_chinese_in_gb18030_is_read_as_chinese(tmp_path):
    p = tmp_path / "s.csv"
    p.write_bytes("id,region\n1,华北\n2,华南\n3,华东\n".encode("gb18030"))
    df, src = io.read_table(p)
    assert src.encoding == "gb18030" and df["region"].tolist() == ["华北", "华南", "华东"]
    korean = "성별,나이\n남성,20대\n여성,30대\n".encode("cp949")
    assert detect_encoding(korean) == "cp949"


def test_ambiguous_bytes_stop_with_both_readings(tmp_path):
    from sqmlib.io import COMMON_HANGUL, COMMON_HANZI

    # two characters whose bytes read as a rare Hangul syllable in CP949 and a rare hanzi in GB18030
    rare = []
    for lead in range(0xB0, 0xC9):
        for trail in range(0xA1, 0xFF):
            pair = bytes([lead, trail])
            ko, zh = pair.decode("cp949"), pair.decode("gb18030")
            if ko not in COMMON_HANGUL and zh not in COMMON_HANZI:
                rare.append(pair)
            if len(rare) == 2:
                break
        if len(rare) == 2:
            break
    p = tmp_path / "survey.csv"
    p.write_bytes(b"region\n" + rare[0] + b"\n" + rare[1] + b"\n")
    with pytest.raises(AmbiguousEncoding) as e:
        detect_encoding(p.read_bytes())
    assert {"cp949", "gb18030"} <= set(e.value.readings)
    with pytest.raises(SQMDataError) as e:
        io.read_table(p)
    assert "Korean (CP949)" in str(e.value) and "Simplified Chinese (GB18030)" in str(e.value)
    assert "--encoding " in str(e.value) and "encoding: " in str(e.value)
    df, src = io.read_table(p, encoding="gb18030")
    assert src.encoding == "gb18030"
    # the instrument's encoding reaches every reader, the report's quarter lookup included
    p.write_bytes(b"survey_date,region\n2026-08-13," + rare[0] + b"\n2026-05-02," + rare[1] + b"\n")
    with pytest.raises(SQMDataError):
        io.survey_quarters(p, "servperf")
    doc = yaml.safe_load((instruments.BUILTIN_DIR / "servperf.yaml").read_text(encoding="utf-8"))
    inst = _write(tmp_path, "instrument.yaml", yaml.safe_dump({**doc, "encoding": "gb18030"}, allow_unicode=True))
    assert io.survey_quarters(p, str(inst)) == ["2026Q2", "2026Q3"]


@pytest.mark.skipif(not KIOSK_CSV.exists(), reason="../shared/data is absent")
def test_kiosk_encoding_still_korean():
    assert detect_encoding(KIOSK_CSV.read_bytes()) == "cp949"


def test_spss_labels_and_user_missing(tmp_path):
    folder = exports.write_shape("spss_labels", tmp_path / "spss")
    f = io.load_folder(folder)
    assert set(f.survey["region"]) == {"North", "South", "East", "West"}
    counts = f.sources["survey"]["missing_codes"]
    import pyreadstat

    raw, _ = pyreadstat.read_sav(str(folder / "survey.sav"), user_missing=True)
    assert counts["E01"] == {lbl: int((raw["E01"] == code).sum()) for code, lbl in ((98, "don't know"), (99, "refused"))
                             if (raw["E01"] == code).any()}
    assert f.survey["E01"].notna().sum() == int((~raw["E01"].isin([98, 99]) & raw["E01"].notna()).sum())


def test_surveymonkey_two_header_rows(tmp_path):
    folder = exports.write_shape("surveymonkey", tmp_path / "sm")
    df, src = io.read_table(folder / "survey.csv")
    assert src.format == "surveymonkey-csv" and src.header_rows == 2
    assert "How well do we do on each of these? - The staff of the service, aspect 1" in df.columns


def test_draft_reproduces_the_bundled_mapping(tmp_path):
    text = draft_instrument(ROOT / "data" / "sample" / "survey.csv")
    p = _write(tmp_path, "draft.yaml", text)
    draft = instruments.load(p)
    mine = io.load_survey(ROOT / "data" / "sample" / "survey.csv", draft)
    ref = io.load_survey(ROOT / "data" / "sample" / "survey.csv", "servqual")
    cols = instruments.load("servqual").item_columns("E") + instruments.load("servqual").item_columns("P")
    pd.testing.assert_frame_equal(mine[cols], ref[cols])
    assert draft.scale == (1, 7) and set(draft.missing_codes) == {8.0, 9.0}
    assert {"channel", "region", "store"} <= set(draft.segments) and {"overall_sat", "nps", "ces"} <= set(draft.outcomes)
    assert "# guessed" in text


@pytest.mark.skipif(not KIOSK_CSV.exists(), reason="../shared/data is absent")
def test_draft_reproduces_the_kiosk_mapping(tmp_path):
    draft = instruments.load(_write(tmp_path, "draft.yaml", draft_instrument(KIOSK_CSV)))
    kiosk = instruments.load(KIOSK_INSTRUMENT)
    mine = io.load_survey(KIOSK_CSV, draft)
    ref = io.load_survey(KIOSK_CSV, kiosk)
    for b in ("E", "P", "IMP", "SAT"):
        pd.testing.assert_frame_equal(mine[kiosk.item_columns(b)], ref[kiosk.item_columns(b)])


def test_draft_on_platform_exports_loads_them(tmp_path):
    for name in ("wjx", "qualtrics", "surveymonkey", "googleforms"):
        folder = exports.write_shape(name, tmp_path / name)
        survey = next(folder.glob("survey.*"))
        draft = instruments.load(_write(tmp_path, f"{name}.yaml", draft_instrument(survey)))
        s = io.load_survey(survey, draft)
        truth = exports.canonical_answers(exports.SHAPES[name])
        items = [c for c in truth.columns if c[:1] in "EP" and c[1:].isdigit()]
        got = s[[c for c in items]]
        np.testing.assert_array_equal(got.to_numpy(dtype=float), truth[items].to_numpy(dtype=float))


def test_cli_draft_never_overwrites(tmp_path):
    out = tmp_path / "instrument.yaml"
    out.write_text("mine", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "sqmlib.cli", "instrument", "draft",
                        str(ROOT / "data" / "sample" / "survey.csv"), "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 1 and "left as it is" in r.stderr and out.read_text() == "mine"


def test_committed_examples_load_as_generated(tmp_path):
    for folder in sorted((ROOT / "data" / "examples").iterdir()):
        if not folder.is_dir():
            continue
        fresh = exports.write_shape(folder.name, tmp_path / folder.name)
        a, b = io.load_folder(folder).survey, io.load_folder(fresh).survey
        pd.testing.assert_frame_equal(a, b)


@pytest.mark.long
@pytest.mark.slow
@pytest.mark.skipif(not KIOSK_CSV.exists(), reason="../shared/data is absent")
def test_kiosk_study_report_with_make(tmp_path):
    data = tmp_path / "kiosk"
    data.mkdir()
    shutil.copyfile(KIOSK_CSV, data / "survey.csv")
    shutil.copyfile(KIOSK_INSTRUMENT, data / "instrument.yaml")
    out = tmp_path / "reports"
    r = subprocess.run(["make", "-s", "report", f"DATA={data}", f"OUT={out}"], cwd=ROOT, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    assert (out / "study" / "index.html").exists() and "Traceback" not in r.stderr
    summary = (out / "study" / "06_quarterly_summary.html").read_text(encoding="utf-8")
    assert "A one-off study" in summary and "No alerts or maturity levels: they need survey dates" in summary
    pages = "".join(p.read_text(encoding="utf-8") for p in (out / "study").glob("*.html"))
    assert "22 items" not in pages and "five-dimension" not in pages and "Warning" not in pages

    def metrics(stem):
        return json.loads((out / "study" / stem / "metrics.json").read_text(encoding="utf-8"))

    dims = {"reliability", "tangibles", "control", "economy", "convenience", "security"}
    audit = metrics("00_data_audit")
    assert audit["quarter"] == "" and audit["metrics"]["respondents_file"] == 211
    assert audit["metrics"]["item_columns"] == 96 and audit["metrics"]["problems"] == 0
    rel = metrics("01_survey_reliability")["metrics"]
    assert set(rel["cr"]) == dims
    # real E and P answers correlate, so some gap scores lose reliability against their parts
    assert min(rel["difference_reliability"].values()) < min(v for k, v in rel["alpha"].items() if k.startswith("P:"))
    gap = metrics("02_gap_analysis")["metrics"]
    assert gap["mode"] == "servqual" and gap["respondents"] > 200 and set(gap["dimension_gap"]) == dims
    assert gap["gap1_mean"] is None and gap["standards_share_meeting"] is None and len(gap["findings"]) == 3
    drv = metrics("03_driver_regression")["metrics"]
    assert set(drv["lmg_share"]) == dims and 0 < drv["r2"] < 1
    chain = metrics("07_service_profit_chain")["metrics"]
    assert chain["target"] == "Loyalty"  # the instrument's own model: satisfaction → reuse and recommend
    csat = metrics("05_kpi_monitoring")["metrics"]["kpis"]["CSAT (top-2-box)"]["current"]
    sat = io.load_survey(KIOSK_CSV, KIOSK_INSTRUMENT)["overall_sat"].dropna()
    assert csat == pytest.approx((sat >= 4).mean(), abs=1e-12)  # 4 and 5 on the 1–5 question


def test_explorers_offer_the_instruments_segments(tmp_path):
    from sqmlib import explore

    folder = exports.write_shape("oneoff_study", tmp_path / "one")
    survey = pd.read_csv(folder / "survey.csv").assign(comment=lambda d: ["fine", "slow", "ok"] * (len(d) // 3)
                                                       + ["fine"] * (len(d) % 3))
    survey.to_csv(folder / "survey.csv", index=False)
    f = io.load_folder(folder)
    e = explore.SurveyExplorer.from_folder(f)
    assert e.segments == ["sex"] and e.quarters == []  # the short text answers are not a segment


def test_numbers_are_shown_as_a_reader_expects():
    from sqmlib import formats

    assert [formats.p_value(p) for p in (1e-9, 0.0234, 0.5, 1.0, np.nan)] == ["<\u00a0.001", ".023", ".500", "1.000", "–"]
    assert formats.share(0.1234) == "12.3%" and formats.count(12345.0) == "12,345" and formats.mean(-0.6357) == "-0.64"
    assert formats.interval(-0.756, -0.514) == "[-0.76, -0.51]"
    frame = pd.DataFrame({"n": [205.0], "p_value": [1e-9], "wilcoxon_p": [0.2], "share_below": [0.83], "mean_p": [4.07],
                          "mean_e": [6.4], "gap": [-0.6], "t": [-10.1], "label": ["x"], "alpha": [0.81]})
    kinds = {c: formats.kind(c, frame[c]) for c in frame.columns}
    assert kinds == {"n": "count", "p_value": "p", "wilcoxon_p": "p", "share_below": "share", "mean_p": "mean",
                     "mean_e": "mean", "gap": "mean", "t": None, "label": None, "alpha": None}
    html = formats.apply(frame.style, frame).to_html()
    assert "<\u00a0.001" in html and "83.0%" in html and "205" in html and "205.0" not in html and "4.07" in html


def test_a_study_has_no_quarter_to_ask_for(tmp_path):
    from sqmlib import SQMReportError, report

    folder = exports.write_shape("oneoff_study", tmp_path / "one")
    with pytest.raises(SQMReportError, match="no dates: it is a one-off study"):
        report.build("2026Q3", data_dir=folder, out_dir=tmp_path / "out", pdf=False, progress=False)
    assert report.study_name(folder, instruments.load(folder / "instrument.yaml")) == "oneoff_study"
    assert report.study_name(ROOT / "data" / "sample", instruments.load("servqual")) == "sample"
    assert not (tmp_path / "out").exists()


def _qualtrics_export(path, n=60, seed=3):
    """A Qualtrics CSV export as the platform writes it: metadata columns first (IPAddress before ResponseId),
    the question texts and ImportIds under the header, a matrix question Q1_1…Q1_5, then the overall
    satisfaction (Q2, 1–7) and likelihood to recommend (Q3, 0–10) as numbered questions."""
    rng = np.random.default_rng(seed)
    body = pd.DataFrame({
        "StartDate": pd.date_range("2026-07-01", periods=n, freq="13h").strftime("%Y-%m-%d %H:%M:%S"),
        "EndDate": pd.date_range("2026-07-01 00:06", periods=n, freq="13h").strftime("%Y-%m-%d %H:%M:%S"),
        "Status": "IP Address", "IPAddress": [f"10.0.{k // 200}.{k % 200}" for k in range(n)],
        "Progress": "100", "Duration (in seconds)": rng.integers(120, 900, n).astype(str), "Finished": "True",
        "ResponseId": [f"R_{k:08x}" for k in rng.choice(10 ** 8, n, replace=False)],
        **{f"Q1_{i}": rng.integers(1, 6, n).astype(str) for i in range(1, 6)},
        "Q2": rng.integers(1, 8, n).astype(str), "Q3": rng.integers(0, 11, n).astype(str)})
    texts = {c: c for c in body.columns}
    texts.update({f"Q1_{i}": f"How well do we do on each of these? - aspect {i}" for i in range(1, 6)})
    texts.update({"Q2": "Overall, how satisfied are you with our service?",
                  "Q3": "How likely are you to recommend us to a friend or colleague?"})
    imports = {c: f'{{"ImportId":"{c}"}}' for c in body.columns}
    pd.concat([pd.DataFrame([texts, imports]), body], ignore_index=True).to_csv(path, index=False)
    return body


def test_draft_reads_qualtrics_question_texts_and_never_takes_an_ip_address_as_the_id(tmp_path):
    body = _qualtrics_export(tmp_path / "survey.csv")
    text = draft_instrument(tmp_path / "survey.csv")
    doc = yaml.safe_load(text)
    cols = doc["columns"]
    assert cols["respondent_id"]["source"] == "ResponseId"
    assert cols["nps"]["source"] == "Q3" and cols["nps"]["role"] == "outcome"
    assert cols["overall_sat"]["source"] == "Q2" and cols["overall_sat"]["role"] == "outcome"
    assert all(c.get("source") != "IPAddress" or c["type"] != "id" for c in cols.values())
    s = io.load_survey(tmp_path / "survey.csv", instruments.load(_write(tmp_path, "draft.yaml", text)))
    assert s["respondent_id"].tolist() == body["ResponseId"].tolist()
    assert s["nps"].tolist() == body["Q3"].astype(float).tolist()


def test_draft_recognises_common_names_and_keeps_personal_data_out_of_the_id(tmp_path):
    rng = np.random.default_rng(4)
    n = 40
    df = pd.DataFrame({"email": [f"user{k}@example.com" for k in range(n)],
                       "Submitted": pd.date_range("2026-08-01", periods=n, freq="7h").strftime("%d/%m/%Y %H:%M"),
                       **{f"P{i:02d}": rng.integers(1, 6, n) for i in range(1, 7)},
                       "osat": rng.integers(1, 6, n)})
    df.to_csv(tmp_path / "survey.csv", index=False)
    doc = yaml.safe_load(draft_instrument(tmp_path / "survey.csv"))
    cols = doc["columns"]
    assert cols["survey_date"]["source"] == "Submitted" and cols["overall_sat"]["source"] == "osat"
    assert "respondent_id" not in cols  # the e-mail address is not an id: rows are numbered instead


def test_draft_finds_the_sheet_and_the_header_row_of_a_workbook(tmp_path):
    from test_io import _workbook

    df = pd.read_csv(ROOT / "data" / "sample" / "survey.csv", dtype=str, keep_default_na=False).head(40)
    book = _workbook(df.drop(columns="quarter"), tmp_path / "survey.xlsx")
    text = draft_instrument(book)
    assert "sheet: Responses" in text and "header_row: 3" in text
    draft = instruments.load(_write(tmp_path, "draft.yaml", text))
    s = io.load_survey(book, draft)
    assert len(s) == 40 and s["survey_date"].dt.year.eq(int(df["survey_date"].str[:4].iloc[0])).any()
    ref = io.load_survey(ROOT / "data" / "sample" / "survey.csv", "servqual").head(40)
    cols = instruments.load("servqual").item_columns("P")
    np.testing.assert_array_equal(s[cols].to_numpy(float), ref[cols].to_numpy(float))


def test_draft_reads_answers_exported_as_option_texts(tmp_path):
    """问卷星's default export "按选项文本": answers are the options' texts. The draft recognises the Likert set,
    writes it as the scale's labels, and the survey loads to the same numbers as the numeric export."""
    rng = np.random.default_rng(7)
    n = 60
    words = ("非常不同意", "不同意", "一般", "同意", "非常同意")
    nums = pd.DataFrame({f"{k}、服务项目{k}(感知)": rng.integers(1, 6, n) for k in range(1, 9)})
    texts = nums.apply(lambda c: c.map(lambda v: words[v - 1]))
    lead = pd.DataFrame({"序号": range(1, n + 1), "提交答卷时间": pd.date_range("2026-07-01", periods=n, freq="9h")
                         .strftime("%Y/%m/%d %H:%M:%S"), "所用时间": [f"{k}秒" for k in rng.integers(60, 400, n)]})
    pd.concat([lead, texts], axis=1).to_csv(tmp_path / "survey.csv", index=False)
    text = draft_instrument(tmp_path / "survey.csv")
    assert 'labels: {1: "非常不同意"' in text and "max: 5" in text
    draft = instruments.load(_write(tmp_path, "draft.yaml", text))
    s = io.load_survey(tmp_path / "survey.csv", draft)
    items = [c for c in s.columns if c[:1] in "EP" and c[1:].isdigit()]
    assert len(items) == 8
    np.testing.assert_array_equal(s[items].to_numpy(float), nums.to_numpy(float))


def test_draft_does_not_widen_the_scale_for_a_few_typing_errors(tmp_path):
    rng = np.random.default_rng(8)
    n = 3000
    df = pd.DataFrame({f"P{i:02d}": rng.integers(1, 5, n) for i in range(1, 8)})
    df.iloc[rng.choice(n, 21, replace=False), 2] = 0  # 21 stray zeros in 21,000 answers
    df.to_csv(tmp_path / "survey.csv", index=False)
    assert "scale: {min: 1, max: 4" in draft_instrument(tmp_path / "survey.csv")
