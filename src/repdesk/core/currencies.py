"""ISO 4217 currency codes and what a currency's symbol means. Standard library only: the fast
shell commands and the settings use it.

The codes are the currencies in use (ISO 4217's list, without the precious metals, the testing
and the "no currency" codes), plus those withdrawn since 2020 so that a desk holding them still
imports. A code not here is a typo: `ßx` is not "SSX".
"""

from __future__ import annotations

import re

_CODES = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN
BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP
ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR
ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD
MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR
PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL
THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF
XCD XCG XDR XOF XPF XSU XUA YER ZAR ZMW ZWG ZWL
"""
CODES = frozenset(_CODES.split())

# Currencies without minor units (ISO 4217's exponent 0): ¥500.5 is not an amount of yen.
# Every other currency is kept to 2 decimal places (the desk stores hundredths), so for the
# few with 3 or 4 (KWD, BHD, ...) a third decimal is refused too, never rounded.
_NO_MINOR_UNITS = """
BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF
"""
NO_MINOR_UNITS = frozenset(_NO_MINOR_UNITS.split())

# What a symbol written with an amount means. `$` alone is the US dollar (as most software
# and most readers take it); the other dollars carry their country's prefix.
SYMBOLS = {
    "US$": "USD",
    "$": "USD",
    "CA$": "CAD",
    "C$": "CAD",
    "A$": "AUD",
    "AU$": "AUD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "MX$": "MXN",
    "€": "EUR",
    "£": "GBP",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₪": "ILS",
    "₴": "UAH",
    "₦": "NGN",
    "₱": "PHP",
    "₫": "VND",
}
# Symbols that name more than one currency: refused, with the codes to write instead.
AMBIGUOUS_SYMBOLS = {"¥": ("JPY", "CNY")}

_CODE = re.compile(r"[A-Za-z]{3}")
CODE_FORM = "an ISO 4217 currency code such as EUR, USD or GBP"


class CurrencyInputError(ValueError):
    """A currency code that is not ISO 4217's; the message names the value."""


def is_code(text: str) -> bool:
    return text in CODES


def check_code(text: str) -> str:
    """`text` as an ISO 4217 code (any case in, upper case out), or CurrencyInputError.

    ASCII letters only, compared before upper-casing: "ßx".upper() is "SSX".
    """
    raw = text.strip()
    code = raw.upper() if _CODE.fullmatch(raw) else ""
    if code not in CODES:
        raise CurrencyInputError(f"{text!r} is not {CODE_FORM}")
    return code


def minor_digits(code: str | None) -> int:
    """Decimal places an amount of `code` may have (2 when the currency is not known)."""
    return 0 if code in NO_MINOR_UNITS else 2
