"""Customer feedback from several listening posts: ``feedback.csv``.

One row a piece of feedback: ``feedback_id``, ``source`` (``review``, ``ticket``, ``call`` or ``survey_comment``),
``platform`` (optional: dianping, meituan, google, 400 line …), ``created_at``, ``store``, ``region`` and
``channel`` (optional), ``customer_id`` (optional), ``rating`` (optional, 1–5 stars) and ``text``. Rows that cannot
be analysed — an empty text, binary junk, an unknown source — are kept out of the analysis and counted by
:func:`feedback_quality`, never a stop; a very long text is analysed on its first characters
(:data:`MAX_CHARS`).

:func:`listening_posts` adds the texts that are already elsewhere in the data folder: the survey's open answers
(columns the instrument marks ``role: comment``) as survey comments and, when asked, the tickets' texts
(``interactions``) as tickets — each with its time, store, region, channel and customer.
"""
from __future__ import annotations

import pandas as pd

from .tables import _load_table, _spec

SOURCES = ("review", "ticket", "call", "survey_comment")
MAX_CHARS = 2_000  # characters analysed per text: a longer text is read on its first characters
FEEDBACK_COLUMNS = (
    _spec("feedback_id", "text"),
    _spec("source", "text"),
    _spec("platform", "category", required=False),
    _spec("created_at", "date"),
    _spec("store", "category", required=False),
    _spec("region", "category", required=False),
    _spec("channel", "category", required=False),
    _spec("customer_id", "text", required=False),
    _spec("rating", "number", required=False, min=1, max=5),
    _spec("text", "text"),
)


COLUMNS = [c.name for c in FEEDBACK_COLUMNS]


def _said(text: pd.Series) -> pd.Series:
    """Which texts say something (blank answers and ticket fields are no feedback)."""
    return text.notna() & (text.astype(str).str.strip() != "")


def _as_feedback(rows: pd.DataFrame, ids: pd.Series, source: str, platform, when, text: pd.Series) -> pd.DataFrame:
    """Rows of another table as feedback, with their store, region, channel and customer where the table has them."""
    where = {k: rows[k].astype(object) for k in ("store", "region", "channel", "customer_id") if k in rows}
    return pd.DataFrame({"feedback_id": ids, "source": source, "platform": platform, "created_at": when, **where,
                         "text": text.astype(str)})


def listening_posts(folder, *, tickets: bool = False) -> pd.DataFrame | None:
    """Every piece of feedback of a data folder in ``feedback.csv``'s columns: its ``feedback`` table, the survey's
    open answers (the instrument's ``role: comment`` columns; blank answers are no feedback) and, with
    ``tickets``, the tickets' texts. Ids are ``survey:<respondent>:<column>`` and ``ticket:<ticket_id>``; None
    when there is none."""
    parts = [folder.feedback] if folder.feedback is not None else []
    survey, inst = folder.survey, folder.instrument
    cols = [c for c in (getattr(inst, "comments", []) or []) if survey is not None and c in survey.columns]
    for c in cols:
        s = survey[_said(survey[c])]
        rid = s["respondent_id"] if "respondent_id" in s else pd.Series(s.index, index=s.index)
        when = pd.to_datetime(s["survey_date"], errors="coerce") if "survey_date" in s else pd.NaT
        parts.append(_as_feedback(s, "survey:" + rid.astype(str) + ":" + c, "survey_comment", "survey", when, s[c]))
    t = folder.interactions
    if tickets and t is not None and "text" in t:
        t = t[_said(t["text"])]
        platform = t["channel"].astype(object) if "channel" in t else None
        parts.append(_as_feedback(t, "ticket:" + t["ticket_id"].astype(str), "ticket", platform, t["opened_at"],
                                  t["text"]))
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    out = pd.concat([p.reindex(columns=COLUMNS) for p in parts], ignore_index=True)
    for k in ("platform", "store", "region", "channel"):
        out[k] = out[k].astype(object).where(out[k].notna(), None)
    return out


def load_feedback(path, *, encoding=None, sheet=0) -> pd.DataFrame:
    """Load the feedback (see the module's description); every problem of the file at once."""
    return _load_table(path, FEEDBACK_COLUMNS, encoding=encoding, sheet=sheet)


def _junk(text) -> bool:
    """A text with nothing to read: empty, or mostly characters that are neither letters, digits nor
    punctuation (a binary file pasted as text)."""
    if not isinstance(text, str) or not text.strip():
        return True
    sample = text[:2000]
    readable = sum(ch.isalnum() or ch.isspace() or ch in ",.!?;:'\"()-，。！？；：、（）…~" for ch in sample)
    return readable < 0.6 * len(sample)


def feedback_quality(feedback: pd.DataFrame) -> tuple[pd.Series, dict]:
    """(usable rows, counts): a row is usable with a known source and a readable text. The counts name what was
    left out: ``empty`` and ``junk`` texts, ``unknown_source`` (with the sources seen, ``unknown_sources``) and
    ``long`` texts (analysed on their first characters)."""
    text = feedback["text"]
    empty = text.isna() | (text.astype(str).str.strip() == "")
    junk = ~empty & text.map(_junk).astype(bool)
    source = feedback["source"].astype(str).str.strip().str.lower()
    unknown = ~source.isin(SOURCES)
    long = text.astype(str).str.len() > MAX_CHARS
    usable = ~(empty | junk | unknown)
    counts = {"rows": int(len(feedback)), "usable": int(usable.sum()), "empty": int(empty.sum()),
              "junk": int(junk.sum()), "unknown_source": int(unknown.sum()),
              "unknown_sources": sorted(set(feedback.loc[unknown.to_numpy(), "source"].astype(str)))[:10],
              "long": int((long & usable).sum())}
    return usable.to_numpy(dtype=bool), counts
