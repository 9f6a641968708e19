"""The ``kano:`` section of an instrument: attributes asked as KANO pairs (a functional and a dysfunctional
question each), read into columns ``KF_<id>`` and ``KD_<id>``."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from .words import answer_code, dimension_of, entry_spec, texts_of, usable_id


KANO_ANSWERS: dict[int, tuple[str, ...]] = {  # option texts of the five KANO answers, matched trimmed, case-blind
    1: ("like", "like it", "i like it", "i like it that way", "喜欢", "我喜欢", "很喜欢", "我很喜欢", "非常喜欢"),
    2: ("expect", "expect it", "i expect it", "it must be that way", "must be", "must-be", "理所当然", "理应如此",
        "必须这样", "应该的", "必须的"),
    3: ("neutral", "i am neutral", "i'm neutral", "i don't care", "无所谓", "中立", "不在乎"),
    4: ("tolerate", "can tolerate", "i can tolerate it", "live with", "i can live with it", "能忍受", "可以忍受",
        "勉强接受"),
    5: ("dislike", "dislike it", "i dislike it", "i dislike it that way", "不喜欢", "我不喜欢", "很不喜欢", "我很不喜欢"),
}


@dataclass(frozen=True)
class KanoAttribute:
    """One attribute of a KANO questionnaire: its functional ("if the service has …") and dysfunctional ("if it
    does not …") question."""

    id: str
    text: Mapping[str, str] = field(default_factory=dict)  # the attribute's name per language
    functional_text: Mapping[str, str] = field(default_factory=dict)  # the questions' wording per language
    dysfunctional_text: Mapping[str, str] = field(default_factory=dict)
    dimension: str | None = None  # the SERVQUAL dimension it belongs to (compared with the drivers' classes)
    functional_source: str = ""  # the questions' headers in the data file
    dysfunctional_source: str = ""


@dataclass(frozen=True)
class KanoBlock:
    """The KANO pairs of a survey (``kano:`` in the instrument): columns ``KF_<id>`` and ``KD_<id>`` on loading,
    answers 1 like it, 2 expect it, 3 neutral, 4 can tolerate, 5 dislike it."""

    attributes: tuple[KanoAttribute, ...]
    answers: Mapping[int, tuple[str, ...]]  # answer code -> option texts read as that answer
    optional: bool = False

    @property
    def ids(self) -> list[str]:
        return [a.id for a in self.attributes]

    def attribute(self, attr: str) -> KanoAttribute:
        return next(a for a in self.attributes if a.id == attr)

    def label(self, attr: str, lang: str = "en") -> str:
        t = self.attribute(attr).text
        return t.get(lang) or t.get("en") or next(iter(t.values()), attr)



def parse_kano(raw: dict, dimensions, bad) -> KanoBlock | None:
    """The ``kano:`` section: attributes with their two questions' headers (default ``KF_{id}`` and
    ``KD_{id}``, or the section's ``functional``/``dysfunctional`` templates, or the attribute's ``sources``)."""
    attrs = raw.get("attributes") or {}
    if not attrs:
        bad("kano: needs attributes (each with its functional and dysfunctional question)")
        return None
    f_tpl, d_tpl = str(raw.get("functional") or "KF_{id}"), str(raw.get("dysfunctional") or "KD_{id}")
    out = []
    for a, spec in attrs.items():
        a = str(a)
        if not usable_id("kano.attributes", a, bad):
            continue
        spec = entry_spec(spec)
        srcs = spec.get("sources") or {}
        unknown = [k for k in srcs if k not in ("functional", "dysfunctional")]
        if unknown:
            bad(f"kano.attributes.{a}.sources: keys are functional and dysfunctional, got {unknown}")
        dim = dimension_of(f"kano.attributes.{a}", spec.get("dimension"), dimensions, bad)
        out.append(KanoAttribute(
            id=a, text=MappingProxyType(texts_of(spec.get("text")) or {"en": a}),
            functional_text=MappingProxyType(texts_of(spec.get("functional"))),
            dysfunctional_text=MappingProxyType(texts_of(spec.get("dysfunctional"))),
            dimension=dim,
            functional_source=str(srcs.get("functional") or f_tpl.replace("{id}", a)),
            dysfunctional_source=str(srcs.get("dysfunctional") or d_tpl.replace("{id}", a))))
    answers = {k: tuple(v) for k, v in KANO_ANSWERS.items()}
    for code, texts in (raw.get("answers") or {}).items():
        c = answer_code(code)
        if c not in answers:
            bad(f"kano.answers: {code!r} is not an answer code (1 like it, 2 expect it, 3 neutral, 4 can tolerate, "
                "5 dislike it)")
            continue
        extra = texts if isinstance(texts, list) else [texts]
        answers[c] = answers[c] + tuple(str(t).strip().casefold() for t in extra)
    return KanoBlock(attributes=tuple(out), answers=MappingProxyType(answers),
                     optional=bool(raw.get("optional", False)))
