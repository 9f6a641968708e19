"""Customer value: the CDNOW estimates of Fader, Hardie and Lee reproduced, the models and summaries against the
lifetimes library, Qini and uplift areas against scikit-uplift, RFM's scores and maps written out by hand, the
sample's planted purchase process and campaign recovered, and the churn page valuing each customer by their
orders."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sqmlib import SQMDataError, explore, io, value
from sqmlib.value.clv import _bgnbd_ll, _grouped, _hessian

from conftest import ROOT

lifetimes = pytest.importorskip("lifetimes")
from lifetimes.datasets import (  # noqa: E402  (after the reference is known to be there)
    load_cdnow_summary,
    load_cdnow_summary_data_with_monetary_value,
    load_transaction_data,
)


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary(index_col=[0])


@pytest.fixture(scope="module")
def sample():
    return io.load_folder(ROOT / "data" / "sample", tables=["customers", "interactions", "transactions", "campaigns"])


@pytest.fixture(scope="module")
def result(sample):
    return value.run_value(sample)


@pytest.fixture(scope="module")
def truth():
    return json.loads((ROOT / "data" / "sample" / "truth.json").read_text())["customer_value"]


# ---- the published CDNOW estimates and the lifetimes library ---------------------------------------------------
def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow):
    """'Counting your customers the easy way', CDNOW 2,357 customers, 39 weeks: r .243, α 4.414, a .793, b 2.426."""
    m = value.bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert m.params.round(3).to_dict() == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert m.loglik == pytest.approx(-9582.429, abs=0.01) and m.converged and m.starts_agreeing >= 2


def test_pareto_nbd_and_gamma_gamma_reproduce_the_published_cdnow_values(cdnow):
    """Pareto/NBD r .553, α 10.578, s .606, β 11.669 (to the third decimal, β to .005); Gamma-Gamma p 6.25,
    q 3.74, γ 15.44 (Fader, Hardie and Lee 2005, 'RFM and CLV')."""
    p = value.pareto_nbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    got, want = p.params.to_numpy(), np.array([0.553, 10.578, 0.606, 11.669])
    assert (np.abs(got - want) <= np.array([5e-4, 5e-3, 5e-4, 5e-3])).all(), got
    mv = load_cdnow_summary_data_with_monetary_value()
    g = value.gamma_gamma(mv["frequency"], mv["monetary_value"])
    assert g.params.to_numpy() == pytest.approx([6.25, 3.74, 15.44], abs=0.01)
    assert abs(g.correlation) < 0.3


def test_predictions_equal_lifetimes(cdnow):
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    f, r, t = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    ours = value.bgnbd(f, r, t)
    ref = BetaGeoFitter().fit(f, r, t)
    assert ours.params.to_numpy() == pytest.approx(ref.params_.to_numpy(), rel=1e-4)
    theirs = BetaGeoFitter()
    theirs.params_ = ours.params  # the same parameters: the formulas compared
    theirs.predict = theirs.conditional_expected_number_of_purchases_up_to_time
    np.testing.assert_allclose(ours.p_alive(f, r, t), theirs.conditional_probability_alive(f, r, t), atol=1e-10)
    np.testing.assert_allclose(ours.expected_purchases(10, f, r, t),
                               theirs.conditional_expected_number_of_purchases_up_to_time(10, f, r, t), atol=1e-10)
    np.testing.assert_allclose(ours.expected_purchases_new([1, 10, 39]), theirs.expected_number_of_purchases_up_to_time(
        np.array([1, 10, 39])), atol=1e-10)
    mv = load_cdnow_summary_data_with_monetary_value()
    rep = mv[mv["frequency"] > 0]
    g = value.gamma_gamma(rep["frequency"], rep["monetary_value"])
    gg = GammaGammaFitter()
    gg.params_ = g.params
    np.testing.assert_allclose(g.expected_spend(mv["frequency"], mv["monetary_value"]),
                               gg.conditional_expected_average_profit(mv["frequency"], mv["monetary_value"]), rtol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_clv = gg.customer_lifetime_value(theirs, mv["frequency"], mv["recency"], mv["T"], mv["monetary_value"],
                                             time=12, discount_rate=0.01, freq="W")
    np.testing.assert_allclose(value.clv(ours, g, mv["frequency"], mv["recency"], mv["T"], mv["monetary_value"],
                                         months=12, discount_rate=0.01, freq="W"), ref_clv.to_numpy(), rtol=1e-8)


@pytest.mark.parametrize("freq", ["D", "W"])  # lifetimes cannot do "M" with current pandas
def test_summary_equals_lifetimes(freq):
    from lifetimes.utils import summary_data_from_transaction_data

    tx = load_transaction_data()
    tx["amount"] = np.random.default_rng(0).gamma(2, 20, len(tx)).round(2)
    ref = summary_data_from_transaction_data(tx, "id", "date", monetary_value_col="amount",
                                             observation_period_end="2014-12-31", freq=freq)
    ours = value.summary_from_transactions(tx, customer="id", time="date", amount="amount", as_of="2014-12-31",
                                           freq=freq)
    pd.testing.assert_frame_equal(ours.loc[ref.index, ["frequency", "recency", "T"]], ref[["frequency", "recency", "T"]],
                                  check_names=False)
    np.testing.assert_allclose(ours.loc[ref.index, "monetary_value"], ref["monetary_value"], rtol=1e-10)
    ref_h = lifetimes.utils.calibration_and_holdout_data(tx, "id", "date", calibration_period_end="2014-09-01",
                                                         observation_period_end="2014-12-31", freq=freq)
    ours_h = value.summary_from_transactions(tx, customer="id", time="date", as_of="2014-12-31", freq=freq,
                                             calibration_end="2014-09-01")
    np.testing.assert_array_equal(ours_h.loc[ref_h.index, "frequency"], ref_h["frequency_cal"])
    np.testing.assert_array_equal(ours_h.loc[ref_h.index, "T"], ref_h["T_cal"])
    np.testing.assert_array_equal(ours_h.loc[ref_h.index, "frequency_holdout"], ref_h["frequency_holdout"])


# ---- the engines' summaries: the in-memory ones, from DuckDB (a DataFrame, Parquet, CSV) and Spark -----------------
def _engine_cases(sample):
    ends = sample.customers.set_index("customer_id")["churn_date"]
    for freq in ("D", "W", "M"):
        for cal in (None, "2026-04-01"):
            yield freq, cal, ends


@pytest.mark.parametrize("form", ["frame", "parquet", "csv"])
def test_duckdb_summaries_equal_the_in_memory_ones(sample, tmp_path, form):
    tx = sample.transactions  # with refunded orders and contracts that ended; add refund lines, a missing amount
    lines = tx.sample(200, random_state=0).assign(amount=lambda d: -d["amount"] / 2, refunded=False,
                                                  order_time=lambda d: d["order_time"] + pd.Timedelta(days=3))
    tx = pd.concat([tx, lines, tx.head(3).assign(amount=np.nan)], ignore_index=True)
    assert tx["refunded"].any() and (tx["amount"] < 0).any() and (tx["order_time"] > "2026-09-30 12:00").any()
    source = tx
    if form == "parquet":
        source = tmp_path / "orders.parquet"
        tx.to_parquet(source)
    elif form == "csv":
        source = tmp_path / "orders.csv"
        tx.to_csv(source, index=False)
    mem = tx[~tx["refunded"]]
    for freq, cal, ends in _engine_cases(sample):
        ours = value.purchase_summary(source, as_of="2026-09-30 12:00", freq=freq, calibration_end=cal, ends=ends)
        ref = value.summary_from_transactions(mem, customer="customer_id", time="order_time", amount="amount",
                                              as_of="2026-09-30 12:00", freq=freq, calibration_end=cal, ends=ends)
        pd.testing.assert_frame_equal(ours, ref, rtol=1e-12, check_dtype=False, check_index_type=False)
    for frequency in ("orders", "days"):
        ours = value.rfm_summary(source, as_of="2026-09-30", frequency=frequency)
        ref = value.rfm(mem, customer="customer_id", time="order_time", amount="amount", as_of="2026-09-30",
                        frequency=frequency)
        pd.testing.assert_frame_equal(ours, ref, rtol=1e-12, check_dtype=False, check_index_type=False)


def test_duckdb_summary_equals_lifetimes_on_its_own_data():
    from lifetimes.utils import summary_data_from_transaction_data

    tx = load_transaction_data()
    tx["date"] = pd.to_datetime(tx["date"])
    tx["amount"] = np.random.default_rng(1).gamma(2, 20, len(tx)).round(2)
    ref = summary_data_from_transaction_data(tx, "id", "date", monetary_value_col="amount",
                                             observation_period_end="2014-12-31", freq="W")
    ours = value.purchase_summary(tx, customer="id", time="date", as_of="2014-12-31")
    pd.testing.assert_frame_equal(ours.loc[ref.index, ["frequency", "recency", "T"]],
                                  ref[["frequency", "recency", "T"]], check_names=False)
    np.testing.assert_allclose(ours.loc[ref.index, "monetary_value"], ref["monetary_value"], rtol=1e-8)


def test_engine_summaries_say_what_is_wrong(sample):
    from sqmlib import SQMArgumentError, SQMDataError

    with pytest.raises(SQMDataError, match="no column 'when'"):
        value.purchase_summary(sample.transactions, time="when")
    with pytest.raises(SQMArgumentError, match="duckdb or spark"):
        value.rfm_summary(sample.transactions, engine="pandas")
    with pytest.raises(SQMArgumentError, match="freq must be one of D, W, M"):
        value.purchase_summary(sample.transactions, freq="Q")


@pytest.mark.long
@pytest.mark.skipif(__import__("shutil").which("java") is None, reason="Spark needs Java")
def test_spark_summaries_equal_the_in_memory_ones(sample, tmp_path):
    pytest.importorskip("pyspark")
    from sqmlib.moments.engines import local_spark

    spark = local_spark()
    path = tmp_path / "orders.parquet"
    sample.transactions.to_parquet(path, coerce_timestamps="us")
    mem = value.orders_of(sample)
    for freq, cal, ends in _engine_cases(sample):
        ours = value.purchase_summary(str(path), as_of="2026-09-30 12:00", freq=freq, calibration_end=cal, ends=ends,
                                      engine="spark", spark=spark)
        ref = value.summary_from_transactions(mem, customer="customer_id", time="order_time", amount="amount",
                                              as_of="2026-09-30 12:00", freq=freq, calibration_end=cal, ends=ends)
        pd.testing.assert_frame_equal(ours, ref, rtol=1e-12, check_dtype=False, check_index_type=False)
    ours = value.rfm_summary(sample.transactions, as_of="2026-09-30", frequency="days", engine="spark", spark=spark)
    ref = value.rfm(mem, customer="customer_id", time="order_time", amount="amount", as_of="2026-09-30",
                    frequency="days")
    pd.testing.assert_frame_equal(ours, ref, rtol=1e-12, check_dtype=False, check_index_type=False)
    # pandas' own Parquet (nanosecond timestamps, which Spark reads only as numbers): the same summary
    ns = tmp_path / "orders_ns.parquet"
    sample.transactions.to_parquet(ns)
    ours = value.purchase_summary(str(ns), as_of="2026-09-30 12:00", freq="D", engine="spark", spark=spark)
    ref = value.summary_from_transactions(mem, customer="customer_id", time="order_time", amount="amount",
                                          as_of="2026-09-30 12:00", freq="D")
    pd.testing.assert_frame_equal(ours, ref, rtol=1e-12, check_dtype=False, check_index_type=False)
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(SQMDataError, match="Spark cannot read it") as err:
        value.purchase_summary(str(bad), as_of="2026-09-30", engine="spark", spark=spark)
    (problem,) = err.value.problems
    assert "\n" not in problem.message and "at org.apache" not in str(err.value) and "calling o" not in str(err.value)


def test_a_sparse_summary_converges_where_lifetimes_stalls():
    """Few repeat buyers and long ages: the dropout probability does not vary, so the maximum lies at a, b → ∞
    (where lifetimes' fitter stops with a convergence error); the fit reports convergence on that ridge, its
    concentration a + b bounded at e^20, and no start finds a likelihood higher by more than 0.1 (the supremum,
    at a + b = ∞, is that close), with the mean dropout probability a/(a+b) settled."""
    rng = np.random.default_rng(4)
    n = 300
    T = rng.uniform(20, 60, n)
    f = np.where(rng.random(n) < 0.9, 0, rng.integers(1, 3, n)).astype(float)
    r = np.where(f > 0, rng.uniform(0, 1, n) * T, 0)
    m = value.bgnbd(f, r, T)
    assert m.converged and np.isfinite(m.loglik)
    x, tx, TT, w = _grouped(f, r, T)
    for start in ([0.1, 1, 0.5, 0.5], [2, 50, 3, 3]):
        from scipy import optimize

        other = optimize.minimize(lambda q: _bgnbd_ll(q, x, tx, TT, w), np.log(start), method="Nelder-Mead",
                                  options={"maxiter": 5000})
        assert -other.fun <= m.loglik + 0.1
    assert m.params["a"] > 1e4 and 0.3 < m.params["a"] / (m.params["a"] + m.params["b"]) < 0.7


# ---- uplift --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_qini_and_uplift_areas_equal_scikit_uplift(seed):
    sklift = pytest.importorskip("sklift.metrics")
    rng = np.random.default_rng(seed)
    n = 3000
    t = rng.integers(0, 2, n)
    y = (rng.random(n) < 0.3 + 0.1 * t).astype(int)
    score = np.round(rng.normal(size=n) + 0.5 * y * t, 1)  # ties share a point of the curve
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # scikit-uplift uses a deprecated scikit-learn helper
        q, u = sklift.qini_auc_score(y, score, t), sklift.uplift_auc_score(y, score, t)
        perfect = sklift.qini_auc_score(y, y * t - y * (1 - t), t)
    assert value.qini_auc(y, t, score) == pytest.approx(q, abs=1e-12)
    assert value.uplift_auc(y, t, score) == pytest.approx(u, abs=1e-12)
    assert value.qini_auc(y, t, y * t - y * (1 - t)) == pytest.approx(perfect, abs=1e-12) == pytest.approx(1.0)


def test_the_campaigns_persuadables_are_ranked_first(result, sample):
    """The learners find the planted groups: persuadables (a complaint in the three months before the contact)
    score highest on average and fill the top tenth far beyond their share; do-not-disturb customers score
    lowest; both Qini areas are positive."""
    c = result.campaign
    x = c["x"]
    persuadable = x["complaints_90d"].to_numpy() > 0
    disturb = (x["plan_basic"].to_numpy() == 1) & (x["tenure_years"].to_numpy() < 1) & ~persuadable
    for key, m in c["models"].items():
        s = m["score"]
        top = s >= np.quantile(s, 0.9)
        assert m["qini"] > 0 and s[persuadable].mean() > s[~persuadable & ~disturb].mean() > s[disturb].mean(), key
        assert persuadable[top].mean() > 2 * persuadable.mean(), key
    assert c["contact"]["incremental_value"].is_monotonic_decreasing


# ---- RFM --------------------------------------------------------------------------------------------------------
def test_rfm_by_hand():
    t = pd.DataFrame({"c": ["a", "a", "b", "c", "c", "c", "d", "e", "e"],
                      "time": pd.to_datetime(["2026-01-01", "2026-03-01", "2026-02-01", "2026-01-10", "2026-02-10",
                                              "2026-03-10", "2025-06-01", "2026-03-20", "2026-03-25"]),
                      "amount": [100, 50, 20, 10, 10, 10, 500, 40, -10]})
    r = value.rfm(t, customer="c", time="time", amount="amount", as_of="2026-03-31")
    assert r["recency_days"].to_dict() == {"a": 30, "b": 58, "c": 21, "d": 303, "e": 11}
    assert r["frequency"].to_dict() == {"a": 2, "b": 1, "c": 3, "d": 1, "e": 1}  # the refund line is no order
    assert r["monetary"].to_dict() == {"a": 150, "b": 20, "c": 30, "d": 500, "e": 30}  # net of the refund
    # quintiles with ties at their lowest rank: frequency 1,1,1 (ranks 1) -> 1; 2 (rank 4) -> 4; 3 (rank 5) -> 5
    assert r["f_score"].to_dict() == {"a": 4, "b": 1, "c": 5, "d": 1, "e": 1}
    assert r["r_score"].to_dict() == {"a": 3, "b": 2, "c": 4, "d": 1, "e": 5}
    assert r.loc["c", "segment"] == "loyal_customers" and r.loc["d", "segment"] == "hibernating"
    # the Chinese map: R recent, F and M above their means (recency mean 84.6, frequency 1.6, monetary 146)
    assert r.loc["a", "segment_zh"] == "important_value" and r.loc["d", "segment_zh"] == "important_win_back"
    assert r.loc["c", "segment_zh"] == "ordinary_value"


# ---- the sample -------------------------------------------------------------------------------------------------
def test_the_planted_purchase_process_is_recovered(sample, truth):
    """Orders drawn from BG/NBD with known parameters (in weeks; days here, so α × 7), every order (a refunded
    one was bought too): the joint Wald test of the planted values does not reject at 1 %, r and α each inside their
    95 % interval; the spend parameters too."""
    c = sample.customers.set_index("customer_id")
    s = value.summary_from_transactions(sample.transactions, customer="customer_id", time="order_time",
                                        amount="amount", as_of="2026-09-30 23:59", freq="D", ends=c["churn_date"])
    m = value.bgnbd(s["frequency"], s["recency"], s["T"])
    planted = truth["bgnbd"]
    want = np.array([planted["r"], planted["alpha"] * 7, planted["a"], planted["b"]])
    x, tx, T, w = _grouped(s["frequency"], s["recency"], s["T"])
    z = np.log(m.params.to_numpy())
    d = z - np.log(want)
    wald = d @ _hessian(lambda q: _bgnbd_ll(q, x, tx, T, w), z) @ d
    assert stats.chi2.sf(wald, 4) > 0.01
    table = m.table
    for k, v in (("r", want[0]), ("alpha", want[1])):
        assert table.loc[k, "ci_low"] < v < table.loc[k, "ci_high"], k
    g = value.gamma_gamma(s["frequency"], s["monetary_value"])
    gt = truth["gamma_gamma"]
    for k in ("p", "q", "v"):
        assert g.table.loc[k, "ci_low"] < gt[k] < g.table.loc[k, "ci_high"], k


def test_the_page_on_the_sample(result):
    m = result.metrics()
    assert m.customers == len(result.customers) and m.clv_total > 0 and 0.3 < m.clv_top_decile_share < 0.9
    assert abs(m.holdout["predicted"] / m.holdout["actual"] - 1) < 0.15  # the hold-out check
    assert set(m.uplift) == {"two_model", "x_learner"}
    assert sum(m.segments.values()) == m.customers
    assert set(result.sections()) == {"segments", "value", "campaign"}
    assert (result.customers.loc[~result.customers["active"], "clv"] == 0).all()


def test_the_value_explorer_follows_the_page(result, sample):
    from sqmlib.explore.serve import App
    from sqmlib.render import labels

    ex = explore.ValueExplorer.from_analysis(result, sample)
    v = ex.view()
    page = result.segment_table()
    shown = v.table.set_index("segment").rename(columns={"mean_orders": "orders", "avg_spend": "monetary"})
    pd.testing.assert_frame_equal(shown, page[list(shown.columns)])
    assert f"{int(result.customers['active'].sum()):,} active" in v.note
    assert result.money(result.metrics().clv_total) in v.note  # the page's lifetime value, in the same words
    one = ex.view(segment="important_value")
    chosen = result.customers[result.customers["segment_zh"] == "important_value"]
    listed = one.extra["most_valuable"]
    assert (listed["segment_zh"] == "important_value").all() and listed["clv"].is_monotonic_decreasing
    assert len(listed) == min(100, len(chosen)) and listed["clv"].iloc[0] == chosen["clv"].max()
    assert list(one.table["segment_zh"]) == list(result.segment_table("segment_zh").index)
    # another quarter is computed as the page would compute it for that quarter
    before = ex.view(quarter=ex.quarters[-2])
    from sqmlib.periods import quarter_bounds

    again = value.customer_table(sample, quarter_bounds(ex.quarters[-2])[1])[0]
    assert before.table["customers"].sum() == len(again)
    with pytest.raises(ValueError, match="segment must be one of"):
        ex.view(segment="nobody")
    shown = App({"value": ex}, lang="zh").view("value", {"segment": "at_risk"})
    assert shown["note"].startswith("有流失风险") and not labels.english_words(shown["note"], ["Q3"])
    assert all(not labels.english_words(o["label"]) for o in shown["controls"]["segment"]["options"])


@pytest.mark.long  # two churn pipelines (about 25 s): the long tier
def test_the_churn_page_values_each_customer_by_their_orders(sample):
    from sqmlib import churn

    folder = io.load_folder(ROOT / "data" / "sample")
    c = churn.run_churn(folder)  # orders in the folder: each customer's own value by default
    values = value.customer_values(folder, churn.scoring_date(folder.customers))[0]["clv"]
    risk = c.risk.set_index("customer_id")
    own = values.reindex(risk.index).fillna(values.median())  # a customer without orders: the median value
    np.testing.assert_allclose(risk["expected_loss"], risk["probability"] * own, rtol=1e-12)
    assert c.economics["clv_basis"] == "orders" and c.metrics().value_basis == "orders"
    # the explorer of the page starts where the page is: the same threshold, contacts and expected losses
    e = explore.ChurnExplorer.from_analysis(c)
    v = e.view()
    assert e.defaults()["threshold"] == c.curve.best_threshold
    contacts = c.risk[c.risk["contact"]]
    assert list(v.extra["contact list"]["customer_id"]) == list(contacts["customer_id"])
    np.testing.assert_allclose(v.extra["contact list"]["expected_loss"], contacts["expected_loss"], rtol=1e-12)
    flat = churn.run_churn(folder, value_from_orders=False)
    assert flat.economics["clv_basis"] == "flat" and (flat.risk["expected_loss"] == flat.risk["probability"] * 200).all()


def test_without_orders_the_page_is_not_available(tmp_path):
    import shutil

    d = tmp_path / "data"
    d.mkdir()
    shutil.copy(ROOT / "data" / "sample" / "customers.csv", d / "customers.csv")
    shutil.copy(ROOT / "data" / "sample" / "instrument.yaml", d / "instrument.yaml")
    assert value.run_value(io.load_folder(d, tables=["customers", "transactions"])).unavailable


def test_the_data_audit_lists_the_orders_to_check(tmp_path):
    """A refund line, an order entered twice and an order after the data's end, planted in a copy of the orders:
    the audit counts each, beside the sample's fully refunded orders."""
    import shutil

    from sqmlib import audit

    d = tmp_path / "data"
    d.mkdir()
    for name in ("instrument.yaml", "survey.csv", "transactions.csv"):
        shutil.copy(ROOT / "data" / "sample" / name, d / name)
    t = pd.read_csv(d / "transactions.csv", dtype=str, keep_default_na=False)
    extra = t.iloc[[0, 1, 2]].copy()
    extra.loc[extra.index[0], ["order_id", "amount"]] = ["R0000001", "-25.00"]
    extra.loc[extra.index[2], ["order_id", "order_time"]] = ["F0000001", "2027-01-05 10:00"]
    pd.concat([t, extra]).to_csv(d / "transactions.csv", index=False)
    a = audit.run_audit(io.load_folder(d, tables=["survey", "transactions"]), quarter="2026Q3")
    checks = a.metrics().order_checks
    refunded = int((t["refunded"] == "yes").sum())
    assert checks == {"negative_amount": 1, "duplicate_order": 1, "future_date": 1, "refunded": refunded}
    assert any(f.startswith("Orders to check: 1 refund lines") for f in a.findings())
