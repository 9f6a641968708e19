"""Charts of the KANO questionnaire and of service recovery (the driver and KPI pages)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .plots import shorten, subplots


def _label_points(ax, xs, ys, texts, span_x: float, span_y: float, fontsize: int = 8) -> None:
    """Label scatter points, moving a label down a line when it would sit on an earlier one (points closer
    than 4 % of the axes' height and 25 % of their width)."""
    placed: list[tuple[float, float, int]] = []
    for x, y, t in sorted(zip(xs, ys, texts), key=lambda p: -p[1]):
        shift = 0
        for px, py, ps in placed:
            if abs(px - x) < 0.25 * span_x and abs(py - y) < 0.04 * span_y and ps == shift:
                shift += 1
        placed.append((x, y, shift))
        ax.annotate(t, (x, y), xytext=(5, 4 - 11 * shift), textcoords="offset points", fontsize=fontsize)


PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3")


def _kano_quadrants(fig, ax, cut: float, limits: tuple[float, float], xlabel: str, ylabel: str, title: str):
    """The KANO charts' frame: the crosshair at ``cut`` on both axes, each quadrant's category in its corner."""
    ax.axvline(cut, color="#999999", lw=0.8, ls="--")
    ax.axhline(cut, color="#999999", lw=0.8, ls="--")
    for (qx, qy, word) in ((0.02, 0.97, "attractive"), (0.98, 0.97, "one-dimensional"),
                           (0.98, 0.03, "must-be"), (0.02, 0.03, "indifferent")):
        ax.text(qx, qy, word, transform=ax.transAxes, ha="left" if qx < 0.5 else "right",
                va="top" if qy > 0.5 else "bottom", fontsize=9, color="#555555")
    ax.set_xlim(*limits)
    ax.set_ylim(*limits)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def kano_better_worse(coef: pd.DataFrame, names: dict | None = None,
                      title: str = "KANO: Better against Worse per attribute"):
    """Timko's chart: how much having each attribute satisfies (Better) against how much its absence
    dissatisfies (|Worse|), quadrants at 0.5, points coloured by the attribute's category."""
    names = names or {}
    colours = {"M": "#C44E52", "O": "#4C72B0", "A": "#55A868", "I": "#999999", "R": "#8172B3", "Q": "#999999"}
    t = coef.dropna(subset=["better", "worse"])
    fig, ax = subplots(figsize=(7.0, 3.9))
    x, y = -t["worse"].to_numpy(float), t["better"].to_numpy(float)
    ax.scatter(x, y, c=[colours.get(c, "#999999") for c in t["category"]], s=46, zorder=3)
    _label_points(ax, x, y, [shorten(str(names.get(a, a)), 28) for a in t.index], 1.0, 1.0)
    return _kano_quadrants(fig, ax, 0.5, (0, 1), "|Worse|: dissatisfaction when absent",
                           "Better: satisfaction when present", title)


def kano_continuous(scores: pd.DataFrame, names: dict | None = None,
                    title: str = "KANO: mean functional and dysfunctional scores"):
    """The continuous view: each attribute's mean dysfunctional (x) and functional (y) score with one standard
    error bars, quadrants at 2."""
    names = names or {}
    t = scores.dropna(subset=["functional", "dysfunctional"])
    fig, ax = subplots(figsize=(7.0, 3.9))
    se_x = t["dysfunctional_sd"] / np.sqrt(t["n"].clip(lower=1))
    se_y = t["functional_sd"] / np.sqrt(t["n"].clip(lower=1))
    ax.errorbar(t["dysfunctional"], t["functional"], xerr=se_x, yerr=se_y, fmt="o", color="#4C72B0", ms=6,
                elinewidth=0.8, zorder=3)
    _label_points(ax, t["dysfunctional"].to_numpy(float), t["functional"].to_numpy(float),
                  [shorten(str(names.get(a, a)), 28) for a in t.index], 6.0, 6.0)
    return _kano_quadrants(fig, ax, 2, (-2, 4), "dysfunctional score (without the attribute)",
                           "functional score (with the attribute)", title)


def revisit_curves(curves: pd.DataFrame, target: float, title: str = "Share of remedies followed by a revisit"):
    """Kaplan–Meier curves of the share of remedies followed by a satisfaction revisit by each hour, per unit,
    with the standard's limit."""
    fig, ax = subplots(figsize=(7.5, 4.4))
    for k, unit in enumerate(curves.columns):
        ax.step(curves.index, 100 * curves[unit], where="post", lw=2.2 if unit == "all" else 1.3,
                color="black" if unit == "all" else PALETTE[k % len(PALETTE)], label=str(unit))
    ax.axvline(target, color="#C44E52", ls="--", lw=1)
    ax.annotate(f"{target:g}", (target, 2), xytext=(4, 0), textcoords="offset points", fontsize=8,
                color="#C44E52")
    ax.set_xlabel("hours after the remedy")
    ax.set_ylabel("% revisited")
    ax.set_ylim(0, 100)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def remedy_chart(effects: pd.DataFrame, title: str = "Revisit satisfaction per remedy, adjusted (95 % intervals)",
                 xlabel: str = "revisit satisfaction (1–5), adjusted for severity and category"):
    """Adjusted means per remedy with their intervals (from :func:`sqmlib.kpi.recovery.adjusted_means`)."""
    t = effects.sort_values("adjusted")
    fig, ax = subplots(figsize=(7.5, 0.45 * len(t) + 1.6))
    y = np.arange(len(t))
    ax.errorbar(t["adjusted"], y, xerr=[t["adjusted"] - t["ci_low"], t["ci_high"] - t["adjusted"]], fmt="o",
                color="#4C72B0", capsize=3)
    ax.set_yticks(y, [str(i) for i in t.index])
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    fig.tight_layout()
    return fig


GROUP_COLOURS = {"above_chain": "#55A868", "level_with_chain": "#4C72B0", "below_chain": "#C44E52"}


def league_chart(league: pd.DataFrame, title: str = "Audit score per store, with 95 % intervals", labelled: int = 40):
    """Stores' mean visit scores with their intervals, best at the top, coloured by their group against the
    chain's mean (above, cannot be told apart, below); the chain's mean as a line. More than ``labelled`` stores:
    a caterpillar plot (stores in rank order along the x axis, unlabelled: the table names them)."""
    t = league.sort_values("score")
    colours = [GROUP_COLOURS.get(g, "#4C72B0") for g in t["group"]]
    chain = float(league.attrs.get("chain", t["score"].mean()))
    pos = np.arange(len(t))
    if len(t) > labelled:
        fig, ax = subplots(figsize=(7.5, 3.8))
        ax.vlines(pos, t["ci_low"].clip(lower=0), t["ci_high"].clip(upper=100), color=colours, lw=1)
        ax.scatter(pos, t["score"], c=colours, s=8, zorder=3)
        ax.axhline(chain, color="black", lw=0.8, ls="--")
        ax.set_xticks([])
        ax.set_xlabel("stores, lowest score first")
        ax.set_ylim(0, 100)
        ax.set_ylabel("mean visit score (0–100)")
    else:
        fig, ax = subplots(figsize=(7.5, 0.32 * len(t) + 1.6))
        ax.hlines(pos, t["ci_low"].clip(lower=0), t["ci_high"].clip(upper=100), color=colours, lw=2)
        ax.scatter(t["score"], pos, c=colours, s=36, zorder=3)
        ax.axvline(chain, color="black", lw=0.8, ls="--")
        ax.set_yticks(pos, [str(i) for i in t.index], fontsize=8)
        ax.set_xlim(0, 100)
        ax.set_xlabel("mean visit score (0–100)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def compliance_heatmap(shares: pd.DataFrame, title: str = "Share of visits passing each item, per store"):
    """Stores × items: the share passing (or the mean item score of rating items), 0–100 %."""
    fig, ax = subplots(figsize=(8.0, 0.3 * len(shares) + 3.0))
    im = ax.imshow(100 * shares.to_numpy(float), aspect="auto", cmap="RdYlGn", vmin=40, vmax=100)
    ax.set_xticks(np.arange(shares.shape[1]), [shorten(str(c), 30) for c in shares.columns], rotation=40,
                  ha="right", fontsize=8)
    ax.set_yticks(np.arange(shares.shape[0]), [str(i) for i in shares.index], fontsize=8)
    for (i, j), v in np.ndenumerate(shares.to_numpy(float)):
        if np.isfinite(v) and shares.shape[0] <= 40:
            ax.text(j, i, f"{100 * v:.0f}", ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, label="%", shrink=0.8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def d_study_chart(d: pd.DataFrame, today: float, target: float = 0.8,
                  title: str = "Reliability of a store's quarterly score by visits per quarter"):
    """Φ (shoppers differ between stores) and Eρ² (the same shoppers everywhere) by visits per store, the
    target line and today's design."""
    fig, ax = subplots(figsize=(7.5, 3.8))
    ax.plot(d.index, d["phi"], color="#4C72B0", lw=2, label="shoppers differ between stores (Φ)")
    ax.plot(d.index, d["g"], color="#999999", lw=1.2, ls="--", label="the same shoppers everywhere (Eρ²)")
    ax.axhline(target, color="#C44E52", lw=0.8)
    ax.axvline(today, color="black", lw=0.8, ls=":")
    ax.annotate("today", (today, 0.05), xytext=(4, 0), textcoords="offset points", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_xlabel("visits per store per quarter")
    ax.set_ylabel("reliability coefficient")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def audit_survey_scatter(pairs: pd.DataFrame, title: str = "Audit score against customers' perception, per store"):
    """One point a store and quarter (dimensions averaged): the audit score (x) and the survey's perception
    (y), both 0–100, with the least-squares line."""
    t = pairs.groupby([pairs.columns[0], "quarter"])[["audit", "perception"]].mean()
    fig, ax = subplots(figsize=(7.0, 3.1))
    ax.scatter(t["audit"], t["perception"], s=22, color="#4C72B0", alpha=0.8)
    if len(t) > 2 and t["audit"].std() > 0:
        b, a = np.polyfit(t["audit"], t["perception"], 1)
        xs = np.linspace(t["audit"].min(), t["audit"].max(), 2)
        ax.plot(xs, a + b * xs, color="#C44E52", lw=1)
    ax.set_xlabel("audit score (0–100)")
    ax.set_ylabel("customers' perception (0–100)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def region_scores_chart(scores: pd.DataFrame, title: str = "Mean visit score per region and quarter"):
    """Regions' mean visit scores (rows: regions, columns: quarters) as one line each."""
    fig, ax = subplots(figsize=(7.5, 4.6))
    x = np.arange(scores.shape[1])
    for k, (region, row) in enumerate(scores.iterrows()):
        ax.plot(x, row.to_numpy(float), "o-", color=PALETTE[k % len(PALETTE)], label=str(region))
    ax.set_xticks(x, [str(c) for c in scores.columns])
    ax.set_ylabel("mean visit score (0–100)")
    ax.legend(fontsize=8, loc="best")
    ax.set_title(title)
    fig.tight_layout()
    return fig


CAUSE_ORDER = ("people", "machines", "materials", "methods", "environment", "measurement")


def fishbone_chart(causes: pd.DataFrame, problem: str, title: str = "Complaints by root cause",
                   names: dict | None = None):
    """A fishbone (Ishikawa) diagram: the problem at the head, one bone per cause with its complaints and its
    largest categories (``causes``: rows cause, category, count; ``names``: how to write causes and categories)."""
    name = (lambda v: (names or {}).get(v, v))
    fig, ax = subplots(figsize=(8.5, 4.2))
    ax.set_xlim(0, 10)
    ax.set_ylim(-3.3, 3.3)
    ax.axis("off")
    ax.annotate("", xy=(8.3, 0), xytext=(0.3, 0), arrowprops=dict(arrowstyle="-|>", lw=2, color="#333333"))
    ax.text(8.4, 0, problem, va="center", ha="left", fontsize=10.5, color="#111111", wrap=True)
    totals = causes.groupby("cause")["count"].sum()
    for k, cause in enumerate(CAUSE_ORDER):
        x = 1.6 + 2.3 * (k % 3)
        top = k < 3
        y_end = 2.4 if top else -2.4
        ax.plot([x, x + 1.2], [y_end, 0], color="#4C72B0", lw=1.5)
        n = int(totals.get(cause, 0))
        ax.text(x - 0.1, y_end + (0.25 if top else -0.25), f"{name(cause)} ({n:,})", ha="center",
                va="bottom" if top else "top", fontsize=9.5, color="#111111")
        cats = causes[causes["cause"] == cause].sort_values("count", ascending=False).head(3)
        for j, (_, r) in enumerate(cats.iterrows()):
            frac = 0.25 + 0.25 * j
            yy = y_end * (1 - frac)
            ax.text(x + 1.2 * frac - 0.08, yy, f"{shorten(str(name(r['category'])), 22)} {int(r['count']):,}", ha="right",
                    va="center", fontsize=7.5, color="#333333")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def effect_chart(observed: pd.Series, counterfactual: pd.Series, start, title: str, ylabel: str):
    """An action's effect card: the observed KPI per period, its counterfactual from the action's start (what the
    comparison predicts without the action) and the start."""
    fig, ax = subplots(figsize=(7.5, 3.0))
    x = observed.index.to_timestamp() if isinstance(observed.index, pd.PeriodIndex) else observed.index
    ax.plot(x, observed.to_numpy(), color="#4C72B0", lw=1.2, marker="o", ms=2.5, label="observed")
    after = np.asarray(x >= pd.Timestamp(start))
    cf = counterfactual.to_numpy()
    ax.plot(np.asarray(x)[after], cf[after], color="#C44E52", lw=1.6, ls="--", label="without the action (estimated)")
    ax.axvline(pd.Timestamp(start), color="black", lw=0.8, ls=":")
    ax.annotate("start", (pd.Timestamp(start), 1), xycoords=("data", "axes fraction"), xytext=(3, -10),
                textcoords="offset points", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def _paired_bars(labels, first, second, names, title: str, xlabel: str, *, row: float, cut: int):
    """Two bars per row (the first row on top): ``first`` light, ``second`` dark, labels cut to ``cut``."""
    labels, first, second = list(labels)[::-1], np.asarray(first)[::-1], np.asarray(second)[::-1]
    fig, ax = subplots(figsize=(7.5, row * len(labels) + 1.4))
    y = np.arange(len(labels))
    ax.barh(y + 0.2, first, height=0.38, color="#9DB4D6", label=names[0])
    ax.barh(y - 0.2, second, height=0.38, color="#4C72B0", label=names[1])
    ax.set_yticks(y)
    ax.set_yticklabels([shorten(str(s), cut) for s in labels], fontsize=8)
    ax.set_xlabel(xlabel)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def drill_chart(explanations: pd.DataFrame, before: str, after: str,
                title: str = "Where it moved: the explaining segments before and after"):
    """Each explanation of a drill-down (``segments`` as text, ``before``, ``after``) as a pair of bars."""
    return _paired_bars(explanations["segments"], explanations["before"], explanations["after"], (before, after),
                        title, "count", row=0.55, cut=34)


def segment_chart(shares: pd.DataFrame, title: str = "Customers and lifetime value per RFM segment"):
    """Per segment (rows, display names as the index) the share of customers and the share of lifetime value."""
    return _paired_bars(shares.index, shares["customers_share"] * 100, shares["value_share"] * 100,
                        ("share of customers", "share of lifetime value"), title, "%", row=0.42, cut=28)


def qini_chart(curves: dict, title: str = "Qini curves: who the offer changes"):
    """Each learner's Qini curve (``curves``: name → (customers targeted, incremental outcomes)) against a random
    ranking."""
    fig, ax = subplots(figsize=(7.0, 3.6))
    for k, (name, (x, v)) in enumerate(curves.items()):
        ax.plot(np.asarray(x) / x[-1] * 100, v, color=PALETTE[k % len(PALETTE)], lw=1.6, label=name)
    x, v = next(iter(curves.values()))
    ax.plot([0, 100], [0, v[-1]], color="#999999", lw=1, ls="--", label="random")
    ax.set_xlabel("customers contacted (%)")
    ax.set_ylabel("customers kept by the offer")
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def holdout_chart(holdout: pd.DataFrame, title: str = "Hold-out check: predicted and actual repeat purchases"):
    """Mean predicted and actual repeat purchases in the hold-out weeks per number of repeat purchases before."""
    fig, ax = subplots(figsize=(7.0, 3.4))
    x = np.arange(len(holdout))
    ax.plot(x, holdout["predicted"] / holdout["customers"], marker="o", color="#4C72B0", label="predicted")
    ax.plot(x, holdout["actual"] / holdout["customers"], marker="s", color="#DD8452", label="actual")
    ax.set_xticks(x)
    ax.set_xticklabels(list(holdout.index))
    ax.set_xlabel("repeat purchases before the hold-out")
    ax.set_ylabel("repeat purchases per customer")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def ranking_effects_chart(groups: dict, title: str = "The offer's measured effect per tenth of each ranking"):
    """Per tenth of each ranking (``groups``: name → :func:`sqmlib.value.uplift_by_group` table, first tenth first)
    the campaign's measured effect on staying, in percentage points."""
    fig, ax = subplots(figsize=(7.5, 3.6))
    width = 0.8 / max(len(groups), 1)
    for k, (name, g) in enumerate(groups.items()):
        x = np.arange(len(g)) + (k - (len(groups) - 1) / 2) * width
        ax.bar(x, g["measured_uplift"].to_numpy() * 100, width=width, color=PALETTE[k % len(PALETTE)], label=name)
    first = next(iter(groups.values()))
    ax.axhline(0, color="#333333", lw=0.8)
    ax.set_xticks(np.arange(len(first)))
    ax.set_xticklabels([str(i) for i in first.index])
    ax.set_xlabel("tenth of the ranking (1 = ranked first)")
    ax.set_ylabel("effect on staying (points)")
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig
