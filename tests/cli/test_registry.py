"""The shell's command registry: every declared command reaches the parser, and the fast
path's parser imports its own module alone (see src/repdesk/cli/registry.py)."""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.shell import ok

from repdesk.cli.registry import COMMAND_MODULES, build_parser, command_word, declared


def test_every_declared_command_is_in_the_registry_and_the_help() -> None:
    for module in set(COMMAND_MODULES.values()):
        names = set(declared(module))
        listed = {name for name, where in COMMAND_MODULES.items() if where == module}
        assert names == listed, f"repdesk.cli.{module} declares {names}, the registry {listed}"
    help_text = build_parser().format_help()
    places = [help_text.index(f"\n    {name}") for name in COMMAND_MODULES]
    assert places == sorted(places)  # listed in the registry's order


def test_one_commands_parser_is_the_whole_parsers_part() -> None:
    def help_of(parser: argparse.ArgumentParser, name: str) -> str:
        shown = io.StringIO()
        with contextlib.redirect_stdout(shown), pytest.raises(SystemExit):
            parser.parse_args([name, "--help"])
        return shown.getvalue()

    for name in COMMAND_MODULES:
        assert help_of(build_parser(name), name) == help_of(build_parser(), name)


def test_every_option_of_every_command_says_what_it_does_in_its_help() -> None:
    # `repdesk today --help` listed a bare `--json` (a new user's trial), as did twelve more.
    def parsers(parser: argparse.ArgumentParser, path: str) -> list[tuple[str, Any]]:
        found = [(path, parser)]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found += parsers(sub, f"{path} {name}")
        return found

    silent = [
        f"{path} {action.option_strings[-1]}"
        for path, parser in parsers(build_parser(), "repdesk")
        for action in parser._actions
        if action.option_strings and not action.help
    ]
    assert silent == []


@pytest.mark.parametrize("command", [["quota", "--short"], ["today"], ["kpi", "--json"]])
def test_the_fast_path_imports_no_other_command_module(home: Path, command: list[str]) -> None:
    ok("deal", "add", "X")
    probe = (
        "import sys\n"
        "from repdesk.cli import main\n"
        f"assert main({command!r}) == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith('repdesk.cli')))\n"
        "print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'textual') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    *_, modules, heavy = result.stdout.splitlines()
    expected = ["repdesk.cli", "repdesk.cli.entry", "repdesk.cli.figures", "repdesk.cli.registry",
                "repdesk.cli.shell"]  # fmt: skip
    if command in (["quota", "--short"], ["today"]):  # without the parser (entry._parse)
        expected.remove("repdesk.cli.registry")
    assert modules == repr(expected)
    assert heavy == "[]"


@pytest.mark.parametrize(
    ("words", "command"),
    [
        ([], ""),  # the app: no command module at all
        (["--home", "/tmp/desk"], ""),
        (["--home=/tmp/desk"], ""),
        (["--home", "/tmp/desk", "deal", "list"], "deal"),
        (["today", "--limit", "3"], "today"),
        (["--help"], None),  # every command, for the help
        (["--version"], None),
        (["--hme", "x"], None),  # a typo: the whole parser says what is wrong
        (["--home"], ""),  # argparse says --home needs its folder
        ([""], None),  # an empty word is no command: the whole parser lists them
        (["--home", "x", ""], None),
    ],
)
def test_the_command_word_picks_the_parser(words: list[str], command: str | None) -> None:
    assert command_word(words) == command


def test_the_apps_parser_knows_home_and_no_command() -> None:
    args = build_parser("").parse_args(["--home", "/tmp/desk"])
    assert args.home == "/tmp/desk"
    assert args.handler.__name__ == "_open_the_app"
