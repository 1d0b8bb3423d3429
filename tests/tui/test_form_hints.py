"""Every example a form shows (a placeholder's "e.g. ...") is one its field accepts."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from tests.shell import run
from tests.tui.desks import build_small_desk, settings

from repdesk.core import clock
from repdesk.core.dates import parse_period
from repdesk.tui import actions
from repdesk.tui.forms import FormScreen
from repdesk.tui.gateway import DeskGateway

TO_COME = {"next", "when", "expected_close"}  # fields of days to come


def _examples(text: str) -> list[str]:
    """ "e.g. tomorrow, fri 10:00, +3d" -> ["tomorrow", "fri 10:00", "+3d"]."""
    match = re.search(r"e\.g\. ([^(]*)", text)
    if not match:
        return []
    return [part.strip() for part in re.split(r",| or ", match[1]) if part.strip()]


@pytest.mark.parametrize("later", [False, True], ids=["pinned day", "a year on"])
def test_every_example_a_form_shows_is_accepted_by_its_field(
    home: Path, later: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """And still a year on: a date written in the code went by and was then refused when
    typed (found by an audit)."""
    desk = DeskGateway(build_small_desk(home), settings())
    if later:
        monkeypatch.setenv("REPDESK_NOW", "2027-11-20T09:30:00+00:00")
    try:
        forms: list[FormScreen] = [
            actions.deal_form(desk, deal_id=None, stage_id=None),
            actions.deal_form(desk, deal_id=1, stage_id=None),
            actions.log_call_form(desk, deal_id=1, title="x"),
            actions.follow_up_form(desk, deal_id=1, title="x"),
            actions.done_form(desk, follow_up_id=1, title="x"),
            actions.snooze_form(desk, follow_up_id=1, title="x"),
            actions.reschedule_form(desk, follow_up_id=1, title="x", current="", note=""),
            actions.quota_form(desk, period=parse_period("2026-11"), current=None),
        ]
        checked = 0
        for form in forms:
            for spec in form.fields:
                if spec.parse is None:
                    continue
                for example in _examples(spec.placeholder) + _examples(spec.hint):
                    spec.parse(example)  # raises (and names the example) when refused
                    checked += 1
                    if spec.name in TO_COME and re.fullmatch(r"\d{4}-\d\d-\d\d", example):
                        # Saved, a day gone by is refused: "today or later".
                        assert date.fromisoformat(example) >= clock.today(), example
        assert checked >= 15
    finally:
        desk.close()


def test_expected_close_shows_no_time_of_day(home: Path) -> None:
    desk = DeskGateway(build_small_desk(home), settings())
    try:
        form = actions.deal_form(desk, deal_id=None, stage_id=None)
    finally:
        desk.close()
    expected = next(spec for spec in form.fields if spec.name == "expected_close")
    assert ":" not in expected.placeholder + expected.hint


@pytest.mark.parametrize("typed", ["60w", "0d", "2.5w", "²d", "2w", "30d", "2 0", "1 4d", "030"])
def test_the_repeat_field_and_the_shells_every_agree(home: Path, typed: str) -> None:
    """One parser for a repeat: what `--every` refuses the form refuses in the same words (the
    form once took `60w` where the shell said "420 is not valid"), and what one takes the other
    takes."""
    desk = DeskGateway(build_small_desk(home), settings())
    try:
        form = actions.follow_up_form(desk, deal_id=1, title="x")
    finally:
        desk.close()
    every = next(spec for spec in form.fields if spec.name == "every")
    assert every.parse is not None
    code, out, err = run("--home", home, "follow-up", "add", "1", "tomorrow", "--every", typed)
    try:
        days = every.parse(typed)
    except ValueError as exc:
        assert code == 2 and err == f"repdesk: every: {exc}\n"
    else:
        assert code == 0 and f"every {days} days" in out
