"""The shell commands: parse, call a service, print. Exit 2 on bad input, 1 on a desk problem.

Thin over the services. One module per group of commands (deals, activities, follow_ups,
objections, figures, transfer, stages, trash, app), what they share in shell, the parser built
from what they declare in registry, and the entry point in entry. Imports are lazy:
`repdesk quota --short` is first asked of repdesk.storage.status_line, which answers from the
line the last run left when nothing has changed (importing nothing else of repdesk);
`repdesk quota`, `repdesk today` and `repdesk kpi` import cli/figures.py alone and read the
desk with the standard library's sqlite3 (see `repdesk.reports.figures`), so they never import
SQLAlchemy or Textual; only commands that write pay for SQLModel.
"""

from __future__ import annotations

import os
import sys

# Not typing's: importing typing is a tenth of a remembered status line's run. mypy reads any
# TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from repdesk.cli.registry import build_parser
    from repdesk.cli.shell import Desk

__all__ = ["Desk", "build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    from repdesk.storage import status_line

    line = status_line.recall(words)
    if line is not None:
        try:
            sys.stdout.write(line)
            sys.stdout.flush()
        except BrokenPipeError:  # the reader left: no message, as in entry.main
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except (OSError, AttributeError, ValueError):
            # No room, no stdout at all (None), or closed: the read path meets the same
            # failure and says it in one line (entry.main), never a traceback.
            pass
        else:
            return 0
    from repdesk.cli import entry

    return entry.main(words)


def __getattr__(name: str) -> Any:
    if name == "Desk":
        from repdesk.cli.shell import Desk

        return Desk
    if name == "build_parser":
        from repdesk.cli.registry import build_parser

        return build_parser
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
