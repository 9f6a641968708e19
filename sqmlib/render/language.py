"""The language pages are shown in."""
from __future__ import annotations

import contextlib

from ..errors import SQMArgumentError

LANGS = ("en", "zh")
_STATE = {"lang": "en"}


def use(lang: str) -> str:
    """Show everything from now on in ``lang`` ("en" or "zh"); returns it."""
    lang = (lang or "en").strip().lower()
    if lang in ("cn", "zh-cn", "zh_cn", "zh-hans", "chinese", "中文"):
        lang = "zh"
    if lang not in LANGS:
        raise SQMArgumentError(f"lang must be en or zh, got {lang!r}")
    _STATE["lang"] = lang
    return lang


def current() -> str:
    """The language chosen with :func:`use` (default English)."""
    return _STATE["lang"]


@contextlib.contextmanager
def language(lang: str):
    """``with labels.language("zh"): …`` — a language for a block of code."""
    before = current()
    use(lang)
    try:
        yield lang
    finally:
        _STATE["lang"] = before


class Said(str):
    """Text already in the reader's language (made by :func:`sqmlib.render.messages.msg`): shown as it is."""
