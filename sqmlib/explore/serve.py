"""The explorers as a small web app for a team: one process, one copy of the data, no notebook kernels.

``sqm explore`` (:func:`serve`) reads the data folder once, fits the churn model once and serves the survey,
driver and churn explorers (:mod:`sqmlib.explore`) to every browser: a page of controls, and a JSON endpoint
that returns the view of a selection (charts as SVG images, tables as escaped HTML). Every session shares the
explorers' cache, so a selection computed for one person is instant for the next, and memory does not grow
with the number of people.

Protection:

- a random token in the printed URL (or ``--token``); a visit with it sets a cookie, anything else is refused
  with 403;
- the ``Host`` header must name this machine (127.0.0.1, localhost, ::1) unless ``allow_remote``: a page
  elsewhere cannot reach the server through DNS rebinding;
- at most ``max_pending`` computations wait at once; beyond that a request gets 503 with a clear message;
- text from data files is escaped in every page and table; charts are served as images.
"""
from __future__ import annotations

import asyncio
import base64
import html
import json
import math
import secrets
import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Mapping

from .. import explore
from ..errors import SQMArgumentError, SQMError
from ..render import labels
from ..render.fonts import EMBEDDED_FAMILY, FONT_STACK, bundled_cjk_font
from ..render.messages import msg
from ..hosts import bind, check_bind_host, check_token, local_host  # noqa: F401  (serve.bind: its documented place)
from ..paths import PROJECT_ROOT, SAMPLE_DIR, resolve
COOKIE = "sqm_explore"


def _encode_selection(sel: Mapping[str, Any]) -> dict:
    return {k: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v))
            for k, v in sel.items()}


class App:
    """The explorers and what the HTTP layer asks of them (no HTTP here: easy to test).

    ``explorers`` may be given later (:meth:`load`): the server answers at once and its pages wait until the
    data is read.
    """

    def __init__(self, explorers: Mapping[str, Any] | None = None, *, lang: str = "en"):
        self.lang = labels.normalised(lang)
        self.explorers = dict(explorers) if explorers is not None else {}
        self.loaded: Future = Future()
        if explorers is not None:
            self.loaded.set_result(True)
        self.pool = None  # the view computations' threads, set by make_server

    def load(self, make: Callable[[], Mapping[str, Any]]) -> None:
        """Make the explorers (reading the data) and compute their default views; pages wait for this, so that
        the first page shows every explorer at once. An error is kept for :attr:`loaded`."""
        try:
            with labels.language(self.lang):
                self.explorers = dict(make())
                for name in self.explorers:
                    self.view(name, {})
        except BaseException as exc:  # noqa: BLE001 - handed to the server, which stops and reports it
            self.loaded.set_exception(exc)
        else:
            self.loaded.set_result(True)

    def _lang(self, lang: str | None) -> str:
        try:
            return labels.normalised(lang) if lang else self.lang
        except SQMArgumentError:
            return self.lang

    # ---- selections ----------------------------------------------------------------------------------
    def controls(self, name: str, selection: Mapping[str, Any] | None = None, lang: str | None = None) -> dict:
        """The controls of an explorer for a selection: their captions, choices (value and label) and current
        values, in ``lang``."""
        with labels.language(self._lang(lang)):
            return self._controls(name, selection)

    def _controls(self, name: str, selection: Mapping[str, Any] | None) -> dict:
        ex = self._explorer(name)
        sel = {**ex.defaults(), **(selection or {})}
        cap = explore.control_label
        if isinstance(ex, explore.ChurnExplorer):
            return {"threshold": {"kind": "range", "label": cap("threshold"), "min": 0.0, "max": 1.0, "step": "any",
                                  "value": sel["threshold"]},
                    "clv": {"kind": "number", "label": cap("clv_mean" if ex.per_customer else "clv"), "min": 1.0, "step": 10.0, "value": sel["clv"]},
                    "offer_cost": {"kind": "number", "label": cap("offer_cost"), "min": 0.0, "step": 1.0,
                                   "value": sel["offer_cost"]}}
        opts = (ex.options(region=sel.get("region", explore.ALL)) if isinstance(ex, explore.MysteryExplorer) else
                ex.options(sel.get("segment", explore.NONE)))
        return {k: {"kind": "select", "label": cap(k), "value": str(sel[k]),
                    "options": [{"value": str(o), "label": explore.option_label(k, o)} for o in v]}
                for k, v in opts.items()}

    def view(self, name: str, selection: Mapping[str, Any], changed: str = "", lang: str | None = None) -> dict:
        """The view of a selection as JSON-ready data, in ``lang`` (default the app's)."""
        with labels.language(self._lang(lang)), explore.busy():
            return self._view(name, selection, changed)

    def _view(self, name: str, selection: Mapping[str, Any], changed: str) -> dict:
        ex = self._explorer(name)
        t0 = time.perf_counter()
        sel = ex.adjust(selection, changed)
        out: dict[str, Any] = {"selection": _encode_selection(sel), "controls": self._controls(name, sel)}
        try:
            v = ex.view(**sel)
        except SQMError as exc:  # a selection without enough data: say so, keep the controls usable
            out.update(charts=[], alts=[], table="", extra="", note="", status=ex.nothing(exc))
            return out
        drawn = [ex.chart(key, draw) for key, draw in v.charts]
        charts = [base64.b64encode(svg).decode("ascii") for svg, _ in drawn]
        out.update(charts=charts, alts=[alt for _, alt in drawn],
                   table=explore.html_table(v.table),
                   extra="".join(f"<h4>{html.escape(explore.extra_heading(k))}</h4>" + explore.html_table(t, 20)
                                 for k, t in v.extra.items()),
                   note=labels.identifiers_to_labels(v.note), status=ex.status(v.note, time.perf_counter() - t0))
        return out

    def best(self, clv: float, offer_cost: float) -> float:
        return self._explorer("churn").best_threshold(float(clv), float(offer_cost))

    def _explorer(self, name: str):
        if name not in self.explorers:
            raise SQMArgumentError(f"no explorer {name!r}; there are {', '.join(self.explorers)}")
        return self.explorers[name]

    def warm(self) -> list:
        """Compute likely selections in the background (charts in the app's language); returns the background
        threads."""
        with labels.language(self.lang):
            return [ex.warm(background=True) for ex in self.explorers.values()]

    # ---- the page ------------------------------------------------------------------------------------
    def page(self, data_label: str, lang: str | None = None) -> str:
        """The page: tabs, one panel per explorer, the language switch; in ``lang`` (default the app's)."""
        lang = self._lang(lang)
        with labels.language(lang):
            tabs = "".join(f"<button class='tab' data-tab='{html.escape(n)}'>{html.escape(ex.heading())}</button>"
                           for n, ex in self.explorers.items())
            panels = "".join(
                f"<section class='panel' id='panel-{html.escape(n)}' data-name='{html.escape(n)}' hidden>"
                f"<h2>{html.escape(ex.heading())}</h2><div class='controls'></div>"
                + (f"<button class='best'>{html.escape(explore.best_label())}</button>" if n == "churn" else "")
                + "<p class='status' role='status'></p><div class='charts'></div><div class='table'></div>"
                  "<div class='extra'></div></section>"
                for n, ex in self.explorers.items())
            words = {"TITLE": msg("explore.page_title", "sqm explorer"), "DATA": msg("explore.data", "Data"),
                     "COMPUTING": msg("explore.computing", "computing…"),
                     "SWITCH": msg("explore.switch", "Language")}
        switch = " · ".join(f"<strong>{text}</strong>" if code == lang else f"<a href='?lang={code}'>{text}</a>"
                            for code, text in (("en", "English"), ("zh", "中文")))
        page = PAGE
        for key, value in words.items():
            page = page.replace("{{" + key + "}}", html.escape(value))
        return (page.replace("{{FONTS}}", FONT_STACK).replace("{{EMBEDDED}}", EMBEDDED_FAMILY)
                .replace("{{LANG}}", lang).replace("{{HTMLLANG}}", "zh-CN" if lang == "zh" else "en")
                .replace("{{SWITCHLINKS}}", switch).replace("{{DATAPATH}}", html.escape(data_label))
                .replace("{{TABS}}", tabs).replace("{{PANELS}}", panels))


PAGE = """<!DOCTYPE html>
<html lang="{{HTMLLANG}}"><head><meta charset="utf-8"><title>{{TITLE}}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'">
<style>
@font-face { font-family: '{{EMBEDDED}}'; src: url('font/cjk.otf') format('opentype');
  unicode-range: U+2E80-9FFF, U+AC00-D7AF, U+F900-FAFF, U+FF00-FFEF, U+3000-303F; }
body { font-family: {{FONTS}}; margin: 1.2rem 2rem; color: #222; }
select, input, button { font-family: inherit; }
.tab { margin-right: .4rem; padding: .4rem .8rem; border: 1px solid #bbb; background: #f3f6fa; cursor: pointer; }
.tab.active { background: #4C72B0; color: white; }
.controls { display: flex; flex-wrap: wrap; gap: .8rem; margin: .6rem 0; }
.controls label { font-size: .85rem; display: flex; flex-direction: column; }
.status { font-style: italic; color: #555; }
.charts { display: flex; flex-wrap: wrap; align-items: flex-start; }
.charts img { max-width: 48%; margin: .3rem; }
nav.lang { float: right; font-size: .9rem; }
:lang(zh) th { min-width: 2.6em; }
table { border-collapse: collapse; font-size: .8rem; } td, th { padding: 2px 6px; border-bottom: 1px solid #eee; }
</style></head><body>
<nav class='lang' aria-label='{{SWITCH}}'>{{SWITCHLINKS}}</nav>
<h1>{{TITLE}}</h1><p>{{DATA}}: <code>{{DATAPATH}}</code></p>
<nav>{{TABS}}</nav>
{{PANELS}}
<script>
const LANG = '{{LANG}}';
const pending = {};
function selectionOf(panel) {
  const sel = {};
  panel.querySelectorAll('.controls [name]').forEach(el => { sel[el.name] = el.value; });
  return sel;
}
function renderControls(panel, controls) {
  const box = panel.querySelector('.controls');
  box.textContent = '';
  for (const [name, c] of Object.entries(controls)) {
    const label = document.createElement('label');
    label.textContent = c.label;
    let el;
    if (c.kind === 'select') {
      el = document.createElement('select');
      for (const o of c.options) { const opt = document.createElement('option'); opt.value = o.value; opt.textContent = o.label; el.appendChild(opt); }
    } else {
      el = document.createElement('input');
      el.type = c.kind; el.min = c.min; if (c.max !== undefined) el.max = c.max; el.step = c.step;
    }
    el.name = name; el.value = c.value; el.className = 'sqm-' + panel.dataset.name + '-' + name.replace('_', '-');
    el.addEventListener('change', () => update(panel, name));
    label.appendChild(el); box.appendChild(label);
  }
}
async function update(panel, changed) {
  const name = panel.dataset.name;
  const params = new URLSearchParams(selectionOf(panel));
  if (changed) params.set('_changed', changed);
  params.set('_lang', LANG);
  const token = (pending[name] || 0) + 1; pending[name] = token;
  panel.querySelector('.status').textContent = '{{COMPUTING}}';
  const r = await fetch('api/' + name + '/view?' + params.toString(), {credentials: 'same-origin'});
  const v = await r.json();
  if (pending[name] !== token) return;  // a newer change is on its way
  if (!r.ok) { panel.querySelector('.status').textContent = v.error || ('error ' + r.status); return; }
  renderControls(panel, v.controls);
  panel.querySelector('.status').textContent = v.status;
  const charts = panel.querySelector('.charts'); charts.textContent = '';
  v.charts.forEach((svg, i) => { const img = document.createElement('img'); img.src = 'data:image/svg+xml;base64,' + svg; img.alt = v.alts[i]; charts.appendChild(img); });
  panel.querySelector('.table').innerHTML = v.table;   // escaped by the server
  panel.querySelector('.extra').innerHTML = v.extra;
  panel.dataset.ready = '1';
}
function show(name) {
  document.querySelectorAll('.panel').forEach(p => { p.hidden = p.dataset.name !== name; });
  document.querySelectorAll('.tab').forEach(t => t.classList.toggle('active', t.dataset.tab === name));
}
document.querySelectorAll('.tab').forEach(t => t.addEventListener('click', () => show(t.dataset.tab)));
document.querySelectorAll('.panel').forEach(p => update(p, ''));
const best = document.querySelector('#panel-churn .best');
if (best) best.addEventListener('click', async () => {
  const panel = document.querySelector('#panel-churn');
  const sel = selectionOf(panel);
  const r = await fetch('api/churn/best?' + new URLSearchParams({clv: sel.clv, offer_cost: sel.offer_cost}));
  const v = await r.json();
  panel.querySelector('[name=threshold]').value = v.threshold;
  update(panel, 'threshold');
});
show(document.querySelector('.tab').dataset.tab);
</script></body></html>
"""


def _finite(obj):
    """``obj`` with every non-finite float as None: JSON has no NaN or Infinity, and the page must parse it."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _same(given: str | None, token: str) -> bool:
    """Whether a credential equals the token, in constant time; any text (non-ASCII included) is just wrong."""
    return given is not None and secrets.compare_digest(given.encode("utf-8", "surrogatepass"),
                                                        token.encode("utf-8", "surrogatepass"))


MAX_BODY_BYTES = 4096  # the explorer only answers GET: a request body is never needed, and never read whole


def make_server(app: App, *, token: str, data_label: str, allow_remote: bool = False, max_pending: int = 16,
                workers: int = 2, cookie: str = COOKIE):
    """The tornado application serving ``app`` (``cookie``: the session cookie's name, one per server so that
    two explorers on one machine do not log each other out)."""
    import tornado.web

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sqm-view")
    app.pool = pool
    state = {"pending": 0}
    lock = threading.Lock()

    class Base(tornado.web.RequestHandler):
        def set_default_headers(self):
            self.set_header("X-Content-Type-Options", "nosniff")
            self.set_header("X-Frame-Options", "DENY")
            self.set_header("Referrer-Policy", "no-referrer")
            self.set_header("Cache-Control", "no-store")

        def finish(self, chunk=None):
            if isinstance(chunk, dict):  # always valid JSON (tornado's encoder would write NaN)
                self.set_header("Content-Type", "application/json; charset=UTF-8")
                chunk = json.dumps(_finite(chunk), allow_nan=False)
            return super().finish(chunk)

        def prepare(self):
            if not allow_remote and not local_host(self.request.host):
                self._refuse(403, "this server answers only to requests for this machine (127.0.0.1, "
                                  "localhost); start it with --allow-remote to share it")
                return
            given = self.get_query_argument("token", None)
            if _same(given, token):
                self.set_cookie(cookie, token, httponly=True, samesite="Strict")
                return
            if not _same(self.get_cookie(cookie), token):
                self._refuse(403, "open the address `sqm explore` printed (it carries the access token)")

        def _refuse(self, status: int, message: str):
            self.set_status(status)
            if self.request.path.startswith("/api/"):
                self.finish({"error": message})
            else:
                self.finish(f"<!DOCTYPE html><html><body><h1>sqm explorer</h1><p>{html.escape(message)}</p>"
                            "</body></html>")

    async def ready():
        """Wait until the app's data is read (the server answers from the start)."""
        await asyncio.wrap_future(app.loaded)

    class PageHandler(Base):
        async def get(self):
            lang = self.get_query_argument("lang", "")
            if self.get_query_argument("token", None) is not None:  # drop the token from the address bar
                self.redirect("/" + (f"?lang={app._lang(lang)}" if lang else ""))
                return
            await ready()
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(app.page(data_label, lang or None))

    class ViewHandler(Base):
        async def get(self, name):
            with lock:
                if state["pending"] >= max_pending:
                    self.set_status(503)
                    self.finish({"error": f"the server is busy ({max_pending} views are being computed); "
                                          "try again in a moment"})
                    return
                state["pending"] += 1
            try:
                sel = {k: self.get_query_argument(k) for k in self.request.query_arguments if not k.startswith("_")
                       and k != "token"}
                changed = self.get_query_argument("_changed", "")
                lang = self.get_query_argument("_lang", "") or None
                await ready()
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(pool, app.view, name, sel, changed, lang)
                self.finish(result)
            except (SQMError, ValueError) as exc:
                self.set_status(400)
                self.finish({"error": str(exc)})
            finally:
                with lock:
                    state["pending"] -= 1

    class BestHandler(Base):
        async def get(self):
            try:
                clv, cost = explore.check_amounts(self.get_query_argument("clv"),
                                                  self.get_query_argument("offer_cost"))
            except (SQMError, tornado.web.MissingArgumentError) as exc:
                self.set_status(400)
                self.finish({"error": str(exc) if isinstance(exc, SQMError) else
                             "clv and offer_cost must be numbers"})
                return
            await ready()
            loop = asyncio.get_running_loop()
            self.finish({"threshold": await loop.run_in_executor(pool, app.best, clv, cost)})

    class FontHandler(Base):
        def set_default_headers(self):
            super().set_default_headers()
            self.set_header("Cache-Control", "private, max-age=604800")  # the same file for a week

        def get(self):
            path = bundled_cjk_font()
            if path is None:
                self.set_status(404)
                self.finish()
                return
            self.set_header("Content-Type", "font/otf")
            self.finish(path.read_bytes())

    class NoIcon(tornado.web.RequestHandler):
        def get(self):
            self.set_status(204)
            self.finish()

    class Health(tornado.web.RequestHandler):
        def get(self):
            self.finish({"ok": True})

    return tornado.web.Application([
        (r"/", PageHandler), (r"/api/(survey|drivers|churn|chain|mystery|pdca|value|feedback)/view", ViewHandler), (r"/api/churn/best", BestHandler),
        (r"/font/cjk.otf", FontHandler), (r"/health", Health), (r"/favicon.ico", NoIcon),
    ], xsrf_cookies=False, compress_response=True)


def serve(data_dir=None, *, host: str = "127.0.0.1", port: int = 8866, token: str | None = None,
          allow_remote: bool = False, quarter: str = "", instrument: str = "", lang: str = "en",
          max_pending: int = 16, say: Callable[[str], None] = print, sockets=None) -> None:
    """Serve the explorers of a data folder until interrupted (Ctrl+C or SIGTERM).

    The address is printed as soon as the server listens; the data is read and the churn model fitted after
    that, and pages opened meanwhile wait for them. A data error stops the server and is raised.

    Parameters
    ----------
    data_dir : path, optional
        The data folder (default the bundled sample).
    host, port : str, int
        Where to listen; a host other than this machine needs ``allow_remote``.
    token : str, optional
        The access token (default: a new random one, printed in the URL).
    allow_remote : bool
        Accept requests for other host names and bind beyond loopback.
    lang : {"en", "zh"}
        The language pages open in (each page has a switch).
    max_pending : int
        Views computed or waiting at once before requests get 503.
    sockets : list of socket, optional
        Sockets already listening on ``host:port`` (:func:`sqmlib.hosts.bind`; default: bound here).
    """
    import tornado.httpserver
    import tornado.ioloop

    check_bind_host(host, allow_remote)
    check_token(token)
    data = resolve(data_dir, SAMPLE_DIR).resolve()
    sockets = sockets or bind(host, port)  # before the data is read: a port in use fails at once
    token = token or secrets.token_urlsafe(18)
    app = App(lang=lang)
    label = str(data.relative_to(PROJECT_ROOT)) if data.is_relative_to(PROJECT_ROOT) else str(data)
    server = tornado.httpserver.HTTPServer(make_server(app, token=token, data_label=label, allow_remote=allow_remote,
                                                       max_pending=max_pending, cookie=f"{COOKIE}_{port}"),
                                           max_body_size=MAX_BODY_BYTES)
    server.add_sockets(sockets)
    shown = "127.0.0.1" if host in ("127.0.0.1", "localhost") else host
    lang_part = "" if app.lang == "en" else f"&lang={app.lang}"
    say(f"Serving the explorer on http://{shown}:{port}/?token={token}{lang_part} (Ctrl+C to stop)")
    say(f"Reading {data} and fitting the churn model (the page opens when they are done) …")
    loop = tornado.ioloop.IOLoop.current()
    warming: list = []
    t0 = time.perf_counter()

    def load():
        app.load(lambda: explore.explorers(data, quarter=quarter, instrument=instrument))
        if app.loaded.exception() is not None:
            loop.add_callback(loop.stop)
            return
        warming.extend(app.warm())
        say(f"Ready in {time.perf_counter() - t0:.1f} s")

    loader = threading.Thread(target=load, name="sqm-load", daemon=True)
    loader.start()

    def stop(*_):
        loop.add_callback_from_signal(loop.stop)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
        for s in sockets:
            s.close()
        # no computation may still run in a thread while the interpreter shuts down
        loader.join()  # reading the data is not interrupted: wait for it, then for the warming it started
        explore.stop_warming(warming)
        app.pool.shutdown(wait=True, cancel_futures=True)
    if app.loaded.done() and app.loaded.exception() is not None:
        raise app.loaded.exception()


__all__ = ["App", "bind", "local_host", "make_server", "serve"]
