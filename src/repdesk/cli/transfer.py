"""`repdesk import`, `export ...`, `migrate-to`, `backup` and `restore`: the desk in and out
of files and servers.
"""

from __future__ import annotations

import argparse
import os
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repdesk import settings as settings_mod
from repdesk.cli import shell
from repdesk.cli.registry import Command
from repdesk.cli.shell import Desk, UsageError
from repdesk.core import clock
from repdesk.core.errors import DeskError, RepdeskError
from repdesk.core.text import printable
from repdesk.storage import desk_file

if TYPE_CHECKING:
    from repdesk.services.transfer import Outcome


def _pairs(values: list[str], flag: str, *, split_last: bool) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        left, sep, right = value.rpartition("=") if split_last else value.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise UsageError(f'{flag} {value!r}: expected THEIRS=OURS, e.g. {flag} "Won=Won"')
        pairs.append((left.strip(), right.strip()))
    return pairs


def _import_options(desk: Desk, args: argparse.Namespace) -> Any:
    from repdesk.io.csv_import import ImportOptions
    from repdesk.io.formats import DEAL_FIELDS, normalise

    column_map = {}
    for name, column in _pairs(args.map, "--map", split_last=False):
        if name.lower() not in DEAL_FIELDS:
            raise UsageError(
                f"--map {name}={column}: {name!r} is not a field; fields: {', '.join(DEAL_FIELDS)}"
            )
        column_map[name.lower()] = column
    status_map = {}
    for theirs, ours in _pairs(args.status_map, "--status-map", split_last=True):
        if ours.lower() not in ("open", "won", "lost"):
            raise UsageError(f"--status-map {theirs}={ours}: {ours!r} is not open, won or lost")
        status_map[normalise(theirs)] = ours.lower()
    stage_map = {
        normalise(theirs): ours
        for theirs, ours in _pairs(args.stage_map, "--stage-map", split_last=True)
    }
    if args.date_format is not None:
        from datetime import datetime

        sample = date(2026, 11, 20)
        try:
            readable = datetime.strptime(sample.strftime(args.date_format), args.date_format)
        except ValueError:
            readable = None
        if "%" not in args.date_format or readable is None or readable.date() != sample:
            raise UsageError(
                f"--date-format {args.date_format!r}: expected a format that reads a whole "
                "date, e.g. %m/%d/%Y (3/1/2017 is 1 March) or %d.%m.%Y"
            )
    return ImportOptions(
        family=None if args.source == "auto" else args.source,
        column_map=column_map,
        stage_map=stage_map,
        status_map=status_map,
        date_format=args.date_format,
        encoding=args.encoding,
        create_stages=args.create_stages,
        default_currency=desk.settings.currency,
    )


def _count_table(outcome: Any) -> list[str]:
    keys = set(outcome.created) | set(outcome.updated) | set(outcome.unchanged)
    order = {name: i for i, name in enumerate(outcome.stage_order)}
    rows = sorted(keys, key=lambda k: (order.get(k[0], len(order)), k[1]))
    width = max([len(stage) for stage, _ in rows] + [5])
    lines = [f"  {'stage':<{width}}  status  created  updated  unchanged"]
    for key in rows:
        stage, status = key
        lines.append(
            f"  {printable(stage):<{width}}  {status:<6}  {outcome.created[key]:>7,}  "
            f"{outcome.updated[key]:>7,}  {outcome.unchanged[key]:>9,}"
        )
    return lines


def _once_each(files: list[Path]) -> list[Path]:
    """The files named, each once: one given twice (a shell's glob and its name) was read
    twice, and every deal in it refused as appearing again (a hostile test)."""
    seen: dict[str, Path] = {}
    for path in files:
        key = os.path.realpath(path)
        if key in seen:
            shell.out(f"{path} is given twice: read once")
        else:
            seen[key] = path
    return list(seen.values())


def cmd_import(desk: Desk, args: argparse.Namespace) -> int:
    files = _once_each([Path(f) for f in args.files])
    as_json = args.source == "json" or (
        args.source == "auto" and all(f.suffix.lower() == ".json" for f in files)
    )
    if as_json:
        return _import_json(desk, args, files)
    from repdesk.io import csv_import, import_summary
    from repdesk.io.progress import ProgressBar
    from repdesk.services import transfer

    options = _import_options(desk, args)
    bar = ProgressBar("Importing")
    try:
        plan = csv_import.read_files(files, options, progress=bar)
        for source in plan.sources:
            shell.out(
                f"Reading {source.path} as {source.format.name}: {shell.count(source.rows, 'row')} "
                f"({source.encoding})"
            )
            if args.dry_run and source.unused_columns and source.format.records == "deals":
                shell.out(
                    f"  not imported: {', '.join(printable(c) for c in source.unused_columns)}"
                )
        with desk.read() if args.dry_run else desk.write() as session:
            outcome = transfer.import_plan(
                session=session,
                plan=plan,
                stage_map=options.stage_map,
                create_stages=options.create_stages,
                today=clock.today(),
                now=clock.now(),
                dry_run=args.dry_run,
                progress=bar,
            )
    finally:
        bar.close()
    created = sum(outcome.created.values())
    updated = sum(outcome.updated.values())
    unchanged = sum(outcome.unchanged.values())
    names = ", ".join(str(s.path) for s in plan.sources if s.format.records == "deals")
    if not names:
        pass  # a people or activities file alone: its own line below says what it did
    elif args.dry_run:
        shell.out(
            f"Would import {shell.count(created + updated + unchanged, 'deal')} from {names}: "
            f"{created:,} to create, {updated:,} to update, {unchanged:,} unchanged"
        )
    else:
        shell.out(
            f"Imported {shell.count(created + updated + unchanged, 'deal')} from {names}: "
            f"{created:,} created, {updated:,} updated, {unchanged:,} unchanged"
        )
    if created + updated + unchanged:
        for line in _count_table(outcome):
            shell.out(line)
    if outcome.fields_updated:
        shell.out(_fields_line(outcome, dry_run=args.dry_run))
    if outcome.new_stages:
        verb = "Would add" if args.dry_run else "Added"
        shell.out(f"{verb} stages: {', '.join(printable(s) for s in outcome.new_stages)}")
    if plan.activities:
        alone = not plan.deals and not plan.accounts  # nothing in this import names an account
        shell.out(_activities_line(outcome, dry_run=args.dry_run, alone=alone))
    if outcome.more_people:
        who = "person" if outcome.more_people == 1 else "people"
        shell.out(
            f"{'Would also put' if args.dry_run else 'Also put'} on their deals: "
            f"{outcome.more_people:,} more {who} named in the deals' person cells after the "
            "main contact"
        )
    if plan.people or plan.roles:
        verb = "would add" if args.dry_run else "added"
        line = (
            f"Contacts: {outcome.people_added:,} {verb}, {outcome.people_present:,} already on "
            f"the desk; {outcome.roles_added:,} on deals"
        )
        if outcome.roles_unlinked:
            first = ", ".join(outcome.roles_unlinked[:3])
            line += (
                f"; {len(outcome.roles_unlinked):,} left out, naming a deal or contact not in "
                f"these files or on the desk (first: {first})"
            )
        elif plan.people and not plan.roles and not outcome.roles_added and _salesforce(plan):
            # "0 on deals" and nothing more: a new user did not know what would put them there.
            line += (
                " (Salesforce says who is on which opportunity in OpportunityContactRole.csv: "
                "import it with Contact.csv)"
            )
        shell.out(line)
        if outcome.roles_without_person:
            # A contact is known by its CRM id within one import only (an audit: the roles
            # imported after their contacts all went unlinked, and the line blamed the deals).
            shell.out(
                f"{outcome.roles_without_person:,} of the contact roles name a contact not in "
                "these files: import the role export in one command with the contacts' "
                "(e.g. `repdesk import Contact.csv OpportunityContactRole.csv`); contacts "
                "imported before are found again by address, not by their CRM id"
            )
    for line in import_summary.summary_lines(
        plan, desk_currency=desk.settings.currency, rated=desk.settings.rates, dry_run=args.dry_run
    ):
        shell.out(line)
    if args.dry_run:
        shell.out("Nothing was written (--dry-run).")
    return 0


def _import_json(desk: Desk, args: argparse.Namespace, files: list[Path]) -> int:
    from repdesk.io import desk_json

    if len(files) != 1:
        raise UsageError("a JSON export is a whole desk: import one file at a time")
    if (
        args.map
        or args.stage_map
        or args.status_map
        or args.date_format
        or args.encoding
        or args.create_stages
    ):
        raise UsageError(
            "--map, --stage-map, --status-map, --date-format, --encoding and --create-stages "
            "are for CSV files; a JSON export goes in as it is"
        )
    tables = desk_json.read_document(files[0])  # a file that is not one changes no desk
    with desk.write() as session:  # one transaction, either engine: all or nothing
        counts = desk_json.import_json(session.connection(), files[0], tables, dry_run=args.dry_run)
    listed = shell.table_counts(counts)
    if args.dry_run:
        shell.out(
            f"Would import the desk in {files[0]}: {listed}. Nothing was written (--dry-run)."
        )
    else:
        shell.out(f"Imported the desk in {files[0]}: {listed}")
    return 0


def _export_target(desk: Desk, args: argparse.Namespace) -> Path:
    """FILE, checked before the desk is read: never the desk's own files or its backups,
    never a folder or a device, an existing file only with --force."""
    from repdesk.io.files import export_target

    data = desk.home.desk
    # Every file the desk keeps beside it: -wal/-shm/-journal, the copy an upgrade takes
    # (desk.sqlite.pre-vN-...bak), the record of the last full check, and the settings.
    beside = [*data.parent.glob(f"{data.name}*"), *data.parent.glob(f".{data.name}*")]
    own = [data, *(Path(f"{data}{suffix}") for suffix in ("-wal", "-shm", "-journal"))]
    return export_target(
        args.file,
        keep=[*own, *beside, desk.home.settings, desk.home.crash_log],
        keep_folders=[desk.home.backups, desk.home.crash_log.parent],
        force=args.force,
    )


def _export_rows(desk: Desk, args: argparse.Namespace, write: Any, noun: str) -> int:
    """Write one kind of row to the export file from a fast read; say how many went."""
    path = _export_target(desk, args)
    with desk.fast() as conn:
        count = write(conn, path)
    shell.out(f"Wrote {shell.count(count, noun)} to {path}")
    return 0


def cmd_export_ics(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.io import ics

    def write(conn: Any, path: Path) -> int:
        return ics.write_ics(conn, path, now=clock.now())

    return _export_rows(desk, args, write, "pending follow-up")


def cmd_export_csv(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.io import csv_export

    return _export_rows(desk, args, csv_export.export_csv, "deal")


def cmd_export_contacts(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.io import csv_export

    return _export_rows(desk, args, csv_export.export_contacts, "contact")


def cmd_export_json(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.io import desk_json

    path = _export_target(desk, args)
    with desk.read() as session:  # one snapshot of every table, either engine
        counts = desk_json.export_json(session.connection(), path, exported_at=clock.now())
    listed = shell.table_counts(counts)
    shell.out(f"Wrote the whole desk to {path}: {listed}")
    return 0


def cmd_migrate_to(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.storage import store

    url = settings_mod.normalise_database_url(args.url)
    if url is None:
        raise UsageError(
            f"URL: {settings_mod.display_url(args.url)!r} is not valid: expected "
            f"{settings_mod.SERVER_URL_FORM}"
        )
    source = desk.home.desk
    if not source.exists():
        raise DeskError(f"there is no desk at {source} to copy")
    counts = store.copy_desk_to_server(source, url)
    shown = settings_mod.display_url(url)
    shell.out(f"Copied the desk at {source} to {shown}:")
    width = max(len(name) for name in counts)
    for name, (expected, copied) in counts.items():
        rows = "row" if copied == 1 else "rows"
        shell.out(f"  {name:<{width}} {copied:>9,} {rows} (the desk has {expected:,})")
    shell.out("Every table's row count matches. To use the server from now on, set")
    shell.out(f"  export {settings_mod.DATABASE_URL_ENV}='{shown}'")
    shell.out(f'or in {desk.home.settings}:  database_url = "{shown}"')
    if shown != url:
        shell.out("(with your password where *** stands)")
    shell.out(f"{source} is left as it was; repdesk does not read it while the URL is set.")
    return 0


def _salesforce(plan: Any) -> bool:
    """Whether any file of the import is a Salesforce export."""
    return any(source.format.id_prefix == "salesforce" for source in plan.sources)


def _refuse_on_server(desk: Desk, command: str, instead: str) -> None:
    """backup and restore copy desk files; a server's database is copied by its own tools,
    which know its transactions, roles and sequences. Exit 2: the desk is fine, the command
    does not apply to where it lives, and nothing is touched."""
    if desk.on_server:
        server = settings_mod.display_url(desk.settings.database_url or "")
        libpq = "postgresql://" + server.partition("://")[2]  # the form pg_dump reads
        raise UsageError(
            f"{command}: this desk is on a PostgreSQL server, and `repdesk {command}` works on "
            f"desk files only: {instead.format(url=libpq)}"
        )


def cmd_backup(desk: Desk, args: argparse.Namespace) -> int:
    _refuse_on_server(
        desk,
        "backup",
        "back the database up with pg_dump, e.g. pg_dump --format=custom --file=desk.dump '{url}'",
    )
    if not desk.home.desk.exists():
        raise DeskError(f"there is no desk at {desk.home.desk} to back up yet")
    if args.file:
        target = Path(args.file)
        if target.exists():
            raise UsageError(f"{target} already exists: give a new file name")
    else:
        stamp = clock.now().astimezone().strftime("%Y%m%d-%H%M%S")
        target = desk.home.backups / f"desk-{stamp}.sqlite"
        number = 1
        while target.exists():
            number += 1
            target = desk.home.backups / f"desk-{stamp}-{number}.sqlite"
    desk_file.prepare(desk.home.desk)
    desk_file.take_backup(desk.home.desk, target)
    shell.out(f"Backed up {desk.home.desk} to {target}")
    return 0


def cmd_restore(desk: Desk, args: argparse.Namespace) -> int:
    _refuse_on_server(
        desk,
        "restore",
        "restore a pg_dump backup with pg_restore, e.g. "
        "pg_restore --clean --if-exists --dbname='{url}' desk.dump",
    )
    if args.file is None:
        return _list_backups(desk)
    source = Path(args.file)
    try:
        version, kept = desk_file.restore_desk(desk.home.desk, source, desk.home.backups)
    except desk_file.RestoreRefused as exc:
        raise RepdeskError(f"not restored: {exc}; the desk is unchanged") from None
    line = f"Restored {source} (schema {version}) into {desk.home.desk}"
    if kept is not None:
        line += f"; the desk it replaced is kept at {kept}"
    shell.out(line)
    return 0


def _list_backups(desk: Desk) -> int:
    """`repdesk restore` alone: the copies a restore can bring back, newest first, each with
    its deals, so the rep picks one without opening them."""
    backups = desk_file.backups_of(desk.home.desk)
    if not backups:
        shell.out(f"No backups of {desk.home.desk} yet: `repdesk backup` takes one.")
        return 0
    shell.out(f"Backups of {desk.home.desk}, newest first:")
    for backup in backups:
        written = datetime.fromtimestamp(backup.written).astimezone().strftime("%Y-%m-%d %H:%M")
        if backup.deals is None:
            holds = "not a desk this repdesk can read"
        else:
            holds = f"{backup.deals:,} deal" + ("" if backup.deals == 1 else "s")
        shell.out(f"  {written}  {holds:<12}  {printable(str(backup.file))}")
    kept = " (the desk there now is kept first)" if desk.home.desk.exists() else ""
    shell.out(f"Put one in place with `repdesk restore FILE`{kept}.")
    return 0


# ---------------------------------------------------------------- the commands


def _export_arguments(export: argparse.ArgumentParser) -> None:
    export.add_argument("file", metavar="FILE", type=shell.given)
    export.add_argument("--force", action="store_true", help="replace FILE if it exists")


def _migrate_arguments(migrate: argparse.ArgumentParser) -> None:
    migrate.add_argument(
        "url", metavar="URL", type=shell.given, help="postgresql+psycopg://USER@HOST:PORT/DB"
    )


def _import_arguments(imp: argparse.ArgumentParser) -> None:
    imp.add_argument("files", nargs="+", metavar="FILE", type=shell.given)
    imp.add_argument(
        "--from",
        dest="source",
        default="auto",
        choices=("auto", "native", "pipedrive", "hubspot", "salesforce", "csv", "json"),
        help="the file's format (default: recognised by its headers; .json files as exports)",
    )
    imp.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                     help="take FIELD from COLUMN (repeatable)")  # fmt: skip
    imp.add_argument("--stage-map", action="append", default=[], metavar="THEIRS=OURS",
                     help="their stage to one of the desk's (repeatable)")  # fmt: skip
    imp.add_argument("--status-map", action="append", default=[], metavar="THEIRS=STATUS",
                     help="their status word to open, won or lost (repeatable)")  # fmt: skip
    imp.add_argument("--date-format", metavar="FMT",
                     help="e.g. %%d.%%m.%%y (default: the form the file proves)")  # fmt: skip
    imp.add_argument("--encoding", metavar="NAME",
                     help="e.g. windows-1252 (default: recognised)")  # fmt: skip
    imp.add_argument("--create-stages", action="store_true",
                     help="add the file's unknown stages to the pipeline")  # fmt: skip
    imp.add_argument("--dry-run", action="store_true", help="check and report, write nothing")


def _backup_arguments(backup: argparse.ArgumentParser) -> None:
    # An empty FILE is a mistake, not "the default" (it made the default backup: an audit).
    backup.add_argument("file", metavar="FILE", nargs="?", type=shell.given,
                        help="default: backups/desk-TIME.sqlite in the data directory")  # fmt: skip


def _restore_arguments(restore: argparse.ArgumentParser) -> None:
    restore.add_argument("file", metavar="FILE", nargs="?", type=shell.given,
                         help="a backup; without it, the backups are listed")  # fmt: skip


def commands() -> list[Command]:
    formats = [
        Command(
            "ics",
            "pending follow-ups as an iCalendar file (stable UIDs)",
            cmd_export_ics,
            _export_arguments,
        ),
        Command("csv", "every deal in the native CSV columns", cmd_export_csv, _export_arguments),
        Command(
            "contacts",
            "every contact as CSV: emails, phones, deals and roles",
            cmd_export_contacts,
            _export_arguments,
        ),
        Command("json", "the whole desk as one JSON file", cmd_export_json, _export_arguments),
    ]
    return [
        Command(
            "export",
            "write your desk to a file",
            actions=formats,
            actions_title="formats",
            actions_metavar="FORMAT",
        ),
        Command(
            "migrate-to",
            "copy this desk into an empty PostgreSQL database and check every table's rows",
            cmd_migrate_to,
            _migrate_arguments,
        ),
        Command(
            "import",
            "import deals from CSV (native, Pipedrive, HubSpot, Salesforce, any CSV with --map) "
            "or a desk from a JSON export",
            cmd_import,
            _import_arguments,
        ),
        Command(
            "backup",
            "a consistent copy of the desk, safe while it is open",
            cmd_backup,
            _backup_arguments,
        ),
        Command(
            "restore",
            "put a backup in place of the desk (kept first)",
            cmd_restore,
            _restore_arguments,
        ),
    ]


def _tasks(count: int) -> str:
    return "1 task" if count == 1 else f"{count:,} tasks"


def _fields_line(outcome: Outcome, *, dry_run: bool) -> str:
    """`Updated fields: stage (1 deal), expected close (1)`: what a re-import put back over
    the desk's values (it said only "1 updated", and a rep's own stage and close date were
    the CRM's again: a new user's trial)."""
    parts = []
    for n, (name, deals) in enumerate(outcome.fields_updated.most_common()):
        # Named as the rep knows them: a forecast the desk had as the rep's call is taken back
        # to the CRM's (its stage's), not set "from the file" (a hostile test).
        word = {"value_cents": "value", "forecast": "forecast call",
                "probability": "own probability"}.get(name, name.replace("_", " "))  # fmt: skip
        parts.append(f"{word} ({shell.count(deals, 'deal') if n == 0 else f'{deals:,}'})")
    verb = "Fields to update" if dry_run else "Updated fields"
    return f"{verb}, as the file has them: {', '.join(parts)}"


# Overdue steps an import brings older than this are named with the command that clears them.
OLD_STEP_DAYS = 30


def _activities_line(outcome: Outcome, *, dry_run: bool, alone: bool = False) -> str:
    """What became of a task file's rows: done ones as activities, open ones (to-dos) as next
    steps, and those left out, with where."""
    verb = "would add" if dry_run else "added"
    steps = outcome.steps_added + outcome.steps_present + len(outcome.steps_on_lost)
    parts = []
    if outcome.activities_added or outcome.activities_present or not steps:
        parts.append(
            f"{outcome.activities_added:,} {verb}, {outcome.activities_present:,} already on "
            "the desk"
        )
    if steps:
        undated = ""
        if outcome.steps_undated:
            undated = f", {outcome.steps_undated:,} with no due day: due today"
        oldest = outcome.steps_oldest
        if oldest is not None and (clock.today() - oldest).days > OLD_STEP_DAYS:
            # To-dos of years ago in the queues, cleared one `D` at a time (a new user's
            # trial): the command that clears them.
            undated += (
                f"; the oldest due {oldest}: `repdesk follow-up delete --due-before DATE` "
                "sends old ones to the trash"
            )
        parts.append(
            f"open tasks as next steps, not as things done: {outcome.steps_added:,} {verb} "
            f"({outcome.steps_overdue:,} overdue{undated}), {outcome.steps_present:,} already "
            "brought in"
        )
    if outcome.steps_done_there:
        parts.append(
            f"{_tasks(outcome.steps_done_there)} done in the CRM since: "
            f"{'its step' if outcome.steps_done_there == 1 else 'their steps'} "
            f"{'would be ' if dry_run else ''}marked done"
        )
    if outcome.steps_on_lost:
        first = ", ".join(outcome.steps_on_lost[:3])
        parts.append(
            f"{_tasks(len(outcome.steps_on_lost))} open on lost deals left out, where a next "
            f"step never shows (first: {first})"
        )
    if outcome.activities_unlinked:
        first = ", ".join(outcome.activities_unlinked[:3])
        line = (
            f"{len(outcome.activities_unlinked):,} left out, linked to no opportunity or account "
            f"of these deals (first: {first})"
        )
        if alone:
            # The desk keeps opportunity ids, not account ids: an account's tasks need the
            # account file's names (a hostile test read the line as "these tasks are bad").
            line += (
                ": the desk keeps no CRM account ids, so a task of an account finds its deals "
                "with the account export in the same command (`repdesk import Opportunity.csv "
                "Account.csv Task.csv`; `Account.csv Task.csv` links them to deals imported "
                "with their company names)"
            )
        parts.append(line)
    return "Activities: " + "; ".join(parts)
