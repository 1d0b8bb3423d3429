"""Every file location repdesk uses, and nowhere else.

By default the desk lives in platformdirs' user data dir and the settings in the user config
dir, the crash log in the user log dir. `REPDESK_HOME=DIR` or `--home DIR` puts them all under
DIR (every test does this).
"""

from __future__ import annotations

import os
from pathlib import Path

from repdesk.core.values import Value

DESK_FILE = "desk.sqlite"
SETTINGS_FILE = "settings.toml"
CRASH_LOG = "crash.log"
DEMO_STAMP = "demo-built-on.txt"  # beside a demo desk: the day it was built for


class Home(Value):
    _fields = ("data_dir", "config_dir", "log_dir")
    __slots__ = _fields
    data_dir: Path
    config_dir: Path
    # The rep's own log folder (the crash log); None: `logs` under the data folder.
    log_dir: Path | None

    def __init__(self, data_dir: Path, config_dir: Path, log_dir: Path | None = None) -> None:
        self._set(data_dir=data_dir, config_dir=config_dir, log_dir=log_dir)

    @property
    def desk(self) -> Path:
        return self.data_dir / DESK_FILE

    @property
    def settings(self) -> Path:
        return self.config_dir / SETTINGS_FILE

    @property
    def crash_log(self) -> Path:
        return (self.log_dir or self.data_dir / "logs") / CRASH_LOG

    @property
    def backups(self) -> Path:
        return self.data_dir / "backups"

    @property
    def demo(self) -> Home:
        """The demo desk's own place, beside (never inside) the rep's desk file."""
        root = self.data_dir / "demo"
        return Home(data_dir=root, config_dir=root)


def resolve_home(home: str | os.PathLike[str] | None = None) -> Home:
    chosen = home if home is not None else os.environ.get("REPDESK_HOME") or None
    if chosen is not None:
        root = Path(chosen).expanduser().resolve()
        return Home(data_dir=root, config_dir=root)
    import platformdirs  # only when no home is given: tests never reach the user's directories

    return Home(
        data_dir=Path(platformdirs.user_data_dir("repdesk", appauthor=False)),
        config_dir=Path(platformdirs.user_config_dir("repdesk", appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir("repdesk", appauthor=False)),
    )


def shell_command(home: Home) -> str:
    """The command that opens this desk from a shell like the one it was opened from:
    `repdesk`, or `repdesk --home DIR` when it is not the one `repdesk` alone opens (a command
    shown without it acted on another desk: a new-user trial)."""
    if home == resolve_home():
        return "repdesk"
    import shlex

    return f"repdesk --home {shlex.quote(str(home.data_dir))}"


def not_a_folder(home: Home) -> Path | None:
    """The first path on the way to the desk or the settings that exists but is no folder (a
    file, /dev/null): SQLite and mkdir would fail there with NotADirectoryError."""
    for folder in dict.fromkeys((home.data_dir, home.config_dir)):
        for path in (*reversed(folder.parents), folder):
            if path.exists() and not path.is_dir():
                return path
    return None


def demo_owner(home: Home) -> Home | None:
    """The rep's own home when `home` is its demo desk (`repdesk demo` opens the demo's own
    home), so that what the rep changes in the app (the theme) goes to the rep's settings."""
    if home.data_dir.name != "demo" or not (home.data_dir / DEMO_STAMP).exists():
        return None
    parent = home.data_dir.parent
    # REPDESK_HOME or the user's directories, else a `--home DIR` (data and settings in DIR).
    for owner in (resolve_home(), Home(data_dir=parent, config_dir=parent)):
        if owner.demo == home:
            return owner
    return None
