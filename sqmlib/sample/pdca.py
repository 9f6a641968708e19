"""The sample's PDCA truth: the channel behind the complaint surge and three actions in the register.

The surge. In the deteriorated region's last quarter complaints rise about 2.6-fold; ``SURGE_SHARE`` of that
quarter's complaints there come by ``SURGE_CHANNEL`` on top of the usual channel mix (the phone line could not
cope), so a drill-down over region and channel finds "South, phone" by itself. Channels are drawn from the same
uniform numbers as before, so every other ticket keeps its channel.

The actions (``actions.csv``), each with a start date and a planted effect on tickets opened in its scope from
then on (effects multiply a ticket's own time, so no other number of the sample moves):

- ``A1`` in East: a call-back team acknowledges complaints faster — first responses take ``A1_FACTOR`` of their
  time (effective; North and West as controls);
- ``A2`` in West: a first-contact-resolution checklist for chat agents — no effect (not shown);
- ``A3`` in North: a phone menu with more options — callers wait ``A3_FACTOR`` times as long (worse).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

SURGE_CHANNEL = "phone"
SURGE_SHARE = 0.6
A1_FACTOR = 0.55
A3_FACTOR = 1.5

# id, title (en, zh), kpi, scope column, scope values, owner, cause, whys, start, end, direction, size (KPI units),
# controls, status, planted verdict
ACTIONS = (
    {"action_id": "A1", "title": "Call-back team acknowledges complaints within the hour",
     "title_zh": "回访小组一小时内响应投诉", "kpi": "first_response_hours", "scope_column": "region",
     "scope_values": ("East",), "owner": "Wang Fang (East operations)", "owner_zh": "王芳（华东运营）",
     "cause": "methods",
     "why": ("Complaints wait for a first answer", "Agents answer the queue in arrival order",
             "No one owns the first call-back", "Roles were never split", ""),
     "why_zh": ("投诉等待首次答复", "坐席按到达顺序处理队列", "无人负责首次回访", "岗位职责未拆分", ""),
     "start": "2026-03-02", "end": "", "direction": "down", "size": 1.5, "controls": ("North", "West"),
     "status": "checking", "planted": "effective"},
    {"action_id": "A2", "title": "First-contact resolution checklist for chat agents",
     "title_zh": "在线客服一次解决核对清单", "kpi": "fcr", "scope_column": "region", "scope_values": ("West",),
     "owner": "Li Qiang (West service desk)", "owner_zh": "李强（华西服务台）", "cause": "people",
     "why": ("Customers call back about the same problem", "Agents close tickets before checking",
             "", "", ""),
     "why_zh": ("客户就同一问题再次来电", "坐席未核实就关闭工单", "", "", ""),
     "start": "2026-05-04", "end": "", "direction": "up", "size": 0.05, "controls": ("East", "North"),
     "status": "checking", "planted": "not_shown"},
    {"action_id": "A3", "title": "New phone menu with more options", "title_zh": "电话语音菜单增加选项",
     "kpi": "answer_seconds", "scope_column": "region", "scope_values": ("North",),
     "owner": "Zhao Min (North contact centre)", "owner_zh": "赵敏（华北呼叫中心）", "cause": "machines",
     "why": ("Calls reach the wrong team", "The menu had three options", "", "", ""),
     "why_zh": ("来电转错团队", "语音菜单只有三个选项", "", "", ""),
     "start": "2026-05-04", "end": "", "direction": "down", "size": 5.0, "controls": ("East", "West"),
     "status": "doing", "planted": "worse"},
)


def surge_channels(u: np.ndarray, surge: np.ndarray, channels, p) -> np.ndarray:
    """Channels from uniform numbers ``u`` as ``Generator.choice(channels, p=p)`` draws them (the same channel
    for the same number), except that ``surge`` tickets come by :data:`SURGE_CHANNEL` with probability
    :data:`SURGE_SHARE` and otherwise by the usual mix."""
    cdf = np.cumsum(p)
    cdf = cdf / cdf[-1]
    names = np.asarray(channels)
    out = names[cdf.searchsorted(u, side="right")]
    rest = np.clip((u - SURGE_SHARE) / (1 - SURGE_SHARE), 0, np.nextafter(1, 0))
    return np.where(surge, np.where(u < SURGE_SHARE, SURGE_CHANNEL, names[cdf.searchsorted(rest, side="right")]),
                    out)


def action_factors(opened: np.ndarray, region: np.ndarray, is_complaint: np.ndarray, channel: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(first-response factor, phone-wait factor) of each ticket: the planted effects of A1 and A3."""
    when = pd.to_datetime(opened)
    a1 = next(a for a in ACTIONS if a["action_id"] == "A1")
    a3 = next(a for a in ACTIONS if a["action_id"] == "A3")
    first = np.where(np.isin(region, a1["scope_values"]) & is_complaint
                     & np.asarray(when >= pd.Timestamp(a1["start"])), A1_FACTOR, 1.0)
    wait = np.where(np.isin(region, a3["scope_values"]) & (channel == "phone")
                    & np.asarray(when >= pd.Timestamp(a3["start"])), A3_FACTOR, 1.0)
    return first, wait


def actions_table(language: str = "en", region_names: dict | None = None) -> pd.DataFrame:
    """The sample's action register (``actions.csv``) in English or Chinese."""
    zh = language == "zh"
    name = (lambda r: region_names.get(r, r)) if region_names else (lambda r: r)
    rows = []
    for a in ACTIONS:
        whys = a["why_zh"] if zh else a["why"]
        rows.append({"action_id": a["action_id"], "title": a["title_zh"] if zh else a["title"], "kpi": a["kpi"],
                     "scope_column": a["scope_column"], "scope_values": ";".join(name(v) for v in a["scope_values"]),
                     "owner": a["owner_zh"] if zh else a["owner"], "cause": a["cause"],
                     **{f"why{k}": w for k, w in enumerate(whys, 1)}, "start": a["start"], "end": a["end"],
                     "direction": a["direction"], "expected_size": a["size"],
                     "controls": ";".join(name(v) for v in a["controls"]), "status": a["status"]})
    return pd.DataFrame(rows)


def pdca_truth() -> dict:
    """What the PDCA page should find: the surge's segment and each action's verdict."""
    return {"surge": {"region": "South", "channel": SURGE_CHANNEL, "share": SURGE_SHARE},
            "actions": {a["action_id"]: {"verdict": a["planted"], "kpi": a["kpi"], "scope": list(a["scope_values"]),
                                         "start": a["start"]} for a in ACTIONS},
            "factors": {"A1_first_response": A1_FACTOR, "A3_phone_wait": A3_FACTOR}}


OWNERS = {"region": {"North": ("Zhao Min (North contact centre)", "赵敏（华北呼叫中心）"),
                     "South": ("Liu Yang (South operations)", "刘洋（华南运营）"),
                     "East": ("Wang Fang (East operations)", "王芳（华东运营）"),
                     "West": ("Li Qiang (West service desk)", "李强（华西服务台）")},
          "dimension": {"responsiveness": ("Sun Li (service operations)", "孙丽（服务运营）"),
                        "reliability": ("Gao Peng (process quality)", "高鹏（流程质量）"),
                        "assurance": ("Ma Jun (training)", "马军（培训）"),
                        "empathy": ("Ma Jun (training)", "马军（培训）"),
                        "tangibles": ("Xu Ning (facilities)", "徐宁（设施）")},
          "aspect": {"waiting": ("Sun Li (service operations)", "孙丽（服务运营）"),
                     "staff_attitude": ("Ma Jun (training)", "马军（培训）"),
                     "competence": ("Ma Jun (training)", "马军（培训）"),
                     "price_billing": ("Gao Peng (process quality)", "高鹏（流程质量）"),
                     "environment": ("Xu Ning (facilities)", "徐宁（设施）"),
                     "product": ("Gao Peng (process quality)", "高鹏（流程质量）"),
                     "delivery": ("Sun Li (service operations)", "孙丽（服务运营）"),
                     "digital": ("Hu Bo (digital channels)", "胡波（数字渠道）")},
          "kpi": {"complaints": ("Chen Jie (quality office)", "陈洁（质量办公室）"),
                  "churn": ("Zhou Wei (customer retention)", "周伟（客户保留）"),
                  "headline": ("Chen Jie (quality office)", "陈洁（质量办公室）")}}


def owners_yaml(language: str = "en", region_names: dict | None = None) -> str:
    """The instrument's ``owners:`` section of the sample: who owns each region, each dimension, each aspect of the
    customers' feedback and the complaints, churn and headline KPIs."""
    zh = language == "zh"
    name = (lambda r: region_names.get(r, r)) if region_names else (lambda r: r)
    lines = ["# Who owns an action the report proposes: by the unit, the dimension, the feedback's aspect or the KPI it "
             "is about.", "owners:"]
    for kind, owners in OWNERS.items():
        lines.append(f"  {kind}:")
        lines += [f'    {name(k) if kind == "region" else k}: "{v[1] if zh else v[0]}"' for k, v in owners.items()]
    return "\n".join(lines) + "\n"
