"""The settings file as the app writes it back: the rep's comments, order and tables stay."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from repdesk import settings


def test_a_theme_saved_into_a_file_that_starts_with_a_table_lands_above_it(
    tmp_path: Path,
) -> None:
    # The writer before put `theme = ...` at the end, inside [rates]: the next start failed
    # with "rates.theme is not valid".
    path = tmp_path / "settings.toml"
    path.write_text("[rates]\n# dollars, at the bank's rate\nUSD = 0.92  # May\n", encoding="utf-8")
    settings.save_value(path, "theme", "textual-light")
    loaded = settings.load(path)
    assert loaded.theme == "textual-light"
    assert loaded.rates == {"USD": 0.92}
    assert path.read_text(encoding="utf-8") == (
        'theme = "textual-light"\n\n[rates]\n# dollars, at the bank\'s rate\nUSD = 0.92  # May\n'
    )


def test_a_theme_saved_again_changes_its_line_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(settings.DEFAULT_TEXT + "USD = 0.92\n", encoding="utf-8")
    settings.save_value(path, "theme", "nord")
    written = path.read_text(encoding="utf-8")
    expected = settings.DEFAULT_TEXT.replace('theme = "textual-dark"', 'theme = "nord"')
    assert written == expected + "USD = 0.92\n"
    assert settings.load(path).theme == "nord"


def test_only_the_top_level_key_is_changed(tmp_path: Path) -> None:
    # Lines that look like `theme = ...` in a table or inside a multi-line string stay.
    text = '[keys]\n"board.theme" = """\ntheme = "mine"\n"""\n[rates]\nUSD = 0.9\n'
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    settings.save_value(path, "theme", "nord")
    written = path.read_text(encoding="utf-8")
    assert written.count("theme") == 3 and 'theme = "mine"' in written
    loaded = settings.load(path)
    assert (loaded.theme, loaded.rates) == ("nord", {"USD": 0.9})
    assert loaded.keys == {"board.theme": 'theme = "mine"\n'}


def test_a_value_with_quotes_and_backslashes_comes_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    settings.save_value(path, "theme", 'my "dark" \\ theme')
    assert settings.load(path).theme == 'my "dark" \\ theme'


@pytest.mark.parametrize(
    "broken",
    ["theme = \n", "[rates\nUSD = 0.9\n", b"theme = \xff\n"],
    ids=["toml", "table", "utf8"],
)
def test_a_file_broken_while_the_app_runs_is_refused_and_left_as_it_is(
    tmp_path: Path, broken: str | bytes
) -> None:
    path = tmp_path / "settings.toml"
    data = broken.encode() if isinstance(broken, str) else broken
    path.write_bytes(data)
    with pytest.raises(settings.SettingsError, match=r"is not valid TOML .*: theme was not saved"):
        settings.save_value(path, "theme", "nord")
    assert path.read_bytes() == data


def test_reading_the_settings_never_imports_the_writer(tmp_path: Path) -> None:
    # Every shell command reads the settings; only a save pays for tomlkit.
    path = tmp_path / "settings.toml"
    path.write_text(settings.DEFAULT_TEXT, encoding="utf-8")
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from repdesk import settings\n"
        f"settings.load(Path({str(path)!r}))\n"
        "assert 'tomlkit' not in sys.modules, 'tomlkit imported by a read'\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.pipedrive.com/?api_token=SECRET-0123",  # as old Pipedrive examples show
        "https://rep:SECRET-0123@acme.pipedrive.com",
        "https://acme.pipedrive.com#SECRET-0123",
    ],
)
def test_a_pipedrive_url_holding_a_token_is_refused_without_showing_it(
    tmp_path: Path, url: str
) -> None:
    # Taken, `repdesk sync status` printed it, the token with it; refused, the message did.
    path = tmp_path / "settings.toml"
    path.write_text(f'[pipedrive]\nurl = "{url}"\n', encoding="utf-8")
    with pytest.raises(settings.SettingsError) as refused:
        settings.load(path)
    assert "SECRET" not in str(refused.value)
    assert "REPDESK_PIPEDRIVE_TOKEN" in str(refused.value)


@pytest.mark.parametrize("url", ["http://[::1", "https://acme.example:99999", "https://"])
def test_a_pipedrive_url_no_client_can_use_is_refused_when_read(tmp_path: Path, url: str) -> None:
    # `http://[::1` passed and the sync then stopped as 'unexpected error: InvalidURL'.
    path = tmp_path / "settings.toml"
    path.write_text(f'[pipedrive]\nurl = "{url}"\n', encoding="utf-8")
    with pytest.raises(settings.SettingsError, match=r"pipedrive\.url"):
        settings.load(path)


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("going_cold_days = 0x" + "f" * 4000, "(a number too long to show)"),
        ('currency = "' + "x" * 5000 + '"', "'" + "x" * 59 + "…"),
        ("week_start = 0x" + "f" * 4000, "(a number too long to show)"),
        ('[keys]\n"deal.call" = 0x' + "f" * 4000, "(a number too long to show)"),
        ('[rates]\n"' + "Q" * 5000 + '" = 1', "rates." + "Q" * 54 + "…"),
        ('[rates]\n"A\\nB" = 1', "rates.A⏎B = 1"),
    ],
    ids=[
        "a 4,000-digit number",
        "a 5,000-character text",
        "a weekday as a 4,000-digit number",
        "a key as a 4,000-digit number",
        "a rate's 5,000-character name",
        "a rate's name across two lines",
    ],
)
def test_a_value_too_long_to_quote_is_refused_in_one_short_line(
    tmp_path: Path, line: str, shown: str
) -> None:
    # A 4,000-digit hex number stopped every command with "unexpected error": Python will not
    # write so long a number in decimal, and the message tried to.
    path = tmp_path / "settings.toml"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(settings.SettingsError) as refused:
        settings.load(path)
    message = str(refused.value)
    assert shown in message and "\n" not in message
    assert len(message) < len(str(path)) + 200


def test_a_pipedrive_url_of_a_host_and_port_is_taken(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    for url in ("https://acme.pipedrive.com/", "http://127.0.0.1:8080", "http://[::1]:8080"):
        path.write_text(f'[pipedrive]\nurl = "{url}"\n', encoding="utf-8")
        assert settings.load(path).pipedrive_url == url.rstrip("/")


def _load_in_a_new_process(path: Path) -> tuple[str, bool]:
    """(the currency read, whether tomllib was imported) in a process of its own."""
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from repdesk import settings\n"
        f"print(settings.load(Path({str(path)!r})).currency, 'tomllib' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    currency, imported = result.stdout.split()
    return currency, imported == "True"


def test_the_same_settings_are_read_again_without_parsing_the_toml(tmp_path: Path) -> None:
    """Every start of the app and every `repdesk today` reads the settings: the file's text,
    unchanged since the last read, is not parsed again (tomllib's import and parse cost some
    5 ms); a changed file is, at once."""
    path = tmp_path / "settings.toml"
    path.write_text('currency = "USD"\n[rates]\nEUR = 1.1\n', encoding="utf-8")
    assert _load_in_a_new_process(path) == ("USD", True)
    assert _load_in_a_new_process(path) == ("USD", False)
    path.write_text('currency = "GBP"\n', encoding="utf-8")  # edited, even within a second
    assert _load_in_a_new_process(path) == ("GBP", True)
    assert settings.load(path).currency == "GBP"
    # What was remembered, damaged or from another file, is never taken for the settings.
    memo = tmp_path / ".settings.toml.read"
    for junk in (b"\x00{", b"[]", b'{"text": "currency = \\"GBP\\"\\n", "data": 3}'):
        memo.write_bytes(junk)
        assert settings.load(path).currency == "GBP"
    memo.write_text('{"text": "other", "data": {"currency": "JPY"}}', encoding="utf-8")
    assert settings.load(path).currency == "GBP"
    path.write_text('currency = "EUR"\nrates = 3\n', encoding="utf-8")
    with pytest.raises(settings.SettingsError, match="rates"):
        settings.load(path)  # the checks run on a remembered read too
    with pytest.raises(settings.SettingsError, match="rates"):
        settings.load(path)


def test_settings_whose_read_cannot_be_remembered_are_read_each_time(tmp_path: Path) -> None:
    """A folder the app cannot write to (here: the name taken by a folder, as root ignores
    permissions) costs the shortcut, nothing else, and leaves nothing behind."""
    path = tmp_path / "settings.toml"
    path.write_text('currency = "CHF"\n', encoding="utf-8")
    (tmp_path / ".settings.toml.read").mkdir()
    assert settings.load(path).currency == "CHF"
    assert settings.load(path).currency == "CHF"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".settings.toml.read", "settings.toml"]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "going_cold_day = 7\n",
            "going_cold_day is no setting repdesk knows (did you mean "
            "going_cold_days?): the settings are currency, ",
        ),
        (
            "[rates]\nSEK = 0.09\nsek = 5\n",
            "rates.sek = 5 is not valid: expected one rate for SEK (it has one above)",
        ),
        (
            "[pipedrive]\npipline = 7\n",
            "pipedrive.pipline is no setting repdesk knows (did you mean pipedrive.pipeline?)",
        ),
    ],
    ids=["a-mistyped-key", "one-currency-twice", "a-mistyped-pipedrive-key"],
)
def test_a_key_that_would_do_nothing_or_undo_another_is_refused(
    tmp_path: Path, text: str, said: str
) -> None:
    """Found by an audit: a mistyped key did nothing, and a rate written twice in two cases
    took the later one, without a word."""
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(settings.SettingsError) as refused:
        settings.load(path)
    assert said in str(refused.value)
    (tmp_path / "old.toml").write_text('working_hours = "9-17"\n', encoding="utf-8")
    assert settings.load(tmp_path / "old.toml").currency == "EUR"  # read past, as before
