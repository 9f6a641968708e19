"""The careless-respondent rule: straight-liners and too-fast responses."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..instruments import Instrument
from ..instruments import load as load_instrument


def flag_straightliners(survey: pd.DataFrame, instrument: "str | Instrument", block: str = "P",
                        min_answered: int | None = None) -> pd.Series:
    """Respondents who gave one and the same answer to every item of a block they answered.

    ``min_answered`` (default: three quarters of the block's items) keeps respondents with only a few answers
    from being flagged.
    """
    inst = load_instrument(instrument)
    cols = [c for c in inst.item_columns(block) if c in survey.columns]
    x = survey[cols].to_numpy(dtype=float)
    lo, hi = inst.block_scale(block)
    rev = [k for k, c in enumerate(cols) if c in set(inst.reverse_columns())]
    if rev:  # loading reflected the reverse-keyed items: straight-lining is judged on the answers as given
        x[:, rev] = lo + hi - x[:, rev]
    k = np.sum(~np.isnan(x), axis=1)
    need = int(np.ceil(0.75 * len(cols))) if min_answered is None else int(min_answered)
    with np.errstate(all="ignore"):
        rng = np.nanmax(np.where(k[:, None] > 0, x, 0), axis=1) - np.nanmin(np.where(k[:, None] > 0, x, 0), axis=1)
    return pd.Series((k >= need) & (rng == 0), index=survey.index, name=f"straightliner_{block}")


def too_fast_threshold(survey: pd.DataFrame, min_seconds: float | None = None,
                       column: str = "duration_sec") -> float | None:
    """The time below which a response counts as too fast: ``min_seconds`` if given, else one third of
    the median duration (a common rule of thumb); None when the survey records no duration."""
    if column not in survey.columns:
        return None
    if min_seconds:
        return float(min_seconds)
    return float(survey[column].median()) / 3.0


def flag_too_fast(survey: pd.DataFrame, min_seconds: float | None = None,
                  column: str = "duration_sec") -> pd.Series:
    """Respondents who finished faster than :func:`too_fast_threshold` (all False without durations)."""
    limit = too_fast_threshold(survey, min_seconds, column)
    if limit is None:
        return pd.Series(False, index=survey.index, name="too_fast")
    return (survey[column] < limit).fillna(False).astype(bool).rename("too_fast")



def careless(survey: pd.DataFrame, instrument: "str | Instrument", min_seconds: float | None = None) -> pd.Series:
    """Straight-liners or too-fast respondents (see :func:`flag_straightliners`, :func:`flag_too_fast`)."""
    inst = load_instrument(instrument)
    fast = flag_too_fast(survey, min_seconds)
    if not inst.blocks:  # a study of the KPIs alone: no grid of items to straight-line
        return fast.rename("careless")
    block = "P" if "P" in inst.blocks else next(iter(inst.blocks))
    return (flag_straightliners(survey, inst, block) | fast).rename("careless")


