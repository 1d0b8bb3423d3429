"""Numbered schema steps, applied in order, recorded in the desk's schema version.

Why numbered SQL steps and not Alembic: the fast shell commands (`repdesk quota`, `today`) must
open, check and if needed upgrade a desk with the standard library's sqlite3 alone (importing
SQLAlchemy costs ~210 ms, Alembic more), and a desk's history is short and linear. Each step is
plain SQL with a few dialect tokens, so the same steps serve PostgreSQL. Steps that rebuild a
table must run with foreign keys off (a dropped parent would cascade-delete children); the
runner turns them off for the whole upgrade and checks `foreign_key_check` before it commits.

On PostgreSQL the same steps run in one transaction with foreign keys on (its ALTER TABLE
changes tables in place, and DDL is transactional); a step that rebuilds a table the SQLite way
needs its own PostgreSQL statements there. A server desk keeps its identity and version in a
one-row table (SERVER_SCHEMA_TABLE), where a file keeps them in its header.

Never edit a released step: add a new one. tests/fixtures/ keeps a desk of every old version.
"""

from __future__ import annotations

from collections.abc import Callable

# The identity in every desk file's header (PRAGMA application_id): "RPDK".
APPLICATION_ID = 0x5250444B

_PEOPLE_TABLES = ("company", "contact", "deal_contact", "contact_email", "contact_phone")
# After rows were inserted with their own ids: a PostgreSQL SERIAL's sequence moves past them
# (SQLite's INTEGER PRIMARY KEY takes the largest id + 1 by itself: nothing to do there).
_ADVANCE = {
    "sqlite": {f"advance_{t}": "SELECT 1" for t in _PEOPLE_TABLES},
    "postgresql": {
        f"advance_{t}": f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
        f"COALESCE(MAX(id), 0) + 1, false) FROM {t}"
        for t in _PEOPLE_TABLES
    },
}

_TOKENS = {
    # "unique_pk": an id never handed out twice, even after its row is deleted (a SERIAL never
    # goes back; SQLite's plain INTEGER PRIMARY KEY reuses the largest id once it is deleted).
    "sqlite": {
        "pk": "INTEGER PRIMARY KEY",
        "unique_pk": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "ts": "DATETIME",
        # NULL-safe equality: two NULLs are the same (no company on either side).
        "same": "IS",
        **_ADVANCE["sqlite"],
    },
    "postgresql": {
        "pk": "SERIAL PRIMARY KEY",
        "unique_pk": "SERIAL PRIMARY KEY",
        "ts": "TIMESTAMP WITH TIME ZONE",
        "same": "IS NOT DISTINCT FROM",
        **_ADVANCE["postgresql"],
    },
}

_V1 = [
    """CREATE TABLE stage (
        id {pk},
        name VARCHAR NOT NULL UNIQUE,
        position INTEGER NOT NULL,
        probability INTEGER NOT NULL,
        kind VARCHAR NOT NULL DEFAULT 'open',
        rot_days INTEGER
    )""",
    """CREATE TABLE deal (
        id {pk},
        title VARCHAR NOT NULL,
        company VARCHAR NOT NULL DEFAULT '',
        contact VARCHAR NOT NULL DEFAULT '',
        email VARCHAR NOT NULL DEFAULT '',
        phone VARCHAR NOT NULL DEFAULT '',
        value_cents BIGINT NOT NULL DEFAULT 0,
        currency VARCHAR NOT NULL DEFAULT 'EUR',
        stage_id INTEGER NOT NULL REFERENCES stage (id),
        status VARCHAR NOT NULL DEFAULT 'open',
        source VARCHAR NOT NULL DEFAULT '',
        product VARCHAR NOT NULL DEFAULT '',
        region VARCHAR NOT NULL DEFAULT '',
        segment VARCHAR NOT NULL DEFAULT 'new',
        first_contact DATE NOT NULL,
        expected_close DATE,
        closed_on DATE,
        lost_reason VARCHAR NOT NULL DEFAULT '',
        stage_entered_at {ts} NOT NULL,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )""",
    "CREATE INDEX ix_deal_status_stage ON deal (status, stage_id)",
    "CREATE INDEX ix_deal_closed_on ON deal (closed_on)",
    """CREATE TABLE stage_change (
        id {pk},
        deal_id INTEGER NOT NULL REFERENCES deal (id) ON DELETE CASCADE,
        from_stage_id INTEGER REFERENCES stage (id),
        to_stage_id INTEGER NOT NULL REFERENCES stage (id),
        changed_at {ts} NOT NULL
    )""",
    "CREATE INDEX ix_stage_change_deal ON stage_change (deal_id, changed_at)",
    """CREATE TABLE activity (
        id {pk},
        deal_id INTEGER NOT NULL REFERENCES deal (id) ON DELETE CASCADE,
        kind VARCHAR NOT NULL,
        at {ts} NOT NULL,
        outcome VARCHAR NOT NULL DEFAULT '',
        minutes INTEGER,
        text VARCHAR NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX ix_activity_deal_at ON activity (deal_id, at)",
    "CREATE INDEX ix_activity_at ON activity (at)",
    """CREATE TABLE follow_up (
        id {pk},
        deal_id INTEGER NOT NULL REFERENCES deal (id) ON DELETE CASCADE,
        due_on DATE NOT NULL,
        due_time TIME,
        note VARCHAR NOT NULL DEFAULT '',
        created_at {ts} NOT NULL,
        done_at {ts},
        outcome VARCHAR NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX ix_follow_up_pending ON follow_up (done_at, due_on)",
    "CREATE INDEX ix_follow_up_deal ON follow_up (deal_id, done_at)",
    """CREATE TABLE objection (
        id {pk},
        deal_id INTEGER NOT NULL REFERENCES deal (id) ON DELETE CASCADE,
        category VARCHAR NOT NULL,
        said VARCHAR NOT NULL,
        answer VARCHAR NOT NULL DEFAULT '',
        status VARCHAR NOT NULL DEFAULT 'open',
        raised_at {ts} NOT NULL,
        resolved_at {ts}
    )""",
    "CREATE INDEX ix_objection_deal ON objection (deal_id)",
    "CREATE INDEX ix_objection_category ON objection (category)",
    """CREATE TABLE quota (
        id {pk},
        period VARCHAR NOT NULL UNIQUE,
        amount_cents BIGINT NOT NULL
    )""",
    # The default pipeline from the domain page; the rep can rename and reorder it.
    """INSERT INTO stage (name, position, probability, kind, rot_days) VALUES
        ('Prospect', 1, 10, 'open', 14),
        ('Contacted', 2, 15, 'open', 14),
        ('Qualified', 3, 25, 'open', 21),
        ('Demo', 4, 40, 'open', 21),
        ('Proposal', 5, 55, 'open', 30),
        ('Negotiation', 6, 70, 'open', 30),
        ('Won', 7, 100, 'won', NULL),
        ('Lost', 8, 0, 'lost', NULL)""",
]

_V2 = [
    # Imported deals remember their id in the CRM they came from, so a re-import updates them.
    "ALTER TABLE deal ADD COLUMN source_id VARCHAR",
    "CREATE INDEX ix_deal_source_id ON deal (source_id)",
    # Recurring follow-ups (post-sale check-ins every N days).
    "ALTER TABLE follow_up ADD COLUMN recur_days INTEGER",
    # A deal's next step is its earliest pending follow-up: with due_on in the index the board
    # finds it in one seek per deal (without it SQLite walked every pending follow-up: O(n²)).
    "DROP INDEX ix_follow_up_deal",
    "CREATE INDEX ix_follow_up_deal ON follow_up (deal_id, done_at, due_on)",
]

_V3 = [
    # The trash: a deleted deal, activity, follow-up or objection leaves its tables and waits
    # here for 30 days as the rows it was (JSON), so every query of the live tables stays
    # right without a "not deleted" filter, and a restore puts the rows back as they were.
    # Its ids are never reused: `trash restore ID` and the app's undo must never find another.
    """CREATE TABLE trash (
        id {unique_pk},
        kind VARCHAR NOT NULL,
        item_id INTEGER NOT NULL,
        deal_id INTEGER NOT NULL,
        label VARCHAR NOT NULL DEFAULT '',
        payload VARCHAR NOT NULL,
        deleted_at {ts} NOT NULL
    )""",
    "CREATE INDEX ix_trash_deleted_at ON trash (deleted_at)",
    # A deal's own free notes (multi-line), beside its timeline.
    "ALTER TABLE deal ADD COLUMN notes VARCHAR NOT NULL DEFAULT ''",
]

_V4 = [
    # Two-way sync with a CRM (Pipedrive first; see src/repdesk/sync/). Self-contained: the
    # step only adds tables, so it can be renumbered at a merge without touching the others.
    # The sync's own settings and marks: the stage mapping, the last pull, the rep's user id.
    """CREATE TABLE sync_state (
        key VARCHAR NOT NULL PRIMARY KEY,
        value VARCHAR NOT NULL
    )""",
    # A desk row and the CRM object it is, with the values both sides agreed on at the last
    # sync (`base`, JSON): a field that differs from it was changed on that side since.
    """CREATE TABLE sync_link (
        id {pk},
        kind VARCHAR NOT NULL,
        local_id INTEGER NOT NULL,
        remote_type VARCHAR NOT NULL,
        remote_id INTEGER NOT NULL,
        base VARCHAR NOT NULL DEFAULT '{{}}',
        synced_at {ts} NOT NULL
    )""",
    "CREATE UNIQUE INDEX ix_sync_link_local ON sync_link (kind, local_id)",
    "CREATE UNIQUE INDEX ix_sync_link_remote ON sync_link (remote_type, remote_id)",
    # What the desk changed that the CRM has not heard yet: written in the same transaction
    # as the change (storage/outbox.py). `sending_since`: a create was sent at that time and
    # its answer may have been lost, so the next sync looks for it before creating again.
    """CREATE TABLE sync_outbox (
        id {unique_pk},
        kind VARCHAR NOT NULL,
        local_id INTEGER NOT NULL,
        queued_at {ts} NOT NULL,
        sending_since {ts}
    )""",
    "CREATE INDEX ix_sync_outbox_item ON sync_outbox (kind, local_id)",
    # A field both sides changed since the last sync, waiting for the rep to pick one.
    """CREATE TABLE sync_conflict (
        id {pk},
        kind VARCHAR NOT NULL,
        local_id INTEGER NOT NULL,
        field VARCHAR NOT NULL,
        desk_value VARCHAR,
        remote_value VARCHAR,
        found_at {ts} NOT NULL
    )""",
    "CREATE UNIQUE INDEX ix_sync_conflict_field ON sync_conflict (kind, local_id, field)",
]

_V5 = [
    # Forecast categories (issue 21): the rep's own call on a deal (NULL: the default from its
    # probability, see core/forecast.py) and a deal's own win probability in place of its
    # stage's (NULL: the stage's).
    "ALTER TABLE deal ADD COLUMN forecast VARCHAR",
    "ALTER TABLE deal ADD COLUMN probability INTEGER",
    # Who a deal is up against (or was lost to), for what lost deals teach.
    "ALTER TABLE deal ADD COLUMN competitor VARCHAR NOT NULL DEFAULT ''",
    # The won customer's answer to "how likely are you to recommend us", 0-10, and its day.
    "ALTER TABLE deal ADD COLUMN nps INTEGER",
    "ALTER TABLE deal ADD COLUMN nps_on DATE",
    # Every change of a deal's expected close: how often it slipped, and the close date a
    # past day's figures and a past week's review read.
    """CREATE TABLE close_date_change (
        id {pk},
        deal_id INTEGER NOT NULL REFERENCES deal (id) ON DELETE CASCADE,
        from_date DATE,
        to_date DATE,
        changed_at {ts} NOT NULL
    )""",
    "CREATE INDEX ix_close_date_change_deal ON close_date_change (deal_id, changed_at)",
    "CREATE INDEX ix_close_date_change_at ON close_date_change (changed_at)",
    # Every change of an open deal's forecast category, whatever changed it (the rep's call,
    # its probability, a move, its stage's probability): the week's review lists them, and a
    # past day's figures read each deal's category then.
    """CREATE TABLE forecast_change (
        id {pk},
        deal_id INTEGER NOT NULL REFERENCES deal (id) ON DELETE CASCADE,
        from_category VARCHAR NOT NULL,
        to_category VARCHAR NOT NULL,
        changed_at {ts} NOT NULL
    )""",
    "CREATE INDEX ix_forecast_change_deal ON forecast_change (deal_id, changed_at)",
    "CREATE INDEX ix_forecast_change_at ON forecast_change (changed_at)",
    # What the rep commits to for a week (a deal and what will happen), marked kept or missed
    # in the next week's review. The rep types these ids: never handed out twice.
    """CREATE TABLE commitment (
        id {unique_pk},
        deal_id INTEGER NOT NULL REFERENCES deal (id) ON DELETE CASCADE,
        week VARCHAR NOT NULL,
        text VARCHAR NOT NULL,
        made_at {ts} NOT NULL,
        outcome VARCHAR,
        marked_at {ts}
    )""",
    "CREATE INDEX ix_commitment_week ON commitment (week)",
    "CREATE INDEX ix_commitment_deal ON commitment (deal_id)",
    # A week's review as it read when the week closed (JSON), so it reads the same later.
    """CREATE TABLE weekly_review (
        id {pk},
        week VARCHAR NOT NULL UNIQUE,
        starts_on DATE NOT NULL,
        ends_on DATE NOT NULL,
        frozen_at {ts} NOT NULL,
        payload VARCHAR NOT NULL
    )""",
]

# People and companies (issue 19). A deal's one-line contact, email and phone (and its company
# text) become records: a company, a contact with several emails and phones, and a link of a
# deal to each of its contacts with a role. The deal keeps the text columns: they show its main
# contact (the first linked), kept in step by src/repdesk/services/people.py, so the board, the
# exports and the CRM sync read them as before.
_PERSON = (
    "CASE WHEN TRIM({d}.contact) != '' THEN TRIM({d}.contact) "
    "WHEN TRIM({d}.email) != '' THEN TRIM({d}.email) ELSE TRIM({d}.phone) END"
)
_HAS_PERSON = "(TRIM({d}.contact) != '' OR TRIM({d}.email) != '' OR TRIM({d}.phone) != '')"

# Every deal's company, contact, email and phone text as records, nothing left out: one company
# per name (any case), one contact per name in a company (a deal with an email or a phone and
# no name gets a contact named by it), each deal linked to its contact, each address and
# number kept once per contact. Only deals not linked yet: a JSON export of an older desk runs
# it again after its import (src/repdesk/io/desk_json.py).
# The deal's main contact (the first of its contacts), whose email and phone the deal's own
# are: another contact on the deal got them too at every later import (an audit).
_MAIN = "{l}.position = (SELECT MIN(m.position) FROM deal_contact m WHERE m.deal_id = {l}.deal_id)"
ADOPT_DEAL_PEOPLE = [
    # Named as the first deal spelled it (its earliest deal's text); an address too (MIN()
    # took a later "OLE@x" over an earlier "ole@x": an audit).
    # Ids given in the deals' order: a PostgreSQL SERIAL would be drawn before the ORDER BY.
    """INSERT INTO company (id, name, domain, created_at, updated_at)
    SELECT (SELECT COALESCE(MAX(id), 0) FROM company) + ROW_NUMBER() OVER (ORDER BY d.id),
           TRIM(d.company), '', d.created_at, d.updated_at
    FROM deal d
    WHERE d.id IN (
        SELECT MIN(x.id) FROM deal x
        WHERE x.company_id IS NULL AND TRIM(x.company) != ''
          AND NOT EXISTS (SELECT 1 FROM company c WHERE LOWER(c.name) = LOWER(TRIM(x.company)))
        GROUP BY LOWER(TRIM(x.company)))
    ORDER BY d.id""",
    "{advance_company}",
    """UPDATE deal SET company_id = (
        SELECT MIN(c.id) FROM company c WHERE LOWER(c.name) = LOWER(TRIM(deal.company)))
    WHERE company_id IS NULL AND TRIM(company) != ''""",
    f"""INSERT INTO contact (id, name, title, company_id, created_at, updated_at)
    SELECT (SELECT COALESCE(MAX(id), 0) FROM contact) + ROW_NUMBER() OVER (ORDER BY d.id),
           {_PERSON.format(d="d")}, '', d.company_id, d.created_at, d.updated_at
    FROM deal d
    WHERE d.id IN (
        SELECT MIN(x.id) FROM deal x
        WHERE {_HAS_PERSON.format(d="x")}
          AND NOT EXISTS (SELECT 1 FROM deal_contact l WHERE l.deal_id = x.id)
          AND NOT EXISTS (
              SELECT 1 FROM contact c
              WHERE c.company_id {{same}} x.company_id
                AND LOWER(c.name) = LOWER({_PERSON.format(d="x")}))
        GROUP BY x.company_id, LOWER({_PERSON.format(d="x")}))
    ORDER BY d.id""",
    "{advance_contact}",
    f"""INSERT INTO deal_contact (id, deal_id, contact_id, role, position)
    SELECT (SELECT COALESCE(MAX(id), 0) FROM deal_contact) + ROW_NUMBER() OVER (ORDER BY d.id),
           d.id, (
        SELECT MIN(c.id) FROM contact c
        WHERE c.company_id {{same}} d.company_id
          AND LOWER(c.name) = LOWER({_PERSON.format(d="d")})), 'other', 0
    FROM deal d
    WHERE {_HAS_PERSON.format(d="d")}
      AND NOT EXISTS (SELECT 1 FROM deal_contact l WHERE l.deal_id = d.id)
    ORDER BY d.id""",
    "{advance_deal_contact}",
    f"""INSERT INTO contact_email (id, contact_id, address, position)
    SELECT (SELECT COALESCE(MAX(id), 0) FROM contact_email)
           + ROW_NUMBER() OVER (ORDER BY firsts.deal_id),
           firsts.contact_id, firsts.address, 0
    FROM (
        SELECT l.contact_id, TRIM(d.email) AS address, d.id AS deal_id,
               ROW_NUMBER() OVER (PARTITION BY l.contact_id, LOWER(TRIM(d.email))
                                  ORDER BY d.id) AS nth
        FROM deal d JOIN deal_contact l ON l.deal_id = d.id
        WHERE TRIM(d.email) != '' AND {_MAIN.format(l="l")}
          AND NOT EXISTS (SELECT 1 FROM contact_email e
                          WHERE e.contact_id = l.contact_id
                                AND LOWER(e.address) = LOWER(TRIM(d.email)))
    ) AS firsts
    WHERE firsts.nth = 1
    ORDER BY firsts.deal_id""",
    "{advance_contact_email}",
    f"""INSERT INTO contact_phone (id, contact_id, number, position)
    SELECT (SELECT COALESCE(MAX(id), 0) FROM contact_phone)
           + ROW_NUMBER() OVER (ORDER BY MIN(d.id)),
           l.contact_id, MIN(TRIM(d.phone)), 0
    FROM deal d JOIN deal_contact l ON l.deal_id = d.id
    WHERE TRIM(d.phone) != '' AND {_MAIN.format(l="l")}
      AND NOT EXISTS (SELECT 1 FROM contact_phone p
                      WHERE p.contact_id = l.contact_id AND p.number = TRIM(d.phone))
    GROUP BY l.contact_id, TRIM(d.phone)
    ORDER BY MIN(d.id)""",
    "{advance_contact_phone}",
]

_V6 = [
    # Self-contained: new tables, one new deal column, then the move of what deals held.
    """CREATE TABLE company (
        id {pk},
        name VARCHAR NOT NULL,
        domain VARCHAR NOT NULL DEFAULT '',
        touch_every_days INTEGER,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )""",
    "CREATE INDEX ix_company_name ON company (name)",
    """CREATE TABLE contact (
        id {pk},
        name VARCHAR NOT NULL,
        title VARCHAR NOT NULL DEFAULT '',
        company_id INTEGER REFERENCES company (id) ON DELETE SET NULL,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )""",
    "CREATE INDEX ix_contact_company ON contact (company_id)",
    """CREATE TABLE contact_email (
        id {pk},
        contact_id INTEGER NOT NULL REFERENCES contact (id) ON DELETE CASCADE,
        address VARCHAR NOT NULL,
        position INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX ix_contact_email_contact ON contact_email (contact_id, position)",
    """CREATE TABLE contact_phone (
        id {pk},
        contact_id INTEGER NOT NULL REFERENCES contact (id) ON DELETE CASCADE,
        number VARCHAR NOT NULL,
        position INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX ix_contact_phone_contact ON contact_phone (contact_id, position)",
    """CREATE TABLE deal_contact (
        id {pk},
        deal_id INTEGER NOT NULL REFERENCES deal (id) ON DELETE CASCADE,
        contact_id INTEGER NOT NULL REFERENCES contact (id) ON DELETE CASCADE,
        role VARCHAR NOT NULL DEFAULT 'other',
        position INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE UNIQUE INDEX ix_deal_contact_pair ON deal_contact (deal_id, contact_id)",
    "CREATE INDEX ix_deal_contact_contact ON deal_contact (contact_id)",
    "ALTER TABLE deal ADD COLUMN company_id INTEGER REFERENCES company (id)",
    "CREATE INDEX ix_deal_company ON deal (company_id)",
    # What `repdesk capture` took in, by the mail's Message-ID or the event's UID and
    # RECURRENCE-ID: the same mail or meeting is never added twice, even after the activity it
    # became was deleted (the rep deleted it on purpose).
    """CREATE TABLE captured (
        id {pk},
        source_key VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        item_id INTEGER NOT NULL,
        deal_id INTEGER NOT NULL,
        captured_at {ts} NOT NULL
    )""",
    "CREATE UNIQUE INDEX ix_captured_key ON captured (source_key, kind)",
    *ADOPT_DEAL_PEOPLE,
]

# The tables the CRM sync links by id (storage/outbox.py KINDS), as schema 6 left them, with
# AUTOINCREMENT: see _V7.
_NEVER_REUSED = {
    "deal": """CREATE TABLE deal_v7 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title VARCHAR NOT NULL,
        company VARCHAR NOT NULL DEFAULT '',
        contact VARCHAR NOT NULL DEFAULT '',
        email VARCHAR NOT NULL DEFAULT '',
        phone VARCHAR NOT NULL DEFAULT '',
        value_cents BIGINT NOT NULL DEFAULT 0,
        currency VARCHAR NOT NULL DEFAULT 'EUR',
        stage_id INTEGER NOT NULL REFERENCES stage (id),
        status VARCHAR NOT NULL DEFAULT 'open',
        source VARCHAR NOT NULL DEFAULT '',
        product VARCHAR NOT NULL DEFAULT '',
        region VARCHAR NOT NULL DEFAULT '',
        segment VARCHAR NOT NULL DEFAULT 'new',
        first_contact DATE NOT NULL,
        expected_close DATE,
        closed_on DATE,
        lost_reason VARCHAR NOT NULL DEFAULT '',
        stage_entered_at DATETIME NOT NULL,
        created_at DATETIME NOT NULL,
        updated_at DATETIME NOT NULL,
        source_id VARCHAR,
        notes VARCHAR NOT NULL DEFAULT '',
        forecast VARCHAR,
        probability INTEGER,
        competitor VARCHAR NOT NULL DEFAULT '',
        nps INTEGER,
        nps_on DATE,
        company_id INTEGER REFERENCES company (id)
    )""",
    "activity": """CREATE TABLE activity_v7 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        deal_id INTEGER NOT NULL REFERENCES deal (id) ON DELETE CASCADE,
        kind VARCHAR NOT NULL,
        at DATETIME NOT NULL,
        outcome VARCHAR NOT NULL DEFAULT '',
        minutes INTEGER,
        text VARCHAR NOT NULL DEFAULT ''
    )""",
    "follow_up": """CREATE TABLE follow_up_v7 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        deal_id INTEGER NOT NULL REFERENCES deal (id) ON DELETE CASCADE,
        due_on DATE NOT NULL,
        due_time TIME,
        note VARCHAR NOT NULL DEFAULT '',
        created_at DATETIME NOT NULL,
        done_at DATETIME,
        outcome VARCHAR NOT NULL DEFAULT '',
        recur_days INTEGER
    )""",
}
_INDEXES = {
    "deal": [
        "CREATE INDEX ix_deal_status_stage ON deal (status, stage_id)",
        "CREATE INDEX ix_deal_closed_on ON deal (closed_on)",
        "CREATE INDEX ix_deal_source_id ON deal (source_id)",
        "CREATE INDEX ix_deal_company ON deal (company_id)",
    ],
    "activity": [
        "CREATE INDEX ix_activity_deal_at ON activity (deal_id, at)",
        "CREATE INDEX ix_activity_at ON activity (at)",
    ],
    "follow_up": [
        "CREATE INDEX ix_follow_up_pending ON follow_up (done_at, due_on)",
        "CREATE INDEX ix_follow_up_deal ON follow_up (deal_id, done_at, due_on)",
    ],
}


def _never_reused(table: str) -> list[str]:
    """Rebuild `table` with AUTOINCREMENT the SQLite way (a new table, the rows copied, the old
    one dropped, the new one renamed: foreign keys are off for the upgrade), its sequence past
    every id it ever handed out: its rows', and those of its rows in the trash (alone or with
    their deal) or still linked to a CRM object (a deletion the sync has not sent yet)."""
    create = _NEVER_REUSED[table]
    columns = ", ".join(line.split()[0] for line in create.splitlines()[1:-1])  # one per line
    return [
        create,
        f"INSERT INTO {table}_v7 ({columns}) SELECT {columns} FROM {table}",
        f"DROP TABLE {table}",
        f"ALTER TABLE {table}_v7 RENAME TO {table}",
        *_INDEXES[table],
        f"DELETE FROM sqlite_sequence WHERE name = '{table}'",
        f"""INSERT INTO sqlite_sequence (name, seq) SELECT '{table}', COALESCE(MAX(id), 0) FROM (
            SELECT MAX(id) AS id FROM {table}
            UNION ALL SELECT MAX(item_id) FROM trash WHERE kind = '{table}'
            UNION ALL SELECT MAX(local_id) FROM sync_link WHERE kind = '{table}'
            UNION ALL {_held_in_trashed_deals(table)}
        )""",
    ]


def _held_in_trashed_deals(table: str) -> str:
    """The largest id of `table` among the rows a deal in the trash holds in its payload
    ({table: [row, ...]}, services/trash.py): a deleted deal's calls and follow-ups. Only
    whole-number ids of objects in readable JSON count: a desk imported from an edited file
    may hold anything there, and the upgrade must not fail on it."""
    return f"""SELECT MAX(json_extract(held.value, '$.id')) FROM trash, json_each(
                CASE WHEN json_valid(trash.payload) THEN trash.payload ELSE '{{}}' END,
                '$.{table}'
            ) AS held
            WHERE trash.kind = 'deal' AND held.type = 'object'
                AND json_type(held.value, '$.id') = 'integer'"""


# Ids the CRM sync links by are never handed out twice (issue 20). SQLite's plain INTEGER
# PRIMARY KEY gives a new row the largest id + 1, so a deal deleted while it had the largest
# id lent its id to the next deal: the sync, finding the id's link and the deal there, sent
# the new deal's values over the deleted one's in Pipedrive instead of deleting it. A
# PostgreSQL SERIAL never goes back: nothing to do there.
_V7: dict[str, list[str]] = {
    "sqlite": [*_never_reused("deal"), *_never_reused("activity"), *_never_reused("follow_up")],
    "postgresql": [],
}

# The KPI pane's "week so far vs same span last week" counts activities by kind over two date
# ranges: with the kind in the index beside the date, that is read from the index alone
# (about a quarter of the time on the benchmark's 100,000 activities; issue 17). Every query
# the date alone served, the pair serves.
_V8 = [
    "CREATE INDEX ix_activity_at_kind ON activity (at, kind)",
    "DROP INDEX ix_activity_at",
]

# The board's column totals (each stage's open deals per currency: count and value) are read
# before its first frame: with the currency and the value in the index beside the status
# and the stage, from the index alone, in order, with no temporary B-tree (about a fifth of
# the time: 165 ms to 30 on the ten-times desk's 100,000 open deals; issue 17). Its first
# two columns serve every query the old (status, stage_id) index served.
_V9 = [
    "CREATE INDEX ix_deal_open_money ON deal (status, stage_id, currency, value_cents)",
    "DROP INDEX ix_deal_status_stage",
]

# Each deal's last touch (its latest activity), kept on the deal by the database itself: the
# queues' "going cold" and "no next step" read it for every open deal, and looking it up deal
# by deal (10,000 index seeks) was the largest part of `repdesk today` (issue 17). Triggers on
# the activity table keep it true whatever writes an activity (the app, the shell, an
# import, the sync, an undo, a merge); the ORM never maps the column, so nothing else does.
_TOUCH = "(SELECT MAX(a.at) FROM activity a WHERE a.deal_id = {deal})"
_V10: dict[str, list[str]] = {
    "sqlite": [
        "ALTER TABLE deal ADD COLUMN last_touch_at DATETIME",
        f"UPDATE deal SET last_touch_at = {_TOUCH.format(deal='deal.id')}",
        f"""CREATE TRIGGER activity_added_touches_deal AFTER INSERT ON activity BEGIN
            UPDATE deal SET last_touch_at = {_TOUCH.format(deal="NEW.deal_id")}
            WHERE id = NEW.deal_id;
        END""",
        f"""CREATE TRIGGER activity_changed_touches_deal
            AFTER UPDATE OF at, deal_id ON activity BEGIN
            UPDATE deal SET last_touch_at = {_TOUCH.format(deal="deal.id")}
            WHERE id IN (OLD.deal_id, NEW.deal_id);
        END""",
        f"""CREATE TRIGGER activity_removed_touches_deal AFTER DELETE ON activity BEGIN
            UPDATE deal SET last_touch_at = {_TOUCH.format(deal="OLD.deal_id")}
            WHERE id = OLD.deal_id;
        END""",
    ],
    "postgresql": [
        "ALTER TABLE deal ADD COLUMN last_touch_at TIMESTAMP WITH TIME ZONE",
        f"UPDATE deal SET last_touch_at = {_TOUCH.format(deal='deal.id')}",
        f"""CREATE FUNCTION repdesk_activity_touches_deal() RETURNS trigger
            LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                UPDATE deal SET last_touch_at = {_TOUCH.format(deal="OLD.deal_id")}
                WHERE id = OLD.deal_id;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                UPDATE deal SET last_touch_at = {_TOUCH.format(deal="NEW.deal_id")}
                WHERE id = NEW.deal_id;
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER activity_touches_deal
            AFTER INSERT OR UPDATE OF at, deal_id OR DELETE ON activity
            FOR EACH ROW EXECUTE FUNCTION repdesk_activity_touches_deal()""",
    ],
}

# The queues' "no next step" and "going cold" rank every open deal by its last touch, its
# value and its chance: with those in one index beside the status, that ranking is read from
# the index alone, not from 10,000 table rows (half the read; the titles and companies are
# then read for the rows kept, about 20 for `repdesk today`; issue 17). `last_touch_at` is
# kept by the database (step 10), so the ORM's models do not list this index.
_V11 = [
    "CREATE INDEX ix_deal_open_touch ON deal "
    "(status, last_touch_at, created_at, stage_id, value_cents, currency, probability)",
]

# Every change of a deal's own win probability and of a stage's: a past day's weighted
# pipeline and forecast read the probabilities of that day (today's moved a closed month's
# forecast after it ended: a hostile test).
_V12 = [
    """CREATE TABLE probability_change (
        id {pk},
        deal_id INTEGER REFERENCES deal (id) ON DELETE CASCADE,
        stage_id INTEGER REFERENCES stage (id) ON DELETE CASCADE,
        from_probability INTEGER,
        to_probability INTEGER,
        changed_at {ts} NOT NULL
    )""",
    "CREATE INDEX ix_probability_change_deal ON probability_change (deal_id, changed_at)",
    "CREATE INDEX ix_probability_change_stage ON probability_change (stage_id, changed_at)",
]

STEPS: list[list[str] | dict[str, list[str]]] = [
    _V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10, _V11, _V12,
]  # fmt: skip
LATEST = len(STEPS)


# A server database's counterpart of PRAGMA application_id and user_version.
SERVER_SCHEMA_TABLE = "repdesk_schema"


def server_identity_sql() -> list[str]:
    """The statements that mark a freshly migrated PostgreSQL database as a repdesk desk."""
    return [
        f"CREATE TABLE {SERVER_SCHEMA_TABLE} (application_id BIGINT NOT NULL, "
        "version INTEGER NOT NULL)",
        f"INSERT INTO {SERVER_SCHEMA_TABLE} (application_id, version) "
        f"VALUES ({APPLICATION_ID}, {LATEST})",
    ]


def step_sql(version: int, dialect: str) -> list[str]:
    """The statements that take a desk from `version - 1` to `version`."""
    step = STEPS[version - 1]
    if isinstance(step, dict):  # a step written for each engine: no tokens to fill in
        return list(step[dialect])
    tokens = _TOKENS[dialect]
    return [statement.format(**tokens) for statement in step]


def adopt_people_sql(dialect: str) -> list[str]:
    """ADOPT_DEAL_PEOPLE for a dialect: deals not linked yet get their people as records."""
    tokens = _TOKENS[dialect]
    return [statement.format(**tokens) for statement in ADOPT_DEAL_PEOPLE]


def apply(execute: Callable[[str], object], *, from_version: int, dialect: str) -> int:
    """Run every step after `from_version` through `execute`; the caller owns the transaction."""
    for version in range(from_version + 1, LATEST + 1):
        for statement in step_sql(version, dialect):
            execute(statement)
    return LATEST
