"""Survey files as real studies and survey platforms deliver them, for the examples and the tests.

:func:`write_shape` writes one data folder (the survey file and its ``instrument.yaml``) for each of the shapes
in :data:`SHAPES`: 5-, 7-, 9- and 10-point scales, SERVQUAL, SERVPERF and the three-column format, reverse-keyed
items, a one-off study without dates, Chinese segment names in a GB18030 file, an SPSS file with value labels
and user-missing codes, and exports of Qualtrics, SurveyMonkey, Google Forms and 问卷星 (Wenjuanxing) with
their own headers, dates and durations. The answers come from a simple one-factor-per-dimension model, so
dimensions hang together and reverse-keyed items are answered the other way round, as people do.

``sqm synth --shapes DIR`` writes them all; ``data/examples/`` holds the platform exports, each with the
instrument file that reads it as it is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml


@dataclass(frozen=True)
class Shape:
    """One survey shape: its design and the file it is delivered as."""

    name: str
    blocks: tuple[str, ...] = ("E", "P")
    scale: tuple[int, int] = (1, 7)
    dimensions: int = 5
    items_per_dimension: int = 4
    reverse: tuple[str, ...] = ()
    quarters: tuple[str, ...] = ("2026Q2", "2026Q3")  # () = a one-off study without dates
    segment: str = "region"
    segment_values: tuple[str, ...] = ("North", "South", "East", "West")
    overall_sat: tuple[int, int] | None = (1, 7)
    nps: bool = True
    ces: tuple[int, int] | None = None
    missing_code: int | None = None  # a "don't know" code used for some answers
    fmt: str = "csv"  # csv, xlsx, sav, gb18030, qualtrics, surveymonkey, googleforms, wjx
    n: int = 160
    seed: int = 7
    notes: str = ""
    extra: dict = field(default_factory=dict)


SHAPES: dict[str, Shape] = {s.name: s for s in (
    Shape("servqual7_reverse", reverse=("04", "11"), notes="SERVQUAL, 7 points, two reverse-keyed items"),
    Shape("servperf5_six", blocks=("P",), scale=(1, 5), dimensions=6, items_per_dimension=3, reverse=("03", "08"),
          overall_sat=(1, 5), nps=False, ces=(1, 5), segment="branch", segment_values=("Ashford", "Barton", "Colby"),
          fmt="xlsx", notes="SERVPERF, 5 points, six dimensions, two reverse-keyed items, CSAT and CES on 1–5"),
    Shape("ten_point", scale=(0, 10), dimensions=4, items_per_dimension=3, quarters=("2026Q3",), missing_code=99,
          overall_sat=(0, 10), segment="store", segment_values=("S1", "S2", "S3"),
          notes="E and P on 0–10, 99 = don't know, one quarter"),
    Shape("three_column9", blocks=("A", "D", "P"), scale=(1, 9), items_per_dimension=3, overall_sat=None, nps=False,
          notes="three-column format (minimum, desired, perceived) on 1–9, no outcome question"),
    Shape("oneoff_study", dimensions=4, quarters=(), segment="sex", segment_values=("female", "male"),
          overall_sat=(1, 5), nps=False, notes="a one-off study without dates; satisfaction on 1–5"),
    Shape("zh_gb18030", dimensions=5, items_per_dimension=3, segment_values=("华北", "华南", "华东", "华西"),
          fmt="gb18030", notes="GB18030 file whose only Chinese text is the region names"),
    Shape("spss_labels", dimensions=4, items_per_dimension=3, reverse=("02",), fmt="sav",
          notes="SPSS .sav: regions as labelled codes 1–4, 98/99 declared user-missing on the items"),
    Shape("qualtrics", blocks=("P",), scale=(1, 5), dimensions=5, items_per_dimension=3, overall_sat=(1, 5),
          fmt="qualtrics", notes="Qualtrics CSV export (three header rows, Q-numbered columns)"),
    Shape("surveymonkey", blocks=("P",), scale=(1, 5), dimensions=4, items_per_dimension=3, overall_sat=(1, 5),
          nps=True, fmt="surveymonkey", notes="SurveyMonkey CSV export (two header rows, a matrix question)"),
    Shape("googleforms", blocks=("P",), scale=(1, 5), dimensions=4, items_per_dimension=3, overall_sat=(1, 5),
          nps=False, fmt="googleforms", notes="Google Forms CSV (Timestamp, grid questions as 'Question [row]')"),
    Shape("wjx", dimensions=5, items_per_dimension=3, overall_sat=(1, 5), fmt="wjx",
          segment_values=("华北", "华南", "华东", "华西"),
          notes="问卷星 Excel export: numbered questions 1–30, full-width brackets, 所用时间 as 215秒"),
)}

DIMENSION_NAMES = ["staff", "speed", "place", "trust", "care", "access"]
DIMENSION_ZH = {"staff": "员工", "speed": "速度", "place": "环境", "trust": "信任", "care": "关怀", "access": "便利"}
BLOCK_LABEL = {"E": "expectation", "P": "perception", "A": "minimum adequate", "D": "desired"}
BLOCK_ZH = {"E": "期望", "P": "感知", "A": "最低", "D": "理想"}


def _items(shape: Shape) -> dict[str, list[str]]:
    dims, k = {}, 1
    for d in DIMENSION_NAMES[: shape.dimensions]:
        dims[d] = [f"{k + j:02d}" for j in range(shape.items_per_dimension)]
        k += shape.items_per_dimension
    return dims


def canonical_answers(shape: Shape) -> pd.DataFrame:
    """The answers as respondents gave them (reverse-keyed items answered the other way round), under canonical
    names (``E01``, ``P01``, ``overall_sat``, …), with ``survey_date`` (when the shape has dates), the segment
    and ``duration_sec``: the data every export of the shape carries."""
    rng = np.random.default_rng(shape.seed)
    n, (lo, hi) = shape.n, shape.scale
    dims = _items(shape)
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    general = rng.normal(size=n)
    seg = rng.integers(0, len(shape.segment_values), n)
    out: dict[str, np.ndarray] = {}
    p_scores = []
    for di, (d, items) in enumerate(dims.items()):
        f = 0.6 * general + 0.8 * rng.normal(size=n) - 0.15 * (seg == 1) * (di % 2)
        levels = {"E": 0.55, "D": 0.6, "A": -0.1, "P": 0.1 - 0.05 * di}
        for b in shape.blocks:
            shift = levels[b]
            for i in items:
                z = shift + (0.75 if b == "P" else 0.45) * f + 0.55 * rng.normal(size=n)
                x = np.clip(np.rint(mid + half * 0.45 * z + 0.35 * half * (b in "ED")), lo, hi)
                if i in shape.reverse:
                    x = lo + hi - x
                out[f"{b}{i}"] = x
                if b == "P":
                    p_scores.append(z)
    perf = np.mean(p_scores, axis=0)
    df = pd.DataFrame(out)
    if shape.missing_code is not None:  # some "don't know" answers
        for c in list(df.columns)[::5]:
            df.loc[rng.random(n) < 0.04, c] = shape.missing_code
    for c in list(df.columns)[1::7]:  # and some skipped questions
        df.loc[rng.random(n) < 0.03, c] = np.nan
    if shape.overall_sat is not None:
        a, b = shape.overall_sat
        df["overall_sat"] = np.clip(np.rint((a + b) / 2 + (b - a) * 0.3 * (perf + 0.4 * rng.normal(size=n))), a, b)
    if shape.nps:
        df["nps"] = np.clip(np.rint(7 + 2.2 * (perf + 0.5 * rng.normal(size=n))), 0, 10)
    if shape.ces is not None:
        a, b = shape.ces
        df["ces"] = np.clip(np.rint((a + b) / 2 + (b - a) * 0.25 * (perf + 0.6 * rng.normal(size=n))), a, b)
    df.insert(0, shape.segment, np.array(shape.segment_values, dtype=object)[seg])
    if shape.quarters:
        starts = [pd.Period(q, "Q").start_time for q in shape.quarters]
        which = rng.integers(0, len(starts), n)
        day = rng.integers(0, 88, n)
        df.insert(0, "survey_date", [starts[w] + pd.Timedelta(days=int(d), seconds=int(s)) for w, d, s in
                                     zip(which, day, rng.integers(28_800, 72_000, n))])
    df.insert(0, "duration_sec", rng.integers(180, 600, n))
    df.insert(0, "respondent_id", [f"R{k:05d}" for k in range(1, n + 1)])
    return df


def _item_text(shape: Shape, item: str, dim: str) -> dict[str, str]:
    return {"en": f"The {dim} of the service, aspect {int(item)}",
            "zh": f"{DIMENSION_ZH[dim]}方面{int(item)}"}


def instrument_doc(shape: Shape) -> dict:
    """The instrument file (as a mapping) that reads the shape's file as it is delivered."""
    dims = _items(shape)
    lo, hi = shape.scale
    doc: dict = {"name": shape.name, "title": f"Example survey: {shape.notes}", "scale": {"min": lo, "max": hi}}
    if shape.missing_code is not None:
        doc["missing_codes"] = {shape.missing_code: "don't know"}
    blocks = {b: {"label": {"en": BLOCK_LABEL[b], "zh": BLOCK_ZH[b]}} for b in shape.blocks}
    columns: dict = {"respondent_id": {"type": "id"}}
    if shape.quarters:
        columns["survey_date"] = {"type": "date"}
    columns["duration_sec"] = {"type": "duration"}
    columns[shape.segment] = {"type": "category", "role": "segment"}
    if shape.overall_sat is not None:
        columns["overall_sat"] = {"type": "rating", "min": shape.overall_sat[0], "max": shape.overall_sat[1],
                                  "role": "outcome", "text": {"en": "overall satisfaction", "zh": "总体满意度"}}
    if shape.nps:
        columns["nps"] = {"type": "rating", "min": 0, "max": 10, "role": "outcome",
                          "text": {"en": "likelihood to recommend", "zh": "推荐意愿"}}
    if shape.ces is not None:
        columns["ces"] = {"type": "rating", "min": shape.ces[0], "max": shape.ces[1], "role": "outcome"}
    fmt = shape.fmt
    k = sum(len(v) for v in dims.values())
    if fmt == "qualtrics":
        blocks["P"]["source"] = "Q1_{num}"
        columns["respondent_id"]["source"] = "ResponseId"
        columns["survey_date"]["source"] = "StartDate"
        columns["duration_sec"]["source"] = "Duration (in seconds)"
        columns[shape.segment]["source"] = "Q2"
        columns["overall_sat"]["source"] = "Q3"
        if shape.nps:
            columns["nps"]["source"] = "Q4"
    elif fmt == "surveymonkey":
        blocks["P"]["source"] = "How well do we do on each of these? - *aspect {num}"
        columns["respondent_id"]["source"] = "Respondent ID"
        columns["survey_date"] = {"type": "date", "source": "Start Date"}
        columns.pop("duration_sec")
        columns[shape.segment]["source"] = "Which region are you in?"
        columns["overall_sat"]["source"] = "Overall, how satisfied are you?"
        columns["nps"]["source"] = "How likely are you to recommend us to a friend?"
    elif fmt == "googleforms":
        blocks["P"]["sources"] = {i: f"How well do we do? [{_item_text(shape, i, d)['en']}]"
                                  for d, its in dims.items() for i in its}
        columns.pop("respondent_id")
        columns["survey_date"] = {"type": "date", "source": "Timestamp"}
        columns.pop("duration_sec")
        columns[shape.segment]["source"] = "Region"
        columns["overall_sat"]["source"] = "Overall satisfaction"
    elif fmt == "wjx":
        for b, offset in zip(shape.blocks, range(0, k * len(shape.blocks), k)):
            blocks[b]["source"] = "{num}、*(" + BLOCK_ZH[b] + ")"
            blocks[b]["offset"] = offset
        last = k * len(shape.blocks)
        columns["respondent_id"]["source"] = "序号"
        columns["survey_date"] = {"type": "date", "source": "提交答卷时间"}
        columns["duration_sec"]["source"] = "所用时间"
        columns[shape.segment]["source"] = f"{last + 1}、您所在的区域"
        columns["overall_sat"]["source"] = f"{last + 2}、您对本公司的总体满意度"
        columns["nps"]["source"] = f"{last + 3}、您向朋友推荐本公司的可能性有多大"
    elif fmt == "sav":
        doc["missing_codes"] = {}  # the file declares its own (98, 99): read from it
    doc["blocks"] = blocks
    if shape.reverse:
        doc["reverse"] = list(shape.reverse)
    doc["dimensions"] = {d: {"items": its, "text": {"en": d.capitalize(), "zh": DIMENSION_ZH[d]}}
                         for d, its in dims.items()}
    doc["items"] = {i: _item_text(shape, i, d) for d, its in dims.items() for i in its}
    doc["columns"] = columns
    return doc


def _header(shape: Shape, col: str, doc: dict) -> str:
    """The header a canonical column has in the shape's file."""
    for b, spec in doc["blocks"].items():
        if col.startswith(b) and col[len(b):].isdigit():
            i = col[len(b):]
            if "sources" in spec:
                return spec["sources"][i]
            num = str(int(i) + spec.get("offset", 0))
            src = spec.get("source", b + "{id}").replace("{id}", i).replace("{num}", num)
            if shape.fmt == "wjx":
                d = next(d for d, its in _items(shape).items() if i in its)
                return src.replace("*", _item_text(shape, i, d)["zh"]).replace("(", "（").replace(")", "）")
            if shape.fmt == "surveymonkey":
                d = next(d for d, its in _items(shape).items() if i in its)
                return src.replace("*aspect {num}".replace("{num}", num), _item_text(shape, i, d)["en"])
            return src
    spec = doc["columns"].get(col, {})
    return spec.get("source", col)


def write_shape(shape: Shape | str, out_dir: str | Path) -> Path:
    """Write one shape's survey file and ``instrument.yaml`` into ``out_dir`` (created); returns the folder."""
    shape = SHAPES[shape] if isinstance(shape, str) else shape
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    df = canonical_answers(shape)
    doc = instrument_doc(shape)
    (out / "instrument.yaml").write_text(
        f"# {shape.notes}\n" + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120,
                                                 default_flow_style=None), encoding="utf-8")
    keep = [c for c in df.columns if c in doc["columns"] or any(
        c.startswith(b) and c[len(b):].isdigit() for b in doc["blocks"])]
    raw = df[keep].rename(columns={c: _header(shape, c, doc) for c in keep})
    ints = [c for c in raw.columns if pd.api.types.is_float_dtype(raw[c])]
    fmt = shape.fmt
    if fmt == "csv":
        raw.to_csv(out / "survey.csv", index=False)
    elif fmt == "gb18030":
        raw.to_csv(out / "survey.csv", index=False, encoding="gb18030")
    elif fmt == "xlsx":
        raw.to_excel(out / "survey.xlsx", index=False)
    elif fmt == "sav":
        _write_sav(shape, df[keep], out / "survey.sav")
    elif fmt == "qualtrics":
        body = raw.astype(object).where(raw.notna(), "")
        for c in ints:
            body[c] = [("" if v == "" else str(int(v))) for v in body[c]]
        body["StartDate"] = [str(v) for v in df["survey_date"]]
        texts = {c: ("Response ID" if c == "ResponseId" else f"Question text of {c}") for c in body.columns}
        imports = {c: f'{{"ImportId":"{c}"}}' for c in body.columns}
        pd.concat([pd.DataFrame([texts, imports]), body], ignore_index=True).to_csv(out / "survey.csv", index=False)
    elif fmt == "surveymonkey":
        matrix = "How well do we do on each of these?"
        top, sub = [], []
        for c in raw.columns:
            if c.startswith(matrix + " - "):
                top.append(matrix if not any(t == matrix for t in top) else "")
                sub.append(c[len(matrix) + 3:])
            else:
                top.append(c)
                sub.append("Response" if c not in ("Respondent ID", "Start Date") else "")
        body = raw.astype(object).where(raw.notna(), "")
        for c in ints:
            body[c] = [("" if v == "" else str(int(v))) for v in body[c]]
        body["Start Date"] = [d.strftime("%m/%d/%Y %I:%M:%S %p") for d in df["survey_date"]]
        lines = [top, sub] + body.values.tolist()
        pd.DataFrame(lines).to_csv(out / "survey.csv", index=False, header=False)
    elif fmt == "googleforms":
        body = raw.astype(object).where(raw.notna(), "")
        body["Timestamp"] = [d.strftime("%Y/%m/%d %I:%M:%S %p") for d in df["survey_date"]]
        for c in ints:
            body[c] = [("" if v == "" else str(int(v))) for v in body[c]]
        body.to_csv(out / "survey.csv", index=False)
    elif fmt == "wjx":
        body = raw.astype(object).where(raw.notna(), "")
        body["序号"] = list(range(1, len(body) + 1))
        body["提交答卷时间"] = [d.strftime("%Y/%m/%d %H:%M:%S") for d in df["survey_date"]]
        body["所用时间"] = [f"{int(s)}秒" for s in df["duration_sec"]]
        first = ["序号", "提交答卷时间", "所用时间"]
        body[first + [c for c in body.columns if c not in first]].to_excel(out / "survey.xlsx", index=False)
    else:  # pragma: no cover
        raise ValueError(f"unknown format {fmt!r}")
    return out


def _write_sav(shape: Shape, df: pd.DataFrame, path: Path) -> None:
    """An SPSS file: the segment as codes 1–k with value labels, 98/99 as declared user-missing item codes."""
    import pyreadstat

    rng = np.random.default_rng(shape.seed + 1)
    data = df.copy()
    codes = {v: k for k, v in enumerate(shape.segment_values, start=1)}
    data[shape.segment] = data[shape.segment].map(codes).astype(float)
    items = [c for c in data.columns if c[:1] in "EPAD" and c[1:].isdigit()]
    for c in items[::3]:
        data.loc[rng.random(len(data)) < 0.05, c] = 98.0
        data.loc[rng.random(len(data)) < 0.03, c] = 99.0
    data["survey_date"] = pd.to_datetime(data["survey_date"])
    labels = {shape.segment: {float(k): v for v, k in codes.items()}}
    labels.update({c: {98.0: "don't know", 99.0: "refused"} for c in items})
    pyreadstat.write_sav(data, str(path), variable_value_labels=labels,
                         missing_ranges={c: [98.0, 99.0] for c in items})


def write_all(out_dir: str | Path) -> list[Path]:
    """Every shape into ``out_dir/<name>``."""
    return [write_shape(s, Path(out_dir) / name) for name, s in SHAPES.items()]
