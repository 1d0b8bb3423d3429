"""`repdesk` (no command), `repdesk demo` and `repdesk serve`: the app in a terminal or a
browser.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from repdesk import background
from repdesk.cli import shell
from repdesk.cli.registry import Command
from repdesk.cli.shell import Desk, UsageError
from repdesk.core import clock
from repdesk.storage import desk_file, paths


def cmd_open(desk: Desk, args: argparse.Namespace) -> int:
    return open_app(desk, auto_backup=True)


def open_app(desk: Desk, *, auto_backup: bool, run: Callable[[Any], object] | None = None) -> int:
    """Start the app. `run`: how to run it (the benchmark's is headless; see run_app)."""
    # Refuse a foreign or damaged file before the screen is taken over.
    desk.prepare()
    background.pause_collector()  # until the first frame is out (see resume_collector)
    background.share_the_gil_finely()
    first = check = None
    after_first_frame = False
    if not desk.on_server:
        # The damage check (desk_file.prepare) and the first frame's read are C code that lets
        # go of the GIL: they run beside the imports below, and beside each other (the check
        # reads the whole file: 0.8 s on a 175 MB desk, where the read takes 0.25), so the
        # board has its cards (the first of each stage) and the quota strip its figures
        # before the screen is composed.
        path = desk.home.desk
        after_first_frame = _checks_after_first_frame(desk)

        def check_desk() -> int:
            if after_first_frame:
                background.yield_the_cpu()  # the first frame's imports and read go first
            return desk_file.prepare(path, verify=True)

        # Imported here, not in the thread: a module imported by two threads at once (this
        # one and the app's below) can be handed over half made.
        from repdesk.services.board import first_screen

        check = background.start(check_desk, "repdesk-check")
        first = background.start(lambda: _first_screen(desk, first_screen), "repdesk-first-read")
        if auto_backup:  # a server keeps its own backups (pg_dump)
            _start_auto_backup(desk.home)
    from repdesk.tui.app import RepdeskApp, run_app

    checking = None
    if check is not None and first is not None:
        # A damaged desk is refused here, the terminal still untouched. The check's verdict
        # first: it says more than a read that met the damage. On a big desk the first frame
        # does not wait for the check (it would be most of the wait): the app does, before
        # any key goes through, and stops with the same line if the desk is damaged.
        try:
            first.result()
        except Exception:
            check.result()
            raise
        if after_first_frame and not check.done():
            checking = check
        else:
            check.result()
    if run is None:  # after the desk's own refusals: they say more than "no terminal"
        try:
            _need_a_terminal()
        except UsageError:
            if checking is not None:
                checking.result()
            raise
    return run_app(
        desk.home,
        desk.settings,
        verified=True,
        first=first,
        checking=checking,
        run=run or RepdeskApp.run,
    )


# A desk file bigger than this is checked for damage while its first frame is drawn, not
# before: the check reads every page (about 3.5 ms of CPU a megabyte here). Beside Textual's
# import it is not free on two cores with a terminal and its programs busy too: on the
# benchmark's 20 MB desk it delayed the cards by some 40 ms in tmux (benchmarks/terminal.py,
# run against the check skipped). Below this size it costs a few ms, and a damaged desk is
# refused before the terminal is taken over.
CHECK_AFTER_FIRST_FRAME_BYTES = 4 * 1024 * 1024


def _checks_after_first_frame(desk: Desk) -> bool:
    try:
        return desk.home.desk.stat().st_size > CHECK_AFTER_FIRST_FRAME_BYTES
    except OSError:
        return False


def _need_a_terminal() -> None:
    """Textual reads keys from stdin and draws on stderr: without a terminal there it would
    wait for keys that never come. textual-serve runs the app over pipes with a driver of its
    own (TEXTUAL_DRIVER), and so may anyone who names one."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return
    streams = {"stdin": sys.__stdin__, "stderr": sys.__stderr__}
    missing = [name for name, stream in streams.items() if stream is None or not stream.isatty()]
    if missing:
        verb = "is not one" if len(missing) == 1 else "are not"
        raise UsageError(
            f"the app needs a terminal ({' and '.join(missing)} {verb}): run `repdesk` in a "
            "terminal, or use its commands (`repdesk --help`)"
        )


def _first_screen(desk: Desk, first_screen: Callable[..., Any]) -> Any:
    with desk.fast() as conn:  # the check runs beside it (open_app)
        return first_screen(conn, conversion=desk.settings.conversion)


def _start_auto_backup(home: paths.Home) -> threading.Thread:
    """Today's rotating backup, in a thread beside the app's start so the first paint never
    waits for it (the backup API releases the GIL while it copies pages). Not a daemon: a
    quick quit waits for the copy to finish rather than cut it off."""
    folder = home.backups / "auto"
    failed = folder / "failed.txt"

    def run() -> None:
        try:
            if desk_file.auto_backup(home.desk, folder, today=clock.today().isoformat()):
                failed.unlink(missing_ok=True)
        except Exception as exc:  # the app goes on; the next start tries again
            with contextlib.suppress(OSError):
                folder.mkdir(parents=True, exist_ok=True)
                failed.write_text(f"{clock.now().isoformat()}: {exc}\n", encoding="utf-8")

    thread = threading.Thread(target=run, name="repdesk-auto-backup")
    thread.start()
    return thread


def cmd_demo(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk import demo

    home = desk.home.demo
    summary = demo.ensure_built(home, today=clock.today(), now=clock.now(), force=args.reset)
    if summary is not None:
        shell.out(
            f"Built the demo desk at {home.desk}: {shell.count(summary.deals, 'deal')} "
            f"({summary.open_deals} open), {summary.activities} activities."
        )
    if args.no_open:
        shell.out(f"Demo desk ready: repdesk --home {home.data_dir}")
        return 0
    # The demo never touches a server desk, and needs no backups.
    return open_app(Desk(home, server=False), auto_backup=False)


def _port(text: str) -> int:
    # ASCII digits, five at most: '²'.isdigit() is true but int('²') raises, and so does
    # int() of a 5,000-digit paste; argparse then said "invalid _port value".
    if not (text.isascii() and text.isdigit() and len(text) <= 5) or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: use a number from 1 to 65535")
    return int(text)


def cmd_serve(desk: Desk, args: argparse.Namespace) -> int:
    """The app in a browser (textual-serve): each browser tab runs its own `repdesk` process
    on this desk. Only a page opened with the printed token gets in (see serve_guard)."""
    import shlex

    from repdesk import serve_guard

    guard = serve_guard.make_guard(
        args.host, args.port, certfile=args.certfile, keyfile=args.keyfile
    )
    desk_file.prepare(desk.home.desk)  # a foreign or damaged desk is refused here, not per tab
    command = [sys.executable, "-m", "repdesk"]
    if args.home:
        command += ["--home", str(desk.home.data_dir)]
    serve_guard.GuardedServer(shlex.join(command), guard=guard, title="repdesk").serve()
    return 0


# ---------------------------------------------------------------- the commands


def _demo_arguments(demo: argparse.ArgumentParser) -> None:
    demo.add_argument("--reset", action="store_true", help="rebuild the demo desk from scratch")
    demo.add_argument("--no-open", action="store_true", help="build it but do not open the app")


def _serve_arguments(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--host", default="127.0.0.1", type=shell.given, help="address to listen on (127.0.0.1)"
    )
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (8000)")
    serve.add_argument("--certfile", metavar="FILE",
                       help="TLS certificate (PEM); any --host but loopback needs it")  # fmt: skip
    serve.add_argument("--keyfile", metavar="FILE", help="the certificate's private key (PEM)")


def commands() -> list[Command]:
    return [
        Command(
            "demo",
            "open the app on the demo desk (never touches yours)",
            cmd_demo,
            _demo_arguments,
        ),
        Command(
            "serve",
            "serve the app to a browser (loopback only by default)",
            cmd_serve,
            _serve_arguments,
        ),
    ]
