"""The service-profit chain on a data folder: the pipeline of notebook 07."""
from __future__ import annotations

from ..psychometrics.pls import PLSResult, pls
from ..psychometrics.pls_index import index_intervals, ipma, rescaled_scores, score_rows
from dataclasses import dataclass, field
from typing import Mapping, Sequence
import numpy as np
import pandas as pd
from statsmodels.discrete.discrete_model import Logit
from statsmodels.tools.tools import add_constant
from ..render import formats, plots
from ..render.messages import listed, msg, no_items_reason, period, term, unavailable_line, unweighted_note
from ..drivers import churn_followed
from ..errors import SQMArgumentError
from ..results import Unavailable, Result, bullets, figure, headline, table, text


# ---------------------------------------------------------------------------------------------------------
# the service-profit chain on a data folder: the pipeline of notebook 07
# ---------------------------------------------------------------------------------------------------------
def chain_spec(instrument, columns: Sequence[str]) -> tuple[dict, list, dict, str]:
    """(constructs, paths, item scales, target) of the service-profit chain for a survey.

    From the instrument's ``model:`` section (``constructs: {name: [columns]}``, ``paths: [[from, to], …]``,
    ``target: name``) or, by default, SERVQUAL's: each dimension's perception items → Satisfaction
    (``overall_sat``) → Loyalty (``nps``), with the dimensions also reaching Loyalty only through Satisfaction.
    Constructs whose columns are absent are left out with the paths touching them.
    """
    inst = instrument
    cols = set(columns)
    if inst.model:
        cons = {str(k): [str(v)] if isinstance(v, str) else [str(x) for x in v]
                for k, v in dict(inst.model.get("constructs", {})).items()}
        paths = [(str(a), str(b)) for a, b in inst.model.get("paths", [])]
        target = str(inst.model.get("target", paths[-1][1] if paths else ""))
    else:
        cons = {d: [inst.item_column("P", i) for i in items] for d, items in inst.dimensions.items()}
        cons["Satisfaction"] = ["overall_sat"]
        cons["Loyalty"] = ["nps"]
        paths = [(d, "Satisfaction") for d in inst.dimensions] + [("Satisfaction", "Loyalty")]
        target = "Loyalty"
    cons = {k: [c for c in v if c in cols] for k, v in cons.items()}
    cons = {k: v for k, v in cons.items() if v}
    paths = [(a, b) for a, b in paths if a in cons and b in cons]
    if target not in cons:
        target = paths[-1][1] if paths else ""
    scales = {}
    for c in (c for v in cons.values() for c in v):
        spec = inst.columns.get(c)
        if spec is not None and getattr(spec, "min", None) is not None and getattr(spec, "max", None) is not None:
            scales[c] = (float(spec.min), float(spec.max))
        else:
            block = inst.block_of(c)
            lo, hi = inst.block_scale(block) if block else inst.scale
            scales[c] = (float(lo), float(hi))
    return cons, paths, scales, target


@dataclass(frozen=True)
class ChainMetrics:
    """Key figures of :func:`run_chain` (``metrics.json`` of the service-profit chain notebook)."""

    respondents: int
    target: str
    paths: dict  # "from → to" -> coefficient
    r2: dict
    index: dict  # construct -> 0–100
    index_ci: dict
    ipma: dict  # construct -> {"importance", "performance"}
    lever: str | None
    churn_link: dict | None  # odds ratio per 10 index points, interval, p, respondents
    retained_value: dict  # dimension -> expected retained value of +5 index points
    findings: list
    retained_value_ci: dict = field(default_factory=dict)  # dimension -> [low, high], 95 %


def lever(cmap: pd.DataFrame, candidates: Sequence[str]) -> str | None:
    """The construct to raise: the most important among those performing below the candidates' mean (else the
    most important)."""
    t = cmap.loc[[c for c in candidates if c in cmap.index]]
    if t.empty:
        return None
    low = t[t["performance"] < t["performance"].mean()]
    return str((low if len(low) else t)["importance"].idxmax())


@dataclass(frozen=True)
class ChainResult(Result):
    """The service-profit chain: the PLS model, the satisfaction index (overall, per segment and per quarter),
    the importance–performance map of the target, the link from loyalty to churn and what it is worth."""

    title = "The service-profit chain"
    notebook = "07_service_profit_chain"

    quarter: str
    model: PLSResult
    target: str
    drivers: tuple
    scales: Mapping
    index: pd.DataFrame
    by_segment: pd.DataFrame | None
    segment: str
    by_quarter: pd.DataFrame | None
    ipma_constructs: pd.DataFrame
    ipma_items: pd.DataFrame
    link: Mapping | None
    retained: pd.DataFrame | None
    link_note: str
    unweighted: str = ""  # the survey's sampling-weight column, which this analysis does not apply
    currency: str = ""  # the data's currency (its instrument's): amounts in findings and headlines carry it

    def money(self, amount) -> str:
        """An amount in the data's currency (:func:`sqmlib.render.formats.money`)."""
        return formats.money(amount, currency=self.currency)

    def metrics(self) -> ChainMetrics:
        m = self.model
        cmap = self.ipma_constructs
        return ChainMetrics(
            respondents=m.n, target=self.target,
            paths={f"{r._1} → {r.to}": r.coef for r in m.paths.itertuples()}, r2=m.r2["r2"].to_dict(),
            index=self.index["index"].to_dict(),
            index_ci={k: [r.ci_low, r.ci_high] for k, r in self.index.iterrows()},
            ipma={k: {"importance": r.importance, "performance": r.performance} for k, r in cmap.iterrows()},
            lever=lever(cmap, self.drivers), churn_link=dict(self.link) if self.link else None,
            retained_value={} if self.retained is None else self.retained["retained_value"].to_dict(),
            findings=self.findings(),
            retained_value_ci={} if self.retained is None else {
                k: [float(r.retained_value_ci_low), float(r.retained_value_ci_high)] for k, r in self.retained.iterrows()})

    def findings(self) -> list[str]:
        idx, top = self.index["index"], lever(self.ipma_constructs, self.drivers)
        figures = dict(target=term(self.target), index=idx[self.target], low=self.index.loc[self.target, "ci_low"],
                       high=self.index.loc[self.target, "ci_high"])
        out = [msg("chain.index_satisfaction", "{target} index {index:.1f} of 100 [{low:.1f}, {high:.1f}]; "
                   "satisfaction {satisfaction:.1f}.", satisfaction=idx["Satisfaction"], **figures)
               if "Satisfaction" in idx and self.target != "Satisfaction" else
               msg("chain.index", "{target} index {index:.1f} of 100 [{low:.1f}, {high:.1f}].", **figures)]
        if top:
            r = self.ipma_constructs.loc[top]
            out.append(msg("chain.lever", "The lever to pull: **{lever}** — one index point more moves {target} by "
                           "{importance:.2f} points, and it performs at {performance:.1f}, below the dimensions' "
                           "average.", lever=term(top), target=term(self.target), importance=r["importance"],
                           performance=r["performance"]))
        r2 = self.model.r2["r2"]
        explained = listed(msg("chain.r2_of", "R² = {r2:.2f} of {construct}", r2=v, construct=term(k))
                           for k, v in r2.items())
        out.append(msg("chain.r2", "The model explains {r2}.", r2=explained))
        if self.link:
            out.append(msg("chain.churn_link", "Each 10 points of {target} index change the odds of leaving within the "
                           "horizon by a factor {odds:.2f} [{low:.2f}, {high:.2f}].", target=term(self.target),
                           odds=self.link["odds_ratio_per_10"], low=self.link["ci_low"], high=self.link["ci_high"]))
            if self.retained is not None and top in self.retained.index:
                r = self.retained.loc[top]
                out.append(msg("chain.retained_ci", "Raising {lever} by 5 index points is worth an expected {value} "
                               "in retained customer value (95% interval {low} to {high}).", lever=term(top),
                               value=self.money(r["retained_value"]), low=self.money(r["retained_value_ci_low"]),
                               high=self.money(r["retained_value_ci_high"])))
        else:
            out.append(self.link_note)
        if self.unweighted:
            out.append(unweighted_note(self.unweighted))
        return out

    def headline(self) -> list[dict]:
        m = self.metrics()
        out = [headline(f"{self.target} index", m.index[self.target], "{:.1f}")]
        if m.lever:
            out.append(headline("Lever", m.lever, "{}"))
        if m.lever and m.retained_value.get(m.lever) is not None:
            out.append(headline(f"Value of +5 {m.lever}", m.retained_value[m.lever], self.money))
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {"paths": self.model.paths, "r2": self.model.r2, "loadings": self.model.loadings,
               "reliability": self.model.reliability, "htmt": self.model.htmt, "index": self.index,
               "ipma": self.ipma_constructs, "ipma items": self.ipma_items}
        for name, t in (("index by segment", self.by_segment), ("index by quarter", self.by_quarter),
                        ("retained value", self.retained)):
            if t is not None:
                out[name] = t
        return out

    def summary(self) -> pd.DataFrame:
        return self.index

    def _model_line(self) -> str:
        m = self.model
        figures = dict(n=m.n, scope=period(self.quarter),
                       constructs=len(m.spec.constructs), paths=int(m.spec.paths.sum()), iterations=m.iterations)
        if m.missing == "mean replacement" and m.converged:
            return msg("chain.model", "**{n:,} respondents** ({scope}), mean replacement; {constructs} constructs, "
                       "{paths} paths, converged (iterations: {iterations}).", **figures)
        if m.missing == "mean replacement":
            return msg("chain.model_unconverged", "**{n:,} respondents** ({scope}), mean replacement; {constructs} "
                       "constructs, {paths} paths, **did not converge** (iterations: {iterations}).", **figures)
        if m.converged:
            return msg("chain.model_listwise", "**{n:,} respondents** ({scope}), listwise deletion; {constructs} "
                       "constructs, {paths} paths, converged (iterations: {iterations}).", **figures)
        return msg("chain.model_listwise_unconverged", "**{n:,} respondents** ({scope}), listwise deletion; "
                   "{constructs} constructs, {paths} paths, **did not converge** (iterations: {iterations}).", **figures)

    def sections(self) -> dict:
        m = self.model
        model = [text(self._model_line()),
                 table(m.paths, lambda s: s.format(precision=3).hide(axis="index")),
                 table(m.r2, lambda s: s.format(precision=3))]
        quality = [table(m.reliability, lambda s: s.format(precision=3)),
                   text(msg("chain.htmt", "**HTMT** (should stay below .85)")), table(m.htmt, lambda s: s.format(precision=3, na_rep=""))]
        index = [figure(lambda: plots.index_chart(self.index), "index"),
                 table(self.index, lambda s: s.format(precision=1))]
        if self.by_segment is not None:
            index += [text(msg("chain.by_segment", "**Index by {segment}** (95 % intervals)", segment=term(self.segment))),
                      table(self.by_segment["index"].unstack()[list(m.spec.constructs)], lambda s: s.format(precision=1)),
                      table(self.by_segment, lambda s: s.format(precision=1))]
        if self.by_quarter is not None:
            index += [text(msg("chain.by_quarter", "**Index by quarter** (95 % intervals)")),
                      table(self.by_quarter["index"].unstack()[list(m.spec.constructs)], lambda s: s.format(precision=1)),
                      table(self.by_quarter, lambda s: s.format(precision=1))]
        ipma_blocks = [figure(lambda: plots.ipma_chart(self.ipma_constructs, self.target), "ipma"),
                       table(self.ipma_constructs, lambda s: s.format(precision=2)),
                       text(msg("chain.items", "**Items**")), table(self.ipma_items, lambda s: s.format(precision=3))]
        money = [text(bullets(self.findings()[-2:] if self.link else [self.link_note]))]
        if self.retained is not None:
            money.append(table(self.retained, lambda s: s.format({"churn_change": "{:+.4f}",
                                                                 "target_change": "{:+.2f}"})))
        return {"model": model, "quality": quality, "index": index, "ipma": ipma_blocks, "money": money,
                "findings": [text(bullets(self.findings()))]}


LINK_DRAWS = 1000  # draws of the churn link's coefficients for the retained value's interval


def _churn_changes(draws: np.ndarray, now: np.ndarray, shift: float, cells: int = 2_000_000) -> np.ndarray:
    """Per draw (intercept, slope) of the churn link, the mean change in churn probability over the respondents
    when their scores (in tens of index points) rise by ``shift``; at most ``cells`` values in memory at once."""
    out = np.empty(len(draws))
    step = max(1, cells // max(len(now), 1))
    for start in range(0, len(draws), step):
        a, b = draws[start:start + step, :1], draws[start:start + step, 1:]
        out[start:start + step] = (1 / (1 + np.exp(-(a + b * (now + shift)))) - 1 / (1 + np.exp(-(a + b * now)))
                                   ).mean(axis=1)
    return out


def run_chain(folder, *, quarter: str = "", segment: str = "region", horizon_days: int = 180,
              clv: float = 200.0, n_boot: int = 200, drop_careless: bool = True, seed: int = 0) -> ChainResult:
    """The service-profit chain as one PLS path model: the pipeline of notebook ``07_service_profit_chain``.

    Parameters
    ----------
    folder : DataFolder
        From :func:`sqmlib.io.load_folder`; needs the survey (the customers table adds the churn link).
    quarter : str
        Quarter whose respondents estimate the model ("" = the latest; a survey without quarters: all).
    segment : str
        Segment column for the index per segment ("" = none).
    horizon_days : int
        The churn link: leaving within this many days of answering.
    clv : float
        Value of a retained customer, for the money the levers are worth. Each lever's retained value has a 95 %
        interval from the churn link's uncertainty: its logit coefficients drawn from their estimated sampling
        distribution (:data:`LINK_DRAWS` draws, ``seed``); the PLS importance is taken as estimated.
    n_boot : int
        Bootstrap resamples for the index intervals.
    drop_careless : bool
    seed : int

    Returns
    -------
    ChainResult

    Examples
    --------
    >>> from sqmlib import io, sem
    >>> c = sem.run_chain(io.load_folder())
    >>> c.index, c.ipma_constructs, c.findings()
    """
    if horizon_days <= 0 or clv <= 0 or n_boot < 2:
        raise SQMArgumentError("horizon_days and clv must be positive and n_boot at least 2")
    folder.require("survey", purpose="the service-profit chain")
    if not folder.instrument.items:
        return Unavailable(reason=no_items_reason(), line=unavailable_line(no_items_reason()),
                           notebook=ChainResult.notebook, title=ChainResult.title, first="findings",
                           quarter=folder.latest_quarter)
    data = folder.without_careless() if drop_careless else folder
    q = data.quarter(quarter)
    survey = data.survey_of(q)
    cons, edges, scales, target = chain_spec(folder.instrument, survey.columns)
    if not edges:
        reason = msg("chain.no_outcome", "the survey has no outcome the chain can lead to: an overall satisfaction "
                     "question (overall_sat), a loyalty question (nps) or a model: section in the instrument naming "
                     "them.")
        return Unavailable(reason=reason, line=unavailable_line(reason), notebook=ChainResult.notebook,
                           title=ChainResult.title, first="findings", quarter=q)
    segment = folder.segment_column(segment)
    model = pls(survey, cons, edges)
    drivers = tuple(c for c in model.spec.constructs if c not in ("Satisfaction", "Loyalty", target))
    index = index_intervals(model, scales, n_boot=n_boot, seed=seed)
    def per_group(groups, name):
        parts = [index_intervals(pls(sub, cons, edges), scales, n_boot=n_boot, seed=seed).reset_index()
                 .assign(**{name: str(key)}) for key, sub in groups if len(sub) >= 30]
        if not parts:
            return None
        return pd.concat(parts).set_index([name, "construct"])

    by_segment = per_group(survey.groupby(segment), segment) if segment and segment in survey.columns else None
    by_quarter = None
    if len(data.quarters) > 1:
        by_quarter = per_group(((qq, data.survey_of(qq)) for qq in data.quarters if qq <= q or not q), "quarter")
    cmap = ipma(model, target, scales)
    items = ipma(model, target, scales, level="item")
    link = retained = None
    note = msg("chain.no_customers", "No customers table in the data folder: the link from loyalty to churn is skipped.")
    if folder.has("customers") and "customer_id" in data.survey.columns:
        followed, _ = churn_followed(data.survey, folder.customers, horizon_days)
        sc = score_rows(model, followed, scales)[target]
        y = followed["churned"].to_numpy()
        if 0 < y.sum() < len(y) and len(y) >= 50:
            X = add_constant(sc.to_numpy() / 10)
            fit = Logit(y, X).fit(disp=0)
            b, se = fit.params[1], fit.bse[1]
            link = {"odds_ratio_per_10": float(np.exp(b)), "ci_low": float(np.exp(b - 1.959963984540054 * se)),
                    "ci_high": float(np.exp(b + 1.959963984540054 * se)), "p_value": float(fit.pvalues[1]),
                    "respondents": int(len(y)), "horizon_days": int(horizon_days)}
            active = int(folder.customers["churn_date"].isna().sum())
            now = rescaled_scores(model, scales)[target].to_numpy() / 10
            draws = np.random.default_rng(seed).multivariate_normal(np.asarray(fit.params),
                                                                    np.asarray(fit.cov_params()), size=LINK_DRAWS)
            rows = []
            for d in drivers:
                if d not in cmap.index:
                    continue
                dt = 5 * float(cmap.loc[d, "importance"])  # index points of the target
                change = float(_churn_changes(np.asarray(fit.params)[None, :], now, dt / 10)[0])
                low, high = np.percentile(-_churn_changes(draws, now, dt / 10) * active * clv, [2.5, 97.5])
                rows.append({"construct": d, "target_change": dt, "churn_change": change,
                             "retained_value": -change * active * clv, "retained_value_ci_low": float(low),
                             "retained_value_ci_high": float(high)})
            retained = pd.DataFrame(rows).set_index("construct")
        else:
            note = "Too few followed respondents (or no churn among them) to link loyalty to churn."
    return ChainResult(currency=folder.instrument.currency, unweighted=folder.instrument.weight or "", quarter=q, model=model, target=target, drivers=drivers, scales=scales, index=index,
                       by_segment=by_segment, segment=segment if by_segment is not None else "",
                       by_quarter=by_quarter, ipma_constructs=cmap, ipma_items=items, link=link, retained=retained,
                       link_note=note)
