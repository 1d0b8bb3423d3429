"""Every example a form shows (a placeholder's "e.g. ...") is one its field accepts."""

from __future__ import annotations

import re
from pathlib import Path

from tests.tui.desks import build_small_desk, settings

from repdesk.core.dates import parse_period
from repdesk.tui import actions
from repdesk.tui.forms import FormScreen
from repdesk.tui.gateway import DeskGateway


def _examples(text: str) -> list[str]:
    """ "e.g. tomorrow, fri 10:00, +3d" -> ["tomorrow", "fri 10:00", "+3d"]."""
    match = re.search(r"e\.g\. ([^(]*)", text)
    if not match:
        return []
    return [part.strip() for part in re.split(r",| or ", match[1]) if part.strip()]


def test_every_example_a_form_shows_is_accepted_by_its_field(home: Path) -> None:
    desk = DeskGateway(build_small_desk(home), settings())
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
