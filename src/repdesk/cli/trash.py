"""`repdesk trash ...`: what was deleted, put back or forgotten; and the delete that every
group's `delete` action shares.
"""

from __future__ import annotations

import argparse
from typing import Any

from repdesk.cli import shell
from repdesk.cli.registry import Command
from repdesk.cli.shell import Desk
from repdesk.core.text import cut

# What a trash line shows of a thing: its kind, deal and text, to a line's worth (a deal titled
# with 10,000 characters printed them all: a hostile test); `trash --json` has it whole.
LABEL_CHARS = 160


def trashed_line(item: Any) -> str:
    return (
        f"Deleted {cut(item.what, LABEL_CHARS)}: in the trash as {item.id} for "
        f"30 days (`repdesk trash restore {item.id}` puts it back)"
    )


def delete_into_trash(desk: Desk, kind: str, item_id: int) -> int:
    from repdesk.services import trash

    with desk.write() as session:
        item = trash.delete_item(session=session, kind=kind, item_id=item_id)
    shell.out(trashed_line(item))
    return 0


def cmd_trash(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import trash
    from repdesk.services.gone import KEEP_DAYS

    with desk.read() as session:
        items = trash.list_trash(session=session)
    if args.json:
        shell.print_json([item.as_json() for item in items])
        return 0
    if not items:
        shell.out("The trash is empty.")
        return 0
    shell.out(f"In the trash ({len(items):,}; each kept {KEEP_DAYS} days):")
    for item in items:
        deleted = item.deleted_at.astimezone().strftime("%Y-%m-%d %H:%M")
        shell.out(
            f"  [{item.id}] {item.word}: {cut(item.label, LABEL_CHARS)} · deleted {deleted}, "
            f"kept until {item.expires_on().isoformat()}"
        )
    shell.out("Put one back with `repdesk trash restore ID`.")
    return 0


def cmd_trash_restore(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import trash

    trash_id = shell.item_id(args.id, "trash id", "repdesk trash")
    with desk.write() as session:
        back = trash.restore(session=session, trash_id=trash_id)
    line = f"Restored {cut(back.what, LABEL_CHARS)}"
    if back.item_id != back.old_id:
        line += f" as {'#' if back.kind == 'deal' else ''}{back.item_id} (its old id is taken)"
    if back.note:
        line += f"; {back.note}"
    shell.out(line)
    return 0


def cmd_trash_empty(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import trash

    with desk.write() as session:
        count = trash.empty_trash(session=session)
    shell.out(f"Emptied the trash: {count:,} thing{'s' if count != 1 else ''} gone for good")
    return 0


# ---------------------------------------------------------------- the commands


def _trash_arguments(trash: argparse.ArgumentParser) -> None:
    shell.add_json_flag(trash)


def _restore_arguments(restore: argparse.ArgumentParser) -> None:
    restore.add_argument("id", metavar="ID")


def commands() -> list[Command]:
    actions = [
        Command("restore", "put a deleted thing back", cmd_trash_restore, _restore_arguments),
        Command("empty", "forget everything in the trash for good", cmd_trash_empty),
    ]
    help = "what was deleted (kept 30 days); restore or empty it"
    return [Command("trash", help, cmd_trash, _trash_arguments, actions=actions)]
