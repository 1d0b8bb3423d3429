"""The settings' remembered read (`.settings.toml.read`, settings._toml) against what a hostile
or broken folder holds: found by an attack, each was a bug first."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import cli_env

from repdesk.settings import load

SECRET_TEXT = (
    'currency = "EUR"\ndatabase_url = "postgresql://rep:s3cret-PASSWORD@db.example:5432/repdesk"\n'
)


def test_the_memo_does_not_copy_a_private_settings_file_for_everyone_to_read(
    tmp_path: Path,
) -> None:
    """A rep keeps settings.toml private (chmod 600): its database_url holds the server's
    password (README: "a password is never shown"). The remembered read copies the whole
    text, password included: it is the rep's alone (0600), whatever the umask (it was 0644)."""
    settings = tmp_path / "settings.toml"
    settings.write_text(SECRET_TEXT, encoding="utf-8")
    settings.chmod(0o600)
    old = os.umask(0o022)
    try:
        loaded = load(settings)
    finally:
        os.umask(old)
    assert loaded.database_url is not None
    for path in tmp_path.iterdir():
        if path == settings or "s3cret-PASSWORD" not in path.read_text(errors="replace"):
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path.name} holds the password and is {oct(mode)}"


def _quota(home: Path, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "repdesk", "quota"],
        env=cli_env(home), capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_a_deeply_nested_memo_is_read_past_not_a_crash(home: Path) -> None:
    """A `.settings.toml.read` that is valid JSON nested too deep for Python's decoder (a torn
    or foreign file) means reading settings.toml again, as anything amiss there does (it
    stopped `repdesk quota` with "unexpected error: RecursionError" and a crash log)."""
    home.mkdir(parents=True, exist_ok=True)
    text = 'currency = "EUR"\n'
    (home / "settings.toml").write_text(text, encoding="utf-8")
    deep = "[" * 100_000 + "]" * 100_000
    (home / ".settings.toml.read").write_text(
        '{"text": "currency = \\"EUR\\"\\n", "data": ' + deep + "}", encoding="utf-8"
    )
    done = _quota(home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "RecursionError" not in done.stderr
    assert not list(home.rglob("crash.log"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_memo_that_is_a_fifo_does_not_hang_repdesk(home: Path) -> None:
    """A `.settings.toml.read` that is a named pipe (or a link to one, or to /dev/zero) is read
    past: every repdesk command hung at its start, reading it to an end that never came."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.toml").write_text('currency = "EUR"\n', encoding="utf-8")
    os.mkfifo(home / ".settings.toml.read")
    try:
        done = _quota(home, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("repdesk quota hung on a FIFO named .settings.toml.read")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_memo_linked_to_a_device_is_read_past(home: Path) -> None:
    """A link to /dev/zero, which never ends: read past, as a pipe is."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.toml").write_text('currency = "EUR"\n', encoding="utf-8")
    (home / ".settings.toml.read").symlink_to("/dev/zero")
    done = _quota(home, timeout=20)
    assert done.returncode == 0, done.stdout + done.stderr


def test_settings_nested_too_deep_are_one_line_not_a_crash(home: Path) -> None:
    """A settings.toml nested past what the parser can follow is refused in one line."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    done = _quota(home)
    assert done.returncode == 1
    assert "is not valid TOML" in done.stderr and "Traceback" not in done.stderr
    assert not list(home.rglob("crash.log"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_settings_file_that_is_no_plain_file_is_one_line_not_a_hang(
    home: Path, kind: str
) -> None:
    """(Found by a hostile test.) A settings.toml that is a named pipe blocked `repdesk quota
    --short`, every other command and the app's start for ever; a link to /dev/zero read
    without end. Now one line, exit 1, and the file is left as it is."""
    home.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(home / "settings.toml")
    else:
        (home / "settings.toml").symlink_to("/dev/zero")
    for words in (["quota", "--short"], ["today"]):
        try:
            done = subprocess.run(
                [sys.executable, "-m", "repdesk", *words], env=cli_env(home),
                capture_output=True, text=True, timeout=20,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            pytest.fail(f"repdesk {' '.join(words)} hung on a settings.toml that is a {kind}")
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1 and "is not a plain file" in done.stderr
        assert "Traceback" not in done.stderr
    if kind == "fifo":
        assert stat.S_ISFIFO(os.lstat(home / "settings.toml").st_mode)


TEXT = 'currency = "EUR"\n'


def _memo_saying(tmp_path: Path, data: str, mode: int = 0o600) -> Path:
    """A settings.toml of TEXT and a memo beside it that claims `data` for that very text."""
    settings = tmp_path / "settings.toml"
    settings.write_text(TEXT, encoding="utf-8")
    memo = tmp_path / ".settings.toml.read"
    memo.write_text(f"{{'text': {TEXT!r}, 'data': {data}}}", encoding="utf-8")
    memo.chmod(mode)
    return settings


@pytest.mark.parametrize(
    ("data", "mode"),
    [
        ("{'currency': 'USD'}", 0o666),  # anyone may write it: it speaks for no one
        ("{'currency': 'USD'}", 0o620),
        ("{'rates': {1: 0.5}}", 0o600),  # a key TOML never gives
        ("{'going_cold_days': 1j}", 0o600),  # a complex number
        ("{'currency': 'USD', 'keys': {'a': None}}", 0o600),
    ],
)
def test_a_memo_only_a_literal_could_hold_or_others_could_write_is_read_past(
    tmp_path: Path, data: str, mode: int
) -> None:
    """(Found by a hostile test.) The memo became a Python literal: it must still say only what
    TOML could (number keys crashed every command with an AttributeError, a complex number
    blamed settings.toml for a value it does not hold), and one that others may write must not
    speak for the settings (a currency, a database_url to a server of theirs)."""
    loaded = load(_memo_saying(tmp_path, data, mode))
    assert loaded.currency == "EUR" and loaded.rates == {}


def test_a_whole_number_too_long_to_print_leaves_no_memo_and_no_crash(tmp_path: Path) -> None:
    """(Found by a hostile test.) A hexadecimal number of 4,000 digits is TOML, but Python
    refuses to write it in decimal: every command stopped with "unexpected error"."""
    settings = tmp_path / "settings.toml"
    # Under the one key read past (working_hours, of files written before).
    settings.write_text(f'currency = "EUR"\nworking_hours = 0x{"f" * 4000}\n', encoding="utf-8")
    assert load(settings).currency == "EUR"
    assert load(settings).currency == "EUR"  # and again, with no memo to go by


@pytest.mark.parametrize("target", ["nowhere/settings.toml", "loop"])
def test_a_settings_link_to_no_file_is_one_line_and_makes_nothing(
    tmp_path: Path, target: str
) -> None:
    """(Found by a hostile test.) A settings.toml linking to a file not there had the defaults
    written through it, making its target wherever it pointed; a link loop silently gave the
    defaults."""
    from repdesk.settings import SettingsError

    settings = tmp_path / "settings.toml"
    settings.symlink_to(tmp_path / target if target != "loop" else settings)
    with pytest.raises(SettingsError, match="is a link to no file"):
        load(settings)
    assert not (tmp_path / "nowhere").exists()
