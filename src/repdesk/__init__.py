"""repdesk: a keyboard-driven terminal desk for one sales rep.

Importing this package imports nothing heavy: the shell commands stay fast. `__version__` is
looked up only when asked for (importlib.metadata costs more than a fast command's whole run).
"""

from __future__ import annotations

_DISTRIBUTION = "repdesk"


def _version() -> str:
    """The installed distribution's version: pyproject.toml's [project] version, the one source.
    Run from a source tree that was never installed, that file itself; else "0+unknown"."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(_DISTRIBUTION)
    except PackageNotFoundError:
        pass
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, ValueError):
        return "0+unknown"
    found = project.get("version") if project.get("name") == _DISTRIBUTION else None
    return found if isinstance(found, str) else "0+unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":
        found = _version()
        globals()["__version__"] = found  # asked once
        return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
