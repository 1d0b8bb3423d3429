"""The playbook beside the objection form: earlier answers to the same kind of objection,
answers from deals that were later won first, then the newest. A key copies one into the form.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Select, Static, TextArea

from repdesk.core.text import printable
from repdesk.services.objections import PlaybookAnswer
from repdesk.tui.forms import FormScreen

Loader = Callable[[str], Sequence[PlaybookAnswer]]


class PlaybookPanel(VerticalScroll, can_focus=False):
    DEFAULT_CSS = """
    PlaybookPanel {
        width: 1fr;
        min-width: 30;
        height: auto;
        max-height: 100%;
        border-left: solid $panel-lighten-2;
        padding: 0 1;
    }
    """

    def __init__(self, load: Loader) -> None:
        super().__init__()
        self.load = load
        self.answers: Sequence[PlaybookAnswer] = ()
        self.index = 0
        self.category = ""
        self.body = Static()

    def compose(self) -> Any:
        yield self.body

    def show_category(self, category: str) -> None:
        self.category = category
        self.answers = self.load(category) if category else ()
        self.index = 0
        self.draw()

    def cycle(self, step: int) -> None:
        if self.answers:
            self.index = (self.index + step) % len(self.answers)
            self.draw()

    @property
    def chosen(self) -> PlaybookAnswer | None:
        return self.answers[self.index] if self.answers else None

    def draw(self) -> None:
        text = Text()
        text.append(f"Playbook: {self.category or 'pick a category'}\n", style="bold")
        if not self.answers:
            text.append("No earlier answers to this kind of objection yet.\n", style="dim")
        else:
            text.append("ctrl+n: next · ctrl+y: use this answer\n\n", style="dim")
        for number, answer in enumerate(self.answers[:8]):
            chosen = number == self.index
            mark = "won" if answer.deal_status == "won" else answer.deal_status
            text.append("▶ " if chosen else "  ", style="bold")
            text.append(f"[{mark}] ", style="green" if mark == "won" else "dim")
            text.append(printable(answer.deal_title) + "\n", style="bold" if chosen else "")
            text.append(f"  “{printable(answer.said)}”\n", style="dim italic")
            text.append(f"  ↳ {printable(answer.answer)}\n\n", style="" if chosen else "dim")
        self.body.update(text)


class ObjectionFormScreen(FormScreen):
    """The objection form with the playbook beside it."""

    DEFAULT_CSS = """
    ObjectionFormScreen > #form-box { width: 132; }
    ObjectionFormScreen #form-main { width: 64; height: auto; max-height: 100%; }
    /* Narrower than the form and a playbook side by side: the form gives up width, so the
       playbook keeps a readable column (it was 10 cells wide at 80 columns: a new-user trial). */
    ObjectionFormScreen.-narrow #form-main { width: 1fr; min-width: 36; }
    ObjectionFormScreen.-narrow PlaybookPanel { width: 34; min-width: 0; }
    """
    NARROW = 110  # columns below which the form shares the width with the playbook

    BINDINGS = [
        Binding("ctrl+n", "next_answer", "Next earlier answer", id="objection.next_answer"),
        # Priority: the answer box is a TextArea, whose own ctrl+y (redo) would win otherwise.
        Binding(
            "ctrl+y", "use_answer", "Use this answer", id="objection.use_answer", priority=True
        ),
    ]

    def __init__(self, *args: Any, playbook: PlaybookPanel, **kwargs: Any) -> None:
        super().__init__(*args, side=playbook, **kwargs)
        self.playbook = playbook

    def on_mount(self) -> None:
        self.playbook.show_category(self.raw_values()["category"])
        self.set_class(self.app.size.width < self.NARROW, "-narrow")

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < self.NARROW, "-narrow")

    @on(Select.Changed, "#field-category")
    def _category_changed(self, event: Select.Changed) -> None:
        self.playbook.show_category("" if event.value is Select.NULL else str(event.value))

    def action_next_answer(self) -> None:
        self.playbook.cycle(1)

    def action_use_answer(self) -> None:
        chosen = self.playbook.chosen
        if chosen is None:
            self.notify("No earlier answer to use for this category.")
            return
        area = self.query_one("#field-answer", TextArea)
        # Added below what is there: the rep adapts it, nothing typed is lost. An edit, not a
        # new text: the cursor ends after the answer, where the rep goes on typing (setting
        # `text` put it at the start: a new-user trial), and ctrl+z takes the answer out.
        kept = area.text.rstrip().split("\n")  # the trailing blanks go, as when saved
        area.replace(
            f"\n{chosen.answer}" if kept != [""] else chosen.answer,
            (len(kept) - 1, len(kept[-1])),
            area.document.end,
            maintain_selection_offset=False,
        )
        area.focus()
