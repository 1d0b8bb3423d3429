"""Keys land in order, in the place they were meant for, however fast they come.

Textual routes a key to the widget focused *when the key is read*, and the key's work (a
binding that opens a form, a tab that moves the focus) happens later, after the key bubbled up
through the widgets' queues. Keys typed in a burst (a paste, a fast typist, `tmux send-keys`)
are all read before the first one's work is done: `c` then `connected` sends `onnected` to the
board, which pushes the form after them; `title` tab `company` types the company into the title.

So the app takes one key at a time: it routes a key only when the one before has been handled
all the way up (a marker sent after it through each queue it passes comes back), and when the
screen on top is ready for keys (a form has focused its first field), and when the app is not
holding them (`keys_held`). Nothing is timed.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from textual import events
from textual.app import App
from textual.message_pump import MessagePump

# A marker that never comes back (its widget went away with its queue) must not stop the
# keyboard: after this long without progress the next key goes anyway.
STUCK_SECONDS = 2.0


def takes_keys(screen: Any) -> bool:
    """Whether the screen on top is ready for keys (a form is not until its field has focus)."""
    return bool(getattr(screen, "keys_ready", True))


class KeysInOrder(App[Any]):
    """An App that hands keys on one at a time (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting_keys: deque[events.Key] = deque()
        self._key_in_flight: events.Key | None = None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            self._waiting_keys.append(event)
            await self.next_key()
            return
        await super().on_event(event)

    def keys_held(self) -> bool:
        """Whether the app holds every key for now (RepdeskApp: while its imports run)."""
        return False

    async def next_key(self) -> None:
        """Route the next waiting key, unless one is under way or the screen is not ready."""
        if self._key_in_flight is not None or not self._waiting_keys:
            return
        if not takes_keys(self.screen):
            return  # the form calls next_key once its first field has the focus
        if self.keys_held():
            return  # the app calls next_key when it lets them go
        event = self._waiting_keys.popleft()
        self._key_in_flight = event
        # Where Textual sends it (when no priority binding takes it): the marker follows.
        target: MessagePump = self.focused or self.screen
        self.set_timer(STUCK_SECONDS, lambda: self._unstick(event))
        await super().on_event(event)
        self._follow(event, target)

    def _follow(self, event: events.Key, node: MessagePump | None) -> None:
        """Send the marker through `node`'s queue (after the key), then its parent's, up to
        the app, whose binding for the key runs in the app's own queue."""
        if node is None or node is self:
            if not self.call_later(self._handled, event):
                self._key_in_flight = None
            return
        parent = node._parent
        if not node.call_later(self._follow, event, parent):
            self._follow(event, parent)  # the widget is closing: its queue will not run

    async def _handled(self, event: events.Key) -> None:
        if self._key_in_flight is event:
            self._key_in_flight = None
            # One more turn of the app's queue first: what the key's action asked of the app
            # with call_later (Widget.focus() does, for `/` on the board) was queued after
            # this marker, and the next key must find it done (the filter focused).
            if not self.call_later(self.next_key):
                await self.next_key()

    async def _unstick(self, event: events.Key) -> None:
        await self._handled(event)
