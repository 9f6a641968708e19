"""Aspects and their sentiment, clause by clause, from the lexicon.

A text (normalised, :func:`sqmlib.voc.text.normalise`) is cut into clauses at punctuation and at contrast words
(但/但是/不过/然而/却/可是, but/however …). Chinese is segmented by jieba-rs (the ``rjieba`` bindings) with the
lexicon's words as its user dictionary — without it, by the lexicon's words themselves (longest match first,
single characters otherwise); English by words, with the lexicon's phrases of up to three words kept together.

In each clause a sentiment word scores +1 or −1, times the weight of a degree word just before it (很/非常/太/有点,
very/too/a bit), reversed by a negation within the three words before it (不/没/未/别/无, not/never …). Each
aspect word takes the polarity of its own sentiment (迟到 "late" is negative itself) or else of the nearest
sentiment word in its clause; a clause about a person (师傅, the agent) with a sentiment word and no aspect word is
about staff attitude. A document's lexicon score sums its clauses', a clause after a contrast word counting
:data:`CONTRAST_WEIGHT` times (what follows "but" is what the customer means).
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from .lexicon import Lexicon, load
from .text import language, normalise

__all__ = ["Analyser", "aspects", "CONTRAST_WEIGHT"]

CONTRAST_WEIGHT = 1.5
NEGATION_REACH = 3  # a negation reverses a sentiment word at most this many words later
_CLAUSE = re.compile(r"[。！？!?；;，,、\n\r\t…~]+|\.(?:\s|$)+|\s-\s")
_STOP = {"zh": set("的了是我们你他她它在也就都还很又把被给让吗吧呢啊呀和与及或这那有个一") | {"我们", "他们", "这个", "那个",
                                                                             "就是", "还是", "什么", "一个", "已经"},
         "en": {"the", "a", "an", "and", "or", "to", "of", "in", "on", "at", "for", "with", "was", "were", "is",
                "are", "be", "been", "it", "its", "i", "we", "my", "our", "you", "they", "this", "that", "me", "had",
                "have", "has", "there", "their", "from", "by", "as", "so", "just", "did", "do", "get", "got"}}
_ZH_DEGREE = {"太": 1.6, "很": 1.4, "挺": 1.2, "真": 1.4, "好": 1.4, "超": 1.8, "特": 1.8, "蛮": 1.2}
_EN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|n't|\d+")


@lru_cache(maxsize=4)
def _segmenter(words: frozenset):
    """A jieba-rs segmenter knowing the lexicon's words; None without ``rjieba``."""
    try:
        import rjieba
    except ImportError:
        return None
    seg = rjieba.Jieba()
    for w in sorted(words):
        if w and not w.isascii():
            seg.add_word(w, 100_000, None)
    return seg


def _max_match(text: str, words: set, longest: int) -> list[str]:
    """Forward maximum matching on the lexicon's words; other characters one by one (the fallback)."""
    out, i = [], 0
    while i < len(text):
        for n in range(min(longest, len(text) - i), 0, -1):
            if n == 1 or text[i:i + n] in words:
                out.append(text[i:i + n])
                i += n
                break
    return [t for t in out if t.strip()]


class Analyser:
    """The lexicon's analysis of texts (see the module's description)."""

    def __init__(self, lexicon=None):
        self.lex: Lexicon = load(lexicon)
        self._zh_words = self.lex.words("zh")
        self._longest = max((len(w) for w in self._zh_words), default=1)
        self._phrases = {lang: {w for w in self.lex.words(lang) if " " in w} for lang in ("en",)}
        lex = self.lex
        words = {lang: "|".join(map(re.escape, sorted(lex.contrast[lang], key=len, reverse=True)))
                 for lang in ("zh", "en")}
        self._contrast = {"zh": re.compile(f"({words['zh']})") if words["zh"] else None,
                          "en": re.compile(rf"\b({words['en']})\b") if words["en"] else None}
        # words that say nothing about what happened (keywords leave them out)
        self._function = {lang: set(lex.negations[lang]) | set(lex.degree[lang]) | set(lex.contrast[lang])
                          | _STOP[lang] for lang in ("zh", "en")}
        self._inner: dict = {}  # sentiment word -> the aspect word inside it (None: none)

    # ---- tokens ---------------------------------------------------------------------------------------------
    def tokens(self, clause: str, lang: str) -> list[str]:
        if lang == "zh":
            seg = _segmenter(frozenset(self._zh_words))
            if seg is None:
                return _max_match(clause, self._zh_words, self._longest)
            out = []
            for t in seg.cut(clause, True):
                t = t.strip()
                if not t:
                    continue
                if t.isascii() and not t.isalnum():
                    continue
                out.extend(_EN_WORD.findall(t) if t.isascii() else [t])
            return out
        words = _split_nt(_EN_WORD.findall(clause.replace("’", "'")))
        phrases = self._phrases["en"]
        out, i = [], 0
        while i < len(words):
            for n in (3, 2, 1):
                cand = " ".join(words[i:i + n])
                if n == 1 or cand in phrases:
                    out.append(cand)
                    i += n
                    break
        return out

    def clauses(self, text: str, lang: str) -> list[tuple[str, bool]]:
        """(clause, after a contrast word) pairs of a normalised text."""
        out = []
        for part in _CLAUSE.split(text):
            part = part.strip()
            if not part:
                continue
            out.extend(self._split_contrast(part, lang))
        return out

    def _split_contrast(self, part: str, lang: str) -> list[tuple[str, bool]]:
        pattern = self._contrast[lang]
        if pattern is None:
            return [(part, False)]
        pieces = pattern.split(part)
        out, after = [], False
        for p in pieces:
            if p in self.lex.contrast[lang]:
                after = True
                continue
            if p.strip():
                out.append((p.strip(), after))
        return out

    # ---- one clause -------------------------------------------------------------------------------------
    def clause(self, tokens: list[str], lang: str) -> tuple[float, list[tuple[str, int]]]:
        """(score, [(aspect, polarity)]) of one clause's tokens."""
        lex = self.lex
        pol, asp, neg, deg = lex.polarity[lang], lex.aspect_of[lang], lex.negations[lang], lex.degree[lang]
        scores = np.zeros(len(tokens))
        last_neg, weight, weight_at = -99, 1.0, -99
        for i, t in enumerate(tokens):
            if t in neg:
                last_neg = i
                continue
            if t in deg:
                weight, weight_at = deg[t], i
                continue
            p = pol.get(t)
            if p is None and lang == "zh" and len(t) > 1:  # a word the segmenter kept whole: 不好, 太慢, 慢了 …
                core, kind = _zh_core(t, pol)
                if core is not None:
                    p = pol[core]
                    if kind == "negated":
                        last_neg = i
                    elif kind in _ZH_DEGREE:
                        weight, weight_at = _ZH_DEGREE[kind], i
            if p is not None:
                w = weight if i - weight_at <= 2 else 1.0
                s = p * w * (-1 if 0 < i - last_neg <= NEGATION_REACH or last_neg == i else 1)
                scores[i] = s
        score = float(scores.sum())
        found = []
        sentiment_at = np.flatnonzero(scores)
        for i, t in enumerate(tokens):
            if lang == "zh" and t not in asp and len(t) > 1:
                # a word the segmenter kept whole: 不专业, 慢了; or a sentiment word holding an aspect word: 效率高
                t = _zh_core(t, asp)[0] or (self._inner_aspect(t) if scores[i] else None) or t
            for a in asp.get(t, ()):
                if scores[i] != 0:
                    p = int(np.sign(scores[i]))
                elif len(sentiment_at):
                    d = np.abs(sentiment_at - i) - 0.5 * (sentiment_at > i)  # ties: the word after
                    p = int(np.sign(scores[sentiment_at[np.argmin(d)]]))
                else:
                    p = 0
                found.append((a, p))
        if not found and score != 0 and any(t in lex.people[lang] for t in tokens):
            found.append(("staff_attitude", int(np.sign(score))))
        seen, out = set(), []
        for a, p in found:  # an aspect once per clause: its strongest polarity
            if a not in seen:
                seen.add(a)
                ps = [q for b, q in found if b == a]
                out.append((a, max(ps, key=abs)))
        return score, out

    def _inner_aspect(self, word: str) -> str | None:
        """The longest aspect word inside a Chinese sentiment word (效率 in 效率高, 态度 in 态度差), if any."""
        if word not in self._inner:
            inside = [a for a in self.lex.aspect_of["zh"] if a in word and a != word]
            self._inner[word] = max(inside, key=len) if inside else None
        return self._inner[word]

    # ---- texts -------------------------------------------------------------------------------------------
    def analyse(self, text, tokens: bool = False):
        """(document score, [(clause number, clause, aspect, polarity)]) of one raw text; with ``tokens``, each row
        also holds its clause's content words and the text's language is returned third."""
        t = normalise(text)
        lang = language(t) if t else "en"
        total, rows = 0.0, []
        for k, (c, after) in enumerate(self.clauses(t, lang) if t else ()):
            toks = self.tokens(c, lang)
            score, found = self.clause(toks, lang)
            total += score * (CONTRAST_WEIGHT if after else 1.0)
            if tokens:
                content = [w for w in toks if w not in self._function[lang]]
                rows.extend((k, c, a, p, content) for a, p in found)
            else:
                rows.extend((k, c, a, p) for a, p in found)
        return (total, rows, lang) if tokens else (total, rows)

    def frame(self, texts, ids=None) -> pd.DataFrame:
        """One row per aspect found: ``text_id``, ``clause`` (its number), ``clause_text``, ``aspect``, ``dimension``,
        ``polarity`` (−1, 0, 1)."""
        texts = list(texts)
        ids = list(range(len(texts))) if ids is None else list(ids)
        rows = []
        for i, t in zip(ids, texts):
            _, found = self.analyse(t)
            rows.extend((i, k, c, a, p) for k, c, a, p in found)
        out = pd.DataFrame(rows, columns=["text_id", "clause", "clause_text", "aspect", "polarity"])
        out.insert(4, "dimension", out["aspect"].map(self.lex.dimension))
        return out.astype({"clause": int, "polarity": int})

    def scores(self, texts) -> np.ndarray:
        """Each text's lexicon score (positive: praise; negative: complaint; 0: neither)."""
        return np.array([self.analyse(t)[0] for t in texts], dtype=float)


def _zh_core(t: str, known) -> tuple[str | None, str]:
    """The lexicon word inside a Chinese token the segmenter kept whole, and what was around it: ``("慢", "太")``
    for 太慢, ``("好", "negated")`` for 不好, ``("吵", "")`` for 吵了; ``(None, "")`` when there is none."""
    core = t.rstrip("了的啊啦呀吧")
    if core != t and core in known:
        return core, ""
    if t[0] in "不没" and core[1:] in known:
        return core[1:], "negated"
    if t[0] in _ZH_DEGREE and core[1:] in known:
        return core[1:], t[0]
    return None, ""


def _split_nt(words: list[str]) -> list[str]:
    out = []
    for w in words:
        if w.endswith("n't") and len(w) > 3:
            out += [w[:-3], "n't"]
        else:
            out.append(w)
    return out


@lru_cache(maxsize=4)
def _analyser(key) -> Analyser:
    return Analyser(key or None)


def aspects(texts, *, lang: str = "zh", lexicon=None, ids=None) -> pd.DataFrame:
    """Aspects and their polarity per clause: ``text_id``, ``clause``, ``clause_text``, ``aspect``, ``dimension``,
    ``polarity`` (−1, 0, 1). ``lang`` is the expected language (each text's own is detected; Chinese and English
    mixed in one file are both read); ``lexicon``: a YAML file (or mapping) extending the default."""
    a = _analyser(lexicon) if lexicon is None or isinstance(lexicon, str) else Analyser(lexicon)
    return a.frame(texts, ids=ids)
