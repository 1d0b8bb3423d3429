"""`repdesk sync ...`: the shell's side of the CRM sync (src/repdesk/sync/)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from repdesk.cli.registry import Command
from repdesk.cli.shell import out as _out
from repdesk.core.text import printable


def _stage_asker() -> Any:
    """One sync's question: after ctrl+d at a prompt the stages left are not asked either."""
    ended: list[bool] = []

    def ask(stage: Any, remote: list[Any], guess: Any) -> Any:
        if ended:
            return guess
        return _ask_stage(stage, remote, guess, ended)

    return ask


def _ask_stage(stage: Any, remote: list[Any], guess: Any, ended: list[bool]) -> Any:
    """Asked once per desk stage at the first sync (stored; `repdesk sync stages --reset`).
    `remote` holds the Pipedrive stages no other desk stage stands for. Pipedrive's stage
    names are the company's text: printable, like everything shown."""
    from repdesk.sync.engine import cut

    if not sys.stdin.isatty():
        return guess
    names = ", ".join(f"{i + 1} {cut(s.name, 40)}" for i, s in enumerate(remote))
    while True:
        # input() writes its prompt as it is: only printable text goes in it.
        prompt = f"Desk stage {cut(stage.name, 40)!r} is Pipedrive's [{cut(guess.name, 40)}]"
        try:
            answer = input(f"{prompt} ({names}): ")
        except EOFError:
            # ctrl+d: no answer, as an empty line is; it was "unexpected error: EOFError"
            # and a crash log (a trial).
            ended.append(True)
            _out("")
            _out(
                "  no answer (end of input): each stage left takes the one in [brackets]; "
                "`repdesk sync stages` shows them, `--reset` asks again"
            )
            return guess
        answer = answer.strip()
        if not answer:
            return guess
        if answer.isascii() and answer.isdigit() and 1 <= int(answer) <= len(remote):
            return remote[int(answer) - 1]
        picked = [s for s in remote if s.name.casefold() == answer.casefold()]
        if picked:
            return picked[0]
        _out(f"  not one of them: {names}")


def _connector(desk: Any) -> Any:
    from repdesk.sync import secrets
    from repdesk.sync.pipedrive import PipedriveClient

    return PipedriveClient(desk.settings.pipedrive_url, secrets.token())


def cmd_sync_pipedrive(desk: Any, args: argparse.Namespace) -> int:
    from repdesk.storage.paths import demo_owner
    from repdesk.sync.connector import SyncError
    from repdesk.sync.engine import Sync, record_failure

    if demo_owner(desk.home) is not None:
        # Made-up deals: they must never reach the company's CRM.
        raise SyncError("the demo desk does not sync with Pipedrive: sync your own desk")
    desk.prepare()
    try:
        client = _connector(desk)
    except SyncError as exc:  # no token: a failed sync for `repdesk sync status` too
        record_failure(desk.engine, str(exc))
        raise
    try:
        runner = Sync(
            desk.engine,
            client,
            all_owners=desk.settings.pipedrive_all_owners,
            pipeline_id=desk.settings.pipedrive_pipeline,
            ask_stage=_stage_asker() if sys.stdin.isatty() else None,
            currency=desk.settings.currency,
        )
        report = runner.run(dry_run=args.dry_run)
    finally:
        client.close()
    for line in report.lines():
        _out(printable(line))  # a note quotes Pipedrive's text: one line each
    return 0


def cmd_sync_status(desk: Any, args: argparse.Namespace) -> int:
    from repdesk.core import clock
    from repdesk.sync import state

    with desk.read() as session:
        found = state.status(session)
        refused = state.refused(session)
    _out(f"Pipedrive ({desk.settings.pipedrive_url}): {found.line(clock.now())}")
    for key, why in sorted(refused.items()):
        kind, _, local_id = key.partition(":")
        named = f"{kind.replace('_', '-')} {local_id}"
        _out(
            printable(
                f"  {named.replace(' ', ' #')} set aside: {why} (sent again at each sync; "
                f"`repdesk sync drop {named}` stops it)"
            )
        )
    return 0


def cmd_sync_drop(desk: Any, args: argparse.Namespace) -> int:
    """A row Pipedrive refuses, no longer sent: the rep's way out of a refusal that a retry
    will not fix (a value Pipedrive rejects). A later change on the desk sends it again."""
    from sqlalchemy import delete
    from sqlmodel import col

    from repdesk.core.domain import row_id
    from repdesk.storage.models import SyncOutbox
    from repdesk.storage.outbox import APPLYING
    from repdesk.sync import state
    from repdesk.sync.connector import SyncError

    kind = args.kind.replace("-", "_")
    local_id = row_id(args.id)
    key = f"{kind}:{local_id}"
    with desk.write() as session:
        session.info[APPLYING] = True
        if local_id is None or key not in state.refused(session):
            raise SyncError(
                f"{args.kind} {args.id} is not set aside: nothing dropped; "
                "`repdesk sync status` lists what Pipedrive refused"
            )
        session.execute(
            delete(SyncOutbox).where(
                col(SyncOutbox.kind) == kind, col(SyncOutbox.local_id) == local_id
            )
        )
        state.note_refused(session, {key: None})
    _out(
        f"Dropped {args.kind} #{local_id}: no longer sent to Pipedrive (a later change on the "
        "desk sends it again)"
    )
    return 0


def cmd_sync_conflicts(desk: Any, args: argparse.Namespace) -> int:
    from repdesk.sync.engine import conflicts

    with desk.read() as session:
        found = conflicts(session)
    if not found:
        _out("No conflicts: nothing was changed on both sides.")
        return 0
    _out(f"Changed on both sides since the last sync ({len(found)}):")
    for conflict in found:
        _out(f"  {conflict.line()}")
    _out("Keep one with `repdesk sync settle ID desk` or `repdesk sync settle ID pipedrive`.")
    return 0


def cmd_sync_settle(desk: Any, args: argparse.Namespace) -> int:
    from repdesk.core.domain import row_id
    from repdesk.sync.engine import settle

    conflict_id = row_id(args.id)  # ASCII digits: int('²') raised after '²'.isdigit() passed
    if conflict_id is None:
        from repdesk.sync.connector import SyncError

        raise SyncError(f"{args.id!r} is no conflict id; `repdesk sync conflicts` lists them")
    found = settle(desk.engine, conflict_id, args.side)
    if args.side == "desk":
        _out(f"Kept the desk's {found.desk_shown} for {found.what} (sent at the next sync)")
    else:
        _out(f"Kept Pipedrive's {found.remote_shown} for {found.what}")
    return 0


def cmd_sync_stages(desk: Any, args: argparse.Namespace) -> int:
    from repdesk.services import deals
    from repdesk.sync import state

    if args.reset:
        with desk.write() as session:
            state.forget(session, state.STAGE_MAP)
        _out("Stage mapping forgotten: the next `repdesk sync pipedrive` asks for it again.")
        return 0
    with desk.read() as session:
        stored = state.get_json(session, state.STAGE_MAP, {})
        names = {s.id: s.name for s in deals.stages(session=session)}
    if not stored:
        _out("No stage mapping yet: the next `repdesk sync pipedrive` asks for it.")
        return 0
    from repdesk.sync.connector import SyncError
    from repdesk.sync.engine import cut

    # Pipedrive's names, asked for (one request: the rep asked): ids alone hid a stage
    # removed there (a trial). Without a token or a network, the ids and why.
    there: dict[int, str] | None = None
    why = ""
    try:
        client = _connector(desk)
        try:
            there = {s.id: s.name for s in client.stages()}
        finally:
            client.close()
    except SyncError as exc:
        why = str(exc)
    shown = {int(k): int(v) for k, v in stored.items() if int(k) in names}
    _out(
        "Desk stage -> Pipedrive stage:"
        if there is not None
        else "Desk stage -> Pipedrive stage id:"
    )
    seen: dict[int, str] = {}
    for desk_id, remote_id in shown.items():
        desk_name = cut(names[desk_id], 40)
        if there is None:
            line = f"  {desk_name} -> {remote_id}"
        elif remote_id in there:
            line = f"  {desk_name} -> {cut(there[remote_id], 40)} ({remote_id})"
        else:
            line = f"  {desk_name} -> {remote_id}: gone in Pipedrive; `--reset` maps it again"
        if remote_id in seen:
            line += f" (as {seen[remote_id]}: one Pipedrive stage for two; `--reset`)"
        seen.setdefault(remote_id, desk_name)
        _out(printable(line))
    if there is None:
        _out(printable(f"(Pipedrive's names not shown: {why})"))
    return 0


def cmd_sync_token(desk: Any, args: argparse.Namespace) -> int:
    import getpass

    from repdesk.sync import secrets

    value = getpass.getpass("Pipedrive API token (kept in the OS keyring): ")
    if not value.strip():
        _out("Nothing kept: no token given.")
        return 2
    secrets.keep_in_keyring(value)
    _out("Kept in the OS keyring; REPDESK_PIPEDRIVE_TOKEN still wins when it is set.")
    return 0


def _pipedrive_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="count what would move, write nothing"
    )


def _settle_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID")
    parser.add_argument("side", choices=("desk", "pipedrive"))


def _drop_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=("deal", "activity", "follow-up"))
    parser.add_argument("id", metavar="ID")


def _stages_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reset", action="store_true", help="forget it; ask at the next sync")


def commands() -> list[Command]:
    actions = [
        Command(
            "pipedrive",
            "take in Pipedrive's changes and send the desk's",
            cmd_sync_pipedrive,
            _pipedrive_arguments,
        ),
        Command("status", "when the desk last synced and what waits", cmd_sync_status),
        Command("conflicts", "fields changed on both sides", cmd_sync_conflicts),
        Command("settle", "keep one side of a conflict", cmd_sync_settle, _settle_arguments),
        Command("drop", "stop sending a row Pipedrive refused", cmd_sync_drop, _drop_arguments),
        Command("stages", "the desk's stages in Pipedrive", cmd_sync_stages, _stages_arguments),
        Command("token", "keep the API token in the OS keyring", cmd_sync_token),
    ]
    help = "keep the company's Pipedrive in step with the desk"
    return [Command("sync", help, actions=actions)]
