"""User text made safe to print: control characters can move the cursor or clear the screen."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Replace control characters (escape sequences included) with a visible mark; keep newlines
    and tabs as spaces so one record stays on one line."""
    return _CONTROL.sub("\ufffd", text.replace("\n", " ").replace("\t", " "))
