"""Customer value on a data folder: the pipeline of notebook ``10_customer_value``.

RFM segments at the quarter's end (and their migration since the previous quarter's end), the BG/NBD purchase
model beside the Pareto/NBD, Gamma-Gamma spend, each active customer's P(alive), expected purchases and
discounted lifetime value, a calibration/hold-out check of the purchase model, and — when a retention campaign
with a random control group exists — who the offer changes (uplift), with the contact list ranked by expected
incremental value. :func:`customer_values` serves the churn page too (value at risk from each customer's CLV).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import SQMArgumentError
from ..moments.engines import check_engine
from ..periods import previous_quarter, quarter_bounds
from ..render import formats, labels, seed_plots
from ..render.messages import msg, unavailable_line
from ..results import Result, Unavailable, figure, headline, table, text
from .clv import BGNBD, GammaGamma, ParetoNBD, bgnbd, clv, gamma_gamma, pareto_nbd, summary_from_transactions
from .engines import purchase_summary, rfm_summary
from .rfm import SEGMENT_ACTIONS, migration, rfm
from .uplift import _model, arm_models, arm_outcomes, measured_uplift, qini_auc, qini_curve, uplift_auc, x_learner

__all__ = ["ValueMetrics", "ValueResult", "run_value", "customer_values", "customer_table", "segment_table",
           "campaign_uplift",
           "purchases", "rfm_of", "orders_of", "ENGINE", "MONTHS", "DISCOUNT",
           "HOLDOUT_WEEKS", "OFFER_COST", "SPEND_CORRELATION"]

MONTHS = 12  # the lifetime value's horizon
DISCOUNT = 0.01  # a month
HOLDOUT_WEEKS = 26  # the purchase model's check: fitted on the data before, compared on these weeks
OFFER_COST = 10.0  # a retention offer's cost (the contact list's default)
DAYS = {"D": 1.0, "W": 7.0, "M": 30.0}  # days per period of the purchase model
ENGINE = "duckdb"  # where the orders are summarised per customer (duckdb, spark or pandas: the same numbers)
SPEND_CORRELATION = 0.3  # |corr(frequency, spend)| above this: the Gamma-Gamma model's assumption is in doubt
CAMPAIGN_FOLDS = 3  # cross-fitting folds of the uplift learners on the page


def orders_of(folder, until=None) -> pd.DataFrame:
    """The folder's orders that were not refunded in full (before ``until``)."""
    t = folder.transactions
    if "refunded" in t:
        t = t[~t["refunded"].fillna(False).astype(bool)]
    return t[t["order_time"] < pd.Timestamp(until)] if until is not None else t


def _ends(folder):
    c = folder.customers
    return c.set_index("customer_id")["churn_date"] if c is not None and "churn_date" in c else None


def purchases(folder, as_of, *, freq: str = "W", calibration_end=None, engine: str = ENGINE) -> pd.DataFrame:
    """The purchase summary of the folder's orders before ``as_of`` (:func:`summary_from_transactions`, or on an
    engine :func:`purchase_summary`; the same numbers), each customer's observation ending at their churn date."""
    as_of = pd.Timestamp(as_of)
    kw = dict(as_of=as_of - pd.Timedelta(seconds=1), freq=freq, calibration_end=calibration_end, ends=_ends(folder))
    if engine == "pandas":
        return summary_from_transactions(orders_of(folder, as_of), customer="customer_id", time="order_time",
                                         amount="amount", **kw)
    return purchase_summary(folder.transactions, engine=engine, **kw)


def rfm_of(folder, as_of, *, engine: str = ENGINE) -> pd.DataFrame:
    """RFM of the folder's orders before ``as_of`` (:func:`rfm`, or on an engine :func:`rfm_summary`)."""
    as_of = pd.Timestamp(as_of)
    if engine == "pandas":
        return rfm(orders_of(folder, as_of), customer="customer_id", time="order_time", amount="amount",
                   as_of=as_of - pd.Timedelta(seconds=1))
    return rfm_summary(folder.transactions, as_of=as_of - pd.Timedelta(seconds=1), engine=engine)


def customer_values(folder, as_of, *, months: int = MONTHS, discount: float = DISCOUNT, freq: str = "W",
                    engine: str = ENGINE) -> tuple[pd.DataFrame, BGNBD, GammaGamma]:
    """Per customer with orders before ``as_of``: the purchase summary, ``p_alive``, ``purchases_90d``,
    ``expected_spend`` and ``clv`` (discounted, ``months`` ahead), with the fitted models. A customer whose
    contract ended (``churn_date``) before ``as_of`` has a value of 0; their observation ends there."""
    as_of = pd.Timestamp(as_of)
    ends = _ends(folder)
    s = purchases(folder, as_of, freq=freq, engine=engine)
    model = bgnbd(s["frequency"], s["recency"], s["T"])
    spend = gamma_gamma(s["frequency"], s["monetary_value"])
    per_day = DAYS[freq]
    s["p_alive"] = model.p_alive(s["frequency"], s["recency"], s["T"])
    s["purchases_90d"] = model.expected_purchases(90 / per_day, s["frequency"], s["recency"], s["T"])
    s["expected_spend"] = spend.expected_spend(s["frequency"], s["monetary_value"])
    s["clv"] = clv(model, spend, s["frequency"], s["recency"], s["T"], s["monetary_value"], months=months,
                   discount_rate=discount, freq=freq)
    if ends is not None:
        gone = pd.to_datetime(ends.reindex(s.index)) < as_of
        s.loc[gone.to_numpy(), ["p_alive", "purchases_90d", "clv"]] = 0.0
        s["active"] = ~gone.to_numpy()
    else:
        s["active"] = True
    return s, model, spend


# the models' parameters with their meaning (shown; "r" and "alpha" alone are other statistics' labels)
GREEK = {k: f"param_{k}" for k in ("r", "alpha", "a", "b", "s", "beta", "p", "q", "v")}


def model_name(key: str) -> str:
    """An uplift learner's name in the reader's language."""
    return {"two_model": lambda: msg("value.model_two_model", "two-model learner"),
            "x_learner": lambda: msg("value.model_x_learner", "X-learner")}[key]()


@dataclass(frozen=True)
class ValueMetrics:
    """Key figures of :func:`run_value` (``metrics.json`` of the customer-value notebook)."""

    customers: int
    orders: int
    revenue: float
    bgnbd: dict
    bgnbd_loglik: float
    pareto_nbd_loglik: float
    gamma_gamma: dict
    spend_correlation: float
    clv_total: float
    clv_top_decile_share: float
    segments: dict  # segment -> customers
    segment_value_share: dict  # segment -> share of CLV
    holdout: dict  # predicted and actual repeat purchases in the hold-out weeks
    uplift: dict  # method -> qini, auc; empty without a campaign
    findings: list
    # the campaign's measured effect among the top tenth of each ranking (churn risk, each uplift learner)
    top_tenth_effect: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ValueResult(Result):
    """RFM segments, lifetime value, the purchase model's check and the campaign's uplift."""

    title = "Customer value"
    notebook = "10_customer_value"

    quarter: str
    as_of: pd.Timestamp
    customers: pd.DataFrame  # RFM and CLV per customer
    migration: pd.DataFrame | None
    model: BGNBD
    pareto: ParetoNBD
    spend: GammaGamma
    holdout: pd.DataFrame
    campaign: Mapping = field(default_factory=dict)  # scores, curves, areas, contact list
    currency: str = ""

    def metrics(self) -> ValueMetrics:
        c = self.customers
        active = c[c["active"]]
        share = (active.groupby("segment")["clv"].sum() / active["clv"].sum()).round(12).to_dict()
        h = self.holdout
        return ValueMetrics(
            customers=int(len(c)), orders=int(c["orders"].sum()), revenue=float(c["monetary"].sum()),
            bgnbd={k: float(v) for k, v in self.model.params.items()}, bgnbd_loglik=self.model.loglik,
            pareto_nbd_loglik=self.pareto.loglik, gamma_gamma={k: float(v) for k, v in self.spend.params.items()},
            spend_correlation=float(self.spend.correlation), clv_total=float(active["clv"].sum()),
            clv_top_decile_share=self.metrics_top(),
            segments={str(k): int(v) for k, v in c["segment"].value_counts().items()},
            segment_value_share={str(k): float(v) for k, v in share.items()},
            holdout={"predicted": float(h["predicted"].sum()), "actual": float(h["actual"].sum())},
            uplift={k: {"qini": v["qini"], "auc": v["auc"]} for k, v in (self.campaign.get("models") or {}).items()},
            findings=self.findings(), top_tenth_effect=self.top_tenth_effect())

    def top_tenth_effect(self) -> dict:
        """The campaign's measured effect on staying (contacted − not contacted) among the tenth of its customers
        ranked highest by churn risk (``risk``) and by each uplift learner; empty without a campaign."""
        c = self.campaign
        if not c.get("models"):
            return {}
        scores = {"risk": c["risk"], **{k: v["score"] for k, v in c["models"].items()}}
        return {k: measured_uplift(c["y"], c["t"], v, 0.1) for k, v in scores.items()}

    def findings(self) -> list[str]:
        m = self.model.params
        active = self.customers[self.customers["active"]]
        out = [msg("value.clv_total", "{n:,} active customers are worth {value} over the next {months} months "
                   "(discounted {rate:.0%} a month); the top tenth hold {top:.0%} of it.", n=len(active),
                   value=self.money(active["clv"].sum()), months=MONTHS, rate=DISCOUNT,
                   top=self.metrics_top())]
        out.append(msg("value.model", "Purchases follow the BG/NBD model (r {r:.2f}, α {alpha:.2f}, a {a:.2f}, "
                       "b {b:.2f}); in the {weeks} hold-out weeks it predicted {predicted:,.0f} repeat purchases "
                       "against {actual:,.0f}.", r=m["r"], alpha=m["alpha"], a=m["a"], b=m["b"], weeks=HOLDOUT_WEEKS,
                       predicted=self.holdout["predicted"].sum(), actual=self.holdout["actual"].sum()))
        if abs(self.spend.correlation) > SPEND_CORRELATION:
            out.append(msg("value.spend_doubt", "Frequency and spend correlate ({r:.2f}): the Gamma-Gamma spend model "
                           "assumes they do not, so read the values with care.", r=self.spend.correlation))
        models = self.campaign.get("models") or {}
        if models:
            best = max(models, key=lambda k: models[k]["qini"])
            out.append(msg("value.uplift", "The retention campaign: {n:,} customers, half contacted at random. The "
                           "{model} ranks who the offer changes with a Qini area of {qini:.2f} (0 random, 1 perfect); "
                           "the contact list ranks customers by expected incremental value (uplift × CLV − offer "
                           "cost).", n=self.campaign["n"], model=model_name(best), qini=models[best]["qini"]))
        else:
            out.append(msg("value.no_campaign", "No retention campaign with a random control group (campaigns.csv): "
                           "the churn page targets customers by risk, which is not the same as who an offer would keep "
                           "— that needs a campaign with customers held out at random."))
        return out

    def metrics_top(self) -> float:
        """The share of the active customers' lifetime value held by the most valuable tenth."""
        active = self.customers[self.customers["active"]]
        v = active["clv"].sort_values(ascending=False)
        return float(v.head(max(1, len(v) // 10)).sum() / v.sum()) if v.sum() > 0 else np.nan

    def money(self, x) -> str:
        return formats.money(x, currency=self.currency or None)

    def headline(self) -> list[dict]:
        active = self.customers[self.customers["active"]]
        return [headline("Active customers", int(len(active))),
                headline("Lifetime value (12 months)", float(round(active["clv"].sum())), self.money)]  # whole yuan

    def segment_table(self, column: str = "segment") -> pd.DataFrame:
        """:func:`segment_table` of the customers."""
        return segment_table(self.customers, column)

    def deciles(self) -> pd.DataFrame:
        """Active customers in tenths by lifetime value: customers, mean and total value, share of the total."""
        a = self.customers[self.customers["active"]].sort_values("clv", ascending=False)
        d = pd.Series(np.arange(len(a)) * 10 // max(len(a), 1) + 1, index=a.index, name="decile")
        g = a.groupby(d).agg(customers=("clv", "size"), mean_clv=("clv", "mean"), clv=("clv", "sum"),
                             p_alive=("p_alive", "mean"))
        g["value_share"] = g["clv"] / g["clv"].sum()
        return g

    def sections(self) -> dict:
        pct = "{:.0%}".format
        money = self.money
        seg = self.segment_table()
        shown = seg.rename(index=lambda k: labels.code(k))
        segments = [text(msg("value.rfm_rules", "RFM at {date}: recency is the days since the last order, "
                             "frequency the orders and monetary the spend, net of refunds; scores 1–5 by quintiles, "
                             "customers with equal values sharing the lower score (recent = 5). Segments: the common "
                             "map on the R and F scores; the Chinese map by R, F and M above or below their means.",
                             date=(self.as_of - pd.Timedelta(days=1)).date().isoformat())),
                    figure(lambda: seed_plots.segment_chart(shown), "segments"),
                    table(seg[["customers", "customers_share", "clv", "value_share", "orders", "monetary",
                               "suggested_action"]],
                          lambda s: s.format({"customers_share": pct, "value_share": pct, "clv": money,
                                              "monetary": money, "orders": "{:.1f}"}),
                          own_formats=("customers_share", "value_share", "clv", "monetary", "orders")),
                    table(self.segment_table("segment_zh")[["customers", "customers_share", "clv", "value_share"]],
                          lambda s: s.format({"customers_share": pct, "value_share": pct, "clv": money}),
                          own_formats=("customers_share", "value_share", "clv"))]
        if self.migration is not None:
            segments += [text(msg("value.migration", "**Migration since the previous quarter's end** (rows: the "
                                  "segment then; columns: now):")), table(self.migration)]
        m = self.model
        value = [text(self.findings()[0]),
                 table(self.deciles(), lambda s: s.format({"mean_clv": money, "clv": money, "value_share": pct,
                                                          "p_alive": "{:.2f}"}),
                       own_formats=("mean_clv", "clv", "value_share", "p_alive")),
                 text(msg("value.models", "The purchase model: BG/NBD (log-likelihood {ll:,.1f}) beside the Pareto/NBD "
                          "({ll2:,.1f}); spend: Gamma-Gamma (frequency–spend correlation {r:.2f}). Conventions as the "
                          "lifetimes library's: frequency counts the weeks with a repeat purchase, recency the age "
                          "at the last one, T the age.", ll=m.loglik, ll2=self.pareto.loglik,
                          r=self.spend.correlation)),
                 table(pd.concat({"BG/NBD": m.table.rename(index=GREEK), "Pareto/NBD": self.pareto.table.rename(
                     index=GREEK), "Gamma-Gamma": self.spend.table.rename(index=GREEK)}),
                       lambda s: s.format("{:.4g}")),
                 text(self.findings()[1]),
                 figure(lambda: seed_plots.holdout_chart(self.holdout), "holdout"),
                 table(self.holdout, lambda s: s.format({"predicted": "{:,.0f}", "actual": "{:,.0f}"}),
                       own_formats=("predicted", "actual"))]
        models = self.campaign.get("models") or {}
        if models:
            names = {k: model_name(k) for k in models}
            curves = {names[k]: v["curve"] for k, v in models.items()}
            areas = pd.DataFrame({"qini": {names[k]: v["qini"] for k, v in models.items()},
                                  "uplift_auc": {names[k]: v["auc"] for k, v in models.items()}})
            contact = self.campaign["contact"]
            effects = self.top_tenth_effect()
            campaign = [text(self.findings()[-1]),
                        figure(lambda: seed_plots.qini_chart(curves), "qini"),
                        table(areas, lambda s: s.format("{:.3f}")),
                        text(msg("value.risk_not_uplift", "**Risk is not uplift.** Among the tenth of the campaign's "
                                 "customers most likely to leave without an offer, contacting changed the share who "
                                 "stayed by {risk:+.1%}; among the tenth the {model} ranks first, by {best:+.1%}.",
                                 risk=effects["risk"], model=names[self.campaign["best"]],
                                 best=effects[self.campaign["best"]])),
                        text(msg("value.contact", "**The contact list** (the first 20; all {n:,} in the workbook): "
                                 "customers by expected incremental value, uplift × lifetime value − the offer's "
                                 "cost of {cost}.", n=len(contact), cost=money(OFFER_COST))),
                        table(contact.head(20), lambda s: s.format({"uplift": "{:+.3f}", "clv": money,
                                                                     "incremental_value": money}),
                              own_formats=("uplift", "clv", "incremental_value"))]
        else:
            campaign = [text(self.findings()[-1])]
        return {"segments": segments, "value": value, "campaign": campaign}

    def tables(self) -> dict[str, pd.DataFrame]:
        c = self.customers
        out = {"customers": c.sort_values("clv", ascending=False),
               "vip": c[c["active"] & c["segment"].isin(["champions", "loyal_customers"])].sort_values(
                   "clv", ascending=False),
               "win back": c[c["active"] & c["segment"].isin(["at_risk", "cant_lose_them"])].sort_values(
                   "clv", ascending=False),
               "purchase model": self.model.table, "pareto nbd": self.pareto.table, "spend model": self.spend.table,
               "holdout": self.holdout}
        if self.migration is not None:
            out["migration"] = self.migration
        if self.campaign.get("contact") is not None:
            out["contact list"] = self.campaign["contact"]
        return out


def _holdout(folder, as_of: pd.Timestamp, freq: str, engine: str = ENGINE) -> pd.DataFrame:
    """Fit on the orders before the last :data:`HOLDOUT_WEEKS` weeks; per number of repeat purchases in that
    calibration period (0–6, 7+), the mean predicted and actual repeat purchases in the hold-out weeks."""
    cal_end = as_of - pd.Timedelta(weeks=HOLDOUT_WEEKS)
    s = purchases(folder, as_of, freq=freq, calibration_end=cal_end, engine=engine)
    m = bgnbd(s["frequency"], s["recency"], s["T"])
    per_day = DAYS[freq]
    horizon = HOLDOUT_WEEKS * 7 / per_day
    ends = _ends(folder)
    if ends is not None:  # a contract that ended in the hold-out shortens its horizon
        end = pd.to_datetime(ends.reindex(s.index)).fillna(as_of).clip(upper=as_of)
        horizon = np.clip((end - cal_end).dt.days.to_numpy() / per_day, 0, horizon)
    s["predicted"] = m.expected_purchases(horizon, s["frequency"], s["recency"], s["T"])
    s["group"] = np.minimum(s["frequency"], 7).astype(int)
    g = s.groupby("group").agg(customers=("predicted", "size"), predicted=("predicted", "sum"),
                               actual=("frequency_holdout", "sum"))
    g.index = [f"{k}+" if k == 7 else str(k) for k in g.index]
    g.index.name = "repeat purchases before"
    return g


def campaign_uplift(folder, values: pd.DataFrame | None = None, *, offer_cost: float = OFFER_COST,
                    seed: int = 0) -> dict:
    """Uplift of the folder's (first) retention campaign: features at the contact (``x``), stayed (``y``) and
    contacted (``t``); cross-fitted two-model and X-learner scores with their Qini and uplift areas and curves;
    the churn risk without the offer (``risk``, :func:`risk_without_offer`); with ``values`` (the customer values,
    :func:`customer_values`) the contact list of today's active customers by expected incremental value."""
    camp = folder.campaigns
    name = sorted(camp["campaign"].unique())[0]
    c = camp[camp["campaign"] == name]
    sent = pd.Timestamp(c["sent_at"].min())
    window = int(c["window_days"].max())
    x = _features(folder, c["customer_id"], sent)
    cust = folder.customers.set_index("customer_id")
    left = pd.to_datetime(cust["churn_date"].reindex(c["customer_id"])) < sent + pd.Timedelta(days=window)
    y = (~left.to_numpy()).astype(float)  # stayed through the window
    t = c["treated"].astype(bool).to_numpy().astype(float)
    # the two-model learner's outcome models serve twice: their difference is the uplift, the control model's
    # probability of leaving is the churn risk without the offer (risk_without_offer); the X-learner starts from
    # the same per-arm models
    arms = arm_models(x, y, t, folds=CAMPAIGN_FOLDS, seed=seed)
    stay_treated, stay_control = arm_outcomes(x, y, t, folds=CAMPAIGN_FOLDS, seed=seed, models=arms)
    scores = {"two_model": stay_treated - stay_control,
              "x_learner": x_learner(x, y, t, folds=CAMPAIGN_FOLDS, seed=seed, models=arms)}
    models = {key: {"score": score, "qini": qini_auc(y, t, score), "auc": uplift_auc(y, t, score),
                    "curve": qini_curve(y, t, score)} for key, score in scores.items()}
    best = max(models, key=lambda k: models[k]["qini"])
    out = {"name": name, "n": int(len(c)), "treated": int(t.sum()), "sent_at": sent, "window_days": window,
           "models": models, "best": best, "y": y, "t": t, "x": x, "risk": 1 - stay_control}
    if values is None:
        return out
    # today's contact list: the chosen learner refitted on every campaign customer, applied to today's customers
    today = values[values["active"]].index
    xt = _features(folder, pd.Series(today), values.attrs.get("as_of", sent))
    both = pd.concat([x, xt], ignore_index=True)
    yy = np.r_[y, np.zeros(len(xt))]
    tt = np.r_[t, np.zeros(len(xt))]
    mask = np.r_[np.ones(len(x), bool), np.zeros(len(xt), bool)]
    scores = _score_new(both, yy, tt, mask, best, seed)
    contact = pd.DataFrame({"uplift": scores, "clv": values.loc[today, "clv"].to_numpy()}, index=today)
    contact["incremental_value"] = contact["uplift"] * contact["clv"] - offer_cost
    contact = contact.sort_values("incremental_value", ascending=False)
    return {**out, "contact": contact}


def _score_new(x: pd.DataFrame, y, t, train, method: str, seed: int) -> np.ndarray:
    """Uplift of the rows not in ``train`` from a learner fitted on the ``train`` rows."""
    X = x.to_numpy(dtype=float)
    tr, co = train & (t == 1), train & (t == 0)
    mt = _model(seed).fit(X[tr], y[tr])
    mc = _model(seed).fit(X[co], y[co])
    return mt.predict_proba(X[~train])[:, 1] - mc.predict_proba(X[~train])[:, 1]


def _features(folder, ids: pd.Series, as_of) -> pd.DataFrame:
    """What is known of each customer at ``as_of``: tenure, plan, charges, region, complaints in the previous 90 days
    and their orders' recency, frequency and spend."""
    as_of = pd.Timestamp(as_of)
    cust = folder.customers.set_index("customer_id").reindex(ids.to_numpy())
    out = pd.DataFrame(index=ids.to_numpy())
    out["tenure_years"] = ((as_of - pd.to_datetime(cust["signup_date"])).dt.days / 365.25).to_numpy()
    out["monthly_charges"] = cust["monthly_charges"].to_numpy()
    for plan in sorted(folder.customers["plan"].dropna().unique()):
        out[f"plan_{plan}"] = (cust["plan"] == plan).to_numpy().astype(float)
    for region in sorted(folder.customers["region"].dropna().unique()):
        out[f"region_{region}"] = (cust["region"] == region).to_numpy().astype(float)
    t = folder.interactions
    if t is not None:
        recent = t[(t["opened_at"] < as_of) & (t["opened_at"] >= as_of - pd.Timedelta(days=90))]
        if "type" in recent:
            recent = recent[recent["type"] == "complaint"]
        out["complaints_90d"] = recent.groupby("customer_id").size().reindex(out.index).fillna(0).to_numpy()
    o = orders_of(folder, as_of)
    g = o.groupby("customer_id")
    out["days_since_order"] = (as_of - g["order_time"].max()).dt.days.reindex(out.index).fillna(9999).to_numpy()
    out["orders"] = g.size().reindex(out.index).fillna(0).to_numpy()
    out["spend"] = g["amount"].sum().reindex(out.index).fillna(0).to_numpy()
    return out


def customer_table(folder, as_of, *, freq: str = "W", engine: str = ENGINE):
    """Per customer at ``as_of``: RFM (``orders`` is RFM's frequency) joined with the purchase summary
    (``repeat_periods``, ``age_at_last``, ``age``), P(alive), expected purchases and spend and the lifetime value;
    with the purchase summary and the two fitted models: ``(table, values, model, spend)``."""
    as_of = pd.Timestamp(as_of)
    values, model, spend = customer_values(folder, as_of, freq=freq, engine=engine)
    values.attrs["as_of"] = as_of
    table = rfm_of(folder, as_of, engine=engine).join(
        values[["frequency", "recency", "T", "monetary_value", "p_alive", "purchases_90d", "expected_spend", "clv",
                "active"]].rename(columns={"frequency": "repeat_periods", "recency": "age_at_last", "T": "age"}))
    return table.rename(columns={"frequency": "orders"}), values, model, spend


def segment_table(customers: pd.DataFrame, column: str = "segment") -> pd.DataFrame:
    """Per segment of ``column`` (``segment`` or ``segment_zh``): customers, their share, lifetime value and its
    share, mean orders and spend, and the suggested action; largest value first."""
    c = customers
    g = c.groupby(column).agg(customers=("clv", "size"), clv=("clv", "sum"), orders=("orders", "mean"),
                              monetary=("monetary", "mean"))
    g["customers_share"] = g["customers"] / g["customers"].sum()
    g["value_share"] = g["clv"] / g["clv"].sum() if g["clv"].sum() > 0 else np.nan
    g["suggested_action"] = [SEGMENT_ACTIONS.get(k, "") for k in g.index]
    return g.sort_values("clv", ascending=False)


def run_value(folder, *, quarter: str = "", freq: str = "W", offer_cost: float = OFFER_COST,
              engine: str = ENGINE, seed: int = 0) -> ValueResult | Unavailable:
    """Customer value: the pipeline of notebook ``10_customer_value``.

    Parameters
    ----------
    folder : DataFolder
        Needs the orders (``transactions``); ``customers`` end a customer's observation at their churn date;
        ``campaigns`` add the uplift section.
    quarter : str
        The quarter whose end is ``as_of`` ("" = the latest with orders).
    freq : str
        The purchase model's period ("W" weeks, "D" days, "M" months).
    offer_cost : float
        The retention offer's cost, for the contact list's incremental value.
    engine : {"duckdb", "spark", "pandas"}
        Where the orders are summarised per customer (RFM and the purchase models' statistics): DuckDB by
        default, Spark, or pandas; the same numbers (:func:`purchase_summary`, :func:`rfm_summary`).

    Examples
    --------
    >>> from sqmlib import io, value
    >>> v = value.run_value(io.load_folder())
    >>> v.customers.head(), v.model.params, v.campaign.get("contact")
    """
    if folder.transactions is None:
        reason = msg("value.no_orders", "the data folder has no orders (transactions.csv: customer_id, order_id, "
                     "order_time, amount; see data/README.md).")
        return Unavailable(reason=reason, line=unavailable_line(reason), notebook=ValueResult.notebook,
                           title=ValueResult.title, first="segments", quarter=quarter)
    quarters = sorted(folder.transactions["order_time"].dt.to_period("Q").astype(str).unique())
    q = quarter or quarters[-1]
    if q not in quarters:
        raise SQMArgumentError(f"no orders in quarter {q!r} (the orders cover {', '.join(quarters)})")
    as_of = quarter_bounds(q)[1]
    check_engine(engine)
    table, values, model, spend = customer_table(folder, as_of, freq=freq, engine=engine)
    r = table[["recency_days", "orders", "monetary", "r_score", "f_score", "m_score", "segment", "segment_zh"]]
    prev_end = quarter_bounds(previous_quarter(q))[1]
    mig = None
    if len(orders_of(folder, prev_end)):
        mig = migration(rfm_of(folder, prev_end, engine=engine), r)  # by segment: the column names do not matter
    pareto = pareto_nbd(values["frequency"], values["recency"], values["T"])
    campaign = {}
    if folder.campaigns is not None and folder.customers is not None:
        campaign = campaign_uplift(folder, values, offer_cost=offer_cost, seed=seed)
    return ValueResult(quarter=q, as_of=as_of, customers=table, migration=mig, model=model, pareto=pareto,
                       spend=spend, holdout=_holdout(folder, as_of, freq, engine), campaign=campaign,
                       currency=getattr(folder.instrument, "currency", "") or "")
