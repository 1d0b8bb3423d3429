"""The pinned clock every test uses (a Friday morning)."""

from datetime import UTC, date, datetime

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 20)
