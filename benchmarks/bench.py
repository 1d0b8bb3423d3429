"""repdesk benchmarks: prints figures (medians of several fresh runs), not a test.

    .venv/bin/python benchmarks/bench.py [--deals 10000] [--runs 7] [--big] [--no-terminal]
                                         [--shell-only]

On a desk of N open deals (10 activities each, N/2 closed deals), each figure beside the
floor it is measured against in the same run (the two take turns, run by run):
- headless (Textual's own test driver): process start to the first painted board against a
  bare Textual app painting one label, and peak memory once every card is read;
- key presses, headless: moving the cursor, and moving a deal to the next stage (database
  write included), each as handler + redraw of the visible lines;
- in a real terminal (tmux, see terminal.py), when tmux is installed: the first board, each
  other screen, a key press and memory, beside a bare Textual app;
- the shell: `repdesk quota --short`, `repdesk quota` and `repdesk today`, against
  `python -c "import sqlite3"` and, when Taskwarrior is installed, `task next` on N tasks
  (`quota --short` twice: answered from the line its last run left, and after a change);
- `--big`: the same in a real terminal on ten times the data (10N open deals, 100N
  activities), built first (minutes).
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
import terminal
from big_desk import build

import repdesk as repdesk_package
from repdesk.storage.status_line import FILE_NAME as FORGOTTEN

NOW = "2026-11-20T09:30:00+00:00"

# Each app prints, at its first paint, the seconds since the parent started it (BENCH_T0):
# process start to first paint, without the shutdown that follows. The floor is the one the
# terminal benchmark uses: Textual and nothing else.
FLOOR_APP = """
import os, sys, time
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
    def loaded():  # peak memory once every card is in and SQLAlchemy imported
        if not (app.board.loaded and app.warmed.is_set()):
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
            words = [line.split() for line in lines]
            figures = {w[0]: w[1] for w in words if len(w) == 2 and w[0] in ("painted", "maxrss")}
            if "painted" not in figures:
                raise SystemExit(f"{cmd} painted nothing: {result.stderr[-2000:]}")
            paints[name].append(float(figures["painted"]))
            peaks[name] = max(peaks[name], float(figures.get("maxrss", 0)) / 1024)
    return {name: (statistics.median(paints[name]), peaks[name]) for name in apps}


def timed(commands: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict[str, float]:
    """Median seconds of each command (run in its environment), taking turns run by run."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (cmd, env) in commands.items():
            start = time.perf_counter()
            result = subprocess.run(cmd, env=env, capture_output=True, text=True)
            samples[name].append(time.perf_counter() - start)
            if result.returncode != 0:
                raise SystemExit(f"{cmd} failed: {result.stderr[-2000:]}")
    return {name: statistics.median(values) for name, values in samples.items()}


async def key_presses(env_home: Path, samples: int) -> tuple[float, float]:
    os.environ["REPDESK_HOME"] = str(env_home)
    from repdesk.settings import load
    from repdesk.storage.paths import resolve_home
    from repdesk.tui.app import create_app

    home = resolve_home()
    app = create_app(home, load(home.settings))
    cursor, moves = [], []
    async with app.run_test(size=(160, 48)) as pilot:
        while not (app.board.loaded and app.warmed.is_set()):
            await pilot.pause(0.01)
        board = app.board
        await pilot.pause()

        def repaint() -> None:
            column = board.current_column()
            assert column is not None
            for y in range(column.size.height):
                column.render_line(y)

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


def taskwarrior(tasks: int) -> tuple[list[str], dict[str, str]] | None:
    """`task next` on a Taskwarrior database of `tasks` pending tasks, and its environment."""
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
    return [task, "next"], env


def shell(env: dict[str, str], deals: int, runs: int) -> None:
    python = sys.executable
    repdesk = str(Path(python).with_name("repdesk"))
    commands = {
        "python -c 'import sqlite3'": ([python, "-c", "import sqlite3"], env),
        # What a status bar sees every few seconds: the line the last run left.
        "repdesk quota --short": ([repdesk, "quota", "--short"], env),
        # The first run after a change reads the desk (sh and rm cost a few ms of it).
        "repdesk quota --short, desk changed": (
            ["sh", "-c", f'rm -f "$REPDESK_HOME/{FORGOTTEN}"; exec "{repdesk}" quota --short'],
            env,
        ),
        "repdesk quota": ([repdesk, "quota"], env),
        "repdesk today": ([repdesk, "today"], env),
    }
    task = taskwarrior(deals)
    if task is not None:
        commands[f"task next ({deals:,} tasks)"] = task
    figures = timed(commands, runs)
    task_next = figures.get(f"task next ({deals:,} tasks)")
    targets = {
        "repdesk quota --short": 0.5,
        "repdesk quota --short, desk changed": 0.5,
        "repdesk today": 0.8,
    }
    print(f"shell, medians of {runs} alternating runs")
    for name, seconds in figures.items():
        line = f"  {name + ':':<40}{seconds * 1000:6.0f} ms"
        if task_next and name.startswith("repdesk"):
            ratio = seconds / task_next
            line += f"   {ratio:.2f}x task next"
            if name in targets:
                met = "met" if ratio <= targets[name] else "NOT met"
                line += f"   target <= {targets[name]}x: {met}"
        print(line)
    if task_next is None:
        print("  task next: Taskwarrior not installed (apt-get install taskwarrior)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--presses", type=int, default=20, help="key presses in the terminal")
    parser.add_argument("--big", action="store_true", help="also ten times the data (slow)")
    parser.add_argument("--no-terminal", action="store_true", help="leave out tmux")
    parser.add_argument("--shell-only", action="store_true", help="only the shell commands")
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
    if args.shell_only:
        shell(env, args.deals, args.runs * 2)
        return
    paints = first_paints(
        {"floor": [python, "-c", FLOOR_APP], "board": [python, "-c", BOARD_APP]}, env, args.runs
    )
    (floor, _), (board, peak_mb) = paints["floor"], paints["board"]
    print("headless (Textual's test driver: nothing reaches a terminal)")
    print(f"  floor (bare Textual, one label):    {floor * 1000:6.0f} ms")
    print(f"  first painted board:                {board * 1000:6.0f} ms  "
          f"({board / floor:.2f}x floor)")  # fmt: skip
    print(f"  peak memory, every card read:       {peak_mb:6.0f} MB   target < 100 MB: "
          f"{'met' if peak_mb < 100 else 'NOT met'}")  # fmt: skip
    # On a copy: the stage moves would give the first card 40 stage changes, and the deal
    # page the terminal benchmark opens on it a timeline no deal has.
    keys_home = root / "keys"
    keys_home.mkdir()
    shutil.copy(root / "desk.sqlite", keys_home / "desk.sqlite")
    cursor, move = asyncio.run(key_presses(keys_home, 40))
    print(f"  cursor move (handler + repaint):    {cursor * 1000:6.2f} ms")
    print(f"  stage move (write + redraw):        {move * 1000:6.2f} ms")

    shell(env, args.deals, args.runs * 2)

    if args.no_terminal:
        return
    if shutil.which("tmux") is None:
        print("terminal: tmux not installed (apt-get install tmux)")
        return
    tmux = terminal.Tmux()
    try:
        terminal.report(tmux, terminal.apps_for(root, root), runs=args.runs, presses=args.presses)
        if args.big:
            big = root / "big"
            big.mkdir()
            start = time.perf_counter()
            build(big / "desk.sqlite", deals=args.deals * 10)
            print(f"ten times the data: {args.deals * 10:,} open deals, "
                  f"{args.deals * 5:,} closed, {args.deals * 100:,} activities "
                  f"(built in {time.perf_counter() - start:.0f} s)")  # fmt: skip
            terminal.report(
                tmux,
                terminal.apps_for(big, root),
                runs=args.runs,
                presses=0,
                first_target=2.0,
                screen_target={"KPIs (3)": 0.15},
                memory_target=150,
            )
    finally:
        tmux.close()


if __name__ == "__main__":
    main()
