"""The sample data in memory, and written to a folder as a user's data folder would be."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .mystery import CHANNEL_ZH as VISIT_CHANNEL_ZH, COMMENTS as VISIT_COMMENTS, checklist_yaml
from .pdca import actions_table, owners_yaml
from .seeds import kano_instrument_yaml
from .design import PLAN_ZH, REGION_ZH, SURVEY_CHANNEL_ZH, TICKET_CHANNEL_ZH, SynthConfig

ORDER_CHANNEL_ZH = {"store": "门店", "app": "应用", "web": "网站"}


@dataclass
class SampleData:
    """What :func:`generate` returns: the tables and their ground truth."""

    survey: pd.DataFrame
    customers: pd.DataFrame
    interactions: pd.DataFrame
    management: pd.DataFrame
    standards: pd.DataFrame
    truth: dict
    truth_item_means: pd.DataFrame
    truth_customers: pd.DataFrame
    config: SynthConfig = field(default_factory=SynthConfig)
    visits: pd.DataFrame | None = None  # mystery shopping: audit visits, their checklist answers, calibration
    visit_items: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None
    actions: pd.DataFrame | None = None  # the PDCA action register
    transactions: pd.DataFrame | None = None  # orders (customer value)
    campaigns: pd.DataFrame | None = None  # the retention campaign with its random control group
    feedback: pd.DataFrame | None = None  # reviews, call notes and survey comments (voice of the customer)

    def save(self, out_dir: str | Path) -> Path:
        """Write every table as CSV plus ``truth.json`` and ``truth_item_means.csv`` into ``out_dir``."""
        return save(self, out_dir)


def localise(data: SampleData) -> SampleData:
    """Chinese region, channel and plan names in every table and in the ground truth (ticket texts are
    generated in Chinese already; item wording comes from the instrument's Chinese texts)."""
    region = lambda df: df.assign(region=df["region"].map(REGION_ZH))  # noqa: E731
    survey = region(data.survey).assign(channel=data.survey["channel"].map(SURVEY_CHANNEL_ZH))
    customers = region(data.customers).assign(plan=data.customers["plan"].map(PLAN_ZH))
    interactions = region(data.interactions).assign(channel=data.interactions["channel"].map(TICKET_CHANNEL_ZH))
    truth = json.loads(json.dumps(data.truth))
    truth["deterioration"]["region"] = REGION_ZH[truth["deterioration"]["region"]]
    truth["config"]["deteriorated_region"] = REGION_ZH[truth["config"]["deteriorated_region"]]
    truth["segment_names"] = {"region": REGION_ZH, "channel": SURVEY_CHANNEL_ZH, "plan": PLAN_ZH,
                              "ticket_channel": TICKET_CHANNEL_ZH}
    visits = items = None
    if data.visits is not None:
        visits = region(data.visits).assign(channel=data.visits["channel"].map(VISIT_CHANNEL_ZH))
        items = data.visit_items.assign(comment=data.visit_items["comment"].replace(VISIT_COMMENTS["en"],
                                                                                     VISIT_COMMENTS["zh"]))
    truth["pdca"]["surge"]["region"] = REGION_ZH[truth["pdca"]["surge"]["region"]]
    truth["pdca"]["surge"]["channel"] = TICKET_CHANNEL_ZH[truth["pdca"]["surge"]["channel"]]
    for a in truth["pdca"]["actions"].values():
        a["scope"] = [REGION_ZH[r] for r in a["scope"]]
    actions = actions_table("zh", REGION_ZH) if data.actions is not None else None
    orders = (data.transactions.assign(channel=data.transactions["channel"].map(ORDER_CHANNEL_ZH))
              if data.transactions is not None else None)
    notes = region(data.feedback) if data.feedback is not None else None
    return SampleData(survey, customers, interactions, region(data.management), data.standards, truth,
                      region(data.truth_item_means), data.truth_customers, data.config, visits, items,
                      data.calibration, actions, orders, data.campaigns, notes)


def _fmt_dt(s: pd.Series, with_time: bool) -> pd.Series:
    fmt = "%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d"
    return s.dt.strftime(fmt).where(s.notna(), "")


def save(data: SampleData, out_dir: str | Path) -> Path:
    """Write the sample data to ``out_dir`` in a byte-stable form (fixed formats, ``\\n`` line ends)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    survey = data.survey.copy()
    survey["survey_date"] = _fmt_dt(pd.to_datetime(survey["survey_date"]), False)
    customers = data.customers.copy()
    customers["signup_date"] = _fmt_dt(customers["signup_date"], False)
    customers["churn_date"] = _fmt_dt(pd.to_datetime(customers["churn_date"]), False)
    customers["churned"] = customers["churned"].map({True: "yes", False: "no"})
    inter = data.interactions.copy()
    for c in ("opened_at", "first_response_at", "closed_at", "recovered_at", "revisit_at"):
        if c in inter:
            inter[c] = _fmt_dt(pd.to_datetime(inter[c]), True)
    for c in ("first_contact_resolved", "error"):
        inter[c] = inter[c].map({True: "yes", False: "no"})
    tables = {"survey": survey, "customers": customers, "interactions": inter,
              "management": data.management, "standards": data.standards,
              "truth_item_means": data.truth_item_means, "truth_customers": data.truth_customers}
    if data.visits is not None:
        tables.update(visits=data.visits.assign(visit_date=_fmt_dt(data.visits["visit_date"], False)),
                      visit_items=data.visit_items, calibration=data.calibration)
    if data.actions is not None:
        tables["actions"] = data.actions
    if data.transactions is not None:
        tables["transactions"] = data.transactions.assign(
            order_time=_fmt_dt(data.transactions["order_time"], True),
            refunded=data.transactions["refunded"].map({True: "yes", False: "no"}))
        tables["campaigns"] = data.campaigns.assign(sent_at=_fmt_dt(pd.to_datetime(data.campaigns["sent_at"]), False),
                                                    treated=data.campaigns["treated"].map({True: "yes", False: "no"}))
    if data.feedback is not None:
        tables["feedback"] = data.feedback.assign(created_at=_fmt_dt(data.feedback["created_at"], True),
                                                  rating=data.feedback["rating"].astype("Int64"))
    for name, df in tables.items():
        df.to_csv(out / f"{name}.csv", index=False, lineterminator="\n", float_format="%.10g")
    (out / "truth.json").write_text(json.dumps(data.truth, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    zh = data.config.language == "zh"
    owners = owners_yaml(data.config.language, REGION_ZH if zh else None) if data.actions is not None else ""
    (out / "instrument.yaml").write_text(SAMPLE_INSTRUMENT + owners, encoding="utf-8")
    return out


# the sample's instrument: SERVQUAL as it ships, with the currency of its amounts (customer value, charges)
SAMPLE_INSTRUMENT = """# The instrument of the generated sample: SERVQUAL as sqm ships it, in a data folder of its own.
# Amounts of money in customers.csv and the report's customer value are in Chinese yuan.
# The last quarter's questionnaire also asks eight KANO pairs (columns KF_<attribute> and KD_<attribute>).
# The checklist is what the mystery shoppers check on their audit visits (visits.csv, visit_items.csv).
# The owners are who the report names for the actions it proposes (actions_proposed.xlsx).
extends: servqual
currency: CNY
""" + kano_instrument_yaml() + checklist_yaml()
