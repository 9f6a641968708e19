"""The sample's customer feedback — online reviews, call notes and survey comments in Chinese and English — with
planted aspects and a planted rising issue (a random stream of its own).

Each item speaks of one or two service aspects, each praised or criticised, in varied phrasing: negations (不太热情,
not very friendly), degree words, two aspects in one sentence joined by a contrast word when they disagree
(环境不错，但是上菜太慢), a tenth of the Chinese texts in Traditional characters, typos in a few English ones, the odd
phone number (masked when quoted). Reviews carry a star rating that follows their polarity. Planted: at
:data:`ISSUE_STORE`, waiting is mentioned two and a half times as often in the last :data:`ISSUE_WEEKS` weeks, and
85 % of those mentions complain (30 % before).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

ISSUE_STORE, ISSUE_ASPECT, ISSUE_WEEKS = "S2", "waiting", 4
WEEKS = 26
PER_STORE_WEEK = 12.0  # feedback items per store and week (Poisson mean)
ASPECT_SHARE = {"waiting": 0.22, "staff_attitude": 0.2, "competence": 0.12, "price_billing": 0.12,
                "environment": 0.12, "product": 0.12, "delivery": 0.05, "digital": 0.05}
NEGATIVE = {"waiting": 0.3, "staff_attitude": 0.25, "competence": 0.25, "price_billing": 0.35, "environment": 0.2,
            "product": 0.25, "delivery": 0.3, "digital": 0.4}

PHRASES = {  # aspect → polarity → language → phrasings
    "waiting": {
        -1: {"zh": ["等了很久才有人处理", "排队排了半天", "上菜太慢了", "师傅迟到了一个小时", "电话一直占线，没人接", "等太久了",
                    "回复慢，催了好几次", "效率太低了"],
             "en": ["we waited forever", "the queue was far too long", "the technician was late", "I was on hold for ages",
                    "service was really slow", "it took forever to get a reply", "had to wait too long"]},
        1: {"zh": ["上菜很快", "没有等很久", "师傅很准时", "响应非常及时", "效率很高", "基本不用排队"],
            "en": ["no wait at all", "service was quick", "the engineer arrived on time", "they replied promptly",
                   "very fast service"]}},
    "staff_attitude": {
        -1: {"zh": ["服务员态度很差", "店员爱理不理", "客服态度不太好", "服务员不太热情", "员工很不耐烦", "态度冷淡"],
             "en": ["the staff were rude", "the agent was not friendly", "staff were unfriendly and impatient",
                    "the waiter was dismissive", "a rather rude cashier"]},
        1: {"zh": ["服务员很热情", "店员态度非常好", "客服特别耐心", "服务很周到", "员工很有礼貌"],
            "en": ["the staff were very friendly", "a really helpful agent", "the waiter was polite and caring",
                   "friendly staff"]}},
    "competence": {
        -1: {"zh": ["师傅不专业", "问题没解决", "答非所问", "修了两次还是修不好", "搞错了我的订单"],
             "en": ["the technician was clueless", "they did not solve the problem", "an unprofessional repair",
                    "they made a mistake with my order"]},
        1: {"zh": ["师傅很专业", "问题很快就解决了", "技术很熟练", "一次就修好了"],
            "en": ["very professional", "the engineer was knowledgeable", "they fixed it the first time",
                   "problem solved quickly"]}},
    "price_billing": {
        -1: {"zh": ["价格太贵", "账单多收了钱", "乱收费", "退款拖了很久", "性价比很低"],
             "en": ["far too expensive", "I was overcharged on my bill", "the refund never came", "hidden fees on the bill"]},
        1: {"zh": ["价格很实惠", "性价比不错", "收费很合理", "不贵"],
            "en": ["good value for money", "the price was fair and cheap", "billing was clear and correct"]}},
    "environment": {
        -1: {"zh": ["环境很脏", "店里太吵了", "座位太拥挤", "洗手间有异味"],
             "en": ["the store was dirty", "too noisy inside", "crowded and messy", "the restroom was smelly"]},
        1: {"zh": ["环境很干净", "店里很安静", "装修不错，很舒服", "环境整洁"],
            "en": ["a clean and quiet store", "the shop was tidy", "pleasant and comfortable environment"]}},
    "product": {
        -1: {"zh": ["东西质量很差", "菜品不新鲜", "味道一般", "收到的产品坏了"],
             "en": ["poor quality", "the food was stale", "the product arrived broken", "taste was mediocre"]},
        1: {"zh": ["质量很好", "菜品很新鲜", "味道不错", "产品做工很好"],
            "en": ["great quality", "the food was fresh and tasty", "excellent product"]}},
    "delivery": {
        -1: {"zh": ["快递太慢了", "包装破损", "配送员态度差"],
             "en": ["the delivery was late", "the package was damaged", "delivery took forever"]},
        1: {"zh": ["配送很快", "包装很好", "送货上门很及时"],
            "en": ["quick delivery", "the parcel was well packed", "delivered on time"]}},
    "digital": {
        -1: {"zh": ["app总是闪退", "小程序下单很麻烦", "网站登录不了"],
             "en": ["the app keeps crashing", "checkout on the website is a nightmare", "could not log in to the app"]},
        1: {"zh": ["app很好用", "小程序下单很方便", "网站很顺利"],
            "en": ["the app is easy to use", "online checkout was smooth"]}},
}
OPENERS = {("zh", "review"): ["", "", "今天去了这家店。", "第二次来了，", "周末带家人来，"],
           ("en", "review"): ["", "", "Visited last week. ", "Second time here. ", "Came with family, "],
           ("zh", "call"): ["打了客服电话，", "来电反映：", ""], ("en", "call"): ["Called the hotline. ", "Caller says: ", ""],
           ("zh", "survey_comment"): [""], ("en", "survey_comment"): [""]}
JOIN = {("zh", True): "，", ("zh", False): "，但是", ("en", True): ", and ", ("en", False): ", but "}
SOURCES = (("review", 0.55), ("call", 0.25), ("survey_comment", 0.2))
PLATFORMS = {"review": ("dianping", "meituan", "google"), "call": ("400 line",), "survey_comment": ("survey",)}


def _typo(text: str, rng) -> str:
    words = text.split(" ")
    k = int(rng.integers(len(words)))
    w = words[k]
    if len(w) > 4:
        i = int(rng.integers(1, len(w) - 1))
        words[k] = w[:i] + w[i + 1:]
    return " ".join(words)


def feedback(stores: dict, data_end: pd.Timestamp, seed: int, customers: pd.Series | None = None
             ) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """(``feedback`` table, truth of the planted issue, each item's planted aspects and polarities): ``stores`` maps
    store → region; the items fall in the :data:`WEEKS` weeks before ``data_end``."""
    import opencc

    s2t = opencc.OpenCC("s2t.json")
    rng = np.random.default_rng([seed, 733])
    end = pd.Timestamp(data_end).normalize()
    start = end - pd.Timedelta(weeks=WEEKS)
    aspects, shares = list(ASPECT_SHARE), np.array(list(ASPECT_SHARE.values()))
    shares = shares / shares.sum()
    rows, truth_rows = [], []
    for week in range(WEEKS):
        w0 = start + pd.Timedelta(weeks=week)
        late = week >= WEEKS - ISSUE_WEEKS
        for store in sorted(stores):
            for _ in range(int(rng.poisson(PER_STORE_WEEK))):
                lang = "zh" if rng.random() < 0.6 else "en"
                source = str(rng.choice([s for s, _ in SOURCES], p=[w for _, w in SOURCES]))
                k = 1 if rng.random() < 0.55 else 2
                p = shares.copy()
                planted = late and store == ISSUE_STORE
                if planted:
                    p[aspects.index(ISSUE_ASPECT)] *= 2.5
                    p = p / p.sum()
                chosen = list(rng.choice(aspects, size=k, replace=False, p=p))
                pols = []
                for a in chosen:
                    q = NEGATIVE[a]
                    if planted and a == ISSUE_ASPECT:
                        q = 0.85  # mentioned more often, and mostly to complain
                    pols.append(-1 if rng.random() < q else 1)
                parts = [str(rng.choice(PHRASES[a][pl][lang])) for a, pl in zip(chosen, pols)]
                text = parts[0]
                if k == 2:
                    text += JOIN[(lang, pols[0] == pols[1])] + parts[1]
                opener = str(rng.choice(OPENERS[(lang, source)]))
                if lang == "en" and not opener.endswith(", "):
                    text = text[0].upper() + text[1:]  # a sentence of its own
                text = opener + text + ("。" if lang == "zh" else ".")
                if lang == "en":
                    text = text[0].upper() + text[1:]
                    if rng.random() < 0.04:
                        text = _typo(text, rng)
                elif rng.random() < 0.1:
                    text = s2t.convert(text)
                if rng.random() < 0.02:
                    text += (" 我的电话13812345678" if lang == "zh" else " Call me on 138 1234 5678.")
                score = sum(pols)
                rating = None
                if source == "review":
                    rating = int(np.clip(3 + score + rng.choice([-1, 0, 0, 1]) * (rng.random() < 0.2), 1, 5))
                    if score == 0:
                        rating = int(rng.choice([2, 3, 4]))
                when = w0 + pd.Timedelta(seconds=int(rng.integers(7 * 86400)))
                fid = f"F{len(rows) + 1:05d}"
                rows.append({"feedback_id": fid, "source": source,
                             "platform": str(rng.choice(PLATFORMS[source])), "created_at": when,
                             "store": store, "region": stores[store],
                             "customer_id": (str(rng.choice(customers)) if customers is not None and
                                             source != "review" else None),
                             "rating": rating, "text": text})
                truth_rows.extend({"feedback_id": fid, "aspect": a, "polarity": pl} for a, pl in zip(chosen, pols))
    table = pd.DataFrame(rows)
    truth = {"issue": {"store": ISSUE_STORE, "aspect": ISSUE_ASPECT, "weeks": ISSUE_WEEKS},
             "items": int(len(table)), "mentions": int(len(truth_rows))}
    return table, truth, pd.DataFrame(truth_rows)
