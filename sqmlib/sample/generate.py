"""Generating the sample data with known ground truth."""
from __future__ import annotations

from .data import SampleData
from dataclasses import asdict

import numpy as np
import pandas as pd

from ..instruments import load as load_instrument
from ..periods import quarter_bounds
from .design import (
    ACQUIESCENCE,
    ACQUIESCENCE_WEIGHTS,
    CHURN_COEF,
    COMPLAINT_CATEGORIES,
    COMPLAINT_DETERIORATION,
    COMPLAINT_LOG_RATE,
    COMPLAINT_P,
    COMPLAINT_P_DETERIORATED,
    COMPLAINT_QUALITY,
    CROSS_LOADING,
    DEPARTMENT,
    DETERIORATION,
    DETERIORATION_NPS,
    DETERIORATION_U,
    DIMENSIONS,
    E_MEAN,
    ENQUIRY_RATE,
    EP_SPECIFIC,
    FIRST_RESPONSE_MEDIAN_H,
    HALO_QUALITY,
    IMPORTANCE,
    LABEL_SLIP,
    LOADINGS,
    MANAGER_BIAS,
    NPS_LOYALTY,
    P_SHORTFALL,
    PAIR_RESIDUAL,
    PLAN_CHARGE,
    PLAN_P,
    PLANS,
    REGION_P,
    REGIONS,
    RHO,
    SAT_NOISE,
    SAT_WEIGHTS,
    SEVERITIES,
    SEVERITY_P,
    SIGMA,
    SURVEY_CHANNELS,
    TEXT_FILLER,
    TEXT_MIXED,
    TEXT_TYPO,
    TEXT_VAGUE,
    TICKET_CHANNELS,
    SynthConfig,
    _discretise,
    _largest_remainder,
    complaint_texts,
    item_means,
    item_structure,
)
from .data import localise
from .mystery import mystery_shopping
from .pdca import action_factors, actions_table, pdca_truth, surge_channels
from .value import campaign, orders, value_truth
from .voc import feedback
from .seeds import kano_answers, kano_truth, recovery, recovery_truth


def generate(config: SynthConfig = SynthConfig()) -> SampleData:
    """Generate the sample tables and their ground truth (see the module docstring for the model)."""
    rng = np.random.default_rng(config.seed)
    inst = load_instrument("servqual")
    last_q = config.quarters[-1]
    sim_quarters = (config.history_quarter,) + tuple(config.quarters)

    # ---- customers ------------------------------------------------------------------------------------
    n = config.n_customers
    first = pd.Timestamp(config.first_signup)
    end_all = quarter_bounds(last_q)[1]
    # more recent signups are more common: a skewed draw over the span
    span_days = (end_all - first).days - 15
    signup = first + pd.to_timedelta(np.floor(span_days * rng.beta(1.6, 1.0, n)), unit="D")
    plan = rng.choice(PLANS, n, p=PLAN_P)
    charges = np.round(np.array([PLAN_CHARGE[p] for p in plan]) + rng.normal(0, 4, n), 2)
    charges = np.maximum(charges, 5.0)
    region = rng.choice(REGIONS, n, p=REGION_P)
    store_no = rng.integers(1, 4, n)
    store = np.array([f"{r[0]}{s}" for r, s in zip(region, store_no)])
    u = rng.standard_normal(n)
    loyal = rng.standard_normal(n)  # loyalty disposition beyond perceived quality: in NPS answers and in churn
    customer_id = np.array([f"C{i:05d}" for i in range(1, n + 1)])

    # ---- churn and tickets, quarter by quarter --------------------------------------------------------
    churn_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    complaints_prev = np.zeros(n)
    unresolved_prev = np.zeros(n)
    tickets = []
    signup_ns = signup.to_numpy()
    for q in sim_quarters:
        qs, qe = quarter_bounds(q)
        det = (region == config.deteriorated_region) & (q == last_q)
        quality = u - DETERIORATION_U * det
        active_start = (signup_ns < qs.to_datetime64()) & np.isnat(churn_date)
        tenure = np.maximum((qs - signup).days.to_numpy() / 365.25, 0.0)
        x = (CHURN_COEF["intercept"] + CHURN_COEF["quality"] * quality + CHURN_COEF["loyalty"] * loyal
             + CHURN_COEF["complaints_prev_q"] * complaints_prev + CHURN_COEF["unresolved_prev_q"] * unresolved_prev
             + CHURN_COEF["log_tenure_years"] * np.log(tenure + 0.25)
             + CHURN_COEF["plan_basic"] * (plan == "basic") + CHURN_COEF["plan_premium"] * (plan == "premium")
             + CHURN_COEF["charges_10"] * (charges - 60) / 10)
        p_churn = 1 / (1 + np.exp(-x))
        churn_now = active_start & (rng.random(n) < p_churn)
        days = (qe - qs).days
        churn_date[churn_now] = (qs + pd.to_timedelta(rng.integers(1, days, churn_now.sum()), unit="D")).to_numpy()
        # exposure window of each customer in this quarter
        w_start = np.maximum(signup_ns, qs.to_datetime64())
        w_end = np.where(churn_now, churn_date, qe.to_datetime64())
        alive = w_start < w_end
        lam = np.exp(COMPLAINT_LOG_RATE + COMPLAINT_QUALITY * quality + COMPLAINT_DETERIORATION * det)
        frac = np.where(alive, (w_end - w_start) / np.timedelta64(days, "D"), 0.0)
        n_compl = rng.poisson(lam * frac)
        n_enq = rng.poisson(ENQUIRY_RATE * frac)
        complaints_prev = n_compl.astype(float)
        unresolved_prev = np.zeros(n)
        for kind, counts in (("complaint", n_compl), ("enquiry", n_enq)):
            idx = np.repeat(np.arange(n), counts)
            if idx.size == 0:
                continue
            span = (w_end[idx] - w_start[idx]) / np.timedelta64(1, "m")
            opened = w_start[idx] + (rng.random(idx.size) * span).astype("timedelta64[m]")
            # first-contact resolution is decided here: unresolved complaints drive next quarter's churn
            fcr = rng.random(idx.size) < (np.where(det[idx], 0.5, 0.7) if kind == "complaint" else 0.9)
            if kind == "complaint":
                unresolved_prev = np.bincount(idx[~fcr], minlength=n).astype(float)
            tickets.append(pd.DataFrame({"cust": idx, "opened_at": opened, "type": kind, "det": det[idx],
                                         "fcr": fcr}))
    t = pd.concat(tickets, ignore_index=True).sort_values(["opened_at", "cust", "type"], kind="stable")
    t = t.reset_index(drop=True)
    m = len(t)
    is_c = (t["type"] == "complaint").to_numpy()
    det_t = t["det"].to_numpy()
    cat = np.where(det_t, rng.choice(COMPLAINT_CATEGORIES, m, p=COMPLAINT_P_DETERIORATED),
                   rng.choice(COMPLAINT_CATEGORIES, m, p=COMPLAINT_P))
    cat = np.where(is_c, cat, rng.choice(("account", "billing", "product_info"), m, p=(0.4, 0.3, 0.3)))
    sev = np.where(is_c, rng.choice(SEVERITIES, m, p=SEVERITY_P), "minor")
    med = np.array([FIRST_RESPONSE_MEDIAN_H[s] for s in sev]) * np.where(det_t, 2.5, 1.0)
    fr_h = med * np.exp(rng.normal(0, 0.7, m))
    close_noise = np.exp(rng.normal(0, 0.8, m))
    # the surge's extra complaints come by phone (drawn from the same numbers: other tickets keep their channel)
    channel = surge_channels(rng.random(m), det_t & is_c, TICKET_CHANNELS, (0.4, 0.25, 0.2, 0.15))
    # the planted PDCA actions: faster first responses in East, longer phone waits in North, from their starts
    first_factor, wait_factor = action_factors(t["opened_at"].to_numpy(), region[t["cust"].to_numpy()], is_c,
                                               channel)
    fr_h = fr_h * first_factor
    close_h = fr_h + np.where(is_c, 12.0, 2.0) * np.where(det_t, 2.0, 1.0) * close_noise
    fcr = t["fcr"].to_numpy()
    wait = np.where(channel == "phone", np.round(20 * np.where(det_t, 2.2, 1.0) * wait_factor
                                                 * np.exp(rng.normal(0, 0.6, m))), np.nan)
    # texts draw from their own stream, so the English and Chinese samples share every other number
    text = complaint_texts(cat, is_c, np.random.default_rng([config.seed, 2]), config.language)
    slip = is_c & (rng.random(m) < LABEL_SLIP)
    nxt = {c: COMPLAINT_CATEGORIES[(k + 1) % len(COMPLAINT_CATEGORIES)] for k, c in enumerate(COMPLAINT_CATEGORIES)}
    cat_logged = np.where(slip, [nxt.get(c, c) for c in cat], cat)
    cat_out = np.where(is_c & (rng.random(m) < config.rate_category_blank), "", cat_logged)
    opened = t["opened_at"].to_numpy()
    interactions = pd.DataFrame({
        "ticket_id": [f"T{i:06d}" for i in range(1, m + 1)],
        "customer_id": customer_id[t["cust"].to_numpy()],
        "opened_at": opened,
        "first_response_at": opened + (fr_h * 60).round().astype("timedelta64[m]"),
        "closed_at": opened + (close_h * 60).round().astype("timedelta64[m]"),
        "channel": channel,
        "type": t["type"].to_numpy(),
        "category": cat_out,
        "severity": sev,
        "first_contact_resolved": fcr,
        "department": [DEPARTMENT[c] for c in cat],
        "region": region[t["cust"].to_numpy()],
        "store": store[t["cust"].to_numpy()],
        "wait_seconds": wait,
        "error": rng.random(m) < 0.004,
        "text": text,
    })

    customers = pd.DataFrame({
        "customer_id": customer_id,
        "signup_date": signup,
        "plan": plan,
        "monthly_charges": charges,
        "region": region,
        "store": store,
        "churned": ~np.isnat(churn_date),
        "churn_date": churn_date,
    })
    # customers who had left before the history quarter are not in a live customer table; none here,
    # since churn is simulated from the history quarter on.

    # ---- survey -------------------------------------------------------------------------------------------
    means = item_means(config)
    lat = means.set_index(["quarter", "region", "block", "item"])["latent_mean"]
    items = list(inst.items)
    dim_of = np.array([DIMENSIONS.index(inst.dimension_of(i)) for i in items])
    st = item_structure(items, [inst.dimension_of(i) for i in items])
    lam_i, cross_i, acq_i, resid_i = st["loading"], st["cross_loading"], st["style"], st["residual_sd"]
    pair_i = st["pair_residual"]
    next_dim = (dim_of + 1) % 5
    lam = np.array([LOADINGS[d] * SIGMA for d in DIMENSIONS])
    frames = []
    rid = 0
    for q in config.quarters:
        qs, qe = quarter_bounds(q)
        eligible = np.flatnonzero((signup_ns < qe.to_datetime64())
                                  & (np.isnat(churn_date) | (churn_date > qs.to_datetime64())))
        pick = np.sort(rng.choice(eligible, config.respondents_per_quarter, replace=False))
        k = pick.size
        lo = np.maximum(signup_ns[pick], qs.to_datetime64())
        hi = np.where(np.isnat(churn_date[pick]), qe.to_datetime64(), np.minimum(churn_date[pick], qe.to_datetime64()))
        sdate = (lo + (rng.random(k) * ((hi - lo) / np.timedelta64(1, "D"))).astype("timedelta64[D]"))
        sdate = sdate.astype("datetime64[D]")
        reg = region[pick]
        # the general factor is the customer's quality perception standardised among the customers active in
        # this quarter and region: low-quality customers churn more, and without this the survivors' higher
        # mean would shift every survey mean away from the closed-form truth
        u_std, l_std = np.empty(k), np.empty(k)
        for r in REGIONS:
            pool = eligible[region[eligible] == r]
            sel = reg == r
            u_std[sel] = (u[pick][sel] - u[pool].mean()) / u[pool].std()
            l_std[sel] = (loyal[pick][sel] - loyal[pool].mean()) / loyal[pool].std()  # likewise for loyalty
        halo = rng.standard_normal(k)[:, None]
        z_p = rng.standard_normal((k, 5))
        eta_p = (np.sqrt(RHO) * (HALO_QUALITY * u_std[:, None] + np.sqrt(1 - HALO_QUALITY ** 2) * halo)
                 + np.sqrt(1 - RHO) * z_p)
        eta_e = np.sqrt(RHO) * halo + np.sqrt(1 - RHO) * (EP_SPECIFIC * z_p + np.sqrt(1 - EP_SPECIFIC ** 2)
                                                          * rng.standard_normal((k, 5)))
        style = rng.standard_normal(k)[:, None]  # the respondent's answer style, in every block

        def answers(mu, eta, shift=0.0):
            shared = rng.standard_normal((k, 5))[:, dim_of]  # what the similarly worded pair has in common
            return (mu + shift + lam_i * eta[:, dim_of] + cross_i * eta[:, next_dim] + acq_i * style
                    + pair_i * shared + resid_i * rng.standard_normal((k, 22)))

        mu_p = np.stack([lat.loc[q].xs("P", level="block").loc[list(zip(reg, [i] * k))].to_numpy()
                         for i in items], axis=1)
        mu_e = np.stack([lat.loc[q].xs("E", level="block").loc[list(zip(reg, [i] * k))].to_numpy()
                         for i in items], axis=1)
        y_p = answers(mu_p, eta_p)
        y_e = answers(mu_e, eta_e)
        # three-column format: desired shares the expectation factor; adequate sits about 1.4 points lower
        y_d = answers(mu_e, eta_e, 0.1)
        y_a = y_d - 1.4 + 0.5 * rng.standard_normal((k, 22))
        P, E, D, A = (_discretise(y, 1, 7) for y in (y_p, y_e, y_d, y_a))
        A = np.minimum(A, D)
        # dimension performance on the continuous scale drives overall satisfaction
        pbar = np.stack([mu_p[:, dim_of == j].mean(axis=1) + lam[j] * eta_p[:, j] for j in range(5)], axis=1)
        w = np.array([SAT_WEIGHTS[d] for d in DIMENSIONS])
        sat_star = 4.6 + (pbar - 4.6) @ w + SAT_NOISE * rng.standard_normal(k)
        sat = _discretise(sat_star, 1, 7)
        loyalty = NPS_LOYALTY * l_std + np.sqrt(1 - NPS_LOYALTY ** 2) * rng.standard_normal(k)
        det_r = (reg == config.deteriorated_region) & (q == last_q)
        nps = _discretise(7.8 + 1.7 * (sat_star - 4.6) + 1.1 * loyalty + DETERIORATION_NPS * det_r, 0, 10)
        ces = _discretise(4.9 + 0.8 * (pbar[:, 2] - pbar[:, 2].mean()) + 0.9 * rng.standard_normal(k), 1, 7)
        imp = _largest_remainder(rng.dirichlet(np.array([IMPORTANCE[d] for d in DIMENSIONS]) * 40, k))
        imp = imp.astype(float)
        imp[rng.random(k) < config.rate_importance_skipped] = np.nan
        # answer behaviour: straight-lining, blanks and declared codes
        straight = rng.random(k) < config.rate_straightliner
        P[straight] = rng.choice([4.0, 5.0, 7.0], straight.sum())[:, None]
        for block in (E, P, A, D):
            r = rng.random(block.shape)
            block[r < config.rate_blank] = np.nan
            code = (r >= config.rate_blank) & (r < config.rate_blank + config.rate_dont_know)
            block[code] = 8
            na = ((r >= config.rate_blank + config.rate_dont_know)
                  & (r < config.rate_blank + config.rate_dont_know + config.rate_not_applicable))
            block[na] = 9
        fast = (rng.random(k) < config.rate_too_fast) | (straight & (rng.random(k) < 0.5))
        duration = np.where(fast, np.exp(rng.normal(np.log(70), 0.3, k)), np.exp(rng.normal(np.log(540), 0.45, k)))
        cols = {
            "respondent_id": [f"R{rid + i + 1:06d}" for i in range(k)],
            "customer_id": customer_id[pick],
            "survey_date": sdate,
            "quarter": q,
            "channel": rng.choice(SURVEY_CHANNELS, k, p=(0.45, 0.25, 0.30)),
            "region": reg,
            "store": store[pick],
            "duration_sec": np.round(duration).astype(int),
        }
        rid += k
        for prefix, block in (("E", E), ("P", P), ("A", A), ("D", D)):
            for j, item in enumerate(items):
                cols[f"{prefix}{item}"] = block[:, j]
        for j, d in enumerate(DIMENSIONS):
            cols[f"I_{d}"] = imp[:, j]
        cols.update({"overall_sat": sat, "nps": nps, "ces": ces})
        frames.append(pd.DataFrame(cols))
    survey = pd.concat(frames, ignore_index=True)
    # the KANO questionnaire (last quarter) and the complaints' recovery, each from a stream of its own
    survey = pd.concat([survey, kano_answers(survey, last_q, "region", config.deteriorated_region,
                                             np.random.default_rng([config.seed, 34]))], axis=1)
    data_end = quarter_bounds(last_q)[1]
    interactions = pd.concat([interactions, recovery(interactions, interactions["region"], data_end,
                                                     np.random.default_rng([config.seed, 35]))], axis=1)

    # ---- management survey (gap 1) ---------------------------------------------------------------------
    stores = sorted(set(store))[: config.n_managers]
    e_true = means[(means.block == "E") & (means.quarter == last_q)].groupby("item")["true_mean"].mean()
    mrows = []
    for i, s in enumerate(stores):
        row = {"manager_id": f"M{i + 1:02d}", "store": s, "region": REGIONS[[r[0] for r in REGIONS].index(s[0])]}
        for item in items:
            est = e_true[item] + MANAGER_BIAS[inst.dimension_of(item)] + rng.normal(0, 0.5)
            row[f"E{item}"] = int(_discretise(est, 1, 7))
        mrows.append(row)
    management = pd.DataFrame(mrows)

    standards = pd.DataFrame([
        ("answer_seconds", "", 30, "seconds", "at_most", "Phone calls answered within 30 seconds"),
        ("first_response_hours", "critical", 1, "hours", "at_most", "Critical complaints acknowledged within 1 hour"),
        ("first_response_hours", "major", 4, "hours", "at_most", "Major complaints acknowledged within 4 hours"),
        ("first_response_hours", "minor", 24, "hours", "at_most", "Minor complaints acknowledged within 24 hours"),
        ("closure_hours", "", 24, "hours", "at_most", "Complaints closed within 24 hours"),
        ("error_rate", "", 0.005, "share", "at_most", "Service errors in at most 0.5 % of interactions"),
        ("revisit_hours", "", 72, "hours", "at_most", "Customers revisited within 72 hours of the remedy"),
    ], columns=["kpi", "severity", "target", "unit", "direction", "description"])

    dim_truth = (means.groupby(["quarter", "region", "block", "dimension"])["true_mean"].mean()
                 .unstack("block").assign(gap=lambda x: x["P"] - x["E"])["gap"])
    base = dim_truth.loc[(config.quarters[0], REGIONS[0])]
    det_gap = dim_truth.loc[(last_q, config.deteriorated_region)]
    truth = {
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()},
        "instrument": "servqual",
        "scale": [1, 7],
        "item_sd": SIGMA,
        "factor_correlation": RHO,
        "loadings": LOADINGS,
        "expectation_latent_mean": E_MEAN,
        "perception_shortfall_latent": P_SHORTFALL,
        "true_gap_per_dimension": {d: round(float(base[d]), 10) for d in DIMENSIONS},
        "true_gap_per_dimension_deteriorated": {d: round(float(det_gap[d]), 10) for d in DIMENSIONS},
        "deterioration": {"region": config.deteriorated_region, "quarter": last_q,
                          "perception_latent_shift": DETERIORATION, "quality_shift": -DETERIORATION_U,
                          "complaint_log_rate_shift": COMPLAINT_DETERIORATION,
                          "first_response_time_factor": 2.5, "closure_time_factor": 2.0,
                          "first_contact_resolution": {"normal": 0.7, "deteriorated": 0.5},
                          "phone_wait_factor": 2.2, "nps_latent_shift": DETERIORATION_NPS},
        "satisfaction_weights": SAT_WEIGHTS,
        "satisfaction_noise_sd": SAT_NOISE,
        "importance_weights": IMPORTANCE,
        "churn_coefficients": CHURN_COEF,
        "item_structure": {"cross_loading": CROSS_LOADING, "cross_loading_items": "2nd and 4th of each dimension",
                           "answer_style_sd": ACQUIESCENCE, "answer_style_weights": list(ACQUIESCENCE_WEIGHTS),
                           "shared_residual": PAIR_RESIDUAL, "shared_residual_items": "1st and 3rd of each dimension",
                           "perception_general_factor_quality_weight": HALO_QUALITY,
                           "expectation_perception_specific_correlation": EP_SPECIFIC,
                           "expectation_perception_factor_correlation":
                               RHO * np.sqrt(1 - HALO_QUALITY ** 2) + (1 - RHO) * EP_SPECIFIC},
        "nps_loyalty_weight": NPS_LOYALTY,
        "ticket_texts": {"mixed": TEXT_MIXED, "vague": TEXT_VAGUE, "typo": TEXT_TYPO, "filler": TEXT_FILLER,
                         "label_slip": LABEL_SLIP, "language": config.language},
        "complaint_model": {"log_rate": COMPLAINT_LOG_RATE, "quality": COMPLAINT_QUALITY,
                            "deterioration": COMPLAINT_DETERIORATION, "enquiry_rate": ENQUIRY_RATE},
        "manager_bias": MANAGER_BIAS,
        "kano": kano_truth(),
        "recovery": recovery_truth(),
        "note": ("true means and gaps describe genuine respondents: the planted straight-liners (all P answers "
                 "alike) are outside the model and are what the data audit flags"),
    }
    p_cols = inst.item_columns("P")
    pv = survey[p_cols].where(survey[p_cols] <= 7)
    truth["planted"] = {
        "respondents": int(len(survey)),
        "straightliners_rate": config.rate_straightliner,
        "too_fast_rate": config.rate_too_fast,
        "blank_rate": config.rate_blank,
        "dont_know_rate": config.rate_dont_know,
        "not_applicable_rate": config.rate_not_applicable,
        "customers_churned": int(customers["churned"].sum()),
        "tickets": int(len(interactions)),
        "complaints": int(is_c.sum()),
        "p_answers_valid": int(pv.notna().sum().sum()),
    }
    truth_customers = pd.DataFrame({"customer_id": customer_id, "quality_u": u, "loyalty_l": loyal})
    chain = sorted(set(store))
    visits, visit_items, calibration, truth["mystery_shopping"] = mystery_shopping(
        chain, {s: REGIONS[[r[0] for r in REGIONS].index(s[0])] for s in chain}, list(config.quarters), config.seed)
    truth["pdca"] = pdca_truth()
    # the retention campaign (its planted effects change some of the last quarter's departures), then the orders
    campaigns, customers, truth_campaign = campaign(customers, interactions, config.seed)
    transactions, latent = orders(customers, str(data_end - pd.Timedelta(minutes=1)), config.seed)
    truth["customer_value"] = {**value_truth(latent), "campaign": truth_campaign}
    truth_customers = truth_customers.merge(latent, on="customer_id")
    notes, truth["voice_of_customer"], _ = feedback(
        {s: REGIONS[[r[0] for r in REGIONS].index(s[0])] for s in chain}, data_end, config.seed,
        customers["customer_id"])
    data = SampleData(survey, customers, interactions, management, standards, truth, means, truth_customers, config,
                      visits, visit_items, calibration, actions_table(), transactions, campaigns, notes)
    return localise(data) if config.language == "zh" else data
