"""When a screen may show what a worker read for it.

A read runs in a thread and its result comes back later, when the screen it was for may not
have its widgets yet (pushed, not yet composed) or may be going away (popped: Textual removes
its children first, while the screen itself is still attached). Querying a widget then raises
`NoMatches` and stops the app, which is what a busy machine showed (issue 22). So:
- no read starts for a screen before its widgets are there (`reload_when_composed`);
- every result, timer and callback that touches a screen's widgets asks `can_show` first and
  drops what it read when the screen is going away: a screen going away needs nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.dom import DOMNode
from textual.screen import Screen


def can_show(node: DOMNode) -> bool:
    """True while `node` is attached to the app and not being removed."""
    # `_pruning` and `_closing` are Textual's own marks for a node being removed (its
    # `display` property reads them the same way); no public property says "being removed".
    return node.is_attached and not (node._pruning or node._closing or node._closed)


def reload_when_composed(screen: Screen[object], reload: Callable[[], object]) -> None:
    """Run `reload` now on a mounted screen, else as soon as its widgets are composed.

    A screen being mounted has a first read of its own under way, but that read may have
    started before the write that asks for this one: it is read again, never skipped."""
    if screen.is_mounted:
        reload()
    else:
        # Flushed after the screen's current message (Compose or Mount): its widgets are in.
        screen.call_next(reload)
