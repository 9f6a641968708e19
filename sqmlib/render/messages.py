"""Words as keyed messages in gettext catalogues, one per language.

A sentence sqmlib shows is written once, where it is made, as ``msg(key, english, **parts)``: ``key`` names the
message (the catalogue's ``msgctxt``, so two messages with the same English text can be translated apart),
``english`` is its text with named placeholders (the ``msgid``), and ``parts`` fill them. The Chinese lives in
``sqmlib/locale/zh/LC_MESSAGES/sqm.po`` — an ordinary gettext catalogue a translator edits with any PO editor —
and is read from the ``.mo`` compiled from it (``make messages`` extracts, updates and compiles with Babel). A
placeholder carries its own format (``{n:,}``, ``{share:.1%}``), so each language's template decides how its
numbers read; a part given as :func:`term` (a dimension, segment, column or item) is shown in the reader's
language through the label catalogue.

``tests/test_messages.py`` fails when a message used in the code has no Chinese, when a translation drops or
adds a placeholder of its source, or when the compiled catalogue is older than the ``.po``.
"""
from __future__ import annotations

import gettext
import string
from functools import lru_cache
from pathlib import Path

from . import labels
from .language import Said, current

DOMAIN = "sqm"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"


class Term(str):
    """A name inside a message (a dimension, a segment or its value, a column, an item's wording): shown in the
    reader's language through the label catalogue."""


def term(name) -> Term:
    return Term(name)


class Terms(tuple):
    """Names listed inside a message, each shown as :class:`Term`, joined by the language's list separator."""


def terms(names) -> Terms:
    return Terms(str(n) for n in names)


@lru_cache(maxsize=None)
def _catalogue(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])


def placeholders(template: str) -> set[str]:
    """The named placeholders of a template (``{n:,}`` → ``n``)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def msg(key: str, english: str, /, *, lang: str | None = None, **parts) -> Said:
    """The message ``key`` in ``lang`` (default: the language chosen with :func:`sqmlib.labels.use`).

    >>> msg("audit.no_problems", "No value was outside its scale or unreadable.")
    'No value was outside its scale or unreadable.'
    """
    lang = lang or current()
    template = _catalogue(lang).pgettext(key, english)
    return Said(template.format(**{k: _part(v, lang) for k, v in parts.items()}))


def _part(value, lang: str):
    if isinstance(value, Term):
        return labels.word(value, lang)
    if isinstance(value, Terms):
        return listed((labels.word(v, lang) for v in value), lang)
    return value


def listed(parts, lang: str | None = None) -> str:
    """Parts of a sentence listed with the language's separator ("a, b" / "a、b")."""
    return msg("list.separator", ", ", lang=lang).join(parts)


def sentences(parts, lang: str | None = None) -> str:
    """Sentences one after the other ("A. B." / "甲。乙。")."""
    parts = list(parts)
    out = parts[0] if parts else ""
    for part in parts[1:]:
        out = msg("list.sentences", "{first} {then}", lang=lang, first=out, then=part)
    return Said(out)


def no_items_reason() -> str:
    """Why an analysis of rating items is absent from a study of the KPIs alone (NPS, CSAT, CES)."""
    return msg("unavailable.no_items", "the instrument has no rating items: this is a study of the KPIs alone "
               "(NPS, CSAT, CES), reported on the KPI page.")


def unweighted_note(column: str) -> str:
    """Said by an analysis that runs unweighted on a survey with sampling weights (``column``)."""
    return msg("unweighted", "Unweighted: this analysis does not apply the survey's sampling weights ({column}); "
               "the KPI page and the summary's KPIs do.", column=term(column))


def unavailable_line(reason: str) -> str:
    """The one line an analysis the data cannot support shows (:class:`sqmlib.results.Unavailable`)."""
    return msg("unavailable", "**Not available for this data:** {reason}", reason=reason)


def clauses(parts, lang: str | None = None) -> str:
    """Clauses of a sentence one after the other ("a; b" / "a；b")."""
    return msg("list.clauses", "; ", lang=lang).join(parts)


def period(quarter: str):
    """What an analysis covers, named inside a sentence: its quarter, or every respondent of a survey without
    dates."""
    return term(quarter) if quarter else msg("scope.undated", "every respondent: the survey has no dates")


def bullets(lines) -> str:
    """Markdown bullet list; still :class:`Said` when every line is."""
    lines = list(lines)
    out = "\n".join(f"- {line}" for line in lines)
    return Said(out) if lines and all(isinstance(line, Said) for line in lines) else out


# ---------------------------------------------------------------------------------------------------------
# the catalogues: extracted from the code, updated and compiled with Babel (a development tool: `make messages`)
# ---------------------------------------------------------------------------------------------------------
PACKAGE_DIR = Path(__file__).resolve().parents[1]
KEYWORDS = {"msg": ((1, "c"), 2)}  # msg(key, english, …): the key is the msgctxt, the English the msgid


def _po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _clean(message) -> None:
    # Babel takes "95 % usable" for a %-format; the placeholders here are str.format's
    message.flags.discard("python-format")
    message.flags.add("python-brace-format")


def extract():
    """Every message the code uses, as a Babel catalogue (key → English)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalogue = Catalog(project="sqm", fuzzy=False)
    for filename, lineno, english, _, key in extract_from_dir(str(PACKAGE_DIR), keywords=KEYWORDS,
                                                              comment_tags=(), strip_comment_tags=True):
        if key is None:
            continue
        catalogue.add(english, None, [(f"sqmlib/{filename}", lineno)], context=key)
    for message in catalogue:
        if message.id:
            _clean(message)
    return catalogue


def read_catalogue(lang: str):
    from babel.messages.pofile import read_po

    with open(_po_path(lang), "rb") as fh:
        return read_po(fh, locale=lang)


def compiled(catalogue) -> bytes:
    """The ``.mo`` of a catalogue (translated, non-fuzzy messages)."""
    import io

    from babel.messages.mofile import write_mo

    buf = io.BytesIO()
    write_mo(buf, catalogue)
    return buf.getvalue()


def update_catalogues(langs=("zh",)) -> None:
    """``make messages``: each language's ``.po`` brought up to the code (new messages untranslated, changed
    English marked fuzzy, unused ones dropped) and compiled to its ``.mo``."""
    from babel.messages.pofile import write_po

    template = extract()
    for lang in langs:
        catalogue = read_catalogue(lang)
        created = catalogue.creation_date  # the header stays as it was: the file changes only with its messages
        catalogue.update(template, no_fuzzy_matching=False)
        catalogue.creation_date = created
        catalogue.obsolete.clear()
        for message in catalogue:
            if message.id:
                _clean(message)
        with open(_po_path(lang), "wb") as fh:
            write_po(fh, catalogue, width=116, no_location=True, sort_output=True, omit_header=False)
        _po_path(lang).with_suffix(".mo").write_bytes(compiled(read_catalogue(lang)))
