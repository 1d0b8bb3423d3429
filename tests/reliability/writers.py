"""Writer processes the reliability tests start, race and kill. Run as a script:

    writers.py app HOME TAG ROUNDS SHARED OWN [PARTNER]   the app's write path (DeskGateway.write)
    writers.py shell HOME TAG ROUNDS SHARED OWN [PARTNER] the shell's entry point (repdesk.cli.main)
    writers.py zygote HOME DEALS                forks a call-logging writer per "spawn" line
    writers.py migrate DESK STOP                upgrades DESK and kills itself at step STOP

Each prints one line per write *after* it committed (its journal), so a test can tell what a
writer reported as done from what it was still doing when it died.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import sys
from pathlib import Path


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def ready() -> None:
    """Imports paid: say so and wait for the test's start line, so both writers race."""
    say("ready")
    sys.stdin.readline()


# With a partner, a writer waits at these rounds until the partner's calls have caught up, so
# the two race in every stretch between them, however the machine schedules two processes (a
# loaded 2-core machine once ran one writer's every round before the other's first).
MEET_EVERY = 10


def meet(home: Path, partner: str | None, round_number: int) -> None:
    """At every MEET_EVERY-th round, wait until `partner` logged its calls up to this round."""
    if partner is None or round_number == 0 or round_number % MEET_EVERY:
        return
    import sqlite3
    import time

    deadline = time.monotonic() + 60
    with contextlib.closing(sqlite3.connect(home / "desk.sqlite", timeout=30)) as conn:
        while time.monotonic() < deadline:
            ((done,),) = conn.execute(
                "SELECT count(*) FROM activity WHERE text LIKE ?", (f"{partner}-%",)
            ).fetchall()
            if done >= round_number:
                return
            time.sleep(0.002)


def _stage(round_number: int, own: list[int]) -> str:
    # Each owned deal goes Prospect -> Contacted -> Prospect ...: every move is a real change.
    return "Contacted" if (round_number // len(own)) % 2 == 0 else "Prospect"


def app_writer(
    home: Path, tag: str, rounds: int, shared: list[int], own: list[int], partner: str | None
) -> None:
    from repdesk.core import clock
    from repdesk.services import activities, deals
    from repdesk.settings import Settings
    from repdesk.storage.paths import Home
    from repdesk.tui.gateway import DeskGateway

    gateway = DeskGateway(Home(home, home), Settings())
    ready()

    async def run() -> None:
        for n in range(rounds):
            await asyncio.to_thread(meet, home, partner, n)
            deal_id, text = shared[n % len(shared)], f"{tag}-{n}"
            await gateway.write(
                lambda s, deal_id=deal_id, text=text: activities.log_activity(
                    session=s,
                    deal_id=deal_id,
                    kind="call",
                    text=text,
                    next_when=(clock.today(), None),
                    next_note=text,
                )
            )
            say(f"call {text}")
            mover, stage = own[n % len(own)], _stage(n, own)
            await gateway.write(
                lambda s, mover=mover, stage=stage: deals.move_deal(
                    session=s, deal_id=mover, stage=stage
                )
            )
            say(f"move {mover} {stage}")

    try:
        asyncio.run(run())
    finally:
        gateway.close()


def shell_writer(
    home: Path, tag: str, rounds: int, shared: list[int], own: list[int], partner: str | None
) -> None:
    import repdesk.services.activities  # the imports are paid before the start line
    import repdesk.storage.store  # noqa: F401
    from repdesk.cli import main

    ready()

    def shell(*args: str) -> bool:
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(["--home", str(home), *args])
        if code != 0 or err.getvalue():
            say(f"fail {code} {' '.join(args)}: {err.getvalue().strip()}")
            return False
        return True

    for n in range(rounds):
        meet(home, partner, n)
        text = f"{tag}-{n}"
        deal = str(shared[n % len(shared)])
        if shell("log", "call", deal, "--note", text, "--next", "today", "--next-note", text):
            say(f"call {text}")
        mover, stage = own[n % len(own)], _stage(n, own)
        if shell("deal", "move", str(mover), stage):
            say(f"move {mover} {stage}")


def zygote(home: Path, deal_count: int) -> None:
    """Pay the imports once, then fork a fresh writer for every "spawn" line on stdin (and say
    "child PID" at once, so it can be killed from its first instruction on).

    A forked child is a real process with its own engine and connections: SIGKILL ends it
    wherever it is (Python code, SQLite, an fsync). "reap" waits for it and answers "reaped",
    so everything the child reported comes before that line.
    """
    from repdesk.core import clock
    from repdesk.services import activities
    from repdesk.storage import store

    child = 0
    for command in sys.stdin:
        if command.strip() == "reap":
            if child:
                os.waitpid(child, 0)
                child = 0
            say("reaped")
            continue
        child = os.fork()
        if child:
            say(f"child {child}")
            continue
        try:
            # Startup is part of the window: preparing the desk (quick_check) can be killed too.
            engine = store.make_engine(home / "desk.sqlite")
            with store.read_session(engine) as session:
                done = session.connection().exec_driver_sql("SELECT count(*) FROM activity")
                n = int(done.scalar() or 0)
            while True:
                text, deal_id = f"K-{n}", n % deal_count + 1
                with store.write_session(engine) as session:
                    activities.log_activity(
                        session=session,
                        deal_id=deal_id,
                        kind="call",
                        text=text,
                        next_when=(clock.today(), None),
                        next_note=text,
                    )
                say(f"done {n}")
                n += 1
        finally:
            os._exit(0)


def migrate(desk: Path, stop: int) -> None:
    """Upgrade `desk`; SIGKILL ourselves before statement `stop` of the upgrade (-1: right after
    the pre-upgrade copy; a number past the last statement: just before the commit)."""
    from repdesk.storage import desk_file, migrations

    real_apply, real_backup = migrations.apply, desk_file.backup
    executed = 0

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def backup(conn: object, target: Path) -> Path:
        copy = real_backup(conn, target)  # type: ignore[arg-type]
        if stop == -1:
            die()
        return copy

    def apply(execute: object, **kw: object) -> int:
        def counted(statement: str) -> object:
            nonlocal executed
            if executed == stop:
                die()
            executed += 1
            return execute(statement)  # type: ignore[operator]

        result = real_apply(counted, **kw)  # type: ignore[arg-type]
        if executed <= stop:
            die()
        return result

    desk_file.backup = backup  # type: ignore[assignment]
    migrations.apply = apply  # type: ignore[assignment]
    desk_file.prepare(desk)
    say("upgraded")


if __name__ == "__main__":
    mode, rest = sys.argv[1], sys.argv[2:]
    if mode in ("app", "shell"):
        home, tag, rounds, shared, own, *partner = rest
        writer = app_writer if mode == "app" else shell_writer
        writer(
            Path(home),
            tag,
            int(rounds),
            [int(x) for x in shared.split(",")],
            [int(x) for x in own.split(",")],
            partner[0] if partner else None,
        )
    elif mode == "zygote":
        zygote(Path(rest[0]), int(rest[1]))
    elif mode == "migrate":
        migrate(Path(rest[0]), int(rest[1]))
    else:
        raise SystemExit(f"unknown mode {mode}")
