"""The report's pages as a reader gets them: fonts for Chinese text, print layout and PDF.

- :func:`finish_page` adds to a rendered page (nbconvert HTML) the print CSS (A4 landscape, wide tables wrapped
  to the page width, charts kept whole) and, when the page holds Chinese, Japanese or Korean text, a font for it:
  the Noto Sans CJK SC font the ``mplfonts`` dependency ships, cut down to the characters of the page and
  embedded (a page of 600 characters carries ~120 KB), so that the page reads the same on a machine without CJK
  fonts and in its PDF.
- :func:`write_pdfs` prints pages to PDF with headless Chromium through Playwright (the system ``chromium``,
  else Playwright's own browser): the report title at the top and "page n of N" at the bottom of every page,
  and measures the widest table against the page width.

Why Chromium and not WeasyPrint: the PDF is then what the browser shows (the same engine renders the pages and
the screenshots of the tests), and the Playwright package installs from PyPI without system libraries (WeasyPrint
needs Pango); where no Chromium is present the report is still built and says how to get the PDFs.
"""
from __future__ import annotations

import base64
import html
import re
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

from ..private import private_dir
# the embedded CJK font is present only on pages with CJK text, holding only their CJK characters, digits and a
# little punctuation
from ..render.fonts import CJK_CHARS, EMBEDDED_FAMILY, FONT_STACK, bundled_cjk_font

PRINT_CSS = """
:lang(zh) th, :lang(zh) td { min-width: 3.6em; }  /* a Chinese word of up to three characters (层级, 响应性) never split */
@media print {
  @page { size: A4 landscape; margin: 16mm 10mm 14mm 10mm; }
  body, .jp-RenderedHTMLCommon { font-size: 9pt !important; line-height: 1.35 !important; }
  .jp-RenderedHTMLCommon h1 { font-size: 16pt !important; } .jp-RenderedHTMLCommon h2 { font-size: 12.5pt !important; }
  .jp-RenderedHTMLCommon h3 { font-size: 10.5pt !important; }
  .jp-Cell { padding-top: 1px !important; padding-bottom: 1px !important; }
  .jp-OutputPrompt, .jp-InputPrompt { display: none !important; }  /* the empty prompt column: page width back */
  .jp-RenderedHTMLCommon p { margin-bottom: 0.5em !important; }
  .jp-Notebook, .jp-Cell, .jp-OutputArea, .jp-OutputArea-output, .jp-RenderedHTMLCommon {
    overflow: visible !important; max-width: 100% !important; }
  table { font-size: 7pt !important; max-width: 100% !important; table-layout: auto !important; }
  td, th { overflow-wrap: normal; word-break: normal; padding: 1px 3px !important; }  /* never inside a word */
  img { max-width: 100% !important; max-height: 85mm; object-fit: contain; break-inside: avoid; }
  /* charts two abreast; a table may continue on the next page (JupyterLab keeps every output on one page,
     which pushes a long table whole to the next page and leaves the rest of this one white) */
  .jp-OutputArea-child { break-inside: auto !important; }
  .jp-OutputArea-child:has(img) { display: inline-block !important; width: 49.5%; vertical-align: top;
    break-inside: avoid !important; }
  h1, h2, h3, h4 { break-after: avoid; }
  .jp-OutputArea-child:has(+ .jp-OutputArea-child table) { break-after: avoid; }  /* a table's lead-in with it */
  tr { break-inside: avoid; }
  .sqm-page-break { break-before: page; }
  .celltag_screen-only { display: none !important; }  /* the live explorers: nothing to do on paper */
  /* cells that show nothing on paper (a save without output, a heading of the explorers) take no room: their
     padding alone could start a blank page at a notebook's end */
  .jp-Cell.jp-mod-noOutputs.jp-mod-noInput, .jp-Cell:has(.celltag_screen-only) { display: none !important; }
  .jp-RenderedHTMLCommon > :last-child { margin-bottom: 0 !important; }  /* nor a list's last margin */
}
"""

# report.pdf only: the summary's charts are the gap and KPI pages' charts, which follow in the same document
COMBINED_CSS = "@media print { .celltag_summary-charts { display: none !important; } }"

# summary.pdf: one A4 landscape sheet. The title and the KPI tiles span the sheet, the rest flows in two columns
# (what changed, the lever, the actions, then the charts), and write_pdfs scales the whole down until it fits.
ONE_PAGE_MARGINS = {"top": "12mm", "bottom": "10mm", "left": "8mm", "right": "8mm"}
ONE_PAGE_CSS = """
@media print {
  @page { size: A4 landscape; margin: 12mm 8mm 10mm 8mm; }
  body { font-size: 9pt; line-height: 1.3; }
  main > .jp-Cell, .sqm-one-page .jp-Cell { padding: 0 !important; margin: 0 !important; }
  .sqm-one-page { display: grid; grid-template-columns: 57% 41%; column-gap: 2%; align-items: start; }
  .sqm-one-page > div > .jp-Cell { break-inside: avoid; }
  main > .jp-Cell:has(h1) + .jp-Cell h2 { display: none; }
  h1 { font-size: 15pt; margin: 0 0 1mm !important; }
  h2 { font-size: 10.5pt; margin: 2.5mm 0 1mm !important; }
  p, li { margin: 0.6mm 0 !important; }
  ul, ol { margin: 0 !important; padding-left: 5mm !important; }
  .sqm-one-page img { max-width: 100% !important; max-height: 62mm !important; display: block; margin: 0 auto 1mm; }
  .sqm-one-page .jp-OutputArea-child:has(img) { display: block !important; width: 100% !important; }
  main div[style*="min-width:170px"] { min-width: 0 !important; padding: 4px 10px !important; margin: 2px !important; }
  main div[style*="font-size:24px"] { font-size: 17px !important; }
}
"""
# the cells after the KPI tiles in two columns: the words (what changed, the lever, the actions) on the left,
# the charts on the right
ONE_PAGE_JS = """() => {
  const main = document.querySelector('main');
  if (!main) return;
  const cells = Array.from(main.children);
  // after the KPI tiles (or, on a summary without them, after the title)
  let tiles = cells.findIndex(c => c.querySelector('div[style*="min-width:170px"]'));
  if (tiles < 0) tiles = cells.findIndex(c => c.querySelector('h1'));
  const grid = document.createElement('div');
  grid.className = 'sqm-one-page';
  const words = document.createElement('div'), charts = document.createElement('div');
  cells.slice(tiles + 1).forEach(c => (c.querySelector('img') ? charts : words).appendChild(c));
  grid.append(words, charts);
  main.appendChild(grid);
}"""
# the sheet's text area in CSS pixels at scale 1 (96 per inch): A4 landscape without ONE_PAGE_MARGINS
_SHEET_PX = ((297 - 16) / 25.4 * 96, (210 - 22) / 25.4 * 96)
_SCALES = (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5)


def _one_page_scale(page) -> float:
    """The largest print scale at which the page (print media, :data:`ONE_PAGE_CSS` added) fits one sheet: at
    scale s Chromium lays the page out 1/s times as wide, so each candidate is measured at that width."""
    width, height = _SHEET_PX
    for s in _SCALES:
        page.set_viewport_size({"width": int(width / s), "height": 200})  # short: the content sets the height
        if page.evaluate("() => document.documentElement.scrollHeight") <= 0.98 * height / s:
            return s
    return _SCALES[-1]




@lru_cache(maxsize=1)
def _font_path() -> Path | None:
    return bundled_cjk_font()


def cjk_font_face(text: str) -> str:
    """``@font-face`` for the embedded CJK font holding the characters of ``text`` (empty without any, or
    without the font or fontTools)."""
    chars = sorted({c for c in text if CJK_CHARS.match(c)})
    path = _font_path()
    if path is None or not chars:
        return ""
    try:
        import io

        from fontTools import subset
        from fontTools.ttLib import TTFont
    except ImportError:  # pragma: no cover - fontTools comes with matplotlib
        return ""
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = TTFont(str(path), lazy=True, recalcTimestamp=False)  # no build time in the font: pages stay identical
    sub = subset.Subsetter(options)
    sub.populate(unicodes=[ord(c) for c in chars])
    sub.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f"@font-face {{ font-family: '{EMBEDDED_FAMILY}'; "
            f"src: url(data:font/otf;base64,{data}) format('opentype'); }}")


CODE_FONT_STACK = f"'{EMBEDDED_FAMILY}', 'DejaVu Sans Mono', Menlo, Consolas, monospace"  # Chinese in code cells too


def font_css(text: str) -> str:
    """CSS giving the page :data:`FONT_STACK`, with the embedded CJK font for the characters of ``text``."""
    face = cjk_font_face(text)
    return (face + "\n:root { --jp-content-font-family: " + FONT_STACK + "; --jp-ui-font-family: " + FONT_STACK
            + "; --jp-code-font-family: " + CODE_FONT_STACK + "; }\nbody { font-family: " + FONT_STACK + "; }\n")


def _visible_text(markup: str) -> str:
    """The text of markup a reader sees (no scripts, styles or embedded data), unescaped: what the font needs."""
    return html.unescape(re.sub(r"<(script|style)\b.*?</\1>|data:[^\"')]+", "", markup, flags=re.S))


PAGE_STYLE_ID = "sqm-page"  # the style finish_page adds (combine_pages replaces it by one for every page)


def _page_style(text: str) -> str:
    return f"<style id='{PAGE_STYLE_ID}'>" + font_css(text) + PRINT_CSS + "</style>"


def finish_page(page: str, lang: str = "en") -> str:
    """A rendered page with the print CSS, the CJK font where needed, and its ``lang`` attribute."""
    page = page.replace("</head>", _page_style(_visible_text(page)) + "\n</head>", 1)
    if lang == "zh":
        page = re.sub(r"<html([^>]*)\blang=\"[^\"]*\"", r'<html\1lang="zh-CN"', page, count=1)
    return page


def combine_pages(pages: Sequence[str], title: str, lang: str = "en") -> str:
    """One document of several rendered pages (for the whole report's PDF): the first page's head, every
    page's body, each starting on a new sheet."""
    heads = re.search(r"<head>(.*?)</head>", pages[0], flags=re.S)
    bodies = [re.search(r"<body[^>]*>(.*)</body>", p, flags=re.S) for p in pages]
    parts = [f"<div class='sqm-page-break'>{b.group(1)}</div>" if k else b.group(1)
             for k, b in enumerate(bodies) if b is not None]
    head = heads.group(1) if heads else ""
    head = re.sub(rf"<style id='{PAGE_STYLE_ID}'>.*?</style>", "", head, flags=re.S)  # the first page's own font
    head = re.sub(r"<title>.*?</title>", f"<title>{html.escape(title)}</title>", head, flags=re.S)
    head += _page_style(_visible_text("".join(parts)) + title) + f"<style>{COMBINED_CSS}</style>"
    return (f"<!DOCTYPE html><html lang=\"{'zh-CN' if lang == 'zh' else 'en'}\"><head>{head}</head>"
            f"<body class='jp-Notebook'>{''.join(parts)}</body></html>")


def browser_path() -> str | None:
    """The Chromium to print with: the system's (``chromium``, ``chromium-browser``, ``google-chrome``), else
    None (Playwright's own browser, when installed, is used then)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class PDFUnavailable(RuntimeError):
    """No browser to print with: the message says how to get one."""


HOW_TO_GET_PDF = ("install Chromium (Debian/Ubuntu: apt-get install chromium) or run "
                  "`.venv/bin/python -m playwright install chromium`, then build the report again")

# the text width of a report sheet (A4 landscape without the 10 mm side margins) in CSS pixels: pages are laid out
# at this width before printing, so that what is measured is what is printed
SHEET_WIDTH_PX = int((297 - 20) / 25.4 * 96)
# a table wider than the sheet is set smaller (CSS zoom, not below half size) instead of breaking its cells
FIT_TABLES_JS = """() => {
  const body = document.body.getBoundingClientRect().width;
  for (const t of document.querySelectorAll('table')) {
    const box = t.parentElement ? t.parentElement.clientWidth : body;  // the output area clips what overflows
    const width = Math.min(body, box || body), w = t.getBoundingClientRect().width;
    if (w > width) t.style.zoom = Math.max(0.5, Math.floor(1000 * width / w) / 1000);
  }
}"""

WIDEST_TABLE_JS = """() => {
  const width = document.body.getBoundingClientRect().width;
  let widest = 0;
  for (const t of document.querySelectorAll('table')) widest = Math.max(widest, t.getBoundingClientRect().width);
  return [widest, width];
}"""


def _header(title: str) -> tuple[str, str]:
    """Header (the title) and footer (page n / N) templates. Chromium draws them without the page's web fonts:
    Chinese titles come from the bundled font made a system font (:func:`_fontconfig_env`)."""
    style = f"<style>.t {{ font-family: {FONT_STACK}; }}</style>"
    head = (f"{style}<div class='t' style='font-size:8px;width:100%;padding:0 10mm;color:#555;"
            f"display:flex;justify-content:space-between'><span>{html.escape(title)}</span></div>")
    foot = (f"{style}<div class='t' style='font-size:8px;width:100%;text-align:center;color:#555'>"
            "<span class='pageNumber'></span> / <span class='totalPages'></span></div>")
    return head, foot


def _fontconfig_env() -> dict:
    """Environment for the browser in which the bundled Noto Sans CJK SC is a system font too (a fontconfig
    file that includes the system's configuration and adds the font's folder): the PDFs' header and footer, which
    Chromium draws without the page's web fonts, then show Chinese titles instead of boxes."""
    import os

    env = dict(os.environ)
    font = _font_path()
    if font is None:
        return env
    folder = private_dir("fonts")  # this user's own: a planted font there would change the printed digits
    try:
        (folder / "fonts").mkdir(parents=True, exist_ok=True)
        link = folder / "fonts" / font.name
        if not link.exists():
            link.symlink_to(font)
        conf = folder / "fonts.conf"
        system = os.environ.get("FONTCONFIG_FILE") or "/etc/fonts/fonts.conf"
        text = ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
                f'  <include ignore_missing="yes">{html.escape(system)}</include>\n'
                f'  <dir>{html.escape(str(folder / "fonts"))}</dir>\n'
                f'  <cachedir>{html.escape(str(folder / "cache"))}</cachedir>\n</fontconfig>\n')
        if not conf.exists() or conf.read_text(encoding="utf-8") != text:
            conf.write_text(text, encoding="utf-8")
    except OSError:  # no place for the file: the header may show boxes, the pages do not
        return env
    env["FONTCONFIG_FILE"] = str(conf)
    return env


def write_pdfs(jobs: Mapping[Path, tuple], timeout_ms: int = 120_000) -> dict[str, float]:
    """Print each HTML file to its PDF: ``{pdf_path: (html_path, title)}``, or ``(html_path, title, True)`` for
    a page printed on one sheet (:data:`ONE_PAGE_CSS`, scaled to fit). Returns, per PDF file name, the widest
    table's width as a share of the page's text width (≤ 1: every table fits).

    Raises :class:`PDFUnavailable` when there is no Chromium (or Playwright) to print with."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise PDFUnavailable("the playwright package is not installed: " + HOW_TO_GET_PDF) from None
    widest: dict[str, float] = {}
    try:
        with sync_playwright() as pw:
            exe = browser_path()
            try:
                env = _fontconfig_env()
                browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox"], env=env) if exe else \
                    pw.chromium.launch(env=env)
            except PlaywrightError as exc:
                raise PDFUnavailable(f"no browser to print with ({str(exc).splitlines()[0][:120]}): "
                                     + HOW_TO_GET_PDF) from None
            try:
                page = browser.new_page(viewport={"width": 1123, "height": 794})
                for pdf, (src, title, *one) in jobs.items():
                    one_page = bool(one and one[0])
                    page.set_viewport_size({"width": SHEET_WIDTH_PX, "height": 794})
                    page.goto(Path(src).resolve().as_uri(), wait_until="load", timeout=timeout_ms)
                    page.emulate_media(media="print")
                    scale = 1.0
                    if one_page:
                        page.add_style_tag(content=ONE_PAGE_CSS)
                        page.evaluate(ONE_PAGE_JS)
                        scale = _one_page_scale(page)
                    page.evaluate(FIT_TABLES_JS)
                    w, body = page.evaluate(WIDEST_TABLE_JS)
                    widest[Path(pdf).name] = round(w / body, 4) if body else 0.0
                    head, foot = _header(title)
                    page.pdf(path=str(pdf), format="A4", landscape=True, print_background=True,
                             display_header_footer=True, header_template=head, footer_template=foot,
                             margin=ONE_PAGE_MARGINS if one_page else
                             {"top": "16mm", "bottom": "14mm", "left": "10mm", "right": "10mm"},
                             prefer_css_page_size=True, scale=scale)
            finally:
                browser.close()
    except PDFUnavailable:
        raise
    except PlaywrightError as exc:
        raise PDFUnavailable(f"printing failed ({str(exc).splitlines()[0][:160]}): " + HOW_TO_GET_PDF) from None
    return widest
