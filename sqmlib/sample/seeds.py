"""The sample's KANO questionnaire and service recovery, with planted truth.

Each draws from a random stream of its own, so the survey's ratings, the tickets and the customers are the
same numbers with and without them.

- **KANO** (the last quarter's respondents): eight attributes, each with a planted category that 55 % of the
  respondents hold (``KANO_PLANTED``); in the deteriorated region the call-back becomes a must-be requirement.
  A respondent's answer pair is drawn evenly from the evaluation-table cells of their category; 2 % of the
  pairs are contradictory (questionable) and 3 % are left blank.
- **Service recovery** (complaints): the remedies offered and the one chosen, when the remedy was completed, when
  the customer was revisited and their satisfaction then (1–5), and whether they complained again. Planted: the
  remedy's effect on revisit satisfaction and on complaining again (``REMEDY_EFFECT``), and the share of
  revisits within 72 hours per region (``REVISIT_WITHIN_72H``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

KANO_ATTRIBUTES = {  # id: (planted category, dimension, name en, name zh)
    "clean_store": ("M", "tangibles", "Clean, tidy store", "门店干净整洁"),
    "correct_bill": ("M", "reliability", "Bills without errors", "账单准确无误"),
    "callback_1h": ("O", "responsiveness", "A call back within one hour", "一小时内回电"),
    "expert_answers": ("O", "assurance", "Staff who can answer every question", "员工能解答所有问题"),
    "personal_advisor": ("A", "empathy", "A personal advisor who knows you", "了解您的专属顾问"),
    "free_internet": ("A", "tangibles", "Free internet access in the store", "门店免费上网"),
    "birthday_gift": ("I", "empathy", "A birthday gift", "生日礼物"),
    "sms_offers": ("R", "empathy", "Offers sent by text message", "短信推送优惠"),
}
KANO_PLANTED = 0.55  # share of respondents holding the attribute's planted category
KANO_REVERSE_BACKGROUND = 0.02  # reverse answers of attributes that are not reverse
KANO_QUESTIONABLE = 0.02
KANO_BLANK = 0.03
KANO_SEGMENT = {"callback_1h": "M"}  # the planted category in the deteriorated region, where it differs
_CELLS = {  # (functional, dysfunctional) answer pairs of each category (Berger et al. 1993)
    "A": [(1, 2), (1, 3), (1, 4)], "O": [(1, 5)], "M": [(2, 5), (3, 5), (4, 5)],
    "I": [(f, d) for f in (2, 3, 4) for d in (2, 3, 4)],
    "R": [(f, 1) for f in (2, 3, 4, 5)] + [(5, d) for d in (2, 3, 4)], "Q": [(1, 1), (5, 5)],
}

REMEDIES = ("apology", "voucher", "replacement", "refund")
REMEDY_CHOICE = {"apology": 0.2, "voucher": 0.3, "replacement": 0.2, "refund": 0.3}
REMEDY_EFFECT = {  # on revisit satisfaction (latent, answer points) and on the log-odds of complaining again
    "apology": (0.0, 0.0), "voucher": (0.4, -0.3), "replacement": (0.7, -0.5), "refund": (0.9, -0.6)}
SEVERITY_EFFECT = {"critical": -0.5, "major": -0.25, "minor": 0.0}
REVISIT_BASE = 3.0  # latent revisit satisfaction after an apology for a minor complaint
REVISIT_NOISE = 0.9
COMPLAIN_AGAIN_LOGIT = -1.3
REVISIT_WITHIN_72H = {"North": 0.92, "East": 0.90, "West": 0.88, "South": 0.62}
NO_REMEDY = 0.08  # complaints with no remedy recorded
NEVER_REVISITED = 0.04  # of those with a remedy


def kano_answers(survey: pd.DataFrame, quarter: str, region_col: str, deteriorated: str,
                 rng: np.random.Generator) -> pd.DataFrame:
    """The KANO pairs ``KF_<id>``/``KD_<id>`` for ``survey`` (answered in ``quarter`` only; blank before)."""
    asked = (survey["quarter"] == quarter).to_numpy()
    k = int(asked.sum())
    south = (survey.loc[asked, region_col] == deteriorated).to_numpy()
    cols = {}
    for attr, (planted, *_rest) in KANO_ATTRIBUTES.items():
        cat = np.empty(k, dtype=object)
        for where, main in ((~south, planted), (south, KANO_SEGMENT.get(attr, planted))):
            n = int(where.sum())
            others = [c for c in "AOMI" if c != main]
            cats = [main, *others] + (["R"] if main != "R" else [])
            rest = 1 - KANO_PLANTED - (KANO_REVERSE_BACKGROUND if main != "R" else 0)
            p = [KANO_PLANTED] + [rest / len(others)] * len(others) + (
                [KANO_REVERSE_BACKGROUND] if main != "R" else [])
            cat[where] = rng.choice(cats, n, p=p)
        cat[rng.random(k) < KANO_QUESTIONABLE] = "Q"
        f, d = np.zeros(k), np.zeros(k)
        for c, cells in _CELLS.items():
            idx = np.flatnonzero(cat == c)
            pick = rng.integers(0, len(cells), idx.size)
            f[idx] = [cells[j][0] for j in pick]
            d[idx] = [cells[j][1] for j in pick]
        blank = rng.random(k) < KANO_BLANK
        f[blank], d[blank] = np.nan, np.nan
        for name, v in ((f"KF_{attr}", f), (f"KD_{attr}", d)):
            col = np.full(len(survey), np.nan)
            col[asked] = v
            cols[name] = col
    return pd.DataFrame(cols, index=survey.index)


def kano_truth() -> dict:
    return {"attributes": {a: {"category": c, "dimension": d} for a, (c, d, _, _) in KANO_ATTRIBUTES.items()},
            "planted_share": KANO_PLANTED, "questionable_rate": KANO_QUESTIONABLE, "blank_rate": KANO_BLANK,
            "reverse_background": KANO_REVERSE_BACKGROUND, "deteriorated_region_category": KANO_SEGMENT}


def kano_instrument_yaml() -> str:
    """The ``kano:`` section of the sample's instrument."""
    lines = ["kano:", "  attributes:"]
    for attr, (_, dim, en, zh) in KANO_ATTRIBUTES.items():
        lines += [f"    {attr}:", f"      text: {{en: \"{en}\", zh: \"{zh}\"}}",
                  f"      functional: {{en: \"If the service offers this ({en.lower()}), how do you feel?\", "
                  f"zh: \"如果提供「{zh}」，您觉得如何？\"}}",
                  f"      dysfunctional: {{en: \"If the service does not offer this ({en.lower()}), how do you "
                  f"feel?\", zh: \"如果不提供「{zh}」，您觉得如何？\"}}",
                  f"      dimension: {dim}"]
    return "\n".join(lines) + "\n"


def recovery(interactions: pd.DataFrame, region_of: pd.Series, until: pd.Timestamp,
             rng: np.random.Generator) -> pd.DataFrame:
    """The recovery columns of the complaints (blank for enquiries): ``remedy_offered`` (the choices offered,
    ``;``-separated), ``remedy`` (the one chosen), ``recovered_at``, ``revisit_at``, ``revisit_sat`` (1–5) and
    ``complained_again``. ``region_of`` is each ticket's region in English (the planted compliance's key);
    revisits after ``until`` (the end of the data) have not happened yet."""
    m = len(interactions)
    is_c = (interactions["type"] == "complaint").to_numpy()
    has = is_c & (rng.random(m) >= NO_REMEDY)
    product = interactions["category"].isin(["product_quality", "delivery", "technical"]).to_numpy()
    offered = np.where(product, ";".join(REMEDIES), "apology;voucher;refund")
    chosen = np.empty(m, dtype=object)
    for kind in (True, False):
        idx = np.flatnonzero(has & (product == kind))
        names = list(REMEDIES) if kind else ["apology", "voucher", "refund"]
        p = np.array([REMEDY_CHOICE[r] for r in names])
        chosen[idx] = rng.choice(names, idx.size, p=p / p.sum())
    closed = pd.to_datetime(interactions["closed_at"]).to_numpy()
    recovered = closed + (np.exp(rng.normal(np.log(6), 0.6, m)) * 60).round().astype("timedelta64[m]")
    p72 = region_of.map(REVISIT_WITHIN_72H).to_numpy(float)
    within = rng.random(m) < p72
    hours = np.where(within, 72 * rng.beta(2.0, 1.6, m), 72 + np.exp(rng.normal(np.log(40), 0.6, m)))
    revisit = recovered + (hours * 60).round().astype("timedelta64[m]")
    never = rng.random(m) < NEVER_REVISITED
    done = has & ~never & (revisit <= np.datetime64(until))
    sev = interactions["severity"].map(SEVERITY_EFFECT).fillna(0).to_numpy(float)
    eff_sat = np.array([REMEDY_EFFECT[r][0] if r else 0.0 for r in chosen])
    eff_again = np.array([REMEDY_EFFECT[r][1] if r else 0.0 for r in chosen])
    sat = np.clip(np.floor(REVISIT_BASE + eff_sat + sev + REVISIT_NOISE * rng.standard_normal(m) + 0.5), 1, 5)
    again = rng.random(m) < 1 / (1 + np.exp(-(COMPLAIN_AGAIN_LOGIT + eff_again)))
    nat = np.datetime64("NaT")
    return pd.DataFrame({
        "remedy_offered": np.where(has, offered, ""),
        "remedy": np.where(has, chosen, ""),
        "recovered_at": np.where(has & (recovered <= np.datetime64(until)), recovered, nat),
        "revisit_at": np.where(done, revisit, nat),
        "revisit_sat": np.where(done, sat, np.nan),
        "complained_again": np.where(has & (recovered <= np.datetime64(until)),
                                     np.where(again, "yes", "no"), ""),
    }, index=interactions.index)


def recovery_truth() -> dict:
    return {"remedy_effect_on_revisit_satisfaction": {r: e[0] for r, e in REMEDY_EFFECT.items()},
            "remedy_effect_on_complaining_again_logit": {r: e[1] for r, e in REMEDY_EFFECT.items()},
            "severity_effect": SEVERITY_EFFECT, "revisit_within_72h": REVISIT_WITHIN_72H,
            "base_satisfaction": REVISIT_BASE, "noise_sd": REVISIT_NOISE, "no_remedy_rate": NO_REMEDY,
            "never_revisited_rate": NEVER_REVISITED, "complain_again_logit": COMPLAIN_AGAIN_LOGIT}
