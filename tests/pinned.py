"""The pinned clock every test uses (a Friday morning)."""

from datetime import UTC, date, datetime

from repdesk.core.money import Conversion

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 20)

# Sums in euros at face value: no other currency has a rate.
EUR = Conversion("EUR")
