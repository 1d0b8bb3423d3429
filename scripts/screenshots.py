"""Make screenshots/, the README's pictures, from their golden snapshots: a PNG of each SVG in
tests/tui/__snapshots__/test_screenshots/ (rsvg-convert, from Debian's librsvg2-bin).

    .venv/bin/python scripts/screenshots.py

The snapshots are the one set of golden images (tests/tui/test_screenshots.py takes them on
the demo desk, at a fixed clock and size); a PNG here is only their rendering for places that
do not show SVG. `screenshots/made-from.txt` records the snapshot each PNG was made from, and
tests/tui/test_screenshots.py fails when a snapshot changed and its PNG was not made again.
After a UI change: `--snapshot-update`, then this script, then look at every PNG.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"
SNAPSHOTS = ROOT / "tests" / "tui" / "__snapshots__" / "test_screenshots"
RECORD = OUT / "made-from.txt"
# How the README shows one: ![The board](screenshots/board.png)
README_PICTURE = re.compile(r"\]\(screenshots/([\w.-]+\.png)\)")


def png_name(svg: Path) -> str:
    """`test_call_form.svg` (the snapshot of test_call_form) is `call-form.png`."""
    return svg.stem.removeprefix("test_").replace("_", "-") + ".png"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sources() -> dict[str, Path]:
    """Each PNG's name and the snapshot it is made from."""
    return {png_name(svg): svg for svg in sorted(SNAPSHOTS.glob("test_*.svg"))}


def recorded() -> dict[str, str]:
    """Each PNG's name and the digest of the snapshot it was made from, as last recorded."""
    if not RECORD.exists():
        return {}
    found = {}
    for line in RECORD.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, sha, *_ = line.split()
            found[name] = sha
    return found


def stale() -> list[str]:
    """The PNGs not made from their snapshot as it is now, missing, or made from none."""
    made = recorded()
    wanted = sources()
    out_of_date = [
        name
        for name, svg in wanted.items()
        if made.get(name) != digest(svg) or not (OUT / name).exists()
    ]
    leftover = [png.name for png in sorted(OUT.glob("*.png")) if png.name not in wanted]
    return out_of_date + leftover


def to_png(svg: Path, png: Path, converter: str) -> None:
    """rsvg collapses the SVG's runs of spaces unless told to keep them: a copy is told."""
    text = svg.read_text(encoding="utf-8").replace("<svg ", '<svg xml:space="preserve" ', 1)
    with tempfile.NamedTemporaryFile("w", suffix=".svg", encoding="utf-8") as copy:
        copy.write(text)
        copy.flush()
        subprocess.run([converter, copy.name, "-o", str(png)], check=True)


def main() -> None:
    converter = shutil.which("rsvg-convert")
    if not converter:
        sys.exit("screenshots: install librsvg2-bin for rsvg-convert; nothing was changed")
    wanted = sources()
    if not wanted:
        sys.exit(
            f"screenshots: no snapshots in {SNAPSHOTS.relative_to(ROOT)}: run "
            "`.venv/bin/pytest tests/tui/test_screenshots.py --snapshot-update` first"
        )
    OUT.mkdir(exist_ok=True)
    lines = ["# Written by scripts/screenshots.py: each PNG, and the sha256 of its snapshot."]
    for name, svg in wanted.items():
        to_png(svg, OUT / name, converter)
        lines.append(f"{name} {digest(svg)} {svg.relative_to(ROOT)}")
        print(f"screenshots/{name} from {svg.relative_to(ROOT)}")
    for png in sorted(OUT.glob("*.png")):
        if png.name not in wanted:
            png.unlink()
            print(f"screenshots/{png.name} removed: no snapshot makes it")
    RECORD.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
