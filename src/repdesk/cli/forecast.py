"""`repdesk review` (the weekly review and its commitments), `deal set` and `deal nps`, and the
forecast lines `deal show` prints (issue 21). `kpi`'s forecast and lost-deal lines are in
cli/figures.py: the fast path imports that module alone."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from repdesk.cli import shell
from repdesk.cli.registry import Command
from repdesk.cli.shell import Desk, UsageError
from repdesk.core import clock, quantities
from repdesk.core.money import format_money
from repdesk.core.text import printable

if TYPE_CHECKING:
    from sqlmodel import Session


def forecast_fields(deal: Any, outlook: Any, stage: str) -> list[tuple[str, str]]:
    """`deal show`'s forecast lines: category, probability, slips, competitor, score."""
    from repdesk.core import forecast

    fields = []
    if outlook.category is not None:
        call = " (your call)" if outlook.overridden else " (from the probability)"
        fields.append(("forecast", forecast.label(outlook.category) + call))
        whose = "its own" if outlook.own_probability else f"{stage}'s"
        fields.append(("probability", f"{outlook.probability}% ({whose})"))
    if outlook.slips:
        times = "once" if outlook.slips == 1 else f"{outlook.slips} times"
        fields.append(("slipped", f"{times}, by {shell.count(outlook.slipped_days, 'day')}"))
    elif deal.expected_close or outlook.close_date_changes:
        fields.append(("slipped", "never"))
    if deal.competitor:
        fields.append(("competitor", deal.competitor))
    if deal.nps is not None:
        fields.append(("NPS", f"{deal.nps} ({deal.nps_on.isoformat() if deal.nps_on else '-'})"))
    return fields


def cmd_deal_set(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, forecast

    changes = (
        args.forecast, args.probability, args.competitor, args.expected_close, args.first_contact
    )  # fmt: skip
    if all(given is None for given in changes):
        raise UsageError(
            "deal set needs --forecast, --probability, --competitor, --expected-close or "
            "--first-contact"
        )
    probability = None
    if args.probability is not None:
        with shell.naming("probability"):
            probability = quantities.parse_own_probability(args.probability)
    # The shell's way to move a close date (the app's is `e`): "Not forecast" named deals
    # whose dates had to move, and no command moved one.
    expected = None
    if args.expected_close is not None and args.expected_close.strip().lower() != "none":
        expected = shell.day(args.expected_close, "--expected-close")
    # A deal added today and won on Tuesday, first contacted before: the win is refused
    # before its first contact, and nothing in the shell moved it (a new-user trial).
    first = shell.past_day(args.first_contact, "--first-contact") if args.first_contact else None

    shown: list[Any] = []  # what the change left, for the line printed once committed

    def change(session: Session, deal_id: int) -> Any:
        deal = None
        if args.forecast is not None:
            deal = forecast.set_forecast(session=session, deal_id=deal_id, category=args.forecast)
        if args.probability is not None:
            deal = forecast.set_probability(
                session=session, deal_id=deal_id, probability=probability
            )
        if args.competitor is not None:
            deal = deals.set_competitor(
                session=session, deal_id=deal_id, competitor=args.competitor
            )
        if args.expected_close is not None:
            deal = deals.edit_deal(session=session, deal_id=deal_id, expected_close=expected)
        if first is not None:
            deal = deals.edit_deal(session=session, deal_id=deal_id, first_contact=first)
        shown.append(forecast.deal_forecast(session=session, deal_id=deal_id))
        return deal

    def done(deal: Any, line: str) -> str:
        outlook = shown[-1]
        words = []
        if outlook.category is not None:
            call = "your call" if outlook.overridden else "from the probability"
            words.append(f"forecast {_category_label(outlook.category)} ({call})")
            whose = "its own" if outlook.own_probability else "the stage's"
            words.append(f"probability {outlook.probability}% ({whose})")
        if args.competitor is not None:
            words.append(f"competitor {printable(deal.competitor) or 'none'}")
        if args.expected_close is not None:
            words.append(f"expected close {deal.expected_close or 'none'}")
        if first is not None:
            words.append(f"first contact {deal.first_contact}")
        return f"Set {line}: " + ", ".join(words)

    return shell.change_deal(desk, args.deal, change, done)


def _category_label(category: str) -> str:
    from repdesk.core import forecast

    return forecast.label(category)


def cmd_deal_nps(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import forecast

    with shell.naming("score"):
        score = quantities.parse_score(args.score)
    on = shell.past_day(args.on, "--on") if args.on else None

    def done(deal: Any, line: str) -> str:
        if deal.nps is None:
            return f"Cleared the score of {line}"
        return f"Score of {line}: {deal.nps} on {deal.nps_on}"

    return shell.change_deal(
        desk,
        args.deal,
        lambda s, deal_id: forecast.set_nps(session=s, deal_id=deal_id, score=score, on=on),
        done,
    )


def _week(desk: Desk, text: str | None) -> Any:
    from repdesk.core.weeks import WeekInputError, parse_week

    try:
        return parse_week(
            text or "this", today=clock.today(), week_start=desk.settings.week_start_index
        )
    except WeekInputError as exc:
        raise UsageError(f"--week: {exc}") from None


def cmd_review(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.core.review import QUIET_WHEN_EMPTY, SECTIONS, brought_in_note
    from repdesk.core.weeks import span_text
    from repdesk.services import review

    week, conversion = _week(desk, args.week), desk.settings.conversion
    with desk.read() as session:
        page = None
        if not review.to_keep(session=session, week=week):
            # nothing to store: a read-only desk reads its review too
            page = review.weekly_review(
                session=session, week=week, conversion=conversion, keep=False
            )
    if page is None:
        with desk.write() as session:  # a week that is over is kept the first time it is read
            page = review.weekly_review(session=session, week=week, conversion=conversion)
    if args.json:
        shell.print_json(page.to_json())
        return 0
    r, cur = page.review, desk.settings.currency
    span = span_text(r.start, r.end)
    if r.frozen_at is not None:
        state = f"as it ended (kept {r.frozen_at.astimezone():%Y-%m-%d %H:%M})"
    else:
        state = "as it ended" if r.closed else "so far"
    shell.out(f"Week {r.week} ({span}), {state}")
    # The commitments first, as the screen (key 5) has them: what the rep said would happen.
    shell.out(f"Commitments for {r.week} ({len(page.commitments)})" if page.commitments else (
        f"Commitments for {r.week}: none (`repdesk review commit DEAL TEXT`)"
    ))  # fmt: skip
    for commitment in page.commitments:
        shell.out(f"  {_commitment_line(commitment)}")
    if page.last_week:
        shell.out(
            f"Commitments for {page.last_week_label}, the week before ({len(page.last_week)}):"
        )
        for commitment in page.last_week:
            shell.out(f"  {_commitment_line(commitment)}")
        if any(c.judged == "open" for c in page.last_week):
            shell.out("  Mark each: `repdesk review kept ID` or `repdesk review missed ID`")
    for key, title in SECTIONS:
        lines = r.section(key)
        if key in QUIET_WHEN_EMPTY and not lines:
            continue
        total = ""
        if key in ("won", "lost") and lines:
            total = ": " + format_money(
                r.won_value_cents if key == "won" else r.lost_value_cents, cur
            )
            if note := r.left_out_note(key):
                total += f" {note}"
        shell.out(f"{title} ({len(lines)}){total}" if lines else f"{title}: none")
        for line in lines:
            shell.out(f"  {_review_line(key, line)}")
        if key == "new" and r.brought_in:
            shell.out(f"  {brought_in_note(r.brought_in)}")
    activity = " · ".join(f"{a.kind}s {a.this_week} ({a.week_before})" for a in r.activity)
    shell.out(f"Activity, against the week before: {activity}")
    return 0


def _review_line(key: str, line: Any) -> str:
    head = (
        f"#{line.deal_id} {shell.title_and_company(line.title, line.company)} · "
        f"{format_money(line.value_cents, line.currency)}"
    )
    if key in ("advanced", "regressed", "forecast"):
        return f"{head}: {printable(line.was or '-')} → {printable(line.now or '-')}"
    if key == "slipped" and line.note == "passed":
        return f"{head}: expected {line.was}, passed while open"
    if key == "slipped":
        return f"{head}: {line.was} → {line.now}"
    if key == "won":
        return f"{head} · {line.now}"
    if key == "lost":
        return f"{head} · {line.now}: {printable(line.note)}"
    if key == "closed_late":
        return f"{head} · {printable(line.note)} on {line.now}"
    return f"{head} · {printable(line.note)}" if line.note else head


_MARKS = {"kept": "✓ kept", "missed": "✗ missed", "open": "? open"}


def _commitment_line(commitment: Any) -> str:
    return (
        f"[{commitment.id}] {_MARKS.get(commitment.judged, commitment.judged)} · "
        f"#{commitment.deal_id} {shell.cut_title(commitment.title)}: {printable(commitment.text)} "
        f"(since: {printable(commitment.since)})"
    )


def cmd_review_commit(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, review
    from repdesk.storage.models import saved_id

    week = _week(desk, args.week)
    with desk.write() as session:
        deal = deals.find_deal(session=session, ref=args.deal)
        made = review.add_commitment(
            session=session,
            deal_id=saved_id(deal),
            text=args.text,
            week=week,
        )
        line = (
            f"Commitment [{made.id}] for {made.week}: #{deal.id} {shell.cut_title(deal.title)}: "
            f"{printable(made.text)}"
        )
    shell.out(line)
    return 0


def _mark(desk: Desk, args: argparse.Namespace, outcome: str) -> int:
    from repdesk.services import review

    commitment_id = shell.item_id(args.id, "commitment id", "repdesk review")
    with desk.write() as session:
        marked = review.mark_commitment(
            session=session,
            commitment_id=commitment_id,
            outcome=outcome,
            week_start=desk.settings.week_start_index,
        )
        line = f"Commitment [{marked.id}] of {marked.week}: {outcome}: {printable(marked.text)}"
    shell.out(line)
    return 0


def cmd_review_kept(desk: Desk, args: argparse.Namespace) -> int:
    return _mark(desk, args, "kept")


def cmd_review_missed(desk: Desk, args: argparse.Namespace) -> int:
    return _mark(desk, args, "missed")


def cmd_review_drop(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import review

    commitment_id = shell.item_id(args.id, "commitment id", "repdesk review")
    with desk.write() as session:
        text = review.drop_commitment(
            session=session,
            commitment_id=commitment_id,
            week_start=desk.settings.week_start_index,
        )
    shell.out(f"Dropped commitment [{commitment_id}]: {printable(text)}")
    return 0


# ---------------------------------------------------------------- the commands


def set_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("deal", metavar="DEAL")
    parser.add_argument(
        "--forecast", metavar="CATEGORY", help="commit, best-case, pipeline, omitted or auto"
    )
    parser.add_argument(
        "--probability",
        type=shell.given,
        metavar="PERCENT",
        help="its own win probability, or stage (its stage's)",
    )
    parser.add_argument("--competitor", metavar="NAME", help="who it is up against ('' for none)")
    parser.add_argument(
        "--expected-close",
        type=shell.given,
        metavar="DATE",
        help="when you expect it to close now, or none (kept in its close-date history)",
    )
    parser.add_argument(
        "--first-contact",
        type=shell.given,
        metavar="DATE",
        help="the day it was first contacted (today or earlier; `tue` is the last one)",
    )


def nps_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("deal", metavar="DEAL")
    parser.add_argument(
        "score", type=shell.given, metavar="SCORE", help="0 to 10, or none to clear it"
    )
    parser.add_argument("--on", type=shell.given, metavar="DATE", help="the day asked (today)")


def deal_actions() -> list[Command]:
    """`deal set` and `deal nps`, listed with the deal group's actions (cli/deals.py)."""
    return [
        Command(
            "set",
            "set a deal's forecast category, own probability or competitor",
            cmd_deal_set,
            set_arguments,
        ),
        Command("nps", "a won customer's score, 0-10 (NPS)", cmd_deal_nps, nps_arguments),
    ]


def _review_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--week", type=shell.given, help="2026-W48, last, this (default) or a day")
    shell.add_json_flag(parser)


def _commit_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("deal", metavar="DEAL")
    parser.add_argument("text", metavar="TEXT", help="what will happen, e.g. 'signed order'")
    parser.add_argument("--week", type=shell.given, help="this (default) or next")


def _id_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID")


def commands() -> list[Command]:
    actions = [
        Command("commit", "commit to what will happen on a deal", cmd_review_commit,
                _commit_arguments),
        Command("kept", "mark a commitment kept", cmd_review_kept, _id_argument),
        Command("missed", "mark a commitment missed", cmd_review_missed, _id_argument),
        Command("drop", "take back a commitment of a week still running", cmd_review_drop,
                _id_argument),
    ]  # fmt: skip
    return [
        Command(
            "review",
            "the weekly review: what changed, and commitments",
            cmd_review,
            _review_arguments,
            actions=actions,
            actions_title="review commands",
        )
    ]
