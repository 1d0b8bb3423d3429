"""The shell's commands as data, and the parser built from them.

Each command module (deals, activities, follow_ups, objections, figures, transfer, stages,
trash, app) declares its commands in a `commands()` function: a `Command` names the command,
its help, the function that adds its arguments and the handler that runs it; a group
(`deal`, `stage`, ...) lists its actions. `COMMAND_MODULES` says which module declares each
top-level command, in the order `repdesk --help` lists them, so that the parser for one
command imports that command's module alone: building every parser (and importing every
command module) costs a `repdesk quota` in a status bar more than its query.

To add a command: write its handler and a `Command` in the group's module, and name it in
COMMAND_MODULES (tests/cli/test_registry.py checks the two agree).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from repdesk.cli.shell import Desk, UsageError, given

# typing for the type checker only: the shell's fast commands never import it (2 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

Handler = Callable[[Desk, argparse.Namespace], int]


class HelpFormatter(argparse.HelpFormatter):
    """argparse's, measuring the terminal as `shutil.get_terminal_size` does without importing
    shutil (and the compression modules it imports): argparse makes a formatter for every
    argument it adds, on every command's start, not only for --help."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2  # as argparse does
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0 and sys.__stdout__ is not None:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (ValueError, OSError):
            columns = 0
    return columns or 80


_NEGATIVE_OR_OFFSET = re.compile(r"^-\d")


class Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        # Anything starting with a dash and a digit (`-1d`, `-1D`, `-20%`, `-1,5k`) is a value,
        # as `-1` is, never an unknown option: `--at -1d` said "expected one argument" (found
        # by an audit). No option of repdesk's starts with a dash and a digit.
        self._negative_number_matcher = _NEGATIVE_OR_OFFSET

    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the rep sees what was wrong and where to look.
        raise UsageError(f"{message} (see `{self.prog} --help`)")


@dataclass(frozen=True)
class Command:
    """One command or action of the shell, as `repdesk --help` and argparse see it."""

    name: str
    help: str
    # None for a group: run without an action, it says it needs one.
    handler: Handler | None = None
    arguments: Callable[[argparse.ArgumentParser], None] | None = None
    # A group's actions, their heading in its --help ("deal commands") and their metavar.
    actions: Sequence[Command] = ()
    actions_title: str = ""
    actions_metavar: str = "ACTION"


# Every top-level command, in the order `repdesk --help` lists them, and the module of
# repdesk.cli that declares it.
COMMAND_MODULES = {
    "demo": "app",
    "deal": "deals",
    "contact": "people",
    "company": "people",
    "log": "activities",
    "activity": "activities",
    "follow-up": "follow_ups",
    "capture": "capture",
    "objection": "objections",
    "stage": "stages",
    "trash": "trash",
    "playbook": "objections",
    "today": "figures",
    "quota": "figures",
    "kpi": "figures",
    "review": "forecast",
    "export": "transfer",
    "serve": "app",
    "migrate-to": "transfer",
    "import": "transfer",
    "sync": "sync",
    "backup": "transfer",
    "restore": "transfer",
}


def declared(module: str) -> dict[str, Command]:
    """The commands a module of repdesk.cli declares, by name (importing it if need be)."""
    found = importlib.import_module(f"repdesk.cli.{module}").commands()
    return {command.name: command for command in found}


def command_word(words: Sequence[str]) -> str | None:
    """The command `words` run, for `build_parser`: "" for none (the app), None when the
    words need the whole parser (`--help`, `--version`, an option that is no option)."""
    at = 0
    while at < len(words):
        word = words[at]
        if word == "--home":
            at += 2
        elif word.startswith("--home="):
            at += 1
        elif word.startswith("-"):
            return None
        else:
            return word or None  # "" is no command: the whole parser says so, listing them
    return ""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `command`, just that command's part (its module alone is
    imported), with "" none (`repdesk` opens the app: the command modules, some of which
    import SQLModel, would cost its first frame a third of a second). A name that is no
    command gets the whole parser, for its help and its error."""
    parser = Parser(
        prog="repdesk",
        description="A keyboard-driven terminal desk for one sales rep. Without a command, "
        "opens the app on your desk.",
    )
    parser.add_argument(
        "--home", type=given, metavar="DIR", help="keep the desk and settings in DIR"
    )
    parser.add_argument("--version", action=_Version)
    parser.set_defaults(handler=_open_the_app)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)
    if command == "":
        return parser
    names = [command] if command in COMMAND_MODULES else list(COMMAND_MODULES)
    modules: dict[str, dict[str, Command]] = {}
    for name in names:
        module = COMMAND_MODULES[name]
        if module not in modules:
            modules[module] = declared(module)
        _add(commands, modules[module][name])
    return parser


def _add(parent: argparse._SubParsersAction[Parser], command: Command) -> None:
    sub = parent.add_parser(command.name, help=command.help, description=command.help)
    sub.set_defaults(handler=command.handler or _needs_an_action(command.name))
    if command.arguments is not None:
        command.arguments(sub)
    if command.actions:
        title = command.actions_title or f"{command.name} commands"
        actions = sub.add_subparsers(
            title=title, metavar=command.actions_metavar, parser_class=Parser
        )
        for action in command.actions:
            _add(actions, action)


class _Version(argparse.Action):
    """`repdesk --version`. The version is looked up only when asked: reading the package
    metadata (repdesk.__version__) costs more than `repdesk quota` does."""

    def __init__(self, option_strings: Sequence[str], dest: str, **_: Any) -> None:
        super().__init__(
            option_strings, dest=argparse.SUPPRESS, nargs=0, help="show the version and exit"
        )

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        import repdesk

        print(f"repdesk {repdesk.__version__}")
        parser.exit()


def _needs_an_action(name: str) -> Handler:
    def handler(desk: Desk, args: argparse.Namespace) -> int:
        raise UsageError(f"{name} needs an action (see `repdesk {name} --help`)")

    return handler


def _open_the_app(desk: Desk, args: argparse.Namespace) -> int:
    """`repdesk` without a command. Its module is imported now, not above (the fast path never
    opens the app), and by name like every command module (`declared`): app.py imports this
    module for `Command`, and a static import back would make the two a cycle."""
    cmd_open: Handler = importlib.import_module("repdesk.cli.app").cmd_open
    return cmd_open(desk, args)
