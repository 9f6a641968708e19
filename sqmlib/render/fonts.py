"""Fonts for charts in Chinese, Japanese and Korean.

Every chart may carry wording from the user's data (Chinese item text, Korean segment names): :func:`cjk_font`
finds a font with those glyphs (registering the Noto Sans CJK SC font the ``mplfonts`` dependency ships), and
:func:`add_cjk_fallback` puts it after matplotlib's default font, so Latin text keeps its look and CJK characters
are drawn from the fallback instead of as empty boxes.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

# families that cover Simplified Chinese, most common first; the project installs Noto Sans CJK SC (mplfonts)
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Micro Hei",
                "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "SimHei", "AR PL UMing CN")

# the bundled CJK font as pages and the explorer embed or serve it, first in their font stack: asked for a CJK
# family the machine lacks, fontconfig may answer with a Latin font, which Chromium then uses for the CJK text as
# empty boxes
EMBEDDED_FAMILY = "SQM CJK"
FONT_STACK = (f"'{EMBEDDED_FAMILY}', system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
              + ", ".join(f"'{f}'" for f in CJK_FAMILIES[:6]) + ", sans-serif")
# Chinese, Japanese and Korean characters and their punctuation: the text that needs a CJK font
CJK_CHARS = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")


def bundled_cjk_font() -> Path | None:
    """Noto Sans CJK SC from the mplfonts package (a dependency), found without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "fonts" / "NotoSansCJKsc-Regular.otf"
    return path if path.exists() else None


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The name of a font family with Simplified Chinese glyphs, registering the bundled one if needed;
    ``None`` when there is none."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    path = bundled_cjk_font()
    if path is None:
        return None
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


@lru_cache(maxsize=1)
def add_cjk_fallback() -> str | None:
    """Append the CJK font to matplotlib's ``font.family`` list (matplotlib falls back glyph by glyph through
    that list); returns its family name, or None when no CJK font is available."""
    import matplotlib

    family = cjk_font()
    if family is None:
        return None
    families = list(matplotlib.rcParams["font.family"])
    if family not in families:  # a generic name ("sans-serif") stands for one font: the CJK one is listed after it
        matplotlib.rcParams["font.family"] = families + [family]
    return family
