"""Showing pipeline results in a notebook: ``show.section(result, "name")`` renders one section's text,
tables and charts.

The display layer is the only place that turns result objects into notebook output, so a notebook cell is one
call.
"""
from __future__ import annotations

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
        plt.show() if fig is None else (display(fig), plt.close(fig))
    else:  # pragma: no cover
        raise SQMArgumentError(f"unknown block kind {block.kind!r}")


def section(result, name: str) -> None:
    """Render the section ``name`` of a result (see the result's ``sections()``)."""
    sections = result.sections()
    if name not in sections:
        raise SQMArgumentError(f"{type(result).__name__} has no section {name!r}; it has {', '.join(sections)}")
    for block in sections[name]:
        _render(block)
