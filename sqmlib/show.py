"""Showing pipeline results in a notebook: ``show.section(result, "name")`` renders one section's text,
tables and charts.

The display layer is the only place that turns result objects into notebook output, so a notebook cell is one
call.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
from IPython.display import HTML, display

from .errors import SQMArgumentError
from .outputs import escape_frame, markdown_html
from .results import Block


def _render(block: Block) -> None:
    if block.kind == "text":  # text may hold values from data files: raw HTML in it is shown, never run
        display(HTML(markdown_html(block.content)))
    elif block.kind == "html":
        display(HTML(block.content))
    elif block.kind == "table":
        frame = block.content
        display(block.style(escape_frame(frame).style) if block.style is not None else frame)
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
