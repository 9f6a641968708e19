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
import secrets
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Mapping

from .. import explore
from ..errors import SQMArgumentError, SQMError
from ..hosts import bind, check_bind_host, local_host  # noqa: F401  (serve.bind: its documented place)
from ..paths import PROJECT_ROOT, SAMPLE_DIR, resolve
COOKIE = "sqm_explore"


def _encode_selection(sel: Mapping[str, Any]) -> dict:
    return {k: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v))
            for k, v in sel.items()}


class App:
    """The explorers and what the HTTP layer asks of them (no HTTP here: easy to test)."""

    def __init__(self, explorers: Mapping[str, Any]):
        self.explorers = dict(explorers)
        self.pool = None  # the view computations' threads, set by make_server

    # ---- selections ----------------------------------------------------------------------------------
    def controls(self, name: str, selection: Mapping[str, Any] | None = None) -> dict:
        """The controls of an explorer for a selection: their choices and current values."""
        ex = self._explorer(name)
        sel = {**ex.defaults(), **(selection or {})}
        if isinstance(ex, explore.ChurnExplorer):
            return {"threshold": {"kind": "range", "min": 0.0, "max": 1.0, "step": 0.005, "value": sel["threshold"]},
                    "clv": {"kind": "number", "min": 1.0, "step": 10.0, "value": sel["clv"]},
                    "offer_cost": {"kind": "number", "min": 0.0, "step": 1.0, "value": sel["offer_cost"]}}
        opts = ex.options(sel.get("segment", explore.NONE))
        return {k: {"kind": "select", "options": [str(o) for o in v], "value": str(sel[k])} for k, v in opts.items()}

    def view(self, name: str, selection: Mapping[str, Any], changed: str = "") -> dict:
        """The view of a selection as JSON-ready data."""
        ex = self._explorer(name)
        t0 = time.perf_counter()
        sel = ex.adjust(selection, changed)
        out: dict[str, Any] = {"selection": _encode_selection(sel), "controls": self.controls(name, sel)}
        try:
            v = ex.view(**sel)
        except SQMError as exc:  # a selection without enough data: say so, keep the controls usable
            out.update(charts=[], table="", extra="", note="",
                       status=f"Nothing to show for this selection: {exc}")
            return out
        charts = [base64.b64encode(ex.image(key, draw)).decode("ascii") for key, draw in v.charts]
        out.update(charts=charts, table=explore.html_table(v.table),
                   extra="".join(f"<h4>{html.escape(k)}</h4>" + explore.html_table(t, 20) for k, t in v.extra.items()),
                   note=v.note, status=f"{v.note} — {time.perf_counter() - t0:.2f} s")
        return out

    def best(self, clv: float, offer_cost: float) -> float:
        return self._explorer("churn").best_threshold(float(clv), float(offer_cost))

    def _explorer(self, name: str):
        if name not in self.explorers:
            raise SQMArgumentError(f"no explorer {name!r}; there are {', '.join(self.explorers)}")
        return self.explorers[name]

    def warm(self) -> list:
        """Compute every explorer's default view now and likely selections in the background; returns the
        background threads."""
        threads = []
        for name, ex in self.explorers.items():
            self.view(name, {})
            threads.append(ex.warm(background=True))
        return threads

    # ---- the page ------------------------------------------------------------------------------------
    def page(self, data_label: str) -> str:
        tabs = "".join(f"<button class='tab' data-tab='{html.escape(n)}'>{html.escape(ex.title)}</button>"
                       for n, ex in self.explorers.items())
        panels = "".join(
            f"<section class='panel' id='panel-{html.escape(n)}' data-name='{html.escape(n)}' hidden>"
            f"<h2>{html.escape(ex.title)}</h2><div class='controls'></div>"
            + ("<button class='best'>Best threshold</button>" if n == "churn" else "")
            + "<p class='status' role='status'></p><div class='charts'></div><div class='table'></div>"
              "<div class='extra'></div></section>"
            for n, ex in self.explorers.items())
        return PAGE.replace("{{DATA}}", html.escape(data_label)).replace("{{TABS}}", tabs).replace("{{PANELS}}", panels)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sqm explorer</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'">
<style>
body { font-family: system-ui, sans-serif; margin: 1.2rem 2rem; color: #222; }
.tab { margin-right: .4rem; padding: .4rem .8rem; border: 1px solid #bbb; background: #f3f6fa; cursor: pointer; }
.tab.active { background: #4C72B0; color: white; }
.controls { display: flex; flex-wrap: wrap; gap: .8rem; margin: .6rem 0; }
.controls label { font-size: .85rem; display: flex; flex-direction: column; }
.status { font-style: italic; color: #555; }
.charts img { max-width: 48%; margin: .3rem; }
table { border-collapse: collapse; font-size: .8rem; } td, th { padding: 2px 6px; border-bottom: 1px solid #eee; }
</style></head><body>
<h1>sqm explorer</h1><p>Data: <code>{{DATA}}</code></p>
<nav>{{TABS}}</nav>
{{PANELS}}
<script>
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
    label.textContent = name.replace('_', ' ');
    let el;
    if (c.kind === 'select') {
      el = document.createElement('select');
      for (const o of c.options) { const opt = document.createElement('option'); opt.value = o; opt.textContent = o; el.appendChild(opt); }
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
  const token = (pending[name] || 0) + 1; pending[name] = token;
  panel.querySelector('.status').textContent = 'computing…';
  const r = await fetch('api/' + name + '/view?' + params.toString(), {credentials: 'same-origin'});
  const v = await r.json();
  if (pending[name] !== token) return;  // a newer change is on its way
  if (!r.ok) { panel.querySelector('.status').textContent = v.error || ('error ' + r.status); return; }
  renderControls(panel, v.controls);
  panel.querySelector('.status').textContent = v.status;
  const charts = panel.querySelector('.charts'); charts.textContent = '';
  for (const svg of v.charts) { const img = document.createElement('img'); img.src = 'data:image/svg+xml;base64,' + svg; img.alt = 'chart: ' + v.note; charts.appendChild(img); }
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


def make_server(app: App, *, token: str, data_label: str, allow_remote: bool = False, max_pending: int = 16,
                workers: int = 2):
    """The tornado application serving ``app``."""
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

        def prepare(self):
            if not allow_remote and not local_host(self.request.host):
                self._refuse(403, "this server answers only to requests for this machine (127.0.0.1, "
                                  "localhost); start it with --allow-remote to share it")
                return
            given = self.get_query_argument("token", None)
            if given is not None and secrets.compare_digest(given, token):
                self.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
                return
            cookie = self.get_cookie(COOKIE)
            if cookie is None or not secrets.compare_digest(cookie, token):
                self._refuse(403, "open the address `sqm explore` printed (it carries the access token)")

        def _refuse(self, status: int, message: str):
            self.set_status(status)
            if self.request.path.startswith("/api/"):
                self.finish({"error": message})
            else:
                self.finish(f"<!DOCTYPE html><html><body><h1>sqm explorer</h1><p>{html.escape(message)}</p>"
                            "</body></html>")

    class PageHandler(Base):
        def get(self):
            if self.get_query_argument("token", None) is not None:  # drop the token from the address bar
                self.redirect("/")
                return
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(app.page(data_label))

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
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(pool, app.view, name, sel, changed)
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
                clv, cost = float(self.get_query_argument("clv")), float(self.get_query_argument("offer_cost"))
            except (TypeError, ValueError, tornado.web.MissingArgumentError):
                self.set_status(400)
                self.finish({"error": "clv and offer_cost must be numbers"})
                return
            loop = asyncio.get_running_loop()
            self.finish({"threshold": await loop.run_in_executor(pool, app.best, clv, cost)})

    class Health(tornado.web.RequestHandler):
        def get(self):
            self.finish({"ok": True})

    return tornado.web.Application([
        (r"/", PageHandler), (r"/api/(survey|drivers|churn|chain)/view", ViewHandler), (r"/api/churn/best", BestHandler),
        (r"/health", Health),
    ], xsrf_cookies=False, compress_response=True)


def serve(data_dir=None, *, host: str = "127.0.0.1", port: int = 8866, token: str | None = None,
          allow_remote: bool = False, quarter: str = "", instrument: str = "", max_pending: int = 16,
          say: Callable[[str], None] = print, sockets=None) -> None:
    """Serve the explorers of a data folder until interrupted (Ctrl+C or SIGTERM).

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
    max_pending : int
        Views computed or waiting at once before requests get 503.
    sockets : list of socket, optional
        Sockets already listening on ``host:port`` (:func:`sqmlib.hosts.bind`; default: bound here).
    """
    import tornado.httpserver
    import tornado.ioloop


    check_bind_host(host, allow_remote)
    data = resolve(data_dir, SAMPLE_DIR).resolve()
    sockets = sockets or bind(host, port)  # before the data is read: a port in use fails at once
    token = token or secrets.token_urlsafe(18)
    say(f"Reading {data} and fitting the churn model …")
    app = App(explore.explorers(data, quarter=quarter, instrument=instrument))
    warming = app.warm()
    label = str(data.relative_to(PROJECT_ROOT)) if data.is_relative_to(PROJECT_ROOT) else str(data)
    server = tornado.httpserver.HTTPServer(make_server(app, token=token, data_label=label,
                                                       allow_remote=allow_remote, max_pending=max_pending))
    server.add_sockets(sockets)
    shown = "127.0.0.1" if host in ("127.0.0.1", "localhost") else host
    say(f"Serving the explorer on http://{shown}:{port}/?token={token} (Ctrl+C to stop)")
    loop = tornado.ioloop.IOLoop.current()

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
        explore.stop_warming(warming)
        app.pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["App", "bind", "local_host", "make_server", "serve"]
