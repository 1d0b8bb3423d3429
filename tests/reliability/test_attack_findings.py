"""Found by a hostile test of the trash, stages, exports and shell changes (each failed before
its fix): re-closing a closed deal, a restore into a removed stage, --force over the desk's own
files, an unreadable trash row, text that is not UTF-8."""

from __future__ import annotations

from pathlib import Path

from tests.shell import ok, run


def test_restoring_a_deal_whose_stage_was_removed_is_not_reported_as_damage(home: Path) -> None:
    # repro: deal add --stage Demo; deal delete 1; stage remove Demo; trash restore 1
    ok("deal", "add", "Alpha", "--company", "A", "--value", "1000", "--stage", "Demo")
    ok("deal", "delete", "1")
    ok("stage", "remove", "Demo")
    code, out, err = run("trash", "restore", "1")
    assert "it is in Prospect now" in out
    # today: exit 1, "desk.sqlite is damaged (FOREIGN KEY constraint failed): restore a backup"
    assert "damaged" not in err, err
    assert code == 0, err


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


def test_losing_a_won_deal_is_refused_like_winning_it_again(home: Path) -> None:
    # repro: deal won 1 --on 2026-11-20; deal lost 1 --reason x
    # today: "Lost #1 W" -- the November revenue leaves November, closed_on becomes today
    ok("deal", "add", "W", "--value", "1000", "--first-contact", "2026-11-01")
    ok("deal", "won", "1", "--on", "2026-11-20")
    code, _, err = run("deal", "lost", "1", "--reason", "x")
    assert code == 2, err
    assert "already won" in err
    assert '"status": "won"' in ok("deal", "show", "1", "--json")


def test_winning_a_lost_deal_is_refused_like_losing_it_again(home: Path) -> None:
    # repro: deal lost 1 --reason y --on 2026-11-10; deal won 1  (or: deal move 1 Won)
    # today: "Won #1 L ... on <today>": revenue appears in this period, the loss is gone
    ok("deal", "add", "L", "--value", "1000", "--first-contact", "2026-11-01")
    ok("deal", "lost", "1", "--reason", "y", "--on", "2026-11-10")
    for again in (("deal", "won", "1"), ("deal", "move", "1", "Won")):
        code, _, err = run(*again)
        assert code == 2, (again, err)
        assert "already lost" in err


def test_a_json_import_checks_what_a_trash_row_holds(home: Path, tmp_path: Path) -> None:
    # repro: deal add B; deal delete 1; export json d.json; set tables.trash[0].payload to
    # '{"nonsense": 1}'; repdesk --home NEW import d.json; repdesk --home NEW trash restore 1
    # today: the import takes it, and restore says "Restored deal #1 B" (exit 0) while no deal
    # comes back and the trash row is gone.
    import json

    ok("deal", "add", "B", "--value", "10")
    ok("deal", "delete", "1")
    exported = tmp_path / "d.json"
    ok("export", "json", exported)
    data = json.loads(exported.read_text(encoding="utf-8"))
    data["tables"]["trash"][0]["payload"] = '{"nonsense": 1}'
    exported.write_text(json.dumps(data), encoding="utf-8")
    other = tmp_path / "other"
    code, _, err = run("--home", other, "import", exported)
    if code == 0:  # taken: then restore must not claim a deal it did not bring back
        code, out, err = run("--home", other, "trash", "restore", "1")
        assert code != 0 or "#1 B" in ok("--home", other, "deal", "list"), out
    else:
        assert code == 2 and "tables.trash[0].payload" in err, err


def test_a_deal_id_in_fullwidth_digits_is_the_same_id(home: Path) -> None:
    ok("deal", "add", "Alpha", "--value", "5")
    assert "Alpha" in ok("deal", "show", "\uff11")  # fullwidth 1: no "no deal #1"


def test_kpi_as_of_a_day_to_come_is_refused(home: Path) -> None:
    ok("deal", "add", "Alpha", "--value", "5")
    code, _, err = run("kpi", "--as-of", "2099-01-01")
    assert code == 2 and "--as-of: 2099-01-01 is still to come" in err, err


def test_rates_are_read_in_any_case_and_the_desks_own_currency_takes_none(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "settings.toml"
    settings.write_text('currency = "eur"\n[rates]\nusd = 0.9\n', encoding="utf-8")
    ok("deal", "add", "Alpha", "--value", "10", "--currency", "USD")
    assert "won €0" in ok("quota")  # read: `eur` is EUR, `usd` is USD (refused before)
    settings.write_text('currency = "EUR"\n[rates]\nEUR = 2\n', encoding="utf-8")
    code, _, err = run("quota")
    assert code != 0 and "rates.EUR" in err and "the desk's currency" in err, err
