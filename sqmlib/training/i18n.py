"""Chinese (Simplified) for the training notebooks: chart texts, table columns, values and feedback words.

The lessons speak the report's vocabulary: one label catalogue (:mod:`sqmlib.render.catalogue`) and one set
of chart phrases and patterns (:mod:`sqmlib.render.labels_zh`), through :func:`sqmlib.render.labels.
translate_phrase`. Charts come from :mod:`sqmlib.plots` with English texts; :func:`localize_figure` rewrites
every text of a figure (titles, axis labels, fixed tick labels, legends, annotations) through
:func:`translate`, which falls back on the SERVQUAL instrument's Chinese wording for item labels
(``"05 does what it promised …"``). Feedback sentences are messages (:func:`sqmlib.render.messages.msg`).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..instruments import load as load_instrument
from ..render import labels
from ..render.messages import msg


def hint_for(kind: str, lang: str, n: int = 1) -> str:
    """A hint for a kind of wrong answer every exercise can get (``n``: the measures asked for)."""
    if kind == "not_a_number":
        return msg("lesson.not_a_number", "the answer should be a number.", lang=lang)
    if kind == "too_few":
        return msg("lesson.too_few", "name at least {n} different measures.", lang=lang, n=n)
    if kind == "sign":
        return msg("lesson.sign", "check the sign: the gap is P − E, so a shortfall is negative.", lang=lang)
    return msg("lesson.percent", "give the share as a fraction (0.42), not as a percentage (42).", lang=lang)


# answers given in Chinese (or in other usual spellings) count as their canonical English value
ANSWER_SYNONYMS = {
    "有形性": "tangibles", "可靠性": "reliability", "响应性": "responsiveness", "保证性": "assurance",
    "移情性": "empathy", "同理心": "empathy", "关怀性": "empathy",
    "是": "yes", "否": "no", "true": "yes", "false": "no",
    "差距1": "gap 1", "差距2": "gap 2", "差距3": "gap 3", "差距4": "gap 4", "差距5": "gap 5",
    "差距 1": "gap 1", "差距 2": "gap 2", "差距 3": "gap 3", "差距 4": "gap 4", "差距 5": "gap 5",
    "1": "gap 1", "2": "gap 2", "3": "gap 3", "4": "gap 4", "5": "gap 5",
    "gap1": "gap 1", "gap2": "gap 2", "gap3": "gap 3", "gap4": "gap 4", "gap5": "gap 5",
    "北": "north", "南": "south", "东": "east", "西": "west", "北区": "north", "南区": "south", "东区": "east", "西区": "west",
    "华北": "north", "华南": "south", "华东": "east", "华西": "west",
}

def _item_label(text: str) -> str | None:
    """``"05 does what it promised …"`` (possibly cut short) → ``"05 <Chinese wording>"``."""
    m = re.match(r"^(\d{2}) (.+)$", text)
    if not m:
        return None
    inst = load_instrument("servqual")
    item, rest = m.group(1), m.group(2)
    if item in inst.items and inst.text(item, "en").startswith(rest.rstrip("…").rstrip()[:20]):
        return f"{item} {inst.text(item, 'zh')}"
    return None


def translate(text: str, lang: str = "zh") -> str:
    """A chart or table text in ``lang`` (English stays as it is; unknown texts are kept)."""
    if lang != "zh" or not isinstance(text, str) or not text.strip():
        return text
    s = text.strip()
    found = labels.translate_phrase(s)  # the report's vocabulary: phrases, labels, codes, chart patterns
    if found != s:
        return found
    item = _item_label(s)
    return item if item is not None else text


def localize_figure(fig, lang: str):
    """Rewrite every text of a matplotlib figure in ``lang``; returns the figure."""
    if lang == "en":
        return fig
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter, FixedLocator, ScalarFormatter

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            fmt = axis.get_major_formatter()
            if isinstance(fmt, FixedFormatter):
                fmt.seq = [translate(str(s), lang) for s in fmt.seq]
            elif isinstance(axis.get_major_locator(), FixedLocator) and not isinstance(fmt, ScalarFormatter):
                # labels given with set_ticks(positions, labels): re-set them translated, keeping their style
                ticks = axis.get_majorticklabels()
                style = ticks[0].get_fontproperties() if ticks else None
                rotation = ticks[0].get_rotation() if ticks else 0
                ha = ticks[0].get_horizontalalignment() if ticks else "center"
                labels = [translate(t.get_text(), lang) for t in ticks]
                axis.set_ticks(axis.get_ticklocs(), labels, fontproperties=style, rotation=rotation, ha=ha)
    for t in fig.findobj(Text):
        t.set_text(translate(t.get_text(), lang))
    return fig


def localize_table(frame: pd.DataFrame, lang: str, digits: int = 3) -> pd.DataFrame:
    """Columns, index names and known text values in ``lang``; floats rounded to ``digits``."""
    out = frame.copy()
    num = out.select_dtypes("float").columns
    out[num] = out[num].round(digits)
    if lang == "en":
        return out
    for c in out.columns:
        if out[c].dtype == object or isinstance(out[c].dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(out[c]):
            out[c] = out[c].map(lambda v: _value(v, lang))
    out = out.rename(columns=lambda c: translate(str(c), lang))
    if out.index.dtype == object:
        out.index = [translate(str(v), lang) for v in out.index]
    out.index.name = translate(str(frame.index.name), lang) if frame.index.name else None
    return out


def _value(v, lang: str):
    """A table cell in ``lang``: yes/no for booleans, known texts translated, anything else as it is."""
    if isinstance(v, (bool, np.bool_)):
        return labels.code(bool(v), lang)
    return translate(v, lang) if isinstance(v, str) else v


def format_answer(value, lang: str) -> str:
    """An expected answer as the solution text shows it."""
    if isinstance(value, (list, tuple, set)):
        return ", ".join(format_answer(v, lang) for v in value)
    if isinstance(value, (float, np.floating)):
        return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, str) and lang == "zh":
        zh = labels.code(value, lang)
        return f"{value}（{zh}）" if zh != value else value
    return str(value)


# tokens that stay as they are in Chinese text
KEEP = {"NPS", "CSAT", "CES", "LMG", "ROC", "SERVQUAL", "FCR", "IT", "R²", "AUC", "PR", "KANO", "Qini"}


def untranslated(fig) -> list[str]:
    """Texts of a figure that still contain English words (three letters or more, outside :data:`KEEP`)."""
    from matplotlib.text import Text

    fig.canvas.draw()  # tick labels exist only once drawn
    left = []
    for t in fig.findobj(Text):
        words = [w for w in re.findall(r"[A-Za-z]{3,}", t.get_text()) if w not in KEEP]
        if words:
            left.append(t.get_text())
    return sorted(set(left))
