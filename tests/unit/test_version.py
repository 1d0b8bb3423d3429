"""One version source: pyproject.toml's [project] version, read back from the package metadata."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version


def test_the_version_is_the_installed_metadata_and_importing_repdesk_does_not_look_it_up() -> None:
    probe = (
        "import sys\n"
        "import repdesk\n"
        "assert 'importlib.metadata' not in sys.modules, 'looked up at import'\n"
        "print(repdesk.__version__)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{version('repdesk')}\n"


def test_repdesk_version_says_it() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "repdesk", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"repdesk {version('repdesk')}\n"
