"""Hostile text from Pipedrive (issue 20): markup, escape sequences, NUL, bidi overrides, line
breaks and very long names in what the company's CRM holds reach the desk as written (NUL
aside: PostgreSQL cannot keep it), and the shell shows them harmless, one line each."""

from __future__ import annotations

import re

from sqlalchemy import Engine, select
from tests.pipedrive.helpers import add_deal, remote_deal, sync
from tests.pipedrive.server import Pipedrive
from tests.shell import ok

from repdesk.core.domain import MAX_TEXT
from repdesk.services import deals
from repdesk.storage.models import Activity, Deal
from repdesk.storage.store import read_session, write_session

HOSTILE = "[b]Big[/b] \x1b]2;pwned\x07 n\x00ul \u202eevil\u202c [@click=app.quit]x[/] \ud800"
KEPT = "[b]Big[/b] \x1b]2;pwned\x07 nul \u202eevil\u202c [@click=app.quit]x[/] \ufffd"
LONG = "W" * (MAX_TEXT + 50_000)
# What no line of the shell's output may hold: C0 controls but the line break, DEL, C1
# controls, bidi overrides and isolates, lone surrogates.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def test_hostile_text_from_pipedrive_is_kept_and_shown_harmless(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    org = api.add("organizations", name=HOSTILE + "\nsecond line")
    deal = api.add("deals", title=HOSTILE, org_id=org["id"])
    api.add("deals", title=LONG)
    api.add("notes", deal_id=deal["id"], content=f"<p>{HOSTILE}</p>")
    fleet = add_deal(desk, "Fleet rollout")

    sync(desk, url)

    with read_session(desk) as session:
        titles = set(session.execute(select(Deal.title)).scalars())
        note = session.execute(select(Activity.text).where(Activity.kind == "note")).scalar_one()
    assert KEPT in titles  # as written, NUL dropped, a lone surrogate as U+FFFD
    assert "W" * MAX_TEXT in titles  # cut to the longest text a desk keeps (and exports)
    assert note == KEPT
    listing = ok("deal", "list")
    assert not RAW.search(listing)
    assert "[b]Big[/b] ␛]2;pwned␇ nul �evil� [@click=app.quit]x[/]" in listing
    # One line a deal (three, and the count), a long company cut to a line's worth.
    assert "(" + "[b]Big[/b]" in listing and "…)" in listing and len(listing.splitlines()) == 4

    # A title changed on both sides: the conflicts list names both, one line, cut short.
    api.change("deals", remote_deal(api, "Fleet rollout")["id"], title=HOSTILE + "\n" + LONG)
    with write_session(desk) as session:
        deals.edit_deal(session=session, deal_id=fleet, title="Fleet 2027")
    assert "1 field changed on both sides" in "\n".join(sync(desk, url).lines())
    listed = ok("sync", "conflicts")
    assert not RAW.search(listed)
    [line] = [line for line in listed.splitlines() if "title" in line]
    assert line.startswith(
        f"  1: deal #{fleet} Fleet 2027: title: desk Fleet 2027 · Pipedrive [b]Big"
    )
    assert line.endswith("…") and len(line) < 160
    settled = ok("sync", "settle", "1", "pipedrive")
    assert not RAW.search(settled) and settled.count("\n") == 1 and len(settled) < 200
