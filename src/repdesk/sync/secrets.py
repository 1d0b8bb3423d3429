"""Where the Pipedrive API token comes from: REPDESK_PIPEDRIVE_TOKEN, else the OS keyring
(the optional `keyring` library). Never from or to settings.toml, the desk, a log or the crash
log: it lives only in this process's memory and in the client's request header."""

from __future__ import annotations

import os

from repdesk.sync.connector import NoToken, SyncError

TOKEN_ENV = "REPDESK_PIPEDRIVE_TOKEN"
KEYRING_SERVICE = "repdesk"
KEYRING_USER = "pipedrive"

MISSING = (
    "no Pipedrive API token: set REPDESK_PIPEDRIVE_TOKEN, or keep it in the OS keyring with "
    "`repdesk sync token` (Pipedrive: Settings > Personal preferences > API)"
)


def token(environ: dict[str, str] | None = None) -> str:
    found = (os.environ if environ is None else environ).get(TOKEN_ENV, "").strip()
    if found:
        return found
    found = _from_keyring() or ""
    if not found.strip():
        raise NoToken(MISSING)
    return found.strip()


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
    try:
        import keyring
    except ImportError:
        raise SyncError(
            "the keyring library is not installed (pip install keyring); "
            "set REPDESK_PIPEDRIVE_TOKEN instead"
        ) from None
    try:
        keyring.set_password(KEYRING_SERVICE, KEYRING_USER, value.strip())
    except Exception as exc:
        raise SyncError(
            f"the OS keyring refused the token ({type(exc).__name__}); "
            "set REPDESK_PIPEDRIVE_TOKEN instead"
        ) from None
