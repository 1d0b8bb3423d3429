"""The screenshots in screenshots/ (and so in the README) show the app as it is now: the
script that makes them runs here into a temporary folder, and every SVG must match the
committed one. After a deliberate UI change: `.venv/bin/python scripts/screenshots.py`, then
look at the PNGs before committing them."""

from __future__ import annotations

from pathlib import Path

from scripts.screenshots import OUT, shoot


async def test_every_screenshot_matches_the_app_as_it_is(tmp_path: Path) -> None:
    made = await shoot(tmp_path)
    assert len(made) >= 9
    stale = [
        fresh.name
        for fresh in made
        if not (OUT / fresh.name).exists()
        or (OUT / fresh.name).read_text(encoding="utf-8") != fresh.read_text(encoding="utf-8")
    ]
    assert not stale, (
        f"screenshots/ out of date: {', '.join(stale)}; "
        "run `.venv/bin/python scripts/screenshots.py` and look at the PNGs"
    )
    missing_png = [svg.name for svg in made if not (OUT / svg.name).with_suffix(".png").exists()]
    assert not missing_png, f"no PNG beside {', '.join(missing_png)}: install librsvg2-bin"
