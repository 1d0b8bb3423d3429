"""`repdesk objection ...` and `repdesk playbook`: objections heard and the answers that
worked.
"""

from __future__ import annotations

import argparse

from repdesk.cli import shell
from repdesk.cli.registry import Command
from repdesk.cli.shell import Desk
from repdesk.cli.trash import delete_into_trash
from repdesk.core.domain import OBJECTION_CATEGORIES
from repdesk.core.text import printable


def cmd_objection_add(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, objections
    from repdesk.storage.models import saved_id

    with desk.write() as session:
        deal = deals.find_deal(session=session, ref=args.deal)
        obj = objections.add_objection(
            session=session,
            deal_id=saved_id(deal),
            category=args.category,
            said=args.said,
            answer=args.answer or "",
        )
        line = (
            f"Objection {obj.id} ({obj.category}, {obj.status}) on "
            f"#{deal.id} {shell.cut_title(deal.title)}"
        )
    shell.out(line)  # once committed
    return 0


def cmd_objection_answer(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import objections

    with desk.write() as session:
        obj = objections.update_objection(
            session=session,
            objection_id=shell.item_id(args.id, "objection", "repdesk deal show DEAL"),
            answer=args.answer,
        )
    shell.out(f"Objection {obj.id} is {obj.status}")  # once committed
    return 0


def cmd_objection_resolve(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import objections

    with desk.write() as session:
        obj = objections.resolve_objection(
            session=session,
            objection_id=shell.item_id(args.id, "objection", "repdesk deal show DEAL"),
        )
    shell.out(f"Objection {obj.id} is resolved")  # once committed
    return 0


def cmd_objection_delete(desk: Desk, args: argparse.Namespace) -> int:
    return delete_into_trash(
        desk, "objection", shell.item_id(args.id, "objection", "repdesk deal show DEAL")
    )


def cmd_playbook(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import objections

    with desk.read() as session:
        answers = objections.playbook(session=session, category=args.category, limit=args.limit)
    if args.json:
        shell.print_json(
            [
                {
                    "objection_id": a.objection_id,
                    "deal_id": a.deal_id,
                    "deal": a.deal_title,
                    "deal_status": a.deal_status,
                    "said": a.said,
                    "answer": a.answer,
                }
                for a in answers
            ]
        )
        return 0
    if not answers:
        shell.out(f"No answered {args.category} objections yet.")
    for a in answers:
        mark = "won" if a.deal_status == "won" else a.deal_status
        shell.out(f"[{mark}] {shell.cut_title(a.deal_title)}")
        shell.out(f"  said:   {printable(a.said)}")
        shell.out(f"  answer: {printable(a.answer)}")
    return 0


# ---------------------------------------------------------------- the commands


def _add_arguments(add: argparse.ArgumentParser) -> None:
    add.add_argument("deal", metavar="DEAL")
    add.add_argument("--category", required=True, help=", ".join(OBJECTION_CATEGORIES))
    add.add_argument("--said", required=True, help="what the buyer said")
    add.add_argument("--answer", help="what you answered")


def _answer_arguments(answer: argparse.ArgumentParser) -> None:
    answer.add_argument("id", metavar="ID")
    answer.add_argument("answer")


def _id_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID")


def _playbook_arguments(play: argparse.ArgumentParser) -> None:
    play.add_argument("category")
    play.add_argument("--limit", type=int, default=10, help="how many answers (default: 10)")
    shell.add_json_flag(play)


def commands() -> list[Command]:
    actions = [
        Command("add", "record an objection on a deal", cmd_objection_add, _add_arguments),
        Command("answer", "answer an objection", cmd_objection_answer, _answer_arguments),
        Command("resolve", "mark an objection resolved", cmd_objection_resolve, _id_argument),
        Command("delete", "move an objection to the trash", cmd_objection_delete, _id_argument),
    ]
    return [
        Command("objection", "record and answer objections", actions=actions),
        Command(
            "playbook",
            "your earlier answers to a kind of objection",
            cmd_playbook,
            _playbook_arguments,
        ),
    ]
