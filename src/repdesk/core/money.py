"""Money is kept exact as integer minor units (cents) beside an ISO 4217 code."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from repdesk.core.currencies import AMBIGUOUS_SYMBOLS, SYMBOLS, CurrencyInputError, check_code
from repdesk.core.currencies import minor_digits as _minor_digits
from repdesk.core.text import shown_value

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
# The largest amount, in cents: 900 million of a currency. Every sum the desk makes must fit
# in a 64-bit integer (SQLite's INTEGER, PostgreSQL's BIGINT), the largest being the weighted
# pipeline, value x probability (up to 100) over every open deal: a million deals at this
# bound times 100 is 9 x 10^18, just under 2^63. Beyond it a value is a typo, not a deal.
MAX_CENTS = 90_000_000_000
MAX_SHOWN = "900,000,000"
AMOUNT_FORMS = "use digits with a point for decimals, e.g. 12500, 12,500.50, 12.5k or 1.2m"

# Patterns as text, compiled on first use (see _ISO_DAY in core/dates.py).
_PLAIN = r"[0-9]*(?:\.[0-9]+)?"
# Thousands grouped by one kind of separator, in threes: 12,500 / 1 250 000 / 1'250'000.
_GROUPED = r"[0-9]{1,3}(?P<sep>[,_ \u00a0\u202f'])[0-9]{3}(?:(?P=sep)[0-9]{3})*(?:\.[0-9]+)?"
_CODE_BEFORE = r"(?P<code>[A-Za-z]{3})\s*(?P<rest>[-0-9.].*)"
_CODE_AFTER = r"(?P<rest>.*[0-9kKmM])\s*(?P<code>[A-Za-z]{3})"
# Longest first, so "US$" is read before "$".
_SYMBOL_ORDER = sorted((*SYMBOLS, *AMBIGUOUS_SYMBOLS), key=len, reverse=True)


class AmountInputError(ValueError):
    """A typed amount that is not a usable sum of money; `reason` is the message without the
    value ("is ambiguous: ..."), for callers that name the value themselves (FILE:LINE)."""

    def __init__(self, shown: str, reason: str) -> None:
        super().__init__(f"{shown} {reason}")
        self.reason = reason


def _split_currency(text: str) -> tuple[str, str | None, str | None]:
    """(the number part, the currency named with it or None, the marker as written)."""
    sign, raw = ("-", text[1:].lstrip()) if text.startswith("-") else ("", text)
    for symbol in _SYMBOL_ORDER:
        if raw.upper().startswith(symbol.upper()):
            return sign + raw[len(symbol) :].strip(), _symbol_code(text, symbol), symbol
        if raw.endswith(symbol):
            return sign + raw[: -len(symbol)].strip(), _symbol_code(text, symbol), symbol
    raw = text
    for pattern in (_CODE_BEFORE, _CODE_AFTER):
        if match := re.fullmatch(pattern, raw):
            code = match["code"]
            try:
                return match["rest"].strip(), check_code(code), code
            except CurrencyInputError:
                raise AmountInputError(
                    shown_value(text), f"is not an amount: {code!r} is not an ISO 4217 code"
                ) from None
    return raw, None, None


def _symbol_code(text: str, symbol: str) -> str:
    if symbol in AMBIGUOUS_SYMBOLS:
        codes = AMBIGUOUS_SYMBOLS[symbol]
        raise AmountInputError(
            shown_value(text),
            f"is ambiguous: {symbol} is used for {' and '.join(codes)}; write the code "
            f"instead, e.g. {codes[0]} 500",
        )
    return SYMBOLS[symbol]


def parse_money(
    text: str,
    *,
    currency: str | None = None,
    default_currency: str | None = None,
    what: str = "a deal value",
    least: str = "0 or more",
) -> tuple[int, str | None]:
    """What a rep types or a file holds ("12500", "12,500.50", "12.5k", "1.2m", "$500",
    "GBP 1,200") as cents and the currency written with it (None when none is).

    The one amount parser of the shell, the forms and the imports. Nothing is guessed: a comma
    separates thousands only in groups of three (12,500; not 12,5 or 1,2,3), decimals take a
    point, and more decimals than the currency has are refused rather than rounded. The amount
    is in `currency` (a text naming another is refused) or, if the text names none, in
    `default_currency`. `what` names the amount in messages ("a quota"), `least` says what it
    must be.
    """
    raw = text.strip()
    shown = shown_value(text)
    if not raw:
        raise AmountInputError(shown, f"is not an amount: {AMOUNT_FORMS}")
    if raw[0].isdigit() and raw[-1].isdigit():  # no symbol or code around it: most of a file
        number, named, marker = raw, None, None
    else:
        number, named, marker = _split_currency(raw)
    if named is not None and currency is not None and named != currency.upper():
        raise AmountInputError(
            shown,
            f"is in {named}, not {currency.upper()}: write it without {marker!r}, "
            f"or give its currency as {named}",
        )
    negative = number.startswith("-")
    number = number.removeprefix("-").strip()
    multiplier = 1
    if number[-1:] in ("k", "K", "m", "M"):
        multiplier = 1_000 if number[-1] in "kK" else 1_000_000
        number = number[:-1].rstrip()
    if re.fullmatch(_PLAIN, number) and number not in ("", "."):
        plain = number
    elif match := re.fullmatch(_GROUPED, number):
        plain = number.replace(match["sep"], "")
    elif "," in number and number.replace(",", "").replace(".", "").isascii():
        raise AmountInputError(
            shown,
            "is ambiguous: a comma only groups thousands (12,500) and decimals take a point (12.5)",
        )
    else:
        raise AmountInputError(shown, f"is not an amount: {AMOUNT_FORMS}")
    if negative:
        raise AmountInputError(shown, f"is negative: {what} is {least}")
    too_large = AmountInputError(shown, f"is too large: the most {what} can be is {MAX_SHOWN}")
    if len(plain.partition(".")[0].lstrip("0")) > 12:  # before Decimal meets 5,000 digits
        raise too_large
    amount = Decimal(plain) * multiplier
    code = named or (currency or default_currency or "").upper() or None
    digits = _minor_digits(code)
    if amount != amount.quantize(Decimal(1).scaleb(-digits)):
        most = f"{code} has {digits or 'no'} decimals" if code else f"at most {digits} decimals"
        raise AmountInputError(shown, f"has too many decimals ({most}); repdesk does not round")
    cents = int(amount * 100)
    if cents > MAX_CENTS:
        raise too_large
    return cents, named


def parse_amount(
    text: str,
    *,
    currency: str | None = None,
    what: str = "a deal value",
    least: str = "0 or more",
) -> int:
    """`parse_money` for a field whose currency is set (`currency`) or not asked: cents only."""
    return parse_money(text, currency=currency, what=what, least=least)[0]


def check_cents(cents: int) -> bool:
    """Whether an amount in cents is one the desk keeps (0 to MAX_CENTS)."""
    return 0 <= cents <= MAX_CENTS


def whole_units(cents: int | None) -> int | None:
    """Cents rounded to whole units, as a figure is read at a glance (the KPI pane, `repdesk
    kpi`); the exact cents are in `repdesk kpi --json`."""
    if cents is None:
        return None
    # Half up, as every other amount is rounded (format_money's compact form): round() rounds
    # half to even, and a quota of €10.50 read €10 here and €11 in `quota --short` (a hostile
    # test).
    units = (Decimal(cents) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(units) * 100


def format_money(cents: int | float | None, currency: str = "", *, compact: bool = False) -> str:
    """Format for people: "€12,500" (whole) or "€12,500.50"; compact gives "€12.5k", and
    whole units below a thousand ("€783", where a status bar showed "782.61")."""
    if cents is None:
        return "—"
    symbol = _SYMBOLS.get(currency, "")
    suffix = "" if symbol or not currency else f" {currency}"
    units = Decimal(cents) / 100
    sign = "-" if units < 0 else ""
    units = abs(units)
    if compact and units < 1000:
        units = units.quantize(Decimal(1), rounding=ROUND_HALF_UP)  # 999.50 is 1k, below
        sign = sign if units else ""  # -0.40 is 0, not -0
    if compact and units >= 1000:
        tiers = ((Decimal(10**9), "bn"), (Decimal(10**6), "m"), (Decimal(10**3), "k"))
        for n, (limit, letter) in enumerate(tiers):
            if units >= limit:
                short = (units / limit).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
                if short >= 1000 and n:  # 999,950 is "1m", not "1000k"
                    limit, letter = tiers[n - 1]
                    short = (units / limit).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
                text = f"{short:f}".removesuffix(".0")
                return f"{sign}{symbol}{text}{letter}{suffix}"
    if units == units.to_integral_value():
        body = f"{int(units):,}"
    else:
        body = f"{units.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
    return f"{sign}{symbol}{body}{suffix}"


class Conversion:
    """How deals in other currencies count in the desk's sums: at the rates the rep set.

    A currency with no rate has no factor: its deals are left out of the sums (and counted,
    so a screen can say how many) rather than added at a made-up rate.
    """

    __slots__ = ("currency", "rates")

    def __init__(self, currency: str, rates: dict[str, float] | None = None) -> None:
        self.currency = currency.upper()
        # Decimal from the text form, so 0.92 stays 0.92 and not 0.92000000000000003997.
        self.rates = {code.upper(): Decimal(str(rate)) for code, rate in (rates or {}).items()}

    def factor(self, currency: str) -> Decimal | None:
        code = (currency or self.currency).upper()
        return Decimal(1) if code == self.currency else self.rates.get(code)

    def cents(self, amount: int | Decimal, currency: str) -> Decimal | None:
        """`amount` (minor units of `currency`) in the desk's minor units, unrounded."""
        factor = self.factor(currency)
        return None if factor is None else Decimal(amount) * factor
