"""The import progress bar: drawn on a terminal once the work takes more than a moment."""

from __future__ import annotations

import io
import time

from repdesk.io.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_that_is_cleared_at_the_end() -> None:
    screen = Terminal()
    bar = ProgressBar("Importing", stream=screen, delay=0)
    bar(4400, 8800)
    bar(8800, 8800)
    bar.close()
    drawn = screen.getvalue()
    assert "\rImporting " in drawn and "4,400/8,800" in drawn and "8,800/8,800" in drawn
    assert drawn.endswith("\r\x1b[2K")


def test_a_quick_import_or_a_pipe_gets_nothing() -> None:
    screen = Terminal()
    quick = ProgressBar("Importing", stream=screen, delay=60)
    quick(10, 20)
    quick.close()
    pipe = io.StringIO()
    piped = ProgressBar("Importing", stream=pipe, delay=0)
    piped(10, 20)
    piped.close()
    assert screen.getvalue() == "" and pipe.getvalue() == ""


def test_the_bar_is_throttled() -> None:
    screen = Terminal()
    bar = ProgressBar("Importing", stream=screen, delay=0)
    started = time.monotonic()
    for done in range(1, 1001):
        bar(done, 10_000)
    assert time.monotonic() - started < 1
    assert screen.getvalue().count("\r") < 20
