"""Every message the rep sees is one line (issue 18, "Messages"): the app's last words after
errors, and `repdesk` started without a terminal."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from tests.tui.desks import build_small_desk

from repdesk.tui.app import RepdeskApp, RepdeskStopped


async def test_after_several_errors_the_app_says_one_line_and_no_textual_note(
    app: RepdeskApp, home: Path
) -> None:
    said = io.StringIO()
    app.error_console = Console(file=said, width=200, color_system=None)
    with pytest.raises(RepdeskStopped):
        async with app.run_test():
            # What Textual does when two workers fail before the app is gone.
            app._handle_exception(RuntimeError("first"))
            app._handle_exception(RuntimeError("second"))
    lines = said.getvalue().strip().splitlines()
    assert len(lines) == 1, said.getvalue()
    assert lines[0].startswith("repdesk: unexpected error: RuntimeError: first (details in ")
    assert "textual run" not in said.getvalue()
    log = home / "logs" / "crash.log"
    assert log.read_text().count("builtins.RuntimeError") == 2  # both are kept there


async def test_the_last_line_is_whole_however_narrow_the_terminal(app: RepdeskApp) -> None:
    """Textual drew the stop line at the app's width and printed it cropped: a damaged big
    desk's line lost its "restore a backup" at 100 columns (found by a hostile test)."""
    said = io.StringIO()
    app.error_console = Console(file=said, width=60, color_system=None)
    why = "a damaged page, and a long way out of it: " + "restore a backup " * 6 + "(end)"
    with pytest.raises(RepdeskStopped):
        async with app.run_test(size=(40, 12)):
            app._handle_exception(RepdeskStopped(why))
    line = said.getvalue()
    assert line.startswith("repdesk: ") and why in line and line.count("\n") == 1, line


@pytest.mark.parametrize("command", [[], ["demo"]])
def test_the_app_without_a_terminal_says_it_needs_one(home: Path, command: list[str]) -> None:
    build_small_desk(home)
    done = subprocess.run(
        [sys.executable, "-m", "repdesk", "--home", str(home), *command],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,  # it used to wait for keys forever
    )
    assert done.returncode == 2
    assert done.stderr == (
        "repdesk: the app needs a terminal (stdin and stderr are not): run `repdesk` in a "
        "terminal, or use its commands (`repdesk --help`)\n"
    )
    assert "Traceback" not in done.stdout  # `demo` builds its desk first, then says so


@pytest.mark.parametrize("stdout", ["closed", "/dev/full"])
@pytest.mark.parametrize("command", [["quota", "--short"], ["quota"], ["today"]])
def test_an_answer_with_nowhere_to_go_says_why_in_one_line(
    home: Path, stdout: str, command: list[str]
) -> None:
    """(Found by a hostile test.) `repdesk quota --short >&-` said "unexpected error:
    AttributeError" and `> /dev/full` "unexpected error: OSError", each leaving a crash log
    as for a bug; now they say what is wrong. (A command whose answer is a confirmation of
    what it saved prints nothing when stdout is closed: tests/cli/test_mend.py.)"""
    from tests.conftest import cli_env

    if stdout == "/dev/full" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    shell = f"exec {' '.join([sys.executable, '-m', 'repdesk', *command])}"
    shell += " >&-" if stdout == "closed" else " >/dev/full"
    done = subprocess.run(
        ["sh", "-c", shell], env=cli_env(home), capture_output=True, text=True, timeout=60
    )
    if stdout == "closed" and command == ["today"]:
        assert done.returncode == 0 and done.stderr == ""  # shell.out: nowhere, nothing said
    else:
        assert done.returncode == 1
        expected = "standard output is closed" if stdout == "closed" else "no space left"
        assert done.stderr.count("\n") == 1 and expected in done.stderr, done.stderr
    assert not list(home.rglob("crash.log"))
