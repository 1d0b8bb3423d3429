"""`repdesk capture PATH... [--deal DEAL] [--dry-run]`: the day's mail and meetings onto deals."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from repdesk.cli import shell
from repdesk.cli.registry import Command
from repdesk.cli.shell import Desk, UsageError
from repdesk.core import clock
from repdesk.core.text import printable

if TYPE_CHECKING:
    from repdesk.io.capture import Item
    from repdesk.services.capture import CaptureReport, Placed, StepChanged, Unsettled

# Unmatched items listed one by one up to this many; the rest counted (a whole inbox of
# newsletters is not worth a screen of lines).
LISTED = 30


def item_line(item: Item, me: tuple[str, ...] = ()) -> str:
    """`inbox.mbox#4 2026-11-18 email "Re: pricing" with bob@acme.example`."""
    from repdesk.services.capture import other_party

    on = clock.local_date(item.start).isoformat()
    who = other_party(item, me)
    subject = printable(item.subject or "(no subject)")
    return f'{printable(item.where)} {on} {item.kind} "{subject}"' + (
        f" with {printable(who)}" if who else ""
    )


def placed_line(placed: Placed, *, dry_run: bool) -> str:
    from repdesk.core import formatting

    item, deal = placed.item, placed.deal
    verb = "Would add" if dry_run else "Added"
    on_deal = f"#{deal.id} {shell.title_and_company(deal.title, deal.company)}"
    if placed.kind == "follow_up":
        local = item.start.astimezone()
        when = formatting.when(local.date(), None if item.all_day else local.time())
        what = f"follow-up {when}"
    else:
        what = f"{item.kind} {clock.local_date(item.start).isoformat()}"
        if placed.outcome:
            what += f" ({placed.outcome})"
        if item.minutes:
            what += f" {item.minutes} min"
        elif item.days:
            what += f" over {item.days} days"
    subject = printable(item.subject) if item.subject else "(no subject)"
    return f"{verb} {what} on {on_deal}: {subject} · by {printable(placed.how)}"


def changed_line(change: StepChanged, *, dry_run: bool) -> str:
    """`Moved the next step on #1 Fleet (Acme) from Tue 15 Dec 10:00 to Thu 17 Dec 14:00:
    Contract review (the meeting moved)`, or taken off when it was cancelled."""
    from repdesk.core import formatting

    item, deal = change.item, change.deal
    on_deal = f"#{deal.id} {shell.title_and_company(deal.title, deal.company)}"
    was = formatting.when(*change.was)
    subject = printable(item.subject) if item.subject else "(no subject)"
    if change.back:
        verb = "Would bring" if dry_run else "Brought"
        return (
            f"{verb} the next step on {on_deal} back from the trash, {was}: {subject} "
            "(the meeting is on again)"
        )
    if change.cancelled:
        verb = "Would take" if dry_run else "Took"
        kept = "" if dry_run else "; the trash keeps it"
        return (
            f"{verb} the next step {was} off {on_deal}: {subject} (the meeting was cancelled{kept})"
        )
    local = item.start.astimezone()
    now = formatting.when(local.date(), None if item.all_day else local.time())
    verb = "Would move" if dry_run else "Moved"
    return f"{verb} the next step on {on_deal} from {was} to {now}: {subject} (the meeting moved)"


def unsettled_line(unsettled: Unsettled, me: tuple[str, ...] = ()) -> str:
    line = "  " + item_line(unsettled.item, me)
    if unsettled.candidates:
        named = ", ".join(
            f"#{d.id} {shell.title_and_company(d.title, d.company)}"
            for d in unsettled.candidates[:5]
        )
        line += f" → {named}" + (" and more" if len(unsettled.candidates) > 5 else "")
    return line


def print_report(report: CaptureReport, *, dry_run: bool, me: tuple[str, ...] = ()) -> None:
    for placed in report.added:
        shell.out(placed_line(placed, dry_run=dry_run))
    for change in report.changed:
        shell.out(changed_line(change, dry_run=dry_run))
    if report.ambiguous:
        shell.out(f"Ambiguous ({len(report.ambiguous)}): several deals; capture it with --deal")
        for unsettled in report.ambiguous:
            shell.out(unsettled_line(unsettled, me))
    if report.unmatched:
        shell.out(
            f"Unmatched ({len(report.unmatched)}): no contact or company knows these "
            "addresses; capture one with --deal, or add the contact"
        )
        for unsettled in report.unmatched[:LISTED]:
            shell.out(unsettled_line(unsettled, me))
        if len(report.unmatched) > LISTED:
            shell.out(f"  … and {len(report.unmatched) - LISTED:,} more")
    for line in report.refused:
        shell.out(f"Left out: {printable(line)}")
    verb = "would be added" if dry_run else "added"
    summary = f"{shell.count(len(report.added), 'item')} {verb}"
    moved = sum(1 for change in report.changed if not (change.cancelled or change.back))
    if moved:
        summary += f", {moved:,} moved"
    if cancelled := sum(1 for change in report.changed if change.cancelled):
        summary += f", {cancelled:,} cancelled"
    if back := sum(1 for change in report.changed if change.back):
        summary += f", {back:,} on again"
    if report.already:
        summary += f", {report.already:,} captured before"
    summary += f", {len(report.ambiguous) + len(report.unmatched):,} to settle"
    shell.out(summary + (" (dry run: nothing written)" if dry_run else ""))


def cmd_capture(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.io.capture import read_paths
    from repdesk.services import capture, deals

    reading = read_paths([Path(p) for p in args.paths], now=clock.now())
    for line in reading.problems:
        shell.out(f"Note: {printable(line)}")
    given = len(dict.fromkeys(args.paths))  # a path given twice is read (and said) once
    if not reading.items and len(reading.problems) >= given and reading.problems:
        raise UsageError("nothing to capture: no path held a message or an event it could read")
    context = desk.read() if args.dry_run else desk.write()
    with context as session:
        deal_id = None
        if args.deal is not None:
            deal_id = deals.find_deal(session=session, ref=args.deal).id
        report = capture.capture(
            session=session,
            items=reading.items,
            me=desk.settings.me,
            deal_id=deal_id,
            dry_run=args.dry_run,
        )
    print_report(report, dry_run=args.dry_run, me=desk.settings.me)  # once committed
    return 0


def _capture_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help=".eml files, mbox files, Maildir folders, .ics files; FILE#N: the Nth item listed",
    )
    parser.add_argument("--deal", type=shell.given, metavar="DEAL", help="put every item on DEAL")
    parser.add_argument("--dry-run", action="store_true", help="say what would be added")


def commands() -> list[Command]:
    return [
        Command(
            "capture",
            "take mail (.eml, mbox, Maildir) and meetings (.ics) onto the deals they are about",
            cmd_capture,
            _capture_arguments,
        )
    ]
