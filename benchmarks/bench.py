"""repdesk benchmarks: prints figures (medians of several fresh runs), not a test.

    .venv/bin/python benchmarks/bench.py [--deals 10000] [--runs 5]

Measures, on a desk of N open deals (10 activities each, N/2 closed deals):
- the app: process start to the first painted board, against the floor (a bare Textual app
  that imports sqlmodel and paints one label), and peak memory;
- key presses: moving the cursor, and moving a deal to the next stage (database write
  included), each as handler + redraw of the visible lines;
- the shell: `repdesk quota` and `repdesk today`, against `python -c "import sqlite3"` and,
  when Taskwarrior is installed, `task next` on N tasks.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from big_desk import build

import repdesk as repdesk_package

NOW = "2026-11-20T09:30:00+00:00"

# Each app prints, at its first paint, the seconds since the parent started it (BENCH_T0):
# process start to first paint, without the shutdown that follows.
FLOOR_APP = """
import os, sys, time, sqlmodel
from textual.app import App
from textual.widgets import Label
class Floor(App):
    def compose(self):
        yield Label("floor")
    def on_mount(self):
        self.call_after_refresh(self.done)
    def done(self):
        print("painted", time.time() - float(os.environ["BENCH_T0"]), file=sys.stderr)
        self.exit()
Floor().run(headless=True, size=(160, 48))
"""

# The board as `repdesk` opens it: open_app (src/repdesk/cli/app.py), run headless, stopped
# at the first frame.
BOARD_APP = """
import os, resource, sys, time
from repdesk.cli.app import open_app
from repdesk.cli.shell import Desk
from repdesk.storage import paths
def run(app):
    after = app.after_first_paint  # called once the board's first frame is out
    def painted():
        print("painted", time.time() - float(os.environ["BENCH_T0"]), file=sys.stderr)
        after()  # the rest of the start: every card, the launch notice
        loaded()
    def loaded():  # peak memory once every card is in
        if not app.board.loaded:
            return app.set_timer(0.01, loaded)
        print("maxrss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
        app.exit()
    app.after_first_paint = painted
    app.run(headless=True, size=(160, 48))
open_app(Desk(paths.resolve_home()), auto_backup=False, run=run)
"""


def first_paints(
    apps: dict[str, list[str]], env: dict[str, str], runs: int
) -> dict[str, tuple[float, float]]:
    """Median seconds from process start to first paint, and peak memory in MB, of each app.

    The apps take turns, run by run: a machine that slows down for a while (a shared host)
    slows each of them alike, so the ratios hold where the absolute figures drift.
    """
    paints: dict[str, list[float]] = {name: [] for name in apps}
    peaks = dict.fromkeys(apps, 0.0)
    for _ in range(runs):
        for name, cmd in apps.items():
            run_env = dict(env, BENCH_T0=repr(time.time()))
            result = subprocess.run(cmd, env=run_env, capture_output=True, text=True)
            if result.returncode != 0:
                raise SystemExit(f"{cmd} failed: {result.stderr[-2000:]}")
            lines = result.stderr.splitlines()
            figures = dict(line.split() for line in lines if line[:1].isalpha())
            paints[name].append(float(figures["painted"]))
            peaks[name] = max(peaks[name], float(figures.get("maxrss", 0)) / 1024)
    return {name: (statistics.median(paints[name]), peaks[name]) for name in apps}


def timed(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, str]:
    samples, last_err = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
        samples.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(f"{cmd} failed: {result.stderr[-2000:]}")
        last_err = result.stderr
    return statistics.median(samples), last_err


async def key_presses(env_home: Path, samples: int) -> tuple[float, float]:
    os.environ["REPDESK_HOME"] = str(env_home)
    from repdesk.settings import load
    from repdesk.storage.paths import resolve_home
    from repdesk.tui.app import create_app

    home = resolve_home()
    app = create_app(home, load(home.settings))
    cursor, moves = [], []
    async with app.run_test(size=(160, 48)) as pilot:
        while not app.board.loaded:
            await pilot.pause(0.01)
        board = app.board
        await pilot.pause()

        def repaint() -> None:
            box = board.current_box()
            assert box is not None
            for y in range(box.column.size.height):
                box.column.render_line(y)

        for n in range(samples):
            start = time.perf_counter()
            board.action_card(1 if n % 2 == 0 else -1)
            repaint()
            cursor.append(time.perf_counter() - start)
        for n in range(samples):
            start = time.perf_counter()
            await board.action_move(1 if n % 2 == 0 else -1)
            repaint()
            moves.append(time.perf_counter() - start)
            board.workers.cancel_group(board, "board-load")
            await pilot.pause()
    return statistics.median(cursor), statistics.median(moves)


def taskwarrior_next(tasks: int, runs: int) -> float | None:
    task = shutil.which("task")
    if task is None:
        return None
    root = Path(tempfile.mkdtemp(prefix="bench-task-"))
    env = dict(os.environ, TASKDATA=str(root / "data"), TASKRC=str(root / "taskrc"))
    (root / "taskrc").write_text("confirmation=off\nverbose=nothing\nnews.version=99\n")
    data = [
        {
            "description": f"Call company {n}",
            "status": "pending",
            "uuid": f"{n:08x}-0000-4000-8000-000000000000",
            "entry": "20261101T090000Z",
            "due": f"202612{(n % 28) + 1:02d}T090000Z",
            "project": f"p{n % 50}",
        }
        for n in range(tasks)
    ]
    (root / "tasks.json").write_text(json.dumps(data))
    subprocess.run([task, "import", str(root / "tasks.json")], env=env, capture_output=True)
    median, _ = timed([task, "next"], env, runs)
    return median


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="repdesk-bench-"))
    build(root / "desk.sqlite", deals=args.deals)
    env = dict(os.environ, REPDESK_HOME=str(root), REPDESK_NOW=NOW, TZ="UTC")
    python = sys.executable
    print(f"desk: {args.deals:,} open deals, {args.deals // 2:,} closed, "
          f"{args.deals * 10:,} activities; medians of {args.runs} runs")  # fmt: skip

    # As installed: pip compiles the package's bytecode, an editable checkout may not have it
    # (PYTHONDONTWRITEBYTECODE), and compiling on every start is not the app's cost.
    compileall.compile_dir(Path(repdesk_package.__file__).parent, quiet=1)
    paints = first_paints(
        {"floor": [python, "-c", FLOOR_APP], "board": [python, "-c", BOARD_APP]}, env, args.runs
    )
    (floor, _), (board, peak_mb) = paints["floor"], paints["board"]
    print(f"floor (Textual + sqlmodel, one label): {floor * 1000:7.0f} ms")
    times_floor = board / floor
    print(
        f"first painted board:                   {board * 1000:7.0f} ms  ({times_floor:.2f}x floor)"
    )
    print(f"peak memory with the board:            {peak_mb:7.0f} MB")

    cursor, move = asyncio.run(key_presses(root, 40))
    print(f"cursor move (handler + repaint):       {cursor * 1000:7.2f} ms")
    print(f"stage move (write + redraw):           {move * 1000:7.2f} ms")

    sqlite_floor, _ = timed([python, "-c", "import sqlite3"], env, args.runs * 2)
    repdesk = [str(Path(python).with_name("repdesk"))]
    quota, _ = timed([*repdesk, "quota"], env, args.runs * 2)
    today, _ = timed([*repdesk, "today"], env, args.runs * 2)
    task = taskwarrior_next(args.deals, args.runs * 2)
    print(f"python -c 'import sqlite3':            {sqlite_floor * 1000:7.0f} ms")
    ratio = (lambda v: f"  ({v / task:.2f}x task next)") if task else (lambda v: "")
    print(f"repdesk quota:                         {quota * 1000:7.0f} ms{ratio(quota)}")
    print(f"repdesk today:                         {today * 1000:7.0f} ms{ratio(today)}")
    if task:
        print(f"task next ({args.deals:,} tasks):              {task * 1000:7.0f} ms")
    else:
        print("task next: Taskwarrior not installed (apt-get install taskwarrior)")


if __name__ == "__main__":
    main()
