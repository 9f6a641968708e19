"""A report people read, in Chinese: the small sample of the report tests in its Chinese edition (the same
respondents and numbers, with Chinese region, channel and plan names and ticket texts; item wording from the
instrument's Chinese text), built with ``--lang zh`` by the real runner; every page read back as text and in headless
Chromium (screenshots under reports/test-output/screenshots), the PDFs and the workbook."""
import dataclasses
import json
import re

import pytest

from sqmlib import cli, labels, report, synth

from conftest import SMALL
from pages import CHROMIUM, SCREENSHOTS, page_problems, pdf_pages, pdf_text, screenshot, workbook_identifiers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def zh_report(tmp_path_factory):
    data = tmp_path_factory.mktemp("zh_data")  # the small sample of the other report tests, in its Chinese edition
    synth.generate(dataclasses.replace(SMALL, language="zh")).save(data)
    out = tmp_path_factory.mktemp("zh_reports")
    assert cli.main(["report", "--data", str(data), "--out", str(out), "--lang", "zh", "--no-progress"]) == 0
    return out / "2026Q3", data


def test_every_page_reads_in_chinese(zh_report):
    path, _ = zh_report
    problems = [p for page in sorted(path.glob("*.html")) for p in page_problems(page, "zh")]
    assert problems == [], problems[:20]
    summary = (path / "06_quarterly_summary.html").read_text(encoding="utf-8")
    assert "服务质量 2026Q3：摘要" in summary and 'lang="zh-CN"' in summary
    assert "华南" in summary  # the alerted region, as the data names it
    gaps = (path / "02_gap_analysis.html").read_text(encoding="utf-8")
    assert "各维度差距（P − E）及 95% 置信区间" in gaps and "低于期望的顾客比例" in gaps
    assert "员工再忙也会回应顾客的请求" in gaps  # item wording from the instrument, in Chinese
    index = (path / "index.html").read_text(encoding="utf-8")
    assert "服务质量报告 — 2026Q3" in index and "摘要 PDF" in index and "完整报告 PDF" in index
    # metrics.json keeps identifiers whatever the language
    m = json.loads((path / "02_gap_analysis" / "metrics.json").read_text(encoding="utf-8"))
    assert "overall_gap" in m["metrics"]


def test_workbook_in_chinese(zh_report):
    path, _ = zh_report
    assert workbook_identifiers(path / "report_tables.xlsx") == []


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")
def test_pdfs_fit_the_page(zh_report):
    path, _ = zh_report
    prov = json.loads((path / "provenance.json").read_text(encoding="utf-8"))
    widest = prov["pdf"]["widest_table_share_of_page"]
    assert set(widest) == {"summary.pdf", "report.pdf"} and max(widest.values()) <= 1.0
    for name in ("summary.pdf", "report.pdf"):
        head = (path / name).read_bytes()
        assert head[:5] == b"%PDF-" and len(head) > 20_000
    assert pdf_pages(path / "summary.pdf") == 1  # the one-page summary is one A4 sheet
    text = pdf_text(path / "report.pdf")
    if text is not None:  # tables print whole: no number, and no word of up to three characters, split in its cell
        split = r"(?:(?<=\s)|^)\d+\.\s+\d{2}|<\s*\.\s+\d"
        assert not re.search(split, text), re.findall(r".{20}(?:" + split + ").{10}", text)[:5]
        for word in ("有形性", "可靠性", "响应性", "保证性", "移情性", "样本量", "总体"):
            broken = [word[:i] + " " + word[i:] for i in range(1, len(word))]
            assert not any(b in text for b in broken), word


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")
@pytest.mark.parametrize("page", ["06_quarterly_summary", "02_gap_analysis", "05_kpi_monitoring"])
def test_screenshots_show_chinese_without_boxes(zh_report, page):
    path, _ = zh_report
    seen = screenshot(path / f"{page}.html", SCREENSHOTS / f"zh-{page}.png")
    assert seen["colours"] > 50, "blank page"
    assert seen["missing_glyphs"] == [], seen["missing_glyphs"][:5]


def test_language_is_checked(tmp_path):
    with pytest.raises(report.SQMReportError, match="en or zh"):
        report.build(data_dir=synth.sample_folder("en"), out_dir=tmp_path, lang="fr", progress=False)
    assert labels.current() == "en"


def test_one_number_everywhere_in_chinese(zh_report):
    """The Chinese report shows each headline figure as its metrics.json holds it, formatted by the one rule, on
    every page that shows it; its workbook's headline sheet holds the same values at full precision."""
    import pandas as pd
    from pages import headline_figures

    path, _ = zh_report
    metrics, _, missing = headline_figures(path)
    kpis = metrics["05_kpi_monitoring"]["kpis"]
    assert missing == [], missing
    heads = pd.read_excel(path / "report_tables.xlsx", sheet_name="06 headlines").set_index("指标")
    assert heads.loc["NPS", "本季度"] == pytest.approx(kpis["NPS"]["current"], abs=1e-9)
