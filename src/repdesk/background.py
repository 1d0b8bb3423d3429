"""Work started now in a thread and collected later: for start-up work that runs beside the
imports or the first paint (SQLite's C code lets go of the GIL while it reads)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


def start(fn: Callable[[], T], name: str) -> Future[T]:
    """Run `fn` in a daemon thread; its result or exception arrives in the future."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(fn())
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future
