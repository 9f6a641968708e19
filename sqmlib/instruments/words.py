"""Small helpers of the instrument parser: suggestions for a mistyped key, wording per language, answer codes."""
from __future__ import annotations

import difflib
import re


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


def usable_id(where: str, key: str, bad) -> bool:
    """Whether an entry's id (a KANO attribute, a checklist item) is letters, digits and _ (it names columns and
    code); else a problem naming ``where``."""
    if re.fullmatch(r"[A-Za-z0-9_]+", key):
        return True
    bad(f"{where}: {key!r} is not a usable id (letters, digits and _; the wording goes in text)")
    return False


def entry_spec(spec) -> dict:
    """An entry given as its wording alone (or nothing) as the mapping form."""
    return spec if isinstance(spec, dict) else {"text": spec} if spec else {}


def dimension_of(where: str, dim, dimensions, bad) -> str | None:
    """An entry's ``dimension`` when it names one of the instrument's dimensions (else a problem); None when
    not given."""
    if dim is None:
        return None
    if dim not in dimensions:
        bad(f"{where}.dimension {dim!r} is not a dimension{suggest(dim, list(dimensions))}")
    return str(dim)
