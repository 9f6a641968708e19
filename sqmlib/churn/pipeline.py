"""The pipeline of the churn notebook: :func:`run_churn` and its result."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import SQMArgumentError
from ..render import formats, plots
from ..render.messages import msg, terms
from ..value.pipeline import customer_values
from ..render.outputs import write_csv, write_excel
from ..results import Block, Result, figure, headline, metrics_dict, table, text
from .model import (
    ChurnResult,
    OddsRatios,
    fit_churn_model,
    odds_ratios,
    permutation_importance_grouped,
)
from .profit import ProfitCurve, calibration_table, empc, mpc, profit_curve
from .survival import (
    SnapshotModel,
    conditional_survival,
    cox_model,
    features_at,
    fit_at_snapshot,
    importance_groups,
    km_curves,
    score_today,
    scoring_date,
    snapshot_of,
)


# ---------------------------------------------------------------------------------------------------------
# the pipeline of the churn notebook
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChurnMetrics:
    """Key figures of :func:`run_churn` (``metrics.json`` of the churn notebook)."""

    snapshot: str | None = None
    horizon_days: int | None = None
    model: str | None = None
    customers: int | None = None
    churn_rate: float | None = None
    cv_auc: float | None = None
    cv_auc_sd: float | None = None
    holdout_auc: float | None = None
    evaluation: dict | None = None
    empc: float | None = None
    empc_fraction: float | None = None
    mpc: float | None = None
    best_threshold: float | None = None
    best_fraction: float | None = None
    best_profit: float | None = None
    contact_everyone_profit: float | None = None
    perfect_model_profit: float | None = None
    to_contact: int | None = None
    expected_loss_to_contact: float | None = None
    expected_loss_all: float | None = None
    importance: dict | None = None
    top_quality_driver: str | None = None
    value_basis: str | None = None  # "orders": each customer's own lifetime value; "flat": one value for all
    mean_value: float | None = None  # the mean value of the evaluated customers (the flat value when flat)
    skipped: bool = False


@dataclass(frozen=True)
class ChurnAnalysis(Result):
    """What :func:`run_churn` found. With no customers table it is ``skipped`` and holds nothing else."""

    title = "Churn prediction"
    notebook = "04_churn_prediction"

    quarter: str
    skipped: bool = False
    fitted: SnapshotModel | None = None
    previous: pd.Timestamp | None = None
    holdout_auc: float | None = None
    evaluation: pd.DataFrame | None = None
    curve: ProfitCurve | None = None
    empc_value: tuple | None = None
    mpc_value: tuple | None = None
    economics: Mapping | None = None
    values: np.ndarray | None = None  # each evaluated customer's value (with orders; else None: one flat value)
    importance: pd.DataFrame | None = None
    odds: OddsRatios | None = None
    km: dict | None = None
    cox: object | None = None
    conditional: np.ndarray | None = None
    risk: pd.DataFrame | None = None
    scored_on: pd.Timestamp | None = None
    currency: str = ""  # the data's currency (its instrument's): amounts in findings and headlines carry it

    @property
    def model(self) -> ChurnResult | None:
        return self.fitted.model if self.fitted else None

    def money(self, amount, digits: int = 0) -> str:
        """An amount in the data's currency (:func:`sqmlib.render.formats.money`)."""
        return formats.money(amount, digits, self.currency)

    def findings(self) -> list[str]:
        if self.skipped:
            return [msg("churn.skipped", "No customers table in the data folder: churn prediction is skipped.")]
        m = self.metrics()
        return [msg("churn.finding_auc", "5-fold cross-validated ROC-AUC {auc:.3f}; on the next snapshot "
                    "{holdout:.3f}.", auc=m.cv_auc, holdout=m.holdout_auc),
                msg("churn.finding_contact", "Contacting the {n:,} customers above the profit-maximising threshold "
                    "puts an expected {loss} of customer value at stake.", n=m.to_contact,
                    loss=self.money(m.expected_loss_to_contact))]

    def _quality(self) -> pd.DataFrame:
        return self.importance[self.importance["feature"].str.startswith("quality:")]

    def metrics(self) -> ChurnMetrics:
        if self.skipped:
            return ChurnMetrics(skipped=True)
        r, c, y = self.model, self.curve, self.model.y
        quality = self._quality()
        contact = self.risk[self.risk["contact"]]
        return ChurnMetrics(
            snapshot=str(self.fitted.snapshot.date()), horizon_days=self.fitted.horizon_days, model=r.model,
            customers=len(self.fitted.features), churn_rate=float(y.mean()), cv_auc=r.cv_auc, cv_auc_sd=r.cv_auc_sd,
            holdout_auc=self.holdout_auc, evaluation=self.evaluation["value"].to_dict(), empc=self.empc_value[0],
            empc_fraction=self.empc_value[1], mpc=self.mpc_value[0], best_threshold=c.best_threshold,
            best_fraction=c.best_fraction, best_profit=c.best_profit, contact_everyone_profit=c.contact_everyone,
            perfect_model_profit=c.perfect_model, to_contact=int(self.risk["contact"].sum()),
            expected_loss_to_contact=float(contact["expected_loss"].sum()),
            expected_loss_all=float(self.risk["expected_loss"].sum()),
            importance=self.importance.set_index("feature")["auc_drop"].to_dict(),
            top_quality_driver=quality.iloc[0]["feature"].split(": ")[1] if len(quality) else None,
            value_basis=self.economics.get("clv_basis", "flat"), mean_value=float(self.economics["clv"]))

    def metrics_json(self) -> dict:
        """The metrics as ``metrics.json`` holds them (a skipped analysis records only ``skipped``)."""
        m = self.metrics()
        return {"skipped": True} if self.skipped else {k: v for k, v in metrics_dict(m).items() if k != "skipped"}

    def headline(self) -> list[dict]:
        if self.skipped:
            return [headline("Skipped", "no customers table", "{}")]
        m = self.metrics()
        return [headline("CV ROC-AUC", m.cv_auc, "{:.3f}"), headline("Customers to contact", m.to_contact),
                headline("Expected loss among them", m.expected_loss_to_contact, self.money),
                headline("EMPC per customer", m.empc, "{:.2f}")]

    def tables(self) -> dict[str, pd.DataFrame]:
        if self.skipped:
            return {}
        return {"evaluation": self.evaluation, "gains": self.model.gains(), "profit curve": self.curve.table,
                "importance": self.importance, "risk list (top 1000)": self.risk.head(1000)}

    def write_files(self, out_dir) -> list:
        """The risk list as ``risk_list.csv`` and ``risk_list.xlsx`` in ``out_dir``."""
        if self.skipped:
            return []
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_csv(self.risk, out / "risk_list.csv", index=False)
        write_excel({"risk list": self.risk}, out / "risk_list.xlsx", index=False)
        return [out / "risk_list.csv", out / "risk_list.xlsx"]

    def sections(self) -> dict[str, list[Block]]:
        if self.skipped:
            skipped = text(msg("churn.skipped_add", "**No customers table in the data folder: churn prediction is "
                               "skipped.** Add `customers.csv` (see data/README.md) to predict churn."))
            return {k: [skipped] if k == "sample" else [] for k in ("sample", "quality", "profit", "why", "time", "risk")}
        f, r, c, e = self.fitted, self.model, self.curve, dict(self.economics)
        train = f.features
        y, p = r.y.to_numpy(), r.oof.to_numpy()
        sample = [text(f"*Note: {n}*") for n in f.notes]
        sample.append(text(msg("churn.snapshot_training", "Training snapshot **{date}**: {n:,} customers active "
                               "then, {left:.1%} of whom left within the next {days} days — the model's outcome, not "
                               "the KPI page's churn rate, which counts the customers who left during the quarter. "
                               "{k} features.", date=f.snapshot.date(), n=len(train), left=train["churned"].mean(),
                               days=f.horizon_days, k=train.shape[1] - 2)))
        gains = r.gains()
        quality = [table(self.evaluation, lambda s: s.format(precision=3)),
                   text(msg("churn.auc", "5-fold cross-validated ROC-AUC **{auc:.3f}** (sd {sd:.3f} over folds); "
                            "trained on the snapshot of {trained} and tested on {tested}: **{holdout:.3f}**.",
                            auc=r.cv_auc, sd=r.cv_auc_sd, trained=self.previous.date(), tested=f.snapshot.date(),
                            holdout=self.holdout_auc)),
                   figure(lambda: plots.roc_pr_curves(y, p), "roc and precision-recall"),
                   figure(lambda: plots.calibration_plot(calibration_table(y, p)), "calibration"),
                   figure(lambda: plots.gains_chart(gains), "gains"),
                   table(gains, lambda s: s.format(precision=3).hide(axis="index"))]
        compare = pd.DataFrame({
            "profit": [c.best_profit, c.contact_everyone, c.perfect_model, 0.0],
            "customers contacted": [f"{c.best_fraction:.0%}", "100%", f"{y.mean():.0%} (the churners)", "0%"],
        }, index=["model, best threshold", "contact everyone", "perfect model", "contact nobody"])
        basis = ([text(msg("churn.value_from_orders", "Each customer counts with their own lifetime value from their "
                           "orders (12 months; BG/NBD purchases and Gamma-Gamma spend; mean {mean}), so a customer's "
                           "expected loss is their churn probability × that value. The profit curve adds up each "
                           "customer's own value; EMPC and MPC take one value for all customers: the mean.",
                           mean=self.money(e["clv"])))]
                 if e.get("clv_basis") == "orders" else [])
        profit = basis + [figure(lambda: plots.profit_plot(c), "profit curve"),
                  table(compare),
                  text(msg("churn.best_threshold", "Best threshold: contact customers with a churn probability of "
                           "at least **{threshold:.3f}** ({share:.0%} of customers). Expected maximum profit per "
                           "customer over uncertain acceptance (EMPC, acceptance ~ Beta(6, 14)): **{empc}**, "
                           "targeting {target:.0%}; at a fixed acceptance of {accept:.0%} (MPC): {mpc}.",
                           threshold=c.best_threshold, share=c.best_fraction, empc=self.money(self.empc_value[0], 2),
                           target=self.empc_value[1], accept=e["accept_rate"], mpc=self.money(self.mpc_value[0], 2)))]
        why = [figure(lambda: plots.permutation_bars(self.importance), "what the model relies on"),
               table(self.importance, lambda s: s.format(precision=4).hide(axis="index"))]
        if self.odds is not None:
            why += [text(msg("churn.odds_ratios", "**Odds ratios** (numeric features per standard deviation; "
                             "95 % intervals)")),
                    table(self.odds.table, lambda s: s.format(precision=3).format(
                        lambda v: "∞" if v == np.inf else f"{v:.3f}", subset=["odds_ratio", "ci_low", "ci_high"]),
                          own_formats=("odds_ratio", "ci_low", "ci_high"))]
            if self.odds.left_out:
                why.append(text(msg("churn.odds_left_out", "Left out of the odds-ratio model (too rare to "
                                    "estimate): {features}", features=terms(self.odds.left_out))))
        cond = self.conditional
        time = [figure(lambda: plots.km_plot(self.km, title="Customers still with us by tenure and plan "
                                                             "(Kaplan–Meier)"), "kaplan-meier"),
                text(msg("churn.cox", "**Cox model from the snapshot** (hazard ratios per unit of each feature)")),
                table(self.cox.summary[["exp(coef)", "exp(coef) lower 95%", "exp(coef) upper 95%", "p"]]
                      .sort_values("p").head(12), lambda s: s.format(precision=3)),
                text(msg("churn.still_customers", "For customers active now, the chance of still being a customer "
                         "{days} days later, given their tenure so far: median **{median:.1%}** (10th percentile "
                         "{p10:.1%}).", days=f.horizon_days, median=np.nanmedian(cond),
                         p10=np.nanpercentile(cond, 10)))]
        risk = self.risk
        contact = risk[risk["contact"]]
        risk_blocks = [text(msg("churn.scored", "{n:,} customers active on {date} scored; **{k:,}** above the "
                                "profit-maximising threshold; expected loss among them {loss}. Full list: "
                                "risk_list.csv / .xlsx.", n=len(risk), date=self.scored_on.date(), k=len(contact),
                                loss=self.money(contact["expected_loss"].sum()))),
                       table(risk.head(15), lambda s: s.format({"probability": "{:.3f}"}).hide(axis="index"))]
        return {"sample": sample, "quality": quality, "profit": profit, "why": why, "time": time, "risk": risk_blocks}


def customer_value_basis(folder, fitted: SnapshotModel, *, clv: float = 200.0, from_orders: bool = True):
    """What keeping a customer is worth: ``(at_snapshot, now, basis)``. With orders in the folder and
    ``from_orders``, each customer's own lifetime value (:func:`sqmlib.value.customer_values`) at the training
    snapshot (an array aligned with the model's customers; a customer without orders: the median) and today (a
    Series by customer id), basis ``"orders"``; otherwise ``clv`` twice and basis ``"flat"``."""
    if folder.transactions is None or not len(folder.transactions) or not from_orders:
        return clv, clv, "flat"
    at_snapshot = customer_values(folder, fitted.snapshot)[0]["clv"]
    fit = fitted.features["customer_id"].map(at_snapshot).fillna(at_snapshot.median()).to_numpy()
    return fit, customer_values(folder, scoring_date(folder.customers))[0]["clv"], "orders"


def run_churn(folder, *, quarter: str = "", as_of: str = "", horizon_days: int = 90, model: str = "logit",
              clv: float = 200.0, offer_cost: float = 10.0, contact_cost: float = 1.0, accept_rate: float = 0.3,
              value_from_orders: bool = True, seed: int = 0) -> ChurnAnalysis:
    """Which customers will leave, why, and what keeping them is worth: the pipeline of notebook
    ``04_churn_prediction``.

    Parameters
    ----------
    folder : DataFolder
        From :func:`sqmlib.io.load_folder`; needs the customers table (else the result is ``skipped``);
        interactions, survey and standards add features.
    quarter : str
        Quarter whose churn is predicted from its first day ("" = the survey's latest).
    as_of : str
        Snapshot date ``YYYY-MM-DD`` ("" = the first day of the quarter).
    horizon_days : int
        Churn within this many days after the snapshot.
    model : {"logit", "gbm"}
    clv, offer_cost, contact_cost, accept_rate : float
        The profit model: value of a retained customer (used when there are no orders, or with
        ``value_from_orders=False``), cost of the offer, cost of a contact, share of contacted churners who accept
        and stay.
    value_from_orders : bool
        With orders in the folder (``transactions``) and True (the default), each customer's value is their own
        lifetime value from them (:func:`sqmlib.value.customer_values`: 12 months, BG/NBD and Gamma-Gamma) instead
        of ``clv``: at the training snapshot for the profit curve, today for the risk list's expected loss; a
        customer without orders counts with the median value. False: ``clv`` for everyone.
    seed : int
        Seed of the folds and bootstraps.

    Returns
    -------
    ChurnAnalysis

    Examples
    --------
    >>> from sqmlib import churn, io
    >>> c = churn.run_churn(io.load_folder(), model="logit")
    >>> c.metrics().cv_auc, c.risk.head()
    """
    if model not in ("logit", "gbm"):
        raise SQMArgumentError(f"model must be 'logit' or 'gbm', got {model!r}")
    if horizon_days <= 0 or clv <= 0 or offer_cost < 0 or contact_cost < 0 or not 0 <= accept_rate <= 1:
        raise SQMArgumentError("horizon_days and clv must be positive, costs not negative, accept_rate in [0, 1]")
    if not folder.has("customers"):
        return ChurnAnalysis(quarter=quarter, skipped=True)
    quarter, snapshot = snapshot_of(folder, quarter, as_of)
    previous = snapshot - pd.Timedelta(days=horizon_days)
    fitted = fit_at_snapshot(folder, quarter, as_of=str(snapshot.date()), horizon_days=horizon_days, model=model,
                             seed=seed)
    train = fitted.features
    before, notes = features_at(folder, previous, horizon_days)
    fitted = replace(fitted, notes=fitted.notes + notes)
    result = fitted.model
    both = pd.concat([before.assign(snapshot=previous), train.assign(snapshot=snapshot)], ignore_index=True)
    both = both[list(train.columns) + ["snapshot"]].fillna({c: 0 for c in train.columns if c.startswith("complaints_")})
    holdout = fit_churn_model(both, "churned", model=model, seed=seed, time_col="snapshot", holdout_from=snapshot,
                              features=list(result.features)).holdout_auc
    evaluation = result.evaluation(n_boot=200, seed=seed)
    y, p = result.y.to_numpy(), result.oof.to_numpy()
    value_fit, value_now, basis = customer_value_basis(folder, fitted, clv=clv, from_orders=value_from_orders)
    curve = profit_curve(y, p, clv=value_fit, offer_cost=offer_cost, contact_cost=contact_cost,
                         accept_rate=accept_rate)
    # EMPC and MPC (Verbeke et al.) take one value per customer base: the mean of the customers' values
    mean_value = float(np.mean(value_fit))
    empc_value = empc(y, p, clv=mean_value, offer_cost=offer_cost, contact_cost=contact_cost)
    mpc_value = mpc(y, p, clv=mean_value, offer_cost=offer_cost, contact_cost=contact_cost, accept_rate=accept_rate)
    groups = importance_groups(train.columns, list(folder.instrument.dimensions))
    importance = permutation_importance_grouped(result, groups=groups, seed=seed)
    odds = odds_ratios(result) if model == "logit" else None
    customers = folder.customers
    km = km_curves(customers, by="plan")
    until = max(customers["signup_date"].max(), customers["churn_date"].max())
    snap = train.set_index("customer_id")
    after = customers.set_index("customer_id").loc[snap.index, "churn_date"]
    cox_data = snap.select_dtypes("number").drop(columns=["churned"]).assign(
        duration_days=((after.fillna(until) - snapshot).dt.days.clip(lower=0) + 0.5).to_numpy(),
        event=after.notna().astype(int).to_numpy())
    cox = cox_model(cox_data)
    all_km = km_curves(customers)["all"]
    tenure_now = (until - customers.loc[customers["churn_date"].isna(), "signup_date"]).dt.days
    cond = conditional_survival(all_km, tenure_now.to_numpy(), horizon_days)
    risk = score_today(folder, fitted, clv=value_now)
    risk["contact"] = risk["probability"] >= curve.best_threshold
    return ChurnAnalysis(quarter=quarter, fitted=fitted, previous=previous, holdout_auc=holdout,
                         evaluation=evaluation, curve=curve, empc_value=empc_value, mpc_value=mpc_value,
                         economics={"clv": mean_value,
                                    "clv_basis": basis, "offer_cost": offer_cost, "contact_cost": contact_cost,
                                    "accept_rate": accept_rate},
                         values=value_fit if basis == "orders" else None,
                         importance=importance, odds=odds, km=km, cox=cox, conditional=cond, risk=risk,
                         scored_on=scoring_date(customers), currency=folder.instrument.currency)
