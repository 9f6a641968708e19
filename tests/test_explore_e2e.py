"""End to end: `sqm explore` serves the explorers with Voila on localhost; headless Chromium changes selections.

Skipped where Chromium, Playwright or Voila is missing. Set SQM_SCREENSHOT=path to keep a screenshot.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest


CHROMIUM = os.environ.get("SQM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _missing() -> str | None:
    if not CHROMIUM:
        return "no Chromium installed (Debian: apt-get install chromium)"
    for module in ("playwright", "voila"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed"
    return None


pytestmark = [pytest.mark.slow, pytest.mark.skipif(_missing() is not None, reason=str(_missing()))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(small_dir, tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "sqmlib.cli", "explore", "--data", str(small_dir),
                                 "--port", str(port)], stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(url + "voila/static/favicon.ico", timeout=2)
                break
            except urllib.error.HTTPError:  # answering at all is enough: the server is up
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail(f"the explorer did not start:\n{log.read_text()}")
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server, timeout=180_000)
        page.wait_for_selector(".sqm-survey-table table", timeout=180_000)
        yield page
        browser.close()


def _status_contains(page, cls: str, text: str, timeout: float = 30_000):
    page.wait_for_function("([c, t]) => { const e = document.querySelector(c); return e && e.innerText.includes(t); }",
                           arg=[cls, text], timeout=timeout)


def test_bound_to_localhost_only(server):
    port = int(server.rsplit(":", 1)[1].strip("/"))
    addresses = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), port, socket.AF_INET)} - {"127.0.0.1"}
    for addr in addresses:
        with socket.socket() as s:
            s.settimeout(1)
            assert s.connect_ex((addr, port)) != 0, f"the explorer answers on {addr}"


def test_survey_selection_changes_chart_and_table(page):
    table_before = page.inner_html(".sqm-survey-table")
    chart_before = page.locator(".sqm-survey-charts img").first.screenshot()
    page.select_option(".sqm-survey-segment select", "region")
    page.wait_for_function("document.querySelector('.sqm-survey-value select').options.length > 1")
    t0 = time.perf_counter()
    page.select_option(".sqm-survey-value select", "North")
    _status_contains(page, ".sqm-survey-status", "region = North")
    seconds = time.perf_counter() - t0
    assert page.inner_html(".sqm-survey-table") != table_before
    assert page.locator(".sqm-survey-charts img").first.screenshot() != chart_before
    print(f"survey: segment value changed, page updated in {seconds:.2f} s "
          f"({page.inner_text('.sqm-survey-status')})")
    # back to a selection seen before: answered from the cache
    page.select_option(".sqm-survey-value select", "(all)")
    _status_contains(page, ".sqm-survey-status", "respondents (2026Q3) —")
    assert page.inner_html(".sqm-survey-table") == table_before
    shot = os.environ.get("SQM_SCREENSHOT")
    if shot:
        page.screenshot(path=shot)


def test_churn_clv_changes_profit(page):
    page.get_by_text("Churn explorer", exact=True).first.click()
    page.wait_for_selector(".sqm-churn-extra table")
    extra_before = page.inner_html(".sqm-churn-extra")
    chart_before = page.locator(".sqm-churn-charts img").first.screenshot()
    box = page.locator(".sqm-churn-clv input")
    box.fill("2000")
    box.press("Enter")
    page.wait_for_function("(b) => document.querySelector('.sqm-churn-extra').innerHTML !== b",
                           arg=extra_before, timeout=30_000)
    assert page.locator(".sqm-churn-charts img").first.screenshot() != chart_before
