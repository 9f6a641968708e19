"""The ``checklist:`` section of an instrument: the items a mystery shopper checks on an audit visit."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from .words import dimension_of, entry_spec, suggest, texts_of, usable_id

SECTIONS = ("greeting", "needs", "product", "closing", "environment")
CRITICAL_RULES = ("zero", "cap", "flag")
YES = ("yes", "y", "1", "true", "是", "有", "对", "合格", "符合", "通过")
NO = ("no", "n", "0", "false", "否", "没有", "无", "不合格", "不符合", "未通过")
NOT_APPLICABLE = ("na", "n/a", "not applicable", "-", "不适用", "无此项")


@dataclass(frozen=True)
class ChecklistItem:
    """One item of the audit checklist."""

    id: str
    section: str = "other"
    weight: float = 1.0
    critical: bool = False
    scale: tuple[float, float] | None = None  # None: yes/no; else a rating scale (min, max)
    dimension: str | None = None  # the SERVQUAL dimension the item observes
    text: Mapping[str, str] = field(default_factory=dict)
    scenarios: tuple[str, ...] = ()  # the scenarios it applies to (empty: all)

    @property
    def yes_no(self) -> bool:
        return self.scale is None


@dataclass(frozen=True)
class Checklist:
    """The audit checklist (``checklist:`` in the instrument) and its critical-item rule: ``zero`` (a visit
    failing a critical item scores 0), ``cap`` (it scores at most ``cap``) or ``flag`` (its score stands and the
    failure is listed)."""

    items: tuple[ChecklistItem, ...]
    critical_rule: str = "zero"
    cap: float = 50.0
    section_text: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return [i.id for i in self.items]

    def item(self, item_id: str) -> ChecklistItem:
        return next(i for i in self.items if i.id == item_id)

    def text(self, item_id: str, lang: str = "en") -> str:
        t = self.item(item_id).text
        return t.get(lang) or t.get("en") or next(iter(t.values()), item_id)


def parse_checklist(raw: dict, dimensions, bad) -> Checklist | None:
    """The ``checklist:`` section: ``items`` (id → section, weight, critical, scale, dimension, text,
    scenarios), ``critical_rule`` and ``cap``, ``sections`` (id → wording)."""
    items = raw.get("items") or {}
    if not items:
        bad("checklist: needs items (each with its wording, section and whether it is critical)")
        return None
    rule = str(raw.get("critical_rule") or "zero")
    if rule not in CRITICAL_RULES:
        bad(f"checklist.critical_rule {rule!r} is not one of {', '.join(CRITICAL_RULES)}{suggest(rule, CRITICAL_RULES)}")
    cap = raw.get("cap", 50)
    if not isinstance(cap, (int, float)) or isinstance(cap, bool) or not 0 <= cap <= 100:
        bad(f"checklist.cap should be a score from 0 to 100, got {cap!r:.40}")
        cap = 50
    out = []
    for k, spec in items.items():
        k = str(k)
        if not usable_id("checklist.items", k, bad):
            continue
        spec = entry_spec(spec)
        scale = spec.get("scale", "yes/no")
        rng = None
        if isinstance(scale, dict):
            lo, hi = scale.get("min"), scale.get("max")
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi)) or lo >= hi:
                bad(f"checklist.items.{k}.scale needs min below max, got {scale!r:.60}")
            else:
                rng = (float(lo), float(hi))
        elif str(scale).replace(" ", "").lower() not in ("yes/no", "yesno", "binary"):
            bad(f"checklist.items.{k}.scale should be yes/no or a mapping with min and max, got {scale!r:.40}")
        dim = dimension_of(f"checklist.items.{k}", spec.get("dimension"), dimensions, bad)
        weight = spec.get("weight", 1)
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight <= 0:
            bad(f"checklist.items.{k}.weight should be a positive number, got {weight!r:.40}")
            weight = 1
        scen = spec.get("scenarios") or []
        out.append(ChecklistItem(
            id=k, section=str(spec.get("section") or "other"), weight=float(weight),
            critical=bool(spec.get("critical", False)), scale=rng, dimension=dim,
            text=MappingProxyType(texts_of(spec.get("text")) or {"en": k}),
            scenarios=tuple(str(s) for s in (scen if isinstance(scen, list) else [scen]))))
    sections = {str(k): texts_of(v) for k, v in (raw.get("sections") or {}).items()}
    return Checklist(items=tuple(out), critical_rule=rule if rule in CRITICAL_RULES else "zero", cap=float(cap),
                     section_text=MappingProxyType(sections))
