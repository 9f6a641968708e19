"""Survey instruments as data.

An instrument file (YAML) says which items a survey has, how they group into dimensions, the rating scale, the
reverse-keyed items, the declared missing codes ("don't know", "not applicable"), the wording of each item in
one or more languages, which rating blocks exist (expectation ``E``, perception ``P``, …) and where each
column is found in a data file. The format is documented in ``data/README.md``.

Two instruments ship with sqm: ``servqual`` (22 items, E and P, with optional three-column A/D blocks and
100-point importance) and ``servperf`` (the same items, perceptions only). Users write their own file for
their own survey and pass its path to :func:`load`.

Examples
--------
>>> from sqmlib import instruments
>>> sq = instruments.load("servqual")
>>> sq.dimensions["tangibles"]
('01', '02', '03', '04')
>>> sq.item_columns("P")[:3]
['P01', 'P02', 'P03']
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import yaml

from ..errors import Problem, SQMArgumentError, SQMDataError
from .kano import KANO_ANSWERS, KanoAttribute, KanoBlock, parse_kano  # noqa: F401  (the instrument's KANO types)
from .checklist import Checklist, ChecklistItem, parse_checklist  # noqa: F401  (the audit visits' checklist)
from .words import answer_code as _code, suggest as _suggest, texts_of as _texts

BUILTIN_DIR = Path(__file__).resolve().parent
COLUMN_TYPES = ("id", "text", "category", "date", "quarter", "number", "rating", "bool", "duration")


@dataclass(frozen=True)
class Block:
    """One rating block (e.g. expectation ``E``): each item is rated once in it."""

    code: str
    label: str
    source: str  # template of the column header in the data file; "{id}" and "{num}" are replaced
    optional: bool = False
    prompt: Mapping[str, str] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)  # item id -> its header (overrides ``source``)
    offset: int = 0  # added to the item number in ``{num}`` (a block numbered 23–44 for items 01–22: 22)
    scale_min: float | None = None  # the block's own scale, when it differs from the instrument's
    scale_max: float | None = None
    label_text: Mapping[str, str] = field(default_factory=dict)  # the label per language

    def header(self, item: str) -> str:
        """The header (or glob pattern) of ``item``'s column in the data file."""
        if item in self.sources:
            return self.sources[item]
        num = str(int(item) + self.offset) if item.isdigit() else item
        return self.source.replace("{id}", item).replace("{num}", num)


def missing_code(code) -> float | str | None:
    """A declared missing code as the loader matches it: a number as a float (``"98"`` and ``98`` alike), a
    text trimmed and lower-cased (``" N/A"`` matches ``n/a``); None for an empty code."""
    if isinstance(code, bool) or code is None:
        return None
    try:
        return float(code)
    except (TypeError, ValueError):
        text = str(code).strip().casefold()
        return text or None


@dataclass(frozen=True)
class ColumnSpec:
    """A non-item column of the survey file."""

    name: str
    type: str = "text"
    source: str | None = None  # header (or glob pattern) in the data file; default: ``name``
    required: bool = False
    role: str | None = None  # "segment", "outcome", "panel" (a person's id in every wave), "weight" or "comment"
    min: float | None = None
    max: float | None = None
    missing_codes: Mapping[float, str] = field(default_factory=dict)
    labels: Mapping[Any, str] = field(default_factory=dict)  # answer code -> label (category columns)
    top_boxes: int = 2  # rating outcomes: the top boxes counted as satisfied / easy (CSAT, CES)
    text: Mapping[str, str] = field(default_factory=dict)  # the column's label per language

    def top_box_threshold(self) -> float:
        """The lowest answer counted in the top boxes (``max - top_boxes + 1``: 6 on 1–7, 4 on 1–5)."""
        return float(self.max) - self.top_boxes + 1


@dataclass(frozen=True)
class Importance:
    """Points (e.g. 100) a respondent shares out over the dimensions."""

    source: str  # header template with "{dimension}"
    total: float = 100.0
    optional: bool = True


@dataclass(frozen=True)
class Instrument:
    """A survey instrument loaded from its YAML file.

    Attributes
    ----------
    name, title : str
    scale_min, scale_max : int
        The rating scale of the item blocks.
    missing_codes : mapping of code -> label
        Codes that mean "no answer of this kind" and become NaN on loading: numbers (as floats: ``98``, ``-1``)
        or texts (``N/A``, ``不适用``; kept trimmed and lower-cased, and matched so: :func:`missing_code`).
    blocks : mapping of block code -> Block
    dimensions : mapping of dimension -> tuple of item ids
    items : tuple of item ids, in questionnaire order
    item_text : mapping of item id -> {language: wording}
    dimension_text : mapping of dimension -> {language: label}
    reverse : tuple of reverse-keyed item ids
    importance : Importance or None
    columns : mapping of column name -> ColumnSpec
    path : Path of the file it came from
    """

    name: str
    title: str
    scale_min: int
    scale_max: int
    missing_codes: Mapping[float, str]
    blocks: Mapping[str, Block]
    dimensions: Mapping[str, tuple[str, ...]]
    items: tuple[str, ...]
    item_text: Mapping[str, Mapping[str, str]]
    dimension_text: Mapping[str, Mapping[str, str]]
    reverse: tuple[str, ...]
    importance: Importance | None
    columns: Mapping[str, ColumnSpec]
    path: Path
    model: Mapping | None = None  # the service-profit chain as a structural model (see sqmlib.sem.chain_spec)
    encoding: str | None = None  # the survey file's text encoding, when detection cannot tell
    scale_labels: Mapping[float, str] = field(default_factory=dict)  # e.g. {1: strongly disagree}
    sheet: str | int | None = None  # the workbook sheet holding the answers (default the first)
    header_row: int = 1  # the row (as a spreadsheet numbers it) holding the headers, below a title or cover
    survey_files: tuple[str, ...] = ()  # the survey in several files (e.g. expectations and perceptions) …
    survey_on: str = ""  # … joined on this column (the respondent id's header)
    currency: str = ""  # amounts of money (customer value, offer costs) in this currency: ISO code or symbol
    kano: KanoBlock | None = None  # KANO pairs (functional and dysfunctional question per attribute)
    checklist: Checklist | None = None  # the mystery shoppers' checklist for audit visits
    owners: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # kind (a segment column, kpi,
    # dimension) -> key -> who owns actions about it
    causes: Mapping[str, str] = field(default_factory=dict)  # complaint category -> one of CAUSES

    # ---- names of things -------------------------------------------------------------------------------
    @property
    def scale(self) -> tuple[int, int]:
        return (self.scale_min, self.scale_max)

    @property
    def has_expectations(self) -> bool:
        return "E" in self.blocks

    def block_scale(self, block: str) -> tuple[float, float]:
        """The rating scale of a block: its own when declared, else the instrument's."""
        b = self.blocks[block]
        return (self.scale_min if b.scale_min is None else b.scale_min,
                self.scale_max if b.scale_max is None else b.scale_max)

    @property
    def design(self) -> str:
        """``"servqual"`` (expectations and perceptions), ``"three-column"`` (with minimum and desired levels),
        ``"servperf"`` (perceptions only) or ``"kpi"`` (no rating items: NPS, CSAT or CES alone)."""
        if not self.blocks:
            return "kpi"
        if {"A", "D"} <= set(self.blocks):
            return "three-column"
        return "servqual" if self.has_expectations else "servperf"

    def block_of(self, column: str) -> str | None:
        """The block of a canonical item column (``P05`` → ``P``; the longest code that fits), else None."""
        return max((b for b in self.blocks if column.startswith(b) and column[len(b):] in self.items), key=len,
                   default=None)

    def weight_in(self, frame) -> str | None:
        """The sampling-weight column (``role: weight``) when ``frame`` has it, else None."""
        return self.weight if self.weight is not None and self.weight in frame.columns else None

    def segments_in(self, frame) -> list[str]:
        """The instrument's segment columns that ``frame`` has with two or more distinct values."""
        return [c for c in self.segments if c in frame.columns and frame[c].nunique() >= 2]

    def reverse_columns(self) -> list[str]:
        """Canonical columns of the reverse-keyed items in every rating block (``P04``, ``E04`` …)."""
        return [self.item_column(b, i) for b in self.blocks for i in self.reverse]

    def column_text(self, name: str, lang: str = "en") -> str:
        """The label of a non-item column in ``lang`` (falling back to English, then to its name)."""
        spec = self.columns.get(name)
        t = dict(spec.text) if spec is not None else {}
        return t.get(lang) or t.get("en") or name.replace("_", " ")

    def dimension_label(self, dimension: str, lang: str = "en") -> str:
        """A dimension's label in ``lang`` (falling back to English, then to its id)."""
        t = self.dimension_text.get(dimension, {})
        return t.get(lang) or t.get("en") or dimension

    def item_column(self, block: str, item: str) -> str:
        """Canonical column name of ``item`` in ``block``: the block code followed by the item id (``P05``)."""
        return f"{block}{item}"

    def item_columns(self, block: str, dimension: str | None = None) -> list[str]:
        """Canonical columns of a block, optionally of one dimension only."""
        if block not in self.blocks:
            raise SQMArgumentError(f"instrument {self.name!r} has no block {block!r} (it has {', '.join(self.blocks)})")
        items = self.items if dimension is None else self.dimensions[dimension]
        return [self.item_column(block, i) for i in items]

    def importance_columns(self) -> list[str]:
        """Canonical importance columns, one per dimension (``I_tangibles`` …); empty if none are declared."""
        if self.importance is None:
            return []
        return [f"I_{d}" for d in self.dimensions]

    @property
    def segments(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.role == "segment"]

    @property
    def comments(self) -> list[str]:
        """Columns of free-text answers to open questions (``role: comment``)."""
        return [c.name for c in self.columns.values() if c.role == "comment"]

    @property
    def outcomes(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.role == "outcome"]

    @property
    def weight(self) -> str | None:
        """The respondents' sampling (e.g. post-stratification) weight column (``role: weight``), if any."""
        return next((c.name for c in self.columns.values() if c.role == "weight"), None)

    @property
    def panel(self) -> str | None:
        """The column identifying a person across waves (``role: panel``), if the study is a panel."""
        return next((c.name for c in self.columns.values() if c.role == "panel"), None)

    def dimension_of(self, item: str) -> str | None:
        for d, its in self.dimensions.items():
            if item in its:
                return d
        return None

    def text(self, item: str, lang: str = "en") -> str:
        """Wording of an item in ``lang``, falling back to English, then to any language, then to the id."""
        t = self.item_text.get(item, {})
        return t.get(lang) or t.get("en") or next(iter(t.values()), item)

    def item_table(self, lang: str = "en"):
        """A DataFrame of items: id, dimension, reverse-keyed flag and wording."""
        import pandas as pd

        return pd.DataFrame(
            {
                "item": list(self.items),
                "dimension": [self.dimension_of(i) for i in self.items],
                "reverse": [i in self.reverse for i in self.items],
                "text": [self.text(i, lang) for i in self.items],
            }
        )

    def __repr__(self) -> str:
        dims = ", ".join(f"{d} ({len(v)})" for d, v in self.dimensions.items())
        return (
            f"Instrument({self.name!r}: {len(self.items)} items, blocks {'/'.join(self.blocks)}, "
            f"scale {self.scale_min}–{self.scale_max}; {dims})"
        )


def available() -> list[str]:
    """Names of the instruments that ship with sqm."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def load(name_or_path: "str | Path | Instrument") -> Instrument:
    """Load an instrument by built-in name (``"servqual"``, ``"servperf"``) or from a YAML file path.

    Raises
    ------
    SQMDataError
        If the file does not exist or is not a valid instrument; every problem is listed.
    """
    if isinstance(name_or_path, Instrument):
        return name_or_path
    s = str(name_or_path)
    path = Path(s)
    if not (s.endswith((".yaml", ".yml")) or path.exists()):
        path = BUILTIN_DIR / f"{s}.yaml"
        if not path.exists():
            raise SQMDataError(s, f"no built-in instrument of that name (available: {', '.join(available())}) "
                                  "and no file at that path")
    if not path.exists():
        raise SQMDataError(str(path), "instrument file not found")
    return _parse(_extended(read_yaml(path), path), path)


def _extended(raw, path: Path):
    """An instrument file with ``extends: <built-in name>``: the built-in instrument's keys, with the file's own
    keys in their place (e.g. ``extends: servqual`` and ``currency: CNY``)."""
    if not isinstance(raw, dict) or "extends" not in raw:
        return raw
    base = str(raw["extends"])
    if base not in available():
        raise SQMDataError(str(path), f"extends: {base!r} is not a built-in instrument (available: "
                                      f"{', '.join(available())})")
    own = {k: v for k, v in raw.items() if k != "extends"}
    return {**read_yaml(BUILTIN_DIR / f"{base}.yaml"), **own}


MAX_YAML_BYTES = 1_000_000  # an instrument is a few kilobytes
MAX_YAML_DEPTH = 20  # instruments nest four levels deep


def read_yaml(path: Path):
    """A small YAML file read safely: plain data only (``safe_load``), at most 1 MB, no aliases (``&a``/``*a``:
    a "billion laughs" file would expand without bound), at most 20 levels of nesting."""
    path = Path(path)
    if path.stat().st_size > MAX_YAML_BYTES:
        raise SQMDataError(str(path), f"the file is {path.stat().st_size:,} bytes; an instrument file is a few "
                                      "kilobytes (at most 1 MB)")
    try:
        text = path.read_text(encoding="utf-8")
        depth = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise SQMDataError(str(path), "YAML aliases (*name) are not accepted in an instrument file: "
                                              "write each value out")
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise SQMDataError(str(path), f"nested more than {MAX_YAML_DEPTH} levels deep: not an "
                                                  "instrument file")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        return yaml.safe_load(text)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SQMDataError(str(path), f"not a readable YAML file: {' '.join(str(exc).split())}") from None


# ---------------------------------------------------------------------------------------------------------
# Schema: every key an instrument file may hold, with its type; anything else is an error ("did you mean")
# ---------------------------------------------------------------------------------------------------------
_TEXTS = "texts"  # a string, or a mapping language -> string
SCHEMA: dict[str, dict[str, Any]] = {
    "": {"name": str, "title": str, "scale": "scale", "missing_codes": dict, "blocks": dict, "reverse": list,
         "dimensions": dict, "items": (dict, list), "importance": dict, "columns": dict, "model": dict,
         "encoding": str, "languages": list, "description": _TEXTS, "sheet": (str, int), "header_row": int, "survey": dict,
         "extends": str, "currency": str, "kano": dict,
         "checklist": dict, "owners": dict, "causes": dict},
    "scale": {"min": (int, float), "max": (int, float), "labels": dict},
    "survey": {"files": list, "on": str},
    "block": {"label": _TEXTS, "source": str, "sources": dict, "offset": int, "optional": bool,
              "prompt": _TEXTS, "scale": "scale"},
    "dimension": {"items": list, "text": _TEXTS},
    "importance": {"source": str, "total": (int, float), "optional": bool},
    "column": {"type": str, "source": str, "required": bool, "role": str, "min": (int, float),
               "max": (int, float), "missing_codes": dict, "labels": dict, "top_boxes": int, "text": _TEXTS,
               "kpi": str},
    "model": {"constructs": dict, "paths": list, "target": str},
    "kano": {"functional": str, "dysfunctional": str, "attributes": dict, "answers": dict, "optional": bool},
    "kano_attribute": {"text": _TEXTS, "functional": _TEXTS, "dysfunctional": _TEXTS, "dimension": str,
                       "sources": dict},
    "checklist": {"items": dict, "critical_rule": str, "cap": (int, float), "sections": dict},
    "checklist_item": {"text": _TEXTS, "section": str, "weight": (int, float), "critical": bool, "scale": (str, dict),
                       "dimension": str, "scenarios": (list, str)},
}
# the six root-cause categories of a fishbone (人机料法环测)
CAUSES = ("people", "machines", "materials", "methods", "environment", "measurement")


def _owners(raw, bad) -> Mapping[str, Mapping[str, str]]:
    """``owners:``: kind (a segment column such as region, or kpi, or dimension) → name → owner."""
    if raw is None:
        return MappingProxyType({})
    out = {}
    for kind, names in raw.items():
        if not isinstance(names, dict) or not all(isinstance(v, (str, int, float)) for v in names.values()):
            bad(f"owners: {kind!r} must map names to owners (e.g. owners: {{region: {{North: Zhao Min}}}})")
            continue
        out[str(kind)] = MappingProxyType({str(k): str(v).strip() for k, v in names.items()})
    return MappingProxyType(out)


def _causes(raw, bad) -> Mapping[str, str]:
    """``causes:``: complaint category → one of :data:`CAUSES`."""
    if raw is None:
        return MappingProxyType({})
    out = {}
    for category, cause in raw.items():
        if str(cause) not in CAUSES:
            bad(f"causes: {category!r} maps to unknown cause {cause!r}{_suggest(str(cause), CAUSES)}; the causes are "
                f"{', '.join(CAUSES)}")
            continue
        out[str(category)] = str(cause)
    return MappingProxyType(out)


# panel: a person's id across waves; weight: sampling weight; comment: an open question's free-text answers (the
# voice of the customer reads them as survey comments)
ROLES = ("segment", "outcome", "panel", "weight", "comment")
LANG_RE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z]{2,4})?$")


def _type_name(t) -> str:
    if t == _TEXTS:
        return "text or a mapping of language to text"
    if t == "scale":
        return "a mapping with min and max"
    names = {str: "text", dict: "a mapping", list: "a list", bool: "true or false", int: "a whole number",
             float: "a number"}
    ts = t if isinstance(t, tuple) else (t,)
    return " or ".join(dict.fromkeys(names.get(x, x.__name__) for x in ts))


def _check_keys(section: str, value, where: str, bad) -> dict:
    """The mapping ``value`` checked against ``SCHEMA[section]``: unknown keys and wrong types reported."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        bad(f"{where or 'the file'} must be a mapping, got {type(value).__name__}")
        return {}
    allowed = SCHEMA[section]
    for key, v in value.items():
        if key not in allowed:
            bad(f"unknown key {key!r} in {where or 'the top level'}{_suggest(key, allowed)}")
            continue
        want = allowed[key]
        here = f"{where}.{key}" if where else str(key)
        if want == _TEXTS:
            ok = isinstance(v, (str, int, float)) or (isinstance(v, dict) and all(
                isinstance(x, (str, int, float)) for x in v.values()))
        elif want == "scale":
            ok = isinstance(v, dict)
            if ok:
                _check_keys("scale", v, here, bad)
        else:
            ts = want if isinstance(want, tuple) else (want,)
            ok = isinstance(v, ts) and not (isinstance(v, bool) and bool not in ts) or v is None
        if not ok:
            bad(f"{here} should be {_type_name(want)}, got {v!r:.60}")
    return value


def _check_entries(raw: dict, section: str, key: str, entry: str, short: str, bad) -> None:
    """A section of named entries (``kano.attributes``, ``checklist.items``) checked against the schema: the
    section's keys, and each entry either ``short`` (a text) or a mapping of the ``entry`` schema's keys."""
    if not isinstance(raw.get(section), dict):
        return
    _check_keys(section, raw[section], section, bad)
    entries = raw[section].get(key)
    for name, spec in (entries or {}).items() if isinstance(entries, dict) else ():
        if isinstance(spec, dict):
            _check_keys(entry, spec, f"{section}.{key}.{name}", bad)
        elif not isinstance(spec, (str, type(None))):
            bad(f"{section}.{key}.{name} should be {short} or a mapping ({', '.join(SCHEMA[entry])}), "
                f"got {spec!r:.60}")


def _parse(raw, path: Path) -> Instrument:
    problems: list[Problem] = []

    def bad(msg: str, column: str | None = None):
        problems.append(Problem(kind="instrument", message=msg, column=column))

    if not isinstance(raw, dict):
        raise SQMDataError(str(path), "an instrument file must be a YAML mapping")
    for key in ("name", "scale", "blocks", "items"):
        if key not in raw:
            bad(f"required key {key!r} is missing" + (_suggest(key, [k for k in raw if k not in SCHEMA[""]])
                                                     if any(k not in SCHEMA[""] for k in raw) else ""))
    if problems:
        raise SQMDataError(str(path), problems)
    _check_keys("", raw, "", bad)
    for code, spec in (raw.get("blocks") or {}).items() if isinstance(raw.get("blocks"), dict) else ():
        _check_keys("block", spec, f"blocks.{code}", bad)
    for d, spec in (raw.get("dimensions") or {}).items() if isinstance(raw.get("dimensions"), dict) else ():
        if isinstance(spec, dict):
            _check_keys("dimension", spec, f"dimensions.{d}", bad)
        elif not isinstance(spec, list):
            bad(f"dimensions.{d} should be a list of item ids or a mapping with items, got {spec!r:.60}")
    for name, spec in (raw.get("columns") or {}).items() if isinstance(raw.get("columns"), dict) else ():
        _check_keys("column", spec, f"columns.{name}", bad)
        if isinstance(spec, dict) and spec.get("role") not in (None, *ROLES):
            bad(f"columns.{name}.role {spec.get('role')!r} is not one of {', '.join(ROLES)}"
                + _suggest(spec.get("role"), ROLES))
    if isinstance(raw.get("importance"), dict):
        _check_keys("importance", raw["importance"], "importance", bad)
    if isinstance(raw.get("model"), dict):
        _check_keys("model", raw["model"], "model", bad)
    _check_entries(raw, "kano", "attributes", "kano_attribute", "its name", bad)
    _check_entries(raw, "checklist", "items", "checklist_item", "its wording", bad)
    for name, spec in (raw.get("columns") or {}).items() if isinstance(raw.get("columns"), dict) else ():
        if isinstance(spec, dict) and spec.get("role") == "weight" and spec.get("type") != "number":
            bad(f"columns.{name}: a weight (role: weight) is a number: type: number")
    if isinstance(raw.get("survey"), dict):
        _check_keys("survey", raw["survey"], "survey", bad)
        if len(raw["survey"].get("files") or ()) < 2 or not raw["survey"].get("on"):
            bad("survey: needs files (two or more, joined into one survey) and on (the column they share, "
                "e.g. respondent_id)")
    if any(" should be " in p.message or " must be " in p.message for p in problems):
        raise SQMDataError(str(path), problems)  # wrong types: reading on would only add confusion

    scale = raw["scale"] or {}
    smin, smax = scale.get("min"), scale.get("max")
    if not (isinstance(smin, (int, float)) and isinstance(smax, (int, float)) and smin < smax):
        bad(f"scale needs numeric min < max, got min={smin!r} max={smax!r}")
        smin, smax = 0, 1

    items_raw = raw["items"] or {}  # "items:" with nothing under it: none
    if isinstance(items_raw, list):
        items_raw = {str(i): {} for i in items_raw}
    items = tuple(str(k) for k in items_raw)
    if len(set(items)) != len(items):
        bad("item ids are not unique")
    item_text = {str(k): _texts(v) for k, v in items_raw.items()}
    for k, v in items_raw.items():
        if isinstance(v, dict):
            odd = [lang for lang in v if not LANG_RE.match(str(lang))]
            if odd:
                bad(f"items.{k}: {', '.join(repr(str(o)) for o in odd)} is not a language code (en, zh, ko, …); "
                    "a comma in unquoted wording splits it: put the wording in quotes")
    by_number = {}
    for i in items:
        if i.isdigit():
            by_number.setdefault(int(i), []).append(i)

    def item_id(x) -> str:
        """An item reference as its id: ``4`` (YAML reads an unquoted 04 as a number) is item "04"."""
        s = str(x)
        if s in items or not s.isdigit():
            return s
        match = by_number.get(int(s), [])
        return match[0] if len(match) == 1 else s

    missing = {}
    for code, label in (raw.get("missing_codes") or {}).items():
        c = missing_code(code)
        if c is None:
            bad(f"missing code {code!r} is neither a number nor a text")
            continue
        if isinstance(c, float) and smin <= c <= smax:
            bad(f"missing code {code!r} ({label}) lies inside the scale {smin}–{smax}, so it would be ambiguous")
        missing[c] = str(label)

    blocks = {}
    for code, spec in (raw["blocks"] or {}).items():
        spec = spec or {}
        bscale = spec.get("scale") or {}
        bmin, bmax = bscale.get("min"), bscale.get("max")
        if bscale and not (isinstance(bmin, (int, float)) and isinstance(bmax, (int, float)) and bmin < bmax):
            bad(f"blocks.{code}.scale needs numeric min < max, got min={bmin!r} max={bmax!r}")
            bmin = bmax = None
        label = _texts(spec.get("label", code))
        srcs = {item_id(k): str(v) for k, v in (spec.get("sources") or {}).items()}
        unknown = [k for k in srcs if k not in items]
        if unknown:
            bad(f"blocks.{code}.sources names unknown items {unknown}")
        blocks[str(code)] = Block(
            code=str(code),
            label=label.get("en") or next(iter(label.values()), str(code)),
            source=str(spec.get("source", f"{code}{{id}}")),
            optional=bool(spec.get("optional", False)),
            prompt=MappingProxyType(_texts(spec.get("prompt"))),
            sources=MappingProxyType(srcs),
            offset=int(spec.get("offset") or 0),
            scale_min=bmin, scale_max=bmax,
            label_text=MappingProxyType(label),
        )
    outcomes = [c for c, spec in (raw.get("columns") or {}).items()
                if isinstance(spec, dict) and spec.get("role") == "outcome"]
    if not blocks and not outcomes:
        bad("at least one rating block is needed, or an outcome column (nps, overall_sat, ces) for a study of "
            "the KPIs alone")

    dimensions, dimension_text = {}, {}
    for d, spec in (raw.get("dimensions") or {}).items():
        its = spec.get("items", []) if isinstance(spec, dict) else spec
        its = tuple(item_id(i) for i in its)
        unknown = [i for i in its if i not in items]
        if unknown:
            bad(f"dimension {d!r} names unknown items {unknown}")
        dimensions[str(d)] = its
        dimension_text[str(d)] = MappingProxyType(_texts(spec.get("text") if isinstance(spec, dict) else None))
    seen: dict[str, str] = {}
    for d, its in dimensions.items():
        for i in its:
            if i in seen:
                bad(f"item {i!r} is in two dimensions ({seen[i]!r} and {d!r})")
            seen[i] = d

    reverse = tuple(item_id(i) for i in (raw.get("reverse") or []))
    if any(i not in items for i in reverse):
        bad(f"reverse-keyed items {[i for i in reverse if i not in items]} are not items")

    imp = raw.get("importance")
    importance = None
    if imp:
        importance = Importance(
            source=str(imp.get("source", "I_{dimension}")),
            total=float(imp.get("total", 100)),
            optional=bool(imp.get("optional", True)),
        )
        if not dimensions:
            bad("importance points need dimensions to be shared over")

    columns = {}
    for name, spec in (raw.get("columns") or {}).items():
        spec = spec or {}
        ctype = spec.get("type", "text")
        if ctype not in COLUMN_TYPES:
            bad(f"column type {ctype!r} is not one of {', '.join(COLUMN_TYPES)}{_suggest(ctype, COLUMN_TYPES)}",
                column=str(name))
        if ctype == "rating" and not ("min" in spec and "max" in spec):
            bad("a rating column needs min and max", column=str(name))
        top = spec.get("top_boxes", 2)
        if ctype == "rating" and isinstance(top, int) and "min" in spec and "max" in spec and not (
                1 <= top <= spec["max"] - spec["min"]):
            bad(f"top_boxes {top} does not fit the scale {spec['min']}–{spec['max']}", column=str(name))
        columns[str(name)] = ColumnSpec(
            name=str(name),
            type=ctype,
            source=spec.get("source"),
            required=bool(spec.get("required", False)),
            role=spec.get("role"),
            min=spec.get("min", 0 if spec.get("role") == "weight" else None),  # a weight is never negative
            max=spec.get("max"),
            missing_codes=MappingProxyType({c: str(v) for k, v in (spec.get("missing_codes") or {}).items()
                                            if (c := missing_code(k)) is not None}),
            labels=MappingProxyType({_code(k): str(v) for k, v in (spec.get("labels") or {}).items()}),
            top_boxes=int(top) if isinstance(top, int) else 2,
            text=MappingProxyType(_texts(spec.get("text"))),
        )
    kano = parse_kano(raw.get("kano"), dimensions, bad) if isinstance(raw.get("kano"), dict) else None
    checklist = (parse_checklist(raw.get("checklist"), dimensions, bad) if isinstance(raw.get("checklist"), dict)
                 else None)
    owners = _owners(raw.get("owners"), bad)
    causes = _causes(raw.get("causes"), bad)
    if problems:
        raise SQMDataError(str(path), problems)

    return Instrument(
        name=str(raw["name"]),
        title=str(raw.get("title", raw["name"])),
        scale_min=smin,
        scale_max=smax,
        missing_codes=MappingProxyType(missing),
        blocks=MappingProxyType(blocks),
        dimensions=MappingProxyType(dimensions),
        items=items,
        item_text=MappingProxyType({k: MappingProxyType(v) for k, v in item_text.items()}),
        dimension_text=MappingProxyType(dimension_text),
        reverse=reverse,
        importance=importance,
        columns=MappingProxyType(columns),
        path=path,
        model=raw.get("model") if isinstance(raw.get("model"), dict) else None,
        encoding=raw.get("encoding") or None,
        sheet=raw.get("sheet"),
        survey_files=tuple(str(f) for f in ((raw.get("survey") or {}).get("files") or ())),
        survey_on=str((raw.get("survey") or {}).get("on") or ""),
        header_row=int(raw.get("header_row") or 1),
        currency=str(raw.get("currency") or "").strip(),
        kano=kano,
        checklist=checklist,
        owners=owners,
        causes=causes,
        scale_labels=MappingProxyType({float(k): str(v) for k, v in (scale.get("labels") or {}).items()
                                       if isinstance(k, (int, float))}),
    )
