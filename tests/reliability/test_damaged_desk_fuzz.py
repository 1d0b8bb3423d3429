"""Damaged desks, fuzzed (issue 18): random bytes flipped anywhere in a real desk file, then a
read and a write from the shell. Whatever the damage, the rep gets one line and never a
traceback, and a desk the shell calls damaged is never written to. The seeds are fixed, so a
failure can be replayed."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from tests.reliability.helpers import digest
from tests.shell import run
from tests.tui.desks import build_small_desk

SEEDS = range(24)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    home = tmp_path_factory.mktemp("pristine")
    build_small_desk(home)
    return (home / "desk.sqlite").read_bytes()


def damage(data: bytes, seed: int) -> bytes:
    """A few bytes flipped: in the header now and then, mostly in the pages."""
    chance = random.Random(seed)
    damaged = bytearray(data)
    for _ in range(chance.randint(1, 12)):
        low = 0 if chance.random() < 0.15 else 100
        offset = chance.randrange(low, len(damaged))
        damaged[offset] ^= chance.randrange(1, 256)
    return bytes(damaged)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_randomly_damaged_desk_gets_one_line_and_is_never_written_when_refused(
    home: Path, pristine: bytes, seed: int
) -> None:
    home.mkdir(parents=True, exist_ok=True)
    desk = home / "desk.sqlite"
    desk.write_bytes(damage(pristine, seed))
    for suffix in ("-wal", "-shm"):
        Path(f"{desk}{suffix}").unlink(missing_ok=True)
    for words in (("deal", "list"), ("today",), ("deal", "add", "Fuzzed deal", "--value", "5")):
        before = digest(desk)
        code, _, err = run(*words)
        assert code in (0, 1, 2), (words, code, err)
        assert "Traceback" not in err, (words, err)
        assert err.count("\n") <= 1, (words, err)  # one line, or none
        if code != 0:
            assert err.startswith("repdesk: "), (words, err)
            assert digest(desk) == before, (words, "a refused desk was written to")
    shutil.rmtree(home / "backups", ignore_errors=True)
