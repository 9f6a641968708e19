"""The reliability table of a SERVQUAL-type survey, item diagnostics, conclusions, and the CFA by three estimators."""
from __future__ import annotations

from ..psychometrics.alpha import omega_from_fit, cronbach_alpha, omega
import warnings
from typing import Mapping, Sequence
import numpy as np
import pandas as pd
from ..errors import Problem, SQMArgumentError, SQMDataError, SQMWarning
from ..psychometrics.factors import (THRESHOLDS, CFAResult, cfa, check_items, check_variances, complete_cov, ml_fit,
                                    sampling_weights)
from ..instruments import load as load_instrument
from ..moments import is_moments
from ..render import labels
from ..render.messages import clauses, listed, msg, term, terms


# ---------------------------------------------------------------------------------------------------------
# the reliability table of a SERVQUAL-type survey
# ---------------------------------------------------------------------------------------------------------
def difference_score_reliability(rel_p: float, rel_e: float, var_p: float, var_e: float, r_pe: float) -> float:
    """Reliability of a difference score D = P − E from the reliabilities and variances of its parts
    (Lord 1963): ``(σ²_P ρ_P + σ²_E ρ_E − 2 σ_P σ_E r_PE) / (σ²_P + σ²_E − 2 σ_P σ_E r_PE)``."""
    cov = r_pe * np.sqrt(var_p * var_e)
    return float((var_p * rel_p + var_e * rel_e - 2 * cov) / (var_p + var_e - 2 * cov))


def block_items(survey: pd.DataFrame, instrument, block: str, dimension: str | None = None) -> pd.DataFrame:
    """Item answers of one block (``"E"``, ``"P"``) or of the gap ``"gap"`` = P − E, named by item id."""

    inst = load_instrument(instrument)
    ids = list(inst.dimensions[dimension]) if dimension else list(inst.items)
    if block == "gap":
        p = survey[inst.item_columns("P", dimension)].to_numpy(dtype=float)
        e = survey[inst.item_columns("E", dimension)].to_numpy(dtype=float)
        return pd.DataFrame(p - e, columns=ids, index=survey.index)
    cols = inst.item_columns(block, dimension)
    missing = [c for c in cols if c not in survey.columns]
    if missing:
        raise SQMDataError("survey", [Problem("missing_column", f"columns of block {block} are missing: {missing}")])
    return survey[cols].set_axis(ids, axis=1)


def omega_bootstrap_ci(items: pd.DataFrame, n_boot: int = 200, confidence: float = 0.95, seed: int = 0,
                       weights=None) -> tuple[float, float]:
    """Percentile bootstrap interval of the one-factor ω (complete cases resampled, with their sampling
    ``weights`` when given)."""
    X, names = check_items(items)
    rows = ~np.isnan(X).any(axis=1)
    Xc = X[rows]
    wc = None if weights is None else np.asarray(weights, dtype=float)[rows]
    rng = np.random.default_rng(seed)
    p = Xc.shape[1]
    vals = np.empty(n_boot)
    with warnings.catch_warnings():  # a resample's Heywood case or overflow is part of the interval
        warnings.filterwarnings("ignore", "a residual variance reached its lower bound", SQMWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        for b in range(n_boot):
            take = rng.integers(0, len(Xc), len(Xc))
            Xb = Xc[take]
            S = (complete_cov(Xb) * (len(Xb) - 1) / len(Xb) if wc is None else
                 np.cov(Xb.T, aweights=wc[take], ddof=0))
            vals[b] = omega_from_fit(ml_fit(S, np.ones((p, 1), bool)))
    g = 1 - confidence
    lo, hi = np.quantile(vals, [g / 2, 1 - g / 2])
    return float(lo), float(hi)


def reliability_table(survey: pd.DataFrame, instrument, *, blocks: Sequence[str] | None = None,
                      confidence: float = 0.95, missing: str = "pairwise", n_boot: int = 0, seed: int = 0,
                      sample_weight: str | None = None) -> pd.DataFrame:
    """Per dimension and block: α with its Feldt interval, ω, and for the gap score also the reliability of
    the difference computed from its parts (Lord's formula), with flags on the usual thresholds.

    Parameters
    ----------
    survey : DataFrame
        As loaded by :func:`sqmlib.io.load_survey`.
    instrument : str or Instrument
    blocks : sequence, optional
        Default ``("E", "P", "gap")`` when the instrument has expectations, else ``("P",)``.

    Returns
    -------
    DataFrame with columns ``dimension``, ``block``, ``k``, ``n``, ``alpha``, ``alpha_ci_low``,
    ``alpha_ci_high`` (Feldt, or bootstrap with ``n_boot``), ``omega``, ``omega_ci_low``, ``omega_ci_high``
    (bootstrap; only with ``n_boot > 0``, else missing and said so in ``note``), ``difference_reliability``
    (gap rows), ``alpha_ok`` and ``omega_ok`` (≥ .70).

    With ``sample_weight`` (a column of ``survey`` holding sampling weights) α, ω and the parts of the
    difference-score reliability come from weighted covariances (:func:`sqmlib.psychometrics.alpha.cronbach_alpha`
    and ``omega`` with ``weights``), the intervals use Kish's effective n, and a column ``n_eff`` holds it.
    """

    inst = load_instrument(instrument)
    sw = None
    if sample_weight is not None:
        if is_moments(survey):
            raise SQMArgumentError("sampling weights need the rows: moments are unweighted")
        sw = sampling_weights(survey[sample_weight].to_numpy(dtype=float, na_value=np.nan), len(survey))
    if blocks is None:
        blocks = ("E", "P", "gap") if inst.has_expectations else ("P",)
    if is_moments(survey):
        if n_boot > 0:
            raise SQMArgumentError("bootstrap intervals need the rows (n_boot=0)")
        m = survey

        def scale_stats(b, d):
            a = cronbach_alpha(m.select(m.sets[f"{b}:{d}"].columns, missing), missing=missing, confidence=confidence)
            if a.k < 3:
                return a, np.nan, (np.nan, np.nan), ["ω needs at least three items"]
            if f"{b}:{d}:listwise" not in m.sets:
                return a, np.nan, (np.nan, np.nan), ["ω needs the listwise moments (survey_spec(omega=True))"]
            lw = m.select(m.sets[f"{b}:{d}:listwise"].columns, "listwise")
            if lw.n < 3:
                raise SQMDataError("items", [Problem("too_few_rows", f"only {lw.n} complete respondents")])
            S = lw.cov() * (lw.n - 1) / lw.n
            check_variances(S, list(lw.columns))
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "a residual variance reached its lower bound", SQMWarning)  # noted, not fatal
                w = omega_from_fit(ml_fit(S, np.ones((a.k, 1), bool)))
            return a, w, (np.nan, np.nan), []  # no interval without the bootstrap (n_boot)

        def parts(d):  # variances and correlation of the any-item P and E means
            C = m.select(m.sets[f"diffrel:{d}"].columns, "listwise").cov()
            return C[0, 0], C[1, 1], float(C[0, 1] / np.sqrt(C[0, 0] * C[1, 1]))
    else:
        def scale_stats(b, d):
            x = block_items(survey, inst, b, d)
            a = cronbach_alpha(x, missing=missing, confidence=confidence, n_boot=n_boot, seed=seed, weights=sw)
            if x.shape[1] < 3:
                return a, np.nan, (np.nan, np.nan), ["ω needs at least three items"]
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "a residual variance reached its lower bound", SQMWarning)  # noted, not fatal
                om = omega(x, weights=sw).omega_total
            if n_boot > 0:
                return a, om, omega_bootstrap_ci(x, n_boot, confidence, seed, weights=sw), []
            return a, om, (np.nan, np.nan), []  # no interval without the bootstrap (n_boot)

        def parts(d):
            sp, se = (block_items(survey, inst, b, d).mean(axis=1) for b in ("P", "E"))
            ok = (sp.notna() & se.notna()).to_numpy()
            C = (np.cov(sp[ok], se[ok]) if sw is None else np.cov(sp[ok], se[ok], aweights=sw[ok]))
            return C[0, 0], C[1, 1], float(C[0, 1] / np.sqrt(C[0, 0] * C[1, 1]))

    rows = []
    for d in inst.dimensions:
        res = {}
        for b in blocks:
            a, w, w_ci, notes = scale_stats(b, d)
            res[b] = a
            rows.append({"dimension": d, "block": b, "k": a.k, "n": a.n, **({} if a.n_eff is None else {"n_eff": a.n_eff}),
                         "alpha": a.alpha,
                         "alpha_ci_low": a.ci[0], "alpha_ci_high": a.ci[1], "omega": w,
                         "omega_ci_low": w_ci[0], "omega_ci_high": w_ci[1],
                         "difference_reliability": np.nan, "note": "; ".join(notes)})
        if "gap" in blocks and "E" in res and "P" in res:
            rel = difference_score_reliability(res["P"].alpha, res["E"].alpha, *parts(d))
            gap_row = rows[-len(blocks) + list(blocks).index("gap")]
            gap_row["difference_reliability"] = rel
            if rel < min(res["P"].alpha, res["E"].alpha) - 0.05:
                less = msg("reliability.gap_less_reliable", "the gap score is less reliable ({gap:.2f}) than its parts "
                           "(P {p:.2f}, E {e:.2f})", gap=rel, p=res["P"].alpha, e=res["E"].alpha)
                gap_row["note"] = "; ".join(filter(None, [gap_row["note"], less]))
    out = pd.DataFrame(rows)
    out["alpha_ok"] = out["alpha"] >= THRESHOLDS["alpha"]
    out["omega_ok"] = out["omega"] >= THRESHOLDS["omega"]
    return out


def item_diagnostics(survey: pd.DataFrame, instrument, block: str = "P", *, missing: str = "pairwise",
                     lang: str = "en", sample_weight: str | None = None) -> pd.DataFrame:
    """Per item of every dimension: corrected item–total correlation, α if deleted, and a plain reason when
    the item hurts its scale (α would rise without it, or r_drop < .30); from weighted covariances with
    ``sample_weight`` (a column of ``survey``)."""

    inst = load_instrument(instrument)
    w = (None if sample_weight is None else
         sampling_weights(survey[sample_weight].to_numpy(dtype=float, na_value=np.nan), len(survey)))
    rows = []
    for d in inst.dimensions:
        x = block_items(survey, inst, block, d)
        a = cronbach_alpha(x, missing=missing, weights=w)
        for item, st in a.item_stats.iterrows():
            reasons = []
            if st["alpha_if_deleted"] > a.alpha + 1e-12:
                reasons.append(msg("reliability.alpha_would_rise", "α of {dimension} would rise from {a:.3f} to "
                                   "{b:.3f} without it", dimension=term(d), a=a.alpha, b=st["alpha_if_deleted"]))
            if st["r_drop"] < 0.30:
                reasons.append(msg("reliability.low_r_drop", "it correlates only {r:.2f} with the rest of {dimension}",
                                   r=st["r_drop"], dimension=term(d)))
            rows.append({"dimension": d, "item": item, "text": inst.text(item, lang), "mean": st["mean"],
                         "sd": st["sd"], "r_drop": st["r_drop"], "alpha_if_deleted": st["alpha_if_deleted"],
                         "dimension_alpha": a.alpha, "flag": bool(reasons),
                         "reason": clauses(reasons)})
    return pd.DataFrame(rows)


def conclusions(table: pd.DataFrame, diagnostics: pd.DataFrame | None = None, fit: CFAResult | None = None,
                block: str = "P", estimators: pd.DataFrame | None = None) -> list[str]:
    """Plain-language conclusions from the reliability table, item diagnostics and CFA. With ``estimators``
    (:func:`estimator_comparison`) the verdict on the model's fit comes from the estimator it marks as the one
    to trust, named in the sentence; validity (CR, AVE, Fornell–Larcker, HTMT) from the ML fit."""
    out = []
    t = table[table["block"] == block]
    good = t[t["alpha"] >= 0.80]["dimension"].tolist()
    weak = t[t["alpha"] < THRESHOLDS["alpha"]]["dimension"].tolist()
    label = term({"P": "perception", "E": "expectation", "gap": "gap"}.get(block, block))
    if len(weak) == 0 and good:
        out.append(msg("reliability.all_reliable_good", "Every dimension's {block} scale is reliable enough "
                       "(α ≥ .70); {good} reach .80 or more.", block=label, good=terms(good)))
    elif len(weak) == 0:
        out.append(msg("reliability.all_reliable", "Every dimension's {block} scale is reliable enough (α ≥ .70).",
                       block=label))
    else:
        out.append(msg("reliability.weak_scales", "The {block} scales of {weak} fall below α = .70: treat their "
                       "scores with care.", block=label, weak=terms(weak)))
    gaps = table[(table["block"] == "gap") & table["difference_reliability"].notna()].set_index("dimension")
    if len(gaps):
        parts = table[table["block"].isin(["P", "E"])].groupby("dimension")["alpha"].min()
        lower = gaps.index[gaps["difference_reliability"] < parts.reindex(gaps.index) - 0.05].tolist()
        worst = gaps["difference_reliability"].idxmin()
        value = float(gaps.loc[worst, "difference_reliability"])
        if lower:
            out.append(msg("reliability.gaps_less_reliable", "Gap scores (P − E) are clearly less reliable than "
                           "their parts for {dims}, as difference scores of correlated measures are (lowest: "
                           "{worst} at {value:.2f}). Report gaps at dimension level and read item gaps as "
                           "indications only.", dims=terms(lower), worst=term(worst), value=value))
        else:
            out.append(msg("reliability.gaps_as_reliable", "Gap scores (P − E) are about as reliable as their parts "
                           "here (lowest: {worst} at {value:.2f}), because expectations and perceptions correlate "
                           "weakly; with correlated E and P the gap would lose reliability.", worst=term(worst),
                           value=value))
    if diagnostics is not None and diagnostics["flag"].any():
        f = diagnostics[diagnostics["flag"]]
        items = clauses(
            msg("reliability.weak_item", "{item} ({dimension}): {reason}", item=r.item, dimension=term(r.dimension),
                reason=r.reason) for r in f.itertuples())
        out.append(msg("reliability.weak_items", "{n} item(s) weaken their scale: {items}.", n=len(f), items=items))
    elif diagnostics is not None:
        out.append(msg("reliability.no_weak_items", "No item weakens its scale: each correlates well with the rest of "
                       "its dimension."))
    trusted = (estimators[estimators["trusted"]].iloc[0] if estimators is not None and "trusted" in estimators
               and estimators["trusted"].any() else None)
    if fit is not None and trusted is not None:
        figures = dict(k=len(fit.model), estimator=labels.phrase(str(trusted["estimator"])), cfi=trusted["cfi"],
                       tli=trusted["tli"], rmsea=trusted["rmsea"], srmr=trusted["srmr"])
        met = [trusted["cfi"] >= THRESHOLDS["cfi"], trusted["tli"] >= THRESHOLDS["tli"],
               trusted["rmsea"] <= THRESHOLDS["rmsea"], trusted["srmr"] <= THRESHOLDS["srmr"]]
        if all(met):
            out.append(msg("reliability.fits_well_by", "By {estimator}, the estimator to trust here, the "
                           "{k}-dimension model fits well: CFI {cfi:.3f}, TLI {tli:.3f}, RMSEA {rmsea:.3f}, SRMR "
                           "{srmr:.3f}.", **figures))
        elif sum(met) >= 3:
            out.append(msg("reliability.fits_acceptably_by", "By {estimator}, the estimator to trust here, the "
                           "{k}-dimension model fits acceptably: CFI {cfi:.3f}, TLI {tli:.3f}, RMSEA {rmsea:.3f}, "
                           "SRMR {srmr:.3f}.", **figures))
        else:
            out.append(msg("reliability.fits_badly_by", "By {estimator}, the estimator to trust here, the "
                           "{k}-dimension model does not fit well: CFI {cfi:.3f}, TLI {tli:.3f}, RMSEA {rmsea:.3f}, "
                           "SRMR {srmr:.3f}.", **figures))
    if fit is not None and trusted is None:  # no comparison of estimators: the ML fit's verdict
        met = fit.summary()["met"].dropna()
        figures = dict(k=len(fit.model), cfi=fit.fit["cfi"], tli=fit.fit["tli"], rmsea=fit.fit["rmsea"],
                       low=fit.fit["rmsea_ci_low"], high=fit.fit["rmsea_ci_high"], srmr=fit.fit["srmr"])
        if met.all():
            out.append(msg("reliability.fits_well", "The {k}-dimension model fits well: CFI {cfi:.3f}, TLI {tli:.3f}, "
                           "RMSEA {rmsea:.3f} [{low:.3f}, {high:.3f}], SRMR {srmr:.3f}.", **figures))
        elif met.sum() >= 3:
            out.append(msg("reliability.fits_acceptably", "The {k}-dimension model fits acceptably: CFI {cfi:.3f}, "
                           "TLI {tli:.3f}, RMSEA {rmsea:.3f} [{low:.3f}, {high:.3f}], SRMR {srmr:.3f}.", **figures))
        else:
            out.append(msg("reliability.fits_badly", "The {k}-dimension model does not fit well: CFI {cfi:.3f}, "
                           "TLI {tli:.3f}, RMSEA {rmsea:.3f} [{low:.3f}, {high:.3f}], SRMR {srmr:.3f}.", **figures))
    if fit is not None:
        out += [msg("reliability.improper", "Improper solution: {note}; read the loadings and validity below with "
                    "care.", note=note) for note in fit.improper]
        low_ave = fit.validity[fit.validity["ave"] < THRESHOLDS["ave"]].index.tolist()
        if low_ave:
            out.append(msg("reliability.low_ave", "Convergent validity is weak for {dims} (AVE < .50).",
                           dims=terms(low_ave)))
        fl_bad = fit.validity[~fit.validity["fornell_larcker_ok"]].index.tolist()
        h = fit.htmt.where(np.triu(np.ones(fit.htmt.shape, bool), 1))
        pairs = [(a, b) for a in h.index for b in h.columns if pd.notna(h.loc[a, b]) and h.loc[a, b] >= THRESHOLDS["htmt"]]
        if fl_bad and not pairs:  # the two criteria disagree: say which to trust, in one sentence
            out.append(msg("reliability.htmt_over_fornell_larcker", "HTMT, the criterion to trust (Henseler, Ringle "
                           "& Sarstedt 2015), finds the dimensions distinct (every value below .85); Fornell–Larcker "
                           "flags {dims}: each one's AVE is below its squared correlation with another dimension, so "
                           "read their items for overlapping wording.", dims=terms(fl_bad)))
        elif fl_bad or pairs:
            doubt = [labels.word(d) for d in fl_bad] + [
                msg("reliability.htmt_pair", "{a}/{b} (HTMT {htmt:.2f})", a=term(a), b=term(b), htmt=h.loc[a, b])
                for a, b in pairs]
            out.append(msg("reliability.discriminant_doubt", "Discriminant validity is in doubt for {dims}.",
                           dims=listed(doubt)))
        else:
            out.append(msg("reliability.distinct", "The dimensions are distinct: every HTMT is below .85 and the "
                           "Fornell–Larcker criterion holds."))
    return out


# ---------------------------------------------------------------------------------------------------------
# the CFA by three estimators, and which to trust
# ---------------------------------------------------------------------------------------------------------
INVARIANCE_FORMAT = {"chisq": "{:.1f}", "aic": "{:.1f}", "bic": "{:.1f}", "delta_chisq": "{:.1f}", "delta_df": "{:.0f}",
                     "delta_p": "{:.3g}", "p_value": "{:.3g}"}
ESTIMATOR_LABELS = {"ML": "ML, complete cases", "FIML": "ML, full information (every respondent)",
                    "WLSMV": "WLSMV, answers as ordered categories"}


def estimator_comparison(items: pd.DataFrame, model: Mapping[str, Sequence[str]], *, ordinal: bool = True,
                         ml: CFAResult | None = None) -> tuple[pd.DataFrame, dict, str]:
    """The CFA by ML on complete cases, by full-information ML (when answers are missing) and by WLSMV (when
    the answers are ordered categories), side by side: one row per estimator with the respondents used, χ²
    (the scaled one for WLSMV), df, CFI, TLI, RMSEA, SRMR, the mean standardised loading and ``trusted`` (the
    estimator the advice names for the fit); the fits; and a sentence on which to trust, from the data (number
    of answer categories, share of missing answers, share at the top of the scale)."""
    fits = {"ML": ml if ml is not None else cfa(items, model)}
    X = items.to_numpy(dtype=float)
    missing_share = float(np.isnan(X).mean())
    n_all = int((~np.isnan(X).all(axis=1)).sum())
    if missing_share > 0:
        fits["FIML"] = cfa(items, model, missing="fiml")
    categories = max(len(np.unique(c[~np.isnan(c)])) for c in X.T)
    ordered = ordinal and categories <= 7
    if ordered:
        fits["WLSMV"] = cfa(items, model, estimator="WLSMV")
    rows = []
    for key, f in fits.items():
        sfx = "_scaled" if key == "WLSMV" else ""
        rows.append({"estimator": ESTIMATOR_LABELS[key], "n": int(f.fit["n"]), "chisq": f.fit["chisq" + sfx],
                     "df": int(f.fit["df"]), "cfi": f.fit["cfi" + sfx], "tli": f.fit["tli" + sfx],
                     "rmsea": f.fit["rmsea" + sfx], "srmr": f.fit["srmr"],
                     "mean_loading": float(f.loadings["std_all"].mean())})
    table = pd.DataFrame(rows)
    # the estimator the advice below names for the fit: WLSMV for ordered categories, else FIML when answers
    # are missing, else ML
    trusted = "WLSMV" if ordered else ("FIML" if missing_share > 0 else "ML")
    table["trusted"] = [key == trusted for key in fits]
    top = float(np.nanmean(X == np.nanmax(X)))
    if ordered:
        scale = msg("reliability.advice_ordered", "The answers are {k} ordered categories ({top:.0%} at the top of the "
                    "scale): WLSMV models them as such and is the one to trust for fit and loadings; ML treats the "
                    "points as equally spaced numbers, which bends χ² and the loadings when answers pile up at one "
                    "end", k=categories, top=top)
    else:
        scale = msg("reliability.advice_continuous", "With {k} answer points the ratings behave nearly as continuous "
                    "numbers, so ML is appropriate", k=categories)
    if missing_share > 0:
        n_cc = int(fits["ML"].fit["n"])
        if ordered:
            missing = msg("reliability.advice_missing_ordered", "{share:.1%} of the answers are missing: complete "
                          "cases keep {kept:,} of {n:,} respondents, full-information ML uses all {n:,} — where "
                          "WLSMV and FIML disagree, missing answers are not random and FIML is the safer read of the "
                          "loadings", share=missing_share, kept=n_cc, n=n_all)
        else:
            missing = msg("reliability.advice_missing", "{share:.1%} of the answers are missing: complete cases keep "
                          "{kept:,} of {n:,} respondents, full-information ML uses all {n:,} and is the one to trust",
                          share=missing_share, kept=n_cc, n=n_all)
    else:
        missing = msg("reliability.advice_complete", "no answer is missing, so full-information ML equals ML on "
                      "complete cases")
    return table, fits, msg("reliability.advice", "{scale}; {missing}.", scale=scale, missing=missing)


def invariance_column(survey: pd.DataFrame, instrument, requested: str) -> str:
    """The grouping column for the invariance test: ``requested`` ("" = none, "auto" = the instrument's first
    segment column present in the survey with two or more groups)."""
    if requested != "auto":
        return requested
    present = load_instrument(instrument).segments_in(survey)
    return present[0] if present else ""
