"""Scores of audit visits: items, visits and sections, stores and regions, ranks, compliance, timing, and the
link to what the survey's customers perceive.

Conventions (written on the page):

- An item scores 0–1: yes 1, no 0; a rating (x − min) / (max − min). An item applies to a visit unless it was
  answered "not applicable" or names scenarios the visit's is not among.
- A visit's score is the weighted mean of its applicable items × 100 (a section's likewise); a critical item
  *fails* when it scores below ½ (a "no", a rating below the scale's middle). The checklist's rule then sets a
  failing visit's score to 0 (``zero``), to at most ``cap`` (``cap``), or leaves it and lists it (``flag``).
- A store's (region's) score per quarter is the mean of its visit scores with a t interval; its compliance is
  the share of yes/no checks passed with the exact (Clopper–Pearson) interval, which treats the checks as
  independent (checks within a visit are not quite: read it as a lower bound of the uncertainty).
- Item compliance per store: the share passed with Wilson's interval (yes/no items), the mean item score for
  rating items.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import sparse, stats

from ..errors import SQMArgumentError
from ..kpi.survey import wilson  # noqa: F401  (item compliance's interval; re-exported)

Z95 = 1.959963984540054


def item_scores(items: pd.DataFrame, visits: pd.DataFrame, checklist) -> pd.DataFrame:
    """The answers of the visits as item scores: one row an applicable, answered item of a visit, with
    ``score`` (0–1), ``passed`` (yes/no items: 1/0, ratings NaN), ``failed_critical``, the checklist's
    ``weight``, ``section``, ``dimension`` and ``critical``, and the visit's ``store``, ``region``,
    ``shopper_id``, ``quarter`` and ``scenario``."""
    spec = pd.DataFrame([{"item_id": i.id, "weight": i.weight, "section": i.section, "dimension": i.dimension,
                          "critical": i.critical, "lo": i.scale[0] if i.scale else 0.0,
                          "hi": i.scale[1] if i.scale else 1.0, "yes_no": i.yes_no,
                          "scenarios": i.scenarios} for i in checklist.items])
    keep = [c for c in ("visit_id", "store", "region", "shopper_id", "quarter", "scenario", "visit_date")
            if c in visits]
    x = items.loc[items["applicable"] & items["value"].notna(), ["visit_id", "item_id", "value"]]
    x = x.merge(spec, on="item_id", how="inner").merge(visits[keep], on="visit_id", how="inner")
    if "scenario" in x and x["scenarios"].map(len).any():
        ok = [not sc or s in sc for s, sc in zip(x["scenario"], x["scenarios"])]
        x = x[np.asarray(ok, dtype=bool)]
    x = x.assign(score=(x["value"] - x["lo"]) / (x["hi"] - x["lo"]))
    x["passed"] = x["score"].where(x["yes_no"])
    x["failed_critical"] = x["critical"] & (x["score"] < 0.5)
    return x.drop(columns=["lo", "hi", "scenarios", "value"]).reset_index(drop=True)


def visit_scores(scored: pd.DataFrame, visits: pd.DataFrame, checklist) -> pd.DataFrame:
    """One row a visit: ``raw`` (weighted mean of its item scores × 100), ``score`` (after the critical-item
    rule), ``critical_failed``, ``failed_items`` (the ids of the critical items failed), ``checks`` and
    ``passed`` (its yes/no items), and one column per section (``section:<name>``)."""
    w = scored.assign(ws=scored["weight"] * scored["score"])
    g = w.groupby("visit_id", sort=False)
    raw = 100 * g["ws"].sum() / g["weight"].sum()
    failed = w[w["failed_critical"]].groupby("visit_id")["item_id"].agg(lambda s: ", ".join(s))
    sec = w.groupby(["visit_id", "section"])[["ws", "weight"]].sum()
    sec = (100 * sec["ws"] / sec["weight"]).unstack("section")
    sec.columns = [f"section:{c}" for c in sec.columns]
    checks = w[w["yes_no"]].groupby("visit_id")["passed"].agg(["size", "sum"])
    out = visits.set_index("visit_id").join(raw.rename("raw"), how="inner")
    out["failed_items"] = failed.reindex(out.index).fillna("")
    out["critical_failed"] = out["failed_items"] != ""
    rule = checklist.critical_rule
    out["score"] = (out["raw"].where(~out["critical_failed"], 0.0) if rule == "zero" else
                    out["raw"].where(~out["critical_failed"], np.minimum(out["raw"], checklist.cap)) if rule == "cap"
                    else out["raw"])
    out["checks"] = checks["size"].reindex(out.index).fillna(0).astype(int)
    out["passed"] = checks["sum"].reindex(out.index).fillna(0).astype(int)
    if "visit_date" in out:
        out["weekend"] = out["visit_date"].dt.dayofweek >= 5
    return out.join(sec).reset_index()


def clopper_pearson(k, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial interval of k successes in n trials (vectorised)."""
    k, n = np.asarray(k, float), np.asarray(n, float)
    a = 1 - confidence
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k > 0, stats.beta.ppf(a / 2, k, n - k + 1), 0.0)
        high = np.where(k < n, stats.beta.ppf(1 - a / 2, k + 1, n - k), 1.0)
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def unit_scores(visits: pd.DataFrame, by, *, confidence: float = 0.95) -> pd.DataFrame:
    """Per unit (``by``: a column or columns, e.g. ["quarter", "store"]): ``visits``, mean ``score`` with its t
    interval, ``sd``, visits failing a critical item, and ``compliance`` (yes/no checks passed) with the exact
    binomial interval."""
    by = [by] if isinstance(by, str) else list(by)
    g = visits.groupby(by, observed=True)
    out = pd.DataFrame({"visits": g.size(), "score": g["score"].mean(), "sd": g["score"].std(ddof=1),
                        "critical_failures": g["critical_failed"].sum().astype(int),
                        "checks": g["checks"].sum(), "passed": g["passed"].sum()})
    t = stats.t.ppf(1 - (1 - confidence) / 2, np.maximum(out["visits"] - 1, 1))
    half = t * out["sd"] / np.sqrt(out["visits"])
    out["ci_low"], out["ci_high"] = out["score"] - half, out["score"] + half
    out["compliance"] = out["passed"] / out["checks"].where(out["checks"] > 0)
    out["compliance_low"], out["compliance_high"] = clopper_pearson(out["passed"], out["checks"], confidence)
    return out[["visits", "score", "ci_low", "ci_high", "sd", "critical_failures", "compliance", "compliance_low",
                "compliance_high", "checks", "passed"]]


def rank_intervals(visits: pd.DataFrame, unit: str = "store", *, score: str = "score", n_boot: int = 1000,
                   seed: int = 0, confidence: float = 0.95, chunk: int = 2_000_000) -> pd.DataFrame:
    """Ranks of the units by mean score (1 the best) with bootstrap intervals, resampling visits within each
    unit (all resamples at once, in chunks of at most ``chunk`` draws): the mean score's percentile interval
    (``ci_low``, ``ci_high``), each unit's difference from the chain's mean visit score with its percentile
    interval, and its ``group``: ``above_chain`` (the difference's interval lies above 0), ``below_chain`` or
    ``level_with_chain`` (it
    cannot be told apart from the chain's mean)."""
    d = visits[[unit, score]].dropna().sort_values(unit, kind="stable")
    y = d[score].to_numpy(float)
    codes, names = pd.factorize(d[unit], sort=True)
    counts = np.bincount(codes)
    if len(names) < 2:
        raise SQMArgumentError("ranking needs two or more units with scored visits")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rng = np.random.default_rng(seed)
    n, k = len(y), len(names)
    means, diffs = np.empty((n_boot, k)), np.empty((n_boot, k))
    step = max(1, chunk // max(n, 1))
    for b0 in range(0, n_boot, step):
        b = min(step, n_boot - b0)
        pos = starts[codes][None, :] + np.floor(rng.random((b, n)) * counts[codes][None, :]).astype(np.int64)
        sums = np.add.reduceat(y[pos], starts, axis=1)
        m = sums / counts
        means[b0:b0 + b] = m
        diffs[b0:b0 + b] = m - sums.sum(axis=1, keepdims=True) / n
    ranks = (-means).argsort(axis=1).argsort(axis=1) + 1
    point = pd.Series(np.bincount(codes, y) / counts, index=names)
    a = (1 - confidence) / 2
    out = pd.DataFrame({"visits": counts, "score": point.to_numpy(),
                        "rank": point.rank(ascending=False, method="min").astype(int).to_numpy(),
                        "rank_low": np.floor(np.quantile(ranks, a, axis=0)).astype(int),
                        "rank_high": np.ceil(np.quantile(ranks, 1 - a, axis=0)).astype(int),
                        "ci_low": np.quantile(means, a, axis=0), "ci_high": np.quantile(means, 1 - a, axis=0),
                        "difference": point.to_numpy() - y.mean(),
                        "difference_low": np.quantile(diffs, a, axis=0),
                        "difference_high": np.quantile(diffs, 1 - a, axis=0)}, index=pd.Index(names, name=unit))
    out["group"] = np.where(out["difference_low"] > 0, "above_chain",
                            np.where(out["difference_high"] < 0, "below_chain", "level_with_chain"))
    return out.sort_values(["rank", "score"], ascending=[True, False])


def item_compliance(scored: pd.DataFrame, by: str = "store", *, confidence: float = 0.95) -> pd.DataFrame:
    """Per unit and item: ``checked`` visits, ``share`` (yes/no: passed; ratings: mean item score 0–1) and, for
    yes/no items, Wilson's interval."""
    g = scored.groupby([by, "item_id"], observed=True)
    out = pd.DataFrame({"checked": g.size(), "share": g["score"].mean(), "passed": g["passed"].sum(min_count=1),
                        "yes_no": g["yes_no"].first(), "critical": g["critical"].first()})
    low, high = wilson(out["passed"], out["checked"], confidence)
    out["ci_low"] = np.where(out["yes_no"], low, np.nan)
    out["ci_high"] = np.where(out["yes_no"], high, np.nan)
    return out


def compliance_chart(scored: pd.DataFrame, *, freq: str = "M") -> pd.DataFrame:
    """The chain's yes/no compliance per month (``freq``) as p-chart input: ``label``, ``passed``, ``checks``."""
    y = scored[scored["yes_no"]]
    period = y["visit_date"].dt.to_period(freq).astype(str)
    g = y.groupby(period)["passed"].agg(["sum", "size"])
    return pd.DataFrame({"label": g.index, "passed": g["sum"].to_numpy(), "checks": g["size"].to_numpy()})


DAYPARTS = ((0, 12, "morning"), (12, 17, "afternoon"), (17, 24, "evening"))


def timing_effects(visits: pd.DataFrame, *, score: str = "score", confidence: float = 0.95) -> pd.DataFrame:
    """Weekend and time-of-day effects on visit scores: least squares with store and shopper fixed effects (so
    a lenient shopper who visits at weekends, or a store visited mostly in the evening, does not pass for a
    timing effect), HC1 standard errors. Rows ``weekend`` (against weekdays) and ``afternoon``/``evening``
    (against mornings, when visit times are known): ``effect`` in score points, ``se``, interval, ``p_value``,
    ``visits`` (in that group)."""
    d = visits.dropna(subset=[score, "store", "shopper_id"])
    cols = {"weekend": d["weekend"].astype(float).to_numpy()}
    if "visit_hour" in d and d["visit_hour"].notna().mean() > 0.5:
        d = d[d["visit_hour"].notna()]
        cols = {"weekend": d["weekend"].astype(float).to_numpy()}
        for lo, hi, name in DAYPARTS[1:]:
            cols[name] = ((d["visit_hour"] >= lo) & (d["visit_hour"] < hi)).astype(float).to_numpy()
    cols = {k: v for k, v in cols.items() if 0 < v.sum() < len(v)}
    if not cols or len(d) < 10:
        return pd.DataFrame(columns=["effect", "se", "ci_low", "ci_high", "p_value", "visits"])
    fixed = [pd.get_dummies(d[c], drop_first=True, dtype=float, sparse=True).sparse.to_coo().tocsr()
             for c in ("store", "shopper_id")]
    X = sparse.hstack([sparse.csr_matrix(np.column_stack([np.ones(len(d)), *cols.values()])), *fixed],
                      format="csr")  # the dummies stay sparse: the normal equations have the fixed effects' size
    y = d[score].to_numpy(float)
    n = X.shape[0]
    xtx = (X.T @ X).toarray()
    inv = np.linalg.pinv(xtx, hermitian=True)
    beta = inv @ (X.T @ y)
    e = y - X @ beta
    rank = int(np.linalg.matrix_rank(xtx, hermitian=True))
    k = len(cols)
    sub = inv[1:1 + k]
    meat = (X.T @ X.multiply((e ** 2)[:, None])).toarray()
    cov = sub @ meat @ sub.T * n / (n - rank)
    se = np.sqrt(np.diag(cov))
    t = stats.t.ppf(1 - (1 - confidence) / 2, n - rank)
    eff = beta[1:1 + k]
    return pd.DataFrame({"effect": eff, "se": se, "ci_low": eff - t * se, "ci_high": eff + t * se,
                         "p_value": 2 * stats.t.sf(np.abs(eff / se), n - rank),
                         "visits": [int(v.sum()) for v in cols.values()]}, index=pd.Index(list(cols), name="effect_of"))


def fisher_interval(r: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Interval of a Pearson correlation by Fisher's z."""
    if n <= 3 or not np.isfinite(r) or abs(r) >= 1:
        return (float("nan"), float("nan"))
    z = math.atanh(r)
    h = stats.norm.ppf(1 - (1 - confidence) / 2) / math.sqrt(n - 3)
    return (math.tanh(z - h), math.tanh(z + h))


def survey_link(scored: pd.DataFrame, survey: pd.DataFrame, dimension_scores: pd.DataFrame, scale,
                *, unit: str = "store", min_respondents: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Audit scores beside the survey's perceptions, per unit and quarter and per dimension the items observe.

    ``dimension_scores`` is the survey's respondent × dimension perception (the instrument's scale); it is put
    on 0–100 as (x − min) / (max − min) × 100, as the audit scores are. Returns (pairs, correlations): one row a
    unit, quarter and dimension with ``audit``, ``visits``, ``perception`` and its standard error
    (``perception_se``, from the respondents' mean over dimensions) and ``respondents`` (units with fewer than
    ``min_respondents`` left out), and per dimension (and ``all``, dimensions averaged) the Pearson correlation
    over the pairs with Fisher's interval."""
    lo, hi = scale
    s = (100 * (dimension_scores - lo) / (hi - lo)).assign(**{unit: survey[unit], "quarter": survey["quarter"]})
    long = s.melt(id_vars=[unit, "quarter"], var_name="dimension", value_name="p").dropna()
    g = long.groupby([unit, "quarter", "dimension"], observed=True)["p"]
    perc = pd.DataFrame({"perception": g.mean(), "perception_se": g.std(ddof=1) / np.sqrt(g.size()),
                         "respondents": g.size()})
    perc = perc[perc["respondents"] >= min_respondents]
    a = scored.dropna(subset=["dimension"]).assign(ws=lambda x: x["weight"] * x["score"])
    per_visit = a.groupby(["visit_id", unit, "quarter", "dimension"], observed=True)[["ws", "weight"]].sum()
    per_visit = (100 * per_visit["ws"] / per_visit["weight"]).rename("audit").reset_index()
    aud = per_visit.groupby([unit, "quarter", "dimension"], observed=True)["audit"].agg(["mean", "size"])
    aud.columns = ["audit", "visits"]
    pairs = aud.join(perc, how="inner").reset_index()
    overall = s.assign(p=s[list(dimension_scores.columns)].mean(axis=1)).dropna(subset=["p"]).groupby(
        [unit, "quarter"], observed=True)["p"].agg(["std", "size"])
    pairs.attrs["overall_se"] = (overall["std"] / np.sqrt(overall["size"])).to_dict()
    rows = []
    for dim, t in [(d, pairs[pairs["dimension"] == d]) for d in pairs["dimension"].unique()] + [("all", None)]:
        if t is None:
            t = pairs.groupby([unit, "quarter"])[["audit", "perception"]].mean()
        r = float(t["audit"].corr(t["perception"])) if len(t) > 2 else float("nan")
        low, high = fisher_interval(r, len(t))
        rows.append({"dimension": dim, "store_quarters": len(t), "r": r, "ci_low": low, "ci_high": high})
    return pairs, pd.DataFrame(rows).set_index("dimension")


def quadrants(pairs: pd.DataFrame, quarter: str, unit: str = "store") -> pd.DataFrame:
    """Per unit in ``quarter`` (dimensions averaged): the audit score against the chain's average, the
    perception's 95 % interval against the chain's average perception. ``executed_unhappy``: the standards
    executed (audit at or above the average) while customers perceive clearly less than the chain (the interval
    below its average) — the standards may not be what customers expect; ``unexecuted_content``: the reverse
    (audit below, perception clearly above) — the standards may ask for what customers do not notice;
    ``consistent`` otherwise."""
    t = pairs[pairs["quarter"] == quarter].groupby(unit)[["audit", "perception"]].mean()
    if t.empty:
        return t.assign(position=pd.Series(dtype=object))
    se = pd.Series({k[0]: v for k, v in pairs.attrs.get("overall_se", {}).items() if k[1] == quarter})
    se = se.reindex(t.index).fillna(0.0)
    t["perception_low"], t["perception_high"] = t["perception"] - Z95 * se, t["perception"] + Z95 * se
    hi_a = t["audit"] >= t["audit"].mean()
    below, above = t["perception_high"] < t["perception"].mean(), t["perception_low"] > t["perception"].mean()
    t["position"] = np.select([hi_a & below, ~hi_a & above], ["executed_unhappy", "unexecuted_content"], "consistent")
    return t


def calibration_scores(calibration: pd.DataFrame, checklist) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(item scores, case scores) of the calibration visits: each shopper's answers per case scored as a visit
    (``raw``, before the critical-item rule: the rule would turn one disagreement into 100 points)."""
    cases = calibration[["shopper_id", "case_id"]].drop_duplicates()
    cases = cases.assign(visit_id=cases["shopper_id"].astype(str) + "|" + cases["case_id"].astype(str))
    items = calibration.merge(cases, on=["shopper_id", "case_id"])
    scored = item_scores(items, cases, checklist)
    v = visit_scores(scored, cases, checklist)
    return scored.merge(cases[["visit_id", "case_id"]], on="visit_id"), v


def shopper_deviations(case_scores: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """Per shopper on the calibration cases: ``cases``, ``deviation`` (mean of their case score − the other
    shoppers' mean of that case, score points) and ``agreement`` (share of their yes/no answers equal to the
    other shoppers' majority)."""
    c = case_scores[["shopper_id", "case_id", "raw"]]
    g = c.groupby("case_id")["raw"]
    total, n = g.transform("sum"), g.transform("size")
    others = (total - c["raw"]) / (n - 1).where(n > 1)
    dev = (c["raw"] - others).groupby(c["shopper_id"]).agg(["size", "mean"])
    y = scored[scored["yes_no"]]
    key = y.groupby(["case_id", "item_id"])["passed"]
    ysum, ycount = key.transform("sum"), key.transform("size")
    other_share = (ysum - y["passed"]) / (ycount - 1).where(ycount > 1)
    majority = (other_share >= 0.5).astype(float)
    agree = (y["passed"] == majority).groupby(y["shopper_id"]).mean()
    out = pd.DataFrame({"cases": dev["size"], "deviation": dev["mean"], "agreement": agree.reindex(dev.index)})
    out.index.name = "shopper_id"
    return out.sort_values("deviation")
