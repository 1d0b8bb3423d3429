"""A progress bar on stderr for imports that take more than a moment.

Drawn only when stderr is a terminal (a pipe or a log file gets nothing) and only once the work
has run longer than `delay`, so a quick import stays silent. One line, redrawn in place, cleared
at the end.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class ProgressBar:
    def __init__(self, label: str, *, stream: TextIO | None = None, delay: float = 0.3) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.started = time.monotonic()
        self.drawn = False
        self.last_draw = 0.0
        try:
            self.enabled = self.stream.isatty()
        except (AttributeError, ValueError):
            self.enabled = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        moment = time.monotonic()
        if moment - self.started < self.delay or (moment - self.last_draw < 0.1 and done < total):
            return
        filled = WIDTH * min(done, total) // total
        bar = "█" * filled + "░" * (WIDTH - filled)
        self.stream.write(f"\r{self.label} {bar} {done:,}/{total:,}")
        self.stream.flush()
        self.drawn = True
        self.last_draw = moment

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self.drawn = False
