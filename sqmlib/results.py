"""What every ``run_*`` pipeline returns: a frozen result object with the same methods.

``findings()`` (plain-language conclusions), ``summary()`` (key figures as a table), ``tables()`` (name →
DataFrame, what goes to Excel), ``metrics()`` (a typed dataclass, what goes to ``metrics.json``),
``headline()`` (the few figures the report's index shows), ``figures()`` (name → matplotlib figure) and
``sections()`` (what a notebook shows, section by section: text, tables and charts, rendered by
:mod:`sqmlib.show`). :class:`Result` supplies ``figures()``, ``summary()`` and ``_repr_html_`` from
``sections()`` and ``metrics()``.
"""
from __future__ import annotations

import dataclasses
import html
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import pandas as pd


@dataclass(frozen=True)
class Block:
    """One thing a section shows.

    ``kind`` is ``"text"`` (Markdown written by sqmlib; values from data files are escaped where they are put
    in), ``"table"`` (a DataFrame, with an optional ``style`` function from a pandas Styler to a Styler) or
    ``"figure"`` (a function drawing a matplotlib figure) or ``"html"`` (markup built by sqmlib, values
    escaped).
    """

    kind: str
    content: Any
    style: Callable | None = None
    name: str = ""
    own_formats: tuple = ()  # table columns whose cells the style formats itself (the column rules leave them)


def text(markdown: str) -> Block:
    return Block("text", markdown)


def table(frame: pd.DataFrame, style: Callable | None = None, name: str = "", own_formats: tuple = ()) -> Block:
    return Block("table", frame, style, name, tuple(own_formats))


def figure(draw: Callable, name: str = "") -> Block:
    return Block("figure", draw, None, name)


def bullets(lines) -> str:
    """Markdown bullet list."""
    return "\n".join(f"- {line}" for line in lines)


def headline(label: str, value: Any, fmt: "str | Callable[[Any], str]" = "{:,}") -> dict:
    """One headline figure: ``headline("Respondents", 2000)`` → ``{"label": …, "value": 2000, "display": "2,000"}``
    (``fmt`` a format string or a function, such as :func:`sqmlib.render.formats.money`)."""
    display = "n/a" if value is None or (isinstance(value, float) and not math.isfinite(value)) else \
        (fmt(value) if callable(fmt) else fmt.format(value))
    return {"label": label, "value": value, "display": display}


class Result:
    """Shared behaviour of the pipelines' result objects (subclasses are frozen dataclasses)."""

    title: str = ""
    notebook: str = ""
    unavailable = False  # True for :class:`Unavailable`: the data cannot support the analysis

    # subclasses define these
    def sections(self) -> Mapping[str, list[Block]]:
        return {}

    def findings(self) -> list[str]:
        return []

    def metrics(self):
        raise NotImplementedError

    def tables(self) -> dict[str, pd.DataFrame]:
        return {}

    def headline(self) -> list[dict]:
        return []

    # derived
    def figures(self) -> dict[str, Any]:
        """Every chart of the result, drawn (name → matplotlib Figure)."""
        out = {}
        for key, blocks in self.sections().items():
            for k, b in enumerate(blocks):
                if b.kind == "figure":
                    out[b.name or f"{key} {k}"] = b.content()
        return out

    def summary(self) -> pd.DataFrame:
        """The scalar metrics as a one-column table."""
        m = self.metrics()
        rows = {f.name: getattr(m, f.name) for f in dataclasses.fields(m)
                if isinstance(getattr(m, f.name), (int, float, str, bool)) or getattr(m, f.name) is None}
        return pd.Series(rows, dtype=object).to_frame("value")

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(f)}</li>" for f in self.findings())
        return f"<h4>{html.escape(self.title)}</h4><ul>{items}</ul>"


def metrics_dict(metrics) -> dict:
    """A metrics dataclass as a plain dict (for ``metrics.json``)."""
    return {f.name: getattr(metrics, f.name) for f in dataclasses.fields(metrics)}


@dataclass(frozen=True)
class UnavailableMetrics:
    """``metrics.json`` of an analysis the data cannot support: why."""

    unavailable: str


class _OneLine(dict):
    """Sections of an unavailable analysis: the reason under the first section, every other name empty."""

    def __contains__(self, key) -> bool:
        return True

    def __missing__(self, key):
        return []


@dataclass(frozen=True)
class Unavailable(Result):
    """An analysis the data cannot support (e.g. a driver analysis on a survey without an outcome question):
    its notebook shows one line saying why under section ``first`` and nothing else, and its metrics record
    the reason, so the summary treats it as absent."""

    reason: str
    notebook: str = ""
    title: str = ""
    first: str = "sample"
    quarter: str = ""
    unavailable: bool = True
    line: str = ""  # the line shown, in the reader's language (default: "**Not available for this data:** reason")

    def sections(self) -> Mapping[str, list[Block]]:
        return _OneLine({self.first: [text(self.line or f"**Not available for this data:** {self.reason}")]})

    def findings(self) -> list[str]:
        return [self.reason]

    def metrics(self) -> UnavailableMetrics:
        return UnavailableMetrics(self.reason)
