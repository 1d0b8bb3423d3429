"""The rep's settings: a small TOML file (stdlib tomllib to read; tomlkit, which keeps the
rep's comments and order, to save)."""

from __future__ import annotations

import contextlib
import os
import re
import stat
from pathlib import Path

from repdesk.core.currencies import CODE_FORM, is_code
from repdesk.core.money import Conversion
from repdesk.core.text import printable
from repdesk.core.values import Value

# typing for the type checker only: the shell's fast commands never import it (2 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

DEFAULT_TEXT = """\
# repdesk settings. Edit and restart the app; `repdesk` checks this file on every start.

# The desk's currency (ISO 4217 code); deals in other currencies count at the rates below.
currency = "EUR"
# A deal with no activity for this many days is "going cold" (stages may set their own limit).
going_cold_days = 14
# The first day of the week for "this week" figures.
week_start = "monday"
# The app's theme (any Textual theme name, e.g. "textual-dark", "textual-light", "nord").
theme = "textual-dark"
# Your own mail addresses: `repdesk capture` tells mail you sent from mail you received by them.
# me = ["you@yourcompany.example"]

[rates]
# One unit of each currency in the desk's currency, e.g. USD = 0.92 (from 0.000001 to 1000000)
"""


# What a rate may be: one unit of a currency in the desk's. Wide enough for any pair in use
# (a rial in euros, a euro in rials); bounded so that converted sums stay finite numbers a
# screen can show, and a typo (1e30, nan, inf) is named instead of crashing `quota`.
MIN_RATE = 0.000001
MAX_RATE = 1_000_000
RATE_FORM = "a number from 0.000001 to 1000000 (one unit of that currency in the desk's)"


class SettingsError(ValueError):
    """A settings file a rep must fix; the message names the file, the key and the value."""


class Settings(Value):
    _fields = (
        "currency",
        "going_cold_days",
        "week_start",
        "theme",
        "rates",
        "keys",
        "database_url",
        "pipedrive_url",
        "pipedrive_pipeline",
        "pipedrive_all_owners",
        "me",
    )
    __slots__ = _fields  # fmt: skip
    currency: str
    going_cold_days: int
    week_start: str
    theme: str
    rates: dict[str, float]
    keys: dict[str, str]  # binding id -> keys, e.g. "board.next_stage"
    database_url: str | None
    # [pipedrive]: the company's Pipedrive (the sync, src/repdesk/sync/). Never the token.
    pipedrive_url: str
    pipedrive_pipeline: int | None  # which pipeline the desk's stages map to
    pipedrive_all_owners: bool  # sync every deal the token sees, not only the rep's
    # The rep's own mail addresses (`me`): captured mail from them was sent, not received.
    me: tuple[str, ...]

    def __init__(
        self,
        currency: str = "EUR",
        going_cold_days: int = 14,
        week_start: str = "monday",
        theme: str = "textual-dark",
        rates: dict[str, float] | None = None,
        keys: dict[str, str] | None = None,
        database_url: str | None = None,
        pipedrive_url: str = "https://api.pipedrive.com",
        pipedrive_pipeline: int | None = None,
        pipedrive_all_owners: bool = False,
        me: tuple[str, ...] = (),
    ) -> None:
        self._set(
            currency=currency,
            going_cold_days=going_cold_days,
            week_start=week_start,
            theme=theme,
            rates={} if rates is None else rates,  # each its own, as a default_factory gave
            keys={} if keys is None else keys,
            database_url=database_url,
            pipedrive_url=pipedrive_url,
            pipedrive_pipeline=pipedrive_pipeline,
            pipedrive_all_owners=pipedrive_all_owners,
            me=me,
        )

    def with_theme(self, theme: str) -> Settings:
        return self.replace(theme=theme)

    @property
    def conversion(self) -> Conversion:
        """How deals in other currencies count in the desk's sums."""
        return Conversion(self.currency, self.rates)

    @property
    def week_start_index(self) -> int:
        """The first day of the week, 0 (Monday) to 6 (Sunday), as date.weekday() counts."""
        return WEEKDAYS.index(self.week_start)


def _fail(path: Path, key: str, value: object, expected: str) -> SettingsError:
    # The key too is the file's (a rate's currency): one line, cut short.
    return SettingsError(
        f"{path}: {printable(_cut(key))} = {_quoted(value)} is not valid: expected {expected}"
    )


def _quoted(value: object) -> str:
    """The value as the message quotes it, cut short: a 4,000-digit hex number cannot even be
    written in decimal (Python's limit on converting long numbers, found by a hostile test)."""
    try:
        return _cut(repr(value))
    except ValueError:
        return "(a number too long to show)"


def _cut(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def load(path: Path) -> Settings:
    """Read the settings; a missing file gives the defaults (and is written for the rep to find)."""
    if not path.exists():
        if os.path.lexists(path):
            # A link to nothing (or a loop): writing the defaults through it made its target,
            # wherever that was, and a loop silently gave the defaults (found by a hostile test).
            raise SettingsError(f"{path} is a link to no file: point it at one, or remove it")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(DEFAULT_TEXT, encoding="utf-8")
        except OSError:
            pass  # a read-only home still works with the defaults
        return Settings()
    try:
        data = _toml(path, read_text(path))
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"{path} cannot be read: {exc.strerror}") from None
    return parse(data, path)


# A settings file (and its memo) is a few hundred bytes; past this it is not one (and not read
# whole).
MAX_SETTINGS_BYTES = 1024 * 1024


def _read_plain(path: Path) -> tuple[os.stat_result, bytes | None]:
    """`path`'s status and, for a plain file only, its first MAX_SETTINGS_BYTES + 1 bytes: a
    FIFO or a device put in its place is never read (it blocked every command and the app's
    start for ever, or read without end)."""
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as found:
        status = os.fstat(found.fileno())
        data = found.read(MAX_SETTINGS_BYTES + 1) if stat.S_ISREG(status.st_mode) else None
    return status, data


def read_text(path: Path) -> str:
    """The settings file's text: a plain file of a sane size only."""
    _, data = _read_plain(path)
    if data is None:
        raise SettingsError(f"{path} is not a plain file: make it one, or remove it")
    if len(data) > MAX_SETTINGS_BYTES:
        raise SettingsError(f"{path} is over 1 MB: that is no repdesk settings file")
    return data.decode("utf-8")


def _toml(path: Path, text: str) -> dict[str, Any]:
    """`text` read as TOML, or what the last read of the same text found, remembered beside
    the file (`.settings.toml.read`, a Python literal): every start of the app and every
    `repdesk today` reads the settings, and importing tomllib and parsing cost some 5 ms of a
    start that takes 60. Only the same text is taken from there; anything amiss reads the file
    again."""
    memo = path.with_name(f".{path.name}.read")
    remembered = _remembered(memo)
    if isinstance(remembered, dict) and remembered.get("text") == text:
        data = remembered.get("data")
        if isinstance(data, dict) and _toml_like(data):
            return data
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path} is not valid TOML: {exc}") from None
    except RecursionError:
        raise SettingsError(f"{path} is not valid TOML: it nests too deep") from None
    payload = {"text": text, "data": data}
    try:
        found = repr(payload)
    except ValueError:  # an integer past Python's 4,300 digits for str()
        return data
    if _literal(found) != payload:
        return data  # values a literal cannot hold (dates, inf): read the file each time
    # Written whole, then renamed: a start reading it meanwhile never meets half a file. Only
    # the rep may read it, whatever the settings file's own mode: it copies a database_url's
    # password.
    partial = memo.with_name(f"{memo.name}.{os.getpid()}")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(found)
        partial.replace(memo)
    except OSError:  # a read-only folder, a full disk: read the file each time
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return data


def _remembered(memo: Path) -> object:
    """The memo's Python literal, or None: none yet, not a plain file (a pipe or a device would
    block or never end), too big, torn, too deeply nested or not ours: another user's, or one
    others may write (it would speak for settings.toml: a currency, a database_url)."""
    try:
        status, data = _read_plain(memo)
        if data is None or len(data) > MAX_SETTINGS_BYTES:
            return None
        if status.st_mode & 0o022 or (hasattr(os, "getuid") and status.st_uid != os.getuid()):
            return None
        return _literal(data.decode("utf-8"))
    except (OSError, ValueError):
        return None


def _toml_like(value: object, depth: int = 0) -> bool:
    """Whether `value` holds only what TOML reads into (tables with text keys, arrays, text,
    whole numbers, floats, booleans; dates are never remembered): a literal can hold more
    (complex numbers, number keys) that no check in `parse` expects."""
    if depth > 64:
        return False
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and _toml_like(item, depth + 1) for key, item in value.items()
        )
    if isinstance(value, list):
        return all(_toml_like(item, depth + 1) for item in value)
    return type(value) in (str, int, float, bool)


def _literal(text: str) -> object:
    """`text` read as a Python literal, or None. A literal, not JSON: `ast` is loaded already
    (dataclasses loads it) where `json` was 2 ms of a status bar's run after a change."""
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return None


# The file's keys; `working_hours` (in files written before) did nothing and is read past.
KNOWN_KEYS = (
    "currency", "going_cold_days", "week_start", "theme", "me", "database_url", "rates", "keys",
    "pipedrive", "working_hours",
)  # fmt: skip


def _known_only(
    table: dict[str, Any],
    known: tuple[str, ...],
    path: Path,
    prefix: str,
    read_past: tuple[str, ...] = (),
) -> None:
    """A typo (`going_cold_day = 7`, `[pipedrive] pipline = 7`) did nothing and nothing said
    so (an audit): refused, naming the nearest key."""
    for key in table:
        if key in known or key in read_past:
            continue
        import difflib

        near = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {prefix}{near[0]}?)" if near else ""
        raise SettingsError(
            f"{path}: {printable(_cut(prefix + key))} is no setting repdesk knows{hint}: the "
            f"settings are {', '.join(prefix + k for k in known)}"
        )


def parse(data: dict[str, Any], path: Path) -> Settings:
    settings = Settings()
    _known_only(data, KNOWN_KEYS[:-1], path, "", read_past=KNOWN_KEYS[-1:])
    currency = data.get("currency", settings.currency)
    if not isinstance(currency, str) or not is_code(currency.strip().upper()):
        raise _fail(path, "currency", currency, CODE_FORM)
    currency = currency.strip().upper()  # any case, as at the shell: `usd` is USD
    days = data.get("going_cold_days", settings.going_cold_days)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        raise _fail(path, "going_cold_days", days, "a whole number of days from 1 to 365")
    week_start = data.get("week_start", settings.week_start)
    if not isinstance(week_start, str) or week_start.lower() not in WEEKDAYS:
        raise _fail(path, "week_start", week_start, "a weekday name such as monday")
    week_start = week_start.lower()
    # `working_hours` (in files written before) did nothing: it is read past, not refused.
    theme = data.get("theme", settings.theme)
    if not isinstance(theme, str):
        raise _fail(path, "theme", theme, "a theme name")
    rates: dict[str, float] = {}
    table = data.get("rates", {})
    if not isinstance(table, dict):
        raise _fail(path, "rates", table, "a table: [rates] with lines such as USD = 0.92")
    for name, rate in table.items():
        code = name.strip().upper() if name.isascii() else name  # "ßx".upper() is "SSX"
        if not is_code(code):
            raise _fail(path, f"rates.{name}", rate, f"a rate per currency, named by {CODE_FORM}")
        if code == currency:
            # Silently ignored before: the rep's rate would never apply, and nothing said so.
            raise _fail(path, f"rates.{name}", rate, f"no rate: {currency} is the desk's currency")
        if code in rates:
            # `SEK` and `sek` both: the later one won without a word (an audit).
            raise _fail(path, f"rates.{name}", rate, f"one rate for {code} (it has one above)")
        if (
            not isinstance(rate, int | float)
            or isinstance(rate, bool)
            or not MIN_RATE <= rate <= MAX_RATE  # also refuses nan and inf
        ):
            raise _fail(path, f"rates.{name}", rate, RATE_FORM)
        rates[code] = float(rate)
    keys_table = data.get("keys", {})
    if not isinstance(keys_table, dict):
        raise _fail(path, "keys", keys_table, 'a table: [keys] with lines such as "x.y" = "l"')
    keys: dict[str, str] = {}
    for action, key in keys_table.items():
        # A digit may come unquoted (`"deal.call" = 5`); str() of any other number could
        # raise (a 4,000-digit one, found by a hostile test).
        digit = isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 9
        if not isinstance(key, str) and not digit:
            raise _fail(path, f"keys.{action}", key, 'a key in quotes, such as "l"')
        keys[action] = str(key)
    raw_url = data.get("database_url") or None  # "" leaves the desk in its file
    url = normalise_database_url(raw_url) if isinstance(raw_url, str) else None
    if raw_url is not None and url is None:
        shown = display_url(raw_url) if isinstance(raw_url, str) else raw_url
        raise _fail(path, "database_url", shown, SERVER_URL_FORM)
    crm = _pipedrive(data.get("pipedrive", {}), path)
    me = data.get("me", [])
    if isinstance(me, str):
        me = [me]
    if not isinstance(me, list) or not all(
        isinstance(a, str) and re.fullmatch(r"[^@\s]+@[^@\s]+", a.strip()) for a in me
    ):
        raise _fail(path, "me", me, 'your mail addresses, e.g. ["you@yourcompany.example"]')
    return Settings(
        **crm,
        me=tuple(a.strip().lower() for a in me),
        currency=currency,
        going_cold_days=days,
        week_start=week_start,
        theme=theme,
        rates=rates,
        keys=keys,
        database_url=url or None,
    )


def _pipedrive(table: Any, path: Path) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise _fail(path, "pipedrive", table, 'a table: [pipedrive] with url = "https://..."')
    if "token" not in table:  # refused below, without quoting it
        _known_only(table, ("url", "pipeline", "owners"), path, "pipedrive.")
    found: dict[str, Any] = {}
    url = table.get("url")
    if url is not None:
        found["pipedrive_url"] = _company_url(url, path)
    pipeline = table.get("pipeline")
    if pipeline is not None:
        if not isinstance(pipeline, int) or isinstance(pipeline, bool) or pipeline < 1:
            raise _fail(path, "pipedrive.pipeline", pipeline, "a pipeline id (a whole number)")
        found["pipedrive_pipeline"] = pipeline
    owners = table.get("owners", "mine")
    if owners not in ("mine", "all"):
        raise _fail(path, "pipedrive.owners", owners, '"mine" (the default) or "all"')
    found["pipedrive_all_owners"] = owners == "all"
    if "token" in table:
        raise _fail(path, "pipedrive.token", "***", "no token here: set REPDESK_PIPEDRIVE_TOKEN "
                    "or keep it in the OS keyring with `repdesk sync token`")  # fmt: skip
    return found


_COMPANY_URL = re.compile(r"https?://([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?/?")
_COMPANY_URL_FORM = 'the company\'s address, e.g. "https://yourcompany.pipedrive.com"'


def _company_url(url: Any, path: Path) -> str:
    """`[pipedrive] url`: a scheme, a host and maybe a port, nothing else. A user and
    password or a query (`?api_token=...`, as old Pipedrive examples show) would put the token
    where `repdesk sync status` and this very message show it: refused without quoting it."""
    text = url.strip() if isinstance(url, str) else None
    if text is not None and re.search(r"[@?#]", text):
        raise SettingsError(
            f"{path}: pipedrive.url holds a user, a password or a query (not shown here): "
            f"expected only {_COMPANY_URL_FORM}; the API token goes in "
            "REPDESK_PIPEDRIVE_TOKEN or the OS keyring (`repdesk sync token`)"
        )
    found = _COMPANY_URL.fullmatch(text) if text is not None else None
    if found is None or int(found.group(2)[1:] if found.group(2) else 443) > 65535:
        raise _fail(path, "pipedrive.url", url, _COMPANY_URL_FORM)
    return text.rstrip("/")  # type: ignore[union-attr]


# ---------------------------------------------------------------- where the desk lives

DATABASE_URL_ENV = "REPDESK_DATABASE_URL"
SERVER_URL_FORM = "a URL such as postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE"
_SERVER_SCHEMES = ("postgresql+psycopg://", "postgresql://", "postgres://")


def normalise_database_url(url: str) -> str | None:
    """The URL in the form SQLAlchemy needs, or None if it names no PostgreSQL server.

    `postgresql://` and `postgres://` (what hosting providers hand out) mean the same server;
    repdesk speaks to it through psycopg 3, so they become `postgresql+psycopg://`.
    """
    url = url.strip()
    for scheme in _SERVER_SCHEMES:
        if url.startswith(scheme) and len(url) > len(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return None


def resolve_database_url(settings: Settings, environ: dict[str, str] | None = None) -> str | None:
    """The server the desk lives on: REPDESK_DATABASE_URL wins over `database_url` in the
    settings; None keeps the desk in its SQLite file."""
    raw = (os.environ if environ is None else environ).get(DATABASE_URL_ENV, "").strip()
    if not raw:
        return settings.database_url
    url = normalise_database_url(raw)
    if url is None:
        raise SettingsError(
            f"{DATABASE_URL_ENV} = {display_url(raw)!r} is not valid: expected {SERVER_URL_FORM}"
        )
    return url


def display_url(url: str) -> str:
    """The URL with its password masked, for messages."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def save_value(path: Path, key: str, value: str) -> None:
    """Set one top-level string key, keeping the rep's comments, order and layout.

    A TOML parser does it, not a text edit: a new key lands before the first table (a file
    that starts with `[rates]` gets it above that line, not inside the table), and a line that
    only looks like the key (in a table, in a multi-line string) is left alone. Raises
    SettingsError for a file that is no longer TOML (edited while the app runs): it stays as
    it is."""
    import tomlkit  # only here: reading the settings, and every shell command, never needs it
    from tomlkit.exceptions import TOMLKitError

    try:
        text = read_text(path) if path.exists() else DEFAULT_TEXT
        document = tomlkit.parse(text)
        document[key] = value
        text = tomlkit.dumps(document)
    except (TOMLKitError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} is not valid TOML ({exc}): {key} was not saved") from None
    # Through a symlink to its target (a settings.toml kept in a dotfiles repo stays a link),
    # written beside the target and renamed over it, so no reader sees half a file.
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        tmp.replace(target)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
