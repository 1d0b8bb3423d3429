"""The shell's entry point past the status line's shortcut: parse, run the command's handler,
and turn every failure into one line and an exit code (2 bad input, 1 a desk problem)."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Sequence

from repdesk import settings as settings_mod
from repdesk.cli import shell
from repdesk.cli.shell import Desk, UsageError
from repdesk.core.currencies import CurrencyInputError
from repdesk.core.dates import DateInputError, PeriodInputError
from repdesk.core.errors import DeskError, RepdeskError
from repdesk.core.money import AmountInputError
from repdesk.core.text import printable
from repdesk.storage import paths, problems

# typing for the type checker only: the shell's fast commands never import it (2 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["main"]

# `repdesk quota --short` and `repdesk today`, as the parser reads them
# (tests/cli/test_status_line.py holds the two together): a status bar's first run after a
# change, and the rep's look at the day, take them from here, without argparse, the registry
# or the parser's building, some 6 ms of runs that have to stay under 0.5x and 0.8x
# Taskwarrior's `task next` (benchmarks/bench.py).
QUOTA_SHORT_WORDS = ("quota", "--short")
TODAY_WORDS = ("today",)


def quota_short_args() -> Any:
    from types import SimpleNamespace

    from repdesk.cli.figures import cmd_quota

    return SimpleNamespace(home=None, handler=cmd_quota, words=[], json=False, short=True)


def today_args() -> Any:
    from types import SimpleNamespace

    from repdesk.cli.figures import TODAY_ROWS, cmd_today

    return SimpleNamespace(home=None, handler=cmd_today, json=False, all=False, limit=TODAY_ROWS)


# ---------------------------------------------------------------- entry point


def _quiet_libraries() -> None:
    """Nothing but repdesk's own one line reaches stderr: SQLAlchemy warns (SAWarning) in
    several lines. Warnings stay on under `python -W`. (Its logged tracebacks are silenced
    where the engines are made: storage/store.py.)"""
    import warnings

    if not sys.warnoptions:
        warnings.simplefilter("ignore")


def main(argv: Sequence[str] | None = None) -> int:
    desk_path = "the desk"
    crash_log = None  # before the home is known: REPDESK_HOME's, else the user's log folder
    _quiet_libraries()
    try:
        words = list(sys.argv[1:] if argv is None else argv)
        for word in words:
            _utf8(word)
        args = _parse(words)
        home = paths.resolve_home(args.home)
        desk_path, crash_log = str(home.desk), home.crash_log
        if (blocked := paths.not_a_folder(home)) is not None:
            raise DeskError(
                f"{blocked} is a file, not a folder: give --home (or REPDESK_HOME) a folder"
            )
        return int(args.handler(Desk(home), args))
    except UsageError as exc:
        return _fail(str(exc), shell.EXIT_BAD_INPUT)
    except (DateInputError, PeriodInputError, AmountInputError, RepdeskError) as exc:
        return _fail(str(exc), shell.EXIT_BAD_INPUT)
    except CurrencyInputError as exc:
        return _fail(f"--currency: {exc}", shell.EXIT_BAD_INPUT)
    except (DeskError, settings_mod.SettingsError) as exc:
        return _fail(str(exc), shell.EXIT_DESK_PROBLEM)
    except KeyboardInterrupt:
        # Said: an import stopped with ctrl+c left a finished-looking bar and no word (a
        # hostile test). Every write is one transaction: what was not finished is not there.
        try:
            sys.stdout.flush()
            sys.stderr.write("\nrepdesk: interrupted: what was not finished was not written\n")
        except Exception:  # a closed or broken stream: the exit code says it
            pass
        return 130
    except BrokenPipeError:
        # `repdesk today | head`: the reader left; that is not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # the last line of defence: never a traceback at the rep
        if (output := _output_problem(exc)) is not None:
            return _fail(output, shell.EXIT_DESK_PROBLEM)
        message, code = problems.describe(exc, desk_path, crash_log=crash_log)
        return _fail(message, code)


def _output_problem(exc: Exception) -> str | None:
    """What went wrong writing the answer, in words: started with stdout closed (`>&-`), or a
    full disk under it (`> /dev/full`, an export). These said "unexpected error" and left a
    crash log, as for a bug (found by a hostile test)."""
    if isinstance(exc, AttributeError) and sys.stdout is None:
        return "standard output is closed: there is nowhere to print the answer"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f"{exc.filename}" if exc.filename else "the answer"
        return f"cannot write {where}: no space left on the device"
    return None


def _parse(words: list[str]) -> Any:
    """The command line read: the handler to run and its arguments."""
    if tuple(words) == QUOTA_SHORT_WORDS:
        return quota_short_args()
    if tuple(words) == TODAY_WORDS:
        return today_args()
    from repdesk.cli.registry import build_parser, command_word

    return build_parser(command_word(words)).parse_args(words)


def _utf8(word: str) -> None:
    """Bytes that are not UTF-8 reach Python as lone surrogates (PEP 383), which no desk, no
    terminal and no PostgreSQL can hold: refused here, in one line, not a crash later."""
    try:
        word.encode("utf-8")
    except UnicodeEncodeError:
        shown = word.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise UsageError(
            f"{shown!r} is not UTF-8 text: set your terminal to UTF-8 and type it again"
        ) from None


def _fail(message: str, code: int) -> int:
    # Line by line: an import lists one problem per line.
    lines = (printable(line) for line in message.split("\n"))
    sys.stderr.write(f"repdesk: {chr(10).join(lines)}\n")
    return code
