"""A registry of named entries (metrics, readers, writers): the one list that everything else
reads when it is used, so an entry added later still appears everywhere."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, Protocol, TypeVar


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


class Registry(Generic[T]):
    """Entries by name, in registration order. ``claims(entry)`` are the keys an entry takes
    (suffixes, extensions): no two entries may claim the same one."""

    def __init__(self, kind: str, claims: Callable[[T], Iterable[str]] = lambda entry: ()):
        self.kind = kind
        self._claims = claims
        self._entries: dict[str, T] = {}

    def register(self, entry: T) -> T:
        """Add ``entry``, or replace the one of the same name."""
        wanted = set(self._claims(entry))
        for other in self._entries.values():
            taken = wanted & set(self._claims(other))
            if other.name != entry.name and taken:
                raise ValueError(
                    f"{self.kind} {entry.name}: {', '.join(sorted(taken))} already taken by "
                    f"{other.name}"
                )
        self._entries[entry.name] = entry
        return entry

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def entries(self) -> tuple[T, ...]:
        return tuple(self._entries.values())

    def get(self, name: str) -> T:
        return self._entries[name]

    def find(self, name: str) -> T | None:
        return self._entries.get(name)
