"""The sample's mystery-shopping programme, with planted truth (a random stream of its own, so every other
table is the same with and without it).

Six audit visits per store and quarter, each by a different shopper (40 shoppers). A visit's latent quality is
the store's effect + the shopper's leniency + a weekend effect + visit noise (logits); yes/no items pass with
probability logistic(item base + quality), rating items (1–5) are the rounded 3.7 + 0.9 × quality + noise. Planted:
store effects (sd ``STORE_SD``), shopper leniency (sd ``SHOPPER_SD``), ``WEEKEND`` on weekend visits, no effect
of the time of day, and one store (``FAILING_STORE``) quoting the plan's price wrongly — a critical item — on
``FAILING_RATE`` of its visits from the second quarter on. Phone visits answer the store's environment items as
not applicable. Every shopper also scores four recorded visits (calibration) with their own leniency. Two
visits are planted for the data audit: one entered twice under another id, one shopper sent back to a store
within a quarter.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

CHECKLIST = {  # id: (section, scale (None yes/no), critical, weight, dimension, base logit, en, zh, scenarios)
    "greet_30s": ("greeting", None, False, 1, "responsiveness", 1.6, "Greeted within 30 seconds", "30 秒内问候顾客", ()),
    "friendly": ("greeting", (1, 5), False, 1, "empathy", 0.0, "Friendly and attentive", "热情周到", ()),
    "ask_needs": ("needs", None, False, 2, "empathy", 1.2, "Asked about the customer's needs", "询问顾客需求", ()),
    "listened": ("needs", (1, 5), False, 1, "empathy", 0.0, "Listened without interrupting", "耐心倾听、不打断", ()),
    "price_right": ("product", None, True, 3, "assurance", 4.6, "Quoted the plan's price and terms correctly",
                    "正确说明套餐价格和条款", ()),
    "knows_product": ("product", (1, 5), False, 2, "assurance", 0.0, "Answered product questions competently",
                      "专业解答产品问题", ()),
    "id_check": ("product", None, True, 3, "reliability", 4.4, "Checked identity before changing the account",
                 "变更账户前核实身份", ("account_change",)),
    "offer_help": ("closing", None, False, 1, "empathy", 0.9, "Offered further help", "主动提供进一步帮助", ()),
    "written_summary": ("closing", None, False, 1, "reliability", 1.0, "Gave a written summary or receipt",
                        "提供书面凭证或小结", ()),
    "clean": ("environment", None, False, 1, "tangibles", 1.8, "Store clean and tidy", "门店干净整洁", ()),
    "wait_5min": ("environment", None, False, 1, "responsiveness", 1.1, "Served within 5 minutes",
                  "5 分钟内得到服务", ()),
    "badge": ("environment", None, False, 1, "tangibles", 2.2, "Staff in uniform with a name badge",
              "员工着装整齐并佩戴工牌", ()),
}
SECTIONS = {"greeting": ("Greeting", "问候"), "needs": ("Needs", "需求了解"), "product": ("Product", "产品讲解"),
            "closing": ("Closing", "结束服务"), "environment": ("Environment", "环境")}
SCENARIOS = {"new_plan": 0.5, "complaint": 0.25, "account_change": 0.25}
CHANNELS = {"store": 0.8, "phone": 0.2}  # phone visits: the environment items do not apply
CHANNEL_ZH = {"store": "门店", "phone": "电话"}
VISITS_PER_STORE = 6  # per quarter
SHOPPERS = 40
STORE_SD = 0.45
SHOPPER_SD = 0.40
VISIT_SD = 0.55
WEEKEND = -0.45
FAILING_STORE = "S2"
FAILING_ITEM = "price_right"
FAILING_RATE = 0.5  # of its visits in each quarter from the second on (exactly: the visits are drawn)
CASES = 4  # recorded visits every shopper scores
MISREAD = 0.08  # a shopper of average leniency misreading a yes/no item on a recorded visit
COMMENTS = {"en": "the plan's monthly price was quoted wrongly", "zh": "套餐月费报价错误"}


def checklist_yaml() -> str:
    """The ``checklist:`` section of the sample's instrument."""
    lines = ["checklist:", "  critical_rule: zero", "  sections:"]
    lines += [f"    {k}: {{en: \"{en}\", zh: \"{zh}\"}}" for k, (en, zh) in SECTIONS.items()]
    lines.append("  items:")
    for k, (sec, scale, crit, w, dim, _, en, zh, scen) in CHECKLIST.items():
        lines += [f"    {k}:", f"      text: {{en: \"{en}\", zh: \"{zh}\"}}", f"      section: {sec}",
                  f"      weight: {w}", f"      dimension: {dim}"]
        if crit:
            lines.append("      critical: true")
        if scale:
            lines.append(f"      scale: {{min: {scale[0]}, max: {scale[1]}}}")
        if scen:
            lines.append(f"      scenarios: [{', '.join(scen)}]")
    return "\n".join(lines) + "\n"


def _answers(quality: np.ndarray, rng: np.random.Generator, scenario: np.ndarray, channel: np.ndarray,
             failing: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """One array of answers per item ("yes"/"no"/"n/a" or the rating as text)."""
    out = {}
    for k, (sec, scale, _, _, _, base, _, _, scen) in CHECKLIST.items():
        if scale is None:
            p = 1 / (1 + np.exp(-(base + quality)))
            a = np.where(rng.random(len(quality)) < p, "yes", "no").astype(object)
            if failing is not None and k == FAILING_ITEM:
                a[failing] = "no"
        else:
            a = np.clip(np.rint(3.7 + 0.9 * quality + 0.7 * rng.standard_normal(len(quality))), *scale)
            a = a.astype(int).astype(str).astype(object)
        if scen:
            a[~np.isin(scenario, scen)] = "n/a"
        if sec == "environment":
            a[channel == "phone"] = "n/a"
        out[k] = a
    return out


def mystery_shopping(stores: list[str], region_of: dict, quarters: list[str], seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """(visits, visit_items, calibration, truth) of the sample chain."""
    rng = np.random.default_rng([seed, 31])
    stores = sorted(stores)
    store_eff = dict(zip(stores, rng.normal(0, STORE_SD, len(stores))))
    shoppers = [f"MS{k + 1:02d}" for k in range(SHOPPERS)]
    lenient = dict(zip(shoppers, rng.normal(0, SHOPPER_SD, SHOPPERS)))
    rows = []
    for qi, q in enumerate(quarters):
        start = pd.Period(q, freq="Q").start_time
        days = (pd.Period(q, freq="Q").end_time.normalize() - start).days + 1
        for s in stores:
            who = rng.choice(shoppers, VISITS_PER_STORE, replace=False)
            for sh in who:
                date = start + pd.Timedelta(days=int(rng.integers(0, days)))
                minute = int(rng.integers(9 * 60, 21 * 60))
                rows.append({"store": s, "region": region_of[s], "shopper_id": sh, "visit_date": date,
                             "visit_time": f"{minute // 60:02d}:{minute % 60:02d}",
                             "channel": rng.choice(list(CHANNELS), p=list(CHANNELS.values())),
                             "scenario": rng.choice(list(SCENARIOS), p=list(SCENARIOS.values())),
                             "duration": int(np.clip(rng.normal(18, 6), 5, 45)), "quarter_index": qi})
    v = pd.DataFrame(rows).sort_values(["visit_date", "visit_time", "store"], kind="stable").reset_index(drop=True)
    v.insert(0, "visit_id", [f"V{k + 1:05d}" for k in range(len(v))])
    weekend = v["visit_date"].dt.dayofweek.to_numpy() >= 5
    quality = (v["store"].map(store_eff).to_numpy() + v["shopper_id"].map(lenient).to_numpy()
               + WEEKEND * weekend + VISIT_SD * rng.standard_normal(len(v)))
    failing = np.zeros(len(v), dtype=bool)
    for qi in range(1, len(quarters)):
        at = np.flatnonzero(((v["store"] == FAILING_STORE) & (v["quarter_index"] == qi)).to_numpy())
        failing[rng.choice(at, int(round(FAILING_RATE * len(at))), replace=False)] = True
    ans = _answers(quality, rng, v["scenario"].to_numpy(), v["channel"].to_numpy(), failing)
    items = pd.DataFrame({"visit_id": np.repeat(v["visit_id"].to_numpy(), len(CHECKLIST)),
                          "item_id": np.tile(list(CHECKLIST), len(v)),
                          "response": np.column_stack([ans[k] for k in CHECKLIST]).ravel()})
    fail = (items["item_id"] == FAILING_ITEM) & (items["response"] == "no")
    items["comment"] = np.where(fail, COMMENTS["en"], "")
    # planted for the audit: one visit entered twice, one shopper sent back to a store in the same quarter
    first = v.iloc[len(v) // 3]
    twice = v.iloc[[len(v) // 3]].assign(visit_id=f"V{len(v) + 1:05d}")
    mid = v.iloc[len(v) // 2]
    back_q = v[(v["quarter_index"] == mid["quarter_index"]) & (v["store"] == mid["store"])]
    back = back_q.iloc[[0]].assign(visit_id=f"V{len(v) + 2:05d}", shopper_id=back_q["shopper_id"].iloc[1])
    extra_items = pd.concat([items[items["visit_id"] == first["visit_id"]].assign(visit_id=twice["visit_id"].iloc[0]),
                             items[items["visit_id"] == back_q["visit_id"].iloc[0]].assign(
                                 visit_id=back["visit_id"].iloc[0])])
    v = pd.concat([v, twice, back], ignore_index=True)
    items = pd.concat([items, extra_items], ignore_index=True)
    # calibration: every shopper scores the same recorded visits. What the staff did is fixed per case; a shopper
    # misreads a yes/no item with probability MISREAD, towards yes when lenient (towards no when strict), and
    # rates what they saw shifted by their leniency
    case_q = rng.normal(0, STORE_SD, CASES)
    cal = []
    for c in range(CASES):
        scen = np.full(1, "new_plan" if c % 2 == 0 else "account_change")
        seen = _answers(np.array([case_q[c]]), rng, scen, np.full(1, "store"))
        lean = np.array([lenient[s] for s in shoppers])
        for k, (_, scale, *_rest) in CHECKLIST.items():
            true = seen[k][0]
            if true == "n/a":
                a = np.full(SHOPPERS, "n/a", dtype=object)
            elif scale is None:
                towards = np.where(lean > 0, "yes", "no")
                flip = rng.random(SHOPPERS) < MISREAD * (1 + np.abs(lean) / SHOPPER_SD)
                a = np.where(flip & (towards != true), towards, true).astype(object)
            else:
                r = np.clip(np.rint(float(true) + 1.2 * lean + 0.35 * rng.standard_normal(SHOPPERS)), *scale)
                a = r.astype(int).astype(str).astype(object)
            cal.append(pd.DataFrame({"shopper_id": shoppers, "case_id": f"CASE{c + 1}", "item_id": k, "response": a}))
    calibration = pd.concat(cal, ignore_index=True)
    visits = v.drop(columns="quarter_index")
    truth = {"store_effect": {s: round(float(e), 10) for s, e in store_eff.items()},
             "shopper_leniency": {s: round(float(e), 10) for s, e in lenient.items()},
             "store_sd": STORE_SD, "shopper_sd": SHOPPER_SD, "visit_sd": VISIT_SD, "weekend_logit": WEEKEND,
             "time_of_day_effect": 0.0, "failing_store": FAILING_STORE, "failing_item": FAILING_ITEM,
             "failing_rate": FAILING_RATE, "failing_from_quarter": quarters[1] if len(quarters) > 1 else quarters[0],
             "duplicate_visit": twice["visit_id"].iloc[0], "repeat_shopper_visit": back["visit_id"].iloc[0]}
    return visits, items, calibration, truth
