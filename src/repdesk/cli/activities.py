"""`repdesk log` and `repdesk activity ...`: log a touch on a deal, correct or delete one."""

from __future__ import annotations

import argparse

from repdesk.cli import shell
from repdesk.cli.registry import Command
from repdesk.cli.shell import Desk, UsageError
from repdesk.cli.trash import delete_into_trash
from repdesk.core import clock, formatting
from repdesk.core.domain import ACTIVITY_KINDS
from repdesk.core.text import printable


def cmd_log(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import activities, deals, followups
    from repdesk.storage.models import saved_id

    minutes = shell.minutes(args.minutes) if args.minutes is not None else None
    next_when = shell.when(args.next, "--next") if args.next else None
    if args.next_note and not next_when:
        raise UsageError("--next-note needs --next WHEN (the date of the next step)")
    if args.step_done and args.kind == "note":
        raise UsageError("--step-done: a note to self does no next step; log the call or email")
    at = activities.happened_at(shell.past_when(args.at, "--at")) if args.at is not None else None
    with desk.write() as session:
        deal = deals.find_deal(session=session, ref=args.deal)
        deal_id = saved_id(deal)
        if args.step_done and not followups.pending(session=session, deal_id=deal_id):
            raise UsageError(
                f"--step-done: #{deal_id} has no next step to mark done; nothing was logged"
            )
        logged = activities.log_touch(
            session=session,
            deal_id=deal_id,
            kind=args.kind,
            outcome=args.outcome or "",
            minutes=minutes,
            text=args.note or "",
            next_when=next_when,
            next_note=args.next_note or "",
            at=at,
            step_done=args.step_done,
        )
        line = f"Logged {logged.activity.kind} on #{deal.id} {shell.cut_title(deal.title)}"
        if logged.done is not None:
            line += f"; its step {formatting.step_words(logged.done)} done"
        if logged.following is not None:
            line += f"; next step {formatting.step_words(logged.following)}"
        to_come = [
            step
            for step in followups.pending(session=session, deal_id=deal_id)
            if step is not logged.following
        ]
        if to_come and args.kind != "note":
            # Said after the touch is saved: the way to mark it done now, not --step-done,
            # which would log the touch twice (a review).
            # An overdue one left (a call answers the earliest due) is not "to come" (a
            # hostile test read a step 1,119 days late so).
            left = "overdue too" if to_come[0].due_on < clock.today() else "still to come"
            line += (
                f"; {formatting.step_words(to_come[0])} {left} (`repdesk follow-up done "
                f"{to_come[0].id}` if this did it)"
            )
    shell.out(line)  # once committed
    return 0


def cmd_activity_edit(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import activities

    activity_id = shell.item_id(args.id, "activity", "repdesk deal show DEAL")
    minutes = shell.minutes(args.minutes) if args.minutes is not None else None
    at = activities.happened_at(shell.past_when(args.at, "--at")) if args.at is not None else None
    if all(v is None for v in (args.kind, args.outcome, minutes, args.note, at)):
        raise UsageError(
            "activity edit: nothing to change: give --kind, --outcome, --minutes, --note or --at"
        )
    with desk.write() as session:
        act = activities.edit_activity(
            session=session,
            activity_id=activity_id,
            kind=args.kind,
            outcome=args.outcome,
            minutes=minutes,
            text=args.note,
            at=at,
        )
        when = act.at.astimezone().strftime("%Y-%m-%d %H:%M")
        words = " · ".join(printable(w) for w in (act.outcome, act.text) if w)
        said = f"Activity {act.id}: {act.kind} {when}" + (f" · {words}" if words else "")
    shell.out(said)  # once saved: a reader gone from the pipe must not undo the write
    return 0


def cmd_activity_delete(desk: Desk, args: argparse.Namespace) -> int:
    return delete_into_trash(
        desk, "activity", shell.item_id(args.id, "activity", "repdesk deal show DEAL")
    )


# ---------------------------------------------------------------- the commands


def _log_arguments(log: argparse.ArgumentParser) -> None:
    log.add_argument("kind", choices=ACTIVITY_KINDS)
    log.add_argument("deal", metavar="DEAL")
    log.add_argument("--outcome", help=shell.OUTCOME_HELP)
    log.add_argument("--minutes", type=shell.given, metavar="N", help="how long it took")
    log.add_argument("--note", help="what was said")
    log.add_argument(
        "--next", type=shell.given, metavar="WHEN", help="schedule the next step, e.g. fri 10:00"
    )
    log.add_argument("--next-note", metavar="TEXT", help=shell.NEXT_NOTE_HELP)
    log.add_argument(
        "--at", type=shell.given, metavar="WHEN", help="when it happened, e.g. 'yesterday 15:00'"
    )
    log.add_argument(
        "--step-done",
        action="store_true",
        help="with no step due (one due is done by it anyway), the deal's next step still to "
        "come was done by this too",
    )


def _edit_arguments(edit: argparse.ArgumentParser) -> None:
    edit.add_argument("id", metavar="ID")
    edit.add_argument(
        "--kind", choices=ACTIVITY_KINDS, help="a call, an email, a meeting or a note"
    )
    edit.add_argument("--outcome", help=shell.OUTCOME_HELP)
    edit.add_argument("--minutes", type=shell.given, metavar="N", help="how long it took")
    edit.add_argument("--note", help="what was said")
    edit.add_argument(
        "--at", type=shell.given, metavar="WHEN", help="when it happened, e.g. 'mon 10:00'"
    )


def _id_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID")


def commands() -> list[Command]:
    return [
        Command("log", "log a call, email, meeting or note on a deal", cmd_log, _log_arguments),
        Command(
            "activity",
            "correct or delete a logged activity",
            actions=[
                Command("edit", "correct a logged activity", cmd_activity_edit, _edit_arguments),
                Command(
                    "delete", "move an activity to the trash", cmd_activity_delete, _id_argument
                ),
            ],
        ),
    ]
