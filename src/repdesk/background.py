"""Work started now in a thread and collected later: for start-up work that runs beside the
imports or the first paint (SQLite's C code lets go of the GIL while it reads)."""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


def start(fn: Callable[[], T], name: str) -> Future[T]:
    """Run `fn` in a daemon thread; its result or exception arrives in the future."""
    future: Future[T] = Future()

    def run() -> None:
        # Running from now on: a caller that stops waiting (an app quitting while a sync runs
        # cancels the asyncio side) can no longer cancel it, so its result has a place to go.
        if not future.set_running_or_notify_cancel():
            return  # cancelled before it started
        try:
            future.set_result(fn())
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


# How long a thread may hold the GIL while another waits for it (Python's default: 5 ms).
# The app reads in threads while the UI thread composes and draws (a screen's figures, the
# first frame's cards); between its SQL steps a read needs the GIL back, and with the
# default it waited for it so often that the KPI pane's 110 ms read took 330 ms beside the
# drawing of its screen (260 ms at 1 ms; benchmarks/terminal.py measures the screens).
SWITCH_INTERVAL = 0.001


def share_the_gil_finely() -> None:
    """For the app: threads that read take turns with the UI thread every millisecond."""
    sys.setswitchinterval(SWITCH_INTERVAL)


def yield_the_cpu() -> None:
    """Lower the calling thread's CPU priority (Linux: threads have their own nice value;
    elsewhere nothing): on a machine with few cores, work that can wait runs when the UI
    thread does not need the core."""
    import os

    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def pause_collector() -> None:
    """For the app's start: importing Textual and SQLAlchemy makes some 200,000 objects that
    live as long as the process, and the cyclic collector's passes over them cost about a
    seventh of the time to the first frame. Nothing made before that frame is garbage worth
    chasing."""
    gc.disable()


def resume_collector() -> None:
    """After the first frame: what start-up made is frozen out of the collector's sight (it
    lives as long as the process), and collecting resumes for what comes next.

    No collection before the freeze: a full pass over the start-up's objects would stall the
    first key press. The price: the first frame's own widgets, when later replaced (the
    columns after `v`, the board left for the demo desk), stay in memory, once, with the
    first screenful of cards they drew (well under a megabyte)."""
    if not gc.isenabled():
        gc.freeze()
        collect_in_pauses()
        gc.enable()


# How many collections of the middle generation may pass before the collector makes a full
# pass by itself (Python's default: 10). See collect_in_pauses.
FULL_PASS_AFTER = 100


def collect_in_pauses() -> None:
    """The collector's full passes, 20-45 ms each on a desk of 10,000 cards (they free the
    widgets of the screens closed since the last one), came by themselves every 10 passes
    over the middle generation: that is, in the middle of the work that makes objects, an
    opening screen (the KPI pane took 106 ms once in three). Now they come by themselves ten
    times less often, and the app makes them when nobody is typing (`collect_if_due`)."""
    global _in_pauses, _threshold_before
    _threshold_before = gc.get_threshold()
    young, middle, _full = _threshold_before
    gc.set_threshold(young, middle, FULL_PASS_AFTER)
    _in_pauses = True


def stop_collecting_in_pauses() -> None:
    """Python's own schedule again (a test that started the app in its process puts it back)."""
    global _in_pauses
    if _in_pauses:
        gc.set_threshold(*_threshold_before)
        _in_pauses = False


_in_pauses = False  # set by collect_in_pauses: a process that never started the app is left be
_threshold_before = gc.get_threshold()


def collect_if_due() -> bool:
    """A full pass now, if objects reached the oldest generation since the last one (the app
    calls this when no key or click came for a while). True when it collected."""
    if not _in_pauses or not gc.isenabled() or gc.get_count()[2] == 0:
        return False
    gc.collect()
    return True
