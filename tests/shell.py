"""The shell commands run in-process (fast); subprocess tests cover the real entry point."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from repdesk.cli import main


def run(*args: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def ok(*args: str | Path) -> str:
    code, out, err = run(*args)
    assert code == 0, err
    return out


def refused(*args: str | Path) -> str:
    """Exit 2 with one message and no traceback; returns stderr."""
    code, _, err = run(*args)
    assert code == 2, err
    assert "Traceback" not in err and err.startswith("repdesk: ")
    return err
