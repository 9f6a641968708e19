"""What every explorer shares: views, warming, tables and dropdowns."""
from __future__ import annotations

import html
import io as _io
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import Problem, SQMArgumentError, SQMDataError, SQMError
from ..instruments import load as load_instrument
from ..render import formats, labels, plots
from ..render.fonts import CJK_CHARS
from ..render.messages import listed, msg
from ..render.outputs import markdown_html
from ..render.show import alt_text
from ..render.show import figure as show_figure
from ..render.show import stable_uuid, styled

ALL = "(all)"
NONE = "(none)"
MAX_SEGMENT_VALUES = 30

# Warming runs one job at a time across all explorers and waits while a widget is updating, so that it only
# uses time the user is not waiting on (threads share one interpreter lock).
_WARM_LOCK = threading.Lock()
_IDLE = threading.Event()
_IDLE.set()
_STOP = threading.Event()  # set by stop_warming(): background warming ends after its current job
_BUSY = {"n": 0, "last": 0.0}
_BUSY_LOCK = threading.Lock()
QUIET_SECONDS = 1.0  # warming resumes only after this long without a change being computed


def _wait_until_quiet() -> None:
    """Block the warming thread while someone waits on a change and for :data:`QUIET_SECONDS` after the last
    one: a person moving from one selection to the next is not slowed down by computations for the next guess."""
    while not _STOP.is_set():
        _IDLE.wait()
        quiet = time.monotonic() - _BUSY["last"]
        if quiet >= QUIET_SECONDS and _IDLE.is_set():
            return
        time.sleep(max(QUIET_SECONDS - quiet, 0.01))


class busy:
    """``with busy(): …`` — someone is waiting on this computation: background warming pauses before its next
    step until every such block has ended (widgets and the served app wrap each change in one)."""

    def __enter__(self):
        with _BUSY_LOCK:
            _BUSY["n"] += 1
            _IDLE.clear()
        return self

    def __exit__(self, *exc):
        with _BUSY_LOCK:
            _BUSY["n"] -= 1
            _BUSY["last"] = time.monotonic()
            if _BUSY["n"] == 0:
                _IDLE.set()
        return False


def stop_warming(threads=(), timeout: float = 60) -> None:
    """Stop background warming (each thread finishes the job it is on) and wait for ``threads`` to end, so that
    a server can exit without computations still running in daemon threads."""
    _STOP.set()
    _IDLE.set()
    for t in threads:
        if t is not None:
            t.join(timeout)


@dataclass(frozen=True)
class View:
    """What an explorer shows for one selection.

    Attributes
    ----------
    selection : dict
        The selection, completed with defaults.
    table : DataFrame
        The main table.
    extra : dict of DataFrame
        Further tables (e.g. the contact list).
    charts : tuple of (key, callable)
        Each callable draws one matplotlib Figure and returns it (drawn only when shown); the key names what
        the chart depends on, so that a chart already drawn for that key is not drawn again.
    note : str
        One line on what is shown (respondents, model, caveats).
    """

    selection: Mapping[str, Any]
    table: pd.DataFrame
    extra: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    charts: tuple[tuple[tuple, Callable[[], Any]], ...] = ()
    note: str = ""

    def figures(self) -> list:
        """Draw the charts: a list of matplotlib Figures."""
        return [draw() for _, draw in self.charts]

    def summary(self) -> pd.DataFrame:
        return self.table

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(labels.phrase(self.note))}</p>" + styled(self.table, uuid="view" + stable_uuid(self.table, numbered=False)).to_html()


_MISS = object()


def _approx_size(value, depth: int = 0) -> int:
    """Roughly how many bytes a cached result holds: bytes and text by length, arrays and frames by their
    buffers, containers and result objects by their parts (three levels deep), anything else 1 kB."""
    if isinstance(value, (bytes, str)):
        return len(value) + 64
    if isinstance(value, np.ndarray):
        return int(value.nbytes) + 128
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return int(np.sum(value.memory_usage(index=True, deep=False))) + 512
    if depth >= 3:
        return 1024
    if isinstance(value, dict):
        return 64 + sum(_approx_size(v, depth + 1) for v in value.values())
    if isinstance(value, (list, tuple)):
        return 64 + sum(_approx_size(v, depth + 1) for v in value)
    fields = getattr(value, "__dict__", None)
    if fields:
        return 64 + sum(_approx_size(v, depth + 1) for v in fields.values())
    return 1024


def _svg(draw: Callable[[], Any]) -> tuple[bytes, str]:
    """Draw a chart off screen (no pyplot state: safe in the warming thread) in the current language and
    return it as SVG with its alt text.

    SVG with text left as text is about a quarter faster to produce than PNG (no rasterising) and stays sharp.
    """
    import matplotlib

    with plots.offscreen():
        fig = labels.figure(draw())
    buf = _io.BytesIO()
    # Chinese, Japanese or Korean text as outlines: an <img> cannot use the page's fonts, and a browser without
    # a CJK font would show boxes; Latin text stays text (smaller, selectable)
    from matplotlib.text import Text

    cjk = any(CJK_CHARS.search(t.get_text()) for t in fig.findobj(Text))
    with matplotlib.rc_context({"svg.fonttype": "path" if cjk else "none", "svg.hashsalt": "sqm"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue(), alt_text(fig)


def html_table(frame: pd.DataFrame, max_rows: int = 60) -> str:
    """A table as HTML as the report shows it (:func:`sqmlib.render.show.styled`: labels in the current
    language, numbers by their kind; other decimals to three places), text from the data escaped."""
    head = frame.head(max_rows)
    fmt = {c: "{:.3f}" for c in head.columns if pd.api.types.is_float_dtype(head[c])}
    fmt.update({c: "{:,}" for c in head.columns if pd.api.types.is_integer_dtype(head[c])})
    # an id of its own: two tables of one view sharing one would share their cell styles
    out = styled(head, lambda s: s.format(fmt, na_rep="–"), uuid="sqm" + stable_uuid(head, numbered=False)).hide(
        axis="index").to_html()
    if len(frame) > max_rows:
        more = msg("explore.more_rows", "… {more:,} more rows", more=len(frame) - max_rows)
        out += f"<p>{html.escape(more)}</p>"
    return out


EXTRA_TEXT = {"summary": lambda: msg("explore.extra.summary", "at this threshold"),
              "contact list": lambda: msg("explore.extra.contacts", "customers to contact now")}


def extra_heading(name: str) -> str:
    """The heading of one of a view's further tables, in the current language."""
    return EXTRA_TEXT[name]() if name in EXTRA_TEXT else labels.phrase(name)


def option_label(control: str, value) -> str:
    """What a control's choice reads as: "(all)", a segment column's or dimension's label, a code's label."""
    if value in (ALL, NONE):
        return labels.label(value)
    if control in ("value", "quarter", "before", "after"):
        return str(labels.code(str(value)))
    return str(labels.label(str(value)))


CONTROL_TEXT = {  # control → its caption (literal messages, so that the catalogue holds them)
    "quarter": lambda: msg("explore.control.quarter", "Quarter"),
    "segment": lambda: msg("explore.control.segment", "Segment"),
    "value": lambda: msg("explore.control.value", "Value"),
    "block": lambda: msg("explore.control.block", "Block"),
    "dimension": lambda: msg("explore.control.dimension", "Dimension"),
    "outcome": lambda: msg("explore.control.outcome", "Outcome"),
    "level": lambda: msg("explore.control.level", "Drivers"),
    "target": lambda: msg("explore.control.target", "Target"),
    "threshold": lambda: msg("explore.control.threshold", "Threshold"),
    "clv": lambda: msg("explore.control.clv", "Customer lifetime value"),
    "clv_mean": lambda: msg("explore.control.clv_mean", "Mean customer lifetime value"),
    "offer_cost": lambda: msg("explore.control.offer_cost", "Offer cost"),
    "region": lambda: msg("explore.control.region", "Region"),
    "store": lambda: msg("explore.control.store", "Store"),
    "kpi": lambda: msg("explore.control.kpi", "KPI"),
    "before": lambda: msg("explore.control.before", "From"),
    "after": lambda: msg("explore.control.after", "To"),
    "dims": lambda: msg("explore.control.dims", "Drill into"),
    "aspect": lambda: msg("explore.control.aspect", "Aspect"),
    "week": lambda: msg("explore.control.week", "Week starting"),
}
TITLE_TEXT = {
    "survey": lambda: msg("explore.title.survey", "Survey explorer"),
    "drivers": lambda: msg("explore.title.drivers", "Driver explorer"),
    "churn": lambda: msg("explore.title.churn", "Churn explorer"),
    "chain": lambda: msg("explore.title.chain", "Service-profit chain"),
    "mystery": lambda: msg("explore.title.mystery", "Mystery shopping"),
    "pdca": lambda: msg("explore.title.pdca", "Where did it move?"),
    "value": lambda: msg("explore.title.value", "Customer value"),
    "feedback": lambda: msg("explore.title.feedback", "Customer feedback"),
}


def control_label(control: str) -> str:
    """A control's caption in the current language (an amount's with its currency)."""
    caption = CONTROL_TEXT[control]() if control in CONTROL_TEXT else labels.label(control)
    code = formats.currency()
    if control in ("clv", "clv_mean", "offer_cost") and code:
        caption += f" ({formats.currency_symbol(code) or code})"
    return caption


class _Explorer:
    """Shared widget plumbing: controls → view → charts and table."""

    name = "explorer"
    title = "Explorer"

    def heading(self) -> str:
        """The explorer's title in the current language."""
        return TITLE_TEXT[self.name]() if self.name in TITLE_TEXT else labels.phrase(self.title)

    cache_bytes = 256 * 2 ** 20  # the cache's budget: least recently used results go first beyond it

    def __init__(self):
        self._cache: OrderedDict = OrderedDict()
        self._sizes: dict = {}
        self._cache_total = 0
        self._pending: dict = {}
        self._lock = threading.Lock()

    # subclasses: options() -> {control: [choices]} or slider specs, defaults(), view(**selection)
    def defaults(self) -> dict:
        raise NotImplementedError

    def view(self, **selection) -> View:
        raise NotImplementedError

    def chart(self, key, draw) -> tuple[bytes, str]:
        """A chart as SVG in the current language and its alt text, drawn once per key and language."""
        return self._cached(("svg", labels.current(), key), lambda: _svg(draw))

    def image(self, key, draw) -> bytes:
        """A chart as SVG in the current language, drawn once per key and language."""
        return self.chart(key, draw)[0]

    def _render(self, **selection) -> None:
        """Compute a selection's view and draw its charts into the cache (waiting between steps while someone
        waits on a change)."""
        for key, draw in self.view(**selection).charts:
            _wait_until_quiet()
            self.image(key, draw)

    def _hit(self, key):
        """The cached value of ``key`` (now the most recently used), else :data:`_MISS`."""
        with self._lock:
            if key not in self._cache:
                return _MISS
            self._cache.move_to_end(key)
            return self._cache[key]

    def _store(self, key, value) -> None:
        """Keep ``value``; beyond :attr:`cache_bytes` the least recently used results are dropped (never the
        one just stored), so memory stays bounded whatever selections people try."""
        size = _approx_size(value)
        with self._lock:
            self._cache[key] = value
            self._cache.move_to_end(key)
            self._cache_total += size - self._sizes.get(key, 0)
            self._sizes[key] = size
            while self._cache_total > self.cache_bytes and len(self._cache) > 1:
                old, _ = self._cache.popitem(last=False)
                self._cache_total -= self._sizes.pop(old)

    def _cached(self, key, compute):
        """The cached value of ``key``; computed once even when the warming thread asks at the same time."""
        value = self._hit(key)
        if value is not _MISS:
            return value
        with self._lock:
            pending = self._pending.get(key)
            mine = pending is None
            if mine:
                pending = self._pending[key] = threading.Event()
        if not mine:  # someone else is computing it: wait for their result
            pending.wait()
            value = self._hit(key)
            if value is not _MISS:
                return value
            return self._cached(key, compute)  # theirs failed (or was dropped): compute it ourselves
        try:
            value = compute()
            self._store(key, value)
            return value
        finally:
            with self._lock:
                del self._pending[key]
            pending.set()

    def _complete(self, selection: Mapping[str, Any]) -> dict:
        unknown = set(selection) - set(self.defaults())
        if unknown:
            raise SQMArgumentError(f"unknown selection {sorted(unknown)}; choose from {sorted(self.defaults())}")
        return {**self.defaults(), **selection}

    @staticmethod
    def _subset_key(sel: Mapping[str, Any]) -> tuple:
        """(quarter, segment, value) with the segment dropped when every value is chosen: the same rows."""
        if sel["value"] in (ALL, "", None) or sel["segment"] in (NONE, "", None):
            return str(sel["quarter"]), NONE, ALL
        return str(sel["quarter"]), str(sel["segment"]), str(sel["value"])

    # ---- widgets --------------------------------------------------------------------------------------
    def _controls(self) -> dict:
        raise NotImplementedError

    def shown_value(self, control: str, value) -> str:
        """A selection's value as a reader sees it (a choice's label)."""
        return option_label(control, value)

    @staticmethod
    def status(note: str, seconds: float) -> str:
        """The line under the controls: what is shown and how long the change took."""
        return msg("explore.status", "{note} — updated in {seconds:.2f} s", note=labels.identifiers_to_labels(note),
                   seconds=seconds)

    @staticmethod
    def nothing(exc: Exception) -> str:
        """What a selection without enough data shows instead of charts."""
        return msg("explore.nothing", "Nothing to show for this selection: {why}", why=str(exc))

    def adjust(self, selection: Mapping[str, Any], changed: str = "") -> dict:
        """A complete selection (defaults for what is not chosen, unknown keys dropped) with dependent
        choices kept consistent after the control ``changed`` moved; the widgets and the served app both
        use it."""
        return {**self.defaults(), **{k: v for k, v in selection.items() if k in self.defaults()}}

    def _on_control(self, name: str, controls: dict) -> None:
        """Hook: keep dependent controls consistent (e.g. segment values follow the segment column)."""

    def _likely(self) -> list[Callable[[], Any]]:
        """Hook: computations of the selections a user is likely to try next (warmed in the background)."""
        return []

    def warm(self, background: bool = True):
        """Compute the statistics of likely selections ahead of time (in a daemon thread by default), so that
        the first visit of each answers from the cache, with their charts drawn in the current language."""
        lang = labels.current()

        def run():
            for job in self._likely():
                _wait_until_quiet()
                if _STOP.is_set():
                    return
                with _WARM_LOCK, labels.language(lang):
                    try:
                        job()
                    except (SQMError, ValueError):
                        pass  # a selection without enough data: the explorer says so when it is picked

        if not background:
            run()
            return None
        thread = threading.Thread(target=run, name=f"sqm-warm-{self.name}", daemon=True)
        thread.start()
        return thread

    def widget(self, warm: bool = True):
        """The live explorer: controls above, charts and the table below; updates on every change.

        With ``warm``, likely next selections are computed in the background (see :meth:`warm`).
        """
        import ipywidgets as w

        controls = self._controls()
        for k, c in controls.items():
            c.add_class(f"sqm-{self.name}-{k.replace('_', '-')}")
        status = w.HTML().add_class(f"sqm-{self.name}-status")
        charts = w.HBox(layout=w.Layout(flex_flow="row wrap")).add_class(f"sqm-{self.name}-charts")
        table = w.HTML().add_class(f"sqm-{self.name}-table")
        extra = w.HTML().add_class(f"sqm-{self.name}-extra")
        updating = {"on": False}

        def update(change=None):
            if updating["on"]:
                return
            updating["on"] = True
            t0 = time.perf_counter()
            try:
                with busy():
                    if change is not None:
                        self._on_control(change["owner"]._sqm_name, controls)
                    sel = {k: c.value for k, c in controls.items()}
                    v = self.view(**sel)
                    images = [self.image(key, draw) for key, draw in v.charts]
                    if [i.value for i in charts.children] != images:
                        charts.children = [w.Image(value=b, format="svg+xml", layout=w.Layout(
                            width="auto", height="auto", max_width="100%", object_fit="contain")) for b in images]
                    table.value = html_table(v.table)
                    extra.value = "".join(f"<h4>{html.escape(extra_heading(k))}</h4>" + html_table(t, 20)
                                          for k, t in v.extra.items())
                    status.value = f"<i>{html.escape(self.status(v.note, time.perf_counter() - t0))}</i>"
            except SQMError as exc:  # a selection without enough data: say so, keep the controls usable
                charts.children = []
                table.value = extra.value = ""
                status.value = f"<b>{html.escape(self.nothing(exc))}</b>"
            finally:
                updating["on"] = False

        for k, c in controls.items():
            c._sqm_name = k
            c.observe(update, names="value")
        update()
        if warm:
            self.warm()
        box = w.VBox([w.HTML(f"<h3>{html.escape(self.heading())}</h3>"), w.HBox(list(controls.values()),
                      layout=w.Layout(flex_flow="row wrap")), status, charts, table, extra])
        return box.add_class(f"sqm-{self.name}")

    def show(self, live: bool = True, *, warm: bool = True, **selection) -> None:
        """Display the explorer: live widgets (warming likely selections in the background), or
        (``live=False``) the view of ``selection`` as static output."""
        from IPython.display import HTML, display

        if live:
            display(self.widget(warm=warm))
            return
        v = self.view(**selection)
        chosen = listed(f"{control_label(k)} = {self.shown_value(k, val)}" for k, val in v.selection.items())
        title, note = self.heading(), labels.text(v.note)
        line = msg("explore.default_view", "**{title}** — default view ({chosen}). {note}. Open the notebook in "
                   "JupyterLab or run `make explore` to change the selection.", title=title, chosen=chosen, note=note)
        display(HTML(markdown_html(line)))
        for fig in v.figures():
            show_figure(fig)
        display(HTML(html_table(v.table)))
        for k, t in v.extra.items():
            display(HTML(f"<p><strong>{html.escape(extra_heading(k))}</strong></p>"))
            display(HTML(html_table(t, 20)))


def _segment_columns(frame: pd.DataFrame, candidates: Sequence[str] | None) -> list[str]:
    cols = candidates if candidates is not None else [
        c for c in frame.columns
        if (frame[c].dtype == object or isinstance(frame[c].dtype, pd.CategoricalDtype))
        and c not in ("respondent_id", "customer_id", "quarter") and 1 < frame[c].nunique() <= MAX_SEGMENT_VALUES]
    return [c for c in cols if c in frame.columns]


def _subset(frame: pd.DataFrame, quarter: str, segment: str, value) -> pd.DataFrame:
    out = frame
    if quarter not in (ALL, "", None):
        out = out[out["quarter"] == quarter]
    if segment not in (NONE, "", None):
        if segment not in out.columns:
            raise SQMDataError("survey", [Problem("missing_column", f"no segment column {segment!r}")])
        if value not in (ALL, "", None):
            out = out[out[segment].astype(str) == str(value)]
    if len(out) < 3:
        where = f"quarter {quarter}" + (f", {segment} = {value}" if segment not in (NONE, "", None) else "")
        raise SQMDataError("survey", [Problem("too_few_rows", f"{len(out)} respondent(s) in {where}")])
    return out


def _segment_values(frame: pd.DataFrame, segment: str) -> list[str]:
    if segment in (NONE, "", None) or segment not in frame.columns:
        return [ALL]
    return [ALL] + sorted(frame[segment].dropna().astype(str).unique())


def _dropdowns(options: Mapping[str, Sequence], selection: Mapping[str, Any]) -> dict:
    """One dropdown per control: its caption and choices as labels, its values the identifiers."""
    import ipywidgets as w

    return {k: w.Dropdown(options=[(option_label(k, o), o) for o in v], value=selection[k],
                          description=control_label(k), style={"description_width": "initial"})
            for k, v in options.items()}


class _Choices(_Explorer):
    """An explorer whose every control is a choice from the lists :meth:`options` gives: a choice not offered is
    an argument error, and each control is a dropdown."""

    def adjust(self, selection: Mapping[str, Any], changed: str = "") -> dict:
        sel = super().adjust(selection, changed)
        for k, allowed in self.options().items():
            if sel[k] not in allowed:
                raise SQMArgumentError(f"{k} must be one of {allowed}")
        return sel

    def valid(self, **selection) -> dict:
        opts = self.options()
        return {k: v for k, v in selection.items() if k in opts and v in opts[k]}

    def _controls(self) -> dict:
        return _dropdowns(self.options(), self.defaults())

    def _on_control(self, name: str, controls: dict) -> None:
        return None


class _SurveyBased(_Explorer):
    """Explorers over survey rows: quarters, segment columns and the segment value that follows its column."""

    def __init__(self, survey: pd.DataFrame, instrument, segments: Sequence[str] | None, quarter: str | None):
        super().__init__()
        self.survey = survey
        self.inst = load_instrument(instrument)
        # the instrument's segments when it names any (a survey's other short text answers are not segments)
        declared = self.inst.segments_in(survey)
        self.segments = _segment_columns(survey, segments if segments is not None else (declared or None))
        self.quarters = sorted(survey["quarter"].dropna().unique()) if "quarter" in survey else []
        self.default_quarter = quarter or (self.quarters[-1] if self.quarters else ALL)

    @classmethod
    def from_folder(cls, folder, *, quarter: str = "", drop_careless: bool = True, **kwargs):
        """The explorer on a :class:`sqmlib.io.DataFolder` (careless respondents left out, as the report does)."""
        folder.require("survey", purpose=f"the {cls.title.lower()}")
        data = folder.without_careless() if drop_careless else folder
        return cls(data.survey, data.instrument, quarter=quarter or None, **kwargs)

    def valid(self, **selection) -> dict:
        """The part of ``selection`` that this explorer offers (e.g. an outcome the data do not hold is dropped)."""
        opts = self.options()
        return {k: v for k, v in selection.items() if k in opts and v in opts[k]}

    def adjust(self, selection: Mapping[str, Any], changed: str = "") -> dict:
        """Segment values follow the segment column: a new column, or a value it does not have, selects all."""
        sel = super().adjust(selection, changed)
        if changed == "segment" or sel["value"] not in self.options(sel["segment"])["value"]:
            sel["value"] = ALL
        return sel

    def _on_control(self, name: str, controls: dict) -> None:
        if name == "segment":
            controls["value"].options = [(option_label("value", o), o)
                                         for o in _segment_values(self.survey, controls["segment"].value)]
        for k, v in self.adjust({k: c.value for k, c in controls.items()}, name).items():
            if k in controls and controls[k].value != v:
                controls[k].value = v
