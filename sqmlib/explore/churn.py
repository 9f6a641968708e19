"""The chain and churn explorers."""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import churn, io, sem
from ..errors import Problem, SQMArgumentError, SQMDataError
from ..render import formats, plots
from ..render.show import use_instrument
from ..render.messages import msg, term
from .base import (
    ALL,
    NONE,
    View,
    _dropdowns,
    _Explorer,
    _segment_values,
    _subset,
    _SurveyBased,
    control_label,
)


# ---------------------------------------------------------------------------------------------------------
# churn
# ---------------------------------------------------------------------------------------------------------
class ChainExplorer(_SurveyBased):
    """The service-profit chain for any quarter × segment: the index per construct and the importance–performance
    map of the target construct (:mod:`sqmlib.sem`)."""

    name = "chain"
    title = "Service-profit chain"

    def __init__(self, survey: pd.DataFrame, instrument, *, segments: Sequence[str] | None = None,
                 quarter: str | None = None):
        super().__init__(survey, instrument, segments, quarter)
        cons, edges, self.scales, self.target = sem.chain_spec(self.inst, survey.columns)
        if not edges:
            raise SQMDataError("survey", [Problem("missing_column", "the survey lacks the columns of the chain")])
        self.constructs, self.edges = cons, edges
        self.targets = [c for c in cons if any(b == c for _, b in edges)]

    def defaults(self) -> dict:
        return {"quarter": self.default_quarter, "target": self.target, "segment": NONE, "value": ALL}

    def options(self, segment: str = NONE) -> dict:
        return {"quarter": self.quarters + [ALL], "target": self.targets, "segment": [NONE] + self.segments,
                "value": _segment_values(self.survey, segment)}

    def model(self, quarter: str, segment: str, value):
        """The PLS model of one subset (cached)."""
        return self._cached(("pls", quarter, segment, str(value)), lambda: sem.pls(
            _subset(self.survey, quarter, segment, value), self.constructs, self.edges))

    def view(self, **selection) -> View:
        sel = self._complete(selection)
        if sel["target"] not in self.targets:
            raise SQMArgumentError(f"target must be one of {self.targets}")
        q, seg, val = self._subset_key(sel)
        m = self.model(q, seg, val)
        cmap = self._cached(("ipma", q, seg, str(val), sel["target"]),
                            lambda: sem.ipma(m, sel["target"], self.scales))
        index = sem.satisfaction_index(m, self.scales).rename("index").to_frame()
        table = cmap.join(index.rename(columns={"index": "index_0_100"}), how="outer").rename_axis("construct")
        table = table.reset_index()
        lever = sem.lever(cmap, [c for c in cmap.index if c not in ("Satisfaction", "Loyalty", sel["target"])])
        parts = {"n": m.n, "target": term(sel["target"]), "index": index.loc[sel["target"], "index"]}
        note = (msg("explore.chain_note_lever", "{n:,} respondents; {target} index {index:.1f}; lever: {lever}",
                    lever=term(lever), **parts) if lever else
                msg("explore.chain_note", "{n:,} respondents; {target} index {index:.1f}", **parts))
        key = (q, seg, str(val), sel["target"])
        return View(sel, table, charts=((("ipma", *key), lambda: plots.ipma_chart(cmap, sel["target"])),
                                        (("index", *key), lambda: plots.index_chart(index))), note=note)

    def _likely(self) -> list:
        return [lambda c=c, v=v: self._render(segment=c, value=v) for c in self.segments
                for v in _segment_values(self.survey, c)[1:]]

    def _controls(self) -> dict:
        d = self.defaults()
        return _dropdowns(self.options(d["segment"]), d)


MAX_AMOUNT = 1e9  # a customer value or offer cost above this is a typing error, not a business case


def _number(value, name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise SQMArgumentError(f"{name} must be a number, not {str(value)[:40]!r}") from None
    if not math.isfinite(x):
        raise SQMArgumentError(f"{name} must be a finite number, not {value}")
    return x


def check_threshold(value) -> float:
    """The contact threshold as a number from 0 to 1."""
    t = _number(value, "threshold")
    if not 0 <= t <= 1:
        raise SQMArgumentError("threshold must lie between 0 and 1")
    return t


def check_amounts(clv, offer_cost) -> tuple[float, float]:
    """Customer lifetime value (above 0) and offer cost (0 or more), both finite and at most 1e9."""
    c, o = _number(clv, "clv"), _number(offer_cost, "offer_cost")
    if not 0 < c <= MAX_AMOUNT or not 0 <= o <= MAX_AMOUNT:
        raise SQMArgumentError(f"clv must be above 0 and offer_cost 0 or more, both at most {MAX_AMOUNT:,.0f}")
    return c, o


def best_label() -> str:
    """The caption of the button that moves the threshold to the profit-maximising one."""
    return msg("explore.best", "Best threshold")


class ChurnExplorer(_Explorer):
    """Where to set the contact threshold: profit curve, confusion counts and the contact list.

    Parameters
    ----------
    y, p : array-like
        Churned (0/1) and out-of-fold churn probability of the customers the model was evaluated on.
    scored : DataFrame
        Customers to act on now, with ``customer_id``, ``probability`` (and optionally ``top_reasons``), as
        :func:`sqmlib.churn.score_customers` returns them.
    clv, offer_cost, contact_cost, accept_rate : float
        Defaults of the profit model (:func:`sqmlib.churn.profit_curve`).
    values : array-like, optional
        Each evaluated customer's own value (aligned with ``y``), e.g. their lifetime value from their orders;
        ``scored`` then holds each customer's value in ``clv``. The amount control is then the *mean* customer
        value: every customer's value is scaled by (amount ÷ their mean), so the default (the mean) reproduces the
        churn page's profit curve and risk list exactly.
    """

    name = "churn"
    title = "Churn explorer"

    def __init__(self, y, p, scored: pd.DataFrame, *, clv: float = 200.0, offer_cost: float = 10.0,
                 contact_cost: float = 1.0, accept_rate: float = 0.3, id_col: str = "customer_id", values=None):
        super().__init__()
        self.y, self.p = churn.check_binary(y, p)
        self.values = None
        if values is not None:
            self.values = np.asarray(values, dtype=float)
            if self.values.shape != self.y.shape or not np.isfinite(self.values).all() or self.values.mean() <= 0:
                raise SQMDataError("values", [Problem("bad_values", "customer values must be finite, one per "
                                                                    "evaluated customer, with a positive mean")])
            if "clv" not in scored:
                raise SQMDataError("scored", [Problem("missing_column", "with customer values the scored "
                                                                        "customers need their own 'clv'")])
            clv = float(self.values.mean())
        if "probability" not in scored or id_col not in scored:
            raise SQMDataError("scored", [Problem("missing_column", f"scored customers need {id_col!r} and 'probability'")])
        self.scored = scored.sort_values("probability", ascending=False).reset_index(drop=True)
        self.id_col = id_col
        self.clv, self.offer_cost, self.contact_cost, self.accept_rate = clv, offer_cost, contact_cost, accept_rate

    @classmethod
    def from_data(cls, data_dir=None, *, instrument: str = "", **kwargs) -> "ChurnExplorer":
        """Read a data folder (default the bundled sample) and call :meth:`from_folder`."""
        folder = io.load_folder(data_dir, instrument or None)
        use_instrument(folder.instrument)
        return cls.from_folder(folder, **kwargs)

    @classmethod
    def from_folder(cls, folder, *, quarter: str = "", horizon_days: int = 90, model: str = "logit", seed: int = 0,
                    value_from_orders: bool = True, **profit) -> "ChurnExplorer":
        """Fit the churn model as the churn notebook does (:func:`sqmlib.churn.fit_at_snapshot`: snapshot on the
        first day of ``quarter``) and score the customers active at the end of the data
        (:func:`sqmlib.churn.score_today`), each valued as the churn page values them
        (:func:`sqmlib.churn.customer_value_basis`)."""
        folder.require("customers", purpose="the churn explorer")
        fitted = churn.fit_at_snapshot(folder, quarter, horizon_days=horizon_days, model=model, seed=seed)
        fit, now, basis = churn.customer_value_basis(folder, fitted, clv=profit.pop("clv", 200.0),
                                                     from_orders=value_from_orders)
        scored = churn.score_today(folder, fitted, clv=now)
        if basis == "orders":
            return cls(fitted.model.y.to_numpy(), fitted.model.oof.to_numpy(), scored, values=fit, **profit)
        return cls(fitted.model.y.to_numpy(), fitted.model.oof.to_numpy(), scored, clv=fit, **profit)

    @classmethod
    def from_analysis(cls, analysis) -> "ChurnExplorer":
        """The explorer of a :func:`sqmlib.churn.run_churn` result: its out-of-fold predictions, risk list and
        economics."""
        r = analysis.model
        e = {k: v for k, v in analysis.economics.items() if k != "clv_basis"}
        return cls(r.y.to_numpy(), r.oof.to_numpy(), analysis.risk.drop(columns=["contact"]), values=analysis.values,
                   **e)

    @property
    def per_customer(self) -> bool:
        """Whether each customer has their own value (the amount control is then their mean)."""
        return self.values is not None

    def _scaled(self, clv: float):
        """The evaluated customers' values for an amount: it, or each customer's own value scaled to that mean."""
        return clv if self.values is None else self.values * (clv / self.clv)

    def adjust(self, selection: Mapping[str, Any], changed: str = "") -> dict:
        """Threshold, CLV and offer cost as numbers, checked (finite, in range: else an argument error)."""
        sel = super().adjust(selection, changed)
        clv, cost = check_amounts(sel["clv"], sel["offer_cost"])
        return {"threshold": check_threshold(sel["threshold"]), "clv": clv, "offer_cost": cost}

    def shown_value(self, control: str, value) -> str:
        """The threshold to three decimals, amounts with their currency."""
        return f"{float(value):.3f}" if control == "threshold" else formats.money(value)

    def defaults(self) -> dict:
        return {"threshold": self.best_threshold(self.clv, self.offer_cost),
                "clv": float(self.clv), "offer_cost": float(self.offer_cost)}

    def curve(self, clv: float, offer_cost: float) -> "churn.ProfitCurve":
        """Profit curve for one CLV and offer cost (cached)."""
        return self._cached(("curve", float(clv), float(offer_cost)), lambda: churn.profit_curve(
            self.y, self.p, clv=self._scaled(clv), offer_cost=offer_cost, contact_cost=self.contact_cost,
            accept_rate=self.accept_rate))

    def best(self, clv: float, offer_cost: float) -> dict:
        return self.curve(clv, offer_cost).best()

    def best_threshold(self, clv: float, offer_cost: float) -> float:
        """The profit-maximising threshold (contacting nobody is 1.0), unrounded: the report's risk list uses the
        same cut, so the explorer contacts the same customers and earns the same (the slider shows three
        decimals). The amounts are checked (:func:`check_amounts`)."""
        clv, offer_cost = check_amounts(clv, offer_cost)
        return float(min(self.best(clv, offer_cost)["best_threshold"], 1.0))

    def view(self, **selection) -> View:
        sel = self._complete(selection)
        t = check_threshold(sel["threshold"])
        clv, cost = check_amounts(sel["clv"], sel["offer_cost"])
        curve = self.curve(clv, cost)
        at = churn.at_threshold(self.y, self.p, t, clv=self._scaled(clv), offer_cost=cost,
                                contact_cost=self.contact_cost, accept_rate=self.accept_rate)
        best = curve.best()
        n = len(self.y)
        table = pd.DataFrame({
            "": [msg("explore.churn.contacted", "would have been contacted"),
                 msg("explore.churn.not_contacted", "would not have been contacted")],
            "churned": [at["tp"], at["fn"]], "stayed": [at["fp"], at["tn"]],
        })
        summary = pd.DataFrame({
            "measure": [msg("explore.churn.evaluated_contacted", "of the {n:,} customers the model was checked on: "
                            "contacted", n=n),
                        msg("explore.churn.share_contacted", "share contacted"),
                        msg("explore.churn.precision", "precision (leavers among those contacted)"),
                        msg("explore.churn.recall", "recall (leavers reached)"),
                        msg("explore.churn.profit", "profit at this threshold"),
                        msg("explore.churn.best", "best threshold"),
                        msg("explore.churn.best_profit", "profit at the best threshold")],
            "value": [formats.count(at["contacted"]), formats.share(at["fraction"]), formats.share(at["precision"]),
                      formats.share(at["recall"]), formats.money(at["profit"]),
                      f"{min(best['best_threshold'], 1.0):.3f}", formats.money(best["best_profit"])]})
        own = self.values is not None
        contacts = self.scored[self.scored["probability"] >= t].assign(
            clv=lambda d: d["clv"] * (clv / self.clv) if own else clv)
        contacts = contacts.assign(expected_loss=contacts["probability"] * contacts["clv"])
        cols = [self.id_col, "probability", "clv", "expected_loss"] + [c for c in ("top_reasons",) if c in contacts]
        fraction = at["fraction"]

        line = msg("explore.churn.line", "threshold {t:.3f}: contact {share}", t=t, share=formats.share(fraction))

        def draw():
            fig = plots.profit_plot(curve)
            ax = fig.axes[0]
            ax.axvline(fraction, color="#DD8452", lw=1.5, label=line)
            ax.legend(fontsize=8)
            return fig

        note = msg("explore.churn_note_now", "{k:,} of the {m:,} customers active now to contact (churn probability "
                   "≥ {t:.3f}); the model checked on {n:,} customers out of fold", n=n, k=len(contacts),
                   m=len(self.scored), t=t)
        if own:
            note += "; " + msg("explore.churn_note_own", "each customer counts with their own lifetime value from "
                               "their orders, scaled so that their mean is {amount}", amount=formats.money(clv))
        return View(sel, table, extra={"summary": summary, "contact list": contacts[cols]},
                    charts=((("profit", t, clv, cost), draw),), note=note)

    def _controls(self) -> dict:
        import ipywidgets as w

        d = self.defaults()
        return {
            "threshold": w.FloatSlider(value=d["threshold"], min=0.0, max=1.0, step=0.001, readout_format=".3f",
                                       description=control_label("threshold"), continuous_update=False),
            "clv": w.BoundedFloatText(value=d["clv"], min=1.0, max=1e7, step=10.0,
                                      description=control_label("clv_mean" if self.per_customer else "clv")),
            "offer_cost": w.BoundedFloatText(value=d["offer_cost"], min=0.0, max=1e6, step=1.0,
                                             description=control_label("offer_cost")),
        }

    def widget(self, warm: bool = True):
        import ipywidgets as w

        box = super().widget(warm=warm)
        controls = box.children[1].children
        threshold, clv, cost = controls[0], controls[1], controls[2]
        button = w.Button(description=best_label(), tooltip=msg(
            "explore.best_tip", "Move the slider to the profit-maximising threshold"))
        button.add_class("sqm-churn-best")

        def to_best(_):
            threshold.value = self.best_threshold(clv.value, cost.value)

        button.on_click(to_best)
        box.children[1].children = (*controls, button)
        return box
