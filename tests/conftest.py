"""Every test runs on its own desk under a temporary REPDESK_HOME, with the clock and the
time zone pinned, so no test can touch the rep's real files or depend on today's date."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.pinned import NOW


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("REPDESK_HOME", str(home))
    monkeypatch.setenv("REPDESK_NOW", NOW.isoformat())
    monkeypatch.setenv("TZ", "UTC")
    # platformdirs must never be reached: point its inputs somewhere harmless too.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    time.tzset()
    yield home
    time.tzset()


@pytest.fixture
def home(isolated_home: Path) -> Path:
    return isolated_home


@pytest.fixture
def engine(home: Path):  # type: ignore[no-untyped-def]
    from repdesk.store import make_engine

    eng = make_engine(home / "desk.sqlite")
    yield eng
    eng.dispose()


def cli_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["REPDESK_HOME"] = str(home)
    return env
