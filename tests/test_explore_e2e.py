"""End to end: `sqm explore` serves the explorers on localhost; headless Chromium changes selections; the
server refuses requests without the token or for other hosts, holds 8 concurrent sessions, and stops cleanly.

The browser tests skip where Chromium or Playwright is missing. Set SQM_SCREENSHOT=path to keep a screenshot.
"""
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
import bench_serve  # noqa: E402

CHROMIUM = os.environ.get("SQM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _no_browser() -> str | None:
    if not CHROMIUM:
        return "no Chromium installed (Debian: apt-get install chromium)"
    try:
        __import__("playwright")
    except ImportError:
        return "playwright is not installed"
    return None


needs_browser = pytest.mark.skipif(_no_browser() is not None, reason=str(_no_browser()))
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(small_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    proc, url = bench_serve.start(str(small_dir), bench_serve.free_port(), log)
    yield url, proc, log
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _status(url: str, path: str = "", host: str | None = None) -> int:
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("GET", path or f"{u.path}?{u.query}", headers={"Host": host} if host else {})
    status = conn.getresponse().status
    conn.close()
    return status


def test_token_and_host_are_required(server):
    url, proc, _ = server
    port = int(urllib.parse.urlsplit(url).port)
    assert _status(url, "/") == 403                               # a bare GET: refused, nothing started
    assert _status(url, "/api/survey/view") == 403
    assert _status(url, "/?token=wrong") == 403
    assert _status(url, host="evil.example.com") == 403           # DNS rebinding: a foreign Host header
    assert _status(url, host=f"attacker.test:{port}") == 403
    assert _status(url) == 302                                    # the printed address: in (cookie set)
    assert _status(url, host=f"localhost:{port}") == 302
    before = bench_serve.rss_mb(proc.pid)
    for _ in range(50):  # a curl loop of bare GETs costs nothing
        _status(url, "/")
    assert bench_serve.rss_mb(proc.pid) < before + 50


def _raw(url: str, method: str, path: str, headers: dict) -> tuple[int, dict, bytes]:
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.putrequest(method, path, skip_accept_encoding=True)
    for k, v in headers.items():
        conn.putheader(k, v)
    conn.endheaders()
    try:
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    except (ConnectionError, http.client.RemoteDisconnected):
        return 0, {}, b""
    finally:
        conn.close()


def test_credentials_bodies_and_numbers_are_checked(server):
    """Hardening: a non-ASCII token or cookie is refused (403, not a 500 with a traceback); a request body is
    never read (a 100 MB Content-Length is turned away at once and memory stays put); the cookie is this server's
    own (its port in the name); non-finite or absurd numbers are a 400 with a sentence, in valid JSON."""
    url, proc, log = server
    port = urllib.parse.urlsplit(url).port
    assert _status(url, "/?token=%C3%A9%C3%A9") == 403
    assert _raw(url, "GET", "/", {"Cookie": f"sqm_explore_{port}=\u00e9t\u00e9"})[0] == 403
    status, headers, _ = _raw(url, "GET", f"/?{urllib.parse.urlsplit(url).query}", {})
    assert status == 302 and headers["Set-Cookie"].startswith(f"sqm_explore_{port}=")
    before = bench_serve.rss_mb(proc.pid)
    t0 = time.perf_counter()
    for _ in range(4):
        status, _, _ = _raw(url, "POST", "/", {"Content-Length": str(100 * 2 ** 20)})
        assert status in (0, 400, 413), status
    assert time.perf_counter() - t0 < 10 and bench_serve.rss_mb(proc.pid) < before + 50
    s = bench_serve.Session(url)
    s.get("")
    import json as json_
    for query in ("api/churn/view?clv=nan", "api/churn/view?clv=1e308", "api/churn/view?threshold=inf",
                  "api/churn/best?clv=inf&offer_cost=1", "api/churn/best?clv=200&offer_cost=nan"):
        try:
            s.get(query)
            raise AssertionError(f"{query} answered")
        except urllib.error.HTTPError as exc:
            assert exc.code == 400, query
            body = json_.loads(exc.read().decode("utf-8"))  # valid JSON (no NaN)
            assert "must" in body["error"], body
    assert "Traceback" not in log.read_text()


def test_chain_tab_answers(server):
    s = bench_serve.Session(server[0])
    s.get("")
    v = s.get("api/chain/view?target=Satisfaction&segment=region&value=North")
    assert v["selection"]["target"] == "Satisfaction" and len(v["charts"]) == 2 and "lever" in v["status"]
    assert "<table" in v["table"]


def test_bound_to_localhost_only(server):
    port = int(urllib.parse.urlsplit(server[0]).port)
    addresses = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), port, socket.AF_INET)} - {"127.0.0.1"}
    for addr in addresses:
        with socket.socket() as s:
            s.settimeout(1)
            assert s.connect_ex((addr, port)) != 0, f"the explorer answers on {addr}"


def test_port_in_use_is_a_clear_error(server, small_dir):
    port = urllib.parse.urlsplit(server[0]).port
    r = subprocess.run([sys.executable, "-m", "sqmlib.cli", "explore", "--data", str(small_dir), "--port",
                        str(port)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"cannot listen on 127.0.0.1:{port}" in lines[0] and "in use" in lines[0]


def test_remote_bind_needs_allow_remote(small_dir):
    r = subprocess.run([sys.executable, "-m", "sqmlib.cli", "explore", "--data", str(small_dir), "--host",
                        "0.0.0.0"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "--allow-remote" in r.stderr
    r = subprocess.run([sys.executable, "-m", "sqmlib.cli", "explore", "--data", str(small_dir / "nowhere")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "data folder not found" in r.stderr


@pytest.mark.long
def test_eight_concurrent_sessions(small_dir, tmp_path):
    """The load targets, on the small data (benchmarks/bench_serve.py measures the bundled sample)."""
    rows = bench_serve.run(str(small_dir), sessions=(1, 8), changes=2, log_dir=tmp_path)
    one, eight = rows
    assert one["slowest_usable_s"] <= 3, rows
    assert eight["slowest_usable_s"] <= 10 and eight["peak_rss_mb"] <= 1536, rows


@pytest.fixture(scope="module")
def page(server):
    if _no_browser():
        pytest.skip(_no_browser())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, bypass_csp=True)  # the waits evaluate script
        page.goto(server[0], timeout=120_000)
        page.wait_for_selector("#panel-survey[data-ready='1'] .table table", timeout=120_000)
        yield page
        browser.close()


def _status_contains(page, sel: str, text: str, timeout: float = 30_000):
    page.wait_for_function("([c, t]) => { const e = document.querySelector(c); return e && e.innerText.includes(t); }",
                           arg=[sel, text], timeout=timeout)


@needs_browser
def test_survey_selection_changes_chart_and_table(page):
    assert "token=" not in page.url, "the token stays out of the address bar"
    table_before = page.inner_html("#panel-survey .table")
    chart_before = page.locator("#panel-survey .charts img").first.screenshot()
    page.select_option("select.sqm-survey-segment", "region")
    page.wait_for_function("document.querySelector('select.sqm-survey-value').options.length > 1")
    t0 = time.perf_counter()
    page.select_option("select.sqm-survey-value", "North")
    _status_contains(page, "#panel-survey .status", "region = North")
    seconds = time.perf_counter() - t0
    assert page.inner_html("#panel-survey .table") != table_before
    assert page.locator("#panel-survey .charts img").first.screenshot() != chart_before
    print(f"survey: segment value changed, page updated in {seconds:.2f} s")
    page.select_option("select.sqm-survey-value", "(all)")  # back to a selection seen before: from the cache
    _status_contains(page, "#panel-survey .status", "respondents (2026Q3) —")
    assert page.inner_html("#panel-survey .table") == table_before
    shot = os.environ.get("SQM_SCREENSHOT")
    if shot:
        page.screenshot(path=shot)


@needs_browser
def test_churn_clv_changes_profit(page):
    page.click("button.tab[data-tab='churn']")
    page.wait_for_selector("#panel-churn .extra table")
    extra_before = page.inner_html("#panel-churn .extra")
    chart_before = page.locator("#panel-churn .charts img").first.screenshot()
    page.fill("input.sqm-churn-clv", "2000")
    page.press("input.sqm-churn-clv", "Enter")
    page.wait_for_function("(b) => document.querySelector('#panel-churn .extra').innerHTML !== b",
                           arg=extra_before, timeout=30_000)
    assert page.locator("#panel-churn .charts img").first.screenshot() != chart_before
    page.click("#panel-churn .best")
    _status_contains(page, "#panel-churn .status", "customers active now to contact")


def test_sigterm_stops_the_server(server):
    """Last in this file: it stops the server the other tests used."""
    url, proc, _ = server
    port = int(urllib.parse.urlsplit(url).port)
    assert _status(url) == 302
    os.kill(proc.pid, signal.SIGTERM)  # sent to sqm alone, as systemd or timeout would
    assert proc.wait(timeout=30) == 0
    with socket.socket() as s:
        s.settimeout(1)
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the port still answers after SIGTERM"
    children = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert children == [], "processes of the explorer outlived it"
