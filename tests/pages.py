"""Reading a built report as a person would: every page's headers, cells, text and images, in a stdlib HTML
parser, and screenshots in headless Chromium (system ``chromium``) with each text's fonts checked."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from openpyxl import load_workbook

from sqmlib import labels
from sqmlib.pages import browser_path
from sqmlib.fonts import CJK_FAMILIES

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "reports" / "test-output" / "screenshots"  # git-ignored: open them after a test run
IDENT = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w(/]|\.\w)")
CHROMIUM = browser_path()


class Page(HTMLParser):
    """Texts of a page by where they stand: table headers, cells, running text, image alt texts."""

    VOID = {"br", "img", "meta", "link", "input", "hr", "col", "source", "wbr"}

    def __init__(self, text: str):
        super().__init__()
        self.stack: list[str] = []
        self.th, self.td, self.text, self.imgs = [], [], [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.imgs.append(dict(attrs))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:  # an end tag without its start tag changes nothing
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        d = data.strip()
        if not d or {"style", "script", "code", "title"} & set(self.stack):
            return
        if "th" in self.stack:
            self.th.append(d)
        elif "td" in self.stack:
            self.td.append(d)
        elif "body" in self.stack:
            self.text.append(d)


def page_problems(path: Path, lang: str, data_values=()) -> list[str]:
    """What a reader should not see on a page: identifiers in headers, text or alt texts; a p-value shown as
    0.000; a Python warning; an image without alt text or with chart text left untranslated; in Chinese, English
    words (other than data values, file names and the statistics' own abbreviations)."""
    page = Page(path.read_text(encoding="utf-8"))
    out = []
    for kind, items in (("header", page.th), ("text", page.text), ("alt", [i.get("alt") or "" for i in page.imgs])):
        for t in items:
            for ident in IDENT.findall(t):
                out.append(f"{path.name}: identifier {ident!r} in {kind} {t[:80]!r}")
    for t in page.th:  # a catalogue identifier shown as itself although it has a label
        if t in labels.TERMS and labels.label(t, lang) != t:
            out.append(f"{path.name}: identifier {t!r} as a header (its label: {labels.label(t, lang)!r})")
    for kind, items in (("header", page.th), ("cell", page.td), ("text", page.text),
                        ("alt", [i.get("alt") or "" for i in page.imgs])):
        for t in items:
            if lang == "zh" and labels.english_words(t, data_values):
                out.append(f"{path.name}: English in {kind}: {t[:100]!r}")
    html = path.read_text(encoding="utf-8")
    if re.search(r"Warning\b", " ".join(page.text + page.td)):
        out.append(f"{path.name}: a warning is shown")
    for img in page.imgs:
        if not (img.get("alt") or "").strip():
            out.append(f"{path.name}: image without alt text")
        if img.get("data-sqm-untranslated"):
            out.append(f"{path.name}: chart text not translated: {img['data-sqm-untranslated'][:120]}")
    if _p_columns_with_zero(html):
        out.append(f"{path.name}: a p-value shown as 0.000")
    return out


P_HEADS = ("p", "p 值", "p (adjusted)", "校正 p 值")


def _is_p(head: str) -> bool:
    return head in P_HEADS or head.startswith("p (") or head.endswith(" p 值") or head.endswith("p 值")


class _Tables(HTMLParser):
    """Rows of every table: lists of (tag, text) cells."""

    def __init__(self, text: str):
        super().__init__()
        self.tables, self.cell = [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables and self.tables[-1]:
            self.cell = [tag, ""]

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1].append((self.cell[0], self.cell[1].strip()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[1] += data


def p_value_cells(html: str) -> list[str]:
    """Cells showing p-values: under a p-value column header, or in a row headed by a p-value label."""
    cells = []
    for rows in _Tables(html).tables:
        rows = [r for r in rows if r]
        if not rows:
            continue
        head = [t for _, t in rows[0]]
        cols = [k for k, h in enumerate(head) if _is_p(h)]
        for row in rows[1:]:
            offset = len(row) - len(head)
            cells += [row[k + offset][1] for k in cols if 0 <= k + offset < len(row) and row[k + offset][0] == "td"]
            if row[0][0] == "th" and _is_p(row[0][1]):
                cells += [t for tag, t in row if tag == "td"]
    return cells


def _p_columns_with_zero(html: str) -> bool:
    """Whether a p-value cell reads 0.000."""
    return any(c in ("0.000", "0.0", "0.00", "0") for c in p_value_cells(html))


HEADLINE_PAGES = ("02_gap_analysis", "04_churn_prediction", "05_kpi_monitoring", "06_quarterly_summary", "index")


def headline_figures(path: Path) -> tuple[dict, dict, list]:
    """A built report's metrics (stem → metrics.json's metrics), the text of the pages that show headline figures
    (stem → text and cells), and each headline figure formatted by the one rule that a page showing it lacks
    (name, value, stem): empty when every page shows the metrics' figure."""
    import json

    from sqmlib.render import formats

    metrics = {p.parent.name: json.loads(p.read_text(encoding="utf-8"))["metrics"] for p in path.glob("*/metrics.json")}
    shown = {}
    for stem in HEADLINE_PAGES:
        page = Page((path / f"{stem}.html").read_text(encoding="utf-8"))
        shown[stem] = " ".join(page.text + page.td)
    kpis = metrics["05_kpi_monitoring"]["kpis"]
    gap, churn = metrics["02_gap_analysis"], metrics["04_churn_prediction"]
    summary, index = "06_quarterly_summary", "index"
    figures = {
        "NPS": (formats.kpi_value(kpis["NPS"]["current"], "NPS", "points"), ["05_kpi_monitoring", summary, index]),
        "CSAT": (formats.kpi_value(kpis["CSAT (top-2-box)"]["current"], "CSAT", "share"),
                 ["05_kpi_monitoring", summary, index]),
        "overall gap": (formats.kpi_value(gap["overall_gap"], "Overall gap (P − E)", "points"),
                        ["02_gap_analysis", summary, index]),
        "customers to contact": (f"{churn['to_contact']:,}", ["04_churn_prediction", summary, index]),
        "items to concentrate on": (str(len(gap["concentrate_here"])), [index]),
    }
    missing = [(name, value, stem) for name, (value, stems) in figures.items() for stem in stems
               if value not in shown[stem]]
    return metrics, shown, missing


def workbook_identifiers(path: Path) -> list[str]:
    """Header cells of a workbook's sheets (other than the ``columns`` key) that are identifiers."""
    wb = load_workbook(path, read_only=True)
    found = []
    for ws in wb.worksheets:
        if ws.title.endswith("columns"):
            continue
        for row in ws.iter_rows(min_row=1, max_row=1, values_only=True):
            found += [f"{ws.title}: {v}" for v in row if isinstance(v, str) and (
                IDENT.fullmatch(v) or (v in labels.TERMS and labels.label(v, "en") != v
                                       and labels.label(v, "zh") != v))]
    wb.close()
    return found


CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uff00-\uffef\u3000-\u303f]")


def pdf_pages(path: Path) -> int:
    """Pages of a PDF Chromium printed (its page objects, ``/Type /Page``; no PDF library needed)."""
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", path.read_bytes()))


def pdf_text(path: Path) -> str | None:
    """The text of a PDF, read by poppler's ``pdftotext`` in reading order, lines joined by spaces (None
    without pdftotext)."""
    import shutil
    import subprocess

    exe = shutil.which("pdftotext")
    if exe is None:
        return None
    out = subprocess.run([exe, "-raw", str(path), "-"], capture_output=True, check=True).stdout.decode("utf-8")
    return re.sub(r"\s+", " ", out)


def screenshot(page_path: Path, png: Path) -> dict:
    """A screenshot of a page (first screen) in headless Chromium, and what it shows: whether it is blank (one
    colour), and the elements whose CJK text is drawn with a font that has no CJK glyphs (empty boxes)."""
    from playwright.sync_api import sync_playwright

    png.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            tab = browser.new_page(viewport={"width": 1200, "height": 900})
            tab.goto(page_path.resolve().as_uri(), wait_until="load")
            tab.evaluate("() => document.fonts.ready.then(() => true)")
            tab.screenshot(path=str(png))
            boxes = _missing_glyphs(tab)
        finally:
            browser.close()
    from PIL import Image

    with Image.open(png) as im:
        colours = len(im.convert("RGB").getcolors(maxcolors=1 << 20) or [])
    return {"colours": colours, "missing_glyphs": boxes}


def _missing_glyphs(tab) -> list[str]:
    """Elements with CJK text none of whose fonts (as Chromium reports through the DevTools protocol) carries
    CJK glyphs: the text shows as boxes."""
    cdp = tab.context.new_cdp_session(tab)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]
    bad = []

    def walk(node):
        for child in node.get("children", []) or []:
            if child.get("nodeType") == 3 and CJK.search(child.get("nodeValue", "")):
                fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
                if not fonts:  # not drawn (the page title, hidden text)
                    continue
                cjk = [f for f in fonts if f.get("isCustomFont") or f["familyName"] in CJK_FAMILIES
                       or re.search(r"CJK|Hei|Han|Song|Ming|Gothic|YaHei|PingFang", f["familyName"])]
                if not cjk:
                    bad.append(f"{child['nodeValue'][:40]!r} drawn with {[f['familyName'] for f in fonts]}")
            elif child.get("nodeType") == 1 and child.get("nodeName") not in ("SCRIPT", "STYLE"):
                walk(child)

    walk(root)
    return bad


def reads_well(path: Path, prefix: str, data_values=()) -> None:
    """A report people read (English): no identifier in any header, text or alt text, no p-value shown as 0.000,
    no warning, alt text on every chart (``data_values``: values of the data a page may show as they are);
    labelled workbook headers; screenshots of the summary and the gap page (``SCREENSHOTS/<prefix>-<page>.png``)
    are not blank and draw every character."""
    problems = [p for page in sorted(path.glob("*.html")) for p in page_problems(page, "en", data_values)]
    assert problems == [], problems[:20]
    assert workbook_identifiers(path / "report_tables.xlsx") == []
    summary_page = (path / "06_quarterly_summary.html").read_text(encoding="utf-8")
    assert "Top drivers of overall satisfaction" in summary_page and "overall_sat" not in summary_page
    if CHROMIUM is None:
        return
    for page in ("06_quarterly_summary", "02_gap_analysis"):
        seen = screenshot(path / f"{page}.html", SCREENSHOTS / f"{prefix}-{page}.png")
        assert seen["colours"] > 50 and seen["missing_glyphs"] == [], (page, seen["missing_glyphs"][:5])
