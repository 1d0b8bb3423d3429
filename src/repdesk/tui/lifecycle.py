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
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.await_complete import AwaitComplete
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget

if TYPE_CHECKING:  # the mixins below are a screen and a widget to the type checker only
    _ScreenBase = Screen[Any]
    _WidgetBase = Widget
else:
    _ScreenBase = object
    _WidgetBase = object


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


class DismissedOnce(_ScreenBase):
    """A screen that is dismissed once, whatever the number of clicks.

    Textual's `Screen.dismiss` pops whatever screen is on top, not the one dismissed. Keys
    come one at a time, but two clicks (a double click on a welcome's line, a pick list's
    option) both reach a screen before its first dismissal is done: the second popped the
    screen under it (the deal page under a pick list) and, under a screen over the board
    alone, stopped the app ("Can't pop screen"). Found by a hostile test. A screen that is no
    longer on top is not dismissed again, and its result callback not run again."""

    def dismiss(self, result: Any = None) -> AwaitComplete:
        if self is not self.app.screen:
            return already_done()
        done: AwaitComplete = super().dismiss(result)
        return done


def already_done() -> AwaitComplete:
    """What a pop or a dismissal that does nothing returns (Textual's own is untyped)."""
    done: AwaitComplete = AwaitComplete.nothing()  # type: ignore[no-untyped-call]
    return done


def asked_from_the_top(app: App[Any]) -> bool:
    """False when what runs now (a click's handler, a worker) belongs to a screen that is not
    on top of the app's stack: a pop it asks for would take another screen."""
    # Textual's own record of the message pump running now (the one `self.app` reads).
    from textual._context import active_message_pump

    try:
        asker = active_message_pump.get()
    except LookupError:
        return True
    if asker is app:
        return True
    if isinstance(asker, Screen):
        return asker is app.screen
    try:
        screen = asker.screen  # type: ignore[attr-defined]  # a widget's screen
    except Exception:  # not a widget, or one no longer on any screen
        return True
    return screen is app.screen


def release_from_app(widget: Widget) -> None:
    """Drop what the app still holds of `widget` once it is gone: its watches of the app's
    reactives (Textual's TextArea watches the app's theme) and its subscriptions to the app's
    signals (textual-plotext's plot subscribes to theme changes). Textual keeps both until
    the theme next changes, and with them the widget, its text and its caches: every deal
    page kept its notes box, every KPI pane its two charts, every form its text box, and the
    collector's full passes grew with them (10 to 74 ms after twenty openings)."""
    try:
        app = widget.app
    except Exception:  # no app running any more: nothing holds it
        return
    app.theme_changed_signal.unsubscribe(widget)
    # Textual's list of the watches of an object's reactives (textual/reactive.py, `_watch`;
    # no public way to end a watch), pruned as Textual prunes it on the next change.
    watches: dict[str, list[tuple[Any, Any]]] = getattr(app, "__watchers", {})
    for watchers in watches.values():
        watchers[:] = [(node, callback) for node, callback in watchers if node is not widget]


class ReleasedFromApp(_WidgetBase):
    """A widget the app lets go of when it is removed (see `release_from_app`). Named after
    the widget's Textual class (`class NotesArea(TextArea, ReleasedFromApp)`): Textual takes
    a widget's styles and component classes from its first bases only."""

    def on_unmount(self) -> None:
        release_from_app(self)


def forget_removed_widgets() -> None:
    """Let go of what Textual's own caches keep of removed widgets, before the collector's
    full pass (RepdeskApp.collect_garbage). Textual's `StylesCache.get_inner_outer` is an
    `lru_cache` on a method: its 1,024 entries hold the style caches of widgets long gone,
    each with the lines it last drew. Twenty openings of the screens left 40,000 objects for
    every full pass to walk (10 to 57 ms, growing all day); none now."""
    from textual._styles_cache import StylesCache

    StylesCache.get_inner_outer.cache_clear()
