"""Frozen value objects for the modules every shell command imports (the settings, the home,
a period, the quota's standing).

They are what a frozen dataclass would be, equal and hashed by their fields in order, shown
by them, never changed (`replace` makes a changed copy), without `dataclasses`: that module
imports `inspect` (and with it `ast`, `dis` and `tokenize`), about 7 ms of a command such as
`repdesk quota --short`, which a status bar runs every few seconds and which has to stay
under half of Taskwarrior's `task next` (benchmarks/bench.py, README "Speed"). Standard
library only, as all of `core`.

A value class lists its fields in `_fields` (the constructor's order) and makes them its
`__slots__`, declares their types beside them and sets them in its `__init__` with `_set`.
"""

from __future__ import annotations

# typing for the type checker only: the shell's fast commands never import it (2 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, Self


class Value:
    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def _set(self, **values: Any) -> None:
        """Set the fields (from `__init__`): the only writes a value ever takes."""
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def replace(self, **changes: Any) -> Self:
        """A copy with `changes`, as `dataclasses.replace` makes one."""
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        values = {name: getattr(self, name) for name in self._fields} | changes
        return type(self)(**values)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Value)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # copy and pickle make it anew from its fields, never set them one by one.
        return type(self), self._values()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a {type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: a {type(self).__name__} is frozen")
