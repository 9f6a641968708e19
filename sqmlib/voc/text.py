"""Feedback text made ready for analysis and for display.

:func:`normalise` gives the analysed form of a text: Unicode NFKC (full-width letters, digits and punctuation to
half-width), Traditional Chinese to Simplified (OpenCC's ``t2s`` data), HTML tags and entities removed, emoji to
the words they stand for (``😡`` → ``angry``), white space collapsed, lower case, cut to :data:`MAX_CHARS`. The
original stays for display, where :func:`mask` hides personal data (mobile and landline numbers, ID-card numbers,
e-mail addresses, card numbers) and :func:`quote` shortens it.
"""
from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

from ..io.feedback import MAX_CHARS

__all__ = ["normalise", "mask", "quote", "language", "to_simplified", "MAX_CHARS"]

_TAG = re.compile(r"<[^>]{0,200}>")
_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff]")
# emoji → a word the lexicon knows (its sentiment); other emoji become a space
EMOJI = {"😀": " good ", "😃": " good ", "😄": " good ", "😊": " good ", "🙂": " good ", "😍": " love ", "👍": " good ",
         "👏": " great ", "❤": " love ", "❤️": " love ", "🥰": " love ", "😡": " angry ", "😠": " angry ",
         "🤬": " angry ", "👎": " bad ", "😞": " disappointed ", "😢": " disappointed ", "😭": " disappointed ",
         "🙄": " annoyed ", "😤": " annoyed ", "💩": " terrible "}
_EMOJI_ANY = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]")
_EMOJI_KNOWN = re.compile("|".join(sorted(map(re.escape, EMOJI), key=len, reverse=True)))

# personal data in quotes: ID-card numbers (18 characters, last a digit or X), bank cards, phone numbers, e-mail
_MASKS = (
    (re.compile(r"(?<![0-9])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9])"),
     "[ID]"),
    (re.compile(r"(?<![0-9])(?:\d[ -]?){15,18}\d(?![0-9])"), "[card]"),
    (re.compile(r"(?<![0-9])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![0-9])"), "[phone]"),
    (re.compile(r"(?<![0-9])(?:400|800)[ -]?\d{3}[ -]?\d{4}(?![0-9])"), "[phone]"),
    (re.compile(r"(?<![0-9\w])(?:\(?0\d{2,3}\)?[ -]?)\d{7,8}(?![0-9])"), "[phone]"),
    (re.compile(r"(?<![\w])\+?\d{1,3}[ .-]?\(?\d{2,4}\)?[ .-]\d{3,4}[ .-]\d{3,4}(?![0-9])"), "[phone]"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "[e-mail]"),
)


@lru_cache(maxsize=1)
def _t2s():
    try:
        import opencc
    except ImportError:  # without OpenCC, Traditional characters stay (the lexicon then misses them)
        return None
    return opencc.OpenCC("t2s.json")


def to_simplified(text: str) -> str:
    """Traditional Chinese characters to Simplified (OpenCC's ``t2s``); other text unchanged."""
    conv = _t2s()
    return conv.convert(text) if conv is not None and _CJK.search(text) else text


def normalise(text) -> str:
    """The analysed form of a text (see the module's description); not a string (a missing value): ``""``."""
    if not isinstance(text, str):
        return ""
    t = text[: MAX_CHARS * 2]
    t = html.unescape(_TAG.sub(" ", t))
    t = _EMOJI_KNOWN.sub(lambda m: EMOJI[m.group(0)], t)
    t = _EMOJI_ANY.sub(" ", t)
    t = unicodedata.normalize("NFKC", t)
    t = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in t)
    t = to_simplified(t)
    return _SPACE.sub(" ", t).strip().lower()[:MAX_CHARS]


def language(text: str) -> str:
    """``zh`` when a tenth or more of the letters are Chinese characters, else ``en``."""
    letters = sum(ch.isalpha() for ch in text)
    return "zh" if letters and len(_CJK.findall(text)) >= 0.1 * letters else "en"


def mask(text) -> str:
    """The text with personal data replaced: ID-card and card numbers, phone numbers, e-mail addresses."""
    if not isinstance(text, str):
        return ""
    for pattern, token in _MASKS:
        text = pattern.sub(token, text)
    return text


def quote(text, limit: int = 160) -> str:
    """A text to show: personal data masked, white space collapsed, cut to ``limit`` characters with "…"."""
    t = _SPACE.sub(" ", mask(text)).strip()
    return t if len(t) <= limit else t[: limit - 1].rstrip() + "…"
