"""The shell mends mistakes: delete to the trash, restore, empty, merge, correct (issue 14)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from tests.shell import ok, refused, run


@pytest.fixture
def desk(home: Path) -> Path:
    ok("deal", "add", "Fleet rollout", "--company", "Acme", "--value", "45k",
       "--first-contact", "2026-10-01")  # fmt: skip
    ok("deal", "add", "Fleet rollout again", "--company", "Acme", "--first-contact", "2026-10-01")
    ok("log", "call", "1", "--outcome", "connected", "--next", "mon", "--next-note", "offer")
    ok("log", "email", "2", "--note", "sent the deck")
    ok("objection", "add", "2", "--category", "price", "--said", "Too dear")
    return home


def test_deal_show_lists_the_ids_a_delete_needs(desk: Path) -> None:
    out = ok("deal", "show", "2")
    assert "  [2] 2026-11-20 email · sent the deck" in out
    assert "  [1] price, open: Too dear" in out
    data = json.loads(ok("deal", "show", "2", "--json"))
    assert data["recent_activities"][0]["id"] == 2


def test_deleted_things_wait_in_the_trash_and_come_back(desk: Path) -> None:
    assert "Deleted email 2026-11-20 on #2" in ok("activity", "delete", "2")
    assert "Deleted price objection on #2" in ok("objection", "delete", "1")
    assert "Deleted follow-up due 2026-11-23 on #1" in ok("follow-up", "delete", "1")
    out = ok("deal", "delete", "1")
    assert out.startswith("Deleted deal #1 Fleet rollout (Acme) (with 2 rows of its timeline)")
    assert "in the trash as 4 for 30 days (`repdesk trash restore 4` puts it back)" in out
    assert "Activities: none yet" in ok("deal", "show", "2")
    assert "1 deal" in ok("deal", "list")
    assert "follow-up" not in ok("today").lower() or "offer" not in ok("today")
    listed = json.loads(ok("trash", "--json"))
    assert [(i["id"], i["kind"]) for i in listed] == [
        (4, "deal"), (3, "follow-up"), (2, "objection"), (1, "activity")
    ]  # fmt: skip
    assert listed[0]["expires_on"] == "2026-12-20"
    assert "[4] deal: #1 Fleet rollout (Acme)" in ok("trash")

    assert "restore the deal first (`repdesk trash restore 4`)" in refused("trash", "restore", "3")
    assert "Restored deal #1 Fleet rollout (Acme)" in ok("trash", "restore", "4")
    ok("trash", "restore", "3")
    ok("trash", "restore", "1")
    assert "sent the deck" in ok("deal", "show", "2")
    assert "offer" in ok("deal", "show", "1")
    assert "Emptied the trash: 1 thing gone for good" in ok("trash", "empty")
    assert ok("trash") == "The trash is empty.\n"
    assert "nothing in the trash has id 2" in refused("trash", "restore", "2")


def test_exports_leave_the_trash_out_and_the_json_export_keeps_it(
    desk: Path, tmp_path: Path
) -> None:
    ok("deal", "delete", "2")
    ok("export", "csv", tmp_path / "deals.csv")
    assert "again" not in (tmp_path / "deals.csv").read_text()
    assert "Wrote 1 deal" in ok("export", "csv", tmp_path / "deals2.csv")
    assert "1 thing in the trash" in ok("export", "json", tmp_path / "desk.json")
    other = tmp_path / "other"
    ok("--home", other, "import", tmp_path / "desk.json")
    assert "#2 Fleet rollout again (Acme)" in ok("--home", other, "trash")
    ok("--home", other, "trash", "restore", "1")
    assert "Too dear" in ok("--home", other, "deal", "show", "2")


def test_merge_moves_the_timeline_to_the_deal_kept(desk: Path) -> None:
    out = ok("deal", "merge", "1", "2")
    assert out.startswith("Merged #2 Fleet rollout again (Acme) into #1 Fleet rollout (Acme)")
    assert "1 activity, 0 follow-ups, 1 objection and its stage history moved" in out
    assert "#2 is in the trash as 1" in out
    shown = ok("deal", "show", "1")
    assert "sent the deck" in shown and "Too dear" in shown
    assert "merged into #1" in ok("trash")
    assert "another deal" in refused("deal", "merge", "1", "1")


def test_a_merged_away_deal_restored_takes_its_timeline_back(desk: Path) -> None:
    """Found by an audit: restored, the merged-away deal came back empty, its activities and
    objections left on the deal kept; the shell had no other way to undo a merge."""
    before = {n: ok("deal", "show", n) for n in ("1", "2")}
    ok("deal", "merge", "1", "2")
    ok("log", "call", "1", "--note", "after the merge")
    out = ok("trash", "restore", "1")
    assert "Restored deal #2 Fleet rollout again (Acme) (merged into #1)" in out
    assert "3 rows of its timeline taken back from #1" in out  # its history too
    shown = ok("deal", "show", "2")
    assert "sent the deck" in shown and "Too dear" in shown
    assert ok("deal", "show", "1").count("after the merge") == 1
    assert "Too dear" not in ok("deal", "show", "1")
    assert before["2"].split("Follow-ups")[1] == shown.split("Follow-ups")[1]


def test_a_merged_away_deal_restored_takes_its_people_back_too(home: Path) -> None:
    """Found by a hostile test: the contact the merge gave KEEP stayed its main one."""
    ok("deal", "add", "KEEP", "--company", "A")
    ok("deal", "add", "GONE", "--company", "B", "--contact", "Gus", "--email", "gus@b.example")
    ok("deal", "merge", "KEEP", "GONE")
    assert json.loads(ok("deal", "show", "KEEP", "--json"))["contact"] == "Gus"
    ok("trash", "restore", "1")
    keep = json.loads(ok("deal", "show", "1", "--json"))
    assert (keep["contact"], keep["contacts"]) == ("", [])
    assert json.loads(ok("deal", "show", "2", "--json"))["contact"] == "Gus"


def test_a_logged_activity_is_corrected_and_logged_earlier(desk: Path) -> None:
    out = ok("log", "call", "1", "--outcome", "no answer", "--at", "yesterday 15:00")
    assert out.startswith("Logged call on #1")
    assert "[3] 2026-11-19 call · no answer" in ok("deal", "show", "1")
    out = ok("activity", "edit", "3", "--kind", "meeting", "--minutes", "30", "--at", "wed 9:00",
             "--outcome", "meeting booked")  # fmt: skip
    assert out == "Activity 3: meeting 2026-11-18 09:00 · meeting booked\n"
    assert "at: '2026-11-21 09:00' is not valid: now or earlier" in refused(
        "log", "call", "1", "--at", "tomorrow 9:00"
    )
    assert "nothing to change" in refused("activity", "edit", "3")
    assert "minutes" in refused("activity", "edit", "3", "--minutes", "lots")
    assert "no activity has id 99" in refused("activity", "edit", "99", "--note", "x")
    code, _, err = run("activity", "delete", "x")
    assert code == 2 and "activity: 'x' is not valid" in err


def test_a_call_logged_for_an_earlier_day_answers_only_what_was_due_by_then(desk: Path) -> None:
    """Found by an audit: a call logged for 19 Nov completed the step due on 23 Nov."""
    ok("log", "call", "1", "--at", "-1d")  # `-1d` is a value, not an unknown option
    assert "'-1.5d' is not a date" in refused("log", "call", "1", "--at", "-1.5d")  # nor this
    assert json.loads(ok("deal", "show", "1", "--json"))["follow_ups"][0]["due_on"] == "2026-11-23"


def test_a_touch_before_the_first_contact_moves_it_back(desk: Path) -> None:
    ok("log", "call", "1", "--at", "2026-09-20 10:00")
    assert "first contact:  2026-09-20" in ok("deal", "show", "1")
    assert ok("deal", "won", "1", "--on", "2026-09-25").startswith("Won #1")
    ok("log", "email", "2", "--note", "x")
    ok("activity", "edit", "4", "--at", "2026-09-01 08:00")
    assert "first contact:  2026-09-01" in ok("deal", "show", "2")


def test_an_activity_before_1900_in_utc_is_refused_where_it_is_typed(
    desk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1900-01-01 00:00 in a zone ahead of UTC is 1899 in UTC: taken, the desk's own JSON
    export could not be imported (found by a hostile test)."""
    import time

    monkeypatch.setenv("TZ", "Etc/GMT-14")
    time.tzset()
    try:
        err = refused("log", "call", "1", "--at", "1900-01-01 00:00")
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()
    assert "a date from 1900-01-01 to 9990-12-31" in err
    ok("export", "json", tmp_path / "desk.json")
    ok("--home", tmp_path / "other", "import", tmp_path / "desk.json")


def test_a_deal_keeps_its_own_notes(desk: Path, tmp_path: Path) -> None:
    assert ok("deal", "notes", "1", "Decides in December\\nPrefers mornings") == (
        "Notes of #1 Fleet rollout: 2 lines\n"
    )
    assert ok("deal", "notes", "1") == "Decides in December\nPrefers mornings\n"
    assert "Notes\n  Decides in December\n  Prefers mornings\n" in ok("deal", "show", "1")
    assert json.loads(ok("deal", "show", "1", "--json"))["notes"].startswith("Decides")
    ok("export", "json", tmp_path / "desk.json")
    exported = json.loads((tmp_path / "desk.json").read_text())
    assert exported["tables"]["deal"][0]["notes"] == "Decides in December\nPrefers mornings"
    assert ok("deal", "notes", "1", "") == "Notes of #1 Fleet rollout: cleared\n"


def test_the_pipeline_is_the_reps_own_from_the_shell(desk: Path) -> None:
    out = ok("stage", "add", "Trial", "--probability", "45", "--rot", "10", "--after", "Qualified")
    assert out.startswith("Added the stage Trial (id 9):\n")
    assert "  4. Trial (id 9) · 45% · rots after 10 days · 0 open deals" in out
    assert "  8. Won (id 7) · 100% · won" in ok("stage", "list")
    ok("stage", "rename", "Trial", "Pilot")
    ok("stage", "move", "pilot", "1")
    out = ok("stage", "set", "pilot", "--rot", "none", "--probability", "50%")
    assert "  1. Pilot (id 9) · 50% · never rots · 0 open deals" in out
    ok("deal", "move", "1", "Pilot")
    assert "into: '' is not valid" in refused("stage", "remove", "pilot")
    out = ok("stage", "remove", "pilot", "--into", "Demo")
    assert out.startswith("Removed the stage Pilot; 1 deal moved to Demo:")
    assert "Pilot" not in ok("stage", "list")
    listed = json.loads(ok("stage", "list", "--json"))
    assert [s["name"] for s in listed][:2] == ["Prospect", "Contacted"]
    assert "probability: 'lots' is not valid" in refused(
        "stage", "set", "Demo", "--probability", "lots"
    )
    assert "nothing to change" in refused("stage", "set", "Demo")
    assert "an open stage" in refused("stage", "remove", "Lost")


def test_a_deal_deleted_with_one_row_of_its_timeline_says_row(desk: Path) -> None:
    assert ok("deal", "add", "Solo").startswith("Added #3 Solo")
    assert "(with 1 row of its timeline)" in ok("deal", "delete", "3")


class _ReaderGone(io.StringIO):
    """Standard output whose reader left (`repdesk ... | head -1`): every write fails."""

    def __init__(self, spare_fd: int) -> None:
        super().__init__()
        self._fd = spare_fd

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self) -> int:
        return self._fd  # entry.main points it at /dev/null: a spare descriptor, not ours


@pytest.mark.parametrize(
    ("command", "saved"),
    [
        (["stage", "rename", "Won", "Gewonnen"], ["stage", "list"]),
        (["deal", "notes", "1", "saved through a pipe"], ["deal", "notes", "1"]),
        (["activity", "edit", "1", "--note", "said through a pipe"], ["deal", "show", "1"]),
    ],
)
@pytest.mark.parametrize("stdout", ["reader gone", "closed"])
def test_a_change_is_kept_when_nobody_reads_what_it_says(
    desk: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], saved: list[str], stdout: str
) -> None:
    """Printed inside the write, "Renamed to Gewonnen" went out, the pipe broke, and the
    rename was rolled back with exit 0 (`| head -1`); with stdout closed (`>&-`) the command
    crashed after the change. Found by a hostile test."""
    import os
    import sys

    from repdesk.cli import main

    spare = os.open(os.devnull, os.O_WRONLY)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(sys, "stdout", _ReaderGone(spare) if stdout == "reader gone" else None)
            assert main(command) == 0
    finally:
        os.close(spare)
    words = {"stage": "Gewonnen", "deal": "saved through a pipe", "activity": "said through a pipe"}
    assert words[command[0]] in ok(*saved)


def test_a_closed_deal_is_reopened_by_reopen_only_and_an_open_one_is_not(desk: Path) -> None:
    """`deal move` reopened a won deal without a word, its revenue leaving the figures (found
    by a hostile test); `deal reopen` said "Reopened" of an open deal."""
    ok("deal", "won", "1")
    err = refused("deal", "move", "1", "Prospect")
    assert "deal #1 is won (on 2026-11-20): `repdesk deal reopen 1 --stage STAGE`" in err
    assert json.loads(ok("deal", "show", "1", "--json"))["status"] == "won"
    assert "is open already: nothing to reopen" in refused("deal", "reopen", "2")
    assert "reopened into an open stage" in refused("deal", "reopen", "1", "--stage", "Lost")
    assert ok("deal", "reopen", "1", "--stage", "Demo").startswith("Reopened #1")


def test_notes_from_stdin_that_are_not_text_get_one_line(
    desk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes that are not UTF-8 crashed `deal notes -`, and a NUL was stored (then a
    PostgreSQL move and the desk's own JSON export refused it): found by a hostile test."""
    for data, said in ((b"\xff\xfe x", "not UTF-8 text"), (b"a\x00b", "a NUL character")):
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
        assert said in refused("deal", "notes", "1", "-")
    assert json.loads(ok("deal", "show", "1", "--json"))["notes"] == ""
    monkeypatch.setattr(
        "sys.stdin", io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbfZeile 1\nZeile 2\n"))
    )
    assert "2 lines" in ok("deal", "notes", "1", "-")
    assert ok("deal", "notes", "1") == "Zeile 1\nZeile 2\n"  # a Windows editor's mark left out


def test_a_follow_up_of_a_lost_deal_is_not_snoozed_as_it_is_not_added(desk: Path) -> None:
    ok("deal", "lost", "1", "--reason", "price")
    assert "deal #1 is lost: a follow-up on it would never show" in refused(
        "follow-up", "snooze", "1", "+2d"
    )


def test_a_thing_in_the_trash_named_by_its_id_says_where_it_went(desk: Path) -> None:
    """Not "no deal #1" for a deal deleted a minute ago: the line names the trash and the
    command that brings it back, for the deal and for what went with it."""
    ok("review", "commit", "1", "signed order")
    ok("activity", "delete", "2")
    assert refused("activity", "edit", "2", "--minutes", "3") == (
        "repdesk: activity 2 is in the trash since 2026-11-20 "
        "(`repdesk trash restore 1` puts it back)\n"
    )
    ok("deal", "delete", "1")
    assert "deal #1 is in the trash since 2026-11-20 (`repdesk trash restore 2` puts it back)" in (
        refused("log", "call", "1")
    )
    assert "deal #1 is in the trash" in refused("deal", "won", "1")
    assert "follow-up 1 went to the trash with deal #1 on 2026-11-20 " in refused(
        "follow-up", "done", "1"
    )
    assert "commitment 1 went to the trash with deal #1" in refused("review", "kept", "1")
    assert "no deal #7;" in refused("deal", "show", "7")  # never was
    ok("trash", "restore", "2")
    assert "Commitment [1]" in ok("review", "kept", "1")


def test_a_deal_merged_away_named_by_its_id_says_into_which(desk: Path) -> None:
    ok("deal", "merge", "1", "2")
    assert refused("deal", "show", "2") == (
        "repdesk: deal #2 was merged into #1 on 2026-11-20 "
        "(`repdesk trash restore 1` takes the merge back)\n"
    )
    # Its objection moved with the merge: it is there, on the deal kept.
    assert "Too dear" in ok("deal", "show", "1")


def test_a_thing_deleted_before_its_deal_says_to_restore_the_deal_first(desk: Path) -> None:
    """A hostile test: a follow-up deleted on its own, then its deal, named its own restore,
    which was then refused; its trash line read "done" with its due day."""
    ok("follow-up", "done", "1")
    assert "follow-up due 2026-11-23, done 2026-11-20 on #1" in ok("follow-up", "delete", "1")
    ok("deal", "delete", "1")
    assert refused("follow-up", "snooze", "1", "fri") == (
        "repdesk: follow-up 1 is in the trash since 2026-11-20 (its deal #1 is in the trash "
        "too: restore the deal first (`repdesk trash restore 2`))\n"
    )
    ok("trash", "empty")  # the deal gone for good: the follow-up cannot come back either
    assert "no follow-up has id 1" in refused("follow-up", "snooze", "1", "fri")


def test_follow_ups_due_before_a_day_go_to_the_trash_in_one_command(desk: Path) -> None:
    """A new user's trial: a CRM's to-dos of 2023 came in as 35 overdue steps, and went to the
    trash one `D` at a time."""
    ok("follow-up", "add", "2", "today", "--note", "old to-do")
    ok("follow-up", "add", "2", "2026-12-01", "--note", "still wanted")
    dry = ok("follow-up", "delete", "--due-before", "2026-11-24", "--dry-run")
    assert dry == (
        "Would delete 2 follow-ups due before 2026-11-24 (the first due 2026-11-20); nothing "
        "was changed\n"
    )
    out = ok("follow-up", "delete", "--due-before", "2026-11-24")
    assert out.startswith("Deleted 2 follow-ups due before 2026-11-24 (the first due 2026-11-20)")
    today = ok("today", "--all")
    assert "old to-do" not in today and "offer" not in today
    assert "still wanted" in ok("deal", "show", "2")
    assert len(json.loads(ok("trash", "--json"))) == 2  # each restorable on its own
    assert "give an ID, or --due-before DATE" in refused("follow-up", "delete")
    ok("follow-up", "add", "2", "today", "--note", "on a deal about to be lost")
    ok("deal", "lost", "2", "--reason", "went quiet")
    assert ok("follow-up", "delete", "--due-before", "2026-11-24", "--dry-run") == (
        "Would delete 1 follow-up due before 2026-11-24 (due 2026-11-20, on a lost deal: not "
        "in the queues); nothing was changed\n"
    )
    assert "give an ID, or --due-before DATE" in refused(
        "follow-up", "delete", "3", "--due-before", "2026-11-24"
    )
