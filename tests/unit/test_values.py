"""The frozen values of the fast shell commands' modules (core/values.py) behave as the frozen
dataclasses they stand for: equal and hashed by their fields, never changed in place."""

from __future__ import annotations

import copy
import pickle
from datetime import date
from pathlib import Path

import pytest

from repdesk.core.dates import Period
from repdesk.core.standing import QuotaStanding
from repdesk.settings import Settings
from repdesk.storage.paths import Home


def test_equal_and_hashed_by_their_fields_and_never_changed_in_place() -> None:
    november = Period("month", 2026, 11)
    assert november == Period(kind="month", year=2026, index=11)
    assert november != Period("month", 2026, 12) and november != ("month", 2026, 11)
    assert {november: 1}[Period("month", 2026, 11)] == 1
    assert repr(november) == "Period(kind='month', year=2026, index=11)"
    with pytest.raises(AttributeError, match="frozen"):
        november.year = 2027  # type: ignore[misc]
    with pytest.raises(AttributeError, match="frozen"):
        del november.year
    with pytest.raises(ValueError, match="no such period"):
        Period("month", 2026, 13)


def test_replace_makes_a_changed_copy_and_refuses_a_field_it_lacks() -> None:
    settings = Settings(currency="USD", rates={"EUR": 1.1})
    themed = settings.replace(theme="textual-light")
    assert (themed.theme, themed.currency, themed.rates) == ("textual-light", "USD", {"EUR": 1.1})
    assert settings.theme == "textual-dark"  # the original stays
    with pytest.raises(TypeError, match="no field 'colour'"):
        settings.replace(colour="red")
    assert Settings().rates is not Settings().rates  # each its own, as a default_factory made


@pytest.mark.parametrize(
    "value",
    [
        Period("quarter", 2026, 4),
        Home(Path("/desk"), Path("/config")),
        Settings(keys={"app.help": "f1"}),
        QuotaStanding("2026-11", date(2026, 11, 30), 10, 6_000_000, 900_000, 4_000_000),
    ],
)
def test_copied_and_pickled_whole(value: object) -> None:
    assert copy.copy(value) == value
    assert copy.deepcopy(value) == value
    assert pickle.loads(pickle.dumps(value)) == value
