"""The weekly review's shape, pure: what changed in a week, line by line, and how it is kept.

reports/review.py reads the desk into this; services/review.py stores a closed week's review
as JSON (`to_payload`) and reads it back (`from_payload`) so it reads the same later on;
the shell prints it (`to_json`) and the app shows it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from repdesk.core.kpi import money_json

KEPT, MISSED = "kept", "missed"
OUTCOMES = (KEPT, MISSED)

# The sections of "what changed", in the order they are read, with their headings.
SECTIONS = (
    ("new", "New deals"),
    ("advanced", "Stage advances"),
    ("regressed", "Stage regressions"),
    ("won", "Won"),
    ("lost", "Lost"),
    ("closed_late", "Won or lost on an earlier day, recorded this week"),
    ("slipped", "Close dates that slipped"),
    ("forecast", "Forecast category changes"),
    ("no_next_step", "Without a next step"),
)

# Sections shown only when they hold a deal: most weeks have none.
QUIET_WHEN_EMPTY = frozenset({"closed_late"})


def brought_in_note(count: int) -> str:
    """The line under the new deals for those an import or a sync brought in."""
    deals = "1 deal" if count == 1 else f"{count:,} deals"
    return f"and {deals} brought in by an import or a sync, worked before this week (not new)"


@dataclass(frozen=True, slots=True)
class Line:
    """One deal in a section: what it is, and what changed (`was` to `now`, a note)."""

    deal_id: int
    title: str
    company: str
    value_cents: int
    currency: str
    was: str | None = None  # a stage, a close date, a category before
    now: str | None = None  # ... and after (None: cleared, or nothing moved)
    note: str = ""  # a stage name, a lost reason, "passed"

    def to_json(self) -> dict[str, Any]:
        data = {name.name: getattr(self, name.name) for name in fields(self)}
        data["value"] = money_json(data.pop("value_cents"))
        return data


@dataclass(frozen=True, slots=True)
class ActivityCount:
    kind: str
    this_week: int
    week_before: int


@dataclass(frozen=True, slots=True)
class Review:
    """What changed in one week, as it read at `as_of` (the week's end once it is over)."""

    week: str
    start: date
    end: date
    as_of: datetime
    closed: bool  # the week is over: this is how it ended
    sections: dict[str, tuple[Line, ...]] = field(default_factory=dict)
    activity: tuple[ActivityCount, ...] = ()
    # Deals an import or a sync brought in during the week that were worked before it: not
    # new deals, counted apart.
    brought_in: int = 0
    won_value_cents: int = 0  # in the desk's currency
    lost_value_cents: int = 0
    frozen_at: datetime | None = None  # when it was stored (None: read live)
    # "won" / "lost": how many of its deals are in a currency with no rate (left out of its
    # total), and those currencies.
    left_out: dict[str, tuple[int, tuple[str, ...]]] = field(default_factory=dict)

    def section(self, key: str) -> tuple[Line, ...]:
        return self.sections.get(key, ())

    def left_out_note(self, key: str) -> str:
        """What a section's total leaves out: "+ 1 in GBP, no rate", or nothing."""
        count, codes = self.left_out.get(key, (0, ()))
        return f"+ {count} in {'/'.join(codes)}, no rate" if count else ""

    def to_payload(self) -> dict[str, Any]:
        """Everything, exactly (cents, ISO days and instants): what a closed week keeps."""
        return {
            "week": self.week,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "as_of": self.as_of.astimezone(UTC).isoformat(),
            "closed": self.closed,
            "sections": {
                key: [{f.name: getattr(line, f.name) for f in fields(Line)} for line in lines]
                for key, lines in self.sections.items()
            },
            "activity": [[a.kind, a.this_week, a.week_before] for a in self.activity],
            "brought_in": self.brought_in,
            "won_value_cents": self.won_value_cents,
            "lost_value_cents": self.lost_value_cents,
            "left_out": {key: [n, list(codes)] for key, (n, codes) in self.left_out.items()},
        }

    @staticmethod
    def from_payload(data: dict[str, Any], frozen_at: datetime | None = None) -> Review:
        """Raises (KeyError, TypeError, ValueError) on a payload that is not one."""
        return Review(
            week=str(data["week"]),
            start=date.fromisoformat(data["start"]),
            end=date.fromisoformat(data["end"]),
            as_of=datetime.fromisoformat(data["as_of"]),
            closed=bool(data["closed"]),
            sections={
                str(key): tuple(Line(**line) for line in lines)
                for key, lines in data["sections"].items()
            },
            activity=tuple(ActivityCount(str(k), int(t), int(b)) for k, t, b in data["activity"]),
            brought_in=int(data.get("brought_in", 0)),  # weeks kept before it was counted
            won_value_cents=int(data["won_value_cents"]),
            lost_value_cents=int(data["lost_value_cents"]),
            frozen_at=frozen_at,
            # Weeks kept before it was recorded have none.
            left_out={
                str(key): (int(n), tuple(str(code) for code in codes))
                for key, (n, codes) in data.get("left_out", {}).items()
            },
        )

    def to_json(self) -> dict[str, Any]:
        """The `review --json` form: money in major units, like `kpi --json`."""
        return {
            "week": self.week,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "closed": self.closed,
            "frozen_at": None if self.frozen_at is None else self.frozen_at.isoformat(),
            **{key: [line.to_json() for line in self.section(key)] for key, _title in SECTIONS},
            "brought_in": self.brought_in,
            "won_value": money_json(self.won_value_cents),
            "lost_value": money_json(self.lost_value_cents),
            "left_out": {
                key: {"deals": n, "currencies": list(codes)}
                for key, (n, codes) in self.left_out.items()
            },
            "activity": [
                {"kind": a.kind, "this_week": a.this_week, "week_before": a.week_before}
                for a in self.activity
            ],
        }


# What a deal was and is in net_changes: a stage id, a close date, a category.
_State = TypeVar("_State", bound=Hashable)


def net_changes(
    events: Iterable[tuple[int, _State, _State]],
) -> dict[int, tuple[_State, _State]]:
    """Per deal, from what it was before its first change to what it is after its last
    (`events` in time order: deal, from, to); a deal that came back to where it started is
    left out. Moved Demo -> Proposal -> Negotiation in a week is one advance, Demo ->
    Negotiation; moved on and back, nothing."""
    first: dict[int, _State] = {}
    last: dict[int, _State] = {}
    for deal_id, was, now in events:
        first.setdefault(deal_id, was)
        last[deal_id] = now
    return {deal: (first[deal], last[deal]) for deal in first if first[deal] != last[deal]}
