"""Plots used by the notebooks. Each function returns the matplotlib Figure it drew.

Inside :func:`offscreen`, figures are plain :class:`matplotlib.figure.Figure` objects that pyplot does not know:
nothing is shown by the notebook's inline backend, nothing needs closing, and drawing is safe in a background
thread (the explorers render charts ahead of time this way).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, PercentFormatter

from . import formats
from .fonts import add_cjk_fallback

_local = threading.local()


@contextmanager
def offscreen():
    """Draw figures that pyplot does not track (for rendering to images, in any thread)."""
    before = getattr(_local, "offscreen", False)
    _local.offscreen = True
    try:
        yield
    finally:
        _local.offscreen = before


add_cjk_fallback()  # wording from the data (Chinese items, Korean segments) is drawn, not shown as boxes


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters: cut at the last space that fits (within a word only when
    there is none, as in Chinese) and ended with "…" when anything was cut."""
    text = text.strip()
    if len(text) <= width:
        return text
    cut = text[:width - 1]
    space = cut.rfind(" ")
    if space >= width // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:–-") + "…"


def gradient(name: str):
    """A colormap for a table's background gradient whose missing cells stay white (pandas paints them with
    the colormap's "bad" colour, which is transparent black and prints as a black block)."""
    import matplotlib

    cmap = matplotlib.colormaps[name].copy()
    cmap.set_bad("white")
    return cmap


def subplots(*args, figsize=None, **kwargs):
    if getattr(_local, "offscreen", False):
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize)
        return fig, fig.subplots(*args, **kwargs)
    return plt.subplots(*args, figsize=figsize, **kwargs)


def completeness_bars(table: pd.DataFrame, title: str = "Answered share per item"):
    """Horizontal bars of ``share_answered`` per item column, one panel per block."""
    blocks = list(dict.fromkeys(table["block"]))
    fig, axes = subplots(1, len(blocks), figsize=(3.2 * len(blocks) + 1, 0.22 * table["item"].nunique() + 1.5),
                             sharey=True, squeeze=False)
    for ax, b in zip(axes[0], blocks):
        t = table[table["block"] == b]
        y = np.arange(len(t))
        ax.barh(y, t["share_answered"], color="#4C72B0")
        ax.set_yticks(y, t["item"])
        ax.set_xlim(min(0.8, float(t["share_answered"].min()) - 0.02), 1.0)
        ax.axvline(0.95, color="#C44E52", lw=0.8, ls="--")
        ax.set_title(f"block {b}")
        ax.invert_yaxis()
        ax.set_xlabel("share answered")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def count_heatmap(table: pd.DataFrame, title: str = "Respondents"):
    """Annotated heat map of a count table (rows × columns), totals excluded from the colour scale."""
    t = table.drop(index="total", columns="total", errors="ignore")
    fig, ax = subplots(figsize=(1.1 * t.shape[1] + 2.5, 0.45 * t.shape[0] + 1.5))
    # counts start at zero, so the colour scale does too (and white text only sits on dark cells)
    vmax = float(np.nanmax(t.to_numpy(dtype=float))) if t.size else 1.0
    im = ax.imshow(t.to_numpy(dtype=float), cmap="Blues", aspect="auto", vmin=0, vmax=vmax or 1.0)
    ax.set_xticks(range(t.shape[1]), [str(c) for c in t.columns])
    ax.set_yticks(range(t.shape[0]), [str(r) for r in t.index])
    for (i, j), v in np.ndenumerate(t.to_numpy()):
        ax.text(j, i, f"{v:,.0f}", ha="center", va="center", color="white" if v > 0.6 * vmax else "black", fontsize=8)
    ax.set_xlabel(t.columns.name or "")
    ax.set_ylabel(t.index.name or "")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    return fig


def bubble_map(table: pd.DataFrame, title: str, size_label: str = ""):
    """Circles on a grid of rows × columns, each sized by its count (area) and labelled with it: where two row
    categories share a column, and how much."""
    t = table.astype(float)
    fig, ax = subplots(figsize=(max(5.5, 0.75 * t.shape[1] + 2.5), 0.32 * t.shape[0] + 2.2))
    top = float(np.nanmax(t.to_numpy())) if t.size else 1.0
    for (i, j), v in np.ndenumerate(t.to_numpy()):
        if v > 0:
            ax.scatter(j, i, s=700 * v / (top or 1.0), color="#C44E52", alpha=0.35 + 0.5 * v / (top or 1.0), lw=0)
            ax.annotate(f"{v:,.0f}", (j, i), ha="center", va="center", fontsize=7)
    ax.set_xticks(range(t.shape[1]), [str(c) for c in t.columns], rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(t.shape[0]), [str(r) for r in t.index])
    ax.set_xlim(-0.7, t.shape[1] - 0.3)
    ax.set_ylim(t.shape[0] - 0.4, -0.6)
    ax.grid(color="#eee", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_title(title, fontsize=10, pad=18)
    ax.text(0.5, 1.01, size_label, transform=ax.transAxes, ha="center", va="bottom", fontsize=8, color="#555")
    fig.tight_layout()
    return fig


def duration_histogram(seconds: pd.Series, threshold: float | None, title: str = "Time to complete the survey"):
    """Histogram of completion times (log scale) with the too-fast threshold marked."""
    s = seconds.dropna()
    s = s[s > 0]
    fig, ax = subplots(figsize=(7, 3.2))
    if len(s):
        bins = np.logspace(np.log10(s.min()), np.log10(s.max()), 40)
        ax.hist(s, bins=bins, color="#4C72B0")
        ax.set_xscale("log")
    if threshold is not None:
        ax.axvline(threshold, color="#C44E52", ls="--", label=f"too fast: under {threshold:.0f} s")
        ax.legend()
    ax.set_xlabel("seconds")
    ax.set_ylabel("respondents")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def correlation_heatmap(R: pd.DataFrame, groups: dict | None = None, title: str = "Inter-item correlations"):
    """Heat map of a correlation matrix with lines between the groups (dimensions) of items."""
    n = R.shape[0]
    fig, ax = subplots(figsize=(0.32 * n + 2.5, 0.32 * n + 1.8))
    im = ax.imshow(R.to_numpy(dtype=float), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(n), R.columns, rotation=90, fontsize=7)
    ax.set_yticks(range(n), R.index, fontsize=7)
    if groups:
        pos = 0
        for items in list(groups.values())[:-1]:
            pos += len(items)
            ax.axhline(pos - 0.5, color="black", lw=0.8)
            ax.axvline(pos - 0.5, color="black", lw=0.8)
    ax.set_title(title)
    fig.colorbar(im, ax=ax, shrink=0.7)
    fig.tight_layout()
    return fig


def scree(parallel: pd.DataFrame, title: str = "Scree plot with parallel analysis"):
    """Observed eigenvalues against random-data eigenvalues (mean and upper quantile)."""
    fig, ax = subplots(figsize=(7, 3.6))
    x = parallel.index.to_numpy()
    ax.plot(x, parallel["observed"], "o-", label="observed", color="#4C72B0")
    ax.plot(x, parallel["random_quantile"], "--", label="random data (95th percentile)", color="#C44E52")
    ax.plot(x, parallel["random_mean"], ":", label="random data (mean)", color="#999999")
    k = int(parallel["retain"].sum())
    ax.axvline(k + 0.5, color="#55A868", lw=0.8)
    ax.text(k + 0.6, ax.get_ylim()[1] * 0.9, f"retain {k}", color="#55A868")
    ax.set_xlabel("component")
    ax.set_ylabel("eigenvalue")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def traffic_light(value: float, good: float, ok: float, higher_is_better: bool = True) -> str:
    """CSS background for a value: green at or past ``good``, amber at or past ``ok``, red otherwise."""
    if value is None or not np.isfinite(value):
        return ""
    v, g, o = (value, good, ok) if higher_is_better else (-value, -good, -ok)
    colour = "#c6efce" if v >= g else ("#ffeb9c" if v >= o else "#ffc7ce")
    return f"background-color: {colour}"


# ---- gap analysis -------------------------------------------------------------------------------------------
def dimension_gaps(table: pd.DataFrame, title: str = "Gap (P − E) per dimension, with 95 % intervals"):
    """Horizontal bars of dimension gaps with their intervals (rows with ``level == "dimension"``)."""
    t = table[table["level"] == "dimension"].sort_values("gap")
    fig, ax = subplots(figsize=(7, 0.5 * len(t) + 1.5))
    y = np.arange(len(t))
    colours = np.where(t["gap"] < 0, "#C44E52", "#55A868")
    ax.barh(y, t["gap"], color=colours, alpha=0.85)
    ax.errorbar(t["gap"], y, xerr=[t["gap"] - t["ci_low"], t["ci_high"] - t["gap"]], fmt="none", ecolor="black",
                capsize=3, lw=1)
    ax.set_yticks(y, t["name"])
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("perception − expectation (scale points)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def item_gaps(table: pd.DataFrame, labels: dict | None = None, title: str = "Item gaps, largest shortfall first"):
    """Diverging bars of item gaps sorted by size; significant ones (adjusted p < .05) solid, others pale."""
    t = table[table["level"] == "item"].sort_values("gap", ascending=False)
    fig, ax = subplots(figsize=(8, 0.3 * len(t) + 1.5))
    y = np.arange(len(t))
    sig = t["p_adj"] < 0.05
    from matplotlib.colors import to_rgba

    colours = [to_rgba("#C44E52" if g < 0 else "#55A868", 0.9 if s else 0.35) for g, s in zip(t["gap"], sig)]
    ax.barh(y, t["gap"], color=colours)
    ax.errorbar(t["gap"], y, xerr=[t["gap"] - t["ci_low"], t["ci_high"] - t["gap"]], fmt="none", ecolor="#333333",
                lw=0.8)
    names = [shorten(f"{n} {labels.get(n, '')}", 48) if labels else str(n) for n in t["name"]]
    ax.set_yticks(y, names, fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("perception − expectation; pale bars: not significant after adjustment")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def item_means(table: pd.DataFrame, labels: dict | None = None, scale: tuple[float, float] | None = None,
               title: str = "Item means with 95 % intervals"):
    """Horizontal bars of item means (``item``, ``mean``, ``ci_low``, ``ci_high``), one colour per dimension."""
    t = table.reset_index(drop=True)
    fig, ax = subplots(figsize=(8, 0.3 * len(t) + 1.5))
    y = np.arange(len(t))
    dims = list(dict.fromkeys(t["dimension"]))
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colours = [palette[dims.index(d) % len(palette)] for d in t["dimension"]]
    ax.barh(y, t["mean"], color=colours, alpha=0.85)
    ax.errorbar(t["mean"], y, xerr=[t["mean"] - t["ci_low"], t["ci_high"] - t["mean"]], fmt="none",
                ecolor="#333333", lw=0.8)
    names = [shorten(f"{n} {labels.get(n, '')}", 48) if labels else str(n) for n in t["item"]]
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    if scale is not None:
        ax.set_xlim(scale[0], scale[1])
    ax.set_xlabel("mean answer (scale points)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def zone_chart(zone: pd.DataFrame, title: str = "Zone of tolerance per item"):
    """Per item the band from adequate to desired service, with the mean perception marked."""
    t = zone.reset_index(drop=True)
    fig, ax = subplots(figsize=(max(7, 0.38 * len(t) + 2), 4))
    x = np.arange(len(t))
    ax.bar(x, t["mean_desired"] - t["mean_adequate"], bottom=t["mean_adequate"], color="#DDDDDD",
           edgecolor="#999999", label="zone of tolerance (adequate–desired)")
    colours = {"below": "#C44E52", "within": "#4C72B0", "above": "#55A868"}
    for position, c in colours.items():  # one legend entry per colour of the mean perception
        at = (t["position"] == position).to_numpy()
        if at.any():
            ax.scatter(x[at], t["mean_p"][at], color=c, zorder=3, label=f"mean perception {position} the zone")
    ax.set_xticks(x, t["item"], fontsize=8)
    low = float(np.nanmin([t["mean_adequate"].min(), t["mean_p"].min()]))
    high = float(np.nanmax([t["mean_desired"].max(), t["mean_p"].max()]))
    pad = 0.05 * (high - low or 1)
    ax.set_ylim(low - pad, high + pad)  # every band whole
    ax.set_ylabel("scale points")
    ax.set_title(title)
    # below the axes: inside, a legend would cover the bands and points of some items
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def ipa_plot(result, title: str | None = None, label_col: str | None = None):
    """Importance–performance quadrant chart with labelled attributes and the crosshair of the chosen rule."""
    t = result.table
    imp, perf = result.crosshair[result.rule]
    fig, ax = subplots(figsize=(7.5, 6))
    colours = {"concentrate here": "#C44E52", "keep up the good work": "#55A868", "low priority": "#999999",
               "possible overkill": "#DD8452"}
    for q, c in colours.items():
        s = t[t["quadrant"] == q]
        ax.scatter(s["performance"], s["importance"], color=c, label=q, s=40)
    for name, r in t.iterrows():
        ax.annotate(str(name) if label_col is None else str(r[label_col]), (r["performance"], r["importance"]),
                    fontsize=8, xytext=(3, 3), textcoords="offset points")
    ax.axvline(perf, color="black", lw=0.8, ls="--")
    ax.axhline(imp, color="black", lw=0.8, ls="--")
    ax.set_xlabel("performance")
    ax.set_ylabel(f"importance ({result.importance_kind})")
    ax.set_title(title or f"Importance–performance (crosshair: {result.rule})")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def segment_heatmap(table: pd.DataFrame, segment: str, title: str | None = None, centre: float | None = None,
                    value: str = "gap"):
    """Heat map of dimension gaps (rows) by segment (columns); red is a larger shortfall. ``centre``: the value
    shown neutral (0 for gaps; the scale midpoint for mean perceptions)."""
    t = table[table["level"] == "dimension"].pivot(index="name", columns=segment, values=value)
    fig, ax = subplots(figsize=(1.2 * t.shape[1] + 3, 0.5 * t.shape[0] + 1.5))
    c = 0.0 if centre is None else float(centre)
    lim = float(np.nanmax(np.abs(t.to_numpy() - c))) or 1.0
    im = ax.imshow(t.to_numpy(), cmap="RdYlGn", vmin=c - lim, vmax=c + lim, aspect="auto")
    ax.set_xticks(range(t.shape[1]), [str(c) for c in t.columns])
    ax.set_yticks(range(t.shape[0]), t.index)
    for (i, j), v in np.ndenumerate(t.to_numpy()):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8)
    ax.set_title(title or f"Dimension gaps by {segment}")
    fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    return fig


def gap_trend_plot(trend: pd.DataFrame, title: str = "Gap per quarter, with 95 % intervals",
                   ylabel: str = "perception − expectation"):
    """Lines of the mean gap (or mean perception) per quarter for each dimension (and overall)."""
    fig, ax = subplots(figsize=(8, 4))
    for name, t in trend.groupby("name", sort=False):
        ax.errorbar(t["quarter"], t["gap"], yerr=[t["gap"] - t["ci_low"], t["ci_high"] - t["gap"]], marker="o",
                    capsize=3, label=name, lw=2.5 if name == "overall" else 1.2)
    if ylabel == "perception − expectation":
        ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=3)
    fig.tight_layout()
    return fig


# ---- driver analysis ----------------------------------------------------------------------------------------
def importance_bars(importance, method: str = "lmg", labels: dict | None = None,
                    title: str | None = None, r2: float | None = None):
    """Horizontal bars of a relative-importance metric as % of R², with bootstrap intervals when present.

    ``importance``: a :class:`sqmlib.drivers.Importance` (its R² is shown) or a table indexed by driver."""
    if hasattr(importance, "table"):
        r2 = importance.r2 if r2 is None else r2
        importance = importance.table
    total = importance[method].sum()
    t = importance.sort_values(method)
    share = 100 * t[method] / total
    fig, ax = subplots(figsize=(7.5, 0.32 * len(t) + 1.6))
    y = np.arange(len(t))
    ax.barh(y, share, color="#4C72B0")
    lo, hi = f"{method}_ci_low", f"{method}_ci_high"
    if lo in t.columns:
        ax.errorbar(share, y, xerr=[share - 100 * t[lo] / total, 100 * t[hi] / total - share], fmt="none",
                    ecolor="black", capsize=2, lw=0.8)
    names = [shorten(f"{n} {labels.get(n, '')}", 46) if labels else str(n) for n in t.index]
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel(f"share of R² (%), R² = {total if r2 is None else r2:.3f}")
    ax.set_title(title or f"Driver importance ({method})")
    fig.tight_layout()
    return fig


def driver_matrix(matrix, title: str = "Driver matrix: importance against performance",
                  xlabel: str = "performance (mean score)", ylabel: str = "importance (share of R², %)"):
    """Quadrant chart of :func:`sqmlib.drivers.driver_matrix` (a ``DriverMatrix``, or a table with
    ``importance``, ``performance`` and ``quadrant``): share of R² against mean performance."""
    if hasattr(matrix, "table"):
        t, (ci, cp) = matrix.table, matrix.crosshair
    else:
        t = matrix
        ci, cp = float(t["importance"].mean()), float(t["performance"].mean())
    fig, ax = subplots(figsize=(7, 5.5))
    colours = {"concentrate here": "#C44E52", "keep up the good work": "#55A868", "low priority": "#999999",
               "possible overkill": "#DD8452"}
    for q, c in colours.items():
        s = t[t["quadrant"] == q]
        if len(s):
            ax.scatter(s["performance"], s["importance"], color=c, label=q, s=45)
    for name, r in t.iterrows():
        ax.annotate(str(name), (r["performance"], r["importance"]), fontsize=8, xytext=(3, 3),
                    textcoords="offset points")
    ax.axvline(cp, color="black", lw=0.8, ls="--")
    ax.axhline(ci, color="black", lw=0.8, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def bars_and_line(frame: pd.DataFrame, x: str, bars: str, line: str, title: str, bar_label: str = "",
                  line_label: str = "", line_as_percent: bool = True):
    """Bars of one column and a line of another (own axis on the right) over the same x, e.g. complaints and
    the share of customers who came back per quarter."""
    fig, ax = subplots(figsize=(7.5, 3.8))
    pos = np.arange(len(frame))
    ax.bar(pos, frame[bars], color="#C44E52", alpha=0.8)
    ax.set_xticks(pos, [str(v) for v in frame[x]])
    ax.set_ylabel(bar_label or bars)
    ax2 = ax.twinx()
    values = 100 * frame[line] if line_as_percent else frame[line]
    ax2.plot(pos, values, "o-", color="#4C72B0", lw=2)
    ax2.set_ylabel(line_label or line)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def bar_chart(values: pd.Series, title: str, xlabel: str = "", ylabel: str = "", percent: bool = False,
              digits: int = 1, rotation: int = 0, color: str = "#4C72B0"):
    """Vertical bars of a Series (index as categories), each with its value to ``digits`` decimals; ``rotation``
    turns the category labels (many of them, e.g. weeks)."""
    fig, ax = subplots(figsize=(6.5, 3.6))
    pos = np.arange(len(values))
    v = 100 * values.to_numpy(dtype=float) if percent else values.to_numpy(dtype=float)
    ax.bar(pos, v, color=color)
    for i, val in enumerate(v):
        ax.annotate(f"{val:.{digits}f}{'%' if percent else ''}", (i, val), ha="center", va="bottom",
                    fontsize=8 if rotation == 0 else 7)
    turned = {"rotation": rotation, "fontsize": 7} if rotation else {}
    ax.set_xticks(pos, [str(i) for i in values.index], **turned)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def kano_plot(pr: pd.DataFrame, title: str = "Penalty and reward per driver (Kano classes)"):
    """Penalty (low performance) and reward (high performance) effects per driver, coloured by Kano class."""
    t = pr.sort_values("ia")
    fig, ax = subplots(figsize=(7.5, 0.32 * len(t) + 1.6))
    y = np.arange(len(t))
    colours = t["kano"].map({"basic": "#C44E52", "performance": "#4C72B0", "excitement": "#55A868"})
    ax.barh(y, t["penalty"], color=colours, alpha=0.6)
    ax.barh(y, t["reward"], color=colours)
    ax.set_yticks(y, [f"{n} ({k})" for n, k in zip(t.index, t["kano"])], fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("effect on the outcome: penalty of low performance (left), reward of high performance (right)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


# ---- churn -------------------------------------------------------------------------------------------------
def roc_pr_curves(y, p, title: str = "ROC and precision–recall curves (out of fold)"):
    """ROC curve with its AUC and the precision–recall curve with the churn rate as baseline."""
    from sklearn.metrics import (
        average_precision_score,
        precision_recall_curve,
        roc_auc_score,
        roc_curve,
    )

    fpr, tpr, _ = roc_curve(y, p)
    prec, rec, _ = precision_recall_curve(y, p)
    fig, (a, b) = subplots(1, 2, figsize=(10, 4.2))
    a.plot(fpr, tpr, color="#4C72B0", label=f"AUC {roc_auc_score(y, p):.3f}")
    a.plot([0, 1], [0, 1], ls="--", color="#999999")
    a.set_xlabel("false positive rate")
    a.set_ylabel("true positive rate")
    a.legend(loc="lower right")
    b.plot(rec, prec, color="#C44E52", label=f"average precision {average_precision_score(y, p):.3f}")
    b.axhline(np.mean(y), ls="--", color="#999999", label=f"churn rate {np.mean(y):.3f}")
    b.set_xlabel("recall")
    b.set_ylabel("precision")
    b.legend(loc="upper right")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def permutation_bars(importance: pd.DataFrame, title: str = "What the model relies on"):
    """Drop in ROC-AUC when each feature group is shuffled (:func:`sqmlib.churn.permutation_importance_grouped`),
    with its standard deviation."""
    fig, ax = subplots(figsize=(7, 0.35 * len(importance) + 1.2))
    ax.barh(importance["feature"][::-1], importance["auc_drop"][::-1], xerr=importance["sd"][::-1], color="#4C72B0")
    ax.set_xlabel("drop in ROC-AUC when shuffled")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def calibration_plot(table: pd.DataFrame, title: str = "Calibration: predicted against observed churn"):
    """Observed churn rate against mean predicted probability per bin, from
    :func:`sqmlib.churn.calibration_table`."""
    t = table
    pred, obs = t["predicted"].tolist(), t["observed"].tolist()
    fig, ax = subplots(figsize=(5, 4.5))
    lim = max(max(pred), max(obs)) * 1.05
    ax.plot([0, lim], [0, lim], ls="--", color="#999999")
    ax.plot(pred, obs, "o-", color="#4C72B0")
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed churn rate")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def gains_chart(gains: pd.DataFrame, title: str = "Cumulative gains and lift"):
    """Share of churners captured against share of customers contacted, with lift per group."""
    fig, (a, b) = subplots(1, 2, figsize=(10, 4))
    x = np.r_[0, gains["cum_share_customers"]]
    a.plot(x, np.r_[0, gains["cum_share_churners"]], "o-", color="#4C72B0", label="model")
    a.plot([0, 1], [0, 1], ls="--", color="#999999", label="random")
    a.set_xlabel("share of customers contacted (highest risk first)")
    a.set_ylabel("share of churners reached")
    a.legend()
    b.bar(gains["group"], gains["lift"], color="#4C72B0")
    b.axhline(1, color="#999999", ls="--")
    b.set_xlabel("risk group (1 = highest)")
    b.set_ylabel("lift")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def profit_plot(curve, title: str = "Profit of contacting the highest-risk customers"):
    """Profit against the share contacted (a :class:`sqmlib.churn.ProfitCurve`), with the best point and the
    contact-everyone/perfect baselines."""
    fig, ax = subplots(figsize=(8, 4))
    t = curve.table
    ax.plot(t["fraction"], t["profit"], color="#4C72B0", label="model")
    ax.axhline(curve.perfect_model, color="#55A868", ls="--", label="perfect model")
    ax.axhline(0, color="black", lw=0.8)
    ax.scatter([1.0], [curve.contact_everyone], color="#C44E52", zorder=3, label="contact everyone")
    ax.scatter([curve.best_fraction], [curve.best_profit], color="black", zorder=3,
               label=f"best: contact {curve.best_fraction:.0%}")
    ax.set_xlabel("share of customers contacted")
    ax.set_ylabel("profit")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: formats.money(v)))  # thousands and the currency
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def km_plot(curves: dict, title: str = "Share of customers still with us, by tenure"):
    """Kaplan–Meier curves (lifelines fitters) with confidence bands."""
    fig, ax = subplots(figsize=(8, 4))
    for km in curves.values():
        km.plot_survival_function(ax=ax)
    ax.set_xlabel("days since signup")
    ax.set_ylabel("still a customer")
    ax.set_title(title)
    fig.tight_layout()
    return fig


# ---- KPI monitoring -------------------------------------------------------------------------------------------
def control_chart(chart: pd.DataFrame, title: str, ylabel: str = ""):
    """A p-chart or individuals chart (from :func:`sqmlib.kpi.p_chart` / ``imr_chart``) with rule breaks marked."""
    fig, ax = subplots(figsize=(8, 3.6))
    x = np.arange(len(chart))
    ax.plot(x, chart["value"], "o-", color="#4C72B0", label="value")
    ax.plot(x, chart["centre"], color="black", lw=0.8, label="centre")
    ax.plot(x, chart["ucl"], ls="--", color="#C44E52", lw=0.8, label="control limits")
    ax.plot(x, chart["lcl"], ls="--", color="#C44E52", lw=0.8)
    broken = chart[["rule1", "rule2", "rule3", "rule4"]].any(axis=1).to_numpy()
    if broken.any():
        ax.scatter(x[broken], chart["value"][broken], s=120, facecolors="none", edgecolors="#C44E52", lw=2,
                   label="rule broken", zorder=3)
    ax.set_xticks(x, [str(v) for v in chart["label"]], rotation=45, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def nps_monitor(table: pd.DataFrame, unit: str, alerts: pd.DataFrame | None = None,
                title: str = "NPS per period and unit"):
    """NPS per period for every unit, alert runs shaded."""
    fig, ax = subplots(figsize=(9, 4))
    periods = sorted(table["period"].unique())
    pos = {p: i for i, p in enumerate(periods)}
    for u, g in table.groupby(unit):
        ax.plot([pos[p] for p in g["period"]], g["nps"], "o-", label=str(u), lw=1.5)
    if alerts is not None:
        for a in alerts.itertuples():
            ax.axvspan(pos[a.first_period] - 0.4, pos[a.last_period] + 0.4, color="#C44E52", alpha=0.12)
            ax.text(pos[a.first_period], ax.get_ylim()[1] * 0.95, f"alert: {a.unit}", color="#C44E52", fontsize=8)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(range(len(periods)), periods, rotation=45, fontsize=8)
    ax.set_ylabel("NPS")
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=4)
    fig.tight_layout()
    return fig


def pareto_chart(table: pd.DataFrame, title: str):
    """Bars of counts, largest first, with the cumulative share line (from :func:`sqmlib.kpi.pareto`)."""
    fig, ax = subplots(figsize=(8, 3.8))
    x = np.arange(len(table))
    ax.bar(x, table["count"], color=np.where(table["top"], "#C44E52", "#4C72B0"))
    ax.set_xticks(x, [str(i) for i in table.index], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("count")
    ax2 = ax.twinx()
    ax2.plot(x, 100 * table["cumulative_share"], "o-", color="black")
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("cumulative share (%)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


# ---- the service-profit chain ---------------------------------------------------------------------------------
def index_chart(index: pd.DataFrame, title: str = "Index per construct (0–100), with 95 % intervals"):
    """Horizontal bars of each construct's 0–100 index with its bootstrap interval."""
    t = index.iloc[::-1]
    fig, ax = subplots(figsize=(7, 0.4 * len(t) + 1.4))
    y = np.arange(len(t))
    ax.barh(y, t["index"], color="#4C72B0")
    if "ci_low" in t:
        ax.errorbar(t["index"], y, xerr=[t["index"] - t["ci_low"], t["ci_high"] - t["index"]], fmt="none",
                    ecolor="black", capsize=2, lw=0.8)
    ax.set_yticks(y, [str(i) for i in t.index])
    ax.set_xlim(0, 100)
    ax.set_xlabel("index (0–100)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def ipma_chart(cmap: pd.DataFrame, target: str, title: str | None = None):
    """Importance–performance map: total effect on the target against the 0–100 performance, with the means
    as crosshair; the lower right is where to act."""
    fig, ax = subplots(figsize=(7, 5.5))
    ax.scatter(cmap["performance"], cmap["importance"], color="#4C72B0", s=50)
    for name, r in cmap.iterrows():
        ax.annotate(str(name), (r["performance"], r["importance"]), fontsize=8, xytext=(4, 3),
                    textcoords="offset points")
    ax.axvline(cmap["performance"].mean(), color="black", lw=0.8, ls="--")
    ax.axhline(cmap["importance"].mean(), color="black", lw=0.8, ls="--")
    ax.set_xlabel("performance (index, 0–100)")
    ax.set_ylabel(f"importance (total effect on {target})")
    ax.set_title(title or f"Importance–performance map for {target}")
    fig.tight_layout()
    return fig


# ---- the quarterly summary ------------------------------------------------------------------------------------
def kpi_trend_chart(trend: pd.DataFrame, current: str, title: str = "Headline KPIs per quarter"):
    """NPS (−100…100) and CSAT (% of customers) per quarter on one axis that starts at zero (or below it, for a
    negative NPS), the current quarter marked: no second axis scaled to make the two lines meet."""
    fig, ax = subplots(figsize=(7, 3.4))
    x = np.arange(len(trend))
    labels = [str(q) for q in trend.index]
    handles, values = [], []
    if "nps" in trend:
        handles += ax.plot(x, trend["nps"], marker="o", color="#4C72B0", label="NPS")
        values += list(trend["nps"].dropna())
    if "csat" in trend:
        handles += ax.plot(x, 100 * trend["csat"], marker="s", color="#DD8452", label="CSAT (%)")
        values += list(100 * trend["csat"].dropna())
    if values:
        low, high = min(0.0, min(values)), max(0.0, max(values))
        pad = 0.08 * (high - low or 1.0)
        ax.set_ylim(low - (pad if low < 0 else 0.0), min(100.0, high + pad) if high <= 100 else high + pad)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_ylabel(" / ".join(h.get_label() for h in handles))
    if current in labels:
        k = labels.index(current)
        ax.axvspan(k - 0.35, k + 0.35, color="#999999", alpha=0.18, lw=0)
    ax.set_xticks(x, [f"{q}\n(this quarter)" if q == current else q for q in labels])
    ax.set_title(title)
    if handles:
        ax.legend(handles=handles, labels=[h.get_label() for h in handles], fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def unit_alert_chart(per_unit: pd.Series, alerted: set, unit: str, title: str | None = None):
    """NPS of each unit this quarter; units under an alert (far below their own benchmark) in red."""
    t = per_unit.dropna().sort_values()
    fig, ax = subplots(figsize=(6.5, 0.45 * len(t) + 1.4))
    y = np.arange(len(t))
    colours = ["#C44E52" if str(u) in alerted else "#8C8C8C" for u in t.index]
    ax.barh(y, t.to_numpy(), color=colours)
    ax.set_yticks(y, [f"{u} (alert)" if str(u) in alerted else str(u) for u in t.index])
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("NPS this quarter")
    ax.set_title(title or f"NPS per {unit}: red = NPS alert")
    fig.tight_layout()
    return fig
