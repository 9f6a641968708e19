"""How numbers are shown to a reader, in one place.

The display layer (:mod:`sqmlib.show`) formats every table of a page by its column names: p-values as
``< .001`` or ``.023``, shares as percentages with one decimal, counts as whole numbers with thousands
separators, means, gaps and their interval ends with two decimals, money with its currency (:func:`money`). Result objects' ``tables()`` and the Excel
workbooks keep full precision; only what a person reads is rounded.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from .messages import msg

MISSING = "–"
P_NAMES = {"p", "p_value", "p_adj", "pvalue", "p_holm", "p_bh", "q_value"}
COUNT_NAMES = {"n", "n_eff", "k", "count", "respondents", "rows", "answered", "items"}
MEAN_NAMES = {"gap", "ci_low", "ci_high", "change", "change_ci_low", "change_ci_high", "diff", "sd",
              "centre", "mean", "mean_orders"}
SHARE_NAMES = {"share", "proportion", "cumulative", "csat", "fcr", "churn_rate", "repeat_rate", "error_rate"}
MONEY_NAMES = {"profit", "expected_loss", "retained_value", "clv", "offer_cost", "contact_cost", "value_at_stake",
               "best_profit", "expected_profit", "monthly_charges", "revenue", "lifetime_value", "monetary", "spend", "avg_spend"}
SYMBOLS = {"CNY": "¥", "RMB": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "KRW": "₩", "HKD": "HK$",
           "TWD": "NT$", "INR": "₹"}
_CURRENCY = {"code": ""}


def use_currency(currency: str | None) -> str:
    """Show amounts of money in ``currency`` from now on: an ISO 4217 code (``CNY``, ``USD``, ``KRW`` …) or a
    symbol (``¥``); empty for plain numbers. The instrument's ``currency:`` key sets it
    (:func:`sqmlib.render.show.use_instrument`). Returns it."""
    _CURRENCY["code"] = (currency or "").strip()
    return _CURRENCY["code"]


def currency() -> str:
    """The currency amounts are shown in ("" when none was declared)."""
    return _CURRENCY["code"]


def currency_symbol(code: str) -> str | None:
    """A currency's symbol (``CNY`` → ``¥``; a symbol given as the currency is its own), else None: a code shown
    after the number."""
    return SYMBOLS.get(code.upper(), code if not code.isalpha() else None)


def money(x, digits: int = 0, currency: str | None = None) -> str:
    """An amount with its currency and thousands separators: ``¥3,564``, ``-$12``, ``1,200 CHF`` (a code
    without a symbol after the number); a plain number when no currency was declared. ``currency``: the data's
    (an instrument's ``currency``), else the one chosen with :func:`use_currency`."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return MISSING
    v = float(x)
    number = f"{abs(v):,.{digits}f}"
    if number.strip("0.,") == "":
        v = 0.0
    sign = "-" if v < 0 else ""
    code = (_CURRENCY["code"] if currency is None else currency).strip()
    if not code:
        return f"{sign}{number}"
    symbol = currency_symbol(code)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {code}"


_NEGATIVE_ZERO = re.compile(r"(?<![\w.])-(0(?:\.0+)?)(?![\d.])")


def no_negative_zero(text) -> str:
    """A formatted cell without a minus sign on a number rounded to zero ("-0.000" → "0.000", "[-0.00, 0.12]"
    → "[0.00, 0.12]"); anything else unchanged."""
    return _NEGATIVE_ZERO.sub(r"\1", text) if isinstance(text, str) and "-0" in text else text


def p_value(p) -> str:
    """``< .001`` (with a no-break space) below one in a thousand, else three decimals without the leading zero (``.023``, ``1.000``)."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return MISSING
    p = float(p)
    if p < 0.001:
        return "<\u00a0.001"  # a no-break space: the cell never wraps
    text = f"{p:.3f}"
    return text[1:] if text.startswith("0") else text


def share(x) -> str:
    """A share of 1 as a percentage with one decimal (``0.1234`` → ``12.3%``)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return MISSING
    return f"{100 * float(x):.1f}%"


def count(x) -> str:
    """A whole number with thousands separators (``12345.0`` → ``12,345``)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return MISSING
    return f"{float(x):,.0f}"


def mean(x) -> str:
    """Two decimals (means, gaps and their interval ends on an answer scale)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return MISSING
    return f"{float(x):.2f}"


def kpi_value(value, kpi: str, unit: str) -> str:
    """A headline KPI as every page shows it (summary tiles, the KPI page): NPS with its sign and one decimal
    (``+34.9``), shares as percentages (``29.2%``), gaps with their sign and two decimals, other means with
    two decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    v = float(value)
    if unit == "points" and kpi == "NPS":
        return f"{v:+.1f}"
    if unit == "share":
        return f"{100 * v:.1f}%"
    return f"{v:+.2f}" if "gap" in kpi else f"{v:.2f}"


def kpi_change(change, kpi: str, unit: str) -> str:
    """A headline KPI's change, with its sign: NPS in points (``+2.1``), shares in percentage points
    (``+1.4 pts``, in the reader's language), means with two decimals."""
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return MISSING
    c = float(change)
    if unit == "share":
        return msg("summary.points", "{change:+.1f} pts", change=100 * c)
    return f"{c:+.1f}" if kpi == "NPS" else f"{c:+.2f}"


def interval(low, high, fmt=mean) -> str:
    """``[a, b]`` with both ends formatted alike."""
    return f"[{fmt(low)}, {fmt(high)}]"


def kind(name, values: pd.Series) -> str | None:
    """Which rule a column follows, from its name and values: "p", "share", "count", "mean" or None."""
    label = str(name[-1] if isinstance(name, tuple) else name).lower()
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    v = values.to_numpy(dtype=float, na_value=np.nan)
    v = v[np.isfinite(v)]
    p_like = label in P_NAMES or label.endswith("_p") or label.startswith(("p_value", "p_adj"))
    if p_like and not label.startswith(("mean", "gap")) and ((v >= 0) & (v <= 1)).all():
        return "p"
    if (label in SHARE_NAMES or "share" in label or label.endswith(("_rate", "_share"))) and \
            ((v >= 0) & (v <= 1)).all():
        return "share"
    if (label in COUNT_NAMES or label.startswith("n_") or label.endswith("_n")) and (v == np.round(v)).all():
        return "count"
    if label == "n_eff":  # Kish's effective n: a whole number to the reader
        return "count"
    if label in MEAN_NAMES or label.startswith(("mean", "gap_")) or re.fullmatch(r"(mean|gap)_\w+", label):
        return "mean"
    if label in MONEY_NAMES:
        return "money"
    return None


RULES = {"p": p_value, "share": share, "count": count, "mean": mean, "money": money}


def column_formats(frame: pd.DataFrame) -> dict:
    """Column → formatter for the columns a rule applies to."""
    out = {}
    for col in frame.columns:
        k = kind(col, frame[col])
        if k is not None:
            out[col] = RULES[k]
    return out


def apply(styler, frame: pd.DataFrame, skip=()):
    """A pandas Styler with the rules applied to the columns they fit (over any format set before), except the
    ``skip`` columns (formatted cell by cell by their table)."""
    for col, fn in column_formats(frame).items():  # one column at a time: the others keep their formats
        if col in skip:
            continue
        styler = styler.format(fn, subset=[col], na_rep=MISSING)
    return styler
