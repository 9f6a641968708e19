"""Interactive explorers: pick a quarter, a segment, a dimension or a threshold and see tables and charts follow.

Three explorers, each a plain Python object with an update function and an ipywidgets front end:

- :class:`SurveyExplorer` — quarter, segment column and value, block (E, P or the gap P − E) and dimension →
  item chart with intervals, zone of tolerance, importance–performance quadrants and the item table;
- :class:`DriverExplorer` — quarter, outcome, driver level and segment → relative importance with bootstrap
  intervals and the driver matrix;
- :class:`ChurnExplorer` — threshold, customer lifetime value and offer cost → profit curve, confusion counts
  and the list of customers to contact.

``view(**selection)`` computes what the explorer shows for one selection and returns a :class:`View` (tables
and chart drawers); it is what the widgets call and what the tests check. Heavy results (the statistics of a
subset of respondents, bootstrap importance, the profit curve for a CLV and offer cost) are cached per
selection, so moving back and forth between selections answers at once.

``show(live=True)`` puts the explorer at the end of a notebook: live widgets in JupyterLab, or, with
``live=False`` (papermill reports, which have no kernel behind them when read), the default view as static
charts and a table. :func:`app` assembles all three for ``make explore``.
"""
from __future__ import annotations

import html
import io as _io
import threading
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from . import churn, drivers, gaps, io, labels, plots, sem
from .errors import Problem, SQMArgumentError, SQMDataError, SQMError, SQMWarning
from .instruments import load as load_instrument
from .outputs import markdown_html
from .show import figure as show_figure, styled

ALL = "(all)"
NONE = "(none)"
MAX_SEGMENT_VALUES = 30

# Warming runs one job at a time across all explorers and waits while a widget is updating, so that it only
# uses time the user is not waiting on (threads share one interpreter lock).
_WARM_LOCK = threading.Lock()
_IDLE = threading.Event()
_IDLE.set()
_STOP = threading.Event()  # set by stop_warming(): background warming ends after its current job


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
        return f"<p>{html.escape(labels.phrase(self.note))}</p>" + styled(self.table, uuid="view").to_html()


def _svg(draw: Callable[[], Any]) -> bytes:
    """Draw a chart off screen (no pyplot state: safe in the warming thread) and return it as SVG.

    SVG with text left as text is about a quarter faster to produce than PNG (no rasterising) and stays sharp.
    """
    import matplotlib

    with plots.offscreen():
        fig = draw()
    buf = _io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "sqm"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def html_table(frame: pd.DataFrame, max_rows: int = 60) -> str:
    """A table as HTML, text from the data escaped."""
    head = frame.head(max_rows)
    fmt = {c: "{:.3f}" for c in head.columns if pd.api.types.is_float_dtype(head[c])}
    out = styled(head, lambda s: s.format(fmt, na_rep="–"), uuid="sqm").hide(axis="index").to_html()
    if len(frame) > max_rows:
        more = len(frame) - max_rows
        out += f"<p>{f'… 另有 {more:,} 行' if labels.current() == 'zh' else f'… {more:,} more rows'}</p>"
    return out


class _Explorer:
    """Shared widget plumbing: controls → view → charts and table."""

    name = "explorer"
    title = "Explorer"

    def __init__(self):
        self._cache: dict = {}
        self._pending: dict = {}
        self._lock = threading.Lock()

    # subclasses: options() -> {control: [choices]} or slider specs, defaults(), view(**selection)
    def defaults(self) -> dict:
        raise NotImplementedError

    def view(self, **selection) -> View:
        raise NotImplementedError

    def image(self, key, draw) -> bytes:
        """A chart as SVG, drawn once per key."""
        return self._cached(("svg", key), lambda: _svg(draw))

    def _render(self, **selection) -> None:
        """Compute a selection's view and draw its charts into the cache."""
        for key, draw in self.view(**selection).charts:
            self.image(key, draw)

    def _cached(self, key, compute):
        """The cached value of ``key``; computed once even when the warming thread asks at the same time."""
        if key in self._cache:
            return self._cache[key]
        with self._lock:
            pending = self._pending.get(key)
            mine = pending is None
            if mine:
                pending = self._pending[key] = threading.Event()
        if not mine:  # someone else is computing it: wait for their result
            pending.wait()
            if key in self._cache:
                return self._cache[key]
            return self._cached(key, compute)  # theirs failed: try ourselves (and raise the same error)
        try:
            value = self._cache[key] = compute()
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
        the first visit of each answers from the cache. Charts are still drawn on demand."""
        def run():
            for job in self._likely():
                _IDLE.wait()
                if _STOP.is_set():
                    return
                with _WARM_LOCK:
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
        busy = {"on": False}

        def update(change=None):
            if busy["on"]:
                return
            busy["on"] = True
            _IDLE.clear()
            t0 = time.perf_counter()
            try:
                if change is not None:
                    self._on_control(change["owner"]._sqm_name, controls)
                sel = {k: c.value for k, c in controls.items()}
                v = self.view(**sel)
                images = [self.image(key, draw) for key, draw in v.charts]
                if [i.value for i in charts.children] != images:
                    charts.children = [w.Image(value=b, format="svg+xml", layout=w.Layout(
                        width="auto", height="auto", max_width="100%", object_fit="contain")) for b in images]
                table.value = html_table(v.table)
                extra.value = "".join(f"<h4>{html.escape(k)}</h4>" + html_table(t, 20) for k, t in v.extra.items())
                status.value = f"<i>{html.escape(v.note)} — updated in {time.perf_counter() - t0:.2f} s</i>"
            except SQMError as exc:  # a selection without enough data: say so, keep the controls usable
                charts.children = []
                table.value = extra.value = ""
                status.value = f"<b>Nothing to show for this selection:</b> {html.escape(str(exc))}"
            finally:
                busy["on"] = False
                _IDLE.set()

        for k, c in controls.items():
            c._sqm_name = k
            c.observe(update, names="value")
        update()
        if warm:
            self.warm()
        box = w.VBox([w.HTML(f"<h3>{self.title}</h3>"), w.HBox(list(controls.values()),
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
        zh = labels.current() == "zh"
        chosen = ("，" if zh else ", ").join(f"{labels.label(k)} = {labels.code(val)}" for k, val in v.selection.items())
        title, note = labels.phrase(self.title), labels.text(v.note)
        if zh:
            line = (f"**{title}** — 默认视图（{chosen}）。{note}。在 JupyterLab 中打开笔记本，或运行 "
                    "`make explore`，即可更改选择。")
        else:
            line = (f"**{title}** — default view ({chosen}). {note}. Open the notebook in JupyterLab or run "
                    "`make explore` to change the selection.")
        display(HTML(markdown_html(line)))
        for fig in v.figures():
            show_figure(fig)
        display(HTML(html_table(v.table)))
        for k, t in v.extra.items():
            display(HTML(f"<p><strong>{html.escape(labels.phrase(k))}</strong></p>"))
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


def _dropdowns(options: Mapping[str, Sequence], selection: Mapping[str, Any], labels: Mapping[str, str]) -> dict:
    import ipywidgets as w

    return {k: w.Dropdown(options=list(v), value=selection[k], description=labels.get(k, k),
                          style={"description_width": "initial"}) for k, v in options.items()}


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
            controls["value"].options = _segment_values(self.survey, controls["segment"].value)
        for k, v in self.adjust({k: c.value for k, c in controls.items()}, name).items():
            if k in controls and controls[k].value != v:
                controls[k].value = v


# ---------------------------------------------------------------------------------------------------------
# survey
# ---------------------------------------------------------------------------------------------------------
class SurveyExplorer(_SurveyBased):
    """Gaps, zone of tolerance and IPA for any quarter × segment, block and dimension.

    Parameters
    ----------
    survey : DataFrame
        As :func:`sqmlib.io.load_survey` returns it (careless respondents already removed, if wanted).
    instrument : Instrument or name
    segments : sequence of str, optional
        Segment columns offered; default every text column with 2–30 values.
    quarter : str, optional
        Default quarter (default: the latest).
    """

    name = "survey"
    title = "Survey explorer"
    BLOCKS = ("gap", "P", "E")

    def __init__(self, survey: pd.DataFrame, instrument, *, segments: Sequence[str] | None = None,
                 quarter: str | None = None):
        super().__init__(survey, instrument, segments, quarter)
        blocks = set(self.inst.blocks)
        self.blocks = [b for b in self.BLOCKS if b in blocks or (b == "gap" and self.inst.has_expectations)]

    def defaults(self) -> dict:
        return {"quarter": self.default_quarter, "segment": NONE, "value": ALL,
                "block": self.blocks[0], "dimension": ALL}

    def options(self, segment: str = NONE) -> dict:
        return {"quarter": self.quarters + [ALL], "segment": [NONE] + self.segments,
                "value": _segment_values(self.survey, segment), "block": self.blocks,
                "dimension": [ALL] + list(self.inst.dimensions)}

    def statistics(self, quarter: str, segment: str, value) -> dict:
        """Gap table, item means, zone of tolerance and IPA of one subset (cached)."""
        def compute():
            sub = _subset(self.survey, quarter, segment, value)
            inst = self.inst
            out = {"n": len(sub), "gaps": None, "zone": None, "ipa": None,
                   "means": {b: gaps.item_means(sub, inst, b) for b in ("P", "E") if b in self.blocks}}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SQMWarning)
                if inst.has_expectations:
                    out["gaps"] = gaps.servqual_gaps(sub, inst, wilcoxon=False)
                if all(b in inst.blocks for b in "AD") and all(c in sub for c in inst.item_columns("A") + inst.item_columns("D")):
                    out["zone"] = gaps.zone_of_tolerance(sub, inst)
                if "overall_sat" in sub and sub["overall_sat"].notna().sum() > 2:
                    out["ipa"] = gaps.ipa(sub, inst, level="item", importance="derived")
            return out

        return self._cached(("stats", quarter, segment, str(value)), compute)

    def view(self, **selection) -> View:
        sel = self._complete(selection)
        if sel["block"] not in self.blocks:
            raise SQMArgumentError(f"block must be one of {self.blocks}")
        if sel["dimension"] not in (ALL, *self.inst.dimensions):
            raise SQMArgumentError(f"dimension must be {ALL!r} or one of {list(self.inst.dimensions)}")
        q, seg, val = self._subset_key(sel)
        st = self.statistics(q, seg, val)
        inst = self.inst
        items = list(inst.items) if sel["dimension"] == ALL else list(inst.dimensions[sel["dimension"]])
        table = pd.DataFrame({"item": items, "dimension": [inst.dimension_of(i) for i in items],
                              "text": [inst.text(i) for i in items]})
        block = sel["block"]
        if block == "gap":  # paired: respondents who answered both E and P
            gi = st["gaps"][st["gaps"]["level"] == "item"].set_index("name")
            table = table.join(gi[["n", "mean_e", "mean_p", "gap", "ci_low", "ci_high", "p_adj"]], on="item")
        else:  # every answer of the block
            m = st["means"][block].set_index("item")
            table = table.join(m[["n", "mean", "sd", "ci_low", "ci_high"]].add_prefix(f"{block}_"), on="item")
        if st["zone"] is not None:
            table = table.join(st["zone"].set_index("item")[["mean_adequate", "mean_desired", "position"]], on="item")
        if st["ipa"] is not None:
            table = table.join(st["ipa"].table[["importance", "quadrant"]], on="item")
        subset = (q, seg, val, sel["dimension"])
        charts = [(("block", block, *subset), self._block_chart(st, block, items))]
        if st["zone"] is not None:
            zone = st["zone"][st["zone"]["item"].isin(items)]
            charts.append((("zone", *subset), lambda: plots.zone_chart(zone, title="Zone of tolerance")))
        if st["ipa"] is not None:
            res = st["ipa"]
            shown = replace(res, table=res.table.loc[items])
            charts.append((("ipa", *subset), lambda: plots.ipa_plot(
                shown, title="Importance–performance (crosshair over all items)")))
        where = q + (f", {seg} = {val}" if seg != NONE else "")
        return View(sel, table, charts=tuple(charts), note=f"{st['n']:,} respondents ({where})")

    def _likely(self) -> list:
        q = self.default_quarter
        jobs = [lambda c=c, v=v: self._render(segment=c, value=v) for c in self.segments
                for v in _segment_values(self.survey, c)[1:]]
        jobs += [lambda b=b: self._render(block=b) for b in self.blocks]
        jobs += [lambda d=d: self._render(dimension=d) for d in self.inst.dimensions]
        jobs += [lambda o=o: self._render(quarter=o) for o in self.quarters + [ALL] if o != q]
        return jobs

    def _block_chart(self, st: dict, block: str, items: list[str]):
        labels = {i: self.inst.text(i) for i in items}
        if block == "gap":
            g = st["gaps"]
            t = g[(g["level"] == "item") & g["name"].isin(items)]
            return lambda: plots.item_gaps(t, labels=labels, title="Item gaps (P − E) with 95 % intervals")
        m = st["means"][block]
        t = m[m["item"].isin(items)]
        label = self.inst.blocks[block].label
        return lambda: plots.item_means(t, labels=labels, scale=(self.inst.scale_min, self.inst.scale_max),
                                        title=f"Mean {label} ({block}) with 95 % intervals")

    def _controls(self) -> dict:
        import ipywidgets as w

        d = self.defaults()
        opts = self.options(d["segment"])
        c = _dropdowns({k: opts[k] for k in ("quarter", "segment", "value", "dimension")}, d,
                       {"quarter": "Quarter", "segment": "Segment", "value": "Value", "dimension": "Dimension"})
        c["block"] = w.ToggleButtons(options=opts["block"], value=d["block"], description="Block",
                                     style={"button_width": "4em"})
        return {k: c[k] for k in ("quarter", "segment", "value", "block", "dimension")}

# ---------------------------------------------------------------------------------------------------------
# drivers
# ---------------------------------------------------------------------------------------------------------
class DriverExplorer(_SurveyBased):
    """Relative importance (LMG share of R² with bootstrap intervals) and the driver matrix.

    Parameters
    ----------
    survey : DataFrame
    instrument : Instrument or name
    customers : DataFrame, optional
        Adds the outcome ``churned`` (leaving within ``horizon_days`` of answering).
    n_boot : int
        Bootstrap resamples for the intervals at dimension level. Item level shows LMG without intervals:
        each resample would need R² of all 2^22 subsets again.
    """

    name = "drivers"
    title = "Driver explorer"
    LEVELS = drivers.LEVELS

    def __init__(self, survey: pd.DataFrame, instrument, *, customers: pd.DataFrame | None = None,
                 horizon_days: int = 180, segments: Sequence[str] | None = None, quarter: str | None = None,
                 n_boot: int = 200, seed: int = 0):
        super().__init__(survey, instrument, segments, quarter)
        self.outcomes = [o for o in ("overall_sat", "nps", "ces") if o in survey and survey[o].notna().any()]
        self.followed, self.churn_quarters, self.horizon_days = None, [], horizon_days
        if customers is not None and "customer_id" in survey:
            self.followed, latest = drivers.churn_followed(survey, customers, horizon_days)
            if self.followed["churned"].nunique() == 2:
                self.outcomes.append("churned")
                # quarters whose every respondent could be followed for the whole horizon
                self.churn_quarters = [q for q in self.quarters if q <= latest]
        if not self.outcomes:
            raise SQMDataError("survey", [Problem("missing_column", "no outcome column (overall_sat, nps, ces)")])
        self.n_boot, self.seed = n_boot, seed

    def defaults(self) -> dict:
        return {"quarter": self.default_quarter, "outcome": self.outcomes[0], "level": "dimension",
                "segment": NONE, "value": ALL}

    def options(self, segment: str = NONE) -> dict:
        return {"quarter": self.quarters + [ALL], "outcome": self.outcomes, "level": list(self.LEVELS),
                "segment": [NONE] + self.segments, "value": _segment_values(self.survey, segment)}

    def frame(self, quarter: str, outcome: str, level: str, segment: str, value) -> pd.DataFrame:
        """Drivers (mean perception per dimension, or items) and the outcome, complete rows only."""
        if outcome not in self.outcomes:
            raise SQMArgumentError(f"outcome must be one of {self.outcomes}")
        source = self.followed if outcome == "churned" else self.survey
        if outcome == "churned" and quarter not in (ALL, "", None) and quarter not in self.churn_quarters:
            raise SQMDataError("survey", [Problem("too_few_rows", (
                f"churn within {self.horizon_days} days of answering is known only for quarters "
                f"{', '.join(self.churn_quarters) or 'none'} (or all quarters), not {quarter}"))])
        return drivers.driver_table(_subset(source, quarter, segment, value), self.inst, outcome, level)

    def importance(self, quarter: str, outcome: str, level: str, segment: str, value) -> tuple:
        """Relative importance (:class:`sqmlib.drivers.Importance`) and the driver matrix
        (:class:`sqmlib.drivers.DriverMatrix`) of one selection (cached)."""
        def compute():
            f = self.frame(quarter, outcome, level, segment, value)
            names = [c for c in f.columns if c != outcome]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SQMWarning)
                imp = drivers.relative_importance(f, outcome, names, methods=("lmg",),
                                                  n_boot=self.n_boot if level == "dimension" else 0, seed=self.seed)
            return imp, drivers.driver_matrix(f, imp)

        return self._cached(("imp", quarter, outcome, level, segment, str(value)), compute)

    def view(self, **selection) -> View:
        sel = self._complete(selection)
        quarter, segment, value = self._subset_key(sel)
        imp, matrix = self.importance(quarter, sel["outcome"], sel["level"], segment, value)
        table = matrix.table.join(imp.table.drop(columns=[c for c in imp.table.columns if c in matrix.table.columns]))
        table = table.sort_values("importance", ascending=False).reset_index()
        if sel["level"] == "item":
            table.insert(1, "text", [self.inst.text(i) for i in table["driver"]])
        labels = {i: self.inst.text(i) for i in self.inst.items} if sel["level"] == "item" else None
        model = "linear probability model" if sel["outcome"] == "churned" else "linear regression"
        note = (f"{imp.n:,} respondents, {sel['outcome']} ({model}), R² = {imp.r2:.3f}"
                + ("" if sel["level"] == "dimension" else "; no intervals at item level"))
        key = (quarter, sel["outcome"], sel["level"], segment, value)
        return View(sel, table, charts=(
            (("importance", *key), lambda: plots.importance_bars(imp, labels=labels,
                                                                 title=f"Share of R² for {sel['outcome']}")),
            (("matrix", *key), lambda: plots.driver_matrix(matrix))), note=note)

    def _likely(self) -> list:
        d = self.defaults()
        q = d["quarter"]
        jobs = [lambda lv=lv: self._render(level=lv) for lv in self.LEVELS]
        jobs += [lambda o=o: self._render(outcome=o) for o in self.outcomes if o not in ("churned", d["outcome"])]
        jobs += [lambda c=c, v=v: self._render(segment=c, value=v) for c in self.segments
                 for v in _segment_values(self.survey, c)[1:]]
        jobs += [lambda qq=qq: self._render(quarter=qq) for qq in self.quarters + [ALL] if qq != q]
        return jobs

    def _controls(self) -> dict:
        d = self.defaults()
        return _dropdowns(self.options(d["segment"]), d, {"quarter": "Quarter", "outcome": "Outcome",
                                                          "level": "Drivers", "segment": "Segment", "value": "Value"})

    def adjust(self, selection: Mapping[str, Any], changed: str = "") -> dict:
        """Choosing churn as the outcome moves the quarter to the latest one whose horizon is over."""
        sel = super().adjust(selection, changed)
        if changed == "outcome" and sel["outcome"] == "churned" and sel["quarter"] not in [ALL, *self.churn_quarters]:
            sel["quarter"] = self.churn_quarters[-1] if self.churn_quarters else ALL
        return sel


# ---------------------------------------------------------------------------------------------------------
# churn
# ---------------------------------------------------------------------------------------------------------
class ChainExplorer(_SurveyBased):
    """The service-profit chain for any quarter × segment: the index per construct and the importance–performance
    map of the target construct (:mod:`sqmlib.sem`)."""

    name = "chain"
    title = "Service-profit chain"

    def __init__(self, survey: pd.DataFrame, instrument, *, segments: Sequence[str] | None = None,
                 quarter: str | None = None):
        super().__init__(survey, instrument, segments, quarter)
        cons, edges, self.scales, self.target = sem.chain_spec(self.inst, survey.columns)
        if not edges:
            raise SQMDataError("survey", [Problem("missing_column", "the survey lacks the columns of the chain")])
        self.constructs, self.edges = cons, edges
        self.targets = [c for c in cons if any(b == c for _, b in edges)]

    def defaults(self) -> dict:
        return {"quarter": self.default_quarter, "target": self.target, "segment": NONE, "value": ALL}

    def options(self, segment: str = NONE) -> dict:
        return {"quarter": self.quarters + [ALL], "target": self.targets, "segment": [NONE] + self.segments,
                "value": _segment_values(self.survey, segment)}

    def model(self, quarter: str, segment: str, value):
        """The PLS model of one subset (cached)."""
        return self._cached(("pls", quarter, segment, str(value)), lambda: sem.pls(
            _subset(self.survey, quarter, segment, value), self.constructs, self.edges))

    def view(self, **selection) -> View:
        sel = self._complete(selection)
        if sel["target"] not in self.targets:
            raise SQMArgumentError(f"target must be one of {self.targets}")
        q, seg, val = self._subset_key(sel)
        m = self.model(q, seg, val)
        cmap = self._cached(("ipma", q, seg, str(val), sel["target"]),
                            lambda: sem.ipma(m, sel["target"], self.scales))
        index = sem.satisfaction_index(m, self.scales).rename("index").to_frame()
        table = cmap.join(index.rename(columns={"index": "index_0_100"}), how="outer").rename_axis("construct")
        table = table.reset_index()
        lever = sem.lever(cmap, [c for c in cmap.index if c not in ("Satisfaction", "Loyalty", sel["target"])])
        note = (f"{m.n:,} respondents; {sel['target']} index {index.loc[sel['target'], 'index']:.1f}"
                + (f"; lever: {lever}" if lever else ""))
        key = (q, seg, str(val), sel["target"])
        return View(sel, table, charts=((("ipma", *key), lambda: plots.ipma_chart(cmap, sel["target"])),
                                        (("index", *key), lambda: plots.index_chart(index))), note=note)

    def _likely(self) -> list:
        return [lambda c=c, v=v: self._render(segment=c, value=v) for c in self.segments
                for v in _segment_values(self.survey, c)[1:]]

    def _controls(self) -> dict:
        d = self.defaults()
        return _dropdowns(self.options(d["segment"]), d, {"quarter": "Quarter", "target": "Target",
                                                          "segment": "Segment", "value": "Value"})


class ChurnExplorer(_Explorer):
    """Where to set the contact threshold: profit curve, confusion counts and the contact list.

    Parameters
    ----------
    y, p : array-like
        Churned (0/1) and out-of-fold churn probability of the customers the model was evaluated on.
    scored : DataFrame
        Customers to act on now, with ``customer_id``, ``probability`` (and optionally ``top_reasons``), as
        :func:`sqmlib.churn.score_customers` returns them.
    clv, offer_cost, contact_cost, accept_rate : float
        Defaults of the profit model (:func:`sqmlib.churn.profit_curve`).
    """

    name = "churn"
    title = "Churn explorer"

    def __init__(self, y, p, scored: pd.DataFrame, *, clv: float = 200.0, offer_cost: float = 10.0,
                 contact_cost: float = 1.0, accept_rate: float = 0.3, id_col: str = "customer_id"):
        super().__init__()
        self.y, self.p = churn.check_binary(y, p)
        if "probability" not in scored or id_col not in scored:
            raise SQMDataError("scored", [Problem("missing_column", f"scored customers need {id_col!r} and 'probability'")])
        self.scored = scored.sort_values("probability", ascending=False).reset_index(drop=True)
        self.id_col = id_col
        self.clv, self.offer_cost, self.contact_cost, self.accept_rate = clv, offer_cost, contact_cost, accept_rate

    @classmethod
    def from_data(cls, data_dir=None, *, instrument: str = "", **kwargs) -> "ChurnExplorer":
        """Read a data folder (default the bundled sample) and call :meth:`from_folder`."""
        return cls.from_folder(io.load_folder(data_dir, instrument or None), **kwargs)

    @classmethod
    def from_folder(cls, folder, *, quarter: str = "", horizon_days: int = 90, model: str = "logit", seed: int = 0,
                    **profit) -> "ChurnExplorer":
        """Fit the churn model as the churn notebook does (:func:`sqmlib.churn.fit_at_snapshot`: snapshot on the
        first day of ``quarter``) and score the customers active at the end of the data
        (:func:`sqmlib.churn.score_today`)."""
        folder.require("customers", purpose="the churn explorer")
        fitted = churn.fit_at_snapshot(folder, quarter, horizon_days=horizon_days, model=model, seed=seed)
        scored = churn.score_today(folder, fitted, clv=profit.get("clv", 200.0))
        return cls(fitted.model.y.to_numpy(), fitted.model.oof.to_numpy(), scored, **profit)

    @classmethod
    def from_analysis(cls, analysis) -> "ChurnExplorer":
        """The explorer of a :func:`sqmlib.churn.run_churn` result: its out-of-fold predictions, risk list and
        economics."""
        r = analysis.model
        e = dict(analysis.economics)
        return cls(r.y.to_numpy(), r.oof.to_numpy(), analysis.risk.drop(columns=["contact"]), **e)

    def adjust(self, selection: Mapping[str, Any], changed: str = "") -> dict:
        """Threshold, CLV and offer cost as numbers."""
        return {k: float(v) for k, v in super().adjust(selection, changed).items()}

    def defaults(self) -> dict:
        return {"threshold": self.best_threshold(self.clv, self.offer_cost),
                "clv": float(self.clv), "offer_cost": float(self.offer_cost)}

    def curve(self, clv: float, offer_cost: float) -> "churn.ProfitCurve":
        """Profit curve for one CLV and offer cost (cached)."""
        return self._cached(("curve", float(clv), float(offer_cost)), lambda: churn.profit_curve(
            self.y, self.p, clv=clv, offer_cost=offer_cost, contact_cost=self.contact_cost,
            accept_rate=self.accept_rate))

    def best(self, clv: float, offer_cost: float) -> dict:
        return self.curve(clv, offer_cost).best()

    def best_threshold(self, clv: float, offer_cost: float) -> float:
        """The profit-maximising threshold as the slider can show it (contacting nobody is 1.0)."""
        return round(min(self.best(clv, offer_cost)["best_threshold"], 1.0), 3)

    def view(self, **selection) -> View:
        sel = self._complete(selection)
        t, clv, cost = float(sel["threshold"]), float(sel["clv"]), float(sel["offer_cost"])
        if not 0 <= t <= 1:
            raise SQMArgumentError("threshold must lie between 0 and 1")
        if clv <= 0 or cost < 0:
            raise SQMArgumentError("clv must be positive and offer_cost not negative")
        curve = self.curve(clv, cost)
        at = churn.at_threshold(self.y, self.p, t, clv=clv, offer_cost=cost, contact_cost=self.contact_cost,
                                accept_rate=self.accept_rate)
        best = curve.best()
        table = pd.DataFrame({
            "": ["contacted", "not contacted"],
            "churned": [at["tp"], at["fn"]], "stayed": [at["fp"], at["tn"]],
        })
        summary = pd.DataFrame({
            "measure": ["customers contacted", "share contacted", "precision (churners among contacted)",
                        "recall (churners reached)", "profit at this threshold", "best threshold",
                        "profit at the best threshold"],
            "value": [f"{at['contacted']:,}", f"{at['fraction']:.1%}", f"{at['precision']:.1%}",
                      f"{at['recall']:.1%}", f"{at['profit']:,.0f}", f"{best['best_threshold']:.3f}",
                      f"{best['best_profit']:,.0f}"]})
        contacts = self.scored[self.scored["probability"] >= t].assign(
            expected_loss=lambda d: d["probability"] * clv)
        cols = [self.id_col, "probability", "expected_loss"] + [c for c in ("top_reasons",) if c in contacts]
        fraction = at["fraction"]

        def draw():
            fig = plots.profit_plot(curve)
            ax = fig.axes[0]
            ax.axvline(fraction, color="#DD8452", lw=1.5, label=f"threshold {t:.2f}: contact {fraction:.0%}")
            ax.legend(fontsize=8)
            return fig

        note = (f"{len(self.y):,} customers evaluated out of fold; {len(contacts):,} of {len(self.scored):,} "
                f"customers to contact now (probability ≥ {t:.2f})")
        return View(sel, table, extra={"summary": summary, "contact list": contacts[cols]},
                    charts=((("profit", t, clv, cost), draw),), note=note)

    def _controls(self) -> dict:
        import ipywidgets as w

        d = self.defaults()
        return {
            "threshold": w.FloatSlider(value=d["threshold"], min=0.0, max=1.0, step=0.005, readout_format=".3f",
                                       description="Threshold", continuous_update=False),
            "clv": w.BoundedFloatText(value=d["clv"], min=1.0, max=1e7, step=10.0, description="CLV"),
            "offer_cost": w.BoundedFloatText(value=d["offer_cost"], min=0.0, max=1e6, step=1.0,
                                             description="Offer cost"),
        }

    def widget(self, warm: bool = True):
        import ipywidgets as w

        box = super().widget(warm=warm)
        controls = box.children[1].children
        threshold, clv, cost = controls[0], controls[1], controls[2]
        button = w.Button(description="Best threshold", tooltip="Move the slider to the profit-maximising threshold")
        button.add_class("sqm-churn-best")

        def to_best(_):
            threshold.value = self.best_threshold(clv.value, cost.value)

        button.on_click(to_best)
        box.children[1].children = (*controls, button)
        return box


# ---------------------------------------------------------------------------------------------------------
# the served app
# ---------------------------------------------------------------------------------------------------------
def explorers(data_dir=None, *, quarter: str = "", instrument: str = "", drop_careless: bool = True,
              progress: Callable[[str], None] | None = None) -> dict:
    """The three explorers on a data folder (default the bundled sample), read once."""
    say = progress or (lambda msg: None)
    say("reading the data")
    folder = io.load_folder(data_dir, instrument or None)  # each table read once, for all three explorers
    folder.require("survey", purpose="the explorers")
    data = folder.without_careless() if drop_careless else folder
    out = {"survey": SurveyExplorer(data.survey, folder.instrument, quarter=quarter or None)}
    say("driver importance")
    out["drivers"] = DriverExplorer(data.survey, folder.instrument, customers=folder.customers,
                                    quarter=quarter or None)
    if folder.has("customers"):
        say("fitting the churn model")  # on every respondent, as the churn notebook does
        out["churn"] = ChurnExplorer.from_folder(folder)
    try:
        out["chain"] = ChainExplorer(data.survey, folder.instrument, quarter=quarter or None)
    except SQMDataError:  # a survey without the chain's columns: no chain tab
        pass
    return out


def app(data_dir=None, *, warm: bool = True, **kwargs):
    """All explorers in widget tabs, for a notebook in JupyterLab (``warm``: compute likely selections in the
    background). ``sqm explore`` serves the same explorers without kernels (:mod:`sqmlib.serve`)."""
    import ipywidgets as w

    exp = explorers(data_dir, **kwargs)
    tabs = w.Tab(children=[e.widget(warm=warm) for e in exp.values()])
    for i, e in enumerate(exp.values()):
        tabs.set_title(i, e.title)
    return tabs
