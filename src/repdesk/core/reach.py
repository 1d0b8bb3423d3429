"""How a person is reached: an email address and a phone number as a rep types them, checked
the same wherever they are typed (a contact, a new deal, the deal form) and where a CSV import
brings them (one that is none is left out and named: services/transfer.py), never where the
CRM sync brings them, which keeps what the other system holds (and a JSON export of a desk
holding such a value imports back)."""

from __future__ import annotations

import re
import unicodedata

from repdesk.core.errors import InvalidInput

# An address as a rep types one: something@domain.tld, no spaces.
_ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")


def has_hidden(text: str) -> bool:
    """A control, format (RTL override, zero-width) or unassigned character: never part of an
    address or a number, and an ESC in one reaches a terminal through its mailto: link."""
    return any(unicodedata.category(ch).startswith("C") for ch in text)


def _without_scheme(text: str, scheme: str) -> str:
    """`mailto:ana@acme.example` as `ana@acme.example`: a link's address pasted whole was kept
    with its scheme, and capture never matched mail from it (a hostile test)."""
    text = text.strip()
    return text[len(scheme) :].strip() if text[: len(scheme)].lower() == scheme else text


def check_address(address: str) -> str:
    text = _without_scheme(address, "mailto:")
    if not _ADDRESS.fullmatch(text) or has_hidden(text):
        raise InvalidInput("email", address, "an address such as ana@acme.example")
    return text


def check_phone(number: str) -> str:
    """A number a rep could dial: three digits at least, not begun with a minus (`-1` and
    `0` were taken as phone numbers: a hostile test)."""
    text = " ".join(_without_scheme(number, "tel:").split())
    digits = sum(c.isdigit() for c in text)
    if digits < 3 or text.startswith("-") or has_hidden(text):
        raise InvalidInput("phone", number, "a phone number such as +34 600 123 456")
    return text


def is_domain(text: str) -> bool:
    """Two or more dot-separated labels of letters, digits and inner hyphens (acme.example,
    bücher.example): no empty label, no space, bracket or control character."""
    labels = text.split(".")
    return len(labels) >= 2 and all(
        label and label[0] != "-" and label[-1] != "-" and label.replace("-", "").isalnum()
        for label in labels
    )
