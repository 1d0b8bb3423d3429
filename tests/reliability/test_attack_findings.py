"""Findings of a hostile test of the mend / shell-hostile changes. Each test fails today."""

from __future__ import annotations

from pathlib import Path

from tests.shell import ok, run


def test_restoring_a_deal_whose_stage_was_removed_is_not_reported_as_damage(home: Path) -> None:
    # repro: deal add --stage Demo; deal delete 1; stage remove Demo; trash restore 1
    ok("deal", "add", "Alpha", "--company", "A", "--value", "1000", "--stage", "Demo")
    ok("deal", "delete", "1")
    ok("stage", "remove", "Demo")
    code, out, err = run("trash", "restore", "1")
    # today: exit 1, "desk.sqlite is damaged (FOREIGN KEY constraint failed): restore a backup"
    assert "damaged" not in err, err
    assert code in (0, 2), err


def test_a_title_that_is_not_utf8_is_refused_not_a_crash(home: Path) -> None:
    # repro: repdesk deal add $'p\x9bq'   (a Latin-1 byte in argv; Python gives a surrogate)
    code, _, err = run("deal", "add", "p\udc9bq")
    # today: exit 1, "unexpected error: UnicodeEncodeError ... (details in .../crash.log)"
    assert code == 2, err
    assert "unexpected error" not in err


def test_export_force_does_not_overwrite_the_settings_file(home: Path) -> None:
    # repro: cd $REPDESK_HOME; repdesk export csv settings.toml --force
    # afterwards every command fails: "settings.toml is not valid TOML"
    ok("deal", "add", "A", "--value", "5")
    settings = home / "settings.toml"
    if not settings.exists():
        settings.write_text('theme = "textual-dark"\n', encoding="utf-8")
    before = settings.read_bytes()
    code, _, err = run("export", "csv", settings, "--force")
    assert code == 2, err
    assert settings.read_bytes() == before


def test_export_force_does_not_overwrite_a_pre_upgrade_backup(home: Path) -> None:
    # the copy an upgrade takes first, desk.sqlite.pre-vN-TIME.bak, is a backup of the desk
    ok("deal", "add", "A", "--value", "5")
    bak = home / "desk.sqlite.pre-v3-20261101-120000.bak"
    bak.write_bytes((home / "desk.sqlite").read_bytes())
    before = bak.read_bytes()
    code, _, err = run("export", "csv", bak, "--force")
    assert code == 2, err
    assert bak.read_bytes() == before
