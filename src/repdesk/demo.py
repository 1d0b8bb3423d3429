"""The demo desk: a realistic, deterministic pipeline of about 18 months, relative to today.

Same seed, same today: the same rows. Written with Core executemany in one transaction (the
ORM would take seconds for the ~4,000 activities).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text

from repdesk import store
from repdesk.dates import period_containing
from repdesk.models import Activity, Deal, FollowUp, Objection, Quota, StageChange

STAMP_FILE = "demo-built-on.txt"

_PREFIXES = (
    "Acme", "Nordwind", "Helix", "Bluefin", "Granite", "Aurora", "Vector", "Kestrel", "Lumen",
    "Orbit", "Sable", "Tundra", "Cobalt", "Juniper", "Meridian", "Polar", "Quartz", "Redwood",
    "Summit", "Zephyr", "Fjord", "Alpen", "Baltic", "Harbour", "Iberia", "Lusitania", "Rhein",
    "Tagus", "Vistula", "Danube",
)  # fmt: skip
_KINDS = (
    "Logistics", "Bank", "Foods", "Retail", "Health", "Energy", "Tiles", "Pharma", "Telecom",
    "Insurance", "Freight", "Hotels", "Media", "Robotics", "Textiles",
)  # fmt: skip
_FORMS = ("GmbH", "AB", "Oy", "AS", "B.V.", "Ltd", "S.A.", "SAS", "S.L.", "plc", "")
_SPECIAL = (
    "Müller & Söhne GmbH", "Łódź Foods", "Société Générale d'Aviation", "Ærø Fiskeri ApS",
    "Čapek Strojírny", "Smørrebrød & Co", "Groß Brauerei", "Açores Energia",
)  # fmt: skip
_FIRST = ("Anna", "Ole", "Lucía", "Piotr", "Jonas", "Emma", "Lars", "Sofie", "Marco", "Inès",
          "Tomás", "Freya", "Niamh", "Matti", "Eva", "Hugo", "Clara", "Mikkel")  # fmt: skip
_LAST = ("Berg", "Ruiz", "Nowak", "Müller", "Dubois", "Jensen", "Virtanen", "Smith", "Costa",
         "Rossi", "Kowalski", "Lindqvist", "O'Brien", "García", "Meyer")  # fmt: skip
_PRODUCTS = {
    "RouteIQ": ("Fleet tracking rollout", "Route planning pilot", "Dispatch upgrade"),
    "DeskFlow": ("40 seats renewal", "Helpdesk expansion", "Service desk migration"),
    "Insight": ("Analytics starter", "Data warehouse add-on", "Board reporting"),
    "Guard": ("Security audit", "Access control rollout", "Compliance package"),
}
_SOURCES = ("inbound", "referral", "outbound", "event", "partner")
_REGIONS = ("Nordics", "DACH", "Benelux", "UK", "France", "Iberia")
_LOST_REASONS = ("price", "chose competitor", "no budget", "timing", "not a fit", "went silent")
_OUTCOMES = ("connected", "left voicemail", "no answer", "meeting booked", "not interested")
_NOTES = {
    "call": ("Walked through pricing", "Discussed rollout timeline", "Checked budget status",
             "Asked about decision makers", "Agreed next steps"),
    "email": ("Sent the proposal", "Shared the case study", "Sent meeting notes",
              "Followed up on the quote"),
    "meeting": ("Demo to the team", "On-site workshop", "Steering group review"),
    "note": ("Champion is the ops lead", "Budget year starts in January",
             "Competitor already in the IT department"),
}  # fmt: skip
_OBJECTIONS = {
    "price": (
        ("Too expensive compared to what we pay now",
         "Showed the 14-month payback from fuel and hours saved"),
        ("We need a 20% discount to sign this quarter",
         "Offered a two-year term at 8% off instead of a one-off discount"),
        ("Your competitor quoted less", "Compared total cost: their setup fee and support tier"),
    ),
    "budget": (
        ("No budget until next fiscal year", "Split the licence over two budget years"),
        ("Budget was cut this quarter", "Started with a paid pilot from the ops budget"),
    ),
    "timing": (
        ("Not now, we are mid-migration", "Scheduled kickoff after their go-live date"),
        ("Call us after the summer", "Booked a date and sent a short plan for September"),
    ),
    "competitor": (
        ("We already use another vendor", "Ran a side-by-side on their own routes"),
        ("IT prefers the big suite vendor", "Showed the integration with their suite"),
    ),
    "authority": (
        ("I need the CFO to approve", "Prepared a one-page business case for the CFO"),
        ("Procurement has to run a tender", "Sent our tender pack and references"),
    ),
    "need": (
        ("Spreadsheets work fine for us", "Quantified the hours their planners lose weekly"),
        ("We don't see the problem", "Shared a benchmark from a peer in their sector"),
    ),
    "confusion": (
        ("Not sure what's in which tier", "Sent a one-page tier comparison"),
        ("How does the pricing per seat work?", "Walked through a worked example on a call"),
    ),
    "other": (
        ("Worried about data residency", "Confirmed EU hosting and sent the DPA"),
        ("Need SSO before we can sign", "Showed SSO on the enterprise tier"),
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoSummary:
    deals: int
    open_deals: int
    won: int
    lost: int
    activities: int
    follow_ups: int
    objections: int


def demo_is_current(path: Path, today: date) -> bool:
    """True when the demo desk exists and was built today (its dates are relative to today)."""
    stamp = path.parent / STAMP_FILE
    try:
        return path.exists() and stamp.read_text(encoding="utf-8").strip() == today.isoformat()
    except OSError:
        return False


def mark_built(path: Path, today: date) -> None:
    (path.parent / STAMP_FILE).write_text(today.isoformat(), encoding="utf-8")


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 17), rng.choice((0, 15, 30, 45))), UTC)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _company(rng: random.Random) -> str:
    if rng.random() < 0.06:
        return rng.choice(_SPECIAL)
    name = f"{rng.choice(_PREFIXES)} {rng.choice(_KINDS)}"
    form = rng.choice(_FORMS)
    return f"{name} {form}".strip()


def build_demo(engine: Engine, *, today: date, now: datetime, seed: int = 7) -> DemoSummary:
    rng = random.Random(seed)
    with store.read_session(engine) as session:
        rows = session.execute(text("SELECT id, name, kind, rot_days FROM stage ORDER BY position"))
        stages = [(r[0], r[1], r[2], r[3]) for r in rows]
    open_stages = [s for s in stages if s[2] == "open"]
    won_stage = next(s[0] for s in stages if s[2] == "won")
    lost_stage = next(s[0] for s in stages if s[2] == "lost")
    month = period_containing(today, "month")
    quarter = period_containing(today, "quarter")

    deals: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    acts: list[dict[str, Any]] = []
    fups: list[dict[str, Any]] = []
    objs: list[dict[str, Any]] = []

    # Open deals: fewer in later stages. Closed deals: spread over 18 months.
    weights = (26, 22, 20, 17, 14, 11)
    plan: list[str] = ["open"] * 110 + ["won"] * 112 + ["lost"] * 138
    rng.shuffle(plan)
    # A few wins in this month (behind pace) and this quarter (about on pace).
    month_wins = 3
    for n, status in enumerate(plan):
        deal_id = n + 1
        product = rng.choice(tuple(_PRODUCTS))
        value = int(rng.lognormvariate(10.0, 0.8)) // 100 * 10_000
        value = max(200_000, min(value, 15_000_000))
        if status == "open":
            stage_index = rng.choices(range(len(open_stages)), weights=weights)[0]
            stage = open_stages[stage_index]
            first = today - timedelta(days=rng.randint(5 + 6 * stage_index, 60 + 25 * stage_index))
            closed_on = None
            expected = today + timedelta(days=rng.choice((3, 5, 8, 9, 15, 25, 40, 60, 85)))
        else:
            if status == "won" and month_wins > 0:
                closed_on = month.start + timedelta(
                    days=rng.randint(0, max(0, (today - month.start).days))
                )
                month_wins -= 1
            elif status == "won" and rng.random() < 0.12:
                span = (min(today, month.start - timedelta(days=1)) - quarter.start).days
                closed_on = quarter.start + timedelta(days=rng.randint(0, max(0, span)))
            else:
                closed_on = today - timedelta(days=rng.randint(1, 540))
            first = closed_on - timedelta(days=rng.randint(10, 120))
            stage = next(
                s for s in stages if s[0] == (won_stage if status == "won" else lost_stage)
            )
            expected = closed_on
        # The path through the pipeline up to the current stage.
        last_open_index = (
            open_stages.index(stage) if status == "open" else rng.randint(1, len(open_stages) - 1)
        )
        path = [
            s
            for i, s in enumerate(open_stages)
            if i <= last_open_index and (i in (0, last_open_index) or rng.random() > 0.2)
        ]
        if status != "open":
            path.append(stage)
        end = closed_on or today
        span = max(1, (end - first).days)
        start = _at(first, rng)
        moments = sorted(
            _at(first + timedelta(days=rng.randint(0, span)), rng) for _ in range(len(path) - 1)
        )
        # The last change is the current stage: the close, or (rotting) long enough ago.
        final = _at(closed_on, rng) if closed_on else (moments[-1] if moments else start)
        if status == "open":
            limit = stage[3] or 14
            if rng.random() < 0.2:  # rotting: in the stage longer than its limit
                final = min(final, now - timedelta(days=limit + rng.randint(3, 30)))
            else:
                final = max(final, now - timedelta(days=rng.randint(0, limit - 1)))
        final = max(start, min(final, now))
        # The moves in between fall between the first contact and the current stage's entry.
        between = sorted(
            start + (final - start) * rng.random() for _ in range(max(0, len(path) - 2))
        )
        moments = [start, *between, final][: len(path)]
        if len(path) == 1:
            moments = [final]
        previous = None
        for stage_row, moment in zip(path, moments, strict=True):
            changes.append(
                {"deal_id": deal_id, "from_stage_id": previous, "to_stage_id": stage_row[0],
                 "changed_at": moment}
            )  # fmt: skip
            previous = stage_row[0]
        contact = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        company = _company(rng)
        deals.append(
            {
                "id": deal_id,
                "title": rng.choice(_PRODUCTS[product]),
                "company": company,
                "contact": contact,
                "email": _ascii(contact.lower().replace(" ", ".").replace("'", ""))
                + "@example.com",
                "phone": f"+{rng.randint(30, 49)} {rng.randint(100, 999)} "
                f"{rng.randint(1000, 9999)}",
                "value_cents": value,
                "currency": "EUR" if rng.random() > 0.05 else rng.choice(("USD", "GBP")),
                "stage_id": stage[0],
                "status": status,
                "source": rng.choice(_SOURCES),
                "product": product,
                "region": rng.choice(_REGIONS),
                "segment": "existing" if rng.random() < 0.3 else "new",
                "first_contact": first,
                "expected_close": expected,
                "closed_on": closed_on,
                "lost_reason": rng.choice(_LOST_REASONS) if status == "lost" else "",
                "stage_entered_at": moments[-1],
                "created_at": _at(first, rng),
                "updated_at": moments[-1],
                "source_id": None,
            }
        )
        # Activities over the deal's life; some open deals went quiet (going cold).
        quiet = status == "open" and rng.random() < 0.15
        last_day = end - timedelta(days=rng.randint(20, 60)) if quiet else end
        for _ in range(rng.randint(8, 15)):
            day = first + timedelta(days=rng.randint(0, max(0, (last_day - first).days)))
            kind = rng.choices(("call", "email", "meeting", "note"), weights=(5, 4, 2, 1))[0]
            acts.append(
                {
                    "deal_id": deal_id,
                    "kind": kind,
                    "at": min(_at(day, rng), now),
                    "outcome": rng.choice(_OUTCOMES) if kind == "call" else "",
                    "minutes": rng.choice((5, 10, 15, 20, 30)) if kind == "call"
                    else 45 if kind == "meeting" else None,
                    "text": rng.choice(_NOTES[kind]),
                }
            )  # fmt: skip
        # Objections: ~60% of deals have one or two.
        for _ in range(rng.choice((0, 0, 1, 1, 1, 2))):
            category = rng.choice(tuple(_OBJECTIONS))
            said, answer = rng.choice(_OBJECTIONS[category])
            raised = _at(first + timedelta(days=rng.randint(0, span)), rng)
            if status == "open":
                state = rng.choice(("open", "open", "addressed", "resolved"))
            else:
                state = "resolved" if status == "won" else rng.choice(("addressed", "resolved"))
            objs.append(
                {
                    "deal_id": deal_id,
                    "category": category,
                    "said": said,
                    "answer": "" if state == "open" else answer,
                    "status": state,
                    "raised_at": min(raised, now),
                    "resolved_at": min(raised + timedelta(days=3), now)
                    if state == "resolved"
                    else None,
                }
            )
        # Done follow-ups in the past.
        for _ in range(rng.randint(1, 3)):
            day = first + timedelta(days=rng.randint(0, span))
            fups.append(
                {
                    "deal_id": deal_id,
                    "due_on": day,
                    "due_time": None,
                    "note": rng.choice(("Check in", "Send the quote", "Confirm the meeting")),
                    "created_at": _at(first, rng),
                    "done_at": min(_at(day, rng), now),
                    "outcome": rng.choice(_OUTCOMES),
                    "recur_days": None,
                }
            )
        # The pending next step.
        if status == "open":
            roll = rng.random()
            if roll < 0.16:
                continue  # no next step
            if roll < 0.28:
                due = today - timedelta(days=rng.randint(1, 10))
            elif roll < 0.36:
                due = today
            elif roll < 0.62:
                due = today + timedelta(days=rng.randint(1, 7))
            else:
                due = today + timedelta(days=rng.randint(8, 40))
            fups.append(
                {
                    "deal_id": deal_id,
                    "due_on": due,
                    "due_time": time(rng.choice((9, 10, 11, 14, 15)), 0)
                    if rng.random() < 0.4
                    else None,
                    "note": rng.choice(("Chase the signature", "Call the decision maker",
                                        "Send the revised quote", "Book the demo",
                                        "Confirm budget", "Follow up on the pilot")),
                    "created_at": now - timedelta(days=rng.randint(1, 10)),
                    "done_at": None,
                    "outcome": "",
                    "recur_days": None,
                }
            )  # fmt: skip
        elif (
            status == "won"
            and closed_on
            and closed_on > today - timedelta(days=120)
            and rng.random() < 0.3
        ):
            every = rng.choice((30, 90))
            due = closed_on + timedelta(days=every)
            while due < today - timedelta(days=3):
                due += timedelta(days=every)
            fups.append(
                {
                    "deal_id": deal_id,
                    "due_on": due,
                    "due_time": None,
                    "note": "Post-sale check-in (ask for a referral)",
                    "created_at": _at(closed_on, rng),
                    "done_at": None,
                    "outcome": "",
                    "recur_days": every,
                }
            )

    # Quotas a rep would be given, set so the demo tells a story relative to today: this
    # month behind pace (about 70% of what is expected by now), the quarter about on pace.
    def won_in(period_start: date, period_end: date) -> int:
        return sum(
            d["value_cents"]
            for d in deals
            if d["status"] == "won" and period_start <= d["closed_on"] <= period_end
        )

    def rounded(cents: float) -> int:
        return max(1_000_000, round(cents / 1_000_000) * 1_000_000)  # whole €10k

    month_quota = rounded(won_in(month.start, today) / 0.7 * month.days / month.days_elapsed(today))
    quarter_quota = rounded(
        won_in(quarter.start, today) * quarter.days / quarter.days_elapsed(today)
    )
    quota_rows = [
        {"period": month.label, "amount_cents": month_quota},
        {"period": quarter.label, "amount_cents": quarter_quota},
        {"period": period_containing(today, "year").label, "amount_cents": quarter_quota * 4},
    ]
    previous_month = month
    for _ in range(5):
        previous_month = previous_month.prev()
        quota_rows.append({"period": previous_month.label, "amount_cents": month_quota})

    with store.write_session(engine) as session:
        session.execute(insert(Deal), deals)
        session.execute(insert(StageChange), changes)
        session.execute(insert(Activity), acts)
        session.execute(insert(FollowUp), fups)
        session.execute(insert(Objection), objs)
        session.execute(insert(Quota), quota_rows)

    return DemoSummary(
        deals=len(deals),
        open_deals=sum(1 for d in deals if d["status"] == "open"),
        won=sum(1 for d in deals if d["status"] == "won"),
        lost=sum(1 for d in deals if d["status"] == "lost"),
        activities=len(acts),
        follow_ups=len(fups),
        objections=len(objs),
    )
