"""`repdesk stage ...`: the pipeline's stages, listed and changed."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from repdesk.cli import shell
from repdesk.cli.registry import Command
from repdesk.cli.shell import Desk, UsageError
from repdesk.core import formatting, quantities
from repdesk.core.text import printable

if TYPE_CHECKING:
    from sqlmodel import Session


def _stage_line(info: Any) -> str:
    rot = f"rots after {info.rot_days} days" if info.rot_days else "never rots"
    kind = f" · {info.kind}" if info.kind != "open" else f" · {rot}"
    deals_there = formatting.count(info.open_deals, "open deal") if info.kind == "open" else ""
    return f"  {info.number}. {printable(info.name)} (id {info.id}) · {info.probability}%{kind}" + (
        f" · {deals_there}" if deals_there else ""
    )


def cmd_stage_list(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import stages

    with desk.read() as session:
        found = stages.list_stages(session=session)
    if args.json:
        shell.print_json(
            [
                {
                    "id": s.id,
                    "number": s.number,
                    "name": s.name,
                    "kind": s.kind,
                    "probability": s.probability,
                    "rot_days": s.rot_days,
                    "open_deals": s.open_deals,
                }
                for s in found
            ]
        )
        return 0
    shell.out("Your pipeline:")
    for info in found:
        shell.out(_stage_line(info))
    return 0


def _stage_done(desk: Desk, change: Callable[[Session], Any], line: Callable[[Any], str]) -> int:
    from repdesk.services import stages

    with desk.write() as session:
        result = change(session)
        said = [line(result), *(_stage_line(info) for info in stages.list_stages(session=session))]
    # Printed once saved: printing inside the write, a reader gone from the pipe (`| head -1`)
    # rolled the change back after "Renamed" was said (found by a hostile test).
    for text in said:
        shell.out(text)
    return 0


def cmd_stage_add(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import stages

    probability = shell.percent(args.probability)
    rot = shell.rot_days(args.rot) if args.rot is not None else None
    return _stage_done(
        desk,
        lambda s: stages.add_stage(
            session=s, name=args.name, probability=probability, rot_days=rot, after=args.after
        ),
        lambda stage: f"Added the stage {printable(stage.name)} (id {stage.id}):",
    )


def cmd_stage_rename(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, stages

    was: list[str] = []

    def change(session: Session) -> Any:
        was.append(deals.find_stage(session=session, name=args.stage).name)
        return stages.rename_stage(session=session, stage=args.stage, name=args.name)

    def said(stage: Any) -> str:
        # "Renamed" for a name it had already misled (a hostile test).
        if was and was[0] == stage.name:
            return f"{printable(stage.name)} is its name already: nothing changed."
        return f"Renamed to {printable(stage.name)}; its history reads the new name:"

    return _stage_done(desk, change, said)


def cmd_stage_move(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, stages

    with shell.naming("position"):
        position = quantities.parse_position(args.position)
    was: list[int] = []

    def change(session: Session) -> Any:
        found = deals.find_stage(session=session, name=args.stage)
        listed = stages.list_stages(session=session)
        was.extend(info.number for info in listed if info.id == found.id)
        return stages.move_stage(session=session, stage=args.stage, number=position)

    def said(stage: Any) -> str:
        if was and was[0] == position:
            return f"{printable(stage.name)} is at place {position} already: nothing changed."
        return f"Moved {printable(stage.name)}:"

    return _stage_done(desk, change, said)


def cmd_stage_set(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import stages

    if args.probability is None and args.rot is None:
        raise UsageError("stage set: nothing to change: give --probability or --rot")
    probability = shell.percent(args.probability) if args.probability is not None else None
    rot_days = shell.rot_days(args.rot) if args.rot is not None else None

    def change(session: Session) -> Any:
        if args.rot is None:  # no --rot: the stage keeps its rot limit (None means never rots)
            return stages.set_stage(session=session, stage=args.stage, probability=probability)
        return stages.set_stage(
            session=session, stage=args.stage, probability=probability, rot_days=rot_days
        )

    return _stage_done(desk, change, lambda stage: f"Set {printable(stage.name)}:")


def cmd_stage_remove(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import stages

    def line(result: Any) -> str:
        name, moved, into = result
        where = f"; {formatting.count(moved, 'deal')} moved to {printable(into)}" if moved else ""
        return f"Removed the stage {printable(name)}{where}:"

    return _stage_done(
        desk,
        lambda s: stages.remove_stage(session=s, stage=args.stage, into=args.into),
        line,
    )


# ---------------------------------------------------------------- the commands


def _list_arguments(listing: argparse.ArgumentParser) -> None:
    shell.add_json_flag(listing)


def _add_arguments(add: argparse.ArgumentParser) -> None:
    add.add_argument("name", metavar="NAME")
    add.add_argument(
        "--probability",
        type=shell.given,
        required=True,
        metavar="PERCENT",
        help=shell.PROBABILITY_HELP,
    )
    add.add_argument(
        "--rot", type=shell.given, metavar="DAYS", help="days in it before a deal rots (or none)"
    )
    add.add_argument("--after", metavar="STAGE", help="default: after the last open stage")


def _rename_arguments(rename: argparse.ArgumentParser) -> None:
    rename.add_argument("stage", metavar="STAGE")
    rename.add_argument("name", metavar="NAME")


def _move_arguments(move: argparse.ArgumentParser) -> None:
    move.add_argument("stage", metavar="STAGE")
    move.add_argument("position", type=shell.given, metavar="PLACE")


def _set_arguments(set_: argparse.ArgumentParser) -> None:
    set_.add_argument("stage", metavar="STAGE")
    set_.add_argument(
        "--probability",
        type=shell.given,
        metavar="PERCENT",
        help=shell.PROBABILITY_HELP,
    )
    set_.add_argument("--rot", type=shell.given, metavar="DAYS", help="a number of days, or none")


def _remove_arguments(remove: argparse.ArgumentParser) -> None:
    remove.add_argument("stage", metavar="STAGE")
    remove.add_argument("--into", metavar="STAGE", help="where its open deals go first")


def commands() -> list[Command]:
    actions = [
        Command("list", "the stages in pipeline order", cmd_stage_list, _list_arguments),
        Command("add", "add an open stage", cmd_stage_add, _add_arguments),
        Command(
            "rename", "rename a stage (its history follows)", cmd_stage_rename, _rename_arguments
        ),
        Command("move", "put an open stage at another place", cmd_stage_move, _move_arguments),
        Command("set", "set a stage's probability or rot limit", cmd_stage_set, _set_arguments),
        Command(
            "remove", "remove a stage, its deals moved first", cmd_stage_remove, _remove_arguments
        ),
    ]
    help = "your pipeline's stages: list, add, rename, move..."
    return [Command("stage", help, actions=actions)]
