"""Errors a rep reads. The shell prints the message and exits 2; the app shows it by the field."""

from __future__ import annotations

from repdesk.core.text import shown_value


class RepdeskError(Exception):
    """Base for refusals with a message meant for the rep."""


class InvalidInput(RepdeskError):
    """A value that cannot be used: names the field, the value and the accepted form."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        # A pasted page is quoted by its start: one short line.
        shown = shown_value(value) if isinstance(value, str) else repr(value)
        super().__init__(f"{field}: {shown} is not valid: {expected}")


class LookupFailed(RepdeskError):
    """A reference that names no single thing. `field`: the input that gave it (a form shows
    the message under it), when the raiser knows."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(LookupFailed):
    """No deal, stage, follow-up or objection matches what was asked for."""


class Ambiguous(LookupFailed):
    """Text that matches several deals; the message lists them so the rep can pick an id."""


class AlreadyClosed(RepdeskError):
    """A change that needs an open deal (closing it again, a next step) asked of a closed one."""


class DeskError(Exception):
    """A problem with the desk file a rep must read: the message names the path and the fix."""
