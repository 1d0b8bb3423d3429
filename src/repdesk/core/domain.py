"""The domain's fixed vocabulary (see docs/domain.md). Standard library only: the fast
shell path and the models both use it."""

import re

# SQLite keeps integers in 64 bits: a longer number cannot be a row's id (binding it raises
# OverflowError). ASCII digits only, as in dates.py: str.isdigit() also takes '²', which int()
# refuses.
_ROW_ID = re.compile(r"[0-9]{1,19}")
MAX_ROW_ID = 2**63 - 1


def row_id(text: str) -> int | None:
    """`text` as a row id, or None when it cannot be one."""
    raw = text.strip()
    if not _ROW_ID.fullmatch(raw) or int(raw) > MAX_ROW_ID:
        return None
    return int(raw)


# The longest text a field holds: the csv module's cell limit, which a CSV import cannot pass,
# so a JSON import (or anything else) cannot make a longer one either.
MAX_TEXT = 131_072

STATUSES = ("open", "won", "lost")
STAGE_KINDS = ("open", "won", "lost")
ACTIVITY_KINDS = ("call", "email", "meeting", "note")
OBJECTION_CATEGORIES = (
    "price",
    "budget",
    "timing",
    "competitor",
    "authority",
    "need",
    "confusion",
    "other",
)
OBJECTION_STATUSES = ("open", "addressed", "resolved")
SEGMENTS = ("new", "existing")

# Roles a contact plays on a deal.
CONTACT_ROLES = ("decision maker", "champion", "finance", "user", "other")


def role_word(text: str) -> str | None:
    """A role as typed or written in a file, as stored: one of CONTACT_ROLES in any case,
    `decision-maker`, `Decision_Maker` and `dm` too; None when it is none of them."""
    word = " ".join(text.strip().lower().replace("-", " ").replace("_", " ").split())
    word = {"dm": "decision maker", "decider": "decision maker"}.get(word, word)
    return word if word in CONTACT_ROLES else None


# Mail providers anyone can write from: an address there names a person, never a company, so
# `repdesk capture` never matches a company by these domains.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com",
        "msn.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "ymail.com", "aol.com",
        "icloud.com", "me.com", "mac.com", "proton.me", "protonmail.com", "pm.me", "gmx.de",
        "gmx.net", "gmx.com", "web.de", "t-online.de", "mail.com", "mail.ru", "yandex.ru",
        "yandex.com", "zoho.com", "fastmail.com", "hey.com", "qq.com", "163.com", "126.com",
        "orange.fr", "free.fr", "laposte.net", "libero.it", "wp.pl", "o2.pl", "seznam.cz",
        "freenet.de", "bluewin.ch", "telenet.be", "rediffmail.com", "tutanota.com", "tuta.io",
    }
)  # fmt: skip
