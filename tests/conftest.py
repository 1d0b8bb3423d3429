"""Every test runs on its own desk under a temporary REPDESK_HOME, with the clock and the
time zone pinned, so no test can touch the rep's real files or depend on today's date."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests import engines
from tests.pinned import NOW

if TYPE_CHECKING:
    from repdesk.tui.app import RepdeskApp


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("REPDESK_HOME", str(home))
    monkeypatch.setenv("REPDESK_NOW", NOW.isoformat())
    monkeypatch.setenv("TZ", "UTC")
    # The rep's own server must never be reached: a test's desk is its file unless it asks.
    monkeypatch.delenv("REPDESK_DATABASE_URL", raising=False)
    # platformdirs must never be reached: point its inputs somewhere harmless too.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))  # the crash log
    time.tzset()
    switch_interval = sys.getswitchinterval()
    yield home
    time.tzset()
    # The app's start shares the GIL finely for its own process (background.py); a test that
    # ran that start must not change the timing of the tests after it in the same worker.
    sys.setswitchinterval(switch_interval)


def _textual_tuned_for_tests() -> None:
    """Two changes to Textual in a test process, made once, when a test first has it imported
    (only the tests that drive the app import it: see the `app` fixture below).

    - A toast lives 5 or 10 s of wall time; on a busy machine a test's next look at the screen
      can come later than that, and a test waiting for a notice then never sees it (issue 22:
      scripts/under-load caught one). In tests every toast lives a minute; snapshot tests
      clear them first (tests/tui/drive.py `still`).
    - After every key it sends, Textual's Pilot waits for the app to go idle, twice: it sleeps
      in steps of 20 ms until one step passes with under 1 ms of CPU (textual/_wait.py). Most
      keys are handled in a few milliseconds, so a typed word cost 40 ms a letter of sleeping
      (a third of the suite's time in the app's tests). Steps of 5 ms, still idle at under
      1 ms of CPU, make that 10 ms. The tests wait for states, not for idleness, where a read
      or a write runs in a thread (tests/tui/drive.py `until`), so no test leans on the
      longer step.
    """
    import sys

    textual_app = sys.modules.get("textual.app")
    if textual_app is None or getattr(textual_app.App.notify, "_tuned_for_tests", False):
        return
    import textual._wait

    textual._wait.SLEEP_GRANULARITY = 0.005
    textual._wait.SLEEP_IDLE = 0.001
    original = textual_app.App.notify

    def notify(self, message, *, timeout=None, **options):  # type: ignore[no-untyped-def]
        return original(self, message, timeout=60, **options)

    notify._tuned_for_tests = True  # type: ignore[attr-defined]
    textual_app.App.notify = notify


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    # After the fixtures (which import Textual where a test drives the app), before the test.
    _textual_tuned_for_tests()


@pytest.fixture
def home(isolated_home: Path) -> Path:
    return isolated_home


@pytest.fixture(params=engines.ENGINES)
def engine(request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A fresh desk on each engine: the SQLite file in the test's home, and an empty database
    on the test server (whose URL is also set for any `repdesk` the test runs)."""
    from repdesk.storage.store import make_engine, make_server_engine

    if request.param == "sqlite":
        eng = make_engine(home / "desk.sqlite")
        yield eng
        eng.dispose()
        return
    with engines.fresh_database() as url:
        monkeypatch.setenv("REPDESK_DATABASE_URL", url)
        eng = make_server_engine(url)
        yield eng
        eng.dispose()


@pytest.fixture
def sqlite_engine(home: Path):  # type: ignore[no-untyped-def]
    """The desk file only: for what is about the file itself (pragmas, header, BEGIN IMMEDIATE)."""
    from repdesk.storage.store import make_engine

    eng = make_engine(home / "desk.sqlite")
    yield eng
    eng.dispose()


@pytest.fixture
def server_url() -> Iterator[str]:
    """An empty database on the test server (skipped locally without one, failed in CI)."""
    with engines.fresh_database() as url:
        yield url


# The app, made but not started: a test runs it (`async with app.run_test(size=...)`) or hands
# it to `snap_compare`. Imported here, not at the top: only the tests that ask import Textual.


@pytest.fixture
def app(home: Path) -> RepdeskApp:
    """The app on the small desk of tests/tui/desks.py, with the default settings."""
    from tests.tui.desks import build_small_desk, settings

    from repdesk.tui.app import create_app

    return create_app(build_small_desk(home), settings())


@pytest.fixture
def empty_app(home: Path) -> RepdeskApp:
    """The app on a desk with no deals yet: it opens on the welcome."""
    from tests.tui.desks import settings

    from repdesk.storage.paths import Home
    from repdesk.tui.app import create_app

    return create_app(Home(home, home), settings())


def cli_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["REPDESK_HOME"] = str(home)
    return env
