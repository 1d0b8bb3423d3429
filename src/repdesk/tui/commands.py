"""Command palette providers: jump to a deal (fuzzy by title/company), and every action of
the current screen, taken from its bindings so the palette can never drift from the keys.

The palette renders a hit's prompt and help as markup when they are strings, and so does
`Matcher.highlight`: a deal titled `[@click=app.screenshot(...)]x[/]` would become a live
action and `[/]` would stop the search. Prompts here are `Content` built from plain text, and
help is escaped.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher
from textual.markup import escape

from repdesk.core.money import format_money
from repdesk.core.text import printable


class JumpToDeal(Provider):
    """Matches the cards the board already holds: no database query per key stroke."""

    def _cards(self) -> list[Any]:
        board = getattr(self.app, "board", None)
        if board is None:
            return []
        return [card for cards in board.cards.values() for card in cards]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for card in self._cards():
            label = f"{printable(card.title)} · {printable(card.company)}"
            score = matcher.match(label)
            if score > 0:
                money = format_money(card.value_cents, card.currency)
                yield Hit(
                    score,
                    highlight(matcher, label),
                    partial(self.app.jump_to_deal, card.deal_id),  # type: ignore[attr-defined]
                    text=label,
                    help=escape(f"deal #{card.deal_id}, {money}"),
                )


class ScreenActions(Provider):
    """Every action bound on the current screen, by its description."""

    def _actions(self) -> list[tuple[str, str, Any]]:
        screen = self.screen
        seen: set[str] = set()
        found = []
        for _key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.action in seen or not active.enabled:
                continue
            if active.node is self.app and binding.action in ("command_palette",):
                continue
            seen.add(binding.action)
            key = self.app.get_key_display(binding)
            found.append(
                (binding.description, key, partial(self._run, active.node, binding.action))
            )
        return found

    async def _run(self, node: Any, action: str) -> None:
        await self.app.run_action(action, node)

    async def discover(self) -> Hits:
        for description, key, run in self._actions():
            yield DiscoveryHit(
                Content(printable(description)), run, text=description, help=_key_help(key)
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for description, key, run in self._actions():
            score = matcher.match(description)
            if score > 0:
                yield Hit(
                    score,
                    highlight(matcher, printable(description)),
                    run,
                    text=description,
                    help=_key_help(key),
                )


def _key_help(key: str) -> str:
    # A key comes from the settings' [keys]: `[/y]` there must show as itself.
    return escape(f"key: {printable(key)}")


def highlight(matcher: Matcher, candidate: str) -> Content:
    """`candidate` as plain text with the letters the query matched highlighted, as
    `Matcher.highlight` does, but never read as markup."""
    content = Content(candidate)
    score, offsets = matcher.fuzzy_search.match(matcher.query, candidate)
    if not score:
        return content
    for offset in offsets:
        if not candidate[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
