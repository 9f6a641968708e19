"""The label catalogue: identifiers as a reader's labels in English and Chinese, narrative sentences in Chinese,
tables, charts and workbooks through the display layer."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from openpyxl import load_workbook  # noqa: E402

from sqmlib import SQMArgumentError, labels, outputs, plots, show  # noqa: E402,F401  (plots: the CJK font for charts)
from sqmlib.instruments import load as load_instrument  # noqa: E402


@pytest.fixture(autouse=True)
def english_after():
    labels.register_instrument(load_instrument("servqual"))
    yield
    labels.use("en")


@pytest.mark.parametrize("name, en, zh", [
    ("share_below", "customers below their expectation", "低于期望的顾客比例"),
    ("lmg", "R² attributed (LMG)", "分配到的 R²（LMG）"),
    ("p_adj", "p (adjusted)", "校正 p 值"),
    ("gap_South", "gap: South", "差距：南区"),
    ("alpha_ci_low", "Cronbach's α: 95% CI lower", "Cronbach α 95%区间下限"),
    ("complaints_billing_365d", "complaints: billing (365 days)", "近365天投诉：账单"),
    ("region_South", "region: South", "区域：南区"),
    ("P_assurance", "perception: Assurance", "感知：保证性"),
    ("first_response_hours/critical", "first response (hours) / critical", "首次响应时间（小时） / 紧急"),
    ("quadrant_median", "quadrant (median crosshair)", "象限（中位数分割线）"),
    ("cfa_ok", "cfa meets the threshold", "cfa达标"),
    ("waiting_time", "waiting time", "等候时间"),
    ("P01", "P01", "P01"),  # item columns stay codes
])
def test_label_composes_names(name, en, zh):
    assert labels.label(name, "en") == en
    assert labels.label(name, "zh") == zh


def test_instrument_wording_is_used():
    inst = load_instrument("servqual")
    assert labels.label("tangibles", "en") == inst.dimension_label("tangibles", "en")
    assert labels.code("tangibles", "zh") == "有形性"
    english = inst.text("05", "en")
    assert labels.item_wording(english, "zh") == inst.text("05", "zh")
    assert labels.item_wording(english[:40], "zh") == inst.text("05", "zh")  # cut short on a chart


def test_value_labels_do_not_relabel_numbers():
    """A category column's value labels are applied when the survey is loaded; a page's "1" (an alert count)
    stays 1."""
    inst = load_instrument("servqual")
    spec = next(iter(inst.columns.values()))
    columns = {**inst.columns, "sex": type(spec)(name="sex", type="category", role="segment",
                                                 labels={1: "male", 2: "female"})}
    labels.register_instrument(type(inst)(**{**inst.__dict__, "columns": columns}))
    assert labels.phrase("1", "en") == "1" and labels.code("2", "en") == "2"
    assert labels.label("tangibles", "en") == inst.dimension_label("tangibles", "en")


def test_use_checks_the_language():
    assert labels.use("ZH") == "zh" and labels.current() == "zh"
    with labels.language("en"):
        assert labels.current() == "en"
    assert labels.current() == "zh"
    with pytest.raises(SQMArgumentError, match="en or zh"):
        labels.use("fr")


def test_frame_labels_headers_index_and_codes_not_numbers():
    t = pd.DataFrame({"dimension": ["tangibles", "empathy"], "share_below": [0.25, 0.5], "p_value": [0.01, 0.2],
                      "kano": ["basic", "excitement"], "customer_id": ["000123", "C9"]},
                     index=pd.Index(["cfi", "North"], name="metric"))
    zh = labels.frame(t, "zh")
    assert list(zh.columns) == ["维度", "低于期望的顾客比例", "p 值", "Kano 类别", "顾客"]
    assert zh.iloc[:, 0].tolist() == ["有形性", "移情性"] and zh.iloc[:, 3].tolist() == ["基本型", "兴奋型"]
    assert zh.iloc[:, 1].tolist() == [0.25, 0.5]  # numbers untouched
    assert zh.iloc[:, 4].tolist() == ["000123", "C9"]  # ids keep their text
    assert zh.index.name == "指标" and labels.row_label("cfi", "zh") == "CFI"
    en = labels.frame(t, "en")
    assert "customers below their expectation" in en.columns and en.index.tolist() == ["CFI", "North"]


def test_english_text_has_labels_not_identifiers():
    text = "Top drivers of overall_sat: waiting_time (24%). List: 04_churn_prediction/risk_list.xlsx."
    assert labels.text(text, "en") == ("Top drivers of overall satisfaction: waiting time (24%). "
                                       "List: 04_churn_prediction/risk_list.xlsx.")


def test_unknown_sentence_stays_and_is_found():
    line = "Something no pattern knows about."
    assert labels.text(line, "zh") == line
    assert labels.english_words(labels.text(line, "zh")) == ["Something", "pattern", "knows", "about"]
    assert labels.english_words("见 04_churn_prediction/risk_list.xlsx，CFI 与 RMSEA，区域 North", ["North"]) == []


def test_html_text_keeps_markup_and_escapes():
    markup = "<div class='l'>Overall gap (P − E)</div><div>vs 2026Q2 (significant)</div><b>a &lt;b&gt;</b>"
    assert labels.html_text(markup, "zh") == ("<div class='l'>总体差距（P − E）</div><div>较 2026Q2（显著）</div>"
                                            "<b>a &lt;b&gt;</b>")


def test_chinese_chart_has_no_english_left():
    dims = pd.DataFrame({"gap": [-0.5, -0.2], "ci_low": [-0.6, -0.3], "ci_high": [-0.4, -0.1]},
                        index=pd.Index(["tangibles", "empathy"], name="dimension"))
    fig, ax = plt.subplots()  # a category axis, as plots' bar charts draw them
    ax.barh(dims.index.tolist(), dims["gap"])
    ax.set_title("Gap (P − E) per dimension, with 95 % intervals")
    ax.set_xlabel("perception − expectation (scale points)")
    labels.figure(fig, "zh")
    assert labels.untranslated(fig, "zh") == []
    texts = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert set(texts) == {"有形性", "移情性"}
    assert show.alt_text(fig).startswith("Chart: ") and "各维度差距" in show.alt_text(fig)
    labels.use("zh")
    assert show.alt_text(fig).startswith("图表：")
    plt.close(fig)


def test_styled_table_labels_headers_but_style_sees_identifiers():
    t = pd.DataFrame({"share_below": [0.1234], "p_value": [0.0001], "flag": [True]})
    seen = []
    html = show.styled(t, lambda s: seen.append(list(s.data.columns)) or s).to_html()
    assert "customers below their expectation" in html and "12.3%" in html and ".001" in html and "yes" in html
    assert seen == [["share_below", "p_value", "flag"]]
    labels.use("zh")
    html = show.styled(t).to_html()
    assert "低于期望的顾客比例" in html and "是" in html


def test_workbook_headers_in_the_language_and_the_key_sheet(tmp_path):
    t = pd.DataFrame({"item": ["01"], "share_below": [0.25], "n": [1234]})
    with labels.language("zh"):
        outputs.write_excel({"gaps": t}, tmp_path / "t.xlsx")
    wb = load_workbook(tmp_path / "t.xlsx")
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == ["题项", "低于期望的顾客比例", "样本量"]  # no column of row numbers
    assert ws["A2"].value == "01" and ws["B2"].number_format == "0.0%" and ws["C2"].number_format == "#,##0"
    key = [[c.value for c in row] for row in wb["columns"].iter_rows(min_row=2)]
    assert [ws.title, "低于期望的顾客比例", "share_below"] in key


def test_embedded_font_carries_no_build_time():
    """The CJK font cut down for a page keeps the bundled font's timestamps: two builds of the same Chinese page
    are identical (fontTools would otherwise stamp the time of the build into the font)."""
    import base64
    import io
    import re

    from fontTools.ttLib import TTFont

    from sqmlib.runner import pages

    css = pages.cjk_font_face("服务质量摘要")
    data = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", css).group(1))
    original = TTFont(str(pages._font_path()), lazy=True)
    assert TTFont(io.BytesIO(data))["head"].modified == original["head"].modified


def test_one_meaning_per_identifier_and_role():
    """Each identifier has one label as a header (the catalogue's terms) and one as a category value (its
    codes): "metric" is the header "measure" and the invariance level "metric"; "performance" the IPA axis
    and the Kano category; "standard" a standard and the plan. Within each, a key appears once."""
    from sqmlib.render import catalogue

    for block in (catalogue._CATALOGUE, catalogue._CODES):
        seen = {}
        for line in block.strip().splitlines():
            key, en, zh = (part.strip() for part in line.split(" | "))
            assert seen.setdefault(key, (en, zh)) == (en, zh), f"{key!r} has two meanings: {seen[key]} and {(en, zh)}"
    assert labels.label("metric", "en") == "measure" and labels.code("metric", "en") == "metric"
    assert labels.code("metric", "zh") == "单位等值" and labels.code("performance", "zh") == "期望型"
    assert labels.label("performance", "zh") == "表现" and labels.code("standard", "zh") == "标准版"
    frame = labels.frame(pd.DataFrame({"level": ["configural", "metric", "scalar"], "first": [0.1, 0.2, 0.3]}), "zh")
    assert list(frame["层级"]) == ["形态等值", "单位等值", "标量等值"] and "单独 R²" in frame.columns


def test_a_number_rounded_to_zero_has_no_minus_sign():
    """"-0.000" (a ΔCFI of −0.0002 at three decimals) reads as 0.000, in a cell and inside an interval; real
    negatives keep their sign."""
    from sqmlib.render import formats, show

    assert [formats.no_negative_zero(t) for t in ("-0.000", "[-0.00, 0.12]", "-0.01", "-0.001", "2026-0")] == \
        ["0.000", "[0.00, 0.12]", "-0.01", "-0.001", "2026-0"]
    html = show.styled(pd.DataFrame({"delta_cfi": [-0.0002, -0.02]}), lambda s: s.format(precision=3)).to_html()
    assert ">0.000<" in html and ">-0.020<" in html and "-0.000" not in html
