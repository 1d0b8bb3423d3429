"""Cell parsers for imports. Each returns the value or raises CellError with what was expected.

A file is data, not typing: dates are ISO (a date, a date and time, or a timestamp with an
offset such as Salesforce's `2024-01-22T16:14:25.000+0000`), or in one other form for the whole
file: given with `--date-format`, or taken from the file only when the file proves it
(`infer_date_form`: 23/02/26 is day first). `3/1/2017` could be March or January: it is never
guessed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cached_property, lru_cache

from repdesk.core import clock, forecast
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


@dataclass(frozen=True)
class DateReading:
    """How a file's dates that are not ISO are read: the strptime format given with
    `--date-format` or taken from the file (`infer_date_form`), and what to say of a cell that
    does not read."""

    format: str | None = None
    given: bool = False  # the rep's --date-format, not the file's
    hint: str = ""  # after "expected ...": what reads this file, when something does

    @cached_property
    def numeric(self) -> tuple[re.Pattern[str], tuple[str, str, str]] | None:
        """For a numeric form such as %m/%d/%y: a pattern and the order of its parts, which
        read a cell some ten times faster than strptime (an import reads thousands)."""
        found = _NUMERIC_FORM.fullmatch(self.format or "")
        if found is None:
            return None
        parts = (found[1], found[3], found[4])
        if sorted(p.lower() for p in parts) != ["d", "m", "y"]:
            return None
        digits = {"d": "[0-9]{1,2}", "m": "[0-9]{1,2}", "y": "[0-9]{2}", "Y": "[0-9]{4}"}
        separator = re.escape(found[2])
        pattern = separator.join(f"({digits[p]})" for p in parts)
        return re.compile(pattern), parts

    def expected(self) -> str:
        if self.format and self.given:
            example = date(2026, 11, 20).strftime(self.format)
            text = f"a date in --date-format {self.format} (e.g. {example}) or an ISO date"
        elif self.format:
            text = f"a date written like the file's others ({self.format}) or an ISO date"
        else:
            text = "an ISO date such as 2026-11-20"
        if self.hint:
            return f"{text}; {self.hint}"
        if self.format:
            return text
        return (
            f"{text} (for another form, say how it is written with --date-format: %d day, "
            "%m month, %b month name, %y or %Y year)"
        )


# Time after a date in a report's cell: "2/23/2026 3:45 PM", "23.02.2026 15:45:10".
_TIME_AFTER = re.compile(
    r"(?P<day>.+?)[ ,T]+(?P<h>[0-9]{1,2}):(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2}))?"
    r"(?:\.[0-9]+)?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?"
)


_NUMERIC_FORM = re.compile(r"%([dmyY])([./-])%([dmyY])\2%([dmyY])")


def _read_numeric(raw: str, reading: DateReading) -> datetime | None:
    """A date-only cell in a numeric form, without strptime; None: let strptime decide."""
    numeric = reading.numeric
    if numeric is None:
        return None
    pattern, parts = numeric
    found = pattern.fullmatch(raw)
    if found is None:
        return None
    fields = {part: int(value) for part, value in zip(parts, found.groups(), strict=True)}
    year = fields.get("Y")
    if year is None:
        year = fields["y"] + (2000 if fields["y"] < 69 else 1900)  # as strptime's %y
    try:
        return datetime(year, fields["m"], fields["d"])
    except ValueError:
        return None


def _strptime(raw: str, reading: DateReading) -> datetime | None:
    """`raw` in the reading's format, or in it followed by a time of day, else None."""
    date_format = reading.format
    assert date_format is not None
    found = _TIME_AFTER.fullmatch(raw) if reading.numeric is not None else None
    day = _read_numeric(found["day"].strip(" ,"), reading) if found is not None else None
    if day is None:  # a form strptime alone reads (month names, a time in the format)
        try:
            return datetime.strptime(raw, date_format)
        except ValueError:
            pass
        found = _TIME_AFTER.fullmatch(raw)
        if found is None:
            return None
        try:
            day = datetime.strptime(found["day"].strip(" ,"), date_format)
        except ValueError:
            return None
    assert found is not None  # a day was read before a time of day
    hour, minute, second = int(found["h"]), int(found["m"]), int(found["s"] or 0)
    if found["ampm"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if found["ampm"][0] in "Pp" else 0)
    try:
        return day.replace(hour=hour, minute=minute, second=second)
    except ValueError:
        return None


def parse_instant(
    text: str, reading: DateReading | None = None, *, naive_utc: bool = False
) -> datetime:
    """An aware UTC instant. A value without an offset is the rep's local time, unless the
    CRM writes UTC without saying so (`naive_utc`: Salesforce's data export)."""
    reading = reading or DateReading()
    raw = text.strip()
    moment: datetime | None = None
    if _ISO_DAY.fullmatch(raw) or _ISO_STAMP.fullmatch(raw):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            moment = None
    if moment is None and reading.format:
        moment = _strptime(raw, reading)
    if moment is None:
        raise CellError(reading.expected())
    try:
        if moment.tzinfo is None:
            # Local wall-clock time, or UTC as the CRM wrote it.
            moment = moment.replace(tzinfo=UTC) if naive_utc else moment.astimezone()
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):  # 0001-01-01 in UTC+14 is before the calendar
        raise CellError(DAY_RANGE) from None
    if not in_range(moment.date()):
        raise CellError(DAY_RANGE)
    return moment


def parse_day(text: str, reading: DateReading | None = None, *, naive_utc: bool = False) -> date:
    """The rep's calendar day of a date or timestamp cell, inside the desk's range of days. A
    timestamp with an offset (or, with `naive_utc`, without one) is an instant: its day is the
    rep's local day. A date, or a time the CRM wrote in the rep's zone, is the day written."""
    try:
        day = _parse_day(text, reading or DateReading(), naive_utc)
    except OverflowError:  # a timestamp at the calendar's edge, moved into the rep's zone
        raise CellError(DAY_RANGE) from None
    if not in_range(day):
        raise CellError(DAY_RANGE)
    return day


def _parse_day(text: str, reading: DateReading, naive_utc: bool) -> date:
    raw = text.strip()
    if _ISO_DAY.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise CellError(reading.expected()) from None
    moment: datetime | None = None
    if _ISO_STAMP.fullmatch(raw):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise CellError(reading.expected()) from None
    elif reading.format:
        moment = _read_numeric(raw, reading) or _strptime(raw, reading)
    if moment is None:
        raise CellError(reading.expected())
    if moment.tzinfo is None and naive_utc:
        moment = moment.replace(tzinfo=UTC)
    return clock.local_date(moment) if moment.tzinfo else moment.date()


# ---------------------------------------------------------------- a file's own date form

# 23/02/26, 2.3.2026, 02-23-2026, 2026/02/23, with or without a time after them.
_NUMERIC_DATE = re.compile(r"([0-9]{1,4})([./-])([0-9]{1,2})\2([0-9]{1,4})(?=$|[ ,T])")
# Forms with a month name say their order themselves; tried in this order on the whole file.
_NAMED_MONTH_FORMS = ("%d %b %Y", "%d-%b-%Y", "%d-%b-%y", "%b %d, %Y", "%d %B %Y", "%B %d, %Y")


@dataclass(frozen=True)
class DateForm:
    """What a file's dates that are not ISO say about how they are written."""

    format: str | None = None  # one that reads them all and that the file proves
    proof: str = ""  # how the file proves it, for the summary
    choices: tuple[str, ...] = ()  # formats that read them, when nothing decides between them
    conflict: str = ""  # both orders proven: no one format reads the file

    def hint(self) -> str:
        if self.choices:
            month, day = self.choices
            return (
                f"this file's dates read month first (--date-format {month}) or day first "
                f"(--date-format {day}), and nothing in it says which"
            )
        if self.format:
            return f"this file's dates read with --date-format {self.format}"
        return ""


def infer_date_form(cells: list[tuple[str, str]]) -> DateForm:
    """The form of a file's date cells that are not ISO ((text, where) each), from the file
    alone: 23/02/26 can only be day first, 02/23/26 only month first, and 02/03/26 either way.
    A form is taken only when the file proves it; never guessed."""
    if not cells:
        return DateForm()
    shapes: Counter[tuple[str, str, int]] = Counter()  # (order, separator, year digits)
    day_first = month_first = None
    named: list[str] = []
    for text, where in cells:
        found = _NUMERIC_DATE.match(text)
        if found is None:
            named.append(text)
            continue
        first, separator, second, last = found.groups()
        if len(first) == 4:
            shapes["ymd", separator, 4] += 1
            continue
        if len(last) not in (2, 4):
            continue
        shapes["dmy", separator, len(last)] += 1
        if int(first) > 12 >= int(second) and day_first is None:
            day_first = (text, where)
        elif int(second) > 12 >= int(first) and month_first is None:
            month_first = (text, where)
    if named and not shapes:
        for form in _NAMED_MONTH_FORMS:
            if all(_strptime(text, DateReading(form)) is not None for text in named):
                return DateForm(form, f"as {named[0]!r}, with the month's name")
        return DateForm()
    if not shapes:
        return DateForm()
    (order, separator, digits), _ = shapes.most_common(1)[0]
    year = "%Y" if digits == 4 else "%y"
    if order == "ymd":
        return DateForm(f"%Y{separator}%m{separator}%d", "year first, as the file writes them")
    month_form = f"%m{separator}%d{separator}{year}"
    day_form = f"%d{separator}%m{separator}{year}"
    if day_first and month_first:
        return DateForm(
            conflict=(
                f"dates are written day first ({day_first[0]!r}, {day_first[1]}) and month "
                f"first ({month_first[0]!r}, {month_first[1]}): no one --date-format reads "
                "both; correct one kind, then import again"
            )
        )
    if day_first:
        text, where = day_first
        return DateForm(
            day_form,
            f"day first, as {text!r} ({where}) shows: there is no month {_number(text, 1)}",
        )
    if month_first:
        text, where = month_first
        return DateForm(
            month_form,
            f"month first, as {text!r} ({where}) shows: there is no month {_number(text, 3)}",
        )
    return DateForm(choices=(month_form, day_form))


def _number(text: str, group: int) -> int:
    found = _NUMERIC_DATE.match(text)
    assert found is not None
    return int(found.group(group))


def looks_iso(text: str) -> bool:
    """Starts as an ISO date does (2026-11-20...): not a locale's form. Cheap, for every cell of
    a file; whether it is a valid date is for the parsers to say."""
    return len(text) >= 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit()


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


def parse_forecast(text: str) -> str:
    """A forecast call as stored (commit, best_case, pipeline, omitted) or "auto"."""
    call = forecast.parse_category(text)
    if call is None:
        raise CellError(forecast.CATEGORY_FORMS)
    return call


def parse_score(text: str) -> int:
    """A customer's score, a whole number from 0 to 10."""
    raw = text.strip()
    # Its length first: int() of a 5,000-digit cell raises ("unexpected error" once).
    if not raw.isascii() or not raw.isdigit() or len(raw.lstrip("0")) > 2 or int(raw) > 10:
        raise CellError("a score from 0 to 10")
    return int(raw)


_PROBABILITY = re.compile(r"[0-9]{1,3}(\.[0-9]{1,12})?|\.[0-9]{1,12}")


def parse_probability(text: str) -> int:
    """Percent 0-100; a fraction with a decimal point (HubSpot's 0.2) is read as 20%."""
    raw = text.strip().removesuffix("%").strip()
    # Written digits and a decimal point only: float() also reads '1e1', '1_0', 'nan' and
    # '５０' or '٣' (other scripts' digits), which no CRM writes for a probability.
    if not _PROBABILITY.fullmatch(raw):
        raise CellError("a probability in percent, 0 to 100")
    number = float(raw)
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


@lru_cache(maxsize=1024)  # a file repeats a handful of values thousands of times
def segment_word(text: str) -> str | None:
    """ "new" or "existing" for a CRM's word for one, else None (the value is its own slice)."""
    key = _DASHES.sub("-", " ".join(text.split()).casefold())
    if not key or key in _NEW_WORDS:
        return "new"
    if key in _EXISTING_WORDS or key.startswith("existing customer-"):
        return "existing"
    return None


def whole_number(text: str) -> int | None:
    """A whole number such as a sort order ("6", "6.0"), else None."""
    raw = text.strip()
    if raw.endswith(".0"):
        raw = raw[:-2]
    if not _SECONDS.fullmatch(raw.removeprefix("-")) or len(raw) > 9:
        return None
    return int(raw)


def parse_currency(text: str) -> str:
    try:
        return check_code(text)
    except CurrencyInputError:
        raise CellError(CODE_FORM) from None


def parse_seconds_as_minutes(text: str) -> int | None:
    """Whole minutes, rounded up; not capped (the caller says when it caps a call at a day)."""
    raw = text.strip()
    if not raw:
        return None
    # ASCII digits only ('²'.isdigit() is True, and int() refuses it), and not so many that
    # int() refuses them too (its 4,300-digit limit): 31 years of call is not a call.
    if not _SECONDS.fullmatch(raw) or len(raw.lstrip("0")) > 9:
        raise CellError("a whole number of seconds (at most 999999999)")
    return (int(raw) + 59) // 60
