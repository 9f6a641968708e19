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

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import yaml

from ..errors import Problem, SQMArgumentError, SQMDataError

BUILTIN_DIR = Path(__file__).resolve().parent
COLUMN_TYPES = ("id", "text", "category", "date", "quarter", "number", "rating", "bool")


@dataclass(frozen=True)
class Block:
    """One rating block (e.g. expectation ``E``): each item is rated once in it."""

    code: str
    label: str
    source: str  # template of the column header in the data file; "{id}" and "{num}" are replaced
    optional: bool = False
    prompt: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ColumnSpec:
    """A non-item column of the survey file."""

    name: str
    type: str = "text"
    source: str | None = None  # header (or glob pattern) in the data file; default: ``name``
    required: bool = False
    role: str | None = None  # "segment" or "outcome"
    min: float | None = None
    max: float | None = None
    missing_codes: Mapping[float, str] = field(default_factory=dict)


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
        Codes that mean "no answer of this kind" and become NaN on loading.
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

    # ---- names of things -------------------------------------------------------------------------------
    @property
    def scale(self) -> tuple[int, int]:
        return (self.scale_min, self.scale_max)

    @property
    def has_expectations(self) -> bool:
        return "E" in self.blocks

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
    def outcomes(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.role == "outcome"]

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
    return _parse(read_yaml(path), path)


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


def _texts(value) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"en": value}
    return {str(k): str(v) for k, v in value.items()}


def _parse(raw, path: Path) -> Instrument:
    problems: list[Problem] = []

    def bad(msg: str, column: str | None = None):
        problems.append(Problem(kind="instrument", message=msg, column=column))

    if not isinstance(raw, dict):
        raise SQMDataError(str(path), "an instrument file must be a YAML mapping")
    for key in ("name", "scale", "blocks", "items"):
        if key not in raw:
            bad(f"required key {key!r} is missing")
    if problems:
        raise SQMDataError(str(path), problems)

    scale = raw["scale"] or {}
    smin, smax = scale.get("min"), scale.get("max")
    if not (isinstance(smin, (int, float)) and isinstance(smax, (int, float)) and smin < smax):
        bad(f"scale needs numeric min < max, got min={smin!r} max={smax!r}")
        smin, smax = 0, 1

    items_raw = raw["items"]
    if isinstance(items_raw, list):
        items_raw = {str(i): {} for i in items_raw}
    items = tuple(str(k) for k in items_raw)
    if len(set(items)) != len(items):
        bad("item ids are not unique")
    item_text = {str(k): _texts(v) for k, v in items_raw.items()}

    missing = {}
    for code, label in (raw.get("missing_codes") or {}).items():
        try:
            c = float(code)
        except (TypeError, ValueError):
            bad(f"missing code {code!r} is not a number")
            continue
        if smin <= c <= smax:
            bad(f"missing code {code!r} ({label}) lies inside the scale {smin}–{smax}, so it would be ambiguous")
        missing[c] = str(label)

    blocks = {}
    for code, spec in (raw["blocks"] or {}).items():
        spec = spec or {}
        blocks[str(code)] = Block(
            code=str(code),
            label=str(spec.get("label", code)),
            source=str(spec.get("source", f"{code}{{id}}")),
            optional=bool(spec.get("optional", False)),
            prompt=MappingProxyType(_texts(spec.get("prompt"))),
        )
    if not blocks:
        bad("at least one rating block is needed")

    dimensions, dimension_text = {}, {}
    for d, spec in (raw.get("dimensions") or {}).items():
        its = spec.get("items", []) if isinstance(spec, dict) else spec
        its = tuple(str(i) for i in its)
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

    reverse = tuple(str(i) for i in (raw.get("reverse") or []))
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
            bad(f"column type {ctype!r} is not one of {', '.join(COLUMN_TYPES)}", column=str(name))
        if ctype == "rating" and not ("min" in spec and "max" in spec):
            bad("a rating column needs min and max", column=str(name))
        columns[str(name)] = ColumnSpec(
            name=str(name),
            type=ctype,
            source=spec.get("source"),
            required=bool(spec.get("required", False)),
            role=spec.get("role"),
            min=spec.get("min"),
            max=spec.get("max"),
            missing_codes=MappingProxyType({float(k): str(v) for k, v in (spec.get("missing_codes") or {}).items()}),
        )
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
    )
