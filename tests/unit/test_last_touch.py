"""Each deal's last touch, kept on the deal by the database (schema step 10), is its latest
activity after every kind of write, on both engines: logging, correcting the moment, moving to
the trash and back, a whole deal in the trash and back, a merge, and a bulk statement that
the services never make (another program's)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text
from tests.pinned import NOW

from repdesk.services import activities, deals, merge, trash
from repdesk.storage.store import write_session


def _drift(engine: Any) -> list[tuple[Any, ...]]:
    """The deals whose kept last touch is not their latest activity's moment."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT d.id, d.last_touch_at, (SELECT MAX(a.at) FROM activity a"
                    " WHERE a.deal_id = d.id) AS latest FROM deal d"
                    " WHERE d.last_touch_at IS DISTINCT FROM"
                    " (SELECT MAX(a.at) FROM activity a WHERE a.deal_id = d.id)"
                    if engine.dialect.name == "postgresql"
                    else "SELECT d.id, d.last_touch_at, latest FROM (SELECT d.id,"
                    " d.last_touch_at, (SELECT MAX(a.at) FROM activity a"
                    " WHERE a.deal_id = d.id) AS latest FROM deal d) AS d"
                    " WHERE d.last_touch_at IS NOT latest"
                )
            )
        )


def _touch(engine: Any, deal_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT last_touch_at FROM deal WHERE id = :id"), {"id": deal_id}
        ).scalar()


def test_the_last_touch_follows_every_write(engine: Any) -> None:
    with write_session(engine) as session:
        one = deals.create_deal(
            session=session, title="One", value_cents=1, currency="EUR", now=NOW
        )
        two = deals.create_deal(
            session=session, title="Two", value_cents=1, currency="EUR", now=NOW
        )
        assert one.id is not None and two.id is not None
        one_id, two_id = one.id, two.id
    assert _touch(engine, one_id) is None and _drift(engine) == []

    with write_session(engine) as session:
        early, _ = activities.log_activity(
            session=session, deal_id=one_id, kind="call", at=NOW - timedelta(days=9), now=NOW
        )
        late, _ = activities.log_activity(
            session=session, deal_id=one_id, kind="email", at=NOW - timedelta(days=2), now=NOW
        )
        activities.log_activity(
            session=session, deal_id=two_id, kind="note", text="x", at=NOW - timedelta(days=5)
        )
        early_id, late_id = early.id, late.id
        assert early_id is not None and late_id is not None
    assert _drift(engine) == []

    with write_session(engine) as session:  # the latest call was logged on the wrong day
        activities.edit_activity(
            session=session, activity_id=late_id, at=NOW - timedelta(days=20), now=NOW
        )
    assert _drift(engine) == []

    with write_session(engine) as session:
        gone = trash.delete_item(session=session, kind="activity", item_id=early_id, now=NOW)
    assert _drift(engine) == []
    with write_session(engine) as session:
        trash.restore(session=session, trash_id=gone.id, now=NOW)
    assert _drift(engine) == []

    with write_session(engine) as session:  # two's activities move to one
        merge.merge_deals(session=session, keep_id=one_id, gone_id=two_id, now=NOW)
    assert _drift(engine) == []

    with write_session(engine) as session:  # the whole deal, with its activities, and back
        whole = trash.delete_item(session=session, kind="deal", item_id=one_id, now=NOW)
    assert _drift(engine) == []
    with write_session(engine) as session:
        back = trash.restore(session=session, trash_id=whole.id, now=NOW)
    assert _drift(engine) == [] and _touch(engine, back.item_id) is not None

    with engine.begin() as conn:  # another program's bulk statements
        if engine.dialect.name == "postgresql":
            conn.execute(text("UPDATE activity SET at = at - INTERVAL '1 day'"))
        else:
            conn.execute(text("UPDATE activity SET at = '2020-01-01 00:00:00.000000'"))
        conn.execute(text("DELETE FROM activity WHERE id = (SELECT MIN(id) FROM activity)"))
    assert _drift(engine) == []
