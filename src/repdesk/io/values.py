"""Cell parsers for imports. Each returns the value or raises CellError with what was expected.

A file is data, not typing: dates are ISO (a date, a date and time, or a timestamp with an
offset such as Salesforce's `2024-01-22T16:14:25.000+0000`), and any other form only through an
explicit `--date-format`. `3/1/2017` could be March or January: it is never guessed.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from repdesk.core import clock
from repdesk.core.currencies import CODE_FORM, CurrencyInputError, check_code
from repdesk.core.dates import DAY_RANGE, in_range
from repdesk.core.money import AmountInputError
from repdesk.core.money import parse_money as parse_amount_text

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_STAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?.*"
)
_SECONDS = re.compile(r"[0-9]+")
_TRUE = frozenset({"1", "true", "yes", "y", "x", "checked"})
_FALSE = frozenset({"", "0", "false", "no", "n"})


class CellError(ValueError):
    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def _expected_date(date_format: str | None) -> str:
    if date_format:
        example = date(2026, 11, 20).strftime(date_format)
        return f"a date in --date-format {date_format} (e.g. {example}) or an ISO date"
    return (
        "an ISO date such as 2026-11-20 (for another form, say which with --date-format, "
        "e.g. --date-format %m/%d/%Y)"
    )


def parse_instant(text: str, date_format: str | None = None) -> datetime:
    """An aware UTC instant; a value without an offset is the rep's local time."""
    raw = text.strip()
    moment: datetime | None = None
    if _ISO_DAY.fullmatch(raw) or _ISO_STAMP.fullmatch(raw):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            moment = None
    if moment is None and date_format:
        try:
            moment = datetime.strptime(raw, date_format)
        except ValueError:
            moment = None
    if moment is None:
        raise CellError(_expected_date(date_format))
    try:
        if moment.tzinfo is None:
            moment = moment.astimezone()  # local wall-clock time
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):  # 0001-01-01 in UTC+14 is before the calendar
        raise CellError(DAY_RANGE) from None
    if not in_range(moment.date()):
        raise CellError(DAY_RANGE)
    return moment


def parse_day(text: str, date_format: str | None = None) -> date:
    """The rep's calendar day of a date or timestamp cell, inside the desk's range of days."""
    try:
        day = _parse_day(text, date_format)
    except OverflowError:  # a timestamp at the calendar's edge, moved into the rep's zone
        raise CellError(DAY_RANGE) from None
    if not in_range(day):
        raise CellError(DAY_RANGE)
    return day


def _parse_day(text: str, date_format: str | None) -> date:
    raw = text.strip()
    if _ISO_DAY.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise CellError(_expected_date(date_format)) from None
    if _ISO_STAMP.fullmatch(raw):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise CellError(_expected_date(date_format)) from None
        # A timestamp with an offset is an instant: its day is the rep's local day.
        return clock.local_date(moment) if moment.tzinfo else moment.date()
    if date_format:
        try:
            return datetime.strptime(raw, date_format).date()
        except ValueError:
            pass
    raise CellError(_expected_date(date_format))


def local_noon(day: date) -> datetime:
    """An activity known only by its day: noon local time keeps it on that day in any zone."""
    return datetime.combine(day, time(12)).astimezone().astimezone(UTC)


def parse_money(
    text: str, *, currency: str | None = None, default_currency: str | None = None
) -> tuple[int, str | None]:
    """Cents and the currency written with them, if any ("USD 1,200.00", "£500"): the shell's
    parser (`repdesk.core.money.parse_money`), so a file and a typed value mean the same."""
    try:
        return parse_amount_text(text, currency=currency, default_currency=default_currency)
    except AmountInputError as exc:
        raise CellError(
            f"an amount of 0 or more such as 12500 or 12,500.50; this one {exc.reason}"
        ) from None


def parse_flag(text: str) -> bool:
    lowered = text.strip().casefold()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise CellError("true or false (or 1 or 0)")


def parse_probability(text: str) -> int:
    """Percent 0-100; a fraction with a decimal point (HubSpot's 0.2) is read as 20%."""
    raw = text.strip().removesuffix("%").strip()
    try:
        number = float(raw)
    except ValueError:
        raise CellError("a probability in percent, 0 to 100") from None
    if "." in raw and 0 < number <= 1:
        number *= 100
    if not 0 <= number <= 100:
        raise CellError("a probability in percent, 0 to 100")
    return round(number)


# The CRMs' own words for a new or an existing customer: Salesforce's Opportunity Type picklist
# (its defaults and the common "New Business / Add-On Business / Renewal" set), HubSpot's deal
# type (label and internal value), and the same words in Pipedrive's custom fields. Compared
# case-folded with dashes and spaces evened out, so "Existing Customer – Upgrade" is one too.
_NEW_WORDS = frozenset({"new", "new customer", "new business", "newbusiness", "new logo"})
_EXISTING_WORDS = frozenset(
    {
        "existing",
        "existing customer",
        "existing business",
        "existingbusiness",
        "add-on business",
        "add-on",
        "renewal",
        "upsell",
        "upgrade",
    }
)
_DASHES = re.compile(r"\s*[-\u2010-\u2015]\s*")


def segment_word(text: str) -> str | None:
    """ "new" or "existing" for a CRM's word for one, else None (the value is its own slice)."""
    key = _DASHES.sub("-", " ".join(text.split()).casefold())
    if not key or key in _NEW_WORDS:
        return "new"
    if key in _EXISTING_WORDS or key.startswith("existing customer-"):
        return "existing"
    return None


def parse_currency(text: str) -> str:
    try:
        return check_code(text)
    except CurrencyInputError:
        raise CellError(CODE_FORM) from None


def parse_seconds_as_minutes(text: str) -> int | None:
    raw = text.strip()
    if not raw:
        return None
    # ASCII digits only ('²'.isdigit() is True, and int() refuses it), and not so many that
    # int() refuses them too (its 4,300-digit limit): 31 years of call is not a call.
    if not _SECONDS.fullmatch(raw) or len(raw.lstrip("0")) > 9:
        raise CellError("a whole number of seconds (at most 999999999)")
    return min(24 * 60, (int(raw) + 59) // 60)
