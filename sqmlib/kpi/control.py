"""Control charts, the Western Electric rules and the NPS alert rule."""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd

from ..errors import SQMArgumentError
from ..periods import period_of
from .survey import nps_ci


# ---------------------------------------------------------------------------------------------------------
# ticket KPIs
# ---------------------------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------------------------
# control charts and the Western Electric rules
# ---------------------------------------------------------------------------------------------------------
def western_electric(z: Sequence[float]) -> pd.DataFrame:
    """The four Western Electric rules on standardised values z = (x − centre)/σ of each point.

    Rule 1: a point beyond 3σ. Rule 2: 2 of 3 consecutive points beyond 2σ on the same side. Rule 3: 4 of 5
    consecutive points beyond 1σ on the same side. Rule 4: 8 consecutive points on the same side of the
    centre. A point is flagged for a rule when it completes a window that breaks it.
    """
    z = np.asarray(z, dtype=float)
    n = len(z)
    out = np.zeros((n, 4), dtype=bool)
    out[:, 0] = np.abs(z) > 3
    for i in range(n):
        for side in (1, -1):
            w3 = z[max(0, i - 2):i + 1] * side
            if len(w3) == 3 and (w3 > 2).sum() >= 2 and w3[-1] > 2:
                out[i, 1] = True
            w5 = z[max(0, i - 4):i + 1] * side
            if len(w5) == 5 and (w5 > 1).sum() >= 4 and w5[-1] > 1:
                out[i, 2] = True
            w8 = z[max(0, i - 7):i + 1] * side
            if len(w8) == 8 and (w8 > 0).all():
                out[i, 3] = True
    return pd.DataFrame(out, columns=["rule1", "rule2", "rule3", "rule4"])


def p_chart(counts: Sequence[int], sizes: Sequence[int], labels: Sequence | None = None) -> pd.DataFrame:
    """p-chart of a proportion: centre p̄ = Σk/Σn, limits p̄ ± 3·sqrt(p̄(1 − p̄)/n_i), and the rules."""
    k, n = np.asarray(counts, float), np.asarray(sizes, float)
    p = k / n
    pbar = k.sum() / n.sum()
    sigma = np.sqrt(pbar * (1 - pbar) / n)
    out = pd.DataFrame({"label": labels if labels is not None else np.arange(len(p)), "value": p, "n": n,
                        "centre": pbar, "lcl": np.clip(pbar - 3 * sigma, 0, 1), "ucl": np.clip(pbar + 3 * sigma, 0, 1),
                        "z": (p - pbar) / sigma})
    return pd.concat([out, western_electric(out["z"])], axis=1)


def imr_chart(values: Sequence[float], labels: Sequence | None = None) -> pd.DataFrame:
    """Individuals chart: centre x̄, σ estimated as mean moving range / 1.128 (limits x̄ ± 2.66·MR̄), and
    the rules; ``mr`` is each point's moving range (MR̄ upper limit 3.267·MR̄)."""
    x = np.asarray(values, float)
    mr = np.abs(np.diff(x))
    mrbar = mr.mean()
    sigma = mrbar / 1.128
    centre = x.mean()
    out = pd.DataFrame({"label": labels if labels is not None else np.arange(len(x)), "value": x, "centre": centre,
                        "lcl": centre - 3 * sigma, "ucl": centre + 3 * sigma, "z": (x - centre) / sigma,
                        "mr": np.r_[np.nan, mr], "mr_ucl": 3.267 * mrbar})
    return pd.concat([out, western_electric(out["z"])], axis=1)


# ---------------------------------------------------------------------------------------------------------
# the NPS alert rule
# ---------------------------------------------------------------------------------------------------------
class NPSAlerts(NamedTuple):
    """The NPS monitor (``table``: one row per unit and period) and the ``alerts`` it raised."""

    table: pd.DataFrame
    alerts: pd.DataFrame


def nps_alerts(survey: pd.DataFrame, unit: str = "region", *, freq: str = "M", drop: float = 0.30,
               periods: int = 3, baseline: int = 6, min_history: int = 3, min_n: int = 30,
               benchmark: str = "own") -> NPSAlerts:
    """A unit's NPS more than ``drop`` (30 %) below its benchmark for ``periods`` (3) consecutive periods.

    Benchmark ``"own"``: the unit's pooled NPS over the ``baseline`` periods before each period (at least
    ``min_history`` of them); ``"company"``: the NPS of all units together in the same period. A period
    counts as low when NPS < benchmark − drop·|benchmark|; periods with fewer than ``min_n`` answers are not
    judged (and break a run).

    Returns (per unit and period: NPS, benchmark, low flag; alerts: unit, KPI, first and last period, number
    of periods, mean NPS and benchmark over the run and the size of the drop).
    """
    cols = ["unit", "unit_type", "kpi", "first_period", "last_period", "periods", "nps", "benchmark", "size"]
    if "nps" not in survey.columns or "survey_date" not in survey.columns or unit not in survey.columns:
        return NPSAlerts(pd.DataFrame(columns=[unit, "period", "n", "nps", "benchmark", "judged", "low"]),
                         pd.DataFrame(columns=cols))
    s = survey.assign(period=period_of(survey["survey_date"], freq))
    s = s[s["nps"].notna()]
    all_periods = sorted(s["period"].unique())
    company = {p: nps_ci(g["nps"])["nps"] for p, g in s.groupby("period")}
    rows = []
    for u, g in s.groupby(unit, sort=True):
        by_p = {p: gg["nps"].to_numpy() for p, gg in g.groupby("period")}
        for i, p in enumerate(all_periods):
            x = by_p.get(p, np.array([]))
            value = nps_ci(x)["nps"] if len(x) else np.nan
            if benchmark == "own":
                hist = [by_p[q] for q in all_periods[max(0, i - baseline):i] if q in by_p]
                bench = nps_ci(np.concatenate(hist))["nps"] if len(hist) >= min_history else np.nan
            elif benchmark == "company":
                bench = company.get(p, np.nan)
            else:
                raise SQMArgumentError("benchmark must be 'own' or 'company'")
            judged = len(x) >= min_n and np.isfinite(bench) and np.isfinite(value)
            low = bool(judged and value < bench - drop * abs(bench))
            rows.append({unit: u, "period": p, "n": len(x), "nps": value, "benchmark": bench, "judged": judged,
                         "low": low})
    table = pd.DataFrame(rows)
    alerts = []
    for u, g in table.groupby(unit, sort=True):
        run = []
        for r in list(g.itertuples()) + [None]:
            if r is not None and r.low:
                run.append(r)
                continue
            if len(run) >= periods:
                alerts.append({"unit": u, "unit_type": unit, "kpi": "NPS", "first_period": run[0].period,
                               "last_period": run[-1].period, "periods": len(run),
                               "nps": float(np.mean([x.nps for x in run])),
                               "benchmark": float(np.mean([x.benchmark for x in run])),
                               "size": float(np.mean([x.nps - x.benchmark for x in run]))})
            run = []
    cols = ["unit", "unit_type", "kpi", "first_period", "last_period", "periods", "nps", "benchmark", "size"]
    return NPSAlerts(table, pd.DataFrame(alerts, columns=cols))
