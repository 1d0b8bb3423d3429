"""Where the desk lives: REPDESK_DATABASE_URL, then `database_url` in the settings, else the
SQLite file. Bad URLs are refused with one line naming where they came from."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from repdesk import settings
from repdesk.settings import Settings, SettingsError, resolve_database_url

SERVER = "postgresql+psycopg://rep:secret@db.example:5432/desk"


def test_unset_keeps_the_desk_in_its_file() -> None:
    assert resolve_database_url(Settings(), environ={}) is None


def test_the_environment_wins_over_the_settings() -> None:
    chosen = Settings(database_url="postgresql+psycopg://rep@office/desk")
    assert resolve_database_url(chosen, environ={}) == "postgresql+psycopg://rep@office/desk"
    assert resolve_database_url(chosen, environ={"REPDESK_DATABASE_URL": SERVER}) == SERVER


@pytest.mark.parametrize("given", ["postgresql://rep@db/desk", "postgres://rep@db/desk"])
def test_a_providers_plain_url_means_the_same_server(given: str) -> None:
    resolved = resolve_database_url(Settings(), environ={"REPDESK_DATABASE_URL": given})
    assert resolved == "postgresql+psycopg://rep@db/desk"


def test_a_url_of_another_kind_is_refused_without_showing_the_password() -> None:
    with pytest.raises(SettingsError) as info:
        resolve_database_url(Settings(), environ={"REPDESK_DATABASE_URL": "mysql://rep:pw@db/x"})
    assert str(info.value) == (
        "REPDESK_DATABASE_URL = 'mysql://rep:***@db/x' is not valid: expected a URL such as "
        "postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE"
    )


def test_the_settings_file_key(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('database_url = "postgres://rep@db/desk"\n', encoding="utf-8")
    assert settings.load(path).database_url == "postgresql+psycopg://rep@db/desk"
    path.write_text('database_url = ""\n', encoding="utf-8")
    assert settings.load(path).database_url is None
    path.write_text('database_url = "sqlite:///elsewhere.db"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=rf"{path}: database_url = 'sqlite:///elsewhere.db'"):
        settings.load(path)


def test_display_url_masks_only_the_password() -> None:
    assert settings.display_url(SERVER) == "postgresql+psycopg://rep:***@db.example:5432/desk"
    assert settings.display_url("postgresql+psycopg://rep@db/desk") == (
        "postgresql+psycopg://rep@db/desk"
    )


def test_a_bad_url_stops_every_command_with_one_line(home: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "repdesk", "quota"],
        env={**os.environ, "REPDESK_DATABASE_URL": "mysql://rep@db/x"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("repdesk: REPDESK_DATABASE_URL = 'mysql://rep@db/x'")
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert not (home / "desk.sqlite").exists()
