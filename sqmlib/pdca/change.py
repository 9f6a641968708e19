"""Where did a KPI move? Kitagawa's mix/rate decomposition and an Adtributor-style drill-down.

:func:`decompose_change` splits the change of a rate or mean between two periods (or two groups) over one segment
column into a *mix* part (the segments' shares changed) and a *rate* part (the segments themselves changed), in
Kitagawa's (1955) symmetric form, so that ``mix + rate == change`` for every segment and in total.

:func:`drill_down` searches several segment columns, and their pairs, for the segments that explain the change of
an additive KPI (a count, a sum), ranked as Adtributor does (Bhagwan et al., NSDI 2014): a segment's explanatory
power is its share of the change, its surprise the Jensen–Shannon divergence between its share before and after;
within each column (or pair of columns) the most surprising segments are taken until they explain
:data:`EXPLAINED` of the change (at most :data:`MAX_SEGMENTS`), and the explanations are ranked by their surprise
per segment — Adtributor's summed surprise, divided by the number of segments named, so that one segment
explaining the change ("South, phone") ranks above three that say the same more wordily (its three stores by
phone).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from ..errors import SQMArgumentError

__all__ = ["Decomposition", "decompose_change", "drill_down", "EXPLAINED", "MIN_POWER", "MIN_SHARE", "MAX_SEGMENTS"]

EXPLAINED = 0.67  # an explanation covers at least this share of the change (Adtributor's T_EP)
MIN_POWER = 0.10  # a segment in an explanation explains at least this share (T_EEP)
MIN_SHARE = 0.05  # a segment holds at least this share of the KPI before or after (the minimum size)
MAX_SEGMENTS = 3  # an explanation names at most this many segments (succinctness)


@dataclass(frozen=True)
class Decomposition:
    """Kitagawa's decomposition: ``segments`` (one row per segment: share and rate before and after, ``mix``,
    ``rate`` and ``change``), ``before`` and ``after`` (the overall rates) and the totals ``change``, ``mix`` and
    ``rate`` (``mix + rate == change``)."""

    segments: pd.DataFrame
    before: float
    after: float
    change: float
    mix: float
    rate: float


def _between(data: pd.DataFrame, between) -> tuple[np.ndarray, np.ndarray]:
    if not (isinstance(between, (tuple, list)) and len(between) == 3):
        raise SQMArgumentError("between must be (column, before, after), e.g. ('quarter', '2026Q2', '2026Q3')")
    column, a, b = between
    if column not in data:
        raise SQMArgumentError(f"no column {column!r} to compare by")
    col = data[column].astype(str)
    return (col == str(a)).to_numpy(), (col == str(b)).to_numpy()


def decompose_change(data: pd.DataFrame, *, value: str, by: str, between, weight: str | None = None
                     ) -> Decomposition:
    """Split the change of the mean of ``value`` (a rate when it is 0/1) from ``between[1]`` to ``between[2]``
    of column ``between[0]`` over the segments of ``by``.

    With shares ``w`` (of rows, or of ``weight``) and segment means ``r``, the overall mean is Σ w r and its change
    splits per segment into mix = (w₁ − w₀)(r₀ + r₁)/2 and rate = (r₁ − r₀)(w₀ + w₁)/2 (Kitagawa's symmetric
    form). A segment present in one period only has no rate change (its other rate is taken equal), so all of
    its contribution is mix. Rows with a missing ``value`` or ``by`` are left out.
    """
    for c in (value, by) + ((weight,) if weight else ()):
        if c not in data:
            raise SQMArgumentError(f"no column {c!r} in the data")
    m0, m1 = _between(data, between)
    v = pd.to_numeric(data[value], errors="coerce")
    if v.isna().all() and data[value].notna().any():
        raise SQMArgumentError(f"{value!r} is not numeric")
    w = pd.to_numeric(data[weight], errors="coerce") if weight else pd.Series(1.0, index=data.index)
    ok = v.notna() & data[by].notna() & w.notna()
    frames = []
    for mask in (m0, m1):
        sel = ok.to_numpy() & mask
        if not sel.any():
            raise SQMArgumentError(f"no rows with {between[0]} = {between[1 if mask is m0 else 2]}")
        g = pd.DataFrame({"s": data[by][sel].astype(str), "w": w[sel], "wv": (w * v)[sel]}).groupby("s").sum()
        frames.append(pd.DataFrame({"share": g["w"] / g["w"].sum(), "rate": g["wv"] / g["w"]}))
    seg = frames[0].join(frames[1], how="outer", lsuffix="_before", rsuffix="_after")
    seg[["share_before", "share_after"]] = seg[["share_before", "share_after"]].fillna(0.0)
    seg["rate_before"] = seg["rate_before"].fillna(seg["rate_after"])
    seg["rate_after"] = seg["rate_after"].fillna(seg["rate_before"])
    seg["mix"] = (seg["share_after"] - seg["share_before"]) * (seg["rate_before"] + seg["rate_after"]) / 2
    seg["rate"] = (seg["rate_after"] - seg["rate_before"]) * (seg["share_before"] + seg["share_after"]) / 2
    seg["change"] = seg["mix"] + seg["rate"]
    seg.index.name = by
    before = float((seg["share_before"] * seg["rate_before"]).sum())
    after = float((seg["share_after"] * seg["rate_after"]).sum())
    mix, rate = float(seg["mix"].sum()), float(seg["rate"].sum())
    # the totals add up exactly by construction; they equal after − before up to rounding (about 1e-16)
    return Decomposition(seg, before, after, mix + rate, mix, rate)


def _mask(data: pd.DataFrame, which, name: str) -> np.ndarray:
    if isinstance(which, tuple) and len(which) == 2 and isinstance(which[0], str):
        column, value = which
        if column not in data:
            raise SQMArgumentError(f"no column {column!r} for {name}")
        return (data[column].astype(str) == str(value)).to_numpy()
    m = np.asarray(which, dtype=bool)
    if m.shape != (len(data),):
        raise SQMArgumentError(f"{name} must be (column, value) or one true/false per row")
    return m


def _surprise(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Each segment's term of the Jensen–Shannon divergence between shares ``p`` (before) and ``q`` (after)."""
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(p > 0, p * np.log(p / m), 0.0)
        b = np.where(q > 0, q * np.log(q / m), 0.0)
    return 0.5 * (a + b)


def drill_down(data: pd.DataFrame, *, kpi: str | None, dims, before, after, min_share: float = MIN_SHARE,
               depth: int = 2, top: int = 10) -> pd.DataFrame:
    """Rank the segment sets that explain the change of an additive KPI between ``before`` and ``after``.

    Parameters
    ----------
    data : DataFrame
        One row per event (a ticket, an order).
    kpi : str or None
        The column summed (None: the rows are counted).
    dims : list of str
        Segment columns; with ``depth=2`` their pairs are searched too ("South, phone").
    before, after : (column, value) or boolean mask
        The two periods (or groups).
    min_share : float
        A segment must hold at least this share of the KPI before or after.
    top : int
        Explanations kept.

    Returns
    -------
    DataFrame
        One row per explanation, best first: ``dims`` (the columns, joined by " × "), ``segments`` (a list of
        segments, each a dict column → value), ``power`` (the share of the change they explain), ``surprise``
        (summed; the ranking divides it by the number of segments), ``before``, ``after`` (their KPI in each period) and ``change``; empty when the KPI did not
        change. An explanation with the same totals before and after as a better-ranked one (the same rows in
        other words: a region's stores after the region) is left out.
    """
    dims = [d for d in dims if d in data]
    if not dims:
        raise SQMArgumentError("drill_down: none of the segment columns is in the data")
    m0, m1 = _mask(data, before, "before"), _mask(data, after, "after")
    k = pd.Series(1.0, index=data.index) if kpi is None else pd.to_numeric(data[kpi], errors="coerce").fillna(0.0)
    total0, total1 = float(k[m0].sum()), float(k[m1].sum())
    change = total1 - total0
    cols = ["dims", "segments", "power", "surprise", "before", "after", "change"]
    if change == 0 or total0 <= 0 or total1 <= 0:
        return pd.DataFrame(columns=cols)
    rows = []
    sets = [(d,) for d in dims] + (list(combinations(dims, 2)) if depth >= 2 else [])
    # each column coded once; a set's segments are its columns' codes combined, summed with bincount
    coded = {}
    for d in dims:
        codes, uniques = pd.factorize(data[d].astype(str).where(data[d].notna()), sort=True)
        coded[d] = (codes, np.asarray(uniques, dtype=object))
    kv = k.to_numpy(dtype=float)
    for ds in sets:
        key = np.zeros(len(data), dtype=np.int64)
        valid = np.ones(len(data), dtype=bool)
        size = 1
        for d in ds:
            codes, uniques = coded[d]
            valid &= codes >= 0
            key = key * len(uniques) + np.maximum(codes, 0)
            size *= len(uniques)
        f = np.bincount(key[valid & m0], weights=kv[valid & m0], minlength=size)
        a = np.bincount(key[valid & m1], weights=kv[valid & m1], minlength=size)
        seen = np.flatnonzero((f != 0) | (a != 0))
        p, q = f[seen] / total0, a[seen] / total1
        power = (a[seen] - f[seen]) / change
        surprise = _surprise(p, q)
        ok = (power >= MIN_POWER) & (np.maximum(p, q) >= min_share)
        order = sorted(np.flatnonzero(ok), key=lambda j: (-surprise[j], -power[j], j))
        chosen, total_power = [], 0.0
        for j in order:
            chosen.append(j)
            total_power += power[j]
            if total_power >= EXPLAINED or len(chosen) == MAX_SEGMENTS:
                break
        if not chosen or total_power < EXPLAINED:
            continue

        def segment(j):
            out, rest = {}, int(seen[j])
            for d in reversed(ds):
                n = len(coded[d][1])
                out[d] = str(coded[d][1][rest % n])
                rest //= n
            return {d: out[d] for d in ds}

        rows.append({"dims": " × ".join(ds), "score": float(surprise[chosen].sum()) / len(chosen),
                     "segments": [segment(j) for j in chosen], "power": float(power[chosen].sum()),
                     "surprise": float(surprise[chosen].sum()), "before": float(f[seen][chosen].sum()),
                     "after": float(a[seen][chosen].sum()),
                     "change": float((a[seen][chosen] - f[seen][chosen]).sum())})
    out = pd.DataFrame(rows, columns=cols + ["score"])
    if out.empty:
        return out.drop(columns="score")
    out = out.sort_values(["score", "power"], ascending=False, kind="stable")
    # the same rows said again (South's three stores by phone after "South, phone"): the first saying only
    out = out[~out.duplicated(["before", "after"], keep="first")].head(top)
    return out.drop(columns="score").reset_index(drop=True)
