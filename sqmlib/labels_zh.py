"""Simplified Chinese for the report's narrative and charts: exact phrases, then patterns.

sqmlib's analyses write their findings in English; :func:`translate_markdown` turns each sentence into Chinese
through :data:`SENTENCES` (a pattern per sentence form, its parts — dimension names, items, lists — labelled
through :mod:`sqmlib.labels`), and :func:`translate_phrase` does the same for headings, tile labels and chart
texts (:data:`PHRASES`, :data:`PATTERNS`). A sentence no pattern knows stays English; the report tests list
any that reach a Chinese page.
"""
from __future__ import annotations

import re

from . import labels

from .training.i18n import PHRASES as _LESSON_PHRASES

# ---------------------------------------------------------------------------------------------------------
# phrases: headings, titles, tile labels, chart texts, short cell values
# ---------------------------------------------------------------------------------------------------------
PHRASES: dict[str, str] = {**_LESSON_PHRASES, **{
    # notebook titles and headline labels
    "Data audit": "数据审核", "Survey reliability and validity": "量表信度与效度", "Gap analysis": "差距分析",
    "Key driver analysis": "关键驱动因素分析", "Churn prediction": "流失预测", "KPI monitoring": "KPI 监控",
    "Quarterly summary": "季度摘要", "The service-profit chain": "服务利润链", "Service-profit chain": "服务利润链",
    "Respondents this quarter": "本季度受访者", "Usable item answers": "有效作答比例", "Straight-liners": "直线作答者",
    "Too fast": "作答过快", "Dimensions with α ≥ .70": "α ≥ .70 的维度", "Lowest α (perceptions)": "最低 α（感知）",
    "CFA CFI": "CFA 的 CFI", "Overall gap (P − E)": "总体差距（P − E）", "Items to concentrate on": "重点改进题项",
    "Overall perception": "总体感知", "R² explained": "解释的 R²", "Top driver": "首要驱动因素",
    "Drivers to fix first": "优先改进的驱动因素", "Customers to contact": "应联系的顾客", "Expected loss among them": "其中的预期损失",
    "EMPC per customer": "每位顾客的 EMPC", "NPS change": "NPS 变化", "Alerts": "预警", "Top complaint cause": "首要投诉原因",
    "Regions at maturity level 3": "达到成熟度 3 级的区域", "Loyalty index": "忠诚度指数", "Lever": "杠杆",
    "Actions": "行动", "Snapshot": "快照", "ROC-AUC (cross-validated)": "ROC-AUC（交叉验证）",
    "CES easy (top-2-box)": "CES 容易比例（前两格）", "Churn rate": "流失率", "First-contact resolution": "首次解决率",
    "CSAT (top-2-box)": "CSAT（前两格比例）", "Headlines": "核心指标",
    # tables: short values
    "ML, complete cases": "ML，完整个案", "ML, full information (every respondent)": "ML，全信息（全部受访者）",
    "WLSMV, answers as ordered categories": "WLSMV，把答案视为有序类别", "basic standards met": "达到基本标准",
    "basic standards not yet met": "尚未达到基本标准", "processes optimised": "流程已优化",
    "value co-created": "价值共创", "best threshold": "最优阈值", "complete": "完整", "conditional": "条件",
    "contacted": "已联系", "not contacted": "未联系", "contacts": "接触次数", "measured": "实际",
    "median": "中位数", "median response": "响应时间中位数", "midpoint": "量表中点", "within": "区间内",
    "below": "低于", "above": "高于", "points": "分", "share contacted": "联系比例", "tenure": "在网时长",
    "plan and charges": "套餐与费用", "overall P − E": "总体 P − E", "overall satisfaction, NPS, CES": "总体满意度、NPS、CES",
    "precision (churners among contacted)": "精确率（被联系者中的流失顾客）", "recall (churners reached)": "召回率（覆盖的流失顾客）",
    "profit at the best threshold": "最优阈值下的利润", "profit at this threshold": "此阈值下的利润",
    "customers' perceptions and expectations (SERVQUAL)": "顾客的感知与期望（SERVQUAL）",
    "management's idea of customers' expectations and those expectations": "管理层对顾客期望的认知与顾客实际期望",
    "mean over items of manager estimate − customer expectation": "各题项“管理层估计 − 顾客期望”的均值",
    "mean share of cases meeting the ticket-level standards": "工单层面达到标准的平均比例",
    "not measured: needs a review of the written standards against the management survey": "未测量：需要对照管理层调查审查书面标准",
    "not measured: needs the promises made (advertising, contracts) to compare with delivery": "未测量：需要把对外承诺（广告、合同）与实际交付对照",
    "service delivered and the service standards": "实际提供的服务与服务标准",
    "service delivered and what was promised to customers": "实际提供的服务与对顾客的承诺",
    "service standards and management's idea of expectations": "服务标准与管理层对期望的认知",
    "7% (the churners)": "7%（流失顾客）", "item": "题项", "dimension": "维度", "region": "区域", "share": "占比",
    "Customers at risk": "有流失风险的顾客", "quality: assurance": "质量：保证性",
    "(all)": "（全部）", "(none)": "（无）", "blank": "空白",
    # charts
    "Answered share per item": "各题项作答比例", "share answered": "作答比例",
    "Calibration: predicted against observed churn": "校准：预测与实际流失", "observed churn rate": "实际流失率",
    "mean predicted probability": "平均预测概率", "still a customer": "仍为顾客的比例", "days since signup": "注册后天数",
    "Customers still with us by tenure and plan (Kaplan–Meier)": "按在网时长和套餐划分的留存（Kaplan–Meier）",
    "Driver matrix (importance: share of R²; performance: mean perception)": "驱动因素矩阵（重要性：R² 占比；表现：平均感知）",
    "importance (derived: Shapley share of R²)": "重要性（推导：Shapley R² 占比）",
    "First-contact resolution (p-chart)": "首次解决率（p 控制图）", "share resolved": "解决比例",
    "Headline KPIs per quarter": "各季度核心 KPI", "Importance–performance (crosshair over all items)": "重要性—表现分析（全部题项的分割线）",
    "Importance–performance map": "重要性—表现图", "Index per construct (0–100), with 95 % intervals": "各构念指数（0–100）及 95% 置信区间",
    "index (0–100)": "指数（0–100）", "performance (index, 0–100)": "表现（指数，0–100）",
    "Item gaps (P − E) with 95 % intervals": "各题项差距（P − E）及 95% 置信区间",
    "Median first response to complaints (individuals chart)": "投诉首次响应时间中位数（单值控制图）",
    "NPS per region: red = NPS alert": "各区域 NPS：红色 = NPS 预警", "NPS this quarter": "本季度 NPS",
    "Penalty and reward per driver (Kano classes)": "各驱动因素的惩罚与奖励（Kano 分类）",
    "effect on the outcome: penalty of low performance (left), reward of high performance (right)": "对结果的影响：低表现的惩罚（左），高表现的奖励（右）",
    "true positive rate": "真正例率", "false positive rate": "假正例率", "recall": "召回率", "precision": "精确率",
    "Scree plot with parallel analysis": "碎石图与平行分析", "eigenvalue": "特征值", "component": "成分",
    "Time to complete the survey": "完成调查所用时间", "seconds": "秒", "respondents": "受访者数",
    "What the model relies on": "模型依赖的特征", "drop in ROC-AUC when shuffled": "打乱后 ROC-AUC 的下降",
    "Inter-item correlations (P)": "题项间相关（P）", "Inter-item correlations (E)": "题项间相关（E）",
    "Complaints by department": "各部门投诉", "observed": "实际", "random data": "随机数据",
    "parallel analysis (95th percentile)": "平行分析（第 95 百分位）", "data": "数据", "limit": "阈值",
    "this quarter": "本季度", "previous quarter": "上季度", "alert": "预警", "no alert": "无预警",
    "benchmark": "基准", "current quarter": "当前季度", "quarters": "季度", "Gap per dimension": "各维度差距",
    "95 %": "95%", "target": "目标", "threshold": "阈值", "NPS per unit against the alert rule": "各单位 NPS 与预警规则",
    "Loyalty": "忠诚度", "Satisfaction": "满意度",
    "SERVQUAL (22 items, expectations and perceptions)": "SERVQUAL（22 个题项，期望与感知）",
    "SERVPERF (22 SERVQUAL items, perceptions only)": "SERVPERF（22 个 SERVQUAL 题项，仅感知）",
}}

# chart texts and labels with a part that varies
PATTERNS: list[tuple[re.Pattern, str]] = [(re.compile(p), t) for p, t in [
    (r"Service quality, (?P<q>\S+): the summary", "服务质量 {q}：摘要"),
    (r"(?P<q>\S+)\n\(this quarter\)", "{q}\n（本季度）"),
    (r"too fast: under (?P<n>[\d,.]+) s", "作答过快：少于 {n} 秒"),
    (r"best: contact (?P<n>[\d.]+%)", "最优：联系 {n}"),
    (r"average precision (?P<n>[\d.]+)", "平均精确率 {n}"),
    (r"churn rate (?P<n>[\d.]+)", "流失率 {n}"),
    (r"retain (?P<n>\d+)", "保留 {n} 个"),
    (r"random data \((?P<n>\d+)th percentile\)", "随机数据（第 {n} 百分位）"),
    (r"random data \(mean\)", "随机数据（均值）"),
    (r"(?P<term>.+) \((?P<kano>excitement|performance|basic)\)", "{term}（{kano}）"),
    (r"Service quality, (?P<q>.+): the summary", "服务质量（{q}）：摘要"),
    (r"Largest dimension gap: (?P<term>.+)", "差距最大的维度：{term}"),
    (r"Lowest dimension: (?P<term>.+)", "最低的维度：{term}"),
    (r"Key drivers of (?P<term>.+)", "{term}的关键驱动因素"),
    (r"Value of \+(?P<n>[\d.]+) (?P<term>.+)", "{term}提升 {n} 分的价值"),
    (r"Respondents by (?P<term>.+)", "按{term}划分的受访者"),
    (r"Complaint causes, (?P<q>.+)", "投诉原因，{q}"),
    (r"Complaints by department, (?P<q>.+)", "各部门投诉，{q}"),
    (r"Dimension gaps by (?P<term>.+)", "按{term}划分的维度差距"),
    (r"Driver importance \((?P<term>.+)\)", "驱动因素重要性（{term}）"),
    (r"share of R² \(%\), R² = (?P<n>[\d.]+)", "R² 占比（%），R² = {n}"),
    (r"Share of R² for (?P<term>.+)", "{term}的 R² 占比"),
    (r"importance \(derived: correlation with (?P<term>.+)\)", "重要性（推导：与{term}的相关）"),
    (r"importance \(stated\)", "重要性（自述）"),
    (r"importance \(total effect on (?P<term>.+)\)", "重要性（对{term}的总效应）"),
    (r"Importance–performance map for (?P<term>.+)", "{term}的重要性—表现图"),
    (r"Importance–performance \(crosshair: (?P<term>\w+)\)", "重要性—表现分析（分割线：{term}）"),
    (r"vs (?P<q>\S+) \(significant\)", "较 {q}（显著）"),
    (r"vs (?P<q>\S+) \(within noise\)", "较 {q}（在波动范围内）"),
    (r"(?P<n>[+\-−]?[\d.]+) pts", "{n} 个百分点"),
    (r"(?P<a>\d+) of (?P<b>\d+)", "{a} / {b}"),
    (r"block (?P<term>\w+)", "题块：{term}"),
    (r"alert: (?P<term>.+)", "预警：{term}"),
    (r"(?P<term>[\w /]+) \((?P<n>\d+ ?%)\)", "{term}（{n}）"),
    (r"KPIs per (?P<term>\w+), (?P<q>.+)", "各{term}的 KPI，{q}"),
    (r"(?P<n>[\d,]+) respondents", "{n} 名受访者"),
    (r"(?P<term>.+) \(p-chart\)", "{term}（p 控制图）"),
    (r"(?P<term>.+) \(individuals chart\)", "{term}（单值控制图）"),
    (r"quality: (?P<term>.+)", "质量：{term}"),
    (r"Inter-item correlations \((?P<term>\w+)\)", "题项间相关（{term}）"),
]]

SENTENCES: list[tuple[re.Pattern, str]] = []


_EXTRA_WORDS = {"equal loadings, intercepts and residuals": "载荷、截距和残差均相等",
                "equal loadings and intercepts": "载荷和截距相等", "equal loadings": "载荷相等",
                "same structure": "结构相同", "dimension": "维度", "item": "题项"}


def _items(value: str) -> str:
    """``08 (delivers its services …), 06 (shows …)`` with each item's wording in Chinese."""
    def one(m):
        return f"{m.group(1)}（{labels.item_wording(m.group(2), 'zh')}）"
    out = re.sub(r"(\d{2}) \(([^()]+)\)", one, value)
    return out.replace("), ", "）、").replace("）, ", "）、")


def _part(name: str, value: str) -> str:
    """A captured part of a sentence in Chinese, by the group's name: ``list`` a comma list of names,
    ``term``/``t2``… one name, ``item`` an item's wording, ``items`` items with their wording, ``s`` a sentence,
    ``rest`` any text; anything else (numbers, dates, file names) as it is."""
    if value is None:
        return ""
    if name in ("list", "blocks"):
        parts = re.split(r",\s*(?:and\s+)?|\s+and\s+", value)
        return "、".join(_part("term", p) for p in parts if p)
    if name in ("term", "lvl", "what") or re.fullmatch(r"t\d", name):
        v = value.strip()
        if v in _EXTRA_WORDS:
            return _EXTRA_WORDS[v]
        out = labels.label(v, "zh")
        if out == v:
            out = translate_phrase(v)
        return out
    if name == "item":
        return labels.item_wording(value, "zh")
    if name == "kano":
        return {"excitement": "兴奋型", "performance": "期望型", "basic": "基本型"}.get(value, value)
    if name == "items":
        return _items(value)
    if name == "ids":
        return value.replace(", ", "、")
    if name == "pairs":
        return "；".join(re.sub(r"([\w ]+?) → ([\w ]+?) \((\d+)\)",
                               lambda m: f"{_part('term', m.group(1))} → {_part('term', m.group(2))}（{m.group(3)}）",
                               part) for part in value.split("; "))
    if name == "r2":
        return "、".join(re.sub(r"R² = ([\d.]+) of (.+)", lambda m: f"{_part('term', m.group(2))}的 R² = {m.group(1)}",
                               part) for part in value.split(", "))
    if name in ("s", "rest"):
        return translate_sentence(value)
    return value


def _apply(table, s: str) -> str | None:
    for pat, out in table:
        m = pat.fullmatch(s)
        if m:
            return out.format(**{k: _part(k, v) for k, v in m.groupdict().items()})
    return None


def translate_phrase(text: str) -> str:
    """A heading, label or chart text in Chinese; unknown texts are kept."""
    if not isinstance(text, str) or not text.strip():
        return text
    s = text.strip()
    if s in PHRASES:
        return PHRASES[s]
    found = labels.label(s, "zh")
    if found != s:
        return found
    out = _apply(PATTERNS, s)
    if out is not None:
        return out
    m = re.fullmatch(r"(\d{2}) (.+)", s)  # an item: "05 does what it promised …"
    if m:
        wording = labels.item_wording(m.group(2), "zh")
        if wording != m.group(2):
            return f"{m.group(1)} {wording}"
    out = _apply(SENTENCES, s)
    return out if out is not None else text


_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z*`(\d])")


def translate_sentence(s: str) -> str:
    """One sentence (Markdown) in Chinese through :data:`SENTENCES`, else through the phrases, else as is."""
    core = s.strip()
    if not core:
        return s
    out = _apply(SENTENCES, core)
    if out is None:
        out = _apply(SENTENCES, core.rstrip("."))
    if out is None:
        out = translate_phrase(core)
    return out


def translate_markdown(markdown: str) -> str:
    """sqmlib's Markdown in Chinese, line by line (list markers and headings kept), sentence by sentence."""
    lines = []
    for line in markdown.split("\n"):
        m = re.match(r"^(\s*(?:[-*] |\d+\. |#+ )?)(.*)$", line)
        prefix, body = m.group(1), m.group(2)
        if not body.strip():
            lines.append(line)
            continue
        whole = _apply(SENTENCES, body.strip())
        if whole is None:
            parts = [translate_sentence(part) for part in _SPLIT.split(body)]
            whole = parts[0] if parts else ""
            for part in parts[1:]:  # Chinese sentences follow each other without a space
                whole += part if (whole.endswith(("。", "：", "）")) and not part[:1].isascii()) else " " + part
        lines.append(prefix + whole)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# narrative sentences (Markdown as the analyses write it); named parts: list… (names), term… (one name),
# item… (an item's wording), s… (a sentence); others (numbers, dates) are kept
# ---------------------------------------------------------------------------------------------------------
N = r"[-−+]?[\d,]*\.?\d+"
_S = [
    # audit
    (rf"(?P<n>{N}) responses were loaded from (?P<f>.+?); (?P<m>{N}) of them are in (?P<q>\S+)\.",
     "从 {f} 读入 {n} 份问卷，其中 {m} 份属于 {q}。"),
    (rf"(?P<n>{N}) responses were loaded from (?P<f>.+?)\.", "从 {f} 读入 {n} 份问卷。"),
    (rf"(?P<p>{N}%) of all item answers are usable; every item column has at least 95 % usable answers\.",
     "全部题项答案中 {p} 可用；每个题项列至少有 95% 的可用答案。"),
    (rf"(?P<p>{N}%) of all item answers are usable; (?P<n>{N}) item column\(s\) have fewer than 95 % usable answers(?P<rest>.*)\.",
     "全部题项答案中 {p} 可用；{n} 个题项列的可用答案少于 95%{rest}。"),
    (rf"(?P<n>{N}) respondents \((?P<p>{N}%)\) gave the same answer to every perception item and (?P<m>{N}) \((?P<p2>{N}%)\) finished too fast \(under (?P<s>{N}) s\); (?P<k>{N}) did both\.",
     "{n} 名受访者（{p}）对所有感知题给出同一答案，{m} 名（{p2}）作答过快（少于 {s} 秒）；{k} 名两者兼有。"),
    (r"Consider leaving them out of the analyses that follow\.", "后续分析可考虑排除他们。"),
    (r"No value was outside its scale or unreadable\.", "没有超出量表范围或无法读取的值。"),
    (r"No invalid values: every answer is on its scale or a declared missing code\.",
     "没有无效值：每个答案都在量表范围内，或是已声明的缺失值代码。"),
    (r"\*\*By (?P<term>.+)\*\*", "**按{term}**"),
    # reliability
    (rf"\*\*(?P<n>{N}) respondents\*\* analysed \((?P<q>[^)]+)\); (?P<m>{N}) careless respondents left out\.",
     "**{n} 名受访者**参与分析（{q}）；排除 {m} 名粗心作答者。"),
    (rf"\*\*(?P<n>{N}) respondents\*\* analysed \((?P<q>[^)]+)\)\.", "**{n} 名受访者**参与分析（{q}）。"),
    (r"No item weakens its scale\.", "没有削弱量表的题项。"),
    (r"No item weakens its scale: each correlates well with the rest of its dimension\.",
     "没有削弱量表的题项：每个题项都与所属维度的其他题项相关良好。"),
    (rf"Parallel analysis retains \*\*(?P<n>{N})\*\* factor\(s\); the instrument has (?P<m>{N}) dimensions\.",
     "平行分析保留 **{n}** 个因子；量表有 {m} 个维度。"),
    (r"\*\*Factor correlations\*\*", "**因子相关**"),
    (r"\*\*Fornell–Larcker\*\* \(√AVE on the diagonal should exceed the correlations beside it\)",
     "**Fornell–Larcker**（对角线上的 √AVE 应大于同行同列的相关）"),
    (r"\*\*HTMT\*\* \(absolute item correlations, arithmetic means, as semTools' default; should stay below \.85\)",
     "**HTMT**（题项相关的绝对值、算术平均，与 semTools 默认一致；应低于 .85）"),
    (r"\*\*HTMT\*\* \(should stay below \.85\)", "**HTMT**（应低于 .85）"),
    (r"Every dimension's (?P<term>\w+) scale is reliable enough \(α ≥ \.70\); (?P<list>.+) reach \.80 or more\.",
     "每个维度的{term}量表信度都足够（α ≥ .70）；{list}达到 .80 或以上。"),
    (r"Every dimension's (?P<term>\w+) scale is reliable enough \(α ≥ \.70\)\.", "每个维度的{term}量表信度都足够（α ≥ .70）。"),
    (r"The (?P<term>\w+) scales of (?P<list>.+) fall below α = \.70: treat their scores with care\.",
     "{list}的{term}量表低于 α = .70：请谨慎使用其分数。"),
    (rf"Gap scores \(P − E\) are clearly less reliable than their parts for (?P<list>.+), as difference scores of correlated measures are \(lowest: (?P<term>.+) at (?P<n>{N})\)\.",
     "{list}的差距分数（P − E）信度明显低于其组成部分，这是相关测量之差的通病（最低：{term}，{n}）。"),
    (r"Report gaps at dimension level and read item gaps as indications only\.", "请在维度层面报告差距，题项差距仅作参考。"),
    (rf"Gap scores \(P − E\) are about as reliable as their parts here \(lowest: (?P<term>.+) at (?P<n>{N})\), because expectations and perceptions correlate weakly; with correlated E and P the gap would lose reliability\.",
     "此处差距分数（P − E）的信度与其组成部分相当（最低：{term}，{n}），因为期望与感知相关较弱；若 E 与 P 相关，差距会损失信度。"),
    (rf"The (?P<n>\d+)-dimension model fits well: (?P<rest>.+)\.", "{n} 维度模型拟合良好：{rest}。"),
    (rf"The (?P<n>\d+)-dimension model fits acceptably: (?P<rest>.+)\.", "{n} 维度模型拟合尚可：{rest}。"),
    (rf"The (?P<n>\d+)-dimension model does not fit well: (?P<rest>.+)\.", "{n} 维度模型拟合不佳：{rest}。"),
    (r"Discriminant validity is in doubt for (?P<list>.+)\.", "{list}的区分效度存疑。"),
    (r"The dimensions are distinct: every HTMT is below \.85 and the Fornell–Larcker criterion holds\.",
     "各维度可以区分：所有 HTMT 均低于 .85，且满足 Fornell–Larcker 准则。"),
    (r"Convergent validity is weak for (?P<list>.+) \(AVE < \.50\)\.", "{list}的聚合效度较弱（AVE < .50）。"),
    (r"Estimators: (?P<s>.+)", "估计方法：{s}"),
    (rf"The answers are (?P<n>\d+) ordered categories \((?P<p>{N}%) at the top of the scale\): WLSMV models them as such and is the one to trust for fit and loadings; ML treats the points as equally spaced numbers, which bends χ² and the loadings when answers pile up at one end; (?P<p2>{N}%) of the answers are missing: complete cases keep (?P<k>{N}) of (?P<m>{N}) respondents, full-information ML uses all (?P<m2>{N}) — where WLSMV and FIML disagree, missing answers are not random and FIML is the safer read of the loadings\.",
     "答案是 {n} 个有序类别（{p} 位于量表最高端）：WLSMV 按有序类别建模，拟合与载荷应以它为准；ML 把各分值当作等距数值，答案堆积在一端时会扭曲 χ² 和载荷；{p2} 的答案缺失：完整个案只保留 {m} 名受访者中的 {k} 名，全信息 ML 使用全部 {m2} 名——若 WLSMV 与 FIML 结果不一致，说明缺失并非随机，载荷以 FIML 为准更稳妥。"),
    (rf"The answers are (?P<n>\d+) ordered categories \((?P<p>{N}%) at the top of the scale\): WLSMV models them as such and is the one to trust for fit and loadings; ML treats the points as equally spaced numbers, which bends χ² and the loadings when answers pile up at one end\.",
     "答案是 {n} 个有序类别（{p} 位于量表最高端）：WLSMV 按有序类别建模，拟合与载荷应以它为准；ML 把各分值当作等距数值，答案堆积在一端时会扭曲 χ² 和载荷。"),
    (r"Measurement invariance across (?P<n>\d+) (?P<term>\w+) groups: \*\*(?P<lvl>\w+)\*\* \((?P<what>[^)]+)\)\. Dimension means can be compared across the groups\.",
     "{n} 个{term}组之间的测量不变性：**{lvl}**（{what}）。各组的维度均值可以比较。"),
    (r"Measurement invariance across (?P<n>\d+) (?P<term>\w+) groups: (?P<lvl>\w+) \((?P<what>[^)]+)\)\. Dimension means can be compared across the groups\.",
     "{n} 个{term}组之间的测量不变性：{lvl}（{what}）。各组的维度均值可以比较。"),
    (r"Measurement invariance across (?P<term>\w+): expectations (?P<t1>\w+), perceptions (?P<t2>\w+)\. The items work alike in every group, so dimension means and gaps can be compared\.",
     "跨{term}的测量不变性：期望为{t1}，感知为{t2}。题项在各组中作用相同，因此维度均值和差距可以比较。"),
    (r"Measurement invariance across (?P<term>\w+): expectations (?P<t1>\w+), perceptions (?P<t2>\w+)\. The items work alike in every group, so gaps of different quarters can be compared\.",
     "跨{term}的测量不变性：期望为{t1}，感知为{t2}。题项在各组中作用相同，因此不同季度的差距可以比较。"),
    # gaps
    (rf"\*\*(?P<n>{N}) respondents\*\* \((?P<q>[^)]+)\); instrument (?P<term>.+?): (?P<k>{N}) items in (?P<d>{N}) dimension\(s\), answered on (?P<lo>{N})–(?P<hi>{N}), (?P<blocks>.+)\.",
     "**{n} 名受访者**（{q}）；量表 {term}：{k} 个题项，{d} 个维度，量表 {lo}–{hi}，题块：{blocks}。"),
    (rf"Mean perception lies below the zone for \*\*(?P<a>{N})\*\* item\(s\), within it for (?P<b>{N}) and above it for (?P<c>{N})\.",
     "平均感知低于容忍区间的题项有 **{a}** 个，位于区间内的 {b} 个，高于区间的 {c} 个。"),
    (r"\*\*Attributes that change quadrant under another crosshair rule\*\*", "**换一种分割线规则会改变象限的属性**"),
    (r"\*\*Gap 1: managers' estimate of expectations − customers' expectations\*\* \(negative: management underestimates what customers expect\)",
     "**差距 1：管理层估计的期望 − 顾客期望**（负值：管理层低估了顾客的期望）"),
    (r"\*\*Gap 3: share of cases meeting each service standard\*\*", "**差距 3：达到各项服务标准的比例**"),
    (rf"\*\*(?P<n>{N})\*\* pairwise difference\(s\) significant after adjustment:", "校正后有 **{n}** 对差异显著："),
    (r"\*\*Largest significant gaps\*\*", "**最大的显著差距**"),
    (r"\*\*Largest gaps\*\* \(perception below expectation\):", "**最大的差距**（感知低于期望）："),
    (rf"(?P<id>\d+) \((?P<item>[^)]+)\): perceptions fall (?P<n>{N}) points short of expectations \[(?P<lo>{N}), (?P<hi>{N})\]; (?P<p>{N}%) of customers rate it below what they expect\.",
     "{id}（{item}）：感知比期望低 {n} 分 [{lo}, {hi}]；{p} 的顾客给出的评分低于其期望。"),
    (r"\*\*Concentrate here\*\* \(high importance, low performance; crosshair: (?P<term>\w+)\): (?P<items>.+)",
     "**重点改进**（重要性高、表现低；分割线：{term}）：{items}"),
    (r"The largest dimension shortfall among (?P<term>\w+) segments: (?P<t2>\w+) in (?P<t3>.+?) \((?P<n>[-−+]?[\d.]+)\)\.",
     "各{term}细分中维度差距最大者：{t3}的{t2}（{n}）。"),
    (rf"(?P<term>[\w ]+): the gap changed by (?P<n>{N}) since last quarter \[(?P<lo>{N}), (?P<hi>{N})\]\.",
     "{term}：差距较上季度变化 {n} [{lo}, {hi}]。"),
    # drivers
    (rf"\*\*(?P<n>{N}) respondents\*\* with every driver and the outcome \((?P<q>[^)]+)\); outcome \*\*(?P<term>[^*]+)\*\*, (?P<k>{N}) drivers \((?P<lvl>\w+) level\), model: (?P<t2>\w+)\.",
     "**{n} 名受访者**回答了全部驱动因素和结果变量（{q}）；结果变量 **{term}**，{k} 个驱动因素（{lvl}层面），模型：{t2}。"),
    (r"\*\*Dominance between drivers\*\* \(row over column\)", "**驱动因素之间的优势关系**（行优于列）"),
    (rf"\*\*(?P<n>{N})\*\* driver share difference\(s\) between (?P<term>\w+) segments exclude 0:",
     "各{term}细分之间有 **{n}** 个驱动因素份额差异的区间不含 0："),
    (rf"The strongest driver of (?P<term>\w+) is \*\*(?P<t2>[^*]+)\*\* \((?P<p>{N} %) of the explained variance\), then (?P<t3>.+?) \((?P<p2>{N} %)\) and (?P<t4>.+?) \((?P<p3>{N} %)\)\.",
     "{term}最强的驱动因素是 **{t2}**（占解释方差的 {p}），其次是{t3}（{p2}）和{t4}（{p3}）。"),
    (rf"The drivers explain R² = (?P<n>{N}) of (?P<term>\w+)\.", "驱动因素解释了{term} R² = {n} 的方差。"),
    (r"Fix first \(important and performing below average\): (?P<rest>.+)\.", "优先改进（重要且表现低于平均）：{rest}。"),
    (r"Fix first \(important and below average\): (?P<list>.+)\.", "优先改进（重要且低于平均）：{list}。"),
    (r"Excitement factors \(delight when good\): (?P<list>.+)\.", "兴奋型因素（表现好时带来惊喜）：{list}。"),
    (r"Basic factors \(hurt when poor\): (?P<list>.+)\.", "基本型因素（表现差时造成伤害）：{list}。"),
    # churn
    (rf"Snapshot \*\*(?P<d>[\d-]+)\*\*: (?P<n>{N}) active customers, (?P<p>{N}%) left within (?P<h>\d+) days\. (?P<k>{N}) features\.",
     "快照 **{d}**：{n} 名活跃顾客，{p} 在 {h} 天内离开。{k} 个特征。"),
    (rf"(?P<k>\d+)-fold cross-validated ROC-AUC \*\*(?P<a>{N})\*\* \(sd (?P<sd>{N}) over folds\); trained on the snapshot of (?P<d1>[\d-]+) and tested on (?P<d2>[\d-]+): \*\*(?P<b>{N})\*\*\.",
     "{k} 折交叉验证 ROC-AUC **{a}**（各折标准差 {sd}）；用 {d1} 的快照训练、在 {d2} 上检验：**{b}**。"),
    (rf"Best threshold: contact customers with a churn probability of at least \*\*(?P<t>{N})\*\* \((?P<p>{N}%) of customers\)\. Expected maximum profit per customer over uncertain acceptance \(EMPC, acceptance ~ Beta\((?P<a>\d+), (?P<b>\d+)\)\): \*\*(?P<e>{N})\*\*, targeting (?P<p2>{N}%); at a fixed acceptance of (?P<p3>{N}%) \(MPC\): (?P<m>{N})\.",
     "最优阈值：联系流失概率至少为 **{t}** 的顾客（占顾客的 {p}）。在接受率不确定时每位顾客的期望最大利润（EMPC，接受率 ~ Beta({a}, {b})）：**{e}**，目标比例 {p2}；接受率固定为 {p3} 时（MPC）：{m}。"),
    (r"\*\*Odds ratios\*\* \(numeric features per standard deviation; 95 % intervals\)", "**优势比**（数值特征按每个标准差计；95% 置信区间）"),
    (r"Left out of the odds-ratio model \(too rare to estimate\): (?P<list>.+)", "未纳入优势比模型（过于罕见，无法估计）：{list}"),
    (r"\*\*Cox model from the snapshot\*\* \(hazard ratios per unit of each feature\)", "**基于快照的 Cox 模型**（各特征每单位的风险比）"),
    (rf"For customers active now, the chance of still being a customer (?P<h>\d+) days later, given their tenure so far: median \*\*(?P<p>{N}%)\*\* \(10th percentile (?P<p2>{N}%)\)\.",
     "对当前活跃的顾客，考虑其已有在网时长，{h} 天后仍为顾客的概率：中位数 **{p}**（第 10 百分位 {p2}）。"),
    (rf"(?P<n>{N}) customers active on (?P<d>[\d-]+) scored; \*\*(?P<k>{N})\*\* above the profit-maximising threshold; expected loss among them (?P<l>{N})\. Full list: (?P<f>.+)\.",
     "已为 {d} 活跃的 {n} 名顾客打分；**{k}** 名高于利润最大化阈值；其中的预期损失为 {l}。完整名单：{f}。"),
    (rf"(?P<n>{N}) customers evaluated out of fold; (?P<k>{N}) of (?P<m>{N}) customers to contact now \(probability ≥ (?P<t>{N})\)",
     "{n} 名顾客用于交叉验证外样本评估；当前应联系 {m} 名顾客中的 {k} 名（概率 ≥ {t}）"),
    (rf"The churn model \(cross-validated ROC-AUC (?P<a>{N})\) scores every active customer\.", "流失模型（交叉验证 ROC-AUC {a}）为每位活跃顾客打分。"),
    (rf"Contacting the \*\*(?P<n>{N})\*\* customers above the profit-maximising threshold puts an expected \*\*(?P<l>{N})\*\* of customer value at stake among them; across all active customers the expected loss is (?P<t>{N})\.",
     "联系高于利润最大化阈值的 **{n}** 名顾客：他们身上预计有 **{l}** 的顾客价值面临流失风险；全部活跃顾客的预期损失为 {t}。"),
    (r"The list is in (?P<f>\S+)\.", "名单见 {f}。"),
    (r"The service-quality dimension churn depends on most: \*\*(?P<term>[^*]+)\*\*\.", "流失最依赖的服务质量维度：**{term}**。"),
    # KPIs
    (r"Compared with (?P<q>\S+); `significant` at the 5 % level\.", "与 {q} 比较；`显著` 指在 5% 水平上显著。"),
    (r"\*\*KPIs per (?P<term>\w+), (?P<q>[^*]+)\*\*", "**各{term}的 KPI，{q}**"),
    (rf"\*\*(?P<n>{N}) alert\(s\)\*\*: NPS more than (?P<p>{N}%) below the unit's benchmark for (?P<k>\d+) or more consecutive periods",
     "**{n} 项预警**：NPS 连续 {k} 期或以上低于该单位基准的 {p} 以上"),
    (rf"(?P<n>{N}) point\(s\) break a Western Electric rule:", "{n} 个点违反 Western Electric 判异规则："),
    (rf"(?P<n>{N}) complaint\(s\) without a category were classified from their text \(cross-validated accuracy on labelled tickets (?P<p>{N}%)\)\.",
     "{n} 条没有类别的投诉已根据文本自动分类（在已标注工单上的交叉验证准确率 {p}）。"),
    (r"Most often confused \(true → predicted\): (?P<pairs>.+)\.", "最常混淆（实际 → 预测）：{pairs}。"),
    (r"\*\*Severity mix per unit\*\*", "**各单位的严重程度构成**"),
    (r"\*\*Complaints per quarter and unit\*\*", "**各季度、各单位的投诉**"),
    (r"Level 1 basic standards \(are the rules followed\?\), level 2 process optimisation \(first-contact resolution, speed, improving\), level 3 value co-creation \(NPS, satisfaction, retention\)\. A unit reaches a level when it meets every criterion of that level and the ones below\.",
     "一级：基本标准（规则是否得到遵守？）；二级：流程优化（首次解决率、速度、持续改进）；三级：价值共创（NPS、满意度、保留）。单位满足某一级及其以下各级的全部判定项，才算达到该级。"),
    # summary
    (r"# Service quality, (?P<q>\S+): the summary", "# 服务质量 {q}：摘要"),
    (r"\*\*Top drivers of (?P<term>\w+)\*\*: (?P<list>.+)\.", "**{term}的首要驱动因素**：{list}。"),
    (rf"\*\*Service-profit chain\*\*: Loyalty index (?P<a>{N}) of 100, satisfaction (?P<b>{N})\. The lever: \*\*(?P<term>[^*]+)\*\* \(one index point moves Loyalty by (?P<c>{N}); it performs at (?P<d>{N})\), worth an expected (?P<v>{N}) in retained customer value for \+(?P<k>{N}) points\.",
     "**服务利润链**：忠诚度指数 {a}（满分 100），满意度 {b}。杠杆：**{term}**（指数每提高 1 分，忠诚度提高 {c}；其当前表现为 {d}），提升 {k} 分预计可保留 {v} 的顾客价值。"),
    (r"The survey scales are reliable \(every perception α ≥ \.70\)\.", "调查量表可靠（所有感知 α ≥ .70）。"),
    (r"- \*\*Alert: (?P<term>[^*]+)\*\* \((?P<t2>\w+)\): (?P<rest>.+)", "- **预警：{term}**（{t2}）：{rest}"),
    (r"\*\*Alert: (?P<term>[^*]+)\*\* \((?P<t2>\w+)\): NPS (?P<a>{N}) against a benchmark of (?P<b>{N}) from (?P<d1>\S+) to (?P<d2>\S+) \((?P<k>\d+) periods\)\.".replace("{N}", N),
     "**预警：{term}**（{t2}）：{d1} 至 {d2} NPS 为 {a}，基准为 {b}（{k} 期）。"),
    (r"Top complaint causes: (?P<list>.+)\.", "主要投诉原因：{list}。"),
    (r"No report for (?P<q>\S+) was found: the comparison above is computed from the data\.", "未找到 {q} 的报告：以上比较由数据直接计算。"),
    (r"Investigate \*\*(?P<term>[^*]+)\*\* now: its NPS has been far below its benchmark for (?P<k>\d+) periods and it does not meet the basic service standards \(maturity level (?P<l>\d)\)\.",
     "立即调查 **{term}**：其 NPS 已连续 {k} 期远低于基准，且未达到基本服务标准（成熟度 {l} 级）。"),
    (r"Investigate \*\*(?P<term>[^*]+)\*\* now: its NPS has been far below its benchmark for (?P<k>\d+) periods\.",
     "立即调查 **{term}**：其 NPS 已连续 {k} 期远低于基准。"),
    (r"Improve \*\*(?P<term>[^*]+)\*\*: it moves (?P<t2>\w+) most among the dimensions performing below average\.",
     "改进 **{term}**：在表现低于平均的维度中，它对{t2}的影响最大。"),
    (r"Concentrate on items (?P<ids>.+) \(important, performing below average\)\.", "重点改进题项 {ids}（重要且表现低于平均）。"),
    (rf"Contact the (?P<n>{N}) highest-risk customers with a retention offer\.", "向风险最高的 {n} 名顾客提供挽留方案。"),
    (r"Significant deteriorations this quarter: (?P<list>.+)\.", "本季度显著恶化的指标：{list}。"),
    (r"Significant improvements this quarter: (?P<list>.+)\.", "本季度显著改善的指标：{list}。"),
    # service-profit chain
    (rf"Loyalty index (?P<a>{N}) of 100 \[(?P<lo>{N}), (?P<hi>{N})\]; satisfaction (?P<b>{N})\.", "忠诚度指数 {a}（满分 100）[{lo}, {hi}]；满意度 {b}。"),
    (rf"The lever to pull: \*\*(?P<term>[^*]+)\*\* — one index point more moves (?P<t2>\w+) by (?P<c>{N}) points, and it performs at (?P<d>{N}), below the dimensions' average\.",
     "应拉动的杠杆：**{term}**——指数每提高 1 分，{t2}提高 {c} 分；其当前表现为 {d}，低于各维度平均。"),
    (r"The model explains (?P<r2>.+)\.", "模型解释了 {r2}。"),
    (rf"Each (?P<k>\d+) points of (?P<term>\w+) index change the odds of leaving within the horizon by a factor (?P<f>{N}) \[(?P<lo>{N}), (?P<hi>{N})\]\.",
     "{term}指数每提高 {k} 分，预测期内离开的优势变为原来的 {f} 倍 [{lo}, {hi}]。"),
    (rf"Raising (?P<term>\w+) by (?P<k>{N}) index points is worth an expected (?P<v>{N}) in retained customer value\.",
     "把{term}提高 {k} 个指数点，预计可保留 {v} 的顾客价值。"),
    (rf"\*\*(?P<n>{N}) respondents\*\* \((?P<q>[^)]+)\), mean replacement; (?P<c>\d+) constructs, (?P<p>\d+) paths, converged \(iterations: (?P<i>\d+)\)\.",
     "**{n} 名受访者**（{q}），均值替换缺失；{c} 个构念，{p} 条路径，已收敛（迭代 {i} 次）。"),
    (r"\*\*Index by (?P<term>\w+)\*\* \(95 % intervals\)", "**按{term}的指数**（95% 置信区间）"),
    (r"\*\*Items\*\*", "**题项**"),
    (rf"the gap score is less reliable \((?P<a>{N})\) than its parts \(P (?P<b>{N}), E (?P<c>{N})\)",
     "差距分数的信度（{a}）低于其组成部分（P {b}，E {c}）"),
    (r"\*\*Not available for this data:\*\* (?P<rest>.+)", "**此数据无法进行该分析：**{rest}"),
    (r"\*\*(?P<term>[^*]+)\*\*", "**{term}**"),
]
SENTENCES = [(re.compile(p), t) for p, t in _S]
