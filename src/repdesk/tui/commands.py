"""Command palette providers: jump to a deal (fuzzy by title/company), and every action of
the current screen, taken from its bindings so the palette can never drift from the keys.

The palette renders a hit's prompt and help as markup when they are strings, and so does
`Matcher.highlight`: a deal titled `[@click=app.screenshot(...)]x[/]` would become a live
action and `[/]` would stop the search. Prompts here are `Content` built from plain text, and
help is escaped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher
from textual.markup import escape

from repdesk.core.money import format_money
from repdesk.core.text import printable


class JumpToDeal(Provider):
    """Matches the cards the board already holds, and the won and lost deals it may not show
    (read once when the palette opens): no database query per key stroke."""

    async def startup(self) -> None:
        self.closed = read_once(self.app, _closed_deals)

    def _cards(self) -> list[Any]:
        board = getattr(self.app, "board", None)
        if board is None:
            return []
        return [card for cards in board.cards.values() for card in cards]

    async def _deals(self) -> list[tuple[int, str, str, int, str, str]]:
        cards = self._cards()
        on_board = {card.deal_id for card in cards}
        found = [(c.deal_id, c.title, c.company, c.value_cents, c.currency, "") for c in cards]
        closed = await read_result(getattr(self, "closed", None))
        return found + [deal for deal in closed if deal[0] not in on_board]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for deal_id, title, company, value_cents, currency, closed in await self._deals():
            label = f"{printable(title)} · {printable(company)}"
            score = matcher.match(label)
            if score > 0:
                money = format_money(value_cents, currency)
                yield Hit(
                    # An open deal first where a closed one matches as well.
                    score * 0.98 if closed else score,
                    highlight(matcher, label),
                    partial(self.app.jump_to_deal, deal_id),  # type: ignore[attr-defined]
                    text=label,
                    help=escape(f"deal #{deal_id}, {money}" + (f", {closed}" if closed else "")),
                )


def read_once(app: Any, fn: Callable[[Any], list[Any]]) -> asyncio.Task[list[Any]] | None:
    """A provider's read when the palette opens, in a task of its own (None: no desk).

    Textual cancels a search when the next key comes, and a search still waiting for the
    provider's `startup` takes that startup down with it: awaited there, a read that outlasted
    the first key (a desk of 30,000 won and lost deals) left the palette finding nothing at
    all, not even its actions. `read_result` waits for it shielded instead."""
    desk = getattr(app, "desk", None)
    if desk is None:
        return None

    async def read() -> list[Any]:
        try:
            found: list[Any] = await desk.read(fn)
        except Exception:  # the desk away: the palette still finds the rest
            return []
        return found

    return asyncio.ensure_future(read())


async def read_result(task: asyncio.Task[list[Any]] | None) -> list[Any]:
    """What `read_once` read; a search cancelled while it waits leaves the read going."""
    return [] if task is None else await asyncio.shield(task)


def _closed_deals(session: Any) -> list[tuple[int, str, str, int, str, str]]:
    # Plain rows, not ORM objects: a desk of 30,000 closed deals took 4 s as objects.
    from repdesk.reports import queries

    return [
        (int(deal_id), title, company, int(value), currency, status)
        for deal_id, title, company, value, currency, status in queries.fetch(
            session, "closed_deal_names"
        )
    ]


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
            # Textual's own commands name these already ("Theme" was there twice).
            if active.node is self.app and binding.action in ("command_palette", "change_theme"):
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
