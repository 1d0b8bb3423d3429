"""Where the Pipedrive API token comes from: REPDESK_PIPEDRIVE_TOKEN, else the OS keyring
(the optional `keyring` library). Never from or to settings.toml, the desk, a log or the crash
log: it lives only in this process's memory and in the client's request header."""

from __future__ import annotations

import os
import re

from repdesk.sync.connector import AuthRefused, NoToken, SyncError

TOKEN_ENV = "REPDESK_PIPEDRIVE_TOKEN"
KEYRING_SERVICE = "repdesk"
KEYRING_USER = "pipedrive"

MISSING = (
    "no Pipedrive API token: set REPDESK_PIPEDRIVE_TOKEN, or keep it in the OS keyring with "
    "`repdesk sync token` (Pipedrive: Settings > Personal preferences > API)"
)


# What an API token is made of: printable ASCII without spaces (Pipedrive's are 40 hex
# digits). Anything else cannot go in a request header, and the HTTP library's refusal quotes
# the header's value: the token would be on the rep's screen.
_TOKEN = re.compile(r"[\x21-\x7e]+")


def checked(value: str, where: str) -> str:
    value = value.strip()
    if not _TOKEN.fullmatch(value):
        raise AuthRefused(
            f"the Pipedrive API token in {where} holds a space, a line break or a character "
            "no API token has: copy it again (Pipedrive: Settings > Personal preferences > API)"
        )
    return value


def token(environ: dict[str, str] | None = None) -> str:
    found = (os.environ if environ is None else environ).get(TOKEN_ENV, "").strip()
    if found:
        return checked(found, TOKEN_ENV)
    found = _from_keyring() or ""
    if not found.strip():
        raise NoToken(MISSING)
    return checked(found, "the OS keyring")


def _from_keyring() -> str | None:
    try:
        import keyring  # optional: repdesk runs without it
    except ImportError:
        return None
    try:
        found: str | None = keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
    except Exception:  # no backend on this machine (a server, a container): as if none kept
        return None
    return found


def keep_in_keyring(value: str) -> None:
    value = checked(value, "what was typed")
    try:
        import keyring
    except ImportError:
        raise SyncError(
            "the keyring library is not installed (pip install keyring); "
            "set REPDESK_PIPEDRIVE_TOKEN instead"
        ) from None
    try:
        keyring.set_password(KEYRING_SERVICE, KEYRING_USER, value)
    except Exception as exc:
        raise SyncError(
            f"the OS keyring refused the token ({type(exc).__name__}); "
            "set REPDESK_PIPEDRIVE_TOKEN instead"
        ) from None
