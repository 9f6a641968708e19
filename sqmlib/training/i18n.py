"""Chinese (Simplified) for the training notebooks: chart texts, table columns, values and feedback words.

Charts come from :mod:`sqmlib.plots` with English texts; :func:`localize_figure` rewrites every text of a
figure (titles, axis labels, fixed tick labels, legends, annotations) through :func:`translate`: exact
phrases first, then patterns with numbers, then item labels (``"05 does what it promised …"``) through the
instrument's own Chinese wording.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..instruments import load as load_instrument
from ..render.labels_zh import LESSON_PHRASES
from ..render.messages import msg

def hint_for(kind: str, lang: str, n: int = 1) -> str:
    """A hint for a kind of wrong answer every exercise can get (``n``: the measures asked for)."""
    if kind == "not_a_number":
        return msg("lesson.not_a_number", "the answer should be a number.", lang=lang)
    if kind == "too_few":
        return msg("lesson.too_few", "name at least {n} different measures.", lang=lang, n=n)
    if kind == "sign":
        return msg("lesson.sign", "check the sign: the gap is P − E, so a shortfall is negative.", lang=lang)
    return msg("lesson.percent", "give the share as a fraction (0.42), not as a percentage (42).", lang=lang)


# answers given in Chinese (or in other usual spellings) count as their canonical English value
ANSWER_SYNONYMS = {
    "有形性": "tangibles", "可靠性": "reliability", "响应性": "responsiveness", "保证性": "assurance",
    "移情性": "empathy", "同理心": "empathy", "关怀性": "empathy",
    "是": "yes", "否": "no", "true": "yes", "false": "no",
    "差距1": "gap 1", "差距2": "gap 2", "差距3": "gap 3", "差距4": "gap 4", "差距5": "gap 5",
    "差距 1": "gap 1", "差距 2": "gap 2", "差距 3": "gap 3", "差距 4": "gap 4", "差距 5": "gap 5",
    "1": "gap 1", "2": "gap 2", "3": "gap 3", "4": "gap 4", "5": "gap 5",
    "gap1": "gap 1", "gap2": "gap 2", "gap3": "gap 3", "gap4": "gap 4", "gap5": "gap 5",
    "北": "north", "南": "south", "东": "east", "西": "west", "北区": "north", "南区": "south", "东区": "east", "西区": "west",
    "华北": "north", "华南": "south", "华东": "east", "华西": "west",
}

WORDS = {
    # dimensions, blocks and the gaps model
    "tangibles": "有形性", "reliability": "可靠性", "responsiveness": "响应性", "assurance": "保证性", "empathy": "移情性",
    "overall": "总体", "unweighted": "未加权", "weighted": "加权", "expectation": "期望", "perception": "感知",
    # quadrants
    "concentrate here": "重点改进", "keep up the good work": "继续保持", "low priority": "低优先级",
    "possible overkill": "可能过度投入",
    # complaint categories, severities, departments and regions
    "staff_attitude": "员工态度", "slow_handling": "问题处理慢", "dish_not_as_described": "菜品与描述不符",
    "waiting_time": "等候时间", "billing": "账单", "cleanliness": "卫生", "delivery": "配送", "account": "账户",
    "network": "网络", "service": "服务", "product": "产品", "other": "其他", "staff": "员工",
    "minor": "一般", "major": "严重", "critical": "紧急", "product_info": "产品信息", "product_quality": "产品质量",
    "technical": "技术问题", "unknown": "未分类", "complaint": "投诉", "enquiry": "咨询",
    "customer_service": "客服", "logistics": "物流", "operations": "运营", "finance": "财务", "front_office": "前台",
    "it": "IT", "quality": "质量", "basic": "基础版", "standard": "标准版", "premium": "高级版",
    "floor": "前厅", "kitchen": "厨房", "cashier": "收银", "housekeeping": "保洁",
    "North": "北区", "South": "南区", "East": "东区", "West": "西区", "city": "市区", "suburbs": "郊区",
    "store": "门店", "phone": "电话", "online": "线上", "chat": "在线聊天", "email": "邮件",
    "promoters": "推荐者", "passives": "被动者", "detractors": "贬损者",
    "yes": "是", "no": "否", "True": "是", "False": "否",
    "all": "全部",
}

COLUMNS = {
    "level": "层级", "name": "名称", "dimension": "维度", "item": "题项", "text": "题项内容", "n": "样本量",
    "mean_e": "期望均值", "mean_p": "感知均值", "gap": "差距", "ci_low": "95%区间下限", "ci_high": "95%区间上限",
    "t": "t 值", "p_value": "p 值", "p_adj": "校正 p 值", "dz": "效应量 dz", "share_exceed": "超出期望比例",
    "share_meet": "恰好满足比例", "share_below": "低于期望比例", "note": "备注", "quarter": "季度",
    "mean": "均值", "sd": "标准差", "respondent_id": "受访者", "block": "题块", "items": "题项数",
    "example": "示例题项", "gap1": "差距1", "management_e": "管理层估计", "customer_e": "顾客期望",
    "count": "数量", "share": "占比", "cumulative_share": "累计占比", "top": "关键少数", "category": "类别",
    "kpi": "指标", "severity": "严重程度", "target": "目标", "value": "实际值", "share_meeting": "达标比例",
    "unit": "单位", "description": "说明", "met": "是否达标", "criterion": "判定项", "rule": "标准",
    "complaints": "投诉数", "tickets": "工单数", "fcr": "首次解决率", "response_h_median": "首次响应时间中位数（小时）",
    "response_h_p90": "首次响应时间90分位（小时）", "handling_h_median": "处理时长中位数（小时）",
    "handling_h_p90": "处理时长90分位（小时）", "repeat_rate": "重复投诉率", "active_customers": "活跃顾客数",
    "complaints_per_1000": "每千名顾客投诉数", "churn_rate": "流失率", "period": "期间",
    "members_at_start": "期初会员数", "came_back": "回头会员数", "returning_share": "回头客比例",
    "nps": "NPS", "nps_ci_low": "NPS 区间下限", "nps_ci_high": "NPS 区间上限", "csat": "CSAT", "ces": "CES",
    "importance": "重要性", "performance": "表现", "quadrant": "象限", "lmg": "LMG", "share_of_r2": "R² 占比（%）",
    "group": "风险组", "customers": "顾客数", "churners": "流失顾客数", "cum_share_customers": "累计顾客比例",
    "cum_share_churners": "累计流失顾客比例", "lift": "提升度", "churn_rate_group": "组内流失率",
    "measure": "措施", "code": "编号", "what": "内容", "respondents": "受访者数", "share_of_respondents": "受访者比例",
    "overall_sat": "总体满意度", "evidence": "依据", "standard": "标准", "x": "数值", "center": "中心线",
    "lcl": "控制下限", "ucl": "控制上限", "signal": "信号", "rule1": "规则1", "rule2": "规则2", "rule3": "规则3",
    "rule4": "规则4", "alert": "预警", "benchmark": "基准", "region": "区域", "month": "月份", "level1_met": "一级达标",
    "level2_met": "二级达标", "level3_met": "三级达标", "probability": "流失概率", "expected_loss": "预期损失",
    "customer_id": "顾客", "top_reasons": "主要原因", "segment": "细分", "rate": "比率", "leavers": "流失人数",
}

# whole phrases used by sqmlib.plots and the lessons' own charts (the project's one Chinese vocabulary)
PHRASES = LESSON_PHRASES

PATTERNS = [
    (re.compile(r"^share of R² \(%\), R² = ([\d.]+)$"), "R² 占比（%），R² = {0}"),
    (re.compile(r"^Importance–performance \(crosshair: (\w+)\)$"), "重要性—表现分析（分割线：{0}）"),
    (re.compile(r"^importance \(derived: correlation with (\w+)\)$"), "重要性（推导：与 {0} 的相关）"),
    (re.compile(r"^best: contact (\d+%)$"), "最优：联系 {0}"),
    (re.compile(r"^Dimension gaps by (\w+)$"), "按 {0} 划分的维度差距"),
    (re.compile(r"^Share of R² for (\w+)$"), "{0} 的 R² 占比"),
    (re.compile(r"^block (\w+)$"), "题块 {0}"),
    (re.compile(r"^alert: (\w+)$"), "预警：{0}"),
]
CROSSHAIR = {"mean": "均值", "median": "中位数", "midpoint": "量表中点"}


def _item_label(text: str) -> str | None:
    """``"05 does what it promised …"`` (possibly cut short) → ``"05 <Chinese wording>"``."""
    m = re.match(r"^(\d{2}) (.+)$", text)
    if not m:
        return None
    inst = load_instrument("servqual")
    item, rest = m.group(1), m.group(2)
    if item in inst.items and inst.text(item, "en").startswith(rest.rstrip("…").rstrip()[:20]):
        return f"{item} {inst.text(item, 'zh')}"
    return None


def translate(text: str, lang: str = "zh") -> str:
    """A chart or table text in ``lang`` (English stays as it is; unknown texts are kept)."""
    if lang != "zh" or not isinstance(text, str) or not text.strip():
        return text
    s = text.strip()
    for table in (PHRASES, WORDS):
        if s in table:
            return table[s]
    for pat, out in PATTERNS:
        m = pat.match(s)
        if m:
            groups = [CROSSHAIR.get(g, COLUMNS.get(g, WORDS.get(g, g))) for g in m.groups()]
            return out.format(*groups)
    item = _item_label(s)
    if item is not None:
        return item
    return text


def localize_figure(fig, lang: str):
    """Rewrite every text of a matplotlib figure in ``lang``; returns the figure."""
    if lang == "en":
        return fig
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter, FixedLocator, ScalarFormatter

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            fmt = axis.get_major_formatter()
            if isinstance(fmt, FixedFormatter):
                fmt.seq = [translate(str(s), lang) for s in fmt.seq]
            elif isinstance(axis.get_major_locator(), FixedLocator) and not isinstance(fmt, ScalarFormatter):
                # labels given with set_ticks(positions, labels): re-set them translated, keeping their style
                ticks = axis.get_majorticklabels()
                style = ticks[0].get_fontproperties() if ticks else None
                rotation = ticks[0].get_rotation() if ticks else 0
                ha = ticks[0].get_horizontalalignment() if ticks else "center"
                labels = [translate(t.get_text(), lang) for t in ticks]
                axis.set_ticks(axis.get_ticklocs(), labels, fontproperties=style, rotation=rotation, ha=ha)
    for t in fig.findobj(Text):
        t.set_text(translate(t.get_text(), lang))
    return fig


def localize_table(frame: pd.DataFrame, lang: str, digits: int = 3) -> pd.DataFrame:
    """Columns, index names and known text values in ``lang``; floats rounded to ``digits``."""
    out = frame.copy()
    num = out.select_dtypes("float").columns
    out[num] = out[num].round(digits)
    if lang == "en":
        return out
    for c in out.columns:
        if out[c].dtype == object or isinstance(out[c].dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(out[c]):
            out[c] = out[c].map(lambda v: translate(str(v), lang) if isinstance(v, (str, bool, np.bool_)) else v)
    out = out.rename(columns=lambda c: COLUMNS.get(c, translate(str(c), lang)))
    if out.index.dtype == object:
        out.index = [translate(str(v), lang) for v in out.index]
    out.index.name = COLUMNS.get(frame.index.name, frame.index.name) if frame.index.name else None
    return out


def format_answer(value, lang: str) -> str:
    """An expected answer as the solution text shows it."""
    if isinstance(value, (list, tuple, set)):
        return ", ".join(format_answer(v, lang) for v in value)
    if isinstance(value, (float, np.floating)):
        return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, str) and lang == "zh":
        zh = WORDS.get(value)
        return f"{value}（{zh}）" if zh else value
    return str(value)


# tokens that stay as they are in Chinese text
KEEP = {"NPS", "CSAT", "CES", "LMG", "ROC", "SERVQUAL", "FCR", "IT", "R²", "AUC", "PR"}


def untranslated(fig) -> list[str]:
    """Texts of a figure that still contain English words (three letters or more, outside :data:`KEEP`)."""
    from matplotlib.text import Text

    fig.canvas.draw()  # tick labels exist only once drawn
    left = []
    for t in fig.findobj(Text):
        words = [w for w in re.findall(r"[A-Za-z]{3,}", t.get_text()) if w not in KEEP]
        if words:
            left.append(t.get_text())
    return sorted(set(left))
