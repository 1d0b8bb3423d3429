"""The rep's settings: a small TOML file (stdlib tomllib to read, a tiny writer to save)."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any

from repdesk.money import Conversion

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

DEFAULT_TEXT = """\
# repdesk settings. Edit and restart the app; `repdesk` checks this file on every start.

# The desk's currency (ISO 4217 code); deals in other currencies count at the rates below.
currency = "EUR"
# A deal with no activity for this many days is "going cold" (stages may set their own limit).
going_cold_days = 14
# The first day of the week for "this week" figures.
week_start = "monday"
# Working hours: follow-ups default to the start of the day.
working_hours = "09:00-17:00"
# The app's theme (any Textual theme name, e.g. "textual-dark", "textual-light", "nord").
theme = "textual-dark"

[rates]
# One unit of each currency in the desk's currency, e.g. USD = 0.92
"""


class SettingsError(ValueError):
    """A settings file a rep must fix; the message names the file, the key and the value."""


@dataclass(frozen=True, slots=True)
class Settings:
    currency: str = "EUR"
    going_cold_days: int = 14
    week_start: str = "monday"
    day_start: time = time(9, 0)
    day_end: time = time(17, 0)
    theme: str = "textual-dark"
    rates: dict[str, float] = field(default_factory=dict)
    keys: dict[str, str] = field(
        default_factory=dict
    )  # binding id -> keys, e.g. "board.next_stage"
    database_url: str | None = None

    def with_theme(self, theme: str) -> Settings:
        return replace(self, theme=theme)

    @property
    def conversion(self) -> Conversion:
        """How deals in other currencies count in the desk's sums."""
        return Conversion(self.currency, self.rates)

    @property
    def week_start_index(self) -> int:
        """The first day of the week, 0 (Monday) to 6 (Sunday), as date.weekday() counts."""
        return WEEKDAYS.index(self.week_start)


def _fail(path: Path, key: str, value: object, expected: str) -> SettingsError:
    return SettingsError(f"{path}: {key} = {value!r} is not valid: expected {expected}")


def load(path: Path) -> Settings:
    """Read the settings; a missing file gives the defaults (and is written for the rep to find)."""
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(DEFAULT_TEXT, encoding="utf-8")
        except OSError:
            pass  # a read-only home still works with the defaults
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"{path} cannot be read: {exc.strerror}") from None
    return parse(data, path)


def parse(data: dict[str, Any], path: Path) -> Settings:
    settings = Settings()
    currency = data.get("currency", settings.currency)
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise _fail(path, "currency", currency, "a three-letter code such as EUR")
    days = data.get("going_cold_days", settings.going_cold_days)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        raise _fail(path, "going_cold_days", days, "a whole number of days from 1 to 365")
    week_start = str(data.get("week_start", settings.week_start)).lower()
    if week_start not in WEEKDAYS:
        raise _fail(path, "week_start", week_start, "a weekday name such as monday")
    hours = data.get("working_hours", "09:00-17:00")
    match = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", str(hours))
    try:
        if not match:
            raise ValueError
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        day_start, day_end = time(h1, m1), time(h2, m2)
        if day_start >= day_end:
            raise ValueError
    except ValueError:
        raise _fail(path, "working_hours", hours, 'a range such as "09:00-17:00"') from None
    theme = data.get("theme", settings.theme)
    if not isinstance(theme, str):
        raise _fail(path, "theme", theme, "a theme name")
    rates: dict[str, float] = {}
    for code, rate in dict(data.get("rates", {})).items():
        if not re.fullmatch(r"[A-Z]{3}", code) or not isinstance(rate, int | float) or rate <= 0:
            raise _fail(path, f"rates.{code}", rate, "a positive number per three-letter code")
        rates[code] = float(rate)
    keys = {str(k): str(v) for k, v in dict(data.get("keys", {})).items()}
    raw_url = data.get("database_url") or None  # "" leaves the desk in its file
    url = normalise_database_url(raw_url) if isinstance(raw_url, str) else None
    if raw_url is not None and url is None:
        shown = display_url(raw_url) if isinstance(raw_url, str) else raw_url
        raise _fail(path, "database_url", shown, SERVER_URL_FORM)
    return Settings(
        currency=currency,
        going_cold_days=days,
        week_start=week_start,
        day_start=day_start,
        day_end=day_end,
        theme=theme,
        rates=rates,
        keys=keys,
        database_url=url or None,
    )


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
    """Set one top-level string key, keeping the rep's comments and layout."""
    line = f"{key} = {_quote(value)}"
    text = path.read_text(encoding="utf-8") if path.exists() else DEFAULT_TEXT
    pattern = re.compile(rf"^{re.escape(key)}\s*=.*$", re.MULTILINE)
    if pattern.search(text):
        text = pattern.sub(lambda _m: line, text, count=1)
    else:
        head, sep, tail = text.partition("\n[")
        text = f"{head.rstrip()}\n{line}\n" + (f"\n[{tail}" if sep else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
