"""Explorers: their update functions (view) and widgets without a browser, and the numbers they show."""
import time

import matplotlib
import matplotlib.figure

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import confusion_matrix

from sqmlib import SQMArgumentError, audit, churn, drivers, explore, gaps, show
from sqmlib.render import formats
from sqmlib.errors import SQMDataError
from sqmlib.explore import ALL, NONE
from sqmlib.explore import base as explore_base
from sqmlib.render import labels

from conftest import ROOT


@pytest.fixture(scope="module")
def survey(small_data):
    s = small_data.survey
    return s[~audit.careless(s, "servqual")]


@pytest.fixture(scope="module")
def survey_explorer(survey):
    return explore.SurveyExplorer(survey, "servqual")


@pytest.fixture(scope="module")
def driver_explorer(survey, small_data):
    return explore.DriverExplorer(survey, "servqual", customers=small_data.customers, n_boot=50)


@pytest.fixture(scope="module")
def churn_explorer(small_dir):
    return explore.ChurnExplorer.from_data(small_dir)


# ---- numbers the explorers add to the library -------------------------------------------------------------
def test_item_means_match_scipy(survey):
    t = gaps.item_means(survey, "servqual", "P")
    x = survey["P05"].dropna()
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    r = t.set_index("item").loc["05"]
    assert r["n"] == len(x)
    assert r["mean"] == pytest.approx(x.mean(), abs=1e-12)
    assert r["sd"] == pytest.approx(x.std(ddof=1), abs=1e-12)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((lo, hi), abs=1e-12)
    assert len(t) == 22 and t["dimension"].iloc[0] == "tangibles"


def test_driver_matrix(survey):
    X = gaps.dimension_scores(survey, "servqual", "P")
    f = X.assign(overall_sat=survey["overall_sat"]).dropna()
    imp = drivers.relative_importance(f, "overall_sat", list(X.columns), methods=("lmg",))
    dm = drivers.driver_matrix(f, imp)
    m = dm.table
    assert m["importance"].sum() == pytest.approx(100, abs=1e-9)
    assert np.allclose(m["performance"], f[list(X.columns)].mean(), atol=1e-12)
    ci, cp = dm.crosshair
    for name, r in m.iterrows():
        expected = gaps.QUADRANTS[(bool(r["importance"] >= ci), bool(r["performance"] >= cp))]
        assert r["quadrant"] == expected
    with pytest.raises(SQMDataError, match="no column for driver"):
        drivers.driver_matrix(f.drop(columns=["empathy"]), imp)


def test_at_threshold_matches_sklearn_and_profit_curve():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 500)
    p = np.clip(0.3 * y + rng.random(500) * 0.7, 0, 1)
    curve = churn.profit_curve(y, p, clv=150, offer_cost=12, contact_cost=2, accept_rate=0.4)
    for t in (0.2, 0.5, 0.81, curve.best_threshold):
        at = churn.at_threshold(y, p, t, clv=150, offer_cost=12, contact_cost=2, accept_rate=0.4)
        tn, fp, fn, tp = confusion_matrix(y, (p >= t).astype(int)).ravel()
        assert (at["tp"], at["fp"], at["fn"], at["tn"]) == (tp, fp, fn, tn)
        assert at["precision"] == pytest.approx(tp / (tp + fp)) and at["recall"] == pytest.approx(tp / (tp + fn))
        row = curve.table[curve.table["threshold"] >= t].iloc[-1]  # the cut point contacting everyone scored >= t
        assert at["profit"] == pytest.approx(row["profit"], abs=1e-9)
        assert at["contacted"] == row["n_contacted"]


@pytest.mark.parametrize("model", ["logit", "gbm"])
def test_score_customers_other_rows(small_data, model):
    from sqmlib import synth

    d = small_data
    snap = pd.Timestamp("2026-04-01")
    train = churn.build_features(d.customers, d.interactions, d.survey, snap, 90)
    now = churn.build_features(d.customers, d.interactions, d.survey, pd.Timestamp("2026-07-01"), 90)
    res = churn.fit_churn_model(train, model=model, seed=0)
    risk = churn.score_customers(res, now, clv=300)
    p = res.pipeline.predict_proba(now[list(res.features)])[:, 1]
    expected = pd.Series(p, index=now["customer_id"].to_numpy())
    got = risk.set_index("customer_id")["probability"]
    assert np.allclose(got, expected.loc[got.index], atol=1e-15)
    assert np.allclose(risk["expected_loss"], 300 * risk["probability"])
    assert risk["probability"].is_monotonic_decreasing and risk["top_reasons"].str.len().gt(0).any()
    with pytest.raises(SQMDataError, match="features the model needs"):
        churn.score_customers(res, now.drop(columns=[res.features[0]]))
    assert synth  # the generator made the data the features come from


def test_offscreen_figures_are_not_tracked_by_pyplot(survey_explorer):
    before = plt.get_fignums()
    v = survey_explorer.view()
    images = [explore_base._svg(draw)[0] for _, draw in v.charts]
    assert plt.get_fignums() == before
    assert all(b"<svg" in b[:500] for b in images) and len(images) == 3
    assert explore_base._svg(v.charts[0][1])[0] == images[0]  # deterministic


# ---- survey explorer ----------------------------------------------------------------------------------------
def test_survey_default_view_is_the_latest_quarter(survey_explorer, survey):
    v = survey_explorer.view()
    assert v.selection["quarter"] == "2026Q3" and v.selection["block"] == "gap"
    q = survey[survey["quarter"] == "2026Q3"]
    ref = gaps.servqual_gaps(q, "servqual", wilcoxon=False)
    ref = ref[ref["level"] == "item"].set_index("name")
    t = v.table.set_index("item")
    assert list(t.index) == list(ref.index)
    assert np.allclose(t["gap"], ref["gap"], atol=1e-12) and np.allclose(t["ci_low"], ref["ci_low"], atol=1e-12)
    zone = gaps.zone_of_tolerance(q, "servqual").set_index("item")
    assert (t["position"] == zone["position"]).all()
    ipa = gaps.ipa(q, "servqual", level="item")
    assert (t["quadrant"] == ipa.table["quadrant"]).all()
    assert f"{len(q):,} respondents" in v.note


def test_survey_segment_and_dimension_follow(survey_explorer, survey):
    v = survey_explorer.view(segment="region", value="North", dimension="empathy", block="P")
    sub = survey[(survey["quarter"] == "2026Q3") & (survey["region"] == "North")]
    assert list(v.table["item"]) == ["18", "19", "20", "21", "22"]
    ref = gaps.item_means(sub, "servqual", "P").set_index("item")
    assert np.allclose(v.table.set_index("item")["P_mean"], ref.loc[["18", "19", "20", "21", "22"], "mean"], atol=1e-12)
    assert "region = North" in v.note and f"{len(sub):,}" in v.note
    # a chart per block: E and P draw means, the gap draws the gap chart
    titles = {b: survey_explorer.view(block=b).figures()[0].axes[0].get_title() for b in ("gap", "P", "E")}
    assert "P − E" in titles["gap"] and "perception" in titles["P"] and "expectation" in titles["E"]
    plt.close("all")


def test_survey_cache_and_keys(survey_explorer):
    a = survey_explorer.statistics("2026Q2", "region", "East")
    assert survey_explorer.statistics("2026Q2", "region", "East") is a
    # every value of a segment is the same rows as no segment: one cache entry and one chart
    v1 = survey_explorer.view(segment="channel", value=ALL)
    v2 = survey_explorer.view(segment=NONE)
    assert [k for k, _ in v1.charts] == [k for k, _ in v2.charts]


def test_survey_bad_selections(survey_explorer):
    with pytest.raises(SQMDataError, match="0 respondent"):
        survey_explorer.view(segment="region", value="Atlantis")
    with pytest.raises(ValueError, match="block"):
        survey_explorer.view(block="X")
    with pytest.raises(SQMArgumentError, match="unknown selection"):
        survey_explorer.view(colour="red")


def test_survey_options(survey_explorer):
    o = survey_explorer.options("region")
    assert o["quarter"][-1] == ALL and "2026Q3" in o["quarter"]
    assert {"region", "channel"} <= set(o["segment"]) and "respondent_id" not in o["segment"]
    assert o["value"] == [ALL, "East", "North", "South", "West"]


def test_survey_widget_updates_without_a_browser(survey_explorer):
    box = survey_explorer.widget(warm=False)
    controls = {c._sqm_name: c for c in box.children[1].children}
    table, status, charts = box.children[4], box.children[2], box.children[3]
    before, img_before = table.value, charts.children[0].value
    controls["segment"].value = "region"
    assert [v for _, v in controls["value"].options] == [ALL, "East", "North", "South", "West"]
    controls["value"].value = "South"
    assert "region = South" in status.value and table.value != before
    assert charts.children[0].value != img_before
    controls["value"].value = "Atlantis" if False else "South"
    controls["quarter"].value = "2025Q4"
    assert "2025Q4" in status.value


def test_warm_fills_the_cache(survey):
    e = explore.SurveyExplorer(survey, "servqual", segments=["channel"])
    jobs = e._likely()
    assert len(jobs) == 3 + 3 + 5 + 4  # channel values, blocks, dimensions, other quarters and all
    e._likely = lambda: jobs[0:2]  # two of the channel values, to keep the test short
    e.warm(background=False)
    n = len(e._cache)
    e.view(segment="channel", value="online")
    assert ("stats", "2026Q3", "channel", "online") in e._cache and len(e._cache) == n
    e.warm().join()  # in a thread: the same
    assert len(e._cache) == n


def test_cache_computes_once_across_threads(survey_explorer):
    import threading

    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return "value"

    threads = [threading.Thread(target=survey_explorer._cached, args=(("test", 1), slow)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1] and survey_explorer._cached(("test", 1), slow) == "value"

    def fails():
        raise SQMDataError("survey", "nothing here")

    for _ in range(2):
        with pytest.raises(SQMDataError):
            survey_explorer._cached(("test", 2), fails)
    assert not survey_explorer._pending


# ---- driver explorer ----------------------------------------------------------------------------------------
def test_driver_view_matches_relative_importance(driver_explorer, survey):
    v = driver_explorer.view(segment="channel", value="online")
    sub = survey[(survey["quarter"] == "2026Q3") & (survey["channel"] == "online")]
    X = gaps.dimension_scores(sub, "servqual", "P")
    f = X.assign(overall_sat=sub["overall_sat"]).dropna()
    imp = drivers.relative_importance(f, "overall_sat", list(X.columns), methods=("lmg",), n_boot=50, seed=0)
    t = v.table.set_index("driver")
    assert np.allclose(t["importance"], drivers.shares(imp).loc[t.index], atol=1e-9)
    assert np.allclose(t["lmg_ci_low"], imp.table.loc[t.index, "lmg_ci_low"], atol=1e-12)
    assert t["importance"].is_monotonic_decreasing
    assert f"{len(f):,} respondents" in v.note and f"{imp.r2:.3f}" in v.note
    assert len(v.figures()) == 2
    plt.close("all")


def test_driver_item_level_and_churn(driver_explorer):
    v = driver_explorer.view(level="item")
    assert len(v.table) == 22 and "text" in v.table and "lmg_ci_low" not in v.table
    assert "churned" in driver_explorer.outcomes
    with pytest.raises(SQMDataError, match="known only for quarters"):
        driver_explorer.view(outcome="churned", quarter="2026Q3")
    q = driver_explorer.churn_quarters[-1]
    v = driver_explorer.view(outcome="churned", quarter=q)
    assert "linear probability model" in v.note


def test_driver_widget_moves_quarter_for_churn(driver_explorer):
    box = driver_explorer.widget(warm=False)
    controls = {c._sqm_name: c for c in box.children[1].children}
    controls["outcome"].value = "churned"
    assert controls["quarter"].value == driver_explorer.churn_quarters[-1]
    assert "churned" in box.children[2].value


# ---- churn explorer -----------------------------------------------------------------------------------------
def test_churn_view_follows_the_threshold(churn_explorer):
    e = churn_explorer
    d = e.defaults()
    assert d["threshold"] == pytest.approx(min(e.best(d["clv"], d["offer_cost"])["best_threshold"], 1), abs=5e-4)
    lo, hi = e.view(threshold=0.05), e.view(threshold=0.5)
    for v in (lo, hi):
        assert v.table[["churned", "stayed"]].to_numpy().sum() == len(e.y)
        contacts = v.extra["contact list"]
        assert (contacts["probability"] >= v.selection["threshold"]).all()
        # each customer's own value (the small sample has orders): expected loss = probability × that value
        assert np.allclose(contacts["expected_loss"], contacts["probability"] * contacts["clv"])
        own = e.scored.set_index("customer_id")["clv"]
        np.testing.assert_allclose(contacts["clv"], own.loc[contacts["customer_id"]].to_numpy(), rtol=1e-12)
    assert e.per_customer and d["clv"] == pytest.approx(e.values.mean(), rel=1e-12)
    assert len(lo.extra["contact list"]) > len(hi.extra["contact list"])
    assert lo.table.loc[0, "churned"] >= hi.table.loc[0, "churned"]
    richer = e.view(threshold=0.05, clv=1000)
    assert richer.extra["summary"]["value"].iloc[4] != lo.extra["summary"]["value"].iloc[4]
    # the amount is the mean value: every customer's value scaled by amount ÷ mean, and the profit with them
    scale = 1000 / d["clv"]
    np.testing.assert_allclose(richer.extra["contact list"]["clv"], lo.extra["contact list"]["clv"] * scale,
                               rtol=1e-12)
    at = churn.at_threshold(e.y, e.p, 0.05, clv=e.values * scale, offer_cost=d["offer_cost"],
                            contact_cost=e.contact_cost, accept_rate=e.accept_rate)
    assert richer.extra["summary"]["value"].iloc[4] == formats.money(at["profit"])
    with pytest.raises(ValueError, match="threshold"):
        e.view(threshold=1.5)


def test_churn_widget_best_button(churn_explorer):
    box = churn_explorer.widget(warm=False)
    controls = box.children[1].children
    slider, button = controls[0], controls[-1]
    slider.value = 0.9
    assert "≥ 0.900" in box.children[2].value
    button.click()
    assert slider.value == pytest.approx(churn_explorer.defaults()["threshold"])


def test_static_show_draws_the_default_view(survey_explorer, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs: shown.extend(objs))
    monkeypatch.setattr(show, "display", lambda *objs: shown.extend(objs))
    before = plt.get_fignums()
    survey_explorer.show(live=False)
    assert "Survey explorer" in shown[0].data and "default view" in shown[0].data
    charts = [o.data for o in shown if hasattr(o, "data") and o.data.startswith("<img")]
    assert len(charts) == 3 and all(' alt="Chart: ' in c for c in charts)  # each chart named for screen readers
    assert "<table" in shown[4].data
    assert plt.get_fignums() == before
    survey_explorer.show(live=True, warm=False)
    assert type(shown[-1]).__name__ == "VBox"


def test_explorers_on_a_data_folder(small_dir):
    ex = explore.explorers(small_dir)
    assert set(ex) == {"survey", "drivers", "churn", "chain", "mystery", "pdca", "value", "feedback"}
    tabs = explore.app(small_dir, warm=False)
    assert [tabs.get_title(i) for i in range(8)] == ["Survey explorer", "Driver explorer", "Churn explorer",
                                                     "Service-profit chain", "Mystery shopping", "Where did it move?",
                                                     "Customer value", "Customer feedback"]


def test_the_mystery_explorer_follows_the_page(small_dir):
    """Its league for every store of the report quarter is the page's (the same ranks and groups); a store's
    view lists its visits; the store follows the region; selections are checked."""
    from sqmlib import io, mystery

    folder = io.load_folder(small_dir)
    ex = explore.MysteryExplorer(folder, n_boot=300)
    page = mystery.run_mystery(folder, n_boot=300)
    v = ex.view()
    assert v.table.set_index("store")["score"].to_dict() == pytest.approx(page.league["score"].to_dict(), abs=1e-12)
    assert v.table.set_index("store")["group"].to_dict() == page.league["group"].to_dict()
    store = page.league.index[0]
    region = page.league.loc[store, "region"]
    part = ex.view(region=region).table.set_index("store")
    assert part["group"].to_dict() == page.league.loc[part.index, "group"].to_dict()  # ranked against the chain
    one = ex.view(region=region, store=store)
    assert len(one.table) == page.league.loc[store, "visits"] and store in one.note
    other = next(r for r in ex.regions if r != region)
    assert ex.adjust({"region": other, "store": store})["store"] == explore.ALL
    with pytest.raises(SQMArgumentError):
        ex.adjust({"quarter": "1999Q1"})


def test_the_pdca_explorer_follows_the_page():
    """Its default view (complaints, the last two quarters, every column) ranks the explanations as the PDCA page
    does; one column drills into that column alone; the FCR decomposition adds up; in Chinese the note and the
    controls read in Chinese; two equal quarters are refused."""
    from sqmlib import io, pdca
    from sqmlib.explore.serve import App

    folder = io.load_folder(ROOT / "data" / "sample", tables=["survey", "interactions", "standards", "actions"])
    ex = explore.PDCAExplorer(folder)
    page = pdca.run_pdca(folder)
    v = ex.view()
    cols = ["power", "before", "after"]
    pd.testing.assert_frame_equal(v.table[cols].reset_index(drop=True),
                                  page.explanations[cols].reset_index(drop=True), check_dtype=False)
    assert v.table.loc[0, "segments"] == "South, phone" and "South, phone" in v.note
    one = ex.view(dims="channel")
    assert set(one.table["dims"]) == {"channel"} and v.table.loc[0, "dims"] == "region × channel"
    mix = one.extra["First-contact resolution: mix and rate"]
    assert (mix["mix"] + mix["rate"] - mix["change"]).abs().max() < 1e-15
    with pytest.raises(SQMArgumentError):
        ex.view(before="2026Q3", after="2026Q3")
    app = App({"pdca": ex}, lang="zh")
    shown = app.view("pdca", {"kpi": "unresolved_complaints"})
    assert shown["status"] and "南区" in shown["note"] and not labels.english_words(shown["note"], ["Q2", "Q3"])
    captions = [c["label"] for c in shown["controls"].values()]
    assert captions == ["指标", "起始季度", "对比季度", "细分维度"]
    assert all(not labels.english_words(o["label"]) for o in shown["controls"]["kpi"]["options"])


def test_cli_explore_refuses_remote_and_missing_data(tmp_path, capsys):
    from sqmlib import cli

    assert cli.main(["explore", "--host", "0.0.0.0"]) == 1
    assert "--allow-remote" in capsys.readouterr().err
    assert cli.main(["explore", "--data", str(tmp_path / "nowhere")]) == 1
    assert "data folder not found" in capsys.readouterr().err


def test_chain_explorer_widget(small_dir):
    from sqmlib import io, sem

    folder = io.load_folder(small_dir)
    e = explore.ChainExplorer.from_folder(folder)
    box = e.widget(warm=False)
    controls = box.children[1].children
    assert [c.value for c in controls] == ["2026Q3", "Loyalty", "(none)", "(all)"]
    controls[2].value = "region"
    controls[3].value = "South"
    assert "Loyalty index" in box.children[2].value
    # the view's model is sem.pls on the same respondents
    sub = folder.without_careless().survey_of("2026Q3")
    sub = sub[sub["region"] == "South"]
    cons, edges, scales, _ = sem.chain_spec(folder.instrument, sub.columns)
    direct = sem.satisfaction_index(sem.pls(sub, cons, edges), scales)
    t = e.view(segment="region", value="South").table.set_index("construct")
    assert t["index_0_100"].to_dict() == pytest.approx(direct.to_dict(), abs=1e-12)


def test_churn_explorer_contacts_the_reports_customers(small_dir):
    """The explorer's default view is the report's: the same profit-maximising threshold (unrounded), the same
    customers to contact, and the profit at that threshold is the best profit."""
    from sqmlib import io

    folder = io.load_folder(small_dir)
    m = churn.run_churn(folder).metrics()
    e = explore.ChurnExplorer.from_folder(folder)
    v = e.view()
    assert e.defaults()["threshold"] == pytest.approx(m.best_threshold, abs=1e-12)
    assert len(v.extra["contact list"]) == m.to_contact
    assert f"{m.to_contact:,} of the" in v.note
    summary = v.extra["summary"].set_index("measure")["value"]
    assert summary.iloc[4] == summary.iloc[6]  # profit at this threshold = profit at the best one


def test_served_app_speaks_chinese_and_english(small_dir):
    """One app answers each page and view in the language it is asked for: captions, choices, tables, status
    lines and charts in Chinese (no English word left on a chart), and in English for the next request."""
    from sqmlib import labels, serve
    from sqmlib.explore.base import _svg

    app = serve.App(explore.explorers(small_dir), lang="zh")
    page = app.page("data/sample")
    assert 'lang="zh-CN"' in page and "调查探索" in page and "流失探索" in page and ">English</a>" in page
    assert "computing…" not in page and "计算中" in page
    for name in app.explorers:
        v = app.view(name, {})
        assert "用时" in v["status"] and v["charts"], name
        for c in v["controls"].values():
            assert labels.english_words(c["label"]) == [], c["label"]
            for o in c.get("options", []):
                if o["value"] in (ALL, NONE, "gap", "P", "E", "overall_sat", "dimension", "item", "Satisfaction"):
                    assert labels.english_words(o["label"], allowed=("P", "E")) == [], o
        assert all(alt.startswith("图表") for alt in v["alts"]), v["alts"]
        with labels.language("zh"):
            for _, draw in app.explorers[name].view().charts:
                fig = labels.figure(draw())
                assert labels.untranslated(fig) == [], (name, labels.untranslated(fig))
                plt.close(fig)
    churn_view = app.view("churn", {})
    assert "目前在网" in churn_view["status"] and "现在应联系的顾客" in churn_view["extra"]
    assert "会被联系" in churn_view["table"]
    en = app.view("survey", {}, lang="en")
    assert "respondents" in en["status"] and "Quarter" == en["controls"]["quarter"]["label"]
    assert app.page("x", "en").count("Survey explorer") == 2
    # a Chinese chart carries its text as outlines (an <img> cannot use the page's font); English as text
    with labels.language("zh"):
        svg_zh = _svg(app.explorers["survey"].view().charts[0][1])[0]
    svg_en = _svg(app.explorers["survey"].view().charts[0][1])[0]
    assert b"<text" not in svg_zh and b"<text" in svg_en


def test_churn_amounts_are_checked(churn_explorer):
    """Non-finite, absurd or non-numeric amounts and thresholds are an argument error with a sentence (the served
    app answers 400), never an overflow or a NaN key in the cache."""
    for bad in ({"clv": "nan"}, {"clv": float("inf")}, {"clv": 1e308}, {"clv": 0}, {"offer_cost": -1},
                {"threshold": "nan"}, {"threshold": 1.5}, {"clv": "abc"}):
        with pytest.raises(SQMArgumentError, match="must"):
            churn_explorer.adjust(bad)
        with pytest.raises(SQMArgumentError, match="must"):
            churn_explorer.view(**bad)
    with pytest.raises(SQMArgumentError, match="finite"):
        churn_explorer.best_threshold(float("nan"), 10.0)


def test_cache_is_bounded_least_recently_used_first(churn_explorer):
    """The view cache keeps to its byte budget: the least recently used results go first, a result in use stays."""
    e = explore.ChurnExplorer(churn_explorer.y, churn_explorer.p, churn_explorer.scored)
    e.cache_bytes = 2 ** 20
    first = e.view(threshold=0.2)
    e.image(*first.charts[0])
    for k, t in enumerate(np.linspace(0.05, 0.95, 12)):
        v = e.view(threshold=float(t), clv=200.0 + k)  # a new profit curve and chart each time
        e.image(*v.charts[0])
        e.view(threshold=0.2)  # used again and again: kept
    assert e._cache_total == sum(e._sizes.values()) <= e.cache_bytes
    assert len(e._cache) < 2 * 13 and ("curve", 200.0, 10.0) in e._cache
    assert explore_base._approx_size(b"x" * 1000) >= 1000


def test_cli_explore_refuses_short_tokens_and_bad_ports(capsys):
    """`--token a` and `--port 99999` are refused in one line each; `--allow-remote` warns that the traffic is
    plain HTTP (here before a port already in use stops it)."""
    import socket

    from sqmlib import cli

    assert cli.main(["explore", "--token", "short"]) == 1
    err = capsys.readouterr().err
    assert "at least 16 characters" in err and len(err.strip().splitlines()) == 1
    assert cli.main(["explore", "--port", "99999"]) == 1
    assert "1 to 65535" in capsys.readouterr().err
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert cli.main(["explore", "--allow-remote", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert "plain HTTP" in err and "in use" in err
