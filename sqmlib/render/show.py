"""Showing pipeline results in a notebook: ``show.section(result, "name")`` renders one section's text,
tables and charts.

The display layer is the only place that turns result objects into notebook output, so a notebook cell is one
call.
"""
from __future__ import annotations

import html

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, display

from ..errors import SQMArgumentError
from ..results import Block
from . import formats, labels
from .messages import clauses, msg
from .outputs import escape_frame, markdown_html

_SEEN: dict[str, int] = {}


def stable_uuid(frame, numbered: bool = True) -> str:
    """An id for a styled table that is the same in every run (pandas draws a random one): from the table's
    shape, labels and values, numbered when the same table is shown again (``numbered=False``: the same id for the
    same table, e.g. in a served view that is drawn again)."""
    import hashlib

    import pandas as pd

    key = hashlib.sha1(f"{frame.shape}|{list(frame.columns)}|{list(frame.index)[:50]}".encode()
                       + pd.util.hash_pandas_object(frame.astype(str), index=True).to_numpy().tobytes()
                       ).hexdigest()[:8]
    if not numbered:
        return key
    if len(_SEEN) > 10_000:  # a long-running explorer: forget (ids need only be unique within a page)
        _SEEN.clear()
    _SEEN[key] = _SEEN.get(key, 0) + 1
    return f"{key}{_SEEN[key]}"


def _render(block: Block) -> None:
    if block.kind == "text":  # text may hold values from data files: raw HTML in it is shown, never run
        display(HTML(markdown_html(labels.text(block.content))))
    elif block.kind == "html":
        display(HTML(labels.html_text(block.content)))
    elif block.kind == "table":
        display(styled(block.content, block.style, own_formats=block.own_formats))
    elif block.kind == "figure":
        fig = block.content()
        if fig is None:
            plt.show()
        else:
            figure(fig, block.name)
    else:  # pragma: no cover
        raise SQMArgumentError(f"unknown block kind {block.kind!r}")


def _label_cell(value, fn):
    """A header or index entry of an escaped table, labelled and escaped again."""
    if isinstance(value, str):
        return html.escape(str(fn(html.unescape(value))))
    return value


def _cell(v):
    """A text or yes/no cell for a reader: category codes labelled, missing as a dash."""
    if isinstance(v, str):
        return _label_cell(v, labels.code)
    if isinstance(v, (bool, np.bool_)):
        return labels.code(bool(v))
    return formats.MISSING if v is None or v != v else v


def styled(frame, style=None, uuid: str | None = None, own_formats=()):
    """A table as a reader sees it: text from the data escaped; headers, index names and category codes as
    labels in the current language (:mod:`sqmlib.labels`); p-values, shares, counts and means formatted
    (:mod:`sqmlib.formats`), except the ``own_formats`` columns, which ``style`` formats cell by cell.
    ``style`` (a Styler → Styler function) sees the original column names."""
    shown = escape_frame(frame)  # labels from the data escaped: the rules are looked up by these
    shown.columns = shown.columns.set_names([labels.label(n) if isinstance(n, str) else n
                                             for n in shown.columns.names])
    shown.index = shown.index.set_names([labels.label(n) if isinstance(n, str) else n for n in shown.index.names])
    styler = shown.style.set_uuid(uuid or stable_uuid(frame))
    styler = style(styler) if style is not None else styler
    styler = formats.apply(styler, shown, skip=own_formats)
    unique = shown.columns.is_unique and shown.index.is_unique  # a style by cell needs unique labels
    for col in shown.columns:
        c = shown[col]
        if c.dtype == object or pd.api.types.is_bool_dtype(c) or isinstance(c.dtype, pd.CategoricalDtype):
            if formats.kind(col, c) is None:
                styler = styler.format(_cell, subset=[col])
                if c.dtype == object and unique and c.map(lambda v: isinstance(v, str)).all():
                    styler = styler.set_properties(subset=[col], **{"text-align": "left"})  # words read left
    p_rows = [r for r in shown.index if isinstance(r, str) and r.lower() in formats.P_NAMES]
    numeric = [c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])
               and not pd.api.types.is_bool_dtype(shown[c])]
    if p_rows and numeric and shown.index.is_unique:  # a statistic per row (fit tables): its p-value row
        styler = styler.format(formats.p_value, subset=pd.IndexSlice[p_rows, numeric])
    _missing_as_dash(styler)
    styler = styler.format_index(lambda v: _label_cell(v, labels.label), axis=1)
    styler = styler.format_index(lambda v: _label_cell(v, labels.row_label), axis=0)
    return styler


def _missing_as_dash(styler) -> None:
    """Every cell formatter of the table shows a missing value as a dash (a style's own ``format`` may not say
    ``na_rep``, and would show ``nan``) and a number rounded to zero without a minus sign ("-0.000")."""
    funcs = getattr(styler, "_display_funcs", None)
    if funcs is None:  # pragma: no cover - pandas' Styler keeps its cell formatters here
        return
    data = styler.data
    for r in range(data.shape[0]):
        for c in range(data.shape[1]):
            fn = funcs[(r, c)]
            funcs[(r, c)] = lambda v, fn=fn: formats.MISSING if isinstance(v, float) and v != v else \
                formats.no_negative_zero(fn(v))


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
    axes = [msg("chart.against", "{y} against {x}", y=ax.get_ylabel(), x=ax.get_xlabel())
            if ax.get_xlabel() and ax.get_ylabel() else (ax.get_xlabel() or ax.get_ylabel()) for ax in fig.axes[:1]]
    unnamed = name.replace("_", " ") if labels.current() == "en" else ""  # a figure's name is English
    text = clauses(parts) or unnamed or msg("chart.unnamed", "chart")
    detail = next((a for a in axes if a), "")
    if detail:
        return msg("chart.alt_detail", "Chart: {what} ({detail})", what=text, detail=detail)
    return msg("chart.alt", "Chart: {what}", what=text)


def figure_svg(fig) -> bytes:
    """A figure as SVG with its text drawn as outlines: sharp at any zoom and in print, the same on every
    machine (an ``<img>`` cannot use the page's fonts, so text left as text would fall back to whatever fonts the
    reader's browser has, boxes for Chinese where it has none), and identical from run to run. Curves and
    point clouds denser than :data:`DENSE_VERTICES` are embedded as pixels."""
    import io

    import matplotlib

    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D

    for artist in fig.findobj(lambda a: isinstance(a, (Line2D, Collection))):  # dense curves and bands as pixels
        if isinstance(artist, Line2D):
            size = len(artist.get_xdata())
        else:
            size = max(len(artist.get_offsets()), sum(len(p.vertices) for p in artist.get_paths()))
        if size > DENSE_VERTICES:
            artist.set_rasterized(True)
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "sqm", "svg.id": None}):
        fig.savefig(buf, format="svg", bbox_inches="tight", dpi=200, metadata={"Date": None})
    return buf.getvalue()


# an artist with more points than this (a survival curve's confidence band over thousands of customers) is drawn
# as pixels inside the SVG (at 200 ppi): the text, axes and the rest stay vector, the file stays small
DENSE_VERTICES = 2000


def figure_html(fig, name: str = "") -> str:
    """A figure as an ``<img>`` (SVG, embedded: vector graphics on screen and in the PDFs) with alt text naming
    what it shows."""
    import base64

    labels.figure(fig)  # identifiers as labels, every text in the current language
    left = labels.untranslated(fig)  # a Chinese chart text no catalogue entry covers: marked for the tests
    data = base64.b64encode(figure_svg(fig)).decode("ascii")
    alt = html.escape(alt_text(fig, name), quote=True)
    mark = f' data-sqm-untranslated="{html.escape(" | ".join(left), quote=True)}"' if left else ""
    return f'<img src="data:image/svg+xml;base64,{data}" alt="{alt}" title="{alt}"{mark} style="max-width:100%">'


def figure(fig, name: str = "") -> None:
    """Show a matplotlib figure with alt text and close it."""
    display(HTML(figure_html(fig, name)))
    plt.close(fig)


def use_language(lang: str) -> str:
    """Show tables, charts and text in ``lang`` ("en" or "zh") from now on (the notebooks' ``lang``
    parameter): :func:`sqmlib.labels.use`."""
    return labels.use(lang)


def use_instrument(instrument) -> None:
    """Show the instrument's own wording from now on: its items, dimensions, column texts and segment values
    (in the chosen language where the instrument has it). Notebooks call it once the data folder is loaded
    (``show.use_instrument(folder.instrument)``); loading itself changes nothing global. Amounts of money are
    shown in the instrument's ``currency`` from then on."""
    labels.register_instrument(instrument)
    formats.use_currency(getattr(instrument, "currency", ""))


def section(result, name: str) -> None:
    """Render the section ``name`` of a result (see the result's ``sections()``)."""
    sections = result.sections()
    if name not in sections:
        raise SQMArgumentError(f"{type(result).__name__} has no section {name!r}; it has {', '.join(sections)}")
    for block in sections[name]:
        _render(block)
