"""Loading and validation: formats, encodings and one bad-input test per error kind."""
import hashlib
import os

import numpy as np
import pandas as pd
import pytest

from sqmlib import SQMArgumentError, SQMDataError, io, instruments

from conftest import KIOSK, KIOSK_INSTRUMENT, needs_shared


def digest(p):
    return hashlib.sha256(p.read_bytes()).hexdigest(), os.stat(p).st_mtime_ns


@pytest.fixture()
def survey_csv(small_dir, tmp_path):
    """A copy of the small survey CSV with 12 rows, to corrupt in tests."""
    df = pd.read_csv(small_dir / "survey.csv", dtype=str, keep_default_na=False).head(12)
    p = tmp_path / "survey.csv"
    df.to_csv(p, index=False)
    return p, df


def write(df, p):
    df.to_csv(p, index=False)
    return p


def load_error(path, **kw):
    before = digest(path)
    with pytest.raises(SQMDataError) as e:
        io.load_survey(path, **kw)
    assert digest(path) == before, "loading must never modify the input file"
    assert str(path) in str(e.value)
    return e.value


# ---- the bundled and generated data load -------------------------------------------------------------------
def test_sample_tables_load(small_dir):
    s = io.load_survey(small_dir / "survey.csv")
    assert len(s) == 800 and s["respondent_id"].is_unique
    assert list(s.columns[:4]) == ["respondent_id", "customer_id", "survey_date", "quarter"]
    items = s[[f"P{i:02d}" for i in range(1, 23)]]
    assert items.min().min() >= 1 and items.max().max() <= 7
    assert s["survey_date"].dtype.kind == "M"
    codes = s.attrs["sqm"]["missing_codes"]
    assert sum(v.get("don't know", 0) for v in codes.values()) > 0
    c = io.load_customers(small_dir / "customers.csv")
    assert c["churned"].dtype == "boolean" and c["customer_id"].is_unique
    i = io.load_interactions(small_dir / "interactions.csv")
    assert (i["closed_at"] >= i["opened_at"]).all()
    st = io.load_standards(small_dir / "standards.csv")
    assert set(st["direction"]) == {"at_most"}
    m = io.load_management(small_dir / "management.csv")
    assert m.shape[0] == 4 and {"E01", "E22"} <= set(m.columns)


def test_declared_codes_become_missing(survey_csv):
    p, df = survey_csv
    df.loc[0, "P05"] = "8"
    df.loc[1, "P05"] = "9"
    df.loc[2, "P05"] = ""
    s = io.load_survey(write(df, p))
    assert s["P05"].iloc[:3].isna().all()
    assert s.attrs["sqm"]["missing_codes"]["P05"]["don't know"] >= 1
    assert s.attrs["sqm"]["missing_codes"]["P05"]["not applicable"] >= 1


def test_quarter_derived_and_normalised(survey_csv):
    p, df = survey_csv
    s = io.load_survey(write(df.drop(columns="quarter"), p))
    expected = pd.PeriodIndex(pd.to_datetime(df["survey_date"]), freq="Q").astype(str).str.replace("Q", "Q")
    assert list(s["quarter"]) == list(expected)
    df2 = df.copy()
    df2["quarter"] = df2["quarter"].str.replace("Q", "-q")
    s2 = io.load_survey(write(df2, p))
    assert list(s2["quarter"]) == list(df["quarter"])


# ---- formats and encodings ----------------------------------------------------------------------------------
def test_formats_excel_parquet_spss_agree(survey_csv, tmp_path):
    p, df = survey_csv
    ref = io.load_survey(p)
    num = df.copy()
    item_cols = [c for c in df.columns if c[0] in "EPAD" and c[1:].isdigit()] + ["overall_sat", "nps", "ces"]
    for c in item_cols + ["duration_sec"] + [c for c in df.columns if c.startswith("I_")]:
        num[c] = pd.to_numeric(num[c])
    num.to_excel(tmp_path / "s.xlsx", index=False)
    num.to_parquet(tmp_path / "s.parquet")
    import pyreadstat

    pyreadstat.write_sav(num, str(tmp_path / "s.sav"))
    for f in ("s.xlsx", "s.parquet", "s.sav"):
        got = io.load_survey(tmp_path / f)
        pd.testing.assert_frame_equal(got[item_cols], ref[item_cols], check_dtype=False)
        assert list(got["quarter"]) == list(ref["quarter"])


def test_qualtrics_export(survey_csv, tmp_path):
    p, df = survey_csv
    text = p.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    q_text = ",".join(f'"Question text for {h}"' for h in header)
    import_ids = ",".join('"{""ImportId"":""QID%d""}"' % k for k in range(len(header)))
    q = tmp_path / "qualtrics.csv"
    q.write_text("\n".join([text[0], q_text, import_ids] + text[1:]) + "\n", encoding="utf-8")
    s = io.load_survey(q)
    assert s.attrs["sqm"]["format"] == "qualtrics-csv"
    pd.testing.assert_frame_equal(s.drop(columns=[]).reset_index(drop=True), io.load_survey(p), check_like=True)
    # row numbers account for the two extra header rows
    df.loc[1, "P03"] = "0"
    lines = p.read_text(encoding="utf-8").splitlines()
    write(df, p)
    lines = p.read_text(encoding="utf-8").splitlines()
    q.write_text("\n".join([lines[0], q_text, import_ids] + lines[1:]) + "\n", encoding="utf-8")
    err = load_error(q)
    assert err.problems[0].rows == (5,)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "cp949", "big5", "cp950", "cp932"])
def test_encodings_detected(tmp_path, encoding):
    if encoding in ("big5", "cp950", "cp932"):  # a Taiwanese hotel survey, a Japanese one
        region, note = ((["台北", "高雄", "臺中", "新竹", "花蓮"], "的意見：櫃檯服務很親切") if encoding != "cp932" else
                        (["東京", "大阪", "京都", "札幌", "福岡"], "のスタッフはとても親切でした"))
        header = "respondent_id,customer_id,survey_date,region,備考," + ",".join(f"P{i:02d}" for i in range(1, 23))
        rows = [f"R{i},C{i},2026-07-0{i + 1},{region[i]},{region[i]}{note}," + ",".join(["5"] * 22) for i in range(5)]
        p = tmp_path / "s.csv"
        p.write_bytes(("\n".join([header] + rows) + "\n").encode(encoding))
        s = io.load_survey(p, "servperf")
        assert list(s["region"]) == region
        assert s.attrs["sqm"]["encoding"] == {"cp950": "big5"}.get(encoding, encoding)
        return
    if encoding in ("gb18030", "gbk"):
        region = ["华北", "华南", "华东", "西部", "东北"]
        header = "respondent_id,customer_id,survey_date,region,备注," + ",".join(f"P{i:02d}" for i in range(1, 23))
    else:
        region = ["서울", "부산", "대구", "인천", "광주"]
        header = "respondent_id,customer_id,survey_date,region,비고," + ",".join(f"P{i:02d}" for i in range(1, 23))
    if encoding.startswith("utf"):
        region = ["华北", "서울", "North", "Süd", "東京"]
    rows = [f"R{i},C{i},2026-07-0{i + 1},{region[i]},{region[i]}的意见 {region[i]}," + ",".join(["5"] * 22)
            for i in range(5)] if encoding in ("gb18030", "gbk") else [
        f"R{i},C{i},2026-07-0{i + 1},{region[i]},{region[i]} 의견입니다," + ",".join(["5"] * 22) for i in range(5)]
    p = tmp_path / "s.csv"
    p.write_bytes(("\n".join([header] + rows) + "\n").encode(encoding))
    s = io.load_survey(p, "servperf")
    assert list(s["region"]) == region
    expected = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gb18030": "gb18030", "gbk": "gb18030", "cp949": "cp949"}
    assert s.attrs["sqm"]["encoding"] == expected[encoding]


def test_wrong_encoding_is_a_clear_error(tmp_path):
    p = tmp_path / "s.csv"
    p.write_bytes("respondent_id,region\nR1,서울\n".encode("cp949"))
    before = digest(p)
    with pytest.raises(SQMDataError, match=r"not valid utf-8 .*line 2"):
        io.read_table(p, encoding="utf-8")
    with pytest.raises(SQMDataError, match="unknown encoding"):
        io.read_table(p, encoding="klingon")
    assert digest(p) == before


# ---- one bad-input test per error kind ----------------------------------------------------------------------
def test_missing_required_columns(survey_csv):
    p, df = survey_csv
    err = load_error(write(df.drop(columns=["P05", "customer_id"]), p))
    assert err.problems[0].kind == "missing_column"
    assert "P05" in str(err) and "customer_id" in str(err)


def test_partial_optional_block_is_an_error(survey_csv):
    p, df = survey_csv
    err = load_error(write(df.drop(columns=["A03"]), p))
    assert "A03" in str(err)
    # the whole optional block absent is fine
    s = io.load_survey(write(df.drop(columns=[c for c in df.columns if c[0] in "AD" and c[1:].isdigit()]), p))
    assert "A01" not in s.columns


def test_non_numeric_answers(survey_csv):
    p, df = survey_csv
    df.loc[3, "E07"] = "seven"
    df.loc[6, "E07"] = "n/a?"
    err = load_error(write(df, p))
    (prob,) = err.problems
    assert (prob.kind, prob.column, prob.rows, prob.values) == ("non_numeric", "E07", (5, 8), ("seven", "n/a?"))


def test_out_of_range_not_declared(survey_csv):
    p, df = survey_csv
    df.loc[2, "P05"] = "0"
    df.loc[5, "P05"] = "12"
    df.loc[7, "P05"] = "8"  # declared code: fine
    df.loc[8, "nps"] = "11"
    err = load_error(write(df, p))
    by_col = {q.column: q for q in err.problems}
    assert by_col["P05"].kind == "out_of_range" and by_col["P05"].rows == (4, 7)
    assert by_col["P05"].values == (0, 12)
    assert by_col["nps"].rows == (10,)
    assert "declared missing codes are 8, 9" in str(err)


def test_fractional_answers(survey_csv):
    p, df = survey_csv
    df.loc[0, "P01"] = "3.5"
    err = load_error(write(df, p))
    assert err.problems[0].kind == "not_whole" and err.problems[0].rows == (2,)


def test_duplicated_ids(survey_csv):
    p, df = survey_csv
    df.loc[4, "respondent_id"] = df.loc[1, "respondent_id"]
    df.loc[9, "respondent_id"] = ""
    err = load_error(write(df, p))
    kinds = {q.kind: q for q in err.problems}
    assert kinds["duplicate_id"].rows == (3, 6)
    assert kinds["missing_id"].rows == (11,)


def test_empty_files(tmp_path):
    empty = tmp_path / "survey.csv"
    empty.write_bytes(b"")
    assert "the file is empty" in str(load_error(empty))
    header_only = tmp_path / "header.csv"
    header_only.write_text("respondent_id,customer_id,survey_date," + ",".join(
        f"{b}{i:02d}" for b in "EP" for i in range(1, 23)) + "\n", encoding="utf-8")
    assert "no answers" in str(load_error(header_only))


def test_unparseable_dates(survey_csv):
    p, df = survey_csv
    df.loc[2, "survey_date"] = "31/31/2026"
    df.loc[3, "survey_date"] = "yesterday"
    df.loc[4, "survey_date"] = "2026/07/05"  # readable
    err = load_error(write(df, p))
    (prob,) = err.problems
    assert (prob.kind, prob.column, prob.rows) == ("bad_date", "survey_date", (4, 5))


def test_importance_must_sum_to_100(survey_csv):
    p, df = survey_csv
    answered = df.index[df["I_tangibles"] != ""]
    r1, r2 = answered[0], answered[1]
    df.loc[r1, "I_tangibles"] = str(int(df.loc[r1, "I_tangibles"]) + 5)
    df.loc[r2, "I_empathy"] = ""
    err = load_error(write(df, p))
    kinds = {q.kind: q for q in err.problems}
    assert kinds["importance_sum"].rows == (r1 + 2,)
    assert kinds["importance_sum"].values[0] == 105
    assert kinds["importance_incomplete"].rows == (r2 + 2,)


def test_every_problem_reported_at_once(survey_csv):
    p, df = survey_csv
    df.loc[0, "P01"] = "x"
    df.loc[1, "E02"] = "99"
    df.loc[2, "survey_date"] = "never"
    df.loc[3, "respondent_id"] = df.loc[4, "respondent_id"]
    err = load_error(write(df, p))
    assert {q.kind for q in err.problems} == {"non_numeric", "out_of_range", "bad_date", "duplicate_id"}
    assert len(err.to_frame()) == 4
    assert isinstance(err, ValueError)


def test_coerce_mode_keeps_going(survey_csv):
    p, df = survey_csv
    df.loc[0, "P01"] = "x"
    df.loc[1, "E02"] = "99"
    with pytest.warns(UserWarning, match="set to missing"):
        s = io.load_survey(write(df, p), errors="coerce")
    assert np.isnan(s.loc[0, "P01"]) and np.isnan(s.loc[1, "E02"])
    assert len(s.attrs["sqm"]["problems"]) == 2


def test_unsupported_and_missing_files(tmp_path):
    (tmp_path / "s.json").write_text("{}")
    with pytest.raises(SQMDataError, match="unsupported file type"):
        io.load_survey(tmp_path / "s.json")
    with pytest.raises(SQMDataError, match="file not found"):
        io.load_survey(tmp_path / "nope.csv")


def test_ambiguous_pattern(tmp_path):
    inst = tmp_path / "i.yaml"
    inst.write_text("name: t\nscale: {min: 1, max: 5}\nblocks: {P: {source: 'Q{num}*'}}\nitems: ['1', '2']\n",
                    encoding="utf-8")
    p = tmp_path / "s.csv"
    p.write_text("Q1 speed,Q1 again,Q2 staff\n1,2,3\n", encoding="utf-8")
    with pytest.raises(SQMDataError, match="2 columns match 'Q1\\*'"):
        io.load_survey(p, inst)


# ---- the other tables ---------------------------------------------------------------------------------------
def test_customers_errors(small_dir, tmp_path):
    df = pd.read_csv(small_dir / "customers.csv", dtype=str, keep_default_na=False).head(10)
    df.loc[0, "churned"] = "maybe"
    df.loc[1, "monthly_charges"] = "-5"
    df.loc[2, "customer_id"] = df.loc[3, "customer_id"]
    df.loc[4, "churned"], df.loc[4, "churn_date"] = "yes", ""
    df.loc[5, "churned"], df.loc[5, "churn_date"] = "yes", "2000-01-01"
    p = write(df, tmp_path / "customers.csv")
    with pytest.raises(SQMDataError) as e:
        io.load_customers(p)
    msgs = str(e.value)
    for part in ("not yes/no", "outside 0–inf", "duplicated ids", "without a churn_date", "before signup_date"):
        assert part in msgs
    with pytest.raises(SQMDataError, match="required columns are missing: plan"):
        io.load_customers(write(df.drop(columns="plan"), tmp_path / "c2.csv"))


def test_interactions_and_standards_errors(small_dir, tmp_path):
    df = pd.read_csv(small_dir / "interactions.csv", dtype=str, keep_default_na=False).head(10)
    df.loc[2, "closed_at"] = "2000-01-01 00:00"
    df.loc[3, "first_response_at"] = "soon"
    with pytest.raises(SQMDataError) as e:
        io.load_interactions(write(df, tmp_path / "interactions.csv"))
    assert {q.kind for q in e.value.problems} == {"inconsistent", "bad_date"}
    st = pd.read_csv(small_dir / "standards.csv", dtype=str, keep_default_na=False)
    st.loc[0, "direction"] = "below"
    st.loc[2, "severity"] = "critical"
    with pytest.raises(SQMDataError) as e:
        io.load_standards(write(st, tmp_path / "standards.csv"))
    assert {q.kind for q in e.value.problems} == {"bad_value", "duplicate_id"}


def test_find_table(tmp_path):
    assert io.find_table(tmp_path, "survey") is None
    (tmp_path / "survey.csv").write_text("a\n1\n")
    assert io.find_table(tmp_path, "survey").name == "survey.csv"
    (tmp_path / "survey.xlsx").write_text("")
    with pytest.raises(SQMDataError, match="several survey files"):
        io.find_table(tmp_path, "survey")


def test_latest_quarter(small_dir):
    assert io.latest_quarter(small_dir) == "2026Q3"


# ---- the real Korean kiosk survey ---------------------------------------------------------------------------
@needs_shared(KIOSK)
def test_kiosk_survey_loads():
    before = digest(KIOSK)
    s = io.load_survey(KIOSK, KIOSK_INSTRUMENT)
    assert digest(KIOSK) == before
    assert len(s) == 211 and s.attrs["sqm"]["encoding"] == "cp949"
    inst = instruments.load(KIOSK_INSTRUMENT)
    for b in ("E", "P", "IMP", "SAT"):
        x = s[inst.item_columns(b)]
        assert x.shape == (211, 24) and x.min().min() >= 1 and x.max().max() <= 7
    # spot checks against the raw file (first respondent, first E/P pair; last outcome item)
    raw = pd.read_csv(KIOSK, encoding="cp949")
    assert s.loc[0, "E01"] == raw.iloc[0, 3] and s.loc[0, "P01"] == raw.iloc[0, 4]
    assert s.loc[0, "E09"] == raw.iloc[0, 17]  # item 9 stands before item 8 in the file
    assert s.loc[0, "recommend"] == raw.iloc[0, 161]
    assert set(s["sex"].dropna()) == {"남", "여"}


# ---- texts in rating columns: missing codes and option texts (问卷星 "按选项文本", Qualtrics choice text) ---------------
def _instrument_with(tmp_path, **changes):
    """The SERVQUAL instrument with top-level keys replaced (``scale``, ``missing_codes`` …)."""
    import yaml

    doc = yaml.safe_load((instruments.BUILTIN_DIR / "servqual.yaml").read_text(encoding="utf-8"))
    doc.update(changes)
    path = tmp_path / "instrument.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_text_missing_codes(survey_csv, tmp_path):
    """"N/A" and "不适用" declared as missing codes (beside numeric ones) become missing and are counted under
    their labels; means equal those computed from the raw file with the texts dropped."""
    p, df = survey_csv
    df.loc[[0, 3, 4], "P05"] = ["N/A", " n/a ", "不适用"]
    df.loc[1, "P05"] = "9"
    df.loc[2, "E10"] = "N/A"
    inst = _instrument_with(tmp_path, missing_codes={8: "don't know", 9: "not applicable", "N/A": "not applicable",
                                                     "不适用": "not applicable"})
    s = io.load_survey(write(df, p), instrument=str(inst))
    assert s["P05"].iloc[[0, 1, 3, 4]].isna().all() and s["E10"].iloc[2] != s["E10"].iloc[2]
    assert s.attrs["sqm"]["missing_codes"]["P05"]["not applicable"] == 4
    raw = pd.to_numeric(df["P05"].str.strip().replace({"N/A": None, "n/a": None, "不适用": None, "9": None, "8": None}))
    assert s["P05"].mean() == pytest.approx(raw.mean(), abs=1e-12)
    # a text code that is not declared: the problem says how to declare it
    err = load_error(write(df, p))
    assert {q.column for q in err.problems} == {"P05", "E10"}
    assert "missing_codes" in str(err) and "'N/A'" in str(err)


def test_answers_as_option_texts(survey_csv, tmp_path):
    """A 问卷星 export "按选项文本": answers are the options' texts; the scale's labels map them to points and the
    means equal those of the same answers given as numbers."""
    p, df = survey_csv
    words = {1: "非常不同意", 2: "不同意", 3: "有点不同意", 4: "一般", 5: "有点同意", 6: "同意", 7: "非常同意"}
    items = [c for c in df.columns if c[:1] in "EP" and c[1:].isdigit()]
    numbers = io.load_survey(write(df, p))
    texts = df.copy()
    for c in items:
        texts[c] = df[c].map(lambda v: words.get(int(v), v) if v.isdigit() and 1 <= int(v) <= 7 else v)
    inst = _instrument_with(tmp_path, scale={"min": 1, "max": 7, "labels": words})
    s = io.load_survey(write(texts, tmp_path / "texts.csv"), instrument=str(inst))
    pd.testing.assert_frame_equal(s[items], numbers[items])
    # a text that is neither a label nor a declared missing code: named, with the way out
    texts.loc[5, "P03"] = "满意"
    err = load_error(write(texts, tmp_path / "texts.csv"), instrument=str(inst))
    (prob,) = err.problems
    assert prob.column == "P03" and prob.values == ("满意",) and "labels" in prob.message


def test_problems_of_one_kind_in_many_columns_are_one_line(survey_csv):
    """"N/A" typed in 20 columns and stray 0s in 12 others: two lines, each naming its columns, so both kinds
    reach the console (and a report's one-line error)."""
    p, df = survey_csv
    items = [c for c in df.columns if c[:1] in "EP" and c[1:].isdigit()]
    for c in items[:20]:
        df.loc[1, c] = "N/A"
    for c in items[20:32]:
        df.loc[2, c] = "0"
    err = load_error(write(df, p))
    lines = str(err).splitlines()[1:]
    assert len(lines) == 2 and lines[0].startswith("  - 20 columns (") and lines[1].startswith("  - 12 columns (")
    assert "'N/A'" in lines[0] and "outside the scale 1–7" in lines[1]
    assert len(err.problems) == 32  # every problem is still there for code that reads them


def test_text_missing_code_of_one_column(survey_csv, tmp_path):
    """A column's own text missing code (``nps: {missing_codes: {"N/A": …}}``) is accepted, not a crash."""
    import yaml

    p, df = survey_csv
    df.loc[[2, 6], "nps"] = ["N/A", "n/a"]
    doc = yaml.safe_load((instruments.BUILTIN_DIR / "servqual.yaml").read_text(encoding="utf-8"))
    doc["columns"]["nps"]["missing_codes"] = {"N/A": "no answer"}
    inst = tmp_path / "instrument.yaml"
    inst.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    s = io.load_survey(write(df, p), instrument=str(inst))
    assert s["nps"].isna().sum() == 2 and s.attrs["sqm"]["missing_codes"]["nps"] == {"no answer": 2}
    assert s["nps"].mean() == pytest.approx(pd.to_numeric(df["nps"].drop([2, 6])).mean(), abs=1e-12)


# ---- workbooks: a cover sheet, a title above the headers, dates as Excel serial numbers --------------------------
def _workbook(df, path, dates_as_serials=True):
    """``df`` on sheet "Responses" under a merged title row and a blank row (headers on row 3), after a cover
    sheet, dates written as Excel serial numbers (days since 1899-12-30, as Excel stores them)."""
    from datetime import datetime

    from openpyxl import Workbook

    wb = Workbook()
    cover = wb.active
    cover.title = "About this export"
    cover["A1"] = "Customer survey export"
    cover["A2"] = "Generated by the survey platform"
    ws = wb.create_sheet("Responses")
    ws["A1"] = "Service survey — all responses"
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
    ws.append([])
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, row):
            if c == "survey_date" and dates_as_serials:
                d = datetime.fromisoformat(str(v))
                cells.append((d - datetime(1899, 12, 30)).total_seconds() / 86400)
            else:
                cells.append(float(v) if str(v).replace(".", "", 1).isdigit() else v)
        ws.append(cells)
    wb.save(path)
    return path


def test_workbook_with_a_cover_sheet_and_a_title_row(survey_csv, tmp_path):
    from datetime import datetime

    _, df = survey_csv
    df = df.drop(columns="quarter")  # the quarter comes from the dates
    df.loc[6:, "survey_date"] = "2026-04-03 10:15:00"  # two quarters in the file
    book = _workbook(df, tmp_path / "survey.xlsx")
    # the default instrument reads the cover sheet: the error says where the headers are
    err = load_error(book)
    assert "sheet 'Responses', row 3" in str(err) and "sheet: Responses and header_row: 3" in str(err)
    inst = _instrument_with(tmp_path, sheet="Responses", header_row=3)
    s = io.load_survey(book, instrument=str(inst))
    want = [datetime(1899, 12, 30) + (datetime.fromisoformat(v) - datetime(1899, 12, 30)) for v in df["survey_date"]]
    assert [t.to_pydatetime() for t in s["survey_date"]] == want
    assert list(s["quarter"]) == [f"{t.year}Q{(t.month - 1) // 3 + 1}" for t in want]
    assert io.survey_quarters(book, str(inst)) == sorted(set(s["quarter"]))
    assert len(set(s["quarter"])) == 2
    numbers = io.load_survey(write(df, tmp_path / "same.csv"))
    items = [c for c in df.columns if c[:1] in "EP" and c[1:].isdigit()]
    pd.testing.assert_frame_equal(s[items], numbers[items])
    assert s["respondent_id"].tolist() == numbers["respondent_id"].tolist()


def test_survey_dates_that_cannot_be_right(survey_csv):
    """Dates before 1990 or after today (1970 from a number taken for nanoseconds, a year typed wrong) are a
    problem, never a quarter of their own."""
    p, df = survey_csv
    df.loc[2, "survey_date"] = "1970-01-01"
    df.loc[4, "survey_date"] = "2099-05-01"
    err = load_error(write(df, p))
    (prob,) = err.problems
    assert prob.kind == "implausible_date" and prob.rows == (4, 6) and prob.values == ("1970-01-01", "2099-05-01")
    assert io.survey_quarters(p) == sorted(set(io.load_survey(write(df.drop([2, 4]), p))["quarter"]))


# ---- one survey in two files -------------------------------------------------------------------------------------
def test_expectations_and_perceptions_in_two_files(small_dir, tmp_path):
    """``survey: {files: [expectations.csv, perceptions.csv], on: respondent_id}``: the files are joined on the
    id; respondents missing from either file are left out and named by the data audit; the joined answers equal
    the one-file survey's."""
    import yaml

    from sqmlib import audit

    whole = pd.read_csv(small_dir / "survey.csv", dtype=str, keep_default_na=False)
    e_cols = [c for c in whole.columns if c.startswith("E") and c[1:].isdigit()]
    ex = whole[["respondent_id", *e_cols]].iloc[3:]  # three respondents without expectations
    pe = whole.drop(columns=e_cols).sample(frac=1, random_state=1)  # another order
    pe = pd.concat([pe, pe.head(2).assign(respondent_id=["X1", "X2"])])  # two without expectations either
    folder = tmp_path / "data"
    folder.mkdir()
    ex.to_csv(folder / "expectations.csv", index=False)
    pe.to_csv(folder / "perceptions.csv", index=False)
    doc = yaml.safe_load((instruments.BUILTIN_DIR / "servqual.yaml").read_text(encoding="utf-8"))
    doc["survey"] = {"files": ["expectations.csv", "perceptions.csv"], "on": "respondent_id"}
    (folder / "instrument.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    f = io.load_folder(folder)
    s = f.survey
    one = io.load_survey(small_dir / "survey.csv").set_index("respondent_id")
    assert len(s) == len(whole) - 3 and set(s["respondent_id"]) == set(whole["respondent_id"].iloc[3:])
    cols = [c for c in one.columns if c[:1] in "EP" and c[1:].isdigit()]
    pd.testing.assert_frame_equal(s.set_index("respondent_id")[cols], one.loc[s["respondent_id"], cols])
    assert s.attrs["sqm"]["unmatched"] == {"perceptions.csv": {"n": 5, "ids": sorted(
        [*whole["respondent_id"].iloc[:3], "X1", "X2"])}}
    a = audit.run_audit(f)
    found = " ".join(a.findings())
    assert "5 respondents of perceptions.csv" in found and "expectations.csv + perceptions.csv" in found
    assert a.summary().loc["file", "value"] == "expectations.csv + perceptions.csv"  # the table says the same
    assert io.survey_quarters(folder / "expectations.csv", f.instrument) == sorted(set(s["quarter"]))
    from sqmlib.moments import survey_moments

    with pytest.raises(SQMArgumentError, match="engine='pandas'"):  # an engine reading one file would be wrong
        survey_moments(f.files["survey"], f.instrument, engine="duckdb")
    # a problem in the joined table names the first file's spreadsheet row
    ex.loc[ex.index[0], "E05"] = "12"
    ex.to_csv(folder / "expectations.csv", index=False)
    with pytest.raises(SQMDataError) as e:
        io.load_survey(folder / "expectations.csv", f.instrument)
    (prob,) = e.value.problems
    assert prob.column == "E05" and prob.rows == (2,)
