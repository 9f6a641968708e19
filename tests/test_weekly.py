"""The weekly improvement page: ISO weeks against the standard library, the default week, the sample's planted
issue as of a week's end with its weekly counts recounted from the aspect reader, the link to PDCA actions (by
aspect and by the unit or its region), drafted register rows that load as an action register, bad weeks as one
line, and the weekly report built through ``sqm report --period week`` with papermill."""
import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from sqmlib import SQMArgumentError, cli, io, voc
from sqmlib.io.actions import load_actions
from sqmlib.periods import quarter_of_week, week_bounds, week_of

from conftest import ROOT

SAMPLE = ROOT / "data" / "sample"


def test_iso_weeks_equal_the_standard_library():
    day = dt.date(2019, 12, 20)
    for _ in range(2 * 366 + 30):  # two years and the turns of the year (weeks 52, 53 and 1)
        y, w, _ = day.isocalendar()
        week = f"{y:04d}-W{w:02d}"
        assert week_of(pd.Timestamp(day) + pd.Timedelta(hours=23)) == week
        start, end = week_bounds(week)
        assert start.date() == day - dt.timedelta(days=day.weekday()) and end - start == pd.Timedelta(days=7)
        sunday = start + pd.Timedelta(days=6)
        assert quarter_of_week(week) == f"{sunday.year}Q{(sunday.month - 1) // 3 + 1}"
        day += dt.timedelta(days=1)
    for bad in ("2026-W54", "2025-W53", "2026W10", "2026-W1", "", "2026Q3"):
        with pytest.raises(SQMArgumentError, match="2026-W39"):
            week_bounds(bad)
    assert week_bounds("2020-W53")[0] == pd.Timestamp("2020-12-28")  # 2020 has 53 ISO weeks


def test_the_default_week_is_the_last_complete_one():
    d = lambda *days: pd.Series([pd.Timestamp(x) for x in days])  # noqa: E731
    assert voc.default_week(d("2026-06-01", "2026-09-30 23:00")) == "2026-W39"  # ends on a Wednesday: the week before
    assert voc.default_week(d("2026-06-01", "2026-09-27 18:00")) == "2026-W39"  # ends on the Sunday: that week
    assert voc.default_week(d("2026-06-01", "2026-09-28 08:00")) == "2026-W39"  # a Monday morning's export
    assert voc.default_week(d("2026-09-29", "2026-09-30")) == "2026-W40"  # no complete week: the only one


@pytest.fixture(scope="module")
def folder():
    return io.load_folder(SAMPLE, tables=["feedback", "actions"])


@pytest.fixture(scope="module")
def weekly(folder):
    return voc.run_weekly(folder)


def test_the_planted_issue_heads_the_week_with_its_weekly_counts(weekly, folder):
    truth = json.loads((SAMPLE / "truth.json").read_text())["voice_of_customer"]["issue"]
    assert weekly.week == "2026-W39" and weekly.complete()
    issues = weekly.issues()
    top = issues.iloc[0]
    assert (top["store"], top["aspect"]) == (truth["store"], truth["aspect"])
    # recounted from the aspect reader on the store's feedback of each week
    fb = folder.feedback

    def negatives(start, days=7):
        part = fb[(fb["store"] == truth["store"]) & (fb["created_at"] >= start)
                  & (fb["created_at"] < start + pd.Timedelta(days=days))]
        a = voc.aspects(part["text"], ids=part["feedback_id"])
        return int(((a["aspect"] == truth["aspect"]) & (a["polarity"] < 0)).sum())

    monday = pd.Timestamp("2026-09-21")
    assert top["this_week"] == negatives(monday) and top["last_week"] == negatives(monday - pd.Timedelta(weeks=1))
    assert top["recent_negative"] == negatives(monday - pd.Timedelta(weeks=3), days=28)
    # the week's own table: every aspect's negative mentions this week, all stores
    part = fb[(fb["created_at"] >= monday) & (fb["created_at"] < monday + pd.Timedelta(days=7))]
    a = voc.aspects(part["text"], ids=part["feedback_id"])
    expected = a[a["polarity"] < 0].groupby("aspect").size()
    got = weekly.aspect_week()["this_week"]
    assert got[got > 0].sort_index().to_dict() == expected.sort_index().to_dict()
    m = weekly.metrics()
    assert m.feedback == len(part) and m.negative_mentions == int(expected.sum())
    assert (m.start, m.end, m.data_end) == ("2026-09-21", "2026-09-27", "2026-09-27")
    # nothing after the week's end is read
    assert weekly.voc.feedback["created_at"].max() < pd.Timestamp("2026-09-28")
    quotes = weekly.voc.quotes(top["store"], top["aspect"])
    assert len(quotes) == 3 and all("[phone]" in q or not any(c.isdigit() for c in q[-12:]) for q in quotes)


def test_an_issue_without_an_action_gets_a_draft_row_that_loads(weekly, tmp_path):
    m = weekly.metrics()
    assert m.issues[0]["actions"] == [] and m.without_action == len(m.issues) >= 1
    assert "Sun Li" in m.issues[0]["owner"]
    files = weekly.write_files(tmp_path)
    assert {f.name for f in files} == {"weekly_issues.xlsx", "draft_actions.csv"}
    drafts = load_actions(tmp_path / "draft_actions.csv")
    assert len(drafts) == len(m.issues) and (drafts["status"] == "planned").all()
    assert (drafts["aspect"] == "waiting").iloc[0] and drafts["start"].iloc[0] == pd.Timestamp("2026-09-28")
    assert "draft_actions.csv" in m.findings[-1]


def _register(folder, rows):
    base = {"kpi": "complaints", "owner": "Owner", "start": pd.Timestamp("2026-09-14"), "direction": "down",
            "status": "doing"}
    extra = pd.DataFrame([{**base, **r} for r in rows])
    actions = pd.concat([folder.actions.assign(aspect=np.nan), extra], ignore_index=True)
    import dataclasses

    return dataclasses.replace(folder, actions=actions)


def test_issues_link_to_the_actions_answering_them(folder):
    f = _register(folder, [
        {"action_id": "Q1", "title": "Queue tickets at S2", "scope_column": "store", "scope_values": "S2;S3",
         "aspect": "Waiting"},
        {"action_id": "Q0", "title": "An older try", "scope_column": "store", "scope_values": "S2",
         "aspect": "waiting", "status": "dropped", "start": pd.Timestamp("2026-08-03")},
        {"action_id": "Q2", "title": "South region staffing", "scope_column": "region", "scope_values": "South",
         "aspect": "waiting", "start": pd.Timestamp("2026-09-21")},
        {"action_id": "Q3", "title": "Other aspect", "scope_column": "store", "scope_values": "S2",
         "aspect": "price_billing"},
        {"action_id": "Q4", "title": "Other store", "scope_column": "store", "scope_values": "S3",
         "aspect": "waiting"},
    ])
    r = voc.run_weekly(f, reports_dir="")
    assert r.regions["S2"] == "South"
    linked = r.linked("S2", "waiting")
    assert linked["action_id"].tolist() == ["Q1", "Q2", "Q0"]  # by start, dropped last
    m = r.metrics()
    assert m.issues[0]["actions"] == ["Q1", "Q2", "Q0"] and m.without_action == 0 and r.drafts().empty
    text = " ".join(b.content for b in r.sections()["issues"] if b.kind == "text")
    assert "Q1 “Queue tickets at S2” — Owner, doing since 2026-09-14." in text
    assert "Every rising issue has an action" in r.findings()[-1]


def test_the_quarters_pdca_page_is_linked_when_built(folder, tmp_path):
    assert voc.run_weekly(folder, reports_dir=str(tmp_path)).pdca_page == ""
    (tmp_path / "2026Q3").mkdir()
    (tmp_path / "2026Q3" / "08_pdca.html").write_text("<html></html>")
    r = voc.run_weekly(folder, reports_dir=str(tmp_path))
    assert r.pdca_page == "../2026Q3/08_pdca.html"
    assert any("../2026Q3/08_pdca.html" in b.content for b in r.sections()["issues"] if b.kind == "text")


def test_other_weeks_and_bad_weeks(folder):
    r = voc.run_weekly(folder, week="2026-W40")  # the data's last, incomplete week
    assert not r.complete() and r.metrics().data_end == "2026-09-30"
    assert any("not complete" in b.content for b in r.sections()["week"] if b.kind == "text")
    quiet = voc.run_weekly(folder, week="2026-W20", min_count=50)
    assert quiet.issues().empty and "No aspect" in quiet.findings()[0] and quiet.drafts().empty
    with pytest.raises(SQMArgumentError, match="no feedback in week 2020-W01: the feedback runs from 2026-W14"):
        voc.run_weekly(folder, week="2020-W01")
    with pytest.raises(SQMArgumentError, match="must look like"):
        voc.run_weekly(folder, week="2026-09-21")
    none = voc.run_weekly(io.load_folder(SAMPLE, tables=["customers"]))
    assert none.unavailable and "feedback.csv" in none.reason


def test_bad_weekly_requests_are_one_line(tmp_path, capsys):
    for args, said in ((["--week", "2020-W01"], "no feedback in week 2020-W01"),
                       (["--period", "week", "--week", "2026-W99"], "week must look like 2026-W39"),
                       (["--period", "week", "--quarter", "2026Q3"], "takes a week"),
                       (["--period", "quarter", "--week", "2026-W39"], "add --period week")):
        assert cli.main(["report", *args, "--out", str(tmp_path), "--no-progress", "--no-pdf"]) == 1
        err = capsys.readouterr().err.strip()
        assert said in err and len(err.splitlines()) == 1, err
    assert not any(tmp_path.iterdir())


def test_the_weekly_report_is_built_through_the_cli(tmp_path):
    (tmp_path / "2026Q3").mkdir()
    (tmp_path / "2026Q3" / "08_pdca.html").write_text("<html></html>")  # the quarter's PDCA page, already built
    assert cli.main(["report", "--period", "week", "--out", str(tmp_path), "--no-progress", "--no-pdf"]) == 0
    out = tmp_path / "2026-W39"
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["week"] == "2026-W39" and prov["notebooks"] == ["weekly_improvement.ipynb"]
    metrics = json.loads((out / "weekly_improvement" / "metrics.json").read_text())["metrics"]
    assert metrics["issues"][0]["unit"] == "S2" and metrics["without_action"] == 1
    page = (out / "weekly_improvement.html").read_text(encoding="utf-8")
    assert 'href="../2026Q3/08_pdca.html"' in page and "Fewer complaints about waiting at S2" in page
    assert "Weekly improvement report — 2026-W39" in (out / "index.html").read_text(encoding="utf-8")
    assert (out / "weekly_improvement" / "draft_actions.csv").exists()
    # a finished report is not replaced by accident; with --force it is, here by one that also reads the tickets
    args = ["report", "--week", "2026-W39", "--out", str(tmp_path), "--no-progress", "--no-pdf"]
    assert cli.main(args) == 1
    assert cli.main([*args, "--tickets", "--force"]) == 0
    prov = json.loads((out / "provenance.json").read_text())
    after = json.loads((out / "weekly_improvement" / "metrics.json").read_text())["metrics"]
    tickets = io.load_folder(SAMPLE, tables=["interactions"]).interactions
    monday = pd.Timestamp("2026-09-21")
    in_week = ((tickets["opened_at"] >= monday) & (tickets["opened_at"] < monday + pd.Timedelta(days=7))
               & tickets["text"].notna()).sum()
    assert prov["parameters"]["tickets"] is True and after["feedback"] == metrics["feedback"] + in_week



def test_a_folder_with_feedback_alone_gets_its_weekly_report(tmp_path):
    """No survey, no actions, no store: the week is found from the feedback, issues per region, no link, no
    drafts without issues."""
    from sqmlib.instruments import load as load_instrument
    from sqmlib.runner.build import report_week

    fb = pd.read_csv(SAMPLE / "feedback.csv").drop(columns=["store"])
    fb.to_csv(tmp_path / "feedback.csv", index=False)
    assert report_week(tmp_path, load_instrument("servqual"), "") == "2026-W39"
    assert report_week(tmp_path, load_instrument("servqual"), "2026-W20") == "2026-W20"
    folder = io.load_folder(tmp_path, tables=["feedback", "survey", "actions"])
    r = voc.run_weekly(folder)
    assert r.voc.unit == "region" and r.actions is None and r.pdca_page == ""
    assert r.metrics().feedback == int(((pd.to_datetime(fb["created_at"]) >= "2026-09-21")
                                        & (pd.to_datetime(fb["created_at"]) < "2026-09-28")).sum())
    assert r.linked("East", "waiting").empty and len(r.drafts()) == len(r.issues())
