"""The language pages are shown in."""
from __future__ import annotations

import contextlib
import threading

from ..errors import SQMArgumentError

LANGS = ("en", "zh")
_STATE = {"lang": "en"}
_THREAD = threading.local()  # a block's language (language()), for this thread only


def normalised(lang: str) -> str:
    """``lang`` as one of :data:`LANGS` ("zh-CN", "中文" … → "zh"); anything else is an argument error."""
    lang = (lang or "en").strip().lower()
    if lang in ("cn", "zh-cn", "zh_cn", "zh-hans", "chinese", "中文"):
        lang = "zh"
    if lang not in LANGS:
        raise SQMArgumentError(f"lang must be en or zh, got {lang!r}")
    return lang


def use(lang: str) -> str:
    """Show everything from now on in ``lang`` ("en" or "zh"); returns it."""
    _STATE["lang"] = lang = normalised(lang)
    return lang


def current() -> str:
    """The language of the enclosing :func:`language` block in this thread, else the one chosen with
    :func:`use` (default English)."""
    return getattr(_THREAD, "lang", None) or _STATE["lang"]


@contextlib.contextmanager
def language(lang: str):
    """``with labels.language("zh"): …`` — a language for a block of code, in this thread only (a server
    answers requests in several languages at once)."""
    before = getattr(_THREAD, "lang", None)
    _THREAD.lang = lang = normalised(lang)
    try:
        yield lang
    finally:
        _THREAD.lang = before


class Said(str):
    """Text already in the reader's language (made by :func:`sqmlib.render.messages.msg`): shown as it is."""
