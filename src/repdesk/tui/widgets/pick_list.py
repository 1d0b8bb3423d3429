"""The app's lists of things to pick (the delete picker, the trash, the stages, the conflicts,
the commitments, a person's records, the captured items): Textual's OptionList, with `j` and
`k` moving as they do on the board and in the queues. With `down` alone, `j j j enter` in the
delete picker left the cursor on its first line, "the whole deal", and deleted it (found by
an audit)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import OptionList


class PickList(OptionList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Next", id="list.down", show=False),
        Binding("k", "cursor_up", "Previous", id="list.up", show=False),
    ]
