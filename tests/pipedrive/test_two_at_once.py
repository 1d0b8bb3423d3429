"""Two syncs of one desk at once (the app's `I` while a shell runs `repdesk sync pipedrive`,
or two shells): the second says so in one line and does nothing. Run together, both sent the
same new deals and organizations, and the next sync took the copies back in as new deals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from tests.pipedrive.helpers import add_deal, point_settings_at, sync
from tests.pipedrive.server import TOKEN, Pipedrive
from tests.shell import ok, refused

from repdesk.storage.models import Deal
from repdesk.storage.store import read_session
from repdesk.sync.connector import SyncBusy


def test_a_second_sync_while_one_runs_does_nothing_and_nothing_is_sent_twice(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    sync(desk, url)  # linked
    for number in range(6):
        add_deal(desk, f"Deal {number}", company=f"Company {number % 2}")
    api.gate.clear()  # the first sync waits on the network...
    api.arrived.clear()
    first = threading.Thread(target=sync, args=(desk, url))
    first.start()
    assert api.arrived.wait(60)  # the first one is under way
    # ...while a second one starts (released after a while, so that without the rule the
    # second would go on, not hang)
    opens = threading.Timer(3.0, api.gate.set)
    opens.start()
    try:
        with pytest.raises(SyncBusy, match="another sync with Pipedrive is under way") as raised:
            sync(desk, url)
        assert "\n" not in str(raised.value)
    finally:
        api.gate.set()
        opens.cancel()
        first.join(30)

    sync(desk, url)
    titles = Counter(d["title"] for d in api.objects["deals"].values())
    assert titles == {f"Deal {n}": 1 for n in range(6)}
    assert sorted(o["name"] for o in api.objects["organizations"].values()) == [
        "Company 0",
        "Company 1",
    ]
    with read_session(desk) as session:
        assert session.execute(select(func.count()).select_from(Deal)).scalar_one() == 6


def test_the_shell_says_a_sync_is_under_way_and_a_killed_one_holds_nothing(
    home: Path, desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    point_settings_at(home, url)
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)
    ok("deal", "add", "Fleet rollout")
    api.gate.clear()  # the first sync waits on the network
    first = subprocess.Popen(
        [sys.executable, "-m", "repdesk", "sync", "pipedrive"],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert until(lambda: api.arrived.is_set() or first.poll() is not None)
        opens = threading.Timer(3.0, api.gate.set)
        opens.start()
        err = refused("sync", "pipedrive")
        opens.cancel()
        assert err.count("\n") == 1 and "under way" in err and "damaged" not in err
        first.send_signal(signal.SIGKILL)  # killed while it holds the turn
        first.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
        api.gate.set()

    assert "sent 1 new" in ok("sync", "pipedrive")  # the killed one left nothing held
    assert api.count("deals", title="Fleet rollout") == 1
    assert "synced just now" in ok("sync", "status")


def until(condition: Callable[[], bool], seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
