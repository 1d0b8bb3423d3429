"""Records and frozen values for the modules every shell command imports (the settings, the
home, a period, the quota's standing, the day's queues).

They are what a dataclass would be, equal by their fields in order and shown by them; a
`Value` is frozen besides (hashed by its fields, never changed: `replace` makes a changed
copy). Without `dataclasses`: that module imports `inspect` (and with it `ast`, `dis` and
`tokenize`), about 7 ms of a command such as `repdesk quota --short`, which a status bar runs
every few seconds and which has to stay under half of Taskwarrior's `task next`
(benchmarks/bench.py, README "Speed"). Standard library only, as all of `core`.

A class lists its fields in `_fields` (the constructor's order) and makes them its
`__slots__`, declares their types beside them and sets them in its `__init__`: a `Value`
with `_set`, a `Record` by plain assignment (the fastest to make: `repdesk today --json`
makes thousands).
"""

from __future__ import annotations

# typing for the type checker only: the shell's fast commands never import it (2 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, Self


class Record:
    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def as_dict(self) -> dict[str, Any]:
        """The fields by name, in order (as `dataclasses.asdict` gives a flat one)."""
        return {name: getattr(self, name) for name in self._fields}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    # A class that defines __eq__ alone is unhashable: a changeable record is never a key.

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # copy and pickle make it anew from its fields, never set them one by one.
        return type(self), self._values()


class Value(Record):
    __slots__ = ()

    def _set(self, **values: Any) -> None:
        """Set the fields (from `__init__`): the only writes a value ever takes."""
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def replace(self, **changes: Any) -> Self:
        """A copy with `changes`, as `dataclasses.replace` makes one."""
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        return type(self)(**(self.as_dict() | changes))

    def __hash__(self) -> int:
        return hash(self._values())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a {type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: a {type(self).__name__} is frozen")
