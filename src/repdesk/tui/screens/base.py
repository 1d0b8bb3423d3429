"""What every full screen of the desk shares: the app typed as a RepdeskApp, and its desk."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

if TYPE_CHECKING:
    from textual import getters

    from repdesk.tui.app import RepdeskApp
    from repdesk.tui.gateway import DeskGateway


class DeskScreen(Screen[None]):
    if TYPE_CHECKING:  # self.app is a RepdeskApp (Textual's typed getter; no runtime check)
        app = getters.app(RepdeskApp)

    @property
    def desk(self) -> DeskGateway:
        """The desk the app works on (a gateway: reads and writes off the UI thread)."""
        return self.app.desk
