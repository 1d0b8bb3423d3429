"""How hard the long reliability tests push: a lighter run by default, the full one with
REPDESK_THOROUGH=1 (`scripts/check --thorough`).

The default keeps every one of them in the README's test command (and so in CI) at a size that
still kills, races and fuzzes, so the suite stays well under ten minutes on two cores; the
thorough run is the one to make before saying a change to the store, the shell or the app's
writes is done."""

from __future__ import annotations

import os

THOROUGH = os.environ.get("REPDESK_THOROUGH", "") not in ("", "0")


def scaled(*, full: int, default: int) -> int:
    """`full` in a thorough run, else `default`."""
    return full if THOROUGH else default
