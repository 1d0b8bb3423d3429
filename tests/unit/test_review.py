"""The weekly review (issue 21): weeks as a rep names them, what changed in a week read from the
desk's histories, a closed week kept as it ended, and commitments marked kept or missed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import select
from tests.pinned import EUR, NOW

from repdesk.core.errors import InvalidInput, RepdeskError
from repdesk.core.review import net_changes
from repdesk.core.weeks import (
    WeekInputError,
    parse_week,
    span_text,
    week_containing,
    week_of_label,
)
from repdesk.services import activities, deals, followups, review
from repdesk.services import forecast as deal_forecast
from repdesk.storage.models import WeeklyReview
from repdesk.storage.store import read_session, write_session

FRIDAY = date(2026, 11, 20)  # the pinned day, in 2026-W47
LAST_WEEK = week_of_label(2026, 46)  # Monday 9 to Sunday 15 November


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def test_weeks_are_labelled_by_their_iso_monday_from_the_reps_first_day() -> None:
    monday = week_containing(FRIDAY)
    assert (monday.label, monday.start, monday.end) == (
        "2026-W47",
        date(2026, 11, 16),
        FRIDAY + timedelta(2),
    )
    sunday = week_of_label(2026, 48, week_start=6)
    assert (sunday.start, sunday.end) == (date(2026, 11, 22), date(2026, 11, 28))
    assert week_containing(date(2026, 11, 22), 6).label == "2026-W48"
    assert week_containing(date(2026, 11, 22), 0).label == "2026-W47"
    for typed, label in (("last", "2026-W46"), ("this", "2026-W47"), ("next", "2026-W48"),
                         ("2026-w46", "2026-W46"), ("2026W46", "2026-W46"),
                         ("2026-11-11", "2026-W46"), ("-1w", "2026-W46")):  # fmt: skip
        assert parse_week(typed, today=FRIDAY).label == label, typed
    assert parse_week("2026-W53", today=FRIDAY).start == date(2026, 12, 28)  # 2026 has 53
    for bad in ("2025-W53", "2026-W00", "week 46", ""):
        with pytest.raises(WeekInputError, match="2026-W48"):
            parse_week(bad, today=FRIDAY)


def test_a_week_outside_the_days_a_desk_takes_is_refused_in_one_line() -> None:
    assert parse_week("9990-W52", today=FRIDAY).end == date(9990, 12, 30)  # the last whole one
    # Year 1's first week made the review crash; an 1899 week was kept as reviewed, and a
    # desk holding it could no longer be imported from its own JSON export.
    # 9999's last week ends in the year 10000, past the last date Python has: it crashed
    # the review (a hostile test), as a date past 9990 was called "not a week".
    for bad in ("0001-W01", "0001-W02", "1899-W52", "1000-W10", "9991-W01", "9999-W52",
                "9999-12-31", "0001-01-01"):  # fmt: skip
        with pytest.raises(WeekInputError, match="out of range: repdesk takes a date from 1900"):
            parse_week(bad, today=FRIDAY)
    assert parse_week("1900-W01", today=FRIDAY).start == date(1900, 1, 1)
    # With a Sunday start, 1900's first week begins on the last day of 1899: a day the desk
    # does not take (its kept review would not import either).
    with pytest.raises(WeekInputError, match="out of range"):
        parse_week("1900-W01", today=FRIDAY, week_start=6)
    with pytest.raises(WeekInputError, match="out of range"):
        parse_week("1900-01-01", today=FRIDAY, week_start=6)


def test_a_week_across_new_year_names_the_year_of_its_first_day() -> None:
    # "Week 2026-W01 (Mon 29 Dec to Sun 04 Jan 2026)" read as 29 December 2026.
    new_year = parse_week("2026-W01", today=FRIDAY)
    assert span_text(new_year.start, new_year.end) == "Mon 29 Dec 2025 to Sun 04 Jan 2026"
    assert span_text(LAST_WEEK.start, LAST_WEEK.end, " – ") == "Mon 09 Nov – Sun 15 Nov 2026"


def test_net_changes_keep_where_each_deal_started_and_ended() -> None:
    events = [(1, "Demo", "Proposal"), (2, "Proposal", "Demo"), (1, "Proposal", "Negotiation"),
              (2, "Demo", "Proposal")]  # fmt: skip
    assert net_changes(events) == {1: ("Demo", "Negotiation")}  # deal 2 came back


# ---------------------------------------------------------------- a week on a desk


def _deal(session, title: str, value: int, stage: str, made: datetime, **kw):  # type: ignore[no-untyped-def]
    return deals.create_deal(
        session=session, title=title, currency="EUR", value_cents=value * 100, stage=stage,
        first_contact=date(2026, 11, 2), now=made, **kw,
    ).id  # fmt: skip


def _last_week(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A week of work, 2026-W46, told through the services at the moments it happened."""
    with write_session(engine) as s:
        ids = {
            "A": _deal(s, "Acme rollout", 30_000, "Demo", at(2), expected_close=date(2026, 11, 12)),
            "C": _deal(
                s, "Contoso", 20_000, "Negotiation", at(2), expected_close=date(2026, 11, 13)
            ),
            "D": _deal(s, "Dunder seats", 10_000, "Proposal", at(2)),
            "E": _deal(s, "Evil Corp", 8_000, "Proposal", at(2)),
            "F": _deal(s, "Fabrikam", 15_000, "Prospect", at(2)),
        }
        activities.log_activity(session=s, deal_id=ids["A"], kind="call", now=at(5), at=at(5))
        ids["B"] = _deal(s, "Brand new", 5_000, "Prospect", at(10))
        followups.add_follow_up(
            session=s, deal_id=ids["B"], when=(date(2026, 11, 17), None), now=at(10)
        )
        deals.move_deal(session=s, deal_id=ids["A"], stage="Proposal", now=at(10))
        deals.edit_deal(session=s, deal_id=ids["A"], expected_close=date(2026, 11, 30), now=at(11))
        deal_forecast.set_forecast(session=s, deal_id=ids["F"], category="commit", now=at(11))
        deals.move_deal(session=s, deal_id=ids["C"], stage="Proposal", now=at(12))
        deals.win_deal(session=s, deal_id=ids["D"], on=date(2026, 11, 13), now=at(13))
        deals.lose_deal(
            session=s, deal_id=ids["E"], reason="price", competitor="Cheapo", now=at(14),
            on=date(2026, 11, 14),
        )  # fmt: skip
        for day in (12, 13):
            activities.log_activity(
                session=s, deal_id=ids["C"], kind="call", now=at(day), at=at(day)
            )
    return ids


def _read(engine, week, now=NOW):  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        return review.weekly_review(session=session, week=week, conversion=EUR, now=now)


def _titles(page, key: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [line.title for line in page.review.section(key)]


def test_a_week_reads_what_changed_in_it_from_the_histories(engine) -> None:  # type: ignore[no-untyped-def]
    _last_week(engine)
    page = _read(engine, LAST_WEEK)
    r = page.review
    assert (r.week, r.start, r.end, r.closed) == (
        "2026-W46",
        date(2026, 11, 9),
        date(2026, 11, 15),
        True,
    )
    assert _titles(page, "new") == ["Brand new"]
    assert [(x.title, x.was, x.now) for x in r.section("advanced")] == [
        ("Acme rollout", "Demo", "Proposal")
    ]
    assert [(x.title, x.was, x.now) for x in r.section("regressed")] == [
        ("Contoso", "Negotiation", "Proposal")
    ]
    assert [(x.title, x.now) for x in r.section("won")] == [("Dunder seats", "2026-11-13")]
    assert [(x.title, x.note) for x in r.section("lost")] == [("Evil Corp", "price (to Cheapo)")]
    assert [(x.title, x.was, x.now, x.note) for x in r.section("slipped")] == [
        ("Acme rollout", "2026-11-12", "2026-11-30", "moved later"),
        ("Contoso", "2026-11-13", None, "passed"),  # still open when its day had passed
    ]
    assert [(x.title, x.was, x.now) for x in r.section("forecast")] == [
        ("Fabrikam", "pipeline", "commit"), ("Contoso", "commit", "best case"),
    ]  # fmt: skip
    # Open at the week's end with nothing scheduled, biggest first ("Brand new" has a step).
    assert _titles(page, "no_next_step") == ["Acme rollout", "Contoso", "Fabrikam"]
    calls = {a.kind: (a.this_week, a.week_before) for a in r.activity}["call"]
    assert calls == (2, 1)
    assert (r.won_value_cents, r.lost_value_cents) == (1_000_000, 800_000)
    data = page.to_json()
    assert data["won"][0]["value"] == 10_000 and data["frozen_at"] is not None


def test_a_new_deal_shows_the_stage_it_was_in_when_the_week_ended(engine) -> None:  # type: ignore[no-untyped-def]
    """Found by an audit: a deal new in W46 and won in W47 read "Won" in W46's new deals."""
    ids = _last_week(engine)
    with write_session(engine) as session:
        deals.win_deal(session=session, deal_id=ids["B"], on=date(2026, 11, 17), now=at(17))
    page = _read(engine, LAST_WEEK)
    assert [(x.title, x.note) for x in page.review.section("new")] == [("Brand new", "Prospect")]


def test_a_closed_week_is_kept_as_it_ended(engine) -> None:  # type: ignore[no-untyped-def]
    ids = _last_week(engine)
    this_week = week_containing(FRIDAY)
    first = _read(engine, this_week)  # reading this week keeps last week as it ended
    assert first.review.closed is False and first.review.frozen_at is None
    with read_session(engine) as session:
        assert [r.week for r in session.exec(select(WeeklyReview))] == ["2026-W46"]
    kept = _read(engine, LAST_WEEK).review
    # Things change after the week: the won deal reopened, a lost one deleted, a stage renamed.
    from repdesk.services import stages, trash

    with write_session(engine) as session:
        deals.reopen_deal(session=session, deal_id=ids["D"], now=NOW)
        trash.delete_item(session=session, kind="deal", item_id=ids["E"], now=NOW)
        stages.rename_stage(session=session, stage="Proposal", name="Offer")
    later = _read(engine, LAST_WEEK, now=NOW + timedelta(days=30)).review
    assert later == kept
    assert [x.title for x in later.section("won")] == ["Dunder seats"]
    assert later.section("advanced")[0].now == "Proposal"
    # Read live, the same week no longer shows the win: that is why it is kept.
    from repdesk.reports.review import read_review

    with read_session(engine) as session:
        live = read_review(session, week=LAST_WEEK, now=NOW, conversion=EUR)
    assert live.section("won") == () and live.section("advanced")[0].now == "Offer"


def test_a_week_kept_from_another_first_day_is_kept_anew_for_the_new_one(engine) -> None:  # type: ignore[no-untyped-def]
    """A forecast trial: after `week_start` went from monday to sunday, "last week" was the
    Monday week kept before (Mon 9 to Sun 15), sharing a day with this week, and a day asked
    for was in a week that did not hold it."""
    _last_week(engine)
    _read(engine, week_containing(FRIDAY))  # keeps 2026-W46 from Monday 9 November
    sunday_week = week_containing(date(2026, 11, 14), week_start=6)  # Sun 8 to Sat 14
    assert sunday_week.label == "2026-W46"
    page = _read(engine, sunday_week)
    assert (page.review.start, page.review.end) == (date(2026, 11, 8), date(2026, 11, 14))
    with read_session(engine) as session:  # kept anew, for the Sunday start
        kept = session.exec(select(WeeklyReview)).one()
    assert (kept.week, kept.starts_on) == ("2026-W46", date(2026, 11, 8))
    # Back to Monday: kept again for Monday (a hostile test: it never was, and drifted).
    again = _read(engine, LAST_WEEK).review
    assert (again.start, again.frozen_at is not None) == (date(2026, 11, 9), True)


def test_this_week_so_far_is_read_live_and_a_week_to_come_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        _deal(session, "Today's deal", 1_000, "Prospect", NOW - timedelta(hours=1))
    page = _read(engine, week_containing(FRIDAY))
    assert _titles(page, "new") == ["Today's deal"]
    assert _titles(page, "no_next_step") == ["Today's deal"]
    with read_session(engine) as session:
        assert session.exec(select(WeeklyReview).where(WeeklyReview.week == "2026-W47")).all() == []
    with pytest.raises(InvalidInput, match="a week to come has no review yet"):
        _read(engine, week_containing(FRIDAY).next())


def test_commitments_are_marked_in_the_week_after_and_unmarked_ones_count_as_missed(engine) -> None:  # type: ignore[no-untyped-def]
    ids = _last_week(engine)
    with write_session(engine) as s:
        kept = review.add_commitment(
            session=s, deal_id=ids["A"], text="  Proposal\tsent ", week=LAST_WEEK, now=at(9)
        ).id
        unmarked = review.add_commitment(
            session=s, deal_id=ids["C"], text="Signature back", week=LAST_WEEK, now=at(9)
        ).id
        with pytest.raises(InvalidInput, match="that week is over"):
            review.add_commitment(session=s, deal_id=ids["A"], text="x", week=LAST_WEEK, now=NOW)
        with pytest.raises(InvalidInput, match="what will happen"):
            review.add_commitment(session=s, deal_id=ids["A"], text="  ", week=LAST_WEEK, now=at(9))
        this = review.add_commitment(
            session=s, deal_id=ids["F"], text="Demo booked", week=week_containing(FRIDAY), now=NOW
        ).id
        review.mark_commitment(session=s, commitment_id=kept, outcome="kept", now=NOW)
        with pytest.raises(InvalidInput, match="kept or missed"):
            review.mark_commitment(session=s, commitment_id=kept, outcome="done", now=NOW)
        with pytest.raises(RepdeskError, match=r"which is over: it stays \(mark it kept or "
                           r"missed until 2026-11-22\)"):  # fmt: skip
            review.drop_commitment(session=s, commitment_id=unmarked, now=NOW)
    page = _read(engine, week_containing(FRIDAY))
    assert [(c.text, c.judged) for c in page.commitments] == [("Demo booked", "open")]
    assert [(c.title, c.text, c.judged, c.since) for c in page.last_week] == [
        ("Acme rollout", "Proposal sent", "kept", "moved to Proposal"),
        ("Contoso", "Signature back", "open", "moved to Proposal, 2 activities logged"),
    ]
    # The week after has ended: what was not marked is missed, and stays so.
    monday = datetime.combine(date(2026, 11, 23), time(9)).astimezone(UTC)
    later = _read(engine, week_containing(date(2026, 11, 23)), now=monday)
    assert [(c.text, c.judged) for c in later.last_week] == [("Demo booked", "open")]
    old = _read(engine, LAST_WEEK, now=monday)
    assert [c.judged for c in old.commitments] == ["kept", "missed"]
    with write_session(engine) as s, pytest.raises(RepdeskError, match="stays missed"):
        review.mark_commitment(session=s, commitment_id=unmarked, outcome="kept", now=monday)
    # Judged for good: the line no longer says to mark it (an audit).
    with write_session(engine) as s, pytest.raises(RepdeskError) as refused:
        review.drop_commitment(session=s, commitment_id=unmarked, now=monday)
    assert str(refused.value).endswith("which is over: it stays as it was judged: missed")
    with write_session(engine) as s:
        assert review.drop_commitment(session=s, commitment_id=this, now=NOW) == "Demo booked"


def test_a_commitment_of_a_week_to_come_cannot_be_judged_before_its_week(engine) -> None:  # type: ignore[no-untyped-def]
    # `review kept` took a commitment for next week as kept on the day it was made: a promise
    # judged before its week began.
    ids = _last_week(engine)
    next_week = week_containing(FRIDAY).next()
    with write_session(engine) as s:
        promised = review.add_commitment(
            session=s, deal_id=ids["A"], text="Signed order", week=next_week, now=NOW
        ).id
        with pytest.raises(RepdeskError, match="2026-W48, which has not begun"):
            review.mark_commitment(session=s, commitment_id=promised, outcome="kept", now=NOW)
    monday = datetime.combine(next_week.start, time(9)).astimezone(UTC)
    with write_session(engine) as s:
        marked = review.mark_commitment(
            session=s, commitment_id=promised, outcome="kept", now=monday
        )
        assert marked.outcome == "kept"


def test_only_a_week_still_to_keep_needs_a_write(engine) -> None:  # type: ignore[no-untyped-def]
    """The shell and the app read a review in a read session unless a week is to be stored:
    a read-only desk shows its review too, and reading it twice writes once."""
    this_week = week_containing(FRIDAY)
    with read_session(engine) as session:
        assert review.to_keep(session=session, week=this_week, now=NOW)  # last week, not kept
        live = review.weekly_review(
            session=session, week=LAST_WEEK, conversion=EUR, now=NOW, keep=False
        )
        assert live.review.closed and live.review.frozen_at is None
        assert session.exec(select(WeeklyReview)).all() == []
    _read(engine, this_week)
    with read_session(engine) as session:
        assert not review.to_keep(session=session, week=this_week, now=NOW)
        assert not review.to_keep(session=session, week=LAST_WEEK, now=NOW)
        assert review.to_keep(session=session, week=LAST_WEEK.prev(), now=NOW)


def test_a_weeks_totals_say_what_they_leave_out(engine) -> None:  # type: ignore[no-untyped-def]
    """A lost £8,000 deal with no GBP rate showed as "Lost (1) €0", saying nothing."""
    with write_session(engine) as s:
        gone = deals.create_deal(
            session=s, title="Seats expansion", value_cents=800_000, currency="GBP",
            first_contact=date(2026, 11, 2), now=at(2),
        )  # fmt: skip
        deals.lose_deal(session=s, deal_id=gone.id, reason="price", now=at(11))  # type: ignore[arg-type]
    page = _read(engine, LAST_WEEK)
    r = page.review
    assert (r.lost_value_cents, r.left_out_note("lost"), r.left_out_note("won")) == (
        0, "+ 1 in GBP, no rate", "",
    )  # fmt: skip
    assert page.to_json()["left_out"] == {"lost": {"deals": 1, "currencies": ["GBP"]}}
    # The week as it ended is kept with it, and read back the same.
    again = _read(engine, LAST_WEEK).review
    assert again.frozen_at is not None and again.left_out_note("lost") == "+ 1 in GBP, no rate"


def test_a_win_stays_in_a_commitments_since_when_the_deal_is_reopened_after(engine) -> None:  # type: ignore[no-untyped-def]
    """Found by an audit: read from the deal as it is now, the win went from the line once
    the deal was reopened."""
    ids = _last_week(engine)
    with write_session(engine) as s:
        made = review.add_commitment(
            session=s, deal_id=ids["F"], text="Signed", week=LAST_WEEK, now=at(9)
        ).id
        deals.win_deal(session=s, deal_id=ids["F"], on=date(2026, 11, 12), now=at(12))
        deals.reopen_deal(session=s, deal_id=ids["F"], now=at(16))
    page = _read(engine, LAST_WEEK)
    [line] = [c for c in page.commitments if c.id == made]
    assert line.since == "moved to Prospect, won 2026-11-12"


def test_a_commitment_on_a_lost_deal_is_refused_and_one_on_a_won_deal_taken(engine) -> None:  # type: ignore[no-untyped-def]
    """A forecast trial: "win back" on a lost deal was taken, and judged missed a week later;
    nothing happens on a lost deal but its reopening. A won one has upsells and papers."""
    this_week = week_containing(FRIDAY)
    with write_session(engine) as s:
        lost = _deal(s, "Lost one", 1_000, "Demo", NOW - timedelta(days=3))
        won = _deal(s, "Won one", 1_000, "Demo", NOW - timedelta(days=3))
        deals.lose_deal(session=s, deal_id=lost, reason="price", now=NOW)
        deals.win_deal(session=s, deal_id=won, now=NOW)
    with write_session(engine) as s, pytest.raises(RepdeskError) as refused:
        review.add_commitment(session=s, deal_id=lost, text="win back", week=this_week, now=NOW)
    assert str(refused.value) == (
        f"#{lost} was lost on 2026-11-20: reopen it first to commit to it "
        f"(`repdesk deal reopen {lost}`, R on the deal page)"
    )
    with write_session(engine) as s:
        review.add_commitment(
            session=s, deal_id=won, text="order form back", week=this_week, now=NOW
        )
