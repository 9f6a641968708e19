"""Small helpers of the instrument parser: suggestions for a mistyped key, wording per language, answer codes."""
from __future__ import annotations

import difflib


def suggest(key: str, allowed) -> str:
    """" (did you mean 'x'?)" for a close known key, else the known keys."""
    close = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(allowed)})"


def texts_of(value) -> dict[str, str]:
    """Wording as {language: text} (a plain string is English)."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {"en": value}
    return {str(k): str(v) for k, v in value.items()}


def answer_code(k):
    """An answer code as written in a labels mapping: whole numbers as int (1.0 and "1" → 1), else text."""
    try:
        f = float(k)
        return int(f) if f.is_integer() else f
    except (TypeError, ValueError):
        return str(k)
