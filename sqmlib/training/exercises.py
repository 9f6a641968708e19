"""Each lesson's data and the expected answers of its exercises, computed with sqmlib from that data.

``load(lesson, data_dir)`` returns the lesson's data as a dict (the notebook works on the same objects);
``expected(lesson, exercise_id)`` computes an answer. Exercises whose answer is fixed (which gap of the gaps
model a story describes, which measures the case data back) keep it in the lesson's YAML file instead.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .. import churn, drivers, gaps, io, kpi, pdca, value, voc
from ..io.actions import split_values
from ..kano.pipeline import KanoResult, kano_analysis
from ..paths import SAMPLE_DIR
from ..periods import previous_quarter, quarter_bounds
from ..render import labels
from . import cases

DIMENSION_ITEMS = "reliability"  # the dimension whose answers lesson 1 shows for one respondent


_FOLDERS: dict = {}  # data folders read for lessons in this process, by path and their files' times and sizes


def _read(data_dir):
    """:func:`sqmlib.io.load_folder` of ``data_dir``, careless respondents left out: read once per process while
    the folder's files stay unchanged (a trainer's session renders several lessons on one folder)."""
    path = Path(data_dir or SAMPLE_DIR).resolve()
    stamp = tuple(sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in os.scandir(path) if e.is_file())
                  ) if path.is_dir() else ()
    key = (str(path), stamp)
    if key not in _FOLDERS:
        if len(_FOLDERS) > 4:
            _FOLDERS.clear()
        _FOLDERS[key] = io.load_folder(data_dir or None).without_careless()
    return _FOLDERS[key]


def _sample(data_dir) -> dict:
    """The lessons' view of a data folder (:func:`sqmlib.io.load_folder`, careless respondents left out)."""
    folder = _read(data_dir)
    labels.register_instrument(folder.instrument)  # the lessons show the instrument's wording
    return {"folder": folder, "path": folder.path, "instrument": folder.instrument, "survey": folder.survey,
            "quarter": folder.latest_quarter, "customers": folder.customers, "interactions": folder.interactions,
            "standards": folder.standards, "management": folder.management}


def load(lesson: str, data_dir="") -> dict:
    """The data a lesson works on."""
    if lesson == "restaurant_case":
        c = cases.restaurant_chain()
        return {"case": c, "survey": c.survey, "customers": c.customers, "interactions": c.interactions,
                "standards": c.standards, "visits": c.visits, "instrument": "servqual", "quarter": cases.QUARTERS[-1],
                "quarters": cases.QUARTERS}
    return _sample(data_dir)


def quarter_rows(d: dict) -> pd.DataFrame:
    return d["survey"][d["survey"]["quarter"] == d["quarter"]]


def quarter_tickets(d: dict) -> pd.DataFrame:
    start, end = quarter_bounds(d["quarter"])
    t = d["interactions"]
    return t[(t["opened_at"] >= start) & (t["opened_at"] < end)]


# ---- lesson 1: SERVQUAL and the gaps model ------------------------------------------------------------------
def shown_respondent(d: dict) -> pd.Series:
    """The respondent whose answers lesson 1 computes a gap for by hand: the first of the quarter who answered
    every reliability item in both blocks."""
    inst = d["instrument"]
    cols = inst.item_columns("E", DIMENSION_ITEMS) + inst.item_columns("P", DIMENSION_ITEMS)
    return quarter_rows(d).dropna(subset=cols).iloc[0]


def gap_table(d: dict) -> pd.DataFrame:
    if "gap_table" not in d:
        d["gap_table"] = gaps.servqual_gaps(quarter_rows(d), d["instrument"], wilcoxon=False)
    return d["gap_table"]


def _dimension_gaps(d: dict) -> pd.Series:
    t = gap_table(d)
    return t[t["level"] == "dimension"].set_index("name")["gap"]


def gap1_by_dimension(d: dict) -> pd.Series:
    g1 = gaps.gap1(d["management"], quarter_rows(d), d["instrument"])
    return g1.groupby("dimension", sort=False)["gap1"].mean()


# ---- lesson 2: the restaurant case --------------------------------------------------------------------------
def case_evidence(d: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Maturity evidence of the chain in the last quarter: (evidence, levels, detail)."""
    q = d["quarter"]
    start, end = quarter_bounds(q)
    tk = kpi.ticket_kpis(d["interactions"], d["customers"], by="chain").set_index(["period", "chain"])
    att = gaps.standard_attainment(d["interactions"], d["standards"], by="chain", start=start, end=end)
    sk = kpi.survey_kpis(d["survey"], by="chain").query("period == @q").set_index("chain")
    prev = previous_quarter(q)
    ev = kpi.maturity_evidence(att, tk.loc[q], sk, tk.loc[prev])
    levels, detail = kpi.maturity(ev)
    return ev, levels, detail


# ---- lesson 4: satisfaction to loyalty ----------------------------------------------------------------------
def driver_frame(d: dict) -> pd.DataFrame:
    return drivers.driver_table(quarter_rows(d), d["instrument"], "overall_sat", "dimension")


def driver_importance(d: dict) -> drivers.Importance:
    if "importance" not in d:
        f = driver_frame(d)
        d["importance"] = drivers.relative_importance(f, "overall_sat", [c for c in f.columns if c != "overall_sat"],
                                                      n_boot=200, seed=0)
    return d["importance"]


def nps_group(scores: pd.Series) -> pd.Series:
    return pd.cut(scores, [-0.5, 6.5, 8.5, 10.5], labels=["detractors", "passives", "promoters"])


def churn_by_nps_group(d: dict, horizon_days: int = 180) -> pd.DataFrame:
    followed = drivers.survey_with_churn(d["survey"], d["customers"], horizon_days)
    g = followed.assign(group=nps_group(followed["nps"])).dropna(subset=["group"])
    out = g.groupby("group", observed=True)["churned"].agg(respondents="size", churn_rate="mean")
    return out


def churn_model(d: dict) -> churn.ChurnResult:
    if "churn_model" not in d:
        d["churn_model"] = churn.fit_at_snapshot(d["folder"], d["quarter"], horizon_days=90, seed=0).model
    return d["churn_model"]


# ---- the expected answers -----------------------------------------------------------------------------------
def _expected(lesson) -> dict:
    d = lesson.data
    return {
        # lesson 1
        ("servqual_gaps", "item_gap"): lambda: float(shown_respondent(d)["P05"] - shown_respondent(d)["E05"]),
        ("servqual_gaps", "reliability_gap"): lambda: float(_dimension_gaps(d)["reliability"]),
        ("servqual_gaps", "largest_shortfall"): lambda: str(_dimension_gaps(d).idxmin()),
        ("servqual_gaps", "tangibles_significant"): lambda: _significant(gap_table(d), "tangibles"),
        ("servqual_gaps", "management_underestimates"): lambda: str(gap1_by_dimension(d).idxmin()),
        # lesson 2
        ("restaurant_case", "largest_gap_dimension"): lambda: str(_dimension_gaps(d).idxmin()),
        ("restaurant_case", "tangibles_gap"): lambda: float(_dimension_gaps(d)["tangibles"]),
        ("restaurant_case", "top3_share"): lambda: float(kpi.pareto(quarter_tickets(d)["category"])["cumulative_share"].iloc[2]),
        ("restaurant_case", "fcr_last"): lambda: float(quarter_tickets(d)["first_contact_resolved"].astype(float).mean()),
        ("restaurant_case", "closure_share"): lambda: _closure_share(d),
        ("restaurant_case", "maturity_level"): lambda: int(case_evidence(d)[1]["level"].iloc[0]),
        ("restaurant_case", "next_level"): lambda: int(case_evidence(d)[1]["level"].iloc[0]) + 1,
        # lesson 3
        ("complaints_kpis", "major_within_4h"): lambda: _attainment(d, "first_response_hours", "major"),
        ("complaints_kpis", "fcr"): lambda: float(quarter_tickets(d)["first_contact_resolved"].astype(float).mean()),
        ("complaints_kpis", "repeat_rate"): lambda: _repeat_rate(d),
        ("complaints_kpis", "top_cause"): lambda: str(_complaints(d)["category"].value_counts().index[0]),
        ("complaints_kpis", "alert_region"): lambda: _alert_region(d),
        ("complaints_kpis", "weeks_outside"): lambda: int(weekly_chart(d)["rule1"].sum()),
        # lesson 4
        ("satisfaction_loyalty", "nps_quarter"): lambda: float(kpi.nps_ci(quarter_rows(d)["nps"])["nps"]),
        ("satisfaction_loyalty", "top_driver"): lambda: str(driver_importance(d).table["lmg"].idxmax()),
        ("satisfaction_loyalty", "concentrate"): lambda: _concentrate(d),
        ("satisfaction_loyalty", "detractor_ratio"): lambda: _detractor_ratio(d),
        ("satisfaction_loyalty", "top20_reached"): lambda: float(churn_model(d).gains(10)["cum_share_churners"].iloc[1]),
        ("satisfaction_loyalty", "top_decile_lift"): lambda: float(churn_model(d).gains(10)["lift"].iloc[0]),
        ("satisfaction_loyalty", "kano_must_count"): lambda: _must_count(d),
        ("satisfaction_loyalty", "kano_worst_absence"): lambda: _worst_absence(d),
        # lesson 5
        ("pdca_effects", "naive_change"): lambda: before_after(d, "A1")[2],
        ("pdca_effects", "did_effect"): lambda: float(pdca_result(d).checks["A1"][0].effect),
        ("pdca_effects", "a2_verdict"): lambda: str(pdca_result(d).verdicts["A2"]),
        ("pdca_effects", "a3_extra_wait"): lambda: float(pdca_result(d).checks["A3"][0].effect),
        # lesson 7
        ("voice_of_customer", "contrast_aspect"): lambda: _criticised("The technician was late but very professional"),
        ("voice_of_customer", "most_criticised"): lambda: str(voc_result(d).negative_share().index[0]),
        ("voice_of_customer", "issue_count"): lambda: int(voc_result(d).issues().iloc[0]["recent_negative"]),
        ("voice_of_customer", "issue_ratio"): lambda: float(voc_result(d).issues().iloc[0]["rate_ratio"]),
        # lesson 6
        ("risk_uplift", "overall_effect"): lambda: campaign_arms(d)["stayed"].diff().iloc[-1],
        ("risk_uplift", "risk_top_effect"): lambda: _top_effect(d, "risk"),
        ("risk_uplift", "uplift_top_effect"): lambda: _top_effect(d, "x_learner"),
        ("risk_uplift", "better_learner"): lambda: str(max(campaign(d)["models"],
                                                           key=lambda k: campaign(d)["models"][k]["qini"])),
    }


# ---- lesson 5: did the action work? ----------------------------------------------------------------------------
def pdca_result(d: dict) -> pdca.PDCAResult:
    """The PDCA page's result on the lesson's data (its action register, weekly checks)."""
    if "pdca" not in d:
        d["pdca"] = pdca.run_pdca(d["folder"])
    return d["pdca"]


def voc_result(d: dict):
    """The feedback as the voice-of-the-customer page reads it (computed once per lesson): :func:`sqmlib.voc.run_voc`."""
    if "voc" not in d:
        d["voc"] = voc.run_voc(d["folder"])
    return d["voc"]


def _criticised(text: str) -> str:
    f = voc.aspects([text])
    return str(f[f["polarity"] < 0]["aspect"].iloc[0])


def clause_readings(texts) -> pd.DataFrame:
    """Sentences as the analysis reads them: per aspect found, the clause and its polarity."""
    f = voc.aspects(texts)
    f["sentence"] = [texts[i] for i in f["text_id"]]
    return f[["sentence", "clause_text", "aspect", "dimension", "polarity"]]


def campaign(d: dict) -> dict:
    """The retention campaign's uplift analysis as the customer-value page computes it (computed once per
    lesson): :func:`sqmlib.value.campaign_uplift`."""
    if "campaign" not in d:
        d["campaign"] = value.campaign_uplift(d["folder"], seed=0)
    return d["campaign"]


def campaign_arms(d: dict) -> pd.DataFrame:
    """Customers and the share who stayed, not contacted and contacted."""
    c = campaign(d)
    y, t = pd.Series(c["y"]), pd.Series(c["t"]).map({0.0: "not contacted", 1.0: "contacted"})
    out = pd.DataFrame({"customers": t.value_counts(), "stayed": y.groupby(t).mean()})
    return out.loc[["not contacted", "contacted"]]


def ranking_groups(d: dict, ranking: str) -> pd.DataFrame:
    """The campaign's measured effect on staying per tenth of a ranking (``risk`` or an uplift learner)."""
    c = campaign(d)
    score = c["risk"] if ranking == "risk" else c["models"][ranking]["score"]
    return value.uplift_by_group(c["y"], c["t"], score)


def _top_effect(d: dict, ranking: str) -> float:
    c = campaign(d)
    score = c["risk"] if ranking == "risk" else c["models"][ranking]["score"]
    return value.measured_uplift(c["y"], c["t"], score, 0.1)


def action_series(d: dict, action_id: str) -> tuple[pd.Series, pd.Period]:
    """An action's KPI per week over its scope (pooled) and the week it started."""
    a = d["folder"].actions.set_index("action_id").loc[action_id]
    series = pdca.kpi_series(d["folder"], a["kpi"], a["scope_column"], split_values(a["scope_values"]))
    return series, pd.Timestamp(a["start"]).to_period("W")


def before_after(d: dict, action_id: str) -> tuple[float, float, float]:
    """(mean of the weekly values before the start, from the start on, the change): the naive comparison."""
    series, start = action_series(d, action_id)
    before, after = float(series[series.index < start].mean()), float(series[series.index >= start].mean())
    return before, after, after - before


def kano_result(d: dict) -> KanoResult | None:
    """The KANO questionnaire of the latest quarter (careless respondents left out), None without one."""
    if "kano" not in d:
        d["kano"] = kano_analysis(quarter_rows(d), d["instrument"], quarter=d["quarter"])
    return d["kano"]


def _must_count(d: dict) -> int | None:
    """Must-be attributes of the questionnaire (None without one: the exercise has no answer on such data)."""
    k = kano_result(d)
    return None if k is None else int((k.coefficients["category"] == "M").sum())


def _worst_absence(d: dict) -> float | None:
    k = kano_result(d)
    if k is None:
        return None
    c = k.coefficients
    return float(c.loc[c["category"] == "M", "worse"].min())


def expected(lesson, exercise_id: str):
    table = _expected(lesson)
    key = (lesson.name, exercise_id)
    if key not in table:
        raise KeyError(f"no expected answer for {key}")
    return table[key]()


def _significant(table: pd.DataFrame, dimension: str) -> str:
    r = table[(table["level"] == "dimension") & (table["name"] == dimension)].iloc[0]
    return "yes" if (r["ci_high"] < 0 or r["ci_low"] > 0) else "no"


def _closure_share(d: dict) -> float:
    c = quarter_tickets(d)
    h = (c["closed_at"] - c["opened_at"]).dt.total_seconds() / 3600
    return float((h <= 24).mean())


def _complaints(d: dict) -> pd.DataFrame:
    t = quarter_tickets(d)
    return t[t["type"] == "complaint"]


def _attainment(d: dict, kpi_name: str, severity: str) -> float:
    start, end = quarter_bounds(d["quarter"])
    att = gaps.standard_attainment(d["interactions"], d["standards"], by=None, start=start, end=end)
    return float(att[(att["kpi"] == kpi_name) & (att["severity"] == severity)]["share_meeting"].iloc[0])


def _repeat_rate(d: dict) -> float:
    t = d["interactions"]
    comp = t[t["type"] == "complaint"]
    flags = kpi.repeat_flags(comp)
    start, end = quarter_bounds(d["quarter"])
    inq = (comp["opened_at"] >= start) & (comp["opened_at"] < end)
    return float(flags[inq].mean())


def nps_monitor(d: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    end = quarter_bounds(d["quarter"])[1]
    s = d["survey"][d["survey"]["survey_date"] < end]
    return kpi.nps_alerts(s, "region", freq="M")


def _alert_region(d: dict) -> str:
    alerts = nps_monitor(d)[1]
    return str(alerts.sort_values("last_period")["unit"].iloc[-1]) if len(alerts) else "none"


def weekly_chart(d: dict) -> pd.DataFrame:
    """p-chart of the weekly share of major complaints acknowledged within 4 hours (last two quarters)."""
    end = quarter_bounds(d["quarter"])[1]
    start = quarter_bounds(previous_quarter(d["quarter"]))[0]
    t = d["interactions"]
    t = t[(t["type"] == "complaint") & (t["severity"] == "major") & (t["opened_at"] >= start) & (t["opened_at"] < end)]
    within = (t["first_response_at"] - t["opened_at"]).dt.total_seconds() / 3600 <= 4
    week = t["opened_at"].dt.to_period("W-SUN").astype(str).str[:10]
    g = pd.DataFrame({"week": week, "within": within}).groupby("week")["within"].agg(["sum", "size"])
    return kpi.p_chart(g["sum"].to_numpy(), g["size"].to_numpy(), labels=list(g.index))


def _concentrate(d: dict) -> list[str]:
    t = drivers.driver_matrix(driver_frame(d), driver_importance(d)).table
    return t.index[t["quadrant"] == "concentrate here"].tolist()


def _detractor_ratio(d: dict) -> float:
    t = churn_by_nps_group(d)["churn_rate"]
    return float(t["detractors"] / t["promoters"])
