"""A first instrument file from a survey file's headers: ``sqm instrument draft FILE -o instrument.yaml``.

:func:`draft_instrument` reads a survey export as it is and guesses what an instrument file says: the rating
blocks (expectation and perception items recognised from markers such as 期望/感知, Expectation/Perception,
기대/인지 or column names like ``E01``/``P_1``, importance and per-item satisfaction blocks), where each item is
found (a header pattern with the question numbering, or the exact header of each item), the answer scale and
codes above it, ids, dates, durations, segments (few distinct values) and outcomes (overall satisfaction,
likelihood to recommend on 0–10, customer effort). Every guess is marked with a comment; the dimensions are
left for the user to group (all items start in one).
"""
from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..errors import SQMError
from ..instruments import KANO_ANSWERS
from ..private import replace_atomically
from .checks import CLOCK_RE, DURATION_RE, _option_texts, answer_keys, find_column, norm_header
from .readers import read_table, table_start

# block code -> (label, markers found in headers, lower case after NFKC)
BLOCK_MARKERS = {
    "E": ("expectation", ("期望", "expectation", "expected", "기대", "should")),
    "P": ("perception", ("感知", "perception", "perceived", "performance", "인지", "实际")),
    "A": ("minimum adequate", ("minimum", "adequate", "最低")),
    "D": ("desired", ("desired", "理想")),
    "IMP": ("importance", ("重要", "importance", "important", "중요")),
    "SAT": ("satisfaction", ("满意", "satisf", "만족")),
}
PREFIX_RE = re.compile(r"^\s*([EPAD])[_\-. ]?0*(\d{1,3})\s*$", re.I)
NUMBER_RE = re.compile(r"^\s*(\d{1,3})((?:[^\w\s]|_)*(?:\d{1,2}(?:[^\w\s]|_)+)?)")
ID_NAMES = ("respondent_id", "respondentid", "respondent id", "responseid", "response id", "response_id", "id",
            "序号", "编号", "答卷编号", "응답자", "번호")
DATE_WORDS = ("date", "time", "timestamp", "submitted", "提交", "时间", "日期", "날짜", "일시", "startdate",
              "enddate")
DURATION_WORDS = ("duration", "所用时间", "用时", "答题时长", "소요", "seconds")
SEGMENT_NAMES = {"region": ("region", "区域", "地区", "大区", "지역"), "sex": ("sex", "gender", "性别", "성별"),
                 "age_band": ("age", "年龄", "나이", "연령"), "channel": ("channel", "渠道", "경로"),
                 "store": ("store", "branch", "门店", "网点", "매장", "지점")}
OUTCOME_WORDS = {"nps": ("recommend", "推荐", "추천", "nps"), "ces": ("effort", "easy", "省力", "费力", "ces"),
                 "overall_sat": ("overall", "satisf", "osat", "满意", "만족")}
OUTCOME_QUESTIONS = ("recommend", "overall", "推荐", "总体", "추천", "전반")
MAX_SEGMENT_VALUES = 12
# KANO pairs: markers of the dysfunctional question (looked for first: "dysfunctional" holds "functional",
# "不具备" holds "具备") and of the functional one, lower case after NFKC
KANO_DYSFUNCTIONAL = ("dysfunctional", "does not", "doesn't", "did not", "without", "if there is no", "if it had no",
                      "如果不提供", "如果没有", "不提供", "不具备", "反向题", "kd_")
KANO_FUNCTIONAL = ("functional", "if the service has", "if it has", "if there is", "if you have", "如果提供",
                   "如果有", "提供", "具备", "正向题", "kf_")
KANO_TEXTS = {t for texts in KANO_ANSWERS.values() for t in texts}


IP_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$|^[0-9a-f:]+:[0-9a-f:]+$", re.I)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.\w+$")


def _id_like(s: pd.Series) -> bool:
    """Whether a column can be the respondent id: not IP addresses, e-mail addresses (personal data, and not
    one per respondent) or free text (answers with spaces, or long)."""
    v = s.astype(str).str.strip()
    v = v[v != ""].head(500)
    if not len(v):
        return False
    return not (v.str.match(IP_RE).mean() > 0.5 or v.str.match(EMAIL_RE).mean() > 0.5
                or v.str.contains(r"\s").mean() > 0.5 or v.str.len().mean() > 40)


def _free_text(values: pd.Series) -> bool:
    """Answers to an open question: mostly different from one another, and sentences rather than codes (a dozen
    characters or more on average)."""
    v = values.astype(str).str.strip()
    return bool(len(v) >= 5 and v.nunique() >= 0.5 * len(v) and v.str.len().mean() >= 12)


def _serial_dates(num: pd.Series) -> bool:
    """Numbers that are Excel serial dates (1954–2119) in most filled cells."""
    v = num.dropna()
    return bool(len(v)) and bool(v.between(20_000, 80_000).mean() > 0.9)


def _norm(h: str) -> str:
    return norm_header(h).lower()


def _language(text: str) -> str:
    if re.search(r"[\uac00-\ud7a3]", text):
        return "ko"
    if re.search(r"[\u4e00-\u9fff]", text):
        return "zh"
    return "en"


def _numbers(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.astype(str).str.strip().replace("", np.nan), errors="coerce")


# answer options of common Likert scales, worst first, as 问卷星 ("按选项文本"), Qualtrics and SurveyMonkey export them
LIKERT_SETS = [
    ("非常不同意", "不同意", "一般", "同意", "非常同意"),
    ("非常不同意", "不同意", "有点不同意", "一般", "有点同意", "同意", "非常同意"),
    ("非常不同意", "比较不同意", "一般", "比较同意", "非常同意"),
    ("非常不满意", "不满意", "一般", "满意", "非常满意"),
    ("很不满意", "不满意", "一般", "满意", "很满意"),
    ("非常不满意", "比较不满意", "一般", "比较满意", "非常满意"),
    ("strongly disagree", "disagree", "neither agree nor disagree", "agree", "strongly agree"),
    ("strongly disagree", "disagree", "neutral", "agree", "strongly agree"),
    ("strongly disagree", "disagree", "somewhat disagree", "neither agree nor disagree", "somewhat agree", "agree",
     "strongly agree"),
    ("very dissatisfied", "dissatisfied", "neutral", "satisfied", "very satisfied"),
    ("very dissatisfied", "dissatisfied", "neither satisfied nor dissatisfied", "satisfied", "very satisfied"),
    ("very poor", "poor", "fair", "good", "excellent"),
]


def _likert(raw: pd.DataFrame) -> tuple[str, ...] | None:
    """The Likert option set the text answers of the file come from: the set that holds every answer of the
    most columns (at least two), or None."""
    texts = {}
    for h in raw.columns:
        v = answer_keys(raw[h]).dropna()
        v = set(v[v != ""])
        if v and not any(x.replace(".", "", 1).isdigit() for x in v):
            texts[h] = v
    best, cover = None, 1
    for options in LIKERT_SETS:
        k = sum(1 for v in texts.values() if v <= set(options) and len(v) >= 2)
        if k > cover:
            best, cover = options, k
    return best


def _wording(header: str, markers: tuple[str, ...]) -> str:
    """An item's wording from its header: numbering, markers in brackets and trailing punctuation left out."""
    t = norm_header(header)
    t = NUMBER_RE.sub("", t, count=1)
    t = re.sub(r"\([^)]*(" + "|".join(re.escape(m) for m in markers) + r")[^)]*\)?", "", t, flags=re.I)
    return t.strip(" .:-_、")


def _blocks(headers: list[str], item_like: dict[str, bool]) -> dict[str, dict]:
    """The rating blocks found: code -> {number: header}."""
    found: dict[str, dict[int, str]] = {}
    for h in headers:
        m = PREFIX_RE.match(norm_header(h))
        if m and item_like.get(h):
            found.setdefault(m.group(1).upper(), {})[int(m.group(2))] = h
    if found:
        return {b: {"numbers": v, "kind": "prefix"} for b, v in found.items() if len(v) >= 3}
    text_found: dict[str, dict[int, str]] = {}
    for h in headers:
        if not item_like.get(h):
            continue
        low = _norm(h)
        num = NUMBER_RE.match(low)
        if not num:
            continue
        for code, (_, markers) in BLOCK_MARKERS.items():
            if any(m in low for m in markers):
                text_found.setdefault(code, {}).setdefault(int(num.group(1)), h)
                break
    out = {b: {"numbers": v, "kind": "text"} for b, v in text_found.items() if len(v) >= 3}
    if out:
        return out
    # matrix questions (SurveyMonkey "Question - row", Google Forms "Question [row]"): each question is a block
    stems: dict[str, dict[int, str]] = {}
    for h in headers:
        m = re.match(r"^(.+?) - (.+)$", norm_header(h)) or re.match(r"^(.+?) ?\[(.+)\]$", norm_header(h))
        if m and item_like.get(h):
            rows = stems.setdefault(m.group(1), {})
            rows[len(rows) + 1] = h
    stems = {k: v for k, v in stems.items() if len(v) >= 3}
    if stems:
        codes = ["P"] if len(stems) == 1 else ["E", "P", "A", "D"][: len(stems)] if len(stems) <= 4 else []
        return {c: {"numbers": v, "kind": "matrix"} for c, v in zip(codes, stems.values())}
    # numbered columns of a platform export (Qualtrics Q1_1, Q1_2, …): each run sharing a prefix is a block
    runs: dict[str, dict[int, str]] = {}
    for h in headers:
        m = re.match(r"^(.*?[^\d])(\d{1,3})$", norm_header(h))
        if m and item_like.get(h):
            runs.setdefault(m.group(1), {})[int(m.group(2))] = h
    runs = {k: v for k, v in runs.items() if len(v) >= 3}
    codes = ["P"] if len(runs) == 1 else ["E", "P", "A", "D"][: len(runs)] if len(runs) <= 4 else []
    return {c: {"numbers": v, "kind": "numbered", "prefix": k} for c, (k, v) in zip(codes, runs.items())}


def _template(block: dict, headers: list[str], marker: str) -> tuple[str, int] | None:
    """A header pattern ``{num}<numbering>*<marker>*`` with a numbering offset that finds every item of the
    block and nothing else, or None."""
    numbers = sorted(block["numbers"])
    offset = numbers[0] - 1
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        offset = 0
    first = norm_header(block["numbers"][numbers[0]])
    m = NUMBER_RE.match(first)
    sep = m.group(2) if m else ""
    template = "{num}" + sep.replace("*", "") + "*" + marker + "*"
    for n, h in block["numbers"].items():
        if find_column(headers, template.replace("{num}", str(n))) != [h]:
            return None
    return template, offset


def draft_instrument(path: str | Path, *, encoding: str | None = None, sheet: str | int | None = 0,
                     study: str | None = None) -> str:
    """The text of a draft instrument file (YAML with comments) for the survey file at ``path``."""
    path = Path(path)
    header_row = 1
    if sheet in (0, None):  # a workbook with a cover sheet, or a title above the headers: where the table is
        sheet, header_row = table_start(path)
    raw, src = read_table(path, encoding=encoding, sheet=sheet, header_row=header_row)
    headers = list(raw.columns)
    likert = _likert(raw)  # answers exported as option texts: read through the scale's labels
    option_labels = dict(enumerate(likert or (), 1))
    numeric = {h: _numbers(_option_texts(raw[h], option_labels)) for h in headers}
    answered = {h: raw[h].astype(str).str.strip().ne("").sum() for h in headers}
    item_like = {h: answered[h] > 0 and numeric[h].notna().sum() >= 0.9 * answered[h]
                 and numeric[h].dropna().between(0, 100).all() and 2 <= numeric[h].dropna().nunique() <= 15
                 and (numeric[h].dropna() == numeric[h].dropna().round()).all() for h in headers}
    kano = _kano_pairs(headers, raw)
    for f_h, d_h, _ in kano:  # KANO questions are not rating items
        item_like[f_h] = item_like[d_h] = False
    # a Qualtrics question that asks for a recommendation or an overall judgement is an outcome, not an item
    outcome_asked = {h for h, text in src.questions.items() if any(w in _norm(text) for w in OUTCOME_QUESTIONS)}
    blocks = _blocks(headers, {h: v and h not in outcome_asked for h, v in item_like.items()})
    comments: list[str] = []
    # items: ids from the numbering (or position) of the block with most items
    main = max(blocks, key=lambda b: len(blocks[b]["numbers"])) if blocks else None
    used: set[str] = {h for f_h, d_h, _ in kano for h in (f_h, d_h)}
    block_docs: dict[str, dict] = {}
    item_text: dict[str, dict] = {}
    values = []
    width = 2
    all_item_ids: set[str] = set()
    if main is not None:
        for code, blk in blocks.items():
            nums = sorted(blk["numbers"])
            base = nums[0] - 1 if nums == list(range(nums[0], nums[0] + len(nums))) else 0
            ids = {n: f"{n - base:0{width}d}" for n in nums}
            all_item_ids.update(ids.values())
            spec: dict = {"label": BLOCK_MARKERS.get(code, (code,))[0]}
            if blk["kind"] == "prefix":
                if not all(norm_header(h) == f"{code}{ids[n]}" for n, h in blk["numbers"].items()):
                    spec["sources"] = {ids[n]: blk["numbers"][n] for n in nums}  # else the default E01, P01, …
            elif blk["kind"] == "matrix":
                spec["sources"] = {ids[n]: blk["numbers"][n] for n in nums}
                spec["label"] += " (guessed: check which block this question is)"
                for n in nums:
                    h = norm_header(blk["numbers"][n])
                    m = re.match(r"^.+? - (.+)$", h) or re.match(r"^.+? ?\[(.+)\]$", h)
                    words = m.group(1) if m else h
                    item_text.setdefault(ids[n], {_language(words): words})
            elif blk["kind"] == "numbered":
                template = blk["prefix"] + "{num}"
                if all(find_column(headers, template.replace("{num}", str(n))) == [h]
                       for n, h in blk["numbers"].items()):
                    spec["source"] = template
                    if base:
                        spec["offset"] = base
                else:
                    spec["sources"] = {ids[n]: blk["numbers"][n] for n in nums}
                spec["label"] += " (guessed from numbered columns: check which block this is)"
            else:
                markers = BLOCK_MARKERS[code][1]
                low = _norm(blk["numbers"][nums[0]])
                marker = next(m for m in markers if m in low)
                # the marker as written in the header (case kept)
                at = low.index(marker)
                marker_text = norm_header(blk["numbers"][nums[0]])[at:at + len(marker)]
                tpl = _template(blk, headers, marker_text)
                if tpl is not None:
                    spec["source"], off = tpl
                    if off:
                        spec["offset"] = off
                else:
                    spec["sources"] = {ids[n]: blk["numbers"][n] for n in nums}
                for n in nums:
                    words = _wording(blk["numbers"][n], markers)
                    if words and ids[n] not in item_text:
                        item_text[ids[n]] = {_language(words): words}
            block_docs[code] = spec
            used.update(blk["numbers"].values())
            values += [numeric[h].dropna() for h in blk["numbers"].values()]
    all_ids = sorted(all_item_ids)
    # the scale: the smallest usual one holding the answers; values above it are missing codes
    scale, codes = (1, 5), {}
    if values:
        v = pd.concat(values)
        lo = 0 if (v == 0).mean() >= 0.01 else 1  # a few stray zeros are typing errors, not a 0 on the scale
        hi = next((c for c in (5, 7, 9, 10) if (v > c).mean() < 0.03 and v.max() >= c), int(v.max()))
        scale = (lo, hi)
        for c in sorted(set(v[v > hi].astype(int))):
            codes[c] = "missing (guessed: above the scale)"
        comments.append(f"scale {lo}–{hi} read from the answers")
    # other columns
    columns: dict[str, dict] = {}
    notes: dict[str, str] = {}
    taken: set[str] = set()

    def add(name: str, spec: dict, header: str, note: str = ""):
        base, k = name, 2
        while name in columns:
            name, k = f"{base}_{k}", k + 1
        if norm_header(header) != name:
            spec = {**spec, "source": header}
        columns[name] = spec
        if note:
            notes[name] = note
        taken.add(header)

    id_header = next((h for h in headers if h not in used and _norm(h) in ID_NAMES and _id_like(raw[h])), None)
    for h in headers:
        if h in used:
            continue
        low = _norm(h)
        asked = _norm(src.questions.get(h, ""))  # Qualtrics: the question under the header
        words = f"{low} {asked}"
        s = raw[h].astype(str).str.strip()
        nonblank = s[s != ""]
        num = numeric[h]
        if not len(nonblank):
            continue
        if h == id_header and "respondent_id" not in columns:
            add("respondent_id", {"type": "id"}, h, "guessed: the respondent id")
            continue
        if any(w in low for w in DURATION_WORDS) or nonblank.head(50).map(
                lambda x: bool(DURATION_RE.match(x) and not x.replace(".", "").isdigit()) or bool(CLOCK_RE.match(x))).all():
            if "duration_sec" not in columns:
                add("duration_sec", {"type": "duration"}, h, "guessed: time taken to answer")
                continue
        if low == "quarter":
            add("quarter", {"type": "quarter"}, h)
            continue
        if low.startswith("i_") and num.notna().any():
            add(norm_header(h), {"type": "number", "min": 0}, h, "guessed: importance points")
            continue
        if any(w in low for w in DATE_WORDS) and (num.notna().sum() < 0.5 * len(nonblank) or _serial_dates(num)):
            parsed = pd.to_datetime(nonblank.head(200), errors="coerce", format="mixed") \
                if not _serial_dates(num) else num.dropna().head(200)
            if parsed.notna().mean() > 0.9:
                add("survey_date" if "survey_date" not in columns else re.sub(r"\W+", "_", low).strip("_") or "date",
                    {"type": "date"}, h, "guessed: the date answered (quarters come from it)")
                continue
        if item_like.get(h) and num.notna().any():
            lo_, hi_ = int(num.min()), int(num.max())
            kind = next((k for k, ws in OUTCOME_WORDS.items() if any(w in words for w in ws)), None)
            if kind == "nps" and lo_ >= 0 and hi_ <= 10 and hi_ >= 9:
                add("nps", {"type": "rating", "min": 0, "max": 10, "role": "outcome"}, h,
                    "guessed: likelihood to recommend, 0–10")
                continue
            if kind in ("overall_sat", "ces") and kind not in columns:
                add(kind, {"type": "rating", "min": min(lo_, 1), "max": hi_, "role": "outcome"}, h,
                    f"guessed: {'overall satisfaction' if kind == 'overall_sat' else 'customer effort'} "
                    f"(scale {min(lo_, 1)}–{hi_} read from the answers)")
                continue
        labelled = h in src.value_labels
        if item_like.get(h) and not labelled and num.notna().any():
            add(re.sub(r"[^a-z0-9]+", "_", low).strip("_")[:30] if low.isascii() else f"rating_{len(columns) + 1}",
                {"type": "rating", "min": int(num.min()), "max": int(num.max())}, h,
                "guessed: a rating; add role: outcome if it is one")
            continue
        if nonblank.nunique() <= MAX_SEGMENT_VALUES and nonblank.nunique() >= 2:
            seg = next((k for k, words in SEGMENT_NAMES.items() if any(w in low for w in words)), None)
            if seg is None and len(norm_header(h)) > 40:  # a long question with a few answers: not a segment
                add(f"question_{len(columns) + 1}", {"type": "category"}, h, "guessed: a multiple-choice question")
                continue
            name = seg or (re.sub(r"[^a-z0-9]+", "_", low).strip("_")[:30] if low.isascii() else "") or \
                f"segment_{sum(1 for c in columns.values() if c.get('role') == 'segment') + 1}"
            add(name, {"type": "category", "role": "segment"}, h,
                "guessed: a segment (few distinct values)" + ("" if seg else "; rename it"))
            continue
        if nonblank.is_unique and "respondent_id" not in columns and id_header is None and _id_like(raw[h]):
            add("respondent_id", {"type": "id"}, h, "guessed: unique in every row")
            continue
        if low in ("customer_id", "customer id", "customerid"):
            add("customer_id", {"type": "text"}, h)
            continue
        name = re.sub(r"[^a-z0-9]+", "_", low).strip("_")[:30] if low.isascii() and low else f"column_{len(columns) + 1}"
        if num.notna().sum() < 0.5 * len(nonblank) and _free_text(nonblank):
            add(name, {"type": "text", "role": "comment"}, h,
                "guessed: open answers (the voice-of-the-customer page reads them as survey comments)")
            continue
        add(name, {"type": "number" if num.notna().sum() >= 0.9 * len(nonblank) else "text"}, h)

    name = study or re.sub(r"[^\w]+", "_", path.parent.name if path.stem == "survey" else path.stem).strip("_")
    lines = [f"# Draft instrument for {path.name}, written by `sqm instrument draft`. Check every line marked",
             "# 'guessed', group the items into dimensions and name them; then run `sqm report --data FOLDER`.",
             f"name: {_dump(name or 'my_survey')}",
             f"title: {_dump((name or 'My survey').replace('_', ' '))}"]
    if src.encoding and src.encoding not in ("utf-8", "utf-8-sig"):
        lines.append(f"encoding: {src.encoding}  # the file's encoding, as detected")
    if sheet not in (0, None):
        lines.append(f"sheet: {_dump(sheet)}  # guessed: the sheet holding the answers")
    if header_row != 1:
        lines.append(f"header_row: {header_row}  # guessed: the headers' row (rows above it are a title)")
    if likert and scale == (1, len(likert)):
        labels = ", ".join(f"{k}: {_dump(t)}" for k, t in enumerate(likert, 1))
        lines.append(f"scale: {{min: 1, max: {len(likert)}, labels: {{{labels}}}}}  # guessed: the answers are "
                     "these options' texts")
    else:
        lines.append(f"scale: {{min: {scale[0]}, max: {scale[1]}}}  # guessed: {comments[0] if comments else 'no items found'}")
    if codes:
        lines.append("missing_codes:  # guessed: answers above the scale")
        lines += [f"  {c}: {_dump(lbl.split(' (')[0])}" for c, lbl in codes.items()]
    lines.append("blocks:" + ("" if block_docs else " {}  # no rating items recognised: add them"))
    for code, spec in block_docs.items():
        lines.append(f"  {code}:  # guessed from the headers")
        for k, v in spec.items():
            if isinstance(v, dict):
                lines.append(f"    {k}:")
                lines += [f"      {_dump(i)}: {_dump(h)}" for i, h in v.items()]
            else:
                lines.append(f"    {k}: {_dump(v)}")
    lines.append("reverse: []  # list reverse-keyed items here, e.g. [\"04\"]")
    if all_ids:
        lines.append("dimensions:  # EDIT: group the items into your dimensions")
        lines.append(f"  all: {{items: [{', '.join(_dump(i) for i in all_ids)}]}}")
    lines.append("items:" + ("" if all_ids else " []  # no rating items recognised"))
    for i in all_ids:
        t = item_text.get(i)
        lines.append(f"  {_dump(i)}: " + (f"{{{next(iter(t))}: {_dump(next(iter(t.values())))}}}" if t else
                                          f"{_dump('item ' + str(int(i)))}"))
    if kano:
        lines.append("kano:  # guessed: KANO pairs (a functional and a dysfunctional question per attribute); "
                     "check the pairs and name the attributes")
        lines.append("  attributes:")
        for k, (f_h, d_h, words) in enumerate(kano, 1):
            aid = re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")[:30] if words.isascii() and words else ""
            aid = aid if aid and aid[0].isalpha() else f"k{k:02d}"
            lines.append(f"    {aid}: {{text: {{{_language(words or 'x')}: {_dump(words or aid)}}}, sources: "
                         f"{{functional: {_dump(f_h)}, dysfunctional: {_dump(d_h)}}}}}")
    lines.append("columns:" + ("" if columns else " {}"))
    for cname, spec in columns.items():
        body = ", ".join(f"{k}: {_dump(v)}" for k, v in spec.items())
        note = f"  # {notes[cname]}" if cname in notes else ""
        lines.append(f"  {cname}: {{{body}}}{note}")
    return "\n".join(lines) + "\n"


def _kano_kind(header: str, answers: pd.Series) -> str | None:
    """``"D"`` (a dysfunctional question), ``"F"`` (functional) from the header's markers, ``"?"`` when the header
    says nothing but the answers are KANO options (like it … dislike it), else None."""
    low = _norm(header)
    if any(m in low for m in KANO_DYSFUNCTIONAL):
        kind = "D"
    elif any(m in low for m in KANO_FUNCTIONAL):
        kind = "F"
    else:
        kind = "?"
    keys = answer_keys(answers).dropna()
    keys = keys[keys != ""]
    if not len(keys):
        return None
    texts = keys.isin(KANO_TEXTS).mean() > 0.8
    codes = pd.to_numeric(keys, errors="coerce").isin([1, 2, 3, 4, 5]).mean() > 0.95
    if texts or (codes and kind != "?" and (low.startswith(("kf_", "kd_")) or "kano" in low
                                            or "functional" in low or "正向题" in low or "反向题" in low)):
        return kind
    return None


def _kano_wording(header: str) -> str:
    """What a KANO question asks about: the header without its markers and the usual question frame."""
    text = norm_header(header)
    for m in sorted(KANO_DYSFUNCTIONAL + KANO_FUNCTIONAL, key=len, reverse=True):
        text = re.sub(re.escape(m), " ", text, flags=re.I)
    text = re.sub(r"(how (do|would) you feel\??|您觉得如何|你觉得如何|您的感受|[?？:：()（）\[\]「」“”\"])", " ", text,
                  flags=re.I)
    text = re.sub(r"\s+", " ", text).strip(" ,.，。_-")
    # "If the branch has a coffee corner" / "If the branch does not have …": what follows the frame
    return re.sub(r"^if\s+(the\s+|you\s+|it\s+|there\s+)?(\w+\s+)?(has|have|had|offers|provides|is|are)\s+"
                  r"(an?\s+|the\s+)?", "", text, flags=re.I).strip()


def _kano_pairs(headers: list[str], raw: pd.DataFrame) -> list[tuple[str, str, str]]:
    """KANO pairs among the headers: (functional header, dysfunctional header, what they ask about). Marked
    headers pair with the dysfunctional question asking about the same thing (else the next one); unmarked
    columns answered with KANO options pair in file order, functional first."""
    kinds = {h: k for h in headers if (k := _kano_kind(h, raw[h])) is not None}
    fs = [h for h in headers if kinds.get(h) == "F"]
    ds = [h for h in headers if kinds.get(h) == "D"]
    pairs = []
    for f_h in fs:
        if not ds:
            break
        words = _kano_wording(f_h)
        best = max(ds, key=lambda d_h: (difflib.SequenceMatcher(None, words, _kano_wording(d_h)).ratio(),
                                        -abs(headers.index(d_h) - headers.index(f_h))))
        ds.remove(best)
        pairs.append((f_h, best, words))
    paired = {h for p in pairs for h in p[:2]}
    rest = [h for h in headers if h in kinds and h not in paired]  # the rest in file order, functional first
    k = 0
    while k + 1 < len(rest):
        a, b = rest[k], rest[k + 1]
        if kinds[a] != "D" and kinds[b] != "F":
            pairs.append((a, b, _kano_wording(a)))
            k += 2
        else:
            k += 1
    return pairs


def _dump(v) -> str:
    """A scalar as YAML writes it on one line: plain words as they are, other text double-quoted (JSON string
    syntax, which YAML reads as is), numbers and booleans as YAML writes them."""
    if isinstance(v, str):
        return v if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", v) and v.lower() not in (
            "yes", "no", "true", "false", "null", "on", "off", "y", "n") else json.dumps(v, ensure_ascii=False)
    return yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("...").strip()


def write_draft(path: str | Path, out: str | Path, *, encoding: str | None = None, force: bool = False) -> Path:
    """Write :func:`draft_instrument` of ``path`` to ``out`` (an existing file is kept unless ``force``): all at
    once (a full disk leaves the old file whole) and never through a symbolic link
    (:func:`sqmlib.private.replace_atomically`)."""
    out = Path(out)
    if os.path.lexists(out) and not force:  # a dangling link counts: nothing is written through it
        raise SQMError(f"{out} exists; it was left as it is (use --force to replace it)")
    text = draft_instrument(path, encoding=encoding)
    return replace_atomically(out, text.encode("utf-8"), force=force)  # the old file whole until the new one is

