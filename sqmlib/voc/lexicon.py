"""The aspect and sentiment lexicon: the default (``lexicon.yaml`` beside this module), extended by the user's.

A lexicon maps words to service aspects (each aspect to a SERVQUAL dimension), lists positive and negative words,
negations, degree words (with their weights) and contrast words, in Chinese and English; ``people`` are the words
for staff (a comment on a person with no aspect word is about staff attitude).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import Problem, SQMDataError

__all__ = ["Lexicon", "load_lexicon"]

DEFAULT = Path(__file__).with_name("lexicon.yaml")
LANGS = ("zh", "en")


@dataclass(frozen=True)
class Lexicon:
    """Per language: ``aspect_of`` (word → aspects), ``polarity`` (word → +1/−1), ``negations``, ``degree``
    (word → weight), ``contrast`` and ``people``; ``dimension`` (aspect → SERVQUAL dimension)."""

    dimension: dict
    aspect_of: dict = field(default_factory=dict)
    polarity: dict = field(default_factory=dict)
    negations: dict = field(default_factory=dict)
    degree: dict = field(default_factory=dict)
    contrast: dict = field(default_factory=dict)
    people: dict = field(default_factory=dict)

    @property
    def aspects(self) -> list[str]:
        return list(self.dimension)

    def words(self, lang: str) -> set[str]:
        """Every word of the lexicon in ``lang`` (a Chinese segmenter's user dictionary)."""
        return (set(self.aspect_of[lang]) | set(self.polarity[lang]) | set(self.negations[lang])
                | set(self.degree[lang]) | set(self.contrast[lang]) | set(self.people[lang]))


def _words(v) -> list[str]:
    return [str(w).strip().lower() for w in (v or []) if str(w).strip()]


def _merge(base: dict, extra: dict) -> dict:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for k, v in (extra or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        elif isinstance(v, list) and isinstance(out.get(k), list):
            out[k] = list(dict.fromkeys(out[k] + v))
        else:
            out[k] = v
    return out


def _read(path: Path) -> dict:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SQMDataError(str(path), [Problem("unreadable", f"the lexicon cannot be read: {exc}")]) from None
    if not isinstance(doc, dict):
        raise SQMDataError(str(path), [Problem("bad_lexicon", "a lexicon is a mapping (aspects:, sentiment:, …)")])
    return doc


def build(doc: dict, source: str = "lexicon") -> Lexicon:
    problems = []
    dims, aspect_of, polarity = {}, {lang: {} for lang in LANGS}, {lang: {} for lang in LANGS}
    for aspect, spec in (doc.get("aspects") or {}).items():
        if not isinstance(spec, dict) or not spec.get("dimension"):
            problems.append(Problem("bad_lexicon", f"aspect {aspect!r} needs a dimension and its words"))
            continue
        dims[str(aspect)] = str(spec["dimension"])
        for lang in LANGS:
            for w in _words(spec.get(lang)):
                aspect_of[lang].setdefault(w, [])
                if aspect not in aspect_of[lang][w]:
                    aspect_of[lang][w].append(str(aspect))
    sentiment = doc.get("sentiment") or {}
    for sign, key in ((1, "positive"), (-1, "negative")):
        for lang in LANGS:
            for w in _words((sentiment.get(key) or {}).get(lang)):
                polarity[lang][w] = sign
    if problems:
        raise SQMDataError(source, problems)
    return Lexicon(dims, aspect_of, polarity,
                   {lang: set(_words((doc.get("negations") or {}).get(lang))) for lang in LANGS},
                   {lang: {str(k).lower(): float(v) for k, v in ((doc.get("degree") or {}).get(lang) or {}).items()}
                    for lang in LANGS},
                   {lang: set(_words((doc.get("contrast") or {}).get(lang))) for lang in LANGS},
                   {lang: set(_words((doc.get("people") or {}).get(lang))) for lang in LANGS})


@lru_cache(maxsize=8)
def _load(extra: str) -> Lexicon:
    doc = _read(DEFAULT)
    if extra:
        doc = _merge(doc, _read(Path(extra)))
    return build(doc, extra or str(DEFAULT))


def load(extra=None) -> Lexicon:
    """The default lexicon, extended by ``extra`` (a YAML file with the same keys) when given."""
    if isinstance(extra, Lexicon):
        return extra
    if isinstance(extra, dict):
        return build(_merge(_read(DEFAULT), extra))
    return _load(str(extra) if extra else "")


load_lexicon = load
