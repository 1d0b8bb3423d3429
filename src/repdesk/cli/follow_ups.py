"""`repdesk follow-up ...`: schedule, complete, snooze and delete follow-ups."""

from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING

from repdesk.cli import shell
from repdesk.cli.registry import Command
from repdesk.cli.shell import Desk, UsageError
from repdesk.cli.trash import delete_into_trash
from repdesk.core import formatting
from repdesk.core.domain import ACTIVITY_KINDS
from repdesk.core.text import printable

if TYPE_CHECKING:
    from sqlmodel import Session

    from repdesk.storage.models import FollowUp


def cmd_follow_up_add(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, followups
    from repdesk.storage.models import saved_id

    when = shell.when(args.when, "WHEN")
    every = shell.every(args.every) if args.every else None
    with desk.write() as session:
        deal = deals.find_deal(session=session, ref=args.deal)
        fu = followups.add_follow_up(
            session=session,
            deal_id=saved_id(deal),
            when=when,
            note=args.note or "",
            recur_days=every,
        )
        repeat = f", {formatting.every(every)}" if every else ""
        line = (
            f"Follow-up {fu.id} on #{deal.id} {shell.cut_title(deal.title)}: "
            f"{formatting.when(fu.due_on, fu.due_time)}{repeat}"
        )
    shell.out(line)  # once committed
    return 0


def cmd_follow_up_done(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import followups

    next_when = shell.when(args.next, "--next") if args.next else None
    with desk.write() as session:
        done, following = followups.complete_follow_up(
            session=session,
            follow_up_id=shell.item_id(args.id, "follow-up"),
            outcome=args.outcome or "",
            next_when=next_when,
            next_note=args.next_note or "",
            kind=args.kind,
        )
        line = f"Done: follow-up {done.id}"
        if following is not None:
            shown = formatting.when(following.due_on, following.due_time)
            line += f"; next {shown} (follow-up {following.id})"
        if done.outcome.strip():
            line += f"; logged a {args.kind}: {printable(done.outcome)}"
    shell.out(line)  # once committed
    return 0


def cmd_follow_up_snooze(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import followups

    when = shell.when(args.when, "WHEN")
    with desk.write() as session:
        fu = followups.snooze_follow_up(
            session=session, follow_up_id=shell.item_id(args.id, "follow-up"), when=when
        )
        line = f"Follow-up {fu.id} moved to {formatting.when(fu.due_on, fu.due_time)}"
    shell.out(line)  # once committed
    return 0


def cmd_follow_up_delete(desk: Desk, args: argparse.Namespace) -> int:
    if (args.id is None) == (args.due_before is None):
        raise UsageError("follow-up delete: give an ID, or --due-before DATE for many")
    if args.id is not None:
        if args.dry_run:
            raise UsageError("--dry-run goes with --due-before")
        return delete_into_trash(desk, "follow_up", shell.item_id(args.id, "follow-up"))
    return _delete_due_before(desk, shell.day(args.due_before, "--due-before"), args.dry_run)


def _delete_due_before(desk: Desk, day: date, dry_run: bool) -> int:
    """Every pending step due before `day` to the trash, each restorable: a CRM's to-dos of
    years ago came in as overdue steps, and went one `D` at a time (a new user's trial)."""
    from repdesk.services import followups, trash
    from repdesk.storage.models import saved_id

    with desk.write() as session:
        steps = followups.pending_due_before(session=session, day=day)
        if not dry_run:
            for step in steps:
                trash.delete_item(session=session, kind="follow_up", item_id=saved_id(step))
        count = shell.count(len(steps), "follow-up")
        first = f" ({_first_due(session, steps)})" if steps else ""
    if dry_run:
        shell.out(f"Would delete {count} due before {day}{first}; nothing was changed")
    else:
        shell.out(
            f"Deleted {count} due before {day}{first} to the trash, each kept 30 days "
            "(`repdesk trash` lists them, `repdesk trash restore ID` puts one back)"
        )
    return 0


def _first_due(session: Session, steps: list[FollowUp]) -> str:
    """`the first due 2026-11-02; 2 of them on lost deals: not in the queues`: the
    overdue queue shows no lost deal's steps, and the count must not disagree with it
    unsaid."""
    from repdesk.services import followups

    on_lost, lost_deals = followups.on_lost_deals(session=session, steps=steps)
    if len(steps) == 1:
        return f"due {steps[0].due_on}" + (", on a lost deal: not in the queues" if on_lost else "")
    said = f"the first due {steps[0].due_on}"
    if not on_lost:
        return said
    them = "all of them" if on_lost == len(steps) else f"{on_lost} of them"
    where = "a lost deal" if lost_deals == 1 else "lost deals"
    return f"{said}; {them} on {where}: not in the queues"


# ---------------------------------------------------------------- the commands


# The positionals' help: `follow-up snooze --help` said nothing of ID and WHEN (a new-user
# trial).
_ID_HELP = "the follow-up's id (`repdesk today` and `repdesk deal show` list them)"
_WHEN_HELP = "a day, with a time if you like: 2026-12-04, fri 10:00, tomorrow, +3d"


def _add_arguments(add: argparse.ArgumentParser) -> None:
    add.add_argument("deal", metavar="DEAL", help="the deal's id, or words of its title")
    add.add_argument("when", metavar="WHEN", help=_WHEN_HELP)
    add.add_argument("--note", default="", help="what it is for")
    add.add_argument(
        "--every", type=shell.given, metavar="N", help="repeat every N days (30d) or weeks (2w)"
    )


def _done_arguments(done: argparse.ArgumentParser) -> None:
    done.add_argument("id", metavar="ID", help=_ID_HELP)
    done.add_argument("--outcome", default="", help="logged as a call (or --kind) on the deal")
    done.add_argument(
        "--kind", choices=ACTIVITY_KINDS, default="call", help="what was done (default: call)"
    )
    done.add_argument(
        "--next", type=shell.given, metavar="WHEN", help="schedule the next step in the same go"
    )
    done.add_argument("--next-note", metavar="TEXT", help=shell.NEXT_NOTE_HELP)


def _snooze_arguments(snooze: argparse.ArgumentParser) -> None:
    snooze.add_argument("id", metavar="ID", help=_ID_HELP)
    snooze.add_argument("when", metavar="WHEN", help=_WHEN_HELP)


def _id_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help=_ID_HELP)


def _delete_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", nargs="?", help=_ID_HELP)
    parser.add_argument(
        "--due-before",
        type=shell.given,
        metavar="DATE",
        help="instead of one ID: every pending follow-up due before DATE (e.g. an import's "
        "to-dos of years ago), each to the trash",
    )
    parser.add_argument("--dry-run", action="store_true", help="count them, change nothing")


def commands() -> list[Command]:
    actions = [
        Command("add", "schedule a follow-up on a deal", cmd_follow_up_add, _add_arguments),
        Command("done", "complete a follow-up", cmd_follow_up_done, _done_arguments),
        Command(
            "snooze", "move a follow-up to another date", cmd_follow_up_snooze, _snooze_arguments
        ),
        Command(
            "delete",
            "move a follow-up (or many) to the trash",
            cmd_follow_up_delete,
            _delete_arguments,
        ),
    ]
    return [Command("follow-up", "add, complete or snooze follow-ups", actions=actions)]
