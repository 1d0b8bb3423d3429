"""Modal forms with inline validation: a message next to the field, nothing saved until valid.

A form is a list of `FieldSpec`s and a `submit` coroutine that does the write. The form stays
open, with everything the rep typed, until the write succeeded: a refusal from a service or a
full disk shows as a message in the form, never as a lost note.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.highlighter import Highlighter
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, TextArea

from repdesk.core.errors import InvalidInput, LookupFailed, RepdeskError
from repdesk.core.text import printable
from repdesk.tui.lifecycle import DismissedOnce, ReleasedFromApp, can_show

if TYPE_CHECKING:
    from textual import getters

    from repdesk.tui.app import RepdeskApp


Parser = Callable[[str], Any]


class FieldError(ValueError):
    """Raised by a field parser; the message is shown next to the field."""


@dataclass
class FieldSpec:
    name: str
    label: str
    value: str = ""
    kind: str = "text"  # text | select | area
    options: Sequence[tuple[str, str]] = ()  # (label, value) for a select
    suggestions: Sequence[str] = ()  # completions for a text field (tab, → or enter take it)
    # Suggest only where what is typed starts one suggestion alone: a deal field, where taking
    # the first of several deals that start so put a commitment on the wrong deal.
    only_one: bool = False
    picks: Sequence[str] = ()  # a digit typed in the empty field picks one (1 is the first)
    placeholder: str = ""
    required: bool = False
    parse: Parser | None = None
    hint: str = ""
    # A hint worked out from every field's text, shown again at each change (what saving will
    # store, where that depends on what is picked): in place of `hint`.
    live_hint: Callable[[Mapping[str, str]], str] | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)  # service field names shown here


FIELD_WIDGETS = "#form-fields Input, #form-fields Select, #form-fields TextArea"


class _ShownSafely(Highlighter):
    """An input's text drawn as printable() shows it (an edited title may hold an escape
    sequence from an import); what is typed and saved stays exactly what it is."""

    def __call__(self, text: str | Text) -> Text:
        plain = text.plain if isinstance(text, Text) else text
        return Text(_keeping_tabs(plain), no_wrap=True, overflow="ignore", end="")

    def highlight(self, text: Text) -> None:  # __call__ does it all
        pass


class _TextArea(TextArea, ReleasedFromApp):
    """A text area whose lines are drawn as printable() shows them (one character for one,
    so the cursor keeps its place); the text itself is kept as typed."""

    def get_line(self, line_index: int) -> Text:
        return Text(_keeping_tabs(self.document.get_line(line_index)), end="", no_wrap=True)


def _keys_line(*, in_text_area: bool) -> str:
    if in_text_area:
        return "ctrl+s: save · enter: new line · esc: cancel · tab: next field"
    return "ctrl+s or enter: save · esc: cancel · tab: next field"


def _keeping_tabs(text: str) -> str:
    # The widgets place the cursor counting a tab as the cells to the next tab stop.
    return "\t".join(printable(part) for part in text.split("\t"))


class FieldInput(Input):
    """A form's text field, where what is shown is what is kept.

    The suggestion (the first suggested value that starts with what is typed, any case) is
    worked out at once on each change, not in a worker, so keys typed in a burst find it. Tab,
    shift+tab, →, enter and leaving the field take it: `co` then tab is "connected", never "co".
    `delete` at the end drops it, to keep exactly what was typed (a new lost reason that is the
    start of an earlier one). With `picks`, a digit typed in the empty field picks that value and
    stays, as a typed value does: tab goes on (it went on by itself, and "1, tab" then put each
    later value one field late: a new-user trial); once the field holds text, digits type.
    """

    BINDINGS = [
        Binding("tab", "leave(1)", "Next field", show=False),
        Binding("shift+tab", "leave(-1)", "Previous field", show=False),
    ]

    def __init__(
        self,
        value: str,
        *,
        suggestions: Sequence[str] = (),
        picks: Sequence[str] = (),
        only_one: bool = False,
        **kwargs: Any,
    ) -> None:
        self.suggestions = list(suggestions)
        self.picks = tuple(picks)
        self.only_one = only_one
        self.dropped = False  # `delete` dropped the suggestion for what is typed now
        super().__init__(value, **kwargs)

    def completion(self, value: str) -> str:
        """What the field suggests for `value`: "" when nothing, or when it is typed in full."""
        if not value or self.dropped:
            return ""
        folded = value.casefold()
        if any(s.casefold() == folded for s in self.suggestions):
            return ""
        starting = (s for s in self.suggestions if s.casefold().startswith(folded))
        first = next(starting, "")
        if self.only_one and next(starting, None) is not None:
            return ""  # several start so: saving says which, with their ids
        return first

    def _watch_value(self, value: str) -> None:
        super()._watch_value(value)
        self.dropped = False
        self._suggestion = self.completion(value)

    def take_suggestion(self) -> None:
        suggestion = self.completion(self.value)
        if suggestion:
            self.value = suggestion
            self.cursor_position = len(suggestion)

    def action_leave(self, direction: int) -> None:
        self.take_suggestion()
        if direction > 0:
            self.screen.focus_next()
        else:
            self.screen.focus_previous()

    async def action_submit(self) -> None:
        # Enter saves the form, from here and now (in the key's turn): keys typed after it wait
        # for the save, and land on the screen below once the form is gone.
        self.take_suggestion()
        if isinstance(self.screen, FormScreen):
            await self.screen.action_save()
        else:
            await super().action_submit()

    def action_delete_right(self) -> None:
        if self.cursor_at_end and self.completion(self.value):
            self.dropped = True
            self._suggestion = ""
            return
        super().action_delete_right()

    async def _on_key(self, event: events.Key) -> None:
        character = event.character or ""
        # ASCII digits only: '²'.isdigit() is true and int('²') raises
        if self.picks and not self.value and character.isascii() and character.isdigit():
            index = int(character) - 1
            if 0 <= index < len(self.picks):
                event.stop()
                event.prevent_default()
                self.value = self.picks[index]
                self.cursor_position = len(self.value)

    def _on_blur(self, event: events.Blur) -> None:
        self.take_suggestion()  # left with the mouse: what was shown is what stays


def _picks_line(picks: Sequence[str], width: int = 64) -> Text:
    """`1 connected  2 left voicemail  …`, a new line between two choices, never inside one
    (the form's fields are about 66 cells wide)."""
    lines = [""]
    for number, pick in enumerate(picks, 1):
        choice = f"{number} {printable(pick)}"
        if lines[-1] and len(lines[-1]) + 2 + len(choice) > width:
            lines.append("")
        lines[-1] += f"  {choice}" if lines[-1] else choice
    return Text("\n".join(lines))


class _FieldList(VerticalScroll, can_focus=False):
    """The fields, scrollable when the terminal is short; tab goes field to field."""


class FormScreen(DismissedOnce, ModalScreen[Any]):
    """A modal form. `submit(values)` performs the write and returns what the caller gets."""

    if TYPE_CHECKING:  # self.app is a RepdeskApp (Textual's typed getter; no runtime check)
        app = getters.app(RepdeskApp)

    DEFAULT_CSS = """
    FormScreen {
        align: center middle;
        background: $background 60%;
    }
    FormScreen > #form-box {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    FormScreen #form-title { text-style: bold; width: 100%; }
    FormScreen .field-label { color: $text-muted; height: 1; margin-top: 1; }
    FormScreen Input, FormScreen Select { width: 100%; background: $boost; }
    FormScreen Input:focus, FormScreen Select:focus, FormScreen TextArea:focus {
        background: $accent 20%;
    }
    FormScreen TextArea { height: 4; width: 100%; background: $boost; }
    FormScreen .field-error { color: $error; height: auto; }
    FormScreen .field-error.-empty { display: none; }
    FormScreen .field-hint { color: $text-muted; height: auto; }
    /* Docked, so a long form scrolls its fields but never hides the title, the form's own
       error or the keys line; the fields take what is left between them (in the flow, the
       title took one line from a list as tall as the form, whose last line then sat under the
       keys line: the deal form's Segment at 80x24, a new-user trial). Error and keys are one
       docked box: two boxes docked at the bottom are drawn over each other. */
    FormScreen #form-title { dock: top; }
    FormScreen #form-foot { dock: bottom; height: auto; padding-top: 1; }
    FormScreen #form-keys { color: $text-muted; height: 1; }
    FormScreen #form-error { color: $error; height: auto; }
    FormScreen #form-error.-empty { display: none; }
    FormScreen #form-fields { height: auto; max-height: 100%; scrollbar-size-vertical: 1; }
    FormScreen .form-field { height: auto; }
    FormScreen #form-main { height: auto; max-height: 100%; }
    """

    # The first field takes the focus in on_mount; the scroll container never does.
    AUTO_FOCUS = ""
    # Keys typed before that wait for it (see tui/keyorder.py): none goes to the screen below.
    keys_ready = False

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "save", "Save", id="form.save", priority=True),
    ]

    def __init__(
        self,
        title: str,
        fields: Sequence[FieldSpec],
        submit: Callable[[dict[str, Any]], Awaitable[Any]],
        *,
        side: Widget | None = None,
    ) -> None:
        super().__init__()
        self.form_title = title
        self.fields = list(fields)
        self.submit = submit
        self.side = side
        self.saving = False
        self._checked: dict[str, str] = {}  # the values the last save checked (see _changed)
        self.shown: dict[str, str] = {}  # every field as the form opened, to tell a change

    def compose(self) -> ComposeResult:
        with Horizontal(id="form-box") if self.side else Vertical(id="form-box"):
            with Vertical(id="form-main"):
                # One line: a title with a newline would break the form's border.
                yield Static(Text(printable(self.form_title)), id="form-title")
                with _FieldList(id="form-fields"):
                    for spec in self.fields:
                        # One box per field, so the list scrolls a field into view whole.
                        with Vertical(id=f"box-{spec.name}", classes="form-field"):
                            yield Label(
                                Text(printable(spec.label) + (" *" if spec.required else "")),
                                classes="field-label",
                            )
                            yield self._input_for(spec)
                            if spec.picks:
                                yield Static(
                                    _picks_line(spec.picks), classes="field-hint field-picks"
                                )
                            if spec.hint or spec.live_hint:
                                yield Static(
                                    Text(printable(spec.hint, multiline=True)),
                                    id=f"hint-{spec.name}",
                                    classes="field-hint",
                                )
                            yield Static("", id=f"error-{spec.name}", classes="field-error -empty")
                with Vertical(id="form-foot"):
                    yield Static("", id="form-error", classes="-empty")
                    yield Static(_keys_line(in_text_area=False), id="form-keys")
            if self.side is not None:
                yield self.side

    def on_mount(self) -> None:
        # Typing starts in the first field, with the form at its top: Textual's auto focus
        # would centre the field and, on a short terminal, hide its label ("Title *").
        first = self.query(FIELD_WIDGETS).first()
        self.set_focus(first, scroll_visible=False)
        self.shown = self.raw_values()  # before any key: keys wait for keys_ready
        self._show_live_hints()
        self.keys_ready = True
        next_key = getattr(self.app, "next_key", None)
        if next_key is not None:
            self.app.call_later(next_key)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # In a text of several lines enter starts a new line: the keys line says so there.
        self.query_one("#form-keys", Static).update(
            _keys_line(in_text_area=isinstance(event.widget, TextArea))
        )
        self.call_after_refresh(self._show_field, event.widget)

    def _show_field(self, widget: Widget) -> None:
        """Scroll the fields so the focused one is in view whole: its label, its value, its
        hint and its error. Textual scrolls the value alone into view, so shift+tab left the
        label above the top and tab the error below the bottom."""
        if not can_show(self) or self.focused is not widget:
            return
        box = next(
            (a for a in widget.ancestors if isinstance(a, Widget) and a.has_class("form-field")),
            None,
        )
        if box is not None:
            self.query_one("#form-fields", _FieldList).scroll_to_widget(
                box, animate=False, immediate=True
            )

    def on_input_changed(self, event: Input.Changed) -> None:
        self._changed(event.input)

    def on_select_changed(self, event: Select.Changed) -> None:
        self._changed(event.select)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._changed(event.text_area)

    def _changed(self, field: Widget) -> None:
        """A field typed in: its error is about the value it had, and goes (it stayed under
        a date put right until the next save: a hostile test)."""
        name = (field.id or "").removeprefix("field-")
        checked = self._checked
        if name in checked and self.is_mounted:
            error = self.query(f"#error-{name}")
            # Only once the value differs from the one the error is about: a change typed
            # just before ctrl+s can come after the save's check, and took its error away.
            shown = bool(error) and not error.first().has_class("-empty")
            if shown and self.raw_values()[name] != checked[name]:
                self.set_error(name, "")
        self._show_live_hints()

    def _show_live_hints(self) -> None:
        live = [spec for spec in self.fields if spec.live_hint is not None]
        if not live or not self.is_mounted or not can_show(self):
            return  # a value set while the form is composed: on_mount shows them
        values = self.raw_values()
        for spec in live:
            assert spec.live_hint is not None
            hint = Text(printable(spec.live_hint(values), multiline=True))
            self.query_one(f"#hint-{spec.name}", Static).update(hint)

    def _input_for(self, spec: FieldSpec) -> Widget:
        ident = f"field-{spec.name}"
        if spec.kind == "select":
            values = [value for _, value in spec.options]
            return Select(
                [(Text(printable(label)), value) for label, value in spec.options],
                value=spec.value if spec.value in values else Select.NULL,
                allow_blank=not spec.required,
                id=ident,
                compact=True,
            )
        if spec.kind == "area":
            return _TextArea(spec.value, id=ident, soft_wrap=True, compact=True)
        return FieldInput(
            spec.value,
            suggestions=[printable(s) for s in spec.suggestions],
            picks=spec.picks,
            only_one=spec.only_one,
            placeholder=spec.placeholder,
            highlighter=_ShownSafely(),
            id=ident,
            compact=True,
        )

    def raw_values(self) -> dict[str, str]:
        """What is typed in every field, as text (kept across a failed save)."""
        values: dict[str, str] = {}
        for spec in self.fields:
            widget = self.query_one(f"#field-{spec.name}")
            if isinstance(widget, Select):
                values[spec.name] = "" if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, TextArea):
                values[spec.name] = widget.text
            else:
                assert isinstance(widget, Input)
                values[spec.name] = widget.value
        return values

    def set_error(self, name: str | None, message: str) -> None:
        target = self.query_one(f"#error-{name}" if name else "#form-error", Static)
        target.update(Text(printable(message, multiline=True)))
        target.set_class(not message, "-empty")

    def _clear_errors(self) -> None:
        for spec in self.fields:
            self.set_error(spec.name, "")
        self.set_error(None, "")

    def validate(self) -> dict[str, Any] | None:
        """Parse every field; show each problem by its field. None when anything is wrong."""
        self._clear_errors()
        self._checked = self.raw_values()  # what the errors shown are about (see _changed)
        parsed: dict[str, Any] = {}
        ok = True
        for spec in self.fields:
            raw = self.raw_values()[spec.name]
            # Saved without an enter pressed after the last word (no part of the answer).
            text = raw.rstrip() if spec.kind == "area" else raw.strip()
            if spec.required and not text.strip():
                self.set_error(spec.name, f"{spec.label} is needed")
                ok = False
                continue
            try:
                parsed[spec.name] = spec.parse(text) if spec.parse and text else (text or None)
            except (FieldError, ValueError) as exc:
                self.set_error(spec.name, str(exc))
                ok = False
        if not ok:
            self._focus_first_error()
        return parsed if ok else None

    def _focus_first_error(self) -> None:
        for spec in self.fields:
            if not self.query_one(f"#error-{spec.name}").has_class("-empty"):
                field = self.query_one(f"#field-{spec.name}")
                field.focus()
                # Focused already (saved from it), it is not scrolled to: its error, one line
                # more, may be below the bottom.
                self.call_after_refresh(self._show_field, field)
                return

    def _field_for(self, service_field: str) -> str | None:
        for spec in self.fields:
            if service_field in (spec.name, *spec.aliases):
                return spec.name
        return None

    async def action_save(self) -> None:
        if self.saving:
            return
        if isinstance(self.focused, FieldInput):
            self.focused.take_suggestion()  # ctrl+s keeps what the field shows, as enter does
        values = self.validate()
        if values is None:
            return
        self.saving = True
        result: Any = None
        problem: tuple[str | None, str] | None = None
        try:
            result = await self.submit(values)
        except InvalidInput as exc:
            problem = (self._field_for(exc.field), str(exc))
        except LookupFailed as exc:
            # "no deal matches ...": under the field that named the deal, where the rep looks
            # (the form's own line sits below every field, off a small terminal's screen).
            problem = (self._field_for(exc.field) if exc.field else None, str(exc))
        except RepdeskError as exc:
            problem = (None, str(exc))
        except Exception as exc:  # disk full, read-only folder, locked: keep what was typed
            cause = self.app.desk.explain(exc)
            problem = (None, f"Not saved ({cause}). Your input is kept: fix it and save again.")
        finally:
            self.saving = False
        if not can_show(self):
            return  # the app closed the form (a desk switch) while it was saving
        if problem is not None:
            self.set_error(*problem)
            # The cursor to the field the service refused ("matches several deals"): it
            # stayed in the last field typed in (a new-user trial).
            self._focus_first_error()
        else:
            self.dismiss(result)

    def action_cancel(self) -> None:
        # Esc during a save: the write is under way and will land, so the form closes with it
        # (and its undo); a second dismiss here would pop the screen below the form.
        if self.saving:
            return
        if self.raw_values() == self.shown:
            self.dismiss(None)  # nothing typed: nothing to lose, closed at once
            return
        # Something typed: asked once, as the desk asks before a write (a long note was lost
        # to one esc: a new-user trial). No, or esc again, goes back to the form as it was.
        self.app.push_screen(
            DiscardScreen(
                f"Throw away what you typed in {self.form_title}?\n"
                "No goes back to the form, with everything in it."
            ),
            self._after_asked,
        )

    def _after_asked(self, discard: Any) -> None:
        # Dismissed with None, as an esc on an untouched form is: nothing written, no undo.
        if discard is True and can_show(self):
            self.dismiss(None)


class ConfirmScreen(DismissedOnce, ModalScreen[Any]):
    """A yes/no question: `y` or enter confirms, `n` or esc declines."""

    if TYPE_CHECKING:  # self.app is a RepdeskApp (Textual's typed getter; no runtime check)
        app = getters.app(RepdeskApp)

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; background: $background 60%; }
    ConfirmScreen > Vertical {
        width: 60; max-width: 100%; height: auto; border: thick $primary;
        background: $surface; padding: 1 2;
    }
    ConfirmScreen #confirm-keys { color: $text-muted; padding-top: 1; }
    """
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
        # A modal screen hides the app's keys: q quits here as on every screen.
        Binding("q", "app.quit", "Quit", id="confirm.quit", show=False),
    ]

    def __init__(
        self, question: str, *, on_yes: Callable[[], Awaitable[Any]] | None = None
    ) -> None:
        super().__init__()
        self.question = question
        self.on_yes = on_yes
        self.saving = False

    KEYS_LINE = "y / enter: yes · n / esc: no"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(printable(self.question, multiline=True)))
            yield Static(self.KEYS_LINE, id="confirm-keys")

    async def action_answer(self, answer: bool) -> None:
        """Yes runs `on_yes` (the write) and dismisses with its result; no dismisses None."""
        if self.saving:
            return  # the write of a first `y` is under way: it closes the question
        if not answer:
            self.dismiss(None if self.on_yes else False)
            return
        if self.on_yes is None:
            self.dismiss(True)
            return
        self.saving = True
        try:
            result = await self.on_yes()
        except Exception as exc:  # a refusal or a full disk: say so, keep the question open
            cause = self.app.desk.explain(exc)
            if can_show(self):
                self.query_one("#confirm-keys", Static).update(
                    Text(printable(f"Not saved: {cause}"))
                )
            return
        finally:
            self.saving = False
        if can_show(self):
            self.dismiss(result)


class DiscardScreen(ConfirmScreen):
    """Whether to throw away what was typed in a form: only `y` does; enter, like `n` and esc,
    goes back to the form (esc then a habitual enter lost the note the question was there to
    keep: a review)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Throw it away", id="discard.yes"),
        Binding("n,escape,enter", "answer(False)", "Back to the form", id="discard.no"),
        Binding("q", "app.quit", "Quit", id="discard.quit", show=False),
    ]
    KEYS_LINE = "y: throw it away · n / esc / enter: back to the form"
