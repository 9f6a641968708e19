"""Showing pipeline results in a notebook: ``show.section(result, "name")`` renders one section's text,
tables and charts.

The display layer is the only place that turns result objects into notebook output, so a notebook cell is one
call.
"""
from __future__ import annotations

import html

import matplotlib.pyplot as plt
from IPython.display import HTML, display

from . import formats
from .errors import SQMArgumentError
from .outputs import escape_frame, markdown_html
from .results import Block


_SEEN: dict[str, int] = {}


def _stable_uuid(frame) -> str:
    """An id for a styled table that is the same in every run (pandas draws a random one): from the table's
    shape, labels and values, numbered when the same table is shown again."""
    import hashlib

    import pandas as pd

    key = hashlib.sha1(f"{frame.shape}|{list(frame.columns)}|{list(frame.index)[:50]}".encode()
                       + pd.util.hash_pandas_object(frame.astype(str), index=True).to_numpy().tobytes()
                       ).hexdigest()[:8]
    if len(_SEEN) > 10_000:  # a long-running explorer: forget (ids need only be unique within a page)
        _SEEN.clear()
    _SEEN[key] = _SEEN.get(key, 0) + 1
    return f"{key}{_SEEN[key]}"


def _render(block: Block) -> None:
    if block.kind == "text":  # text may hold values from data files: raw HTML in it is shown, never run
        display(HTML(markdown_html(block.content)))
    elif block.kind == "html":
        display(HTML(block.content))
    elif block.kind == "table":
        frame = block.content
        shown = escape_frame(frame)  # labels from the data escaped: the rules are looked up by these
        rules = formats.column_formats(shown)
        if block.style is not None or rules:  # p-values, shares, counts and means as a reader expects them
            styler = shown.style.set_uuid(_stable_uuid(frame))
            styler = block.style(styler) if block.style is not None else styler
            display(formats.apply(styler, shown))
        else:
            display(frame)
    elif block.kind == "figure":
        fig = block.content()
        if fig is None:
            plt.show()
        else:
            figure(fig, block.name)
    else:  # pragma: no cover
        raise SQMArgumentError(f"unknown block kind {block.kind!r}")


def alt_text(fig, name: str = "") -> str:
    """What a chart shows, for its ``alt`` attribute: its titles (figure and panels) and axis labels, else
    ``name``."""
    parts = []
    if getattr(fig, "_suptitle", None) is not None and fig._suptitle.get_text():
        parts.append(fig._suptitle.get_text())
    for ax in fig.axes:
        title = ax.get_title() or ax.get_title("left")
        if title and title not in parts:
            parts.append(title)
    axes = [f"{ax.get_ylabel()} against {ax.get_xlabel()}" if ax.get_xlabel() and ax.get_ylabel()
            else (ax.get_xlabel() or ax.get_ylabel()) for ax in fig.axes[:1]]
    text = "; ".join(parts) or name.replace("_", " ") or "chart"
    detail = next((a for a in axes if a), "")
    return f"Chart: {text}" + (f" ({detail})" if detail else "")


def figure_html(fig, name: str = "") -> str:
    """A figure as an ``<img>`` (PNG, embedded) with alt text naming what it shows."""
    import base64
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    alt = html.escape(alt_text(fig, name), quote=True)
    return f'<img src="data:image/png;base64,{data}" alt="{alt}" title="{alt}" style="max-width:100%">'


def figure(fig, name: str = "") -> None:
    """Show a matplotlib figure with alt text and close it."""
    display(HTML(figure_html(fig, name)))
    plt.close(fig)


def section(result, name: str) -> None:
    """Render the section ``name`` of a result (see the result's ``sections()``)."""
    sections = result.sections()
    if name not in sections:
        raise SQMArgumentError(f"{type(result).__name__} has no section {name!r}; it has {', '.join(sections)}")
    for block in sections[name]:
        _render(block)
