"""What a reader sees instead of identifiers, in English and Simplified Chinese: one catalogue.

Every column, statistic, metric, KPI and category code the report shows has a label here (``share_below`` →
"customers below their expectation" / "低于期望的顾客比例"); the instrument adds its own wording for items,
dimensions and segment values (:func:`register_instrument`). The display layer (:mod:`sqmlib.show`) passes
every table, chart and text block through this module in the language chosen with :func:`use` (the
notebooks' ``lang`` parameter, ``sqm report --lang``); result objects, ``tables()`` and ``metrics.json`` keep
identifiers, so code that reads them does not change with the language.

- :func:`label` — an identifier's label, including composed names (``gap_South``, ``alpha_ci_low``,
  ``complaints_billing_365d``, ``region_South``, ``first_response_hours/critical``).
- :func:`frame` — a table with labelled headers, index and category codes.
- :func:`text` — narrative (Markdown): identifiers replaced by labels; in Chinese, sentence by sentence through
  the patterns in :mod:`sqmlib.labels_zh`.
- :func:`figure` — every text of a matplotlib figure (titles, axes, ticks, legends).

The training lessons speak this vocabulary too (:mod:`sqmlib.training.i18n` looks their words up here).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

import pandas as pd

from . import labels_zh as zh
from .catalogue import *  # noqa: F401,F403
from .catalogue import _CATALOGUE, _CODES
from .language import LANGS, Said, current, language, normalised, use  # noqa: F401  (labels.use, labels.current: the documented API)


def _parse(block: str) -> dict[str, tuple[str, str]]:
    out = {}
    for line in block.strip().splitlines():
        key, en, zh = (part.strip() for part in line.split(" | "))
        out[key] = (en, zh)
    return out


TERMS = _parse(_CATALOGUE)
CODES = _parse(_CODES)
# instrument wording (items, dimensions, segment values, column texts) registered at load: lang → {id: label}
_INSTRUMENT: dict[str, dict[str, str]] = {"en": {}, "zh": {}}
_ITEM_TEXT: dict[str, str] = {}  # English item wording -> Chinese

# composed names: (pattern, English, Chinese); {0}, {1} are the labelled parts
_COMPOSED = [
    (re.compile(r"^(.+)_ci_low$"), "{0}: 95% CI lower", "{0} 95%区间下限"),
    (re.compile(r"^(.+)_ci_high$"), "{0}: 95% CI upper", "{0} 95%区间上限"),
    (re.compile(r"^(.+)_ok$"), "{0} meets the threshold", "{0}达标"),
    (re.compile(r"^(.+)_p$"), "p ({0})", "{0} p 值"),
    (re.compile(r"^quadrant_(\w+)$"), "quadrant ({0} crosshair)", "象限（{0}分割线）"),
    (re.compile(r"^complaints_(\w+)_(\d+)d$"), "complaints: {0} ({1} days)", "近{1}天投诉：{0}"),
    (re.compile(r"^(\w+)_(\d+)d$"), "{0} ({1} days)", "近{1}天{0}"),
    (re.compile(r"^gap_(.+)$"), "gap: {0}", "差距：{0}"),
    (re.compile(r"^mean_(.+)$"), "mean: {0}", "均值：{0}"),
    (re.compile(r"^([EPAD])_(.+)$"), "{0}: {1}", "{0}：{1}"),
    (re.compile(r"^(region|plan|channel|store|segment|unit_type)_(.+)$"), "{0}: {1}", "{0}：{1}"),
    (re.compile(r"^(.+)/(.+)$"), "{0} / {1}", "{0} / {1}"),
]
_CROSSHAIR = {"mean": ("mean", "均值"), "median": ("median", "中位数"), "midpoint": ("midpoint", "量表中点")}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "zh" else pair[0]


def register_instrument(instrument) -> None:
    """Use an instrument's wording (replacing the previous instrument's): its dimensions' labels, its columns'
    texts and its items' wording (category columns' value labels are not: the survey's answers carry them from
    loading on, and a code such as "1" must not turn every "1" on a page into a label), so that a Chinese page shows the Chinese wording where
    the analysis wrote the English one."""
    forget_instrument()
    for lang in LANGS:
        words = _INSTRUMENT[lang]
        for dim, texts in (getattr(instrument, "dimension_text", {}) or {}).items():
            lab = texts.get(lang) or texts.get("en")
            if lab and lab != dim:
                words[dim] = lab
        for col, spec in (getattr(instrument, "columns", {}) or {}).items():
            texts = dict(getattr(spec, "text", {}) or {})
            txt = texts.get(lang) or (texts.get("en") if lang == "en" else None)
            if txt and txt != col:
                words[col] = txt
        kano = getattr(instrument, "kano", None)
        for a in (kano.attributes if kano is not None else ()):  # KANO attributes: their names
            lab = a.text.get(lang) or (a.text.get("en") if lang == "en" else None)
            if lab and lab != a.id:
                words[a.id] = lab
    for item, texts in (getattr(instrument, "item_text", {}) or {}).items():
        if texts.get("en") and texts.get("zh"):
            _ITEM_TEXT[texts["en"]] = texts["zh"]


def forget_instrument() -> None:
    """Back to the catalogue's words alone (no instrument's wording)."""
    for lang in LANGS:
        _INSTRUMENT[lang] = {}
    _ITEM_TEXT.clear()


def item_wording(english: str, lang: str | None = None) -> str:
    """An item's wording in ``lang`` given its English wording (the registered instrument's), else as given."""
    lang = lang or current()
    if lang != "zh":
        return english
    if english in _ITEM_TEXT:
        return _ITEM_TEXT[english]
    cut = english.rstrip("…").rstrip()
    if (cut != english and len(cut) >= 12) or len(cut) >= 30:  # a wording cut short on a chart
        for en, zh in _ITEM_TEXT.items():
            if en.startswith(cut):
                return zh
    return english


def _word(key: str, lang: str) -> str | None:
    """A whole identifier or code in the catalogue, else None."""
    if key in _INSTRUMENT[lang]:
        return _INSTRUMENT[lang][key]
    if key in TERMS:
        return _pick(TERMS[key], lang)
    if key in CODES:
        return _pick(CODES[key], lang)
    low = key.lower()
    if low != key and low in CODES and key[:1].isupper() and " " in key:
        return _pick(CODES[low], lang)
    return None


def label(name, lang: str | None = None) -> str:
    """The label of an identifier (column, statistic, metric, code); names it does not know come back as
    they are (item codes such as ``P01``, data values such as region names)."""
    lang = lang or current()
    if isinstance(name, tuple):
        return " / ".join(label(x, lang) for x in name)
    if not isinstance(name, str):
        return name
    key = name.strip()
    found = _word(key, lang)
    if found is not None:
        return found
    for pat, en_text, zh_text in _COMPOSED:
        m = pat.match(key)
        if m:
            parts = []
            for g in m.groups():
                if pat.pattern.startswith("^quadrant") and g in _CROSSHAIR:
                    parts.append(_pick(_CROSSHAIR[g], lang))
                else:
                    parts.append(label(g, lang))
            if all(p == g for p, g in zip(parts, m.groups())) and "_" in key and pat.pattern.startswith("^(.+)/"):
                break
            return (zh_text if lang == "zh" else en_text).format(*parts)
    if "_" in key and re.fullmatch(r"[a-z][a-z0-9_]*", key) and lang == "en":
        return key.replace("_", " ")  # a column of the user's own (e.g. waiting_time) reads as words
    return name


def code(value, lang: str | None = None):
    """A category value shown in a cell: catalogue codes and registered instrument labels, else unchanged."""
    lang = lang or current()
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return _pick(CODES[str(bool(value))], lang)
    if not isinstance(value, str):
        return value
    if re.fullmatch(r"[^:;]+: [\d,.%]+(?:; [^:;]+: [\d,.%]+)*", value) and lang == "zh":  # "name: count; name: count"
        return "；".join(f"{code(k.strip(), lang)}：{v.strip()}"
                        for k, v in (part.split(": ", 1) for part in value.split("; ")))
    if re.fullmatch(r"[\w/]+(?:; [\w/]+)+", value):  # a list of names ("tenure_days; nps")
        return ("；" if lang == "zh" else "; ").join(str(label(v, lang)) for v in value.split("; "))
    key = value.strip()
    if key in _INSTRUMENT[lang]:
        return _INSTRUMENT[lang][key]
    if key in CODES:  # a value: its meaning as a category ("metric" the invariance level, not the header "measure")
        return _pick(CODES[key], lang)
    if re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", key) or re.fullmatch(r"[A-Za-z]\w*/\w+", key) \
            or (re.fullmatch(r"[a-z][a-z0-9]*", key) and key in TERMS) \
            or (re.fullmatch(r"[A-Za-z]\w*_\w+", key) and any(p.match(key) for p, _, _ in _COMPOSED)):
        return label(key, lang)  # an identifier as a value (a feature, a metric): its label
    if lang == "zh":  # a fixed phrase of sqmlib's (a method, a verdict) or an item's wording
        if key in zh.PHRASES:
            return zh.PHRASES[key]
        wording = item_wording(key, lang)
        if wording != key:
            return wording
        if re.search(r"[A-Za-z]{3}", key):
            return translate_phrase(key)
    return value


def row_label(value, lang: str | None = None):
    """An index entry of a table: a statistic's label (``cfi``, ``brier``) or a category code's."""
    lang = lang or current()
    if isinstance(value, str) and value.strip() in TERMS:
        return label(value.strip(), lang)
    return code(value, lang)


def _map_labels(index: pd.Index, fn, lang: str) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return pd.MultiIndex.from_tuples([tuple(fn(x) for x in t) for t in index],
                                         names=[label(n, lang) if n else n for n in index.names])
    return pd.Index([fn(x) for x in index], name=label(index.name, lang) if index.name else index.name, dtype=object)


def frame(df: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """A copy of a table for a reader: column headers and index names labelled, index values and text cells
    that are category codes labelled. Numbers are untouched (formatting is :mod:`sqmlib.formats`'s)."""
    lang = lang or current()
    out = df.copy()
    for c in out.columns:
        col = out[c]
        if col.dtype == object or isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(col) \
                or pd.api.types.is_string_dtype(col):
            out[c] = col.astype(object).map(lambda v: code(v, lang))
    out.columns = _map_labels(out.columns, lambda x: label(x, lang), lang)
    if not pd.api.types.is_numeric_dtype(out.index) or isinstance(out.index, pd.MultiIndex):
        out.index = _map_labels(out.index, lambda x: row_label(x, lang) if isinstance(x, (str, bool)) else x, lang)
    elif out.index.name:
        out.index = out.index.rename(label(out.index.name, lang))
    if out.columns.duplicated().any():  # two identifiers with one label: keep them apart
        seen: dict = {}
        cols = []
        for c in out.columns:
            seen[c] = seen.get(c, 0) + 1
            cols.append(c if seen[c] == 1 else f"{c} ({seen[c]})")
        out.columns = pd.Index(cols, dtype=object)
    return out


_IDENT = re.compile(r"(?<![\w./-])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?![\w(/]|\.\w)")


def identifiers_to_labels(text: str, lang: str | None = None) -> str:
    """Identifiers in running text (``overall_sat``, ``waiting_time``) replaced by their labels."""
    lang = lang or current()
    return _IDENT.sub(lambda m: label(m.group(1), lang) if _known(m.group(1)) else m.group(1), text)


def _known(key: str) -> bool:
    return any(key in d for d in (TERMS, CODES, _INSTRUMENT["en"])) or any(p.match(key) for p, _, _ in _COMPOSED)


def text(markdown: str, lang: str | None = None) -> str:
    """Narrative Markdown in ``lang``: identifiers replaced by labels; in Chinese, each sentence translated
    through :mod:`sqmlib.labels_zh` (a sentence without a pattern stays as it is)."""
    lang = lang or current()
    if lang == "zh":
        return markdown if isinstance(markdown, Said) else translate_markdown(markdown)
    return identifiers_to_labels(markdown, lang)


def word(name, lang: str | None = None) -> str:
    """A name inside a sentence in ``lang``: its label, phrase or item wording in Chinese; as it is in English
    (where the display layer labels identifiers in the finished text)."""
    lang = lang or current()
    return _part("term", str(name)) if lang == "zh" else str(name)


def figure(fig, lang: str | None = None):
    """Every text of a matplotlib figure for a reader in ``lang``: identifiers labelled, Chinese through the
    chart phrases of :mod:`sqmlib.labels_zh`. Returns the figure."""
    lang = lang or current()
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter, FixedLocator, ScalarFormatter

    if lang == "zh":
        tr = translate_phrase
    else:
        def tr(s: str) -> str:
            return label(s, "en") if s.strip() in TERMS or s.strip() in CODES or _IDENT.fullmatch(s.strip()) \
                else identifiers_to_labels(s, "en")
    from matplotlib.category import StrCategoryFormatter

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            fmt = axis.get_major_formatter()
            if isinstance(fmt, FixedFormatter):
                fmt.seq = [tr(str(s)) for s in fmt.seq]
            elif isinstance(fmt, StrCategoryFormatter) or (
                    isinstance(axis.get_major_locator(), FixedLocator) and not isinstance(fmt, ScalarFormatter)):
                ticks = axis.get_majorticklabels()  # placed and formatted as a draw would, without drawing
                if ticks:
                    style, rotation = ticks[0].get_fontproperties(), ticks[0].get_rotation()
                    ha = ticks[0].get_horizontalalignment()
                    axis.set_ticks(axis.get_ticklocs(), [tr(t.get_text()) for t in ticks], fontproperties=style,
                                   rotation=rotation, ha=ha)
    for t in fig.findobj(Text):
        s = t.get_text()
        if s and s.strip():
            t.set_text(tr(s))
    return fig


def untranslated(fig, lang: str | None = None) -> list[str]:
    """Texts of a (translated) figure that still hold English words in a Chinese page (tick labels included;
    mathtext such as ``$10^{2}$`` and the words in :data:`KEEP` are fine)."""
    lang = lang or current()
    if lang != "zh":
        return []
    from matplotlib.text import Text

    for ax in fig.axes:  # tick labels and offsets as a draw would make them, without drawing
        for axis in (ax.xaxis, ax.yaxis):
            axis.get_majorticklabels()
            axis.get_minorticklabels()
    return sorted({t.get_text() for t in fig.findobj(Text)
                   if t.get_text().strip() and not t.get_text().startswith("$") and english_words(t.get_text())})


# tokens that stay as they are in Chinese text
KEEP = {"NPS", "CSAT", "CES", "LMG", "ROC", "AUC", "SERVQUAL", "SERVPERF", "FCR", "IT", "R²", "PR", "CFI", "TLI",
        "RMSEA", "SRMR", "AVE", "HTMT", "MSA", "VIF", "RIS", "ECE", "EMPC", "MPC", "WLSMV", "FIML", "ML", "PLS",
        "ACSI", "KPI", "CSV", "AIC", "BIC", "Cox", "Kano", "Pratt", "Welch", "Kruskal", "Wallis", "Holm",
        "Cronbach", "McDonald", "Fornell", "Larcker", "Brier", "Beta", "Lord", "Western", "Electric", "Wilcoxon",
        "Shapley", "SmartPLS", "seminr", "semTools", "lavaan", "psych", "SPSS", "Qualtrics", "Excel", "JupyterLab",
        "make", "explore", "CFA", "Kaplan", "Meier", "servqual", "servperf", "EFA", "PLS-SEM", "JSON", "UTF", "xlsx", "csv", "json", "html", "pdf", "PDF", "OLS", "ols", "Welch's", "dz", "sd",
        "Top", "Box", "top", "box", "KANO", "Fong", "Berger", "Timko", "Better", "Worse", "ROC-AUC", "PR-AUC", "ΔCFI", "ΔRMSEA", "Logit", "logit", "CI", "IPA",
        "ICC", "Krippendorff", "REML", "HC1", "bootstrap", "checklist", "PDCA", "NBD", "BG", "Pareto", "Gamma-Gamma", "Qini",
        "RFM", "CLV", "X-learner", "VIP", "lifetimes", "app", "APP", "Benjamini", "Hochberg", "Benjamini–Hochberg"}


def english_words(text: str, allowed: Iterable[str] = ()) -> list[str]:
    """Words of three or more Latin letters in ``text`` that are not in :data:`KEEP` or ``allowed`` (data
    values): what a Chinese page should not show."""
    ok = KEEP | set(allowed)
    text = re.sub(r"[\w./\\:-]+\.(?:csv|json|xlsx|xls|yaml|yml|pdf|html|sav|parquet|ipynb|md)\b", "", text)
    text = re.sub(r"(?:/[\w.-]+)+/?", "", text)  # paths
    text = re.sub(r"\b[0-9a-f]{7,40}\b", "", text)  # commits
    text = re.sub(r"\b(?:utf-8|utf8|gb18030|gbk|cp949|euc-kr|latin-1|cp1252)\b", "", text, flags=re.I)
    return [w for w in re.findall(r"[A-Za-z][A-Za-z'’-]{2,}", text) if w not in ok and w.strip("'’-") not in ok]


def phrase(text: str, lang: str | None = None) -> str:
    """A short text (a heading, a tile's label, a chart text) for a reader in ``lang``."""
    lang = lang or current()
    if lang == "zh":
        return translate_phrase(text)
    s = text.strip()
    if s in TERMS or s in CODES or s in _INSTRUMENT["en"] or _IDENT.fullmatch(s):
        return text.replace(s, str(label(s, "en")))
    return identifiers_to_labels(text, "en")


def html_text(markup: str, lang: str | None = None) -> str:
    """Markup built by sqmlib with the text between its tags for a reader in ``lang`` (values escaped)."""
    import html as _html

    lang = lang or current()

    def fix(m):
        raw = _html.unescape(m.group(1))
        if not raw.strip():
            return m.group(0)
        lead, core, trail = re.match(r"^(\s*)(.*?)(\s*)$", raw, flags=re.S).groups()
        if lang == "zh":
            lead = trail = ""
        return ">" + _html.escape(lead + phrase(core, lang) + trail, quote=False) + "<"

    return re.sub(r">([^<>]+)<", fix, markup)


# ---------------------------------------------------------------------------------------------------------
# Chinese: phrases and sentences through the patterns of sqmlib.labels_zh
# ---------------------------------------------------------------------------------------------------------
_EXTRA_WORDS = {"equal loadings, intercepts and residuals": "载荷、截距和残差均相等",
                "equal loadings and intercepts": "载荷和截距相等", "equal loadings": "载荷相等",
                "same structure": "结构相同", "dimension": "维度", "item": "题项"}


def _part(name: str, value: str) -> str:
    """A captured part of a sentence in Chinese, by the group's name: ``list`` a comma list of names,
    ``term``/``t2``… one name, ``s`` a sentence,
    ``rest`` any text; anything else (numbers, dates, file names) as it is."""
    if value is None:
        return ""
    if name in ("list", "blocks"):
        parts = re.split(r",\s*(?:and\s+)?|\s+and\s+", value)
        return "、".join(_part("term", p) for p in parts if p)
    if name in ("term", "lvl", "what") or re.fullmatch(r"t\d", name):
        v = value.strip()
        if v in _EXTRA_WORDS:
            return _EXTRA_WORDS[v]
        out = label(v, "zh")
        if out == v:
            out = translate_phrase(v)
        if out == v:  # an item's wording
            out = item_wording(v, "zh")
        return out
    if name == "kano":
        return {"excitement": "兴奋型", "performance": "期望型", "basic": "基本型"}.get(value, value)
    if name == "q" and re.search(r"[A-Za-z]{3}", value):  # "every respondent: the survey has no dates"
        return translate_phrase(value)
    if name == "ids":
        return value.replace(", ", "、")
    if name in ("s", "rest"):
        return translate_sentence(value)
    return value


def _apply(table, s: str) -> str | None:
    for pat, out in table:
        m = pat.fullmatch(s)
        if m:
            return out.format(**{k: _part(k, v) for k, v in m.groupdict().items()})
    return None


@lru_cache(maxsize=1)
def _en_labels() -> dict:
    """English label → Chinese label of the catalogue's terms and codes (a label two of them share in English is
    left out)."""
    seen, out = {}, {}
    for en, zh_ in list(TERMS.values()) + list(CODES.values()):
        seen[en] = seen.get(en, 0) + 1
        out[en] = zh_
    return {k: v for k, v in out.items() if seen[k] == 1 and k != v}


def translate_phrase(text: str) -> str:
    """A heading, label or chart text in Chinese; unknown texts are kept."""
    if not isinstance(text, str) or not text.strip():
        return text
    s = text.strip()
    if s in zh.PHRASES:
        return zh.PHRASES[s]
    found = label(s, "zh")
    if found != s:
        return found
    if s in _en_labels():  # a term's English label (a chart drawn in English): its Chinese
        return _en_labels()[s]
    out = _apply(zh.PATTERNS, s)
    if out is not None:
        return out
    m = re.fullmatch(r"(\d{2}) (.+)", s)  # an item: "05 does what it promised …"
    if m:
        wording = item_wording(m.group(2), "zh")
        if wording != m.group(2):
            return f"{m.group(1)} {wording}"
    out = _apply(zh.SENTENCES, s)
    if out is None and "; " in s:  # parts joined by "; "
        parts = [translate_phrase(p) for p in s.split("; ")]
        if parts != s.split("; "):
            return "；".join(parts)
    return out if out is not None else text


_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z*`(\d])")


def translate_sentence(s: str) -> str:
    """One sentence (Markdown) in Chinese through :data:`SENTENCES`, else through the phrases, else as is."""
    core = s.strip()
    if not core:
        return s
    out = _apply(zh.SENTENCES, core)
    if out is None:
        out = _apply(zh.SENTENCES, core.rstrip("."))
    if out is None:
        out = translate_phrase(core)
    return out


def translate_markdown(markdown: str) -> str:
    """sqmlib's Markdown in Chinese, line by line (list markers and headings kept), sentence by sentence."""
    lines = []
    for line in markdown.split("\n"):
        m = re.match(r"^(\s*(?:[-*] |\d+\. |#+ )?)(.*)$", line)
        prefix, body = m.group(1), m.group(2)
        if not body.strip():
            lines.append(line)
            continue
        whole = _apply(zh.SENTENCES, body.strip())
        if whole is None:
            parts = [translate_sentence(part) for part in _SPLIT.split(body)]
            whole = parts[0] if parts else ""
            for part in parts[1:]:  # Chinese sentences follow each other without a space
                whole += part if (whole.endswith(("。", "：", "）")) and not part[:1].isascii()) else " " + part
        lines.append(prefix + whole)
    return "\n".join(lines)
