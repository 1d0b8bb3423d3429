"""The rep's pipeline (palette: Stages, key S): add, rename, reorder, remove, set each stage's
probability and rot limit. Every change is one undoable write (u)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from repdesk.core import quantities
from repdesk.core.errors import InvalidInput, RepdeskError
from repdesk.core.text import printable
from repdesk.services import stages
from repdesk.tui.forms import FieldSpec, FormScreen
from repdesk.tui.screens.base import DeskScreen
from repdesk.tui.undo import undo_of
from repdesk.tui.widgets.footer import RepdeskFooter
from repdesk.tui.widgets.pick_list import PickList
from repdesk.tui.widgets.quota_strip import QuotaStrip


class StagesScreen(DeskScreen):
    TITLE = "Stages"  # the heading of its keys under `?`
    AUTO_FOCUS = "OptionList"
    BINDINGS = [
        Binding("n", "add", "Add a stage", id="stages.add"),
        Binding("e,enter", "edit", "Rename / probability / rot", id="stages.edit",
                key_display="e"),
        Binding("K", "move(-1)", "Move up", id="stages.up"),
        Binding("J", "move(1)", "Move down", id="stages.down"),
        Binding("D", "remove", "Remove", id="stages.remove"),
        Binding("escape", "back", "Back", id="stages.back"),
    ]  # fmt: skip
    DEFAULT_CSS = """
    StagesScreen #stages-title { height: auto; padding: 0 1; color: $text-muted; }
    StagesScreen OptionList { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[stages.StageInfo] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield QuotaStrip(id="quota-strip")
        yield Static(
            Text(
                "Your pipeline, in order. A renamed stage keeps its history; a removed one "
                "moves its deals first. Won and Lost stay last."
            ),
            id="stages-title",
        )
        yield PickList(id="stages-list")
        yield RepdeskFooter()

    def on_mount(self) -> None:
        self.reload()
        self.app.refresh_quota()

    @work(exclusive=True, group="stages-load")
    async def reload(self, select: int | None = None) -> None:
        rows = await self.desk.read(lambda s: stages.list_stages(session=s))
        if not self.is_attached:
            return
        listing = self.query_one(OptionList)
        keep = listing.highlighted if select is None else None
        if select is None and keep is not None and keep < len(self.rows):
            # The cursor stays on its stage, not its row: after an undo put a stage back in
            # its place, the next J moved the stage that took the row (a new-user trial).
            select = self.rows[keep].id
        self.rows = rows
        listing.clear_options()
        for info in rows:
            line = Text()
            line.append(f"{info.number:>2}. ")
            line.append(f"{printable(info.name):<24}", style="bold")
            line.append(f" {info.probability:>3}%")
            if info.kind == "open":
                rot = f"rots after {info.rot_days}d" if info.rot_days else "never rots"
                line.append(f"  {rot:<16}  {info.open_deals} open", style="dim")
            else:
                line.append(f"  {info.kind}", style="dim")
            listing.add_option(Option(line))
        index = next((i for i, r in enumerate(rows) if r.id == select), keep or 0)
        listing.highlighted = min(index, len(rows) - 1) if rows else None
        self.loaded = True

    def _current(self) -> stages.StageInfo | None:
        index = self.query_one(OptionList).highlighted
        return self.rows[index] if index is not None and index < len(self.rows) else None

    def _open_only(self) -> stages.StageInfo | None:
        info = self._current()
        if info is not None and info.kind != "open":
            what = f" is the pipeline's {info.kind} stage: it stays as it is."
            self.notify(printable(info.name) + what, markup=False)
            return None
        return info

    async def _write(
        self,
        fn: Any,
        description: str,
        select: int | None = None,
        *,
        on: stages.StageInfo | None = None,
    ) -> Any:
        """Write and remember its undo. `on`: the stage the rep acted on, as the list showed
        it; removed since (by the shell), the write is refused in words, not as a move past
        the first place or an id the rep never typed (a hostile test), and the list is read
        again."""

        def guarded(session: Any) -> Any:
            if on is not None and not stages.still_there(
                session=session, stage_id=on.id, kind=on.kind
            ):
                raise _Gone(
                    f"The stage {printable(on.name)} was removed since (by another program?): "
                    "nothing was changed, and the list is read again."
                )
            return fn(session)

        try:
            result, changes = await self.desk.write_recorded(guarded)
        except _Gone:
            self.reload()
            raise
        self.app.remember_undo(undo_of(description, 0, changes))
        self.reload(select)
        return result

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_edit()

    def action_add(self) -> None:
        after = self._current()
        fields = [
            FieldSpec("name", "Name", required=True),
            FieldSpec(
                "probability",
                "Win probability (%)",
                parse=quantities.parse_percent,
                required=True,
            ),
            FieldSpec(
                "rot",
                "Rots after (days)",
                parse=quantities.parse_rot_days,
                placeholder="e.g. 21, or none",
            ),
        ]
        after_name = after.name if after is not None and after.kind == "open" else None
        after_id = str(after.id) if after is not None and after_name else None

        async def submit(values: dict[str, Any]) -> Any:
            def add(session: Any) -> Any:
                return stages.add_stage(
                    session=session, name=values["name"], probability=values["probability"],
                    rot_days=values["rot"], after=after_id,
                )  # fmt: skip

            return await self._write(add, f"new stage {values['name']}")

        where = f" after {after_name}" if after_name else ""
        self.app.push_screen(FormScreen(f"New stage{where}", fields, submit))

    def action_edit(self) -> None:
        info = self._current()
        if info is None:
            return
        fields = [FieldSpec("name", "Name", info.name, required=True)]
        if info.kind == "open":
            fields += [
                FieldSpec("probability", "Win probability (%)", str(info.probability),
                          parse=quantities.parse_percent, required=True),
                FieldSpec("rot", "Rots after (days)", str(info.rot_days or ""),
                          parse=quantities.parse_rot_days, placeholder="e.g. 21, or none: never"),
            ]  # fmt: skip

        async def submit(values: dict[str, Any]) -> Any:
            def edit(session: Any) -> Any:
                stage = stages.rename_stage(
                    session=session, stage=str(info.id), name=values["name"]
                )
                if info.kind == "open":
                    stages.set_stage(
                        session=session,
                        stage=str(info.id),
                        probability=values["probability"],
                        rot_days=values["rot"],
                    )
                return stage

            return await self._write(edit, f"change of the stage {info.name}", info.id, on=info)

        self.app.push_screen(FormScreen(f"Stage: {info.name}", fields, submit))

    async def action_move(self, delta: int) -> None:
        info = self._open_only()
        if info is None:
            return
        number = info.number + delta
        try:
            await self._write(
                lambda s: stages.move_stage(session=s, stage=str(info.id), number=number),
                f"move of the stage {info.name}",
                info.id,
                on=info,
            )
        except _Gone as gone:
            self.notify(str(gone), severity="warning", markup=False, timeout=8)
        except InvalidInput:
            where = "first" if delta < 0 else "the last open stage"
            self.notify(printable(info.name) + f" is already {where}.", markup=False)

    def action_remove(self) -> None:
        info = self._open_only()
        if info is None:
            return
        others = [(r.name, str(r.id)) for r in self.rows if r.kind == "open" and r.id != info.id]
        if not others:
            self.notify("The pipeline needs an open stage: add another before removing this one.")
            return
        fields = [
            FieldSpec("into", f"Its {info.open_deals} open deals move to", others[0][1],
                      kind="select", options=others, required=True,
                      hint="the move is in each deal's history; u undoes the removal"),
        ]  # fmt: skip

        async def submit(values: dict[str, Any]) -> Any:
            return await self._write(
                lambda s: stages.remove_stage(session=s, stage=str(info.id), into=values["into"]),
                f"removal of the stage {info.name}",
                on=info,
            )

        self.app.push_screen(FormScreen(f"Remove the stage {info.name}", fields, submit))

    def action_back(self) -> None:
        self.dismiss(None)


class _Gone(RepdeskError):
    """The stage acted on is no longer in the pipeline."""
