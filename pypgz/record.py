"""Result rows.

A row is a tuple (so it iterates, unpacks and compares equal to tuples at C speed) that
also answers to column names: ``row["name"]``, ``row.get("name")``, ``keys()``,
``values()``, ``items()``. Each distinct list of column names gets its own subclass,
built once and cached, which carries the name → index map.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Sequence, SupportsIndex, overload

_tuple_getitem = tuple.__getitem__
_MISSING: Any = object()


class Record(tuple[Any, ...]):
    """One result row: a tuple with name access."""

    __slots__ = ()
    _index: ClassVar[dict[str, int]] = {}
    _names: ClassVar[tuple[str, ...]] = ()

    @overload
    def __getitem__(self, key: SupportsIndex | str) -> Any: ...
    @overload
    def __getitem__(self, key: slice) -> tuple[Any, ...]: ...
    def __getitem__(self, key: SupportsIndex | str | slice) -> Any:
        if isinstance(key, str):
            try:
                return _tuple_getitem(self, self._index[key])
            except KeyError:
                raise KeyError(f"no column named {key!r}; columns are {list(self._names)}") from None
        return _tuple_getitem(self, key)

    def get(self, key: str | int, default: Any = None) -> Any:
        if isinstance(key, str):
            i = self._index.get(key)
            return default if i is None else _tuple_getitem(self, i)
        try:
            return _tuple_getitem(self, key)
        except IndexError:
            return default

    def keys(self) -> Iterator[str]:
        return iter(self._names)

    def values(self) -> Iterator[Any]:
        return tuple.__iter__(self)

    def items(self) -> Iterator[tuple[str, Any]]:
        return zip(self._names, tuple.__iter__(self))

    def __contains__(self, value: object) -> bool:
        # Like a tuple: membership of values (asyncpg's Record does the same).
        return tuple.__contains__(self, value)

    def __repr__(self) -> str:
        inner = " ".join(f"{n}={v!r}" for n, v in zip(self._names, tuple.__iter__(self)))
        return f"<Record {inner}>"

    def as_dict(self) -> dict[str, Any]:
        return dict(zip(self._names, tuple.__iter__(self)))


_classes: dict[tuple[str, ...], type[Record]] = {}


def record_class(names: Sequence[str]) -> type[Record]:
    """The Record subclass for these column names (cached)."""
    key = tuple(names)
    cls = _classes.get(key)
    if cls is None:
        index: dict[str, int] = {}
        for i, n in enumerate(key):
            index.setdefault(n, i)  # with duplicate names, the first wins (as in SQL)
        cls = type("Record", (Record,), {"__slots__": (), "_index": index, "_names": key})
        if len(_classes) < 4096:
            _classes[key] = cls
    return cls
