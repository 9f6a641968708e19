"""The sample's design: dimensions, loadings, item means, texts and the configuration."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..instruments import load as load_instrument

DIMENSIONS = ("tangibles", "reliability", "responsiveness", "assurance", "empathy")
SIGMA = 1.2  # sd of the continuous item response
RHO = 0.55  # correlation between dimension factors
LOADINGS = {"tangibles": 0.62, "reliability": 0.68, "responsiveness": 0.66, "assurance": 0.64, "empathy": 0.63}
# latent item means: expectation high, perception lower by a dimension-specific shortfall
E_MEAN = {"tangibles": 5.6, "reliability": 6.2, "responsiveness": 6.0, "assurance": 6.0, "empathy": 5.7}
P_SHORTFALL = {"tangibles": 0.3, "reliability": 1.0, "responsiveness": 0.9, "assurance": 0.5, "empathy": 0.7}
ITEM_OFFSETS = (0.15, -0.1, 0.05, -0.15, 0.1)  # small item-to-item differences, cycled within a dimension
DETERIORATION = {"tangibles": 0.0, "reliability": -0.4, "responsiveness": -0.9, "assurance": -0.2, "empathy": -0.6}
DETERIORATION_U = 0.5
DETERIORATION_NPS = -0.8  # let-down customers also recommend less than their satisfaction alone says
SAT_WEIGHTS = {"tangibles": 0.10, "reliability": 0.35, "responsiveness": 0.25, "assurance": 0.15, "empathy": 0.15}
SAT_NOISE = 0.45
IMPORTANCE = {"tangibles": 0.11, "reliability": 0.32, "responsiveness": 0.22, "assurance": 0.19, "empathy": 0.16}
CHURN_COEF = {"intercept": -2.4, "quality": -0.6, "loyalty": -0.45, "complaints_prev_q": 0.5, "unresolved_prev_q": 0.8,
              "log_tenure_years": -1.1, "plan_basic": 0.7, "plan_premium": -0.6, "charges_10": 0.1}
# answer style and structure beyond the five factors (what makes the CFA fit "acceptably", as real surveys do)
ACQUIESCENCE = 0.32  # sd (answer points) of a respondent's tendency to rate everything higher or lower, in E and P
ACQUIESCENCE_WEIGHTS = (1.2, 0.7, 1.3, 0.8, 1.0)  # by position in the dimension: the style touches items unequally
CROSS_LOADING = 0.45  # answer points: the 2nd and 4th item of each dimension also load on the next dimension
# expectations and perceptions of one respondent are related: the general perception factor is the customer's
# quality perception u (weight HALO_QUALITY) plus a respondent halo h that is also the general expectation
# factor, and each dimension's specific expectation factor shares EP_SPECIFIC with its perception factor. (The
# expectations carry no u: churn selects on u, so u among survivors is not normal, and expectations near the
# ceiling would then no longer have the closed-form mean of expected_answer.)
HALO_QUALITY = 0.8
EP_SPECIFIC = 0.8
PAIR_RESIDUAL = 0.38  # answer points: the 1st and 3rd item of each dimension share part of their residual (wording)
NPS_LOYALTY = 0.7  # weight of the customer's loyalty disposition in the noise of their recommendation answer
COMPLAINT_LOG_RATE = -1.9
COMPLAINT_QUALITY = -0.5
COMPLAINT_DETERIORATION = 0.6
ENQUIRY_RATE = 0.25
MANAGER_BIAS = {"tangibles": 0.1, "reliability": -0.2, "responsiveness": -0.8, "assurance": 0.0, "empathy": -0.6}

REGIONS = ("North", "South", "East", "West")
REGION_P = (0.30, 0.25, 0.25, 0.20)
PLANS = ("basic", "standard", "premium")
PLAN_P = (0.5, 0.3, 0.2)
PLAN_CHARGE = {"basic": 29.99, "standard": 59.99, "premium": 99.99}
SURVEY_CHANNELS = ("store", "phone", "online")
TICKET_CHANNELS = ("phone", "email", "chat", "store")
COMPLAINT_CATEGORIES = ("billing", "staff_attitude", "waiting_time", "product_quality", "delivery", "technical")
COMPLAINT_P = (0.22, 0.16, 0.18, 0.16, 0.13, 0.15)
COMPLAINT_P_DETERIORATED = (0.15, 0.27, 0.28, 0.11, 0.09, 0.10)
DEPARTMENT = {"billing": "finance", "staff_attitude": "front_office", "waiting_time": "operations",
              "product_quality": "quality", "delivery": "logistics", "technical": "it",
              "account": "customer_service", "product_info": "customer_service"}
SEVERITIES = ("critical", "major", "minor")
SEVERITY_P = (0.1, 0.3, 0.6)
FIRST_RESPONSE_MEDIAN_H = {"critical": 0.6, "major": 2.5, "minor": 10.0}
TEXTS = {
    "en": {
        "billing": ["charged twice this month", "bill higher than the plan price", "refund still not received",
                    "invoice shows a fee I never agreed to", "you took money from my account without asking",
                    "the discount I was promised is not on my bill", "wrong amount on the invoice again",
                    "paid already but still got a payment reminder", "price went up without any notice"],
        "staff_attitude": ["staff member was rude and dismissive", "agent was cold and did not listen",
                           "nobody apologised for the mistake", "employee ignored me at the counter",
                           "the person on the phone hung up on me", "your employee laughed at my question",
                           "treated like a nuisance by the shop assistant", "manager refused to even talk to me",
                           "the agent was impatient and kept interrupting"],
        "waiting_time": ["waited over an hour on the phone", "queue at the store far too long",
                         "still waiting for someone to call back", "problem took days to be handled",
                         "on hold for 45 minutes then cut off", "nobody answered my email for a week",
                         "had to wait ages at the counter", "promised a call back within a day, nothing",
                         "the chat kept me waiting forever"],
        "product_quality": ["product broke after a week", "item differs from its description",
                            "quality much worse than advertised", "received a damaged item",
                            "the device stopped working after two days", "material feels cheap and tore",
                            "replacement has the same defect", "parts missing from the box",
                            "the screen has dead pixels out of the box"],
        "delivery": ["delivery arrived three days late", "parcel was sent to the wrong address",
                     "courier never showed up", "order lost in delivery", "package left in the rain at the door",
                     "tracking says delivered but nothing came", "delivery slot missed twice",
                     "driver would not bring it upstairs", "my order was split and half never arrived"],
        "technical": ["app keeps crashing at login", "website payment page fails",
                      "cannot reset my password online", "service outage for the whole evening",
                      "error message when I try to pay", "the app logs me out every few minutes",
                      "internet connection drops all the time", "update broke the app on my phone",
                      "two factor code never arrives"],
        "account": ["how do I change my address", "please update my contact details", "question about my contract",
                    "I want to add a second user to my account", "how can I change my plan",
                    "please send me a copy of my contract"],
        "product_info": ["is this plan available in my area", "what does the premium plan include",
                         "question about opening hours", "do you have this model in stock",
                         "which plan is best for a family", "is there a student discount"],
        "vague": ["very unhappy with your service", "this is unacceptable", "I expected much better from you",
                  "fix this please", "not what I paid for", "terrible experience overall"],
        "filler_before": ["I have been a customer for years.", "Second time this month.", "Hello,",
                          "Writing again because nothing happened.", "To whom it may concern,"],
        "filler_after": ["Please sort this out.", "I am thinking of leaving.", "Very disappointed.",
                         "I want an answer today.", "Thanks."],
        "join": ". Also, ", "stop": ". ", "space": " ",
    },
    "zh": {
        "billing": ["本月被重复扣费", "账单金额高于套餐价格", "退款到现在还没收到", "发票上有我没同意的费用",
                    "没经过我同意就从账户扣钱", "承诺的优惠没有体现在账单上", "发票金额又开错了",
                    "已经付过款还收到催缴通知", "价格上涨没有任何通知"],
        "staff_attitude": ["店员态度粗鲁敷衍", "客服很冷淡，根本不听我说", "出了错也没人道歉", "柜台员工对我不理不睬",
                           "电话客服直接挂我电话", "员工嘲笑我的问题", "店员把我当麻烦", "经理连话都不愿意跟我说",
                           "客服不耐烦，一直打断我"],
        "waiting_time": ["电话等了一个多小时", "门店排队时间太长", "一直在等回电", "问题拖了好几天才处理",
                         "等了四十五分钟后被挂断", "邮件一周都没人回复", "柜台前等了很久", "说好一天内回电，结果没有",
                         "在线客服让我等了半天"],
        "product_quality": ["产品用了一周就坏了", "商品和描述不一致", "质量比宣传的差很多", "收到的商品有损坏",
                            "设备两天后就不能用了", "材料很差一扯就破", "换的新货还是同样的毛病", "盒子里少了零件",
                            "屏幕开箱就有坏点"],
        "delivery": ["快递晚到了三天", "包裹送错了地址", "快递员根本没来", "订单在运输中丢失", "包裹被放在门口淋雨",
                     "物流显示已签收但我没收到", "两次错过约定的送货时间", "司机不肯送上楼", "订单拆开发货，一半没到"],
        "technical": ["应用登录时总是闪退", "网站支付页面打不开", "无法在网上重置密码", "整晚服务中断",
                      "付款时提示错误", "应用几分钟就自动退出登录", "网络连接经常断", "更新后手机上的应用用不了",
                      "收不到验证码"],
        "account": ["怎么修改我的地址", "请更新我的联系方式", "想咨询一下合同", "我想给账户添加第二个用户",
                    "怎么更换套餐", "请把合同副本发给我"],
        "product_info": ["我所在的地区能办这个套餐吗", "高级套餐包含哪些内容", "想问一下营业时间", "这个型号有货吗",
                         "家庭用哪个套餐最合适", "有学生优惠吗"],
        "vague": ["对你们的服务非常不满意", "这是不能接受的", "本来对你们期望很高", "请尽快解决", "和我付的钱不相符",
                  "整体体验很糟糕"],
        "filler_before": ["我是多年的老客户了。", "这个月已经是第二次了。", "你好，", "再次来信，因为问题还没解决。",
                          "您好，"],
        "filler_after": ["请尽快处理。", "我在考虑换别家了。", "非常失望。", "希望今天给我答复。", "谢谢。"],
        "join": "。另外，", "stop": "。", "space": "",
    },
}
TEXT_MIXED = 0.30  # a complaint that also mentions a second complaint category
TEXT_VAGUE = 0.13  # a complaint that names no cause at all
TEXT_TYPO = 0.15  # English texts with one or two slips of the keyboard
TEXT_FILLER = 0.35  # a sentence before or after the complaint (length spread)
LABEL_SLIP = 0.06  # complaints filed under a neighbouring category by the agent who logged them
REGION_ZH = {"North": "华北", "South": "华南", "East": "华东", "West": "华西"}
SURVEY_CHANNEL_ZH = {"store": "门店", "phone": "电话", "online": "网上"}
TICKET_CHANNEL_ZH = {"phone": "电话", "email": "邮件", "chat": "在线客服", "store": "门店"}
PLAN_ZH = {"basic": "基础版", "standard": "标准版", "premium": "高级版"}


def _typo(text: str, rng: np.random.Generator) -> str:
    """One or two slips: a swapped pair of letters or a dropped letter."""
    chars = list(text)
    for _ in range(int(rng.integers(1, 3))):
        i = int(rng.integers(1, max(2, len(chars) - 1)))
        if rng.random() < 0.5 and i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        elif len(chars) > 3:
            del chars[i]
    return "".join(chars)


def complaint_texts(categories: np.ndarray, is_complaint: np.ndarray, rng: np.random.Generator,
                    language: str = "en") -> np.ndarray:
    """Ticket texts that vary as real ones: several phrasings per category, some complaints mentioning a second
    cause or none, keyboard slips (English), and a spread of lengths."""
    bank = TEXTS[language]
    complaint_cats = list(COMPLAINT_CATEGORIES)
    out = np.empty(len(categories), dtype=object)
    u = rng.random((len(categories), 6))
    for i, (cat, comp) in enumerate(zip(categories, is_complaint)):
        phrases = bank[cat]
        text = phrases[int(u[i, 0] * len(phrases))]
        if comp and u[i, 1] < TEXT_VAGUE:
            text = bank["vague"][int(u[i, 2] * len(bank["vague"]))]
        elif comp and u[i, 1] < TEXT_VAGUE + TEXT_MIXED:
            other = complaint_cats[(complaint_cats.index(cat) + 1 + int(u[i, 2] * 5)) % len(complaint_cats)]
            second = bank[other][int(u[i, 3] * len(bank[other]))]
            if u[i, 3] < 0.5:  # the second cause first
                text, second = second, text
            text = text + bank["join"] + second
        if u[i, 4] < TEXT_FILLER:
            if u[i, 5] < 0.5:
                text = bank["filler_before"][int(u[i, 5] * 2 * len(bank["filler_before"]))] + bank["space"] + text
            else:
                text = text + bank["stop"] + bank["filler_after"][int((u[i, 5] - 0.5) * 2 * len(bank["filler_after"]))]
        if language == "en" and u[i, 4] > 1 - TEXT_TYPO:
            text = _typo(text, rng)
        out[i] = text
    return out


@dataclass(frozen=True)
class SynthConfig:
    """Settings of the sample-data generator (the defaults build ``data/sample/``)."""

    seed: int = 20260930
    n_customers: int = 10_000
    respondents_per_quarter: int = 2_000
    quarters: tuple[str, ...] = ("2025Q4", "2026Q1", "2026Q2", "2026Q3")
    history_quarter: str = "2025Q3"  # interactions and churn start one quarter before the survey
    first_signup: str = "2019-01-01"
    deteriorated_region: str = "South"
    n_managers: int = 12
    rate_blank: float = 0.02
    rate_dont_know: float = 0.015
    rate_not_applicable: float = 0.005
    rate_straightliner: float = 0.02
    rate_too_fast: float = 0.03
    rate_importance_skipped: float = 0.10
    rate_category_blank: float = 0.10
    language: str = "en"  # "zh": Chinese region, channel and plan names and Chinese ticket texts


def expected_answer(mu, sd=SIGMA, lo: int = 1, hi: int = 7):
    """Expected value of ``clip(round(Y), lo, hi)`` for ``Y ~ N(mu, sd**2)`` in closed form."""
    mu = np.asarray(mu, dtype=float)
    k = np.arange(lo, hi)  # thresholds k + 0.5 between points k and k + 1
    # E[X] = lo + sum_k P(Y > k + 0.5)
    return lo + norm.sf((k[:, None] + 0.5 - mu.ravel()[None, :]) / sd).sum(axis=0).reshape(mu.shape)


def _discretise(y, lo, hi):
    return np.clip(np.floor(y + 0.5), lo, hi)


def item_structure(items, dimensions) -> dict[str, np.ndarray]:
    """Per item (answer points): the loading on its own dimension, the cross-loading on the next dimension (the
    2nd and 4th item of each dimension), the loading on the respondent's answer style, the residual the 1st and
    3rd item of each dimension share (similar wording), and the residual sd that keeps every item's total sd at
    ``SIGMA`` (so :func:`expected_answer` stays the exact true mean)."""
    k = np.array(_positions(dimensions))  # each item's position within its dimension
    lam = np.array([LOADINGS[d] * SIGMA for d in dimensions])
    cross = np.where(np.isin(k, (1, 3)), CROSS_LOADING, 0.0)
    acq = ACQUIESCENCE * np.array(ACQUIESCENCE_WEIGHTS)[k]
    pair = np.where(np.isin(k, (0, 2)), PAIR_RESIDUAL, 0.0)
    common = lam ** 2 + cross ** 2 + 2 * lam * cross * RHO + acq ** 2 + pair ** 2
    if np.any(common > 0.95 * SIGMA ** 2):
        raise ValueError("the item structure leaves less than 5 % of an item's variance to its residual")
    return {"loading": lam, "cross_loading": cross, "style": acq, "pair_residual": pair,
            "residual_sd": np.sqrt(SIGMA ** 2 - common)}


def population_covariance(items=None, dimensions=None) -> np.ndarray:
    """Covariance of the continuous responses (before rounding) of one block's items, from the planted
    structure: own and cross loadings on factors correlated ``RHO``, the answer style, the shared residual of the
    paired items and the item residuals. Its diagonal is ``SIGMA**2``."""
    if items is None:
        inst = load_instrument("servqual")
        items, dimensions = list(inst.items), [inst.dimension_of(i) for i in inst.items]
    st = item_structure(items, dimensions)
    dim = np.array([DIMENSIONS.index(d) for d in dimensions])
    L = np.zeros((len(items), 5))
    L[np.arange(len(items)), dim] = st["loading"]
    L[np.arange(len(items)), (dim + 1) % 5] += st["cross_loading"]
    Phi = np.full((5, 5), RHO)
    np.fill_diagonal(Phi, 1.0)
    same = (dim[:, None] == dim[None, :]) & (st["pair_residual"][:, None] > 0) & (st["pair_residual"][None, :] > 0)
    S = L @ Phi @ L.T + np.outer(st["style"], st["style"]) + np.where(same, np.outer(st["pair_residual"],
                                                                                    st["pair_residual"]), 0.0)
    np.fill_diagonal(S, np.diag(S) + st["residual_sd"] ** 2)
    return S


def _positions(dimensions) -> list[int]:
    pos, out = {}, []
    for d in dimensions:
        pos[d] = pos.get(d, -1) + 1
        out.append(pos[d])
    return out


def item_means(config: SynthConfig = SynthConfig()) -> pd.DataFrame:
    """Latent and true (answer-scale) item means per quarter, region and block: the gap ground truth."""
    inst = load_instrument("servqual")
    rows = []
    last = config.quarters[-1]
    for q in config.quarters:
        for region in REGIONS:
            for d in DIMENSIONS:
                for k, item in enumerate(inst.dimensions[d]):
                    off = ITEM_OFFSETS[k % len(ITEM_OFFSETS)]
                    mu_e = E_MEAN[d] + off
                    mu_p = E_MEAN[d] - P_SHORTFALL[d] + off
                    if q == last and region == config.deteriorated_region:
                        mu_p += DETERIORATION[d]
                    for block, mu in (("E", mu_e), ("P", mu_p)):
                        rows.append((q, region, block, item, d, mu, float(expected_answer(mu))))
    return pd.DataFrame(rows, columns=["quarter", "region", "block", "item", "dimension", "latent_mean",
                                       "true_mean"])


def _largest_remainder(shares: np.ndarray, total: int = 100) -> np.ndarray:
    raw = shares * total
    base = np.floor(raw)
    short = (total - base.sum(axis=1)).astype(int)
    order = np.argsort(-(raw - base), axis=1, kind="stable")
    ranks = np.argsort(order, axis=1, kind="stable")
    return (base + (ranks < short[:, None])).astype(int)
