"""Money is kept exact as integer minor units (cents) beside an ISO 4217 code."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, DecimalException, InvalidOperation

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
# Amounts beyond this are typos, not deals; refusing them also keeps every sum inside int64.
MAX_CENTS = 10**15


class AmountInputError(ValueError):
    """A typed amount that is not a usable sum of money."""


def parse_amount(text: str, *, what: str = "a deal value", least: str = "0 or more") -> int:
    """Parse what a rep types ("12500", "12,500.50", "12.5k", "1.2m") into cents. `what` names
    the amount in messages ("a quota"), `least` says what it must be ("above 0")."""
    raw = text.strip().replace("_", "").replace(" ", "")
    for symbol in (*_SYMBOLS.values(), "$"):
        raw = raw.removeprefix(symbol)
    multiplier = 1
    if raw[-1:].lower() in ("k", "m"):
        multiplier = 1_000 if raw[-1].lower() == "k" else 1_000_000
        raw = raw[:-1]
    # A comma is taken as a thousands separator only in the 12,500 shape.
    if "," in raw and "." not in raw and raw.count(",") == 1 and len(raw.split(",")[1]) == 2:
        raw = raw.replace(",", ".")
    raw = raw.replace(",", "")
    too_large = AmountInputError(
        f"{text!r} is too large: the most {what} can be is 10,000,000,000,000"
    )
    try:
        amount = Decimal(raw) * multiplier
    except InvalidOperation:
        raise AmountInputError(
            f"{text!r} is not an amount: use a number such as 12500, 12500.50 or 12.5k"
        ) from None
    except DecimalException:  # an exponent beyond Decimal's range, e.g. 1e999999999
        raise too_large from None
    if not amount.is_finite():
        raise AmountInputError(f"{text!r} is not an amount: use a number such as 12500")
    if amount < 0:
        raise AmountInputError(f"{text!r} is negative: {what} is {least}")
    # Compared before rounding: quantizing 1e400 to cents fails instead of just being large.
    if amount > Decimal(MAX_CENTS) / 100:
        raise too_large
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_money(cents: int | float | None, currency: str = "", *, compact: bool = False) -> str:
    """Format for people: "€12,500" (whole) or "€12,500.50"; compact gives "€12.5k"."""
    if cents is None:
        return "—"
    symbol = _SYMBOLS.get(currency, "")
    suffix = "" if symbol or not currency else f" {currency}"
    units = Decimal(cents) / 100
    sign = "-" if units < 0 else ""
    units = abs(units)
    if compact and units >= 1000:
        for limit, letter in ((Decimal(10**9), "bn"), (Decimal(10**6), "m"), (Decimal(10**3), "k")):
            if units >= limit:
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
