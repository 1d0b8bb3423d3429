"""The shell's side of issue 21: `deal set`, `deal nps`, `deal lost --competitor`, the forecast
and lessons in `kpi`, and `review` with its commitments."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from tests.cli.test_cli import desk_digest
from tests.shell import ok, refused

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def desk(home: Path) -> Path:
    ok("deal", "add", "Fleet rollout", "--company", "Acme", "--value", "45,000", "--stage",
       "Proposal", "--expected-close", "2026-11-28", "--first-contact", "2026-10-01")  # fmt: skip
    ok("deal", "add", "Seats renewal", "--company", "Nordwind", "--value", "12k",
       "--stage", "Negotiation", "--expected-close", "2026-11-25",
       "--first-contact", "2026-09-01")  # fmt: skip
    ok(
        "deal",
        "add",
        "Pilot",
        "--company",
        "Müller",
        "--value",
        "3k",
        "--first-contact",
        "2026-10-01",
    )
    ok("quota", "set", "2026-11", "60000")
    return home


def test_the_rep_sets_a_forecast_call_and_a_probability_and_kpi_adds_them_up(desk: Path) -> None:
    data = json.loads(ok("kpi", "--json"))
    assert (data["commit"], data["best_case"], data["pipeline"]) == (12_000, 45_000, 0)
    out = ok("deal", "set", "acme", "--forecast", "Commit", "--probability", "80")
    assert "forecast commit (your call), probability 80% (its own)" in out
    data = json.loads(ok("kpi", "--json"))
    assert (data["commit"], data["best_case"]) == (57_000, 0)
    assert data["weighted_pipeline"] == 36_000 + 8_400  # 45,000 x 80% + 12,000 x 70%
    assert data["won_and_commit"] == 57_000 and data["commit_attainment"] == 0.95
    text = ok("kpi")
    assert "Commit:            €57,000" in text
    assert "Won + commit:      €57,000 (95% of quota)" in text
    shown = ok("deal", "show", "acme")
    assert "forecast:       commit (your call)" in shown
    assert "probability:    80% (its own)" in shown
    ok("deal", "set", "acme", "--forecast", "auto", "--probability", "stage")
    assert json.loads(ok("kpi", "--json"))["best_case"] == 45_000
    assert "55% (Proposal's)" in ok("deal", "show", "acme")


def test_bad_forecast_input_is_one_line_and_changes_nothing(desk: Path) -> None:
    before = desk_digest(desk)
    assert "forecast: 'upside' is not valid: commit, best case" in refused(
        "deal", "set", "acme", "--forecast", "upside"
    )
    assert "probability: '150' is not valid" in refused(
        "deal", "set", "acme", "--probability", "150"
    )
    needs = "needs --forecast, --probability, --competitor, --expected-close or --first-contact"
    assert needs in refused("deal", "set", "acme")
    assert "score: '11' is not valid: a whole number" in refused("deal", "nps", "acme", "11")
    assert "is open: a score is a won customer's answer" in refused("deal", "nps", "acme", "9")
    assert "--week: 'W48' is not a week" in refused("review", "--week", "W48")
    assert "commitment id: 'x' is not valid" in refused("review", "kept", "x")
    ok("deal", "won", "nordwind", "--on", "2026-11-10")
    assert "is won: a forecast category is for open deals" in refused(
        "deal", "set", "nordwind", "--forecast", "commit"
    )
    ok("deal", "reopen", "nordwind")
    assert "a week to come has no review yet" in refused("review", "--week", "next")
    assert "that week is over" in refused("review", "commit", "acme", "x", "--week", "last")
    assert desk_digest(desk) != before  # the win and the reopen; the refusals wrote nothing
    after = desk_digest(desk)
    refused("deal", "set", "acme", "--forecast", "upside")
    refused("review", "commit", "acme", "  ")
    assert desk_digest(desk) == after


def test_a_close_date_that_moves_later_shows_as_a_slip(desk: Path) -> None:
    from repdesk.services import deals
    from repdesk.storage.store import make_engine, write_session

    engine = make_engine(desk / "desk.sqlite")
    from datetime import date

    with write_session(engine) as session:
        deals.edit_deal(session=session, deal_id=1, expected_close=date(2026, 12, 10))
        deals.edit_deal(session=session, deal_id=1, expected_close=date(2026, 12, 31))
    engine.dispose()
    assert "slipped:        2 times, by 33 days" in ok("deal", "show", "1")
    assert json.loads(ok("deal", "show", "1", "--json"))["close_date_slips"] == 2
    assert "slipped:        never" in ok("deal", "show", "2")


def test_lost_deals_and_customer_scores_in_kpi(desk: Path) -> None:
    ok("deal", "lost", "acme", "--reason", "chose competitor", "--competitor", "FleetOne",
       "--on", "2026-11-12")  # fmt: skip
    out = ok("deal", "lost", "pilot", "--reason", "price", "--on", "2026-11-13")
    assert "Lost #3 Pilot (Müller)" in out
    ok("deal", "won", "nordwind", "--on", "2026-11-10")
    assert "9 on 2026-11-20" in ok("deal", "nps", "nordwind", "9")
    data = json.loads(ok("kpi", "--json"))
    assert data["lost_by_reason"] == [
        {"reason": "chose competitor", "count": 1, "value": 45_000},
        {"reason": "price", "count": 1, "value": 3_000},
    ]
    assert data["lost_by_competitor"] == [{"competitor": "FleetOne", "count": 1, "value": 45_000}]
    assert data["nps"] == {"score": 100.0, "answered": 1, "promoters": 1, "passives": 0,
                           "detractors": 0}  # fmt: skip
    text = ok("kpi")
    assert "Lost by reason:    chose competitor 1 deal €45,000 · price 1 deal €3,000" in text
    assert "Lost to:           FleetOne 1 deal €45,000" in text
    assert "NPS:               +100 (1 won customer answered)" in text
    assert "NPS:            9 (2026-11-20)" in ok("deal", "show", "nordwind")
    assert "Cleared the score" in ok("deal", "nps", "nordwind", "none")


def test_a_long_lost_reason_is_refused_when_typed_and_cut_where_shown(desk: Path) -> None:
    """A 5,000-character reason flooded the KPI pane and `kpi` (found by an audit): typed, a
    reason is at most 200 characters; one from a CRM stays whole in --json and is cut on a
    line."""
    assert "a reason of at most 200 characters" in refused(
        "deal", "lost", "acme", "--reason", "x" * 201
    )
    ok("deal", "lost", "acme", "--reason", "y" * 200, "--on", "2026-11-12")
    text = ok("kpi")
    assert "Lost by reason:    " + "y" * 39 + "… 1 deal €45,000" in text
    assert json.loads(ok("kpi", "--json"))["lost_by_reason"][0]["reason"] == "y" * 200


def test_the_weekly_review_from_the_shell(desk: Path) -> None:
    ok("deal", "move", "acme", "Negotiation")
    ok("deal", "won", "nordwind")
    out = ok("review")
    # The commitments first, as on the screen and in the README (they came last: a new-user
    # trial), then what changed.
    assert out.startswith(
        "Week 2026-W47 (Mon 16 Nov to Sun 22 Nov 2026), so far\n"
        "Commitments for 2026-W47: none (`repdesk review commit DEAL TEXT`)\nNew deals (3)\n"
    )
    assert "New deals (3)" in out
    assert "  #1 Fleet rollout (Acme) · €45,000: Proposal → Negotiation" in out
    assert "Won (1): €12,000" in out
    assert "  #1 Fleet rollout (Acme) · €45,000: best case → commit" in out
    assert "Commitments for 2026-W47: none" in out
    made = ok("review", "commit", "acme", "Signed order form back")
    assert made.startswith("Commitment [1] for 2026-W47: #1 Fleet rollout: Signed order")
    assert "[1] ? open · #1 Fleet rollout: Signed order form back" in ok("review")
    assert "kept: Signed order form back" in ok("review", "kept", "1")
    data = json.loads(ok("review", "--json"))
    assert data["commitments"][0]["outcome"] == "kept"
    assert [d["title"] for d in data["won"]] == ["Seats renewal"]
    assert data["won_value"] == 12_000 and data["frozen_at"] is None
    assert "Dropped commitment [1]" in ok("review", "drop", "1")


def test_a_v5_desk_reads_its_kept_review_and_histories(home: Path) -> None:
    home.mkdir(parents=True)
    shutil.copy(FIXTURES / "desk-v5.sqlite", home / "desk.sqlite")
    out = ok("review", "--week", "2026-W46")
    assert "as it ended (kept 2026-11-16 08:00)" in out
    assert "#1 Fleet tracking rollout (Acme Logistics) · €45,000: 2026-11-30 → 2026-12-15" in out
    assert "[1] ✗ missed · #1 Fleet tracking rollout: Signature [b]back[/b]" in out
    shown = ok("deal", "show", "1")
    assert (
        "forecast:       commit (your call)" in shown
        and "slipped:        once, by 15 days" in shown
    )
    assert "competitor:     Webfleet" in shown


def test_the_csv_export_carries_the_reps_forecast_fields_and_an_import_takes_them(
    desk: Path, tmp_path: Path
) -> None:
    ok("deal", "set", "acme", "--forecast", "commit", "--probability", "80", "--competitor", "Zen")
    ok("deal", "won", "nordwind", "--on", "2026-11-10")
    ok("deal", "nps", "nordwind", "9", "--on", "2026-11-12")
    exported = tmp_path / "deals.csv"
    ok("export", "csv", exported)
    header, acme = exported.read_text(encoding="utf-8").splitlines()[:2]
    assert header.endswith(",forecast,own_probability,competitor,nps,nps_on")
    assert acme.endswith(",commit,80,Zen,,")

    fresh = tmp_path / "fresh"
    ok("--home", fresh, "import", exported)
    fields = ("forecast_call", "own_probability", "competitor", "nps", "nps_on")
    for deal in ("acme", "nordwind"):
        theirs = json.loads(ok("--home", fresh, "deal", "show", deal, "--json"))
        ours = json.loads(ok("deal", "show", deal, "--json"))
        assert {f: theirs[f] for f in fields} == {f: ours[f] for f in fields}, deal
    # Read again with the call changed: the deal follows, and its history keeps the change.
    exported.write_text(
        exported.read_text(encoding="utf-8").replace(",commit,80,Zen,", ",best case,80,Zen,"),
        encoding="utf-8",
    )
    assert "0 created, 1 updated" in ok("import", exported)
    assert json.loads(ok("deal", "show", "acme", "--json"))["forecast"] == "best_case"
    bad = tmp_path / "bad.csv"
    bad.write_text(
        exported.read_text(encoding="utf-8").replace(",best case,80,Zen,", ",upside,80,Zen,"),
        encoding="utf-8",
    )
    assert "commit, best case, pipeline, omitted" in refused("import", bad)


def test_a_refused_value_of_ten_thousand_characters_is_quoted_short() -> None:
    # The refusal echoed the whole value: one "line" of 10,000 characters.
    ok("deal", "add", "Fleet")
    typed = "n" * 10_000
    for command in (
        ("deal", "set", "1", "--competitor", typed),
        ("deal", "nps", "1", typed),
        ("contact", "add", "Ana", "--email", typed),
    ):
        said = refused(*command)
        assert len(said) < 200 and f"'{'n' * 40}…' is not valid" in said


def test_the_review_of_a_week_across_new_year_names_both_years() -> None:
    # It said "(Mon 29 Dec to Sun 04 Jan 2026)": 29 December of which year?
    out = ok("review", "--week", "2026-W01")
    assert out.startswith("Week 2026-W01 (Mon 29 Dec 2025 to Sun 04 Jan 2026), as it ended")


def test_deals_an_import_brings_in_are_counted_not_listed_as_new(
    home: Path, tmp_path: Path
) -> None:
    """A new user's trial: 50 imported deals, won in 2023 among them, were this week's "New
    deals" and hid the week's real news."""
    export = tmp_path / "Opportunity.csv"
    export.write_text(
        "Id,Name,StageName,Amount,CloseDate,IsClosed,IsWon,CreatedDate\n"
        "0061,Old win,Closed Won,100,2023-03-01,1,1,2023-01-02\n"
        "0062,Old open,Prospecting,100,2026-12-20,0,0,2024-01-02\n"
        "0063,Fresh,Prospecting,100,2026-12-20,0,0,2026-11-17\n",
        encoding="utf-8",
    )
    ok("import", export)
    ok("deal", "add", "Typed in", "--value", "5", "--first-contact", "2026-10-01")
    out = ok("review")
    assert "New deals (2)\n" in out
    assert "Fresh" in out and "Typed in" in out  # first contact in the week; added by hand
    assert "and 2 deals brought in by an import or a sync, worked before this week" in out
    assert "Old win" not in out
    assert json.loads(ok("review", "--json"))["brought_in"] == 2


def test_a_close_recorded_late_for_a_week_kept_already_is_in_this_weeks_review(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile test: won "last Friday" after last week's review was kept, the win was in
    November's figures and in no weekly review."""
    monkeypatch.setenv("REPDESK_NOW", "2026-11-12T09:00:00+00:00")  # Thursday of W46
    ok("deal", "add", "Late", "--value", "777", "--first-contact", "2026-11-01")
    monkeypatch.setenv("REPDESK_NOW", "2026-11-17T09:00:00+00:00")  # Tuesday of W47
    ok("review")  # keeps W46 as it ended
    monkeypatch.setenv("REPDESK_NOW", "2026-11-17T09:05:00+00:00")
    ok("deal", "won", "Late", "--on", "2026-11-13")
    last = ok("review", "--week", "2026-W46")
    assert "as it ended" in last and "Won: none" in last  # kept: it reads as it read then
    out = ok("review")
    assert "Won or lost on an earlier day, recorded this week (1)" in out
    assert "Late · €777 · won on 2026-11-13" in out
    assert "Won: none" in out  # the week's own wins are by their day
    quiet = ok("review", "--week", "2026-W45")
    assert "recorded this week" not in quiet  # shown only when it holds a deal


def test_a_week_kept_in_a_zone_where_it_was_over_is_read_live_where_it_runs(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile test: read in Kiritimati (Monday already), W47 was kept; back in UTC (still
    Sunday) a deal won that Sunday was missing from the week for good."""
    monkeypatch.setenv("REPDESK_NOW", "2026-11-22T12:00:00+00:00")  # Sunday noon UTC
    ok("deal", "add", "Sunday", "--value", "100", "--first-contact", "2026-11-01")
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    try:
        ok("review")  # Monday 02:00 there: W48, and W47 kept as it ended
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()
    ok("deal", "won", "Sunday")
    out = ok("review")
    assert out.startswith("Week 2026-W47") and "so far" in out.splitlines()[0]
    assert "Won (1): €100" in out
    monkeypatch.setenv("REPDESK_NOW", "2026-11-23T09:00:00+00:00")  # over here too now
    kept = ok("review", "--week", "2026-W47")
    assert "as it ended" in kept and "Won (1): €100" in kept


def test_a_past_days_forecast_weighs_deals_by_that_days_probabilities(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile test: as of 2 December a deal at Prospect's 10% weighed 80%, the own
    probability set on the 3rd, and a stage's new probability moved yesterday's forecast: a
    closed month's forecast changed after it ended."""
    monkeypatch.setenv("REPDESK_NOW", "2026-12-02T10:00:00+00:00")
    ok("deal", "add", "A", "--value", "10000", "--stage", "Prospect",
       "--expected-close", "2026-12-20", "--first-contact", "2026-11-01")  # fmt: skip
    ok("deal", "add", "B", "--value", "20000", "--stage", "Demo",
       "--expected-close", "2026-12-21", "--first-contact", "2026-11-01")  # fmt: skip
    before = json.loads(ok("kpi", "--json"))
    assert before["weighted_pipeline"] == 1_000 + 8_000  # 10% and Demo's 40%
    monkeypatch.setenv("REPDESK_NOW", "2026-12-03T10:00:00+00:00")
    ok("deal", "set", "A", "--probability", "80")
    ok("stage", "set", "Demo", "--probability", "60")
    then = json.loads(ok("kpi", "--as-of", "2026-12-02", "--json"))
    assert (then["weighted_pipeline"], then["forecast"]) == (9_000, 9_000)
    assert (then["pipeline"], then["best_case"]) == (10_000, 20_000)
    today = json.loads(ok("kpi", "--json"))
    assert today["weighted_pipeline"] == 8_000 + 12_000
    # Its own probability taken back: as of the 3rd it was 80%, today it is the stage's.
    monkeypatch.setenv("REPDESK_NOW", "2026-12-04T10:00:00+00:00")
    ok("deal", "set", "A", "--probability", "none")
    assert json.loads(ok("kpi", "--as-of", "2026-12-03", "--json"))["weighted_pipeline"] == 20_000
    assert json.loads(ok("kpi", "--json"))["weighted_pipeline"] == 1_000 + 12_000


def test_open_deals_expected_before_the_period_are_named_not_silently_left_out(
    home: Path,
) -> None:
    """A new user's trial on an imported desk: €0 forecast and 0.0x coverage beside €27m of
    open deals, all expected to close in 2024, and no word why."""
    ok("deal", "add", "Stale", "--value", "5000", "--expected-close", "2026-10-15",
       "--first-contact", "2026-09-01")  # fmt: skip
    ok("deal", "add", "Fresh", "--value", "1000", "--expected-close", "2026-11-25",
       "--first-contact", "2026-09-01")  # fmt: skip
    data = json.loads(ok("kpi", "--json"))
    assert (data["close_passed_count"], data["close_passed_value"]) == (1, 5_000)
    assert data["open_count"] == 2 and data["pipeline"] == 1_000
    text = ok("kpi")
    assert (
        "Not forecast:      1 open deal (€5,000) expected to close before this period: in no "
        "forecast until their close date moves (repdesk deal set DEAL --expected-close DATE)"
    ) in text
    # A period before the stale date: nothing is before it, nothing said.
    assert "Not forecast" not in ok("kpi", "--period", "2026-10")
    # Moved as the line says: in this period's forecast now, the slip in its history.
    assert "expected close 2026-11-28" in ok(
        "deal", "set", "Stale", "--expected-close", "2026-11-28"
    )
    data = json.loads(ok("kpi", "--json"))
    assert (data["close_passed_count"], data["pipeline"]) == (0, 6_000)
    assert "slipped" in ok("deal", "show", "Stale")


def test_a_close_recorded_before_its_week_was_kept_is_in_that_week_alone(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile test: won "last Friday" before last week's review was kept, the win was in
    last week's review and again in this week's "recorded this week"."""
    monkeypatch.setenv("REPDESK_NOW", "2026-11-12T09:00:00+00:00")
    ok("deal", "add", "Early", "--value", "300", "--first-contact", "2026-11-01")
    monkeypatch.setenv("REPDESK_NOW", "2026-11-17T09:00:00+00:00")  # W47; W46 not kept yet
    ok("deal", "won", "Early", "--on", "2026-11-13")
    assert "Won (1): €300" in ok("review", "--week", "2026-W46")  # kept now, with the win
    assert "recorded this week" not in ok("review")


def test_a_company_pages_long_takes_one_line_in_today_and_the_review(home: Path) -> None:
    """A hostile test: a 10,000-character company took 90 lines of `today` and `review`."""
    ok("deal", "add", "Long one", "--company", "C" * 10_000, "--value", "5",
       "--first-contact", "2026-11-17")  # fmt: skip
    for out in (ok("review"), ok("today")):
        line = next(line for line in out.splitlines() if "Long one" in line)
        assert "C" * 59 + "…" in line and len(line) < 200
    assert json.loads(ok("deal", "show", "Long one", "--json"))["company"] == "C" * 10_000


def test_a_stage_renamed_or_moved_to_where_it_is_says_nothing_changed(home: Path) -> None:
    """A hostile test: `stage rename Prospect Prospect` answered "Renamed", and `stage move
    Prospect 1` "Moved", changing nothing."""
    assert ok("stage", "rename", "Prospect", "Prospect").startswith(
        "Prospect is its name already: nothing changed.")  # fmt: skip
    assert ok("stage", "move", "Prospect", "1").startswith(
        "Prospect is at place 1 already: nothing changed.")  # fmt: skip
    assert ok("stage", "move", "Prospect", "2").startswith("Moved Prospect:")


def test_a_deal_imported_this_week_and_won_last_friday_is_in_this_weeks_review(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new user's trial: read the review (last week kept), import, win "last friday": the
    win was in no review (the deal was new this week)."""
    monkeypatch.setenv("REPDESK_NOW", "2026-11-17T09:00:00+00:00")
    ok("review")  # W46 kept
    export = tmp_path / "Opportunity.csv"
    export.write_text(
        "Id,Name,StageName,Amount,CloseDate,IsClosed,IsWon,CreatedDate\n"
        "0061,Imported,Prospecting,700,2026-12-20,0,0,2026-10-02\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("REPDESK_NOW", "2026-11-17T09:10:00+00:00")
    ok("import", export)
    ok("deal", "won", "Imported", "--on", "2026-11-13")
    assert "Imported · €700 · won on 2026-11-13" in ok("review")


def test_a_deal_is_won_last_friday_from_the_shell_as_in_the_app(home: Path) -> None:
    """A new user's trial: `deal won DEAL --on "last fri"` (as the README gives it) was
    refused, and `--on fri` was the coming Friday, refused as a day to come."""
    ok("deal", "add", "Friday win", "--value", "5", "--first-contact", "2026-11-01")
    ok("deal", "add", "Friday loss", "--value", "5", "--first-contact", "2026-11-01")
    ok("deal", "won", "Friday win", "--on", "last fri")
    ok("deal", "lost", "Friday loss", "--reason", "price", "--on", "thu")
    closed = {
        d["title"]: d["closed_on"]
        for d in json.loads(ok("deal", "list", "--status", "all", "--json"))
    }
    # Today is a Friday: "last fri" is a week ago, as a rep says it.
    assert (closed["Friday win"], closed["Friday loss"]) == ("2026-11-13", "2026-11-19")


def test_a_deal_added_today_and_won_on_tuesday_says_how_and_can(home: Path) -> None:
    """A new user's trial: a deal added today could not be won on Tuesday ("on or after the
    first contact"), the message named no way, and no command moved the first contact."""
    from tests.shell import refused

    ok("deal", "add", "Warehouse")  # first contact: today, Fri 20 Nov
    message = refused("deal", "won", "Warehouse", "--on", "tue")
    assert "on or after the first contact (2026-11-20); first contacted earlier? say so " in (
        message
    )
    assert "`repdesk deal set 1 --first-contact DATE`" in message
    assert "first contact 2026-11-16" in ok("deal", "set", "Warehouse", "--first-contact", "mon")
    assert "on 2026-11-17" in ok("deal", "won", "Warehouse", "--on", "tue")
    assert "on or before the day the deal closed" in refused(
        "deal", "set", "1", "--first-contact", "wed"
    )
    assert "today (2026-11-20) or earlier" in refused(
        "deal", "set", "1", "--first-contact", "2026-12-01"
    )
    # Never after its first activity (a call would stand before the deal began: a hostile
    # test).
    ok("deal", "add", "Logged", "--first-contact", "2026-11-01")
    ok("log", "call", "Logged", "--at", "2026-11-05 10:00")
    assert "on or before its first activity (2026-11-05)" in refused(
        "deal", "set", "Logged", "--first-contact", "2026-11-10"
    )
    assert "first contact 2026-11-05" in ok(
        "deal", "set", "Logged", "--first-contact", "2026-11-05"
    )
